# bench_ordering: cost against safety, per listener kind. One group per
# design (listener kind / ordering, the x axis): the modelled time per
# operation (mean over the operation families at the trade-off size) alone
# (bar) and under contention (point: plus the device's re-faults per
# explored schedule at the device-fault cost), left axis; the cells whose
# exploration found a violation, right axis:
#   gnuplot -e "in='bench_ordering_tradeoff.tsv'; out='ordering_tradeoff.svg'" bench/plot/ordering_tradeoff.gp
if (!exists("in")) in = 'bench_ordering_tradeoff.tsv'
if (!exists("out")) out = 'ordering_tradeoff.svg'
set terminal svg size 1100,560 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set grid ytics
set key top left
set logscale y
set yrange [1:*]
set y2range [0:9]
set y2tics 0, 1
set ytics nomirror
set xtics rotate by -35 left font "sans,10"
set xrange [-0.7:*]
set style fill solid 0.6 border -1
set boxwidth 0.6
set ylabel "modelled us per operation (docs/clock.md)"
set y2label "cells found unsafe (of the operation families)"
set title "Invalidation ordering: cost against safety per listener kind (bench_ordering)"
kind(s) = s eq "kvm" ? 1 : s eq "iommu_sva" ? 2 : s eq "iommu_amdv2" ? 3 : 4
plot in skip 1 using 0:3:(kind(strcol(1))):xtic(strcol(1)."/".strcol(2)) \
         with boxes lc variable title "alone (bar; colour: listener kind)", \
     in skip 1 using 0:9 with points pt 7 ps 1.2 lc "black" title "contended", \
     in skip 1 using 0:4 axes x1y2 with points pt 2 ps 2 lw 3 lc "red" title "cells found unsafe (right axis)"
