// SPDX-License-Identifier: MIT
/* Address spaces: mmap, munmap, VMAs, teardown, bad input, the audit. */
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
	unsigned long frames_free0, pgtables0;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;
	struct mmn_stats st;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 1024;
	cfg.nr_huge_pages = 2;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	mmn_sim_get_stats(f->sim, &st);
	f->frames_free0 = st.frames_free;
	f->pgtables0 = st.pgtables;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->mm)
		mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

/* mmap_assert_locked(): silent under mmap_lock in either mode, reported
 * without it. */
static void test_mmap_assert_locked_fires_only_without_mmap_lock(void **state)
{
	struct fixture *f = *state;

	mmn_mmap_read_lock(f->mm);
	mmn_mmap_assert_locked(f->mm);
	mmn_mmap_read_unlock(f->mm);
	mmn_mmap_write_lock(f->mm);
	mmn_mmap_assert_locked(f->mm);
	mmn_mmap_write_unlock(f->mm);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_mmap_assert_locked(f->mm);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 1);
	mmn_mmap_assert_locked(NULL);
	assert_int_equal(mmn_check_total(f->sim), 1);
	mmn_check_reset(f->sim);
}

static void touch(struct fixture *f, unsigned long addr, unsigned long n, uint64_t tag)
{
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, addr + i * PG, tag + i), 0);
}

static void check(struct fixture *f, unsigned long addr, unsigned long n, uint64_t tag)
{
	for (unsigned long i = 0; i < n; i++) {
		uint64_t v;

		assert_int_equal(mmn_cpu_read(f->mm, 1, addr + i * PG, &v), 0);
		assert_int_equal(v, tag + i);
	}
}

static unsigned long frames_free(struct fixture *f)
{
	struct mmn_stats st;

	mmn_sim_get_stats(f->sim, &st);
	return st.frames_free;
}

static void test_mmap_places_top_down_and_honours_a_free_hint(void **state)
{
	struct fixture *f = *state;
	unsigned long a, b, c;

	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON, &a), 0);
	assert_int_equal(a, MMN_MMAP_BASE - 4 * PG);
	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &b), 0);
	assert_int_equal(b, a - PG);
	assert_int_equal(mmn_mmap(f->mm, 0x100000, PG, RW, ANON, &c), 0);
	assert_int_equal(c, 0x100000);
	assert_int_equal(mmn_vma_count(f->mm), 3);
	assert_int_equal(mmn_audit(f->sim), 0);
}

static void test_mmap_rounds_length_up_to_pages(void **state)
{
	struct fixture *f = *state;
	struct mmn_vma_info vi;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, 1, MMN_PROT_READ, ANON, &a), 0);
	assert_int_equal(mmn_find_vma(f->mm, a, &vi), 0);
	assert_int_equal(vi.end - vi.start, PG);
	assert_int_equal(vi.prot, MMN_PROT_READ);
	assert_int_equal(vi.flags, MMN_MAP_PRIVATE);
	assert_int_equal(mmn_find_vma(f->mm, a + PG, &vi), -ENOENT);
}

static void test_mmap_rejects_bad_input_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	unsigned long a = 0xdead, before = frames_free(f);
	const struct {
		unsigned long addr, len;
		int prot, flags, err;
	} bad[] = {
		{ 0, 0, RW, ANON, -EINVAL },                             /* zero length */
		{ 0, PG, 0x4, ANON, -EINVAL },                           /* unknown prot */
		{ 0, PG, RW, ANON | 0x100, -EINVAL },                    /* unknown flag */
		{ 0, PG, RW, MMN_MAP_ANONYMOUS, -EINVAL },               /* neither */
		{ 0, PG, RW, ANON | MMN_MAP_SHARED, -EINVAL },           /* both */
		{ 0, PG, RW, MMN_MAP_PRIVATE, -EINVAL },                 /* no ANONYMOUS */
		{ 0x100001, PG, RW, ANON | MMN_MAP_FIXED, -EINVAL },     /* misaligned */
		{ 0x1000, PG, RW, ANON | MMN_MAP_FIXED, -EPERM },        /* below min */
		{ 0, ~0UL - 10, RW, ANON, -ENOMEM },                     /* overflow */
		{ MMN_TASK_SIZE - PG, 2 * PG, RW, ANON | MMN_MAP_FIXED, -ENOMEM },
		{ 0x200000 + PG, PG, RW, ANON | MMN_MAP_FIXED | MMN_MAP_HUGETLB, -EINVAL },
	};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		assert_int_equal(mmn_mmap(f->mm, bad[i].addr, bad[i].len, bad[i].prot, bad[i].flags, &a),
				 bad[i].err);
	assert_int_equal(mmn_mmap(NULL, 0, PG, RW, ANON, &a), -EINVAL);
	assert_int_equal(a, 0xdead);
	assert_int_equal(mmn_vma_count(f->mm), 0);
	assert_int_equal(frames_free(f), before);
	assert_int_equal(f->cap.n, 0);
}

static void test_mmap_fixed_replaces_the_old_mapping_and_frees_its_pages(void **state)
{
	struct fixture *f = *state;
	unsigned long a, b;

	assert_int_equal(mmn_mmap(f->mm, 0, 8 * PG, RW, ANON, &a), 0);
	touch(f, a, 8, 100);
	assert_int_equal(mmn_mmap(f->mm, a + 2 * PG, 2 * PG, RW, ANON | MMN_MAP_FIXED, &b), 0);
	assert_int_equal(b, a + 2 * PG);
	assert_int_equal(mmn_vma_count(f->mm), 3);
	check(f, a, 2, 100);
	check(f, a + 4 * PG, 4, 104);
	for (int i = 0; i < 2; i++) {
		uint64_t v;

		assert_int_equal(mmn_cpu_read(f->mm, 0, b + i * PG, &v), 0);
		assert_int_equal(v, 0); /* fresh memory */
	}
	assert_int_equal(mmn_audit(f->sim), 0);
}

static void test_munmap_in_the_middle_splits_and_keeps_the_rest(void **state)
{
	struct fixture *f = *state;
	struct mmn_vma_info vi;
	unsigned long a, free_before;

	assert_int_equal(mmn_mmap(f->mm, 0, 16 * PG, RW, ANON, &a), 0);
	touch(f, a, 16, 500);
	free_before = frames_free(f);
	assert_int_equal(mmn_munmap(f->mm, a + 4 * PG, 8 * PG), 0);
	assert_int_equal(frames_free(f), free_before + 8);
	assert_int_equal(mmn_vma_count(f->mm), 2);
	assert_int_equal(mmn_vma_at(f->mm, 0, &vi), 0);
	assert_int_equal(vi.start, a);
	assert_int_equal(vi.end, a + 4 * PG);
	assert_int_equal(mmn_vma_at(f->mm, 1, &vi), 0);
	assert_int_equal(vi.start, a + 12 * PG);
	check(f, a, 4, 500);
	check(f, a + 12 * PG, 4, 512);
	{
		uint64_t v;

		assert_int_equal(mmn_cpu_read(f->mm, 0, a + 5 * PG, &v), -EFAULT);
	}
	assert_int_equal(mmn_audit(f->sim), 0);
}

static void test_munmap_of_nothing_succeeds_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	unsigned long before = frames_free(f);

	assert_int_equal(mmn_munmap(f->mm, 0x400000, 16 * PG), 0);
	assert_int_equal(frames_free(f), before);
}

static void test_munmap_rejects_bad_input_and_changes_nothing(void **state)
{
	struct fixture *f = *state;
	unsigned long a, h, before;

	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_mmap(f->mm, 0, MMN_PMD_SIZE, RW, ANON | MMN_MAP_HUGETLB, &h), 0);
	touch(f, a, 4, 1);
	touch(f, h, 1, 1);
	before = frames_free(f);
	assert_int_equal(mmn_munmap(f->mm, a + 1, PG), -EINVAL);
	assert_int_equal(mmn_munmap(f->mm, a, 0), -EINVAL);
	assert_int_equal(mmn_munmap(f->mm, a, ~0UL - PG), -EINVAL);
	assert_int_equal(mmn_munmap(f->mm, MMN_TASK_SIZE, PG), -EINVAL);
	assert_int_equal(mmn_munmap(NULL, a, PG), -EINVAL);
	/* Cutting a hugetlb VMA off its 2 MiB alignment. */
	assert_int_equal(mmn_munmap(f->mm, h + PG, PG), -EINVAL);
	assert_int_equal(mmn_vma_count(f->mm), 2);
	assert_int_equal(frames_free(f), before);
	check(f, a, 4, 1);
	assert_int_equal(mmn_audit(f->sim), 0);
}

static void test_munmap_frees_the_page_tables_it_emptied(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats st;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON, &a), 0);
	touch(f, a, 4, 9);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.pgtables, f->pgtables0 + 3); /* PUD, PMD, PTE tables */
	assert_int_equal(mmn_munmap(f->mm, a, 4 * PG), 0);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.pgtables, f->pgtables0);
	assert_int_equal(st.frames_free, f->frames_free0);
	assert_int_equal(mmn_audit(f->sim), 0);
}

static void test_munmap_keeps_tables_a_neighbour_still_uses(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats st;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, 2 * PG, RW, ANON, &a), 0);
	touch(f, a, 2, 9);
	mmn_sim_get_stats(f->sim, &st);
	/* Split into two VMAs; unmapping one must keep the shared PTE table. */
	assert_int_equal(mmn_munmap(f->mm, a, PG), 0);
	check(f, a + PG, 1, 10);
	assert_int_equal(mmn_audit(f->sim), 0);
	{
		struct mmn_stats st2;

		mmn_sim_get_stats(f->sim, &st2);
		assert_int_equal(st2.pgtables, st.pgtables);
	}
}

static void test_last_mm_put_tears_everything_down(void **state)
{
	struct fixture *f = *state;
	struct mmn_stats st;
	unsigned long a, h;

	assert_int_equal(mmn_mmap(f->mm, 0, 32 * PG, RW, ANON, &a), 0);
	assert_int_equal(mmn_mmap(f->mm, 0, 8 * PG, RW, MMN_MAP_SHARED | MMN_MAP_ANONYMOUS, &h), 0);
	touch(f, a, 32, 1);
	touch(f, h, 8, 1);
	mmn_mm_get(f->mm);
	mmn_mm_put(f->mm); /* not the last: nothing happens */
	check(f, a, 32, 1);
	mmn_mm_put(f->mm);
	f->mm = NULL;
	mmn_sim_get_stats(f->sim, &st);
	/* Everything back, including the PGD (freed by the last mmdrop). */
	assert_int_equal(st.frames_free, f->frames_free0 + 1);
	assert_int_equal(st.pgtables, 0);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_mmgrab_keeps_the_struct_after_the_last_user(void **state)
{
	struct fixture *f = *state;
	unsigned long a;

	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON, &a), 0);
	touch(f, a, 4, 1);
	mmn_mmgrab(f->mm);
	mmn_mm_put(f->mm);
	/* exit_mmap ran: mappings gone, struct still valid. */
	assert_int_equal(mmn_mm_users(f->mm), 0);
	assert_int_equal(mmn_vma_count(f->mm), 0);
	assert_int_equal(mmn_audit(f->sim), 0);
	mmn_mmdrop(f->mm);
	f->mm = NULL;
}

static void test_audit_finds_a_wrong_mapcount_and_a_leak(void **state)
{
	struct fixture *f = *state;
	struct mmn_walk w;
	unsigned long a, leaked;

	assert_int_equal(mmn_mmap(f->mm, 0, PG, RW, ANON, &a), 0);
	touch(f, a, 1, 1);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(f->cap.n, 0);
	/* Corrupt the bookkeeping on purpose: the audit must notice. */
	assert_int_equal(mmn_pgtable_walk(f->mm, a, &w), 0);
	atomic_fetch_add(&mmn_pfn_to_page(f->sim, w.pfn)->mapcount, 1);
	assert_int_equal(mmn_audit(f->sim), 1);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_ACCOUNTING), 1);
	atomic_fetch_sub(&mmn_pfn_to_page(f->sim, w.pfn)->mapcount, 1);
	leaked = mmn_alloc_page(f->sim, MMN_PG_ANON);
	assert_int_equal(mmn_audit(f->sim), 1);
	mmn_put_page(f->sim, leaked);
	assert_int_equal(mmn_audit(f->sim), 0);
}

static void test_mm_create_and_queries_reject_null(void **state)
{
	struct fixture *f = *state;
	struct mmn_vma_info vi;

	errno = 0;
	assert_null(mmn_mm_create(NULL));
	assert_int_equal(errno, EINVAL);
	assert_int_equal(mmn_find_vma(NULL, 0, &vi), -EINVAL);
	assert_int_equal(mmn_find_vma(f->mm, 0, NULL), -EINVAL);
	assert_int_equal(mmn_vma_at(f->mm, 0, &vi), -ENOENT);
	assert_int_equal(mmn_vma_at(f->mm, -1, &vi), -ENOENT);
	assert_int_equal(mmn_audit(NULL), -EINVAL);
	mmn_mm_get(NULL);
	mmn_mm_put(NULL);
	mmn_mmdrop(NULL);
}

static void test_sim_create_rejects_bad_config(void **state)
{
	struct mmn_sim_config cfg;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 0;
	errno = 0;
	assert_null(mmn_sim_create(&cfg));
	assert_int_equal(errno, EINVAL);
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = MMN_MAX_CPUS + 1;
	assert_null(mmn_sim_create(&cfg));
	mmn_sim_config_init(&cfg);
	cfg.tlb_entries = 48; /* not a power of two */
	assert_null(mmn_sim_create(&cfg));
	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 8;
	assert_null(mmn_sim_create(&cfg));
	mmn_sim_config_init(&cfg);
	cfg.profile = "2.6.27";
	errno = 0;
	assert_null(mmn_sim_create(&cfg));
	assert_int_equal(errno, EINVAL);
	mmn_sim_config_init(&cfg);
	cfg.backend = (enum mmn_backend)7; /* no such backend */
	errno = 0;
	assert_null(mmn_sim_create(&cfg));
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_mmap_assert_locked_fires_only_without_mmap_lock),
		T(test_mmap_places_top_down_and_honours_a_free_hint),
		T(test_mmap_rounds_length_up_to_pages),
		T(test_mmap_rejects_bad_input_and_changes_nothing),
		T(test_mmap_fixed_replaces_the_old_mapping_and_frees_its_pages),
		T(test_munmap_in_the_middle_splits_and_keeps_the_rest),
		T(test_munmap_of_nothing_succeeds_and_changes_nothing),
		T(test_munmap_rejects_bad_input_and_changes_nothing),
		T(test_munmap_frees_the_page_tables_it_emptied),
		T(test_munmap_keeps_tables_a_neighbour_still_uses),
		T(test_last_mm_put_tears_everything_down),
		T(test_mmgrab_keeps_the_struct_after_the_last_user),
		T(test_audit_finds_a_wrong_mapcount_and_a_leak),
		T(test_mm_create_and_queries_reject_null),
		cmocka_unit_test(test_sim_create_rejects_bad_config),
	};

	return cmocka_run_group_tests_name("mm", tests, NULL, NULL);
}
