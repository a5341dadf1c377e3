// SPDX-License-Identifier: MIT
/*
 * madvise(MADV_DONTNEED) and madvise(MADV_FREE), event CLEAR.
 *
 * DONTNEED is zap_page_range_single() per VMA (madvise_dontneed_single_vma()):
 *
 *   tlb_gather_mmu → invalidate_range_start(CLEAR, the part of the VMA;
 *   hugetlb widened for PMD sharing) → per PTE table: L, get_and_clear,
 *   gather the page, U → invalidate_range_end → tlb_finish_mmu: F1 (+F2 in
 *   6.6+), then the pages are freed.
 *
 * FREE is madvise_free_single_vma(): the same bracket, and under each PTL
 * every anonymous page this mapping owns exclusively is made lazily
 * freeable: PG_dirty cleared and, if its entry is young or dirty, the entry
 * taken (ptep_get_and_clear_full()) and re-set old and clean, its range
 * recorded in the gather (tlb_remove_tlb_entry()); shared pages and the zero
 * page are left as they were (false positives). Reclaim would later drop a
 * lazyfree page that is still clean; reclaim of lazyfree pages is not
 * modelled here, so the pages stay mapped.
 */
#include "ops/walk.h"

struct mf_walk {
	struct ops_pmd_walk w;
	struct mmn_mmu_gather *tlb;
	unsigned long changed, unchanged;
};

/* madvise_free_pte_range() for one PTE table, under its PTL. */
static void mf_pmd_entry(struct ops_pmd_walk *w, struct mmn_ptdesc *pmdt, unsigned int idx,
			 mmn_pte_t pmde, unsigned long addr, unsigned long next,
			 unsigned long region_end)
{
	struct mf_walk *m = mmn_container_of(w, struct mf_walk, w);
	struct mmn_sim *sim = w->mm->sim;
	struct mmn_ptdesc *pt;

	(void)pmdt;
	(void)idx;
	(void)region_end;
	if (!mmn_pte_present(pmde) || (pmde & MMN_PTE_HUGE))
		return;
	pt = mmn_pt_child(sim, pmde);
	mmn_spin_lock(&pt->ptl);
	for (unsigned long a = addr; a < next; a += MMN_PAGE_SIZE) {
		unsigned int i = mmn_pt_index(a, MMN_LVL_PTE);
		mmn_pte_t e = mmn_pte_get(sim, pt, i, a);
		unsigned long pfn = mmn_pte_pfn(e);
		struct mmn_page *p;

		if (mmn_pte_none(e))
			continue;
		if (!mmn_pte_present(e) || pfn == MMN_ZERO_PFN || !mmn_pfn_valid(sim, pfn)) {
			m->unchanged++;
			continue;
		}
		p = mmn_pfn_to_page(sim, pfn);
		/* folio_maybe_mapped_shared() (older: page_mapcount() != 1). */
		if (!(atomic_load(&p->flags) & MMN_PG_ANON) || atomic_load(&p->mapcount) != 1) {
			m->unchanged++;
			continue;
		}
		atomic_fetch_and(&p->flags, ~(unsigned int)MMN_PG_DIRTY);
		if (!(e & (MMN_PTE_ACCESSED | MMN_PTE_DIRTY))) {
			m->unchanged++;
			continue;
		}
		e = mmn_pte_get_and_clear(sim, pt, i, a);
		mmn_pte_set(sim, pt, i, a, e & ~(MMN_PTE_ACCESSED | MMN_PTE_DIRTY));
		mmn_tlb_flush_pte_range(m->tlb, a, MMN_PAGE_SIZE);
		m->changed++;
	}
	mmn_spin_unlock(&pt->ptl);
}

static void madvise_free_single_vma(struct mmn_vma *vma, unsigned long start, unsigned long end,
				    struct mf_walk *m)
{
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;

	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, vma->mm, start, end, NULL);
	mmn_tlb_gather_mmu(&tlb, vma->mm);
	mmn__notify_start(MMN_OP_MADV_FREE, &range);
	m->tlb = &tlb;
	m->w = (struct ops_pmd_walk){ .mm = vma->mm, .pmd_entry = mf_pmd_entry };
	mmn__walk_pmds(&m->w, start, end);
	mmn__notify_end(&range);
	mmn_tlb_finish_mmu(&tlb);
}

/* zap_page_range_single() (zap_vma_range() in the mm tree). */
static unsigned long zap_page_range_single(struct mmn_vma *vma, unsigned long start,
					   unsigned long end)
{
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;
	unsigned long rs = start, re = end, zapped;

	/* 6.5+ widens here; up to 5.14 __unmap_hugepage_range()'s own nested
	 * range is the widened one (lib/ops/hugetlb.c). */
	if (!ops_profile(vma->mm)->hugetlb_unmap_nested_notify)
		mmn__hugetlb_widen(vma, &rs, &re);
	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, vma->mm, rs, re, NULL);
	mmn_tlb_gather_mmu(&tlb, vma->mm);
	mmn__notify_start(MMN_OP_MADV_DONTNEED, &range);
	zapped = mmn_zap_vma_range(&tlb, vma, start, end);
	mmn__notify_end(&range);
	mmn_tlb_finish_mmu(&tlb);
	return zapped;
}

/* madvise_dontneed_free_valid_vma() and the MADV_FREE VMA checks. */
static int madvise_check_vma(const struct mmn_vma *vma, unsigned long start, unsigned long end,
			     int advice)
{
	if (advice == MMN_MADV_FREE)
		return vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB) ? -EINVAL : 0;
	/* 5.18+: hugetlb DONTNEED needs a huge-page-aligned start; the end is
	 * rounded down (a range inside one huge page does nothing). */
	if (vma->vm_flags & MMN_VM_HUGETLB && start > vma->start && start & ~MMN_PMD_MASK)
		return -EINVAL;
	(void)end;
	return 0;
}

/*
 * MADV_HUGEPAGE / MADV_NOHUGEPAGE (hugepage_madvise() via madvise_update_vma()):
 * mmap_lock for write, the VMAs whose flags change split at the edges (a THP
 * straddling an edge is split first), the flag set or cleared. No
 * notification: nothing is mapped differently.
 */
static int madvise_hugepage(struct mmn_mm *mm, unsigned long addr, unsigned long end, int advice)
{
	unsigned long set = advice == MMN_MADV_HUGEPAGE ? MMN_VM_HUGEPAGE : MMN_VM_NOHUGEPAGE;
	unsigned long clear = MMN_VM_HUGEPAGE ^ MMN_VM_NOHUGEPAGE ^ set;
	struct mmn_vma *lo, *hi;
	unsigned long s, e;
	int err;

	mmn_mmap_write_lock(mm);
	if (!mmn__walk_range_mapped(mm, addr, end)) {
		mmn_mmap_write_unlock(mm);
		return -ENOMEM;
	}
	lo = mmn_vma_lookup(mm, addr);
	hi = mmn_vma_lookup(mm, end - 1);
	s = (lo->vm_flags & (set | clear)) != set ? addr : lo->start;
	e = (hi->vm_flags & (set | clear)) != set ? end : hi->end;
	err = mmn__mmap_split_range(mm, s, e);
	for (int i = mmn_vma_first_above(mm, addr);
	     !err && i < mm->nr_vmas && mm->vmas[i]->start < end; i++)
		mm->vmas[i]->vm_flags = (mm->vmas[i]->vm_flags & ~clear) | set;
	mmn_mmap_write_unlock(mm);
	return err;
}

static int madvise_do(struct mmn_mm *mm, unsigned long addr, unsigned long len, int advice)
{
	unsigned long end, changed = 0, unchanged = 0;
	enum mmn_op op;
	int err = 0, i, first;

	if (mmn__mm_dead(mm) || addr & ~MMN_PAGE_MASK ||
	    (advice != MMN_MADV_DONTNEED && advice != MMN_MADV_FREE &&
	     advice != MMN_MADV_HUGEPAGE && advice != MMN_MADV_NOHUGEPAGE &&
	     advice != MMN_MADV_REMOVE))
		return -EINVAL;
	if (!len)
		return 0;
	end = mmn__walk_range_end(addr, len);
	if (!end)
		return -EINVAL;
	if (advice == MMN_MADV_HUGEPAGE || advice == MMN_MADV_NOHUGEPAGE)
		return madvise_hugepage(mm, addr, end, advice);
	if (advice == MMN_MADV_REMOVE) /* lib/ops/truncate.c */
		return mmn__madvise_remove(mm, addr, end);
	op = advice == MMN_MADV_FREE ? MMN_OP_MADV_FREE : MMN_OP_MADV_DONTNEED;

	mmn_mmap_read_lock(mm);
	if (!mmn__walk_range_mapped(mm, addr, end)) {
		mmn_mmap_read_unlock(mm);
		return -ENOMEM;
	}
	first = mmn_vma_first_above(mm, addr);
	for (i = first; !err && i < mm->nr_vmas && mm->vmas[i]->start < end; i++)
		err = madvise_check_vma(mm->vmas[i], addr > mm->vmas[i]->start ? addr : mm->vmas[i]->start,
					end, advice);
	if (err) {
		mmn_mmap_read_unlock(mm);
		return err;
	}
	for (i = first; i < mm->nr_vmas && mm->vmas[i]->start < end; i++) {
		struct mmn_vma *vma = mm->vmas[i];
		unsigned long s = vma->start > addr ? vma->start : addr;
		unsigned long e = vma->end < end ? vma->end : end;

		if (advice == MMN_MADV_FREE) {
			struct mf_walk m = { .changed = 0 };

			madvise_free_single_vma(vma, s, e, &m);
			changed += m.changed;
			unchanged += m.unchanged;
			continue;
		}
		if (vma->vm_flags & MMN_VM_HUGETLB)
			e &= MMN_PMD_MASK;
		if (s < e)
			changed += zap_page_range_single(vma, s, e);
	}
	mmn_mmap_read_unlock(mm);
	mmn__op_stat_call(mm->sim, op);
	mmn__op_stat_pages(mm->sim, op, changed, unchanged);
	return 0;
}

/* The span of the trace around madvise (docs/exploration.md). */
int mmn_madvise(struct mmn_mm *mm, unsigned long addr, unsigned long len, int advice)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "madvise", addr, addr + len, NULL);
	err = madvise_do(mm, addr, len, advice);
	mmn_sched_span_end(sim, "madvise");
	return err;
}
