// SPDX-License-Identifier: MIT
/*
 * S3 (seed 001): the hugetlb protection change, an only_end path whose call
 * site does not flush secondary TLBs (profile 6.5), with the IOMMU-style
 * listener. Wrong (only_end_skips_flush=true): the device keeps writable
 * IOTLB/ATC entries of read-only memory (stale at quiescence) and writes
 * through them. Right (only_end_skips_flush=false, or latest): none.
 * EXPLORE: a device writing and an mprotect(PROT_READ), no hand-placed
 * order: the explorer finds the stale entry under the wrong setting with
 * random walk and PCT, never under the right one, and a found schedule
 * replays to the same violation and the same trace.
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
 * Schedules to the first violating one under the wrong setting, 20 seeds
 * (seed 1000*k, k = 0..19) each: random walk worst 1 (median 0), PCT
 * worst 3 (median 0). The bounds are 5x the worst.
 */
#define S3_RANDOM_FIRST_BOUND 5
#define S3_PCT_FIRST_BOUND 15
/* Schedules a search may run. */
#define S3_SEARCH_RUNS 2000

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

static void test_s3_wrong_only_end_skip_leaves_stale_iotlb(void **state)
{
	(void)state;
	for (unsigned long n = 1; n <= 4; n *= 2) {
		struct mmn_scenario_params p = { .wrong = true, .variant = -1, .pages = n };
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_string_equal(r.profile, "6.5");
		/* One IOTLB and one ATC entry per huge page. */
		assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], 2 * n);
		assert_int_equal(r.violations, 2 * n);
		assert_int_equal(counter(&r, "stale_after_mprotect"), 2 * n);
		assert_int_equal(counter(&r, "dma_writes_to_read_only"), n);
		assert_int_equal(counter(&r, "iommu_flushes"), 0);
	}
}

static void test_s3_right_end_flushes(void **state)
{
	(void)state;
	for (unsigned long n = 1; n <= 4; n *= 2) {
		struct mmn_scenario_params p = { .variant = -1, .pages = n };
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_int_equal(r.violations, 0);
		assert_int_equal(counter(&r, "stale_after_mprotect"), 0);
		assert_int_equal(counter(&r, "dma_writes_to_read_only"), 0);
		assert_int_equal(counter(&r, "iommu_flushes"), 1);
		assert_int_equal(counter(&r, "entries_flushed"), 2 * n);
	}
}

static void test_s3_right_latest_flushes_with_the_cpu(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .profile = "latest" };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "latest");
	assert_int_equal(r.violations, 0);
	/* The skip has nothing to skip in latest: the flush is the CPU's. */
	p.wrong = true;
	r = run(&p);
	assert_int_equal(r.violations, 0);
	assert_false(r.claim_holds);
	assert_int_equal(mmn_scenario_run("S3", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
}

static void test_s3_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .pages = 2, .iterations = 500 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "prot_changes"), 502);
	assert_int_equal(counter(&r, "stale_at_end"), 0);

	p.wrong = true;
	r = run(&p);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "prot_changes"), 502);
	/* The last write then the final mprotect leave the same entries. */
	assert_true(counter(&r, "stale_at_end") >= 2);
	assert_true(r.claim_holds);
	assert_true(r.violations >= counter(&r, "stale_at_end"));
}

/* The skipped flush: writable IOTLB/ATC entries of read-only memory. */
static const struct first_search s3_search = {
	.id = "S3",
	.runs = S3_SEARCH_RUNS,
	.kind = MMN_VIOL_STALE_TRANSLATION,
};

static void test_s3_explore_random_finds_stale_iotlb(void **state)
{
	(void)state;
	assert_found_within(&s3_search, MMN_EXPLORE_RANDOM, 5, S3_RANDOM_FIRST_BOUND);
}

static void test_s3_explore_pct_finds_stale_iotlb(void **state)
{
	(void)state;
	assert_found_within(&s3_search, MMN_EXPLORE_PCT, 5, S3_PCT_FIRST_BOUND);
}

/* The right setting: no schedule violates, none deadlocks, every claim holds. */
static void test_s3_explore_right_end_flush_never_stale_random(void **state)
{
	(void)state;
	explore_finds_nothing("S3", setting_params(false, NULL), MMN_EXPLORE_RANDOM, SCALE(3000));
}

static void test_s3_explore_right_end_flush_never_stale_pct(void **state)
{
	(void)state;
	explore_finds_nothing("S3", setting_params(false, NULL), MMN_EXPLORE_PCT, SCALE(3000));
}

static void test_s3_explore_right_latest_never_stale(void **state)
{
	(void)state;
	explore_both_find_nothing("S3", setting_params(false, "latest"), SCALE(1000), SCALE(1000));
}

static void test_s3_explore_replay_reproduces_violation_and_trace(void **state)
{
	(void)state;
	/* PCT: a schedule with preemptions, so the list says something. */
	found_schedule_replays(&s3_search, MMN_EXPLORE_PCT, 2000, S3_SEARCH_RUNS);
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
	assert_int_equal(counter(&r, "prot_changes"), 1);
	assert_int_equal(counter(&r, "stale_at_end"), 0);
	assert_int_equal(counter(&r, "dma_writes_to_read_only"), 0);
	assert_int_equal(counter(&r, "dma_ok") + counter(&r, "dma_no_translation"), 2);
	assert_true(r.modelled_ns > 0);
}

static void test_s3_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 3 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .pages = 5 };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)7 };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "2.6" };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "only_end_skips_flush" } };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S3", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_registered),
		cmocka_unit_test(test_s3_wrong_only_end_skip_leaves_stale_iotlb),
		cmocka_unit_test(test_s3_right_end_flushes),
		cmocka_unit_test(test_s3_right_latest_flushes_with_the_cpu),
		cmocka_unit_test(test_s3_native_runs),
		cmocka_unit_test(test_s3_explore_one_schedule_defaults),
		cmocka_unit_test(test_s3_explore_random_finds_stale_iotlb),
		cmocka_unit_test(test_s3_explore_pct_finds_stale_iotlb),
		cmocka_unit_test(test_s3_explore_right_end_flush_never_stale_random),
		cmocka_unit_test(test_s3_explore_right_end_flush_never_stale_pct),
		cmocka_unit_test(test_s3_explore_right_latest_never_stale),
		cmocka_unit_test(test_s3_explore_replay_reproduces_violation_and_trace),
		cmocka_unit_test(test_s3_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
