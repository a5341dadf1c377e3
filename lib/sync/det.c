// SPDX-License-Identifier: MIT
/*
 * The deterministic backend of the sync layer: one actor runs at a time,
 * every scheduling point is a choice of the scheduler, blocking is virtual.
 *
 * Mechanism (measured in bench/bench_sched.c, see docs/exploration.md): one
 * host thread per actor and a token. The scheduler's mutex @m guards every
 * field below and each actor has a condition variable; the token holder
 * (@cur) is the only actor thread not parked. Handing the token over is
 *
 *   giver                                 taker (parked)
 *   lock(m); cur = taker                  lock(m)
 *   signal(taker.cv)                      while (cur != me) wait(me.cv, m)
 *   while (cur != me) wait(me.cv, m)      unlock(m) ... runs
 *
 * so everything the giver did happens before everything the taker does
 * (the mutex orders them): modelled data needs no further synchronisation,
 * and ThreadSanitizer sees it that way. Actors stay host threads, so the
 * thread-local state of the layers above (the notifier's start/end pairing,
 * the actor cache) keeps meaning "this actor"; and the sanitizers need no
 * fiber annotations. The calling thread of mmn_sched_run() is the
 * controller: it holds the token when @cur is NULL.
 *
 * Blocking: a waiting actor marks itself BLOCKED with a wake-up key (the
 * object), and gives the token away; mmn__det_wake(key) makes every actor
 * waiting on the key runnable again, and each re-checks its condition when
 * it next runs. With no runnable actor left the run is over: done when
 * only an idle SRCU helper remains, otherwise a deadlock, reported with the
 * wait-for cycle by the actor that blocked (or ended) last.
 *
 * End of a run: the controller unwinds every actor that has not ended (the
 * deadlocked ones, or all of them at budget exhaustion): it hands each the
 * token with @abort set; the actor's wait longjmps back to its start
 * routine, which releases what the actor holds (det_held) and ends the
 * thread. Nothing is leaked but what the interrupted operation had
 * allocated on the host heap itself.
 *
 * Raw locks (sync/internal.h) are never held across a scheduling point by
 * contract; a point passed with one held anyway makes no switch (switching
 * there could hang the host: the next actor may need that raw lock) and is
 * counted (mmn__det_raw_points()), and a virtual wait with one held is
 * reported (MMN_VIOL_DEADLOCK) and skipped, as it would otherwise hang.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#include "priv.h"

#define DET_MAX_DEPTH 32
#define DET_DEFAULT_STEPS 100000UL

enum det_back {
	DET_BACK_NONE = 0,
	DET_BACK_END,       /* no runnable actor: outcome says done or deadlock */
	DET_BACK_BUDGET,
	DET_BACK_UNWOUND,   /* an aborted actor has finished unwinding */
};

struct det_obj {
	const void *obj;
	unsigned int id;
};

struct sync_det {
	pthread_mutex_t m;
	pthread_cond_t ctl;          /* the controller waits here */
	bool running;                /* a run is in progress */
	bool reporting;              /* a deadlock report is being delivered */
	bool unwinding;              /* the run is over, its actors are unwound */
	struct mmn_actor *cur;       /* token holder; NULL: the controller */
	int back;                    /* enum det_back: why the token came back */

	struct mmn_actor **act;      /* the run's actors by index */
	struct mmn_actor **scratch;  /* runnable set, as big as @act */
	unsigned int nact, cap_act;
	unsigned int last_nact;      /* actors of the last run */
	struct mmn_actor *helper;    /* SRCU callback helper of this run */

	struct mmn_sched_config cfg;
	uint32_t *replay;            /* copy of cfg.replay */
	mmn_sched_body_fn body;
	void *body_arg;
	uint64_t rng[4];
	unsigned long pct_change[DET_MAX_DEPTH];
	unsigned int pct_nchange;

	unsigned long steps, preemptions, replay_misses, viol_start;
	unsigned int unwound;
	enum mmn_sched_outcome outcome;
	unsigned long raw_points;    /* atomic */

	/* choice points of the last run */
	uint32_t *choices;
	uint64_t *masks;             /* runnable actors (indices < 64) */
	int32_t *curs;               /* the current actor if runnable, else -1 */
	size_t nchoices, cap_choices;

	/* trace of the last run */
	char *trace;
	size_t trace_len, trace_cap;

	/* object numbering for the trace (open addressing) */
	struct det_obj *objs;
	size_t objs_cap, nobjs;

	/* call_srcu() queue, FIFO through head->priv[0] */
	struct mmn_rcu_head *cbq_head, *cbq_tail;
};

/* ------------------------------------------------------------------ */
/* Small helpers                                                       */
/* ------------------------------------------------------------------ */

static inline struct sync_det *det_of(const struct mmn_sim *sim)
{
	return sim->sync->det;
}

/* xoshiro256**, seeded through splitmix64: the run's only randomness. */
static uint64_t det_splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static inline uint64_t det_rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

static uint64_t det_rand(struct sync_det *d)
{
	uint64_t *s = d->rng;
	uint64_t r = det_rotl(s[1] * 5, 7) * 9;
	uint64_t t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = det_rotl(s[3], 45);
	return r;
}

/* Uniform in [0, n), n >= 1 (rejection keeps it unbiased). */
static uint64_t det_below(struct sync_det *d, uint64_t n)
{
	uint64_t lim = UINT64_MAX - UINT64_MAX % n, r;

	do {
		r = det_rand(d);
	} while (r >= lim);
	return r % n;
}

static void det_trace(struct sync_det *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void det_trace(struct sync_det *d, const char *fmt, ...)
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
static unsigned int det_obj_id(struct sync_det *d, const void *obj)
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
static const char *det_label(struct sync_det *d, const void *obj, const char *name, char *buf,
			     size_t len)
{
	if (!obj)
		snprintf(buf, len, "%s", name ? name : "-");
	else
		snprintf(buf, len, "%s#%u", name ? name : "-", det_obj_id(d, obj));
	return buf;
}

static bool det_record_choice(struct sync_det *d, uint32_t chosen, uint64_t mask, int32_t cur)
{
	if (d->nchoices == d->cap_choices) {
		size_t cap = d->cap_choices ? d->cap_choices * 2 : 1024;
		uint32_t *c = realloc(d->choices, cap * sizeof(*c));
		uint64_t *m;
		int32_t *k;

		if (!c)
			return false;
		d->choices = c;
		m = realloc(d->masks, cap * sizeof(*m));
		if (!m)
			return false;
		d->masks = m;
		k = realloc(d->curs, cap * sizeof(*k));
		if (!k)
			return false;
		d->curs = k;
		d->cap_choices = cap;
	}
	d->choices[d->nchoices] = chosen;
	d->masks[d->nchoices] = mask;
	d->curs[d->nchoices] = cur;
	d->nchoices++;
	return true;
}

/* ------------------------------------------------------------------ */
/* The scheduler (everything under d->m)                               */
/* ------------------------------------------------------------------ */

enum { DET_FORCED = 0, DET_CHOICE, DET_PREEMPT };

/*
 * Pick the next actor to run; @me is the token holder, runnable or not.
 * NULL when no actor is runnable. *@how says whether it was a choice point
 * (two or more runnable) and whether the choice preempted @me.
 */
static struct mmn_actor *det_pick(struct sync_det *d, struct mmn_actor *me, int *how)
{
	struct mmn_actor *cur = me && me->det.state == SYNC_DET_RUNNABLE ? me : NULL;
	struct mmn_actor *next = NULL;
	unsigned int n = 0;
	uint64_t mask = 0;

	*how = DET_FORCED;
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (a->det.state != SYNC_DET_RUNNABLE)
			continue;
		d->scratch[n++] = a;
		if (i < 64)
			mask |= 1ULL << i;
	}
	if (n == 0)
		return NULL;
	if (n == 1)
		return d->scratch[0];
	switch (d->cfg.strategy) {
	case MMN_STRATEGY_PCT:
		next = d->scratch[0];
		for (unsigned int i = 1; i < n; i++)
			if (d->scratch[i]->det.prio > next->det.prio)
				next = d->scratch[i];
		break;
	case MMN_STRATEGY_REPLAY: {
		size_t i = d->nchoices;

		next = cur ? cur : d->scratch[0];
		if (i < d->cfg.replay_len) {
			uint32_t want = d->replay[i];

			if (want < d->nact && d->act[want]->det.state == SYNC_DET_RUNNABLE)
				next = d->act[want];
			else
				d->replay_misses++;
		}
		break;
	}
	case MMN_STRATEGY_RANDOM:
	default:
		next = d->scratch[det_below(d, n)];
		break;
	}
	det_record_choice(d, (uint32_t)next->det.idx, mask, cur ? cur->det.idx : -1);
	*how = DET_CHOICE;
	if (cur && next != cur) {
		d->preemptions++;
		*how = DET_PREEMPT;
	}
	return next;
}

static const char *det_mark(int how)
{
	return how == DET_PREEMPT ? " !" : how == DET_CHOICE ? " *" : "";
}

/* Wait for the token; unwind if it came with the abort flag. */
static void det_wait_token(struct sync_det *d, struct mmn_actor *me)
{
	while (d->cur != me)
		pthread_cond_wait(&me->det.cv, &d->m);
	if (me->det.abort) {
		pthread_mutex_unlock(&d->m);
		longjmp(me->det.unwind, 1);
	}
}

/* Give the token to @next (NULL: the controller, with @back). */
static void det_give(struct sync_det *d, struct mmn_actor *next, int back)
{
	d->cur = next;
	if (next) {
		pthread_cond_signal(&next->det.cv);
	} else {
		d->back = back;
		pthread_cond_signal(&d->ctl);
	}
}

static const char *det_wait_text(int what)
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
				   det_wait_text(a->det.wait_what), a->det.wait_name, holders);
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
					   det_wait_text(path[i]->det.wait_what),
					   path[i]->det.wait_name, holders);
			}
		} else if (start) {
			det_holders(d, start, holders, sizeof(holders));
			det_append(msg, mlen, &m,
				   "no runnable actor, no cycle: %s waits for %s %s, held by %s",
				   start->name, det_wait_text(start->det.wait_what),
				   start->det.wait_name, holders);
		} else {
			det_append(msg, mlen, &m, "no runnable actor");
		}
	}
}

/* Whether an actor other than an idle helper has not ended. */
static bool det_stuck(const struct sync_det *d)
{
	for (unsigned int i = 0; i < d->nact; i++) {
		const struct mmn_actor *a = d->act[i];

		if (a->det.state == SYNC_DET_ENDED)
			continue;
		if (a->det.daemon && a->det.state == SYNC_DET_BLOCKED &&
		    a->det.wait_what == SYNC_DET_W_CB_IDLE)
			continue;
		return true;
	}
	return false;
}

/*
 * @me (blocked or ended) gives up the token: to the next runnable actor, or,
 * with none left, back to the controller after reporting a deadlock. An
 * ended @me returns at once; a blocked one returns when woken and
 * scheduled again (or unwinds).
 */
static void det_reschedule(struct sync_det *d, struct mmn_actor *me, const char *what,
			   const void *obj, const char *name)
{
	int how;
	struct mmn_actor *next = det_pick(d, me, &how);
	char label[96];

	if (d->cfg.trace)
		det_trace(d, "%6lu %-8s %-16s %s 0x0 -> %s%s\n", d->steps, me->name, what,
			  det_label(d, obj, name, label, sizeof(label)),
			  next ? next->name : "(none)", det_mark(how));
	if (!next) {
		if (det_stuck(d)) {
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
			det_trace(d, "%6lu %-8s %-16s %s\n", d->steps, me->name, "deadlock", msg);
			d->outcome = MMN_OUTCOME_DEADLOCK;
			/* The handler runs in this actor's context, without our
			 * mutex; nobody else runs meanwhile. */
			d->reporting = true;
			pthread_mutex_unlock(&d->m);
			mmn_report(me->sim, &v);
			pthread_mutex_lock(&d->m);
			d->reporting = false;
		} else {
			d->outcome = MMN_OUTCOME_OK;
		}
		det_give(d, NULL, DET_BACK_END);
		if (me->det.state != SYNC_DET_ENDED)
			det_wait_token(d, me); /* only ever to unwind */
		return;
	}
	if (me->det.state == SYNC_DET_ENDED) {
		det_give(d, next, 0);
		return;
	}
	if (next != me) {
		det_give(d, next, 0);
		det_wait_token(d, me);
	}
}

/* A scheduling point passed by @a. */
static void det_point(struct mmn_sim *sim, struct mmn_actor *a, enum mmn_sched_kind kind,
		      const void *obj, const char *name, unsigned long addr)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *next;
	char label[96];
	int how;

	if (!a || a->det.idx < 0)
		return;
	if (mmn__raw_depth > 0) {
		__atomic_add_fetch(&d->raw_points, 1, __ATOMIC_RELAXED);
		return;
	}
	pthread_mutex_lock(&d->m);
	if (!d->running || d->reporting || a->det.abort || d->cur != a) {
		pthread_mutex_unlock(&d->m);
		return;
	}
	d->steps++;
	if (d->steps > d->cfg.max_steps) {
		det_trace(d, "%6lu %-8s %-16s step budget of %lu exhausted\n", d->steps, a->name,
			  "budget", d->cfg.max_steps);
		d->outcome = MMN_OUTCOME_BUDGET;
		det_give(d, NULL, DET_BACK_BUDGET);
		det_wait_token(d, a); /* only ever to unwind */
	}
	if (d->cfg.strategy == MMN_STRATEGY_PCT)
		for (unsigned int i = 0; i < d->pct_nchange; i++)
			if (d->pct_change[i] == d->steps)
				a->det.prio = i + 1; /* below every initial priority */
	next = det_pick(d, a, &how);
	if (d->cfg.trace) /* the label numbers objects: not worth it untraced */
		det_trace(d, "%6lu %-8s %-16s %s 0x%lx -> %s%s\n", d->steps, a->name,
			  mmn_sched_kind_name(kind), det_label(d, obj, name, label, sizeof(label)),
			  addr, next->name, det_mark(how));
	if (next != a) {
		det_give(d, next, 0);
		det_wait_token(d, a);
	}
	pthread_mutex_unlock(&d->m);
}

void mmn__det_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct mmn_sync_state *st = sim->sync;

	(void)arg;
	if (st->user_hook)
		st->user_hook(sim, ev, st->user_hook_arg);
	det_point(sim, ev->actor, ev->kind, ev->obj, ev->name, ev->addr);
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
		det_trace(d, "%6lu %-8s %-16s %s\n", d->steps, a->name, kind, msg ? msg : "");
	pthread_mutex_unlock(&d->m);
}

/* lib/check's observer: a violation is an event line of the trace (a
 * deadlock has its own line already, written by det_reschedule()). */
void mmn__det_observe(struct mmn_sim *sim, const struct mmn_violation *v)
{
	char line[320];

	if (v->kind == MMN_VIOL_DEADLOCK)
		return;
	snprintf(line, sizeof(line), "%s: %s", mmn_violation_kind_name(v->kind),
		 v->msg ? v->msg : "");
	for (char *c = line; *c; c++)
		if (*c == '\n')
			*c = ' '; /* one trace line per event */
	det_trace_event(sim, "violation", line);
}

bool mmn__det_in_run(struct mmn_sim *sim, const struct mmn_actor *a)
{
	struct sync_det *d = det_of(sim);
	bool in;

	if (!a || a->det.idx < 0)
		return false;
	pthread_mutex_lock(&d->m);
	in = d->running && d->cur == a;
	pthread_mutex_unlock(&d->m);
	return in;
}

bool mmn__det_block(struct mmn_sim *sim, struct mmn_actor *a, const void *key, int what,
		    const void *holder, int idx, const char *name)
{
	struct sync_det *d = det_of(sim);

	if (!mmn__det_in_run(sim, a)) {
		mmn_reportf(sim, MMN_VIOL_DEADLOCK, 0, 0,
			    "outside a run of the scheduler, %s would wait forever for %s %s; "
			    "skipped",
			    a ? a->name : "?", det_wait_text(what), name ? name : "?");
		return false;
	}
	if (mmn__raw_depth > 0) {
		/* A simulator bug (raw locks may not span a wait): waiting here
		 * would hang the host, so it is reported and skipped like a
		 * wait outside a run. */
		mmn_reportf(sim, MMN_VIOL_DEADLOCK, 0, 0,
			    "%s would wait for %s %s while holding a raw lock (a simulator "
			    "bug: raw locks may not span a wait); skipped",
			    a ? a->name : "?", det_wait_text(what), name ? name : "?");
		return false;
	}
	pthread_mutex_lock(&d->m);
	a->det.state = SYNC_DET_BLOCKED;
	a->det.wait = key;
	a->det.wait_what = what;
	a->det.wait_holder = holder;
	a->det.wait_idx = idx;
	a->det.wait_name = name ? name : "?";
	det_reschedule(d, a, "block", key, name);
	pthread_mutex_unlock(&d->m);
	return true;
}

static void det_wake_locked(struct sync_det *d, const void *key)
{
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (a->det.state == SYNC_DET_BLOCKED && a->det.wait == key) {
			a->det.state = SYNC_DET_RUNNABLE;
			if (!d->unwinding)
				det_trace(d, "%6lu %-8s %-16s %s#%u\n", d->steps, a->name, "wake",
					  a->det.wait_name, det_obj_id(d, key));
		}
	}
}

void mmn__det_wake(struct mmn_sim *sim, const void *key)
{
	struct sync_det *d = det_of(sim);

	pthread_mutex_lock(&d->m);
	if (d->running)
		det_wake_locked(d, key);
	pthread_mutex_unlock(&d->m);
}

/* ------------------------------------------------------------------ */
/* What an actor holds                                                 */
/* ------------------------------------------------------------------ */

void mmn__det_held_push(struct mmn_actor *a, const void *obj, enum sync_kind kind, bool read,
			int idx)
{
	struct sync_det_held *h;

	if (a->det.nheld >= SYNC_MAX_HELD)
		return; /* untracked: not released at unwinding, not in reports */
	h = &a->det.held[a->det.nheld++];
	h->obj = obj;
	h->kind = (unsigned char)kind;
	h->read = read;
	h->idx = (signed char)idx;
}

int mmn__det_held_pop(struct mmn_actor *a, const void *obj, int read, int idx)
{
	for (int i = a->det.nheld - 1; i >= 0; i--) {
		struct sync_det_held *h = &a->det.held[i];
		int r;

		if (h->obj != obj || (read >= 0 && h->read != (read != 0)))
			continue;
		if (idx >= 0 && h->idx != idx)
			continue;
		r = h->idx;
		memmove(h, h + 1, (size_t)(a->det.nheld - i - 1) * sizeof(*h));
		a->det.nheld--;
		return r;
	}
	return -2;
}

#define DET_RWSEM_WRITER 1L
#define DET_RWSEM_READER 4L
#define DET_RWSEM_READ_MASK (~3L)

/* Release everything an unwound actor holds, newest first, without points. */
static void det_release_all(struct mmn_actor *a)
{
	struct mmn_sim *sim = a->sim;

	for (int i = a->det.nheld - 1; i >= 0; i--) {
		const struct sync_det_held *h = &a->det.held[i];

		switch (h->kind) {
		case SYNC_KIND_SPIN:
		case SYNC_KIND_MUTEX: {
			/* spinlock and mutex share their layout */
			struct mmn_mutex *l = (struct mmn_mutex *)(uintptr_t)h->obj;

			if (l->owner == a)
				l->owner = NULL;
			break;
		}
		case SYNC_KIND_RWSEM: {
			struct mmn_rwsem *s = (struct mmn_rwsem *)(uintptr_t)h->obj;

			if (h->read) {
				if (s->count & DET_RWSEM_READ_MASK)
					s->count -= DET_RWSEM_READER;
			} else if (s->owner == a) {
				s->count &= ~DET_RWSEM_WRITER;
				s->owner = NULL;
			}
			break;
		}
		case SYNC_KIND_SRCU: {
			struct mmn_srcu *ss = (struct mmn_srcu *)(uintptr_t)h->obj;

			if (h->idx >= 0 && h->idx < 2 && ss->det_ctr[h->idx] > 0) {
				ss->det_ctr[h->idx]--;
				mmn__det_wake(sim, &ss->det_ctr[h->idx]);
			}
			continue;
		}
		default:
			continue;
		}
		mmn__det_wake(sim, h->obj);
	}
	a->det.nheld = 0;
	if (a->det.gp_ss) {
		a->det.gp_ss->det_gp = false;
		mmn__det_wake(sim, &a->det.gp_ss->det_gp);
		a->det.gp_ss = NULL;
	}
	/* Its lockdep state goes with it: no HELD_AT_EXIT for an unwound actor. */
	a->depth = 0;
	a->overflow = 0;
	a->atomic = 0;
	a->non_block = 0;
	a->in_callback = 0;
}

/* ------------------------------------------------------------------ */
/* Actors                                                              */
/* ------------------------------------------------------------------ */

static void *det_trampoline(void *p)
{
	struct mmn_actor *a = p;
	struct mmn_sim *sim = a->sim;
	struct sync_det *d = det_of(sim);

	mmn__actor_bind(sim, a);
	pthread_mutex_lock(&d->m);
	while (d->cur != a)
		pthread_cond_wait(&a->det.cv, &d->m);
	pthread_mutex_unlock(&d->m);
	if (a->det.abort)
		goto unwound;
	if (setjmp(a->det.unwind) != 0)
		goto unwound;
	a->ret = a->fn(a->arg);
	mmn__actor_exit(a);
	pthread_mutex_lock(&d->m);
	a->det.state = SYNC_DET_ENDED;
	det_wake_locked(d, a); /* joiners */
	det_reschedule(d, a, "exit", a, a->name);
	pthread_mutex_unlock(&d->m);
	return a->ret;

unwound:
	det_release_all(a);
	__atomic_store_n(&a->exited, 1, __ATOMIC_RELEASE);
	a->ret = NULL;
	pthread_mutex_lock(&d->m);
	a->det.state = SYNC_DET_ENDED;
	det_trace(d, "%6lu %-8s %s\n", d->steps, a->name, "unwound");
	d->unwound++;
	det_give(d, NULL, DET_BACK_UNWOUND);
	pthread_mutex_unlock(&d->m);
	return NULL;
}

/*
 * Create an actor of the run (called by an actor, or by the controller for
 * main and the helper) with its thread, parked until it gets the token.
 */
static int det_create(struct mmn_sim *sim, const char *name, mmn_actor_fn fn, void *arg,
		      bool daemon, struct mmn_actor **out)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *a;
	char buf[SYNC_ACTOR_NAME];
	unsigned int idx;
	int err;

	pthread_mutex_lock(&d->m);
	if (d->nact == d->cap_act) {
		unsigned int cap = d->cap_act ? d->cap_act * 2 : 16;
		struct mmn_actor **n = realloc(d->act, cap * sizeof(*n));
		struct mmn_actor **s;

		if (!n) {
			pthread_mutex_unlock(&d->m);
			return -ENOMEM;
		}
		d->act = n;
		s = realloc(d->scratch, cap * sizeof(*s));
		if (!s) {
			pthread_mutex_unlock(&d->m);
			return -ENOMEM;
		}
		d->scratch = s;
		d->cap_act = cap;
	}
	idx = d->nact;
	pthread_mutex_unlock(&d->m);
	if (!name) {
		snprintf(buf, sizeof(buf), "actor%u", idx);
		name = buf;
	}
	a = mmn__actor_new(sim, name, "actor");
	if (!a)
		return -ENOMEM;
	a->spawned = true;
	a->fn = fn;
	a->arg = arg;
	a->det.daemon = daemon;
	a->det.state = SYNC_DET_RUNNABLE;
	pthread_cond_init(&a->det.cv, NULL);
	pthread_mutex_lock(&d->m);
	a->det.idx = (int)idx;
	/* PCT: initial priorities above the d-1 change-point priorities. */
	a->det.prio = (uint64_t)d->cfg.pct_depth + (det_rand(d) >> 8);
	if (d->cfg.pool)
		err = -mmn__pool_start(d->cfg.pool, a, det_trampoline);
	else
		err = pthread_create(&a->thread, NULL, det_trampoline, a);
	if (err) {
		pthread_mutex_unlock(&d->m);
		pthread_cond_destroy(&a->det.cv);
		mmn__actor_forget(sim, a);
		return -err;
	}
	d->act[d->nact++] = a;
	det_trace(d, "%6lu %-8s %-16s %s\n", d->steps,
		  d->cur ? d->cur->name : "(ctl)", "spawn", a->name);
	pthread_mutex_unlock(&d->m);
	*out = a;
	return 0;
}

int mmn__det_spawn(struct mmn_sim *sim, const char *name, mmn_actor_fn fn, void *arg,
		   struct mmn_actor **out)
{
	struct mmn_actor *me = sync_actor(sim);

	if (!mmn__det_in_run(sim, me))
		return -EPERM;
	return det_create(sim, name, fn, arg, false, out);
}

int mmn__det_join(struct mmn_actor *actor, void **retval)
{
	struct mmn_sim *sim = actor->sim;
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);
	int state, err;

	if (me == actor)
		return -EDEADLK;
	if (!mmn__det_in_run(sim, me))
		return -EINVAL;
	for (;;) {
		pthread_mutex_lock(&d->m);
		state = actor->det.state;
		pthread_mutex_unlock(&d->m);
		if (state == SYNC_DET_ENDED)
			break;
		mmn__det_block(sim, me, actor, SYNC_DET_W_JOIN, actor, 0, actor->name);
	}
	if (__atomic_exchange_n(&actor->joined, 1, __ATOMIC_ACQ_REL))
		return -EINVAL;
	if (actor->det.worker) {
		mmn__pool_join(actor);
	} else {
		err = pthread_join(actor->thread, NULL);
		if (err)
			return -err;
	}
	if (retval)
		*retval = actor->ret;
	return 0;
}

/* ------------------------------------------------------------------ */
/* SRCU (two counters per domain)                                      */
/* ------------------------------------------------------------------ */

int mmn__det_srcu_read_lock(struct mmn_srcu *ss, struct mmn_actor *a)
{
	/* Reading the index and counting in are one step: no point between. */
	int idx = (int)(ss->det_idx & 1);

	ss->det_ctr[idx]++;
	if (a)
		mmn__det_held_push(a, ss, SYNC_KIND_SRCU, true, idx);
	return idx;
}

void mmn__det_srcu_read_unlock(struct mmn_srcu *ss, struct mmn_actor *a, int idx)
{
	struct mmn_sim *sim = ss->dep.sim;
	int got = -1;

	if (a) {
		got = mmn__det_held_pop(a, ss, 1, idx);
		if (got < 0) {
			/* A wrong index: report, and close the newest section
			 * of this domain instead so that the counters stay right. */
			got = mmn__det_held_pop(a, ss, 1, -1);
			if (got >= 0)
				mmn_reportf(sim, MMN_VIOL_BAD_UNLOCK, 0, 0,
					    "srcu_read_unlock(%s) with index %d, not the one "
					    "srcu_read_lock() returned (%d)",
					    ss->dep.name, idx, got);
		}
	}
	if (got < 0)
		got = idx;
	if (got < 0 || got > 1 || ss->det_ctr[got] == 0) {
		mmn_reportf(sim, MMN_VIOL_BAD_UNLOCK, 0, 0,
			    "srcu_read_unlock(%s) without a read section", ss->dep.name);
		return;
	}
	if (--ss->det_ctr[got] == 0)
		mmn__det_wake(sim, &ss->det_ctr[got]);
}

/*
 * A grace period: flip the index new readers take, then wait until the
 * readers of the old index have left. Grace periods of one domain are
 * serialised (the kernel's srcu_gp_mutex), so the old index holds only
 * readers that entered before this one began: the other index was drained
 * by the grace period before, and reading the index and counting in are one
 * step here.
 *
 *   reader R1          updater U                   reader R2
 *   lock: idx 0, c0=1
 *                      synchronize: idx = 1
 *                      wait c0 == 0                lock: idx 1, c1=1
 *   unlock: c0=0 --->  returns (R2 still inside)
 */
void mmn__det_synchronize_srcu(struct mmn_srcu *ss, struct mmn_actor *a)
{
	struct mmn_sim *sim = ss->dep.sim;
	unsigned int old;

	if (!mmn__det_in_run(sim, a))
		return; /* nobody else runs: every other section is over */
	while (ss->det_gp)
		if (!mmn__det_block(sim, a, &ss->det_gp, SYNC_DET_W_GP_BUSY, NULL, 0, ss->dep.name))
			return;
	ss->det_gp = true;
	a->det.gp_ss = ss;
	old = ss->det_idx & 1;
	ss->det_idx = old ^ 1;
	while (ss->det_ctr[old] > 0)
		if (!mmn__det_block(sim, a, &ss->det_ctr[old], SYNC_DET_W_GP, ss, (int)old,
				    ss->dep.name))
			break;
	ss->det_gp = false;
	a->det.gp_ss = NULL;
	mmn__det_wake(sim, &ss->det_gp);
}

/* Run one callback on the calling actor (the helper, or the thread that
 * drains the queue outside a run). */
static void det_run_callback(struct mmn_sim *sim, struct mmn_actor *a, struct mmn_rcu_head *h)
{
	struct mmn_srcu *ss = h->ss;

	if (a)
		a->in_callback++;
	h->func(h);
	if (a)
		a->in_callback--;
	ss->det_cb_done++;
	__atomic_sub_fetch(&sim->sync->srcu_pending, 1, __ATOMIC_RELAXED);
	mmn__det_wake(sim, &ss->det_cb_done);
}

static struct mmn_rcu_head *det_take_queue(struct sync_det *d)
{
	struct mmn_rcu_head *h;

	pthread_mutex_lock(&d->m);
	h = d->cbq_head;
	d->cbq_head = d->cbq_tail = NULL;
	pthread_mutex_unlock(&d->m);
	return h;
}

/* The SRCU callback helper: one grace period per domain per batch, then
 * the batch's callbacks in call_srcu() order. */
static void *det_helper_fn(void *p)
{
	struct mmn_sim *sim = p;
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);

	for (;;) {
		struct mmn_rcu_head *batch = det_take_queue(d), *h, *g;

		if (!batch) {
			mmn__det_block(sim, me, &d->cbq_head, SYNC_DET_W_CB_IDLE, NULL, 0,
				       "call_srcu");
			continue;
		}
		for (h = batch; h; h = h->priv[0]) {
			for (g = batch; g != h && g->ss != h->ss; g = g->priv[0])
				;
			if (g == h)
				mmn__det_synchronize_srcu(h->ss, me);
		}
		for (h = batch; h; h = g) {
			g = h->priv[0]; /* the callback may free @h */
			det_run_callback(sim, me, h);
		}
	}
	return NULL;
}

/* Start the helper if the run has none. Caller: an actor of the run or the
 * controller before the first hand-off. */
static void det_helper_ensure(struct mmn_sim *sim)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *h;

	if (d->helper)
		return;
	if (det_create(sim, "srcu_cb", det_helper_fn, sim, true, &h) == 0)
		d->helper = h;
}

void mmn__det_call_srcu(struct mmn_srcu *ss, struct mmn_rcu_head *head)
{
	struct mmn_sim *sim = ss->dep.sim;
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);

	head->priv[0] = NULL;
	ss->det_cb_queued++;
	__atomic_add_fetch(&sim->sync->srcu_pending, 1, __ATOMIC_RELAXED);
	pthread_mutex_lock(&d->m);
	if (d->cbq_tail)
		d->cbq_tail->priv[0] = head;
	else
		d->cbq_head = head;
	d->cbq_tail = head;
	pthread_mutex_unlock(&d->m);
	if (mmn__det_in_run(sim, me)) {
		det_helper_ensure(sim);
		mmn__det_wake(sim, &d->cbq_head);
	}
}

/* Outside a run: every queued callback runs now, on the calling thread. */
static void det_drain(struct mmn_sim *sim)
{
	struct sync_det *d = det_of(sim);
	struct mmn_actor *me = sync_actor(sim);
	struct mmn_rcu_head *h, *next;

	while ((h = det_take_queue(d)) != NULL)
		for (; h; h = next) {
			next = h->priv[0];
			det_run_callback(sim, me, h);
		}
}

void mmn__det_srcu_barrier(struct mmn_srcu *ss, struct mmn_actor *a)
{
	struct mmn_sim *sim = ss->dep.sim;
	unsigned long target = ss->det_cb_queued;

	if (!mmn__det_in_run(sim, a)) {
		det_drain(sim);
		return;
	}
	if (a->in_callback) {
		mmn_reportf(sim, MMN_VIOL_SRCU_SELF_DEADLOCK, 0, 0,
			    "srcu_barrier(%s) from an SRCU callback would wait for itself; skipped",
			    ss->dep.name);
		return;
	}
	while ((long)(ss->det_cb_done - target) < 0)
		if (!mmn__det_block(sim, a, &ss->det_cb_done, SYNC_DET_W_BARRIER, NULL, 0,
				    ss->dep.name))
			return;
}

void mmn__det_srcu_sim_fini(struct mmn_sim *sim)
{
	det_drain(sim);
}

/* ------------------------------------------------------------------ */
/* Per-simulation state                                                */
/* ------------------------------------------------------------------ */

int mmn__det_init(struct mmn_sync_state *st)
{
	struct sync_det *d = calloc(1, sizeof(*d));

	if (!d)
		return -ENOMEM;
	d->trace = malloc(1);
	if (!d->trace) {
		free(d);
		return -ENOMEM;
	}
	d->trace[0] = '\0';
	d->trace_cap = 1;
	pthread_mutex_init(&d->m, NULL);
	pthread_cond_init(&d->ctl, NULL);
	mmn_sched_config_init(&d->cfg);
	st->det = d;
	return 0;
}

void mmn__det_fini(struct mmn_sync_state *st)
{
	struct sync_det *d = st->det;

	pthread_cond_destroy(&d->ctl);
	pthread_mutex_destroy(&d->m);
	free(d->act);
	free(d->scratch);
	free(d->replay);
	free(d->choices);
	free(d->masks);
	free(d->curs);
	free(d->trace);
	free(d->objs);
	free(d);
	st->det = NULL;
}

unsigned long mmn__det_raw_points(const struct mmn_sim *sim)
{
	if (!sim || !sim->sync->det)
		return 0;
	return __atomic_load_n(&sim->sync->det->raw_points, __ATOMIC_RELAXED);
}

/* ------------------------------------------------------------------ */
/* Public API: runs                                                    */
/* ------------------------------------------------------------------ */

void mmn_sched_config_init(struct mmn_sched_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->strategy = MMN_STRATEGY_RANDOM;
	cfg->seed = 1;
	cfg->pct_depth = 2;
	cfg->pct_steps = 1000;
	cfg->max_steps = DET_DEFAULT_STEPS;
	cfg->trace = true;
}

static void *det_main_fn(void *p)
{
	struct mmn_sim *sim = p;
	struct sync_det *d = det_of(sim);

	d->body(sim, d->body_arg);
	return NULL;
}

/* Reset the per-run state; caller holds d->m. */
static int det_reset(struct sync_det *d, const struct mmn_sched_config *cfg)
{
	uint64_t x;

	d->cfg = *cfg;
	if (d->cfg.pct_depth < 1)
		d->cfg.pct_depth = 1;
	if (d->cfg.pct_depth > DET_MAX_DEPTH)
		d->cfg.pct_depth = DET_MAX_DEPTH;
	if (d->cfg.pct_steps < 1)
		d->cfg.pct_steps = 1;
	if (d->cfg.max_steps < 1)
		d->cfg.max_steps = DET_DEFAULT_STEPS;
	free(d->replay);
	d->replay = NULL;
	if (cfg->strategy == MMN_STRATEGY_REPLAY && cfg->replay_len) {
		d->replay = malloc(cfg->replay_len * sizeof(*d->replay));
		if (!d->replay)
			return -ENOMEM;
		memcpy(d->replay, cfg->replay, cfg->replay_len * sizeof(*d->replay));
	}
	d->cfg.replay = d->replay;
	x = cfg->seed;
	for (int i = 0; i < 4; i++)
		d->rng[i] = det_splitmix(&x);
	d->pct_nchange = 0;
	if (cfg->strategy == MMN_STRATEGY_PCT)
		for (unsigned int i = 0; i + 1 < d->cfg.pct_depth; i++)
			d->pct_change[d->pct_nchange++] = 1 + det_below(d, d->cfg.pct_steps);
	d->steps = d->preemptions = d->replay_misses = 0;
	d->unwound = 0;
	d->outcome = MMN_OUTCOME_OK;
	d->nchoices = 0;
	d->trace_len = 0;
	d->trace[0] = '\0';
	if (d->objs)
		memset(d->objs, 0, d->objs_cap * sizeof(*d->objs));
	d->nobjs = 0;
	d->nact = 0;
	d->helper = NULL;
	d->back = DET_BACK_NONE;
	d->cur = NULL;
	return 0;
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

int mmn_sched_run(struct mmn_sim *sim, const struct mmn_sched_config *cfg,
		  mmn_sched_body_fn body, void *arg, struct mmn_sched_result *res)
{
	struct mmn_sched_config defaults;
	struct sync_det *d;
	struct mmn_actor *main_actor, *me;
	int err;

	if (!sim || !body || sync_native(sim))
		return -EINVAL;
	if (!cfg) {
		mmn_sched_config_init(&defaults);
		cfg = &defaults;
	}
	if (cfg->strategy == MMN_STRATEGY_REPLAY && cfg->replay_len && !cfg->replay)
		return -EINVAL;
	if ((unsigned int)cfg->strategy > MMN_STRATEGY_REPLAY)
		return -EINVAL;
	d = det_of(sim);
	me = sync_actor(sim);
	pthread_mutex_lock(&d->m);
	if (d->running || (me && me->det.idx >= 0)) {
		pthread_mutex_unlock(&d->m);
		return -EBUSY;
	}
	err = det_reset(d, cfg);
	if (err) {
		pthread_mutex_unlock(&d->m);
		return err;
	}
	d->body = body;
	d->body_arg = arg;
	d->running = true;
	d->viol_start = mmn_check_total(sim);
	pthread_mutex_unlock(&d->m);

	err = det_create(sim, "main", det_main_fn, sim, false, &main_actor);
	if (err) {
		pthread_mutex_lock(&d->m);
		d->running = false;
		pthread_mutex_unlock(&d->m);
		return err;
	}
	/* Callbacks queued outside a run are this run's helper's work. */
	if (d->cbq_head)
		det_helper_ensure(sim);

	pthread_mutex_lock(&d->m);
	det_give(d, main_actor, 0);
	while (d->back == DET_BACK_NONE)
		pthread_cond_wait(&d->ctl, &d->m);
	if (d->back == DET_BACK_BUDGET)
		d->outcome = MMN_OUTCOME_BUDGET;
	d->unwinding = true;
	/* Unwind the actors that have not ended, in index order. */
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (a->det.state == SYNC_DET_ENDED)
			continue;
		a->det.abort = true;
		d->back = DET_BACK_NONE;
		det_give(d, a, 0);
		while (d->back != DET_BACK_UNWOUND)
			pthread_cond_wait(&d->ctl, &d->m);
	}
	det_trace(d, "%6lu %-8s %-16s %s steps=%lu choices=%zu preemptions=%lu unwound=%u\n",
		  d->steps, "(ctl)", "outcome", det_outcome_name(d->outcome), d->steps,
		  d->nchoices, d->preemptions, d->unwound);
	d->cur = NULL;
	d->unwinding = false;
	pthread_mutex_unlock(&d->m);

	/* Every actor thread has ended or is returning: join and free them. */
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (!__atomic_exchange_n(&a->joined, 1, __ATOMIC_ACQ_REL)) {
			if (a->det.worker)
				mmn__pool_join(a);
			else
				pthread_join(a->thread, NULL);
		}
		pthread_cond_destroy(&a->det.cv);
		mmn__actor_forget(sim, a);
	}
	pthread_mutex_lock(&d->m);
	if (res) {
		memset(res, 0, sizeof(*res));
		res->outcome = d->outcome;
		res->steps = d->steps;
		res->choices = d->nchoices;
		res->preemptions = d->preemptions;
		res->replay_misses = d->replay_misses;
		res->actors = d->nact;
		res->unwound = d->unwound;
		res->violations = mmn_check_total(sim) - d->viol_start;
	}
	d->last_nact = d->nact;
	d->nact = 0;
	d->helper = NULL;
	d->running = false;
	pthread_mutex_unlock(&d->m);
	return 0;
}

size_t mmn_sched_choices(const struct mmn_sim *sim, uint32_t *out, size_t max)
{
	struct sync_det *d;
	size_t n;

	if (!sim || !sim->sync->det)
		return 0;
	d = sim->sync->det;
	pthread_mutex_lock(&d->m);
	n = d->nchoices;
	if (out && max)
		memcpy(out, d->choices, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&d->m);
	return n;
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

/* Choice points of the last run, for the explorer (explore.c). */
size_t mmn__det_choice_points(const struct mmn_sim *sim, const uint32_t **chosen,
			      const uint64_t **masks, const int32_t **curs, unsigned int *nact)
{
	struct sync_det *d = sim->sync->det;

	*chosen = d->choices;
	*masks = d->masks;
	*curs = d->curs;
	*nact = d->last_nact;
	return d->nchoices;
}
