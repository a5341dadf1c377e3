// SPDX-License-Identifier: MIT
/*
 * hugetlb PMD sharing (lib/mm/hugetlb.c, lib/ops/hugetlb.c): huge_pmd_share()
 * at fault and fork, huge_pmd_unshare() from the zap (munmap, MADV_DONTNEED,
 * exit), reclaim, migration and mprotect, the audit of shared tables, and
 * the range widening of adjust_range_if_pmd_sharing_possible() (knob
 * pmd_share_widen) with seed 002's stale-translation pair.
 *
 * The only way two mms map one object in the model is fork of a MAP_SHARED
 * mapping: the parent maps 1 GiB of shared hugetlb memory at a 1 GiB-aligned
 * address G, faults A = G and B = G + 2 MiB, and forks; the child shares
 * the parent's PMD table (copy_hugetlb_page_range() → huge_pte_alloc() →
 * huge_pmd_share()).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"
#include "support/capture.h"
#include "support/recorder.h"

#define PG MMN_PAGE_SIZE
#define HP MMN_PMD_SIZE
#define GB MMN_PUD_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define SHUGE (MMN_MAP_SHARED | MMN_MAP_ANONYMOUS | MMN_MAP_HUGETLB | MMN_MAP_FIXED)
/* 1 GiB aligned, below MMN_MMAP_BASE. */
#define G 0x7e0000000000UL
#define A G
#define B (G + HP)

struct hs {
	struct mmn_sim *sim;
	struct mmn_mm *parent, *child;
	struct capture cap;
};

static struct hs *hs_new_nofork(const char *profile, unsigned long len)
{
	struct hs *h = calloc(1, sizeof(*h));
	struct mmn_sim_config cfg;
	unsigned long got = 0;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	cfg.nr_huge_pages = 8;
	cfg.profile = profile;
	h->sim = mmn_sim_create(&cfg);
	assert_non_null(h->sim);
	capture_install(h->sim, &h->cap);
	h->parent = mmn_mm_create(h->sim);
	assert_non_null(h->parent);
	assert_int_equal(mmn_mmap(h->parent, G, len, RW, SHUGE, &got), 0);
	assert_int_equal(got, G);
	mmn_notifier_pairing_reset();
	return h;
}

/* Parent maps 1 GiB at G, writes 1 to A and 2 to B, forks. */
static struct hs *hs_new(const char *profile)
{
	struct hs *h = hs_new_nofork(profile, GB);

	assert_int_equal(mmn_cpu_write(h->parent, 0, A, 1), 0);
	assert_int_equal(mmn_cpu_write(h->parent, 0, B, 2), 0);
	assert_int_equal(mmn_fork(h->parent, &h->child), 0);
	return h;
}

static void hs_free(struct hs *h, unsigned long violations)
{
	assert_int_equal(mmn_audit(h->sim), 0);
	assert_int_equal(mmn_check_total(h->sim), violations);
	if (h->child)
		mmn_mm_put(h->child);
	if (h->parent)
		mmn_mm_put(h->parent);
	assert_int_equal(mmn_audit(h->sim), 0);
	mmn_notifier_pairing_reset();
	mmn_sim_destroy(h->sim);
	free(h);
}

/* The PMD table of @mm at @addr, or NULL. */
static struct mmn_ptdesc *pmd_table(struct mmn_mm *mm, unsigned long addr)
{
	return mmn_pt_walk(mm, addr, MMN_LVL_PMD);
}

static int frame_ref(struct hs *h, unsigned long pfn)
{
	struct mmn_page_info pi;

	assert_int_equal(mmn_page_info(h->sim, pfn, &pi), 0);
	return pi.refcount;
}

static bool frame_free(struct hs *h, unsigned long pfn)
{
	struct mmn_page_info pi;

	assert_int_equal(mmn_page_info(h->sim, pfn, &pi), 0);
	return pi.flags & MMN_PG_FREE;
}

static mmn_pte_t entry(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(mm, addr, &w), 0);
	return w.entry;
}

static uint64_t rd(struct mmn_mm *mm, int cpu, unsigned long addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_cpu_read(mm, cpu, addr, &v), 0);
	return v;
}

static struct mmn_op_stats stats(struct hs *h, enum mmn_op op)
{
	struct mmn_op_stats s;

	assert_int_equal(mmn_op_get_stats(h->sim, op, &s), 0);
	return s;
}

/* Both mms point at one PMD table whose share count is 2. */
static void assert_shared(struct hs *h)
{
	struct mmn_ptdesc *pp = pmd_table(h->parent, A), *cp = pmd_table(h->child, A);

	assert_non_null(pp);
	assert_ptr_equal(pp, cp);
	assert_int_equal(frame_ref(h, pp->pfn), 2);
}

/* ---------------------------------------------------------------- */
/* Sharing                                                           */
/* ---------------------------------------------------------------- */

static void test_fork_shares_the_pmd_table(void **state)
{
	struct hs *h = hs_new("latest");
	unsigned long pa;
	struct mmn_page_info pi;

	(void)state;
	assert_shared(h);
	/* The leaves are not duplicated: one mapping, one mapping reference
	 * (+ the page cache's) per huge page. */
	pa = mmn_pte_pfn(entry(h->parent, A));
	assert_int_equal(mmn_page_info(h->sim, pa, &pi), 0);
	assert_int_equal(pi.mapcount, 1);
	assert_int_equal(pi.refcount, 2);
	assert_int_equal(rd(h->child, 1, A), 1);
	assert_int_equal(rd(h->child, 1, B), 2);
	/* A store in the child is seen by the parent (same page). */
	assert_int_equal(mmn_cpu_write(h->child, 1, A + PG, 7), 0);
	assert_int_equal(rd(h->parent, 0, A + PG), 7);
	/* A page the child faults lands in the parent's view too. */
	assert_int_equal(mmn_cpu_write(h->child, 1, G + 5 * HP, 9), 0);
	assert_int_equal(mmn_pte_pfn(entry(h->parent, G + 5 * HP)),
			 mmn_pte_pfn(entry(h->child, G + 5 * HP)));
	assert_int_equal(atomic_load(&pmd_table(h->child, A)->nr_used), 3);
	hs_free(h, 0);
}

static void test_first_fault_shares_the_other_mms_table(void **state)
{
	struct hs *h = hs_new_nofork("latest", GB);

	(void)state;
	/* Nothing faulted before fork: no table to share yet. */
	assert_int_equal(mmn_fork(h->parent, &h->child), 0);
	assert_null(pmd_table(h->parent, A));
	assert_null(pmd_table(h->child, A));
	/* The child faults first and allocates; the parent then shares. */
	assert_int_equal(mmn_cpu_write(h->child, 1, B, 5), 0);
	assert_null(pmd_table(h->parent, A));
	assert_int_equal(rd(h->parent, 0, B), 5);
	assert_shared(h);
	hs_free(h, 0);
}

static void test_no_sharing_without_a_whole_pud_area(void **state)
{
	/* 512 MiB: the VMA does not span its PUD-aligned area. */
	struct hs *h = hs_new_nofork("latest", GB / 2);

	(void)state;
	assert_int_equal(mmn_cpu_write(h->parent, 0, A, 1), 0);
	assert_int_equal(mmn_fork(h->parent, &h->child), 0);
	assert_non_null(pmd_table(h->child, A));
	assert_ptr_not_equal(pmd_table(h->parent, A), pmd_table(h->child, A));
	assert_int_equal(frame_ref(h, pmd_table(h->parent, A)->pfn), 1);
	/* fork copied the entry: two mappings of the page. */
	assert_int_equal(rd(h->child, 1, A), 1);
	hs_free(h, 0);
}

/* ---------------------------------------------------------------- */
/* Unsharing through the zap                                         */
/* ---------------------------------------------------------------- */

/*
 * munmap of A in the child cuts its 1 GiB VMA inside the shared PUD area.
 * @split_unshares (6.5+ hugetlb_vm_op_split() / 6.19 hugetlb_split(), knob
 * hugetlb_split_unshares): the cut first unshares the area under a CLEAR
 * range of its own, [G, G + GB), then munmap notifies the detached VMA.
 * Off (5.14 hugetlb_vm_op_split(): alignment check only): munmap's zap
 * unshares (huge_pmd_unshare()) under munmap's own range alone.
 */
static void munmap_in_child_unshares(bool split_unshares)
{
	struct hs *h = hs_new("latest");
	struct mmn_ptdesc *pt = pmd_table(h->parent, A);
	unsigned long tpfn = pt->pfn;
	struct recorder r;
	const struct rec_event *e;

	if (!split_unshares)
		assert_int_equal(mmn_sim_set_knob(h->sim, "hugetlb_split_unshares", "false"), 0);
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_register(&r, h->child), 0);
	assert_int_equal(mmn_munmap(h->child, A, HP), 0);
	assert_int_equal(rec_count_kind(&r, REC_START), split_unshares ? 2 : 1);
	if (split_unshares) {
		e = rec_find(&r, REC_START, 0);
		assert_int_equal(e->event, MMN_NOTIFY_CLEAR);
		assert_int_equal(e->start, G);
		assert_int_equal(e->end, G + GB);
		assert_int_equal(rec_at(&r, 1)->kind, REC_END); /* before munmap's */
	}
	/* munmap's range is the detached VMA; the child lost B too. */
	e = rec_find(&r, REC_START, split_unshares ? 1 : 0);
	assert_int_equal(e->event, MMN_NOTIFY_UNMAP);
	assert_int_equal(e->start, A);
	assert_int_equal(e->end, A + HP);
	assert_null(pmd_table(h->child, A));
	assert_int_equal(entry(h->child, B), 0);
	/* The parent keeps its table and entries. */
	assert_ptr_equal(pmd_table(h->parent, A), pt);
	assert_int_equal(frame_ref(h, tpfn), 1);
	assert_true(mmn_pmd_leaf(entry(h->parent, A)));
	assert_int_equal(rd(h->parent, 0, A), 1);
	assert_int_equal(rd(h->parent, 0, B), 2);
	/* The child refaults B into a table of its own (its VMA was split:
	 * no longer shareable), same page. */
	assert_int_equal(rd(h->child, 1, B), 2);
	assert_ptr_not_equal(pmd_table(h->child, B), pt);
	assert_int_equal(mmn_pte_pfn(entry(h->child, B)), mmn_pte_pfn(entry(h->parent, B)));
	assert_int_equal(mmn_audit(h->sim), 0);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	/* The table goes with its last user. */
	mmn_mm_put(h->child);
	h->child = NULL;
	assert_false(frame_free(h, tpfn));
	assert_int_equal(mmn_munmap(h->parent, G, GB), 0);
	assert_true(frame_free(h, tpfn));
	hs_free(h, 0);
}

static void test_munmap_in_child_unshares_its_whole_pud_area(void **state)
{
	(void)state;
	munmap_in_child_unshares(true);
}

static void test_munmap_in_child_unshares_at_the_zap_before_6_5(void **state)
{
	(void)state;
	munmap_in_child_unshares(false);
}

static void test_exit_of_a_sharer_keeps_the_table_for_the_other(void **state)
{
	struct hs *h = hs_new("latest");
	unsigned long tpfn = pmd_table(h->child, A)->pfn;

	(void)state;
	mmn_mm_put(h->parent);
	h->parent = NULL;
	assert_false(frame_free(h, tpfn));
	assert_int_equal(frame_ref(h, tpfn), 1);
	assert_int_equal(rd(h->child, 1, A), 1);
	assert_int_equal(rd(h->child, 1, B), 2);
	assert_int_equal(mmn_audit(h->sim), 0);
	mmn_mm_put(h->child);
	h->child = NULL;
	assert_true(frame_free(h, tpfn));
	hs_free(h, 0);
}

/* Take a share of the table at the end of the munmap notification: after
 * the zap, before free_pgtables(), where huge_pmd_share() of another mm
 * could have taken it. */
static void share_at_end(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct mmn_ptdesc *pt = arg;

	if (e->kind == REC_END)
		atomic_fetch_add(&mmn_pfn_to_page(r->sim, pt->pfn)->refcount, 1);
}

static void test_free_pgtables_drops_a_share_it_finds(void **state)
{
	struct hs *h = hs_new_nofork("latest", GB);
	struct mmn_ptdesc *pt;
	struct recorder r;
	unsigned long tpfn;

	(void)state;
	assert_int_equal(mmn_cpu_write(h->parent, 0, A, 1), 0);
	pt = pmd_table(h->parent, A);
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_START_END, 64), 0);
	r.hook = share_at_end;
	r.hook_arg = pt;
	assert_int_equal(rec_register(&r, h->parent), 0);
	assert_int_equal(mmn_munmap(h->parent, G, GB), 0);
	/* The zap cleared the leaf (not shared then); free_pgtables() found
	 * the share and dropped it instead of freeing the table. */
	assert_false(frame_free(h, pt->pfn));
	assert_int_equal(frame_ref(h, pt->pfn), 1);
	assert_int_equal(atomic_load(&pt->nr_used), 0);
	assert_int_equal(entry(h->parent, A), 0);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	/* Both ways: without the hook the same munmap frees the table. */
	mmn_pt_free(h->sim, pt->pfn); /* the other "sharer" goes */
	assert_int_equal(mmn_audit(h->sim), 0);
	assert_int_equal(mmn_mmap(h->parent, G, GB, RW, SHUGE, NULL), 0);
	assert_int_equal(mmn_cpu_write(h->parent, 0, A, 1), 0);
	tpfn = pmd_table(h->parent, A)->pfn;
	assert_int_equal(mmn_munmap(h->parent, G, GB), 0);
	assert_true(frame_free(h, tpfn));
	hs_free(h, 0);
}

static void test_audit_counts_shared_leaves_once(void **state)
{
	struct hs *h = hs_new("latest");
	unsigned long pa = mmn_pte_pfn(entry(h->parent, A));

	(void)state;
	assert_int_equal(mmn_audit(h->sim), 0);
	/* Both ways: a second mapcount on a shared page is an error, and so
	 * is a share reference nobody holds. */
	atomic_fetch_add(&mmn_pfn_to_page(h->sim, pa)->mapcount, 1);
	assert_true(mmn_audit(h->sim) > 0);
	atomic_fetch_sub(&mmn_pfn_to_page(h->sim, pa)->mapcount, 1);
	atomic_fetch_add(&mmn_pfn_to_page(h->sim, pmd_table(h->child, A)->pfn)->refcount, 1);
	assert_true(mmn_audit(h->sim) > 0);
	atomic_fetch_sub(&mmn_pfn_to_page(h->sim, pmd_table(h->child, A)->pfn)->refcount, 1);
	/* Those two audits reported. */
	assert_int_equal(mmn_audit(h->sim), 0);
	assert_true(mmn_check_count(h->sim, MMN_VIOL_ACCOUNTING) >= 2);
	hs_free(h, mmn_check_total(h->sim));
}

/* ---------------------------------------------------------------- */
/* The notified range: adjust_range_if_pmd_sharing_possible()        */
/* ---------------------------------------------------------------- */

/*
 * MADV_DONTNEED of A in the child: zap_page_range_single() widened (6.5+),
 * or (@nested_start != 0: 4.12-5.14 __unmap_hugepage_range(), knob
 * hugetlb_unmap_nested_notify) the caller's range [A, A + HP) with
 * __unmap_hugepage_range()'s own UNMAP range [@nested_start, @nested_end)
 * nested inside it, widened where the profile widens.
 */
static void check_dontneed_nested(const char *profile, const char *knob, unsigned long start,
				  unsigned long end, enum mmn_notify_event ev,
				  unsigned long nested_start, unsigned long nested_end)
{
	struct hs *h = hs_new(profile);
	struct recorder r;
	const struct rec_event *e;
	size_t n = nested_start ? 2 : 1;

	if (knob)
		assert_int_equal(mmn_sim_set_knob(h->sim, "hugetlb_unmap_nested_notify", knob), 0);
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_register(&r, h->child), 0);
	assert_int_equal(mmn_madvise(h->child, A, HP, MMN_MADV_DONTNEED), 0);
	assert_int_equal(rec_count_kind(&r, REC_START), n);
	assert_int_equal(rec_count_kind(&r, REC_END), n);
	e = rec_find(&r, REC_START, 0);
	assert_int_equal(e->start, start);
	assert_int_equal(e->end, end);
	assert_int_equal(e->event, ev);
	if (nested_start) {
		/* S(caller) S(nested) E(nested) E(caller) */
		assert_int_equal(rec_at(&r, 1)->kind, REC_START);
		assert_int_equal(rec_at(&r, 1)->start, nested_start);
		assert_int_equal(rec_at(&r, 1)->end, nested_end);
		assert_int_equal(rec_at(&r, 1)->event, MMN_NOTIFY_UNMAP);
		assert_int_equal(rec_at(&r, 2)->kind, REC_END);
		assert_int_equal(rec_at(&r, 2)->start, nested_start);
		assert_int_equal(rec_at(&r, 3)->kind, REC_END);
		assert_int_equal(rec_at(&r, 3)->start, start);
	}
	/* Unshared either way: the child lost both pages, the parent none. */
	assert_null(pmd_table(h->child, A));
	assert_int_equal(rd(h->parent, 0, B), 2);
	assert_int_equal(stats(h, MMN_OP_MADV_DONTNEED).pages_changed, 2 * MMN_HPAGE_NR);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	hs_free(h, 0);
}

static void check_dontneed_range(const char *profile, unsigned long start, unsigned long end,
				 enum mmn_notify_event ev)
{
	check_dontneed_nested(profile, NULL, start, end, ev, 0, 0);
}

static void test_dontneed_widened_latest(void **state)
{
	(void)state;
	check_dontneed_range("latest", G, G + GB, MMN_NOTIFY_CLEAR);
}

static void test_dontneed_not_widened_4_15(void **state)
{
	(void)state;
	check_dontneed_nested("4.15", NULL, A, A + HP, MMN_NOTIFY_UNMAP, A, A + HP);
}

/* 5.2.1/5.14 mm/memory.c zap_page_range_single() does not widen; the
 * nested range of mm/hugetlb.c __unmap_hugepage_range() does. */
static void test_dontneed_nested_widened_5_2(void **state)
{
	(void)state;
	check_dontneed_nested("5.2", NULL, A, A + HP, MMN_NOTIFY_CLEAR, G, G + GB);
	check_dontneed_nested("5.14", NULL, A, A + HP, MMN_NOTIFY_CLEAR, G, G + GB);
	/* The 6.5 shape (knob off): one range, the caller's, widened. */
	check_dontneed_nested("5.2", "false", G, G + GB, MMN_NOTIFY_CLEAR, 0, 0);
}

/* Reclaim of A: the rmap walk visits the parent's VMA first (i_mmap
 * order), so the parent is the mm that unshares. */
static void check_reclaim_range(const char *profile, unsigned long start, unsigned long end)
{
	struct hs *h = hs_new(profile);
	struct recorder r;
	const struct rec_event *e;
	unsigned long pa = mmn_pte_pfn(entry(h->parent, A));

	assert_int_equal(rec_init(&r, h->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_register(&r, h->parent), 0);
	assert_int_equal(mmn_try_to_unmap(h->child, A, HP), 0);
	assert_int_equal(rec_count_kind(&r, REC_START), 1);
	e = rec_find(&r, REC_START, 0);
	assert_int_equal(e->start, start);
	assert_int_equal(e->end, end);
	assert_int_equal(rec_count_kind(&r, REC_END), 1);
	/* The parent's PUD entry is gone; the child keeps the table, now
	 * unshared, and its mapping of A (hugetlb pages are not reclaimed). */
	assert_null(pmd_table(h->parent, A));
	assert_int_equal(frame_ref(h, pmd_table(h->child, A)->pfn), 1);
	assert_int_equal(mmn_pte_pfn(entry(h->child, A)), pa);
	assert_int_equal(stats(h, MMN_OP_RECLAIM).calls, 1);
	assert_int_equal(stats(h, MMN_OP_RECLAIM).pages_changed, 2 * MMN_HPAGE_NR);
	assert_int_equal(stats(h, MMN_OP_RECLAIM).skipped, 1);
	assert_int_equal(rd(h->parent, 0, A), 1); /* refault shares the child's */
	assert_shared(h);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	hs_free(h, 0);
}

static void test_reclaim_unshares_widened_latest(void **state)
{
	(void)state;
	check_reclaim_range("latest", G, G + GB);
}

static void test_reclaim_unshares_not_widened_4_15(void **state)
{
	(void)state;
	check_reclaim_range("4.15", A, A + HP);
}

/* The F1/F2 order on the rmap path: F2 with the PMD table's lock held. */
static void test_reclaim_flushes_secondary_under_the_pmd_lock_latest(void **state)
{
	struct hs *h = hs_new("latest");
	struct recorder r;
	const struct rec_event *e;

	(void)state;
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_SECONDARY_TLB, 64), 0);
	assert_int_equal(rec_watch_lock(&r, &pmd_table(h->parent, A)->ptl, "pmd"), 0);
	assert_int_equal(rec_register(&r, h->parent), 0);
	assert_int_equal(mmn_try_to_unmap(h->child, A, HP), 0);
	assert_int_equal(rec_count_kind(&r, REC_ARCH_INVALIDATE), 1);
	e = rec_find(&r, REC_ARCH_INVALIDATE, 0);
	assert_int_equal(e->start, G);
	assert_int_equal(e->end, G + GB);
	assert_int_equal(e->held, 1);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	hs_free(h, 0);
}

static void test_reclaim_invalidate_range_under_the_pmd_lock_6_5(void **state)
{
	struct hs *h = hs_new("6.5");
	struct recorder r;
	const struct rec_event *e;

	(void)state;
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_LEGACY, 64), 0);
	assert_int_equal(rec_watch_lock(&r, &pmd_table(h->parent, A)->ptl, "pmd"), 0);
	assert_int_equal(rec_register(&r, h->parent), 0);
	assert_int_equal(mmn_try_to_unmap(h->child, A, HP), 0);
	/* S → [L: invalidate_range(range)] U → E (end's invalidate_range). */
	e = rec_at(&r, 0);
	assert_int_equal(e->kind, REC_START);
	assert_int_equal(e->held, 0);
	e = rec_at(&r, 1);
	assert_int_equal(e->kind, REC_INVALIDATE_RANGE);
	assert_int_equal(e->start, G);
	assert_int_equal(e->end, G + GB);
	assert_int_equal(e->held, 1);
	e = rec_find(&r, REC_END, 0);
	assert_non_null(e);
	assert_int_equal(e->held, 0);
	assert_true(e->stamp > rec_at(&r, 1)->stamp);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	hs_free(h, 0);
}

static void test_migrate_unshares_then_skips(void **state)
{
	struct hs *h = hs_new("latest");
	struct recorder r;

	(void)state;
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_register(&r, h->parent), 0);
	assert_int_equal(mmn_migrate_pages(h->child, B, HP), 0);
	assert_int_equal(rec_find(&r, REC_START, 0)->start, G);
	assert_int_equal(rec_find(&r, REC_START, 0)->end, G + GB);
	assert_null(pmd_table(h->parent, A));
	assert_int_equal(stats(h, MMN_OP_MIGRATE).pages_changed, 2 * MMN_HPAGE_NR);
	/* Nothing shared any more: a second call changes nothing. */
	assert_int_equal(mmn_migrate_pages(h->child, B, HP), 0);
	assert_int_equal(stats(h, MMN_OP_MIGRATE).pages_changed, 2 * MMN_HPAGE_NR);
	assert_int_equal(stats(h, MMN_OP_MIGRATE).skipped, 2);
	assert_int_equal(rd(h->child, 1, B), 2);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	hs_free(h, 0);
}

/* ---------------------------------------------------------------- */
/* mprotect                                                          */
/* ---------------------------------------------------------------- */

static void test_mprotect_in_child_unshares(void **state)
{
	struct hs *h = hs_new("latest");
	struct mmn_ptdesc *pt = pmd_table(h->parent, A);
	struct recorder r;
	uint64_t v;

	(void)state;
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_register(&r, h->child), 0);
	assert_int_equal(mmn_mprotect(h->child, G, GB, MMN_PROT_READ), 0);
	assert_int_equal(rec_count_kind(&r, REC_START), 1);
	assert_int_equal(rec_find(&r, REC_START, 0)->event, MMN_NOTIFY_PROTECTION_VMA);
	assert_int_equal(rec_find(&r, REC_START, 0)->start, G);
	assert_int_equal(rec_find(&r, REC_START, 0)->end, G + GB);
	assert_null(pmd_table(h->child, A));
	assert_int_equal(frame_ref(h, pt->pfn), 1);
	/* The parent's entries stay writable; the child refaults read-only
	 * into a table of its own (different flags: not shareable). */
	assert_true(mmn_pte_write(entry(h->parent, A)));
	assert_int_equal(rd(h->child, 1, A), 1);
	assert_ptr_not_equal(pmd_table(h->child, A), pt);
	assert_false(mmn_pte_write(entry(h->child, A)));
	assert_int_equal(mmn_cpu_write(h->child, 1, A, 3), -EACCES);
	v = rd(h->parent, 0, A);
	assert_int_equal(v, 1);
	assert_int_equal(stats(h, MMN_OP_MPROTECT).pages_changed, 2 * MMN_HPAGE_NR);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	hs_free(h, 0);
}

/*
 * hugetlb_change_protection() ends with the full invalidate_range_end() in
 * every era (mm/hugetlb.c 4.15 and 5.2 as read): never only_end. 6.5 (5.2-6.5,
 * hugetlb_prot_secflush_at_end): no ->invalidate_range after the CPU flush,
 * only end's, over the widened (PUD) range; 4.15 (4.12-4.15): the explicit
 * ->invalidate_range right after flush_hugetlb_tlb_range() of the unshared
 * PUD area, then end's.
 */
static void mprotect_unshare_kinds(const char *profile, const char *knob, const char *value,
				   const enum rec_kind *k, size_t n)
{
	struct hs *h = hs_new(profile);
	struct recorder r;

	if (knob)
		assert_int_equal(mmn_sim_set_knob(h->sim, knob, value), 0);
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_LEGACY, 64), 0);
	assert_int_equal(rec_register(&r, h->child), 0);
	assert_int_equal(mmn_mprotect(h->child, G, GB, MMN_PROT_READ), 0);
	assert_true(rec_kinds_are(&r, k, n));
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(rec_at(&r, i)->start, G);
		assert_int_equal(rec_at(&r, i)->end, G + GB);
	}
	assert_null(pmd_table(h->child, A));
	assert_true(mmn_pte_write(entry(h->parent, B)));
	assert_int_equal(rd(h->child, 1, B), 2);
	assert_false(mmn_pte_write(entry(h->child, B)));
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	hs_free(h, 0);
}

static void test_mprotect_in_child_unshares_full_end_6_5(void **state)
{
	static const enum rec_kind at_end[] = { REC_START, REC_INVALIDATE_RANGE, REC_END };
	static const enum rec_kind call_site[] = { REC_START, REC_INVALIDATE_RANGE,
						   REC_INVALIDATE_RANGE, REC_END };

	(void)state;
	mprotect_unshare_kinds("6.5", NULL, NULL, at_end, 3);
	/* 6.5's only_end knob does not touch this path any more. */
	mprotect_unshare_kinds("6.5", "only_end_skips_flush", "false", at_end, 3);
	mprotect_unshare_kinds("4.15", NULL, NULL, call_site, 4);
	mprotect_unshare_kinds("6.5", "hugetlb_prot_secflush_at_end", "false", call_site, 4);
}

/* ---------------------------------------------------------------- */
/* Bad input leaves the sharing alone                                */
/* ---------------------------------------------------------------- */

static void test_bad_input_leaves_sharing_unchanged(void **state)
{
	struct hs *h = hs_new("latest");

	(void)state;
	assert_int_equal(mmn_munmap(h->child, A + PG, HP), -EINVAL);
	assert_int_equal(mmn_madvise(h->child, A + PG, HP, MMN_MADV_DONTNEED), -EINVAL);
	assert_int_equal(mmn_try_to_unmap(h->child, G + GB, HP), -ENOMEM);
	assert_int_equal(mmn_migrate_pages(h->child, A + 1, HP), -EINVAL);
	assert_int_equal(mmn_migrate_pages(NULL, A, HP), -EINVAL);
	assert_int_equal(mmn_mprotect(h->child, A, 2 * GB, MMN_PROT_READ), -ENOMEM);
	assert_shared(h);
	assert_int_equal(mmn_vma_count(h->child), 1);
	assert_int_equal(stats(h, MMN_OP_RECLAIM).calls, 0);
	assert_int_equal(stats(h, MMN_OP_MIGRATE).calls, 0);
	assert_int_equal(stats(h, MMN_OP_MPROTECT).calls, 0);
	assert_int_equal(stats(h, MMN_OP_MADV_DONTNEED).calls, 0);
	hs_free(h, 0);
}

/* ---------------------------------------------------------------- */
/* Seed 002: a KVM-like listener and the missing widening            */
/* ---------------------------------------------------------------- */

#define KVM_SLOTS 8

/* Shadow entries of one mm, dropped at invalidate_range_start. */
struct kvm {
	struct mmn_notifier mn;
	struct mmn_notifier_ops ops;
	struct mmn_mm *mm;
	struct mmn_secondary_entry e[KVM_SLOTS];
	bool valid[KVM_SLOTS];
	_Atomic unsigned long starts;
};

static int kvm_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct kvm *k = (struct kvm *)((char *)sub - offsetof(struct kvm, mn));

	atomic_fetch_add(&k->starts, 1);
	for (int i = 0; i < KVM_SLOTS; i++)
		if (k->valid[i] && k->e[i].addr >= range->start && k->e[i].addr < range->end)
			k->valid[i] = false;
	return 0;
}

static void kvm_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
}

static void kvm_iter(void *ctx, mmn_secondary_emit_fn emit, void *cookie)
{
	struct kvm *k = ctx;

	for (int i = 0; i < KVM_SLOTS; i++)
		if (k->valid[i])
			emit(cookie, &k->e[i]);
}

static void kvm_register(struct kvm *k, struct mmn_mm *mm)
{
	memset(k, 0, sizeof(*k));
	k->mm = mm;
	k->ops.invalidate_range_start = kvm_start;
	k->ops.invalidate_range_end = kvm_end;
	k->mn.ops = &k->ops;
	assert_int_equal(mmn_notifier_register(&k->mn, mm), 0);
	assert_int_equal(mmn_check_register_secondary(mmn_mm_sim(mm), "kvm", kvm_iter, k), 0);
}

static void kvm_unregister(struct kvm *k)
{
	assert_int_equal(mmn_check_unregister_secondary(mmn_mm_sim(k->mm), k), 0);
	mmn_notifier_unregister(&k->mn, k->mm);
}

/* A shadow fault: walk the primary table and cache the translation. */
static void kvm_map(struct kvm *k, int slot, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(k->mm, addr, &w), 0);
	assert_true(mmn_pte_present(w.entry));
	k->e[slot] = (struct mmn_secondary_entry){ .mm = k->mm, .addr = addr, .pfn = w.pfn,
						    .gen = w.gen,
						    .write = mmn_pte_write(w.entry) };
	k->valid[slot] = true;
}

enum seed_op { SEED_DONTNEED_CHILD, SEED_RECLAIM, SEED_MIGRATE };

/*
 * The listener caches A and B of the mm that unshares (the child for
 * MADV_DONTNEED in the child; the parent for the rmap paths, whose walk
 * visits the parent's VMA first); the operation on A unshares, so B is no
 * longer mapped there. Without the widening the listener keeps B.
 */
static void check_seed_002(const char *profile, const char *widen, enum seed_op op,
			   long stale)
{
	struct hs *h = hs_new(profile);
	struct mmn_mm *mm = op == SEED_DONTNEED_CHILD ? h->child : h->parent;
	struct kvm k;

	if (widen)
		assert_int_equal(mmn_sim_set_knob(h->sim, "pmd_share_widen", widen), 0);
	kvm_register(&k, mm);
	kvm_map(&k, 0, A + 3 * PG);
	kvm_map(&k, 1, B + 5 * PG);
	assert_int_equal(mmn_check_quiescent(h->sim), 0);
	switch (op) {
	case SEED_DONTNEED_CHILD:
		assert_int_equal(mmn_madvise(h->child, A, HP, MMN_MADV_DONTNEED), 0);
		break;
	case SEED_RECLAIM:
		assert_int_equal(mmn_try_to_unmap(h->child, A, HP), 0);
		break;
	case SEED_MIGRATE:
		assert_int_equal(mmn_migrate_pages(h->child, A, HP), 0);
		break;
	}
	/* Up to 5.14 the DONTNEED zap nests __unmap_hugepage_range()'s own
	 * range in the caller's (knob hugetlb_unmap_nested_notify). */
	assert_int_equal(atomic_load(&k.starts),
			 op == SEED_DONTNEED_CHILD &&
					 mmn_sim_profile(h->sim)->hugetlb_unmap_nested_notify
				 ? 2
				 : 1);
	assert_false(k.valid[0]);
	assert_int_equal(k.valid[1], stale == 1);
	assert_int_equal(entry(mm, B), 0); /* unshared: B is gone from this mm */
	assert_int_equal(mmn_check_quiescent(h->sim), stale);
	assert_int_equal(mmn_check_count(h->sim, MMN_VIOL_STALE_TRANSLATION),
			 (unsigned long)stale);
	kvm_unregister(&k);
	hs_free(h, (unsigned long)stale);
}

static void test_seed_002_dontneed_4_15_stale(void **state)
{
	(void)state;
	check_seed_002("4.15", NULL, SEED_DONTNEED_CHILD, 1);
}

static void test_seed_002_dontneed_latest_clean(void **state)
{
	(void)state;
	check_seed_002("latest", NULL, SEED_DONTNEED_CHILD, 0);
}

static void test_seed_002_dontneed_latest_knob_off_stale(void **state)
{
	(void)state;
	check_seed_002("latest", "false", SEED_DONTNEED_CHILD, 1);
}

static void test_seed_002_reclaim_4_15_stale(void **state)
{
	(void)state;
	check_seed_002("4.15", NULL, SEED_RECLAIM, 1);
}

static void test_seed_002_reclaim_latest_clean(void **state)
{
	(void)state;
	check_seed_002("latest", NULL, SEED_RECLAIM, 0);
}

/*
 * Migration before 4.19 (mm/rmap.c try_to_unmap_one() 4.12/4.13.4, before
 * commit 017b1660df89; profile knob pmd_share_widen=false): no
 * huge_pmd_unshare(). The shared entry of A is cleared and, once the copy
 * is made, points at the new page for both mms, but only the parent (first
 * on i_mmap) is notified, over A's 2 MiB; the walk stops at mapcount 0, so
 * the child's listener keeps A on the freed source.
 */
static void check_migrate_before_4_19(const char *profile, const char *widen)
{
	struct hs *h = hs_new(profile);
	struct kvm kp, kc;
	struct recorder r;
	unsigned long old = mmn_pte_pfn(entry(h->parent, A));

	if (widen)
		assert_int_equal(mmn_sim_set_knob(h->sim, "pmd_share_widen", widen), 0);
	kvm_register(&kp, h->parent);
	kvm_register(&kc, h->child);
	kvm_map(&kp, 0, A + 3 * PG);
	kvm_map(&kc, 0, A + 3 * PG);
	kvm_map(&kc, 1, B + 5 * PG);
	assert_int_equal(rec_init(&r, h->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&r, h->parent), 0);
	assert_int_equal(mmn_check_quiescent(h->sim), 0);
	assert_int_equal(mmn_migrate_pages(h->child, A, HP), 0);
	/* The table is still shared and maps the new page for both. */
	assert_shared(h);
	assert_int_not_equal(mmn_pte_pfn(entry(h->child, A)), old);
	assert_int_equal(mmn_pte_pfn(entry(h->child, A)), mmn_pte_pfn(entry(h->parent, A)));
	assert_true(frame_free(h, old));
	assert_int_equal(rd(h->child, 1, A), 1);
	/* One notification, the parent's, not widened. */
	assert_int_equal(rec_count_kind(&r, REC_START), 1);
	assert_int_equal(rec_find(&r, REC_START, 0)->start, A);
	assert_int_equal(rec_find(&r, REC_START, 0)->end, A + HP);
	assert_int_equal(atomic_load(&kp.starts), 1);
	assert_false(kp.valid[0]);
	assert_int_equal(atomic_load(&kc.starts), 0);
	assert_true(kc.valid[0]); /* on the freed source */
	assert_int_equal(mmn_check_quiescent(h->sim), 1);
	assert_int_equal(mmn_check_count(h->sim, MMN_VIOL_STALE_TRANSLATION), 1);
	assert_int_equal(rec_unregister(&r), 0);
	rec_fini(&r);
	kvm_unregister(&kc);
	kvm_unregister(&kp);
	hs_free(h, 1);
}

static void test_seed_002_migrate_4_13_clears_for_both_notifies_one(void **state)
{
	(void)state;
	check_migrate_before_4_19("4.13", NULL);
	check_migrate_before_4_19("latest", "false");
}

static void test_seed_002_migrate_latest_clean(void **state)
{
	(void)state;
	check_seed_002("latest", NULL, SEED_MIGRATE, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_shares_the_pmd_table),
		cmocka_unit_test(test_first_fault_shares_the_other_mms_table),
		cmocka_unit_test(test_no_sharing_without_a_whole_pud_area),
		cmocka_unit_test(test_munmap_in_child_unshares_its_whole_pud_area),
		cmocka_unit_test(test_munmap_in_child_unshares_at_the_zap_before_6_5),
		cmocka_unit_test(test_exit_of_a_sharer_keeps_the_table_for_the_other),
		cmocka_unit_test(test_free_pgtables_drops_a_share_it_finds),
		cmocka_unit_test(test_audit_counts_shared_leaves_once),
		cmocka_unit_test(test_dontneed_widened_latest),
		cmocka_unit_test(test_dontneed_not_widened_4_15),
		cmocka_unit_test(test_dontneed_nested_widened_5_2),
		cmocka_unit_test(test_reclaim_unshares_widened_latest),
		cmocka_unit_test(test_reclaim_unshares_not_widened_4_15),
		cmocka_unit_test(test_reclaim_flushes_secondary_under_the_pmd_lock_latest),
		cmocka_unit_test(test_reclaim_invalidate_range_under_the_pmd_lock_6_5),
		cmocka_unit_test(test_migrate_unshares_then_skips),
		cmocka_unit_test(test_mprotect_in_child_unshares),
		cmocka_unit_test(test_mprotect_in_child_unshares_full_end_6_5),
		cmocka_unit_test(test_bad_input_leaves_sharing_unchanged),
		cmocka_unit_test(test_seed_002_dontneed_4_15_stale),
		cmocka_unit_test(test_seed_002_dontneed_latest_clean),
		cmocka_unit_test(test_seed_002_dontneed_latest_knob_off_stale),
		cmocka_unit_test(test_seed_002_reclaim_4_15_stale),
		cmocka_unit_test(test_seed_002_reclaim_latest_clean),
		cmocka_unit_test(test_seed_002_migrate_4_13_clears_for_both_notifies_one),
		cmocka_unit_test(test_seed_002_migrate_latest_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
