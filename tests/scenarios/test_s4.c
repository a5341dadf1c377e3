// SPDX-License-Identifier: MIT
/*
 * S4 (seed 002): hugetlb shared PMD unshared by MADV_DONTNEED, reclaim or
 * migration of one huge page, under a KVM-style listener caching another
 * huge page of the PUD range. Wrong (pmd_share_widen=false, or profile
 * 4.15): one stale translation per operation at quiescence. Right
 * (latest, range widened): none.
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

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S4", p, &r), 0);
	return r;
}

static void assert_stale_per_op(const struct mmn_scenario_result *r, unsigned long n)
{
	assert_int_equal(r->runs, 3);
	assert_int_equal(r->by_kind[MMN_VIOL_STALE_TRANSLATION], 3 * n);
	assert_int_equal(r->violations, 3 * n);
	assert_int_equal(counter(r, "dontneed"), n);
	assert_int_equal(counter(r, "reclaim"), n);
	assert_int_equal(counter(r, "migrate"), n);
	assert_int_equal(counter(r, "spte_b_kept"), 3 * n);
	assert_int_equal(counter(r, "stale_before_op"), 0);
}

static void test_s4_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S4");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "002");
}

static void test_s4_wrong_no_widening_is_stale(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "latest");
	assert_stale_per_op(&r, 1);
}

static void test_s4_wrong_profile_4_15_is_stale(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1, .profile = "4.15" };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "4.15");
	assert_stale_per_op(&r, 1);
}

static void test_s4_right_widened_is_clean(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_stale_per_op(&r, 0);
	assert_int_equal(mmn_scenario_run("S4", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	/* The seq-only KVM variant does not matter here: the range does. */
	p.variant = MMN_KVM_CHECK_SEQ_ONLY;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
}

static void test_s4_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .iterations = 500 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "unshares"), 501);
	assert_int_equal(counter(&r, "spte_b_kept"), 0);

	p.wrong = true;
	r = run(&p);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "unshares"), 501);
	assert_int_equal(r.violations, r.by_kind[MMN_VIOL_STALE_TRANSLATION]);
	assert_true(r.violations <= 1);
}

static void test_s4_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 42 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)9 };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "no-such-kernel" };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "=true" } };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					  .knobs = { "pmd_share_widen=maybe" } };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S4", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s4_registered),
		cmocka_unit_test(test_s4_wrong_no_widening_is_stale),
		cmocka_unit_test(test_s4_wrong_profile_4_15_is_stale),
		cmocka_unit_test(test_s4_right_widened_is_clean),
		cmocka_unit_test(test_s4_native_runs),
		cmocka_unit_test(test_s4_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
