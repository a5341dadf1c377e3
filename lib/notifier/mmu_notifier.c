// SPDX-License-Identifier: MIT
/*
 * The MMU-notifier core, modelled on the kernel's mm/mmu_notifier.c (2.6.27
 * onwards; the structure of 5.5+, with the interval notifiers, the get/put
 * API and the "end on non-blocking failure" rule of 5.13).
 *
 * Two kinds of subscribers share one struct mmn_notifier_subscriptions per
 * mm:
 *
 * 1. The subscription list ("hlist" in the kernel). Readers walk it inside
 *    a read section of the simulation's one SRCU domain, with acquire loads;
 *    writers change it under the subscriptions spinlock, publishing a new
 *    head with a release store and unlinking by a release store of the
 *    successor into the predecessor's link, so a reader standing on an
 *    unlinked node still reaches the rest of the list. An unlinked node is
 *    reused or freed only after a grace period (unregister synchronises,
 *    put defers the free with call_srcu).
 *
 * 2. The interval tree ("itree"): a collision-retry scheme much like a
 *    seqcount that admits several writers at once. The mm-wide
 *    invalidate_seq is even when idle (it starts at 2). An invalidation
 *    increments active_invalidate_ranges and, if some interval overlaps its
 *    range, makes the sequence odd; the sequence returns to even only when
 *    the last active invalidation ends, so nested invalidations on one
 *    actor and parallel ones on several share one odd period. While the
 *    sequence is odd the tree is frozen: walkers read it without the lock,
 *    and inserts and removes go to a deferred list that the last end
 *    applies. A reader (a driver's fault path) brackets its work with
 *    read_begin/read_retry:
 *
 *    invalidating actor                   reader (driver)
 *    ------------------                   ---------------
 *                                         read_begin():
 *                                           lock; seq = sub->seq;
 *                                           busy = (seq == mm seq); unlock
 *                                           if busy: sleep until mm seq moves
 *    start: lock; active++; mm seq |= 1;
 *           cur = mm seq; unlock
 *      sub->ops->invalidate(cur):
 *        driver_lock
 *          set_seq(sub, cur)              ... reads the CPU page tables ...
 *          drop secondary mappings
 *        driver_unlock
 *                                         driver_lock
 *                                           read_retry(sub, seq):
 *                                             sub->seq != seq -> true, retry
 *                                         driver_unlock
 *    end:   lock; if --active == 0 and
 *           mm seq odd: mm seq++ (even),
 *           apply deferred; unlock; wake_up_all
 *
 *    Because set_seq and read_retry both run under the driver's lock, an
 *    invalidation that began after read_begin is always seen by read_retry;
 *    read_begin's sleep guarantees the reader does not start while its
 *    interval's invalidation is still in flight. docs/notifier.md has the
 *    other interleavings, each with the test that checks it.
 *
 * Checks added by the model (violations, never aborts): the kernel's
 * WARN_ON/BUG_ON sites become MMN_VIOL_PROTOCOL reports; callbacks of
 * non-blockable ranges (and the callbacks the kernel documents as atomic:
 * young hooks, secondary-TLB flushes, change_pte) run between
 * mmn_non_block_start()/end() so that sleeping in them is reported by the
 * sync layer; each actor's outstanding starts are tracked so that an end
 * with no matching start is reported; a per-subscription "dead" flag
 * catches a callback after unregistration returned.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/inline.h>

#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"
#include "sync/srcu_fast.h"

/* The mark of a start that took the fast path (mmn_notifier_fast_stats()). */
#define MN_UNCHECKED MMN__NOTIFIER_RANGE_UNCHECKED

static const struct mmn_lock_class mn_subscriptions_lock_class = {
	.name = "notifier_subscriptions",
	.rank = MMN_RANK_NOTIFIER,
};

/* States of struct mmn_interval_notifier::state. */
enum { MN_ITV_NONE = 0, MN_ITV_INSERTED, MN_ITV_REMOVING };

static const char *const mn_event_names[MMN_NOTIFY_NR_EVENTS] = {
	[MMN_NOTIFY_UNMAP] = "unmap",
	[MMN_NOTIFY_CLEAR] = "clear",
	[MMN_NOTIFY_PROTECTION_VMA] = "protection_vma",
	[MMN_NOTIFY_PROTECTION_PAGE] = "protection_page",
	[MMN_NOTIFY_SOFT_DIRTY] = "soft_dirty",
	[MMN_NOTIFY_RELEASE] = "release",
	[MMN_NOTIFY_MIGRATE] = "migrate",
	[MMN_NOTIFY_EXCLUSIVE] = "exclusive",
};

const char *mmn_notify_event_name(enum mmn_notify_event event)
{
	if ((unsigned int)event >= MMN_NOTIFY_NR_EVENTS)
		return "unknown";
	return mn_event_names[event];
}

struct mmn_notifier_subscriptions *mmn_mm_notifier_subscriptions(const struct mmn_mm *mm)
{
	return __atomic_load_n(&mm->notifier_subscriptions, __ATOMIC_ACQUIRE);
}

/* mm_has_notifiers() and the pointer in one acquire load. */
static inline struct mmn_notifier_subscriptions *mn_subs(const struct mmn_mm *mm)
{
	return __atomic_load_n(&mm->notifier_subscriptions, __ATOMIC_ACQUIRE);
}

/*
 * The oracle's bookkeeping of invalidations in flight (lib/check/inflight.c)
 * is kept only while a listener is linked, and its functions return at once
 * otherwise: the same tests here save the calls.
 */
static inline bool mn_check_links(struct mmn_sim *sim)
{
	return atomic_load_explicit(&sim->check.nr_links, memory_order_relaxed) != 0;
}

/* ------------------------------------------------------------------ */
/* The start/end pairing check                                         */
/* ------------------------------------------------------------------ */

/*
 * Each actor's outstanding invalidate_range_start()s, in the running actor's
 * block (struct mmn__local, lib/check): under the native backend an actor is
 * a thread and the block is thread-local, so no lock, no lookup; under the
 * deterministic backend's user-level actors the switch makes the resumed
 * actor's block current. Entries name their mm, so one thread acting in two
 * simulations is fine. Deeper nesting than MMN__PAIR_MAX is counted, not
 * checked.
 */
static inline void mn_pair_push(const struct mmn_notifier_range *r)
{
	struct mmn__mn_pairing *p = &mmn__local()->mn_pairs;

	if (mmn_unlikely(p->depth == MMN__PAIR_MAX)) {
		p->overflow++;
		return;
	}
	p->e[p->depth].mm = r->mm;
	p->e[p->depth].start = r->start;
	p->e[p->depth].end = r->end;
	p->depth++;
}

/* mn_pair_pop() past its first test: a deeper match, or the overflow. */
static __attribute__((noinline)) bool mn_pair_pop_deep(struct mmn__mn_pairing *p,
							const struct mmn_notifier_range *r)
{
	for (int i = p->depth - 1; i >= 0; i--) {
		if (p->e[i].mm != r->mm || p->e[i].start != r->start || p->e[i].end != r->end)
			continue;
		for (int j = i + 1; j < p->depth; j++)
			p->e[j - 1] = p->e[j];
		p->depth--;
		return true;
	}
	if (p->overflow) {
		p->overflow--;
		return true;
	}
	return false;
}

/*
 * Remove the innermost matching start; false if there is none. The
 * innermost start is the common match (pairs nest): tested first, inline.
 */
static inline bool mn_pair_pop(const struct mmn_notifier_range *r)
{
	struct mmn__mn_pairing *p = &mmn__local()->mn_pairs;
	int top = p->depth - 1;

	if (mmn_likely(top >= 0) && p->e[top].mm == r->mm && p->e[top].start == r->start &&
	    p->e[top].end == r->end) {
		p->depth = top;
		return true;
	}
	return mn_pair_pop_deep(p, r);
}

int mmn_notifier_pairing_depth(void)
{
	const struct mmn__mn_pairing *p = &mmn__local()->mn_pairs;

	return p->depth + p->overflow;
}

void mmn_notifier_pairing_reset(void)
{
	struct mmn__mn_pairing *p = &mmn__local()->mn_pairs;

	memset(p, 0, sizeof(*p));
}

/* ------------------------------------------------------------------ */
/* Calling a callback                                                  */
/* ------------------------------------------------------------------ */

/*
 * What a dispatch needs to call callbacks, looked up once per dispatch:
 * whether a scheduling-point hook is installed, and whether the checks are
 * on. The checks follow cfg.lockdep, fixed for the simulation's life: with
 * lockdep off might_sleep() and the non-blocking sections are no-ops of the
 * sync layer anyway, and the actor's context is only kept when a hook is
 * installed (lockdep off is the mode for measuring bare costs, sim.h).
 */
struct mn_walk {
	struct mmn_sim *sim;
	bool slow;      /* the sync layer's slow flag, when the walk began */
	bool hook;      /* a scheduling-point hook is installed */
	bool checks;    /* cfg.lockdep: might_sleep, non_block, context */
	bool ctx_set;   /* prev_ctx must be restored */
	const char *prev_ctx;
};

/*
 * The sync layer's slow flag, through the notifier domain: set while lockdep
 * is on, a scheduling-point hook is installed or the backend is the
 * deterministic one (the only one that writes a trace). Clear: no hook to
 * ask about, no span to write, no lock class to check.
 */
static inline bool mn_slow(const struct mmn_sim *sim)
{
	const unsigned char *slow = sim->notifier_srcu.slow;

	return !slow || __atomic_load_n(slow, __ATOMIC_RELAXED);
}

static inline void mn_walk_init_slow(struct mn_walk *w, struct mmn_sim *sim, bool slow)
{
	w->sim = sim;
	w->slow = slow;
	w->hook = slow && mmn_sched_hook_active(sim);
	w->checks = slow && sim->cfg.lockdep; /* lockdep sets the slow flag */
	w->ctx_set = false;
	w->prev_ctx = NULL;
}

static inline void mn_walk_init(struct mn_walk *w, struct mmn_sim *sim)
{
	mn_walk_init_slow(w, sim, mn_slow(sim));
}

/*
 * srcu_read_lock(&srcu) / srcu_read_unlock() of a walk: with the slow flag
 * clear when the walk began, the sync layer's inline read side (what
 * mmn_srcu_read_lock() does then, lib/sync/srcu_fast.h); else the library's
 * calls, which take their slow path (lockdep, the hook, the deterministic
 * backend's own SRCU). One walk locks and unlocks the same way.
 */
static inline int mn_srcu_lock(const struct mn_walk *w)
{
	if (w->slow)
		return mmn_srcu_read_lock(&w->sim->notifier_srcu);
	return mmn__srcu_read_lock_fast(&w->sim->notifier_srcu);
}

static inline void mn_srcu_unlock(const struct mn_walk *w, int idx)
{
	if (w->slow)
		mmn_srcu_read_unlock(&w->sim->notifier_srcu, idx);
	else
		mmn__srcu_read_unlock_fast(&w->sim->notifier_srcu, idx);
}

/* Name what the actor does while the core walks (mmn_actor_set_context()). */
static inline void mn_ctx_enter(struct mn_walk *w, const char *ctx)
{
	w->ctx_set = w->checks || w->hook;
	if (w->ctx_set)
		w->prev_ctx = mmn_actor_set_context(w->sim, ctx);
}

static inline void mn_ctx_leave(struct mn_walk *w)
{
	if (w->ctx_set)
		mmn_actor_set_context(w->sim, w->prev_ctx);
	w->ctx_set = false;
}

/* might_sleep() without the call when the checks are off. */
static inline void mn_might_sleep(struct mmn_sim *sim)
{
	if (sim->cfg.lockdep)
		mmn_might_sleep(sim);
}

static __attribute__((noinline, cold)) void mn_report_dead(struct mmn_sim *sim, const void *sub,
							    const char *name, unsigned long addr)
{
	mmn_reportf(sim, MMN_VIOL_PROTOCOL, addr, 0,
		    "%s called on subscription %p after mmn_notifier_unregister() returned "
		    "(or its free began)",
		    name, sub);
}

/*
 * Around every callback: the scheduling point first (a hook there may
 * block), then the non-blocking section for callbacks that must not sleep,
 * then the "dead" check.
 */
static inline void mn_cb_enter(const struct mn_walk *w, struct mmn_notifier *sub,
			       const char *name, unsigned long addr, bool nonblock)
{
	if (w->hook)
		mmn_sched_point(w->sim, MMN_SCHED_CALLBACK_ENTER, sub, name, addr);
	if (nonblock && w->checks)
		mmn_non_block_start(w->sim);
	if (mmn_unlikely(__atomic_load_n(&sub->dead, __ATOMIC_RELAXED)))
		mn_report_dead(w->sim, sub, name, addr);
}

static inline void mn_cb_exit(const struct mn_walk *w, struct mmn_notifier *sub,
			      const char *name, unsigned long addr, bool nonblock)
{
	if (nonblock && w->checks)
		mmn_non_block_end(w->sim);
	if (w->hook)
		mmn_sched_point(w->sim, MMN_SCHED_CALLBACK_EXIT, sub, name, addr);
}

/* ------------------------------------------------------------------ */
/* The subscription list                                               */
/* ------------------------------------------------------------------ */

static inline struct mmn_notifier *mn_hlist_first(struct mmn_notifier_subscriptions *subs)
{
	return __atomic_load_n(&subs->list, __ATOMIC_ACQUIRE);
}

static inline struct mmn_notifier *mn_hlist_next(struct mmn_notifier *sub)
{
	return __atomic_load_n(&sub->hnext, __ATOMIC_ACQUIRE);
}

#define mn_hlist_for_each(sub, subs) \
	for ((sub) = mn_hlist_first(subs); (sub); (sub) = mn_hlist_next(sub))

/* hlist_add_head_rcu(). */
static void mn_hlist_add_head(struct mmn_notifier_subscriptions *subs, struct mmn_notifier *sub)
{
	mmn__lockdep_assert_held(&subs->lock, "notifier_subscriptions");

	__atomic_store_n(&sub->hnext, subs->list, __ATOMIC_RELAXED);
	__atomic_store_n(&sub->hashed, 1, __ATOMIC_RELAXED);
	/* Publish: a reader that sees @sub sees its initialised fields. */
	__atomic_store_n(&subs->list, sub, __ATOMIC_RELEASE);
}

/*
 * hlist_del_init_rcu(); @sub is hashed. @sub's
 * own link is kept, so a reader standing on it continues down the list.
 */
static void mn_hlist_del(struct mmn_notifier_subscriptions *subs, struct mmn_notifier *sub)
{
	struct mmn_notifier **pp = &subs->list;

	mmn__lockdep_assert_held(&subs->lock, "notifier_subscriptions");
	while (*pp && *pp != sub)
		pp = &(*pp)->hnext;
	if (*pp)
		__atomic_store_n(pp, sub->hnext, __ATOMIC_RELEASE);
	__atomic_store_n(&sub->hashed, 0, __ATOMIC_RELAXED);
}

static void mn_secondary_flush_walk(struct mmn_mm *mm, unsigned long start, unsigned long end,
				    bool arch);

static void mn_actor_unwound(struct mmn_sim *sim);
static void mn_run_unwound(struct mmn_sim *sim);

/*
 * The notifier's entry points that lib/mm calls through its hooks: the
 * secondary flush of a CPU TLB flush (the flush walk below) and __mmdrop()'s
 * mmu_notifier_subscriptions_destroy().
 */
void mmn__notifier_sim_init(struct mmn_sim *sim)
{
	sim->tlb_secondary_hook = mn_secondary_flush_walk;
	sim->subscriptions_destroy_hook = mmn_notifier_subscriptions_destroy;
	sim->actor_unwound_hook = mn_actor_unwound;
	sim->run_unwound_hook = mn_run_unwound;
}

static struct mmn_notifier_subscriptions *mn_subscriptions_alloc(struct mmn_mm *mm)
{
	struct mmn_notifier_subscriptions *subs = calloc(1, sizeof(*subs));

	if (!subs)
		return NULL;
	mmn_spin_lock_init(&subs->lock, mm->sim, &mn_subscriptions_lock_class,
			   "notifier_subscriptions");
	subs->invalidate_seq = 2;
	mmn_waitqueue_init(&subs->wq, mm->sim, "notifier_subscriptions.wq");
	return subs;
}

/* An unpublished allocation of mn_subscriptions_alloc(). */
static void mn_subscriptions_free(struct mmn_notifier_subscriptions *subs)
{
	mmn_spin_lock_destroy(&subs->lock);
	mmn_waitqueue_destroy(&subs->wq);
	free(subs);
}

void mmn_notifier_subscriptions_destroy(struct mmn_mm *mm)
{
	struct mmn_notifier_subscriptions *subs = mm->notifier_subscriptions;
	int n = 0;

	if (!subs)
		return;
	for (struct mmn_notifier *s = subs->list; s; s = s->hnext)
		n++;
	if (n)
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "mm %u freed with %d notifier subscription(s) still registered "
			    "(the kernel BUGs in __mmu_notifier_subscriptions_destroy())",
			    mm->id, n);
	if (subs->itree.root || subs->deferred_list)
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "mm %u freed with interval notifiers still inserted", mm->id);
	if (subs->active_invalidate_ranges)
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "mm %u freed with %lu invalidation(s) still in progress", mm->id,
			    subs->active_invalidate_ranges);
	mmn_spin_lock_destroy(&subs->lock);
	mmn_waitqueue_destroy(&subs->wq);
	free(subs);
	mm->notifier_subscriptions = NULL;
}

/* ------------------------------------------------------------------ */
/* Registration                                                        */
/* ------------------------------------------------------------------ */

/* mmap_assert_write_locked(): 0 if the calling actor holds it for write. */
static int mn_assert_write_locked(struct mmn_mm *mm, const char *fn)
{
	int held = mmn_lockdep_is_held(&mm->mmap_lock);

	/* Held by someone for write, and (when lockdep can tell) by us: then
	 * it is our write hold, since a reader would exclude every writer. */
	if (mmn_rwsem_is_write_locked(&mm->mmap_lock) && held != 0)
		return 0;
	mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, 0, 0, "%s() without mmap_lock held for write", fn);
	return -EINVAL;
}

/* The kernel refuses secondary-TLB subscribers that also do start/end (6.6+). */
static bool mn_ops_valid(const struct mmn_notifier_ops *ops)
{
	return ops && !(ops->arch_invalidate_secondary_tlbs &&
			(ops->invalidate_range_start || ops->invalidate_range_end));
}

/*
 * __mmu_notifier_register() body; mmap_lock held for write. A NULL @sub
 * switches the mm to interval mode (has_itree), as in the kernel. The
 * subscription goes on the list (or has_itree is set) between
 * mm_take_all_locks() and mm_drop_all_locks() (6.19 mm/mmu_notifier.c
 * __mmu_notifier_register(), the same since 2.6.27): an rmap walker
 * (try_to_unmap_one(), try_to_migrate_one(), ...) holds an anon_vma or
 * i_mmap lock for read across its start..end without mmap_lock, so without
 * them a subscriber could join between a start and its end and get the end
 * alone:
 *
 *   reclaimer (rmap walk)            registration
 *   ---------------------            ------------
 *   anon_vma read lock               mmap_write_lock
 *   start(page): A is called
 *   L, clear, U                      mm_take_all_locks: waits for the
 *   end(page): A is called           anon_vma lock
 *   anon_vma unlock                  ... gets it, adds B, drops it
 */
static int mn_register_locked(struct mmn_notifier *sub, struct mmn_mm *mm,
			      struct mmn_notifier_subscriptions *subs)
{
	struct mmn_all_locks all;
	int ret = mmn__mm_take_all_locks(mm, &all);

	if (ret)
		return ret;
	if (subs)
		__atomic_store_n(&mm->notifier_subscriptions, subs, __ATOMIC_RELEASE);
	subs = mm->notifier_subscriptions;
	if (!sub) {
		__atomic_store_n(&subs->has_itree, true, __ATOMIC_RELEASE);
		mmn__mm_drop_all_locks(&all);
		return 0;
	}
	/* Pairs with the mmdrop() of unregister or of the deferred free. */
	mmn_mmgrab(mm);
	sub->mm = mm;
	sub->users = 1;
	__atomic_store_n(&sub->release_calls, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sub->release_claimed, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&sub->dead, 0, __ATOMIC_RELAXED);
	mmn_spin_lock(&subs->lock);
	mn_hlist_add_head(subs, sub);
	mmn_spin_unlock(&subs->lock);
	mmn__mm_drop_all_locks(&all);
	return 0;
}

static int mn_register(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	struct mmn_notifier_subscriptions *subs = NULL;
	int ret;

	if (mmn__mm_dead(mm))
		return -EINVAL;
	if (sub) {
		unsigned char expect = 0;

		if (!__atomic_compare_exchange_n(&sub->registered, &expect, 1, false,
						 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			return -EBUSY;
	}
	if (!mm->notifier_subscriptions) {
		subs = mn_subscriptions_alloc(mm);
		if (!subs) {
			ret = -ENOMEM;
			goto fail;
		}
	}
	ret = mn_register_locked(sub, mm, subs);
	if (!ret)
		return 0;
	if (subs)
		mn_subscriptions_free(subs);
fail:
	if (sub)
		__atomic_store_n(&sub->registered, 0, __ATOMIC_RELEASE);
	return ret;
}

/* mmu_notifier_register() / __mmu_notifier_register(), 2.6.27+. */
int __mmn_notifier_register(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	if (!sub || !mm || !mn_ops_valid(sub->ops))
		return -EINVAL;
	if (mn_assert_write_locked(mm, "__mmn_notifier_register"))
		return -EINVAL;
	return mn_register(sub, mm);
}

int mmn_notifier_register(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	int ret;

	if (!sub || !mm || !mn_ops_valid(sub->ops))
		return -EINVAL;
	mmn_mmap_write_lock(mm);
	ret = mn_register(sub, mm);
	mmn_mmap_write_unlock(mm);
	return ret;
}

/* Whoever claims first calls ->release: exit and unregister may race. */
static inline bool mn_claim_release(struct mmn_notifier *sub)
{
	return __atomic_exchange_n(&sub->release_claimed, 1, __ATOMIC_ACQ_REL) == 0;
}

/* Call ->release, checking it runs once per registration. */
static void mn_call_release(const struct mn_walk *w, struct mmn_notifier *sub, struct mmn_mm *mm)
{
	unsigned int n = __atomic_add_fetch(&sub->release_calls, 1, __ATOMIC_RELAXED);

	if (n > 1)
		mmn_reportf(w->sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "release called %u times on subscription %p (once expected)", n,
			    (void *)sub);
	mn_cb_enter(w, sub, "release", 0, false);
	sub->ops->release(sub, mm);
	mn_cb_exit(w, sub, "release", 0, false);
}

/* mmu_notifier_unregister(), 2.6.27+. */
int mmn_notifier_unregister(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	struct mmn_notifier_subscriptions *subs;
	struct mmn_sim *sim;
	unsigned char expect = 1;

	if (!sub || !mm)
		return -EINVAL;
	if (!__atomic_load_n(&sub->registered, __ATOMIC_ACQUIRE))
		return -ENOENT;
	if (sub->mm != mm)
		return -EINVAL;
	if (!__atomic_compare_exchange_n(&sub->registered, &expect, 0, false, __ATOMIC_ACQ_REL,
					 __ATOMIC_ACQUIRE))
		return -ENOENT;
	sim = mm->sim;
	subs = mm->notifier_subscriptions;

	if (__atomic_load_n(&sub->hashed, __ATOMIC_ACQUIRE)) {
		/* Inside a read section, so that exit_mmap's synchronize waits
		 * for this ->release before freeing the pages. */
		if (mn_claim_release(sub) && sub->ops->release) {
			struct mn_walk w;
			int idx;

			mn_walk_init(&w, sim);
			mn_ctx_enter(&w, "release");
			idx = mn_srcu_lock(&w);
			mn_call_release(&w, sub, mm);
			mn_srcu_unlock(&w, idx);
			mn_ctx_leave(&w);
		}
		mmn_spin_lock(&subs->lock);
		/* exit's release may have unlinked it meanwhile. */
		if (__atomic_load_n(&sub->hashed, __ATOMIC_RELAXED))
			mn_hlist_del(subs, sub);
		mmn_spin_unlock(&subs->lock);
	}
	/* Wait for every callback in flight, including a ->release that
	 * exit_mmap started. */
	mmn_synchronize_srcu(&sim->notifier_srcu);
	__atomic_store_n(&sub->dead, 1, __ATOMIC_RELEASE);
	mmn_mmdrop(mm);
	return 0;
}

/* find_get_mmu_notifier() + alloc, 5.4+. */
struct mmn_notifier *mmn_notifier_get_locked(const struct mmn_notifier_ops *ops,
					     struct mmn_mm *mm)
{
	struct mmn_notifier_subscriptions *subs;
	struct mmn_notifier *sub;
	int ret;

	if (!ops || !mm || !ops->alloc_notifier || !ops->free_notifier) {
		errno = EINVAL;
		return NULL;
	}
	if (mn_assert_write_locked(mm, "mmn_notifier_get_locked")) {
		errno = EINVAL;
		return NULL;
	}
	subs = mm->notifier_subscriptions;
	if (subs) {
		mmn_spin_lock(&subs->lock);
		for (sub = subs->list; sub; sub = sub->hnext) {
			if (sub->ops != ops)
				continue;
			if (sub->users == UINT_MAX) {
				mmn_spin_unlock(&subs->lock);
				errno = EOVERFLOW;
				return NULL;
			}
			sub->users++;
			mmn_spin_unlock(&subs->lock);
			return sub;
		}
		mmn_spin_unlock(&subs->lock);
	}
	if (!mn_ops_valid(ops)) {
		errno = EINVAL;
		return NULL;
	}
	sub = ops->alloc_notifier(mm);
	if (!sub) {
		errno = ENOMEM;
		return NULL;
	}
	/* A fresh struct from the allocator: the core's fields start clean. */
	memset(sub, 0, sizeof(*sub));
	sub->ops = ops;
	ret = mn_register(sub, mm);
	if (ret) {
		ops->free_notifier(sub);
		errno = -ret;
		return NULL;
	}
	return sub;
}

struct mmn_notifier *mmn_notifier_get(const struct mmn_notifier_ops *ops, struct mmn_mm *mm)
{
	struct mmn_notifier *sub;

	if (!ops || !mm) {
		errno = EINVAL;
		return NULL;
	}
	mmn_mmap_write_lock(mm);
	sub = mmn_notifier_get_locked(ops, mm);
	mmn_mmap_write_unlock(mm);
	return sub;
}

/* mmu_notifier_free_rcu(): after the grace period of the last put. */
static void mn_free_rcu(struct mmn_rcu_head *head)
{
	struct mmn_notifier *sub = mmn_container_of(head, struct mmn_notifier, rcu);
	struct mmn_mm *mm = sub->mm;

	__atomic_store_n(&sub->dead, 1, __ATOMIC_RELEASE);
	sub->ops->free_notifier(sub);
	/* Pairs with the mmgrab() of registration. */
	mmn_mmdrop(mm);
}

/* mmu_notifier_put(), 5.4+. */
void mmn_notifier_put(struct mmn_notifier *sub)
{
	struct mmn_notifier_subscriptions *subs;
	struct mmn_mm *mm;

	if (!sub || !sub->mm)
		return;
	mm = sub->mm;
	subs = mm->notifier_subscriptions;
	if (!subs)
		return;
	if (!sub->ops || !sub->ops->free_notifier) {
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "mmn_notifier_put() on subscription %p whose ops have no free_notifier "
			    "(registered with mmn_notifier_register()?)",
			    (void *)sub);
		return;
	}
	mmn_spin_lock(&subs->lock);
	if (sub->users == 0) {
		mmn_spin_unlock(&subs->lock);
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "mmn_notifier_put() on subscription %p without a reference", (void *)sub);
		return;
	}
	if (--sub->users) {
		mmn_spin_unlock(&subs->lock);
		return;
	}
	if (__atomic_load_n(&sub->hashed, __ATOMIC_RELAXED))
		mn_hlist_del(subs, sub);
	__atomic_store_n(&sub->registered, 0, __ATOMIC_RELEASE);
	mmn_spin_unlock(&subs->lock);
	mmn_call_srcu(&mm->sim->notifier_srcu, &sub->rcu, mn_free_rcu);
}

/* mmu_notifier_synchronize(), 5.4+. */
void mmn_notifier_synchronize(struct mmn_sim *sim)
{
	if (sim)
		mmn_srcu_barrier(&sim->notifier_srcu);
}

/* ------------------------------------------------------------------ */
/* The interval tree side                                              */
/* ------------------------------------------------------------------ */

static inline unsigned long mn_seq_load(const unsigned long *p)
{
	return __atomic_load_n(p, __ATOMIC_ACQUIRE);
}

static inline bool mn_itree_is_invalidating(const struct mmn_notifier_subscriptions *subs)
{
	mmn__lockdep_assert_held(&subs->lock, "notifier_subscriptions");
	return subs->invalidate_seq & 1;
}

static inline struct mmn_interval_notifier *mn_itree_entry(struct mmn_interval_tree_node *node)
{
	return node ? mmn_container_of(node, struct mmn_interval_notifier, interval_tree) : NULL;
}

/* The deferred list (an hlist), under subs->lock. */
static void mn_deferred_add(struct mmn_notifier_subscriptions *subs,
			    struct mmn_interval_notifier *isub)
{
	isub->deferred_next = subs->deferred_list;
	if (isub->deferred_next)
		isub->deferred_next->deferred_pprev = &isub->deferred_next;
	subs->deferred_list = isub;
	isub->deferred_pprev = &subs->deferred_list;
	isub->deferred = 1;
}

static void mn_deferred_del(struct mmn_interval_notifier *isub)
{
	*isub->deferred_pprev = isub->deferred_next;
	if (isub->deferred_next)
		isub->deferred_next->deferred_pprev = isub->deferred_pprev;
	isub->deferred_next = NULL;
	isub->deferred_pprev = NULL;
	isub->deferred = 0;
}

/*
 * mn_itree_inv_start_range() (5.5+): count the invalidation in and, if an
 * interval overlaps [start, end - 1], make the sequence odd and return the
 * first such interval with the odd sequence in *@seq.
 */
static struct mmn_interval_notifier *
mn_itree_inv_start_range(struct mmn_notifier_subscriptions *subs,
			 const struct mmn_notifier_range *range, unsigned long *seq)
{
	struct mmn_interval_tree_node *node;

	mmn_spin_lock(&subs->lock);
	subs->active_invalidate_ranges++;
	node = mmn_itree_iter_first(&subs->itree, range->start, range->end - 1);
	if (node)
		__atomic_store_n(&subs->invalidate_seq, subs->invalidate_seq | 1,
				 __ATOMIC_RELEASE);
	*seq = subs->invalidate_seq;
	mmn_spin_unlock(&subs->lock);
	return mn_itree_entry(node);
}

/* mn_itree_inv_next() (5.5+): the tree is frozen while the walk runs. */
static inline struct mmn_interval_notifier *
mn_itree_inv_next(struct mmn_interval_notifier *isub, const struct mmn_notifier_range *range)
{
	return mn_itree_entry(mmn_itree_iter_next(&isub->interval_tree, range->start,
						   range->end - 1));
}

/* The inserts and removes deferred while the tree was frozen, applied. */
static void mn_itree_apply_deferred(struct mmn_notifier_subscriptions *subs)
{
	struct mmn_interval_notifier *isub;

	while ((isub = subs->deferred_list)) {
		mn_deferred_del(isub);
		if (!isub->in_tree) {
			mmn_itree_insert(&subs->itree, &isub->interval_tree);
			isub->in_tree = 1;
		} else {
			mmn_itree_remove(&subs->itree, &isub->interval_tree);
			isub->in_tree = 0;
		}
	}
}

/*
 * mn_itree_inv_end() (5.5+): count the invalidation out; the last one ends
 * the odd period, applies the deferred inserts and removes, and wakes the
 * readers and removers waiting for the sequence to move.
 */
static void mn_itree_inv_end(struct mmn_sim *sim, struct mmn_notifier_subscriptions *subs)
{
	mmn_spin_lock(&subs->lock);
	if (mmn_unlikely(subs->active_invalidate_ranges == 0)) {
		mmn_spin_unlock(&subs->lock);
		mmn_reportf(sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "interval-tree end with no invalidation active (unpaired end)");
		return;
	}
	if (--subs->active_invalidate_ranges || !mn_itree_is_invalidating(subs)) {
		mmn_spin_unlock(&subs->lock);
		return;
	}
	/* Back to even: the tree may change again. */
	__atomic_store_n(&subs->invalidate_seq, subs->invalidate_seq + 1, __ATOMIC_RELEASE);
	mn_itree_apply_deferred(subs);
	mmn_spin_unlock(&subs->lock);
	mmn_wake_up_all(&subs->wq);
}

/*
 * An actor of the deterministic backend was unwound (a deadlock, or a
 * livelock long past its budget) on this thread: the starts it had not
 * ended are gone with it, so its pairing table starts empty for the next
 * actor the host thread runs.
 */
static void mn_actor_unwound(struct mmn_sim *sim)
{
	(void)sim;
	mmn_notifier_pairing_reset();
}

/*
 * After a run that unwound actors, no actor is left, so every invalidation
 * still counted in was opened by an unwound one and can never end. Close
 * them as mn_itree_inv_end() would (the odd period ends, the deferred
 * inserts and removes are applied), so that removing an interval notifier or
 * reading its sequence does not wait forever and tear-down frees nothing
 * still linked. Single-threaded by construction: no modelled lock is taken.
 * The hlist listeners' own state (a KVM-style in-progress count) is theirs
 * to handle; the run is void for the oracle (mmn_check_quiescent()).
 */
static void mn_run_unwound(struct mmn_sim *sim)
{
	mmn_raw_lock(&sim->mm_list_lock);
	for (struct mmn_mm *mm = sim->mm_list; mm; mm = mm->next) {
		struct mmn_notifier_subscriptions *subs = mn_subs(mm);

		if (!subs || !subs->active_invalidate_ranges)
			continue;
		subs->active_invalidate_ranges = 0;
		if (!(subs->invalidate_seq & 1)) /* mn_itree_is_invalidating(), unlocked */
			continue;
		__atomic_store_n(&subs->invalidate_seq, subs->invalidate_seq + 1, __ATOMIC_RELEASE);
		mn_itree_apply_deferred(subs);
	}
	mmn_raw_unlock(&sim->mm_list_lock);
}

/* One interval callback, with the same bracketing as mn_cb_enter/exit. */
static bool mn_call_interval(const struct mn_walk *w, struct mmn_interval_notifier *isub,
			     const struct mmn_notifier_range *range, unsigned long cur_seq)
{
	bool nonblock = !mmn_notifier_range_blockable(range);
	bool ok;

	if (w->hook)
		mmn_sched_point(w->sim, MMN_SCHED_CALLBACK_ENTER, isub, "invalidate", range->start);
	if (nonblock && w->checks)
		mmn_non_block_start(w->sim);
	if (mmn_unlikely(__atomic_load_n(&isub->state, __ATOMIC_RELAXED) == MN_ITV_NONE))
		mmn_reportf(w->sim, MMN_VIOL_PROTOCOL, range->start, 0,
			    "invalidate called on interval notifier %p after "
			    "mmn_interval_notifier_remove() returned",
			    (void *)isub);
	ok = isub->ops->invalidate(isub, range, cur_seq);
	if (ok && mn_check_links(w->sim))
		mmn__check_told(&w->sim->check, isub, range->mm, range->start, range->end,
				MMN__TOLD_START);
	if (nonblock && w->checks)
		mmn_non_block_end(w->sim);
	if (w->hook)
		mmn_sched_point(w->sim, MMN_SCHED_CALLBACK_EXIT, isub, "invalidate", range->start);
	return ok;
}

/*
 * mn_itree_invalidate() (5.5+). A refusal in a non-blockable range stops
 * the walk, ends the interval side again and returns -EAGAIN (the caller
 * will not call end); in a blockable range it is a kernel WARN and the walk
 * goes on.
 */
static int mn_itree_invalidate(struct mmn_notifier_subscriptions *subs,
			       const struct mmn_notifier_range *range, const struct mn_walk *w)
{
	struct mmn_interval_notifier *isub;
	unsigned long cur_seq;

	for (isub = mn_itree_inv_start_range(subs, range, &cur_seq); isub;
	     isub = mn_itree_inv_next(isub, range)) {
		if (mn_call_interval(w, isub, range, cur_seq))
			continue;
		if (mmn_notifier_range_blockable(range)) {
			mmn_reportf(w->sim, MMN_VIOL_PROTOCOL, range->start, 0,
				    "interval notifier %p refused a blockable invalidation",
				    (void *)isub);
			continue;
		}
		mn_itree_inv_end(w->sim, subs);
		return -EAGAIN;
	}
	return 0;
}

/*
 * mn_itree_release() (5.5+): at mm teardown every interval gets a blockable
 * RELEASE invalidation of the whole address space; the intervals stay
 * inserted until their owners remove them.
 */
static void mn_itree_release(struct mmn_notifier_subscriptions *subs, struct mmn_mm *mm,
			     const struct mn_walk *w)
{
	struct mmn_notifier_range range;
	struct mmn_interval_notifier *isub;
	unsigned long cur_seq;

	mmn_notifier_range_init(&range, MMN_NOTIFY_RELEASE, MMN_NOTIFIER_RANGE_BLOCKABLE, mm, 0,
				ULONG_MAX);
	for (isub = mn_itree_inv_start_range(subs, &range, &cur_seq); isub;
	     isub = mn_itree_inv_next(isub, &range)) {
		if (!mn_call_interval(w, isub, &range, cur_seq))
			mmn_reportf(w->sim, MMN_VIOL_PROTOCOL, 0, 0,
				    "interval notifier %p refused the RELEASE invalidation",
				    (void *)isub);
	}
	mn_itree_inv_end(w->sim, subs);
}

/* ------------------------------------------------------------------ */
/* Invalidation                                                        */
/* ------------------------------------------------------------------ */

/*
 * mn_hlist_invalidate_range_start(), 5.14 and 6.19 (mm/mmu_notifier.c):
 * every subscriber is called even after one fails; then, if any failed,
 * every subscriber that implements invalidate_range_end gets its end (a
 * subscriber whose start can fail must not implement end, the kernel
 * WARNs). The kernel does not wrap those ends in non_block_start(); the
 * model does (they run in the same non-blockable range as any other end).
 * 5.2 __mmu_notifier_invalidate_range_start() (knob
 * start_failure_ends_others false) calls every start and returns the
 * failure, and nobody calls the others' end: a subscriber whose start
 * succeeded stays inside an invalidation that never ends.
 */
static inline __attribute__((always_inline)) int
mn_hlist_invalidate_range_start(struct mmn_notifier_subscriptions *subs,
				struct mmn_notifier_range *range, const struct mn_walk *w)
{
	struct mmn_sim *sim = w->sim;
	bool nonblock = !mmn_notifier_range_blockable(range);
	struct mmn_notifier *sub;
	int ret = 0;
	int idx;

	idx = mn_srcu_lock(w);
	mn_hlist_for_each(sub, subs) {
		const struct mmn_notifier_ops *ops = sub->ops;
		int r;

		if (!ops->invalidate_range_start)
			continue;
		mn_cb_enter(w, sub, "invalidate_range_start", range->start, nonblock);
		r = ops->invalidate_range_start(sub, range);
		mn_cb_exit(w, sub, "invalidate_range_start", range->start, nonblock);
		if (mmn_likely(!r)) {
			if (mn_check_links(sim))
				mmn__check_told(&sim->check, sub, range->mm, range->start,
						range->end, MMN__TOLD_START);
			continue;
		}
		if (!nonblock || r != -EAGAIN)
			mmn_reportf(sim, MMN_VIOL_PROTOCOL, range->start, 0,
				    "invalidate_range_start of %p failed with %d in a %sblockable "
				    "range (only -EAGAIN, only when non-blockable)",
				    (void *)sub, r, nonblock ? "non-" : "");
		if (ops->invalidate_range_end)
			mmn_reportf(sim, MMN_VIOL_PROTOCOL, range->start, 0,
				    "invalidate_range_start of %p failed but it implements "
				    "invalidate_range_end, which the core will still call",
				    (void *)sub);
		ret = r;
	}
	if (ret && sim->profile.start_failure_ends_others) {
		const char *prev = NULL;

		if (w->ctx_set)
			prev = mmn_actor_set_context(sim, "invalidate_range_end");
		mn_hlist_for_each(sub, subs) {
			if (!sub->ops->invalidate_range_end)
				continue;
			mn_cb_enter(w, sub, "invalidate_range_end", range->start, nonblock);
			sub->ops->invalidate_range_end(sub, range);
			mn_cb_exit(w, sub, "invalidate_range_end", range->start, nonblock);
		}
		if (w->ctx_set)
			mmn_actor_set_context(sim, prev);
	}
	mn_srcu_unlock(w, idx);
	return ret;
}

/*
 * __mmu_notifier_invalidate_range_start(): the interval side first; if it
 * fails (non-blocking refusal) the subscription list is not called at all.
 * If the list fails after the interval side succeeded, the interval side
 * stays counted in (the kernel never ends it: the caller must not call end
 * after -EAGAIN). Modelled as the kernel has it.
 */
static inline __attribute__((always_inline)) int
mn_invalidate_range_start(struct mmn_notifier_subscriptions *subs,
			  struct mmn_notifier_range *range, const struct mn_walk *w)
{
	int ret;

	if (__atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE)) {
		/* A copy: @w's address must not escape, or its constant
		 * hook and check fields would be reloaded in the list walk. */
		struct mn_walk wc = *w;

		ret = mn_itree_invalidate(subs, range, &wc);
		if (ret)
			return ret;
	}
	if (mn_hlist_first(subs))
		return mn_hlist_invalidate_range_start(subs, range, w);
	return 0;
}

/* An event outside enum mmn_notify_event: never passed to a callback. */
static bool mn_event_bad(const struct mmn_notifier_range *range)
{
	return mmn_unlikely((unsigned int)range->event >= MMN_NOTIFY_NR_EVENTS);
}

/*
 * Reports an empty or inverted range (still dispatched, as before) and an
 * out-of-range event; returns false for the latter: the caller skips the
 * callbacks (and the interval tree), and end skips them for the same range.
 */
static bool mn_range_check(const struct mmn_notifier_range *range)
{
	if (mmn_unlikely(range->start >= range->end))
		mmn_reportf(range->mm->sim, MMN_VIOL_PROTOCOL, range->start, 0,
			    "invalidation of an empty or inverted range [0x%lx, 0x%lx)",
			    range->start, range->end);
	if (mn_event_bad(range)) {
		mmn_reportf(range->mm->sim, MMN_VIOL_PROTOCOL, range->start, 0,
			    "invalidation with event %u out of range (callbacks not called)",
			    (unsigned int)range->event);
		return false;
	}
	return true;
}

/* For the access-time check: an event under which no frame changes, or
 * make_device_exclusive()'s, whose entry comes back as a device one. */
static unsigned int mn_inval_flags(const struct mmn_notifier_range *range)
{
	if (range->event == MMN_NOTIFY_PROTECTION_VMA ||
	    range->event == MMN_NOTIFY_PROTECTION_PAGE || range->event == MMN_NOTIFY_SOFT_DIRTY)
		return MMN__INVAL_KEEPS_FRAMES;
	return range->event == MMN_NOTIFY_EXCLUSIVE ? MMN__INVAL_EXCLUSIVE : 0;
}

/*
 * The fast path (docs/notifier.md "Nothing paid when nobody listens"): the
 * kernel's inline mmu_notifier_invalidate_range_start()/end() test
 * mm_has_notifiers() and return. mmnsim does the same when, besides, the
 * sync layer's slow flag is clear (no lockdep, no scheduling hook, not the
 * deterministic backend, hence no trace) and the range is one the checks
 * would pass (start < end, a known event). Skipped then: the span lines
 * (written only by a deterministic run's trace anyway) and the start/end
 * pairing check; the dispatch is counted in the mm instead
 * (mmn_notifier_fast_stats()). Start and end decide alike, so a pair is
 * either checked on both sides or on neither, except across a change of the
 * inputs between the two: a subscription registered (or a hook installed)
 * after an unchecked start sends its end down the full path with no start
 * recorded. The unchecked start marks its range (MN_UNCHECKED) for that
 * case: such an end clears the mark and is excused, counted, instead of
 * matched. A hook removed after a checked start leaves that start in the
 * actor's pairing record.
 */
static inline bool mn_range_ok(const struct mmn_notifier_range *range)
{
	return mmn_likely(range->start < range->end) &&
	       mmn_likely((unsigned int)range->event < MMN_NOTIFY_NR_EVENTS);
}

/* A relaxed counter of the mm: exact with one dispatching actor per mm. */
static inline void mn_count(unsigned long *c)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + 1, __ATOMIC_RELAXED);
}

static inline bool mn_fast(const struct mmn_notifier_range *range)
{
	return !mn_subs(range->mm) && !mn_slow(range->mm->sim) && mn_range_ok(range);
}

int mmn_notifier_fast_stats(const struct mmn_mm *mm, struct mmn_notifier_fast_stats *out)
{
	if (!mm || !out)
		return -EINVAL;
	out->starts = __atomic_load_n(&mm->notifier_fast_starts, __ATOMIC_RELAXED);
	out->ends = __atomic_load_n(&mm->notifier_fast_ends, __ATOMIC_RELAXED);
	out->excused = __atomic_load_n(&mm->notifier_excused, __ATOMIC_RELAXED);
	return 0;
}

int mmn_notifier_view_init(struct mmn_notifier_view *v, struct mmn_mm *mm)
{
	if (!v || mmn__mm_dead(mm))
		return -EINVAL;
	v->mm = mm;
	v->subs = &mm->notifier_subscriptions;
	v->slow = mm->sim->notifier_srcu.slow;
	return v->slow ? 0 : -EINVAL;
}

static inline void mn_check_open(struct mmn_sim *sim, const struct mmn_notifier_range *range)
{
	if (mn_check_links(sim))
		mmn__check_inval_open(&sim->check, range->mm, range->start, range->end,
				      mmn_notify_event_name(range->event), mn_inval_flags(range));
}

static inline void mn_check_close(struct mmn_sim *sim, const struct mmn_notifier_range *range)
{
	if (atomic_load_explicit(&sim->check.nr_open, memory_order_relaxed))
		mmn__check_inval_close(&sim->check, range->mm, range->start, range->end);
}

/*
 * The body of both starts: @range->flags set, the span begun when @slow.
 * Returns the callbacks' result when @nonblock (0 otherwise); pushes the
 * pairing record unless it fails.
 */
static inline __attribute__((always_inline)) int
mn_start_dispatch(struct mmn_notifier_range *range, struct mmn_sim *sim, bool slow,
		  bool nonblock)
{
	struct mmn_notifier_subscriptions *subs;
	int ret = 0;

	subs = mn_range_check(range) ? mn_subs(range->mm) : NULL;
	if (subs) {
		struct mn_walk w;

		mn_check_open(sim, range);
		mn_walk_init_slow(&w, sim, slow);
		mn_ctx_enter(&w, "invalidate_range_start");
		ret = mn_invalidate_range_start(subs, range, &w);
		mn_ctx_leave(&w);
		/* A blocking start's failure is reported, not returned: its
		 * end still comes. */
		if (!nonblock)
			ret = 0;
		if (ret)
			mn_check_close(sim, range);
	}
	if (!ret)
		mn_pair_push(range);
	return ret;
}

/* The start with the slow flag set: the spans and the checks. */
static __attribute__((noinline)) int mn_start_slow(struct mmn_notifier_range *range,
						   struct mmn_sim *sim, bool nonblock)
{
	int ret;

	mmn_sched_span_begin(sim, "invalidate_range_start", range->start, range->end,
			     mmn_notify_event_name(range->event));
	if (!nonblock)
		mn_might_sleep(sim);
	ret = mn_start_dispatch(range, sim, true, nonblock);
	mmn_sched_span_end(sim, "invalidate_range_start");
	return ret;
}

/*
 * The start past the fast path. With the slow flag clear the walk runs in a
 * copy where the hook and check tests fold away; the slow flag's copy is
 * a function of its own, so that this one stays small.
 */
static __attribute__((noinline)) int mn_start_full(struct mmn_notifier_range *range,
						   bool nonblock)
{
	struct mmn_sim *sim = range->mm->sim;

	if (mn_slow(sim))
		return mn_start_slow(range, sim, nonblock);
	return mn_start_dispatch(range, sim, false, nonblock);
}

/* mmu_notifier_invalidate_range_start(), 2.6.27+. */
void mmn_notifier_invalidate_range_start(struct mmn_notifier_range *range)
{
	if (!range || !range->mm)
		return;
	if (mn_fast(range)) {
		range->flags |= MMN_NOTIFIER_RANGE_BLOCKABLE | MN_UNCHECKED;
		mn_count(&range->mm->notifier_fast_starts);
		return;
	}
	/* Checked from here: a mark a fast start left is this start's now. */
	range->flags = (range->flags | MMN_NOTIFIER_RANGE_BLOCKABLE) & ~MN_UNCHECKED;
	(void)mn_start_full(range, false);
}

/* mmu_notifier_invalidate_range_start_nonblock(), 4.19+. */
int mmn_notifier_invalidate_range_start_nonblock(struct mmn_notifier_range *range)
{
	if (!range || !range->mm)
		return -EINVAL;
	if (mn_fast(range)) {
		range->flags = (range->flags & ~MMN_NOTIFIER_RANGE_BLOCKABLE) | MN_UNCHECKED;
		mn_count(&range->mm->notifier_fast_starts);
		return 0;
	}
	range->flags &= ~(MMN_NOTIFIER_RANGE_BLOCKABLE | MN_UNCHECKED);
	return mn_start_full(range, true);
}

/*
 * mn_hlist_invalidate_end(). With @call_invalidate_range (pre-6.6 profiles,
 * not only_end) each subscriber's ->invalidate_range runs before its
 * ->invalidate_range_end, as 3.19-6.5 did.
 */
static inline __attribute__((always_inline)) void
mn_hlist_invalidate_end(struct mmn_notifier_subscriptions *subs, struct mmn_notifier_range *range,
			bool call_invalidate_range, const struct mn_walk *w)
{
	struct mmn_sim *sim = w->sim;
	bool nonblock = !mmn_notifier_range_blockable(range);
	struct mmn_notifier *sub;
	int idx;

	idx = mn_srcu_lock(w);
	mn_hlist_for_each(sub, subs) {
		const struct mmn_notifier_ops *ops = sub->ops;

		if (call_invalidate_range && ops->invalidate_range) {
			mn_cb_enter(w, sub, "invalidate_range", range->start, true);
			ops->invalidate_range(sub, range->mm, range->start, range->end);
			mn_cb_exit(w, sub, "invalidate_range", range->start, true);
			mmn__check_told(&sim->check, sub, range->mm, range->start, range->end,
					MMN__TOLD_TLB);
		}
		if (ops->invalidate_range_end) {
			mn_cb_enter(w, sub, "invalidate_range_end", range->start, nonblock);
			ops->invalidate_range_end(sub, range);
			mn_cb_exit(w, sub, "invalidate_range_end", range->start, nonblock);
		}
	}
	mn_srcu_unlock(w, idx);
}

/* An end whose start the pairing record does not hold. */
static __attribute__((noinline, cold)) void
mn_unmatched_end(struct mmn_sim *sim, const struct mmn_notifier_range *range)
{
	mmn_reportf(sim, MMN_VIOL_PROTOCOL, range->start, 0,
		    "invalidate_range_end [0x%lx, 0x%lx) with no matching "
		    "invalidate_range_start by this actor",
		    range->start, range->end);
}

/*
 * The pairing check of an end: its start is popped from the actor's record,
 * or reported missing; unless the start took the fast path (the range's
 * mark), which recorded nothing: the mark is cleared and the end excused.
 */
static inline void mn_end_pair(struct mmn_sim *sim, struct mmn_notifier_range *range)
{
	if (mmn_unlikely(range->flags & MN_UNCHECKED)) {
		range->flags &= ~MN_UNCHECKED;
		mn_count(&range->mm->notifier_excused);
		return;
	}
	if (!mn_pair_pop(range))
		mn_unmatched_end(sim, range);
}

/* The callbacks of an end; inlined twice, so that with the slow flag clear
 * the walk's hook and check tests fold away. */
static inline __attribute__((always_inline)) void
mn_end_dispatch(struct mmn_notifier_subscriptions *subs, struct mmn_notifier_range *range,
		struct mmn_sim *sim, bool slow, bool call_invalidate_range)
{
	struct mn_walk w;

	mn_walk_init_slow(&w, sim, slow);
	mn_ctx_enter(&w, "invalidate_range_end");
	if (__atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE))
		mn_itree_inv_end(sim, subs);
	if (mn_hlist_first(subs))
		mn_hlist_invalidate_end(subs, range, call_invalidate_range, &w);
	mn_ctx_leave(&w);
	mn_check_close(sim, range);
}

/* The end with the slow flag set: the spans and the checks. */
static __attribute__((noinline)) void mn_end_slow(struct mmn_notifier_range *range,
						  struct mmn_sim *sim, bool call_invalidate_range)
{
	struct mmn_notifier_subscriptions *subs;

	mmn_sched_span_begin(sim, "invalidate_range_end", range->start, range->end,
			     mmn_notify_event_name(range->event));
	if (mmn_notifier_range_blockable(range))
		mn_might_sleep(sim);
	mn_end_pair(sim, range);
	subs = mn_event_bad(range) ? NULL : mn_subs(range->mm);
	if (subs)
		mn_end_dispatch(subs, range, sim, true, call_invalidate_range);
	mmn_sched_span_end(sim, "invalidate_range_end");
}

/* The end past the fast path; the slow flag's copy is a function of its own. */
static __attribute__((noinline)) void mn_end_full(struct mmn_notifier_range *range,
						  bool call_invalidate_range)
{
	struct mmn_notifier_subscriptions *subs;
	struct mmn_sim *sim = range->mm->sim;

	if (mn_slow(sim)) {
		mn_end_slow(range, sim, call_invalidate_range);
		return;
	}
	mn_end_pair(sim, range);
	subs = mn_event_bad(range) ? NULL : mn_subs(range->mm);
	/* Two copies again: the 6.6+ end (no ->invalidate_range) folds the
	 * legacy call's test away. */
	if (subs && call_invalidate_range)
		mn_end_dispatch(subs, range, sim, false, true);
	else if (subs)
		mn_end_dispatch(subs, range, sim, false, false);
}

/* __mmu_notifier_invalidate_range_end(range, only_end), 4.15-6.5 signature. */
static inline __attribute__((always_inline)) void
mn_invalidate_range_end(struct mmn_notifier_range *range, bool legacy_invalidate_range,
			bool only_end)
{
	if (!range || !range->mm)
		return;
	if (mn_fast(range)) {
		range->flags &= ~MN_UNCHECKED;
		mn_count(&range->mm->notifier_fast_ends);
		return;
	}
	mn_end_full(range, legacy_invalidate_range && !only_end);
}

void __mmn_notifier_invalidate_range_end(struct mmn_notifier_range *range,
					 bool legacy_invalidate_range, bool only_end)
{
	mn_invalidate_range_end(range, legacy_invalidate_range, only_end);
}

/* mmu_notifier_invalidate_range_end(), 6.6+ (no ->invalidate_range). */
void mmn_notifier_invalidate_range_end(struct mmn_notifier_range *range)
{
	mn_invalidate_range_end(range, false, false);
}

/* ------------------------------------------------------------------ */
/* The other walks of the list                                         */
/* ------------------------------------------------------------------ */

/*
 * Begin a walk of @mm's subscription list for one callback kind: NULL when
 * there is nothing to walk. Otherwise the caller is in an SRCU read section
 * (*@idx) with the actor's context set (in @w) and must call
 * mn_list_walk_end().
 */
static struct mmn_notifier *mn_list_walk_begin(struct mmn_mm *mm, const char *ctx,
					       struct mn_walk *w, int *idx)
{
	struct mmn_notifier_subscriptions *subs;
	struct mmn_notifier *first;

	if (!mm)
		return NULL;
	subs = mn_subs(mm);
	if (!subs || !mn_hlist_first(subs))
		return NULL;
	mn_walk_init(w, mm->sim);
	mn_ctx_enter(w, ctx);
	*idx = mn_srcu_lock(w);
	first = mn_hlist_first(subs);
	if (!first) {
		mn_srcu_unlock(w, *idx);
		mn_ctx_leave(w);
	}
	return first;
}

static void mn_list_walk_end(struct mmn_mm *mm, int idx, struct mn_walk *w)
{
	(void)mm;
	mn_srcu_unlock(w, idx);
	mn_ctx_leave(w);
}

/*
 * The secondary-TLB flush walk, shared by mmu_notifier_arch_invalidate_
 * secondary_tlbs() (6.6+, from the CPU TLB flush) and its predecessor
 * mmu_notifier_invalidate_range() (3.19-6.5): both run under the PTL.
 */
static void mn_secondary_flush_walk(struct mmn_mm *mm, unsigned long start, unsigned long end,
				    bool arch)
{
	const char *name = arch ? "arch_invalidate_secondary_tlbs" : "invalidate_range";
	struct mmn_notifier *sub;
	struct mn_walk w;
	int idx;

	sub = mn_list_walk_begin(mm, name, &w, &idx);
	if (!sub)
		return;
	for (; sub; sub = mn_hlist_next(sub)) {
		void (*fn)(struct mmn_notifier *, struct mmn_mm *, unsigned long, unsigned long) =
			arch ? sub->ops->arch_invalidate_secondary_tlbs : sub->ops->invalidate_range;

		if (!fn)
			continue;
		mn_cb_enter(&w, sub, name, start, true);
		fn(sub, mm, start, end);
		mn_cb_exit(&w, sub, name, start, true);
		mmn__check_told(&mm->sim->check, sub, mm, start, end, MMN__TOLD_TLB);
	}
	mn_list_walk_end(mm, idx, &w);
}

/* mmu_notifier_arch_invalidate_secondary_tlbs(), 6.6+. */
/*
 * The public entries of the secondary flush refuse what start/end report:
 * an inverted range is reported (MMN_VIOL_PROTOCOL) and not passed on. The
 * library's own flushes come through sim->tlb_secondary_hook, unchecked.
 */
static bool mn_flush_range_bad(struct mmn_mm *mm, unsigned long start, unsigned long end,
			       const char *name)
{
	if (!mm)
		return true;
	if (mmn_unlikely(start > end)) {
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, start, 0,
			    "%s of an inverted range [0x%lx, 0x%lx) (callbacks not called)", name,
			    start, end);
		return true;
	}
	return false;
}

void mmn_notifier_arch_invalidate_secondary_tlbs(struct mmn_mm *mm, unsigned long start,
						 unsigned long end)
{
	if (!mn_flush_range_bad(mm, start, end, "arch_invalidate_secondary_tlbs"))
		mn_secondary_flush_walk(mm, start, end, true);
}

/*
 * The two aging walks (mmu_notifier_clear_flush_young(), 2.6.27+, and
 * mmu_notifier_clear_young(), 3.15+): every subscriber with the callback is
 * asked, the answers are OR'ed.
 */
static int mn_clear_young_walk(struct mmn_mm *mm, unsigned long start, unsigned long end,
			       bool flush)
{
	const char *name = flush ? "clear_flush_young" : "clear_young";
	struct mmn_notifier *sub;
	struct mn_walk w;
	int young = 0;
	int idx;

	sub = mn_list_walk_begin(mm, name, &w, &idx);
	if (!sub)
		return 0;
	for (; sub; sub = mn_hlist_next(sub)) {
		int (*fn)(struct mmn_notifier *, struct mmn_mm *, unsigned long, unsigned long) =
			flush ? sub->ops->clear_flush_young : sub->ops->clear_young;

		if (fn) {
			mn_cb_enter(&w, sub, name, start, true);
			young |= fn(sub, mm, start, end);
			mn_cb_exit(&w, sub, name, start, true);
		}
	}
	mn_list_walk_end(mm, idx, &w);
	return young;
}

int mmn_notifier_clear_flush_young(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	return mn_clear_young_walk(mm, start, end, true);
}

int mmn_notifier_clear_young(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	return mn_clear_young_walk(mm, start, end, false);
}

/* mmu_notifier_test_young(), 2.6.27+: stops at the first young answer. */
int mmn_notifier_test_young(struct mmn_mm *mm, unsigned long address)
{
	static const char name[] = "test_young";
	struct mmn_notifier *sub;
	struct mn_walk w;
	int young = 0;
	int idx;

	sub = mn_list_walk_begin(mm, name, &w, &idx);
	if (!sub)
		return 0;
	for (; sub; sub = mn_hlist_next(sub)) {
		if (sub->ops->test_young) {
			mn_cb_enter(&w, sub, name, address, true);
			young = sub->ops->test_young(sub, mm, address);
			mn_cb_exit(&w, sub, name, address, true);
			if (young)
				break;
		}
	}
	mn_list_walk_end(mm, idx, &w);
	return young;
}

/* mmu_notifier_invalidate_page(), 2.6.27-4.12: may sleep. */
void mmn_notifier_invalidate_page(struct mmn_mm *mm, unsigned long address)
{
	static const char name[] = "invalidate_page";
	struct mmn_notifier *sub;
	struct mn_walk w;
	int idx;

	sub = mn_list_walk_begin(mm, name, &w, &idx);
	if (!sub)
		return;
	for (; sub; sub = mn_hlist_next(sub)) {
		if (sub->ops->invalidate_page) {
			mn_cb_enter(&w, sub, name, address, false);
			sub->ops->invalidate_page(sub, mm, address);
			mn_cb_exit(&w, sub, name, address, false);
			mmn__check_told(&mm->sim->check, sub, mm, address,
					address + MMN_PAGE_SIZE, MMN__TOLD_PAGE);
		}
	}
	mn_list_walk_end(mm, idx, &w);
}

/* mmu_notifier_invalidate_range(), 3.19-6.5: under the PTL. */
void mmn_notifier_invalidate_range(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	if (!mn_flush_range_bad(mm, start, end, "invalidate_range"))
		mn_secondary_flush_walk(mm, start, end, false);
}

/* mmu_notifier_change_pte(), 2.6.29-6.9: under the PTL. */
void mmn_notifier_change_pte(struct mmn_mm *mm, unsigned long address, mmn_pte_t pte)
{
	static const char name[] = "change_pte";
	struct mmn_notifier *sub;
	struct mn_walk w;
	int idx;

	sub = mn_list_walk_begin(mm, name, &w, &idx);
	if (!sub)
		return;
	for (; sub; sub = mn_hlist_next(sub)) {
		if (sub->ops->change_pte) {
			mn_cb_enter(&w, sub, name, address, true);
			sub->ops->change_pte(sub, mm, address, pte);
			mn_cb_exit(&w, sub, name, address, true);
		}
	}
	mn_list_walk_end(mm, idx, &w);
}

/* ------------------------------------------------------------------ */
/* Release at mm teardown                                              */
/* ------------------------------------------------------------------ */

/*
 * mn_hlist_release(): every listed subscription gets ->release (unless a
 * concurrent unregister claimed it), then all are unlinked, then a grace
 * period lets any ->release run by unregister finish before exit_mmap goes
 * on to free pages. The read section spans the unlinking too, so a
 * concurrent put's deferred free cannot complete while the walk stands on
 * the node it frees.
 */
static void mn_hlist_release(struct mmn_notifier_subscriptions *subs, struct mmn_mm *mm,
			     const struct mn_walk *w)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_notifier *sub;
	int idx;

	idx = mn_srcu_lock(w);
	mn_hlist_for_each(sub, subs) {
		if (mn_claim_release(sub) && sub->ops->release)
			mn_call_release(w, sub, mm);
	}
	mmn_spin_lock(&subs->lock);
	while ((sub = subs->list)) {
		__atomic_store_n(&subs->list, sub->hnext, __ATOMIC_RELEASE);
		__atomic_store_n(&sub->hashed, 0, __ATOMIC_RELAXED);
	}
	mmn_spin_unlock(&subs->lock);
	mn_srcu_unlock(w, idx);
	mmn_synchronize_srcu(&sim->notifier_srcu);
}

/* mmu_notifier_release() → __mmu_notifier_release(), 2.6.27+. */
void mmn_notifier_release(struct mmn_mm *mm)
{
	struct mmn_notifier_subscriptions *subs;
	struct mn_walk w;

	if (!mm)
		return;
	subs = mn_subs(mm);
	if (!subs)
		return;
	mn_walk_init(&w, mm->sim);
	mn_ctx_enter(&w, "release");
	if (__atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE))
		mn_itree_release(subs, mm, &w);
	if (mn_hlist_first(subs))
		mn_hlist_release(subs, mm, &w);
	mn_ctx_leave(&w);
}

/* ------------------------------------------------------------------ */
/* Interval notifiers                                                  */
/* ------------------------------------------------------------------ */

/*
 * __mmu_interval_notifier_insert() (5.5+). While invalidations are active
 * the new interval must be treated as already invalidated: if the sequence
 * is odd the tree is frozen and the insert is deferred; if it is even (the
 * active invalidations overlap no interval) the interval is inserted and the
 * sequence made odd. Either way the interval starts with the current
 * sequence, so its first read_begin waits for the period to end. With no
 * invalidation active it starts one below the even sequence: odd, and never
 * equal to the current one.
 */
static int mn_interval_insert(struct mmn_interval_notifier *isub, struct mmn_mm *mm,
			      unsigned long start, unsigned long length,
			      const struct mmn_interval_notifier_ops *ops, bool locked)
{
	struct mmn_notifier_subscriptions *subs;
	unsigned long last;
	unsigned char expect = MN_ITV_NONE;
	bool warn = false;

	if (!isub || !mm || !ops || !ops->invalidate)
		return -EINVAL;
	if (length == 0 || __builtin_add_overflow(start, length - 1, &last))
		return -EOVERFLOW;
	if (mmn__mm_dead(mm))
		return -EINVAL;
	if (locked && mn_assert_write_locked(mm, "mmn_interval_notifier_insert_locked"))
		return -EINVAL;
	if (!locked)
		mn_might_sleep(mm->sim);
	if (!__atomic_compare_exchange_n(&isub->state, &expect, MN_ITV_INSERTED, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -EBUSY;

	subs = mn_subs(mm);
	if (!subs || !__atomic_load_n(&subs->has_itree, __ATOMIC_ACQUIRE)) {
		int ret;

		if (!locked)
			mmn_mmap_write_lock(mm);
		ret = mn_register(NULL, mm);
		if (!locked)
			mmn_mmap_write_unlock(mm);
		if (ret) {
			__atomic_store_n(&isub->state, MN_ITV_NONE, __ATOMIC_RELEASE);
			return ret;
		}
		subs = mn_subs(mm);
	}

	isub->mm = mm;
	isub->ops = ops;
	isub->interval_tree.start = start;
	isub->interval_tree.last = last;
	isub->in_tree = 0;
	isub->deferred = 0;
	/* Pairs with the mmdrop() of remove. */
	mmn_mmgrab(mm);

	mmn_spin_lock(&subs->lock);
	if (subs->active_invalidate_ranges) {
		if (mn_itree_is_invalidating(subs)) {
			mn_deferred_add(subs, isub);
		} else {
			__atomic_store_n(&subs->invalidate_seq, subs->invalidate_seq | 1,
					 __ATOMIC_RELEASE);
			mmn_itree_insert(&subs->itree, &isub->interval_tree);
			isub->in_tree = 1;
		}
		__atomic_store_n(&isub->invalidate_seq, subs->invalidate_seq, __ATOMIC_RELAXED);
	} else {
		warn = mn_itree_is_invalidating(subs);
		__atomic_store_n(&isub->invalidate_seq, subs->invalidate_seq - 1, __ATOMIC_RELAXED);
		mmn_itree_insert(&subs->itree, &isub->interval_tree);
		isub->in_tree = 1;
	}
	mmn_spin_unlock(&subs->lock);
	if (warn)
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, start, 0,
			    "odd interval sequence with no invalidation active");
	return 0;
}

/* mmu_interval_notifier_insert(), 5.5+. */
int mmn_interval_notifier_insert(struct mmn_interval_notifier *isub, struct mmn_mm *mm,
				 unsigned long start, unsigned long length,
				 const struct mmn_interval_notifier_ops *ops)
{
	return mn_interval_insert(isub, mm, start, length, ops, false);
}

/* mmu_interval_notifier_insert_locked(), 5.5+. */
int mmn_interval_notifier_insert_locked(struct mmn_interval_notifier *isub, struct mmn_mm *mm,
					unsigned long start, unsigned long length,
					const struct mmn_interval_notifier_ops *ops)
{
	return mn_interval_insert(isub, mm, start, length, ops, true);
}

/* wait_event() condition: the mm's sequence has moved past @seq. */
struct mn_seq_wait {
	struct mmn_notifier_subscriptions *subs;
	unsigned long seq;
};

static bool mn_seq_moved(void *arg)
{
	const struct mn_seq_wait *sw = arg;

	return mn_seq_load(&sw->subs->invalidate_seq) != sw->seq;
}

/*
 * mmu_interval_seq_released(): remove's condition reads the sequence under
 * the lock. The last inv_end makes the sequence even before it applies the
 * deferred list; read without the lock, as 5.5 did, the remover could see
 * the new sequence and return (its caller freeing the interval) while
 * inv_end was still unlinking that interval from the tree. The kernel fixed
 * it in 2022 ("mm/mmu_notifier.c: fix race in
 * mmu_interval_notifier_remove()", stable-backported; first release
 * unconfirmed, about 5.18); test_notifier_stress finds the old form under
 * ThreadSanitizer.
 */
static bool mn_seq_released(void *arg)
{
	const struct mn_seq_wait *sw = arg;
	struct mmn_notifier_subscriptions *subs = sw->subs;
	bool ret;

	mmn_spin_lock(&subs->lock);
	ret = subs->invalidate_seq != sw->seq;
	mmn_spin_unlock(&subs->lock);
	return ret;
}

/*
 * mmu_interval_notifier_remove() (5.5+). During an odd period the tree is
 * frozen: an interval still waiting to be inserted just leaves the deferred
 * list; one in the tree is queued for removal and the call waits until the
 * period ends (callbacks on it may run until then).
 */
int mmn_interval_notifier_remove(struct mmn_interval_notifier *isub)
{
	struct mmn_notifier_subscriptions *subs;
	struct mmn_mm *mm;
	unsigned long seq = 0;
	unsigned char expect = MN_ITV_INSERTED;
	bool warn = false;

	if (!isub)
		return -EINVAL;
	if (!__atomic_compare_exchange_n(&isub->state, &expect, MN_ITV_REMOVING, false,
					 __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
		return -ENOENT;
	mm = isub->mm;
	subs = mn_subs(mm);
	mn_might_sleep(mm->sim);

	mmn_spin_lock(&subs->lock);
	if (mn_itree_is_invalidating(subs)) {
		if (isub->deferred) {
			mn_deferred_del(isub);
		} else {
			mn_deferred_add(subs, isub);
			seq = subs->invalidate_seq;
		}
	} else if (isub->in_tree) {
		mmn_itree_remove(&subs->itree, &isub->interval_tree);
		isub->in_tree = 0;
	} else {
		warn = true;
	}
	mmn_spin_unlock(&subs->lock);
	if (warn)
		mmn_reportf(mm->sim, MMN_VIOL_PROTOCOL, isub->interval_tree.start, 0,
			    "removing interval notifier %p that is in no tree", (void *)isub);
	if (seq) {
		struct mn_seq_wait sw = { .subs = subs, .seq = seq };

		mmn_wait_event(&subs->wq, mn_seq_released, &sw);
		/*
		 * Still deferred: the wait could never end and was reported and
		 * skipped (the deterministic backend outside a run, where no
		 * actor can end the invalidation). The caller may free @isub
		 * once this returns, so nothing may stay linked to it. (After a
		 * real wait the end took it off the list before the wake-up:
		 * no lock, no scheduling point on that path.)
		 */
		if (mmn_unlikely(__atomic_load_n(&isub->deferred, __ATOMIC_ACQUIRE))) {
			mmn_spin_lock(&subs->lock);
			if (isub->deferred) {
				mn_deferred_del(isub);
				if (isub->in_tree)
					mmn_itree_remove(&subs->itree, &isub->interval_tree);
				isub->in_tree = 0;
			}
			mmn_spin_unlock(&subs->lock);
		}
	}
	__atomic_store_n(&isub->state, MN_ITV_NONE, __ATOMIC_RELEASE);
	/* Pairs with the mmgrab() of insert. */
	mmn_mmdrop(mm);
	return 0;
}

/* mmu_interval_read_begin(), 5.5+. */
unsigned long mmn_interval_read_begin(struct mmn_interval_notifier *isub)
{
	struct mmn_notifier_subscriptions *subs;
	unsigned long seq;
	bool is_invalidating;

	if (!isub || !isub->mm)
		return 0;
	subs = mn_subs(isub->mm);
	if (!subs)
		return 0;
	mn_might_sleep(isub->mm->sim);
	/*
	 * Equal to the mm's (odd) sequence means this interval was invalidated
	 * in the current period: wait for the period to end. The value
	 * returned is that odd sequence, so a read_retry() after any later
	 * invalidation (which stores a newer odd value) sees a change.
	 */
	mmn_spin_lock(&subs->lock);
	seq = __atomic_load_n(&isub->invalidate_seq, __ATOMIC_RELAXED);
	is_invalidating = seq == subs->invalidate_seq;
	mmn_spin_unlock(&subs->lock);
	if (is_invalidating) {
		struct mn_seq_wait sw = { .subs = subs, .seq = seq };

		mmn_wait_event(&subs->wq, mn_seq_moved, &sw);
	}
	return seq;
}

/* mmu_interval_read_retry(), 5.5+ (an inline in the kernel). */
bool mmn_interval_read_retry(struct mmn_interval_notifier *isub, unsigned long seq)
{
	if (!isub)
		return true;
	return __atomic_load_n(&isub->invalidate_seq, __ATOMIC_RELAXED) != seq;
}

/* mmu_interval_check_retry(), 5.5+ (READ_ONCE in the kernel). */
bool mmn_interval_check_retry(struct mmn_interval_notifier *isub, unsigned long seq)
{
	if (!isub)
		return true;
	return __atomic_load_n(&isub->invalidate_seq, __ATOMIC_RELAXED) != seq;
}

/* mmu_interval_set_seq(), 5.5+ (WRITE_ONCE in the kernel). */
void mmn_interval_set_seq(struct mmn_interval_notifier *isub, unsigned long cur_seq)
{
	if (isub)
		__atomic_store_n(&isub->invalidate_seq, cur_seq, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Range helpers                                                       */
/* ------------------------------------------------------------------ */

/*
 * mmu_notifier_range_update_to_read_only(), defined 5.2-6.1 (read in 5.2,
 * 5.14, 6.1 mm/mmu_notifier.c; absent in 4.15, 6.5, 6.19). Where the
 * profile has no such function the answer is false, as the kernel's stub
 * without CONFIG_MMU_NOTIFIER is: a caller then treats the range as any
 * other PROTECTION_VMA change.
 */
bool mmn_notifier_range_update_to_read_only(const struct mmn_notifier_range *range)
{
	struct mmn_vma *vma;

	if (!range || !range->mm || range->event != MMN_NOTIFY_PROTECTION_VMA ||
	    !range->mm->sim->profile.range_update_to_read_only)
		return false;
	vma = mmn_vma_lookup(range->mm, range->start);
	return vma && (vma->vm_flags & MMN_VM_READ);
}
