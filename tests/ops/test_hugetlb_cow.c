// SPDX-License-Identifier: MIT
/*
 * Private hugetlb across fork (lib/ops/fork.c, lib/ops/memory.c):
 * copy_hugetlb_page_range() shares and write-protects (4.12-6.19; the
 * secondary flush under the PTLs in 4.12/4.13, from end 4.15+), copies a
 * pinned page at once (fork_copy_pinned), and hugetlb_wp() (hugetlb_cow()
 * before 6.1) copies on the first store under a CLEAR range over the huge
 * page, flushing under the PMD lock, or reuses a page mapped once.
 */
#include <errno.h>
#include <string.h>

#include "family_a.h"

static unsigned long huge_free(struct fa *f)
{
	struct mmn_stats st;

	mmn_sim_get_stats(f->sim, &st);
	return st.huge_pages_free;
}

static struct mmn_spinlock *pmd_lock_of(struct fa *f, unsigned long addr)
{
	return &mmn_pt_walk(f->mm, addr, MMN_LVL_PMD)->ptl;
}

/* 6.19 hugetlb_wp(): S(CLEAR over the 2 MiB page) → PMD lock →
 * huge_ptep_clear_flush() (F1 with F2 inside, under the lock) → new page
 * → U → E; the child keeps the old page. */
static void test_hugetlb_cow_notifies_clear_and_flushes_under_the_pmd_lock(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct recorder *r, *t;
	struct mmn_mm *child = NULL;
	unsigned long old, before;
	uint64_t v = 0;

	*state = f;
	fa_write(f, 0, a + 3 * PG, 42);
	old = mmn_pte_pfn(fa_pte(f, a));
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_false(mmn_pte_write(fa_pte(f, a)));
	assert_int_equal(mmn_pte_pfn(fa_pte(f, a)), old);
	r = fa_rec(f, REC_OPS_START_END);
	t = fa_rec(f, REC_OPS_SECONDARY_TLB);
	assert_int_equal(rec_watch_lock(r, pmd_lock_of(f, a), "pmd"), 0);
	assert_int_equal(rec_watch_lock(t, pmd_lock_of(f, a), "pmd"), 0);
	before = huge_free(f);

	fa_write(f, 0, a + 3 * PG, 43);

	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_find(r, REC_START, 0)->start, a);
	assert_int_equal(rec_find(r, REC_START, 0)->end, a + MMN_PMD_SIZE);
	assert_int_equal(rec_find(r, REC_START, 0)->held, 0);
	assert_int_equal(rec_find(r, REC_END, 0)->held, 0);
	assert_true(rec_count_kind(t, REC_ARCH_INVALIDATE) >= 1);
	assert_int_equal(rec_find(t, REC_ARCH_INVALIDATE, 0)->held, 1);
	assert_true(fa_stamp(t, REC_ARCH_INVALIDATE, 0) < fa_stamp(r, REC_END, 0));
	assert_int_not_equal(mmn_pte_pfn(fa_pte(f, a)), old);
	assert_int_equal(huge_free(f), before - 1);
	assert_int_equal(fa_stats(f, MMN_OP_COW).calls, 1);
	assert_int_equal(mmn_cpu_read(child, 1, a + 3 * PG, &v), 0);
	assert_int_equal(v, 42);
	assert_int_equal(fa_read(f, 1, a + 3 * PG), 43);
	mmn_mm_put(child);
}

/* 3.19-6.5 hugetlb_cow()/hugetlb_wp(): ->invalidate_range() right after
 * huge_ptep_clear_flush(), under the PMD lock, then again from the full
 * end. */
static void test_hugetlb_cow_in_6_5_calls_invalidate_range_under_the_lock(void **state)
{
	struct fa *f = fa_new("6.5");
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct mmn_mm *child = NULL;
	struct recorder *r;

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	r = fa_rec(f, REC_OPS_LEGACY);
	assert_int_equal(rec_watch_lock(r, pmd_lock_of(f, a), "pmd"), 0);
	fa_write(f, 0, a, 2);
	assert_int_equal(rec_count_kind(r, REC_START), 1);
	assert_int_equal(rec_count_kind(r, REC_INVALIDATE_RANGE), 2);
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 0)->held, 1);
	assert_true(fa_stamp(r, REC_INVALIDATE_RANGE, 0) < fa_stamp(r, REC_END, 0));
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 1)->held, 0);
	mmn_mm_put(child);
}

/* A page mapped once (the child gone) is reused: no notification. */
static void test_hugetlb_wp_reuses_a_page_mapped_once(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct mmn_mm *child = NULL;
	struct recorder *r;
	unsigned long old;

	*state = f;
	fa_write(f, 0, a, 1);
	old = mmn_pte_pfn(fa_pte(f, a));
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	mmn_mm_put(child);
	r = fa_rec(f, REC_OPS_START_END);
	fa_write(f, 0, a, 2);
	assert_int_equal(rec_count_kind(r, REC_START), 0);
	assert_int_equal(mmn_pte_pfn(fa_pte(f, a)), old);
	assert_true(mmn_pte_write(fa_pte(f, a)));
}

/* copy_hugetlb_page_range()'s secondary flush per era: 4.13 calls
 * ->invalidate_range() over the VMA under both PTLs after write-protecting;
 * 4.15 (commit 0f10851ea475) only from end. */
static void fork_flush_in(const char *profile, bool under_ptl)
{
	struct fa *f = fa_new(profile);
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	struct mmn_mm *child = NULL;
	const struct rec_event *ir;

	fa_write(f, 0, a, 1);
	assert_int_equal(rec_watch_lock(r, pmd_lock_of(f, a), "pmd"), 0);
	rec_reset(r);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	ir = rec_find(r, REC_INVALIDATE_RANGE, 0);
	assert_non_null(ir);
	assert_int_equal(ir->held, under_ptl ? 1 : 0);
	assert_int_equal(ir->start, a);
	assert_int_equal(ir->end, a + MMN_PMD_SIZE);
	/* 4.13: a call of its own before end's; 4.15: only end's. */
	assert_int_equal(rec_count_kind(r, REC_INVALIDATE_RANGE), under_ptl ? 2 : 1);
	assert_int_equal(strcmp(ir->context, "invalidate_range_end") != 0, under_ptl);
	mmn_mm_put(child);
	fa_free(f);
}

static void test_fork_hugetlb_flushes_under_the_ptl_in_4_13(void **state)
{
	(void)state;
	fork_flush_in("4.13", true);
}

static void test_fork_hugetlb_flushes_from_end_in_4_15(void **state)
{
	(void)state;
	fork_flush_in("4.15", false);
}

/* A pinned private hugetlb page: copied at fork in 5.14+ (the parent keeps
 * its writable entry), shared copy-on-write in 5.2. */
static void pinned_in(const char *profile, bool copies)
{
	struct fa *f = fa_new(profile);
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct mmn_mm *child = NULL;
	unsigned long pfn = 0, before;
	uint32_t gen;

	fa_write(f, 0, a, 1);
	assert_int_equal(mmn_get_user_pages(f->mm, a, MMN_FOLL_WRITE, &pfn, &gen), 0);
	before = huge_free(f);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(huge_free(f), copies ? before - 1 : before);
	assert_int_equal(mmn_pte_write(fa_pte(f, a)), copies);
	fa_write(f, 0, a, 2);
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	mmn_mm_put(child);
	fa_free(f);
}

static void test_fork_copies_a_pinned_hugetlb_page_from_5_14(void **state)
{
	(void)state;
	pinned_in("5.14", true);
}

static void test_fork_shares_a_pinned_hugetlb_page_in_5_2(void **state)
{
	(void)state;
	pinned_in("5.2", false);
}

/* No huge page left for the copy: the store fails, nothing changes. */
static void test_hugetlb_cow_without_a_free_huge_page_fails(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	unsigned long b = fa_map(f, BASE + MMN_PMD_SIZE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct mmn_mm *child = NULL;
	unsigned long old;

	*state = f;
	fa_write(f, 0, a, 1);
	fa_write(f, 0, b, 2); /* the second (last) huge page */
	old = mmn_pte_pfn(fa_pte(f, a));
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 3), -ENOMEM);
	assert_int_equal(mmn_pte_pfn(fa_pte(f, a)), old);
	assert_int_equal(fa_read(f, 0, a), 1);
	mmn_mm_put(child);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_hugetlb_cow_notifies_clear_and_flushes_under_the_pmd_lock,
					  fa_teardown),
		cmocka_unit_test_teardown(test_hugetlb_cow_in_6_5_calls_invalidate_range_under_the_lock,
					  fa_teardown),
		cmocka_unit_test_teardown(test_hugetlb_wp_reuses_a_page_mapped_once, fa_teardown),
		cmocka_unit_test(test_fork_hugetlb_flushes_under_the_ptl_in_4_13),
		cmocka_unit_test(test_fork_hugetlb_flushes_from_end_in_4_15),
		cmocka_unit_test(test_fork_copies_a_pinned_hugetlb_page_from_5_14),
		cmocka_unit_test(test_fork_shares_a_pinned_hugetlb_page_in_5_2),
		cmocka_unit_test_teardown(test_hugetlb_cow_without_a_free_huge_page_fails, fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
