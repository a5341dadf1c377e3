// SPDX-License-Identifier: MIT
/*
 * S6 (seed 004): device-exclusive atomics with CPU access, and protection
 * changes that notify without changing the PTEs a listener mirrors.
 *
 * Four phases, each on its own mm with an HMM-style mirror over it:
 *  - exclusive: the device does an atomic on each page (make_device_exclusive,
 *    ATOMIC entries), then the CPU writes each page: the fault restores the
 *    PTE with a notification that a process-wide mmu_notifier registered on
 *    the mm sees (CLEAR in latest, EXCLUSIVE with a NULL owner in 6.10), and
 *    the mirror's ATOMIC entries go;
 *  - mprotect after fork: the device maps the pages, fork makes them COW
 *    shared (read-only), the device maps them again, mprotect(READ|WRITE):
 *    the range is notified but the shared pages stay read-only;
 *  - NUMA hinting twice: the device maps the pages, change_prot_numa() makes
 *    them PROT_NONE, a second change_prot_numa() finds them PROT_NONE already;
 *  - soft-dirty twice: the device writes the pages, clear_refs, the device
 *    reads them, a second clear_refs finds them clean and read-only.
 * The false positives of the last operation of each phase are read from
 * mmn_op_get_stats() (pages_unchanged, as a delta), and the entries the mirror
 * erased in that operation are counted: needless teardowns.
 *
 * No wrong setting in the seed's sense: wrong = the event-blind mirror
 * (erases on every false positive), right = the event-aware one.
 *
 * NATIVE: the same four phases' operations from an operator actor against a
 * device actor (atomics, reads, writes) and a CPU actor, counts reported.
 *
 * EXPLORE: one simulation, one mm and mirror (4 pages by default). Prologue
 * (one actor): the pages filled by the CPU and mapped by the device. Then
 * the NATIVE device and CPU actors as one schedule of the deterministic
 * backend, with no hook and no start gate: the CPU does 6 rounds by default,
 * the protection changes in turn (NUMA hinting, soft-dirty clearing,
 * mprotect RW then READ) with a store or a load after each mprotect, so
 * that the second turn finds the untouched pages unchanged; the device does
 * atomics, writes and reads (params.seed picks which and where) until the
 * CPU is done, at most 4 per CPU round. Epilogue
 * (alone again): the CPU reads every page, restoring what is still
 * exclusive. This is a count scenario: no schedule should show a violation
 * in either setting, so a "violating schedule" is any violation at all. One
 * schedule decides: (1) every device-exclusive entry was undone by a CPU
 * fault the process-wide notifier saw, i.e. no exclusive PTE and no ATOMIC
 * mirror entry is left, the epilogue's restores are exactly the exclusive
 * PTEs it found, and the restore ranges (CLEAR, or EXCLUSIVE with a NULL
 * owner in 6.10) seen over the run are at least the conversions; (2) the
 * mirror treats the false positives as the seed says for its variant: the
 * event-blind one tears down on every notification that found entries
 * (nothing downgraded or skipped), the event-aware one tears down only for
 * restore ranges (teardowns <= the restore ranges it received), never for
 * the mprotect / NUMA / soft-dirty ranges that changed nothing it mirrors;
 * (3) no violation. The false positives per operation and the needless
 * teardowns are counted; the comparison between the mirrors is over
 * schedules (tests/scenarios/test_s6.c sums them).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"

#define S6_BASE 0x40000000UL
#define S6_MIRROR_PAGES 64UL
#define S6_DEFAULT_PAGES 8UL
#define S6_DEFAULT_ITERS 2000UL
/* EXPLORE: small, so that a schedule is a few hundred scheduling points */
#define S6_EXPLORE_PAGES 4UL
#define S6_EXPLORE_ITERS 6UL
#define S6_EXPLORE_DEVICE_PER_CPU 4UL
#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANONF (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED)

/* ---- the process-wide notifier: counts starts by event, NULL-owner ones ---- */

struct s6_pw {
	struct mmn_notifier n; /* first: container of */
	unsigned long by_event[MMN_NOTIFY_NR_EVENTS];
	unsigned long null_by_event[MMN_NOTIFY_NR_EVENTS];
	unsigned long null_owner;
};

static int s6_pw_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct s6_pw *pw = (struct s6_pw *)sub;

	if ((unsigned)range->event < MMN_NOTIFY_NR_EVENTS)
		__atomic_fetch_add(&pw->by_event[range->event], 1, __ATOMIC_RELAXED);
	if (!range->owner)
		__atomic_fetch_add(&pw->null_owner, 1, __ATOMIC_RELAXED);
	if (!range->owner && (unsigned)range->event < MMN_NOTIFY_NR_EVENTS)
		__atomic_fetch_add(&pw->null_by_event[range->event], 1, __ATOMIC_RELAXED);
	return 0;
}

static const struct mmn_notifier_ops s6_pw_ops = {
	.invalidate_range_start = s6_pw_start,
};

struct s6_env {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	struct s6_pw pw;
	bool pw_on;
};

static int s6_env_new(struct mmn_sim *sim, enum mmn_hmm_variant v, unsigned long pages,
		      struct s6_env *e)
{
	struct mmn_hmm_config hc;
	unsigned long got;
	int err;

	memset(e, 0, sizeof(*e));
	e->sim = sim;
	e->mm = mmn_mm_create(sim);
	if (!e->mm)
		return -ENOMEM;
	err = mmn_mmap(e->mm, S6_BASE, S6_MIRROR_PAGES * PG, RW, ANONF, &got);
	if (!err) {
		mmn_hmm_config_init(&hc);
		hc.variant = v;
		hc.retry_budget = 256;
		hc.name = "s6-mirror";
		err = mmn_hmm_create(e->mm, S6_BASE, S6_MIRROR_PAGES * PG, &hc, &e->m);
	}
	if (!err) {
		e->pw.n.ops = &s6_pw_ops;
		err = mmn_notifier_register(&e->pw.n, e->mm);
		e->pw_on = !err;
	}
	for (unsigned long i = 0; !err && i < pages; i++)
		err = mmn_cpu_write(e->mm, 0, S6_BASE + i * PG, 10 + i);
	return err;
}

static void s6_env_free(struct s6_env *e, int *err)
{
	if (e->pw_on && mmn_notifier_unregister(&e->pw.n, e->mm) && !*err)
		*err = -EIO;
	if (e->m && mmn_hmm_destroy(e->m) && !*err)
		*err = -EBUSY;
	if (e->mm)
		mmn_mm_put(e->mm);
}

static unsigned long s6_unchanged(struct mmn_sim *sim, enum mmn_op op)
{
	struct mmn_op_stats os;

	return mmn_op_get_stats(sim, op, &os) ? 0 : os.pages_unchanged;
}

static unsigned long s6_zapped(struct mmn_hmm *m)
{
	struct mmn_hmm_stats st;

	return mmn_hmm_get_stats(m, &st) ? 0 : st.zapped;
}

struct s6_obs {
	unsigned long restores, restore_event_clear, restore_event_excl, restore_null_owner;
	unsigned long atomics, exclusive_left;
	unsigned long fp[3], zaps[3]; /* mprotect-cow, numa, soft-dirty */
	unsigned long needless;
};

static void s6_needless(struct s6_obs *o, struct mmn_hmm *m)
{
	struct mmn_hmm_stats st;

	if (!mmn_hmm_get_stats(m, &st))
		o->needless += st.needless;
}

static long s6_ok(long r, int *err)
{
	if (r < 0 && !*err)
		*err = (int)r;
	return r;
}

static int s6_interleaved(struct mmn_sim *sim, enum mmn_hmm_variant v, unsigned long pages,
			  struct s6_obs *o)
{
	uint64_t buf[S6_MIRROR_PAGES];
	struct s6_env e;
	struct mmn_mm *child = NULL;
	unsigned long fp0, z0;
	int err;

	/* exclusive atomics, then CPU writes */
	err = s6_env_new(sim, v, pages, &e);
	for (unsigned long i = 0; !err && i < pages; i++)
		err = mmn_hmm_atomic(e.m, S6_BASE + i * PG, 5, NULL);
	if (!err) {
		struct s6_pw before = e.pw;
		struct mmn_hmm_stats st;

		for (unsigned long i = 0; !err && i < pages; i++)
			err = mmn_cpu_write(e.mm, 0, S6_BASE + i * PG, 100 + i);
		o->restore_event_clear = e.pw.by_event[MMN_NOTIFY_CLEAR] -
					 before.by_event[MMN_NOTIFY_CLEAR];
		o->restore_event_excl = e.pw.by_event[MMN_NOTIFY_EXCLUSIVE] -
					before.by_event[MMN_NOTIFY_EXCLUSIVE];
		o->restore_null_owner = e.pw.null_owner - before.null_owner;
		o->restores = o->restore_event_clear + o->restore_event_excl;
		if (!mmn_hmm_get_stats(e.m, &st))
			o->atomics = st.atomics;
		o->exclusive_left = mmn_hmm_check_exclusive(e.m, S6_BASE, pages) ? 1 : 0;
	}
	s6_needless(o, e.m);
	s6_env_free(&e, &err);
	if (err)
		return err;

	/* mprotect(RW) of a private range after fork: shared pages stay RO */
	err = s6_env_new(sim, v, pages, &e);
	if (!err)
		err = mmn_mprotect(e.mm, S6_BASE, pages * PG, MMN_PROT_READ);
	if (!err)
		err = mmn_fork(e.mm, &child);
	if (!err)
		s6_ok(mmn_hmm_read(e.m, S6_BASE, pages, buf), &err);
	if (!err) {
		fp0 = s6_unchanged(sim, MMN_OP_MPROTECT);
		z0 = s6_zapped(e.m);
		err = mmn_mprotect(e.mm, S6_BASE, pages * PG, RW);
		o->fp[0] = s6_unchanged(sim, MMN_OP_MPROTECT) - fp0;
		o->zaps[0] = s6_zapped(e.m) - z0;
	}
	s6_needless(o, e.m);
	if (child)
		mmn_mm_put(child);
	s6_env_free(&e, &err);
	if (err)
		return err;

	/* NUMA hinting twice: the second finds every entry PROT_NONE already */
	err = s6_env_new(sim, v, pages, &e);
	if (!err)
		s6_ok(mmn_hmm_read(e.m, S6_BASE, pages, buf), &err);
	if (!err)
		err = mmn_change_prot_numa(e.mm, S6_BASE, pages * PG);
	if (!err) {
		fp0 = s6_unchanged(sim, MMN_OP_NUMA_HINT);
		z0 = s6_zapped(e.m);
		err = mmn_change_prot_numa(e.mm, S6_BASE, pages * PG);
		o->fp[1] = s6_unchanged(sim, MMN_OP_NUMA_HINT) - fp0;
		o->zaps[1] = s6_zapped(e.m) - z0;
	}
	s6_needless(o, e.m);
	s6_env_free(&e, &err);
	if (err)
		return err;

	/* soft-dirty clearing twice: the second finds clean read-only pages */
	err = s6_env_new(sim, v, pages, &e);
	for (unsigned long i = 0; i < pages; i++)
		buf[i] = 300 + i;
	if (!err)
		s6_ok(mmn_hmm_write(e.m, S6_BASE, pages, buf), &err);
	if (!err)
		err = mmn_clear_refs_soft_dirty(e.mm);
	if (!err)
		s6_ok(mmn_hmm_read(e.m, S6_BASE, pages, buf), &err);
	if (!err) {
		fp0 = s6_unchanged(sim, MMN_OP_SOFT_DIRTY);
		z0 = s6_zapped(e.m);
		err = mmn_clear_refs_soft_dirty(e.mm);
		o->fp[2] = s6_unchanged(sim, MMN_OP_SOFT_DIRTY) - fp0;
		o->zaps[2] = s6_zapped(e.m) - z0;
	}
	s6_needless(o, e.m);
	s6_env_free(&e, &err);
	return err;
}

/* ---- native ---- */

struct s6_nat {
	struct s6_env *e;
	unsigned long pages, iters;
	uint64_t seed;
	struct mmn_completion *go; /* NULL in EXPLORE: the schedule starts them */
	atomic_int *done;          /* EXPLORE: the CPU actor has finished */
	bool cycle;                /* EXPLORE: the CPU's operations in turn */
};

static void *s6_device(void *arg)
{
	struct s6_nat *n = arg;
	uint64_t buf[S6_MIRROR_PAGES];

	if (n->go)
		mmn_wait_for_completion(n->go);
	/* EXPLORE: until the CPU is done, at most @iters; every round passes
	 * the device mutex (a scheduling point) */
	for (unsigned long i = 0; i < n->iters && !(n->done && atomic_load(n->done)); i++) {
		unsigned long pg = mmn_scenario_rand(&n->seed) % n->pages;

		for (unsigned long k = 0; k < n->pages; k++)
			buf[k] = i + k;
		switch (mmn_scenario_rand(&n->seed) % 3) {
		case 0:
			(void)mmn_hmm_atomic(n->e->m, S6_BASE + pg * PG, 1, NULL);
			break;
		case 1:
			(void)mmn_hmm_write(n->e->m, S6_BASE, n->pages, buf);
			break;
		default:
			(void)mmn_hmm_read(n->e->m, S6_BASE, n->pages, buf);
			break;
		}
	}
	return NULL;
}

/*
 * NATIVE: every fourth round a random protection change, else a store or a
 * load. EXPLORE (@cycle): the protection changes in turn, NUMA hinting,
 * soft-dirty clearing, mprotect (RW, then READ on the next turn), with a
 * store (a load under READ) after each mprotect; two turns in a row find
 * the untouched pages unchanged, the false positives of each operation.
 * Then @done is set.
 */
static void *s6_cpu(void *arg)
{
	struct s6_nat *n = arg;

	if (n->go)
		mmn_wait_for_completion(n->go);
	for (unsigned long i = 0; i < n->iters; i++) {
		unsigned long pg = mmn_scenario_rand(&n->seed) % n->pages;
		uint64_t v;

		if (n->cycle) {
			bool rd = (i / 3) % 2 == 1;

			if (i % 3 == 0) {
				(void)mmn_change_prot_numa(n->e->mm, S6_BASE, n->pages * PG);
			} else if (i % 3 == 1) {
				(void)mmn_clear_refs_soft_dirty(n->e->mm);
			} else {
				(void)mmn_mprotect(n->e->mm, S6_BASE, n->pages * PG,
						   rd ? MMN_PROT_READ : RW);
				if (rd)
					(void)mmn_cpu_read(n->e->mm, 1, S6_BASE + pg * PG, &v);
				else
					(void)mmn_cpu_write(n->e->mm, 1, S6_BASE + pg * PG, i);
			}
		} else if (i % 4 == 0) {
			unsigned long r = mmn_scenario_rand(&n->seed) % 3;

			if (r == 0)
				(void)mmn_change_prot_numa(n->e->mm, S6_BASE, n->pages * PG);
			else if (r == 1)
				(void)mmn_clear_refs_soft_dirty(n->e->mm);
			else
				(void)mmn_mprotect(n->e->mm, S6_BASE, n->pages * PG,
						   (mmn_scenario_rand(&n->seed) & 1) ? MMN_PROT_READ : RW);
		} else if (i & 1) {
			(void)mmn_cpu_write(n->e->mm, 1, S6_BASE + pg * PG, i);
		} else {
			(void)mmn_cpu_read(n->e->mm, 1, S6_BASE + pg * PG, &v);
		}
	}
	(void)mmn_mprotect(n->e->mm, S6_BASE, S6_MIRROR_PAGES * PG, RW);
	if (n->done)
		atomic_store(n->done, 1);
	return NULL;
}

static int s6_native(struct mmn_sim *sim, enum mmn_hmm_variant v, unsigned long pages,
		     unsigned long iters, uint64_t seed, struct s6_obs *o)
{
	struct mmn_completion go;
	struct s6_nat n[2];
	struct mmn_actor *a[2];
	struct s6_env e;
	struct mmn_hmm_stats st;
	int err;

	err = s6_env_new(sim, v, pages, &e);
	if (err) {
		s6_env_free(&e, &err);
		return err;
	}
	mmn_init_completion(&go, sim, "s6-go");
	for (int i = 0; i < 2; i++)
		n[i] = (struct s6_nat){ .e = &e, .pages = pages, .iters = iters,
					.seed = seed * 7919u + (uint64_t)i + 1, .go = &go };
	err = mmn_actor_spawn(sim, "s6-device", s6_device, &n[0], &a[0]);
	if (!err) {
		err = mmn_actor_spawn(sim, "s6-cpu", s6_cpu, &n[1], &a[1]);
		mmn_complete_all(&go);
		(void)mmn_actor_join(a[0], NULL);
		if (!err)
			(void)mmn_actor_join(a[1], NULL);
	}
	mmn_completion_destroy(&go);
	o->fp[0] = s6_unchanged(sim, MMN_OP_MPROTECT);
	o->fp[1] = s6_unchanged(sim, MMN_OP_NUMA_HINT);
	o->fp[2] = s6_unchanged(sim, MMN_OP_SOFT_DIRTY);
	o->restores = e.pw.by_event[MMN_NOTIFY_CLEAR];
	o->restore_event_clear = e.pw.by_event[MMN_NOTIFY_CLEAR];
	if (!mmn_hmm_get_stats(e.m, &st)) {
		o->atomics = st.atomics;
		o->zaps[0] = st.zapped;
		o->needless = st.needless;
	}
	s6_env_free(&e, &err);
	return err;
}

/* ---- explore ---- */

struct s6_x {
	struct s6_nat n[2];
	struct s6_env *e;
	atomic_int cpu_done;
	/* epilogue */
	bool epilogue;
	unsigned long exclusive_found, epilogue_restores, exclusive_left;
};

static enum mmn_notify_event s6_restore_event(struct mmn_sim *sim)
{
	return mmn_sim_profile(sim)->exclusive_restore_clear ? MMN_NOTIFY_CLEAR
							      : MMN_NOTIFY_EXCLUSIVE;
}

/* Pages of [S6_BASE, + @pages) whose PTE is device-exclusive. */
static unsigned long s6_exclusive_ptes(struct mmn_mm *mm, unsigned long pages)
{
	unsigned long n = 0;

	for (unsigned long i = 0; i < pages; i++) {
		struct mmn_walk w;
		enum mmn_swp_type t;

		if (mmn_pgtable_walk(mm, S6_BASE + i * PG, &w) || w.level != MMN_PT_PTE)
			continue;
		t = mmn_pte_swp_type(w.entry);
		n += t == MMN_SWP_DEVICE_EXCLUSIVE || t == MMN_SWP_DEVICE_EXCLUSIVE_READ;
	}
	return n;
}

static void s6_explore_body(struct mmn_sim *sim, void *arg)
{
	static const char *const names[2] = { "s6-device", "s6-cpu" };
	void *(*fns[2])(void *) = { s6_device, s6_cpu };
	struct s6_x *x = arg;
	struct mmn_actor *a[2];
	enum mmn_notify_event ev = s6_restore_event(sim);
	unsigned long pages = x->n[1].pages, before;
	int n = 0;

	for (; n < 2; n++)
		if (mmn_actor_spawn(sim, names[n], fns[n], &x->n[n], &a[n]))
			break;
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
	if (n < 2)
		return;
	/* epilogue, alone: the CPU touches every page; each exclusive PTE
	 * left is restored by its fault, seen by the process-wide notifier */
	x->exclusive_found = s6_exclusive_ptes(x->e->mm, pages);
	before = __atomic_load_n(&x->e->pw.null_by_event[ev], __ATOMIC_RELAXED);
	for (unsigned long i = 0; i < pages; i++) {
		uint64_t v;

		(void)mmn_cpu_read(x->e->mm, 0, S6_BASE + i * PG, &v);
	}
	x->epilogue_restores = __atomic_load_n(&x->e->pw.null_by_event[ev], __ATOMIC_RELAXED) -
			       before;
	x->exclusive_left = s6_exclusive_ptes(x->e->mm, pages) +
			    (mmn_hmm_check_exclusive(x->e->m, S6_BASE, pages) ? 1 : 0);
	x->epilogue = true;
}

/* EXPLORE: prologue, the schedule, the judgement of what it decides. */
static int s6_explore(struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      enum mmn_hmm_variant v, unsigned long pages, unsigned long iters,
		      uint64_t seed, struct s6_obs *o, struct mmn_scenario_result *out,
		      bool *decided)
{
	uint64_t buf[S6_MIRROR_PAGES];
	struct s6_x x = { .e = NULL };
	struct s6_env e;
	struct mmn_hmm_stats st = { 0 };
	struct mmn_op_stats os;
	enum mmn_notify_event ev = s6_restore_event(sim);
	unsigned long conversions = 0, restores, erasing;
	int err;

	*decided = false;
	err = s6_env_new(sim, v, pages, &e);
	if (!err)
		s6_ok(mmn_hmm_read(e.m, S6_BASE, pages, buf), &err);
	if (err) {
		s6_env_free(&e, &err);
		return err;
	}
	x.e = &e;
	for (int i = 0; i < 2; i++)
		x.n[i] = (struct s6_nat){ .e = &e, .pages = pages,
					  .iters = i ? iters : iters * S6_EXPLORE_DEVICE_PER_CPU,
					  .seed = seed * 7919u + (uint64_t)i + 1,
					  .done = &x.cpu_done, .cycle = true };
	err = mmn_scenario_sched_run(sim, p, s6_explore_body, &x, out);
	if (!err) {
		o->fp[0] = s6_unchanged(sim, MMN_OP_MPROTECT);
		o->fp[1] = s6_unchanged(sim, MMN_OP_NUMA_HINT);
		o->fp[2] = s6_unchanged(sim, MMN_OP_SOFT_DIRTY);
		restores = e.pw.null_by_event[ev];
		o->restores = restores;
		o->restore_event_clear = e.pw.by_event[MMN_NOTIFY_CLEAR];
		if (!mmn_op_get_stats(sim, MMN_OP_EXCLUSIVE, &os))
			conversions = os.calls;
		if (!mmn_hmm_get_stats(e.m, &st)) {
			o->atomics = st.atomics;
			o->zaps[0] = st.zapped;
			o->needless = st.needless;
		}
		o->exclusive_left = x.exclusive_left;
		/* (1) every exclusive entry undone by a fault the process-wide
		 * notifier saw (a deadlock or budget outcome has no epilogue) */
		*decided = x.epilogue && x.exclusive_left == 0 &&
			   x.epilogue_restores == x.exclusive_found && restores >= conversions;
		/* (2) the variant's handling of the false positives */
		erasing = st.by_event[MMN_NOTIFY_CLEAR] + st.by_event[MMN_NOTIFY_EXCLUSIVE] -
			  st.skipped_own;
		/* Without mmu_notifier_range_update_to_read_only() (6.5+) no
		 * driver can tell a PROTECTION_VMA range that kept read access:
		 * the event-aware mirror erases on those too. */
		if (!mmn_sim_profile(sim)->range_update_to_read_only)
			erasing += st.by_event[MMN_NOTIFY_PROTECTION_VMA];
		if (v == MMN_HMM_EVENT_BLIND)
			*decided = *decided && st.downgraded == 0 && st.skipped_own == 0 &&
				   st.teardowns + st.needless + st.nonblock_refused == st.callbacks;
		else
			*decided = *decided && st.teardowns <= erasing;
		mmn__scn_fmt(out->note, sizeof(out->note),
			 "explore %s: %lu conversions, %lu restore ranges (%lu+%lu at the end), "
			 "fp %lu/%lu/%lu, %lu of %lu notifications tore down",
			 v == MMN_HMM_EVENT_BLIND ? "blind" : "aware", conversions, restores,
			 x.exclusive_found, x.epilogue_restores, o->fp[0], o->fp[1], o->fp[2],
			 st.teardowns, st.callbacks);
	}
	s6_env_free(&e, &err);
	return err;
}

/* One run: its choices and what its phases observed. */
struct s6_run {
	int v; /* enum mmn_hmm_variant */
	unsigned long pages, iters;
	uint64_t seed;
	struct s6_obs o;
	bool decided; /* EXPLORE: the schedule decided the claim */
};

static int s6_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	(void)values;
	if (p->variant < -1 || p->variant > MMN_HMM_EVENT_BLIND)
		return -EINVAL;
	if (p->pages > S6_MIRROR_PAGES)
		return -EINVAL;
	if (p->profile && !mmn_profile_by_name(p->profile))
		return -EINVAL;
	return 0;
}

static int s6_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	bool explore = p->mode == MMN_SCENARIO_EXPLORE;
	struct s6_run *r = ctx;

	(void)values;
	(void)own;
	r->pages = p->pages ? p->pages : explore ? S6_EXPLORE_PAGES : S6_DEFAULT_PAGES;
	r->iters = explore ? (p->iterations ? p->iterations : S6_EXPLORE_ITERS)
			   : (p->iterations ? p->iterations : S6_DEFAULT_ITERS) / 2;
	r->v = p->variant > 0 ? p->variant : (p->wrong ? MMN_HMM_EVENT_BLIND : MMN_HMM_EVENT_AWARE);
	r->seed = p->seed ? p->seed : 1; /* the simulation's seed */
	cfg->nr_cpus = 2;
	cfg->nr_frames = 4096;
	cfg->profile = p->profile ? p->profile : "latest";
	return 0;
}

static int s6_interleaved_mode(void *ctx, struct mmn_sim *sim,
			       const struct mmn_scenario_params *p, struct mmn_scenario_result *out)
{
	struct s6_run *r = ctx;

	(void)p;
	(void)out;
	return s6_interleaved(sim, (enum mmn_hmm_variant)r->v, r->pages, &r->o);
}

static int s6_native_mode(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			  struct mmn_scenario_result *out)
{
	struct s6_run *r = ctx;

	(void)p;
	(void)out;
	return s6_native(sim, (enum mmn_hmm_variant)r->v, r->pages, r->iters, r->seed, &r->o);
}

static int s6_explore_mode(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			   struct mmn_scenario_result *out)
{
	struct s6_run *r = ctx;

	return s6_explore(sim, p, (enum mmn_hmm_variant)r->v, r->pages, r->iters, r->seed, &r->o,
			  out, &r->decided);
}

static void s6_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct s6_run *r = ctx;
	const struct s6_obs *o = &r->o;

	(void)mmn_check_quiescent(sim);
	mmn_scenario_collect_violations(sim, out);
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", mmn_sim_profile(sim)->name);

	out->runs = p->mode == MMN_SCENARIO_INTERLEAVED ? 1 : r->iters;
	mmn_scenario_add_counter(out, "restores", o->restores);
	mmn_scenario_add_counter(out, "restores_clear", o->restore_event_clear);
	mmn_scenario_add_counter(out, "fp_mprotect_cow", o->fp[0]);
	mmn_scenario_add_counter(out, "fp_numa", o->fp[1]);
	mmn_scenario_add_counter(out, "fp_soft_dirty", o->fp[2]);
	if (p->mode == MMN_SCENARIO_INTERLEAVED) {
		mmn_scenario_add_counter(out, "zaps_mprotect_cow", o->zaps[0]);
		mmn_scenario_add_counter(out, "zaps_numa", o->zaps[1]);
		mmn_scenario_add_counter(out, "zaps_soft_dirty", o->zaps[2]);
	} else {
		/* per-operation zaps cannot be told apart under concurrent actors */
		mmn_scenario_add_counter(out, "zaps_total", o->zaps[0]);
		mmn_scenario_add_counter(out, "needless", o->needless);
		mmn_scenario_add_counter(out, "atomics", o->atomics);
	}
	if (p->mode == MMN_SCENARIO_INTERLEAVED) {
		out->claim_holds = out->violations == 0 && o->restores == r->pages &&
				   o->restore_null_owner == r->pages && !o->exclusive_left &&
				   o->fp[0] == r->pages && o->fp[1] == r->pages && o->fp[2] == r->pages;
		if (r->v == MMN_HMM_EVENT_BLIND)
			out->claim_holds = out->claim_holds && o->zaps[0] + o->zaps[1] + o->zaps[2] > 0;
	} else if (p->mode == MMN_SCENARIO_EXPLORE) {
		out->claim_holds = out->violations == 0 && r->decided;
	} else {
		out->claim_holds = out->violations == 0;
	}
	mmn__scn_fmt(out->setting, sizeof(out->setting), "variant=%s",
		 r->v == MMN_HMM_EVENT_BLIND ? "event_blind" : "event_aware");
	if (p->mode == MMN_SCENARIO_NATIVE)
		mmn__scn_fmt(out->note, sizeof(out->note),
			 "%lu CLEAR ranges; false positives mprotect/numa/soft-dirty %lu/%lu/%lu; %lu entries zapped",
			 o->restores, o->fp[0], o->fp[1], o->fp[2], o->zaps[0]);
	else if (p->mode == MMN_SCENARIO_INTERLEAVED)
		mmn__scn_fmt(out->note, sizeof(out->note),
			 "%lu restores (%s); false positives mprotect/numa/soft-dirty %lu/%lu/%lu; needless zaps %lu/%lu/%lu",
			 o->restores, o->restore_event_excl ? "EXCLUSIVE" : "CLEAR", o->fp[0], o->fp[1],
			 o->fp[2], o->zaps[0], o->zaps[1], o->zaps[2]);
}

/* Each phase builds and frees its own mm and mirror: no setup, no teardown. */
/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s6 = {
	.id = "S6",
	.seed = "004",
	.title = "device-exclusive atomics with CPU access; protection changes that change no PTE",
	.claim = "exclusive entry restored by CPU fault with the process-wide notifier seen; "
		 "false positives counted per operation",
	/* counts only: under either setting every violation counts */
	.found_kinds = 0,
	.validate = s6_validate,
	.ctx_size = sizeof(struct s6_run),
	.configure = s6_configure,
	.interleaved = s6_interleaved_mode,
	.native = s6_native_mode,
	.explore = s6_explore_mode,
	.judge = s6_judge,
};
