/* SPDX-License-Identifier: MIT */
/*
 * S9 (users): fault loops under invalidations that never stop (HMM retry
 * with a retry budget for the 1 s timeout, KVM retry), and NUMA-balancing
 * PROT_NONE notifications against a KVM-style listener: retry counts,
 * histograms, needless shootdowns, removed by the NUMA-aware listener.
 * Both settings INTERLEAVED with exact counts, both NATIVE (bounded), bad
 * params.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered),
		cmocka_unit_test(test_wrong_plain_needless_shootdowns),
		cmocka_unit_test(test_right_numa_aware_removes_them),
		cmocka_unit_test(test_native),
		cmocka_unit_test(test_bad_params),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
