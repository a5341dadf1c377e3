/* SPDX-License-Identifier: MIT */
/**
 * @file sync.h
 * @brief The sync layer: actors, the kernel's locking primitives, SRCU,
 *        scheduling points and lockdep-like checks.
 *
 * Models spinlock_t, struct mutex, struct rw_semaphore (mmap_lock),
 * seqcount_t, SRCU (srcu_struct), struct completion and wait_queue_head_t.
 * Nothing above this layer calls pthreads or liburcu: every thread, lock,
 * read section and wait of mmnsim goes through here.
 *
 * Every primitive belongs to one simulation and passes through the
 * simulation's scheduling-point hook (mmn_sched_set_hook()): the native
 * backend calls it, when one is installed, so that tests can drive an
 * interleaving from hook points; the deterministic backend makes each point
 * a seeded scheduling decision.
 *
 * Lockdep: each lock has a class (struct mmn_lock_class). With
 * mmn_sim_config::lockdep on, every actor keeps a stack of the locks it
 * holds; the sync layer records the order in which classes nest and
 * reports, as struct mmn_violation (check.h), a sleeping operation under a
 * spinlock or in a non-blocking section, a class taken after a class of
 * higher rank (the kernel's mm lock hierarchy, e.g. mmap_lock under the
 * PTL), two classes taken in both orders, recursive acquisition, and
 * unbalanced unlocks. Reports never abort; a recursive acquisition (which
 * would self-deadlock) is reported and skipped instead of hanging.
 *
 * Locking-context words used below, as in the kernel: "may sleep" means the
 * call is a might_sleep() point; "atomic" means no sleeping call may follow
 * until the matching unlock.
 */
#ifndef MMNSIM_SYNC_H
#define MMNSIM_SYNC_H

#include <pthread.h>
#include <stdbool.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_actor;

/* ------------------------------------------------------------------ */
/* Actors                                                              */
/* ------------------------------------------------------------------ */

/**
 * Body of an actor; its return value is handed to mmn_actor_join().
 * @param arg  the argument given to mmn_actor_spawn()
 * @return the value mmn_actor_join() receives
 */
typedef void *(*mmn_actor_fn)(void *arg);

/**
 * mmn_actor_spawn() - start an actor (a simulated CPU thread, a device
 * engine, a vCPU...) running @p fn(@p arg).
 * @param sim   the simulation
 * @param name  short name for reports and traces (copied; NULL: "actorN")
 * @param fn    body
 * @param arg   argument of @p fn
 * @param out   receives the actor handle, to pass to mmn_actor_join()
 * @return 0, -EINVAL for a NULL @p sim, @p fn or @p out, -EAGAIN/-ENOMEM when
 *         the host cannot create the thread, -EPERM under the deterministic
 *         backend outside a run of mmn_sched_run() (sched.h).
 *
 * Under the native backend each actor is a thread. Under the deterministic
 * backend it is a thread too, but it runs only when the scheduler hands it
 * the token; spawning is not a scheduling point (the new actor is runnable
 * and starts at the next choice); without @p name it is called "actorN",
 * N its run-local index. Threads created by
 * research code itself are adopted as actors on their first use of the
 * simulation and need no registration call.
 */
MMN_API int mmn_actor_spawn(struct mmn_sim *sim, const char *name, mmn_actor_fn fn,
			    void *arg, struct mmn_actor **out);

/**
 * mmn_actor_join() - wait for an actor spawned by mmn_actor_spawn() to end.
 * @param actor   the actor
 * @param retval  receives the return value of the actor's body (may be NULL)
 * @return 0, or -EINVAL for NULL or an actor that was not spawned (adopted
 *         threads are joined by whoever created them) or is already joined;
 *         another negative errno if the host's pthread_join() fails (-EDEADLK
 *         for an actor joining itself).
 */
MMN_API int mmn_actor_join(struct mmn_actor *actor, void **retval);

/**
 * mmn_actor_current() - the calling thread's actor in @p sim, adopting the
 * thread (named "threadN") if it has none yet.
 * @return the actor, or NULL only if the host is out of memory (or for a NULL
 *         @p sim).
 */
MMN_API struct mmn_actor *mmn_actor_current(struct mmn_sim *sim);

/**
 * mmn_actor_id() - small integer id, unique within the simulation (0 = first
 * actor); -1 for NULL.
 */
MMN_API int mmn_actor_id(const struct mmn_actor *actor);

/** mmn_actor_name() - the actor's name; "?" for NULL. */
MMN_API const char *mmn_actor_name(const struct mmn_actor *actor);

/**
 * mmn_actor_set_context() - name what the calling actor is doing now
 * ("munmap", "invalidate_range_start(kvm)"); shown in violation reports.
 * @param sim  the simulation
 * @param ctx  a string that outlives its use (a literal), or NULL
 * @return the previous context, to restore afterwards (NULL if there was
 *         none, and for a NULL @p sim).
 */
MMN_API const char *mmn_actor_set_context(struct mmn_sim *sim, const char *ctx);

/**
 * mmn_sim_current() - the calling actor's simulation, for code that names
 * none (the kernel-compatibility headers, docs/compat.md): the simulation of
 * the actor running on this thread (spawned with mmn_actor_spawn(), or a
 * deterministic run's actor), else the one this thread last set with
 * mmn_sim_set_current(). Thread-local; no process-wide state.
 * @return the simulation, or NULL when the thread has none (or it was
 *         destroyed by this thread).
 */
MMN_API struct mmn_sim *mmn_sim_current(void);

/**
 * mmn_sim_set_current() - make @p sim the calling thread's simulation for
 * mmn_sim_current() when it runs no actor (a test's main thread, a
 * scenario's setup hook). mmn_sim_destroy() clears it on the destroying
 * thread; another thread that set it must clear it (NULL) before the
 * simulation goes.
 * @return the previous value.
 */
MMN_API struct mmn_sim *mmn_sim_set_current(struct mmn_sim *sim);

/**
 * mmn_sim_serial() - a number no other simulation of this process had or
 * will have (so a simulation created at a freed one's address is told
 * apart); 0 for NULL.
 */
MMN_API unsigned long mmn_sim_serial(const struct mmn_sim *sim);

/* ------------------------------------------------------------------ */
/* Scheduling points                                                   */
/* ------------------------------------------------------------------ */

/** Where an actor stands when it passes a scheduling point. */
enum mmn_sched_kind {
	MMN_SCHED_LOCK = 0,         /**< about to acquire a lock (any kind) */
	MMN_SCHED_UNLOCK,           /**< has just released a lock */
	MMN_SCHED_SRCU_READ_LOCK,   /**< about to enter an SRCU read section */
	MMN_SCHED_SRCU_READ_UNLOCK, /**< has just left an SRCU read section */
	MMN_SCHED_SRCU_SYNC,        /**< about to wait for an SRCU grace period */
	MMN_SCHED_WAIT,             /**< about to wait (completion, wait queue) */
	MMN_SCHED_WAKE,             /**< has just woken waiters */
	MMN_SCHED_PTE_READ,         /**< about to read a page-table entry */
	MMN_SCHED_PTE_WRITE,        /**< has just written a page-table entry */
	MMN_SCHED_TLB_FILL,         /**< about to fill a TLB entry */
	MMN_SCHED_TLB_FLUSH,        /**< about to flush TLB entries */
	MMN_SCHED_CALLBACK_ENTER,   /**< about to call a notifier callback */
	MMN_SCHED_CALLBACK_EXIT,    /**< a notifier callback has returned */
	MMN_SCHED_EXPLICIT,         /**< mmn_sched_point() called by user code */
	MMN_SCHED_NR_KINDS          /**< number of kinds (not a kind) */
};

/** A scheduling point as the hook sees it. */
struct mmn_sched_event {
	enum mmn_sched_kind kind;  /**< where the actor stands */
	struct mmn_actor *actor;   /**< who passes it */
	const void *obj;           /**< the lock, domain, table... (identity only) */
	const char *name;          /**< the object's name, or NULL */
	unsigned long addr;        /**< virtual address concerned, or 0 */
};

/**
 * Scheduling-point hook. Called in the passing actor's context, never with a
 * simulator-internal lock held; it may use the simulation (take locks, run
 * accesses). Points passed from inside the hook do not call it again.
 * Under the deterministic backend the hook is called at every point before
 * the scheduler's decision, and points passed inside it make no decision.
 * @param sim  the simulation
 * @param ev   the point being passed; valid only during the call
 * @param arg  the argument given to mmn_sched_set_hook()
 */
typedef void (*mmn_sched_hook_fn)(struct mmn_sim *sim, const struct mmn_sched_event *ev,
				  void *arg);

/**
 * mmn_sched_set_hook() - install (or, with NULL, remove) the hook of @p sim.
 * @param sim  the simulation (NULL: no-op)
 * @param fn   the hook, or NULL
 * @param arg  passed to @p fn at every point
 *
 * Install it before actors run: the change is not synchronised with points
 * being passed concurrently.
 */
MMN_API void mmn_sched_set_hook(struct mmn_sim *sim, mmn_sched_hook_fn fn, void *arg);

/** mmn_sched_kind_name() - "lock", "pte_read"... or "unknown". */
MMN_API const char *mmn_sched_kind_name(enum mmn_sched_kind kind);

/**
 * mmn_sched_point() - pass a scheduling point (for the modelled code and for
 * research code that wants a decision point of its own). Under the native
 * backend it does nothing unless a hook is installed; under the
 * deterministic backend it is a choice of the scheduler (sched.h).
 * @param sim   the simulation (NULL: no-op)
 * @param kind  what kind of point (MMN_SCHED_EXPLICIT for user code)
 * @param obj   identity of the object concerned, or NULL
 * @param name  its name, or NULL
 * @param addr  address concerned, or 0
 */
MMN_API void mmn_sched_point(struct mmn_sim *sim, enum mmn_sched_kind kind, const void *obj,
			     const char *name, unsigned long addr);

/* ------------------------------------------------------------------ */
/* Lock classes and lockdep                                            */
/* ------------------------------------------------------------------ */

/**
 * A lock class, as lockdep's lock_class_key: every lock of one class shares
 * ordering rules. Define classes as static objects.
 *
 * @c rank places the class in a fixed hierarchy: a class of non-zero rank may
 * not be acquired while the actor holds a class of higher rank. Rank 0 means
 * "unranked": only the recorded order of acquisitions constrains it.
 *
 * The sync layer never writes to a class (it may be const); what it learns
 * about one lives in the simulation. A lock initialised with a NULL class is
 * checked for recursion, bad unlocks and sleeping, but takes no part in
 * order checks.
 */
struct mmn_lock_class {
	const char *name;   /**< shown in reports; the default name of its locks */
	unsigned int rank;  /**< MMN_RANK_* or another rank; 0: unranked */
};

/** Ranks of the kernel mm lock hierarchy (mm/rmap.c's locking order). */
enum {
	MMN_RANK_MMAP_LOCK = 10,       /**< mm->mmap_lock */
	MMN_RANK_FOLIO_LOCK = 20,      /**< folio lock */
	MMN_RANK_I_MMAP = 30,          /**< mapping->i_mmap_rwsem */
	MMN_RANK_ANON_VMA = 40,        /**< anon_vma->rwsem */
	MMN_RANK_PAGE_TABLE_LOCK = 50, /**< mm->page_table_lock, PMD lock */
	MMN_RANK_PTL = 60,             /**< split PTE lock */
	MMN_RANK_NOTIFIER = 70,        /**< mmu_notifier_subscriptions->lock */
};

/** Lockdep state embedded first in every lock; private to the sync layer. */
struct mmn_lockdep_map {
	/** @cond MMN_PRIVATE */
	struct mmn_sim *sim;
	const struct mmn_lock_class *cls;
	const char *name;
	int class_id;
	/** @endcond */
};

/**
 * mmn_might_sleep() - kernel might_sleep(): report MMN_VIOL_SLEEP_IN_ATOMIC
 * if the calling actor holds a spinlock or is inside a non-blocking section.
 */
MMN_API void mmn_might_sleep(struct mmn_sim *sim);

/**
 * mmn_non_block_start() / mmn_non_block_end() - kernel non_block_start():
 * the code between them must not sleep (the notifier core brackets
 * callbacks of non-blockable ranges with them). They nest.
 */
MMN_API void mmn_non_block_start(struct mmn_sim *sim);
/** See mmn_non_block_start(). */
MMN_API void mmn_non_block_end(struct mmn_sim *sim);

/**
 * mmn_lockdep_is_held() - whether the calling actor holds @p lock (any lock
 * type of this header, read or write), as lockdep_is_held().
 * @return 1 held, 0 not held, -EOPNOTSUPP when lockdep is off.
 */
MMN_API int mmn_lockdep_is_held(const void *lock);

/**
 * mmn_lockdep_assert_held() - lockdep_assert_held() (2.6.27+): report
 * MMN_VIOL_PROTOCOL, naming @p what and the caller's held locks, when the
 * calling actor does not hold @p lock (any lock type of this header, any
 * mode). The check for a listener's or research code's "caller holds"
 * contract. Silent when lockdep is off or outside an actor; never a
 * scheduling point, never sleeps.
 * @param lock  the lock (NULL: nothing checked)
 * @param what  its name in the report
 */
MMN_API void mmn_lockdep_assert_held(const void *lock, const char *what);

/**
 * mmn_lockdep_depth() - number of locks (and SRCU read sections) the calling
 * actor holds in @p sim; 0 when lockdep is off.
 */
MMN_API int mmn_lockdep_depth(struct mmn_sim *sim);

/* ------------------------------------------------------------------ */
/* spinlock_t                                                          */
/* ------------------------------------------------------------------ */

/** spinlock_t. Fields are private. */
struct mmn_spinlock {
	/** @cond MMN_PRIVATE */
	struct mmn_lockdep_map dep;
	pthread_mutex_t native;
	struct mmn_actor *owner;
	/** @endcond */
};

/**
 * mmn_spin_lock_init() - initialise @p lock in @p sim with class @p cls.
 * @param lock  the lock (NULL: no-op)
 * @param sim   the simulation it belongs to (NULL: no-op)
 * @param cls   its class, or NULL (then it takes no part in order checks)
 * @param name  instance name for reports (NULL: the class name); not copied,
 *              so it must outlive the lock
 */
MMN_API void mmn_spin_lock_init(struct mmn_spinlock *lock, struct mmn_sim *sim,
				const struct mmn_lock_class *cls, const char *name);
/**
 * mmn_spin_lock_destroy() - release host resources; the lock must be free.
 * Destroying it while held, or twice without a re-init, is reported as
 * MMN_VIOL_PROTOCOL and the lock is left as it is (the host destroy would
 * be undefined behaviour). Not caught: destroying a lock whose memory was
 * freed (not the library's to read), and locking a destroyed lock (the fast
 * path would pay a load for it). NULL: no-op. The same holds for
 * mmn_mutex_destroy() and mmn_rwsem_destroy() (held: a reader, the writer
 * or a waiter).
 */
MMN_API void mmn_spin_lock_destroy(struct mmn_spinlock *lock);
/** spin_lock(): acquire; the actor is atomic until the unlock. */
MMN_API void mmn_spin_lock(struct mmn_spinlock *lock);
/**
 * spin_lock_nested(): acquire a second lock of a class already held
 * (mremap's or fork's two PTLs), @p subclass >= 1 telling lockdep it is
 * intended.
 */
MMN_API void mmn_spin_lock_nested(struct mmn_spinlock *lock, unsigned int subclass);
/** spin_trylock(): 1 if acquired, 0 if busy. */
MMN_API int mmn_spin_trylock(struct mmn_spinlock *lock);
/** spin_unlock(). */
MMN_API void mmn_spin_unlock(struct mmn_spinlock *lock);
/** spin_is_locked(): whether anyone holds @p lock now. */
MMN_API bool mmn_spin_is_locked(const struct mmn_spinlock *lock);

/* ------------------------------------------------------------------ */
/* struct mutex                                                        */
/* ------------------------------------------------------------------ */

/** struct mutex. Fields are private. */
struct mmn_mutex {
	/** @cond MMN_PRIVATE */
	struct mmn_lockdep_map dep;
	pthread_mutex_t native;
	struct mmn_actor *owner;
	/** @endcond */
};

/**
 * mmn_mutex_init() - initialise @p lock in @p sim with class @p cls and
 * instance name @p name, as mmn_spin_lock_init().
 */
MMN_API void mmn_mutex_init(struct mmn_mutex *lock, struct mmn_sim *sim,
			    const struct mmn_lock_class *cls, const char *name);
/** mmn_mutex_destroy() - release host resources; the mutex must be free
 *  (checked as mmn_spin_lock_destroy()). */
MMN_API void mmn_mutex_destroy(struct mmn_mutex *lock);
/** mutex_lock(): may sleep. */
MMN_API void mmn_mutex_lock(struct mmn_mutex *lock);
/** mutex_lock_nested(): see mmn_spin_lock_nested(); may sleep. */
MMN_API void mmn_mutex_lock_nested(struct mmn_mutex *lock, unsigned int subclass);
/** mutex_trylock(): 1 if acquired, 0 if busy; does not sleep. */
MMN_API int mmn_mutex_trylock(struct mmn_mutex *lock);
/** mutex_unlock(). */
MMN_API void mmn_mutex_unlock(struct mmn_mutex *lock);
/** mutex_is_locked(). */
MMN_API bool mmn_mutex_is_locked(const struct mmn_mutex *lock);

/* ------------------------------------------------------------------ */
/* struct rw_semaphore                                                 */
/* ------------------------------------------------------------------ */

/** struct rw_semaphore (mmap_lock). Fields are private. */
struct mmn_rwsem {
	/** @cond MMN_PRIVATE */
	struct mmn_lockdep_map dep;
	long count;             /* readers << 2 | waiters bit | writer bit; atomic builtins */
	int waiters;            /* blocked actors, under wait_lock */
	int writers_waiting;    /* blocked writers, under wait_lock */
	int readers_waiting;    /* blocked readers not yet granted, under wait_lock */
	unsigned int read_gen;  /* bumped when waiting readers are granted, under wait_lock */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait;
	struct mmn_actor *owner; /* the writer, or NULL */
	/** @endcond */
};

/**
 * mmn_rwsem_init() - initialise @p sem in @p sim with class @p cls and
 * instance name @p name, as mmn_spin_lock_init().
 */
MMN_API void mmn_rwsem_init(struct mmn_rwsem *sem, struct mmn_sim *sim,
			    const struct mmn_lock_class *cls, const char *name);
/** mmn_rwsem_destroy() - release host resources; @p sem must be free
 *  (checked as mmn_spin_lock_destroy()). */
MMN_API void mmn_rwsem_destroy(struct mmn_rwsem *sem);
/** down_read(): may sleep. New readers wait while a writer waits (no writer starvation). */
MMN_API void mmn_down_read(struct mmn_rwsem *sem);
/** down_read_trylock(): 1 if acquired, 0 otherwise; does not sleep. */
MMN_API int mmn_down_read_trylock(struct mmn_rwsem *sem);
/** up_read(). */
MMN_API void mmn_up_read(struct mmn_rwsem *sem);
/** down_write(): may sleep. */
MMN_API void mmn_down_write(struct mmn_rwsem *sem);
/**
 * down_write_nest_lock(): down_write() of one of many locks of a class that
 * the caller takes together while holding @p nest (mm_take_all_locks()
 * takes every anon_vma and i_mmap_rwsem of an mm under mmap_lock): lockdep
 * does not call a second hold of the class recursive. May sleep.
 */
MMN_API void mmn_down_write_nest_lock(struct mmn_rwsem *sem, const struct mmn_rwsem *nest);
/** down_write_trylock(): 1 if acquired, 0 otherwise; does not sleep. */
MMN_API int mmn_down_write_trylock(struct mmn_rwsem *sem);
/** up_write(). */
MMN_API void mmn_up_write(struct mmn_rwsem *sem);
/**
 * downgrade_write(): turn the caller's write hold into a read hold
 * atomically (no writer can get in between); waiting readers are admitted.
 */
MMN_API void mmn_downgrade_write(struct mmn_rwsem *sem);
/** rwsem_is_locked(): held for read or write by anyone. */
MMN_API bool mmn_rwsem_is_locked(const struct mmn_rwsem *sem);
/** Whether @p sem is held for write by anyone. */
MMN_API bool mmn_rwsem_is_write_locked(const struct mmn_rwsem *sem);

/* ------------------------------------------------------------------ */
/* seqcount_t                                                          */
/* ------------------------------------------------------------------ */

/**
 * seqcount_t: writers (serialised by a lock of their own) make the count
 * odd while they write; readers retry if the count moved.
 *
 * The data a seqcount protects is read while writers may change it, so it
 * must itself be accessed with C11 atomics (relaxed is enough): a plain
 * racing access is undefined behaviour in C11 and a report under TSan.
 * Fields are private.
 */
struct mmn_seqcount {
	/** @cond MMN_PRIVATE */
	struct mmn_sim *sim;
	unsigned int sequence;  /* atomic builtins */
	/** @endcond */
};

/** mmn_seqcount_init() - initialise @p s in @p sim (sequence 0). */
MMN_API void mmn_seqcount_init(struct mmn_seqcount *s, struct mmn_sim *sim);
/** read_seqcount_begin(): waits while a writer is active; returns the even sequence. */
MMN_API unsigned int mmn_read_seqcount_begin(const struct mmn_seqcount *s);
/** read_seqcount_retry(): true if a writer ran since @p start. */
MMN_API bool mmn_read_seqcount_retry(const struct mmn_seqcount *s, unsigned int start);
/** raw_read_seqcount(): the sequence now, odd or even, without waiting. */
MMN_API unsigned int mmn_raw_read_seqcount(const struct mmn_seqcount *s);
/**
 * write_seqcount_begin(): the count becomes odd. A begin while a write
 * section is already open (count odd: a nested or unserialised writer) is
 * reported as MMN_VIOL_PROTOCOL (when @p s has a simulation) and leaves the
 * count as it is. NULL: no-op.
 */
MMN_API void mmn_write_seqcount_begin(struct mmn_seqcount *s);
/**
 * write_seqcount_end(): the count becomes even again. An end with no open
 * write section (count even) is reported as MMN_VIOL_PROTOCOL (when @p s has
 * a simulation) and leaves the count even, so no reader waits for a writer
 * that does not exist. NULL: no-op.
 */
MMN_API void mmn_write_seqcount_end(struct mmn_seqcount *s);

/* ------------------------------------------------------------------ */
/* SRCU                                                                */
/* ------------------------------------------------------------------ */

/**
 * srcu_struct: a sleepable-RCU domain. Under the native backend it is built
 * on liburcu (urcu-memb); readers may block inside a read section.
 *
 * As liburcu has one grace-period domain per process, a grace period of any
 * mmn_srcu waits for the readers of every domain; that over-approximates
 * SRCU and is safe, but a reader of one domain must not wait for a grace
 * period of another. Fields are private.
 */
struct mmn_srcu {
	/** @cond MMN_PRIVATE */
	struct mmn_lockdep_map dep;
	/* deterministic backend: a two-counter SRCU of its own */
	unsigned long det_ctr[2];       /* open read sections per index */
	unsigned int det_idx;           /* index new readers take */
	bool det_gp;                    /* a grace period is in progress */
	unsigned long det_cb_queued;    /* call_srcu() calls so far */
	unsigned long det_cb_done;      /* callbacks run so far */
	/* the simulation's slow-path flag (the notifier dispatch reads it);
	 * set by mmn_srcu_init(), NULL before it and after mmn_srcu_destroy() */
	const unsigned char *slow;
	/* 1 while the struct is initialised, not destroyed, and the flag is
	 * clear: the read side's one test (the library's and the inline one of
	 * mmnsim/inline.h). The simulation keeps it equal to that (its list of
	 * domains, sim_next), so a zeroed or destroyed struct reads 0. */
	unsigned char fast;
	struct mmn_srcu *sim_next;
	/** @endcond */
};

/**
 * SRCU callback head, embedded in the object freed by mmn_call_srcu() (as
 * struct rcu_head). Fields are private.
 */
struct mmn_rcu_head {
	/** @cond MMN_PRIVATE */
	void *priv[2];
	void (*func)(struct mmn_rcu_head *head);
	struct mmn_srcu *ss;
	/** @endcond */
};

/**
 * init_srcu_struct(): @p name (NULL: "srcu") names the domain in reports.
 * The simulation keeps a list of its domains (so that the read side tests
 * one byte of the domain, not the simulation's flag behind a pointer):
 * call mmn_srcu_destroy() before the struct's memory is freed or reused,
 * and before initialising it again for another simulation (as a kernel
 * srcu_struct needs cleanup_srcu_struct(), which frees its per-CPU state).
 * Initialising it again for the same simulation is accepted.
 * NULL @p ss or @p sim: no-op.
 */
MMN_API void mmn_srcu_init(struct mmn_srcu *ss, struct mmn_sim *sim, const char *name);
/**
 * cleanup_srcu_struct(): waits for pending callbacks (srcu_barrier) first.
 * Readers still inside @p ss are reported as MMN_VIOL_PROTOCOL under the
 * deterministic backend, as the kernel WARNs; the native backend shares
 * liburcu's process-wide readers and cannot tell this domain's, so it does
 * not check. A destroy from inside a read section of @p ss is the barrier's
 * MMN_VIOL_SRCU_SELF_DEADLOCK. Destroying twice is accepted (the second
 * barrier finds nothing to wait for). After it a read lock of @p ss is
 * refused (-EINVAL) and its unlock is a no-op, while the unlock of a section
 * entered before still leaves it. NULL or a zeroed (never initialised)
 * struct: no-op.
 */
MMN_API void mmn_srcu_destroy(struct mmn_srcu *ss);
/**
 * srcu_read_lock(): enter a read section; returns the index to hand to
 * mmn_srcu_read_unlock(): 0 or 1 (the deterministic backend's two
 * counters), or -EINVAL for a NULL @p ss, a zeroed (never initialised) one
 * or a destroyed one, whose unlock is then a no-op. (The inline read side of
 * mmnsim/inline.h returns an index of its own, 2, which this function's
 * unlock accepts too.) Read sections nest. The calling thread is
 * registered with liburcu on its first read section and unregistered when
 * it exits.
 */
MMN_API int mmn_srcu_read_lock(struct mmn_srcu *ss);
/** srcu_read_unlock(): leave the read section entered with index @p idx. */
MMN_API void mmn_srcu_read_unlock(struct mmn_srcu *ss, int idx);
/**
 * synchronize_srcu(): wait until every read section that began before the
 * call has ended. May sleep. Called inside a read section of @p ss it would
 * never return: reported as MMN_VIOL_SRCU_SELF_DEADLOCK and skipped. NULL
 * or a zeroed (never initialised) @p ss: no-op.
 */
MMN_API void mmn_synchronize_srcu(struct mmn_srcu *ss);
/**
 * call_srcu(): run @p func(@p head) after a grace period, from a helper thread.
 * @p func must not sleep. A head that is still queued on @p ss (its callback
 * has not started) is not queued again: reported as MMN_VIOL_PROTOCOL, as the
 * kernel's CONFIG_DEBUG_OBJECTS_RCU_HEAD reports a double call_rcu(). The
 * head's own fields tell (set here, cleared when the callback starts), so
 * a head must be zero-initialised or have completed before its first use
 * (as every head embedded in calloc'ed or previously freed-by-callback memory
 * is). NULL @p ss, @p head or @p func, or a zeroed @p ss: no-op.
 */
MMN_API void mmn_call_srcu(struct mmn_srcu *ss, struct mmn_rcu_head *head,
			   void (*func)(struct mmn_rcu_head *head));
/**
 * srcu_barrier(): wait until every callback queued before the call has run.
 * May sleep. NULL or a zeroed (never initialised) @p ss: no-op.
 */
MMN_API void mmn_srcu_barrier(struct mmn_srcu *ss);
/** Whether the calling actor is inside a read section of @p ss (lockdep on), else -EOPNOTSUPP. */
MMN_API int mmn_srcu_read_lock_held(const struct mmn_srcu *ss);

/* ------------------------------------------------------------------ */
/* Wait queues and completions                                         */
/* ------------------------------------------------------------------ */

/** wait_queue_head_t. Fields are private. */
struct mmn_waitqueue {
	/** @cond MMN_PRIVATE */
	struct mmn_sim *sim;
	const char *name;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	unsigned int wake_seq;  /* wake-ups so far, under lock */
	/** @endcond */
};

/** init_waitqueue_head(): @p name (NULL: "waitqueue") names it in reports. */
MMN_API void mmn_waitqueue_init(struct mmn_waitqueue *wq, struct mmn_sim *sim, const char *name);
/** mmn_waitqueue_destroy() - release host resources; nobody may wait. */
MMN_API void mmn_waitqueue_destroy(struct mmn_waitqueue *wq);
/**
 * wait_event(): sleep until @p cond(@p arg) is true. May sleep. @p cond is
 * evaluated by the waiter; it may take locks that are not held across the
 * wake-up of @p wq. A waker must make the condition true before calling
 * mmn_wake_up_all().
 */
MMN_API void mmn_wait_event(struct mmn_waitqueue *wq, bool (*cond)(void *arg), void *arg);
/** wake_up_all(): wake every waiter so it re-evaluates its condition. */
MMN_API void mmn_wake_up_all(struct mmn_waitqueue *wq);

/** struct completion. Fields are private. */
struct mmn_completion {
	/** @cond MMN_PRIVATE */
	struct mmn_waitqueue wq;
	unsigned int done;  /* under wq.lock; UINT_MAX after complete_all */
	/** @endcond */
};

/** init_completion(). */
MMN_API void mmn_init_completion(struct mmn_completion *c, struct mmn_sim *sim,
				 const char *name);
/** mmn_completion_destroy() - release host resources; nobody may wait. */
MMN_API void mmn_completion_destroy(struct mmn_completion *c);
/** reinit_completion(): back to "not done". */
MMN_API void mmn_reinit_completion(struct mmn_completion *c);
/** wait_for_completion(): may sleep; consumes one complete(). */
MMN_API void mmn_wait_for_completion(struct mmn_completion *c);
/** try_wait_for_completion(): true if one complete() was consumed, without sleeping. */
MMN_API bool mmn_try_wait_for_completion(struct mmn_completion *c);
/** complete(): release one waiter (or the next one to wait). */
MMN_API void mmn_complete(struct mmn_completion *c);
/** complete_all(): release every waiter, now and later, until reinit. */
MMN_API void mmn_complete_all(struct mmn_completion *c);
/** completion_done(): true if a wait would not sleep. */
MMN_API bool mmn_completion_done(struct mmn_completion *c);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_SYNC_H */
