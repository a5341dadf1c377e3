// SPDX-License-Identifier: MIT
/* Page-table walking shared by the protection and zap family (walk.h). */
#include "ops/walk.h"

static inline unsigned long walk_level_end(unsigned long addr, int level, unsigned long end)
{
	unsigned long size = mmn_pt_entry_size(level);
	unsigned long next = (addr & ~(size - 1)) + size;

	return next - 1 < end - 1 ? next : end;
}

void mmn__walk_pmds(struct ops_pmd_walk *w, unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = w->mm;
	struct mmn_sim *sim = mm->sim;
	unsigned long addr = start;

	mmn__lockdep_assert_held(&w->mm->mmap_lock, "mmap_lock");
	while (addr < end) {
		unsigned long pud_next = walk_level_end(addr, MMN_LVL_PUD, end);
		mmn_pte_t e = mmn_pte_get(sim, mm->pgd, mmn_pt_index(addr, MMN_LVL_PGD), addr);
		struct mmn_ptdesc *pud, *pmdt;

		if (!mmn_pte_present(e)) {
			addr = walk_level_end(addr, MMN_LVL_PGD, end);
			continue;
		}
		pud = mmn_pt_child(sim, e);
		e = mmn_pte_get(sim, pud, mmn_pt_index(addr, MMN_LVL_PUD), addr);
		if (!mmn_pte_present(e)) {
			addr = pud_next;
			continue;
		}
		pmdt = mmn_pt_child(sim, e);
		w->region_start = addr;
		/* change_pmd_range(addr, pud_next). */
		for (unsigned long a = addr, next; a < pud_next; a = next) {
			unsigned int idx = mmn_pt_index(a, MMN_LVL_PMD);

			next = walk_level_end(a, MMN_LVL_PMD, pud_next);
			e = mmn_pte_get(sim, pmdt, idx, a);
			if (!mmn_pte_none(e))
				w->pmd_entry(w, pmdt, idx, e, a, next, pud_next);
		}
		if (w->region_done)
			w->region_done(w);
		addr = pud_next;
	}
}

bool mmn__pte_modify(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		    unsigned long addr, ops_pte_fn fn, void *arg)
{
	mmn_pte_t old = mmn_pte_get(sim, pt, idx, addr), val;

	mmn__lockdep_assert_held(&pt->ptl, "PTL");
	if (fn(arg, old, addr) == old)
		return false;
	old = mmn_pte_get_and_clear(sim, pt, idx, addr);
	val = fn(arg, old, addr);
	mmn_pte_set(sim, pt, idx, addr, val);
	return val != old;
}

void mmn__hugetlb_widen(const struct mmn_vma *vma, unsigned long *start, unsigned long *end)
{
	unsigned long v_start = (vma->start + MMN_PUD_SIZE - 1) & MMN_PUD_MASK;
	unsigned long v_end = vma->end & MMN_PUD_MASK;

	if (!ops_profile(vma->mm)->pmd_share_widen || !(vma->vm_flags & MMN_VM_HUGETLB) ||
	    !(vma->vm_flags & MMN_VM_SHARED) || v_end <= v_start || *end <= v_start ||
	    *start >= v_end)
		return;
	if (*start > v_start)
		*start &= MMN_PUD_MASK;
	if (*end < v_end)
		*end = (*end + MMN_PUD_SIZE - 1) & MMN_PUD_MASK;
}

bool mmn__walk_range_mapped(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	int i = mmn_vma_first_above(mm, start);
	unsigned long at = start;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	for (; i < mm->nr_vmas && at < end; i++) {
		if (mm->vmas[i]->start > at)
			return false;
		at = mm->vmas[i]->end;
	}
	return at >= end;
}

unsigned long mmn__walk_range_end(unsigned long addr, unsigned long len)
{
	unsigned long alen;

	if (addr & ~MMN_PAGE_MASK || len > MMN_TASK_SIZE)
		return 0;
	alen = (len + MMN_PAGE_SIZE - 1) & MMN_PAGE_MASK;
	if (addr > MMN_TASK_SIZE - alen)
		return 0;
	return addr + alen;
}
