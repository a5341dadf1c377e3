// SPDX-License-Identifier: MIT
/*
 * S4 (seed 002): a hugetlb PMD table shared by two mms (a 1 GiB-aligned
 * MAP_SHARED|MAP_HUGETLB area, then fork), a KVM-style listener of the
 * child caching translations of two huge pages A and B, and two operations
 * on A in the child:
 *  - MADV_DONTNEED unshares the child's table: the whole PUD range leaves
 *    the child, B included. Without adjust_range_if_pmd_sharing_possible()'s
 *    widening (knob pmd_share_widen=false, profiles before 4.19) the
 *    notification covers only A and the SPTE of B stays.
 *  - Migration: before 4.19 (mm/rmap.c try_to_unmap_one() 4.12-4.13, the
 *    same knob: commit 017b1660df89 added the widening and the
 *    huge_pmd_unshare() call together) the shared entry of A is cleared and
 *    repointed for both mms, but the rmap walk notifies only the first mm on
 *    i_mmap, the parent, and stops at mapcount 0: the child's SPTE of A
 *    stays on the source, which is freed (lib/ops/migrate.c). From 4.19 the
 *    walk unshares the parent's table first (widened notification) and the
 *    model migrates nothing further (the page is left mapped in the child).
 * Reclaim is not run: hugetlb folios are not on the LRU, the kernel never
 * reclaims them.
 *
 * INTERLEAVED: for each operation a fresh simulation: the child's vCPU
 * faults A+3 pages and B+5 pages in, the operation runs, the quiescent
 * audit. NATIVE: vCPUs touching A and B race a thread that repeatedly
 * unshares (MADV_DONTNEED of A in the child) and re-faults A in the child
 * (which shares the parent's table again).
 * EXPLORE: one simulation, one schedule of the deterministic backend, no
 * hook. A VM on each mm (the child's and the parent's); in the prologue
 * each VM's vCPU translates A+3 and B+5 (four SPTEs). Then four actors: a
 * vCPU per VM reading A+3 then B+5 (2 rounds by default), "dontneed" and
 * "migrate" on A in the child, concurrently. A schedule violates when a VM
 * keeps an SPTE (or vCPU TLB entry) its mm no longer maps to the same frame
 * at the end: B's after an unnarrowed unshare that no later fault of that
 * mm undid, or A's after a pre-4.19 migration of the still-shared page.
 * With 4.19's shape the notifications cover what changed; a vCPU fault
 * racing an unshare is retried by the listener's range check. The vCPU
 * fault gives up after 8 retries (not 1000) so that a schedule in which the
 * invalidating actor is starved stays short; a give-up is counted
 * (vcpu_failed), not a violation. vcpu_wrong_data counts reads that did not
 * return what the parent wrote: under the right setting any makes the
 * claim fail (a model defect); under the wrong one it is the bug showing (a
 * guest reading the freed source).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"

#define S4_PG MMN_PAGE_SIZE
#define S4_HP MMN_PMD_SIZE
#define S4_GB MMN_PUD_SIZE
#define S4_G 0x7e0000000000UL /* 1 GiB aligned, below MMN_MMAP_BASE */
#define S4_A S4_G
#define S4_B (S4_G + S4_HP)
#define S4_GFN_A 3UL                              /* A + 3 pages */
#define S4_GFN_B (S4_HP / S4_PG + 5UL)            /* B + 5 pages */
#define S4_X_MAX_RETRIES 8U                       /* EXPLORE: see the top */

enum s4_op { S4_DONTNEED, S4_MIGRATE, S4_NR_OPS };

static const char *const s4_op_names[S4_NR_OPS] = { "dontneed", "migrate" };

struct s4_world {
	struct mmn_sim *sim;
	struct mmn_mm *parent, *child;
	struct mmn_kvm *kvm;
	struct mmn_kvm *kvm_other; /* EXPLORE: the VM on the other mm */
};

static void s4_world_free(struct s4_world *w)
{
	if (w->kvm_other)
		mmn_kvm_destroy(w->kvm_other);
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
 * memslot over A and B (EXPLORE: and one on the other mm, as kvm_other).
 * -EINVAL: bad profile or knob.
 */
static int s4_world_new(struct s4_world *w, const struct mmn_scenario_params *p,
			const char *profile, int variant, bool on_child)
{
	bool explore = p->mode == MMN_SCENARIO_EXPLORE;
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
	{
		const char *own[] = { p->wrong && !p->profile ? "pmd_share_widen=false" : NULL,
				      NULL };

		err = mmn_scenario_sim_create(&w->sim, &cfg, p, true, own);
	}
	if (err)
		return err;
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
	if (explore)
		kc.max_retries = S4_X_MAX_RETRIES;
	w->kvm = mmn_kvm_create(on_child ? w->child : w->parent, &kc);
	if (!w->kvm) {
		err = -errno;
		goto fail;
	}
	err = mmn_kvm_set_memslot(w->kvm, 0, 0, 2 * S4_HP / S4_PG, S4_G);
	if (err)
		goto fail;
	if (explore) {
		w->kvm_other = mmn_kvm_create(on_child ? w->parent : w->child, &kc);
		if (!w->kvm_other) {
			err = -errno;
			goto fail;
		}
		err = mmn_kvm_set_memslot(w->kvm_other, 0, 0, 2 * S4_HP / S4_PG, S4_G);
		if (err)
			goto fail;
	}
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

/* Does @kvm keep an SPTE of @gfn that @mm no longer maps to the same frame? */
static bool s4_spte_stale(struct mmn_kvm *kvm, struct mmn_mm *mm, uint64_t gfn)
{
	struct mmn_kvm_spte_info si;
	struct mmn_walk w;

	if (mmn_kvm_spte(kvm, gfn, &si) || !si.present)
		return false;
	return mmn_pgtable_walk(mm, S4_G + gfn * S4_PG, &w) != 0 || !mmn_pte_present(w.entry) ||
	       w.pfn != si.pfn;
}

/* One operation in a fresh world; the stale translations it left. */
static int s4_one(const struct mmn_scenario_params *p, const char *profile, int variant,
		  enum s4_op op, struct mmn_scenario_result *out, unsigned long *stale_b,
		  unsigned long *stale_a, unsigned long *before)
{
	struct mmn_scenario_result one = { 0 };
	struct s4_world w;
	struct mmn_kvm_spte_info si;
	uint64_t v;
	int err = s4_world_new(&w, p, profile, variant, true);

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
		default:
			err = mmn_migrate_pages(w.child, S4_A, S4_HP);
			break;
		}
	}
	if (!err) {
		(void)mmn_check_quiescent(w.sim);
		if (op == S4_DONTNEED && mmn_kvm_spte(w.kvm, S4_GFN_B, &si) == 0 && si.present)
			(*stale_b)++;
		if (op == S4_MIGRATE && s4_spte_stale(w.kvm, w.child, S4_GFN_A))
			(*stale_a)++;
		mmn_scenario_collect_violations(w.sim, &one);
		s4_add(out, &one);
		mmn_scenario_finish(w.sim, p, out);
	}
	s4_world_free(&w);
	return err;
}

static int s4_interleaved(const struct mmn_scenario_params *p, const char *profile, int variant,
			  struct mmn_scenario_result *out)
{
	unsigned long stale_b = 0, stale_a = 0, before = 0;
	unsigned long per_op[S4_NR_OPS];

	for (int op = 0; op < S4_NR_OPS; op++) {
		unsigned long prev = out->by_kind[MMN_VIOL_STALE_TRANSLATION];
		int err = s4_one(p, profile, variant, (enum s4_op)op, out, &stale_b, &stale_a,
				 &before);

		if (err)
			return err;
		per_op[op] = out->by_kind[MMN_VIOL_STALE_TRANSLATION] - prev;
	}
	out->runs = S4_NR_OPS;
	for (int op = 0; op < S4_NR_OPS; op++)
		mmn_scenario_add_counter(out, s4_op_names[op], per_op[op]);
	mmn_scenario_add_counter(out, "spte_b_kept", stale_b);
	mmn_scenario_add_counter(out, "spte_a_stale", stale_a);
	mmn_scenario_add_counter(out, "stale_before_op", before);
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
		mmn_scenario_collect_violations(s->w.sim, out);
		out->runs = s->iterations;
		mmn_scenario_add_counter(out, "unshares", atomic_load(&s->unshares));
		mmn_scenario_add_counter(out, "vcpu_ok", atomic_load(&s->vcpu_ok));
		mmn_scenario_add_counter(out, "vcpu_failed", atomic_load(&s->vcpu_err));
		mmn_scenario_add_counter(out, "spte_b_kept",
				 mmn_kvm_spte(s->w.kvm, S4_GFN_B, &si) == 0 && si.present &&
						 !s4_mapped(s->w.child, S4_G + S4_GFN_B * S4_PG) ? 1 : 0);
		mmn_scenario_finish(s->w.sim, p, out);
	}
	s4_world_free(&s->w);
	free(s);
	return err;
}

/* EXPLORE: the state of one schedule. */
struct s4_x {
	struct s4_world w;
	unsigned long iterations;
	atomic_ulong vcpu_ok, vcpu_err, vcpu_bad;
};

struct s4_x_vcpu {
	struct s4_x *x;
	struct mmn_kvm *kvm;
};

/* A vCPU reading A+3 then B+5, @iterations rounds. */
static void *s4_x_vcpu(void *arg)
{
	struct s4_x_vcpu *v = arg;
	struct s4_x *x = v->x;

	for (unsigned long n = 0; n < x->iterations; n++) {
		for (int i = 0; i < 2; i++) {
			uint64_t val = 0;
			int r = mmn_kvm_vcpu_read(v->kvm, 0, i ? S4_GFN_B : S4_GFN_A, &val);

			if (r)
				atomic_fetch_add(&x->vcpu_err, 1);
			else if (val != (uint64_t)(i + 1))
				atomic_fetch_add(&x->vcpu_bad, 1);
			else
				atomic_fetch_add(&x->vcpu_ok, 1);
		}
	}
	return NULL;
}

static void *s4_x_dontneed(void *arg)
{
	struct s4_x *x = arg;

	(void)mmn_madvise(x->w.child, S4_A, S4_HP, MMN_MADV_DONTNEED);
	return NULL;
}

static void *s4_x_migrate(void *arg)
{
	struct s4_x *x = arg;

	(void)mmn_migrate_pages(x->w.child, S4_A, S4_HP);
	return NULL;
}

static void s4_x_body(struct mmn_sim *sim, void *arg)
{
	struct s4_x *x = arg;
	struct s4_x_vcpu vc[2] = { { x, x->w.kvm }, { x, x->w.kvm_other } };
	void *(*fn[4])(void *) = { s4_x_vcpu, s4_x_vcpu, s4_x_dontneed, s4_x_migrate };
	void *args[4] = { &vc[0], &vc[1], x, x };
	static const char *const names[4] = { "vcpu_child", "vcpu_parent", "dontneed", "migrate" };
	struct mmn_actor *a[4];
	int n = 0;

	while (n < 4 && mmn_actor_spawn(sim, names[n], fn[n], args[n], &a[n]) == 0)
		n++;
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
}

static void s4_judge(const struct mmn_scenario_params *p, const char *profile,
		     struct mmn_scenario_result *out);

static int s4_explore(const struct mmn_scenario_params *p, const char *profile, int variant,
		      struct mmn_scenario_result *out)
{
	static const enum mmn_op ops[S4_NR_OPS] = { MMN_OP_MADV_DONTNEED, MMN_OP_MIGRATE };
	/* 4 KiB pages each operation unmapped (an unshare counts every huge
	 * page the mm saw through the table; a zap of A counts 512). */
	static const char *const s4_x_op_counters[S4_NR_OPS] = { "dontneed_pages",
								 "migrate_pages" };
	struct s4_x *x = calloc(1, sizeof(*x));
	int err;

	if (!x)
		return -ENOMEM;
	x->iterations = p->iterations ? p->iterations : 2;
	err = s4_world_new(&x->w, p, profile, variant, true);
	if (err) {
		free(x);
		return err;
	}
	/* Prologue: each VM has translated A+3 and B+5 (four SPTEs). */
	for (int i = 0; !err && i < 4; i++) {
		uint64_t v = 0;

		err = mmn_kvm_vcpu_read(i & 2 ? x->w.kvm_other : x->w.kvm, 0,
					i & 1 ? S4_GFN_B : S4_GFN_A, &v);
		if (!err && v != (uint64_t)((i & 1) + 1))
			err = -EIO;
	}
	if (!err)
		err = mmn_scenario_sched_run(x->w.sim, p, s4_x_body, x, out);
	if (!err) {
		struct mmn_op_stats os;

		(void)mmn_check_quiescent(x->w.sim);
		mmn_scenario_collect_violations(x->w.sim, out);
		out->runs = 1;
		for (int op = 0; op < S4_NR_OPS; op++) {
			if (mmn_op_get_stats(x->w.sim, ops[op], &os))
				os.pages_changed = 0;
			mmn_scenario_add_counter(out, s4_x_op_counters[op], os.pages_changed);
		}
		mmn_scenario_add_counter(out, "vcpu_ok", atomic_load(&x->vcpu_ok));
		mmn_scenario_add_counter(out, "vcpu_failed", atomic_load(&x->vcpu_err));
		mmn_scenario_add_counter(out, "vcpu_wrong_data", atomic_load(&x->vcpu_bad));
		mmn_scenario_add_counter(out, "spte_b_kept",
				 (unsigned long)s4_spte_stale(x->w.kvm, x->w.child, S4_GFN_B) +
					 (unsigned long)s4_spte_stale(x->w.kvm_other, x->w.parent,
								      S4_GFN_B));
		mmn_scenario_add_counter(out, "spte_a_stale",
				 (unsigned long)s4_spte_stale(x->w.kvm, x->w.child, S4_GFN_A) +
					 (unsigned long)s4_spte_stale(x->w.kvm_other, x->w.parent,
								      S4_GFN_A));
		s4_judge(p, profile, out);
		/* Under the right setting a read of anything but what the parent
		 * wrote is a model defect; under the wrong one it is the bug (a
		 * guest reading the migrated-away, freed source). */
		if (atomic_load(&x->vcpu_bad) && !p->wrong)
			out->claim_holds = false;
		mmn_scenario_finish(x->w.sim, p, out);
	}
	s4_world_free(&x->w);
	free(x);
	return err;
}

static void s4_judge(const struct mmn_scenario_params *p, const char *profile,
		     struct mmn_scenario_result *out)
{
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", profile);
	mmn__scn_fmt(out->setting, sizeof(out->setting), "%s",
		 !p->wrong ? "pmd_share_widen (profile default)" :
		 !p->profile ? "pmd_share_widen=false" : "profile without the range widening");
	if (p->wrong)
		out->claim_holds = out->by_kind[MMN_VIOL_STALE_TRANSLATION] > 0;
	else
		out->claim_holds = out->violations == 0;
	mmn__scn_fmt(out->note, sizeof(out->note),
		 "%s: %lu stale translations at quiescence, %lu violations in all",
		 p->mode == MMN_SCENARIO_INTERLEAVED ? "interleaved (dontneed, migrate)"
		 : p->mode == MMN_SCENARIO_NATIVE    ? "native"
						     : "explore (dontneed, migrate)",
		 out->by_kind[MMN_VIOL_STALE_TRANSLATION], out->violations);
}

static int s4_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	return p->variant < -1 || p->variant > MMN_KVM_NUMA_AWARE ? -EINVAL : 0;
}

/* Each mode builds its own simulations (a parent and a child mm). */
static int s4_body(const struct mmn_scenario_params *p, const int64_t *values,
		   struct mmn_scenario_result *out)
{
	const char *profile = p->profile ? p->profile : "latest";
	int variant = p->variant < 0 ? MMN_KVM_CHECK_RANGE : p->variant;
	int err;

	(void)values;
	err = p->mode == MMN_SCENARIO_INTERLEAVED ? s4_interleaved(p, profile, variant, out)
	      : p->mode == MMN_SCENARIO_NATIVE	  ? s4_native_run(p, profile, variant, out)
						  : s4_explore(p, profile, variant, out);
	if (!err && p->mode != MMN_SCENARIO_EXPLORE) /* judged before mmn_scenario_finish() there */
		s4_judge(p, profile, out);
	return err;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s4 = {
	.id = "S4",
	.seed = "002",
	.title = "hugetlb shared PMD unshared under a KVM-style listener of the PUD range",
	.claim = "stale translation found without range widening; none with it",
	.found_kinds = 1u << MMN_VIOL_STALE_TRANSLATION,
	.validate = s4_validate,
	.run = s4_body,
};
