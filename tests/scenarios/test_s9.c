// SPDX-License-Identifier: MIT
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
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/clock.h>
#include <mmnsim/explore.h>
#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

#include "support/explore_test.h"
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

/* ---- EXPLORE (count scenario: no violating schedule in either setting) ---- */

static void test_explore_wrong_finds_no_violation(void **state)
{
	(void)state;
	explore_both_find_nothing("S9", setting_params(true, NULL), SCALE(400), SCALE(1000));
}

static void test_explore_right_finds_no_violation(void **state)
{
	(void)state;
	explore_both_find_nothing("S9", setting_params(false, NULL), SCALE(400), SCALE(1000));
}

/*
 * Schedules whose HMM fault loop gave up. Each one's modelled clock has
 * exactly its give-ups' 1 s timeouts charged on top of a modelled run far
 * shorter than 1 s (whatever the interleaving: the clock is a counter), and
 * nothing slept on the host's clock: summed over these schedules, the host
 * time of the runs stays below the timeouts charged. A sleep is a lower
 * bound, so a model that slept the timeout fails this on any host; a busy
 * host does not, unless a give-up schedule took over 1 s of host time per
 * give-up on average (about 1000x its cost on an idle machine). One
 * schedule's host time is not compared alone: a loaded machine (ctest -j2
 * beside other work, the thread mechanism, a sanitizer) can stall one run
 * for a good part of a second.
 */
static unsigned long giveup_schedules;
static uint64_t giveup_real_ns, giveup_charged_ns;

static void check_timeouts(const struct mmn_scenario_result *r)
{
	uint64_t timeout = mmn_cost_default(MMN_COST_HMM_RETRY_TIMEOUT);
	unsigned long g = counter(r, "hmm_giveups");

	if (!g)
		return;
	giveup_schedules++;
	assert_true(r->modelled_ns >= g * timeout);
	assert_true(r->modelled_ns - g * timeout < timeout);
	giveup_real_ns += r->real_ns;
	giveup_charged_ns += g * timeout;
}

/* Summed over schedules: the plain listener's needless shootdowns, none
 * with the NUMA-aware one; the fault loops retried under the storm. */
static void test_explore_numa_aware_removes_needless_shootdowns(void **state)
{
	struct sums w, r;

	(void)state;
	giveup_schedules = 0;
	giveup_real_ns = 0;
	giveup_charged_ns = 0;
	sum_both("S9", true, SCALE(150), &w, check_timeouts);
	sum_both("S9", false, SCALE(150), &r, check_timeouts);
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
	assert_true(giveup_real_ns < giveup_charged_ns);
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
	replay_is_byte_identical("S9", s9_interesting);
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
