// SPDX-License-Identifier: MIT
/*
 * Exhaustive exploration and shrinking on top of the deterministic backend's
 * replay strategy.
 *
 * The explorer is stateless model checking in the manner of CHESS (Musuvathi
 * and Qadeer, PLDI 2007): a schedule is a prefix of choices followed by the
 * replay strategy's non-preemptive default, every run is started afresh by
 * the caller, and a depth-first search over the choice points decides the
 * next prefix. A node keeps the runnable set of its choice point, the actor
 * that was running (if it could go on), the choices tried so far and the
 * preemptions spent before it; an alternative is tried only if it keeps the
 * schedule's preemptions within the bound. The default suffix adds none, so
 * the bound holds for the whole schedule.
 *
 * Shrinking is ddmin (Zeller and Hildebrandt, TSE 2002) over the choice
 * list: remove chunks, halving their size when no removal still fails. A
 * list shortened this way replays with the default past its end, so shorter
 * lists mean fewer forced preemptions.
 */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#include "det_dpor.h"
#include "priv.h"

struct x_node {
	uint64_t mask;      /* runnable actors */
	uint64_t tried;     /* choices made here so far */
	int32_t cur;        /* actor that could go on, -1 if none */
	uint32_t chosen;
	unsigned int pre;   /* preemptions before this point */
};

struct mmn_sched_explorer {
	unsigned int bound;
	struct x_node *st;
	size_t n, cap;
	uint32_t *prefix;
	size_t prefix_cap;
	unsigned long count;
	bool started, recorded, done;
	bool complete;      /* done because every schedule was handed out */
	bool stopped;       /* the last mmn_sched_explore() stopped on fn's 1 */
	struct mmn__dpor *dp; /* DPOR (mmn_sched_dpor_create()): everything is its */
	/* sharding: the subtree under the first @depth choices is shard
	 * hash(choices) % shards's */
	unsigned int shard, shards, depth;
	unsigned long counted;
	bool last_counted;
	uint64_t last_id;
};

static uint64_t x_fnv(uint64_t h, uint64_t v)
{
	for (int i = 0; i < 8; i++) {
		h ^= (v >> (8 * i)) & 0xff;
		h *= 0x100000001b3ULL;
	}
	return h;
}

/* Hash of the choices of the first @n nodes. */
static uint64_t x_key(const struct mmn_sched_explorer *x, size_t n)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (size_t i = 0; i < n; i++)
		h = x_fnv(h, x->st[i].chosen);
	return h;
}

static bool x_foreign(const struct mmn_sched_explorer *x, size_t n)
{
	return x->shards > 1 && x_key(x, n < x->depth ? n : x->depth) % x->shards != x->shard;
}

struct mmn_sched_explorer *mmn_sched_explorer_create(unsigned int preemption_bound)
{
	struct mmn_sched_explorer *x = calloc(1, sizeof(*x));

	if (x) {
		x->bound = preemption_bound;
		x->shards = 1;
	}
	return x;
}

struct mmn_sched_explorer *mmn_sched_dpor_create(unsigned int preemption_bound)
{
	struct mmn_sched_explorer *x = mmn_sched_explorer_create(preemption_bound);

	if (x && !(x->dp = mmn__dpor_create(preemption_bound))) {
		free(x);
		return NULL;
	}
	return x;
}

int mmn_sched_explorer_shard(struct mmn_sched_explorer *x, unsigned int shard,
			     unsigned int shards, unsigned int depth)
{
	if (!x || !shards || shard >= shards || (shards > 1 && !depth) || x->started ||
	    (x->dp && mmn__dpor_runs(x->dp)))
		return -EINVAL;
	x->shard = shard;
	x->shards = shards;
	x->depth = depth;
	if (x->dp)
		mmn__dpor_shard(x->dp, shard, shards, depth);
	return 0;
}

int mmn_sched_explorer_last(const struct mmn_sched_explorer *x, uint64_t *id)
{
	if (!x)
		return -EINVAL;
	if (x->dp)
		return mmn__dpor_last(x->dp, id);
	if (id)
		*id = x->last_id;
	return x->last_counted;
}

unsigned long mmn_sched_explorer_schedules(const struct mmn_sched_explorer *x)
{
	if (!x)
		return 0;
	return x->dp ? mmn__dpor_counted(x->dp) : x->counted;
}

bool mmn_sched_explorer_bounded(const struct mmn_sched_explorer *x)
{
	return x && x->dp && mmn__dpor_bounded(x->dp);
}

void mmn_sched_explorer_destroy(struct mmn_sched_explorer *x)
{
	if (!x)
		return;
	mmn__dpor_destroy(x->dp);
	free(x->st);
	free(x->prefix);
	free(x);
}

unsigned long mmn_sched_explorer_count(const struct mmn_sched_explorer *x)
{
	if (!x)
		return 0;
	return x->dp ? mmn__dpor_runs(x->dp) : x->count;
}

static unsigned int x_preempts(const struct x_node *nd, uint32_t y)
{
	return nd->cur >= 0 && (uint32_t)nd->cur != y;
}

/* Whether node @nd has a choice not tried yet within the bound. */
static bool x_untried(const struct mmn_sched_explorer *x, const struct x_node *nd)
{
	for (uint32_t y = 0; y < 64; y++) {
		uint64_t bit = 1ULL << y;

		if ((nd->mask & bit) && !(nd->tried & bit) && nd->pre + x_preempts(nd, y) <= x->bound)
			return true;
	}
	return false;
}

bool mmn_sched_explorer_complete(const struct mmn_sched_explorer *x)
{
	if (!x)
		return false;
	if (x->dp)
		return mmn__dpor_complete(x->dp);
	if (x->done)
		return x->complete;
	/* Not asked yet, but nothing is left: the last run was recorded and
	 * no node on the stack has an alternative within the bound. */
	if (!x->started || !x->recorded)
		return false;
	for (size_t i = 0; i < x->n; i++)
		if (x_untried(x, &x->st[i]))
			return false;
	return true;
}

bool mmn_sched_explorer_stopped(const struct mmn_sched_explorer *x)
{
	return x && x->stopped;
}

bool mmn_sched_explorer_next(struct mmn_sched_explorer *x, struct mmn_sched_config *cfg)
{
	if (!x || !cfg || x->done)
		return false;
	if (x->dp)
		return mmn__dpor_next(x->dp, cfg);
	if (x->started) {
		bool found = false;

		/* Without a record of the last run there is nothing to branch on. */
		if (!x->recorded) {
			x->done = true;
			return false;
		}
		while (x->n > 0 && !found) {
			struct x_node *nd = &x->st[x->n - 1];

			for (uint32_t y = 0; y < 64; y++) {
				uint64_t bit = 1ULL << y;

				if (!(nd->mask & bit) || (nd->tried & bit))
					continue;
				if (nd->pre + x_preempts(nd, y) > x->bound)
					continue;
				nd->tried |= bit;
				nd->chosen = y;
				if (x->n == x->depth && x_foreign(x, x->n))
					continue; /* another shard's subtree */
				found = true;
				break;
			}
			if (!found)
				x->n--;
		}
		if (!found) {
			x->done = true;
			x->complete = true;
			return false;
		}
	}
	if (x->n > x->prefix_cap) {
		uint32_t *p = realloc(x->prefix, x->n * sizeof(*p));

		if (!p) {
			x->done = true;
			return false;
		}
		x->prefix = p;
		x->prefix_cap = x->n;
	}
	for (size_t i = 0; i < x->n; i++)
		x->prefix[i] = x->st[i].chosen;
	x->started = true;
	x->recorded = false;
	x->count++;
	cfg->strategy = MMN_STRATEGY_REPLAY;
	cfg->replay = x->prefix;
	cfg->replay_len = x->n;
	return true;
}

int mmn_sched_explorer_record(struct mmn_sched_explorer *x, const struct mmn_sim *sim)
{
	const uint32_t *chosen;
	const uint64_t *masks;
	const int32_t *curs;
	unsigned int nact, pre;
	size_t n;

	if (!x || !sim || !sim->sync->det)
		return -EINVAL;
	if (x->dp)
		return mmn__dpor_record(x->dp, sim);
	n = mmn__det_choice_points(sim, &chosen, &masks, &curs, &nact);
	if (nact >= 64)
		return -EINVAL;
	if (n > x->cap) {
		struct x_node *s = realloc(x->st, n * sizeof(*s));

		if (!s)
			return -ENOMEM;
		x->st = s;
		x->cap = n;
	}
	/* The prefix replays the nodes already on the stack (a deterministic
	 * run reaches the same choice points); new nodes follow the default. */
	if (x->n > n)
		x->n = n;
	pre = 0;
	if (x->n) {
		const struct x_node *last = &x->st[x->n - 1];

		pre = last->pre + x_preempts(last, last->chosen);
	}
	for (size_t i = x->n; i < n; i++) {
		struct x_node *nd = &x->st[i];

		nd->mask = masks[i];
		nd->cur = curs[i];
		nd->chosen = chosen[i];
		nd->tried = 1ULL << chosen[i];
		nd->pre = pre;
		pre += x_preempts(nd, nd->chosen);
	}
	x->n = n;
	x->recorded = true;
	x->last_counted = !x_foreign(x, n);
	x->last_id = x_key(x, n);
	x->counted += x->last_counted;
	if (!x->last_counted && x->n > x->depth)
		x->n = x->depth; /* learnt the top; the rest is another shard's */
	return 0;
}

long mmn_sched_explore(struct mmn_sched_explorer *x, const struct mmn_sched_config *base,
		       unsigned long max_runs, mmn_sched_explore_fn fn, void *ctx)
{
	struct mmn_sched_config cfg;
	long runs = 0;

	if (!x || !fn)
		return -EINVAL;
	x->stopped = false;
	if (base)
		cfg = *base;
	else
		mmn_sched_config_init(&cfg);
	while ((!max_runs || (unsigned long)runs < max_runs) && mmn_sched_explorer_next(x, &cfg)) {
		int r = fn(x, &cfg, ctx);

		runs++;
		if (r < 0)
			return r;
		if (r > 0) {
			x->stopped = true;
			break;
		}
	}
	return runs;
}

/* ------------------------------------------------------------------ */
/* Shrinking                                                           */
/* ------------------------------------------------------------------ */

long mmn_sched_shrink(const uint32_t *choices, size_t n, uint32_t *out, mmn_sched_check_fn check,
		      void *ctx, unsigned long max_tries)
{
	uint32_t *cand;
	size_t len = n, gran = 2;
	unsigned long tries = 0;

	if ((!choices && n) || !out || !check)
		return -EINVAL;
	if (!max_tries)
		max_tries = 1000;
	if (n)
		memcpy(out, choices, n * sizeof(*out));
	if (n == 0)
		return 0;
	cand = calloc(n, sizeof(*cand));
	if (!cand)
		return (long)n; /* out is a copy: never longer */
	/* The empty list (pure default) first: the cheapest witness. */
	tries++;
	if (check(cand, 0, ctx)) {
		free(cand);
		return 0;
	}
	while (len >= 1 && tries < max_tries) {
		size_t chunk = (len + gran - 1) / gran;
		bool reduced = false;

		for (size_t start = 0; start < len && tries < max_tries; start += chunk) {
			size_t end = start + chunk < len ? start + chunk : len;
			size_t m = 0;

			for (size_t i = 0; i < len; i++)
				if (i < start || i >= end)
					cand[m++] = out[i];
			tries++;
			if (check(cand, m, ctx)) {
				memcpy(out, cand, m * sizeof(*out));
				len = m;
				gran = gran > 2 ? gran - 1 : 2;
				reduced = true;
				break;
			}
		}
		if (!reduced) {
			if (chunk <= 1)
				break;
			gran = gran * 2 < len ? gran * 2 : len;
		}
	}
	free(cand);
	return (long)len;
}
