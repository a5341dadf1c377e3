// SPDX-License-Identifier: MIT
/*
 * mremap() (lib/ops/mremap.c): moves notify UNMAP over the old range, move
 * the entries under both PTLs, flush the old range under the PTL (4.19+) or
 * after it (the CVE-2018-18281 window, shown both ways), then munmap the old
 * range; shrinking, growing in place, and the errors.
 */
#include "family_a.h"

static void test_move_notifies_unmap_on_the_old_range_and_keeps_the_frames(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED), n = 0, pfn;
	const struct rec_event *s;

	fa_map(f, BASE + 8 * PG, PG, RW, ANON | FIXED); /* no room to grow */
	*state = f;
	for (int i = 0; i < 8; i++)
		fa_write(f, 0, a + i * PG, 100 + i);
	pfn = fa_walk(f, a + 3 * PG).pfn;
	rec_reset(r);
	assert_int_equal(mmn_mremap(f->mm, a + 2 * PG, 4 * PG, 6 * PG, MMN_MREMAP_MAYMOVE, 0, &n), 0);
	assert_int_not_equal(n, a + 2 * PG);
	/* move_page_tables()'s bracket, then do_munmap()'s (empty) one. */
	FA_KINDS(r, REC_START, REC_END, REC_START, REC_END);
	for (int i = 0; i < 4; i += 2) {
		s = rec_find(r, REC_START, (size_t)i / 2);
		assert_int_equal(s->event, MMN_NOTIFY_UNMAP);
		assert_int_equal(s->start, a + 2 * PG);
		assert_int_equal(s->end, a + 6 * PG);
	}
	assert_int_equal(fa_walk(f, n + PG).pfn, pfn);
	assert_int_equal(fa_page(f, pfn).mapcount, 1);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fa_read(f, 1, n + i * PG), 102 + i);
	assert_int_equal(fa_read(f, 1, n + 5 * PG), 0); /* the grown tail */
	assert_int_equal(mmn_cpu_read(f->mm, 0, a + 2 * PG, &(uint64_t){ 0 }), -EFAULT);
	assert_int_equal(fa_read(f, 0, a + PG), 101);
	assert_int_equal(fa_read(f, 0, a + 6 * PG), 106);
	assert_int_equal(mmn_vma_count(f->mm), 4);
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).pages_changed, 4);
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).ranges, 1);
}

/*
 * The CVE-2018-18281 window, from a scheduling hook at the old PTL's
 * release. 4.12/4.13 mm/mremap.c move_ptes() (knob mremap_flush_under_ptl
 * false): a dirty entry is flushed before the old PTL is dropped, a clean
 * one only after every PTL is dropped, so CPU 0's translation of the old
 * address survives the unlock only for a clean entry. 4.19+ (5.2, 6.19): any
 * present entry is flushed under the PTL.
 */
struct cve_probe {
	struct fa *f;
	const void *old_ptl;
	unsigned long old;
	int unlocks, cached_at_unlock;
};

static void cve_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct cve_probe *p = arg;

	(void)sim;
	if (ev->kind != MMN_SCHED_UNLOCK || ev->obj != p->old_ptl)
		return;
	p->unlocks++;
	if (fa_cached(p->f, 0, p->old))
		p->cached_at_unlock++;
}

static void cve_window(bool fixed, bool dirty)
{
	struct fa *f = fa_new("latest");
	struct recorder *iommu;
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED), n;
	struct cve_probe p = { .f = f, .old = a + PG };
	const struct rec_event *e;
	bool window = !fixed && !dirty;

	assert_int_equal(mmn_sim_set_knob(f->sim, "mremap_flush_under_ptl", fixed ? "true" : "false"),
			 0);
	fa_write(f, 0, a + PG, 7);
	if (!dirty) {
		/* Out to swap and back by a read fault: present and clean. */
		assert_int_equal(mmn_try_to_unmap(f->mm, a + PG, PG), 0);
		assert_int_equal(fa_read(f, 0, a + PG), 7);
	}
	assert_int_equal(mmn_pte_dirty(fa_pte(f, a + PG)), dirty);
	assert_true(fa_cached(f, 0, a + PG));
	iommu = fa_rec(f, REC_OPS_SECONDARY_TLB);
	p.old_ptl = fa_ptl(f, a);
	assert_int_equal(rec_watch_lock(iommu, p.old_ptl, "old_ptl"), 0);
	rec_reset(iommu);
	mmn_sched_set_hook(f->sim, cve_hook, &p);
	assert_int_equal(mmn_mremap(f->mm, a, 4 * PG, 4 * PG, MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED,
				    BASE + MMN_PMD_SIZE, &n),
			 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(n, BASE + MMN_PMD_SIZE);
	assert_true(p.unlocks >= 1);
	assert_int_equal(p.cached_at_unlock, window ? 1 : 0);
	/* The IOMMU's flush comes with F1: under the old PTL unless the window. */
	e = rec_find(iommu, REC_ARCH_INVALIDATE, 0);
	assert_non_null(e);
	assert_int_equal(e->start, a);
	assert_int_equal(e->held, window ? 0u : 1u);
	rec_unwatch_locks(iommu); /* the old PTE table was freed by the munmap */
	assert_false(fa_cached(f, 0, a + PG));
	assert_int_equal(fa_read(f, 0, n + PG), 7);
	fa_free(f);
}

static void test_flush_before_the_ptl_drop_closes_the_cve_2018_18281_window(void **state)
{
	(void)state;
	cve_window(false, false); /* < 4.19, clean entry: the window */
	cve_window(false, true);  /* < 4.19, dirty entry: flushed under the PTL */
	cve_window(true, false);  /* 4.19+: flushed under the PTL */
	cve_window(true, true);
}

static void test_move_in_4_15_sequence(void **state)
{
	struct fa *f = fa_new("4.15");
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	unsigned long a = fa_map(f, BASE, 2 * PG, RW, ANON | FIXED), n;

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_mremap(f->mm, a, 2 * PG, 2 * PG, MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED,
				    BASE + MMN_PMD_SIZE, &n), 0);
	/* move: S, (end's ->invalidate_range), E; then munmap's empty bracket. */
	FA_KINDS(r, REC_START, REC_INVALIDATE_RANGE, REC_END, REC_START, REC_INVALIDATE_RANGE,
		 REC_END);
	assert_int_equal(fa_read(f, 0, n), 1);
}

static void test_fixed_target_is_unmapped_first(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 2 * PG, RW, SHARED | FIXED);
	unsigned long t = fa_map(f, BASE + MMN_PMD_SIZE, 4 * PG, RW, ANON | FIXED), n, pfn;

	*state = f;
	fa_write(f, 0, a, 1);
	fa_write(f, 0, t + PG, 2);
	pfn = fa_walk(f, t + PG).pfn;
	assert_int_equal(mmn_mremap(f->mm, a, 2 * PG, 2 * PG, MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED,
				    t, &n), 0);
	assert_true(fa_page(f, pfn).flags & MMN_PG_FREE);
	assert_int_equal(fa_read(f, 0, t), 1);
	assert_int_equal(fa_read(f, 0, t + 2 * PG), 0);
	assert_int_equal(mmn_vma_count(f->mm), 2);
}

static void test_shrink_unmaps_the_tail_and_grow_extends_in_place(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED), n = 0;
	struct mmn_vma_info v;

	*state = f;
	fa_write(f, 0, a + 3 * PG, 3);
	rec_reset(r);
	assert_int_equal(mmn_mremap(f->mm, a, 4 * PG, 2 * PG, 0, 0, &n), 0);
	assert_int_equal(n, a);
	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->start, a + 2 * PG);
	assert_int_equal(mmn_find_vma(f->mm, a, &v), 0);
	assert_int_equal(v.end, a + 2 * PG);
	rec_reset(r);
	assert_int_equal(mmn_mremap(f->mm, a, 2 * PG, 8 * PG, 0, 0, &n), 0);
	assert_int_equal(n, a);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(mmn_find_vma(f->mm, a, &v), 0);
	assert_int_equal(v.end, a + 8 * PG);
	assert_int_equal(fa_read(f, 0, a + 3 * PG), 0);
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).calls, 2);
}

static void test_mremap_bad_input_changes_nothing(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long b = fa_map(f, BASE + 4 * PG, 4 * PG, RW, ANON | FIXED);
	unsigned long h = fa_map(f, BASE + MMN_PMD_SIZE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	unsigned long s = fa_map(f, BASE + 4 * MMN_PMD_SIZE, 2 * PG, RW, SHARED | FIXED);
	unsigned long n = 12345;
	const int mf = MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED;

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_mremap(NULL, a, PG, PG, 0, 0, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, a, PG, PG, 4, 0, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, a, PG, PG, MMN_MREMAP_FIXED, BASE + 64 * PG, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, a + 1, PG, PG, 0, 0, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, a, PG, 0, 0, 0, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, a, 0, PG, 0, 0, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, a, 4 * PG, 4 * PG, mf, a + 2 * PG, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, a, PG, PG, mf, BASE + 64 * PG + 1, &n), -EINVAL);
	/* hugetlb (5.17+ mremap): a misaligned address or a growth. */
	assert_int_equal(mmn_mremap(f->mm, h + PG, PG, PG, mf, BASE + MMN_PUD_SIZE, &n), -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, h, MMN_PMD_SIZE, MMN_PMD_SIZE, mf, BASE + MMN_PUD_SIZE + PG,
				    &n),
			 -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, h, MMN_PMD_SIZE, 2 * MMN_PMD_SIZE, MMN_MREMAP_MAYMOVE, 0,
				    &n),
			 -EINVAL);
	assert_int_equal(mmn_mremap(f->mm, s, 2 * PG, 4 * PG, MMN_MREMAP_MAYMOVE, 0, &n), -EINVAL);
	/* Not inside one VMA, or not mapped. */
	assert_int_equal(mmn_mremap(f->mm, a, 8 * PG, 8 * PG, MMN_MREMAP_MAYMOVE, 0, &n), -EFAULT);
	assert_int_equal(mmn_mremap(f->mm, BASE + 64 * PG, PG, PG, MMN_MREMAP_MAYMOVE, 0, &n),
			 -EFAULT);
	/* Cannot grow in place (b follows a) and may not move. */
	assert_int_equal(mmn_mremap(f->mm, a, 4 * PG, 8 * PG, 0, 0, &n), -ENOMEM);
	assert_int_equal(n, 12345);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(mmn_vma_count(f->mm), 4);
	assert_int_equal(fa_read(f, 0, a), 1);
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).calls, 0);
	(void)b;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_move_notifies_unmap_on_the_old_range_and_keeps_the_frames,
					  fa_teardown),
		cmocka_unit_test(test_flush_before_the_ptl_drop_closes_the_cve_2018_18281_window),
		cmocka_unit_test_teardown(test_move_in_4_15_sequence, fa_teardown),
		cmocka_unit_test_teardown(test_fixed_target_is_unmapped_first, fa_teardown),
		cmocka_unit_test_teardown(test_shrink_unmaps_the_tail_and_grow_extends_in_place,
					  fa_teardown),
		cmocka_unit_test_teardown(test_mremap_bad_input_changes_nothing, fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
