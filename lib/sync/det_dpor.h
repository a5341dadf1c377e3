/* SPDX-License-Identifier: MIT */
/*
 * Source-set DPOR with sleep sets (det_dpor.c), behind the explorer of
 * det_explore.c (mmn_sched_dpor_create()).
 */
#ifndef MMN_LIB_SYNC_DET_DPOR_H
#define MMN_LIB_SYNC_DET_DPOR_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/sched.h>

struct mmn__dpor;

struct mmn__dpor *mmn__dpor_create(unsigned int bound);
void mmn__dpor_destroy(struct mmn__dpor *p);
/* Shard @shard of @shards; the top @depth choice points are exhaustive. */
void mmn__dpor_shard(struct mmn__dpor *p, unsigned int shard, unsigned int shards,
		     unsigned int depth);
bool mmn__dpor_next(struct mmn__dpor *p, struct mmn_sched_config *cfg);
int mmn__dpor_record(struct mmn__dpor *p, const struct mmn_sim *sim);
unsigned long mmn__dpor_runs(const struct mmn__dpor *p);
/* Runs that were new classes of this shard. */
unsigned long mmn__dpor_counted(const struct mmn__dpor *p);
bool mmn__dpor_complete(const struct mmn__dpor *p);
bool mmn__dpor_bounded(const struct mmn__dpor *p);
/* 1 when the last run was a new class of this shard (*id: its hash). */
int mmn__dpor_last(const struct mmn__dpor *p, uint64_t *id);

#endif /* MMN_LIB_SYNC_DET_DPOR_H */
