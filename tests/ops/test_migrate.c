// SPDX-License-Identifier: MIT
/*
 * mmn_migrate_pages() (lib/ops/migrate.c): try_to_migrate_one()'s sequence
 * per profile, migration entries and the fault that waits on them,
 * remove_migration_ptes() without notification, errors.
 */
#include "family_b.h"

static void test_migrate_moves_anon_and_shmem_pages_keeping_content(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	unsigned long a0, s0;
	uint32_t ga, gs;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_map(f, BASE + 0x200000, 2 * PG, SHARED);
	fb_write(f->mm, 0, BASE, 10);
	fb_write(f->mm, 0, BASE + PG, 11);
	fb_write(f->mm, 0, BASE + 0x200000, 12);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	a0 = fb_pfn(f->mm, BASE);
	s0 = fb_pfn(f->mm, BASE + 0x200000);
	ga = fb_page(f, a0).gen;
	gs = fb_page(f, s0).gen;
	assert_int_equal(mmn_migrate_pages(f->mm, BASE, 2 * PG), 0);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE + 0x200000, 2 * PG), 0);
	/* New frames, in both mms (the COW page and the shmem page). */
	assert_int_not_equal(fb_pfn(f->mm, BASE), a0);
	assert_int_equal(fb_pfn(child, BASE), fb_pfn(f->mm, BASE));
	assert_int_not_equal(fb_pfn(f->mm, BASE + 0x200000), s0);
	assert_int_equal(fb_pfn(child, BASE + 0x200000), fb_pfn(f->mm, BASE + 0x200000));
	/* The sources were freed (and, LIFO, perhaps re-used since). */
	assert_int_not_equal(fb_page(f, a0).gen, ga);
	assert_int_not_equal(fb_page(f, s0).gen, gs);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(fb_read(child, 1, BASE), 10);
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 11);
	assert_int_equal(fb_read(child, 1, BASE + 0x200000), 12);
	/* COW still separates them afterwards. */
	fb_write(child, 1, BASE, 20);
	assert_int_equal(fb_read(f->mm, 0, BASE), 10);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE).calls, 2);
	/* Mappings replaced: the 2 COW-shared anonymous pages and the shmem
	 * page, each in the parent and in the child. */
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE).pages_changed, 6);
	mmn_mm_put(child);
	fb_free(f, 0);
}

struct mig_probe {
	struct fb *f;
	struct mmn_actor *reader;
	uint64_t read_val;
	int read_err;
	int swp_seen;
	int spawned;
};

static void *reader(void *arg)
{
	struct mig_probe *p = arg;

	p->read_err = mmn_cpu_read(p->f->mm, 1, BASE, &p->read_val);
	return NULL;
}

/* At E the entry is a migration entry naming the locked source; a CPU read
 * started now waits (migration_entry_wait) and reads the new page. */
static void at_end(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct mig_probe *p = arg;
	mmn_pte_t pte = fb_entry(p->f->mm, BASE);

	(void)r;
	if (e->kind != REC_END || p->spawned)
		return;
	if (mmn_pte_swp_type(pte) == MMN_SWP_MIGRATION_WRITE &&
	    (fb_page(p->f, mmn_pte_pfn(pte)).flags & MMN_PG_LOCKED))
		p->swp_seen++;
	p->spawned = 1;
	assert_int_equal(mmn_actor_spawn(p->f->sim, "reader", reader, p, &p->reader), 0);
}

static void test_migrate_sequence_latest_and_fault_waits(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r, s;
	struct mig_probe p = { .f = f };
	enum rec_kind k[] = { REC_START, REC_END };

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 0x77);
	fb_write(f->mm, 1, BASE, 0x77); /* CPU 1 caches it too */
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_init(&s, f->sim, REC_OPS_SECONDARY_TLB, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	rec_watch_lock(&s, fb_ptl(f->mm, BASE), "ptl");
	r.hook = at_end;
	r.hook_arg = &p;
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(rec_register(&s, f->mm), 0);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE, PG), 0);
	assert_int_equal(mmn_actor_join(p.reader, NULL), 0);
	/* Only the unmap notifies: remove_migration_ptes() does not. */
	assert_true(rec_kinds_are(&r, k, 2));
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_at(&r, 0)->held, 0);
	assert_int_equal(rec_at(&r, 1)->held, 0);
	assert_int_equal(rec_count(&s), 1);
	assert_int_equal(rec_at(&s, 0)->held, 1);
	assert_true(rec_at(&s, 0)->stamp < rec_at(&r, 1)->stamp);
	assert_int_equal(p.swp_seen, 1);
	assert_int_equal(p.read_err, 0);
	assert_int_equal(p.read_val, 0x77);
	rec_unregister(&r);
	rec_unregister(&s);
	rec_fini(&r);
	rec_fini(&s);
	fb_free(f, 0);
}

static void test_migrate_sequence_4_15(void **state)
{
	struct fb *f = fb_new("4.15");
	struct recorder r;
	enum rec_kind k[] = { REC_START, REC_INVALIDATE_RANGE, REC_INVALIDATE_RANGE, REC_END };

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 3);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_LEGACY, 16), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE, PG), 0);
	assert_true(rec_kinds_are(&r, k, 4));
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_UNMAP); /* no events before 5.2 */
	assert_int_equal(rec_at(&r, 1)->held, 1);
	rec_unregister(&r);
	rec_fini(&r);
	assert_int_equal(fb_read(f->mm, 0, BASE), 3);
	fb_free(f, 0);
}

struct store_probe {
	struct fb *f;
	struct mmn_spinlock *ptl;
	int stores;
};

/* The source is held stable from the end of the unmap: when
 * remove_migration_ptes() takes the PTL the copy is made, and a store into
 * the source (a device with a translation nobody flushed) is lost. */
static void store_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct store_probe *p = arg;
	mmn_pte_t pte;
	uint64_t v = 0xbad;

	if (p->stores || ev->kind != MMN_SCHED_LOCK || ev->obj != p->ptl)
		return;
	pte = fb_entry(p->f->mm, BASE);
	if (mmn_pte_swp_type(pte) != MMN_SWP_MIGRATION_WRITE ||
	    !(fb_page(p->f, mmn_pte_pfn(pte)).flags & MMN_PG_STABLE))
		return;
	p->stores++;
	mmn_phys_access(sim, mmn_pte_pfn(pte), mmn_page_gen(sim, mmn_pte_pfn(pte)), BASE, true, &v);
}

static void test_migrate_store_into_the_source_after_unmap_is_a_lost_write(void **state)
{
	struct fb *f = fb_new("latest");
	struct store_probe p = { .f = f };

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	p.ptl = fb_ptl(f->mm, BASE);
	mmn_sched_set_hook(f->sim, store_hook, &p);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE, PG), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(p.stores, 1);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 1);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1); /* the store was lost indeed */
	fb_free(f, 1);
}

static void test_migrate_rejects_bad_ranges_and_skips_pinned_pages(void **state)
{
	struct fb *f = fb_new("latest");
	unsigned long pfn, pin;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	pfn = fb_pfn(f->mm, BASE);
	assert_int_equal(mmn_migrate_pages(NULL, BASE, PG), -EINVAL);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE + 8, PG), -EINVAL);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE, 0), -EINVAL);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE, 4 * PG), -ENOMEM);
	assert_int_equal(fb_pfn(f->mm, BASE), pfn);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE).calls, 0);
	assert_int_equal(mmn_get_user_pages(f->mm, BASE, 0, &pin, NULL), 0);
	assert_int_equal(mmn_migrate_pages(f->mm, BASE, PG), 0);
	assert_int_equal(fb_pfn(f->mm, BASE), pfn);
	assert_int_equal(mmn_unpin_user_page(f->sim, pin), 0);
	fb_free(f, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_moves_anon_and_shmem_pages_keeping_content),
		cmocka_unit_test(test_migrate_sequence_latest_and_fault_waits),
		cmocka_unit_test(test_migrate_sequence_4_15),
		cmocka_unit_test(test_migrate_store_into_the_source_after_unmap_is_a_lost_write),
		cmocka_unit_test(test_migrate_rejects_bad_ranges_and_skips_pinned_pages),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
