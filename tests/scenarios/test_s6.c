/* SPDX-License-Identifier: MIT */
/*
 * S6 (seed 004): device-exclusive atomics restored by CPU access, seen by a
 * process-wide notifier; protection changes that notify without changing
 * the PTEs (mprotect after fork, NUMA hinting twice, soft-dirty twice):
 * false positives per operation and the mirror's needless teardowns. Both
 * settings INTERLEAVED with exact counts (latest and 6.10), NATIVE bounded,
 * bad params; EXPLORE: no violating schedule in either setting (random walk
 * and PCT), every exclusive entry restored with the process-wide notifier
 * seeing it in every schedule, the counters summed over schedules in the
 * seed's direction, and a replayed schedule byte for byte.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/explore.h>
#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

#include "support/scenario_test.h"

static struct mmn_scenario_result run_p(bool wrong, enum mmn_scenario_mode mode, const char *profile)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1, .mode = mode,
					 .profile = profile };
	struct mmn_scenario_result r;

	if (mode == MMN_SCENARIO_NATIVE)
		p.iterations = 400;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), 0);
	return r;
}

static void test_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S6");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "004");
	assert_int_equal(s->found_kinds, 0); /* a count scenario */
}

/* the false positives are the operations' own: the same for both mirrors */
static void assert_fp(const struct mmn_scenario_result *r)
{
	assert_int_equal(counter(r, "fp_mprotect_cow"), 8);
	assert_int_equal(counter(r, "fp_numa"), 8);
	assert_int_equal(counter(r, "fp_soft_dirty"), 8);
	assert_int_equal(counter(r, "restores"), 8);
}

static void test_blind_latest(void **state)
{
	struct mmn_scenario_result r = run_p(true, MMN_SCENARIO_INTERLEAVED, NULL);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_string_equal(r.profile, "latest");
	assert_fp(&r);
	assert_int_equal(counter(&r, "restores_clear"), 8); /* latest: CLEAR */
	/* the blind mirror erases what the operation did not change; NUMA's
	 * second pass finds its entries gone already (the first erased them) */
	assert_int_equal(counter(&r, "zaps_mprotect_cow"), 8);
	assert_int_equal(counter(&r, "zaps_numa"), 0);
	assert_int_equal(counter(&r, "zaps_soft_dirty"), 8);
	assert_non_null(strstr(r.setting, "event_blind"));
}

static void test_aware_latest(void **state)
{
	struct mmn_scenario_result r = run_p(false, MMN_SCENARIO_INTERLEAVED, NULL);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_fp(&r);
	assert_int_equal(counter(&r, "restores_clear"), 8);
	assert_int_equal(counter(&r, "zaps_mprotect_cow"), 0);
	assert_int_equal(counter(&r, "zaps_numa"), 0);
	assert_int_equal(counter(&r, "zaps_soft_dirty"), 0);
}

static void test_restore_exclusive_in_610(void **state)
{
	struct mmn_scenario_result w = run_p(true, MMN_SCENARIO_INTERLEAVED, "6.10");
	struct mmn_scenario_result r = run_p(false, MMN_SCENARIO_INTERLEAVED, "6.10");

	(void)state;
	assert_true(w.claim_holds);
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "6.10");
	assert_fp(&w);
	assert_fp(&r);
	/* 6.10: EXCLUSIVE with a NULL owner, not CLEAR */
	assert_int_equal(counter(&r, "restores_clear"), 0);
	assert_non_null(strstr(r.note, "EXCLUSIVE"));
	assert_int_equal(counter(&w, "zaps_soft_dirty"), 8);
	assert_int_equal(counter(&r, "zaps_soft_dirty"), 0);
}

static void test_native(void **state)
{
	struct mmn_scenario_result w = run_p(true, MMN_SCENARIO_NATIVE, NULL);
	struct mmn_scenario_result r = run_p(false, MMN_SCENARIO_NATIVE, NULL);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(w.violations, 0);
	assert_int_equal(r.runs, 200);
	assert_true(counter(&w, "fp_numa") + counter(&w, "fp_soft_dirty") > 0);
}

static void test_bad_params(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	p.pages = 65;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.pages = 0;
	p.variant = 2;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.variant = -1;
	p.mode = (enum mmn_scenario_mode)7;
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.mode = MMN_SCENARIO_INTERLEAVED;
	p.profile = "no-such";
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	p.profile = NULL;
	p.knobs[0] = "noequals";
	assert_int_equal(mmn_scenario_run("S6", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S6", NULL, &r), 0);
	assert_true(r.claim_holds);
}

#define SCN "S6"
/* ---- EXPLORE (count scenario: no violating schedule in either setting) ---- */

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

/* PCT's step estimate for the counting loops (a schedule is ~300-700 points) */
#define PCT_STEPS 500

static bool count_found(const struct mmn_explore_found *f, void *arg)
{
	unsigned long *found = arg;

	if (!*found)
		print_message("unexpected violating schedule %lu: %s\n", f->index, f->result->note);
	(*found)++;
	return true;
}

/*
 * Explore @runs schedules of the setting @wrong with @strategy: no schedule
 * violates, none deadlocks or runs out of budget, every one's claim holds.
 */
static void explore_finds_nothing(bool wrong, enum mmn_explore_strategy strategy,
				  unsigned long runs)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1 };
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
	assert_int_equal(mmn_scenario_explore(SCN, &p, &c, &st), 0);
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

/* Counters summed over schedules run one by one (mmn_scenario_run, EXPLORE). */
struct sums {
	unsigned long schedules, preemptions;
	int n;
	const char *names[MMN_SCENARIO_MAX_COUNTERS];
	unsigned long v[MMN_SCENARIO_MAX_COUNTERS];
	uint64_t modelled_ns;
};

static unsigned long sum_of(const struct sums *s, const char *name)
{
	for (int i = 0; i < s->n; i++)
		if (!strcmp(s->names[i], name))
			return s->v[i];
	fail_msg("no counter %s", name);
	return 0;
}

/* @each (may be NULL) sees every schedule's result. */
static void sum_schedules(bool wrong, enum mmn_sched_strategy strategy, unsigned long runs,
			  struct sums *s, void (*each)(const struct mmn_scenario_result *r))
{
	const struct mmn_scenario *scn = mmn_scenario_by_id(SCN);

	for (unsigned long i = 0; i < runs; i++) {
		struct mmn_sched_config sc;
		struct mmn_scenario_params p = { .wrong = wrong, .variant = -1,
						 .mode = MMN_SCENARIO_EXPLORE, .sched = &sc };
		struct mmn_scenario_result r;

		mmn_sched_config_init(&sc);
		sc.strategy = strategy;
		sc.seed = 5000 + i;
		sc.pct_depth = 3;
		sc.pct_steps = PCT_STEPS;
		sc.trace = false;
		assert_int_equal(mmn_scenario_run(SCN, &p, &r), 0);
		assert_false(mmn_explore_violating(scn, &p, &r));
		assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
		assert_true(r.claim_holds);
		s->schedules++;
		s->preemptions += r.sched.preemptions;
		s->modelled_ns += r.modelled_ns;
		s->n = r.nr_counters;
		for (int k = 0; k < r.nr_counters; k++) {
			s->names[k] = r.counter_names[k];
			s->v[k] += r.counters[k];
		}
		if (each)
			each(&r);
	}
}

/* Both strategies, @runs schedules each. */
static void sum_both(bool wrong, unsigned long runs, struct sums *s,
		     void (*each)(const struct mmn_scenario_result *r))
{
	memset(s, 0, sizeof(*s));
	sum_schedules(wrong, MMN_STRATEGY_RANDOM, runs, s, each);
	sum_schedules(wrong, MMN_STRATEGY_PCT, runs, s, each);
	assert_true(s->preemptions > 0); /* the schedules did interleave */
}

/* One run's choice list, trace and result, copied out by the inspect callback. */
struct capture {
	uint32_t *choices;
	size_t n;
	char *trace;
	size_t len;
	struct mmn_scenario_result r;
};

static void capture_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct capture *c = arg;
	const char *t = mmn_sched_trace(sim, &c->len);

	c->n = mmn_sched_choices(sim, NULL, 0);
	c->choices = calloc(c->n ? c->n : 1, sizeof(*c->choices));
	c->trace = malloc(c->len + 1);
	assert_non_null(c->choices);
	assert_non_null(c->trace);
	assert_int_equal(mmn_sched_choices(sim, c->choices, c->n), c->n);
	memcpy(c->trace, t, c->len + 1);
	c->r = *r;
}

static void capture_free(struct capture *c)
{
	free(c->choices);
	free(c->trace);
}

static void run_captured(bool wrong, const struct mmn_sched_config *sc, struct capture *c)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1,
					 .mode = MMN_SCENARIO_EXPLORE, .sched = sc,
					 .inspect = capture_inspect, .inspect_arg = c };
	struct mmn_scenario_result r;

	memset(c, 0, sizeof(*c));
	assert_int_equal(mmn_scenario_run(SCN, &p, &r), 0);
	assert_non_null(c->trace); /* inspect was called */
	assert_int_equal(r.claim_holds, c->r.claim_holds);
}

/*
 * Find a random schedule of the wrong setting that @interesting accepts
 * (seeds 1..200), replay its choice list: the same trace byte for byte,
 * the same choices, counters, verdict and modelled time.
 */
static void replay_is_byte_identical(bool (*interesting)(const struct mmn_scenario_result *r))
{
	struct mmn_sched_config sc, rc;
	struct capture a, b;
	uint64_t seed;

	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_RANDOM;
	sc.trace = true;
	for (seed = 1; seed <= 200; seed++) {
		sc.seed = seed;
		run_captured(true, &sc, &a);
		if (a.r.sched.preemptions > 0 && interesting(&a.r))
			break;
		capture_free(&a);
	}
	assert_true(seed <= 200);
	assert_true(a.n > 0);
	assert_true(a.len > 0);

	mmn_sched_config_init(&rc);
	rc.strategy = MMN_STRATEGY_REPLAY;
	rc.replay = a.choices;
	rc.replay_len = a.n;
	rc.trace = true;
	run_captured(true, &rc, &b);
	assert_int_equal(b.r.sched.replay_misses, 0);
	assert_int_equal(b.r.sched.outcome, a.r.sched.outcome);
	assert_int_equal(b.r.sched.steps, a.r.sched.steps);
	assert_int_equal(b.r.sched.preemptions, a.r.sched.preemptions);
	assert_int_equal(b.n, a.n);
	assert_memory_equal(b.choices, a.choices, a.n * sizeof(*a.choices));
	assert_int_equal(b.len, a.len);
	assert_memory_equal(b.trace, a.trace, a.len);
	assert_int_equal(b.r.claim_holds, a.r.claim_holds);
	assert_int_equal(b.r.violations, a.r.violations);
	assert_int_equal(b.r.modelled_ns, a.r.modelled_ns);
	assert_int_equal(b.r.nr_counters, a.r.nr_counters);
	for (int k = 0; k < a.r.nr_counters; k++) {
		assert_string_equal(b.r.counter_names[k], a.r.counter_names[k]);
		assert_int_equal(b.r.counters[k], a.r.counters[k]);
	}
	assert_string_equal(b.r.note, a.r.note);
	capture_free(&a);
	capture_free(&b);
}

static void test_explore_wrong_finds_no_violation(void **state)
{
	(void)state;
	explore_finds_nothing(true, MMN_EXPLORE_RANDOM, SCALE(500));
	explore_finds_nothing(true, MMN_EXPLORE_PCT, SCALE(1000));
}

static void test_explore_right_finds_no_violation(void **state)
{
	(void)state;
	explore_finds_nothing(false, MMN_EXPLORE_RANDOM, SCALE(500));
	explore_finds_nothing(false, MMN_EXPLORE_PCT, SCALE(1000));
}

/* In 6.10 the restore is an EXCLUSIVE range with a NULL owner, not CLEAR. */
static void test_explore_restore_exclusive_in_610(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1, .profile = "6.10" };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	unsigned long restores = 0, clear = 0;

	(void)state;
	mmn_explore_config_init(&c);
	c.runs = SCALE(200);
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore(SCN, &p, &c, &st), 0);
	assert_int_equal(st.violating, 0);
	assert_int_equal(st.deadlocks + st.budgets, 0);
	assert_int_equal(st.claims_held, st.schedules);
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct mmn_sched_config sc;
		struct mmn_scenario_result r;

		mmn_sched_config_init(&sc);
		sc.seed = seed;
		sc.trace = false;
		p.mode = MMN_SCENARIO_EXPLORE;
		p.sched = &sc;
		assert_int_equal(mmn_scenario_run(SCN, &p, &r), 0);
		assert_true(r.claim_holds);
		restores += counter(&r, "restores");
		clear += counter(&r, "restores_clear");
	}
	assert_true(restores > 0);
	assert_int_equal(clear, 0);
}

/* Summed over schedules: the same false positives for both mirrors (they
 * are the operations'), the blind mirror tearing down for them. */
static void test_explore_blind_tears_down_on_false_positives(void **state)
{
	struct sums w, r;

	(void)state;
	sum_both(true, SCALE(150), &w, NULL);
	sum_both(false, SCALE(150), &r, NULL);
	for (int i = 0; i < 2; i++) {
		const struct sums *s = i ? &r : &w;

		assert_true(sum_of(s, "fp_mprotect_cow") > 0);
		assert_true(sum_of(s, "fp_numa") > 0);
		assert_true(sum_of(s, "fp_soft_dirty") > 0);
		assert_true(sum_of(s, "atomics") > 0);
		assert_true(sum_of(s, "restores") > 0);
		assert_int_equal(sum_of(s, "restores_clear"), sum_of(s, "restores")); /* latest */
	}
	assert_true(sum_of(&w, "zaps_total") > 2 * sum_of(&r, "zaps_total"));
	assert_true(sum_of(&w, "needless") > 10 * (sum_of(&r, "needless") + 1));
	/* the aware mirror erases for the restores only */
	assert_true(sum_of(&r, "zaps_total") <= sum_of(&r, "restores"));
}

static bool s6_interesting(const struct mmn_scenario_result *r)
{
	unsigned long restores = 0, zaps = 0;

	return !mmn_scenario_counter(r, "restores", &restores) &&
	       !mmn_scenario_counter(r, "zaps_total", &zaps) && restores > 0 && zaps > restores;
}

static void test_explore_replay_is_byte_identical(void **state)
{
	(void)state;
	replay_is_byte_identical(s6_interesting);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_blind_latest),
		cmocka_unit_test(test_aware_latest),
		cmocka_unit_test(test_restore_exclusive_in_610),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_explore_wrong_finds_no_violation),
		cmocka_unit_test(test_explore_right_finds_no_violation),
		cmocka_unit_test(test_explore_restore_exclusive_in_610),
		cmocka_unit_test(test_explore_blind_tears_down_on_false_positives),
		cmocka_unit_test(test_explore_replay_is_byte_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
