// SPDX-License-Identifier: MIT
/*
 * Transparent huge pages: the split of an anonymous THP PMD leaf into a
 * PTE table (__split_huge_pmd(), mm/huge_memory.c) and khugepaged's
 * collapse of 512 small pages into a new THP (collapse_huge_page(),
 * mm/khugepaged.c), event CLEAR over the 2 MiB area.
 *
 * Split (all versions since the 4.5 THP refcount rework; only_end 4.15-6.5):
 *
 *   splitter                                  a CPU / a secondary MMU
 *   --------                                  -----------------------
 *   PTE table allocated (the kernel withdraws
 *   the one deposited at fault time)
 *   S(CLEAR, [haddr, haddr + 2 MiB))          start/end users drop the area
 *   pmd L
 *   pmdp_invalidate(): the leaf becomes       a CPU touching the area faults
 *     "splitting" (not present, not none)     and waits for the PMD lock
 *     and the CPU TLB is flushed for the
 *     area (F1; F2 inside it in 6.6+)
 *   512 PTEs: same frames, same bits          an IOTLB entry of the old leaf
 *   pmd_populate()                            still translates correctly:
 *   U                                         same frames, same permissions
 *   E: 4.15-6.5 invalidate_range_only_end()
 *      (no ->invalidate_range: "case 3" of the kernel's comment, the PTEs
 *      point to the same pages, any later change of one PTE notifies);
 *      4.13: end calls ->invalidate_range; 6.6+: plain end.
 *
 * The anonymous case never calls ->invalidate_range at the call site in
 * 3.19-6.5: __split_huge_pmd_locked() uses the plain pmdp_invalidate(); only
 * the file/DAX case (not modelled) used pmdp_huge_clear_flush_notify().
 *
 * The folio stays compound after the split, as the kernel's does until a
 * deferred split_huge_page(): the head's mapcount and refcount count every
 * mapping of any subpage (+511 at the split), each subpage keeps its
 * content, and the 2 MiB frame returns to the huge pool when the last
 * mapping of any of its subpages is gone. Subpages of a PTE-mapped THP are
 * never reused by COW (always copied), nor reclaimed, migrated or merged by
 * KSM (those paths skip compound pages; the kernel would split the folio).
 *
 * Collapse: see mmn_collapse_huge_page() in ops.h.
 */
#include "ops/ops_internal.h"

#define THP_PMD_SPLITTING OPS_PMD_SPLITTING

bool mmn__thp_vma_eligible(const struct mmn_vma *vma)
{
	return !(vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB | MMN_VM_NOHUGEPAGE)) &&
	       (vma->vm_flags & MMN_VM_HUGEPAGE) && !vma->file && vma->anon_vma;
}

static bool vma_private_anon(const struct mmn_vma *vma)
{
	return !(vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)) && !vma->file;
}

/* __split_huge_pmd() of the leaf at @haddr in @vma. */
static int split_huge_pmd(struct mmn_mm *mm, unsigned long haddr)
{
	struct mmn_sim *sim = mm->sim;
	unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
	struct mmn_ptdesc *pmdt = mmn_pt_walk(mm, haddr, MMN_LVL_PMD), *pt;
	struct mmn_notifier_range range;
	bool done = false;
	mmn_pte_t e;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	if (!pmdt)
		return 0;
	e = mmn_pte_get(sim, pmdt, idx, haddr);
	if (e == THP_PMD_SPLITTING) {
		/* Another split is under way: wait for it (the PMD lock). */
		mmn_spin_lock(&pmdt->ptl);
		mmn_spin_unlock(&pmdt->ptl);
		return 0;
	}
	if (!mmn_pmd_mapped_leaf(e))
		return 0;
	pt = mmn_pt_alloc(mm, MMN_LVL_PTE);
	if (!pt)
		return -ENOMEM;

	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, haddr, haddr + MMN_PMD_SIZE, NULL);
	mmn__notify_start(MMN_OP_THP_SPLIT, &range);
	mmn_spin_lock(&pmdt->ptl);
	e = mmn_pte_get(sim, pmdt, idx, haddr);
	if (mmn_pmd_mapped_leaf(e)) {
		unsigned long head = mmn_pte_pfn(e);
		struct mmn_page *hp = mmn_pfn_to_page(sim, head);
		mmn_pte_t bits;

		/* pmdp_invalidate(): atomically, no accessed/dirty bit lost. */
		while (!mmn_pte_cmpxchg(sim, pmdt, idx, haddr, e, THP_PMD_SPLITTING))
			e = mmn_pte_get(sim, pmdt, idx, haddr);
		mmn_flush_tlb_range(mm, haddr, haddr + MMN_PMD_SIZE);
		/* The PTEs inherit write/dirty/young/soft-dirty/PROT_NONE. */
		bits = e & ~(MMN_PTE_PFN_MASK | MMN_PTE_HUGE);
		for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
			mmn_pte_set(sim, pt, (unsigned int)i, haddr + i * MMN_PAGE_SIZE,
				    ((uint64_t)(head + i) << MMN_PTE_PFN_SHIFT) | bits);
		/* One mapping (and its reference) per subpage now. */
		atomic_fetch_add_explicit(&hp->mapcount, (int)MMN_HPAGE_NR - 1, memory_order_relaxed);
		atomic_fetch_add_explicit(&hp->refcount, (int)MMN_HPAGE_NR - 1, memory_order_relaxed);
		/* pmd_populate() */
		mmn_pte_cmpxchg(sim, pmdt, idx, haddr, THP_PMD_SPLITTING,
				mmn_mk_table_entry(pt->pfn));
		atomic_fetch_add_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
		done = true;
	}
	mmn_spin_unlock(&pmdt->ptl);
	mmn__notify_end_only(&range);
	if (!done) {
		mmn_pt_free(sim, pt->pfn);
		return 0;
	}
	mmn__op_stat_call(sim, MMN_OP_THP_SPLIT);
	mmn__op_stat_pages(sim, MMN_OP_THP_SPLIT, MMN_HPAGE_NR, 0);
	return 0;
}

int mmn__split_huge_pmd(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_vma *vma = mmn_vma_lookup(mm, addr);

	if (!vma || !vma_private_anon(vma))
		return 0;
	return split_huge_pmd(mm, addr & MMN_PMD_MASK);
}

int mmn__split_huge_range(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	for (unsigned long a = start & MMN_PMD_MASK; a < end; a += MMN_PMD_SIZE) {
		int err = mmn__split_huge_pmd(mm, a < start ? start : a);

		if (err)
			return err;
	}
	return 0;
}

int mmn__split_huge_boundary(struct mmn_mm *mm, unsigned long addr)
{
	if (!(addr & ~MMN_PMD_MASK))
		return 0;
	return mmn__split_huge_pmd(mm, addr);
}

static int split_huge_pmd_do(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_vma *vma;
	int err;

	if (mmn__mm_dead(mm))
		return -EINVAL;
	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	mmn_mmap_read_lock(mm);
	vma = mmn_vma_lookup(mm, addr);
	if (!vma)
		err = -EFAULT;
	else if (!vma_private_anon(vma))
		err = -EINVAL;
	else
		err = split_huge_pmd(mm, addr & MMN_PMD_MASK);
	mmn_mmap_read_unlock(mm);
	return err;
}

/* The span of the trace around split_huge_pmd (docs/exploration.md). */
int mmn_split_huge_pmd(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "__split_huge_pmd", addr, addr + 1, NULL);
	err = split_huge_pmd_do(mm, addr);
	mmn_sched_span_end(sim, "__split_huge_pmd");
	return err;
}

/* ---------------------------------------------------------------- */
/* collapse                                                          */
/* ---------------------------------------------------------------- */

/*
 * hpage_collapse_scan_pmd() / __collapse_huge_page_isolate() for one
 * entry: a present PTE of a private anonymous, non-KSM, non-compound page
 * mapped only here, with no other reference and no pin.
 */
static bool collapse_pte_ok(struct mmn_sim *sim, mmn_pte_t e)
{
	unsigned long pfn = mmn_pte_pfn(e);
	struct mmn_page *p;
	unsigned int flags;

	if (!mmn_pte_present(e) || pfn == MMN_ZERO_PFN || !mmn_pfn_valid(sim, pfn))
		return false;
	p = mmn_pfn_to_page(sim, pfn);
	flags = atomic_load(&p->flags);
	return (flags & (MMN_PG_ANON | MMN_PG_KSM | MMN_PG_HEAD | MMN_PG_TAIL | MMN_PG_HUGETLB |
			 MMN_PG_FREE | MMN_PG_LOCKED)) == MMN_PG_ANON &&
	       atomic_load(&p->refcount) == 1 && atomic_load(&p->mapcount) == 1 &&
	       atomic_load(&p->pincount) == 0;
}

/* All 512 entries of @pt collapsible. */
static bool collapse_scan(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned long haddr)
{
	mmn__lockdep_assert_held(&pt->ptl, "PTL");

	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		if (!collapse_pte_ok(sim, mmn_pte_get(sim, pt, (unsigned int)i,
						      haddr + i * MMN_PAGE_SIZE)))
			return false;
	return true;
}

/* hugepage_vma_revalidate(): the VMA of @addr if it is private, anonymous,
 * THP-eligible and covers the whole 2 MiB area; NULL with *@err otherwise. */
static struct mmn_vma *hugepage_vma_revalidate(struct mmn_mm *mm, unsigned long addr,
					       unsigned long haddr, int *err)
{
	struct mmn_vma *vma = mmn_vma_lookup(mm, addr);

	*err = -ENOMEM;
	if (!vma)
		return NULL;
	if (!vma_private_anon(vma) || !mmn__thp_vma_eligible(vma)) {
		*err = -EINVAL;
		return NULL;
	}
	if (haddr < vma->start || haddr + MMN_PMD_SIZE > vma->end)
		return NULL;
	return vma;
}

/*
 * find_pmd_or_thp_or_none() and hpage_collapse_scan_pmd(): the PMD table
 * and the PTE table of @haddr if all 512 entries are collapsible. 1 if a
 * THP maps it already (SCAN_PMD_MAPPED), -EAGAIN if nothing to collapse.
 */
static int collapse_find_and_scan(struct mmn_mm *mm, unsigned long haddr,
				  struct mmn_ptdesc **pmdt, struct mmn_ptdesc **pt)
{
	struct mmn_sim *sim = mm->sim;
	unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
	mmn_pte_t pmde;
	bool ok;

	*pmdt = mmn_pt_walk(mm, haddr, MMN_LVL_PMD);
	pmde = *pmdt ? mmn_pte_get(sim, *pmdt, idx, haddr) : 0;
	if (mmn_pmd_mapped_leaf(pmde))
		return 1;
	if (!mmn_pte_present(pmde))
		return -EAGAIN;
	*pt = mmn_pt_child(sim, pmde);
	/* Give up before touching anything. */
	mmn_spin_lock(&(*pt)->ptl);
	ok = collapse_scan(sim, *pt, haddr);
	mmn_spin_unlock(&(*pt)->ptl);
	return ok ? 0 : -EAGAIN;
}

/*
 * The isolation step of collapse_huge_page(): under anon_vma_lock_write()
 * (no rmap walker may reach the PTEs), notify CLEAR over the area around
 * pmdp_collapse_flush() (the PMD no longer leads to the PTE table), then
 * __collapse_huge_page_isolate() checks the entries again under the PTE
 * table's lock. If one changed, pmd_populate() puts the table back and
 * false is returned: the small pages stay.
 */
static bool collapse_isolate(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pmdt,
			     struct mmn_ptdesc *pt, unsigned long haddr)
{
	struct mmn_sim *sim = mm->sim;
	unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
	struct mmn_notifier_range range;
	mmn_pte_t pmde;
	bool ok;

	mmn_down_write(&vma->anon_vma->rwsem);
	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, haddr, haddr + MMN_PMD_SIZE, NULL);
	mmn__notify_start(MMN_OP_THP_COLLAPSE, &range);
	mmn_spin_lock(&pmdt->ptl);
	pmde = mmn_pte_get_and_clear(sim, pmdt, idx, haddr);
	mmn_flush_tlb_range(mm, haddr, haddr + MMN_PMD_SIZE);
	mmn_spin_unlock(&pmdt->ptl);
	mmn__notify_end(&range);

	mmn_spin_lock(&pt->ptl);
	ok = collapse_scan(sim, pt, haddr);
	mmn_spin_unlock(&pt->ptl);
	if (!ok) {
		mmn_spin_lock(&pmdt->ptl);
		mmn_pte_set(sim, pmdt, idx, haddr, pmde);
		mmn_spin_unlock(&pmdt->ptl);
	}
	mmn_up_write(&vma->anon_vma->rwsem);
	return ok;
}

/*
 * __collapse_huge_page_copy() and set_pmd_at(): copy the small pages into
 * huge page @hpfn (their pfns go to @old) and map it. No translation of the
 * small pages is left (flushed), so a store into one now would be lost:
 * they are marked stable until released.
 */
static void collapse_copy(struct mmn_sim *sim, struct mmn_vma *vma, struct mmn_ptdesc *pmdt,
			  struct mmn_ptdesc *pt, unsigned long haddr, unsigned long hpfn,
			  unsigned long *old)
{
	unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
	mmn_pte_t leaf;

	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++) {
		old[i] = mmn_pte_pfn(mmn_pte_peek(pt, (unsigned int)i));
		mmn_page_mark_stable(sim, old[i]);
	}
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		atomic_store_explicit(&mmn_pfn_to_page(sim, hpfn + i)->content,
				      atomic_load_explicit(&mmn_pfn_to_page(sim, old[i])->content,
							   memory_order_relaxed),
				      memory_order_relaxed);
	leaf = mmn_mk_pte(hpfn, MMN_PTE_HUGE | MMN_PTE_ACCESSED | MMN_PTE_DIRTY |
					MMN_PTE_SOFT_DIRTY |
					(vma->vm_flags & MMN_VM_WRITE ? MMN_PTE_WRITE : 0));
	mmn_spin_lock(&pmdt->ptl);
	mmn_page_add_map(sim, hpfn);
	mmn_pte_set(sim, pmdt, idx, haddr, leaf);
	mmn_spin_unlock(&pmdt->ptl);
}

/*
 * __collapse_huge_page_copy_succeeded(): release the small pages, then the
 * old PTE table (the kernel deposits it for a later split; the model frees
 * it: it is unreachable and the area was flushed).
 */
static void collapse_copy_succeeded(struct mmn_mm *mm, struct mmn_ptdesc *pt,
				    unsigned long haddr, const unsigned long *old)
{
	struct mmn_sim *sim = mm->sim;

	mmn_spin_lock(&pt->ptl);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++) {
		mmn_pte_get_and_clear(sim, pt, (unsigned int)i, haddr + i * MMN_PAGE_SIZE);
		mmn_page_remove_map(sim, old[i]);
	}
	mmn_spin_unlock(&pt->ptl);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++) {
		mmn_page_clear_stable(sim, old[i]);
		mmn_put_page(sim, old[i]);
	}
	atomic_fetch_sub_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
	mmn_raw_lock(&mm->walk_lock);
	mmn_pt_free(sim, pt->pfn);
	mmn_raw_unlock(&mm->walk_lock);
}

/* collapse_huge_page() (khugepaged / MADV_COLLAPSE), mmap_lock held for
 * write, in the kernel's step order. */
static int collapse_huge_page(struct mmn_mm *mm, unsigned long addr)
{
	unsigned long haddr = addr & MMN_PMD_MASK, hpfn, old[MMN_HPAGE_NR];
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pmdt, *pt = NULL;
	struct mmn_vma *vma;
	int err;

	vma = hugepage_vma_revalidate(mm, addr, haddr, &err);
	if (!vma)
		return err;
	err = collapse_find_and_scan(mm, haddr, &pmdt, &pt);
	if (err)
		return err > 0 ? 0 : err;
	/* alloc_charge_folio() (the kernel allocates before the write lock). */
	hpfn = mmn_alloc_huge_page(sim, MMN_PG_ANON);
	if (!hpfn)
		return -ENOMEM;
	mmn_page_set_anon_rmap(sim, hpfn, vma, haddr);
	if (!collapse_isolate(mm, vma, pmdt, pt, haddr)) {
		mmn_put_page(sim, hpfn);
		return -EAGAIN;
	}
	collapse_copy(sim, vma, pmdt, pt, haddr, hpfn, old);
	collapse_copy_succeeded(mm, pt, haddr, old);
	mmn__op_stat_call(sim, MMN_OP_THP_COLLAPSE);
	mmn__op_stat_pages(sim, MMN_OP_THP_COLLAPSE, MMN_HPAGE_NR, 0);
	return 0;
}

int mmn__collapse_op(struct mmn_mm *mm, unsigned long addr, const char *span,
		     int (*collapse)(struct mmn_mm *mm, unsigned long addr))
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, span, addr, addr + 1, NULL);
	if (mmn__mm_dead(mm)) {
		err = -EINVAL;
	} else if (addr >= MMN_TASK_SIZE) {
		err = -EFAULT;
	} else {
		mmn_mmap_write_lock(mm);
		err = collapse(mm, addr);
		mmn_mmap_write_unlock(mm);
	}
	mmn_sched_span_end(sim, span);
	return err;
}

int mmn_collapse_huge_page(struct mmn_mm *mm, unsigned long addr)
{
	return mmn__collapse_op(mm, addr, "collapse_huge_page", collapse_huge_page);
}
