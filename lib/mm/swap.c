// SPDX-License-Identifier: MIT
/*
 * A minimal swap area for reclaim (mm/swapfile.c, mm/swap_state.c); the
 * swap-in, do_swap_page(), is in lib/ops/memory.c.
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

#include "mm/mm_internal.h"

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
