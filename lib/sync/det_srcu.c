// SPDX-License-Identifier: MIT
/*
 * SRCU under the deterministic backend: two reader counters per domain, a
 * grace period flips the index and waits (virtually) for the old one to
 * drain; call_srcu() callbacks run on a helper actor of the run, or on the
 * calling thread outside a run.
 */
#include <mmnsim/sched.h>

#include "det.h"

int mmn__det_srcu_read_lock(struct mmn_srcu *ss, struct mmn_actor *a)
{
	/* Reading the index and counting in are one step: no point between. */
	int idx = (int)(ss->det_idx & 1);

	ss->det_ctr[idx]++;
	if (a)
		mmn__det_held_push(a, ss, SYNC_KIND_SRCU, true, idx);
	return idx;
}

void mmn__det_srcu_read_unlock(struct mmn_srcu *ss, struct mmn_actor *a, int idx)
{
	struct mmn_sim *sim = ss->dep.sim;
	int got = -1;

	if (a) {
		got = mmn__det_held_pop(a, ss, 1, idx);
		if (got < 0) {
			/* A wrong index: report, and close the newest section
			 * of this domain instead so that the counters stay right. */
			got = mmn__det_held_pop(a, ss, 1, -1);
			if (got >= 0)
				mmn_reportf(sim, MMN_VIOL_BAD_UNLOCK, 0, 0,
					    "srcu_read_unlock(%s) with index %d, not the one "
					    "srcu_read_lock() returned (%d)",
					    ss->dep.name, idx, got);
		}
	}
	if (got < 0)
		got = idx;
	if (got < 0 || got > 1 || ss->det_ctr[got] == 0) {
		mmn_reportf(sim, MMN_VIOL_BAD_UNLOCK, 0, 0,
			    "srcu_read_unlock(%s) without a read section", ss->dep.name);
		return;
	}
	if (--ss->det_ctr[got] == 0)
		mmn__det_wake(sim, &ss->det_ctr[got]);
}

/*
 * A grace period: flip the index new readers take, then wait until the
 * readers of the old index have left. Grace periods of one domain are
 * serialised (the kernel's srcu_gp_mutex), so the old index holds only
 * readers that entered before this one began: the other index was drained
 * by the grace period before, and reading the index and counting in are one
 * step here.
 *
 *   reader R1          updater U                   reader R2
 *   lock: idx 0, c0=1
 *                      synchronize: idx = 1
 *                      wait c0 == 0                lock: idx 1, c1=1
 *   unlock: c0=0 --->  returns (R2 still inside)
 */
void mmn__det_synchronize_srcu(struct mmn_srcu *ss, struct mmn_actor *a)
{
	struct mmn_sim *sim = ss->dep.sim;
	unsigned int old;

	if (!mmn__det_in_run(sim, a))
		return; /* nobody else runs: every other section is over */
	while (ss->det_gp)
		if (!mmn__det_block(sim, a, &ss->det_gp, SYNC_DET_W_GP_BUSY, NULL, 0, ss->dep.name))
			return;
	ss->det_gp = true;
	a->det.gp_ss = ss;
	old = ss->det_idx & 1;
	ss->det_idx = old ^ 1;
	while (ss->det_ctr[old] > 0)
		if (!mmn__det_block(sim, a, &ss->det_ctr[old], SYNC_DET_W_GP, ss, (int)old,
				    ss->dep.name))
			break;
	ss->det_gp = false;
	a->det.gp_ss = NULL;
	mmn__det_wake(sim, &ss->det_gp);
}

/* Run one callback on the calling actor (the helper, or the thread that
 * drains the queue outside a run). */
static void det_run_callback(struct mmn_sim *sim, struct mmn_actor *a, struct mmn_rcu_head *h)
{
	struct mmn_srcu *ss = h->ss;

	/* No longer queued (mmn_call_srcu()'s double-queue check reads it). */
	__atomic_store_n(&h->ss, NULL, __ATOMIC_RELEASE);
	if (a)
		a->in_callback++;
	h->func(h);
	if (a)
		a->in_callback--;
	ss->det_cb_done++;
	__atomic_sub_fetch(&sim->sync->srcu_pending, 1, __ATOMIC_RELAXED);
	mmn__det_wake(sim, &ss->det_cb_done);
}

static struct mmn_rcu_head *det_take_queue(struct sync_det *d)
{
	struct mmn_rcu_head *h;

	pthread_mutex_lock(&d->m);
	h = d->cbq_head;
	d->cbq_head = d->cbq_tail = NULL;
	pthread_mutex_unlock(&d->m);
	return h;
}

/* The SRCU callback helper: one grace period per domain per batch, then
 * the batch's callbacks in call_srcu() order. */
static void *det_helper_fn(void *p)
{
	struct mmn_sim *sim = p;
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);

	for (;;) {
		struct mmn_rcu_head *batch = det_take_queue(d), *h, *g;

		if (!batch) {
			mmn__det_block(sim, me, &d->cbq_head, SYNC_DET_W_CB_IDLE, NULL, 0,
				       "call_srcu");
			continue;
		}
		for (h = batch; h; h = h->priv[0]) {
			for (g = batch; g != h && g->ss != h->ss; g = g->priv[0])
				;
			if (g == h)
				mmn__det_synchronize_srcu(h->ss, me);
		}
		for (h = batch; h; h = g) {
			g = h->priv[0]; /* the callback may free @h */
			det_run_callback(sim, me, h);
		}
	}
	return NULL;
}

/* Start the helper if the run has none. Caller: an actor of the run or the
 * controller before the first hand-off. */
void mmn__det_helper_ensure(struct mmn_sim *sim)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *h;

	if (d->helper)
		return;
	if (mmn__det_create(sim, "srcu_cb", det_helper_fn, sim, true, &h) == 0)
		d->helper = h;
}

void mmn__det_call_srcu(struct mmn_srcu *ss, struct mmn_rcu_head *head)
{
	struct mmn_sim *sim = ss->dep.sim;
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);

	head->priv[0] = NULL;
	ss->det_cb_queued++;
	__atomic_add_fetch(&sim->sync->srcu_pending, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&d->m);
	if (d->cbq_tail)
		d->cbq_tail->priv[0] = head;
	else
		d->cbq_head = head;
	d->cbq_tail = head;
	pthread_mutex_unlock(&d->m);
	if (mmn__det_in_run(sim, me)) {
		mmn__det_helper_ensure(sim);
		mmn__det_wake(sim, &d->cbq_head);
	}
}

/* Outside a run: every queued callback runs now, on the calling thread. */
static void det_drain(struct mmn_sim *sim)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);
	struct mmn_rcu_head *h, *next;

	while ((h = det_take_queue(d)) != NULL)
		for (; h; h = next) {
			next = h->priv[0];
			det_run_callback(sim, me, h);
		}
}

void mmn__det_srcu_barrier(struct mmn_srcu *ss, struct mmn_actor *a)
{
	struct mmn_sim *sim = ss->dep.sim;
	unsigned long target = ss->det_cb_queued;

	if (!mmn__det_in_run(sim, a)) {
		det_drain(sim);
		return;
	}
	if (a->in_callback) {
		mmn_reportf(sim, MMN_VIOL_SRCU_SELF_DEADLOCK, 0, 0,
			    "srcu_barrier(%s) from an SRCU callback would wait for itself; skipped",
			    ss->dep.name);
		return;
	}
	while ((long)(ss->det_cb_done - target) < 0)
		if (!mmn__det_block(sim, a, &ss->det_cb_done, SYNC_DET_W_BARRIER, NULL, 0,
				    ss->dep.name))
			return;
}

void mmn__det_srcu_sim_fini(struct mmn_sim *sim)
{
	det_drain(sim);
}
