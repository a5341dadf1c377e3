// SPDX-License-Identifier: MIT
/*
 * S2 (seed 001): KVM-style and IOMMU-style listeners under the same racing
 * workload.
 *
 * Part 1 (one simulation, the KVM race of seed 001): a vCPU fault pins the
 * page (GUP) and, in its fault window, munmap's invalidation starts (KVM's
 * start runs, then a blocker holds the invalidation open). While it is open
 * an AMD-IOMMUv2-style device DMAs the same page: its PASID points at an
 * empty table, every page request is answered SUCCESS without resolving, the
 * device re-faults until it gives up. The vCPU then finishes its fault: with
 * the sequence-only retry check (MMN_KVM_CHECK_SEQ_ONLY, the wrong setting)
 * it installs the page being freed (use-after-free on the next guest access,
 * stale SPTE and vCPU TLB entry at quiescence); with the range check
 * (MMN_KVM_CHECK_RANGE: in_progress over the gfn) it retries and is safe.
 *
 * Part 2 (starvation): invalidations that never stop (mprotect toggles of
 * the device's pages) against a device under the deterministic scheduler
 * (seeded), once in AMDv2 mode (re-faults per successful access > 0,
 * give-ups) and once in SVA mode (no re-fault at all).
 *
 * NATIVE: part 1 as real threads (vCPU reads, munmap/mmap of the pages,
 * AMDv2 device DMAs), part 2 as real threads in both IOMMU modes.
 *
 * EXPLORE: part 1's race alone, from its actors (one simulation, one
 * schedule of the deterministic backend, no blocker, no hook): the page
 * filled by the CPU, the VM (both listeners registered: KVM and the AMDv2
 * IOMMU), then "vcpu" reads the guest page, "invalidator" zaps it with
 * madvise(DONTNEED) and stores to it again from the CPU, "device" DMAs it
 * (2 rounds each by default); after them the guest touches the page once
 * more. A violating schedule lets the vCPU's fault pin the page before the
 * zap and take kvm->mmu_lock after KVM's start and before its end: the
 * sequence has not moved yet, so the sequence-only check installs the page
 * the DONTNEED frees right after; the next guest access through the SPTE
 * (or the vCPU TLB) is a use-after-free. The range check sees the
 * invalidation in progress and retries (bounded to 16 retries here: under
 * PCT the spinning vCPU may keep the invalidator off the CPU until a
 * priority change). A shallow bug: the vCPU's first fault and the first
 * DONTNEED start together; the second round's start zaps an SPTE installed
 * in the first unless the guest used it in between, which leaves about one
 * schedule in 35 violating for the random walk and for PCT. DONTNEED rather than
 * munmap: munmap detaches the VMA under mmap_lock for write before start,
 * so a fault inside start..end fails its GUP; the bug then needs the GUP
 * before the munmap and the lock inside start..end (depth 3), and a second
 * round's start zaps the stale SPTE before the guest uses it (measured: no
 * violation in 20000 schedules of either strategy with 2 rounds). The
 * AMDv2 starvation of part 2 is left out of EXPLORE: it is a count under
 * invalidations that never stop, not a violation, and already runs under
 * the deterministic scheduler with a seed.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"
#include "scn_iommu.h"

#define S2_PG MMN_PAGE_SIZE
#define S2_BASE 0x40000000UL
#define S2_GFN0 0x100ULL
#define S2_DEV_PAGES 4UL
#define S2_DMAS 60
#define S2_INVALS 200
#define S2_MAX_FAULTS 8
#define S2_EXPLORE_ROUNDS 2UL
#define S2_EXPLORE_MAX_RETRIES 16

/* The simulation of mode p->mode; @det: the deterministic backend whatever the mode. */
static struct mmn_sim *s2_sim(const struct mmn_scenario_params *p, const char *profile, bool det)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	cfg.profile = profile;
	if (det)
		cfg.backend = MMN_BACKEND_DETERMINISTIC;
	return mmn_scenario_sim_create(&sim, &cfg, p, false, NULL) ? NULL : sim;
}

static void s2_add(struct mmn_sim *sim, struct mmn_scenario_result *out)
{
	struct mmn_scenario_result one = { 0 };

	mmn_scenario_collect_violations(sim, &one);
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		out->by_kind[k] += one.by_kind[k];
	out->violations += one.violations;
}

/* ---- part 1: the KVM race, with the AMDv2 device in the window ---- */

struct s2_race {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_kvm *kvm;
	struct mmn_iommu *io;
	int pasid;
	struct mmn_notifier blocker;
	struct mmn_completion go_munmap, in_start, window_open, device_done, vcpu_done;
	bool blocker_armed;
	int window_passes;
	int vcpu_err, dma_err, munmap_err;
	int spawn_err; /* explore */
	uint64_t vcpu_val;
	/* native */
	unsigned long iterations;
	atomic_int finished;
	atomic_ulong vcpu_ok, vcpu_failed, dma_ok, dma_failed, unmaps;
};

static int s2_blocker_start(struct mmn_notifier *mn, const struct mmn_notifier_range *range)
{
	struct s2_race *r = (struct s2_race *)((char *)mn - offsetof(struct s2_race, blocker));

	if (r->blocker_armed && range->start <= S2_BASE && range->end > S2_BASE) {
		r->blocker_armed = false;
		mmn_complete(&r->in_start);
		mmn_wait_for_completion(&r->vcpu_done);
	}
	return 0;
}

static const struct mmn_notifier_ops s2_blocker_ops = {
	.invalidate_range_start = s2_blocker_start,
};

static void s2_race_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct s2_race *r = arg;

	(void)sim;
	if (ev->kind != MMN_SCHED_EXPLICIT || !ev->name ||
	    strcmp(ev->name, MMN_KVM_SCHED_FAULT_WINDOW) != 0)
		return;
	if (++r->window_passes == 1) {
		mmn_complete(&r->go_munmap);
		mmn_wait_for_completion(&r->in_start);
		/* The invalidation is open: let the device try now. */
		mmn_complete(&r->window_open);
		mmn_wait_for_completion(&r->device_done);
	}
}

static void *s2_race_vcpu(void *arg)
{
	struct s2_race *r = arg;

	r->vcpu_err = mmn_kvm_vcpu_read(r->kvm, 0, S2_GFN0, &r->vcpu_val);
	mmn_complete(&r->vcpu_done);
	return NULL;
}

static void *s2_race_munmap(void *arg)
{
	struct s2_race *r = arg;

	mmn_wait_for_completion(&r->go_munmap);
	r->munmap_err = mmn_munmap(r->mm, S2_BASE, S2_PG);
	return NULL;
}

static void *s2_race_device(void *arg)
{
	struct s2_race *r = arg;
	uint64_t v;

	mmn_wait_for_completion(&r->window_open);
	r->dma_err = mmn_iommu_dma_read(r->io, r->pasid, S2_BASE, &v);
	mmn_complete(&r->device_done);
	return NULL;
}

/*
 * The simulation, mm, blocker (registered first: called last; not with
 * @explore, where nothing places the race), VM, IOMMU.
 */
static int s2_race_world(struct s2_race *r, const struct mmn_scenario_params *p,
			 const char *profile, enum mmn_kvm_variant variant, unsigned long pages,
			 bool explore)
{
	struct mmn_kvm_config kc;
	struct mmn_iommu_config ic;
	unsigned long got;
	int err;

	r->sim = s2_sim(p, profile, false);
	if (!r->sim)
		return -EINVAL;
	r->mm = mmn_mm_create(r->sim);
	if (!r->mm)
		return -ENOMEM;
	err = mmn_mmap(r->mm, S2_BASE, pages * S2_PG, MMN_PROT_READ | MMN_PROT_WRITE,
		       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
	for (unsigned long i = 0; !err && i < pages; i++)
		err = mmn_cpu_write(r->mm, 0, S2_BASE + i * S2_PG, 42 + i);
	if (err)
		return err;
	if (!explore) {
		r->blocker.ops = &s2_blocker_ops;
		err = mmn_notifier_register(&r->blocker, r->mm);
		if (err)
			return err;
	}
	mmn_kvm_config_init(&kc);
	kc.variant = variant;
	if (explore) {
		/* A fault retrying while an invalidation is in progress spins
		 * (KVM re-enters the guest); under PCT the invalidator may not
		 * run before a priority change: keep the spin short. */
		kc.max_retries = S2_EXPLORE_MAX_RETRIES;
	}
	r->kvm = mmn_kvm_create(r->mm, &kc);
	if (!r->kvm)
		return -errno;
	err = mmn_kvm_set_memslot(r->kvm, 0, S2_GFN0, pages, S2_BASE);
	if (err)
		return err;
	mmn_iommu_config_init(&ic);
	ic.mode = MMN_IOMMU_AMDV2;
	ic.max_faults = S2_MAX_FAULTS;
	r->io = mmn_iommu_create(r->sim, &ic);
	if (!r->io)
		return -ENOMEM;
	return mmn_iommu_bind(r->io, r->mm, &r->pasid);
}

/* Tear the world down; with @out (a run that succeeded), add its violations
 * and modelled time first. */
static void s2_race_free(struct s2_race *r, const struct mmn_scenario_params *p,
			 struct mmn_scenario_result *out)
{
	if (r->sim && out) {
		s2_add(r->sim, out);
		mmn_scenario_finish(r->sim, p, out);
	}
	if (r->io)
		mmn_iommu_destroy(r->io);
	if (r->kvm)
		mmn_kvm_destroy(r->kvm);
	if (r->blocker.ops && r->mm)
		(void)mmn_notifier_unregister(&r->blocker, r->mm);
	if (r->mm)
		mmn_mm_put(r->mm);
	if (r->sim)
		mmn_sim_destroy(r->sim);
}

struct s2_part1 {
	unsigned long kvm_retries, kvm_uaf_reads, dma_refaults, dma_give_ups;
};

static int s2_part1_interleaved(const struct mmn_scenario_params *p, const char *profile,
				enum mmn_kvm_variant variant, struct mmn_scenario_result *out,
				struct s2_part1 *o)
{
	struct s2_race *r = calloc(1, sizeof(*r));
	struct mmn_actor *a[3];
	void *(*fn[3])(void *) = { s2_race_vcpu, s2_race_munmap, s2_race_device };
	const char *names[3] = { "vcpu0", "munmap", "device" };
	struct mmn_kvm_stats ks;
	struct mmn_iommu_stats is;
	int n = 0, err;

	if (!r)
		return -ENOMEM;
	err = s2_race_world(r, p, profile, variant, 1, false);
	if (err) {
		s2_race_free(r, NULL, NULL);
		free(r);
		return err;
	}
	mmn_init_completion(&r->go_munmap, r->sim, "go_munmap");
	mmn_init_completion(&r->in_start, r->sim, "in_start");
	mmn_init_completion(&r->window_open, r->sim, "window_open");
	mmn_init_completion(&r->device_done, r->sim, "device_done");
	mmn_init_completion(&r->vcpu_done, r->sim, "vcpu_done");
	r->blocker_armed = true;
	mmn_sched_set_hook(r->sim, s2_race_hook, r);
	for (; n < 3; n++)
		if ((err = mmn_actor_spawn(r->sim, names[n], fn[n], r, &a[n])) != 0)
			break;
	if (err) {
		/* Unblock whoever started: nothing of the race can happen. */
		r->blocker_armed = false;
		mmn_complete_all(&r->go_munmap);
		mmn_complete_all(&r->in_start);
		mmn_complete_all(&r->window_open);
		mmn_complete_all(&r->device_done);
		mmn_complete_all(&r->vcpu_done);
	}
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
	mmn_sched_set_hook(r->sim, NULL, NULL);
	if (!err && (r->window_passes != 1 || r->munmap_err))
		err = -EIO;
	if (!err) {
		uint64_t v;
		unsigned long before = mmn_check_count(r->sim, MMN_VIOL_USE_AFTER_FREE);

		/* The guest touches the page again: through a stale entry
		 * with the seq-only check. */
		(void)mmn_kvm_vcpu_read(r->kvm, 0, S2_GFN0, &v);
		o->kvm_uaf_reads = mmn_check_count(r->sim, MMN_VIOL_USE_AFTER_FREE) - before;
		(void)mmn_check_quiescent(r->sim);
		if (mmn_kvm_get_stats(r->kvm, &ks) || mmn_iommu_get_stats(r->io, &is))
			err = -EIO;
		o->kvm_retries = ks.retries;
		o->dma_refaults = is.refaults;
		o->dma_give_ups = is.give_ups;
	}
	mmn_completion_destroy(&r->go_munmap);
	mmn_completion_destroy(&r->in_start);
	mmn_completion_destroy(&r->window_open);
	mmn_completion_destroy(&r->device_done);
	mmn_completion_destroy(&r->vcpu_done);
	s2_race_free(r, p, err ? NULL : out);
	free(r);
	return err;
}

static void *s2_nat_vcpu(void *arg)
{
	struct s2_race *r = arg;

	for (unsigned long n = 0; n < r->iterations; n++) {
		uint64_t v;

		if (mmn_kvm_vcpu_read(r->kvm, (int)(n & 1), S2_GFN0 + n % S2_DEV_PAGES, &v) == 0)
			atomic_fetch_add(&r->vcpu_ok, 1);
		else
			atomic_fetch_add(&r->vcpu_failed, 1);
	}
	atomic_fetch_add(&r->finished, 1);
	return NULL;
}

static void *s2_nat_device(void *arg)
{
	struct s2_race *r = arg;

	for (unsigned long n = 0; n < r->iterations / 4 + 1; n++) {
		uint64_t v;

		if (mmn_iommu_dma_read(r->io, r->pasid, S2_BASE + (n % S2_DEV_PAGES) * S2_PG, &v) == 0)
			atomic_fetch_add(&r->dma_ok, 1);
		else
			atomic_fetch_add(&r->dma_failed, 1);
	}
	atomic_fetch_add(&r->finished, 1);
	return NULL;
}

static void *s2_nat_unmapper(void *arg)
{
	struct s2_race *r = arg;

	for (unsigned long n = 0; atomic_load(&r->finished) < 2 && n < r->iterations; n++) {
		unsigned long addr = S2_BASE + (n % S2_DEV_PAGES) * S2_PG, got;

		if (mmn_munmap(r->mm, addr, S2_PG) == 0)
			atomic_fetch_add(&r->unmaps, 1);
		(void)mmn_mmap(r->mm, addr, S2_PG, MMN_PROT_READ | MMN_PROT_WRITE,
			       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
		(void)mmn_cpu_write(r->mm, 1, addr, n);
	}
	return NULL;
}

static int s2_part1_native(const struct mmn_scenario_params *p, const char *profile,
			   enum mmn_kvm_variant variant, unsigned long iterations,
			   struct mmn_scenario_result *out, struct s2_part1 *o)
{
	struct s2_race *r = calloc(1, sizeof(*r));
	struct mmn_actor *a[3];
	void *(*fn[3])(void *) = { s2_nat_vcpu, s2_nat_device, s2_nat_unmapper };
	const char *names[3] = { "vcpu", "device", "unmapper" };
	struct mmn_kvm_stats ks;
	struct mmn_iommu_stats is;
	int n = 0, err;

	if (!r)
		return -ENOMEM;
	r->iterations = iterations;
	err = s2_race_world(r, p, profile, variant, S2_DEV_PAGES, false);
	for (; !err && n < 3; n++)
		if ((err = mmn_actor_spawn(r->sim, names[n], fn[n], r, &a[n])) != 0)
			atomic_store(&r->finished, 2);
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
	if (!err) {
		(void)mmn_check_quiescent(r->sim);
		if (mmn_kvm_get_stats(r->kvm, &ks) || mmn_iommu_get_stats(r->io, &is))
			err = -EIO;
		o->kvm_retries = ks.retries;
		o->dma_refaults = is.refaults;
		o->dma_give_ups = is.give_ups;
	}
	s2_race_free(r, p, err ? NULL : out);
	free(r);
	return err;
}

/* ---- EXPLORE: part 1's actors as one schedule ---- */

static void *s2_x_vcpu(void *arg)
{
	struct s2_race *r = arg;

	for (unsigned long n = 0; n < r->iterations; n++) {
		uint64_t v;

		if (mmn_kvm_vcpu_read(r->kvm, 0, S2_GFN0, &v) == 0)
			atomic_fetch_add(&r->vcpu_ok, 1);
		else
			atomic_fetch_add(&r->vcpu_failed, 1);
	}
	return NULL;
}

static void *s2_x_invalidator(void *arg)
{
	struct s2_race *r = arg;

	for (unsigned long n = 0; n < r->iterations; n++) {
		if (mmn_madvise(r->mm, S2_BASE, S2_PG, MMN_MADV_DONTNEED) == 0)
			atomic_fetch_add(&r->unmaps, 1);
		(void)mmn_cpu_write(r->mm, 1, S2_BASE, 0x200 + n);
	}
	return NULL;
}

static void *s2_x_device(void *arg)
{
	struct s2_race *r = arg;

	for (unsigned long n = 0; n < r->iterations; n++) {
		uint64_t v;

		if (mmn_iommu_dma_read(r->io, r->pasid, S2_BASE, &v) == 0)
			atomic_fetch_add(&r->dma_ok, 1);
		else
			atomic_fetch_add(&r->dma_failed, 1);
	}
	return NULL;
}

static void s2_x_body(struct mmn_sim *sim, void *arg)
{
	struct s2_race *r = arg;
	struct mmn_actor *a[3] = { NULL };
	void *(*fn[3])(void *) = { s2_x_vcpu, s2_x_invalidator, s2_x_device };
	const char *names[3] = { "vcpu", "invalidator", "device" };
	uint64_t v;

	for (int i = 0; i < 3 && !r->spawn_err; i++)
		r->spawn_err = mmn_actor_spawn(sim, names[i], fn[i], r, &a[i]);
	for (int i = 0; i < 3; i++)
		if (a[i])
			(void)mmn_actor_join(a[i], NULL);
	/* The guest touches the page again: through a stale SPTE (or vCPU
	 * TLB entry) of a freed frame, a use-after-free. */
	(void)mmn_kvm_vcpu_read(r->kvm, 0, S2_GFN0, &v);
}

static int s2_explore(const struct mmn_scenario_params *p, const char *profile,
		      enum mmn_kvm_variant variant, struct mmn_scenario_result *out)
{
	struct s2_race *r = calloc(1, sizeof(*r));
	struct mmn_kvm_stats ks;
	struct mmn_iommu_stats is;
	int err;

	if (!r)
		return -ENOMEM;
	r->iterations = p->iterations ? p->iterations : S2_EXPLORE_ROUNDS;
	err = s2_race_world(r, p, profile, variant, 1, true);
	if (!err)
		err = mmn_scenario_sched_run(r->sim, p, s2_x_body, r, out);
	if (!err)
		err = r->spawn_err;
	if (!err && (mmn_kvm_get_stats(r->kvm, &ks) || mmn_iommu_get_stats(r->io, &is)))
		err = -EIO;
	if (err) {
		s2_race_free(r, NULL, NULL);
		free(r);
		return err;
	}
	(void)mmn_check_quiescent(r->sim);
	s2_add(r->sim, out);
	out->runs = 1;
	mmn_scenario_add_counter(out, "kvm_retries", ks.retries);
	mmn_scenario_add_counter(out, "kvm_retries_in_progress", ks.retries_in_progress);
	mmn_scenario_add_counter(out, "kvm_faults_installed", ks.faults_installed);
	mmn_scenario_add_counter(out, "vcpu_reads_failed", atomic_load(&r->vcpu_failed));
	mmn_scenario_add_counter(out, "invalidations", atomic_load(&r->unmaps));
	mmn_scenario_add_counter(out, "dma_refaults", is.refaults);
	mmn_scenario_add_counter(out, "dma_ok", atomic_load(&r->dma_ok));
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", profile);
	mmn__scn_fmt(out->setting, sizeof(out->setting), "KVM retry check %s; IOMMU AMDv2",
		 mmn_kvm_variant_name(variant));
	out->claim_holds = p->wrong ? out->by_kind[MMN_VIOL_USE_AFTER_FREE] > 0
				    : out->violations == 0;
	mmn__scn_fmt(out->note, sizeof(out->note),
		 "explore: KVM %lu use-after-free, %lu stale, %lu retries (%lu in progress); "
		 "device %lu re-faults",
		 out->by_kind[MMN_VIOL_USE_AFTER_FREE], out->by_kind[MMN_VIOL_STALE_TRANSLATION],
		 ks.retries, ks.retries_in_progress, is.refaults);
	mmn_scenario_finish(r->sim, p, out);
	s2_race_free(r, NULL, NULL);
	free(r);
	return 0;
}

/* ---- part 2: invalidations that never stop ---- */

struct s2_starve {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_iommu *io;
	int pasid;
	unsigned long dmas, invals;
	atomic_bool done;
	atomic_ulong ok, failed;
	bool bad_value;
};

struct s2_starve_out {
	unsigned long refaults, ok, give_ups, page_requests;
};

static void *s2_invalidator(void *arg)
{
	struct s2_starve *s = arg;

	for (unsigned long i = 0; i < s->invals && !atomic_load(&s->done); i++) {
		(void)mmn_mprotect(s->mm, S2_BASE, S2_DEV_PAGES * S2_PG, MMN_PROT_READ);
		(void)mmn_mprotect(s->mm, S2_BASE, S2_DEV_PAGES * S2_PG,
				   MMN_PROT_READ | MMN_PROT_WRITE);
	}
	return NULL;
}

static void *s2_device(void *arg)
{
	struct s2_starve *s = arg;

	for (unsigned long i = 0; i < s->dmas; i++) {
		uint64_t v;
		int r = mmn_iommu_dma_read(s->io, s->pasid, S2_BASE + (i % S2_DEV_PAGES) * S2_PG, &v);

		if (r == 0) {
			if (v != 0x100 + i % S2_DEV_PAGES)
				s->bad_value = true;
			atomic_fetch_add(&s->ok, 1);
		} else {
			atomic_fetch_add(&s->failed, 1);
		}
	}
	atomic_store(&s->done, true);
	return NULL;
}

static void s2_starve_body(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *inv = NULL, *dev = NULL;
	struct s2_starve *s = arg;

	if (mmn_actor_spawn(sim, "invalidator", s2_invalidator, arg, &inv))
		return;
	if (mmn_actor_spawn(sim, "device", s2_device, arg, &dev))
		atomic_store(&s->done, true);
	if (dev)
		(void)mmn_actor_join(dev, NULL);
	(void)mmn_actor_join(inv, NULL);
}

static int s2_starve_run(const struct mmn_scenario_params *p, const char *profile,
			 enum mmn_iommu_mode mode, bool native, unsigned long iterations,
			 struct mmn_scenario_result *out, struct s2_starve_out *o)
{
	struct s2_starve *s = calloc(1, sizeof(*s));
	struct mmn_iommu_config ic;
	struct mmn_iommu_stats st;
	int err = -ENOMEM;

	if (!s)
		return -ENOMEM;
	s->dmas = native ? iterations / 4 + 1 : S2_DMAS;
	s->invals = native ? iterations : S2_INVALS;
	s->sim = s2_sim(p, profile, !native);
	if (!s->sim) {
		free(s);
		return -EINVAL;
	}
	mmn_iommu_config_init(&ic);
	ic.mode = mode;
	ic.max_faults = S2_MAX_FAULTS;
	err = scn_iommu_mm(s->sim, &ic, S2_BASE, S2_DEV_PAGES * S2_PG, 0, &s->mm, &s->io,
				&s->pasid);
	for (unsigned long i = 0; !err && i < S2_DEV_PAGES; i++)
		err = mmn_cpu_write(s->mm, 0, S2_BASE + i * S2_PG, 0x100 + i);
	if (!err && native) {
		struct mmn_actor *inv = NULL, *dev = NULL;

		err = mmn_actor_spawn(s->sim, "invalidator", s2_invalidator, s, &inv);
		if (!err && (err = mmn_actor_spawn(s->sim, "device", s2_device, s, &dev)) != 0)
			atomic_store(&s->done, true);
		if (dev)
			(void)mmn_actor_join(dev, NULL);
		if (inv)
			(void)mmn_actor_join(inv, NULL);
	} else if (!err) {
		struct mmn_sched_config sc;
		struct mmn_sched_result res;

		mmn_sched_config_init(&sc);
		sc.seed = p->seed ? p->seed : 1;
		sc.trace = false;
		sc.max_steps = 2000000;
		err = mmn_sched_run(s->sim, &sc, s2_starve_body, s, &res);
		if (!err && res.outcome != MMN_OUTCOME_OK)
			err = -EIO;
	}
	if (!err && (s->bad_value || mmn_iommu_get_stats(s->io, &st)))
		err = -EIO;
	if (!err) {
		(void)mmn_check_quiescent(s->sim);
		s2_add(s->sim, out);
		o->refaults = st.refaults;
		o->ok = atomic_load(&s->ok);
		o->give_ups = st.give_ups;
		o->page_requests = st.page_requests;
		mmn_scenario_finish(s->sim, p, out);
	}
	scn_iommu_put(s->mm, s->io);
	mmn_sim_destroy(s->sim);
	free(s);
	return err;
}

static int s2_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	return p->variant < -1 || p->variant > MMN_KVM_NUMA_AWARE ? -EINVAL : 0;
}

/* Three simulations: the KVM part, then AMDv2 and SVA starved (EXPLORE: one). */
static int s2_body(const struct mmn_scenario_params *p, const int64_t *values,
		   struct mmn_scenario_result *out)
{
	struct s2_part1 k = { 0 };
	struct s2_starve_out amd = { 0 }, sva = { 0 };
	enum mmn_kvm_variant variant;
	unsigned long iterations;
	const char *profile;
	bool native;
	int err;

	(void)values;
	native = p->mode == MMN_SCENARIO_NATIVE;
	profile = p->profile ? p->profile : "latest";
	variant = p->variant >= 0 ? (enum mmn_kvm_variant)p->variant
				  : (p->wrong ? MMN_KVM_CHECK_SEQ_ONLY : MMN_KVM_CHECK_RANGE);
	if (p->mode == MMN_SCENARIO_EXPLORE)
		return s2_explore(p, profile, variant, out);
	iterations = p->iterations ? p->iterations : 2000;
	err = native ? s2_part1_native(p, profile, variant, iterations, out, &k)
		     : s2_part1_interleaved(p, profile, variant, out, &k);
	if (!err)
		err = s2_starve_run(p, profile, MMN_IOMMU_AMDV2, native, iterations, out, &amd);
	if (!err)
		err = s2_starve_run(p, profile, MMN_IOMMU_SVA, native, iterations, out, &sva);
	if (err)
		return err;
	out->runs = 3;
	mmn_scenario_add_counter(out, "kvm_retries", k.kvm_retries);
	mmn_scenario_add_counter(out, "kvm_uaf_reads", k.kvm_uaf_reads);
	mmn_scenario_add_counter(out, "window_dma_refaults", k.dma_refaults);
	mmn_scenario_add_counter(out, "window_dma_give_ups", k.dma_give_ups);
	mmn_scenario_add_counter(out, "amdv2_refaults", amd.refaults);
	mmn_scenario_add_counter(out, "amdv2_ok", amd.ok);
	mmn_scenario_add_counter(out, "amdv2_give_ups", amd.give_ups);
	mmn_scenario_add_counter(out, "sva_refaults", sva.refaults);
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", profile);
	mmn__scn_fmt(out->setting, sizeof(out->setting), "KVM retry check %s; IOMMU AMDv2 vs SVA",
		 mmn_kvm_variant_name(variant));
	/* The IOMMU part of the claim holds in both settings: AMDv2 re-faults
	 * (the design's cost), SVA never does. */
	out->claim_holds = sva.refaults == 0 && (native || (amd.refaults > 0 && amd.ok > 0));
	if (p->wrong)
		out->claim_holds = out->claim_holds && out->by_kind[MMN_VIOL_USE_AFTER_FREE] > 0;
	else
		out->claim_holds = out->claim_holds && out->violations == 0;
	mmn__scn_fmt(out->note, sizeof(out->note),
		 "%s: KVM %lu use-after-free; AMDv2 %lu re-faults / %lu ok = %lu.%03lu, %lu give-ups; "
		 "SVA %lu re-faults",
		 native ? "native" : "interleaved", out->by_kind[MMN_VIOL_USE_AFTER_FREE], amd.refaults,
		 amd.ok, amd.ok ? amd.refaults / amd.ok : 0,
		 amd.ok ? amd.refaults * 1000 / amd.ok % 1000 : 0, amd.give_ups, sva.refaults);
	return 0;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s2 = {
	.id = "S2",
	.seed = "001",
	.title = "KVM-style and IOMMU-style listeners under the same racing workload",
	.claim = "KVM safe via seq/in_progress; re-fault counts; starvation measurable when "
		 "invalidations never stop",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE,
	.validate = s2_validate,
	.run = s2_body,
};
