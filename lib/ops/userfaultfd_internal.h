/* SPDX-License-Identifier: MIT */
/*
 * The userfaultfd's hooks into the fault path and the change_protection()
 * walk (lib/ops/userfaultfd.c, lib/ops/memory.c, lib/ops/mprotect.c).
 */
#ifndef MMN_LIB_OPS_USERFAULTFD_INTERNAL_H
#define MMN_LIB_OPS_USERFAULTFD_INTERNAL_H

#include <stdbool.h>

#include <mmnsim/pgtable.h>

#include "mm/mm_internal.h"

/* userfaultfd_pte_wp() / userfaultfd_huge_pmd_wp(): @vma is registered in
 * WP mode and @e carries the uffd-wp bit. */
static inline bool mmn__uffd_pte_wp(const struct mmn_vma *vma, mmn_pte_t e)
{
	return (vma->vm_flags & MMN_VM_UFFD_WP) && mmn_pte_uffd_wp(e);
}

/* handle_userfault(VM_UFFD_WP) without a handler thread: queue a message
 * on the VMA's userfaultfd and fail the store with -EPERM. Called with
 * mmap_lock held for read and no PTL. */
int mmn__uffd_wp_fault(struct mmn_vma *vma, unsigned long addr);

/* userfaultfd_wp_async(): @vma's userfaultfd has UFFD_FEATURE_WP_ASYNC. */
bool mmn__uffd_wp_async(const struct mmn_vma *vma);

/*
 * change_protection() over [start, end) of @vma with MM_CP_UFFD_WP (@wp) or
 * MM_CP_UFFD_WP_RESOLVE, in its own mmu_gather (5.8-5.19
 * mwriteprotect_range(), 6.5+ uffd_wp_range()); mmap_lock held. Adds the
 * entries it changed and left unchanged to *@changed / *@unchanged.
 */
void mmn__uffd_change_protection(struct mmn_vma *vma, unsigned long start, unsigned long end,
				 bool wp, unsigned long *changed, unsigned long *unchanged);

#endif /* MMN_LIB_OPS_USERFAULTFD_INTERNAL_H */
