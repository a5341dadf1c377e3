// SPDX-License-Identifier: MIT
/*
 * Actors of a deterministic run: each is a user-level context
 * (det_context.c), or with the thread mechanism a host thread (or a pool
 * thread, det_pool.c), parked until the token comes to it; its start routine runs
 * the body, ends the actor and passes the token on, or unwinds it
 * (det_unwind.c). spawn and join from inside a run.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmnsim/sched.h>

#include "det.h"

/* An actor's life once it first holds the token: its body and its end, or
 * its unwinding (the longjmp lands here, on the actor's own stack). */
static void *det_life(struct mmn_actor *a)
{
	struct sync_det *d = det_of(a->sim);

	if (a->det.abort)
		goto unwound;
	if (setjmp(a->det.unwind) != 0)
		goto unwound;
	mmn__sync_enter_actor(a->sim);
	a->ret = a->fn(a->arg);
	mmn__actor_exit(a);
	pthread_mutex_lock(&d->m);
	if (a->det.state == SYNC_DET_RUNNABLE)
		d->nrunnable--;
	a->det.state = SYNC_DET_ENDED;
	mmn__det_wake_locked(d, a); /* joiners */
	mmn__det_reschedule(d, a, "exit", a, a->name);
	pthread_mutex_unlock(&d->m);
	return a->ret;

unwound:
	return mmn__det_unwound(a);
}

/* Start routine of an actor's host thread (the thread mechanism). */
static void *det_trampoline(void *p)
{
	struct mmn_actor *a = p;
	struct mmn_sim *sim = a->sim;
	struct sync_det *d = det_of(sim);

	mmn__actor_bind(sim, a);
	pthread_mutex_lock(&d->m);
	while (d->cur != a)
		pthread_cond_wait(&a->det.cv, &d->m);
	pthread_mutex_unlock(&d->m);
	return det_life(a);
}

/* The body of an actor's user-level context: first resumed when it first
 * gets the token; once it returns, det_context.c's entry makes the last
 * switch, to whoever has the token then. */
void mmn__det_ctx_body(struct mmn_actor *a)
{
	det_life(a);
}

/* Start @a's thread or context, parked until it gets the token. */
static int det_start(struct sync_det *d, struct mmn_actor *a)
{
	if (d->contexts)
		return mmn__det_ctx_create(d, a);
	if (d->cfg.pool)
		return mmn__pool_start(d->cfg.pool, a, det_trampoline);
	return -pthread_create(&a->thread, NULL, det_trampoline, a);
}

/*
 * Create an actor of the run (called by an actor, or by the controller for
 * main and the helper) with its thread, parked until it gets the token.
 */
int mmn__det_create(struct mmn_sim *sim, const char *name, mmn_actor_fn fn, void *arg,
		    bool daemon, struct mmn_actor **out)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *a;
	char buf[SYNC_ACTOR_NAME];
	unsigned int idx;
	int err;

	pthread_mutex_lock(&d->m);
	if (d->nact == d->cap_act) {
		unsigned int cap = d->cap_act ? d->cap_act * 2 : 16;
		struct mmn_actor **n = realloc(d->act, cap * sizeof(*n));
		struct mmn_actor **s;

		if (!n) {
			pthread_mutex_unlock(&d->m);
			return -ENOMEM;
		}
		d->act = n;
		s = realloc(d->scratch, cap * sizeof(*s));
		if (!s) {
			pthread_mutex_unlock(&d->m);
			return -ENOMEM;
		}
		d->scratch = s;
		d->cap_act = cap;
	}
	idx = d->nact;
	pthread_mutex_unlock(&d->m);
	if (!name) {
		snprintf(buf, sizeof(buf), "actor%u", idx);
		name = buf;
	}
	a = mmn__actor_new_spawned(sim, name, fn, arg);
	if (!a)
		return -ENOMEM;
	a->det.daemon = daemon;
	a->det.state = SYNC_DET_RUNNABLE;
	pthread_cond_init(&a->det.cv, NULL);
	pthread_mutex_lock(&d->m);
	a->det.idx = (int)idx;
	a->det.prio = mmn__det_initial_prio(d); /* PCT */
	err = det_start(d, a);
	if (err) {
		pthread_mutex_unlock(&d->m);
		pthread_cond_destroy(&a->det.cv);
		mmn__actor_forget(sim, a);
		return err;
	}
	d->act[d->nact++] = a;
	d->nrunnable++;
	if (mmn_unlikely(d->rec))
		mmn__det_rec_spawn(d, a);
	mmn__det_trace(d, "%6lu %-8s %-16s %s\n", d->steps,
		       d->cur ? d->cur->name : "(ctl)", "spawn", a->name);
	pthread_mutex_unlock(&d->m);
	*out = a;
	return 0;
}

int mmn__det_spawn(struct mmn_sim *sim, const char *name, mmn_actor_fn fn, void *arg,
		   struct mmn_actor **out)
{
	struct mmn_actor *me = sync_actor(sim);

	if (!mmn__det_in_run(sim, me))
		return -EPERM;
	return mmn__det_create(sim, name, fn, arg, false, out);
}

int mmn__det_join(struct mmn_actor *actor, void **retval)
{
	struct mmn_sim *sim = actor->sim;
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);
	int state, err;

	if (me == actor)
		return -EDEADLK;
	if (!mmn__det_in_run(sim, me))
		return -EINVAL;
	for (;;) {
		pthread_mutex_lock(&d->m);
		state = actor->det.state;
		if (mmn_unlikely(d->rec))
			mmn__det_rec_touch(d, actor, DET_C_OBJ, false);
		pthread_mutex_unlock(&d->m);
		if (state == SYNC_DET_ENDED)
			break;
		mmn__det_block(sim, me, actor, SYNC_DET_W_JOIN, actor, 0, actor->name);
	}
	if (__atomic_exchange_n(&actor->joined, 1, __ATOMIC_ACQ_REL))
		return -EINVAL;
	if (d->contexts) {
		/* An ended context has made its last switch: nothing to wait for. */
	} else if (actor->det.worker) {
		mmn__pool_join(actor);
	} else {
		err = pthread_join(actor->thread, NULL);
		if (err)
			return -err;
	}
	if (retval)
		*retval = actor->ret;
	return 0;
}
