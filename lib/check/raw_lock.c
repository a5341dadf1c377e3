// SPDX-License-Identifier: MIT
/*
 * Raw locks: the simulator's own bookkeeping locks, a pthread mutex and a
 * count of the ones the running actor holds (struct mmn__local). No model,
 * no lockdep, no scheduling point; they sit in the bottom layer because
 * every layer, lib/check included, takes them. The deterministic backend
 * reads the count: it makes no switch at a point passed with one held
 * (lib/sync/det_core.c).
 *
 * The actor-local blocks live here too, the bottom layer being the one every
 * layer that keeps actor state may use.
 */
#include "check/check_internal.h"

__thread struct mmn__local mmn__local_own;
__thread struct mmn__local *mmn__local_cur __attribute__((tls_model("initial-exec")));

/* The thread's first question: its own block becomes the current one. */
struct mmn__local *mmn__local_init(void)
{
	mmn__local_cur = &mmn__local_own;
	return mmn__local_cur;
}

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
		mmn__local()->raw_depth++;
	}
}

void mmn_raw_unlock(struct mmn_raw_lock *l)
{
	if (l) {
		mmn__local()->raw_depth--;
		pthread_mutex_unlock(&l->m);
	}
}
