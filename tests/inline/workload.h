/* SPDX-License-Identifier: MIT */
#ifndef MMN_TESTS_INLINE_WORKLOAD_H
#define MMN_TESTS_INLINE_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>

#define WL_PAGES 8
#define WL_READS (4 * WL_PAGES + 2)

/* Everything the workload observed; compared field by field. */
struct workload_result {
	bool setup_failed;
	int view_err, view_bad_cpu;
	unsigned int nr_reads;
	int err[WL_READS];
	uint64_t val[WL_READS];
	bool served_inline[WL_READS]; /* no library hit or miss counted for it */
	unsigned long tlb_hits, tlb_misses, violations;
	int held_inside, held_after, idx_sum;
	unsigned long srcu_violations;
};

void workload_inline(struct workload_result *r, bool lockdep);
void workload_calls(struct workload_result *r, bool lockdep);

#endif
