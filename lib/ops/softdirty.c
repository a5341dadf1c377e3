// SPDX-License-Identifier: MIT
/*
 * clear_refs_write() with type 4 ("echo 4 > /proc/PID/clear_refs"): clear
 * the soft-dirty bits and write-protect, event SOFT_DIRTY over [0, -1).
 *
 *   mmap_write_lock (5.14+) / mmap_read_lock (4.12-5.2)
 *   invalidate_range_start(SOFT_DIRTY, [0, ULONG_MAX))
 *   walk_page_range(): per PTE table L, clear_soft_dirty() on every present
 *     entry (ptep_modify_prot_start/commit: write-protect, clear soft-dirty;
 *     pages that may be pinned in a COW mapping are left alone), U
 *   invalidate_range_end
 *   flush_tlb_mm (F1, and F2 inside it in 6.6+)   <- after end
 *   mmap unlock
 *
 * The lock, per era (fs/proc/task_mmu.c clear_refs_write(); knob
 * clear_refs_write_lock): 4.12-5.2 walk under mmap_lock for read (taking
 * it for write only briefly to clear VM_SOFTDIRTY, then downgrading), so
 * faults, hmm_range_fault() and other readers run during the walk; 5.14 and
 * 6.19 hold it for write from before start to after the flush, so nothing
 * that needs mmap_lock runs concurrently.
 *
 * Entries already clean and read-only stay as they were but lie in the
 * notified range: false positives (seed 004, "soft-dirty clearing of clean
 * pages"). The next store to a write-protected page takes the write fault,
 * which sets soft-dirty again (lib/ops/memory.c). Hugetlb VMAs are not walked
 * (the walk has no hugetlb_entry), their leaves are counted unchanged.
 *
 * Write-protecting a page is where a device still writing through an old
 * translation would lose its write (oracle: lost write / MMN_PG_STABLE);
 * the marking belongs to the oracle's API and is not done here.
 */
#include "ops/walk.h"

struct sd_walk {
	struct ops_pmd_walk w;
	unsigned long changed, unchanged;
};

/* clear_soft_dirty() on a present entry. */
static mmn_pte_t sd_clear_pte(void *arg, mmn_pte_t old, unsigned long addr)
{
	struct mmn_sim *sim = arg;
	unsigned long pfn = mmn_pte_pfn(old);

	(void)addr;
	if (!mmn_pte_present(old))
		return old & ~MMN_PTE_SOFT_DIRTY; /* pte_swp_clear_soft_dirty() */
	/* pte_is_pinned(): a maybe-pinned anonymous page keeps its write bit,
	 * so no COW breaks the pin. */
	if (pfn != MMN_ZERO_PFN && mmn_pfn_valid(sim, pfn) &&
	    atomic_load(&mmn_pfn_to_page(sim, pfn)->pincount) > 0 &&
	    (atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) & MMN_PG_ANON))
		return old;
	return old & ~(MMN_PTE_WRITE | MMN_PTE_SOFT_DIRTY);
}

static void sd_pmd_entry(struct ops_pmd_walk *w, struct mmn_ptdesc *pmdt, unsigned int idx,
			 mmn_pte_t pmde, unsigned long addr, unsigned long next,
			 unsigned long region_end)
{
	struct sd_walk *s = mmn_container_of(w, struct sd_walk, w);
	struct mmn_sim *sim = w->mm->sim;
	struct mmn_ptdesc *pt;

	(void)pmdt;
	(void)idx;
	(void)region_end;
	if (pmde & MMN_PTE_HUGE) {
		if (mmn_pte_mapped(pmde))
			s->unchanged += MMN_HPAGE_NR; /* hugetlb: not walked */
		return;
	}
	if (!mmn_pte_present(pmde))
		return;
	pt = mmn_pt_child(sim, pmde);
	mmn_spin_lock(&pt->ptl);
	for (unsigned long a = addr; a < next; a += MMN_PAGE_SIZE) {
		unsigned int i = mmn_pt_index(a, MMN_LVL_PTE);

		if (mmn_pte_none(mmn_pte_get(sim, pt, i, a)))
			continue;
		if (mmn__pte_modify(sim, pt, i, a, sd_clear_pte, sim))
			s->changed++;
		else
			s->unchanged++;
	}
	mmn_spin_unlock(&pt->ptl);
}

static int clear_refs_soft_dirty_do(struct mmn_mm *mm)
{
	struct sd_walk s = { .changed = 0 };
	struct mmn_notifier_range range;
	bool wlock;

	if (mmn__mm_dead(mm))
		return -EINVAL;
	wlock = ops_profile(mm)->clear_refs_write_lock;
	if (wlock)
		mmn_mmap_write_lock(mm);
	else
		mmn_mmap_read_lock(mm);
	mmn__notify_range_init(&range, MMN_NOTIFY_SOFT_DIRTY, mm, 0, ~0UL, NULL);
	mmn__notify_start(MMN_OP_SOFT_DIRTY, &range);
	s.w = (struct ops_pmd_walk){ .mm = mm, .pmd_entry = sd_pmd_entry };
	for (int i = 0; i < mm->nr_vmas; i++)
		mmn__walk_pmds(&s.w, mm->vmas[i]->start, mm->vmas[i]->end);
	mmn__notify_end(&range);
	mmn_flush_tlb_mm(mm);
	if (wlock)
		mmn_mmap_write_unlock(mm);
	else
		mmn_mmap_read_unlock(mm);
	mmn__op_stat_call(mm->sim, MMN_OP_SOFT_DIRTY);
	mmn__op_stat_pages(mm->sim, MMN_OP_SOFT_DIRTY, s.changed, s.unchanged);
	return 0;
}

/* The span of the trace around clear_refs_soft_dirty (docs/exploration.md). */
int mmn_clear_refs_soft_dirty(struct mmn_mm *mm)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "clear_refs_write", 0, 0, NULL);
	err = clear_refs_soft_dirty_do(mm);
	mmn_sched_span_end(sim, "clear_refs_write");
	return err;
}
