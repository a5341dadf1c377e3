# bench_notifier part 1: invalidate_range_start + invalidate_range_end of one
# page against the number of subscriptions, next to the bare loop (one
# liburcu read section around as many indirect calls):
#   gnuplot -e "in='bench_notifier_dispatch.tsv'; out='dispatch.svg'" bench/plot/dispatch.gp
if (!exists("in")) in = 'bench_notifier_dispatch.tsv'
if (!exists("out")) out = 'dispatch.svg'
set terminal svg size 1100,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set grid
set key top left
set xrange [-0.3:3.3]
set multiplot layout 1,2 title "bench_notifier: start+end dispatch against subscriptions (medians)"
set xlabel "subscriptions on the mm"
set ylabel "ns per start+end pair"
set logscale y
set title "time per pair"
plot in skip 1 using 0:2:xtic(1) with linespoints lw 2 lc "black" pt 7 title "bare loop (baseline)", \
     '' skip 1 using 0:3 with linespoints lw 2 lc 1 pt 5 title "mmnsim, lockdep off", \
     '' skip 1 using 0:5 with linespoints lw 2 lc 2 pt 9 dt 2 title "mmnsim, lockdep on"
set yrange [1:*]
set ylabel "mmnsim / bare loop (ratio, same run, log scale)"
set title "over the bare loop"
set key bottom left
plot in skip 1 using 0:4:xtic(1) with linespoints lw 2 lc 1 pt 5 title "lockdep off", \
     '' skip 1 using 0:6 with linespoints lw 2 lc 2 pt 9 dt 2 title "lockdep on", \
     2 with lines lc "black" dt 4 title "target: at most 2 (lockdep off)"
unset multiplot
