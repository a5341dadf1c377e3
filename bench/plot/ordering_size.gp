# bench_ordering: cost against size. One line per design (listener kind /
# ordering): the modelled time per operation (mean over the operation
# families of that size, refill included) and the secondary flushes per
# operation, against the pages of the range:
#   gnuplot -e "in='bench_ordering_size.tsv'; out='ordering_size.svg'" bench/plot/ordering_size.gp
if (!exists("in")) in = 'bench_ordering_size.tsv'
if (!exists("out")) out = 'ordering_size.svg'
set terminal svg size 1100,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set grid
set key top left font "sans,10"
set logscale xy
set xrange [0.7:800]
set xtics (1, 16, 512)
designs = "kvm/start_end iommu_sva/cpu_flush iommu_sva/call_sites iommu_sva/only_end iommu_sva/range_end iommu_sva/range_end_held iommu_sva/invalidate_page iommu_amdv2/invalidate_page iommu_amdv2/start_end hmm/start_end"
set multiplot layout 1,2 title "Invalidation ordering: cost against size (bench_ordering)"
set xlabel "pages in the operation's range"
set ylabel "modelled us per operation"
set title "modelled time (operation + device refill)"
plot for [i = 1:10] in skip 1 using (strcol(1) eq word(designs, i) ? $2 : NaN):3 \
         with linespoints lw 2 lc i pt i title word(designs, i)
set ylabel "secondary flushes per operation"
set title "flushes issued"
unset key
plot for [i = 1:10] in skip 1 using (strcol(1) eq word(designs, i) ? $2 : NaN):($4 > 0 ? $4 : NaN) \
         with linespoints lw 2 lc i pt i title word(designs, i)
unset multiplot
