// SPDX-License-Identifier: MIT
/*
 * The skeleton every scenario shares (mmn__scn_run(): check, configure,
 * create, set up, dispatch on the mode, judge, tear down) and the helpers
 * its hooks call. A scenario defines only what differs, as a struct
 * mmn__scn_def (scenarios_internal.h).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/clock.h>

#include "scenarios_internal.h"

const char *mmn__scn_mode_name(enum mmn_scenario_mode mode)
{
	return mode == MMN_SCENARIO_INTERLEAVED ? "interleaved"
	       : mode == MMN_SCENARIO_NATIVE	? "native"
						: "explore";
}

/* One simulation: configure, create, set up, the mode's body, judge, tear down. */
static int scn_run_one(const struct mmn__scn_def *d, const struct mmn_scenario_params *p,
		       struct mmn_scenario_result *out)
{
	const char *own[MMN_SCENARIO_MAX_KNOBS + 1] = { NULL };
	int (*body)(void *, struct mmn_sim *, const struct mmn_scenario_params *,
		    struct mmn_scenario_result *);
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;
	void *ctx;
	int err;

	ctx = calloc(1, d->ctx_size);
	if (!ctx)
		return -ENOMEM;
	mmn_sim_config_init(&cfg);
	err = d->configure(ctx, p, &cfg, own);
	if (!err)
		err = mmn__scn_sim_create(&sim, &cfg, p, d->hugetlb, own);
	if (err) {
		free(ctx);
		return err;
	}
	err = d->setup ? d->setup(ctx, sim, p, out) : 0;
	body = p->mode == MMN_SCENARIO_INTERLEAVED ? d->interleaved
	       : p->mode == MMN_SCENARIO_NATIVE	   ? d->native
						   : d->explore;
	if (!err)
		err = body(ctx, sim, p, out);
	if (!err) {
		d->judge(ctx, sim, p, out);
		mmn__scn_finish(sim, p, out);
	}
	if (d->teardown)
		err = d->teardown(ctx, err);
	mmn_sim_destroy(sim);
	free(ctx);
	return err;
}

int mmn__scn_run(const struct mmn__scn_def *d, const struct mmn_scenario_params *p,
		 struct mmn_scenario_result *out)
{
	static const struct mmn_scenario_params defaults = { .variant = -1 };
	int err;

	if (!out)
		return -EINVAL;
	if (!p)
		p = &defaults;
	if ((unsigned int)p->mode > MMN_SCENARIO_EXPLORE || p->iterations > MMN_SCENARIO_MAX_ITERATIONS)
		return -EINVAL;
	err = d->validate ? d->validate(p) : 0;
	if (err)
		return err;
	memset(out, 0, sizeof(*out));
	err = d->run ? d->run(p, out) : scn_run_one(d, p, out);
	if (err)
		memset(out, 0, sizeof(*out)); /* no half-filled result on error */
	return err;
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

int mmn__scn_explore(struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     mmn_sched_body_fn body, void *arg, struct mmn_scenario_result *out)
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
