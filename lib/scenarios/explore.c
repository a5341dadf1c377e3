// SPDX-License-Identifier: MIT
/*
 * Exploration of a scenario's schedules (explore.h): the loop over seeds or
 * over the exhaustive enumeration, the judgement of each run, the hand-off
 * of violating schedules, and shrinking through replays.
 *
 * Every schedule is a fresh run of the scenario's definition (registered or
 * one-off: the same runner as mmn_scenario_run()) in MMN_SCENARIO_EXPLORE mode;
 * the scenario calls back (mmn_scenario_params::inspect) before it destroys
 * its simulation, which is when the choice list and the trace are copied out
 * (only for violating runs, and for every run of the exhaustive search,
 * which must learn each run's choice points).
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmnsim/explore.h>

#include "scenarios_internal.h"

static const char *const x_strategy_names[] = { "random", "pct", "exhaustive", "dpor" };

const char *mmn_explore_strategy_name(enum mmn_explore_strategy s)
{
	if ((unsigned int)s >= sizeof(x_strategy_names) / sizeof(x_strategy_names[0]))
		return NULL;
	return x_strategy_names[s];
}

int mmn_explore_strategy_by_name(const char *name)
{
	for (unsigned int i = 0; name && i < sizeof(x_strategy_names) / sizeof(x_strategy_names[0]);
	     i++)
		if (!strcmp(name, x_strategy_names[i]))
			return (int)i;
	return -ENOENT;
}

void mmn_explore_config_init(struct mmn_explore_config *c)
{
	if (!c)
		return;
	memset(c, 0, sizeof(*c));
	c->strategy = MMN_EXPLORE_RANDOM;
	c->runs = 1000;
	c->seed = 1;
	c->shards = 1;
	c->pct_depth = 3;
	c->pct_steps = 0;
	c->max_steps = 100000;
	c->preemption_bound = 2;
	c->shard_depth = 6;
	c->trace = true;
}

/* The judgement for @found_kinds; @p has its variant resolved. */
static bool x_violating(unsigned int found_kinds, const struct mmn_scenario_params *p,
			const struct mmn_scenario_result *r)
{
	unsigned int mask = ~0u;

	/* Over budget: drained to the end, counted as such, never judged. */
	if (r->sched.outcome == MMN_OUTCOME_BUDGET)
		return false;
	if (p && p->wrong && found_kinds)
		mask = found_kinds;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		if ((mask & (1u << k)) && r->by_kind[k])
			return true;
	return false;
}

/* @p with its variant name resolved into wrong (as the runner will). */
static bool x_wrong(const struct mmn_scenario_def *d, const struct mmn_scenario_params *p)
{
	struct mmn_scenario_params q;
	int64_t values[MMN_SCENARIO_MAX_PARAMS];

	if (!p)
		return false;
	q = *p;
	return mmn__scn_resolve(d, &q, values) ? p->wrong : q.wrong;
}

bool mmn_explore_violating(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
			   const struct mmn_scenario_result *r)
{
	if (!s || !r)
		return false;
	return mmn_explore_violating_def(s->def, p, r);
}

bool mmn_explore_violating_def(const struct mmn_scenario_def *def,
			       const struct mmn_scenario_params *p,
			       const struct mmn_scenario_result *r)
{
	struct mmn_scenario_params q;

	if (!def || !r)
		return false;
	if (!p)
		return x_violating(def->found_kinds, NULL, r);
	q = *p;
	q.wrong = x_wrong(def, p);
	return x_violating(def->found_kinds, &q, r);
}

/* One schedule's run and what is copied out of it. */
struct x_run {
	const struct mmn_scenario_def *d;
	bool wrong;                   /* p's variant resolved */
	struct mmn_scenario_params p;
	struct mmn_sched_config sc;
	struct mmn_scenario_result r;
	struct mmn_sched_explorer *x; /* exhaustive: learns every run */
	struct mmn_sched_shrinker *sh; /* shrinking: learns every replay */
	bool want_trace;
	int err;                      /* from the inspect callback */
	bool violating;
	uint32_t *choices;
	size_t n, cap;
	char *trace;
	size_t tlen, tcap;
};

static int x_copy_out(struct x_run *xr, const struct mmn_sim *sim)
{
	size_t n = mmn_sched_choices(sim, NULL, 0);
	size_t tlen = 0;
	const char *t = xr->want_trace ? mmn_sched_trace(sim, &tlen) : "";

	if (n > xr->cap) {
		uint32_t *c = realloc(xr->choices, n * sizeof(*c));

		if (!c)
			return -ENOMEM;
		xr->choices = c;
		xr->cap = n;
	}
	xr->n = mmn_sched_choices(sim, xr->choices, n);
	if (tlen + 1 > xr->tcap) {
		char *c = realloc(xr->trace, tlen + 1);

		if (!c)
			return -ENOMEM;
		xr->trace = c;
		xr->tcap = tlen + 1;
	}
	memcpy(xr->trace, t, tlen + 1);
	xr->tlen = tlen;
	return 0;
}

static void x_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct x_run *xr = arg;
	struct mmn_scenario_params q = xr->p;

	q.wrong = xr->wrong;
	xr->violating = x_violating(xr->d->found_kinds, &q, r);
	if (xr->x)
		xr->err = mmn_sched_explorer_record(xr->x, sim);
	if (xr->sh)
		xr->err = mmn_sched_shrinker_record(xr->sh, sim);
	if (!xr->err && xr->violating)
		xr->err = x_copy_out(xr, sim);
}

/* @xr for explorations of the checked definition @d with @p (NULL:
 * defaults): -ENOMEM. */
static int x_run_init(struct x_run *xr, const struct mmn_scenario_def *d,
		      const struct mmn_scenario_params *p)
{
	static const struct mmn_scenario_params defaults = { .variant = -1 };

	memset(xr, 0, sizeof(*xr));
	xr->d = d;
	xr->p = p ? *p : defaults;
	xr->wrong = x_wrong(d, &xr->p);
	xr->p.mode = MMN_SCENARIO_EXPLORE;
	xr->p.inspect = x_inspect;
	xr->p.inspect_arg = xr;
	mmn_sched_config_init(&xr->sc);
	xr->sc.trace = false; /* see x_retrace() */
	xr->sc.pool = mmn_sched_pool_create();
	return xr->sc.pool ? 0 : -ENOMEM;
}

static void x_run_fini(struct x_run *xr)
{
	mmn_sched_pool_destroy(xr->sc.pool);
	free(xr->choices);
	free(xr->trace);
}

/* Run xr->sc once. */
static int x_run_one(struct x_run *xr)
{
	int err;

	xr->violating = false;
	xr->err = 0;
	xr->n = 0;
	xr->p.sched = &xr->sc;
	err = mmn__scn_run_checked(xr->d, &xr->p, &xr->r);
	return err ? err : xr->err;
}

static uint64_t x_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/*
 * Schedules run without a trace (formatting it is a fifth of a short
 * schedule's cost); a violating one is run again from its choice list with
 * the trace on, which gives the very trace the first run would have made.
 */
static int x_retrace(struct x_run *xr)
{
	struct mmn_sched_config keep = xr->sc;
	struct mmn_sched_explorer *x = xr->x;
	uint32_t *list = malloc((xr->n ? xr->n : 1) * sizeof(*list));
	int err;

	if (!list)
		return -ENOMEM;
	if (xr->n)
		memcpy(list, xr->choices, xr->n * sizeof(*list));
	xr->sc.strategy = MMN_STRATEGY_REPLAY;
	xr->sc.replay = list;
	xr->sc.replay_len = xr->n;
	xr->sc.trace = true;
	xr->want_trace = true;
	xr->x = NULL; /* the explorer learnt this schedule already */
	err = x_run_one(xr);
	if (!err && !xr->violating)
		err = -EIO; /* not reproducible: a bug of the library */
	xr->x = x;
	xr->sc = keep;
	xr->want_trace = false;
	free(list);
	return err;
}

int mmn_explore_stats_add_counter(struct mmn_explore_stats *st, const char *name, uint64_t value)
{
	int i;

	if (!st || !name)
		return -EINVAL;
	for (i = 0; i < st->nr_counters; i++)
		if (!strncmp(st->counter_name[i], name, sizeof(st->counter_name[i]) - 1))
			break;
	if (i == st->nr_counters) {
		if (i >= MMN_SCENARIO_MAX_COUNTERS)
			return -ENOSPC;
		snprintf(st->counter_name[i], sizeof(st->counter_name[i]), "%s", name);
		st->nr_counters++;
	}
	st->counters[i] += value;
	return 0;
}

/* Fold one run into @st; hand it to c->found if it violated. Returns true to go on. */
static bool x_account(struct x_run *xr, const struct mmn_explore_config *c, unsigned long index,
		      uint64_t t0, struct mmn_explore_stats *st)
{
	bool go_on = true;

	st->schedules++;
	st->steps += xr->r.sched.steps;
	st->modelled_ns += xr->r.modelled_ns;
	st->deadlocks += xr->r.sched.outcome == MMN_OUTCOME_DEADLOCK;
	st->budgets += xr->r.sched.outcome == MMN_OUTCOME_BUDGET;
	st->claims_held += xr->r.claim_holds;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		st->by_kind[k] += xr->r.by_kind[k];
	for (int i = 0; i < xr->r.nr_counters && i < MMN_SCENARIO_MAX_COUNTERS; i++)
		if (xr->r.counter_names[i])
			(void)mmn_explore_stats_add_counter(st, xr->r.counter_names[i],
							    xr->r.counters[i]);
	if (xr->violating) {
		if (!st->violating++) {
			st->first_index = index;
			st->first_after = st->schedules;
			st->first_real_ns = x_now_ns() - t0;
		}
		if (c->found && c->trace && x_retrace(xr)) {
			xr->err = -EIO;
			return false;
		}
		if (c->found) {
			struct mmn_explore_found f = {
				.index = index,
				.sched = &xr->sc,
				.result = &xr->r,
				.choices = xr->choices,
				.nr_choices = xr->n,
				.trace = xr->tlen ? xr->trace : "",
				.trace_len = xr->tlen,
			};

			go_on = c->found(&f, c->arg);
		}
		go_on = go_on && c->keep_going;
	}
	if (go_on && c->progress && c->progress_every && st->schedules % c->progress_every == 0) {
		st->real_ns = x_now_ns() - t0;
		go_on = c->progress(st, c->arg);
	}
	return go_on;
}

/* The exhaustive enumeration or the DPOR search (this shard's) into @st. */
static int x_exhaustive(struct x_run *xr, const struct mmn_explore_config *c, uint64_t t0,
			struct mmn_explore_stats *st)
{
	bool dpor = c->strategy == MMN_EXPLORE_DPOR;
	int err = 0;

	xr->x = dpor ? mmn_sched_dpor_create(c->preemption_bound)
		     : mmn_sched_explorer_create(c->preemption_bound);
	if (!xr->x)
		return -ENOMEM;
	err = mmn_sched_explorer_shard(xr->x, c->shard, c->shards, c->shard_depth);
	while (!err) {
		uint64_t id;

		if (st->runs == c->runs)
			break;
		if (!mmn_sched_explorer_next(xr->x, &xr->sc)) {
			st->complete = mmn_sched_explorer_complete(xr->x);
			st->bounded = mmn_sched_explorer_bounded(xr->x);
			break;
		}
		err = x_run_one(xr);
		st->runs++;
		if (err || mmn_sched_explorer_last(xr->x, &id) != 1)
			continue; /* a class again, or another shard's */
		st->digest += id;
		if (c->schedule)
			c->schedule(id, xr->violating, c->arg);
		if (!x_account(xr, c, st->schedules, t0, st))
			break;
	}
	mmn_sched_explorer_destroy(xr->x);
	xr->x = NULL;
	return err;
}

/* Schedules of a random or PCT exploration (this shard's) into @st. */
static int x_seeded(struct x_run *xr, const struct mmn_explore_config *c, uint64_t t0,
		    struct mmn_explore_stats *st)
{
	int err = 0;

	if (c->strategy == MMN_EXPLORE_PCT && !c->pct_steps) {
		/* k from the non-preemptive schedule: same in every shard. */
		xr->sc.strategy = MMN_STRATEGY_REPLAY;
		err = x_run_one(xr);
		xr->sc.pct_steps = xr->r.sched.steps ? xr->r.sched.steps : 1;
	}
	xr->sc.strategy = c->strategy == MMN_EXPLORE_PCT ? MMN_STRATEGY_PCT : MMN_STRATEGY_RANDOM;
	for (unsigned long i = c->shard; !err && i < c->runs; i += c->shards) {
		xr->sc.seed = c->seed + i;
		err = x_run_one(xr);
		if (err || !x_account(xr, c, i, t0, st))
			break;
		if (c->runs - i <= c->shards)
			break; /* i += shards would pass runs (or wrap) */
	}
	return err;
}

/* Explore the checked definition @d. */
static int x_explore(const struct mmn_scenario_def *d, const struct mmn_scenario_params *p,
		     const struct mmn_explore_config *cfg, struct mmn_explore_stats *st)
{
	struct mmn_explore_config c;
	struct x_run xr;
	uint64_t t0;
	int err = 0;

	if (cfg)
		c = *cfg;
	else
		mmn_explore_config_init(&c);
	if (!c.shards || c.shard >= c.shards || !c.runs ||
	    (unsigned int)c.strategy > MMN_EXPLORE_DPOR)
		return -EINVAL;
	/* As mmn_sched_run() would refuse every schedule: say so once. */
	if (c.strategy == MMN_EXPLORE_PCT &&
	    (c.pct_depth < 1 || c.pct_depth > MMN_SCHED_PCT_MAX_DEPTH))
		return -EINVAL;
	if (c.strategy >= MMN_EXPLORE_EXHAUSTIVE && c.shards > 1 && !c.shard_depth)
		return -EINVAL;
	err = x_run_init(&xr, d, p);
	if (err) {
		x_run_fini(&xr);
		return err;
	}
	xr.sc.max_steps = c.max_steps;
	xr.sc.pct_depth = c.pct_depth;
	xr.sc.pct_steps = c.pct_steps;
	memset(st, 0, sizeof(*st));
	st->first_index = ULONG_MAX;
	t0 = x_now_ns();
	if (c.strategy >= MMN_EXPLORE_EXHAUSTIVE)
		err = x_exhaustive(&xr, &c, t0, st);
	else
		err = x_seeded(&xr, &c, t0, st);
	if (!err)
		err = xr.err; /* x_retrace() failed */
	st->real_ns = x_now_ns() - t0;
	x_run_fini(&xr);
	return err;
}

int mmn_scenario_explore(const char *id, const struct mmn_scenario_params *p,
			 const struct mmn_explore_config *c, struct mmn_explore_stats *st)
{
	const struct mmn_scenario *s;

	if (!id || !st)
		return -EINVAL;
	s = mmn_scenario_by_id(id);
	if (!s)
		return -ENOENT;
	return x_explore(s->def, p, c, st);
}

int mmn_scenario_explore_def(const struct mmn_scenario_def *def,
			     const struct mmn_scenario_params *p,
			     const struct mmn_explore_config *c, struct mmn_explore_stats *st)
{
	if (!st || mmn__scn_def_check(def))
		return -EINVAL;
	return x_explore(def, p, c, st);
}

/* Shrinking: each candidate list is replayed in a fresh run, which the
 * shrinker learns (x_inspect()). */
static bool x_shrink_check(struct mmn_sched_shrinker *sh, const uint32_t *choices, size_t n,
			   void *ctx)
{
	struct x_run *xr = ctx;
	bool violating;

	xr->sh = sh;
	xr->sc.replay = choices;
	xr->sc.replay_len = n;
	violating = x_run_one(xr) == 0 && xr->violating;
	xr->sh = NULL;
	return violating;
}

static long x_shrink(const struct mmn_scenario_def *d, const struct mmn_scenario_params *p,
		     unsigned long max_steps, const uint32_t *choices, size_t n, uint32_t *out,
		     unsigned long max_tries)
{
	struct x_run xr;
	long len;

	if ((!choices && n) || !out)
		return -EINVAL;
	len = x_run_init(&xr, d, p);
	if (!len) {
		xr.sc.strategy = MMN_STRATEGY_REPLAY;
		if (max_steps)
			xr.sc.max_steps = max_steps;
		len = mmn_sched_shrink_preemptions(choices, n, out, x_shrink_check, &xr,
						   max_tries);
	}
	x_run_fini(&xr);
	return len;
}

long mmn_scenario_shrink(const char *id, const struct mmn_scenario_params *p,
			 unsigned long max_steps, const uint32_t *choices, size_t n, uint32_t *out,
			 unsigned long max_tries)
{
	const struct mmn_scenario *s;

	if (!id)
		return -EINVAL;
	s = mmn_scenario_by_id(id);
	if (!s)
		return -ENOENT;
	return x_shrink(s->def, p, max_steps, choices, n, out, max_tries);
}

long mmn_scenario_shrink_def(const struct mmn_scenario_def *def,
			     const struct mmn_scenario_params *p, unsigned long max_steps,
			     const uint32_t *choices, size_t n, uint32_t *out,
			     unsigned long max_tries)
{
	if (mmn__scn_def_check(def))
		return -EINVAL;
	return x_shrink(def, p, max_steps, choices, n, out, max_tries);
}
