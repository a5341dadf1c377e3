/* SPDX-License-Identifier: MIT */
/*
 * The operations layer's shared machinery: how an operation notifies under
 * the simulation's kernel profile. Every operation goes through these
 * helpers, so the knobs are read in one place:
 *
 *   events           ops_range_init(): before 5.2 a listener cannot tell
 *                    why it is notified; it sees every range as UNMAP.
 *   secondary_flush  where F2 (the secondary-TLB flush) happens:
 *                    with_cpu_flush  inside every CPU flush (lib/mm/tlb.c)
 *                    call_sites      ops_clear_flush_notify() under the PTL,
 *                                    the gather's tlbonly flush, and end
 *                    range_end       only at end (ops_end())
 *                    invalidate_page ->invalidate_page after the PTL drop
 *                                    on the rmap paths, plus the 3.19+
 *                                    range calls of the gather and end
 *   only_end_skips_flush  ops_end_only(): end skips ->invalidate_range.
 *
 * Nothing outside lib/ops, lib/mm/tlb.c and lib/notifier branches on them.
 */
#ifndef MMN_LIB_OPS_INTERNAL_H
#define MMN_LIB_OPS_INTERNAL_H

#include <mmnsim/mmu_notifier.h>
#include <mmnsim/ops.h>

#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"

static inline const struct mmn_profile *ops_profile(const struct mmn_mm *mm)
{
	return &mm->sim->profile;
}

/* Whether end calls ->invalidate_range (3.19-6.5, and the range_end knob). */
static inline bool ops_end_flushes(const struct mmn_profile *p)
{
	return p->secondary_flush != MMN_SECFLUSH_WITH_CPU_FLUSH;
}

/* mmu_notifier_range_init[_owner]() as the profile's listeners see it. */
static inline void ops_range_init(struct mmn_notifier_range *range, enum mmn_notify_event event,
				  struct mmn_mm *mm, unsigned long start, unsigned long end,
				  void *owner)
{
	if (!ops_profile(mm)->events) {
		event = MMN_NOTIFY_UNMAP;
		owner = NULL;
	}
	mmn_notifier_range_init_owner(range, event, 0, mm, start, end, owner);
}

/* mmu_notifier_invalidate_range_start(), counted for the operation. */
void ops_start(enum mmn_op op, struct mmn_notifier_range *range);
/* mmu_notifier_invalidate_range_start_nonblock(); -EAGAIN: do not call end. */
int ops_start_nonblock(enum mmn_op op, struct mmn_notifier_range *range);
/* mmu_notifier_invalidate_range_end() with the profile's secondary flush. */
void ops_end(struct mmn_notifier_range *range);
/* mmu_notifier_invalidate_range_only_end() (4.15-6.5), else as ops_end(). */
void ops_end_only(struct mmn_notifier_range *range);

/*
 * ptep_clear_flush_notify() (3.19-6.5) / ptep_clear_flush() (6.6+): clear the
 * entry, flush the CPU TLB for the page (with F2 inside it in 6.6+ profiles)
 * and, in call_sites profiles, ->invalidate_range() under the PTL. Caller
 * holds the PTL. Returns the old entry.
 */
mmn_pte_t ops_ptep_clear_flush_notify(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				      unsigned long addr);

/*
 * After the PTL is dropped on an rmap path: ->invalidate_page() in
 * invalidate_page (<= 4.12) profiles, nothing otherwise.
 */
void ops_after_ptl_drop(struct mmn_mm *mm, unsigned long addr);

/*
 * The bracket of one mapping on an rmap path (try_to_unmap_one(),
 * try_to_migrate_one() and their hugetlb branches): from 4.13 a CLEAR
 * start/end over [start, end) around the PTL section; up to 4.12 no
 * start/end, and ->invalidate_page after the PTL drop if an entry was
 * unmapped. ops_rmap_start() returns whether it started a range; pass that
 * to ops_rmap_end().
 */
bool ops_rmap_start(enum mmn_op op, struct mmn_notifier_range *range, struct mmn_mm *mm,
		    unsigned long start, unsigned long end);
void ops_rmap_end(struct mmn_notifier_range *range, struct mmn_mm *mm, bool started,
		  bool unmapped, unsigned long addr);

/*
 * The secondary flush a *_clear_flush_notify() site issues under the PTL in
 * call_sites profiles (3.19-6.5): ->invalidate_range() over [start, end).
 * Returns false (nothing done) in other profiles.
 */
bool ops_call_site_flush(struct mmn_mm *mm, unsigned long start, unsigned long end);

/*
 * The rmap family (reclaim, migration; lib/ops/isolate.c): check the
 * arguments (-EINVAL) and that [@addr, @addr + @len) is mapped (-ENOMEM),
 * then return the 4 KiB anonymous and shmem pages mapped there (not zero,
 * KSM or private hugetlb pages; a shared hugetlb page once, by its head),
 * each with a reference the caller drops. Takes mmap_lock for read around
 * the walk only.
 */
int ops_isolate_range(struct mmn_mm *mm, unsigned long addr, unsigned long len,
		      unsigned long **pfns, size_t *nr);

/*
 * THP (lib/ops/thp.c). Callers hold mmap_lock (read or write).
 * ops_thp_vma_eligible(): a private anonymous, non-hugetlb VMA with
 * MMN_VM_HUGEPAGE and without MMN_VM_NOHUGEPAGE.
 * ops_split_huge_pmd(): __split_huge_pmd() of the anonymous THP leaf
 * mapping @addr, if any (0 when there is none; -ENOMEM: no frame for the
 * PTE table, nothing changed).
 * ops_split_huge_range(): the same for every THP leaf overlapping
 * [start, end) (all-or-nothing is not needed: each split keeps the data).
 * ops_split_huge_boundary(): vma_adjust_trans_huge(): split the THP
 * straddling @addr when @addr is not 2 MiB aligned.
 */
/* pmd_mkinvalid() of a THP leaf being split (under its PMD lock): not
 * present, not none; whoever meets it waits for the PMD lock. */
#define OPS_PMD_SPLITTING MMN_PTE_HUGE
bool ops_thp_vma_eligible(const struct mmn_vma *vma);
int ops_split_huge_pmd(struct mmn_mm *mm, unsigned long addr);
int ops_split_huge_range(struct mmn_mm *mm, unsigned long start, unsigned long end);
int ops_split_huge_boundary(struct mmn_mm *mm, unsigned long addr);

/*
 * mm/memory.c and mm/mmap.c operations (lib/ops/memory.c, lib/ops/mmap.c).
 * mmn_zap_vma_range(): zap [start, end) of @vma into @tlb
 * (zap_page_range_single()/unmap_vmas() body, no notification); returns the
 * 4 KiB mappings removed.
 * mmn_free_pgtables(): free the page tables no VMA needs any more in
 * [floor, ceiling) (free_pgtables()).
 * mmn_do_munmap(): do_vmi_munmap() without the lock downgrade: split, detach
 * and unmap [start, end) (UNMAP notification, zap, free_pgtables,
 * tlb_finish_mmu). Caller holds mmap_lock for write and keeps it. 0,
 * -EINVAL, -ENOMEM.
 * mmn__mmap_split_range(): __split_vma() at both edges of [start, end), the
 * THP straddling a cut edge split first (vma_adjust_trans_huge()). Caller
 * holds mmap_lock for write. 0, -EINVAL, -ENOMEM, nothing changed on error.
 * mmn_exit_mmap(): tear everything down; called on the last mmput.
 */
unsigned long mmn_zap_vma_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				unsigned long start, unsigned long end);
void mmn_free_pgtables(struct mmn_mmu_gather *tlb, struct mmn_mm *mm, unsigned long floor,
		       unsigned long ceiling);
int mmn_do_munmap(struct mmn_mm *mm, unsigned long start, unsigned long end);
int mmn__mmap_split_range(struct mmn_mm *mm, unsigned long start, unsigned long end);
void mmn_exit_mmap(struct mmn_mm *mm);

/* The CPU fault on a device-private entry (do_swap_page() → migrate_to_ram)
 * or a device-exclusive one (remove_device_exclusive_entry()), from the
 * fault path (lib/ops/device.c); mmap_lock held. */
int mmn_do_device_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			unsigned int idx, unsigned long addr, mmn_pte_t orig, bool write);

/* restore_exclusive_pte() (lib/ops/exclusive.c): the present entry that
 * device-exclusive @entry of @vma stands for. Caller holds the page lock
 * and the PTL. */
mmn_pte_t ops_exclusive_restored_pte(const struct mmn_vma *vma, mmn_pte_t entry);

/*
 * try_to_unmap_one()/try_to_migrate_one() for hugetlb page @pfn mapped at
 * @addr of @vma (lib/ops/hugetlb.c): notify CLEAR over the huge page,
 * widened for PMD sharing, and huge_pmd_unshare() if the PMD table is
 * shared (the 4 KiB mappings this mm lost are added to *@changed); an
 * unshared mapping is left as it is. Called from an rmap walk; returns
 * true (continue the walk).
 */
bool ops_hugetlb_rmap_one(enum mmn_op op, struct mmn_vma *vma, unsigned long addr,
			  unsigned long pfn, unsigned long *changed);
/* rmap_walk_locked() for a hugetlb page with i_mmap_rwsem held for write,
 * as try_to_unmap()/try_to_migrate() callers take it for hugetlb
 * (TTU_RMAP_LOCKED): no huge_pmd_share() can run meanwhile. */
void ops_hugetlb_rmap_walk(struct mmn_sim *sim, unsigned long pfn, mmn_rmap_one_fn fn, void *arg);

/* Per-operation statistics (lib/ops/stats.c). */
void ops_stat_call(struct mmn_sim *sim, enum mmn_op op);
void ops_stat_pages(struct mmn_sim *sim, enum mmn_op op, unsigned long changed,
		    unsigned long unchanged);
void ops_stat_skipped(struct mmn_sim *sim, enum mmn_op op, unsigned long n);

#endif /* MMN_LIB_OPS_INTERNAL_H */
