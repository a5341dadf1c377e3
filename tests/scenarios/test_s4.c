// SPDX-License-Identifier: MIT
/*
 * S4 (seed 002): a hugetlb PMD table shared by two mms, under a KVM-style
 * listener of the child. MADV_DONTNEED of one huge page unshares the child's
 * table (its whole PUD range goes, the other huge page's SPTE stays without
 * the widening). Migration of that huge page before 4.19 (mm/rmap.c
 * try_to_unmap_one() 4.12-4.13: no huge_pmd_unshare(), no widening) clears
 * the shared entry for both mms but notifies only the first mm of i_mmap,
 * the parent: the child's SPTE of the migrated page stays on the freed
 * source. Wrong (pmd_share_widen=false, or profiles 4.12, 4.13, 4.15):
 * stale translations at quiescence. Right (latest, 4.19+ shape): none.
 * EXPLORE: two VMs (one per mm) and the two operations as concurrent
 * actors, no hand-placed order: the explorer finds the stale translation
 * under the wrong setting with random walk and PCT, never under the right
 * one, and a found schedule replays to the same violation and trace.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/explore.h>
#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

#include "support/explore_test.h"
#include "support/scenario_test.h"

/*
 * Schedules to the first violating one under the wrong setting, 20 seeds
 * (seed 1000*k, k = 0..19) each: random walk worst 1 (median 0), PCT
 * worst 1 (median 0). The bounds are 5x the worst.
 */
#define S4_RANDOM_FIRST_BOUND 5
#define S4_PCT_FIRST_BOUND 5
/* Schedules a search may run. */
#define S4_SEARCH_RUNS 2000

static struct mmn_scenario_result run(const struct mmn_scenario_params *p)
{
	struct mmn_scenario_result r;

	assert_int_equal(mmn_scenario_run("S4", p, &r), 0);
	return r;
}

/*
 * @n = 1 (wrong) or 0 (right). The VM maps A and B by 2 MiB SPTEs (hugetlb
 * PMD leaves, memslot aligned: KVM's default, mmn_kvm_config::huge_pages),
 * and the audit checks a block page by page: DONTNEED leaves B's SPTE
 * (MMN_HPAGE_NR stale pages); migration leaves A's SPTE (MMN_HPAGE_NR) and
 * the vCPU's 4 KiB TLB entry of A (1) on the freed source.
 */
static void assert_stale_per_op(const struct mmn_scenario_result *r, unsigned long n)
{
	assert_int_equal(r->runs, 2);
	assert_int_equal(r->by_kind[MMN_VIOL_STALE_TRANSLATION], (2 * MMN_HPAGE_NR + 1) * n);
	assert_int_equal(r->violations, (2 * MMN_HPAGE_NR + 1) * n);
	assert_int_equal(counter(r, "dontneed"), MMN_HPAGE_NR * n);
	assert_int_equal(counter(r, "migrate"), (MMN_HPAGE_NR + 1) * n);
	assert_int_equal(counter(r, "spte_b_kept"), n);
	assert_int_equal(counter(r, "spte_a_stale"), n);
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

/* The profiles before 4.19 (mm/rmap.c try_to_unmap_one() and
 * __unmap_hugepage_range() without the widening), as they are. */
static void test_s4_wrong_profiles_before_4_19_are_stale(void **state)
{
	static const char *const pre[] = { "4.12", "4.13", "4.15" };

	(void)state;
	for (size_t i = 0; i < 3; i++) {
		struct mmn_scenario_params p = { .wrong = true, .variant = -1, .profile = pre[i] };
		struct mmn_scenario_result r = run(&p);

		assert_true(r.claim_holds);
		assert_string_equal(r.profile, pre[i]);
		assert_stale_per_op(&r, 1);
	}
}

/* 4.19+ (5.2 and later, widened and unsharing): nothing, the wrong setting
 * being the profile as it is. */
static void test_s4_profiles_from_4_19_are_clean(void **state)
{
	static const char *const post[] = { "5.2", "5.14", "6.5", "6.6", "6.10", "latest" };

	(void)state;
	for (size_t i = 0; i < 6; i++) {
		struct mmn_scenario_params p = { .wrong = true, .variant = -1, .profile = post[i] };
		struct mmn_scenario_result r = run(&p);

		assert_false(r.claim_holds);
		assert_stale_per_op(&r, 0);
	}
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
	/* At most B's 2 MiB SPTE (MMN_HPAGE_NR pages) and B's 4 KiB entry in
	 * the vCPU TLB: the last unshare flushes the vCPU TLB only if it zapped
	 * an SPTE of A, and A may already be gone (the vCPU's last access was
	 * B). */
	assert_true(r.violations <= MMN_HPAGE_NR + 1);
}

/* The unwidened range: B's SPTE outlives the unshare. */
static const struct first_search s4_search = {
	.id = "S4",
	.runs = S4_SEARCH_RUNS,
	.kind = MMN_VIOL_STALE_TRANSLATION,
};

/* @profile: the wrong setting's own (NULL) or 4.15. */
static void s4_assert_found_within(const char *profile, enum mmn_explore_strategy strategy,
				   unsigned long bound)
{
	struct first_search s = s4_search;

	s.profile = profile;
	assert_found_within(&s, strategy, 5, bound);
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
static void test_s4_explore_right_widened_never_stale_random(void **state)
{
	(void)state;
	explore_finds_nothing("S4", setting_params(false, NULL), MMN_EXPLORE_RANDOM, SCALE(2000));
}

static void test_s4_explore_right_widened_never_stale_pct(void **state)
{
	(void)state;
	explore_finds_nothing("S4", setting_params(false, NULL), MMN_EXPLORE_PCT, SCALE(2000));
}

/* Found callback: sums the migration's stale SPTEs of A over the violating
 * schedules. */
static bool sum_spte_a(const struct mmn_explore_found *f, void *arg)
{
	unsigned long *sum = arg, v = 0;

	if (!mmn_scenario_counter(f->result, "spte_a_stale", &v))
		*sum += v;
	return true;
}

/* Exploring @profile's wrong setting (the profile as it is; NULL: latest
 * with pmd_share_widen=false), 300 PCT schedules: how many violate, and the
 * migration's stale SPTEs of A they left. */
static unsigned long explore_migration(const char *profile, unsigned long *spte_a)
{
	struct mmn_scenario_params p = setting_params(true, profile);
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	*spte_a = 0;
	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_PCT;
	c.runs = SCALE(300);
	c.keep_going = true;
	c.trace = false;
	c.found = sum_spte_a;
	c.arg = spte_a;
	assert_int_equal(mmn_scenario_explore("S4", &p, &c, &st), 0);
	assert_int_equal(st.deadlocks + st.budgets, 0);
	return st.violating;
}

/*
 * Seed 002's migration bug is found by exploration before 4.19 (4.12, 4.13,
 * 4.15 as profiled, and latest without the widening): some schedules leave
 * the child's SPTE of A on the migrated-away source; never from 4.19 on.
 */
static void test_s4_explore_finds_migration_bug_only_before_4_19(void **state)
{
	static const char *const pre[] = { "4.12", "4.13", "4.15", NULL };
	static const char *const post[] = { "5.2", "6.6", "latest" };
	unsigned long a;

	(void)state;
	for (size_t i = 0; i < 4; i++) {
		assert_true(explore_migration(pre[i], &a) > 0);
		assert_true(a > 0);
	}
	for (size_t i = 0; i < 3; i++) {
		assert_int_equal(explore_migration(post[i], &a), 0);
		assert_int_equal(a, 0);
	}
}

static void test_s4_explore_replay_reproduces_violation_and_trace(void **state)
{
	struct mmn_scenario_result r;

	(void)state;
	r = found_schedule_replays(&s4_search, MMN_EXPLORE_PCT, 3000, S4_SEARCH_RUNS);
	assert_true(counter(&r, "spte_b_kept") > 0);
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
	assert_true(r.sched.actors >= 5);
	assert_int_equal(counter(&r, "spte_b_kept"), 0);
	/* Two rounds of A and B per vCPU, two vCPUs. */
	assert_int_equal(counter(&r, "vcpu_ok") + counter(&r, "vcpu_failed") +
				 counter(&r, "vcpu_wrong_data"),
			 8);
	/* Some operation found the table shared and unshared it. */
	assert_true(counter(&r, "dontneed_pages") + counter(&r, "migrate_pages") >= 1024);
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
		cmocka_unit_test(test_s4_wrong_profiles_before_4_19_are_stale),
		cmocka_unit_test(test_s4_profiles_from_4_19_are_clean),
		cmocka_unit_test(test_s4_right_widened_is_clean),
		cmocka_unit_test(test_s4_native_runs),
		cmocka_unit_test(test_s4_explore_one_schedule_defaults),
		cmocka_unit_test(test_s4_explore_random_finds_stale_translation),
		cmocka_unit_test(test_s4_explore_pct_finds_stale_translation),
		cmocka_unit_test(test_s4_explore_profile_4_15_finds_stale_translation),
		cmocka_unit_test(test_s4_explore_right_widened_never_stale_random),
		cmocka_unit_test(test_s4_explore_right_widened_never_stale_pct),
		cmocka_unit_test(test_s4_explore_finds_migration_bug_only_before_4_19),
		cmocka_unit_test(test_s4_explore_replay_reproduces_violation_and_trace),
		cmocka_unit_test(test_s4_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
