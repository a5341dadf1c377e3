// SPDX-License-Identifier: MIT
/*
 * spinlock_t, struct mutex, seqcount_t and the simulator's raw locks, native
 * backend.
 *
 * Both spinlock_t and struct mutex are pthread mutexes here. A host spin
 * lock would model spinning more literally, but the machines running the
 * simulator have two cores and many actors, and a preempted holder would
 * leave every other actor burning its time slice; "atomic context" is
 * enforced by lockdep (no sleeping call under a spinlock) instead of by the
 * host.
 *
 * The owner field names the holding actor for the bad-unlock check; the
 * slow path (lockdep on) records it. The fast path does not know the actor
 * and, on glibc, records nothing: spin_is_locked()/mutex_is_locked() read
 * glibc's own lock word, which keeps the lock and unlock fast paths down to
 * a tail call into pthreads. Elsewhere the fast path records an anonymous
 * owner and is_locked reads that.
 *
 * Functions on a NULL lock return at once (void), or report "not acquired"
 * (trylocks) or "not locked" (is_locked): a trylock returning -EINVAL would
 * read as success to every caller that tests it as a boolean.
 */
#include <sched.h>

#include "priv.h"

#if defined(__SANITIZE_THREAD__)
#define LOCKS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define LOCKS_TSAN 1
#endif
#endif

/* ------------------------------------------------------------------ */
/* Common to spinlock_t and struct mutex (same layout, pthread based)  */
/* ------------------------------------------------------------------ */

#ifdef __GLIBC__
#define PLOCK_FAST_OWNER 0
#else
#define PLOCK_FAST_OWNER 1
#endif

static inline void plock_fast_lock(pthread_mutex_t *native, struct mmn_actor **owner)
{
	pthread_mutex_lock(native);
	if (PLOCK_FAST_OWNER)
		__atomic_store_n(owner, SYNC_OWNER_ANON, __ATOMIC_RELAXED);
}

static inline int plock_fast_trylock(pthread_mutex_t *native, struct mmn_actor **owner)
{
	if (pthread_mutex_trylock(native) != 0)
		return 0;
	if (PLOCK_FAST_OWNER)
		__atomic_store_n(owner, SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	return 1;
}

static inline void plock_fast_unlock(pthread_mutex_t *native, struct mmn_actor **owner)
{
	if (PLOCK_FAST_OWNER)
		__atomic_store_n(owner, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(native);
}

static inline bool plock_is_locked(const struct mmn_lockdep_map *dep, const pthread_mutex_t *native,
				   struct mmn_actor *const *owner)
{
	/* The deterministic backend never touches the host mutex. */
	if (mmn_unlikely(dep->sim && !sync_native(dep->sim)))
		return __atomic_load_n(owner, __ATOMIC_RELAXED) != NULL;
#ifdef __GLIBC__
	(void)owner;
	return __atomic_load_n(&native->__data.__lock, __ATOMIC_RELAXED) != 0;
#else
	(void)native;
	return __atomic_load_n(owner, __ATOMIC_RELAXED) != NULL;
#endif
}

struct plock_ops {
	enum sync_kind kind;
	const char *lock_op, *nested_op, *try_op, *unlock_op;
};

static const struct plock_ops spin_ops = {
	SYNC_KIND_SPIN, "spin_lock", "spin_lock_nested", "spin_trylock", "spin_unlock",
};
static const struct plock_ops mutex_ops = {
	SYNC_KIND_MUTEX, "mutex_lock", "mutex_lock_nested", "mutex_trylock", "mutex_unlock",
};

static void plock_init(struct mmn_lockdep_map *dep, pthread_mutex_t *native,
		       struct mmn_actor **owner, struct mmn_sim *sim,
		       const struct mmn_lock_class *cls, const char *name)
{
	mmn__ld_map_init(dep, sim, cls, name);
	pthread_mutex_init(native, NULL);
	*owner = NULL;
}

/*
 * Deterministic backend: the owner field is the lock; a busy lock blocks
 * the actor virtually until its release wakes it. @a is the lockdep actor
 * (NULL with lockdep off). False: the acquisition was skipped (a wait
 * outside a run, reported).
 */
static bool plock_det_lock(struct mmn_sim *sim, struct mmn_actor *a, struct mmn_actor **owner,
			   const void *obj, const char *name, enum sync_kind kind)
{
	struct mmn_actor *me = a ? a : sync_actor(sim);

	while (*owner)
		if (!mmn__det_block(sim, me, obj, SYNC_DET_W_LOCK, obj, -1, name))
			return false;
	*owner = me ? me : SYNC_OWNER_ANON;
	if (me)
		mmn__det_held_push(me, obj, kind, false, -1);
	return true;
}

/* @release: lockdep's verdict (true without lockdep). Only the owner releases. */
static void plock_det_unlock(struct mmn_sim *sim, struct mmn_actor *a, struct mmn_actor **owner,
			     const void *obj, bool release)
{
	struct mmn_actor *me = a ? a : sync_actor(sim);

	if (!release || !*owner || *owner != me)
		return;
	*owner = NULL;
	mmn__det_held_pop(me, obj, -1, -1);
	mmn__det_wake(sim, obj);
}

static void plock_slow(struct mmn_lockdep_map *dep, pthread_mutex_t *native,
		       struct mmn_actor **owner, const void *obj, unsigned int subclass,
		       const struct plock_ops *ops)
{
	struct mmn_sim *sim = dep->sim;
	struct mmn_actor *a = sync_ld_actor(sim);

	mmn__sched(sim, a, MMN_SCHED_LOCK, obj, dep->name);
	if (a && mmn__ld_acquire(a, dep, subclass, ops->kind, false,
				 subclass ? ops->nested_op : ops->lock_op) == SYNC_LD_SKIP)
		return;
	/* Backend dispatch point. */
	if (!sync_native(sim)) {
		if (!plock_det_lock(sim, a, owner, obj, dep->name, ops->kind))
			return;
		if (a)
			mmn__ld_push(a, dep, subclass, ops->kind, false, false);
		return;
	}
	pthread_mutex_lock(native);
	__atomic_store_n(owner, a ? a : SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	if (a)
		mmn__ld_push(a, dep, subclass, ops->kind, false, false);
}

static int plock_try_slow(struct mmn_lockdep_map *dep, pthread_mutex_t *native,
			  struct mmn_actor **owner, const void *obj, const struct plock_ops *ops)
{
	struct mmn_sim *sim = dep->sim;
	struct mmn_actor *a = sync_ld_actor(sim);

	/* Backend dispatch point. */
	mmn__sched(sim, a, MMN_SCHED_LOCK, obj, dep->name);
	if (a && mmn__ld_try(a, dep, ops->kind, false, ops->try_op) != SYNC_LD_TRY)
		return 0;
	if (!sync_native(sim)) {
		struct mmn_actor *me = a ? a : sync_actor(sim);

		if (*owner)
			return 0;
		*owner = me ? me : SYNC_OWNER_ANON;
		if (me)
			mmn__det_held_push(me, obj, ops->kind, false, -1);
		if (a)
			mmn__ld_push(a, dep, 0, ops->kind, false, false);
		return 1;
	}
	if (pthread_mutex_trylock(native) != 0)
		return 0;
	__atomic_store_n(owner, a ? a : SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	if (a)
		mmn__ld_push(a, dep, 0, ops->kind, false, false);
	return 1;
}

static void plock_unlock_slow(struct mmn_lockdep_map *dep, pthread_mutex_t *native,
			      struct mmn_actor **owner, const void *obj,
			      const struct plock_ops *ops)
{
	struct mmn_sim *sim = dep->sim;
	const char *name = dep->name; /* the lock may be freed once released */
	struct mmn_actor *a = sync_ld_actor(sim);
	bool release = true;

	/* Backend dispatch point. */
	if (a) {
		int r = mmn__ld_release(a, dep, ops->kind, -1, ops->unlock_op);

		if (r == SYNC_LD_PHANTOM)
			release = false;
		else if (r == SYNC_LD_NOT_HELD)
			/* Unlocking a pthread mutex this thread does not own
			 * is undefined: only a lock the stack lost track of
			 * is released. */
			release = __atomic_load_n(owner, __ATOMIC_RELAXED) == a;
	}
	if (!sync_native(sim)) {
		plock_det_unlock(sim, a, owner, obj, release);
	} else if (release) {
		__atomic_store_n(owner, NULL, __ATOMIC_RELAXED);
		pthread_mutex_unlock(native);
	}
	mmn__sched(sim, a, MMN_SCHED_UNLOCK, obj, name);
}

/* ------------------------------------------------------------------ */
/* spinlock_t: models spin_lock()/spin_unlock() and friends (all       */
/* versions); the caller is atomic while it holds one.                 */
/* ------------------------------------------------------------------ */

void mmn_spin_lock_init(struct mmn_spinlock *lock, struct mmn_sim *sim,
			const struct mmn_lock_class *cls, const char *name)
{
	if (!lock || !sim)
		return;
	plock_init(&lock->dep, &lock->native, &lock->owner, sim, cls, name);
}

void mmn_spin_lock_destroy(struct mmn_spinlock *lock)
{
	if (!lock || mmn__ld_map_destroy(&lock->dep, plock_is_locked(&lock->dep, &lock->native,
								  &lock->owner), "spinlock"))
		return;
	pthread_mutex_destroy(&lock->native);
}

void mmn_spin_lock(struct mmn_spinlock *lock)
{
	if (mmn_unlikely(!lock))
		return;
	if (sync_slow(lock->dep.sim)) {
		plock_slow(&lock->dep, &lock->native, &lock->owner, lock, 0, &spin_ops);
		return;
	}
	plock_fast_lock(&lock->native, &lock->owner);
}

void mmn_spin_lock_nested(struct mmn_spinlock *lock, unsigned int subclass)
{
	if (mmn_unlikely(!lock))
		return;
	if (sync_slow(lock->dep.sim)) {
		plock_slow(&lock->dep, &lock->native, &lock->owner, lock, subclass, &spin_ops);
		return;
	}
	plock_fast_lock(&lock->native, &lock->owner);
}

int mmn_spin_trylock(struct mmn_spinlock *lock)
{
	if (mmn_unlikely(!lock))
		return 0;
	if (sync_slow(lock->dep.sim))
		return plock_try_slow(&lock->dep, &lock->native, &lock->owner, lock, &spin_ops);
	return plock_fast_trylock(&lock->native, &lock->owner);
}

void mmn_spin_unlock(struct mmn_spinlock *lock)
{
	if (mmn_unlikely(!lock))
		return;
	if (sync_slow(lock->dep.sim)) {
		plock_unlock_slow(&lock->dep, &lock->native, &lock->owner, lock, &spin_ops);
		return;
	}
	plock_fast_unlock(&lock->native, &lock->owner);
}

bool mmn_spin_is_locked(const struct mmn_spinlock *lock)
{
	return lock && plock_is_locked(&lock->dep, &lock->native, &lock->owner);
}

/* ------------------------------------------------------------------ */
/* struct mutex: models mutex_lock()/mutex_unlock() (all versions);    */
/* a sleeping lock, so taking it is a might_sleep() point.             */
/* ------------------------------------------------------------------ */

void mmn_mutex_init(struct mmn_mutex *lock, struct mmn_sim *sim,
		    const struct mmn_lock_class *cls, const char *name)
{
	if (!lock || !sim)
		return;
	plock_init(&lock->dep, &lock->native, &lock->owner, sim, cls, name);
}

void mmn_mutex_destroy(struct mmn_mutex *lock)
{
	if (!lock || mmn__ld_map_destroy(&lock->dep, plock_is_locked(&lock->dep, &lock->native,
								  &lock->owner), "mutex"))
		return;
	pthread_mutex_destroy(&lock->native);
}

void mmn_mutex_lock(struct mmn_mutex *lock)
{
	if (mmn_unlikely(!lock))
		return;
	if (sync_slow(lock->dep.sim)) {
		plock_slow(&lock->dep, &lock->native, &lock->owner, lock, 0, &mutex_ops);
		return;
	}
	plock_fast_lock(&lock->native, &lock->owner);
}

void mmn_mutex_lock_nested(struct mmn_mutex *lock, unsigned int subclass)
{
	if (mmn_unlikely(!lock))
		return;
	if (sync_slow(lock->dep.sim)) {
		plock_slow(&lock->dep, &lock->native, &lock->owner, lock, subclass, &mutex_ops);
		return;
	}
	plock_fast_lock(&lock->native, &lock->owner);
}

int mmn_mutex_trylock(struct mmn_mutex *lock)
{
	if (mmn_unlikely(!lock))
		return 0;
	if (sync_slow(lock->dep.sim))
		return plock_try_slow(&lock->dep, &lock->native, &lock->owner, lock, &mutex_ops);
	return plock_fast_trylock(&lock->native, &lock->owner);
}

void mmn_mutex_unlock(struct mmn_mutex *lock)
{
	if (mmn_unlikely(!lock))
		return;
	if (sync_slow(lock->dep.sim)) {
		plock_unlock_slow(&lock->dep, &lock->native, &lock->owner, lock, &mutex_ops);
		return;
	}
	plock_fast_unlock(&lock->native, &lock->owner);
}

bool mmn_mutex_is_locked(const struct mmn_mutex *lock)
{
	return lock && plock_is_locked(&lock->dep, &lock->native, &lock->owner);
}

/* ------------------------------------------------------------------ */
/* seqcount_t: models read_seqcount_begin()/read_seqcount_retry() and  */
/* write_seqcount_begin()/end() (all versions).                        */
/*                                                                     */
/*   writer                            reader                          */
/*   seq = odd (relaxed)               s = seq (acquire), even         */
/*   release fence                     read data (atomic loads)        */
/*   write data (atomic stores)        acquire fence                   */
/*   seq = even (release)              retry if seq != s               */
/*                                                                     */
/* If the reader saw any store of the writer's data, the fence pair     */
/* makes the odd sequence (or a later one) visible to its re-read.      */
/* Data shared under a seqcount must itself be accessed with atomics    */
/* (relaxed is enough): readers race with the writer by design.         */
/* ------------------------------------------------------------------ */

#ifdef LOCKS_TSAN
/* TSan does not model fences (gcc warns with -Wtsan); the RMW forms are
 * full barriers on x86 and keep the sanitizer build warning-free. */
#define seq_fence_acquire(s) ((void)__atomic_load_n(&(s)->sequence, __ATOMIC_SEQ_CST))
#define seq_fence_release(s) ((void)__atomic_fetch_add(&(s)->sequence, 0, __ATOMIC_SEQ_CST))
#else
#define seq_fence_acquire(s) __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define seq_fence_release(s) __atomic_thread_fence(__ATOMIC_RELEASE)
#endif

static inline void seq_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

void mmn_seqcount_init(struct mmn_seqcount *s, struct mmn_sim *sim)
{
	if (!s)
		return;
	s->sim = sim;
	__atomic_store_n(&s->sequence, 0, __ATOMIC_RELAXED);
}

unsigned int mmn_read_seqcount_begin(const struct mmn_seqcount *s)
{
	unsigned int seq, spins = 0;

	if (!s)
		return 0;
	/* A writer may have been preempted (more actors than cores): spin a
	 * little, then give the CPU away so that it can finish. Under the
	 * deterministic backend the writer cannot run while we spin: wait
	 * virtually for its write_seqcount_end() instead. */
	while ((seq = __atomic_load_n(&s->sequence, __ATOMIC_ACQUIRE)) & 1) {
		if (s->sim && !sync_native(s->sim)) {
			if (!mmn__det_block(s->sim, sync_actor(s->sim), s, SYNC_DET_W_SEQCOUNT, NULL,
					    -1, "seqcount"))
				return seq;
			continue;
		}
		if (++spins < 32) {
			seq_cpu_relax();
		} else {
			spins = 0;
			sched_yield();
		}
	}
	return seq;
}

bool mmn_read_seqcount_retry(const struct mmn_seqcount *s, unsigned int start)
{
	if (!s)
		return false;
	seq_fence_acquire(s);
	return __atomic_load_n(&s->sequence, __ATOMIC_RELAXED) != start;
}

unsigned int mmn_raw_read_seqcount(const struct mmn_seqcount *s)
{
	return s ? __atomic_load_n(&s->sequence, __ATOMIC_ACQUIRE) : 0;
}

/*
 * A begin inside an open write section, or an end with none open, would
 * flip the parity the readers wait on (an even count left odd makes every
 * later reader wait forever). The kernel's lockdep catches the first through
 * the writer's lock; here both are reported (MMN_VIOL_PROTOCOL, when the
 * seqcount belongs to a simulation) and the count is left as it is. One
 * relaxed load the writer makes anyway: no scheduling point.
 */
static bool seq_write_parity_bad(struct mmn_seqcount *s, unsigned int seq, bool begin)
{
	if (mmn_likely((seq & 1) != begin))
		return false;
	if (s->sim)
		mmn_reportf(s->sim, MMN_VIOL_PROTOCOL, 0, 0,
			    begin ? "write_seqcount_begin() inside an open write section"
				  : "write_seqcount_end() without write_seqcount_begin()");
	return true;
}

void mmn_write_seqcount_begin(struct mmn_seqcount *s)
{
	unsigned int seq;

	if (!s)
		return;
	/* Writers are serialised by their own lock: load + store is enough. */
	seq = __atomic_load_n(&s->sequence, __ATOMIC_RELAXED);
	if (seq_write_parity_bad(s, seq, true))
		return;
	__atomic_store_n(&s->sequence, seq + 1, __ATOMIC_RELAXED);
	seq_fence_release(s);
}

void mmn_write_seqcount_end(struct mmn_seqcount *s)
{
	unsigned int seq;

	if (!s)
		return;
	seq = __atomic_load_n(&s->sequence, __ATOMIC_RELAXED);
	if (seq_write_parity_bad(s, seq, false))
		return;
	__atomic_store_n(&s->sequence, seq + 1, __ATOMIC_RELEASE);
	if (mmn_unlikely(s->sim && !sync_native(s->sim)))
		mmn__det_wake(s->sim, s);
}
