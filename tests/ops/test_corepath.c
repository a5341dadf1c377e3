// SPDX-License-Identifier: MIT
/*
 * The public building blocks of a core-mm path (corepath.h): each refuses
 * bad arguments with its errno, reports the kernel-bug misuses through the
 * oracle (a PTE changed without its PTL, a folio unlocked twice, a mapcount
 * underflow), and notifies as the library's own call sites do under the
 * profile (the call-site ->invalidate_range() of 3.19-6.5, the event before
 * 5.2, the secondary flush a frame owes until the range end).
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

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	unsigned long addr; /* two written pages */
};

static void fx_init(struct fx *f, const char *profile)
{
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 256;
	cfg.profile = profile;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	assert_int_equal(mmn_mmap(f->mm, 0, 2 * PG, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &f->addr), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->addr, 7), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->addr + PG, 8), 0);
}

static void fx_fini(struct fx *f)
{
	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
}

static void test_map_lock_refuses_bad_arguments_and_a_missing_mmap_lock(void **state)
{
	struct fx f;
	struct mmn_pte_slot s;

	(void)state;
	fx_init(&f, NULL);
	mmn_mmap_read_lock(f.mm);
	assert_int_equal(mmn_pte_offset_map_lock(NULL, f.addr, &s), -EINVAL);
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, f.addr, NULL), -EINVAL);
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, f.addr + 1, &s), -EINVAL);
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, MMN_TASK_SIZE, &s), -EFAULT);
	/* Nothing mapped at 1 GiB: no PTE table. */
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, 1UL << 30, &s), -ENOENT);
	assert_int_equal(f.cap.n, 0);
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, f.addr, &s), 0);
	assert_int_equal(mmn_pte_unmap_unlock(&s), 0);
	assert_int_equal(mmn_pte_unmap_unlock(&s), -EINVAL); /* twice */
	mmn_mmap_read_unlock(f.mm);
	/* Without the mmap_lock: reported (lockdep) and refused. */
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, f.addr, &s), -EINVAL);
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_PROTOCOL), 1);
	fx_fini(&f);
}

static void test_map_lock_without_lockdep_refuses_an_unheld_mmap_lock_quietly(void **state)
{
	struct mmn_sim_config cfg;
	struct mmn_pte_slot s;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long addr;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.lockdep = false;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	mm = mmn_mm_create(sim);
	assert_int_equal(mmn_mmap(mm, 0, PG, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &addr), 0);
	assert_int_equal(mmn_cpu_write(mm, 0, addr, 1), 0);
	assert_int_equal(mmn_pte_offset_map_lock(mm, addr, &s), -EINVAL);
	mmn_mmap_read_lock(mm);
	assert_int_equal(mmn_pte_offset_map_lock(mm, addr, &s), 0);
	assert_int_equal(mmn_pte_unmap_unlock(&s), 0);
	mmn_mmap_read_unlock(mm);
	assert_int_equal(mmn_check_total(sim), 0);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

static void test_entry_change_without_the_ptl_is_reported_and_refused(void **state)
{
	struct fx f;
	struct mmn_pte_slot s;
	mmn_pte_t e, old;

	(void)state;
	fx_init(&f, NULL);
	mmn_mmap_read_lock(f.mm);
	assert_int_equal(mmn_pte_offset_map_nolock(f.mm, f.addr, &s), 0);
	assert_int_equal(mmn_ptep_get(&s, &e), 0); /* reading needs no PTL */
	assert_true(mmn_pte_present(e));
	assert_int_equal(mmn_ptep_get_and_clear(&s, &old), -EINVAL);
	assert_int_equal(mmn_set_pte_at(&s, e), -EINVAL);
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_PROTOCOL), 2);
	assert_int_equal(mmn_pte_unmap_unlock(&s), -EINVAL); /* not locked */
	/* With the PTL: done, nothing reported. */
	assert_int_equal(mmn_pte_lock(&s), 0);
	assert_int_equal(mmn_pte_lock(&s), -EINVAL);
	assert_int_equal(mmn_ptep_get_and_clear(&s, &old), 0);
	assert_int_equal(old, e);
	assert_int_equal(mmn_set_pte_at(&s, e), 0);
	assert_int_equal(mmn_pte_unmap_unlock(&s), 0);
	assert_int_equal(mmn_pte_unmap(&s), -EINVAL);
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_PROTOCOL), 2);
	mmn_mmap_read_unlock(f.mm);
	assert_int_equal(mmn_audit(f.sim), 0);
	fx_fini(&f);
}

static void test_set_pte_at_refuses_a_used_slot_a_huge_entry_and_a_bad_frame(void **state)
{
	struct fx f;
	struct mmn_pte_slot s;
	struct mmn_walk w;
	unsigned long free_pfn;
	mmn_pte_t e;

	(void)state;
	fx_init(&f, NULL);
	mmn_mmap_read_lock(f.mm);
	assert_int_equal(mmn_pte_offset_map_lock(f.mm, f.addr, &s), 0);
	assert_int_equal(mmn_ptep_get(&s, &e), 0);
	assert_int_equal(mmn_set_pte_at(&s, e), -EBUSY);
	assert_int_equal(mmn_ptep_get_and_clear(&s, NULL), 0);
	assert_int_equal(mmn_set_pte_at(&s, e | MMN_PTE_HUGE), -EINVAL);
	assert_int_equal(mmn_set_pte_at(&s, mmn_mk_pte(1UL << 30, 0)), -EINVAL);
	free_pfn = mmn_alloc_page(f.sim, 0);
	assert_int_equal(mmn_put_page(f.sim, free_pfn), 0);
	assert_int_equal(mmn_set_pte_at(&s, mmn_mk_pte(free_pfn, 0)), -EINVAL); /* a free frame */
	assert_int_equal(mmn_set_pte_at(&s, e), 0); /* the none entry written back */
	assert_int_equal(mmn_pte_unmap_unlock(&s), 0);
	mmn_mmap_read_unlock(f.mm);
	assert_int_equal(mmn_pgtable_walk(f.mm, f.addr, &w), 0);
	assert_int_equal(w.entry, e);
	assert_int_equal(f.cap.n, 0);
	fx_fini(&f);
}

static void test_folio_misuse_is_reported(void **state)
{
	struct fx f;
	unsigned long pfn;

	(void)state;
	fx_init(&f, NULL);
	pfn = mmn_alloc_page(f.sim, 0);
	assert_true(pfn != 0);
	assert_int_equal(mmn_folio_lock(NULL, pfn), -EINVAL);
	assert_int_equal(mmn_folio_lock(f.sim, 1UL << 30), -EINVAL);
	assert_int_equal(mmn_folio_lock(f.sim, MMN_ZERO_PFN), -EINVAL);
	assert_int_equal(mmn_folio_trylock(f.sim, pfn), 1);
	assert_int_equal(mmn_folio_trylock(f.sim, pfn), 0);
	assert_int_equal(mmn_folio_unlock(f.sim, pfn), 0);
	assert_int_equal(mmn_folio_lock(f.sim, pfn), 0);
	assert_int_equal(mmn_folio_unlock(f.sim, pfn), 0);
	assert_int_equal(f.cap.n, 0);
	assert_int_equal(mmn_folio_unlock(f.sim, pfn), -EINVAL); /* not locked */
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_PROTOCOL), 1);
	assert_int_equal(mmn_folio_add_rmap_pte(f.sim, pfn), 0);
	assert_int_equal(mmn_folio_remove_rmap_pte(f.sim, pfn), 0);
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_ACCOUNTING), 0);
	assert_int_equal(mmn_folio_remove_rmap_pte(f.sim, pfn), -EINVAL); /* underflow */
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_ACCOUNTING), 1);
	assert_int_equal(mmn_put_page(f.sim, pfn), 0);
	assert_int_equal(mmn_folio_lock(f.sim, pfn), -ENOENT); /* free */
	fx_fini(&f);
}

/* invalidate_range calls, for the call-site test. */
static unsigned long nr_invalidate_range;

static void count_range(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long s,
			unsigned long e)
{
	(void)sub;
	(void)mm;
	(void)s;
	(void)e;
	nr_invalidate_range++;
}

static const struct mmn_notifier_ops counting_ops = {
	.invalidate_range = count_range,
	.arch_invalidate_secondary_tlbs = count_range,
};

/*
 * Zap the first page from corepath.h's blocks: S, L, clear (notify or not),
 * rmap, U, then either the put first and E after (@put_before_end) or E
 * then put. Returns the invalidate_range calls made before E.
 */
static unsigned long zap(struct fx *f, bool notify, bool put_before_end)
{
	struct mmn_notifier_range r;
	struct mmn_pte_slot s;
	mmn_pte_t old;
	unsigned long before_end;

	nr_invalidate_range = 0;
	mmn_mmap_read_lock(f->mm);
	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f->mm, f->addr, f->addr + PG,
						 NULL), 0);
	assert_int_equal(mmn_corepath_range_start(&r), 0);
	assert_int_equal(mmn_pte_offset_map_lock(f->mm, f->addr, &s), 0);
	if (notify)
		assert_int_equal(mmn_ptep_clear_flush_notify(&s, &old), 0);
	else
		assert_int_equal(mmn_ptep_clear_flush(&s, &old), 0);
	assert_int_equal(mmn_folio_remove_rmap_pte(f->sim, mmn_pte_pfn(old)), 0);
	assert_int_equal(mmn_pte_unmap_unlock(&s), 0);
	if (put_before_end)
		assert_int_equal(mmn_put_page(f->sim, mmn_pte_pfn(old)), 0);
	before_end = nr_invalidate_range;
	assert_int_equal(mmn_corepath_range_end(&r), 0);
	if (!put_before_end)
		assert_int_equal(mmn_put_page(f->sim, mmn_pte_pfn(old)), 0);
	mmn_mmap_read_unlock(f->mm);
	return before_end;
}

static void test_clear_flush_notify_flushes_where_the_profile_says(void **state)
{
	struct mmn_notifier sub = { .ops = &counting_ops };
	struct fx f;

	(void)state;
	/* 3.19-6.5 call sites: ->invalidate_range() under the PTL; the plain
	 * ptep_clear_flush() does not call it (end does). */
	fx_init(&f, "6.5");
	assert_int_equal(mmn_notifier_register(&sub, f.mm), 0);
	assert_int_equal(zap(&f, true, false), 1);
	assert_int_equal(zap(&f, false, false), 0);
	assert_int_equal(mmn_notifier_unregister(&sub, f.mm), 0);
	assert_int_equal(f.cap.n, 0);
	fx_fini(&f);
}

static void test_free_before_the_range_end_owes_a_deferred_flush(void **state)
{
	struct mmn_notifier sub = { .ops = &counting_ops };
	struct fx f;

	(void)state;
	/* range_end: the secondary flush is at end; freeing first is reported. */
	fx_init(&f, "6.5");
	assert_int_equal(mmn_sim_set_knob(f.sim, "secondary_flush", "range_end"), 0);
	assert_int_equal(mmn_notifier_register(&sub, f.mm), 0);
	(void)zap(&f, true, true);
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_PROTOCOL), 1);
	(void)zap(&f, true, false);
	assert_int_equal(mmn_check_count(f.sim, MMN_VIOL_PROTOCOL), 1);
	assert_int_equal(mmn_notifier_unregister(&sub, f.mm), 0);
	fx_fini(&f);
	/* 6.6+: the flush is inside the CPU flush; nothing is owed. */
	fx_init(&f, "latest");
	assert_int_equal(mmn_notifier_register(&sub, f.mm), 0);
	(void)zap(&f, true, true);
	assert_int_equal(f.cap.n, 0);
	assert_int_equal(mmn_notifier_unregister(&sub, f.mm), 0);
	fx_fini(&f);
}

static void test_range_init_checks_and_reads_the_events_knob(void **state)
{
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, "4.15"); /* before 5.2: listeners see UNMAP */
	assert_int_equal(mmn_corepath_range_init(NULL, MMN_NOTIFY_CLEAR, f.mm, 0, PG, NULL), -EINVAL);
	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, NULL, 0, PG, NULL), -EINVAL);
	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f.mm, 1, PG, NULL), -EINVAL);
	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f.mm, PG, PG, NULL), -EINVAL);
	assert_int_equal(mmn_corepath_range_init(&r, (enum mmn_notify_event)99, f.mm, 0, PG, NULL),
			 -EINVAL);
	assert_int_equal(mmn_corepath_range_start(NULL), -EINVAL);
	assert_int_equal(mmn_corepath_range_end(NULL), -EINVAL);
	assert_int_equal(mmn_corepath_range_only_end(NULL), -EINVAL);
	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f.mm, 0, PG, NULL), 0);
	assert_int_equal(r.event, MMN_NOTIFY_UNMAP);
	fx_fini(&f);
	fx_init(&f, "latest");
	assert_int_equal(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f.mm, 0, PG, NULL), 0);
	assert_int_equal(r.event, MMN_NOTIFY_CLEAR);
	assert_int_equal(mmn_corepath_range_start(&r), 0);
	assert_int_equal(mmn_corepath_range_only_end(&r), 0);
	assert_int_equal(f.cap.n, 0);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_map_lock_refuses_bad_arguments_and_a_missing_mmap_lock),
		cmocka_unit_test(test_map_lock_without_lockdep_refuses_an_unheld_mmap_lock_quietly),
		cmocka_unit_test(test_entry_change_without_the_ptl_is_reported_and_refused),
		cmocka_unit_test(test_set_pte_at_refuses_a_used_slot_a_huge_entry_and_a_bad_frame),
		cmocka_unit_test(test_folio_misuse_is_reported),
		cmocka_unit_test(test_clear_flush_notify_flushes_where_the_profile_says),
		cmocka_unit_test(test_free_before_the_range_end_owes_a_deferred_flush),
		cmocka_unit_test(test_range_init_checks_and_reads_the_events_knob),
	};

	return cmocka_run_group_tests_name("corepath", tests, NULL, NULL);
}
