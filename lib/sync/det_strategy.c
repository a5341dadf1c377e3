// SPDX-License-Identifier: MIT
/*
 * Strategies of the deterministic backend: at a choice point (two or more
 * runnable actors) pick by a seeded random draw, by PCT priority (Burckhardt
 * et al., ASPLOS 2010: random priorities, d-1 change points), or from a
 * replayed choice list; and record the choice, the runnable set and the
 * running actor for the explorer.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#include "det.h"

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

/*
 * Past the budget: @cur keeps running for its slice, then the next runnable
 * actor after @me in index order gets a slice (DET_DRAIN_SLICE). No choice
 * is recorded: the drain is a function of the state, so a replay with the
 * same budget drains the same way.
 */
static struct mmn_actor *det_drain_pick(struct sync_det *d, struct mmn_actor *me,
					struct mmn_actor *cur, unsigned int n)
{
	int from = me ? me->det.idx : -1;

	if (cur && d->slice_left) {
		d->slice_left--;
		return cur;
	}
	d->slice_left = DET_DRAIN_SLICE - 1;
	for (unsigned int i = 0; i < n; i++)
		if (d->scratch[i]->det.idx > from)
			return d->scratch[i];
	return d->scratch[0];
}

/* mmn__det_pick() past its fast path: every actor looked at; @cur is @me
 * when runnable. */
static __attribute__((noinline)) struct mmn_actor *
det_pick_scan(struct sync_det *d, struct mmn_actor *cur, struct mmn_actor *me, int *how)
{
	struct mmn_actor *next = NULL, **act = d->act, **run = d->scratch;
	unsigned int n = 0, nact = d->nact;
	uint64_t mask = 0;

	/* locals: the stores to run[] would otherwise reload d's fields */
	for (unsigned int i = 0; i < nact; i++) {
		struct mmn_actor *a = act[i];

		if (a->det.state != SYNC_DET_RUNNABLE)
			continue;
		run[n++] = a;
		if (i < 64)
			mask |= 1ULL << i;
	}
	if (n <= 1)
		return n ? run[0] : NULL;
	if (d->draining)
		return det_drain_pick(d, me, cur, n);
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

/*
 * Pick the next actor to run; @me is the token holder, runnable or not.
 * NULL when no actor is runnable. *@how says whether it was a choice point
 * (two or more runnable) and whether the choice preempted @me.
 */
struct mmn_actor *mmn__det_pick(struct sync_det *d, struct mmn_actor *me, int *how)
{
	struct mmn_actor *cur = me && me->det.state == SYNC_DET_RUNNABLE ? me : NULL;

	*how = DET_FORCED;
	/* The token holder alone runnable (most points): no choice to make,
	 * and no scan of the actors. */
	if (cur && d->nrunnable == 1 && !d->unwinding)
		return cur;
	return det_pick_scan(d, cur, me, how);
}

int mmn__det_strategy_reset(struct sync_det *d, const struct mmn_sched_config *cfg)
{
	uint64_t x;

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
	d->yield_prio = DET_PRIO_BASE - 1;
	if (cfg->strategy == MMN_STRATEGY_PCT)
		for (unsigned int i = 0; i + 1 < d->cfg.pct_depth; i++)
			d->pct_change[d->pct_nchange++] = 1 + det_below(d, d->cfg.pct_steps);
	return 0;
}

uint64_t mmn__det_initial_prio(struct sync_det *d)
{
	/* Above the d-1 change-point priorities. */
	return DET_PRIO_BASE + (uint64_t)d->cfg.pct_depth + (det_rand(d) >> 8);
}

void mmn__det_pct_step(struct sync_det *d, struct mmn_actor *a)
{
	for (unsigned int i = 0; i < d->pct_nchange; i++)
		if (d->pct_change[i] == d->steps)
			a->det.prio = DET_PRIO_BASE + i + 1; /* below every initial priority */
}

/*
 * A yield (the PCT paper's treatment of yields, also CHESS's for fairness):
 * the yielder gets a priority below every other actor's, initial, changed
 * or yielded before, so the others run until they block, end or yield too.
 * 2^62 yields per run before it could wrap: far past any step budget.
 */
void mmn__det_pct_yield(struct sync_det *d, struct mmn_actor *a)
{
	a->det.prio = d->yield_prio--;
}

static void det_copy_name(char *dst, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= MMN_SCHED_NAME_MAX)
		n = MMN_SCHED_NAME_MAX - 1;
	if (n)
		memcpy(dst, src, n);
	dst[n] = '\0';
}

/* A record that cannot be stored (no host memory) is dropped (and
 * mmn_sched_preemptions() counts only the records). */
void mmn__det_note_preemption(struct sync_det *d, const struct mmn_actor *a,
			      const struct mmn_actor *next, enum mmn_sched_kind kind,
			      const char *name, unsigned long addr)
{
	struct mmn_sched_preemption *p;

	if (d->npre == d->cap_pre) {
		size_t cap = d->cap_pre ? d->cap_pre * 2 : 64;

		p = realloc(d->pre, cap * sizeof(*p));
		if (!p)
			return;
		d->pre = p;
		d->cap_pre = cap;
	}
	p = &d->pre[d->npre++];
	p->step = d->steps;
	p->choice = d->nchoices - 1;
	p->from = (unsigned int)a->det.idx;
	p->to = (unsigned int)next->det.idx;
	det_copy_name(p->from_name, a->name);
	det_copy_name(p->to_name, next->name);
	p->kind = kind;
	p->yield = a->det.yielding;
	det_copy_name(p->label, name);
	p->addr = addr;
}

size_t mmn_sched_preemptions(const struct mmn_sim *sim, struct mmn_sched_preemption *out,
			     size_t max)
{
	struct sync_det *d;
	size_t n;

	if (!sim || !sim->sync->det)
		return 0;
	d = sim->sync->det;
	pthread_mutex_lock(&d->m);
	n = d->npre;
	if (out && max && n) /* d->pre is NULL before the first preemption */
		memcpy(out, d->pre, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&d->m);
	return n;
}

int mmn_sched_preemption_format(const struct mmn_sched_preemption *p, char *buf, size_t len)
{
	char where[MMN_SCHED_NAME_MAX + 32];
	int n = 0;

	if (!p || !buf || !len)
		return -EINVAL;
	where[0] = '\0';
	if (p->label[0])
		n = snprintf(where, sizeof(where), " %s", p->label);
	if (p->addr && n >= 0 && (size_t)n < sizeof(where))
		snprintf(where + n, sizeof(where) - (size_t)n, " 0x%lx", p->addr);
	return snprintf(buf, len, "%s -> %s at step %lu, at %s%s", p->from_name, p->to_name,
			p->step, p->yield ? "yield" : mmn_sched_kind_name(p->kind), where);
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
	if (out && max && n) /* d->choices is NULL before the first choice */
		memcpy(out, d->choices, (n < max ? n : max) * sizeof(*out));
	pthread_mutex_unlock(&d->m);
	return n;
}

/* Choice points of the last run, for the explorer (det_explore.c). */
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
