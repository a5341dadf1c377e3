// SPDX-License-Identifier: MIT
/*
 * Shrinking by preemptions (mmn_sched_shrink_preemptions()): a schedule a
 * person can read is one with few context switches, so remove preemptions
 * first, then shorten.
 *
 * The caller's replay function records each replay (the choice list the run
 * actually made, and at each choice point the actor that could have gone on
 * and the runnable set), so the shrinker knows which entries are
 * preemptions and what the replay default would have chosen. A record R is
 * reproduced exactly by its prefix up to its last entry that differs from
 * the default ("minimal length"). A candidate is accepted when its replay
 * still violates, its minimal list fits the caller's buffer, and it has
 * fewer preemptions, or as many and a shorter minimal list.
 *
 *   1. each preemption, last first: make it continue the current actor and
 *      drop everything after it (the default from there); failing that, make
 *      it continue and keep the rest of the list;
 *   2. each other non-default entry (after a block or an end), last first:
 *      the default instead;
 *   3. ddmin (mmn_sched_shrink()) over the minimal list, accepting only
 *      lists whose replay has no more preemptions.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#include "priv.h"

struct mmn_sched_shrinker {
	uint32_t *c;        /* the last replay's choices */
	int32_t *k;         /* the actor that could go on, -1 if none */
	uint64_t *m;        /* runnable sets */
	size_t n, cap;
	bool recorded;
	mmn_sched_replay_fn fn;
	void *ctx;
	unsigned long tries, max_tries;
	size_t room;        /* the caller's buffer */
	unsigned long best_pre;
};

int mmn_sched_shrinker_record(struct mmn_sched_shrinker *sh, const struct mmn_sim *sim)
{
	const uint32_t *chosen;
	const uint64_t *masks;
	const int32_t *curs;
	unsigned int nact;
	size_t n;

	if (!sh || !sim || !sim->sync->det)
		return -EINVAL;
	n = mmn__det_choice_points(sim, &chosen, &masks, &curs, &nact);
	if (n > sh->cap) {
		uint32_t *c = realloc(sh->c, n * sizeof(*c));
		int32_t *k;
		uint64_t *m;

		if (!c)
			return -ENOMEM;
		sh->c = c;
		k = realloc(sh->k, n * sizeof(*k));
		if (!k)
			return -ENOMEM;
		sh->k = k;
		m = realloc(sh->m, n * sizeof(*m));
		if (!m)
			return -ENOMEM;
		sh->m = m;
		sh->cap = n;
	}
	if (n) {
		memcpy(sh->c, chosen, n * sizeof(*sh->c));
		memcpy(sh->k, curs, n * sizeof(*sh->k));
		memcpy(sh->m, masks, n * sizeof(*sh->m));
	}
	sh->n = n;
	sh->recorded = true;
	return 0;
}

/* A copy of a record. */
struct sh_rec {
	uint32_t *c;
	int32_t *k;
	uint64_t *m;
	size_t n;
	unsigned long pre; /* preemptions */
	size_t len;        /* minimal length */
};

/* The replay default at choice @i of @r. */
static uint32_t sh_default(const struct sh_rec *r, size_t i)
{
	if (r->k[i] >= 0)
		return (uint32_t)r->k[i];
	return r->m[i] ? (uint32_t)__builtin_ctzll(r->m[i]) : r->c[i];
}

static void sh_measure(struct sh_rec *r)
{
	r->pre = 0;
	r->len = 0;
	for (size_t i = 0; i < r->n; i++) {
		if (r->k[i] >= 0 && r->c[i] != (uint32_t)r->k[i])
			r->pre++;
		if (r->c[i] != sh_default(r, i))
			r->len = i + 1;
	}
}

static void sh_rec_free(struct sh_rec *r)
{
	free(r->c);
	free(r->k);
	free(r->m);
	memset(r, 0, sizeof(*r));
}

/* Replay @list; on a violation, the run's record into @r (replacing it). */
static bool sh_try(struct mmn_sched_shrinker *sh, const uint32_t *list, size_t n, struct sh_rec *r)
{
	struct sh_rec x = { 0 };
	size_t sz;

	sh->tries++;
	sh->recorded = false;
	if (!sh->fn(sh, list, n, sh->ctx) || !sh->recorded)
		return false;
	sz = sh->n ? sh->n : 1;
	x.c = malloc(sz * sizeof(*x.c));
	x.k = malloc(sz * sizeof(*x.k));
	x.m = malloc(sz * sizeof(*x.m));
	if (!x.c || !x.k || !x.m) {
		sh_rec_free(&x);
		return false;
	}
	x.n = sh->n;
	if (x.n) {
		memcpy(x.c, sh->c, x.n * sizeof(*x.c));
		memcpy(x.k, sh->k, x.n * sizeof(*x.k));
		memcpy(x.m, sh->m, x.n * sizeof(*x.m));
	}
	sh_measure(&x);
	sh_rec_free(r);
	*r = x;
	return true;
}

/* Try @list against @best: keep the better of the two in @best. */
static bool sh_improve(struct mmn_sched_shrinker *sh, const uint32_t *list, size_t n,
		       struct sh_rec *best)
{
	struct sh_rec r = { 0 };

	if (!sh_try(sh, list, n, &r))
		return false;
	if (r.len <= sh->room &&
	    (r.pre < best->pre || (r.pre == best->pre && r.len < best->len))) {
		sh_rec_free(best);
		*best = r;
		return true;
	}
	sh_rec_free(&r);
	return false;
}

/* Steps 1 and 2 over @best. */
static void sh_rewrite(struct mmn_sched_shrinker *sh, struct sh_rec *best)
{
	bool again = true;

	while (again && sh->tries < sh->max_tries) {
		uint32_t *cand = malloc((best->n ? best->n : 1) * sizeof(*cand));

		again = false;
		if (!cand)
			return;
		for (size_t i = best->len; i-- > 0 && !again && sh->tries < sh->max_tries;) {
			uint32_t def = sh_default(best, i);
			bool preempt = best->k[i] >= 0 && best->c[i] != def;

			if (best->c[i] == def)
				continue;
			memcpy(cand, best->c, best->n * sizeof(*cand));
			cand[i] = def;
			/* A preemption: first without anything after it. */
			if (preempt && sh_improve(sh, cand, i + 1, best))
				again = true;
			else if (sh->tries < sh->max_tries && sh_improve(sh, cand, best->n, best))
				again = true;
		}
		free(cand);
	}
}

/* ddmin's predicate: still violates, no more preemptions. */
static bool sh_ddmin_check(const uint32_t *choices, size_t n, void *ctx)
{
	struct mmn_sched_shrinker *sh = ctx;
	struct sh_rec r = { 0 };
	bool ok;

	if (sh->tries >= sh->max_tries || !sh_try(sh, choices, n, &r))
		return false;
	ok = r.pre <= sh->best_pre;
	sh_rec_free(&r);
	return ok;
}

long mmn_sched_shrink_preemptions(const uint32_t *choices, size_t n, uint32_t *out,
				  mmn_sched_replay_fn fn, void *ctx, unsigned long max_tries)
{
	struct mmn_sched_shrinker sh = { 0 };
	struct sh_rec best = { 0 };
	long len;

	if ((!choices && n) || !out || !fn)
		return -EINVAL;
	if (n)
		memcpy(out, choices, n * sizeof(*out));
	sh.fn = fn;
	sh.ctx = ctx;
	sh.max_tries = max_tries ? max_tries : 1000;
	sh.room = n;
	/* The empty list (the non-preemptive default) first, then the list
	 * itself, whose replay tells which entries are preemptions. */
	len = 0;
	if (sh_try(&sh, out, 0, &best))
		goto done;
	len = (long)n;
	if (!sh_try(&sh, out, n, &best) || best.len > n)
		goto done;
	sh_rewrite(&sh, &best);
	if (best.len)
		memcpy(out, best.c, best.len * sizeof(*out));
	len = (long)best.len;
	if (len > 0 && sh.tries < sh.max_tries) {
		sh.best_pre = best.pre;
		/* best.c holds the same list: ddmin reads it, writes @out. */
		len = mmn_sched_shrink(best.c, best.len, out, sh_ddmin_check, &sh,
				       sh.max_tries - sh.tries);
	}
done:
	sh_rec_free(&best);
	free(sh.c);
	free(sh.k);
	free(sh.m);
	return len;
}
