// SPDX-License-Identifier: MIT
/* The scenario registry and the helpers every scenario shares. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <mmnsim/clock.h>

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

void mmn__scn_collect_violations(struct mmn_sim *sim, struct mmn_scenario_result *out)
{
	out->violations = 0;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		out->by_kind[k] = mmn_check_count(sim, (enum mmn_violation_kind)k);
		out->violations += out->by_kind[k];
	}
}

void mmn__scn_counter(struct mmn_scenario_result *out, const char *name, unsigned long value)
{
	if (out->nr_counters >= MMN_SCENARIO_MAX_COUNTERS)
		return;
	out->counter_names[out->nr_counters] = name;
	out->counters[out->nr_counters++] = value;
}

/* Apply the "name=value" knobs of @kv (at most @max, up to the first NULL). */
static int scn_set_knobs(struct mmn_sim *sim, const char *const *kv, int max)
{
	for (int i = 0; kv && i < max && kv[i]; i++) {
		char name[64];
		const char *eq = strchr(kv[i], '=');
		size_t n;

		if (!eq || eq == kv[i])
			return -EINVAL;
		n = (size_t)(eq - kv[i]);
		if (n >= sizeof(name))
			return -EINVAL;
		memcpy(name, kv[i], n);
		name[n] = '\0';
		if (mmn_sim_set_knob(sim, name, eq + 1))
			return -EINVAL;
	}
	return 0;
}

/* Violations are counted (the result reports them), not printed. */
static void scn_silent(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	(void)sim;
	(void)v;
	(void)arg;
}

int mmn__scn_sim_create(struct mmn_sim **out, struct mmn_sim_config *cfg,
		   const struct mmn_scenario_params *p, bool hugetlb, const char *const *own)
{
	struct mmn_sim *sim;

	if (p->mode == MMN_SCENARIO_EXPLORE) {
		cfg->backend = MMN_BACKEND_DETERMINISTIC;
		/* An exploration creates thousands of simulations a second, and
		 * the huge-page pool's metadata is zeroed at each creation. */
		if (!hugetlb)
			cfg->nr_huge_pages = 0;
	}
	cfg->seed = p->seed ? p->seed : 1;
	sim = mmn_sim_create(cfg);
	if (!sim)
		return cfg->profile && !mmn_profile_by_name(cfg->profile) ? -EINVAL : -ENOMEM;
	mmn_check_set_handler(sim, scn_silent, NULL);
	if (scn_set_knobs(sim, own, MMN_SCENARIO_MAX_KNOBS) ||
	    scn_set_knobs(sim, p->knobs, MMN_SCENARIO_MAX_KNOBS)) {
		mmn_sim_destroy(sim);
		return -EINVAL;
	}
	*out = sim;
	return 0;
}

int mmn__scn_explore(struct mmn_sim *sim, const struct mmn_scenario_params *p, mmn_sched_body_fn body,
		void *arg, struct mmn_scenario_result *out)
{
	struct mmn_sched_config sc;

	if (p->sched) {
		sc = *p->sched;
	} else {
		mmn_sched_config_init(&sc);
		sc.seed = p->seed ? p->seed : 1;
	}
	return mmn_sched_run(sim, &sc, body, arg, &out->sched);
}

void mmn__scn_finish(struct mmn_sim *sim, const struct mmn_scenario_params *p,
		struct mmn_scenario_result *out)
{
	out->modelled_ns += mmn_clock_now(sim);
	if (p && p->mode == MMN_SCENARIO_EXPLORE && p->inspect)
		p->inspect(sim, out, p->inspect_arg);
}
