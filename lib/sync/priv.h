/* SPDX-License-Identifier: MIT */
/*
 * Private definitions of the sync layer: the actor, the per-simulation
 * state, the lockdep bookkeeping and the helpers every primitive's slow path
 * shares. Only the sources of lib/sync and the sync layer's white-box tests
 * include it.
 *
 * Fast-path rule: with lockdep off, no scheduling-point hook and the native
 * backend, a primitive reads one byte of the per-simulation state
 * (sync_slow()) and goes straight to pthreads/liburcu; it never looks up the
 * calling actor. Everything else (hook, lockdep, and the deterministic
 * backend of det_*.c, which keeps the slow flag set) lives behind that one
 * branch, in the *_slow() functions.
 */
#ifndef MMN_LIB_SYNC_PRIV_H
#define MMN_LIB_SYNC_PRIV_H

#include <pthread.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../internal.h"
#include "internal.h" /* lib/sync/internal.h */

/* Held-lock stack depth of one actor (the kernel's MAX_LOCK_DEPTH is 48). */
#define SYNC_MAX_HELD 48
/* Lock classes tracked per simulation; classes beyond it go untracked. */
#define SYNC_MAX_CLASSES 256
#define SYNC_CLASS_WORDS (SYNC_MAX_CLASSES / 64)
#define SYNC_CLASS_HASH 512
/* Largest subclass kept apart (the kernel's MAX_LOCKDEP_SUBCLASSES is 8). */
#define SYNC_MAX_SUBCLASS 7
/* The subclass argument of an acquisition under a nest lock
 * (down_write_nest_lock()): same-class holds are not recursion. */
#define SYNC_SUBCLASS_NEST 0x100u
#define SYNC_ACTOR_NAME 32

/* What kind of object a held-stack entry stands for. */
enum sync_kind {
	SYNC_KIND_SPIN = 0,
	SYNC_KIND_MUTEX,
	SYNC_KIND_RWSEM,
	SYNC_KIND_SRCU,
};

/* One entry of an actor's held-lock stack. */
struct sync_held {
	const struct mmn_lockdep_map *map; /* identity of the lock instance */
	short class_id;                    /* -1: untracked class */
	unsigned char subclass;
	unsigned char kind;                /* enum sync_kind */
	bool read;                         /* rwsem read hold, SRCU read section */
	bool phantom;  /* a recursive acquisition that was skipped: popping it
			* must not release the real lock */
};

/* Deterministic backend (det_*.c): an actor's place in the schedule. */
enum sync_det_state {
	SYNC_DET_NONE = 0,   /* not an actor of a run */
	SYNC_DET_RUNNABLE,
	SYNC_DET_BLOCKED,
	SYNC_DET_ENDED,
};

/* What a blocked actor waits for (deadlock reports). */
enum sync_det_wait {
	SYNC_DET_W_LOCK = 0,     /* spinlock or mutex */
	SYNC_DET_W_READ,         /* rwsem for read */
	SYNC_DET_W_WRITE,        /* rwsem for write */
	SYNC_DET_W_GP,           /* SRCU grace period: readers of one index */
	SYNC_DET_W_GP_BUSY,      /* another grace period of the domain */
	SYNC_DET_W_BARRIER,      /* srcu_barrier: queued callbacks */
	SYNC_DET_W_CB_IDLE,      /* the SRCU helper, waiting for work */
	SYNC_DET_W_COMPLETION,
	SYNC_DET_W_WAITQUEUE,
	SYNC_DET_W_SEQCOUNT,     /* a writer inside a seqcount section */
	SYNC_DET_W_JOIN,         /* another actor's end */
};

/* What the deterministic backend knows an actor holds (unwinding, reports). */
struct sync_det_held {
	const void *obj;
	unsigned char kind;      /* enum sync_kind */
	bool read;
	signed char idx;         /* SRCU index */
};

/*
 * Last (sim, actor) pair the thread used: the common case of actor lookup
 * costs two compares. The serial guards against a new simulation allocated
 * at the address of a destroyed one.
 */
struct sync_tls_cache {
	struct mmn_sim *sim;
	unsigned long serial;
	struct mmn_actor *actor;
};

/*
 * A user-level context of the deterministic backend (det_context.c): an
 * actor's, on a stack of its own, or the controller's, on the host thread's
 * stack. While it is suspended it keeps what the switch takes from the host
 * thread's TLS for it: the actor cache and the actor-local block.
 */
struct sync_ctx {
	void *sp;                     /* saved stack pointer while suspended */
	void *map;                    /* mmap'd stack, guard page first; NULL: host stack */
	size_t map_size;              /* bytes of @map, guard included */
	void *tsan_fiber;             /* ThreadSanitizer's fiber */
	void *asan_fake;              /* AddressSanitizer's fake stack while suspended */
	const void *asan_bottom;      /* the stack's lowest usable address and size */
	size_t asan_size;
	struct sync_tls_cache tls;    /* mmn__tls while suspended */
	struct mmn__local *local;     /* mmn__local_cur while suspended */
};

/* Per-actor state of the deterministic backend, under the scheduler's mutex
 * except where noted. */
struct sync_det_actor {
	int idx;                 /* run-local index; -1: not in a run (set before the
				  * thread starts, then constant) */
	int state;               /* enum sync_det_state */
	bool daemon;             /* the SRCU helper: does not keep a run alive */
	bool abort;              /* unwind at the next resumption */
	int wait_what;           /* enum sync_det_wait, when blocked */
	const void *wait;        /* the wake-up key */
	const void *wait_holder; /* object whose holders it waits for */
	int wait_idx;
	const char *wait_name;
	uint64_t prio;           /* PCT priority */
	bool yielding;           /* passing the point of mmn_sched_yield() (own thread) */
	pthread_cond_t cv;       /* signalled when the token comes to it */
	jmp_buf unwind;          /* its start routine, for unwinding */
	struct mmn_srcu *gp_ss;  /* domain whose grace period it drives (token holder only) */
	int nheld;               /* token holder only */
	struct sync_det_held held[SYNC_MAX_HELD];
	struct sync_worker *worker; /* its pool thread (mmn_sched_config::pool), or NULL */
	unsigned long ticket;       /* the worker's job number for this actor */
	struct sync_ctx ctx;        /* its user-level context (unless cfg.threads) */
	/* DPOR recording (det_dpor_rec.c): what the step it runs next touches,
	 * from the "before" point it stands at (token holder and controller) */
	const void *pend_obj;
	unsigned char pend_cls, pend_write;
	bool pend_vague;            /* an explicit point or its start: unknown */
};

struct mmn_sched_pool;
/* A kept stack of a user-level actor and the ThreadSanitizer fiber that
 * went with it (NULL in other builds): creating a fiber costs more than a
 * context switch by far, so both are reused together. */
struct sync_stack {
	void *map;    /* guard page, then the stack */
	void *fiber;
};
/* Take a stack of @size bytes (guard page excluded) from @pool's cache;
 * false when it has none of that size (det_pool.c). */
bool mmn__pool_stack_get(struct mmn_sched_pool *pool, size_t size, struct sync_stack *out);
/* Keep a stack for a later run; false when the cache is full. */
bool mmn__pool_stack_put(struct mmn_sched_pool *pool, const struct sync_stack *st, size_t size);
/* Unmap a stack of @size usable bytes and destroy its fiber (det_context.c). */
void mmn__stack_free(const struct sync_stack *st, size_t size);
/* A thread of a struct mmn_sched_pool (lib/sync/det_pool.c). */
struct sync_worker;
/* Run det_trampoline(@a) on a thread of @pool (idle, or a new one); 0 or -errno. */
int mmn__pool_start(struct mmn_sched_pool *pool, struct mmn_actor *a, void *(*fn)(void *));
/* Wait until the pool thread running @a has returned from it. */
void mmn__pool_join(struct mmn_actor *a);

/*
 * An actor: one thread's identity within one simulation. Everything but the
 * lifecycle flags is touched only by the actor's own thread; id, name and
 * sim never change after creation, so the hook and reports of other threads
 * may read them.
 */
struct mmn_actor {
	struct mmn_sim *sim;
	struct mmn_actor *next;        /* the simulation's actor list */
	int id;
	char name[SYNC_ACTOR_NAME];
	const char *context;           /* mmn_actor_set_context() */

	/* lockdep (only maintained with cfg.lockdep) */
	int depth;                     /* entries used in held[] */
	int overflow;                  /* acquisitions beyond SYNC_MAX_HELD, untracked */
	int atomic;                    /* spinlocks held: sleeping is a bug */
	int non_block;                 /* mmn_non_block_start() nesting */
	int in_callback;               /* running an SRCU callback (softirq-like) */
	struct sync_held held[SYNC_MAX_HELD];

	bool in_hook;                  /* inside the scheduling-point hook */

	/* lifecycle */
	bool spawned;                  /* created by mmn_actor_spawn() */
	int joined;                    /* atomic: mmn_actor_join() done */
	int exited;                    /* atomic: body returned / thread ended */
	pthread_t thread;
	mmn_actor_fn fn;
	void *arg;
	void *ret;

	struct sync_det_actor det;     /* deterministic backend */
	/* Its actor-local state when it runs as a user-level context (the
	 * host thread's own otherwise). */
	struct mmn__local local;
};

/* Lock-order edge metadata: who first recorded "to taken while from held". */
struct sync_edge {
	uint16_t from, to;
	bool used;
	char actor[SYNC_ACTOR_NAME];
	const char *context;
};

enum sync_ld_matrix {
	SYNC_LD_ORDER,         /* [from][to]: the order graph */
	SYNC_LD_REPORTED,      /* inversions, [min][max] */
	SYNC_LD_RANK_REPORTED, /* [held][taken] */
	SYNC_LD_NR_MATRICES
};
#define SYNC_LD_CHUNK 32
struct sync_ld_row {
	uint64_t m[SYNC_LD_NR_MATRICES][SYNC_CLASS_WORDS];
};

/* Lockdep state of one simulation; everything under @lock unless noted. */
struct sync_lockdep {
	pthread_mutex_t lock;
	int nr_classes;
	const struct mmn_lock_class *classes[SYNC_MAX_CLASSES];
	int16_t class_hash[SYNC_CLASS_HASH];        /* class id + 1, open addressing */
	/* Row a of the three class matrices (enum sync_ld_matrix), in chunks
	 * of SYNC_LD_CHUNK classes allocated with the chunk's first class id
	 * (a simulation registers a few dozen classes: no 24 KiB zeroed per
	 * simulation). ORDER[a] bit b: some actor took class b while holding
	 * class a. Bits are only ever set (atomic OR) and read without @lock. */
	struct sync_ld_row *rows[SYNC_MAX_CLASSES / SYNC_LD_CHUNK];
	struct sync_edge *edges;   /* hash on (from, to), edges_cap a power of two */
	size_t edges_cap, edges_nr;
};

/* Per-simulation state of the sync layer (sim->sync). */
struct mmn_sync_state {
	/* Non-zero when any slow-path feature is on: lockdep, a hook, or a
	 * non-native backend. Read with relaxed atomics on every fast path. */
	unsigned char slow;
	bool lockdep;                  /* cfg.lockdep, fixed for the sim's life */
	unsigned long serial;          /* distinguishes sims reusing an address */
	struct mmn_sim *sim;

	mmn_sched_hook_fn hook;        /* relaxed atomics */
	void *hook_arg;

	pthread_key_t key;             /* thread -> its actor in this sim */
	pthread_mutex_t actors_lock;   /* @actors, @next_actor_id */
	struct mmn_actor *actors;
	int next_actor_id;

	unsigned long srcu_pending;    /* atomic: call_srcu callbacks not yet run */
	/* The initialised SRCU domains of this sim, linked by sim_next: each
	 * one's fast byte follows @slow (srcu.c). @slow changes and the list
	 * under srcu_list_lock. */
	pthread_mutex_t srcu_list_lock;
	struct mmn_srcu *srcus;

	/* Deterministic backend: @hook is its own, the user's hook is here. */
	mmn_sched_hook_fn user_hook;
	void *user_hook_arg;
	struct sync_det *det;

	struct sync_lockdep ld;
};

extern __thread struct sync_tls_cache mmn__tls
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

/* Owner recorded by the fast paths, which do not know the actor. */
extern struct mmn_actor mmn__owner_anon __attribute__((visibility("hidden")));
#define SYNC_OWNER_ANON (&mmn__owner_anon)

struct mmn_actor *mmn__actor_slow(struct mmn_sim *sim);
/* srcu.c: set every listed domain's fast byte from @st->slow; the caller
 * holds @st->srcu_list_lock and has just stored the flag. */
void mmn__srcu_follow_slow(struct mmn_sync_state *st);
/* The calling thread now runs an actor of @sim (mmn_sim_current()). */
void mmn__sync_enter_actor(struct mmn_sim *sim);

/* The calling thread's actor in @sim (adopting the thread), NULL on ENOMEM. */
static inline struct mmn_actor *sync_actor(struct mmn_sim *sim)
{
	if (mmn_likely(mmn__tls.sim == sim && mmn__tls.serial == sim->sync->serial))
		return mmn__tls.actor;
	return mmn__actor_slow(sim);
}

/*
 * The one branch of every fast path. When it is true the primitive goes to
 * its slow path, which is also where a second backend will be dispatched.
 */
static inline bool sync_slow(const struct mmn_sim *sim)
{
	return mmn_unlikely(__atomic_load_n(&sim->sync->slow, __ATOMIC_RELAXED) != 0);
}

/* Whether the simulation runs the native backend (else the deterministic one). */
static inline bool sync_native(const struct mmn_sim *sim)
{
	return sim->cfg.backend == MMN_BACKEND_NATIVE;
}

/* The actor lockdep tracks in a slow path: NULL when lockdep is off. */
static inline struct mmn_actor *sync_ld_actor(struct mmn_sim *sim)
{
	return sim->sync->lockdep ? sync_actor(sim) : NULL;
}

/* sched.c: pass a point from a slow path; @a may be NULL (looked up if needed). */
void mmn__sched(struct mmn_sim *sim, struct mmn_actor *a, enum mmn_sched_kind kind,
		const void *obj, const char *name);

/* lockdep.c */
int mmn__ld_state_init(struct mmn_sync_state *st);
void mmn__ld_state_fini(struct mmn_sync_state *st);
void mmn__ld_map_init(struct mmn_lockdep_map *map, struct mmn_sim *sim,
		      const struct mmn_lock_class *cls, const char *name);

/* mmn__ld_acquire() verdicts */
enum { SYNC_LD_PROCEED = 0, SYNC_LD_SKIP };
int mmn__ld_acquire(struct mmn_actor *a, const struct mmn_lockdep_map *map,
		    unsigned int subclass, enum sync_kind kind, bool read, const char *op);
/* mmn__ld_try() verdicts */
enum { SYNC_LD_TRY = 0, SYNC_LD_TRY_FAIL, SYNC_LD_TRY_PHANTOM };
int mmn__ld_try(struct mmn_actor *a, const struct mmn_lockdep_map *map, enum sync_kind kind,
		bool read, const char *op);
void mmn__ld_push(struct mmn_actor *a, const struct mmn_lockdep_map *map, unsigned int subclass,
		  enum sync_kind kind, bool read, bool phantom);
/* mmn__ld_release() results; @mode: -1 any, 0 write/exclusive, 1 read */
enum { SYNC_LD_RELEASED = 0, SYNC_LD_PHANTOM, SYNC_LD_NOT_HELD };
int mmn__ld_release(struct mmn_actor *a, const struct mmn_lockdep_map *map, enum sync_kind kind,
		    int mode, const char *op);
/* Turn the actor's write hold of @map into a read hold; false (reported) if none. */
bool mmn__ld_downgrade(struct mmn_actor *a, const struct mmn_lockdep_map *map);
int mmn__ld_find(const struct mmn_actor *a, const struct mmn_lockdep_map *map);
bool mmn__ld_check_sleep(struct mmn_actor *a, const char *op);
void mmn__ld_report(struct mmn_sim *sim, struct mmn_actor *a, enum mmn_violation_kind kind,
		    const char *extra, const char *fmt, ...) __attribute__((format(printf, 5, 6)));
char *mmn__ld_held_text(const struct mmn_actor *a, char *buf, size_t len);
const char *mmn__ld_map_name(const struct mmn_lockdep_map *map);
/* class_id of a destroyed lock (-1: a live lock without a class). */
#define MMN__LD_CLASS_DESTROYED (-2)
bool mmn__ld_map_destroy(struct mmn_lockdep_map *map, bool held, const char *what);

/* actor.c: HELD_AT_EXIT check when an actor's thread ends. */
void mmn__actor_exit(struct mmn_actor *a);

/* srcu.c: wait for pending callbacks of @sim before it goes away. */
void mmn__srcu_sim_fini(struct mmn_sim *sim);

/* actor.c helpers the deterministic backend shares */
struct mmn_actor *mmn__actor_new(struct mmn_sim *sim, const char *name, const char *prefix);
struct mmn_actor *mmn__actor_new_spawned(struct mmn_sim *sim, const char *name, mmn_actor_fn fn,
					 void *arg);
void mmn__actor_bind(struct mmn_sim *sim, struct mmn_actor *a);
void mmn__actor_forget(struct mmn_sim *sim, struct mmn_actor *a);

/* ---- det_*.c: the deterministic backend (det.h lists its files) ---- */
struct sync_det;
int mmn__det_init(struct mmn_sync_state *st);
void mmn__det_fini(struct mmn_sync_state *st);
void mmn__det_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg);
/* lib/check's observer: a violation becomes an event line of the trace. */
void mmn__det_observe(struct mmn_sim *sim, const struct mmn_violation *v);
/* Whether @a is an actor of the run in progress (it holds the token). */
bool mmn__det_in_run(struct mmn_sim *sim, const struct mmn_actor *a);
/*
 * Block @a until mmn__det_wake(@key). Returns true when woken (re-check the
 * condition); false outside a run, where nobody could wake it: reported as
 * MMN_VIOL_DEADLOCK, the caller skips the wait.
 */
bool mmn__det_block(struct mmn_sim *sim, struct mmn_actor *a, const void *key, int what,
		    const void *holder, int idx, const char *name);
void mmn__det_wake(struct mmn_sim *sim, const void *key);
/* DPOR (det_dpor_rec.c): the step the calling actor has just begun at the
 * lock point of @sem takes it for reading (readers commute). */
void mmn__det_rec_read_lock(struct mmn_sim *sim, const void *sem);
void mmn__det_held_push(struct mmn_actor *a, const void *obj, enum sync_kind kind, bool read,
			int idx);
/* Drop the latest entry for @obj (@read: -1 any, 0 write, 1 read; @idx: -1
 * any): returns its SRCU index (-1 for a lock), -2 when there is none. */
int mmn__det_held_pop(struct mmn_actor *a, const void *obj, int read, int idx);
int mmn__det_spawn(struct mmn_sim *sim, const char *name, mmn_actor_fn fn, void *arg,
		   struct mmn_actor **out);
int mmn__det_join(struct mmn_actor *actor, void **retval);
/* SRCU of the deterministic backend (two counters per domain). */
int mmn__det_srcu_read_lock(struct mmn_srcu *ss, struct mmn_actor *a);
void mmn__det_srcu_read_unlock(struct mmn_srcu *ss, struct mmn_actor *a, int idx);
void mmn__det_synchronize_srcu(struct mmn_srcu *ss, struct mmn_actor *a);
void mmn__det_call_srcu(struct mmn_srcu *ss, struct mmn_rcu_head *head);
void mmn__det_srcu_barrier(struct mmn_srcu *ss, struct mmn_actor *a);
void mmn__det_srcu_sim_fini(struct mmn_sim *sim);
/* The last run's choice points (explorer): chosen actor, runnable mask,
 * current actor or -1; *nact: the run's actors. Returns their number. */
size_t mmn__det_choice_points(const struct mmn_sim *sim, const uint32_t **chosen,
			      const uint64_t **masks, const int32_t **curs, unsigned int *nact);
/* White-box: scheduling points passed with a raw lock held (no switch made). */
unsigned long mmn__det_raw_points(const struct mmn_sim *sim);

/* White-box counters for the tests (srcu.c). */
unsigned long mmn__srcu_registrations(void);
unsigned long mmn__srcu_unregistrations(void);
bool mmn__srcu_thread_registered(void);

#endif /* MMN_LIB_SYNC_PRIV_H */
