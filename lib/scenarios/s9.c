// SPDX-License-Identifier: MIT
/*
 * S9 (users): fault loops under invalidations that never stop.
 *
 * INTERLEAVED, three parts in one simulation (profile latest), each on its
 * own mm:
 *  - HMM retry: a mirror (retry budget 8, standing for the 1 s
 *    HMM_RANGE_DEFAULT_TIMEOUT) reads its pages three times; at every
 *    "hmm_collected" point of the storm a whole madvise(DONTNEED) of the
 *    first page runs. Storms of 0, 3 and "never stops": 0 retries, 3
 *    retries, and a give-up (-EBUSY) after the budget;
 *  - KVM retry: a VM (max_retries 8) faults three gfns; at every
 *    kvm_faultin_pfn:after_gup window of the storm the page is zapped
 *    (DONTNEED): 0 retries, 3, and a give-up (-EAGAIN) after 9;
 *  - NUMA balancing: a VM of the setting's variant maps @pages pages, then
 *    @rounds times: change_prot_numa() over them (PROT_NONE hinting,
 *    PROTECTION_VMA), the vCPU reads every gfn, the CPU reads every page
 *    (its NUMA fault restores the PTE). The plain listener zaps every SPTE
 *    and shoots the vCPU TLBs down each time, and the re-fault installs the
 *    very same SPTE: a needless shootdown per page and round
 *    (refaults_same). The NUMA-aware listener keeps the SPTEs.
 * The retries histograms of both fault loops are reported in the note.
 *
 * NATIVE: a vCPU actor reading the NUMA VM, an operator running NUMA
 * hinting passes and CPU touches on it, a device actor reading the mirror
 * and an invalidator zapping the mirror's pages, concurrently.
 *
 * EXPLORE: one simulation; prologue (one actor): the mirror has mapped its
 * pages, the NUMA VM's vCPU has faulted every gfn in. Then the four NATIVE
 * actors as one schedule of the deterministic backend, without the start
 * gate (its busy wait has no scheduling point): vCPU, NUMA operator and
 * device 4 rounds each by default, the zapper zapping until the device is
 * done (at most 8 per device round: the storm lasts as long as the fault
 * loops it starves). The HMM retry budget (8) stands for the 1 s
 * HMM_RANGE_DEFAULT_TIMEOUT: a give-up charges 1 s to the modelled clock
 * (clock.h) and nothing waits on the host's clock. Epilogue (alone): the
 * CPU reads every NUMA page. This is a count scenario: no schedule should
 * show a violation in either setting, so a "violating schedule" is any
 * violation at all. One schedule decides what the seed says of the
 * listener that ran: the plain one re-installed the very SPTE it had
 * zapped on every re-fault (needless_shootdowns == numa_refaults, none
 * kept), the NUMA-aware one zapped none for the hinting ranges
 * (numa_refaults == 0, no needless shootdown); and no violation. Retry
 * counts and the histograms are reported; the comparison between the
 * listeners is over schedules (tests/scenarios/test_s9.c sums them).
 *
 * wrong = MMN_KVM_CHECK_RANGE (plain), right = MMN_KVM_NUMA_AWARE.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"

#define S9_BASE 0x40000000UL
#define S9_MAX_PAGES 64UL
#define S9_DEFAULT_PAGES 8UL
#define S9_HMM_PAGES 4UL
#define S9_ROUNDS 4UL
#define S9_BUDGET 8U
#define S9_DEFAULT_ITERS 2000UL
/* EXPLORE: small, so that a schedule is a few hundred scheduling points */
#define S9_EXPLORE_ITERS 4UL
#define S9_EXPLORE_ZAPS_PER_READ 8UL
#define S9_GFN0 0x100ULL
#define S9_FOREVER (~0UL)
#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANONF (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED)

struct s9_ctx {
	struct mmn_mm *hmm_mm, *kvm_mm, *numa_mm;
	struct mmn_hmm *m;
	struct mmn_kvm *kvm_retry, *kvm_numa;
	unsigned long hmm_storm, kvm_storm; /* invalidations left to inject */
	unsigned long pages, iters;
	int v; /* enum mmn_kvm_variant */
	struct mmn_completion *go; /* NULL in EXPLORE: no start gate */
	uint64_t seed;
	int err;
	int ready;       /* native actors that have started (atomic) */
	int device_done; /* EXPLORE: the device's reads are over (atomic) */
};

/*
 * NATIVE: wait for the start signal, then until every actor runs: real
 * overlap. EXPLORE: nothing (the busy wait has no scheduling point, it
 * would spin the deterministic scheduler; the schedule decides the overlap).
 */
static void s9_start(struct s9_ctx *c)
{
	if (!c->go)
		return;
	mmn_wait_for_completion(c->go);
	__atomic_fetch_add(&c->ready, 1, __ATOMIC_ACQ_REL);
	while (__atomic_load_n(&c->ready, __ATOMIC_ACQUIRE) < 4)
		sched_yield();
}

static void s9_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct s9_ctx *c = arg;

	(void)sim;
	if (ev->kind != MMN_SCHED_EXPLICIT || !ev->name)
		return;
	if (c->hmm_storm && ev->obj == c->m && !strcmp(ev->name, mmn_hmm_fault_point_name(false))) {
		if (c->hmm_storm != S9_FOREVER)
			c->hmm_storm--;
		if (mmn_madvise(c->hmm_mm, S9_BASE, PG, MMN_MADV_DONTNEED))
			c->err = -EIO;
	} else if (c->kvm_storm && ev->obj == c->kvm_retry &&
		   !strcmp(ev->name, MMN_KVM_SCHED_FAULT_WINDOW)) {
		if (c->kvm_storm != S9_FOREVER)
			c->kvm_storm--;
		if (mmn_madvise(c->kvm_mm, ev->addr & ~(PG - 1), PG, MMN_MADV_DONTNEED))
			c->err = -EIO;
	}
}

static int s9_mm(struct mmn_sim *sim, unsigned long pages, struct mmn_mm **mm)
{
	unsigned long got;
	int err;

	*mm = mmn_mm_create(sim);
	if (!*mm)
		return -ENOMEM;
	err = mmn_mmap(*mm, S9_BASE, pages * PG, RW, ANONF, &got);
	for (unsigned long i = 0; !err && i < pages; i++)
		err = mmn_cpu_write(*mm, 0, S9_BASE + i * PG, 0x900 + i);
	return err;
}

static struct mmn_kvm *s9_vm(struct mmn_mm *mm, enum mmn_kvm_variant v, unsigned long pages)
{
	struct mmn_kvm_config kc;
	struct mmn_kvm *kvm;

	mmn_kvm_config_init(&kc);
	kc.variant = v;
	kc.max_retries = S9_BUDGET;
	kvm = mmn_kvm_create(mm, &kc);
	if (kvm && mmn_kvm_set_memslot(kvm, 0, S9_GFN0, pages, S9_BASE)) {
		mmn_kvm_destroy(kvm);
		kvm = NULL;
	}
	return kvm;
}

/* ---- native actors ---- */

static void *s9_vcpu(void *arg)
{
	struct s9_ctx *c = arg;
	uint64_t s = c->seed, v;

	s9_start(c);
	for (unsigned long i = 0; i < c->iters; i++)
		(void)mmn_kvm_vcpu_read(c->kvm_numa, 0, S9_GFN0 + mmn_scenario_rand(&s) % c->pages, &v);
	return NULL;
}

static void *s9_numa(void *arg)
{
	struct s9_ctx *c = arg;
	uint64_t s = c->seed + 1, v;

	s9_start(c);
	for (unsigned long i = 0; i < c->iters; i++) {
		if (i % 4 == 0)
			(void)mmn_change_prot_numa(c->numa_mm, S9_BASE, c->pages * PG);
		else
			(void)mmn_cpu_read(c->numa_mm, 1, S9_BASE + (mmn_scenario_rand(&s) % c->pages) * PG, &v);
	}
	return NULL;
}

static void *s9_device(void *arg)
{
	struct s9_ctx *c = arg;
	uint64_t buf[S9_HMM_PAGES];

	s9_start(c);
	for (unsigned long i = 0; i < c->iters; i++)
		(void)mmn_hmm_read(c->m, S9_BASE, S9_HMM_PAGES, buf);
	__atomic_store_n(&c->device_done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *s9_zapper(void *arg)
{
	struct s9_ctx *c = arg;
	uint64_t s = c->seed + 2;
	/* EXPLORE: until the device is done (each madvise passes mmap_lock,
	 * a scheduling point), at most S9_EXPLORE_ZAPS_PER_READ per read */
	unsigned long n = c->go ? c->iters : c->iters * S9_EXPLORE_ZAPS_PER_READ;

	s9_start(c);
	for (unsigned long i = 0;
	     i < n && (c->go || !__atomic_load_n(&c->device_done, __ATOMIC_ACQUIRE)); i++)
		(void)mmn_madvise(c->hmm_mm, S9_BASE + (mmn_scenario_rand(&s) % S9_HMM_PAGES) * PG, PG,
				  MMN_MADV_DONTNEED);
	return NULL;
}

static int s9_native(struct mmn_sim *sim, struct s9_ctx *c)
{
	void *(*fns[4])(void *) = { s9_vcpu, s9_numa, s9_device, s9_zapper };
	static const char *const names[4] = { "s9-vcpu", "s9-numa", "s9-device", "s9-zapper" };
	struct mmn_completion go;
	struct mmn_actor *a[4];
	int n = 0, err = 0;

	mmn_init_completion(&go, sim, "s9-go");
	c->go = &go;
	for (; n < 4 && !err; n++)
		err = mmn_actor_spawn(sim, names[n], fns[n], c, &a[n]);
	if (err) {
		n--;
		/* the actors that did start must not wait for the missing ones */
		__atomic_fetch_add(&c->ready, 4 - n, __ATOMIC_ACQ_REL);
	}
	mmn_complete_all(&go);
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
	mmn_completion_destroy(&go);
	return err;
}

static void s9_explore_body(struct mmn_sim *sim, void *arg)
{
	void *(*fns[4])(void *) = { s9_vcpu, s9_numa, s9_device, s9_zapper };
	static const char *const names[4] = { "s9-vcpu", "s9-numa", "s9-device", "s9-zapper" };
	struct s9_ctx *c = arg;
	struct mmn_actor *a[4];
	int n = 0;

	for (; n < 4; n++)
		if (mmn_actor_spawn(sim, names[n], fns[n], c, &a[n]))
			break;
	if (n < 4)
		__atomic_store_n(&c->device_done, 1, __ATOMIC_RELEASE);
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
	/* epilogue, alone: the CPU's NUMA faults restore what hinting is left */
	for (unsigned long g = 0; n == 4 && g < c->pages; g++) {
		uint64_t val;

		(void)mmn_cpu_read(c->numa_mm, 0, S9_BASE + g * PG, &val);
	}
}

/* EXPLORE: the prologue, then the one schedule. */
static int s9_explore(struct mmn_sim *sim, const struct mmn_scenario_params *p, struct s9_ctx *c,
		      struct mmn_scenario_result *out)
{
	uint64_t buf[S9_HMM_PAGES], val;
	long r;
	int err = 0;

	/* the device has mapped its pages, the vCPU every gfn */
	r = mmn_hmm_read(c->m, S9_BASE, S9_HMM_PAGES, buf);
	if (r < 0)
		return (int)r;
	for (unsigned long g = 0; !err && g < c->pages; g++)
		err = mmn_kvm_vcpu_read(c->kvm_numa, 0, S9_GFN0 + g, &val);
	if (!err)
		err = mmn_scenario_sched_run(sim, p, s9_explore_body, c, out);
	return err;
}

/* nonzero buckets as "b:count,..." */
static int s9_hist(char *buf, size_t len, const unsigned long *h, int n)
{
	int w = 0;

	for (int i = 0; i < n; i++)
		if (h[i] && (size_t)w < len)
			w += snprintf(buf + w, len - (size_t)w, "%s%d:%lu", w ? "," : "", i, h[i]);
	return w;
}

static int s9_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	if (p->variant < -1 || p->variant > MMN_KVM_NUMA_AWARE)
		return -EINVAL;
	if (p->pages > S9_MAX_PAGES)
		return -EINVAL;
	if (p->profile && !mmn_profile_by_name(p->profile))
		return -EINVAL;
	return 0;
}

static int s9_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	struct s9_ctx *c = ctx;

	(void)values;
	(void)own;
	/* -1 and 0 take the setting's choice (0 is also the wrong setting's) */
	c->v = p->variant > 0 ? p->variant : (p->wrong ? MMN_KVM_CHECK_RANGE : MMN_KVM_NUMA_AWARE);
	c->pages = p->pages ? p->pages : S9_DEFAULT_PAGES;
	if (p->mode == MMN_SCENARIO_EXPLORE)
		c->iters = p->iterations ? p->iterations : S9_EXPLORE_ITERS;
	else
		c->iters = (p->iterations ? p->iterations : S9_DEFAULT_ITERS) / 4;
	c->seed = p->seed ? p->seed : 1;
	cfg->nr_cpus = 2;
	cfg->nr_frames = 4096;
	cfg->profile = p->profile ? p->profile : "latest";
	return 0;
}

/* Three mms: the HMM mirror's, the retrying VM's and the NUMA VM's. */
static int s9_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct s9_ctx *c = ctx;
	struct mmn_hmm_config hc;
	int err;

	(void)p;
	(void)out;
	err = s9_mm(sim, S9_HMM_PAGES, &c->hmm_mm);
	if (!err)
		err = s9_mm(sim, S9_HMM_PAGES, &c->kvm_mm);
	if (!err)
		err = s9_mm(sim, c->pages, &c->numa_mm);
	if (err)
		return err;
	mmn_hmm_config_init(&hc);
	hc.retry_budget = S9_BUDGET;
	hc.name = "s9-mirror";
	err = mmn_hmm_create(c->hmm_mm, S9_BASE, S9_HMM_PAGES * PG, &hc, &c->m);
	if (err)
		return err;
	c->kvm_retry = s9_vm(c->kvm_mm, (enum mmn_kvm_variant)c->v, S9_HMM_PAGES);
	c->kvm_numa = s9_vm(c->numa_mm, (enum mmn_kvm_variant)c->v, c->pages);
	return c->kvm_retry && c->kvm_numa ? 0 : -ENOMEM;
}

/* Storms of 0, 3 and endless invalidations against each fault loop, then
 * NUMA balancing against the VM. */
static int s9_interleaved(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	static const unsigned long storms[3] = { 0, 3, S9_FOREVER };
	struct s9_ctx *c = ctx;
	uint64_t buf[S9_HMM_PAGES], val;
	int err = 0;
	long r;

	(void)p;
	mmn_sched_set_hook(sim, s9_hook, c);
	for (int i = 0; i < 3 && !err; i++) {
		/* erase the first page's entry so that the read runs a fault loop */
		err = mmn_madvise(c->hmm_mm, S9_BASE, PG, MMN_MADV_DONTNEED);
		if (err)
			break;
		c->hmm_storm = storms[i];
		r = mmn_hmm_read(c->m, S9_BASE, S9_HMM_PAGES, buf);
		if (r < 0 && !(i == 2 && r == -EBUSY))
			err = (int)r;
		c->hmm_storm = 0;
	}
	for (int i = 0; i < 3 && !err; i++) {
		c->kvm_storm = storms[i];
		err = mmn_kvm_vcpu_read(c->kvm_retry, 0, S9_GFN0 + (uint64_t)i, &val);
		if (i == 2 && err == -EAGAIN)
			err = 0;
		c->kvm_storm = 0;
	}
	mmn_sched_set_hook(sim, NULL, NULL);
	if (!err && c->err)
		err = c->err;
	/* NUMA balancing against the VM */
	for (unsigned long g = 0; !err && g < c->pages; g++)
		err = mmn_kvm_vcpu_read(c->kvm_numa, 0, S9_GFN0 + g, &val);
	for (unsigned long round = 0; !err && round < S9_ROUNDS; round++) {
		err = mmn_change_prot_numa(c->numa_mm, S9_BASE, c->pages * PG);
		for (unsigned long g = 0; !err && g < c->pages; g++)
			err = mmn_kvm_vcpu_read(c->kvm_numa, 0, S9_GFN0 + g, &val);
		for (unsigned long g = 0; !err && g < c->pages; g++)
			err = mmn_cpu_read(c->numa_mm, 0, S9_BASE + g * PG, &val);
	}
	out->runs = 1;
	return err;
}

static int s9_native_mode(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	struct s9_ctx *c = ctx;
	uint64_t val;
	int err;

	(void)p;
	err = s9_native(sim, c);
	/* the CPU's NUMA faults restore whatever hinting is left */
	for (unsigned long g = 0; !err && g < c->pages; g++)
		err = mmn_cpu_read(c->numa_mm, 0, S9_BASE + g * PG, &val);
	out->runs = c->iters;
	return err;
}

static int s9_explore_mode(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			   struct mmn_scenario_result *out)
{
	struct s9_ctx *c = ctx;
	int err;

	err = s9_explore(sim, p, c, out);
	out->runs = c->iters;
	return err;
}

/* What the run decides of the listener that ran (c->v). */
static bool s9_claim(const struct s9_ctx *c, const struct mmn_scenario_params *p,
		     const struct mmn_scenario_result *out, const struct mmn_hmm_stats *hs,
		     const struct mmn_kvm_stats *ks_retry, const struct mmn_kvm_stats *ks_numa)
{
	if (p->mode == MMN_SCENARIO_INTERLEAVED) {
		bool retry_ok = hs->retries == 3 + S9_BUDGET + 1 && hs->giveups == 1 &&
				ks_retry->retries == 3 + S9_BUDGET + 1 && ks_retry->give_ups == 1;

		return out->violations == 0 && retry_ok &&
		       (c->v == MMN_KVM_NUMA_AWARE ? ks_numa->refaults_same == 0
						   : ks_numa->refaults_same > 0);
	}
	if (p->mode == MMN_SCENARIO_EXPLORE) /* what one schedule decides */
		return out->violations == 0 &&
		       (c->v == MMN_KVM_NUMA_AWARE
				? ks_numa->refaults_same == 0 && ks_numa->refaults == 0
				: ks_numa->refaults_same == ks_numa->refaults &&
					  ks_numa->sptes_kept_numa == 0);
	return out->violations == 0 && (c->v != MMN_KVM_NUMA_AWARE || ks_numa->refaults_same == 0);
}

static void s9_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct mmn_kvm_stats ks_retry = { 0 }, ks_numa = { 0 };
	unsigned long kh_sum[MMN_KVM_HIST_BUCKETS];
	struct mmn_hmm_stats hs = { 0 };
	struct s9_ctx *c = ctx;
	char hh[40], kh[40];

	(void)mmn_check_quiescent(sim);
	mmn_scenario_collect_violations(sim, out);
	(void)mmn_hmm_get_stats(c->m, &hs);
	(void)mmn_kvm_get_stats(c->kvm_retry, &ks_retry);
	(void)mmn_kvm_get_stats(c->kvm_numa, &ks_numa);
	mmn_scenario_add_counter(out, "hmm_retries", hs.retries);
	mmn_scenario_add_counter(out, "hmm_giveups", hs.giveups);
	mmn_scenario_add_counter(out, "kvm_retries", ks_retry.retries + ks_numa.retries);
	mmn_scenario_add_counter(out, "kvm_giveups", ks_retry.give_ups + ks_numa.give_ups);
	/* SPTEs zapped whose re-fault installed the very same SPTE */
	mmn_scenario_add_counter(out, "needless_shootdowns", ks_numa.refaults_same);
	mmn_scenario_add_counter(out, "tlb_flushes", ks_numa.tlb_flushes);
	mmn_scenario_add_counter(out, "sptes_kept_numa", ks_numa.sptes_kept_numa);
	mmn_scenario_add_counter(out, "numa_refaults", ks_numa.refaults);
	out->claim_holds = s9_claim(c, p, out, &hs, &ks_retry, &ks_numa);
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", mmn_sim_profile(sim)->name);
	mmn__scn_fmt(out->setting, sizeof(out->setting), "kvm variant=%s",
		 mmn_kvm_variant_name((enum mmn_kvm_variant)c->v));
	s9_hist(hh, sizeof(hh), hs.retry_hist, MMN_HMM_HIST_BUCKETS);
	for (int i = 0; i < MMN_KVM_HIST_BUCKETS; i++)
		kh_sum[i] = ks_retry.fault_retry_hist[i] + ks_numa.fault_retry_hist[i];
	s9_hist(kh, sizeof(kh), kh_sum, MMN_KVM_HIST_BUCKETS);
	mmn__scn_fmt(out->note, sizeof(out->note),
		 "retry hist bucket:loops hmm{%s} kvm{%s}; %lu needless shootdowns", hh, kh,
		 ks_numa.refaults_same);
}

static int s9_teardown(void *ctx, int err)
{
	struct s9_ctx *c = ctx;

	if (c->kvm_numa)
		mmn_kvm_destroy(c->kvm_numa);
	if (c->kvm_retry)
		mmn_kvm_destroy(c->kvm_retry);
	if (c->m && mmn_hmm_destroy(c->m) && !err)
		err = -EBUSY;
	if (c->numa_mm)
		mmn_mm_put(c->numa_mm);
	if (c->kvm_mm)
		mmn_mm_put(c->kvm_mm);
	if (c->hmm_mm)
		mmn_mm_put(c->hmm_mm);
	return err;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s9 = {
	.id = "S9",
	.seed = "users",
	.title = "fault loops under invalidations that never stop; NUMA hinting against KVM",
	.claim = "fault latency distribution and retry counts; needless shootdowns counted, and a "
		 "range- or event-aware listener removing them",
	/* counts only: under either setting every violation counts */
	.found_kinds = 0,
	.validate = s9_validate,
	.ctx_size = sizeof(struct s9_ctx),
	.configure = s9_configure,
	.setup = s9_setup,
	.interleaved = s9_interleaved,
	.native = s9_native_mode,
	.explore = s9_explore_mode,
	.judge = s9_judge,
	.teardown = s9_teardown,
};
