// SPDX-License-Identifier: MIT
/*
 * khugepaged's retraction of the PTE table of a shmem/file range
 * (mm/khugepaged.c collapse_pte_mapped_thp(), 5.4+; retract_page_tables()
 * since 4.8 for the tables collapse_file() emptied): once the page cache
 * holds the range's huge page, the PTE table mapping it in an mm is taken
 * out (pmdp_collapse_flush()) and freed, so that the next fault maps the
 * huge page by a PMD.
 *
 *   khugepaged (mmap_lock write,             KVM / an IOMMU with a translation
 *   i_mmap_rwsem write)                      of a page of the range
 *   --------------------------               -------------------------------
 *   PTL: every present PTE maps the
 *     cached page of its index (step 1)
 *   [S(CLEAR, the 2 MiB range)]              fixed (6.1+): its translations
 *                                            of the range go
 *   PTL: rmap -1 per PTE (step 2)
 *   pmd L, pmdp_collapse_flush(): the PMD
 *     entry cleared, CPU TLB flushed (F1;
 *     F2 inside it in 6.6+), U
 *   [E]
 *   table freed; references dropped (3)      pre-fix (4.8-6.0 as released):
 *                                            no notification; the secondary
 *                                            translation stays while the
 *                                            primary maps nothing there
 *
 * The bracket is the profile knob file_collapse_notify (commit
 * f268f6cf875f, 6.1; read in the 4.19 and 5.15 stable backports and in
 * mainline). Deviations of the model: its page cache holds no huge pages,
 * so step 1 checks that each present PTE maps the page cached at its index
 * (the kernel: subpage i of the cached THP), the copy into a THP that
 * collapse_file() makes first is not modelled, and the next fault maps the
 * pages by PTE again; i_mmap_rwsem is taken for write in every era (the
 * kernel added it with 8d3c106e19e8, also 6.1: without it the model's own
 * rmap walkers could meet the table being freed).
 */
#include "ops/ops_internal.h"

struct retract {
	struct mmn_mm *mm;
	struct mmn_vma *vma;
	unsigned long haddr, index; /* file index of haddr */
	struct mmn_ptdesc *pmdt, *pt;
	unsigned long pfns[MMN_HPAGE_NR];
	unsigned int nr;
};

/* Step 1, under the PTL: none, or present and the cached page of its index. */
static bool retract_scan(struct retract *r)
{
	struct mmn_sim *sim = r->mm->sim;
	struct mmn_shmem *f = r->vma->file;
	bool ok = true;

	mmn_spin_lock(&r->pt->ptl);
	for (unsigned long i = 0; ok && i < MMN_HPAGE_NR; i++) {
		unsigned long a = r->haddr + i * MMN_PAGE_SIZE, cached;
		mmn_pte_t e = mmn_pte_get(sim, r->pt, (unsigned int)i, a);

		if (mmn_pte_none(e))
			continue;
		mmn_raw_lock(&f->lock);
		cached = f->slots[r->index + i];
		mmn_raw_unlock(&f->lock);
		ok = mmn_pte_present(e) && mmn_pte_pfn(e) == cached;
	}
	mmn_spin_unlock(&r->pt->ptl);
	return ok;
}

/* Step 2, under the PTL: one mapping fewer per present PTE (the entries go
 * with the table); a dirty bit moves to the page, which stays cached. */
static void retract_unmap(struct retract *r)
{
	struct mmn_sim *sim = r->mm->sim;

	mmn_spin_lock(&r->pt->ptl);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++) {
		mmn_pte_t e = mmn_pte_get(sim, r->pt, (unsigned int)i, r->haddr + i * MMN_PAGE_SIZE);

		if (!mmn_pte_present(e))
			continue;
		if (mmn_pte_dirty(e))
			atomic_fetch_or(&mmn_pfn_to_page(sim, mmn_pte_pfn(e))->flags, MMN_PG_DIRTY);
		mmn_page_remove_map(sim, mmn_pte_pfn(e));
		r->pfns[r->nr++] = mmn_pte_pfn(e);
	}
	mmn_spin_unlock(&r->pt->ptl);
}

/* Steps 2-4 with the profile's bracket; the table freed, references dropped. */
static void retract_table(struct retract *r)
{
	struct mmn_mm *mm = r->mm;
	struct mmn_sim *sim = mm->sim;
	unsigned int idx = mmn_pt_index(r->haddr, MMN_LVL_PMD);
	bool notify = ops_profile(mm)->file_collapse_notify;
	struct mmn_notifier_range range;

	if (notify) {
		mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, r->haddr, r->haddr + MMN_PMD_SIZE,
				       NULL);
		mmn__notify_start(MMN_OP_THP_COLLAPSE, &range);
	}
	retract_unmap(r);
	mmn_spin_lock(&r->pmdt->ptl);
	(void)mmn_pte_get_and_clear(sim, r->pmdt, idx, r->haddr);
	mmn_flush_tlb_range(mm, r->haddr, r->haddr + MMN_PMD_SIZE); /* pmdp_collapse_flush() */
	mmn_spin_unlock(&r->pmdt->ptl);
	if (notify)
		mmn__notify_end(&range);
	atomic_fetch_sub_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
	mmn_raw_lock(&mm->walk_lock);
	mmn_pt_free(sim, r->pt->pfn);
	mmn_raw_unlock(&mm->walk_lock);
	for (unsigned int i = 0; i < r->nr; i++) /* step 3: folio_ref_sub() */
		mmn_put_page(sim, r->pfns[i]);
}

/* Under mmap_lock for write: the VMA checks, the walk, the scan, the retraction. */
static int collapse_pte_mapped_thp(struct mmn_mm *mm, unsigned long addr)
{
	struct retract r = { .mm = mm, .haddr = addr & MMN_PMD_MASK };
	mmn_pte_t pmde;
	int err = 0;

	r.vma = mmn_vma_lookup(mm, r.haddr);
	if (!r.vma || !r.vma->file || r.vma->file->huge || !(r.vma->vm_flags & MMN_VM_SHARED) ||
	    r.haddr < r.vma->start || r.haddr + MMN_PMD_SIZE > r.vma->end)
		return -EINVAL; /* SCAN_VMA_CHECK */
	r.index = r.vma->pgoff + ((r.haddr - r.vma->start) >> MMN_PAGE_SHIFT);
	if (r.index % MMN_HPAGE_NR || r.index + MMN_HPAGE_NR > r.vma->file->nr_slots)
		return -EINVAL; /* no huge page can sit at this file index */
	mmn_down_write(&r.vma->file->i_mmap_rwsem);
	r.pmdt = mmn_pt_walk(mm, r.haddr, MMN_LVL_PMD);
	pmde = r.pmdt ? mmn_pte_get(mm->sim, r.pmdt, mmn_pt_index(r.haddr, MMN_LVL_PMD), r.haddr)
		      : 0;
	if (mmn_pte_present(pmde) && !mmn_pmd_leaf(pmde)) {
		r.pt = mmn_pt_child(mm->sim, pmde);
		if (retract_scan(&r))
			retract_table(&r);
		else
			err = -EAGAIN; /* SCAN_FAIL / SCAN_PTE_NON_PRESENT: nothing done */
	}
	mmn_up_write(&r.vma->file->i_mmap_rwsem);
	if (!err && r.pt) {
		mmn__op_stat_call(mm->sim, MMN_OP_THP_COLLAPSE);
		mmn__op_stat_pages(mm->sim, MMN_OP_THP_COLLAPSE, r.nr, 0);
	}
	return err;
}

int mmn_collapse_pte_mapped_thp(struct mmn_mm *mm, unsigned long addr)
{
	return mmn__collapse_op(mm, addr, "collapse_pte_mapped_thp", collapse_pte_mapped_thp);
}
