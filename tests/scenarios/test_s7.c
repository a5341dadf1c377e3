/* SPDX-License-Identifier: MIT */
/*
 * S7 (users): valid flag versus interval sequence under start/end/start.
 * Both settings INTERLEAVED with exact counts, both NATIVE (bounded), bad
 * params.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

#include "support/scenario_test.h"

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
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
