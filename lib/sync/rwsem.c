// SPDX-License-Identifier: MIT
/*
 * struct rw_semaphore, native backend: models down_read()/up_read(),
 * down_write()/up_write(), the trylocks and downgrade_write() (all
 * versions), as used for mmap_lock, i_mmap_rwsem and anon_vma->rwsem.
 *
 * Not a pthread_rwlock: that has no downgrade, and its reader/writer
 * preference is unspecified. The kernel rwsem queues waiters in FIFO order
 * and hands the lock over, which we approximate with phase fairness:
 *
 *  - a waiting writer blocks new readers (no writer starvation);
 *  - when a writer releases or downgrades, every reader waiting at that
 *    moment is granted the lock in one batch (no reader starvation by a
 *    stream of writers);
 *  - writers among themselves race for the lock under the wait lock.
 *
 * The count word (atomic builtins):
 *
 *   bit 0    RWSEM_WRITER   held for write
 *   bit 1    RWSEM_WAITERS  someone sleeps in a slow path (set and cleared
 *                           only under wait_lock)
 *   bits 2.. readers        number of read holders, in units of RWSEM_READER
 *
 * Fast paths are single compare-and-swaps that succeed only when no waiter
 * is flagged; everything else goes through wait_lock and the condition
 * variable.
 *
 * Why a wake-up cannot be lost. A waiter, holding wait_lock, sets
 * RWSEM_WAITERS with an atomic RMW, re-reads the word, and only then sleeps
 * (pthread_cond_wait releases wait_lock atomically). A releaser changes the
 * word with an atomic RMW and, if the value it replaced had RWSEM_WAITERS,
 * takes wait_lock and broadcasts. RMWs of one word are totally ordered:
 *
 *   waiter                              releaser
 *   lock(wait_lock)
 *   RMW: count |= WAITERS      (W)
 *   c = count                           RMW: count -= READER (R)
 *   c busy -> cond_wait                 old had WAITERS? -> lock(wait_lock)
 *     (releases wait_lock)                 broadcast, unlock
 *
 *   - R before W: the waiter's re-read follows W, which follows R, so it
 *     sees the release and takes the lock without sleeping;
 *   - R after W: R sees WAITERS (it stays set while this waiter is
 *     registered), so the releaser broadcasts; it can only take wait_lock
 *     once the waiter is inside cond_wait, so the broadcast reaches it.
 *
 * Grants to readers are made under wait_lock and observed under wait_lock
 * (read_gen moves), so they need no such argument.
 */
#include "priv.h"

#define RWSEM_WRITER 1L
#define RWSEM_WAITERS 2L
#define RWSEM_READER 4L
#define RWSEM_READ_MASK (~3L)

static inline long rwsem_load(const struct mmn_rwsem *sem)
{
	return __atomic_load_n(&sem->count, __ATOMIC_RELAXED);
}

static inline bool rwsem_cas(struct mmn_rwsem *sem, long *old, long new, int order)
{
	return __atomic_compare_exchange_n(&sem->count, old, new, false, order, __ATOMIC_RELAXED);
}

/* Wake every sleeper so that it re-evaluates the word. */
static void rwsem_wake(struct mmn_rwsem *sem)
{
	pthread_mutex_lock(&sem->wait_lock);
	pthread_cond_broadcast(&sem->wait);
	pthread_mutex_unlock(&sem->wait_lock);
}

/* A waiter leaves the slow path; caller holds wait_lock (a host mutex of
 * the native backend, not a modelled lock: lockdep does not see it). */
static void rwsem_unregister(struct mmn_rwsem *sem)
{
	if (--sem->waiters == 0)
		__atomic_fetch_and(&sem->count, ~RWSEM_WAITERS, __ATOMIC_RELAXED);
}

/*
 * Release the write hold, turning it into one read hold if @downgrade, and
 * grant the lock to every reader waiting now. Caller holds wait_lock (host
 * mutex, not seen by lockdep).
 */
static void __rwsem_writer_handoff(struct mmn_rwsem *sem, bool downgrade)
{
	long granted = sem->readers_waiting + (downgrade ? 1 : 0);

	__atomic_fetch_add(&sem->count, granted * RWSEM_READER - RWSEM_WRITER, __ATOMIC_RELEASE);
	if (sem->readers_waiting) {
		sem->readers_waiting = 0;
		sem->read_gen++;
	}
	pthread_cond_broadcast(&sem->wait);
}

/* ---- read side ---- */

static inline bool rwsem_read_trylock(struct mmn_rwsem *sem)
{
	long c = rwsem_load(sem);

	while (!(c & (RWSEM_WRITER | RWSEM_WAITERS)))
		if (rwsem_cas(sem, &c, c + RWSEM_READER, __ATOMIC_ACQUIRE))
			return true;
	return false;
}

static void rwsem_down_read_wait(struct mmn_rwsem *sem)
{
	unsigned int gen;

	pthread_mutex_lock(&sem->wait_lock);
	sem->waiters++;
	__atomic_fetch_or(&sem->count, RWSEM_WAITERS, __ATOMIC_ACQ_REL);
	gen = sem->read_gen;
	sem->readers_waiting++;
	for (;;) {
		long c;

		if (sem->read_gen != gen)
			break; /* granted by a writer's handoff */
		c = rwsem_load(sem);
		if (!(c & RWSEM_WRITER) && sem->writers_waiting == 0) {
			if (rwsem_cas(sem, &c, c + RWSEM_READER, __ATOMIC_ACQUIRE)) {
				sem->readers_waiting--;
				break;
			}
			continue;
		}
		pthread_cond_wait(&sem->wait, &sem->wait_lock);
	}
	rwsem_unregister(sem);
	pthread_mutex_unlock(&sem->wait_lock);
}

static inline void rwsem_read_lock(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!rwsem_read_trylock(sem)))
		rwsem_down_read_wait(sem);
}

static inline void rwsem_read_unlock(struct mmn_rwsem *sem)
{
	long c = __atomic_sub_fetch(&sem->count, RWSEM_READER, __ATOMIC_RELEASE);

	/* Only a writer can be waiting for the readers to drain; readers
	 * wait behind writers, never behind readers. */
	if (mmn_unlikely((c & RWSEM_WAITERS) && !(c & RWSEM_READ_MASK)))
		rwsem_wake(sem);
}

/* up_read() that refuses to drop below zero readers (checked slow path). */
static void rwsem_read_unlock_checked(struct mmn_rwsem *sem)
{
	long c = rwsem_load(sem);

	do {
		if (!(c & RWSEM_READ_MASK))
			return;
	} while (!rwsem_cas(sem, &c, c - RWSEM_READER, __ATOMIC_RELEASE));
	c -= RWSEM_READER;
	if ((c & RWSEM_WAITERS) && !(c & RWSEM_READ_MASK))
		rwsem_wake(sem);
}

/* ---- write side ---- */

static inline bool rwsem_write_trylock(struct mmn_rwsem *sem)
{
	long c = 0;

	return rwsem_cas(sem, &c, RWSEM_WRITER, __ATOMIC_ACQUIRE);
}

static void rwsem_down_write_wait(struct mmn_rwsem *sem)
{
	pthread_mutex_lock(&sem->wait_lock);
	sem->waiters++;
	sem->writers_waiting++;
	__atomic_fetch_or(&sem->count, RWSEM_WAITERS, __ATOMIC_ACQ_REL);
	for (;;) {
		long c = rwsem_load(sem);

		if (!(c & (RWSEM_WRITER | RWSEM_READ_MASK))) {
			if (rwsem_cas(sem, &c, c | RWSEM_WRITER, __ATOMIC_ACQUIRE))
				break;
			continue;
		}
		pthread_cond_wait(&sem->wait, &sem->wait_lock);
	}
	sem->writers_waiting--;
	rwsem_unregister(sem);
	pthread_mutex_unlock(&sem->wait_lock);
}

static inline void rwsem_write_lock(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!rwsem_write_trylock(sem)))
		rwsem_down_write_wait(sem);
}

static void rwsem_write_unlock_wait(struct mmn_rwsem *sem, bool downgrade)
{
	pthread_mutex_lock(&sem->wait_lock);
	__rwsem_writer_handoff(sem, downgrade);
	pthread_mutex_unlock(&sem->wait_lock);
}

static inline void rwsem_write_unlock(struct mmn_rwsem *sem)
{
	long c = RWSEM_WRITER;

	__atomic_store_n(&sem->owner, NULL, __ATOMIC_RELAXED);
	if (mmn_unlikely(!rwsem_cas(sem, &c, 0, __ATOMIC_RELEASE)))
		rwsem_write_unlock_wait(sem, false);
}

static inline void rwsem_downgrade(struct mmn_rwsem *sem)
{
	long c = RWSEM_WRITER;

	__atomic_store_n(&sem->owner, NULL, __ATOMIC_RELAXED);
	if (mmn_unlikely(!rwsem_cas(sem, &c, RWSEM_READER, __ATOMIC_RELEASE)))
		rwsem_write_unlock_wait(sem, true);
}

/* ---- deterministic backend ----
 *
 * The same count word without the waiters bit: one actor runs at a time, so
 * the word is read and written plainly (through the atomic builtins, for
 * uniformity) and a busy rwsem blocks the actor virtually. A waiting writer
 * keeps new readers out, as in the kernel (so a reader re-acquiring while a
 * writer waits deadlocks, as it does there); on release every waiter is
 * made runnable and re-checks when it runs.
 */

static bool rwsem_det_down(struct mmn_rwsem *sem, struct mmn_actor *me, bool write)
{
	struct mmn_sim *sim = sem->dep.sim;

	if (write) {
		while (rwsem_load(sem) & (RWSEM_WRITER | RWSEM_READ_MASK)) {
			bool ok;

			sem->writers_waiting++;
			ok = mmn__det_block(sim, me, sem, SYNC_DET_W_WRITE, sem, -1, sem->dep.name);
			sem->writers_waiting--;
			if (!ok)
				return false;
		}
		__atomic_store_n(&sem->count, rwsem_load(sem) | RWSEM_WRITER, __ATOMIC_RELAXED);
		__atomic_store_n(&sem->owner, me ? me : SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	} else {
		while ((rwsem_load(sem) & RWSEM_WRITER) || sem->writers_waiting > 0)
			if (!mmn__det_block(sim, me, sem, SYNC_DET_W_READ, sem, -1, sem->dep.name))
				return false;
		__atomic_store_n(&sem->count, rwsem_load(sem) + RWSEM_READER, __ATOMIC_RELAXED);
	}
	if (me)
		mmn__det_held_push(me, sem, SYNC_KIND_RWSEM, !write, -1);
	return true;
}

static bool rwsem_det_try(struct mmn_rwsem *sem, struct mmn_actor *me, bool write)
{
	long c = rwsem_load(sem);

	if (write ? (c & (RWSEM_WRITER | RWSEM_READ_MASK)) != 0
		  : ((c & RWSEM_WRITER) || sem->writers_waiting > 0))
		return false;
	if (write) {
		__atomic_store_n(&sem->count, c | RWSEM_WRITER, __ATOMIC_RELAXED);
		__atomic_store_n(&sem->owner, me ? me : SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	} else {
		__atomic_store_n(&sem->count, c + RWSEM_READER, __ATOMIC_RELAXED);
	}
	if (me)
		mmn__det_held_push(me, sem, SYNC_KIND_RWSEM, !write, -1);
	return true;
}

static void rwsem_det_up(struct mmn_rwsem *sem, struct mmn_actor *me, bool write)
{
	long c = rwsem_load(sem);

	if (write) {
		if (!(c & RWSEM_WRITER))
			return;
		__atomic_store_n(&sem->count, c & ~RWSEM_WRITER, __ATOMIC_RELAXED);
		__atomic_store_n(&sem->owner, NULL, __ATOMIC_RELAXED);
		if (me)
			mmn__det_held_pop(me, sem, 0, -1);
	} else {
		if (!(c & RWSEM_READ_MASK))
			return;
		c -= RWSEM_READER;
		__atomic_store_n(&sem->count, c, __ATOMIC_RELAXED);
		if (me)
			mmn__det_held_pop(me, sem, 1, -1);
		if (c & RWSEM_READ_MASK)
			return; /* only a writer waits for the readers to drain */
	}
	mmn__det_wake(sem->dep.sim, sem);
}

static void rwsem_det_downgrade(struct mmn_rwsem *sem, struct mmn_actor *me)
{
	long c = rwsem_load(sem);

	if (!(c & RWSEM_WRITER))
		return;
	__atomic_store_n(&sem->count, (c & ~RWSEM_WRITER) + RWSEM_READER, __ATOMIC_RELAXED);
	__atomic_store_n(&sem->owner, NULL, __ATOMIC_RELAXED);
	if (me && mmn__det_held_pop(me, sem, 0, -1) != -2)
		mmn__det_held_push(me, sem, SYNC_KIND_RWSEM, true, -1);
	mmn__det_wake(sem->dep.sim, sem);
}

/* ---- lockdep / hook slow paths ---- */

static void rwsem_down_slow_sub(struct mmn_rwsem *sem, bool write, unsigned int subclass)
{
	struct mmn_sim *sim = sem->dep.sim;
	struct mmn_actor *a = sync_ld_actor(sim);

	mmn__sched(sim, a, MMN_SCHED_LOCK, sem, sem->dep.name);
	if (!write)
		mmn__det_rec_read_lock(sim, sem);
	if (a && mmn__ld_acquire(a, &sem->dep, subclass, SYNC_KIND_RWSEM, !write,
				 write ? "down_write" : "down_read") == SYNC_LD_SKIP)
		return;
	/* Backend dispatch point. */
	if (!sync_native(sim)) {
		if (rwsem_det_down(sem, a ? a : sync_actor(sim), write) && a)
			mmn__ld_push(a, &sem->dep, 0, SYNC_KIND_RWSEM, !write, false);
		return;
	}
	if (write) {
		rwsem_write_lock(sem);
		__atomic_store_n(&sem->owner, a ? a : SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	} else {
		rwsem_read_lock(sem);
	}
	if (a)
		mmn__ld_push(a, &sem->dep, 0, SYNC_KIND_RWSEM, !write, false);
}

static void rwsem_down_slow(struct mmn_rwsem *sem, bool write)
{
	rwsem_down_slow_sub(sem, write, 0);
}

static int rwsem_try_slow(struct mmn_rwsem *sem, bool write)
{
	struct mmn_sim *sim = sem->dep.sim;
	struct mmn_actor *a = sync_ld_actor(sim);

	/* Backend dispatch point. */
	mmn__sched(sim, a, MMN_SCHED_LOCK, sem, sem->dep.name);
	if (!write)
		mmn__det_rec_read_lock(sim, sem);
	if (a) {
		int r = mmn__ld_try(a, &sem->dep, SYNC_KIND_RWSEM, !write,
				    write ? "down_write_trylock" : "down_read_trylock");

		if (r == SYNC_LD_TRY_FAIL)
			return 0;
		if (r == SYNC_LD_TRY_PHANTOM)
			return 1;
	}
	if (!sync_native(sim)) {
		if (!rwsem_det_try(sem, a ? a : sync_actor(sim), write))
			return 0;
		if (a)
			mmn__ld_push(a, &sem->dep, 0, SYNC_KIND_RWSEM, !write, false);
		return 1;
	}
	if (write) {
		if (!rwsem_write_trylock(sem))
			return 0;
		__atomic_store_n(&sem->owner, a ? a : SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	} else if (!rwsem_read_trylock(sem)) {
		return 0;
	}
	if (a)
		mmn__ld_push(a, &sem->dep, 0, SYNC_KIND_RWSEM, !write, false);
	return 1;
}

/*
 * Unlock with lockdep: a phantom (skipped recursive) hold releases nothing;
 * an unlock by an actor that holds the rwsem in the other mode is reported
 * and ignored; one by an actor that does not hold it at all is reported and
 * then performed if the word allows it (it is our own object, so unlike a
 * pthread mutex this is well defined).
 */
static void rwsem_up_slow(struct mmn_rwsem *sem, bool write)
{
	struct mmn_sim *sim = sem->dep.sim;
	const char *name = sem->dep.name; /* @sem may be freed once released */
	struct mmn_actor *a = sync_ld_actor(sim);

	/* Backend dispatch point. */
	if (a) {
		int held = mmn__ld_find(a, &sem->dep);
		int r = mmn__ld_release(a, &sem->dep, SYNC_KIND_RWSEM, write ? 0 : 1,
					write ? "up_write" : "up_read");

		if (r == SYNC_LD_PHANTOM || (r == SYNC_LD_NOT_HELD && held >= 0))
			goto out;
	}
	if (!sync_native(sim)) {
		rwsem_det_up(sem, a ? a : sync_actor(sim), write);
		goto out;
	}
	if (write) {
		long c = rwsem_load(sem);

		if (c & RWSEM_WRITER)
			rwsem_write_unlock(sem);
	} else {
		rwsem_read_unlock_checked(sem);
	}
out:
	mmn__sched(sim, a, MMN_SCHED_UNLOCK, sem, name);
}

static void rwsem_downgrade_slow(struct mmn_rwsem *sem)
{
	struct mmn_sim *sim = sem->dep.sim;
	struct mmn_actor *a = sync_ld_actor(sim);

	/* Backend dispatch point. */
	if (a && !mmn__ld_downgrade(a, &sem->dep))
		return;
	if (!sync_native(sim))
		rwsem_det_downgrade(sem, a ? a : sync_actor(sim));
	else if (rwsem_load(sem) & RWSEM_WRITER)
		rwsem_downgrade(sem);
	mmn__sched(sim, a, MMN_SCHED_UNLOCK, sem, sem->dep.name);
}

/* ---- API ---- */

void mmn_rwsem_init(struct mmn_rwsem *sem, struct mmn_sim *sim,
		    const struct mmn_lock_class *cls, const char *name)
{
	if (!sem || !sim)
		return;
	mmn__ld_map_init(&sem->dep, sim, cls, name);
	__atomic_store_n(&sem->count, 0, __ATOMIC_RELAXED);
	sem->waiters = 0;
	sem->writers_waiting = 0;
	sem->readers_waiting = 0;
	sem->read_gen = 0;
	pthread_mutex_init(&sem->wait_lock, NULL);
	pthread_cond_init(&sem->wait, NULL);
	sem->owner = NULL;
}

void mmn_rwsem_destroy(struct mmn_rwsem *sem)
{
	/* Held: a reader or the writer counted, or an actor waiting. */
	if (!sem || mmn__ld_map_destroy(&sem->dep,
					__atomic_load_n(&sem->count, __ATOMIC_RELAXED) != 0 ||
					__atomic_load_n(&sem->owner, __ATOMIC_RELAXED) != NULL,
					"rw_semaphore"))
		return;
	pthread_cond_destroy(&sem->wait);
	pthread_mutex_destroy(&sem->wait_lock);
}

void mmn_down_read(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!sem))
		return;
	if (sync_slow(sem->dep.sim)) {
		rwsem_down_slow(sem, false);
		return;
	}
	rwsem_read_lock(sem);
}

int mmn_down_read_trylock(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!sem))
		return 0;
	if (sync_slow(sem->dep.sim))
		return rwsem_try_slow(sem, false);
	return rwsem_read_trylock(sem);
}

void mmn_up_read(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!sem))
		return;
	if (sync_slow(sem->dep.sim)) {
		rwsem_up_slow(sem, false);
		return;
	}
	rwsem_read_unlock(sem);
}

void mmn_down_write(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!sem))
		return;
	if (sync_slow(sem->dep.sim)) {
		rwsem_down_slow(sem, true);
		return;
	}
	rwsem_write_lock(sem);
	__atomic_store_n(&sem->owner, SYNC_OWNER_ANON, __ATOMIC_RELAXED);
}

/* down_write_nest_lock(): lockdep takes any number of one class while
 * @nest is held (mm_take_all_locks() under mmap_lock). */
void mmn_down_write_nest_lock(struct mmn_rwsem *sem, const struct mmn_rwsem *nest)
{
	if (mmn_unlikely(!sem))
		return;
	(void)nest;
	if (sync_slow(sem->dep.sim)) {
		rwsem_down_slow_sub(sem, true, SYNC_SUBCLASS_NEST);
		return;
	}
	rwsem_write_lock(sem);
	__atomic_store_n(&sem->owner, SYNC_OWNER_ANON, __ATOMIC_RELAXED);
}

int mmn_down_write_trylock(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!sem))
		return 0;
	if (sync_slow(sem->dep.sim))
		return rwsem_try_slow(sem, true);
	if (!rwsem_write_trylock(sem))
		return 0;
	__atomic_store_n(&sem->owner, SYNC_OWNER_ANON, __ATOMIC_RELAXED);
	return 1;
}

void mmn_up_write(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!sem))
		return;
	if (sync_slow(sem->dep.sim)) {
		rwsem_up_slow(sem, true);
		return;
	}
	rwsem_write_unlock(sem);
}

void mmn_downgrade_write(struct mmn_rwsem *sem)
{
	if (mmn_unlikely(!sem))
		return;
	if (sync_slow(sem->dep.sim)) {
		rwsem_downgrade_slow(sem);
		return;
	}
	rwsem_downgrade(sem);
}

bool mmn_rwsem_is_locked(const struct mmn_rwsem *sem)
{
	return sem && (rwsem_load(sem) & (RWSEM_WRITER | RWSEM_READ_MASK));
}

bool mmn_rwsem_is_write_locked(const struct mmn_rwsem *sem)
{
	return sem && (rwsem_load(sem) & RWSEM_WRITER);
}
