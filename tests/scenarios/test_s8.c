// SPDX-License-Identifier: MIT
/*
 * S8 (users): a listener whose invalidate_range_start or release takes
 * mmap_lock, which its caller holds, or a driver lock taken in the opposite
 * order by another actor. Wrong: reported (recursive lock, lock order with
 * both orders, deadlock with the wait-for cycle), never a hang. Right: a
 * listener that takes no lock its caller may hold: nothing.
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

enum { START_MMAP_LOCK = 0, RELEASE_MMAP_LOCK = 1, CROSS_ACTOR = 2 };

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S8", p, &r), 0);
	return r;
}

static void test_s8_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S8");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "users");
}

static void test_s8_wrong_start_takes_mmap_lock(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = START_MMAP_LOCK };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	/* mprotect RO (write held), mprotect RW, DONTNEED (read), munmap (read). */
	assert_int_equal(counter(&r, "start_calls"), 4);
	assert_int_equal(r.by_kind[MMN_VIOL_RECURSIVE_LOCK], 4);
	assert_int_equal(r.violations, 4);
	assert_int_equal(counter(&r, "reports_with_held_stacks"), 4);
}

static void test_s8_wrong_release_takes_mmap_lock(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = RELEASE_MMAP_LOCK };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(counter(&r, "release_calls"), 1);
	assert_int_equal(r.by_kind[MMN_VIOL_RECURSIVE_LOCK], 1);
	assert_int_equal(r.violations, 1);
	assert_int_equal(counter(&r, "reports_with_held_stacks"), 1);
}

static void test_s8_wrong_cross_actor_deadlock(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = CROSS_ACTOR };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.by_kind[MMN_VIOL_LOCK_ORDER], 1);
	assert_int_equal(r.by_kind[MMN_VIOL_DEADLOCK], 1);
	assert_int_equal(r.violations, 2);
	assert_int_equal(counter(&r, "sched_deadlock_outcomes"), 1);
	assert_int_equal(counter(&r, "lock_order_naming_both_actors"), 1);
	assert_int_equal(counter(&r, "deadlocks_with_cycle"), 1);
}

static void test_s8_wrong_all_variants(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.runs, 3);
	assert_int_equal(r.by_kind[MMN_VIOL_RECURSIVE_LOCK], 5);
	assert_int_equal(r.by_kind[MMN_VIOL_LOCK_ORDER], 1);
	assert_int_equal(r.by_kind[MMN_VIOL_DEADLOCK], 1);
	assert_int_equal(r.violations, 7);
	assert_int_equal(counter(&r, "reports_with_held_stacks"), 6);
}

static void test_s8_right_is_clean(void **state)
{
	struct mmn_scenario_result r;

	(void)state;
	for (int v = -1; v <= CROSS_ACTOR; v++) {
		struct mmn_scenario_params p = { .variant = v };

		r = run(&p);
		assert_true(r.claim_holds);
		assert_int_equal(r.violations, 0);
	}
	r = run(&(struct mmn_scenario_params){ .variant = CROSS_ACTOR });
	assert_int_equal(counter(&r, "sched_deadlock_outcomes"), 0);
	assert_int_equal(mmn_scenario_run("S8", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.runs, 3);
	assert_int_equal(r.violations, 0);
}

static void test_s8_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .iterations = 300 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.runs, 2);
	assert_int_equal(r.violations, 0);
	/* 3 actors x 100 rounds: 4 starts in the first, 6 later (split VMA). */
	assert_int_equal(counter(&r, "start_calls"), 3 * (4 + 99 * 6));
	assert_int_equal(counter(&r, "release_calls"), 300);

	p.wrong = true;
	r = run(&p);
	/* A self-deadlock does not depend on the interleaving: exact. */
	assert_true(r.claim_holds);
	assert_int_equal(r.by_kind[MMN_VIOL_RECURSIVE_LOCK], 3 * (4 + 99 * 6) + 300);
	assert_int_equal(r.violations, r.by_kind[MMN_VIOL_RECURSIVE_LOCK]);
}

static void test_s8_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 3 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S8", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = CROSS_ACTOR, .mode = MMN_SCENARIO_NATIVE };
	assert_int_equal(mmn_scenario_run("S8", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)5 };
	assert_int_equal(mmn_scenario_run("S8", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "nope" };
	assert_int_equal(mmn_scenario_run("S8", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "bogus=1" } };
	assert_int_equal(mmn_scenario_run("S8", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S8", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s8_registered),
		cmocka_unit_test(test_s8_wrong_start_takes_mmap_lock),
		cmocka_unit_test(test_s8_wrong_release_takes_mmap_lock),
		cmocka_unit_test(test_s8_wrong_cross_actor_deadlock),
		cmocka_unit_test(test_s8_wrong_all_variants),
		cmocka_unit_test(test_s8_right_is_clean),
		cmocka_unit_test(test_s8_native_runs),
		cmocka_unit_test(test_s8_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
