/* SPDX-License-Identifier: MIT */
/**
 * @file tlb.h
 * @brief Per-CPU TLBs, TLB flushes over an mm's cpumask, and the mmu_gather.
 *
 * Each simulated CPU caches translations (mm, virtual page → frame, the
 * frame's generation, write/dirty permission) in a direct-mapped 4 KiB TLB
 * and a 2 MiB TLB. A CPU enters an mm's cpumask on its first access to it.
 * flush_tlb_*() invalidates the matching entries on every CPU of the mask
 * (a shootdown per target CPU) and returns only when they are gone, as the
 * kernel's IPI-based flush does.
 *
 * The mmu_gather batches the pages and page-table pages an unmap removes
 * and frees them strictly after the TLB flush that makes them unreachable
 * (tlb_finish_mmu()).
 */
#ifndef MMNSIM_TLB_H
#define MMNSIM_TLB_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;

/** flush_tlb_page(): drop @p mm's translation of @p addr on every CPU of its mask. */
MMN_API void mmn_flush_tlb_page(struct mmn_mm *mm, unsigned long addr);
/** flush_tlb_range(): drop @p mm's translations in [@p start, @p end). */
MMN_API void mmn_flush_tlb_range(struct mmn_mm *mm, unsigned long start, unsigned long end);
/** flush_tlb_mm(): drop every translation of @p mm. */
MMN_API void mmn_flush_tlb_mm(struct mmn_mm *mm);

/** A cached translation, as mmn_tlb_lookup() reports it. */
struct mmn_tlb_entry_info {
	unsigned long pfn;   /**< frame (the subpage's, for a 2 MiB entry) */
	uint32_t gen;        /**< generation recorded at fill time */
	bool write;          /**< the entry allows stores */
	bool huge;           /**< a 2 MiB entry */
};

/**
 * mmn_tlb_lookup() - whether CPU @p cpu caches a translation of @p addr in @p mm,
 * without touching it (for tests and the oracle).
 * @return 1 cached (filled into @p out if non-NULL), 0 not cached, -EINVAL for
 *         a NULL or torn-down @p mm or a @p cpu out of range.
 */
MMN_API int mmn_tlb_lookup(struct mmn_mm *mm, int cpu, unsigned long addr,
			   struct mmn_tlb_entry_info *out);

/** Pages an mmu_gather holds before it must flush (MAX_GATHER_BATCH-like). */
#define MMN_GATHER_BATCH 256
/** Page-table pages an mmu_gather holds before it must flush. */
#define MMN_GATHER_TABLES 64

/**
 * struct mmu_gather. Lives on the caller's stack between
 * mmn_tlb_gather_mmu() and mmn_tlb_finish_mmu(). Fields are private.
 */
struct mmn_mmu_gather {
	/** @cond MMN_PRIVATE */
	struct mmn_mm *mm;
	unsigned long start, end;  /* range needing a flush; start >= end: none */
	bool fullmm;
	bool freed_tables;
	unsigned int nr_pages;
	unsigned int nr_tables;
	unsigned long pages[MMN_GATHER_BATCH];
	unsigned long tables[MMN_GATHER_TABLES];
	/** @endcond */
};

/** tlb_gather_mmu(): start gathering for @p mm. A NULL @p tlb is a no-op, and
 *  every gather function is a no-op on a gather without an mm. */
MMN_API void mmn_tlb_gather_mmu(struct mmn_mmu_gather *tlb, struct mmn_mm *mm);
/** tlb_gather_mmu_fullmm(): gathering for the teardown of the whole @p mm. */
MMN_API void mmn_tlb_gather_mmu_fullmm(struct mmn_mmu_gather *tlb, struct mmn_mm *mm);
/** tlb_flush_pte_range(): [@p addr, @p addr + @p size) needs a flush (a
 *  range that wraps is cut at the top of the address space). */
MMN_API void mmn_tlb_flush_pte_range(struct mmn_mmu_gather *tlb, unsigned long addr,
				     unsigned long size);
/**
 * __tlb_remove_page(): queue the gather's reference on @p pfn, to be dropped
 * after the flush.
 * @return 1 when the batch is full: the caller must flush
 *         (mmn_tlb_flush_mmu_tlbonly() under its PTL, then mmn_tlb_flush_mmu()
 *         after dropping it) before queueing more; 0 otherwise; -EINVAL (nothing
 *         queued) for a NULL or ungathered @p tlb or a @p pfn outside the frame
 *         pool, as mmn_put_page() refuses it. A caller that only tests the
 *         result for truth (the pre-errno API returned bool) flushes on
 *         -EINVAL, which is harmless.
 */
MMN_API int mmn_tlb_remove_page(struct mmn_mmu_gather *tlb, unsigned long pfn);
/**
 * tlb_remove_table(): queue page-table page @p pfn, freed after the flush.
 * @return 0; -EINVAL (nothing queued) for a NULL or ungathered @p tlb, a
 *         @p pfn outside the frame pool, or a frame that is not a live
 *         page-table page (MMN_PG_TABLE). Callers that ignore the result (it
 *         returned void before) compile unchanged.
 */
MMN_API int mmn_tlb_remove_table(struct mmn_mmu_gather *tlb, unsigned long pfn);
/** tlb_flush_mmu_tlbonly(): flush the gathered range; free nothing. */
MMN_API void mmn_tlb_flush_mmu_tlbonly(struct mmn_mmu_gather *tlb);
/** tlb_flush_mmu(): flush, then free the gathered pages and tables. */
MMN_API void mmn_tlb_flush_mmu(struct mmn_mmu_gather *tlb);
/** tlb_finish_mmu(): final flush and free. */
MMN_API void mmn_tlb_finish_mmu(struct mmn_mmu_gather *tlb);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_TLB_H */
