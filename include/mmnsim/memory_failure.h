/* SPDX-License-Identifier: MIT */
/**
 * @file memory_failure.h
 * Hardware memory errors (lib/ops/memory_failure.c): memory_failure() of a
 * frame poisons it and unmaps it from every process with hwpoison entries
 * (try_to_unmap() with TTU_HWPOISON: a CLEAR range per mapping, the TLB
 * flushed under the PTL, never batched). A later CPU access or GUP of such
 * an entry fails with -EHWPOISON (the kernel's VM_FAULT_HWPOISON, a SIGBUS
 * with BUS_MCEERR_AR); listeners are told through the CLEAR ranges.
 * Counted as MMN_OP_MEMORY_FAILURE (pages_changed: mappings replaced).
 */
#ifndef MMNSIM_MEMORY_FAILURE_H
#define MMNSIM_MEMORY_FAILURE_H

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;

/**
 * mmn_memory_failure() - memory_failure() of small frame @p pfn as
 * 4.12-6.19 do it for an anonymous page (mm/memory-failure.c
 * memory_failure() → hwpoison_user_mappings() / 6.x unmap_poisoned_folio()
 * → try_to_unmap(TTU_HWPOISON) → try_to_unmap_one(); 4.15, 5.2, 5.14, 6.5,
 * 6.19 read): PG_hwpoison set (TestSetPageHWPoison()), a reference taken
 * and kept for good (the frame is never reused), the folio locked, then
 * per mapping in any mm: S(CLEAR over the page) → L → clear + flush (F1
 * (+F2); 3.19-6.5 ->invalidate_range at the call site; 4.12
 * ->invalidate_page and no S/E) → hwpoison entry (MMN_SWP_HWPOISON), the
 * mapping's rmap and reference dropped, pinned or not → U → E; unlock.
 * Callable from any actor without locks held (it takes the rmap locks).
 * @param sim  the simulation
 * @param pfn  the frame
 * @return 0; -EINVAL for a NULL @p sim; -ENXIO for a pfn out of range, the
 *         zero page or a page-table frame; -EHWPOISON when already
 *         poisoned; -EOPNOTSUPP for what the model does not handle: a free
 *         frame (take_page_off_buddy()), a shmem, file, KSM, hugetlb,
 *         device-private or THP page (the kernel truncates, splits or
 *         dissolves them first); -EBUSY if a mapping survived the walk.
 */
MMN_API int mmn_memory_failure(struct mmn_sim *sim, unsigned long pfn);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_MEMORY_FAILURE_H */
