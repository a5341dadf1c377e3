// SPDX-License-Identifier: MIT
/*
 * hmm_range_fault() (include/mmnsim/hmm_range.h): mm/hmm.c as in 6.x, the
 * walk every interval-notifier user shares. Per page, in the kernel's
 * order:
 *
 *   the notifier's sequence moved?           -> -EBUSY (mmu_interval_check_retry,
 *                                               hmm_range_fault()'s loop)
 *   no fault asked for and the VMA is not     -> ERROR (hmm_vma_walk_test())
 *   readable
 *   read the entry as a hardware walker does  (hmm_vma_handle_pte/_pmd)
 *   request met?                              -> output, next page
 *   else handle_mm_fault() and read again     (hmm_vma_fault(): the kernel
 *                                               returns -EBUSY to restart its
 *                                               walk at the page; same thing)
 *
 * The reads are lockless (mmn_pgtable_walk()): the result may be stale by
 * the time the caller uses it, which is why the caller checks
 * mmu_interval_read_retry() under its own lock before programming.
 */
#include <errno.h>
#include <stddef.h>

#include <mmnsim/fault.h>
#include <mmnsim/hmm_range.h>
#include <mmnsim/mm.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/page.h>
#include <mmnsim/pgtable.h>

#include "internal.h"
#include "mm/mm_internal.h"

#define HMM_REQ_BITS (MMN_HMM_PFN_REQ_FAULT | MMN_HMM_PFN_REQ_WRITE)
#define HMM_PMD_ORDER 9UL
#define HMM_DEFAULT_FAULT_BUDGET 64

static bool hmm_collided(const struct mmn_hmm_range *range)
{
	if (range->collided && range->collided(range->collided_arg))
		return true;
	return range->notifier && mmn_interval_check_retry(range->notifier, range->notifier_seq);
}

/*
 * One entry as hmm_vma_handle_pte()/_pmd() report it: *out gets the output
 * word (0 when nothing usable), *gen the frame's generation. Returns true
 * when the entry satisfies @want_write (a read request is met by any valid
 * entry).
 */
static bool hmm_read_entry(struct mmn_sim *sim, const struct mmn_hmm_range *range,
			   const struct mmn_walk *w, bool want_write, unsigned long *out,
			   uint32_t *gen)
{
	mmn_pte_t e = w->entry;

	*out = 0;
	*gen = 0;
	if ((w->level == MMN_PT_PMD && mmn_pmd_leaf(e)) ||
	    (w->level == MMN_PT_PTE && mmn_pte_present(e))) {
		*out = w->pfn | MMN_HMM_PFN_VALID | (mmn_pte_write(e) ? MMN_HMM_PFN_WRITE : 0) |
		       (w->level == MMN_PT_PMD ? HMM_PMD_ORDER << MMN_HMM_PFN_ORDER_SHIFT : 0);
		*gen = w->gen;
		return !want_write || mmn_pte_write(e);
	}
	/* hmm_is_device_private_entry(): only the caller's own device pages */
	if (w->level == MMN_PT_PTE && mmn_pte_device(e) && range->dev_private_owner &&
	    (mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_READ ||
	     mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_WRITE)) {
		struct mmn_dev_pagemap *pg = mmn__devmem_pgmap_of(sim, mmn_pte_pfn(e));

		if (pg && pg->owner == range->dev_private_owner) {
			*out = mmn_pte_pfn(e) | MMN_HMM_PFN_VALID |
			       (mmn_pte_device_write(e) ? MMN_HMM_PFN_WRITE : 0);
			*gen = mmn_page_gen(sim, mmn_pte_pfn(e));
			return !want_write || mmn_pte_device_write(e);
		}
	}
	return false;
}

/* One page: read, fault until the request is met. */
static int hmm_one_page(struct mmn_mm *mm, struct mmn_hmm_range *range, unsigned long addr,
			size_t i, unsigned int budget)
{
	unsigned long req = (range->hmm_pfns[i] & range->pfn_flags_mask & HMM_REQ_BITS) |
			    (range->default_flags & HMM_REQ_BITS);
	bool fault = req & MMN_HMM_PFN_REQ_FAULT;
	bool write = fault && (req & MMN_HMM_PFN_REQ_WRITE);
	unsigned int tries = 0;

	for (;;) {
		struct mmn_walk w;
		unsigned long out;
		uint32_t gen;
		bool ok;
		int r;

		if (hmm_collided(range))
			return -EBUSY;
		if (!fault) {
			/* hmm_vma_walk_test(): unreadable VMA, nothing asked */
			struct mmn_vma *vma = mmn_vma_lookup(mm, addr);

			if (vma && !(vma->vm_flags & MMN_VM_READ)) {
				range->hmm_pfns[i] = MMN_HMM_PFN_ERROR;
				if (range->gens)
					range->gens[i] = 0;
				return 0;
			}
		}
		r = mmn_pgtable_walk(mm, addr, &w);
		if (r)
			return r;
		ok = hmm_read_entry(mm->sim, range, &w, write, &out, &gen);
		range->hmm_pfns[i] = out;
		if (range->gens)
			range->gens[i] = gen;
		if (ok || !fault)
			return 0;
		if (++tries > budget)
			return -EBUSY;
		/* hmm_vma_fault() → handle_mm_fault() */
		r = mmn_handle_mm_fault(mm, addr, write ? MMN_FAULT_WRITE : 0);
		if (r == -EACCES)
			return write ? -EPERM : -EFAULT;
		if (r)
			return r;
	}
}

int mmn_hmm_range_fault(struct mmn_hmm_range *range)
{
	struct mmn_mm *mm;
	unsigned int budget;

	if (!range || !range->hmm_pfns || range->start >= range->end ||
	    (range->start & ~MMN_PAGE_MASK) || (range->end & ~MMN_PAGE_MASK) ||
	    range->end > MMN_TASK_SIZE)
		return -EINVAL;
	mm = range->notifier ? range->notifier->mm : range->mm;
	if (!mm)
		return -EINVAL;
	budget = range->fault_budget ? range->fault_budget : HMM_DEFAULT_FAULT_BUDGET;
	mmn_mmap_assert_locked(mm);
	for (unsigned long addr = range->start; addr < range->end; addr += MMN_PAGE_SIZE) {
		int r = hmm_one_page(mm, range, addr, (addr - range->start) / MMN_PAGE_SIZE, budget);

		if (r)
			return r;
	}
	return 0;
}
