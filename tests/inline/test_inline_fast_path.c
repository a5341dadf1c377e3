// SPDX-License-Identifier: MIT
/*
 * The opt-in inline fast path gives a program the results the library
 * calls give: the same values, errors, TLB statistics and reports, with
 * lockdep off (the inline paths taken) and on (the library's slow paths);
 * the one difference is that a TLB hit served inline is not counted.
 */
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "workload.h"

/* Whether workload.c's SRCU read side is inline (not under TSan). */
static bool inline_srcu(void)
{
#if defined(__SANITIZE_THREAD__)
	return false;
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
	return false;
#else
	return true;
#endif
#else
	return true;
#endif
}

static unsigned long nr_inline(const struct workload_result *r)
{
	unsigned long n = 0;

	for (unsigned int i = 0; i < r->nr_reads; i++)
		n += r->served_inline[i];
	return n;
}

static void compare(bool lockdep)
{
	struct workload_result in, calls;

	workload_inline(&in, lockdep);
	workload_calls(&calls, lockdep);
	assert_false(in.setup_failed);
	assert_false(calls.setup_failed);
	assert_int_equal(in.view_err, 0);
	assert_int_equal(in.view_bad_cpu, calls.view_bad_cpu);
	assert_int_equal(in.nr_reads, calls.nr_reads);
	for (unsigned int i = 0; i < in.nr_reads; i++) {
		assert_int_equal(in.err[i], calls.err[i]);
		if (!in.err[i])
			assert_int_equal(in.val[i], calls.val[i]);
	}
	/* The inline hits are the library's hits that went uncounted. */
	assert_int_equal(nr_inline(&calls), 0);
	assert_int_equal(in.tlb_hits + nr_inline(&in), calls.tlb_hits);
	assert_int_equal(in.tlb_misses, calls.tlb_misses);
	assert_int_equal(in.violations, calls.violations);
	assert_int_equal(in.held_inside, calls.held_inside);
	assert_int_equal(in.held_after, calls.held_after);
	/* The library's indices are 0; the inline lock returns its own. */
	assert_int_equal(calls.idx_sum, 0);
	assert_int_equal(in.idx_sum, lockdep || !inline_srcu() ? 0 : 2 * 2);
	assert_int_equal(in.srcu_violations, calls.srcu_violations);
}

static void test_inline_reads_match_library_calls_lockdep_off(void **state)
{
	(void)state;
	compare(false);
}

static void test_inline_reads_match_library_calls_lockdep_on(void **state)
{
	(void)state;
	compare(true);
}

/* The workload sees hits at all (else the comparison proves little). */
static void test_inline_workload_hits_the_tlb(void **state)
{
	struct workload_result in;

	(void)state;
	workload_inline(&in, false);
	assert_true(nr_inline(&in) >= 2 * WL_PAGES);
	assert_int_equal(in.val[0], 100);
	assert_int_equal(in.err[in.nr_reads - 2], -14 /* -EFAULT */);
	assert_int_equal(in.err[in.nr_reads - 1], -14 /* -EFAULT, not a hit on page 4 */);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_inline_reads_match_library_calls_lockdep_off),
		cmocka_unit_test(test_inline_reads_match_library_calls_lockdep_on),
		cmocka_unit_test(test_inline_workload_hits_the_tlb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
