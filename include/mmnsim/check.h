/* SPDX-License-Identifier: MIT */
/**
 * @file check.h
 * @brief Violation records: the single channel through which every layer
 *        reports a broken invariant (lockdep, coherence, protocol).
 *
 * Nothing in mmnsim abort()s on an internal invariant failure: the finding
 * becomes a struct mmn_violation, is counted per kind, and is handed to the
 * simulation's handler (by default: one line on stderr). Tests query the
 * counters with mmn_check_count().
 *
 * The lockdep-like checks of the sync layer report here today; the coherence
 * oracle (use-after-free, lost write, stale translation, notifier protocol)
 * reports through the same records.
 */
#ifndef MMNSIM_CHECK_H
#define MMNSIM_CHECK_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;

/** What went wrong. Values are stable; new kinds are appended. */
enum mmn_violation_kind {
	/* --- lockdep-like checks of the sync layer --- */
	/** A sleeping operation (mutex, rwsem, wait, synchronize_srcu,
	 *  might_sleep) inside a spinlock or a non-blocking section. */
	MMN_VIOL_SLEEP_IN_ATOMIC = 0,
	/** Two lock classes taken in both orders, or a ranked class taken
	 *  after a class of higher rank (e.g. mmap_lock under the PTL). */
	MMN_VIOL_LOCK_ORDER,
	/** An actor tries to take a lock it already holds (a self-deadlock in
	 *  the kernel). The acquisition is skipped instead of hanging. */
	MMN_VIOL_RECURSIVE_LOCK,
	/** Unlock of a lock the actor does not hold, or an unbalanced SRCU
	 *  read_unlock. */
	MMN_VIOL_BAD_UNLOCK,
	/** synchronize_srcu()/srcu_barrier() called inside a read section of
	 *  the same domain (a self-deadlock in the kernel; skipped here). */
	MMN_VIOL_SRCU_SELF_DEADLOCK,
	/** An actor ended while holding locks or an SRCU read section. */
	MMN_VIOL_HELD_AT_EXIT,
	/** No runnable actor while some are blocked (deterministic backend). */
	MMN_VIOL_DEADLOCK,
	/* --- coherence oracle --- */
	/** An access through a cached translation whose frame was freed
	 *  (generation moved) since the translation was made. */
	MMN_VIOL_USE_AFTER_FREE,
	/** A write through a translation that predates a write-protect made
	 *  to keep the page stable (KSM, migration copy, fork, soft-dirty). */
	MMN_VIOL_LOST_WRITE,
	/** A secondary translation disagrees with the primary: at quiescence
	 *  (mmn_check_quiescent()), or at an access through it
	 *  (mmn_check_secondary_access(): "stale translation at access"). */
	MMN_VIOL_STALE_TRANSLATION,
	/** The notifier protocol was broken (unpaired start/end, callback after
	 *  unregister, release not exactly once, start/end under the PTL...). */
	MMN_VIOL_PROTOCOL,
	/** Page refcount/mapcount or page-table bookkeeping inconsistent. */
	MMN_VIOL_ACCOUNTING,
	MMN_VIOL_NR_KINDS /**< number of kinds (not a kind) */
};

/**
 * One finding. Pointers in it are valid only during the handler call.
 * Fields that do not apply are 0 / NULL.
 */
struct mmn_violation {
	enum mmn_violation_kind kind; /**< what went wrong */
	int actor_id;             /**< id of the actor that hit it, -1 if none */
	const char *actor_name;   /**< its name ("cpu0", "main", ...) */
	const char *op;           /**< operation/context in progress, or NULL */
	unsigned long addr;       /**< virtual address concerned, or 0 */
	unsigned long pfn;        /**< frame concerned, or 0 */
	uint32_t gen_used;        /**< generation the translation recorded */
	uint32_t gen_now;         /**< generation of the frame now */
	const char *msg;          /**< one-line description */
	const char *detail;       /**< multi-line detail (held-lock stacks), or NULL */
};

/**
 * Handler called once per violation, in the context of the actor that found
 * it. It must not take locks of the simulation.
 * @param sim  the simulation the violation was reported in
 * @param v    the finding; it and the strings it points to are valid only
 *             during the call
 * @param arg  the argument given to mmn_check_set_handler()
 */
typedef void (*mmn_violation_fn)(struct mmn_sim *sim, const struct mmn_violation *v,
				 void *arg);

/** The default handler prints this many violations of each kind in full. */
#define MMN_CHECK_PRINT_FIRST 5

/**
 * mmn_check_set_handler() - route violations of @p sim to @p fn.
 * @param sim  the simulation (NULL: no-op)
 * @param fn   handler; NULL restores the default: on stderr, the first
 *             MMN_CHECK_PRINT_FIRST violations of each kind, one line each
 *             with their detail (held-lock stacks) indented under it, then
 *             one line at the 10th, 100th, 1000th... of the kind (a loop
 *             that keeps violating cannot fill a disk)
 * @param arg  passed to @p fn
 *
 * Counting (mmn_check_count()) happens whatever the handler. The change is
 * not synchronised with violations reported concurrently: set the handler
 * before actors run.
 */
MMN_API void mmn_check_set_handler(struct mmn_sim *sim, mmn_violation_fn fn, void *arg);

/**
 * mmn_check_count() - number of violations of @p kind reported so far.
 * @return the count; 0 for an out-of-range @p kind.
 */
MMN_API unsigned long mmn_check_count(const struct mmn_sim *sim, enum mmn_violation_kind kind);

/** mmn_check_total() - number of violations of every kind reported so far. */
MMN_API unsigned long mmn_check_total(const struct mmn_sim *sim);

/** mmn_check_reset() - set every violation counter of @p sim back to zero. */
MMN_API void mmn_check_reset(struct mmn_sim *sim);

/** mmn_violation_kind_name() - stable lower-case name ("use_after_free"), or "unknown". */
MMN_API const char *mmn_violation_kind_name(enum mmn_violation_kind kind);

/**
 * mmn_check_report() - report a violation found by code outside the library
 * (a listener written by research code, say). It is counted and delivered
 * exactly like the library's own. @p v is copied, never modified; in the
 * copy, a NULL @p v->actor_name means "the calling actor": @p v->actor_id
 * and @p v->actor_name are both filled in with its id and name (-1 and "?"
 * without one), and a NULL @p v->op becomes the calling actor's context
 * (mmn_actor_set_context()). A @p v->kind out of range is ignored (neither
 * counted nor delivered). NULL @p sim or @p v: no-op.
 */
MMN_API void mmn_check_report(struct mmn_sim *sim, const struct mmn_violation *v);


/* ------------------------------------------------------------------ */
/* Stale translations at quiescence                                    */
/* ------------------------------------------------------------------ */

struct mmn_mm;

/** One secondary translation (a shadow PTE, an IOTLB or device-TLB entry, a
 *  mirror entry), as a listener reports it to the oracle. */
struct mmn_secondary_entry {
	struct mmn_mm *mm;    /**< the address space it translates */
	unsigned long addr;   /**< virtual address (any address in the page) */
	unsigned long pfn;    /**< frame it translates to */
	uint32_t gen;         /**< the frame's generation when it was made */
	bool write;           /**< it allows stores */
};

/** Callback through which a listener reports one translation. */
typedef void (*mmn_secondary_emit_fn)(void *cookie, const struct mmn_secondary_entry *e);

/**
 * A listener's iterator: call @p emit(@p cookie, entry) once for every
 * translation it holds now. It runs at quiescence, from
 * mmn_check_quiescent(), and may take the listener's own locks.
 * @param ctx     the pointer given to mmn_check_register_secondary()
 * @param emit    the oracle's collector
 * @param cookie  pass it back to @p emit
 */
typedef void (*mmn_secondary_iter_fn)(void *ctx, mmn_secondary_emit_fn emit, void *cookie);

/**
 * mmn_check_register_secondary() - let the oracle audit a listener's
 * secondary translations.
 * @param sim   the simulation
 * @param name  the listener's name, for reports (not copied; must outlive
 *              the registration)
 * @param iter  the listener's iterator
 * @param ctx   passed to @p iter; also the key for unregistering
 * @return 0, -EINVAL for NULL arguments, -EEXIST if @p ctx is registered,
 *         -ENOMEM when the host cannot allocate.
 */
MMN_API int mmn_check_register_secondary(struct mmn_sim *sim, const char *name,
					 mmn_secondary_iter_fn iter, void *ctx);

/**
 * mmn_check_unregister_secondary() - forget the listener registered with @p ctx.
 * @return 0, -EINVAL for NULL, -ENOENT if @p ctx is not registered.
 */
MMN_API int mmn_check_unregister_secondary(struct mmn_sim *sim, void *ctx);

/**
 * mmn_check_quiescent() - the stale-translation audit. With no invalidation
 * in progress, every cached translation must agree with the primary page
 * table: the address maps the same frame, of the same generation, and the
 * translation allows no more than the primary entry (no write through a
 * read-only entry). Audited: every CPU's TLB entries and every translation
 * of every registered listener. Each disagreement is reported as
 * MMN_VIOL_STALE_TRANSLATION (naming the listener or the CPU).
 *
 * Call it when no actor runs and no invalidation is open: an entry that an
 * invalidation in progress is about to drop would be reported too.
 * @param sim  the simulation
 * @return the number of stale translations (0: coherent), -EINVAL for NULL,
 *         -ENOMEM when the host cannot allocate the audit's scratch space,
 *         -ESTALE (nothing audited, nothing reported) when the last run of
 *         the deterministic scheduler unwound actors (a deadlock, or a
 *         livelock still running long past its step budget): what they had
 *         in flight was cut short, so the audit would only see half-done
 *         operations.
 */
MMN_API long mmn_check_quiescent(struct mmn_sim *sim);

/* ------------------------------------------------------------------ */
/* Blocks, and stale translations at access time                        */
/* ------------------------------------------------------------------ */

/**
 * One secondary translation of a naturally aligned block: a 4 KiB page, a
 * 2 MiB block (a huge SPTE, an IOMMU superpage, an HMM PMD entry) or a
 * 1 GiB one. Frame i of the block (i = 0 .. size/4 KiB - 1) is @c pfn + i.
 */
struct mmn_secondary_block {
	struct mmn_mm *mm;    /**< the address space it translates */
	unsigned long addr;   /**< first virtual address, aligned to @c size */
	unsigned long size;   /**< MMN_PAGE_SIZE, MMN_PMD_SIZE or MMN_PUD_SIZE */
	unsigned long pfn;    /**< first frame; the block maps pfn .. pfn + size/4 KiB - 1 */
	uint32_t gen;         /**< generation of the frames when it was made (one
	                           compound page: its head's generation) */
	bool write;           /**< it allows stores */
};

/** Callback through which a listener reports one block translation. */
typedef void (*mmn_secondary_emit_block_fn)(void *cookie, const struct mmn_secondary_block *b);

/**
 * A listener's block iterator: call @p emit(@p cookie, block) once for every
 * translation it holds now, 4 KiB entries as blocks of MMN_PAGE_SIZE. Same
 * context as mmn_secondary_iter_fn.
 * @param ctx     the pointer given to mmn_check_register_secondary_blocks()
 * @param emit    the oracle's collector
 * @param cookie  pass it back to @p emit
 */
typedef void (*mmn_secondary_iter_block_fn)(void *ctx, mmn_secondary_emit_block_fn emit,
					    void *cookie);

/**
 * When a listener counts as told about an invalidation, which decides how
 * long it may still use a translation the primary no longer has
 * (mmn_check_secondary_access(); the rule is in docs/notifier.md, "Stale
 * translations at access time").
 */
enum mmn_secondary_told {
	/** When its invalidate_range_start (or interval ->invalidate) for a
	 *  covering range has returned: KVM, HMM mirrors, AMD IOMMUv2. From
	 *  then until end it blocks new translations and uses no old one. */
	MMN_SECONDARY_TOLD_AT_START = 0,
	/** When its secondary-TLB callback for a covering range has run
	 *  (->arch_invalidate_secondary_tlbs from the CPU flush, 6.6+;
	 *  ->invalidate_range at the call site or in range_end, 3.19-6.5): an
	 *  SVA IOMMU may use its IOTLB entry until then. */
	MMN_SECONDARY_TOLD_AT_TLB_FLUSH = 1,
};

/**
 * mmn_check_register_secondary_blocks() - mmn_check_register_secondary()
 * with a block iterator and a rule for access-time checks.
 * @param sim   the simulation
 * @param name  the listener's name, for reports (not copied)
 * @param iter  the listener's block iterator
 * @param ctx   passed to @p iter; the key for every other call
 * @param told  when the listener counts as told (enum mmn_secondary_told)
 * @return 0, -EINVAL for NULL arguments or an unknown @p told, -EEXIST if
 *         @p ctx is registered, -ENOMEM when the host cannot allocate.
 *
 * A listener registered with mmn_check_register_secondary() (4 KiB
 * entries) counts as told at start.
 */
MMN_API int mmn_check_register_secondary_blocks(struct mmn_sim *sim, const char *name,
						mmn_secondary_iter_block_fn iter, void *ctx,
						enum mmn_secondary_told told);

/**
 * mmn_check_secondary_link() - name a notifier subscription of the
 * registered listener @p ctx: a struct mmn_notifier or a struct
 * mmn_interval_notifier. The callbacks the core delivers to it are what
 * "told" means for the listener (mmn_check_secondary_access()). Link each
 * subscription before it can be called (before mmn_notifier_register() or
 * mmn_interval_notifier_insert() returns is best: link first).
 * @param sim  the simulation
 * @param ctx  a registered listener
 * @param sub  its subscription (only compared, never dereferenced)
 * @return 0, -EINVAL for NULL, -ENOENT if @p ctx is not registered,
 *         -EEXIST if @p sub is linked already, -ENOMEM.
 */
MMN_API int mmn_check_secondary_link(struct mmn_sim *sim, void *ctx, const void *sub);

/**
 * mmn_check_secondary_unlink() - forget a subscription linked with
 * mmn_check_secondary_link() (unregistering the listener forgets them all).
 * @return 0, -EINVAL for NULL, -ENOENT if @p sub is not linked to @p ctx.
 */
MMN_API int mmn_check_secondary_unlink(struct mmn_sim *sim, void *ctx, const void *sub);

/**
 * mmn_check_secondary_access() - the access-time stale-translation check:
 * a device or vCPU access of the registered listener @p ctx at @p addr
 * through the translation @p t (a 4 KiB entry or a block). The frame used
 * (@p t->pfn + the page index of @p addr in the block) must be the frame the
 * primary maps at @p addr now (a present, PROT_NONE, device-private or
 * device-exclusive entry, a PTE or a PMD leaf), with stores allowed for a
 * store, unless the listener has not yet been told about an invalidation in
 * flight that covers @p addr (enum mmn_secondary_told), or a secondary flush
 * of the frame is still owed (the <= 4.12 invalidate_page protocol).
 * Otherwise it reports MMN_VIOL_STALE_TRANSLATION, "stale translation at
 * access", naming the address, the frame used, the frame mapped and the
 * covering invalidation in flight if any. A frame freed since @p t was made
 * (generation moved) is mmn_phys_access()'s use-after-free and is not
 * reported again here. Two transient entries are excused: the none a
 * protection change (PROTECTION_VMA/PAGE, SOFT_DIRTY) writes between
 * clearing an entry and setting it back with the same frame, for a load;
 * and the none make_device_exclusive() writes before its device-exclusive
 * entry, while its EXCLUSIVE invalidation is in flight.
 *
 * Call it at every access, beside mmn_phys_access(), under the lock that
 * makes the lookup and the access one step (the listener's own, which its
 * invalidation callbacks take too: the check reads the primary entry first
 * and the invalidations in flight second, and relies on no invalidation
 * being told while the access holds that lock). It reads state only: no
 * scheduling point, no modelled lock, no trace event.
 * @param sim    the simulation
 * @param ctx    the listener, as registered
 * @param t      the translation used
 * @param addr   the address accessed, inside @p t
 * @param write  the access stores
 * @return 0 coherent (or excused), 1 reported, -EINVAL for NULL arguments
 *         (@p t->mm included),
 *         a block whose size is not 4 KiB, 2 MiB or 1 GiB, a misaligned one,
 *         or @p addr outside it, -ENOENT if @p ctx is not registered.
 */
MMN_API int mmn_check_secondary_access(struct mmn_sim *sim, void *ctx,
				       const struct mmn_secondary_block *t, unsigned long addr,
				       bool write);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_CHECK_H */
