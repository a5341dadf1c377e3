// SPDX-License-Identifier: MIT
/*
 * Regular files (include/mmnsim/file.h; lib/ops/filemap.c, lib/ops/truncate.c):
 * the page cache shared by mms, write-notify faults, writeback's
 * folio_mkclean() → page_vma_mkclean_one() per era (6.19 / 6.5 / 4.15 /
 * 4.12 mm/rmap.c), unmap_mapping_range() → zap_page_range_single() for
 * truncate (truncate_pagecache(): twice), hole punch and MADV_REMOVE, with a
 * KVM listener kept audit-clean, and bad input.
 */
#include "family_b.h"

#define FBASE 0x50000000UL

struct ft {
	struct fb *f;
	struct mmn_file *file;
	struct mmn_mm *other;
};

/* A 4-page file mapped shared and writable at BASE in f->mm and at FBASE in
 * a second mm. */
static void ft_setup(struct ft *t, const char *profile)
{
	unsigned long got;

	t->f = fb_new(profile);
	t->file = mmn_file_create(t->f->sim, 4 * PG);
	assert_non_null(t->file);
	assert_int_equal(mmn_mmap_file(t->f->mm, BASE, 4 * PG, RW, MMN_MAP_SHARED | FIXED, t->file,
				       0, &got),
			 0);
	assert_int_equal(got, BASE);
	t->other = mmn_mm_create(t->f->sim);
	assert_non_null(t->other);
	assert_int_equal(mmn_mmap_file(t->other, FBASE, 4 * PG, RW, MMN_MAP_SHARED | FIXED,
				       t->file, 0, &got),
			 0);
}

static void ft_teardown(struct ft *t, unsigned long violations)
{
	mmn_mm_put(t->other);
	mmn_file_put(t->file);
	fb_free(t->f, violations);
}

static uint64_t disk(struct ft *t, unsigned long off)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_file_read_disk(t->file, off, &v), 0);
	return v;
}

static void test_file_pages_are_shared_by_every_mapping(void **state)
{
	struct ft t;
	unsigned long pfn;

	(void)state;
	ft_setup(&t, "latest");
	fb_write(t.f->mm, 0, BASE + PG, 7);
	assert_int_equal(fb_read(t.other, 1, FBASE + PG), 7);
	pfn = mmn_file_cached(t.file, PG);
	assert_int_not_equal(pfn, 0);
	assert_int_equal(fb_pfn(t.f->mm, BASE + PG), pfn);
	assert_int_equal(fb_pfn(t.other, FBASE + PG), pfn);
	assert_int_equal(fb_page(t.f, pfn).mapcount, 2);
	ft_teardown(&t, 0);
}

/* vma_wants_writenotify(): a load maps read-only; a store dirties the page. */
static void test_file_load_maps_read_only_and_store_dirties_the_page(void **state)
{
	struct ft t;
	unsigned long pfn;

	(void)state;
	ft_setup(&t, "latest");
	assert_int_equal(fb_read(t.f->mm, 0, BASE), 0);
	assert_false(mmn_pte_write(fb_entry(t.f->mm, BASE)));
	pfn = fb_pfn(t.f->mm, BASE);
	assert_false(fb_page(t.f, pfn).flags & MMN_PG_DIRTY);
	fb_write(t.f->mm, 0, BASE, 3); /* wp_page_shared() */
	assert_true(mmn_pte_write(fb_entry(t.f->mm, BASE)));
	assert_true(fb_page(t.f, pfn).flags & MMN_PG_DIRTY);
	assert_int_equal(fb_pfn(t.f->mm, BASE), pfn); /* no copy */
	ft_teardown(&t, 0);
}

/* 6.6+: per mapping S(PROTECTION_PAGE) → [PTL: clear, F1 with F2] → E. */
static void test_writeback_mkclean_sequence_latest(void **state)
{
	struct ft t;
	struct recorder r, s;
	const struct rec_event *st, *a, *en;

	(void)state;
	ft_setup(&t, "latest");
	fb_write(t.f->mm, 0, BASE + PG, 11);
	assert_int_equal(rec_init(&r, t.f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&s, t.f->sim, REC_OPS_SECONDARY_TLB, 16), 0);
	rec_watch_lock(&r, fb_ptl(t.f->mm, BASE + PG), "ptl");
	rec_watch_lock(&s, fb_ptl(t.f->mm, BASE + PG), "ptl");
	assert_int_equal(rec_register(&r, t.f->mm), 0);
	assert_int_equal(rec_register(&s, t.f->mm), 0);
	assert_int_equal(mmn_file_writeback(t.file, 0, 0), 1);
	st = rec_find(&r, REC_START, 0);
	en = rec_find(&r, REC_END, 0);
	a = rec_find(&s, REC_ARCH_INVALIDATE, 0);
	assert_non_null(st);
	assert_non_null(en);
	assert_non_null(a);
	assert_int_equal(rec_count(&r), 2);
	assert_int_equal(st->event, MMN_NOTIFY_PROTECTION_PAGE);
	assert_int_equal(st->start, BASE + PG);
	assert_int_equal(st->end, BASE + 2 * PG);
	assert_int_equal(st->held, 0);
	assert_int_equal(a->held, 1); /* ptep_clear_flush(): F2 inside F1, under the PTL */
	assert_int_equal(en->held, 0);
	assert_true(st->stamp < a->stamp && a->stamp < en->stamp);
	/* Write-protected and clean; the content is on disk; the page is clean. */
	assert_false(mmn_pte_write(fb_entry(t.f->mm, BASE + PG)));
	assert_false(mmn_pte_dirty(fb_entry(t.f->mm, BASE + PG)));
	assert_true(mmn_pte_present(fb_entry(t.f->mm, BASE + PG)));
	assert_int_equal(disk(&t, PG), 11);
	assert_false(fb_page(t.f, fb_pfn(t.f->mm, BASE + PG)).flags & MMN_PG_DIRTY);
	assert_int_equal(fb_stats(t.f, MMN_OP_WRITEBACK).pages_changed, 1);
	/* Nothing dirty: the next writeback notifies nobody. */
	rec_reset(&r);
	assert_int_equal(mmn_file_writeback(t.file, 0, 0), 0);
	assert_int_equal(rec_count(&r), 0);
	/* The next store faults, dirties, and is written by the next writeback. */
	fb_write(t.f->mm, 1, BASE + PG, 12);
	assert_int_equal(mmn_file_writeback(t.file, PG, PG), 1);
	assert_int_equal(disk(&t, PG), 12);
	rec_unregister(&r);
	rec_unregister(&s);
	rec_fini(&r);
	rec_fini(&s);
	ft_teardown(&t, 0);
}

/* Both mappings are cleaned, each notified in its own mm, even the one
 * that only read the page (its entry is read-only: notified, unchanged). */
static void test_writeback_notifies_every_mapping(void **state)
{
	struct ft t;
	struct recorder r1, r2;

	(void)state;
	ft_setup(&t, "latest");
	fb_write(t.f->mm, 0, BASE, 1);
	assert_int_equal(fb_read(t.other, 1, FBASE), 1);
	assert_int_equal(rec_init(&r1, t.f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&r2, t.f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&r1, t.f->mm), 0);
	assert_int_equal(rec_register(&r2, t.other), 0);
	assert_int_equal(mmn_file_writeback(t.file, 0, 0), 1);
	assert_int_equal(rec_count_kind(&r1, REC_START), 1);
	assert_int_equal(rec_count_kind(&r2, REC_START), 1);
	assert_int_equal(rec_find(&r2, REC_START, 0)->start, FBASE);
	assert_int_equal(rec_find(&r2, REC_START, 0)->event, MMN_NOTIFY_PROTECTION_PAGE);
	assert_int_equal(fb_stats(t.f, MMN_OP_WRITEBACK).pages_changed, 1);
	assert_int_equal(fb_stats(t.f, MMN_OP_WRITEBACK).pages_unchanged, 1);
	rec_unregister(&r1);
	rec_unregister(&r2);
	rec_fini(&r1);
	rec_fini(&r2);
	ft_teardown(&t, 0);
}

/* 4.13-6.5 (here 6.5): no call-site ->invalidate_range (the entry is only
 * downgraded); the secondary flush comes from end, after the PTL drop. */
static void test_writeback_mkclean_sequence_6_5(void **state)
{
	struct ft t;
	struct recorder r;
	enum rec_kind k[] = { REC_START, REC_INVALIDATE_RANGE, REC_END };

	(void)state;
	ft_setup(&t, "6.5");
	fb_write(t.f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, t.f->sim, REC_OPS_LEGACY, 16), 0);
	rec_watch_lock(&r, fb_ptl(t.f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, t.f->mm), 0);
	assert_int_equal(mmn_file_writeback(t.file, 0, 0), 1);
	assert_true(rec_kinds_are(&r, k, 3));
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(rec_at(&r, i)->held, 0);
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_PROTECTION_PAGE);
	rec_unregister(&r);
	rec_fini(&r);
	ft_teardown(&t, 0);
}

/* Before 5.2 a listener cannot tell why: the range is UNMAP. */
static void test_writeback_event_is_unmap_before_5_2(void **state)
{
	struct ft t;
	struct recorder r;

	(void)state;
	ft_setup(&t, "4.15");
	fb_write(t.f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, t.f->sim, REC_OPS_LEGACY, 16), 0);
	assert_int_equal(rec_register(&r, t.f->mm), 0);
	assert_int_equal(mmn_file_writeback(t.file, 0, 0), 1);
	assert_int_equal(rec_find(&r, REC_START, 0)->event, MMN_NOTIFY_UNMAP);
	rec_unregister(&r);
	rec_fini(&r);
	ft_teardown(&t, 0);
}

/* 4.12 page_mkclean_one(): no start/end, ->invalidate_page with the PTL held. */
static void test_writeback_invalidate_page_under_ptl_4_12(void **state)
{
	struct ft t;
	struct recorder r;
	enum rec_kind k[] = { REC_INVALIDATE_PAGE };

	(void)state;
	ft_setup(&t, "4.12");
	fb_write(t.f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, t.f->sim, REC_OPS_LEGACY, 16), 0);
	rec_watch_lock(&r, fb_ptl(t.f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, t.f->mm), 0);
	assert_int_equal(mmn_file_writeback(t.file, 0, 0), 1);
	assert_true(rec_kinds_are(&r, k, 1));
	assert_int_equal(rec_at(&r, 0)->held, 1);
	assert_int_equal(rec_at(&r, 0)->start, BASE);
	rec_unregister(&r);
	rec_fini(&r);
	ft_teardown(&t, 0);
}

static struct mmn_kvm *kvm_on(struct mmn_mm *mm, unsigned long hva, unsigned long pages)
{
	struct mmn_kvm_config kc;
	struct mmn_kvm *kvm;

	mmn_kvm_config_init(&kc);
	kvm = mmn_kvm_create(mm, &kc);
	assert_non_null(kvm);
	assert_int_equal(mmn_kvm_set_memslot(kvm, 0, 0x100, pages, hva), 0);
	return kvm;
}

/* The periodic writeback traffic a VM backed by a file sees: its SPTE goes
 * at each writeback, the next guest store refaults and re-dirties. */
static void test_writeback_with_kvm_stays_audit_clean(void **state)
{
	struct ft t;
	struct mmn_kvm *kvm;
	struct mmn_kvm_spte_info si;
	uint64_t v;

	(void)state;
	ft_setup(&t, "latest");
	kvm = kvm_on(t.f->mm, BASE, 4);
	for (int round = 1; round <= 3; round++) {
		assert_int_equal(mmn_kvm_vcpu_write(kvm, 0, 0x101, 100 + round), 0);
		assert_int_equal(mmn_kvm_spte(kvm, 0x101, &si), 0);
		assert_true(si.present && si.write);
		assert_int_equal(mmn_file_writeback(t.file, 0, 0), 1);
		assert_int_equal(disk(&t, PG), 100 + round);
		assert_int_equal(mmn_kvm_spte(kvm, 0x101, &si), 0);
		assert_false(si.present && si.write);
		assert_int_equal(mmn_audit(t.f->sim), 0);
		assert_int_equal(fb_read(t.other, 1, FBASE + PG), 100 + round);
	}
	assert_int_equal(mmn_kvm_vcpu_read(kvm, 1, 0x101, &v), 0);
	assert_int_equal(v, 103);
	mmn_kvm_destroy(kvm);
	ft_teardown(&t, 0);
}

/* An HMM mirror of a file mapping: each writeback takes the device's write
 * permission (PROTECTION_PAGE: downgraded or erased, as its era lets it
 * tell), so the next device store faults, re-dirties the page and reaches
 * the disk at the next writeback; no stale translation at any point. */
static void test_writeback_with_hmm_mirror_loses_no_device_store(void **state)
{
	struct ft t;
	struct mmn_hmm *m;
	struct mmn_hmm_stats st;
	uint64_t v;

	(void)state;
	ft_setup(&t, "latest");
	assert_int_equal(mmn_hmm_create(t.f->mm, BASE, 4 * PG, NULL, &m), 0);
	for (uint64_t round = 1; round <= 3; round++) {
		v = 200 + round;
		assert_true(mmn_hmm_write(m, BASE + 2 * PG, 1, &v) >= 0);
		assert_int_equal(mmn_file_writeback(t.file, 0, 0), 1);
		assert_int_equal(disk(&t, 2 * PG), 200 + round);
		assert_int_equal(mmn_audit(t.f->sim), 0);
	}
	assert_int_equal(mmn_hmm_get_stats(m, &st), 0);
	assert_int_equal(st.writes, 3);
	assert_true(st.downgraded + st.zapped >= 3);
	assert_int_equal(mmn_hmm_destroy(m), 0);
	ft_teardown(&t, 0);
}

/* ---- unmap_mapping_range(): truncate, hole punch, MADV_REMOVE ---- */

struct cache_probe {
	struct ft *t;
	unsigned long off;
	int ends, cached_at_end;
};

static void end_sees_cache(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct cache_probe *p = arg;

	(void)r;
	if (e->kind != REC_END)
		return;
	p->ends++;
	if (mmn_file_cached(p->t->file, p->off))
		p->cached_at_end++;
}

/* truncate_pagecache(): CLEAR per mapping, twice; pages leave the cache
 * after the first zap; faults past the new size get SIGBUS. */
static void test_truncate_zaps_every_mapping_then_drops_the_cache(void **state)
{
	struct ft t;
	struct recorder r1, r2;
	struct cache_probe p = { .off = 2 * PG };
	unsigned long pfn;
	uint64_t v;

	(void)state;
	ft_setup(&t, "latest");
	p.t = &t;
	for (int i = 0; i < 4; i++)
		fb_write(t.f->mm, 0, BASE + i * PG, 20 + i);
	assert_int_equal(fb_read(t.other, 1, FBASE + 3 * PG), 23);
	pfn = mmn_file_cached(t.file, 2 * PG);
	assert_int_equal(rec_init(&r1, t.f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&r2, t.f->sim, REC_OPS_START_END, 16), 0);
	r1.hook = end_sees_cache;
	r1.hook_arg = &p;
	assert_int_equal(rec_register(&r1, t.f->mm), 0);
	assert_int_equal(rec_register(&r2, t.other), 0);
	assert_int_equal(mmn_file_truncate(t.file, 2 * PG), 0);
	assert_int_equal(rec_count_kind(&r1, REC_START), 2);
	assert_int_equal(rec_count_kind(&r2, REC_START), 2);
	for (size_t i = 0; i < 2; i++) {
		const struct rec_event *e1 = rec_find(&r1, REC_START, i);
		const struct rec_event *e2 = rec_find(&r2, REC_START, i);

		assert_int_equal(e1->event, MMN_NOTIFY_CLEAR);
		assert_int_equal(e1->start, BASE + 2 * PG);
		assert_int_equal(e1->end, BASE + 4 * PG);
		assert_int_equal(e2->start, FBASE + 2 * PG);
		assert_int_equal(e2->end, FBASE + 4 * PG);
	}
	/* First pass: the page was still cached at E; second pass: gone. */
	assert_int_equal(p.ends, 2);
	assert_int_equal(p.cached_at_end, 1);
	assert_int_equal(mmn_file_cached(t.file, 2 * PG), 0);
	assert_true(fb_page(t.f, pfn).flags & MMN_PG_FREE);
	assert_int_equal(fb_entry(t.f->mm, BASE + 2 * PG), 0);
	assert_int_equal(fb_entry(t.other, FBASE + 3 * PG), 0);
	assert_int_equal(mmn_cpu_read(t.f->mm, 0, BASE + 2 * PG, &v), -EFAULT);
	assert_int_equal(fb_read(t.other, 1, FBASE + PG), 21);
	/* A: pages 2 and 3; other: page 3 only. */
	assert_int_equal(fb_stats(t.f, MMN_OP_UNMAP_MAPPING).pages_changed, 3);
	/* Growing back: the truncated pages read as zeros. */
	assert_int_equal(mmn_file_truncate(t.file, 4 * PG), 0);
	assert_int_equal(fb_read(t.f->mm, 0, BASE + 3 * PG), 0);
	rec_unregister(&r1);
	rec_unregister(&r2);
	rec_fini(&r1);
	rec_fini(&r2);
	ft_teardown(&t, 0);
}

static void test_punch_hole_zaps_once_and_zeroes_the_blocks(void **state)
{
	struct ft t;
	struct recorder r;

	(void)state;
	ft_setup(&t, "latest");
	for (int i = 0; i < 4; i++)
		fb_write(t.f->mm, 0, BASE + i * PG, 30 + i);
	assert_int_equal(mmn_file_writeback(t.file, 0, 0), 4);
	assert_int_equal(rec_init(&r, t.f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&r, t.other), 0);
	assert_int_equal(mmn_file_punch_hole(t.file, PG, 2 * PG), 0);
	assert_int_equal(rec_count_kind(&r, REC_START), 1);
	assert_int_equal(rec_find(&r, REC_START, 0)->start, FBASE + PG);
	assert_int_equal(rec_find(&r, REC_START, 0)->end, FBASE + 3 * PG);
	assert_int_equal(disk(&t, PG), 0);
	assert_int_equal(disk(&t, 3 * PG), 33);
	assert_int_equal(fb_read(t.f->mm, 0, BASE + PG), 0);
	assert_int_equal(fb_read(t.f->mm, 0, BASE + 3 * PG), 33);
	rec_unregister(&r);
	rec_fini(&r);
	ft_teardown(&t, 0);
}

/* Before 5.2 the zap's range is UNMAP to listeners. */
static void test_truncate_event_is_unmap_before_5_2(void **state)
{
	struct ft t;
	struct recorder r;

	(void)state;
	ft_setup(&t, "4.15");
	fb_write(t.f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, t.f->sim, REC_OPS_LEGACY, 16), 0);
	assert_int_equal(rec_register(&r, t.f->mm), 0);
	assert_int_equal(mmn_file_punch_hole(t.file, 0, PG), 0);
	assert_int_equal(rec_find(&r, REC_START, 0)->event, MMN_NOTIFY_UNMAP);
	rec_unregister(&r);
	rec_fini(&r);
	ft_teardown(&t, 0);
}

/* madvise(MADV_REMOVE) on shared anonymous memory (shmem_fallocate()) and
 * on a file; refused for private or read-only mappings. */
static void test_madvise_remove_punches_the_object(void **state)
{
	struct ft t;
	struct recorder r;
	unsigned long got;

	(void)state;
	ft_setup(&t, "latest");
	fb_map(t.f, BASE + 16 * PG, 2 * PG, SHARED);
	fb_write(t.f->mm, 0, BASE + 17 * PG, 5);
	fb_write(t.f->mm, 0, BASE + 2 * PG, 6);
	assert_int_equal(rec_init(&r, t.f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&r, t.f->mm), 0);
	assert_int_equal(mmn_madvise(t.f->mm, BASE + 17 * PG, PG, MMN_MADV_REMOVE), 0);
	assert_int_equal(rec_find(&r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_find(&r, REC_START, 0)->start, BASE + 17 * PG);
	assert_int_equal(fb_read(t.f->mm, 0, BASE + 17 * PG), 0);
	assert_int_equal(mmn_madvise(t.f->mm, BASE + 2 * PG, PG, MMN_MADV_REMOVE), 0);
	assert_int_equal(fb_read(t.other, 1, FBASE + 2 * PG), 0);
	/* Refusals, nothing punched. */
	fb_write(t.f->mm, 0, BASE + 2 * PG, 7);
	fb_map(t.f, BASE + 32 * PG, PG, ANON);
	assert_int_equal(mmn_madvise(t.f->mm, BASE + 32 * PG, PG, MMN_MADV_REMOVE), -EINVAL);
	assert_int_equal(mmn_mmap_file(t.f->mm, BASE + 40 * PG, PG, MMN_PROT_READ,
				       MMN_MAP_SHARED | FIXED, t.file, 0, &got),
			 0);
	assert_int_equal(mmn_madvise(t.f->mm, BASE + 40 * PG, PG, MMN_MADV_REMOVE), -EACCES);
	assert_int_equal(mmn_madvise(t.f->mm, BASE + 48 * PG, PG, MMN_MADV_REMOVE), -ENOMEM);
	assert_int_equal(fb_read(t.other, 1, FBASE + 2 * PG), 7);
	rec_unregister(&r);
	rec_fini(&r);
	ft_teardown(&t, 0);
}

static void test_truncate_with_kvm_stays_audit_clean(void **state)
{
	struct ft t;
	struct mmn_kvm *kvm;
	struct mmn_kvm_spte_info si;
	uint64_t v;

	(void)state;
	ft_setup(&t, "latest");
	kvm = kvm_on(t.f->mm, BASE, 4);
	assert_int_equal(mmn_kvm_vcpu_write(kvm, 0, 0x103, 9), 0);
	assert_int_equal(mmn_kvm_vcpu_write(kvm, 0, 0x100, 8), 0);
	assert_int_equal(mmn_file_truncate(t.file, PG), 0);
	assert_int_equal(mmn_kvm_spte(kvm, 0x103, &si), 0);
	assert_false(si.present);
	assert_int_equal(mmn_audit(t.f->sim), 0);
	assert_int_equal(mmn_kvm_vcpu_read(kvm, 0, 0x103, &v), -EFAULT); /* SIGBUS */
	assert_int_equal(mmn_kvm_vcpu_read(kvm, 0, 0x100, &v), 0);
	assert_int_equal(v, 8);
	mmn_kvm_destroy(kvm);
	ft_teardown(&t, 0);
}

static void test_file_bad_input(void **state)
{
	struct ft t;
	unsigned long got;
	uint64_t v;

	(void)state;
	ft_setup(&t, "latest");
	errno = 0;
	assert_null(mmn_file_create(NULL, PG));
	assert_int_equal(errno, EINVAL);
	assert_null(mmn_file_create(t.f->sim, 0));
	mmn_file_put(NULL);
	assert_int_equal(mmn_mmap_file(NULL, 0, PG, RW, MMN_MAP_SHARED, t.file, 0, &got), -EINVAL);
	assert_int_equal(mmn_mmap_file(t.f->mm, 0, PG, RW, MMN_MAP_SHARED, NULL, 0, &got), -EINVAL);
	assert_int_equal(mmn_mmap_file(t.f->mm, 0, PG, RW, MMN_MAP_PRIVATE, t.file, 0, &got),
			 -EINVAL);
	assert_int_equal(mmn_mmap_file(t.f->mm, 0, PG, RW, MMN_MAP_SHARED | MMN_MAP_ANONYMOUS,
				       t.file, 0, &got),
			 -EINVAL);
	assert_int_equal(mmn_mmap_file(t.f->mm, 0, PG, RW, MMN_MAP_SHARED, t.file, 1, &got),
			 -EINVAL);
	assert_int_equal(mmn_mmap_file(t.f->mm, 0, 2 * PG, RW, MMN_MAP_SHARED, t.file, 3 * PG, &got),
			 -EINVAL);
	assert_int_equal(mmn_file_writeback(NULL, 0, 0), -EINVAL);
	assert_int_equal(mmn_file_writeback(t.file, 1, 0), -EINVAL);
	assert_int_equal(mmn_file_truncate(NULL, 0), -EINVAL);
	assert_int_equal(mmn_file_truncate(t.file, 5 * PG), -EFBIG);
	assert_int_equal(mmn_file_punch_hole(NULL, 0, PG), -EINVAL);
	assert_int_equal(mmn_file_punch_hole(t.file, 1, PG), -EINVAL);
	assert_int_equal(mmn_file_punch_hole(t.file, 0, 5 * PG), -EINVAL);
	assert_int_equal(mmn_file_read_disk(t.file, 4 * PG, &v), -EINVAL);
	assert_int_equal(mmn_file_read_disk(t.file, 0, NULL), -EINVAL);
	assert_int_equal(mmn_file_cached(NULL, 0), 0);
	assert_int_equal(mmn_file_cached(t.file, 4 * PG), 0);
	ft_teardown(&t, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_file_pages_are_shared_by_every_mapping),
		cmocka_unit_test(test_file_load_maps_read_only_and_store_dirties_the_page),
		cmocka_unit_test(test_writeback_mkclean_sequence_latest),
		cmocka_unit_test(test_writeback_notifies_every_mapping),
		cmocka_unit_test(test_writeback_mkclean_sequence_6_5),
		cmocka_unit_test(test_writeback_event_is_unmap_before_5_2),
		cmocka_unit_test(test_writeback_invalidate_page_under_ptl_4_12),
		cmocka_unit_test(test_writeback_with_kvm_stays_audit_clean),
		cmocka_unit_test(test_writeback_with_hmm_mirror_loses_no_device_store),
		cmocka_unit_test(test_truncate_zaps_every_mapping_then_drops_the_cache),
		cmocka_unit_test(test_punch_hole_zaps_once_and_zeroes_the_blocks),
		cmocka_unit_test(test_truncate_event_is_unmap_before_5_2),
		cmocka_unit_test(test_madvise_remove_punches_the_object),
		cmocka_unit_test(test_truncate_with_kvm_stays_audit_clean),
		cmocka_unit_test(test_file_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
