/* SPDX-License-Identifier: MIT */
/**
 * @file sim.h
 * @brief The simulation: the machine that owns CPUs, frames, locks and mms.
 *
 * Every object of mmnsim belongs to exactly one struct mmn_sim. Two
 * simulations in one process share nothing (the only process-wide state is
 * liburcu's own thread registry, behind the sync layer).
 */
#ifndef MMNSIM_SIM_H
#define MMNSIM_SIM_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;

/** Which implementation of the sync layer the simulation runs on. */
enum mmn_backend {
	/** pthreads + liburcu (urcu-memb): real parallelism. */
	MMN_BACKEND_NATIVE = 0,
	/** One actor at a time, every scheduling point a seeded choice of
	 *  the scheduler; runs are driven by mmn_sched_run() (sched.h). */
	MMN_BACKEND_DETERMINISTIC = 1,
};

/** Largest number of simulated CPUs (one bit each in an mm's cpumask). */
#define MMN_MAX_CPUS 64

/**
 * Configuration of a simulation. Fill it with mmn_sim_config_init(), then
 * change what you need. Every field has a documented default.
 */
struct mmn_sim_config {
	/** Simulated CPUs, 1..MMN_MAX_CPUS. Default 4. */
	unsigned int nr_cpus;
	/** Physical 4 KiB frames (page-table pages included). Default 65536
	 *  (256 MiB). Exhaustion is -ENOMEM, never a crash. */
	unsigned long nr_frames;
	/** 2 MiB huge pages reserved for MAP_HUGETLB (the hugetlbfs pool,
	 *  separate from nr_frames, as nr_hugepages is). Default 8. */
	unsigned long nr_huge_pages;
	/** Entries of each CPU's 4 KiB TLB (direct-mapped). Default 64. */
	unsigned int tlb_entries;
	/** Entries of each CPU's 2 MiB TLB (direct-mapped). Default 16. */
	unsigned int tlb_huge_entries;
	/** Sync-layer backend. Default MMN_BACKEND_NATIVE. */
	enum mmn_backend backend;
	/** Seed of every pseudo-random choice of the simulation. Default 1. */
	uint64_t seed;
	/** Lockdep-like checks (lock classes, order, might_sleep). Default
	 *  true; turn off only to measure the bare cost of the primitives. */
	bool lockdep;
	/** Kernel-semantics profile by name ("latest", "6.6", "4.15"...; see
	 *  profile.h). NULL means "latest". Knobs can be overridden one by one
	 *  after creation with mmn_sim_set_knob(). */
	const char *profile;
};

/** mmn_sim_config_init() - fill @p cfg with the documented defaults. */
MMN_API void mmn_sim_config_init(struct mmn_sim_config *cfg);

/**
 * mmn_sim_create() - create a simulation.
 * @param cfg  configuration, copied; NULL means all defaults
 * @return the simulation, or NULL with errno set: EINVAL for a field out of
 *         range or an unknown profile name, ENOMEM when the host cannot
 *         allocate it.
 */
MMN_API struct mmn_sim *mmn_sim_create(const struct mmn_sim_config *cfg);

/**
 * mmn_sim_destroy() - tear the simulation down.
 *
 * Every mm still alive is torn down as by its last mmn_mm_put(); actors
 * spawned with mmn_actor_spawn() must have been joined. NULL is a no-op.
 */
MMN_API void mmn_sim_destroy(struct mmn_sim *sim);

/** mmn_sim_config_get() - the configuration the simulation runs with. */
MMN_API const struct mmn_sim_config *mmn_sim_config_get(const struct mmn_sim *sim);

struct mmn_profile;

/** mmn_sim_profile() - the knobs the simulation runs with (read-only). */
MMN_API const struct mmn_profile *mmn_sim_profile(const struct mmn_sim *sim);

/**
 * mmn_sim_set_knob() - override one knob of the simulation's profile (see
 * mmn_profile_set_knob() for names and values), or one cost of the
 * modelled clock: "cost_NAME_ns" with NAME a mmn_cost_name() and a
 * decimal number of ns as value ("cost_ipi_ns" = "1500"; clock.h,
 * mmn_cost_knob_parse()). A cost knob leaves the profile (and its name)
 * unchanged. Call it before any actor runs: knobs are read without
 * synchronisation.
 * @return 0, -EINVAL for NULL, -ENOENT for an unknown knob (or cost name),
 *         -ERANGE for a malformed value; nothing changes on error.
 */
MMN_API int mmn_sim_set_knob(struct mmn_sim *sim, const char *knob, const char *value);

/**
 * Counters of the primary MMU model, summed over CPUs. Snapshots; under the
 * native backend a snapshot taken while actors run is approximate.
 */
struct mmn_stats {
	/* frames */
	unsigned long frames_total;      /**< nr_frames */
	unsigned long frames_free;       /**< free now */
	unsigned long frames_allocated;  /**< allocations so far */
	unsigned long frames_freed;      /**< frees so far */
	unsigned long huge_pages_free;   /**< free 2 MiB huge pages now */
	unsigned long pgtables;          /**< page-table pages in use now */
	/* TLB */
	unsigned long tlb_hits;          /**< accesses served by a TLB entry (not those
					      mmn_tlb_read_inline() serves inline) */
	unsigned long tlb_misses;        /**< lookups that walked the table */
	unsigned long tlb_fills;         /**< entries filled after a walk */
	unsigned long tlb_flush_page;    /**< flush_tlb_page() calls */
	unsigned long tlb_flush_range;   /**< flush_tlb_range() calls */
	unsigned long tlb_flush_mm;      /**< flush_tlb_mm() calls (full flushes) */
	unsigned long tlb_shootdowns;    /**< per-target-CPU invalidations */
	unsigned long tlb_entries_dropped; /**< entries invalidated by flushes */
	unsigned long gather_flushes;    /**< mmu_gather flush+free rounds */
	/* faults */
	unsigned long faults;            /**< software page faults handled */
	unsigned long faults_zero_page;  /**< read faults that mapped the zero page */
	unsigned long faults_anon;       /**< faults that allocated a private page */
	unsigned long faults_shared;     /**< faults on MAP_SHARED memory */
	unsigned long faults_cow;        /**< write faults that copied (COW) */
	unsigned long faults_reuse;      /**< write faults that reused the page */
	unsigned long faults_huge;       /**< faults that mapped a 2 MiB page */
	unsigned long faults_numa;       /**< NUMA-hinting faults (do_numa_page()) */
};

/** mmn_sim_get_stats() - fill @p out with the current counters. */
MMN_API void mmn_sim_get_stats(const struct mmn_sim *sim, struct mmn_stats *out);

/** mmn_version_string() - the library's version, "MAJOR.MINOR.PATCH". */
MMN_API const char *mmn_version_string(void);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_SIM_H */
