// SPDX-License-Identifier: MIT
/*
 * The per-operation statistics (struct mmn_op_stats) and the operations'
 * names. The ranges each operation notifies are counted by mmn__notify_start()
 * (lib/notifier/notify.c).
 */
#include "ops/ops_internal.h"

static const char *const op_names[MMN_OP_NR] = {
	[MMN_OP_MUNMAP] = "munmap",
	[MMN_OP_MREMAP] = "mremap",
	[MMN_OP_MPROTECT] = "mprotect",
	[MMN_OP_MADV_DONTNEED] = "madvise_dontneed",
	[MMN_OP_MADV_FREE] = "madvise_free",
	[MMN_OP_NUMA_HINT] = "numa_hint",
	[MMN_OP_RECLAIM] = "reclaim",
	[MMN_OP_MIGRATE] = "migrate",
	[MMN_OP_KSM] = "ksm",
	[MMN_OP_THP_SPLIT] = "thp_split",
	[MMN_OP_THP_COLLAPSE] = "thp_collapse",
	[MMN_OP_FORK] = "fork",
	[MMN_OP_COW] = "cow",
	[MMN_OP_SOFT_DIRTY] = "soft_dirty",
	[MMN_OP_EXIT] = "exit_mmap",
	[MMN_OP_OOM_REAP] = "oom_reap",
	[MMN_OP_EXCLUSIVE] = "device_exclusive",
	[MMN_OP_MIGRATE_VMA] = "migrate_vma",
	[MMN_OP_WRITEBACK] = "writeback",
	[MMN_OP_UNMAP_MAPPING] = "unmap_mapping",
	[MMN_OP_AGING] = "aging",
	[MMN_OP_UFFD_WP] = "uffd_wp",
	[MMN_OP_UFFD_MOVE] = "uffd_move",
	[MMN_OP_PAGEMAP_SCAN] = "pagemap_scan",
	[MMN_OP_MEMORY_FAILURE] = "memory_failure",
};

const char *mmn_op_name(enum mmn_op op)
{
	if ((unsigned int)op >= MMN_OP_NR)
		return "unknown";
	return op_names[op];
}

_Static_assert(MMN_OP_NR <= MMN_ARRAY_SIZE(((struct mmn_sim *)0)->op_stats),
	       "struct mmn_sim has a counter slot per operation");

static struct mmn_op_counters *op_counters(struct mmn_sim *sim, enum mmn_op op)
{
	return &sim->op_stats[op];
}

void mmn__op_stat_call(struct mmn_sim *sim, enum mmn_op op)
{
	atomic_fetch_add_explicit(&op_counters(sim, op)->calls, 1, memory_order_relaxed);
}

void mmn__op_stat_pages(struct mmn_sim *sim, enum mmn_op op, unsigned long changed,
		    unsigned long unchanged)
{
	atomic_fetch_add_explicit(&op_counters(sim, op)->changed, changed, memory_order_relaxed);
	atomic_fetch_add_explicit(&op_counters(sim, op)->unchanged, unchanged, memory_order_relaxed);
}

void mmn__op_stat_skipped(struct mmn_sim *sim, enum mmn_op op, unsigned long n)
{
	atomic_fetch_add_explicit(&op_counters(sim, op)->skipped, n, memory_order_relaxed);
}

int mmn_op_get_stats(const struct mmn_sim *sim, enum mmn_op op, struct mmn_op_stats *out)
{
	const struct mmn_op_counters *c;

	if (!sim || !out || (unsigned int)op >= MMN_OP_NR)
		return -EINVAL;
	c = &sim->op_stats[op];
	out->calls = atomic_load_explicit(&c->calls, memory_order_relaxed);
	out->ranges = atomic_load_explicit(&c->ranges, memory_order_relaxed);
	out->pages_changed = atomic_load_explicit(&c->changed, memory_order_relaxed);
	out->pages_unchanged = atomic_load_explicit(&c->unchanged, memory_order_relaxed);
	out->skipped = atomic_load_explicit(&c->skipped, memory_order_relaxed);
	return 0;
}
