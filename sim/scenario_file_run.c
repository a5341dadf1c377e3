// SPDX-License-Identifier: MIT
/*
 * The scenario-file interpreter (sim/scenario_file.h, docs/cli.md
 * "Scenario files"): a checked file (struct sfile) becomes a struct
 * mmn_scenario_def registered with mmn_scenario_register(), so that run,
 * explore, replay and shrink take it exactly as any scenario. Its hooks:
 *
 *   configure  the file's CPUs, frames, profile, and the knobs of the
 *              setting (simulation.knobs, then right_knobs or wrong_knobs)
 *   setup      the mms (mms:, but the slots a fork fills), the device
 *              memories, the mappings (mmn_mmap(); thp: madvise HUGEPAGE),
 *              the listeners of each mm with the setting's variant, then
 *              the prologue, run alone
 *   actors     actor 0 of the schedule: one actor per file actor, spawned
 *              in order, each running its operations; all joined
 *   judge      the claim's relations (a failing one is reported as an
 *              accounting violation, so the schedule violates), then
 *              mmn_scenario_judge() with claim.wrong as found_kinds, and
 *              the operations run and failed as counters
 *   teardown   the listeners, then the mms
 *
 * The hooks find their file as the definition's user data
 * (p->def->user in the parameters the library hands them).
 * Errors of an operation are observations (a device read of an unmapped
 * page fails), counted, never an error of the run (sim/scenario_file_exec.c).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_file_run.h"

static void *sf_actor(void *arg)
{
	struct sf_actor_arg *a = arg;
	const struct sfile_actor *fa = &a->c->sf->actors[a->actor];

	sfile_run_ops(a->c, a->c->sf->ops + fa->first, fa->nr);
	return NULL;
}

static void sf_actors(struct mmn_sim *sim, void *ctx)
{
	struct sf_ctx *c = ctx;
	struct mmn_actor *a[SFILE_MAX_ACTORS] = { 0 };

	for (int i = 0; i < c->sf->sum.nr_actors; i++) {
		c->args[i] = (struct sf_actor_arg){ .c = c, .actor = i };
		if (mmn_actor_spawn(sim, c->sf->actors[i].name, sf_actor, &c->args[i], &a[i]))
			a[i] = NULL;
	}
	for (int i = 0; i < c->sf->sum.nr_actors; i++)
		if (a[i])
			(void)mmn_actor_join(a[i], NULL);
}

static int sf_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	/* The file says everything: no --variant, --pages or --iterations. */
	return p->variant != -1 || p->pages || p->iterations ? -EINVAL : 0;
}

static int sf_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	struct sf_ctx *c = ctx;
	const struct sfile *sf = p->def->user;

	(void)values;
	c->sf = sf;
	c->wrong = p->wrong;
	cfg->nr_cpus = sf->cpus;
	cfg->nr_frames = sf->frames;
	if (sf->huge_pages)
		cfg->nr_huge_pages = sf->huge_pages;
	cfg->profile = p->profile ? p->profile : sf->profile;
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && sf->knobs[p->wrong][i]; i++)
		own[i] = sf->knobs[p->wrong][i];
	return 0;
}

/* The mms not made by a fork, and the device memories. */
static int sf_create(struct sf_ctx *c)
{
	for (int m = 0; m < c->sf->nr_mms; m++) {
		struct mmn_mm *mm;

		if (c->sf->forked_mms & (1u << m))
			continue;
		mm = mmn_mm_create(c->sim);
		if (!mm)
			return -ENOMEM;
		atomic_store(&c->mm[m], mm);
	}
	for (int d = 0; d < c->sf->nr_devices; d++) {
		int err = mmn_devmem_create(c->sim, c->sf->device_pages[d], &c->dev_owner[d], NULL,
					    &c->dev[d]);

		if (err)
			return err;
	}
	return 0;
}

static int sf_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct sf_ctx *c = ctx;
	int err;

	(void)p;
	(void)out;
	c->sim = sim;
	err = sf_create(c);
	for (int m = 0; !err && m < c->sf->sum.nr_mappings; m++) {
		const struct sfile_mapping *map = &c->sf->maps[m];
		struct mmn_mm *mm = atomic_load(&c->mm[map->mm]);
		unsigned long got;

		err = mmn_mmap(mm, map->start, map->length, map->prot, map->flags, &got);
		if (!err && map->thp)
			err = mmn_madvise(mm, got, map->length, MMN_MADV_HUGEPAGE);
	}
	for (int m = 0; !err && m < c->sf->nr_mms; m++)
		if (!(c->sf->forked_mms & (1u << m)))
			err = sfile_listeners_attach(c, m);
	if (!err)
		sfile_run_ops(c, c->sf->ops, c->sf->nr_prologue);
	return err;
}

/* The value of one side of a relation. */
static unsigned long sf_operand(struct sf_ctx *c, const struct sfile_operand *o)
{
	struct mmn_op_stats st = { 0 };
	unsigned long v = 0;
	void *l;

	switch (o->type) {
	case SFO_NUMBER:
		return (unsigned long)o->number;
	case SFO_FILE:
		return atomic_load(o->a ? &c->ops_failed : &c->ops_run);
	case SFO_OPSTAT:
		(void)mmn_op_get_stats(c->sim, (enum mmn_op)o->a, &st);
		return o->b == 0 ? st.calls : o->b == 1 ? st.ranges : o->b == 2 ? st.pages_changed
			: o->b == 3 ? st.pages_unchanged : st.skipped;
	case SFO_LISTENER:
		l = atomic_load(&c->lis[o->a]);
		if (l && c->sf->lis[o->a].kind->counter(l, o->b, &v))
			v = 0;
		return v; /* a listener never created (its fork did not run): 0 */
	}
	return 0;
}

/* Each relation of the claim; a failing one is an accounting violation. */
static void sf_relations(struct sf_ctx *c)
{
	for (int i = 0; i < c->sf->nr_relations; i++) {
		const struct sfile_relation *r = &c->sf->rel[i];
		unsigned long a = sf_operand(c, &r->lhs), b = sf_operand(c, &r->rhs);
		bool holds[] = { a >= b, a <= b, a > b, a < b, a == b, a != b };
		char msg[200];

		if (holds[r->op])
			continue;
		snprintf(msg, sizeof(msg), "claim relation '%s' fails: %lu against %lu", r->text, a,
			 b);
		mmn_check_report(c->sim, &(struct mmn_violation){ .kind = MMN_VIOL_ACCOUNTING,
								  .actor_id = -1,
								  .actor_name = "judge",
								  .op = "claim", .msg = msg });
	}
}

static void sf_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct sf_ctx *c = ctx;

	sf_relations(c);
	mmn_scenario_judge(sim, c->sf->found_kinds, p, out);
	mmn_scenario_add_counter(out, "operations", atomic_load(&c->ops_run));
	mmn_scenario_add_counter(out, "operations_failed", atomic_load(&c->ops_failed));
}

static int sf_teardown(void *ctx, int err)
{
	struct sf_ctx *c = ctx;

	for (int i = 0; c->sf && i < c->sf->sum.nr_listeners; i++) {
		void *l = atomic_load(&c->lis[i]);
		int e = l ? c->sf->lis[i].kind->destroy(l) : 0;

		if (e && !err)
			err = e;
	}
	for (int m = 0; m < SFILE_MAX_MMS; m++) {
		struct mmn_mm *mm = atomic_load(&c->mm[m]);

		mmn_uffd_release(atomic_load(&c->uffd[m]));
		if (mm)
			mmn_mm_put(mm);
	}
	return err;
}

/* The definition, allocated with the file. */
struct sf_def {
	struct mmn_scenario_def def;
	char claim[128];
};

int sfile_register(struct sfile *sf)
{
	struct sf_def *d = calloc(1, sizeof(*d));
	int err;

	if (!d)
		return -ENOMEM;
	snprintf(d->claim, sizeof(d->claim), "%s", sf->found_kinds
			? "the claim's kinds found under the wrong setting; none under the right"
			: "no violation under the right setting; one under the wrong");
	d->def = (struct mmn_scenario_def){
		.id = sf->sum.id, .seed = "file", .title = sf->title, .claim = d->claim,
		.found_kinds = sf->found_kinds, .user = sf, .hugetlb = sf->hugetlb,
		.validate = sf_validate, .ctx_size = sizeof(struct sf_ctx),
		.configure = sf_configure, .setup = sf_setup, .actors = sf_actors,
		.judge = sf_judge, .teardown = sf_teardown };
	err = mmn_scenario_register(&d->def);
	if (err)
		free(d); /* @sf stays the caller's */
	return err;
}
