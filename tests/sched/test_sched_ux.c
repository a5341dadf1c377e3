// SPDX-License-Identifier: MIT
/*
 * What the scheduler tells a person exploring their own code: how an
 * exhaustive exploration ended (a bug, the whole enumeration, the run
 * limit), a retry marked as a yield so that PCT does not starve the actor
 * the retry waits for, and shrinking by preemptions with the remaining
 * preemptions reported (step, from, to, where).
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

static struct mmn_sim *det_sim(void)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_frames = 64;
	cfg.nr_cpus = 2;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	return sim;
}

/* ------------------------------------------------------------------ */
/* How an exhaustive exploration ended                                 */
/* ------------------------------------------------------------------ */

/* Two incrementers, "load; point; store": the update is lost in 4 of the 6
 * shuffles of AABB (tests/sched/test_sched.c explains the count). */
struct counter {
	struct mmn_sim *sim;
	unsigned long value;
};

static void *inc_actor(void *p)
{
	struct counter *c = p;
	unsigned long v = c->value;

	mmn_sched_point(c->sim, MMN_SCHED_EXPLICIT, &c->value, "counter", 0);
	c->value = v + 1;
	return NULL;
}

static void inc_body(struct mmn_sim *sim, void *arg)
{
	struct counter *c = arg;
	struct mmn_actor *a;

	c->sim = sim;
	assert_int_equal(mmn_actor_spawn(sim, "A", inc_actor, c, &a), 0);
	assert_int_equal(mmn_actor_spawn(sim, "B", inc_actor, c, &a), 0);
}

struct ex {
	bool stop_on_bug;
	unsigned long runs;
};

static int ex_one(struct mmn_sched_explorer *x, const struct mmn_sched_config *cfg, void *p)
{
	struct ex *e = p;
	struct mmn_sim *sim = det_sim();
	struct counter c = { 0 };
	struct mmn_sched_result r;

	assert_int_equal(mmn_sched_run(sim, cfg, inc_body, &c, &r), 0);
	assert_int_equal(mmn_sched_explorer_record(x, sim), 0);
	mmn_sim_destroy(sim);
	e->runs++;
	return e->stop_on_bug && c.value != 2;
}

static void test_explore_says_complete_stopped_or_limited(void **state)
{
	struct mmn_sched_explorer *x;
	struct ex e = { 0 };

	(void)state;
	assert_false(mmn_sched_explorer_complete(NULL));
	assert_false(mmn_sched_explorer_stopped(NULL));

	/* The whole enumeration: complete, not stopped. */
	x = mmn_sched_explorer_create(UINT_MAX);
	assert_false(mmn_sched_explorer_complete(x)); /* nothing run yet */
	assert_int_equal(mmn_sched_explore(x, NULL, 0, ex_one, &e), 6);
	assert_true(mmn_sched_explorer_complete(x));
	assert_false(mmn_sched_explorer_stopped(x));
	mmn_sched_explorer_destroy(x);

	/* Stopped on the first lost update: stopped, not complete. */
	e = (struct ex){ .stop_on_bug = true };
	x = mmn_sched_explorer_create(UINT_MAX);
	assert_true(mmn_sched_explore(x, NULL, 0, ex_one, &e) < 6);
	assert_true(mmn_sched_explorer_stopped(x));
	assert_false(mmn_sched_explorer_complete(x));
	mmn_sched_explorer_destroy(x);

	/* A run limit with schedules left: neither. */
	e = (struct ex){ 0 };
	x = mmn_sched_explorer_create(UINT_MAX);
	assert_int_equal(mmn_sched_explore(x, NULL, 3, ex_one, &e), 3);
	assert_false(mmn_sched_explorer_stopped(x));
	assert_false(mmn_sched_explorer_complete(x));
	/* Going on from there finishes it. */
	assert_int_equal(mmn_sched_explore(x, NULL, 0, ex_one, &e), 3);
	assert_true(mmn_sched_explorer_complete(x));
	mmn_sched_explorer_destroy(x);

	/* A limit that falls exactly on the last schedule: complete, known
	 * without asking for a seventh. */
	e = (struct ex){ 0 };
	x = mmn_sched_explorer_create(UINT_MAX);
	assert_int_equal(mmn_sched_explore(x, NULL, 6, ex_one, &e), 6);
	assert_true(mmn_sched_explorer_complete(x));
	assert_int_equal(mmn_sched_explorer_count(x), 6);
	mmn_sched_explorer_destroy(x);

	/* Bound 0: two schedules, neither loses the update. */
	e = (struct ex){ .stop_on_bug = true };
	x = mmn_sched_explorer_create(0);
	assert_int_equal(mmn_sched_explore(x, NULL, 0, ex_one, &e), 2);
	assert_true(mmn_sched_explorer_complete(x));
	assert_false(mmn_sched_explorer_stopped(x));
	mmn_sched_explorer_destroy(x);
}

/* Without a record of its last run the enumeration cannot go on: it ends,
 * and does not call itself complete. */
static void test_explore_without_record_is_not_complete(void **state)
{
	struct mmn_sched_explorer *x = mmn_sched_explorer_create(UINT_MAX);
	struct mmn_sched_config cfg;

	(void)state;
	mmn_sched_config_init(&cfg);
	assert_true(mmn_sched_explorer_next(x, &cfg));
	assert_false(mmn_sched_explorer_next(x, &cfg)); /* no record */
	assert_false(mmn_sched_explorer_complete(x));
	mmn_sched_explorer_destroy(x);
}

/* ------------------------------------------------------------------ */
/* A retry marked as a yield                                           */
/* ------------------------------------------------------------------ */

/*
 * main starts an "invalidation" (the flag) and spawns the invalidator, which
 * passes a few points before it ends the invalidation, and a reader that
 * retries while the invalidation is in progress: with mmn_sched_point()
 * (a plain point) or mmn_sched_yield() (a retry the scheduler knows).
 */
struct spin {
	struct mmn_sim *sim;
	bool invalidating;
	bool yield;
	unsigned long retries;
	bool read_done;
};

static void *spin_inv(void *p)
{
	struct spin *s = p;

	for (int i = 0; i < 3; i++)
		mmn_sched_point(s->sim, MMN_SCHED_EXPLICIT, s, "invalidate", (unsigned long)i);
	s->invalidating = false;
	return NULL;
}

static void *spin_reader(void *p)
{
	struct spin *s = p;

	for (;;) {
		mmn_sched_point(s->sim, MMN_SCHED_EXPLICIT, s, "read_begin", 0);
		if (!s->invalidating)
			break;
		s->retries++;
		if (s->yield)
			mmn_sched_yield(s->sim, s, "retry");
		else
			mmn_sched_point(s->sim, MMN_SCHED_EXPLICIT, s, "retry", 0);
	}
	s->read_done = true;
	return NULL;
}

static void spin_body(struct mmn_sim *sim, void *arg)
{
	struct spin *s = arg;
	struct mmn_actor *a;

	s->sim = sim;
	s->invalidating = true;
	assert_int_equal(mmn_actor_spawn(sim, "inv", spin_inv, s, &a), 0);
	assert_int_equal(mmn_actor_spawn(sim, "reader", spin_reader, s, &a), 0);
}

static struct mmn_sched_result spin_run(enum mmn_sched_strategy st, uint64_t seed, bool yield,
					char **trace, uint32_t **choices, size_t *n)
{
	struct mmn_sim *sim = det_sim();
	struct spin s = { .yield = yield };
	struct mmn_sched_config c;
	struct mmn_sched_result r;

	mmn_sched_config_init(&c);
	c.strategy = st;
	c.seed = seed;
	c.pct_depth = 1; /* no change point: priorities alone decide */
	c.pct_steps = 10;
	c.max_steps = 2000;
	if (choices) {
		c.strategy = MMN_STRATEGY_REPLAY;
		c.replay = *choices;
		c.replay_len = *n;
	}
	assert_int_equal(mmn_sched_run(sim, &c, spin_body, &s, &r), 0);
	assert_true(s.read_done);            /* drained past the budget, if need be */
	assert_false(s.invalidating);
	assert_int_equal(r.violations, 0);
	if (trace)
		*trace = strdup(mmn_sched_trace(sim, NULL));
	mmn_sim_destroy(sim);
	return r;
}

static void test_pct_spinner_runs_to_the_budget_unless_it_yields(void **state)
{
	unsigned int budget = 0, seeds = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct mmn_sched_result plain = spin_run(MMN_STRATEGY_PCT, seed, false, NULL, NULL, 0);
		struct mmn_sched_result y = spin_run(MMN_STRATEGY_PCT, seed, true, NULL, NULL, 0);

		/* With the yield every schedule ends, in a few steps: the
		 * reader's points, at most one retry, the invalidator's 3. */
		assert_int_equal(y.outcome, MMN_OUTCOME_OK);
		assert_true(y.steps <= 8);
		if (plain.outcome == MMN_OUTCOME_BUDGET) {
			/* The reader outranks the invalidator: it spins to the
			 * budget, then the drain lets the invalidator finish. */
			assert_true(plain.steps > 2000);
			budget++;
		} else {
			assert_int_equal(plain.outcome, MMN_OUTCOME_OK);
			assert_true(plain.steps <= 8);
		}
		seeds++;
	}
	/* About half the seeds give the reader the higher priority. */
	assert_true(budget >= 3 && budget <= seeds - 3);
}

static void test_yield_is_a_normal_point_for_random_and_replay(void **state)
{
	(void)state;
	for (uint64_t seed = 1; seed <= 10; seed++) {
		struct mmn_sim *sim[2];
		uint32_t *ch[2];
		size_t n[2];
		char *tr[2];
		struct mmn_sched_result r[2];

		/* The random walk makes the same choices with and without the
		 * yield: only the trace's kind differs. */
		for (int y = 0; y < 2; y++) {
			struct spin s = { .yield = y };
			struct mmn_sched_config c;

			sim[y] = det_sim();
			mmn_sched_config_init(&c);
			c.seed = seed;
			assert_int_equal(mmn_sched_run(sim[y], &c, spin_body, &s, &r[y]), 0);
			n[y] = mmn_sched_choices(sim[y], NULL, 0);
			ch[y] = calloc(n[y] + 1, sizeof(uint32_t));
			mmn_sched_choices(sim[y], ch[y], n[y]);
			tr[y] = strdup(mmn_sched_trace(sim[y], NULL));
			mmn_sim_destroy(sim[y]);
		}
		assert_int_equal(r[0].steps, r[1].steps);
		assert_int_equal(n[0], n[1]);
		assert_memory_equal(ch[0], ch[1], n[0] * sizeof(uint32_t));
		if (r[1].choices && strstr(tr[0], "retry"))
			assert_non_null(strstr(tr[1], " yield "));
		assert_null(strstr(tr[0], " yield "));
		/* The yielding schedule replays byte for byte. */
		{
			char *again;

			spin_run(MMN_STRATEGY_REPLAY, 0, true, &again, &ch[1], &n[1]);
			assert_string_equal(again, tr[1]);
			free(again);
		}
		for (int y = 0; y < 2; y++) {
			free(ch[y]);
			free(tr[y]);
		}
	}
	/* NULL is a no-op; outside a run it is a plain point. */
	mmn_sched_yield(NULL, NULL, "x");
	{
		struct mmn_sim *sim = det_sim();

		mmn_sched_yield(sim, NULL, NULL);
		assert_int_equal(mmn_check_total(sim), 0);
		mmn_sim_destroy(sim);
	}
}

/* ------------------------------------------------------------------ */
/* Shrinking by preemptions                                            */
/* ------------------------------------------------------------------ */

/* The lost update with work around it: each incrementer passes 6 points,
 * loads, passes the "counter" point, stores, and passes 6 more. A random
 * walk that loses the update switches all over the place; one preemption
 * (between one's load and store, to the other) is all the bug needs. */
static void *busy_inc(void *p)
{
	struct counter *c = p;
	unsigned long v;

	for (int i = 0; i < 6; i++)
		mmn_sched_point(c->sim, MMN_SCHED_EXPLICIT, NULL, "work", 0);
	v = c->value;
	mmn_sched_point(c->sim, MMN_SCHED_EXPLICIT, &c->value, "counter", 0x1000);
	c->value = v + 1;
	for (int i = 0; i < 6; i++)
		mmn_sched_point(c->sim, MMN_SCHED_EXPLICIT, NULL, "work", 0);
	return NULL;
}

static void busy_body(struct mmn_sim *sim, void *arg)
{
	struct counter *c = arg;
	struct mmn_actor *a;

	c->sim = sim;
	assert_int_equal(mmn_actor_spawn(sim, "A", busy_inc, c, &a), 0);
	assert_int_equal(mmn_actor_spawn(sim, "B", busy_inc, c, &a), 0);
}

/* Replay @choices; true if the update was lost. With @pre, the run's
 * preemptions are copied there (room for 64). */
static bool busy_replay(const uint32_t *choices, size_t n, struct mmn_sched_shrinker *sh,
			struct mmn_sched_preemption *pre, size_t *npre)
{
	struct mmn_sim *sim = det_sim();
	struct counter c = { 0 };
	struct mmn_sched_config cfg;
	struct mmn_sched_result r;

	mmn_sched_config_init(&cfg);
	cfg.strategy = MMN_STRATEGY_REPLAY;
	cfg.replay = choices;
	cfg.replay_len = n;
	assert_int_equal(mmn_sched_run(sim, &cfg, busy_body, &c, &r), 0);
	if (sh)
		assert_int_equal(mmn_sched_shrinker_record(sh, sim), 0);
	if (npre) {
		*npre = mmn_sched_preemptions(sim, pre, 64);
		assert_int_equal(*npre, r.preemptions);
	}
	mmn_sim_destroy(sim);
	return c.value != 2;
}

static bool busy_check(struct mmn_sched_shrinker *sh, const uint32_t *choices, size_t n,
		       void *ctx)
{
	unsigned long *calls = ctx;

	(*calls)++;
	return busy_replay(choices, n, sh, NULL, NULL);
}

/* A lost update of a random walk, with many preemptions. */
static uint32_t *busy_found(size_t *n, unsigned long *pre)
{
	for (uint64_t seed = 1; seed <= 100; seed++) {
		struct mmn_sim *sim = det_sim();
		struct counter c = { 0 };
		struct mmn_sched_config cfg;
		struct mmn_sched_result r;
		uint32_t *list;

		mmn_sched_config_init(&cfg);
		cfg.seed = seed;
		assert_int_equal(mmn_sched_run(sim, &cfg, busy_body, &c, &r), 0);
		if (c.value == 2 || r.preemptions < 5) {
			mmn_sim_destroy(sim);
			continue;
		}
		*n = mmn_sched_choices(sim, NULL, 0);
		*pre = r.preemptions;
		list = calloc(*n, sizeof(*list));
		mmn_sched_choices(sim, list, *n);
		mmn_sim_destroy(sim);
		return list;
	}
	fail_msg("no random walk lost the update");
	return NULL;
}

static void test_shrink_by_preemptions_leaves_the_one_the_bug_needs(void **state)
{
	struct mmn_sched_preemption pre[64];
	unsigned long found_pre = 0, calls = 0;
	size_t n = 0, npre = 0;
	uint32_t *list, *out;
	long m;
	char line[160];

	(void)state;
	list = busy_found(&n, &found_pre);
	assert_true(found_pre >= 5);
	assert_true(busy_replay(list, n, NULL, pre, &npre));
	assert_int_equal(npre, found_pre);
	out = calloc(n, sizeof(*out));
	m = mmn_sched_shrink_preemptions(list, n, out, busy_check, &calls, 0);
	assert_true(m > 0 && (size_t)m <= n);
	assert_true(calls <= 1000);
	/* Still loses the update, with exactly one preemption: from one
	 * incrementer, at its "counter" point, to the other. */
	assert_true(busy_replay(out, (size_t)m, NULL, pre, &npre));
	assert_int_equal(npre, 1);
	assert_int_equal(pre[0].kind, MMN_SCHED_EXPLICIT);
	assert_false(pre[0].yield);
	assert_string_equal(pre[0].label, "counter");
	assert_int_equal(pre[0].addr, 0x1000);
	assert_true(pre[0].choice < (size_t)m);
	assert_int_not_equal(pre[0].from, pre[0].to);
	assert_true(mmn_sched_preemption_format(&pre[0], line, sizeof(line)) > 0);
	assert_non_null(strstr(line, " at explicit counter 0x1000"));
	assert_true(!strncmp(line, "A -> B at step ", 15) || !strncmp(line, "B -> A at step ", 15));

	/* (On this list ddmin alone, mmn_sched_shrink(), happens to reach one
	 * preemption too, in 8 entries; nothing guarantees it in general.) */
	assert_int_equal(mmn_sched_preemption_format(NULL, line, sizeof(line)), -EINVAL);
	assert_int_equal(mmn_sched_preemption_format(&pre[0], NULL, 1), -EINVAL);
	assert_int_equal(mmn_sched_preemption_format(&pre[0], line, 0), -EINVAL);
	assert_int_equal(mmn_sched_shrink_preemptions(list, n, NULL, busy_check, &calls, 0), -EINVAL);
	assert_int_equal(mmn_sched_shrink_preemptions(list, n, out, NULL, &calls, 0), -EINVAL);
	assert_int_equal(mmn_sched_shrink_preemptions(NULL, n, out, busy_check, &calls, 0), -EINVAL);
	assert_int_equal(mmn_sched_shrinker_record(NULL, NULL), -EINVAL);
	assert_int_equal(mmn_sched_preemptions(NULL, pre, 64), 0);
	free(out);
	free(list);
}

/* A list whose replay does not violate comes back as it is. */
static bool never(struct mmn_sched_shrinker *sh, const uint32_t *choices, size_t n, void *ctx)
{
	(void)ctx;
	busy_replay(choices, n, sh, NULL, NULL);
	return false;
}

static void test_shrink_by_preemptions_of_a_passing_list_is_a_copy(void **state)
{
	uint32_t list[] = { 1, 2, 1, 2 }, out[4] = { 0 };

	(void)state;
	assert_int_equal(mmn_sched_shrink_preemptions(list, 4, out, never, NULL, 0), 4);
	assert_memory_equal(out, list, sizeof(list));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explore_says_complete_stopped_or_limited),
		cmocka_unit_test(test_explore_without_record_is_not_complete),
		cmocka_unit_test(test_pct_spinner_runs_to_the_budget_unless_it_yields),
		cmocka_unit_test(test_yield_is_a_normal_point_for_random_and_replay),
		cmocka_unit_test(test_shrink_by_preemptions_leaves_the_one_the_bug_needs),
		cmocka_unit_test(test_shrink_by_preemptions_of_a_passing_list_is_a_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
