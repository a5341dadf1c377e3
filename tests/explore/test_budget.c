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
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
