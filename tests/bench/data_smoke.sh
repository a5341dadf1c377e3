#!/bin/sh
# bench.data_files (label bench-smoke): the -d DIR option of the bench
# harness (bench/harness.h). Runs bench_ops and bench_notifier with tiny
# parameters and -d, and checks each data file has its header of column
# names and at least one row, every row as many tab-separated fields as the
# header; and that a -d that is not a directory is refused with one line,
# exit 2, before anything runs.
#   sh data_smoke.sh BENCH_BIN_DIR WORKDIR
set -u
B=$1
W=$2
fail=0
check() { # check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" != "$3" ]; then echo "FAIL: $1: expected '$2', got '$3'"; fail=1; else echo "ok: $1"; fi
}
rm -rf "$W" && mkdir -p "$W" || exit 1

"$B/bench_ops" -q -n 5 -r 1 -d "$W" >"$W/ops.out"
check "bench_ops exit status" 0 $?
"$B/bench_notifier" -q -n 200 -r 1 -s 100 -u 20 -d "$W" >"$W/notifier.out"
check "bench_notifier exit status" 0 $?
check "SUMMARY lines still printed" 9 "$(grep -c '^SUMMARY bench_ops ' "$W/ops.out")"

# data FILE HEADER ROWS: the header line exactly, ROWS rows of as many fields
data() {
	f=$W/$1
	check "$1: header" "$2" "$(head -n 1 "$f" 2>/dev/null)"
	check "$1: rows" "$3" "$(($(wc -l <"$f" 2>/dev/null || echo 1) - 1))"
	check "$1: fields per row" 0 "$(awk -F'\t' 'NR == 1 { n = NF } NF != n { bad++ } END { print bad + 0 }' "$f" 2>/dev/null)"
}
tab=$(printf '\t')
data bench_ops_ops.tsv "$(echo op pages host_ns mmn0_ns mmn3_ns mmn0_ratio mmn3_ratio \
	mmn0_modelled_ns mmn3_modelled_ns | tr ' ' "$tab")" 9
data bench_notifier_dispatch.tsv "$(echo subs bare_ns mmn_ns ratio lockdep_ns lockdep_ratio |
	tr ' ' "$tab")" 4
data bench_notifier_itree.tsv "$(echo layout intervals tree_ns scan_ns ratio hits_per_op |
	tr ' ' "$tab")" 6
data bench_notifier_churn.tsv "$(echo case us_per_pair pairs_per_s | tr ' ' "$tab")" 2
check "a row of bench_ops: mprotect of 1 page, positive host time" 1 \
	"$(awk -F'\t' '$1 == "mprotect" && $2 == 1 && $3 > 0 { n++ } END { print n + 0 }' "$W/bench_ops_ops.tsv")"

"$B/bench_ops" -q -n 5 -r 1 -d "$W/ops.out" >"$W/bad.out" 2>"$W/bad.err"
check "-d a regular file: exit status" 2 $?
check "-d a regular file: one line" 1 "$(wc -l <"$W/bad.err" | tr -d ' ')"
check "-d a regular file: nothing ran" 0 "$(wc -c <"$W/bad.out" | tr -d ' ')"
grep -q "not a directory" "$W/bad.err"
check "-d a regular file: says so" 0 $?
exit $fail
