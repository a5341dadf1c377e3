/* SPDX-License-Identifier: MIT */
/**
 * @file userfaultfd.h
 * A minimal userfaultfd (lib/ops/userfaultfd.c): write-protect mode on
 * private anonymous memory (UFFDIO_REGISTER_MODE_WP, UFFDIO_WRITEPROTECT,
 * 5.7+) and UFFDIO_MOVE (6.8+).
 *
 * A userfaultfd belongs to one mm (it holds an mmgrab() on it). Registering
 * a range in WP mode marks its VMAs (VM_UFFD_WP); mmn_uffd_writeprotect()
 * then runs the change_protection() walk with MM_CP_UFFD_WP, which sets the
 * uffd-wp bit (MMN_PTE_UFFD_WP) and clears the write bit of each populated
 * entry under one lazily started PROTECTION_VMA range, as mprotect() does.
 * A CPU store (mmn_cpu_write(), or a write fault through
 * mmn_handle_mm_fault()) to such an entry is not resolved: the fault is
 * queued on the userfaultfd as a message (mmn_uffd_read_msg()) and the store
 * returns -EPERM without writing; no handler thread is needed. Un-protecting
 * clears the bit (and, per profile, makes the page writable again).
 *
 * UFFD_FEATURE_WP_ASYNC (6.7+, mmn_uffd_api()) resolves such a store in
 * the fault instead (the bit dropped, the store done), and
 * mmn_pagemap_scan() (PAGEMAP_SCAN) reports the pages written since and
 * write-protects them again.
 *
 * Not modelled: MISSING and MINOR modes, shmem and hugetlb registration
 * (5.19+), pte markers on unpopulated entries (UFFD_FEATURE_WP_UNPOPULATED),
 * the fork/remap/remove events. Fork drops the
 * registration in the child and clears the child's uffd-wp bits
 * (dup_userfaultfd() without UFFD_FEATURE_EVENT_FORK). Reclaim, migration
 * and device migration rebuild entries without the uffd-wp bit, so a page
 * swapped or migrated out and back is no longer write-protected (the kernel
 * keeps the bit in the swap and migration entries). mremap() keeps the
 * registration and the bits on the moved VMA (6.19 drops both without
 * UFFD_FEATURE_EVENT_REMAP: mremap_userfaultfd_prep(), move_ptes()).
 *
 * Profiles: the uffd_wp knob (5.14+ profiles), uffd_wp_unprotect_writable
 * and uffd_unregister_unprotects (6.5+), uffd_move and uffd_wp_async
 * (6.10, latest);
 * docs/profiles.md.
 */
#ifndef MMNSIM_USERFAULTFD_H
#define MMNSIM_USERFAULTFD_H

#include <stdbool.h>
#include <stddef.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_mm;
struct mmn_uffd;

#define MMN_UFFDIO_REGISTER_MODE_MISSING 0x1UL /**< not modelled (-EOPNOTSUPP) */
#define MMN_UFFDIO_REGISTER_MODE_WP 0x2UL      /**< write-protect faults */
#define MMN_UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES 0x2UL /**< a hole in the source is skipped */
/** UFFD_FEATURE_WP_ASYNC (6.7+): a store to a write-protected page drops
 *  the uffd-wp bit and goes on, nothing is reported (implies
 *  WP_UNPOPULATED in the kernel: pte markers, not modelled). */
#define MMN_UFFD_FEATURE_WP_ASYNC (1UL << 15)
/** PAGEMAP_SCAN: write-protect the pages found written (PM_SCAN_WP_MATCHING). */
#define MMN_PM_SCAN_WP_MATCHING 0x1UL
/** PAGEMAP_SCAN: fail with -EPERM on a VMA that is not WP_ASYNC registered. */
#define MMN_PM_SCAN_CHECK_WPASYNC 0x2UL

/** A range of written pages reported by mmn_pagemap_scan() (struct page_region). */
struct mmn_page_region {
	unsigned long start; /**< first byte */
	unsigned long end;   /**< one past the last byte */
};

/** A fault reported to the userfaultfd (struct uffd_msg, UFFD_EVENT_PAGEFAULT). */
struct mmn_uffd_msg {
	unsigned long address; /**< the faulting address, page aligned */
	bool write;            /**< always true: a store (UFFD_PAGEFAULT_FLAG_WRITE) */
	bool wp;               /**< always true: UFFD_PAGEFAULT_FLAG_WP */
};

/**
 * mmn_uffd_create() - userfaultfd(2) for @p mm: an empty context with an
 * mmgrab() on the mm.
 * @param mm   the mm (alive)
 * @param out  receives the context
 * @return 0; -EINVAL for NULL or a torn-down @p mm; -ENOMEM.
 */
MMN_API int mmn_uffd_create(struct mmn_mm *mm, struct mmn_uffd **out);

/**
 * mmn_uffd_api() - UFFDIO_API: enable features, once, before registering.
 * @param uffd      the context
 * @param features  0 or MMN_UFFD_FEATURE_WP_ASYNC
 * @return 0; -EINVAL for NULL, an unknown feature bit or a second call;
 *         -EOPNOTSUPP for WP_ASYNC in a profile without uffd_wp_async
 *         (before 6.7).
 */
MMN_API int mmn_uffd_api(struct mmn_uffd *uffd, unsigned long features);

/**
 * mmn_uffd_release() - close the userfaultfd (userfaultfd_release()):
 * under mmap_lock for write every VMA registered with it is unregistered
 * as mmn_uffd_unregister() does (the entries are un-protected in
 * uffd_unregister_unprotects profiles), the queued messages are dropped and
 * the mm is mmdrop()ped. NULL is ignored.
 * @param uffd  the context
 */
MMN_API void mmn_uffd_release(struct mmn_uffd *uffd);

/**
 * mmn_uffd_register() - UFFDIO_REGISTER (fs/userfaultfd.c
 * userfaultfd_register(), 5.7+ for WP): under mmap_lock for write, split the
 * VMAs at the edges of [@p start, @p start + @p len) and mark them
 * VM_UFFD_WP, owned by @p uffd. No page-table change, no notification.
 * @param uffd   the context
 * @param start  page aligned
 * @param len    page aligned, not 0
 * @param mode   MMN_UFFDIO_REGISTER_MODE_WP
 * @return 0; -EINVAL for NULL, a torn-down mm, an unaligned or empty range,
 *         a hole in the range, or a VMA that is not private anonymous
 *         memory (shared, file, hugetlb: refused as vma_can_userfault() does
 *         for WP before 5.19; not modelled after); -EBUSY when a VMA is
 *         registered with another userfaultfd; -EOPNOTSUPP for a mode other
 *         than WP (MISSING, MINOR: not modelled) or a profile without
 *         uffd_wp (before 5.7); -ENOMEM.
 */
MMN_API int mmn_uffd_register(struct mmn_uffd *uffd, unsigned long start, unsigned long len,
			      unsigned long mode);

/**
 * mmn_uffd_unregister() - UFFDIO_UNREGISTER: under mmap_lock for write, the
 * VMAs of the range registered with @p uffd lose the registration (split at
 * the edges). In uffd_unregister_unprotects profiles (6.5, 6.19
 * userfaultfd_clear_vma()) their entries are un-protected first as
 * mmn_uffd_writeprotect(false) does (a PROTECTION_VMA range); before (5.8-5.19)
 * the uffd-wp bits stay in the entries, inert without the VMA flag.
 * @param uffd   the context
 * @param start  page aligned
 * @param len    page aligned, not 0
 * @return 0; -EINVAL as mmn_uffd_register(); -ENOMEM.
 */
MMN_API int mmn_uffd_unregister(struct mmn_uffd *uffd, unsigned long start, unsigned long len);

/**
 * mmn_uffd_writeprotect() - UFFDIO_WRITEPROTECT (mm/userfaultfd.c
 * mwriteprotect_range() → 5.8-5.19 change_protection(), 6.5+
 * uffd_wp_range()): under mmap_lock for read, per VMA of the range,
 * change_protection() with MM_CP_UFFD_WP (@p wp) or MM_CP_UFFD_WP_RESOLVE:
 * gather → S(PROTECTION_VMA) lazily per PUD entry (per P4D in 6.12+, as
 * mmn_mprotect()) → per PTE table: L, each populated entry (present, PROT_NONE
 * or swap-style) gets or loses MMN_PTE_UFFD_WP, protecting clears the write
 * bit (a writable migration/device entry becomes a read one), U → E →
 * tlb_finish_mmu() F1 (+F2). Anonymous THP leaves are changed whole under
 * the PMD lock. Un-protecting leaves the entry read-only (5.8-5.19) or
 * makes an exclusive anonymous page of a writable VMA writable
 * (uffd_wp_unprotect_writable, 6.5+ MM_CP_TRY_CHANGE_WRITABLE). Empty
 * entries are left empty (no pte markers). Counted as MMN_OP_UFFD_WP.
 * @param uffd   the context
 * @param start  page aligned
 * @param len    page aligned, not 0
 * @param wp     true: protect; false: un-protect
 * @return 0; -EINVAL for NULL, a torn-down mm, an unaligned, empty or
 *         wrapping range; -ENOENT when a part of the range is not mapped by
 *         a VMA registered in WP mode with @p uffd (a range over several
 *         such VMAs is accepted in every era, as 6.5+ do; 5.8-5.19 want
 *         one VMA); -EOPNOTSUPP in a profile without uffd_wp.
 */
MMN_API int mmn_uffd_writeprotect(struct mmn_uffd *uffd, unsigned long start, unsigned long len,
				  bool wp);

/**
 * mmn_uffd_move() - UFFDIO_MOVE (6.8+; mm/userfaultfd.c move_pages() →
 * move_pages_ptes() → move_present_ptes() / move_zeropage_pte(), 6.19
 * read): move the anonymous pages of [@p src, @p src + @p len) to the empty
 * [@p dst, @p dst + @p len) of the same mm without copying. Under mmap_lock
 * for read (6.19 tries per-VMA locks first, not modelled), per step:
 * S(CLEAR over the rest of the source, [src, src + len)) → the first page's
 * folio lock → both PTLs in address order (double_pt_lock()) → recheck →
 * per page, while the next pair of the same two PTE tables qualifies
 * (check_ptes_for_batched_move(): empty destination, present exclusive
 * small page, folio trylock): source entry cleared, the folio's anon_vma
 * and index moved to the destination VMA (folio_move_anon_rmap(),
 * folio->index = linear_page_index()), destination entry writable, dirty if
 * the source was, soft-dirty, folio unlocked → one CPU flush of the moved
 * source extent (F1 (+F2)) → U, U → E. The zero page moves alone, flushed at
 * once. Counted as MMN_OP_UFFD_MOVE (ranges: one per step).
 * @param uffd   the context; the destination VMA must be registered with it
 * @param dst    page aligned
 * @param src    page aligned
 * @param len    page aligned, not 0
 * @param mode   0 or MMN_UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES
 * @return the bytes moved (len on success; fewer when a page fails after
 *         others moved, as the kernel's ioctl reports in uffdio_move.move);
 *         -EINVAL for NULL, a torn-down mm, an unaligned, empty or wrapping
 *         range, an unknown mode bit, ranges that overlap or leave their VMA,
 *         VMAs that are not private anonymous, not writable, of different
 *         protection, or a destination not registered with @p uffd;
 *         -ENOENT when the source has no VMA or (without ALLOW_SRC_HOLES) a
 *         page of it is not populated; -EEXIST when a destination entry is
 *         not empty; -EBUSY for a page that is not exclusively mapped
 *         (fork shared it, KSM, a THP: not split here), pinned, or not a
 *         present entry (swap, migration, device); -EOPNOTSUPP in a profile
 *         without uffd_move (before 6.8); -ENOMEM.
 */
MMN_API long mmn_uffd_move(struct mmn_uffd *uffd, unsigned long dst, unsigned long src,
			   unsigned long len, unsigned long mode);

/**
 * mmn_pagemap_scan() - ioctl(PAGEMAP_SCAN) on /proc/pid/pagemap with
 * category_mask = return_mask = PAGE_IS_WRITTEN (6.7+; fs/proc/task_mmu.c
 * do_pagemap_scan(), pagemap_scan_test_walk(), pagemap_scan_pmd_entry(),
 * pagemap_scan_thp_entry(), make_uffd_wp_pte(); 6.19 read): the ranges of
 * written pages (a populated entry without the uffd-wp bit) of
 * [@p start, @p start + @p len), merged. With MMN_PM_SCAN_WP_MATCHING they
 * are write-protected as they are reported, in VMAs registered in WP mode
 * with a WP_ASYNC userfaultfd (others are skipped, or -EPERM with
 * MMN_PM_SCAN_CHECK_WPASYNC). Under mmap_lock for read: (WP_MATCHING)
 * S(PROTECTION_VMA, [start, end)) → per PTE table: L, each written entry
 * reported and given the uffd-wp bit with write cleared, the changed
 * extent flushed (F1 (+F2)) under the PTL, U → E. A THP leaf covered
 * whole is protected whole and flushed under the PMD lock, a part of one
 * is split first. Empty entries are neither reported nor marked (the
 * kernel installs uffd-wp pte markers; a later read fault here maps the
 * zero page unprotected, reported as written: a false positive). With
 * @p vec NULL and @p vec_len 0 every written page is protected and none
 * reported (the kernel's exclusive-WP fast path). When @p vec is full the
 * walk stops at the next written page (*@p walk_end), which stays
 * unprotected. Counted as MMN_OP_PAGEMAP_SCAN.
 * @param mm        the mm
 * @param start     page aligned
 * @param len       page aligned, not 0
 * @param flags     MMN_PM_SCAN_WP_MATCHING, MMN_PM_SCAN_CHECK_WPASYNC
 * @param vec       receives the regions (may be NULL with @p vec_len 0)
 * @param vec_len   its capacity
 * @param walk_end  receives where the walk stopped (may be NULL)
 * @return the number of regions stored in @p vec; -EINVAL for a NULL or
 *         torn-down @p mm, an unaligned, empty or wrapping range, an unknown
 *         flag, NULL @p vec with @p vec_len > 0, or neither a vector nor
 *         WP_MATCHING; -EPERM (CHECK_WPASYNC) for a VMA of the range not
 *         registered with a WP_ASYNC userfaultfd; -EOPNOTSUPP in a profile
 *         without uffd_wp_async (before 6.7).
 */
MMN_API long mmn_pagemap_scan(struct mmn_mm *mm, unsigned long start, unsigned long len,
			      unsigned long flags, struct mmn_page_region *vec, size_t vec_len,
			      unsigned long *walk_end);

/**
 * mmn_uffd_read_msg() - read(2) of the userfaultfd, non-blocking: the
 * oldest queued write-protect fault. The queue holds 64 messages; faults
 * beyond are counted by mmn_uffd_dropped() and lost.
 * @param uffd  the context
 * @param msg   receives the message
 * @return 0; -EAGAIN when nothing is queued; -EINVAL for NULL.
 */
MMN_API int mmn_uffd_read_msg(struct mmn_uffd *uffd, struct mmn_uffd_msg *msg);

/**
 * mmn_uffd_dropped() - the faults lost because the queue was full.
 * @param uffd  the context (NULL: 0)
 * @return the count.
 */
MMN_API unsigned long mmn_uffd_dropped(const struct mmn_uffd *uffd);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_USERFAULTFD_H */
