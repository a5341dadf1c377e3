// SPDX-License-Identifier: MIT
/*
 * S4 (seed 002): a hugetlb PMD table shared by two mms (a 1 GiB-aligned
 * MAP_SHARED|MAP_HUGETLB area, then fork) is unshared by an operation on one
 * huge page A of it (MADV_DONTNEED in the child, reclaim, migration): the
 * whole PUD range disappears from that mm, so B, another huge page of the
 * range, is gone too. A KVM-style listener of that mm caches translations
 * of A and B. Without adjust_range_if_pmd_sharing_possible()'s widening
 * (knob pmd_share_widen=false, or profile 4.15) the notifier range covers
 * only A and the translation of B stays: stale at quiescence. With the
 * widening (latest) none.
 *
 * INTERLEAVED: for each of the three operations a fresh simulation: the
 * vCPU faults A+3 pages and B+5 pages in, the operation unshares, the
 * quiescent audit runs. NATIVE: vCPUs touching A and B race a thread that
 * repeatedly unshares (MADV_DONTNEED of A in the child) and re-faults A in
 * the child (which shares the parent's table again).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios_internal.h"

#define S4_PG MMN_PAGE_SIZE
#define S4_HP MMN_PMD_SIZE
#define S4_GB MMN_PUD_SIZE
#define S4_G 0x7e0000000000UL /* 1 GiB aligned, below MMN_MMAP_BASE */
#define S4_A S4_G
#define S4_B (S4_G + S4_HP)
#define S4_GFN_A 3UL                              /* A + 3 pages */
#define S4_GFN_B (S4_HP / S4_PG + 5UL)            /* B + 5 pages */

enum s4_op { S4_DONTNEED, S4_RECLAIM, S4_MIGRATE, S4_NR_OPS };

static const char *const s4_op_names[S4_NR_OPS] = { "dontneed", "reclaim", "migrate" };

static void s4_silent(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	(void)sim;
	(void)v;
	(void)arg;
}

struct s4_world {
	struct mmn_sim *sim;
	struct mmn_mm *parent, *child;
	struct mmn_kvm *kvm;
};

static void s4_world_free(struct s4_world *w)
{
	if (w->kvm)
		mmn_kvm_destroy(w->kvm);
	if (w->child)
		mmn_mm_put(w->child);
	if (w->parent)
		mmn_mm_put(w->parent);
	if (w->sim)
		mmn_sim_destroy(w->sim);
	memset(w, 0, sizeof(*w));
}

/*
 * The simulation with its knobs, the parent's 1 GiB hugetlb area with A and
 * B written, the fork, and a VM on @on_child ? child : parent with one
 * memslot over A and B. -EINVAL: bad profile or knob.
 */
static int s4_world_new(struct s4_world *w, const struct mmn_scenario_params *p,
			const char *profile, int variant, bool on_child)
{
	struct mmn_sim_config cfg;
	struct mmn_kvm_config kc;
	unsigned long got = 0;
	int err;

	memset(w, 0, sizeof(*w));
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	cfg.nr_huge_pages = 8;
	cfg.profile = profile;
	cfg.seed = p->seed ? p->seed : 1;
	w->sim = mmn_sim_create(&cfg);
	if (!w->sim)
		return -EINVAL;
	mmn_check_set_handler(w->sim, s4_silent, NULL);
	err = 0;
	if (p->wrong && !p->profile)
		err = mmn_sim_set_knob(w->sim, "pmd_share_widen", "false");
	if (!err)
		err = scn_apply_knobs(w->sim, p);
	if (err) {
		s4_world_free(w);
		return -EINVAL;
	}
	err = -ENOMEM;
	w->parent = mmn_mm_create(w->sim);
	if (!w->parent)
		goto fail;
	err = mmn_mmap(w->parent, S4_G, S4_GB, MMN_PROT_READ | MMN_PROT_WRITE,
		       MMN_MAP_SHARED | MMN_MAP_ANONYMOUS | MMN_MAP_HUGETLB | MMN_MAP_FIXED, &got);
	if (!err)
		err = mmn_cpu_write(w->parent, 0, S4_A + S4_GFN_A * S4_PG, 1);
	if (!err)
		err = mmn_cpu_write(w->parent, 0, S4_G + S4_GFN_B * S4_PG, 2);
	if (!err)
		err = mmn_fork(w->parent, &w->child);
	if (err)
		goto fail;
	mmn_kvm_config_init(&kc);
	kc.variant = (enum mmn_kvm_variant)variant;
	w->kvm = mmn_kvm_create(on_child ? w->child : w->parent, &kc);
	if (!w->kvm) {
		err = -errno;
		goto fail;
	}
	err = mmn_kvm_set_memslot(w->kvm, 0, 0, 2 * S4_HP / S4_PG, S4_G);
	if (err)
		goto fail;
	return 0;
fail:
	s4_world_free(w);
	return err ? err : -ENOMEM;
}

static void s4_add(struct mmn_scenario_result *out, const struct mmn_scenario_result *one)
{
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		out->by_kind[k] += one->by_kind[k];
	out->violations += one->violations;
}

/* One operation in a fresh world; the stale translations it left. */
static int s4_one(const struct mmn_scenario_params *p, const char *profile, int variant,
		  enum s4_op op, struct mmn_scenario_result *out, unsigned long *stale_b,
		  unsigned long *before)
{
	struct mmn_scenario_result one = { 0 };
	struct s4_world w;
	struct mmn_kvm_spte_info si;
	uint64_t v;
	int err = s4_world_new(&w, p, profile, variant, op == S4_DONTNEED);

	if (err)
		return err;
	/* The vCPU faults A+3 and B+5 in: two SPTEs. */
	err = mmn_kvm_vcpu_read(w.kvm, 0, S4_GFN_A, &v);
	if (!err && v != 1)
		err = -EIO;
	if (!err)
		err = mmn_kvm_vcpu_read(w.kvm, 0, S4_GFN_B, &v);
	if (!err && v != 2)
		err = -EIO;
	if (!err) {
		long q = mmn_check_quiescent(w.sim);

		*before += q > 0 ? (unsigned long)q : 0;
	}
	if (!err) {
		switch (op) {
		case S4_DONTNEED:
			err = mmn_madvise(w.child, S4_A, S4_HP, MMN_MADV_DONTNEED);
			break;
		case S4_RECLAIM:
			err = mmn_try_to_unmap(w.child, S4_A, S4_HP);
			break;
		default:
			err = mmn_migrate_pages(w.child, S4_A, S4_HP);
			break;
		}
	}
	if (!err) {
		(void)mmn_check_quiescent(w.sim);
		if (mmn_kvm_spte(w.kvm, S4_GFN_B, &si) == 0 && si.present)
			(*stale_b)++;
		scn_collect_violations(w.sim, &one);
		s4_add(out, &one);
	}
	s4_world_free(&w);
	return err;
}

static int s4_interleaved(const struct mmn_scenario_params *p, const char *profile, int variant,
			  struct mmn_scenario_result *out)
{
	unsigned long stale_b = 0, before = 0;
	unsigned long per_op[S4_NR_OPS];

	for (int op = 0; op < S4_NR_OPS; op++) {
		unsigned long prev = out->by_kind[MMN_VIOL_STALE_TRANSLATION];
		int err = s4_one(p, profile, variant, (enum s4_op)op, out, &stale_b, &before);

		if (err)
			return err;
		per_op[op] = out->by_kind[MMN_VIOL_STALE_TRANSLATION] - prev;
	}
	out->runs = S4_NR_OPS;
	for (int op = 0; op < S4_NR_OPS; op++)
		scn_counter(out, s4_op_names[op], per_op[op]);
	scn_counter(out, "spte_b_kept", stale_b);
	scn_counter(out, "stale_before_op", before);
	return 0;
}

struct s4_native {
	struct s4_world w;
	unsigned long iterations;
	atomic_bool done;
	atomic_ulong unshares, vcpu_ok, vcpu_err;
};

static void *s4_operator(void *arg)
{
	struct s4_native *s = arg;

	for (unsigned long n = 0; n < s->iterations; n++) {
		uint64_t v;

		if (mmn_madvise(s->w.child, S4_A, S4_HP, MMN_MADV_DONTNEED) == 0)
			atomic_fetch_add(&s->unshares, 1);
		(void)mmn_cpu_read(s->w.child, 1, S4_A, &v); /* shares again */
	}
	atomic_store(&s->done, true);
	return NULL;
}

static void *s4_vcpu(void *arg)
{
	struct s4_native *s = arg;

	for (unsigned long n = 0; n < s->iterations && !atomic_load(&s->done); n++) {
		uint64_t v;
		uint64_t gfn = (n & 1) ? S4_GFN_B : S4_GFN_A;

		if (mmn_kvm_vcpu_read(s->w.kvm, 0, gfn, &v) == 0)
			atomic_fetch_add(&s->vcpu_ok, 1);
		else
			atomic_fetch_add(&s->vcpu_err, 1);
	}
	return NULL;
}

static bool s4_mapped(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_walk w;

	return mmn_pgtable_walk(mm, addr, &w) == 0 && mmn_pte_present(w.entry);
}

static int s4_native_run(const struct mmn_scenario_params *p, const char *profile, int variant,
			 struct mmn_scenario_result *out)
{
	struct s4_native *s = calloc(1, sizeof(*s));
	struct mmn_actor *op = NULL, *vc = NULL;
	struct mmn_kvm_spte_info si;
	int err;

	if (!s)
		return -ENOMEM;
	s->iterations = p->iterations ? p->iterations : 2000;
	err = s4_world_new(&s->w, p, profile, variant, true);
	if (err) {
		free(s);
		return err;
	}
	err = mmn_actor_spawn(s->w.sim, "vcpu", s4_vcpu, s, &vc);
	if (!err)
		err = mmn_actor_spawn(s->w.sim, "unsharer", s4_operator, s, &op);
	else
		atomic_store(&s->done, true);
	if (op)
		(void)mmn_actor_join(op, NULL);
	if (vc)
		(void)mmn_actor_join(vc, NULL);
	if (!err) {
		/* A last unshare, then the audit: the seed's window at rest. */
		if (mmn_madvise(s->w.child, S4_A, S4_HP, MMN_MADV_DONTNEED) == 0)
			atomic_fetch_add(&s->unshares, 1);
		(void)mmn_check_quiescent(s->w.sim);
		scn_collect_violations(s->w.sim, out);
		out->runs = s->iterations;
		scn_counter(out, "unshares", atomic_load(&s->unshares));
		scn_counter(out, "vcpu_ok", atomic_load(&s->vcpu_ok));
		scn_counter(out, "vcpu_failed", atomic_load(&s->vcpu_err));
		scn_counter(out, "spte_b_kept",
			    mmn_kvm_spte(s->w.kvm, S4_GFN_B, &si) == 0 && si.present &&
					    !s4_mapped(s->w.child, S4_G + S4_GFN_B * S4_PG) ? 1 : 0);
	}
	s4_world_free(&s->w);
	free(s);
	return err;
}

static int s4_run(const struct mmn_scenario_params *p, struct mmn_scenario_result *out)
{
	static const struct mmn_scenario_params defaults = { .variant = -1 };
	const char *profile;
	int variant, err;

	if (!out)
		return -EINVAL;
	if (!p)
		p = &defaults;
	if (p->variant < -1 || p->variant > MMN_KVM_NUMA_AWARE ||
	    (p->mode != MMN_SCENARIO_INTERLEAVED && p->mode != MMN_SCENARIO_NATIVE))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	profile = p->profile ? p->profile : "latest";
	variant = p->variant < 0 ? MMN_KVM_CHECK_RANGE : p->variant;
	err = p->mode == MMN_SCENARIO_INTERLEAVED ? s4_interleaved(p, profile, variant, out)
						  : s4_native_run(p, profile, variant, out);
	if (err) {
		memset(out, 0, sizeof(*out));
		return err;
	}
	snprintf(out->profile, sizeof(out->profile), "%s", profile);
	snprintf(out->setting, sizeof(out->setting), "%s",
		 !p->wrong ? "pmd_share_widen (profile default)" :
		 !p->profile ? "pmd_share_widen=false" : "profile without the range widening");
	if (p->wrong)
		out->claim_holds = out->by_kind[MMN_VIOL_STALE_TRANSLATION] > 0;
	else
		out->claim_holds = out->violations == 0;
	snprintf(out->note, sizeof(out->note),
		 "%s: %lu stale translations at quiescence, %lu violations in all",
		 p->mode == MMN_SCENARIO_INTERLEAVED ? "interleaved (dontneed, reclaim, migrate)"
						     : "native",
		 out->by_kind[MMN_VIOL_STALE_TRANSLATION], out->violations);
	return 0;
}

const struct mmn_scenario mmn_scenario_s4 = {
	.id = "S4",
	.seed = "002",
	.title = "hugetlb shared PMD unshared under a KVM-style listener of the PUD range",
	.claim = "stale translation found without range widening; none with it",
	.run = s4_run,
};
