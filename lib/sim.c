// SPDX-License-Identifier: MIT
/*
 * The simulation object: configuration, creation and teardown of every
 * module's per-simulation state.
 */
#include <stdlib.h>
#include <string.h>

#include <mmnsim/version.h>

#include "internal.h"
#include "sync/internal.h"
#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"

void mmn_sim_config_init(struct mmn_sim_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->nr_cpus = 4;
	cfg->nr_frames = 65536;
	cfg->nr_huge_pages = 8;
	cfg->tlb_entries = 64;
	cfg->tlb_huge_entries = 16;
	cfg->backend = MMN_BACKEND_NATIVE;
	cfg->seed = 1;
	cfg->lockdep = true;
	cfg->profile = NULL;
}

/* Largest pool: pfns must fit the 30 bits a TLB slot keeps. */
#define MMN_MAX_FRAMES (1UL << 30)

static int sim_config_check(const struct mmn_sim_config *cfg)
{
	if (cfg->nr_cpus < 1 || cfg->nr_cpus > MMN_MAX_CPUS)
		return -EINVAL;
	if (cfg->nr_frames < 16 || cfg->nr_frames > MMN_MAX_FRAMES)
		return -EINVAL;
	if (cfg->nr_huge_pages > (MMN_MAX_FRAMES - cfg->nr_frames) / MMN_HPAGE_NR)
		return -EINVAL;
	if (cfg->tlb_entries < 1 || cfg->tlb_entries > 65536 ||
	    (cfg->tlb_entries & (cfg->tlb_entries - 1)))
		return -EINVAL;
	if (cfg->tlb_huge_entries < 1 || cfg->tlb_huge_entries > 65536 ||
	    (cfg->tlb_huge_entries & (cfg->tlb_huge_entries - 1)))
		return -EINVAL;
	if (cfg->backend != MMN_BACKEND_NATIVE && cfg->backend != MMN_BACKEND_DETERMINISTIC)
		return -EINVAL;
	if (!mmn_profile_by_name(cfg->profile))
		return -EINVAL;
	return 0;
}

struct mmn_sim *mmn_sim_create(const struct mmn_sim_config *cfg)
{
	struct mmn_sim_config defaults;
	struct mmn_sim *sim;
	int err;

	if (!cfg) {
		mmn_sim_config_init(&defaults);
		cfg = &defaults;
	}
	err = sim_config_check(cfg);
	if (err) {
		errno = -err;
		return NULL;
	}
	sim = calloc(1, sizeof(*sim));
	if (!sim) {
		errno = ENOMEM;
		return NULL;
	}
	sim->cfg = *cfg;
	sim->profile = *mmn_profile_by_name(cfg->profile);
	sim->cfg.profile = sim->profile.name;
	mmn_check_sim_init(sim);
	mmn_clock_sim_init(sim);
	mmn_raw_lock_init(&sim->mm_list_lock);
	err = mmn_sync_sim_init(sim);
	if (err)
		goto fail_sync;
	mmn_srcu_init(&sim->notifier_srcu, sim, "mmu_notifier_srcu");
	mmn__notifier_sim_init(sim);
	err = mmn_page_sim_init(sim);
	if (err)
		goto fail_page;
	err = mmn_tlb_sim_init(sim);
	if (err)
		goto fail_tlb;
	return sim;

fail_tlb:
	mmn_page_sim_fini(sim);
fail_page:
	mmn_srcu_destroy(&sim->notifier_srcu);
	mmn_sync_sim_fini(sim);
fail_sync:
	mmn_raw_lock_destroy(&sim->mm_list_lock);
	mmn_check_sim_fini(sim);
	free(sim);
	errno = -err;
	return NULL;
}

void mmn_sim_destroy(struct mmn_sim *sim)
{
	if (!sim)
		return;
	/* Pending SRCU callbacks (mmu_notifier_put) may still drop mms. */
	mmn_srcu_barrier(&sim->notifier_srcu);
	mmn_mm_sim_fini(sim);
	mmn_devmem_sim_fini(sim);
	mmn_tlb_sim_fini(sim);
	mmn_page_sim_fini(sim);
	mmn_srcu_destroy(&sim->notifier_srcu);
	mmn_sync_sim_fini(sim);
	mmn_raw_lock_destroy(&sim->mm_list_lock);
	mmn_check_sim_fini(sim);
	free(sim);
}

const struct mmn_sim_config *mmn_sim_config_get(const struct mmn_sim *sim)
{
	return sim ? &sim->cfg : NULL;
}

void mmn_sim_get_stats(const struct mmn_sim *sim, struct mmn_stats *out)
{
	const struct mmn_frame_pool *pool;

	if (!sim || !out)
		return;
	memset(out, 0, sizeof(*out));
	pool = sim->pool;
	out->frames_total = pool->nr_frames;
	/* A racy snapshot is fine: documented as approximate while actors run. */
	out->frames_free = __atomic_load_n(&pool->nr_free, __ATOMIC_RELAXED);
	out->huge_pages_free = __atomic_load_n(&pool->nr_huge_free, __ATOMIC_RELAXED);
	out->frames_allocated = atomic_load_explicit(&pool->allocated, memory_order_relaxed);
	out->frames_freed = atomic_load_explicit(&pool->freed, memory_order_relaxed);
	out->pgtables = (unsigned long)atomic_load_explicit(&pool->pgtables, memory_order_relaxed);
	for (unsigned int i = 0; i < sim->cfg.nr_cpus; i++) {
		const struct mmn_cpu *c = &sim->cpus[i];

		out->tlb_hits += atomic_load_explicit(&c->hits, memory_order_relaxed);
		out->tlb_misses += atomic_load_explicit(&c->misses, memory_order_relaxed);
		out->tlb_fills += atomic_load_explicit(&c->fills, memory_order_relaxed);
		out->tlb_entries_dropped += atomic_load_explicit(&c->dropped, memory_order_relaxed);
		out->tlb_shootdowns += atomic_load_explicit(&c->shootdowns, memory_order_relaxed);
	}
	out->tlb_flush_page = atomic_load_explicit(&sim->flush_stats.page, memory_order_relaxed);
	out->tlb_flush_range = atomic_load_explicit(&sim->flush_stats.range, memory_order_relaxed);
	out->tlb_flush_mm = atomic_load_explicit(&sim->flush_stats.mm, memory_order_relaxed);
	out->gather_flushes = atomic_load_explicit(&sim->flush_stats.gather, memory_order_relaxed);
	out->faults = atomic_load_explicit(&sim->fault_stats.faults, memory_order_relaxed);
	out->faults_zero_page = atomic_load_explicit(&sim->fault_stats.zero, memory_order_relaxed);
	out->faults_anon = atomic_load_explicit(&sim->fault_stats.anon, memory_order_relaxed);
	out->faults_shared = atomic_load_explicit(&sim->fault_stats.shared, memory_order_relaxed);
	out->faults_cow = atomic_load_explicit(&sim->fault_stats.cow, memory_order_relaxed);
	out->faults_reuse = atomic_load_explicit(&sim->fault_stats.reuse, memory_order_relaxed);
	out->faults_huge = atomic_load_explicit(&sim->fault_stats.huge, memory_order_relaxed);
	out->faults_numa = atomic_load_explicit(&sim->fault_stats.numa, memory_order_relaxed);
}

const struct mmn_profile *mmn_sim_profile(const struct mmn_sim *sim)
{
	return sim ? &sim->profile : NULL;
}

int mmn_sim_set_knob(struct mmn_sim *sim, const char *knob, const char *value)
{
	struct mmn_profile p;
	int err;

	if (!sim)
		return -EINVAL;
	/* The cost model's knobs live beside the profile, not in it. */
	if (knob && !strncmp(knob, "cost_", 5))
		return mmn_clock_set_knob(sim, knob, value);
	p = sim->profile;
	err = mmn_profile_set_knob(&p, knob, value);
	if (!err)
		sim->profile = p;
	return err;
}

const char *mmn_version_string(void)
{
	return MMN_VERSION_STRING;
}
