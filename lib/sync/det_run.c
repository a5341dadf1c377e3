// SPDX-License-Identifier: MIT
/*
 * One run of the deterministic backend, from the controller's side (the
 * thread that calls mmn_sched_run()): claim the scheduler, start "main",
 * wait for the token to come back (with user-level actors, by switching to
 * its holder), unwind what has not ended, join and free the actors, and
 * report the run's counters.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mmnsim/sched.h>

#include "det.h"

/*
 * The mechanism and the stack size may come from the environment, so that a
 * program that does not set them (the CLI, an exploration) can be run on
 * either mechanism: MMN_SCHED_MECHANISM=threads|contexts,
 * MMN_SCHED_STACK_KIB=N. Values it does not understand are ignored here;
 * a stack size out of range is refused by mmn_sched_run().
 */
static void det_config_env(struct mmn_sched_config *cfg)
{
	const char *m = getenv("MMN_SCHED_MECHANISM");
	const char *k = getenv("MMN_SCHED_STACK_KIB");

	if (m && !strcmp(m, "threads"))
		cfg->threads = true;
	if (k && *k) {
		char *end;
		unsigned long long v = strtoull(k, &end, 10);

		if (!*end && v <= SIZE_MAX / 1024)
			cfg->stack_size = (size_t)v * 1024;
	}
}

void mmn_sched_config_init(struct mmn_sched_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->strategy = MMN_STRATEGY_RANDOM;
	cfg->seed = 1;
	cfg->pct_depth = 2;
	cfg->pct_steps = 1000;
	cfg->max_steps = DET_DEFAULT_STEPS;
	cfg->trace = true;
	det_config_env(cfg);
}

static void *det_main_fn(void *p)
{
	struct mmn_sim *sim = p;
	struct sync_det *d = det_of(sim);

	d->body(sim, d->body_arg);
	return NULL;
}

/* Usable bytes of an actor's stack: the knob rounded up to pages. */
static size_t det_stack_size(size_t want)
{
	long pg = sysconf(_SC_PAGESIZE);
	size_t page = pg > 0 ? (size_t)pg : 4096;

	if (!want)
		want = DET_STACK_DEFAULT;
	return (want + page - 1) / page * page;
}

/* Reset the per-run state; caller holds d->m (the scheduler's host mutex,
 * not a modelled lock). */
static int det_reset(struct sync_det *d, const struct mmn_sched_config *cfg)
{
	int err;

	d->cfg = *cfg;
	mmn__det_rec_reset(d, cfg->record_access);
	/* Only a strategy that does not use it gets here with it out of range. */
	if (d->cfg.pct_depth < 1)
		d->cfg.pct_depth = 1;
	if (d->cfg.pct_depth > DET_MAX_DEPTH)
		d->cfg.pct_depth = DET_MAX_DEPTH;
	if (d->cfg.pct_steps < 1)
		d->cfg.pct_steps = 1;
	if (d->cfg.max_steps < 1)
		d->cfg.max_steps = DET_DEFAULT_STEPS;
	err = mmn__det_strategy_reset(d, cfg);
	if (err)
		return err;
	d->steps = d->preemptions = d->replay_misses = 0;
	d->unwound = 0;
	d->draining = false;
	d->outcome = MMN_OUTCOME_OK;
	d->nchoices = 0;
	d->npre = 0;
	d->trace_len = 0;
	d->trace[0] = '\0';
	if (d->objs)
		memset(d->objs, 0, d->objs_cap * sizeof(*d->objs));
	d->nobjs = 0;
	d->nfrees = 0;
	d->nact = 0;
	d->nrunnable = 0;
	d->helper = NULL;
	d->back = DET_BACK_NONE;
	d->cur = NULL;
	d->contexts = !cfg->threads;
	d->stack_size = det_stack_size(cfg->stack_size);
	return 0;
}

/* Claim the scheduler for a run; -EBUSY when one is in progress or the
 * caller is an actor of one. */
static int det_begin(struct mmn_sim *sim, struct sync_det *d, const struct mmn_sched_config *cfg,
		     mmn_sched_body_fn body, void *arg)
{
	struct mmn_actor *me = sync_actor(sim);
	int err;

	pthread_mutex_lock(&d->m);
	if (d->running || (me && me->det.idx >= 0)) {
		pthread_mutex_unlock(&d->m);
		return -EBUSY;
	}
	err = det_reset(d, cfg);
	if (err) {
		pthread_mutex_unlock(&d->m);
		return err;
	}
	d->body = body;
	d->body_arg = arg;
	d->running = true;
	d->viol_start = mmn_check_total(sim);
	pthread_mutex_unlock(&d->m);
	return 0;
}

/* The controller's side of a run: hand the token to main, wait until it
 * comes back, then unwind the actors that have not ended. */
static void det_control(struct sync_det *d, struct mmn_actor *main_actor)
{
	pthread_mutex_lock(&d->m);
	if (d->contexts)
		mmn__det_ctx_begin(d);
	mmn__det_rec_open(d, main_actor);
	mmn__det_give(d, main_actor, 0);
	while (d->back == DET_BACK_NONE) {
		if (d->contexts)
			mmn__det_switch(d, &d->ctl_ctx);
		else
			pthread_cond_wait(&d->ctl, &d->m);
	}
	if (d->back == DET_BACK_BUDGET)
		d->outcome = MMN_OUTCOME_BUDGET;
	d->unwinding = true;
	mmn__det_unwind_all(d);
	mmn__det_trace_outcome(d);
	d->cur = NULL;
	d->unwinding = false;
	pthread_mutex_unlock(&d->m);
}

/* Every actor thread has ended or is returning: join and free them. */
static void det_reap(struct mmn_sim *sim, struct sync_det *d)
{
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (d->contexts)
			mmn__det_ctx_destroy(d, a);
		else if (!__atomic_exchange_n(&a->joined, 1, __ATOMIC_ACQ_REL)) {
			if (a->det.worker)
				mmn__pool_join(a);
			else
				pthread_join(a->thread, NULL);
		}
		pthread_cond_destroy(&a->det.cv);
		mmn__actor_forget(sim, a);
	}
}

/* Fill @res (may be NULL) and close the run. */
static void det_finish(struct mmn_sim *sim, struct sync_det *d, struct mmn_sched_result *res)
{
	pthread_mutex_lock(&d->m);
	if (res) {
		memset(res, 0, sizeof(*res));
		res->outcome = d->outcome;
		res->steps = d->steps;
		res->choices = d->nchoices;
		res->preemptions = d->preemptions;
		res->replay_misses = d->replay_misses;
		res->actors = d->nact;
		res->unwound = d->unwound;
		res->violations = mmn_check_total(sim) - d->viol_start;
	}
	d->last_nact = d->nact;
	d->nact = 0;
	d->helper = NULL;
	d->running = false;
	pthread_mutex_unlock(&d->m);
}

int mmn_sched_run(struct mmn_sim *sim, const struct mmn_sched_config *cfg,
		  mmn_sched_body_fn body, void *arg, struct mmn_sched_result *res)
{
	struct mmn_sched_config defaults;
	struct sync_det *d;
	struct mmn_actor *main_actor;
	int err;

	if (!sim || !body || sync_native(sim))
		return -EINVAL;
	if (!cfg) {
		mmn_sched_config_init(&defaults);
		cfg = &defaults;
	}
	if (cfg->strategy == MMN_STRATEGY_REPLAY && cfg->replay_len && !cfg->replay)
		return -EINVAL;
	if ((unsigned int)cfg->strategy > MMN_STRATEGY_REPLAY)
		return -EINVAL;
	/* A PCT depth outside [1, max] was clamped silently before: refused,
	 * so a run is never something other than what was asked for. Other
	 * strategies ignore the field (replay files carry it as history). */
	if (cfg->strategy == MMN_STRATEGY_PCT &&
	    (cfg->pct_depth < 1 || cfg->pct_depth > MMN_SCHED_PCT_MAX_DEPTH))
		return -EINVAL;
	if (cfg->stack_size && (cfg->stack_size < DET_STACK_MIN || cfg->stack_size > DET_STACK_MAX))
		return -EINVAL;
	d = det_of(sim);
	err = det_begin(sim, d, cfg, body, arg);
	if (err)
		return err;

	err = mmn__det_create(sim, "main", det_main_fn, sim, false, &main_actor);
	if (err) {
		pthread_mutex_lock(&d->m);
		d->running = false;
		pthread_mutex_unlock(&d->m);
		return err;
	}
	/* Callbacks queued outside a run are this run's helper's work. */
	if (d->cbq_head)
		mmn__det_helper_ensure(sim);

	det_control(d, main_actor);
	det_reap(sim, d);
	det_finish(sim, d, res);
	/* d->unwound stays until the next run: no actor runs now. */
	if (d->unwound && sim->run_unwound_hook)
		sim->run_unwound_hook(sim);
	return 0;
}
