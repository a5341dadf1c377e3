// SPDX-License-Identifier: MIT
/*
 * S7 (users): valid flag versus interval sequence under start/end/start.
 * Both settings INTERLEAVED with exact counts, both NATIVE (bounded), both
 * EXPLORE (the device's fault loop against DONTNEED, no hand-placed race:
 * random walk and PCT find the flag's stale mapping, no schedule of the
 * sequence violates, a found schedule replays byte for byte), bad params.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/explore.h>
#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

#include "support/explore_test.h"
#include "support/scenario_test.h"

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

/* The flag's bug: the freed frame programmed, stale at the audit (a
 * use-after-free too if the device read it after the free). */
static const struct first_search s7_search = {
	.id = "S7",
	.kind = MMN_VIOL_STALE_TRANSLATION,
	.trace_point = "hmm_collected",
};

static void test_explore_random_finds_flag_stale_mapping(void **state)
{
	(void)state;
	/* seeds 0, 1000, 2000: first at 723, 1063, 63 */
	assert_found_within(&s7_search, MMN_EXPLORE_RANDOM, 3, S7_RANDOM_FIRST_BOUND);
}

static void test_explore_pct_finds_flag_stale_mapping(void **state)
{
	(void)state;
	assert_found_within(&s7_search, MMN_EXPLORE_PCT, 5, S7_PCT_FIRST_BOUND);
}

/* The sequence: no schedule violates, none deadlocks, every claim holds. */
static void test_explore_random_sequence_never_stale(void **state)
{
	(void)state;
	explore_finds_nothing("S7", setting_params(false, NULL), MMN_EXPLORE_RANDOM, SCALE(2000));
}

static void test_explore_pct_sequence_never_stale(void **state)
{
	(void)state;
	explore_finds_nothing("S7", setting_params(false, NULL), MMN_EXPLORE_PCT, SCALE(2000));
}

static void test_explore_found_schedule_replays_byte_for_byte(void **state)
{
	(void)state;
	found_schedule_replays(&s7_search, MMN_EXPLORE_PCT, 0, S7_PCT_FIRST_BOUND);
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
