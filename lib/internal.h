/* SPDX-License-Identifier: MIT */
/*
 * The simulation object, shared by every module of the library. Each module
 * keeps its per-simulation state here; nothing of it is exported.
 */
#ifndef MMN_LIB_INTERNAL_H
#define MMN_LIB_INTERNAL_H

#include <errno.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <mmnsim/check.h>
#include <mmnsim/clock.h>
#include <mmnsim/profile.h>
#include <mmnsim/sim.h>
#include <mmnsim/sync.h>

#include "check/check_internal.h"

#define MMN_ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define mmn_container_of(ptr, type, member) \
	((type *)((char *)(ptr) - offsetof(type, member)))
#define mmn_likely(x) __builtin_expect(!!(x), 1)
#define mmn_unlikely(x) __builtin_expect(!!(x), 0)

/* snprintf(@dst, @size, "%s", @src) without the formatting (@size > 0), for
 * names copied on hot paths: an actor's per schedule, lockdep's per edge. */
static inline void mmn__strscpy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

struct mmn_frame_pool;   /* lib/mm/page.c */
struct mmn_dev_pagemap;  /* lib/mm/memremap.c */
struct mmn_cpu;          /* lib/mm/tlb.c */
struct mmn_mm;

/* Fault counters (lib/ops/memory.c). Flushes and TLB counters live per CPU. */
struct mmn_fault_stats {
	_Atomic unsigned long faults, zero, anon, shared, cow, reuse, huge, numa;
};

/* Flush counters (lib/mm/tlb.c): flushes are issued by actors, not CPUs. */
struct mmn_flush_stats {
	_Atomic unsigned long page, range, mm, gather;
};

/* Per-operation counters (lib/ops), see struct mmn_op_stats. */
struct mmn_op_counters {
	_Atomic unsigned long calls, ranges, changed, unchanged, skipped;
};

/*
 * The modelled clock (lib/clock/clock.c): the cost of each kind, read on
 * every charge, and per kind the events and ns charged, side by side (a
 * charge writes one pair). The clock is the sum of the ns of every kind.
 */
struct mmn_clock_state {
	_Atomic uint64_t cost_ns[MMN_COST_NR];
	struct {
		_Atomic uint64_t events;
		_Atomic uint64_t ns;
	} kind[MMN_COST_NR];
};

struct mmn_sim {
	struct mmn_sim_config cfg;
	struct mmn_profile profile;      /* the knobs (lib/profile) */
	struct mmn_fault_stats fault_stats;
	struct mmn_flush_stats flush_stats;
	struct mmn_op_counters op_stats[32];   /* indexed by enum mmn_op */
	_Atomic unsigned int nr_nodes;   /* NUMA nodes (lib/mm/numa.c); 0 means 1 */
	/* device-private pagemaps by id (page->pgmap_id; slot 0 unused) */
	struct mmn_dev_pagemap *_Atomic devmem[64];
	/* Pagemaps destroyed by mmn_devmem_destroy(), kept (pool NULL) until
	 * mmn_sim_destroy() so a second destroy or a later use is checked. */
	struct mmn__devmem_grave *_Atomic devmem_graves;
	struct mmn_sync_state *sync;     /* lib/sync */
	struct mmn_check_state check;    /* lib/check */
	struct mmn_clock_state clock;    /* lib/clock */
	struct mmn_frame_pool *pool;     /* lib/mm/page.c */
	/*
	 * Where lib/mm calls up into the notifier, as the kernel's arch TLB
	 * flush and __mmdrop() do: set by lib/notifier at mmn_sim_create()
	 * (mmn__notifier_sim_init()), read by lib/mm/tlb.c and lib/mm/mm.c.
	 */
	void (*tlb_secondary_hook)(struct mmn_mm *mm, unsigned long start, unsigned long end,
				   bool arch);
	void (*subscriptions_destroy_hook)(struct mmn_mm *mm);
	/*
	 * Where the deterministic backend (lib/sync) lets the notifier repair
	 * what unwound actors left (set by lib/notifier): actor_unwound_hook
	 * on the unwound actor's own thread, run_unwound_hook after the run,
	 * on its caller's thread, with no actor left.
	 */
	void (*actor_unwound_hook)(struct mmn_sim *sim);
	void (*run_unwound_hook)(struct mmn_sim *sim);
	struct mmn_cpu *cpus;            /* lib/mm/tlb.c, cfg.nr_cpus of them */
	/* The SRCU domain of the MMU notifiers: one for every mm, as the
	 * kernel's static srcu in mm/mmu_notifier.c. */
	struct mmn_srcu notifier_srcu;
	/* every live mm, for audits and teardown (lib/mm/mm.c) */
	struct mmn_raw_lock mm_list_lock;
	struct mmn_mm *mm_list;
	unsigned int next_mm_id;
};

void mmn_devmem_sim_fini(struct mmn_sim *sim);
/* Tear down the mms left behind at mmn_sim_destroy() (lib/ops/fork.c). */
void mmn_mm_sim_fini(struct mmn_sim *sim);
void mmn_clock_sim_init(struct mmn_sim *sim);
/* mmn_sim_set_knob() for the "cost_<name>_ns" knobs (lib/clock). */
int mmn_clock_set_knob(struct mmn_sim *sim, const char *knob, const char *value);

#endif /* MMN_LIB_INTERNAL_H */
