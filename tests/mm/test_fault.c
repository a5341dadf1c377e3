// SPDX-License-Identifier: MIT
/* The CPU fault path: zero page, anonymous pages, COW and reuse, shared and
 * hugetlb mappings, MAP_POPULATE, pinning, and the errors. */
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
#define SHARED (MMN_MAP_SHARED | MMN_MAP_ANONYMOUS)
#define PG MMN_PAGE_SIZE

struct fixture {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 256;
	cfg.nr_huge_pages = 1;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(f->cap.n, 0);
	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

static struct mmn_walk walk(struct fixture *f, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(f->mm, addr, &w), 0);
	return w;
}

static void test_read_fault_maps_the_zero_page_read_only(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats st;
	unsigned long a;
	uint64_t v = 1;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 0, a, &v), 0);
	assert_int_equal(v, 0);
	assert_int_equal(walk(f, a).pfn, MMN_ZERO_PFN);
	assert_false(mmn_pte_write(walk(f, a).entry));
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.faults_zero_page, 1);
	assert_int_equal(st.faults_anon, 0);
}

static void test_write_after_zero_page_copies_into_a_private_page(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats st;
	unsigned long a;
	uint64_t v;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 1, a, &v), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 99), 0);
	assert_int_not_equal(walk(f, a).pfn, MMN_ZERO_PFN);
	assert_true(mmn_pte_write(walk(f, a).entry));
	/* CPU 1 cached the zero page: the COW flushed it. */
	assert_int_equal(mmn_cpu_read(f->mm, 1, a, &v), 0);
	assert_int_equal(v, 99);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.faults_cow, 1);
}

static void test_write_fault_allocates_a_writable_dirty_page(void **state)
{
	struct fixture *f = *state;
	struct mmn_page_info info;
	struct mmn_walk w;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a + 100, 5), 0);
	w = walk(f, a);
	assert_true(mmn_pte_write(w.entry) && mmn_pte_dirty(w.entry) && mmn_pte_young(w.entry));
	mmn_page_info(f->sim, w.pfn, &info);
	assert_int_equal(info.refcount, 1);
	assert_int_equal(info.mapcount, 1);
	assert_int_equal(info.content, 5);
	assert_true(info.flags & MMN_PG_ANON);
}

/* Make the PTE of @addr read-only by hand (what fork or mprotect will do). */
static void write_protect(struct fixture *f, unsigned long addr)
{
	struct mmn_ptdesc *pt = mmn_pt_walk(f->mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	mmn_pte_t e;

	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(f->sim, pt, idx, addr);
	assert_true(mmn_pte_cmpxchg(f->sim, pt, idx, addr, e, e & ~MMN_PTE_WRITE));
	mmn_flush_tlb_page(f->mm, addr);
	mmn_spin_unlock(&pt->ptl);
}

static void test_exclusive_page_is_reused_on_write_fault(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats st;
	unsigned long a, pfn;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 1), 0);
	pfn = walk(f, a).pfn;
	write_protect(f, a);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 2), 0);
	assert_int_equal(walk(f, a).pfn, pfn); /* same frame */
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.faults_reuse, 1);
	assert_int_equal(st.faults_cow, 0);
}

static void test_shared_reference_forces_a_copy_on_write(void **state)
{
	struct fixture *f = *state;
	struct mmn_page_info info;
	unsigned long a, pfn;
	uint32_t gen;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 1), 0);
	/* A pin (a device DMA, say) makes the refcount 2: copied where the
	 * refcount decides (5.9-5.18 do_wp_page()); 5.19+ reuses the
	 * PageAnonExclusive page (tests/ops/test_rmap_fork.c). */
	assert_int_equal(mmn_sim_set_knob(f->sim, "cow_reuse_anon_exclusive", "false"), 0);
	assert_int_equal(mmn_get_user_pages(f->mm, a, 0, &pfn, &gen), 0);
	write_protect(f, a);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 2), 0);
	assert_int_not_equal(walk(f, a).pfn, pfn);
	/* The pinned page keeps the old data; the process sees the new. */
	mmn_page_info(f->sim, pfn, &info);
	assert_int_equal(info.content, 1);
	assert_int_equal(info.mapcount, 0);
	assert_int_equal(info.refcount, 1);
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	mmn_page_info(f->sim, pfn, &info);
	assert_true(info.flags & MMN_PG_FREE);
}

static void test_shared_mapping_maps_one_object_page(void **state)
{
	struct fixture *f = *state;
	struct mmn_page_info info;
	unsigned long a;
	uint64_t v;

	assert_int_equal(mmn_mmap(f->mm, 0, 2 * PG, RW, SHARED, &a), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 0, a, &v), 0);
	assert_int_not_equal(walk(f, a).pfn, MMN_ZERO_PFN); /* no zero page for shmem */
	assert_true(mmn_pte_write(walk(f, a).entry));
	assert_int_equal(mmn_cpu_write(f->mm, 1, a, 8), 0);
	mmn_page_info(f->sim, walk(f, a).pfn, &info);
	assert_int_equal(info.refcount, 2); /* page cache + mapping */
	assert_int_equal(info.mapcount, 1);
	assert_true(info.flags & MMN_PG_SHMEM);
}

static void test_hugetlb_fault_maps_a_2mib_leaf(void **state)
{
	struct fixture *f = *state;
	struct mmn_tlb_entry_info e;
	struct mmn_stats st;
	unsigned long a;
	uint64_t v;

	assert_int_equal(mmn_mmap(f->mm, 0, 100, RW, ANON | MMN_MAP_HUGETLB, &a), 0);
	assert_int_equal(a & ~MMN_PMD_MASK, 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a + 3 * PG, 33), 0);
	assert_int_equal(walk(f, a).level, MMN_PT_PMD);
	assert_int_equal(walk(f, a + 3 * PG).pfn, walk(f, a).pfn + 3);
	assert_int_equal(mmn_tlb_lookup(f->mm, 0, a + 5 * PG, &e), 1);
	assert_true(e.huge);
	assert_int_equal(mmn_cpu_read(f->mm, 1, a + 3 * PG, &v), 0);
	assert_int_equal(v, 33);
	assert_int_equal(mmn_cpu_read(f->mm, 1, a + 4 * PG, &v), 0);
	assert_int_equal(v, 0);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.faults_huge, 1);
	assert_int_equal(st.huge_pages_free, 0);
	assert_int_equal(mmn_munmap(f->mm, a, MMN_PMD_SIZE), 0);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.huge_pages_free, 1);
}

static void test_hugetlb_pool_exhaustion_is_enomem(void **state)
{
	struct fixture *f = *state;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, 2 * MMN_PMD_SIZE, RW, ANON | MMN_MAP_HUGETLB, &a), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 1), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a + MMN_PMD_SIZE, 1), -ENOMEM);
}

static void test_populate_faults_everything_in_at_mmap(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats st;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON | MMN_MAP_POPULATE, &a), 0);
	for (int i = 0; i < 4; i++)
		assert_true(mmn_pte_write(walk(f, a + i * PG).entry));
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.faults_anon, 4);
}

static void test_frame_exhaustion_is_enomem_and_leaves_state_consistent(void **state)
{
	struct fixture *f = *state;
	unsigned long a;
	int err = 0, i;

	assert_int_equal(mmn_mmap(f->mm, 0, 512 * PG, RW, ANON, &a), 0);
	for (i = 0; i < 512 && !err; i++)
		err = mmn_cpu_write(f->mm, 0, a + (unsigned long)i * PG, 1);
	assert_int_equal(err, -ENOMEM);
	assert_true(i > 200);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(mmn_munmap(f->mm, a, 512 * PG), 0);
}

static void test_faults_outside_or_against_the_vma_fail(void **state)
{
	struct fixture *f = *state;
	unsigned long ro, none;
	uint64_t v;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, MMN_PROT_READ, ANON, &ro), 0);
	assert_int_equal(mmn_mmap(f->mm, 0, PG, MMN_PROT_NONE, ANON, &none), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 0, ro, &v), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, ro, 1), -EACCES);
	assert_int_equal(mmn_cpu_read(f->mm, 0, none, &v), -EACCES);
	assert_int_equal(mmn_cpu_read(f->mm, 0, 0x10000, &v), -EFAULT);
	assert_int_equal(mmn_cpu_read(f->mm, 0, MMN_TASK_SIZE, &v), -EFAULT);
	assert_int_equal(mmn_handle_mm_fault(f->mm, 0x10000, 0), -EFAULT);
	assert_int_equal(mmn_get_user_pages(f->mm, ro, MMN_FOLL_WRITE, &ro, NULL), -EACCES);
	assert_int_equal(walk(f, none).entry, 0);
}

static void test_cpu_access_rejects_bad_arguments(void **state)
{
	struct fixture *f = *state;
	unsigned long a, pfn;
	uint64_t v;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 2, a, &v), -EINVAL);
	assert_int_equal(mmn_cpu_read(f->mm, -1, a, &v), -EINVAL);
	assert_int_equal(mmn_cpu_write(f->mm, 2, a, 1), -EINVAL);
	assert_int_equal(mmn_cpu_read(f->mm, 0, a, NULL), -EINVAL);
	assert_int_equal(mmn_cpu_read(NULL, 0, a, &v), -EINVAL);
	assert_int_equal(mmn_handle_mm_fault(f->mm, a, 0x80), -EINVAL);
	assert_int_equal(mmn_get_user_pages(f->mm, a, 0x80, &pfn, NULL), -EINVAL);
	assert_int_equal(mmn_get_user_pages(f->mm, a, 0, NULL, NULL), -EINVAL);
	assert_int_equal(walk(f, a).level, MMN_PT_NONE); /* nothing faulted in */
}

static void test_unpin_of_an_unpinned_page_is_refused_and_reported(void **state)
{
	struct fixture *f = *state;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 1), 0);
	assert_int_equal(mmn_unpin_user_page(f->sim, walk(f, a).pfn), -EINVAL);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_ACCOUNTING), 1);
	mmn_check_reset(f->sim);
	f->cap.n = 0;
}

static void test_pinned_page_outlives_munmap_until_unpinned(void **state)
{
	struct fixture *f = *state;
	struct mmn_page_info info;
	unsigned long a, pfn;
	uint32_t gen;
	uint64_t v = 0;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_get_user_pages(f->mm, a, MMN_FOLL_WRITE, &pfn, &gen), 0);
	assert_int_equal(mmn_munmap(f->mm, a, PG), 0);
	mmn_page_info(f->sim, pfn, &info);
	assert_false(info.flags & MMN_PG_FREE);
	assert_int_equal(info.pincount, 1);
	/* A device may still DMA into its pinned page: no violation. */
	v = 4;
	assert_int_equal(mmn_phys_access(f->sim, pfn, gen, a, true, &v), 0);
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	mmn_page_info(f->sim, pfn, &info);
	assert_true(info.flags & MMN_PG_FREE);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_read_fault_maps_the_zero_page_read_only),
		T(test_write_after_zero_page_copies_into_a_private_page),
		T(test_write_fault_allocates_a_writable_dirty_page),
		T(test_exclusive_page_is_reused_on_write_fault),
		T(test_shared_reference_forces_a_copy_on_write),
		T(test_shared_mapping_maps_one_object_page),
		T(test_hugetlb_fault_maps_a_2mib_leaf),
		T(test_hugetlb_pool_exhaustion_is_enomem),
		T(test_populate_faults_everything_in_at_mmap),
		T(test_frame_exhaustion_is_enomem_and_leaves_state_consistent),
		T(test_faults_outside_or_against_the_vma_fail),
		T(test_cpu_access_rejects_bad_arguments),
		T(test_unpin_of_an_unpinned_page_is_refused_and_reported),
		T(test_pinned_page_outlives_munmap_until_unpinned),
	};

	return cmocka_run_group_tests_name("fault", tests, NULL, NULL);
}
