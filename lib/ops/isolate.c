// SPDX-License-Identifier: MIT
/*
 * Page isolation for the rmap family (reclaim, migration): the pages an
 * operation on [addr, addr + len) of one mm will work on, each with a
 * reference taken under its PTL (isolate_lru_folio()'s reference), as
 * shrink_folio_list() and migrate_pages() receive them from their callers.
 */
#include <stdlib.h>

#include "ops/ops_internal.h"

int mmn__isolate_range(struct mmn_mm *mm, unsigned long addr, unsigned long len,
		      unsigned long **pfnsp, size_t *nrp)
{
	struct mmn_sim *sim;
	unsigned long end, a, *pfns = NULL;
	size_t nr = 0, cap = 0;
	int err = 0;

	*pfnsp = NULL;
	*nrp = 0;
	if (mmn__mm_dead(mm) || (addr & ~MMN_PAGE_MASK) || !len || len > MMN_TASK_SIZE ||
	    addr > MMN_TASK_SIZE - len)
		return -EINVAL;
	sim = mm->sim;
	end = addr + ((len + MMN_PAGE_SIZE - 1) & MMN_PAGE_MASK);
	mmn_mmap_read_lock(mm);
	/* The whole range must be mapped (checked before anything is done). */
	for (a = addr; a < end;) {
		struct mmn_vma *vma = mmn_vma_lookup(mm, a);

		if (!vma) {
			err = -ENOMEM;
			goto out;
		}
		a = vma->end;
	}
	for (a = addr; a < end; a += MMN_PAGE_SIZE) {
		struct mmn_vma *vma = mmn_vma_lookup(mm, a);
		struct mmn_ptdesc *pt;
		unsigned int idx = mmn_pt_index(a, MMN_LVL_PTE), flags;
		unsigned long pfn, wa = a;
		mmn_pte_t e;

		if (vma->vm_flags & MMN_VM_HUGETLB) {
			/* Private hugetlb pages are neither reclaimed nor
			 * migrated here; shared ones once per huge page, for
			 * the PMD-sharing branch (lib/ops/hugetlb.c). */
			if (!(vma->vm_flags & MMN_VM_SHARED)) {
				a = (a & MMN_PMD_MASK) + MMN_PMD_SIZE - MMN_PAGE_SIZE;
				continue;
			}
			pt = mmn_pt_walk(mm, a, MMN_LVL_PMD);
			idx = mmn_pt_index(a, MMN_LVL_PMD);
			a = (a & MMN_PMD_MASK) + MMN_PMD_SIZE - MMN_PAGE_SIZE;
		} else {
			pt = mmn_pt_walk(mm, a, MMN_LVL_PTE);
		}
		if (!pt)
			continue;
		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, wa);
		pfn = mmn_pte_pfn(e);
		flags = mmn_pte_mapped(e) ? atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) : 0;
		/* Subpages of a PTE-mapped THP are skipped (the kernel splits the
		 * folio first: split_folio_to_list(); not modelled). */
		if (mmn_pte_mapped(e) && pfn != MMN_ZERO_PFN &&
		    !(flags & MMN_PG_KSM) &&
		    !(pt->level == MMN_LVL_PTE && (flags & (MMN_PG_HEAD | MMN_PG_TAIL))) &&
		    (flags & (MMN_PG_ANON | MMN_PG_SHMEM)) &&
		    (pt->level == MMN_LVL_PTE || mmn_pmd_mapped_leaf(e))) {
			if (nr == cap) {
				unsigned long *n;

				cap = cap ? cap * 2 : 64;
				n = realloc(pfns, cap * sizeof(*n));
				if (!n) {
					mmn_spin_unlock(&pt->ptl);
					err = -ENOMEM;
					goto out;
				}
				pfns = n;
			}
			mmn_get_page(sim, pfn);
			pfns[nr++] = pfn;
		}
		mmn_spin_unlock(&pt->ptl);
	}
out:
	mmn_mmap_read_unlock(mm);
	if (err) {
		for (size_t i = 0; i < nr; i++)
			mmn_put_page(sim, pfns[i]);
		free(pfns);
		return err;
	}
	*pfnsp = pfns;
	*nrp = nr;
	return 0;
}

int mmn__isolate_apply(struct mmn_mm *mm, unsigned long addr, unsigned long len, enum mmn_op op,
		       unsigned long (*one)(struct mmn_sim *sim, unsigned long pfn))
{
	unsigned long *pfns, changed = 0;
	size_t nr;
	int err = mmn__isolate_range(mm, addr, len, &pfns, &nr);

	if (err)
		return err;
	for (size_t i = 0; i < nr; i++)
		changed += one(mm->sim, pfns[i]);
	free(pfns);
	mmn__op_stat_call(mm->sim, op);
	mmn__op_stat_pages(mm->sim, op, changed, 0);
	return 0;
}
