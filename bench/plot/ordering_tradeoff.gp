# bench_ordering: cost against safety, per listener kind. One point per
# (listener kind, ordering): x the modelled time per operation (mean over
# the operation families at the trade-off size, refill included), y the
# share of those cells whose exploration found a violation:
#   gnuplot -e "in='bench_ordering_tradeoff.tsv'; out='ordering_tradeoff.svg'" bench/plot/ordering_tradeoff.gp
if (!exists("in")) in = 'bench_ordering_tradeoff.tsv'
if (!exists("out")) out = 'ordering_tradeoff.svg'
set terminal svg size 1100,520 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set grid
set key outside right top
set logscale x
set yrange [-0.05:1.05]
set offsets graph 0.05, graph 0.15, 0, 0
set xlabel "modelled us per operation (docs/clock.md), mean over the operation families"
set ylabel "share of cells found unsafe"
set title "Invalidation ordering: cost against safety per listener kind (bench_ordering)"
kinds = "kvm iommu_sva iommu_amdv2 hmm"
plot for [i = 1:4] in skip 1 using (strcol(1) eq word(kinds, i) ? $3 : NaN):6 \
         with points pt (4 + i) ps 1.6 lc i title word(kinds, i), \
     in skip 1 using 3:6:2 with labels left offset 0.8, 0.4 font "sans,10" rotate by 20 notitle
