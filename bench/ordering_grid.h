/* SPDX-License-Identifier: MIT */
/*
 * The invalidation-ordering grid (issue 20), shared by bench/bench_ordering.c
 * and tests/bench/test_ordering_cells.c: one source file (ordering_grid.c),
 * compiled into each, so the table the bench prints and the cells the test
 * checks are the same code.
 *
 * A cell is an ordering of the secondary flush (F2) relative to the CPU flush
 * (F1), a listener kind, an operation family and a size in pages. For an
 * applicable cell, og_cost() runs the operation once, alone, and counts
 * what it cost the listener (flushes, entries, needless invalidations,
 * device faults and re-faults of the refill, the modelled clock's events by
 * kind), and og_safety() explores the same combination under concurrent
 * device (or vCPU) access with a strategy named as the library names it
 * (mmn_explore_strategy_by_name(): "pct" today; another strategy plugs in by
 * its name). A cell that makes no sense gets a reason (og_na_reason()).
 *
 * Bench-local: no new library API; it uses only the public headers.
 */
#ifndef MMN_BENCH_ORDERING_GRID_H
#define MMN_BENCH_ORDERING_GRID_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/mmnsim.h>

/* Where F2 goes (docs/benchmarks.md "Invalidation ordering" has the knobs). */
enum og_order {
	OG_CPU_FLUSH = 0, /* 6.6+: inside every CPU flush, under the PTL */
	OG_CALL_SITES,    /* 4.13-4.14: at the call sites under the PTL and again at end */
	OG_ONLY_END,      /* 4.15-6.5: call sites, the only_end paths skip end's (0f10851ea475) */
	OG_RANGE_END,     /* seed 000's proposal: only at invalidate_range_end, page put first */
	OG_RANGE_END_HELD, /* the same, the free waiting for that flush (Andrea's constraint) */
	OG_INV_PAGE,      /* up to 4.12: ->invalidate_page per page on the rmap paths */
	OG_START_END,     /* KVM style: the listener blocks at start, re-faults until end */
	OG_NR_ORDER
};

enum og_listener { OG_KVM = 0, OG_SVA, OG_AMDV2, OG_HMM, OG_NR_LST };

enum og_op {
	OG_MUNMAP = 0, OG_MPROTECT, OG_DONTNEED, OG_RECLAIM, OG_MIGRATE, OG_KSM, OG_THP_SPLIT,
	OG_FORK, OG_NUMA, OG_NR_OP
};

/* One cell of the grid. */
struct og_cell {
	enum og_order order;
	enum og_listener lst;
	enum og_op op;
	unsigned long pages; /* 1, 16 or 512 in the table; 1..512 accepted */
};

/* The cost of one operation, alone (deterministic: no repeat changes it). */
struct og_cost {
	unsigned long sec_flushes;  /* secondary-TLB flushes issued by the listener */
	unsigned long entries;      /* secondary entries invalidated (erased or downgraded) */
	unsigned long needless;     /* flushes/starts that covered no cached entry */
	unsigned long dev_faults;   /* device faults of the refill after the operation */
	unsigned long refaults;     /* of them, on entries the invalidation took */
	uint64_t op_modelled_ns;    /* the clock across the operation */
	uint64_t refill_modelled_ns; /* the clock across the device's refill */
	uint64_t events[MMN_COST_NR]; /* events by kind, operation and refill */
	double real_ns;             /* host time of the operation */
	unsigned long violations;   /* reported alone (range_end: the early free) */
};

/* The safety exploration of one cell. */
struct og_safety_config {
	const char *strategy;   /* mmn_explore_strategy_by_name(); NULL: "pct" */
	unsigned long schedules; /* schedules to run (0: 200) */
	uint64_t seed;           /* seed of schedule 0 (0: 1) */
	bool keep_going;         /* run them all (true) or stop at the first violating one */
};

struct og_safety {
	char strategy[16];
	unsigned long schedules, violating, first_index; /* first_index ULONG_MAX: none */
	bool complete;           /* an exhaustive strategy enumerated everything */
	bool keep_going;         /* all schedules run (else: stopped at the first violating) */
	unsigned long by_kind[MMN_VIOL_NR_KINDS];
	uint64_t giveups, refaults, dev_faults; /* summed over the schedules */
	double real_ns;
};

const char *og_order_name(enum og_order o);
const char *og_listener_name(enum og_listener l);
const char *og_op_name(enum og_op o);

/* The knobs ("name=value", NULL-terminated, static) that make ordering @o on
 * top of profile "latest". */
const char *const *og_order_knobs(enum og_order o);

/* NULL when @c applies, else why it makes no sense (a static string). */
const char *og_na_reason(const struct og_cell *c);

/* Run the operation of @c once, alone; 0, -EINVAL for an n/a cell, or the
 * first error of the set-up, operation or refill. */
int og_cost(const struct og_cell *c, struct og_cost *out);

/* Explore @c; 0, -EINVAL for an n/a cell or a bad strategy name, or the
 * error of mmn_scenario_explore_def(). */
int og_safety(const struct og_cell *c, const struct og_safety_config *cfg, struct og_safety *out);

/* The safety verdict in words into @buf: "found at #23 (use_after_free)"
 * (stopped at the first violating schedule), "found 3/200 (lost_write)"
 * (keep_going), or "none in 200". */
void og_safety_text(const struct og_safety *s, char *buf, unsigned long len);

/* The violation kinds a safety exploration counts: a device-visible
 * corruption (use-after-free, lost write, stale translation). */
#define OG_FOUND_KINDS \
	((1u << MMN_VIOL_USE_AFTER_FREE) | (1u << MMN_VIOL_LOST_WRITE) | \
	 (1u << MMN_VIOL_STALE_TRANSLATION))

#endif /* MMN_BENCH_ORDERING_GRID_H */
