// SPDX-License-Identifier: MIT
/*
 * mmn__scn_fmt() (lib/scenarios/runner.c), the formatter of the judged
 * texts of a schedule: byte for byte snprintf()'s output, for the
 * conversions it makes itself and for the ones it hands to vsnprintf().
 */
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "scenarios/scenarios_internal.h"

/* Truncation is what some cases test. */
#if defined(__GNUC__) && !defined(__clang__)
#pragma GCC diagnostic ignored "-Wformat-truncation"
#endif

/* Both into buffers of @len (poisoned past it), compared whole. */
#define SAME(len, ...)                                                                   \
	do {                                                                             \
		char want[64], got[64];                                                  \
		memset(want, 'x', sizeof(want));                                          \
		memset(got, 'x', sizeof(got));                                            \
		snprintf(want, (len), __VA_ARGS__);                                       \
		mmn__scn_fmt(got, (len), __VA_ARGS__);                                    \
		assert_memory_equal(want, got, sizeof(want));                             \
	} while (0)

static void test_scn_fmt_matches_snprintf_for_its_own_conversions(void **state)
{
	const char *volatile none = NULL; /* volatile: no -Wformat-overflow on NULL */

	(void)state;
	SAME(64, "%s: %lu use-after-free, %lu protocol, %lu in all", "explore", 0UL, 12UL,
	     ULONG_MAX);
	SAME(64, "%lu violations (%lu counted), %ld stale", 3UL, 1UL, -7L);
	SAME(64, "%ld %ld %d %d %u", LONG_MIN, LONG_MAX, INT_MIN, -1, UINT_MAX);
	SAME(64, "100%% of %s%s", "", "x");
	SAME(64, "[%s]", none);
	SAME(64, "no conversion at all");
	SAME(64, "%s", "");
}

static void test_scn_fmt_truncates_as_snprintf(void **state)
{
	(void)state;
	for (size_t len = 1; len < 40; len++) {
		SAME(len, "%s: %lu use-after-free, %ld in all", "interleaved", 123456UL, -42L);
		SAME(len, "%%%s%%%u", "abc", 7u);
	}
}

static void test_scn_fmt_hands_other_conversions_to_vsnprintf(void **state)
{
	(void)state;
	SAME(64, "%lu.%03lu re-faults, %5s|%-4d|%x", 12UL, 7UL, "ab", 3, 255u);
	SAME(10, "%lu.%03lu re-faults", 12345678UL, 7UL);
	SAME(64, "%lld %zu", -5LL, (size_t)9);
}

static void test_scn_fmt_leaves_a_zero_length_buffer_alone(void **state)
{
	char buf[4] = "abc";

	(void)state;
	mmn__scn_fmt(buf, 0, "%s", "zzz");
	assert_string_equal(buf, "abc");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_scn_fmt_matches_snprintf_for_its_own_conversions),
		cmocka_unit_test(test_scn_fmt_truncates_as_snprintf),
		cmocka_unit_test(test_scn_fmt_hands_other_conversions_to_vsnprintf),
		cmocka_unit_test(test_scn_fmt_leaves_a_zero_length_buffer_alone),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
