/* SPDX-License-Identifier: MIT */
/**
 * @file aging.h
 * Accessed-bit aging from core mm (lib/ops/aging.c): the callers of the
 * notifier's young hooks. folio_referenced() (reclaim's
 * folio_check_references(): clear_flush_young), the page_idle bitmap
 * (clear_young) and DAMON's virtual-address sampler (clear_young to make a
 * page old, test_young to check it). Each runs under the PTL of the entry it
 * ages, so a listener's young hooks must not sleep. Counted as MMN_OP_AGING
 * (calls; pages_changed: entries found young).
 */
#ifndef MMNSIM_AGING_H
#define MMNSIM_AGING_H

#include <stdbool.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;

/**
 * mmn_folio_referenced() - folio_referenced() of small frame @p pfn
 * (2.6.x-latest without MGLRU's look-around): rmap walk; per mapping, under
 * the PTL, ptep_clear_flush_young_notify(): the CPU young bit is tested and
 * cleared (x86: no TLB flush, as ptep_clear_flush_young() on x86) and
 * mmu_notifier_clear_flush_young() over the page; PG_idle is cleared if
 * anything was young, PG_young counts as a reference. The folio lock is taken
 * for a page-cache page (as folio_referenced() does for non-anon folios).
 * @param sim  the simulation
 * @param pfn  the frame (the caller keeps it allocated)
 * @return the number of mappings that referenced the page (>= 0), -EINVAL
 *         for NULL, a free, zero, huge, KSM or table frame.
 */
MMN_API int mmn_folio_referenced(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_shrink_range() - shrink_folio_list() with folio_check_references():
 * each page of [@p addr, @p addr + @p len) (isolated as mmn_try_to_unmap()
 * does) is first aged by folio_referenced(); a referenced page is kept
 * (activated, no unmap, no notification beyond the young hooks), the others
 * are unmapped and paged out exactly as mmn_try_to_unmap() does.
 * mmn_try_to_unmap() itself stays try_to_unmap() without aging.
 * @param mm    the address space
 * @param addr  page-aligned start
 * @param len   length in bytes
 * @return 0, or the errors of mmn_try_to_unmap().
 */
MMN_API int mmn_shrink_range(struct mmn_mm *mm, unsigned long addr, unsigned long len);

/**
 * mmn_page_idle_set() - a write of @p pfn's bit to
 * /sys/kernel/mm/page_idle/bitmap (4.3+): page_idle_clear_pte_refs() (rmap
 * walk; per mapping under the PTL, ptep_clear_young_notify(): the CPU young
 * bit and mmu_notifier_clear_young(), no flush; a young mapping sets
 * PG_young), then PG_idle set.
 * @param sim  the simulation
 * @param pfn  the frame
 * @return 0, -EINVAL as mmn_folio_referenced().
 */
MMN_API int mmn_page_idle_set(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_page_idle_get() - a read of @p pfn's bit (page_idle_bitmap_read()): if
 * PG_idle is set, page_idle_clear_pte_refs() first (a young mapping clears
 * PG_idle); then the bit.
 * @param sim  the simulation
 * @param pfn  the frame
 * @return 1 idle, 0 accessed since mmn_page_idle_set(), -EINVAL as
 *         mmn_folio_referenced().
 */
MMN_API int mmn_page_idle_get(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_damon_mkold() - damon_va_mkold() (5.15+, mm/damon/vaddr.c):
 * under mmap_lock for read, the entry mapping @p addr under its PTL:
 * damon_ptep_mkold(): the CPU young bit tested and cleared,
 * mmu_notifier_clear_young() over the page, PG_young set if either was
 * young, PG_idle set.
 * @param mm    the address space
 * @param addr  the sampled address
 * @return 0 (nothing mapped there included), -EINVAL for NULL or a dead mm.
 */
MMN_API int mmn_damon_mkold(struct mmn_mm *mm, unsigned long addr);

/**
 * mmn_damon_young() - damon_va_young(): under mmap_lock for read and the PTL,
 * accessed = pte_young() || !PG_idle || mmu_notifier_test_young(@p addr).
 * @param mm     the address space
 * @param addr   the sampled address
 * @param young  receives the answer (false when nothing is mapped)
 * @return 0, -EINVAL for NULL or a dead mm.
 */
MMN_API int mmn_damon_young(struct mmn_mm *mm, unsigned long addr, bool *young);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_AGING_H */
