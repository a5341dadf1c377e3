// SPDX-License-Identifier: MIT
/*
 * The deadlock report of the deterministic backend: with no runnable actor
 * left and some not ended, the actor that blocked (or ended) last reports the
 * wait-for cycle ("a waits for lock X held by b; b waits for ...") or, with
 * no cycle, who waits for what; the detail has one line per blocked actor.
 */
#include <stdarg.h>
#include <stdio.h>

#include <mmnsim/sched.h>

#include "det.h"

const char *mmn__det_wait_text(int what)
{
	switch (what) {
	case SYNC_DET_W_LOCK:
		return "lock";
	case SYNC_DET_W_READ:
		return "rwsem (read)";
	case SYNC_DET_W_WRITE:
		return "rwsem (write)";
	case SYNC_DET_W_GP:
		return "SRCU grace period of";
	case SYNC_DET_W_GP_BUSY:
		return "the grace period in progress of";
	case SYNC_DET_W_BARRIER:
		return "SRCU callbacks (srcu_barrier) of";
	case SYNC_DET_W_CB_IDLE:
		return "call_srcu work";
	case SYNC_DET_W_COMPLETION:
		return "completion";
	case SYNC_DET_W_WAITQUEUE:
		return "wait queue";
	case SYNC_DET_W_SEQCOUNT:
		return "seqcount writer of";
	case SYNC_DET_W_JOIN:
		return "the end of actor";
	default:
		return "?";
	}
}

/* Whether @h, an entry of some actor's held list, is what @w waits for. */
static bool det_holds(const struct sync_det_held *h, const struct mmn_actor *w)
{
	if (h->obj != w->det.wait_holder)
		return false;
	if (w->det.wait_what == SYNC_DET_W_GP)
		return h->kind == SYNC_KIND_SRCU && h->idx == w->det.wait_idx;
	return h->kind != SYNC_KIND_SRCU;
}

/* The actors @w waits for, as text; returns the first (NULL: none known). */
static struct mmn_actor *det_holders(struct sync_det *d, const struct mmn_actor *w, char *buf,
				     size_t len)
{
	struct mmn_actor *first = NULL;
	size_t n = 0;

	buf[0] = '\0';
	if (w->det.wait_what == SYNC_DET_W_JOIN) {
		first = (struct mmn_actor *)w->det.wait_holder;
		snprintf(buf, len, "%s", first->name);
		return first;
	}
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		for (int j = 0; j < a->det.nheld; j++) {
			const struct sync_det_held *h = &a->det.held[j];
			int wr;

			if (!det_holds(h, w))
				continue;
			wr = snprintf(buf + n, len - n, "%s%s%s", n ? ", " : "", a->name,
				      h->kind == SYNC_KIND_RWSEM ? (h->read ? " (read)" : " (write)")
								 : "");
			if (wr > 0 && (size_t)wr < len - n)
				n += (size_t)wr;
			if (!first)
				first = a;
			break;
		}
	}
	if (!first)
		snprintf(buf, len, "nobody (no actor can end this wait)");
	return first;
}

static void det_append(char *buf, size_t len, size_t *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void det_append(char *buf, size_t len, size_t *n, const char *fmt, ...)
{
	va_list ap;
	int w;

	if (*n >= len)
		return;
	va_start(ap, fmt);
	w = vsnprintf(buf + *n, len - *n, fmt, ap);
	va_end(ap);
	if (w > 0)
		*n = (size_t)w < len - *n ? *n + (size_t)w : len - 1;
}

/*
 * Describe the deadlock: @msg gets the wait-for cycle (or the stuck actors
 * when there is none), @detail one line per blocked actor.
 */
static void det_deadlock_text(struct sync_det *d, char *msg, size_t mlen, char *detail,
			      size_t dlen)
{
	struct mmn_actor *start = NULL, *x;
	char holders[256];
	size_t n = 0, m = 0;

	detail[0] = msg[0] = '\0';
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (a->det.state != SYNC_DET_BLOCKED)
			continue;
		if (a->det.daemon && a->det.wait_what == SYNC_DET_W_CB_IDLE)
			continue;
		det_holders(d, a, holders, sizeof(holders));
		if (a->det.wait_what == SYNC_DET_W_JOIN)
			det_append(detail, dlen, &n, "%s waits for the end of actor %s\n", a->name,
				   a->det.wait_name);
		else
			det_append(detail, dlen, &n, "%s waits for %s %s, held by %s\n", a->name,
				   mmn__det_wait_text(a->det.wait_what), a->det.wait_name, holders);
		if (!start)
			start = a;
	}
	/* Follow "waits for a holder" edges from the first blocked actor; a
	 * revisit closes the cycle (marked by position on the path). */
	{
		int seen[64];
		struct mmn_actor *path[64];
		int np = 0, cyc = -1;

		for (unsigned int i = 0; i < 64; i++)
			seen[i] = -1;
		for (x = start; x && np < 64; ) {
			struct mmn_actor *h;

			if (x->det.idx < 64 && seen[x->det.idx] >= 0) {
				cyc = seen[x->det.idx];
				break;
			}
			if (x->det.state != SYNC_DET_BLOCKED)
				break;
			if (x->det.idx < 64)
				seen[x->det.idx] = np;
			path[np++] = x;
			h = det_holders(d, x, holders, sizeof(holders));
			x = h;
		}
		if (cyc >= 0) {
			det_append(msg, mlen, &m, "wait-for cycle: ");
			for (int i = cyc; i < np; i++) {
				det_holders(d, path[i], holders, sizeof(holders));
				det_append(msg, mlen, &m, "%s%s waits for %s %s held by %s",
					   i > cyc ? "; " : "", path[i]->name,
					   mmn__det_wait_text(path[i]->det.wait_what),
					   path[i]->det.wait_name, holders);
			}
		} else if (start) {
			det_holders(d, start, holders, sizeof(holders));
			det_append(msg, mlen, &m,
				   "no runnable actor, no cycle: %s waits for %s %s, held by %s",
				   start->name, mmn__det_wait_text(start->det.wait_what),
				   start->det.wait_name, holders);
		} else {
			det_append(msg, mlen, &m, "no runnable actor");
		}
	}
}

void mmn__det_report_deadlock(struct sync_det *d, struct mmn_actor *me)
{
	char msg[256], detail[4096];
	struct mmn_violation v = {
		.kind = MMN_VIOL_DEADLOCK,
		.actor_id = me->det.idx >= 0 ? me->id : -1,
		.actor_name = me->name,
		.op = me->context,
		.msg = msg,
		.detail = detail,
	};

	det_deadlock_text(d, msg, sizeof(msg), detail, sizeof(detail));
	mmn__det_trace(d, "%6lu %-8s %-16s %s\n", d->steps, me->name, "deadlock", msg);
	d->outcome = MMN_OUTCOME_DEADLOCK;
	/* The handler runs in this actor's context, without our
	 * mutex; nobody else runs meanwhile. */
	d->reporting = true;
	pthread_mutex_unlock(&d->m);
	mmn_report(me->sim, &v);
	pthread_mutex_lock(&d->m);
	d->reporting = false;
}
