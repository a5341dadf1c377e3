// SPDX-License-Identifier: MIT
/*
 * Span and event lines of the text trace (sched.h: mmn_sched_span_begin(),
 * mmn_sched_span_end(), mmn_sched_event(), mmn_sched_note_free()): which
 * modelled kernel function the current actor is in, and what it did that a
 * reader of a race needs (a PTE cleared, a frame freed, a device access).
 *
 * None of them is a scheduling point: they write a line carrying the step
 * of the actor's last point and return, so a schedule, its choice list and
 * the points of its trace are the same with or without them. They write
 * only for the current actor of a traced deterministic run.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#include "det.h"

/* The run's tracer if @sim is in a traced deterministic run, else NULL. */
static struct sync_det *span_det(const struct mmn_sim *sim)
{
	struct sync_det *d;

	if (!sim || !sim->sync)
		return NULL;
	d = sim->sync->det;
	if (!d || !d->cfg.trace || d->reporting)
		return NULL;
	return d;
}

static void span_vevent(struct mmn_sim *sim, struct sync_det *d, const char *kind,
			const char *fmt, va_list ap)
{
	struct mmn_actor *a = mmn_actor_current(sim);
	char text[256];

	vsnprintf(text, sizeof(text), fmt, ap);
	for (char *c = text; *c; c++)
		if (*c == '\n')
			*c = ' '; /* one line per event */
	pthread_mutex_lock(&d->m);
	if (d->running && a && d->cur == a)
		mmn__det_trace(d, "%6lu %-8s %-16s %s\n", d->steps, a->name, kind, text);
	pthread_mutex_unlock(&d->m);
}

/* The run of @sim if it records for DPOR, else NULL. */
static struct sync_det *span_rec(const struct mmn_sim *sim)
{
	struct sync_det *d = sim && sim->sync ? sim->sync->det : NULL;

	return d && __atomic_load_n(&d->rec, __ATOMIC_RELAXED) ? d : NULL;
}

/* DPOR: the current step touches @frame (DET_FRAME_ID(); NULL: any frame). */
static void span_rec_frame(struct mmn_sim *sim, struct sync_det *d, const void *frame,
			   bool write)
{
	struct mmn_actor *a = mmn_actor_current(sim);

	pthread_mutex_lock(&d->m);
	if (d->running && a && d->cur == a)
		mmn__det_rec_touch(d, frame, DET_C_FRAME, write);
	pthread_mutex_unlock(&d->m);
}

/*
 * DPOR: a device's access, an event of kind "access" whose text is "read
 * ..." or "write ..." and names the frame as "pfn N": it reads or writes
 * frame N (without a pfn in the text: writes any frame).
 */
static void span_rec_access(struct mmn_sim *sim, struct sync_det *d, const char *fmt, va_list ap)
{
	const void *frame = NULL;
	bool write = true;
	unsigned long pfn;
	const char *at;
	char text[256];

	vsnprintf(text, sizeof(text), fmt, ap);
	at = strstr(text, " pfn ");
	if (at && sscanf(at, " pfn %lu", &pfn) == 1) {
		frame = DET_FRAME_ID(pfn);
		write = strncmp(text, "read ", 5) != 0;
	}
	span_rec_frame(sim, d, frame, write);
}

void mmn__det_event(struct mmn_sim *sim, const char *kind, const char *fmt, ...)
{
	struct sync_det *d = span_det(sim);
	va_list ap;

	if (!d)
		return;
	va_start(ap, fmt);
	span_vevent(sim, d, kind, fmt, ap);
	va_end(ap);
}

void mmn_sched_event(struct mmn_sim *sim, const char *kind, const char *fmt, ...)
{
	struct sync_det *d;
	va_list ap;

	if (kind && fmt && !strcmp(kind, "access") && (d = span_rec(sim))) {
		va_start(ap, fmt);
		span_rec_access(sim, d, fmt, ap);
		va_end(ap);
	}
	d = span_det(sim);
	if (!d || !kind || !fmt)
		return;
	va_start(ap, fmt);
	span_vevent(sim, d, kind, fmt, ap);
	va_end(ap);
}

void mmn_sched_span_begin(struct mmn_sim *sim, const char *name, unsigned long start,
			  unsigned long end, const char *detail)
{
	if (!span_det(sim) || !name)
		return;
	if (!end)
		mmn__det_event(sim, "begin", "%s%s%s", name, detail ? " " : "", detail ? detail : "");
	else
		mmn__det_event(sim, "begin", "%s [%#lx, %#lx)%s%s", name, start, end,
			       detail ? " " : "", detail ? detail : "");
}

void mmn_sched_span_end(struct mmn_sim *sim, const char *name)
{
	if (span_det(sim) && name)
		mmn__det_event(sim, "end", "%s", name);
}

const struct det_free *mmn__det_free_of(const struct sync_det *d, unsigned long pfn)
{
	for (size_t i = 0; i < d->nfrees; i++)
		if (d->frees[i].pfn == pfn)
			return &d->frees[i];
	return NULL;
}

/* Remember that @a freed @pfn at the current step (one entry per frame: a
 * working set has few frames, and the lookup runs only on a violation). */
static void span_remember_free(struct sync_det *d, const struct mmn_actor *a, unsigned long pfn,
			       uint32_t gen)
{
	struct det_free *f = (struct det_free *)mmn__det_free_of(d, pfn);

	if (!f) {
		if (d->nfrees == d->cap_frees) {
			size_t cap = d->cap_frees ? d->cap_frees * 2 : 64;
			struct det_free *n = realloc(d->frees, cap * sizeof(*n));

			if (!n)
				return; /* out of memory: the cause goes unnamed */
			d->frees = n;
			d->cap_frees = cap;
		}
		f = &d->frees[d->nfrees++];
		f->pfn = pfn;
	}
	f->step = d->steps;
	f->gen = gen;
	snprintf(f->actor, sizeof(f->actor), "%s", a->name);
}

void mmn_sched_note_free(struct mmn_sim *sim, unsigned long pfn, uint32_t gen)
{
	struct sync_det *d;
	struct mmn_actor *a;

	/* The free stack's order decides what a later allocation gets, and a
	 * huge page's tails go with its head, which this layer cannot tell:
	 * a free writes any frame. */
	d = span_rec(sim);
	if (d)
		span_rec_frame(sim, d, NULL, true);
	d = span_det(sim);
	if (!d)
		return;
	a = mmn_actor_current(sim);
	pthread_mutex_lock(&d->m);
	if (d->running && a && d->cur == a) {
		mmn__det_trace(d, "%6lu %-8s %-16s pfn %lu gen %u\n", d->steps, a->name, "free", pfn,
			       gen);
		span_remember_free(d, a, pfn, gen);
	}
	pthread_mutex_unlock(&d->m);
}
