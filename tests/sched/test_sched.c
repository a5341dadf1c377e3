// SPDX-License-Identifier: MIT
/*
 * The deterministic backend and its explorer: determinism and replay (same
 * choices, same trace bytes), the strategies finding a planted atomicity
 * bug and not finding it once a mutex protects the increment, exhaustive
 * enumeration with and without a preemption bound, deadlock reports with
 * the wait-for cycle, virtual SRCU grace periods and callbacks, the step
 * budget, shrinking, and a piece of the real model (CPU accesses racing
 * munmap + mmap(MAP_FIXED)) under the scheduler.
 *
 * Every test is deterministic: each run is a function of its seed or its
 * choice list, and the loops over seeds are fixed.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"
#include "support/explore_test.h"
#include "sync/priv.h"

static struct mmn_sim *det_sim(bool lockdep)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_frames = 256;
	cfg.nr_cpus = 4;
	cfg.lockdep = lockdep;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	return sim;
}

static void cfg_of(struct mmn_sched_config *c, enum mmn_sched_strategy s, uint64_t seed)
{
	mmn_sched_config_init(c);
	c->strategy = s;
	c->seed = seed;
}

/* ------------------------------------------------------------------ */
/* A small program with points, a mutex and spawned actors             */
/* ------------------------------------------------------------------ */

static const struct mmn_lock_class test_lock_class = { .name = "test_lock" };

struct mix {
	struct mmn_sim *sim;
	struct mmn_mutex lock;
	unsigned long shared;
};

static void *mix_worker(void *p)
{
	struct mix *m = p;

	for (int i = 0; i < 4; i++) {
		mmn_sched_point(m->sim, MMN_SCHED_EXPLICIT, m, "work", 0x1000UL * (unsigned)i);
		mmn_mutex_lock(&m->lock);
		m->shared++;
		mmn_mutex_unlock(&m->lock);
	}
	return NULL;
}

static void mix_body(struct mmn_sim *sim, void *arg)
{
	struct mix *m = arg;
	struct mmn_actor *t[3];

	m->sim = sim;
	for (int i = 0; i < 3; i++)
		assert_int_equal(mmn_actor_spawn(sim, NULL, mix_worker, m, &t[i]), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mmn_actor_join(t[i], NULL), 0);
}

/* One run of the mix program on a fresh simulation; returns its trace
 * (malloc'ed) and choice list. */
static char *mix_run(const struct mmn_sched_config *c, uint32_t **choices, size_t *n,
		     struct mmn_sched_result *res)
{
	struct mmn_sim *sim = det_sim(true);
	struct mix m = { 0 };
	size_t len;
	const char *t;
	char *copy;

	mmn_mutex_init(&m.lock, sim, &test_lock_class, "mixlock");
	assert_int_equal(mmn_sched_run(sim, c, mix_body, &m, res), 0);
	assert_int_equal(res->outcome, MMN_OUTCOME_OK);
	assert_int_equal(m.shared, 12);
	t = mmn_sched_trace(sim, &len);
	copy = malloc(len + 1);
	memcpy(copy, t, len + 1);
	*n = mmn_sched_choices(sim, NULL, 0);
	*choices = calloc(*n + 1, sizeof(**choices));
	assert_int_equal(mmn_sched_choices(sim, *choices, *n), *n);
	mmn_mutex_destroy(&m.lock);
	mmn_sim_destroy(sim);
	return copy;
}

static void test_same_seed_gives_same_choices_and_identical_trace(void **state)
{
	(void)state;
	for (enum mmn_sched_strategy s = MMN_STRATEGY_RANDOM; s <= MMN_STRATEGY_PCT; s++) {
		struct mmn_sched_config c;
		struct mmn_sched_result r1, r2;
		uint32_t *c1, *c2;
		size_t n1, n2;
		char *t1, *t2;

		cfg_of(&c, s, 42);
		t1 = mix_run(&c, &c1, &n1, &r1);
		t2 = mix_run(&c, &c2, &n2, &r2);
		assert_true(n1 > 0);
		assert_int_equal(n1, n2);
		assert_memory_equal(c1, c2, n1 * sizeof(*c1));
		assert_string_equal(t1, t2);
		assert_int_equal(r1.steps, r2.steps);
		/* No host pointer leaks into the trace. */
		assert_null(strstr(t1, "0x7f"));
		assert_non_null(strstr(t1, "explicit"));
		assert_non_null(strstr(t1, "mixlock#"));
		free(c1);
		free(c2);
		free(t1);
		free(t2);
	}
}

static void test_different_seeds_give_different_schedules(void **state)
{
	uint32_t *first = NULL;
	size_t nfirst = 0;
	int differ = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct mmn_sched_config c;
		struct mmn_sched_result r;
		uint32_t *ch;
		size_t n;
		char *t;

		cfg_of(&c, MMN_STRATEGY_RANDOM, seed);
		t = mix_run(&c, &ch, &n, &r);
		free(t);
		if (!first) {
			first = ch;
			nfirst = n;
			continue;
		}
		if (n != nfirst || memcmp(ch, first, n * sizeof(*ch)))
			differ++;
		free(ch);
	}
	free(first);
	assert_true(differ >= 5);
}

static void test_replay_reproduces_the_trace_byte_for_byte(void **state)
{
	(void)state;
	for (uint64_t seed = 3; seed < 6; seed++) {
		struct mmn_sched_config c;
		struct mmn_sched_result r1, r2;
		uint32_t *c1, *c2;
		size_t n1, n2;
		char *t1, *t2;

		cfg_of(&c, seed == 4 ? MMN_STRATEGY_PCT : MMN_STRATEGY_RANDOM, seed);
		t1 = mix_run(&c, &c1, &n1, &r1);
		cfg_of(&c, MMN_STRATEGY_REPLAY, 0);
		c.replay = c1;
		c.replay_len = n1;
		t2 = mix_run(&c, &c2, &n2, &r2);
		assert_int_equal(r2.replay_misses, 0);
		assert_int_equal(n1, n2);
		assert_memory_equal(c1, c2, n1 * sizeof(*c1));
		assert_string_equal(t1, t2);
		free(c1);
		free(c2);
		free(t1);
		free(t2);
	}
}

/* ------------------------------------------------------------------ */
/* The planted atomicity bug: load; point; store +1                    */
/* ------------------------------------------------------------------ */

struct counter {
	struct mmn_sim *sim;
	struct mmn_mutex lock;
	bool locked;
	unsigned long value;
};

static void *inc_actor(void *p)
{
	struct counter *c = p;
	unsigned long v;

	if (c->locked)
		mmn_mutex_lock(&c->lock);
	v = c->value;
	mmn_sched_point(c->sim, MMN_SCHED_EXPLICIT, &c->value, "counter", 0);
	c->value = v + 1;
	if (c->locked)
		mmn_mutex_unlock(&c->lock);
	return NULL;
}

/* main spawns the two incrementers and ends: the run ends when they do. */
static void inc_body(struct mmn_sim *sim, void *arg)
{
	struct counter *c = arg;
	struct mmn_actor *a;

	c->sim = sim;
	assert_int_equal(mmn_actor_spawn(sim, "A", inc_actor, c, &a), 0);
	assert_int_equal(mmn_actor_spawn(sim, "B", inc_actor, c, &a), 0);
}

/* Run the counter program once; true if an update was lost. */
static bool inc_run(struct mmn_sim *sim, struct counter *c, const struct mmn_sched_config *cfg)
{
	struct mmn_sched_result r;

	c->value = 0;
	assert_int_equal(mmn_sched_run(sim, cfg, inc_body, c, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_OK);
	return c->value != 2;
}

static int find_lost_update(enum mmn_sched_strategy s, bool locked, int runs)
{
	struct mmn_sim *sim = det_sim(true);
	struct counter c = { .locked = locked };
	int found = 0;

	mmn_mutex_init(&c.lock, sim, &test_lock_class, "counter_lock");
	for (int seed = 1; seed <= runs; seed++) {
		struct mmn_sched_config cfg;

		cfg_of(&cfg, s, (uint64_t)seed);
		cfg.pct_depth = 2;
		cfg.pct_steps = 4;
		cfg.trace = false;
		found += inc_run(sim, &c, &cfg);
	}
	assert_int_equal(mmn_check_total(sim), 0);
	mmn_mutex_destroy(&c.lock);
	mmn_sim_destroy(sim);
	return found;
}

static void test_random_walk_finds_the_lost_update(void **state)
{
	(void)state;
	/* Half the schedules lose an update: 50 runs cannot all miss (the
	 * seeds are fixed, so this is not a flaky bound). */
	assert_true(find_lost_update(MMN_STRATEGY_RANDOM, false, 50) > 0);
}

static void test_pct_finds_the_lost_update(void **state)
{
	(void)state;
	assert_true(find_lost_update(MMN_STRATEGY_PCT, false, 50) > 0);
}

static void test_mutex_protected_increment_is_never_lost(void **state)
{
	(void)state;
	assert_int_equal(find_lost_update(MMN_STRATEGY_RANDOM, true, SCALE(2000)), 0);
	assert_int_equal(find_lost_update(MMN_STRATEGY_PCT, true, SCALE(1000)), 0);
}

/* ------------------------------------------------------------------ */
/* Exhaustive exploration                                              */
/* ------------------------------------------------------------------ */

struct explore_ctx {
	bool locked;
	unsigned long runs, lost;
	bool stop_on_bug;
};

static int explore_one(struct mmn_sched_explorer *x, const struct mmn_sched_config *cfg,
		       void *p)
{
	struct explore_ctx *e = p;
	struct mmn_sim *sim = det_sim(false);
	struct counter c = { .locked = e->locked };
	bool lost;

	mmn_mutex_init(&c.lock, sim, &test_lock_class, "counter_lock");
	lost = inc_run(sim, &c, cfg);
	assert_int_equal(mmn_sched_explorer_record(x, sim), 0);
	mmn_mutex_destroy(&c.lock);
	mmn_sim_destroy(sim);
	e->runs++;
	e->lost += lost;
	return lost && e->stop_on_bug;
}

static struct explore_ctx explore(unsigned int bound, bool locked)
{
	struct mmn_sched_explorer *x = mmn_sched_explorer_create(bound);
	struct explore_ctx e = { .locked = locked };
	long n;

	assert_non_null(x);
	n = mmn_sched_explore(x, NULL, 1000, explore_one, &e);
	assert_int_equal(n, (long)e.runs);
	assert_int_equal(mmn_sched_explorer_count(x), e.runs);
	mmn_sched_explorer_destroy(x);
	return e;
}

/*
 * Two actors, one point each: each is two atomic segments (load, then
 * store), so the schedules are the shuffles of AABB: C(4,2) = 6. The update
 * is lost in the 4 that interleave. Preemptions per shuffle: AABB 0, BBAA 0,
 * ABBA 1, BAAB 1, ABAB 2, BABA 2.
 */
static void test_exhaustive_enumerates_all_six_interleavings_and_finds_the_bug(void **state)
{
	struct explore_ctx e;

	(void)state;
	e = explore(UINT_MAX, false);
	assert_int_equal(e.runs, 6);
	assert_int_equal(e.lost, 4);
	/* With the mutex, the same enumeration finds nothing. */
	e = explore(UINT_MAX, true);
	assert_int_equal(e.lost, 0);
}

static void test_preemption_bound_limits_the_schedules(void **state)
{
	struct explore_ctx e;

	(void)state;
	e = explore(0, false);
	assert_int_equal(e.runs, 2);
	assert_int_equal(e.lost, 0); /* the bug needs a preemption */
	e = explore(1, false);
	assert_int_equal(e.runs, 4);
	assert_int_equal(e.lost, 2);
	e = explore(2, false);
	assert_int_equal(e.runs, 6);
}

/* ------------------------------------------------------------------ */
/* Deadlock                                                            */
/* ------------------------------------------------------------------ */

static const struct mmn_lock_class class_a = { .name = "class_a" };
static const struct mmn_lock_class class_b = { .name = "class_b" };

struct dl {
	struct mmn_sim *sim;
	struct mmn_mutex a, b;
	bool opposite;
	int finished;
};

static void dl_take(struct dl *d, struct mmn_mutex *x, struct mmn_mutex *y)
{
	mmn_mutex_lock(x);
	mmn_sched_point(d->sim, MMN_SCHED_EXPLICIT, NULL, "between", 0);
	mmn_mutex_lock(y);
	mmn_mutex_unlock(y);
	mmn_mutex_unlock(x);
	d->finished++;
}

static void *dl_t1(void *p)
{
	struct dl *d = p;

	dl_take(d, &d->a, &d->b);
	return NULL;
}

static void *dl_t2(void *p)
{
	struct dl *d = p;

	if (d->opposite)
		dl_take(d, &d->b, &d->a);
	else
		dl_take(d, &d->a, &d->b);
	return NULL;
}

static void dl_body(struct mmn_sim *sim, void *arg)
{
	struct dl *d = arg;
	struct mmn_actor *t1, *t2;

	d->sim = sim;
	assert_int_equal(mmn_actor_spawn(sim, "t1", dl_t1, d, &t1), 0);
	assert_int_equal(mmn_actor_spawn(sim, "t2", dl_t2, d, &t2), 0);
	mmn_actor_join(t1, NULL);
	mmn_actor_join(t2, NULL);
}

struct dl_capture {
	unsigned long deadlocks;
	char msg[512];
	char detail[2048];
};

static void dl_handler(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	struct dl_capture *c = arg;

	(void)sim;
	if (v->kind != MMN_VIOL_DEADLOCK)
		return;
	c->deadlocks++;
	snprintf(c->msg, sizeof(c->msg), "%s", v->msg ? v->msg : "");
	snprintf(c->detail, sizeof(c->detail), "%s", v->detail ? v->detail : "");
}

/* Run the two-lock program with @seed; returns the outcome. */
static enum mmn_sched_outcome dl_run(const struct mmn_sched_config *cfg, bool opposite,
				     struct dl_capture *cap, struct mmn_sched_result *res,
				     uint32_t **choices, size_t *n)
{
	struct mmn_sim *sim = det_sim(false);
	struct dl d = { .opposite = opposite };

	mmn_mutex_init(&d.a, sim, &class_a, "lock_A");
	mmn_mutex_init(&d.b, sim, &class_b, "lock_B");
	mmn_check_set_handler(sim, dl_handler, cap);
	assert_int_equal(mmn_sched_run(sim, cfg, dl_body, &d, res), 0);
	/* Unwinding released what the deadlocked actors held. */
	assert_false(mmn_mutex_is_locked(&d.a));
	assert_false(mmn_mutex_is_locked(&d.b));
	if (choices) {
		*n = mmn_sched_choices(sim, NULL, 0);
		*choices = calloc(*n + 1, sizeof(**choices));
		mmn_sched_choices(sim, *choices, *n);
	}
	if (res->outcome == MMN_OUTCOME_OK)
		assert_int_equal(d.finished, 2);
	mmn_mutex_destroy(&d.a);
	mmn_mutex_destroy(&d.b);
	mmn_sim_destroy(sim);
	return res->outcome;
}

static void test_opposite_lock_order_deadlocks_and_names_the_cycle(void **state)
{
	int deadlocks = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct mmn_sched_config c;
		struct mmn_sched_result r;
		struct dl_capture cap = { 0 };

		cfg_of(&c, MMN_STRATEGY_RANDOM, seed);
		if (dl_run(&c, true, &cap, &r, NULL, NULL) != MMN_OUTCOME_DEADLOCK) {
			assert_int_equal(cap.deadlocks, 0);
			continue;
		}
		deadlocks++;
		assert_int_equal(cap.deadlocks, 1);
		assert_true(r.violations >= 1);
		assert_int_equal(r.unwound, 3); /* t1, t2 and main, joining t1 */
		assert_non_null(strstr(cap.msg, "wait-for cycle"));
		assert_non_null(strstr(cap.msg, "lock_A"));
		assert_non_null(strstr(cap.msg, "lock_B"));
		assert_non_null(strstr(cap.msg, "t1 waits"));
		assert_non_null(strstr(cap.msg, "t2 waits"));
		assert_non_null(strstr(cap.detail, "main waits for the end of actor t1"));
	}
	assert_true(deadlocks > 0);
}

static void test_consistent_lock_order_never_deadlocks(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= (uint64_t)SCALE(400); seed++) {
		struct mmn_sched_config c;
		struct mmn_sched_result r;
		struct dl_capture cap = { 0 };

		cfg_of(&c, seed & 1 ? MMN_STRATEGY_RANDOM : MMN_STRATEGY_PCT, seed);
		c.trace = false;
		assert_int_equal(dl_run(&c, false, &cap, &r, NULL, NULL), MMN_OUTCOME_OK);
		assert_int_equal(cap.deadlocks, 0);
	}
}

/* A wait nobody can end outside a run is reported and skipped, not hung. */
static void test_wait_outside_a_run_is_reported_not_hung(void **state)
{
	struct mmn_sim *sim = det_sim(false);
	struct mmn_completion done;
	struct capture cap;

	(void)state;
	capture_install(sim, &cap);
	mmn_init_completion(&done, sim, "never");
	mmn_wait_for_completion(&done);
	assert_int_equal(mmn_check_count(sim, MMN_VIOL_DEADLOCK), 1);
	assert_non_null(strstr(cap.last_msg, "outside a run"));
	mmn_completion_destroy(&done);
	mmn_sim_destroy(sim);
}

/* ------------------------------------------------------------------ */
/* SRCU                                                                */
/* ------------------------------------------------------------------ */

struct srcu_prog {
	struct mmn_sim *sim;
	struct mmn_srcu ss;
	struct mmn_completion done;
	unsigned long clock;
	unsigned long main_exit, u_return, r2_enter;
	bool r2_in_gp;       /* the late reader entered during the grace period */
	bool r2_inside;
	struct mmn_rcu_head head;
	unsigned long cb_at;
	int cb_runs;
	bool cb_saw_reader;
	bool main_inside;
};

static void *srcu_updater(void *p)
{
	struct srcu_prog *s = p;

	mmn_synchronize_srcu(&s->ss);
	s->u_return = ++s->clock;
	mmn_complete(&s->done);
	return NULL;
}

static void *srcu_late_reader(void *p)
{
	struct srcu_prog *s = p;
	int idx;

	/* Enter only once the updater's grace period has begun (or is over). */
	while (!s->ss.det_gp && !s->u_return)
		mmn_sched_point(s->sim, MMN_SCHED_EXPLICIT, NULL, "poll", 0);
	idx = mmn_srcu_read_lock(&s->ss);
	/* No point between counting in and here: this is when it entered. */
	s->r2_in_gp = s->ss.det_gp;
	s->r2_enter = ++s->clock;
	s->r2_inside = true;
	/* Stay inside until the updater is done: if synchronize waited for
	 * this reader, the run would deadlock. */
	mmn_wait_for_completion(&s->done);
	s->r2_inside = false;
	mmn_srcu_read_unlock(&s->ss, idx);
	return NULL;
}

static void srcu_body(struct mmn_sim *sim, void *arg)
{
	struct srcu_prog *s = arg;
	struct mmn_actor *u, *r2;
	int idx;

	s->sim = sim;
	idx = mmn_srcu_read_lock(&s->ss);
	assert_int_equal(mmn_actor_spawn(sim, "updater", srcu_updater, s, &u), 0);
	assert_int_equal(mmn_actor_spawn(sim, "reader2", srcu_late_reader, s, &r2), 0);
	for (int i = 0; i < 3; i++)
		mmn_sched_point(sim, MMN_SCHED_EXPLICIT, NULL, "inside", 0);
	s->main_exit = ++s->clock;
	mmn_srcu_read_unlock(&s->ss, idx);
	mmn_actor_join(u, NULL);
	mmn_actor_join(r2, NULL);
}

static void test_synchronize_srcu_waits_for_earlier_readers_only(void **state)
{
	int late_in_gp = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= (uint64_t)SCALE(100); seed++) {
		struct mmn_sim *sim = det_sim(true);
		struct srcu_prog s = { 0 };
		struct mmn_sched_config c;
		struct mmn_sched_result r;

		mmn_srcu_init(&s.ss, sim, "test_srcu");
		mmn_init_completion(&s.done, sim, "done");
		cfg_of(&c, seed & 1 ? MMN_STRATEGY_PCT : MMN_STRATEGY_RANDOM, seed);
		c.trace = false;
		assert_int_equal(mmn_sched_run(sim, &c, srcu_body, &s, &r), 0);
		assert_int_equal(r.outcome, MMN_OUTCOME_OK);
		assert_int_equal(r.violations, 0);
		/* It waited for main, which entered before it began... */
		assert_true(s.u_return > s.main_exit);
		/* ...and not for reader2 when it entered during the grace
		 * period: reader2 stays inside until the updater returned
		 * (else the run would have deadlocked, above). */
		if (s.r2_in_gp) {
			late_in_gp++;
			assert_true(s.r2_enter < s.u_return);
		}
		mmn_completion_destroy(&s.done);
		mmn_srcu_destroy(&s.ss);
		mmn_sim_destroy(sim);
	}
	assert_true(late_in_gp > 0);
}

static void srcu_cb(struct mmn_rcu_head *h)
{
	struct srcu_prog *s = (struct srcu_prog *)((char *)h - offsetof(struct srcu_prog, head));

	s->cb_at = ++s->clock;
	s->cb_runs++;
	s->cb_saw_reader = s->main_inside;
}

static void *srcu_caller(void *p)
{
	struct srcu_prog *s = p;

	mmn_call_srcu(&s->ss, &s->head, srcu_cb);
	mmn_srcu_barrier(&s->ss);
	s->u_return = ++s->clock;
	return NULL;
}

static void srcu_cb_body(struct mmn_sim *sim, void *arg)
{
	struct srcu_prog *s = arg;
	struct mmn_actor *u;
	int idx;

	s->sim = sim;
	idx = mmn_srcu_read_lock(&s->ss);
	s->main_inside = true;
	assert_int_equal(mmn_actor_spawn(sim, "caller", srcu_caller, s, &u), 0);
	for (int i = 0; i < 3; i++)
		mmn_sched_point(sim, MMN_SCHED_EXPLICIT, NULL, "inside", 0);
	s->main_inside = false;
	s->main_exit = ++s->clock;
	mmn_srcu_read_unlock(&s->ss, idx);
}

static void test_call_srcu_callback_runs_after_the_grace_period(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= (uint64_t)SCALE(100); seed++) {
		struct mmn_sim *sim = det_sim(true);
		struct srcu_prog s = { 0 };
		struct mmn_sched_config c;
		struct mmn_sched_result r;

		mmn_srcu_init(&s.ss, sim, "test_srcu");
		cfg_of(&c, MMN_STRATEGY_RANDOM, seed);
		assert_int_equal(mmn_sched_run(sim, &c, srcu_cb_body, &s, &r), 0);
		assert_int_equal(r.outcome, MMN_OUTCOME_OK);
		assert_int_equal(r.violations, 0);
		assert_int_equal(s.cb_runs, 1);
		assert_false(s.cb_saw_reader);
		assert_true(s.cb_at > s.main_exit);
		assert_true(s.u_return > s.cb_at); /* srcu_barrier waited for it */
		assert_non_null(strstr(mmn_sched_trace(sim, NULL), "srcu_cb"));
		assert_int_equal(r.actors, 3); /* main, caller, srcu_cb */
		mmn_srcu_destroy(&s.ss);
		mmn_sim_destroy(sim);
	}
}

/* ------------------------------------------------------------------ */
/* Step budget                                                         */
/* ------------------------------------------------------------------ */

static void *spinner(void *p)
{
	struct mmn_sim *sim = p;

	for (;;)
		mmn_sched_point(sim, MMN_SCHED_EXPLICIT, NULL, "spin", 0);
	return NULL;
}

static void spin_body(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *a;
	struct mmn_mutex *held = arg;

	assert_int_equal(mmn_actor_spawn(sim, "spinner", spinner, sim, &a), 0);
	mmn_mutex_lock(held); /* released again by the unwinding */
	for (;;)
		mmn_sched_point(sim, MMN_SCHED_EXPLICIT, NULL, "spin", 0);
}

/* A worker that takes @held, passes 40 points inside it and counts done. */
struct finite {
	struct mmn_sim *sim;
	struct mmn_mutex *held;
	int done;
};

static void *finite_worker(void *p)
{
	struct finite *f = p;

	mmn_mutex_lock(f->held);
	for (int i = 0; i < 40; i++)
		mmn_sched_point(f->sim, MMN_SCHED_EXPLICIT, NULL, "work", 0);
	mmn_mutex_unlock(f->held);
	__atomic_add_fetch(&f->done, 1, __ATOMIC_RELAXED);
	return NULL;
}

static void finite_body(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *a[2];

	for (int i = 0; i < 2; i++)
		assert_int_equal(mmn_actor_spawn(sim, "worker", finite_worker, arg, &a[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
}

/*
 * Past its budget a run that would end is drained, not cut: the actors run
 * on in turn, every one finishes what it started (its lock released by
 * itself, not by the unwinding), nothing is unwound, no choice is recorded
 * past the budget, and the outcome still says the budget ran out.
 */
static void test_over_budget_run_is_drained_to_its_end(void **state)
{
	struct mmn_sim *sim = det_sim(true);
	struct mmn_mutex held;
	struct mmn_sched_config c;
	struct mmn_sched_result r, again;
	struct finite f = { .sim = sim, .held = &held };

	(void)state;
	mmn_mutex_init(&held, sim, &test_lock_class, "held");
	cfg_of(&c, MMN_STRATEGY_RANDOM, 5);
	c.max_steps = 20;
	assert_int_equal(mmn_sched_run(sim, &c, finite_body, &f, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_BUDGET);
	assert_int_equal(r.unwound, 0);
	assert_int_equal(f.done, 2);
	assert_true(r.steps > 80);
	assert_true(r.choices <= 20);
	assert_int_equal(r.violations, 0);
	assert_false(mmn_mutex_is_locked(&held));
	assert_non_null(strstr(mmn_sched_trace(sim, NULL), "run on in turn"));
	/* The drain is deterministic: the same seed, the same run. */
	f.done = 0;
	assert_int_equal(mmn_sched_run(sim, &c, finite_body, &f, &again), 0);
	assert_int_equal(again.steps, r.steps);
	assert_int_equal(again.choices, r.choices);
	mmn_mutex_destroy(&held);
	mmn_sim_destroy(sim);
}

/* An interval notifier's invalidate that records the sequence. */
static bool itv_invalidate(struct mmn_interval_notifier *sub, const struct mmn_notifier_range *range,
			   unsigned long cur_seq)
{
	(void)range;
	mmn_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmn_interval_notifier_ops itv_ops = { .invalidate = itv_invalidate };

struct stuck_inval {
	struct mmn_mm *mm;
	unsigned long addr;
	struct mmn_mutex *never; /* held by main for the whole run */
};

/* Opens an invalidation over the interval, then waits forever. */
static void *stuck_invalidator(void *p)
{
	struct stuck_inval *s = p;
	struct mmn_notifier_range r;

	mmn_notifier_range_init(&r, MMN_NOTIFY_UNMAP, MMN_NOTIFIER_RANGE_BLOCKABLE, s->mm, s->addr,
				s->addr + MMN_PAGE_SIZE);
	mmn_notifier_invalidate_range_start(&r);
	mmn_mutex_lock(s->never);
	mmn_notifier_invalidate_range_end(&r);
	mmn_mutex_unlock(s->never);
	return NULL;
}

static void stuck_body(struct mmn_sim *sim, void *arg)
{
	struct stuck_inval *s = arg;
	struct mmn_actor *a;

	mmn_mutex_lock(s->never);
	assert_int_equal(mmn_actor_spawn(sim, "inval", stuck_invalidator, s, &a), 0);
	mmn_actor_join(a, NULL); /* the deadlock: a waits for main, main for a */
}

/*
 * A run that ends in a deadlock unwinds an actor inside an invalidation of
 * an interval notifier's range. Afterwards the invalidation no longer holds
 * the sequence odd: the notifier can be removed at once (no wait reported
 * as a deadlock, nothing left linked), its sequence read, the mm torn down
 * without a report of an invalidation in progress; the quiescent audit says
 * the run is void.
 */
static void test_unwound_invalidation_is_closed_for_teardown(void **state)
{
	struct mmn_sim *sim = det_sim(true);
	struct mmn_mutex never;
	struct mmn_interval_notifier isub = { 0 };
	struct stuck_inval s = { .never = &never };
	struct mmn_sched_config c;
	struct mmn_sched_result r;
	struct capture cap;
	unsigned long seq;

	(void)state;
	capture_install(sim, &cap);
	s.mm = mmn_mm_create(sim);
	assert_non_null(s.mm);
	assert_int_equal(mmn_mmap(s.mm, 0, MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &s.addr), 0);
	assert_int_equal(mmn_interval_notifier_insert(&isub, s.mm, s.addr, MMN_PAGE_SIZE, &itv_ops), 0);
	mmn_mutex_init(&never, sim, &test_lock_class, "never");
	cfg_of(&c, MMN_STRATEGY_RANDOM, 3);
	assert_int_equal(mmn_sched_run(sim, &c, stuck_body, &s, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_DEADLOCK);
	assert_int_equal(r.unwound, 2);
	assert_int_equal(mmn_check_count(sim, MMN_VIOL_DEADLOCK), 1);
	mmn_check_reset(sim);

	/* Would wait for ever (reported as a deadlock) were the period still odd. */
	seq = mmn_interval_read_begin(&isub);
	assert_false(mmn_interval_read_retry(&isub, seq));
	assert_int_equal(mmn_check_total(sim), 0);
	assert_int_equal(mmn_check_quiescent(sim), -ESTALE);
	assert_int_equal(mmn_interval_notifier_remove(&isub), 0);
	mmn_mm_put(s.mm);
	assert_int_equal(mmn_check_total(sim), 0);
	mmn_mutex_destroy(&never);
	mmn_sim_destroy(sim);
}

/* Counts its calls (the interval notifier of the test below). */
static int itv_calls;

static bool itv_count(struct mmn_interval_notifier *sub, const struct mmn_notifier_range *range,
		      unsigned long cur_seq)
{
	(void)range;
	itv_calls++;
	mmn_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmn_interval_notifier_ops itv_count_ops = { .invalidate = itv_count };

/*
 * Under the deterministic backend, outside a run, a removal that would have
 * to wait for an invalidation no actor can end reports the wait as a
 * deadlock and skips it; it must still leave nothing linked, since the
 * caller may free the notifier as soon as it returns.
 */
static void test_skipped_removal_wait_leaves_nothing_linked(void **state)
{
	struct mmn_sim *sim = det_sim(true);
	struct mmn_interval_notifier *isub = calloc(1, sizeof(*isub));
	struct mmn_notifier_range r;
	struct capture cap;
	struct mmn_mm *mm;
	unsigned long addr;

	(void)state;
	capture_install(sim, &cap);
	mm = mmn_mm_create(sim);
	assert_non_null(mm);
	assert_int_equal(mmn_mmap(mm, 0, MMN_PAGE_SIZE, MMN_PROT_READ, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS,
				  &addr), 0);
	assert_int_equal(mmn_interval_notifier_insert(isub, mm, addr, MMN_PAGE_SIZE, &itv_count_ops), 0);
	itv_calls = 0;
	mmn_notifier_range_init(&r, MMN_NOTIFY_UNMAP, MMN_NOTIFIER_RANGE_BLOCKABLE, mm, addr,
				addr + MMN_PAGE_SIZE);
	mmn_notifier_invalidate_range_start(&r);
	assert_int_equal(itv_calls, 1);
	assert_int_equal(mmn_interval_notifier_remove(isub), 0);
	assert_int_equal(mmn_check_count(sim, MMN_VIOL_DEADLOCK), 1);
	free(isub); /* allowed now: ASan would catch a later use */
	mmn_notifier_invalidate_range_end(&r);
	mmn_notifier_invalidate_range_start(&r);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(itv_calls, 1);
	mmn_mm_put(mm);
	assert_int_equal(mmn_check_total(sim), 1);
	mmn_sim_destroy(sim);
}

static void test_spinning_actors_exhaust_the_step_budget(void **state)
{
	struct mmn_sim *sim = det_sim(true);
	struct mmn_mutex held;
	struct mmn_sched_config c;
	struct mmn_sched_result r;

	(void)state;
	mmn_mutex_init(&held, sim, &test_lock_class, "held");
	cfg_of(&c, MMN_STRATEGY_RANDOM, 9);
	c.max_steps = 1000;
	assert_int_equal(mmn_sched_run(sim, &c, spin_body, &held, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_BUDGET);
	/* 1000 chosen points, then 10000 drained in turn (max(budget, 10000)),
	 * then the livelock is unwound. */
	assert_int_equal(r.steps, 11001);
	assert_int_equal(r.unwound, 2);
	assert_int_equal(r.violations, 0); /* a budget is an outcome, not a violation */
	assert_false(mmn_mutex_is_locked(&held));
	assert_non_null(strstr(mmn_sched_trace(sim, NULL), "budget"));
	/* The simulation is usable again: another run. */
	c.max_steps = 10;
	assert_int_equal(mmn_sched_run(sim, &c, spin_body, &held, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_BUDGET);
	mmn_mutex_destroy(&held);
	mmn_sim_destroy(sim);
}

/* ------------------------------------------------------------------ */
/* Shrinking                                                           */
/* ------------------------------------------------------------------ */

static bool still_deadlocks(const uint32_t *choices, size_t n, void *ctx)
{
	struct mmn_sched_config c;
	struct mmn_sched_result r;
	struct dl_capture cap = { 0 };
	int *calls = ctx;

	(*calls)++;
	cfg_of(&c, MMN_STRATEGY_REPLAY, 0);
	c.replay = choices;
	c.replay_len = n;
	c.trace = false;
	return dl_run(&c, true, &cap, &r, NULL, NULL) == MMN_OUTCOME_DEADLOCK;
}

static void test_shrink_keeps_the_deadlock_and_never_grows(void **state)
{
	uint32_t *choices = NULL, *out;
	size_t n = 0;
	int calls = 0;
	long m;

	(void)state;
	/* A deadlocking schedule, padded with the PCT run's own choices. */
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct mmn_sched_config c;
		struct mmn_sched_result r;
		struct dl_capture cap = { 0 };

		cfg_of(&c, MMN_STRATEGY_RANDOM, seed);
		if (dl_run(&c, true, &cap, &r, &choices, &n) == MMN_OUTCOME_DEADLOCK)
			break;
		free(choices);
		choices = NULL;
	}
	assert_non_null(choices);
	assert_true(still_deadlocks(choices, n, &calls));
	out = calloc(n + 1, sizeof(*out));
	m = mmn_sched_shrink(choices, n, out, still_deadlocks, &calls, 200);
	assert_true(m >= 0);
	assert_true((size_t)m <= n);
	assert_true(still_deadlocks(out, (size_t)m, &calls));
	/* The deadlock needs t2 to run between t1's two locks: at least one
	 * choice away from the default survives. */
	assert_true(m >= 1);
	free(out);
	free(choices);
}

static bool still_loses(const uint32_t *choices, size_t n, void *ctx)
{
	struct mmn_sim *sim = det_sim(false);
	struct counter c = { 0 };
	struct mmn_sched_config cfg;
	bool lost;

	(void)ctx;
	mmn_mutex_init(&c.lock, sim, &test_lock_class, "counter_lock");
	cfg_of(&cfg, MMN_STRATEGY_REPLAY, 0);
	cfg.replay = choices;
	cfg.replay_len = n;
	lost = inc_run(sim, &c, &cfg);
	mmn_mutex_destroy(&c.lock);
	mmn_sim_destroy(sim);
	return lost;
}

static void test_shrink_of_a_lost_update_is_no_longer(void **state)
{
	/* A long-winded failing list: extra entries the run never reaches. */
	uint32_t bad[] = { 1, 2, 1, 2, 2, 1, 1, 2, 2, 1 };
	uint32_t out[10];
	long m;

	(void)state;
	assert_true(still_loses(bad, 10, NULL));
	m = mmn_sched_shrink(bad, 10, out, still_loses, NULL, 0);
	assert_true(m > 0 && m < 10);
	assert_true(still_loses(out, (size_t)m, NULL));
	/* The default schedule (empty list) does not lose the update. */
	assert_false(still_loses(out, 0, NULL));
}

/* ------------------------------------------------------------------ */
/* API misuse                                                          */
/* ------------------------------------------------------------------ */

static void nop_body(struct mmn_sim *sim, void *arg)
{
	(void)sim;
	(void)arg;
}

static void *nop_actor(void *p)
{
	return p;
}

/* A pool changes which host threads run the actors, nothing else: the same
 * seeds give the same traces on pooled threads as on user-level actors (the
 * default mechanism), deadlocked actors are unwound on its threads, and its
 * threads are reused (never more than one run's actors). */
static void test_pool_reuses_threads_and_keeps_the_schedules(void **state)
{
	struct mmn_sched_pool *pool = mmn_sched_pool_create();
	unsigned int deadlocks = 0;

	(void)state;
	assert_non_null(pool);
	assert_int_equal(mmn_sched_pool_threads(pool), 0);
	for (uint64_t seed = 1; seed <= SCALE(40); seed++) {
		struct mmn_sched_config c, cp;
		struct mmn_sched_result r, rp;
		uint32_t *ch, *chp;
		size_t n, np;
		char *t, *tp;

		cfg_of(&c, seed & 1 ? MMN_STRATEGY_PCT : MMN_STRATEGY_RANDOM, seed);
		c.threads = false;
		cp = c;
		cp.pool = pool;
		cp.threads = true;
		t = mix_run(&c, &ch, &n, &r);
		tp = mix_run(&cp, &chp, &np, &rp);
		assert_string_equal(tp, t);
		assert_int_equal(np, n);
		assert_memory_equal(chp, ch, n * sizeof(*ch));
		free(t);
		free(tp);
		free(ch);
		free(chp);
	}
	/* main + 3 workers at most at once */
	assert_true(mmn_sched_pool_threads(pool) >= 2 && mmn_sched_pool_threads(pool) <= 4);
	for (uint64_t seed = 1; seed <= 40; seed++) {
		struct mmn_sched_config c;
		struct mmn_sched_result r;
		struct dl_capture cap = { 0 };

		cfg_of(&c, MMN_STRATEGY_RANDOM, seed);
		c.pool = pool;
		c.threads = true;
		if (dl_run(&c, true, &cap, &r, NULL, NULL) == MMN_OUTCOME_DEADLOCK) {
			deadlocks++;
			assert_int_equal(r.unwound, 3);
		}
	}
	assert_true(deadlocks > 0);
	assert_true(mmn_sched_pool_threads(pool) <= 4);
	mmn_sched_pool_destroy(pool);
	mmn_sched_pool_destroy(NULL);
	assert_int_equal(mmn_sched_pool_threads(NULL), 0);
}

static void test_run_api_rejects_misuse(void **state)
{
	struct mmn_sim *sim = det_sim(true);
	struct mmn_sim *native = mmn_sim_create(NULL);
	struct mmn_sched_config c;
	struct mmn_sched_result r;
	struct mmn_actor *a;

	(void)state;
	assert_non_null(native);
	assert_int_equal(mmn_sched_run(native, NULL, nop_body, NULL, &r), -EINVAL);
	assert_int_equal(mmn_sched_run(sim, NULL, NULL, NULL, &r), -EINVAL);
	cfg_of(&c, MMN_STRATEGY_REPLAY, 0);
	c.replay_len = 3;
	assert_int_equal(mmn_sched_run(sim, &c, nop_body, NULL, &r), -EINVAL);
	/* Spawning outside a run is refused. */
	assert_int_equal(mmn_actor_spawn(sim, "x", nop_actor, NULL, &a), -EPERM);
	assert_int_equal(mmn_sched_run(sim, NULL, nop_body, NULL, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_OK);
	assert_int_equal(r.actors, 1);
	assert_int_equal(r.choices, 0);
	mmn_sim_destroy(native);
	mmn_sim_destroy(sim);
}

/* ------------------------------------------------------------------ */
/* A piece of the real model under the scheduler                       */
/* ------------------------------------------------------------------ */

#define MODEL_PAGES 4

struct model {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long base;
	int errors;
};

struct cpu_arg {
	struct model *m;
	int cpu;
};

static void *cpu_actor(void *p)
{
	struct cpu_arg *c = p;
	struct model *m = c->m;

	for (int i = 0; i < 6; i++) {
		unsigned long addr = m->base + (unsigned long)((i + c->cpu) % MODEL_PAGES) * 4096;
		uint64_t v;
		int err;

		if ((i + c->cpu) & 1)
			err = mmn_cpu_write(m->mm, c->cpu, addr, (uint64_t)i);
		else
			err = mmn_cpu_read(m->mm, c->cpu, addr, &v);
		/* The remapper may have a hole open for an instant. */
		if (err && err != -EFAULT)
			m->errors++;
	}
	return NULL;
}

static void *remap_actor(void *p)
{
	struct model *m = p;

	for (int i = 0; i < 2; i++) {
		if (mmn_munmap(m->mm, m->base + 4096, 2 * 4096))
			m->errors++;
		if (mmn_mmap(m->mm, m->base + 4096, 2 * 4096, MMN_PROT_READ | MMN_PROT_WRITE,
			     MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, NULL))
			m->errors++;
	}
	return NULL;
}

static void model_body(struct mmn_sim *sim, void *arg)
{
	struct model *m = arg;
	struct cpu_arg c[2] = { { m, 0 }, { m, 1 } };
	struct mmn_actor *t[3];

	(void)sim;
	assert_int_equal(mmn_actor_spawn(sim, "cpu0", cpu_actor, &c[0], &t[0]), 0);
	assert_int_equal(mmn_actor_spawn(sim, "cpu1", cpu_actor, &c[1], &t[1]), 0);
	assert_int_equal(mmn_actor_spawn(sim, "remap", remap_actor, m, &t[2]), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(mmn_actor_join(t[i], NULL), 0);
}

static void test_model_accesses_racing_munmap_and_mmap_fixed(void **state)
{
	unsigned long steps = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= (uint64_t)SCALE(200); seed++) {
		struct mmn_sim *sim = det_sim(true);
		struct model m = { .sim = sim };
		struct mmn_sched_config c;
		struct mmn_sched_result r;
		struct capture cap;

		capture_install(sim, &cap);
		m.mm = mmn_mm_create(sim);
		assert_non_null(m.mm);
		assert_int_equal(mmn_mmap(m.mm, 0, MODEL_PAGES * 4096,
					  MMN_PROT_READ | MMN_PROT_WRITE,
					  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &m.base),
				 0);
		cfg_of(&c, seed % 3 == 0 ? MMN_STRATEGY_PCT : MMN_STRATEGY_RANDOM, seed);
		c.pct_steps = 400;
		c.pct_depth = 3;
		c.trace = false;
		assert_int_equal(mmn_sched_run(sim, &c, model_body, &m, &r), 0);
		if (r.outcome != MMN_OUTCOME_OK || r.violations || m.errors)
			fprintf(stderr, "seed %lu: outcome %d violations %lu errors %d last: %s\n",
				(unsigned long)seed, r.outcome, r.violations, m.errors,
				cap.last_msg);
		assert_int_equal(r.outcome, MMN_OUTCOME_OK);
		assert_int_equal(r.violations, 0);
		assert_int_equal(m.errors, 0);
		assert_int_equal(mmn_audit(sim), 0);
		assert_int_equal(mmn_check_quiescent(sim), 0);
		steps += r.steps;
		/* No raw lock was held across a scheduling point. */
		assert_int_equal(mmn__det_raw_points(sim), 0);
		mmn_mm_put(m.mm);
		mmn_sim_destroy(sim);
	}
	assert_true(steps > 0);
}

/* mmn_sched_trace_chrome() on one line: its return value, the output in @out. */
static int chrome_of(const char *trace, char *out, size_t len)
{
	FILE *f = fmemopen(out, len, "w");
	int err;

	assert_non_null(f);
	err = mmn_sched_trace_chrome(trace, f);
	fclose(f);
	return err;
}

static void test_trace_chrome_refuses_bad_steps_and_addresses(void **state)
{
	char out[4096];

	(void)state;
	/* the right lines: a point whose object label holds blanks, an event */
	assert_int_equal(chrome_of("     1 vcpu     lock             kvm vcpu tlb#2 0x0 -> vcpu *\n"
				   "     2 vcpu     lock             lock_A#3 0xffffffffffffffff -> t1\n"
				   "     3 t1       outcome          ok\n",
				   out, sizeof(out)),
			 0);
	assert_non_null(strstr(out, "\"name\":\"lock kvm vcpu tlb#2\""));
	assert_non_null(strstr(out, "\"addr\":\"0x0\""));
	assert_non_null(strstr(out, "\"ts\":2.000,"));
	assert_int_equal(chrome_of("18446744073709551615 t1 outcome ok\n", out, sizeof(out)), 0);
	/* the wrong ones (issue 11) */
	assert_int_equal(chrome_of("     1 t1       lock             lock_A#3 0xZZ -> t1\n", out,
				   sizeof(out)),
			 -EINVAL);
	assert_int_equal(chrome_of("     1 t1       lock             lock_A#3 0x -> t1\n", out,
				   sizeof(out)),
			 -EINVAL);
	assert_int_equal(chrome_of("     1 t1       lock             lock_A#3 12 -> t1\n", out,
				   sizeof(out)),
			 -EINVAL);
	assert_int_equal(chrome_of("     1 t1       lock             0x10 -> t1\n", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(chrome_of("12345678901234567890123456 t1 outcome ok\n", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(chrome_of("18446744073709551616 t1 outcome ok\n", out, sizeof(out)),
			 -EINVAL);
	assert_int_equal(chrome_of("-1 t1 outcome ok\n", out, sizeof(out)), -EINVAL);
	assert_int_equal(chrome_of("+1 t1 outcome ok\n", out, sizeof(out)), -EINVAL);
	/* the output stays valid JSON: closed after the events before the bad line */
	assert_int_equal(chrome_of("1 t1 spawn t2\nx t1 outcome ok\n", out, sizeof(out)), -EINVAL);
	assert_non_null(strstr(out, "\n]}\n"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_seed_gives_same_choices_and_identical_trace),
		cmocka_unit_test(test_different_seeds_give_different_schedules),
		cmocka_unit_test(test_replay_reproduces_the_trace_byte_for_byte),
		cmocka_unit_test(test_random_walk_finds_the_lost_update),
		cmocka_unit_test(test_pct_finds_the_lost_update),
		cmocka_unit_test(test_mutex_protected_increment_is_never_lost),
		cmocka_unit_test(test_exhaustive_enumerates_all_six_interleavings_and_finds_the_bug),
		cmocka_unit_test(test_preemption_bound_limits_the_schedules),
		cmocka_unit_test(test_opposite_lock_order_deadlocks_and_names_the_cycle),
		cmocka_unit_test(test_consistent_lock_order_never_deadlocks),
		cmocka_unit_test(test_wait_outside_a_run_is_reported_not_hung),
		cmocka_unit_test(test_synchronize_srcu_waits_for_earlier_readers_only),
		cmocka_unit_test(test_call_srcu_callback_runs_after_the_grace_period),
		cmocka_unit_test(test_spinning_actors_exhaust_the_step_budget),
		cmocka_unit_test(test_over_budget_run_is_drained_to_its_end),
		cmocka_unit_test(test_unwound_invalidation_is_closed_for_teardown),
		cmocka_unit_test(test_skipped_removal_wait_leaves_nothing_linked),
		cmocka_unit_test(test_shrink_keeps_the_deadlock_and_never_grows),
		cmocka_unit_test(test_shrink_of_a_lost_update_is_no_longer),
		cmocka_unit_test(test_pool_reuses_threads_and_keeps_the_schedules),
		cmocka_unit_test(test_run_api_rejects_misuse),
		cmocka_unit_test(test_model_accesses_racing_munmap_and_mmap_fixed),
		cmocka_unit_test(test_trace_chrome_refuses_bad_steps_and_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
