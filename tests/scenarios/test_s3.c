// SPDX-License-Identifier: MIT
/*
 * S3 (seed 001): KSM's write_protect_page() (mm/ksm.c 4.15-6.5, commit
 * 0f10851ea475) flushes the CPU TLB under the PTL but the secondary TLB
 * only from invalidate_range_end(), after the PTL drop. In that window a
 * CPU store copies the page (wp_page_copy()) and an IOMMU-style device
 * stores through its still-writable IOTLB entry into the old page: a lost
 * write. Wrong = the profile as it is (window in 4.15, 5.2, 5.14, 6.5; none
 * in 4.13 with ptep_clear_flush_notify(), none in 6.6+ with the flush inside
 * the CPU flush); right = ksm_secflush_at_end=false. EXPLORE finds it with
 * PCT under each 4.15-6.5 profile and never under 6.6+ (the 100,000-schedule
 * run is test_fixed_long, label long); a found schedule replays.
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
 * Schedules to the first violating one under the wrong setting (6.5), PCT
 * depth 3, seeds 1000*k for k = 0..9: offsets 214-1388 from the seed,
 * global index at most 3372. The bound is about 3x the worst.
 */
#define S3_PCT_FIRST_BOUND 10000
#define S3_CPU_VALUE 0xc0UL

static const char *const window_profiles[] = { "4.15", "5.2", "5.14", "6.5" };
static const char *const no_window_profiles[] = { "4.13", "6.6", "6.10", "latest" };

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S3", p, &r), 0);
	return r;
}

static void test_s3_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S3");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "001");
}

/* 4.15-6.5 write_protect_page(): the device store between the CPU's copy
 * and the secondary flush of end is lost. */
static void test_s3_ksm_window_loses_device_write_4_15_to_6_5(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(window_profiles) / sizeof(window_profiles[0]); i++) {
		struct mmn_scenario_params p = setting_params(true, window_profiles[i]);
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_string_equal(r.profile, window_profiles[i]);
		assert_non_null(strstr(r.setting, "ksm_secflush_at_end=true"));
		assert_int_equal(r.by_kind[MMN_VIOL_LOST_WRITE], 1);
		assert_int_equal(r.violations, 1);
		assert_int_equal(counter(&r, "window_entered"), 1);
		assert_int_equal(counter(&r, "dma_ok"), 1); /* through the stale entry */
		assert_int_equal(counter(&r, "cpu_read_after"), S3_CPU_VALUE);
		assert_int_equal(counter(&r, "merges"), 0); /* the copy broke the merge */
	}
}

/* 4.13 (ptep_clear_flush_notify() under the PTL) and 6.6+ (the flush inside
 * ptep_clear_flush()): the device's entry is gone before the CPU can fault,
 * its store is refused; the wrong setting's claim cannot hold there. */
static void test_s3_no_window_in_4_13_and_6_6_plus(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(no_window_profiles) / sizeof(no_window_profiles[0]); i++) {
		struct mmn_scenario_params p = setting_params(true, no_window_profiles[i]);
		struct mmn_scenario_result r = run(&p);

		assert_false(r.claim_holds);
		assert_int_equal(r.violations, 0);
		assert_int_equal(counter(&r, "window_entered"), 1);
		assert_int_equal(counter(&r, "dma_ok"), 0);
		assert_int_equal(counter(&r, "dma_refused"), 1);
		assert_int_equal(counter(&r, "cpu_read_after"), S3_CPU_VALUE);
	}
}

/* The knob decides within one profile: 6.5 with ksm_secflush_at_end=false
 * (the 4.12-4.14 call site) is clean; the default run is that setting. */
static void test_s3_right_knob_flushes_under_the_ptl(void **state)
{
	struct mmn_scenario_params p = setting_params(false, NULL);
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "6.5");
	assert_non_null(strstr(r.setting, "ksm_secflush_at_end=false"));
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "dma_ok"), 0);
	assert_int_equal(counter(&r, "dma_refused"), 1);
	assert_int_equal(mmn_scenario_run("S3", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
}

/* NATIVE: real threads rarely meet the window; the right setting never
 * loses a write, the wrong one shows nothing but lost writes. */
static void test_s3_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .iterations = 200 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 200);
	assert_int_equal(counter(&r, "cpu_stores"), 200);
	assert_int_equal(counter(&r, "dma_ok") + counter(&r, "dma_refused"), 400);
	p.wrong = true;
	r = run(&p);
	assert_int_equal(r.runs, 200);
	assert_int_equal(r.violations, r.by_kind[MMN_VIOL_LOST_WRITE]);
}

static void test_s3_explore_one_schedule_defaults(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 1);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_true(r.sched.actors >= 3);
	assert_int_equal(counter(&r, "cpu_stores"), 1);
	assert_int_equal(counter(&r, "dma_ok") + counter(&r, "dma_refused"), 2);
}

/* The lost write of the KSM window. */
static struct first_search s3_search = {
	.id = "S3",
	.kind = MMN_VIOL_LOST_WRITE,
	.trace_point = "ksmd",
};

/* PCT finds it under 6.5 from 5 seeds, and from seed 0 under each of
 * 4.15, 5.2 and 5.14. */
static void test_s3_explore_pct_finds_lost_write_4_15_to_6_5(void **state)
{
	(void)state;
	assert_found_within(&s3_search, MMN_EXPLORE_PCT, 5, S3_PCT_FIRST_BOUND);
	for (size_t i = 0; i + 1 < sizeof(window_profiles) / sizeof(window_profiles[0]); i++) {
		struct first_search s = s3_search;

		s.profile = window_profiles[i];
		assert_found_within(&s, MMN_EXPLORE_PCT, 1, S3_PCT_FIRST_BOUND);
	}
}

/*
 * @wrong setting under @profile: no violating schedule (the wrong setting:
 * no lost write; the right one: no violation at all) in @runs random and
 * @runs PCT schedules, none deadlocked or over budget. (Not
 * explore_finds_nothing(): a schedule where the CPU store comes first
 * flushes nothing, so a random walk may model no time at all.)
 */
static void explore_silent(bool wrong, const char *profile, unsigned long runs)
{
	for (int s = MMN_EXPLORE_RANDOM; s <= MMN_EXPLORE_PCT; s++) {
		struct mmn_scenario_params p = setting_params(wrong, profile);
		struct mmn_explore_config c;
		struct mmn_explore_stats st;

		mmn_explore_config_init(&c);
		c.strategy = (enum mmn_explore_strategy)s;
		c.runs = runs;
		c.keep_going = true;
		c.trace = false;
		assert_int_equal(mmn_scenario_explore("S3", &p, &c, &st), 0);
		assert_int_equal(st.schedules, runs);
		assert_int_equal(st.violating + st.deadlocks + st.budgets, 0);
		assert_true(st.steps > runs);
		if (!wrong)
			assert_int_equal(st.claims_held, runs);
	}
}

/* 6.6+ and 4.13: never, in either setting. */
static void test_s3_explore_4_13_and_6_6_plus_never_lose_a_write(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof(no_window_profiles) / sizeof(no_window_profiles[0]); i++) {
		explore_silent(true, no_window_profiles[i], SCALE(2000));
		explore_silent(false, no_window_profiles[i], SCALE(1000));
	}
}

static void test_s3_explore_right_knob_never_loses_a_write(void **state)
{
	(void)state;
	explore_silent(false, NULL, SCALE(3000));
}

static void test_s3_explore_replay_reproduces_violation_and_trace(void **state)
{
	(void)state;
	found_schedule_replays(&s3_search, MMN_EXPLORE_PCT, 0, S3_PCT_FIRST_BOUND);
}

static void test_s3_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 3 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .pages = 2 };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)7 };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "2.6" };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "ksm_secflush_at_end" } };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S3", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_registered),
		cmocka_unit_test(test_s3_ksm_window_loses_device_write_4_15_to_6_5),
		cmocka_unit_test(test_s3_no_window_in_4_13_and_6_6_plus),
		cmocka_unit_test(test_s3_right_knob_flushes_under_the_ptl),
		cmocka_unit_test(test_s3_native_runs),
		cmocka_unit_test(test_s3_explore_one_schedule_defaults),
		cmocka_unit_test(test_s3_explore_pct_finds_lost_write_4_15_to_6_5),
		cmocka_unit_test(test_s3_explore_4_13_and_6_6_plus_never_lose_a_write),
		cmocka_unit_test(test_s3_explore_right_knob_never_loses_a_write),
		cmocka_unit_test(test_s3_explore_replay_reproduces_violation_and_trace),
		cmocka_unit_test(test_s3_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
