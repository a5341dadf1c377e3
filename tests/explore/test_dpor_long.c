// SPDX-License-Identifier: MIT
/*
 * The citable DPOR result of S1 (docs/benchmarks.md, "DPOR"): its right
 * setting with two rounds of each actor (reclaimer, device, re-user) is
 * explored whole by DPOR with no preemption bound, with no violation, in
 * the same number of classes twice and in shards 0/2 and 1/2 together
 * (each class counted in one shard). A few seconds unsharded in a release
 * build, but one to two minutes per shard (docs/benchmarks.md, "DPOR":
 * every class of S1 falls in one shard's subtree): label long (`ctest -L
 * long`), not in CI.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

/* The classes under the relation of lib/sync/det_dpor_rec.c. */
#define S1_TWO_ROUNDS_CLASSES 87248UL

static struct mmn_explore_stats s1_two_rounds(unsigned int shard, unsigned int shards)
{
	struct mmn_scenario_params p = { .wrong = false, .variant = -1, .iterations = 2 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_DPOR;
	c.preemption_bound = UINT_MAX;
	c.runs = 5000000;
	c.trace = false;
	c.shard = shard;
	c.shards = shards;
	assert_int_equal(mmn_scenario_explore("S1", &p, &c, &st), 0);
	printf("S1 right, 2 rounds, dpor shard %u/%u: %lu classes, %lu runs, %s, %lu violating, "
	       "%.1f s\n",
	       shard, shards, st.schedules, st.runs, st.complete ? "complete" : "not complete",
	       st.violating, st.real_ns / 1e9);
	assert_true(st.complete);
	assert_int_equal(st.violating, 0);
	return st;
}

static void test_dpor_completes_s1_with_two_rounds(void **state)
{
	unsigned long n;

	(void)state;
	n = s1_two_rounds(0, 1).schedules;
	assert_int_equal(n, S1_TWO_ROUNDS_CLASSES);
	assert_int_equal(s1_two_rounds(0, 1).schedules, n);
	assert_int_equal(s1_two_rounds(0, 2).schedules + s1_two_rounds(1, 2).schedules, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpor_completes_s1_with_two_rounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
