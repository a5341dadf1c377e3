// SPDX-License-Identifier: MIT
/*
 * The bad-argument sweep (issue 11, "keep it so"): every public function of
 * include/mmnsim/ is called with NULL, zero and huge lengths, unaligned and
 * wrapping ranges, out-of-range enums and pfns, and on destroyed objects
 * whose memory is still valid to touch (a torn-down mm kept by mmgrab, a
 * destroyed pagemap, a destroyed lock). Each call's outcome is asserted:
 *   ERR(call, E)    returns -E and reports nothing;
 *   VIOL(stmt, K)   reports exactly one violation, of kind K;
 *   OK(stmt)        a documented acceptance: no report (and no crash).
 * Every check is paired with the right input, which stays silent.
 * docs/reliability.md tabulates the outcomes. Runs under every preset
 * (debug-asan: ASan + UBSan catch what an assertion cannot).
 *
 * The sweep records every mismatch and fails each test at its end, so one
 * run lists them all.
 */
#include <errno.h>
#include <limits.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>
#include <mmnsim/listeners/hmm.h>
#include <mmnsim/listeners/iommu.h>
#include <mmnsim/listeners/kvm.h>

#include "support/capture.h"

#define PG 4096UL
#define BASE 0x100000UL
#define HUGE_LEN (~0UL - PG + 1)   /* page-aligned, wraps from any address */

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	int bad;                      /* mismatches so far */
};

static struct fx *FX;

static unsigned long viol_total(void)
{
	return mmn_check_total(FX->sim);
}

static void mismatch(const char *what, int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "test_bad_args.c:%d: %s: ", line, what);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	FX->bad++;
}

/* @call returns -@e and reports nothing. */
#define ERR(call, e)                                                                      \
	do {                                                                              \
		unsigned long v0_ = viol_total();                                         \
		long r_ = (long)(call);                                                   \
		if (r_ != -(long)(e))                                                     \
			mismatch(#call, __LINE__, "returned %ld, expected -%s", r_, #e);  \
		if (viol_total() != v0_)                                                  \
			mismatch(#call, __LINE__, "reported %lu violation(s): %s",       \
				 viol_total() - v0_, FX->cap.last_msg);                   \
	} while (0)

/* @call returns @want and reports nothing (a documented acceptance). */
#define RET(call, want)                                                                   \
	do {                                                                              \
		unsigned long v0_ = viol_total();                                         \
		long r_ = (long)(call);                                                   \
		if (r_ != (long)(want))                                                   \
			mismatch(#call, __LINE__, "returned %ld, expected %ld", r_,       \
				 (long)(want));                                           \
		if (viol_total() != v0_)                                                  \
			mismatch(#call, __LINE__, "reported %lu violation(s): %s",       \
				 viol_total() - v0_, FX->cap.last_msg);                   \
	} while (0)

/* @stmt runs and reports nothing. */
#define OK(stmt)                                                                          \
	do {                                                                              \
		unsigned long v0_ = viol_total();                                         \
		stmt;                                                                     \
		if (viol_total() != v0_)                                                  \
			mismatch(#stmt, __LINE__, "reported %lu violation(s): %s",       \
				 viol_total() - v0_, FX->cap.last_msg);                   \
	} while (0)

/* @call returns -@e and reports exactly one violation, of kind @k. */
#define ERRV(call, e, k)                                                                  \
	do {                                                                              \
		unsigned long v0_ = viol_total(), k0_ = mmn_check_count(FX->sim, k);      \
		long r_ = (long)(call);                                                   \
		if (r_ != -(long)(e))                                                     \
			mismatch(#call, __LINE__, "returned %ld, expected -%s", r_, #e);  \
		if (viol_total() != v0_ + 1 || mmn_check_count(FX->sim, k) != k0_ + 1)    \
			mismatch(#call, __LINE__, "reported %lu violation(s), expected one " \
				 "%s", viol_total() - v0_, #k);                           \
	} while (0)

/* @stmt reports exactly one violation, of kind @k. */
#define VIOL(stmt, k)                                                                     \
	do {                                                                              \
		unsigned long v0_ = viol_total(), k0_ = mmn_check_count(FX->sim, k);      \
		stmt;                                                                     \
		if (viol_total() != v0_ + 1 || mmn_check_count(FX->sim, k) != k0_ + 1)    \
			mismatch(#stmt, __LINE__, "reported %lu violation(s), expected one " \
				 "%s", viol_total() - v0_, #k);                           \
	} while (0)

static struct fx *fx_new(const char *profile)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	assert_non_null(f);
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 2048;
	cfg.nr_huge_pages = 2;
	cfg.profile = profile;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	FX = f;
	return f;
}

static int setup(void **state)
{
	*state = fx_new(NULL);
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;
	int bad = f->bad;

	if (f->mm)
		mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
	assert_int_equal(bad, 0);
	return 0;
}

/* A private anonymous mapping of @pages pages at BASE, populated. */
static void map_base(struct fx *f, unsigned long pages)
{
	unsigned long a = 0;

	assert_int_equal(mmn_mmap(f->mm, BASE, pages * PG, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED |
					  MMN_MAP_POPULATE,
				  &a),
			 0);
	assert_int_equal(a, BASE);
}

/* ------------------------------------------------------------------ */
/* NULL                                                                */
/* ------------------------------------------------------------------ */

static void test_null_sim_check_clock_page(void **state)
{
	unsigned long pfn = 0;
	uint64_t v = 0;

	(void)state;
	OK(mmn_check_set_handler(NULL, NULL, NULL));
	RET(mmn_check_count(NULL, MMN_VIOL_PROTOCOL), 0);
	RET(mmn_check_total(NULL), 0);
	OK(mmn_check_reset(NULL));
	OK(mmn_check_report(NULL, NULL));
	OK(mmn_check_report(FX->sim, NULL));
	ERR(mmn_check_register_secondary(NULL, "x", NULL, FX), EINVAL);
	ERR(mmn_check_register_secondary(FX->sim, "x", NULL, FX), EINVAL);
	ERR(mmn_check_unregister_secondary(NULL, FX), EINVAL);
	ERR(mmn_check_unregister_secondary(FX->sim, FX), ENOENT);
	ERR(mmn_check_quiescent(NULL), EINVAL);
	ERR(mmn_audit(NULL), EINVAL);

	ERR(mmn_cost_by_name(NULL), EINVAL);
	ERR(mmn_cost_set(NULL, 0, 1), EINVAL);
	RET(mmn_cost_get(NULL, 0), 0);
	ERR(mmn_cost_knob_parse(NULL, "1", NULL, NULL), EINVAL);
	ERR(mmn_cost_knob_parse("x", NULL, NULL, NULL), EINVAL);
	ERR(mmn_clock_charge(NULL, 0, 1), EINVAL);
	RET(mmn_clock_now(NULL), 0);
	RET(mmn_clock_events(NULL, 0), 0);
	RET(mmn_clock_charged(NULL, 0), 0);

	ERR(mmn_page_info(NULL, 1, NULL), EINVAL);
	ERR(mmn_page_info(FX->sim, 1, NULL), EINVAL);
	RET(mmn_page_gen(NULL, 1), 0);
	RET(mmn_alloc_page(NULL, 0), 0);
	ERR(mmn_get_page(NULL, 1), EINVAL);
	ERR(mmn_put_page(NULL, 1), EINVAL);
	ERR(mmn_phys_access(NULL, 1, 0, 0, false, &v), EINVAL);
	ERR(mmn_phys_access(FX->sim, 1, 0, 0, false, NULL), EINVAL);
	ERR(mmn_unpin_user_page(NULL, 1), EINVAL);
	(void)pfn;

	OK(mmn_sim_config_init(NULL));
	OK(mmn_sim_destroy(NULL));
	RET(mmn_sim_config_get(NULL), NULL);
	RET(mmn_sim_profile(NULL), NULL);
	ERR(mmn_sim_set_knob(NULL, "only_end", "1"), EINVAL);
	ERR(mmn_sim_set_knob(FX->sim, NULL, "1"), EINVAL);
	ERR(mmn_sim_set_knob(FX->sim, "only_end", NULL), EINVAL);
	OK(mmn_sim_get_stats(NULL, NULL));
	OK(mmn_sim_get_stats(FX->sim, NULL));
}

static void test_null_mm_ops(void **state)
{
	struct mmn_vma_info vi;
	struct mmn_walk w;
	struct mmn_mm *child = NULL;
	unsigned long pfn, a;
	uint64_t v;

	(void)state;
	errno = 0;
	RET(mmn_mm_create(NULL), NULL);
	assert_int_equal(errno, EINVAL);
	OK(mmn_mm_get(NULL));
	OK(mmn_mm_put(NULL));
	OK(mmn_mmgrab(NULL));
	OK(mmn_mmdrop(NULL));
	RET(mmn_mm_sim(NULL), NULL);
	RET(mmn_mm_id(NULL), 0);
	RET(mmn_mm_users(NULL), 0);
	ERR(mmn_mmap(NULL, 0, PG, MMN_PROT_READ, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &a), EINVAL);
	ERR(mmn_munmap(NULL, BASE, PG), EINVAL);
	ERR(mmn_cpu_read(NULL, 0, BASE, &v), EINVAL);
	ERR(mmn_cpu_read(FX->mm, 0, BASE, NULL), EINVAL);
	ERR(mmn_cpu_write(NULL, 0, BASE, 1), EINVAL);
	ERR(mmn_find_vma(NULL, BASE, &vi), EINVAL);
	ERR(mmn_find_vma(FX->mm, BASE, NULL), EINVAL);
	RET(mmn_vma_count(NULL), 0);
	ERR(mmn_vma_at(NULL, 0, &vi), EINVAL);
	ERR(mmn_vma_at(FX->mm, 0, NULL), EINVAL);
	ERR(mmn_pgtable_walk(NULL, BASE, &w), EINVAL);
	ERR(mmn_pgtable_walk(FX->mm, BASE, NULL), EINVAL);
	ERR(mmn_tlb_lookup(NULL, 0, BASE, NULL), EINVAL);
	OK(mmn_flush_tlb_page(NULL, BASE));
	OK(mmn_flush_tlb_range(NULL, BASE, BASE + PG));
	OK(mmn_flush_tlb_mm(NULL));
	OK(mmn_mmap_assert_locked(NULL));
	OK(mmn_mmap_read_lock(NULL));
	RET(mmn_mmap_read_trylock(NULL), 0);
	OK(mmn_mmap_read_unlock(NULL));
	OK(mmn_mmap_write_lock(NULL));
	OK(mmn_mmap_write_downgrade(NULL));
	OK(mmn_mmap_write_unlock(NULL));
	RET(mmn_mmap_read_trylock(FX->mm), 1);  /* the right input */
	OK(mmn_mmap_read_unlock(FX->mm); mmn_mmap_write_lock(FX->mm);
	   mmn_mmap_write_downgrade(FX->mm); mmn_mmap_read_unlock(FX->mm));

	ERR(mmn_handle_mm_fault(NULL, BASE, 0), EINVAL);
	ERR(mmn_get_user_pages(NULL, BASE, 0, &pfn, NULL), EINVAL);
	ERR(mmn_get_user_pages(FX->mm, BASE, 0, NULL, NULL), EINVAL);
	ERR(mmn_mprotect(NULL, BASE, PG, MMN_PROT_READ), EINVAL);
	ERR(mmn_change_prot_numa(NULL, BASE, PG), EINVAL);
	ERR(mmn_madvise(NULL, BASE, PG, MMN_MADV_DONTNEED), EINVAL);
	ERR(mmn_clear_refs_soft_dirty(NULL), EINVAL);
	ERR(mmn_oom_reap(NULL, NULL), EINVAL);
	ERR(mmn_mremap(NULL, BASE, PG, PG, 0, 0, NULL), EINVAL);
	ERR(mmn_fork(NULL, &child), EINVAL);
	ERR(mmn_fork(FX->mm, NULL), EINVAL);
	ERR(mmn_try_to_unmap(NULL, BASE, PG), EINVAL);
	ERR(mmn_migrate_pages(NULL, BASE, PG), EINVAL);
	ERR(mmn_ksm_merge(NULL, BASE, FX->mm, BASE + PG), EINVAL);
	ERR(mmn_ksm_merge(FX->mm, BASE, NULL, BASE + PG), EINVAL);
	ERR(mmn_split_huge_pmd(NULL, BASE), EINVAL);
	ERR(mmn_collapse_huge_page(NULL, BASE), EINVAL);
	ERR(mmn_op_get_stats(NULL, MMN_OP_MREMAP, NULL), EINVAL);
	ERR(mmn_make_device_exclusive(NULL, BASE, NULL, &pfn), EINVAL);
	ERR(mmn_make_device_exclusive(FX->mm, BASE, NULL, NULL), EINVAL);
	ERR(mmn_migrate_vma_to_device(NULL, BASE, BASE + PG, NULL, &pfn), EINVAL);
	ERR(mmn_migrate_vma_to_ram(NULL, BASE, BASE + PG, NULL, &pfn), EINVAL);
	ERR(mmn_devmem_create(NULL, 1, NULL, NULL, NULL), EINVAL);
	ERR(mmn_devmem_destroy(NULL), EINVAL);
	RET(mmn_devmem_nr_free(NULL), 0);
	RET(mmn_devmem_migrate_to_ram_calls(NULL), 0);
	ERR(mmn_devmem_migrate_to_ram_default(NULL, FX->mm, BASE, 1), EINVAL);
	OK(mmn_device_exclusive_release(NULL, 1));
}

static void test_null_gather(void **state)
{
	struct mmn_mmu_gather tlb;

	(void)state;
	OK(mmn_tlb_gather_mmu(NULL, FX->mm));
	OK(mmn_tlb_gather_mmu_fullmm(NULL, FX->mm));
	OK(mmn_tlb_flush_pte_range(NULL, BASE, PG));
	ERR(mmn_tlb_remove_page(NULL, 1), EINVAL);
	ERR(mmn_tlb_remove_table(NULL, 1), EINVAL);
	OK(mmn_tlb_flush_mmu_tlbonly(NULL));
	OK(mmn_tlb_flush_mmu(NULL));
	OK(mmn_tlb_finish_mmu(NULL));
	/* A gather without an mm: every call a no-op, nothing queued. */
	OK(mmn_tlb_gather_mmu(&tlb, NULL));
	ERR(mmn_tlb_remove_page(&tlb, 1), EINVAL);
	ERR(mmn_tlb_remove_table(&tlb, 1), EINVAL);
	OK(mmn_tlb_flush_pte_range(&tlb, BASE, PG));
	OK(mmn_tlb_finish_mmu(&tlb));
}

static void test_null_notifier(void **state)
{
	static const struct mmn_interval_notifier_ops iops = { 0 };
	struct mmn_interval_notifier isub;
	struct mmn_notifier sub;

	(void)state;
	memset(&sub, 0, sizeof(sub));
	memset(&isub, 0, sizeof(isub));
	RET(mmn_notifier_range_update_to_read_only(NULL), false);
	ERR(mmn_notifier_register(NULL, FX->mm), EINVAL);
	ERR(mmn_notifier_register(&sub, NULL), EINVAL);
	ERR(__mmn_notifier_register(NULL, FX->mm), EINVAL);
	ERR(mmn_notifier_unregister(NULL, FX->mm), EINVAL);
	ERR(mmn_notifier_unregister(&sub, NULL), EINVAL);
	RET(mmn_notifier_get_locked(NULL, FX->mm), NULL);
	RET(mmn_notifier_get(NULL, FX->mm), NULL);
	OK(mmn_notifier_put(NULL));
	OK(mmn_notifier_synchronize(NULL));
	OK(mmn_notifier_invalidate_range_start(NULL));
	ERR(mmn_notifier_invalidate_range_start_nonblock(NULL), EINVAL);
	OK(mmn_notifier_invalidate_range_end(NULL));
	OK(mmn_notifier_arch_invalidate_secondary_tlbs(NULL, 0, PG));
	RET(mmn_notifier_clear_flush_young(NULL, 0, PG), 0);
	RET(mmn_notifier_clear_young(NULL, 0, PG), 0);
	RET(mmn_notifier_test_young(NULL, 0), 0);
	OK(mmn_notifier_release(NULL));
	OK(mmn_notifier_invalidate_page(NULL, 0));
	OK(mmn_notifier_invalidate_range(NULL, 0, PG));
	OK(mmn_notifier_change_pte(NULL, 0, 0));
	ERR(mmn_interval_notifier_insert(NULL, FX->mm, BASE, PG, &iops), EINVAL);
	ERR(mmn_interval_notifier_insert(&isub, NULL, BASE, PG, &iops), EINVAL);
	ERR(mmn_interval_notifier_insert(&isub, FX->mm, BASE, PG, NULL), EINVAL);
	ERR(mmn_interval_notifier_insert_locked(NULL, FX->mm, BASE, PG, &iops), EINVAL);
	ERR(mmn_interval_notifier_remove(NULL), EINVAL);
	RET(mmn_interval_read_begin(NULL), 0);
	RET(mmn_interval_read_retry(NULL, 0), true);
	RET(mmn_interval_check_retry(NULL, 0), true);
	OK(mmn_interval_set_seq(NULL, 0));
}

static void test_null_sync(void **state)
{
	struct mmn_actor *a = NULL;

	(void)state;
	ERR(mmn_actor_spawn(NULL, "x", NULL, NULL, &a), EINVAL);
	ERR(mmn_actor_spawn(FX->sim, "x", NULL, NULL, &a), EINVAL);
	ERR(mmn_actor_join(NULL, NULL), EINVAL);
	RET(mmn_actor_current(NULL), NULL);
	RET(mmn_actor_id(NULL), -1);
	RET(strcmp(mmn_actor_name(NULL), "?"), 0);
	RET(mmn_actor_set_context(NULL, "x"), NULL);
	OK(mmn_sched_set_hook(NULL, NULL, NULL));
	OK(mmn_sched_point(NULL, MMN_SCHED_LOCK, NULL, NULL, 0));
	OK(mmn_might_sleep(NULL));
	OK(mmn_non_block_start(NULL));
	OK(mmn_non_block_end(NULL));
	ERR(mmn_lockdep_is_held(NULL), EINVAL);
	OK(mmn_lockdep_assert_held(NULL, "x"));
	RET(mmn_lockdep_depth(NULL), 0);
	OK(mmn_spin_lock_init(NULL, FX->sim, NULL, NULL));
	OK(mmn_spin_lock_destroy(NULL));
	OK(mmn_spin_lock(NULL));
	OK(mmn_spin_lock_nested(NULL, 1));
	RET(mmn_spin_trylock(NULL), 0);
	OK(mmn_spin_unlock(NULL));
	RET(mmn_spin_is_locked(NULL), false);
	OK(mmn_mutex_init(NULL, FX->sim, NULL, NULL));
	OK(mmn_mutex_destroy(NULL));
	OK(mmn_mutex_lock(NULL));
	OK(mmn_mutex_lock_nested(NULL, 1));
	RET(mmn_mutex_trylock(NULL), 0);
	OK(mmn_mutex_unlock(NULL));
	RET(mmn_mutex_is_locked(NULL), false);
	OK(mmn_rwsem_init(NULL, FX->sim, NULL, NULL));
	OK(mmn_rwsem_destroy(NULL));
	OK(mmn_down_read(NULL));
	RET(mmn_down_read_trylock(NULL), 0);
	OK(mmn_up_read(NULL));
	OK(mmn_down_write(NULL));
	RET(mmn_down_write_trylock(NULL), 0);
	OK(mmn_up_write(NULL));
	OK(mmn_downgrade_write(NULL));
	RET(mmn_rwsem_is_locked(NULL), false);
	RET(mmn_rwsem_is_write_locked(NULL), false);
	OK(mmn_seqcount_init(NULL, FX->sim));
	RET(mmn_read_seqcount_begin(NULL), 0);
	RET(mmn_read_seqcount_retry(NULL, 0), false);
	RET(mmn_raw_read_seqcount(NULL), 0);
	OK(mmn_write_seqcount_begin(NULL));
	OK(mmn_write_seqcount_end(NULL));
	OK(mmn_srcu_init(NULL, FX->sim, NULL));
	OK(mmn_srcu_destroy(NULL));
	ERR(mmn_srcu_read_lock(NULL), EINVAL);
	OK(mmn_srcu_read_unlock(NULL, 0));
	OK(mmn_synchronize_srcu(NULL));
	OK(mmn_call_srcu(NULL, NULL, NULL));
	OK(mmn_srcu_barrier(NULL));
	ERR(mmn_srcu_read_lock_held(NULL), EINVAL);
	OK(mmn_waitqueue_init(NULL, FX->sim, NULL));
	OK(mmn_waitqueue_destroy(NULL));
	OK(mmn_wait_event(NULL, NULL, NULL));
	OK(mmn_wake_up_all(NULL));
	OK(mmn_init_completion(NULL, FX->sim, NULL));
	OK(mmn_completion_destroy(NULL));
	OK(mmn_reinit_completion(NULL));
	OK(mmn_wait_for_completion(NULL));
	RET(mmn_try_wait_for_completion(NULL), false);
	OK(mmn_complete(NULL));
	OK(mmn_complete_all(NULL));
	RET(mmn_completion_done(NULL), false);
}

static void test_null_sched_scenario_profile(void **state)
{
	struct mmn_scenario_result r;
	struct mmn_explore_stats st;
	uint32_t ch[4] = { 0 };
	unsigned long v;
	char buf[8];

	(void)state;
	OK(mmn_sched_pool_destroy(NULL));
	OK(mmn_sched_pool_destroy(mmn_sched_pool_create()));
	OK(mmn_sched_explorer_destroy(mmn_sched_explorer_create(UINT_MAX)));
	RET(mmn_version_string() != NULL, 1);
	RET(mmn_profile_count() > 0, 1);
	RET(mmn_profile_knob_count() > 0, 1);
	RET(mmn_sched_pool_threads(NULL), 0);
	OK(mmn_sched_config_init(NULL));
	ERR(mmn_sched_run(NULL, NULL, NULL, NULL, NULL), EINVAL);
	RET(mmn_sched_choices(NULL, ch, 4), 0);
	RET(strcmp(mmn_sched_trace(NULL, NULL), ""), 0);
	ERR(mmn_sched_trace_chrome(NULL, stdout), EINVAL);
	ERR(mmn_sched_trace_chrome("", NULL), EINVAL);
	ERR(mmn_sched_shrink(NULL, 1, ch, NULL, NULL, 1), EINVAL);
	OK(mmn_sched_explorer_destroy(NULL));
	RET(mmn_sched_explorer_next(NULL, NULL), false);
	ERR(mmn_sched_explorer_record(NULL, NULL), EINVAL);
	RET(mmn_sched_explorer_count(NULL), 0);
	ERR(mmn_sched_explore(NULL, NULL, 1, NULL, NULL), EINVAL);

	RET(mmn_scenario_by_id(NULL), NULL);
	ERR(mmn_scenario_run(NULL, NULL, &r), EINVAL);
	ERR(mmn_scenario_run("S1", NULL, NULL), EINVAL);
	ERR(mmn_scenario_run("S0", NULL, &r), ENOENT);
	ERR(mmn_scenario_counter(NULL, "x", &v), EINVAL);
	ERR(mmn_scenario_counter(&r, NULL, &v), EINVAL);
	ERR(mmn_scenario_counter(&r, "x", NULL), EINVAL);
	OK(mmn_explore_config_init(NULL));
	ERR(mmn_explore_strategy_by_name(NULL), ENOENT);
	RET(mmn_explore_violating(NULL, NULL, NULL), false);
	ERR(mmn_scenario_explore(NULL, NULL, NULL, &st), EINVAL);
	ERR(mmn_scenario_explore("S1", NULL, NULL, NULL), EINVAL);
	ERR(mmn_scenario_shrink(NULL, NULL, 10, ch, 1, ch, 1), EINVAL);
	ERR(mmn_scenario_shrink("S1", NULL, 10, NULL, 1, ch, 1), EINVAL);
	ERR(mmn_scenario_shrink("S1", NULL, 10, ch, 1, NULL, 1), EINVAL);

	RET(mmn_profile_by_name("no-such-profile"), NULL);
	ERR(mmn_profile_set_knob(NULL, "only_end", "1"), EINVAL);
	ERR(mmn_profile_knob_value(NULL, "only_end", buf, sizeof(buf)), EINVAL);
	ERR(mmn_profile_knob_value(mmn_profile_by_name(NULL), "only_end", NULL, 8), EINVAL);
	ERR(mmn_profile_knob_value(mmn_profile_by_name(NULL), "only_end", buf, 0), EINVAL);
	OK(mmn_profile_print(NULL, stdout));
	OK(mmn_profile_print(mmn_profile_by_name(NULL), NULL));
}

static void test_null_listeners(void **state)
{
	struct mmn_kvm_stats ks;
	struct mmn_iommu_stats is;
	struct mmn_hmm_stats hs;
	struct mmn_hmm *m = NULL;
	uint64_t v;
	int pasid;

	(void)state;
	OK(mmn_kvm_config_init(NULL));
	RET(mmn_kvm_create(NULL, NULL), NULL);
	OK(mmn_kvm_destroy(NULL));
	ERR(mmn_kvm_set_memslot(NULL, 0, 0, 1, BASE), EINVAL);
	ERR(mmn_kvm_vcpu_read(NULL, 0, 0, &v), EINVAL);
	ERR(mmn_kvm_vcpu_write(NULL, 0, 0, 1), EINVAL);
	ERR(mmn_kvm_spte(NULL, 0, NULL), EINVAL);
	RET(mmn_kvm_nr_sptes(NULL), 0);
	ERR(mmn_kvm_get_stats(NULL, &ks), EINVAL);

	OK(mmn_iommu_config_init(NULL));
	RET(mmn_iommu_create(NULL, NULL), NULL);
	OK(mmn_iommu_destroy(NULL));
	ERR(mmn_iommu_bind(NULL, FX->mm, &pasid), EINVAL);
	ERR(mmn_iommu_unbind(NULL, 0), EINVAL);
	ERR(mmn_iommu_dma_read(NULL, 0, BASE, &v), EINVAL);
	ERR(mmn_iommu_dma_write(NULL, 0, BASE, 1), EINVAL);
	ERR(mmn_iommu_dma(NULL, 0, BASE, 0, &v), EINVAL);
	ERR(mmn_iommu_pasid_invalidating(NULL, 0), EINVAL);
	ERR(mmn_iommu_pasid_blocked(NULL, 0), EINVAL);
	ERR(mmn_iommu_get_stats(NULL, &is), EINVAL);

	OK(mmn_hmm_config_init(NULL));
	ERR(mmn_hmm_create(NULL, BASE, PG, NULL, &m), EINVAL);
	ERR(mmn_hmm_create(FX->mm, BASE, PG, NULL, NULL), EINVAL);
	ERR(mmn_hmm_destroy(NULL), EINVAL);
	ERR(mmn_hmm_read(NULL, BASE, 1, &v), EINVAL);
	ERR(mmn_hmm_write(NULL, BASE, 1, &v), EINVAL);
	ERR(mmn_hmm_atomic(NULL, BASE, 1, &v), EINVAL);
	ERR(mmn_hmm_check_exclusive(NULL, BASE, 1), EINVAL);
	ERR(mmn_hmm_snapshot(NULL, BASE, 1, NULL), EINVAL);
	ERR(mmn_hmm_migrate_to_device(NULL, BASE, 1), EINVAL);
	ERR(mmn_hmm_migrate_to_ram(NULL, BASE, 1), EINVAL);
	OK(mmn_hmm_device_lock(NULL));
	OK(mmn_hmm_device_unlock(NULL));
	RET(mmn_hmm_nr_entries(NULL), 0);
	ERR(mmn_hmm_entry(NULL, BASE, NULL, NULL, NULL), EINVAL);
	ERR(mmn_hmm_get_stats(NULL, &hs), EINVAL);
}


/* ------------------------------------------------------------------ */
/* Zero, huge, unaligned and wrapping lengths and ranges               */
/* ------------------------------------------------------------------ */

/* One row of the range table: a call on (addr, len) and its outcome. */
struct range_row {
	const char *fn;
	int (*call)(struct mmn_mm *mm, unsigned long addr, unsigned long len);
};

static int r_munmap(struct mmn_mm *mm, unsigned long a, unsigned long l)
{
	return mmn_munmap(mm, a, l);
}

static int r_mprotect(struct mmn_mm *mm, unsigned long a, unsigned long l)
{
	return mmn_mprotect(mm, a, l, MMN_PROT_READ);
}

static int r_numa(struct mmn_mm *mm, unsigned long a, unsigned long l)
{
	return mmn_change_prot_numa(mm, a, l);
}

static int r_madvise(struct mmn_mm *mm, unsigned long a, unsigned long l)
{
	return mmn_madvise(mm, a, l, MMN_MADV_DONTNEED);
}

static int r_unmap(struct mmn_mm *mm, unsigned long a, unsigned long l)
{
	return mmn_try_to_unmap(mm, a, l);
}

static int r_migrate(struct mmn_mm *mm, unsigned long a, unsigned long l)
{
	return mmn_migrate_pages(mm, a, l);
}

static const struct range_row range_rows[] = {
	{ "mmn_munmap", r_munmap },     { "mmn_mprotect", r_mprotect },
	{ "mmn_change_prot_numa", r_numa }, { "mmn_madvise", r_madvise },
	{ "mmn_try_to_unmap", r_unmap }, { "mmn_migrate_pages", r_migrate },
};

static void test_ranges_table(void **state)
{
	struct fx *f = *state;

	map_base(f, 4);
	for (size_t i = 0; i < sizeof(range_rows) / sizeof(range_rows[0]); i++) {
		const struct range_row *r = &range_rows[i];
		int e;

		/* unaligned start, wrapping and huge lengths: -EINVAL */
		if ((e = r->call(f->mm, BASE + 1, PG)) != -EINVAL)
			mismatch(r->fn, __LINE__, "unaligned start: %d", e);
		if ((e = r->call(f->mm, BASE, HUGE_LEN)) != -EINVAL && e != -ENOMEM)
			mismatch(r->fn, __LINE__, "wrapping length: %d", e);
		if ((e = r->call(f->mm, BASE, ~0UL)) != -EINVAL && e != -ENOMEM)
			mismatch(r->fn, __LINE__, "huge length: %d", e);
		if (f->bad)
			break;
	}
	/* The same calls on the right range are accepted (unmap last). */
	for (size_t i = 0; i < sizeof(range_rows) / sizeof(range_rows[0]); i++)
		RET(range_rows[sizeof(range_rows) / sizeof(range_rows[0]) - 1 - i].call(f->mm, BASE,
										     PG),
		    0);
	assert_int_equal(viol_total(), 0);
}

static void test_ranges_zero_length(void **state)
{
	struct fx *f = *state;
	unsigned long a;

	map_base(f, 2);
	/* munmap(len 0) is EINVAL in Linux; mprotect/madvise(len 0) succeed. */
	ERR(mmn_munmap(f->mm, BASE, 0), EINVAL);
	RET(mmn_mprotect(f->mm, BASE, 0, MMN_PROT_READ), 0);
	RET(mmn_madvise(f->mm, BASE, 0, MMN_MADV_DONTNEED), 0);
	ERR(mmn_mmap(f->mm, 0, 0, MMN_PROT_READ, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &a),
	    EINVAL);
	ERR(mmn_try_to_unmap(f->mm, BASE, 0), EINVAL);
	ERR(mmn_migrate_pages(f->mm, BASE, 0), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, 0, PG, 0, 0, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, PG, 0, 0, 0, NULL), EINVAL);
}

static void test_mmap_bad_args(void **state)
{
	struct fx *f = *state;
	const int anon = MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS;
	unsigned long a;

	ERR(mmn_mmap(f->mm, 0, ~0UL, MMN_PROT_READ, anon, &a), ENOMEM);
	ERR(mmn_mmap(f->mm, 0, PG, 0x80, anon, &a), EINVAL);
	ERR(mmn_mmap(f->mm, 0, PG, MMN_PROT_READ, anon | 0x4000000, &a), EINVAL);
	ERR(mmn_mmap(f->mm, 0, PG, MMN_PROT_READ, MMN_MAP_ANONYMOUS, &a), EINVAL);
	ERR(mmn_mmap(f->mm, 0, PG, MMN_PROT_READ, anon | MMN_MAP_SHARED, &a), EINVAL);
	ERR(mmn_mmap(f->mm, 0, PG, MMN_PROT_READ, MMN_MAP_PRIVATE, &a), EINVAL);
	ERR(mmn_mmap(f->mm, BASE + 1, PG, MMN_PROT_READ, anon | MMN_MAP_FIXED, &a), EINVAL);
	ERR(mmn_mmap(f->mm, MMN_TASK_SIZE - PG, 2 * PG, MMN_PROT_READ, anon | MMN_MAP_FIXED, &a),
	    ENOMEM);
	ERR(mmn_mmap(f->mm, PG, PG, MMN_PROT_READ, anon | MMN_MAP_FIXED, &a), EPERM);
	RET(mmn_vma_count(f->mm), 0);
	RET(mmn_mmap(f->mm, 0, PG, MMN_PROT_READ, anon, NULL), 0);
	RET(mmn_vma_count(f->mm), 1);
}

static void test_mremap_bad_args(void **state)
{
	struct fx *f = *state;
	const int mv = MMN_MREMAP_MAYMOVE, fx = MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED;

	map_base(f, 2);
	ERR(mmn_mremap(f->mm, BASE + 1, PG, PG, 0, 0, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, PG, PG, 0x100, 0, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, PG, PG, MMN_MREMAP_FIXED, 2 * BASE, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, ~0UL, PG, mv, 0, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, PG, ~0UL, mv, 0, NULL), EINVAL);
	/* FIXED past user space: -EINVAL, as the kernel's mremap_to() */
	ERR(mmn_mremap(f->mm, BASE, PG, 2 * PG, fx, MMN_TASK_SIZE - PG, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, PG, PG, fx, BASE + 1, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, 2 * PG, 2 * PG, fx, BASE + PG, NULL), EINVAL);
	ERR(mmn_mremap(f->mm, BASE, PG, PG, fx, PG, NULL), EPERM);
	ERR(mmn_mremap(f->mm, BASE + 16 * PG, PG, PG, 0, 0, NULL), EFAULT);
	RET(mmn_mremap(f->mm, BASE, PG, PG, fx, 4 * BASE, NULL), 0);
}

static void test_addresses_and_cpus(void **state)
{
	struct fx *f = *state;
	struct mmn_vma_info vi;
	struct mmn_walk w;
	unsigned long pfn;
	uint64_t v = 0;

	map_base(f, 1);
	ERR(mmn_cpu_read(f->mm, -1, BASE, &v), EINVAL);
	ERR(mmn_cpu_read(f->mm, 2, BASE, &v), EINVAL);
	ERR(mmn_cpu_write(f->mm, INT_MAX, BASE, 1), EINVAL);
	ERR(mmn_cpu_read(f->mm, 0, MMN_TASK_SIZE, &v), EFAULT);
	ERR(mmn_cpu_read(f->mm, 0, ~0UL, &v), EFAULT);
	ERR(mmn_cpu_write(f->mm, 0, BASE + 8 * PG, 1), EFAULT);
	ERR(mmn_tlb_lookup(f->mm, -1, BASE, NULL), EINVAL);
	ERR(mmn_tlb_lookup(f->mm, 64, BASE, NULL), EINVAL);
	RET(mmn_tlb_lookup(f->mm, 0, ~0UL, NULL), 0);
	ERR(mmn_find_vma(f->mm, ~0UL, &vi), ENOENT);
	ERR(mmn_vma_at(f->mm, -1, &vi), ENOENT);
	ERR(mmn_vma_at(f->mm, INT_MAX, &vi), ENOENT);
	ERR(mmn_pgtable_walk(f->mm, ~0UL, &w), EFAULT);
	ERR(mmn_handle_mm_fault(f->mm, BASE, 0x80), EINVAL);
	ERR(mmn_handle_mm_fault(f->mm, ~0UL, 0), EFAULT);
	ERR(mmn_get_user_pages(f->mm, BASE, 0x80, &pfn, NULL), EINVAL);
	ERR(mmn_get_user_pages(f->mm, ~0UL, 0, &pfn, NULL), EFAULT);
	ERR(mmn_split_huge_pmd(f->mm, ~0UL), EFAULT);
	ERR(mmn_collapse_huge_page(f->mm, ~0UL), EFAULT);
	ERR(mmn_ksm_merge(f->mm, BASE + 1, f->mm, BASE), EINVAL);
	ERR(mmn_ksm_merge(f->mm, BASE, f->mm, BASE), EINVAL);
	ERR(mmn_ksm_merge(f->mm, ~0UL & ~(PG - 1), f->mm, BASE), EINVAL);
	ERR(mmn_migrate_vma_to_device(f->mm, BASE + PG, BASE, NULL, &pfn), EINVAL);
	OK(mmn_flush_tlb_range(f->mm, BASE + PG, BASE));  /* inverted: flushes nothing */
	OK(mmn_flush_tlb_page(f->mm, ~0UL));
	RET(mmn_cpu_write(f->mm, 1, BASE, 7), 0);
	RET(mmn_cpu_read(f->mm, 0, BASE, &v), 0);
	assert_int_equal(v, 7);
}

static bool inv_nop(struct mmn_interval_notifier *sub, const struct mmn_notifier_range *r,
		    unsigned long cur_seq)
{
	(void)r;
	mmn_interval_set_seq(sub, cur_seq);
	return true;
}

static void test_interval_notifier_ranges(void **state)
{
	static const struct mmn_interval_notifier_ops none = { .invalidate = NULL };
	static const struct mmn_interval_notifier_ops iops = { .invalidate = inv_nop };
	struct fx *f = *state;
	struct mmn_interval_notifier isub;

	memset(&isub, 0, sizeof(isub));
	ERR(mmn_interval_notifier_insert(&isub, f->mm, BASE, PG, &none), EINVAL);
	ERR(mmn_interval_notifier_insert(&isub, f->mm, BASE, 0, &iops), EOVERFLOW);
	ERR(mmn_interval_notifier_insert(&isub, f->mm, ~0UL - 10, 100, &iops), EOVERFLOW);
	RET(mmn_interval_notifier_insert(&isub, f->mm, BASE, PG, &iops), 0);
	ERR(mmn_interval_notifier_insert(&isub, f->mm, BASE, PG, &iops), EBUSY);
	RET(mmn_interval_notifier_remove(&isub), 0);
}

/* ------------------------------------------------------------------ */
/* Out-of-range enums                                                  */
/* ------------------------------------------------------------------ */

static void test_enums_out_of_range(void **state)
{
	struct fx *f = *state;
	struct mmn_op_stats os;
	struct mmn_sched_config sc;
	struct mmn_scenario_params sp = { .variant = -1 };
	struct mmn_scenario_result r;

	(void)f;
	RET(strcmp(mmn_violation_kind_name(MMN_VIOL_NR_KINDS), "unknown") == 0, 1);
	RET(strcmp(mmn_violation_kind_name((enum mmn_violation_kind)-1), "unknown") == 0, 1);
	RET(mmn_check_count(f->sim, MMN_VIOL_NR_KINDS), 0);
	RET(mmn_check_count(f->sim, (enum mmn_violation_kind)-1), 0);
	RET(mmn_cost_name(MMN_COST_NR), NULL);
	RET(mmn_cost_default(MMN_COST_NR), 0);
	ERR(mmn_cost_set(f->sim, MMN_COST_NR, 1), EINVAL);
	RET(mmn_cost_get(f->sim, MMN_COST_NR), 0);
	ERR(mmn_clock_charge(f->sim, MMN_COST_NR, 1), EINVAL);
	ERR(mmn_clock_charge(f->sim, (enum mmn_cost)-1, 1), EINVAL);
	RET(mmn_clock_events(f->sim, MMN_COST_NR), 0);
	RET(mmn_clock_charged(f->sim, MMN_COST_NR), 0);
	RET(mmn_op_name(MMN_OP_NR) != NULL, 1);
	ERR(mmn_op_get_stats(f->sim, MMN_OP_NR, &os), EINVAL);
	ERR(mmn_op_get_stats(f->sim, (enum mmn_op)-1, &os), EINVAL);
	RET(strcmp(mmn_notify_event_name(MMN_NOTIFY_NR_EVENTS), "unknown") == 0, 1);
	RET(mmn_sched_kind_name(MMN_SCHED_NR_KINDS) != NULL, 1);
	RET(mmn_explore_strategy_name((enum mmn_explore_strategy)99), NULL);
	RET(mmn_secondary_flush_name((enum mmn_secondary_flush)99) != NULL, 1);
	RET(mmn_kvm_variant_name((enum mmn_kvm_variant)99) != NULL, 1);
	RET(mmn_iommu_cb_name(MMN_IOMMU_CB_NR) != NULL, 1);
	RET(mmn_iommu_ops((enum mmn_iommu_mode)99), NULL);
	RET(mmn_hmm_fault_point_name(true) != NULL, 1);
	RET(mmn_profile_at(-1), NULL);
	RET(mmn_profile_at(INT_MAX), NULL);
	RET(mmn_profile_knob_name(-1), NULL);
	RET(mmn_profile_knob_name(INT_MAX), NULL);
	RET(mmn_scenario_at(-1), NULL);
	RET(mmn_scenario_at(INT_MAX), NULL);
	ERR(mmn_madvise(f->mm, BASE, PG, 12345), EINVAL);
	ERR(mmn_mprotect(f->mm, BASE, PG, 0x40), EINVAL);

	mmn_sched_config_init(&sc);
	sc.strategy = (enum mmn_sched_strategy)99;
	ERR(mmn_sched_run(f->sim, &sc, NULL, NULL, NULL), EINVAL);
	sp.mode = (enum mmn_scenario_mode)99;
	ERR(mmn_scenario_run("S1", &sp, &r), EINVAL);
}

/* ------------------------------------------------------------------ */
/* Frames out of range; the mmu_gather                                 */
/* ------------------------------------------------------------------ */

static void test_pfns_out_of_range(void **state)
{
	struct fx *f = *state;
	const unsigned long far = 1UL << 40, past = 2048 + 2 * 512;
	struct mmn_page_info pi;
	struct mmn_mmu_gather tlb;
	unsigned long data;
	uint64_t v;

	ERR(mmn_page_info(f->sim, far, &pi), EINVAL);
	ERR(mmn_page_info(f->sim, past, &pi), EINVAL);
	RET(mmn_page_gen(f->sim, far), 0);
	ERR(mmn_get_page(f->sim, far), EINVAL);
	ERR(mmn_put_page(f->sim, far), EINVAL);
	ERR(mmn_put_page(f->sim, ~0UL), EINVAL);
	ERR(mmn_phys_access(f->sim, far, 0, 0, false, &v), EINVAL);
	ERR(mmn_unpin_user_page(f->sim, far), EINVAL);
	OK(mmn_device_exclusive_release(f->sim, far));
	RET(mmn_alloc_page(f->sim, MMN_PG_FREE), 0);

	/* The gather refuses what mmn_put_page() refuses. */
	mmn_tlb_gather_mmu(&tlb, f->mm);
	ERR(mmn_tlb_remove_page(&tlb, far), EINVAL);
	ERR(mmn_tlb_remove_page(&tlb, past), EINVAL);
	ERR(mmn_tlb_remove_table(&tlb, far), EINVAL);
	ERR(mmn_tlb_remove_table(&tlb, ~0UL), EINVAL);
	data = mmn_alloc_page(f->sim, MMN_PG_ANON);
	assert_true(data != 0);
	ERR(mmn_tlb_remove_table(&tlb, data), EINVAL);  /* not a page-table page */
	RET(mmn_tlb_remove_page(&tlb, data), 0);        /* the right input: queued */
	OK(mmn_tlb_flush_pte_range(&tlb, ~0UL - PG, 4 * PG));  /* wraps: cut at the top */
	OK(mmn_tlb_finish_mmu(&tlb));                   /* puts the page: freed */
	assert_int_equal(mmn_page_info(f->sim, data, &pi), 0);
	assert_true(pi.flags & MMN_PG_FREE);
	ERRV(mmn_get_page(f->sim, data), ENOENT, MMN_VIOL_ACCOUNTING);
	ERRV(mmn_put_page(f->sim, data), ENOENT, MMN_VIOL_ACCOUNTING);
}

/* ------------------------------------------------------------------ */
/* A torn-down mm kept alive by mmgrab                                 */
/* ------------------------------------------------------------------ */

static void test_torn_down_mm_refused(void **state)
{
	static const struct mmn_interval_notifier_ops iops = { 0 };
	struct fx *f = *state;
	struct mmn_mm *mm = f->mm, *child = NULL;
	struct mmn_interval_notifier isub;
	struct mmn_notifier sub;
	struct mmn_vma_info vi;
	struct mmn_walk w;
	unsigned long a, pfn;
	uint64_t v;
	int pasid;

	map_base(f, 2);
	mmn_mmgrab(mm);
	mmn_mm_put(mm);
	f->mm = NULL;
	memset(&sub, 0, sizeof(sub));
	memset(&isub, 0, sizeof(isub));
	RET(mmn_mm_users(mm), 0);
	ERR(mmn_mmap(mm, 0, PG, MMN_PROT_READ, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &a), EINVAL);
	ERR(mmn_munmap(mm, BASE, PG), EINVAL);
	ERR(mmn_cpu_read(mm, 0, BASE, &v), EINVAL);
	ERR(mmn_cpu_write(mm, 0, BASE, 1), EINVAL);
	ERR(mmn_find_vma(mm, BASE, &vi), EINVAL);
	RET(mmn_vma_count(mm), 0);
	ERR(mmn_vma_at(mm, 0, &vi), EINVAL);
	ERR(mmn_pgtable_walk(mm, BASE, &w), EINVAL);
	ERR(mmn_tlb_lookup(mm, 0, BASE, NULL), EINVAL);
	ERR(mmn_handle_mm_fault(mm, BASE, 0), EINVAL);
	ERR(mmn_get_user_pages(mm, BASE, 0, &pfn, NULL), EINVAL);
	ERR(mmn_mprotect(mm, BASE, PG, MMN_PROT_READ), EINVAL);
	ERR(mmn_change_prot_numa(mm, BASE, PG), EINVAL);
	ERR(mmn_madvise(mm, BASE, PG, MMN_MADV_DONTNEED), EINVAL);
	ERR(mmn_clear_refs_soft_dirty(mm), EINVAL);
	ERR(mmn_oom_reap(mm, NULL), EINVAL);
	ERR(mmn_mremap(mm, BASE, PG, 2 * PG, MMN_MREMAP_MAYMOVE, 0, NULL), EINVAL);
	ERR(mmn_fork(mm, &child), EINVAL);
	ERR(mmn_try_to_unmap(mm, BASE, PG), EINVAL);
	ERR(mmn_migrate_pages(mm, BASE, PG), EINVAL);
	ERR(mmn_ksm_merge(mm, BASE, mm, BASE + PG), EINVAL);
	ERR(mmn_split_huge_pmd(mm, BASE), EINVAL);
	ERR(mmn_collapse_huge_page(mm, BASE), EINVAL);
	ERR(mmn_collapse_pte_mapped_thp(mm, BASE), EINVAL);
	{
		struct mmn_notifier_range r;
		struct mmn_pte_slot s;

		ERR(mmn_pte_offset_map_lock(mm, BASE, &s), EINVAL);
		ERR(mmn_pte_offset_map_nolock(mm, BASE, &s), EINVAL);
		ERR(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, mm, BASE, BASE + PG, NULL), EINVAL);
		r = (struct mmn_notifier_range){ .mm = mm, .start = BASE, .end = BASE + PG };
		ERR(mmn_corepath_range_start(&r), EINVAL);
		ERR(mmn_corepath_range_end(&r), EINVAL);
		ERR(mmn_corepath_range_only_end(&r), EINVAL);
	}
	ERR(mmn_make_device_exclusive(mm, BASE, NULL, &pfn), EINVAL);
	ERR(mmn_notifier_register(&sub, mm), EINVAL);
	ERR(mmn_interval_notifier_insert(&isub, mm, BASE, PG, &iops), EINVAL);
	ERR(mmn_hmm_create(mm, BASE, PG, NULL, NULL), EINVAL);
	RET(mmn_kvm_create(mm, NULL), NULL);
	{
		struct mmn_iommu *io = mmn_iommu_create(f->sim, NULL);

		assert_non_null(io);
		ERR(mmn_iommu_bind(io, mm, &pasid), EINVAL);
		mmn_iommu_destroy(io);
	}
	/* Documented acceptances: its lock and id live until the last mmdrop. */
	RET(mmn_mm_sim(mm), f->sim);
	RET(mmn_mm_id(mm) != 0, 1);
	OK(mmn_mmap_read_lock(mm); mmn_mmap_read_unlock(mm));
	OK(mmn_flush_tlb_mm(mm));
	/* Reviving it, a second put, an mmdrop too many: reported, ignored. */
	VIOL(mmn_mm_get(mm), MMN_VIOL_ACCOUNTING);
	RET(mmn_mm_users(mm), 0);
	VIOL(mmn_mm_put(mm), MMN_VIOL_ACCOUNTING);
	RET(mmn_mm_users(mm), 0);
	OK(mmn_mmdrop(mm));  /* the grab's reference: frees it, silently */
}

/* corepath.h: NULL, misaligned, out of range, a slot in the wrong state;
 * the kernel-bug misuses reported (PTL, folio lock, mapcount). */
static void test_corepath_bad_args(void **state)
{
	struct fx *f = *state;
	struct mmn_notifier_range r;
	struct mmn_pte_slot s = { 0 };
	unsigned long pfn;
	mmn_pte_t e;

	map_base(f, 1);
	ERR(mmn_pte_offset_map_lock(NULL, BASE, &s), EINVAL);
	ERR(mmn_pte_offset_map_lock(f->mm, BASE, NULL), EINVAL);
	ERR(mmn_pte_offset_map_nolock(f->mm, BASE + 1, &s), EINVAL);
	ERRV(mmn_pte_offset_map_lock(f->mm, BASE, &s), EINVAL, MMN_VIOL_PROTOCOL); /* no mmap_lock */
	mmn_mmap_read_lock(f->mm);
	ERR(mmn_pte_offset_map_lock(f->mm, ~0UL & MMN_PAGE_MASK, &s), EFAULT);
	ERR(mmn_pte_offset_map_lock(f->mm, 1UL << 40, &s), ENOENT);
	ERR(mmn_pte_lock(NULL), EINVAL);
	ERR(mmn_pte_unmap_unlock(NULL), EINVAL);
	ERR(mmn_pte_unmap(NULL), EINVAL);
	ERR(mmn_ptep_get(NULL, &e), EINVAL);
	ERR(mmn_ptep_get(&s, &e), EINVAL); /* not mapped */
	ERR(mmn_ptep_get_and_clear(NULL, &e), EINVAL);
	ERR(mmn_set_pte_at(NULL, 0), EINVAL);
	ERR(mmn_ptep_clear_flush(NULL, &e), EINVAL);
	ERR(mmn_ptep_clear_flush_notify(NULL, &e), EINVAL);
	ERR(mmn_set_pte_at_notify(NULL, 0), EINVAL);
	RET(mmn_pte_offset_map_nolock(f->mm, BASE, &s), 0);
	RET(mmn_ptep_get(&s, NULL) == -EINVAL, 1);
	ERRV(mmn_ptep_clear_flush(&s, &e), EINVAL, MMN_VIOL_PROTOCOL); /* PTL not held */
	ERRV(mmn_set_pte_at_notify(&s, 0), EINVAL, MMN_VIOL_PROTOCOL);
	RET(mmn_pte_lock(&s), 0);
	RET(mmn_ptep_get(&s, &e), 0);
	ERR(mmn_set_pte_at(&s, e), EBUSY);
	ERR(mmn_set_pte_at(&s, mmn_mk_pte(~0UL >> 13, 0)), EINVAL);
	RET(mmn_pte_unmap_unlock(&s), 0);
	mmn_mmap_read_unlock(f->mm);
	ERR(mmn_folio_lock(NULL, 1), EINVAL);
	ERR(mmn_folio_lock(f->sim, ~0UL), EINVAL);
	ERR(mmn_folio_trylock(f->sim, MMN_ZERO_PFN), EINVAL);
	ERR(mmn_folio_unlock(f->sim, ~0UL), EINVAL);
	ERR(mmn_folio_add_rmap_pte(NULL, 1), EINVAL);
	ERR(mmn_folio_remove_rmap_pte(f->sim, ~0UL), EINVAL);
	pfn = mmn_alloc_page(f->sim, 0);
	ERRV(mmn_folio_unlock(f->sim, pfn), EINVAL, MMN_VIOL_PROTOCOL);
	ERRV(mmn_folio_remove_rmap_pte(f->sim, pfn), EINVAL, MMN_VIOL_ACCOUNTING);
	RET(mmn_put_page(f->sim, pfn), 0);
	ERR(mmn_folio_lock(f->sim, pfn), ENOENT);
	ERR(mmn_corepath_range_init(NULL, MMN_NOTIFY_CLEAR, f->mm, BASE, BASE + PG, NULL), EINVAL);
	ERR(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f->mm, BASE, BASE, NULL), EINVAL);
	ERR(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f->mm, BASE + 1, BASE + PG, NULL), EINVAL);
	ERR(mmn_corepath_range_init(&r, MMN_NOTIFY_NR_EVENTS, f->mm, BASE, BASE + PG, NULL), EINVAL);
	ERR(mmn_corepath_range_init(&r, MMN_NOTIFY_CLEAR, f->mm, BASE, MMN_TASK_SIZE + PG, NULL),
	    EINVAL);
	ERR(mmn_corepath_range_start(NULL), EINVAL);
	ERR(mmn_corepath_range_end(NULL), EINVAL);
	ERR(mmn_corepath_range_only_end(NULL), EINVAL);
	ERR(mmn_collapse_pte_mapped_thp(NULL, BASE), EINVAL);
	ERR(mmn_collapse_pte_mapped_thp(f->mm, MMN_TASK_SIZE), EFAULT);
	ERR(mmn_collapse_pte_mapped_thp(f->mm, BASE), EINVAL); /* private anonymous */
}

static void test_mm_refcount_misuse_reported(void **state)
{
	struct fx *f = *state;

	/* Right: get/put and grab/drop pairs are silent. */
	OK(mmn_mm_get(f->mm); mmn_mm_put(f->mm); mmn_mmgrab(f->mm); mmn_mmdrop(f->mm));
	RET(mmn_mm_users(f->mm), 1);
	/* An mmdrop of the users' own reference while a user remains. */
	VIOL(mmn_mmdrop(f->mm), MMN_VIOL_ACCOUNTING);
	RET(mmn_mm_users(f->mm), 1);
	RET(mmn_vma_count(f->mm), 0);  /* still alive */
}

/* ------------------------------------------------------------------ */
/* Destroyed and misused objects whose memory is still valid           */
/* ------------------------------------------------------------------ */

static const struct mmn_lock_class sweep_class = { .name = "sweep", .rank = 0 };

static void test_lock_destroy_misuse(void **state)
{
	struct fx *f = *state;
	struct mmn_spinlock sl;
	struct mmn_mutex mx;
	struct mmn_rwsem rw;

	mmn_spin_lock_init(&sl, f->sim, &sweep_class, "sl");
	mmn_mutex_init(&mx, f->sim, &sweep_class, "mx");
	mmn_rwsem_init(&rw, f->sim, &sweep_class, "rw");
	mmn_spin_lock(&sl);
	VIOL(mmn_spin_lock_destroy(&sl), MMN_VIOL_PROTOCOL);
	mmn_spin_unlock(&sl);
	OK(mmn_spin_lock_destroy(&sl));
	VIOL(mmn_spin_lock_destroy(&sl), MMN_VIOL_PROTOCOL);

	mmn_mutex_lock(&mx);
	VIOL(mmn_mutex_destroy(&mx), MMN_VIOL_PROTOCOL);
	mmn_mutex_unlock(&mx);
	OK(mmn_mutex_destroy(&mx));
	VIOL(mmn_mutex_destroy(&mx), MMN_VIOL_PROTOCOL);

	mmn_down_read(&rw);
	VIOL(mmn_rwsem_destroy(&rw), MMN_VIOL_PROTOCOL);
	mmn_up_read(&rw);
	mmn_down_write(&rw);
	VIOL(mmn_rwsem_destroy(&rw), MMN_VIOL_PROTOCOL);
	mmn_up_write(&rw);
	OK(mmn_rwsem_destroy(&rw));
	VIOL(mmn_rwsem_destroy(&rw), MMN_VIOL_PROTOCOL);

	/* Re-initialised, a destroyed lock is a lock again. */
	OK(mmn_spin_lock_init(&sl, f->sim, &sweep_class, "sl"); mmn_spin_lock(&sl);
	   mmn_spin_unlock(&sl); mmn_spin_lock_destroy(&sl));
}

static void test_seqcount_parity_reported(void **state)
{
	struct fx *f = *state;
	struct mmn_seqcount s;
	unsigned int seq;

	mmn_seqcount_init(&s, f->sim);
	OK(mmn_write_seqcount_begin(&s); mmn_write_seqcount_end(&s));
	VIOL(mmn_write_seqcount_end(&s), MMN_VIOL_PROTOCOL);
	/* The count stayed even: a reader does not wait for a phantom writer. */
	RET(mmn_raw_read_seqcount(&s) & 1, 0);
	OK(seq = mmn_read_seqcount_begin(&s));
	RET(mmn_read_seqcount_retry(&s, seq), false);
	mmn_write_seqcount_begin(&s);
	VIOL(mmn_write_seqcount_begin(&s), MMN_VIOL_PROTOCOL);
	OK(mmn_write_seqcount_end(&s));
	RET(mmn_raw_read_seqcount(&s) & 1, 0);
}

struct cb_obj {
	struct mmn_rcu_head head;
	int runs;
};

static void cb_count(struct mmn_rcu_head *h)
{
	((struct cb_obj *)(void *)h)->runs++;
}

static void test_call_srcu_twice_reported(void **state)
{
	struct fx *f = *state;
	struct mmn_srcu ss;
	struct cb_obj o;

	memset(&o, 0, sizeof(o));
	mmn_srcu_init(&ss, f->sim, "sweep_srcu");
	OK(mmn_call_srcu(&ss, &o.head, cb_count));
	VIOL(mmn_call_srcu(&ss, &o.head, cb_count), MMN_VIOL_PROTOCOL);
	OK(mmn_srcu_barrier(&ss));
	assert_int_equal(o.runs, 1);
	/* Its callback done, the head may be queued again. */
	OK(mmn_call_srcu(&ss, &o.head, cb_count));
	OK(mmn_srcu_destroy(&ss));
	assert_int_equal(o.runs, 2);
	OK(mmn_srcu_destroy(&ss));  /* documented: a second destroy waits for nothing */
}

static void test_devmem_destroyed_twice(void **state)
{
	struct fx *f = *state;
	struct mmn_dev_pagemap *pg = NULL;
	unsigned long pfns[1];

	map_base(f, 1);
	RET(mmn_devmem_create(f->sim, 0, NULL, NULL, &pg), -EINVAL);
	RET(mmn_devmem_create(f->sim, 1UL << 40, NULL, NULL, &pg), -ENOMEM);
	RET(mmn_devmem_create(f->sim, 2, NULL, NULL, &pg), 0);
	RET(mmn_devmem_nr_free(pg), 2);
	OK(mmn_devmem_destroy(pg));
	ERRV(mmn_devmem_destroy(pg), EINVAL, MMN_VIOL_PROTOCOL);
	RET(mmn_devmem_nr_free(pg), 0);
	RET(mmn_devmem_migrate_to_ram_calls(pg), 0);
	ERR(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, pfns), EINVAL);
	ERR(mmn_migrate_vma_to_ram(f->mm, BASE, BASE + PG, pg, pfns), EINVAL);
	ERR(mmn_devmem_migrate_to_ram_default(pg, f->mm, BASE, 1), EINVAL);
}

static void test_hmm_destroy_while_locked(void **state)
{
	struct fx *f = *state;
	struct mmn_hmm *m = NULL;

	map_base(f, 4);
	assert_int_equal(mmn_hmm_create(f->mm, BASE, 4 * PG, NULL, &m), 0);
	mmn_hmm_device_lock(m);
	ERRV(mmn_hmm_destroy(m), EBUSY, MMN_VIOL_PROTOCOL);
	mmn_hmm_device_unlock(m);
	RET(mmn_hmm_destroy(m), 0);
}

/* ------------------------------------------------------------------ */
/* Notifier ranges and events                                          */
/* ------------------------------------------------------------------ */

struct rec_sub {
	struct mmn_notifier sub;
	int starts, ends, flushes;
};

static int rec_start(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	(void)r;
	((struct rec_sub *)(void *)sub)->starts++;
	return 0;
}

static void rec_end(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	(void)r;
	((struct rec_sub *)(void *)sub)->ends++;
}

static void rec_flush(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long s,
		      unsigned long e)
{
	(void)mm;
	(void)s;
	(void)e;
	((struct rec_sub *)(void *)sub)->flushes++;
}

static const struct mmn_notifier_ops rec_ops = {
	.invalidate_range_start = rec_start,
	.invalidate_range_end = rec_end,
	.invalidate_range = rec_flush,
};

/* 6.6+ refuses arch_invalidate_secondary_tlbs beside start/end. */
static const struct mmn_notifier_ops rec_arch_ops = {
	.arch_invalidate_secondary_tlbs = rec_flush,
};

static void test_notifier_bad_ranges_not_dispatched(void **state)
{
	struct fx *f = *state;
	struct mmn_notifier_range r;
	struct rec_sub rs, ra;

	memset(&rs, 0, sizeof(rs));
	memset(&ra, 0, sizeof(ra));
	rs.sub.ops = &rec_ops;
	ra.sub.ops = &rec_arch_ops;
	assert_int_equal(mmn_notifier_register(&rs.sub, f->mm), 0);
	assert_int_equal(mmn_notifier_register(&ra.sub, f->mm), 0);
	/* Right ranges reach the callbacks, silently. */
	OK(mmn_notifier_arch_invalidate_secondary_tlbs(f->mm, BASE, BASE + PG));
	OK(mmn_notifier_invalidate_range(f->mm, BASE, BASE + PG));
	assert_int_equal(ra.flushes, 1);
	assert_int_equal(rs.flushes, 1);
	/* Inverted: reported, not passed on. */
	VIOL(mmn_notifier_arch_invalidate_secondary_tlbs(f->mm, BASE + PG, BASE),
	     MMN_VIOL_PROTOCOL);
	VIOL(mmn_notifier_invalidate_range(f->mm, ~0UL, 0), MMN_VIOL_PROTOCOL);
	assert_int_equal(ra.flushes, 1);
	assert_int_equal(rs.flushes, 1);
	/* An event out of range: reported once, no callback on start or end. */
	mmn_notifier_range_init(&r, MMN_NOTIFY_UNMAP, 0, f->mm, BASE, BASE + PG);
	OK(mmn_notifier_invalidate_range_start(&r); mmn_notifier_invalidate_range_end(&r));
	assert_int_equal(rs.starts, 1);
	assert_int_equal(rs.ends, 1);
	mmn_notifier_range_init(&r, (enum mmn_notify_event)MMN_NOTIFY_NR_EVENTS, 0, f->mm, BASE,
				BASE + PG);
	VIOL(mmn_notifier_invalidate_range_start(&r); mmn_notifier_invalidate_range_end(&r),
	     MMN_VIOL_PROTOCOL);
	ERRV(mmn_notifier_invalidate_range_start_nonblock(&r) == 0 ? 0 : -1, 0,
	     MMN_VIOL_PROTOCOL);
	OK(mmn_notifier_invalidate_range_end(&r));
	assert_int_equal(rs.starts, 1);
	assert_int_equal(rs.ends, 1);
	/* An inverted start/end is reported and (as before) still dispatched. */
	mmn_notifier_range_init(&r, MMN_NOTIFY_UNMAP, 0, f->mm, BASE + PG, BASE);
	VIOL(mmn_notifier_invalidate_range_start(&r), MMN_VIOL_PROTOCOL);
	OK(mmn_notifier_invalidate_range_end(&r));
	assert_int_equal(mmn_notifier_unregister(&rs.sub, f->mm), 0);
	assert_int_equal(mmn_notifier_unregister(&ra.sub, f->mm), 0);
}

/* ------------------------------------------------------------------ */
/* Counts that would wrap; configurations out of range                 */
/* ------------------------------------------------------------------ */

static void test_clock_saturates(void **state)
{
	struct fx *f = *state;
	enum mmn_cost c = (enum mmn_cost)0;

	assert_int_equal(mmn_cost_set(f->sim, c, 1), 0);
	RET(mmn_clock_charge(f->sim, c, UINT64_MAX), 0);
	RET(mmn_clock_charge(f->sim, c, UINT64_MAX), 0);
	RET(mmn_clock_charged(f->sim, c), UINT64_MAX);
	RET(mmn_clock_events(f->sim, c), UINT64_MAX);
	RET(mmn_clock_now(f->sim), UINT64_MAX);
	assert_int_equal(mmn_cost_set(f->sim, c, 2), 0);
	ERR(mmn_clock_charge(f->sim, c, UINT64_MAX), ERANGE);
	RET(mmn_clock_charge(f->sim, c, 0), 0);
}

static void body_nop(struct mmn_sim *sim, void *arg)
{
	(void)sim;
	(void)arg;
}

static void test_pct_depth_refused(void **state)
{
	struct mmn_sim_config cfg;
	struct mmn_sched_config sc;
	struct mmn_explore_config xc;
	struct mmn_explore_stats st;
	struct mmn_sim *det;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	det = mmn_sim_create(&cfg);
	assert_non_null(det);
	ERR(mmn_sched_run(FX->sim, NULL, body_nop, NULL, NULL), EINVAL);  /* native sim */
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_PCT;
	sc.pct_depth = 0;
	ERR(mmn_sched_run(det, &sc, body_nop, NULL, NULL), EINVAL);
	sc.pct_depth = MMN_SCHED_PCT_MAX_DEPTH + 1;
	ERR(mmn_sched_run(det, &sc, body_nop, NULL, NULL), EINVAL);
	sc.pct_depth = UINT_MAX;
	ERR(mmn_sched_run(det, &sc, body_nop, NULL, NULL), EINVAL);
	sc.pct_depth = MMN_SCHED_PCT_MAX_DEPTH;
	RET(mmn_sched_run(det, &sc, body_nop, NULL, NULL), 0);
	sc.pct_depth = 1;
	RET(mmn_sched_run(det, &sc, body_nop, NULL, NULL), 0);
	sc.strategy = MMN_STRATEGY_RANDOM;  /* ignored by the other strategies */
	sc.pct_depth = 0;
	RET(mmn_sched_run(det, &sc, body_nop, NULL, NULL), 0);
	mmn_sim_destroy(det);

	mmn_explore_config_init(&xc);
	xc.strategy = MMN_EXPLORE_PCT;
	xc.pct_depth = 0;
	xc.runs = 1;
	ERR(mmn_scenario_explore("S1", NULL, &xc, &st), EINVAL);
	xc.strategy = (enum mmn_explore_strategy)99;
	xc.pct_depth = 3;
	ERR(mmn_scenario_explore("S1", NULL, &xc, &st), EINVAL);
	xc.strategy = MMN_EXPLORE_RANDOM;
	xc.runs = 0;
	ERR(mmn_scenario_explore("S1", NULL, &xc, &st), EINVAL);
}

static void test_scenario_iterations_capped(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_NATIVE };
	struct mmn_scenario_result r;

	(void)state;
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const char *id = mmn_scenario_at(i)->id;

		p.iterations = MMN_SCENARIO_MAX_ITERATIONS + 1;
		ERR(mmn_scenario_run(id, &p, &r), EINVAL);
		p.iterations = ULONG_MAX;
		ERR(mmn_scenario_run(id, &p, &r), EINVAL);
	}
	p.iterations = 2;
	RET(mmn_scenario_run("S1", &p, &r), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_null_sim_check_clock_page, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_mm_ops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_gather, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_notifier, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sync, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_sched_scenario_profile, setup, teardown),
		cmocka_unit_test_setup_teardown(test_null_listeners, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_ranges_zero_length, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mmap_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mremap_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_addresses_and_cpus, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interval_notifier_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enums_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corepath_bad_args, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pfns_out_of_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_torn_down_mm_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mm_refcount_misuse_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lock_destroy_misuse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_seqcount_parity_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_call_srcu_twice_reported, setup, teardown),
		cmocka_unit_test_setup_teardown(test_devmem_destroyed_twice, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hmm_destroy_while_locked, setup, teardown),
		cmocka_unit_test_setup_teardown(test_notifier_bad_ranges_not_dispatched, setup, teardown),
		cmocka_unit_test_setup_teardown(test_clock_saturates, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pct_depth_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_scenario_iterations_capped, setup, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
