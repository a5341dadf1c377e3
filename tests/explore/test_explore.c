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

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SLOW_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SLOW_BUILD 1
#endif
#endif
#ifdef SLOW_BUILD
#define SCALE(n) ((n) / 4 ? (n) / 4 : 1)
#else
#define SCALE(n) (n)
#endif

/* The first violating schedule an exploration hands over. */
struct first {
	bool got;
	unsigned long index, calls;
	struct mmn_sched_config sc;
	uint32_t *choices;
	size_t n;
	char *trace;
	size_t trace_len;
	struct mmn_scenario_result r;
};

static bool keep_first(const struct mmn_explore_found *f, void *arg)
{
	struct first *x = arg;

	x->calls++;
	if (x->got)
		return true;
	x->got = true;
	x->index = f->index;
	x->sc = *f->sched;
	x->r = *f->result;
	x->n = f->nr_choices;
	x->choices = malloc((f->nr_choices + 1) * sizeof(*x->choices));
	assert_non_null(x->choices);
	memcpy(x->choices, f->choices, f->nr_choices * sizeof(*x->choices));
	x->trace = malloc(f->trace_len + 1);
	assert_non_null(x->trace);
	memcpy(x->trace, f->trace, f->trace_len + 1);
	x->trace_len = f->trace_len;
	return true;
}

static void first_free(struct first *x)
{
	free(x->choices);
	free(x->trace);
}

static struct mmn_explore_stats explore(const char *id, bool wrong, enum mmn_explore_strategy s,
					unsigned long runs, bool keep_going, struct first *x)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = s;
	c.runs = runs;
	c.keep_going = keep_going;
	c.found = x ? keep_first : NULL;
	c.arg = x;
	assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
	return st;
}

static void test_strategy_names_round_trip(void **state)
{
	(void)state;
	for (int s = MMN_EXPLORE_RANDOM; s <= MMN_EXPLORE_EXHAUSTIVE; s++)
		assert_int_equal(mmn_explore_strategy_by_name(
					 mmn_explore_strategy_name((enum mmn_explore_strategy)s)),
				 s);
	assert_null(mmn_explore_strategy_name((enum mmn_explore_strategy)3));
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
	assert_int_equal(mmn_scenario_explore("S1", NULL, &c, &st), -EOPNOTSUPP);
}

/* S1 wrong: the use-after-free shows in the trace of the schedule found. */
static void check_s1_found(enum mmn_explore_strategy s)
{
	struct first x = { 0 };
	struct mmn_explore_stats st = explore("S1", true, s, 5000, false, &x);

	assert_int_equal(st.violating, 1);
	assert_true(x.got);
	assert_int_equal(st.first_index, x.index);
	assert_int_equal(st.schedules, x.index + 1); /* stopped at the first */
	assert_true(st.by_kind[MMN_VIOL_USE_AFTER_FREE] > 0);
	assert_true(x.r.by_kind[MMN_VIOL_USE_AFTER_FREE] > 0);
	assert_true(x.n > 0);
	assert_non_null(strstr(x.trace, "violation        use_after_free"));
	if (s == MMN_EXPLORE_PCT)
		assert_true(x.sc.pct_steps > 1); /* measured, not the default 0 */
	first_free(&x);
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
	for (int s = MMN_EXPLORE_RANDOM; s <= MMN_EXPLORE_PCT; s++) {
		struct mmn_explore_stats st =
			explore("S1", false, (enum mmn_explore_strategy)s, SCALE(1500), false, NULL);

		assert_int_equal(st.schedules, SCALE(1500));
		assert_int_equal(st.violating, 0);
		assert_int_equal(st.deadlocks + st.budgets, 0);
		assert_int_equal(st.claims_held, st.schedules);
	}
}

struct captured {
	const struct mmn_scenario *s;
	const struct mmn_scenario_params *p;
	bool violating;
	char *trace;
};

static void capture_trace(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct captured *c = arg;

	c->violating = mmn_explore_violating(c->s, c->p, r);
	c->trace = strdup(mmn_sched_trace(sim, NULL));
}

/* Replay @choices of S-@id (wrong) and return its trace (to free). */
static struct captured replay(const char *id, const uint32_t *choices, size_t n)
{
	static struct mmn_scenario_params wrong = { .wrong = true, .variant = -1 };
	struct mmn_scenario_params p = wrong;
	struct mmn_sched_config sc;
	struct mmn_scenario_result r;
	struct captured c = { .s = mmn_scenario_by_id(id), .p = &wrong };

	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = choices;
	sc.replay_len = n;
	p.mode = MMN_SCENARIO_EXPLORE;
	p.sched = &sc;
	p.inspect = capture_trace;
	p.inspect_arg = &c;
	assert_int_equal(mmn_scenario_run(id, &p, &r), 0);
	assert_int_equal(r.sched.replay_misses, 0);
	assert_non_null(c.trace);
	return c;
}

static void test_found_schedule_replays_byte_for_byte(void **state)
{
	struct first x = { 0 };
	struct captured c;

	(void)state;
	explore("S1", true, MMN_EXPLORE_PCT, 5000, false, &x);
	assert_true(x.got);
	c = replay("S1", x.choices, x.n);
	assert_true(c.violating);
	assert_int_equal(strlen(c.trace), x.trace_len);
	assert_memory_equal(c.trace, x.trace, x.trace_len);
	free(c.trace);
	first_free(&x);
}

static void test_shrunk_schedule_is_no_longer_and_still_violates(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct first x = { 0 };
	struct captured c;
	uint32_t *out;
	long n;

	(void)state;
	explore("S1", true, MMN_EXPLORE_RANDOM, 5000, false, &x);
	assert_true(x.got);
	out = calloc(x.n, sizeof(*out));
	assert_non_null(out);
	n = mmn_scenario_shrink("S1", &p, 0, x.choices, x.n, out, 0);
	assert_true(n >= 0);
	assert_true((size_t)n <= x.n);
	c = replay("S1", out, (size_t)n);
	assert_true(c.violating);
	free(c.trace);
	assert_int_equal(mmn_scenario_shrink("S0", &p, 0, x.choices, x.n, out, 0), -ENOENT);
	assert_int_equal(mmn_scenario_shrink("S1", &p, 0, x.choices, x.n, NULL, 0), -EINVAL);
	free(out);
	first_free(&x);
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
	struct first x = { 0 };

	(void)state;
	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_RANDOM;
	c.runs = 200;
	c.keep_going = true;
	c.found = keep_first;
	c.arg = &x;
	assert_int_equal(mmn_scenario_explore("S8", &p, &c, &st), 0);
	assert_int_equal(st.violating, 200); /* lockdep's order report in each */
	assert_true(st.by_kind[MMN_VIOL_LOCK_ORDER] >= 200);
	assert_true(st.deadlocks > 0 && st.deadlocks < 200); /* only crossing schedules */
	assert_int_equal(st.by_kind[MMN_VIOL_DEADLOCK], st.deadlocks);
	assert_int_equal(st.budgets, 0);
	first_free(&x);
	/* A deadlocking schedule's trace names the cycle. */
	memset(&x, 0, sizeof(x));
	for (unsigned long seed = 1; !x.got || !strstr(x.trace, "wait-for cycle"); seed++) {
		assert_true(seed < 200);
		first_free(&x);
		memset(&x, 0, sizeof(x));
		c.seed = seed;
		c.runs = 1;
		assert_int_equal(mmn_scenario_explore("S8", &p, &c, &st), 0);
	}
	assert_non_null(strstr(x.trace, "deadlock"));
	assert_non_null(strstr(x.trace, "driver_lock"));
	assert_non_null(strstr(x.trace, "mmap_lock"));
	first_free(&x);
}

static void test_s8_right_never_deadlocks(void **state)
{
	(void)state;
	for (int s = MMN_EXPLORE_RANDOM; s <= MMN_EXPLORE_PCT; s++) {
		struct mmn_explore_stats st =
			explore("S8", false, (enum mmn_explore_strategy)s, SCALE(1000), false, NULL);

		assert_int_equal(st.violating + st.deadlocks + st.budgets, 0);
	}
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

static void test_trace_converts_to_chrome_json(void **state)
{
	struct first x = { 0 };
	char *buf = NULL;
	size_t len = 0;
	FILE *f;

	(void)state;
	explore("S1", true, MMN_EXPLORE_PCT, 5000, false, &x);
	assert_true(x.got);
	f = open_memstream(&buf, &len);
	assert_non_null(f);
	assert_int_equal(mmn_sched_trace_chrome(x.trace, f), 0);
	fclose(f);
	assert_non_null(strstr(buf, "\"traceEvents\":["));
	assert_non_null(strstr(buf, "\"thread_name\""));
	assert_non_null(strstr(buf, "\"name\":\"reclaimer\""));
	assert_non_null(strstr(buf, "\"ph\":\"X\""));
	assert_non_null(strstr(buf, "use_after_free"));
	assert_string_equal(buf + len - 4, "\n]}\n");
	free(buf);
	first_free(&x);

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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
