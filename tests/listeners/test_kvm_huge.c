// SPDX-License-Identifier: MIT
/*
 * Huge SPTEs of the KVM-style reference listener (mmn_kvm_config::huge_pages):
 * a 2 MiB SPTE where the host maps a THP by a PMD leaf and the memslot is
 * equally aligned, 4 KiB otherwise; the whole leaf zapped by an invalidation
 * of any part of it (a THP split, munmap of half the THP, a research path
 * invalidating one page); and the deliberately wrong zap that keeps the leaf
 * (huge_zap_4k_only) caught by the access-time check and the audit at the
 * page the primary no longer maps. The default is on, as in KVM. Public API
 * only.
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
/* equally aligned with BASE modulo 2 MiB (512 pages) */
#define GFN0 0x200ULL

struct kh {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_kvm *kvm;
	struct capture cap;
};

/* A 2 MiB THP-eligible area at BASE, faulted in by the CPU (a PMD leaf), and
 * a VM whose memslot 0 maps @npages guest pages from @gfn to it. */
static void kh_setup(struct kh *t, bool huge, bool wrong_zap, uint64_t gfn, unsigned long npages)
{
	struct mmn_sim_config cfg;
	struct mmn_kvm_config kc;
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
	mmn_kvm_config_init(&kc);
	kc.huge_pages = huge;
	kc.huge_zap_4k_only = wrong_zap;
	t->kvm = mmn_kvm_create(t->mm, &kc);
	assert_non_null(t->kvm);
	assert_int_equal(mmn_kvm_set_memslot(t->kvm, 0, gfn, npages, BASE), 0);
}

static void kh_teardown(struct kh *t)
{
	mmn_kvm_destroy(t->kvm);
	mmn_mm_put(t->mm);
	mmn_sim_destroy(t->sim);
}

static struct mmn_kvm_stats kh_stats(struct kh *t)
{
	struct mmn_kvm_stats st;

	assert_int_equal(mmn_kvm_get_stats(t->kvm, &st), 0);
	return st;
}

static struct mmn_kvm_spte_info kh_spte(struct kh *t, uint64_t gfn)
{
	struct mmn_kvm_spte_info si;

	assert_int_equal(mmn_kvm_spte(t->kvm, gfn, &si), 0);
	return si;
}

static unsigned long primary_pfn(struct kh *t, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(t->mm, addr, &w), 0);
	assert_true(mmn_pte_present(w.entry));
	return w.pfn;
}

static uint64_t vread(struct kh *t, uint64_t gfn)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_kvm_vcpu_read(t->kvm, 0, gfn, &v), 0);
	return v;
}

/* ---- where huge SPTEs are mapped ---- */

static void test_thp_backed_aligned_memslot_maps_one_huge_spte(void **state)
{
	struct kh t;
	struct mmn_kvm_spte_info si;
	struct mmn_kvm_stats st;

	(void)state;
	kh_setup(&t, true, false, GFN0, MMN_HPAGE_NR);
	assert_int_equal(vread(&t, GFN0 + 64), 0x1000 + 64);
	si = kh_spte(&t, GFN0 + 5);
	assert_true(si.present);
	assert_true(si.huge);
	assert_int_equal(si.pfn, primary_pfn(&t, BASE + 5 * PG));
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 1);
	/* every page of the 2 MiB is served by the one SPTE: no more faults */
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i += 64)
		assert_int_equal(vread(&t, GFN0 + i), 0x1000 + i);
	assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 1, GFN0 + 7, 77), 0);
	st = kh_stats(&t);
	assert_int_equal(st.faults, 2); /* the read, then the write fault */
	assert_int_equal(st.huge_sptes_mapped, 2);
	assert_true(kh_spte(&t, GFN0 + 300).write);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	kh_teardown(&t);
}

static void test_huge_pages_off_maps_4k_sptes(void **state)
{
	struct kh t;

	(void)state;
	kh_setup(&t, false, false, GFN0, MMN_HPAGE_NR);
	vread(&t, GFN0 + 64);
	vread(&t, GFN0 + 65);
	assert_false(kh_spte(&t, GFN0 + 64).huge);
	assert_false(kh_spte(&t, GFN0 + 66).present);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 2);
	assert_int_equal(kh_stats(&t).huge_sptes_mapped, 0);
	kh_teardown(&t);
}

/* The default is KVM's: huge SPTEs on (mmn_kvm_config_init(), and a VM
 * created with a NULL configuration). */
static void test_defaults_map_huge_sptes(void **state)
{
	struct mmn_kvm_config kc;
	struct kh t;

	(void)state;
	mmn_kvm_config_init(&kc);
	assert_true(kc.huge_pages);
	assert_false(kc.huge_zap_4k_only);
	kh_setup(&t, false, false, GFN0, MMN_HPAGE_NR);
	mmn_kvm_destroy(t.kvm);
	t.kvm = mmn_kvm_create(t.mm, NULL);
	assert_non_null(t.kvm);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 0, GFN0, MMN_HPAGE_NR, BASE), 0);
	assert_int_equal(vread(&t, GFN0 + 64), 0x1000 + 64);
	assert_true(kh_spte(&t, GFN0 + 65).huge);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 1);
	assert_int_equal(kh_stats(&t).huge_sptes_mapped, 1);
	kh_teardown(&t);
}

static void test_memslot_gfn_hva_misaligned_maps_4k_sptes(void **state)
{
	struct kh t;
	/* gfn 0x201 at BASE: gfn 0x400 (a 2 MiB-aligned gfn, its group inside
	 * the slot) is hva BASE + 511 pages, inside the THP but not aligned
	 * alike: disallow_lpage for the whole slot */
	const uint64_t g = 2 * GFN0;

	(void)state;
	kh_setup(&t, true, false, GFN0 + 1, 2 * MMN_HPAGE_NR);
	assert_int_equal(vread(&t, g), 0); /* page 511: never written */
	assert_true(kh_spte(&t, g).present);
	assert_false(kh_spte(&t, g).huge);
	assert_int_equal(kh_spte(&t, g).pfn, primary_pfn(&t, BASE + 511 * PG));
	assert_int_equal(kh_stats(&t).huge_sptes_mapped, 0);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	kh_teardown(&t);
}

static void test_memslot_smaller_than_the_huge_page_maps_4k_sptes(void **state)
{
	struct kh t;

	(void)state;
	kh_setup(&t, true, false, GFN0, MMN_HPAGE_NR / 2);
	vread(&t, GFN0 + 3);
	assert_true(kh_spte(&t, GFN0 + 3).present);
	assert_false(kh_spte(&t, GFN0 + 3).huge);
	assert_int_equal(kh_stats(&t).huge_sptes_mapped, 0);
	kh_teardown(&t);
}

/* ---- invalidations of part of a huge SPTE ---- */

static void test_munmap_of_half_the_thp_zaps_the_huge_spte(void **state)
{
	struct kh t;
	struct mmn_kvm_spte_info si;
	uint64_t v;

	(void)state;
	kh_setup(&t, true, false, GFN0, MMN_HPAGE_NR);
	vread(&t, GFN0);
	assert_int_equal(mmn_munmap(t.mm, BASE + HALF, HALF), 0);
	assert_int_equal(kh_stats(&t).huge_sptes_zapped, 1);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 0);
	/* the first half is now PTE-mapped: a 4 KiB SPTE, the same frame */
	assert_int_equal(vread(&t, GFN0 + 64), 0x1000 + 64);
	si = kh_spte(&t, GFN0 + 64);
	assert_false(si.huge);
	assert_int_equal(si.pfn, primary_pfn(&t, BASE + 64 * PG));
	/* the second half maps nothing */
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, GFN0 + 259, &v), -EFAULT);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	kh_teardown(&t);
}

static void test_thp_split_zaps_the_huge_spte_and_refault_maps_4k(void **state)
{
	struct kh t;
	struct mmn_kvm_spte_info si;
	unsigned long pfn;

	(void)state;
	kh_setup(&t, true, false, GFN0, MMN_HPAGE_NR);
	vread(&t, GFN0 + 9);
	pfn = kh_spte(&t, GFN0 + 9).pfn;
	assert_int_equal(mmn_split_huge_pmd(t.mm, BASE), 0);
	assert_false(kh_spte(&t, GFN0 + 9).present);
	assert_int_equal(kh_stats(&t).huge_sptes_zapped, 1);
	vread(&t, GFN0 + 9);
	si = kh_spte(&t, GFN0 + 9);
	assert_false(si.huge);
	assert_int_equal(si.pfn, pfn);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(t.cap.n, 0);
	kh_teardown(&t);
}

/* A research core-mm path invalidating one page inside the 2 MiB leaf. */
static void invalidate_one_page(struct kh *t, unsigned long addr)
{
	struct mmn_notifier_range r;

	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, t->mm, addr, addr + PG,
						 NULL), 0);
	assert_int_equal(mmn_corepath_range_start(&r), 0);
	assert_int_equal(mmn_corepath_range_end(&r), 0);
}

static void test_invalidation_of_one_page_zaps_the_whole_huge_spte(void **state)
{
	struct kh t;

	(void)state;
	kh_setup(&t, true, false, GFN0, MMN_HPAGE_NR);
	vread(&t, GFN0);
	invalidate_one_page(&t, BASE + 300 * PG);
	assert_false(kh_spte(&t, GFN0).present);
	assert_false(kh_spte(&t, GFN0 + 511).present);
	assert_int_equal(kh_stats(&t).huge_sptes_zapped, 1);
	assert_int_equal(t.cap.n, 0);
	kh_teardown(&t);
}

static void test_wrong_zap_keeps_the_huge_spte_over_a_partial_invalidation(void **state)
{
	struct kh t;

	(void)state;
	kh_setup(&t, true, true, GFN0, MMN_HPAGE_NR);
	vread(&t, GFN0);
	invalidate_one_page(&t, BASE + 300 * PG);
	assert_true(kh_spte(&t, GFN0 + 300).present);
	assert_int_equal(kh_stats(&t).huge_sptes_zapped, 0);
	kh_teardown(&t);
}

/*
 * The wrong zap keeps the 2 MiB SPTE across munmap of its second half: a
 * guest access to a page there goes through the block to a frame the primary
 * no longer maps, "stale translation at access" at that very page; the audit
 * reports the block. The right zap: the access faults (-EFAULT), nothing
 * reported.
 */
static void run_munmap_half_then_access(bool wrong, unsigned long *stale, unsigned long *addr,
					long *audit)
{
	struct kh t;
	uint64_t v;
	int err;

	kh_setup(&t, true, wrong, GFN0, MMN_HPAGE_NR);
	vread(&t, GFN0);
	assert_int_equal(mmn_munmap(t.mm, BASE + HALF, HALF), 0);
	err = mmn_kvm_vcpu_read(t.kvm, 0, GFN0 + 259, &v);
	assert_int_equal(err, wrong ? 0 : -EFAULT);
	*stale = mmn_check_count(t.sim, MMN_VIOL_STALE_TRANSLATION);
	*addr = t.cap.n ? t.cap.last.addr : 0;
	*audit = mmn_check_quiescent(t.sim);
	kh_teardown(&t);
}

static void test_wrong_zap_is_caught_at_access_at_the_unmapped_page(void **state)
{
	unsigned long stale, addr;
	long audit;

	(void)state;
	run_munmap_half_then_access(true, &stale, &addr, &audit);
	assert_int_equal(stale, 1);
	assert_int_equal(addr, BASE + 259 * PG);
	assert_true(audit >= 1);
}

static void test_right_zap_is_silent_on_munmap_of_half(void **state)
{
	unsigned long stale, addr;
	long audit;

	(void)state;
	run_munmap_half_then_access(false, &stale, &addr, &audit);
	assert_int_equal(stale, 0);
	assert_int_equal(addr, 0);
	assert_int_equal(audit, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_thp_backed_aligned_memslot_maps_one_huge_spte),
		cmocka_unit_test(test_huge_pages_off_maps_4k_sptes),
		cmocka_unit_test(test_defaults_map_huge_sptes),
		cmocka_unit_test(test_memslot_gfn_hva_misaligned_maps_4k_sptes),
		cmocka_unit_test(test_memslot_smaller_than_the_huge_page_maps_4k_sptes),
		cmocka_unit_test(test_munmap_of_half_the_thp_zaps_the_huge_spte),
		cmocka_unit_test(test_thp_split_zaps_the_huge_spte_and_refault_maps_4k),
		cmocka_unit_test(test_invalidation_of_one_page_zaps_the_whole_huge_spte),
		cmocka_unit_test(test_wrong_zap_keeps_the_huge_spte_over_a_partial_invalidation),
		cmocka_unit_test(test_wrong_zap_is_caught_at_access_at_the_unmapped_page),
		cmocka_unit_test(test_right_zap_is_silent_on_munmap_of_half),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
