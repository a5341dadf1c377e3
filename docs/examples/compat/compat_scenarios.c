// SPDX-License-Identifier: MIT
/*
 * The two kernel-style files of this folder (dmirror_compat.c,
 * kvm_compat.c) as mmnsim user scenarios: the harness side, written against
 * mmnsim's own API (it is not driver code). Each scenario maps two pages,
 * then a device (or vCPU) reads page 0 twice while munmap removes both:
 *   compat-dmirror  right: read_retry under the device lock; wrong: without
 *   compat-kvm      right: in_progress and sequence; wrong: sequence only
 * It sees the drivers through their headers, which use the compat tree's
 * types (struct mm_struct is struct mmn_mm, u64 is uint64_t): it is compiled
 * with -I include/mmnsim/compat like them.
 * The test build links this file into tests/compat/test_compat and into the
 * plugin mmnsim_compat_plugin.so (mmnsim --load ... explore compat-dmirror).
 */
#include <errno.h>
#include <stdint.h>

#include <linux/err.h>
#include <mmnsim/mmnsim.h>

#include "compat_scenarios.h"
#include "dmirror_compat.h"
#include "kvm_compat.h"

#define BASE 0x10000000UL
#define PAGES 2
#define READS 2

struct compat_race {
	struct mmn_mm *mm;
	struct dmirror *dmirror;
	struct kvm *kvm;
};

static void *device_actor(void *arg)
{
	struct compat_race *c = arg;
	uint64_t v;

	for (int i = 0; i < READS; i++) {
		if (c->dmirror)
			(void)dmirror_read(c->dmirror, BASE, &v);
		else
			(void)kvm_guest_read(c->kvm, 0, 0, &v);
	}
	return NULL;
}

static void *munmap_actor(void *arg)
{
	struct compat_race *c = arg;

	(void)mmn_munmap(c->mm, BASE, PAGES * MMN_PAGE_SIZE);
	return NULL;
}

static void race_actors(struct mmn_sim *sim, void *ctx)
{
	struct compat_race *c = ctx;
	struct mmn_actor *a = NULL, *b = NULL;

	for (unsigned long i = 0; i < PAGES; i++)
		(void)mmn_cpu_write(c->mm, 0, BASE + i * MMN_PAGE_SIZE, 0x600d + i);
	(void)mmn_actor_spawn(sim, "device", device_actor, c, &a);
	(void)mmn_actor_spawn(sim, "munmap", munmap_actor, c, &b);
	if (a)
		(void)mmn_actor_join(a, NULL);
	if (b)
		(void)mmn_actor_join(b, NULL);
}

static int race_map(struct compat_race *c, struct mmn_sim *sim)
{
	unsigned long got;

	/* The drivers' kernel-style locks bind to the current simulation. */
	(void)mmn_sim_set_current(sim);
	c->mm = mmn_mm_create(sim);
	if (!c->mm)
		return -ENOMEM;
	return mmn_mmap(c->mm, BASE, PAGES * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
			MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
}

static int dmirror_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			 struct mmn_scenario_result *out)
{
	struct compat_race *c = ctx;
	struct dmirror *d;
	int err = race_map(c, sim);

	(void)out;
	if (err)
		return err;
	d = dmirror_create(c->mm, BASE, PAGES, p->wrong ? DMIRROR_NO_READ_RETRY : 0);
	if (IS_ERR(d))
		return (int)PTR_ERR(d);
	c->dmirror = d;
	return 0;
}

static int kvm_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct compat_race *c = ctx;
	struct kvm *k;
	int err = race_map(c, sim);

	(void)out;
	if (err)
		return err;
	k = kvm_create(c->mm, BASE, PAGES, p->wrong ? KVMFRAG_SEQ_ONLY : 0);
	if (IS_ERR(k))
		return (int)PTR_ERR(k);
	c->kvm = k;
	return 0;
}

static int race_teardown(void *ctx, int err)
{
	struct compat_race *c = ctx;

	if (c->dmirror)
		dmirror_destroy(c->dmirror);
	if (c->kvm)
		kvm_destroy(c->kvm);
	if (c->mm)
		mmn_mm_put(c->mm);
	return err;
}

static const struct mmn_scenario_def compat_dmirror = {
	.id = "compat-dmirror",
	.title = "kernel-style dmirror (compat headers) fault racing munmap",
	.ctx_size = sizeof(struct compat_race),
	.claim = "use-after-free without read_retry under the device lock; none with it",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE | 1u << MMN_VIOL_STALE_TRANSLATION,
	.setup = dmirror_setup, .actors = race_actors, .teardown = race_teardown,
};

static const struct mmn_scenario_def compat_kvm = {
	.id = "compat-kvm",
	.title = "kernel-style KVM fragment (compat headers) fault racing munmap",
	.ctx_size = sizeof(struct compat_race),
	.claim = "use-after-free when the fault checks the sequence only; none with in_progress",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE | 1u << MMN_VIOL_STALE_TRANSLATION,
	.setup = kvm_setup, .actors = race_actors, .teardown = race_teardown,
};

int compat_scenarios_register(void)
{
	int err = mmn_scenario_register(&compat_dmirror);

	return err ? err : mmn_scenario_register(&compat_kvm);
}
