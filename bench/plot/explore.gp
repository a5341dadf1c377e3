# bench_explore item 1: schedules per second per scenario, strategy and
# mechanism (a thread pool, or a thread created and joined per actor):
#   gnuplot -e "in='bench_explore_rate.tsv'; out='explore.svg'" bench/plot/explore.gp
if (!exists("in")) in = 'bench_explore_rate.tsv'
if (!exists("out")) out = 'explore.svg'
set terminal svg size 900,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set title "bench_explore: schedules per second (right setting, medians of the repeats)"
set style fill solid 0.6 border -1
set boxwidth 0.6
set logscale y
set yrange [1:*]
set grid ytics
set ylabel "schedules per second (log scale)"
set xlabel "scenario, strategy, mechanism (a thread pool, or a thread per actor)" offset 0,-1
set bmargin 5
set xtics noenhanced
unset key
plot in skip 1 using 0:4:xtic(sprintf("%s %s\n%s", strcol(1), strcol(2), strcol(3))) \
         with boxes lc "steelblue", \
     '' skip 1 using 0:($4 * 1.3):(sprintf("%.0f/s", $4)) with labels
