// SPDX-License-Identifier: MIT
/*
 * The library side of the kernel-compatibility headers (include/mmnsim/
 * compat.h, docs/compat.md). Written against the public API only: a lock
 * made with the kernel's initialiser is a modelled lock of the calling
 * actor's simulation (mmn_sim_current()), bound when first needed.
 */
#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/check.h>
#include <mmnsim/compat.h>
#include <mmnsim/sync.h>

static void compat_bind(struct mmn_compat_lock *l, struct mmn_sim *sim)
{
	const struct mmn_lock_class *cls = l->cls ? l->cls : &l->own_cls;

	switch (l->kind) {
	case MMN_COMPAT_SPINLOCK:
		mmn_spin_lock_init(&l->u.spin, sim, cls, l->name);
		break;
	case MMN_COMPAT_MUTEX:
		mmn_mutex_init(&l->u.mutex, sim, cls, l->name);
		break;
	case MMN_COMPAT_RWSEM:
		mmn_rwsem_init(&l->u.rwsem, sim, cls, l->name);
		break;
	case MMN_COMPAT_SRCU:
		mmn_srcu_init(&l->u.srcu, sim, l->name);
		break;
	default:
		break;
	}
}

void mmn_compat_lock_init(struct mmn_compat_lock *l, int kind, const struct mmn_lock_class *cls,
			  const char *name)
{
	struct mmn_sim *sim;

	if (!l)
		return;
	memset(l, 0, sizeof(*l));
	l->kind = kind;
	l->cls = cls;
	l->name = name;
	l->own_cls.name = name;
	sim = mmn_sim_current();
	if (sim) {
		compat_bind(l, sim);
		__atomic_store_n(&l->serial, mmn_sim_serial(sim), __ATOMIC_RELEASE);
	}
}

void *mmn_compat_lock_get(struct mmn_compat_lock *l)
{
	struct mmn_sim *sim;
	unsigned long ser;

	if (!l)
		return NULL;
	sim = mmn_sim_current();
	if (!sim) {
		fprintf(stderr, "mmnsim compat: lock %s used outside a simulation (no actor, no "
				"mmn_sim_set_current()): not modelled\n",
			l->name ? l->name : "?");
		return NULL;
	}
	ser = mmn_sim_serial(sim);
	if (__atomic_load_n(&l->serial, __ATOMIC_ACQUIRE) == ser)
		return &l->u;
	/* Bind (or bind afresh: a static lock in a later simulation). Binding
	 * passes no scheduling point, so under the deterministic backend no
	 * other actor runs in between; natively the flag serialises. */
	while (__atomic_exchange_n(&l->busy, 1, __ATOMIC_ACQUIRE))
		sched_yield();
	if (__atomic_load_n(&l->serial, __ATOMIC_RELAXED) != ser) {
		compat_bind(l, sim);
		__atomic_store_n(&l->serial, ser, __ATOMIC_RELEASE);
	}
	__atomic_store_n(&l->busy, 0, __ATOMIC_RELEASE);
	return &l->u;
}

void mmn_compat_lock_destroy(struct mmn_compat_lock *l)
{
	if (!l || !__atomic_load_n(&l->serial, __ATOMIC_ACQUIRE))
		return;
	switch (l->kind) {
	case MMN_COMPAT_SPINLOCK:
		mmn_spin_lock_destroy(&l->u.spin);
		break;
	case MMN_COMPAT_MUTEX:
		mmn_mutex_destroy(&l->u.mutex);
		break;
	case MMN_COMPAT_RWSEM:
		mmn_rwsem_destroy(&l->u.rwsem);
		break;
	case MMN_COMPAT_SRCU:
		mmn_srcu_destroy(&l->u.srcu);
		break;
	default:
		break;
	}
	__atomic_store_n(&l->serial, 0UL, __ATOMIC_RELEASE);
}

void mmn_compat_warn(const char *file, int line, const char *cond)
{
	struct mmn_sim *sim = mmn_sim_current();
	char msg[256];
	struct mmn_violation v = { .kind = MMN_VIOL_PROTOCOL, .actor_id = -1, .op = "WARN_ON" };

	snprintf(msg, sizeof(msg), "WARN_ON(%s) at %s:%d", cond ? cond : "?", file ? file : "?",
		 line);
	if (!sim) {
		fprintf(stderr, "mmnsim compat: %s (outside a simulation)\n", msg);
		return;
	}
	v.msg = msg;
	mmn_check_report(sim, &v);
}
