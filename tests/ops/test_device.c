// SPDX-License-Identifier: MIT
/*
 * Device memory (include/mmnsim/device.h; lib/ops/device.c, migrate_vma.c,
 * exclusive.c): migrate_vma's MIGRATE range and owner per profile, the
 * driver skipping its own migrations, data to the device and back, the CPU
 * fault's migrate_to_ram, device-exclusive entries and their lazy restore
 * (seed 004), mprotect and fork over device entries, errors.
 */
#include <stdatomic.h>
#include <time.h>

#include "family_b.h"

static int owner_tag;
#define OWNER ((void *)&owner_tag)

static struct mmn_dev_pagemap *dev_new(struct fb *f, unsigned long n,
				       const struct mmn_dev_pagemap_ops *ops)
{
	struct mmn_dev_pagemap *pg = NULL;

	assert_int_equal(mmn_devmem_create(f->sim, n, OWNER, ops, &pg), 0);
	return pg;
}

static void fill(struct fb *f, unsigned long addr, unsigned long n, uint64_t base)
{
	for (unsigned long i = 0; i < n; i++)
		fb_write(f->mm, 0, addr + i * PG, base + i);
}

static uint64_t dev_read(struct fb *f, unsigned long pfn)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_phys_access(f->sim, pfn, mmn_page_gen(f->sim, pfn), 0, false, &v), 0);
	return v;
}

static bool is_devpriv(mmn_pte_t e, bool write)
{
	return mmn_pte_swp_type(e) ==
	       (write ? MMN_SWP_DEVICE_PRIVATE_WRITE : MMN_SWP_DEVICE_PRIVATE_READ);
}

/* ---- migrate_vma: the sequence per profile ---- */

struct restore_probe {
	struct fb *f;
	unsigned long addr, src;
	int stores;
};

/* At the PTL unlock that follows putting the source back (no device page
 * was left for it), store through the restored PTE as a CPU would. */
static void restore_store_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct restore_probe *p = arg;
	mmn_pte_t e;
	uint64_t v = 0x5eed;

	if (p->stores || ev->kind != MMN_SCHED_UNLOCK || ev->obj != fb_ptl(p->f->mm, p->addr))
		return;
	e = fb_entry(p->f->mm, p->addr);
	if (!mmn_pte_present(e) || mmn_pte_pfn(e) != p->src)
		return;
	p->stores++;
	assert_int_equal(mmn_phys_access(sim, p->src, mmn_page_gen(sim, p->src), p->addr, true, &v),
			 0);
}

/* A page with no device page left goes back to its source, which stops
 * being held stable before it is mapped again: a store after that is kept,
 * not reported as a lost write. */
static void test_migrate_without_device_page_restores_a_writable_source(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 1, NULL);
	struct restore_probe p = { .f = f, .addr = BASE + PG };
	unsigned long dp[2];

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fill(f, BASE, 2, 100);
	p.src = fb_pfn(f->mm, BASE + PG);
	mmn_sched_set_hook(f->sim, restore_store_hook, &p);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 2 * PG, pg, dp), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_true(dp[0] != 0);
	assert_int_equal(dp[1], 0);
	assert_int_equal(p.stores, 1);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOST_WRITE), 0);
	assert_int_equal(fb_pfn(f->mm, BASE + PG), p.src);
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 0x5eed);
	fb_free(f, 0);
}

static void check_migrate_order(const char *profile, enum mmn_notify_event ev, void *owner)
{
	struct fb *f = fb_new(profile);
	struct mmn_dev_pagemap *pg = dev_new(f, 8, NULL);
	unsigned long dp[4], src0;
	struct recorder r;
	const struct rec_event *s, *e;

	fb_map(f, BASE, 4 * PG, ANON);
	fill(f, BASE, 4, 100);
	src0 = fb_pfn(f->mm, BASE);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 64), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 4 * PG, pg, dp), 0);
	assert_int_equal(rec_count(&r), 2);
	s = rec_at(&r, 0);
	e = rec_at(&r, 1);
	assert_int_equal(s->kind, REC_START);
	assert_int_equal(e->kind, REC_END);
	assert_int_equal(s->event, ev);
	assert_ptr_equal(s->owner, owner);
	assert_int_equal(s->start, BASE);
	assert_int_equal(s->end, BASE + 4 * PG);
	assert_int_equal(s->held & 1, 0); /* start and end outside the PTL */
	assert_int_equal(e->held & 1, 0);
	for (int i = 0; i < 4; i++) {
		assert_int_not_equal(dp[i], 0);
		assert_true(is_devpriv(fb_entry(f->mm, BASE + i * PG), true));
		assert_int_equal(mmn_pte_pfn(fb_entry(f->mm, BASE + i * PG)), dp[i]);
		assert_int_equal(dev_read(f, dp[i]), 100 + i);
		assert_true(fb_page(f, dp[i]).flags & MMN_PG_DEVICE_PRIVATE);
		assert_int_equal(fb_page(f, dp[i]).mapcount, 1);
	}
	/* The source was freed. */
	assert_true(fb_page(f, src0).flags & MMN_PG_FREE || fb_page(f, src0).gen != 1);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE_VMA).pages_changed, 4);
	assert_int_equal(mmn_audit(f->sim), 0);
	rec_unwatch_locks(&r);
	rec_unregister(&r);
	rec_fini(&r);
	/* Back, explicitly (MIGRATE_TO_SYS). */
	assert_int_equal(mmn_migrate_vma_to_ram(f->mm, BASE, BASE + 4 * PG, pg, dp), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_not_equal(dp[i], 0);
		assert_int_equal(fb_pfn(f->mm, BASE + i * PG), dp[i]);
		assert_int_equal(fb_read(f->mm, 1, BASE + i * PG), 100 + i);
	}
	assert_int_equal(mmn_devmem_nr_free(pg), 8);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

static void test_migrate_order_latest(void **state)
{
	(void)state;
	check_migrate_order("latest", MMN_NOTIFY_MIGRATE, OWNER);
}

static void test_migrate_order_5_2_clear_no_owner(void **state)
{
	(void)state;
	check_migrate_order("5.2", MMN_NOTIFY_CLEAR, NULL);
}

static void test_migrate_order_4_15_unmap(void **state)
{
	(void)state;
	check_migrate_order("4.15", MMN_NOTIFY_UNMAP, NULL);
}

/* Holes and the zero page get device pages under a second, lazy range. */
static void check_holes(const char *profile, enum mmn_notify_event ev, void *owner)
{
	struct fb *f = fb_new(profile);
	struct mmn_dev_pagemap *pg = dev_new(f, 8, NULL);
	unsigned long dp[4];
	struct recorder r;
	const struct rec_event *s;
	uint64_t v;

	fb_map(f, BASE, 4 * PG, ANON);
	fb_write(f->mm, 0, BASE, 1);                  /* page */
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 0); /* zero page */
	fb_write(f->mm, 0, BASE + 3 * PG, 4);         /* page; BASE + 2 PG: hole */
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 4 * PG, pg, dp), 0);
	assert_int_equal(rec_count(&r), 4);
	s = rec_at(&r, 2);
	assert_int_equal(rec_at(&r, 0)->kind, REC_START);
	assert_int_equal(rec_at(&r, 1)->kind, REC_END);
	assert_int_equal(s->kind, REC_START);
	assert_int_equal(s->event, ev);
	assert_ptr_equal(s->owner, owner);
	assert_int_equal(s->start, BASE + PG); /* from the first hole */
	assert_int_equal(s->end, BASE + 4 * PG);
	assert_int_equal(rec_at(&r, 3)->kind, REC_END);
	for (int i = 0; i < 4; i++) {
		assert_int_not_equal(dp[i], 0);
		assert_true(is_devpriv(fb_entry(f->mm, BASE + i * PG), true));
	}
	assert_int_equal(dev_read(f, dp[1]), 0);
	assert_int_equal(dev_read(f, dp[3]), 4);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE_VMA).pages_changed, 4);
	assert_int_equal(mmn_audit(f->sim), 0);
	rec_unregister(&r);
	rec_fini(&r);
	/* A device write to a former hole, seen by the CPU after the fault. */
	v = 55;
	assert_int_equal(mmn_phys_access(f->sim, dp[2], mmn_page_gen(f->sim, dp[2]), 0, true, &v), 0);
	assert_int_equal(fb_read(f->mm, 0, BASE + 2 * PG), 55);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1);
	assert_int_equal(mmn_munmap(f->mm, BASE, 4 * PG), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

static void test_migrate_holes_latest(void **state)
{
	(void)state;
	check_holes("latest", MMN_NOTIFY_MIGRATE, OWNER);
}

static void test_migrate_holes_5_2(void **state)
{
	(void)state;
	check_holes("5.2", MMN_NOTIFY_CLEAR, NULL);
}

/* A range without any page table: all holes. */
static void test_migrate_unpopulated_range(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL);
	unsigned long dp[2];

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 2 * PG, pg, dp), 0);
	assert_int_not_equal(dp[0], 0);
	assert_int_not_equal(dp[1], 0);
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 0);
	assert_int_equal(mmn_devmem_migrate_to_ram_calls(pg), 1);
	assert_int_equal(mmn_munmap(f->mm, BASE, 2 * PG), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* F1 (with F2 inside it, 6.6+) under the PTL, between S and E. */
static void test_migrate_flush_under_ptl(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL);
	struct recorder r;
	unsigned long dp[2];
	const struct rec_event *a;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fill(f, BASE, 2, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_SECONDARY_TLB, 64), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 2 * PG, pg, dp), 0);
	assert_int_equal(rec_count_kind(&r, REC_ARCH_INVALIDATE), 1);
	a = rec_find(&r, REC_ARCH_INVALIDATE, 0);
	assert_int_equal(a->held & 1, 1);
	assert_true(a->start <= BASE && a->end >= BASE + 2 * PG);
	rec_unwatch_locks(&r);
	rec_unregister(&r);
	rec_fini(&r);
	assert_int_equal(mmn_migrate_vma_to_ram(f->mm, BASE, BASE + 2 * PG, pg, dp), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* ---- the driver's listener: skips its own MIGRATE ranges ---- */

struct drv {
	struct mmn_notifier mn;
	struct mmn_notifier_ops ops;
	void *owner;
	int seen, skipped, invalidated;
};

static int drv_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct drv *d = (struct drv *)((char *)sub - offsetof(struct drv, mn));

	d->seen++;
	if (range->event == MMN_NOTIFY_MIGRATE && range->owner == d->owner)
		d->skipped++;
	else
		d->invalidated++;
	return 0;
}

static void drv_register(struct drv *d, struct mmn_mm *mm, void *owner)
{
	memset(d, 0, sizeof(*d));
	d->owner = owner;
	d->ops.invalidate_range_start = drv_start;
	d->mn.ops = &d->ops;
	assert_int_equal(mmn_notifier_register(&d->mn, mm), 0);
}

static void test_driver_skips_exactly_its_own_migrations(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL), *other;
	struct drv d;
	unsigned long dp[2];

	(void)state;
	assert_int_equal(mmn_devmem_create(f->sim, 2, &d /* another owner */, NULL, &other), 0);
	fb_map(f, BASE, 2 * PG, ANON);
	fill(f, BASE, 2, 5);
	drv_register(&d, f->mm, OWNER);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, dp), 0);
	assert_int_equal(d.skipped, 1);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE + PG, BASE + 2 * PG, other, dp), 0);
	assert_int_equal(d.skipped, 1);
	assert_int_equal(d.invalidated, 1); /* the other device's migration */
	/* CPU fault of our page: migrate_to_ram's MIGRATE, ours too. */
	assert_int_equal(fb_read(f->mm, 0, BASE), 5);
	assert_int_equal(d.skipped, 2);
	/* CPU fault of the other device's page: not ours. */
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 6);
	assert_int_equal(d.skipped, 2);
	assert_int_equal(d.invalidated, 2);
	assert_int_equal(d.seen, 4);
	assert_int_equal(mmn_notifier_unregister(&d.mn, f->mm), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	assert_int_equal(mmn_devmem_destroy(other), 0);
	fb_free(f, 0);
}

/* ---- the CPU fault: migrate_to_ram ---- */

static int my_calls;
static int my_migrate_to_ram(struct mmn_dev_pagemap *pg, struct mmn_mm *mm, unsigned long addr,
			     unsigned long dev_pfn)
{
	my_calls++;
	return mmn_devmem_migrate_to_ram_default(pg, mm, addr, dev_pfn);
}

static void test_cpu_read_faults_device_page_back_once(void **state)
{
	static const struct mmn_dev_pagemap_ops ops = { .migrate_to_ram = my_migrate_to_ram };
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, &ops);
	unsigned long dp[1];
	uint32_t g;

	(void)state;
	my_calls = 0;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 77);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, dp), 0);
	g = mmn_page_gen(f->sim, dp[0]);
	assert_int_equal(mmn_devmem_nr_free(pg), 3);
	assert_int_equal(fb_read(f->mm, 1, BASE), 77);
	assert_int_equal(my_calls, 1);
	assert_int_equal(mmn_devmem_migrate_to_ram_calls(pg), 1);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	assert_true(mmn_pte_write(fb_entry(f->mm, BASE)));
	/* The device page went back to its pool (its generation moved). */
	assert_int_equal(mmn_devmem_nr_free(pg), 4);
	assert_int_not_equal(mmn_page_gen(f->sim, dp[0]), g);
	assert_int_equal(fb_read(f->mm, 1, BASE), 77);
	assert_int_equal(my_calls, 1);
	/* GUP faults a device page back too. */
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, dp), 0);
	{
		unsigned long pfn;

		assert_int_equal(mmn_get_user_pages(f->mm, BASE, 0, &pfn, NULL), 0);
		assert_false(fb_page(f, pfn).flags & MMN_PG_DEVICE_PRIVATE);
		assert_int_equal(fb_page(f, pfn).content, 77);
		assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	}
	assert_int_equal(my_calls, 2);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* hmm-tests hmm_cow_in_device: a COW-shared page moves for both mms. */
static void test_migrate_cow_shared_page(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL);
	struct mmn_mm *child;
	struct recorder r;
	unsigned long dp[1], src;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 61);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(fb_read(child, 1, BASE), 61); /* the child's TLB caches it */
	src = fb_pfn(f->mm, BASE);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 64), 0);
	assert_int_equal(rec_register(&r, child), 0);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, dp), 0);
	assert_int_not_equal(dp[0], 0);
	/* The child's mapping went through try_to_migrate_one(): CLEAR. */
	assert_int_equal(rec_count(&r), 2);
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_at(&r, 0)->start, BASE);
	assert_true(is_devpriv(fb_entry(f->mm, BASE), false));
	assert_true(is_devpriv(fb_entry(child, BASE), false));
	assert_int_equal(fb_page(f, dp[0]).mapcount, 2);
	assert_true(fb_page(f, src).flags & MMN_PG_FREE);
	assert_int_equal(mmn_audit(f->sim), 0);
	rec_unregister(&r);
	rec_fini(&r);
	/* The parent's write faults it back for both, then COWs. */
	fb_write(f->mm, 0, BASE, 62);
	assert_int_equal(fb_read(child, 1, BASE), 61);
	assert_int_equal(fb_read(f->mm, 0, BASE), 62);
	mmn_mm_put(child);
	assert_int_equal(mmn_devmem_nr_free(pg), 4);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* mremap moves device-private entries with their page. */
static void test_mremap_moves_device_entries(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL);
	unsigned long dp[2], n;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fill(f, BASE, 2, 70);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 2 * PG, pg, dp), 0);
	assert_int_equal(mmn_mremap(f->mm, BASE, 2 * PG, 2 * PG,
				    MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED, BASE + 0x400000, &n), 0);
	assert_int_equal(n, BASE + 0x400000);
	assert_true(is_devpriv(fb_entry(f->mm, n + PG), true));
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(fb_read(f->mm, 0, n + PG), 71);
	assert_int_equal(fb_read(f->mm, 0, n), 70);
	assert_int_equal(mmn_devmem_nr_free(pg), 4);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* A driver that skips its own MIGRATE range must drop its translation of a
 * device page itself (dmirror_devmem_fault() does): a device access through
 * it after the fault migrated the page back is a use-after-free. */
static void test_stale_device_translation_is_use_after_free(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 2, NULL);
	unsigned long dp[1];
	uint32_t g;
	uint64_t v;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 3);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, dp), 0);
	g = mmn_page_gen(f->sim, dp[0]);
	assert_int_equal(mmn_check_total(f->sim), 0);
	assert_int_equal(fb_read(f->mm, 0, BASE), 3);
	assert_int_equal(mmn_phys_access(f->sim, dp[0], g, BASE, false, &v), 0);
	assert_int_equal(mmn_check_total(f->sim), 1);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 1);
}

/* hmm-tests migrate_fault / migrate_mixed at unit scale. */
static void test_migrate_half_back_then_mixed_again(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 8, NULL);
	unsigned long dp[4];

	(void)state;
	fb_map(f, BASE, 4 * PG, ANON);
	fill(f, BASE, 4, 10);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 4 * PG, pg, dp), 0);
	fb_write(f->mm, 0, BASE, 20);        /* faults back, then written */
	assert_int_equal(fb_read(f->mm, 1, BASE + PG), 11);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	assert_true(is_devpriv(fb_entry(f->mm, BASE + 2 * PG), true));
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 4 * PG, pg, dp), 0);
	/* The two system pages moved; the two device pages stayed (0). */
	assert_int_not_equal(dp[0], 0);
	assert_int_not_equal(dp[1], 0);
	assert_int_equal(dp[2], 0);
	assert_int_equal(dp[3], 0);
	for (int i = 0; i < 4; i++)
		assert_true(is_devpriv(fb_entry(f->mm, BASE + i * PG), true));
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE_VMA).pages_unchanged, 2);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(fb_read(f->mm, 0, BASE), 20);
	assert_int_equal(fb_read(f->mm, 0, BASE + 3 * PG), 13);
	/* munmap of device entries gives the device pages back. */
	assert_int_equal(mmn_munmap(f->mm, BASE, 4 * PG), 0);
	assert_int_equal(mmn_devmem_nr_free(pg), 8);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* mprotect(READ) makes device-private entries read ones; fork shares them
 * read-only; a fault in the child brings the page back for both. */
static void test_device_private_mprotect_and_fork(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL);
	unsigned long dp[2];
	struct mmn_mm *child;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fill(f, BASE, 2, 30);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 2 * PG, pg, dp), 0);
	assert_int_equal(mmn_mprotect(f->mm, BASE, PG, MMN_PROT_READ), 0);
	assert_true(is_devpriv(fb_entry(f->mm, BASE), false));
	assert_true(is_devpriv(fb_entry(f->mm, BASE + PG), true));
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_true(is_devpriv(fb_entry(f->mm, BASE + PG), false));
	assert_true(is_devpriv(fb_entry(child, BASE + PG), false));
	assert_int_equal(fb_page(f, dp[1]).mapcount, 2);
	assert_int_equal(mmn_audit(f->sim), 0);
	/* The child's read brings the shared page back for both mms. */
	assert_int_equal(fb_read(child, 1, BASE + PG), 31);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE + PG)));
	assert_int_equal(fb_pfn(child, BASE + PG), fb_pfn(f->mm, BASE + PG));
	fb_write(child, 1, BASE + PG, 99); /* COW */
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 31);
	assert_int_equal(fb_read(child, 0, BASE), 30);
	assert_int_equal(mmn_audit(f->sim), 0);
	mmn_mm_put(child);
	assert_int_equal(mmn_munmap(f->mm, BASE, 2 * PG), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* ---- migrate_vma: errors and pages not migrated ---- */

static void test_migrate_bad_input(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL);
	unsigned long dp[4] = { 0 };
	struct mmn_op_stats before;
	mmn_pte_t e;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_map(f, BASE + 0x200000, PG, SHARED);
	fill(f, BASE, 2, 1);
	fb_write(f->mm, 0, BASE + 0x200000, 3);
	e = fb_entry(f->mm, BASE);
	before = fb_stats(f, MMN_OP_MIGRATE_VMA);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE + 1, BASE + PG, pg, dp), -EINVAL);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE, pg, dp), -EINVAL);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 3 * PG, pg, dp), -EINVAL);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE + 0x100000, BASE + 0x101000, pg, dp),
			 -EINVAL);
	assert_int_equal(mmn_migrate_vma_to_device(NULL, BASE, BASE + PG, pg, dp), -EINVAL);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, NULL, dp), -EINVAL);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, NULL), -EINVAL);
	assert_int_equal(mmn_migrate_vma_to_ram(f->mm, BASE, BASE + 3 * PG, pg, dp), -EINVAL);
	assert_int_equal(fb_entry(f->mm, BASE), e);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE_VMA).calls, before.calls);
	assert_int_equal(fb_stats(f, MMN_OP_MIGRATE_VMA).ranges, before.ranges);
	assert_int_equal(mmn_devmem_nr_free(pg), 4);
	/* Shared memory: not migrated (test_hmm's -ENOENT read-back). */
	dp[0] = 123;
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE + 0x200000, BASE + 0x201000, pg, dp),
			 0);
	assert_int_equal(dp[0], 0);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE + 0x200000)));
	/* Pinned page: not migrated either. */
	{
		unsigned long pfn;

		assert_int_equal(mmn_get_user_pages(f->mm, BASE, MMN_FOLL_WRITE, &pfn, NULL), 0);
		assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + PG, pg, dp), 0);
		assert_int_equal(dp[0], 0);
		assert_int_equal(fb_pfn(f->mm, BASE), pfn);
		assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	}
	/* No device page left: the page stays where it was. */
	{
		struct mmn_dev_pagemap *tiny = dev_new(f, 1, NULL);

		assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 2 * PG, tiny, dp), 0);
		assert_int_not_equal(dp[0], 0);
		assert_int_equal(dp[1], 0);
		assert_true(mmn_pte_present(fb_entry(f->mm, BASE + PG)));
		assert_int_equal(fb_read(f->mm, 0, BASE + PG), 2);
		assert_int_equal(mmn_devmem_destroy(tiny), -EBUSY);
		assert_int_equal(fb_read(f->mm, 0, BASE), 1);
		assert_int_equal(mmn_devmem_destroy(tiny), 0);
	}
	assert_int_equal(mmn_devmem_create(f->sim, 0, OWNER, NULL, &pg), -EINVAL);
	assert_int_equal(mmn_devmem_create(f->sim, 100000, OWNER, NULL, &pg), -ENOMEM);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* ---- device exclusive ---- */

static void check_exclusive(const char *profile, enum mmn_notify_event restore_ev)
{
	struct fb *f = fb_new(profile);
	struct recorder r;
	const struct rec_event *s;
	unsigned long pfn;
	uint64_t v = 42;
	mmn_pte_t e;

	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 64), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE + 8, OWNER, &pfn), 0);
	assert_int_equal(pfn, fb_page(f, pfn).pfn);
	assert_true(fb_page(f, pfn).flags & MMN_PG_LOCKED);
	assert_int_equal(rec_count(&r), 2);
	s = rec_at(&r, 0);
	assert_int_equal(s->kind, REC_START);
	assert_int_equal(s->event, MMN_NOTIFY_EXCLUSIVE);
	assert_ptr_equal(s->owner, OWNER);
	assert_int_equal(s->start, BASE);
	assert_int_equal(s->end, BASE + PG);
	assert_int_equal(s->held & 1, 0);
	assert_int_equal(rec_at(&r, 1)->kind, REC_END);
	e = fb_entry(f->mm, BASE);
	assert_int_equal(mmn_pte_swp_type(e), MMN_SWP_DEVICE_EXCLUSIVE);
	assert_int_equal(mmn_pte_pfn(e), pfn);
	assert_int_equal(fb_page(f, pfn).mapcount, 1); /* still mapped */
	/* The device's atomic through its own translation. */
	assert_int_equal(mmn_phys_access(f->sim, pfn, mmn_page_gen(f->sim, pfn), BASE, true, &v), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(mmn_audit(f->sim), 0);
	rec_reset(&r);
	/* A CPU write restores the PTE: the process-wide listener sees it. */
	assert_int_equal(fb_read(f->mm, 1, BASE), 42);
	fb_write(f->mm, 1, BASE, 43);
	assert_int_equal(rec_count(&r), 2);
	s = rec_at(&r, 0);
	assert_int_equal(s->kind, REC_START);
	assert_int_equal(s->event, restore_ev);
	assert_null(s->owner);
	assert_int_equal(s->start, BASE);
	assert_int_equal(s->held & 1, 0);
	assert_int_equal(rec_at(&r, 1)->kind, REC_END);
	e = fb_entry(f->mm, BASE);
	assert_true(mmn_pte_present(e) && mmn_pte_write(e));
	assert_int_equal(mmn_pte_pfn(e), pfn);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).calls, 1);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).pages_changed, 2);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).pages_unchanged, 0);
	rec_unwatch_locks(&r);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

static void test_exclusive_latest_restore_clear(void **state)
{
	(void)state;
	check_exclusive("latest", MMN_NOTIFY_CLEAR);
}

static void test_exclusive_6_10_restore_exclusive(void **state)
{
	(void)state;
	check_exclusive("6.10", MMN_NOTIFY_EXCLUSIVE);
}

/* 6.5: F2 under the PTL at the call site (ptep_clear_flush_notify()). */
static void test_exclusive_6_5_invalidate_range_under_ptl(void **state)
{
	struct fb *f = fb_new("6.5");
	struct recorder r;
	const struct rec_event *a;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_LEGACY, 64), 0);
	rec_watch_lock(&r, fb_ptl(f->mm, BASE), "ptl");
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(rec_at(&r, 0)->kind, REC_START);
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_EXCLUSIVE);
	a = rec_find(&r, REC_INVALIDATE_RANGE, 0);
	assert_non_null(a);
	assert_int_equal(a->held & 1, 1);
	assert_true(a->stamp < rec_find(&r, REC_END, 0)->stamp);
	rec_unwatch_locks(&r);
	rec_unregister(&r);
	rec_fini(&r);
	fb_write(f->mm, 0, BASE, 2);
	fb_free(f, 0);
}

static void test_exclusive_bad_input(void **state)
{
	struct fb *f = fb_new("latest");
	struct fb *old = fb_new("5.2");
	unsigned long pfn = 0;
	mmn_pte_t e;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_map(f, BASE + 0x200000, PG, SHARED);
	fb_write(f->mm, 0, BASE + 0x200000, 1);
	assert_int_equal(mmn_make_device_exclusive(NULL, BASE, OWNER, &pfn), -EINVAL);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, NULL), -EINVAL);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE + 0x100000, OWNER, &pfn), -EFAULT);
	assert_int_equal(mmn_make_device_exclusive(f->mm, MMN_TASK_SIZE, OWNER, &pfn), -EFAULT);
	e = fb_entry(f->mm, BASE + 0x200000);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE + 0x200000, OWNER, &pfn), -EOPNOTSUPP);
	assert_int_equal(fb_entry(f->mm, BASE + 0x200000), e);
	assert_int_equal(mmn_mprotect(f->mm, BASE, PG, MMN_PROT_READ), 0);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), -EACCES);
	assert_int_equal(fb_entry(f->mm, BASE), 0);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).calls, 0);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).ranges, 0);
	/* Before 5.14 there is no device-exclusive access. */
	fb_map(old, BASE, PG, ANON);
	assert_int_equal(mmn_make_device_exclusive(old->mm, BASE, OWNER, &pfn), -EOPNOTSUPP);
	assert_int_equal(fb_entry(old->mm, BASE), 0);
	fb_free(old, 0);
	fb_free(f, 0);
}

/* hmm-tests exclusive_mprotect: the device can no longer write. */
static void test_exclusive_then_mprotect_read(void **state)
{
	struct fb *f = fb_new("latest");
	struct drv d;
	unsigned long pfn, p2;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 5);
	drv_register(&d, f->mm, OWNER);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, NULL, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(d.invalidated, 1); /* owner NULL: the driver invalidates too */
	assert_int_equal(mmn_mprotect(f->mm, BASE, PG, MMN_PROT_READ), 0);
	assert_int_equal(d.invalidated, 2); /* the device drops its atomic mapping */
	assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE)), MMN_SWP_DEVICE_EXCLUSIVE_READ);
	assert_int_equal(mmn_audit(f->sim), 0);
	/* The device's next write needs a writable translation: refused. */
	assert_int_equal(mmn_get_user_pages(f->mm, BASE, MMN_FOLL_WRITE, &p2, NULL), -EACCES);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, NULL, &p2), -EACCES);
	/* A read restores a read-only PTE. */
	assert_int_equal(fb_read(f->mm, 0, BASE), 5);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	assert_false(mmn_pte_write(fb_entry(f->mm, BASE)));
	assert_int_equal(mmn_notifier_unregister(&d.mn, f->mm), 0);
	fb_free(f, 0);
}

/* hmm-tests exclusive_cow: fork restores the entry, both sides write. */
static void test_exclusive_then_fork(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 7);
	fb_write(f->mm, 0, BASE + PG, 8);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	assert_true(mmn_pte_present(fb_entry(child, BASE)));
	assert_int_equal(fb_page(f, pfn).mapcount, 2);
	assert_int_equal(mmn_audit(f->sim), 0);
	fb_write(f->mm, 0, BASE, 17);
	fb_write(child, 1, BASE, 27);
	assert_int_equal(fb_read(f->mm, 0, BASE), 17);
	assert_int_equal(fb_read(child, 1, BASE), 27);
	assert_int_equal(fb_read(child, 1, BASE + PG), 8);
	mmn_mm_put(child);
	fb_free(f, 0);
}

/* Fork of a single exclusive entry (try_restore_exclusive_pte(), the
 * trylock succeeding; the -EBUSY wait-and-retry path is not unit-tested). */
static void test_exclusive_fork_single_page(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_mm *child;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 7);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_true(mmn_trylock_page(f->sim, pfn));
	mmn_unlock_page(f->sim, pfn);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(fb_read(child, 0, BASE), 7);
	mmn_mm_put(child);
	fb_free(f, 0);
}

/* Fork meets an exclusive entry whose page the driver still holds locked:
 * copy_pte_range() drops the PTLs, waits for the page lock and retries. */
struct fork_arg {
	struct mmn_mm *mm, *child;
	atomic_int started;
	int err;
};

static void *fork_actor(void *arg)
{
	struct fork_arg *fa = arg;

	atomic_store(&fa->started, 1);
	fa->err = mmn_fork(fa->mm, &fa->child);
	return NULL;
}

static void test_exclusive_fork_waits_for_locked_page(void **state)
{
	struct fb *f = fb_new("latest");
	struct fork_arg fa = { .started = 0 };
	struct mmn_actor *a;
	struct timespec ts = { 0, 20000000 };
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 7);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), 0);
	fa.mm = f->mm;
	assert_int_equal(mmn_actor_spawn(f->sim, NULL, fork_actor, &fa, &a), 0);
	while (!atomic_load(&fa.started))
		nanosleep(&ts, NULL);
	nanosleep(&ts, NULL);
	/* The fork cannot have copied the entry while the page is locked. */
	assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE)), MMN_SWP_DEVICE_EXCLUSIVE);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	assert_int_equal(fa.err, 0);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	assert_true(mmn_pte_present(fb_entry(fa.child, BASE)));
	assert_int_equal(fb_read(fa.child, 0, BASE), 7);
	fb_write(fa.child, 0, BASE, 8);
	assert_int_equal(fb_read(f->mm, 1, BASE), 7);
	mmn_mm_put(fa.child);
	fb_free(f, 0);
}

struct devx_arg {
	struct mmn_mm *mm;
	atomic_int started, done;
	int err;
	unsigned long pfn;
};

static void *devx_actor(void *arg)
{
	struct devx_arg *da = arg;

	atomic_store(&da->started, 1);
	da->err = mmn_make_device_exclusive(da->mm, BASE, OWNER, &da->pfn);
	atomic_store(&da->done, 1);
	return NULL;
}

/*
 * make_device_exclusive while someone else holds the mapped page's lock.
 * 5.14-6.14 make_device_exclusive_range() only trylocks it (knob
 * exclusive_via_rmap; 5.14, 6.5 mm/rmap.c): the page is not made
 * exclusive, the NULL page (-EBUSY here), at once. 6.15+
 * make_device_exclusive() (6.19) waits (folio_lock_killable()) and then
 * succeeds.
 */
static void exclusive_on_locked_page(const char *profile, bool via_rmap)
{
	struct fb *f = fb_new(profile);
	struct devx_arg da = { .started = 0 };
	struct mmn_actor *a;
	struct timespec ts = { 0, 20000000 };
	unsigned long pfn;

	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 7);
	pfn = fb_pfn(f->mm, BASE);
	mmn_lock_page(f->sim, pfn);
	da.mm = f->mm;
	assert_int_equal(mmn_actor_spawn(f->sim, NULL, devx_actor, &da, &a), 0);
	for (int i = 0; i < 50 && !atomic_load(&da.done); i++)
		nanosleep(&ts, NULL);
	assert_int_equal(atomic_load(&da.done), via_rmap); /* 6.15+: still waiting */
	mmn_unlock_page(f->sim, pfn);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	if (via_rmap) {
		assert_int_equal(da.err, -EBUSY);
		assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	} else {
		assert_int_equal(da.err, 0);
		assert_int_equal(da.pfn, pfn);
		assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE)), MMN_SWP_DEVICE_EXCLUSIVE);
		mmn_device_exclusive_release(f->sim, da.pfn);
	}
	assert_int_equal(fb_read(f->mm, 0, BASE), 7);
	fb_free(f, 0);
}

static void test_exclusive_on_a_locked_page_per_era(void **state)
{
	(void)state;
	exclusive_on_locked_page("6.5", true);
	exclusive_on_locked_page("5.14", true);
	exclusive_on_locked_page("latest", false);
}

/*
 * 5.14-6.14: every mapping of the page through the rmap, each with its own
 * EXCLUSIVE start/end and the owner (page_make_device_exclusive_one()); a
 * readable mapping gets a readable exclusive entry. The one mapping an
 * anonymous page has after a write GUP is converted, and a listener hears
 * of it once, with the owner, as in 6.15+.
 */
static void test_exclusive_via_rmap_converts_the_mapping(void **state)
{
	struct fb *f = fb_new("6.5");
	struct recorder r;
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 16), 0);
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), 0);
	assert_int_equal(rec_count(&r), 2);
	assert_int_equal(rec_at(&r, 0)->event, MMN_NOTIFY_EXCLUSIVE);
	assert_ptr_equal(rec_at(&r, 0)->owner, OWNER);
	assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE)), MMN_SWP_DEVICE_EXCLUSIVE);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(fb_read(f->mm, 0, BASE), 1);
	rec_unregister(&r);
	rec_fini(&r);
	fb_free(f, 0);
}

/* A THP is split first (FOLL_SPLIT_PMD; migrate_vma_collect_pmd()). */
static void test_thp_is_split_for_exclusive_and_migrate(void **state)
{
	struct fb *f = fb_new("latest");
	struct mmn_dev_pagemap *pg = dev_new(f, 4, NULL);
	unsigned long pfn, dp[2];
	struct mmn_walk w;

	(void)state;
	fb_map(f, BASE, MMN_PMD_SIZE, ANON);
	assert_int_equal(mmn_madvise(f->mm, BASE, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	fb_write(f->mm, 0, BASE + PG, 5);
	assert_int_equal(mmn_pgtable_walk(f->mm, BASE, &w), 0);
	if (w.level != MMN_PT_PMD) {
		/* No THP in this build of the fault path: nothing to split. */
		assert_int_equal(mmn_devmem_destroy(pg), 0);
		fb_free(f, 0);
		skip();
	}
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE + PG, OWNER, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(mmn_pgtable_walk(f->mm, BASE + PG, &w), 0);
	assert_int_equal(w.level, MMN_PT_PTE);
	assert_int_equal(mmn_pte_swp_type(w.entry), MMN_SWP_DEVICE_EXCLUSIVE);
	assert_int_equal(mmn_audit(f->sim), 0);
	fb_write(f->mm, 1, BASE + PG, 6);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE + PG)));
	assert_int_equal(fb_read(f->mm, 0, BASE + PG), 6);
	/* PTE-mapped THP subpages are not migrated to the device. (BASE + PG
	 * was restored read-only — the model's exclusivity check looks at the
	 * THP's head — so the write COWed it into a 4 KiB page, which moves.) */
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + 2 * PG, pg, dp), 0);
	assert_int_equal(dp[0], 0);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE)));
	assert_true(fb_page(f, fb_pfn(f->mm, BASE)).flags & (MMN_PG_HEAD | MMN_PG_TAIL));
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(mmn_munmap(f->mm, BASE, MMN_PMD_SIZE), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	fb_free(f, 0);
}

/* A PMD-mapped THP @base (2 MiB), its subpages filled with base + i; 0 if
 * the fault path made no THP. */
static unsigned long thp_filled(struct fb *f, unsigned long base)
{
	struct mmn_walk w;

	fb_map(f, base, MMN_PMD_SIZE, ANON);
	assert_int_equal(mmn_madvise(f->mm, base, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	fill(f, base, MMN_HPAGE_NR, 1000);
	assert_int_equal(mmn_pgtable_walk(f->mm, base, &w), 0);
	return w.level == MMN_PT_PMD ? mmn_pte_pfn(w.entry) : 0;
}

/*
 * migrate_vma_collect_pmd() 5.14-6.5: a PMD-mapped anonymous THP is split
 * (split_huge_page()) and all 512 subpages move to device memory; the
 * 2 MiB frame is freed with the last. (6.19 moves it whole: not modelled.)
 */
static void test_thp_migrates_all_512_subpages_to_device(void **state)
{
	struct fb *f = fb_new_cfg("latest", 2048);
	struct mmn_dev_pagemap *pg = dev_new(f, MMN_HPAGE_NR, NULL);
	unsigned long *dp = calloc(MMN_HPAGE_NR, sizeof(*dp)), head;
	unsigned long moved = 0;

	(void)state;
	head = thp_filled(f, BASE);
	assert_int_not_equal(head, 0);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + MMN_PMD_SIZE, pg, dp), 0);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++) {
		mmn_pte_t e = fb_entry(f->mm, BASE + i * PG);

		if (!dp[i])
			continue;
		moved++;
		assert_true(is_devpriv(e, true));
		assert_int_equal(mmn_pte_pfn(e), dp[i]);
		assert_int_equal(dev_read(f, dp[i]), 1000 + i);
	}
	assert_int_equal(moved, MMN_HPAGE_NR);
	assert_true(fb_page(f, head).flags & MMN_PG_FREE);
	assert_int_equal(mmn_audit(f->sim), 0);
	/* The CPU reads fault the pages back, one by one. */
	assert_int_equal(fb_read(f->mm, 0, BASE + 7 * PG), 1007);
	assert_true(mmn_pte_present(fb_entry(f->mm, BASE + 7 * PG)));
	assert_int_equal(mmn_munmap(f->mm, BASE, MMN_PMD_SIZE), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	free(dp);
	fb_free(f, 0);
}

/* split_huge_page() fails on a pinned THP: migrate_vma_collect_skip(), the
 * THP stays PMD-mapped and nothing moves. */
static void test_pinned_thp_is_skipped_by_migration(void **state)
{
	struct fb *f = fb_new_cfg("latest", 2048);
	struct mmn_dev_pagemap *pg = dev_new(f, MMN_HPAGE_NR, NULL);
	unsigned long *dp = calloc(MMN_HPAGE_NR, sizeof(*dp)), head, pfn;
	struct mmn_walk w;

	(void)state;
	head = thp_filled(f, BASE);
	assert_int_not_equal(head, 0);
	assert_int_equal(mmn_get_user_pages(f->mm, BASE + 3 * PG, 0, &pfn, NULL), 0);
	assert_int_equal(mmn_migrate_vma_to_device(f->mm, BASE, BASE + MMN_PMD_SIZE, pg, dp), 0);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		assert_int_equal(dp[i], 0);
	assert_int_equal(mmn_pgtable_walk(f->mm, BASE, &w), 0);
	assert_int_equal(w.level, MMN_PT_PMD);
	assert_int_equal(mmn_unpin_user_page(f->sim, pfn), 0);
	assert_int_equal(mmn_munmap(f->mm, BASE, MMN_PMD_SIZE), 0);
	assert_int_equal(mmn_devmem_destroy(pg), 0);
	free(dp);
	fb_free(f, 0);
}

/* S6: a recheck that fails makes a notification that changed nothing. */
static int hook_done;
static void break_write_hook(struct recorder *r, const struct rec_event *ev, void *arg)
{
	struct fb *f = arg;
	struct mmn_ptdesc *pt;
	unsigned int idx = mmn_pt_index(BASE, MMN_LVL_PTE);
	mmn_pte_t e;

	(void)r;
	if (hook_done || ev->kind != REC_START || ev->event != MMN_NOTIFY_EXCLUSIVE)
		return;
	hook_done = 1;
	/* Another CPU's mprotect-like change: the PTE loses write. */
	pt = mmn_pt_walk(f->mm, BASE, MMN_LVL_PTE);
	e = mmn_pte_peek(pt, idx);
	mmn_spin_lock(&pt->ptl);
	assert_true(mmn_pte_cmpxchg(f->sim, pt, idx, BASE, e, e & ~MMN_PTE_WRITE));
	mmn_spin_unlock(&pt->ptl);
	mmn_flush_tlb_page(f->mm, BASE);
}

static void test_exclusive_retry_counts_false_positive(void **state)
{
	struct fb *f = fb_new("latest");
	struct recorder r;
	unsigned long pfn;

	(void)state;
	hook_done = 0;
	fb_map(f, BASE, PG, ANON);
	fb_write(f->mm, 0, BASE, 9);
	assert_int_equal(rec_init(&r, f->sim, REC_OPS_START_END, 64), 0);
	r.hook = break_write_hook;
	r.hook_arg = f;
	assert_int_equal(rec_register(&r, f->mm), 0);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(rec_count_kind(&r, REC_START), 2);
	assert_int_equal(rec_count_kind(&r, REC_END), 2);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).pages_unchanged, 1);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).pages_changed, 1);
	assert_int_equal(fb_stats(f, MMN_OP_EXCLUSIVE).ranges, 2);
	assert_int_equal(mmn_pte_swp_type(fb_entry(f->mm, BASE)), MMN_SWP_DEVICE_EXCLUSIVE);
	rec_unregister(&r);
	rec_fini(&r);
	assert_int_equal(fb_read(f->mm, 0, BASE), 9);
	fb_free(f, 0);
}

/* Exclusive entries are zapped as mappings (munmap, exit). */
static void test_exclusive_munmap_and_exit(void **state)
{
	struct fb *f = fb_new("latest");
	unsigned long pfn;

	(void)state;
	fb_map(f, BASE, 2 * PG, ANON);
	fb_write(f->mm, 0, BASE, 1);
	fb_write(f->mm, 0, BASE + PG, 2);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE, OWNER, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(mmn_munmap(f->mm, BASE, PG), 0);
	assert_true(fb_page(f, pfn).flags & MMN_PG_FREE);
	assert_int_equal(mmn_make_device_exclusive(f->mm, BASE + PG, OWNER, &pfn), 0);
	mmn_device_exclusive_release(f->sim, pfn);
	assert_int_equal(mmn_audit(f->sim), 0);
	fb_free(f, 0); /* exit_mmap zaps it */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_migrate_without_device_page_restores_a_writable_source),
		cmocka_unit_test(test_migrate_order_latest),
		cmocka_unit_test(test_migrate_order_5_2_clear_no_owner),
		cmocka_unit_test(test_migrate_order_4_15_unmap),
		cmocka_unit_test(test_migrate_flush_under_ptl),
		cmocka_unit_test(test_migrate_holes_latest),
		cmocka_unit_test(test_migrate_holes_5_2),
		cmocka_unit_test(test_migrate_unpopulated_range),
		cmocka_unit_test(test_driver_skips_exactly_its_own_migrations),
		cmocka_unit_test(test_cpu_read_faults_device_page_back_once),
		cmocka_unit_test(test_migrate_half_back_then_mixed_again),
		cmocka_unit_test(test_stale_device_translation_is_use_after_free),
		cmocka_unit_test(test_migrate_cow_shared_page),
		cmocka_unit_test(test_mremap_moves_device_entries),
		cmocka_unit_test(test_device_private_mprotect_and_fork),
		cmocka_unit_test(test_migrate_bad_input),
		cmocka_unit_test(test_exclusive_latest_restore_clear),
		cmocka_unit_test(test_exclusive_6_10_restore_exclusive),
		cmocka_unit_test(test_exclusive_6_5_invalidate_range_under_ptl),
		cmocka_unit_test(test_exclusive_bad_input),
		cmocka_unit_test(test_exclusive_then_mprotect_read),
		cmocka_unit_test(test_exclusive_then_fork),
		cmocka_unit_test(test_exclusive_fork_single_page),
		cmocka_unit_test(test_exclusive_fork_waits_for_locked_page),
		cmocka_unit_test(test_exclusive_retry_counts_false_positive),
		cmocka_unit_test(test_thp_is_split_for_exclusive_and_migrate),
		cmocka_unit_test(test_thp_migrates_all_512_subpages_to_device),
		cmocka_unit_test(test_pinned_thp_is_skipped_by_migration),
		cmocka_unit_test(test_exclusive_munmap_and_exit),
		cmocka_unit_test(test_exclusive_on_a_locked_page_per_era),
		cmocka_unit_test(test_exclusive_via_rmap_converts_the_mapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
