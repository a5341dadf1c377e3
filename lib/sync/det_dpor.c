// SPDX-License-Identifier: MIT
/*
 * Source-set DPOR with sleep sets (Abdulla, Aronis, Jonsson and Sagonas,
 * "Optimal Dynamic Partial Order Reduction", POPL 2014, Algorithm 1, the
 * "source-DPOR" algorithm), stateless over the replay strategy as the
 * depth-first explorer of det_explore.c is: a schedule is a prefix of
 * choices and the non-preemptive default after it; every run is made afresh
 * by the caller, which hands its record back (mmn_sched_explorer_record()).
 *
 * A node is the state before one step of the last run (det_dpor_rec.c
 * records what each step touches). After a run, for each step i past the
 * point where the run left the previous one, and each earlier step j of
 * another actor in a race with it (dependent, j happens before i, nothing
 * in between ordered after j and before i), some actor that could start
 * the reversed order (an initial of notdep(j).i) is added to the backtrack
 * set of j's node, unless one is there already, asleep or explored. Sleep
 * sets carry an explored actor's step down the tree while only independent
 * steps happen, so no two complete runs are equivalent; a run that would
 * run a sleeping actor is not a new class (it is redirected: its node gets
 * an awake actor, and the next run goes there).
 *
 * Preemption bounding (Musuvathi and Qadeer, PLDI 2007) with iterative
 * deepening: the search runs with a bound of 0, 1, ... DP_DEEPEN, then the
 * bound asked for, and stops deepening as soon as a search left nothing out
 * for the bound (then it was complete). A class is counted the first time it
 * is seen, in whichever round: the shallow rounds find the bugs of few
 * preemptions first, as the depth-first enumeration does, and the last
 * round is the plain search.
 *
 * A step that blocked having done nothing (a failed lock attempt) is a
 * "phantom": it takes part in race detection (whom it waited for) but not
 * in the happens-before relation, the sleep sets or the class.
 *
 * Objects are named across runs by the step that first touched them
 * (below, DP_FRESH): an object first touched after a node is compared
 * conservatively with the steps learnt there, which keeps the search sound
 * but may run a class again; a run is counted only the first time its
 * class (the hash of its canonical linearization) is seen.
 *
 * Sharding: with shards > 1 the first @split steps are explored
 * exhaustively (every runnable actor, no sleep sets), DPOR below, from
 * each prefix of @split steps (a subtree) on its own: a race reaching into
 * the top needs no backtrack point, every actor is tried there. The
 * subtree belongs to shard hash(its actors) % shards; a shard runs a
 * foreign subtree's first schedule only to learn the top of the tree. A
 * class is found in every subtree whose prefix it can start with; it is
 * counted in one: the subtree of its canonical linearization's first
 * @split steps. So the shards together count exactly the classes of the
 * unsharded search, each once.
 */
#include <errno.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/sched.h>

#include "det.h"
#include "det_dpor.h"

#define DP_MAXACT 64
/* The last bound of the iterative deepening taken one by one (then the
 * bound asked for): the shallow rounds find the bugs of few preemptions. */
#define DP_DEEPEN 2U

struct dp_node {
	struct det_step ev;  /* the step of the last run at this node */
	uint64_t bt;         /* backtrack set */
	uint64_t done;       /* actors whose subtree here is explored */
	uint64_t sleep;      /* sleep set on entry */
	unsigned int pre;    /* preemptions before it */
	uint32_t slp_node[DP_MAXACT]; /* where a sleeping actor's step is kept */
	struct det_step *dfp;         /* explored actors' steps (DP_MAXACT), lazily */
};

/*
 * Objects by identity across runs: every run makes a new simulation, so an
 * object's address means nothing in the next run. An object is named by
 * the step (and slot) of the run that first touched it, which is the same
 * in every run sharing the prefix up to that step (runs are deterministic).
 * A sleeping actor's step, learnt in an earlier run at node k, may touch
 * objects first touched there: those become DP_FRESH, which may be any
 * object the current run first touches at k or later.
 */
#define DP_FRESH ((const void *)1)
#define DP_ID(step, slot) ((const void *)(uintptr_t)((((uintptr_t)(step) + 1) << 8) | (slot)))
#define DP_ID_STEP(id) ((size_t)(((uintptr_t)(id) >> 8) - 1))

struct dp_map {
	const void *ptr;
	const void *id;
};

struct mmn__dpor {
	unsigned int bound, shard, shards, split;
	unsigned int max_bound; /* the bound asked for; @bound deepens up to it */
	struct dp_map *map;  /* pointer -> identity, for the run being taken */
	size_t map_cap;
	struct dp_node *nd;
	uint32_t *vc;        /* DP_MAXACT entries per node */
	size_t n, cap;
	size_t diverge;      /* the node where the handed-out run leaves the last */
	uint32_t *prefix;
	size_t prefix_cap;
	bool started, recorded, done, inited;
	bool pruned;         /* the bound left a schedule out (this round) */
	bool bounded;        /* a run was cut (step budget) or went astray */
	bool last_counted;
	uint64_t last_id;
	unsigned long runs, counted;
	uint64_t *seen;      /* class hashes counted (open addressing, 0 free) */
	size_t nseen, seen_cap;
};

struct mmn__dpor *mmn__dpor_create(unsigned int bound)
{
	struct mmn__dpor *p = calloc(1, sizeof(*p));

	if (p) {
		p->bound = 0;
		p->max_bound = bound;
		p->shards = 1;
	}
	return p;
}

void mmn__dpor_destroy(struct mmn__dpor *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->cap; i++)
		free(p->nd[i].dfp);
	free(p->nd);
	free(p->map);
	free(p->seen);
	free(p->vc);
	free(p->prefix);
	free(p);
}

void mmn__dpor_shard(struct mmn__dpor *p, unsigned int shard, unsigned int shards,
		     unsigned int depth)
{
	p->shard = shard;
	p->shards = shards;
	p->split = shards > 1 ? depth : 0;
}

unsigned long mmn__dpor_runs(const struct mmn__dpor *p)
{
	return p->runs;
}

unsigned long mmn__dpor_counted(const struct mmn__dpor *p)
{
	return p->counted;
}

bool mmn__dpor_complete(const struct mmn__dpor *p)
{
	return p->done && !p->bounded && !p->pruned;
}

bool mmn__dpor_bounded(const struct mmn__dpor *p)
{
	return p->bounded || p->pruned;
}

int mmn__dpor_last(const struct mmn__dpor *p, uint64_t *id)
{
	if (id)
		*id = p->last_id;
	return p->last_counted;
}

static uint64_t dp_fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

static unsigned int dp_preempts(const struct det_step *e, uint32_t q)
{
	return e->choice >= 0 && e->cur >= 0 && (uint32_t)e->cur != q;
}

/* The actor to take from @cand at @e: the one that goes on, else the
 * lowest; -1 if none within the bound (then the search is bounded). */
static int dp_pick(struct mmn__dpor *p, const struct dp_node *nd, uint64_t cand)
{
	int best = -1;

	if (!cand)
		return -1;
	if (nd->ev.cur >= 0 && (cand & (1ULL << nd->ev.cur)))
		return nd->ev.cur;
	for (int q = 0; q < DP_MAXACT; q++)
		if (cand & (1ULL << q)) {
			best = q;
			break;
		}
	if (nd->pre + dp_preempts(&nd->ev, (uint32_t)best) > p->bound) {
		p->pruned = true;
		return -1;
	}
	return best;
}

static const struct det_step *dp_sleep_fp(const struct mmn__dpor *p, const uint32_t *at, int q)
{
	return &p->nd[at[q]].dfp[q];
}

static void dp_save_done(struct dp_node *nd, size_t k)
{
	int a = nd->ev.actor;

	if (a < 0 || a >= DP_MAXACT || (nd->done & (1ULL << a)))
		return;
	if (!nd->dfp)
		nd->dfp = calloc(DP_MAXACT, sizeof(*nd->dfp));
	nd->done |= 1ULL << a;
	if (nd->dfp) {
		struct det_step *f = &nd->dfp[a];

		*f = nd->ev;
		for (unsigned int i = 0; i < f->nacc; i++)
			if (f->acc[i].obj && f->acc[i].cls != DET_C_FRAME &&
			    DP_ID_STEP(f->acc[i].obj) >= k)
				f->acc[i].obj = DP_FRESH;
	} else
		nd->sleep &= ~(1ULL << a); /* no memory: it cannot sleep */
}

static bool dp_handout(struct mmn__dpor *p, struct mmn_sched_config *cfg)
{
	size_t m = 0;

	if (p->n > p->prefix_cap) {
		uint32_t *x = realloc(p->prefix, p->n * sizeof(*x));

		if (!x)
			return false;
		p->prefix = x;
		p->prefix_cap = p->n;
	}
	for (size_t i = 0; i < p->n; i++)
		if (p->nd[i].ev.choice >= 0)
			p->prefix[m++] = (uint32_t)p->nd[i].ev.actor;
	p->started = true;
	p->recorded = false;
	p->runs++;
	cfg->strategy = MMN_STRATEGY_REPLAY;
	cfg->replay = p->prefix;
	cfg->replay_len = m;
	cfg->record_access = true;
	return true;
}

bool mmn__dpor_next(struct mmn__dpor *p, struct mmn_sched_config *cfg)
{
	if (p->done)
		return false;
	if (!p->started) {
		p->n = 0;
		p->diverge = 0;
		return dp_handout(p, cfg);
	}
	if (!p->recorded) {
		p->done = true;
		return false;
	}
	while (p->n > 0) {
		struct dp_node *nd = &p->nd[p->n - 1];
		uint64_t cand;
		int q;

		dp_save_done(nd, p->n - 1);
		cand = nd->bt & ~nd->done & ~nd->sleep & nd->ev.mask;
		while (cand) {
			q = dp_pick(p, nd, cand);
			if (q >= 0)
				break;
			/* over the bound: the lowest candidate is dropped */
			cand &= cand - 1;
		}
		if (cand) {
			q = dp_pick(p, nd, cand);
			nd->ev.actor = q;
			p->diverge = p->n - 1;
			return dp_handout(p, cfg);
		}
		p->n--;
	}
	if (p->pruned && p->bound < p->max_bound) {
		/* Deepen: the same search with one more preemption allowed,
		 * and past DP_DEEPEN with the bound asked for (each round runs
		 * the classes of the rounds before it again: S1's right setting
		 * with two rounds took 921,047 runs deepening one by one, 109,163
		 * in one round); the classes seen already are not counted again. */
		p->bound = p->bound < DP_DEEPEN ? p->bound + 1 : p->max_bound;
		p->pruned = false;
		p->inited = false;
		p->n = 0;
		p->diverge = 0;
		return dp_handout(p, cfg);
	}
	p->done = true;
	return false;
}

static int dp_grow(struct mmn__dpor *p, size_t n)
{
	struct dp_node *nd;
	uint32_t *vc;
	size_t cap = p->cap;

	if (n <= p->cap)
		return 0;
	while (cap < n)
		cap = cap ? cap * 2 : 256;
	nd = realloc(p->nd, cap * sizeof(*nd));
	if (!nd)
		return -ENOMEM;
	memset(nd + p->cap, 0, (cap - p->cap) * sizeof(*nd));
	p->nd = nd;
	vc = realloc(p->vc, cap * DP_MAXACT * sizeof(*vc));
	if (!vc)
		return -ENOMEM;
	p->vc = vc;
	p->cap = cap;
	return 0;
}

/* Whether the step @f, learnt at node @at, is dependent with step @e of
 * the current run. */
static bool dp_sleep_dep(const struct det_step *f, size_t at, const struct det_step *e)
{
	if (f->all || e->all || (f->vague && !f->declared) || (e->vague && !e->declared))
		return true;
	for (unsigned int i = 0; i < f->nacc; i++)
		for (unsigned int j = 0; j < e->nacc; j++) {
			const void *x = f->acc[i].obj, *y = e->acc[j].obj;
			bool same = x == y || (x == DP_FRESH && y && e->acc[j].cls != DET_C_FRAME &&
					       DP_ID_STEP(y) >= at);

			if (mmn__det_acc_conflict(&f->acc[i], &e->acc[j], same))
				return true;
		}
	return false;
}

/*
 * Sleep sets from node @k on, for the steps of the run just made; returns
 * the node whose step was a sleeping actor's (the run is not a new class
 * there), or @m when none was.
 */
static size_t dp_sleep(struct mmn__dpor *p, size_t k, size_t m)
{
	uint64_t s = k < p->split ? 0 : p->nd[k].sleep | p->nd[k].done;
	uint32_t at[DP_MAXACT];

	memcpy(at, p->nd[k].slp_node, sizeof(at));
	for (int q = 0; q < DP_MAXACT; q++)
		if ((p->nd[k].done & (1ULL << q)) && p->nd[k].dfp)
			at[q] = (uint32_t)k;
	for (size_t j = k; j < m; j++) {
		struct dp_node *nd = &p->nd[j];

		if (j < p->split)
			s = 0; /* the exhaustive top */
		if (j > k) {
			nd->sleep = s;
			memcpy(nd->slp_node, at, sizeof(at));
			if (nd->ev.actor >= 0 && (s & (1ULL << nd->ev.actor)))
				return j;
		}
		s &= ~(1ULL << nd->ev.actor);
		if (nd->ev.phantom)
			continue;
		for (int q = 0; q < DP_MAXACT; q++)
			if ((s & (1ULL << q)) && dp_sleep_dep(dp_sleep_fp(p, at, q), at[q], &nd->ev))
				s &= ~(1ULL << q);
	}
	return m;
}

/* Whether @q is an initial of notdep(j).i (the steps after j not after it,
 * then i): its first such step has no predecessor among them. */
static uint64_t dp_initials(const struct mmn__dpor *p, size_t j, size_t i)
{
	size_t first[DP_MAXACT];
	uint64_t have = 0, init = 0;
	int aj = p->nd[j].ev.actor;

	for (size_t k = j + 1; k < i; k++) {
		const struct dp_node *nd = &p->nd[k];
		int q = nd->ev.actor;

		if (nd->ev.phantom || q == aj || (have & (1ULL << q)))
			continue;
		if (p->vc[k * DP_MAXACT + aj] >= j + 1)
			continue; /* after j */
		have |= 1ULL << q;
		first[q] = k;
	}
	if (!(have & (1ULL << p->nd[i].ev.actor))) {
		have |= 1ULL << p->nd[i].ev.actor;
		first[p->nd[i].ev.actor] = i;
	}
	for (int q = 0; q < DP_MAXACT; q++) {
		bool ok = true;

		if (!(have & (1ULL << q)))
			continue;
		for (int r = 0; r < DP_MAXACT && ok; r++)
			if (r != q && (have & (1ULL << r)) && first[r] < first[q] &&
			    p->vc[first[q] * DP_MAXACT + r] >= first[r] + 1)
				ok = false;
		if (ok)
			init |= 1ULL << q;
	}
	return init;
}

static void dp_race(struct mmn__dpor *p, size_t j, size_t i)
{
	struct dp_node *nj = &p->nd[j];
	uint64_t init;
	int q;

	if (nj->ev.choice < 0 || j < p->split)
		return; /* forced, or in the exhaustive top */
	init = dp_initials(p, j, i);
	if (init & (nj->bt | nj->done | nj->sleep))
		return;
	q = dp_pick(p, nj, init & nj->ev.mask);
	if (q >= 0)
		nj->bt |= 1ULL << q;
}

/* Fill the vector clock of step @i; with @races, race it with the steps
 * before it. */
static void dp_vc(struct mmn__dpor *p, size_t i, bool races)
{
	uint32_t *v = &p->vc[i * DP_MAXACT];
	const struct det_step *ei = &p->nd[i].ev;

	memset(v, 0, DP_MAXACT * sizeof(*v));
	for (size_t jj = i; jj-- > 0;) {
		const struct det_step *ej = &p->nd[jj].ev;
		const uint32_t *w;

		if (ej->phantom || v[ej->actor] >= jj + 1)
			continue;
		if (ej->actor != ei->actor && !mmn__det_dependent(ej, ei))
			continue;
		if (races && ej->actor != ei->actor)
			dp_race(p, jj, i);
		w = &p->vc[jj * DP_MAXACT];
		for (int q = 0; q < DP_MAXACT; q++)
			if (w[q] > v[q])
				v[q] = w[q];
	}
	v[ei->actor] = (uint32_t)i + 1;
}

/* The class of the run: the steps in the canonical (lowest actor first)
 * order of their happens-before relation, hashed; *@key: the hash of the
 * actors of its first @split steps. */
static uint64_t dp_class(const struct mmn__dpor *p, size_t m, uint64_t *key)
{
	uint32_t emitted[DP_MAXACT] = { 0 };
	size_t next[DP_MAXACT], left = 0, out = 0;
	uint64_t h = 0xcbf29ce484222325ULL;

	*key = h;
	for (int q = 0; q < DP_MAXACT; q++)
		next[q] = m;
	for (size_t i = m; i-- > 0;)
		if (!p->nd[i].ev.phantom) {
			next[p->nd[i].ev.actor] = i;
			left++;
		}
	while (left) {
		int q;

		for (q = 0; q < DP_MAXACT; q++) {
			const uint32_t *v;
			bool ready = true;

			if (next[q] >= m)
				continue;
			v = &p->vc[next[q] * DP_MAXACT];
			for (int r = 0; r < DP_MAXACT && ready; r++)
				if (r != q && v[r] > emitted[r])
					ready = false;
			if (ready)
				break;
		}
		if (q == DP_MAXACT)
			break; /* cannot happen: happens-before is acyclic */
		h = dp_fnv(h, (uint64_t)q);
		if (out++ < p->split)
			*key = dp_fnv(*key, (uint64_t)q);
		emitted[q] = (uint32_t)next[q] + 1;
		left--;
		do
			next[q]++;
		while (next[q] < m && (p->nd[next[q]].ev.phantom || p->nd[next[q]].ev.actor != q));
	}
	return h;
}

/* The key of the subtree the run is in: the actors of its first @split
 * steps (phantoms left out, as the canonical order leaves them out). */
static uint64_t dp_split_key(const struct mmn__dpor *p, size_t m)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	unsigned int c = 0;

	for (size_t i = 0; i < m && c < p->split; i++)
		if (!p->nd[i].ev.phantom) {
			h = dp_fnv(h, (uint64_t)p->nd[i].ev.actor);
			c++;
		}
	return h;
}

/* Count class @id unless seen: true if new. */
static bool dp_seen_add(struct mmn__dpor *p, uint64_t id)
{
	size_t i;

	id = id ? id : 1;
	if (2 * (p->nseen + 1) > p->seen_cap) {
		size_t cap = p->seen_cap ? 2 * p->seen_cap : 1024;
		uint64_t *t = calloc(cap, sizeof(*t));

		if (!t)
			return true; /* counted again rather than lost */
		for (size_t k = 0; k < p->seen_cap; k++)
			if (p->seen[k]) {
				for (i = p->seen[k] % cap; t[i]; i = (i + 1) % cap)
					;
				t[i] = p->seen[k];
			}
		free(p->seen);
		p->seen = t;
		p->seen_cap = cap;
	}
	for (i = id % p->seen_cap; p->seen[i]; i = (i + 1) % p->seen_cap)
		if (p->seen[i] == id)
			return false;
	p->seen[i] = id;
	p->nseen++;
	return true;
}

/* The identity of @ptr, first seen at step @i slot @slot if new. */
static const void *dp_id(struct mmn__dpor *p, const void *ptr, size_t i, unsigned int slot)
{
	size_t h;

	if (!ptr)
		return NULL;
	h = ((uintptr_t)ptr >> 4) * 0x9e3779b97f4a7c15ULL % p->map_cap;
	while (p->map[h].ptr && p->map[h].ptr != ptr)
		h = (h + 1) % p->map_cap;
	if (!p->map[h].ptr) {
		p->map[h].ptr = ptr;
		p->map[h].id = DP_ID(i, slot);
	}
	return p->map[h].id;
}

/* Take the steps of the last run into the nodes: the nodes before @k get
 * the run's identities only, node @k its new step, the rest are new. */
static int dp_take(struct mmn__dpor *p, const struct sync_det *d, size_t k, size_t m)
{
	size_t need = 2 * (m * DET_STEP_ACC + 1);
	int err = dp_grow(p, m);

	if (err)
		return err;
	if (need > p->map_cap) {
		struct dp_map *mp = realloc(p->map, need * sizeof(*mp));

		if (!mp)
			return -ENOMEM;
		p->map = mp;
		p->map_cap = need;
	}
	memset(p->map, 0, p->map_cap * sizeof(*p->map));
	for (size_t i = 0; i < m; i++) {
		struct dp_node *nd = &p->nd[i];
		const struct det_step *e = &d->rsteps[i];

		if (e->actor < 0 || e->actor >= DP_MAXACT)
			return -EINVAL;
		if (i == k && p->inited && nd->ev.actor != e->actor)
			p->bounded = true; /* the replay went elsewhere: not deterministic */
		nd->ev = *e;
		for (unsigned int a = 0; a < e->nacc; a++)
			if (e->acc[a].cls != DET_C_FRAME) /* frames keep their pfn */
				nd->ev.acc[a].obj = dp_id(p, e->acc[a].obj, i, a);
		if (i > k) {
			const struct dp_node *pv = &p->nd[i - 1];

			free(nd->dfp);
			nd->dfp = NULL;
			nd->done = 0;
			nd->sleep = 0;
			nd->pre = pv->pre + dp_preempts(&pv->ev, (uint32_t)pv->ev.actor);
			nd->bt = e->choice >= 0 ? 1ULL << e->actor : 0;
			if (e->choice >= 0 && i < p->split)
				nd->bt = e->mask; /* the exhaustive top */
		} else if (!p->inited) {
			p->inited = true;
			nd->pre = 0;
			nd->bt = e->choice >= 0 ? (p->split ? e->mask : 1ULL << e->actor) : 0;
			nd->done = 0;
			nd->sleep = 0;
		}
	}
	return 0;
}

int mmn__dpor_record(struct mmn__dpor *p, const struct mmn_sim *sim)
{
	const struct sync_det *d = sim->sync->det;
	size_t k = p->diverge, m = d->nrsteps, end;
	uint64_t key, ckey;
	bool foreign;
	int err;

	if (!d->rec)
		return -EINVAL;
	if (d->rec_cut || d->outcome == MMN_OUTCOME_BUDGET)
		p->bounded = true;
	if (m <= k)
		return -EINVAL;
	err = dp_take(p, d, k, m);
	if (err)
		return err;
	p->n = m;
	p->recorded = true;
	end = dp_sleep(p, k, m);
	key = dp_split_key(p, m);
	foreign = p->shards > 1 && key % p->shards != p->shard;
	/* A foreign subtree: its top is learnt, the rest is not ours. */
	for (size_t i = k; i < end; i++)
		dp_vc(p, i, !foreign);
	p->last_counted = false;
	if (end < m) {
		struct dp_node *nd = &p->nd[end];

		/* A sleeping actor ran: go elsewhere from here next time. */
		if (nd->ev.choice >= 0) {
			int q = dp_pick(p, nd, nd->ev.mask & ~nd->sleep & ~(1ULL << nd->ev.actor));

			if (q >= 0)
				nd->bt |= 1ULL << q;
		}
		p->n = end + 1;
	}
	if (foreign && p->split < p->n)
		p->n = p->split;
	if (foreign || end < m)
		return 0;
	p->last_id = dp_class(p, m, &ckey);
	if (ckey == key && dp_seen_add(p, p->last_id)) {
		p->last_counted = true;
		p->counted++;
	}
	return 0;
}
