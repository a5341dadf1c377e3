// SPDX-License-Identifier: MIT
/*
 * The 4-level page table: table pages, their population, entry accessors and
 * the lockless (hardware-style) walk.
 *
 * Table pages are frames (PG_TABLE), so they are counted in the pool, freed
 * through the mmu_gather after the TLB flush, and carry a generation like any
 * other frame. Each table page has its own lock: for a PTE table it is the
 * split PTL (pte_lockptr()), for a PMD table the split PMD lock
 * (pmd_lockptr()); upper levels are populated under mm->page_table_lock, as
 * __pud_alloc()/__pmd_alloc()/__pte_alloc() do (all versions with split PTLs).
 */
#include <stdlib.h>

#include "mm/mm_internal.h"

const struct mmn_lock_class mmn_ptl_class = { .name = "ptl", .rank = MMN_RANK_PTL };
/* PMD-table locks nest like mm->page_table_lock (pmd_lock() before pte lock). */
static const struct mmn_lock_class pmd_lock_class = {
	.name = "pmd_lock", .rank = MMN_RANK_PAGE_TABLE_LOCK
};

struct mmn_ptdesc *mmn_pt_alloc(struct mmn_mm *mm, int level)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pt;
	unsigned long pfn;

	pt = calloc(1, sizeof(*pt));
	if (!pt)
		return NULL;
	pfn = mmn_alloc_page(sim, MMN_PG_TABLE);
	if (!pfn) {
		free(pt);
		return NULL;
	}
	pt->pfn = pfn;
	pt->level = level;
	mmn_spin_lock_init(&pt->ptl, sim, level == MMN_LVL_PTE ? &mmn_ptl_class : &pmd_lock_class,
			   NULL);
	mmn_pfn_to_page(sim, pfn)->mapping = pt;
	atomic_fetch_add_explicit(&sim->pool->pgtables, 1, memory_order_relaxed);
	return pt;
}

void mmn_pt_free(struct mmn_sim *sim, unsigned long pfn)
{
	struct mmn_ptdesc *pt = mmn_pt_of_pfn(sim, pfn);

	mmn_spin_lock_destroy(&pt->ptl);
	/* The frame's release frees the ptdesc (page.c) and moves its generation. */
	mmn_put_page(sim, pfn);
}

mmn_pte_t mmn_pte_get(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		      unsigned long addr)
{
	mmn_sched_point(sim, MMN_SCHED_PTE_READ, &pt->e[idx], NULL, addr);
	return atomic_load_explicit(&pt->e[idx], memory_order_acquire);
}

void mmn_pte_set(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		 unsigned long addr, mmn_pte_t val)
{
	mmn_pte_t old = atomic_exchange_explicit(&pt->e[idx], val, memory_order_seq_cst);

	if (!old && val)
		atomic_fetch_add_explicit(&pt->nr_used, 1, memory_order_relaxed);
	else if (old && !val)
		atomic_fetch_sub_explicit(&pt->nr_used, 1, memory_order_relaxed);
	if (old && !val)
		mmn_sched_event(sim, "pte_clear", "0x%lx pfn %lu", addr, mmn_pte_pfn(old));
	mmn_sched_point(sim, MMN_SCHED_PTE_WRITE, &pt->e[idx], NULL, addr);
}

mmn_pte_t mmn_pte_get_and_clear(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
				unsigned long addr)
{
	/* seq_cst: a later read of the mm's cpumask must not pass this clear
	 * (see tlb.c: the walker/flusher handshake). */
	mmn_pte_t old = atomic_exchange_explicit(&pt->e[idx], 0, memory_order_seq_cst);

	if (old)
		atomic_fetch_sub_explicit(&pt->nr_used, 1, memory_order_relaxed);
	if (old)
		mmn_sched_event(sim, "pte_clear", "0x%lx pfn %lu", addr, mmn_pte_pfn(old));
	mmn_sched_point(sim, MMN_SCHED_PTE_WRITE, &pt->e[idx], NULL, addr);
	return old;
}

bool mmn_pte_cmpxchg(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		     unsigned long addr, mmn_pte_t old, mmn_pte_t val)
{
	bool ok = atomic_compare_exchange_strong_explicit(&pt->e[idx], &old, val,
							  memory_order_seq_cst,
							  memory_order_relaxed);
	if (ok) {
		if (!old && val)
			atomic_fetch_add_explicit(&pt->nr_used, 1, memory_order_relaxed);
		else if (old && !val)
			atomic_fetch_sub_explicit(&pt->nr_used, 1, memory_order_relaxed);
		if (old && !val)
			mmn_sched_event(sim, "pte_clear", "0x%lx pfn %lu", addr, mmn_pte_pfn(old));
		mmn_sched_point(sim, MMN_SCHED_PTE_WRITE, &pt->e[idx], NULL, addr);
	}
	return ok;
}

/*
 * Populate the upper entry @idx of @parent with a new table of @level
 * (__pmd_alloc()/__pte_alloc()): allocate outside the lock, install under
 * mm->page_table_lock unless someone else populated it first.
 */
static int pt_populate(struct mmn_mm *mm, struct mmn_ptdesc *parent, unsigned int idx,
		       unsigned long addr, int level)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *new = mmn_pt_alloc(mm, level);

	if (!new)
		return -ENOMEM;
	mmn_spin_lock(&mm->page_table_lock);
	/* From none only, atomically: a THP fault installs PMD leaves under
	 * the PMD lock, not this one (lib/ops/memory.c). */
	if (mmn_pte_get(sim, parent, idx, addr) == 0 &&
	    mmn_pte_cmpxchg(sim, parent, idx, addr, 0, mmn_mk_table_entry(new->pfn))) {
		atomic_fetch_add_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
		new = NULL;
	}
	mmn_spin_unlock(&mm->page_table_lock);
	if (new)
		mmn_pt_free(sim, new->pfn);
	return 0;
}

struct mmn_ptdesc *mmn_pt_walk_alloc(struct mmn_mm *mm, unsigned long addr, int level,
				     struct mmn_ptdesc **leaf_pmd, int *err)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pt = mm->pgd;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	*err = 0;
	if (leaf_pmd)
		*leaf_pmd = NULL;
	for (int l = MMN_LVL_PGD; l > level; l--) {
		unsigned int idx = mmn_pt_index(addr, l);
		mmn_pte_t e = mmn_pte_get(sim, pt, idx, addr);

		/* A PMD leaf, also a PROT_NONE or swap-style one: no table below. */
		if (l == MMN_LVL_PMD && e && (!mmn_pte_present(e) || mmn_pmd_leaf(e))) {
			if (leaf_pmd)
				*leaf_pmd = pt;
			return NULL;
		}
		if (!e) {
			*err = pt_populate(mm, pt, idx, addr, l - 1);
			if (*err)
				return NULL;
			e = mmn_pte_get(sim, pt, idx, addr);
			if (l == MMN_LVL_PMD && (!mmn_pte_present(e) || mmn_pmd_leaf(e))) {
				if (leaf_pmd)
					*leaf_pmd = pt;
				return NULL;
			}
		}
		pt = mmn_pt_child(sim, e);
	}
	return pt;
}

struct mmn_ptdesc *mmn_pt_walk(struct mmn_mm *mm, unsigned long addr, int level)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pt = mm->pgd;

	for (int l = MMN_LVL_PGD; l > level; l--) {
		mmn_pte_t e = mmn_pte_get(sim, pt, mmn_pt_index(addr, l), addr);

		if (!mmn_pte_present(e) || (l == MMN_LVL_PMD && mmn_pmd_leaf(e)))
			return NULL;
		pt = mmn_pt_child(sim, e);
	}
	return pt;
}

int mmn_pgtable_walk(struct mmn_mm *mm, unsigned long addr, struct mmn_walk *out)
{
	struct mmn_sim *sim;

	if (mmn__mm_dead(mm) || !out)
		return -EINVAL;
	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	sim = mm->sim;
	mmn_sched_point(sim, MMN_SCHED_PTE_READ, mm, "pgtable_walk", addr);
	/* Table pages are freed under walk_lock, after the TLB flush. */
	mmn_raw_lock(&mm->walk_lock);
	mmn_pt_walk_raw(mm, addr, out);
	mmn_raw_unlock(&mm->walk_lock);
	return 0;
}

void mmn_pt_walk_raw(struct mmn_mm *mm, unsigned long addr, struct mmn_walk *out)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pt = mm->pgd;

	*out = (struct mmn_walk){ .level = MMN_PT_NONE };
	for (int l = MMN_LVL_PGD; l >= MMN_LVL_PTE; l--) {
		mmn_pte_t e = mmn_pte_peek(pt, mmn_pt_index(addr, l));

		if (l == MMN_LVL_PMD && (mmn_pmd_leaf(e) || (e && !mmn_pte_present(e)))) {
			out->level = MMN_PT_PMD;
			out->entry = e;
			if (mmn_pmd_leaf(e)) {
				out->pfn = mmn_pte_pfn(e) +
					   ((addr & ~MMN_PMD_MASK) >> MMN_PAGE_SHIFT);
				out->gen = mmn_page_gen(sim, out->pfn);
			}
			return;
		}
		if (l == MMN_LVL_PTE) {
			out->level = MMN_PT_PTE;
			out->entry = e;
			if (mmn_pte_present(e)) {
				out->pfn = mmn_pte_pfn(e);
				out->gen = mmn_page_gen(sim, out->pfn);
			}
			return;
		}
		if (!mmn_pte_present(e))
			return;
		pt = mmn_pt_child(sim, e);
	}
}
