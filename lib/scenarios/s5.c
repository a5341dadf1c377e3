// SPDX-License-Identifier: MIT
/*
 * S5 (seed 003): an event-blind HMM-style mirror (MMN_HMM_EVENT_BLIND, a
 * driver before 5.2: every notification is an munmap) versus an event-aware
 * one (MMN_HMM_EVENT_AWARE) under mprotect, soft-dirty clearing and the
 * mirror's own migrations: teardowns and device re-faults counted, far fewer
 * when the events are used. Plus the KVM part of the seed: change_pte (KSM
 * merge) was meant to keep the KVM mapping live; in every kernel after 4.13
 * (and in the model, every profile) change_pte runs between start and end,
 * after start zapped the SPTE, so it finds nothing: counted, reported as it
 * is (change_pte found / missed; three calls per merge before 6.10, from
 * write_protect_page() of each page and replace_page(), mm/ksm.c).
 *
 * INTERLEAVED: three phases, each on its own mm and mirror of the same
 * simulation (the unit versions are in tests/listeners/test_hmm.c):
 *  - mprotect: CPU fills, device read, mprotect(READ), device read again;
 *  - soft-dirty: device write, clear_refs soft-dirty, device read twice;
 *  - migration: device read, migrate 4 pages to device memory, a CPU read
 *    (migrate_to_ram), device read again.
 * Then the KVM phase: two identical pages mapped by a VM, KSM merges them.
 * The requested variant's counters are reported; the other variant is run
 * too (same phases) so that claim_holds compares them: aware < blind.
 *
 * NATIVE: a device actor reads and writes the mirror while an operator
 * actor toggles mprotect, clears soft-dirty bits and migrates; both variants
 * are run with the same seeds, the requested one reported.
 *
 * EXPLORE: one simulation, the requested variant only. Prologue (one
 * actor): the mirror's 4 pages filled by the CPU and read once by the
 * device (its page table full), the VM's two identical pages mapped by
 * live SPTEs. Then four actors as one schedule of the deterministic
 * backend, with no hook and no start gate: the NATIVE operator doing its
 * four operations in turn (mprotect READ, soft-dirty clearing, a migration
 * to device memory, a CPU read of that page: migrate_to_ram; 4 rounds by
 * default), the NATIVE device reading and writing (params.seed picks which)
 * until the operator is done, at most 4 accesses per operator round; a
 * "ksm" actor merging the VM's two pages and a "vcpu" actor reading both
 * gfns until the merge is done, at most 4 rounds (KVM retry budget 4, so
 * that a vCPU spinning at a high PCT priority against an invalidation in
 * progress gives up instead of exhausting the step budget). Epilogue
 * (alone): the device reads every page and the guest both gfns, so that
 * each teardown's re-fault is paid. This is a count scenario: no schedule
 * should show a violation in either setting, so a "violating schedule" is
 * any violation at all (a stale device or KVM mapping, a lost soft-dirty
 * bit, a deadlock). One schedule cannot compare the two mirrors, so
 * claim_holds decides what the seed says about the variant that ran: the
 * event-blind mirror tore down on every notification that found entries
 * (teardowns + needless == notifications, nothing downgraded, none of its
 * own migrations skipped), the event-aware one tore nothing down (mprotect
 * and soft-dirty downgrade, its own migrations are skipped; this needs a
 * profile with events, 5.2+); and no violation. The comparison (far fewer
 * teardowns and re-faults when the events are used) is over schedules: the
 * sums of the counters, as tests/scenarios/test_s5.c makes them. Whether
 * change_pte ever finds the SPTE live is counted (change_pte_found: 0 in
 * every schedule, since start has zapped it and the vCPU's fault cannot
 * install while the invalidation is in progress), not judged.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"

#define S5_BASE 0x40000000UL
#define S5_MIRROR_PAGES 64UL
#define S5_DEFAULT_PAGES 16UL
#define S5_DEFAULT_ITERS 2000UL
#define S5_DEVMEM 16UL
#define S5_GFN0 0x100ULL
#define S5_KSM_VALUE 0x4b534dULL
/* EXPLORE: small, so that a schedule is a few hundred scheduling points */
#define S5_EXPLORE_PAGES 4UL
#define S5_EXPLORE_ITERS 4UL
#define S5_EXPLORE_READS_PER_OP 4UL
#define S5_EXPLORE_VCPU_READS 4
#define S5_EXPLORE_KVM_RETRIES 4U
#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANONF (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED)

struct s5_obs {
	unsigned long teardowns, refaults, refault_passes, zapped, downgraded, needless,
		skipped_own, callbacks, nonblock_refused;
	unsigned long violations, by_kind[MMN_VIOL_NR_KINDS];
	unsigned long cp_calls, cp_found, cp_missed, kvm_refaults;
	unsigned long runs;
};

static void s5_add(struct s5_obs *o, struct mmn_hmm *m)
{
	struct mmn_hmm_stats st;

	(void)mmn_hmm_get_stats(m, &st);
	o->teardowns += st.teardowns;
	o->refaults += st.refaults;
	o->zapped += st.zapped;
	o->downgraded += st.downgraded;
	o->needless += st.needless;
	o->skipped_own += st.skipped_own;
	o->callbacks += st.callbacks;
	o->nonblock_refused += st.nonblock_refused;
}

/* One mm + mirror with @pages filled by the CPU (values base + i). */
static int s5_mirror(struct mmn_sim *sim, enum mmn_hmm_variant v, unsigned long pages,
		     struct mmn_mm **mm, struct mmn_hmm **m)
{
	struct mmn_hmm_config hc;
	unsigned long got;
	int err;

	*m = NULL;
	*mm = mmn_mm_create(sim);
	if (!*mm)
		return -ENOMEM;
	err = mmn_mmap(*mm, S5_BASE, S5_MIRROR_PAGES * PG, RW, ANONF, &got);
	if (!err) {
		mmn_hmm_config_init(&hc);
		hc.variant = v;
		hc.devmem_pages = S5_DEVMEM;
		hc.retry_budget = 256;
		hc.name = "s5-mirror";
		err = mmn_hmm_create(*mm, S5_BASE, S5_MIRROR_PAGES * PG, &hc, m);
	}
	for (unsigned long i = 0; !err && i < pages; i++)
		err = mmn_cpu_write(*mm, 0, S5_BASE + i * PG, 1 + i);
	if (err) {
		if (*m)
			(void)mmn_hmm_destroy(*m);
		mmn_mm_put(*mm);
		*m = NULL;
		*mm = NULL;
	}
	return err;
}

static void s5_mirror_free(struct mmn_mm *mm, struct mmn_hmm *m, int *err)
{
	if (m && mmn_hmm_destroy(m) && !*err)
		*err = -EBUSY;
	if (mm)
		mmn_mm_put(mm);
}

static long s5_pos(long r, int *err)
{
	if (r < 0 && !*err)
		*err = (int)r;
	return r < 0 ? 0 : r;
}

/* The three HMM phases. */
static int s5_hmm_interleaved(struct mmn_sim *sim, enum mmn_hmm_variant v, unsigned long pages,
			      struct s5_obs *o)
{
	uint64_t buf[S5_MIRROR_PAGES];
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	unsigned long mig = pages < 4 ? pages : 4;
	uint64_t val;
	int err = 0;

	/* mprotect(READ) under a mapped device range */
	err = s5_mirror(sim, v, pages, &mm, &m);
	if (err)
		return err;
	s5_pos(mmn_hmm_read(m, S5_BASE, pages, buf), &err);
	if (!err)
		err = mmn_mprotect(mm, S5_BASE, pages * PG, MMN_PROT_READ);
	if (!err)
		o->refault_passes += (unsigned long)s5_pos(mmn_hmm_read(m, S5_BASE, pages, buf), &err);
	s5_add(o, m);
	s5_mirror_free(mm, m, &err);
	if (err)
		return err;

	/* soft-dirty clearing under a writable device range */
	err = s5_mirror(sim, v, pages, &mm, &m);
	if (err)
		return err;
	for (unsigned long i = 0; i < pages; i++)
		buf[i] = 300 + i;
	s5_pos(mmn_hmm_write(m, S5_BASE, pages, buf), &err);
	if (!err)
		err = mmn_clear_refs_soft_dirty(mm);
	for (int k = 0; k < 2 && !err; k++)
		o->refault_passes += (unsigned long)s5_pos(mmn_hmm_read(m, S5_BASE, pages, buf), &err);
	s5_add(o, m);
	s5_mirror_free(mm, m, &err);
	if (err)
		return err;

	/* the mirror's own migrations (MIGRATE_TO_DEV, then migrate_to_ram) */
	err = s5_mirror(sim, v, pages, &mm, &m);
	if (err)
		return err;
	s5_pos(mmn_hmm_read(m, S5_BASE, pages, buf), &err);
	if (!err && mmn_hmm_migrate_to_device(m, S5_BASE, mig) != (long)mig)
		err = -EIO;
	if (!err)
		err = mmn_cpu_read(mm, 0, S5_BASE, &val);
	if (!err)
		o->refault_passes += (unsigned long)s5_pos(mmn_hmm_read(m, S5_BASE, pages, buf), &err);
	s5_add(o, m);
	s5_mirror_free(mm, m, &err);
	return err;
}

/* A VM over two identical pages, both mapped by live SPTEs. */
static int s5_kvm_new(struct mmn_sim *sim, unsigned int max_retries, struct mmn_mm **mmp,
		      struct mmn_kvm **kvmp)
{
	struct mmn_kvm_config kc;
	struct mmn_kvm *kvm = NULL;
	struct mmn_mm *mm;
	unsigned long got;
	uint64_t v;
	int err;

	*kvmp = NULL;
	*mmp = NULL;
	mm = mmn_mm_create(sim);
	if (!mm)
		return -ENOMEM;
	err = mmn_mmap(mm, S5_BASE, 2 * PG, RW, ANONF, &got);
	for (int i = 0; !err && i < 2; i++)
		err = mmn_cpu_write(mm, 0, S5_BASE + (unsigned long)i * PG, S5_KSM_VALUE);
	if (!err) {
		mmn_kvm_config_init(&kc);
		if (max_retries)
			kc.max_retries = max_retries;
		kvm = mmn_kvm_create(mm, &kc);
		if (!kvm)
			err = -ENOMEM;
	}
	if (!err)
		err = mmn_kvm_set_memslot(kvm, 0, S5_GFN0, 2, S5_BASE);
	for (int i = 0; !err && i < 2; i++)
		err = mmn_kvm_vcpu_read(kvm, 0, S5_GFN0 + (uint64_t)i, &v);
	if (err) {
		if (kvm)
			mmn_kvm_destroy(kvm);
		mmn_mm_put(mm);
		return err;
	}
	*mmp = mm;
	*kvmp = kvm;
	return 0;
}

static void s5_kvm_collect(struct mmn_kvm *kvm, struct s5_obs *o)
{
	struct mmn_kvm_stats ks;

	if (mmn_kvm_get_stats(kvm, &ks))
		return;
	o->cp_calls = ks.callbacks[MMN_KVM_CB_CHANGE_PTE];
	o->cp_found = ks.change_pte_found;
	o->cp_missed = ks.change_pte_missed;
	o->kvm_refaults = ks.refaults;
}

/* KSM merging two identical guest pages under live SPTEs. */
static int s5_kvm_ksm(struct mmn_sim *sim, struct s5_obs *o)
{
	struct mmn_kvm *kvm;
	struct mmn_mm *mm;
	uint64_t v;
	int err;

	err = s5_kvm_new(sim, 0, &mm, &kvm);
	if (err)
		return err;
	err = mmn_ksm_merge(mm, S5_BASE, mm, S5_BASE + PG);
	/* the guest reads the merged page again: live SPTE or re-fault? */
	if (!err)
		err = mmn_kvm_vcpu_read(kvm, 0, S5_GFN0 + 1, &v);
	if (!err)
		s5_kvm_collect(kvm, o);
	mmn_kvm_destroy(kvm);
	mmn_mm_put(mm);
	return err;
}

/* ---- native ---- */

struct s5_nat {
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	unsigned long pages, iters;
	uint64_t seed;
	struct mmn_completion *go; /* NULL in EXPLORE: the schedule starts them */
	atomic_int *done;          /* EXPLORE: the operator has finished */
	bool cycle;                /* EXPLORE: the operator's operations in turn */
};

/*
 * NATIVE: @iters rounds. EXPLORE (@done set): rounds until the operator is
 * done, at most @iters of them; each passes the device mutex, a scheduling
 * point, so the loop cannot spin the deterministic scheduler.
 */
static void *s5_device(void *arg)
{
	struct s5_nat *n = arg;
	uint64_t buf[S5_MIRROR_PAGES];

	if (n->go)
		mmn_wait_for_completion(n->go);
	for (unsigned long i = 0; i < n->iters && !(n->done && atomic_load(n->done)); i++) {
		for (unsigned long k = 0; k < n->pages; k++)
			buf[k] = i + k;
		if (mmn_scenario_rand(&n->seed) % 4 == 0)
			(void)mmn_hmm_write(n->m, S5_BASE, n->pages, buf);
		else
			(void)mmn_hmm_read(n->m, S5_BASE, n->pages, buf);
	}
	return NULL;
}

/*
 * NATIVE: random operations. EXPLORE (@cycle): each of the four in turn
 * (mprotect, soft-dirty, a migration to device memory, a CPU read of the
 * migrated page: migrate_to_ram), mprotect alternating READ and RW, so that
 * a few rounds cover every operation; then @done is set.
 */
static void *s5_operator(void *arg)
{
	struct s5_nat *n = arg;
	unsigned long pg = 0;
	uint64_t v;

	if (n->go)
		mmn_wait_for_completion(n->go);
	for (unsigned long i = 0; i < n->iters; i++) {
		unsigned long op;

		if (!n->cycle || i % 4 == 2)
			pg = mmn_scenario_rand(&n->seed) % n->pages;
		op = n->cycle ? i % 4 : mmn_scenario_rand(&n->seed) % 4;
		switch (op) {
		case 0:
			(void)mmn_mprotect(n->mm, S5_BASE, n->pages * PG,
					   (n->cycle ? (i / 4) % 2 == 0 : (mmn_scenario_rand(&n->seed) & 1))
						   ? MMN_PROT_READ
						   : RW);
			break;
		case 1:
			(void)mmn_clear_refs_soft_dirty(n->mm);
			break;
		case 2:
			(void)mmn_hmm_migrate_to_device(n->m, S5_BASE + pg * PG, 1);
			break;
		default:
			(void)mmn_cpu_read(n->mm, 1, S5_BASE + pg * PG, &v);
			break;
		}
	}
	(void)mmn_mprotect(n->mm, S5_BASE, S5_MIRROR_PAGES * PG, RW);
	if (n->done)
		atomic_store(n->done, 1);
	return NULL;
}

static int s5_hmm_native(struct mmn_sim *sim, enum mmn_hmm_variant v, unsigned long pages,
			 unsigned long iters, uint64_t seed, struct s5_obs *o)
{
	struct mmn_completion go;
	struct s5_nat n[2];
	struct mmn_actor *a[2];
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	struct mmn_hmm_stats st;
	int err;

	err = s5_mirror(sim, v, pages, &mm, &m);
	if (err)
		return err;
	mmn_init_completion(&go, sim, "s5-go");
	for (int i = 0; i < 2; i++)
		n[i] = (struct s5_nat){ .mm = mm, .m = m, .pages = pages, .iters = iters,
					.seed = seed * 7919u + (uint64_t)i + 1, .go = &go };
	err = mmn_actor_spawn(sim, "s5-device", s5_device, &n[0], &a[0]);
	if (!err) {
		err = mmn_actor_spawn(sim, "s5-operator", s5_operator, &n[1], &a[1]);
		mmn_complete_all(&go);
		(void)mmn_actor_join(a[0], NULL);
		if (!err)
			(void)mmn_actor_join(a[1], NULL);
	}
	mmn_completion_destroy(&go);
	s5_add(o, m);
	if (!mmn_hmm_get_stats(m, &st))
		o->refault_passes += st.device_faults;
	o->runs = iters;
	s5_mirror_free(mm, m, &err);
	return err;
}

/* ---- explore ---- */

struct s5_x {
	struct s5_nat n[2];
	struct mmn_mm *kvm_mm;
	struct mmn_kvm *kvm;
	atomic_int op_done, ksm_done;
	int ksm_err;
};

/* ksmd: merge the VM's two identical pages (change_pte in the 5.14 profile). */
static void *s5_ksm(void *arg)
{
	struct s5_x *x = arg;

	x->ksm_err = mmn_ksm_merge(x->kvm_mm, S5_BASE, x->kvm_mm, S5_BASE + PG);
	atomic_store(&x->ksm_done, 1);
	return NULL;
}

/* The guest reading both pages while they are merged (bounded rounds, each
 * through the vCPU TLB lock: scheduling points). */
static void *s5_vcpu(void *arg)
{
	struct s5_x *x = arg;
	uint64_t v;

	for (int i = 0; i < S5_EXPLORE_VCPU_READS && !atomic_load(&x->ksm_done); i++)
		for (uint64_t g = 0; g < 2; g++)
			(void)mmn_kvm_vcpu_read(x->kvm, 0, S5_GFN0 + g, &v);
	return NULL;
}

static void s5_explore_body(struct mmn_sim *sim, void *arg)
{
	static const char *const names[4] = { "s5-device", "s5-operator", "s5-ksm", "s5-vcpu" };
	struct s5_x *x = arg;
	void *(*fns[4])(void *) = { s5_device, s5_operator, s5_ksm, s5_vcpu };
	void *args[4] = { &x->n[0], &x->n[1], x, x };
	struct mmn_actor *a[4];
	int n = 0;

	for (; n < 4; n++)
		if (mmn_actor_spawn(sim, names[n], fns[n], args[n], &a[n]))
			break;
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
	/* epilogue, alone: the device and the guest touch everything once
	 * more, so that each teardown's re-fault is paid and counted */
	if (n == 4) {
		uint64_t buf[S5_MIRROR_PAGES], v;

		(void)mmn_hmm_read(x->n[0].m, S5_BASE, x->n[0].pages, buf);
		for (uint64_t g = 0; g < 2; g++)
			(void)mmn_kvm_vcpu_read(x->kvm, 0, S5_GFN0 + g, &v);
	}
}

/*
 * EXPLORE: the prologue single-threaded, then the four actors as the
 * schedule p->sched; the observations of the requested variant go to @o.
 */
static int s5_explore(struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      enum mmn_hmm_variant v, unsigned long pages, uint64_t seed, struct s5_obs *o,
		      struct mmn_scenario_result *out)
{
	uint64_t buf[S5_MIRROR_PAGES];
	struct mmn_hmm_stats st;
	struct s5_x x = { .ksm_err = 0 };
	unsigned long iters = p->iterations ? p->iterations : S5_EXPLORE_ITERS;
	unsigned long reads = iters * S5_EXPLORE_READS_PER_OP;
	unsigned long faults0 = 0;
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	int err;

	err = s5_mirror(sim, v, pages, &mm, &m);
	if (err)
		return err;
	/* the device has mapped every page before the operations start */
	s5_pos(mmn_hmm_read(m, S5_BASE, pages, buf), &err);
	if (!err && !mmn_hmm_get_stats(m, &st))
		faults0 = st.device_faults;
	if (!err)
		err = s5_kvm_new(sim, S5_EXPLORE_KVM_RETRIES, &x.kvm_mm, &x.kvm);
	if (!err) {
		for (int i = 0; i < 2; i++)
			x.n[i] = (struct s5_nat){ .mm = mm, .m = m, .pages = pages,
						  .iters = i ? iters : reads, .done = &x.op_done,
						  .cycle = true,
						  .seed = seed * 7919u + (uint64_t)i + 1 };
		err = mmn_scenario_sched_run(sim, p, s5_explore_body, &x, out);
	}
	if (!err) {
		s5_add(o, m);
		if (!mmn_hmm_get_stats(m, &st))
			o->refault_passes += st.device_faults - faults0;
		s5_kvm_collect(x.kvm, o);
		o->runs = iters;
	}
	if (x.kvm)
		mmn_kvm_destroy(x.kvm);
	if (x.kvm_mm)
		mmn_mm_put(x.kvm_mm);
	s5_mirror_free(mm, m, &err);
	return err;
}

/* ---- the run ---- */

/*
 * Fill @out from the requested variant's observations @mine and, outside
 * EXPLORE, the other variant's @other (NULL in EXPLORE: one simulation).
 */
static void s5_judge(int v, const struct s5_obs *mine,
		     const struct s5_obs *other, const char *prof, struct mmn_scenario_result *out)
{
	out->runs = mine->runs;
	out->violations = mine->violations;
	memcpy(out->by_kind, mine->by_kind, sizeof(out->by_kind));
	mmn_scenario_add_counter(out, "teardowns", mine->teardowns);
	mmn_scenario_add_counter(out, "refaults", mine->refaults);
	mmn_scenario_add_counter(out, "refault_passes", mine->refault_passes);
	mmn_scenario_add_counter(out, "zapped", mine->zapped);
	mmn_scenario_add_counter(out, "downgraded", mine->downgraded);
	mmn_scenario_add_counter(out, "needless", mine->needless);
	mmn_scenario_add_counter(out, "change_pte_found", mine->cp_found);
	mmn_scenario_add_counter(out, "change_pte_missed", mine->cp_missed);
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", prof);
	mmn__scn_fmt(out->setting, sizeof(out->setting), "variant=%s",
		 v == MMN_HMM_EVENT_BLIND ? "event_blind" : "event_aware");
	if (other) {
		const struct s5_obs *aware = v == MMN_HMM_EVENT_AWARE ? mine : other;
		const struct s5_obs *blind = v == MMN_HMM_EVENT_AWARE ? other : mine;

		out->claim_holds = aware->teardowns < blind->teardowns &&
				   aware->refaults < blind->refaults && mine->violations == 0;
		mmn__scn_fmt(out->note, sizeof(out->note),
			 "teardowns %lu vs %lu, refaults %lu vs %lu (aware vs blind); change_pte %lu found %lu missed",
			 aware->teardowns, blind->teardowns, aware->refaults, blind->refaults,
			 mine->cp_found, mine->cp_missed);
		return;
	}
	/* EXPLORE: what one schedule decides about the variant that ran */
	if (v == MMN_HMM_EVENT_BLIND)
		out->claim_holds = mine->violations == 0 && mine->downgraded == 0 &&
				   mine->skipped_own == 0 &&
				   mine->teardowns + mine->needless + mine->nonblock_refused ==
					   mine->callbacks;
	else
		out->claim_holds = mine->violations == 0 && mine->teardowns == 0 &&
				   mine->zapped == 0;
	mmn__scn_fmt(out->note, sizeof(out->note),
		 "explore %s: %lu of %lu notifications tore down (%lu entries), %lu refaults; change_pte %lu found %lu missed",
		 v == MMN_HMM_EVENT_BLIND ? "blind" : "aware", mine->teardowns, mine->callbacks,
		 mine->zapped, mine->refaults, mine->cp_found, mine->cp_missed);
}

/*
 * One simulation of variant @v. Outside EXPLORE it runs the HMM phases then
 * the KSM phase; in EXPLORE the one schedule, and it judges @out itself
 * (before mmn_scenario_finish() hands the simulation to the inspect callback).
 */
static int s5_once(const struct mmn_scenario_params *p, enum mmn_hmm_variant v, unsigned long pages,
		   struct s5_obs *o, char *profile, size_t profile_len,
		   struct mmn_scenario_result *out)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;
	int err;

	memset(o, 0, sizeof(*o));
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096;
	/* 5.14: events, change_pte and mmu_notifier_range_update_to_read_only()
	 * (5.2-6.1), which the aware mirror's mprotect downgrade needs. */
	cfg.profile = p->profile ? p->profile : "5.14";
	err = mmn_scenario_sim_create(&sim, &cfg, p, false, NULL);
	if (err)
		return err;
	if (p->mode == MMN_SCENARIO_INTERLEAVED) {
		err = s5_hmm_interleaved(sim, v, pages, o);
		o->runs = 1;
	} else if (p->mode == MMN_SCENARIO_NATIVE) {
		err = s5_hmm_native(sim, v, pages, (p->iterations ? p->iterations : S5_DEFAULT_ITERS) / 2,
				    cfg.seed, o);
	} else {
		err = s5_explore(sim, p, v, pages, cfg.seed, o, out);
	}
	if (!err && p->mode != MMN_SCENARIO_EXPLORE)
		err = s5_kvm_ksm(sim, o);
	if (!err) {
		struct mmn_scenario_result tmp = { 0 };

		(void)mmn_check_quiescent(sim);
		mmn_scenario_collect_violations(sim, &tmp);
		o->violations = tmp.violations;
		memcpy(o->by_kind, tmp.by_kind, sizeof(o->by_kind));
		snprintf(profile, profile_len, "%s", mmn_sim_profile(sim)->name);
		if (p->mode == MMN_SCENARIO_EXPLORE)
			s5_judge((int)v, o, NULL, profile, out);
		mmn_scenario_finish(sim, p, out);
	}
	mmn_sim_destroy(sim);
	return err;
}

static int s5_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	/* only the two mirrors compared: -1/0 the setting's choice, 1 blind */
	if (p->variant < -1 || p->variant > MMN_HMM_EVENT_BLIND)
		return -EINVAL;
	if (p->pages > S5_MIRROR_PAGES)
		return -EINVAL;
	if (p->profile && !mmn_profile_by_name(p->profile))
		return -EINVAL;
	return 0;
}

/* One simulation per mirror compared (EXPLORE: the setting's alone). */
static int s5_body(const struct mmn_scenario_params *p, const int64_t *values,
		   struct mmn_scenario_result *out)
{
	struct s5_obs mine, other;
	char prof[16];
	unsigned long pages;
	int v, ov, err;

	(void)values;
	pages = p->pages ? p->pages
			 : p->mode == MMN_SCENARIO_EXPLORE ? S5_EXPLORE_PAGES : S5_DEFAULT_PAGES;
	v = p->variant > 0 ? p->variant : (p->wrong ? MMN_HMM_EVENT_BLIND : MMN_HMM_EVENT_AWARE);
	ov = v == MMN_HMM_EVENT_BLIND ? MMN_HMM_EVENT_AWARE : MMN_HMM_EVENT_BLIND;

	err = s5_once(p, (enum mmn_hmm_variant)v, pages, &mine, prof, sizeof(prof), out);
	if (!err && p->mode != MMN_SCENARIO_EXPLORE) {
		err = s5_once(p, (enum mmn_hmm_variant)ov, pages, &other, prof, sizeof(prof), out);
		if (!err)
			s5_judge(v, &mine, &other, prof, out);
	}
	return err;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s5 = {
	.id = "S5",
	.seed = "003",
	.title = "event-blind versus event-aware HMM mirror under mprotect / soft-dirty / migration",
	.claim = "teardowns and device re-faults counted, far fewer when events are used; "
		 "change_pte (KSM) keeps the KVM mapping live",
	/* counts only: under either setting every violation counts */
	.found_kinds = 0,
	.validate = s5_validate,
	.run = s5_body,
};
