// SPDX-License-Identifier: MIT
/*
 * khugepaged's retraction of a shmem/file range's PTE table
 * (mmn_collapse_pte_mapped_thp()) per era: before the 2022 fix (profile
 * 5.14) the table goes with no notification, and a KVM guest keeps shadow
 * translations of pages its host no longer maps there (the quiescent audit
 * reports them); from 6.1 (profiles 6.5, latest) a CLEAR range makes KVM
 * drop them first, and the audit is clean.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define BASE 0x40000000UL /* 2 MiB aligned */
#define PG MMN_PAGE_SIZE

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_file *file;
	struct mmn_kvm *kvm;
	struct capture cap;
};

/* A 2 MiB file mapped shared at BASE, a VM whose guest frames 0..511 are
 * that mapping, and the guest reading frames 0 and 1 (host pages faulted in,
 * SPTEs installed). */
static void fx_init(struct fx *f, const char *profile, bool knob_off)
{
	struct mmn_sim_config cfg;
	unsigned long got;
	uint64_t v;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 2048;
	cfg.profile = profile;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	if (knob_off)
		assert_int_equal(mmn_sim_set_knob(f->sim, "file_collapse_notify", "false"), 0);
	f->mm = mmn_mm_create(f->sim);
	f->file = mmn_file_create(f->sim, MMN_PMD_SIZE);
	assert_non_null(f->file);
	assert_int_equal(mmn_mmap_file(f->mm, BASE, MMN_PMD_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
				       MMN_MAP_SHARED | MMN_MAP_FIXED, f->file, 0, &got), 0);
	f->kvm = mmn_kvm_create(f->mm, NULL);
	assert_non_null(f->kvm);
	assert_int_equal(mmn_kvm_set_memslot(f->kvm, 0, 0, MMN_HPAGE_NR, BASE), 0);
	assert_int_equal(mmn_kvm_vcpu_read(f->kvm, 0, 0, &v), 0);
	assert_int_equal(mmn_kvm_vcpu_read(f->kvm, 0, 1, &v), 0);
	assert_int_equal(mmn_kvm_nr_sptes(f->kvm), 2);
}

static void fx_fini(struct fx *f)
{
	mmn_kvm_destroy(f->kvm);
	mmn_mm_put(f->mm);
	mmn_file_put(f->file);
	assert_int_equal(mmn_audit(f->sim), 0);
	mmn_sim_destroy(f->sim);
}

/* Retract the table; return the SPTEs KVM kept and the stale ones the audit found. */
static void retract(struct fx *f, unsigned long *sptes, long *stale)
{
	struct mmn_walk w;

	assert_int_equal(mmn_collapse_pte_mapped_thp(f->mm, BASE + 5 * PG), 0);
	assert_int_equal(mmn_pgtable_walk(f->mm, BASE, &w), 0);
	assert_int_equal(w.level, MMN_PT_NONE); /* the table is gone */
	assert_int_not_equal(mmn_file_cached(f->file, 0), 0); /* the pages stay cached */
	*sptes = mmn_kvm_nr_sptes(f->kvm);
	*stale = mmn_check_quiescent(f->sim);
}

static void test_pre_fix_retraction_leaves_kvm_translations_stale(void **state)
{
	unsigned long sptes;
	long stale;
	struct fx f;

	(void)state;
	fx_init(&f, "5.14", false);
	retract(&f, &sptes, &stale);
	assert_int_equal(sptes, 2);
	assert_true(stale >= 2); /* the SPTEs (and the vCPU TLB entries made from them) */
	fx_fini(&f);
	/* The knob alone decides it: a 6.5 profile with the fix turned off. */
	fx_init(&f, "6.5", true);
	retract(&f, &sptes, &stale);
	assert_int_equal(sptes, 2);
	assert_true(stale >= 2);
	fx_fini(&f);
}

static void test_fixed_retraction_notifies_and_kvm_drops_its_translations(void **state)
{
	unsigned long sptes;
	long stale;
	struct fx f;
	uint64_t v;

	(void)state;
	for (int i = 0; i < 2; i++) {
		fx_init(&f, i ? "latest" : "6.5", false);
		retract(&f, &sptes, &stale);
		assert_int_equal(sptes, 0);
		assert_int_equal(stale, 0);
		/* The guest refaults the host page back in. */
		assert_int_equal(mmn_kvm_vcpu_read(f.kvm, 0, 0, &v), 0);
		assert_int_equal(mmn_check_quiescent(f.sim), 0);
		assert_int_equal(f.cap.n, 0);
		fx_fini(&f);
	}
}

/* An IOMMU (SVA, secondary-TLB flushes) that has translated page 0: stale
 * IOTLB/ATC entries after the retraction? */
static long iommu_stale_after_retraction(const char *profile)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_file *file;
	struct mmn_iommu *io;
	struct capture cap;
	unsigned long got;
	int pasid;
	long stale;
	uint64_t v;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 2048;
	cfg.profile = profile;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	capture_install(sim, &cap);
	mm = mmn_mm_create(sim);
	file = mmn_file_create(sim, MMN_PMD_SIZE);
	assert_int_equal(mmn_mmap_file(mm, BASE, MMN_PMD_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
				       MMN_MAP_SHARED | MMN_MAP_FIXED, file, 0, &got), 0);
	io = mmn_iommu_create(sim, NULL);
	assert_non_null(io);
	assert_int_equal(mmn_iommu_bind(io, mm, &pasid), 0);
	assert_int_equal(mmn_iommu_dma_read(io, pasid, BASE, &v), 0);
	assert_int_equal(mmn_collapse_pte_mapped_thp(mm, BASE), 0);
	stale = mmn_check_quiescent(sim);
	mmn_iommu_destroy(io);
	mmn_mm_put(mm);
	mmn_file_put(file);
	mmn_sim_destroy(sim);
	return stale;
}

static void test_iommu_keeps_its_iotlb_entry_only_before_the_fix(void **state)
{
	(void)state;
	/* 5.14: no bracket, and pmdp_collapse_flush() reaches no secondary TLB. */
	assert_true(iommu_stale_after_retraction("5.14") > 0);
	/* 6.5: end calls ->invalidate_range(); 6.6+: the CPU flush itself does. */
	assert_int_equal(iommu_stale_after_retraction("6.5"), 0);
	assert_int_equal(iommu_stale_after_retraction("latest"), 0);
}

static void test_retraction_refuses_what_it_cannot_collapse(void **state)
{
	struct mmn_pte_slot s;
	unsigned long anon, other;
	mmn_pte_t e;
	struct fx f;

	(void)state;
	fx_init(&f, "latest", false);
	assert_int_equal(mmn_collapse_pte_mapped_thp(NULL, BASE), -EINVAL);
	assert_int_equal(mmn_collapse_pte_mapped_thp(f.mm, MMN_TASK_SIZE), -EFAULT);
	assert_int_equal(mmn_mmap(f.mm, 0, MMN_PMD_SIZE, MMN_PROT_READ,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &anon), 0);
	assert_int_equal(mmn_collapse_pte_mapped_thp(f.mm, anon), -EINVAL);
	/* Guest frame 1's PTE replaced by another page (written from corepath.h):
	 * not the cached page of its index, so nothing is retracted. */
	other = mmn_alloc_page(f.sim, MMN_PG_SHMEM);
	mmn_mmap_read_lock(f.mm);
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, BASE + PG, &s), 0);
	assert_int_equal(mmn_ptep_clear_flush(&s, &e), 0);
	assert_int_equal(mmn_folio_remove_rmap_pte(f.sim, mmn_pte_pfn(e)), 0);
	assert_int_equal(mmn_put_page(f.sim, mmn_pte_pfn(e)), 0);
	assert_int_equal(mmn_folio_add_rmap_pte(f.sim, other), 0);
	assert_int_equal(mmn_set_pte_at(&s, mmn_mk_pte(other, 0)), 0);
	assert_int_equal(mmn_pte_unmap_unlock(&s), 0);
	mmn_mmap_read_unlock(f.mm);
	assert_int_equal(mmn_collapse_pte_mapped_thp(f.mm, BASE), -EAGAIN);
	assert_int_equal(mmn_munmap(f.mm, BASE + PG, PG), 0); /* the stray page goes */
	assert_int_equal(f.cap.n, 0);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pre_fix_retraction_leaves_kvm_translations_stale),
		cmocka_unit_test(test_fixed_retraction_notifies_and_kvm_drops_its_translations),
		cmocka_unit_test(test_iommu_keeps_its_iotlb_entry_only_before_the_fix),
		cmocka_unit_test(test_retraction_refuses_what_it_cannot_collapse),
	};

	return cmocka_run_group_tests_name("khugepaged", tests, NULL, NULL);
}
