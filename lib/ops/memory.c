// SPDX-License-Identifier: MIT
/*
 * mm/memory.c's operations: the CPU page-fault path (handle_mm_fault(), with
 * mm/hugetlb.c hugetlb_fault()), do_wp_page() (COW), do_swap_page() (swap-in),
 * get_user_pages()-like pinning, the zap (unmap_page_range()), and the CPU
 * load/store entry points with their fault-and-retry loop around the TLB
 * access of lib/mm/tlb.c.
 *
 * The kernel's order is kept: allocate (and copy) without the PTL, take the
 * PTL, check that the entry is still what the decision was based on
 * (pte_same()), change it, drop the PTL, then release what was replaced. A
 * lost race is not an error: the work is undone and the access retried.
 */
#include <stdlib.h>

#include "ops/ops_internal.h"
#include "ops/userfaultfd_internal.h"

static inline void fault_stat(_Atomic unsigned long *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

/*
 * The page of a shared object at @index, allocated on first use
 * (shmem_get_folio() / hugetlbfs page cache). The object keeps one
 * reference; the caller gets another for its mapping. 0 if out of frames.
 */
static unsigned long shmem_get_page(struct mmn_sim *sim, struct mmn_shmem *f,
				    unsigned long index)
{
	unsigned long pfn;

	mmn_raw_lock(&f->lock);
	pfn = f->slots[index];
	if (!pfn) {
		pfn = f->huge ? mmn_alloc_huge_page(sim, MMN_PG_SHMEM | MMN_PG_HUGETLB)
			      : mmn_alloc_page(sim, MMN_PG_SHMEM);
		if (pfn) {
			mmn_pfn_to_page(sim, pfn)->mapping = f;
			mmn_pfn_to_page(sim, pfn)->index = index;
			f->slots[index] = pfn;
			if (f->swapped[index]) {
				/* shmem_swapin_folio(): the content reclaim wrote out. */
				uint64_t content;
				unsigned long cache;

				mmn_swap_read(sim, f->swapped[index], &content, &cache);
				atomic_store_explicit(&mmn_pfn_to_page(sim, pfn)->content, content,
						      memory_order_relaxed);
				mmn_swap_free(sim, f->swapped[index]);
				f->swapped[index] = 0;
			}
		}
	}
	if (pfn)
		atomic_fetch_add_explicit(&mmn_pfn_to_page(sim, pfn)->refcount, 1,
					  memory_order_relaxed);
	mmn_raw_unlock(&f->lock);
	return pfn;
}

/* Install @entry for new frame @pfn if the slot is still empty; else undo. */
static void install_new(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
			unsigned long addr, unsigned long pfn, mmn_pte_t entry)
{
	bool done = false;

	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_none(mmn_pte_get(sim, pt, idx, addr))) {
		mmn_page_add_map(sim, pfn);
		mmn_pte_set(sim, pt, idx, addr, entry);
		done = true;
	}
	mmn_spin_unlock(&pt->ptl);
	if (!done)
		mmn_put_page(sim, pfn);
}

/* do_anonymous_page(): the zero page for a read, a new page for a write. */
static int do_anonymous_page(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			     unsigned int idx,
			     unsigned long addr, bool write)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long pfn;

	if (!write) {
		mmn_spin_lock(&pt->ptl);
		if (mmn_pte_none(mmn_pte_get(sim, pt, idx, addr)))
			mmn_pte_set(sim, pt, idx, addr, mmn_mk_pte(MMN_ZERO_PFN, 0));
		mmn_spin_unlock(&pt->ptl);
		fault_stat(&sim->fault_stats.zero);
		return 0;
	}
	pfn = mmn_alloc_page(sim, MMN_PG_ANON);
	if (!pfn)
		return -ENOMEM;
	mmn_page_set_anon_rmap(sim, pfn, vma, addr);
	install_new(sim, pt, idx, addr, pfn,
		    mmn_mk_pte(pfn, MMN_PTE_WRITE | MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY |
					    MMN_PTE_ACCESSED));
	fault_stat(&sim->fault_stats.anon);
	return 0;
}

/* do_read_fault()/do_shared_fault() on a MAP_SHARED (shmem) mapping. */
static int do_shared_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			   unsigned int idx, unsigned long addr, bool write)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long index = vma->pgoff + ((addr - vma->start) >> MMN_PAGE_SHIFT);
	unsigned long pfn = shmem_get_page(sim, vma->file, index);

	if (!pfn)
		return -ENOMEM;
	/* shmem needs no write notification: a writable VMA maps writable. */
	install_new(sim, pt, idx, addr, pfn,
		    mmn_mk_pte(pfn, MMN_PTE_ACCESSED |
					    (vma->vm_flags & MMN_VM_WRITE ? MMN_PTE_WRITE : 0) |
					    (write ? MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY : 0)));
	fault_stat(&sim->fault_stats.shared);
	return 0;
}

/*
 * do_wp_page()'s test for reusing a private anonymous page in place. Every
 * era: the only reference and the only mapping (5.9-5.18 page_count() == 1;
 * before 5.9 reuse_swap_page() looked at the mapcount only: modelled with
 * the refcount as well). With cow_reuse_anon_exclusive (5.19+, 6.5 and 6.19
 * do_wp_page()): a page still PageAnonExclusive (no MMN_PG_ANON_SHARED: fork
 * never shared it) is reused whatever its refcount, a pin included; a page
 * reused after fork's sharing becomes exclusive again (wp_can_reuse_anon_folio()
 * then SetPageAnonExclusive()). Compound subpages are never reused here.
 */
static bool wp_can_reuse_anon(struct mmn_mm *mm, unsigned long pfn)
{
	struct mmn_page *p = mmn_pfn_to_page(mm->sim, pfn);
	unsigned int flags;

	if (pfn == MMN_ZERO_PFN)
		return false;
	flags = atomic_load(&p->flags);
	if ((flags & (MMN_PG_ANON | MMN_PG_KSM)) != MMN_PG_ANON)
		return false;
	if (ops_profile(mm)->cow_reuse_anon_exclusive && !(flags & MMN_PG_ANON_SHARED) &&
	    atomic_load(&p->mapcount) == 1)
		return true;
	if (atomic_load(&p->refcount) != 1 || atomic_load(&p->mapcount) != 1)
		return false;
	if (flags & MMN_PG_ANON_SHARED)
		atomic_fetch_and(&p->flags, ~(unsigned int)MMN_PG_ANON_SHARED);
	return true;
}

/*
 * do_wp_page(): a store to a present read-only entry of a writable VMA.
 * Shared mappings and exclusively owned anonymous pages are made writable in
 * place (wp_page_shared()/wp_page_reuse()); anything else is copied
 * (wp_page_copy(): allocate and copy first, then notify CLEAR over the page,
 * and under the PTL clear the old entry and flush the TLB before installing
 * the copy, so no CPU or device keeps reading the old page while another
 * writes the new one; only_end in 4.15-6.5, as the flush was done under the
 * PTL).
 */
static int do_wp_page(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
		      unsigned int idx, unsigned long addr, mmn_pte_t orig)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long old_pfn = mmn_pte_pfn(orig), new_pfn;
	struct mmn_page *old = mmn_pfn_to_page(sim, old_pfn);
	struct mmn_notifier_range range;
	bool reuse, replaced = false;
	uint64_t data;

	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_get(sim, pt, idx, addr) != orig) {
		mmn_spin_unlock(&pt->ptl);
		return 0;
	}
	if (mmn__uffd_pte_wp(vma, orig)) {
		/* userfaultfd_pte_wp() → handle_userfault(VM_UFFD_WP) (5.8-6.19
		 * do_wp_page()): reported, not resolved. WP_ASYNC (6.7+): the
		 * bit is dropped with no flush and the fault goes on. */
		if (!mmn__uffd_wp_async(vma)) {
			mmn_spin_unlock(&pt->ptl);
			return mmn__uffd_wp_fault(vma, addr);
		}
		if (!mmn_pte_cmpxchg(sim, pt, idx, addr, orig, orig & ~MMN_PTE_UFFD_WP)) {
			mmn_spin_unlock(&pt->ptl);
			return 0;
		}
		orig &= ~MMN_PTE_UFFD_WP;
	}
	reuse = (vma->vm_flags & MMN_VM_SHARED) || wp_can_reuse_anon(mm, old_pfn);
	if (reuse) {
		mmn_pte_cmpxchg(sim, pt, idx, addr, orig,
				orig | MMN_PTE_WRITE | MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY |
					MMN_PTE_ACCESSED);
		mmn__notify_access_upgrade(vma->mm, addr); /* arm64 only */
		mmn_spin_unlock(&pt->ptl);
		fault_stat(&sim->fault_stats.reuse);
		return 0;
	}
	/* do_wp_page() takes a reference on the old page under the PTL
	 * (get_page()/folio_get(), every era) and wp_page_copy() drops it at
	 * the end: while this copy is in flight a racing write fault sees a
	 * second reference and copies too, instead of reusing the page the
	 * copy is being taken from. */
	if (old_pfn != MMN_ZERO_PFN)
		mmn_get_page(sim, old_pfn);
	mmn_spin_unlock(&pt->ptl);

	new_pfn = mmn_alloc_page(sim, MMN_PG_ANON);
	if (!new_pfn) {
		if (old_pfn != MMN_ZERO_PFN)
			mmn_put_page(sim, old_pfn);
		return -ENOMEM;
	}
	/* From the copy on, a store into the old page is lost (the oracle's
	 * MMN_PG_STABLE): only a translation that survived the flush of the
	 * entry's write-protection can make one (S3). */
	if (old_pfn != MMN_ZERO_PFN)
		mmn_page_mark_stable(sim, old_pfn);
	data = old_pfn == MMN_ZERO_PFN ? 0 : atomic_load(&old->content);
	atomic_store_explicit(&mmn_pfn_to_page(sim, new_pfn)->content, data, memory_order_relaxed);
	mmn_page_set_anon_rmap(sim, new_pfn, vma, addr);

	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, addr & MMN_PAGE_MASK,
		       (addr & MMN_PAGE_MASK) + MMN_PAGE_SIZE, NULL);
	mmn__notify_start(MMN_OP_COW, &range);
	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_get(sim, pt, idx, addr) == orig) {
		mmn_pte_t entry = mmn_mk_pte(new_pfn, MMN_PTE_WRITE | MMN_PTE_DIRTY |
							       MMN_PTE_SOFT_DIRTY | MMN_PTE_ACCESSED);

		/* ptep_clear_flush[_notify](), then set_pte_at_notify(). */
		mmn__ptep_clear_flush_notify(mm, pt, idx, addr);
		mmn_page_add_map(sim, new_pfn);
		if (ops_profile(mm)->change_pte)
			mmn_notifier_change_pte(mm, addr & MMN_PAGE_MASK, entry);
		mmn_pte_set(sim, pt, idx, addr, entry);
		if (old_pfn != MMN_ZERO_PFN)
			mmn_page_remove_map(sim, old_pfn);
		replaced = true;
	}
	mmn_spin_unlock(&pt->ptl);
	mmn__notify_end_only(&range);
	if (old_pfn != MMN_ZERO_PFN) {
		mmn_page_clear_stable(sim, old_pfn);
		mmn_put_page(sim, old_pfn); /* do_wp_page()'s reference */
	}
	if (!replaced) {
		mmn_put_page(sim, new_pfn);
		return 0;
	}
	/* The mapping's reference on the old page goes last, after the flush. */
	mmn_put_page(sim, old_pfn);
	fault_stat(&sim->fault_stats.cow);
	mmn__op_stat_call(sim, MMN_OP_COW);
	mmn__op_stat_pages(sim, MMN_OP_COW, 1, 0);
	return 0;
}

/*
 * hugetlb_wp() (hugetlb_cow() before 6.1; 4.12, 4.13.4, 4.15, 5.2.1, 5.14,
 * 6.5, 6.19 mm/hugetlb.c): a store to a read-only private hugetlb entry.
 * A page mapped once is reused (made writable; 6.5+ also exclusive again);
 * one fork shares is copied: the huge page allocated and copied first (the
 * old one stable from there), then S(CLEAR, the 2 MiB page) → PMD lock,
 * recheck → huge_ptep_clear_flush() (F1 (+F2 in 6.6+); 3.19-6.5 call
 * ->invalidate_range() right after it, under the lock) → rmap moved to the
 * new page, writable dirty entry → U → the full end (never only_end) →
 * the old page's reference dropped. No huge page left: -ENOMEM (the
 * kernel's unmap_ref_private() of the owner's children is not modelled).
 */
static int hugetlb_wp(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pmd,
		      unsigned long haddr, mmn_pte_t e)
{
	struct mmn_sim *sim = mm->sim;
	unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
	unsigned long old = mmn_pte_pfn(e), copy;
	struct mmn_notifier_range range;
	bool replaced = false;

	mmn_spin_lock(&pmd->ptl);
	if (mmn_pte_get(sim, pmd, idx, haddr) != e) {
		mmn_spin_unlock(&pmd->ptl);
		return 0;
	}
	if ((vma->vm_flags & MMN_VM_SHARED) || atomic_load(&mmn_pfn_to_page(sim, old)->mapcount) == 1) {
		/* set_huge_ptep_writable(); PageAnonExclusive again (6.5+). */
		if (!(vma->vm_flags & MMN_VM_SHARED))
			atomic_fetch_and(&mmn_pfn_to_page(sim, old)->flags,
					 ~(unsigned int)MMN_PG_ANON_SHARED);
		mmn_pte_cmpxchg(sim, pmd, idx, haddr, e,
				e | MMN_PTE_WRITE | MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY);
		mmn_spin_unlock(&pmd->ptl);
		fault_stat(&sim->fault_stats.reuse);
		return 0;
	}
	mmn_spin_unlock(&pmd->ptl);
	copy = mmn_alloc_huge_page(sim, MMN_PG_ANON | MMN_PG_HUGETLB);
	if (!copy)
		return -ENOMEM;
	mmn_page_mark_stable(sim, old);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		atomic_store_explicit(&mmn_pfn_to_page(sim, copy + i)->content,
				      atomic_load(&mmn_pfn_to_page(sim, old + i)->content),
				      memory_order_relaxed);
	mmn_page_set_anon_rmap(sim, copy, vma, haddr);
	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, haddr, haddr + MMN_PMD_SIZE, NULL);
	mmn__notify_start(MMN_OP_COW, &range);
	mmn_spin_lock(&pmd->ptl);
	if (mmn_pte_get(sim, pmd, idx, haddr) == e) {
		(void)mmn_pte_get_and_clear(sim, pmd, idx, haddr);
		mmn_flush_tlb_range(mm, haddr, haddr + MMN_PMD_SIZE);
		(void)mmn__notify_call_site_flush(mm, haddr, haddr + MMN_PMD_SIZE);
		mmn_page_remove_map(sim, old);
		mmn_page_add_map(sim, copy);
		mmn_pte_set(sim, pmd, idx, haddr,
			    mmn_mk_pte(copy, MMN_PTE_HUGE | MMN_PTE_ACCESSED | MMN_PTE_WRITE |
						     MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY));
		replaced = true;
	}
	mmn_spin_unlock(&pmd->ptl);
	mmn__notify_end(&range);
	mmn_page_clear_stable(sim, old);
	mmn_put_page(sim, replaced ? old : copy);
	if (replaced) {
		fault_stat(&sim->fault_stats.cow);
		mmn__op_stat_call(sim, MMN_OP_COW);
		mmn__op_stat_pages(sim, MMN_OP_COW, MMN_HPAGE_NR, 0);
	}
	return 0;
}

/* hugetlb_fault() → hugetlb_no_page() / hugetlb_wp(). */
static int __hugetlb_fault(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr,
			   bool write)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long haddr = addr & MMN_PMD_MASK, pfn;
	struct mmn_ptdesc *pmd;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	bool vwrite = vma->vm_flags & MMN_VM_WRITE;
	mmn_pte_t e;
	int err;

	pmd = mmn_huge_pte_alloc(mm, vma, addr, &err); /* may share (hugetlb.c) */
	if (!pmd)
		return err;
	e = mmn_pte_get(sim, pmd, idx, haddr);
	if (mmn_pte_none(e)) {
		if (vma->file)
			pfn = shmem_get_page(sim, vma->file,
					     (vma->pgoff >> (MMN_PMD_SHIFT - MMN_PAGE_SHIFT)) +
						     ((haddr - vma->start) >> MMN_PMD_SHIFT));
		else
			pfn = mmn_alloc_huge_page(sim, MMN_PG_ANON | MMN_PG_HUGETLB);
		if (!pfn)
			return -ENOMEM;
		if (!vma->file)
			mmn_page_set_anon_rmap(sim, pfn, vma, haddr);
		install_new(sim, pmd, idx, haddr, pfn,
			    mmn_mk_pte(pfn, MMN_PTE_HUGE | MMN_PTE_ACCESSED |
						    (vwrite ? MMN_PTE_WRITE : 0) |
						    (write ? MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY : 0)));
		fault_stat(&sim->fault_stats.huge);
		return 0;
	}
	if (mmn_pte_present(e) && write && !mmn_pte_write(e))
		return hugetlb_wp(mm, vma, pmd, haddr, e);
	return 0;
}

/* i_mmap_rwsem for read across the fault of a shareable mapping: the PMD
 * table it reaches cannot be unshared and freed under it (lib/mm/hugetlb.c). */
static int hugetlb_fault(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr,
			 bool write)
{
	bool locked = mmn_hugetlb_share_lock(vma, false);
	int err = __hugetlb_fault(mm, vma, addr, write);

	if (locked)
		mmn_hugetlb_share_unlock(vma, false);
	return err;
}

/*
 * do_huge_pmd_anonymous_page() (4.x-latest; the huge zero page of a read
 * fault is not modelled: any fault allocates): in a THP-eligible VMA whose
 * 2 MiB-aligned area around @addr lies inside it, with a none PMD entry and
 * a free huge page, map a new anonymous THP by a PMD leaf (dirty, young,
 * writable if the VMA is). Returns 0 (done or lost a race: retry), -errno,
 * or 1: fall back to 4 KiB pages.
 */
static int do_huge_pmd_anonymous_page(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long haddr = addr & MMN_PMD_MASK, pfn;
	unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
	struct mmn_ptdesc *pmd;
	bool done;
	int err;

	if (haddr < vma->start || haddr + MMN_PMD_SIZE > vma->end)
		return 1;
	pmd = mmn_pt_walk_alloc(mm, haddr, MMN_LVL_PMD, NULL, &err);
	if (!pmd)
		return err;
	if (!mmn_pte_none(mmn_pte_get(sim, pmd, idx, haddr)))
		return 1;
	pfn = mmn_alloc_huge_page(sim, MMN_PG_ANON);
	if (!pfn)
		return 1; /* THP_FAULT_FALLBACK */
	mmn_page_set_anon_rmap(sim, pfn, vma, haddr);
	/* Under the PMD lock, from none only (a PTE table may be populated
	 * concurrently under mm->page_table_lock: both are compare-and-swaps). */
	mmn_spin_lock(&pmd->ptl);
	mmn_page_add_map(sim, pfn);
	done = mmn_pte_cmpxchg(sim, pmd, idx, haddr, 0,
			       mmn_mk_pte(pfn, MMN_PTE_HUGE | MMN_PTE_ACCESSED | MMN_PTE_DIRTY |
						       MMN_PTE_SOFT_DIRTY |
						       (vma->vm_flags & MMN_VM_WRITE ? MMN_PTE_WRITE
										 : 0)));
	if (!done)
		mmn_page_remove_map(sim, pfn);
	mmn_spin_unlock(&pmd->ptl);
	if (!done) {
		mmn_put_page(sim, pfn);
		return 0;
	}
	fault_stat(&sim->fault_stats.huge);
	return 0;
}

/*
 * A fault on an anonymous PMD leaf (or a leaf being split) of a 4 KiB VMA:
 * do_huge_pmd_numa_page() for a PROT_NONE leaf of an accessible VMA;
 * do_huge_pmd_wp_page() for a store to a read-only leaf: reused in place
 * when the THP is mapped only here with no other reference, else (5.8+)
 * the PMD is split and the access retried, so the COW copies 4 KiB.
 */
static int do_huge_pmd_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pmd,
			     unsigned long addr, bool write)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long haddr = addr & MMN_PMD_MASK;
	unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
	mmn_pte_t e = mmn_pte_get(sim, pmd, idx, haddr);
	struct mmn_page *p;
	bool reuse;

	if (vma->file || !mmn_pmd_mapped_leaf(e)) {
		/* A split under way: wait for the PMD lock, then retry. */
		mmn_spin_lock(&pmd->ptl);
		mmn_spin_unlock(&pmd->ptl);
		return 0;
	}
	if (mmn_pte_protnone(e)) {
		mmn_spin_lock(&pmd->ptl);
		if (mmn_pte_cmpxchg(sim, pmd, idx, haddr, e,
				    (e | MMN_PTE_PRESENT | MMN_PTE_ACCESSED) & ~MMN_PTE_PROTNONE))
			fault_stat(&sim->fault_stats.numa);
		mmn_spin_unlock(&pmd->ptl);
		return 0;
	}
	if (!write || mmn_pte_write(e))
		return 0;
	if (mmn__uffd_pte_wp(vma, e)) /* wp_huge_pmd(): userfaultfd_huge_pmd_wp() */
		return mmn__uffd_wp_async(vma) ? mmn__split_huge_pmd(mm, haddr)
					       : mmn__uffd_wp_fault(vma, addr);
	p = mmn_pfn_to_page(sim, mmn_pte_pfn(e));
	mmn_spin_lock(&pmd->ptl);
	reuse = mmn_pte_get(sim, pmd, idx, haddr) == e && atomic_load(&p->refcount) == 1 &&
		atomic_load(&p->mapcount) == 1 && !atomic_load(&p->pincount);
	if (reuse)
		mmn_pte_cmpxchg(sim, pmd, idx, haddr, e,
				e | MMN_PTE_WRITE | MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY |
					MMN_PTE_ACCESSED);
	mmn_spin_unlock(&pmd->ptl);
	if (reuse) {
		fault_stat(&sim->fault_stats.reuse);
		return 0;
	}
	/* __split_huge_pmd(), then VM_FAULT_FALLBACK: the retry COWs 4 KiB. */
	return mmn__split_huge_pmd(mm, haddr);
}

/*
 * do_swap_page(), simplified: a page still being reclaimed is waited for
 * (its lock) and the access retried; otherwise a new private frame gets the
 * slot's content and is mapped with the VMA's permission if the entry is
 * still the one that faulted (pte_same()), and the entry's reference on the
 * slot is dropped.
 */
static int do_swap_page(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			unsigned int idx, unsigned long addr, mmn_pte_t orig, bool write)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long slot = mmn_pte_pfn(orig), cache_pfn, pfn;
	bool done = false;
	uint64_t content;

	mmn_swap_read(sim, slot, &content, &cache_pfn);
	if (cache_pfn) {
		mmn_wait_on_page_locked(sim, cache_pfn);
		return 0;
	}
	pfn = mmn_alloc_page(sim, MMN_PG_ANON);
	if (!pfn)
		return -ENOMEM;
	atomic_store_explicit(&mmn_pfn_to_page(sim, pfn)->content, content, memory_order_relaxed);
	mmn_page_set_anon_rmap(sim, pfn, vma, addr);
	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_get(sim, pt, idx, addr) == orig) {
		bool w = vma->vm_flags & MMN_VM_WRITE;

		mmn_page_add_map(sim, pfn);
		mmn_pte_set(sim, pt, idx, addr,
			    mmn_mk_pte(pfn, MMN_PTE_ACCESSED | (w ? MMN_PTE_WRITE : 0) |
						    (w && write ? MMN_PTE_DIRTY : 0) |
						    (orig & MMN_PTE_SOFT_DIRTY)));
		done = true;
	}
	mmn_spin_unlock(&pt->ptl);
	if (!done) {
		mmn_put_page(sim, pfn);
		return 0;
	}
	mmn_swap_free(sim, slot);
	return 0;
}

/*
 * numa_migrate_check() → mpol_misplaced() with the default local policy
 * (lib/mm/numa.c): the node the page of @e should move to, or -1. Only a
 * small anonymous or page-cache page, faulted from a known CPU, with more
 * than one node; the two-fault filter of should_numa_migrate_memory() is
 * not modelled (the first misplaced fault migrates).
 */
static int numa_migrate_target(struct mmn_sim *sim, mmn_pte_t e, int cpu)
{
	unsigned long pfn = mmn_pte_pfn(e);
	unsigned int nid;

	if (cpu < 0 || mmn__nr_nodes(sim) < 2 || pfn == MMN_ZERO_PFN ||
	    mmn_pfn_is_huge(sim, pfn) ||
	    (atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) & MMN_PG_KSM))
		return -1;
	nid = mmn__cpu_nid(sim, cpu);
	return mmn__pfn_nid(sim, pfn) == nid ? -1 : (int)nid;
}

/* The misplaced page of @orig goes to node @target (migrate_misplaced_folio()
 * → the migrate path of lib/ops/migrate.c); the caller holds a reference. */
static void numa_migrate(struct mmn_sim *sim, mmn_pte_t orig, int target)
{
	mmn__op_stat_call(sim, MMN_OP_MIGRATE);
	mmn__op_stat_pages(sim, MMN_OP_MIGRATE, mmn__migrate_one(sim, mmn_pte_pfn(orig), target), 0);
}

/*
 * do_numa_page(): a CPU touched a PROT_NONE hinting entry of an accessible
 * VMA (change_prot_numa()). Under the PTL, if the entry is still the one
 * that faulted, numa_migrate_check() decides whether its page is misplaced.
 * 5.14+ (6.19 mm/memory.c): a misplaced page is migrated with the entry
 * still PROT_NONE (a reference taken, the PTL dropped; the migrate path
 * notifies CLEAR per mapping and replaces the entry by a migration entry,
 * then the new page); the entry is made present only if the migration
 * failed, or for a page that stays. numa_map_before_migrate (4.12-5.10):
 * the entry is made present first (ptep_modify_prot_start/commit), then the
 * page migrated, whose unmap then clears and flushes a present entry. A
 * fault with no CPU (GUP, populate) or one node never migrates. Counted as
 * a NUMA fault; the access is retried, and a store to an entry that was
 * read-only still takes the write fault.
 */
static int do_numa_page(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
			unsigned long addr, mmn_pte_t orig, int cpu)
{
	struct mmn_sim *sim = mm->sim;
	mmn_pte_t present = (orig | MMN_PTE_PRESENT | MMN_PTE_ACCESSED) & ~MMN_PTE_PROTNONE;
	bool first = ops_profile(mm)->numa_map_before_migrate, done = false;
	int target;

	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_get(sim, pt, idx, addr) != orig) {
		mmn_spin_unlock(&pt->ptl);
		return 0;
	}
	target = numa_migrate_target(sim, orig, cpu);
	if (first || target < 0) {
		/* Present now: the old order, or a page that stays (out_map). */
		done = mmn_pte_cmpxchg(sim, pt, idx, addr, orig, present);
		if (!done)
			target = -1;
	}
	if (target >= 0) /* migrate_misplaced_folio_prepare(): a reference */
		atomic_fetch_add_explicit(&mmn_pfn_to_page(sim, mmn_pte_pfn(orig))->refcount, 1,
					  memory_order_relaxed);
	mmn_spin_unlock(&pt->ptl);
	if (done || target >= 0)
		fault_stat(&sim->fault_stats.numa);
	if (target < 0)
		return 0;
	numa_migrate(sim, orig, target);
	if (first)
		return 0;
	/* out_map after a failed migration: the entry is still the one that
	 * faulted (a migrated page's entry now maps the new page). */
	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_get(sim, pt, idx, addr) == orig)
		mmn_pte_cmpxchg(sim, pt, idx, addr, orig, present);
	mmn_spin_unlock(&pt->ptl);
	return 0;
}

/* handle_mm_fault() → __handle_mm_fault() → handle_pte_fault(), from CPU
 * @cpu (-1: unknown, a GUP or populate fault: no NUMA migration). */
static int handle_mm_fault(struct mmn_mm *mm, unsigned long addr, unsigned int flags, int cpu)
{
	struct mmn_sim *sim;
	struct mmn_vma *vma;
	struct mmn_ptdesc *pt, *leaf_pmd;
	bool write = flags & MMN_FAULT_WRITE;
	unsigned int idx;
	mmn_pte_t e;
	int err;

	if (mmn__mm_dead(mm) || (flags & ~MMN_FAULT_WRITE))
		return -EINVAL;
	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	sim = mm->sim;
	vma = mmn_vma_lookup(mm, addr);
	if (!vma)
		return -EFAULT;
	if (!(vma->vm_flags & (write ? MMN_VM_WRITE : MMN_VM_READ)))
		return -EACCES;
	fault_stat(&sim->fault_stats.faults);
	if (vma->vm_flags & MMN_VM_HUGETLB)
		return hugetlb_fault(mm, vma, addr, write);
	if (mmn__thp_vma_eligible(vma)) {
		err = do_huge_pmd_anonymous_page(mm, vma, addr);
		if (err <= 0)
			return err;
	}

	pt = mmn_pt_walk_alloc(mm, addr, MMN_LVL_PTE, &leaf_pmd, &err);
	if (!pt)
		return leaf_pmd ? do_huge_pmd_fault(mm, vma, leaf_pmd, addr, write) : err;
	idx = mmn_pt_index(addr, MMN_LVL_PTE);
	e = mmn_pte_get(sim, pt, idx, addr);
	if (mmn_pte_none(e) && vma->file && vma->file->disk) /* a regular file: filemap.c */
		return mmn__filemap_fault(mm, vma, pt, idx, addr, write);
	if (mmn_pte_none(e))
		return vma->file ? do_shared_fault(mm, vma, pt, idx, addr, write)
				 : do_anonymous_page(mm, vma, pt, idx, addr, write);
	if (mmn_pte_protnone(e))
		/* The VMA is accessible (checked above): a NUMA hint. */
		return do_numa_page(mm, pt, idx, addr, e, cpu);
	/* A swapped-out page (reclaim); a page under migration: wait for the
	 * migration to unlock it (migration_entry_wait()), then retry. */
	if (mmn_pte_swp_type(e) == MMN_SWP_SWAP)
		return do_swap_page(mm, vma, pt, idx, addr, e, write);
	if (mmn_pte_swp_type(e) == MMN_SWP_MIGRATION_READ ||
	    mmn_pte_swp_type(e) == MMN_SWP_MIGRATION_WRITE) {
		mmn_wait_on_page_locked(sim, mmn_pte_pfn(e));
		return 0;
	}
	if (mmn_pte_swp_type(e) == MMN_SWP_HWPOISON)
		return -EHWPOISON; /* do_swap_page(): VM_FAULT_HWPOISON (SIGBUS) */
	if (mmn_pte_device(e))
		/* Device-private (migrate_to_ram) or device-exclusive (restore). */
		return mmn_do_device_fault(mm, vma, pt, idx, addr, e, write);
	if (!mmn_pte_present(e))
		/* Migration and device entries arrive with the operations that
		 * create them; until then none can be found here. */
		return -EFAULT;
	if (write && !mmn_pte_write(e) && vma->file && vma->file->disk)
		return mmn__filemap_wp_page(mm, vma, pt, idx, addr, e);
	if (write && !mmn_pte_write(e))
		return do_wp_page(mm, vma, pt, idx, addr, e);
	return 0; /* spurious: another CPU resolved it first */
}

int mmn_handle_mm_fault(struct mmn_mm *mm, unsigned long addr, unsigned int flags)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "handle_mm_fault", addr, addr + 1, NULL);
	err = handle_mm_fault(mm, addr, flags, -1);
	mmn_sched_span_end(sim, "handle_mm_fault");
	return err;
}

/*
 * follow_page_pte() under the PTL: the frame of @addr if its entry allows
 * the access, with a reference and a pin taken. 0 if a fault is needed.
 */
static unsigned long follow_and_pin(struct mmn_mm *mm, unsigned long addr, bool write,
				    uint32_t *gen)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	unsigned long pfn = 0;
	mmn_pte_t e;

	if (!pt) {
		/* A PMD leaf, or nothing mapped. */
		pt = mmn_pt_walk(mm, addr, MMN_LVL_PMD);
		if (!pt)
			return 0;
		idx = mmn_pt_index(addr, MMN_LVL_PMD);
	}
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(sim, pt, idx, addr);
	if (mmn_pte_present(e) && (!write || mmn_pte_write(e)) &&
	    (pt->level == MMN_LVL_PTE || mmn_pmd_leaf(e))) {
		unsigned long mapped = mmn_pte_pfn(e);

		pfn = mapped;
		if (pt->level == MMN_LVL_PMD)
			pfn += (addr & ~MMN_PMD_MASK) >> MMN_PAGE_SHIFT;
		if (mapped != MMN_ZERO_PFN) {
			/* try_grab_folio(): the reference and the pin are the
			 * folio's, also where a PTE maps a page of a THP whose
			 * PMD was split (unpin_user_page() finds the same head) */
			unsigned long folio = mmn_compound_head(sim, mapped);

			atomic_fetch_add(&mmn_pfn_to_page(sim, folio)->refcount, 1);
			atomic_fetch_add(&mmn_pfn_to_page(sim, folio)->pincount, 1);
		}
		*gen = mmn_page_gen(sim, mapped);
		if (!pfn)
			pfn = ~0UL; /* the zero page, not "none" */
	}
	mmn_spin_unlock(&pt->ptl);
	return pfn;
}

int mmn_get_user_pages(struct mmn_mm *mm, unsigned long addr, unsigned int foll,
		       unsigned long *pfn, uint32_t *gen)
{
	bool write = foll & MMN_FOLL_WRITE;
	uint32_t g = 0;
	int err = 0;

	if (mmn__mm_dead(mm) || !pfn || (foll & ~MMN_FOLL_WRITE))
		return -EINVAL;
	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	mmn_mmap_read_lock(mm);
	for (int tries = 0;; tries++) {
		unsigned long got;
		struct mmn_vma *vma = mmn_vma_lookup(mm, addr);
		bool hl;

		/* check_vma_flags(): refuse before faulting. */
		if (!vma) {
			err = -EFAULT;
			break;
		}
		if (!(vma->vm_flags & (write ? MMN_VM_WRITE : MMN_VM_READ))) {
			err = -EACCES;
			break;
		}
		/* hugetlb_follow_page_mask() under the lock that keeps a shared
		 * PMD table from being unshared and freed (lib/mm/hugetlb.c). */
		hl = mmn_hugetlb_share_lock(vma, false);
		got = follow_and_pin(mm, addr, write, &g);
		if (hl)
			mmn_hugetlb_share_unlock(vma, false);
		if (got) {
			*pfn = got == ~0UL ? MMN_ZERO_PFN : got;
			break;
		}
		if (tries >= 1000) {
			err = -EAGAIN;
			break;
		}
		err = mmn_handle_mm_fault(mm, addr, write ? MMN_FAULT_WRITE : 0);
		if (err)
			break;
	}
	mmn_mmap_read_unlock(mm);
	if (!err && gen)
		*gen = g;
	return err;
}

int mmn_unpin_user_page(struct mmn_sim *sim, unsigned long pfn)
{
	int err;
	struct mmn_page *p = mmn__page_ref_target(sim, &pfn, NULL, &err);

	if (!p)
		return err;
	if (atomic_load(&p->pincount) <= 0) {
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, pfn, "unpin of frame %lu that is not pinned",
			    pfn);
		return -EINVAL;
	}
	atomic_fetch_sub(&p->pincount, 1);
	return mmn_put_page(sim, pfn);
}

/* ---------------------------------------------------------------- */
/* Zap: unmap_page_range() and friends                               */
/* ---------------------------------------------------------------- */

/*
 * zap_pte_range(), all versions: clear each PTE under the PTL, hand the
 * mapping's page reference to the gather. When the gather's batch fills,
 * flush the TLB while still holding the PTL, then drop it and free the
 * batch (the force_flush path), then continue.
 */
static unsigned long zap_pte_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				   struct mmn_ptdesc *pte, unsigned long addr, unsigned long end)
{
	struct mmn_sim *sim = vma->mm->sim;
	unsigned long zapped = 0;

	while (addr < end) {
		bool force_flush = false;

		mmn_spin_lock(&pte->ptl);
		for (; addr < end && !force_flush; addr += MMN_PAGE_SIZE) {
			unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
			mmn_pte_t e = mmn_pte_get(sim, pte, idx, addr);
			unsigned long pfn;

			if (mmn_pte_none(e))
				continue;
			e = mmn_pte_get_and_clear(sim, pte, idx, addr);
			/* Swap-style entries hold no mapping; PROT_NONE ones do. */
			if (mmn_pte_swp_type(e) == MMN_SWP_SWAP)
				mmn_swap_free(sim, mmn_pte_pfn(e)); /* free_swap_and_cache() */
			if (mmn_pte_device(e)) {
				/* Device-private/exclusive entries map their page
				 * (no CPU translation to flush). */
				zapped++;
				mmn_page_remove_map(sim, mmn_pte_pfn(e));
				force_flush = mmn_tlb_remove_page(tlb, mmn_pte_pfn(e));
				continue;
			}
			if (!mmn_pte_mapped(e))
				continue;
			pfn = mmn_pte_pfn(e);
			zapped++;
			mmn_tlb_flush_pte_range(tlb, addr, MMN_PAGE_SIZE);
			if (pfn == MMN_ZERO_PFN)
				continue;
			if (mmn_pte_dirty(e))
				atomic_fetch_or(&mmn_pfn_to_page(sim, pfn)->flags, MMN_PG_DIRTY);
			mmn_page_remove_map(sim, pfn);
			force_flush = mmn_tlb_remove_page(tlb, pfn);
		}
		if (force_flush)
			mmn_tlb_flush_mmu_tlbonly(tlb);
		mmn_spin_unlock(&pte->ptl);
		if (force_flush)
			mmn_tlb_flush_mmu(tlb);
	}
	return zapped;
}

/* zap_huge_pmd() for a PMD leaf covered whole: hugetlb (__unmap_hugepage_range())
 * or an anonymous THP (zap_huge_pmd(): the folio goes to the gather). */
static unsigned long zap_huge_pmd(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				  struct mmn_ptdesc *pmd, unsigned long addr)
{
	struct mmn_sim *sim = vma->mm->sim;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	mmn_pte_t e;

	mmn_spin_lock(&pmd->ptl);
	e = mmn_pte_get_and_clear(sim, pmd, idx, addr);
	if (mmn_pmd_mapped_leaf(e)) {
		mmn_tlb_flush_pte_range(tlb, addr, MMN_PMD_SIZE);
		mmn_page_remove_map(sim, mmn_pte_pfn(e));
		if (mmn_tlb_remove_page(tlb, mmn_pte_pfn(e)))
			mmn_tlb_flush_mmu_tlbonly(tlb);
	}
	mmn_spin_unlock(&pmd->ptl);
	return mmn_pmd_mapped_leaf(e) ? MMN_HPAGE_NR : 0;
}

static inline unsigned long level_end(unsigned long addr, int level, unsigned long end)
{
	unsigned long size = mmn_pt_entry_size(level);
	unsigned long next = (addr & ~(size - 1)) + size;

	return next - 1 < end - 1 ? next : end;
}

/* unmap_page_range() over [start, end) of @vma, skipping empty subtrees.
 * Returns the number of 4 KiB mappings removed. */
unsigned long mmn_zap_vma_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	unsigned long addr = start, zapped = 0;

	if (vma->vm_flags & MMN_VM_HUGETLB) { /* PMD sharing: lib/mm/hugetlb.c */
		if (ops_profile(mm)->hugetlb_unmap_nested_notify)
			return mmn__hugetlb_zap_nested(tlb, vma, start, end);
		return mmn_hugetlb_zap_range(tlb, vma, start, end);
	}
	while (addr < end) {
		struct mmn_ptdesc *pt = mm->pgd;
		unsigned long next = end;

		for (int l = MMN_LVL_PGD; l >= MMN_LVL_PMD; l--) {
			mmn_pte_t e = mmn_pte_get(sim, pt, mmn_pt_index(addr, l), addr);

			next = level_end(addr, l, end);
			if (l == MMN_LVL_PMD && e == OPS_PMD_SPLITTING) {
				/* A split under way: wait for its PMD lock. */
				mmn_spin_lock(&pt->ptl);
				mmn_spin_unlock(&pt->ptl);
				e = mmn_pte_get(sim, pt, mmn_pt_index(addr, l), addr);
			}
			if (l == MMN_LVL_PMD && mmn_pmd_mapped_leaf(e) &&
			    !(vma->vm_flags & MMN_VM_HUGETLB) &&
			    (addr & ~MMN_PMD_MASK || next - addr < MMN_PMD_SIZE)) {
				/* zap_pmd_range(): part of a THP: __split_huge_pmd()
				 * first. With no frame for the PTE table (the model
				 * deposits none at fault time) the THP stays. */
				if (mmn__split_huge_pmd(mm, addr))
					break;
				e = mmn_pte_get(sim, pt, mmn_pt_index(addr, l), addr);
			}
			if (l == MMN_LVL_PMD && mmn_pmd_mapped_leaf(e)) {
				zapped += zap_huge_pmd(tlb, vma, pt, addr);
				break;
			}
			if (!mmn_pte_present(e))
				break;
			if (l == MMN_LVL_PMD)
				zapped += zap_pte_range(tlb, vma, mmn_pt_child(sim, e), addr, next);
			else
				pt = mmn_pt_child(sim, e);
		}
		addr = next;
	}
	return zapped;
}

static int cpu_access_check(struct mmn_mm *mm, int cpu, unsigned long addr, const void *val)
{
	if (mmn__mm_dead(mm) || !val || cpu < 0 || (unsigned int)cpu >= mm->sim->cfg.nr_cpus)
		return -EINVAL;
	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	return 0;
}

/* Give up after this many faults for one access (the kernel would spin). */
#define CPU_MAX_FAULT_RETRIES 1000

/*
 * The access as the hardware and the fault handler make it: the TLB access
 * (hit, else a page walk that fills the TLB: lib/mm/tlb.c); when the walk
 * finds no usable translation, the page-fault exception runs
 * handle_mm_fault() under mmap_lock for read and the access is retried.
 */
static int cpu_access(struct mmn_mm *mm, int cpu, unsigned long addr, bool write, uint64_t *val)
{
	int err = mmn_tlb_access(mm, cpu, addr, write, val);

	for (int tries = 0; err == -EAGAIN; tries++) {
		if (tries >= CPU_MAX_FAULT_RETRIES)
			return -EAGAIN;
		mmn_mmap_read_lock(mm);
		err = handle_mm_fault(mm, addr, write ? MMN_FAULT_WRITE : 0, cpu);
		mmn_mmap_read_unlock(mm);
		if (err)
			return err;
		err = mmn__tlb_access_walk(mm, cpu, addr, write, val);
	}
	return err;
}

int mmn_cpu_read(struct mmn_mm *mm, int cpu, unsigned long addr, uint64_t *val)
{
	int err = cpu_access_check(mm, cpu, addr, val);

	return err ? err : cpu_access(mm, cpu, addr, false, val);
}

int mmn_cpu_write(struct mmn_mm *mm, int cpu, unsigned long addr, uint64_t val)
{
	int err = cpu_access_check(mm, cpu, addr, &val);

	return err ? err : cpu_access(mm, cpu, addr, true, &val);
}
