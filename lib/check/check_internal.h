/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of lib/check, the bottom layer of the library: the
 * violation records and the simulator's raw locks. It includes public
 * headers only and calls nothing above it; the sync layer plugs in through
 * two callbacks, one that names the reporting actor and one that hears every
 * violation (the deterministic backend's trace).
 */
#ifndef MMN_LIB_CHECK_CHECK_INTERNAL_H
#define MMN_LIB_CHECK_CHECK_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>

#include <mmnsim/check.h>

struct mmn_sim;

/*
 * Raw locks: simulator bookkeeping (frame free lists, actor lists, TLB fill
 * serialisation), not modelled kernel locks. No lockdep, no scheduling
 * points, and never held across a scheduling point or a sleeping call, so
 * that under the deterministic backend they are never contended.
 */
struct mmn_raw_lock {
	pthread_mutex_t m;
};
void mmn_raw_lock_init(struct mmn_raw_lock *l);
void mmn_raw_lock_destroy(struct mmn_raw_lock *l);
void mmn_raw_lock(struct mmn_raw_lock *l);
void mmn_raw_unlock(struct mmn_raw_lock *l);

/*
 * State that belongs to the running actor, not to the host thread. Under the
 * native backend (and the deterministic backend's thread mechanism) an actor
 * is a host thread and uses the thread's own block (mmn__local_own); under
 * the deterministic backend's user-level actors several actors share one
 * host thread, each carries a block of its own, and the switch points
 * mmn__local_cur at the block of the actor it resumes (lib/sync/det_context.c).
 * Declared here, in the bottom layer, because the actor that carries it is in
 * lib/sync; each member belongs to the layer named beside it.
 */
#define MMN__PAIR_MAX 8
#define MMN__OWED_MAX 64

/* lib/notifier/mmu_notifier.c: the actor's outstanding invalidate_range_start()s. */
struct mmn__mn_pairing {
	int depth;
	int overflow; /* nested deeper than MMN__PAIR_MAX: counted, not checked */
	struct {
		const struct mmn_mm *mm;
		unsigned long start, end;
	} e[MMN__PAIR_MAX];
};

/* lib/notifier/notify.c: frames whose deferred secondary flush the actor owes. */
struct mmn__owed {
	struct mmn_sim *sim;
	unsigned long pfn;
};

struct mmn__local {
	int raw_depth;                    /* lib/check: raw locks held */
	unsigned int nr_owed;             /* lib/notifier/notify.c: entries of @owed */
	void *owner;                      /* lib/sync: the actor; NULL: the host thread */
	struct mmn__mn_pairing mn_pairs;  /* lib/notifier/mmu_notifier.c */
	struct mmn__owed owed[MMN__OWED_MAX];
};

/* The host thread's own block (general-dynamic TLS: it is large). */
extern __thread struct mmn__local mmn__local_own __attribute__((visibility("hidden")));
/* The running actor's block; NULL until the thread first asks (then its own). */
extern __thread struct mmn__local *mmn__local_cur
	__attribute__((tls_model("initial-exec"), visibility("hidden")));

struct mmn__local *mmn__local_init(void);

/* The running actor's block: one initial-exec TLS load in the common case. */
static inline struct mmn__local *mmn__local(void)
{
	struct mmn__local *l = mmn__local_cur;

	return __builtin_expect(l != NULL, 1) ? l : mmn__local_init();
}

/*
 * What tells a listener about an invalidation (lib/check/inflight.c): the
 * kinds of callback the notifier core reports with mmn__check_told().
 */
enum {
	MMN__TOLD_START = 1u << 0, /* invalidate_range_start / interval invalidate returned */
	MMN__TOLD_TLB = 1u << 1,   /* arch_invalidate_secondary_tlbs / invalidate_range ran */
	MMN__TOLD_PAGE = 1u << 2,  /* invalidate_page ran (<= 4.12) */
};

#define MMN__TOLD_RING 32  /* told events kept per listener */
#define MMN__INVAL_MAX 64  /* invalidations in flight tracked per simulation */

/* One told event: the listener heard about [start, end) of @mm at @seq. */
struct mmn__told {
	const void *mm;
	unsigned long start, end;
	unsigned long seq;
};

/* A listener registered for the stale-translation audit. */
struct mmn_secondary_reg {
	const char *name;
	mmn_secondary_iter_fn iter;             /* 4 KiB form, or NULL */
	mmn_secondary_iter_block_fn iter_block; /* block form, or NULL */
	void *ctx;
	unsigned int told_mask;                 /* MMN__TOLD_* that tell it */
	const void **subs;                      /* linked subscriptions */
	unsigned int nr_subs, cap_subs;
	struct mmn__told told[MMN__TOLD_RING];  /* the last told events, a ring */
	unsigned long nr_told;                  /* told events ever (ring head) */
	struct mmn_secondary_reg *next;
};

#define MMN__INVAL_COVERED 4 /* listeners an ended invalidation waits for */

/*
 * An invalidation in flight: between its start and its end, and after its
 * end while a listener told at the TLB flush has not had its flush yet (the
 * CPU flush of 6.x's mmu_gather comes after range_end: tlb_finish_mmu()).
 */
struct mmn__inval {
	const void *mm;
	unsigned long start, end;
	const char *event;   /* the event's name (static string) */
	const void *owner;   /* the actor's block (struct mmn__local) */
	unsigned long seq;   /* when it opened */
	bool used;
	bool keeps_frames;   /* a protection change: no frame changes under it */
	bool exclusive;      /* make_device_exclusive(): the entry comes back */
	bool ended;          /* its end ran; kept for TLB-flush listeners */
	unsigned int pending;                       /* such listeners at its end */
	unsigned int nr_covered;                    /* of them, flushed all of it */
	const void *covered[MMN__INVAL_COVERED];
};

/*
 * Fill in who hit @v: @v->actor_id and @v->actor_name when actor_name is
 * NULL, @v->op when it is NULL (the sync layer's current actor).
 */
typedef void (*mmn__check_describe_fn)(struct mmn_sim *sim, struct mmn_violation *v);
/* Hear every violation, counted but not yet handed to the handler. */
typedef void (*mmn__check_observe_fn)(struct mmn_sim *sim, const struct mmn_violation *v);

/* Per-simulation state of the check module (violation counters, handler). */
struct mmn_check_state {
	_Atomic unsigned long counts[MMN_VIOL_NR_KINDS];
	mmn_violation_fn handler;
	void *handler_arg;
	mmn__check_describe_fn describe;  /* set by the sync layer */
	mmn__check_observe_fn observe;    /* set by the deterministic backend */
	struct mmn_raw_lock print_lock;  /* serialises the default handler's lines */
	struct mmn_raw_lock reg_lock;    /* guards @secondaries */
	struct mmn_secondary_reg *secondaries;
	/* lib/check/inflight.c, under reg_lock: invalidations in flight, kept
	 * only while some listener is registered (@nr_links counts the
	 * registrations and their linked subscriptions). */
	_Atomic unsigned int nr_links;
	unsigned long seq;                  /* orders opens and told events */
	unsigned long inval_overflow;       /* open ones beyond MMN__INVAL_MAX */
	_Atomic unsigned long nr_open;      /* open ones, tracked or not */
	struct mmn__inval inval[MMN__INVAL_MAX];
};

/*
 * The notifier core's reports to the access-time check (lib/check/inflight.c):
 * an invalidation of [start, end) of @mm (@flags: MMN__INVAL_KEEPS_FRAMES when
 * its event only changes protections, PROTECTION_VMA/PAGE or SOFT_DIRTY;
 * MMN__INVAL_EXCLUSIVE for EXCLUSIVE) opens before its first start
 * callback and closes after its last end callback (or when its start
 * fails); @sub was told (MMN__TOLD_*) about [start, end). Each returns at
 * once while no listener is registered.
 */
#define MMN__INVAL_KEEPS_FRAMES 1u
#define MMN__INVAL_EXCLUSIVE 2u
void mmn__check_inval_open(struct mmn_check_state *c, const void *mm, unsigned long start,
			   unsigned long end, const char *event, unsigned int flags);
void mmn__check_inval_close(struct mmn_check_state *c, const void *mm, unsigned long start,
			    unsigned long end);
void mmn__check_told(struct mmn_check_state *c, const void *sub, const void *mm,
		     unsigned long start, unsigned long end, unsigned int kind);

/* The verdict on one stale access (lib/check/inflight.c, for lib/mm). */
struct mmn__check_excuse {
	const char *name;         /* the listener's name */
	bool excused;             /* an invalidation it was not told about covers it */
	bool inflight;            /* some invalidation covering it is in flight */
	bool keeps_frames;        /* one of them changes protections only */
	bool exclusive;           /* one of them is make_device_exclusive()'s */
	const char *event;        /* one covering invalidation: its event, */
	unsigned long start, end; /* and its range */
};

/*
 * Whether listener @ctx may still use an old translation at @addr of @mm
 * (see struct mmn__check_excuse). Returns -ENOENT if @ctx is not registered.
 */
int mmn__check_excuse(struct mmn_check_state *c, const void *ctx, const void *mm,
		      unsigned long addr, struct mmn__check_excuse *out);

void mmn_check_sim_init(struct mmn_sim *sim);
void mmn_check_sim_fini(struct mmn_sim *sim);
/* Install (or, with NULL, remove) the callbacks of the layer above. */
void mmn__check_set_describe(struct mmn_sim *sim, mmn__check_describe_fn fn);
void mmn__check_set_observer(struct mmn_sim *sim, mmn__check_observe_fn fn);

/*
 * Report a violation found inside the library. @v->actor_* and @v->op are
 * filled from the calling actor when left -1/NULL. Never blocks on a
 * modelled lock.
 */
void mmn_report(struct mmn_sim *sim, struct mmn_violation *v);

/* Convenience: report @kind with a printf-style message. */
void mmn_reportf(struct mmn_sim *sim, enum mmn_violation_kind kind, unsigned long addr,
		 unsigned long pfn, const char *fmt, ...) __attribute__((format(printf, 5, 6)));

#endif /* MMN_LIB_CHECK_CHECK_INTERNAL_H */
