/* SPDX-License-Identifier: MIT */
/*
 * S9 (users): fault loops under invalidations that never stop (HMM retry
 * with a retry budget for the 1 s timeout, KVM retry), and NUMA-balancing
 * PROT_NONE notifications against a KVM-style listener: retry counts,
 * histograms, needless shootdowns, removed by the NUMA-aware listener.
 * Both settings INTERLEAVED with exact counts, both NATIVE (bounded), bad
 * params; EXPLORE: no violating schedule in either setting (random walk and
 * PCT), the counters summed over schedules in the seed's direction, the
 * HMM give-ups charged 1 s each to the modelled clock and none to the
 * host's, and a replayed schedule byte for byte.
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

#include <mmnsim/clock.h>
#include <mmnsim/explore.h>
#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

#include "support/scenario_test.h"

static struct mmn_scenario_result run(bool wrong, enum mmn_scenario_mode mode)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1, .mode = mode };
	struct mmn_scenario_result r;

	if (mode == MMN_SCENARIO_NATIVE)
		p.iterations = 800;
	assert_int_equal(mmn_scenario_run("S9", &p, &r), 0);
	return r;
}

static void test_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S9");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "users");
	assert_int_equal(s->found_kinds, 0); /* a count scenario */
}

/* The retry parts do not depend on the setting: storms of 0, 3 and forever. */
static void assert_retries(const struct mmn_scenario_result *r)
{
	/* HMM: 3 restarts, then 9 (budget 8) and a give-up */
	assert_int_equal(counter(r, "hmm_retries"), 3 + 9);
	assert_int_equal(counter(r, "hmm_giveups"), 1);
	/* KVM: 3 retries, then 9 (max_retries 8) and a give-up */
	assert_int_equal(counter(r, "kvm_retries"), 3 + 9);
	assert_int_equal(counter(r, "kvm_giveups"), 1);
	/* completed HMM loops: one without restart, one in bucket [2,4) */
	assert_non_null(strstr(r->note, "hmm{0:1,2:1}"));
}

static void test_wrong_plain_needless_shootdowns(void **state)
{
	struct mmn_scenario_result r = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_retries(&r);
	/* 4 NUMA rounds x 8 pages: every SPTE zapped and re-faulted identical */
	assert_int_equal(counter(&r, "needless_shootdowns"), 32);
	assert_int_equal(counter(&r, "numa_refaults"), 32);
	assert_int_equal(counter(&r, "tlb_flushes"), 4);
	assert_int_equal(counter(&r, "sptes_kept_numa"), 0);
	/* KVM: 8 + 32 faults without retry, the 3-retry fault, the 9-retry give-up */
	assert_non_null(strstr(r.note, "kvm{0:41,2:1,4:1}"));
	assert_non_null(strstr(r.setting, "check_range"));
}

static void test_right_numa_aware_removes_them(void **state)
{
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_INTERLEAVED);
	struct mmn_scenario_result w = run(true, MMN_SCENARIO_INTERLEAVED);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_retries(&r);
	assert_int_equal(counter(&r, "needless_shootdowns"), 0);
	assert_int_equal(counter(&r, "numa_refaults"), 0);
	assert_int_equal(counter(&r, "tlb_flushes"), 0);
	assert_int_equal(counter(&r, "sptes_kept_numa"), 32);
	assert_non_null(strstr(r.note, "kvm{0:9,2:1,4:1}"));
	assert_true(counter(&r, "needless_shootdowns") < counter(&w, "needless_shootdowns"));
	assert_non_null(strstr(r.setting, "numa_aware"));
}

static void test_native(void **state)
{
	struct mmn_scenario_result w = run(true, MMN_SCENARIO_NATIVE);
	struct mmn_scenario_result r = run(false, MMN_SCENARIO_NATIVE);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "needless_shootdowns"), 0);
	assert_int_equal(w.violations, 0);
	assert_int_equal(w.runs, 200);
	assert_true(counter(&w, "needless_shootdowns") <= counter(&w, "numa_refaults"));
}

static void test_bad_params(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	p.pages = 65;
	assert_int_equal(mmn_scenario_run("S9", &p, &r), -EINVAL);
	p.pages = 0;
	p.variant = 3;
	assert_int_equal(mmn_scenario_run("S9", &p, &r), -EINVAL);
	p.variant = -1;
	p.mode = (enum mmn_scenario_mode)7;
	assert_int_equal(mmn_scenario_run("S9", &p, &r), -EINVAL);
	p.mode = MMN_SCENARIO_INTERLEAVED;
	p.profile = "no-such";
	assert_int_equal(mmn_scenario_run("S9", &p, &r), -EINVAL);
	p.profile = NULL;
	p.knobs[0] = "nosuchknob=1";
	assert_int_equal(mmn_scenario_run("S9", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S9", NULL, &r), 0);
	assert_true(r.claim_holds);
}

#define SCN "S9"
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

/* Schedules whose HMM fault loop gave up, and whether each one's modelled
 * clock had the 1 s timeouts charged while its host time stayed short. */
static unsigned long giveup_schedules, giveups_seen;

static void check_timeouts(const struct mmn_scenario_result *r)
{
	unsigned long g = counter(r, "hmm_giveups");

	if (!g)
		return;
	giveup_schedules++;
	giveups_seen += g;
	assert_true(r->modelled_ns >= g * mmn_cost_default(MMN_COST_HMM_RETRY_TIMEOUT));
	/* nothing slept on the host clock: far below one timeout */
	assert_true(r->real_ns < mmn_cost_default(MMN_COST_HMM_RETRY_TIMEOUT) / 2);
}

/* Summed over schedules: the plain listener's needless shootdowns, none
 * with the NUMA-aware one; the fault loops retried under the storm. */
static void test_explore_numa_aware_removes_needless_shootdowns(void **state)
{
	struct sums w, r;

	(void)state;
	giveup_schedules = giveups_seen = 0;
	sum_both(true, SCALE(150), &w, check_timeouts);
	sum_both(false, SCALE(150), &r, check_timeouts);
	assert_true(sum_of(&w, "needless_shootdowns") > 0);
	assert_int_equal(sum_of(&w, "needless_shootdowns"), sum_of(&w, "numa_refaults"));
	assert_true(sum_of(&w, "tlb_flushes") > 0);
	assert_int_equal(sum_of(&w, "sptes_kept_numa"), 0);
	assert_int_equal(sum_of(&r, "needless_shootdowns"), 0);
	assert_int_equal(sum_of(&r, "numa_refaults"), 0);
	assert_int_equal(sum_of(&r, "tlb_flushes"), 0);
	assert_true(sum_of(&r, "sptes_kept_numa") > 0);
	/* the vCPU retried against hinting ranges only where SPTEs were zapped */
	assert_true(sum_of(&w, "kvm_retries") > sum_of(&r, "kvm_retries"));
	/* the invalidations that never stop: restarts and give-ups in both */
	assert_true(sum_of(&w, "hmm_retries") > 0);
	assert_true(sum_of(&r, "hmm_retries") > 0);
	assert_true(giveup_schedules > 0);
	assert_int_equal(giveups_seen, sum_of(&w, "hmm_giveups") + sum_of(&r, "hmm_giveups"));
}

static bool s9_interesting(const struct mmn_scenario_result *r)
{
	unsigned long needless = 0, retries = 0;

	return !mmn_scenario_counter(r, "needless_shootdowns", &needless) &&
	       !mmn_scenario_counter(r, "hmm_retries", &retries) && needless > 0 && retries > 0;
}

static void test_explore_replay_is_byte_identical(void **state)
{
	(void)state;
	replay_is_byte_identical(s9_interesting);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_wrong_plain_needless_shootdowns),
		cmocka_unit_test(test_right_numa_aware_removes_them),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_bad_params),
		cmocka_unit_test(test_explore_wrong_finds_no_violation),
		cmocka_unit_test(test_explore_right_finds_no_violation),
		cmocka_unit_test(test_explore_numa_aware_removes_needless_shootdowns),
		cmocka_unit_test(test_explore_replay_is_byte_identical),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
