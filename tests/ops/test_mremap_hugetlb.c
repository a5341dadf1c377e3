// SPDX-License-Identifier: MIT
/*
 * mremap() of hugetlb VMAs (lib/ops/mremap.c, knob mremap_hugetlb): 5.17+
 * move_hugetlb_page_tables() (read in 5.19, 6.5, 6.6.9, 6.19) moves the
 * huge entries under a CLEAR range widened for PMD sharing, unshares a
 * shared PMD table instead of moving it, flushes after the PTLs and ends
 * with i_mmap_rwsem held; 4.12-5.14 vma_to_resize() refuses (-EINVAL) after
 * a FIXED target was unmapped, and only a shrink works.
 */
#include <errno.h>
#include <string.h>

#include "family_a.h"

#define HP MMN_PMD_SIZE
#define GB MMN_PUD_SIZE
#define MF (MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED)
#define SHUGE (MMN_MAP_SHARED | MMN_MAP_ANONYMOUS | MMN_MAP_HUGETLB | MMN_MAP_FIXED)

static bool mapped(struct fa *f, struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_walk w;

	(void)f;
	return mmn_pgtable_walk(mm, addr, &w) == 0 && !mmn_pte_none(w.entry);
}

/* Two private huge pages at BASE written 11 and 22, moved to @to. */
static struct fa *moved_private(const char *profile, unsigned long to, struct recorder **r,
				struct recorder **t, unsigned long pfn[2], int *ret)
{
	struct fa *f = fa_new(profile);
	unsigned long a = fa_map(f, BASE, 2 * HP, RW, ANON | HUGE | FIXED), got = 0;

	fa_write(f, 0, a, 11);
	fa_write(f, 0, a + HP + 8, 22);
	pfn[0] = mmn_pte_pfn(fa_pte(f, a));
	pfn[1] = mmn_pte_pfn(fa_pte(f, a + HP));
	*r = fa_rec(f, REC_OPS_START_END);
	*t = fa_rec(f, strcmp(profile, "6.5") ? REC_OPS_SECONDARY_TLB : REC_OPS_LEGACY);
	assert_int_equal(rec_watch_lock(*r, &mmn_pt_walk(f->mm, a, MMN_LVL_PMD)->ptl, "pmd"), 0);
	assert_int_equal(rec_watch_lock(*t, &mmn_pt_walk(f->mm, a, MMN_LVL_PMD)->ptl, "pmd"), 0);
	*ret = mmn_mremap(f->mm, a, 2 * HP, 2 * HP, MF, to, &got);
	/* The old PMD table may be gone with the old range's munmap. */
	rec_unwatch_locks(*r);
	rec_unwatch_locks(*t);
	if (!*ret)
		assert_int_equal(got, to);
	return f;
}

/* 6.19: S(CLEAR over the old range) → entries moved under the PMD locks →
 * F1 (+F2) after the locks → E; then do_munmap()'s UNMAP bracket. */
static void moves_under_clear(unsigned long to)
{
	struct recorder *r, *t;
	unsigned long pfn[2];
	int ret;
	struct fa *f = moved_private("latest", to, &r, &t, pfn, &ret);
	const struct rec_event *s;

	assert_int_equal(ret, 0);
	s = rec_find(r, REC_START, 0);
	assert_int_equal(s->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(s->start, BASE);
	assert_int_equal(s->end, BASE + 2 * HP);
	assert_int_equal(rec_find(r, REC_START, 1)->event, MMN_NOTIFY_UNMAP);
	assert_int_equal(rec_count_kind(r, REC_START), 2);
	/* The flush of the old range: after S, before E, no PMD lock held. */
	assert_true(rec_count_kind(t, REC_ARCH_INVALIDATE) >= 1);
	assert_int_equal(rec_find(t, REC_ARCH_INVALIDATE, 0)->held, 0);
	assert_true(fa_stamp(r, REC_START, 0) < fa_stamp(t, REC_ARCH_INVALIDATE, 0));
	assert_true(fa_stamp(t, REC_ARCH_INVALIDATE, 0) < fa_stamp(r, REC_END, 0));
	/* The same huge pages at the new place, nothing left at the old one. */
	assert_int_equal(mmn_pte_pfn(fa_pte(f, to)), pfn[0]);
	assert_int_equal(mmn_pte_pfn(fa_pte(f, to + HP)), pfn[1]);
	assert_int_equal(fa_read(f, 1, to), 11);
	assert_int_equal(fa_read(f, 1, to + HP + 8), 22);
	assert_false(mapped(f, f->mm, BASE));
	assert_false(mapped(f, f->mm, BASE + HP));
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).calls, 1);
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).pages_changed, 2 * MMN_HPAGE_NR);
	fa_free(f);
}

static void test_latest_moves_hugetlb_under_clear_to_another_pmd_table(void **state)
{
	(void)state;
	moves_under_clear(BASE + GB);
}

static void test_latest_moves_hugetlb_inside_one_pmd_table(void **state)
{
	(void)state;
	moves_under_clear(BASE + 8 * HP);
}

/* 5.17-6.5 (6.5 read): no F2 in the flush; ->invalidate_range from the
 * full end, outside the PMD locks. */
static void test_6_5_invalidate_range_from_the_full_end(void **state)
{
	struct recorder *r, *t;
	unsigned long pfn[2];
	int ret;
	struct fa *f = moved_private("6.5", BASE + GB, &r, &t, pfn, &ret);
	const struct rec_event *ir;

	(void)state;
	assert_int_equal(ret, 0);
	ir = rec_find(t, REC_INVALIDATE_RANGE, 0);
	assert_non_null(ir);
	assert_string_equal(ir->context, "invalidate_range_end");
	assert_int_equal(ir->held, 0);
	assert_int_equal(ir->start, BASE);
	assert_int_equal(ir->end, BASE + 2 * HP);
	assert_int_equal(mmn_pte_pfn(fa_pte(f, BASE + GB)), pfn[0]);
	fa_free(f);
}

/* 5.14 vma_to_resize(): -EINVAL, after mremap_to() unmapped the target. */
static void test_5_14_refuses_the_move_after_unmapping_the_target(void **state)
{
	struct fa *f = fa_new("5.14");
	unsigned long a = fa_map(f, BASE, 2 * HP, RW, ANON | HUGE | FIXED);
	unsigned long x = fa_map(f, BASE + GB, 4 * PG, RW, ANON | FIXED), got = 0;

	*state = f;
	fa_write(f, 0, a, 11);
	fa_write(f, 0, x, 5);
	assert_int_equal(mmn_mremap(f->mm, a, 2 * HP, 2 * HP, MF, x, &got), -EINVAL);
	assert_false(mapped(f, f->mm, x));
	assert_int_equal(fa_read(f, 0, a), 11);
	/* Growing in place is refused too. */
	assert_int_equal(mmn_mremap(f->mm, a, 2 * HP, 4 * HP, 0, 0, &got), -EINVAL);
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).calls, 0);
}

/* The knob alone decides: latest with mremap_hugetlb off refuses as 5.14. */
static void test_latest_with_the_knob_off_refuses(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 2 * HP, RW, ANON | HUGE | FIXED), got = 0;
	struct recorder *r;

	*state = f;
	assert_int_equal(mmn_sim_set_knob(f->sim, "mremap_hugetlb", "false"), 0);
	fa_write(f, 0, a, 11);
	r = fa_rec(f, REC_OPS_START_END);
	assert_int_equal(mmn_mremap(f->mm, a, 2 * HP, 2 * HP, MF, BASE + GB, &got), -EINVAL);
	assert_int_equal(rec_count_kind(r, REC_START), 0);
	assert_int_equal(fa_read(f, 0, a), 11);
	assert_int_equal(mmn_sim_set_knob(f->sim, "mremap_hugetlb", "true"), 0);
	assert_int_equal(mmn_mremap(f->mm, a, 2 * HP, 2 * HP, MF, BASE + GB, &got), 0);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(fa_read(f, 0, BASE + GB), 11);
}

/* A shrink unmaps the tail in every era; 5.17+ first rounds the new
 * length up to the huge page (here: no change at all). */
static void shrink_in(const char *profile, bool rounds)
{
	struct fa *f = fa_new(profile);
	unsigned long a = fa_map(f, BASE, 2 * HP, RW, ANON | HUGE | FIXED), got = 0;
	struct mmn_vma_info v;

	fa_write(f, 0, a + HP, 3);
	assert_int_equal(mmn_mremap(f->mm, a, 2 * HP, rounds ? HP + PG : HP, 0, 0, &got), 0);
	assert_int_equal(got, a);
	assert_int_equal(mmn_find_vma(f->mm, a, &v), 0);
	assert_int_equal(v.end, rounds ? a + 2 * HP : a + HP);
	assert_int_equal(mapped(f, f->mm, a + HP), rounds);
	fa_free(f);
}

static void test_5_14_shrink_unmaps_the_tail(void **state)
{
	(void)state;
	shrink_in("5.14", false);
}

static void test_latest_shrink_rounds_up_to_the_huge_page(void **state)
{
	(void)state;
	shrink_in("latest", true);
}

/*
 * A shared PMD table (fork of 1 GiB of shared hugetlb memory): moving
 * 4 MiB of the child unshares the child's table under a CLEAR range
 * widened to the PUD area, moves nothing, and ends with i_mmap_rwsem
 * held; the pages come back from the object at the new place.
 */
static void test_latest_unshares_a_shared_pmd_table_instead_of_moving(void **state)
{
	const unsigned long g = 0x7e0000000000UL, to = g + 2 * GB;
	struct fa *f = fa_new("latest");
	struct mmn_mm *child = NULL;
	struct mmn_ptdesc *pmdt;
	struct recorder *r;
	struct mmn_shmem *obj;
	const struct rec_event *s, *e;
	unsigned long got = 0;
	uint64_t v = 0;

	*state = f;
	assert_int_equal(mmn_mmap(f->mm, g, GB, RW, SHUGE, &got), 0);
	fa_write(f, 0, g, 1);
	fa_write(f, 0, g + HP, 2);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	pmdt = mmn_pt_walk(child, g, MMN_LVL_PMD);
	assert_ptr_equal(pmdt, mmn_pt_walk(f->mm, g, MMN_LVL_PMD));
	obj = mmn_vma_lookup(child, g)->file;
	r = &f->r[f->nr_rec++];
	assert_int_equal(rec_init(r, f->sim, REC_OPS_START_END, 256), 0);
	assert_int_equal(rec_register(r, child), 0);
	assert_int_equal(rec_watch_lock(r, &obj->i_mmap_rwsem, "i_mmap"), 0);

	assert_int_equal(mmn_mremap(child, g, 2 * HP, 2 * HP, MF, to, &got), 0);

	s = rec_find(r, REC_START, 0);
	e = rec_find(r, REC_END, 0);
	assert_int_equal(s->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(s->start, g);
	assert_int_equal(s->end, g + GB);
	assert_int_equal(s->held, 0);
	assert_int_equal(e->held, 1);
	/* The child's share is gone; the parent keeps its table and pages. */
	assert_null(mmn_pt_walk(child, g + 4 * HP, MMN_LVL_PMD));
	assert_ptr_equal(mmn_pt_walk(f->mm, g, MMN_LVL_PMD), pmdt);
	assert_false(mapped(f, child, to));
	assert_int_equal(fa_stats(f, MMN_OP_MREMAP).pages_changed, 0);
	assert_int_equal(mmn_cpu_read(child, 1, to + HP, &v), 0);
	assert_int_equal(v, 2);
	assert_int_equal(fa_read(f, 0, g), 1);
	assert_int_equal(rec_unregister(r), 0);
	mmn_mm_put(child);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_latest_moves_hugetlb_under_clear_to_another_pmd_table),
		cmocka_unit_test(test_latest_moves_hugetlb_inside_one_pmd_table),
		cmocka_unit_test(test_6_5_invalidate_range_from_the_full_end),
		cmocka_unit_test_teardown(test_5_14_refuses_the_move_after_unmapping_the_target,
					  fa_teardown),
		cmocka_unit_test_teardown(test_latest_with_the_knob_off_refuses, fa_teardown),
		cmocka_unit_test(test_5_14_shrink_unmaps_the_tail),
		cmocka_unit_test(test_latest_shrink_rounds_up_to_the_huge_page),
		cmocka_unit_test_teardown(test_latest_unshares_a_shared_pmd_table_instead_of_moving,
					  fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
