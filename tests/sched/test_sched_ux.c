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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_explore_says_complete_stopped_or_limited),
		cmocka_unit_test(test_explore_without_record_is_not_complete),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
