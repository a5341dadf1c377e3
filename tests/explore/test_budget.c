// SPDX-License-Identifier: MIT
/*
 * Schedules that run out of their step budget. Every seed scenario, under
 * its right and its wrong setting, is explored at small budgets (from one
 * scheduling point up): a schedule over budget is drained to its end (its
 * actors run on in turn), so its tear-down finds whole operations. Under
 * AddressSanitizer (the debug-asan preset, leaks detected) this suite is the
 * check that nothing is freed while linked and nothing leaks; in every build
 * it checks that an over-budget schedule is counted as such, is never judged
 * violating, and that the right settings report no violation at all, the
 * drained tail included.
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/explore.h>
#include <mmnsim/scenario.h>

#include "support/explore_test.h"

static const unsigned long budgets[] = { 1, 7, 30, 60, 150 };

/* Explore @id under @wrong at every budget, random and PCT. */
static void explore_small_budgets(const char *id, bool wrong)
{
	for (size_t b = 0; b < sizeof(budgets) / sizeof(budgets[0]); b++) {
		for (int strategy = MMN_EXPLORE_RANDOM; strategy <= MMN_EXPLORE_PCT; strategy++) {
			struct mmn_scenario_params p = setting_params(wrong, NULL);
			struct mmn_explore_config c;
			struct mmn_explore_stats st;
			unsigned long total = 0;

			mmn_explore_config_init(&c);
			c.strategy = (enum mmn_explore_strategy)strategy;
			c.runs = 12; /* not scaled down: the sanitizer builds are the point */
			c.max_steps = budgets[b];
			c.keep_going = true;
			c.trace = false;
			assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
			assert_int_equal(st.schedules, c.runs);
			for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
				total += st.by_kind[k];
			/* Over budget: counted, never violating. */
			assert_true(st.violating <= st.schedules - st.budgets);
			if (budgets[b] == 1)
				assert_true(st.budgets == st.schedules || !strcmp(id, "S8"));
			if (!wrong && total)
				fail_msg("%s right, budget %lu, %s: %lu violations in drained schedules", id,
					 budgets[b], mmn_explore_strategy_name(c.strategy), total);
		}
	}
}

static void test_budgets_leave_every_scenario_whole(void **state)
{
	(void)state;
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const char *id = mmn_scenario_at(i)->id;

		explore_small_budgets(id, false);
		explore_small_budgets(id, true);
	}
}

/*
 * A starvation scenario drained past its budget ends rather than livelocks:
 * S2's wrong setting with the listener variant 0 (a fuzzer's find: the
 * vCPU's faults retry while invalidations go on) never got a whole fault in
 * when the drain switched actors at every point, and was unwound, leaking
 * a half-done mmap; drained in slices it ends and nothing is unwound.
 */
static void test_drained_starvation_scenario_ends(void **state)
{
	struct mmn_scenario_params p = setting_params(true, NULL);
	struct mmn_scenario_result r;
	struct mmn_sched_config sc;
	int over = 0;

	(void)state;
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_PCT;
	sc.pct_steps = 60;
	sc.max_steps = 4000;
	sc.trace = false;
	p.mode = MMN_SCENARIO_EXPLORE;
	p.iterations = 60;
	p.variant = 0;
	p.sched = &sc;
	for (uint64_t seed = 1; seed <= 5; seed++) {
		sc.seed = seed;
		assert_int_equal(mmn_scenario_run("S2", &p, &r), 0);
		over += r.sched.outcome == MMN_OUTCOME_BUDGET;
		assert_int_equal(r.sched.unwound, 0);
	}
	assert_true(over > 0); /* the drain was exercised */
}

/* A found schedule's replay over budget is not the scenario's violation. */
static void test_over_budget_schedule_is_never_judged_violating(void **state)
{
	struct mmn_scenario_params p = setting_params(true, NULL);
	struct mmn_scenario_result r = { 0 };

	(void)state;
	r.by_kind[MMN_VIOL_USE_AFTER_FREE] = 1;
	r.violations = 1;
	assert_true(mmn_explore_violating(mmn_scenario_by_id("S1"), &p, &r));
	r.sched.outcome = MMN_OUTCOME_BUDGET;
	assert_false(mmn_explore_violating(mmn_scenario_by_id("S1"), &p, &r));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_over_budget_schedule_is_never_judged_violating),
		cmocka_unit_test(test_budgets_leave_every_scenario_whole),
		cmocka_unit_test(test_drained_starvation_scenario_ends),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
