// SPDX-License-Identifier: MIT
/*
 * Raw locks: the simulator's own bookkeeping locks, a pthread mutex and a
 * per-thread count of the ones held. No model, no lockdep, no scheduling
 * point; they sit in the bottom layer because every layer, lib/check
 * included, takes them. The deterministic backend reads the count: it makes
 * no switch at a point passed with one held (lib/sync/det_core.c).
 */
#include "check/check_internal.h"

__thread int mmn__raw_depth __attribute__((tls_model("initial-exec")));

void mmn_raw_lock_init(struct mmn_raw_lock *l)
{
	if (l)
		pthread_mutex_init(&l->m, NULL);
}

void mmn_raw_lock_destroy(struct mmn_raw_lock *l)
{
	if (l)
		pthread_mutex_destroy(&l->m);
}

void mmn_raw_lock(struct mmn_raw_lock *l)
{
	if (l) {
		pthread_mutex_lock(&l->m);
		mmn__raw_depth++;
	}
}

void mmn_raw_unlock(struct mmn_raw_lock *l)
{
	if (l) {
		mmn__raw_depth--;
		pthread_mutex_unlock(&l->m);
	}
}
