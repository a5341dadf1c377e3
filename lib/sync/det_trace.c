// SPDX-License-Identifier: MIT
/*
 * The text trace of a deterministic run: one line per scheduling point
 * ("STEP ACTOR KIND OBJECT ADDR -> NEXT[MARK]") or event ("STEP ACTOR KIND
 * [TEXT]"), objects numbered by first appearance, and the violations the
 * check layer hands to its observer (see sched.h for the line shapes).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmnsim/sched.h>

#include "det.h"

void mmn__det_trace(struct sync_det *d, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (!d->cfg.trace)
		return;
	for (;;) {
		size_t room = d->trace_cap - d->trace_len;

		va_start(ap, fmt);
		w = vsnprintf(d->trace + d->trace_len, room, fmt, ap);
		va_end(ap);
		if (w < 0)
			return;
		if ((size_t)w < room) {
			d->trace_len += (size_t)w;
			return;
		}
		{
			size_t cap = d->trace_cap * 2 + (size_t)w + 1;
			char *t = realloc(d->trace, cap);

			if (!t) {
				/* Out of memory: the trace stops growing. */
				d->trace[d->trace_len] = '\0';
				return;
			}
			d->trace = t;
			d->trace_cap = cap;
		}
	}
}

static size_t det_hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

/* Run-local number of @obj, by first appearance: 0 for NULL. */
unsigned int mmn__det_obj_id(struct sync_det *d, const void *obj)
{
	size_t i;

	if (!obj)
		return 0;
	if ((d->nobjs + 1) * 2 > d->objs_cap) {
		size_t cap = d->objs_cap ? d->objs_cap * 2 : 256;
		struct det_obj *n = calloc(cap, sizeof(*n));

		if (!n)
			return 0;
		for (size_t j = 0; j < d->objs_cap; j++) {
			if (!d->objs[j].obj)
				continue;
			i = det_hash_ptr(d->objs[j].obj) & (cap - 1);
			while (n[i].obj)
				i = (i + 1) & (cap - 1);
			n[i] = d->objs[j];
		}
		free(d->objs);
		d->objs = n;
		d->objs_cap = cap;
	}
	i = det_hash_ptr(obj) & (d->objs_cap - 1);
	while (d->objs[i].obj) {
		if (d->objs[i].obj == obj)
			return d->objs[i].id;
		i = (i + 1) & (d->objs_cap - 1);
	}
	d->objs[i].obj = obj;
	d->objs[i].id = (unsigned int)++d->nobjs;
	return d->objs[i].id;
}

/* "name#id" for the trace; just the name for a NULL object. */
const char *mmn__det_label(struct sync_det *d, const void *obj, const char *name, char *buf,
			   size_t len)
{
	if (!obj)
		snprintf(buf, len, "%s", name ? name : "-");
	else
		snprintf(buf, len, "%s#%u", name ? name : "-", mmn__det_obj_id(d, obj));
	return buf;
}

static void det_trace_event(struct mmn_sim *sim, const char *kind, const char *msg)
{
	struct sync_det *d = sim->sync ? sim->sync->det : NULL;
	struct mmn_actor *a;

	/* While a deadlock is being reported its line is already in the
	 * trace, and the reporter does not hold d->m: nothing to add. */
	if (!d || !d->cfg.trace || d->reporting)
		return;
	a = mmn_actor_current(sim);
	pthread_mutex_lock(&d->m);
	if (d->running && a && d->cur == a)
		mmn__det_trace(d, "%6lu %-8s %-16s %s\n", d->steps, a->name, kind, msg ? msg : "");
	pthread_mutex_unlock(&d->m);
}

/* ", cause: step S ACTOR freed pfn N gen G" for a use of a freed frame whose
 * free this run traced, else "". Called under d->m. */
static void det_cause(struct sync_det *d, const struct mmn_violation *v, char *buf, size_t len)
{
	const struct det_free *f;

	buf[0] = '\0';
	if (v->kind != MMN_VIOL_USE_AFTER_FREE && v->kind != MMN_VIOL_STALE_TRANSLATION)
		return;
	if (!v->pfn || !(f = mmn__det_free_of(d, v->pfn)))
		return;
	snprintf(buf, len, "; cause: step %lu %s freed pfn %lu gen %u", f->step, f->actor, f->pfn,
		 f->gen);
}

/* lib/check's observer: a violation is an event line of the trace (a
 * deadlock has its own line already, written by mmn__det_reschedule()),
 * with the address, frame and generations it concerns, and for a use of a
 * freed frame the step that freed it. */
void mmn__det_observe(struct mmn_sim *sim, const struct mmn_violation *v)
{
	struct sync_det *d = sim->sync ? sim->sync->det : NULL;
	char line[480], at[96] = "", cause[96] = "";
	int n = 0;

	if (v->kind == MMN_VIOL_DEADLOCK || !d || !d->cfg.trace)
		return;
	/* The fields of the stderr line (lib/check), in its words. */
	if (v->addr)
		n = snprintf(at, sizeof(at), " [addr 0x%lx", v->addr);
	if (v->pfn || v->gen_used || v->gen_now)
		n += snprintf(at + n, sizeof(at) - (size_t)n, "%spfn %lu gen %u->%u",
			      n ? ", " : " [", v->pfn, v->gen_used, v->gen_now);
	if (n)
		snprintf(at + n, sizeof(at) - (size_t)n, "]");
	pthread_mutex_lock(&d->m);
	det_cause(d, v, cause, sizeof(cause));
	pthread_mutex_unlock(&d->m);
	snprintf(line, sizeof(line), "%s: %s%s%s", mmn_violation_kind_name(v->kind),
		 v->msg ? v->msg : "", at, cause);
	for (char *c = line; *c; c++)
		if (*c == '\n')
			*c = ' '; /* one trace line per event */
	det_trace_event(sim, "violation", line);
}

static const char *det_outcome_name(enum mmn_sched_outcome o)
{
	switch (o) {
	case MMN_OUTCOME_OK:
		return "ok";
	case MMN_OUTCOME_DEADLOCK:
		return "deadlock";
	case MMN_OUTCOME_BUDGET:
		return "budget";
	default:
		return "?";
	}
}

void mmn__det_trace_outcome(struct sync_det *d)
{
	mmn__det_trace(d, "%6lu %-8s %-16s %s steps=%lu choices=%zu preemptions=%lu unwound=%u\n",
		       d->steps, "(ctl)", "outcome", det_outcome_name(d->outcome), d->steps,
		       d->nchoices, d->preemptions, d->unwound);
}

const char *mmn_sched_trace(const struct mmn_sim *sim, size_t *len)
{
	struct sync_det *d;

	if (!sim || !sim->sync->det) {
		if (len)
			*len = 0;
		return "";
	}
	d = sim->sync->det;
	if (len)
		*len = d->trace_len;
	return d->trace;
}
