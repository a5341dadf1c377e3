// SPDX-License-Identifier: MIT
/*
 * Native-backend stress of the notifier core, bounded in iterations (a few
 * seconds at most; run under TSan too):
 *
 * - invalidators on several actors, blockable and non-blocking, over
 *   overlapping ranges, while another actor registers and unregisters
 *   subscriptions and gets/puts shared ones, and another inserts and removes
 *   intervals and runs the read_begin/read_retry loop. At the end: the
 *   sequence is even and idle, a subscription registered throughout saw one
 *   end per start, and no violation was reported;
 * - exit_mmap racing unregister: ->release runs exactly once each time.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/stress.h"

#include "internal.h"
#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"
#include "support/capture.h"
#include "support/recorder.h"

#define PG MMN_PAGE_SIZE
#define BASE 0x40000000UL
#define SPAN 64
#define NR_INV 4
#define INV_ITERS 10000
#define CHURN_ITERS 1000

static const struct mmn_lock_class drv_class = { .name = "stress_driver_lock" };

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct recorder stable;
	atomic_int stop;
	atomic_ulong starts_ok;
	atomic_ulong retries, reads;
};

struct inv_arg {
	struct stress *st;
	int id;
};

static void *invalidator(void *arg)
{
	struct inv_arg *ia = arg;
	struct stress *st = ia->st;
	uint64_t rnd = 0x1234567ULL * (uint64_t)(ia->id + 1);

	for (int i = 0; i < INV_ITERS; i++) {
		struct mmn_notifier_range r, nested;
		unsigned long first = next_rand(&rnd) % SPAN;
		unsigned long n = 1 + next_rand(&rnd) % 8;
		bool nonblock = (next_rand(&rnd) & 3) == 0;

		mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, st->mm, BASE + first * PG,
					BASE + (first + n) * PG);
		/* As every core-mm caller: mmap_lock (or the rmap locks that
		 * mm_take_all_locks() takes) is held from start to end, so a
		 * registration cannot fall between them. */
		mmn_mmap_read_lock(st->mm);
		if (nonblock) {
			if (mmn_notifier_invalidate_range_start_nonblock(&r)) {
				mmn_mmap_read_unlock(st->mm);
				continue;
			}
		} else {
			mmn_notifier_invalidate_range_start(&r);
		}
		atomic_fetch_add(&st->starts_ok, 1);
		if ((i & 7) == 0) { /* a nested invalidation on the same actor */
			mmn_notifier_range_init(&nested, MMN_NOTIFY_UNMAP, 0, st->mm, r.start,
						r.start + PG);
			mmn_notifier_invalidate_range_start(&nested);
			atomic_fetch_add(&st->starts_ok, 1);
			mmn_notifier_invalidate_range_end(&nested);
		}
		mmn_notifier_invalidate_range_end(&r);
		mmn_mmap_read_unlock(st->mm);
	}
	return NULL;
}

static struct mmn_notifier *churn_alloc(struct mmn_mm *mm)
{
	(void)mm;
	return calloc(1, sizeof(struct mmn_notifier));
}

static void churn_free(struct mmn_notifier *sub)
{
	free(sub);
}

static int churn_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
	return 0;
}

static const struct mmn_notifier_ops churn_get_ops = {
	.invalidate_range_start = churn_start,
	.alloc_notifier = churn_alloc,
	.free_notifier = churn_free,
};

/* Registers and unregisters while the invalidators run. */
static void *registrar(void *arg)
{
	struct stress *st = arg;
	struct recorder r;

	assert_int_equal(rec_init(&r, st->sim, REC_OPS_START_END, 16), 0);
	for (int i = 0; i < CHURN_ITERS; i++) {
		struct mmn_notifier *g;

		assert_int_equal(rec_register(&r, st->mm), 0);
		g = mmn_notifier_get(&churn_get_ops, st->mm);
		assert_non_null(g);
		mmn_notifier_put(g);
		assert_int_equal(rec_unregister(&r), 0);
		rec_reset(&r); /* the log is only a sink here */
	}
	rec_fini(&r);
	return NULL;
}

/* Inserts and removes an interval and runs the driver read loop on it. */
static void *interval_user(void *arg)
{
	struct stress *st = arg;
	struct mmn_mutex lock;
	struct recorder r;
	uint64_t rnd = 99;

	mmn_mutex_init(&lock, st->sim, &drv_class, "driver_lock");
	assert_int_equal(rec_init(&r, st->sim, REC_OPS_START_END, 16), 0);
	r.interval_lock = &lock;
	for (int i = 0; i < CHURN_ITERS; i++) {
		unsigned long first = next_rand(&rnd) % SPAN;

		assert_int_equal(rec_insert_interval(&r, st->mm, BASE + first * PG, 4 * PG), 0);
		for (int k = 0; k < 4; k++) {
			unsigned long seq = mmn_interval_read_begin(&r.imn);
			bool retry;

			mmn_mutex_lock(&lock);
			retry = mmn_interval_read_retry(&r.imn, seq);
			mmn_mutex_unlock(&lock);
			atomic_fetch_add(&st->reads, 1);
			if (retry)
				atomic_fetch_add(&st->retries, 1);
		}
		assert_int_equal(rec_remove_interval(&r), 0);
		rec_reset(&r);
	}
	rec_fini(&r);
	mmn_mutex_destroy(&lock);
	return NULL;
}

static void test_invalidations_with_registration_and_interval_churn(void **state)
{
	struct stress st;
	struct capture cap;
	struct mmn_actor *inv[NR_INV], *reg, *itv;
	struct inv_arg ia[NR_INV];
	struct mmn_notifier_subscriptions *subs;
	struct mmn_sim_config cfg;

	(void)state;
	memset(&st, 0, sizeof(st));
	mmn_sim_config_init(&cfg);
	st.sim = mmn_sim_create(&cfg);
	assert_non_null(st.sim);
	capture_install(st.sim, &cap);
	st.mm = mmn_mm_create(st.sim);
	assert_non_null(st.mm);
	assert_int_equal(rec_init(&st.stable, st.sim, REC_OPS_START_END, NR_INV * INV_ITERS * 4), 0);
	assert_int_equal(rec_register(&st.stable, st.mm), 0);

	for (int i = 0; i < NR_INV; i++) {
		ia[i].st = &st;
		ia[i].id = i;
		assert_int_equal(mmn_actor_spawn(st.sim, NULL, invalidator, &ia[i], &inv[i]), 0);
	}
	assert_int_equal(mmn_actor_spawn(st.sim, "registrar", registrar, &st, &reg), 0);
	assert_int_equal(mmn_actor_spawn(st.sim, "interval", interval_user, &st, &itv), 0);
	for (int i = 0; i < NR_INV; i++)
		assert_int_equal(mmn_actor_join(inv[i], NULL), 0);
	assert_int_equal(mmn_actor_join(reg, NULL), 0);
	assert_int_equal(mmn_actor_join(itv, NULL), 0);

	subs = mmn_mm_notifier_subscriptions(st.mm);
	assert_int_equal(subs->active_invalidate_ranges, 0);
	assert_int_equal(subs->invalidate_seq & 1, 0);
	assert_null(subs->itree.root);
	assert_null(subs->deferred_list);
	assert_int_equal(rec_dropped(&st.stable), 0);
	assert_int_equal(rec_count_kind(&st.stable, REC_START), atomic_load(&st.starts_ok));
	assert_int_equal(rec_count_kind(&st.stable, REC_END), atomic_load(&st.starts_ok));
	assert_int_equal(atomic_load(&st.reads), CHURN_ITERS * 4);
	if (cap.n)
		fprintf(stderr, "last violation: %s\n", cap.last_msg);
	assert_int_equal(cap.n, 0);

	assert_int_equal(rec_unregister(&st.stable), 0);
	rec_fini(&st.stable);
	mmn_mm_put(st.mm);
	mmn_notifier_synchronize(st.sim);
	mmn_sim_destroy(st.sim);
}

struct race {
	struct recorder *r;
	struct mmn_mm *mm;
};

static void *race_unregister(void *arg)
{
	struct race *ra = arg;

	assert_int_equal(mmn_notifier_unregister(&ra->r->mn, ra->mm), 0);
	return NULL;
}

static void test_exit_racing_unregister_releases_exactly_once(void **state)
{
	struct mmn_sim *sim = mmn_sim_create(NULL);
	struct capture cap;

	(void)state;
	assert_non_null(sim);
	capture_install(sim, &cap);
	for (int i = 0; i < 200; i++) {
		struct mmn_mm *mm = mmn_mm_create(sim);
		struct recorder r;
		struct race ra = { .r = &r, .mm = mm };
		struct mmn_actor *a;

		assert_int_equal(rec_init(&r, sim, REC_OPS_START_END, 8), 0);
		assert_int_equal(rec_register(&r, mm), 0);
		mmn_mmgrab(mm); /* keep the struct for the unregistering actor */
		assert_int_equal(mmn_actor_spawn(sim, "unreg", race_unregister, &ra, &a), 0);
		mmn_mm_put(mm); /* exit_mmap → mmu_notifier_release */
		assert_int_equal(mmn_actor_join(a, NULL), 0);
		assert_int_equal(rec_count_kind(&r, REC_RELEASE), 1);
		mmn_mmdrop(mm);
		rec_fini(&r);
	}
	assert_int_equal(cap.n, 0);
	mmn_sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalidations_with_registration_and_interval_churn),
		cmocka_unit_test(test_exit_racing_unregister_releases_exactly_once),
	};

	return cmocka_run_group_tests_name("notifier_stress", tests, NULL, NULL);
}
