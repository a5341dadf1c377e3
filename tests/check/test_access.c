// SPDX-License-Identifier: MIT
/*
 * The access-time stale-translation check (mmn_check_secondary_access())
 * and block translations, both ways: the same access through the same old
 * translation is legal for a listener told at the TLB flush and illegal for
 * one told at start; a block whose frames partly went stale is caught page
 * by page, a coherent one is silent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define PG MMN_PAGE_SIZE
#define BASE 0x40000000UL

/*
 * A toy secondary MMU holding one translation (a 4 KiB page or a block).
 * Told at start: it would drop the entry in invalidate_range_start; told at
 * the TLB flush: in arch_invalidate_secondary_tlbs / invalidate_range. With
 * @keep it keeps the entry whatever it is told (the bug under test).
 */
struct toy {
	struct mmn_notifier mn;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_secondary_block t;
	bool valid, keep;
	unsigned long drops;
};

static void toy_drop(struct toy *d, unsigned long start, unsigned long end)
{
	if (d->valid && !d->keep && d->t.addr < end && d->t.addr + d->t.size > start) {
		d->valid = false;
		d->drops++;
	}
}

static int toy_start(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	toy_drop((struct toy *)sub, r->start, r->end);
	return 0;
}

static void toy_flush(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
		      unsigned long end)
{
	(void)mm;
	toy_drop((struct toy *)sub, start, end);
}

static void toy_end(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	(void)sub;
	(void)r;
}

static const struct mmn_notifier_ops toy_start_ops = {
	.invalidate_range_start = toy_start,
	.invalidate_range_end = toy_end,
};
static const struct mmn_notifier_ops toy_flush_ops = {
	.arch_invalidate_secondary_tlbs = toy_flush,
	.invalidate_range = toy_flush,
};

static void toy_iter(void *ctx, mmn_secondary_emit_block_fn emit, void *cookie)
{
	struct toy *d = ctx;

	if (d->valid)
		emit(cookie, &d->t);
}

static void toy_init(struct toy *d, struct mmn_mm *mm, enum mmn_secondary_told told, bool keep,
		     const char *name)
{
	memset(d, 0, sizeof(*d));
	d->sim = mmn_mm_sim(mm);
	d->mm = mm;
	d->keep = keep;
	d->mn.ops = told == MMN_SECONDARY_TOLD_AT_START ? &toy_start_ops : &toy_flush_ops;
	assert_int_equal(mmn_check_register_secondary_blocks(d->sim, name, toy_iter, d, told), 0);
	assert_int_equal(mmn_check_secondary_link(d->sim, d, &d->mn), 0);
	assert_int_equal(mmn_notifier_register(&d->mn, mm), 0);
}

static void toy_fini(struct toy *d)
{
	mmn_notifier_unregister(&d->mn, d->mm);
	assert_int_equal(mmn_check_unregister_secondary(d->sim, d), 0);
}

/* Translate @addr as the primary maps it now: a 2 MiB block for a PMD leaf. */
static void toy_fill(struct toy *d, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(d->mm, addr, &w), 0);
	assert_true(mmn_pte_present(w.entry));
	d->t = (struct mmn_secondary_block){ .mm = d->mm, .addr = addr & MMN_PAGE_MASK,
					     .size = PG, .pfn = w.pfn, .gen = w.gen,
					     .write = mmn_pte_write(w.entry) };
	if (w.level == MMN_PT_PMD) {
		d->t.addr = addr & MMN_PMD_MASK;
		d->t.size = MMN_PMD_SIZE;
		d->t.pfn = w.pfn - ((addr - d->t.addr) >> MMN_PAGE_SHIFT);
	}
	d->valid = true;
}

/* The listener's access: 1 if the check reported it, 0 if not, -1 if the
 * toy holds no translation (it would fault). */
static int toy_access(struct toy *d, unsigned long addr, bool write)
{
	if (!d->valid)
		return -1;
	return mmn_check_secondary_access(d->sim, d, &d->t, addr, write);
}

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
};

static void fx_init(struct fx *f, const char *profile)
{
	struct mmn_sim_config cfg;
	unsigned long got;

	mmn_sim_config_init(&cfg);
	cfg.profile = profile;
	cfg.nr_cpus = 2;
	cfg.nr_frames = 2048;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	assert_int_equal(mmn_mmap(f->mm, BASE, 4 * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	for (unsigned long i = 0; i < 4; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, BASE + i * PG, 100 + i), 0);
}

static void fx_fini(struct fx *f)
{
	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
}

/* ---- the rule per listener kind ------------------------------------------ */

/*
 * Two listeners that keep their old writable translation of BASE through
 * mprotect(READ): one told at start, one told at the TLB flush. Where the
 * hook stands (the told-at-start one's invalidate_range_end is about to be
 * called: the PTE is read-only, 6.x's mmu_gather flushes only after the
 * end), each stores once through its translation.
 */
struct window {
	struct toy *at_start, *at_flush;
	int start_verdict, flush_verdict;
	bool flush_seen_before; /* the TLB-flush listener was flushed already */
	bool fired;
};

static void window_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct window *w = arg;

	(void)sim;
	if (w->fired || ev->kind != MMN_SCHED_CALLBACK_ENTER || ev->obj != &w->at_start->mn ||
	    !ev->name || strcmp(ev->name, "invalidate_range_end") != 0)
		return;
	w->fired = true;
	w->flush_seen_before = w->at_flush->drops > 0;
	w->start_verdict = toy_access(w->at_start, BASE, true);
	w->flush_verdict = toy_access(w->at_flush, BASE, true);
}

static void run_window(const char *profile, bool keep, struct window *w, struct fx *f,
		       struct toy *a, struct toy *b)
{
	fx_init(f, profile);
	toy_init(a, f->mm, MMN_SECONDARY_TOLD_AT_START, keep, "told-at-start");
	toy_init(b, f->mm, MMN_SECONDARY_TOLD_AT_TLB_FLUSH, keep, "told-at-flush");
	memset(w, 0, sizeof(*w));
	w->at_start = a;
	w->at_flush = b;
	toy_fill(a, BASE);
	toy_fill(b, BASE);
	assert_true(a->t.write && b->t.write);
	mmn_sched_set_hook(f->sim, window_hook, w);
	assert_int_equal(mmn_mprotect(f->mm, BASE, PG, MMN_PROT_READ), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_true(w->fired);
}

/* The same store at the same point: illegal told at start, legal told at
 * the flush; after mprotect() returns, illegal for both. */
static void test_old_translation_legal_until_told_per_kind(void **state)
{
	struct fx f;
	struct toy a, b;
	struct window w;

	(void)state;
	run_window("latest", true, &w, &f, &a, &b);
	assert_false(w.flush_seen_before);
	assert_int_equal(w.start_verdict, 1);
	assert_int_equal(w.flush_verdict, 0);
	assert_non_null(strstr(f.cap.last_msg, "stale translation at access by told-at-start"));
	assert_non_null(strstr(f.cap.last_msg, "the primary maps it read-only"));
	assert_non_null(strstr(f.cap.last_msg,
			       "invalidation in flight: protection_vma [0x40000000, 0x40001000)"));
	assert_int_equal(f.cap.last.addr, BASE);
	assert_int_equal(f.cap.last.pfn, a.t.pfn);
	/* The flush came (the keeping listener ignored it): both are stale. */
	assert_true(b.drops == 0);
	assert_int_equal(toy_access(&a, BASE, true), 1);
	assert_int_equal(toy_access(&b, BASE, true), 1);
	assert_non_null(strstr(f.cap.last_msg, "invalidation in flight: none"));
	/* Loads through the same entries are coherent: same frame. */
	assert_int_equal(toy_access(&a, BASE, false), 0);
	assert_int_equal(toy_access(&b, BASE, false), 0);
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_STALE_TRANSLATION), 3);
	assert_int_equal(mmn_check_total(f.sim), 3);
	toy_fini(&a);
	toy_fini(&b);
	fx_fini(&f);
}

/* Listeners that drop what they are told: nothing to report, ever. */
static void test_listeners_that_drop_when_told_are_silent(void **state)
{
	struct fx f;
	struct toy a, b;
	struct window w;

	(void)state;
	run_window("latest", false, &w, &f, &a, &b);
	assert_int_equal(w.start_verdict, -1); /* dropped at start: it faults */
	assert_int_equal(w.flush_verdict, 0);  /* not flushed yet: legal */
	assert_false(a.valid);
	assert_false(b.valid);
	assert_int_equal(mmn_check_quiescent(f.sim), 0);
	assert_int_equal(mmn_check_total(f.sim), 0);
	toy_fini(&a);
	toy_fini(&b);
	fx_fini(&f);
}

/* 3.19-6.5: ->invalidate_range runs in range_end, before the end callbacks. */
static void test_pre_66_flush_in_range_end_tells_before_the_end(void **state)
{
	struct fx f;
	struct toy a, b;
	struct window w;

	(void)state;
	run_window("6.5", true, &w, &f, &a, &b);
	assert_int_equal(w.start_verdict, 1);
	/* the hook stands at a's end: b's invalidate_range ran before it if b
	 * comes first in the list, else it is still owed */
	assert_true(w.flush_verdict == 0 || w.flush_verdict == 1);
	assert_int_equal(toy_access(&b, BASE, true), 1);
	toy_fini(&a);
	toy_fini(&b);
	fx_fini(&f);
}

/* ---- blocks ------------------------------------------------------------- */

/* A THP mapped by a PMD leaf at BASE2, its 512 pages written. */
#define BASE2 0x80000000UL

static void thp_map(struct fx *f)
{
	unsigned long got;

	assert_int_equal(mmn_mmap(f->mm, BASE2, MMN_PMD_SIZE, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(mmn_madvise(f->mm, BASE2, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE2, 7), 0);
}

static void test_coherent_block_is_silent(void **state)
{
	struct fx f;
	struct toy d;

	(void)state;
	fx_init(&f, "latest");
	thp_map(&f);
	toy_init(&d, f.mm, MMN_SECONDARY_TOLD_AT_START, false, "block");
	toy_fill(&d, BASE2 + 5 * PG);
	assert_int_equal(d.t.size, MMN_PMD_SIZE);
	assert_int_equal(d.t.addr, BASE2);
	assert_int_equal(toy_access(&d, BASE2, true), 0);
	assert_int_equal(toy_access(&d, BASE2 + 511 * PG, false), 0);
	assert_int_equal(mmn_check_quiescent(f.sim), 0);
	assert_int_equal(mmn_check_total(f.sim), 0);
	toy_fini(&d);
	fx_fini(&f);
}

/* DONTNEED of one 4 KiB page splits the PMD and zaps that page: a block
 * kept whole is stale there and only there. */
static void test_block_partly_stale_is_caught_page_by_page(void **state)
{
	struct fx f;
	struct toy d;
	struct mmn_walk w;

	(void)state;
	fx_init(&f, "latest");
	thp_map(&f);
	toy_init(&d, f.mm, MMN_SECONDARY_TOLD_AT_START, true, "block");
	toy_fill(&d, BASE2);
	assert_int_equal(d.t.size, MMN_PMD_SIZE);
	assert_int_equal(mmn_madvise(f.mm, BASE2 + 3 * PG, PG, MMN_MADV_DONTNEED), 0);
	assert_int_equal(mmn_pgtable_walk(f.mm, BASE2 + 4 * PG, &w), 0);
	assert_int_equal(w.level, MMN_PT_PTE); /* split */
	assert_int_equal(w.pfn, d.t.pfn + 4);
	assert_int_equal(toy_access(&d, BASE2 + 3 * PG, false), 1);
	assert_non_null(strstr(f.cap.last_msg, "the primary maps no frame"));
	assert_non_null(strstr(f.cap.last_msg, "(a 0x200000 block)"));
	assert_int_equal(f.cap.last.pfn, d.t.pfn + 3);
	assert_int_equal(toy_access(&d, BASE2 + 4 * PG, true), 0);
	assert_int_equal(toy_access(&d, BASE2, false), 0);
	assert_int_equal(mmn_check_quiescent(f.sim), 1);
	assert_int_equal(f.cap.last.addr, BASE2 + 3 * PG);
	assert_int_equal(mmn_check_total(f.sim), 2);
	toy_fini(&d);
	fx_fini(&f);
}

/* ---- arithmetic onto a frame that belongs elsewhere ------------------------ */

/* A translation computed by pfn arithmetic (the arm64 stale vma_lookup()
 * shape): the frame is live and allocated, just not the one mapped here. */
static void test_frame_computed_elsewhere_is_caught(void **state)
{
	struct fx f;
	struct toy d;
	struct mmn_walk w;

	(void)state;
	fx_init(&f, "latest");
	toy_init(&d, f.mm, MMN_SECONDARY_TOLD_AT_START, false, "arith");
	toy_fill(&d, BASE);
	assert_int_equal(mmn_pgtable_walk(f.mm, BASE + PG, &w), 0);
	d.t.addr = BASE + PG;   /* the next page ... */
	d.t.pfn = d.t.pfn + 1;  /* ... assumed contiguous */
	if (d.t.pfn == w.pfn)
		d.t.pfn += 2;   /* the allocator happened to make it right */
	assert_int_equal(toy_access(&d, BASE + PG, false), 1);
	assert_non_null(strstr(f.cap.last_msg, "the primary maps frame"));
	toy_fini(&d);
	fx_fini(&f);
}


/* ---- the IOMMU's superpage entries ----------------------------------------- */

/* A DMA into a THP caches one 2 MiB entry: a DMA elsewhere in the 2 MiB hits
 * it; mprotect(READ) of one page splits the PMD and flushes the superpage
 * (its flush callback covers it), so a store there faults and is refused.
 * With the flush skipped (a broken driver), the store through the kept
 * superpage is caught at access time, and only there. */
static void iommu_superpage(bool skip_flush, unsigned long *stale, unsigned long *hits)
{
	struct mmn_iommu_config ic;
	struct mmn_iommu_stats st;
	struct mmn_iommu *io;
	struct fx f;
	uint64_t v = 0;
	int pasid, r;

	fx_init(&f, "latest");
	thp_map(&f);
	mmn_iommu_config_init(&ic);
	ic.skip_flush = skip_flush;
	io = mmn_iommu_create(f.sim, &ic);
	assert_non_null(io);
	assert_int_equal(mmn_iommu_bind(io, f.mm, &pasid), 0);
	assert_int_equal(mmn_iommu_dma_read(io, pasid, BASE2, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(mmn_iommu_dma_write(io, pasid, BASE2 + 9 * PG, 9), 0);
	assert_int_equal(mmn_iommu_get_stats(io, &st), 0);
	*hits = st.atc_hits + st.iotlb_hits;
	assert_int_equal(st.walks, 1); /* one walk, one 2 MiB entry */
	/* A flush of one 4 KiB page inside it drops the whole superpage (and,
	 * with skip_flush, nothing): the next DMA walks again, or hits. */
	mmn_notifier_arch_invalidate_secondary_tlbs(f.mm, BASE2 + 9 * PG, BASE2 + 10 * PG);
	assert_int_equal(mmn_iommu_dma_read(io, pasid, BASE2 + 2 * PG, &v), 0);
	assert_int_equal(mmn_iommu_get_stats(io, &st), 0);
	assert_int_equal(st.walks, skip_flush ? 1 : 2);
	assert_int_equal(mmn_mprotect(f.mm, BASE2 + 9 * PG, PG, MMN_PROT_READ), 0);
	r = mmn_iommu_dma_write(io, pasid, BASE2 + 9 * PG, 10);
	assert_int_equal(r, skip_flush ? 0 : -EACCES);
	assert_int_equal(mmn_iommu_dma_write(io, pasid, BASE2 + 10 * PG, 11), 0);
	*stale = mmn_check_count(f.sim, MMN_VIOL_STALE_TRANSLATION);
	if (*stale)
		assert_non_null(strstr(f.cap.last_msg, "store of 0x80009000 through frame"));
	if (*stale)
		assert_non_null(strstr(f.cap.last_msg, "(a 0x200000 block), the primary maps it "
						       "read-only; invalidation in flight: none"));
	mmn_iommu_destroy(io);
	fx_fini(&f);
}

static void test_iommu_superpage_flushed_is_silent(void **state)
{
	unsigned long stale, hits;

	(void)state;
	iommu_superpage(false, &stale, &hits);
	assert_int_equal(hits, 1);
	assert_int_equal(stale, 0);
}

static void test_iommu_superpage_kept_is_caught(void **state)
{
	unsigned long stale, hits;

	(void)state;
	iommu_superpage(true, &stale, &hits);
	assert_int_equal(hits, 1);
	assert_int_equal(stale, 1);
}

/* ---- bad input ----------------------------------------------------------- */

static void test_bad_input_is_refused(void **state)
{
	struct fx f;
	struct toy d;
	struct mmn_secondary_block b;
	int other;

	(void)state;
	fx_init(&f, "latest");
	toy_init(&d, f.mm, MMN_SECONDARY_TOLD_AT_START, false, "bad");
	toy_fill(&d, BASE);
	b = d.t;
	assert_int_equal(mmn_check_secondary_access(NULL, &d, &b, BASE, false), -EINVAL);
	assert_int_equal(mmn_check_secondary_access(f.sim, NULL, &b, BASE, false), -EINVAL);
	assert_int_equal(mmn_check_secondary_access(f.sim, &d, NULL, BASE, false), -EINVAL);
	assert_int_equal(mmn_check_secondary_access(f.sim, &d, &b, BASE + PG, false), -EINVAL);
	assert_int_equal(mmn_check_secondary_access(f.sim, &d, &b, BASE - 1, false), -EINVAL);
	b.mm = NULL;
	assert_int_equal(mmn_check_secondary_access(f.sim, &d, &b, BASE, false), -EINVAL);
	b = d.t;
	b.size = 2 * PG;
	assert_int_equal(mmn_check_secondary_access(f.sim, &d, &b, BASE, false), -EINVAL);
	b.size = MMN_PMD_SIZE; /* BASE + ... is not 2 MiB aligned for this one */
	b.addr = BASE + PG;
	assert_int_equal(mmn_check_secondary_access(f.sim, &d, &b, BASE + PG, false), -EINVAL);
	b = d.t;
	assert_int_equal(mmn_check_secondary_access(f.sim, &other, &b, BASE, false), -ENOENT);
	assert_int_equal(mmn_check_register_secondary_blocks(f.sim, "x", toy_iter, &other,
							     (enum mmn_secondary_told)7),
			 -EINVAL);
	assert_int_equal(mmn_check_register_secondary_blocks(f.sim, "x", NULL, &other,
							     MMN_SECONDARY_TOLD_AT_START),
			 -EINVAL);
	assert_int_equal(mmn_check_register_secondary_blocks(f.sim, "x", toy_iter, &d,
							     MMN_SECONDARY_TOLD_AT_START),
			 -EEXIST);
	assert_int_equal(mmn_check_secondary_link(f.sim, &d, &d.mn), -EEXIST);
	assert_int_equal(mmn_check_secondary_link(f.sim, &other, &d.mn), -ENOENT);
	assert_int_equal(mmn_check_secondary_link(f.sim, &d, NULL), -EINVAL);
	assert_int_equal(mmn_check_secondary_unlink(f.sim, &d, &other), -ENOENT);
	assert_int_equal(mmn_check_secondary_unlink(NULL, &d, &d.mn), -EINVAL);
	assert_int_equal(mmn_check_secondary_unlink(f.sim, &d, &d.mn), 0);
	assert_int_equal(mmn_check_secondary_link(f.sim, &d, &d.mn), 0);
	assert_int_equal(mmn_check_total(f.sim), 0);
	toy_fini(&d);
	fx_fini(&f);
}

/*
 * The transient none of make_device_exclusive(): an access through a kept
 * translation to the page while its entry is cleared under an EXCLUSIVE
 * invalidation is excused (the owning mirror skips its own EXCLUSIVE and
 * the exclusive entry maps the same page); the same access under a CLEAR
 * invalidation is reported. Returns the check's verdict of the store.
 */
static int store_in_transient_none(enum mmn_notify_event event)
{
	struct mmn_notifier_range range;
	struct mmn_pte_slot slot;
	mmn_pte_t old;
	struct fx f;
	struct toy d;
	int verdict;

	fx_init(&f, "latest");
	toy_init(&d, f.mm, MMN_SECONDARY_TOLD_AT_START, true, "owner");
	toy_fill(&d, BASE);
	assert_int_equal(mmn_corepath_range_init(&range, event, f.mm, BASE, BASE + PG, &d), 0);
	assert_int_equal(mmn_corepath_range_start(&range), 0);
	mmn_mmap_read_lock(f.mm);
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, BASE, &slot), 0);
	assert_int_equal(mmn_ptep_get_and_clear(&slot, &old), 0);
	verdict = toy_access(&d, BASE, true);
	assert_int_equal(mmn_set_pte_at(&slot, old), 0);
	assert_int_equal(mmn_pte_unmap_unlock(&slot), 0);
	mmn_mmap_read_unlock(f.mm);
	assert_int_equal(mmn_corepath_range_end(&range), 0);
	toy_fini(&d);
	fx_fini(&f);
	return verdict;
}

static void test_exclusive_transient_none_is_excused_clear_is_not(void **state)
{
	(void)state;
	assert_int_equal(store_in_transient_none(MMN_NOTIFY_EXCLUSIVE), 0);
	assert_int_equal(store_in_transient_none(MMN_NOTIFY_CLEAR), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_old_translation_legal_until_told_per_kind),
		cmocka_unit_test(test_listeners_that_drop_when_told_are_silent),
		cmocka_unit_test(test_pre_66_flush_in_range_end_tells_before_the_end),
		cmocka_unit_test(test_coherent_block_is_silent),
		cmocka_unit_test(test_block_partly_stale_is_caught_page_by_page),
		cmocka_unit_test(test_frame_computed_elsewhere_is_caught),
		cmocka_unit_test(test_iommu_superpage_flushed_is_silent),
		cmocka_unit_test(test_iommu_superpage_kept_is_caught),
		cmocka_unit_test(test_bad_input_is_refused),
		cmocka_unit_test(test_exclusive_transient_none_is_excused_clear_is_not),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
