// SPDX-License-Identifier: MIT
/*
 * DPOR (MMN_EXPLORE_DPOR) on the seed scenarios: under the wrong settings
 * of S1, S3, S4, S7 and S8 it finds the violation; under the right
 * settings S8 completes with no violation and S1, S3 and S7 explore to
 * preemption bound 1 without one; the planted bug of each reference
 * listener (the KVM fault handler checking only the sequence, S2 variant
 * 1; the HMM mirror's valid flag, S7 wrong; the IOMMU flush at
 * invalidate_range_end, S1 wrong) is found by DPOR wherever the plain
 * enumeration at preemption bound 2 finds it; DPOR over 2 and 4 shards
 * counts the classes of the unsharded search, each in one shard, and the
 * sharded enumeration runs the unsharded one's schedules. S1's right
 * setting with one round of each actor is explored whole (88 classes, the
 * same twice and over 2 shards; test_dpor_long.c does two rounds).
 * Figures in docs/benchmarks.md ("DPOR").
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/explore_test.h"

/*
 * The enumeration's runs under the sanitizers are capped for time: a
 * schedule costs many times as much there. (Memory no longer grows from
 * run to run under ThreadSanitizer: docs/exploration.md.)
 */
/* Classes of S1's right setting with one round (the relation of
 * lib/sync/det_dpor_rec.c; docs/benchmarks.md, "DPOR"). */
#define S1_ONE_ROUND_CLASSES 88

#ifdef SLOW_BUILD
#define DFS_CAP 2000UL
#else
#define DFS_CAP 60000UL
#endif

static struct mmn_explore_stats search(const char *id, struct mmn_scenario_params p,
				       enum mmn_explore_strategy s, unsigned int bound,
				       unsigned long runs)
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	mmn_explore_config_init(&c);
	c.strategy = s;
	c.preemption_bound = bound;
	c.runs = runs;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
	printf("%s %s variant %d %s bound %u: %lu counted, %lu runs, %lu violating, %s, %.2f s\n",
	       id, p.wrong ? "wrong" : "right", p.variant, mmn_explore_strategy_name(s), bound,
	       st.schedules, st.runs, st.violating,
	       st.complete ? "complete" : st.bounded ? "bounded" : "stopped", st.real_ns / 1e9);
	return st;
}

static void test_dpor_finds_the_wrong_settings(void **state)
{
	static const char *const ids[] = { "S1", "S3", "S4", "S7", "S8" };

	(void)state;
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		struct mmn_explore_stats st =
			search(ids[i], setting_params(true, NULL), MMN_EXPLORE_DPOR, UINT_MAX, 5000);

		assert_int_equal(st.violating, 1);
	}
}

static void test_dpor_right_settings_clean_to_their_bound(void **state)
{
	static const char *const ids[] = { "S1", "S3", "S7" };
	struct mmn_explore_stats st;

	(void)state;
	st = search("S8", setting_params(false, NULL), MMN_EXPLORE_DPOR, UINT_MAX, 10000);
	assert_true(st.complete);
	assert_int_equal(st.violating, 0);
	assert_int_equal(st.schedules, 4);
	for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
		st = search(ids[i], setting_params(false, NULL), MMN_EXPLORE_DPOR, 1, 100000);
		assert_int_equal(st.violating, 0);
		assert_false(st.complete);
		assert_true(st.bounded); /* ended, with schedules past the bound left out */
	}
}

/* Each reference listener's planted bug: found by DPOR where the
 * enumeration finds it. */
static void test_dpor_finds_planted_listener_bugs(void **state)
{
	struct mmn_scenario_params kvm = setting_params(false, NULL);
	const struct {
		const char *id;
		struct mmn_scenario_params p;
	} bugs[] = {
		{ "S2", kvm },                           /* KVM: sequence only */
		{ "S7", setting_params(true, NULL) },    /* HMM: valid flag */
		{ "S1", setting_params(true, NULL) },    /* IOMMU: flush at range end */
	};

	(void)state;
	kvm.variant = MMN_KVM_CHECK_SEQ_ONLY;
	for (size_t i = 0; i < sizeof(bugs) / sizeof(bugs[0]); i++) {
		struct mmn_scenario_params p = i == 0 ? kvm : bugs[i].p;
		struct mmn_explore_stats dfs = search(bugs[i].id, p, MMN_EXPLORE_EXHAUSTIVE, 2,
						      DFS_CAP);
		struct mmn_explore_stats dp = search(bugs[i].id, p, MMN_EXPLORE_DPOR, 2, 20000);

		/* found by DPOR (within 20,000 runs) where the enumeration
		 * finds it (within its cap: fewer in the sanitizer builds) */
		assert_int_equal(dp.violating, 1);
		if (dfs.violating)
			assert_true(dp.runs < dfs.runs);
	}
}

struct ids {
	uint64_t v[4096];
	unsigned int n;
	bool dup;
	unsigned long violating;
};

static void collect(uint64_t id, bool violating, void *arg)
{
	struct ids *s = arg;

	(void)violating;
	for (unsigned int i = 0; i < s->n; i++)
		s->dup |= s->v[i] == id;
	assert_true(s->n < 4096);
	s->v[s->n++] = id;
}

static void shards_of(const char *id, struct mmn_scenario_params p,
		      enum mmn_explore_strategy strategy, unsigned int shards,
		      const struct ids *whole)
{
	static struct ids all;

	memset(&all, 0, sizeof(all));
	for (unsigned int k = 0; k < shards; k++) {
		struct mmn_explore_config c;
		struct mmn_explore_stats st;

		mmn_explore_config_init(&c);
		c.strategy = strategy;
		c.preemption_bound = strategy == MMN_EXPLORE_DPOR ? UINT_MAX : 2;
		c.keep_going = true;
		c.trace = false;
		c.runs = 100000;
		c.shard = k;
		c.shards = shards;
		c.shard_depth = 4;
		c.schedule = collect;
		c.arg = &all;
		assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
		assert_true(st.complete);
	}
	assert_false(all.dup); /* each class in one shard */
	assert_int_equal(all.n, whole->n);
	for (unsigned int i = 0; i < whole->n; i++) {
		bool in = false;

		for (unsigned int j = 0; j < all.n; j++)
			in |= all.v[j] == whole->v[i];
		assert_true(in);
	}
}

/* The unsharded search of @id into @whole. */
static void whole_of(const char *id, struct mmn_scenario_params p,
		     enum mmn_explore_strategy strategy, struct ids *whole)
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	memset(whole, 0, sizeof(*whole));
	mmn_explore_config_init(&c);
	c.strategy = strategy;
	c.preemption_bound = strategy == MMN_EXPLORE_DPOR ? UINT_MAX : 2;
	c.keep_going = true;
	c.trace = false;
	c.runs = 100000;
	c.schedule = collect;
	c.arg = whole;
	assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
	assert_true(st.complete);
	whole->violating = st.violating;
	assert_false(whole->dup);
	assert_int_equal(whole->n, st.schedules);
}

static void test_dpor_shards_count_the_unsharded_classes(void **state)
{
	static struct ids whole;

	(void)state;
	for (int wrong = 0; wrong < 2; wrong++) {
		whole_of("S8", setting_params(wrong, NULL), MMN_EXPLORE_DPOR, &whole);
		assert_int_equal(whole.n, wrong ? 5 : 4);
		shards_of("S8", setting_params(wrong, NULL), MMN_EXPLORE_DPOR, 2, &whole);
		shards_of("S8", setting_params(wrong, NULL), MMN_EXPLORE_DPOR, 4, &whole);
	}
}

/*
 * S1's right setting with one round of each actor (reclaimer, device,
 * re-user): DPOR completes with no violation, in the same classes twice
 * and in the union of shards 0/2 and 1/2; the wrong setting with one
 * round is found. The count is the relation's (docs/exploration.md,
 * "DPOR"): a finer relation lowers it, a coarser one raises it.
 */
static void test_dpor_completes_s1_with_one_round(void **state)
{
	static struct ids whole, again;
	struct mmn_scenario_params p = setting_params(false, NULL);
	struct mmn_explore_stats st;

	(void)state;
	p.iterations = 1;
	whole_of("S1", p, MMN_EXPLORE_DPOR, &whole);
	printf("S1 right, 1 round: %u classes, complete, %lu violating\n", whole.n,
	       whole.violating);
	assert_int_equal(whole.violating, 0);
	assert_int_equal(whole.n, S1_ONE_ROUND_CLASSES);
	whole_of("S1", p, MMN_EXPLORE_DPOR, &again);
	assert_int_equal(again.n, whole.n);
	for (unsigned int i = 0; i < whole.n; i++)
		assert_true(again.v[i] == whole.v[i]); /* the same classes, in the same order */
	shards_of("S1", p, MMN_EXPLORE_DPOR, 2, &whole);
	p.wrong = true;
	st = search("S1", p, MMN_EXPLORE_DPOR, UINT_MAX, 5000);
	assert_int_equal(st.violating, 1);
}

static void test_exhaustive_shards_run_the_unsharded_schedules(void **state)
{
	static struct ids whole;

	(void)state;
	for (int wrong = 0; wrong < 2; wrong++) {
		whole_of("S8", setting_params(wrong, NULL), MMN_EXPLORE_EXHAUSTIVE, &whole);
		shards_of("S8", setting_params(wrong, NULL), MMN_EXPLORE_EXHAUSTIVE, 2, &whole);
		shards_of("S8", setting_params(wrong, NULL), MMN_EXPLORE_EXHAUSTIVE, 4, &whole);
	}
}

/* S8 is small enough for the whole enumeration (no bound): DPOR's few
 * classes show every kind of violation that its ~100,000 schedules show. */
static void test_dpor_agrees_with_the_whole_enumeration_of_s8(void **state)
{
	(void)state;
#ifdef SLOW_BUILD
	/* 190,000 enumerated schedules: the release build's job (DFS_CAP) */
	printf("skipped in a sanitizer build: the whole enumeration is too large there\n");
	skip();
#endif
	for (int wrong = 0; wrong < 2; wrong++) {
		struct mmn_scenario_params p = setting_params(wrong, NULL);
		struct mmn_explore_stats st[2];

		for (int k = 0; k < 2; k++) {
			struct mmn_explore_config c;

			mmn_explore_config_init(&c);
			c.strategy = k ? MMN_EXPLORE_DPOR : MMN_EXPLORE_EXHAUSTIVE;
			c.preemption_bound = UINT_MAX;
			c.keep_going = true;
			c.trace = false;
			c.runs = 1000000;
			assert_int_equal(mmn_scenario_explore("S8", &p, &c, &st[k]), 0);
			assert_true(st[k].complete);
		}
		printf("S8 %s: enumeration %lu schedules (%lu violating), dpor %lu classes "
		       "(%lu violating)\n", wrong ? "wrong" : "right", st[0].schedules,
		       st[0].violating, st[1].schedules, st[1].violating);
		assert_true(st[1].schedules < st[0].schedules);
		assert_int_equal(st[0].violating > 0, st[1].violating > 0);
		for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
			assert_int_equal(st[0].by_kind[k] > 0, st[1].by_kind[k] > 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpor_finds_the_wrong_settings),
		cmocka_unit_test(test_dpor_right_settings_clean_to_their_bound),
		cmocka_unit_test(test_dpor_finds_planted_listener_bugs),
		cmocka_unit_test(test_dpor_shards_count_the_unsharded_classes),
		cmocka_unit_test(test_dpor_completes_s1_with_one_round),
		cmocka_unit_test(test_exhaustive_shards_run_the_unsharded_schedules),
		cmocka_unit_test(test_dpor_agrees_with_the_whole_enumeration_of_s8),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
