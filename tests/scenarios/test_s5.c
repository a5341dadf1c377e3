// SPDX-License-Identifier: MIT
/*
 * S5 (seed 003): event-blind versus event-aware HMM mirror under mprotect,
 * soft-dirty and migration; change_pte (KSM) against a KVM VM. Both settings
 * INTERLEAVED with exact counts, both NATIVE (bounded), profiles without
 * change_pte, bad params; EXPLORE: no violating schedule in either setting
 * (random walk and PCT), the counters summed over schedules in the seed's
 * direction, and a replayed schedule byte for byte.
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
	assert_int_equal(mmn_scenario_run("S5", &p, &r), 0);
	return r;
}

static struct mmn_scenario_result run(bool wrong, enum mmn_scenario_mode mode)
{
	return run_p(wrong, mode, NULL);
}

static void test_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S5");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "003");
	assert_int_equal(s->found_kinds, 0); /* a count scenario */
}

static void test_wrong_blind_tears_down_and_refaults(void **state)
{
	struct mmn_scenario_result r = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_string_equal(r.profile, "5.14");
	/* mprotect(READ) and soft-dirty: one teardown of 16 entries each, 16
	 * pages re-faulted each in one pass; its own 2 MIGRATE ranges needless */
	assert_int_equal(counter(&r, "teardowns"), 2);
	assert_int_equal(counter(&r, "zapped"), 32);
	assert_int_equal(counter(&r, "refaults"), 32);
	assert_int_equal(counter(&r, "refault_passes"), 3);
	assert_int_equal(counter(&r, "downgraded"), 0);
	assert_int_equal(counter(&r, "needless"), 2);
	/* KSM's change_pte runs after start zapped the SPTE: found nothing.
	 * Three per merge (mm/ksm.c 4.12-6.5 set_pte_at_notify()): in
	 * write_protect_page() of each page and in replace_page(). */
	assert_int_equal(counter(&r, "change_pte_found"), 0);
	assert_int_equal(counter(&r, "change_pte_missed"), 3);
	assert_non_null(strstr(r.setting, "event_blind"));
}

static void test_right_aware_downgrades(void **state)
{
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_INTERLEAVED);
	struct mmn_scenario_result w = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "teardowns"), 0);
	assert_int_equal(counter(&r, "zapped"), 0);
	assert_int_equal(counter(&r, "refaults"), 0);
	assert_int_equal(counter(&r, "refault_passes"), 1); /* the migrated page only */
	assert_int_equal(counter(&r, "downgraded"), 32);
	assert_int_equal(counter(&r, "needless"), 0);
	assert_int_equal(counter(&r, "change_pte_found"), 0);
	assert_int_equal(counter(&r, "change_pte_missed"), 3);
	assert_true(counter(&r, "teardowns") < counter(&w, "teardowns"));
	assert_true(counter(&r, "refaults") < counter(&w, "refaults"));
	assert_non_null(strstr(r.setting, "event_aware"));
}

static void test_change_pte_absent_in_610(void **state)
{
	struct mmn_scenario_result r = run_p(true, MMN_SCENARIO_INTERLEAVED, "6.10");

	(void)state;
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "6.10");
	assert_int_equal(counter(&r, "change_pte_found"), 0);
	assert_int_equal(counter(&r, "change_pte_missed"), 0);
	assert_int_equal(counter(&r, "refaults"), 32);
}

static void test_native_both(void **state)
{
	struct mmn_scenario_result w = run(true, MMN_SCENARIO_NATIVE);
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_NATIVE);

	(void)state;
	assert_int_equal(r.violations, 0);
	assert_int_equal(w.violations, 0);
	assert_int_equal(r.runs, 200);
	assert_int_equal(counter(&r, "teardowns"), 0);
	assert_true(counter(&w, "zapped") >= counter(&w, "teardowns"));
	assert_int_equal(counter(&r, "change_pte_found"), 0);
}

static void test_bad_params(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	p.pages = 65;
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.pages = 0;
	p.variant = 2; /* the valid-flag mirror is S7's */
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.variant = -1;
	p.mode = (enum mmn_scenario_mode)7;
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.mode = MMN_SCENARIO_INTERLEAVED;
	p.profile = "no-such";
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.profile = NULL;
	p.knobs[0] = "=1";
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S5", NULL, &r), 0);
	assert_true(r.claim_holds);
}

/* ---- EXPLORE (count scenario: no violating schedule in either setting) ---- */

static void test_explore_wrong_finds_no_violation(void **state)
{
	(void)state;
	explore_both_find_nothing("S5", setting_params(true, NULL), SCALE(400), SCALE(1000));
}

static void test_explore_right_finds_no_violation(void **state)
{
	(void)state;
	explore_both_find_nothing("S5", setting_params(false, NULL), SCALE(400), SCALE(1000));
}

/* Summed over schedules: the blind mirror tears down and re-faults, the
 * aware one downgrades; change_pte never finds the SPTE live. */
static void test_explore_blind_tears_down_aware_downgrades(void **state)
{
	struct sums w, r;

	(void)state;
	sum_both("S5", true, SCALE(150), &w, NULL);
	sum_both("S5", false, SCALE(150), &r, NULL);
	assert_true(sum_of(&w, "teardowns") > 0);
	assert_int_equal(sum_of(&r, "teardowns"), 0);
	assert_true(sum_of(&w, "zapped") > 0);
	assert_int_equal(sum_of(&r, "zapped"), 0);
	assert_true(sum_of(&w, "refaults") > sum_of(&r, "refaults"));
	assert_true(sum_of(&w, "refault_passes") > sum_of(&r, "refault_passes"));
	assert_int_equal(sum_of(&w, "downgraded"), 0);
	assert_true(sum_of(&r, "downgraded") > 0);
	/* KSM merged in every schedule; its three change_pte calls came
	 * after start's zap */
	assert_int_equal(sum_of(&w, "change_pte_found") + sum_of(&r, "change_pte_found"), 0);
	assert_int_equal(sum_of(&w, "change_pte_missed"), 3 * w.schedules);
	assert_int_equal(sum_of(&r, "change_pte_missed"), 3 * r.schedules);
}

static bool s5_interesting(const struct mmn_scenario_result *r)
{
	unsigned long t = 0, f = 0;

	return !mmn_scenario_counter(r, "teardowns", &t) &&
	       !mmn_scenario_counter(r, "refaults", &f) && t > 0 && f > 0;
}

static void test_explore_replay_is_byte_identical(void **state)
{
	(void)state;
	replay_is_byte_identical("S5", s5_interesting);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_wrong_blind_tears_down_and_refaults),
		cmocka_unit_test(test_right_aware_downgrades),
		cmocka_unit_test(test_change_pte_absent_in_610),
		cmocka_unit_test(test_native_both),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_explore_wrong_finds_no_violation),
		cmocka_unit_test(test_explore_right_finds_no_violation),
		cmocka_unit_test(test_explore_blind_tears_down_aware_downgrades),
		cmocka_unit_test(test_explore_replay_is_byte_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
