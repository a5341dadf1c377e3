# bench_ops: mmnsim's operations against the host kernel's own system calls,
# by size (docs/benchmarks.md, "Plots"):
#   gnuplot -e "in='bench_ops_ops.tsv'; out='ops.svg'" bench/plot/ops.gp
# in: the data file of `bench_ops -d DIR` (medians of the repeats, host and
# model measured interleaved in the same run). Left: ns per operation;
# right: the model with 3 no-op listeners over the host (the target is 1).
if (!exists("in")) in = 'bench_ops_ops.tsv'
if (!exists("out")) out = 'ops.svg'
set terminal svg size 1100,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set logscale xy
set xrange [0.7:800]
set xtics (1, 16, 512)
set grid
set key top left
set multiplot layout 1,2 title "bench_ops: operations against the host kernel, by size (medians)"
set xlabel "pages per operation (4 KiB)"
set ylabel "ns per operation"
set title "real time per operation"
ops = "mprotect dontneed mmap_touch"
plot for [i = 1:3] in skip 1 using (strcol(1) eq word(ops, i) ? $2 : NaN):3 \
         with linespoints lw 2 dt 1 lc i pt 7 title word(ops, i)." host", \
     for [i = 1:3] in skip 1 using (strcol(1) eq word(ops, i) ? $2 : NaN):5 \
         with linespoints lw 2 dt 2 lc i pt 6 title word(ops, i)." mmnsim (3 listeners)"
set ylabel "mmnsim time / host time (ratio, same run)"
set title "mmnsim with 0 and 3 no-op listeners over the host"
set yrange [0.005:5]
plot for [i = 1:3] in skip 1 using (strcol(1) eq word(ops, i) ? $2 : NaN):7 \
         with linespoints lw 2 lc i pt 7 title word(ops, i)." (3 listeners)", \
     for [i = 1:3] in skip 1 using (strcol(1) eq word(ops, i) ? $2 : NaN):6 \
         with linespoints lw 1 dt 3 lc i pt 6 title word(ops, i)." (0 listeners)", \
     1 with lines lc "black" dt 4 title "host = 1 (target: at most)"
unset multiplot
