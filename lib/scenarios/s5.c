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
 * is (change_pte found / missed).
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
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "scenarios_internal.h"

#define S5_BASE 0x40000000UL
#define S5_MIRROR_PAGES 64UL
#define S5_DEFAULT_PAGES 16UL
#define S5_DEFAULT_ITERS 2000UL
#define S5_DEVMEM 16UL
#define S5_GFN0 0x100ULL
#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANONF (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED)

static void s5_quiet(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	(void)sim;
	(void)v;
	(void)arg;
}

struct s5_obs {
	unsigned long teardowns, refaults, refault_passes, zapped, downgraded, needless,
		skipped_own;
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

/* KSM merging two identical guest pages under live SPTEs. */
static int s5_kvm_ksm(struct mmn_sim *sim, struct s5_obs *o)
{
	struct mmn_kvm_config kc;
	struct mmn_kvm_stats ks;
	struct mmn_kvm *kvm = NULL;
	struct mmn_mm *mm;
	unsigned long got;
	uint64_t v;
	int err;

	mm = mmn_mm_create(sim);
	if (!mm)
		return -ENOMEM;
	err = mmn_mmap(mm, S5_BASE, 2 * PG, RW, ANONF, &got);
	for (int i = 0; !err && i < 2; i++)
		err = mmn_cpu_write(mm, 0, S5_BASE + (unsigned long)i * PG, 0x4b534d);
	if (!err) {
		mmn_kvm_config_init(&kc);
		kvm = mmn_kvm_create(mm, &kc);
		if (!kvm)
			err = -ENOMEM;
	}
	if (!err)
		err = mmn_kvm_set_memslot(kvm, 0, S5_GFN0, 2, S5_BASE);
	for (int i = 0; !err && i < 2; i++)
		err = mmn_kvm_vcpu_read(kvm, 0, S5_GFN0 + (uint64_t)i, &v);
	if (!err)
		err = mmn_ksm_merge(mm, S5_BASE, mm, S5_BASE + PG);
	/* the guest reads the merged page again: live SPTE or re-fault? */
	if (!err)
		err = mmn_kvm_vcpu_read(kvm, 0, S5_GFN0 + 1, &v);
	if (!err && !mmn_kvm_get_stats(kvm, &ks)) {
		o->cp_calls = ks.callbacks[MMN_KVM_CB_CHANGE_PTE];
		o->cp_found = ks.change_pte_found;
		o->cp_missed = ks.change_pte_missed;
		o->kvm_refaults = ks.refaults;
	}
	if (kvm)
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
	struct mmn_completion *go;
};

static unsigned long s5_rnd(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned long)(*s >> 11);
}

static void *s5_device(void *arg)
{
	struct s5_nat *n = arg;
	uint64_t buf[S5_MIRROR_PAGES];

	mmn_wait_for_completion(n->go);
	for (unsigned long i = 0; i < n->iters; i++) {
		for (unsigned long k = 0; k < n->pages; k++)
			buf[k] = i + k;
		if (s5_rnd(&n->seed) % 4 == 0)
			(void)mmn_hmm_write(n->m, S5_BASE, n->pages, buf);
		else
			(void)mmn_hmm_read(n->m, S5_BASE, n->pages, buf);
	}
	return NULL;
}

static void *s5_operator(void *arg)
{
	struct s5_nat *n = arg;
	uint64_t v;

	mmn_wait_for_completion(n->go);
	for (unsigned long i = 0; i < n->iters; i++) {
		unsigned long pg = s5_rnd(&n->seed) % n->pages;

		switch (s5_rnd(&n->seed) % 4) {
		case 0:
			(void)mmn_mprotect(n->mm, S5_BASE, n->pages * PG,
					   (s5_rnd(&n->seed) & 1) ? MMN_PROT_READ : RW);
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

static int s5_once(const struct mmn_scenario_params *p, enum mmn_hmm_variant v, unsigned long pages,
		   struct s5_obs *o, char *profile, size_t profile_len)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;
	int err;

	memset(o, 0, sizeof(*o));
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096;
	cfg.seed = p->seed ? p->seed : 1;
	cfg.profile = p->profile ? p->profile : "6.5";
	sim = mmn_sim_create(&cfg);
	if (!sim)
		return -ENOMEM;
	mmn_check_set_handler(sim, s5_quiet, NULL);
	err = scn_apply_knobs(sim, p);
	if (!err) {
		if (p->mode == MMN_SCENARIO_INTERLEAVED) {
			err = s5_hmm_interleaved(sim, v, pages, o);
			o->runs = 1;
		} else {
			err = s5_hmm_native(sim, v, pages,
					    (p->iterations ? p->iterations : S5_DEFAULT_ITERS) / 2,
					    cfg.seed, o);
		}
	}
	if (!err)
		err = s5_kvm_ksm(sim, o);
	if (!err) {
		struct mmn_scenario_result tmp = { 0 };

		(void)mmn_check_quiescent(sim);
		scn_collect_violations(sim, &tmp);
		o->violations = tmp.violations;
		memcpy(o->by_kind, tmp.by_kind, sizeof(o->by_kind));
		snprintf(profile, profile_len, "%s", mmn_sim_profile(sim)->name);
	}
	mmn_sim_destroy(sim);
	return err;
}

static int s5_run(const struct mmn_scenario_params *p, struct mmn_scenario_result *out)
{
	static const struct mmn_scenario_params defaults = { .variant = -1 };
	struct s5_obs mine, other;
	const struct s5_obs *aware, *blind;
	char prof[16];
	unsigned long pages;
	int v, ov, err;

	if (!out)
		return -EINVAL;
	if (!p)
		p = &defaults;
	if (p->mode != MMN_SCENARIO_INTERLEAVED && p->mode != MMN_SCENARIO_NATIVE)
		return -EINVAL;
	/* only the two mirrors compared: -1/0 the setting's choice, 1 blind */
	if (p->variant < -1 || p->variant > MMN_HMM_EVENT_BLIND)
		return -EINVAL;
	if (p->pages > S5_MIRROR_PAGES)
		return -EINVAL;
	if (p->profile && !mmn_profile_by_name(p->profile))
		return -EINVAL;
	pages = p->pages ? p->pages : S5_DEFAULT_PAGES;
	v = p->variant > 0 ? p->variant : (p->wrong ? MMN_HMM_EVENT_BLIND : MMN_HMM_EVENT_AWARE);
	ov = v == MMN_HMM_EVENT_BLIND ? MMN_HMM_EVENT_AWARE : MMN_HMM_EVENT_BLIND;

	err = s5_once(p, (enum mmn_hmm_variant)v, pages, &mine, prof, sizeof(prof));
	if (!err)
		err = s5_once(p, (enum mmn_hmm_variant)ov, pages, &other, prof, sizeof(prof));
	if (err)
		return err;
	aware = v == MMN_HMM_EVENT_AWARE ? &mine : &other;
	blind = v == MMN_HMM_EVENT_AWARE ? &other : &mine;

	out->runs = mine.runs;
	out->violations = mine.violations;
	memcpy(out->by_kind, mine.by_kind, sizeof(out->by_kind));
	scn_counter(out, "teardowns", mine.teardowns);
	scn_counter(out, "refaults", mine.refaults);
	scn_counter(out, "refault_passes", mine.refault_passes);
	scn_counter(out, "zapped", mine.zapped);
	scn_counter(out, "downgraded", mine.downgraded);
	scn_counter(out, "needless", mine.needless);
	scn_counter(out, "change_pte_found", mine.cp_found);
	scn_counter(out, "change_pte_missed", mine.cp_missed);
	out->claim_holds = aware->teardowns < blind->teardowns &&
			   aware->refaults < blind->refaults && mine.violations == 0;
	snprintf(out->profile, sizeof(out->profile), "%s", prof);
	snprintf(out->setting, sizeof(out->setting), "variant=%s",
		 v == MMN_HMM_EVENT_BLIND ? "event_blind" : "event_aware");
	snprintf(out->note, sizeof(out->note),
		 "teardowns %lu vs %lu, refaults %lu vs %lu (aware vs blind); change_pte %lu found %lu missed",
		 aware->teardowns, blind->teardowns, aware->refaults, blind->refaults, mine.cp_found,
		 mine.cp_missed);
	return 0;
}

const struct mmn_scenario mmn_scenario_s5 = {
	.id = "S5",
	.seed = "003",
	.title = "event-blind versus event-aware HMM mirror under mprotect / soft-dirty / migration",
	.claim = "teardowns and device re-faults counted, far fewer when events are used; "
		 "change_pte (KSM) keeps the KVM mapping live",
	.run = s5_run,
};
