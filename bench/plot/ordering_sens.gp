# bench_ordering: sensitivity of the IOMMU designs to the uncertain costs of
# docs/clock.md. One panel per cost (iotlb_inv, ats_inv, device_fault),
# swept from 0.1x to 10x its default with the others at theirs; one line per
# design: modelled us per operation (mean over the operation families at the
# trade-off size), alone (solid) and under contention (dashed: plus the
# device's re-faults per explored schedule at the device-fault cost). Where
# two lines of one kind cross, the ranking changes:
#   gnuplot -e "in='bench_ordering_sens.tsv'; out='ordering_sens.svg'" bench/plot/ordering_sens.gp
if (!exists("in")) in = 'bench_ordering_sens.tsv'
if (!exists("out")) out = 'ordering_sens.svg'
set terminal svg size 1300,480 dynamic noenhanced font "sans,12" background "white"
set output out
set datafile separator "\t"
set grid
set logscale xy
set xrange [0.08:12.5]
set xtics (0.1, 0.3, 1, 3, 10)
costs = "iotlb_inv ats_inv device_fault"
designs = "sva/cpu_flush sva/call_sites sva/only_end sva/range_end sva/range_end_held sva/invalidate_page amdv2/invalidate_page amdv2/start_end"
set multiplot layout 1,3 margins 0.06, 0.84, 0.12, 0.86 spacing 0.07, 0.1 title "Invalidation ordering: sensitivity to the uncertain costs (bench_ordering; solid: alone, dashed: contended)"
set xlabel "cost / default"
set ylabel "modelled us per operation"
do for [c = 1:3] {
    set title word(costs, c)
    if (c == 3) { set key at screen 0.99, 0.86 right top font "sans,10" } else { unset key }
    # rows: cost, then factor (5), then design (8): design i of cost c is
    # every 8th row from (c-1)*40 + i-1 to the cost's last row
    plot for [i = 1:8] in skip 1 every 8::((c - 1) * 40 + i - 1)::((c - 1) * 40 + 39) \
             using 2:5 with linespoints lw 2 lc i pt i title word(designs, i), \
         for [i = 1:8] in skip 1 every 8::((c - 1) * 40 + i - 1)::((c - 1) * 40 + 39) \
             using 2:7 with linespoints lw 1 dt 2 lc i pt i notitle
}
unset multiplot
