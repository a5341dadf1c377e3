// SPDX-License-Identifier: MIT
/*
 * The notifying skeleton shared by every operation, per kernel profile:
 * munmap (UNMAP), the COW fault (CLEAR), exit_mmap (release, then UNMAP),
 * with the recording listener checking the kernel's step order, where the
 * PTL is held, which secondary-flush callback runs where, and that pages are
 * freed only after every flush.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h"
#include "support/capture.h"
#include "support/recorder.h"

#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define PG MMN_PAGE_SIZE

struct fixture {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	struct recorder kvm;   /* start/end subscriber */
	struct recorder sva;   /* secondary-TLB subscriber */
	unsigned long base;
};

static struct fixture *fixture_new(const char *profile, enum rec_ops_mode sva_mode)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 256;
	cfg.profile = profile;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON, &f->base), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, f->base + i * PG, i + 1), 0);
	assert_int_equal(rec_init(&f->kvm, f->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_init(&f->sva, f->sim, sva_mode, 64), 0);
	rec_watch_lock(&f->kvm, &mmn_pt_walk(f->mm, f->base, MMN_LVL_PTE)->ptl, "ptl");
	rec_watch_lock(&f->sva, &mmn_pt_walk(f->mm, f->base, MMN_LVL_PTE)->ptl, "ptl");
	assert_int_equal(rec_register(&f->kvm, f->mm), 0);
	assert_int_equal(rec_register(&f->sva, f->mm), 0);
	return f;
}

static void fixture_free(struct fixture *f)
{
	/* The watched PTL may have been freed with its page table. */
	rec_unwatch_locks(&f->kvm);
	rec_unwatch_locks(&f->sva);
	if (f->kvm.mm)
		rec_unregister(&f->kvm);
	if (f->sva.mm)
		rec_unregister(&f->sva);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(f->cap.n, 0);
	mmn_mm_put(f->mm);
	rec_fini(&f->kvm);
	rec_fini(&f->sva);
	mmn_sim_destroy(f->sim);
	free(f);
}

/* Records, at every secondary flush, whether the watched frame is already free. */
struct free_probe {
	struct mmn_sim *sim;
	unsigned long pfn;
	int flushes, freed_before_flush;
};

static void probe_hook(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct free_probe *p = arg;
	struct mmn_page_info info;

	(void)r;
	if (e->kind != REC_ARCH_INVALIDATE && e->kind != REC_INVALIDATE_RANGE)
		return;
	mmn_page_info(p->sim, p->pfn, &info);
	p->flushes++;
	if (info.flags & MMN_PG_FREE)
		p->freed_before_flush++;
}

static unsigned long pfn_of(struct fixture *f, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(f->mm, addr, &w), 0);
	return w.pfn;
}

/* latest: start(UNMAP) → zap under the PTL → end → tlb_finish_mmu, whose
 * CPU flush carries arch_invalidate_secondary_tlbs, before the free. */
static void test_munmap_latest_notifies_unmap_and_flushes_secondary_tlbs_with_the_cpu(void **s)
{
	struct fixture *f = fixture_new("latest", REC_OPS_SECONDARY_TLB);
	struct free_probe probe = { .sim = f->sim, .pfn = pfn_of(f, f->base) };
	const enum rec_kind kvm_seq[] = { REC_START, REC_END };
	const struct rec_event *st, *en, *fl;
	struct mmn_op_stats os;

	(void)s;
	f->sva.hook = probe_hook;
	f->sva.hook_arg = &probe;
	assert_int_equal(mmn_munmap(f->mm, f->base, 4 * PG), 0);
	assert_true(rec_kinds_are(&f->kvm, kvm_seq, 2));
	st = rec_find(&f->kvm, REC_START, 0);
	en = rec_find(&f->kvm, REC_END, 0);
	assert_int_equal(st->event, MMN_NOTIFY_UNMAP);
	assert_int_equal(st->start, f->base);
	assert_int_equal(st->end, f->base + 4 * PG);
	assert_int_equal(en->start, st->start);
	assert_int_equal(en->end, st->end);
	assert_true(st->flags & MMN_NOTIFIER_RANGE_BLOCKABLE);
	assert_int_equal(st->held, 0); /* never under the PTL */
	/* The secondary TLB is flushed once, by the gather's flush after end,
	 * before the pages are freed. */
	assert_int_equal(rec_count(&f->sva), 1);
	fl = rec_find(&f->sva, REC_ARCH_INVALIDATE, 0);
	assert_non_null(fl);
	assert_true(fl->stamp > en->stamp);
	assert_true(fl->start <= f->base && fl->end >= f->base + 4 * PG);
	assert_int_equal(probe.flushes, 1);
	assert_int_equal(probe.freed_before_flush, 0);
	mmn_op_get_stats(f->sim, MMN_OP_MUNMAP, &os);
	assert_int_equal(os.calls, 1);
	assert_int_equal(os.ranges, 1);
	assert_int_equal(os.pages_changed, 4);
	fixture_free(f);
}

/* 6.5: the same bracket, but end calls ->invalidate_range before
 * ->invalidate_range_end, and tlb_flush_mmu_tlbonly() calls it again. */
static void test_munmap_6_5_calls_invalidate_range_at_end_and_from_the_gather(void **s)
{
	struct fixture *f = fixture_new("6.5", REC_OPS_LEGACY);
	struct free_probe probe = { .sim = f->sim, .pfn = pfn_of(f, f->base) };
	const enum rec_kind seq[] = { REC_START, REC_INVALIDATE_RANGE, REC_END,
				      REC_INVALIDATE_RANGE };

	(void)s;
	f->sva.hook = probe_hook;
	f->sva.hook_arg = &probe;
	assert_int_equal(mmn_munmap(f->mm, f->base, 4 * PG), 0);
	assert_true(rec_kinds_are(&f->sva, seq, 4));
	assert_int_equal(rec_count_kind(&f->sva, REC_ARCH_INVALIDATE), 0);
	assert_int_equal(probe.freed_before_flush, 0);
	fixture_free(f);
}

/* Before 5.2 a listener cannot tell why it is notified: a COW looks like an
 * unmap. From 5.2 on it sees CLEAR. */
static void test_events_reach_listeners_only_in_profiles_that_have_them(void **s)
{
	const char *profiles[] = { "4.15", "5.2" };
	const enum mmn_notify_event want[] = { MMN_NOTIFY_UNMAP, MMN_NOTIFY_CLEAR };

	(void)s;
	for (int i = 0; i < 2; i++) {
		struct fixture *f = fixture_new(profiles[i], REC_OPS_LEGACY);
		unsigned long other;

		/* A pin makes the page shared: the write-protected store copies. */
		assert_int_equal(mmn_get_user_pages(f->mm, f->base, 0, &other, NULL), 0);
		{
			struct mmn_ptdesc *pt = mmn_pt_walk(f->mm, f->base, MMN_LVL_PTE);
			unsigned int idx = mmn_pt_index(f->base, MMN_LVL_PTE);
			mmn_pte_t e;

			mmn_spin_lock(&pt->ptl);
			e = mmn_pte_get(f->sim, pt, idx, f->base);
			mmn_pte_cmpxchg(f->sim, pt, idx, f->base, e, e & ~MMN_PTE_WRITE);
			mmn_flush_tlb_page(f->mm, f->base);
			mmn_spin_unlock(&pt->ptl);
		}
		rec_reset(&f->kvm);
		assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 42), 0);
		assert_int_equal(rec_find(&f->kvm, REC_START, 0)->event, want[i]);
		assert_int_equal(mmn_unpin_user_page(f->sim, other), 0);
		fixture_free(f);
	}
}

/* Write-protect by hand and pin, so the next store copies (wp_page_copy). */
static void make_cow(struct fixture *f, unsigned long *pinned)
{
	struct mmn_ptdesc *pt = mmn_pt_walk(f->mm, f->base, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(f->base, MMN_LVL_PTE);
	mmn_pte_t e;

	/* The pin forces the copy only where the refcount decides (5.9-5.18
	 * do_wp_page()); 5.19+ would reuse the exclusive page. */
	assert_int_equal(mmn_sim_set_knob(f->sim, "cow_reuse_anon_exclusive", "false"), 0);
	assert_int_equal(mmn_get_user_pages(f->mm, f->base, 0, pinned, NULL), 0);
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(f->sim, pt, idx, f->base);
	mmn_pte_cmpxchg(f->sim, pt, idx, f->base, e, e & ~MMN_PTE_WRITE);
	mmn_flush_tlb_page(f->mm, f->base);
	mmn_spin_unlock(&pt->ptl);
	rec_reset(&f->kvm);
	rec_reset(&f->sva);
}

/* latest COW: start(CLEAR, one page) → [PTL: clear, CPU flush with
 * arch_invalidate_secondary_tlbs, new entry] → end; no change_pte. */
static void test_cow_latest_flushes_secondary_tlbs_under_the_ptl(void **s)
{
	struct fixture *f = fixture_new("latest", REC_OPS_SECONDARY_TLB);
	const enum rec_kind kvm_seq[] = { REC_START, REC_END };
	const struct rec_event *fl;
	unsigned long pinned;

	(void)s;
	make_cow(f, &pinned);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 42), 0);
	assert_true(rec_kinds_are(&f->kvm, kvm_seq, 2));
	assert_int_equal(rec_find(&f->kvm, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_find(&f->kvm, REC_START, 0)->end - rec_find(&f->kvm, REC_START, 0)->start, PG);
	fl = rec_find(&f->sva, REC_ARCH_INVALIDATE, 0);
	assert_non_null(fl);
	assert_int_equal(fl->held, 1); /* under the PTL */
	assert_true(fl->stamp > rec_find(&f->kvm, REC_START, 0)->stamp);
	assert_true(fl->stamp < rec_find(&f->kvm, REC_END, 0)->stamp);
	assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
	fixture_free(f);
}

/* 6.5 COW: invalidate_range at the ptep_clear_flush_notify() site under the
 * PTL, change_pte under the PTL, and only_end: end does not flush again. */
static void test_cow_6_5_flushes_at_the_call_site_and_ends_with_only_end(void **s)
{
	struct fixture *f = fixture_new("6.5", REC_OPS_LEGACY);
	const enum rec_kind seq[] = { REC_START, REC_INVALIDATE_RANGE, REC_CHANGE_PTE, REC_END };
	unsigned long pinned;

	(void)s;
	make_cow(f, &pinned);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 42), 0);
	assert_true(rec_kinds_are(&f->sva, seq, 4));
	assert_int_equal(rec_find(&f->sva, REC_INVALIDATE_RANGE, 0)->held, 1);
	assert_int_equal(rec_find(&f->sva, REC_CHANGE_PTE, 0)->held, 1);
	assert_int_equal(mmn_pte_pfn(rec_find(&f->sva, REC_CHANGE_PTE, 0)->pte), pfn_of(f, f->base));
	assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
	fixture_free(f);
}

/* 4.13 had no only_end: the COW's end flushes again. */
static void test_cow_4_13_ends_with_a_second_flush(void **s)
{
	struct fixture *f = fixture_new("4.13", REC_OPS_LEGACY);
	const enum rec_kind seq[] = { REC_START, REC_INVALIDATE_RANGE, REC_CHANGE_PTE,
				      REC_INVALIDATE_RANGE, REC_END };
	unsigned long pinned;

	(void)s;
	make_cow(f, &pinned);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 42), 0);
	assert_true(rec_kinds_are(&f->sva, seq, 5));
	assert_int_equal(rec_find(&f->sva, REC_INVALIDATE_RANGE, 1)->held, 0);
	assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
	fixture_free(f);
}

/* exit_mmap: mmu_notifier_release() first. As __mmu_notifier_release()
 * does, interval subscribers get their RELEASE invalidation before list
 * subscribers get ->release; the list subscribers are unhashed and see
 * nothing more, while intervals also see the UNMAP teardown after. */
static void test_exit_mmap_releases_first_then_unmaps(void **s)
{
	struct fixture *f = fixture_new("latest", REC_OPS_START_END);
	struct recorder itv;
	const enum rec_kind list_seq[] = { REC_RELEASE };
	const struct rec_event *e0, *e1;

	(void)s;
	assert_int_equal(rec_init(&itv, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_insert_interval(&itv, f->mm, f->base, 4 * PG), 0);
	mmn_mm_get(f->mm);
	mmn_mm_put(f->mm); /* not the last user: nothing */
	assert_int_equal(rec_count(&f->kvm), 0);
	mmn_mmgrab(f->mm);
	mmn_mm_put(f->mm);
	assert_true(rec_kinds_are(&f->kvm, list_seq, 1));
	e0 = rec_at(&itv, 0);
	e1 = rec_at(&itv, 1);
	assert_int_equal(rec_count(&itv), 2);
	assert_int_equal(e0->event, MMN_NOTIFY_RELEASE);
	assert_int_equal(e1->event, MMN_NOTIFY_UNMAP);
	assert_true(e0->stamp < rec_find(&f->kvm, REC_RELEASE, 0)->stamp);
	assert_true(rec_find(&f->kvm, REC_RELEASE, 0)->stamp < e1->stamp);
	assert_int_equal(rec_remove_interval(&itv), 0);
	rec_fini(&itv);
	rec_unwatch_locks(&f->kvm);
	rec_unwatch_locks(&f->sva);
	/* The struct lives on (mmgrab); the listeners were released. */
	f->kvm.mm = NULL;
	f->sva.mm = NULL;
	assert_int_equal(mmn_audit(f->sim), 0);
	mmn_mmdrop(f->mm);
	f->mm = NULL;
	rec_fini(&f->kvm);
	rec_fini(&f->sva);
	assert_int_equal(f->cap.n, 0);
	mmn_sim_destroy(f->sim);
	free(f);
}

/* A range beyond the x86 single-page flush ceiling flushes the CPUs whole,
 * but tells the secondary TLBs the range asked for. */
static void test_large_flush_drops_all_cpu_entries_but_reports_the_range(void **s)
{
	struct fixture *f = fixture_new("latest", REC_OPS_SECONDARY_TLB);
	struct mmn_stats a, b;
	unsigned long far;

	(void)s;
	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &far), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, far, 1), 0);
	mmn_sim_get_stats(f->sim, &a);
	mmn_flush_tlb_range(f->mm, f->base, f->base + 40 * PG);
	mmn_sim_get_stats(f->sim, &b);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, far, NULL), 0); /* dropped too */
	assert_int_equal(rec_find(&f->sva, REC_ARCH_INVALIDATE, 0)->start, f->base);
	assert_int_equal(rec_find(&f->sva, REC_ARCH_INVALIDATE, 0)->end, f->base + 40 * PG);
	assert_int_equal(mmn_sim_set_knob(f->sim, "tlb_flush_ceiling", "64"), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 0, far, &(uint64_t){ 0 }), 0);
	mmn_flush_tlb_range(f->mm, f->base, f->base + 40 * PG);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, far, NULL), 1); /* kept now */
	fixture_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_munmap_latest_notifies_unmap_and_flushes_secondary_tlbs_with_the_cpu),
		cmocka_unit_test(test_munmap_6_5_calls_invalidate_range_at_end_and_from_the_gather),
		cmocka_unit_test(test_events_reach_listeners_only_in_profiles_that_have_them),
		cmocka_unit_test(test_cow_latest_flushes_secondary_tlbs_under_the_ptl),
		cmocka_unit_test(test_cow_6_5_flushes_at_the_call_site_and_ends_with_only_end),
		cmocka_unit_test(test_cow_4_13_ends_with_a_second_flush),
		cmocka_unit_test(test_exit_mmap_releases_first_then_unmaps),
		cmocka_unit_test(test_large_flush_drops_all_cpu_entries_but_reports_the_range),
	};

	return cmocka_run_group_tests_name("notify_order", tests, NULL, NULL);
}
