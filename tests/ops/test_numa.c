// SPDX-License-Identifier: MIT
/*
 * NUMA balancing migration on a hinting fault (include/mmnsim/numa.h,
 * do_numa_page() in lib/ops/memory.c after 6.19 mm/memory.c): a page whose
 * node is not the faulting CPU's is migrated from its PROT_NONE entry
 * through the migrate path (CLEAR per mapping, flush under the PTL, then the
 * new page mapped), a well placed one is only made present again, and a KVM
 * listener stays audit-clean.
 */
#include "family_b.h"

static struct fb *numa_fb(const char *profile)
{
	struct fb *f = fb_new(profile);

	assert_int_equal(mmn_numa_set_nodes(f->sim, 2), 0);
	return f;
}

/*
 * @batch: 6.3+ migrate_pages_batch() (knob migrate_batch_flush, 6.19 read):
 * try_to_migrate_one() clears the hinting entry with ptep_get_and_clear()
 * and arch_tlbbatch_add_pending() flushes the secondary TLBs of the whole
 * mm (x86); the CPU flush follows before the move. Without the batch,
 * ptep_clear_flush() flushes the page, F2 inside.
 */
static void misplaced_page_migrates(bool batch)
{
	struct fb *f = numa_fb("latest");
	struct recorder r, s;
	const struct rec_event *st, *a, *en;
	unsigned long old, new;

	if (!batch)
		assert_int_equal(mmn_sim_set_knob(f->sim, "migrate_batch_flush", "false"), 0);
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 41);
	old = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_page_to_nid(f->sim, old), 0);
	assert_int_equal(mmn_cpu_to_node(f->sim, 1), 1);
	assert_int_equal(mmn_change_prot_numa(f->mm, BASE, 2 * PG), 0);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&s, f->sim, REC_OPS_SECONDARY_TLB, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	rec_watch_lock(&s, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(rec_register(&s, f->mm), 0);
	assert_int_equal(fb_read(f->mm, 1, BASE), 41); /* CPU 1: node 1 */
	new = fb_pfn(f->mm, BASE);
	assert_int_not_equal(new, old);
	assert_int_equal(mmn_page_to_nid(f->sim, new), 1);
	assert_true(fb_page(f, old).flags & MMN_PG_FREE);
	st = rec_find(&r, REC_START, 0);
	en = rec_find(&r, REC_END, 0);
	a = rec_find(&s, REC_ARCH_INVALIDATE, 0);
	assert_non_null(st);
	assert_non_null(en);
	assert_int_equal(rec_count(&r), 2);
	assert_int_equal(st->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(st->start, BASE);
	assert_int_equal(st->end, BASE + PG);
	assert_int_equal(st->held, 0);
	assert_non_null(a);
	assert_int_equal(a->held, 1);
	assert_true(st->stamp < a->stamp && a->stamp < en->stamp);
	assert_int_equal(a->start, batch ? 0 : BASE);
	assert_int_equal(a->end, batch ? ~0UL : BASE + PG);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE).calls, 1);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE).pages_changed, 1);
	fb_write(f->mm, 1, BASE, 42);
	assert_int_equal(fb_read(f->mm, 0, BASE), 42);
	rec_unregister(&r);
	rec_unregister(&s);
	rec_fini(&r);
	rec_fini(&s);
	fb_free(f, 0);
}

static void test_misplaced_page_migrates_on_the_hinting_fault(void **state)
{
	(void)state;
	misplaced_page_migrates(true);
}

static void test_misplaced_page_migrates_unbatched(void **state)
{
	(void)state;
	misplaced_page_migrates(false);
}

/* A local page, a single node, or a fault with no CPU (GUP): no migration,
 * no notification; the entry is only made present again. */
static void test_well_placed_page_stays(void **state)
{
	struct fb *f = numa_fb("latest");
	struct fb *one = fb_new("latest");
	struct recorder r;
	unsigned long pfn, got;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_change_prot_numa(f->mm, BASE, PG), 0);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1); /* CPU 0: node 0 */
	assert_int_equal(fb_pfn(f->mm, BASE), pfn);
	assert_int_equal(rec_count(&r), 0);
	assert_int_equal(mmn_change_prot_numa(f->mm, BASE, PG), 0);
	rec_reset(&r);
	assert_int_equal(mmn_get_user_pages(f->mm, BASE, 0, &got, NULL), 0);
	assert_int_equal(got, pfn);
	assert_int_equal(mmn_unpin_user_page(f->sim, got), 0);
	assert_int_equal(rec_count(&r), 0);
	rec_unregister(&r);
	rec_fini(&r);
	fb_map(one, BASE, PG, ANON);
	fb_write(one->mm, 0, BASE, 1);
	pfn = fb_pfn(one->mm, BASE);
	assert_int_equal(mmn_change_prot_numa(one->mm, BASE, PG), 0);
	assert_int_equal(fb_read(one->mm, 1, BASE), 1);
	assert_int_equal(fb_pfn(one->mm, BASE), pfn);
	assert_int_equal(fb_stats(one, MMN_OP_MIGRATE).calls, 0);
	fb_free(one, 0);
	fb_free(f, 0);
}

/* A pinned page cannot migrate: the entry is restored (out_map). */
static void test_pinned_misplaced_page_is_restored(void **state)
{
	struct fb *f = numa_fb("latest");
	unsigned long pfn, got;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_get_user_pages(f->mm, BASE, MMN_FOLL_WRITE, &got, NULL), 0);
	assert_int_equal(mmn_change_prot_numa(f->mm, BASE, PG), 0);
	assert_int_equal(fb_read(f->mm, 1, BASE), 1);
	assert_int_equal(fb_pfn(f->mm, BASE), pfn);
	assert_false(mmn_pte_protnone(fb_entry(f->mm, BASE)));
	assert_int_equal(mmn_unpin_user_page(f->sim, got), 0);
	fb_free(f, 0);
}

/* The migrate path's era: 4.15 listeners see UNMAP (no events before 5.2),
 * with ->invalidate_range under the PTL (ptep_clear_flush_notify). */
static void test_numa_migration_sequence_4_15(void **state)
{
	struct fb *f = numa_fb("4.15");
	struct recorder r;
	enum rec_kind k[] = { REC_START, REC_INVALIDATE_RANGE, REC_INVALIDATE_RANGE, REC_END };

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(mmn_change_prot_numa(f->mm, BASE, PG), 0);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_LEGACY, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(fb_read(f->mm, 1, BASE), 1);
	assert_true(rec_kinds_are(&r, k, 4));
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_UNMAP);
	assert_int_equal(rec_at(&r, 1)->held, 1);
	assert_int_equal(mmn_page_to_nid(f->sim, fb_pfn(f->mm, BASE)), 1);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

struct entry_probe {
	struct mmn_mm *mm;
	unsigned long addr;
	int starts;
	mmn_pte_t at_start;
};

static void start_reads_entry(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct entry_probe *p = arg;
	struct mmn_walk w;

	(void)r;
	if (e->kind != REC_START || p->starts++)
		return;
	assert_int_equal(mmn_pgtable_walk(p->mm, p->addr, &w), 0);
	p->at_start = w.entry;
}

/* What the entry is when the migration's CLEAR starts: present again
 * before 5.13 (numa_map_before_migrate: 4.12-5.10 make it present first),
 * still the PROT_NONE hint from 5.13 (5.14, 6.19); the knob decides. */
static mmn_pte_t entry_at_migration_start(const char *profile, const char *knob)
{
	struct fb *f = numa_fb(profile);
	struct recorder r;
	struct entry_probe p = { .mm = f->mm, .addr = BASE };

	if (knob)
		assert_int_equal(mmn_sim_set_knob(f->sim, "numa_map_before_migrate", knob), 0);
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(mmn_change_prot_numa(f->mm, BASE, PG), 0);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_LEGACY, 16), 0);
	r.hook = start_reads_entry;
	r.hook_arg = &p;
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(fb_read(f->mm, 1, BASE), 1);
	assert_int_equal(p.starts, 1);
	assert_int_equal(mmn_page_to_nid(f->sim, fb_pfn(f->mm, BASE)), 1);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
	return p.at_start;
}

static void test_numa_entry_is_present_before_migration_until_5_10(void **state)
{
	(void)state;
	assert_true(mmn_pte_present(entry_at_migration_start("5.2", NULL)));
	assert_true(mmn_pte_present(entry_at_migration_start("4.15", NULL)));
	assert_true(mmn_pte_protnone(entry_at_migration_start("5.14", NULL)));
	assert_true(mmn_pte_protnone(entry_at_migration_start("latest", NULL)));
	assert_true(mmn_pte_present(entry_at_migration_start("latest", "true")));
	assert_true(mmn_pte_protnone(entry_at_migration_start("5.2", "false")));
}

static void test_numa_migration_with_kvm_stays_audit_clean(void **state)
{
	struct fb *f = numa_fb("latest");
	struct mmn_kvm_config kc;
	struct mmn_kvm *kvm;
	uint64_t v;

	(void)state;
	fb_map(f, BASE, 4 * PG, ANON);
	mmn_kvm_config_init(&kc);
	kvm = mmn_kvm_create(f->mm, &kc);
	assert_non_null(kvm);
	assert_int_equal(mmn_kvm_set_memslot(kvm, 0, 0x100, 4, BASE), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_kvm_vcpu_write(kvm, 0, 0x100 + (uint64_t)i, 60 + (uint64_t)i), 0);
	assert_int_equal(mmn_change_prot_numa(f->mm, BASE, 4 * PG), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(fb_read(f->mm, 1, BASE + (unsigned long)i * PG), 60 + (uint64_t)i);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_page_to_nid(f->sim, fb_pfn(f->mm, BASE + (unsigned long)i * PG)),
				 1);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(mmn_kvm_vcpu_read(kvm, 1, 0x102, &v), 0);
	assert_int_equal(v, 62);
	mmn_kvm_destroy(kvm);
	fb_free(f, 0);
}

static void test_numa_bad_input(void **state)
{
	struct fb *f = fb_new("latest");

	(void)state;
	assert_int_equal(mmn_numa_set_nodes(NULL, 2), -EINVAL);
	assert_int_equal(mmn_numa_set_nodes(f->sim, 0), -EINVAL);
	assert_int_equal(mmn_numa_set_nodes(f->sim, 3), -EINVAL); /* 2 CPUs */
	assert_int_equal(mmn_page_to_nid(f->sim, 1024), -EINVAL);
	assert_int_equal(mmn_page_to_nid(NULL, 1), -EINVAL);
	assert_int_equal(mmn_cpu_to_node(f->sim, 2), -EINVAL);
	assert_int_equal(mmn_cpu_to_node(f->sim, -1), -EINVAL);
	assert_int_equal(mmn_page_to_nid(f->sim, 1000), 0); /* one node by default */
	fb_free(f, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_misplaced_page_migrates_on_the_hinting_fault),
		cmocka_unit_test(test_misplaced_page_migrates_unbatched),
		cmocka_unit_test(test_well_placed_page_stays),
		cmocka_unit_test(test_pinned_misplaced_page_is_restored),
		cmocka_unit_test(test_numa_migration_sequence_4_15),
		cmocka_unit_test(test_numa_entry_is_present_before_migration_until_5_10),
		cmocka_unit_test(test_numa_migration_with_kvm_stays_audit_clean),
		cmocka_unit_test(test_numa_bad_input),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
