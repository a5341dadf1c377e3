// SPDX-License-Identifier: MIT
/*
 * madvise(MADV_DONTNEED) and madvise(MADV_FREE) (lib/ops/madvise.c): one
 * CLEAR bracket per VMA, the zap under the PTL, end before the CPU flush and
 * the flush before the free; hugetlb alignment and PMD-sharing widening per
 * profile; MADV_FREE cleaning exclusive pages and leaving the others as
 * false positives; errors that change nothing.
 */
#include "family_a.h"

/* At end: the page is still allocated and CPU 0 still caches it. */
struct free_probe {
	struct fa *f;
	unsigned long addr, pfn;
	int ends, allocated_at_end, cached_at_end, flushes, freed_at_flush;
};

static void probe_end(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct free_probe *p = arg;

	(void)r;
	if (e->kind != REC_END)
		return;
	p->ends++;
	if (!(fa_page(p->f, p->pfn).flags & MMN_PG_FREE))
		p->allocated_at_end++;
	if (fa_cached(p->f, 0, p->addr))
		p->cached_at_end++;
}

static void probe_flush(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct free_probe *p = arg;
	struct mmn_page_info i;

	if (ev->kind != MMN_SCHED_TLB_FLUSH)
		return;
	mmn_page_info(sim, p->pfn, &i);
	/* The first flush is the page's own gather's. */
	if (p->flushes++ == 0 && i.flags & MMN_PG_FREE)
		p->freed_at_flush++;
}

static void test_dontneed_notifies_clear_per_vma_and_frees_after_the_flush(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct recorder *iommu = fa_rec(f, REC_OPS_SECONDARY_TLB);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long b = fa_map(f, BASE + 4 * PG, 4 * PG, RW, SHARED | FIXED);
	struct free_probe p = { .f = f, .addr = a + PG };
	struct mmn_op_stats st;

	*state = f;
	fa_write(f, 0, a + PG, 5);
	fa_write(f, 0, b, 6);
	p.pfn = fa_walk(f, a + PG).pfn;
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	r->hook = probe_end;
	r->hook_arg = &p;
	rec_reset(r);
	rec_reset(iommu);
	mmn_sched_set_hook(f->sim, probe_flush, &p);
	assert_int_equal(mmn_madvise(f->mm, a + PG, 6 * PG, MMN_MADV_DONTNEED), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);

	FA_KINDS(r, REC_START, REC_END, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->start, a + PG);
	assert_int_equal(rec_find(r, REC_START, 0)->end, a + 4 * PG);
	assert_int_equal(rec_find(r, REC_START, 1)->start, b);
	assert_int_equal(rec_find(r, REC_START, 1)->end, b + 3 * PG);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	for (size_t i = 0; i < rec_count(r); i++)
		assert_int_equal(rec_at(r, i)->held, 0);
	/* end before F1, F1 before the free: at the first VMA's end the page
	 * is still allocated and cached; at the second it is gone (the first
	 * VMA's gather finished in between). */
	assert_int_equal(p.ends, 2);
	assert_int_equal(p.allocated_at_end, 1);
	assert_int_equal(p.cached_at_end, 1);
	assert_true(p.flushes >= 1);
	assert_int_equal(p.freed_at_flush, 0);
	assert_true(fa_page(f, p.pfn).flags & MMN_PG_FREE);
	assert_true(fa_stamp(iommu, REC_ARCH_INVALIDATE, 0) > fa_stamp(r, REC_END, 0));
	assert_true(mmn_pte_none(fa_pte(f, a + PG)));
	assert_true(mmn_pte_none(fa_pte(f, b)));
	/* The mappings stay: private memory reads back zero, shared keeps data. */
	assert_int_equal(fa_read(f, 1, a + PG), 0);
	assert_int_equal(fa_read(f, 1, b), 6);
	st = fa_stats(f, MMN_OP_MADV_DONTNEED);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.ranges, 2);
	assert_int_equal(st.pages_changed, 2);
}

/* 4.15: listeners see UNMAP; the gather's flush calls ->invalidate_range. */
static void test_dontneed_in_4_15_sequence(void **state)
{
	struct fa *f = fa_new("4.15");
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_madvise(f->mm, a, 4 * PG, MMN_MADV_DONTNEED), 0);
	FA_KINDS(r, REC_START, REC_INVALIDATE_RANGE, REC_END, REC_INVALIDATE_RANGE);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_UNMAP);
}

/* Shared hugetlb over a whole PUD area: the range widens in 4.19+ profiles. */
static void test_hugetlb_dontneed_widens_for_pmd_sharing_where_the_profile_has_it(void **state)
{
	static const char *const profiles[] = { "4.15", "latest" };

	(void)state;
	for (int i = 0; i < 2; i++) {
		struct fa *f = fa_new(profiles[i]);
		struct recorder *r = fa_rec(f, REC_OPS_START_END);
		unsigned long a = fa_map(f, BASE, MMN_PUD_SIZE, RW, SHARED | HUGE | FIXED);
		unsigned long x = a + 4 * MMN_PMD_SIZE;
		const struct rec_event *s;

		fa_write(f, 0, x, 1);
		rec_reset(r);
		assert_int_equal(mmn_madvise(f->mm, x, MMN_PMD_SIZE, MMN_MADV_DONTNEED), 0);
		s = rec_find(r, REC_START, 0);
		assert_non_null(s);
		assert_int_equal(s->start, i == 0 ? x : a);
		assert_int_equal(s->end, i == 0 ? x + MMN_PMD_SIZE : a + MMN_PUD_SIZE);
		assert_true(mmn_pte_none(fa_pte(f, x)));
		/* The shared object keeps the page: it reads back. */
		assert_int_equal(fa_read(f, 0, x), 1);
		fa_free(f);
	}
}

static void test_hugetlb_dontneed_needs_an_aligned_start_and_rounds_the_end_down(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 2 * MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct mmn_stats st;

	*state = f;
	fa_write(f, 0, a, 1);
	fa_write(f, 0, a + MMN_PMD_SIZE, 2);
	rec_reset(r);
	assert_int_equal(mmn_madvise(f->mm, a + PG, PG, MMN_MADV_DONTNEED), -EINVAL);
	assert_int_equal(rec_count(r), 0);
	/* [a, a + 1.5 huge pages): only the first huge page goes. */
	assert_int_equal(mmn_madvise(f->mm, a, MMN_PMD_SIZE + MMN_PMD_SIZE / 2, MMN_MADV_DONTNEED),
			 0);
	assert_true(mmn_pte_none(fa_pte(f, a)));
	assert_int_equal(fa_read(f, 0, a + MMN_PMD_SIZE), 2);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.huge_pages_free, 1);
	assert_int_equal(fa_stats(f, MMN_OP_MADV_DONTNEED).pages_changed, MMN_HPAGE_NR);
}

/* ---- MADV_FREE ------------------------------------------------------- */

static void test_free_cleans_exclusive_pages_and_leaves_the_others(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct free_probe p = { .f = f };
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED), pfn;
	struct mmn_op_stats st;
	mmn_pte_t e;

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(fa_read(f, 0, a + PG), 0); /* zero page */
	pfn = fa_walk(f, a).pfn;
	/* The zap of a dirty entry marks the page dirty; make PG_dirty visible
	 * the way reclaim would see it. */
	atomic_fetch_or(&mmn_pfn_to_page(f->sim, pfn)->flags, MMN_PG_DIRTY);
	p.addr = a;
	p.pfn = pfn;
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	r->hook = probe_end;
	r->hook_arg = &p;
	rec_reset(r);
	assert_int_equal(mmn_madvise(f->mm, a, 4 * PG, MMN_MADV_FREE), 0);
	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_find(r, REC_START, 0)->held, 0);
	assert_int_equal(p.cached_at_end, 1); /* F1 after end */
	assert_false(fa_cached(f, 0, a));
	e = fa_pte(f, a);
	assert_true(mmn_pte_present(e));
	assert_false(mmn_pte_dirty(e));
	assert_false(mmn_pte_young(e));
	assert_true(mmn_pte_write(e));
	assert_false(fa_page(f, pfn).flags & MMN_PG_DIRTY);
	st = fa_stats(f, MMN_OP_MADV_FREE);
	assert_int_equal(st.pages_changed, 1);
	assert_int_equal(st.pages_unchanged, 1);
	/* The data is still there (reclaim of lazyfree pages is not modelled)
	 * and a store dirties the entry again. */
	assert_int_equal(fa_read(f, 1, a), 1);
	fa_write(f, 1, a, 2);
	assert_true(mmn_pte_dirty(fa_pte(f, a)));
}

static void test_free_leaves_pages_mapped_twice_alone(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 2 * PG, RW, ANON | FIXED), pfn;
	struct mmn_op_stats st;

	*state = f;
	fa_write(f, 0, a, 1);
	pfn = fa_walk(f, a).pfn;
	/* A second mapping of the page (what fork would make). */
	atomic_fetch_add(&mmn_pfn_to_page(f->sim, pfn)->mapcount, 1);
	assert_int_equal(mmn_madvise(f->mm, a, 2 * PG, MMN_MADV_FREE), 0);
	assert_true(mmn_pte_dirty(fa_pte(f, a)));
	st = fa_stats(f, MMN_OP_MADV_FREE);
	assert_int_equal(st.pages_changed, 0);
	assert_int_equal(st.pages_unchanged, 1);
	atomic_fetch_sub(&mmn_pfn_to_page(f->sim, pfn)->mapcount, 1);
	assert_int_equal(mmn_madvise(f->mm, a, 2 * PG, MMN_MADV_FREE), 0);
	assert_false(mmn_pte_dirty(fa_pte(f, a)));
}

/* ---- errors ---------------------------------------------------------- */

static void test_madvise_bad_input_changes_nothing(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long s = fa_map(f, BASE + 4 * PG, 4 * PG, RW, SHARED | FIXED);
	unsigned long h = fa_map(f, BASE + MMN_PMD_SIZE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);

	*state = f;
	fa_write(f, 0, a, 1);
	fa_write(f, 0, s, 2);
	fa_write(f, 0, h, 3);
	rec_reset(r);
	assert_int_equal(mmn_madvise(NULL, a, PG, MMN_MADV_FREE), -EINVAL);
	assert_int_equal(mmn_madvise(f->mm, a + 1, PG, MMN_MADV_FREE), -EINVAL);
	assert_int_equal(mmn_madvise(f->mm, a, PG, 3), -EINVAL);
	assert_int_equal(mmn_madvise(f->mm, a, ~0UL, MMN_MADV_DONTNEED), -EINVAL);
	/* MADV_FREE over private then shared memory: refused as a whole. */
	assert_int_equal(mmn_madvise(f->mm, a, 8 * PG, MMN_MADV_FREE), -EINVAL);
	assert_int_equal(mmn_madvise(f->mm, h, MMN_PMD_SIZE, MMN_MADV_FREE), -EINVAL);
	/* A hole: -ENOMEM, and nothing is zapped. */
	assert_int_equal(mmn_madvise(f->mm, a, 16 * PG, MMN_MADV_DONTNEED), -ENOMEM);
	assert_int_equal(mmn_madvise(f->mm, a, 0, MMN_MADV_DONTNEED), 0);
	assert_int_equal(rec_count(r), 0);
	assert_true(mmn_pte_dirty(fa_pte(f, a)));
	assert_true(mmn_pte_present(fa_pte(f, s)));
	assert_int_equal(fa_read(f, 0, a), 1);
	assert_int_equal(fa_stats(f, MMN_OP_MADV_FREE).calls, 0);
	assert_int_equal(fa_stats(f, MMN_OP_MADV_DONTNEED).calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_dontneed_notifies_clear_per_vma_and_frees_after_the_flush,
					  fa_teardown),
		cmocka_unit_test_teardown(test_dontneed_in_4_15_sequence, fa_teardown),
		cmocka_unit_test(test_hugetlb_dontneed_widens_for_pmd_sharing_where_the_profile_has_it),
		cmocka_unit_test_teardown(test_hugetlb_dontneed_needs_an_aligned_start_and_rounds_the_end_down,
					  fa_teardown),
		cmocka_unit_test_teardown(test_free_cleans_exclusive_pages_and_leaves_the_others,
					  fa_teardown),
		cmocka_unit_test_teardown(test_free_leaves_pages_mapped_twice_alone, fa_teardown),
		cmocka_unit_test_teardown(test_madvise_bad_input_changes_nothing, fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
