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
 *
 * Every function here that takes an mm and returns an errno refuses a
 * torn-down mm (mm_users 0, kept allocated by mmn_mmgrab(); see mm.h) with
 * -EINVAL, exactly as it refuses a NULL one.
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
	MMN_OP_WRITEBACK,      /**< mmn_file_writeback() (folio_mkclean) */
	MMN_OP_UNMAP_MAPPING,  /**< unmap_mapping_range(): truncate, hole punch, MADV_REMOVE */
	MMN_OP_AGING,          /**< accessed-bit aging (folio_referenced, page_idle, DAMON) */
	MMN_OP_UFFD_WP,        /**< mmn_uffd_writeprotect() (UFFDIO_WRITEPROTECT) */
	MMN_OP_UFFD_MOVE,      /**< mmn_uffd_move() (UFFDIO_MOVE) */
	MMN_OP_PAGEMAP_SCAN,   /**< mmn_pagemap_scan() (PAGEMAP_SCAN) */
	MMN_OP_MEMORY_FAILURE, /**< mmn_memory_failure() */
	MMN_OP_NR              /**< number of operations (not an operation) */
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

/* ---- protection changes (lib/ops/mprotect.c) ---- */

/**
 * mmn_mprotect() - mprotect() (mprotect_fixup() → change_protection()),
 * event MMN_NOTIFY_PROTECTION_VMA (UNMAP as listeners see it before 5.2).
 *
 * Takes mmap_lock for write. For each VMA: unchanged protection returns
 * early without notifying, as mprotect_fixup() does; otherwise the VMA is
 * split at the edges (hugetlb: on 2 MiB boundaries only), its flags change,
 * and change_protection() walks the page tables, issuing
 * invalidate_range_start lazily at the first populated PMD entry (range from
 * there to the end of the range inside that PUD entry: change_pmd_range(),
 * 4.x-6.8; one pair per VMA below 1 GiB), changing each entry under its PTL
 * (ptep_modify_prot_start/commit), then invalidate_range_end; the CPU TLB
 * flush (one tlb_finish_mmu for the call, 6.x; flush_tlb_range() per VMA
 * before) comes after end. Removing write clears MMN_PTE_WRITE; PROT_NONE
 * makes entries MMN_PTE_PROTNONE (still mapped); adding write to a private
 * VMA makes only exclusively owned anonymous pages writable (6.0+
 * can_change_pte_writable(); older kernels left them all read-only): a
 * shared COW page or the zero page stays read-only and is a false positive
 * (mmn_op_stats::pages_unchanged). Hugetlb VMAs follow
 * hugetlb_change_protection(): one start over the range (widened to the PUD
 * area for a shared mapping where the profile has pmd_share_widen), the PMD
 * leaves under the PMD lock, flush_tlb_range() *before* end, and
 * invalidate_range_only_end() (4.15-6.5); with the object's i_mmap_rwsem
 * held for write, a PMD table shared with another mm is not changed but
 * unshared (huge_pmd_unshare(): this mm's PUD entry cleared, its whole
 * 1 GiB area refaults later) and the flush then covers the PUD area.
 * @param mm    the address space
 * @param addr  page-aligned start
 * @param len   length, rounded up to pages (0: nothing to do, returns 0)
 * @param prot  MMN_PROT_* bits
 * @return 0; -EINVAL for NULL, a misaligned @p addr, unknown @p prot bits, or
 *         a hugetlb VMA that would be split off its 2 MiB alignment;
 *         -ENOMEM for a range that overflows or leaves user space (as Linux),
 *         when part of the range is not mapped (nothing is changed then,
 *         unlike Linux, which may have changed a prefix) or when the host
 *         cannot allocate the split VMAs.
 */
MMN_API int mmn_mprotect(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot);

/**
 * mmn_change_prot_numa() - change_prot_numa() (task_numa_work()): make the
 * present entries of [@p addr, @p addr + @p len) PROT_NONE hinting entries
 * (MMN_PTE_PROTNONE) so the next access faults and can be counted, event
 * MMN_NOTIFY_PROTECTION_VMA (3.x-latest; NUMA hinting).
 *
 * mmap_lock for read (task_numa_work() holds it so); per VMA an mmu_gather
 * and change_protection(MM_CP_PROT_NUMA) with the same lazy start as
 * mmn_mprotect(), then tlb_finish_mmu (F1 after end). Only private
 * anonymous, non-hugetlb, accessible VMAs are changed (the others are not
 * migratable or not accessible and are skipped, unnotified). Entries
 * already PROT_NONE, the zero page and shared COW pages are left alone but
 * lie in the notified range: false positives. The next CPU access or GUP
 * restores the entry (do_numa_page(), counted in mmn_stats::faults_numa).
 * @param mm    the address space
 * @param addr  page-aligned start
 * @param len   length, rounded up to pages (0: nothing to do)
 * @return 0, -EINVAL for NULL, misalignment or overflow, -ENOMEM when part of
 *         the range is not mapped (nothing is changed then).
 */
MMN_API int mmn_change_prot_numa(struct mmn_mm *mm, unsigned long addr, unsigned long len);

/* ---- madvise (lib/ops/madvise.c) ---- */

/** madvise(MADV_DONTNEED): zap the range (zap_page_range_single, CLEAR). */
#define MMN_MADV_DONTNEED 4
/** madvise(MADV_FREE): lazily free clean private anonymous pages (CLEAR). */
#define MMN_MADV_FREE 8
/** madvise(MADV_REMOVE): punch a hole in a shared mapping's object
 *  (lib/ops/truncate.c, unmap_mapping_range(): CLEAR per mapping). */
#define MMN_MADV_REMOVE 9
/** madvise(MADV_HUGEPAGE): make private anonymous VMAs THP-eligible (no notification). */
#define MMN_MADV_HUGEPAGE 14
/** madvise(MADV_NOHUGEPAGE): no THP faults or collapse in the VMAs (no notification). */
#define MMN_MADV_NOHUGEPAGE 15

/**
 * mmn_madvise() - madvise() with MMN_MADV_DONTNEED or MMN_MADV_FREE.
 *
 * mmap_lock for read; then per VMA the range clipped to it gets its own
 * bracket. DONTNEED (zap_page_range_single()): an mmu_gather,
 * invalidate_range_start (CLEAR; hugetlb ranges widened for PMD sharing
 * where the profile has it), the zap under each PTL, end, then
 * tlb_finish_mmu (CPU flush, then the pages are freed). A hugetlb PMD table
 * shared with another mm is unshared instead of zapped (huge_pmd_unshare():
 * the whole PUD-aligned 1 GiB of this mm goes, the PUD range is flushed
 * before i_mmap_rwsem is dropped; without pmd_share_widen a listener is told
 * only about the range asked for: seed 002). Hugetlb (5.18+
 * rules): the clipped start must be 2 MiB aligned, the end is rounded down.
 * FREE (madvise_free_single_vma()): the same bracket over private anonymous
 * memory; under each PTL every anonymous page mapped only here loses
 * PG_dirty and, if its entry is young or dirty, the entry is re-set old and
 * clean and recorded in the gather; shared pages and the zero page are left
 * as they were (false positives); end; tlb_finish_mmu (F1). The lazily
 * freeable pages stay mapped: reclaim dropping them is not modelled.
 * @param mm      the address space
 * @param addr    page-aligned start
 * @param len     length, rounded up to pages (0: nothing to do)
 * HUGEPAGE / NOHUGEPAGE (hugepage_madvise(), lib/ops/madvise.c): mmap_lock
 * for write, the VMAs whose flag changes split at the edges (a THP
 * straddling an edge is split first, mmn_split_huge_pmd()), the VMA flag set
 * (and the opposite one cleared); no notification. HUGEPAGE makes private
 * anonymous 4 KiB VMAs THP-eligible: a fault maps a 2 MiB THP by a PMD leaf
 * where the aligned area fits in the VMA and a huge page is free.
 * @param advice  MMN_MADV_DONTNEED, MMN_MADV_FREE, MMN_MADV_HUGEPAGE or
 *                MMN_MADV_NOHUGEPAGE
 * @return 0; -EINVAL for NULL, misalignment, overflow, an unknown @p advice,
 *         MADV_FREE on a shared or hugetlb mapping, or DONTNEED from a
 *         misaligned address inside a hugetlb VMA; -ENOMEM when part of the
 *         range is not mapped (or, HUGEPAGE/NOHUGEPAGE, when no frame is
 *         left to split a THP at an edge). Nothing changes on error (Linux
 *         may have advised a prefix before failing).
 */
MMN_API int mmn_madvise(struct mmn_mm *mm, unsigned long addr, unsigned long len, int advice);

/* ---- soft-dirty (lib/ops/softdirty.c) ---- */

/**
 * mmn_clear_refs_soft_dirty() - clear_refs_write() type 4
 * ("echo 4 > /proc/PID/clear_refs"), event MMN_NOTIFY_SOFT_DIRTY over
 * [0, ULONG_MAX) (3.11-latest; UNMAP as listeners see it before 5.2).
 *
 * mmap_lock for read; invalidate_range_start; under each PTE table's PTL
 * every present entry is write-protected and loses MMN_PTE_SOFT_DIRTY
 * (clear_soft_dirty(): ptep_modify_prot_start/commit; an anonymous page that
 * may be pinned keeps its entry), swap-style entries lose their soft-dirty
 * bit; invalidate_range_end; then flush_tlb_mm() (F1 after end). The next
 * store to such a page faults and sets soft-dirty again. Entries that were
 * clean and read-only stay as they were inside the notified range: false
 * positives (mmn_op_stats::pages_unchanged), as are hugetlb leaves, which
 * the walk does not visit.
 * @param mm  the address space
 * @return 0, -EINVAL for NULL.
 */
MMN_API int mmn_clear_refs_soft_dirty(struct mmn_mm *mm);

/* ---- OOM reaper (lib/ops/oom.c) ---- */

/**
 * mmn_oom_reap() - the OOM reaper on @p mm: __oom_reap_task_mm() (4.19-6.x,
 * event MMN_NOTIFY_UNMAP) or zap_vma_for_reaping() (mm tree 2025+, event
 * MMN_NOTIFY_CLEAR; profile knob oom_reap_clear).
 *
 * mmap_read_trylock (the reaper never waits for mmap_lock). For each
 * reapable VMA (private, not hugetlb; shared memory is not dropped): an
 * mmu_gather, invalidate_range_start_nonblock over the VMA; if a subscriber
 * refuses (-EAGAIN) the gather is finished, end is not called and the VMA
 * is skipped; else the VMA is zapped under its PTLs, end, tlb_finish_mmu
 * (F1, then the pages are freed). Profiles without nonblock (before 4.19):
 * an mm with notifiers is not reaped at all (every reapable VMA is counted
 * skipped), one without is zapped without notification. The mm stays alive
 * and its VMAs stay; only their pages go.
 * @param mm       the address space (the caller holds a reference)
 * @param skipped  receives the number of VMAs skipped (the kernel's reaper
 *                 would retry later); may be NULL
 * @return 0 (also when VMAs were skipped); -EINVAL for NULL @p mm;
 *         -EAGAIN when mmap_lock is contended (nothing done).
 */
MMN_API int mmn_oom_reap(struct mmn_mm *mm, unsigned long *skipped);

/* ---- mremap (lib/ops/mremap.c) ---- */

/** mremap(MREMAP_MAYMOVE): the mapping may move. */
#define MMN_MREMAP_MAYMOVE 1
/** mremap(MREMAP_FIXED): move to exactly @p new_addr (needs MAYMOVE). */
#define MMN_MREMAP_FIXED 2

/**
 * mmn_mremap() - mremap() of part or all of one VMA.
 *
 * Takes mmap_lock for write. Shrinking unmaps the tail (as munmap). Growing
 * extends the VMA in place when the space above is free; otherwise, with
 * MMN_MREMAP_MAYMOVE, and always with MMN_MREMAP_FIXED, the range moves
 * (move_vma() → move_page_tables()): invalidate_range_start(UNMAP, old
 * range), then per PTE table the old PTL and the new one (nested), entries
 * moved (get_and_clear old, set new), and when a present entry was moved a
 * CPU flush of the old range *before* the PTLs are dropped if the profile
 * has mremap_flush_under_ptl (4.19+, the CVE-2018-18281 fix) or after
 * (older: the window in which a stale TLB entry outlives the PTL);
 * invalidate_range_end; then the old range is unmapped as by munmap (a
 * second, empty UNMAP notification, as do_vmi_munmap() issues) and the new
 * VMA has the same flags, shared object and page offset. MAP_FIXED-like: a
 * FIXED target replaces what was mapped there (munmap first). The page
 * index of moved anonymous pages is not updated (the kernel keeps it too;
 * rmap uses the VMA's pgoff).
 *
 * A hugetlb VMA follows the profile's mremap_hugetlb (docs/profiles.md):
 * 5.17+ rounds both lengths up to 2 MiB, wants both addresses 2 MiB aligned
 * and no growth, and moves with MMN_MREMAP_FIXED by
 * move_hugetlb_page_tables(): one CLEAR range over the old range (widened
 * to the PUD area when its PMD table may be shared), a shared PMD table
 * unshared rather than moved, the CPU flush after the PMD locks, then end;
 * older profiles only shrink (munmap of the tail) and refuse the rest with
 * -EINVAL, a FIXED target being unmapped first, as vma_to_resize() did.
 * @param mm        the address space
 * @param old_addr  page-aligned start of the range to remap
 * @param old_len   its length, rounded up to pages
 * @param new_len   new length, rounded up to pages
 * @param flags     0 or MMN_MREMAP_MAYMOVE [| MMN_MREMAP_FIXED]
 * @param new_addr  target with MMN_MREMAP_FIXED (page aligned), else ignored
 * @param out_addr  receives the address of the mapping now (may be NULL)
 * @return 0; -EINVAL for NULL or a torn-down @p mm, misalignment, unknown
 *         flags, FIXED without MAYMOVE, a zero @p old_len or @p new_len,
 *         overlapping old and new ranges with FIXED, a FIXED range that
 *         leaves user space (as the kernel's mremap_to() refuses a new range
 *         past TASK_SIZE, 2.4-6.x), or a hugetlb VMA the profile cannot
 *         remap that way (above); -EFAULT when the old
 *         range is not inside one VMA; -ENOMEM when it cannot grow in place
 *         without MAYMOVE, no free range is large enough, or the host cannot
 *         allocate; -EPERM for a FIXED target below
 *         MMN_MMAP_MIN_ADDR. A shared mapping cannot grow past its shared
 *         object (fixed size in the model; Linux would map it and SIGBUS on
 *         access): -EINVAL. Nothing changes on error (except after a host
 *         allocation failure once a FIXED target was unmapped).
 */
MMN_API int mmn_mremap(struct mmn_mm *mm, unsigned long old_addr, unsigned long old_len,
		       unsigned long new_len, int flags, unsigned long new_addr,
		       unsigned long *out_addr);

/* ---- fork (lib/ops/fork.c) ---- */

/**
 * mmn_fork() - fork()'s dup_mm() → dup_mmap() → copy_page_range() (all
 * versions; events 5.2+, write_protect_seq 5.9+).
 *
 * Takes @p parent's mmap_lock for write (and the new mm's, nested). Creates
 * the child mm (mm_users 1) and copies every VMA: shared mappings share the
 * object, private ones join the parent VMA's anon_vma (one anon_vma per
 * mapping family: a simplification of the kernel's anon_vma chains). Then,
 * per VMA, copy_page_range():
 *
 *   private (COW) VMA:  S(PROTECTION_PAGE, the VMA) → write_protect_seq
 *                       begin → per PTE table: L(child), L(parent, nested),
 *                       ptep_set_wrprotect() on the parent, the child maps
 *                       the same page read-only and old, refcount and
 *                       mapcount +1 (zero page, swap and migration entries
 *                       copied, a writable migration entry becomes
 *                       read-only in both) → U, U → seq end → E
 *   private hugetlb VMA: S(CLEAR, the VMA) → per PMD leaf: L, L: the child
 *                       gets an eager copy in a new huge page (the kernel
 *                       shares it copy-on-write; copying is the documented
 *                       simplification, the parent's entry is left as it
 *                       was) → U, U → E
 *   shared VMA:         no notification; entries copied as they are
 *                       (a shared hugetlb VMA spanning a PUD-aligned 1 GiB
 *                       area shares the parent's PMD table instead:
 *                       huge_pte_alloc() → huge_pmd_share(), nothing copied)
 *                       (refcount and mapcount +1)
 *
 * and only after every VMA, flush_tlb_mm(parent) (F1, with F2 in 6.6+
 * profiles), i.e. after E: the late flush of kernel/fork.c dup_mmap(). Pre-6.6 profiles flush secondary TLBs at E. The counters
 * (mmn_op_stats) count each parent entry write-protected as changed and
 * every other populated entry of a notified range as unchanged. Entries of
 * the device kinds (device-exclusive, device-private) and pinned pages are
 * copied like others, without the kernel's special cases (eager copy of
 * pinned anonymous pages, restoring exclusive entries).
 * @param parent  the address space to copy
 * @param child   receives the new address space
 * @return 0; -EINVAL for NULL; -ENOMEM when frames, huge pages or host
 *         memory run out: the child is torn down (exit_mmap), *@p child is
 *         untouched, and the parent keeps the write-protection already done
 *         (as the kernel does: harmless, the next write faults and reuses
 *         the page); accounting stays exact.
 */
MMN_API int mmn_fork(struct mmn_mm *parent, struct mmn_mm **child);

/* ---- reclaim (lib/ops/reclaim.c) ---- */

/**
 * mmn_try_to_unmap() - reclaim the pages mapped in [@p addr, @p addr + @p len)
 * of @p mm as shrink_folio_list() does with each (all versions).
 *
 * For each page (4 KiB anonymous or shmem; hugetlb, KSM, zero-page and
 * pinned pages are left alone): take the reclaimer's reference (isolation,
 * under mmap_lock for read, which is then dropped), lock the page, give an
 * anonymous page a swap slot, then rmap_walk() → try_to_unmap_one() on every
 * mapping in any mm:
 *
 *   S(CLEAR, the page) → L → get_and_clear + flush (ptep_clear_flush: F1,
 *   with F2 inside in 6.6+, + ->invalidate_range under the PTL in
 *   call_sites profiles) → dirty bit to the page → anonymous: install a
 *   swap entry (MMN_SWP_SWAP) → remove the rmap, drop the mapping's
 *   reference (not the last: the reclaimer holds one) → U → E
 *
 * (4.12 profile, invalidate_page: no S/E; ->invalidate_page after U.) Then
 * the content goes to the swap slot (shmem: the page leaves the page cache
 * for a shmem swap slot), the page is unlocked and the reclaimer's reference
 * dropped: the frame is freed, after every flush. With the knob
 * put_page_before_secondary_flush the page is written out and its last
 * reference dropped inside try_to_unmap_one() of its last mapping, right
 * after the entry is cleared (before U and E): with secondary_flush
 * range_end or invalidate_page a secondary TLB flushed only at E or after U
 * still translates to the free (LIFO: re-used) frame; seed 000. A later
 * access faults the content back in (do_swap_page(); shmem_swapin_folio()).
 * A mapping whose page got pinned meanwhile is left mapped and the page's
 * other mappings are restored. Shared hugetlb pages (once per huge page):
 * the rmap walk holds the object's i_mmap_rwsem for write and, for each
 * mapping, S(CLEAR, the huge page widened by
 * adjust_range_if_pmd_sharing_possible() where the profile has
 * pmd_share_widen) → L (PMD table lock) → if the PMD table is shared:
 * huge_pmd_unshare() (that mm's PUD entry cleared: its whole 1 GiB area is
 * unmapped), flush of the PUD area (F1 [+F2]), ->invalidate_range(range)
 * in call_sites profiles → U → E (seed 002); a mapping through an unshared
 * table is left alone (mmn_op_stats::skipped: hugetlb pages are not
 * reclaimed). May sleep.
 * @return 0; -EINVAL for NULL, a misaligned @p addr, a zero or overflowing
 *         range; -ENOMEM when part of the range is not mapped (nothing is
 *         done then).
 */
MMN_API int mmn_try_to_unmap(struct mmn_mm *mm, unsigned long addr, unsigned long len);

/* ---- migration (lib/ops/migrate.c) ---- */

/**
 * mmn_migrate_pages() - migrate_pages() of each 4 KiB page mapped in
 * [@p addr, @p addr + @p len) of @p mm to a new frame (migrate_folio_unmap()
 * → try_to_migrate() → move_to_new_folio() → remove_migration_ptes(); all
 * versions, try_to_migrate_one() since 5.14, try_to_unmap_one() with
 * TTU_MIGRATION before).
 *
 * Per page: reference (isolation, under mmap_lock for read), lock the
 * source (folio lock), allocate and lock the destination, then rmap_walk()
 * → try_to_migrate_one() on every mapping:
 *
 *   S(CLEAR, the page) → L → ptep_clear_flush (F1 [+F2]) → install a
 *   migration entry (MMN_SWP_MIGRATION_WRITE/READ naming the source, the
 *   soft-dirty bit kept) → remove the rmap, drop the mapping's reference →
 *   U → E          (4.12 profile: no S/E, ->invalidate_page after U)
 *
 * then the source is held stable (MMN_PG_STABLE: a store through a stale
 * translation now is a lost write), its content copied, the page cache (for
 * shmem) switched to the destination, and remove_migration_ptes() replaces
 * each migration entry by the new page under its PTL, with no notification
 * (the old entries were not present). The pages are unlocked and the source
 * freed. A CPU fault on a migration entry waits for the source's lock
 * (migration_entry_wait()) and retries. Hugetlb, KSM, zero-page and pinned
 * pages are not migrated; a page pinned during the unmap is restored. A
 * shared hugetlb page mapped through a shared PMD table gets the unshare
 * branch described at mmn_try_to_unmap() (its unshared mappings are
 * skipped: hugetlb migration entries are not modelled).
 * @return 0; -EINVAL for NULL, misalignment, a zero or overflowing range;
 *         -ENOMEM when part of the range is not mapped. Pages for which no
 *         frame is left stay where they are.
 */
MMN_API int mmn_migrate_pages(struct mmn_mm *mm, unsigned long addr, unsigned long len);

/* ---- KSM (lib/ops/ksm.c) ---- */

/**
 * mmn_ksm_merge() - ksmd merging two identical private anonymous pages:
 * try_to_merge_two_pages() → write_protect_page() on each, a content
 * compare, replace_page() of the second by the first (2.6.32-latest;
 * set_pte_at_notify()/->change_pte before 6.10).
 *
 * Under mm_a's mmap_lock for read, with page A locked: write_protect_page(A)
 * = S(CLEAR, the page) → L → ptep_clear_flush (F1 [+F2], + ->invalidate_range
 * in call_sites profiles) → refcount check (a pinned page, refcount !=
 * mapcount + 1, is refused: the entry is restored, -EBUSY) → the entry is
 * reinstalled read-only and clean → U → E; A becomes a KSM page and is held
 * stable. Then under mm_b's mmap_lock for read, with page B locked: the same
 * write_protect_page(B), B held stable, the contents compared, and
 * replace_page(B → A) = S(CLEAR, the page) → L → ptep_clear_flush →
 * [change_pte profiles: ->change_pte(new entry)] → set the read-only entry to
 * A, rmap of A +1, rmap of B -1, put B → U → E. From write-protect to
 * replace both pages are MMN_PG_STABLE: a store through a translation
 * older than the write-protect is a lost write (the oracle of check.h).
 * A write to the merged page faults and copies it (KSM pages are never
 * reused). KSM pages are not reclaimed or migrated (rmap_walk_ksm is not
 * modelled).
 * @param mm_a  address space of the page that stays (the KSM page)
 * @param a     page-aligned address of it
 * @param mm_b  address space of the page replaced
 * @param b     page-aligned address of it
 * @return 0 (also when both already map the same page); -EINVAL for NULL,
 *         misalignment, an address not in a private non-hugetlb VMA or not
 *         mapped by a present anonymous page, or the same address twice;
 *         -EAGAIN when the contents differ (nothing changes when they differ
 *         before the write-protect; if a write changed them after it, both
 *         stay write-protected, which is harmless); -EBUSY when a page is
 *         pinned (nothing changes).
 */
MMN_API int mmn_ksm_merge(struct mmn_mm *mm_a, unsigned long a, struct mmn_mm *mm_b,
			  unsigned long b);

/* ---- THP (lib/ops/thp.c) ---- */

/**
 * mmn_split_huge_pmd() - split_huge_pmd() → __split_huge_pmd(): turn the
 * anonymous THP PMD leaf mapping @p addr into a PTE table of 512 entries
 * mapping its subpages (all versions since 4.5; event 5.2+).
 *
 * Under mmap_lock for read (taken here; the internal variant runs under the
 * caller's). A PTE table is allocated first (the kernel withdraws the one
 * deposited at fault time), then:
 *
 *   S(CLEAR, the 2 MiB area) → pmd L → pmdp_invalidate(): the leaf made
 *   not present (a fault meanwhile retries) and the CPU TLB flushed for the
 *   area (F1; F2 inside it in 6.6+; no ->invalidate_range in 4.13-6.5: the
 *   anonymous case of __split_huge_pmd_locked() uses the plain
 *   pmdp_invalidate(), the PTEs map the same frames with the same bits, so
 *   a secondary TLB entry stays valid) → 512 PTEs with the leaf's
 *   write/dirty/young/soft-dirty/PROT_NONE bits → pmd_populate() → U →
 *   E (4.15-6.5: invalidate_range_only_end(), no ->invalidate_range; 4.13:
 *   end calls it; 6.6+: plain end).
 *
 * The folio stays compound (as the kernel's, until a deferred
 * split_huge_page()): its head counts every PTE mapping of any subpage
 * (mapcount and refcount +511 at the split); the 2 MiB frame goes back to
 * the huge pool when its last subpage mapping goes.
 * @param mm    the address space
 * @param addr  any address inside the THP
 * @return 0 (also when @p addr is mapped by a PTE table already or by
 *         nothing); -EINVAL for NULL or a VMA that is not private anonymous
 *         (hugetlb PMDs are not split); -EFAULT when no VMA maps @p addr or
 *         it is outside user space; -ENOMEM when no frame is left for the
 *         PTE table (nothing changes).
 */
MMN_API int mmn_split_huge_pmd(struct mmn_mm *mm, unsigned long addr);

/**
 * mmn_collapse_huge_page() - khugepaged's collapse_huge_page() (and
 * MADV_COLLAPSE's) of the 2 MiB area around @p addr: 512 small anonymous
 * pages replaced by one new THP mapped by a PMD leaf (4.x-latest order).
 *
 * The new THP is allocated first; then mmap_lock for write, the scan
 * (hpage_collapse_scan_pmd(): every one of the 512 PTEs present, mapping a
 * private anonymous, non-KSM, non-compound page mapped once with no other
 * reference and no pin; else -EAGAIN and nothing is done), the anon_vma lock
 * for write, then:
 *
 *   S(CLEAR, the 2 MiB area) → pmd L → pmdp_collapse_flush(): the PMD entry
 *   pointing at the PTE table cleared and the CPU TLB flushed (F1; F2
 *   inside it in 6.6+) → U → E (3.19-6.5: ->invalidate_range at end) →
 *   PTE L: isolate (re-check) → U → anon_vma unlock → the small pages held
 *   stable (MMN_PG_STABLE) and copied into the THP → pmd L, set_pmd_at(the
 *   leaf) → U → each small page's entry cleared, rmap -1, reference
 *   dropped (freed), stable cleared → the old PTE table freed → mmap unlock.
 *
 * If the re-check fails, the PTE table is put back (-EAGAIN). The leaf is
 * writable if the VMA is, dirty and young.
 * @param mm    the address space
 * @param addr  any address inside the 2 MiB area
 * @return 0 (also when the area is already mapped by a PMD leaf); -EINVAL
 *         for NULL, a VMA that is not private anonymous, is hugetlb, or is
 *         not THP-eligible (MMN_MADV_HUGEPAGE not given, or
 *         MMN_MADV_NOHUGEPAGE given); -ENOMEM when the area is not inside
 *         one VMA or no huge page is free; -EFAULT for an address outside
 *         user space; -EAGAIN as above.
 */
MMN_API int mmn_collapse_huge_page(struct mmn_mm *mm, unsigned long addr);

/**
 * mmn_collapse_pte_mapped_thp() - khugepaged's retraction of the PTE table
 * of a shmem/file range (mm/khugepaged.c collapse_pte_mapped_thp(), 5.4+,
 * and retract_page_tables(), 4.8+): the PTE table mapping the 2 MiB range
 * around @p addr of a shared file or shmem mapping is taken out and freed so
 * that the range can be mapped by a PMD. Under mmap_lock and i_mmap_rwsem
 * for write:
 *
 *   PTL: every present PTE must map the page cached at its index →
 *   [S(CLEAR, the 2 MiB range)] → PTL: rmap -1 per PTE (a dirty bit moves
 *   to the page) → pmd L, pmdp_collapse_flush() (F1; F2 inside it in 6.6+)
 *   → U → [E] → the table freed, the mappings' references dropped (the
 *   pages stay cached).
 *
 * The bracket is the profile knob file_collapse_notify: 6.1+ (commit
 * f268f6cf875f, "mm/khugepaged: invoke MMU notifiers in shmem/file
 * collapse paths"); the 4.12-5.14 profiles retract with no notification, so
 * a secondary MMU (KVM, an IOMMU before 6.6) keeps translations of pages
 * the primary no longer maps there. Before 5.4 only collapse_file()'s
 * retract_page_tables() existed, and it retracted empty tables; the 4.12
 * and 4.15 profiles still run this function, with those kernels' missing
 * bracket. The model's page cache holds no huge
 * pages: the copy into one (collapse_file()) is not modelled, and the next
 * fault maps the pages by PTE again (the kernel: by a PMD).
 * @param mm    the address space
 * @param addr  any address of the 2 MiB range
 * @return 0 (also when no PTE table is there, or a PMD leaf maps the range);
 *         -EINVAL for a NULL or torn-down @p mm, a VMA that is not a shared
 *         file or shmem mapping (hugetlb included) covering the whole
 *         range, or a range whose file index is not 2 MiB aligned; -EFAULT
 *         for an address outside user space; -EAGAIN when a PTE maps
 *         something else than the cached page of its index (nothing done).
 */
MMN_API int mmn_collapse_pte_mapped_thp(struct mmn_mm *mm, unsigned long addr);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_OPS_H */
