// SPDX-License-Identifier: MIT
/*
 * mmn_hmm_range_fault(): the kernel's contract (mm/hmm.c, include/linux/
 * hmm.h as in 6.x), each rule both ways: -EBUSY exactly when the interval
 * notifier's sequence moved, faults exactly where the request asks
 * (default_flags, and per page through pfn_flags_mask), WRITE only for
 * writable entries, ERROR for unreadable VMAs without a fault, -EFAULT and
 * -EPERM where a fault cannot succeed, own device pages returned and other
 * owners' not.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define NP 4

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	struct mmn_interval_notifier sub;
	unsigned long addr;
	unsigned long pfns[NP];
	struct mmn_hmm_range range;
};

static bool inv(struct mmn_interval_notifier *sub, const struct mmn_notifier_range *r,
		unsigned long cur_seq)
{
	(void)r;
	mmn_interval_set_seq(sub, cur_seq);
	return true;
}

static const struct mmn_interval_notifier_ops inv_ops = { .invalidate = inv };

static int setup(void **state)
{
	struct mmn_sim_config cfg;
	struct fx *f = calloc(1, sizeof(*f));

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 512;
	f->sim = mmn_sim_create(&cfg);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_int_equal(mmn_mmap(f->mm, 0, NP * PG, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &f->addr), 0);
	assert_int_equal(mmn_interval_notifier_insert(&f->sub, f->mm, f->addr, NP * PG, &inv_ops), 0);
	f->range = (struct mmn_hmm_range){
		.notifier = &f->sub, .start = f->addr, .end = f->addr + NP * PG, .hmm_pfns = f->pfns,
	};
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mmn_interval_notifier_remove(&f->sub);
	assert_int_equal(f->cap.n, 0);
	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

/* read_begin, the walk under mmap_lock for read, as a driver does. */
static int run(struct fx *f)
{
	int r;

	f->range.notifier_seq = mmn_interval_read_begin(&f->sub);
	mmn_mmap_read_lock(f->mm);
	r = mmn_hmm_range_fault(&f->range);
	mmn_mmap_read_unlock(f->mm);
	return r;
}

static void test_req_fault_maps_missing_pages_readable(void **state)
{
	struct fx *f = *state;

	f->range.default_flags = MMN_HMM_PFN_REQ_FAULT;
	assert_int_equal(run(f), 0);
	for (int i = 0; i < NP; i++) {
		assert_true(f->pfns[i] & MMN_HMM_PFN_VALID);
		/* a read fault of untouched anonymous memory: the zero page, read-only */
		assert_int_equal(mmn_hmm_pfn_to_pfn(f->pfns[i]), MMN_ZERO_PFN);
		assert_false(f->pfns[i] & MMN_HMM_PFN_WRITE);
		assert_int_equal(mmn_hmm_pfn_to_map_order(f->pfns[i]), 0);
	}
}

static void test_no_request_faults_nothing(void **state)
{
	struct fx *f = *state;

	assert_int_equal(run(f), 0);
	for (int i = 0; i < NP; i++)
		assert_int_equal(f->pfns[i], 0);
}

static void test_req_write_breaks_cow_and_reports_write(void **state)
{
	struct fx *f = *state;
	uint32_t gens[NP];

	f->range.default_flags = MMN_HMM_PFN_REQ_FAULT | MMN_HMM_PFN_REQ_WRITE;
	f->range.gens = gens;
	assert_int_equal(run(f), 0);
	for (int i = 0; i < NP; i++) {
		unsigned long pfn = mmn_hmm_pfn_to_pfn(f->pfns[i]);

		assert_true(f->pfns[i] & MMN_HMM_PFN_WRITE);
		assert_int_not_equal(pfn, MMN_ZERO_PFN);
		assert_int_equal(gens[i], mmn_page_gen(f->sim, pfn));
	}
}

static void test_pfn_flags_mask_requests_per_page(void **state)
{
	struct fx *f = *state;

	f->range.pfn_flags_mask = MMN_HMM_PFN_REQ_FAULT | MMN_HMM_PFN_REQ_WRITE;
	f->pfns[1] = MMN_HMM_PFN_REQ_FAULT | MMN_HMM_PFN_REQ_WRITE;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->pfns[0], 0);
	assert_true(f->pfns[1] & MMN_HMM_PFN_WRITE);
	assert_int_equal(f->pfns[2], 0);
	/* the same request bits with a zero mask count for nothing */
	f->range.pfn_flags_mask = 0;
	f->pfns[2] = MMN_HMM_PFN_REQ_FAULT;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->pfns[2], 0);
}

static void test_moved_sequence_returns_ebusy(void **state)
{
	struct fx *f = *state;
	int r;

	f->range.default_flags = MMN_HMM_PFN_REQ_FAULT;
	f->range.notifier_seq = mmn_interval_read_begin(&f->sub);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->addr, 1), 0);
	/* an invalidation of the range after read_begin */
	assert_int_equal(mmn_madvise(f->mm, f->addr, PG, MMN_MADV_DONTNEED), 0);
	mmn_mmap_read_lock(f->mm);
	r = mmn_hmm_range_fault(&f->range);
	mmn_mmap_read_unlock(f->mm);
	assert_int_equal(r, -EBUSY);
	/* read_begin again: the walk goes through */
	assert_int_equal(run(f), 0);
}

static void test_unreadable_vma_is_error_or_efault(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mmn_mprotect(f->mm, f->addr, NP * PG, MMN_PROT_NONE), 0);
	assert_int_equal(run(f), 0);
	for (int i = 0; i < NP; i++)
		assert_int_equal(f->pfns[i], MMN_HMM_PFN_ERROR);
	f->range.default_flags = MMN_HMM_PFN_REQ_FAULT;
	assert_int_equal(run(f), -EFAULT);
}

static void test_write_request_on_read_only_vma_is_eperm(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mmn_mprotect(f->mm, f->addr, NP * PG, MMN_PROT_READ), 0);
	f->range.default_flags = MMN_HMM_PFN_REQ_FAULT;
	assert_int_equal(run(f), 0);
	f->range.default_flags |= MMN_HMM_PFN_REQ_WRITE;
	assert_int_equal(run(f), -EPERM);
}

static void test_hole_is_zero_or_efault(void **state)
{
	struct fx *f = *state;

	assert_int_equal(mmn_munmap(f->mm, f->addr + 2 * PG, PG), 0);
	assert_int_equal(run(f), 0);
	assert_int_equal(f->pfns[2], 0);
	f->range.default_flags = MMN_HMM_PFN_REQ_FAULT;
	assert_int_equal(run(f), -EFAULT);
}

static void test_bad_arguments_are_einval(void **state)
{
	struct fx *f = *state;
	struct mmn_hmm_range r = f->range;

	assert_int_equal(mmn_hmm_range_fault(NULL), -EINVAL);
	r.hmm_pfns = NULL;
	assert_int_equal(mmn_hmm_range_fault(&r), -EINVAL);
	r = f->range;
	r.start += 1;
	assert_int_equal(mmn_hmm_range_fault(&r), -EINVAL);
	r = f->range;
	r.end = r.start;
	assert_int_equal(mmn_hmm_range_fault(&r), -EINVAL);
	r = f->range;
	r.notifier = NULL;
	assert_int_equal(mmn_hmm_range_fault(&r), -EINVAL);
}

static int dev_to_ram(struct mmn_dev_pagemap *pgmap, struct mmn_mm *mm, unsigned long addr,
		      unsigned long dev_pfn)
{
	return mmn_devmem_migrate_to_ram_default(pgmap, mm, addr, dev_pfn);
}

static const struct mmn_dev_pagemap_ops dev_ops = { .migrate_to_ram = dev_to_ram };

static void test_own_device_pages_returned_others_not(void **state)
{
	struct fx *f = *state;
	struct mmn_dev_pagemap *pgmap;
	unsigned long dp[NP] = { 0 };
	int owner, r = -EBUSY;

	assert_int_equal(mmn_devmem_create(f->sim, NP, &owner, &dev_ops, &pgmap), 0);
	for (int i = 0; i < NP; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, f->addr + i * PG, 5), 0);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, f->addr, f->addr + NP * PG, pgmap, dp), 0);
	/* the owner: the device pfns, valid, nothing faulted back */
	f->range.dev_private_owner = &owner;
	assert_int_equal(run(f), 0);
	for (int i = 0; i < NP; i++) {
		assert_true(f->pfns[i] & MMN_HMM_PFN_VALID);
		assert_int_equal(mmn_hmm_pfn_to_pfn(f->pfns[i]), dp[i]);
	}
	assert_int_equal(mmn_devmem_migrate_to_ram_calls(pgmap), 0);
	/* another owner, no fault asked: not valid */
	f->range.dev_private_owner = f;
	assert_int_equal(run(f), 0);
	assert_int_equal(f->pfns[0], 0);
	/* another owner, fault asked: migrated back to system memory; the
	 * migration's own invalidation moves the sequence, so the first walk
	 * ends with -EBUSY (one page per walk here) and the driver's retries
	 * find system pages */
	f->range.default_flags = MMN_HMM_PFN_REQ_FAULT;
	assert_int_equal(run(f), -EBUSY);
	for (int i = 0; i < NP && r; i++)
		r = run(f);
	assert_int_equal(r, 0);
	assert_true(f->pfns[0] & MMN_HMM_PFN_VALID);
	assert_int_not_equal(mmn_hmm_pfn_to_pfn(f->pfns[0]), dp[0]);
	assert_true(mmn_devmem_migrate_to_ram_calls(pgmap) > 0);
	assert_int_equal(mmn_munmap(f->mm, f->addr, NP * PG), 0);
	assert_int_equal(mmn_devmem_destroy(pgmap), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_req_fault_maps_missing_pages_readable),
		T(test_no_request_faults_nothing),
		T(test_req_write_breaks_cow_and_reports_write),
		T(test_pfn_flags_mask_requests_per_page),
		T(test_moved_sequence_returns_ebusy),
		T(test_unreadable_vma_is_error_or_efault),
		T(test_write_request_on_read_only_vma_is_eperm),
		T(test_hole_is_zero_or_efault),
		T(test_bad_arguments_are_einval),
		T(test_own_device_pages_returned_others_not),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
