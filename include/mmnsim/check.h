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
	/** At quiescence a secondary translation disagrees with the primary. */
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

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_CHECK_H */
