/* SPDX-License-Identifier: MIT */
/**
 * @file iommu.h
 * @brief Reference listener: an IOMMU doing Shared Virtual Addressing (SVA)
 *        with a device that caches translations (ATS) and requests pages
 *        (PRI).
 *
 * Modelled drivers (behaviour, not code):
 * - drivers/iommu/iommu-sva.c: iommu_sva_bind_device() / unbind (one PASID
 *   per mm, mm->iommu_mm), iommu_sva_handle_iopf() (a page request served
 *   by handle_mm_fault() under mmap_lock for read);
 * - drivers/iommu/intel/svm.c and drivers/iommu/arm/arm-smmu-v3/
 *   arm-smmu-v3-sva.c (mode #MMN_IOMMU_SVA): the device walks the CPU page
 *   table itself, the IOMMU caches the walk in its IOTLB and the device in
 *   its ATC (device TLB); the only duty of the notifier is the synchronous
 *   flush of both, tagged by PASID, at arch_invalidate_secondary_tlbs
 *   (6.6+), invalidate_range (3.19-6.5) or invalidate_page (up to 4.12);
 *   release tears the PASID entry down so that further DMA faults;
 * - drivers/iommu/amd/iommu_v2.c before 2014 (mode #MMN_IOMMU_AMDV2,
 *   removed from the kernel around 6.7): invalidate_range_start points the
 *   PASID at an empty page table (and flushes), invalidate_range_end
 *   restores the real one; a device translation in between faults, the PPR
 *   handler answers SUCCESS without resolving anything while an
 *   invalidation is active, the device re-faults, and a real device gives
 *   up after a number of faults (seed 001).
 *
 * A device access (mmn_iommu_dma_read() / mmn_iommu_dma_write()) is an ATS
 * translation: ATC, then IOTLB, then a lockless walk of the CPU table
 * (mmn_pgtable_walk(): no copy of the page table exists), then, if the entry
 * is not present (or read-only for a write), a page request (PRI) answered
 * by the fault path, after which the device retries. The access itself goes
 * through mmn_phys_access() with the generation the translation recorded,
 * so a translation that outlives its frame is caught by the oracle.
 *
 * Locking: the IOTLB, the ATC and the PASID table are guarded by one
 * mmn_spinlock (the flush callbacks run under the PTL and must not sleep).
 * A translation (walk and fill) and the access through it are made under
 * that lock, as the hardware's invalidation-wait descriptor (VT-d) or
 * CMD_SYNC (SMMUv3) completes only after translation requests and accesses
 * in flight have drained. The page-request path drops it and takes
 * mmap_lock for read: a DMA call must not be made with any lock held.
 */
#ifndef MMNSIM_LISTENERS_IOMMU_H
#define MMNSIM_LISTENERS_IOMMU_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>
#include <mmnsim/mmu_notifier.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;
struct mmn_iommu;

/** How the IOMMU keeps its caches coherent with the CPU page table. */
enum mmn_iommu_mode {
	/**
	 * Intel VT-d / ARM SMMUv3 SVA: flush IOTLB and ATC in
	 * arch_invalidate_secondary_tlbs, invalidate_range and
	 * invalidate_page (all three, so it works in every profile); never
	 * implements invalidate_range_start/end.
	 */
	MMN_IOMMU_SVA = 0,
	/**
	 * Pre-2014 AMD IOMMUv2: invalidate_range_start empties the PASID's
	 * table (and flushes), invalidate_range_end restores it; the PPR
	 * handler answers SUCCESS while an invalidation is active and the
	 * device re-faults. Also implements invalidate_page and change_pte
	 * (flush one page), as that driver did.
	 */
	MMN_IOMMU_AMDV2 = 1,
};

/** Configuration of mmn_iommu_create(). Fill with mmn_iommu_config_init(). */
struct mmn_iommu_config {
	/** Coherence mode. Default #MMN_IOMMU_SVA. */
	enum mmn_iommu_mode mode;
	/** IOTLB entries (direct-mapped, tagged by PASID), 1..65536. Default 64. */
	unsigned int iotlb_entries;
	/** ATC (device TLB) entries (direct-mapped, tagged by PASID), 1..65536.
	 *  Default 16. */
	unsigned int atc_entries;
	/** PASIDs the IOMMU can bind (numbered 1..max_pasids), 1..4096. Default 16. */
	unsigned int max_pasids;
	/**
	 * Page requests one device access may make before the device gives up
	 * (the request is aborted with -EIO and counted in
	 * mmn_iommu_stats::give_ups), 1..1000000. Default 32.
	 */
	unsigned int max_faults;
	/**
	 * Fault injection: a broken driver whose flush callbacks are counted
	 * but drop nothing (mmn_iommu_stats::entries_flushed stays 0). For
	 * tests showing that the oracle catches the stale IOTLB. Default false.
	 */
	bool skip_flush;
};

/** Notifier callbacks of the listener, for mmn_iommu_stats::callbacks. */
enum mmn_iommu_cb {
	MMN_IOMMU_CB_ARCH_INVALIDATE = 0, /**< arch_invalidate_secondary_tlbs (6.6+) */
	MMN_IOMMU_CB_INVALIDATE_RANGE,    /**< invalidate_range (3.19-6.5) */
	MMN_IOMMU_CB_INVALIDATE_PAGE,     /**< invalidate_page (up to 4.12) */
	MMN_IOMMU_CB_RANGE_START,         /**< invalidate_range_start (AMDv2) */
	MMN_IOMMU_CB_RANGE_END,           /**< invalidate_range_end (AMDv2) */
	MMN_IOMMU_CB_CHANGE_PTE,          /**< change_pte (AMDv2) */
	MMN_IOMMU_CB_RELEASE,             /**< release */
	MMN_IOMMU_CB_NR                   /**< number of kinds (not a kind) */
};

/** Buckets of mmn_iommu_stats::fault_hist. */
#define MMN_IOMMU_HIST_BUCKETS 16

/** Counters of one IOMMU, summed over its PASIDs. Snapshots. */
struct mmn_iommu_stats {
	/** Notifier callbacks received, by enum mmn_iommu_cb. */
	unsigned long callbacks[MMN_IOMMU_CB_NR];
	/**
	 * invalidate_range_start calls by enum mmn_notify_event (AMDv2 mode
	 * only: the flush callbacks of SVA mode carry no event).
	 */
	unsigned long events[MMN_NOTIFY_NR_EVENTS];
	/** Flushes issued (one per flushing callback, release included). */
	unsigned long flushes;
	/** IOTLB and ATC entries dropped by flushes. */
	unsigned long entries_flushed;
	/** Needless flushes: flushes that covered no cached entry. */
	unsigned long needless_flushes;
	/** DMA reads requested. */
	unsigned long dma_reads;
	/** DMA writes requested. */
	unsigned long dma_writes;
	/** Accesses translated by the ATC. */
	unsigned long atc_hits;
	/** Accesses translated by the IOTLB (ATC miss). */
	unsigned long iotlb_hits;
	/** Walks of the CPU page table (both caches missed). */
	unsigned long walks;
	/** Page requests (PRI) sent: device faults. */
	unsigned long page_requests;
	/** Page requests after the first one of the same access: re-faults. */
	unsigned long refaults;
	/** Translation retries after a SUCCESS answer. */
	unsigned long retries;
	/** Page requests answered SUCCESS without resolving (AMDv2 during an
	 *  invalidation). */
	unsigned long unresolved_answers;
	/** Accesses aborted after mmn_iommu_config::max_faults page requests. */
	unsigned long give_ups;
	/** Accesses refused because the PASID was blocked by release. */
	unsigned long blocked;
	/** Accesses that failed with the fault handler's error (INVALID answer). */
	unsigned long invalid_answers;
	/** Accesses that completed. */
	unsigned long completed;
	/** Accesses made with #MMN_IOMMU_DMA_NO_PRI whose translation failed
	 *  (no page request sent). */
	unsigned long translation_failures;
	/**
	 * Fault latency in retries: for each completed access that needed
	 * n >= 1 page requests, bucket floor(log2(n)) (the last bucket takes
	 * everything above).
	 */
	unsigned long fault_hist[MMN_IOMMU_HIST_BUCKETS];
};

/** mmn_iommu_config_init() - fill @p cfg with the documented defaults (NULL: no-op). */
MMN_API void mmn_iommu_config_init(struct mmn_iommu_config *cfg);

/**
 * mmn_iommu_create() - an IOMMU with one ATS/PRI-capable device attached.
 * Registers an iterator with mmn_check_register_secondary() so that
 * mmn_check_quiescent() audits the IOTLB and the ATC.
 * @param sim  the simulation
 * @param cfg  configuration, copied; NULL means the defaults
 * @return the IOMMU, or NULL with errno set: EINVAL for a NULL @p sim or a
 *         field out of range, ENOMEM.
 */
MMN_API struct mmn_iommu *mmn_iommu_create(struct mmn_sim *sim,
					   const struct mmn_iommu_config *cfg);

/**
 * mmn_iommu_destroy() - unbind every PASID still bound (as
 * mmn_iommu_unbind()), unregister the audit iterator and free. No DMA may
 * be in flight. May sleep. NULL: no-op.
 */
MMN_API void mmn_iommu_destroy(struct mmn_iommu *iommu);

/**
 * mmn_iommu_bind() - iommu_sva_bind_device(): give @p mm a PASID on this
 * IOMMU and register the mode's notifier on it (mmn_notifier_register(),
 * so mmap_lock is taken for write: the caller must not hold it). May sleep.
 * @param iommu  the IOMMU
 * @param mm     the address space; the caller holds an mm_users reference
 * @param pasid  receives the PASID (>= 1)
 * @return 0; -EINVAL for NULL arguments, an mm of another simulation, or an
 *         mm with no users left; -EEXIST if @p mm is bound already (one PASID
 *         per mm; the kernel would return the same handle with one more
 *         reference); -ENOSPC when every PASID is in use; the errors of
 *         mmn_notifier_register(). On error nothing changes.
 */
MMN_API int mmn_iommu_bind(struct mmn_iommu *iommu, struct mmn_mm *mm, int *pasid);

/**
 * mmn_iommu_unbind() - iommu_sva_unbind_device(): unregister the notifier
 * (which calls release unless the mm's teardown did: the PASID is blocked
 * and its cached translations flushed), then free the PASID. The device must
 * have stopped DMA on @p pasid (the kernel's driver contract). May sleep;
 * not from a callback.
 * @return 0; -EINVAL for NULL or a PASID that is not bound.
 */
MMN_API int mmn_iommu_unbind(struct mmn_iommu *iommu, int pasid);

/**
 * mmn_iommu_dma_read() - a device load of one word at @p addr in the address
 * space bound to @p pasid: ATC → IOTLB → walk of the CPU table → page request
 * (PRI) and retry, at most mmn_iommu_config::max_faults page requests. May
 * sleep (the page request takes mmap_lock); no lock may be held.
 * @param iommu  the IOMMU
 * @param pasid  the PASID of the address space
 * @param addr   user virtual address
 * @param val    receives the word
 * @return 0; -EINVAL for NULL arguments or a PASID that is not bound;
 *         -EFAULT when the PASID was blocked by release (counted in
 *         mmn_iommu_stats::blocked), when @p addr is outside user space or
 *         outside any VMA; -EACCES when the VMA forbids the access; -ENOMEM
 *         when the fault needs a frame and none is left; -EIO when the device
 *         gave up after max_faults page requests.
 */
MMN_API int mmn_iommu_dma_read(struct mmn_iommu *iommu, int pasid, unsigned long addr,
			       uint64_t *val);

/**
 * mmn_iommu_dma_write() - a device store of @p val at @p addr; as
 * mmn_iommu_dma_read(), a translation must allow writes (a read-only entry
 * makes a write page request, which breaks COW).
 * @param iommu  the IOMMU
 * @param pasid  the PASID of the address space
 * @param addr   user virtual address
 * @param val    the word stored
 * @return as mmn_iommu_dma_read() (-EINVAL for a NULL @p iommu).
 */
MMN_API int mmn_iommu_dma_write(struct mmn_iommu *iommu, int pasid, unsigned long addr,
				uint64_t val);

/** mmn_iommu_dma() flag: a store (default: a load). */
#define MMN_IOMMU_DMA_WRITE 0x1u
/**
 * mmn_iommu_dma() flag: the device sends no page request (PRI disabled, or
 * a context that cannot wait for one): a translation that misses both
 * caches and finds no usable entry in the walk fails with -ENXIO. Never
 * sleeps, takes no lock of the mm: usable from a scheduling-point hook.
 */
#define MMN_IOMMU_DMA_NO_PRI 0x2u

/**
 * mmn_iommu_dma() - one device access with flags; mmn_iommu_dma_read() and
 * mmn_iommu_dma_write() are this function without #MMN_IOMMU_DMA_NO_PRI.
 * @param iommu  the IOMMU
 * @param pasid  the PASID of the address space
 * @param addr   user virtual address
 * @param flags  MMN_IOMMU_DMA_* bits
 * @param val    the word to store, or receives the word loaded
 * @return as mmn_iommu_dma_read(); -EINVAL also for unknown @p flags;
 *         -ENXIO for a failed translation with #MMN_IOMMU_DMA_NO_PRI.
 */
MMN_API int mmn_iommu_dma(struct mmn_iommu *iommu, int pasid, unsigned long addr,
			  unsigned int flags, uint64_t *val);

/**
 * mmn_iommu_pasid_invalidating() - AMDv2 mode: the number of
 * invalidate_range_start calls on @p pasid's mm not yet ended (the PASID
 * points at the empty table while it is non-zero); always 0 in SVA mode.
 * @return the count, or -EINVAL for NULL or an unbound PASID.
 */
MMN_API int mmn_iommu_pasid_invalidating(struct mmn_iommu *iommu, int pasid);

/**
 * mmn_iommu_pasid_blocked() - whether release blocked @p pasid.
 * @return 1 blocked, 0 live, -EINVAL for NULL or an unbound PASID.
 */
MMN_API int mmn_iommu_pasid_blocked(struct mmn_iommu *iommu, int pasid);

/**
 * mmn_iommu_get_stats() - copy the counters of @p iommu into @p out.
 * @return 0, -EINVAL for NULL.
 */
MMN_API int mmn_iommu_get_stats(struct mmn_iommu *iommu, struct mmn_iommu_stats *out);

/**
 * mmn_iommu_ops() - the notifier ops table a mode registers (static,
 * read-only), e.g. to build a variant in a test.
 * @return the table, or NULL for an unknown @p mode.
 */
MMN_API const struct mmn_notifier_ops *mmn_iommu_ops(enum mmn_iommu_mode mode);

/** mmn_iommu_cb_name() - "arch_invalidate_secondary_tlbs", ... or "unknown". */
MMN_API const char *mmn_iommu_cb_name(enum mmn_iommu_cb cb);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_LISTENERS_IOMMU_H */
