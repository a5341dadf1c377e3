/* SPDX-License-Identifier: MIT */
/**
 * @file numa.h
 * NUMA nodes for NUMA balancing (lib/mm/numa.c, do_numa_page() in
 * lib/ops/memory.c). The model: the small frames are split into
 * @c nr_nodes equal pfn ranges, node i owning the i-th; CPU c belongs to
 * node c * nr_nodes / nr_cpus. The policy is the default local one
 * (mpol_misplaced() with MPOL_LOCAL): a page is misplaced when its node is
 * not the node of the CPU that took the NUMA hinting fault (a GUP or
 * populate fault has no CPU here and never migrates). With one node (the
 * default) nothing is ever misplaced. The order of do_numa_page() follows
 * the profile's numa_map_before_migrate (profile.h).
 */
#ifndef MMNSIM_NUMA_H
#define MMNSIM_NUMA_H

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;

/**
 * mmn_numa_set_nodes() - split the simulation's memory and CPUs into
 * @p nr_nodes nodes. Set it before the first mapping: pages keep the node
 * of their frame.
 * @param sim       the simulation
 * @param nr_nodes  1 .. the number of CPUs
 * @return 0, -EINVAL for NULL, 0 nodes, more nodes than CPUs, or than frames.
 */
MMN_API int mmn_numa_set_nodes(struct mmn_sim *sim, unsigned int nr_nodes);

/**
 * mmn_page_to_nid() - page_to_nid() of a small frame.
 * @param sim  the simulation
 * @param pfn  the frame
 * @return the node, -EINVAL for NULL or a frame out of range.
 */
MMN_API int mmn_page_to_nid(const struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_cpu_to_node() - cpu_to_node().
 * @param sim  the simulation
 * @param cpu  the CPU
 * @return the node, -EINVAL for NULL or @p cpu out of range.
 */
MMN_API int mmn_cpu_to_node(const struct mmn_sim *sim, int cpu);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_NUMA_H */
