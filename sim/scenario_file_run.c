// SPDX-License-Identifier: MIT
/*
 * The scenario-file interpreter (sim/scenario_file.h, docs/cli.md
 * "Scenario files"): a checked file (struct sfile) becomes a struct
 * mmn_scenario_def registered with mmn_scenario_register(), so that run,
 * explore, replay and shrink take it exactly as any scenario. Its hooks:
 *
 *   configure  the file's CPUs, frames, profile, and the knobs of the
 *              setting (simulation.knobs, then right_knobs or wrong_knobs)
 *   setup      one mm, the mappings (mmn_mmap()), the listeners created on
 *              it with the setting's variant, then the prologue, run alone
 *   actors     actor 0 of the schedule: one actor per file actor, spawned
 *              in order, each running its operations; all joined
 *   judge      mmn_scenario_judge() with claim.wrong as found_kinds, and
 *              the operations that failed as counters
 *   teardown   the listeners, then the mm
 *
 * The hooks find their file as the definition's user data
 * (p->def->user in the parameters the library hands them).
 * Errors of an operation are observations (a device read of an unmapped
 * page fails), counted, never an error of the run.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_file.h"

/* One file actor: its operations and the run it belongs to. */
struct sf_actor_arg {
	struct sf_ctx *c;
	int actor;
};

struct sf_ctx {
	const struct sfile *sf;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	bool wrong;
	struct mmn_iommu *io[SFILE_MAX_LISTENERS];
	int pasid[SFILE_MAX_LISTENERS];
	struct mmn_kvm *kvm[SFILE_MAX_LISTENERS];
	struct mmn_hmm *hmm[SFILE_MAX_LISTENERS];
	struct sf_actor_arg args[SFILE_MAX_ACTORS];
	atomic_ulong ops_run, ops_failed;
};

/* A device access through listener o->listener. */
static int sf_device(struct sf_ctx *c, const struct sfile_op *o)
{
	int i = o->listener;
	uint64_t v = o->value;
	unsigned long page = o->addr & ~(uint64_t)(MMN_PAGE_SIZE - 1);
	bool wr = o->op == SF_DEVICE_WRITE;
	long r;

	switch (c->sf->lis[i].kind) {
	case SF_IOMMU:
		return wr ? mmn_iommu_dma_write(c->io[i], c->pasid[i], o->addr, v)
			  : mmn_iommu_dma_read(c->io[i], c->pasid[i], o->addr, &v);
	case SF_KVM: /* guest frame = host page number: the memslots map identically */
		return wr ? mmn_kvm_vcpu_write(c->kvm[i], 0, o->addr / MMN_PAGE_SIZE, v)
			  : mmn_kvm_vcpu_read(c->kvm[i], 0, o->addr / MMN_PAGE_SIZE, &v);
	case SF_HMM:
		r = wr ? mmn_hmm_write(c->hmm[i], page, 1, &v) : mmn_hmm_read(c->hmm[i], page, 1, &v);
		return r < 0 ? (int)r : 0;
	}
	return -EINVAL;
}

/* One operation (not a loop). */
static int sf_op(struct sf_ctx *c, const struct sfile_op *o)
{
	uint64_t v;

	switch (o->op) {
	case SF_READ:
		return mmn_cpu_read(c->mm, o->cpu, o->addr, &v);
	case SF_WRITE:
		return mmn_cpu_write(c->mm, o->cpu, o->addr, o->value);
	case SF_MUNMAP:
		return mmn_munmap(c->mm, o->addr, o->length);
	case SF_MADV_DONTNEED:
		return mmn_madvise(c->mm, o->addr, o->length, MMN_MADV_DONTNEED);
	case SF_MPROTECT:
		return mmn_mprotect(c->mm, o->addr, o->length, o->prot);
	case SF_TRY_TO_UNMAP:
		return mmn_try_to_unmap(c->mm, o->addr, o->length);
	case SF_DEVICE_READ:
	case SF_DEVICE_WRITE:
		return sf_device(c, o);
	case SF_LOOP:
		break;
	}
	return -EINVAL;
}

/* Run ops[0 .. n), loops unrolled. */
static void sf_run_ops(struct sf_ctx *c, const struct sfile_op *ops, int n)
{
	for (int i = 0; i < n; i++) {
		if (ops[i].op == SF_LOOP) {
			for (unsigned long k = 0; k < ops[i].count; k++)
				sf_run_ops(c, ops + i + 1, ops[i].body);
			i += ops[i].body;
			continue;
		}
		atomic_fetch_add(&c->ops_run, 1);
		if (sf_op(c, &ops[i]))
			atomic_fetch_add(&c->ops_failed, 1);
	}
}

static void *sf_actor(void *arg)
{
	struct sf_actor_arg *a = arg;
	const struct sfile_actor *fa = &a->c->sf->actors[a->actor];

	sf_run_ops(a->c, a->c->sf->ops + fa->first, fa->nr);
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
	cfg->profile = p->profile ? p->profile : sf->profile;
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && sf->knobs[p->wrong][i]; i++)
		own[i] = sf->knobs[p->wrong][i];
	return 0;
}

/* Listener @i on c->mm, with the setting's variant. */
static int sf_listener(struct sf_ctx *c, int i)
{
	const struct sfile_listener *l = &c->sf->lis[i];
	int variant = l->variant[c->wrong];

	if (l->kind == SF_IOMMU) {
		struct mmn_iommu_config cfg;

		mmn_iommu_config_init(&cfg);
		cfg.mode = (enum mmn_iommu_mode)variant;
		c->io[i] = mmn_iommu_create(c->sim, &cfg);
		return !c->io[i] ? -ENOMEM : mmn_iommu_bind(c->io[i], c->mm, &c->pasid[i]);
	}
	if (l->kind == SF_KVM) {
		struct mmn_kvm_config cfg;
		int err = 0;

		mmn_kvm_config_init(&cfg);
		cfg.variant = (enum mmn_kvm_variant)variant;
		c->kvm[i] = mmn_kvm_create(c->mm, &cfg);
		if (!c->kvm[i])
			return -errno;
		for (int m = 0; !err && m < c->sf->sum.nr_mappings; m++)
			err = mmn_kvm_set_memslot(c->kvm[i], m, c->sf->maps[m].start / MMN_PAGE_SIZE,
						  c->sf->maps[m].length / MMN_PAGE_SIZE,
						  c->sf->maps[m].start);
		return err;
	}
	{
		struct mmn_hmm_config cfg;
		uint64_t lo = UINT64_MAX, hi = 0;

		for (int m = 0; m < c->sf->sum.nr_mappings; m++) {
			lo = c->sf->maps[m].start < lo ? c->sf->maps[m].start : lo;
			if (c->sf->maps[m].start + c->sf->maps[m].length > hi)
				hi = c->sf->maps[m].start + c->sf->maps[m].length;
		}
		mmn_hmm_config_init(&cfg);
		cfg.variant = (enum mmn_hmm_variant)variant;
		/* The span of the mappings (none: -EINVAL from mmn_hmm_create()). */
		return mmn_hmm_create(c->mm, hi > lo ? lo : 0, hi > lo ? hi - lo : 0, &cfg, &c->hmm[i]);
	}
}

static int sf_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct sf_ctx *c = ctx;
	int err = 0;

	(void)p;
	(void)out;
	c->sim = sim;
	c->mm = mmn_mm_create(sim);
	if (!c->mm)
		return -ENOMEM;
	for (int m = 0; !err && m < c->sf->sum.nr_mappings; m++) {
		unsigned long got;

		err = mmn_mmap(c->mm, c->sf->maps[m].start, c->sf->maps[m].length,
			       c->sf->maps[m].prot, c->sf->maps[m].flags, &got);
	}
	for (int i = 0; !err && i < c->sf->sum.nr_listeners; i++)
		err = sf_listener(c, i);
	if (!err)
		sf_run_ops(c, c->sf->ops, c->sf->nr_prologue);
	return err;
}

static void sf_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct sf_ctx *c = ctx;

	mmn_scenario_judge(sim, c->sf->found_kinds, p, out);
	mmn_scenario_add_counter(out, "operations", atomic_load(&c->ops_run));
	mmn_scenario_add_counter(out, "operations_failed", atomic_load(&c->ops_failed));
}

static int sf_teardown(void *ctx, int err)
{
	struct sf_ctx *c = ctx;

	for (int i = 0; i < SFILE_MAX_LISTENERS; i++) {
		if (c->io[i])
			mmn_iommu_destroy(c->io[i]);
		if (c->kvm[i])
			mmn_kvm_destroy(c->kvm[i]);
		if (c->hmm[i] && mmn_hmm_destroy(c->hmm[i]) && !err)
			err = -EBUSY;
	}
	if (c->mm)
		mmn_mm_put(c->mm);
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
		.found_kinds = sf->found_kinds, .user = sf,
		.validate = sf_validate, .ctx_size = sizeof(struct sf_ctx),
		.configure = sf_configure, .setup = sf_setup, .actors = sf_actors,
		.judge = sf_judge, .teardown = sf_teardown };
	err = mmn_scenario_register(&d->def);
	if (err)
		free(d); /* @sf stays the caller's */
	return err;
}
