// SPDX-License-Identifier: MIT
/*
 * S8 (users): a listener whose callback takes a lock the caller already
 * holds. In the kernel it hangs; here lockdep reports it, with the held-lock
 * stack(s), and the run goes on (the recursive acquisition is skipped, a
 * cross-actor cycle under the deterministic backend ends the run as
 * MMN_OUTCOME_DEADLOCK and the blocked actors are unwound).
 *
 * Sub-runs (params.variant; -1 runs all that the mode allows):
 *  0 S8_START_MMAP_LOCK: invalidate_range_start takes mmap_lock for read;
 *    mprotect (mmap_lock held for write), MADV_DONTNEED (read) and munmap
 *    (read after the downgrade) each call it: one recursive-lock report each.
 *  1 S8_RELEASE_MMAP_LOCK: ->release takes mmap_lock for read; the driver
 *    unregisters from its vm_ops->close, which munmap runs under mmap_lock:
 *    one recursive-lock report (the exit path calls release without the
 *    lock, so only the unregister path matters).
 *  2 S8_CROSS_ACTOR (deterministic backend; INTERLEAVED, and EXPLORE's only
 *    sub-run): actor "mprotect" holds mmap_lock for write and its start
 *    callback takes the driver's mutex; actor "ioctl" holds the driver's
 *    mutex and takes mmap_lock. INTERLEAVED: completions force the
 *    crossing: lock-order report (both orders, each with the actor that
 *    recorded it) and MMN_VIOL_DEADLOCK with the wait-for cycle. EXPLORE:
 *    the schedule decides; every complete schedule gets the lock-order
 *    report, the crossing ones the deadlock with its cycle.
 * The right listener takes no lock the caller may hold (it defers the work).
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"

#define S8_PG MMN_PAGE_SIZE
#define S8_BASE 0x40000000UL
#define S8_NR_THREADS 3 /* actors of a native run */

enum { S8_START_MMAP_LOCK = 0, S8_RELEASE_MMAP_LOCK, S8_CROSS_ACTOR, S8_NR_VARIANTS };

static const struct mmn_lock_class s8_driver_class = { .name = "s8_driver_lock" };

struct s8_listener {
	struct mmn_notifier mn;
	struct mmn_mm *mm;
	bool bad;                      /* takes the lock the caller holds */
	int variant;
	struct mmn_mutex *driver_lock; /* S8_CROSS_ACTOR */
	struct mmn_completion *b_has_lock, *a_in_start;
	atomic_ulong starts, releases;
};

struct s8_report {
	atomic_ulong with_stacks;     /* reports whose detail lists held locks */
	atomic_ulong two_actors;      /* lock-order reports naming both actors */
	atomic_ulong cycles;          /* deadlock reports with the wait-for cycle */
	const struct mmn_scenario_params *p; /* its on_violation sees every report */
};

static void s8_handler(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	struct s8_report *r = arg;

	(void)sim;
	if (v->detail && strstr(v->detail, "held locks of "))
		atomic_fetch_add(&r->with_stacks, 1);
	if (v->kind == MMN_VIOL_LOCK_ORDER && v->detail && strstr(v->detail, "mprotect") &&
	    strstr(v->detail, "ioctl"))
		atomic_fetch_add(&r->two_actors, 1);
	if (v->kind == MMN_VIOL_DEADLOCK && v->msg && strstr(v->msg, "wait-for cycle"))
		atomic_fetch_add(&r->cycles, 1);
	mmn_scenario_forward_violation(r->p, sim, v);
}

static int s8_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct s8_listener *l = (struct s8_listener *)((char *)sub -
						       offsetof(struct s8_listener, mn));

	(void)range;
	atomic_fetch_add(&l->starts, 1);
	if (!l->bad)
		return 0;
	if (l->variant == S8_START_MMAP_LOCK) {
		/* e.g. to look up the VMA of the range */
		mmn_mmap_read_lock(l->mm);
		mmn_mmap_read_unlock(l->mm);
	} else if (l->variant == S8_CROSS_ACTOR && l->driver_lock) {
		if (l->b_has_lock) { /* INTERLEAVED: force the crossing */
			mmn_wait_for_completion(l->b_has_lock);
			mmn_complete(l->a_in_start);
		}
		mmn_mutex_lock(l->driver_lock);
		mmn_mutex_unlock(l->driver_lock);
	}
	return 0;
}

static void s8_release(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	struct s8_listener *l = (struct s8_listener *)((char *)sub -
						       offsetof(struct s8_listener, mn));

	atomic_fetch_add(&l->releases, 1);
	if (l->bad && l->variant == S8_RELEASE_MMAP_LOCK) {
		mmn_mmap_read_lock(mm);
		mmn_mmap_read_unlock(mm);
	}
}

static const struct mmn_notifier_ops s8_ops = {
	.invalidate_range_start = s8_start,
	.release = s8_release,
};

struct s8_world {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct s8_listener l;
	struct s8_report rep;
};

static int s8_world_new(struct s8_world *w, const struct mmn_scenario_params *p,
			const char *profile, int variant, enum mmn_backend backend)
{
	struct mmn_sim_config cfg;
	unsigned long got;
	int err;

	memset(w, 0, sizeof(*w));
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	cfg.profile = profile;
	cfg.backend = backend;
	err = mmn_scenario_sim_create(&w->sim, &cfg, p, false, NULL);
	if (err)
		return err;
	w->rep.p = p;
	mmn_check_set_handler(w->sim, s8_handler, &w->rep);
	w->mm = mmn_mm_create(w->sim);
	err = w->mm ? 0 : -ENOMEM;
	if (!err)
		err = mmn_mmap(w->mm, S8_BASE, 4 * S8_NR_THREADS * S8_PG,
			       MMN_PROT_READ | MMN_PROT_WRITE, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED,
			       &got);
	for (unsigned long i = 0; !err && i < 4 * S8_NR_THREADS; i++)
		err = mmn_cpu_write(w->mm, 0, S8_BASE + i * S8_PG, i);
	w->l.mn.ops = &s8_ops;
	w->l.mm = w->mm;
	w->l.bad = p->wrong;
	w->l.variant = variant;
	if (!err)
		err = mmn_notifier_register(&w->l.mn, w->mm);
	if (err) {
		if (w->mm)
			mmn_mm_put(w->mm);
		mmn_sim_destroy(w->sim);
		return err;
	}
	return 0;
}

/* Tear the mm down and add the world's reports to @out and @sum; the
 * simulation itself stays for mmn_scenario_finish(). */
static void s8_world_collect(struct s8_world *w, bool registered, struct mmn_scenario_result *out,
			     struct s8_report *sum)
{
	struct mmn_scenario_result one = { 0 };

	if (registered)
		(void)mmn_notifier_unregister(&w->l.mn, w->mm);
	mmn_mm_put(w->mm);
	mmn_scenario_collect_violations(w->sim, &one);
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		out->by_kind[k] += one.by_kind[k];
	out->violations += one.violations;
	sum->with_stacks += atomic_load(&w->rep.with_stacks);
	sum->two_actors += atomic_load(&w->rep.two_actors);
	sum->cycles += atomic_load(&w->rep.cycles);
}

/* Variant 0: the three operations that call start with mmap_lock held,
 * on the 4 pages at @base. */
static int s8_ops_under_mmap_lock(struct mmn_mm *mm, unsigned long base, unsigned long rounds)
{
	int err = 0;

	for (unsigned long n = 0; !err && n < rounds; n++) {
		unsigned long got;

		err = mmn_mprotect(mm, base, 4 * S8_PG, MMN_PROT_READ);
		if (!err)
			err = mmn_mprotect(mm, base, 4 * S8_PG, MMN_PROT_READ | MMN_PROT_WRITE);
		if (!err)
			err = mmn_madvise(mm, base, S8_PG, MMN_MADV_DONTNEED);
		if (!err)
			err = mmn_munmap(mm, base + 3 * S8_PG, S8_PG);
		if (!err)
			err = mmn_mmap(mm, base + 3 * S8_PG, S8_PG, MMN_PROT_READ | MMN_PROT_WRITE,
				       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
		if (!err)
			err = mmn_cpu_write(mm, 0, base + 3 * S8_PG, n);
	}
	return err;
}

struct s8_native {
	struct mmn_mm *mm;
	unsigned long base, rounds;
	int err;
};

static void *s8_native_actor(void *arg)
{
	struct s8_native *n = arg;

	n->err = s8_ops_under_mmap_lock(n->mm, n->base, n->rounds);
	return NULL;
}

/* NATIVE: S8_NR_THREADS actors, each on its own 4 pages. */
static int s8_ops_threads(struct s8_world *w, unsigned long rounds)
{
	struct s8_native n[S8_NR_THREADS];
	struct mmn_actor *a[S8_NR_THREADS];
	int spawned = 0, err = 0;

	for (int i = 0; i < S8_NR_THREADS; i++) {
		n[i] = (struct s8_native){ .mm = w->mm, .base = S8_BASE + (unsigned long)i * 4 * S8_PG,
					   .rounds = rounds / S8_NR_THREADS };
		err = mmn_actor_spawn(w->sim, "ops", s8_native_actor, &n[i], &a[i]);
		if (err)
			break;
		spawned++;
	}
	for (int i = 0; i < spawned; i++) {
		(void)mmn_actor_join(a[i], NULL);
		if (!err)
			err = n[i].err;
	}
	return err;
}

/* Variant 1: the driver's vm_ops->close, run by munmap under mmap_lock,
 * unregisters; the exit path's release runs without it. */
static int s8_close_unregisters(struct s8_world *w)
{
	int err;

	mmn_mmap_read_lock(w->mm); /* as munmap's call of vm_ops->close */
	err = mmn_notifier_unregister(&w->l.mn, w->mm);
	mmn_mmap_read_unlock(w->mm);
	return err;
}

struct s8_cross {
	struct s8_world *w;
	struct mmn_mutex driver_lock;
	bool forced; /* INTERLEAVED: completions force the crossing */
	struct mmn_completion b_has_lock, a_in_start;
	int mprotect_ret;
	bool ioctl_done, mprotect_done;
};

static void *s8_actor_mprotect(void *arg)
{
	struct s8_cross *c = arg;

	c->mprotect_ret = mmn_mprotect(c->w->mm, S8_BASE, 4 * S8_PG, MMN_PROT_READ);
	c->mprotect_done = true;
	return NULL;
}

static void *s8_actor_ioctl(void *arg)
{
	struct s8_cross *c = arg;

	mmn_mutex_lock(&c->driver_lock);
	if (c->forced) {
		mmn_complete(&c->b_has_lock);
		mmn_wait_for_completion(&c->a_in_start);
	}
	mmn_mmap_read_lock(c->w->mm); /* e.g. to pin user pages */
	mmn_mmap_read_unlock(c->w->mm);
	mmn_mutex_unlock(&c->driver_lock);
	c->ioctl_done = true;
	return NULL;
}

static void s8_cross_body(struct mmn_sim *sim, void *arg)
{
	struct s8_cross *c = arg;
	struct mmn_actor *a = NULL, *b = NULL;

	if (mmn_actor_spawn(sim, "ioctl", s8_actor_ioctl, c, &b))
		return;
	if (mmn_actor_spawn(sim, "mprotect", s8_actor_mprotect, c, &a)) {
		mmn_complete(&c->a_in_start);
		(void)mmn_actor_join(b, NULL);
		return;
	}
	(void)mmn_actor_join(a, NULL);
	(void)mmn_actor_join(b, NULL);
}

/*
 * Variant 2. INTERLEAVED: completions force the crossing, one schedule.
 * EXPLORE: no completion; the schedule p->sched decides whether the two
 * actors cross (a deadlock) or merely take the locks in both orders one
 * after the other (the lock-order report alone).
 */
static int s8_cross(struct s8_world *w, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct s8_cross *c = calloc(1, sizeof(*c));
	struct mmn_sched_config sc;
	int err;

	if (!c)
		return -ENOMEM;
	c->w = w;
	c->forced = p->mode != MMN_SCENARIO_EXPLORE;
	mmn_mutex_init(&c->driver_lock, w->sim, &s8_driver_class, "driver_lock");
	mmn_init_completion(&c->b_has_lock, w->sim, "b_has_lock");
	mmn_init_completion(&c->a_in_start, w->sim, "a_in_start");
	w->l.driver_lock = &c->driver_lock;
	if (c->forced) {
		w->l.b_has_lock = &c->b_has_lock;
		w->l.a_in_start = &c->a_in_start;
	}
	if (!p->wrong) {
		/* The right listener never waits in start: let the ioctl go. */
		mmn_complete(&c->a_in_start);
	}
	if (c->forced) {
		mmn_sched_config_init(&sc);
		sc.seed = 1;
		sc.trace = false;
		err = mmn_sched_run(w->sim, &sc, s8_cross_body, c, &out->sched);
	} else {
		err = mmn_scenario_sched_run(w->sim, p, s8_cross_body, c, out);
	}
	w->l.driver_lock = NULL;
	w->l.b_has_lock = NULL;
	w->l.a_in_start = NULL;
	mmn_completion_destroy(&c->b_has_lock);
	mmn_completion_destroy(&c->a_in_start);
	mmn_mutex_destroy(&c->driver_lock);
	free(c);
	return err;
}

static int s8_validate(const struct mmn_scenario_params *p, const int64_t *values)
{
	bool explore = p->mode == MMN_SCENARIO_EXPLORE;

	(void)values;
	if (p->variant < -1 || p->variant >= S8_NR_VARIANTS ||
	    (p->mode == MMN_SCENARIO_NATIVE && p->variant == S8_CROSS_ACTOR) ||
	    (explore && p->variant >= 0 && p->variant != S8_CROSS_ACTOR))
		return -EINVAL;
	return 0;
}

/* Variant @v in its own world @w; what it shows goes to @out and @sum. */
static int s8_variant(struct s8_world *w, int v, unsigned long rounds,
		      const struct mmn_scenario_params *p, struct mmn_scenario_result *out,
		      unsigned long *deadlocks, struct s8_report *sum)
{
	bool registered = true;
	int err;

	if (v == S8_START_MMAP_LOCK) {
		err = p->mode == MMN_SCENARIO_NATIVE ? s8_ops_threads(w, rounds)
						     : s8_ops_under_mmap_lock(w->mm, S8_BASE, 1);
		mmn_scenario_add_counter(out, "start_calls", atomic_load(&w->l.starts));
	} else if (v == S8_RELEASE_MMAP_LOCK) {
		err = 0;
		for (unsigned long n = 0; !err && n < rounds; n++) {
			if (n) {
				w->l.mn = (struct mmn_notifier){ .ops = &s8_ops };
				err = mmn_notifier_register(&w->l.mn, w->mm);
			}
			if (!err)
				err = s8_close_unregisters(w);
		}
		registered = false;
		mmn_scenario_add_counter(out, "release_calls", atomic_load(&w->l.releases));
	} else {
		err = s8_cross(w, p, out);
		*deadlocks += !err && out->sched.outcome == MMN_OUTCOME_DEADLOCK;
		mmn_scenario_add_counter(out, "sched_deadlock_outcomes", *deadlocks);
	}
	out->runs++;
	s8_world_collect(w, registered, out, sum);
	return err;
}

/* The claim, over the variants run (the last one @to). */
static void s8_judge(const struct mmn_scenario_params *p, const char *profile, int to,
		     unsigned long deadlocks, const struct s8_report *sum,
		     struct mmn_scenario_result *out)
{
	bool explore = p->mode == MMN_SCENARIO_EXPLORE;

	mmn_scenario_add_counter(out, "reports_with_held_stacks", sum->with_stacks);
	mmn_scenario_add_counter(out, "lock_order_naming_both_actors", sum->two_actors);
	mmn_scenario_add_counter(out, "deadlocks_with_cycle", sum->cycles);
	mmn__scn_fmt(out->profile, sizeof(out->profile), "%s", profile);
	mmn__scn_fmt(out->setting, sizeof(out->setting), "%s",
		 p->wrong ? "listener callback takes mmap_lock / the driver lock the caller holds"
			  : "listener takes no lock its caller may hold");
	if (p->wrong)
		out->claim_holds = out->by_kind[MMN_VIOL_RECURSIVE_LOCK] +
					   out->by_kind[MMN_VIOL_LOCK_ORDER] > 0 &&
				   sum->with_stacks > 0 &&
				   (to < S8_CROSS_ACTOR || (deadlocks && sum->two_actors && sum->cycles) ||
				    (explore && (!deadlocks || sum->cycles)));
	else
		out->claim_holds = out->violations == 0;
	mmn__scn_fmt(out->note, sizeof(out->note), "%lu recursive, %lu lock-order, %lu deadlock; %lu "
		 "reports list the locks each actor holds, with where it took them",
		 out->by_kind[MMN_VIOL_RECURSIVE_LOCK], out->by_kind[MMN_VIOL_LOCK_ORDER],
		 out->by_kind[MMN_VIOL_DEADLOCK], sum->with_stacks);
}

/* One simulation per variant run (a world each), judged together. */
static int s8_body(const struct mmn_scenario_params *p, const int64_t *values,
		   struct mmn_scenario_result *out)
{
	struct s8_world *worlds[S8_NR_VARIANTS] = { NULL };
	bool explore = p->mode == MMN_SCENARIO_EXPLORE;
	const char *profile = p->profile ? p->profile : "latest";
	struct s8_report sum = { 0 };
	unsigned long rounds, deadlocks = 0;
	int err = 0, from, to, nw = 0;

	(void)values;
	rounds = p->mode == MMN_SCENARIO_NATIVE ? (p->iterations ? p->iterations : 400) : 1;
	/* EXPLORE: the cross-actor variant alone (one simulation, one schedule). */
	from = p->variant >= 0 ? p->variant : explore ? S8_CROSS_ACTOR : 0;
	to = p->variant >= 0 ? p->variant
			     : (p->mode == MMN_SCENARIO_NATIVE ? S8_RELEASE_MMAP_LOCK : S8_CROSS_ACTOR);
	for (int v = from; !err && v <= to; v++) {
		struct s8_world *w = calloc(1, sizeof(*w));

		if (!w) {
			err = -ENOMEM;
			break;
		}
		err = s8_world_new(w, p, profile,
				   v, v == S8_CROSS_ACTOR ? MMN_BACKEND_DETERMINISTIC
							   : MMN_BACKEND_NATIVE);
		if (err) {
			free(w);
			break;
		}
		worlds[nw++] = w;
		err = s8_variant(w, v, rounds, p, out, &deadlocks, &sum);
	}
	if (!err)
		s8_judge(p, profile, to, deadlocks, &sum, out);
	for (int i = 0; i < nw; i++) {
		if (!err)
			mmn_scenario_finish(worlds[i]->sim, p, out);
		mmn_sim_destroy(worlds[i]->sim);
		free(worlds[i]);
	}
	return err;
}

/* Registered by lib/scenarios/registry.c through mmn_scenario_register(). */
const struct mmn_scenario_def mmn__scn_s8 = {
	.id = "S8",
	.seed = "users",
	.title = "a listener whose release or start callback takes mmap_lock (or a lock the caller holds)",
	.claim = "reported as a lock-order / deadlock violation with both stacks, not a hang",
	.found_kinds = 1u << MMN_VIOL_RECURSIVE_LOCK | 1u << MMN_VIOL_LOCK_ORDER |
		       1u << MMN_VIOL_DEADLOCK,
	.validate = s8_validate,
	.run = s8_body,
};
