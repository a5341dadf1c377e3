// SPDX-License-Identifier: MIT
/*
 * The scenario registry: S1-S9 and the user's scenarios, registered through
 * mmn_scenario_register(); lookup; mmn_scenario_run().
 *
 * Process-wide by nature (a plugin registry: a scenario is code of the
 * process, like a driver in a module's list), so this is the one piece of
 * global mutable state of lib/scenarios, kept to what that needs:
 *
 * - append-only: a singly linked list whose nodes are never removed or
 *   freed, so a pointer or an index handed out stays valid;
 * - lock-free (C11 atomics; code above lib/sync may not call pthreads):
 *   registering walks the list comparing ids and appends with a
 *   compare-and-swap on the NULL tail link; a failed CAS means another node
 *   was appended there, which is compared in turn. So of two registrations
 *   of one id exactly one succeeds, and a reader walking the list with
 *   acquire loads sees every node it reaches whole (released by the CAS);
 * - S1-S9 go in first, through mmn_scenario_register() itself, on the first
 *   use of the registry (a three-state flag; a thread that finds another one
 *   registering them waits for it to finish, which takes microseconds).
 */
#include <errno.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios_internal.h"

/* Defined in sN.c, written against the public API only. */
extern const struct mmn_scenario_def mmn__scn_s1, mmn__scn_s2, mmn__scn_s3, mmn__scn_s4,
	mmn__scn_s5, mmn__scn_s6, mmn__scn_s7, mmn__scn_s8, mmn__scn_s9;

static const struct mmn_scenario_def *const reg_builtin[] = {
	&mmn__scn_s1, &mmn__scn_s2, &mmn__scn_s3, &mmn__scn_s4, &mmn__scn_s5,
	&mmn__scn_s6, &mmn__scn_s7, &mmn__scn_s8, &mmn__scn_s9,
};

struct reg_node {
	struct mmn_scenario s;
	_Atomic(struct reg_node *) next;
};

enum { REG_NONE, REG_BUSY, REG_DONE };

static _Atomic(struct reg_node *) reg_head;
static atomic_int reg_state;
/* Set while this thread registers S1-S9 (so that mmn_scenario_register()
 * does not wait for itself). */
static _Thread_local bool reg_in_builtins;

static void reg_builtins(void)
{
	int expect = REG_NONE;

	if (atomic_load_explicit(&reg_state, memory_order_acquire) == REG_DONE || reg_in_builtins)
		return;
	if (atomic_compare_exchange_strong_explicit(&reg_state, &expect, REG_BUSY,
						    memory_order_acq_rel, memory_order_acquire)) {
		reg_in_builtins = true;
		for (size_t i = 0; i < sizeof(reg_builtin) / sizeof(reg_builtin[0]); i++)
			(void)mmn_scenario_register(reg_builtin[i]);
		reg_in_builtins = false;
		atomic_store_explicit(&reg_state, REG_DONE, memory_order_release);
		return;
	}
	while (atomic_load_explicit(&reg_state, memory_order_acquire) != REG_DONE)
		sched_yield();
}

int mmn_scenario_register(const struct mmn_scenario_def *def)
{
	_Atomic(struct reg_node *) *link = &reg_head;
	struct reg_node *n;

	if (mmn__scn_def_check(def))
		return -EINVAL;
	reg_builtins();
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->s = (struct mmn_scenario){
		.id = def->id,
		.seed = def->seed ? def->seed : "user",
		.title = def->title,
		.claim = def->claim ? def->claim : "",
		.found_kinds = def->found_kinds,
		.def = def,
	};
	atomic_init(&n->next, NULL);
	for (;;) {
		struct reg_node *cur = atomic_load_explicit(link, memory_order_acquire);

		if (!cur) {
			if (atomic_compare_exchange_strong_explicit(link, &cur, n,
								    memory_order_acq_rel,
								    memory_order_acquire))
				return 0;
			/* cur: the node another registration appended here */
		}
		if (!strcmp(cur->s.id, def->id)) {
			free(n);
			return -EEXIST;
		}
		link = &cur->next;
	}
}

static const struct reg_node *reg_first(void)
{
	reg_builtins();
	return atomic_load_explicit(&reg_head, memory_order_acquire);
}

static const struct reg_node *reg_next(const struct reg_node *n)
{
	return atomic_load_explicit(&((struct reg_node *)n)->next, memory_order_acquire);
}

int mmn_scenario_count(void)
{
	int count = 0;

	for (const struct reg_node *n = reg_first(); n; n = reg_next(n))
		count++;
	return count;
}

const struct mmn_scenario *mmn_scenario_at(int idx)
{
	const struct reg_node *n = reg_first();

	if (idx < 0)
		return NULL;
	for (; n && idx; n = reg_next(n))
		idx--;
	return n ? &n->s : NULL;
}

const struct mmn_scenario *mmn_scenario_by_id(const char *id)
{
	if (!id)
		return NULL;
	for (const struct reg_node *n = reg_first(); n; n = reg_next(n))
		if (!strcmp(n->s.id, id))
			return &n->s;
	return NULL;
}

int mmn_scenario_run(const char *id, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	const struct mmn_scenario *s;

	if (!id || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	s = mmn_scenario_by_id(id);
	if (!s)
		return -ENOENT;
	return mmn__scn_run_checked(s->def, p, out);
}

int mmn_scenario_counter(const struct mmn_scenario_result *r, const char *name,
			 unsigned long *value)
{
	if (!r || !name || !value)
		return -EINVAL;
	for (int i = 0; i < r->nr_counters && i < MMN_SCENARIO_MAX_COUNTERS; i++) {
		if (r->counter_names[i] && !strcmp(r->counter_names[i], name)) {
			*value = r->counters[i];
			return 0;
		}
	}
	return -ENOENT;
}

/*
 * The listener-kind registry (struct mmn_listener_kind): a second
 * append-only, lock-free list, built as the scenario list above (CAS on the
 * NULL tail link; nodes never freed), with no built-in entries of its own
 * (mmnsim registers the kvm, iommu and hmm kinds through it).
 */
struct lk_node {
	const struct mmn_listener_kind *k;
	_Atomic(struct lk_node *) next;
};

static _Atomic(struct lk_node *) lk_head;

/* [a-z0-9_], 1 to MMN_SCENARIO_NAME_MAX bytes. */
static bool lk_name_ok(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	return n && n <= MMN_SCENARIO_NAME_MAX &&
	       strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789_") == n;
}

/* A NULL-terminated list of 0 or @min..@max good, distinct names. */
static bool lk_names_ok(const char *const *names, int min, int max)
{
	int n = 0;

	if (!names)
		return min == 0;
	for (; names[n]; n++) {
		if (n == max || !lk_name_ok(names[n]))
			return false;
		for (int j = 0; j < n; j++)
			if (!strcmp(names[j], names[n]))
				return false;
	}
	return n >= min;
}

int mmn_listener_kind_register(const struct mmn_listener_kind *kind)
{
	_Atomic(struct lk_node *) *link = &lk_head;
	struct lk_node *n;

	if (!kind || !lk_name_ok(kind->name) || !kind->create || !kind->destroy ||
	    !lk_names_ok(kind->variants, 1, MMN_LISTENER_KIND_MAX_VARIANTS) || !kind->variants ||
	    !lk_names_ok(kind->counters, 0, MMN_LISTENER_KIND_MAX_COUNTERS) ||
	    (kind->counters && kind->counters[0] && !kind->counter))
		return -EINVAL;
	n = calloc(1, sizeof(*n));
	if (!n)
		return -ENOMEM;
	n->k = kind;
	atomic_init(&n->next, NULL);
	for (;;) {
		struct lk_node *cur = atomic_load_explicit(link, memory_order_acquire);

		if (!cur && atomic_compare_exchange_strong_explicit(link, &cur, n,
								    memory_order_acq_rel,
								    memory_order_acquire))
			return 0;
		/* cur: the node found (or appended by another registration) here */
		if (!strcmp(cur->k->name, kind->name)) {
			free(n);
			return -EEXIST;
		}
		link = &cur->next;
	}
}

const struct mmn_listener_kind *mmn_listener_kind_at(int idx)
{
	const struct lk_node *n = atomic_load_explicit(&lk_head, memory_order_acquire);

	if (idx < 0)
		return NULL;
	for (; n && idx; idx--)
		n = atomic_load_explicit(&((struct lk_node *)n)->next, memory_order_acquire);
	return n ? n->k : NULL;
}

int mmn_listener_kind_count(void)
{
	int count = 0;

	while (mmn_listener_kind_at(count))
		count++;
	return count;
}

const struct mmn_listener_kind *mmn_listener_kind_by_name(const char *name)
{
	const struct mmn_listener_kind *k;

	if (!name)
		return NULL;
	for (int i = 0; (k = mmn_listener_kind_at(i)); i++)
		if (!strcmp(k->name, name))
			return k;
	return NULL;
}
