// SPDX-License-Identifier: MIT
/*
 * clear_refs soft-dirty (lib/ops/softdirty.c): SOFT_DIRTY over [0, -1),
 * write-protect and clear under the PTL, end, flush_tlb_mm after end; the
 * write fault (and the hardware dirtying an entry) set soft-dirty again;
 * clean entries are notified false positives.
 */
#include "family_a.h"

struct sd_probe {
	struct fa *f;
	unsigned long addr;
	int cached_at_end;
};

static void probe_end(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct sd_probe *p = arg;

	(void)r;
	if (e->kind == REC_END && fa_cached(p->f, 0, p->addr))
		p->cached_at_end++;
}

static void test_clear_refs_write_protects_soft_dirty_entries_and_flushes_after_end(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct recorder *iommu = fa_rec(f, REC_OPS_SECONDARY_TLB);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct sd_probe p = { .f = f, .addr = a };
	const struct rec_event *s;
	struct mmn_op_stats st;

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(fa_read(f, 0, a + PG), 0); /* zero page: clean, read-only */
	assert_true(mmn_pte_soft_dirty(fa_pte(f, a)));
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, a), "ptl"), 0);
	r->hook = probe_end;
	r->hook_arg = &p;
	rec_reset(r);
	rec_reset(iommu);
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	FA_KINDS(r, REC_START, REC_END);
	s = rec_find(r, REC_START, 0);
	assert_int_equal(s->event, MMN_NOTIFY_SOFT_DIRTY);
	assert_int_equal(s->start, 0);
	assert_int_equal(s->end, ~0UL);
	assert_int_equal(s->held, 0);
	assert_int_equal(p.cached_at_end, 1);
	assert_false(fa_cached(f, 0, a));
	assert_true(fa_stamp(iommu, REC_ARCH_INVALIDATE, 0) > fa_stamp(r, REC_END, 0));
	assert_false(mmn_pte_soft_dirty(fa_pte(f, a)));
	assert_false(mmn_pte_write(fa_pte(f, a)));
	st = fa_stats(f, MMN_OP_SOFT_DIRTY);
	assert_int_equal(st.pages_changed, 1);
	assert_int_equal(st.pages_unchanged, 1);

	/* The next store faults (reuse) and sets soft-dirty again, in place. */
	fa_write(f, 1, a, 2);
	assert_true(mmn_pte_soft_dirty(fa_pte(f, a)));
	assert_true(mmn_pte_write(fa_pte(f, a)));
	/* A second clear finds one soft-dirty entry again. */
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	st = fa_stats(f, MMN_OP_SOFT_DIRTY);
	assert_int_equal(st.pages_changed, 2);
	assert_int_equal(st.pages_unchanged, 2);
}

/* The pre-5.2 listener sees an UNMAP over everything; 4.15 also gets the
 * ->invalidate_range of end. */
static void test_clear_refs_in_4_15_sequence(void **state)
{
	struct fa *f = fa_new("4.15");
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	FA_KINDS(r, REC_START, REC_INVALIDATE_RANGE, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_UNMAP);
}

/* A writable shared entry dirtied by the hardware walk is soft-dirty too
 * (x86 pte_mkdirty()); a read fault's entry is not. */
static void test_hardware_dirtying_sets_soft_dirty(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 2 * PG, RW, SHARED | FIXED);

	*state = f;
	assert_int_equal(fa_read(f, 0, a), 0);
	assert_true(mmn_pte_write(fa_pte(f, a)));
	assert_false(mmn_pte_soft_dirty(fa_pte(f, a)));
	fa_write(f, 1, a, 9); /* TLB miss on CPU 1: the walk sets D and SD */
	assert_true(mmn_pte_dirty(fa_pte(f, a)));
	assert_true(mmn_pte_soft_dirty(fa_pte(f, a)));
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	assert_false(mmn_pte_write(fa_pte(f, a)));
	fa_write(f, 0, a, 10); /* wp fault on shared memory: reuse */
	assert_true(mmn_pte_soft_dirty(fa_pte(f, a)));
	assert_int_equal(fa_read(f, 1, a), 10);
}

/* A maybe-pinned anonymous page keeps its writable entry (pte_is_pinned()). */
static void test_clear_refs_leaves_pinned_anonymous_pages_writable(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, PG, RW, ANON | FIXED), pfn;

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(mmn_get_user_pages(f->mm, a, MMN_FOLL_WRITE, &pfn, NULL), 0);
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	assert_true(mmn_pte_write(fa_pte(f, a)));
	assert_int_equal(fa_stats(f, MMN_OP_SOFT_DIRTY).pages_unchanged, 1);
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	assert_false(mmn_pte_write(fa_pte(f, a)));
}

static void test_clear_refs_bad_input(void **state)
{
	(void)state;
	assert_int_equal(mmn_clear_refs_soft_dirty(NULL), -EINVAL);
}

/*
 * fs/proc/task_mmu.c clear_refs_write(): 5.14 and 6.19 hold mmap_lock for
 * write from before start to after the flush, so a reader (a fault,
 * hmm_range_fault()) cannot run inside the bracket; 5.2 walks under the
 * read lock, so one can. Probed from the start callback by another actor's
 * mmap_read_trylock().
 */
struct lock_probe {
	struct mmn_mm *mm;
	int got;
};

static void *try_read(void *arg)
{
	struct lock_probe *p = arg;

	p->got = mmn_mmap_read_trylock(p->mm);
	if (p->got)
		mmn_mmap_read_unlock(p->mm);
	return NULL;
}

static void probe_start(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct lock_probe *p = arg;
	struct mmn_actor *t;

	(void)r;
	if (e->kind != REC_START)
		return;
	assert_int_equal(mmn_actor_spawn(r->sim, "reader", try_read, p, &t), 0);
	assert_int_equal(mmn_actor_join(t, NULL), 0);
}

static int reader_inside_bracket(const char *profile, const char *knob)
{
	struct fa *f = fa_new(profile);
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct lock_probe p = { .mm = f->mm, .got = -1 };

	if (knob)
		assert_int_equal(mmn_sim_set_knob(f->sim, "clear_refs_write_lock", knob), 0);
	fa_write(f, 0, fa_map(f, BASE, PG, RW, ANON | FIXED), 1);
	r->hook = probe_start;
	r->hook_arg = &p;
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	r->hook = NULL;
	fa_free(f);
	return p.got;
}

static void test_clear_refs_holds_mmap_lock_for_write_from_5_14(void **state)
{
	(void)state;
	assert_int_equal(reader_inside_bracket("latest", NULL), 0);
	assert_int_equal(reader_inside_bracket("5.14", NULL), 0);
	assert_int_equal(reader_inside_bracket("5.2", NULL), 1);
	assert_int_equal(reader_inside_bracket("4.12", NULL), 1);
	assert_int_equal(reader_inside_bracket("latest", "false"), 1); /* the 5.2 shape */
	assert_int_equal(reader_inside_bracket("5.2", "true"), 0);     /* the 5.14 shape */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
			test_clear_refs_write_protects_soft_dirty_entries_and_flushes_after_end,
			fa_teardown),
		cmocka_unit_test_teardown(test_clear_refs_in_4_15_sequence, fa_teardown),
		cmocka_unit_test_teardown(test_hardware_dirtying_sets_soft_dirty, fa_teardown),
		cmocka_unit_test_teardown(test_clear_refs_leaves_pinned_anonymous_pages_writable,
					  fa_teardown),
		cmocka_unit_test(test_clear_refs_bad_input),
		cmocka_unit_test(test_clear_refs_holds_mmap_lock_for_write_from_5_14),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
