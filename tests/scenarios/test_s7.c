/* SPDX-License-Identifier: MIT */
/*
 * S7 (users): valid flag versus interval sequence under start/end/start.
 * Both settings INTERLEAVED with exact counts, both NATIVE (bounded), both
 * EXPLORE (the device's fault loop against DONTNEED, no hand-placed race:
 * random walk and PCT find the flag's stale mapping, no schedule of the
 * sequence violates, a found schedule replays byte for byte), bad params.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/explore.h>
#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

#include "support/scenario_test.h"

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

/*
 * Schedules to the first violating one under the wrong setting (EXPLORE
 * defaults: 4 pages, 2 rounds per actor), 20 seeds (seed 1000*k, k =
 * 0..19) each: random walk median 387, worst 1075; PCT (depth 3) median 6,
 * worst 37. The bounds are 5x the worst. The schedules are the same in
 * every build (the deterministic backend does not depend on host timing).
 */
#define S7_RANDOM_FIRST_BOUND 5400
#define S7_PCT_FIRST_BOUND 185

static struct mmn_scenario_result run(bool wrong, enum mmn_scenario_mode mode)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1, .mode = mode };
	struct mmn_scenario_result r;

	if (mode == MMN_SCENARIO_NATIVE)
		p.iterations = 400;
	assert_int_equal(mmn_scenario_run("S7", &p, &r), 0);
	return r;
}

static void test_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S7");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "users");
}

static void test_wrong_flag_maps_freed_frames(void **state)
{
	struct mmn_scenario_result r = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.runs, 1);
	/* 4 stale entries programmed: 4 use-after-free reads, 4 stale at quiescence */
	assert_int_equal(r.by_kind[MMN_VIOL_USE_AFTER_FREE], 4);
	assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], 4);
	assert_int_equal(r.violations, 8);
	assert_int_equal(counter(&r, "uaf_reads"), 4);
	assert_int_equal(counter(&r, "stale_entries"), 4);
	assert_int_equal(counter(&r, "retries"), 0);
	assert_string_equal(r.profile, "latest");
	assert_non_null(strstr(r.setting, "valid_flag"));
}

static void test_right_sequence_retries(void **state)
{
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "uaf_reads"), 0);
	assert_int_equal(counter(&r, "stale_entries"), 0);
	assert_int_equal(counter(&r, "retries"), 1);
	assert_int_equal(counter(&r, "programmed"), 4);
	assert_non_null(strstr(r.setting, "sequence"));
}

static void test_reproducible(void **state)
{
	struct mmn_scenario_result a = run(true, MMN_SCENARIO_INTERLEAVED);
	struct mmn_scenario_result b = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_int_equal(a.violations, b.violations);
	assert_memory_equal(a.counters, b.counters, sizeof(a.counters));
}

static void test_pages_param(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1, .pages = 40 };
	struct mmn_scenario_result r;

	(void)state;
	/* the invalidation lands in the first 32-page chunk only */
	assert_int_equal(mmn_scenario_run("S7", &p, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(counter(&r, "uaf_reads"), 32);
	assert_int_equal(counter(&r, "stale_entries"), 32);
}

static void test_native_right_no_violation(void **state)
{
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_NATIVE);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_true(counter(&r, "fault_loops") > 0);
}

static void test_native_wrong_completes(void **state)
{
	struct mmn_scenario_result r = run(true, MMN_SCENARIO_NATIVE);

	(void)state;
	assert_int_equal(r.runs, 200);
	assert_true(counter(&r, "fault_loops") > 0);
	assert_true(counter(&r, "stale_entries") <= 64);
}

/* A found schedule, copied out of the explorer's callback. */
struct s7_found {
	unsigned long calls;
	unsigned long index;
	unsigned long uaf, stale;
	bool claim_holds;
	uint32_t *choices;
	size_t n;
	char *trace;
	size_t trace_len;
};

static bool s7_copy_found(const struct mmn_explore_found *f, void *arg)
{
	struct s7_found *c = arg;

	if (c->calls++)
		return false;
	c->index = f->index;
	c->uaf = f->result->by_kind[MMN_VIOL_USE_AFTER_FREE];
	c->stale = f->result->by_kind[MMN_VIOL_STALE_TRANSLATION];
	c->claim_holds = f->result->claim_holds;
	c->n = f->nr_choices;
	c->choices = malloc((f->nr_choices ? f->nr_choices : 1) * sizeof(*c->choices));
	c->trace = malloc(f->trace_len + 1);
	assert_non_null(c->choices);
	assert_non_null(c->trace);
	if (f->nr_choices)
		memcpy(c->choices, f->choices, f->nr_choices * sizeof(*c->choices));
	memcpy(c->trace, f->trace, f->trace_len);
	c->trace[f->trace_len] = '\0';
	c->trace_len = f->trace_len;
	return false;
}

static void s7_found_free(struct s7_found *c)
{
	free(c->choices);
	free(c->trace);
	memset(c, 0, sizeof(*c));
}

/* Explore the flag mirror from @seed until the first violating schedule. */
static struct mmn_explore_stats s7_find(enum mmn_explore_strategy strategy, uint64_t seed,
					unsigned long runs, struct s7_found *found)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.seed = seed;
	c.runs = runs;
	c.found = s7_copy_found;
	c.arg = found;
	assert_int_equal(mmn_scenario_explore("S7", &p, &c, &st), 0);
	return st;
}

static void s7_assert_found_within(enum mmn_explore_strategy strategy, uint64_t nr_seeds,
				   unsigned long bound)
{
	for (uint64_t k = 0; k < nr_seeds; k++) {
		struct s7_found f = { 0 };
		struct mmn_explore_stats st = s7_find(strategy, 1000 * k, bound, &f);

		assert_int_equal(st.violating, 1);
		assert_true(st.first_index < bound);
		assert_int_equal(st.schedules, st.first_index + 1);
		assert_int_equal(st.deadlocks, 0);
		assert_int_equal(st.budgets, 0);
		assert_int_equal(f.calls, 1);
		assert_int_equal(f.index, st.first_index);
		/* the freed frame programmed: stale at the audit, a
		 * use-after-free if the device read it after the free */
		assert_true(f.stale > 0);
		assert_true(f.claim_holds);
		assert_true(f.trace_len > 0);
		assert_non_null(strstr(f.trace, "hmm_collected"));
		s7_found_free(&f);
	}
}

static void test_explore_random_finds_flag_stale_mapping(void **state)
{
	(void)state;
	/* seeds 0, 1000, 2000: first at 723, 1063, 63 */
	s7_assert_found_within(MMN_EXPLORE_RANDOM, 3, S7_RANDOM_FIRST_BOUND);
}

static void test_explore_pct_finds_flag_stale_mapping(void **state)
{
	(void)state;
	s7_assert_found_within(MMN_EXPLORE_PCT, 5, S7_PCT_FIRST_BOUND);
}

/* The sequence: no schedule violates, none deadlocks, every claim holds. */
static void s7_assert_right_clean(enum mmn_explore_strategy strategy, unsigned long runs)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.runs = runs;
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore("S7", &p, &c, &st), 0);
	assert_int_equal(st.schedules, runs);
	assert_int_equal(st.violating, 0);
	assert_int_equal(st.first_index, ULONG_MAX);
	assert_int_equal(st.deadlocks, 0);
	assert_int_equal(st.budgets, 0);
	assert_int_equal(st.claims_held, runs);
}

static void test_explore_random_sequence_never_stale(void **state)
{
	(void)state;
	s7_assert_right_clean(MMN_EXPLORE_RANDOM, SCALE(2000));
}

static void test_explore_pct_sequence_never_stale(void **state)
{
	(void)state;
	s7_assert_right_clean(MMN_EXPLORE_PCT, SCALE(2000));
}

/* The replay's own trace and result, read before the simulation goes. */
struct s7_replay {
	char *trace;
	size_t len;
	unsigned long stale;
	unsigned long calls;
};

static void s7_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct s7_replay *rp = arg;
	const char *t = mmn_sched_trace(sim, &rp->len);

	rp->calls++;
	rp->stale = r->by_kind[MMN_VIOL_STALE_TRANSLATION];
	rp->trace = malloc(rp->len + 1);
	assert_non_null(rp->trace);
	memcpy(rp->trace, t, rp->len + 1);
}

static void test_explore_found_schedule_replays_byte_for_byte(void **state)
{
	struct s7_found f = { 0 };
	struct mmn_explore_stats st = s7_find(MMN_EXPLORE_PCT, 0, S7_PCT_FIRST_BOUND, &f);
	struct s7_replay rp = { 0 };
	struct mmn_sched_config sc;
	struct mmn_scenario_params p = { .wrong = true, .variant = -1,
					 .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	assert_int_equal(st.violating, 1);
	assert_true(f.n > 0);
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = f.choices;
	sc.replay_len = f.n;
	p.sched = &sc;
	p.inspect = s7_inspect;
	p.inspect_arg = &rp;
	assert_int_equal(mmn_scenario_run("S7", &p, &r), 0);
	assert_int_equal(rp.calls, 1);
	assert_int_equal(r.sched.replay_misses, 0);
	assert_int_equal(r.sched.choices, f.n);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_true(r.claim_holds);
	assert_int_equal(r.by_kind[MMN_VIOL_USE_AFTER_FREE], f.uaf);
	assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], f.stale);
	assert_int_equal(rp.stale, f.stale);
	assert_int_equal(rp.len, f.trace_len);
	assert_memory_equal(rp.trace, f.trace, f.trace_len);
	free(rp.trace);
	s7_found_free(&f);
}

static void test_explore_default_schedule_is_clean(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1,
					 .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;
	struct mmn_sched_config sc;

	(void)state;
	/* The non-preemptive schedule (replay of an empty list: the device
	 * runs its reads through, then the operator) misses the race. */
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = NULL;
	sc.replay_len = 0;
	p.sched = &sc;
	assert_int_equal(mmn_scenario_run("S7", &p, &r), 0);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_int_equal(r.violations, 0);
	assert_false(r.claim_holds);
	assert_int_equal(r.runs, 1);
	assert_int_equal(counter(&r, "fault_loops"), 1);
	assert_int_equal(counter(&r, "programmed"), 4);
	/* seeded random schedule of the sequence mirror: clean */
	p.wrong = false;
	p.sched = NULL;
	p.seed = 5;
	assert_int_equal(mmn_scenario_run("S7", &p, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_true(counter(&r, "fault_loops") >= 1);
}

static void test_bad_params(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	assert_int_equal(mmn_scenario_run("S7", &p, NULL), -EINVAL);
	p.pages = 65;
	assert_int_equal(mmn_scenario_run("S7", &p, &r), -EINVAL);
	p.pages = 0;
	p.variant = 3;
	assert_int_equal(mmn_scenario_run("S7", &p, &r), -EINVAL);
	p.variant = -1;
	p.mode = (enum mmn_scenario_mode)7;
	assert_int_equal(mmn_scenario_run("S7", &p, &r), -EINVAL);
	p.mode = MMN_SCENARIO_INTERLEAVED;
	p.profile = "no-such";
	assert_int_equal(mmn_scenario_run("S7", &p, &r), -EINVAL);
	p.profile = NULL;
	p.knobs[0] = "garbage";
	assert_int_equal(mmn_scenario_run("S7", &p, &r), -EINVAL);
	/* NULL params: defaults, the right setting */
	assert_int_equal(mmn_scenario_run("S7", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_wrong_flag_maps_freed_frames),
		cmocka_unit_test(test_right_sequence_retries),
		cmocka_unit_test(test_reproducible),
		cmocka_unit_test(test_pages_param),
		cmocka_unit_test(test_native_right_no_violation),
		cmocka_unit_test(test_native_wrong_completes),
		cmocka_unit_test(test_explore_random_finds_flag_stale_mapping),
		cmocka_unit_test(test_explore_pct_finds_flag_stale_mapping),
		cmocka_unit_test(test_explore_random_sequence_never_stale),
		cmocka_unit_test(test_explore_pct_sequence_never_stale),
		cmocka_unit_test(test_explore_found_schedule_replays_byte_for_byte),
		cmocka_unit_test(test_explore_default_schedule_is_clean),
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
