// SPDX-License-Identifier: MIT
/*
 * 2 MiB entries of the HMM-style mirror (mmn_hmm_config::pmd_entries,
 * nouveau-style): one entry where the walk reports order 9 and the block
 * lies in the mirror, 4 KiB entries otherwise (and by default, as dmirror);
 * the whole block dropped by a THP split, by munmap of half the THP and by
 * a research path invalidating one page; the deliberately wrong 4 KiB-only
 * erase (pmd_zap_4k_only) caught at access at the unmapped page and by the
 * audit. Public API only.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define TWO_M MMN_PMD_SIZE
#define HALF (TWO_M / 2)
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define BASE 0x40000000UL

struct hh {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	struct capture cap;
};

/* A THP at BASE (a PMD leaf, pages i % 64 == 0 hold 0x1000 + i) and a
 * mirror of [BASE, BASE + @len). */
static void hh_setup(struct hh *t, bool pmd, bool wrong, unsigned long len)
{
	struct mmn_sim_config cfg;
	struct mmn_hmm_config hc;
	struct mmn_walk w;
	unsigned long got;

	memset(t, 0, sizeof(*t));
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	cfg.nr_huge_pages = 4;
	t->sim = mmn_sim_create(&cfg);
	assert_non_null(t->sim);
	capture_install(t->sim, &t->cap);
	t->mm = mmn_mm_create(t->sim);
	assert_non_null(t->mm);
	assert_int_equal(mmn_mmap(t->mm, BASE, TWO_M, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(mmn_madvise(t->mm, BASE, TWO_M, MMN_MADV_HUGEPAGE), 0);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i += 64)
		assert_int_equal(mmn_cpu_write(t->mm, 0, BASE + i * PG, 0x1000 + i), 0);
	assert_int_equal(mmn_pgtable_walk(t->mm, BASE, &w), 0);
	assert_int_equal(w.level, MMN_PT_PMD);
	mmn_hmm_config_init(&hc);
	hc.pmd_entries = pmd;
	hc.pmd_zap_4k_only = wrong;
	assert_int_equal(mmn_hmm_create(t->mm, BASE, len, &hc, &t->m), 0);
}

static void hh_teardown(struct hh *t)
{
	assert_int_equal(mmn_hmm_destroy(t->m), 0);
	mmn_mm_put(t->mm);
	mmn_sim_destroy(t->sim);
}

static struct mmn_hmm_stats hh_stats(struct hh *t)
{
	struct mmn_hmm_stats st;

	assert_int_equal(mmn_hmm_get_stats(t->m, &st), 0);
	return st;
}

static uint64_t dread(struct hh *t, unsigned long page)
{
	uint64_t v = ~0ULL;

	assert_true(mmn_hmm_read(t->m, BASE + page * PG, 1, &v) >= 0);
	return v;
}

static unsigned long primary_pfn(struct hh *t, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(t->mm, addr, &w), 0);
	assert_true(mmn_pte_present(w.entry));
	return w.pfn;
}

static bool has_entry(struct hh *t, unsigned long page, unsigned long *pfn)
{
	return mmn_hmm_entry(t->m, BASE + page * PG, pfn, NULL, NULL) == 0;
}

/* ---- where 2 MiB entries are kept ---- */

static void test_order_9_page_programs_one_pmd_entry(void **state)
{
	struct hh t;
	unsigned long pfn;
	uint64_t v;

	(void)state;
	hh_setup(&t, true, false, TWO_M);
	assert_int_equal(dread(&t, 64), 0x1000 + 64);
	assert_int_equal(hh_stats(&t).pmd_programmed, 1);
	/* the block covers pages the fault's 32-page chunk never walked */
	assert_true(has_entry(&t, 300, &pfn));
	assert_int_equal(pfn, primary_pfn(&t, BASE + 300 * PG));
	assert_int_equal(mmn_hmm_read(t.m, BASE + 448 * PG, 1, &v), 0); /* no fault pass */
	assert_int_equal(v, 0x1000 + 448);
	assert_int_equal(hh_stats(&t).pmd_programmed, 1);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	hh_teardown(&t);
}

static void test_default_mirror_keeps_4k_entries_as_dmirror(void **state)
{
	struct hh t;

	(void)state;
	hh_setup(&t, false, false, TWO_M);
	assert_int_equal(dread(&t, 64), 0x1000 + 64);
	assert_int_equal(hh_stats(&t).pmd_programmed, 0);
	assert_false(has_entry(&t, 300, NULL));
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	hh_teardown(&t);
}

static void test_block_sticking_out_of_the_mirror_gets_4k_entries(void **state)
{
	struct hh t;

	(void)state;
	hh_setup(&t, true, false, HALF);
	assert_int_equal(dread(&t, 64), 0x1000 + 64);
	assert_int_equal(hh_stats(&t).pmd_programmed, 0);
	assert_false(has_entry(&t, 200, NULL));
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	hh_teardown(&t);
}

/* fork write-protects the THP (PROTECTION_PAGE): the event-aware mirror
 * write-protects the whole 2 MiB entry and keeps it; a device store faults
 * again and finds the primary's new mapping. */
static void test_fork_write_protects_the_whole_block(void **state)
{
	struct hh t;
	struct mmn_mm *child = NULL;
	uint64_t v = 5;
	bool w = true;

	(void)state;
	hh_setup(&t, true, false, TWO_M);
	assert_true(mmn_hmm_write(t.m, BASE, 1, &v) >= 0);
	assert_int_equal(mmn_hmm_entry(t.m, BASE + 400 * PG, NULL, &w, NULL), 0);
	assert_true(w);
	assert_int_equal(mmn_fork(t.mm, &child), 0);
	assert_int_equal(mmn_hmm_entry(t.m, BASE + 400 * PG, NULL, &w, NULL), 0);
	assert_false(w);
	assert_int_equal(hh_stats(&t).pmd_dropped, 0);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	v = 6;
	assert_true(mmn_hmm_write(t.m, BASE + 400 * PG, 1, &v) >= 0);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	mmn_mm_put(child);
	hh_teardown(&t);
}

/* ---- invalidations of part of the block ---- */

static void test_munmap_of_half_the_thp_drops_the_whole_block(void **state)
{
	struct hh t;
	unsigned long pfn;
	uint64_t v;

	(void)state;
	hh_setup(&t, true, false, TWO_M);
	dread(&t, 0);
	assert_int_equal(mmn_munmap(t.mm, BASE + HALF, HALF), 0);
	assert_int_equal(hh_stats(&t).pmd_dropped, 1);
	assert_int_equal(mmn_hmm_nr_entries(t.m), 0);
	/* the first half is PTE-mapped now: 4 KiB entries of the same frames */
	assert_int_equal(dread(&t, 64), 0x1000 + 64);
	assert_true(has_entry(&t, 64, &pfn));
	assert_int_equal(pfn, primary_pfn(&t, BASE + 64 * PG));
	assert_false(has_entry(&t, 200, NULL));
	assert_int_equal(mmn_hmm_read(t.m, BASE + 300 * PG, 1, &v), -EFAULT);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	hh_teardown(&t);
}

static void test_thp_split_drops_the_block_and_refault_maps_4k(void **state)
{
	struct hh t;
	unsigned long before, after;

	(void)state;
	hh_setup(&t, true, false, TWO_M);
	dread(&t, 9);
	assert_true(has_entry(&t, 9, &before));
	assert_int_equal(mmn_split_huge_pmd(t.mm, BASE), 0);
	assert_false(has_entry(&t, 9, NULL));
	assert_int_equal(hh_stats(&t).pmd_dropped, 1);
	dread(&t, 9);
	assert_true(has_entry(&t, 9, &after));
	assert_int_equal(after, before);
	assert_false(has_entry(&t, 300, NULL)); /* 4 KiB entries only now */
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	hh_teardown(&t);
}

static void invalidate_one_page(struct hh *t, unsigned long addr)
{
	struct mmn_notifier_range r;

	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, t->mm, addr, addr + PG,
						 NULL), 0);
	assert_int_equal(mmn_corepath_range_start(&r), 0);
	assert_int_equal(mmn_corepath_range_end(&r), 0);
}

static void test_invalidation_of_one_page_drops_the_whole_block(void **state)
{
	struct hh t;

	(void)state;
	hh_setup(&t, true, false, TWO_M);
	dread(&t, 0);
	invalidate_one_page(&t, BASE + 300 * PG);
	assert_false(has_entry(&t, 0, NULL));
	assert_false(has_entry(&t, 511, NULL));
	assert_int_equal(hh_stats(&t).pmd_dropped, 1);
	assert_int_equal(t.cap.n, 0);
	hh_teardown(&t);
}

static void test_wrong_erase_keeps_the_block_over_a_partial_invalidation(void **state)
{
	struct hh t;

	(void)state;
	hh_setup(&t, true, true, TWO_M);
	dread(&t, 0);
	invalidate_one_page(&t, BASE + 300 * PG);
	assert_true(has_entry(&t, 300, NULL));
	assert_int_equal(hh_stats(&t).pmd_dropped, 0);
	hh_teardown(&t);
}

/* munmap of the block's second half, then a device read of page 300. */
static void run_munmap_half_then_read(bool wrong, unsigned long *stale, unsigned long *addr,
				      long *audit)
{
	struct hh t;
	uint64_t v;
	long r;

	hh_setup(&t, true, wrong, TWO_M);
	dread(&t, 0);
	assert_int_equal(mmn_munmap(t.mm, BASE + HALF, HALF), 0);
	r = mmn_hmm_read(t.m, BASE + 300 * PG, 1, &v);
	assert_int_equal(r, wrong ? 0 : -EFAULT);
	*stale = mmn_check_count(t.sim, MMN_VIOL_STALE_TRANSLATION);
	*addr = t.cap.n ? t.cap.last.addr : 0;
	*audit = mmn_check_quiescent(t.sim);
	hh_teardown(&t);
}

static void test_wrong_erase_is_caught_at_access_at_the_unmapped_page(void **state)
{
	unsigned long stale, addr;
	long audit;

	(void)state;
	run_munmap_half_then_read(true, &stale, &addr, &audit);
	assert_int_equal(stale, 1);
	assert_int_equal(addr, BASE + 300 * PG);
	assert_true(audit >= 1);
}

static void test_right_erase_is_silent_on_munmap_of_half(void **state)
{
	unsigned long stale, addr;
	long audit;

	(void)state;
	run_munmap_half_then_read(false, &stale, &addr, &audit);
	assert_int_equal(stale, 0);
	assert_int_equal(addr, 0);
	assert_int_equal(audit, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order_9_page_programs_one_pmd_entry),
		cmocka_unit_test(test_default_mirror_keeps_4k_entries_as_dmirror),
		cmocka_unit_test(test_block_sticking_out_of_the_mirror_gets_4k_entries),
		cmocka_unit_test(test_fork_write_protects_the_whole_block),
		cmocka_unit_test(test_munmap_of_half_the_thp_drops_the_whole_block),
		cmocka_unit_test(test_thp_split_drops_the_block_and_refault_maps_4k),
		cmocka_unit_test(test_invalidation_of_one_page_drops_the_whole_block),
		cmocka_unit_test(test_wrong_erase_keeps_the_block_over_a_partial_invalidation),
		cmocka_unit_test(test_wrong_erase_is_caught_at_access_at_the_unmapped_page),
		cmocka_unit_test(test_right_erase_is_silent_on_munmap_of_half),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
