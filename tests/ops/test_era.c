// SPDX-License-Identifier: MIT
/*
 * Era fixes that cross operations and the notifier core: 4.12's
 * ptep_clear_flush_notify() at a COW, registration against an rmap walker's
 * bracket (mm_take_all_locks()), mprotect's lazy start per P4D (6.19) or
 * per PUD. Each test names the kernel version and function it follows.
 */
#include <stdatomic.h>
#include <string.h>

#include "family_a.h"

/* Write-protect by hand and pin, so the next store copies (wp_page_copy). */
static unsigned long make_cow(struct fa *f, unsigned long addr)
{
	struct mmn_ptdesc *pt = mmn_pt_walk(f->mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	unsigned long pinned;
	mmn_pte_t e;

	assert_int_equal(mmn_get_user_pages(f->mm, addr, 0, &pinned, NULL), 0);
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(f->sim, pt, idx, addr);
	mmn_pte_cmpxchg(f->sim, pt, idx, addr, e, e & ~MMN_PTE_WRITE);
	mmn_flush_tlb_page(f->mm, addr);
	mmn_spin_unlock(&pt->ptl);
	return pinned;
}

/*
 * 4.12 mm/memory.c wp_page_copy() clears the old entry with
 * ptep_clear_flush_notify(), which in 4.12's include/linux/mmu_notifier.h is
 * ptep_clear_flush() then mmu_notifier_invalidate_range() under the PTL;
 * end calls ->invalidate_range again (no only_end before 4.15).
 */
static void test_4_12_cow_calls_invalidate_range_under_the_ptl(void **state)
{
	struct fa *f = fa_new("4.12");
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED), pinned;
	const enum rec_kind seq[] = { REC_START, REC_INVALIDATE_RANGE, REC_CHANGE_PTE,
				      REC_INVALIDATE_RANGE, REC_END };

	*state = f;
	fa_write(f, 0, a, 1);
	pinned = make_cow(f, a);
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	rec_reset(r);
	fa_write(f, 0, a, 2);
	assert_true(rec_kinds_are(r, seq, 5));
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 0)->held, 1);
	assert_int_equal(rec_find(r, REC_INVALIDATE_RANGE, 1)->held, 0);
	rec_unwatch_locks(r);
	assert_int_equal(mmn_unpin_user_page(f->sim, pinned), 0);
}

/*
 * 6.19 mm/mmu_notifier.c __mmu_notifier_register() (the same since 2.6.27)
 * adds the subscription between mm_take_all_locks() and
 * mm_drop_all_locks(). Reclaim's try_to_unmap_one() holds the anon_vma lock
 * for read across its start..end without mmap_lock: a registration that
 * begins inside that bracket waits for the anon_vma lock, so the new
 * subscriber never gets the bracket's end without its start.
 */
struct reg_race {
	struct fa *f;
	struct recorder *late;
	struct mmn_completion at_lock;
	struct mmn_actor *reg;
	atomic_int seen, registered;
	int early;
	bool spawned;
};

static void reg_sched(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct reg_race *rr = arg;

	(void)sim;
	if (ev->kind == MMN_SCHED_LOCK && ev->name && !strcmp(ev->name, "anon_vma") &&
	    !strcmp(mmn_actor_name(ev->actor), "reg") && !atomic_exchange(&rr->seen, 1))
		mmn_complete(&rr->at_lock);
}

static void *registrar(void *arg)
{
	struct reg_race *rr = arg;

	assert_int_equal(rec_register(rr->late, rr->f->mm), 0);
	atomic_store(&rr->registered, 1);
	/* A registration that wrongly did not wait fails the test, not hangs it. */
	if (!atomic_exchange(&rr->seen, 1))
		mmn_complete(&rr->at_lock);
	return NULL;
}

/* In the reclaimer's start: register another subscriber from "reg". */
static void start_hook(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct reg_race *rr = arg;

	(void)r;
	if (e->kind != REC_START || rr->spawned)
		return;
	rr->spawned = true;
	assert_int_equal(mmn_actor_spawn(rr->f->sim, "reg", registrar, rr, &rr->reg), 0);
	mmn_wait_for_completion(&rr->at_lock);
	rr->early = atomic_load(&rr->registered);
}

static void test_registration_waits_out_an_rmap_walkers_bracket(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *first = fa_rec(f, REC_OPS_START_END);
	struct reg_race rr = { .f = f, .late = &f->r[f->nr_rec++] };
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED);

	*state = f;
	assert_int_equal(rec_init(rr.late, f->sim, REC_OPS_START_END, 64), 0);
	mmn_init_completion(&rr.at_lock, f->sim, "at_lock");
	fa_write(f, 0, a, 1);
	rec_reset(first);
	first->hook = start_hook;
	first->hook_arg = &rr;
	mmn_sched_set_hook(f->sim, reg_sched, &rr);
	assert_int_equal(mmn_try_to_unmap(f->mm, a, PG), 0);
	assert_true(rr.spawned);
	assert_int_equal(mmn_actor_join(rr.reg, NULL), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	first->hook = NULL;
	assert_int_equal(rr.early, 0);            /* it waited for the anon_vma lock */
	assert_int_equal(atomic_load(&rr.registered), 1);
	assert_int_equal(rec_count_kind(rr.late, REC_END), 0); /* no lone end */
	assert_int_equal(rec_count_kind(first, REC_START), 1);
	assert_int_equal(rec_count_kind(first, REC_END), 1);
	/* Registered now: the next bracket reaches it whole. */
	assert_int_equal(fa_read(f, 0, a), 1);
	assert_int_equal(mmn_try_to_unmap(f->mm, a, PG), 0);
	assert_int_equal(rec_count_kind(rr.late, REC_START), 1);
	assert_int_equal(rec_count_kind(rr.late, REC_END), 1);
	mmn_completion_destroy(&rr.at_lock);
}

/*
 * mm_take_all_locks() takes every i_mmap_rwsem and anon_vma lock of the mm
 * for write under mmap_lock (down_write_nest_lock()): several of one class
 * are no recursive locking, and an rmap walk after the registration runs.
 */
static void test_registration_takes_every_rmap_lock_without_a_lockdep_report(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED);
	unsigned long b = fa_map(f, BASE + 8 * PG, PG, RW, ANON | FIXED);
	unsigned long s = fa_map(f, BASE + 16 * PG, PG, RW, SHARED | FIXED);
	unsigned long t = fa_map(f, BASE + 24 * PG, PG, RW, SHARED | FIXED);
	struct recorder *r;

	*state = f;
	fa_write(f, 0, a, 1);
	fa_write(f, 0, b, 2);
	fa_write(f, 0, s, 3);
	fa_write(f, 0, t, 4);
	r = fa_rec(f, REC_OPS_START_END);
	assert_int_equal(mmn_try_to_unmap(f->mm, a, PG), 0);
	assert_int_equal(rec_count_kind(r, REC_END), 1);
	assert_int_equal(mmn_check_total(f->sim), 0);
}

/*
 * mprotect's lazy start. 6.5/6.6 mm/mprotect.c change_pmd_range(): one
 * bracket per PUD entry, from its first populated PMD entry to the PUD
 * region's end. 6.19 change_pud_range(): one bracket per P4D entry, from
 * the walk's address at its first non-none PUD entry to the P4D region's
 * end (knob mprotect_start_per_p4d).
 */
static void mprotect_brackets(const char *profile, const char *per_p4d, bool one)
{
	struct fa *f = fa_new(profile);
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long len = MMN_PUD_SIZE + 2 * MMN_PMD_SIZE;
	unsigned long a = fa_map(f, BASE, len, RW, ANON | FIXED);
	unsigned long x = a + 2 * MMN_PMD_SIZE, y = a + MMN_PUD_SIZE + MMN_PMD_SIZE;

	if (per_p4d)
		assert_int_equal(mmn_sim_set_knob(f->sim, "mprotect_start_per_p4d", per_p4d), 0);
	fa_write(f, 0, x, 1);
	fa_write(f, 0, y, 2);
	rec_reset(r);
	assert_int_equal(mmn_mprotect(f->mm, a, len, RO), 0);
	if (one) {
		const enum rec_kind seq[] = { REC_START, REC_END };

		assert_true(rec_kinds_are(r, seq, 2));
		assert_int_equal(rec_find(r, REC_START, 0)->start, a);
		assert_int_equal(rec_find(r, REC_START, 0)->end, a + len);
	} else {
		const enum rec_kind seq[] = { REC_START, REC_END, REC_START, REC_END };

		assert_true(rec_kinds_are(r, seq, 4));
		assert_int_equal(rec_find(r, REC_START, 0)->start, x);
		assert_int_equal(rec_find(r, REC_START, 0)->end, a + MMN_PUD_SIZE);
		assert_int_equal(rec_find(r, REC_START, 1)->start, y);
		assert_int_equal(rec_find(r, REC_START, 1)->end, a + len);
	}
	assert_false(mmn_pte_write(fa_pte(f, x)));
	assert_false(mmn_pte_write(fa_pte(f, y)));
	fa_free(f);
}

static void test_mprotect_starts_per_p4d_in_6_19_and_per_pud_before(void **state)
{
	(void)state;
	mprotect_brackets("latest", NULL, true);
	mprotect_brackets("6.6", NULL, false);
	mprotect_brackets("6.5", NULL, false);
	mprotect_brackets("latest", "false", false); /* the 6.6 shape */
	mprotect_brackets("6.6", "true", true);      /* the 6.19 shape */
}

/*
 * A permission upgrade (wp_page_reuse() → ptep_set_access_flags() with
 * dirty): x86 (arch/x86/mm/pgtable.c) flushes nothing; arm64
 * (arch/arm64/mm/fault.c __ptep_set_access_flags()) flushes the page, and
 * from 6.6 its flush calls arch_invalidate_secondary_tlbs()
 * (arch/arm64/include/asm/tlbflush.h; 6.19 local_flush_tlb_page()), which
 * the 6.5 flush_tlb_page() did not. Knob arch.
 */
static unsigned long upgrade_flushes(const char *profile, const char *arch, enum rec_ops_mode mode,
				     enum rec_kind kind)
{
	struct fa *f = fa_new(profile);
	struct recorder *r;
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED), n;

	if (arch)
		assert_int_equal(mmn_sim_set_knob(f->sim, "arch", arch), 0);
	fa_write(f, 0, a, 1);
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0); /* write-protects */
	assert_false(mmn_pte_write(fa_pte(f, a)));
	r = fa_rec(f, mode);
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	fa_write(f, 0, a, 2); /* exclusive anon page: reused in place */
	assert_true(mmn_pte_write(fa_pte(f, a)));
	n = rec_count_kind(r, kind);
	if (n)
		assert_int_equal(rec_find(r, kind, 0)->held, 1); /* under the PTL */
	assert_null(rec_find(r, REC_START, 0)); /* an upgrade notifies no range */
	rec_unwatch_locks(r);
	fa_free(f);
	return n;
}

static void test_arm64_permission_upgrade_flushes_secondary_tlbs_from_6_6(void **state)
{
	(void)state;
	assert_int_equal(upgrade_flushes("latest", "arm64", REC_OPS_SECONDARY_TLB,
					 REC_ARCH_INVALIDATE), 1);
	assert_int_equal(upgrade_flushes("6.6", "arm64", REC_OPS_SECONDARY_TLB,
					 REC_ARCH_INVALIDATE), 1);
	assert_int_equal(upgrade_flushes("latest", NULL, REC_OPS_SECONDARY_TLB,
					 REC_ARCH_INVALIDATE), 0); /* x86 */
	assert_int_equal(upgrade_flushes("6.5", "arm64", REC_OPS_LEGACY, REC_INVALIDATE_RANGE),
			 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_4_12_cow_calls_invalidate_range_under_the_ptl,
					  fa_teardown),
		cmocka_unit_test_teardown(test_registration_waits_out_an_rmap_walkers_bracket,
					  fa_teardown),
		cmocka_unit_test_teardown(
			test_registration_takes_every_rmap_lock_without_a_lockdep_report,
			fa_teardown),
		cmocka_unit_test(test_mprotect_starts_per_p4d_in_6_19_and_per_pud_before),
		cmocka_unit_test(test_arm64_permission_upgrade_flushes_secondary_tlbs_from_6_6),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
