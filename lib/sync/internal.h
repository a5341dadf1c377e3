/* SPDX-License-Identifier: MIT */
/*
 * Internal interface of the sync layer, for the other modules of the
 * library. Nothing here is exported.
 */
#ifndef MMN_LIB_SYNC_INTERNAL_H
#define MMN_LIB_SYNC_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>

#include <mmnsim/sync.h>

#include "check/check_internal.h"

struct mmn_sim;

/* Per-simulation state of the sync layer (actors, lockdep graph, hook). */
struct mmn_sync_state;

/* Called by mmn_sim_create()/mmn_sim_destroy(). init returns 0 or -errno. */
int mmn_sync_sim_init(struct mmn_sim *sim);
void mmn_sync_sim_fini(struct mmn_sim *sim);

/* Whether a scheduling-point hook is installed (cheap test for hot paths). */
bool mmn_sched_hook_active(const struct mmn_sim *sim);

/*
 * Text of the calling actor's held-lock stack, one lock per line
 * ("  #0: mmap_lock (mmap_lock) write"), for violation details. Returns
 * @buf; empty when lockdep is off.
 */
char *mmn_lockdep_held_text(struct mmn_sim *sim, char *buf, size_t len);

/*
 * lockdep_assert_held(): report MMN_VIOL_PROTOCOL when the calling actor
 * does not hold @lock (a spinlock, mutex or rwsem of sync.h, any mode).
 * Replaces "caller holds ..." comments; no-op when lockdep is off.
 */
void mmn__lockdep_assert_held(const void *lock, const char *what);

/*
 * Whether the last run of the deterministic scheduler on @sim unwound
 * actors (deadlock, or a livelock past the budget's drain): the state it
 * left has operations cut short. False under the native backend.
 */
bool mmn__det_last_run_unwound(const struct mmn_sim *sim);

/* The current context string of the calling actor (see mmn_actor_set_context). */
const char *mmn_actor_context(struct mmn_sim *sim);

#endif /* MMN_LIB_SYNC_INTERNAL_H */
