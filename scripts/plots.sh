#!/bin/sh
# Render the benchmark plots of docs/benchmarks.md ("Plots") from a built tree:
#   sh scripts/plots.sh [BUILD_DIR] [OUT_DIR]
# BUILD_DIR: a configured build (default build/release; the bench programs
# and mmnsim are built in it when missing); OUT_DIR: where the SVGs go
# (default docs/plots), the data files they are drawn from and the
# machine's description go to OUT_DIR/data. Runs bench_ops, bench_notifier,
# bench_listeners (item 4), bench_explore (item 1) with -d and an
# exploration of S1 with --schedules, then bench/plot/*.gp with gnuplot:
# about 1-2 minutes on 2 cores, plus bench_ordering's full grid (the command
# of docs/benchmarks.md "Invalidation ordering", its table and JSON kept in
# OUT_DIR/data; the longest part). Installs Debian's gnuplot-nox when no
# gnuplot is on PATH (as root only; apt-get, as scripts/deps.sh does).
# PLOTS_QUICK=1: tiny parameters (seconds; the numbers mean nothing), for
# the test of this script (tests/bench).
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=${1:-$root/build/release}
out=${2:-$root/docs/plots}
quick=${PLOTS_QUICK:-0}
say() { echo "scripts/plots.sh: $*"; }

if ! command -v gnuplot >/dev/null 2>&1; then
	if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
		say "no gnuplot: install it (Debian: apt-get install gnuplot-nox) or run this as root" >&2
		exit 1
	fi
	say "installing gnuplot-nox"
	export DEBIAN_FRONTEND=noninteractive
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends gnuplot-nox >/dev/null
fi

bench=$build/bench
mmnsim=$build/sim/mmnsim
if [ ! -x "$bench/bench_ops" ] || [ ! -x "$bench/bench_notifier" ] ||
	[ ! -x "$bench/bench_listeners" ] || [ ! -x "$bench/bench_explore" ] ||
	[ ! -x "$bench/bench_ordering" ] || [ ! -x "$mmnsim" ]; then
	if [ ! -f "$build/CMakeCache.txt" ]; then
		say "$build is not a build tree: cmake --preset release && cmake --build --preset release" >&2
		exit 1
	fi
	say "building the bench programs and mmnsim in $build"
	cmake --build "$build" --target bench_ops bench_notifier bench_listeners bench_explore \
		bench_ordering mmnsim-cli -j "$(nproc)" >/dev/null
fi

data=$out/data
mkdir -p "$data"
if [ "$quick" = 1 ]; then
	ops="-n 10 -r 2" notifier="-n 1000 -r 2 -s 1000 -u 100" listeners="-r 1"
	explore="-n 10 -r 1" runs=200 ordering="-Q"
else
	ops="-n 200 -r 5" notifier="-n 200000 -r 5 -s 1000000 -u 2000" listeners="-r 5"
	explore="-n 1000 -r 5" runs=5000 ordering="-n 8000 -r 3"
fi

{
	echo "date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "commit: $(git -C "$root" describe --always --dirty 2>/dev/null || echo unknown)"
	echo "nproc: $(nproc)"
	lscpu 2>/dev/null | head -n 15 || true
} >"$data/machine.txt"

# shellcheck disable=SC2086 # the parameters are words
{
	say "bench_ops $ops"
	nice "$bench/bench_ops" $ops -d "$data" >"$data/bench_ops.txt"
	say "bench_notifier $notifier"
	nice "$bench/bench_notifier" $notifier -d "$data" >"$data/bench_notifier.txt"
	say "bench_listeners -i 4 $listeners"
	nice "$bench/bench_listeners" -i 4 $listeners -d "$data" >"$data/bench_listeners.txt"
	say "bench_explore -i 1 $explore"
	nice "$bench/bench_explore" -i 1 $explore -d "$data" >"$data/bench_explore.txt"
	say "bench_ordering $ordering"
	nice "$bench/bench_ordering" $ordering -d "$data" -j "$data/bench_ordering.json" \
		>"$data/bench_ordering.txt"
}
# The histogram: every schedule of S1's wrong setting, PCT, on 2 jobs.
say "mmnsim explore S1 --wrong --runs $runs --keep-going --schedules"
rc=0
nice "$mmnsim" explore S1 --wrong --strategy pct --runs "$runs" --keep-going --jobs 2 \
	--max-saves 0 --quiet --schedules "$data/explore_s1_wrong_pct.tsv" >/dev/null || rc=$?
if [ "$rc" -ne 1 ]; then # 1: violating schedules found, as S1's wrong setting should
	say "mmnsim explore S1 --wrong exited $rc, expected 1" >&2
	exit 1
fi

plot() { # plot SCRIPT DATAFILE [EXTRA]
	gnuplot -e "in='$data/$2'; out='$out/$1.svg'${3:+; $3}" "$root/bench/plot/$1.gp"
	say "wrote $out/$1.svg"
}
plot ops bench_ops_ops.tsv
plot dispatch bench_notifier_dispatch.tsv
plot itree bench_notifier_itree.tsv
plot munmap bench_listeners_flush.tsv
plot explore bench_explore_rate.tsv
plot ordering_tradeoff bench_ordering_tradeoff.tsv
plot ordering_size bench_ordering_size.tsv
plot ordering_sens bench_ordering_sens.tsv
plot histogram explore_s1_wrong_pct.tsv "title='mmnsim explore S1 --wrong --strategy pct --keep-going'"
