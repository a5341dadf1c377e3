// SPDX-License-Identifier: MIT
/*
 * mmn_ksm_merge() (lib/ops/ksm.c) and the lost-write oracle it relies on
 * (MMN_PG_STABLE, lib/mm/page.c and tlb.c).
 */
#include "family_b.h"

#define A BASE
#define B (BASE + 0x200000)

static void setup_pair(struct fb *f, struct mmn_mm **mm_b, uint64_t va, uint64_t vb)
{
	fb_map(f, A, PG, ANON);
	*mm_b = mmn_mm_create(f->sim);
	assert_non_null(*mm_b);
	assert_int_equal(mmn_mmap(*mm_b, B, PG, RW, ANON | FIXED, NULL), 0);
	fb_write(f->mm, 0, A, va);
	fb_write(*mm_b, 1, B, vb);
}

static void test_ksm_merges_equal_pages_and_cow_breaks_them(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *mb;
	unsigned long pa, pb;

	(void)state;
	setup_pair(f, &mb, 77, 77);
	pa = fb_pfn(f->mm, A);
	pb = fb_pfn(mb, B);
	assert_int_equal(mmn_ksm_merge(f->mm, A, mb, B), 0);
	assert_int_equal(fb_pfn(mb, B), pa);
	assert_false(mmn_pte_write(fb_entry(f->mm, A)));
	assert_false(mmn_pte_write(fb_entry(mb, B)));
	assert_true(fb_page(f, pa).flags & MMN_PG_KSM);
	assert_int_equal(fb_page(f, pa).mapcount, 2);
	assert_true(fb_page(f, pb).flags & MMN_PG_FREE);
	assert_int_equal(mmn_audit(f->sim), 0);
	/* A write breaks the merge with a copy, on either side. */
	fb_write(mb, 1, B, 78);
	assert_int_equal(fb_read(f->mm, 0, A), 77);
	assert_int_not_equal(fb_pfn(mb, B), pa);
	/* Even the last mapping of a KSM page copies: KSM pages are never reused. */
	fb_write(f->mm, 0, A, 79);
	assert_int_not_equal(fb_pfn(f->mm, A), pa);
	assert_int_equal(fb_read(mb, 1, B), 78);
	assert_int_equal(fb_stats(f, MMN_OP_KSM).calls, 1);
	assert_int_equal(fb_stats(f, MMN_OP_KSM).ranges, 3);
	mmn_mm_put(mb);
	fb_free(f, 0);
}

/* Latest: wp(A) S E, wp(B) S E, replace S E; F2 inside each F1 under the PTL. */
static void test_ksm_sequence_latest(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *mb;
	struct recorder r, s;
	enum rec_kind k[] = { REC_START, REC_END, REC_START, REC_END };

	(void)state;
	setup_pair(f, &mb, 5, 5);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&s, f->sim, REC_OPS_SECONDARY_TLB, 16), 0);
	rec_watch_lock(&r, fb_ptl(mb, B), "ptl");
	rec_watch_lock(&s, fb_ptl(mb, B), "ptl");
	assert_int_equal(rec_register(&r, mb), 0);
	assert_int_equal(rec_register(&s, mb), 0);
	assert_int_equal(mmn_ksm_merge(f->mm, A, mb, B), 0);
	assert_true(rec_kinds_are(&r, k, 4));
	for (size_t i = 0; i < 4; i++) {
		assert_int_equal(rec_at(&r, i)->event, MMN_NOTIFY_CLEAR);
		assert_int_equal(rec_at(&r, i)->start, B);
		assert_int_equal(rec_at(&r, i)->end, B + PG);
		assert_int_equal(rec_at(&r, i)->held, 0);
	}
	assert_int_equal(rec_count_kind(&s, REC_ARCH_INVALIDATE), 2);
	assert_int_equal(rec_find(&s, REC_ARCH_INVALIDATE, 0)->held, 1);
	assert_int_equal(rec_find(&s, REC_ARCH_INVALIDATE, 1)->held, 1);
	assert_true(rec_find(&s, REC_ARCH_INVALIDATE, 1)->stamp > rec_at(&r, 2)->stamp);
	assert_true(rec_find(&s, REC_ARCH_INVALIDATE, 1)->stamp < rec_at(&r, 3)->stamp);
	rec_unregister(&r);
	rec_unregister(&s);
	rec_fini(&r);
	rec_fini(&s);
	mmn_mm_put(mb);
	fb_free(f, 0);
}

/*
 * Records mm_b's side of one merge under @profile (with @knob = @value when
 * @knob is set) and checks the kinds; returns the recorder for more checks.
 */
static void ksm_sequence(const char *profile, const char *knob, const char *value,
			 const enum rec_kind *k, size_t n,
			 void (*more)(struct fb *f, struct recorder *r))
{
	struct fb *f = fb_new(profile);
	struct mmn_mm *mb;
	struct recorder r;

	if (knob)
		assert_int_equal(mmn_sim_set_knob(f->sim, knob, value), 0);
	setup_pair(f, &mb, 5, 5);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_LEGACY, 32), 0);
	rec_watch_lock(&r, fb_ptl(mb, B), "ptl");
	assert_int_equal(rec_register(&r, mb), 0);
	assert_int_equal(mmn_ksm_merge(f->mm, A, mb, B), 0);
	assert_true(rec_kinds_are(&r, k, n));
	/* Both change_pte calls under the PTL: write_protect_page()'s with
	 * B's page read-only, replace_page()'s with the KSM page. */
	assert_int_equal(rec_count_kind(&r, REC_CHANGE_PTE), 2);
	assert_int_equal(rec_find(&r, REC_CHANGE_PTE, 0)->held, 1);
	assert_false(mmn_pte_write(rec_find(&r, REC_CHANGE_PTE, 0)->pte));
	assert_int_not_equal(mmn_pte_pfn(rec_find(&r, REC_CHANGE_PTE, 0)->pte),
			     fb_pfn(f->mm, A));
	assert_int_equal(rec_find(&r, REC_CHANGE_PTE, 1)->held, 1);
	assert_int_equal(mmn_pte_pfn(rec_find(&r, REC_CHANGE_PTE, 1)->pte), fb_pfn(f->mm, A));
	assert_false(mmn_pte_write(rec_find(&r, REC_CHANGE_PTE, 1)->pte));
	if (more)
		more(f, &r);
	rec_unregister(&r);
	rec_fini(&r);
	mmn_mm_put(mb);
	fb_free(f, 0);
}

/* The two ->invalidate_range calls of end run with the PTL dropped. */
static void ends_unlocked(struct fb *f, struct recorder *r)
{
	(void)f;
	for (unsigned int i = 0; i < (unsigned int)rec_count_kind(r, REC_INVALIDATE_RANGE); i++)
		assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, i)->held, 0);
}

/* The call-site ->invalidate_range (1st of each pair) runs under the PTL. */
static void call_sites_locked(struct fb *f, struct recorder *r)
{
	(void)f;
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 0)->held, 1);
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 1)->held, 0);
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 2)->held, 1);
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 3)->held, 0);
}

/*
 * 6.5 (mm/ksm.c 4.15-6.5, commit 0f10851ea475): write_protect_page() and
 * replace_page() clear with plain ptep_clear_flush(), the only secondary
 * flush is invalidate_range_end()'s after the PTL drop; write_protect_page()
 * installs the read-only entry with set_pte_at_notify() (change_pte).
 */
static void test_ksm_sequence_6_5_flushes_secondary_only_at_end(void **state)
{
	static const enum rec_kind k[] = { REC_START, REC_CHANGE_PTE, REC_INVALIDATE_RANGE,
					   REC_END, REC_START, REC_CHANGE_PTE,
					   REC_INVALIDATE_RANGE, REC_END };

	(void)state;
	ksm_sequence("6.5", NULL, NULL, k, 8, ends_unlocked);
}

/*
 * 4.13 (mm/ksm.c 4.12-4.14): ptep_clear_flush_notify(), ->invalidate_range
 * under the PTL at each call site, and again from end. The same shape under
 * 6.5 with ksm_secflush_at_end=false: the knob decides.
 */
static void test_ksm_sequence_4_13_flushes_secondary_under_the_ptl(void **state)
{
	static const enum rec_kind k[] = { REC_START, REC_INVALIDATE_RANGE, REC_CHANGE_PTE,
					   REC_INVALIDATE_RANGE, REC_END, REC_START,
					   REC_INVALIDATE_RANGE, REC_CHANGE_PTE,
					   REC_INVALIDATE_RANGE, REC_END };

	(void)state;
	ksm_sequence("4.13", NULL, NULL, k, 10, call_sites_locked);
	ksm_sequence("6.5", "ksm_secflush_at_end", "false", k, 10, call_sites_locked);
}

static void test_ksm_refuses_different_pinned_and_bad_pages(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *mb;
	mmn_pte_t ea, eb;
	unsigned long pin;

	(void)state;
	setup_pair(f, &mb, 1, 2);
	ea = fb_entry(f->mm, A);
	eb = fb_entry(mb, B);
	assert_int_equal(mmn_ksm_merge(f->mm, A, mb, B), -EAGAIN);
	assert_int_equal(fb_entry(f->mm, A), ea);
	assert_int_equal(fb_entry(mb, B), eb);
	assert_int_equal(mmn_ksm_merge(NULL, A, mb, B), -EINVAL);
	assert_int_equal(mmn_ksm_merge(f->mm, A + 1, mb, B), -EINVAL);
	assert_int_equal(mmn_ksm_merge(f->mm, A, f->mm, A), -EINVAL);
	assert_int_equal(mmn_ksm_merge(f->mm, A + PG, mb, B), -EINVAL); /* unmapped */
	fb_map(f, A + 0x400000, PG, SHARED);
	fb_write(f->mm, 0, A + 0x400000, 2);
	assert_int_equal(mmn_ksm_merge(f->mm, A + 0x400000, mb, B), -EINVAL);
	/* Pinned: -EBUSY, nothing changed. */
	fb_write(f->mm, 0, A, 2);
	ea = fb_entry(f->mm, A);
	assert_int_equal(mmn_get_user_pages(mb, B, 0, &pin, NULL), 0);
	eb = fb_entry(mb, B);
	assert_int_equal(mmn_ksm_merge(f->mm, A, mb, B), -EBUSY);
	assert_int_equal(fb_entry(f->mm, A), ea);
	assert_int_equal(fb_entry(mb, B), eb);
	assert_int_equal(mmn_unpin_user_page(f->sim, pin), 0);
	assert_int_equal(fb_stats(f, MMN_OP_KSM).calls, 0);
	assert_int_equal(fb_stats(f, MMN_OP_KSM).ranges, 0);
	mmn_mm_put(mb);
	fb_free(f, 0);
}

/* Write-protect (or make writable again) the entry of @addr in the page
 * table only, as a stabiliser does before its TLB flush. */
static void set_entry_write(struct mmn_mm *mm, unsigned long addr, bool write)
{
	struct mmn_ptdesc *pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	mmn_pte_t e = fb_entry(mm, addr);

	assert_non_null(pt);
	mmn_pte_set(mmn_mm_sim(mm), pt, idx, addr, write ? e | MMN_PTE_WRITE : e & ~MMN_PTE_WRITE);
}

/*
 * The oracle fires on a store into a page held stable through a translation
 * that went stale (a CPU TLB entry whose flush is still owed, a device's
 * cached translation), and stays silent on a store through a mapping that is
 * writable now (a racing reuse makes a COW drop its copy: nothing is lost).
 */
static void test_lost_write_reported_for_a_store_into_a_stable_page(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_tlb_entry_info ti;
	unsigned long pfn;
	uint64_t v = 3;

	(void)state;
	fb_map(f, A, PG, ANON);
	fb_write(f->mm, 0, A, 1); /* CPU 0 caches a writable, dirty entry */
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, A, &ti), 1);
	assert_true(ti.write);
	pfn = fb_pfn(f->mm, A);
	set_entry_write(f->mm, A, false); /* write-protected, the flush owed */
	mmn_page_mark_stable(f->sim, pfn);
	fb_write(f->mm, 0, A, 2);                      /* stale TLB store hit */
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 1);
	assert_int_equal(f->cap.last.pfn, pfn);
	mmn_phys_access(f->sim, pfn, fb_page(f, pfn).gen, A, true, &v); /* device write */
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 2);
	/* The entry writable again (the stabiliser will give up): a store
	 * through the TLB or through a fresh walk is not lost. */
	set_entry_write(f->mm, A, true);
	fb_write(f->mm, 0, A, 4);                      /* TLB hit, entry current */
	mmn_flush_tlb_mm(f->mm);
	fb_write(f->mm, 1, A, 5);                      /* walk + fill */
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 2);
	mmn_page_clear_stable(f->sim, pfn);
	fb_write(f->mm, 0, A, 6);
	assert_int_equal(fb_read(f->mm, 0, A), 6);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 2);
	fb_free(f, 2);
}

struct racer {
	struct mmn_mm *mm;
	unsigned long addr;
	int err;
};

static void *racer_write(void *arg)
{
	struct racer *r = arg;

	r->err = mmn_cpu_write(r->mm, 1, r->addr, 1234);
	return NULL;
}

/* After B's write-protect (its END), a CPU of mm_b writes B: it faults on
 * the read-only entry and copies; nothing is lost and the merge backs off. */
static void hook_write_after_wp(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct racer *rc = arg;
	struct mmn_actor *a;

	if (e->kind != REC_END || rec_count_kind(r, REC_END) != 1)
		return;
	assert_int_equal(mmn_actor_spawn(r->sim, "writer", racer_write, rc, &a), 0);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
}

static void test_ksm_concurrent_write_faults_and_is_not_lost(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *mb;
	struct recorder r;
	struct racer rc;
	unsigned long pa;

	(void)state;
	setup_pair(f, &mb, 9, 9);
	/* CPU 1 caches a writable entry of B before the merge. */
	fb_write(mb, 1, B, 9);
	pa = fb_pfn(f->mm, A);
	rc = (struct racer){ .mm = mb, .addr = B };
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 32), 0);
	r.hook = hook_write_after_wp;
	r.hook_arg = &rc;
	assert_int_equal(rec_register(&r, mb), 0);
	assert_int_equal(mmn_ksm_merge(f->mm, A, mb, B), -EAGAIN);
	assert_int_equal(rc.err, 0);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 0);
	assert_int_equal(fb_read(mb, 0, B), 1234);
	assert_int_not_equal(fb_pfn(mb, B), pa);
	rec_unregister(&r);
	rec_fini(&r);
	mmn_mm_put(mb);
	fb_free(f, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ksm_merges_equal_pages_and_cow_breaks_them),
		cmocka_unit_test(test_ksm_sequence_latest),
		cmocka_unit_test(test_ksm_sequence_6_5_flushes_secondary_only_at_end),
		cmocka_unit_test(test_ksm_sequence_4_13_flushes_secondary_under_the_ptl),
		cmocka_unit_test(test_ksm_refuses_different_pinned_and_bad_pages),
		cmocka_unit_test(test_lost_write_reported_for_a_store_into_a_stable_page),
		cmocka_unit_test(test_ksm_concurrent_write_faults_and_is_not_lost),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
