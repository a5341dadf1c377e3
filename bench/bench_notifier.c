// SPDX-License-Identifier: MIT
/*
 * bench_notifier: what does the notifier core cost?
 *
 * 1. dispatch   invalidate_range_start + invalidate_range_end of one page
 *               with 0, 1, 8 and 64 subscriptions, against the bare loop:
 *               one liburcu read section (urcu_memb_read_lock, inlined with
 *               _LGPL_SOURCE) around the same number of indirect calls
 *               through a linked list of ops tables (N start calls, N end
 *               calls). Lockdep off for the comparison (issue 14's
 *               targets: at most 1.2x, 2x, 2x, 1.5x at 0, 1, 8, 64
 *               subscriptions); lockdep on for information; and the inline
 *               wrappers of mmnsim/inline.h (MMN_INLINE_FAST_PATH, lockdep
 *               off), which test what the kernel's inline wrappers test and
 *               return at once when nobody listens.
 * 2. itree      one invalidation of one page against 1 .. 1,000,000
 *               inserted intervals, laid out at random over 64 GiB or in 16
 *               dense clusters, against a linear scan of the same intervals
 *               answering the same queries (ns per invalidation; the tree's
 *               curve should grow like log n, the scan's like n).
 * 3. churn      mmn_notifier_register + mmn_notifier_unregister pairs per
 *               second, alone and while a second actor dispatches
 *               start/end on the same mm in a loop (8 subscriptions).
 *
 *   bench_notifier [-n iterations] [-r repeats] [-q] [-s max_intervals] [-u churn]
 *                  [-c subs]
 *
 * -c SUBS runs only part 1's lockdep-off loops (bare_loop, mmn_loop,
 * mmn_loop_inline), -n pairs each with SUBS subscriptions, once, and prints
 * nothing but the check: for instruction counts under callgrind
 * (--toggle-collect=mmn_loop, for instance; docs/benchmarks.md).
 *
 * Defaults: -n 200000 -r 5 -s 1000000 -u 2000 (about 7 s). Part 2 runs
 * -n/4 invalidations per size and caps the linear scan's work.
 *
 * Output: tables, then one SUMMARY line per measurement. The exit status
 * reports only correctness (a violation or a wrong callback count), never a
 * missed target: the machines are shared and noisy.
 */
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <urcu/urcu-memb.h>

#define MMN_INLINE_FAST_PATH 1
#include <mmnsim/inline.h>
#include <mmnsim/mmnsim.h>

#include "harness.h"

#define PROG "bench_notifier"
#define PG 4096UL
#define ADDR 0x10000000UL

static const unsigned int nr_subs[] = { 0, 1, 8, 64 };
/* issue 14's targets for each size: mmn / bare, lockdep off */
static const double target_ratio[] = { 1.2, 2.0, 2.0, 1.5 };
#define NR_SIZES (sizeof(nr_subs) / sizeof(nr_subs[0]))
#define MAX_SUBS 64

/* ------------------------------------------------------------------ */
/* 1. dispatch                                                         */
/* ------------------------------------------------------------------ */

struct counted {
	struct mmn_notifier mn;
	unsigned long calls;
};

static __attribute__((noinline)) int c_start(struct mmn_notifier *sub,
					     const struct mmn_notifier_range *range)
{
	(void)range;
	((struct counted *)(void *)sub)->calls++;
	return 0;
}

static __attribute__((noinline)) void c_end(struct mmn_notifier *sub,
					    const struct mmn_notifier_range *range)
{
	(void)range;
	((struct counted *)(void *)sub)->calls++;
}

static const struct mmn_notifier_ops counted_ops = {
	.invalidate_range_start = c_start,
	.invalidate_range_end = c_end,
};

/* The baseline's subscriber: an ops pointer and a list link, as the core's. */
struct bare;
struct bare_ops {
	int (*start)(struct bare *b, const struct mmn_notifier_range *range);
	void (*end)(struct bare *b, const struct mmn_notifier_range *range);
};
struct bare {
	const struct bare_ops *ops;
	struct bare *next;
	unsigned long calls;
};

static __attribute__((noinline)) int b_start(struct bare *b, const struct mmn_notifier_range *r)
{
	(void)r;
	b->calls++;
	return 0;
}

static __attribute__((noinline)) void b_end(struct bare *b, const struct mmn_notifier_range *r)
{
	(void)r;
	b->calls++;
}

static const struct bare_ops bare_ops = { .start = b_start, .end = b_end };

struct dispatch_env {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct counted subs[MAX_SUBS];
	unsigned int nr;
};

static __attribute__((noinline)) uint64_t bare_loop(struct bare *head, unsigned long n)
{
	struct mmn_notifier_range range = { .start = ADDR, .end = ADDR + PG };
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < n; i++) {
		urcu_memb_read_lock();
		for (struct bare *b = __atomic_load_n(&head, __ATOMIC_ACQUIRE); b;
		     b = __atomic_load_n(&b->next, __ATOMIC_ACQUIRE))
			b->ops->start(b, &range);
		for (struct bare *b = __atomic_load_n(&head, __ATOMIC_ACQUIRE); b;
		     b = __atomic_load_n(&b->next, __ATOMIC_ACQUIRE))
			b->ops->end(b, &range);
		urcu_memb_read_unlock();
	}
	return bench_now_ns() - t0;
}

static __attribute__((noinline)) uint64_t mmn_loop(struct mmn_mm *mm, unsigned long n)
{
	struct mmn_notifier_range range;
	uint64_t t0;

	mmn_notifier_range_init(&range, MMN_NOTIFY_CLEAR, 0, mm, ADDR, ADDR + PG);
	t0 = bench_now_ns();
	for (unsigned long i = 0; i < n; i++) {
		mmn_notifier_invalidate_range_start(&range);
		mmn_notifier_invalidate_range_end(&range);
	}
	return bench_now_ns() - t0;
}

/* The same loop through the inline wrappers (the kernel's inline test). */
static __attribute__((noinline)) uint64_t mmn_loop_inline(struct mmn_mm *mm, unsigned long n)
{
	struct mmn_notifier_view v;
	struct mmn_notifier_range range;
	uint64_t t0;

	if (mmn_notifier_view_init(&v, mm))
		return 0;
	mmn_notifier_range_init(&range, MMN_NOTIFY_CLEAR, 0, mm, ADDR, ADDR + PG);
	t0 = bench_now_ns();
	for (unsigned long i = 0; i < n; i++) {
		mmn_notifier_invalidate_range_start_inline(&v, &range);
		mmn_notifier_invalidate_range_end_inline(&v, &range);
	}
	return bench_now_ns() - t0;
}

static int dispatch_env_init(struct dispatch_env *e, bool lockdep, unsigned int nr)
{
	struct mmn_sim_config cfg;

	memset(e, 0, sizeof(*e));
	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 256;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = lockdep;
	e->sim = mmn_sim_create(&cfg);
	if (!e->sim)
		return -1;
	e->mm = mmn_mm_create(e->sim);
	if (!e->mm)
		return -1;
	e->nr = nr;
	for (unsigned int i = 0; i < nr; i++) {
		e->subs[i].mn.ops = &counted_ops;
		if (mmn_notifier_register(&e->subs[i].mn, e->mm))
			return -1;
	}
	return 0;
}

/* Unregister, check every callback ran and nothing was reported. */
static int dispatch_env_fini(struct dispatch_env *e, unsigned long expect_calls)
{
	int bad = 0;

	for (unsigned int i = 0; i < e->nr; i++) {
		bad |= e->subs[i].calls != expect_calls;
		bad |= mmn_notifier_unregister(&e->subs[i].mn, e->mm) != 0;
	}
	bad |= mmn_check_total(e->sim) != 0;
	mmn_mm_put(e->mm);
	mmn_sim_destroy(e->sim);
	return bad;
}

static int bench_dispatch(const struct bench_args *a)
{
	static double s_bare[NR_SIZES][BENCH_MAX_REPEATS], s_off[NR_SIZES][BENCH_MAX_REPEATS],
		s_on[NR_SIZES][BENCH_MAX_REPEATS], s_inl[NR_SIZES][BENCH_MAX_REPEATS];
	struct dispatch_env off[NR_SIZES], on[NR_SIZES];
	struct bare bare[MAX_SUBS];
	struct bare *heads[NR_SIZES];
	unsigned long n = a->iterations;
	unsigned long warm = n / 10 + 1;
	int bad = 0;
	FILE *data;

	for (size_t k = 0; k < NR_SIZES; k++) {
		if (dispatch_env_init(&off[k], false, nr_subs[k]) ||
		    dispatch_env_init(&on[k], true, nr_subs[k])) {
			fprintf(stderr, "%s: cannot set up %u subscriptions\n", PROG, nr_subs[k]);
			return 1;
		}
	}
	memset(bare, 0, sizeof(bare));
	for (unsigned int i = 0; i < MAX_SUBS; i++) {
		bare[i].ops = &bare_ops;
		bare[i].next = i + 1 < MAX_SUBS ? &bare[i + 1] : NULL;
	}
	for (size_t k = 0; k < NR_SIZES; k++) {
		/* the last nr_subs[k] elements: a list of exactly that length */
		heads[k] = nr_subs[k] ? &bare[MAX_SUBS - nr_subs[k]] : NULL;
	}
	/*
	 * The baseline reads through liburcu directly: the sync layer
	 * registers this thread with liburcu on its first read section (a
	 * documented contract of sync.h), which the warm-up below provides.
	 */
	for (size_t k = 0; k < NR_SIZES; k++) {
		mmn_loop(off[k].mm, warm);
		mmn_loop(on[k].mm, warm);
		mmn_loop_inline(off[k].mm, warm);
	}
	for (size_t k = 0; k < NR_SIZES; k++)
		bare_loop(heads[k], warm);
	for (unsigned int r = 0; r < a->repeats; r++) {
		for (size_t k = 0; k < NR_SIZES; k++) {
			/* Alternate the order so that drift hits every side. */
			if (r & 1) {
				s_on[k][r] = (double)mmn_loop(on[k].mm, n) / (double)n;
				s_inl[k][r] = (double)mmn_loop_inline(off[k].mm, n) / (double)n;
				s_off[k][r] = (double)mmn_loop(off[k].mm, n) / (double)n;
				s_bare[k][r] = (double)bare_loop(heads[k], n) / (double)n;
			} else {
				s_bare[k][r] = (double)bare_loop(heads[k], n) / (double)n;
				s_off[k][r] = (double)mmn_loop(off[k].mm, n) / (double)n;
				s_inl[k][r] = (double)mmn_loop_inline(off[k].mm, n) / (double)n;
				s_on[k][r] = (double)mmn_loop(on[k].mm, n) / (double)n;
			}
		}
	}

	data = bench_data_open(a, PROG, "dispatch",
			       "subs\tbare_ns\tmmn_ns\tratio\tlockdep_ns\tlockdep_ratio");
	bench_printf(a, "\n1. start+end of one page: ns per pair, median of %u x %lu\n", a->repeats,
		     n);
	bench_printf(a, "%6s %10s %12s %7s %12s %7s %12s %7s %7s %s\n", "subs", "bare",
		     "mmn (off)", "ratio", "mmn (on)", "ratio", "inline", "ratio", "target",
		     "met (off/inline)");
	for (size_t k = 0; k < NR_SIZES; k++) {
		double b = bench_median(s_bare[k], a->repeats);
		double o = bench_median(s_off[k], a->repeats);
		double l = bench_median(s_on[k], a->repeats);
		double in = bench_median(s_inl[k], a->repeats);
		bool met = o / b <= target_ratio[k];
		bool inl_met = in / b <= target_ratio[k];

		bench_printf(a, "%6u %10.2f %12.2f %7.2f %12.2f %7.2f %12.2f %7.2f %7.1f %s/%s\n",
			     nr_subs[k], b, o, o / b, l, l / b, in, in / b, target_ratio[k],
			     met ? "yes" : "no", inl_met ? "yes" : "no");
		bench_summary(PROG,
			      "part=dispatch subs=%u n=%lu r=%u bare_ns=%.2f mmn_ns=%.2f ratio=%.3f "
			      "lockdep_ns=%.2f lockdep_ratio=%.3f target=%.1f met=%s inline_ns=%.2f "
			      "inline_ratio=%.3f inline_met=%s",
			      nr_subs[k], n, a->repeats, b, o, o / b, l, l / b, target_ratio[k],
			      met ? "yes" : "no", in, in / b, inl_met ? "yes" : "no");
		bench_data_row(data, "%u\t%.3f\t%.3f\t%.4f\t%.3f\t%.4f", nr_subs[k], b, o, o / b, l,
			       l / b);
	}
	bench_data_close(data, PROG);
	bench_printf(a, "target: mmn with lockdep off <= the target x the bare read section + calls\n");
	{
		/* the inline loop runs on the lockdep-off set up too */
		unsigned long calls = 2 * (warm + n * a->repeats);

		for (size_t k = 0; k < NR_SIZES; k++) {
			bad |= dispatch_env_fini(&off[k], 2 * calls);
			bad |= dispatch_env_fini(&on[k], calls);
		}
	}
	return bad;
}

/* ------------------------------------------------------------------ */
/* 2. interval tree against a linear scan                              */
/* ------------------------------------------------------------------ */

struct itv {
	struct mmn_interval_notifier in;
	unsigned long hits;
};

static bool itv_invalidate(struct mmn_interval_notifier *sub, const struct mmn_notifier_range *r,
			   unsigned long cur_seq)
{
	(void)r;
	mmn_interval_set_seq(sub, cur_seq);
	((struct itv *)(void *)sub)->hits++;
	return true;
}

static const struct mmn_interval_notifier_ops itv_ops = { .invalidate = itv_invalidate };

/* The scan's record of an interval: what a tree-less core would keep. */
struct flat {
	unsigned long start, last;
	unsigned long hits;
};

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

#define SPACE_PAGES (1UL << 24) /* 64 GiB of address space */
#define CLUSTERS 16
#define NR_QUERIES 4096

/* Lay out @nr one-page intervals; fill @q with query pages that hit them
 * (clustered) or fall anywhere (random). */
static void layout(unsigned long *pages, unsigned long nr, bool clustered, unsigned long *q)
{
	unsigned long base[CLUSTERS];
	unsigned long per = (nr + CLUSTERS - 1) / CLUSTERS;

	for (int c = 0; c < CLUSTERS; c++)
		base[c] = (SPACE_PAGES / CLUSTERS) * (unsigned long)c;
	for (unsigned long i = 0; i < nr; i++)
		pages[i] = clustered ? base[i % CLUSTERS] + i / CLUSTERS : rng() % SPACE_PAGES;
	for (int i = 0; i < NR_QUERIES; i++)
		q[i] = clustered ? base[rng() % CLUSTERS] + rng() % per : rng() % SPACE_PAGES;
}

static __attribute__((noinline)) uint64_t itree_loop(struct mmn_mm *mm, const unsigned long *q,
						     unsigned long n)
{
	struct mmn_notifier_range range;
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < n; i++) {
		unsigned long a = q[i % NR_QUERIES] * PG;

		mmn_notifier_range_init(&range, MMN_NOTIFY_CLEAR, 0, mm, a, a + PG);
		mmn_notifier_invalidate_range_start(&range);
		mmn_notifier_invalidate_range_end(&range);
	}
	return bench_now_ns() - t0;
}

static __attribute__((noinline)) uint64_t scan_loop(struct flat *f, unsigned long nr,
						    const unsigned long *q, unsigned long n)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < n; i++) {
		unsigned long start = q[i % NR_QUERIES] * PG, last = start + PG - 1;

		for (unsigned long k = 0; k < nr; k++)
			if (f[k].start <= last && f[k].last >= start)
				f[k].hits++;
	}
	return bench_now_ns() - t0;
}

static int bench_itree(const struct bench_args *a, unsigned long max_size)
{
	static const unsigned long sizes[] = { 1, 10, 100, 1000, 10000, 100000, 1000000 };
	unsigned long q[NR_QUERIES];
	int bad = 0;
	FILE *data = bench_data_open(a, PROG, "itree",
				     "layout\tintervals\ttree_ns\tscan_ns\tratio\thits_per_op");

	bench_printf(a, "\n2. one-page invalidation against N intervals: ns per start+end, "
			"median of %u\n",
		     a->repeats);
	bench_printf(a, "%-9s %8s %12s %12s %10s %8s\n", "layout", "N", "tree", "scan",
		     "scan/tree", "hits/op");
	for (int clustered = 0; clustered < 2; clustered++) {
		for (size_t si = 0; si < sizeof(sizes) / sizeof(sizes[0]); si++) {
			unsigned long nr = sizes[si];
			static double s_tree[BENCH_MAX_REPEATS], s_scan[BENCH_MAX_REPEATS];
			unsigned long n_tree = a->iterations / 4 + 1;
			unsigned long n_scan;
			unsigned long *pages;
			struct itv *itv;
			struct flat *flat;
			struct mmn_sim_config cfg;
			struct mmn_sim *sim;
			struct mmn_mm *mm;
			unsigned long fhits = 0;
			double tree, scan;

			if (nr > max_size)
				break;
			/* the scan is O(N): bound its total work */
			n_scan = 20000000UL / nr;
			if (n_scan > n_tree)
				n_scan = n_tree;
			if (n_scan < 4)
				n_scan = 4;
			pages = malloc(nr * sizeof(*pages));
			itv = calloc(nr, sizeof(*itv));
			flat = calloc(nr, sizeof(*flat));
			mmn_sim_config_init(&cfg);
			cfg.nr_frames = 256;
			cfg.nr_huge_pages = 0;
			cfg.lockdep = false;
			sim = mmn_sim_create(&cfg);
			mm = sim ? mmn_mm_create(sim) : NULL;
			if (!pages || !itv || !flat || !mm) {
				fprintf(stderr, "%s: out of memory at N=%lu\n", PROG, nr);
				return 1;
			}
			layout(pages, nr, clustered, q);
			for (unsigned long i = 0; i < nr; i++) {
				flat[i].start = pages[i] * PG;
				flat[i].last = pages[i] * PG + PG - 1;
				bad |= mmn_interval_notifier_insert(&itv[i].in, mm, pages[i] * PG,
								    PG, &itv_ops) != 0;
			}
			itree_loop(mm, q, n_tree / 10 + 1);
			for (unsigned int r = 0; r < a->repeats; r++) {
				s_tree[r] = (double)itree_loop(mm, q, n_tree) / (double)n_tree;
				s_scan[r] = (double)scan_loop(flat, nr, q, n_scan) / (double)n_scan;
			}
			tree = bench_median(s_tree, a->repeats);
			scan = bench_median(s_scan, a->repeats);
			for (unsigned long i = 0; i < nr; i++)
				fhits += flat[i].hits;
			bench_printf(a, "%-9s %8lu %12.1f %12.1f %10.1f %8.3f\n",
				     clustered ? "clustered" : "random", nr, tree, scan, scan / tree,
				     (double)fhits / (double)(n_scan * a->repeats));
			bench_summary(PROG,
				      "part=itree layout=%s intervals=%lu n=%lu r=%u tree_ns=%.1f "
				      "scan_ns=%.1f scan_n=%lu ratio=%.2f",
				      clustered ? "clustered" : "random", nr, n_tree, a->repeats, tree,
				      scan, n_scan, scan / tree);
			bench_data_row(data, "%s\t%lu\t%.2f\t%.2f\t%.3f\t%.4f",
				       clustered ? "clustered" : "random", nr, tree, scan, scan / tree,
				       (double)fhits / (double)(n_scan * a->repeats));
			for (unsigned long i = 0; i < nr; i++)
				bad |= mmn_interval_notifier_remove(&itv[i].in) != 0;
			bad |= mmn_check_total(sim) != 0;
			mmn_mm_put(mm);
			mmn_sim_destroy(sim);
			free(pages);
			free(itv);
			free(flat);
		}
	}
	bench_data_close(data, PROG);
	return bad;
}

/* ------------------------------------------------------------------ */
/* 3. register/unregister under concurrent dispatch                    */
/* ------------------------------------------------------------------ */

struct churn {
	struct mmn_mm *mm;
	struct mmn_completion ready;
	atomic_int stop;
	atomic_ulong dispatched;
};

static void *dispatcher(void *arg)
{
	struct churn *c = arg;
	struct mmn_notifier_range range;
	unsigned long n = 0;

	mmn_notifier_range_init(&range, MMN_NOTIFY_CLEAR, 0, c->mm, ADDR, ADDR + PG);
	/* One pair before the clock starts: this thread is registered with
	 * liburcu and running when the churn begins. */
	mmn_notifier_invalidate_range_start(&range);
	mmn_notifier_invalidate_range_end(&range);
	mmn_complete(&c->ready);
	/*
	 * Without mmap_lock: a reader looping on it would starve the
	 * registrations' mmap_write_lock, or be starved by them, and measure
	 * the rwsem instead of the SRCU list. A subscription registered
	 * between a start and its end then sees an end alone, which the
	 * counting subscribers here do not mind.
	 */
	while (!atomic_load_explicit(&c->stop, memory_order_relaxed)) {
		mmn_notifier_invalidate_range_start(&range);
		mmn_notifier_invalidate_range_end(&range);
		n++;
	}
	atomic_store(&c->dispatched, n);
	return NULL;
}

static uint64_t churn_loop(struct mmn_mm *mm, struct counted *sub, unsigned long n, int *bad)
{
	uint64_t t0 = bench_now_ns();

	for (unsigned long i = 0; i < n; i++) {
		*bad |= mmn_notifier_register(&sub->mn, mm) != 0;
		*bad |= mmn_notifier_unregister(&sub->mn, mm) != 0;
	}
	return bench_now_ns() - t0;
}

static int bench_churn(const struct bench_args *a, unsigned long n)
{
	static double s_alone[BENCH_MAX_REPEATS], s_busy[BENCH_MAX_REPEATS];
	struct dispatch_env e;
	struct counted sub;
	struct churn c;
	struct mmn_actor *d;
	int bad = 0;
	double alone, busy;
	uint64_t t_busy;

	if (dispatch_env_init(&e, false, 8))
		return 1;
	memset(&sub, 0, sizeof(sub));
	sub.mn.ops = &counted_ops;
	churn_loop(e.mm, &sub, n / 10 + 1, &bad);
	for (unsigned int r = 0; r < a->repeats; r++) {
		s_alone[r] = (double)churn_loop(e.mm, &sub, n, &bad) / (double)n;
		c.mm = e.mm;
		mmn_init_completion(&c.ready, e.sim, "ready");
		atomic_init(&c.stop, 0);
		atomic_init(&c.dispatched, 0);
		if (mmn_actor_spawn(e.sim, "dispatcher", dispatcher, &c, &d))
			return 1;
		mmn_wait_for_completion(&c.ready);
		t_busy = churn_loop(e.mm, &sub, n, &bad);
		atomic_store(&c.stop, 1);
		mmn_actor_join(d, NULL);
		mmn_completion_destroy(&c.ready);
		s_busy[r] = (double)t_busy / (double)n;
	}
	alone = bench_median(s_alone, a->repeats);
	busy = bench_median(s_busy, a->repeats);
	bench_printf(a, "\n3. register+unregister pairs (8 other subscriptions), median of %u x %lu\n",
		     a->repeats, n);
	bench_printf(a, "%-28s %12s %12s\n", "", "us per pair", "pairs/s");
	bench_printf(a, "%-28s %12.2f %12.0f\n", "alone", alone / 1000, 1e9 / alone);
	bench_printf(a, "%-28s %12.2f %12.0f\n", "while another actor dispatches", busy / 1000,
		     1e9 / busy);
	bench_printf(a, "(last repeat: the dispatcher did %lu start+end pairs meanwhile)\n",
		     (unsigned long)atomic_load(&c.dispatched));
	bench_summary(PROG,
		      "part=churn n=%lu r=%u alone_us=%.2f alone_per_s=%.0f busy_us=%.2f "
		      "busy_per_s=%.0f dispatched_last=%lu",
		      n, a->repeats, alone / 1000, 1e9 / alone, busy / 1000, 1e9 / busy,
		      (unsigned long)atomic_load(&c.dispatched));
	{
		FILE *data = bench_data_open(a, PROG, "churn", "case\tus_per_pair\tpairs_per_s");

		bench_data_row(data, "alone\t%.3f\t%.0f", alone / 1000, 1e9 / alone);
		bench_data_row(data, "busy\t%.3f\t%.0f", busy / 1000, 1e9 / busy);
		bench_data_close(data, PROG);
	}
	bad |= mmn_check_total(e.sim) != 0;
	for (unsigned int i = 0; i < e.nr; i++)
		bad |= mmn_notifier_unregister(&e.subs[i].mn, e.mm) != 0;
	mmn_mm_put(e.mm);
	mmn_sim_destroy(e.sim);
	return bad;
}

/* ------------------------------------------------------------------ */

struct opts {
	unsigned long max_intervals;
	unsigned long churn;
	long count_subs; /* -c: -1 unless given */
};

/* -c: each lockdep-off loop of part 1 once, for an instruction counter. */
static int count_loops(const struct bench_args *a, unsigned int nr)
{
	struct dispatch_env e;
	struct bare bare[MAX_SUBS];
	unsigned long n = a->iterations;
	int bad;

	if (nr > MAX_SUBS || dispatch_env_init(&e, false, nr)) {
		fprintf(stderr, "%s: cannot set up %u subscriptions\n", PROG, nr);
		return 1;
	}
	memset(bare, 0, sizeof(bare));
	for (unsigned int i = 0; i < MAX_SUBS; i++) {
		bare[i].ops = &bare_ops;
		bare[i].next = i + 1 < MAX_SUBS ? &bare[i + 1] : NULL;
	}
	mmn_loop(e.mm, 1); /* registers this thread with liburcu */
	bare_loop(nr ? &bare[MAX_SUBS - nr] : NULL, n);
	mmn_loop(e.mm, n);
	mmn_loop_inline(e.mm, n);
	bad = dispatch_env_fini(&e, 2 * (2 * n + 1));
	return bad;
}

static int parse(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;

	switch (opt) {
	case 's':
		o->max_intervals = bench_parse_ulong(PROG, opt, arg, 100000000UL);
		return 0;
	case 'u':
		o->churn = bench_parse_ulong(PROG, opt, arg, 100000000UL);
		return 0;
	case 'c':
		/* 0 is a size of part 1 too (bench_parse_ulong() wants >= 1) */
		o->count_subs = strcmp(arg, "0") == 0
					? 0
					: (long)bench_parse_ulong(PROG, opt, arg, MAX_SUBS);
		return 0;
	default:
		return -1;
	}
}

int main(int argc, char **argv)
{
	struct bench_args args = { .iterations = 200000, .repeats = 5 };
	struct opts o = { .count_subs = -1 };
	int bad = 0;

	bench_getopt(argc, argv, &args, "s:u:c:", parse, &o,
		     "[-s max_intervals] [-u churn] [-c subs]",
		     "  -s N  largest interval count of part 2 (default 1000000, or 5 x -n\n"
		     "        when that is smaller, so that a tiny -n stays quick)\n"
		     "  -u N  register+unregister pairs per repeat in part 3 (default 2000,\n"
		     "        or -n when that is smaller)\n"
		     "  -c N  only run part 1's lockdep-off loops once each with N\n"
		     "        subscriptions, -n pairs, no output (for callgrind)\n");
	if (o.count_subs >= 0) {
		bad = count_loops(&args, (unsigned int)o.count_subs);
		if (bad)
			fprintf(stderr, "%s: a check failed\n", PROG);
		return bad ? 1 : 0;
	}
	if (!o.max_intervals)
		o.max_intervals = args.iterations * 5 < 1000000 ? args.iterations * 5 : 1000000;
	if (!o.churn)
		o.churn = args.iterations < 2000 ? args.iterations : 2000;
	bad |= bench_dispatch(&args);
	bad |= bench_itree(&args, o.max_intervals);
	bad |= bench_churn(&args, o.churn);
	if (bad)
		fprintf(stderr, "%s: a check failed (violation or wrong callback count)\n", PROG);
	return bad ? 1 : 0;
}
