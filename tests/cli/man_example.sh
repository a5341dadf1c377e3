#!/bin/sh
# cli.man_scenario_example: the scenario file of mmnsim-scenario(5)'s
# EXAMPLES section, taken from the mdoc source as written, is explored: its
# wrong setting finds the use-after-free, its right setting nothing.
#   sh man_example.sh MMNSIM MAN_PAGE WORKDIR
set -u
M=$1
W=$3
. "$(dirname "$0")/flow_lib.sh"
rm -rf "$W" && mkdir -p "$W" || exit 1
sed -n '/^\.Sh EXAMPLES/,/^\.Sh /p' "$2" | sed -n '/^\.Bd -literal/,/^\.Ed/p' | sed '1d;$d' >"$W/mini.yaml"
lines "the example has its 18 lines" "$W/mini.yaml" 18
"$M" explore "$W/mini.yaml" --wrong --runs 1000 --quiet --out "$W/out" >"$W/wrong.txt" 2>&1
check "the example's wrong setting: found (exit 1)" 1 $?
contains "the example's wrong setting: a use-after-free" "$W/wrong.txt" use_after_free
"$M" explore "$W/mini.yaml" --runs 1000 --quiet --out "$W/out" >"$W/right.txt" 2>&1
check "the example's right setting: nothing (exit 0)" 0 $?
exit $fail
