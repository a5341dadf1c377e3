// SPDX-License-Identifier: MIT
/*
 * mprotect() and NUMA hinting (lib/ops/mprotect.c): the step order per
 * profile (lazy start at the first populated PMD entry, changes under the
 * PTL, end, CPU flush after end; hugetlb flushing before an only_end), the
 * entry changes (write removed, PROT_NONE entries that stay mappings, COW
 * pages left read-only as false positives), VMA splitting, NUMA hints and
 * their faults, and the errors that leave the model unchanged.
 */
#include "family_a.h"

/* ---- step order ---------------------------------------------------- */

/* At end: whether CPU 0 still caches the probe address (F1 not done yet). */
struct end_probe {
	struct fa *f;
	unsigned long addr;
	int ends, cached_at_end;
};

static void probe_at_end(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct end_probe *p = arg;

	(void)r;
	if (e->kind != REC_END)
		return;
	p->ends++;
	if (fa_cached(p->f, 0, p->addr))
		p->cached_at_end++;
}

/* change_pmd_range()'s lazy start per PUD entry (up to 6.11; 6.10 here):
 * latest's per-P4D start is in tests/ops/test_era.c. */
static void test_mprotect_starts_lazily_and_flushes_cpus_after_end(void **state)
{
	struct fa *f = fa_new("6.10");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct recorder *iommu = fa_rec(f, REC_OPS_SECONDARY_TLB);
	struct end_probe p = { .f = f };
	unsigned long a = fa_map(f, BASE, 4 * MMN_PMD_SIZE, RW, ANON | FIXED);
	unsigned long x = a + 2 * MMN_PMD_SIZE + 5 * PG, y = a + 3 * MMN_PMD_SIZE;
	const struct rec_event *s;
	struct mmn_op_stats st;

	*state = f;
	fa_write(f, 0, x, 1);
	fa_write(f, 0, y, 2);
	assert_int_equal(rec_watch_lock(r, fa_ptl(f, x), "ptl"), 0);
	p.addr = x;
	r->hook = probe_at_end;
	r->hook_arg = &p;
	rec_reset(r);
	rec_reset(iommu);

	assert_int_equal(mmn_mprotect(f->mm, a, 4 * MMN_PMD_SIZE, RO), 0);

	FA_KINDS(r, REC_START, REC_END);
	s = rec_find(r, REC_START, 0);
	/* The first two PMD entries are empty: the range starts at the third. */
	assert_int_equal(s->start, a + 2 * MMN_PMD_SIZE);
	assert_int_equal(s->end, a + 4 * MMN_PMD_SIZE);
	assert_int_equal(s->event, MMN_NOTIFY_PROTECTION_VMA);
	assert_int_equal(s->held, 0);
	assert_int_equal(rec_find(r, REC_END, 0)->held, 0);
	/* F1 (with F2 inside it) comes after end: the CPU still cached the
	 * writable translation when end ran. */
	assert_int_equal(p.cached_at_end, 1);
	assert_int_equal(rec_count_kind(iommu, REC_ARCH_INVALIDATE), 1);
	assert_true(fa_stamp(iommu, REC_ARCH_INVALIDATE, 0) > fa_stamp(r, REC_END, 0));
	assert_false(fa_cached(f, 0, x));
	assert_false(mmn_pte_write(fa_pte(f, x)));
	assert_false(mmn_pte_write(fa_pte(f, y)));
	assert_int_equal(mmn_cpu_write(f->mm, 0, x, 3), -EACCES);
	assert_int_equal(fa_read(f, 1, x), 1);
	st = fa_stats(f, MMN_OP_MPROTECT);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.ranges, 1);
	assert_int_equal(st.pages_changed, 2);
	assert_int_equal(st.pages_unchanged, 0);
}

/* 4.15: events unknown to listeners (UNMAP), ->invalidate_range from end
 * and again from the gather's flush after it. */
static void test_mprotect_in_4_15_is_seen_as_unmap_with_invalidate_range(void **state)
{
	struct fa *f = fa_new("4.15");
	struct recorder *r = fa_rec(f, REC_OPS_LEGACY);
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_mprotect(f->mm, a, 8 * PG, RO), 0);
	FA_KINDS(r, REC_START, REC_INVALIDATE_RANGE, REC_END, REC_INVALIDATE_RANGE);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_UNMAP);
	assert_int_equal(rec_find(r, REC_START, 0)->start, a);
	assert_int_equal(rec_find(r, REC_START, 0)->end, a + 8 * PG);
}

/* The entries change with the PTL held (a PTE write is a scheduling point). */
struct ptl_probe {
	struct mmn_spinlock *ptl;
	int writes, unlocked_writes;
};

static void ptl_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct ptl_probe *p = arg;

	(void)sim;
	if (ev->kind != MMN_SCHED_PTE_WRITE)
		return;
	p->writes++;
	if (mmn_lockdep_is_held(p->ptl) != 1)
		p->unlocked_writes++;
}

static void test_mprotect_changes_entries_under_the_ptl(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct ptl_probe p;

	*state = f;
	for (int i = 0; i < 4; i++)
		fa_write(f, 0, a + i * PG, i);
	p = (struct ptl_probe){ .ptl = fa_ptl(f, a) };
	mmn_sched_set_hook(f->sim, ptl_hook, &p);
	assert_int_equal(mmn_mprotect(f->mm, a, 4 * PG, RO), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_true(p.writes >= 4);
	assert_int_equal(p.unlocked_writes, 0);
	/* The probe can fail: an entry write without the PTL is seen (a none
	 * entry outside the VMA rewritten as none: no effect on the model). */
	p = (struct ptl_probe){ .ptl = fa_ptl(f, a) };
	mmn_sched_set_hook(f->sim, ptl_hook, &p);
	mmn_pte_set(f->sim, mmn_pt_walk(f->mm, a + 8 * PG, MMN_LVL_PTE),
		    mmn_pt_index(a + 8 * PG, MMN_LVL_PTE), a + 8 * PG, 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(p.unlocked_writes, 1);
}

/*
 * Hugetlb (hugetlb_change_protection(), mm/hugetlb.c 4.13-6.19): one start
 * over the range, F1 before end, and the full end in every era (never
 * only_end). 4.13: ->invalidate_range right after F1 and again from end;
 * 6.5: only from end; latest: F2 inside F1, before end.
 */
static void test_hugetlb_mprotect_flushes_before_the_full_end(void **state)
{
	static const char *const profiles[] = { "4.13", "6.5", "latest" };

	(void)state;
	for (int i = 0; i < 3; i++) {
		struct fa *f = fa_new(profiles[i]);
		struct recorder *r = fa_rec(f, i < 2 ? REC_OPS_LEGACY : REC_OPS_START_END);
		struct recorder *iommu = i == 2 ? fa_rec(f, REC_OPS_SECONDARY_TLB) : NULL;
		struct end_probe p = { .f = f };
		unsigned long a = fa_map(f, BASE, 2 * MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);

		fa_write(f, 0, a + 3 * PG, 7);
		p.addr = a + 3 * PG;
		r->hook = probe_at_end;
		r->hook_arg = &p;
		rec_reset(r);
		assert_int_equal(mmn_mprotect(f->mm, a, 2 * MMN_PMD_SIZE, RO), 0);
		if (i == 0) /* 4.13: after flush_hugetlb_tlb_range(), and end's */
			FA_KINDS(r, REC_START, REC_INVALIDATE_RANGE, REC_INVALIDATE_RANGE, REC_END);
		else if (i == 1) /* 6.5: end's only (5.2-6.5) */
			FA_KINDS(r, REC_START, REC_INVALIDATE_RANGE, REC_END);
		else
			FA_KINDS(r, REC_START, REC_END);
		assert_int_equal(rec_find(r, REC_START, 0)->start, a);
		assert_int_equal(rec_find(r, REC_START, 0)->end, a + 2 * MMN_PMD_SIZE);
		/* Unlike the 4 KiB path, the CPU was flushed before end. */
		assert_int_equal(p.cached_at_end, 0);
		if (iommu)
			assert_true(fa_stamp(iommu, REC_ARCH_INVALIDATE, 0) <
				    fa_stamp(r, REC_END, 0));
		assert_false(mmn_pte_write(fa_pte(f, a)));
		assert_int_equal(fa_stats(f, MMN_OP_MPROTECT).pages_changed, MMN_HPAGE_NR);
		assert_int_equal(fa_read(f, 1, a + 3 * PG), 7);
		fa_free(f);
	}
}

/* ---- what changes -------------------------------------------------- */

static void test_unchanged_protection_returns_without_notifying_or_splitting(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, a + PG, 1);
	rec_reset(r);
	assert_int_equal(mmn_mprotect(f->mm, a + PG, 2 * PG, RW), 0);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(mmn_vma_count(f->mm), 1);
	assert_true(mmn_pte_write(fa_pte(f, a + PG)));
	assert_int_equal(fa_stats(f, MMN_OP_MPROTECT).ranges, 0);
}

static void test_mprotect_splits_the_vma_at_both_edges(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);
	struct mmn_vma_info v;

	*state = f;
	fa_write(f, 0, a + 2 * PG, 1);
	fa_write(f, 0, a + 5 * PG, 2);
	assert_int_equal(mmn_mprotect(f->mm, a + 2 * PG, 3 * PG, RO), 0);
	assert_int_equal(mmn_vma_count(f->mm), 3);
	assert_int_equal(mmn_vma_at(f->mm, 1, &v), 0);
	assert_int_equal(v.start, a + 2 * PG);
	assert_int_equal(v.end, a + 5 * PG);
	assert_int_equal(v.prot, RO);
	assert_int_equal(mmn_vma_at(f->mm, 2, &v), 0);
	assert_int_equal(v.prot, RW);
	assert_false(mmn_pte_write(fa_pte(f, a + 2 * PG)));
	assert_true(mmn_pte_write(fa_pte(f, a + 5 * PG)));
	fa_write(f, 1, a + 5 * PG, 3);
}

/* Seed 004: making a private COW range writable leaves the zero page and
 * pinned pages read-only; they are notified all the same. */
static void test_write_upgrade_leaves_cow_pages_read_only_as_false_positives(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED), pfn;
	struct mmn_op_stats st;

	*state = f;
	fa_write(f, 0, a, 1);                   /* exclusive page */
	assert_int_equal(fa_read(f, 0, a + PG), 0); /* zero page */
	fa_write(f, 0, a + 2 * PG, 3);          /* will be pinned */
	/* The pinned page is copied where the refcount decides (5.9-5.18
	 * do_wp_page()); 5.19+ reuses it (tests/ops/test_rmap_fork.c). */
	assert_int_equal(mmn_sim_set_knob(f->sim, "cow_reuse_anon_exclusive", "false"), 0);
	assert_int_equal(mmn_get_user_pages(f->mm, a + 2 * PG, 0, &pfn, NULL), 0);
	assert_int_equal(mmn_mprotect(f->mm, a, 4 * PG, RO), 0);
	st = fa_stats(f, MMN_OP_MPROTECT);
	assert_int_equal(st.pages_changed, 2);
	assert_int_equal(st.pages_unchanged, 1); /* the zero page was read-only */
	rec_reset(r);
	assert_int_equal(mmn_mprotect(f->mm, a, 4 * PG, RW), 0);
	FA_KINDS(r, REC_START, REC_END);
	assert_true(mmn_pte_write(fa_pte(f, a)));
	assert_false(mmn_pte_write(fa_pte(f, a + PG)));
	assert_false(mmn_pte_write(fa_pte(f, a + 2 * PG)));
	st = fa_stats(f, MMN_OP_MPROTECT);
	assert_int_equal(st.pages_changed, 3);
	assert_int_equal(st.pages_unchanged, 3);
	/* The write fault settles them: COW for the zero and the pinned page. */
	fa_write(f, 0, a + PG, 4);
	fa_write(f, 0, a + 2 * PG, 5);
	assert_int_not_equal(fa_walk(f, a + 2 * PG).pfn, pfn);
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
}

static void test_prot_none_keeps_mappings_and_restores_them(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long pfn;
	mmn_pte_t e;

	*state = f;
	fa_write(f, 0, a, 42);
	pfn = fa_walk(f, a).pfn;
	assert_int_equal(mmn_mprotect(f->mm, a, 4 * PG, MMN_PROT_NONE), 0);
	e = fa_pte(f, a);
	assert_true(mmn_pte_protnone(e));
	assert_true(mmn_pte_mapped(e));
	assert_false(mmn_pte_present(e));
	assert_false(mmn_pte_write(e));
	assert_int_equal(mmn_pte_swp_type(e), MMN_SWP_NONE);
	assert_int_equal(mmn_pte_pfn(e), pfn);
	assert_int_equal(fa_page(f, pfn).mapcount, 1);
	assert_false(fa_cached(f, 0, a));
	assert_int_equal(mmn_cpu_read(f->mm, 0, a, &(uint64_t){ 0 }), -EACCES);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(mmn_mprotect(f->mm, a, 4 * PG, RW), 0);
	assert_true(mmn_pte_present(fa_pte(f, a)));
	assert_true(mmn_pte_write(fa_pte(f, a)));
	assert_int_equal(fa_read(f, 1, a), 42);
	/* Unmapping PROT_NONE entries frees their pages. */
	assert_int_equal(mmn_mprotect(f->mm, a, 4 * PG, MMN_PROT_NONE), 0);
	assert_int_equal(mmn_munmap(f->mm, a, 4 * PG), 0);
	assert_true(fa_page(f, pfn).flags & MMN_PG_FREE);
}

static void test_hugetlb_prot_none_is_zapped_at_exit(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct mmn_stats st;

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(mmn_mprotect(f->mm, a, MMN_PMD_SIZE, MMN_PROT_NONE), 0);
	assert_true(mmn_pte_protnone(fa_pte(f, a)));
	assert_int_equal(mmn_audit(f->sim), 0);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.huge_pages_free, 1);
	assert_int_equal(mmn_munmap(f->mm, a, MMN_PMD_SIZE), 0);
	mmn_sim_get_stats(f->sim, &st);
	assert_int_equal(st.huge_pages_free, 2);
}

/* ---- errors ---------------------------------------------------------- */

static void test_mprotect_bad_input_changes_nothing(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long h = fa_map(f, BASE + MMN_PUD_SIZE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	struct mmn_op_stats st;

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_mprotect(NULL, a, PG, RO), -EINVAL);
	assert_int_equal(mmn_mprotect(f->mm, a + 1, PG, RO), -EINVAL);
	assert_int_equal(mmn_mprotect(f->mm, a, PG, 0x4), -EINVAL);
	assert_int_equal(mmn_mprotect(f->mm, a, ~0UL - PG, RO), -ENOMEM);
	/* A hole after the VMA: nothing changes (Linux would change a prefix). */
	assert_int_equal(mmn_mprotect(f->mm, a, 8 * PG, RO), -ENOMEM);
	/* A hugetlb VMA cannot be split off its 2 MiB alignment. */
	assert_int_equal(mmn_mprotect(f->mm, h + PG, PG, RO), -EINVAL);
	assert_int_equal(mmn_mprotect(f->mm, a, 0, RO), 0);
	assert_int_equal(rec_count(r), 0);
	assert_int_equal(mmn_vma_count(f->mm), 2);
	assert_true(mmn_pte_write(fa_pte(f, a)));
	st = fa_stats(f, MMN_OP_MPROTECT);
	assert_int_equal(st.calls, 0);
	assert_int_equal(st.ranges, 0);
}

/* ---- NUMA hinting ---------------------------------------------------- */

static void test_numa_hint_makes_entries_protnone_and_the_access_restores_them(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct end_probe p = { .f = f };
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED), pfn;
	struct mmn_op_stats st;
	struct mmn_stats s;
	uint32_t gen;

	*state = f;
	fa_write(f, 0, a, 11);
	fa_write(f, 0, a + 3 * PG, 33);
	assert_int_equal(fa_read(f, 0, a + 5 * PG), 0); /* zero page: skipped */
	p.addr = a;
	r->hook = probe_at_end;
	r->hook_arg = &p;
	rec_reset(r);
	assert_int_equal(mmn_change_prot_numa(f->mm, a, 8 * PG), 0);
	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_PROTECTION_VMA);
	assert_int_equal(p.cached_at_end, 1); /* F1 after end */
	assert_false(fa_cached(f, 0, a));
	assert_true(mmn_pte_protnone(fa_pte(f, a)));
	assert_true(mmn_pte_write(fa_pte(f, a)));
	assert_true(mmn_pte_present(fa_pte(f, a + 5 * PG)));
	st = fa_stats(f, MMN_OP_NUMA_HINT);
	assert_int_equal(st.pages_changed, 2);
	assert_int_equal(st.pages_unchanged, 1);

	/* A CPU access takes the NUMA fault and sees its data. */
	assert_int_equal(fa_read(f, 1, a), 11);
	assert_true(mmn_pte_present(fa_pte(f, a)));
	/* GUP faults too instead of following a PROT_NONE entry. */
	assert_int_equal(mmn_get_user_pages(f->mm, a + 3 * PG, MMN_FOLL_WRITE, &pfn, &gen), 0);
	assert_true(mmn_pte_present(fa_pte(f, a + 3 * PG)));
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	mmn_sim_get_stats(f->sim, &s);
	assert_int_equal(s.faults_numa, 2);
}

/* Seed 004 / S9: entries already PROT_NONE are notified again, unchanged. */
static void test_numa_hint_on_protnone_entries_notifies_false_positives(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_op_stats st;

	*state = f;
	for (int i = 0; i < 4; i++)
		fa_write(f, 0, a + i * PG, i);
	assert_int_equal(mmn_change_prot_numa(f->mm, a, 4 * PG), 0);
	rec_reset(r);
	assert_int_equal(mmn_change_prot_numa(f->mm, a, 4 * PG), 0);
	FA_KINDS(r, REC_START, REC_END);
	st = fa_stats(f, MMN_OP_NUMA_HINT);
	assert_int_equal(st.calls, 2);
	assert_int_equal(st.pages_changed, 4);
	assert_int_equal(st.pages_unchanged, 4);
	/* Exit with PROT_NONE entries: the teardown frees them (audit at end). */
}

static void test_numa_hint_skips_shared_hugetlb_and_inaccessible_vmas(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long s = fa_map(f, BASE, 4 * PG, RW, SHARED | FIXED);
	unsigned long h = fa_map(f, BASE + MMN_PMD_SIZE, MMN_PMD_SIZE, RW, ANON | HUGE | FIXED);
	unsigned long n = fa_map(f, BASE + 2 * MMN_PMD_SIZE, 4 * PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, s, 1);
	fa_write(f, 0, h, 2);
	fa_write(f, 0, n, 3);
	assert_int_equal(mmn_mprotect(f->mm, n, 4 * PG, MMN_PROT_NONE), 0);
	rec_reset(r);
	assert_int_equal(mmn_change_prot_numa(f->mm, s, 4 * PG), 0);
	assert_int_equal(mmn_change_prot_numa(f->mm, h, MMN_PMD_SIZE), 0);
	assert_int_equal(mmn_change_prot_numa(f->mm, n, 4 * PG), 0);
	assert_int_equal(rec_count(r), 0);
	assert_true(mmn_pte_present(fa_pte(f, s)));
	assert_true(mmn_pte_present(fa_pte(f, h)));
}

static void test_numa_hint_bad_input_changes_nothing(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);

	*state = f;
	fa_write(f, 0, a, 1);
	rec_reset(r);
	assert_int_equal(mmn_change_prot_numa(NULL, a, PG), -EINVAL);
	assert_int_equal(mmn_change_prot_numa(f->mm, a + 8, PG), -EINVAL);
	assert_int_equal(mmn_change_prot_numa(f->mm, a, ~0UL), -EINVAL);
	assert_int_equal(mmn_change_prot_numa(f->mm, a, 8 * PG), -ENOMEM);
	assert_int_equal(rec_count(r), 0);
	assert_true(mmn_pte_present(fa_pte(f, a)));
	assert_int_equal(fa_stats(f, MMN_OP_NUMA_HINT).calls, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_mprotect_starts_lazily_and_flushes_cpus_after_end,
					  fa_teardown),
		cmocka_unit_test_teardown(test_mprotect_in_4_15_is_seen_as_unmap_with_invalidate_range,
					  fa_teardown),
		cmocka_unit_test_teardown(test_mprotect_changes_entries_under_the_ptl, fa_teardown),
		cmocka_unit_test(test_hugetlb_mprotect_flushes_before_the_full_end),
		cmocka_unit_test_teardown(test_unchanged_protection_returns_without_notifying_or_splitting,
					  fa_teardown),
		cmocka_unit_test_teardown(test_mprotect_splits_the_vma_at_both_edges, fa_teardown),
		cmocka_unit_test_teardown(test_write_upgrade_leaves_cow_pages_read_only_as_false_positives,
					  fa_teardown),
		cmocka_unit_test_teardown(test_prot_none_keeps_mappings_and_restores_them, fa_teardown),
		cmocka_unit_test_teardown(test_hugetlb_prot_none_is_zapped_at_exit, fa_teardown),
		cmocka_unit_test_teardown(test_mprotect_bad_input_changes_nothing, fa_teardown),
		cmocka_unit_test_teardown(test_numa_hint_makes_entries_protnone_and_the_access_restores_them,
					  fa_teardown),
		cmocka_unit_test_teardown(test_numa_hint_on_protnone_entries_notifies_false_positives,
					  fa_teardown),
		cmocka_unit_test_teardown(test_numa_hint_skips_shared_hugetlb_and_inaccessible_vmas,
					  fa_teardown),
		cmocka_unit_test_teardown(test_numa_hint_bad_input_changes_nothing, fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
