// SPDX-License-Identifier: MIT
/*
 * memory_failure() of an anonymous page (include/mmnsim/memory_failure.h):
 * mm/memory-failure.c memory_failure() → hwpoison_user_mappings() (4.x-6.1)
 * / unmap_poisoned_folio() (6.x) → try_to_unmap(TTU_HWPOISON) →
 * try_to_unmap_one() (mm/rmap.c), read in 4.15, 5.2, 5.14, 6.5, 6.19.
 *
 *   memory_failure                          a secondary MMU
 *   --------------                          ---------------
 *   TestSetPageHWPoison, get, folio lock
 *   per mapping: S(CLEAR, page)             drops its translation
 *     L, clear + flush (F1 (+F2)), hwpoison
 *     entry, rmap and mapping ref dropped, U
 *   E
 *   folio unlock; the reference is kept     a CPU access faults:
 *                                             -EHWPOISON (SIGBUS)
 *
 * TTU_HWPOISON is never TTU_BATCH_FLUSH: the flush is under the PTL in
 * every era (4.13-6.5 with ->invalidate_range() at the call site; 4.12
 * ->invalidate_page under the PTL and no start/end).
 */
#include <errno.h>

#include <mmnsim/memory_failure.h>

#include "ops/ops_internal.h"

struct mf_ctx {
	unsigned long pfn;
	unsigned long changed;
};

/* try_to_unmap_one() with TTU_HWPOISON for one mapping of the page. */
static bool mf_unmap_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct mf_ctx *c = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	bool started, unmapped = false;

	started = mmn__notify_rmap_start(MMN_OP_MEMORY_FAILURE, &range, mm, addr,
					 addr + MMN_PAGE_SIZE);
	if (pt) {
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		mmn_pte_t e;

		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, addr);
		if (mmn_pte_mapped(e) && mmn_pte_pfn(e) == c->pfn) {
			e = mmn__ptep_clear_batched(mm, pt, idx, addr, NULL);
			mmn_pte_set(sim, pt, idx, addr,
				    mmn_mk_swp_pte(MMN_SWP_HWPOISON, c->pfn) |
					    (e & MMN_PTE_SOFT_DIRTY));
			mmn_page_remove_map(sim, c->pfn);
			mmn_put_page(sim, c->pfn); /* the mapping's reference */
			c->changed++;
			unmapped = !mmn__notify_rmap_unmapped_locked(mm, addr);
		}
		mmn_spin_unlock(&pt->ptl);
	}
	mmn__notify_rmap_end(&range, mm, started, unmapped, addr);
	return true;
}

/* What the model poisons: an allocated small anonymous page. */
static int mf_check(struct mmn_sim *sim, unsigned long pfn)
{
	unsigned int flags;

	if (!mmn_pfn_valid(sim, pfn) || pfn == MMN_ZERO_PFN)
		return -ENXIO;
	flags = atomic_load(&mmn_pfn_to_page(sim, pfn)->flags);
	if (flags & MMN_PG_TABLE)
		return -ENXIO;
	if (flags & MMN_PG_HWPOISON)
		return -EHWPOISON;
	if ((flags & (MMN_PG_FREE | MMN_PG_ANON | MMN_PG_KSM | MMN_PG_HEAD | MMN_PG_TAIL |
		      MMN_PG_HUGETLB | MMN_PG_DEVICE_PRIVATE)) != MMN_PG_ANON)
		return -EOPNOTSUPP;
	return 0;
}

static int memory_failure_do(struct mmn_sim *sim, unsigned long pfn)
{
	struct mf_ctx c = { .pfn = pfn };
	struct mmn_page *p = mmn_pfn_to_page(sim, pfn);
	int err = mf_check(sim, pfn);

	if (err)
		return err;
	/* get_hwpoison_page() then TestSetPageHWPoison(): a racing second
	 * call sees the flag (the get first keeps the frame from being freed). */
	mmn_get_page(sim, pfn);
	if (atomic_fetch_or(&p->flags, MMN_PG_HWPOISON) & MMN_PG_HWPOISON) {
		mmn_put_page(sim, pfn);
		return -EHWPOISON;
	}
	mmn_lock_page(sim, pfn);
	if (atomic_load(&p->mapcount))
		err = mmn_rmap_walk(sim, pfn, mf_unmap_one, &c);
	if (!err && atomic_load(&p->mapcount))
		err = -EBUSY; /* "failed to unmap page" */
	if (!err && p->mapping) {
		/* Unmapped for good: the model's page->mapping holds an
		 * anon_vma reference, which the kept frame must not pin. */
		struct mmn_anon_vma *av = p->mapping;

		p->mapping = NULL;
		mmn_anon_vma_put(av);
	}
	mmn_unlock_page(sim, pfn);
	mmn__op_stat_call(sim, MMN_OP_MEMORY_FAILURE);
	mmn__op_stat_pages(sim, MMN_OP_MEMORY_FAILURE, c.changed, 0);
	return err;
}

int mmn_memory_failure(struct mmn_sim *sim, unsigned long pfn)
{
	int err;

	if (!sim)
		return -EINVAL;
	mmn_sched_span_begin(sim, "memory_failure", pfn, pfn + 1, NULL);
	err = memory_failure_do(sim, pfn);
	mmn_sched_span_end(sim, "memory_failure");
	return err;
}
