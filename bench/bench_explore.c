// SPDX-License-Identifier: MIT
/*
 * bench_explore: how fast does exploration go, and how soon does it find the
 * seeds' bugs? Issue 6 ("exploration"), four measurements:
 *
 *  1. rate     schedules per second of mmn_scenario_explore("S1") under the
 *              right setting (nothing found, so every repeat runs all -n
 *              schedules), random and PCT (the exploration runs its actors
 *              on a thread pool, mmn_sched_config::pool). Beside it the
 *              6-actor mixed scenario "M6" written here with the public API
 *              (below), random and PCT on a pool, and PCT without one (a
 *              thread created and joined per actor), with its cost split
 *              into building the simulation, running the schedule and
 *              tearing down. Reported beside each real time: the modelled
 *              time per schedule (the simulation's virtual clock), steps
 *              per schedule, the process's CPU time over real time and its
 *              context switches per schedule (getrusage: every thread of
 *              the process, the exited actors included).
 *  2. cost     where a schedule's time goes, without a scenario: build and
 *              destroy a deterministic simulation; the same plus
 *              mmn_sched_run() of an empty body; plus three actors spawned
 *              that return at once; plus 50 explicit scheduling points per
 *              actor under the random strategy (about S1's step count);
 *              the last three with and without a thread pool.
 *  3. first    schedules to the first violation under the wrong setting,
 *              for S1, S3, S4, S7 (-S to change), random and PCT: -s seeds
 *              (seed 1 + 100000 k), at most -m schedules each, stop at the
 *              first; median, min and max of first_index + 1 (a seed that
 *              found nothing counts as more than -m, printed ">M"; "not
 *              found" when no seed found it). A scenario whose exploration
 *              mode is missing (mmn_scenario_explore() fails) prints "n/a".
 *  4. right    (-R N, alone) S1, S3, S4, S7, S8 (-S to change) under the
 *              right setting, N schedules each, random and PCT, keep going:
 *              the number of violating schedules must be 0.
 *
 *   bench_explore [-n schedules] [-r repeats] [-q] [-i 1,2,3] [-s seeds]
 *                 [-m max_runs] [-S S1,S3] [-R right_runs]
 *
 * Defaults: -n 1000 -r 5 -i 1,2,3 -s 20 -m 100000. Items 1 and 2 take about
 * 40 s together, item 3 about 10 s, -R 100000 about 5 minutes (2026-11,
 * the project VM). Run under taskset -c 0 for the "one core" figure: on two
 * vCPUs every hand-off to a thread parked on the idle vCPU pays for waking
 * it (docs/benchmarks.md, "Exploration").
 *
 * M6 (6 actors, deterministic backend, profile latest, lockdep on, the right
 * setting): a 4-page RW private anonymous range, written by the CPU and read
 * by an IOMMU (SVA) device first; then, M6_ROUNDS (2) rounds each:
 *   writer0, writer1   mmn_cpu_write() on CPU 0 / CPU 1, a page per round
 *   reclaimer          mmn_try_to_unmap() of a page
 *   mprotect           mmn_mprotect(READ) then (RW) of the whole range
 *   madvise            mmn_madvise(DONTNEED) of a page
 *   device             mmn_iommu_dma_read() of a page (with page requests)
 * Every schedule must end with every actor done and no violation (a right
 * setting): otherwise the program says so and exits 1.
 *
 * Output: tables, then one SUMMARY line per measurement. The exit status
 * reports only correctness (an API error, a violation where none may be, a
 * schedule that did not end), never a missed target.
 */
#define _GNU_SOURCE /* sched_getaffinity(): is the run pinned to one core? */
#include <errno.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <mmnsim/mmnsim.h>
#include <mmnsim/explore.h>
#include <mmnsim/scenario.h>
#include <mmnsim/listeners/iommu.h>

#include "harness.h"

#define PROG "bench_explore"
#define PG MMN_PAGE_SIZE
#define BASE 0x40000000UL
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANONF (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED)
#define TARGET_S1_RATE 5000.0    /* schedules/s on S1, one core */
#define TARGET_S1_PCT_FIRST 2000 /* schedules to find S1 with PCT */
#define MAX_SCN 9

static bool failed;

/* CPUs this process may run on (1 under taskset -c 0). */
static int allowed_cpus(void)
{
	cpu_set_t set;

	if (sched_getaffinity(0, sizeof(set), &set))
		return -1;
	return CPU_COUNT(&set);
}

static void fail(const char *what, int err)
{
	fprintf(stderr, "%s: %s failed: %d\n", PROG, what, err);
	failed = true;
}

/* ------------------------------------------------------------------ */
/* Process-wide usage around a measurement                             */
/* ------------------------------------------------------------------ */

struct usage {
	uint64_t real_ns;
	double cpu_s; /* user + system, every thread */
	long csw;     /* voluntary + involuntary context switches */
};

static void usage_now(struct usage *u)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	u->real_ns = bench_now_ns();
	u->cpu_s = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		   (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
	u->csw = ru.ru_nvcsw + ru.ru_nivcsw;
}

static void usage_since(const struct usage *t0, struct usage *d)
{
	struct usage t1;

	usage_now(&t1);
	d->real_ns = t1.real_ns - t0->real_ns;
	d->cpu_s = t1.cpu_s - t0->cpu_s;
	d->csw = t1.csw - t0->csw;
}

/* One row of item 1 or 2: per-repeat samples, medians at the end. */
struct row {
	const char *name;
	double rate[BENCH_MAX_REPEATS];     /* schedules/s */
	double modelled[BENCH_MAX_REPEATS]; /* modelled us per schedule */
	double steps[BENCH_MAX_REPEATS];    /* scheduling points per schedule */
	double util[BENCH_MAX_REPEATS];     /* CPU time / real time */
	double csw[BENCH_MAX_REPEATS];      /* context switches per schedule */
	double part[3][BENCH_MAX_REPEATS];  /* M6: us in setup, run, teardown */
};

static void row_add(struct row *r, unsigned int rep, unsigned long n, const struct usage *u)
{
	double s = (double)u->real_ns / 1e9;

	r->rate[rep] = n / s;
	r->util[rep] = u->cpu_s / s;
	r->csw[rep] = (double)u->csw / n;
}

/* ------------------------------------------------------------------ */
/* The 6-actor mixed scenario M6                                       */
/* ------------------------------------------------------------------ */

#define M6_PAGES 4UL
#define M6_ROUNDS 2UL

struct m6 {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_iommu *io;
	int pasid;
	unsigned long rounds;
	unsigned long done;
};

static void m6_silent(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	(void)sim;
	(void)v;
	(void)arg;
}

static unsigned long m6_addr(unsigned long n)
{
	return BASE + (n % M6_PAGES) * PG;
}

static void m6_end(struct m6 *x)
{
	__atomic_add_fetch(&x->done, 1, __ATOMIC_RELAXED);
}

static void *m6_writer0(void *arg)
{
	struct m6 *x = arg;

	for (unsigned long n = 0; n < x->rounds; n++)
		(void)mmn_cpu_write(x->mm, 0, m6_addr(n), 0x1000 + n);
	m6_end(x);
	return NULL;
}

static void *m6_writer1(void *arg)
{
	struct m6 *x = arg;

	for (unsigned long n = 0; n < x->rounds; n++)
		(void)mmn_cpu_write(x->mm, 1, m6_addr(n + 1), 0x2000 + n);
	m6_end(x);
	return NULL;
}

static void *m6_reclaimer(void *arg)
{
	struct m6 *x = arg;

	/* -ENOMEM when the page is not mapped (zapped or reclaimed before). */
	for (unsigned long n = 0; n < x->rounds; n++)
		(void)mmn_try_to_unmap(x->mm, m6_addr(n), PG);
	m6_end(x);
	return NULL;
}

static void *m6_mprotect(void *arg)
{
	struct m6 *x = arg;

	for (unsigned long n = 0; n < x->rounds; n++) {
		(void)mmn_mprotect(x->mm, BASE, M6_PAGES * PG, MMN_PROT_READ);
		(void)mmn_mprotect(x->mm, BASE, M6_PAGES * PG, RW);
	}
	m6_end(x);
	return NULL;
}

static void *m6_madvise(void *arg)
{
	struct m6 *x = arg;

	for (unsigned long n = 0; n < x->rounds; n++)
		(void)mmn_madvise(x->mm, m6_addr(n + 2), PG, MMN_MADV_DONTNEED);
	m6_end(x);
	return NULL;
}

static void *m6_device(void *arg)
{
	struct m6 *x = arg;

	for (unsigned long n = 0; n < x->rounds; n++) {
		uint64_t v;

		(void)mmn_iommu_dma_read(x->io, x->pasid, m6_addr(n + 3), &v);
	}
	m6_end(x);
	return NULL;
}

static void m6_body(struct mmn_sim *sim, void *arg)
{
	static void *(*const fn[6])(void *) = { m6_writer0, m6_writer1, m6_reclaimer,
						m6_mprotect, m6_madvise,  m6_device };
	static const char *const names[6] = { "writer0", "writer1", "reclaimer",
					      "mprotect", "madvise", "device" };
	struct mmn_actor *a[6];
	int n = 0;

	for (; n < 6; n++)
		if (mmn_actor_spawn(sim, names[n], fn[n], arg, &a[n]))
			break;
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
}

/* What one M6 schedule cost and showed. */
struct m6_res {
	uint64_t ns[3]; /* setup, run, teardown */
	uint64_t modelled_ns;
	unsigned long steps;
	bool ok;
};

/* One schedule of M6 under @sc; false for an API error. */
static bool m6_schedule(const struct mmn_sched_config *sc, unsigned long rounds,
			struct m6_res *res)
{
	struct mmn_sim_config cfg;
	struct mmn_iommu_config icfg;
	struct mmn_sched_result sr;
	struct m6 x = { .rounds = rounds };
	unsigned long got;
	uint64_t t0 = bench_now_ns(), t1, t2;
	int err;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096;
	x.sim = mmn_sim_create(&cfg);
	if (!x.sim) {
		fail("M6 mmn_sim_create", -ENOMEM);
		return false;
	}
	mmn_check_set_handler(x.sim, m6_silent, NULL);
	x.mm = mmn_mm_create(x.sim);
	mmn_iommu_config_init(&icfg);
	x.io = x.mm ? mmn_iommu_create(x.sim, &icfg) : NULL;
	err = x.io ? mmn_iommu_bind(x.io, x.mm, &x.pasid) : -ENOMEM;
	if (!err)
		err = mmn_mmap(x.mm, BASE, M6_PAGES * PG, RW, ANONF, &got);
	for (unsigned long i = 0; !err && i < M6_PAGES; i++) {
		uint64_t v;

		err = mmn_cpu_write(x.mm, 0, BASE + i * PG, 0xda7a0000 + i);
		if (!err)
			err = mmn_iommu_dma_read(x.io, x.pasid, BASE + i * PG, &v);
	}
	t1 = bench_now_ns();
	if (!err)
		err = mmn_sched_run(x.sim, sc, m6_body, &x, &sr);
	t2 = bench_now_ns();
	if (err) {
		fail("M6 setup or mmn_sched_run", err);
	} else {
		(void)mmn_check_quiescent(x.sim);
		res->modelled_ns = mmn_clock_now(x.sim);
		res->steps = sr.steps;
		res->ok = sr.outcome == MMN_OUTCOME_OK && x.done == 6 &&
			  mmn_check_total(x.sim) == 0;
		if (!res->ok && !failed) {
			fprintf(stderr,
				"%s: M6 seed %llu: outcome %d, %lu of 6 actors done, %lu violations\n",
				PROG, (unsigned long long)sc->seed, (int)sr.outcome, x.done,
				mmn_check_total(x.sim));
			failed = true;
		}
	}
	if (x.io)
		mmn_iommu_destroy(x.io);
	if (x.mm)
		mmn_mm_put(x.mm);
	mmn_sim_destroy(x.sim);
	res->ns[0] = t1 - t0;
	res->ns[1] = t2 - t1;
	res->ns[2] = bench_now_ns() - t2;
	return !err;
}

/* PCT's k for M6, measured as mmn_scenario_explore() does: the step count
 * of the non-preemptive schedule. */
static unsigned long m6_pct_steps(unsigned long rounds)
{
	struct mmn_sched_config sc;
	struct m6_res res;

	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.trace = false;
	if (!m6_schedule(&sc, rounds, &res))
		return 1000;
	return res.steps ? res.steps : 1;
}

/* -n schedules of M6, seeds @seed0.. */
static void m6_repeat(struct row *r, unsigned int rep, unsigned long n, bool pct,
		      unsigned long pct_steps, uint64_t seed0, struct mmn_sched_pool *pool)
{
	struct mmn_sched_config sc;
	struct usage t0, d;
	uint64_t part[3] = { 0, 0, 0 }, modelled = 0, steps = 0;

	mmn_sched_config_init(&sc);
	sc.strategy = pct ? MMN_STRATEGY_PCT : MMN_STRATEGY_RANDOM;
	sc.pct_depth = 3; /* mmn_explore_config's default */
	sc.pct_steps = pct_steps;
	sc.trace = false;
	sc.pool = pool;
	usage_now(&t0);
	for (unsigned long i = 0; i < n; i++) {
		struct m6_res res;

		sc.seed = seed0 + i;
		if (!m6_schedule(&sc, M6_ROUNDS, &res))
			break;
		for (int k = 0; k < 3; k++)
			part[k] += res.ns[k];
		modelled += res.modelled_ns;
		steps += res.steps;
	}
	usage_since(&t0, &d);
	row_add(r, rep, n, &d);
	r->modelled[rep] = (double)modelled / n / 1000;
	r->steps[rep] = (double)steps / n;
	for (int k = 0; k < 3; k++)
		r->part[k][rep] = (double)part[k] / n / 1000;
}

/* ------------------------------------------------------------------ */
/* 1. rate                                                             */
/* ------------------------------------------------------------------ */

static void s1_repeat(struct row *r, unsigned int rep, unsigned long n, bool pct,
		      uint64_t seed0)
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	struct usage t0, d;
	int err;

	mmn_explore_config_init(&c);
	c.strategy = pct ? MMN_EXPLORE_PCT : MMN_EXPLORE_RANDOM;
	c.runs = n;
	c.seed = seed0;
	c.trace = false; /* only violating schedules are traced (none here) */
	usage_now(&t0);
	err = mmn_scenario_explore("S1", NULL, &c, &st);
	usage_since(&t0, &d);
	if (err) {
		fail("mmn_scenario_explore(S1)", err);
		return;
	}
	if (st.violating || st.schedules != n) {
		fprintf(stderr, "%s: S1 right: %lu violating of %lu schedules\n", PROG,
			st.violating, st.schedules);
		failed = true;
	}
	/* PCT's extra measuring run is in the time, not in the count (as the
	 * CLI reports it). */
	row_add(r, rep, n, &d);
	r->modelled[rep] = st.schedules ? (double)st.modelled_ns / st.schedules / 1000 : 0;
	r->steps[rep] = st.schedules ? (double)st.steps / st.schedules : 0;
}

static void bench_rate(const struct bench_args *a)
{
	static struct row rows[5] = {
		{ .name = "S1 random" }, { .name = "S1 pct" },		{ .name = "M6 random" },
		{ .name = "M6 pct" },	 { .name = "M6 pct nopool" },
	};
	static const char *const scn[5] = { "S1", "S1", "M6", "M6", "M6" };
	static const char *const strat[5] = { "random", "pct", "random", "pct", "pct" };
	static const int pooled[5] = { 1, 1, 1, 1, 0 };
	unsigned long n = a->iterations;
	unsigned long k6 = m6_pct_steps(M6_ROUNDS);
	struct mmn_sched_pool *pool = mmn_sched_pool_create();
	double med[5][5], part[3][3];
	FILE *data;

	if (!pool) {
		fail("mmn_sched_pool_create", -ENOMEM);
		return;
	}
	for (unsigned int rep = 0; rep < a->repeats; rep++) {
		uint64_t seed0 = 1 + (uint64_t)rep * n;

		s1_repeat(&rows[0], rep, n, false, seed0);
		s1_repeat(&rows[1], rep, n, true, seed0);
		m6_repeat(&rows[2], rep, n, false, k6, seed0, pool);
		m6_repeat(&rows[3], rep, n, true, k6, seed0, pool);
		m6_repeat(&rows[4], rep, n, true, k6, seed0, NULL);
	}
	mmn_sched_pool_destroy(pool);
	bench_printf(a, "\n1. rate: %lu schedules per repeat, medians of %u (right setting)\n", n,
		     a->repeats);
	bench_printf(a, "%-14s %12s %12s %14s %10s %9s %10s\n", "scenario", "schedules/s",
		     "real us/sch", "modelled us/sch", "steps/sch", "cpu/real", "csw/sch");
	for (int i = 0; i < 5; i++) {
		struct row *r = &rows[i];

		med[i][0] = bench_median(r->rate, a->repeats);
		med[i][1] = bench_median(r->modelled, a->repeats);
		med[i][2] = bench_median(r->steps, a->repeats);
		med[i][3] = bench_median(r->util, a->repeats);
		med[i][4] = bench_median(r->csw, a->repeats);
		bench_printf(a, "%-14s %12.0f %12.1f %14.1f %10.1f %9.2f %10.1f\n", r->name,
			     med[i][0], 1e6 / med[i][0], med[i][1], med[i][2], med[i][3],
			     med[i][4]);
	}
	for (int i = 0; i < 3; i++)
		for (int k = 0; k < 3; k++)
			part[i][k] = bench_median(rows[2 + i].part[k], a->repeats);
	bench_printf(a, "M6 split, us per schedule (medians): setup / mmn_sched_run / teardown\n");
	for (int i = 0; i < 3; i++)
		bench_printf(a, "  %-13s %8.1f %8.1f %8.1f\n", rows[2 + i].name, part[i][0],
			     part[i][1], part[i][2]);
	bench_printf(a,
		     "target: S1 >= %.0f schedules/s on one core (here %d allowed CPU(s)): "
		     "%s (pct %.0f, random %.0f)\n",
		     TARGET_S1_RATE, allowed_cpus(),
		     med[1][0] >= TARGET_S1_RATE && med[0][0] >= TARGET_S1_RATE ? "met" : "NOT met",
		     med[1][0], med[0][0]);
	data = bench_data_open(a, PROG, "rate",
			       "scenario\tstrategy\tmechanism\tsched_s\treal_us\tmodelled_us\tsteps\t"
			       "cpu_real\tcsw");
	for (int i = 0; i < 5; i++) {
		char extra[128] = "";

		if (i >= 2)
			snprintf(extra, sizeof(extra),
				 " actors=6 pct_steps=%lu setup_us=%.1f run_us=%.1f teardown_us=%.1f",
				 k6, part[i - 2][0], part[i - 2][1], part[i - 2][2]);
		bench_summary(PROG,
			      "item=rate scenario=%s strategy=%s pool=%d cpus=%d schedules=%lu repeats=%u "
			      "sched_s=%.0f real_us=%.1f modelled_us=%.1f steps=%.1f cpu_real=%.2f "
			      "csw=%.1f%s",
			      scn[i], strat[i], pooled[i], allowed_cpus(), n, a->repeats, med[i][0], 1e6 / med[i][0],
			      med[i][1], med[i][2], med[i][3], med[i][4], extra);
		bench_data_row(data, "%s\t%s\t%s\t%.1f\t%.2f\t%.2f\t%.2f\t%.3f\t%.2f", scn[i],
			       strat[i], pooled[i] ? "pool" : "thread_per_actor", med[i][0],
			       1e6 / med[i][0], med[i][1], med[i][2], med[i][3], med[i][4]);
	}
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */
/* 2. cost                                                             */
/* ------------------------------------------------------------------ */

enum cost_kind { COST_CREATE, COST_EMPTY_RUN, COST_SPAWN3, COST_POINTS, COST_KINDS };

/* Rows: the four kinds without a pool, then the last three with one. */
#define COST_NR (COST_KINDS + 3)
static const char *const cost_names[COST_NR] = {
	"create+destroy",	 "+ empty run",		 "+ 3 actors, no point",
	"+ 3 x 50 points",	 "+ empty run, pool",	 "+ 3 actors, pool",
	"+ 3 x 50 points, pool",
};
static const char *const cost_keys[COST_NR] = {
	"create", "empty_run", "spawn3", "points150", "empty_run", "spawn3", "points150",
};

#define COST_POINTS_PER_ACTOR 50

struct cost_ctx {
	struct mmn_sim *sim;
	int points;
};

static void *cost_actor(void *arg)
{
	struct cost_ctx *c = arg;

	for (int i = 0; i < c->points; i++)
		mmn_sched_point(c->sim, MMN_SCHED_EXPLICIT, NULL, NULL, 0);
	return NULL;
}

static void cost_body_empty(struct mmn_sim *sim, void *arg)
{
	(void)sim;
	(void)arg;
}

static void cost_body_spawn(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *a[3];
	int n = 0;

	for (; n < 3; n++)
		if (mmn_actor_spawn(sim, NULL, cost_actor, arg, &a[n]))
			break;
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
}

static bool cost_one(enum cost_kind k, uint64_t seed, struct mmn_sched_pool *pool,
		     unsigned long *steps)
{
	struct mmn_sim_config cfg;
	struct mmn_sched_config sc;
	struct mmn_sched_result sr = { .steps = 0 };
	struct cost_ctx c = { .points = k == COST_POINTS ? COST_POINTS_PER_ACTOR : 0 };
	int err = 0;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096; /* as S1 */
	c.sim = mmn_sim_create(&cfg);
	if (!c.sim) {
		fail("mmn_sim_create", -ENOMEM);
		return false;
	}
	mmn_sched_config_init(&sc);
	sc.seed = seed;
	sc.trace = false;
	sc.pool = pool;
	if (k != COST_CREATE)
		err = mmn_sched_run(c.sim, &sc,
				    k == COST_EMPTY_RUN ? cost_body_empty : cost_body_spawn, &c,
				    &sr);
	if (err)
		fail("mmn_sched_run", err);
	*steps = sr.steps;
	mmn_sim_destroy(c.sim);
	return !err;
}

static void bench_cost(const struct bench_args *a)
{
	static struct row rows[COST_NR];
	unsigned long n = a->iterations;
	double med[COST_NR][4];
	struct mmn_sched_pool *pool = mmn_sched_pool_create();
	FILE *data;

	if (!pool) {
		fail("mmn_sched_pool_create", -ENOMEM);
		return;
	}
	for (unsigned int rep = 0; rep < a->repeats; rep++)
		for (int k = 0; k < COST_NR; k++) {
			enum cost_kind kind = k < COST_KINDS ? (enum cost_kind)k
							     : (enum cost_kind)(k - COST_KINDS + 1);
			struct usage t0, d;
			unsigned long steps = 0, s;

			usage_now(&t0);
			for (unsigned long i = 0; i < n; i++) {
				if (!cost_one(kind, 1 + i, k < COST_KINDS ? NULL : pool, &s))
					break;
				steps += s;
			}
			usage_since(&t0, &d);
			row_add(&rows[k], rep, n, &d);
			rows[k].steps[rep] = (double)steps / n;
		}
	bench_printf(a, "\n2. cost of a schedule without a scenario, %lu per repeat, medians of %u\n",
		     n, a->repeats);
	mmn_sched_pool_destroy(pool);
	bench_printf(a, "%-23s %12s %10s %10s %9s %10s\n", "what", "per second", "us each",
		     "steps", "cpu/real", "csw each");
	for (int k = 0; k < COST_NR; k++) {
		med[k][0] = bench_median(rows[k].rate, a->repeats);
		med[k][1] = bench_median(rows[k].steps, a->repeats);
		med[k][2] = bench_median(rows[k].util, a->repeats);
		med[k][3] = bench_median(rows[k].csw, a->repeats);
		bench_printf(a, "%-23s %12.0f %10.1f %10.1f %9.2f %10.1f\n", cost_names[k],
			     med[k][0], 1e6 / med[k][0], med[k][1], med[k][2], med[k][3]);
	}
	data = bench_data_open(a, PROG, "cost", "what\tpool\tper_s\tus\tsteps\tcpu_real\tcsw");
	for (int k = 0; k < COST_NR; k++) {
		bench_data_row(data, "%s\t%d\t%.1f\t%.3f\t%.2f\t%.3f\t%.2f", cost_keys[k],
			       k >= COST_KINDS, med[k][0], 1e6 / med[k][0], med[k][1], med[k][2],
			       med[k][3]);
		bench_summary(PROG,
			      "item=cost what=%s pool=%d n=%lu repeats=%u per_s=%.0f us=%.2f "
			      "steps=%.1f cpu_real=%.2f csw=%.1f",
			      cost_keys[k], k >= COST_KINDS, n, a->repeats, med[k][0], 1e6 / med[k][0], med[k][1], med[k][2],
			      med[k][3]);
	}
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */
/* 3. schedules to the first violation                                 */
/* ------------------------------------------------------------------ */

static int cmp_ulong(const void *a, const void *b)
{
	unsigned long x = *(const unsigned long *)a, y = *(const unsigned long *)b;

	return (x > y) - (x < y);
}

static void fmt_count(char *buf, size_t len, unsigned long v, unsigned long max)
{
	if (v == ULONG_MAX)
		snprintf(buf, len, ">%lu", max);
	else
		snprintf(buf, len, "%lu", v);
}

/* Median of the sorted @v[0..n), a seed that found nothing (ULONG_MAX)
 * counting as more than any count: the mean of the two middle values for
 * an even @n, as bench_median(). */
static void fmt_median(char *buf, size_t len, const unsigned long *v, unsigned int n,
		       unsigned long max)
{
	unsigned long lo = v[(n - 1) / 2], hi = v[n / 2];

	if (hi == ULONG_MAX || (lo + hi) % 2 == 0)
		fmt_count(buf, len, hi == ULONG_MAX ? hi : (lo + hi) / 2, max);
	else
		snprintf(buf, len, "%lu.5", (lo + hi) / 2);
}

/* A count of fmt_count()/fmt_median() as a number for the data file: ">M"
 * (not found by that seed) as M + 1; rewritten in @buf. */
static const char *first_str(char *buf, unsigned long max_runs)
{
	if (buf[0] == '>')
		snprintf(buf, 24, "%lu", max_runs + 1);
	return buf;
}

static void bench_first(const struct bench_args *a, const char *const *scn, int nr_scn,
			unsigned int seeds, unsigned long max_runs)
{
	static unsigned long first[BENCH_MAX_REPEATS];
	static const enum mmn_explore_strategy strats[2] = { MMN_EXPLORE_RANDOM, MMN_EXPLORE_PCT };
	/* found 0: median, min and max are empty; a seed that found nothing
	 * counts as max_runs + 1 in them */
	FILE *data = bench_data_open(a, PROG, "first",
				     "scenario\tstrategy\tseeds\tmax_runs\tfound\tmedian\tmin\tmax\t"
				     "schedules\tseconds");

	bench_printf(a,
		     "\n3. schedules to the first violation (wrong setting), %u seeds "
		     "(1 + 100000 k), at most %lu schedules each\n",
		     seeds, max_runs);
	bench_printf(a, "%-5s %-7s %6s %10s %10s %10s %10s %9s\n", "scn", "strategy", "found",
		     "median", "min", "max", "schedules", "seconds");
	for (int s = 0; s < nr_scn; s++)
		for (int t = 0; t < 2; t++) {
			const char *sname = mmn_explore_strategy_name(strats[t]);
			struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
			unsigned long total = 0, nfound = 0, med;
			uint64_t t0 = bench_now_ns();
			double secs;
			char m[24], lo[24], hi[24];
			int err = 0;

			for (unsigned int k = 0; k < seeds; k++) {
				struct mmn_explore_config c;
				struct mmn_explore_stats st;

				mmn_explore_config_init(&c);
				c.strategy = strats[t];
				c.seed = 1 + 100000ULL * k;
				c.runs = max_runs;
				c.keep_going = false;
				c.trace = false;
				err = mmn_scenario_explore(scn[s], &p, &c, &st);
				if (err)
					break;
				total += st.schedules;
				first[k] = st.violating ? st.first_index + 1 : ULONG_MAX;
				nfound += st.violating > 0;
			}
			secs = (double)(bench_now_ns() - t0) / 1e9;
			if (err) {
				bench_printf(a, "%-5s %-7s %6s %10s %10s %10s %10s %9s  (error %d)\n",
					     scn[s], sname, "n/a", "n/a", "n/a", "n/a", "n/a", "n/a",
					     err);
				bench_summary(PROG, "item=first scenario=%s strategy=%s result=n/a err=%d",
					      scn[s], sname, err);
				continue;
			}
			qsort(first, seeds, sizeof(first[0]), cmp_ulong);
			med = first[seeds / 2]; /* the upper middle value, for the target */
			fmt_median(m, sizeof(m), first, seeds, max_runs);
			fmt_count(lo, sizeof(lo), first[0], max_runs);
			fmt_count(hi, sizeof(hi), first[seeds - 1], max_runs);
			bench_printf(a, "%-5s %-7s %3lu/%-2u %10s %10s %10s %10lu %9.1f%s\n", scn[s],
				     sname, nfound, seeds, nfound ? m : "not found",
				     nfound ? lo : "-", nfound ? hi : "-", total, secs,
				     !strcmp(scn[s], "S1") && strats[t] == MMN_EXPLORE_PCT
					     ? (med <= TARGET_S1_PCT_FIRST ? "  target <= 2000: met"
									   : "  target <= 2000: NOT met")
					     : "");
			bench_summary(PROG,
				      "item=first scenario=%s strategy=%s seeds=%u max_runs=%lu "
				      "found=%lu median=%s min=%s max=%s schedules=%lu seconds=%.1f",
				      scn[s], sname, seeds, max_runs, nfound,
				      nfound ? m : "not_found", nfound ? lo : "-", nfound ? hi : "-",
				      total, secs);
			bench_data_row(data, "%s\t%s\t%u\t%lu\t%lu\t%s\t%s\t%s\t%lu\t%.2f", scn[s],
				       sname, seeds, max_runs, nfound, nfound ? first_str(m, max_runs) : "",
				       nfound ? first_str(lo, max_runs) : "",
				       nfound ? first_str(hi, max_runs) : "", total, secs);
		}
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */
/* 4. nothing found under the right settings                           */
/* ------------------------------------------------------------------ */

static bool right_progress(const struct mmn_explore_stats *st, void *arg)
{
	const char *what = arg; /* "S1 random" */

	fprintf(stderr, "%s: %s: %lu schedules, %lu violating, %.0f s\n", PROG, what, st->schedules,
		st->violating, (double)st->real_ns / 1e9);
	return true;
}

static void bench_right(const struct bench_args *a, const char *const *scn, int nr_scn,
			unsigned long runs)
{
	static const enum mmn_explore_strategy strats[2] = { MMN_EXPLORE_RANDOM, MMN_EXPLORE_PCT };
	FILE *data = bench_data_open(a, PROG, "right",
				     "scenario\tstrategy\tschedules\tviolating\tdeadlocks\tbudgets\t"
				     "sched_s\tseconds");

	bench_printf(a, "\nright settings: %lu schedules per scenario and strategy, keep going\n",
		     runs);
	bench_printf(a, "%-5s %-7s %10s %10s %10s %8s %12s %9s\n", "scn", "strategy", "schedules",
		     "violating", "deadlocks", "budgets", "schedules/s", "seconds");
	for (int s = 0; s < nr_scn; s++)
		for (int t = 0; t < 2; t++) {
			const char *sname = mmn_explore_strategy_name(strats[t]);
			struct mmn_scenario_params p = { .wrong = false, .variant = -1 };
			struct mmn_explore_config c;
			struct mmn_explore_stats st;
			char what[32];
			double secs;
			int err;

			snprintf(what, sizeof(what), "%s %s", scn[s], sname);
			mmn_explore_config_init(&c);
			c.strategy = strats[t];
			c.runs = runs;
			c.keep_going = true;
			c.trace = false;
			if (!a->quiet) {
				c.progress_every = 20000;
				c.progress = right_progress;
				c.arg = what;
			}
			err = mmn_scenario_explore(scn[s], &p, &c, &st);
			if (err) {
				bench_printf(a, "%-5s %-7s n/a (error %d)\n", scn[s], sname, err);
				bench_summary(PROG, "item=right scenario=%s strategy=%s result=n/a err=%d",
					      scn[s], sname, err);
				failed = true;
				continue;
			}
			secs = (double)st.real_ns / 1e9;
			bench_printf(a, "%-5s %-7s %10lu %10lu %10lu %8lu %12.0f %9.1f\n", scn[s],
				     sname, st.schedules, st.violating, st.deadlocks, st.budgets,
				     st.schedules / secs, secs);
			bench_summary(PROG,
				      "item=right scenario=%s strategy=%s schedules=%lu violating=%lu "
				      "deadlocks=%lu budgets=%lu sched_s=%.0f seconds=%.1f",
				      scn[s], sname, st.schedules, st.violating, st.deadlocks,
				      st.budgets, st.schedules / secs, secs);
			bench_data_row(data, "%s\t%s\t%lu\t%lu\t%lu\t%lu\t%.1f\t%.2f", scn[s], sname,
				       st.schedules, st.violating, st.deadlocks, st.budgets,
				       st.schedules / secs, secs);
			if (st.violating)
				failed = true;
		}
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */

struct opts {
	unsigned int items; /* bit per item */
	unsigned int seeds;
	unsigned long max_runs;
	unsigned long right_runs;
	const char *scn[MAX_SCN];
	int nr_scn;
	char scn_buf[64];
};

static int parse_opt(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;
	unsigned long v;
	char *end;

	switch (opt) {
	case 'i':
		o->items = 0;
		for (const char *p = arg; *p;) {
			v = strtoul(p, &end, 10);
			if (end == p || v < 1 || v > 3 || (*end && *end != ','))
				return -1;
			o->items |= 1u << (v - 1);
			p = *end == ',' ? end + 1 : end;
		}
		return o->items ? 0 : -1;
	case 's':
		o->seeds = (unsigned int)bench_parse_ulong(PROG, opt, arg, BENCH_MAX_REPEATS);
		return 0;
	case 'm':
		o->max_runs = bench_parse_ulong(PROG, opt, arg, 1UL << 40);
		return 0;
	case 'R':
		o->right_runs = bench_parse_ulong(PROG, opt, arg, 1UL << 40);
		return 0;
	case 'S':
		if (strlen(arg) >= sizeof(o->scn_buf))
			return -1;
		strcpy(o->scn_buf, arg);
		o->nr_scn = 0;
		for (char *tok = strtok(o->scn_buf, ","); tok; tok = strtok(NULL, ",")) {
			if (o->nr_scn == MAX_SCN || !mmn_scenario_by_id(tok))
				return -1;
			o->scn[o->nr_scn++] = tok;
		}
		return o->nr_scn ? 0 : -1;
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	static const char *const first_scn[] = { "S1", "S3", "S4", "S7" };
	static const char *const right_scn[] = { "S1", "S3", "S4", "S7", "S8" };
	struct bench_args a = { .iterations = 1000, .repeats = 5, .quiet = false };
	struct opts o = { .items = 0x7, .seeds = 20, .max_runs = 100000 };

	bench_getopt(argc, argv, &a, "i:s:m:R:S:", parse_opt, &o,
		     "[-i 1,2,3] [-s seeds] [-m max_runs] [-S S1,S3,...] [-R right_runs]",
		     "  -i L  items, comma-separated (1 rate, 2 cost, 3 first; default all);\n"
		     "        -n is the schedules per timed repeat of items 1 and 2\n"
		     "  -s N  item 3: seeds per scenario and strategy (default 20)\n"
		     "  -m N  item 3: most schedules per seed (default 100000)\n"
		     "  -S L  scenarios of item 3 (default S1,S3,S4,S7) or of -R\n"
		     "        (default S1,S3,S4,S7,S8)\n"
		     "  -R N  instead: N schedules per scenario and strategy under the right\n"
		     "        setting; any violating schedule is a failure\n");
	bench_printf(&a, "%s: -n %lu -r %u, mmnsim %s, %d allowed CPU(s)\n", PROG, a.iterations,
		     a.repeats, mmn_version_string(), allowed_cpus());
	if (o.right_runs) {
		if (o.nr_scn)
			bench_right(&a, o.scn, o.nr_scn, o.right_runs);
		else
			bench_right(&a, right_scn, 5, o.right_runs);
	} else {
		if (o.items & 1)
			bench_rate(&a);
		if (o.items & 2)
			bench_cost(&a);
		if (o.items & 4) {
			if (o.nr_scn)
				bench_first(&a, o.scn, o.nr_scn, o.seeds, o.max_runs);
			else
				bench_first(&a, first_scn, 4, o.seeds, o.max_runs);
		}
	}
	if (failed) {
		fprintf(stderr, "%s: correctness failure (see above)\n", PROG);
		return 1;
	}
	return 0;
}
