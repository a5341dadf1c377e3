// SPDX-License-Identifier: MIT
/* TLBs: fills and hits, shootdown over the cpumask, the mmu_gather's order,
 * and the use-after-free check on stale entries (both ways). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h"
#include "support/capture.h"

#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define PG MMN_PAGE_SIZE

struct fixture {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	unsigned long base;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 4;
	cfg.nr_frames = 512;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_int_equal(mmn_mmap(f->mm, 0, 8 * PG, RW, ANON, &f->base), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

static void test_first_access_fills_and_second_hits(void **state)
{
	struct fixture *f = *state;
	struct mmn_tlb_entry_info e;
	struct mmn_stats a, b;
	uint64_t v;

	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base, NULL), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 42), 0);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base, &e), 1);
	assert_true(e.write);
	assert_false(e.huge);
	assert_int_equal(e.gen, mmn_page_gen(f->sim, e.pfn));
	mmn_sim_get_stats(f->sim, &a);
	assert_int_equal(mmn_cpu_read(f->mm, 0, f->base + 8, &v), 0);
	assert_int_equal(v, 42);
	mmn_sim_get_stats(f->sim, &b);
	assert_int_equal(b.tlb_hits, a.tlb_hits + 1);
	assert_int_equal(b.tlb_misses, a.tlb_misses);
	/* Another CPU has its own TLB. */
	assert_int_equal(mmn_tlb_lookup(f->mm, 1, f->base, NULL), 0);
}

static void test_flush_reaches_every_cpu_of_the_mask_and_only_those(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats a, b;
	uint64_t v;

	for (int cpu = 0; cpu < 3; cpu++)
		assert_int_equal(mmn_cpu_read(f->mm, cpu, f->base, &v), 0);
	mmn_sim_get_stats(f->sim, &a);
	mmn_flush_tlb_page(f->mm, f->base);
	mmn_sim_get_stats(f->sim, &b);
	for (int cpu = 0; cpu < 3; cpu++)
		assert_int_equal(mmn_tlb_lookup(f->mm, cpu, f->base, NULL), 0);
	/* CPU 3 never ran this mm: it is not in the mask, no IPI for it. */
	assert_int_equal(b.tlb_shootdowns - a.tlb_shootdowns, 3);
	assert_int_equal(b.tlb_flush_page - a.tlb_flush_page, 1);
}

static void test_range_flush_drops_only_the_range(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_cpu_read(f->mm, 0, f->base + i * PG, &v), 0);
	mmn_flush_tlb_range(f->mm, f->base + PG, f->base + 3 * PG);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base, NULL), 1);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base + PG, NULL), 0);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base + 2 * PG, NULL), 0);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base + 3 * PG, NULL), 1);
	mmn_flush_tlb_mm(f->mm);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base, NULL), 0);
}

static void test_munmap_leaves_no_cpu_translation(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	for (int cpu = 0; cpu < 4; cpu++)
		assert_int_equal(mmn_cpu_write(f->mm, cpu, f->base + cpu * PG, cpu), 0);
	assert_int_equal(mmn_munmap(f->mm, f->base, 8 * PG), 0);
	for (int cpu = 0; cpu < 4; cpu++)
		assert_int_equal(mmn_tlb_lookup(f->mm, cpu, f->base + cpu * PG, NULL), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 0, f->base, &v), -EFAULT);
	assert_int_equal(f->cap.n, 0);
}

/*
 * The oracle, both ways. Wrong order (free the frame, keep the stale TLB
 * entry): the next load through it is a use-after-free. Right order (clear,
 * flush, then free): no report, and the load faults afresh.
 */
static unsigned long unmap_page_by_hand(struct fixture *f, unsigned long addr, bool flush)
{
	struct mmn_ptdesc *pt = mmn_pt_walk(f->mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	mmn_pte_t e;

	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get_and_clear(f->sim, pt, idx, addr);
	mmn_page_remove_map(f->sim, mmn_pte_pfn(e));
	if (flush)
		mmn_flush_tlb_page(f->mm, addr);
	mmn_spin_unlock(&pt->ptl);
	mmn_put_page(f->sim, mmn_pte_pfn(e));
	return mmn_pte_pfn(e);
}

static void test_stale_tlb_entry_after_free_is_use_after_free(void **state)
{
	struct fixture *f = *state;
	struct mmn_walk w;
	unsigned long pfn;
	uint64_t v;

	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 1234), 0);
	pfn = unmap_page_by_hand(f, f->base, false);
	/* The freed frame is re-used at once (LIFO) by someone else. */
	assert_int_equal(mmn_cpu_write(f->mm, 1, f->base + PG, 777), 0);
	assert_int_equal(mmn_pgtable_walk(f->mm, f->base + PG, &w), 0);
	assert_int_equal(w.pfn, pfn);
	assert_int_equal(mmn_cpu_read(f->mm, 0, f->base, &v), 0);
	assert_int_equal(v, 777); /* CPU 0 reads the other page's data */
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_USE_AFTER_FREE), 1);
	assert_int_equal(f->cap.last.addr, f->base);
	assert_int_equal(f->cap.last.pfn, pfn);
	/* Stores through it are caught too. */
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 5), 0);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_USE_AFTER_FREE), 2);
	mmn_flush_tlb_mm(f->mm);
}

static void test_flush_before_free_leaves_nothing_stale(void **state)
{
	struct fixture *f = *state;
	uint64_t v;

	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 1234), 0);
	unmap_page_by_hand(f, f->base, true);
	assert_int_equal(mmn_cpu_write(f->mm, 1, f->base + PG, 777), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 0, f->base, &v), 0);
	assert_int_equal(v, 0); /* a fresh fault: the zero page */
	assert_int_equal(f->cap.n, 0);
}

/* The gather frees pages only after the flush: at the moment of the flush
 * (a scheduling point) every gathered page must still be allocated. */
struct gather_probe {
	struct mmn_sim *sim;
	unsigned long pfn;
	int flushes_seen, freed_at_flush;
};

static void gather_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct gather_probe *p = arg;
	struct mmn_page_info info;

	if (ev->kind != MMN_SCHED_TLB_FLUSH)
		return;
	mmn_page_info(sim, p->pfn, &info);
	p->flushes_seen++;
	if (info.flags & MMN_PG_FREE)
		p->freed_at_flush++;
}

static void test_gather_frees_pages_only_after_the_flush(void **state)
{
	struct fixture *f = *state;
	struct gather_probe probe = { .sim = f->sim };
	struct mmn_walk w;
	struct mmn_page_info info;

	assert_int_equal(mmn_cpu_write(f->mm, 2, f->base, 1), 0);
	assert_int_equal(mmn_pgtable_walk(f->mm, f->base, &w), 0);
	probe.pfn = w.pfn;
	mmn_sched_set_hook(f->sim, gather_hook, &probe);
	assert_int_equal(mmn_munmap(f->mm, f->base, 8 * PG), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_true(probe.flushes_seen >= 1);
	assert_int_equal(probe.freed_at_flush, 0);
	mmn_page_info(f->sim, probe.pfn, &info);
	assert_true(info.flags & MMN_PG_FREE);
}

#define mmn_container_of_watch(sub) \
	((struct free_watch *)((char *)(sub) - offsetof(struct free_watch, mn)))

/* Frees counted at invalidate_range_start and _end of the one munmap. */
struct free_watch {
	struct mmn_notifier mn;
	struct mmn_sim *sim;
	unsigned long at_start, at_end;
};

static unsigned long frees_now(struct mmn_sim *sim)
{
	struct mmn_stats st;

	mmn_sim_get_stats(sim, &st);
	return st.frames_freed;
}

static int watch_start(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	struct free_watch *w = mmn_container_of_watch(sub);

	(void)r;
	w->at_start = frees_now(w->sim);
	return 0;
}

static void watch_end(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	struct free_watch *w = mmn_container_of_watch(sub);

	(void)r;
	w->at_end = frees_now(w->sim);
}

static const struct mmn_notifier_ops watch_ops = {
	.invalidate_range_start = watch_start,
	.invalidate_range_end = watch_end,
};

/* Pages the munmap of the fixture's 8 written pages freed before its end. */
static unsigned long freed_before_end(struct fixture *f)
{
	struct free_watch w = { .mn.ops = &watch_ops, .sim = f->sim };

	for (int i = 0; i < 8; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, f->base + i * PG, i), 0);
	assert_int_equal(mmn_notifier_register(&w.mn, f->mm), 0);
	assert_int_equal(mmn_munmap(f->mm, f->base, 8 * PG), 0);
	assert_int_equal(mmn_notifier_unregister(&w.mn, f->mm), 0);
	return w.at_end - w.at_start;
}

/*
 * Knob gather_batch: with the default (256) an 8-page munmap frees nothing
 * before invalidate_range_end (the gather frees at tlb_finish_mmu()); with a
 * batch of 4 the gather fills, flushes and frees inside the range, which is
 * the window a small scenario needs. Out-of-range values are refused.
 */
static void test_gather_batch_knob_moves_the_frees_inside_the_range(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(freed_before_end(f), 0);
	assert_int_equal(mmn_mmap(f->mm, f->base, 8 * PG, RW, ANON | MMN_MAP_FIXED, &f->base), 0);
	assert_int_equal(mmn_sim_set_knob(f->sim, "gather_batch", "4"), 0);
	assert_true(freed_before_end(f) >= 4);
	assert_int_equal(mmn_sim_set_knob(f->sim, "gather_batch", "0"), -ERANGE);
	assert_int_equal(mmn_sim_set_knob(f->sim, "gather_batch", "257"), -ERANGE);
	assert_int_equal(f->cap.n, 0);
}

static void test_gather_batch_full_forces_an_early_flush(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats a, b;
	unsigned long big;
	unsigned long n = MMN_GATHER_BATCH + 10;

	assert_int_equal(mmn_mmap(f->mm, 0, n * PG, RW, ANON, &big), 0);
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, big + i * PG, i), 0);
	mmn_sim_get_stats(f->sim, &a);
	assert_int_equal(mmn_munmap(f->mm, big, n * PG), 0);
	mmn_sim_get_stats(f->sim, &b);
	assert_int_equal(b.gather_flushes - a.gather_flushes, 2);
	/* The PTE table stays: the first mapping still uses it. */
	assert_int_equal(b.frames_free - a.frames_free, n);
	assert_int_equal(mmn_audit(f->sim), 0);
}

static void test_store_to_a_read_only_entry_walks_again(void **state)
{
	struct fixture *f = *state;
	struct mmn_tlb_entry_info e;
	uint64_t v;

	assert_int_equal(mmn_cpu_read(f->mm, 0, f->base, &v), 0); /* zero page, RO */
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base, &e), 1);
	assert_false(e.write);
	assert_int_equal(e.pfn, MMN_ZERO_PFN);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 3), 0);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, f->base, &e), 1);
	assert_true(e.write);
	assert_int_not_equal(e.pfn, MMN_ZERO_PFN);
}

static void test_tlb_queries_reject_bad_cpus(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mmn_tlb_lookup(f->mm, 4, f->base, NULL), -EINVAL);
	assert_int_equal(mmn_tlb_lookup(f->mm, -1, f->base, NULL), -EINVAL);
	assert_int_equal(mmn_tlb_lookup(NULL, 0, f->base, NULL), -EINVAL);
	mmn_flush_tlb_page(NULL, 0);
	mmn_flush_tlb_range(NULL, 0, PG);
	mmn_flush_tlb_mm(NULL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_first_access_fills_and_second_hits),
		T(test_flush_reaches_every_cpu_of_the_mask_and_only_those),
		T(test_range_flush_drops_only_the_range),
		T(test_munmap_leaves_no_cpu_translation),
		T(test_stale_tlb_entry_after_free_is_use_after_free),
		T(test_flush_before_free_leaves_nothing_stale),
		T(test_gather_frees_pages_only_after_the_flush),
		T(test_gather_batch_knob_moves_the_frees_inside_the_range),
		T(test_gather_batch_full_forces_an_early_flush),
		T(test_store_to_a_read_only_entry_walks_again),
		T(test_tlb_queries_reject_bad_cpus),
	};

	return cmocka_run_group_tests_name("tlb", tests, NULL, NULL);
}
