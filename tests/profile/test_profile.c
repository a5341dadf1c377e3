// SPDX-License-Identifier: MIT
/* Profiles and knobs: the named eras, overriding, parsing, printing. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

static void test_every_era_the_issue_names_exists_and_latest_is_default(void **state)
{
	const char *names[] = { "4.12", "4.13", "4.15", "5.2", "5.14", "6.5", "6.6", "6.10",
				"latest" };

	(void)state;
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		assert_non_null(mmn_profile_by_name(names[i]));
		assert_string_equal(mmn_profile_by_name(names[i])->name, names[i]);
		assert_ptr_equal(mmn_profile_at((int)i), mmn_profile_by_name(names[i]));
	}
	assert_int_equal(mmn_profile_count(), 9);
	assert_ptr_equal(mmn_profile_by_name(NULL), mmn_profile_by_name("latest"));
	assert_null(mmn_profile_by_name("4.14"));
	assert_null(mmn_profile_at(9));
	assert_null(mmn_profile_at(-1));
}

/* The history the knobs encode (docs/profiles.md cites the kernel source of each). */
static void test_eras_follow_the_kernel_history(void **state)
{
	(void)state;
	assert_int_equal(mmn_profile_by_name("4.12")->secondary_flush, MMN_SECFLUSH_INVALIDATE_PAGE);
	assert_int_equal(mmn_profile_by_name("4.13")->secondary_flush, MMN_SECFLUSH_CALL_SITES);
	assert_false(mmn_profile_by_name("4.13")->only_end_skips_flush);
	assert_true(mmn_profile_by_name("4.15")->only_end_skips_flush);
	assert_true(mmn_profile_by_name("6.5")->only_end_skips_flush);
	assert_int_equal(mmn_profile_by_name("6.6")->secondary_flush, MMN_SECFLUSH_WITH_CPU_FLUSH);
	assert_false(mmn_profile_by_name("6.6")->only_end_skips_flush);
	assert_false(mmn_profile_by_name("4.15")->events);
	assert_true(mmn_profile_by_name("5.2")->events);
	assert_false(mmn_profile_by_name("4.15")->pmd_share_widen);
	assert_true(mmn_profile_by_name("5.2")->pmd_share_widen);
	assert_true(mmn_profile_by_name("6.6")->change_pte);
	assert_false(mmn_profile_by_name("6.10")->change_pte);
	assert_false(mmn_profile_by_name("5.2")->interval_notifiers);
	assert_true(mmn_profile_by_name("5.14")->device_exclusive);
	assert_false(mmn_profile_by_name("6.10")->exclusive_restore_clear);
	assert_true(mmn_profile_by_name("latest")->exclusive_restore_clear);
	assert_false(mmn_profile_by_name("6.10")->oom_reap_clear);
	assert_true(mmn_profile_by_name("5.2")->numa_map_before_migrate);
	/* mm/khugepaged.c: f268f6cf875f (6.1) brackets the table retraction. */
	assert_false(mmn_profile_by_name("5.14")->file_collapse_notify);
	assert_true(mmn_profile_by_name("6.5")->file_collapse_notify);
	assert_false(mmn_profile_by_name("5.14")->numa_map_before_migrate);
	/* 6.19 mm/oom_kill.c __oom_reap_task_mm(): MMU_NOTIFY_UNMAP. */
	assert_false(mmn_profile_by_name("latest")->oom_reap_clear);
	/* mm/oom_kill.c __oom_reap_task_mm(): no notifier check in 4.12/4.13,
	 * mm_has_notifiers() skip in 4.15. */
	assert_false(mmn_profile_by_name("4.12")->oom_reap_skip_notifiers);
	assert_false(mmn_profile_by_name("4.13")->oom_reap_skip_notifiers);
	assert_true(mmn_profile_by_name("4.15")->oom_reap_skip_notifiers);
	/* fs/proc/task_mmu.c clear_refs_write(): mmap read lock in 5.2, write
	 * lock in 5.14 and 6.19. */
	assert_false(mmn_profile_by_name("5.2")->clear_refs_write_lock);
	assert_true(mmn_profile_by_name("5.14")->clear_refs_write_lock);
	assert_true(mmn_profile_by_name("latest")->clear_refs_write_lock);
	/* 4.12 mm/rmap.c try_to_unmap_one(): ->invalidate_page under the PTL. */
	assert_true(mmn_profile_by_name("4.12")->invalidate_page_under_ptl);
	/* mm/mmu_notifier.c: 5.2 __mmu_notifier_invalidate_range_start() ends
	 * nobody after a failed start, 5.14 mn_hlist_invalidate_range_start()
	 * ends the others. */
	assert_false(mmn_profile_by_name("5.2")->start_failure_ends_others);
	assert_true(mmn_profile_by_name("5.14")->start_failure_ends_others);
	/* mm/mprotect.c: change_pmd_range() starts per PUD (6.6), change_pud_range()
	 * per P4D (6.19). */
	assert_false(mmn_profile_by_name("6.10")->mprotect_start_per_p4d);
	assert_true(mmn_profile_by_name("latest")->mprotect_start_per_p4d);
	/* mm/vmscan.c shrink_folio_list(): TTU_BATCH_FLUSH in every era read
	 * (4.12-6.19); mm/migrate.c migrate_pages_batch() batches from 6.3
	 * (not in 5.19, in 6.5). */
	for (int i = 0; i < mmn_profile_count(); i++)
		assert_true(mmn_profile_at(i)->reclaim_batch_flush);
	assert_false(mmn_profile_by_name("5.14")->migrate_batch_flush);
	assert_true(mmn_profile_by_name("6.5")->migrate_batch_flush);
	assert_true(mmn_profile_by_name("latest")->migrate_batch_flush);
	/* mm/rmap.c: make_device_exclusive_range()'s rmap walk in 5.14 and
	 * 6.5, make_device_exclusive() of one PTE in 6.19. */
	assert_true(mmn_profile_by_name("5.14")->exclusive_via_rmap);
	assert_true(mmn_profile_by_name("6.10")->exclusive_via_rmap);
	assert_false(mmn_profile_by_name("latest")->exclusive_via_rmap);
	/* mm/hugetlb.c __unmap_hugepage_range(): own start/end in 5.14, not 6.5. */
	assert_true(mmn_profile_by_name("4.12")->hugetlb_unmap_nested_notify);
	assert_true(mmn_profile_by_name("5.14")->hugetlb_unmap_nested_notify);
	assert_false(mmn_profile_by_name("6.5")->hugetlb_unmap_nested_notify);
	/* mm/hugetlb.c hugetlb_vm_op_split(): unshares in 6.5, not 5.14. */
	assert_false(mmn_profile_by_name("5.14")->hugetlb_split_unshares);
	assert_true(mmn_profile_by_name("6.5")->hugetlb_split_unshares);
	assert_true(mmn_profile_by_name("latest")->hugetlb_split_unshares);
	/* mm/userfaultfd.c mwriteprotect_range(): absent in 5.2.1, present
	 * 5.8.1+; uffd_wp_range() with MM_CP_TRY_CHANGE_WRITABLE and the
	 * unregister's un-protect from 6.5 (not 5.19); move_pages() 6.8+. */
	assert_false(mmn_profile_by_name("5.2")->uffd_wp);
	assert_true(mmn_profile_by_name("5.14")->uffd_wp);
	assert_false(mmn_profile_by_name("5.14")->uffd_wp_unprotect_writable);
	assert_false(mmn_profile_by_name("5.14")->uffd_unregister_unprotects);
	assert_true(mmn_profile_by_name("6.5")->uffd_wp_unprotect_writable);
	assert_true(mmn_profile_by_name("6.5")->uffd_unregister_unprotects);
	assert_false(mmn_profile_by_name("6.6")->uffd_move);
	assert_true(mmn_profile_by_name("latest")->uffd_move);
	assert_false(mmn_profile_by_name("6.6")->uffd_wp_async);
	assert_true(mmn_profile_by_name("latest")->uffd_wp_async);
	/* mm/hugetlb.c copy_hugetlb_page_range(): ->invalidate_range() after
	 * the write-protect in 4.13.4, not in 4.15. */
	assert_false(mmn_profile_by_name("4.13")->hugetlb_fork_secflush_at_end);
	assert_true(mmn_profile_by_name("4.15")->hugetlb_fork_secflush_at_end);
	/* mm/mremap.c: vma_to_resize() refuses hugetlb in 5.14;
	 * move_hugetlb_page_tables() in 5.19 (6.5 profile on). */
	assert_false(mmn_profile_by_name("5.14")->mremap_hugetlb);
	assert_true(mmn_profile_by_name("6.5")->mremap_hugetlb);
	assert_true(mmn_profile_by_name("latest")->mremap_hugetlb);
	for (int i = 0; i < mmn_profile_count(); i++)
		assert_int_equal(mmn_profile_at(i)->arch, MMN_ARCH_X86);
	for (int i = 0; i < mmn_profile_count(); i++)
		assert_false(mmn_profile_at(i)->put_page_before_secondary_flush);
}

static void test_set_knob_changes_one_knob_and_marks_the_profile_custom(void **state)
{
	struct mmn_profile p = *mmn_profile_by_name("6.6");
	char buf[32];

	(void)state;
	assert_int_equal(mmn_profile_set_knob(&p, "secondary_flush", "range_end"), 0);
	assert_int_equal(p.secondary_flush, MMN_SECFLUSH_RANGE_END);
	assert_string_equal(p.name, "custom");
	assert_int_equal(mmn_profile_set_knob(&p, "events", "false"), 0);
	assert_false(p.events);
	assert_int_equal(mmn_profile_set_knob(&p, "events", "1"), 0);
	assert_true(p.events);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "64"), 0);
	assert_int_equal(p.tlb_flush_ceiling, 64);
	assert_int_equal(mmn_profile_knob_value(&p, "secondary_flush", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "range_end");
	assert_int_equal(mmn_profile_knob_value(&p, "tlb_flush_ceiling", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "64");
	assert_int_equal(mmn_profile_knob_value(&p, "arch", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "x86");
	assert_int_equal(mmn_profile_set_knob(&p, "arch", "arm64"), 0);
	assert_int_equal(p.arch, MMN_ARCH_ARM64);
	assert_int_equal(mmn_profile_knob_value(&p, "arch", buf, sizeof(buf)), 0);
	assert_string_equal(buf, "arm64");
	assert_int_equal(mmn_profile_set_knob(&p, "arch", "riscv"), -ERANGE);
	assert_int_equal(p.arch, MMN_ARCH_ARM64);
}

static void test_bad_knobs_and_values_are_refused_and_change_nothing(void **state)
{
	struct mmn_profile p = *mmn_profile_by_name("latest"), before = p;
	char buf[4];

	(void)state;
	assert_int_equal(mmn_profile_set_knob(&p, "no_such_knob", "true"), -ENOENT);
	assert_int_equal(mmn_profile_set_knob(&p, "events", "maybe"), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(&p, "secondary_flush", "later"), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "-3"), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "12x"), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", ""), -ERANGE);
	/* Numbers are digits only (issue 11): no blank, no sign. */
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", " 5"), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "\t5"), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "+5"), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "5 "), -ERANGE);
	assert_int_equal(mmn_profile_set_knob(NULL, "events", "true"), -EINVAL);
	assert_int_equal(mmn_profile_set_knob(&p, NULL, "true"), -EINVAL);
	assert_int_equal(mmn_profile_set_knob(&p, "events", NULL), -EINVAL);
	assert_memory_equal(&p, &before, sizeof(p));
	assert_int_equal(mmn_profile_knob_value(&p, "secondary_flush", buf, sizeof(buf)), -EINVAL);
	assert_int_equal(mmn_profile_knob_value(&p, "nope", buf, sizeof(buf)), -ENOENT);
}

static void test_knob_numbers_of_digits_are_accepted(void **state)
{
	struct mmn_profile p = *mmn_profile_by_name("latest");

	(void)state;
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "5"), 0);
	assert_int_equal(p.tlb_flush_ceiling, 5);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "0"), 0);
	assert_int_equal(p.tlb_flush_ceiling, 0);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "1000000"), 0);
	assert_int_equal(p.tlb_flush_ceiling, 1000000);
	assert_int_equal(mmn_profile_set_knob(&p, "tlb_flush_ceiling", "1000001"), -ERANGE);
}

static void test_every_knob_round_trips_through_text(void **state)
{
	struct mmn_profile p = *mmn_profile_by_name("4.15");

	(void)state;
	assert_true(mmn_profile_knob_count() >= 6);
	for (int i = 0; i < mmn_profile_knob_count(); i++) {
		struct mmn_profile q = *mmn_profile_by_name("latest");
		char buf[32];

		assert_int_equal(mmn_profile_knob_value(&p, mmn_profile_knob_name(i), buf, sizeof(buf)), 0);
		assert_int_equal(mmn_profile_set_knob(&q, mmn_profile_knob_name(i), buf), 0);
		assert_int_equal(mmn_profile_knob_value(&q, mmn_profile_knob_name(i), buf, sizeof(buf)), 0);
	}
	assert_null(mmn_profile_knob_name(mmn_profile_knob_count()));
}

static void test_print_lists_every_knob(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *out = open_memstream(&text, &len);

	(void)state;
	mmn_profile_print(mmn_profile_by_name("6.5"), out);
	fclose(out);
	assert_non_null(strstr(text, "profile 6.5"));
	for (int i = 0; i < mmn_profile_knob_count(); i++)
		assert_non_null(strstr(text, mmn_profile_knob_name(i)));
	free(text);
}

static void test_simulation_takes_a_profile_by_name_and_knob_overrides(void **state)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.profile = "4.15";
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	assert_string_equal(mmn_sim_profile(sim)->name, "4.15");
	assert_int_equal(mmn_sim_set_knob(sim, "only_end_skips_flush", "false"), 0);
	assert_false(mmn_sim_profile(sim)->only_end_skips_flush);
	assert_int_equal(mmn_sim_set_knob(sim, "bogus", "false"), -ENOENT);
	assert_int_equal(mmn_sim_set_knob(sim, "events", "perhaps"), -ERANGE);
	assert_false(mmn_sim_profile(sim)->events);
	assert_int_equal(mmn_sim_set_knob(NULL, "events", "true"), -EINVAL);
	mmn_sim_destroy(sim);
	sim = mmn_sim_create(NULL);
	assert_string_equal(mmn_sim_profile(sim)->name, "latest");
	mmn_sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_era_the_issue_names_exists_and_latest_is_default),
		cmocka_unit_test(test_eras_follow_the_kernel_history),
		cmocka_unit_test(test_set_knob_changes_one_knob_and_marks_the_profile_custom),
		cmocka_unit_test(test_bad_knobs_and_values_are_refused_and_change_nothing),
		cmocka_unit_test(test_knob_numbers_of_digits_are_accepted),
		cmocka_unit_test(test_every_knob_round_trips_through_text),
		cmocka_unit_test(test_print_lists_every_knob),
		cmocka_unit_test(test_simulation_takes_a_profile_by_name_and_knob_overrides),
	};

	return cmocka_run_group_tests_name("profile", tests, NULL, NULL);
}
