// SPDX-License-Identifier: MIT
/*
 * S2 (seed 001): KVM-style and IOMMU-style listeners under the same racing
 * workload. KVM's range check (in_progress over the gfn) retries the fault
 * that raced munmap's invalidation; the sequence-only check installs the page
 * being freed (the wrong setting). The AMDv2-style device re-faults while an
 * invalidation is open and starves when invalidations never stop; the SVA
 * device never re-faults. EXPLORE: the vCPU fault against DONTNEED (with
 * the AMDv2 device DMAing the page), no hand-placed race: random walk and
 * PCT find the sequence-only check's use-after-free, no schedule of the
 * range check violates, a found schedule replays byte for byte.
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
 * Schedules to the first violating one under the wrong setting (EXPLORE
 * defaults: 2 rounds per actor), 20 seeds (seed 1000*k, k = 0..19) each:
 * random walk median 16-17, worst 110; PCT (depth 3) median 26-36, worst
 * 76. The bounds are 5x the worst. The schedules are the same in every
 * build (the deterministic backend does not depend on host timing).
 */
#define S2_RANDOM_FIRST_BOUND 550
#define S2_PCT_FIRST_BOUND 380

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S2", p, &r), 0);
	return r;
}

/* The IOMMU half, the same in both settings (seed 1). */
static void assert_iommu_seed1(const struct mmn_scenario_result *r)
{
	/* In the open munmap window: max_faults (8) requests, 7 re-faults. */
	assert_int_equal(counter(r, "window_dma_refaults"), 7);
	assert_int_equal(counter(r, "window_dma_give_ups"), 1);
	/* 60 DMAs against 200 back-to-back mprotect pairs. */
	assert_int_equal(counter(r, "amdv2_refaults"), 76);
	assert_int_equal(counter(r, "amdv2_ok"), 52);
	assert_int_equal(counter(r, "amdv2_give_ups"), 8);
	assert_int_equal(counter(r, "sva_refaults"), 0);
}

static void test_s2_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S2");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "001");
}

static void test_s2_right_range_check_is_safe(void **state)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(r.runs, 3);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "kvm_retries"), 1);
	assert_int_equal(counter(&r, "kvm_uaf_reads"), 0);
	assert_iommu_seed1(&r);
}

static void test_s2_wrong_seq_only_is_use_after_free(void **state)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_int_equal(counter(&r, "kvm_retries"), 0);
	assert_int_equal(counter(&r, "kvm_uaf_reads"), 1);
	assert_int_equal(r.by_kind[MMN_VIOL_USE_AFTER_FREE], 1);
	/* The SPTE and the vCPU TLB entry both outlived the page. */
	assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], 2);
	assert_int_equal(r.violations, 3);
	assert_iommu_seed1(&r);
}

static void test_s2_starvation_measurable_on_other_seeds(void **state)
{
	(void)state;
	for (uint64_t seed = 2; seed <= 7; seed += 5) {
		struct mmn_scenario_params p = { .variant = -1, .seed = seed };
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_int_equal(r.violations, 0);
		assert_true(counter(&r, "amdv2_refaults") > 0);
		assert_true(counter(&r, "amdv2_ok") > 0);
		assert_int_equal(counter(&r, "sva_refaults"), 0);
	}
}

static void test_s2_defaults_are_the_right_setting(void **state)
{
	struct mmn_scenario_result r;

	(void)state;
	assert_int_equal(mmn_scenario_run("S2", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "kvm_retries"), 1);
}

static void test_s2_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .iterations = 800 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(counter(&r, "sva_refaults"), 0);
	assert_int_equal(counter(&r, "amdv2_ok") + counter(&r, "amdv2_give_ups"), 201);

	p.wrong = true;
	r = run(&p);
	/* Real threads may or may not hit the KVM window: only sanity. */
	assert_int_equal(r.runs, 3);
	assert_int_equal(counter(&r, "sva_refaults"), 0);
	assert_int_equal(counter(&r, "amdv2_ok") + counter(&r, "amdv2_give_ups"), 201);
}

/* A found schedule, copied out of the explorer's callback. */
struct s2_found {
	unsigned long calls;
	unsigned long index;
	unsigned long uaf, stale;
	bool claim_holds;
	uint32_t *choices;
	size_t n;
	char *trace;
	size_t trace_len;
};

static bool s2_copy_found(const struct mmn_explore_found *f, void *arg)
{
	struct s2_found *c = arg;

	if (c->calls++)
		return false;
	c->index = f->index;
	c->uaf = f->result->by_kind[MMN_VIOL_USE_AFTER_FREE];
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

static void s2_found_free(struct s2_found *c)
{
	free(c->choices);
	free(c->trace);
	memset(c, 0, sizeof(*c));
}

/* Explore the sequence-only check from @seed until the first violating schedule. */
static struct mmn_explore_stats s2_find(enum mmn_explore_strategy strategy, uint64_t seed,
					unsigned long runs, struct s2_found *found)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.seed = seed;
	c.runs = runs;
	c.found = s2_copy_found;
	c.arg = found;
	assert_int_equal(mmn_scenario_explore("S2", &p, &c, &st), 0);
	return st;
}

static void s2_assert_found_within(enum mmn_explore_strategy strategy, unsigned long bound)
{
	for (uint64_t k = 0; k < 5; k++) {
		struct s2_found f = { 0 };
		struct mmn_explore_stats st = s2_find(strategy, 1000 * k, bound, &f);

		assert_int_equal(st.violating, 1);
		assert_true(st.first_index < bound);
		assert_int_equal(st.schedules, st.first_index + 1);
		assert_int_equal(st.deadlocks, 0);
		assert_int_equal(st.budgets, 0);
		assert_int_equal(f.calls, 1);
		assert_int_equal(f.index, st.first_index);
		assert_true(f.uaf > 0);
		assert_true(f.claim_holds);
		assert_true(f.trace_len > 0);
		assert_non_null(strstr(f.trace, "kvm_faultin_pfn:after_gup"));
		s2_found_free(&f);
	}
}

static void test_s2_explore_random_finds_seq_only_use_after_free(void **state)
{
	(void)state;
	s2_assert_found_within(MMN_EXPLORE_RANDOM, S2_RANDOM_FIRST_BOUND);
}

static void test_s2_explore_pct_finds_seq_only_use_after_free(void **state)
{
	(void)state;
	s2_assert_found_within(MMN_EXPLORE_PCT, S2_PCT_FIRST_BOUND);
}

/* The range check: no schedule violates, none deadlocks, every claim holds. */
static void s2_assert_right_clean(enum mmn_explore_strategy strategy, unsigned long runs)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.runs = runs;
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore("S2", &p, &c, &st), 0);
	assert_int_equal(st.schedules, runs);
	assert_int_equal(st.violating, 0);
	assert_int_equal(st.first_index, ULONG_MAX);
	assert_int_equal(st.deadlocks, 0);
	assert_int_equal(st.budgets, 0);
	assert_int_equal(st.claims_held, runs);
}

static void test_s2_explore_random_range_check_never_violates(void **state)
{
	(void)state;
	s2_assert_right_clean(MMN_EXPLORE_RANDOM, SCALE(2000));
}

static void test_s2_explore_pct_range_check_never_violates(void **state)
{
	(void)state;
	s2_assert_right_clean(MMN_EXPLORE_PCT, SCALE(2000));
}

/* The replay's own trace and result, read before the simulation goes. */
struct s2_replay {
	char *trace;
	size_t len;
	unsigned long uaf;
	unsigned long calls;
};

static void s2_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct s2_replay *rp = arg;
	const char *t = mmn_sched_trace(sim, &rp->len);

	rp->calls++;
	rp->uaf = r->by_kind[MMN_VIOL_USE_AFTER_FREE];
	rp->trace = malloc(rp->len + 1);
	assert_non_null(rp->trace);
	memcpy(rp->trace, t, rp->len + 1);
}

static void test_s2_explore_found_schedule_replays_byte_for_byte(void **state)
{
	struct s2_found f = { 0 };
	struct mmn_explore_stats st = s2_find(MMN_EXPLORE_RANDOM, 0, S2_RANDOM_FIRST_BOUND, &f);
	struct s2_replay rp = { 0 };
	struct mmn_sched_config sc;
	struct mmn_scenario_params p = { .wrong = true, .variant = -1,
					 .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	assert_int_equal(st.violating, 1);
	assert_true(f.n > 0);
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = f.choices;
	sc.replay_len = f.n;
	p.sched = &sc;
	p.inspect = s2_inspect;
	p.inspect_arg = &rp;
	assert_int_equal(mmn_scenario_run("S2", &p, &r), 0);
	assert_int_equal(rp.calls, 1);
	assert_int_equal(r.sched.replay_misses, 0);
	assert_int_equal(r.sched.choices, f.n);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_true(r.claim_holds);
	assert_int_equal(r.by_kind[MMN_VIOL_USE_AFTER_FREE], f.uaf);
	assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], f.stale);
	assert_int_equal(counter(&r, "kvm_retries_in_progress"), 0);
	assert_int_equal(rp.uaf, f.uaf);
	assert_int_equal(rp.len, f.trace_len);
	assert_memory_equal(rp.trace, f.trace, f.trace_len);
	free(rp.trace);
	s2_found_free(&f);
}

static void test_s2_explore_range_check_retries_in_progress(void **state)
{
	unsigned long in_progress = 0, refaults = 0;

	(void)state;
	/* Seeded random schedules of the right setting, one at a time: some
	 * faults meet the invalidation in progress and retry; the device
	 * re-faults in some; none violates. */
	for (uint64_t seed = 1; seed <= 60; seed++) {
		struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_EXPLORE,
						 .seed = seed };
		struct mmn_scenario_result r;

		assert_int_equal(mmn_scenario_run("S2", &p, &r), 0);
		assert_true(r.claim_holds);
		assert_int_equal(r.violations, 0);
		assert_int_equal(r.runs, 1);
		assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
		assert_int_equal(counter(&r, "invalidations"), 2);
		in_progress += counter(&r, "kvm_retries_in_progress");
		refaults += counter(&r, "dma_refaults");
	}
	assert_true(in_progress > 0);
	assert_true(refaults > 0);
}

static void test_s2_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 17 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)3 };
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "0.1" };
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "nonsense" } };
	assert_int_equal(mmn_scenario_run("S2", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S2", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s2_registered),
		cmocka_unit_test(test_s2_right_range_check_is_safe),
		cmocka_unit_test(test_s2_wrong_seq_only_is_use_after_free),
		cmocka_unit_test(test_s2_starvation_measurable_on_other_seeds),
		cmocka_unit_test(test_s2_defaults_are_the_right_setting),
		cmocka_unit_test(test_s2_native_runs),
		cmocka_unit_test(test_s2_explore_random_finds_seq_only_use_after_free),
		cmocka_unit_test(test_s2_explore_pct_finds_seq_only_use_after_free),
		cmocka_unit_test(test_s2_explore_random_range_check_never_violates),
		cmocka_unit_test(test_s2_explore_pct_range_check_never_violates),
		cmocka_unit_test(test_s2_explore_found_schedule_replays_byte_for_byte),
		cmocka_unit_test(test_s2_explore_range_check_retries_in_progress),
		cmocka_unit_test(test_s2_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
