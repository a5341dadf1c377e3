// SPDX-License-Identifier: MIT
/*
 * A minimal swap area for reclaim (mm/swapfile.c, mm/swap_state.c,
 * mm/memory.c do_swap_page()).
 *
 * A slot keeps the one content word of a page that no frame holds any more.
 * Its count is the number of references naming it: swap entries in page
 * tables (MMN_SWP_SWAP, copied by fork) and the swapped[] array of a shmem
 * object (shmem pages go to swap through the page cache, not through PTEs).
 * While the page is being reclaimed, the slot also names the page (@pfn, the
 * "swap cache"): a fault on its swap entry then waits for the reclaimer to
 * unlock the page and retries, as do_swap_page() would find the folio in the
 * swap cache and lock it. There is no swap cache after reclaim: every
 * swap-in allocates a private frame, which is exact for private memory
 * (each sharer of a swapped COW page gets its own copy of the same content).
 */
#include <stdlib.h>

#include "mm_internal.h"

static struct mmn_swap_slot *slot_of(struct mmn_frame_pool *pool, unsigned long slot)
{
	return &pool->swap_slots[slot];
}

/* Release @slot; caller holds swap_lock. Free slots chain through .count. */
static void slot_release(struct mmn_frame_pool *pool, unsigned long slot)
{
	struct mmn_swap_slot *s = slot_of(pool, slot);

	s->pfn = 0;
	s->content = 0;
	s->count = pool->swap_free_head;
	pool->swap_free_head = slot;
}

unsigned long mmn_swap_alloc(struct mmn_sim *sim, unsigned long pfn)
{
	struct mmn_frame_pool *pool = sim->pool;
	unsigned long slot = 0;

	mmn_raw_lock(&pool->swap_lock);
	if (pool->swap_free_head) {
		slot = pool->swap_free_head;
		pool->swap_free_head = slot_of(pool, slot)->count;
	} else {
		if (pool->swap_nr + 1 >= pool->swap_cap) {
			unsigned long cap = pool->swap_cap ? pool->swap_cap * 2 : 64;
			struct mmn_swap_slot *n = realloc(pool->swap_slots, cap * sizeof(*n));

			if (!n)
				goto out;
			pool->swap_slots = n;
			pool->swap_cap = cap;
		}
		slot = ++pool->swap_nr; /* slot 0 stays unused: it means "none" */
	}
	*slot_of(pool, slot) = (struct mmn_swap_slot){ .pfn = pfn };
out:
	mmn_raw_unlock(&pool->swap_lock);
	return slot;
}

void mmn_swap_dup(struct mmn_sim *sim, unsigned long slot)
{
	struct mmn_frame_pool *pool = sim->pool;

	mmn_raw_lock(&pool->swap_lock);
	slot_of(pool, slot)->count++;
	mmn_raw_unlock(&pool->swap_lock);
}

void mmn_swap_free(struct mmn_sim *sim, unsigned long slot)
{
	struct mmn_frame_pool *pool = sim->pool;
	struct mmn_swap_slot *s;
	bool bad = false;

	mmn_raw_lock(&pool->swap_lock);
	s = slot_of(pool, slot);
	if (slot == 0 || slot > pool->swap_nr || s->count == 0)
		bad = true;
	else if (--s->count == 0 && !s->pfn)
		slot_release(pool, slot);
	mmn_raw_unlock(&pool->swap_lock);
	if (bad)
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, 0, "swap_free() of unused swap slot %lu",
			    slot);
}

void mmn_swap_writeback(struct mmn_sim *sim, unsigned long slot, uint64_t content)
{
	struct mmn_frame_pool *pool = sim->pool;
	struct mmn_swap_slot *s;

	mmn_raw_lock(&pool->swap_lock);
	s = slot_of(pool, slot);
	s->content = content;
	s->pfn = 0;
	if (!s->count) /* every entry naming it was zapped meanwhile */
		slot_release(pool, slot);
	mmn_raw_unlock(&pool->swap_lock);
}

void mmn_swap_read(struct mmn_sim *sim, unsigned long slot, uint64_t *content,
		   unsigned long *cache_pfn)
{
	struct mmn_frame_pool *pool = sim->pool;

	mmn_raw_lock(&pool->swap_lock);
	*content = slot_of(pool, slot)->content;
	*cache_pfn = slot_of(pool, slot)->pfn;
	mmn_raw_unlock(&pool->swap_lock);
}

void mmn_swap_sim_fini(struct mmn_sim *sim)
{
	free(sim->pool->swap_slots);
	sim->pool->swap_slots = NULL;
	mmn_raw_lock_destroy(&sim->pool->swap_lock);
}

/*
 * do_swap_page(), simplified: a page still being reclaimed is waited for
 * (its lock) and the access retried; otherwise a new private frame gets the
 * slot's content and is mapped with the VMA's permission if the entry is
 * still the one that faulted (pte_same()), and the entry's reference on the
 * slot is dropped.
 */
int mmn_do_swap_page(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
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
