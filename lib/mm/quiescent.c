// SPDX-License-Identifier: MIT
/*
 * The stale-translation audit of the oracle (MMN_VIOL_STALE_TRANSLATION,
 * through lib/check's reporting): at quiescence every
 * cached translation, a CPU's or a listener's, must agree with the primary
 * page table. The kernel has no such check; a translation that survives its
 * invalidation is exactly what the seeds' races leave behind.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mm/mm_internal.h"

int mmn_check_register_secondary(struct mmn_sim *sim, const char *name,
				 mmn_secondary_iter_fn iter, void *ctx)
{
	struct mmn_secondary_reg *r;
	int err = 0;

	if (!sim || !name || !iter || !ctx)
		return -EINVAL;
	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = name;
	r->iter = iter;
	r->ctx = ctx;
	mmn_raw_lock(&sim->check.reg_lock);
	for (struct mmn_secondary_reg *p = sim->check.secondaries; p; p = p->next)
		if (p->ctx == ctx)
			err = -EEXIST;
	if (!err) {
		r->next = sim->check.secondaries;
		sim->check.secondaries = r;
	}
	mmn_raw_unlock(&sim->check.reg_lock);
	if (err)
		free(r);
	return err;
}

int mmn_check_unregister_secondary(struct mmn_sim *sim, void *ctx)
{
	struct mmn_secondary_reg *found = NULL;

	if (!sim || !ctx)
		return -EINVAL;
	mmn_raw_lock(&sim->check.reg_lock);
	for (struct mmn_secondary_reg **pp = &sim->check.secondaries; *pp; pp = &(*pp)->next) {
		if ((*pp)->ctx == ctx) {
			found = *pp;
			*pp = found->next;
			break;
		}
	}
	mmn_raw_unlock(&sim->check.reg_lock);
	free(found);
	return found ? 0 : -ENOENT;
}

struct quiescent {
	struct mmn_sim *sim;
	const char *who;   /* listener name, or NULL for CPU entries */
	int cpu;
	long stale;
};

/* Compare one translation with the primary table; report if it disagrees. */
static void check_one(struct quiescent *q, struct mmn_mm *mm, unsigned long addr,
		      unsigned long pfn, uint32_t gen, bool write)
{
	struct mmn_walk w;
	const char *why = NULL;
	char who[48];

	if (!mm) {
		why = "its address space is gone";
	} else if (mmn_pgtable_walk(mm, addr, &w) || !mmn_pte_present(w.entry)) {
		why = "the primary entry is not present";
	} else if (w.pfn != pfn) {
		why = "the primary entry maps another frame";
	} else if (w.gen != gen) {
		why = "the frame was freed and re-used since";
	} else if (write && !mmn_pte_write(w.entry)) {
		why = "it allows stores the primary entry forbids";
	}
	if (!why)
		return;
	q->stale++;
	if (q->who)
		snprintf(who, sizeof(who), "%s", q->who);
	else
		snprintf(who, sizeof(who), "cpu%d TLB", q->cpu);
	{
		struct mmn_violation v = {
			.kind = MMN_VIOL_STALE_TRANSLATION, .actor_id = -1, .addr = addr,
			.pfn = pfn, .gen_used = gen, .gen_now = mmn_page_gen(q->sim, pfn),
		};
		char msg[160];

		snprintf(msg, sizeof(msg), "stale translation in %s: %s", who, why);
		v.msg = msg;
		mmn_report(q->sim, &v);
	}
}

static void emit_secondary(void *cookie, const struct mmn_secondary_entry *e)
{
	struct quiescent *q = cookie;

	check_one(q, e->mm, e->addr & MMN_PAGE_MASK, e->pfn, e->gen, e->write);
}

static struct mmn_mm *mm_by_id(struct mmn_sim *sim, unsigned int id)
{
	struct mmn_mm *found = NULL;

	mmn_raw_lock(&sim->mm_list_lock);
	for (struct mmn_mm *mm = sim->mm_list; mm; mm = mm->next)
		if (mm->id == id)
			found = mm;
	mmn_raw_unlock(&sim->mm_list_lock);
	return found;
}

static void emit_cpu(void *arg, const struct mmn_tlb_entry_dump *e)
{
	struct quiescent *q = arg;
	struct mmn_mm *mm = mm_by_id(q->sim, e->mm_id);

	q->cpu = e->cpu;
	/* A 2 MiB entry: check its first subpage against the PMD leaf. */
	check_one(q, mm, e->addr, e->pfn, e->gen, e->write);
}

long mmn_check_quiescent(struct mmn_sim *sim)
{
	struct quiescent q = { .sim = sim };
	struct mmn_secondary_reg *copy = NULL;
	size_t n = 0, i = 0;

	if (!sim)
		return -EINVAL;
	if (mmn__det_last_run_unwound(sim))
		return -ESTALE; /* void: operations were cut short */
	mmn_tlb_for_each_entry(sim, emit_cpu, &q);
	/* Copy the registry: the iterators run without the raw lock, as they
	 * may take the listeners' own (sleeping) locks. */
	mmn_raw_lock(&sim->check.reg_lock);
	for (struct mmn_secondary_reg *r = sim->check.secondaries; r; r = r->next)
		n++;
	copy = n ? malloc(n * sizeof(*copy)) : NULL;
	for (struct mmn_secondary_reg *r = sim->check.secondaries; copy && r; r = r->next)
		copy[i++] = *r;
	mmn_raw_unlock(&sim->check.reg_lock);
	if (n && !copy)
		return -ENOMEM;
	for (i = 0; i < n; i++) {
		q.who = copy[i].name;
		copy[i].iter(copy[i].ctx, emit_secondary, &q);
	}
	free(copy);
	return q.stale;
}
