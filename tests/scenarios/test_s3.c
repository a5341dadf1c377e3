// SPDX-License-Identifier: MIT
/*
 * S3 (seed 001): the hugetlb protection change, an only_end path whose call
 * site does not flush secondary TLBs (profile 6.5), with the IOMMU-style
 * listener. Wrong (only_end_skips_flush=true): the device keeps writable
 * IOTLB/ATC entries of read-only memory (stale at quiescence) and writes
 * through them. Right (only_end_skips_flush=false, or latest): none.
 * EXPLORE: a device writing and an mprotect(PROT_READ), no hand-placed
 * order: the explorer finds the stale entry under the wrong setting with
 * random walk and PCT, never under the right one, and a found schedule
 * replays to the same violation and the same trace.
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
 * worst 3 (median 0). The bounds are 5x the worst.
 */
#define S3_RANDOM_FIRST_BOUND 5
#define S3_PCT_FIRST_BOUND 15

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S3", p, &r), 0);
	return r;
}

static void test_s3_registered(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("S3");

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->seed, "001");
}

static void test_s3_wrong_only_end_skip_leaves_stale_iotlb(void **state)
{
	(void)state;
	for (unsigned long n = 1; n <= 4; n *= 2) {
		struct mmn_scenario_params p = { .wrong = true, .variant = -1, .pages = n };
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_string_equal(r.profile, "6.5");
		/* One IOTLB and one ATC entry per huge page. */
		assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], 2 * n);
		assert_int_equal(r.violations, 2 * n);
		assert_int_equal(counter(&r, "stale_after_mprotect"), 2 * n);
		assert_int_equal(counter(&r, "dma_writes_to_read_only"), n);
		assert_int_equal(counter(&r, "iommu_flushes"), 0);
	}
}

static void test_s3_right_end_flushes(void **state)
{
	(void)state;
	for (unsigned long n = 1; n <= 4; n *= 2) {
		struct mmn_scenario_params p = { .variant = -1, .pages = n };
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_int_equal(r.violations, 0);
		assert_int_equal(counter(&r, "stale_after_mprotect"), 0);
		assert_int_equal(counter(&r, "dma_writes_to_read_only"), 0);
		assert_int_equal(counter(&r, "iommu_flushes"), 1);
		assert_int_equal(counter(&r, "entries_flushed"), 2 * n);
	}
}

static void test_s3_right_latest_flushes_with_the_cpu(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .profile = "latest" };
	struct mmn_scenario_result r = run(&p);

	(void)state;
	assert_true(r.claim_holds);
	assert_string_equal(r.profile, "latest");
	assert_int_equal(r.violations, 0);
	/* The skip has nothing to skip in latest: the flush is the CPU's. */
	p.wrong = true;
	r = run(&p);
	assert_int_equal(r.violations, 0);
	assert_false(r.claim_holds);
	assert_int_equal(mmn_scenario_run("S3", NULL, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
}

static void test_s3_native_runs(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE,
					 .pages = 2, .iterations = 500 };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "prot_changes"), 502);
	assert_int_equal(counter(&r, "stale_at_end"), 0);

	p.wrong = true;
	r = run(&p);
	assert_int_equal(r.runs, 500);
	assert_int_equal(counter(&r, "prot_changes"), 502);
	/* The last write then the final mprotect leave the same entries. */
	assert_true(counter(&r, "stale_at_end") >= 2);
	assert_true(r.claim_holds);
	assert_true(r.violations >= counter(&r, "stale_at_end"));
}

/* A found schedule, copied out of the explorer's callback. */
struct s3_found {
	unsigned long calls;
	unsigned long index;
	unsigned long stale;
	bool claim_holds;
	uint32_t *choices;
	size_t n;
	char *trace;
	size_t trace_len;
};

static bool s3_copy_found(const struct mmn_explore_found *f, void *arg)
{
	struct s3_found *c = arg;

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

static void s3_found_free(struct s3_found *c)
{
	free(c->choices);
	free(c->trace);
	memset(c, 0, sizeof(*c));
}

/* Explore the wrong setting from @seed until the first violating schedule. */
static struct mmn_explore_stats s3_find(enum mmn_explore_strategy strategy, uint64_t seed,
					struct s3_found *found)
{
	struct mmn_scenario_params p = { .wrong = true, .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.seed = seed;
	c.runs = 2000;
	c.found = s3_copy_found;
	c.arg = found;
	assert_int_equal(mmn_scenario_explore("S3", &p, &c, &st), 0);
	return st;
}

static void s3_assert_found_within(enum mmn_explore_strategy strategy, unsigned long bound)
{
	for (uint64_t k = 0; k < 5; k++) {
		struct s3_found f = { 0 };
		struct mmn_explore_stats st = s3_find(strategy, 1000 * k, &f);

		assert_int_equal(st.violating, 1);
		assert_true(st.first_index < bound);
		assert_int_equal(st.schedules, st.first_index + 1);
		assert_int_equal(st.deadlocks, 0);
		assert_int_equal(f.calls, 1);
		assert_int_equal(f.index, st.first_index);
		assert_true(f.stale > 0);
		assert_true(f.claim_holds);
		assert_true(f.trace_len > 0);
		s3_found_free(&f);
	}
}

static void test_s3_explore_random_finds_stale_iotlb(void **state)
{
	(void)state;
	s3_assert_found_within(MMN_EXPLORE_RANDOM, S3_RANDOM_FIRST_BOUND);
}

static void test_s3_explore_pct_finds_stale_iotlb(void **state)
{
	(void)state;
	s3_assert_found_within(MMN_EXPLORE_PCT, S3_PCT_FIRST_BOUND);
}

/* The right setting: no schedule violates, none deadlocks, every claim holds. */
static void s3_assert_right_clean(const char *profile, enum mmn_explore_strategy strategy,
				  unsigned long runs)
{
	struct mmn_scenario_params p = { .variant = -1, .profile = profile };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.runs = runs;
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore("S3", &p, &c, &st), 0);
	assert_int_equal(st.schedules, runs);
	assert_int_equal(st.violating, 0);
	assert_int_equal(st.first_index, ULONG_MAX);
	assert_int_equal(st.deadlocks, 0);
	assert_int_equal(st.budgets, 0);
	assert_int_equal(st.claims_held, runs);
}

static void test_s3_explore_right_end_flush_never_stale_random(void **state)
{
	(void)state;
	s3_assert_right_clean(NULL, MMN_EXPLORE_RANDOM, SCALE(3000));
}

static void test_s3_explore_right_end_flush_never_stale_pct(void **state)
{
	(void)state;
	s3_assert_right_clean(NULL, MMN_EXPLORE_PCT, SCALE(3000));
}

static void test_s3_explore_right_latest_never_stale(void **state)
{
	(void)state;
	s3_assert_right_clean("latest", MMN_EXPLORE_RANDOM, SCALE(1000));
	s3_assert_right_clean("latest", MMN_EXPLORE_PCT, SCALE(1000));
}

struct s3_replayed {
	char *trace;
	size_t trace_len;
};

static void s3_copy_trace(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct s3_replayed *c = arg;
	size_t len = 0;
	const char *t = mmn_sched_trace(sim, &len);

	(void)r;
	c->trace = malloc(len + 1);
	if (c->trace) {
		memcpy(c->trace, t, len + 1);
		c->trace_len = len;
	}
}

static void test_s3_explore_replay_reproduces_violation_and_trace(void **state)
{
	struct s3_found f = { 0 };
	struct s3_replayed rp = { 0 };
	struct mmn_sched_config sc;
	struct mmn_scenario_params p = { .wrong = true, .variant = -1,
					 .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	/* PCT: a schedule with preemptions, so the list says something. */
	(void)s3_find(MMN_EXPLORE_PCT, 2000, &f);
	assert_int_equal(f.calls, 1);
	assert_true(f.n > 0);
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = f.choices;
	sc.replay_len = f.n;
	p.sched = &sc;
	p.inspect = s3_copy_trace;
	p.inspect_arg = &rp;
	assert_int_equal(mmn_scenario_run("S3", &p, &r), 0);
	assert_true(r.claim_holds);
	assert_int_equal(r.by_kind[MMN_VIOL_STALE_TRANSLATION], f.stale);
	assert_int_equal(r.sched.replay_misses, 0);
	assert_int_equal(r.sched.choices, f.n);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_non_null(rp.trace);
	assert_int_equal(rp.trace_len, f.trace_len);
	assert_memory_equal(rp.trace, f.trace, f.trace_len);
	free(rp.trace);
	s3_found_free(&f);
}

static void test_s3_explore_one_schedule_defaults(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	r = run(&p);
	assert_true(r.claim_holds);
	assert_int_equal(r.violations, 0);
	assert_int_equal(r.runs, 1);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	assert_true(r.sched.actors >= 3);
	assert_int_equal(counter(&r, "prot_changes"), 1);
	assert_int_equal(counter(&r, "stale_at_end"), 0);
	assert_int_equal(counter(&r, "dma_writes_to_read_only"), 0);
	assert_int_equal(counter(&r, "dma_ok") + counter(&r, "dma_no_translation"), 2);
	assert_true(r.modelled_ns > 0);
}

static void test_s3_bad_params(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_scenario_params p = { .variant = 3 };

	(void)state;
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .pages = 5 };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .mode = (enum mmn_scenario_mode)7 };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .profile = "2.6" };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	p = (struct mmn_scenario_params){ .variant = -1, .knobs = { "only_end_skips_flush" } };
	assert_int_equal(mmn_scenario_run("S3", &p, &r), -EINVAL);
	assert_int_equal(mmn_scenario_run("S3", NULL, NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_s3_registered),
		cmocka_unit_test(test_s3_wrong_only_end_skip_leaves_stale_iotlb),
		cmocka_unit_test(test_s3_right_end_flushes),
		cmocka_unit_test(test_s3_right_latest_flushes_with_the_cpu),
		cmocka_unit_test(test_s3_native_runs),
		cmocka_unit_test(test_s3_explore_one_schedule_defaults),
		cmocka_unit_test(test_s3_explore_random_finds_stale_iotlb),
		cmocka_unit_test(test_s3_explore_pct_finds_stale_iotlb),
		cmocka_unit_test(test_s3_explore_right_end_flush_never_stale_random),
		cmocka_unit_test(test_s3_explore_right_end_flush_never_stale_pct),
		cmocka_unit_test(test_s3_explore_right_latest_never_stale),
		cmocka_unit_test(test_s3_explore_replay_reproduces_violation_and_trace),
		cmocka_unit_test(test_s3_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
