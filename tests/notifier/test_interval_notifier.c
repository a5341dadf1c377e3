// SPDX-License-Identifier: MIT
/*
 * Interval notifiers (struct mmn_interval_notifier): insert/remove and their
 * bad input, the odd/even sequence scheme of mm/mmu_notifier.c (seq starts
 * at 2, odd only while an overlapping invalidation runs, shared by nested
 * and parallel invalidations), read_begin sleeping, read_retry, deferred
 * inserts and removes, the RELEASE invalidation at teardown and the
 * non-blocking refusal. Interleavings are driven with completions and the
 * scheduling-point hook, never with sleeps; the timelines of
 * docs/notifier.md name the test that checks each.
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
#define NR_PAR 4

static const struct mmn_lock_class test_mutex_class = { .name = "test_driver_mutex" };

struct fixture {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	struct recorder r[4];
	int nr_rec;
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
	mmn_mutex_init(&f->mutex, f->sim, &test_mutex_class, "driver_mutex");
	mmn_notifier_pairing_reset();
	*state = f;
	return 0;
}

static unsigned long active(struct fixture *f);
static void range_init(struct mmn_notifier_range *r, struct fixture *f, unsigned long start,
		       unsigned long end);

static int teardown(void **state)
{
	struct fixture *f = *state;

	/* A test that failed half-way may leave an invalidation open, which
	 * would make the removes below wait forever: close it. */
	while (f->mm && mmn_mm_notifier_subscriptions(f->mm) && active(f)) {
		struct mmn_notifier_range r;

		range_init(&r, f, 0, PG);
		mmn_notifier_invalidate_range_end(&r);
	}
	for (int i = 0; i < f->nr_rec; i++) {
		if (__atomic_load_n(&f->r[i].imn.state, __ATOMIC_RELAXED))
			assert_int_equal(rec_remove_interval(&f->r[i]), 0);
		if (__atomic_load_n(&f->r[i].mn.registered, __ATOMIC_RELAXED))
			assert_int_equal(rec_unregister(&f->r[i]), 0);
		rec_fini(&f->r[i]);
	}
	if (f->mm)
		mmn_mm_put(f->mm);
	mmn_mutex_destroy(&f->mutex);
	mmn_notifier_pairing_reset();
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

/* A recorder with an interval [start, start + len) inserted (len 0: none). */
static struct recorder *add_itv(struct fixture *f, unsigned long start, unsigned long len)
{
	struct recorder *r = &f->r[f->nr_rec++];

	assert_int_equal(rec_init(r, f->sim, REC_OPS_START_END, 64), 0);
	if (len)
		assert_int_equal(rec_insert_interval(r, f->mm, start, len), 0);
	return r;
}

static struct mmn_notifier_subscriptions *subs(struct fixture *f)
{
	return mmn_mm_notifier_subscriptions(f->mm);
}

static unsigned long mm_seq(struct fixture *f)
{
	return __atomic_load_n(&subs(f)->invalidate_seq, __ATOMIC_ACQUIRE);
}

static unsigned long active(struct fixture *f)
{
	struct mmn_notifier_subscriptions *s = subs(f);
	unsigned long n;

	mmn_spin_lock(&s->lock);
	n = s->active_invalidate_ranges;
	mmn_spin_unlock(&s->lock);
	return n;
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

/* ---- waiting for an actor to reach a scheduling point ---- */

struct watch {
	enum mmn_sched_kind kind;
	const char *actor;
	const void *obj;
	atomic_int fired;
	struct mmn_completion reached;
};

static void watch_sched(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct watch *w = arg;

	(void)sim;
	if (ev->kind != w->kind || (w->obj && ev->obj != w->obj) ||
	    strcmp(mmn_actor_name(ev->actor), w->actor))
		return;
	if (!atomic_exchange(&w->fired, 1))
		mmn_complete(&w->reached);
}

static void watch_start(struct watch *w, struct fixture *f, enum mmn_sched_kind kind,
			const char *actor, const void *obj)
{
	w->kind = kind;
	w->actor = actor;
	w->obj = obj;
	atomic_init(&w->fired, 0);
	mmn_init_completion(&w->reached, f->sim, "watch");
	mmn_sched_set_hook(f->sim, watch_sched, w);
}

static void watch_stop(struct watch *w, struct fixture *f)
{
	mmn_sched_set_hook(f->sim, NULL, NULL);
	mmn_completion_destroy(&w->reached);
}

/* ---- an actor calling read_begin or remove ---- */

/*
 * An actor calling read_begin or remove. When it returns it also releases
 * the test waiting for its wait point, so a call that wrongly does not
 * sleep fails the test instead of hanging it.
 */
struct caller {
	struct recorder *r;
	struct watch *w;
	atomic_int done;
	atomic_ulong seq;
};

static void caller_done(struct caller *c)
{
	atomic_store(&c->done, 1);
	if (c->w && !atomic_exchange(&c->w->fired, 1))
		mmn_complete(&c->w->reached);
}

static void *read_begin_actor(void *arg)
{
	struct caller *c = arg;

	atomic_store(&c->seq, mmn_interval_read_begin(&c->r->imn));
	caller_done(c);
	return NULL;
}

static void *remove_actor(void *arg)
{
	struct caller *c = arg;

	assert_int_equal(rec_remove_interval(c->r), 0);
	caller_done(c);
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Insert / remove and bad input                                       */
/* ------------------------------------------------------------------ */

static void test_insert_bad_input_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, 0, 0);
	struct mmn_interval_notifier_ops no_cb = { 0 };

	assert_int_equal(mmn_interval_notifier_insert(NULL, f->mm, A0, PG, &r->iops), -EINVAL);
	assert_int_equal(mmn_interval_notifier_insert(&r->imn, NULL, A0, PG, &r->iops), -EINVAL);
	assert_int_equal(mmn_interval_notifier_insert(&r->imn, f->mm, A0, PG, NULL), -EINVAL);
	assert_int_equal(mmn_interval_notifier_insert(&r->imn, f->mm, A0, PG, &no_cb), -EINVAL);
	assert_int_equal(mmn_interval_notifier_insert(&r->imn, f->mm, A0, 0, &r->iops),
			 -EOVERFLOW);
	assert_int_equal(mmn_interval_notifier_insert(&r->imn, f->mm, ULONG_MAX - 10, 12, &r->iops),
			 -EOVERFLOW);
	assert_int_equal(r->imn.state, 0);
	assert_null(r->imn.mm);
	assert_null(subs(f)); /* not even the interval mode was switched on */
	assert_int_equal(atomic_load(&f->mm->mm_count), 1);
	/* The very last address is a valid one-byte interval. */
	assert_int_equal(mmn_interval_notifier_insert(&r->imn, f->mm, ULONG_MAX, 1, &r->iops), 0);
	assert_int_equal(r->imn.interval_tree.last, ULONG_MAX);
}

static void test_double_insert_is_ebusy_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);

	assert_int_equal(rec_insert_interval(r, f->mm, A1, PG), -EBUSY);
	assert_int_equal(r->imn.interval_tree.start, A0);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count_kind(r, REC_INTERVAL_INVALIDATE), 1);
	start_end(f, A1, A1 + PG);
	assert_int_equal(rec_count_kind(r, REC_INTERVAL_INVALIDATE), 1);
}

static void test_remove_bad_input(void **state)
{
	struct fixture *f = *state;
	struct recorder *never = add_itv(f, 0, 0);
	struct recorder *r = add_itv(f, A0, PG);

	assert_int_equal(mmn_interval_notifier_remove(NULL), -EINVAL);
	assert_int_equal(rec_remove_interval(never), -ENOENT);
	assert_int_equal(rec_remove_interval(r), 0);
	assert_int_equal(rec_remove_interval(r), -ENOENT);
	assert_int_equal(f->cap.n, 0);
}

static void test_insert_locked_requires_mmap_write_lock(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, 0, 0);

	assert_int_equal(mmn_interval_notifier_insert_locked(&r->imn, f->mm, A0, PG, &r->iops),
			 -EINVAL);
	assert_int_equal(protocol(f), 1);
	assert_int_equal(r->imn.state, 0);
	mmn_mmap_write_lock(f->mm);
	assert_int_equal(mmn_interval_notifier_insert_locked(&r->imn, f->mm, A0, PG, &r->iops), 0);
	mmn_mmap_write_unlock(f->mm);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count_kind(r, REC_INTERVAL_INVALIDATE), 1);
	assert_int_equal(protocol(f), 1);
}

static void test_interval_holds_mm_count_until_remove(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);

	assert_int_equal(atomic_load(&f->mm->mm_count), 2);
	assert_int_equal(rec_remove_interval(r), 0);
	assert_int_equal(atomic_load(&f->mm->mm_count), 1);
}

static void test_removed_interval_receives_nothing(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);

	assert_int_equal(rec_remove_interval(r), 0);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(r), 0);
	/* and it may be inserted again */
	assert_int_equal(rec_insert_interval(r, f->mm, A1, PG), 0);
	start_end(f, A1, A1 + PG);
	assert_int_equal(rec_count(r), 1);
}

static void test_read_calls_on_never_inserted_interval(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, 0, 0);

	assert_int_equal(mmn_interval_read_begin(&r->imn), 0);
	assert_int_equal(mmn_interval_read_begin(NULL), 0);
	assert_true(mmn_interval_read_retry(NULL, 0));
	assert_true(mmn_interval_check_retry(NULL, 0));
	mmn_interval_set_seq(NULL, 1);
}

/* ------------------------------------------------------------------ */
/* The sequence scheme                                                 */
/* ------------------------------------------------------------------ */

static void test_sequence_starts_at_2_and_idle_interval_is_one_below(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);

	assert_int_equal(mm_seq(f), 2);
	assert_int_equal(r->imn.invalidate_seq, 1);
	assert_int_equal(mmn_interval_read_begin(&r->imn), 1);
}

static void test_only_overlapping_intervals_are_invalidated(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG); /* [A0, A0 + PG - 1] */
	struct recorder *q = add_itv(f, A0 + 2 * PG, PG);

	start_end(f, A0 + PG, A0 + 2 * PG);   /* the gap between them */
	start_end(f, A0 - PG, A0);            /* ends where r starts: end exclusive */
	assert_int_equal(rec_count(r) + rec_count(q), 0);
	start_end(f, A0 + PG - 1, A0 + PG);   /* r's last byte */
	assert_int_equal(rec_count(r), 1);
	assert_int_equal(rec_count(q), 0);
	start_end(f, A0, A0 + 3 * PG);        /* both */
	assert_int_equal(rec_count(r), 2);
	assert_int_equal(rec_count(q), 1);
	assert_int_equal(rec_at(q, 0)->start, A0);
	assert_int_equal(rec_at(q, 0)->end, A0 + 3 * PG);
}

/*
 *   seq 2 (even, idle)
 *   start [A0]  -> active 1, seq 3, invalidate(cur_seq 3)
 *   end         -> active 0, seq 4
 */
static void test_overlapping_invalidation_makes_sequence_odd_until_end(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct mmn_notifier_range range;

	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	assert_int_equal(mm_seq(f), 3);
	assert_int_equal(active(f), 1);
	assert_int_equal(rec_at(r, 0)->cur_seq, 3);
	assert_int_equal(r->imn.invalidate_seq, 3); /* set_seq by the callback */
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(mm_seq(f), 4);
	assert_int_equal(active(f), 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_invalidation_overlapping_no_interval_keeps_sequence_even(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct mmn_notifier_range range;

	range_init(&range, f, A1, A1 + PG);
	mmn_notifier_invalidate_range_start(&range);
	assert_int_equal(mm_seq(f), 2);
	assert_int_equal(active(f), 1); /* "partially excluded" */
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(mm_seq(f), 2);
	assert_int_equal(active(f), 0);
	assert_int_equal(rec_count(r), 0);
}

static void test_read_retry_sees_invalidation_since_read_begin(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	unsigned long seq;

	r->interval_lock = &f->mutex;
	seq = mmn_interval_read_begin(&r->imn);
	start_end(f, A1, A1 + PG); /* elsewhere: no collision */
	mmn_mutex_lock(&f->mutex);
	assert_false(mmn_interval_read_retry(&r->imn, seq));
	mmn_mutex_unlock(&f->mutex);
	assert_false(mmn_interval_check_retry(&r->imn, seq));

	start_end(f, A0, A0 + PG);
	assert_true(mmn_interval_check_retry(&r->imn, seq));
	mmn_mutex_lock(&f->mutex);
	assert_true(mmn_interval_read_retry(&r->imn, seq));
	mmn_mutex_unlock(&f->mutex);

	/* A fresh read_begin after the invalidation ended does not collide. */
	seq = mmn_interval_read_begin(&r->imn);
	assert_int_equal(seq, 3);
	assert_false(mmn_interval_read_retry(&r->imn, seq));
}

/* A driver that forgets set_seq makes read_retry blind: the scheme relies on it. */
static void test_invalidate_without_set_seq_goes_unseen_by_read_retry(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	unsigned long seq;

	r->interval_set_seq = false;
	seq = mmn_interval_read_begin(&r->imn);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(r), 1);
	assert_false(mmn_interval_read_retry(&r->imn, seq));
}

/*
 *   invalidating actor (main)            reader actor
 *   start [A0]: seq 3, r->seq = 3
 *                                        read_begin(r): r->seq == mm seq
 *                                          -> sleeps on the wait queue
 *   end: seq 4, wake_up_all
 *                                        wakes, returns 3
 *                                        read_retry(3) == false
 */
static void test_read_begin_sleeps_while_its_interval_is_invalidated(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct mmn_notifier_range range;
	struct watch w;
	struct caller c = { .r = r, .w = &w };
	struct mmn_actor *a;
	int early;

	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	watch_start(&w, f, MMN_SCHED_WAIT, "reader", &subs(f)->wq);
	assert_int_equal(mmn_actor_spawn(f->sim, "reader", read_begin_actor, &c, &a), 0);
	mmn_wait_for_completion(&w.reached);
	early = atomic_load(&c.done);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	watch_stop(&w, f);
	assert_int_equal(early, 0);
	assert_int_equal(atomic_load(&c.done), 1);
	assert_int_equal(atomic_load(&c.seq), 3);
	assert_false(mmn_interval_read_retry(&r->imn, 3));
}

struct wait_count {
	atomic_int waits;
};

static void count_waits(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct wait_count *wc = arg;

	(void)sim;
	if (ev->kind == MMN_SCHED_WAIT)
		atomic_fetch_add(&wc->waits, 1);
}

/* The other way: an interval not hit in this odd period reads on. */
static void test_read_begin_of_interval_not_invalidated_does_not_sleep(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct recorder *q = add_itv(f, A1, PG);
	struct mmn_notifier_range range;
	struct wait_count wc = { 0 };

	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	assert_int_equal(mm_seq(f) & 1, 1);
	mmn_sched_set_hook(f->sim, count_waits, &wc);
	assert_int_equal(mmn_interval_read_begin(&q->imn), 1);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(atomic_load(&wc.waits), 0);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(rec_count(r), 1);
	assert_int_equal(rec_count(q), 0);
}

/*
 *   main
 *   start r1 [A0]   seq 3, active 1
 *   start r2 [A0]   seq 3, active 2  (cur_seq 3 again)
 *   end r2          seq 3, active 1  (still odd)
 *   end r1          seq 4, active 0
 */
static void test_nested_invalidations_share_one_odd_period(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, 4 * PG);
	struct mmn_notifier_range r1, r2;

	range_init(&r1, f, A0, A0 + 2 * PG);
	range_init(&r2, f, A0 + PG, A0 + 4 * PG);
	mmn_notifier_invalidate_range_start(&r1);
	mmn_notifier_invalidate_range_start(&r2);
	assert_int_equal(mm_seq(f), 3);
	assert_int_equal(active(f), 2);
	mmn_notifier_invalidate_range_end(&r2);
	assert_int_equal(mm_seq(f), 3);
	assert_int_equal(active(f), 1);
	mmn_notifier_invalidate_range_end(&r1);
	assert_int_equal(mm_seq(f), 4);
	assert_int_equal(active(f), 0);
	assert_int_equal(rec_count(r), 2);
	assert_int_equal(rec_at(r, 0)->cur_seq, 3);
	assert_int_equal(rec_at(r, 1)->cur_seq, 3);
	assert_int_equal(f->cap.n, 0);
}

struct par {
	struct fixture *f;
	int i;
	struct mmn_completion started, go;
};

static void *par_invalidator(void *arg)
{
	struct par *p = arg;
	struct mmn_notifier_range range;

	range_init(&range, p->f, A0 + (unsigned long)p->i * PG, A0 + (unsigned long)(p->i + 1) * PG);
	mmn_notifier_invalidate_range_start(&range);
	mmn_complete(&p->started);
	mmn_wait_for_completion(&p->go);
	mmn_notifier_invalidate_range_end(&range);
	return NULL;
}

/*
 * NR_PAR actors each start an invalidation of their own page of one
 * interval and hold it; the sequence goes odd once and stays odd until the
 * last of them ends, whatever order they end in.
 */
static void test_parallel_invalidations_share_one_odd_period(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, NR_PAR * PG);
	struct par p[NR_PAR];
	struct mmn_actor *a[NR_PAR];
	const int order[NR_PAR] = { 2, 0, 3, 1 };

	for (int i = 0; i < NR_PAR; i++) {
		p[i].f = f;
		p[i].i = i;
		mmn_init_completion(&p[i].started, f->sim, "started");
		mmn_init_completion(&p[i].go, f->sim, "go");
		assert_int_equal(mmn_actor_spawn(f->sim, NULL, par_invalidator, &p[i], &a[i]), 0);
	}
	for (int i = 0; i < NR_PAR; i++)
		mmn_wait_for_completion(&p[i].started);
	assert_int_equal(mm_seq(f), 3);
	assert_int_equal(active(f), NR_PAR);
	for (int k = 0; k < NR_PAR; k++) {
		int i = order[k];

		mmn_complete(&p[i].go);
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		assert_int_equal(active(f), (unsigned long)(NR_PAR - k - 1));
		assert_int_equal(mm_seq(f), k < NR_PAR - 1 ? 3 : 4);
	}
	assert_int_equal(rec_count(r), NR_PAR);
	for (int i = 0; i < NR_PAR; i++) {
		assert_int_equal(rec_at(r, (size_t)i)->cur_seq, 3);
		mmn_completion_destroy(&p[i].started);
		mmn_completion_destroy(&p[i].go);
	}
	assert_int_equal(f->cap.n, 0);
}

/* ------------------------------------------------------------------ */
/* Deferred insert and remove                                          */
/* ------------------------------------------------------------------ */

/*
 *   main                                  reader actor
 *   start [A0]: seq 3 (odd, tree frozen)
 *   insert q over A0: deferred, q->seq 3
 *   start [A0] again: q not called
 *   end (inner)
 *                                         read_begin(q): q->seq == 3 -> sleeps
 *   end (outer): seq 4, q enters the tree
 *                                         returns 3
 */
static void test_insert_during_odd_period_is_deferred_to_the_last_end(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct recorder *q = add_itv(f, 0, 0);
	struct mmn_notifier_range outer;
	struct watch w;
	struct caller c = { .r = q, .w = &w };
	struct mmn_actor *a;
	int early;

	range_init(&outer, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&outer);
	assert_int_equal(rec_insert_interval(q, f->mm, A0, PG), 0);
	assert_int_equal(q->imn.deferred, 1);
	assert_int_equal(q->imn.in_tree, 0);
	assert_int_equal(q->imn.invalidate_seq, 3);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(q), 0);
	assert_int_equal(rec_count(r), 2);

	watch_start(&w, f, MMN_SCHED_WAIT, "reader", &subs(f)->wq);
	assert_int_equal(mmn_actor_spawn(f->sim, "reader", read_begin_actor, &c, &a), 0);
	mmn_wait_for_completion(&w.reached);
	early = atomic_load(&c.done);
	mmn_notifier_invalidate_range_end(&outer);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	watch_stop(&w, f);
	assert_int_equal(early, 0);
	assert_int_equal(atomic_load(&c.seq), 3);
	assert_int_equal(q->imn.in_tree, 1);
	assert_int_equal(q->imn.deferred, 0);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(q), 1);
}

/*
 *   start [A1]: active 1, seq stays 2 (no interval there)
 *   insert q [A1]: inserted now, seq made 3, q->seq 3
 *   end: seq 4; read_begin(q) returns 3 at once
 */
static void test_insert_during_even_active_period_inserts_and_makes_seq_odd(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct recorder *q = add_itv(f, 0, 0);
	struct mmn_notifier_range range;
	unsigned long seq;

	range_init(&range, f, A1, A1 + PG);
	mmn_notifier_invalidate_range_start(&range);
	assert_int_equal(mm_seq(f), 2);
	assert_int_equal(rec_insert_interval(q, f->mm, A1, PG), 0);
	assert_int_equal(q->imn.in_tree, 1);
	assert_int_equal(mm_seq(f), 3);
	assert_int_equal(q->imn.invalidate_seq, 3);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(mm_seq(f), 4);
	seq = mmn_interval_read_begin(&q->imn);
	assert_int_equal(seq, 3);
	assert_false(mmn_interval_read_retry(&q->imn, seq));
	assert_int_equal(rec_count(r), 0);
}

/*
 *   main                                  remover actor
 *   start [A0]: seq 3
 *                                         remove(r): queued on the deferred
 *                                         list, sleeps until seq moves
 *   end: seq 4, r leaves the tree, wake
 *                                         returns
 */
static void test_remove_during_odd_period_waits_for_the_period_to_end(void **state)
{
	int in_tree, deferred;
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct mmn_notifier_range range;
	struct watch w;
	struct caller c = { .r = r, .w = &w };
	struct mmn_actor *a;
	int early;

	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	watch_start(&w, f, MMN_SCHED_WAIT, "remover", &subs(f)->wq);
	assert_int_equal(mmn_actor_spawn(f->sim, "remover", remove_actor, &c, &a), 0);
	mmn_wait_for_completion(&w.reached);
	early = atomic_load(&c.done);
	mmn_spin_lock(&subs(f)->lock);
	in_tree = r->imn.in_tree;   /* frozen tree: still in it */
	deferred = r->imn.deferred; /* queued for removal */
	mmn_spin_unlock(&subs(f)->lock);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	watch_stop(&w, f);
	assert_int_equal(early, 0);
	assert_int_equal(in_tree, 1);
	assert_int_equal(deferred, 1);
	assert_int_equal(atomic_load(&c.done), 1);
	assert_int_equal(r->imn.in_tree, 0);
	assert_null(subs(f)->itree.root);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(r), 1);
}

static void test_remove_of_deferred_insert_does_not_wait(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct recorder *q = add_itv(f, 0, 0);
	struct mmn_notifier_range range;
	struct wait_count wc = { 0 };

	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&range);
	assert_int_equal(rec_insert_interval(q, f->mm, A0, PG), 0);
	mmn_sched_set_hook(f->sim, count_waits, &wc);
	assert_int_equal(rec_remove_interval(q), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(atomic_load(&wc.waits), 0);
	assert_int_equal(q->imn.deferred, 0);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(q->imn.in_tree, 0);
	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_count(q), 0);
	assert_int_equal(rec_count(r), 2);
}

/* ------------------------------------------------------------------ */
/* Release, refusal, checks                                            */
/* ------------------------------------------------------------------ */

static void test_teardown_invalidates_every_interval_with_release(void **state)
{
	struct fixture *f = *state;
	struct recorder *r1 = add_itv(f, A0, PG);
	struct recorder *r2 = add_itv(f, A1, PG);
	struct recorder *h = add_itv(f, 0, 0);
	struct mmn_mm *mm = f->mm;

	assert_int_equal(rec_register(h, mm), 0);
	f->mm = NULL;
	mmn_mm_put(mm); /* exit_mmap → release */
	for (int i = 0; i < 2; i++) {
		const struct rec_event *e = rec_at(i ? r2 : r1, 0);

		assert_non_null(e);
		assert_int_equal(e->kind, REC_INTERVAL_INVALIDATE);
		assert_int_equal(e->event, MMN_NOTIFY_RELEASE);
		assert_int_equal(e->start, 0);
		assert_int_equal(e->end, ULONG_MAX);
		assert_int_equal(e->flags, MMN_NOTIFIER_RANGE_BLOCKABLE);
		assert_true(e->stamp < rec_find(h, REC_RELEASE, 0)->stamp); /* intervals first */
	}
	/* The intervals stay inserted until their owners remove them. */
	assert_int_equal(r1->imn.in_tree, 1);
	assert_int_equal(rec_remove_interval(r1), 0);
	assert_int_equal(rec_remove_interval(r2), 0);
	assert_int_equal(rec_unregister(h), 0); /* last mm_count: frees the mm */
	assert_int_equal(f->cap.n, 0);
}

static void test_nonblock_interval_refusal_stops_the_walk_and_skips_the_list(void **state)
{
	struct fixture *f = *state;
	struct recorder *r1 = add_itv(f, A0, PG);
	struct recorder *r2 = add_itv(f, A0 + PG, PG);
	struct recorder *h = add_itv(f, 0, 0);
	struct mmn_notifier_range range;

	assert_int_equal(rec_register(h, f->mm), 0);
	r1->interval_ret = false;
	range_init(&range, f, A0, A0 + 2 * PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
	assert_int_equal(rec_count(r1), 1);
	assert_int_equal(rec_count(r2), 0); /* after r1 in start order: not reached */
	assert_int_equal(rec_count(h), 0);  /* the list is not called at all */
	assert_int_equal(active(f), 0);     /* the interval side was ended again */
	assert_int_equal(mm_seq(f), 4);
	assert_int_equal(mmn_notifier_pairing_depth(), 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_blockable_interval_refusal_is_reported_and_walk_goes_on(void **state)
{
	struct fixture *f = *state;
	struct recorder *r1 = add_itv(f, A0, PG);
	struct recorder *r2 = add_itv(f, A0 + PG, PG);

	r1->interval_ret = false;
	start_end(f, A0, A0 + 2 * PG);
	assert_int_equal(protocol(f), 1);
	assert_int_equal(rec_count(r2), 1);
}

struct driver {
	struct mmn_mutex *lock;
	struct mmn_completion held, go;
};

/* The driver's fault path, holding its lock until told to go on. */
static void *driver_actor(void *arg)
{
	struct driver *d = arg;

	mmn_mutex_lock(d->lock);
	mmn_complete(&d->held);
	mmn_wait_for_completion(&d->go);
	mmn_mutex_unlock(d->lock);
	return NULL;
}

static void test_driver_lock_busy_refuses_nonblock_but_not_blockable(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct mmn_notifier_range range;
	struct driver d = { .lock = &f->mutex };
	struct mmn_actor *a;

	r->interval_lock = &f->mutex;
	mmn_init_completion(&d.held, f->sim, "held");
	mmn_init_completion(&d.go, f->sim, "go");
	assert_int_equal(mmn_actor_spawn(f->sim, "driver", driver_actor, &d, &a), 0);
	mmn_wait_for_completion(&d.held);
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
	assert_false(mmn_interval_check_retry(&r->imn, 1)); /* set_seq never ran */
	mmn_complete(&d.go);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), 0);
	mmn_notifier_invalidate_range_end(&range);
	assert_true(mmn_interval_check_retry(&r->imn, 1));
	assert_int_equal(f->cap.n, 0);
	mmn_completion_destroy(&d.held);
	mmn_completion_destroy(&d.go);
}

/*
 * The kernel's __mmu_notifier_invalidate_range_start() returns the list's
 * -EAGAIN after the interval side succeeded, and the caller may not call
 * end: the odd period stays open. Modelled as is; the only way to close
 * it is an end the pairing check rightly reports.
 */
static void test_nonblock_list_refusal_keeps_interval_side_open_as_kernel_does(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct recorder *h = &f->r[f->nr_rec++];
	struct mmn_notifier_range range;

	assert_int_equal(rec_init(h, f->sim, REC_OPS_START_ONLY, 16), 0);
	assert_int_equal(rec_register(h, f->mm), 0);
	h->start_ret = -EAGAIN;
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), -EAGAIN);
	assert_int_equal(rec_count(r), 1);
	assert_int_equal(active(f), 1);
	assert_int_equal(mm_seq(f), 3);
	assert_true(mmn_interval_check_retry(&r->imn, 1));
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(protocol(f), 1);
	assert_int_equal(mm_seq(f), 4);
}

static void take_mutex_hook(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct mmn_mutex *m = arg;

	(void)r;
	(void)e;
	mmn_mutex_lock(m);
	mmn_mutex_unlock(m);
}

static void test_sleeping_interval_callback_in_nonblock_range_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	struct mmn_notifier_range range;

	r->hook = take_mutex_hook;
	r->hook_arg = &f->mutex;
	start_end(f, A0, A0 + PG);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_SLEEP_IN_ATOMIC), 0);
	range_init(&range, f, A0, A0 + PG);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&range), 0);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_SLEEP_IN_ATOMIC), 1);
}

/* The "after remove" check can fire: fake a removed interval in the tree. */
static void test_callback_on_removed_interval_is_reported(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);
	unsigned char st = r->imn.state;

	start_end(f, A0, A0 + PG);
	assert_int_equal(protocol(f), 0);
	__atomic_store_n(&r->imn.state, 0, __ATOMIC_RELAXED);
	start_end(f, A0, A0 + PG);
	assert_int_equal(protocol(f), 1);
	assert_non_null(strstr(f->cap.last_msg, "after mmn_interval_notifier_remove"));
	__atomic_store_n(&r->imn.state, st, __ATOMIC_RELAXED);
}

static void test_unpaired_end_does_not_corrupt_the_interval_state(void **state)
{
	struct fixture *f = *state;
	struct mmn_notifier_range range;

	add_itv(f, A0, PG);
	range_init(&range, f, A0, A0 + PG);
	mmn_notifier_invalidate_range_end(&range);
	assert_int_equal(protocol(f), 2); /* no start by this actor; no active range */
	assert_int_equal(active(f), 0);
	assert_int_equal(mm_seq(f), 2);
	start_end(f, A0, A0 + PG);
	assert_int_equal(mm_seq(f), 4);
	assert_int_equal(protocol(f), 2);
}

static void test_interval_callback_runs_outside_the_srcu_section(void **state)
{
	struct fixture *f = *state;
	struct recorder *r = add_itv(f, A0, PG);

	start_end(f, A0, A0 + PG);
	assert_int_equal(rec_at(r, 0)->in_srcu, 0);
	assert_string_equal(rec_at(r, 0)->context, "invalidate_range_start");
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_insert_bad_input_changes_nothing),
		T(test_double_insert_is_ebusy_and_changes_nothing),
		T(test_remove_bad_input),
		T(test_insert_locked_requires_mmap_write_lock),
		T(test_interval_holds_mm_count_until_remove),
		T(test_removed_interval_receives_nothing),
		T(test_read_calls_on_never_inserted_interval),
		T(test_sequence_starts_at_2_and_idle_interval_is_one_below),
		T(test_only_overlapping_intervals_are_invalidated),
		T(test_overlapping_invalidation_makes_sequence_odd_until_end),
		T(test_invalidation_overlapping_no_interval_keeps_sequence_even),
		T(test_read_retry_sees_invalidation_since_read_begin),
		T(test_invalidate_without_set_seq_goes_unseen_by_read_retry),
		T(test_read_begin_sleeps_while_its_interval_is_invalidated),
		T(test_read_begin_of_interval_not_invalidated_does_not_sleep),
		T(test_nested_invalidations_share_one_odd_period),
		T(test_parallel_invalidations_share_one_odd_period),
		T(test_insert_during_odd_period_is_deferred_to_the_last_end),
		T(test_insert_during_even_active_period_inserts_and_makes_seq_odd),
		T(test_remove_during_odd_period_waits_for_the_period_to_end),
		T(test_remove_of_deferred_insert_does_not_wait),
		T(test_teardown_invalidates_every_interval_with_release),
		T(test_nonblock_interval_refusal_stops_the_walk_and_skips_the_list),
		T(test_blockable_interval_refusal_is_reported_and_walk_goes_on),
		T(test_driver_lock_busy_refuses_nonblock_but_not_blockable),
		T(test_nonblock_list_refusal_keeps_interval_side_open_as_kernel_does),
		T(test_sleeping_interval_callback_in_nonblock_range_is_reported),
		T(test_callback_on_removed_interval_is_reported),
		T(test_unpaired_end_does_not_corrupt_the_interval_state),
		T(test_interval_callback_runs_outside_the_srcu_section),
	};

	return cmocka_run_group_tests_name("interval_notifier", tests, NULL, NULL);
}
