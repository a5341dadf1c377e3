/* SPDX-License-Identifier: MIT */
/*
 * What the scenario machinery's own files share (runner.c, def.c,
 * registry.c, explore.c). The scenarios S1-S9 (sN.c) do not include it: they
 * are written against the public headers only, as a user's scenario is
 * (struct mmn_scenario_def, scenario.h), and registered through
 * mmn_scenario_register() like any other.
 */
#ifndef MMN_LIB_SCENARIOS_INTERNAL_H
#define MMN_LIB_SCENARIOS_INTERNAL_H

#include <mmnsim/scenario.h>

/* def.c: -EINVAL for a definition mmn_scenario_register() refuses, else 0. */
int mmn__scn_def_check(const struct mmn_scenario_def *d);

/*
 * def.c: resolve @q in place for @d: its variant_name (into wrong and
 * variant) and its args (into @values, one per d->params, defaults filled
 * in), and check its mode. -EINVAL, with @q and @values then unspecified but
 * nothing else touched.
 */
int mmn__scn_resolve(const struct mmn_scenario_def *d, struct mmn_scenario_params *q,
		     int64_t values[MMN_SCENARIO_MAX_PARAMS]);

/* runner.c: run the checked definition @d with @p (NULL: defaults) into
 * @out; mmn_scenario_run() and the explorations call it. */
int mmn__scn_run_checked(const struct mmn_scenario_def *d, const struct mmn_scenario_params *p,
			 struct mmn_scenario_result *out);

/*
 * snprintf() for a judged result's one-line texts (note, profile, setting),
 * which are written once per schedule of an exploration: %s, %d, %u, %ld,
 * %lu and %% are converted here, any other conversion (a width, a flag, a
 * precision) by vsnprintf() of the whole format. The output is snprintf()'s.
 */
void mmn__scn_fmt(char *buf, size_t len, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif /* MMN_LIB_SCENARIOS_INTERNAL_H */
