/* SPDX-License-Identifier: MIT */
/*
 * S6 (seed 004): device-exclusive atomics restored by CPU access, seen by a
 * process-wide notifier; protection changes that notify without changing
 * the PTEs (mprotect after fork, NUMA hinting twice, soft-dirty twice):
 * false positives per operation and the mirror's needless teardowns. Both
 * settings INTERLEAVED with exact counts (latest and 6.10), NATIVE bounded,
 * bad params.
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
	assert_int_equal(counter(&r, "zaps_mprotect_cow"), 0);
	assert_int_equal(counter(&r, "zaps_numa"), 0);
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_blind_latest),
		cmocka_unit_test(test_aware_latest),
		cmocka_unit_test(test_restore_exclusive_in_610),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
