/* SPDX-License-Identifier: MIT */
/**
 * @file ops.h
 * @brief Core-mm operations that notify, each after its kernel counterpart.
 *
 * Every operation mirrors its kernel function step by step: mmap_lock mode,
 * the notified range (and its widening), the event, invalidate_range_start,
 * the PTL, the entry changes, the CPU TLB flush or mmu_gather, the secondary
 * TLB flush where the simulation's profile puts it (profile.h), the PTL
 * release, the page free and invalidate_range_end. The syscall-shaped ones
 * keep the syscall's arguments and errors; the others are named after the
 * kernel function they model. On error the model is left unchanged.
 * docs/kernel-mapping.md lists every operation with its kernel function,
 * event and step order per profile.
 *
 * mmn_munmap() and mmn_mmap() are declared in mm.h.
 */
#ifndef MMNSIM_OPS_H
#define MMNSIM_OPS_H

#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;

/** The operations, for per-operation statistics. */
enum mmn_op {
	MMN_OP_MUNMAP = 0,     /**< mmn_munmap() */
	MMN_OP_MREMAP,         /**< mmn_mremap() */
	MMN_OP_MPROTECT,       /**< mmn_mprotect() */
	MMN_OP_MADV_DONTNEED,  /**< mmn_madvise(MMN_MADV_DONTNEED) */
	MMN_OP_MADV_FREE,      /**< mmn_madvise(MMN_MADV_FREE) */
	MMN_OP_NUMA_HINT,      /**< mmn_change_prot_numa() */
	MMN_OP_RECLAIM,        /**< mmn_try_to_unmap() */
	MMN_OP_MIGRATE,        /**< mmn_migrate_pages() */
	MMN_OP_KSM,            /**< mmn_ksm_merge() */
	MMN_OP_THP_SPLIT,      /**< THP split (__split_huge_pmd) */
	MMN_OP_THP_COLLAPSE,   /**< THP collapse (collapse_huge_page) */
	MMN_OP_FORK,           /**< mmn_fork() */
	MMN_OP_COW,            /**< the COW fault (wp_page_copy) */
	MMN_OP_SOFT_DIRTY,     /**< mmn_clear_refs_soft_dirty() */
	MMN_OP_EXIT,           /**< exit_mmap (last mmn_mm_put()) */
	MMN_OP_OOM_REAP,       /**< mmn_oom_reap() */
	MMN_OP_EXCLUSIVE,      /**< make_device_exclusive */
	MMN_OP_MIGRATE_VMA,    /**< migrate_vma to and from device memory */
	MMN_OP_NR
};

/** mmn_op_name() - "munmap", "mprotect", ... or "unknown". */
MMN_API const char *mmn_op_name(enum mmn_op op);

/** What an operation did, summed over its calls. */
struct mmn_op_stats {
	unsigned long calls;            /**< successful calls */
	unsigned long ranges;           /**< invalidate_range_start calls issued */
	unsigned long pages_changed;    /**< entries the notified ranges really changed */
	/** Populated entries inside notified ranges left as they were: the
	 *  false positives a listener must tolerate (seed 004). */
	unsigned long pages_unchanged;
	unsigned long skipped;          /**< VMAs skipped (OOM reap refusals) */
};

/**
 * mmn_op_get_stats() - the statistics of @p op in @p sim.
 * @param sim  the simulation
 * @param op   the operation
 * @param out  receives the counters
 * @return 0, -EINVAL for NULL or @p op out of range.
 */
MMN_API int mmn_op_get_stats(const struct mmn_sim *sim, enum mmn_op op, struct mmn_op_stats *out);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_OPS_H */
