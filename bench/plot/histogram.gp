# A histogram of the schedules of one exploration: steps and modelled time
# per schedule, from the file of `mmnsim explore ... --schedules FILE`
# (docs/exploration.md), the violating schedules drawn over the others:
#   gnuplot -e "in='x.tsv'; out='h.svg'" bench/plot/histogram.gp
# Optional: -e "title='S1 wrong, pct'" names the exploration; bins=N (40).
if (!exists("in")) in = 'schedules.tsv'
if (!exists("out")) out = 'histogram.svg'
if (!exists("title")) title = in
if (!exists("bins")) bins = 40
set terminal svg size 1100,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
stats in skip 1 using 2 name "S" nooutput
stats in skip 1 using ($3 / 1000.0) name "M" nooutput
ws = (S_max > S_min) ? (S_max - S_min) / bins : 1
ws = ws < 1 ? 1 : ceil(ws)
wm = (M_max > M_min) ? (M_max - M_min) / bins : 1
bin(x, w, lo) = lo + w * floor((x - lo) / w) + w / 2.0
set style fill solid 0.7 border -1
set grid ytics
# counts span decades (a few violating schedules beside thousands): log scale
set logscale y
set yrange [0.8:*]
set key top right
set multiplot layout 1,2 title sprintf("%s: %d schedules", title, S_records)
set xlabel "scheduling points per schedule (steps)"
set ylabel "schedules (log scale)"
set title "steps per schedule"
set boxwidth ws * 0.9
plot in skip 1 using (bin($2, ws, S_min)):(1) smooth frequency with boxes lc "steelblue" \
         title "all schedules", \
     '' skip 1 using (bin($2, ws, S_min)):($5 > 0 ? 1 : 0) smooth frequency with boxes \
         lc "red" title "violating"
set xlabel "modelled time per schedule (us, clock.h)"
set title "modelled time per schedule"
set boxwidth wm * 0.9
plot in skip 1 using (bin($3 / 1000.0, wm, M_min)):(1) smooth frequency with boxes \
         lc "steelblue" title "all schedules", \
     '' skip 1 using (bin($3 / 1000.0, wm, M_min)):($5 > 0 ? 1 : 0) smooth frequency \
         with boxes lc "red" title "violating"
unset multiplot
