// SPDX-License-Identifier: MIT
/*
 * S4 (seed 002): hugetlb shared PMD unshared by MADV_DONTNEED, reclaim or
 * migration of one huge page, under a KVM-style listener caching another
 * huge page of the PUD range. Wrong (pmd_share_widen=false, or profile
 * 4.15): one stale translation per operation at quiescence. Right
 * (latest, range widened): none.
 * EXPLORE: two VMs (one per mm) and the three operations as concurrent
 * actors, no hand-placed order: the explorer finds the stale translation
 * under the wrong setting with random walk and PCT, never under the right
 * one, and a found schedule replays to the same violation and trace.
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

/*
 * Schedules to the first violating one under the wrong setting, 20 seeds
 * (seed 1000*k, k = 0..19) each: random walk worst 1 (median 0), PCT
 * worst 1 (median 0). The bounds are 5x the worst.
 */
#define S4_RANDOM_FIRST_BOUND 5
#define S4_PCT_FIRST_BOUND 5

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S4", p, &r), 0);
	return r;
}

static void assert_stale_per_op(const struct mmn_scenario_result *r, unsigned long n)
{
	assert_int_equal(r->runs, 3);
	assert_int_equal(r->by_kind[MMN_VIOL_STALE_TRANSLATION], 3 * n);
	assert_int_equal(r->violations, 3 * n);
	assert_int_equal(counter(r, "dontneed"), n);
	assert_int_equal(counter(r, "reclaim"), n);
	assert_int_equal(counter(r, "migrate"), n);
	assert_int_equal(counter(r, "spte_b_kept"), 3 * n);
	assert_int_equal(counter(r, "stale_before_op"), 0);
}

static void test_s4_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S4");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "002");
}

static void test_s4_wrong_no_widening_is_stale(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "latest");
	assert_stale_per_op(&r, 1);
}

static void test_s4_wrong_profile_4_15_is_stale(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1, .profile = "4.15" };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "4.15");
	assert_stale_per_op(&r, 1);
}

static void test_s4_right_widened_is_clean(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_stale_per_op(&r, 0);
	assert_int_equal(mmn_scenario_run("S4", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	/* The seq-only KVM variant does not matter here: the range does. */
	p.variant = MMN_KVM_CHECK_SEQ_ONLY;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
}

static void test_s4_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .iterations = 500 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "unshares"), 501);
	assert_int_equal(counter(&r, "spte_b_kept"), 0);

	p.wrong = true;
	r = run(&p);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "unshares"), 501);
	assert_int_equal(r.violations, r.by_kind[MMN_VIOL_STALE_TRANSLATION]);
	/* At most B's SPTE and B's entry in the vCPU TLB: the last unshare
	 * flushes the vCPU TLB only if it zapped an SPTE of A, and A may
	 * already be gone (the vCPU's last access was B). */
	assert_true(r.violations <= 2);
}

/* A found schedule, copied out of the explorer's callback. */
struct s4_found {
	unsigned long calls;
	unsigned long index;
	unsigned long stale;
	bool claim_holds;
	uint32_t *choices;
	size_t n;
	char *trace;
	size_t trace_len;
};

static bool s4_copy_found(const struct mmn_explore_found *f, void *arg)
{
	struct s4_found *c = arg;

	if (c->calls++)
		return false;
	c->index = f->index;
	c->stale = f->result->by_kind[MMN_VIOL_STALE_TRANSLATION];
	c->claim_holds = f->result->claim_holds;
	c->n = f->nr_choices;
	c->choices = malloc((f->nr_choices ? f->nr_choices : 1) * sizeof(*c->choices));
	c->trace = malloc(f->trace_len + 1);
	assert_non_null(c->choices);
	assert_non_null(c->trace);
	if (f->nr_choices)
		memcpy(c->choices, f->choices, f->nr_choices * sizeof(*c->choices));
	memcpy(c->trace, f->trace, f->trace_len);
	c->trace[f->trace_len] = '\0';
	c->trace_len = f->trace_len;
	return false;
}

static void s4_found_free(struct s4_found *c)
{
	free(c->choices);
	free(c->trace);
	memset(c, 0, sizeof(*c));
}

/* Explore the wrong setting from @seed until the first violating schedule. */
static struct mmn_explore_stats s4_find(const char *profile, enum mmn_explore_strategy strategy,
					uint64_t seed, struct s4_found *found)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1, .profile = profile };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.seed = seed;
	c.runs = 2000;
	c.found = s4_copy_found;
	c.arg = found;
	assert_int_equal(mmn_scenario_explore("S4", &p, &c, &st), 0);
	return st;
}

static void s4_assert_found_within(const char *profile, enum mmn_explore_strategy strategy,
				   unsigned long bound)
{
	for (uint64_t k = 0; k < 5; k++) {
		struct s4_found f = { 0 };
		struct mmn_explore_stats st = s4_find(profile, strategy, 1000 * k, &f);

		assert_int_equal(st.violating, 1);
		assert_true(st.first_index < bound);
		assert_int_equal(st.schedules, st.first_index + 1);
		assert_int_equal(st.deadlocks, 0);
		assert_int_equal(f.calls, 1);
		assert_int_equal(f.index, st.first_index);
		assert_true(f.stale > 0);
		assert_true(f.claim_holds);
		assert_true(f.trace_len > 0);
		s4_found_free(&f);
	}
}

static void test_s4_explore_random_finds_stale_translation(void **state)
{
	(void)state;
	s4_assert_found_within(NULL, MMN_EXPLORE_RANDOM, S4_RANDOM_FIRST_BOUND);
}

static void test_s4_explore_pct_finds_stale_translation(void **state)
{
	(void)state;
	s4_assert_found_within(NULL, MMN_EXPLORE_PCT, S4_PCT_FIRST_BOUND);
}

static void test_s4_explore_profile_4_15_finds_stale_translation(void **state)
{
	(void)state;
	s4_assert_found_within("4.15", MMN_EXPLORE_RANDOM, S4_RANDOM_FIRST_BOUND);
}

/* The right setting: no schedule violates, none deadlocks, every claim holds. */
static void s4_assert_right_clean(enum mmn_explore_strategy strategy, unsigned long runs)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.runs = runs;
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore("S4", &p, &c, &st), 0);
	assert_int_equal(st.schedules, runs);
	assert_int_equal(st.violating, 0);
	assert_int_equal(st.first_index, ULONG_MAX);
	assert_int_equal(st.deadlocks, 0);
	assert_int_equal(st.budgets, 0);
	assert_int_equal(st.claims_held, runs);
}

static void test_s4_explore_right_widened_never_stale_random(void **state)
{
	(void)state;
	s4_assert_right_clean(MMN_EXPLORE_RANDOM, SCALE(2000));
}

static void test_s4_explore_right_widened_never_stale_pct(void **state)
{
	(void)state;
	s4_assert_right_clean(MMN_EXPLORE_PCT, SCALE(2000));
}

struct s4_replayed {
	char *trace;
	size_t trace_len;
};

static void s4_copy_trace(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct s4_replayed *c = arg;
	size_t len = 0;
	const char *t = mmn_sched_trace(sim, &len);

	(void)r;
	c->trace = malloc(len + 1);
	if (c->trace) {
		memcpy(c->trace, t, len + 1);
		c->trace_len = len;
	}
}

static void test_s4_explore_replay_reproduces_violation_and_trace(void **state)
{
	struct s4_found f = { 0 };
	struct s4_replayed rp = { 0 };
	struct mmn_sched_config sc;
	struct mmn_scenario_params p = { .wrong = true, .variant = -1,
					 .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	(void)s4_find(NULL, MMN_EXPLORE_PCT, 3000, &f);
	assert_int_equal(f.calls, 1);
	assert_true(f.n > 0);
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = f.choices;
	sc.replay_len = f.n;
	p.sched = &sc;
	p.inspect = s4_copy_trace;
	p.inspect_arg = &rp;
	assert_int_equal(mmn_scenario_run("S4", &p, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], f.stale);
	assert_true(counter(&r, "spte_b_kept") > 0);
	assert_int_equal(r.sched.replay_misses, 0);
	assert_int_equal(r.sched.choices, f.n);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_non_null(rp.trace);
	assert_int_equal(rp.trace_len, f.trace_len);
	assert_memory_equal(rp.trace, f.trace, f.trace_len);
	free(rp.trace);
	s4_found_free(&f);
}

static void test_s4_explore_one_schedule_defaults(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 1);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_true(r.sched.actors >= 6);
	assert_int_equal(counter(&r, "spte_b_kept"), 0);
	/* Two rounds of A and B per vCPU, two vCPUs. */
	assert_int_equal(counter(&r, "vcpu_ok") + counter(&r, "vcpu_failed") +
				 counter(&r, "vcpu_wrong_data"),
			 8);
	/* Some operation found the table shared and unshared it. */
	assert_true(counter(&r, "dontneed_pages") + counter(&r, "reclaim_pages") +
			    counter(&r, "migrate_pages") >=
		    1024);
	assert_true(r.modelled_ns > 0);
}

static void test_s4_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 42 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)9 };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "no-such-kernel" };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "=true" } };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					  .knobs = { "pmd_share_widen=maybe" } };
	assert_int_equal(mmn_scenario_run("S4", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S4", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s4_registered),
		cmocka_unit_test(test_s4_wrong_no_widening_is_stale),
		cmocka_unit_test(test_s4_wrong_profile_4_15_is_stale),
		cmocka_unit_test(test_s4_right_widened_is_clean),
		cmocka_unit_test(test_s4_native_runs),
		cmocka_unit_test(test_s4_explore_one_schedule_defaults),
		cmocka_unit_test(test_s4_explore_random_finds_stale_translation),
		cmocka_unit_test(test_s4_explore_pct_finds_stale_translation),
		cmocka_unit_test(test_s4_explore_profile_4_15_finds_stale_translation),
		cmocka_unit_test(test_s4_explore_right_widened_never_stale_random),
		cmocka_unit_test(test_s4_explore_right_widened_never_stale_pct),
		cmocka_unit_test(test_s4_explore_replay_reproduces_violation_and_trace),
		cmocka_unit_test(test_s4_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
