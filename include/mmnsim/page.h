/* SPDX-License-Identifier: MIT */
/**
 * @file page.h
 * @brief Physical frames (struct page / folio): refcount, mapcount, flags,
 *        a generation bumped on every free, and one content word.
 *
 * Frames are named by their page frame number (pfn). pfn 0 is the shared
 * zero page: never allocated, never freed, always reads 0. Freed frames are
 * re-used last-in first-out, as the kernel's per-CPU page lists do, so that
 * an access through a stale translation lands on a frame that already
 * belongs to someone else.
 *
 * Translations (CPU TLB entries and, through this API, every secondary
 * translation of a listener) record the pfn *and its generation*; an access
 * made with a generation that is no longer the frame's is a use-after-free,
 * reported as MMN_VIOL_USE_AFTER_FREE and still performed, as the hardware
 * would.
 */
#ifndef MMNSIM_PAGE_H
#define MMNSIM_PAGE_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;

#define MMN_PAGE_SHIFT 12                        /**< log2 of the page size */
#define MMN_PAGE_SIZE (1UL << MMN_PAGE_SHIFT)    /**< a 4 KiB page */
#define MMN_PAGE_MASK (~(MMN_PAGE_SIZE - 1))     /**< rounds an address down to its page */
#define MMN_PMD_SHIFT 21                         /**< log2 of the span of a PMD entry */
#define MMN_PMD_SIZE (1UL << MMN_PMD_SHIFT)      /**< a 2 MiB huge page */
#define MMN_PMD_MASK (~(MMN_PMD_SIZE - 1))       /**< rounds an address down to 2 MiB */
#define MMN_PUD_SHIFT 30                         /**< log2 of the span of a PUD entry */
#define MMN_PUD_SIZE (1UL << MMN_PUD_SHIFT)      /**< span of a PUD entry: 1 GiB */
#define MMN_PUD_MASK (~(MMN_PUD_SIZE - 1))       /**< rounds an address down to 1 GiB */
#define MMN_PGDIR_SHIFT 39                       /**< log2 of the span of a PGD entry */
#define MMN_PGDIR_SIZE (1UL << MMN_PGDIR_SHIFT)  /**< span of a PGD entry: 512 GiB */
/** Subpages of a 2 MiB huge page. */
#define MMN_HPAGE_NR (1UL << (MMN_PMD_SHIFT - MMN_PAGE_SHIFT))

/** The shared zero page. */
#define MMN_ZERO_PFN 0UL

/** Page flags (a subset of the kernel's PG_* and page types). */
enum mmn_page_flag {
	MMN_PG_FREE = 1u << 0,      /**< in the free pool */
	MMN_PG_ZERO = 1u << 1,      /**< the shared zero page */
	MMN_PG_TABLE = 1u << 2,     /**< a page-table page (PageTable) */
	MMN_PG_ANON = 1u << 3,      /**< anonymous private memory (PageAnon) */
	MMN_PG_SHMEM = 1u << 4,     /**< shared memory object page (page cache) */
	MMN_PG_HEAD = 1u << 5,      /**< head of a 2 MiB huge page (PageHead) */
	MMN_PG_TAIL = 1u << 6,      /**< tail of a 2 MiB huge page (PageTail) */
	MMN_PG_HUGETLB = 1u << 7,   /**< hugetlbfs page */
	MMN_PG_DIRTY = 1u << 8,     /**< PG_dirty */
	MMN_PG_LOCKED = 1u << 9,    /**< PG_locked (folio lock) */
	MMN_PG_STABLE = 1u << 10,   /**< oracle: content must not change now */
	MMN_PG_KSM = 1u << 11,      /**< a KSM page (PageKsm): merged, never reused by a write */
	MMN_PG_DEVICE_PRIVATE = 1u << 12, /**< a device-private page of a struct mmn_dev_pagemap (device.h) */
	/** oracle: unmapped at a clear-flush site while the profile defers the
	 *  secondary-TLB flush; freeing it before the flush is a protocol
	 *  violation (seed 000) */
	MMN_PG_SECFLUSH_OWED = 1u << 13,
	MMN_PG_IDLE = 1u << 14,     /**< PG_idle (page_idle, DAMON; lib/ops/aging.c) */
	MMN_PG_YOUNG = 1u << 15,    /**< PG_young: accessed while idle tracking cleared the PTE bit */
	/** an anonymous page fork shared copy-on-write: no longer
	 *  PageAnonExclusive (5.19+ page_try_dup_anon_rmap()); cleared when a
	 *  write fault reuses it (profile knob cow_reuse_anon_exclusive) */
	MMN_PG_ANON_SHARED = 1u << 16,
	/** oracle: write-protected by fork until its late TLB flush: a device
	 *  (secondary) store is a lost write; a CPU store through a stale TLB
	 *  entry is the kernel's accepted fork-versus-threads race */
	MMN_PG_FORK_WP = 1u << 17,
	/** PG_hwpoison: memory_failure() poisoned it (memory_failure.h); it
	 *  keeps that call's reference and is never reused */
	MMN_PG_HWPOISON = 1u << 18,
};

/**
 * A snapshot of one frame, for tests and audits. For a subpage of a 2 MiB
 * huge page, @c refcount, @c mapcount, @c pincount and @c gen are the head
 * page's; @c flags and @c content are the subpage's own.
 */
struct mmn_page_info {
	unsigned long pfn; /**< the frame asked for */
	int refcount;      /**< page_ref_count() */
	int mapcount;      /**< page_mapcount(): PTE/PMD mappings */
	int pincount;      /**< FOLL_PIN references (mmn_get_user_pages()) */
	unsigned int flags; /**< enum mmn_page_flag bits */
	uint32_t gen;      /**< bumped on every free */
	uint64_t content;  /**< the page's one data word */
};

/**
 * mmn_page_info() - snapshot frame @p pfn.
 * @return 0, -EINVAL for a NULL argument or a pfn out of range.
 */
MMN_API int mmn_page_info(const struct mmn_sim *sim, unsigned long pfn,
			  struct mmn_page_info *out);

/** mmn_page_gen() - the frame's generation now (0 for a pfn out of range). */
MMN_API uint32_t mmn_page_gen(const struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_alloc_page() - alloc_page(): take the frame freed last from the free
 * pool (LIFO, as the kernel's per-CPU lists hand out the hottest page), zeroed,
 * with refcount 1 and @p flags (MMN_PG_*). Never a scheduling point. Release
 * it with mmn_put_page().
 * @return its pfn, or 0 when the pool is empty (pfn 0 is the zero page,
 *         never allocated), @p sim is NULL or @p flags has MMN_PG_FREE or
 *         MMN_PG_ZERO.
 */
MMN_API unsigned long mmn_alloc_page(struct mmn_sim *sim, unsigned int flags);

/**
 * mmn_get_page() - get_page(): take a reference on an allocated frame.
 * @return 0, -EINVAL out of range, -ENOENT if the frame is free (a
 *         get_page() on a free page is a kernel bug; it is also reported as
 *         MMN_VIOL_ACCOUNTING).
 */
MMN_API int mmn_get_page(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_put_page() - put_page(): drop a reference; the last one frees the
 * frame (its generation moves). The zero page is never freed.
 * @return 0, -EINVAL out of range, -ENOENT for a free frame (reported).
 */
MMN_API int mmn_put_page(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_phys_access() - a device or secondary-MMU access to frame @p pfn made
 * through a translation that recorded generation @p gen.
 * @param sim    the simulation
 * @param pfn    the frame accessed
 * @param gen    the generation the translation recorded (compared with the
 *               frame's generation now)
 * @param addr   virtual address the translation was for (for the report)
 * @param write  true: store *@p val; false: load into *@p val
 * @param val    the word to store, or receives the word loaded
 * @return 0 (the access is performed even when it is a use-after-free,
 *         which is then reported), -EINVAL for a NULL @p val or @p sim or a
 *         pfn out of range.
 *
 * Accesses to a 2 MiB huge page name the subpage's pfn. A store to the zero
 * page is not performed: it is reported as MMN_VIOL_ACCOUNTING and 0 is
 * returned.
 */
MMN_API int mmn_phys_access(struct mmn_sim *sim, unsigned long pfn, uint32_t gen,
			    unsigned long addr, bool write, uint64_t *val);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_PAGE_H */
