// SPDX-License-Identifier: MIT
/*
 * S3 (seed 001): the window commit 0f10851ea475 opened in KSM. From 4.15 to
 * 6.5 write_protect_page() (mm/ksm.c) clears the entry with plain
 * ptep_clear_flush() and leaves the secondary-TLB flush to
 * invalidate_range_end(), after the PTL drop (profile knob
 * ksm_secflush_at_end). An IOMMU-style device (SVA: it walks the CPU table
 * and caches what it found) keeps its writable IOTLB/ATC entry of the page
 * until that end, although the CPU table maps the page read-only since the
 * PTL was dropped. A CPU store meanwhile write-faults and copies the page
 * (do_wp_page() → wp_page_copy(): KSM's follow_page() reference makes it
 * copy); a device store through the stale entry after the copy lands in the
 * old page: the write is lost (the oracle's MMN_PG_STABLE, set on the old
 * page from the copy on). 4.12-4.14 (ptep_clear_flush_notify(), the flush
 * under the PTL) and 6.6+ (the flush inside the CPU flush) leave no such
 * window.
 *
 *   ksmd: write_protect_page(B)           CPU 1           device
 *   --------------------------           -----           ------
 *   S, L, clear + F1 (no F2), RO entry,
 *   U                                                     IOTLB: B writable
 *                                         store B: fault,
 *                                         copy B → B'
 *                                                         store B through
 *                                                         the IOTLB: lost
 *                                         L, clear + F1 + F2, map B', U
 *   E: F2 (too late)
 *
 * Every mode starts alike: two private anonymous pages A and B of one mm
 * with the same content (S3_SAME), the device bound to the mm (SVA;
 * params.variant may pick AMDv2), the device's store to B (S3_SAME again)
 * filling a writable IOTLB/ATC entry.
 * INTERLEAVED: ksmd merges B into A; a scheduling hook at the PTL release of
 * write_protect_page(B) (the entry read-only, end not run) makes a CPU store
 * to B from an actor of its own, and at that actor's second PTL acquisition
 * (the copy is done) the device stores to B without page request.
 * NATIVE: @iterations rounds of the start state and three threads: ksmd,
 * the CPU store, the device storing twice.
 * EXPLORE: the same three actors as one schedule of the deterministic
 * backend, no hook placing the race; the device stores params.iterations
 * times (2 by default) without page requests. A violating schedule is a lost
 * write: ksmd in its window, the CPU's copy, then a device store.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"
#include "scn_iommu.h"

#define S3_PG MMN_PAGE_SIZE
#define S3_BASE 0x40000000UL
#define S3_A S3_BASE
#define S3_B (S3_BASE + S3_PG)
#define S3_SAME 0x5a5aULL
#define S3_CPU 0xc0ULL
#define S3_DEV(n) (0xd0ULL + (n))
#define S3_DEFAULT_PROFILE "6.5"

struct s3_ctx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_iommu *io;
	int pasid;
	unsigned long iterations;
	unsigned long b_pfn; /* B's page before the race */
	/* interleaved */
	int stage;
	int bad;
	/* every mode */
	atomic_ulong merges, cpu_stores, dma_ok, dma_refused;
};

/* The start state: A and B equal, the device holding a writable entry of B. */
static int s3_prologue(struct s3_ctx *s)
{
	struct mmn_walk w;

	if (mmn_cpu_write(s->mm, 0, S3_A, S3_SAME) || mmn_cpu_write(s->mm, 0, S3_B, S3_SAME) ||
	    mmn_iommu_dma_write(s->io, s->pasid, S3_B, S3_SAME))
		return -EIO;
	if (mmn_pgtable_walk(s->mm, S3_B, &w) || !mmn_pte_present(w.entry))
		return -EIO;
	s->b_pfn = mmn_pte_pfn(w.entry);
	return 0;
}

static void s3_count_merge(struct s3_ctx *s, int err)
{
	if (!err)
		atomic_fetch_add(&s->merges, 1);
}

static void s3_device_store(struct s3_ctx *s, unsigned long n)
{
	uint64_t v = S3_DEV(n);

	if (mmn_iommu_dma(s->io, s->pasid, S3_B, MMN_IOMMU_DMA_WRITE | MMN_IOMMU_DMA_NO_PRI, &v) ==
	    0)
		atomic_fetch_add(&s->dma_ok, 1);
	else
		atomic_fetch_add(&s->dma_refused, 1);
}

static void *s3_cpu(void *arg)
{
	struct s3_ctx *s = arg;

	if (mmn_cpu_write(s->mm, 1, S3_B, S3_CPU) == 0)
		atomic_fetch_add(&s->cpu_stores, 1);
	return NULL;
}

static void *s3_ksmd(void *arg)
{
	struct s3_ctx *s = arg;

	s3_count_merge(s, mmn_ksm_merge(s->mm, S3_A, s->mm, S3_B));
	return NULL;
}

static void *s3_device(void *arg)
{
	struct s3_ctx *s = arg;

	for (unsigned long n = 0; n < s->iterations; n++)
		s3_device_store(s, n);
	return NULL;
}

/*
 * INTERLEAVED: stage 0, ksmd's PTL release with B read-only (the end of
 * write_protect_page(B)'s locked section): the CPU store, from an actor of
 * its own, joined here. Stage 1, that actor taking the PTL once B's old
 * page is held stable (wp_page_copy() has copied it): the device store.
 */
static void s3_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct s3_ctx *s = arg;
	struct mmn_page_info pi;
	struct mmn_actor *cpu;
	struct mmn_walk w;

	if (!ev->name || strcmp(ev->name, "ptl") != 0)
		return;
	if (s->stage == 0 && ev->kind == MMN_SCHED_UNLOCK) {
		if (mmn_pgtable_walk(s->mm, S3_B, &w) || !mmn_pte_present(w.entry) ||
		    mmn_pte_write(w.entry) || mmn_pte_pfn(w.entry) != s->b_pfn)
			return;
		s->stage = 1;
		if (mmn_actor_spawn(sim, "cpu", s3_cpu, s, &cpu) || mmn_actor_join(cpu, NULL))
			s->bad = 1;
		s->stage = 3;
		return;
	}
	if (s->stage == 1 && ev->kind == MMN_SCHED_LOCK &&
	    mmn_page_info(sim, s->b_pfn, &pi) == 0 && (pi.flags & MMN_PG_STABLE)) {
		s->stage = 2;
		s3_device_store(s, 0);
	}
}

static void s3_counters(struct s3_ctx *s, struct mmn_scenario_result *out);

static int s3_interleaved(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	struct s3_ctx *s = ctx;
	uint64_t v = 0;

	(void)p;
	if (s3_prologue(s))
		return -EIO;
	mmn_sched_set_hook(sim, s3_hook, s);
	s3_count_merge(s, mmn_ksm_merge(s->mm, S3_A, s->mm, S3_B));
	mmn_sched_set_hook(sim, NULL, NULL);
	if (s->bad || mmn_cpu_read(s->mm, 0, S3_B, &v))
		return -EIO;
	out->runs = 1;
	mmn_scenario_add_counter(out, "window_entered", s->stage >= 1);
	mmn_scenario_add_counter(out, "cpu_read_after", v);
	s3_counters(s, out);
	return 0;
}

/* Three actors on the start state; joined before returning. */
static int s3_race(struct mmn_sim *sim, struct s3_ctx *s)
{
	struct mmn_actor *a[3] = { NULL, NULL, NULL };
	void *(*fn[3])(void *) = { s3_ksmd, s3_cpu, s3_device };
	static const char *const names[3] = { "ksmd", "cpu", "device" };
	int err = 0;

	for (int i = 0; i < 3 && !err; i++)
		err = mmn_actor_spawn(sim, names[i], fn[i], s, &a[i]);
	for (int i = 0; i < 3; i++)
		if (a[i])
			(void)mmn_actor_join(a[i], NULL);
	return err;
}

static void s3_explore_body(struct mmn_sim *sim, void *arg)
{
	(void)s3_race(sim, arg);
}

static void s3_counters(struct s3_ctx *s, struct mmn_scenario_result *out)
{
	mmn_scenario_add_counter(out, "merges", atomic_load(&s->merges));
	mmn_scenario_add_counter(out, "cpu_stores", atomic_load(&s->cpu_stores));
	mmn_scenario_add_counter(out, "dma_ok", atomic_load(&s->dma_ok));
	mmn_scenario_add_counter(out, "dma_refused", atomic_load(&s->dma_refused));
}

static int s3_explore(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out)
{
	struct s3_ctx *s = ctx;
	int err;

	if (s3_prologue(s))
		return -EIO;
	err = mmn_scenario_sched_run(sim, p, s3_explore_body, s, out);
	if (err)
		return err;
	out->runs = 1;
	s3_counters(s, out);
	return 0;
}

/* NATIVE: @iterations rounds, each on a fresh pair of pages. */
static int s3_native(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct s3_ctx *s = ctx;
	unsigned long rounds = s->iterations, got;
	int err = 0;

	(void)p;
	s->iterations = 2; /* device stores per round */
	for (unsigned long r = 0; r < rounds && !err; r++) {
		if (r && (mmn_munmap(s->mm, S3_BASE, 2 * S3_PG) ||
			  mmn_mmap(s->mm, S3_BASE, 2 * S3_PG, MMN_PROT_READ | MMN_PROT_WRITE,
				   MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got)))
			return -EIO;
		err = s3_prologue(s);
		if (!err)
			err = s3_race(sim, s);
	}
	if (err)
		return err;
	out->runs = rounds;
	s3_counters(s, out);
	return 0;
}

static int s3_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	if (p->variant < -1 || p->variant > MMN_IOMMU_AMDV2 || p->pages > 1)
		return -EINVAL;
	return 0;
}

static int s3_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	struct s3_ctx *s = ctx;

	(void)values;
	s->iterations = p->iterations ? p->iterations
				      : p->mode == MMN_SCENARIO_EXPLORE ? 2 : 500;
	cfg->nr_cpus = 2;
	cfg->nr_frames = 256;
	cfg->profile = p->profile ? p->profile : S3_DEFAULT_PROFILE;
	/* Wrong: the profile as it is (4.15-6.5 defer the flush to end).
	 * Right: ptep_clear_flush_notify() at KSM's call sites (4.12-4.14).
	 * In 6.6+ profiles the knob changes nothing. */
	own[0] = p->wrong ? NULL : "ksm_secflush_at_end=false";
	return 0;
}

/* One mm with the two pages, bound to an IOMMU-style device. */
static int s3_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct mmn_iommu_config icfg;
	struct s3_ctx *s = ctx;

	(void)out;
	s->sim = sim;
	mmn_iommu_config_init(&icfg);
	icfg.mode = p->variant < 0 ? MMN_IOMMU_SVA : (enum mmn_iommu_mode)p->variant;
	return scn_iommu_mm(sim, &icfg, S3_BASE, 2 * S3_PG, 0, &s->mm, &s->io, &s->pasid);
}

static void s3_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	char v[8] = "?";

	(void)ctx;
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s",
		 p->profile ? p->profile : S3_DEFAULT_PROFILE);
	(void)mmn_profile_knob_value(mmn_sim_profile(sim), "ksm_secflush_at_end", v, sizeof(v));
	mmn__scn_fmt(out->setting, sizeof(out->setting), "ksm_secflush_at_end=%s (secondary_flush=%s)",
		 v, mmn_secondary_flush_name(mmn_sim_profile(sim)->secondary_flush));
	mmn_scenario_collect_violations(sim, out);
	if (p->wrong)
		out->claim_holds = out->by_kind[MMN_VIOL_LOST_WRITE] > 0;
	else
		out->claim_holds = out->violations == 0;
	mmn__scn_fmt(out->note, sizeof(out->note), "%s: %lu lost device writes, %lu violations in all",
		 mmn_scenario_mode_name(p->mode), out->by_kind[MMN_VIOL_LOST_WRITE],
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
	.title = "KSM write-protect with the secondary flush after the PTL drop (0f10851ea475)",
	.claim = "a device write through the IOTLB entry left writable until "
		 "invalidate_range_end is lost (4.15-6.5); none with the flush at the CPU flush",
	.found_kinds = 1u << MMN_VIOL_LOST_WRITE,
	.validate = s3_validate,
	.ctx_size = sizeof(struct s3_ctx),
	.configure = s3_configure,
	.setup = s3_setup,
	.interleaved = s3_interleaved,
	.native = s3_native,
	.explore = s3_explore,
	.judge = s3_judge,
	.teardown = s3_teardown,
};
