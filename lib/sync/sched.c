// SPDX-License-Identifier: MIT
/*
 * Scheduling points. Every place where the kernel could be preempted or
 * could block in a way that matters to the notifier protocols (lock
 * acquisition and release, SRCU read sections and grace periods, waits and
 * wake-ups, PTE and TLB accesses) passes a point. Under the native backend a
 * point calls the simulation's hook, when one is installed, so a test can
 * stop an actor right there. The deterministic backend installs its own
 * hook (det_core.c) in the same slot at creation, so every point reaches its
 * scheduler by the same path, and calls the user's hook from there.
 */
#include <mmnsim/sched.h>

#include "priv.h"

static const char *const sched_kind_names[MMN_SCHED_NR_KINDS] = {
	[MMN_SCHED_LOCK] = "lock",
	[MMN_SCHED_UNLOCK] = "unlock",
	[MMN_SCHED_SRCU_READ_LOCK] = "srcu_read_lock",
	[MMN_SCHED_SRCU_READ_UNLOCK] = "srcu_read_unlock",
	[MMN_SCHED_SRCU_SYNC] = "srcu_sync",
	[MMN_SCHED_WAIT] = "wait",
	[MMN_SCHED_WAKE] = "wake",
	[MMN_SCHED_PTE_READ] = "pte_read",
	[MMN_SCHED_PTE_WRITE] = "pte_write",
	[MMN_SCHED_TLB_FILL] = "tlb_fill",
	[MMN_SCHED_TLB_FLUSH] = "tlb_flush",
	[MMN_SCHED_CALLBACK_ENTER] = "callback_enter",
	[MMN_SCHED_CALLBACK_EXIT] = "callback_exit",
	[MMN_SCHED_EXPLICIT] = "explicit",
};

const char *mmn_sched_kind_name(enum mmn_sched_kind kind)
{
	if ((unsigned int)kind >= MMN_SCHED_NR_KINDS)
		return "unknown";
	return sched_kind_names[kind];
}

void mmn_sched_set_hook(struct mmn_sim *sim, mmn_sched_hook_fn fn, void *arg)
{
	struct mmn_sync_state *st;

	if (!sim)
		return;
	st = sim->sync;
	if (!sync_native(sim)) {
		/* The scheduler keeps the hook slot; it calls the user's. */
		st->user_hook_arg = arg;
		st->user_hook = fn;
		return;
	}
	/* The flag and the SRCU domains' copies of it change together, and
	 * before the setter returns (mmn__srcu_follow_slow()). */
	pthread_mutex_lock(&st->srcu_list_lock);
	__atomic_store_n(&st->hook_arg, arg, __ATOMIC_RELAXED);
	__atomic_store_n(&st->hook, fn, __ATOMIC_RELEASE);
	__atomic_store_n(&st->slow, (unsigned char)(st->lockdep || fn || !sync_native(sim)),
			 __ATOMIC_RELAXED);
	mmn__srcu_follow_slow(st);
	pthread_mutex_unlock(&st->srcu_list_lock);
}

bool mmn_sched_hook_active(const struct mmn_sim *sim)
{
	return sim && __atomic_load_n(&sim->sync->hook, __ATOMIC_RELAXED) != NULL;
}

/*
 * Call the hook for the calling actor. A point passed from inside the hook
 * (the hook took a lock, say) does not call it again: the hook would
 * otherwise recurse into itself with no way to tell the levels apart.
 */
static void sched_call(struct mmn_sim *sim, mmn_sched_hook_fn fn, struct mmn_actor *a,
		       enum mmn_sched_kind kind, const void *obj, const char *name,
		       unsigned long addr)
{
	struct mmn_sched_event ev;

	if (!a)
		a = sync_actor(sim);
	if (!a || a->in_hook)
		return;
	ev.kind = kind;
	ev.actor = a;
	ev.obj = obj;
	ev.name = name;
	ev.addr = addr;
	a->in_hook = true;
	fn(sim, &ev, __atomic_load_n(&sim->sync->hook_arg, __ATOMIC_RELAXED));
	a->in_hook = false;
}

void mmn__sched(struct mmn_sim *sim, struct mmn_actor *a, enum mmn_sched_kind kind,
		const void *obj, const char *name)
{
	mmn_sched_hook_fn fn = __atomic_load_n(&sim->sync->hook, __ATOMIC_ACQUIRE);

	if (fn)
		sched_call(sim, fn, a, kind, obj, name, 0);
}

/*
 * A retry: an explicit point that the deterministic backend knows for a
 * yield (det_core.c: traced as "yield", PCT lowers the caller's priority).
 * The flag lives in the calling actor, which holds the token while it
 * passes the point; a nested point from the user's hook does not see it as
 * it is not called again (sched_call()).
 */
void mmn_sched_yield(struct mmn_sim *sim, const void *obj, const char *why)
{
	struct mmn_actor *a;

	if (mmn_unlikely(!sim))
		return;
	a = sync_native(sim) ? NULL : sync_actor(sim);
	if (a)
		a->det.yielding = true;
	mmn_sched_point(sim, MMN_SCHED_EXPLICIT, obj, why, 0);
	if (a)
		a->det.yielding = false;
}

void mmn_sched_point(struct mmn_sim *sim, enum mmn_sched_kind kind, const void *obj,
		     const char *name, unsigned long addr)
{
	mmn_sched_hook_fn fn;

	if (mmn_unlikely(!sim))
		return;
	fn = __atomic_load_n(&sim->sync->hook, __ATOMIC_ACQUIRE);
	if (mmn_likely(!fn))
		return;
	/* Backend dispatch: the deterministic backend makes this a choice. */
	sched_call(sim, fn, NULL, kind, obj, name, addr);
}
