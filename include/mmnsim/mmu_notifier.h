/* SPDX-License-Identifier: MIT */
/**
 * @file mmu_notifier.h
 * @brief The MMU-notifier core: struct mmu_notifier and struct
 *        mmu_interval_notifier, modelled on the kernel's mm/mmu_notifier.c.
 *
 * A secondary MMU (KVM's shadow page table, an IOMMU's IOTLB, a GPU or an
 * RDMA NIC mirroring process memory) keeps translations of an mm's virtual
 * addresses. The core-mm tells it, through the calls of this header, when
 * those translations must go:
 *
 * - a **subscription** (struct mmn_notifier, kernel struct mmu_notifier)
 *   receives every callback of struct mmn_notifier_ops for every range of
 *   its mm;
 * - an **interval subscription** (struct mmn_interval_notifier, kernel
 *   struct mmu_interval_notifier, 5.5+) receives one callback, invalidate,
 *   only for ranges that overlap its interval, and follows the collision-retry
 *   scheme mmn_interval_read_begin() / mmn_interval_read_retry().
 *
 * Model of the kernel's concurrency, kept here:
 * - one SRCU domain for every mm of a simulation (the kernel's one static
 *   srcu_struct): every walk of an mm's subscription list is an SRCU read
 *   section, so callbacks may sleep where the range allows it, and
 *   unregistration waits for a grace period;
 * - the subscription list is changed under the mm's subscriptions lock (a
 *   spinlock of rank #MMN_RANK_NOTIFIER) and read locklessly;
 * - the interval tree is changed under the same lock and only while no
 *   invalidation holds the odd sequence number (inserts and removes meanwhile
 *   are deferred to the end of the last overlapping invalidation).
 *
 * Checks the model adds (each reported as a struct mmn_violation, never an
 * abort, see check.h): sleeping in a callback of a non-blockable range
 * (MMN_VIOL_SLEEP_IN_ATOMIC, from the sync layer: such callbacks run between
 * mmn_non_block_start()/mmn_non_block_end()); calling the start/end calls
 * under a spinlock (might_sleep()); and, as MMN_VIOL_PROTOCOL, every place
 * where the kernel WARNs or BUGs: a failed start in a blockable range, a
 * failing start of a subscriber that implements invalidate_range_end, an
 * invalidate_range_end with no matching start by the same actor, a callback
 * after unregistration returned, release called twice, subscriptions left
 * when the mm is freed.
 *
 * Errors are negative errno values. Functions returning void ignore NULL
 * arguments (documented per function).
 *
 * Scheduling points: every callback invocation passes
 * MMN_SCHED_CALLBACK_ENTER (obj = the subscription, name = the callback's
 * name as in struct mmn_notifier_ops, addr = the range start or address)
 * before and MMN_SCHED_CALLBACK_EXIT after, and the calling actor's context
 * (mmn_actor_set_context()) names the dispatch while the core walks
 * ("invalidate_range_start", "release", ...). With mmn_sim_config::lockdep
 * off, the mode for measuring bare costs, the context is kept only while a
 * scheduling-point hook is installed (might_sleep() and the non-blocking
 * sections are no-ops of the sync layer in that mode anyway).
 *
 * Kernel versions: "2.6.27+" means present since mmu notifiers exist;
 * ranges like "3.19-6.5" give the first and last release with the
 * behaviour. See docs/notifier.md for the kernel mapping of every function.
 */
#ifndef MMNSIM_MMU_NOTIFIER_H
#define MMNSIM_MMU_NOTIFIER_H

#include <stdbool.h>

#include <mmnsim/export.h>
#include <mmnsim/pgtable.h>
#include <mmnsim/sync.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;
struct mmn_notifier;
struct mmn_interval_notifier;

/* ------------------------------------------------------------------ */
/* Ranges and events                                                   */
/* ------------------------------------------------------------------ */

/**
 * Why a range is invalidated: enum mmu_notifier_event (5.2+; RELEASE 5.5+,
 * MIGRATE 5.9+, EXCLUSIVE 5.14+). Values are the kernel's, in its order.
 */
enum mmn_notify_event {
	/** munmap(), or the source of an mremap() move: the range goes away. */
	MMN_NOTIFY_UNMAP = 0,
	/** PTEs cleared for another reason (madvise, reclaim, COW, THP split...). */
	MMN_NOTIFY_CLEAR = 1,
	/** A protection change uniform over the range (mprotect). */
	MMN_NOTIFY_PROTECTION_VMA = 2,
	/** Per-page protection changes (fork's COW write-protect, page_mkclean). */
	MMN_NOTIFY_PROTECTION_PAGE = 3,
	/** Soft-dirty bits cleared (clear_refs). */
	MMN_NOTIFY_SOFT_DIRTY = 4,
	/** The mm goes away: only interval notifiers see it, over [0, ULONG_MAX). */
	MMN_NOTIFY_RELEASE = 5,
	/** Migration to or from device memory; the range's @c owner is the
	 *  pgmap owner. */
	MMN_NOTIFY_MIGRATE = 6,
	/** Conversion to device-exclusive entries; the range's @c owner is the
	 *  caller's. */
	MMN_NOTIFY_EXCLUSIVE = 7,
};

/** Number of events in enum mmn_notify_event. */
#define MMN_NOTIFY_NR_EVENTS 8

/**
 * mmn_notify_event_name() - "unmap", "clear", "protection_vma", ... or
 * "unknown" for a value out of range.
 */
MMN_API const char *mmn_notify_event_name(enum mmn_notify_event event);

/** The range's callbacks may sleep (MMU_NOTIFIER_RANGE_BLOCKABLE, 5.2+). */
#define MMN_NOTIFIER_RANGE_BLOCKABLE (1u << 0)

/** @cond MMN_PRIVATE */
/* The model's mark of a start that took the fast path (nothing recorded by
 * the pairing check): set by such a start, cleared by every other start and
 * by every end. Not the kernel's; never passed by callers (range_init masks
 * it out). */
#define MMN__NOTIFIER_RANGE_UNCHECKED (1u << 31)
/** @endcond */

/**
 * struct mmu_notifier_range (5.0+; @c event and @c flags 5.2+, @c owner 5.9+ as
 * migrate_pgmap_owner, renamed 5.14). The kernel's former @c vma member
 * (5.2-6.2) is not modelled. The range is half-open: [@c start, @c end).
 */
struct mmn_notifier_range {
	struct mmn_mm *mm;           /**< the address space being changed */
	unsigned long start;         /**< first address */
	unsigned long end;           /**< first address past the range */
	unsigned int flags;          /**< MMN_NOTIFIER_RANGE_* */
	enum mmn_notify_event event; /**< why */
	void *owner;                 /**< MIGRATE/EXCLUSIVE initiator, else NULL */
};

/**
 * mmn_notifier_range_init() - mmu_notifier_range_init() (5.2+, without the
 * vma argument as since 6.3): fill @p range; @p range->owner becomes NULL.
 */
static inline void mmn_notifier_range_init(struct mmn_notifier_range *range,
					   enum mmn_notify_event event, unsigned int flags,
					   struct mmn_mm *mm, unsigned long start,
					   unsigned long end)
{
	range->mm = mm;
	range->start = start;
	range->end = end;
	range->flags = flags & ~MMN__NOTIFIER_RANGE_UNCHECKED;
	range->event = event;
	range->owner = NULL;
}

/**
 * mmn_notifier_range_init_owner() - mmu_notifier_range_init_owner() (5.14+;
 * mmu_notifier_range_init_migrate() 5.9-5.13): as mmn_notifier_range_init()
 * with an @p owner.
 */
static inline void mmn_notifier_range_init_owner(struct mmn_notifier_range *range,
						 enum mmn_notify_event event, unsigned int flags,
						 struct mmn_mm *mm, unsigned long start,
						 unsigned long end, void *owner)
{
	mmn_notifier_range_init(range, event, flags, mm, start, end);
	range->owner = owner;
}

/**
 * mmn_notifier_range_blockable() - mmu_notifier_range_blockable() (5.2+):
 * whether callbacks for @p range may sleep.
 */
static inline bool mmn_notifier_range_blockable(const struct mmn_notifier_range *range)
{
	return range->flags & MMN_NOTIFIER_RANGE_BLOCKABLE;
}

/**
 * mmn_notifier_range_update_to_read_only() -
 * mmu_notifier_range_update_to_read_only() (defined 5.2-6.1): true when the
 * change only removes write permission, i.e. @p range is a
 * MMN_NOTIFY_PROTECTION_VMA change and the VMA at @p range->start is still
 * readable.
 *
 * Only in the profiles whose kernel defines it (the profile knob
 * range_update_to_read_only: 5.2 and 5.14; 6.5 and later kernels declare
 * it but define it nowhere, and range->vma is gone). Elsewhere it returns
 * false, as the kernel's stub without CONFIG_MMU_NOTIFIER does: "not known
 * to be read-only only", so a caller falls back to what its era has (the
 * event alone).
 *
 * The kernel looked at range->vma; the model looks the VMA up in
 * @p range->mm, so call it where the invalidating caller's mmap_lock is held
 * (inside a callback). NULL: false.
 */
MMN_API bool mmn_notifier_range_update_to_read_only(const struct mmn_notifier_range *range);

/* ------------------------------------------------------------------ */
/* struct mmu_notifier                                                 */
/* ------------------------------------------------------------------ */

/**
 * struct mmu_notifier_ops. Every member may be NULL. The kernel version
 * range of each is given; the model calls whichever a caller dispatches (the
 * operations layer's kernel profile decides which dispatch points exist and
 * where they are called).
 */
struct mmn_notifier_ops {
	/**
	 * Called once, when the mm is torn down (mmn_notifier_release() from
	 * exit_mmap) or by mmn_notifier_unregister(), whichever comes first;
	 * never by mmn_notifier_put(). The subscriber must drop every secondary
	 * mapping and create no new one. May sleep. May run concurrently with
	 * other callbacks called from outside the mm's own context. 2.6.27+.
	 */
	void (*release)(struct mmn_notifier *sub, struct mmn_mm *mm);
	/**
	 * Test and clear the accessed state of [@p start, @p end); return non-zero
	 * if young. Results of all subscribers are OR'ed. Called under the PTL
	 * right after the CPU's young bit: must not sleep (the core runs it in
	 * a non-blocking section). 2.6.27+ (one address at first; a range
	 * since the 3.x era, version unconfirmed).
	 */
	int (*clear_flush_young)(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
				 unsigned long end);
	/** As clear_flush_young, the secondary TLB flush may be skipped. 3.15+. */
	int (*clear_young)(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
			   unsigned long end);
	/**
	 * Whether @p address is young, without clearing. The walk stops at the
	 * first subscriber that answers non-zero. Must not sleep. 2.6.27+.
	 */
	int (*test_young)(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long address);
	/**
	 * Before the CPU page tables of @p range change. After it returns the
	 * subscriber must create no secondary mapping in the range until the
	 * matching invalidate_range_end. May sleep only if
	 * mmn_notifier_range_blockable(@p range). Returns 0, or -EAGAIN and only
	 * in a non-blockable range; a subscriber that can fail must not
	 * implement invalidate_range_end (reported otherwise). 2.6.27+
	 * ((mm, start, end) before 5.0; int and blockable 4.19+).
	 */
	int (*invalidate_range_start)(struct mmn_notifier *sub,
				      const struct mmn_notifier_range *range);
	/**
	 * After the CPU page tables of @p range changed. May sleep only if
	 * blockable. 2.6.27+.
	 */
	void (*invalidate_range_end)(struct mmn_notifier *sub,
				     const struct mmn_notifier_range *range);
	/**
	 * Flush secondary TLBs that walk the CPU page tables (IOMMU SVA/ATS),
	 * called whenever the CPU TLB is flushed for [@p start, @p end): under the
	 * PTL, must not sleep. A subscriber implements either this or the
	 * start/end pair, never both (registration fails with -EINVAL). 6.6+;
	 * invalidate_range before.
	 */
	void (*arch_invalidate_secondary_tlbs)(struct mmn_notifier *sub, struct mmn_mm *mm,
					       unsigned long start, unsigned long end);
	/**
	 * Allocate the subscription for mmn_notifier_get(): return a struct
	 * (may be embedded; its fields need no initialisation) or NULL, which
	 * fails the get with -ENOMEM. May sleep; called with mmap_lock held
	 * for write. 5.4+.
	 */
	struct mmn_notifier *(*alloc_notifier)(struct mmn_mm *mm);
	/**
	 * Free a subscription of mmn_notifier_get() after the last
	 * mmn_notifier_put(), once no callback runs or can start. Runs from an
	 * SRCU callback: must not sleep. 5.4+.
	 */
	void (*free_notifier)(struct mmn_notifier *sub);

	/* --- historic callbacks, for the older kernel profiles --- */

	/**
	 * One page was invalidated, called after the PTE changed and the PTL
	 * was dropped (so it may sleep). 2.6.27-4.12; removed in 4.13 when
	 * callers moved to start/invalidate_range/end. Dispatched only by
	 * mmn_notifier_invalidate_page().
	 */
	void (*invalidate_page)(struct mmn_notifier *sub, struct mmn_mm *mm,
				unsigned long address);
	/**
	 * Flush secondary TLBs for [@p start, @p end), called under the PTL where
	 * the CPU TLB is flushed (the *_clear_flush_notify() helpers) and by
	 * invalidate_range_end unless the caller used only_end. Must not sleep.
	 * 3.19-6.5 (renamed arch_invalidate_secondary_tlbs in 6.6). Dispatched
	 * by mmn_notifier_invalidate_range() and, in pre-6.6 profiles, by the
	 * internal end variant.
	 */
	void (*invalidate_range)(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
				 unsigned long end);
	/**
	 * The PTE at @p address now maps @p pte (KSM merge, COW), called under the
	 * PTL from set_pte_at_notify(): must not sleep. 2.6.29-6.9 (inside a
	 * start/end pair since 4.13). Dispatched by mmn_notifier_change_pte().
	 */
	void (*change_pte)(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long address,
			   mmn_pte_t pte);
};

/**
 * struct mmu_notifier: one subscription to one mm. Embed it in the
 * listener's own structure.
 *
 * Before the first mmn_notifier_register() the struct must be zeroed apart
 * from @c ops (a designated initialiser or calloc() does it); after
 * mmn_notifier_unregister() returned it may be registered again. Members
 * after @c mm are private to the core.
 */
struct mmn_notifier {
	/** The callbacks; set by the caller before registering. */
	const struct mmn_notifier_ops *ops;
	/** The mm, set by registration and kept after unregistration. */
	struct mmn_mm *mm;
	/* --- private --- */
	/** @cond MMN_PRIVATE */
	struct mmn_notifier *hnext;  /* next in the mm's list (RCU-published) */
	struct mmn_rcu_head rcu;     /* deferred free after the last put */
	unsigned int users;          /* get/put references, under the subscriptions lock */
	unsigned int release_calls;  /* ->release invocations since registration */
	unsigned char registered;    /* between register and unregister/last put */
	unsigned char hashed;        /* on the mm's list (under the subscriptions lock) */
	unsigned char release_claimed; /* release has been called or is running */
	unsigned char dead;          /* unregister returned / freed: no callback may run */
	/** @endcond */
};

/**
 * mmn_notifier_register() - mmu_notifier_register() (2.6.27+): attach @p sub
 * to @p mm. Takes mmap_lock for write, so the caller must not hold it (nor any
 * lock a callback takes). The caller keeps mm_users > 0 during the call.
 * Pairs with mmn_notifier_unregister().
 *
 * @return 0; -EINVAL for NULL @p sub, @p mm or @p sub->ops, for ops implementing
 *         arch_invalidate_secondary_tlbs together with
 *         invalidate_range_start or invalidate_range_end (as the kernel
 *         refuses since 6.6), or for an mm with no users left; -EBUSY if
 *         @p sub is registered already (to this or another mm); -ENOMEM.
 *         On error nothing changes.
 *
 * Unlike the kernel, a NULL @p sub does not switch the mm to interval mode
 * (that is internal to mmn_interval_notifier_insert()).
 */
MMN_API int mmn_notifier_register(struct mmn_notifier *sub, struct mmn_mm *mm);

/**
 * __mmn_notifier_register() - __mmu_notifier_register() (2.6.27+): as
 * mmn_notifier_register() with mmap_lock already held for write by the
 * caller. Calling it without that hold is reported (MMN_VIOL_PROTOCOL, the
 * kernel's mmap_assert_write_locked()) and fails with -EINVAL.
 */
MMN_API int __mmn_notifier_register(struct mmn_notifier *sub, struct mmn_mm *mm);

/**
 * mmn_notifier_unregister() - mmu_notifier_unregister() (2.6.27+; void in
 * the kernel). Calls ->release unless it already ran (from exit), unlinks
 * @p sub, waits for every callback in flight (synchronize_srcu()), then drops
 * the mm_count reference registration took. After it returns no callback of
 * @p sub runs. May sleep; must not be called from a callback or inside an
 * SRCU read section (reported by the sync layer).
 *
 * @return 0; -EINVAL for NULL arguments or an @p mm that is not the one @p sub
 *         was registered to; -ENOENT if @p sub is not registered (never was,
 *         already unregistered, or released by its last mmn_notifier_put()).
 *         On error nothing changes.
 */
MMN_API int mmn_notifier_unregister(struct mmn_notifier *sub, struct mmn_mm *mm);

/**
 * mmn_notifier_get_locked() - mmu_notifier_get_locked() (5.4+): the single
 * subscription of @p ops on @p mm, with one more reference; allocated with
 * @p ops->alloc_notifier and registered if none exists. The ops pointer
 * identifies the subscription. Caller holds mmap_lock for write; may sleep.
 *
 * @return the subscription, or NULL with errno set: EINVAL for NULL
 *         arguments, ops without alloc_notifier or free_notifier, or the
 *         errors of registration (free_notifier is then called on the new
 *         struct); ENOMEM when alloc_notifier returns NULL; EOVERFLOW when
 *         the reference count would overflow.
 */
MMN_API struct mmn_notifier *mmn_notifier_get_locked(const struct mmn_notifier_ops *ops,
						     struct mmn_mm *mm);

/**
 * mmn_notifier_get() - mmu_notifier_get() (5.4+): mmn_notifier_get_locked()
 * taking mmap_lock for write itself. Same returns.
 */
MMN_API struct mmn_notifier *mmn_notifier_get(const struct mmn_notifier_ops *ops,
					      struct mmn_mm *mm);

/**
 * mmn_notifier_put() - mmu_notifier_put() (5.4+): drop a reference of
 * mmn_notifier_get(). The last one unlinks the subscription and, after an
 * SRCU grace period, calls free_notifier then drops the mm_count reference.
 * ->release is not called (only mm teardown calls it), so the subscriber
 * must have dropped its secondary mappings already. Callbacks already in
 * flight may still run until free_notifier. Does not sleep; may be called
 * from ->release. NULL, or a @p sub never registered, is a no-op; a put
 * without a reference is reported (MMN_VIOL_PROTOCOL, a kernel WARN); so is
 * a put of a subscription whose ops have no free_notifier (one registered
 * with mmn_notifier_register()), which is then ignored.
 */
MMN_API void mmn_notifier_put(struct mmn_notifier *sub);

/**
 * mmn_notifier_synchronize() - mmu_notifier_synchronize() (5.4+): wait
 * until the free of every subscription whose last mmn_notifier_put()
 * returned before the call has completed (free_notifier and mmdrop ran).
 * The kernel uses synchronize_srcu(); the model uses srcu_barrier(), which
 * is what the kernel's comment promises. May sleep. NULL: no-op.
 */
MMN_API void mmn_notifier_synchronize(struct mmn_sim *sim);

/* ------------------------------------------------------------------ */
/* Dispatch (called by the core-mm operations)                         */
/* ------------------------------------------------------------------ */

/**
 * mmn_notifier_invalidate_range_start() - mmu_notifier_invalidate_range_start()
 * (2.6.27+; range struct 5.0+): tell every subscriber that the PTEs of
 * @p range are about to change. Sets MMN_NOTIFIER_RANGE_BLOCKABLE in
 * @p range->flags, as the kernel does, then calls might_sleep(): it must not be
 * called under a spinlock such as the PTL (reported). Interval notifiers
 * overlapping the range are invalidated first, then every subscription's
 * invalidate_range_start. Must be paired with
 * mmn_notifier_invalidate_range_end() on the same range by the same actor.
 * Returns at once when nobody listens and no check is on: see
 * mmn_notifier_fast_stats(). NULL @p range or @p range->mm: no-op.
 */
MMN_API void mmn_notifier_invalidate_range_start(struct mmn_notifier_range *range);

/**
 * mmn_notifier_invalidate_range_start_nonblock() -
 * mmu_notifier_invalidate_range_start_nonblock() (4.19+): as the blocking
 * start with MMN_NOTIFIER_RANGE_BLOCKABLE cleared; callbacks run in a
 * non-blocking section. Used by the OOM reaper.
 *
 * @return 0: the caller goes on and calls the end. -EAGAIN: some subscriber
 *         could not proceed without sleeping; the caller must leave the PTEs
 *         alone and must NOT call the end. As the kernel does: an interval
 *         notifier that refuses stops the interval walk, closes the interval
 *         side again and skips the subscription list; a subscription that
 *         refuses does not stop the walk, and afterwards every subscription
 *         implementing invalidate_range_end gets its end. -EINVAL for a
 *         NULL @p range or @p range->mm.
 */
MMN_API int mmn_notifier_invalidate_range_start_nonblock(struct mmn_notifier_range *range);

/**
 * mmn_notifier_invalidate_range_end() - mmu_notifier_invalidate_range_end()
 * as of 6.6+ (no invalidate_range call): tell every subscriber the PTEs of
 * @p range have changed. Blockable ranges call might_sleep() first. Interval
 * notifiers first (the odd sequence period may end here), then every
 * subscription's invalidate_range_end. An end with no outstanding start on
 * the same range by the calling actor is reported (MMN_VIOL_PROTOCOL),
 * except on the fast path (mmn_notifier_fast_stats()).
 * NULL @p range or @p range->mm: no-op.
 */
MMN_API void mmn_notifier_invalidate_range_end(struct mmn_notifier_range *range);

/**
 * What the dispatch's fast path skipped on one mm: see
 * mmn_notifier_fast_stats().
 */
struct mmn_notifier_fast_stats {
	/** starts (blocking or not) that took the fast path */
	unsigned long starts;
	/** ends that took the fast path */
	unsigned long ends;
	/** ends that took the full path after a start that took the fast path
	 *  (its range marked): not matched against the pairing record, since
	 *  their start was never recorded */
	unsigned long excused;
};

/**
 * mmn_notifier_fast_stats() - how often the start/end dispatch of @p mm took
 * its fast path, the kernel's inline mm_has_notifiers() test.
 *
 * mmn_notifier_invalidate_range_start(), _start_nonblock() and
 * mmn_notifier_invalidate_range_end() return at once, after setting or
 * clearing MMN_NOTIFIER_RANGE_BLOCKABLE, when all of these hold: the mm has never had
 * a subscription (no struct of subscriptions yet, as in the kernel), lockdep
 * is off, no scheduling-point hook is installed, the backend is the native
 * one (so no trace is written), and the range passes the checks (start <
 * end, a known event). What they skip is what has nothing to do then: the
 * span lines of a deterministic run's trace (not written by the native
 * backend anyway), might_sleep() (a no-op with lockdep off) and the start/end
 * pairing check, whose MMN_VIOL_PROTOCOL report of an unmatched end is lost
 * for such dispatches: they are counted here instead. With lockdep on, a
 * hook installed or the deterministic backend, every dispatch takes the full
 * path and every check runs.
 *
 * The inline wrappers of mmnsim/inline.h test only what the kernel's inline
 * wrappers test (a subscription struct on the mm, and the slow flag): their
 * fast returns are not counted here, and a bad range is not reported on that
 * path (it costs what the kernel's test costs and nothing more).
 *
 * A pair whose inputs change between its start and its end (a first
 * subscription registered, a hook installed or removed) may be checked on
 * one side only. A start that took the fast path (library or inline) marks
 * its range; an end on the full path that finds the mark has no recorded
 * start to match: it clears the mark and is counted as excused instead of
 * checked. Every other start, and every end, clears the mark. A hook
 * removed between a checked start and its end leaves that start in the
 * actor's record. The counters are relaxed: exact when one actor at a time
 * dispatches on the mm.
 *
 * @return 0, or -EINVAL for a NULL argument.
 */
MMN_API int mmn_notifier_fast_stats(const struct mmn_mm *mm, struct mmn_notifier_fast_stats *out);

/**
 * mmn_notifier_arch_invalidate_secondary_tlbs() -
 * mmu_notifier_arch_invalidate_secondary_tlbs() (6.6+): called by the CPU
 * TLB flush for [@p start, @p end); legal under the PTL. Callbacks run in a
 * non-blocking section. NULL @p mm: no-op.
 */
MMN_API void mmn_notifier_arch_invalidate_secondary_tlbs(struct mmn_mm *mm, unsigned long start,
							 unsigned long end);

/**
 * mmn_notifier_clear_flush_young() - mmu_notifier_clear_flush_young()
 * (2.6.27+): OR of every subscriber's clear_flush_young. Legal under the
 * PTL; callbacks run non-blocking. NULL @p mm: 0.
 */
MMN_API int mmn_notifier_clear_flush_young(struct mmn_mm *mm, unsigned long start,
					   unsigned long end);

/**
 * mmn_notifier_clear_young() - mmu_notifier_clear_young() (3.15+): OR of
 * every subscriber's clear_young. Legal under the PTL. NULL @p mm: 0.
 */
MMN_API int mmn_notifier_clear_young(struct mmn_mm *mm, unsigned long start, unsigned long end);

/**
 * mmn_notifier_test_young() - mmu_notifier_test_young() (2.6.27+): the first
 * non-zero answer of a subscriber's test_young, else 0. Legal under the
 * PTL. NULL @p mm: 0.
 */
MMN_API int mmn_notifier_test_young(struct mmn_mm *mm, unsigned long address);

/**
 * mmn_notifier_release() - mmu_notifier_release() (2.6.27+), called first by
 * exit_mmap (mmn_mm_put() of the last user does it): every interval
 * notifier gets a blockable MMN_NOTIFY_RELEASE invalidation over
 * [0, ULONG_MAX) (5.5+), then every subscription still listed gets ->release
 * (unless unregister already called it) and is unlinked; returns after an
 * SRCU grace period, so no ->release started by a concurrent unregister is
 * still running. May sleep. NULL @p mm: no-op.
 */
MMN_API void mmn_notifier_release(struct mmn_mm *mm);

/**
 * mmn_notifier_invalidate_page() - mmu_notifier_invalidate_page()
 * (2.6.27-4.12): call every subscriber's invalidate_page for @p address. The
 * kernel called it after the PTE change with the PTL dropped; callbacks may
 * sleep. Only the old-kernel profiles call it. NULL @p mm: no-op.
 */
MMN_API void mmn_notifier_invalidate_page(struct mmn_mm *mm, unsigned long address);

/**
 * mmn_notifier_invalidate_range() - mmu_notifier_invalidate_range()
 * (3.19-6.5): the explicit secondary-TLB flush of the pre-6.6 call sites
 * (the *_clear_flush_notify() helpers, under the PTL). Callbacks run
 * non-blocking. NULL @p mm: no-op.
 */
MMN_API void mmn_notifier_invalidate_range(struct mmn_mm *mm, unsigned long start,
					   unsigned long end);

/**
 * mmn_notifier_change_pte() - mmu_notifier_change_pte() (2.6.29-6.9), from
 * set_pte_at_notify() under the PTL: every subscriber's change_pte.
 * Callbacks run non-blocking. NULL @p mm: no-op.
 */
MMN_API void mmn_notifier_change_pte(struct mmn_mm *mm, unsigned long address, mmn_pte_t pte);

/* ------------------------------------------------------------------ */
/* struct mmu_interval_notifier (5.5+)                                 */
/* ------------------------------------------------------------------ */

/** struct mmu_interval_notifier_ops (5.5+). */
struct mmn_interval_notifier_ops {
	/**
	 * @p range overlaps the subscription's interval. @p cur_seq is odd; the
	 * callback must call mmn_interval_set_seq(@p sub, @p cur_seq) under the
	 * lock its read side holds around mmn_interval_read_retry(), then drop
	 * its secondary mappings of the overlap. Returns true; false only when
	 * it would have to sleep and the range is not blockable (the start then
	 * fails with -EAGAIN). May sleep when the range is blockable.
	 */
	bool (*invalidate)(struct mmn_interval_notifier *sub,
			   const struct mmn_notifier_range *range, unsigned long cur_seq);
};

/** Node of the interval tree (struct interval_tree_node); closed interval. */
struct mmn_interval_tree_node {
	unsigned long start;        /**< first address of the interval */
	unsigned long last;         /**< last address, inclusive */
	/* --- private: augmented red-black tree --- */
	/** @cond MMN_PRIVATE */
	unsigned long subtree_last;
	struct mmn_interval_tree_node *parent, *left, *right;
	int red;
	/** @endcond */
};

/**
 * struct mmu_interval_notifier: a subscription to an interval of one mm.
 * Zero it before the first insert; after mmn_interval_notifier_remove()
 * returned it may be inserted again. Members after @c interval_tree are
 * private.
 */
struct mmn_interval_notifier {
	const struct mmn_interval_notifier_ops *ops; /**< set by insert */
	struct mmn_mm *mm;                           /**< set by insert */
	/** [start, last] of the subscription, set by insert. */
	struct mmn_interval_tree_node interval_tree;
	/* --- private --- */
	/** @cond MMN_PRIVATE */
	struct mmn_interval_notifier *deferred_next;
	struct mmn_interval_notifier **deferred_pprev;
	unsigned long invalidate_seq;  /* atomic builtins */
	unsigned char state;           /* none / inserted / being removed */
	unsigned char in_tree;         /* under the subscriptions lock */
	unsigned char deferred;        /* on the deferred list, under the lock */
	/** @endcond */
};

/**
 * mmn_interval_notifier_insert() - mmu_interval_notifier_insert() (5.5+):
 * subscribe @p sub to [@p start, @p start + @p length - 1] of @p mm. May take
 * mmap_lock for write (the first interval of an mm registers the mm's
 * interval mode), so the caller must not hold it; may sleep. The caller
 * holds an mm_users reference. If an invalidation is in progress the
 * interval may enter the tree only when it ends; either way the first
 * mmn_interval_read_begin() waits for any invalidation in flight.
 *
 * @return 0; -EINVAL for NULL @p sub, @p mm, @p ops or @p ops->invalidate, or an mm
 *         with no users left; -EOVERFLOW for a zero @p length or an interval
 *         past ULONG_MAX; -EBUSY if @p sub is inserted already; -ENOMEM. On
 *         error nothing changes.
 */
MMN_API int mmn_interval_notifier_insert(struct mmn_interval_notifier *sub, struct mmn_mm *mm,
					 unsigned long start, unsigned long length,
					 const struct mmn_interval_notifier_ops *ops);

/**
 * mmn_interval_notifier_insert_locked() -
 * mmu_interval_notifier_insert_locked() (5.5+): as
 * mmn_interval_notifier_insert() with mmap_lock held for write by the
 * caller (reported and -EINVAL without it).
 */
MMN_API int mmn_interval_notifier_insert_locked(struct mmn_interval_notifier *sub,
						struct mmn_mm *mm, unsigned long start,
						unsigned long length,
						const struct mmn_interval_notifier_ops *ops);

/**
 * mmn_interval_notifier_remove() - mmu_interval_notifier_remove() (5.5+;
 * void in the kernel): unsubscribe @p sub. If an invalidation holds the odd
 * sequence period, the removal is deferred and the call sleeps until the
 * period ends; after it returns no callback of @p sub runs and the caller may
 * free it. Must not be called from a callback (it could wait for itself).
 * May sleep.
 *
 * @return 0; -EINVAL for NULL; -ENOENT if @p sub is not inserted (never was,
 *         or already removed). On error nothing changes.
 */
MMN_API int mmn_interval_notifier_remove(struct mmn_interval_notifier *sub);

/**
 * mmn_interval_read_begin() - mmu_interval_read_begin() (5.5+): start a
 * read-side critical section on @p sub's interval and return its sequence
 * number, to pass to mmn_interval_read_retry(). If @p sub was invalidated in
 * the current (odd) invalidation period, sleeps on the mm's wait queue until
 * the period ends. May sleep (a might_sleep() point, always). NULL or a
 * never-inserted @p sub: 0.
 */
MMN_API unsigned long mmn_interval_read_begin(struct mmn_interval_notifier *sub);

/**
 * mmn_interval_read_retry() - mmu_interval_read_retry() (5.5+): true if an
 * invalidation of @p sub started since mmn_interval_read_begin() returned
 * @p seq. Call it under the lock the invalidate callback takes around
 * mmn_interval_set_seq(): a false answer is then final until the lock is
 * dropped. NULL: true.
 */
MMN_API bool mmn_interval_read_retry(struct mmn_interval_notifier *sub, unsigned long seq);

/**
 * mmn_interval_check_retry() - mmu_interval_check_retry() (5.5+): the same
 * test without the lock, as a hint to give up early: true is reliable,
 * false is not. NULL: true.
 */
MMN_API bool mmn_interval_check_retry(struct mmn_interval_notifier *sub, unsigned long seq);

/**
 * mmn_interval_set_seq() - mmu_interval_set_seq() (5.5+): record the odd
 * @p cur_seq of the invalidation in progress. Called by the invalidate
 * callback under the subscriber's lock. NULL: no-op.
 */
MMN_API void mmn_interval_set_seq(struct mmn_interval_notifier *sub, unsigned long cur_seq);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_MMU_NOTIFIER_H */
