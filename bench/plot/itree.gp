# bench_notifier part 2: one invalidation of one page against the number of
# inserted interval notifiers, the interval tree next to a linear scan of the
# same intervals (the baseline):
#   gnuplot -e "in='bench_notifier_itree.tsv'; out='itree.svg'" bench/plot/itree.gp
if (!exists("in")) in = 'bench_notifier_itree.tsv'
if (!exists("out")) out = 'itree.svg'
set terminal svg size 1100,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set grid
set key top left
set logscale xy
set xrange [0.6:2e6]
set xtics ("1" 1, "10" 10, "100" 100, "1k" 1e3, "10k" 1e4, "100k" 1e5, "1M" 1e6)
set multiplot layout 1,2 title "bench_notifier: interval invalidation against intervals (medians)"
set xlabel "interval notifiers inserted (one page each)"
set ylabel "ns per invalidation (start+end of one page)"
set title "time per invalidation"
lay = "random clustered"
plot for [i = 1:2] in skip 1 using (strcol(1) eq word(lay, i) ? $2 : NaN):3 \
         with linespoints lw 2 lc i pt 7 title "interval tree, ".word(lay, i), \
     for [i = 1:2] in skip 1 using (strcol(1) eq word(lay, i) ? $2 : NaN):4 \
         with linespoints lw 2 lc i pt 6 dt 2 title "linear scan (baseline), ".word(lay, i)
set ylabel "scan time / tree time (ratio, same run)"
set title "linear scan over the tree"
plot for [i = 1:2] in skip 1 using (strcol(1) eq word(lay, i) ? $2 : NaN):5 \
         with linespoints lw 2 lc i pt 7 title word(lay, i), \
     1 with lines lc "black" dt 4 title "equal"
unset multiplot
