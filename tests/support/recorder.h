/* SPDX-License-Identifier: MIT */
/*
 * Test helper: a recording listener. One struct recorder is both an MMU
 * notifier subscription (struct mmn_notifier) and, if asked, an interval
 * subscription (struct mmn_interval_notifier). Every callback it receives
 * is logged with its kind, range, event, flags, owner, the calling actor,
 * the global order of the call, and the locking context at the time: how
 * many locks the actor holds (mmn_lockdep_depth()), which of a set of
 * watched locks (the PTL, mmap_lock...) it holds (mmn_lockdep_is_held()),
 * whether it is inside the notifier SRCU read section, and the actor's
 * context string. Suites compare the log with the kernel's step order.
 *
 * Use: add ${PROJECT_SOURCE_DIR}/tests/support/recorder.c to the suite's
 * SOURCES and #include "support/recorder.h"; recorder.c includes
 * lib/internal.h, so the include path must reach lib/ (mmn_add_test() sets
 * both).
 *
 *   struct recorder r;
 *   rec_init(&r, sim, REC_OPS_START_END, 256);
 *   rec_watch_lock(&r, &ptl, "ptl");          // bit 0 of rec_event::held
 *   rec_register(&r, mm);
 *   ... run the operation ...
 *   assert_int_equal(rec_count_kind(&r, REC_START), 1);
 *   rec_unregister(&r);
 *   rec_fini(&r);
 *
 * Behaviour knobs (set before the callbacks run): start_ret (what
 * invalidate_range_start returns), young_ret, interval_ret (what the
 * interval invalidate returns), interval_lock (the "driver lock" the
 * interval invalidate takes around mmn_interval_set_seq(); trylock in a
 * non-blockable range, returning false when busy, as test_hmm does), and a
 * hook called inside every callback after it is logged (to block on a
 * completion, take a lock, and so on).
 *
 * The log is an array of fixed capacity filled with an atomic index, so
 * callbacks on several actors may log at once; read it after the actors
 * are joined (or otherwise synchronised). Events beyond the capacity are
 * counted in rec_dropped().
 */
#ifndef MMN_TEST_RECORDER_H
#define MMN_TEST_RECORDER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include <mmnsim/mmnsim.h>

/* What was called. */
enum rec_kind {
	REC_RELEASE = 0,
	REC_CLEAR_FLUSH_YOUNG,
	REC_CLEAR_YOUNG,
	REC_TEST_YOUNG,
	REC_START,               /* invalidate_range_start */
	REC_END,                 /* invalidate_range_end */
	REC_ARCH_INVALIDATE,     /* arch_invalidate_secondary_tlbs */
	REC_INVALIDATE_PAGE,     /* historic */
	REC_INVALIDATE_RANGE,    /* historic */
	REC_CHANGE_PTE,          /* historic */
	REC_INTERVAL_INVALIDATE, /* mmn_interval_notifier_ops::invalidate */
	REC_NR_KINDS
};

/* Which callbacks the recorder's notifier implements (rec_init()). */
enum rec_ops_mode {
	/* release, the young hooks, invalidate_range_start/end (KVM-like). */
	REC_OPS_START_END = 0,
	/* release, the young hooks, arch_invalidate_secondary_tlbs (SVA-like). */
	REC_OPS_SECONDARY_TLB,
	/* release and invalidate_range_start only: a subscriber whose start
	 * may fail (it must not implement end). */
	REC_OPS_START_ONLY,
	/* Everything a pre-6.6 subscriber could have: start/end, young hooks,
	 * release, invalidate_page, invalidate_range, change_pte. */
	REC_OPS_LEGACY,
};

/* Largest number of watched locks. */
#define REC_MAX_LOCKS 8

/* One logged callback. */
struct rec_event {
	enum rec_kind kind;
	unsigned long stamp;        /* global order of all recorders' events */
	int actor_id;
	/* Range callbacks: the range. Single-address ones: [addr, addr + 1). */
	unsigned long start, end;
	unsigned int flags;         /* range flags (start/end/interval) */
	enum mmn_notify_event event;
	void *owner;
	unsigned long cur_seq;      /* interval invalidate */
	mmn_pte_t pte;              /* change_pte */
	int lock_depth;             /* mmn_lockdep_depth() */
	unsigned int held;          /* bit i: watched lock i held */
	int in_srcu;                /* in the notifier SRCU read section (1/0, -1 unknown) */
	const char *context;        /* the actor's context string */
};

struct recorder;

/* Called inside every callback, after the event was logged. */
typedef void (*rec_hook_fn)(struct recorder *r, const struct rec_event *e, void *arg);

struct recorder {
	struct mmn_notifier mn;            /* the list subscription */
	struct mmn_interval_notifier imn;  /* the interval subscription */
	struct mmn_notifier_ops ops;       /* may be edited before rec_register() */
	struct mmn_interval_notifier_ops iops;
	struct mmn_sim *sim;
	struct mmn_mm *mm;                 /* registered to, or NULL */
	/* knobs */
	int start_ret;
	int young_ret;
	bool interval_ret;
	bool interval_set_seq;             /* default true */
	struct mmn_mutex *interval_lock;   /* "driver lock", or NULL */
	rec_hook_fn hook;
	void *hook_arg;
	/* the log */
	struct rec_event *ev;
	size_t cap;
	atomic_size_t nr;
	atomic_size_t dropped;
	/* watched locks */
	const void *locks[REC_MAX_LOCKS];
	const char *lock_names[REC_MAX_LOCKS];
	int nr_locks;
};

/* rec_init() - a recorder with room for @capacity events; 0 or -ENOMEM. */
int rec_init(struct recorder *r, struct mmn_sim *sim, enum rec_ops_mode mode, size_t capacity);
/* rec_fini() - free the log (unregister/remove first). */
void rec_fini(struct recorder *r);
/* rec_watch_lock() - watch @lock; returns its bit in rec_event::held, or -1. */
int rec_watch_lock(struct recorder *r, const void *lock, const char *name);

/* mmn_notifier_register(&r->mn, mm) with r->ops. */
/*
 * Stop watching every lock. Call it before anything that may log after a
 * watched lock's memory is gone: a PTL lives in its page table, which
 * munmap, mremap or exit_mmap may free, and the ->release logged by
 * rec_unregister() would then read freed memory.
 */
void rec_unwatch_locks(struct recorder *r);
int rec_register(struct recorder *r, struct mmn_mm *mm);
/* mmn_notifier_unregister(&r->mn, r->mm). */
int rec_unregister(struct recorder *r);
/* mmn_interval_notifier_insert(&r->imn, mm, start, length, &r->iops). */
int rec_insert_interval(struct recorder *r, struct mmn_mm *mm, unsigned long start,
			unsigned long length);
/* mmn_interval_notifier_remove(&r->imn). */
int rec_remove_interval(struct recorder *r);

/* The recorder of a subscription it owns. */
struct recorder *rec_of(struct mmn_notifier *sub);
struct recorder *rec_of_interval(struct mmn_interval_notifier *isub);

size_t rec_count(struct recorder *r);
size_t rec_count_kind(struct recorder *r, enum rec_kind kind);
size_t rec_dropped(struct recorder *r);
/* The @i-th event, NULL out of range. */
const struct rec_event *rec_at(struct recorder *r, size_t i);
/* The @nth (from 0) event of @kind, NULL if none. */
const struct rec_event *rec_find(struct recorder *r, enum rec_kind kind, size_t nth);
/* Whether the log's kinds are exactly @kinds[0..n). */
bool rec_kinds_are(struct recorder *r, const enum rec_kind *kinds, size_t n);
/* Empty the log. */
void rec_reset(struct recorder *r);
/* "start", "end", ... */
const char *rec_kind_name(enum rec_kind kind);
/* One line per event. */
void rec_dump(struct recorder *r, FILE *out);

#endif /* MMN_TEST_RECORDER_H */
