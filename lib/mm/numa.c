// SPDX-License-Identifier: MIT
/*
 * NUMA nodes, as simple as NUMA balancing needs them: node i owns the i-th
 * of nr_nodes equal ranges of the small frames (as each node owns a range of
 * physical memory), CPU c belongs to node c * nr_nodes / nr_cpus, and
 * alloc_pages_node() takes the most recently freed frame of the node. With
 * one node (the default) everything is node 0.
 */
#include <string.h>

#include <mmnsim/numa.h>

#include "mm/mm_internal.h"

unsigned int mmn__nr_nodes(const struct mmn_sim *sim)
{
	unsigned int n = atomic_load_explicit(&sim->nr_nodes, memory_order_relaxed);

	return n ? n : 1;
}

unsigned int mmn__pfn_nid(const struct mmn_sim *sim, unsigned long pfn)
{
	unsigned long nr = sim->pool->nr_frames;

	if (pfn >= nr) /* hugetlb pool: node 0 (never a NUMA candidate) */
		return 0;
	return (unsigned int)(pfn * mmn__nr_nodes(sim) / nr);
}

unsigned int mmn__cpu_nid(const struct mmn_sim *sim, int cpu)
{
	return (unsigned int)((unsigned long)cpu * mmn__nr_nodes(sim) / sim->cfg.nr_cpus);
}

unsigned long mmn__alloc_page_node(struct mmn_sim *sim, unsigned int flags, unsigned int nid)
{
	struct mmn_frame_pool *pool = sim->pool;
	unsigned long pfn = 0;

	mmn_raw_lock(&pool->lock);
	for (unsigned long i = pool->nr_free; i > 0; i--) {
		uint32_t cand = pool->free_stack[i - 1];

		if (mmn__pfn_nid(sim, cand) != nid)
			continue;
		/* Take it out of the LIFO, keeping the order of the others. */
		memmove(&pool->free_stack[i - 1], &pool->free_stack[i],
			(pool->nr_free - i) * sizeof(*pool->free_stack));
		pool->nr_free--;
		pfn = cand;
		break;
	}
	mmn_raw_unlock(&pool->lock);
	if (!pfn)
		return 0;
	mmn__page_prep_new(&pool->pages[pfn], flags);
	atomic_fetch_add_explicit(&pool->allocated, 1, memory_order_relaxed);
	return pfn;
}

int mmn_numa_set_nodes(struct mmn_sim *sim, unsigned int nr_nodes)
{
	if (!sim || !nr_nodes || nr_nodes > sim->cfg.nr_cpus || nr_nodes > sim->pool->nr_frames)
		return -EINVAL;
	atomic_store_explicit(&sim->nr_nodes, nr_nodes, memory_order_relaxed);
	return 0;
}

int mmn_page_to_nid(const struct mmn_sim *sim, unsigned long pfn)
{
	if (!sim || pfn >= sim->pool->nr_frames)
		return -EINVAL;
	return (int)mmn__pfn_nid(sim, pfn);
}

int mmn_cpu_to_node(const struct mmn_sim *sim, int cpu)
{
	if (!sim || cpu < 0 || (unsigned int)cpu >= sim->cfg.nr_cpus)
		return -EINVAL;
	return (int)mmn__cpu_nid(sim, cpu);
}
