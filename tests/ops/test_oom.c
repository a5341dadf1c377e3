// SPDX-License-Identifier: MIT
/*
 * The OOM reaper (lib/ops/oom.c): per reapable VMA a non-blocking start
 * (UNMAP up to 6.19, CLEAR with oom_reap_clear), zap, end, flush and free;
 * a refusing subscriber makes the VMA skipped without end; 4.15 refuses mms
 * with notifiers, 4.12/4.13 zap them without notifying; a contended
 * mmap_lock is -EAGAIN.
 */
#include <stdatomic.h>

#include "family_a.h"

struct oom_probe {
	struct fa *f;
	unsigned long pfn;
	int allocated_at_end;
};

static void probe_end(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct oom_probe *p = arg;

	(void)r;
	if (e->kind == REC_END && !(fa_page(p->f, p->pfn).flags & MMN_PG_FREE))
		p->allocated_at_end++;
}

static void reap_profile(const char *profile, const char *clear, enum mmn_notify_event want)
{
	struct fa *f = fa_new(profile);
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long s = fa_map(f, BASE + 4 * PG, 4 * PG, RW, SHARED | FIXED);
	unsigned long h = fa_map(f, BASE + MMN_PMD_SIZE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct oom_probe p = { .f = f };
	unsigned long skipped = 99;
	const struct rec_event *st;

	if (clear)
		assert_int_equal(mmn_sim_set_knob(f->sim, "oom_reap_clear", clear), 0);
	fa_write(f, 0, a + PG, 1);
	fa_write(f, 0, s, 2);
	fa_write(f, 0, h, 3);
	p.pfn = fa_walk(f, a + PG).pfn;
	r->hook = probe_end;
	r->hook_arg = &p;
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	rec_reset(r);
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	assert_int_equal(skipped, 0);
	FA_KINDS(r, REC_START, REC_END);
	st = rec_find(r, REC_START, 0);
	assert_int_equal(st->event, want);
	assert_int_equal(st->start, a);
	assert_int_equal(st->end, a + 4 * PG);
	assert_int_equal(st->flags & MMN_NOTIFIER_RANGE_BLOCKABLE, 0);
	assert_int_equal(st->held, 0);
	assert_int_equal(p.allocated_at_end, 1);
	assert_true(fa_page(f, p.pfn).flags & MMN_PG_FREE);
	assert_true(mmn_pte_none(fa_pte(f, a + PG)));
	/* Shared and hugetlb memory stay; the VMAs all stay. */
	assert_true(mmn_pte_present(fa_pte(f, s)));
	assert_true(mmn_pte_present(fa_pte(f, h)));
	assert_int_equal(mmn_vma_count(f->mm), 3);
	assert_int_equal(fa_stats(f, MMN_OP_OOM_REAP).pages_changed, 1);
	fa_free(f);
}

static void test_reaper_zaps_private_memory_with_a_nonblocking_range(void **state)
{
	(void)state;
	/* 6.19 mm/oom_kill.c __oom_reap_task_mm(): MMU_NOTIFY_UNMAP; the mm
	 * tree's zap_vma_for_reaping() (knob oom_reap_clear): CLEAR. */
	reap_profile("latest", NULL, MMN_NOTIFY_UNMAP);
	reap_profile("latest", "true", MMN_NOTIFY_CLEAR);
	reap_profile("6.10", NULL, MMN_NOTIFY_UNMAP);
	reap_profile("5.2", NULL, MMN_NOTIFY_UNMAP);
}

/* A subscriber that cannot block refuses: no end, the VMA is skipped. */
static void test_refused_start_skips_the_vma_without_end(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = &f->r[f->nr_rec++];
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long b = fa_map(f, BASE + 8 * PG, 4 * PG, RW, ANON | FIXED);
	unsigned long skipped = 0;

	*state = f;
	assert_int_equal(rec_init(r, f->sim, REC_OPS_START_ONLY, 64), 0);
	assert_int_equal(rec_register(r, f->mm), 0);
	fa_write(f, 0, a, 1);
	fa_write(f, 0, b, 2);
	r->start_ret = -EAGAIN;
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	assert_int_equal(skipped, 2);
	FA_KINDS(r, REC_START, REC_START);
	assert_int_equal(fa_read(f, 0, a), 1);
	assert_int_equal(fa_stats(f, MMN_OP_OOM_REAP).skipped, 2);
	/* The reaper retries; this time the subscriber lets it through. */
	r->start_ret = 0;
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_true(mmn_pte_none(fa_pte(f, a)));
	assert_true(mmn_pte_none(fa_pte(f, b)));
}

/* 4.15 mm/oom_kill.c oom_reap_task_mm(): an mm with notifiers is not
 * reaped at all (mm_has_notifiers()). */
static void test_pre_4_19_reaper_refuses_mms_with_notifiers(void **state)
{
	struct fa *f = fa_new("4.15");
	struct recorder *r;
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long skipped = 0;

	*state = f;
	fa_write(f, 0, a, 1);
	/* Without notifiers: reaped, nothing to notify. */
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_true(mmn_pte_none(fa_pte(f, a)));
	fa_write(f, 0, a, 2);
	r = fa_rec(f, REC_OPS_LEGACY);
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(fa_read(f, 0, a), 2);
}

/*
 * 4.12/4.13 mm/oom_kill.c __oom_reap_task_mm(): no mm_has_notifiers() check
 * and no start/end; the mm is zapped and its pages freed while a start/end
 * subscriber hears nothing (knob oom_reap_skip_notifiers false). The same
 * mm under the 4.15 shape (knob true) is left alone.
 */
static void reap_with_a_subscriber(const char *profile, const char *skip, bool zapped)
{
	struct fa *f = fa_new(profile);
	struct recorder *r;
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long skipped = 9, pfn;

	if (skip)
		assert_int_equal(mmn_sim_set_knob(f->sim, "oom_reap_skip_notifiers", skip), 0);
	fa_write(f, 0, a, 1);
	pfn = fa_walk(f, a).pfn;
	r = fa_rec(f, REC_OPS_LEGACY);
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	/* No start/end either way: a start/end subscriber (KVM) is never
	 * told; only the gather's flush reaches ->invalidate_range users. */
	assert_null(rec_find(r, REC_START, 0));
	assert_null(rec_find(r, REC_END, 0));
	assert_int_equal(skipped, zapped ? 0 : 1);
	assert_int_equal(mmn_pte_none(fa_pte(f, a)), zapped);
	assert_int_equal(!!(fa_page(f, pfn).flags & MMN_PG_FREE), zapped);
	fa_free(f);
}

static void test_4_12_and_4_13_reaper_zaps_mms_with_notifiers_unnotified(void **state)
{
	(void)state;
	reap_with_a_subscriber("4.12", NULL, true);
	reap_with_a_subscriber("4.13", NULL, true);
	reap_with_a_subscriber("4.13", "true", false); /* the 4.15 shape */
	reap_with_a_subscriber("4.15", "false", true); /* the 4.13 shape */
}

struct holder {
	struct mmn_mm *mm;
	atomic_int held, release;
};

static void *hold_mmap_lock(void *arg)
{
	struct holder *h = arg;

	mmn_mmap_write_lock(h->mm);
	atomic_store(&h->held, 1);
	while (!atomic_load(&h->release))
		;
	mmn_mmap_write_unlock(h->mm);
	return NULL;
}

static void test_contended_mmap_lock_is_eagain_and_changes_nothing(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct holder h = { .mm = f->mm };
	struct mmn_actor *t;
	unsigned long skipped = 7;

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_actor_spawn(f->sim, "holder", hold_mmap_lock, &h, &t), 0);
	while (!atomic_load(&h.held))
		;
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), -EAGAIN);
	atomic_store(&h.release, 1);
	assert_int_equal(mmn_actor_join(t, NULL), 0);
	assert_int_equal(skipped, 7);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(fa_read(f, 0, a), 1);
	assert_int_equal(mmn_oom_reap(NULL, NULL), -EINVAL);
	assert_int_equal(fa_stats(f, MMN_OP_OOM_REAP).calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_reaper_zaps_private_memory_with_a_nonblocking_range),
		cmocka_unit_test_teardown(test_refused_start_skips_the_vma_without_end, fa_teardown),
		cmocka_unit_test(test_4_12_and_4_13_reaper_zaps_mms_with_notifiers_unnotified),
		cmocka_unit_test_teardown(test_pre_4_19_reaper_refuses_mms_with_notifiers,
					  fa_teardown),
		cmocka_unit_test_teardown(test_contended_mmap_lock_is_eagain_and_changes_nothing,
					  fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
