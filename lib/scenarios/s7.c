// SPDX-License-Identifier: MIT
/*
 * S7 (users): an HMM-style mirror that tracks validity with a flag (the old
 * hmm_mirror, MMN_HMM_VALID_FLAG) versus one that uses the interval
 * sequence (MMN_HMM_EVENT_AWARE), under a start/end/start pattern: an
 * invalidation that starts AND ends while the fault loop walks.
 *
 * INTERLEAVED: the CPU fills the pages; a device read faults them in; at the
 * fault loop's "hmm_collected" point (the walk done, no lock held, the
 * device mutex not yet taken) a whole madvise(DONTNEED) runs (start → zap,
 * frames freed → end). The flag is true again when the loop takes the
 * device mutex, so the flag mirror programs the freed frames: one
 * use-after-free per device read of such an entry and one stale entry per
 * page at the quiescent audit. The sequence mirror sees the collision in
 * read_retry and walks again (one retry), mapping the new zero pages.
 *
 * NATIVE: a device actor reads the range over and over while an operator
 * actor zaps it (DONTNEED) and the CPU rewrites it; counts are reported.
 *
 * EXPLORE: the CPU has filled the pages (the prologue; the mirror is
 * empty); then two actors as one schedule of the deterministic backend, with
 * no hook: "s7-device" reads the whole range (2 reads by default; a read
 * after a zap faults the rest of the range in with one walk) and
 * "s7-operator" zaps the first page (madvise DONTNEED: start, zap, end, then
 * the free) and stores to it again from the CPU (2 rounds by default). A
 * violating schedule runs the operator's whole start..end while the
 * device's fault loop is past the walk's read of the first page's PTE and
 * before the read_retry check under the device mutex: the flag is true
 * again there, the collected frame (freed as the DONTNEED finishes) is
 * programmed, a device read through it after the free is a use-after-free
 * and the entry is stale at the quiescent audit. The first page is the one
 * zapped so that the walk over the other pages belongs to the window: for
 * PCT a depth-2 bug (the device first, one priority change in its walk or
 * just after; the operator then runs its DONTNEED through), about one
 * schedule in 13.
 * A random walk needs the ~15 scheduling points of start..end not to be
 * cut by a device step that would see the flag down (the walk checks it
 * before every page), which the device's block on the flag and its tail
 * after the walk make about one schedule in 350. With the sequence, the
 * walk's check_retry or read_retry sees the sequence moved and walks again.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"

#define S7_BASE 0x40000000UL
#define S7_MIRROR_PAGES 64UL
#define S7_DEFAULT_PAGES 4UL
#define S7_DEFAULT_ITERS 2000UL
#define S7_CHUNK 32UL
#define S7_EXPLORE_ROUNDS 2UL

struct s7_ctx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	int variant; /* enum mmn_hmm_variant */
	unsigned long pages;
	unsigned long iters;
	bool fired;
	int err;
	struct mmn_completion go;
};

/* The whole invalidation (start, zap, free, end) at the first hmm_collected. */
static void s7_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct s7_ctx *c = arg;

	(void)sim;
	if (c->fired || ev->kind != MMN_SCHED_EXPLICIT || !ev->name ||
	    strcmp(ev->name, mmn_hmm_fault_point_name(false)))
		return;
	c->fired = true;
	if (mmn_madvise(c->mm, S7_BASE, c->pages * MMN_PAGE_SIZE, MMN_MADV_DONTNEED))
		c->err = -EIO;
}

static void *s7_device(void *arg)
{
	struct s7_ctx *c = arg;
	uint64_t out[S7_MIRROR_PAGES];

	mmn_wait_for_completion(&c->go);
	for (unsigned long i = 0; i < c->iters; i++)
		(void)mmn_hmm_read(c->m, S7_BASE, c->pages, out);
	return NULL;
}

static void *s7_operator(void *arg)
{
	struct s7_ctx *c = arg;

	mmn_wait_for_completion(&c->go);
	for (unsigned long i = 0; i < c->iters; i++) {
		unsigned long pg = i % c->pages;

		if (i & 1)
			(void)mmn_madvise(c->mm, S7_BASE, c->pages * MMN_PAGE_SIZE,
					  MMN_MADV_DONTNEED);
		else
			(void)mmn_cpu_write(c->mm, 1, S7_BASE + pg * MMN_PAGE_SIZE, 0x7000 + i);
	}
	return NULL;
}

/* EXPLORE: the device reads the whole range c->iters times. */
static void *s7_explore_device(void *arg)
{
	struct s7_ctx *c = arg;
	uint64_t out[S7_MIRROR_PAGES];

	for (unsigned long i = 0; i < c->iters; i++)
		(void)mmn_hmm_read(c->m, S7_BASE, c->pages, out);
	return NULL;
}

/* EXPLORE: zap the first page and store to it again, c->iters rounds. */
static void *s7_explore_operator(void *arg)
{
	struct s7_ctx *c = arg;

	for (unsigned long i = 0; i < c->iters; i++) {
		(void)mmn_madvise(c->mm, S7_BASE, MMN_PAGE_SIZE, MMN_MADV_DONTNEED);
		(void)mmn_cpu_write(c->mm, 1, S7_BASE, 0x7000 + i);
	}
	return NULL;
}

static void s7_explore_body(struct mmn_sim *sim, void *arg)
{
	struct s7_ctx *c = arg;
	struct mmn_actor *dev = NULL, *op = NULL;

	c->err = mmn_actor_spawn(sim, "s7-device", s7_explore_device, c, &dev);
	if (!c->err)
		c->err = mmn_actor_spawn(sim, "s7-operator", s7_explore_operator, c, &op);
	if (dev)
		(void)mmn_actor_join(dev, NULL);
	if (op)
		(void)mmn_actor_join(op, NULL);
}

static int s7_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	if (p->variant > MMN_HMM_VALID_FLAG || p->variant < -1)
		return -EINVAL;
	if (p->pages > S7_MIRROR_PAGES)
		return -EINVAL;
	if (p->profile && !mmn_profile_by_name(p->profile))
		return -EINVAL;
	return 0;
}

static int s7_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	struct s7_ctx *c = ctx;

	(void)values;
	(void)own;
	/* -1 and 0 take the scenario's choice (0 is also the right setting's) */
	c->variant = p->variant > 0 ? p->variant
				    : (p->wrong ? MMN_HMM_VALID_FLAG : MMN_HMM_EVENT_AWARE);
	c->pages = p->pages ? p->pages : S7_DEFAULT_PAGES;
	if (p->mode == MMN_SCENARIO_EXPLORE) {
		/* each actor does c->iters rounds */
		c->iters = p->iterations ? p->iterations : S7_EXPLORE_ROUNDS;
	} else {
		c->iters = p->iterations ? p->iterations : S7_DEFAULT_ITERS;
		c->iters = (c->iters + 1) / 2; /* two actors share the operations */
	}
	cfg->nr_cpus = 2;
	cfg->nr_frames = 2048;
	cfg->profile = p->profile ? p->profile : "latest";
	return 0;
}

/* One mm with the mirror's 64 pages mapped, the mirror, the CPU's data. */
static int s7_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct s7_ctx *c = ctx;
	struct mmn_hmm_config hc;
	unsigned long got;
	int err;

	(void)p;
	(void)out;
	c->sim = sim;
	c->mm = mmn_mm_create(sim);
	if (!c->mm)
		return -ENOMEM;
	err = mmn_mmap(c->mm, S7_BASE, S7_MIRROR_PAGES * MMN_PAGE_SIZE,
		       MMN_PROT_READ | MMN_PROT_WRITE,
		       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
	if (err)
		return err;
	mmn_hmm_config_init(&hc);
	hc.variant = (enum mmn_hmm_variant)c->variant;
	hc.name = "s7-mirror";
	err = mmn_hmm_create(c->mm, S7_BASE, S7_MIRROR_PAGES * MMN_PAGE_SIZE, &hc, &c->m);
	for (unsigned long i = 0; !err && i < c->pages; i++)
		err = mmn_cpu_write(c->mm, 0, S7_BASE + i * MMN_PAGE_SIZE, 0x5000 + i);
	return err;
}

static int s7_interleaved(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	struct s7_ctx *c = ctx;
	uint64_t buf[S7_MIRROR_PAGES];
	long r;

	(void)p;
	mmn_sched_set_hook(sim, s7_hook, c);
	r = mmn_hmm_read(c->m, S7_BASE, c->pages, buf);
	mmn_sched_set_hook(sim, NULL, NULL);
	if (r < 0 || !c->fired || c->err)
		return r < 0 ? (int)r : -EIO;
	out->runs = 1;
	return 0;
}

static int s7_native(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct s7_ctx *c = ctx;
	struct mmn_actor *a[2];
	int err;

	(void)p;
	mmn_init_completion(&c->go, sim, "s7-go");
	err = mmn_actor_spawn(sim, "s7-device", s7_device, c, &a[0]);
	if (err)
		return err;
	err = mmn_actor_spawn(sim, "s7-operator", s7_operator, c, &a[1]);
	mmn_complete_all(&c->go);
	(void)mmn_actor_join(a[0], NULL);
	if (!err)
		(void)mmn_actor_join(a[1], NULL);
	mmn_completion_destroy(&c->go);
	out->runs = c->iters;
	return err;
}

static int s7_explore(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out)
{
	struct s7_ctx *c = ctx;
	int err;

	err = mmn_scenario_sched_run(sim, p, s7_explore_body, c, out);
	if (!err)
		err = c->err;
	out->runs = 1;
	return err;
}

static void s7_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct s7_ctx *c = ctx;
	unsigned long uaf, stale;
	struct mmn_hmm_stats st;
	long q;

	uaf = mmn_check_count(sim, MMN_VIOL_USE_AFTER_FREE);
	q = mmn_check_quiescent(sim);
	stale = q > 0 ? (unsigned long)q : 0;
	(void)mmn_hmm_get_stats(c->m, &st);
	mmn_scenario_collect_violations(sim, out);
	mmn_scenario_add_counter(out, "uaf_reads", uaf);
	mmn_scenario_add_counter(out, "stale_entries", stale);
	mmn_scenario_add_counter(out, "retries", st.retries);
	mmn_scenario_add_counter(out, "programmed", st.programmed);
	mmn_scenario_add_counter(out, "fault_loops", st.fault_loops);
	mmn_scenario_add_counter(out, "giveups", st.giveups);
	if (p->mode == MMN_SCENARIO_INTERLEAVED) {
		unsigned long exp = c->pages < S7_CHUNK ? c->pages : S7_CHUNK;

		if (c->variant == MMN_HMM_VALID_FLAG)
			out->claim_holds = uaf == exp && stale == exp;
		else
			out->claim_holds = out->violations == 0 && st.retries >= 1;
	} else {
		out->claim_holds = c->variant == MMN_HMM_VALID_FLAG ? out->violations > 0
								     : out->violations == 0;
	}
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", mmn_sim_profile(sim)->name);
	mmn__scn_fmt(out->setting, sizeof(out->setting), "variant=%s",
		 c->variant == MMN_HMM_VALID_FLAG ? "valid_flag" :
		 c->variant == MMN_HMM_EVENT_BLIND ? "event_blind" : "sequence(event_aware)");
	mmn__scn_fmt(out->note, sizeof(out->note), "%lu use-after-free reads, %lu stale entries, %lu retries",
		 uaf, stale, st.retries);
}

static int s7_teardown(void *ctx, int err)
{
	struct s7_ctx *c = ctx;

	if (c->m && mmn_hmm_destroy(c->m) && !err)
		err = -EBUSY;
	if (c->mm)
		mmn_mm_put(c->mm);
	return err;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s7 = {
	.id = "S7",
	.seed = "users",
	.title = "HMM mirror: valid flag versus interval sequence under start/end/start",
	.claim = "stale device mapping found with the flag; none with the sequence",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE | 1u << MMN_VIOL_STALE_TRANSLATION,
	.validate = s7_validate,
	.ctx_size = sizeof(struct s7_ctx),
	.configure = s7_configure,
	.setup = s7_setup,
	.interleaved = s7_interleaved,
	.native = s7_native,
	.explore = s7_explore,
	.judge = s7_judge,
	.teardown = s7_teardown,
};
