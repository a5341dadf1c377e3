// SPDX-License-Identifier: MIT
/*
 * The oracle's protocol check "the secondary flush where the profile
 * requires it": a frame unmapped at a clear-flush site while the profile
 * defers the secondary-TLB flush past the PTL must not be freed before that
 * flush (seed 000: "the put_page cannot be the last put_page"). It fires on
 * the free itself, whether or not a device happened to touch the frame.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define PG MMN_PAGE_SIZE

static void flush(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long s, unsigned long e)
{
	(void)sub;
	(void)mm;
	(void)s;
	(void)e;
}

static void flush_page(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long a)
{
	(void)sub;
	(void)mm;
	(void)a;
}

/* A secondary-TLB subscriber for every era. */
static const struct mmn_notifier_ops sva_ops = {
	.arch_invalidate_secondary_tlbs = flush,
	.invalidate_range = flush,
	.invalidate_page = flush_page,
};

/* Reclaim one written page under @profile with the knobs given; returns the
 * number of protocol violations. */
static unsigned long reclaim_under(const char *profile, const char *secondary_flush,
				   const char *put_page_early, bool subscribe)
{
	struct mmn_sim_config cfg;
	struct mmn_notifier sub = { .ops = &sva_ops };
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	unsigned long addr, n;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 256;
	cfg.profile = profile;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	capture_install(sim, &cap);
	if (secondary_flush)
		assert_int_equal(mmn_sim_set_knob(sim, "secondary_flush", secondary_flush), 0);
	assert_int_equal(mmn_sim_set_knob(sim, "put_page_before_secondary_flush", put_page_early), 0);
	mm = mmn_mm_create(sim);
	assert_int_equal(mmn_mmap(mm, 0, 4 * PG, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &addr), 0);
	assert_int_equal(mmn_cpu_write(mm, 0, addr, 7), 0);
	if (subscribe)
		assert_int_equal(mmn_notifier_register(&sub, mm), 0);
	assert_int_equal(mmn_try_to_unmap(mm, addr, PG), 0);
	n = mmn_check_count(sim, MMN_VIOL_PROTOCOL);
	assert_int_equal(mmn_check_total(sim), n);
	if (subscribe)
		assert_int_equal(mmn_notifier_unregister(&sub, mm), 0);
	assert_int_equal(mmn_audit(sim), 0);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
	return n;
}

static void test_free_before_a_deferred_secondary_flush_is_reported(void **state)
{
	(void)state;
	/* range_end defers F2 to end; the early put frees the page first. */
	assert_int_equal(reclaim_under("6.5", "range_end", "true", true), 1);
	/* 4.12: ->invalidate_page after the PTL drop; the early put frees it first. */
	assert_int_equal(reclaim_under("4.12", NULL, "true", true), 1);
}

static void test_free_after_the_flush_or_with_the_flush_under_the_ptl_is_silent(void **state)
{
	(void)state;
	/* The page is freed by the reclaimer after end: the flush came first. */
	assert_int_equal(reclaim_under("6.5", "range_end", "false", true), 0);
	assert_int_equal(reclaim_under("4.12", NULL, "false", true), 0);
	/* F2 under the PTL (call sites, or inside the CPU flush): nothing owed. */
	assert_int_equal(reclaim_under("6.5", NULL, "true", true), 0);
	assert_int_equal(reclaim_under("latest", NULL, "true", true), 0);
	/* Nobody to flush: the early free harms nobody. */
	assert_int_equal(reclaim_under("6.5", "range_end", "true", false), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_free_before_a_deferred_secondary_flush_is_reported),
		cmocka_unit_test(test_free_after_the_flush_or_with_the_flush_under_the_ptl_is_silent),
	};

	return cmocka_run_group_tests_name("secflush_owed", tests, NULL, NULL);
}
