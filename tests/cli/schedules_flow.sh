#!/bin/sh
# cli.schedules_flow: `mmnsim explore --schedules FILE` (docs/cli.md) writes a
# header and one row per schedule: as many rows as the JSON's schedules, in
# index order, whose steps and modelled_ns sum to the JSON's, whose
# violating column sums to its violating; with --jobs; when the exploration
# stops at its first violating schedule (the last row is that schedule);
# and outcome "budget" when every schedule ran out of steps.
#   sh schedules_flow.sh MMNSIM WORKDIR
set -u
M=$1
W=$2
. "$(dirname "$0")/flow_lib.sh"
rm -rf "$W" && mkdir -p "$W" && cd "$W" || exit 1

field() { # field NAME JSONFILE: an integer member of the JSON object
	sed -n "s/.*\"$1\": \([0-9]*\).*/\1/p" "$2" | head -n 1
}
header="index	steps	modelled_ns	outcome	violating"

# check_rows NAME: s-NAME.tsv against x-NAME.json
check_rows() {
	check "$1: header" "$header" "$(head -n 1 "s-$1.tsv")"
	check "$1: rows = schedules" "$(field schedules "x-$1.json")" "$(($(wc -l <"s-$1.tsv") - 1))"
	check "$1: steps summed" "$(field steps "x-$1.json")" \
		"$(awk -F'\t' 'NR > 1 { s += $2 } END { print s + 0 }' "s-$1.tsv")"
	check "$1: modelled_ns summed" "$(field modelled_ns "x-$1.json")" \
		"$(awk -F'\t' 'NR > 1 { s += $3 } END { printf "%.0f\n", s }' "s-$1.tsv")"
	check "$1: violating summed" "$(field violating "x-$1.json")" \
		"$(awk -F'\t' 'NR > 1 { s += $5 } END { print s + 0 }' "s-$1.tsv")"
	check "$1: indexes increasing" 0 \
		"$(awk -F'\t' 'NR > 2 && $1 <= p { bad++ } NR > 1 { p = $1 } END { print bad + 0 }' "s-$1.tsv")"
}

# 1. one job, right setting: 60 schedules, indexes 0..59.
"$M" explore S1 --runs 60 --schedules s-one.tsv --json >x-one.json 2>err-one.txt
check "one job: exit status" 0 $?
check_rows one
check "one job: last index" 59 "$(tail -n 1 s-one.tsv | cut -f 1)"

# 2. two jobs, wrong setting, keep going: every index 0..399 once.
"$M" explore S1 --wrong --runs 400 --jobs 2 --keep-going --max-saves 0 --schedules s-jobs.tsv \
	--json >x-jobs.json 2>err-jobs.txt
check "two jobs: exit status (violations found)" 1 $?
check_rows jobs
check "two jobs: indexes 0..399" "0 399 400" \
	"$(awk -F'\t' 'NR > 1 { if (NR == 2) f = $1; l = $1; n++ } END { print f, l, n }' s-jobs.tsv)"

# 3. stopping at the first violating schedule: it is the last row (the
#    progress callback does not see it; the end of the exploration does).
"$M" explore S1 --wrong --runs 3000 --max-saves 0 --schedules s-first.tsv --json >x-first.json 2>&1
check "first: exit status" 1 $?
check_rows first
check "first: the last row is the first violating schedule" "$(field first_index x-first.json) 1" \
	"$(tail -n 1 s-first.tsv | cut -f 1,5 | tr '\t' ' ')"

# 4. nothing judged: every row says budget.
"$M" explore S1 --max-steps 1 --runs 5 --schedules s-budget.tsv --json >x-budget.json 2>&1
check "budget: exit status (no verdict)" 3 $?
check_rows budget
check "budget: outcomes" "5 budget" "$(tail -n +2 s-budget.tsv | cut -f 4 | uniq -c | tr -s ' ' | sed 's/^ //')"

# 5. refused up front, one line, nothing run: an existing file is replaced only at the end.
"$M" explore S1 --runs 5 --schedules "$W" >out-dir.txt 2>err-dir.txt
check "a directory: exit status" 2 $?
lines "a directory: one line" err-dir.txt 1
contains "a directory: says so" err-dir.txt "--schedules $W: is a directory"
exit $fail
