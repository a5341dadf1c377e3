// SPDX-License-Identifier: MIT
/*
 * S6 (seed 004): device-exclusive atomics restored by CPU access, seen by a
 * process-wide notifier; protection changes that notify without changing
 * the PTEs (mprotect after fork, NUMA hinting twice, soft-dirty twice):
 * false positives per operation and the mirror's needless teardowns. Both
 * settings INTERLEAVED with exact counts (latest and 6.10), NATIVE bounded,
 * bad params; EXPLORE: no violating schedule in either setting (random walk
 * and PCT), every exclusive entry restored with the process-wide notifier
 * seeing it in every schedule, the counters summed over schedules in the
 * seed's direction, and a replayed schedule byte for byte.
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

static struct mmn_scenario_result run_p(bool wrong, enum mmn_scenario_mode mode, const char *profile)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1, .mode = mode,
					 .profile = profile };
	struct mmn_scenario_result r;

	if (mode == MMN_SCENARIO_NATIVE)
		p.iterations = 400;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), 0);
	return r;
}

static void test_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S6");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "004");
	assert_int_equal(s->found_kinds, 0); /* a count scenario */
}

/* the false positives are the operations' own: the same for both mirrors */
static void assert_fp(const struct mmn_scenario_result *r)
{
	assert_int_equal(counter(r, "fp_mprotect_cow"), 8);
	assert_int_equal(counter(r, "fp_numa"), 8);
	assert_int_equal(counter(r, "fp_soft_dirty"), 8);
	assert_int_equal(counter(r, "restores"), 8);
}

static void test_blind_latest(void **state)
{
	struct mmn_scenario_result r = run_p(true, MMN_SCENARIO_INTERLEAVED, NULL);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_string_equal(r.profile, "latest");
	assert_fp(&r);
	assert_int_equal(counter(&r, "restores_clear"), 8); /* latest: CLEAR */
	/* the blind mirror erases what the operation did not change; NUMA's
	 * second pass finds its entries gone already (the first erased them) */
	assert_int_equal(counter(&r, "zaps_mprotect_cow"), 8);
	assert_int_equal(counter(&r, "zaps_numa"), 0);
	assert_int_equal(counter(&r, "zaps_soft_dirty"), 8);
	assert_non_null(strstr(r.setting, "event_blind"));
}

static void test_aware_latest(void **state)
{
	struct mmn_scenario_result r = run_p(false, MMN_SCENARIO_INTERLEAVED, NULL);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_fp(&r);
	assert_int_equal(counter(&r, "restores_clear"), 8);
	/* 6.5+ define no mmu_notifier_range_update_to_read_only(): the aware
	 * mirror cannot tell mprotect(RW) from a change that removed access
	 * and erases (5.2-6.1 downgrade: test_aware_5_14_keeps_mprotect_entries) */
	assert_int_equal(counter(&r, "zaps_mprotect_cow"), 8);
	assert_int_equal(counter(&r, "zaps_numa"), 0);
	assert_int_equal(counter(&r, "zaps_soft_dirty"), 0);
}

/* 5.2-6.1: mmu_notifier_range_update_to_read_only() says the mprotect range
 * kept read access, the aware mirror keeps its (read-only) entries. */
static void test_aware_5_14_keeps_mprotect_entries(void **state)
{
	struct mmn_scenario_result r = run_p(false, MMN_SCENARIO_INTERLEAVED, "5.14");

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "zaps_mprotect_cow"), 0);
	assert_int_equal(counter(&r, "zaps_soft_dirty"), 0);
}

static void test_restore_exclusive_in_610(void **state)
{
	struct mmn_scenario_result w = run_p(true, MMN_SCENARIO_INTERLEAVED, "6.10");
	struct mmn_scenario_result r = run_p(false, MMN_SCENARIO_INTERLEAVED, "6.10");

	(void)state;
	assert_true(w.claim_holds);
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "6.10");
	assert_fp(&w);
	assert_fp(&r);
	/* 6.10: EXCLUSIVE with a NULL owner, not CLEAR */
	assert_int_equal(counter(&r, "restores_clear"), 0);
	assert_non_null(strstr(r.note, "EXCLUSIVE"));
	assert_int_equal(counter(&w, "zaps_soft_dirty"), 8);
	assert_int_equal(counter(&r, "zaps_soft_dirty"), 0);
}

static void test_native(void **state)
{
	struct mmn_scenario_result w = run_p(true, MMN_SCENARIO_NATIVE, NULL);
	struct mmn_scenario_result r = run_p(false, MMN_SCENARIO_NATIVE, NULL);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(w.violations, 0);
	assert_int_equal(r.runs, 200);
	assert_true(counter(&w, "fp_numa") + counter(&w, "fp_soft_dirty") > 0);
}

static void test_bad_params(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	p.pages = 65;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.pages = 0;
	p.variant = 2;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.variant = -1;
	p.mode = (enum mmn_scenario_mode)7;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.mode = MMN_SCENARIO_INTERLEAVED;
	p.profile = "no-such";
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.profile = NULL;
	p.knobs[0] = "noequals";
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S6", NULL, &r), 0);
	assert_true(r.claim_holds);
}

/* ---- EXPLORE (count scenario: no violating schedule in either setting) ---- */

static void test_explore_wrong_finds_no_violation(void **state)
{
	(void)state;
	explore_both_find_nothing("S6", setting_params(true, NULL), SCALE(500), SCALE(1000));
}

static void test_explore_right_finds_no_violation(void **state)
{
	(void)state;
	explore_both_find_nothing("S6", setting_params(false, NULL), SCALE(500), SCALE(1000));
}

/* In 6.10 the restore is an EXCLUSIVE range with a NULL owner, not CLEAR. */
static void test_explore_restore_exclusive_in_610(void **state)
{
	struct mmn_scenario_params p = setting_params(true, "6.10");
	unsigned long restores = 0, clear = 0;

	(void)state;
	explore_finds_nothing("S6", p, MMN_EXPLORE_RANDOM, SCALE(200));
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct mmn_sched_config sc;
		struct mmn_scenario_result r;

		mmn_sched_config_init(&sc);
		sc.seed = seed;
		sc.trace = false;
		p.mode = MMN_SCENARIO_EXPLORE;
		p.sched = &sc;
		assert_int_equal(mmn_scenario_run("S6", &p, &r), 0);
		assert_true(r.claim_holds);
		restores += counter(&r, "restores");
		clear += counter(&r, "restores_clear");
	}
	assert_true(restores > 0);
	assert_int_equal(clear, 0);
}

/* Summed over schedules: the same false positives for both mirrors (they
 * are the operations'), the blind mirror tearing down for them. */
static void test_explore_blind_tears_down_on_false_positives(void **state)
{
	struct sums w, r;

	(void)state;
	sum_both("S6", true, SCALE(150), &w, NULL);
	sum_both("S6", false, SCALE(150), &r, NULL);
	for (int i = 0; i < 2; i++) {
		const struct sums *s = i ? &r : &w;

		assert_true(sum_of(s, "fp_mprotect_cow") > 0);
		assert_true(sum_of(s, "fp_numa") > 0);
		assert_true(sum_of(s, "fp_soft_dirty") > 0);
		assert_true(sum_of(s, "atomics") > 0);
		assert_true(sum_of(s, "restores") > 0);
		assert_int_equal(sum_of(s, "restores_clear"), sum_of(s, "restores")); /* latest */
	}
	/* latest has no mmu_notifier_range_update_to_read_only(): the aware
	 * mirror erases on the mprotect ranges too, and saves only the NUMA and
	 * soft-dirty teardowns (the claim's check (2) counts PROTECTION_VMA
	 * ranges as erasing in such profiles) */
	assert_true(sum_of(&w, "zaps_total") > sum_of(&r, "zaps_total"));
	assert_true(sum_of(&w, "needless") > sum_of(&r, "needless"));
}

static bool s6_interesting(const struct mmn_scenario_result *r)
{
	unsigned long restores = 0, zaps = 0;

	return !mmn_scenario_counter(r, "restores", &restores) &&
	       !mmn_scenario_counter(r, "zaps_total", &zaps) && restores > 0 && zaps > restores;
}

static void test_explore_replay_is_byte_identical(void **state)
{
	(void)state;
	replay_is_byte_identical("S6", s6_interesting);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_blind_latest),
		cmocka_unit_test(test_aware_latest),
		cmocka_unit_test(test_aware_5_14_keeps_mprotect_entries),
		cmocka_unit_test(test_restore_exclusive_in_610),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_explore_wrong_finds_no_violation),
		cmocka_unit_test(test_explore_right_finds_no_violation),
		cmocka_unit_test(test_explore_restore_exclusive_in_610),
		cmocka_unit_test(test_explore_blind_tears_down_on_false_positives),
		cmocka_unit_test(test_explore_replay_is_byte_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
