// SPDX-License-Identifier: MIT
/*
 * S1 (seed 000): an IOMMU-style device DMAs a page that reclaim is taking
 * away. When the secondary flush is owed until invalidate_range_end (or made
 * by invalidate_page after the PTL, 4.12) and the page is put before it, the
 * freed frame can be re-used while the device's IOTLB/ATC still translate to
 * it: the device reads the new owner's data (use-after-free), and the
 * library's protocol check reports the early free. With the flush under the
 * PTL (latest) nothing is found.
 *
 * INTERLEAVED: at the reclaimer's PTL unlock, once the entry of a page is
 * gone, the freed frame is re-allocated (LIFO) by a new owner who writes it,
 * then the device DMAs that page through its caches without page requests
 * (the reclaimer holds the page lock). One such injection per page.
 * NATIVE: a reclaimer, a device and a frame re-user run as real threads.
 * EXPLORE: the device's caches filled first, then the same three actors
 * (4 rounds by default) as one schedule of the deterministic backend; no
 * hook places the race.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"
#include "scn_iommu.h"

#define S1_PG MMN_PAGE_SIZE
#define S1_BASE 0x40000000UL
#define S1_MAX_PAGES 64UL
#define S1_OLD(i) (0xda7a0000ULL + (uint64_t)(i))
#define S1_NEW 0x5ec7e7ULL

struct s1_ctx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_iommu *io;
	int pasid;
	unsigned long pages;
	unsigned long iterations;
	/* interleaved */
	unsigned long stolen[S1_MAX_PAGES];
	bool fired[S1_MAX_PAGES];
	unsigned long injections, new_data_reads, old_data_reads, no_translation;
	bool bad;
	/* native and explore */
	atomic_int done;
	atomic_ulong dma_ok, dma_err, reclaims, reuses;
};

static void s1_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct s1_ctx *s = arg;

	if (ev->kind != MMN_SCHED_UNLOCK || !ev->name || strcmp(ev->name, "ptl") != 0)
		return;
	for (unsigned long i = 0; i < s->pages; i++) {
		unsigned long addr = S1_BASE + i * S1_PG;
		struct mmn_walk w;
		uint64_t v = S1_NEW, got = 0;
		int r;

		if (s->fired[i])
			continue;
		if (mmn_pgtable_walk(s->mm, addr, &w) != 0 || mmn_pte_present(w.entry))
			continue;
		s->fired[i] = true;
		s->injections++;
		s->stolen[i] = mmn_alloc_page(sim, MMN_PG_ANON);
		if (!s->stolen[i]) {
			s->bad = true;
			return;
		}
		mmn_phys_access(sim, s->stolen[i], mmn_page_gen(sim, s->stolen[i]), 0, true, &v);
		r = mmn_iommu_dma(s->io, s->pasid, addr, MMN_IOMMU_DMA_NO_PRI, &got);
		if (r == -ENXIO)
			s->no_translation++;
		else if (r == 0 && got == S1_NEW)
			s->new_data_reads++;
		else if (r == 0 && got == S1_OLD(i))
			s->old_data_reads++;
		else
			s->bad = true;
		return; /* one injection per unlock */
	}
}

static int s1_interleaved(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	struct s1_ctx *s = ctx;
	unsigned long len = s->pages * S1_PG;
	unsigned long back = 0;

	(void)sim;
	(void)p;
	for (unsigned long i = 0; i < s->pages; i++) {
		uint64_t v;

		if (mmn_cpu_write(s->mm, 0, S1_BASE + i * S1_PG, S1_OLD(i)) ||
		    mmn_iommu_dma_read(s->io, s->pasid, S1_BASE + i * S1_PG, &v) || v != S1_OLD(i))
			return -EIO; /* fills IOTLB and ATC */
	}
	mmn_sched_set_hook(s->sim, s1_hook, s);
	if (mmn_try_to_unmap(s->mm, S1_BASE, len))
		s->bad = true;
	mmn_sched_set_hook(s->sim, NULL, NULL);
	for (unsigned long i = 0; i < s->pages; i++)
		if (s->stolen[i] && mmn_put_page(s->sim, s->stolen[i]))
			s->bad = true;
	/* Swapped back in on the next access: the old data again. */
	for (unsigned long i = 0; i < s->pages; i++) {
		uint64_t v = 0;

		if (mmn_iommu_dma_read(s->io, s->pasid, S1_BASE + i * S1_PG, &v) == 0 &&
		    v == S1_OLD(i))
			back++;
	}
	out->runs = 1;
	mmn_scenario_add_counter(out, "injections", s->injections);
	mmn_scenario_add_counter(out, "dma_new_owner_data", s->new_data_reads);
	mmn_scenario_add_counter(out, "dma_old_data", s->old_data_reads);
	mmn_scenario_add_counter(out, "dma_no_translation", s->no_translation);
	mmn_scenario_add_counter(out, "swapped_back_in", back);
	return s->bad ? -EIO : 0;
}

static void *s1_reclaimer(void *arg)
{
	struct s1_ctx *s = arg;

	for (unsigned long n = 0; n < s->iterations; n++) {
		unsigned long i = n % s->pages;

		(void)mmn_cpu_write(s->mm, 0, S1_BASE + i * S1_PG, S1_OLD(i));
		if (mmn_try_to_unmap(s->mm, S1_BASE + i * S1_PG, S1_PG) == 0)
			atomic_fetch_add(&s->reclaims, 1);
	}
	atomic_fetch_add(&s->done, 1);
	return NULL;
}

static void *s1_device(void *arg)
{
	struct s1_ctx *s = arg;

	for (unsigned long n = 0; n < s->iterations; n++) {
		uint64_t v;

		if (mmn_iommu_dma_read(s->io, s->pasid, S1_BASE + (n % s->pages) * S1_PG, &v) == 0)
			atomic_fetch_add(&s->dma_ok, 1);
		else
			atomic_fetch_add(&s->dma_err, 1);
	}
	atomic_fetch_add(&s->done, 1);
	return NULL;
}

static void *s1_reuser(void *arg)
{
	struct s1_ctx *s = arg;

	for (unsigned long n = 0; atomic_load(&s->done) < 2 && n < 4 * s->iterations; n++) {
		unsigned long pfn = mmn_alloc_page(s->sim, MMN_PG_ANON);
		uint64_t v = S1_NEW;

		if (!pfn)
			continue;
		mmn_phys_access(s->sim, pfn, mmn_page_gen(s->sim, pfn), 0, true, &v);
		(void)mmn_put_page(s->sim, pfn);
		atomic_fetch_add(&s->reuses, 1);
	}
	return NULL;
}

static int s1_native(struct s1_ctx *s, struct mmn_scenario_result *out)
{
	struct mmn_actor *a[3];
	void *(*fn[3])(void *) = { s1_reclaimer, s1_device, s1_reuser };
	const char *names[3] = { "reclaimer", "device", "reuser" };
	int n = 0, err = 0;

	for (; n < 3; n++) {
		err = mmn_actor_spawn(s->sim, names[n], fn[n], s, &a[n]);
		if (err) {
			atomic_store(&s->done, 2);
			break;
		}
	}
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
	out->runs = s->iterations;
	mmn_scenario_add_counter(out, "reclaims", atomic_load(&s->reclaims));
	mmn_scenario_add_counter(out, "dma_ok", atomic_load(&s->dma_ok));
	mmn_scenario_add_counter(out, "dma_failed", atomic_load(&s->dma_err));
	mmn_scenario_add_counter(out, "frame_reuses", atomic_load(&s->reuses));
	return err;
}

static int s1_native_mode(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	(void)sim;
	(void)p;
	return s1_native(ctx, out);
}

struct s1_explore {
	struct s1_ctx *s;
	struct mmn_scenario_result *out;
	int err;
};

static void s1_explore_body(struct mmn_sim *sim, void *arg)
{
	struct s1_explore *x = arg;

	(void)sim;
	x->err = s1_native(x->s, x->out);
}

/* EXPLORE: the native run's three actors as one schedule. */
static int s1_explore(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out)
{
	struct s1_ctx *s = ctx;
	struct s1_explore x = { .s = s, .out = out };
	int err = 0;

	/* The device has translated every page before the race starts, as
	 * in INTERLEAVED: what is left is a depth-2 bug (the reclaimer in
	 * its window, then a DMA). */
	for (unsigned long i = 0; !err && i < s->pages; i++) {
		uint64_t v;

		if (mmn_cpu_write(s->mm, 0, S1_BASE + i * S1_PG, S1_OLD(i)) ||
		    mmn_iommu_dma_read(s->io, s->pasid, S1_BASE + i * S1_PG, &v))
			err = -EIO;
	}
	if (!err)
		err = mmn_scenario_sched_run(sim, p, s1_explore_body, &x, out);

	return err ? err : x.err;
}

static int s1_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	if (p->variant < -1 || p->variant > MMN_IOMMU_AMDV2 || p->pages > S1_MAX_PAGES)
		return -EINVAL;
	return 0;
}

static int s1_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	struct s1_ctx *s = ctx;

	(void)values;
	s->pages = p->pages ? p->pages : 1;
	s->iterations = p->iterations ? p->iterations
				      : p->mode == MMN_SCENARIO_EXPLORE ? 4 : 2000;
	cfg->nr_cpus = 2;
	cfg->nr_frames = 4096;
	if (p->mode == MMN_SCENARIO_EXPLORE)
		cfg->nr_frames = 512; /* a schedule uses a few; all are zeroed at creation */
	cfg->profile = p->profile ? p->profile : "latest";
	/* The wrong setting: the flush owed until range_end unless a profile
	 * says where it goes, and the page put before it. */
	if (p->wrong && !p->profile)
		*own++ = "secondary_flush=range_end";
	if (p->wrong)
		*own++ = "put_page_before_secondary_flush=true";
	return 0;
}

/* One mm with s->pages anonymous pages, bound to an IOMMU-style device. */
static int s1_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct mmn_iommu_config icfg;
	struct s1_ctx *s = ctx;

	(void)out;
	s->sim = sim;
	mmn_iommu_config_init(&icfg);
	icfg.mode = p->variant < 0 ? MMN_IOMMU_SVA : (enum mmn_iommu_mode)p->variant;
	return scn_iommu_mm(sim, &icfg, S1_BASE, s->pages * S1_PG, 0, &s->mm, &s->io,
				 &s->pasid);
}

static void s1_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	(void)ctx;
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", p->profile ? p->profile : "latest");
	mmn__scn_fmt(out->setting, sizeof(out->setting), "%s",
		 !p->wrong ? "flush under the PTL (profile default)" :
		 !p->profile ? "secondary_flush=range_end put_page_before_secondary_flush=true" :
			       "profile flush, put_page_before_secondary_flush=true");
	(void)mmn_check_quiescent(sim);
	mmn_scenario_collect_violations(sim, out);
	if (p->wrong)
		out->claim_holds = out->by_kind[MMN_VIOL_USE_AFTER_FREE] > 0;
	else
		out->claim_holds = out->violations == 0;
	mmn__scn_fmt(out->note, sizeof(out->note),
		 "%s: %lu use-after-free, %lu protocol (early free), %lu violations in all",
		 mmn_scenario_mode_name(p->mode), out->by_kind[MMN_VIOL_USE_AFTER_FREE],
		 out->by_kind[MMN_VIOL_PROTOCOL], out->violations);
}

static int s1_teardown(void *ctx, int err)
{
	struct s1_ctx *s = ctx;

	scn_iommu_put(s->mm, s->io);
	return err;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s1 = {
	.id = "S1",
	.seed = "000",
	.title = "IOMMU-style device DMA racing reclaim of the page it reads",
	.claim = "UAF found with the flush at range_end (or after the PTL); none with the flush "
		 "under the PTL",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE,
	.validate = s1_validate,
	.ctx_size = sizeof(struct s1_ctx),
	.configure = s1_configure,
	.setup = s1_setup,
	.interleaved = s1_interleaved,
	.native = s1_native_mode,
	.explore = s1_explore,
	.judge = s1_judge,
	.teardown = s1_teardown,
};
