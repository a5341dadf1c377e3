// SPDX-License-Identifier: MIT
/*
 * bench_sync: what does the sync layer's native backend cost over the host
 * primitives it wraps, uncontended, on one thread?
 *
 * For each pair, nanoseconds per acquire+release, median of the repeats,
 * measured interleaved in the same run:
 *
 *   spin         mmn_spin_lock+unlock       vs pthread_mutex_lock+unlock
 *   mutex        mmn_mutex_lock+unlock      vs pthread_mutex_lock+unlock
 *   rwsem_read   mmn_down_read+up_read      vs pthread_rwlock_rdlock+unlock
 *   rwsem_write  mmn_down_write+up_write    vs pthread_rwlock_wrlock+unlock
 *   srcu         mmn_srcu_read_lock+unlock  vs urcu_memb_read_lock+unlock
 *                                              (inlined, _LGPL_SOURCE)
 *   srcu_lib     mmn_srcu_read_lock+unlock  vs urcu_memb_read_lock+unlock
 *                                              (liburcu's exported functions,
 *                                              as a non-LGPL user calls them)
 *   srcu_inline  the same with the opt-in inline fast path (mmnsim/inline.h,
 *                MMN_INLINE_FAST_PATH) vs urcu_memb_read_lock+unlock inlined
 *
 * The mmn side runs with lockdep off (the target: at most 1.2x the host
 * call) and, for information, with lockdep on (actor lookup, held-lock
 * stack, order checks). No hook is installed.
 *
 * Output: a table, then one SUMMARY line per pair. Exits non-zero only if a
 * primitive is left in the wrong state (a correctness check), never for a
 * missed target: the machines are shared and noisy.
 */
/* The srcu_inline pair; the other pairs call the library by name in
 * parentheses, which the inline path's macros do not touch. */
#define MMN_INLINE_FAST_PATH 1
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

#include <urcu/urcu-memb.h>

#include <mmnsim/mmnsim.h>

#include "harness.h"

#define PROG "bench_sync"
#define TARGET_RATIO 1.2

enum { V_RAW, V_MMN, V_LOCKDEP, V_NR };

struct objs {
	struct mmn_sim *sim;
	struct mmn_spinlock spin;
	struct mmn_mutex mutex;
	struct mmn_rwsem sem;
	struct mmn_srcu srcu;
};

/* liburcu's out-of-line read side: the exported symbols, bypassing the
 * _LGPL_SOURCE macros that map the names onto the inline versions. */
void urcu_lib_read_lock(void) __asm__("urcu_memb_read_lock");
void urcu_lib_read_unlock(void) __asm__("urcu_memb_read_unlock");

static pthread_mutex_t raw_mutex = PTHREAD_MUTEX_INITIALIZER;
static pthread_rwlock_t raw_rwlock = PTHREAD_RWLOCK_INITIALIZER;

static const struct mmn_lock_class bench_spin_class = { .name = "bench_spin" };
static const struct mmn_lock_class bench_mutex_class = { .name = "bench_mutex" };
static const struct mmn_lock_class bench_sem_class = { .name = "bench_sem" };

/* ---- timed loops, one per (pair, side); noinline keeps them comparable ---- */

#define LOOP(name, type, body)                                              \
	static __attribute__((noinline)) uint64_t name(type *o, unsigned long n) \
	{                                                                   \
		uint64_t t0 = bench_now_ns();                               \
		for (unsigned long i = 0; i < n; i++) {                     \
			body;                                               \
		}                                                           \
		return bench_now_ns() - t0;                                 \
	}

LOOP(raw_mutex_loop, pthread_mutex_t, { pthread_mutex_lock(o); pthread_mutex_unlock(o); })
LOOP(raw_rd_loop, pthread_rwlock_t, { pthread_rwlock_rdlock(o); pthread_rwlock_unlock(o); })
LOOP(raw_wr_loop, pthread_rwlock_t, { pthread_rwlock_wrlock(o); pthread_rwlock_unlock(o); })
LOOP(raw_urcu_loop, void, { (void)o; urcu_memb_read_lock(); urcu_memb_read_unlock(); })
LOOP(lib_urcu_loop, void, { (void)o; urcu_lib_read_lock(); urcu_lib_read_unlock(); })
LOOP(mmn_spin_loop, struct objs, { mmn_spin_lock(&o->spin); mmn_spin_unlock(&o->spin); })
LOOP(mmn_mutex_loop, struct objs, { mmn_mutex_lock(&o->mutex); mmn_mutex_unlock(&o->mutex); })
LOOP(mmn_rd_loop, struct objs, { mmn_down_read(&o->sem); mmn_up_read(&o->sem); })
LOOP(mmn_wr_loop, struct objs, { mmn_down_write(&o->sem); mmn_up_write(&o->sem); })
LOOP(mmn_srcu_loop, struct objs, {
	int idx = (mmn_srcu_read_lock)(&o->srcu);
	(mmn_srcu_read_unlock)(&o->srcu, idx);
})
LOOP(mmn_srcu_inline_loop, struct objs, {
	int idx = mmn_srcu_read_lock(&o->srcu);
	mmn_srcu_read_unlock(&o->srcu, idx);
})

enum pair { P_SPIN, P_MUTEX, P_RD, P_WR, P_SRCU, P_SRCU_LIB, P_SRCU_INLINE, P_NR };

static const char *const pair_names[P_NR] = { "spin", "mutex", "rwsem_read", "rwsem_write",
					      "srcu", "srcu_lib", "srcu_inline" };
static const char *const raw_names[P_NR] = { "pthread_mutex", "pthread_mutex",
					     "pthread_rwlock_rd", "pthread_rwlock_wr",
					     "urcu_memb_read", "urcu_memb_read_call",
					     "urcu_memb_read" };

static uint64_t run_one(enum pair p, int variant, struct objs *off, struct objs *on,
			unsigned long n)
{
	struct objs *o = variant == V_LOCKDEP ? on : off;

	switch (p) {
	case P_SPIN:
		return variant == V_RAW ? raw_mutex_loop(&raw_mutex, n) : mmn_spin_loop(o, n);
	case P_MUTEX:
		return variant == V_RAW ? raw_mutex_loop(&raw_mutex, n) : mmn_mutex_loop(o, n);
	case P_RD:
		return variant == V_RAW ? raw_rd_loop(&raw_rwlock, n) : mmn_rd_loop(o, n);
	case P_WR:
		return variant == V_RAW ? raw_wr_loop(&raw_rwlock, n) : mmn_wr_loop(o, n);
	case P_SRCU:
		return variant == V_RAW ? raw_urcu_loop(NULL, n) : mmn_srcu_loop(o, n);
	case P_SRCU_LIB:
		return variant == V_RAW ? lib_urcu_loop(NULL, n) : mmn_srcu_loop(o, n);
	case P_SRCU_INLINE:
		return variant == V_RAW ? raw_urcu_loop(NULL, n) : mmn_srcu_inline_loop(o, n);
	default:
		return 0;
	}
}

static int objs_init(struct objs *o, bool lockdep)
{
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = lockdep;
	o->sim = mmn_sim_create(&cfg);
	if (!o->sim)
		return -1;
	mmn_spin_lock_init(&o->spin, o->sim, &bench_spin_class, NULL);
	mmn_mutex_init(&o->mutex, o->sim, &bench_mutex_class, NULL);
	mmn_rwsem_init(&o->sem, o->sim, &bench_sem_class, NULL);
	mmn_srcu_init(&o->srcu, o->sim, "bench_srcu");
	return 0;
}

/* Everything must be free again, and no check may have fired. */
static int objs_fini(struct objs *o)
{
	int bad = mmn_spin_is_locked(&o->spin) || mmn_mutex_is_locked(&o->mutex) ||
		  mmn_rwsem_is_locked(&o->sem) || mmn_check_total(o->sim) != 0 ||
		  mmn_lockdep_depth(o->sim) != 0;

	mmn_spin_lock_destroy(&o->spin);
	mmn_mutex_destroy(&o->mutex);
	mmn_rwsem_destroy(&o->sem);
	mmn_srcu_destroy(&o->srcu);
	mmn_sim_destroy(o->sim);
	return bad;
}

int main(int argc, char **argv)
{
	struct bench_args args = { .iterations = 1000000, .repeats = 7 };
	static double samples[P_NR][V_NR][BENCH_MAX_REPEATS];
	double med[P_NR][V_NR];
	struct objs off, on;
	int bad = 0;

	bench_getopt(argc, argv, &args, "", NULL, NULL, "", "");
	if (objs_init(&off, false) || objs_init(&on, true)) {
		fprintf(stderr, "%s: cannot create a simulation\n", PROG);
		return 1;
	}
	urcu_memb_register_thread(); /* the raw baseline's reader */

	/* Warm-up (and the sync layer's own registration of this thread). */
	for (int p = 0; p < P_NR; p++)
		for (int v = 0; v < V_NR; v++)
			run_one(p, v, &off, &on, args.iterations / 10 + 1);
	for (unsigned int r = 0; r < args.repeats; r++)
		for (int p = 0; p < P_NR; p++)
			for (int v = 0; v < V_NR; v++) {
				/* Alternate the order so that drift hits both sides. */
				int vv = (r & 1) ? V_NR - 1 - v : v;

				samples[p][vv][r] = (double)run_one(p, vv, &off, &on,
								    args.iterations) /
						    (double)args.iterations;
			}
	for (int p = 0; p < P_NR; p++)
		for (int v = 0; v < V_NR; v++)
			med[p][v] = bench_median(samples[p][v], args.repeats);

	bench_printf(&args, "%s: ns per acquire+release, uncontended, median of %u x %lu\n",
		     PROG, args.repeats, args.iterations);
	bench_printf(&args, "%-12s %-18s %8s %12s %7s %12s %7s\n", "pair", "host primitive",
		     "host", "mmn (off)", "ratio", "mmn (on)", "ratio");
	for (int p = 0; p < P_NR; p++) {
		double raw = med[p][V_RAW];

		bench_printf(&args, "%-12s %-18s %8.2f %12.2f %7.2f %12.2f %7.2f%s\n",
			     pair_names[p], raw_names[p], raw, med[p][V_MMN],
			     med[p][V_MMN] / raw, med[p][V_LOCKDEP], med[p][V_LOCKDEP] / raw,
			     med[p][V_MMN] / raw <= TARGET_RATIO ? "" : "  (over target)");
	}
	bench_printf(&args, "target: mmn with lockdep off <= %.1fx the host primitive\n",
		     TARGET_RATIO);
	for (int p = 0; p < P_NR; p++) {
		double raw = med[p][V_RAW];

		bench_summary(PROG,
			      "pair=%s host=%s n=%lu r=%u host_ns=%.2f mmn_ns=%.2f ratio=%.3f "
			      "lockdep_ns=%.2f lockdep_ratio=%.3f target=%.1f met=%s",
			      pair_names[p], raw_names[p], args.iterations, args.repeats, raw,
			      med[p][V_MMN], med[p][V_MMN] / raw, med[p][V_LOCKDEP],
			      med[p][V_LOCKDEP] / raw, TARGET_RATIO,
			      med[p][V_MMN] / raw <= TARGET_RATIO ? "yes" : "no");
	}
	urcu_memb_unregister_thread();
	bad |= objs_fini(&off);
	bad |= objs_fini(&on);
	if (bad)
		fprintf(stderr, "%s: a primitive was left in the wrong state\n", PROG);
	return bad ? 1 : 0;
}
