// SPDX-License-Identifier: MIT
/*
 * Accessed-bit aging from core mm: the callers of the notifier's young hooks
 * (mm/rmap.c folio_referenced_one(), mm/page_idle.c, mm/damon/vaddr.c and
 * ops-common.c). Each tests and clears the CPU's young bit under the PTL and
 * asks the secondary MMUs through the hook, also under the PTL:
 *
 *   ager                                      a secondary MMU (KVM)
 *   ----                                      ---------------------
 *   L  CPU young bit: test and clear (x86:
 *      no TLB flush)
 *      clear_flush_young / clear_young  --->  age its SPTEs (must not sleep)
 *   U
 *   referenced → keep / not idle
 *
 * No invalidate_range_start/end: aging changes no translation a listener
 * must drop. test_young (DAMON's check) leaves the bits as they are.
 */
#include <mmnsim/aging.h>

#include "ops/walk.h"

enum age_mode {
	AGE_REFERENCED, /* ptep_clear_flush_young_notify() */
	AGE_IDLE,       /* ptep_clear_young_notify() */
};

struct age_ctx {
	struct mmn_sim *sim;
	unsigned long pfn;
	enum age_mode mode;
	int referenced;
};

/* ptep_test_and_clear_young(): atomically, a walker may set dirty meanwhile. */
static bool pte_test_and_clear_young(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
				     unsigned long addr)
{
	mmn_pte_t e = mmn_pte_get(sim, pt, idx, addr);

	while (mmn_pte_present(e) && mmn_pte_young(e)) {
		if (mmn_pte_cmpxchg(sim, pt, idx, addr, e, e & ~MMN_PTE_ACCESSED))
			return true;
		e = mmn_pte_get(sim, pt, idx, addr);
	}
	return false;
}

/*
 * folio_referenced_one() (2.6.x-latest, without MGLRU's look-around) and
 * page_idle_clear_pte_refs_one() (4.3+) for a 4 KiB mapping, under the PTL.
 */
static bool age_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct age_ctx *c = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_ptdesc *pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	struct mmn_page *p = mmn_pfn_to_page(c->sim, c->pfn);
	bool young = false, mapped;
	mmn_pte_t e;

	if (!pt)
		return true;
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(c->sim, pt, idx, addr);
	mapped = mmn_pte_mapped(e) && mmn_pte_pfn(e) == c->pfn;
	if (mapped) {
		young = pte_test_and_clear_young(c->sim, pt, idx, addr);
		if (c->mode == AGE_REFERENCED)
			young |= mmn_notifier_clear_flush_young(mm, addr, addr + MMN_PAGE_SIZE);
		else
			young |= mmn_notifier_clear_young(mm, addr, addr + MMN_PAGE_SIZE);
	}
	mmn_spin_unlock(&pt->ptl);
	if (!mapped)
		return true;
	if (young)
		atomic_fetch_and(&p->flags, ~MMN_PG_IDLE);
	if (c->mode == AGE_IDLE && young)
		atomic_fetch_or(&p->flags, MMN_PG_YOUNG); /* for reclaim's next look */
	else if (c->mode == AGE_REFERENCED &&
		 (atomic_fetch_and(&p->flags, ~MMN_PG_YOUNG) & MMN_PG_YOUNG))
		young = true; /* folio_test_clear_young() */
	if (young)
		c->referenced++;
	return true;
}

/* A small anonymous or page-cache page with a reverse mapping, or -EINVAL. */
static int age_check(struct mmn_sim *sim, unsigned long pfn)
{
	unsigned int flags;

	if (!sim || !mmn_pfn_valid(sim, pfn) || pfn == MMN_ZERO_PFN || mmn_pfn_is_huge(sim, pfn))
		return -EINVAL;
	flags = atomic_load(&mmn_pfn_to_page(sim, pfn)->flags);
	if ((flags & (MMN_PG_FREE | MMN_PG_TABLE | MMN_PG_KSM | MMN_PG_DEVICE_PRIVATE)) ||
	    !(flags & (MMN_PG_ANON | MMN_PG_SHMEM)))
		return -EINVAL;
	return 0;
}

/*
 * The rmap walk of folio_referenced() / page_idle_clear_pte_refs(): with a
 * reference; a page-cache page under its folio lock, taken with a trylock
 * (busy: 1 for folio_referenced(), "referenced", nothing for page_idle).
 */
static int age_walk(struct mmn_sim *sim, unsigned long pfn, enum age_mode mode)
{
	struct age_ctx c = { .sim = sim, .pfn = pfn, .mode = mode };
	bool lock = !(atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) & MMN_PG_ANON);

	mmn_get_page(sim, pfn);
	if (lock && !mmn_trylock_page(sim, pfn)) {
		mmn_put_page(sim, pfn);
		return mode == AGE_REFERENCED ? 1 : 0;
	}
	if (atomic_load(&mmn_pfn_to_page(sim, pfn)->mapcount))
		mmn_rmap_walk(sim, pfn, age_one, &c);
	if (lock)
		mmn_unlock_page(sim, pfn);
	mmn_put_page(sim, pfn);
	mmn__op_stat_call(sim, MMN_OP_AGING);
	mmn__op_stat_pages(sim, MMN_OP_AGING, (unsigned long)c.referenced, 0);
	return c.referenced;
}

int mmn_folio_referenced(struct mmn_sim *sim, unsigned long pfn)
{
	int err = age_check(sim, pfn);

	return err ? err : age_walk(sim, pfn, AGE_REFERENCED);
}

/*
 * shrink_folio_list() → folio_check_references() (all versions, simplified):
 * a page some mapping referenced is activated and kept; the others go to
 * try_to_unmap() and pageout (lib/ops/reclaim.c).
 */
static unsigned long shrink_aged_one(struct mmn_sim *sim, unsigned long pfn)
{
	if (age_walk(sim, pfn, AGE_REFERENCED) > 0) {
		mmn_put_page(sim, pfn); /* putback: the isolation's reference */
		return 0;
	}
	return mmn__shrink_one(sim, pfn);
}

int mmn_shrink_range(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	return mmn__isolate_apply(mm, addr, len, MMN_OP_RECLAIM, shrink_aged_one);
}

int mmn_page_idle_set(struct mmn_sim *sim, unsigned long pfn)
{
	int err = age_check(sim, pfn);

	if (err)
		return err;
	age_walk(sim, pfn, AGE_IDLE);
	atomic_fetch_or(&mmn_pfn_to_page(sim, pfn)->flags, MMN_PG_IDLE);
	return 0;
}

int mmn_page_idle_get(struct mmn_sim *sim, unsigned long pfn)
{
	int err = age_check(sim, pfn);

	if (err)
		return err;
	if (atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) & MMN_PG_IDLE)
		age_walk(sim, pfn, AGE_IDLE);
	return !!(atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) & MMN_PG_IDLE);
}

/*
 * DAMON's page-table walk for one address (damon_mkold_pmd_entry() /
 * damon_young_pmd_entry()): under mmap_lock for read and the PTL, @fn on the
 * entry if it maps a small anonymous or page-cache page. PMD leaves (THP,
 * hugetlb) are not modelled here.
 */
static int damon_walk(struct mmn_mm *mm, unsigned long addr,
		      void (*fn)(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned long addr,
				 mmn_pte_t e, bool *young),
		      bool *young)
{
	struct mmn_ptdesc *pt;

	if (mmn__mm_dead(mm) || addr >= MMN_TASK_SIZE)
		return -EINVAL;
	addr &= MMN_PAGE_MASK;
	*young = false;
	mmn_mmap_read_lock(mm);
	pt = mmn_vma_lookup(mm, addr) ? mmn_pt_walk(mm, addr, MMN_LVL_PTE) : NULL;
	if (pt) {
		mmn_pte_t e;

		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(mm->sim, pt, mmn_pt_index(addr, MMN_LVL_PTE), addr);
		if (mmn_pte_present(e) && age_check(mm->sim, mmn_pte_pfn(e)) == 0)
			fn(mm, pt, addr, e, young);
		mmn_spin_unlock(&pt->ptl);
	}
	mmn_mmap_read_unlock(mm);
	mmn__op_stat_call(mm->sim, MMN_OP_AGING);
	mmn__op_stat_pages(mm->sim, MMN_OP_AGING, *young, 0);
	return 0;
}

/* damon_ptep_mkold() (5.15+): PTL held. */
static void damon_mkold_entry(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned long addr,
			      mmn_pte_t e, bool *young)
{
	struct mmn_page *p = mmn_pfn_to_page(mm->sim, mmn_pte_pfn(e));

	*young = pte_test_and_clear_young(mm->sim, pt, mmn_pt_index(addr, MMN_LVL_PTE), addr);
	*young |= mmn_notifier_clear_young(mm, addr, addr + MMN_PAGE_SIZE);
	if (*young)
		atomic_fetch_or(&p->flags, MMN_PG_YOUNG);
	atomic_fetch_or(&p->flags, MMN_PG_IDLE);
}

/* damon_young_pmd_entry()'s PTE case (5.15+): PTL held. */
static void damon_young_entry(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned long addr,
			      mmn_pte_t e, bool *young)
{
	struct mmn_page *p = mmn_pfn_to_page(mm->sim, mmn_pte_pfn(e));

	(void)pt;
	*young = mmn_pte_young(e) || !(atomic_load(&p->flags) & MMN_PG_IDLE) ||
		 mmn_notifier_test_young(mm, addr);
}

int mmn_damon_mkold(struct mmn_mm *mm, unsigned long addr)
{
	bool young;

	return damon_walk(mm, addr, damon_mkold_entry, &young);
}

int mmn_damon_young(struct mmn_mm *mm, unsigned long addr, bool *young)
{
	if (!young)
		return -EINVAL;
	return damon_walk(mm, addr, damon_young_entry, young);
}
