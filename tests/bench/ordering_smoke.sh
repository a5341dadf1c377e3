#!/bin/sh
# bench.ordering_format (label bench-smoke): the output of bench_ordering -Q
# (docs/benchmarks.md "Invalidation ordering"). Checks the table's header,
# that nonsense cells are shown as "n/a: reason" (not hidden), every
# measured row's safety column, the SUMMARY line's keys, the data files of
# -d (header, fields per row), the JSON of -j (one entry per cell, n/a ones
# with their reason), and that a bad option is refused with exit 2.
#   sh ordering_smoke.sh BENCH_BIN_DIR WORKDIR
set -u
B=$1
W=$2
fail=0
check() { # check DESCRIPTION EXPECTED ACTUAL
	if [ "$2" != "$3" ]; then echo "FAIL: $1: expected '$2', got '$3'"; fail=1; else echo "ok: $1"; fi
}
rm -rf "$W" && mkdir -p "$W" || exit 1

"$B/bench_ordering" -Q -d "$W" -j "$W/o.json" >"$W/out.txt" 2>"$W/err.txt"
check "exit status" 0 $?
check "nothing on stderr" 0 "$(wc -c <"$W/err.txt" | tr -d ' ')"
grep -q '^ordering  *listener  *op  *pages  *flushes  *entries  *needless  *devflt  *refault  *giveup  *op_us\*  *refill_us\*  *total_us\*  *real_us  *safety$' "$W/out.txt"
check "the table's header" 0 $?
# 7 orderings x 4 listeners: 18 pairs n/a as a whole; 10 pairs x THP split at 1 page
check "n/a rows, with a reason" 28 "$(grep -c ' n/a: [a-zA-Z]' "$W/out.txt")"
check "the SVA blocking row says why" 1 \
	"$(grep -c '^start_end  *iommu_sva  *all  *all n/a: SVA walks the CPU page table' "$W/out.txt")"
# measured rows: 10 pairs x 8 operations at 1 page; safety "none in N" or "found ..."
check "measured rows" 80 "$(grep -cE ' (none in [0-9]+|found at #[0-9]+ \([a-z_,]+\))$' "$W/out.txt")"
check "range_end reclaim: S1's use-after-free found" 1 \
	"$(grep -cE '^range_end  *iommu_sva  *reclaim  *1 .* found at #[0-9]+ \(use_after_free\)$' "$W/out.txt")"
check "sensitivity rows" 30 "$(grep -cE '^(iotlb_inv|ats_inv|device_fault) +x[0-9.]+ +[0-9]+ ns (alone|contended) *: ' "$W/out.txt")"
check "SUMMARY line" 1 "$(grep -cE '^SUMMARY bench_ordering cells=80 na=172 unsafe=[0-9]+ schedules=20 strategy=pct sizes=1 quick=1$' "$W/out.txt")"

data() { # data FILE HEADER ROWS
	f=$W/$1
	check "$1: header" "$2" "$(head -n 1 "$f" 2>/dev/null)"
	check "$1: rows" "$3" "$(($(wc -l <"$f" 2>/dev/null || echo 1) - 1))"
	check "$1: fields per row" 0 "$(awk -F'\t' 'NR == 1 { n = NF } NF != n { bad++ } END { print bad + 0 }' "$f" 2>/dev/null)"
}
tab=$(printf '\t')
data bench_ordering_grid.tsv "$(echo order listener op pages sec_flushes entries needless dev_faults \
	refaults giveups op_modelled_us refill_modelled_us modelled_us real_us schedules violating \
	safety | tr ' ' "$tab")" 80
data bench_ordering_tradeoff.tsv "$(echo listener order modelled_us_per_op unsafe_cells cells \
	unsafe_frac refaults_per_schedule giveups_per_schedule contended_us_per_op | tr ' ' "$tab")" 10
data bench_ordering_size.tsv "$(echo design pages modelled_us_per_op sec_flushes_per_op \
	refaults_per_op | tr ' ' "$tab")" 10
data bench_ordering_sens.tsv "$(echo cost factor cost_ns design modelled_us_per_op rank \
	contended_us_per_op rank_contended | tr ' ' "$tab")" 120

# JSON: 7 x 4 x 9 cells at one size, n/a ones with their reason
check "JSON: one entry per cell" 252 "$(grep -c '"order": ' "$W/o.json")"
check "JSON: n/a entries" 172 "$(grep -c '"na": "' "$W/o.json")"
check "JSON: safety of measured entries" 80 "$(grep -c '"safety": {"strategy": "pct", "schedules": ' "$W/o.json")"
if command -v python3 >/dev/null 2>&1; then
	python3 -m json.tool "$W/o.json" >/dev/null
	check "JSON parses (python3 -m json.tool)" 0 $?
else
	echo "skip: JSON parse check (no python3)"
fi

"$B/bench_ordering" -Q -s no-such-strategy >"$W/bad.out" 2>"$W/bad.err"
check "an unknown strategy: exit status" 2 $?
check "an unknown strategy: nothing ran" 0 "$(wc -c <"$W/bad.out" | tr -d ' ')"
exit $fail
