// SPDX-License-Identifier: MIT
/*
 * wait_queue_head_t and struct completion, native backend.
 *
 * The wait queue models wait_event()/wake_up_all() (all versions). The
 * waiter's condition is evaluated with no lock of ours held, as the kernel
 * evaluates it after set_current_state() and outside the queue lock: the
 * condition may take any lock, pass scheduling points and call the hook.
 * A wake-up counter closes the window between "condition false" and
 * "asleep":
 *
 *   waiter                                waker
 *   lock; seq = wake_seq; unlock
 *   cond() -> false                       make cond() true
 *   lock                                  lock; wake_seq++; broadcast; unlock
 *   while (wake_seq == seq) cond_wait
 *   unlock; evaluate cond() again
 *
 * If the waker's increment comes before the waiter reads wake_seq, the
 * waiter's read (under the same lock) happens after the condition was made
 * true, so cond() sees it; if it comes after, wake_seq != seq and the waiter
 * does not sleep, or is woken by the broadcast. Either way no wake-up is
 * lost.
 *
 * The completion models complete()/complete_all()/wait_for_completion()
 * (all versions): a count of "done" units under the queue's lock, UINT_MAX
 * meaning complete_all().
 *
 * Void functions ignore a NULL object; the boolean queries answer false.
 */
#include <limits.h>

#include "priv.h"

void mmn_waitqueue_init(struct mmn_waitqueue *wq, struct mmn_sim *sim, const char *name)
{
	if (!wq || !sim)
		return;
	wq->sim = sim;
	wq->name = name ? name : "waitqueue";
	pthread_mutex_init(&wq->lock, NULL);
	pthread_cond_init(&wq->cond, NULL);
	wq->wake_seq = 0;
}

void mmn_waitqueue_destroy(struct mmn_waitqueue *wq)
{
	if (!wq)
		return;
	pthread_cond_destroy(&wq->cond);
	pthread_mutex_destroy(&wq->lock);
}

/* Slow-path prologue of every sleeping wait: might_sleep() and the point. */
static void wait_prologue(struct mmn_sim *sim, const void *obj, const char *name, const char *op)
{
	struct mmn_actor *a = sync_ld_actor(sim);

	if (a)
		mmn__ld_check_sleep(a, op);
	mmn__sched(sim, a, MMN_SCHED_WAIT, obj, name);
}

void mmn_wait_event(struct mmn_waitqueue *wq, bool (*cond)(void *arg), void *arg)
{
	if (!wq || !cond)
		return;
	if (sync_slow(wq->sim))
		wait_prologue(wq->sim, wq, wq->name, "wait_event");
	/* Backend dispatch point: the same wake_seq protocol, the wait virtual. */
	if (!sync_native(wq->sim)) {
		struct mmn_actor *me = sync_actor(wq->sim);

		for (;;) {
			unsigned int seq = __atomic_load_n(&wq->wake_seq, __ATOMIC_RELAXED);

			if (cond(arg))
				return;
			if (__atomic_load_n(&wq->wake_seq, __ATOMIC_RELAXED) != seq)
				continue;
			if (!mmn__det_block(wq->sim, me, wq, SYNC_DET_W_WAITQUEUE, NULL, -1,
					    wq->name))
				return;
		}
	}
	for (;;) {
		unsigned int seq;

		pthread_mutex_lock(&wq->lock);
		seq = wq->wake_seq;
		pthread_mutex_unlock(&wq->lock);
		if (cond(arg))
			return;
		pthread_mutex_lock(&wq->lock);
		while (wq->wake_seq == seq)
			pthread_cond_wait(&wq->cond, &wq->lock);
		pthread_mutex_unlock(&wq->lock);
	}
}

void mmn_wake_up_all(struct mmn_waitqueue *wq)
{
	struct mmn_sim *sim;
	const char *name;

	if (!wq)
		return;
	/* A woken waiter may free @wq as soon as we unlock. */
	sim = wq->sim;
	name = wq->name;
	pthread_mutex_lock(&wq->lock);
	wq->wake_seq++;
	pthread_cond_broadcast(&wq->cond);
	pthread_mutex_unlock(&wq->lock);
	if (sync_slow(sim)) {
		/* Backend dispatch point. */
		if (!sync_native(sim))
			mmn__det_wake(sim, wq);
		mmn__sched(sim, NULL, MMN_SCHED_WAKE, wq, name);
	}
}

void mmn_init_completion(struct mmn_completion *c, struct mmn_sim *sim, const char *name)
{
	if (!c || !sim)
		return;
	mmn_waitqueue_init(&c->wq, sim, name ? name : "completion");
	c->done = 0;
}

void mmn_completion_destroy(struct mmn_completion *c)
{
	if (c)
		mmn_waitqueue_destroy(&c->wq);
}

void mmn_reinit_completion(struct mmn_completion *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->wq.lock);
	c->done = 0;
	pthread_mutex_unlock(&c->wq.lock);
}

void mmn_wait_for_completion(struct mmn_completion *c)
{
	if (!c)
		return;
	if (sync_slow(c->wq.sim))
		wait_prologue(c->wq.sim, c, c->wq.name, "wait_for_completion");
	/* Backend dispatch point. */
	if (!sync_native(c->wq.sim)) {
		struct mmn_actor *me = sync_actor(c->wq.sim);

		while (c->done == 0)
			if (!mmn__det_block(c->wq.sim, me, c, SYNC_DET_W_COMPLETION, NULL, -1,
					    c->wq.name))
				return;
		if (c->done != UINT_MAX)
			c->done--;
		return;
	}
	pthread_mutex_lock(&c->wq.lock);
	while (c->done == 0)
		pthread_cond_wait(&c->wq.cond, &c->wq.lock);
	if (c->done != UINT_MAX)
		c->done--;
	pthread_mutex_unlock(&c->wq.lock);
}

bool mmn_try_wait_for_completion(struct mmn_completion *c)
{
	bool ok;

	if (!c)
		return false;
	pthread_mutex_lock(&c->wq.lock);
	ok = c->done != 0;
	if (ok && c->done != UINT_MAX)
		c->done--;
	pthread_mutex_unlock(&c->wq.lock);
	return ok;
}

static void completion_signal(struct mmn_completion *c, bool all)
{
	/* The woken waiter may free @c as soon as we unlock. */
	struct mmn_sim *sim = c->wq.sim;
	const char *name = c->wq.name;

	pthread_mutex_lock(&c->wq.lock);
	if (all) {
		c->done = UINT_MAX;
		pthread_cond_broadcast(&c->wq.cond);
	} else {
		if (c->done != UINT_MAX)
			c->done++;
		/* One unit, one waiter: whoever takes it, the rest sleep on. */
		pthread_cond_signal(&c->wq.cond);
	}
	pthread_mutex_unlock(&c->wq.lock);
	if (sync_slow(sim)) {
		/* Backend dispatch point. */
		if (!sync_native(sim))
			mmn__det_wake(sim, c);
		mmn__sched(sim, NULL, MMN_SCHED_WAKE, c, name);
	}
}

void mmn_complete(struct mmn_completion *c)
{
	if (c)
		completion_signal(c, false);
}

void mmn_complete_all(struct mmn_completion *c)
{
	if (c)
		completion_signal(c, true);
}

bool mmn_completion_done(struct mmn_completion *c)
{
	bool done;

	if (!c)
		return false;
	pthread_mutex_lock(&c->wq.lock);
	done = c->done != 0;
	pthread_mutex_unlock(&c->wq.lock);
	return done;
}
