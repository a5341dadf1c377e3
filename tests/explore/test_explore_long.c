// SPDX-License-Identifier: MIT
/*
 * The long claim: S1, S3, S4, S7 and S8 are not found under their
 * right settings over at least 100,000 schedules each (50,000 random walks
 * and 50,000 PCT schedules). Label long: `ctest -L long`, not in CI, which
 * runs a few thousand per scenario (test_explore, tests/scenarios).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

static void right_setting_silent(const char *id)
{
	for (int s = MMN_EXPLORE_RANDOM; s <= MMN_EXPLORE_PCT; s++) {
		struct mmn_explore_config c;
		struct mmn_explore_stats st;

		mmn_explore_config_init(&c);
		c.strategy = (enum mmn_explore_strategy)s;
		c.runs = 50000;
		c.trace = false;
		assert_int_equal(mmn_scenario_explore(id, NULL, &c, &st), 0);
		printf("%s right, %s: %lu schedules, %lu violating, %lu deadlocks, %.1f s\n", id,
		       mmn_explore_strategy_name(c.strategy), st.schedules, st.violating, st.deadlocks,
		       st.real_ns / 1e9);
		assert_int_equal(st.schedules, 50000);
		assert_int_equal(st.violating + st.deadlocks + st.budgets, 0);
	}
}

static void test_s1_right_100k(void **state) { (void)state; right_setting_silent("S1"); }
static void test_s3_right_100k(void **state) { (void)state; right_setting_silent("S3"); }
static void test_s4_right_100k(void **state) { (void)state; right_setting_silent("S4"); }
static void test_s7_right_100k(void **state) { (void)state; right_setting_silent("S7"); }
static void test_s8_right_100k(void **state) { (void)state; right_setting_silent("S8"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s1_right_100k), cmocka_unit_test(test_s3_right_100k),
		cmocka_unit_test(test_s4_right_100k), cmocka_unit_test(test_s7_right_100k),
		cmocka_unit_test(test_s8_right_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
