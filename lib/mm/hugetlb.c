// SPDX-License-Identifier: MIT
/*
 * hugetlb PMD sharing (mm/hugetlb.c: huge_pmd_share(), huge_pmd_unshare(),
 * the hugetlb part of the zap, hugetlb_walk()/huge_pte_alloc()).
 *
 * Shared hugetlb mappings (MAP_SHARED|MAP_HUGETLB) of the same object that
 * cover a whole PUD-aligned 1 GiB area at the same object offset, with the
 * same flags, may point their PUD entries at one PMD table (x86-64 since
 * 2.6.39): the second mm to fault there, or fork, finds another VMA on the
 * object's i_mmap whose mm already has a PMD table at the corresponding
 * address and populates its own PUD entry with that table.
 *
 * The share count is the table frame's refcount (the kernel's page_count()
 * of the PMD page up to 6.12; ptdesc->pt_share_count + 1 since): 1 for the
 * mm that allocated it, +1 for every other PUD entry pointing at it. Each
 * mm counts the table in its nr_ptes (mm_inc_nr_pmds() in huge_pmd_share()).
 * The leaves are not duplicated: a huge page mapped through a shared table
 * has ONE mapcount and ONE mapping reference, whatever the number of mms
 * that see it (the kernel does not bump the mapcount for the sharers). The
 * audit (audit.c) counts a shared table's leaves once and its frame
 * references once per PUD entry.
 *
 * Locking, as the kernel's 5.7-5.19 scheme (i_mmap_rwsem for PMD-sharing
 * synchronisation, before the hugetlb vma_lock of 6.0): a hugetlb fault and
 * get_user_pages() on a shareable mapping hold the object's i_mmap_rwsem
 * for read, so a table they reached cannot be unshared under them and freed
 * by the last sharer; huge_pmd_unshare() runs with i_mmap_rwsem held for
 * write (the zap, mprotect, and the hugetlb rmap walk of reclaim and
 * migration: lib/ops/hugetlb.c) and with the PMD table's lock held. A table
 * is freed only after its VMA left i_mmap (free_pgtables()), and then only
 * if no other mm shares it; free_pgtables() itself drops a share without
 * i_mmap_rwsem, which is why dropping one is a decrement-if-above-one and
 * why the last sharer waits out the lock of a table once shared before
 * freeing it.
 */
#include "mm/mm_internal.h"

/* vma_shareable(): a shared hugetlb VMA spanning the PUD-aligned area of @addr. */
bool mmn_hugetlb_vma_shareable(const struct mmn_vma *vma, unsigned long addr)
{
	unsigned long base = addr & MMN_PUD_MASK, end = base + MMN_PUD_SIZE;

	return (vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)) ==
		       (MMN_VM_SHARED | MMN_VM_HUGETLB) &&
	       vma->file && base >= vma->start && end <= vma->end;
}

/* The PUD table of @mm covering @addr without allocating, or NULL. */
static struct mmn_ptdesc *pud_table(struct mmn_mm *mm, unsigned long addr)
{
	mmn_pte_t e = mmn_pte_get(mm->sim, mm->pgd, mmn_pt_index(addr, MMN_LVL_PGD), addr);

	return mmn_pte_present(e) ? mmn_pt_child(mm->sim, e) : NULL;
}

/*
 * page_table_shareable() + hugetlb_walk(): the PMD table @svma's mm has at
 * the address corresponding to @addr of @vma, if @svma may share it.
 */
static struct mmn_ptdesc *shareable_table(const struct mmn_vma *vma, struct mmn_vma *svma,
					  unsigned long addr)
{
	unsigned long saddr, sbase, idx;
	struct mmn_ptdesc *pud;
	mmn_pte_t e;

	if (svma == vma || svma->file != vma->file || svma->vm_flags != vma->vm_flags)
		return NULL;
	idx = vma->pgoff + ((addr - vma->start) >> MMN_PAGE_SHIFT);
	if (idx < svma->pgoff)
		return NULL;
	saddr = svma->start + ((idx - svma->pgoff) << MMN_PAGE_SHIFT);
	sbase = saddr & MMN_PUD_MASK;
	/* Same position inside the PUD area, and the whole area in svma. */
	if ((saddr & ~MMN_PUD_MASK) != (addr & ~MMN_PUD_MASK) || sbase < svma->start ||
	    sbase + MMN_PUD_SIZE > svma->end)
		return NULL;
	pud = pud_table(svma->mm, saddr);
	if (!pud)
		return NULL;
	e = mmn_pte_get(svma->mm->sim, pud, mmn_pt_index(saddr, MMN_LVL_PUD), saddr);
	return mmn_pte_present(e) ? mmn_pt_child(svma->mm->sim, e) : NULL;
}

/*
 * huge_pmd_share(): under mmap_lock and i_mmap_rwsem for read; the caller
 * made sure the PUD table exists. Populates the PUD entry with another mm's
 * PMD table if one can be shared.
 */
static void huge_pmd_share(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pud,
			   unsigned long addr)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_list_head *head = &vma->file->i_mmap, *n;
	struct mmn_ptdesc *spte = NULL;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PUD);

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	mmn__lockdep_assert_held(&vma->file->i_mmap_rwsem, "i_mmap_rwsem");
	for (n = head->next; n != head; n = n->next) {
		struct mmn_vma *svma = mmn_container_of(n, struct mmn_vma, rmap_link);

		spte = shareable_table(vma, svma, addr);
		if (spte) {
			/* ptdesc_pmd_pts_inc() / get_page(). */
			atomic_fetch_add_explicit(&mmn_pfn_to_page(sim, spte->pfn)->refcount, 1,
						  memory_order_relaxed);
			break;
		}
	}
	if (!spte)
		return;
	mmn_spin_lock(&mm->page_table_lock);
	if (mmn_pte_none(mmn_pte_get(sim, pud, idx, addr))) {
		atomic_store(&spte->pmd_shared, true);
		mmn_pte_set(sim, pud, idx, addr, mmn_mk_table_entry(spte->pfn));
		atomic_fetch_add_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
		spte = NULL;
	}
	mmn_spin_unlock(&mm->page_table_lock);
	if (spte) /* populated meanwhile: ptdesc_pmd_pts_dec(); never the last */
		atomic_fetch_sub_explicit(&mmn_pfn_to_page(sim, spte->pfn)->refcount, 1,
					  memory_order_relaxed);
}

struct mmn_ptdesc *mmn_huge_pte_alloc(struct mmn_mm *mm, struct mmn_vma *vma,
				      unsigned long addr, int *err)
{
	struct mmn_ptdesc *pud;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	if (mmn_hugetlb_vma_shareable(vma, addr)) {
		pud = mmn_pt_walk_alloc(mm, addr, MMN_LVL_PUD, NULL, err);
		if (!pud)
			return NULL;
		if (mmn_pte_none(mmn_pte_get(mm->sim, pud, mmn_pt_index(addr, MMN_LVL_PUD), addr)))
			huge_pmd_share(mm, vma, pud, addr);
	}
	return mmn_pt_walk_alloc(mm, addr, MMN_LVL_PMD, NULL, err);
}

bool mmn_hugetlb_share_lock(struct mmn_vma *vma, bool write)
{
	if ((vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)) != (MMN_VM_SHARED | MMN_VM_HUGETLB) ||
	    !vma->file)
		return false;
	if (write)
		mmn_down_write(&vma->file->i_mmap_rwsem);
	else
		mmn_down_read(&vma->file->i_mmap_rwsem);
	return true;
}

void mmn_hugetlb_share_unlock(struct mmn_vma *vma, bool write)
{
	if (write)
		mmn_up_write(&vma->file->i_mmap_rwsem);
	else
		mmn_up_read(&vma->file->i_mmap_rwsem);
}

bool mmn_pmd_table_drop_share(struct mmn_sim *sim, struct mmn_ptdesc *pmdt)
{
	_Atomic int *ref = &mmn_pfn_to_page(sim, pmdt->pfn)->refcount;
	int c = atomic_load_explicit(ref, memory_order_relaxed);

	while (c > 1)
		if (atomic_compare_exchange_weak_explicit(ref, &c, c - 1, memory_order_acq_rel,
							  memory_order_relaxed))
			return true;
	return false;
}

unsigned long mmn_huge_pmd_unshare(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr,
				   struct mmn_ptdesc *pmdt)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pud;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PUD);
	unsigned long mapped;

	if (!(vma->vm_flags & MMN_VM_SHARED) || !vma->file)
		return 0;
	mmn__lockdep_assert_held(&vma->file->i_mmap_rwsem, "i_mmap_rwsem");
	mmn__lockdep_assert_held(&pmdt->ptl, "PTL");
	pud = pud_table(mm, addr);
	if (!pud || mmn_pte_pfn(mmn_pte_get(sim, pud, idx, addr)) != pmdt->pfn ||
	    !mmn_pte_present(mmn_pte_get(sim, pud, idx, addr)))
		return 0;
	mapped = (unsigned long)atomic_load(&pmdt->nr_used);
	if (!mmn_pmd_table_drop_share(sim, pmdt))
		return 0;
	/* pud_clear(); the dropped share was ours. mm_dec_nr_pmds(). */
	mmn_pte_get_and_clear(sim, pud, idx, addr);
	atomic_fetch_sub_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
	/* Lockless walkers of this mm that are not CPUs (mmn_pgtable_walk())
	 * may be inside the table: wait them out before the last sharer can
	 * free it (CPU walkers are waited out by the caller's TLB flush). */
	mmn_raw_lock(&mm->walk_lock);
	mmn_raw_unlock(&mm->walk_lock);
	/* What this mm no longer maps, in 4 KiB pages (at least one: true). */
	return mapped ? mapped * MMN_HPAGE_NR : 1;
}

/* The hugetlb leaf zap (__unmap_hugepage_range() for one huge page). */
static unsigned long zap_hugetlb_leaf(struct mmn_mmu_gather *tlb, struct mmn_ptdesc *pmd,
				      unsigned long addr)
{
	struct mmn_sim *sim = tlb->mm->sim;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	mmn_pte_t e = mmn_pte_get_and_clear(sim, pmd, idx, addr);

	if (!mmn_pmd_mapped_leaf(e))
		return 0;
	mmn_tlb_flush_pte_range(tlb, addr, MMN_PMD_SIZE);
	if (mmn_pte_dirty(e))
		atomic_fetch_or(&mmn_pfn_to_page(sim, mmn_pte_pfn(e))->flags, MMN_PG_DIRTY);
	mmn_page_remove_map(sim, mmn_pte_pfn(e));
	if (mmn_tlb_remove_page(tlb, mmn_pte_pfn(e)))
		mmn_tlb_flush_mmu_tlbonly(tlb);
	return MMN_HPAGE_NR;
}

/*
 * __unmap_hugepage_range() (4.19+ shape, with i_mmap_rwsem held for write
 * around it as __unmap_hugepage_range_final() and unmap_hugepage_range()
 * take it): per huge page, under the PMD table's lock, first
 * huge_pmd_unshare(): if this mm's PMD table was shared, its PUD entry is
 * cleared (the whole PUD-aligned 1 GiB of this mm is unmapped at once), the
 * PUD range is recorded in the gather (tlb_flush_pmd_range()) and the walk
 * skips to the next PUD area; else the leaf is cleared and its page
 * gathered. If anything was unshared, the gather is flushed (F1, and F2 in
 * call_sites profiles) before i_mmap_rwsem is dropped: the last sharer may
 * free the table right after.
 */
unsigned long mmn_hugetlb_zap_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				    unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = vma->mm;
	unsigned long addr = start, zapped = 0;
	bool locked = mmn_hugetlb_share_lock(vma, true), force_flush = false;

	while (addr < end) {
		struct mmn_ptdesc *pmd = mmn_pt_walk(mm, addr, MMN_LVL_PMD);
		unsigned long pud_next = (addr & MMN_PUD_MASK) + MMN_PUD_SIZE, n;

		if (!pmd) {
			addr = pud_next;
			continue;
		}
		mmn_spin_lock(&pmd->ptl);
		n = locked ? mmn_huge_pmd_unshare(mm, vma, addr, pmd) : 0;
		if (n) {
			mmn_spin_unlock(&pmd->ptl);
			mmn_tlb_flush_pte_range(tlb, addr & MMN_PUD_MASK, MMN_PUD_SIZE);
			force_flush = true;
			zapped += n;
			addr = pud_next;
			continue;
		}
		zapped += zap_hugetlb_leaf(tlb, pmd, addr & MMN_PMD_MASK);
		mmn_spin_unlock(&pmd->ptl);
		addr = (addr & MMN_PMD_MASK) + MMN_PMD_SIZE;
	}
	if (force_flush)
		mmn_tlb_flush_mmu_tlbonly(tlb);
	if (locked)
		mmn_hugetlb_share_unlock(vma, true);
	return zapped;
}
