// SPDX-License-Identifier: MIT
/*
 * What each registered listener has been told: the invalidations in flight
 * (from their start to their end) and, per listener, the last callbacks the
 * notifier core delivered to its linked subscriptions. The access-time
 * check (mmn_check_secondary_access(), lib/mm/quiescent.c) asks here
 * whether an access through a translation the primary no longer has is
 * still inside an invalidation the listener has not heard about.
 *
 * Bookkeeping of the oracle, not of the model: a raw lock, no scheduling
 * point, nothing in the trace. Kept only while some listener is registered,
 * so a simulation without listeners pays one relaxed load per call.
 */
#include <errno.h>
#include <stdlib.h>

#include "internal.h"

static bool inf_active(struct mmn_check_state *c)
{
	return atomic_load_explicit(&c->nr_links, memory_order_relaxed) != 0;
}

/* Free @v (under reg_lock). */
static void inf_free(struct mmn_check_state *c, struct mmn__inval *v)
{
	v->used = false;
	atomic_fetch_sub_explicit(&c->nr_open, 1, memory_order_relaxed);
}

void mmn__check_inval_open(struct mmn_check_state *c, const void *mm, unsigned long start,
			   unsigned long end, const char *event, unsigned int flags)
{
	struct mmn__inval *slot = NULL, *oldest = NULL;

	if (!inf_active(c))
		return;
	mmn_raw_lock(&c->reg_lock);
	for (unsigned int i = 0; i < MMN__INVAL_MAX && !slot; i++) {
		struct mmn__inval *v = &c->inval[i];

		if (!v->used)
			slot = v;
		else if (v->ended && (!oldest || v->seq < oldest->seq))
			oldest = v;
	}
	if (!slot && oldest) { /* the oldest ended one: its flush is long due */
		inf_free(c, oldest);
		slot = oldest;
	}
	if (slot) {
		*slot = (struct mmn__inval){ .mm = mm, .start = start, .end = end, .event = event,
					     .owner = mmn__local(), .seq = ++c->seq, .used = true,
					     .keeps_frames = flags & MMN__INVAL_KEEPS_FRAMES,
					     .exclusive = flags & MMN__INVAL_EXCLUSIVE };
	} else {
		c->inval_overflow++; /* untracked: excuses every access until it closes */
	}
	atomic_fetch_add_explicit(&c->nr_open, 1, memory_order_relaxed);
	mmn_raw_unlock(&c->reg_lock);
}

/* Listeners told at the TLB flush that have a subscription linked. */
static unsigned int inf_tlb_listeners(const struct mmn_check_state *c)
{
	unsigned int n = 0;

	for (const struct mmn_secondary_reg *r = c->secondaries; r; r = r->next)
		n += (r->told_mask & MMN__TOLD_TLB) && r->nr_subs;
	return n;
}

void mmn__check_inval_close(struct mmn_check_state *c, const void *mm, unsigned long start,
			    unsigned long end)
{
	const void *owner = mmn__local();
	struct mmn__inval *found = NULL;

	if (!atomic_load_explicit(&c->nr_open, memory_order_relaxed))
		return;
	mmn_raw_lock(&c->reg_lock);
	/* The actor's latest matching one: nested ranges close innermost first. */
	for (unsigned int i = 0; i < MMN__INVAL_MAX; i++) {
		struct mmn__inval *v = &c->inval[i];

		if (v->used && !v->ended && v->owner == owner && v->mm == mm &&
		    v->start == start && v->end == end && (!found || v->seq > found->seq))
			found = v;
	}
	if (found) {
		found->pending = inf_tlb_listeners(c);
		found->ended = true;
		if (found->nr_covered >= found->pending)
			inf_free(c, found);
	} else if (c->inval_overflow) {
		c->inval_overflow--;
		atomic_fetch_sub_explicit(&c->nr_open, 1, memory_order_relaxed);
	} /* else: it opened before the first link and was never tracked */
	mmn_raw_unlock(&c->reg_lock);
}

/*
 * Listener @r's TLB flush @t covers the whole of @v: @v needs @r no more;
 * an ended @v that no listener needs goes.
 */
static void inf_covered(struct mmn_check_state *c, const struct mmn_secondary_reg *r,
			const struct mmn__told *t)
{
	for (unsigned int i = 0; i < MMN__INVAL_MAX; i++) {
		struct mmn__inval *v = &c->inval[i];
		bool seen = false;

		if (!v->used || v->mm != t->mm || t->start > v->start || t->end < v->end)
			continue;
		for (unsigned int k = 0; k < v->nr_covered && !seen; k++)
			seen = v->covered[k] == r;
		if (!seen && v->nr_covered < MMN__INVAL_COVERED)
			v->covered[v->nr_covered++] = r;
		if (v->ended && v->nr_covered >= v->pending)
			inf_free(c, v);
	}
}

void mmn__check_told(struct mmn_check_state *c, const void *sub, const void *mm,
		     unsigned long start, unsigned long end, unsigned int kind)
{
	if (!inf_active(c))
		return;
	mmn_raw_lock(&c->reg_lock);
	for (struct mmn_secondary_reg *r = c->secondaries; r; r = r->next) {
		struct mmn__told *t;
		bool linked = false;

		for (unsigned int i = 0; i < r->nr_subs && !linked; i++)
			linked = r->subs[i] == sub;
		if (!linked)
			continue;
		if (!(r->told_mask & kind))
			break;
		t = &r->told[r->nr_told++ % MMN__TOLD_RING];
		*t = (struct mmn__told){ .mm = mm, .start = start, .end = end, .seq = ++c->seq };
		if (r->told_mask & MMN__TOLD_TLB)
			inf_covered(c, r, t);
		break;
	}
	mmn_raw_unlock(&c->reg_lock);
}

/*
 * Whether @r heard about @v at @addr after @v opened: 1 yes, 0 no, -1 when
 * the ring no longer reaches back to @v's opening (it may have).
 */
static int inf_told(const struct mmn_secondary_reg *r, const struct mmn__inval *v,
		    unsigned long addr)
{
	unsigned long n = r->nr_told < MMN__TOLD_RING ? r->nr_told : MMN__TOLD_RING;

	for (unsigned long k = 1; k <= n; k++) {
		const struct mmn__told *t = &r->told[(r->nr_told - k) % MMN__TOLD_RING];

		if (t->seq < v->seq)
			return 0; /* older than the opening, and so are the rest */
		if (t->mm == v->mm && t->start <= addr && addr < t->end)
			return 1;
	}
	return r->nr_told > MMN__TOLD_RING ? -1 : 0;
}

/*
 * Whether @v excuses @r at @addr: @r was not told about it yet. A listener
 * told at start heard of an ended one; for an open one whose telling the
 * ring lost, the check gives the benefit of the doubt (it never reports
 * what it cannot prove), for an ended one it assumes the flush came.
 */
static bool inf_excuses(const struct mmn_secondary_reg *r, const struct mmn__inval *v,
			unsigned long addr)
{
	int told;

	if (v->ended && !(r->told_mask & MMN__TOLD_TLB))
		return false;
	told = inf_told(r, v, addr);
	return told == 0 || (told < 0 && !v->ended);
}

int mmn__check_excuse(struct mmn_check_state *c, const void *ctx, const void *mm,
		      unsigned long addr, struct mmn__check_excuse *out)
{
	const struct mmn_secondary_reg *r;

	*out = (struct mmn__check_excuse){ .name = "?" };
	mmn_raw_lock(&c->reg_lock);
	for (r = c->secondaries; r && r->ctx != ctx; r = r->next)
		;
	if (!r) {
		mmn_raw_unlock(&c->reg_lock);
		return -ENOENT;
	}
	out->name = r->name;
	out->excused = c->inval_overflow != 0;
	for (unsigned int i = 0; i < MMN__INVAL_MAX && !out->excused; i++) {
		const struct mmn__inval *v = &c->inval[i];

		if (!v->used || v->mm != mm || addr < v->start || addr >= v->end)
			continue;
		out->inflight = true;
		out->keeps_frames |= v->keeps_frames && !v->ended;
		out->exclusive |= v->exclusive && !v->ended;
		out->event = v->event;
		out->start = v->start;
		out->end = v->end;
		out->excused = inf_excuses(r, v, addr);
	}
	mmn_raw_unlock(&c->reg_lock);
	return 0;
}

int mmn_check_secondary_link(struct mmn_sim *sim, void *ctx, const void *sub)
{
	struct mmn_check_state *c;
	struct mmn_secondary_reg *r;
	int err = 0;

	if (!sim || !ctx || !sub)
		return -EINVAL;
	c = &sim->check;
	mmn_raw_lock(&c->reg_lock);
	for (r = c->secondaries; r && r->ctx != ctx; r = r->next)
		;
	for (struct mmn_secondary_reg *p = c->secondaries; p && !err; p = p->next)
		for (unsigned int i = 0; i < p->nr_subs && !err; i++)
			err = p->subs[i] == sub ? -EEXIST : 0;
	if (!r)
		err = -ENOENT;
	if (!err && r->nr_subs == r->cap_subs) {
		unsigned int cap = r->cap_subs ? 2 * r->cap_subs : 4;
		const void **n = realloc(r->subs, cap * sizeof(*n));

		if (n) {
			r->subs = n;
			r->cap_subs = cap;
		} else {
			err = -ENOMEM;
		}
	}
	if (!err) {
		r->subs[r->nr_subs++] = sub;
		atomic_fetch_add_explicit(&c->nr_links, 1, memory_order_relaxed);
	}
	mmn_raw_unlock(&c->reg_lock);
	return err;
}

int mmn_check_secondary_unlink(struct mmn_sim *sim, void *ctx, const void *sub)
{
	struct mmn_check_state *c;
	struct mmn_secondary_reg *r;
	int err = -ENOENT;

	if (!sim || !ctx || !sub)
		return -EINVAL;
	c = &sim->check;
	mmn_raw_lock(&c->reg_lock);
	for (r = c->secondaries; r && r->ctx != ctx; r = r->next)
		;
	for (unsigned int i = 0; r && i < r->nr_subs; i++) {
		if (r->subs[i] != sub)
			continue;
		r->subs[i] = r->subs[--r->nr_subs];
		atomic_fetch_sub_explicit(&c->nr_links, 1, memory_order_relaxed);
		err = 0;
		break;
	}
	mmn_raw_unlock(&c->reg_lock);
	return err;
}
