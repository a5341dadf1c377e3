/* SPDX-License-Identifier: MIT */
/*
 * S5 (seed 003): event-blind versus event-aware HMM mirror under mprotect,
 * soft-dirty and migration; change_pte (KSM) against a KVM VM. Both settings
 * INTERLEAVED with exact counts, both NATIVE (bounded), profiles without
 * change_pte, bad params; EXPLORE: no violating schedule in either setting
 * (random walk and PCT), the counters summed over schedules in the seed's
 * direction, and a replayed schedule byte for byte.
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
	assert_int_equal(mmn_scenario_run("S5", &p, &r), 0);
	return r;
}

static struct mmn_scenario_result run(bool wrong, enum mmn_scenario_mode mode)
{
	return run_p(wrong, mode, NULL);
}

static void test_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S5");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "003");
	assert_int_equal(s->found_kinds, 0); /* a count scenario */
}

static void test_wrong_blind_tears_down_and_refaults(void **state)
{
	struct mmn_scenario_result r = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_string_equal(r.profile, "6.5");
	/* mprotect(READ) and soft-dirty: one teardown of 16 entries each, 16
	 * pages re-faulted each in one pass; its own 2 MIGRATE ranges needless */
	assert_int_equal(counter(&r, "teardowns"), 2);
	assert_int_equal(counter(&r, "zapped"), 32);
	assert_int_equal(counter(&r, "refaults"), 32);
	assert_int_equal(counter(&r, "refault_passes"), 3);
	assert_int_equal(counter(&r, "downgraded"), 0);
	assert_int_equal(counter(&r, "needless"), 2);
	/* KSM's change_pte runs after start zapped the SPTE: found nothing */
	assert_int_equal(counter(&r, "change_pte_found"), 0);
	assert_int_equal(counter(&r, "change_pte_missed"), 1);
	assert_non_null(strstr(r.setting, "event_blind"));
}

static void test_right_aware_downgrades(void **state)
{
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_INTERLEAVED);
	struct mmn_scenario_result w = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "teardowns"), 0);
	assert_int_equal(counter(&r, "zapped"), 0);
	assert_int_equal(counter(&r, "refaults"), 0);
	assert_int_equal(counter(&r, "refault_passes"), 1); /* the migrated page only */
	assert_int_equal(counter(&r, "downgraded"), 32);
	assert_int_equal(counter(&r, "needless"), 0);
	assert_int_equal(counter(&r, "change_pte_found"), 0);
	assert_int_equal(counter(&r, "change_pte_missed"), 1);
	assert_true(counter(&r, "teardowns") < counter(&w, "teardowns"));
	assert_true(counter(&r, "refaults") < counter(&w, "refaults"));
	assert_non_null(strstr(r.setting, "event_aware"));
}

static void test_change_pte_absent_in_610(void **state)
{
	struct mmn_scenario_result r = run_p(true, MMN_SCENARIO_INTERLEAVED, "6.10");

	(void)state;
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "6.10");
	assert_int_equal(counter(&r, "change_pte_found"), 0);
	assert_int_equal(counter(&r, "change_pte_missed"), 0);
	assert_int_equal(counter(&r, "refaults"), 32);
}

static void test_native_both(void **state)
{
	struct mmn_scenario_result w = run(true, MMN_SCENARIO_NATIVE);
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_NATIVE);

	(void)state;
	assert_int_equal(r.violations, 0);
	assert_int_equal(w.violations, 0);
	assert_int_equal(r.runs, 200);
	assert_int_equal(counter(&r, "teardowns"), 0);
	assert_true(counter(&w, "zapped") >= counter(&w, "teardowns"));
	assert_int_equal(counter(&r, "change_pte_found"), 0);
}

static void test_bad_params(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	p.pages = 65;
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.pages = 0;
	p.variant = 2; /* the valid-flag mirror is S7's */
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.variant = -1;
	p.mode = (enum mmn_scenario_mode)7;
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.mode = MMN_SCENARIO_INTERLEAVED;
	p.profile = "no-such";
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	p.profile = NULL;
	p.knobs[0] = "=1";
	assert_int_equal(mmn_scenario_run("S5", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S5", NULL, &r), 0);
	assert_true(r.claim_holds);
}

#define SCN "S5"
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
	explore_finds_nothing(true, MMN_EXPLORE_RANDOM, SCALE(400));
	explore_finds_nothing(true, MMN_EXPLORE_PCT, SCALE(1000));
}

static void test_explore_right_finds_no_violation(void **state)
{
	(void)state;
	explore_finds_nothing(false, MMN_EXPLORE_RANDOM, SCALE(400));
	explore_finds_nothing(false, MMN_EXPLORE_PCT, SCALE(1000));
}

/* Summed over schedules: the blind mirror tears down and re-faults, the
 * aware one downgrades; change_pte never finds the SPTE live. */
static void test_explore_blind_tears_down_aware_downgrades(void **state)
{
	struct sums w, r;

	(void)state;
	sum_both(true, SCALE(150), &w, NULL);
	sum_both(false, SCALE(150), &r, NULL);
	assert_true(sum_of(&w, "teardowns") > 0);
	assert_int_equal(sum_of(&r, "teardowns"), 0);
	assert_true(sum_of(&w, "zapped") > 0);
	assert_int_equal(sum_of(&r, "zapped"), 0);
	assert_true(sum_of(&w, "refaults") > sum_of(&r, "refaults"));
	assert_true(sum_of(&w, "refault_passes") > sum_of(&r, "refault_passes"));
	assert_int_equal(sum_of(&w, "downgraded"), 0);
	assert_true(sum_of(&r, "downgraded") > 0);
	/* KSM merged in every schedule; change_pte came after start's zap */
	assert_int_equal(sum_of(&w, "change_pte_found") + sum_of(&r, "change_pte_found"), 0);
	assert_int_equal(sum_of(&w, "change_pte_missed"), w.schedules);
	assert_int_equal(sum_of(&r, "change_pte_missed"), r.schedules);
}

static bool s5_interesting(const struct mmn_scenario_result *r)
{
	unsigned long t = 0, f = 0;

	return !mmn_scenario_counter(r, "teardowns", &t) &&
	       !mmn_scenario_counter(r, "refaults", &f) && t > 0 && f > 0;
}

static void test_explore_replay_is_byte_identical(void **state)
{
	(void)state;
	replay_is_byte_identical(s5_interesting);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_wrong_blind_tears_down_and_refaults),
		cmocka_unit_test(test_right_aware_downgrades),
		cmocka_unit_test(test_change_pte_absent_in_610),
		cmocka_unit_test(test_native_both),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_explore_wrong_finds_no_violation),
		cmocka_unit_test(test_explore_right_finds_no_violation),
		cmocka_unit_test(test_explore_blind_tears_down_aware_downgrades),
		cmocka_unit_test(test_explore_replay_is_byte_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
