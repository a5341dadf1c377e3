// SPDX-License-Identifier: MIT
/*
 * S2 (seed 001): KVM-style and IOMMU-style listeners under the same racing
 * workload. KVM's range check (in_progress over the gfn) retries the fault
 * that raced munmap's invalidation; the sequence-only check installs the page
 * being freed (the wrong setting). The AMDv2-style device re-faults while an
 * invalidation is open and starves when invalidations never stop; the SVA
 * device never re-faults. EXPLORE: the vCPU fault against DONTNEED (with
 * the AMDv2 device DMAing the page), no hand-placed race: random walk and
 * PCT find the sequence-only check's use-after-free, no schedule of the
 * range check violates, a found schedule replays byte for byte.
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
 * defaults: 2 rounds per actor), 20 seeds (seed 1000*k, k = 0..19) each:
 * random walk median 16-17, worst 110; PCT (depth 3) median 26-36, worst
 * 76. The bounds are 5x the worst. The schedules are the same in every
 * build (the deterministic backend does not depend on host timing).
 */
#define S2_RANDOM_FIRST_BOUND 550
#define S2_PCT_FIRST_BOUND 380

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S2", p, &r), 0);
	return r;
}

/* The IOMMU half, the same in both settings (seed 1). */
static void assert_iommu_seed1(const struct mmn_scenario_result *r)
{
	/* In the open munmap window: max_faults (8) requests, 7 re-faults. */
	assert_int_equal(counter(r, "window_dma_refaults"), 7);
	assert_int_equal(counter(r, "window_dma_give_ups"), 1);
	/* 60 DMAs against 200 back-to-back mprotect pairs. */
	assert_int_equal(counter(r, "amdv2_refaults"), 76);
	assert_int_equal(counter(r, "amdv2_ok"), 52);
	assert_int_equal(counter(r, "amdv2_give_ups"), 8);
	assert_int_equal(counter(r, "sva_refaults"), 0);
}

static void test_s2_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S2");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "001");
}

static void test_s2_right_range_check_is_safe(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.runs, 3);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "kvm_retries"), 1);
	assert_int_equal(counter(&r, "kvm_uaf_reads"), 0);
	assert_iommu_seed1(&r);
}

static void test_s2_wrong_seq_only_is_use_after_free(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(counter(&r, "kvm_retries"), 0);
	assert_int_equal(counter(&r, "kvm_uaf_reads"), 1);
	assert_int_equal(r.by_kind[MMN_VIOL_USE_AFTER_FREE], 1);
	/* The SPTE and the vCPU TLB entry both outlived the page. */
	assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], 2);
	assert_int_equal(r.violations, 3);
	assert_iommu_seed1(&r);
}

static void test_s2_starvation_measurable_on_other_seeds(void **state)
{
	(void)state;
	for (uint64_t seed = 2; seed <= 7; seed++) {
		struct mmn_scenario_params p = { .variant = -1, .seed = seed };
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_int_equal(r.violations, 0);
		assert_true(counter(&r, "amdv2_refaults") > 0);
		assert_true(counter(&r, "amdv2_ok") > 0);
		assert_int_equal(counter(&r, "sva_refaults"), 0);
	}
}

static void test_s2_defaults_are_the_right_setting(void **state)
{
	struct mmn_scenario_result r;

	(void)state;
	assert_int_equal(mmn_scenario_run("S2", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "kvm_retries"), 1);
}

static void test_s2_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .iterations = 800 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "sva_refaults"), 0);
	assert_int_equal(counter(&r, "amdv2_ok") + counter(&r, "amdv2_give_ups"), 201);

	p.wrong = true;
	r = run(&p);
	/* Real threads may or may not hit the KVM window: only sanity. */
	assert_int_equal(r.runs, 3);
	assert_int_equal(counter(&r, "sva_refaults"), 0);
	assert_int_equal(counter(&r, "amdv2_ok") + counter(&r, "amdv2_give_ups"), 201);
}

/* The sequence-only check's bug: the vCPU reads the page being freed. */
static const struct first_search s2_search = {
	.id = "S2",
	.kind = MMN_VIOL_USE_AFTER_FREE,
	.trace_point = "kvm_faultin_pfn:after_gup",
};

static void test_s2_explore_random_finds_seq_only_use_after_free(void **state)
{
	(void)state;
	assert_found_within(&s2_search, MMN_EXPLORE_RANDOM, 5, S2_RANDOM_FIRST_BOUND);
}

static void test_s2_explore_pct_finds_seq_only_use_after_free(void **state)
{
	(void)state;
	assert_found_within(&s2_search, MMN_EXPLORE_PCT, 5, S2_PCT_FIRST_BOUND);
}

/* The range check: no schedule violates, none deadlocks, every claim holds. */
static void test_s2_explore_random_range_check_never_violates(void **state)
{
	(void)state;
	explore_finds_nothing("S2", setting_params(false, NULL), MMN_EXPLORE_RANDOM, SCALE(2000));
}

static void test_s2_explore_pct_range_check_never_violates(void **state)
{
	(void)state;
	explore_finds_nothing("S2", setting_params(false, NULL), MMN_EXPLORE_PCT, SCALE(2000));
}

static void test_s2_explore_found_schedule_replays_byte_for_byte(void **state)
{
	struct mmn_scenario_result r;

	(void)state;
	r = found_schedule_replays(&s2_search, MMN_EXPLORE_RANDOM, 0, S2_RANDOM_FIRST_BOUND);
	assert_int_equal(counter(&r, "kvm_retries_in_progress"), 0);
}

static void test_s2_explore_range_check_retries_in_progress(void **state)
{
	unsigned long in_progress = 0, refaults = 0;

	(void)state;
	/* Seeded random schedules of the right setting, one at a time: some
	 * faults meet the invalidation in progress and retry; the device
	 * re-faults in some; none violates. */
	for (uint64_t seed = 1; seed <= 60; seed++) {
		struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_EXPLORE,
						 .seed = seed };
		struct mmn_scenario_result r;

		assert_int_equal(mmn_scenario_run("S2", &p, &r), 0);
		assert_true(r.claim_holds);
		assert_int_equal(r.violations, 0);
		assert_int_equal(r.runs, 1);
		assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
		assert_int_equal(counter(&r, "invalidations"), 2);
		in_progress += counter(&r, "kvm_retries_in_progress");
		refaults += counter(&r, "dma_refaults");
	}
	assert_true(in_progress > 0);
	assert_true(refaults > 0);
}

static void test_s2_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 17 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)3 };
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "0.1" };
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "nonsense" } };
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S2", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s2_registered),
		cmocka_unit_test(test_s2_right_range_check_is_safe),
		cmocka_unit_test(test_s2_wrong_seq_only_is_use_after_free),
		cmocka_unit_test(test_s2_starvation_measurable_on_other_seeds),
		cmocka_unit_test(test_s2_defaults_are_the_right_setting),
		cmocka_unit_test(test_s2_native_runs),
		cmocka_unit_test(test_s2_explore_random_finds_seq_only_use_after_free),
		cmocka_unit_test(test_s2_explore_pct_finds_seq_only_use_after_free),
		cmocka_unit_test(test_s2_explore_random_range_check_never_violates),
		cmocka_unit_test(test_s2_explore_pct_range_check_never_violates),
		cmocka_unit_test(test_s2_explore_found_schedule_replays_byte_for_byte),
		cmocka_unit_test(test_s2_explore_range_check_retries_in_progress),
		cmocka_unit_test(test_s2_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
