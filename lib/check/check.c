// SPDX-License-Identifier: MIT
/*
 * Violation records: counting and delivery. Every layer reports broken
 * invariants here instead of aborting, as the kernel WARNs instead of
 * BUG()ing where it can.
 *
 * The bottom layer: it calls nothing above it. Who is reporting comes from
 * the sync layer's describe callback, and the deterministic backend hears
 * each violation through its observer to put it in the trace.
 */
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const kind_names[MMN_VIOL_NR_KINDS] = {
	[MMN_VIOL_SLEEP_IN_ATOMIC] = "sleep_in_atomic",
	[MMN_VIOL_LOCK_ORDER] = "lock_order",
	[MMN_VIOL_RECURSIVE_LOCK] = "recursive_lock",
	[MMN_VIOL_BAD_UNLOCK] = "bad_unlock",
	[MMN_VIOL_SRCU_SELF_DEADLOCK] = "srcu_self_deadlock",
	[MMN_VIOL_HELD_AT_EXIT] = "held_at_exit",
	[MMN_VIOL_DEADLOCK] = "deadlock",
	[MMN_VIOL_USE_AFTER_FREE] = "use_after_free",
	[MMN_VIOL_LOST_WRITE] = "lost_write",
	[MMN_VIOL_STALE_TRANSLATION] = "stale_translation",
	[MMN_VIOL_PROTOCOL] = "protocol",
	[MMN_VIOL_ACCOUNTING] = "accounting",
};

const char *mmn_violation_kind_name(enum mmn_violation_kind kind)
{
	if ((unsigned int)kind >= MMN_VIOL_NR_KINDS)
		return "unknown";
	return kind_names[kind];
}

/* Whether @n is 10, 100, 1000, ... */
static bool check_power_of_ten(unsigned long n)
{
	while (n >= 10 && n % 10 == 0)
		n /= 10;
	return n == 1;
}

/*
 * The default handler: the first MMN_CHECK_PRINT_FIRST violations of each
 * kind, one line each (whole lines only) and the detail (held-lock stacks)
 * indented under it; after that one line at the 10th, 100th, 1000th ... of
 * the kind, so that a loop that keeps violating cannot fill a disk. @nth
 * counts this kind's violations in @sim, this one included.
 */
static void check_print(struct mmn_sim *sim, const struct mmn_violation *v, unsigned long nth)
{
	if (nth > MMN_CHECK_PRINT_FIRST) {
		if (check_power_of_ten(nth))
			fprintf(stderr,
				"mmnsim: violation %s: %lu so far; only the first %d of each kind are "
				"printed (mmn_check_count() counts them, a handler of "
				"mmn_check_set_handler() sees each)\n",
				mmn_violation_kind_name(v->kind), nth, MMN_CHECK_PRINT_FIRST);
		return;
	}
	mmn_raw_lock(&sim->check.print_lock);
	fprintf(stderr, "mmnsim: violation %s: %s [actor %s%s%s", mmn_violation_kind_name(v->kind),
		v->msg ? v->msg : "", v->actor_name ? v->actor_name : "?", v->op ? ", in " : "",
		v->op ? v->op : "");
	if (v->addr)
		fprintf(stderr, ", addr 0x%lx", v->addr);
	if (v->pfn || v->gen_used || v->gen_now)
		fprintf(stderr, ", pfn %lu gen %u->%u", v->pfn, v->gen_used, v->gen_now);
	fputs("]\n", stderr);
	for (const char *t = v->detail; t && *t;) {
		size_t n = strcspn(t, "\n");

		fprintf(stderr, "    %.*s\n", (int)n, t);
		t += n + (t[n] == '\n');
	}
	mmn_raw_unlock(&sim->check.print_lock);
}

void mmn_report(struct mmn_sim *sim, struct mmn_violation *v)
{
	unsigned long nth;

	if ((unsigned int)v->kind >= MMN_VIOL_NR_KINDS)
		return;
	if (sim->check.describe) {
		sim->check.describe(sim, v);
	} else if (!v->actor_name) {
		v->actor_id = -1;
		v->actor_name = "?";
	}
	nth = atomic_fetch_add_explicit(&sim->check.counts[v->kind], 1, memory_order_relaxed) + 1;
	if (sim->check.observe)
		sim->check.observe(sim, v);
	if (sim->check.handler)
		sim->check.handler(sim, v, sim->check.handler_arg);
	else
		check_print(sim, v, nth);
}

void mmn_reportf(struct mmn_sim *sim, enum mmn_violation_kind kind, unsigned long addr,
		 unsigned long pfn, const char *fmt, ...)
{
	char msg[256];
	va_list ap;
	struct mmn_violation v = { .kind = kind, .actor_id = -1, .addr = addr, .pfn = pfn };

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	v.msg = msg;
	mmn_report(sim, &v);
}

void mmn_check_report(struct mmn_sim *sim, const struct mmn_violation *v)
{
	struct mmn_violation copy;

	if (!sim || !v)
		return;
	copy = *v;
	mmn_report(sim, &copy);
}

void mmn_check_set_handler(struct mmn_sim *sim, mmn_violation_fn fn, void *arg)
{
	if (!sim)
		return;
	sim->check.handler = fn;
	sim->check.handler_arg = arg;
}

unsigned long mmn_check_count(const struct mmn_sim *sim, enum mmn_violation_kind kind)
{
	if (!sim || (unsigned int)kind >= MMN_VIOL_NR_KINDS)
		return 0;
	return atomic_load_explicit(&sim->check.counts[kind], memory_order_relaxed);
}

unsigned long mmn_check_total(const struct mmn_sim *sim)
{
	unsigned long sum = 0;

	if (!sim)
		return 0;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		sum += atomic_load_explicit(&sim->check.counts[k], memory_order_relaxed);
	return sum;
}

void mmn_check_reset(struct mmn_sim *sim)
{
	if (!sim)
		return;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		atomic_store_explicit(&sim->check.counts[k], 0, memory_order_relaxed);
}

void mmn__check_set_describe(struct mmn_sim *sim, mmn__check_describe_fn fn)
{
	sim->check.describe = fn;
}

void mmn__check_set_observer(struct mmn_sim *sim, mmn__check_observe_fn fn)
{
	sim->check.observe = fn;
}

void mmn_check_sim_init(struct mmn_sim *sim)
{
	mmn_raw_lock_init(&sim->check.print_lock);
	mmn_raw_lock_init(&sim->check.reg_lock);
}

void mmn_check_sim_fini(struct mmn_sim *sim)
{
	while (sim->check.secondaries) {
		struct mmn_secondary_reg *r = sim->check.secondaries;

		sim->check.secondaries = r->next;
		free(r->subs);
		free(r);
	}
	mmn_raw_lock_destroy(&sim->check.reg_lock);
	mmn_raw_lock_destroy(&sim->check.print_lock);
}
