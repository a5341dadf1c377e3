// SPDX-License-Identifier: MIT
/*
 * memory_failure() (lib/ops/memory_failure.c; mm/memory-failure.c with
 * try_to_unmap(TTU_HWPOISON), 4.15-6.19 read): every mapping of the page,
 * in every mm, replaced by a hwpoison entry under a CLEAR range with the
 * flush under the PTL (per era: F2 inside F1 6.6+, ->invalidate_range at
 * the call site 4.13-6.5, ->invalidate_page under the PTL and no start/end
 * in 4.12); later accesses fail with -EHWPOISON; what it refuses.
 */
#include <errno.h>

#include "family_a.h"

/* 6.19: CLEAR over the page, F1 (F2 inside) under the PTL, in each mm. */
static void test_poison_unmaps_every_mapping_with_hwpoison_entries(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct recorder *t = fa_rec(f, REC_OPS_SECONDARY_TLB);
	unsigned long a = fa_map(f, BASE, 2 * PG, RW, ANON | FIXED);
	struct mmn_mm *child = NULL;
	struct mmn_walk w;
	unsigned long pfn, gp;
	uint32_t gen;
	uint64_t v;

	*state = f;
	fa_write(f, 0, a, 7);
	fa_write(f, 0, a + PG, 8);
	pfn = mmn_pte_pfn(fa_pte(f, a));
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(rec_watch_lock(t, fa_ptl(f, a), "ptl"), 0);
	rec_reset(r);
	rec_reset(t);

	assert_int_equal(mmn_memory_failure(f->sim, pfn), 0);

	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_find(r, REC_START, 0)->start, a);
	assert_int_equal(rec_find(r, REC_START, 0)->end, a + PG);
	assert_int_equal(rec_count_kind(t, REC_ARCH_INVALIDATE), 1);
	assert_int_equal(rec_find(t, REC_ARCH_INVALIDATE, 0)->held, 1);
	assert_int_equal(mmn_pte_swp_type(fa_walk(f, a).entry), MMN_SWP_HWPOISON);
	assert_int_equal(mmn_pgtable_walk(child, a, &w), 0);
	assert_int_equal(mmn_pte_swp_type(w.entry), MMN_SWP_HWPOISON);
	assert_true(fa_page(f, pfn).flags & MMN_PG_HWPOISON);
	assert_int_equal(fa_page(f, pfn).mapcount, 0);
	assert_int_equal(fa_page(f, pfn).refcount, 1); /* memory_failure()'s, for good */
	assert_int_equal(fa_stats(f, MMN_OP_MEMORY_FAILURE).pages_changed, 2);
	/* Later accesses: -EHWPOISON; the other page is untouched. */
	assert_int_equal(mmn_cpu_read(f->mm, 1, a, &v), -EHWPOISON);
	assert_int_equal(mmn_cpu_write(child, 0, a, 1), -EHWPOISON);
	assert_int_equal(mmn_get_user_pages(f->mm, a, 0, &gp, &gen), -EHWPOISON);
	assert_int_equal(fa_read(f, 1, a + PG), 8);
	assert_int_equal(mmn_memory_failure(f->sim, pfn), -EHWPOISON);
	mmn_mm_put(child);
}

/* Unmapping a hwpoison entry frees nothing; the audit accepts the frame's
 * one reference (no recorder here: it would watch the freed PTL). */
static void test_unmapping_a_hwpoison_entry_keeps_the_frame(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 2 * PG, RW, ANON | FIXED);
	unsigned long pfn;

	*state = f;
	fa_write(f, 0, a, 7);
	pfn = mmn_pte_pfn(fa_pte(f, a));
	assert_int_equal(mmn_memory_failure(f->sim, pfn), 0);
	assert_int_equal(mmn_munmap(f->mm, a, 2 * PG), 0);
	assert_int_equal(fa_page(f, pfn).refcount, 1);
	assert_false(fa_page(f, pfn).flags & MMN_PG_FREE);
	assert_int_equal(mmn_audit(f->sim), 0);
}

/* 4.13-6.5: ->invalidate_range() at the call site, under the PTL. */
static void test_poison_in_6_5_flushes_secondary_tlbs_under_the_ptl(void **state)
{
	struct fa *f = fa_new("6.5");
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	rec_reset(r);
	assert_int_equal(mmn_memory_failure(f->sim, mmn_pte_pfn(fa_pte(f, a))), 0);
	assert_int_equal(rec_count_kind(r, REC_START), 1);
	assert_true(rec_count_kind(r, REC_INVALIDATE_RANGE) >= 1);
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 0)->held, 1);
}

/* 4.12: no start/end, ->invalidate_page with the PTL held. */
static void test_poison_in_4_12_calls_invalidate_page_under_the_ptl(void **state)
{
	struct fa *f = fa_new("4.12");
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	rec_reset(r);
	assert_int_equal(mmn_memory_failure(f->sim, mmn_pte_pfn(fa_pte(f, a))), 0);
	assert_int_equal(rec_count_kind(r, REC_START), 0);
	assert_int_equal(rec_count_kind(r, REC_INVALIDATE_PAGE), 1);
	assert_int_equal(rec_find(r, REC_INVALIDATE_PAGE, 0)->held, 1);
}

static void test_memory_failure_refuses_what_it_does_not_model(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED);
	unsigned long s = fa_map(f, BASE + 16 * PG, PG, RW, SHARED | FIXED);
	unsigned long h = fa_map(f, BASE + MMN_PMD_SIZE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	unsigned long anon, free_pfn;

	*state = f;
	fa_write(f, 0, a, 1);
	fa_write(f, 0, s, 2);
	fa_write(f, 0, h, 3);
	anon = mmn_pte_pfn(fa_pte(f, a));
	assert_int_equal(mmn_memory_failure(NULL, anon), -EINVAL);
	assert_int_equal(mmn_memory_failure(f->sim, 1UL << 40), -ENXIO);
	assert_int_equal(mmn_memory_failure(f->sim, MMN_ZERO_PFN), -ENXIO);
	assert_int_equal(mmn_memory_failure(f->sim, mmn_pte_pfn(fa_pte(f, s))), -EOPNOTSUPP);
	assert_int_equal(mmn_memory_failure(f->sim, mmn_pte_pfn(fa_pte(f, h))), -EOPNOTSUPP);
	assert_int_equal(mmn_munmap(f->mm, a, PG), 0);
	free_pfn = anon; /* freed by the munmap */
	assert_true(fa_page(f, free_pfn).flags & MMN_PG_FREE);
	assert_int_equal(mmn_memory_failure(f->sim, free_pfn), -EOPNOTSUPP);
	assert_false(fa_page(f, free_pfn).flags & MMN_PG_HWPOISON);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_poison_unmaps_every_mapping_with_hwpoison_entries,
					  fa_teardown),
		cmocka_unit_test_teardown(test_unmapping_a_hwpoison_entry_keeps_the_frame, fa_teardown),
		cmocka_unit_test_teardown(test_poison_in_6_5_flushes_secondary_tlbs_under_the_ptl,
					  fa_teardown),
		cmocka_unit_test_teardown(test_poison_in_4_12_calls_invalidate_page_under_the_ptl,
					  fa_teardown),
		cmocka_unit_test_teardown(test_memory_failure_refuses_what_it_does_not_model,
					  fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
