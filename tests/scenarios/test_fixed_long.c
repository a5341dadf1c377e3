// SPDX-License-Identifier: MIT
/*
 * The long claims of S3 and S4: under the profiles of the kernels that fixed
 * the bug, 100,000 schedules each (50,000 random walks and 50,000 PCT
 * schedules) of the wrong setting, the profile as it is, find no violation,
 * no deadlock and no schedule over budget. Label long: `ctest -L long`;
 * test_s3 and test_s4 run a few thousand and a few hundred.
 *  - S3: under 6.6, 6.10 and latest the secondary flush is inside the CPU
 *    flush (mm/ksm.c write_protect_page() with ptep_clear_flush()), so
 *    KSM's window does not exist.
 *  - S4: from 4.19 on (profiles 5.2 and latest: the range widened by
 *    adjust_range_if_pmd_sharing_possible(), try_to_unmap_one() unsharing
 *    with huge_pmd_unshare() first) neither the DONTNEED unshare nor the
 *    migration of a shared hugetlb page leaves a stale translation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

static void wrong_setting_silent(const char *id, const char *profile)
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
		assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
		printf("%s wrong under %s, %s: %lu schedules, %lu violating, %lu deadlocks, %.1f s\n",
		       id, profile, mmn_explore_strategy_name(c.strategy), st.schedules, st.violating,
		       st.deadlocks, st.real_ns / 1e9);
		assert_int_equal(st.schedules, 50000);
		assert_int_equal(st.violating + st.deadlocks + st.budgets, 0);
	}
}

static void test_s3_6_6_100k(void **state) { (void)state; wrong_setting_silent("S3", "6.6"); }
static void test_s3_6_10_100k(void **state) { (void)state; wrong_setting_silent("S3", "6.10"); }
static void test_s3_latest_100k(void **state) { (void)state; wrong_setting_silent("S3", "latest"); }
static void test_s4_5_2_100k(void **state) { (void)state; wrong_setting_silent("S4", "5.2"); }
static void test_s4_latest_100k(void **state) { (void)state; wrong_setting_silent("S4", "latest"); }

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_6_6_100k),    cmocka_unit_test(test_s3_6_10_100k),
		cmocka_unit_test(test_s3_latest_100k), cmocka_unit_test(test_s4_5_2_100k),
		cmocka_unit_test(test_s4_latest_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
