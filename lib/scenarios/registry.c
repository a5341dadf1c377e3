// SPDX-License-Identifier: MIT
/* The scenario registry: the list of S1-S9, lookup, mmn_scenario_run(). */
#include <errno.h>
#include <string.h>
#include <time.h>

#include "scenarios_internal.h"

/* In id order. Each sN.c adds its line here. */
static const struct mmn_scenario *const scenarios[] = {
	NULL, /* keeps the array non-empty; skipped */
	&mmn_scenario_s1,
	&mmn_scenario_s2,
	&mmn_scenario_s3,
	&mmn_scenario_s4,
	&mmn_scenario_s5,
	&mmn_scenario_s6,
	&mmn_scenario_s7,
	&mmn_scenario_s8,
	&mmn_scenario_s9,
};

int mmn_scenario_count(void)
{
	return (int)(sizeof(scenarios) / sizeof(scenarios[0])) - 1;
}

const struct mmn_scenario *mmn_scenario_at(int idx)
{
	if (idx < 0 || idx >= mmn_scenario_count())
		return NULL;
	return scenarios[idx + 1];
}

const struct mmn_scenario *mmn_scenario_by_id(const char *id)
{
	if (!id)
		return NULL;
	for (int i = 0; i < mmn_scenario_count(); i++)
		if (!strcmp(mmn_scenario_at(i)->id, id))
			return mmn_scenario_at(i);
	return NULL;
}

int mmn_scenario_run(const char *id, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	const struct mmn_scenario *s;

	if (!id || !out)
		return -EINVAL;
	s = mmn_scenario_by_id(id);
	if (!s)
		return -ENOENT;
	struct timespec t0, t1;
	int err;

	memset(out, 0, sizeof(*out));
	clock_gettime(CLOCK_MONOTONIC, &t0);
	err = s->run(p, out);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	if (!err)
		out->real_ns = (uint64_t)(t1.tv_sec - t0.tv_sec) * 1000000000u +
			       (uint64_t)t1.tv_nsec - (uint64_t)t0.tv_nsec;
	return err;
}

int mmn_scenario_counter(const struct mmn_scenario_result *r, const char *name,
			 unsigned long *value)
{
	if (!r || !name || !value)
		return -EINVAL;
	for (int i = 0; i < r->nr_counters && i < MMN_SCENARIO_MAX_COUNTERS; i++) {
		if (r->counter_names[i] && !strcmp(r->counter_names[i], name)) {
			*value = r->counters[i];
			return 0;
		}
	}
	return -ENOENT;
}
