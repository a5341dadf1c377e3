# bench_listeners item 4: munmap() of a populated private anonymous range
# with an IOMMU (SVA) device bound, against the mapped size, per profile,
# next to the host kernel's own munmap() of as many populated pages timed in
# the same repeat (the baseline):
#   gnuplot -e "in='bench_listeners_flush.tsv'; out='munmap.svg'" bench/plot/munmap.gp
if (!exists("in")) in = 'bench_listeners_flush.tsv'
if (!exists("out")) out = 'munmap.svg'
set terminal svg size 1100,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set grid
set key top left
set logscale xy
set xrange [0.7:6000]
set xtics (1, 16, 512, 4096)
prof = "latest 6.5 4.12"
set multiplot layout 1,2 title "munmap cost against mapped size (bench_listeners item 4, medians)"
set xlabel "pages mapped and populated (4 KiB)"
set ylabel "ns per munmap"
set title "real and modelled time"
plot in skip 1 using (strcol(1) eq "munmap" && strcol(2) eq "latest" ? $3 : NaN):6 \
         with linespoints lw 2 lc "black" title "host munmap (baseline)", \
     for [i = 1:3] in skip 1 \
         using (strcol(1) eq "munmap" && strcol(2) eq word(prof, i) ? $3 : NaN):4 \
         with linespoints lw 2 lc i title "mmnsim real, profile ".word(prof, i), \
     in skip 1 using (strcol(1) eq "munmap" && strcol(2) eq "latest" ? $3 : NaN):5 \
         with linespoints lw 2 lc 4 dt 2 title "mmnsim modelled (clock.h), latest"
set ylabel "mmnsim real time / host munmap (ratio, same run)"
set title "over the host's munmap"
plot for [i = 1:3] in skip 1 \
         using (strcol(1) eq "munmap" && strcol(2) eq word(prof, i) ? $3 : NaN):7 \
         with linespoints lw 2 lc i title "profile ".word(prof, i), \
     1 with lines lc "black" dt 4 title "host = 1"
unset multiplot
