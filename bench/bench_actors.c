// SPDX-License-Identifier: MIT
/*
 * bench_actors: how much faster does exploration go on user-level actors
 * than on the thread mechanism? (issue 14, "Must show".)
 *
 * The same exploration, mmn_scenario_explore("S1") under the right setting
 * with PCT (-n schedules, seed 1, no traces; it runs on a pool as the CLI
 * does), once per mechanism in each repeat, interleaved:
 *
 *   contexts   every actor a user-level context on the calling thread (the
 *              default, lib/sync/det_context.c)
 *   threads    every actor a pool thread, the token handed over through a
 *              mutex and condition variables (MMN_SCHED_MECHANISM=threads,
 *              which mmn_sched_config_init() reads: the exploration builds
 *              its own configuration)
 *
 * Reported: schedules per second of real time and the CPU time per
 * schedule (getrusage, every thread), medians over -r repeats, and the
 * ratios contexts / threads of the rates and threads / contexts of the CPU
 * times (on a loaded machine the second is the steadier: a single busy
 * thread gets a fair share of the CPU, threads that sleep and wake at every
 * hand-off get woken ahead of it). Both explorations must see the
 * same schedules: the total of their steps must match (else exit 1).
 * Run under `taskset -c 0` for the one-core figure (docs/benchmarks.md).
 *
 *   bench_actors [-n schedules] [-r repeats] [-q]      (default -n 2000 -r 5)
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include <mmnsim/mmnsim.h>
#include <mmnsim/explore.h>
#include <mmnsim/scenario.h>

#include "harness.h"

#define PROG "bench_actors"

enum { M_CONTEXTS, M_THREADS, M_NR };

static const char *const m_name[M_NR] = { "contexts", "threads" };

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* One exploration; false on an API error or a violation. */
static bool explore(int m, unsigned long n, double *rate, double *cpu_us, unsigned long *steps)
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	uint64_t t0;
	double c0;
	int err;

	if (m == M_THREADS)
		setenv("MMN_SCHED_MECHANISM", "threads", 1);
	else
		unsetenv("MMN_SCHED_MECHANISM");
	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_PCT;
	c.runs = n;
	c.seed = 1;
	c.trace = false;
	c0 = cpu_s();
	t0 = bench_now_ns();
	err = mmn_scenario_explore("S1", NULL, &c, &st);
	t0 = bench_now_ns() - t0;
	c0 = cpu_s() - c0;
	if (err || st.violating || st.schedules != n) {
		fprintf(stderr, "%s: S1 on %s: error %d, %lu violating of %lu schedules\n", PROG,
			m_name[m], err, st.violating, st.schedules);
		return false;
	}
	*rate = (double)n / ((double)t0 / 1e9);
	*cpu_us = c0 * 1e6 / (double)n;
	*steps = st.steps;
	return true;
}

int main(int argc, char **argv)
{
	struct bench_args a = { .iterations = 2000, .repeats = 5 };
	static double rate[M_NR][BENCH_MAX_REPEATS], cpu[M_NR][BENCH_MAX_REPEATS];
	unsigned long steps[M_NR] = { 0 };
	double mr[M_NR], mc[M_NR];
	bool ok = true;

	bench_getopt(argc, argv, &a, "", NULL, NULL, "", "");
	for (unsigned int rep = 0; rep < a.repeats && ok; rep++)
		for (int m = 0; m < M_NR && ok; m++)
			ok = explore(m, a.iterations, &rate[m][rep], &cpu[m][rep], &steps[m]);
	unsetenv("MMN_SCHED_MECHANISM");
	if (!ok)
		return 1;
	if (steps[M_CONTEXTS] != steps[M_THREADS]) {
		fprintf(stderr, "%s: the mechanisms explored different schedules (%lu vs %lu steps)\n",
			PROG, steps[M_CONTEXTS], steps[M_THREADS]);
		return 1;
	}
	for (int m = 0; m < M_NR; m++) {
		mr[m] = bench_median(rate[m], a.repeats);
		mc[m] = bench_median(cpu[m], a.repeats);
	}
	bench_printf(&a, "S1 PCT, %lu schedules, median of %u\n", a.iterations, a.repeats);
	bench_printf(&a, "%-10s %12s %14s\n", "mechanism", "schedules/s", "CPU us/sched");
	for (int m = 0; m < M_NR; m++)
		bench_printf(&a, "%-10s %12.0f %14.1f\n", m_name[m], mr[m], mc[m]);
	bench_printf(&a, "ratio contexts/threads: %.2fx schedules/s, %.2fx less CPU per schedule\n",
		     mr[M_CONTEXTS] / mr[M_THREADS], mc[M_THREADS] / mc[M_CONTEXTS]);
	bench_summary(PROG, "scenario=S1 strategy=pct schedules=%lu repeats=%u contexts_sched_s=%.0f "
		      "threads_sched_s=%.0f contexts_cpu_us=%.1f threads_cpu_us=%.1f ratio=%.2f "
		      "cpu_ratio=%.2f",
		      a.iterations, a.repeats, mr[M_CONTEXTS], mr[M_THREADS], mc[M_CONTEXTS],
		      mc[M_THREADS], mr[M_CONTEXTS] / mr[M_THREADS], mc[M_THREADS] / mc[M_CONTEXTS]);
	return 0;
}
