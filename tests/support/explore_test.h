/* SPDX-License-Identifier: MIT */
/*
 * Test helpers for explorations of a scenario's schedules (explore.h), shared
 * by the scenario suites, test_explore and test_sched. Include after
 * <cmocka.h>. Each helper takes the scenario's id ("S5"); the setting is a
 * struct mmn_scenario_params (setting_params()) where the callers differ.
 *
 * - SCALE(n): fewer schedules in the sanitizer builds (SLOW_BUILD).
 * - explore_finds_nothing(): a setting with no violating schedule.
 * - struct sums: counters summed over schedules run one by one.
 * - struct run_capture: one run's choices, trace and result, and its replay.
 * - struct first_found / struct first_search: the first violating schedule of
 *   a wrong setting, found within a bound, and its replay.
 */
#ifndef MMN_TEST_EXPLORE_H
#define MMN_TEST_EXPLORE_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/explore.h>
#include <mmnsim/scenario.h>
#include <mmnsim/sched.h>

/* ---- build speed ---------------------------------------------------------- */

#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
#define SLOW_BUILD 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer) || __has_feature(address_sanitizer)
#define SLOW_BUILD 1
#endif
#endif
#ifdef SLOW_BUILD
#define SCALE(n) ((n) / 4 ? (n) / 4 : 1)
#else
#define SCALE(n) (n)
#endif

/* ---- settings ------------------------------------------------------------- */

/* The seed's wrong or right setting, the scenario's own listener variant,
 * profile @profile (NULL: the scenario's choice for @wrong). */
static inline struct mmn_scenario_params setting_params(bool wrong, const char *profile)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1, .profile = profile };

	return p;
}

/* ---- a setting with no violating schedule --------------------------------- */

/* Found callback counting violating schedules; the first one is printed. */
static inline bool count_found(const struct mmn_explore_found *f, void *arg)
{
	unsigned long *found = arg;

	if (!*found)
		print_message("unexpected violating schedule %lu: %s\n", f->index, f->result->note);
	(*found)++;
	return true;
}

/*
 * Explore @runs schedules of scenario @id under @p with @strategy (seed 1):
 * no schedule violates, none deadlocks or runs out of budget, every one's
 * claim holds, and the actors did run.
 */
static inline void explore_finds_nothing(const char *id, struct mmn_scenario_params p,
					 enum mmn_explore_strategy strategy, unsigned long runs)
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	unsigned long found = 0;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.runs = runs;
	c.seed = 1;
	c.keep_going = true;
	c.trace = false;
	c.found = count_found;
	c.arg = &found;
	assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
	assert_int_equal(st.schedules, runs);
	assert_int_equal(st.violating, 0);
	assert_int_equal(found, 0);
	assert_true(st.first_index == ULONG_MAX);
	assert_int_equal(st.deadlocks, 0);
	assert_int_equal(st.budgets, 0);
	assert_int_equal(st.claims_held, runs);
	assert_true(st.steps > runs); /* the actors did run */
	assert_true(st.modelled_ns > 0);
}

/* The same, random walk (@random_runs) then PCT (@pct_runs). */
static inline void explore_both_find_nothing(const char *id, struct mmn_scenario_params p,
					     unsigned long random_runs, unsigned long pct_runs)
{
	explore_finds_nothing(id, p, MMN_EXPLORE_RANDOM, random_runs);
	explore_finds_nothing(id, p, MMN_EXPLORE_PCT, pct_runs);
}

/* ---- counters summed over schedules --------------------------------------- */

/* PCT's step estimate for the counting loops (a schedule is ~300-700 points) */
#define SUM_PCT_STEPS 500

/* Counters summed over schedules run one by one (mmn_scenario_run, EXPLORE). */
struct sums {
	unsigned long schedules, preemptions;
	int n;
	const char *names[MMN_SCENARIO_MAX_COUNTERS];
	unsigned long v[MMN_SCENARIO_MAX_COUNTERS];
	uint64_t modelled_ns;
};

/* The sum of counter @name; fails the test if the runs did not report it. */
static inline unsigned long sum_of(const struct sums *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return s->v[i];
	fail_msg("no counter %s", name);
	return 0;
}

static inline void sums_add(struct sums *s, const struct mmn_scenario_result *r)
{
	s->schedules++;
	s->preemptions += r->sched.preemptions;
	s->modelled_ns += r->modelled_ns;
	s->n = r->nr_counters;
	for (int k = 0; k < r->nr_counters; k++) {
		s->names[k] = r->counter_names[k];
		s->v[k] += r->counters[k];
	}
}

/*
 * Run @runs schedules (seeds 5000...) of scenario @id, setting @wrong, with
 * @strategy, each one clean (no violation, no deadlock, its claim holding),
 * into @s; @each (may be NULL) sees every schedule's result.
 */
static inline void sum_schedules(const char *id, bool wrong, enum mmn_sched_strategy strategy,
				 unsigned long runs, struct sums *s,
				 void (*each)(const struct mmn_scenario_result *r))
{
	const struct mmn_scenario *scn = mmn_scenario_by_id(id);

	for (unsigned long i = 0; i < runs; i++) {
		struct mmn_sched_config sc;
		struct mmn_scenario_params p = setting_params(wrong, NULL);
		struct mmn_scenario_result r;

		p.mode = MMN_SCENARIO_EXPLORE;
		p.sched = &sc;
		mmn_sched_config_init(&sc);
		sc.strategy = strategy;
		sc.seed = 5000 + i;
		sc.pct_depth = 3;
		sc.pct_steps = SUM_PCT_STEPS;
		sc.trace = false;
		assert_int_equal(mmn_scenario_run(id, &p, &r), 0);
		assert_false(mmn_explore_violating(scn, &p, &r));
		assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
		assert_true(r.claim_holds);
		sums_add(s, &r);
		if (each)
			each(&r);
	}
}

/* Both strategies, @runs schedules each, into @s (zeroed first); they did
 * interleave. */
static inline void sum_both(const char *id, bool wrong, unsigned long runs, struct sums *s,
			    void (*each)(const struct mmn_scenario_result *r))
{
	memset(s, 0, sizeof(*s));
	sum_schedules(id, wrong, MMN_STRATEGY_RANDOM, runs, s, each);
	sum_schedules(id, wrong, MMN_STRATEGY_PCT, runs, s, each);
	assert_true(s->preemptions > 0); /* the schedules did interleave */
}

/* ---- one run's choices, trace and result ---------------------------------- */

/* One run's choice list, trace (NUL-terminated) and result, copied out. */
struct run_capture {
	uint32_t *choices;
	size_t n;
	char *trace;
	size_t len;
	struct mmn_scenario_result r;
};

static inline char *trace_dup(const char *t, size_t len)
{
	char *s = malloc(len + 1);

	assert_non_null(s);
	memcpy(s, t, len);
	s[len] = '\0';
	return s;
}

/* Inspect callback: copy the run's choices, trace and result into @arg. */
static inline void run_capture_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r,
				       void *arg)
{
	struct run_capture *c = arg;
	const char *t = mmn_sched_trace(sim, &c->len);

	c->n = mmn_sched_choices(sim, NULL, 0);
	c->choices = calloc(c->n ? c->n : 1, sizeof(*c->choices));
	assert_non_null(c->choices);
	assert_int_equal(mmn_sched_choices(sim, c->choices, c->n), c->n);
	c->trace = trace_dup(t, c->len);
	c->r = *r;
}

static inline void run_capture_free(struct run_capture *c)
{
	free(c->choices);
	free(c->trace);
	memset(c, 0, sizeof(*c));
}

/* Run one EXPLORE schedule @sc of scenario @id under @p, captured into @c;
 * returns the run's result. */
static inline struct mmn_scenario_result run_captured(const char *id,
						      const struct mmn_scenario_params *p,
						      const struct mmn_sched_config *sc,
						      struct run_capture *c)
{
	struct mmn_scenario_params q = *p;
	struct mmn_scenario_result r;

	q.mode = MMN_SCENARIO_EXPLORE;
	q.sched = sc;
	q.inspect = run_capture_inspect;
	q.inspect_arg = c;
	memset(c, 0, sizeof(*c));
	assert_int_equal(mmn_scenario_run(id, &q, &r), 0);
	assert_non_null(c->trace); /* inspect was called */
	assert_int_equal(r.claim_holds, c->r.claim_holds);
	return r;
}

/* Replay @choices (@n) of scenario @id under @p, traced, captured into @c:
 * no choice missed; returns the run's result. */
static inline struct mmn_scenario_result replay_captured(const char *id,
							 const struct mmn_scenario_params *p,
							 const uint32_t *choices, size_t n,
							 struct run_capture *c)
{
	struct mmn_sched_config rc;
	struct mmn_scenario_result r;

	mmn_sched_config_init(&rc);
	rc.strategy = MMN_STRATEGY_REPLAY;
	rc.replay = choices;
	rc.replay_len = n;
	rc.trace = true;
	r = run_captured(id, p, &rc, c);
	assert_int_equal(r.sched.replay_misses, 0);
	return r;
}

/* @b (a replay of @a) is @a: the same schedule, choices and trace byte for
 * byte, verdict, violations, counters, note and modelled time. */
static inline void assert_runs_identical(const struct run_capture *a, const struct run_capture *b)
{
	assert_int_equal(b->r.sched.replay_misses, 0);
	assert_int_equal(b->r.sched.outcome, a->r.sched.outcome);
	assert_int_equal(b->r.sched.steps, a->r.sched.steps);
	assert_int_equal(b->r.sched.preemptions, a->r.sched.preemptions);
	assert_int_equal(b->n, a->n);
	assert_memory_equal(b->choices, a->choices, a->n * sizeof(*a->choices));
	assert_int_equal(b->len, a->len);
	assert_memory_equal(b->trace, a->trace, a->len);
	assert_int_equal(b->r.claim_holds, a->r.claim_holds);
	assert_int_equal(b->r.violations, a->r.violations);
	assert_memory_equal(b->r.by_kind, a->r.by_kind, sizeof(a->r.by_kind));
	assert_int_equal(b->r.modelled_ns, a->r.modelled_ns);
	assert_int_equal(b->r.nr_counters, a->r.nr_counters);
	for (int k = 0; k < a->r.nr_counters; k++) {
		assert_string_equal(b->r.counter_names[k], a->r.counter_names[k]);
		assert_int_equal(b->r.counters[k], a->r.counters[k]);
	}
	assert_string_equal(b->r.note, a->r.note);
}

/* A random schedule (seeds 1..200) of scenario @id under @p that preempts
 * and that @interesting accepts, captured into @c (traced). */
static inline void find_interesting_run(const char *id, const struct mmn_scenario_params *p,
					bool (*interesting)(const struct mmn_scenario_result *r),
					struct run_capture *c)
{
	struct mmn_sched_config sc;
	uint64_t seed;

	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_RANDOM;
	sc.trace = true;
	for (seed = 1; seed <= 200; seed++) {
		sc.seed = seed;
		run_captured(id, p, &sc, c);
		if (c->r.sched.preemptions > 0 && interesting(&c->r))
			break;
		run_capture_free(c);
	}
	assert_true(seed <= 200);
	assert_true(c->n > 0);
	assert_true(c->len > 0);
}

/*
 * Find a random schedule of the wrong setting of scenario @id that
 * @interesting accepts (seeds 1..200), replay its choice list: the same
 * trace byte for byte, the same choices, counters, verdict and modelled time.
 */
static inline void replay_is_byte_identical(const char *id,
					    bool (*interesting)(const struct mmn_scenario_result *r))
{
	struct mmn_scenario_params p = setting_params(true, NULL);
	struct run_capture a, b;

	find_interesting_run(id, &p, interesting, &a);
	replay_captured(id, &p, a.choices, a.n, &b);
	assert_runs_identical(&a, &b);
	run_capture_free(&a);
	run_capture_free(&b);
}

/* ---- the first violating schedule of a wrong setting ---------------------- */

/* The first violating schedule an exploration hands over, copied out of the
 * found callback (keep_first_found); later ones are only counted. */
struct first_found {
	unsigned long calls;        /* found callbacks */
	unsigned long index;        /* the first one's global index */
	struct mmn_sched_config sc; /* what it ran with (pointers not followed) */
	struct run_capture run;     /* its choices, trace and result */
};

/* Found callback: keep the first schedule, count every one, go on (the
 * exploration stops at the first unless it keeps going). */
static inline bool keep_first_found(const struct mmn_explore_found *f, void *arg)
{
	struct first_found *x = arg;

	if (x->calls++)
		return true;
	x->index = f->index;
	x->sc = *f->sched;
	x->run.r = *f->result;
	x->run.n = f->nr_choices;
	x->run.choices = calloc(f->nr_choices ? f->nr_choices : 1, sizeof(*x->run.choices));
	assert_non_null(x->run.choices);
	if (f->nr_choices)
		memcpy(x->run.choices, f->choices, f->nr_choices * sizeof(*x->run.choices));
	x->run.trace = trace_dup(f->trace, f->trace_len);
	x->run.len = f->trace_len;
	return true;
}

static inline void first_found_free(struct first_found *x)
{
	run_capture_free(&x->run);
	memset(x, 0, sizeof(*x));
}

/* How a scenario's wrong setting shows its bug in the schedule found. */
struct first_search {
	const char *id;
	const char *profile;          /* NULL: the wrong setting's own */
	unsigned long runs;           /* schedules a search may run; 0: its bound */
	enum mmn_violation_kind kind; /* a violation the schedule found must show */
	const char *trace_point;      /* a text its trace must contain; NULL: none */
};

/* Explore the wrong setting of @s with @strategy from @seed (@runs
 * schedules at most) until its first violating schedule, kept in @f. */
static inline struct mmn_explore_stats find_first_violating(const struct first_search *s,
							    enum mmn_explore_strategy strategy,
							    uint64_t seed, unsigned long runs,
							    struct first_found *f)
{
	struct mmn_scenario_params p = setting_params(true, s->profile);
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.seed = seed;
	c.runs = runs;
	c.found = keep_first_found;
	c.arg = f;
	assert_int_equal(mmn_scenario_explore(s->id, &p, &c, &st), 0);
	return st;
}

/* The search stopped at its first violating schedule, before @bound, and
 * handed it over: clean before it, showing @s's violation and trace point. */
static inline void assert_first_found(const struct first_search *s,
				      const struct mmn_explore_stats *st,
				      const struct first_found *f, unsigned long bound)
{
	assert_int_equal(st->violating, 1);
	assert_true(st->first_index < bound);
	assert_int_equal(st->schedules, st->first_index + 1);
	assert_int_equal(st->deadlocks, 0);
	assert_int_equal(st->budgets, 0);
	assert_int_equal(f->calls, 1);
	assert_int_equal(f->index, st->first_index);
	assert_true(f->run.r.by_kind[s->kind] > 0);
	assert_true(f->run.r.claim_holds);
	assert_true(f->run.len > 0);
	if (s->trace_point)
		assert_non_null(strstr(f->run.trace, s->trace_point));
}

/* From each of @nr_seeds seeds (1000*k), @strategy finds a violating
 * schedule of @s before @bound. */
static inline void assert_found_within(const struct first_search *s,
				       enum mmn_explore_strategy strategy, uint64_t nr_seeds,
				       unsigned long bound)
{
	for (uint64_t k = 0; k < nr_seeds; k++) {
		struct first_found f = { 0 };
		struct mmn_explore_stats st =
			find_first_violating(s, strategy, 1000 * k, s->runs ? s->runs : bound, &f);

		assert_first_found(s, &st, &f, bound);
		first_found_free(&f);
	}
}

/*
 * Find the first violating schedule of @s with @strategy from @seed (@runs
 * schedules at most) and replay its choice list: no choice missed, the same
 * choices, violations, counters and verdict, the trace byte for byte.
 * Returns the replay's result for the scenario's own checks.
 */
static inline struct mmn_scenario_result found_schedule_replays(const struct first_search *s,
								enum mmn_explore_strategy strategy,
								uint64_t seed, unsigned long runs)
{
	struct mmn_scenario_params p = setting_params(true, s->profile);
	struct first_found f = { 0 };
	struct mmn_explore_stats st = find_first_violating(s, strategy, seed, runs, &f);
	struct run_capture c;
	struct mmn_scenario_result r;

	assert_int_equal(st.violating, 1);
	assert_int_equal(f.calls, 1);
	assert_true(f.run.n > 0);
	r = replay_captured(s->id, &p, f.run.choices, f.run.n, &c);
	assert_int_equal(r.sched.choices, f.run.n);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_true(r.claim_holds);
	assert_memory_equal(r.by_kind, f.run.r.by_kind, sizeof(r.by_kind));
	assert_runs_identical(&f.run, &c);
	run_capture_free(&c);
	first_found_free(&f);
	return r;
}

#endif /* MMN_TEST_EXPLORE_H */
