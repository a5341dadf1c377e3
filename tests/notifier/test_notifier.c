// SPDX-License-Identifier: MIT
/*
 * The MMU-notifier core, struct mmn_notifier side: registration and its bad
 * input, unregister against callbacks in flight, get/put and the deferred
 * free, dispatch of every callback, the non-blocking start, and the checks
 * (might_sleep, non-blocking callbacks, start/end pairing, release once,
 * no callback after unregister). Each test checks one behaviour, and where
 * a check is involved, both that it fires on the wrong thing and that it
 * stays quiet on the right one.
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

#include "internal.h"
#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"
#include "support/capture.h"
#include "support/recorder.h"

#define PG MMN_PAGE_SIZE
#define A0 0x100000UL
#define A1 0x200000UL

static const struct mmn_lock_class test_ptl_class = { .name = "test_ptl",
						       .rank = MMN_RANK_PTL };
static const struct mmn_lock_class test_mutex_class = { .name = "test_driver_mutex" };

struct fixture {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	struct recorder r[3];
	int nr_rec;
	struct mmn_spinlock ptl;
	struct mmn_mutex mutex;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->sim = mmn_sim_create(NULL);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	mmn_spin_lock_init(&f->ptl, f->sim, &test_ptl_class, "ptl");
	mmn_mutex_init(&f->mutex, f->sim, &test_mutex_class, "driver_mutex");
	mmn_notifier_pairing_reset();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	for (int i = 0; i < f->nr_rec; i++) {
		if (__atomic_load_n(&f->r[i].mn.registered, __ATOMIC_RELAXED))
			assert_int_equal(rec_unregister(&f->r[i]), 0);
		rec_fini(&f->r[i]);
	}
	if (f->mm)
		mmn_mm_put(f->mm);
	mmn_spin_lock_destroy(&f->ptl);
	mmn_mutex_destroy(&f->mutex);
	mmn_notifier_pairing_reset();
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

/* A recorder of the fixture, registered on its mm unless @reg is false. */
static struct recorder *add_rec(struct fixture *f, enum rec_ops_mode mode, bool reg)
{
	struct recorder *r = &f->r[f->nr_rec++];

	assert_int_equal(rec_init(r, f->sim, mode, 64), 0);
	if (reg)
		assert_int_equal(rec_register(r, f->mm), 0);
	return r;
}

static void range_init(struct mmn_notifier_range *r, struct fixture *f, unsigned long start,
		       unsigned long end)
{
	mmn_notifier_range_init(r, MMN_NOTIFY_CLEAR, 0, f->mm, start, end);
}

static void start_end(struct fixture *f, unsigned long start, unsigned long end)
{
	struct mmn_notifier_range r;

	range_init(&r, f, start, end);
	mmn_notifier_invalidate_range_start(&r);
	mmn_notifier_invalidate_range_end(&r);
}

static unsigned long protocol(struct fixture *f)
{
	return mmn_check_count(f->sim, MMN_VIOL_PROTOCOL);
}

static unsigned long sleeps(struct fixture *f)
{
	return mmn_check_count(f->sim, MMN_VIOL_SLEEP_IN_ATOMIC);
}

static int mm_count(struct fixture *f)
{
	return atomic_load(&f->mm->mm_count);
}

/* ------------------------------------------------------------------ */
/* Registration                                                        */
/* ------------------------------------------------------------------ */

static void test_registered_notifier_receives_start_and_end_of_range(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_notifier_range range;
	int owner;
	const enum rec_kind want[] = { REC_START, REC_END };

	mmn_notifier_range_init_owner(&range, MMN_NOTIFY_MIGRATE, 0, f->mm, A0, A0 + 4 * PG,
				      &owner);
	mmn_notifier_invalidate_range_start(&range);
	mmn_notifier_invalidate_range_end(&range);

	assert_true(rec_kinds_are(r, want, 2));
	for (int i = 0; i < 2; i++) {
		const struct rec_event *e = rec_at(r, (size_t)i);

		assert_int_equal(e->start, A0);
		assert_int_equal(e->end, A0 + 4 * PG);
		assert_int_equal(e->event, MMN_NOTIFY_MIGRATE);
		assert_ptr_equal(e->owner, &owner);
		assert_int_equal(e->flags, MMN_NOTIFIER_RANGE_BLOCKABLE);
	}
	assert_int_equal(f->cap.n, 0);
}

static void test_notifier_never_registered_receives_nothing(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, false);
	struct recorder *other = add_rec(f, REC_OPS_START_END, true);

	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(rec_count(other), 2);
}

static void test_unregistered_notifier_receives_nothing_more(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);

	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count_kind(r, REC_START), 1);
	assert_int_equal(rec_unregister(r), 0);
	rec_reset(r);
	start_end(f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_clear_young(f->mm, A0, A0 + PG), 0);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_register_refuses_secondary_tlb_with_start_end(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, false);

	r->ops.arch_invalidate_secondary_tlbs = add_rec(f, REC_OPS_SECONDARY_TLB, false)
							->ops.arch_invalidate_secondary_tlbs;
	assert_int_equal(rec_register(r, f->mm), -EINVAL);
	assert_int_equal(r->mn.registered, 0);
	assert_null(mmn_mm_notifier_subscriptions(f->mm));

	/* Only the end with the TLB flush: refused too. */
	r->ops.invalidate_range_start = NULL;
	assert_int_equal(rec_register(r, f->mm), -EINVAL);
	/* The TLB flush alone is fine. */
	r->ops.invalidate_range_end = NULL;
	assert_int_equal(rec_register(r, f->mm), 0);
}

static void test_register_null_arguments_are_einval(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier bare = { 0 };
	struct recorder *r = add_rec(f, REC_OPS_START_END, false);

	assert_int_equal(mmn_notifier_register(NULL, f->mm), -EINVAL);
	assert_int_equal(mmn_notifier_register(&r->mn, NULL), -EINVAL);
	assert_int_equal(mmn_notifier_register(&bare, f->mm), -EINVAL); /* NULL ops */
	assert_int_equal(bare.registered, 0);
	assert_null(mmn_mm_notifier_subscriptions(f->mm));
	assert_int_equal(mm_count(f), 1);
}

static void test_double_register_is_ebusy_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	int count = mm_count(f);

	assert_int_equal(mmn_notifier_register(&r->mn, f->mm), -EBUSY);
	assert_int_equal(mm_count(f), count);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count_kind(r, REC_START), 1);
}

static void test_register_on_second_mm_while_registered_is_ebusy(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_mm *mm2 = mmn_mm_create(f->sim);

	assert_non_null(mm2);
	assert_int_equal(mmn_notifier_register(&r->mn, mm2), -EBUSY);
	assert_ptr_equal(r->mn.mm, f->mm);
	assert_null(mmn_mm_notifier_subscriptions(mm2));
	mmn_mm_put(mm2);
}

static void test_unregister_bad_input(void **state)
{
	struct fixture *f = *state;
	struct recorder *never = add_rec(f, REC_OPS_START_END, false);
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_mm *mm2 = mmn_mm_create(f->sim);

	assert_int_equal(mmn_notifier_unregister(NULL, f->mm), -EINVAL);
	assert_int_equal(mmn_notifier_unregister(&r->mn, NULL), -EINVAL);
	assert_int_equal(mmn_notifier_unregister(&never->mn, f->mm), -ENOENT);
	assert_int_equal(mmn_notifier_unregister(&r->mn, mm2), -EINVAL);
	/* Still registered and working after the refused calls. */
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count_kind(r, REC_START), 1);
	assert_int_equal(rec_count_kind(r, REC_RELEASE), 0);
	assert_int_equal(rec_unregister(r), 0);
	assert_int_equal(rec_unregister(r), -ENOENT);
	assert_int_equal(rec_count_kind(r, REC_RELEASE), 1);
	mmn_mm_put(mm2);
}

static void test_register_needs_mm_users(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, false);
	struct mmn_mm *mm = f->mm;

	mmn_mmgrab(mm);
	mmn_mm_put(mm); /* no users left: the address space is gone */
	f->mm = NULL;
	assert_int_equal(mmn_notifier_register(&r->mn, mm), -EINVAL);
	assert_int_equal(r->mn.registered, 0);
	mmn_mmdrop(mm);
}

static void test___register_requires_mmap_lock_held_for_write(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, false);

	r->mn.ops = &r->ops;
	assert_int_equal(__mmn_notifier_register(&r->mn, f->mm), -EINVAL);
	assert_int_equal(protocol(f), 1);
	mmn_mmap_read_lock(f->mm);
	assert_int_equal(__mmn_notifier_register(&r->mn, f->mm), -EINVAL);
	mmn_mmap_read_unlock(f->mm);
	assert_int_equal(protocol(f), 2);
	assert_int_equal(r->mn.registered, 0);

	mmn_mmap_write_lock(f->mm);
	assert_int_equal(__mmn_notifier_register(&r->mn, f->mm), 0);
	mmn_mmap_write_unlock(f->mm);
	r->mm = f->mm;
	assert_int_equal(protocol(f), 2);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count_kind(r, REC_START), 1);
}

static void test_registration_holds_mm_count_until_unregister(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, false);

	assert_int_equal(mm_count(f), 1);
	assert_int_equal(rec_register(r, f->mm), 0);
	assert_int_equal(mm_count(f), 2);
	assert_int_equal(rec_unregister(r), 0);
	assert_int_equal(mm_count(f), 1);
}

static void test_register_again_after_unregister(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);

	assert_int_equal(rec_unregister(r), 0);
	assert_int_equal(rec_register(r, f->mm), 0);
	rec_reset(r);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(r), 2);
	assert_int_equal(rec_unregister(r), 0);
	assert_int_equal(rec_count_kind(r, REC_RELEASE), 1);
	assert_int_equal(f->cap.n, 0);
}

/* ------------------------------------------------------------------ */
/* Release                                                             */
/* ------------------------------------------------------------------ */

static void test_unregister_calls_release_once(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);

	assert_int_equal(rec_unregister(r), 0);
	assert_int_equal(rec_count_kind(r, REC_RELEASE), 1);
	assert_int_equal(rec_find(r, REC_RELEASE, 0)->in_srcu, 1);
	assert_int_equal(f->cap.n, 0);
}

static void test_exit_calls_release_and_unregister_does_not_repeat_it(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_mm *mm = f->mm;

	mmn_mm_put(mm); /* last user: exit_mmap, which releases first */
	f->mm = NULL;
	assert_int_equal(rec_count_kind(r, REC_RELEASE), 1);
	assert_string_equal(rec_find(r, REC_RELEASE, 0)->context, "release");
	/* Unlinked: the struct is alive (registration holds mm_count) but
	 * further invalidations of it reach no subscriber. */
	{
		struct mmn_notifier_range range;

		mmn_notifier_range_init(&range, MMN_NOTIFY_UNMAP, 0, mm, A0, A0 + PG);
		mmn_notifier_invalidate_range_start(&range);
		mmn_notifier_invalidate_range_end(&range);
	}
	assert_int_equal(rec_count(r), 1);
	assert_int_equal(mmn_notifier_unregister(&r->mn, mm), 0); /* frees the mm */
	assert_int_equal(rec_count_kind(r, REC_RELEASE), 1);
	assert_int_equal(f->cap.n, 0);
}

/* The check behind "release exactly once" can fire: pretend a release ran. */
static void test_second_release_of_a_subscription_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);

	__atomic_store_n(&r->mn.release_calls, 1, __ATOMIC_RELAXED);
	assert_int_equal(rec_unregister(r), 0);
	assert_int_equal(protocol(f), 1);
	assert_non_null(strstr(f->cap.last_msg, "release called 2 times"));
}

/* ------------------------------------------------------------------ */
/* Unregister against callbacks in flight                              */
/* ------------------------------------------------------------------ */

struct inflight {
	struct fixture *f;
	struct mmn_completion entered, go, at_sync;
	atomic_int block_start;
	atomic_int unregistered;
	atomic_int sync_seen;
};

/* Recorder hook: the first start blocks until the test says go. */
static void inflight_hook(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct inflight *in = arg;

	(void)r;
	if (e->kind != REC_START || !atomic_exchange(&in->block_start, 0))
		return;
	mmn_complete(&in->entered);
	mmn_wait_for_completion(&in->go);
}

/* Scheduling hook: the unregistering actor is about to wait for readers. */
static void inflight_sched(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct inflight *in = arg;

	(void)sim;
	if (ev->kind == MMN_SCHED_SRCU_SYNC && !strcmp(mmn_actor_name(ev->actor), "unreg") &&
	    !atomic_exchange(&in->sync_seen, 1))
		mmn_complete(&in->at_sync);
}

static void *inflight_invalidator(void *arg)
{
	struct inflight *in = arg;

	start_end(in->f, A0, A0 + PG);
	return NULL;
}

static void *inflight_unregister(void *arg)
{
	struct inflight *in = arg;

	assert_int_equal(rec_unregister(&in->f->r[0]), 0);
	atomic_store(&in->unregistered, 1);
	/* An unregister that wrongly did not wait fails the test, not hangs it. */
	if (!atomic_exchange(&in->sync_seen, 1))
		mmn_complete(&in->at_sync);
	return NULL;
}

static void test_unregister_waits_for_inflight_callback(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_actor *inv, *unreg;
	struct inflight in = { .f = f };
	int early;

	mmn_init_completion(&in.entered, f->sim, "entered");
	mmn_init_completion(&in.go, f->sim, "go");
	mmn_init_completion(&in.at_sync, f->sim, "at_sync");
	atomic_store(&in.block_start, 1);
	r->hook = inflight_hook;
	r->hook_arg = &in;

	assert_int_equal(mmn_actor_spawn(f->sim, "inv", inflight_invalidator, &in, &inv), 0);
	mmn_wait_for_completion(&in.entered); /* the callback is mid-flight */
	mmn_sched_set_hook(f->sim, inflight_sched, &in);
	assert_int_equal(mmn_actor_spawn(f->sim, "unreg", inflight_unregister, &in, &unreg), 0);
	mmn_wait_for_completion(&in.at_sync); /* unlinked, now waiting for readers */
	early = atomic_load(&in.unregistered);
	mmn_complete(&in.go);
	assert_int_equal(mmn_actor_join(inv, NULL), 0);
	assert_int_equal(mmn_actor_join(unreg, NULL), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	r->hook = NULL;
	assert_int_equal(early, 0);
	assert_int_equal(atomic_load(&in.unregistered), 1);

	/* The in-flight start completed; nothing reached it afterwards. */
	assert_int_equal(rec_count_kind(r, REC_START), 1);
	assert_int_equal(rec_count_kind(r, REC_END), 0);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count_kind(r, REC_START), 1);
	assert_int_equal(f->cap.n, 0);
	mmn_completion_destroy(&in.entered);
	mmn_completion_destroy(&in.go);
	mmn_completion_destroy(&in.at_sync);
}

/*
 * exit_mmap and unregister both want to call ->release; whoever comes first
 * does, the other waits for it in synchronize_srcu():
 *
 *   exit actor                          unreg actor
 *   mn_hlist_release: read lock
 *     claims r, ->release(r) ...
 *                                       unregister: r still listed,
 *                                         claim fails: no ->release
 *                                         unlink r, synchronize_srcu
 *                                         ... waits for exit's reader
 *     ... returns; unlink all; unlock
 *                                         returns
 */
struct release_race {
	struct mmn_mm *mm;
	struct recorder *r;
	struct mmn_completion entered, go, at_sync;
	atomic_int block;
	atomic_int sync_seen;
	atomic_int waiter_done;
	const char *waiter; /* name of the actor expected to wait */
};

static void release_block_hook(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct release_race *rr = arg;

	(void)r;
	if (e->kind != REC_RELEASE || !atomic_exchange(&rr->block, 0))
		return;
	mmn_complete(&rr->entered);
	mmn_wait_for_completion(&rr->go);
}

static void release_race_sched(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct release_race *rr = arg;

	(void)sim;
	if (ev->kind == MMN_SCHED_SRCU_SYNC && !strcmp(mmn_actor_name(ev->actor), rr->waiter) &&
	    !atomic_exchange(&rr->sync_seen, 1))
		mmn_complete(&rr->at_sync);
}

static void release_race_waiter_done(struct release_race *rr, const char *me)
{
	if (strcmp(me, rr->waiter))
		return;
	atomic_store(&rr->waiter_done, 1);
	if (!atomic_exchange(&rr->sync_seen, 1))
		mmn_complete(&rr->at_sync);
}

static void *race_exit(void *arg)
{
	struct release_race *rr = arg;

	mmn_mm_put(rr->mm);
	release_race_waiter_done(rr, "exit");
	return NULL;
}

static void *race_unreg(void *arg)
{
	struct release_race *rr = arg;

	assert_int_equal(mmn_notifier_unregister(&rr->r->mn, rr->mm), 0);
	release_race_waiter_done(rr, "unreg");
	return NULL;
}

/* @first runs into the blocked ->release; @second must wait for it. */
static void release_race_run(struct fixture *f, void *(*first)(void *), const char *first_name,
			     void *(*second)(void *), const char *second_name)
{
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct release_race rr = { .mm = f->mm, .r = r, .waiter = second_name };
	struct mmn_actor *a1, *a2;
	int early;

	f->mm = NULL; /* the race drops the mm */
	mmn_init_completion(&rr.entered, f->sim, "entered");
	mmn_init_completion(&rr.go, f->sim, "go");
	mmn_init_completion(&rr.at_sync, f->sim, "at_sync");
	atomic_store(&rr.block, 1);
	r->hook = release_block_hook;
	r->hook_arg = &rr;
	assert_int_equal(mmn_actor_spawn(f->sim, first_name, first, &rr, &a1), 0);
	mmn_wait_for_completion(&rr.entered);
	mmn_sched_set_hook(f->sim, release_race_sched, &rr);
	assert_int_equal(mmn_actor_spawn(f->sim, second_name, second, &rr, &a2), 0);
	mmn_wait_for_completion(&rr.at_sync);
	early = atomic_load(&rr.waiter_done);
	mmn_complete(&rr.go);
	assert_int_equal(mmn_actor_join(a1, NULL), 0);
	assert_int_equal(mmn_actor_join(a2, NULL), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	r->hook = NULL;
	assert_int_equal(early, 0);
	assert_int_equal(rec_count_kind(r, REC_RELEASE), 1);
	assert_int_equal(f->cap.n, 0);
	mmn_completion_destroy(&rr.entered);
	mmn_completion_destroy(&rr.go);
	mmn_completion_destroy(&rr.at_sync);
}

static void test_unregister_during_exit_release_waits_and_does_not_release_again(void **state)
{
	release_race_run(*state, race_exit, "exit", race_unreg, "unreg");
}

static void test_exit_during_unregister_release_waits_and_does_not_release_again(void **state)
{
	release_race_run(*state, race_unreg, "unreg", race_exit, "exit");
}

/* The "dead" check can fire: force the flag on a live subscription. */
static void test_callback_on_dead_subscription_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);

	start_end(f, A0, A0 + PG);
	assert_int_equal(protocol(f), 0);
	__atomic_store_n(&r->mn.dead, 1, __ATOMIC_RELAXED);
	start_end(f, A0, A0 + PG);
	assert_int_equal(protocol(f), 2); /* start and end */
	assert_non_null(strstr(f->cap.last_msg, "after mmn_notifier_unregister"));
	__atomic_store_n(&r->mn.dead, 0, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* get / put                                                           */
/* ------------------------------------------------------------------ */

struct gp_sub {
	struct mmn_notifier mn;
	int starts;
};

static atomic_int gp_allocs, gp_frees, gp_releases;
static bool gp_fail_alloc;

static struct mmn_notifier *gp_alloc(struct mmn_mm *mm)
{
	struct gp_sub *s;

	(void)mm;
	if (gp_fail_alloc)
		return NULL;
	s = malloc(sizeof(*s));
	memset(s, 0xa5, sizeof(*s)); /* the core must not trust these bytes */
	s->starts = 0;
	atomic_fetch_add(&gp_allocs, 1);
	return &s->mn;
}

static void gp_free(struct mmn_notifier *sub)
{
	atomic_fetch_add(&gp_frees, 1);
	free(mmn_container_of(sub, struct gp_sub, mn));
}

static int gp_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)range;
	mmn_container_of(sub, struct gp_sub, mn)->starts++;
	return 0;
}

static void gp_release(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	(void)sub;
	(void)mm;
	atomic_fetch_add(&gp_releases, 1);
}

static const struct mmn_notifier_ops gp_ops = {
	.release = gp_release,
	.invalidate_range_start = gp_start,
	.alloc_notifier = gp_alloc,
	.free_notifier = gp_free,
};
static const struct mmn_notifier_ops gp_ops2 = {
	.invalidate_range_start = gp_start,
	.alloc_notifier = gp_alloc,
	.free_notifier = gp_free,
};

static int gp_setup(void **state)
{
	atomic_store(&gp_allocs, 0);
	atomic_store(&gp_frees, 0);
	atomic_store(&gp_releases, 0);
	gp_fail_alloc = false;
	return setup(state);
}

static void test_get_shares_one_subscription_per_mm_and_ops(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier *a = mmn_notifier_get(&gp_ops, f->mm);
	struct mmn_notifier *b = mmn_notifier_get(&gp_ops, f->mm);
	struct mmn_notifier *c = mmn_notifier_get(&gp_ops2, f->mm);

	assert_non_null(a);
	assert_ptr_equal(a, b);
	assert_non_null(c);
	assert_ptr_not_equal(a, c);
	assert_int_equal(atomic_load(&gp_allocs), 2);
	assert_int_equal(a->users, 2);
	start_end(f, A0, A0 + PG);
	assert_int_equal(mmn_container_of(a, struct gp_sub, mn)->starts, 1);
	mmn_notifier_put(a);
	mmn_notifier_put(b);
	mmn_notifier_put(c);
	mmn_notifier_synchronize(f->sim);
	assert_int_equal(atomic_load(&gp_frees), 2);
	assert_int_equal(f->cap.n, 0);
}

static void test_last_put_frees_without_release_and_drops_mm_count(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier *a = mmn_notifier_get(&gp_ops, f->mm);

	assert_non_null(mmn_notifier_get(&gp_ops, f->mm));
	assert_int_equal(mm_count(f), 2);
	mmn_notifier_put(a);
	mmn_notifier_synchronize(f->sim);
	assert_int_equal(atomic_load(&gp_frees), 0); /* one reference left */
	mmn_notifier_put(a);
	mmn_notifier_synchronize(f->sim);
	assert_int_equal(atomic_load(&gp_frees), 1);
	assert_int_equal(atomic_load(&gp_releases), 0);
	assert_int_equal(mm_count(f), 1);
}

struct reader {
	struct mmn_sim *sim;
	struct mmn_completion in_section, go;
};

static void *srcu_reader(void *arg)
{
	struct reader *rd = arg;
	int idx = mmn_srcu_read_lock(&rd->sim->notifier_srcu);

	mmn_complete(&rd->in_section);
	mmn_wait_for_completion(&rd->go);
	mmn_srcu_read_unlock(&rd->sim->notifier_srcu, idx);
	return NULL;
}

/*
 *   reader                       main
 *   srcu_read_lock
 *                                put (last): unlink, call_srcu(free)
 *                                frees == 0   (grace period blocked)
 *   srcu_read_unlock
 *                                mmn_notifier_synchronize()
 *                                frees == 1
 */
static void test_free_waits_for_readers_and_synchronize_waits_for_free(void **state)
{
	struct fixture *f = *state;
	struct reader rd = { .sim = f->sim };
	struct mmn_actor *a;
	struct mmn_notifier *sub = mmn_notifier_get(&gp_ops, f->mm);

	assert_non_null(sub);
	mmn_init_completion(&rd.in_section, f->sim, "in_section");
	mmn_init_completion(&rd.go, f->sim, "go");
	assert_int_equal(mmn_actor_spawn(f->sim, "reader", srcu_reader, &rd, &a), 0);
	mmn_wait_for_completion(&rd.in_section);
	mmn_notifier_put(sub);
	assert_int_equal(atomic_load(&gp_frees), 0);
	mmn_complete(&rd.go);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	mmn_notifier_synchronize(f->sim);
	assert_int_equal(atomic_load(&gp_frees), 1);
	mmn_completion_destroy(&rd.in_section);
	mmn_completion_destroy(&rd.go);
}

static void test_get_bad_input(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_ops no_alloc = { .free_notifier = gp_free };

	errno = 0;
	assert_null(mmn_notifier_get(NULL, f->mm));
	assert_int_equal(errno, EINVAL);
	assert_null(mmn_notifier_get(&gp_ops, NULL));
	assert_int_equal(errno, EINVAL);
	assert_null(mmn_notifier_get(&no_alloc, f->mm));
	assert_int_equal(errno, EINVAL);
	gp_fail_alloc = true;
	assert_null(mmn_notifier_get(&gp_ops, f->mm));
	assert_int_equal(errno, ENOMEM);
	assert_null(mmn_mm_notifier_subscriptions(f->mm));
	assert_int_equal(mm_count(f), 1);
}

static void test_get_reference_overflow_is_eoverflow(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier *sub = mmn_notifier_get(&gp_ops, f->mm);

	sub->users = UINT_MAX;
	assert_null(mmn_notifier_get(&gp_ops, f->mm));
	assert_int_equal(errno, EOVERFLOW);
	assert_int_equal(sub->users, UINT_MAX);
	sub->users = 1;
	mmn_notifier_put(sub);
}

static void test_get_locked_requires_mmap_write_lock(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier *sub;

	assert_null(mmn_notifier_get_locked(&gp_ops, f->mm));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(protocol(f), 1);
	mmn_mmap_write_lock(f->mm);
	sub = mmn_notifier_get_locked(&gp_ops, f->mm);
	mmn_mmap_write_unlock(f->mm);
	assert_non_null(sub);
	assert_int_equal(protocol(f), 1);
	mmn_notifier_put(sub);
}

static void test_put_without_reference_is_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier *sub = mmn_notifier_get(&gp_ops, f->mm);
	struct recorder *plain = add_rec(f, REC_OPS_START_END, true);
	struct mmn_notifier never = { 0 };

	mmn_notifier_put(&never); /* never registered: a no-op */
	assert_int_equal(f->cap.n, 0);

	sub->users = 0;
	mmn_notifier_put(sub);
	assert_int_equal(protocol(f), 1);
	/* A plain registration has no free_notifier to put it with. */
	mmn_notifier_put(&plain->mn);
	assert_int_equal(protocol(f), 2);
	assert_int_equal(plain->mn.registered, 1);

	sub->users = 1;
	mmn_notifier_put(sub);
	mmn_notifier_synchronize(f->sim);
	assert_int_equal(atomic_load(&gp_frees), 1);
}

/* ------------------------------------------------------------------ */
/* Dispatch                                                            */
/* ------------------------------------------------------------------ */

static void test_nonblock_start_clears_blockable(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_notifier_range range;

	mmn_notifier_range_init(&range, MMN_NOTIFY_UNMAP, MMN_NOTIFIER_RANGE_BLOCKABLE, f->mm, A0,
				A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), 0);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(rec_find(r, REC_START, 0)->flags, 0);
	assert_int_equal(rec_find(r, REC_END, 0)->flags, 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_every_list_walk_is_inside_the_srcu_read_section(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_LEGACY, true);
	struct mmn_notifier_range range;

	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	__mmn_notifier_invalidate_range_end(&range, true, false);
	mmn_notifier_clear_flush_young(f->mm, A0, A0 + PG);
	mmn_notifier_clear_young(f->mm, A0, A0 + PG);
	mmn_notifier_test_young(f->mm, A0);
	mmn_notifier_invalidate_page(f->mm, A0);
	mmn_notifier_invalidate_range(f->mm, A0, A0 + PG);
	mmn_notifier_change_pte(f->mm, A0, 0);
	assert_int_equal(rec_count(r), 9);
	for (size_t i = 0; i < rec_count(r); i++)
		assert_int_equal(rec_at(r, i)->in_srcu, 1);
	/* ... and outside a walk the actor is not in one. */
	assert_int_equal(mmn_srcu_read_lock_held(&f->sim->notifier_srcu), 0);
}

static void test_nonblock_refusal_calls_everyone_and_ends_the_others(void **state)
{
	struct fixture *f = *state;
	struct recorder *b = add_rec(f, REC_OPS_START_END, true);
	struct recorder *a = add_rec(f, REC_OPS_START_ONLY, true); /* may fail */
	struct recorder *c = add_rec(f, REC_OPS_START_END, true);
	struct mmn_notifier_range range;

	a->start_ret = -EAGAIN;
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
	/* the list is c, a, b: the refusal in the middle stops nobody */
	assert_int_equal(rec_count_kind(a, REC_START), 1);
	assert_int_equal(rec_count_kind(b, REC_START), 1);
	assert_int_equal(rec_count_kind(c, REC_START), 1);
	assert_int_equal(rec_count_kind(b, REC_END), 1);
	assert_int_equal(rec_count_kind(c, REC_END), 1);
	assert_int_equal(rec_find(c, REC_END, 0)->flags, 0);
	assert_string_equal(rec_find(c, REC_END, 0)->context, "invalidate_range_end");
	/* The caller must not call end: nothing is outstanding. */
	assert_int_equal(mmn_notifier_pairing_depth(), 0);
	assert_int_equal(f->cap.n, 0);
}

/*
 * 5.2 mm/mmu_notifier.c __mmu_notifier_invalidate_range_start(): every
 * start is called and the failure returned, but nobody calls the end of
 * the subscribers whose start succeeded (knob start_failure_ends_others
 * false); 5.14 and 6.19 mn_hlist_invalidate_range_start() end them.
 */
static void test_5_2_nonblock_refusal_leaves_the_others_without_end(void **state)
{
	struct fixture *f = *state;
	struct recorder *b, *a;
	struct mmn_notifier_range range;

	assert_int_equal(mmn_sim_set_knob(f->sim, "start_failure_ends_others", "false"), 0);
	b = add_rec(f, REC_OPS_START_END, true);
	a = add_rec(f, REC_OPS_START_ONLY, true);
	a->start_ret = -EAGAIN;
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
	assert_int_equal(rec_count_kind(a, REC_START), 1);
	assert_int_equal(rec_count_kind(b, REC_START), 1);
	assert_int_equal(rec_count_kind(b, REC_END), 0); /* never comes */
	assert_int_equal(mmn_notifier_pairing_depth(), 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_nonblock_success_needs_the_end(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_notifier_range range;

	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), 0);
	assert_int_equal(mmn_notifier_pairing_depth(), 1);
	assert_int_equal(rec_count_kind(r, REC_END), 0);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(rec_count_kind(r, REC_END), 1);
	assert_int_equal(f->cap.n, 0);
}

static void test_blockable_start_failure_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *a = add_rec(f, REC_OPS_START_ONLY, true);
	struct mmn_notifier_range range;

	a->start_ret = -EAGAIN;
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
	assert_int_equal(protocol(f), 0); /* allowed when non-blockable */
	mmn_notifier_invalidate_range_start(&range);
	assert_int_equal(protocol(f), 1);
	assert_non_null(strstr(f->cap.last_msg, "in a blockable range"));
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(protocol(f), 1);
}

static void test_failing_start_of_subscriber_with_end_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_notifier_range range;

	r->start_ret = -EAGAIN;
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
	assert_int_equal(protocol(f), 1);
	assert_non_null(strstr(f->cap.last_msg, "implements invalidate_range_end"));
	/* As the kernel does, its end is called all the same. */
	assert_int_equal(rec_count_kind(r, REC_END), 1);
}

static void test_nonblock_failure_other_than_eagain_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *a = add_rec(f, REC_OPS_START_ONLY, true);
	struct mmn_notifier_range range;

	a->start_ret = -ENOMEM;
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -ENOMEM);
	assert_int_equal(protocol(f), 1);
}

/* Recorder hook: take the driver mutex (a sleeping lock) in callbacks. */
static void take_mutex_hook(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct mmn_mutex *m = arg;

	(void)r;
	(void)e;
	mmn_mutex_lock(m);
	mmn_mutex_unlock(m);
}

static void test_sleeping_in_nonblockable_callback_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct mmn_notifier_range range;

	r->hook = take_mutex_hook;
	r->hook_arg = &f->mutex;
	start_end(f, A0, A0 + PG); /* blockable: sleeping is fine */
	assert_int_equal(sleeps(f), 0);
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), 0);
	assert_int_equal(sleeps(f), 1);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(sleeps(f), 2);
}

static void test_start_and_blockable_end_under_spinlock_are_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range range;

	add_rec(f, REC_OPS_START_END, true);
	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(sleeps(f), 0);

	mmn_spin_lock(&f->ptl);
	mmn_notifier_invalidate_range_start(&range);
	mmn_spin_unlock(&f->ptl);
	assert_int_equal(sleeps(f), 1);
	mmn_spin_lock(&f->ptl);
	mmn_notifier_invalidate_range_end(&range);
	mmn_spin_unlock(&f->ptl);
	assert_int_equal(sleeps(f), 2);
}

static void test_nonblockable_end_under_spinlock_is_legal(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range range;

	add_rec(f, REC_OPS_START_END, true);
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), 0);
	mmn_spin_lock(&f->ptl);
	mmn_notifier_invalidate_range_end(&range);
	mmn_spin_unlock(&f->ptl);
	assert_int_equal(f->cap.n, 0);
}

static void test_secondary_tlb_flush_and_young_hooks_are_legal_under_ptl(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_SECONDARY_TLB, true);
	int bit = rec_watch_lock(r, &f->ptl, "ptl");

	mmn_spin_lock(&f->ptl);
	mmn_notifier_arch_invalidate_secondary_tlbs(f->mm, A0, A0 + 2 * PG);
	mmn_notifier_clear_flush_young(f->mm, A0, A0 + PG);
	mmn_notifier_clear_young(f->mm, A0, A0 + PG);
	mmn_notifier_test_young(f->mm, A0);
	mmn_spin_unlock(&f->ptl);
	assert_int_equal(f->cap.n, 0);
	assert_int_equal(rec_count(r), 4);
	for (size_t i = 0; i < 4; i++) {
		assert_true(rec_at(r, i)->held & (1u << bit));
		assert_true(rec_at(r, i)->lock_depth >= 2); /* ptl + srcu */
	}
	assert_int_equal(rec_find(r, REC_ARCH_INVALIDATE, 0)->end, A0 + 2 * PG);
}

static void test_sleeping_in_secondary_tlb_flush_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_SECONDARY_TLB, true);

	r->hook = take_mutex_hook;
	r->hook_arg = &f->mutex;
	mmn_notifier_arch_invalidate_secondary_tlbs(f->mm, A0, A0 + PG);
	assert_int_equal(sleeps(f), 1);
	mmn_notifier_clear_young(f->mm, A0, A0 + PG);
	assert_int_equal(sleeps(f), 2);
	/* release may sleep */
	assert_int_equal(rec_unregister(r), 0);
	assert_int_equal(sleeps(f), 2);
}

static void test_young_results_are_ored_and_test_young_stops_at_first(void **state)
{
	struct fixture *f = *state;
	struct recorder *a = add_rec(f, REC_OPS_START_END, true);
	struct recorder *b = add_rec(f, REC_OPS_START_END, true); /* list: b, a */

	a->young_ret = 0;
	b->young_ret = 1;
	assert_int_equal(mmn_notifier_clear_flush_young(f->mm, A0, A0 + PG), 1);
	assert_int_equal(mmn_notifier_clear_young(f->mm, A0, A0 + PG), 1);
	assert_int_equal(rec_count_kind(a, REC_CLEAR_FLUSH_YOUNG), 1);
	assert_int_equal(rec_count_kind(a, REC_CLEAR_YOUNG), 1);
	assert_int_equal(mmn_notifier_test_young(f->mm, A0), 1);
	assert_int_equal(rec_count_kind(b, REC_TEST_YOUNG), 1);
	assert_int_equal(rec_count_kind(a, REC_TEST_YOUNG), 0); /* stopped at b */

	b->young_ret = 0;
	assert_int_equal(mmn_notifier_test_young(f->mm, A0), 0);
	assert_int_equal(rec_count_kind(a, REC_TEST_YOUNG), 1);
	assert_int_equal(mmn_notifier_clear_young(f->mm, A0, A0 + PG), 0);
}

struct points {
	atomic_int n;
	struct {
		enum mmn_sched_kind kind;
		const void *obj;
		const char *name;
		unsigned long addr;
	} p[16];
};

static void points_sched(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct points *pt = arg;
	int i;

	(void)sim;
	if (ev->kind != MMN_SCHED_CALLBACK_ENTER && ev->kind != MMN_SCHED_CALLBACK_EXIT)
		return;
	i = atomic_fetch_add(&pt->n, 1);
	if (i < 16) {
		pt->p[i].kind = ev->kind;
		pt->p[i].obj = ev->obj;
		pt->p[i].name = ev->name;
		pt->p[i].addr = ev->addr;
	}
}

/* Recorder hook: how many callback points had passed when it ran. */
static void points_seen_hook(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct points *pt = arg;

	(void)r;
	(void)e;
	assert_int_equal(atomic_load(&pt->n) % 2, 1); /* after ENTER, before EXIT */
}

static void test_every_callback_passes_enter_and_exit_points(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct points pt;

	memset(&pt, 0, sizeof(pt));
	r->hook = points_seen_hook;
	r->hook_arg = &pt;
	mmn_sched_set_hook(f->sim, points_sched, &pt);
	start_end(f, A0, A0 + PG);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	r->hook = NULL; /* @pt dies with this test; teardown's release must not see it */
	assert_int_equal(atomic_load(&pt.n), 4);
	assert_int_equal(pt.p[0].kind, MMN_SCHED_CALLBACK_ENTER);
	assert_string_equal(pt.p[0].name, "invalidate_range_start");
	assert_ptr_equal(pt.p[0].obj, &r->mn);
	assert_int_equal(pt.p[0].addr, A0);
	assert_int_equal(pt.p[1].kind, MMN_SCHED_CALLBACK_EXIT);
	assert_string_equal(pt.p[1].name, "invalidate_range_start");
	assert_int_equal(pt.p[2].kind, MMN_SCHED_CALLBACK_ENTER);
	assert_string_equal(pt.p[2].name, "invalidate_range_end");
	assert_int_equal(pt.p[3].kind, MMN_SCHED_CALLBACK_EXIT);
}

static void test_callbacks_run_with_actor_context_named_and_restored(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);

	mmn_actor_set_context(f->sim, "test-outer");
	start_end(f, A0, A0 + PG);
	mmn_notifier_clear_flush_young(f->mm, A0, A0 + PG);
	assert_string_equal(rec_find(r, REC_START, 0)->context, "invalidate_range_start");
	assert_string_equal(rec_find(r, REC_END, 0)->context, "invalidate_range_end");
	assert_string_equal(rec_find(r, REC_CLEAR_FLUSH_YOUNG, 0)->context, "clear_flush_young");
	assert_string_equal(mmn_actor_context(f->sim), "test-outer");
	mmn_actor_set_context(f->sim, NULL);
}

/* ------------------------------------------------------------------ */
/* start/end pairing                                                   */
/* ------------------------------------------------------------------ */

static void test_end_without_start_is_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range range;

	add_rec(f, REC_OPS_START_END, true);
	start_end(f, A0, A0 + PG);
	assert_int_equal(protocol(f), 0);
	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(protocol(f), 1);
	assert_non_null(strstr(f->cap.last_msg, "no matching invalidate_range_start"));
}

static void test_end_of_a_different_range_is_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range r1, r2;

	range_init(&r1, f, A0, A0 + PG);
	range_init(&r2, f, A0, A0 + 2 * PG);
	mmn_notifier_invalidate_range_start(&r1);
	mmn_notifier_invalidate_range_end(&r2);
	assert_int_equal(protocol(f), 1);
	mmn_notifier_invalidate_range_end(&r1);
	assert_int_equal(protocol(f), 1);
}

static void test_nested_pairs_may_end_in_any_order(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range r1, r2;

	add_rec(f, REC_OPS_START_END, true);
	range_init(&r1, f, A0, A0 + PG);
	range_init(&r2, f, A1, A1 + PG);
	mmn_notifier_invalidate_range_start(&r1);
	mmn_notifier_invalidate_range_start(&r2);
	assert_int_equal(mmn_notifier_pairing_depth(), 2);
	mmn_notifier_invalidate_range_end(&r1);
	mmn_notifier_invalidate_range_end(&r2);
	assert_int_equal(mmn_notifier_pairing_depth(), 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_pairing_is_checked_without_subscribers_too(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range range;

	start_end(f, A0, A0 + PG);
	assert_int_equal(protocol(f), 0);
	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(protocol(f), 1);
}

struct other_end {
	struct fixture *f;
	struct mmn_notifier_range *range;
};

static void *end_on_other_actor(void *arg)
{
	struct other_end *o = arg;

	mmn_notifier_invalidate_range_end(o->range);
	return NULL;
}

static void test_end_by_another_actor_is_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range range;
	struct other_end o = { .f = f, .range = &range };
	struct mmn_actor *a;

	add_rec(f, REC_OPS_START_END, true);
	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	assert_int_equal(mmn_actor_spawn(f->sim, "ender", end_on_other_actor, &o, &a), 0);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	assert_int_equal(protocol(f), 1);
	mmn_notifier_invalidate_range_end(&range); /* the right actor */
	assert_int_equal(protocol(f), 1);
}

/* ------------------------------------------------------------------ */
/* Historic callbacks and the end knobs                                */
/* ------------------------------------------------------------------ */

static void test_pre_6_6_end_flushes_before_invalidate_range_end(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_LEGACY, true);
	struct mmn_notifier_range range;
	const enum rec_kind legacy[] = { REC_START, REC_INVALIDATE_RANGE, REC_END };
	const enum rec_kind plain[] = { REC_START, REC_END };

	range_init(&range, f, A0, A0 + 3 * PG);
	mmn_notifier_invalidate_range_start(&range);
	__mmn_notifier_invalidate_range_end(&range, true, false);
	assert_true(rec_kinds_are(r, legacy, 3));
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 0)->end, A0 + 3 * PG);

	rec_reset(r); /* 4.15-6.5 only_end: the call site flushed already */
	mmn_notifier_invalidate_range_start(&range);
	__mmn_notifier_invalidate_range_end(&range, true, true);
	assert_true(rec_kinds_are(r, plain, 2));

	rec_reset(r); /* 6.6+: end never flushes */
	mmn_notifier_invalidate_range_start(&range);
	mmn_notifier_invalidate_range_end(&range);
	assert_true(rec_kinds_are(r, plain, 2));
	assert_int_equal(f->cap.n, 0);
}

static void test_historic_dispatch_points_call_their_callbacks(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_LEGACY, true);
	struct recorder *modern = add_rec(f, REC_OPS_START_END, true);
	const enum rec_kind want[] = { REC_INVALIDATE_PAGE, REC_INVALIDATE_RANGE, REC_CHANGE_PTE };

	mmn_notifier_invalidate_page(f->mm, A0);
	mmn_notifier_invalidate_range(f->mm, A0, A0 + 2 * PG);
	mmn_notifier_change_pte(f->mm, A0, 0x1234);
	assert_true(rec_kinds_are(r, want, 3));
	assert_int_equal(rec_at(r, 0)->start, A0);
	assert_int_equal(rec_at(r, 1)->end, A0 + 2 * PG);
	assert_int_equal(rec_at(r, 2)->pte, 0x1234);
	assert_int_equal(rec_count(modern), 0);
}

static void test_invalidate_page_may_sleep_but_invalidate_range_may_not(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_LEGACY, true);

	r->hook = take_mutex_hook;
	r->hook_arg = &f->mutex;
	mmn_notifier_invalidate_page(f->mm, A0);
	assert_int_equal(sleeps(f), 0);
	mmn_notifier_invalidate_range(f->mm, A0, A0 + PG);
	assert_int_equal(sleeps(f), 1);
	mmn_notifier_change_pte(f->mm, A0, 0);
	assert_int_equal(sleeps(f), 2);
}

/* ------------------------------------------------------------------ */
/* Teardown and helpers                                                */
/* ------------------------------------------------------------------ */

static void test_subscriptions_left_when_mm_is_freed_are_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);
	struct recorder *gone = add_rec(f, REC_OPS_START_END, true);

	assert_int_equal(rec_unregister(gone), 0);
	/* White-box: run the mmdrop-path destroy with r still listed. */
	mmn_notifier_subscriptions_destroy(f->mm);
	assert_int_equal(protocol(f), 1);
	assert_non_null(strstr(f->cap.last_msg, "still registered"));
	assert_null(mmn_mm_notifier_subscriptions(f->mm));
	/* Undo by hand what the destroyed list can no longer do. */
	__atomic_store_n(&r->mn.registered, 0, __ATOMIC_RELAXED);
	mmn_mmdrop(f->mm);
}

static void test_destroy_of_empty_subscriptions_is_quiet(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_rec(f, REC_OPS_START_END, true);

	assert_int_equal(rec_unregister(r), 0);
	mmn_notifier_subscriptions_destroy(f->mm);
	assert_int_equal(f->cap.n, 0);
}

static void test_range_update_to_read_only(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range range;
	unsigned long addr;

	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &addr),
			 0);
	mmn_mmap_read_lock(f->mm);
	mmn_notifier_range_init(&range, MMN_NOTIFY_PROTECTION_VMA, 0, f->mm, addr, addr + PG);
	/* 6.5+ ("latest" here) define no such function: false. */
	assert_false(mmn_notifier_range_update_to_read_only(&range));
	/* 5.2-6.1 define it. */
	assert_int_equal(mmn_sim_set_knob(f->sim, "range_update_to_read_only", "true"), 0);
	assert_true(mmn_notifier_range_update_to_read_only(&range));
	range.event = MMN_NOTIFY_CLEAR;
	assert_false(mmn_notifier_range_update_to_read_only(&range));
	mmn_notifier_range_init(&range, MMN_NOTIFY_PROTECTION_VMA, 0, f->mm, addr + 8 * PG,
				addr + 9 * PG);
	assert_false(mmn_notifier_range_update_to_read_only(&range));
	mmn_mmap_read_unlock(f->mm);
	assert_false(mmn_notifier_range_update_to_read_only(NULL));
}

static void test_event_names_follow_kernel_order(void **state)
{
	(void)state;
	assert_int_equal(MMN_NOTIFY_UNMAP, 0);
	assert_int_equal(MMN_NOTIFY_EXCLUSIVE, 7);
	assert_string_equal(mmn_notify_event_name(MMN_NOTIFY_UNMAP), "unmap");
	assert_string_equal(mmn_notify_event_name(MMN_NOTIFY_PROTECTION_PAGE), "protection_page");
	assert_string_equal(mmn_notify_event_name(MMN_NOTIFY_RELEASE), "release");
	assert_string_equal(mmn_notify_event_name(MMN_NOTIFY_EXCLUSIVE), "exclusive");
	assert_string_equal(mmn_notify_event_name((enum mmn_notify_event)8), "unknown");
}

static void test_null_arguments_of_void_and_query_calls_are_harmless(void **state)
{
	(void)state;
	mmn_notifier_invalidate_range_start(NULL);
	mmn_notifier_invalidate_range_end(NULL);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(NULL), -EINVAL);
	mmn_notifier_arch_invalidate_secondary_tlbs(NULL, 0, 1);
	assert_int_equal(mmn_notifier_clear_flush_young(NULL, 0, 1), 0);
	assert_int_equal(mmn_notifier_clear_young(NULL, 0, 1), 0);
	assert_int_equal(mmn_notifier_test_young(NULL, 0), 0);
	mmn_notifier_release(NULL);
	mmn_notifier_invalidate_page(NULL, 0);
	mmn_notifier_invalidate_range(NULL, 0, 1);
	mmn_notifier_change_pte(NULL, 0, 0);
	mmn_notifier_put(NULL);
	mmn_notifier_synchronize(NULL);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TGP(fn) cmocka_unit_test_setup_teardown(fn, gp_setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_registered_notifier_receives_start_and_end_of_range),
		T(test_notifier_never_registered_receives_nothing),
		T(test_unregistered_notifier_receives_nothing_more),
		T(test_register_refuses_secondary_tlb_with_start_end),
		T(test_register_null_arguments_are_einval),
		T(test_double_register_is_ebusy_and_changes_nothing),
		T(test_register_on_second_mm_while_registered_is_ebusy),
		T(test_unregister_bad_input),
		T(test_register_needs_mm_users),
		T(test___register_requires_mmap_lock_held_for_write),
		T(test_registration_holds_mm_count_until_unregister),
		T(test_register_again_after_unregister),
		T(test_unregister_calls_release_once),
		T(test_exit_calls_release_and_unregister_does_not_repeat_it),
		T(test_second_release_of_a_subscription_is_reported),
		T(test_unregister_waits_for_inflight_callback),
		T(test_unregister_during_exit_release_waits_and_does_not_release_again),
		T(test_exit_during_unregister_release_waits_and_does_not_release_again),
		T(test_callback_on_dead_subscription_is_reported),
		TGP(test_get_shares_one_subscription_per_mm_and_ops),
		TGP(test_last_put_frees_without_release_and_drops_mm_count),
		TGP(test_free_waits_for_readers_and_synchronize_waits_for_free),
		TGP(test_get_bad_input),
		TGP(test_get_reference_overflow_is_eoverflow),
		TGP(test_get_locked_requires_mmap_write_lock),
		TGP(test_put_without_reference_is_reported),
		T(test_nonblock_start_clears_blockable),
		T(test_every_list_walk_is_inside_the_srcu_read_section),
		T(test_nonblock_refusal_calls_everyone_and_ends_the_others),
		T(test_5_2_nonblock_refusal_leaves_the_others_without_end),
		T(test_nonblock_success_needs_the_end),
		T(test_blockable_start_failure_is_reported),
		T(test_failing_start_of_subscriber_with_end_is_reported),
		T(test_nonblock_failure_other_than_eagain_is_reported),
		T(test_sleeping_in_nonblockable_callback_is_reported),
		T(test_start_and_blockable_end_under_spinlock_are_reported),
		T(test_nonblockable_end_under_spinlock_is_legal),
		T(test_secondary_tlb_flush_and_young_hooks_are_legal_under_ptl),
		T(test_sleeping_in_secondary_tlb_flush_is_reported),
		T(test_young_results_are_ored_and_test_young_stops_at_first),
		T(test_every_callback_passes_enter_and_exit_points),
		T(test_callbacks_run_with_actor_context_named_and_restored),
		T(test_end_without_start_is_reported),
		T(test_end_of_a_different_range_is_reported),
		T(test_nested_pairs_may_end_in_any_order),
		T(test_pairing_is_checked_without_subscribers_too),
		T(test_end_by_another_actor_is_reported),
		T(test_pre_6_6_end_flushes_before_invalidate_range_end),
		T(test_historic_dispatch_points_call_their_callbacks),
		T(test_invalidate_page_may_sleep_but_invalidate_range_may_not),
		T(test_subscriptions_left_when_mm_is_freed_are_reported),
		T(test_destroy_of_empty_subscriptions_is_quiet),
		T(test_range_update_to_read_only),
		cmocka_unit_test(test_event_names_follow_kernel_order),
		cmocka_unit_test(test_null_arguments_of_void_and_query_calls_are_harmless),
	};

	return cmocka_run_group_tests_name("notifier", tests, NULL, NULL);
}
