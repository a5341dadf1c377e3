#!/bin/sh
# cli.trace_flow: `mmnsim trace` on a saved S1 violation: the timeline's
# columns, operations, notifier calls, the free and the use-after-free that
# names it; --points; the SVG (boxes and the arrow); and bad input: a file
# that is not a replay file, a missing one, an unwritable --svg (refused
# before anything runs), a --width out of range: one line each, exit 2.
#   sh trace_flow.sh MMNSIM WORKDIR
set -u
M=$1
W=$2
. "$(dirname "$0")/flow_lib.sh"
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1

"$M" explore S1 --wrong --runs 3000 --out out >explore.txt 2>&1
check "explore finds S1's violation" 1 $?
replay=$(ls out/*.replay.json | head -n 1)

# 1. the text timeline
"$M" trace "$replay" >t.txt 2>err.txt
check "trace exit status (the violation reproduced)" 1 $?
lines "trace writes nothing on stderr" err.txt 0
head -n 2 t.txt | tail -n 1 >head.txt
for a in main reclaimer device reuser; do contains "a column for $a" head.txt "$a"; done
contains "the operation" t.txt "try_to_unmap"
contains "the notifier's start with its range and event" t.txt "invalidate_range_start"
contains "the notifier callback" t.txt "callback_enter"
contains "the PTL" t.txt "lock ptl#"
contains "the CPU flush (reclaim batches it: try_to_unmap_flush)" t.txt "arch_tlbbatch_flush"
contains "the free" t.txt "FREE pfn"
contains "the use-after-free with its cause" t.txt "cause:"
contains "PTE points collapsed" t.txt "points"
if grep -q "pte_read" t.txt; then check "no pte_read row without --points" no yes; fi
"$M" trace "$replay" --points >p.txt 2>&1
check "trace --points exit status" 1 $?
contains "--points shows the PTE reads" p.txt "pte_read"
"$M" trace "$replay" --width 200 >wide.txt 2>&1
w120=$(awk 'NR == 2 { print length($0) }' t.txt)
w200=$(awk 'NR == 2 { print length($0) }' wide.txt)
[ "$w200" -gt "$w120" ]
check "--width 200 widens the columns ($w120 -> $w200)" 0 $?

# 2. the SVG
"$M" trace "$replay" --svg s1.svg >/dev/null 2>err.txt
check "trace --svg exit status" 1 $?
contains "an SVG document" s1.svg "<svg xmlns=\"http://www.w3.org/2000/svg\""
contains "spans as boxes" s1.svg "<rect class=\"span"
contains "an arrow from the free to the use" s1.svg "<path class=\"arrow\""
contains "the SVG ends" s1.svg "</svg>"
if command -v xmllint >/dev/null; then
	xmllint --noout s1.svg
	check "the SVG is well-formed XML" 0 $?
fi

# 3. bad input: one line, exit 2
"$M" trace "${replay%.replay.json}.trace.txt" >out.txt 2>err.txt
check "a trace file is not a replay file: exit 2" 2 $?
lines "  one line" err.txt 1
"$M" trace nope.replay.json >out.txt 2>err.txt
check "a missing replay file: exit 2" 2 $?
lines "  one line" err.txt 1
contains "  naming the file" err.txt "nope.replay.json"
"$M" trace "$replay" --svg no/such/dir/x.svg >out.txt 2>err.txt
check "an unwritable --svg: exit 2" 2 $?
lines "  one line" err.txt 1
contains "  naming the option" err.txt "--svg no/such/dir/x.svg"
lines "  before the replay ran (no timeline)" out.txt 0
"$M" trace "$replay" --width 5 >out.txt 2>err.txt
check "--width 5: exit 2" 2 $?
lines "  one line" err.txt 1
"$M" trace >out.txt 2>err.txt
check "no file: exit 2" 2 $?
lines "  one line" err.txt 1
exit $fail
