/* SPDX-License-Identifier: MIT */
/**
 * @file compat.h
 * @brief The library side of the kernel-compatibility headers
 *        (include/mmnsim/compat/linux/, docs/compat.md): locks made with the
 *        kernel's initialisers, bound to the calling actor's simulation, and
 *        WARN reports through the oracle.
 *
 * A driver's notifier file includes <linux/mutex.h>, <linux/mmu_notifier.h>
 * ... from the compat tree (-I<prefix>/include/mmnsim/compat) and never
 * names these functions; the compat headers do. A program may use them
 * directly too.
 */
#ifndef MMNSIM_COMPAT_H
#define MMNSIM_COMPAT_H

#include <stdbool.h>

#include <mmnsim/export.h>
#include <mmnsim/sync.h>

#ifdef __cplusplus
extern "C" {
#endif

/** What a struct mmn_compat_lock stands for. */
enum mmn_compat_lock_kind {
	MMN_COMPAT_SPINLOCK = 1, /**< spinlock_t */
	MMN_COMPAT_MUTEX = 2,    /**< struct mutex */
	MMN_COMPAT_RWSEM = 3,    /**< struct rw_semaphore */
	MMN_COMPAT_SRCU = 4,     /**< struct srcu_struct */
};

/**
 * A kernel lock as the compat headers declare it (spinlock_t, struct mutex,
 * struct rw_semaphore, struct srcu_struct all hold one). It is bound to a
 * simulation lazily: at its initialiser when the calling thread has a
 * current simulation (mmn_sim_current()), else at its first use; a lock
 * used from another simulation than the one it is bound to (a static lock
 * in a program that runs simulations one after another) is bound afresh.
 * Its lockdep class is the initialiser's: a DEFINE_*() object's own, or the
 * static class of the spin_lock_init()/mutex_init()/init_rwsem() call site.
 * Fields are private.
 */
struct mmn_compat_lock {
	/** @cond MMN_PRIVATE */
	union {
		struct mmn_spinlock spin;
		struct mmn_mutex mutex;
		struct mmn_rwsem rwsem;
		struct mmn_srcu srcu;
	} u;
	const struct mmn_lock_class *cls; /* the init site's class; NULL: own_cls */
	struct mmn_lock_class own_cls;    /* a DEFINE_*() object's own class */
	const char *name;
	unsigned long serial;             /* atomic: mmn_sim_serial() of the binding */
	int busy;                         /* atomic: a binding in progress */
	int kind;
	/** @endcond */
};

/** Static initialiser of a struct mmn_compat_lock of @p kind named @p nm
 *  (a string literal): DEFINE_MUTEX() and friends. */
#define MMN_COMPAT_LOCK_INIT(kind_, nm)                                                    \
	{ .own_cls = { .name = (nm), .rank = 0 }, .name = (nm), .kind = (kind_) }

/**
 * mmn_compat_lock_init() - spin_lock_init()/mutex_init()/init_rwsem()/
 * init_srcu_struct(): record @p kind, @p cls and @p name; bind now if the
 * thread has a current simulation. NULL @p l: no-op.
 * @param l     the lock
 * @param kind  enum mmn_compat_lock_kind
 * @param cls   the call site's class (static, outlives the lock)
 * @param name  its name in reports (a literal)
 */
MMN_API void mmn_compat_lock_init(struct mmn_compat_lock *l, int kind,
				  const struct mmn_lock_class *cls, const char *name);

/**
 * mmn_compat_lock_get() - the modelled lock behind @p l in the calling
 * thread's simulation, binding it first if needed (not a scheduling point).
 * @return &l->u, or NULL when the thread has no current simulation (then one
 *         line on stderr names the lock: the operation cannot be modelled)
 *         or for NULL.
 */
MMN_API void *mmn_compat_lock_get(struct mmn_compat_lock *l);

/**
 * mmn_compat_lock_destroy() - mutex_destroy(): release the modelled lock if
 * bound; the lock may be initialised again. NULL: no-op.
 */
MMN_API void mmn_compat_lock_destroy(struct mmn_compat_lock *l);

/**
 * mmn_compat_warn() - WARN_ON() that fired: MMN_VIOL_PROTOCOL in the calling
 * thread's simulation, naming @p file, @p line and @p cond (one line on
 * stderr when the thread has no simulation).
 */
MMN_API void mmn_compat_warn(const char *file, int line, const char *cond);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_COMPAT_H */
