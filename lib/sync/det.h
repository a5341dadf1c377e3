/* SPDX-License-Identifier: MIT */
/*
 * Private definitions of the deterministic backend (the det_*.c files of
 * lib/sync): the scheduler's state and the functions its files share.
 *
 *   det_core.c      token passing, scheduling points, virtual blocking
 *   det_strategy.c  random, PCT and replay choice; the choice record
 *   det_trace.c     the text trace of a run
 *   det_span.c      span and event lines (kernel functions, frees, accesses)
 *   det_chrome.c    the text trace as Chrome trace-event JSON
 *   det_deadlock.c  the wait-for cycle text of a deadlock report
 *   det_actor.c     actors of a run: creation, start routine, join
 *   det_unwind.c    what an actor holds, and unwinding it at the end of a run
 *   det_srcu.c      SRCU (two counters per domain) and its callback helper
 *   det_run.c       mmn_sched_run(): one run from the controller's side
 *   det_pool.c      host threads reused from run to run
 *   det_explore.c   exhaustive search and shrinking over choice lists
 *   det_shrink.c    shrinking by preemptions (mmn_sched_shrink_preemptions())
 *   det_context.c   user-level actors: stacks, the switch, sanitizer fibers
 *   det_switch.c    the register switch itself (x86-64, aarch64 assembly)
 *   det_dpor_rec.c  DPOR: what each step of a run touches (only when asked)
 *   det_dpor.c      DPOR: source sets and sleep sets over the recorded steps
 */
#ifndef MMN_LIB_SYNC_DET_H
#define MMN_LIB_SYNC_DET_H

#include <mmnsim/sched.h>

#include "priv.h"

#define DET_MAX_DEPTH MMN_SCHED_PCT_MAX_DEPTH
/*
 * PCT priorities: initial ones are DET_PRIO_BASE + d + a 56-bit draw, the
 * i-th change point's is DET_PRIO_BASE + i (below every initial one), and a
 * yield (mmn_sched_yield()) gives the next value below DET_PRIO_BASE, so
 * each yielder ranks below every actor that has not yielded since. Only the
 * order matters: the base changes no schedule of the strategy without yields.
 */
#define DET_PRIO_BASE (1ULL << 62)
#define DET_DEFAULT_STEPS 100000UL
/*
 * Past the step budget the actors run on in turn (draining, no choices) so
 * that every operation in flight completes and the simulation is left whole;
 * only a run still going after max(budget, DET_DRAIN_MIN) more points (a
 * livelock) is unwound, and then declared void.
 */
#define DET_DRAIN_MIN 10000UL
/*
 * While draining, an actor keeps the CPU for this many points before the
 * next runnable one gets it (round robin in slices): long enough for an
 * operation or a fault to complete in one go, so that a retry loop is not
 * starved by maximal interleaving, short enough that a spinning waiter lets
 * the one it waits for run.
 */
#define DET_DRAIN_SLICE 256U

enum det_back {
	DET_BACK_NONE = 0,
	DET_BACK_END,       /* no runnable actor: outcome says done or deadlock */
	DET_BACK_BUDGET,
	DET_BACK_UNWOUND,   /* an aborted actor has finished unwinding */
};

/* Default stack of a user-level actor, and the limits of the knob. */
#define DET_STACK_DEFAULT (256UL * 1024)
#define DET_STACK_MIN (16UL * 1024)
#define DET_STACK_MAX (1UL << 30)
/* Stacks a simulation keeps from run to run when the run has no pool. */
#define DET_STACK_CACHE 16

/*
 * DPOR's record of a run (det_dpor_rec.c): one entry per step, the code an
 * actor runs from one scheduling decision to the next. Kept only when the
 * run's configuration asks for it (mmn_sched_config::record_access).
 */
enum det_acc_cls {
	DET_C_OBJ = 0, /* a lock, rwsem, SRCU domain, wait key, listener, actor, user object */
	DET_C_PTE,     /* one PTE slot */
	DET_C_WALK,    /* a page-table walk or TLB fill (reads PTEs of some mm) */
	DET_C_FLUSH,   /* a TLB flush of an mm */
	DET_C_FRAME,   /* a frame: obj NULL any frame (a free), else DET_FRAME_ID(pfn) */
	DET_C_SPAWN,   /* a new actor: its spawn and its first step */
	DET_C_WAKE,    /* a wake of a key: against its blocks and lock steps, not other wakes */
};
/* A frame by its pfn: the same frame in every run (the frame array is fixed),
 * so it is not renamed across runs as pointers are (det_dpor.c). */
#define DET_FRAME_ID(pfn) ((const void *)(uintptr_t)((pfn) + 1))
#define DET_STEP_ACC 6

struct det_acc {
	const void *obj;
	unsigned char cls, write;
};

struct det_step {
	int32_t actor;       /* run-local index of the actor that ran it */
	int32_t cur;         /* the actor that could have gone on, -1 if none */
	int32_t choice;      /* its index in the choice list, -1: forced */
	uint64_t mask;       /* runnable actors at the decision */
	unsigned char nacc;
	bool all;            /* dependent with every step */
	bool vague;          /* began at an explicit point or at the start */
	bool declared;       /* mmn_sched_access() was called in it */
	bool blocked;        /* it ended with its actor blocking */
	bool phantom;        /* blocked having done nothing: a failed attempt */
	struct det_acc acc[DET_STEP_ACC];
};

struct det_obj {
	const void *obj;
	unsigned int id;
};

/* The last free of a frame in this run (det_span.c): the cause a later
 * use-after-free names. */
struct det_free {
	unsigned long pfn, step;
	uint32_t gen;
	char actor[32];
};

struct sync_det {
	pthread_mutex_t m;
	pthread_cond_t ctl;          /* the controller waits here */
	bool running;                /* a run is in progress */
	bool reporting;              /* a deadlock report is being delivered */
	bool unwinding;              /* the run is over, its actors are unwound */
	bool draining;               /* past the budget: round robin, no choices */
	unsigned int slice_left;     /* draining: points left to the current actor */
	struct mmn_actor *cur;       /* token holder; NULL: the controller */
	int back;                    /* enum det_back: why the token came back */

	struct mmn_actor **act;      /* the run's actors by index */
	struct mmn_actor **scratch;  /* runnable set, as big as @act */
	unsigned int nact, cap_act;
	/* Actors of @act that are RUNNABLE, kept where a state changes (create,
	 * block, wake, exit) but not while unwinding: mmn__det_pick() trusts
	 * it only outside the unwinding, to skip its scan when the token
	 * holder is the only runnable actor. */
	unsigned int nrunnable;
	unsigned int last_nact;      /* actors of the last run */
	struct mmn_actor *helper;    /* SRCU callback helper of this run */

	struct mmn_sched_config cfg;
	uint32_t *replay;            /* copy of cfg.replay */
	mmn_sched_body_fn body;
	void *body_arg;
	uint64_t rng[4];
	unsigned long pct_change[DET_MAX_DEPTH];
	unsigned int pct_nchange;
	uint64_t yield_prio;         /* PCT: the priority the next yield gets */

	unsigned long steps, preemptions, replay_misses, viol_start;
	unsigned int unwound;
	enum mmn_sched_outcome outcome;
	unsigned long raw_points;    /* atomic */

	/* choice points of the last run */
	uint32_t *choices;
	uint64_t *masks;             /* runnable actors (indices < 64) */
	int32_t *curs;               /* the current actor if runnable, else -1 */
	size_t nchoices, cap_choices;

	/* DPOR record of the last run (det_dpor_rec.c); @rec: keep it */
	bool rec;
	bool rec_cut;                /* the budget ran out: the record stops there */
	struct det_step *rsteps;
	size_t nrsteps, cap_rsteps;

	/* preemptions of the last run (mmn_sched_preemptions()) */
	struct mmn_sched_preemption *pre;
	size_t npre, cap_pre;

	/* trace of the last run */
	char *trace;
	size_t trace_len, trace_cap;

	/* object numbering for the trace (open addressing) */
	struct det_obj *objs;
	size_t objs_cap, nobjs;

	/* frames freed in this run, one entry per frame (det_span.c) */
	struct det_free *frees;
	size_t nfrees, cap_frees;

	/* call_srcu() queue, FIFO through head->priv[0] */
	struct mmn_rcu_head *cbq_head, *cbq_tail;

	/* user-level actors (det_context.c); @contexts: !cfg.threads */
	bool contexts;
	struct sync_ctx ctl_ctx;     /* the controller's context */
	struct sync_ctx *sw_from;    /* the context a switch left (sanitizers) */
	size_t stack_size;           /* usable bytes of this run's stacks */
	struct sync_stack stacks[DET_STACK_CACHE]; /* kept without a pool, all of @stacks_size */
	size_t stacks_size;
	unsigned int nstacks;
};

static inline struct sync_det *det_of(const struct mmn_sim *sim)
{
	return sim->sync->det;
}

/* How the next actor was picked (mmn__det_pick()). */
enum { DET_FORCED = 0, DET_CHOICE, DET_PREEMPT };

/* The trace's mark of a choice point: " !" a preemption, " *" a choice. */
static inline const char *det_mark(int how)
{
	return how == DET_PREEMPT ? " !" : how == DET_CHOICE ? " *" : "";
}

/* det_core.c (everything under d->m unless said otherwise; with user-level
 * actors the run's state needs d->m only around a switch, see det_core.c) */
void mmn__det_wait_token(struct sync_det *d, struct mmn_actor *me);
void mmn__det_give(struct sync_det *d, struct mmn_actor *next, int back);
void mmn__det_reschedule(struct sync_det *d, struct mmn_actor *me, const char *what,
			 const void *obj, const char *name);
void mmn__det_wake_locked(struct sync_det *d, const void *key);

/* det_strategy.c */
struct mmn_actor *mmn__det_pick(struct sync_det *d, struct mmn_actor *me, int *how);
/* Copy the replay list, seed the generator, draw the PCT change points. */
int mmn__det_strategy_reset(struct sync_det *d, const struct mmn_sched_config *cfg);
/* PCT: a new actor's initial priority (one draw of the generator). */
uint64_t mmn__det_initial_prio(struct sync_det *d);
/* PCT: at a change point @a drops below every initial priority. */
void mmn__det_pct_step(struct sync_det *d, struct mmn_actor *a);
/* PCT: @a yields (mmn_sched_yield()): below every other actor. */
void mmn__det_pct_yield(struct sync_det *d, struct mmn_actor *a);

/* Record the preemption just made at a point of @a (@how DET_PREEMPT). */
void mmn__det_note_preemption(struct sync_det *d, const struct mmn_actor *a,
			      const struct mmn_actor *next, enum mmn_sched_kind kind,
			      const char *name, unsigned long addr);

/* det_trace.c */
void mmn__det_trace(struct sync_det *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
unsigned int mmn__det_obj_id(struct sync_det *d, const void *obj);
const char *mmn__det_label(struct sync_det *d, const void *obj, const char *name, char *buf,
			   size_t len);
/* The run's last line: its outcome and counters. */
void mmn__det_trace_outcome(struct sync_det *d);

/* det_span.c */
/* The last free of @pfn in this run, or NULL. */
const struct det_free *mmn__det_free_of(const struct sync_det *d, unsigned long pfn);
/* An event line of the current actor of @sim (no-op when not tracing). */
void mmn__det_event(struct mmn_sim *sim, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* det_deadlock.c */
const char *mmn__det_wait_text(int what);
void mmn__det_report_deadlock(struct sync_det *d, struct mmn_actor *me);

/* det_actor.c */
/* A context's actor, from its first resumption to its end or unwinding
 * (returns; det_context.c then makes the last switch). */
void mmn__det_ctx_body(struct mmn_actor *a);
int mmn__det_create(struct mmn_sim *sim, const char *name, mmn_actor_fn fn, void *arg,
		    bool daemon, struct mmn_actor **out);

/* det_unwind.c */
/* The end of an unwound actor's start routine (without d->m). */
void *mmn__det_unwound(struct mmn_actor *a);
/* The controller unwinds the actors that have not ended, in index order. */
void mmn__det_unwind_all(struct sync_det *d);

/* det_context.c (user-level actors; switches under d->m, which they drop
 * and take again around the switch itself) */
/* Map @a's stack and prepare its context to call mmn__det_ctx_body(@a)
 * when first resumed, then make its last switch. */
int mmn__det_ctx_create(struct sync_det *d, struct mmn_actor *a);
/* Free @a's context (it has ended or unwound: it never runs again). */
void mmn__det_ctx_destroy(struct sync_det *d, struct mmn_actor *a);
/* The controller's context, before the first switch of a run. */
void mmn__det_ctx_begin(struct sync_det *d);
/* Suspend @from and resume the token holder's context (the controller's
 * when d->cur is NULL); returns when @from is resumed. */
void mmn__det_switch(struct sync_det *d, struct sync_ctx *from);
/* Unmap the simulation's kept stacks (mmn__det_fini()). */
void mmn__det_ctx_fini(struct sync_det *d);

/* det_dpor_rec.c (under d->m; every function returns at once unless d->rec) */
/* A scheduling point (@kind, @obj, @name) passed by the token holder @a. */
void mmn__det_rec_point(struct sync_det *d, struct mmn_actor *a, enum mmn_sched_kind kind,
			const void *obj, const char *name);
/* @next runs the next step (the decision just made; NULL: none). */
void mmn__det_rec_open(struct sync_det *d, struct mmn_actor *next);
/* The current step touches @obj (class @cls). */
void mmn__det_rec_touch(struct sync_det *d, const void *obj, int cls, bool write);
/* The current step ends with its actor blocking on @key. */
void mmn__det_rec_block(struct sync_det *d, struct mmn_actor *a, const void *key);
/* A new actor @a (its first step is linked to the spawning one). */
void mmn__det_rec_spawn(struct sync_det *d, struct mmn_actor *a);
/* Reset at the start of a run (@rec from the configuration). */
void mmn__det_rec_reset(struct sync_det *d, bool rec);
/* Whether two accesses conflict; @same: they are to the same object. */
bool mmn__det_acc_conflict(const struct det_acc *e, const struct det_acc *f, bool same);
/* Whether two steps are dependent (the relation DPOR explores by). */
bool mmn__det_dependent(const struct det_step *x, const struct det_step *y);

/* det_srcu.c */
void mmn__det_helper_ensure(struct mmn_sim *sim);

#endif /* MMN_LIB_SYNC_DET_H */
