// SPDX-License-Identifier: MIT
/*
 * The core of the deterministic backend of the sync layer: one actor runs
 * at a time, every scheduling point is a choice of the scheduler, blocking
 * is virtual. The other jobs of the backend are the det_*.c files beside
 * this one (det.h lists them).
 *
 * Mechanism: by default every actor is a user-level context on the
 * controller's thread (det_context.c), and handing the token over is a
 * switch in user space; a wait below switches to the token holder instead
 * of waiting on a condition variable. The other mechanism, kept selectable
 * (mmn_sched_config::threads) so the two can be compared (measured in
 * bench/bench_sched.c, bench/bench_switch.c, see docs/exploration.md), is one
 * host thread per actor and a token. The scheduler's mutex @m guards every
 * field below and each actor has a condition variable; the token holder
 * (@cur) is the only actor thread not parked. Handing the token over is
 *
 *   giver                                 taker (parked)
 *   lock(m); cur = taker                  lock(m)
 *   signal(taker.cv)                      while (cur != me) wait(me.cv, m)
 *   while (cur != me) wait(me.cv, m)      unlock(m) ... runs
 *
 * so everything the giver did happens before everything the taker does
 * (the mutex orders them): modelled data needs no further synchronisation,
 * and ThreadSanitizer sees it that way. Actors are host threads there, so
 * their thread's own actor-local state is theirs. The calling thread of
 * mmn_sched_run() is the controller: it holds the token when @cur is NULL.
 *
 * Blocking: a waiting actor marks itself BLOCKED with a wake-up key (the
 * object), and gives the token away; mmn__det_wake(key) makes every actor
 * waiting on the key runnable again, and each re-checks its condition when
 * it next runs. With no runnable actor left the run is over: done when
 * only an idle SRCU helper remains, otherwise a deadlock, reported with the
 * wait-for cycle by the actor that blocked (or ended) last.
 *
 * End of a run: the controller unwinds every actor that has not ended (the
 * deadlocked ones, or all of them at budget exhaustion): it hands each the
 * token with @abort set; the actor's wait longjmps back to its start
 * routine (on its own stack), which releases what the actor holds
 * (det_unwind.c) and ends the thread or the context. Nothing is leaked but what the interrupted operation had
 * allocated on the host heap itself.
 *
 * Raw locks (check/check_internal.h) are never held across a scheduling
 * point by contract; a point passed with one held anyway makes no switch
 * (switching there could hang the host: the next actor may need that raw
 * lock) and is counted (mmn__det_raw_points()), and a virtual wait with one
 * held is reported (MMN_VIOL_DEADLOCK) and skipped, as it would otherwise
 * hang.
 */
#include <errno.h>
#include <stdlib.h>

#include <mmnsim/sched.h>

#include "det.h"

/* Wait for the token; unwind if it came with the abort flag. */
void mmn__det_wait_token(struct sync_det *d, struct mmn_actor *me)
{
	while (d->cur != me) {
		if (d->contexts)
			mmn__det_switch(d, &me->det.ctx);
		else
			pthread_cond_wait(&me->det.cv, &d->m);
	}
	if (me->det.abort) {
		pthread_mutex_unlock(&d->m);
		longjmp(me->det.unwind, 1);
	}
}

/* Give the token to @next (NULL: the controller, with @back). */
void mmn__det_give(struct sync_det *d, struct mmn_actor *next, int back)
{
	d->cur = next;
	if (!next)
		d->back = back;
	if (d->contexts)
		return; /* the giver's next wait switches */
	if (next)
		pthread_cond_signal(&next->det.cv);
	else
		pthread_cond_signal(&d->ctl);
}

/* Whether an actor other than an idle helper has not ended. */
static bool det_stuck(const struct sync_det *d)
{
	for (unsigned int i = 0; i < d->nact; i++) {
		const struct mmn_actor *a = d->act[i];

		if (a->det.state == SYNC_DET_ENDED)
			continue;
		if (a->det.daemon && a->det.state == SYNC_DET_BLOCKED &&
		    a->det.wait_what == SYNC_DET_W_CB_IDLE)
			continue;
		return true;
	}
	return false;
}

/*
 * @me (blocked or ended) gives up the token: to the next runnable actor, or,
 * with none left, back to the controller after reporting a deadlock. An
 * ended @me returns at once; a blocked one returns when woken and
 * scheduled again (or unwinds).
 */
void mmn__det_reschedule(struct sync_det *d, struct mmn_actor *me, const char *what,
			 const void *obj, const char *name)
{
	int how;
	struct mmn_actor *next;
	char label[96];

	if (mmn_unlikely(d->rec) && me->det.state == SYNC_DET_ENDED)
		mmn__det_rec_touch(d, me, DET_C_OBJ, true); /* its joiners wait for this */
	next = mmn__det_pick(d, me, &how);
	if (mmn_unlikely(d->rec))
		mmn__det_rec_open(d, next);

	if (d->cfg.trace)
		mmn__det_trace(d, "%6lu %-8s %-16s %s 0x0 -> %s%s\n", d->steps, me->name, what,
			       mmn__det_label(d, obj, name, label, sizeof(label)),
			       next ? next->name : "(none)", det_mark(how));
	if (!next) {
		if (det_stuck(d))
			mmn__det_report_deadlock(d, me);
		else if (!d->draining)
			d->outcome = MMN_OUTCOME_OK;
		mmn__det_give(d, NULL, DET_BACK_END);
		if (me->det.state != SYNC_DET_ENDED)
			mmn__det_wait_token(d, me); /* only ever to unwind */
		return;
	}
	if (me->det.state == SYNC_DET_ENDED) {
		mmn__det_give(d, next, 0);
		return;
	}
	if (next != me) {
		mmn__det_give(d, next, 0);
		mmn__det_wait_token(d, me);
	}
}

static unsigned long det_drain_steps(const struct sync_det *d)
{
	return d->cfg.max_steps > DET_DRAIN_MIN ? d->cfg.max_steps : DET_DRAIN_MIN;
}

/*
 * The scheduler's mutex, for a path that may not need it: with user-level
 * actors every actor and the controller run on the one host thread that
 * called mmn_sched_run(), so reading and updating the run's state needs no
 * lock; only a switch does (det_context.c drops and takes @m around the
 * swap), and det_lock_for_switch() takes it then. With the thread mechanism
 * the mutex is taken at once, as always. d->contexts is written by the
 * controller before the run's actors exist (det_reset()).
 */
static inline bool det_lock_lazy(struct sync_det *d)
{
	if (d->contexts)
		return false;
	pthread_mutex_lock(&d->m);
	return true;
}

static inline void det_lock_for_switch(struct sync_det *d, bool *locked)
{
	if (!*locked) {
		pthread_mutex_lock(&d->m);
		*locked = true;
	}
}

static inline void det_unlock_lazy(struct sync_det *d, bool locked)
{
	if (locked)
		pthread_mutex_unlock(&d->m);
}

/* Past the budget: the run drains, and ends if it drains too long. */
static __attribute__((noinline)) void det_point_budget(struct sync_det *d, struct mmn_actor *a,
							bool *locked)
{
	if (d->steps > d->cfg.max_steps && !d->draining) {
		mmn__det_trace(d, "%6lu %-8s %-16s step budget of %lu exhausted: the actors run on in turn\n",
			       d->steps, a->name, "budget", d->cfg.max_steps);
		d->outcome = MMN_OUTCOME_BUDGET;
		d->draining = true;
		d->slice_left = 0;
	}
	if (d->draining && d->steps - d->cfg.max_steps > det_drain_steps(d)) {
		mmn__det_trace(d, "%6lu %-8s %-16s still running %lu points past the budget: unwound\n",
			       d->steps, a->name, "budget", det_drain_steps(d));
		det_lock_for_switch(d, locked);
		mmn__det_give(d, NULL, DET_BACK_BUDGET);
		mmn__det_wait_token(d, a); /* only ever to unwind */
	}
}

/* The trace line of a point (out of line: the hot path keeps no buffer). */
static __attribute__((noinline)) void det_point_trace(struct sync_det *d, struct mmn_actor *a,
						      enum mmn_sched_kind kind, const void *obj,
						      const char *name, unsigned long addr,
						      const struct mmn_actor *next, int how)
{
	char label[96];

	mmn__det_trace(d, "%6lu %-8s %-16s %s 0x%lx -> %s%s\n", d->steps, a->name,
		       a->det.yielding ? "yield" : mmn_sched_kind_name(kind),
		       mmn__det_label(d, obj, name, label, sizeof(label)), addr, next->name,
		       det_mark(how));
}

/* A scheduling point passed by @a. */
static void det_point(struct mmn_sim *sim, struct mmn_actor *a, enum mmn_sched_kind kind,
		      const void *obj, const char *name, unsigned long addr)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *next;
	bool locked;
	int how;

	if (!a || a->det.idx < 0)
		return;
	if (mmn__local()->raw_depth > 0) {
		__atomic_add_fetch(&d->raw_points, 1, __ATOMIC_RELAXED);
		return;
	}
	locked = det_lock_lazy(d);
	if (!d->running || d->reporting || a->det.abort || d->cur != a) {
		det_unlock_lazy(d, locked);
		return;
	}
	d->steps++;
	if (mmn_unlikely(d->steps > d->cfg.max_steps))
		det_point_budget(d, a, &locked);
	if (d->cfg.strategy == MMN_STRATEGY_PCT) {
		mmn__det_pct_step(d, a);
		if (a->det.yielding)
			mmn__det_pct_yield(d, a);
	}
	if (mmn_unlikely(d->rec))
		mmn__det_rec_point(d, a, kind, obj, name);
	next = mmn__det_pick(d, a, &how);
	if (mmn_unlikely(d->rec))
		mmn__det_rec_open(d, next);
	if (how == DET_PREEMPT)
		mmn__det_note_preemption(d, a, next, kind, name, addr);
	if (d->cfg.trace) /* the label numbers objects: not worth it untraced */
		det_point_trace(d, a, kind, obj, name, addr, next, how);
	if (next != a) {
		det_lock_for_switch(d, &locked);
		mmn__det_give(d, next, 0);
		mmn__det_wait_token(d, a);
	}
	det_unlock_lazy(d, locked);
}

void mmn__det_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct mmn_sync_state *st = sim->sync;

	(void)arg;
	if (st->user_hook)
		st->user_hook(sim, ev, st->user_hook_arg);
	det_point(sim, ev->actor, ev->kind, ev->obj, ev->name, ev->addr);
}

bool mmn__det_in_run(struct mmn_sim *sim, const struct mmn_actor *a)
{
	struct sync_det *d = det_of(sim);
	bool in, locked;

	if (!a || a->det.idx < 0)
		return false;
	locked = det_lock_lazy(d);
	in = d->running && d->cur == a;
	det_unlock_lazy(d, locked);
	return in;
}

bool mmn__det_block(struct mmn_sim *sim, struct mmn_actor *a, const void *key, int what,
		    const void *holder, int idx, const char *name)
{
	struct sync_det *d = det_of(sim);

	if (!mmn__det_in_run(sim, a)) {
		mmn_reportf(sim, MMN_VIOL_DEADLOCK, 0, 0,
			    "outside a run of the scheduler, %s would wait forever for %s %s; "
			    "skipped",
			    a ? a->name : "?", mmn__det_wait_text(what), name ? name : "?");
		return false;
	}
	if (mmn__local()->raw_depth > 0) {
		/* A simulator bug (raw locks may not span a wait): waiting here
		 * would hang the host, so it is reported and skipped like a
		 * wait outside a run. */
		mmn_reportf(sim, MMN_VIOL_DEADLOCK, 0, 0,
			    "%s would wait for %s %s while holding a raw lock (a simulator "
			    "bug: raw locks may not span a wait); skipped",
			    a ? a->name : "?", mmn__det_wait_text(what), name ? name : "?");
		return false;
	}
	pthread_mutex_lock(&d->m);
	if (a->det.state == SYNC_DET_RUNNABLE)
		d->nrunnable--;
	a->det.state = SYNC_DET_BLOCKED;
	a->det.wait = key;
	a->det.wait_what = what;
	a->det.wait_holder = holder;
	a->det.wait_idx = idx;
	a->det.wait_name = name ? name : "?";
	if (mmn_unlikely(d->rec))
		mmn__det_rec_block(d, a, key);
	mmn__det_reschedule(d, a, "block", key, name);
	pthread_mutex_unlock(&d->m);
	return true;
}

void mmn__det_wake_locked(struct sync_det *d, const void *key)
{
	if (mmn_unlikely(d->rec) && !d->unwinding)
		mmn__det_rec_touch(d, key, DET_C_WAKE, true);
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (a->det.state == SYNC_DET_BLOCKED && a->det.wait == key) {
			a->det.state = SYNC_DET_RUNNABLE;
			d->nrunnable++;
			/* numbered only for a trace, as the labels of det_point() */
			if (!d->unwinding && d->cfg.trace)
				mmn__det_trace(d, "%6lu %-8s %-16s %s#%u\n", d->steps, a->name, "wake",
					       a->det.wait_name, mmn__det_obj_id(d, key));
		}
	}
}

void mmn__det_wake(struct mmn_sim *sim, const void *key)
{
	struct sync_det *d = det_of(sim);
	bool locked = det_lock_lazy(d);

	if (d->running)
		mmn__det_wake_locked(d, key);
	det_unlock_lazy(d, locked);
}

int mmn__det_init(struct mmn_sync_state *st)
{
	struct sync_det *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->trace = malloc(1);
	if (!d->trace) {
		free(d);
		return -ENOMEM;
	}
	d->trace[0] = '\0';
	d->trace_cap = 1;
	pthread_mutex_init(&d->m, NULL);
	pthread_cond_init(&d->ctl, NULL);
	mmn_sched_config_init(&d->cfg);
	st->det = d;
	return 0;
}

void mmn__det_fini(struct mmn_sync_state *st)
{
	struct sync_det *d = st->det;

	mmn__det_ctx_fini(d);
	pthread_cond_destroy(&d->ctl);
	pthread_mutex_destroy(&d->m);
	free(d->act);
	free(d->scratch);
	free(d->replay);
	free(d->choices);
	free(d->masks);
	free(d->curs);
	free(d->rsteps);
	free(d->pre);
	free(d->trace);
	free(d->objs);
	free(d->frees);
	free(d);
	st->det = NULL;
}

bool mmn__det_last_run_unwound(const struct mmn_sim *sim)
{
	struct sync_det *d = sim->sync ? sim->sync->det : NULL;
	bool unwound;

	if (!d)
		return false;
	pthread_mutex_lock(&d->m);
	unwound = !d->running && d->unwound > 0;
	pthread_mutex_unlock(&d->m);
	return unwound;
}

unsigned long mmn__det_raw_points(const struct mmn_sim *sim)
{
	if (!sim || !sim->sync->det)
		return 0;
	return __atomic_load_n(&sim->sync->det->raw_points, __ATOMIC_RELAXED);
}
