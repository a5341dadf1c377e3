/* SPDX-License-Identifier: MIT */
/* Test helper for the scenario suites: a result's counter, or a failure. */
#ifndef MMN_TEST_SCENARIO_H
#define MMN_TEST_SCENARIO_H

#include <mmnsim/scenario.h>

/* The counter @name of @r; fails the test if the run did not report it.
 * Include after <cmocka.h>. */
static inline unsigned long counter(const struct mmn_scenario_result *r, const char *name)
{
	unsigned long v = 0;

	if (mmn_scenario_counter(r, name, &v))
		fail_msg("no counter %s", name);
	return v;
}

#endif /* MMN_TEST_SCENARIO_H */
