#!/bin/sh
# bench.plots (label bench-smoke): scripts/plots.sh with PLOTS_QUICK=1
# (tiny parameters) renders every bench/plot/*.gp into an SVG, with nothing
# on gnuplot's stderr (a parse error, a column that does not exist, an empty
# data set). Skipped (exit 77) without gnuplot: this test does not install
# it (scripts/plots.sh does, as root).
#   sh plots_smoke.sh SOURCE_DIR BUILD_DIR WORKDIR
set -u
S=$1
B=$2
W=$3
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "SKIP: no gnuplot on PATH (Debian: apt-get install gnuplot-nox)"
	exit 77
fi
fail=0
rm -rf "$W" && mkdir -p "$W" || exit 1
PLOTS_QUICK=1 sh "$S/scripts/plots.sh" "$B" "$W/out" >"$W/plots.out" 2>"$W/plots.err"
rc=$?
cat "$W/plots.out"
if [ $rc -ne 0 ] || [ -s "$W/plots.err" ]; then
	echo "FAIL: scripts/plots.sh exited $rc, stderr:"
	cat "$W/plots.err"
	fail=1
fi
for gp in "$S"/bench/plot/*.gp; do
	name=$(basename "$gp" .gp)
	if grep -q '<svg' "$W/out/$name.svg" 2>/dev/null && grep -q '<path' "$W/out/$name.svg"; then
		echo "ok: $name.svg drawn"
	else
		echo "FAIL: $name.svg missing or empty (is $name.gp run by scripts/plots.sh?)"
		fail=1
	fi
done
exit $fail
