// SPDX-License-Identifier: MIT
/*
 * S3 (seed 001): an only_end path with an IOMMU-style listener. The hugetlb
 * protection change (hugetlb_change_protection(), lib/ops/mprotect.c) ends
 * with invalidate_range_only_end() and flushes only the CPU TLB under its
 * locks (flush_hugetlb_tlb_range(): no ->invalidate_range at that call site
 * before 6.6). Profile 6.5 with only_end_skips_flush=true: no secondary
 * flush at all, so the device keeps a writable translation of a huge page
 * the CPU now maps read-only, found by the quiescent audit (and a device
 * write through it succeeds). With only_end_skips_flush=false (end flushes),
 * or latest (flush with the CPU flush), nothing is stale.
 *
 * INTERLEAVED: the device writes one word in each huge page (its IOTLB/ATC
 * then hold writable translations), mprotect(PROT_READ) of the range, the
 * audit, then one more device write per huge page without page requests.
 * NATIVE: a device thread writing and reading the huge pages races a thread
 * toggling the protection; the range is left read-only, then the audit.
 * EXPLORE: the huge pages are faulted in by the CPU (writable PMD leaves),
 * the device's caches are left empty; then two actors as one schedule of
 * the deterministic backend: "mprotect" makes the range read-only once, the
 * "device" writes one word per huge page (2 rounds by default) without
 * page requests. No hook places the race. A schedule violates when a device
 * write translated (walk + IOTLB/ATC fill, writable) before the PMD leaf
 * became read-only: with the skip nothing flushes that entry, the audit
 * finds it stale, and the device's later write goes through it
 * ("dma_writes_to_read_only"). A device write after the change finds no
 * translation (-ENXIO, no PRI). Right setting: the end flush (or latest's
 * flush with the CPU's) drops the entry whatever the order; a walk after
 * the change fills read-only (the walk and the fill are one step under the
 * IOMMU's cache lock, which the flush takes too). The bug is depth 1 for
 * PCT (the device running first is enough), so nearly every wrong schedule
 * shows it. No use-after-free can show: a protection change frees nothing.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scn_iommu.h"

#define S3_PG MMN_PAGE_SIZE
#define S3_HP MMN_PMD_SIZE
#define S3_BASE 0x40000000UL
#define S3_MAX_HUGE 4UL
/* The device word of huge page i: distinct IOTLB/ATC sets (direct-mapped). */
#define S3_ADDR(i) (S3_BASE + (i) * S3_HP + (8 + (i)) * S3_PG)

struct s3_ctx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_iommu *io;
	int pasid;
	unsigned long huge;
	unsigned long iterations;
	atomic_bool done;
	atomic_ulong prot_changes, dma_ok, dma_err;
	/* explore */
	atomic_ulong dma_enxio, dma_through;
};

static int s3_interleaved(struct s3_ctx *s, struct mmn_scenario_result *out)
{
	unsigned long len = s->huge * S3_HP, stale, writes_through = 0;
	struct mmn_iommu_stats st;
	long q;

	for (unsigned long i = 0; i < s->huge; i++) {
		if (mmn_cpu_write(s->mm, 0, S3_BASE + i * S3_HP, 0x100 + i))
			return -EIO;
		/* A device write: a writable IOTLB/ATC entry. */
		if (mmn_iommu_dma_write(s->io, s->pasid, S3_ADDR(i), 0x200 + i))
			return -EIO;
	}
	if (mmn_mprotect(s->mm, S3_BASE, len, MMN_PROT_READ))
		return -EIO;
	q = mmn_check_quiescent(s->sim);
	if (q < 0)
		return (int)q;
	stale = (unsigned long)q;
	/* The device writes again, never page-requesting: a success goes
	 * through a translation the CPU table no longer allows. */
	for (unsigned long i = 0; i < s->huge; i++) {
		uint64_t v = 0x300 + i;

		if (mmn_iommu_dma(s->io, s->pasid, S3_ADDR(i),
				  MMN_IOMMU_DMA_WRITE | MMN_IOMMU_DMA_NO_PRI, &v) == 0)
			writes_through++;
	}
	if (mmn_iommu_get_stats(s->io, &st))
		return -EIO;
	out->runs = 1;
	mmn_scenario_add_counter(out, "stale_after_mprotect", stale);
	mmn_scenario_add_counter(out, "dma_writes_to_read_only", writes_through);
	mmn_scenario_add_counter(out, "iommu_flushes", st.flushes);
	mmn_scenario_add_counter(out, "entries_flushed", st.entries_flushed);
	return 0;
}

static void *s3_protector(void *arg)
{
	struct s3_ctx *s = arg;

	for (unsigned long n = 0; n < s->iterations; n++) {
		int prot = (n & 1) ? (MMN_PROT_READ | MMN_PROT_WRITE) : MMN_PROT_READ;

		if (mmn_mprotect(s->mm, S3_BASE, s->huge * S3_HP, prot) == 0)
			atomic_fetch_add(&s->prot_changes, 1);
	}
	atomic_store(&s->done, true);
	return NULL;
}

static void *s3_device(void *arg)
{
	struct s3_ctx *s = arg;

	for (unsigned long n = 0; n < s->iterations && !atomic_load(&s->done); n++) {
		unsigned long addr = S3_ADDR(n % s->huge);
		uint64_t v = n;
		int r = (n & 1) ? mmn_iommu_dma_read(s->io, s->pasid, addr, &v)
				: mmn_iommu_dma(s->io, s->pasid, addr,
						MMN_IOMMU_DMA_WRITE | MMN_IOMMU_DMA_NO_PRI, &v);

		if (r == 0)
			atomic_fetch_add(&s->dma_ok, 1);
		else
			atomic_fetch_add(&s->dma_err, 1);
	}
	return NULL;
}

static int s3_native(struct s3_ctx *s, struct mmn_scenario_result *out)
{
	struct mmn_actor *pr = NULL, *dev = NULL;
	long q;
	int err;

	for (unsigned long i = 0; i < s->huge; i++)
		if (mmn_cpu_write(s->mm, 0, S3_BASE + i * S3_HP, 0x100 + i))
			return -EIO;
	err = mmn_actor_spawn(s->sim, "device", s3_device, s, &dev);
	if (!err)
		err = mmn_actor_spawn(s->sim, "mprotect", s3_protector, s, &pr);
	else
		atomic_store(&s->done, true);
	if (pr)
		(void)mmn_actor_join(pr, NULL);
	else
		atomic_store(&s->done, true);
	if (dev)
		(void)mmn_actor_join(dev, NULL);
	if (err)
		return err;
	/* Leave it read-only after a last device write, then audit. */
	if (mmn_mprotect(s->mm, S3_BASE, s->huge * S3_HP, MMN_PROT_READ | MMN_PROT_WRITE) ||
	    mmn_iommu_dma_write(s->io, s->pasid, S3_ADDR(0), 1) ||
	    mmn_mprotect(s->mm, S3_BASE, s->huge * S3_HP, MMN_PROT_READ))
		return -EIO;
	q = mmn_check_quiescent(s->sim);
	if (q < 0)
		return (int)q;
	out->runs = s->iterations;
	mmn_scenario_add_counter(out, "stale_at_end", (unsigned long)q);
	mmn_scenario_add_counter(out, "prot_changes", atomic_load(&s->prot_changes) + 2);
	mmn_scenario_add_counter(out, "dma_ok", atomic_load(&s->dma_ok));
	mmn_scenario_add_counter(out, "dma_failed", atomic_load(&s->dma_err));
	return 0;
}

/* EXPLORE: one protection change to read-only. */
static void *s3_x_protector(void *arg)
{
	struct s3_ctx *s = arg;

	if (mmn_mprotect(s->mm, S3_BASE, s->huge * S3_HP, MMN_PROT_READ) == 0)
		atomic_fetch_add(&s->prot_changes, 1);
	atomic_store(&s->done, true);
	return NULL;
}

/*
 * EXPLORE: device writes without page requests, a bounded loop. A write
 * that succeeds once the protector is done went through a writable
 * translation of read-only memory.
 */
static void *s3_x_device(void *arg)
{
	struct s3_ctx *s = arg;

	for (unsigned long n = 0; n < s->iterations; n++) {
		for (unsigned long i = 0; i < s->huge; i++) {
			uint64_t v = 0x400 + n;
			bool after = atomic_load(&s->done);
			int r = mmn_iommu_dma(s->io, s->pasid, S3_ADDR(i),
					      MMN_IOMMU_DMA_WRITE | MMN_IOMMU_DMA_NO_PRI, &v);

			if (r == 0) {
				atomic_fetch_add(&s->dma_ok, 1);
				if (after)
					atomic_fetch_add(&s->dma_through, 1);
			} else if (r == -ENXIO) {
				atomic_fetch_add(&s->dma_enxio, 1);
			} else {
				atomic_fetch_add(&s->dma_err, 1);
			}
		}
	}
	return NULL;
}

static void s3_explore_body(struct mmn_sim *sim, void *arg)
{
	struct s3_ctx *s = arg;
	struct mmn_actor *pr = NULL, *dev = NULL;

	if (mmn_actor_spawn(sim, "device", s3_x_device, s, &dev))
		return;
	(void)mmn_actor_spawn(sim, "mprotect", s3_x_protector, s, &pr);
	if (pr)
		(void)mmn_actor_join(pr, NULL);
	(void)mmn_actor_join(dev, NULL);
}

static int s3_explore(struct s3_ctx *s, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out)
{
	struct mmn_iommu_stats st;
	long q;
	int err;

	/* Prologue: the CPU faults the huge pages in (writable leaves). */
	for (unsigned long i = 0; i < s->huge; i++)
		if (mmn_cpu_write(s->mm, 0, S3_BASE + i * S3_HP, 0x100 + i))
			return -EIO;
	err = mmn_scenario_sched_run(s->sim, p, s3_explore_body, s, out);
	if (err)
		return err;
	q = mmn_check_quiescent(s->sim);
	if (q < 0)
		return (int)q;
	if (mmn_iommu_get_stats(s->io, &st))
		return -EIO;
	out->runs = 1;
	mmn_scenario_add_counter(out, "stale_at_end", (unsigned long)q);
	mmn_scenario_add_counter(out, "prot_changes", atomic_load(&s->prot_changes));
	mmn_scenario_add_counter(out, "dma_ok", atomic_load(&s->dma_ok));
	mmn_scenario_add_counter(out, "dma_no_translation", atomic_load(&s->dma_enxio));
	mmn_scenario_add_counter(out, "dma_failed", atomic_load(&s->dma_err));
	mmn_scenario_add_counter(out, "dma_writes_to_read_only", atomic_load(&s->dma_through));
	mmn_scenario_add_counter(out, "iommu_flushes", st.flushes);
	return 0;
}

static int s3_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	if (p->variant < -1 || p->variant > MMN_IOMMU_AMDV2 || p->pages > S3_MAX_HUGE)
		return -EINVAL;
	return 0;
}

static int s3_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	struct s3_ctx *s = ctx;

	(void)values;
	s->huge = p->pages ? p->pages : 1; /* huge pages */
	s->iterations = p->iterations ? p->iterations
				      : p->mode == MMN_SCENARIO_EXPLORE ? 2 : 2000;
	cfg->nr_cpus = 2;
	cfg->nr_frames = 1024;
	cfg->nr_huge_pages = 8;
	cfg->profile = p->profile ? p->profile : "6.5";
	/* The knob exists in every profile; only 4.15-6.5 set it. */
	own[0] = p->wrong ? "only_end_skips_flush=true" : "only_end_skips_flush=false";
	return 0;
}

/* One mm with s->huge hugetlb pages, bound to an IOMMU-style device. */
static int s3_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct mmn_iommu_config icfg;
	struct s3_ctx *s = ctx;

	(void)out;
	s->sim = sim;
	mmn_iommu_config_init(&icfg);
	icfg.mode = p->variant < 0 ? MMN_IOMMU_SVA : (enum mmn_iommu_mode)p->variant;
	return scn_iommu_mm(sim, &icfg, S3_BASE, s->huge * S3_HP, MMN_MAP_HUGETLB, &s->mm,
				 &s->io, &s->pasid);
}

static int s3_interleaved_mode(void *ctx, struct mmn_sim *sim,
			       const struct mmn_scenario_params *p, struct mmn_scenario_result *out)
{
	(void)sim;
	(void)p;
	return s3_interleaved(ctx, out);
}

static int s3_native_mode(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	(void)sim;
	(void)p;
	return s3_native(ctx, out);
}

static int s3_explore_mode(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			   struct mmn_scenario_result *out)
{
	(void)sim;
	return s3_explore(ctx, p, out);
}

static void s3_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	(void)ctx;
	snprintf(out->profile, sizeof(out->profile), "%s", p->profile ? p->profile : "6.5");
	snprintf(out->setting, sizeof(out->setting), "only_end_skips_flush=%s",
		 p->wrong ? "true" : "false");
	mmn_scenario_collect_violations(sim, out);
	if (p->wrong)
		out->claim_holds = out->by_kind[MMN_VIOL_STALE_TRANSLATION] > 0;
	else
		out->claim_holds = out->violations == 0;
	snprintf(out->note, sizeof(out->note),
		 "%s: %lu stale IOTLB translations, %lu violations in all",
		 mmn_scenario_mode_name(p->mode), out->by_kind[MMN_VIOL_STALE_TRANSLATION],
		 out->violations);
}

static int s3_teardown(void *ctx, int err)
{
	struct s3_ctx *s = ctx;

	scn_iommu_put(s->mm, s->io);
	return err;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s3 = {
	.id = "S3",
	.seed = "001",
	.title = "only_end path (hugetlb protection change) with an IOMMU-style listener",
	.claim = "stale IOTLB found when the only_end path skips the flush",
	.found_kinds = 1u << MMN_VIOL_STALE_TRANSLATION,
	.validate = s3_validate,
	.ctx_size = sizeof(struct s3_ctx),
	.hugetlb = true,
	.configure = s3_configure,
	.setup = s3_setup,
	.interleaved = s3_interleaved_mode,
	.native = s3_native_mode,
	.explore = s3_explore_mode,
	.judge = s3_judge,
	.teardown = s3_teardown,
};
