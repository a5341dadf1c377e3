// SPDX-License-Identifier: MIT
/*
 * The folio lock (PG_locked): a sleeping bit lock in the page flags, as
 * folio_lock()/folio_unlock()/folio_wait_locked() (mm/filemap.c). Sleepers
 * wait on one queue per simulation (the kernel hashes folios onto a table of
 * wait queues; a shared queue only costs spurious wake-ups). It is not a
 * lockdep-tracked lock here, as the kernel's is not either.
 *
 * The caller holds a reference on the frame, so it cannot be freed (and its
 * flags rewritten) while locked; an unlock always precedes the last put.
 */
#include "mm/mm_internal.h"

struct folio_wait {
	struct mmn_sim *sim;
	unsigned long pfn;
};

static _Atomic unsigned int *page_flags(struct mmn_sim *sim, unsigned long pfn)
{
	return &mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->flags;
}

static bool folio_unlocked(void *arg)
{
	struct folio_wait *w = arg;

	return !(atomic_load_explicit(page_flags(w->sim, w->pfn), memory_order_acquire) &
		 MMN_PG_LOCKED);
}

/* folio_trylock(). */
bool mmn_trylock_page(struct mmn_sim *sim, unsigned long pfn)
{
	return !(atomic_fetch_or_explicit(page_flags(sim, pfn), MMN_PG_LOCKED,
					  memory_order_acquire) & MMN_PG_LOCKED);
}

/* folio_lock(): may sleep. */
void mmn_lock_page(struct mmn_sim *sim, unsigned long pfn)
{
	struct folio_wait w = { .sim = sim, .pfn = pfn };

	mmn_might_sleep(sim);
	while (!mmn_trylock_page(sim, pfn))
		mmn_wait_event(&sim->pool->folio_wq, folio_unlocked, &w);
}

/* folio_unlock(): clear PG_locked, then wake the sleepers. */
void mmn_unlock_page(struct mmn_sim *sim, unsigned long pfn)
{
	atomic_fetch_and_explicit(page_flags(sim, pfn), ~MMN_PG_LOCKED, memory_order_release);
	mmn_wake_up_all(&sim->pool->folio_wq);
}

/* folio_wait_locked() (migration_entry_wait(), a swap-in racing reclaim). */
void mmn_wait_on_page_locked(struct mmn_sim *sim, unsigned long pfn)
{
	struct folio_wait w = { .sim = sim, .pfn = pfn };

	mmn_wait_event(&sim->pool->folio_wq, folio_unlocked, &w);
}
