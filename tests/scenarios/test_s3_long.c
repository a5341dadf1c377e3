// SPDX-License-Identifier: MIT
/*
 * S3's long claim: under 6.6, 6.10 and latest (the secondary flush inside
 * the CPU flush, mm/ksm.c write_protect_page() with ptep_clear_flush()) the
 * KSM window does not exist, so 100,000 schedules each (50,000 random walks
 * and 50,000 PCT schedules) of the wrong setting, the profile as it is,
 * find no lost write, no deadlock and no schedule over budget. Label long:
 * `ctest -L long`; test_s3 runs a few thousand.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

static void wrong_setting_silent(const char *profile)
{
	for (int s = MMN_EXPLORE_RANDOM; s <= MMN_EXPLORE_PCT; s++) {
		struct mmn_scenario_params p = { .wrong = true, .variant = -1, .profile = profile };
		struct mmn_explore_config c;
		struct mmn_explore_stats st;

		mmn_explore_config_init(&c);
		c.strategy = (enum mmn_explore_strategy)s;
		c.runs = 50000;
		c.keep_going = true;
		c.trace = false;
		assert_int_equal(mmn_scenario_explore("S3", &p, &c, &st), 0);
		printf("S3 wrong under %s, %s: %lu schedules, %lu violating, %lu deadlocks, %.1f s\n",
		       profile, mmn_explore_strategy_name(c.strategy), st.schedules, st.violating,
		       st.deadlocks, st.real_ns / 1e9);
		assert_int_equal(st.schedules, 50000);
		assert_int_equal(st.violating + st.deadlocks + st.budgets, 0);
	}
}

static void test_s3_6_6_100k(void **state) { (void)state; wrong_setting_silent("6.6"); }
static void test_s3_6_10_100k(void **state) { (void)state; wrong_setting_silent("6.10"); }
static void test_s3_latest_100k(void **state) { (void)state; wrong_setting_silent("latest"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_6_6_100k),
		cmocka_unit_test(test_s3_6_10_100k),
		cmocka_unit_test(test_s3_latest_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
