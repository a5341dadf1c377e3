// SPDX-License-Identifier: MIT
/*
 * Accessed-bit aging from core mm (include/mmnsim/aging.h, lib/ops/aging.c):
 * folio_referenced_one() (6.19 mm/rmap.c: ptep_clear_flush_young_notify()),
 * reclaim keeping a referenced page (folio_check_references()),
 * page_idle_clear_pte_refs_one() (6.19 mm/page_idle.c: clear_young) and
 * DAMON's mkold / young (6.19 mm/damon/ops-common.c, vaddr.c: clear_young,
 * test_young): which hook, over which range, under the PTL, and a KVM
 * listener kept audit-clean.
 */
#include "family_b.h"

static void test_folio_referenced_calls_clear_flush_young_under_the_ptl(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r;
	const struct rec_event *e;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE + PG, 1);
	pfn = fb_pfn(f->mm, BASE + PG);
	assert_true(mmn_pte_young(fb_entry(f->mm, BASE + PG)));
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE + PG), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_folio_referenced(f->sim, pfn), 1);
	assert_int_equal(rec_count(&r), 1);
	e = rec_find(&r, REC_CLEAR_FLUSH_YOUNG, 0);
	assert_non_null(e);
	assert_int_equal(e->start, BASE + PG);
	assert_int_equal(e->end, BASE + 2 * PG);
	assert_int_equal(e->held, 1);
	assert_false(mmn_pte_young(fb_entry(f->mm, BASE + PG)));
	/* Old now, and the secondary MMU says old: not referenced. */
	assert_int_equal(mmn_folio_referenced(f->sim, pfn), 0);
	/* Old for the CPU, young for the secondary MMU: referenced. */
	r.young_ret = 1;
	assert_int_equal(mmn_folio_referenced(f->sim, pfn), 1);
	assert_int_equal(rec_count_kind(&r, REC_START), 0);
	assert_int_equal(fb_stats(f, MMN_OP_AGING).calls, 3);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

/* A page mapped in parent and child is aged in both mms. */
static void test_folio_referenced_walks_every_mapping(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r1, r2;
	struct mmn_mm *child;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(fb_read(child, 1, BASE), 1);
	assert_int_equal(rec_init(&r1, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&r2, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&r1, f->mm), 0);
	assert_int_equal(rec_register(&r2, child), 0);
	assert_int_equal(mmn_folio_referenced(f->sim, fb_pfn(f->mm, BASE)), 2);
	assert_int_equal(rec_count_kind(&r1, REC_CLEAR_FLUSH_YOUNG), 1);
	assert_int_equal(rec_count_kind(&r2, REC_CLEAR_FLUSH_YOUNG), 1);
	rec_unregister(&r1);
	rec_unregister(&r2);
	rec_fini(&r1);
	rec_fini(&r2);
	mmn_mm_put(child);
	fb_free(f, 0);
}

/* shrink_folio_list(): a referenced page stays mapped, unnotified; once
 * aged without a new access it is unmapped (CLEAR) and paged out.
 * mmn_try_to_unmap() (try_to_unmap() alone) never ages. */
static void test_shrink_range_keeps_referenced_pages(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	fb_write(f->mm, 0, BASE + PG, 2);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 32), 0);
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_shrink_range(f->mm, BASE, 2 * PG), 0);
	assert_int_equal(rec_count_kind(&r, REC_CLEAR_FLUSH_YOUNG), 2);
	assert_int_equal(rec_count_kind(&r, REC_START), 0);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	assert_int_equal(fb_stats(f, MMN_OP_RECLAIM).pages_changed, 0);
	rec_reset(&r);
	assert_int_equal(mmn_shrink_range(f->mm, BASE, 2 * PG), 0);
	assert_int_equal(rec_count_kind(&r, REC_START), 2);
	assert_int_equal(rec_find(&r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	/* The young hook came before the unmap's start. */
	assert_true(rec_find(&r, REC_CLEAR_FLUSH_YOUNG, 0)->stamp <
		    rec_find(&r, REC_START, 0)->stamp);
	assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE)), MMN_SWP_SWAP);
	assert_int_equal(fb_stats(f, MMN_OP_RECLAIM).pages_changed, 2);
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 2);
	rec_reset(&r);
	fb_write(f->mm, 1, BASE + PG, 3);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE + PG, PG), 0);
	assert_int_equal(rec_count_kind(&r, REC_CLEAR_FLUSH_YOUNG), 0);
	assert_int_equal(rec_count_kind(&r, REC_START), 1);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

/* page_idle: clear_young (no flush) under the PTL; an access through a CPU
 * whose TLB still holds the entry is missed (x86 does not flush), one that
 * walks the table sets the young bit and makes the page not idle. */
static void test_page_idle_uses_clear_young(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_page_idle_set(f->sim, pfn), 0);
	assert_int_equal(rec_count(&r), 1);
	assert_int_equal(rec_at(&r, 0)->kind, REC_CLEAR_YOUNG);
	assert_int_equal(rec_at(&r, 0)->held, 1);
	assert_int_equal(rec_at(&r, 0)->start, BASE);
	assert_true(fb_page(f, pfn).flags & MMN_PG_YOUNG); /* was young: for reclaim */
	assert_int_equal(mmn_page_idle_get(f->sim, pfn), 1);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1); /* CPU 0: a TLB hit */
	assert_int_equal(mmn_page_idle_get(f->sim, pfn), 1);
	assert_int_equal(fb_read(f->mm, 1, BASE), 1); /* CPU 1: a walk */
	assert_int_equal(mmn_page_idle_get(f->sim, pfn), 0);
	/* A secondary MMU's access counts too. */
	assert_int_equal(mmn_page_idle_set(f->sim, pfn), 0);
	r.young_ret = 1;
	assert_int_equal(mmn_page_idle_get(f->sim, pfn), 0);
	assert_int_equal(rec_count_kind(&r, REC_CLEAR_FLUSH_YOUNG), 0);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

static void test_damon_mkold_and_young(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r;
	bool young;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_damon_mkold(f->mm, BASE), 0);
	assert_int_equal(rec_count(&r), 1);
	assert_int_equal(rec_at(&r, 0)->kind, REC_CLEAR_YOUNG);
	assert_int_equal(rec_at(&r, 0)->held, 1);
	assert_false(mmn_pte_young(fb_entry(f->mm, BASE)));
	assert_int_equal(mmn_damon_young(f->mm, BASE, &young), 0);
	assert_false(young);
	assert_int_equal(rec_count_kind(&r, REC_TEST_YOUNG), 1);
	assert_int_equal(rec_find(&r, REC_TEST_YOUNG, 0)->held, 1);
	assert_int_equal(rec_find(&r, REC_TEST_YOUNG, 0)->start, BASE);
	r.young_ret = 1; /* the secondary MMU accessed it */
	assert_int_equal(mmn_damon_young(f->mm, BASE, &young), 0);
	assert_true(young);
	/* Nothing mapped: not young, no hook. */
	rec_reset(&r);
	assert_int_equal(mmn_damon_young(f->mm, BASE + 8 * PG, &young), 0);
	assert_false(young);
	assert_int_equal(rec_count(&r), 0);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

/* KVM's young hooks are reached; aging never breaks its translations. */
static void test_aging_with_kvm_stays_audit_clean(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_kvm_config kc;
	struct mmn_kvm_stats st;
	struct mmn_kvm_spte_info si;
	struct mmn_kvm *kvm;
	unsigned long pfn;
	uint64_t v;
	bool young;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	mmn_kvm_config_init(&kc);
	kvm = mmn_kvm_create(f->mm, &kc);
	assert_non_null(kvm);
	assert_int_equal(mmn_kvm_set_memslot(kvm, 0, 0x100, 2, BASE), 0);
	assert_int_equal(mmn_kvm_vcpu_write(kvm, 0, 0x100, 5), 0);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_folio_referenced(f->sim, pfn), 1);
	assert_int_equal(mmn_kvm_spte(kvm, 0x100, &si), 0);
	assert_true(si.present && !si.accessed);
	assert_int_equal(mmn_folio_referenced(f->sim, pfn), 0);
	assert_int_equal(mmn_kvm_vcpu_read(kvm, 0, 0x100, &v), 0); /* sets the SPTE's bit */
	assert_int_equal(mmn_damon_young(f->mm, BASE, &young), 0);
	assert_true(young);
	assert_int_equal(mmn_page_idle_set(f->sim, pfn), 0);
	assert_int_equal(mmn_page_idle_get(f->sim, pfn), 1);
	assert_int_equal(mmn_kvm_get_stats(kvm, &st), 0);
	assert_true(st.young_hits >= 2);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(mmn_kvm_vcpu_read(kvm, 1, 0x100, &v), 0);
	assert_int_equal(v, 5);
	mmn_kvm_destroy(kvm);
	fb_free(f, 0);
}

static void test_aging_bad_input(void **state)
{
	struct fb *f = fb_new("latest");
	bool young;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	assert_int_equal(fb_read(f->mm, 0, BASE), 0); /* the zero page */
	assert_int_equal(mmn_folio_referenced(NULL, 1), -EINVAL);
	assert_int_equal(mmn_folio_referenced(f->sim, MMN_ZERO_PFN), -EINVAL);
	assert_int_equal(mmn_folio_referenced(f->sim, 1UL << 40), -EINVAL);
	assert_int_equal(mmn_folio_referenced(f->sim, 1000), -EINVAL); /* free */
	assert_int_equal(mmn_page_idle_set(f->sim, 1000), -EINVAL);
	assert_int_equal(mmn_page_idle_get(NULL, 1), -EINVAL);
	assert_int_equal(mmn_damon_mkold(NULL, BASE), -EINVAL);
	assert_int_equal(mmn_damon_young(f->mm, BASE, NULL), -EINVAL);
	assert_int_equal(mmn_damon_young(f->mm, MMN_TASK_SIZE, &young), -EINVAL);
	assert_int_equal(mmn_shrink_range(NULL, BASE, PG), -EINVAL);
	fb_free(f, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_folio_referenced_calls_clear_flush_young_under_the_ptl),
		cmocka_unit_test(test_folio_referenced_walks_every_mapping),
		cmocka_unit_test(test_shrink_range_keeps_referenced_pages),
		cmocka_unit_test(test_page_idle_uses_clear_young),
		cmocka_unit_test(test_damon_mkold_and_young),
		cmocka_unit_test(test_aging_with_kvm_stays_audit_clean),
		cmocka_unit_test(test_aging_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
