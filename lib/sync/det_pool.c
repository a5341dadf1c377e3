// SPDX-License-Identifier: MIT
/*
 * Host threads reused from run to run of the deterministic backend
 * (struct mmn_sched_pool, sched.h), and the stacks of its user-level actors
 * (det_context.c), reused the same way.
 *
 * An exploration runs thousands of short schedules, each with a fresh
 * simulation and three to six actors. Creating and joining a thread costs
 * 90-150 µs on the project's VM (measured; docs/exploration.md), several times
 * the rest of a schedule, so the actors of a run with a pool borrow parked
 * threads instead: a worker runs one actor's start routine to its end
 * (ended or unwound), then parks again. Joining an actor waits for its
 * worker to come back from that routine, as pthread_join() would.
 *
 * What a worker keeps between actors is only per-thread state that is
 * neutral at the end of a routine: its liburcu registration (idle, it is in
 * no read-side section), the sync layer's TLS cache (rebound by the next
 * actor) and a raw-lock depth of 0.
 */
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#include "priv.h"

struct sync_worker {
	struct mmn_sched_pool *pool;
	pthread_t thread;
	pthread_cond_t cv;              /* a job was given, or quit */
	void *(*fn)(void *);
	struct mmn_actor *job;          /* NULL: parked */
	unsigned long started, finished; /* jobs given / returned */
	struct sync_worker *next_idle, *next_all;
};

/* Stacks of user-level actors kept for later runs (det_context.c). */
#define POOL_STACKS 32

struct mmn_sched_pool {
	pthread_mutex_t m;
	pthread_cond_t done;            /* some worker finished a job */
	struct sync_worker *idle, *all;
	bool quit;
	struct sync_stack stacks[POOL_STACKS]; /* each of @stack_size usable bytes */
	size_t stack_size;
	unsigned int nstacks;
};

static void pool_stacks_free(struct mmn_sched_pool *pool)
{
	while (pool->nstacks)
		mmn__stack_free(&pool->stacks[--pool->nstacks], pool->stack_size);
}

bool mmn__pool_stack_get(struct mmn_sched_pool *pool, size_t size, struct sync_stack *out)
{
	bool got = false;

	pthread_mutex_lock(&pool->m);
	if (pool->nstacks && pool->stack_size == size) {
		*out = pool->stacks[--pool->nstacks];
		got = true;
	}
	pthread_mutex_unlock(&pool->m);
	return got;
}

bool mmn__pool_stack_put(struct mmn_sched_pool *pool, const struct sync_stack *st, size_t size)
{
	bool kept = false;

	pthread_mutex_lock(&pool->m);
	if (pool->nstacks && pool->stack_size != size)
		pool_stacks_free(pool);
	if (pool->nstacks < POOL_STACKS) {
		pool->stack_size = size;
		pool->stacks[pool->nstacks++] = *st;
		kept = true;
	}
	pthread_mutex_unlock(&pool->m);
	return kept;
}

struct mmn_sched_pool *mmn_sched_pool_create(void)
{
	struct mmn_sched_pool *pool = calloc(1, sizeof(*pool));

	if (!pool)
		return NULL;
	pthread_mutex_init(&pool->m, NULL);
	pthread_cond_init(&pool->done, NULL);
	return pool;
}

static void *worker_main(void *p)
{
	struct sync_worker *w = p;
	struct mmn_sched_pool *pool = w->pool;

	pthread_mutex_lock(&pool->m);
	for (;;) {
		struct mmn_actor *a;

		while (!w->job && !pool->quit)
			pthread_cond_wait(&w->cv, &pool->m);
		if (!w->job)
			break;
		a = w->job;
		pthread_mutex_unlock(&pool->m);
		w->fn(a);
		/* Forget @a before anyone may free it (it lives until joined):
		 * no stale TLS cache, and no key destructor on it when this
		 * thread ends while its simulation still exists. */
		(void)pthread_setspecific(a->sim->sync->key, NULL);
		if (mmn__tls.actor == a)
			memset(&mmn__tls, 0, sizeof(mmn__tls));
		pthread_mutex_lock(&pool->m);
		w->job = NULL;
		w->finished++;
		w->next_idle = pool->idle;
		pool->idle = w;
		pthread_cond_broadcast(&pool->done);
	}
	pthread_mutex_unlock(&pool->m);
	return NULL;
}

int mmn__pool_start(struct mmn_sched_pool *pool, struct mmn_actor *a, void *(*fn)(void *))
{
	struct sync_worker *w;
	int err;

	pthread_mutex_lock(&pool->m);
	w = pool->idle;
	if (w) {
		pool->idle = w->next_idle;
	} else {
		w = calloc(1, sizeof(*w));
		if (!w) {
			pthread_mutex_unlock(&pool->m);
			return -ENOMEM;
		}
		w->pool = pool;
		pthread_cond_init(&w->cv, NULL);
		err = pthread_create(&w->thread, NULL, worker_main, w);
		if (err) {
			pthread_cond_destroy(&w->cv);
			free(w);
			pthread_mutex_unlock(&pool->m);
			return -err;
		}
		w->next_all = pool->all;
		pool->all = w;
	}
	w->fn = fn;
	w->job = a;
	a->det.worker = w;
	a->det.ticket = ++w->started;
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&pool->m);
	return 0;
}

void mmn__pool_join(struct mmn_actor *a)
{
	struct sync_worker *w = a->det.worker;
	struct mmn_sched_pool *pool = w->pool;

	pthread_mutex_lock(&pool->m);
	while (w->finished < a->det.ticket)
		pthread_cond_wait(&pool->done, &pool->m);
	pthread_mutex_unlock(&pool->m);
}

void mmn_sched_pool_destroy(struct mmn_sched_pool *pool)
{
	struct sync_worker *w, *next;

	if (!pool)
		return;
	pthread_mutex_lock(&pool->m);
	pool->quit = true;
	for (w = pool->all; w; w = w->next_all)
		pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&pool->m);
	for (w = pool->all; w; w = next) {
		next = w->next_all;
		pthread_join(w->thread, NULL);
		pthread_cond_destroy(&w->cv);
		free(w);
	}
	pool_stacks_free(pool);
	pthread_cond_destroy(&pool->done);
	pthread_mutex_destroy(&pool->m);
	free(pool);
}

unsigned int mmn_sched_pool_threads(const struct mmn_sched_pool *pool)
{
	unsigned int n = 0;

	if (!pool)
		return 0;
	pthread_mutex_lock((pthread_mutex_t *)&pool->m);
	for (const struct sync_worker *w = pool->all; w; w = w->next_all)
		n++;
	pthread_mutex_unlock((pthread_mutex_t *)&pool->m);
	return n;
}
