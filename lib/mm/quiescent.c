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
#include <string.h>

#include "mm/mm_internal.h"

static int q_register(struct mmn_sim *sim, const char *name, mmn_secondary_iter_fn iter,
		      mmn_secondary_iter_block_fn iter_block, void *ctx, unsigned int told_mask)
{
	struct mmn_secondary_reg *r;
	int err = 0;

	r = calloc(1, sizeof(*r));
	if (!r)
		return -ENOMEM;
	r->name = name;
	r->iter = iter;
	r->iter_block = iter_block;
	r->ctx = ctx;
	r->told_mask = told_mask;
	mmn_raw_lock(&sim->check.reg_lock);
	for (struct mmn_secondary_reg *p = sim->check.secondaries; p; p = p->next)
		if (p->ctx == ctx)
			err = -EEXIST;
	if (!err) {
		r->next = sim->check.secondaries;
		sim->check.secondaries = r;
		/* From now on invalidations in flight are tracked (inflight.c). */
		atomic_fetch_add_explicit(&sim->check.nr_links, 1, memory_order_relaxed);
	}
	mmn_raw_unlock(&sim->check.reg_lock);
	if (err)
		free(r);
	return err;
}

int mmn_check_register_secondary(struct mmn_sim *sim, const char *name,
				 mmn_secondary_iter_fn iter, void *ctx)
{
	if (!sim || !name || !iter || !ctx)
		return -EINVAL;
	return q_register(sim, name, iter, NULL, ctx, MMN__TOLD_START | MMN__TOLD_PAGE);
}

int mmn_check_register_secondary_blocks(struct mmn_sim *sim, const char *name,
					mmn_secondary_iter_block_fn iter, void *ctx,
					enum mmn_secondary_told told)
{
	unsigned int mask;

	if (!sim || !name || !iter || !ctx)
		return -EINVAL;
	if (told == MMN_SECONDARY_TOLD_AT_START)
		mask = MMN__TOLD_START | MMN__TOLD_PAGE;
	else if (told == MMN_SECONDARY_TOLD_AT_TLB_FLUSH)
		mask = MMN__TOLD_TLB | MMN__TOLD_PAGE;
	else
		return -EINVAL;
	return q_register(sim, name, NULL, iter, ctx, mask);
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
			atomic_fetch_sub_explicit(&sim->check.nr_links, found->nr_subs + 1,
						  memory_order_relaxed);
			break;
		}
	}
	mmn_raw_unlock(&sim->check.reg_lock);
	if (found)
		free(found->subs);
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

static bool q_block_ok(const struct mmn_secondary_block *b)
{
	return (b->size == MMN_PAGE_SIZE || b->size == MMN_PMD_SIZE || b->size == MMN_PUD_SIZE) &&
	       !(b->addr & (b->size - 1));
}

/* A block: each of its 4 KiB pages against the primary, as if one entry
 * each (a block whose frames partly went stale is caught page by page). */
static void emit_secondary_block(void *cookie, const struct mmn_secondary_block *b)
{
	struct quiescent *q = cookie;

	if (!q_block_ok(b)) {
		q->stale++;
		mmn_reportf(q->sim, MMN_VIOL_STALE_TRANSLATION, b->addr, b->pfn,
			    "stale translation in %s: a block of size 0x%lx at 0x%lx is not a "
			    "naturally aligned 4 KiB, 2 MiB or 1 GiB block",
			    q->who, b->size, b->addr);
		return;
	}
	for (unsigned long off = 0; off < b->size; off += MMN_PAGE_SIZE)
		check_one(q, b->mm, b->addr + off, b->pfn + off / MMN_PAGE_SIZE, b->gen, b->write);
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
		if (copy[i].iter_block)
			copy[i].iter_block(copy[i].ctx, emit_secondary_block, &q);
		else
			copy[i].iter(copy[i].ctx, emit_secondary, &q);
	}
	free(copy);
	return q.stale;
}

/* ------------------------------------------------------------------ */
/* Stale translations at access time                                   */
/* ------------------------------------------------------------------ */

/*
 * What the primary maps at @addr for software now: a present or PROT_NONE
 * entry, or a device-private or device-exclusive one (their frame), a PTE or
 * a PMD leaf. Read under walk_lock as the hardware walker reads it, without
 * its scheduling point: the check adds no step to any schedule.
 */
static bool q_primary(struct mmn_mm *mm, unsigned long addr, unsigned long *pfn, bool *write)
{
	struct mmn_walk w;
	mmn_pte_t e;

	if (addr >= MMN_TASK_SIZE)
		return false;
	mmn_raw_lock(&mm->walk_lock);
	mmn_pt_walk_raw(mm, addr, &w);
	mmn_raw_unlock(&mm->walk_lock);
	e = w.entry;
	if (w.level == MMN_PT_NONE || mmn_pte_none(e))
		return false;
	if (mmn_pte_mapped(e)) {
		*write = mmn_pte_write(e);
	} else if (mmn_pte_device(e)) {
		*write = mmn_pte_device_write(e);
	} else {
		return false; /* swap, migration, hwpoison: no frame mapped */
	}
	*pfn = mmn_pte_pfn(e);
	if (w.level == MMN_PT_PMD)
		*pfn += (addr & ~MMN_PMD_MASK) >> MMN_PAGE_SHIFT;
	return true;
}

static void q_report_access(struct mmn_sim *sim, const struct mmn__check_excuse *x,
			    const struct mmn_secondary_block *t, unsigned long addr,
			    unsigned long used, bool mapped, unsigned long now, bool write)
{
	struct mmn_violation v = {
		.kind = MMN_VIOL_STALE_TRANSLATION, .actor_id = -1, .addr = addr, .pfn = used,
		.gen_used = t->gen, .gen_now = mmn_page_gen(sim, used),
	};
	char frame[48], inval[96], msg[400];

	if (!mapped)
		snprintf(frame, sizeof(frame), "maps no frame");
	else if (now == used)
		snprintf(frame, sizeof(frame), "maps it read-only");
	else
		snprintf(frame, sizeof(frame), "maps frame %lu", now);
	if (x->inflight)
		snprintf(inval, sizeof(inval), "%s [0x%lx, 0x%lx), already told", x->event,
			 x->start, x->end);
	else
		snprintf(inval, sizeof(inval), "none");
	snprintf(msg, sizeof(msg),
		 "stale translation at access by %s: %s of 0x%lx through frame %lu (a 0x%lx "
		 "block), the primary %s; invalidation in flight: %s",
		 x->name, write ? "store" : "load", addr, used, t->size, frame, inval);
	v.msg = msg;
	mmn_report(sim, &v);
}

int mmn_check_secondary_access(struct mmn_sim *sim, void *ctx,
			       const struct mmn_secondary_block *t, unsigned long addr, bool write)
{
	struct mmn__check_excuse x;
	unsigned long used, now = 0;
	bool dead, mapped, now_write = false;
	int err;

	if (!sim || !ctx || !t || !t->mm || !q_block_ok(t) || addr < t->addr ||
	    addr - t->addr >= t->size)
		return -EINVAL;
	/* The primary first, the invalidations in flight second: an
	 * invalidation opens before its first entry changes and is told (the
	 * listener's callback returned, which waits for the access holding
	 * the listener's lock) before it closes, so an entry seen changed here
	 * is still covered by its record below. The other order races with a
	 * native operator: no record yet, then the entry cleared. */
	used = t->pfn + ((addr - t->addr) >> MMN_PAGE_SHIFT);
	dead = mmn__mm_dead(t->mm);
	mapped = !dead && q_primary(t->mm, addr, &now, &now_write);
	err = mmn__check_excuse(&sim->check, ctx, t->mm, addr, &x);
	if (err)
		return err;
	/* An access after the address space went away is the listener's
	 * release protocol, not a translation going stale. */
	if (dead)
		return 0;
	if (mapped && now == used && (!write || now_write))
		return 0;
	/* Freed since: mmn_phys_access() reports the use-after-free. */
	if (!mmn_pfn_valid(sim, used) || mmn_page_gen(sim, used) != t->gen)
		return 0;
	/* A secondary flush of the frame is owed (<= 4.12 ->invalidate_page
	 * after the PTL drop, or ->invalidate_range in range_end): the
	 * listener has not been told yet. */
	if (atomic_load(&mmn_pfn_to_page(sim, mmn_compound_head(sim, used))->flags) &
	    MMN_PG_SECFLUSH_OWED)
		return 0;
	if (x.excused)
		return 0;
	/* Under a protection change (mprotect, NUMA hinting, soft-dirty) the
	 * primary entry is cleared and rewritten (ptep_modify_prot_start/
	 * commit) with the same frame: a load through a translation the
	 * listener kept read-only (HMM's downgrade) meets the transient none. */
	if (!mapped && !write && x.keeps_frames)
		return 0;
	/* make_device_exclusive() clears the entry and sets a device-exclusive
	 * entry to the same page (5.14-6.19 make_device_exclusive_range());
	 * the owning device's mirror skips its own EXCLUSIVE invalidation (as
	 * lib/test_hmm.c's does) and keeps using the page through the
	 * transient none, as it may once the exclusive entry is set. */
	if (!mapped && x.exclusive)
		return 0;
	q_report_access(sim, &x, t, addr, used, mapped, now, write);
	return 1;
}
