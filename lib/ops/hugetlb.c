// SPDX-License-Identifier: MIT
/*
 * The hugetlb branch of try_to_unmap_one() and try_to_migrate_one() for a
 * page mapped through a shared PMD table (seed 002: Mike Kravetz's 2018
 * "mm: migration: fix migration of huge PMD shared pages", 4.19 and
 * stable backports):
 *
 *   rmap path (i_mmap_rwsem held)              a KVM-like listener of this mm
 *   -----------------------------              ------------------------------
 *   range = [addr, addr + 2 MiB), widened by
 *   adjust_range_if_pmd_sharing_possible()
 *   (profile knob pmd_share_widen) to the
 *   PUD-aligned 1 GiB area
 *   S(CLEAR, range)                            drops its translations in range
 *   L (the PMD table's lock)
 *   huge_pmd_unshare(): this mm's PUD entry
 *   cleared, the share dropped: the whole
 *   1 GiB of this mm is unmapped
 *   flush_tlb_range(the PUD area) (F1 [+F2])
 *   invalidate_range(range) (F2, call_sites)
 *   U
 *   E                                          without the widening it still
 *                                              holds the other huge pages of
 *                                              the area: stale translations
 *
 * When the table is not shared, the kernel clears the huge PMD entry
 * (huge_ptep_clear_flush()) and installs a migration or hwpoison entry;
 * the model does not reclaim or migrate hugetlb pages: that mapping is left
 * alone (counted as skipped), the page stays mapped, and the caller's
 * "some mapping stayed" path puts it back. Up to 4.12 (invalidate_page
 * profiles) there is no start/end: ->invalidate_page(addr) after U.
 *
 * The walk holds the object's i_mmap_rwsem for write (the callers of
 * try_to_unmap()/try_to_migrate() take it for hugetlb pages and pass
 * TTU_RMAP_LOCKED): huge_pmd_share() holds it for read, so no fault can be
 * between taking a share reference on a table and installing it while the
 * table is unshared.
 */
#include "ops/walk.h"

bool mmn__hugetlb_rmap_one(enum mmn_op op, struct mmn_vma *vma, unsigned long addr,
			  unsigned long pfn, unsigned long *changed)
{
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	unsigned long rs = addr & MMN_PMD_MASK, re = rs + MMN_PMD_SIZE, n = 0;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pmdt;
	bool started;

	mmn__hugetlb_widen(vma, &rs, &re);
	started = mmn__notify_rmap_start(op, &range, mm, rs, re);
	pmdt = mmn_pt_walk(mm, addr, MMN_LVL_PMD);
	if (pmdt) {
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
		mmn_pte_t e;

		mmn_spin_lock(&pmdt->ptl);
		e = mmn_pte_get(sim, pmdt, idx, addr);
		if (mmn_pmd_mapped_leaf(e) && mmn_pte_pfn(e) == pfn) {
			n = mmn_huge_pmd_unshare(mm, vma, addr, pmdt);
			if (n) {
				/* The whole PUD area of this mm is gone from the
				 * CPU TLBs whatever the notified range. */
				mmn_flush_tlb_range(mm, addr & MMN_PUD_MASK,
						    (addr & MMN_PUD_MASK) + MMN_PUD_SIZE);
				mmn__notify_call_site_flush(mm, rs, re);
				*changed += n;
			} else {
				mmn__op_stat_skipped(sim, op, 1);
			}
		}
		mmn_spin_unlock(&pmdt->ptl);
	}
	mmn__notify_rmap_end(&range, mm, started, n, addr);
	return true;
}

void mmn__hugetlb_rmap_walk(struct mmn_sim *sim, unsigned long pfn, mmn_rmap_one_fn fn, void *arg)
{
	struct mmn_page *p = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));
	unsigned long index = mmn_page_rmap_index(sim, pfn);
	struct mmn_shmem *f = p->mapping;
	struct mmn_list_head *n;

	/* The caller holds a reference and the lock of the page: its object
	 * cannot go. Anonymous (private) hugetlb pages have no sharing. */
	if (!(atomic_load(&p->flags) & MMN_PG_SHMEM) || !f) {
		mmn_rmap_walk(sim, pfn, fn, arg);
		return;
	}
	mmn_down_write(&f->i_mmap_rwsem);
	for (n = f->i_mmap.next; n != &f->i_mmap; n = n->next) {
		struct mmn_vma *vma = mmn_container_of(n, struct mmn_vma, rmap_link);
		unsigned long addr = mmn_vma_address(vma, index);

		if (addr != -1UL && !fn(vma, addr, arg))
			break;
	}
	mmn_up_write(&f->i_mmap_rwsem);
}

/*
 * __unmap_hugepage_range() up to 5.x (read in 4.12, 4.15, 5.2.1, 5.9, 5.10,
 * 5.14: its own mmu_notifier_invalidate_range_start/end, UNMAP from 5.2,
 * widened by adjust_range_if_pmd_sharing_possible() where the profile
 * widens; gone from it in 6.5, whose callers notify). Knob
 * hugetlb_unmap_nested_notify. Its callers (unmap_vmas(), zap_page_range(),
 * unmap_mapping_range()...) have their own bracket, so the listeners see a
 * second range nested in the first, ended before the gather is flushed:
 *
 *   munmap (unmap_vmas)                        a KVM-like listener
 *   -------------------                        -------------------
 *   S(UNMAP, [start, end))                     count 1: faults retry
 *   __unmap_hugepage_range:
 *     S(UNMAP, widened)                        count 2
 *     per huge page: unshare or clear, gather
 *     E(widened) (+F2 in call_sites profiles)  count 1: still blocked
 *   tlb flush (F1), pages freed
 *   E([start, end))                            count 0
 *
 * The nested range is not counted in the operation's statistics (one
 * bracket per operation there).
 */
unsigned long mmn__hugetlb_zap_nested(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				      unsigned long start, unsigned long end)
{
	struct mmn_notifier_range range;
	unsigned long rs = start, re = end, zapped;

	mmn__hugetlb_widen(vma, &rs, &re);
	mmn__notify_range_init(&range, MMN_NOTIFY_UNMAP, vma->mm, rs, re, NULL);
	mmn_notifier_invalidate_range_start(&range);
	zapped = mmn_hugetlb_zap_range(tlb, vma, start, end);
	mmn__notify_end(&range);
	return zapped;
}

/*
 * hugetlb_vm_op_split() → hugetlb_unshare_pmds() (6.5, 6.6.9) and
 * hugetlb_split() (6.19, from __split_vma()): a shared hugetlb VMA cut at
 * @addr inside a PUD-aligned area it covers whole can no longer share that
 * area's PMD table, so this mm's share is dropped before the cut (knob
 * hugetlb_split_unshares; 5.14 mm/hugetlb.c only checks the alignment and
 * leaves the table shared across the new VMA edge):
 *
 *   __split_vma (mmap_lock write)             a KVM-like listener of this mm
 *   -----------------------------             ------------------------------
 *   S(CLEAR, the PUD area)                    drops its translations there
 *   i_mmap_rwsem W; per PUD entry: PMD lock,
 *   huge_pmd_unshare(), unlock
 *   flush the PUD area (F1 [+F2 in 6.6+])
 *   i_mmap_rwsem unlocked
 *   E (no ->invalidate_range needed: the     faults map the huge pages again
 *      flush came first)                     through this mm's own table
 *   the VMA is cut
 */
void mmn__hugetlb_split_unshare(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr)
{
	unsigned long floor = addr & MMN_PUD_MASK, ceil = floor + MMN_PUD_SIZE, n = 0;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pmdt;
	bool locked;

	if (!vma || !ops_profile(mm)->hugetlb_split_unshares ||
	    (vma->vm_flags & (MMN_VM_HUGETLB | MMN_VM_SHARED)) != (MMN_VM_HUGETLB | MMN_VM_SHARED) ||
	    !(addr & ~MMN_PUD_MASK) || floor < vma->start || ceil > vma->end)
		return;
	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, floor, ceil, NULL);
	/* Inside the caller's operation: not counted in its statistics. */
	mmn_notifier_invalidate_range_start(&range);
	locked = mmn_hugetlb_share_lock(vma, true);
	pmdt = mmn_pt_walk(mm, floor, MMN_LVL_PMD);
	if (locked && pmdt) {
		mmn_spin_lock(&pmdt->ptl);
		n = mmn_huge_pmd_unshare(mm, vma, floor, pmdt);
		mmn_spin_unlock(&pmdt->ptl);
	}
	if (n) /* flush_hugetlb_tlb_range() / huge_pmd_unshare_flush() */
		mmn_flush_tlb_range(mm, floor, ceil);
	if (locked)
		mmn_hugetlb_share_unlock(vma, true);
	mmn__notify_end(&range);
}
