// SPDX-License-Identifier: MIT
/*
 * mmn_try_to_unmap() (lib/ops/reclaim.c): the try_to_unmap_one() sequence
 * per profile, swap-out and swap-in of anonymous and shmem pages, reclaim
 * through the rmap of a forked page, errors, and seed 000 at unit scale.
 */
#include "family_b.h"

static void test_reclaim_swaps_anon_out_and_faults_it_back(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_stats before, after;
	unsigned long pfn;
	uint32_t gen;

	(void)state;
	fb_map(f, BASE, 4 * PG, ANON);
	for (int i = 0; i < 4; i++)
		fb_write(f->mm, 0, BASE + i * PG, 50 + i);
	pfn = fb_pfn(f->mm, BASE);
	gen = fb_page(f, pfn).gen;
	mmn_sim_get_stats(f->sim, &before);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, 4 * PG), 0);
	mmn_sim_get_stats(f->sim, &after);
	assert_int_equal(after.frames_free, before.frames_free + 4);
	assert_true(fb_page(f, pfn).flags & MMN_PG_FREE);
	assert_int_not_equal(fb_page(f, pfn).gen, gen);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE + i * PG)), MMN_SWP_SWAP);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(fb_stats(f, MMN_OP_RECLAIM).calls, 1);
	assert_int_equal(fb_stats(f, MMN_OP_RECLAIM).pages_changed, 4);
	assert_int_equal(fb_stats(f, MMN_OP_RECLAIM).ranges, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fb_read(f->mm, 1, BASE + i * PG), 50 + i);
	fb_write(f->mm, 1, BASE, 99);
	assert_int_equal(fb_read(f->mm, 0, BASE), 99);
	fb_free(f, 0);
}

static void test_reclaim_drops_shmem_from_the_page_cache(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *other;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, 2 * PG, SHARED);
	fb_write(f->mm, 0, BASE + PG, 5);
	pfn = fb_pfn(f->mm, BASE + PG);
	assert_int_equal(mmn_fork(f->mm, &other), 0); /* a second mapping */
	assert_int_equal(fb_read(other, 1, BASE + PG), 5);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, 2 * PG), 0);
	/* Unmapped in both mms (rmap through i_mmap), out of the cache, freed. */
	assert_int_equal(fb_entry(f->mm, BASE + PG), 0);
	assert_int_equal(fb_entry(other, BASE + PG), 0);
	assert_true(fb_page(f, pfn).flags & MMN_PG_FREE);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(fb_read(other, 1, BASE + PG), 5);
	fb_write(f->mm, 0, BASE + PG, 6);
	assert_int_equal(fb_read(other, 1, BASE + PG), 6);
	mmn_mm_put(other);
	fb_free(f, 0);
}

static void test_reclaim_unmaps_a_cow_page_in_parent_and_child(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	struct recorder rc;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 31);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(rec_init(&rc, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&rc, child), 0);
	/* Reclaim through the parent: the child's mapping goes too, notified
	 * in the child's mm. */
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	assert_int_equal(rec_count_kind(&rc, REC_START), 1);
	assert_int_equal(rec_find(&rc, REC_START, 0)->start, BASE);
	assert_int_equal(mmn_pte_swp_type(fb_entry(child, BASE)), MMN_SWP_SWAP);
	assert_true(fb_page(f, pfn).flags & MMN_PG_FREE);
	assert_int_equal(mmn_audit(f->sim), 0);
	fb_write(child, 1, BASE, 32);
	assert_int_equal(fb_read(f->mm, 0, BASE), 31);
	assert_int_equal(fb_read(child, 1, BASE), 32);
	rec_unregister(&rc);
	rec_fini(&rc);
	mmn_mm_put(child);
	fb_free(f, 0);
}

struct free_probe {
	struct fb *f;
	unsigned long pfn;
	int seen_free_at_end;
	int ends;
};

static void end_checks_frame(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct free_probe *p = arg;
	struct mmn_page_info pi;

	(void)r;
	if (e->kind != REC_END)
		return;
	p->ends++;
	mmn_page_info(p->f->sim, p->pfn, &pi);
	if (pi.flags & MMN_PG_FREE)
		p->seen_free_at_end++;
}

/* 6.6+: S → [PTL: clear, F1 with F2 inside] → E → free. */
static void test_reclaim_sequence_latest(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r, s;
	struct free_probe p = { .f = f };
	const struct rec_event *st, *a, *en;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	p.pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&s, f->sim, REC_OPS_SECONDARY_TLB, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	rec_watch_lock(&s, fb_ptl(f->mm, BASE), "ptl");
	r.hook = end_checks_frame;
	r.hook_arg = &p;
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(rec_register(&s, f->mm), 0);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	st = rec_find(&r, REC_START, 0);
	en = rec_find(&r, REC_END, 0);
	a = rec_find(&s, REC_ARCH_INVALIDATE, 0);
	assert_non_null(st);
	assert_non_null(en);
	assert_non_null(a);
	assert_int_equal(rec_count(&r), 2);
	assert_int_equal(rec_count(&s), 1);
	assert_int_equal(st->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(st->start, BASE);
	assert_int_equal(st->end, BASE + PG);
	assert_int_equal(st->held, 0);
	assert_int_equal(en->held, 0);
	assert_int_equal(a->held, 1); /* F2 inside F1, under the PTL */
	assert_true(st->stamp < a->stamp && a->stamp < en->stamp);
	assert_int_equal(p.ends, 1);
	assert_int_equal(p.seen_free_at_end, 0); /* freed after E */
	assert_true(fb_page(f, p.pfn).flags & MMN_PG_FREE);
	rec_unregister(&r);
	rec_unregister(&s);
	rec_fini(&r);
	rec_fini(&s);
	fb_free(f, 0);
}

/* 4.13-6.5: ->invalidate_range under the PTL (ptep_clear_flush_notify), again from end. */
static void test_reclaim_sequence_6_5(void **state)
{
	struct fb *f = fb_new("6.5");
	struct recorder r;
	enum rec_kind k[] = { REC_START, REC_INVALIDATE_RANGE, REC_INVALIDATE_RANGE, REC_END };

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_LEGACY, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	assert_true(rec_kinds_are(&r, k, 4));
	assert_int_equal(rec_at(&r, 0)->held, 0);
	assert_int_equal(rec_at(&r, 1)->held, 1);
	assert_int_equal(rec_at(&r, 2)->held, 0);
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_CLEAR);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

/*
 * 4.12 mm/rmap.c try_to_unmap_one(): no start/end, no ->invalidate_range
 * (plain ptep_clear_flush()), ->invalidate_page with the PTL held; <= 4.11
 * (knob invalidate_page_under_ptl false) after the PTL is dropped.
 */
static void reclaim_sequence_4_12(const char *under_ptl, unsigned held)
{
	struct fb *f = fb_new("4.12");
	struct recorder r;
	enum rec_kind k[] = { REC_INVALIDATE_PAGE };

	if (under_ptl)
		assert_int_equal(mmn_sim_set_knob(f->sim, "invalidate_page_under_ptl", under_ptl),
				 0);
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_LEGACY, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	assert_true(rec_kinds_are(&r, k, 1));
	assert_int_equal(rec_at(&r, 0)->held, held);
	assert_int_equal(rec_at(&r, 0)->start, BASE);
	rec_unregister(&r);
	rec_fini(&r);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1);
	fb_free(f, 0);
}

static void test_reclaim_sequence_4_12(void **state)
{
	(void)state;
	reclaim_sequence_4_12(NULL, 1);
	reclaim_sequence_4_12("false", 0); /* the <= 4.11 shape */
}

static void test_reclaim_rejects_bad_ranges_and_changes_nothing(void **state)
{
	struct fb *f = fb_new("latest");
	mmn_pte_t e;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	e = fb_entry(f->mm, BASE);
	assert_int_equal(mmn_try_to_unmap(NULL, BASE, PG), -EINVAL);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE + 1, PG), -EINVAL);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, 0), -EINVAL);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, ~0UL - PG), -EINVAL);
	/* Partly unmapped: -ENOMEM before anything is done. */
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, 3 * PG), -ENOMEM);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE - PG, 2 * PG), -ENOMEM);
	assert_int_equal(fb_entry(f->mm, BASE), e);
	assert_int_equal(fb_stats(f, MMN_OP_RECLAIM).calls, 0);
	assert_int_equal(fb_stats(f, MMN_OP_RECLAIM).ranges, 0);
	fb_free(f, 0);
}

static void test_reclaim_leaves_pinned_pages_mapped(void **state)
{
	struct fb *f = fb_new("latest");
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	assert_int_equal(mmn_get_user_pages(f->mm, BASE, MMN_FOLL_WRITE, &pfn, NULL), 0);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	assert_int_equal(fb_pfn(f->mm, BASE), pfn);
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	fb_free(f, 0);
}

/* ---- seed 000: the free must wait for the secondary flush ---- */

struct seed000 {
	struct fb *f;
	struct iommu *io;
	struct mmn_spinlock *ptl;
	unsigned long va;
	unsigned long stolen;   /* the frame allocated in the window */
	bool fired, dma_ok;
	uint64_t dma_val;
};

/*
 * After the PTL of the reclaimed entry is dropped and before E: someone
 * allocates a frame (LIFO: the one just freed, if it was) and fills it,
 * then the device DMAs through its IOTLB.
 */
static void seed000_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct seed000 *s = arg;
	uint64_t v = 0x5ec7e7;

	if (s->fired || ev->kind != MMN_SCHED_UNLOCK || ev->obj != s->ptl ||
	    mmn_pte_present(fb_entry(s->f->mm, s->va)))
		return;
	s->fired = true;
	s->stolen = mmn_alloc_page(sim, MMN_PG_ANON);
	assert_int_not_equal(s->stolen, 0);
	mmn_phys_access(sim, s->stolen, mmn_page_gen(sim, s->stolen), 0, true, &v);
	s->dma_ok = iommu_dma_read(s->io, s->va, &s->dma_val);
}

static unsigned long run_seed000_k(const char *profile, const char *flush, bool put_early,
				   const char *under_ptl, unsigned long *protocol)
{
	struct fb *f = fb_new(profile);
	struct iommu io;
	struct seed000 s = { .f = f, .io = &io, .va = BASE };
	uint64_t v;
	unsigned long uaf;

	if (flush)
		assert_int_equal(mmn_sim_set_knob(f->sim, "secondary_flush", flush), 0);
	if (under_ptl)
		assert_int_equal(mmn_sim_set_knob(f->sim, "invalidate_page_under_ptl", under_ptl), 0);
	assert_int_equal(mmn_sim_set_knob(f->sim, "put_page_before_secondary_flush",
					  put_early ? "true" : "false"), 0);
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 0xda7a);
	iommu_register(&io, f->mm);
	assert_true(iommu_dma_read(&io, BASE, &v)); /* fills the IOTLB */
	assert_int_equal(v, 0xda7a);
	s.ptl = fb_ptl(f->mm, BASE);
	mmn_sched_set_hook(f->sim, seed000_hook, &s);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_true(s.fired);
	uaf = mmn_check_count(f->sim, MMN_VIOL_USE_AFTER_FREE);
	if (uaf)
		assert_int_equal(s.dma_val, 0x5ec7e7); /* it read the new owner's data */
	assert_int_equal(mmn_put_page(f->sim, s.stolen), 0);
	assert_int_equal(mmn_notifier_unregister(&io.mn, f->mm), 0);
	assert_int_equal(fb_read(f->mm, 0, BASE), 0xda7a);
	/* The free itself, before the flush it owed, is the protocol
	 * violation behind the use-after-free. */
	*protocol = mmn_check_count(f->sim, MMN_VIOL_PROTOCOL);
	fb_free(f, uaf + *protocol);
	return uaf;
}

static unsigned long run_seed000(const char *profile, const char *flush, bool put_early)
{
	unsigned long protocol, uaf = run_seed000_k(profile, flush, put_early, NULL, &protocol);

	assert_int_equal(protocol, uaf); /* the two come together */
	return uaf;
}

static void test_seed000_free_before_range_end_flush_is_a_use_after_free(void **state)
{
	(void)state;
	assert_int_equal(run_seed000("latest", "range_end", true), 1);
}

static void test_seed000_invalidate_page_after_ptl_is_a_use_after_free(void **state)
{
	unsigned long protocol;

	(void)state;
	/* <= 4.11: ->invalidate_page after the unlock, where the frame is
	 * re-used: the device reads the new owner's data. */
	assert_int_equal(run_seed000_k("4.12", NULL, true, "false", &protocol), 1);
	assert_int_equal(protocol, 1);
	/* 4.12 try_to_unmap_one(): ->invalidate_page before the unlock; the
	 * early free is still a protocol violation, but no re-use at the
	 * unlock reaches a stale translation. */
	assert_int_equal(run_seed000_k("4.12", NULL, true, NULL, &protocol), 0);
	assert_int_equal(protocol, 1);
	/* Without the early put, 4.12 is safe. */
	assert_int_equal(run_seed000("4.12", NULL, false), 0);
}

static void test_seed000_flush_with_cpu_flush_is_safe(void **state)
{
	(void)state;
	assert_int_equal(run_seed000("latest", NULL, true), 0);
	assert_int_equal(run_seed000("6.5", NULL, true), 0);
}

static void test_seed000_free_after_end_is_safe_even_with_range_end(void **state)
{
	(void)state;
	assert_int_equal(run_seed000("latest", "range_end", false), 0);
}


/* ---- TTU_BATCH_FLUSH (knob reclaim_batch_flush) ---- */

struct flush_probe {
	struct recorder *r;
	const char *name[8];
	size_t seen[8]; /* notifier events recorded before the flush */
	unsigned int n;
};

static void flush_probe_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct flush_probe *fp = arg;

	(void)sim;
	if (ev->kind != MMN_SCHED_TLB_FLUSH || fp->n == 8)
		return;
	fp->name[fp->n] = ev->name;
	fp->seen[fp->n++] = rec_count(fp->r);
}

/*
 * One reclaimed page of an mm cached on CPU 0, in @profile on @arch. Batched
 * (4.3+ shrink_folio_list(), every profile; 6.19/6.6.9/6.5/5.14/4.15 read):
 * no CPU flush under the PTL; try_to_unmap_flush() (arch_tlbbatch_flush)
 * after E. Checks where the CPU flush came and that the one secondary flush
 * of kind @k covered [@want_start, @want_end) under the PTL, before E.
 */
static void reclaim_batch(const char *profile, const char *arch, bool batch, enum rec_kind k,
			  unsigned long want_start, unsigned long want_end)
{
	struct fb *f = fb_new(profile);
	struct recorder r, s;
	struct flush_probe fp = { .r = &r };
	const struct rec_event *a;

	if (arch)
		assert_int_equal(mmn_sim_set_knob(f->sim, "arch", arch), 0);
	if (!batch)
		assert_int_equal(mmn_sim_set_knob(f->sim, "reclaim_batch_flush", "false"), 0);
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 32), 0);
	assert_int_equal(rec_init(&s, f->sim,
				  k == REC_ARCH_INVALIDATE ? REC_OPS_SECONDARY_TLB : REC_OPS_LEGACY, 32),
			 0);
	rec_watch_lock(&s, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(rec_register(&s, f->mm), 0);
	mmn_sched_set_hook(f->sim, flush_probe_hook, &fp);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(fp.n, 1);
	assert_int_equal(rec_count(&r), 2); /* start, end */
	if (batch) {
		assert_string_equal(fp.name[0], "arch_tlbbatch_flush");
		assert_int_equal(fp.seen[0], 2); /* after E */
	} else {
		assert_string_equal(fp.name[0], "flush_tlb_page");
		assert_int_equal(fp.seen[0], 1); /* under the PTL, before E */
	}
	a = rec_find(&s, k, 0);
	assert_non_null(a);
	assert_int_equal(a->start, want_start);
	assert_int_equal(a->end, want_end);
	assert_int_equal(a->held, 1); /* under the PTL */
	assert_true(a->stamp < rec_find(&r, REC_END, 0)->stamp);
	rec_unregister(&r);
	rec_unregister(&s);
	rec_fini(&r);
	rec_fini(&s);
	fb_free(f, 0);
}

/* 6.6+ x86 arch_tlbbatch_add_pending(): F2 for the whole mm at add time. */
static void test_reclaim_batch_x86_flushes_the_whole_mm_at_add(void **state)
{
	(void)state;
	reclaim_batch("latest", NULL, true, REC_ARCH_INVALIDATE, 0, ~0UL);
	reclaim_batch("6.6", NULL, true, REC_ARCH_INVALIDATE, 0, ~0UL);
	/* Unbatched: ptep_clear_flush() with F2 inside, for the page. */
	reclaim_batch("latest", NULL, false, REC_ARCH_INVALIDATE, BASE, BASE + PG);
}

/* 6.6+ arm64 arch_tlbbatch_add_pending() → __flush_tlb_page_nosync(): the page. */
static void test_reclaim_batch_arm64_flushes_the_page_at_add(void **state)
{
	(void)state;
	reclaim_batch("latest", "arm64", true, REC_ARCH_INVALIDATE, BASE, BASE + PG);
}

/* 4.13-6.5: F2 stays the ->invalidate_range under the PTL; only F1 moves. */
static void test_reclaim_batch_6_5_defers_only_the_cpu_flush(void **state)
{
	(void)state;
	reclaim_batch("6.5", NULL, true, REC_INVALIDATE_RANGE, BASE, BASE + PG);
	reclaim_batch("6.5", NULL, false, REC_INVALIDATE_RANGE, BASE, BASE + PG);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reclaim_swaps_anon_out_and_faults_it_back),
		cmocka_unit_test(test_reclaim_batch_x86_flushes_the_whole_mm_at_add),
		cmocka_unit_test(test_reclaim_batch_arm64_flushes_the_page_at_add),
		cmocka_unit_test(test_reclaim_batch_6_5_defers_only_the_cpu_flush),
		cmocka_unit_test(test_reclaim_drops_shmem_from_the_page_cache),
		cmocka_unit_test(test_reclaim_unmaps_a_cow_page_in_parent_and_child),
		cmocka_unit_test(test_reclaim_sequence_latest),
		cmocka_unit_test(test_reclaim_sequence_6_5),
		cmocka_unit_test(test_reclaim_sequence_4_12),
		cmocka_unit_test(test_reclaim_rejects_bad_ranges_and_changes_nothing),
		cmocka_unit_test(test_reclaim_leaves_pinned_pages_mapped),
		cmocka_unit_test(test_seed000_free_before_range_end_flush_is_a_use_after_free),
		cmocka_unit_test(test_seed000_invalidate_page_after_ptl_is_a_use_after_free),
		cmocka_unit_test(test_seed000_flush_with_cpu_flush_is_safe),
		cmocka_unit_test(test_seed000_free_after_end_is_safe_even_with_range_end),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
