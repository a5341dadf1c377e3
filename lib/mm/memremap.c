// SPDX-License-Identifier: MIT
/*
 * Device-private pagemaps (mm/memremap.c, include/linux/memremap.h): a
 * pagemap owns frames taken from the simulation's pool; a device page is
 * idle (refcount 0, PG_DEVICE_PRIVATE) in its pagemap until migrate_vma
 * allocates it, and its last put brings it back (free_zone_device_folio()).
 * The CPU fault on a device-private entry is lib/ops/device.c's.
 */
#include <stdlib.h>

#include "mm/mm_internal.h"

/* page->pgmap: the simulation's pagemaps by id (page->pgmap_id; 0 is "none"). */
#define DEVMEM_MAX MMN_ARRAY_SIZE(((struct mmn_sim *)0)->devmem)

struct mmn_dev_pagemap *mmn__devmem_pgmap_of(struct mmn_sim *sim, unsigned long pfn)
{
	struct mmn_page *p = mmn_pfn_to_page(sim, pfn);

	if (!(atomic_load_explicit(&p->flags, memory_order_acquire) & MMN_PG_DEVICE_PRIVATE) ||
	    !p->pgmap_id || p->pgmap_id >= DEVMEM_MAX)
		return NULL;
	return atomic_load_explicit(&sim->devmem[p->pgmap_id], memory_order_acquire);
}

int mmn_devmem_create(struct mmn_sim *sim, unsigned long nr_pages, void *owner,
		      const struct mmn_dev_pagemap_ops *ops, struct mmn_dev_pagemap **out)
{
	struct mmn_dev_pagemap *pg;
	struct mmn_devmem_pool *pool;
	unsigned long got = 0;
	unsigned int id;

	if (!sim || !out || !nr_pages)
		return -EINVAL;
	/* More than the whole pool can never succeed: refused before the host
	 * is asked for arrays of that size (2^40 pages: 8 TiB each). */
	if (nr_pages > sim->pool->nr_frames)
		return -ENOMEM;
	pg = calloc(1, sizeof(*pg));
	pool = calloc(1, sizeof(*pool));
	if (!pg || !pool)
		goto nomem;
	pool->pfns = calloc(nr_pages, sizeof(*pool->pfns));
	pool->free = calloc(nr_pages, sizeof(*pool->free));
	if (!pool->pfns || !pool->free)
		goto nomem;
	for (; got < nr_pages; got++) {
		pool->pfns[got] = mmn_alloc_page(sim, 0);
		if (!pool->pfns[got])
			goto nomem;
	}
	for (id = 1; id < DEVMEM_MAX; id++) {
		struct mmn_dev_pagemap *none = NULL;

		if (atomic_compare_exchange_strong(&sim->devmem[id], &none, pg))
			break;
	}
	if (id == DEVMEM_MAX)
		goto nomem;
	pg->owner = owner;
	pg->ops = ops;
	pg->sim = sim;
	pg->pool = pool;
	pool->id = id;
	pool->nr_pages = nr_pages;
	mmn_raw_lock_init(&pool->lock);
	/* Highest first on the stack, so the first allocation gets pfns[0]. */
	for (unsigned long i = nr_pages; i > 0; i--) {
		struct mmn_page *p = mmn_pfn_to_page(sim, pool->pfns[i - 1]);

		p->pgmap_id = id;
		atomic_store(&p->refcount, 0);
		atomic_store(&p->flags, MMN_PG_DEVICE_PRIVATE);
		pool->free[pool->nr_free++] = pool->pfns[i - 1];
	}
	*out = pg;
	return 0;
nomem:
	if (pool && pool->pfns)
		for (unsigned long i = 0; i < got; i++)
			mmn_put_page(sim, pool->pfns[i]);
	if (pool) {
		free(pool->pfns);
		free(pool->free);
	}
	free(pool);
	free(pg);
	return -ENOMEM;
}

/* A destroyed pagemap kept for the checks (KASAN's quarantine, for good). */
struct mmn__devmem_grave {
	struct mmn__devmem_grave *next;
	struct mmn_dev_pagemap *pg;
};

static void devmem_bury(struct mmn_sim *sim, struct mmn_dev_pagemap *pg)
{
	struct mmn__devmem_grave *g = malloc(sizeof(*g));

	pg->pool = NULL;
	if (!g) {  /* host out of memory: the pagemap goes, unchecked */
		free(pg);
		return;
	}
	g->pg = pg;
	g->next = atomic_load_explicit(&sim->devmem_graves, memory_order_relaxed);
	while (!atomic_compare_exchange_weak_explicit(&sim->devmem_graves, &g->next, g,
						      memory_order_release, memory_order_relaxed))
		;
}

/* At mmn_sim_destroy(): free the host memory of pagemaps left behind (their
 * frames go with the pool) and of the destroyed ones kept for the checks. */
void mmn_devmem_sim_fini(struct mmn_sim *sim)
{
	struct mmn__devmem_grave *g = atomic_exchange(&sim->devmem_graves, NULL);

	while (g) {
		struct mmn__devmem_grave *next = g->next;

		free(g->pg);
		free(g);
		g = next;
	}
	for (unsigned int id = 1; id < DEVMEM_MAX; id++) {
		struct mmn_dev_pagemap *pg = atomic_load(&sim->devmem[id]);

		if (!pg)
			continue;
		mmn_raw_lock_destroy(&pg->pool->lock);
		free(pg->pool->pfns);
		free(pg->pool->free);
		free(pg->pool);
		free(pg);
		atomic_store(&sim->devmem[id], NULL);
	}
}

int mmn_devmem_destroy(struct mmn_dev_pagemap *pg)
{
	struct mmn_devmem_pool *pool;
	struct mmn_sim *sim;
	bool busy;

	if (!pg)
		return -EINVAL;
	pool = pg->pool;
	sim = pg->sim;
	if (!pool) {  /* memunmap_pages() twice */
		mmn_reportf(sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "mmn_devmem_destroy() of a pagemap already destroyed");
		return -EINVAL;
	}
	mmn_raw_lock(&pool->lock);
	busy = pool->nr_free != pool->nr_pages;
	mmn_raw_unlock(&pool->lock);
	if (busy)
		return -EBUSY;
	atomic_store(&sim->devmem[pool->id], NULL);
	for (unsigned long i = 0; i < pool->nr_pages; i++) {
		struct mmn_page *p = mmn_pfn_to_page(sim, pool->pfns[i]);

		/* An ordinary allocated frame again, whose put frees it. */
		p->pgmap_id = 0;
		atomic_store(&p->refcount, 1);
		atomic_store(&p->flags, 0);
		mmn_put_page(sim, pool->pfns[i]);
	}
	mmn_raw_lock_destroy(&pool->lock);
	free(pool->pfns);
	free(pool->free);
	free(pool);
	devmem_bury(sim, pg);
	return 0;
}

unsigned long mmn_devmem_nr_free(struct mmn_dev_pagemap *pg)
{
	unsigned long n;

	if (!pg || !pg->pool)
		return 0;
	mmn_raw_lock(&pg->pool->lock);
	n = pg->pool->nr_free;
	mmn_raw_unlock(&pg->pool->lock);
	return n;
}

unsigned long mmn_devmem_migrate_to_ram_calls(struct mmn_dev_pagemap *pg)
{
	return pg && pg->pool ? atomic_load(&pg->pool->migrate_to_ram_calls) : 0;
}

unsigned long mmn__devmem_alloc_page(struct mmn_dev_pagemap *pg)
{
	struct mmn_devmem_pool *pool = pg->pool;
	unsigned long pfn = 0;

	mmn_raw_lock(&pool->lock);
	if (pool->nr_free)
		pfn = pool->free[--pool->nr_free];
	mmn_raw_unlock(&pool->lock);
	if (!pfn)
		return 0;
	mmn__page_prep_new(mmn_pfn_to_page(pg->sim, pfn), MMN_PG_DEVICE_PRIVATE | MMN_PG_ANON);
	return pfn;
}

void mmn_devmem_page_free(struct mmn_sim *sim, unsigned long pfn)
{
	struct mmn_dev_pagemap *pg = mmn__devmem_pgmap_of(sim, pfn);

	if (!pg) {
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, pfn,
			    "device page %lu freed without its pagemap", pfn);
		return;
	}
	atomic_store_explicit(&mmn_pfn_to_page(sim, pfn)->flags, MMN_PG_DEVICE_PRIVATE,
			      memory_order_release);
	mmn_raw_lock(&pg->pool->lock);
	pg->pool->free[pg->pool->nr_free++] = pfn;
	mmn_raw_unlock(&pg->pool->lock);
}
