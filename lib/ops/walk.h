/* SPDX-License-Identifier: MIT */
/*
 * Page-table walking shared by the protection and zap family (mprotect,
 * NUMA hinting, madvise, soft-dirty, mremap): the change_p*_range() descent
 * with its per-PUD lazy notification point, ptep_modify_prot_start/commit,
 * and adjust_range_if_pmd_sharing_possible().
 */
#ifndef MMN_LIB_OPS_WALK_H
#define MMN_LIB_OPS_WALK_H

#include "ops/ops_internal.h"

struct ops_pmd_walk;

/*
 * Called for each populated (non-none) PMD-level entry @pmde of table @pmdt
 * (slot @idx) covering [@addr, @next); @region_end is the end of the walk
 * inside the current PUD entry, i.e. where change_pmd_range()'s lazily
 * started notification range ends.
 */
typedef void (*ops_pmd_entry_fn)(struct ops_pmd_walk *w, struct mmn_ptdesc *pmdt,
				 unsigned int idx, mmn_pte_t pmde, unsigned long addr,
				 unsigned long next, unsigned long region_end);

struct ops_pmd_walk {
	struct mmn_mm *mm;
	ops_pmd_entry_fn pmd_entry;
	/* Where the walk entered the current (present) PUD entry. */
	unsigned long region_start;
	/* After each PUD entry's PMD table was walked (change_pmd_range()
	 * returning: where its lazily started range ends), or NULL. */
	void (*region_done)(struct ops_pmd_walk *w);
};

/*
 * change_protection_range() → change_p4d/pud_range() → change_pmd_range()
 * descent over [start, end), skipping empty upper entries. Caller holds
 * mmap_lock (page tables of a VMA are not freed under it).
 */
void mmn__walk_pmds(struct ops_pmd_walk *w, unsigned long start, unsigned long end);

/* Compute the new value of an entry from its current value. Pure: it may be
 * called more than once for one entry. */
typedef mmn_pte_t (*ops_pte_fn)(void *arg, mmn_pte_t old, unsigned long addr);

/*
 * ptep_modify_prot_start()/ptep_modify_prot_commit() (x86: get_and_clear,
 * then set): rewrite entry @idx of @pt to fn(old) if that differs from what
 * it holds. Taking the entry with an atomic exchange loses no accessed or
 * dirty bit a hardware walker sets meanwhile. Caller holds the table's lock.
 * Returns true if the entry changed.
 */
bool mmn__pte_modify(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		    unsigned long addr, ops_pte_fn fn, void *arg);

/*
 * adjust_range_if_pmd_sharing_possible() (4.19+, profile knob
 * pmd_share_widen): widen [*start, *end) to the PUD-aligned area when @vma
 * is a shared hugetlb mapping spanning a whole PUD-aligned area there (its
 * PMD table may be shared with other mms).
 */
void mmn__hugetlb_widen(const struct mmn_vma *vma, unsigned long *start, unsigned long *end);

/* Whether [start, end) is mapped by VMAs without a hole (caller holds mmap_lock). */
bool mmn__walk_range_mapped(struct mmn_mm *mm, unsigned long start, unsigned long end);

/* The page-aligned end of [addr, addr + len): 0 when @addr is misaligned or
 * the range overflows or leaves user space. */
unsigned long mmn__walk_range_end(unsigned long addr, unsigned long len);

#endif /* MMN_LIB_OPS_WALK_H */
