// SPDX-License-Identifier: MIT
/*
 * Exploration of scenario schedules (explore.h) on S1 and S8: found under
 * the wrong settings without a hand-placed interleaving, silent under the
 * right ones; a found schedule replays byte for byte and shrinks; shards
 * partition an exploration; the exhaustive search completes; the text trace
 * converts to Chrome trace-event JSON. The other scenarios' explorations are
 * tested in tests/scenarios/test_sN.c; 100,000-schedule runs of the right
 * settings are in test_explore_long (label long).
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

#include "support/explore_test.h"

static struct mmn_explore_stats explore(const char *id, bool wrong, enum mmn_explore_strategy s,
					unsigned long runs, bool keep_going, struct first_found *x)
{
	struct mmn_scenario_params p = setting_params(wrong, NULL);
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = s;
	c.runs = runs;
	c.keep_going = keep_going;
	c.found = x ? keep_first_found : NULL;
	c.arg = x;
	assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
	return st;
}

static void test_strategy_names_round_trip(void **state)
{
	(void)state;
	for (int s = MMN_EXPLORE_RANDOM; s <= MMN_EXPLORE_DPOR; s++)
		assert_int_equal(mmn_explore_strategy_by_name(
					 mmn_explore_strategy_name((enum mmn_explore_strategy)s)),
				 s);
	assert_string_equal(mmn_explore_strategy_name(MMN_EXPLORE_DPOR), "dpor");
	assert_null(mmn_explore_strategy_name((enum mmn_explore_strategy)4));
	assert_int_equal(mmn_explore_strategy_by_name("dfs"), -ENOENT);
	assert_int_equal(mmn_explore_strategy_by_name(NULL), -ENOENT);
}

static void test_bad_arguments_are_refused(void **state)
{
	struct mmn_scenario_params bad_variant = { .variant = 99 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	(void)state;
	mmn_explore_config_init(&c);
	c.runs = 3;
	assert_int_equal(mmn_scenario_explore(NULL, NULL, &c, &st), -EINVAL);
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, NULL), -EINVAL);
	assert_int_equal(mmn_scenario_explore("S0", NULL, &c, &st), -ENOENT);
	assert_int_equal(mmn_scenario_explore("S1", &bad_variant, &c, &st), -EINVAL);
	c.shards = 2;
	c.shard = 2;
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), -EINVAL);
	c.shards = 0;
	c.shard = 0;
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), -EINVAL);
	c.shards = 1;
	c.runs = 0;
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), -EINVAL);
	c.runs = 3;
	c.strategy = MMN_EXPLORE_EXHAUSTIVE;
	c.shards = 2;
	c.shard_depth = 0; /* a sharded search needs subtrees */
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), -EINVAL);
	c.strategy = MMN_EXPLORE_DPOR;
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), -EINVAL);
	c.strategy = (enum mmn_explore_strategy)4;
	c.shards = 1;
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), -EINVAL);
}

/* S1 wrong: the use-after-free shows in the trace of the schedule found. */
static void check_s1_found(enum mmn_explore_strategy s)
{
	struct first_found x = { 0 };
	struct mmn_explore_stats st = explore("S1", true, s, 5000, false, &x);

	assert_int_equal(st.violating, 1);
	assert_int_equal(x.calls, 1);
	assert_int_equal(st.first_index, x.index);
	assert_int_equal(st.schedules, x.index + 1); /* stopped at the first */
	assert_true(st.by_kind[MMN_VIOL_USE_AFTER_FREE] > 0);
	assert_true(x.run.r.by_kind[MMN_VIOL_USE_AFTER_FREE] > 0);
	assert_true(x.run.n > 0);
	assert_non_null(strstr(x.run.trace, "violation        use_after_free"));
	if (s == MMN_EXPLORE_PCT)
		assert_true(x.sc.pct_steps > 1); /* measured, not the default 0 */
	first_found_free(&x);
}

static void test_s1_wrong_found_by_pct(void **state)
{
	(void)state;
	check_s1_found(MMN_EXPLORE_PCT);
}

static void test_s1_wrong_found_by_random(void **state)
{
	(void)state;
	check_s1_found(MMN_EXPLORE_RANDOM);
}

static void test_s1_right_never_violates(void **state)
{
	(void)state;
	explore_both_find_nothing("S1", setting_params(false, NULL), SCALE(1500), SCALE(1500));
}

/* Replay @choices of @id (wrong) into @c (to free): whether it violates. */
static bool replay_violates(const char *id, const uint32_t *choices, size_t n,
			    struct run_capture *c)
{
	struct mmn_scenario_params wrong = setting_params(true, NULL);

	replay_captured(id, &wrong, choices, n, c);
	return mmn_explore_violating(mmn_scenario_by_id(id), &wrong, &c->r);
}

static void test_found_schedule_replays_byte_for_byte(void **state)
{
	struct first_found x = { 0 };
	struct run_capture c;

	(void)state;
	explore("S1", true, MMN_EXPLORE_PCT, 5000, false, &x);
	assert_int_equal(x.calls, 1);
	assert_true(replay_violates("S1", x.run.choices, x.run.n, &c));
	assert_int_equal(strlen(c.trace), x.run.len);
	assert_memory_equal(c.trace, x.run.trace, x.run.len);
	run_capture_free(&c);
	first_found_free(&x);
}

static void test_shrunk_schedule_is_no_longer_and_still_violates(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct first_found x = { 0 };
	struct run_capture c;
	uint32_t *out;
	long n;

	(void)state;
	explore("S1", true, MMN_EXPLORE_RANDOM, 5000, false, &x);
	assert_int_equal(x.calls, 1);
	out = calloc(x.run.n, sizeof(*out));
	assert_non_null(out);
	n = mmn_scenario_shrink("S1", &p, 0, x.run.choices, x.run.n, out, 0);
	assert_true(n >= 0);
	assert_true((size_t)n <= x.run.n);
	assert_true(replay_violates("S1", out, (size_t)n, &c));
	run_capture_free(&c);
	assert_int_equal(mmn_scenario_shrink("S0", &p, 0, x.run.choices, x.run.n, out, 0), -ENOENT);
	assert_int_equal(mmn_scenario_shrink("S1", &p, 0, x.run.choices, x.run.n, NULL, 0), -EINVAL);
	free(out);
	first_found_free(&x);
}

/* Shards of one exploration run exactly its schedules: their sums match. */
static void test_shards_partition_the_schedules(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats all, sh, sum = { .first_index = ULONG_MAX };
	const unsigned long runs = 120;

	(void)state;
	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_PCT; /* finds S1 within ~30 schedules */
	c.runs = runs;
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore("S1", &p, &c, &all), 0);
	assert_int_equal(all.schedules, runs);
	assert_true(all.violating > 0);
	c.shards = 3;
	for (c.shard = 0; c.shard < 3; c.shard++) {
		assert_int_equal(mmn_scenario_explore("S1", &p, &c, &sh), 0);
		sum.schedules += sh.schedules;
		sum.violating += sh.violating;
		sum.steps += sh.steps;
		if (sh.violating && sh.first_index < sum.first_index)
			sum.first_index = sh.first_index;
		for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
			sum.by_kind[k] += sh.by_kind[k];
	}
	assert_int_equal(sum.schedules, all.schedules);
	assert_int_equal(sum.violating, all.violating);
	assert_int_equal(sum.steps, all.steps);
	assert_int_equal(sum.first_index, all.first_index);
	assert_memory_equal(sum.by_kind, all.by_kind, sizeof(all.by_kind));
}

static void test_s8_deadlock_found_with_its_cycle(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	struct first_found x = { 0 };

	(void)state;
	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_RANDOM;
	c.runs = 200;
	c.keep_going = true;
	c.found = keep_first_found;
	c.arg = &x;
	assert_int_equal(mmn_scenario_explore("S8", &p, &c, &st), 0);
	assert_int_equal(st.violating, 200); /* lockdep's order report in each */
	assert_true(st.by_kind[MMN_VIOL_LOCK_ORDER] >= 200);
	assert_true(st.deadlocks > 0 && st.deadlocks < 200); /* only crossing schedules */
	assert_int_equal(st.by_kind[MMN_VIOL_DEADLOCK], st.deadlocks);
	assert_int_equal(st.budgets, 0);
	first_found_free(&x);
	/* A deadlocking schedule's trace names the cycle. */
	for (unsigned long seed = 1; !x.calls || !strstr(x.run.trace, "wait-for cycle"); seed++) {
		assert_true(seed < 200);
		first_found_free(&x);
		c.seed = seed;
		c.runs = 1;
		assert_int_equal(mmn_scenario_explore("S8", &p, &c, &st), 0);
	}
	assert_non_null(strstr(x.run.trace, "deadlock"));
	assert_non_null(strstr(x.run.trace, "driver_lock"));
	assert_non_null(strstr(x.run.trace, "mmap_lock"));
	first_found_free(&x);
}

static void test_s8_right_never_deadlocks(void **state)
{
	(void)state;
	explore_both_find_nothing("S8", setting_params(false, NULL), SCALE(1000), SCALE(1000));
}

static void test_exhaustive_search_completes(void **state)
{
	struct mmn_explore_stats right, wrong;

	(void)state;
	right = explore("S8", false, MMN_EXPLORE_EXHAUSTIVE, 100000, true, NULL);
	assert_true(right.complete);
	assert_true(right.schedules > 10);
	assert_int_equal(right.violating + right.deadlocks, 0);
	wrong = explore("S8", true, MMN_EXPLORE_EXHAUSTIVE, 100000, true, NULL);
	assert_true(wrong.complete);
	assert_int_equal(wrong.violating, wrong.schedules);
	assert_true(wrong.deadlocks > 0);
	/* A cap below the enumeration's size leaves it incomplete. */
	wrong = explore("S8", false, MMN_EXPLORE_EXHAUSTIVE, 3, true, NULL);
	assert_int_equal(wrong.schedules, 3);
	assert_false(wrong.complete);
}

static bool stop_at_ten(const struct mmn_explore_stats *st, void *arg)
{
	(void)arg;
	return st->schedules < 10;
}

static void test_progress_callback_can_stop(void **state)
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	(void)state;
	mmn_explore_config_init(&c);
	c.runs = 1000;
	c.progress_every = 5;
	c.progress = stop_at_ten;
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), 0);
	assert_int_equal(st.schedules, 10);
	assert_true(st.real_ns > 0);
	assert_true(st.modelled_ns > 0); /* the IOMMU's and the CPU's flushes */
}

/* An exploration sums the scenario's counters (what a count scenario
 * measures): S5's teardowns only under its wrong (event-blind) setting. */
static void test_exploration_sums_the_scenario_counters(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats wrong, right;
	uint64_t tw = UINT64_MAX, tr = UINT64_MAX;

	(void)state;
	mmn_explore_config_init(&c);
	c.runs = 20;
	c.keep_going = true;
	c.trace = false;
	p.wrong = true;
	assert_int_equal(mmn_scenario_explore("S5", &p, &c, &wrong), 0);
	p.wrong = false;
	assert_int_equal(mmn_scenario_explore("S5", &p, &c, &right), 0);
	assert_true(wrong.nr_counters > 0);
	for (int i = 0; i < wrong.nr_counters; i++)
		if (!strcmp(wrong.counter_name[i], "teardowns"))
			tw = wrong.counters[i];
	for (int i = 0; i < right.nr_counters; i++)
		if (!strcmp(right.counter_name[i], "teardowns"))
			tr = right.counters[i];
	assert_true(tw > 0 && tw != UINT64_MAX);
	assert_int_equal(tr, 0);
}

static void test_stats_counters_add_up_and_refuse_a_ninth(void **state)
{
	struct mmn_explore_stats st = { 0 };
	char name[16];

	(void)state;
	assert_int_equal(mmn_explore_stats_add_counter(&st, "a", 2), 0);
	assert_int_equal(mmn_explore_stats_add_counter(&st, "a", 3), 0);
	assert_int_equal(st.nr_counters, 1);
	assert_int_equal(st.counters[0], 5);
	for (int i = 1; i < MMN_SCENARIO_MAX_COUNTERS; i++) {
		snprintf(name, sizeof(name), "c%d", i);
		assert_int_equal(mmn_explore_stats_add_counter(&st, name, 1), 0);
	}
	assert_int_equal(mmn_explore_stats_add_counter(&st, "one-too-many", 1), -ENOSPC);
	assert_int_equal(mmn_explore_stats_add_counter(&st, "a", 1), 0); /* known: still added */
	assert_int_equal(st.counters[0], 6);
	assert_int_equal(mmn_explore_stats_add_counter(NULL, "a", 1), -EINVAL);
	assert_int_equal(mmn_explore_stats_add_counter(&st, NULL, 1), -EINVAL);
}

static void test_trace_converts_to_chrome_json(void **state)
{
	struct first_found x = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	explore("S1", true, MMN_EXPLORE_PCT, 5000, false, &x);
	assert_int_equal(x.calls, 1);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(mmn_sched_trace_chrome(x.run.trace, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"traceEvents\":["));
	assert_non_null(strstr(buf, "\"thread_name\""));
	assert_non_null(strstr(buf, "\"name\":\"reclaimer\""));
	assert_non_null(strstr(buf, "\"ph\":\"X\""));
	assert_non_null(strstr(buf, "use_after_free"));
	assert_string_equal(buf + len - 4, "\n]}\n");
	free(buf);
	first_found_free(&x);

	buf = NULL;
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(mmn_sched_trace_chrome("    12 main\n", f), -EINVAL);
	assert_int_equal(mmn_sched_trace_chrome(NULL, f), -EINVAL);
	fclose(f);
	free(buf);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strategy_names_round_trip),
		cmocka_unit_test(test_bad_arguments_are_refused),
		cmocka_unit_test(test_s1_wrong_found_by_pct),
		cmocka_unit_test(test_s1_wrong_found_by_random),
		cmocka_unit_test(test_s1_right_never_violates),
		cmocka_unit_test(test_found_schedule_replays_byte_for_byte),
		cmocka_unit_test(test_shrunk_schedule_is_no_longer_and_still_violates),
		cmocka_unit_test(test_shards_partition_the_schedules),
		cmocka_unit_test(test_s8_deadlock_found_with_its_cycle),
		cmocka_unit_test(test_s8_right_never_deadlocks),
		cmocka_unit_test(test_exhaustive_search_completes),
		cmocka_unit_test(test_progress_callback_can_stop),
		cmocka_unit_test(test_trace_converts_to_chrome_json),
		cmocka_unit_test(test_exploration_sums_the_scenario_counters),
		cmocka_unit_test(test_stats_counters_add_up_and_refuse_a_ninth),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
