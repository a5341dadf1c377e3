// SPDX-License-Identifier: MIT
/*
 * The recording listener of tests/support/recorder.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "recorder.h"

/* White-box: the notifier SRCU domain of the simulation and the actor's
 * context live behind lib/internal.h. */
#include "internal.h"
#include "sync/internal.h"

/* One clock for every recorder of the process: events of two recorders
 * can be ordered by their stamps. */
static atomic_ulong rec_clock;

static const char *const rec_names[REC_NR_KINDS] = {
	[REC_RELEASE] = "release",
	[REC_CLEAR_FLUSH_YOUNG] = "clear_flush_young",
	[REC_CLEAR_YOUNG] = "clear_young",
	[REC_TEST_YOUNG] = "test_young",
	[REC_START] = "invalidate_range_start",
	[REC_END] = "invalidate_range_end",
	[REC_ARCH_INVALIDATE] = "arch_invalidate_secondary_tlbs",
	[REC_INVALIDATE_PAGE] = "invalidate_page",
	[REC_INVALIDATE_RANGE] = "invalidate_range",
	[REC_CHANGE_PTE] = "change_pte",
	[REC_INTERVAL_INVALIDATE] = "invalidate",
};

const char *rec_kind_name(enum rec_kind kind)
{
	if ((unsigned int)kind >= REC_NR_KINDS)
		return "unknown";
	return rec_names[kind];
}

struct recorder *rec_of(struct mmn_notifier *sub)
{
	return (struct recorder *)((char *)sub - offsetof(struct recorder, mn));
}

struct recorder *rec_of_interval(struct mmn_interval_notifier *isub)
{
	return (struct recorder *)((char *)isub - offsetof(struct recorder, imn));
}

/* Fill and log one event, then run the hook. */
static void rec_log(struct recorder *r, struct rec_event *e)
{
	size_t i;
	int held;

	e->stamp = atomic_fetch_add(&rec_clock, 1) + 1;
	e->actor_id = mmn_actor_id(mmn_actor_current(r->sim));
	e->lock_depth = mmn_lockdep_depth(r->sim);
	e->held = 0;
	for (int l = 0; l < r->nr_locks; l++)
		if (mmn_lockdep_is_held(r->locks[l]) == 1)
			e->held |= 1u << l;
	held = mmn_srcu_read_lock_held(&r->sim->notifier_srcu);
	e->in_srcu = held < 0 ? -1 : held;
	e->context = mmn_actor_context(r->sim);
	i = atomic_fetch_add(&r->nr, 1);
	if (i < r->cap)
		r->ev[i] = *e;
	else
		atomic_fetch_add(&r->dropped, 1);
	if (r->hook)
		r->hook(r, e, r->hook_arg);
}

static void rec_range(struct rec_event *e, enum rec_kind kind,
		      const struct mmn_notifier_range *range)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->start = range->start;
	e->end = range->end;
	e->flags = range->flags;
	e->event = range->event;
	e->owner = range->owner;
}

static void rec_span(struct rec_event *e, enum rec_kind kind, unsigned long start,
		     unsigned long end)
{
	memset(e, 0, sizeof(*e));
	e->kind = kind;
	e->start = start;
	e->end = end;
}

/* ---- the callbacks ---- */

static void rec_release(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_RELEASE, 0, 0);
	rec_log(rec_of(sub), &e);
}

static int rec_clear_flush_young(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
				 unsigned long end)
{
	struct recorder *r = rec_of(sub);
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_CLEAR_FLUSH_YOUNG, start, end);
	rec_log(r, &e);
	return r->young_ret;
}

static int rec_clear_young(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
			   unsigned long end)
{
	struct recorder *r = rec_of(sub);
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_CLEAR_YOUNG, start, end);
	rec_log(r, &e);
	return r->young_ret;
}

static int rec_test_young(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long address)
{
	struct recorder *r = rec_of(sub);
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_TEST_YOUNG, address, address + 1);
	rec_log(r, &e);
	return r->young_ret;
}

static int rec_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct recorder *r = rec_of(sub);
	struct rec_event e;

	rec_range(&e, REC_START, range);
	rec_log(r, &e);
	return r->start_ret;
}

static void rec_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct rec_event e;

	rec_range(&e, REC_END, range);
	rec_log(rec_of(sub), &e);
}

static void rec_arch_invalidate(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
				unsigned long end)
{
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_ARCH_INVALIDATE, start, end);
	rec_log(rec_of(sub), &e);
}

static void rec_invalidate_page(struct mmn_notifier *sub, struct mmn_mm *mm,
				unsigned long address)
{
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_INVALIDATE_PAGE, address, address + 1);
	rec_log(rec_of(sub), &e);
}

static void rec_invalidate_range(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
				 unsigned long end)
{
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_INVALIDATE_RANGE, start, end);
	rec_log(rec_of(sub), &e);
}

static void rec_change_pte(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long address,
			   mmn_pte_t pte)
{
	struct rec_event e;

	(void)mm;
	rec_span(&e, REC_CHANGE_PTE, address, address + 1);
	e.pte = pte;
	rec_log(rec_of(sub), &e);
}

/*
 * The interval callback, shaped like test_hmm's dmirror_interval_invalidate:
 * take the driver lock (trylock when the range is non-blockable, refusing
 * if busy), record the sequence, drop the lock.
 */
static bool rec_interval_invalidate(struct mmn_interval_notifier *isub,
				    const struct mmn_notifier_range *range, unsigned long cur_seq)
{
	struct recorder *r = rec_of_interval(isub);
	struct rec_event e;

	rec_range(&e, REC_INTERVAL_INVALIDATE, range);
	e.cur_seq = cur_seq;
	rec_log(r, &e);
	if (!r->interval_ret)
		return false;
	if (r->interval_lock) {
		if (mmn_notifier_range_blockable(range))
			mmn_mutex_lock(r->interval_lock);
		else if (!mmn_mutex_trylock(r->interval_lock))
			return false;
	}
	if (r->interval_set_seq)
		mmn_interval_set_seq(isub, cur_seq);
	if (r->interval_lock)
		mmn_mutex_unlock(r->interval_lock);
	return true;
}

int rec_init(struct recorder *r, struct mmn_sim *sim, enum rec_ops_mode mode, size_t capacity)
{
	memset(r, 0, sizeof(*r));
	r->sim = sim;
	r->cap = capacity;
	r->ev = calloc(capacity ? capacity : 1, sizeof(*r->ev));
	if (!r->ev)
		return -ENOMEM;
	atomic_init(&r->nr, 0);
	atomic_init(&r->dropped, 0);
	r->interval_ret = true;
	r->interval_set_seq = true;
	r->iops.invalidate = rec_interval_invalidate;

	r->ops.release = rec_release;
	switch (mode) {
	case REC_OPS_START_END:
		r->ops.clear_flush_young = rec_clear_flush_young;
		r->ops.clear_young = rec_clear_young;
		r->ops.test_young = rec_test_young;
		r->ops.invalidate_range_start = rec_start;
		r->ops.invalidate_range_end = rec_end;
		break;
	case REC_OPS_SECONDARY_TLB:
		r->ops.clear_flush_young = rec_clear_flush_young;
		r->ops.clear_young = rec_clear_young;
		r->ops.test_young = rec_test_young;
		r->ops.arch_invalidate_secondary_tlbs = rec_arch_invalidate;
		break;
	case REC_OPS_START_ONLY:
		r->ops.invalidate_range_start = rec_start;
		break;
	case REC_OPS_LEGACY:
		r->ops.clear_flush_young = rec_clear_flush_young;
		r->ops.clear_young = rec_clear_young;
		r->ops.test_young = rec_test_young;
		r->ops.invalidate_range_start = rec_start;
		r->ops.invalidate_range_end = rec_end;
		r->ops.invalidate_page = rec_invalidate_page;
		r->ops.invalidate_range = rec_invalidate_range;
		r->ops.change_pte = rec_change_pte;
		break;
	}
	return 0;
}

void rec_fini(struct recorder *r)
{
	free(r->ev);
	r->ev = NULL;
	r->cap = 0;
}

int rec_watch_lock(struct recorder *r, const void *lock, const char *name)
{
	if (r->nr_locks == REC_MAX_LOCKS)
		return -1;
	r->locks[r->nr_locks] = lock;
	r->lock_names[r->nr_locks] = name;
	return r->nr_locks++;
}

void rec_unwatch_locks(struct recorder *r)
{
	r->nr_locks = 0;
}

int rec_register(struct recorder *r, struct mmn_mm *mm)
{
	int ret;

	r->mn.ops = &r->ops;
	ret = mmn_notifier_register(&r->mn, mm);
	if (!ret)
		r->mm = mm;
	return ret;
}

int rec_unregister(struct recorder *r)
{
	return mmn_notifier_unregister(&r->mn, r->mm);
}

int rec_insert_interval(struct recorder *r, struct mmn_mm *mm, unsigned long start,
			unsigned long length)
{
	return mmn_interval_notifier_insert(&r->imn, mm, start, length, &r->iops);
}

int rec_remove_interval(struct recorder *r)
{
	return mmn_interval_notifier_remove(&r->imn);
}

size_t rec_count(struct recorder *r)
{
	size_t n = atomic_load(&r->nr);

	return n < r->cap ? n : r->cap;
}

size_t rec_count_kind(struct recorder *r, enum rec_kind kind)
{
	size_t n = rec_count(r), c = 0;

	for (size_t i = 0; i < n; i++)
		c += r->ev[i].kind == kind;
	return c;
}

size_t rec_dropped(struct recorder *r)
{
	return atomic_load(&r->dropped);
}

const struct rec_event *rec_at(struct recorder *r, size_t i)
{
	return i < rec_count(r) ? &r->ev[i] : NULL;
}

const struct rec_event *rec_find(struct recorder *r, enum rec_kind kind, size_t nth)
{
	size_t n = rec_count(r);

	for (size_t i = 0; i < n; i++)
		if (r->ev[i].kind == kind && nth-- == 0)
			return &r->ev[i];
	return NULL;
}

bool rec_kinds_are(struct recorder *r, const enum rec_kind *kinds, size_t n)
{
	if (rec_count(r) != n)
		return false;
	for (size_t i = 0; i < n; i++)
		if (r->ev[i].kind != kinds[i])
			return false;
	return true;
}

void rec_reset(struct recorder *r)
{
	atomic_store(&r->nr, 0);
	atomic_store(&r->dropped, 0);
}

void rec_dump(struct recorder *r, FILE *out)
{
	size_t n = rec_count(r);

	for (size_t i = 0; i < n; i++) {
		const struct rec_event *e = &r->ev[i];

		fprintf(out,
			"#%zu t=%lu actor=%d %s [0x%lx, 0x%lx) flags=%#x event=%s owner=%p "
			"seq=%lu depth=%d held=%#x srcu=%d ctx=%s\n",
			i, e->stamp, e->actor_id, rec_kind_name(e->kind), e->start, e->end, e->flags,
			mmn_notify_event_name(e->event), e->owner, e->cur_seq, e->lock_depth, e->held,
			e->in_srcu, e->context ? e->context : "-");
	}
}
