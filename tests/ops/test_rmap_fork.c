// SPDX-License-Identifier: MIT
/*
 * The reverse map (lib/mm/rmap.c) and mmn_fork() (lib/ops/fork.c): the
 * notification sequence of copy_page_range() per profile, COW after fork on
 * both sides, hugetlb, errors, and the audit's rmap check both ways.
 */
#include "family_b.h"

/* ---- rmap infrastructure ---- */

struct walk_count {
	struct mmn_mm *mms[4];
	int hits[4];
	int calls;
	unsigned long pfn;
};

static bool count_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct walk_count *w = arg;

	w->calls++;
	for (int i = 0; i < 4; i++)
		if (w->mms[i] == vma->mm && mmn_pte_pfn(fb_entry(vma->mm, addr)) == w->pfn)
			w->hits[i]++;
	return true;
}

static void test_rmap_walk_finds_every_mapping_after_fork(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	struct walk_count w = { .calls = 0 };

	(void)state;
	fb_map(f, BASE, 4 * PG, ANON);
	fb_map(f, BASE + 0x200000, 2 * PG, SHARED);
	fb_write(f->mm, 0, BASE + PG, 11);
	fb_write(f->mm, 0, BASE + 0x200000, 22);
	assert_int_equal(mmn_fork(f->mm, &child), 0);

	/* An anonymous page: the parent's and the child's VMA (one anon_vma). */
	w.mms[0] = f->mm;
	w.mms[1] = child;
	w.pfn = fb_pfn(f->mm, BASE + PG);
	assert_int_equal(mmn_rmap_walk(f->sim, w.pfn, count_one, &w), 0);
	assert_int_equal(w.calls, 2);
	assert_int_equal(w.hits[0], 1);
	assert_int_equal(w.hits[1], 1);
	/* A shmem page: both VMAs of the object's i_mmap. */
	memset(w.hits, 0, sizeof(w.hits));
	w.calls = 0;
	w.pfn = fb_pfn(f->mm, BASE + 0x200000);
	assert_int_equal(mmn_rmap_walk(f->sim, w.pfn, count_one, &w), 0);
	assert_int_equal(w.calls, 2);
	assert_int_equal(w.hits[0] + w.hits[1], 2);
	/* After the child's COW the old page is found only in the parent. */
	fb_write(child, 1, BASE + PG, 33);
	memset(w.hits, 0, sizeof(w.hits));
	w.pfn = fb_pfn(f->mm, BASE + PG);
	assert_int_equal(mmn_rmap_walk(f->sim, w.pfn, count_one, &w), 0);
	assert_int_equal(w.hits[0], 1);
	assert_int_equal(w.hits[1], 0);
	/* The zero page has no reverse map. */
	assert_int_equal(mmn_rmap_walk(f->sim, MMN_ZERO_PFN, count_one, &w), -EINVAL);
	mmn_mm_put(child);
	fb_free(f, 0);
}

static void test_rmap_walk_skips_unmapped_vmas_and_split_keeps_index(void **state)
{
	struct fb *f = fb_new("latest");
	struct walk_count w = { .calls = 0 };

	(void)state;
	fb_map(f, BASE, 8 * PG, ANON);
	fb_write(f->mm, 0, BASE + 6 * PG, 5);
	/* Split the VMA twice (munmap in the middle): the page's VMA changes. */
	assert_int_equal(mmn_munmap(f->mm, BASE + 2 * PG, 2 * PG), 0);
	w.mms[0] = f->mm;
	w.pfn = fb_pfn(f->mm, BASE + 6 * PG);
	assert_int_equal(mmn_rmap_walk(f->sim, w.pfn, count_one, &w), 0);
	assert_int_equal(w.calls, 1); /* the head VMA does not cover the index */
	assert_int_equal(w.hits[0], 1);
	fb_free(f, 0);
}

/* The audit checks the reverse map: a page whose mapping is wrong is found. */
static void test_audit_reports_a_page_outside_its_anon_vma(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_page *p;
	void *saved;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	p = mmn_pfn_to_page(f->sim, fb_pfn(f->mm, BASE));
	saved = p->mapping;
	p->mapping = NULL;
	assert_int_equal(mmn_audit(f->sim), 1);
	p->mapping = saved;
	p->index++;
	assert_int_equal(mmn_audit(f->sim), 1);
	p->index--;
	mmn_check_reset(f->sim);
	fb_free(f, 0);
}

/* ---- fork ---- */

static void test_fork_cow_each_side_sees_its_own_writes(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, 4 * PG, ANON);
	fb_map(f, BASE + 0x200000, 2 * PG, SHARED);
	for (int i = 0; i < 3; i++)
		fb_write(f->mm, 0, BASE + i * PG, 100 + i);
	fb_write(f->mm, 0, BASE + 0x200000, 7);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(mmn_mm_users(child), 1);
	assert_int_equal(mmn_vma_count(child), 2);
	/* Shared page, both read-only, refcount and mapcount 2. */
	assert_false(mmn_pte_write(fb_entry(f->mm, BASE)));
	assert_false(mmn_pte_write(fb_entry(child, BASE)));
	assert_int_equal(fb_pfn(child, BASE), pfn);
	assert_int_equal(fb_page(f, pfn).mapcount, 2);
	assert_int_equal(fb_page(f, pfn).refcount, 2);
	/* Unwritten page: the zero-page entry is not there, nothing copied. */
	assert_int_equal(fb_read(child, 1, BASE + 3 * PG), 0);
	for (int i = 0; i < 3; i++)
		assert_int_equal(fb_read(child, 1, BASE + i * PG), 100 + i);
	/* Parent writes page 0 (copy: shared), child writes page 1. */
	fb_write(f->mm, 0, BASE, 1000);
	fb_write(child, 1, BASE + PG, 2001);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1000);
	assert_int_equal(fb_read(child, 1, BASE), 100);
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 101);
	assert_int_equal(fb_read(child, 1, BASE + PG), 2001);
	/* The child's page 0 is now exclusive: its write reuses it. */
	fb_write(child, 1, BASE, 2000);
	assert_int_equal(fb_pfn(child, BASE), pfn);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1000);
	/* MAP_SHARED stays shared. */
	fb_write(child, 1, BASE + 0x200000, 8);
	assert_int_equal(fb_read(f->mm, 0, BASE + 0x200000), 8);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(fb_stats(f, MMN_OP_FORK).calls, 1);
	assert_int_equal(fb_stats(f, MMN_OP_FORK).pages_changed, 3);
	mmn_mm_put(child);
	assert_int_equal(fb_read(f->mm, 0, BASE + 2 * PG), 102);
	fb_free(f, 0);
}

struct fork_probe {
	struct mmn_mm *parent;
	struct mmn_spinlock *ptl;
	const void *table;
	int writes, writes_unlocked, seq_odd;
};

/* Every write of the parent's PTE table happens under its PTL and inside
 * the write_protect_seq section. */
static void fork_pte_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct fork_probe *p = arg;

	(void)sim;
	if (ev->kind != MMN_SCHED_PTE_WRITE || (const char *)ev->obj < (const char *)p->table ||
	    (const char *)ev->obj >= (const char *)p->table + MMN_PTRS_PER_TABLE * 8)
		return;
	p->writes++;
	if (mmn_lockdep_is_held(p->ptl) != 1)
		p->writes_unlocked++;
	if (mmn_raw_read_seqcount(&p->parent->write_protect_seq) & 1)
		p->seq_odd++;
}

static void check_fork_sequence(const char *profile)
{
	struct fb *f = fb_new(profile);
	struct recorder r, s;
	struct mmn_mm *child;
	struct fork_probe p;
	const struct rec_event *e;
	bool sva = !strcmp(profile, "latest");

	fb_map(f, BASE, 4 * PG, ANON);
	fb_map(f, BASE + 0x200000, 2 * PG, SHARED);
	fb_write(f->mm, 0, BASE, 1);
	fb_write(f->mm, 0, BASE + PG, 2);
	fb_write(f->mm, 0, BASE + 0x200000, 3);
	assert_int_equal(rec_init(&r, f->sim, sva ? REC_OPS_START_END : REC_OPS_LEGACY, 64), 0);
	assert_int_equal(rec_init(&s, f->sim, REC_OPS_SECONDARY_TLB, 64), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	rec_watch_lock(&s, fb_ptl(f->mm, BASE), "ptl");
	rec_watch_lock(&r, &f->mm->mmap_lock, "mmap_lock");
	assert_int_equal(rec_register(&r, f->mm), 0);
	if (sva)
		assert_int_equal(rec_register(&s, f->mm), 0);
	p = (struct fork_probe){ .parent = f->mm, .ptl = fb_ptl(f->mm, BASE),
				 .table = mmn_pt_walk(f->mm, BASE, MMN_LVL_PTE)->e };
	mmn_sched_set_hook(f->sim, fork_pte_hook, &p);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	/* Only the COW VMA is notified: PROTECTION_PAGE over the whole VMA,
	 * start and end without the PTL, with mmap_lock held for write. */
	assert_int_equal(rec_count_kind(&r, REC_START), 1);
	assert_int_equal(rec_count_kind(&r, REC_END), 1);
	e = rec_find(&r, REC_START, 0);
	assert_int_equal(e->start, BASE);
	assert_int_equal(e->end, BASE + 4 * PG);
	assert_int_equal(e->event, strcmp(profile, "4.15") ? MMN_NOTIFY_PROTECTION_PAGE
							  : MMN_NOTIFY_UNMAP);
	assert_int_equal(e->held, 2);
	assert_int_equal(rec_find(&r, REC_END, 0)->held, 2);
	/* Two parent entries write-protected under the PTL, inside the seq. */
	assert_int_equal(p.writes, 2);
	assert_int_equal(p.writes_unlocked, 0);
	assert_int_equal(p.seq_odd, 2);
	if (sva) {
		/* 6.6+: F2 only from the CPU flush, flush_tlb_mm(parent) after E. */
		assert_int_equal(rec_count(&s), 1);
		e = rec_find(&s, REC_ARCH_INVALIDATE, 0);
		assert_non_null(e);
		assert_int_equal(e->start, 0);
		assert_true(e->stamp > rec_find(&r, REC_END, 0)->stamp);
		assert_int_equal(e->held, 0);
	} else {
		/* Pre-6.6: ->invalidate_range from end; flush_tlb_mm adds nothing. */
		enum rec_kind k[] = { REC_START, REC_INVALIDATE_RANGE, REC_END };

		assert_true(rec_kinds_are(&r, k, 3));
	}
	rec_unregister(&r);
	if (sva)
		rec_unregister(&s);
	rec_fini(&r);
	rec_fini(&s);
	mmn_mm_put(child);
	fb_free(f, 0);
}

static void test_fork_notifies_protection_page_then_flushes_late_latest(void **state)
{
	(void)state;
	check_fork_sequence("latest");
}

static void test_fork_notifies_then_invalidate_range_at_end_4_15(void **state)
{
	(void)state;
	check_fork_sequence("4.15");
}

/* copy_hugetlb_page_range() (4.12-6.19): a private hugetlb page is shared
 * copy-on-write, not copied; the first store copies it (hugetlb_wp()). */
static void test_fork_shares_private_hugetlb_copy_on_write(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	struct mmn_stats st;
	unsigned long huge_free;

	(void)state;
	fb_map(f, BASE, MMN_PMD_SIZE, ANON | HUGE);
	fb_map(f, BASE + MMN_PMD_SIZE, MMN_PMD_SIZE, SHARED | HUGE);
	fb_write(f->mm, 0, BASE + 3 * PG, 42);
	fb_write(f->mm, 0, BASE + MMN_PMD_SIZE + PG, 43);
	mmn_sim_get_stats(f->sim, &st);
	huge_free = st.huge_pages_free;
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.huge_pages_free, huge_free);
	assert_int_equal(fb_read(child, 1, BASE + 3 * PG), 42);
	fb_write(child, 1, BASE + 3 * PG, 44);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.huge_pages_free, huge_free - 1);
	assert_int_equal(fb_read(f->mm, 0, BASE + 3 * PG), 42);
	assert_int_equal(fb_read(child, 0, BASE + 3 * PG), 44);
	fb_write(child, 1, BASE + MMN_PMD_SIZE + PG, 45);
	assert_int_equal(fb_read(f->mm, 0, BASE + MMN_PMD_SIZE + PG), 45);
	assert_int_equal(mmn_audit(f->sim), 0);
	mmn_mm_put(child);
	fb_free(f, 0);
}

static void test_fork_swap_entries_are_shared_by_the_child(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 9);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE)), MMN_SWP_SWAP);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(fb_entry(child, BASE), fb_entry(f->mm, BASE));
	assert_int_equal(fb_read(child, 1, BASE), 9);
	fb_write(f->mm, 0, BASE, 10);
	assert_int_equal(fb_read(child, 1, BASE), 9);
	mmn_mm_put(child);
	fb_free(f, 0);
}

/* ---- fork with pinned pages (GUP-after-fork) ---- */

/* Pin BASE's page for a device write (FOLL_WRITE), after a first store. */
static unsigned long pin_written_page(struct fb *f)
{
	unsigned long pfn;
	uint32_t gen;

	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(mmn_get_user_pages(f->mm, BASE, MMN_FOLL_WRITE, &pfn, &gen), 0);
	return pfn;
}

/* A DMA store through the pin, then the value each process reads. */
static void dma_store(struct fb *f, unsigned long pfn, uint64_t v)
{
	assert_int_equal(mmn_phys_access(f->sim, pfn, mmn_page_gen(f->sim, pfn), BASE, true, &v), 0);
}

/*
 * 5.8 and older (5.2 copy_one_pte(): no pin check): fork shares the pinned
 * page; the parent's next store copies it away from the pin, so the
 * device's later writes reach the child and not the parent (GUP-after-fork).
 * Same on "latest" with fork_copy_pinned and cow_reuse_anon_exclusive off.
 */
static void fork_shares_pinned_page(const char *profile, bool knobs_off)
{
	struct fb *f = fb_new(profile);
	struct mmn_mm *child;
	unsigned long pinned;

	if (knobs_off) {
		assert_int_equal(mmn_sim_set_knob(f->sim, "fork_copy_pinned", "false"), 0);
		assert_int_equal(mmn_sim_set_knob(f->sim, "cow_reuse_anon_exclusive", "false"), 0);
	}
	pinned = pin_written_page(f);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(fb_pfn(child, BASE), pinned);
	assert_false(mmn_pte_write(fb_entry(f->mm, BASE)));
	fb_write(f->mm, 0, BASE, 2);
	assert_int_not_equal(fb_pfn(f->mm, BASE), pinned); /* copied away from the pin */
	dma_store(f, pinned, 77);
	assert_int_equal(fb_read(f->mm, 0, BASE), 2); /* the parent lost the DMA */
	assert_int_equal(fb_read(child, 1, BASE), 77); /* the child sees it */
	mmn_mm_put(child);
	assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
	fb_free(f, 0);
}

static void test_fork_shares_a_pinned_page_in_5_2(void **state)
{
	(void)state;
	assert_false(mmn_profile_by_name("5.2")->fork_copy_pinned);
	fork_shares_pinned_page("5.2", false);
	fork_shares_pinned_page("latest", true);
}

/*
 * 5.9+ (5.14 copy_present_page(), 6.5 copy_present_pte(), 6.19
 * copy_present_ptes()): the child gets a copy of the maybe-pinned page at
 * fork, the parent keeps its writable entry on the pinned page.
 */
static void fork_copies_pinned_page(const char *profile)
{
	struct fb *f = fb_new(profile);
	struct mmn_mm *child;
	unsigned long pinned, other;

	pinned = pin_written_page(f);
	fb_write(f->mm, 0, BASE + PG, 5); /* not pinned: shared as before */
	other = fb_pfn(f->mm, BASE + PG);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_not_equal(fb_pfn(child, BASE), pinned);
	assert_true(mmn_pte_write(fb_entry(child, BASE)));
	assert_true(mmn_pte_write(fb_entry(f->mm, BASE)));
	assert_int_equal(fb_page(f, pinned).mapcount, 1);
	assert_int_equal(fb_pfn(child, BASE + PG), other);
	assert_false(mmn_pte_write(fb_entry(f->mm, BASE + PG)));
	fb_write(f->mm, 0, BASE, 2);
	assert_int_equal(fb_pfn(f->mm, BASE), pinned);
	dma_store(f, pinned, 77);
	assert_int_equal(fb_read(f->mm, 0, BASE), 77); /* the pin stays coherent */
	assert_int_equal(fb_read(child, 1, BASE), 1);  /* the child has the fork-time copy */
	mmn_mm_put(child);
	assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
	fb_free(f, 0);
}

static void test_fork_copies_a_pinned_page_eagerly_from_5_9(void **state)
{
	(void)state;
	assert_true(mmn_profile_by_name("5.14")->fork_copy_pinned);
	fork_copies_pinned_page("5.14");
	fork_copies_pinned_page("6.5");
	fork_copies_pinned_page("latest");
}

/*
 * do_wp_page() on a pinned page mapped read-only (mprotect RO then RW):
 * 5.9-5.18 copy it (page_count() != 1), the pin then sees nothing the
 * process writes; 5.19+ (6.5 do_wp_page(): PageAnonExclusive) reuse it.
 */
static void test_cow_reuses_an_exclusive_pinned_page_from_5_19(void **state)
{
	static const struct { const char *profile; bool reuse; } eras[] = {
		{ "5.2", false }, { "5.14", false }, { "6.5", true }, { "latest", true },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		struct fb *f = fb_new(eras[i].profile);
		unsigned long pinned = pin_written_page(f);

		assert_int_equal(mmn_profile_by_name(eras[i].profile)->cow_reuse_anon_exclusive,
				 eras[i].reuse);
		assert_int_equal(mmn_mprotect(f->mm, BASE, 2 * PG, MMN_PROT_READ), 0);
		assert_int_equal(mmn_mprotect(f->mm, BASE, 2 * PG, RW), 0);
		fb_write(f->mm, 0, BASE, 2);
		assert_int_equal(fb_pfn(f->mm, BASE) == pinned, eras[i].reuse);
		dma_store(f, pinned, 77);
		assert_int_equal(fb_read(f->mm, 0, BASE), eras[i].reuse ? 77 : 2);
		assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
		fb_free(f, 0);
	}
}

/* After fork shared a page it is no longer exclusive: with the child gone
 * the parent's write reuses it only because the refcount is 1 again, and
 * a pin taken through a read-only shared entry does not make it reusable. */
static void test_cow_after_fork_does_not_reuse_a_shared_page_with_extra_refs(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_true(fb_page(f, pfn).flags & MMN_PG_ANON_SHARED);
	mmn_mm_put(child);
	assert_int_equal(mmn_get_page(f->sim, pfn), 0); /* a transient reference */
	fb_write(f->mm, 0, BASE, 2);
	assert_int_not_equal(fb_pfn(f->mm, BASE), pfn); /* not exclusive: copied */
	assert_int_equal(mmn_put_page(f->sim, pfn), 0);
	/* Without the extra reference the shared page is reused and exclusive again. */
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	mmn_mm_put(child);
	fb_write(f->mm, 0, BASE, 3);
	assert_int_equal(fb_pfn(f->mm, BASE), pfn);
	assert_false(fb_page(f, pfn).flags & MMN_PG_ANON_SHARED);
	fb_free(f, 0);
}

/* A pinned THP (5.9+ copy_huge_pmd(): the pin check fails, the PMD is
 * split, -EAGAIN, the PTEs are copied one by one, each subpage of the
 * pinned folio eagerly); 5.2 shares the PMD leaf. */
static void fork_pinned_thp(const char *profile, bool copies)
{
	struct fb *f = fb_new_cfg(profile, 2048);
	struct mmn_mm *child;
	struct mmn_walk w;
	unsigned long pinned;
	uint32_t gen;

	fb_map(f, BASE, MMN_PMD_SIZE, ANON);
	assert_int_equal(mmn_madvise(f->mm, BASE, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	fb_write(f->mm, 0, BASE + 3 * PG, 3);
	assert_int_equal(mmn_pgtable_walk(f->mm, BASE, &w), 0);
	assert_int_equal(w.level, MMN_PT_PMD);
	assert_int_equal(mmn_get_user_pages(f->mm, BASE + 3 * PG, MMN_FOLL_WRITE, &pinned, &gen), 0);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(mmn_pgtable_walk(f->mm, BASE, &w), 0);
	assert_int_equal(w.level, copies ? MMN_PT_PTE : MMN_PT_PMD);
	/* (A PMD leaf's walk names the head: subpage 3 is head + 3.) */
	assert_int_equal(fb_pfn(f->mm, BASE + 3 * PG) + (copies ? 0 : 3), pinned);
	assert_int_equal(fb_pfn(child, BASE + 3 * PG) + (copies ? 0 : 3) != pinned, copies);
	assert_int_equal(mmn_pte_write(fb_entry(f->mm, BASE + 3 * PG)), copies);
	assert_int_equal(fb_read(child, 1, BASE + 3 * PG), 3);
	mmn_mm_put(child);
	assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
	fb_free(f, 0);
}

static void test_fork_copies_a_pinned_thp_pte_wise_from_5_9(void **state)
{
	(void)state;
	fork_pinned_thp("5.2", false);
	fork_pinned_thp("5.14", true);
	fork_pinned_thp("latest", true);
}

/* ---- fork's write-protect window holds pages stable ---- */

/* A device that kept a writable translation of BASE's page from before
 * fork (a buggy listener: it ignores every notification) and stores
 * through it when fork's range ends: after the write-protect, before the
 * parent's late TLB flush. */
struct stale_dev {
	struct mmn_notifier sub;
	struct fb *f;
	unsigned long pfn;
	uint32_t gen;
	int stores;
};

static void stale_dev_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct stale_dev *d = (struct stale_dev *)sub;
	uint64_t v = 99;

	if (range->event != MMN_NOTIFY_PROTECTION_PAGE || d->stores++)
		return;
	assert_int_equal(mmn_phys_access(d->f->sim, d->pfn, d->gen, BASE, true, &v), 0);
}

static const struct mmn_notifier_ops stale_dev_ops = {
	.invalidate_range_end = stale_dev_end,
};

static void test_fork_window_reports_a_device_store_as_lost_write(void **state)
{
	struct fb *f = fb_new("latest");
	struct stale_dev d = { .f = f };
	struct mmn_mm *child;
	uint64_t v = 7;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	d.pfn = fb_pfn(f->mm, BASE);
	d.gen = mmn_page_gen(f->sim, d.pfn);
	d.sub.ops = &stale_dev_ops;
	assert_int_equal(mmn_notifier_register(&d.sub, f->mm), 0);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(d.stores, 1);
	/* The store landed in the page the child shares: lost for the parent's
	 * view of fork (check.h: fork holds the page stable). */
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 1);
	assert_int_equal(fb_read(child, 1, BASE), 99);
	/* After fork the page is no longer held stable: a store is fine. */
	assert_false(fb_page(f, d.pfn).flags & (MMN_PG_STABLE | MMN_PG_FORK_WP));
	assert_int_equal(mmn_phys_access(f->sim, d.pfn, d.gen, BASE, true, &v), 0);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 1);
	assert_int_equal(mmn_notifier_unregister(&d.sub, f->mm), 0);
	mmn_mm_put(child);
	fb_free(f, 1);
}

static void test_fork_rejects_null(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child = NULL;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(mmn_fork(NULL, &child), -EINVAL);
	assert_int_equal(mmn_fork(f->mm, NULL), -EINVAL);
	assert_null(child);
	assert_true(mmn_pte_write(fb_entry(f->mm, BASE)));
	assert_int_equal(fb_stats(f, MMN_OP_FORK).calls, 0);
	assert_int_equal(fb_stats(f, MMN_OP_FORK).ranges, 0);
	fb_free(f, 0);
}

/* Out of frames half-way: the child is torn down, accounting stays exact. */
static void test_fork_out_of_frames_tears_the_child_down(void **state)
{
	struct fb *f = fb_new_cfg("latest", 64);
	struct mmn_mm *child = NULL;
	struct mmn_stats st;
	unsigned long n = 0, before;

	(void)state;
	fb_map(f, BASE, 64 * PG, ANON);
	do {
		fb_write(f->mm, 0, BASE + n * PG, n + 1);
		n++;
		mmn_sim_get_stats(f->sim, &st);
	} while (st.frames_free > 3);
	before = st.frames_free;
	/* Child: PGD, PUD, PMD fit; the PTE table does not. */
	assert_int_equal(mmn_fork(f->mm, &child), -ENOMEM);
	assert_null(child);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.frames_free, before);
	assert_int_equal(fb_stats(f, MMN_OP_FORK).calls, 0);
	assert_int_equal(mmn_vma_count(f->mm), 1);
	assert_int_equal(mmn_audit(f->sim), 0);
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(fb_read(f->mm, 0, BASE + i * PG), i + 1);
	/* Write-protected entries left behind are harmless: the write reuses. */
	fb_write(f->mm, 0, BASE, 77);
	assert_int_equal(fb_read(f->mm, 0, BASE), 77);
	fb_free(f, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rmap_walk_finds_every_mapping_after_fork),
		cmocka_unit_test(test_rmap_walk_skips_unmapped_vmas_and_split_keeps_index),
		cmocka_unit_test(test_audit_reports_a_page_outside_its_anon_vma),
		cmocka_unit_test(test_fork_cow_each_side_sees_its_own_writes),
		cmocka_unit_test(test_fork_notifies_protection_page_then_flushes_late_latest),
		cmocka_unit_test(test_fork_notifies_then_invalidate_range_at_end_4_15),
		cmocka_unit_test(test_fork_shares_private_hugetlb_copy_on_write),
		cmocka_unit_test(test_fork_swap_entries_are_shared_by_the_child),
		cmocka_unit_test(test_fork_shares_a_pinned_page_in_5_2),
		cmocka_unit_test(test_fork_copies_a_pinned_page_eagerly_from_5_9),
		cmocka_unit_test(test_cow_reuses_an_exclusive_pinned_page_from_5_19),
		cmocka_unit_test(test_cow_after_fork_does_not_reuse_a_shared_page_with_extra_refs),
		cmocka_unit_test(test_fork_copies_a_pinned_thp_pte_wise_from_5_9),
		cmocka_unit_test(test_fork_window_reports_a_device_store_as_lost_write),
		cmocka_unit_test(test_fork_rejects_null),
		cmocka_unit_test(test_fork_out_of_frames_tears_the_child_down),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
