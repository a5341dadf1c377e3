// SPDX-License-Identifier: MIT
/* Frames: allocation, LIFO re-use, generations, reference counting. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h"
#include "support/capture.h"

struct fixture {
	struct mmn_sim *sim;
	struct capture cap;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 1;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

static void test_alloc_gives_zeroed_frame_with_one_reference(void **state)
{
	struct fixture *f = *state;
	struct mmn_page_info info;
	unsigned long pfn = mmn_alloc_page(f->sim, MMN_PG_ANON);

	assert_int_not_equal(pfn, 0);
	assert_int_equal(mmn_page_info(f->sim, pfn, &info), 0);
	assert_int_equal(info.refcount, 1);
	assert_int_equal(info.mapcount, 0);
	assert_int_equal(info.content, 0);
	assert_true(info.flags & MMN_PG_ANON);
	assert_false(info.flags & MMN_PG_FREE);
	assert_int_equal(mmn_put_page(f->sim, pfn), 0);
}

static void test_freed_frame_is_reused_first_with_a_new_generation(void **state)
{
	struct fixture *f = *state;
	unsigned long a = mmn_alloc_page(f->sim, 0), b = mmn_alloc_page(f->sim, 0);
	uint32_t gen_a = mmn_page_gen(f->sim, a);

	assert_int_not_equal(a, b);
	mmn_put_page(f->sim, a);
	assert_int_equal(mmn_page_gen(f->sim, a), gen_a + 1);
	/* LIFO: the frame freed last comes back first. */
	assert_int_equal(mmn_alloc_page(f->sim, 0), a);
	mmn_put_page(f->sim, a);
	mmn_put_page(f->sim, b);
}

static void test_last_put_frees_and_earlier_puts_do_not(void **state)
{
	struct fixture *f = *state;
	unsigned long pfn = mmn_alloc_page(f->sim, 0);
	uint32_t gen = mmn_page_gen(f->sim, pfn);
	struct mmn_page_info info;

	assert_int_equal(mmn_get_page(f->sim, pfn), 0);
	mmn_put_page(f->sim, pfn);
	assert_int_equal(mmn_page_gen(f->sim, pfn), gen);
	mmn_page_info(f->sim, pfn, &info);
	assert_false(info.flags & MMN_PG_FREE);
	mmn_put_page(f->sim, pfn);
	mmn_page_info(f->sim, pfn, &info);
	assert_true(info.flags & MMN_PG_FREE);
	assert_int_equal(f->cap.n, 0);
}

static void test_put_or_get_of_a_free_frame_is_refused_and_reported(void **state)
{
	struct fixture *f = *state;
	unsigned long pfn = mmn_alloc_page(f->sim, 0);

	mmn_put_page(f->sim, pfn);
	assert_int_equal(mmn_put_page(f->sim, pfn), -ENOENT);
	assert_int_equal(mmn_get_page(f->sim, pfn), -ENOENT);
	assert_int_equal(f->cap.n, 2);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_ACCOUNTING), 2);
}

static void test_exhausted_pool_returns_none_not_a_crash(void **state)
{
	struct fixture *f = *state;
	unsigned long got[64];
	int n = 0;

	while (n < 64 && (got[n] = mmn_alloc_page(f->sim, 0)) != 0)
		n++;
	assert_int_equal(n, 63); /* frame 0 is the zero page */
	assert_int_equal(mmn_alloc_page(f->sim, 0), 0);
	for (int i = 0; i < n; i++)
		mmn_put_page(f->sim, got[i]);
	assert_int_equal(mmn_alloc_huge_page(f->sim, 0) != 0, 1);
}

static void test_zero_page_is_never_freed(void **state)
{
	struct fixture *f = *state;
	struct mmn_page_info info;

	for (int i = 0; i < 3; i++)
		assert_int_equal(mmn_put_page(f->sim, MMN_ZERO_PFN), 0);
	mmn_page_info(f->sim, MMN_ZERO_PFN, &info);
	assert_true(info.flags & MMN_PG_ZERO);
	assert_false(info.flags & MMN_PG_FREE);
	assert_int_equal(f->cap.n, 0);
}

static void test_access_with_stale_generation_is_use_after_free(void **state)
{
	struct fixture *f = *state;
	unsigned long pfn = mmn_alloc_page(f->sim, 0);
	uint32_t gen = mmn_page_gen(f->sim, pfn);
	uint64_t v = 7;

	/* Right generation: silent. */
	assert_int_equal(mmn_phys_access(f->sim, pfn, gen, 0x1000, true, &v), 0);
	assert_int_equal(f->cap.n, 0);
	mmn_put_page(f->sim, pfn);
	/* The frame was freed: the same translation is now a use-after-free,
	 * and the access still happens, as on hardware. */
	v = 0;
	assert_int_equal(mmn_phys_access(f->sim, pfn, gen, 0x1000, false, &v), 0);
	assert_int_equal(v, 7);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_USE_AFTER_FREE), 1);
	assert_int_equal(f->cap.last.pfn, pfn);
	assert_int_equal(f->cap.last.gen_used, gen);
	assert_int_equal(f->cap.last.gen_now, gen + 1);
}

static void test_huge_page_is_compound_and_returns_whole(void **state)
{
	struct fixture *f = *state;
	unsigned long head = mmn_alloc_huge_page(f->sim, MMN_PG_HUGETLB);
	struct mmn_page_info info;

	assert_int_not_equal(head, 0);
	assert_int_equal(mmn_alloc_huge_page(f->sim, 0), 0); /* pool of one */
	mmn_page_info(f->sim, head + 5, &info);
	assert_true(info.flags & MMN_PG_TAIL);
	assert_int_equal(info.refcount, 1); /* the head's */
	assert_int_equal(mmn_get_page(f->sim, head + 5), 0); /* refs go to the head */
	mmn_page_info(f->sim, head, &info);
	assert_int_equal(info.refcount, 2);
	mmn_put_page(f->sim, head + 5);
	mmn_put_page(f->sim, head);
	assert_int_equal(mmn_alloc_huge_page(f->sim, 0), head);
}

static void test_bad_pfns_are_refused(void **state)
{
	struct fixture *f = *state;
	struct mmn_page_info info;
	uint64_t v;
	unsigned long past = 64 + MMN_HPAGE_NR;

	assert_int_equal(mmn_page_info(f->sim, past, &info), -EINVAL);
	assert_int_equal(mmn_page_info(NULL, 1, &info), -EINVAL);
	assert_int_equal(mmn_page_info(f->sim, 1, NULL), -EINVAL);
	assert_int_equal(mmn_get_page(f->sim, past), -EINVAL);
	assert_int_equal(mmn_put_page(f->sim, past), -EINVAL);
	assert_int_equal(mmn_phys_access(f->sim, past, 1, 0, false, &v), -EINVAL);
	assert_int_equal(mmn_phys_access(f->sim, 1, 1, 0, false, NULL), -EINVAL);
	assert_int_equal(mmn_page_gen(f->sim, past), 0);
	assert_int_equal(f->cap.n, 0);
}

/* alloc_page() refuses what would be no frame: no simulation, born free, a
 * second zero page; and takes nothing from the pool doing so. */
static void test_alloc_refuses_free_or_zero_flags(void **state)
{
	struct fixture *f = *state;
	unsigned long a = mmn_alloc_page(f->sim, 0);

	assert_int_not_equal(a, 0);
	assert_int_equal(mmn_put_page(f->sim, a), 0);
	assert_int_equal(mmn_alloc_page(NULL, 0), 0);
	assert_int_equal(mmn_alloc_page(f->sim, MMN_PG_FREE), 0);
	assert_int_equal(mmn_alloc_page(f->sim, MMN_PG_ZERO | MMN_PG_ANON), 0);
	assert_int_equal(mmn_alloc_page(f->sim, MMN_PG_ANON), a); /* still the hottest */
	assert_int_equal(mmn_put_page(f->sim, a), 0);
	assert_int_equal(f->cap.n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_alloc_gives_zeroed_frame_with_one_reference, setup, teardown),
		cmocka_unit_test_setup_teardown(test_alloc_refuses_free_or_zero_flags, setup, teardown),
		cmocka_unit_test_setup_teardown(test_freed_frame_is_reused_first_with_a_new_generation, setup, teardown),
		cmocka_unit_test_setup_teardown(test_last_put_frees_and_earlier_puts_do_not, setup, teardown),
		cmocka_unit_test_setup_teardown(test_put_or_get_of_a_free_frame_is_refused_and_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_exhausted_pool_returns_none_not_a_crash, setup, teardown),
		cmocka_unit_test_setup_teardown(test_zero_page_is_never_freed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_access_with_stale_generation_is_use_after_free, setup, teardown),
		cmocka_unit_test_setup_teardown(test_huge_page_is_compound_and_returns_whole, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_pfns_are_refused, setup, teardown),
	};

	return cmocka_run_group_tests_name("page", tests, NULL, NULL);
}
