// SPDX-License-Identifier: MIT
/*
 * userfaultfd (lib/ops/userfaultfd.c): UFFDIO_WRITEPROTECT through the
 * change_protection() walk (5.8.1-6.19 mwriteprotect_range() /
 * uffd_wp_range(), mm/mprotect.c change_pte_range() with MM_CP_UFFD_WP),
 * the write-protect fault reported instead of resolved (do_wp_page() →
 * handle_userfault(VM_UFFD_WP)), un-protecting per era, unregistering per
 * era, fork dropping the registration, and UFFDIO_MOVE (6.19 move_pages() →
 * move_pages_pte()), each with the inputs they refuse.
 */
#include <errno.h>

#include "family_a.h"

static struct mmn_uffd *fa_uffd(struct fa *f, unsigned long a, unsigned long len)
{
	struct mmn_uffd *u = NULL;

	assert_int_equal(mmn_uffd_create(f->mm, &u), 0);
	if (len)
		assert_int_equal(mmn_uffd_register(u, a, len, MMN_UFFDIO_REGISTER_MODE_WP), 0);
	return u;
}

/* At end: whether CPU 0 still caches the probe address (F1 not done yet). */
struct end_probe {
	struct fa *f;
	unsigned long addr;
	int cached_at_end;
};

static void probe_at_end(struct recorder *r, const struct rec_event *e, void *arg)
{
	struct end_probe *p = arg;

	(void)r;
	if (e->kind == REC_END && fa_cached(p->f, 0, p->addr))
		p->cached_at_end++;
}

/* 6.19 uffd_wp_range(): PROTECTION_VMA around the walk, F1 after end; the
 * store then faults to the userfaultfd and writes nothing. */
static void test_writeprotect_notifies_protection_vma_and_the_store_is_reported(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);
	struct end_probe p = { .f = f, .addr = a + PG };
	struct mmn_uffd *u;
	struct mmn_uffd_msg m;
	struct mmn_op_stats st;

	*state = f;
	for (int i = 0; i < 4; i++)
		fa_write(f, 0, a + (unsigned long)i * PG, 10 + (uint64_t)i);
	u = fa_uffd(f, a, 8 * PG);
	r->hook = probe_at_end;
	r->hook_arg = &p;
	rec_reset(r);

	assert_int_equal(mmn_uffd_writeprotect(u, a, 8 * PG, true), 0);

	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_PROTECTION_VMA);
	assert_int_equal(rec_find(r, REC_START, 0)->start, a);
	assert_int_equal(rec_find(r, REC_START, 0)->end, a + 8 * PG);
	assert_int_equal(p.cached_at_end, 1); /* the CPU flush comes after end */
	assert_false(fa_cached(f, 0, a + PG));
	for (int i = 0; i < 4; i++) {
		mmn_pte_t e = fa_pte(f, a + (unsigned long)i * PG);

		assert_true(mmn_pte_uffd_wp(e));
		assert_false(mmn_pte_write(e));
	}
	st = fa_stats(f, MMN_OP_UFFD_WP);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.pages_changed, 4);

	/* A store is reported, not resolved; loads still work. */
	assert_int_equal(mmn_cpu_write(f->mm, 1, a + PG, 99), -EPERM);
	mmn_mmap_read_lock(f->mm);
	assert_int_equal(mmn_handle_mm_fault(f->mm, a + 2 * PG + 8, MMN_FAULT_WRITE), -EPERM);
	mmn_mmap_read_unlock(f->mm);
	assert_int_equal(fa_read(f, 1, a + PG), 11);
	assert_int_equal(mmn_uffd_read_msg(u, &m), 0);
	assert_int_equal(m.address, a + PG);
	assert_true(m.wp && m.write);
	assert_int_equal(mmn_uffd_read_msg(u, &m), 0);
	assert_int_equal(m.address, a + 2 * PG);
	assert_int_equal(mmn_uffd_read_msg(u, &m), -EAGAIN);
	/* An empty entry is not protected (no pte markers without
	 * UFFD_FEATURE_WP_UNPOPULATED): the store faults a page in. */
	fa_write(f, 0, a + 6 * PG, 7);
	assert_int_equal(mmn_uffd_read_msg(u, &m), -EAGAIN);
	mmn_uffd_release(u);
}

/* Un-protecting: 6.5 MM_CP_TRY_CHANGE_WRITABLE makes the exclusive page
 * writable; 5.14 leaves it read-only for the write fault to reuse. */
static void unprotect_in(const char *profile, bool writable)
{
	struct fa *f = fa_new(profile);
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_uffd *u;
	mmn_pte_t e;

	fa_write(f, 0, a, 1);
	u = fa_uffd(f, a, 4 * PG);
	assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, true), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 2), -EPERM);
	rec_reset(r);
	assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, false), 0);
	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_PROTECTION_VMA);
	e = fa_pte(f, a);
	assert_false(mmn_pte_uffd_wp(e));
	assert_int_equal(mmn_pte_write(e), writable);
	fa_write(f, 0, a, 3);
	assert_int_equal(fa_read(f, 1, a), 3);
	assert_true(mmn_pte_write(fa_pte(f, a)));
	mmn_uffd_release(u);
	fa_free(f);
}

static void test_unprotect_makes_the_page_writable_from_6_5(void **state)
{
	(void)state;
	unprotect_in("6.5", true);
	unprotect_in("latest", true);
}

static void test_unprotect_leaves_the_page_read_only_in_5_14(void **state)
{
	(void)state;
	unprotect_in("5.14", false);
}

/* Unregistering: 6.5 userfaultfd_unregister() un-protects (a
 * PROTECTION_VMA range); 5.14 only clears the VMA flag, the bit stays. */
static void unregister_in(const char *profile, bool unprotects)
{
	struct fa *f = fa_new(profile);
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_uffd *u;

	fa_write(f, 0, a, 1);
	u = fa_uffd(f, a, 4 * PG);
	assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, true), 0);
	rec_reset(r);
	assert_int_equal(mmn_uffd_unregister(u, a, 4 * PG), 0);
	assert_int_equal(rec_count_kind(r, REC_START), unprotects ? 1 : 0);
	assert_int_equal(mmn_pte_uffd_wp(fa_pte(f, a)), !unprotects);
	/* Either way the store is no longer reported. */
	fa_write(f, 0, a, 2);
	assert_int_equal(fa_read(f, 0, a), 2);
	/* Not registered any more: writeprotect refuses. */
	assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, true), -ENOENT);
	mmn_uffd_release(u);
	fa_free(f);
}

static void test_unregister_unprotects_from_6_5(void **state)
{
	(void)state;
	unregister_in("6.5", true);
}

static void test_unregister_keeps_the_bits_in_5_14(void **state)
{
	(void)state;
	unregister_in("5.14", false);
}

/* Before 5.7 (the 4.x and 5.2 profiles) there is no WP mode; before 6.8
 * no UFFDIO_MOVE. */
static void test_profiles_without_the_feature_refuse_it(void **state)
{
	const char *old_wp[] = { "4.12", "4.15", "5.2" };

	(void)state;
	for (size_t i = 0; i < sizeof(old_wp) / sizeof(old_wp[0]); i++) {
		struct fa *f = fa_new(old_wp[i]);
		unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
		struct mmn_uffd *u = fa_uffd(f, a, 0);

		assert_int_equal(mmn_uffd_register(u, a, 4 * PG, MMN_UFFDIO_REGISTER_MODE_WP),
				 -EOPNOTSUPP);
		assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, true), -EOPNOTSUPP);
		mmn_uffd_release(u);
		fa_free(f);
	}
	{
		struct fa *f = fa_new("6.6");
		unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);
		struct mmn_uffd *u = fa_uffd(f, a + 4 * PG, 4 * PG);

		fa_write(f, 0, a, 1);
		assert_int_equal(mmn_uffd_move(u, a + 4 * PG, a, PG, 0), -EOPNOTSUPP);
		assert_int_equal(fa_read(f, 0, a), 1);
		mmn_uffd_release(u);
		fa_free(f);
	}
}

static void test_register_and_writeprotect_refuse_bad_input(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);
	unsigned long s = fa_map(f, BASE + 64 * PG, 4 * PG, RW, SHARED | FIXED);
	struct mmn_uffd *u = fa_uffd(f, 0, 0), *v = fa_uffd(f, 0, 0);
	struct mmn_uffd_msg m;

	*state = f;
	assert_int_equal(mmn_uffd_create(NULL, &u), -EINVAL);
	assert_int_equal(mmn_uffd_create(f->mm, NULL), -EINVAL);
	assert_int_equal(mmn_uffd_register(NULL, a, PG, MMN_UFFDIO_REGISTER_MODE_WP), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, a + 1, PG, MMN_UFFDIO_REGISTER_MODE_WP), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, a, PG + 1, MMN_UFFDIO_REGISTER_MODE_WP), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, a, 0, MMN_UFFDIO_REGISTER_MODE_WP), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, a, PG, 0), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, a, PG, 0x80), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, a, PG, MMN_UFFDIO_REGISTER_MODE_MISSING), -EOPNOTSUPP);
	/* A hole after the VMA, a shared VMA. */
	assert_int_equal(mmn_uffd_register(u, a, 16 * PG, MMN_UFFDIO_REGISTER_MODE_WP), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, s, PG, MMN_UFFDIO_REGISTER_MODE_WP), -EINVAL);
	/* Registered with another userfaultfd. */
	assert_int_equal(mmn_uffd_register(v, a, 2 * PG, MMN_UFFDIO_REGISTER_MODE_WP), 0);
	assert_int_equal(mmn_uffd_register(u, a, 4 * PG, MMN_UFFDIO_REGISTER_MODE_WP), -EBUSY);
	/* Write-protecting what this userfaultfd does not own. */
	assert_int_equal(mmn_uffd_writeprotect(u, a, 2 * PG, true), -ENOENT);
	assert_int_equal(mmn_uffd_writeprotect(v, a, 4 * PG, true), -ENOENT);
	assert_int_equal(mmn_uffd_writeprotect(v, a + 3, PG, true), -EINVAL);
	assert_int_equal(mmn_uffd_writeprotect(v, a, 0, true), -EINVAL);
	assert_int_equal(mmn_uffd_writeprotect(v, a, 2 * PG, true), 0);
	assert_int_equal(mmn_uffd_read_msg(NULL, &m), -EINVAL);
	assert_int_equal(mmn_uffd_read_msg(u, NULL), -EINVAL);
	assert_int_equal(mmn_uffd_dropped(NULL), 0);
	mmn_uffd_release(u);
	mmn_uffd_release(v);
	mmn_uffd_release(NULL);
}

/* A userfaultfd outlives its mm (mmgrab()): the release after the last
 * mmput() only drops the grab. */
static void test_release_after_the_mm_is_gone(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_mm *child = NULL;
	struct mmn_uffd *u = NULL;

	*state = f;
	fa_write(f, 0, a, 1);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(mmn_uffd_create(child, &u), 0);
	assert_int_equal(mmn_uffd_register(u, a, 4 * PG, MMN_UFFDIO_REGISTER_MODE_WP), 0);
	assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, true), 0);
	mmn_mm_put(child);
	assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, false), -EINVAL);
	assert_int_equal(mmn_uffd_register(u, a, PG, MMN_UFFDIO_REGISTER_MODE_WP), -EINVAL);
	mmn_uffd_release(u);
}

/* dup_userfaultfd() without EVENT_FORK: the child is not registered and
 * its copies lose the bit; the parent's stores are still reported. */
static void test_fork_drops_the_registration_in_the_child(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_uffd *u;
	struct mmn_mm *child = NULL;
	struct mmn_walk w;
	uint64_t v = 0;

	*state = f;
	fa_write(f, 0, a, 5);
	u = fa_uffd(f, a, 4 * PG);
	assert_int_equal(mmn_uffd_writeprotect(u, a, 4 * PG, true), 0);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(mmn_pgtable_walk(child, a, &w), 0);
	assert_false(mmn_pte_uffd_wp(w.entry));
	assert_int_equal(mmn_cpu_write(child, 0, a, 6), 0);
	assert_int_equal(mmn_cpu_read(child, 0, a, &v), 0);
	assert_int_equal(v, 6);
	assert_int_equal(mmn_cpu_write(f->mm, 0, a, 7), -EPERM);
	assert_int_equal(fa_read(f, 0, a), 5);
	mmn_mm_put(child);
	mmn_uffd_release(u);
}

/* change_huge_pmd() with MM_CP_UFFD_WP keeps an anonymous THP whole; a
 * store faults through wp_huge_pmd() to the userfaultfd. */
static void test_writeprotect_of_a_thp_keeps_it_whole(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, MMN_PMD_SIZE, RW, ANON | FIXED);
	struct mmn_uffd *u;
	struct mmn_walk w;

	*state = f;
	assert_int_equal(mmn_madvise(f->mm, a, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	fa_write(f, 0, a, 1);
	w = fa_walk(f, a);
	if (w.level != MMN_PT_PMD)
		skip(); /* no huge page was free */
	u = fa_uffd(f, a, MMN_PMD_SIZE);
	assert_int_equal(mmn_uffd_writeprotect(u, a, MMN_PMD_SIZE, true), 0);
	w = fa_walk(f, a + 5 * PG);
	assert_int_equal(w.level, MMN_PT_PMD);
	assert_true(mmn_pte_uffd_wp(w.entry));
	assert_int_equal(mmn_cpu_write(f->mm, 0, a + 5 * PG, 2), -EPERM);
	assert_int_equal(mmn_uffd_writeprotect(u, a, MMN_PMD_SIZE, false), 0);
	fa_write(f, 0, a + 5 * PG, 2);
	mmn_uffd_release(u);
}

/* ---- UFFDIO_MOVE --------------------------------------------------- */

/* 6.19 move_pages_ptes() / move_present_ptes(): one CLEAR range over the
 * rest of the source around a batch of the pages of one PTE table, one
 * flush of the moved extent under the source PTL, the pages' rmap moved (a
 * migration through the destination finds them), no copy. */
static void test_move_clears_the_source_and_moves_the_rmap(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct recorder *t = fa_rec(f, REC_OPS_SECONDARY_TLB);
	unsigned long src = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long dst = fa_map(f, BASE + MMN_PMD_SIZE, 4 * PG, RW, ANON | FIXED);
	struct mmn_uffd *u;
	unsigned long pfn;
	struct mmn_op_stats st;

	*state = f;
	for (int i = 0; i < 4; i++)
		fa_write(f, 0, src + (unsigned long)i * PG, 20 + (uint64_t)i);
	pfn = mmn_pte_pfn(fa_pte(f, src + PG));
	u = fa_uffd(f, dst, 4 * PG);
	assert_int_equal(rec_watch_lock(t, fa_ptl(f, src), "src ptl"), 0);
	rec_reset(r);
	rec_reset(t);

	assert_int_equal(mmn_uffd_move(u, dst, src, 4 * PG, 0), 4 * PG);

	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_CLEAR);
	assert_int_equal(rec_find(r, REC_START, 0)->start, src);
	assert_int_equal(rec_find(r, REC_START, 0)->end, src + 4 * PG);
	/* F1 with F2 inside it (6.6+), once, under the source PTL. */
	assert_int_equal(rec_count_kind(t, REC_ARCH_INVALIDATE), 1);
	assert_int_equal(rec_find(t, REC_ARCH_INVALIDATE, 0)->held, 1);
	assert_int_equal(rec_find(t, REC_ARCH_INVALIDATE, 0)->start, src);
	assert_int_equal(rec_find(t, REC_ARCH_INVALIDATE, 0)->end, src + 4 * PG);
	assert_true(mmn_pte_none(fa_walk(f, src + PG).entry));
	assert_int_equal(mmn_pte_pfn(fa_pte(f, dst + PG)), pfn);
	assert_true(mmn_pte_write(fa_pte(f, dst + PG)));
	assert_true(mmn_pte_soft_dirty(fa_pte(f, dst + PG)));
	for (int i = 0; i < 4; i++)
		assert_int_equal(fa_read(f, 1, dst + (unsigned long)i * PG), 20 + (uint64_t)i);
	st = fa_stats(f, MMN_OP_UFFD_MOVE);
	assert_int_equal(st.calls, 1);
	assert_int_equal(st.ranges, 1);
	assert_int_equal(st.pages_changed, 4);
	/* The page's index names its new address: migration finds it there. */
	assert_int_equal(mmn_migrate_pages(f->mm, dst + PG, PG), 0);
	assert_int_not_equal(mmn_pte_pfn(fa_pte(f, dst + PG)), pfn);
	assert_int_equal(fa_read(f, 0, dst + PG), 21);
	mmn_uffd_release(u);
}

/* The batch stops at a page that cannot join it (here a hole): the next
 * range starts there, over the rest of the source. */
static void test_move_batch_stops_at_a_hole(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	unsigned long src = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long dst = fa_map(f, BASE + MMN_PMD_SIZE, 4 * PG, RW, ANON | FIXED);
	struct mmn_uffd *u;

	*state = f;
	fa_write(f, 0, src, 1);
	fa_write(f, 0, src + PG, 2);
	fa_write(f, 0, src + 3 * PG, 4);
	u = fa_uffd(f, dst, 4 * PG);
	rec_reset(r);
	assert_int_equal(mmn_uffd_move(u, dst, src, 4 * PG, MMN_UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES),
			 4 * PG);
	FA_KINDS(r, REC_START, REC_END, REC_START, REC_END, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->start, src);
	assert_int_equal(rec_find(r, REC_START, 1)->start, src + 2 * PG);
	assert_int_equal(rec_find(r, REC_START, 2)->start, src + 3 * PG);
	for (size_t i = 0; i < 3; i++)
		assert_int_equal(rec_find(r, REC_START, i)->end, src + 4 * PG);
	assert_int_equal(fa_read(f, 0, dst + PG), 2);
	assert_int_equal(fa_read(f, 0, dst + 3 * PG), 4);
	mmn_uffd_release(u);
}

static void test_move_refuses_what_the_kernel_refuses(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long src = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	unsigned long dst = fa_map(f, BASE + MMN_PMD_SIZE, 4 * PG, RW, ANON | FIXED);
	unsigned long ro = fa_map(f, BASE + 2 * MMN_PMD_SIZE, 4 * PG, RO, ANON | FIXED);
	struct mmn_uffd *u, *other;
	struct mmn_mm *child = NULL;

	*state = f;
	fa_write(f, 0, src, 1);
	fa_write(f, 0, src + 2 * PG, 3);
	u = fa_uffd(f, dst, 4 * PG);
	other = fa_uffd(f, 0, 0);
	assert_int_equal(mmn_uffd_move(NULL, dst, src, PG, 0), -EINVAL);
	assert_int_equal(mmn_uffd_move(u, dst + 1, src, PG, 0), -EINVAL);
	assert_int_equal(mmn_uffd_move(u, dst, src, 0, 0), -EINVAL);
	assert_int_equal(mmn_uffd_move(u, dst, src, PG, 0x40), -EINVAL);
	assert_int_equal(mmn_uffd_move(u, src + PG, src, 2 * PG, 0), -EINVAL); /* overlap */
	assert_int_equal(mmn_uffd_move(u, dst, src, 8 * PG, 0), -EINVAL);      /* leaves the VMA */
	assert_int_equal(mmn_uffd_move(other, dst, src, PG, 0), -EINVAL);      /* not its dst */
	assert_int_equal(mmn_uffd_move(u, src, dst, PG, 0), -EINVAL);          /* src not registered */
	assert_int_equal(mmn_uffd_move(u, dst, ro, PG, 0), -EINVAL);           /* protections differ */
	assert_int_equal(mmn_uffd_move(u, dst, BASE + 3 * MMN_PMD_SIZE, PG, 0), -ENOENT);
	/* A hole in the source: -ENOENT, or skipped with ALLOW_SRC_HOLES. */
	assert_int_equal(mmn_uffd_move(u, dst + PG, src + PG, PG, 0), -ENOENT);
	assert_int_equal(mmn_uffd_move(u, dst, src, 3 * PG, MMN_UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES),
			 3 * PG);
	assert_int_equal(fa_read(f, 0, dst), 1);
	assert_int_equal(fa_read(f, 0, dst + 2 * PG), 3);
	/* A populated destination. */
	fa_write(f, 0, src + 3 * PG, 4);
	assert_int_equal(mmn_uffd_move(u, dst + 2 * PG, src + 3 * PG, PG, 0), -EEXIST);
	assert_int_equal(fa_read(f, 0, src + 3 * PG), 4);
	/* A page fork shared is not PageAnonExclusive: -EBUSY. */
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(mmn_uffd_move(u, dst + 3 * PG, src + 3 * PG, PG, 0), -EBUSY);
	assert_int_equal(fa_read(f, 0, src + 3 * PG), 4);
	mmn_mm_put(child);
	mmn_uffd_release(other);
	mmn_uffd_release(u);
}

/* ---- WP_ASYNC and PAGEMAP_SCAN ------------------------------------- */

static struct mmn_uffd *fa_uffd_async(struct fa *f, unsigned long a, unsigned long len)
{
	struct mmn_uffd *u = fa_uffd(f, 0, 0);

	assert_int_equal(mmn_uffd_api(u, MMN_UFFD_FEATURE_WP_ASYNC), 0);
	assert_int_equal(mmn_uffd_register(u, a, len, MMN_UFFDIO_REGISTER_MODE_WP), 0);
	assert_int_equal(mmn_uffd_writeprotect(u, a, len, true), 0);
	return u;
}

/* 6.19 do_wp_page() with userfaultfd_wp_async(): the bit is dropped and
 * the store done; nothing is reported. */
static void test_async_store_drops_the_bit_and_writes(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_uffd *u;
	struct mmn_uffd_msg m;

	*state = f;
	fa_write(f, 0, a, 1);
	u = fa_uffd_async(f, a, 4 * PG);
	assert_true(mmn_pte_uffd_wp(fa_pte(f, a)));
	fa_write(f, 1, a, 2);
	assert_int_equal(fa_read(f, 0, a), 2);
	assert_false(mmn_pte_uffd_wp(fa_pte(f, a)));
	assert_true(mmn_pte_write(fa_pte(f, a)));
	assert_int_equal(mmn_uffd_read_msg(u, &m), -EAGAIN);
	mmn_uffd_release(u);
}

/* do_pagemap_scan() with PM_SCAN_WP_MATCHING: one PROTECTION_VMA range
 * over the scan, the written pages reported merged and write-protected
 * again, the flush under the PTL (6.19 pagemap_scan_pmd_entry()). */
static void test_pagemap_scan_reports_written_pages_and_protects_them(void **state)
{
	struct fa *f = fa_new("latest");
	struct recorder *r = fa_rec(f, REC_OPS_START_END);
	struct recorder *t = fa_rec(f, REC_OPS_SECONDARY_TLB);
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);
	const unsigned long fl = MMN_PM_SCAN_WP_MATCHING | MMN_PM_SCAN_CHECK_WPASYNC;
	struct mmn_page_region vec[8];
	unsigned long we = 0;
	struct mmn_uffd *u;

	*state = f;
	for (int i = 0; i < 8; i++)
		fa_write(f, 0, a + (unsigned long)i * PG, (uint64_t)i);
	u = fa_uffd_async(f, a, 8 * PG);
	fa_write(f, 0, a + PG, 11);
	fa_write(f, 0, a + 2 * PG, 12);
	fa_write(f, 0, a + 5 * PG, 15);
	assert_int_equal(rec_watch_lock(t, fa_ptl(f, a), "ptl"), 0);
	rec_reset(r);
	rec_reset(t);

	assert_int_equal(mmn_pagemap_scan(f->mm, a, 8 * PG, fl, vec, 8, &we), 2);

	assert_int_equal(vec[0].start, a + PG);
	assert_int_equal(vec[0].end, a + 3 * PG);
	assert_int_equal(vec[1].start, a + 5 * PG);
	assert_int_equal(vec[1].end, a + 6 * PG);
	assert_int_equal(we, a + 8 * PG);
	FA_KINDS(r, REC_START, REC_END);
	assert_int_equal(rec_find(r, REC_START, 0)->event, MMN_NOTIFY_PROTECTION_VMA);
	assert_int_equal(rec_find(r, REC_START, 0)->start, a);
	assert_int_equal(rec_find(r, REC_START, 0)->end, a + 8 * PG);
	assert_int_equal(rec_count_kind(t, REC_ARCH_INVALIDATE), 1);
	assert_int_equal(rec_find(t, REC_ARCH_INVALIDATE, 0)->held, 1);
	assert_true(fa_stamp(t, REC_ARCH_INVALIDATE, 0) < fa_stamp(r, REC_END, 0));
	assert_true(mmn_pte_uffd_wp(fa_pte(f, a + 5 * PG)));
	assert_false(mmn_pte_write(fa_pte(f, a + 5 * PG)));
	assert_int_equal(fa_stats(f, MMN_OP_PAGEMAP_SCAN).pages_changed, 3);
	/* Nothing written since: nothing reported. */
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 8 * PG, fl, vec, 8, NULL), 0);
	fa_write(f, 1, a + 2 * PG, 22);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 8 * PG, fl, vec, 8, NULL), 1);
	assert_int_equal(vec[0].start, a + 2 * PG);
	/* The exclusive-WP path: no vector, everything protected. */
	fa_write(f, 1, a + 7 * PG, 27);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 8 * PG, MMN_PM_SCAN_WP_MATCHING, NULL, 0, NULL),
			 0);
	assert_true(mmn_pte_uffd_wp(fa_pte(f, a + 7 * PG)));
	mmn_uffd_release(u);
}

/* A full vector stops the walk at the next written page, left as it was. */
static void test_pagemap_scan_stops_when_the_vector_is_full(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 8 * PG, RW, ANON | FIXED);
	struct mmn_page_region vec[1];
	unsigned long we = 0;
	struct mmn_uffd *u;

	*state = f;
	for (int i = 0; i < 8; i++)
		fa_write(f, 0, a + (unsigned long)i * PG, (uint64_t)i);
	u = fa_uffd_async(f, a, 8 * PG);
	fa_write(f, 0, a + PG, 1);
	fa_write(f, 0, a + 4 * PG, 4);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 8 * PG, MMN_PM_SCAN_WP_MATCHING, vec, 1, &we),
			 1);
	assert_int_equal(vec[0].start, a + PG);
	assert_int_equal(we, a + 4 * PG);
	assert_true(mmn_pte_uffd_wp(fa_pte(f, a + PG)));
	assert_false(mmn_pte_uffd_wp(fa_pte(f, a + 4 * PG)));
	mmn_uffd_release(u);
}

/* pagemap_scan_test_walk(): a VMA without a WP_ASYNC registration is
 * -EPERM with CHECK_WPASYNC, skipped with WP_MATCHING alone, and only
 * reported without WP_MATCHING. */
static void test_pagemap_scan_without_wp_async(void **state)
{
	struct fa *f = fa_new("latest");
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_page_region vec[4];
	struct mmn_uffd *u;

	*state = f;
	fa_write(f, 0, a, 1);
	u = fa_uffd(f, a, 4 * PG); /* synchronous WP */
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 4 * PG,
					  MMN_PM_SCAN_WP_MATCHING | MMN_PM_SCAN_CHECK_WPASYNC, vec, 4,
					  NULL),
			 -EPERM);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 4 * PG, MMN_PM_SCAN_WP_MATCHING, vec, 4, NULL),
			 0);
	assert_false(mmn_pte_uffd_wp(fa_pte(f, a)));
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 4 * PG, 0, vec, 4, NULL), 1);
	assert_false(mmn_pte_uffd_wp(fa_pte(f, a)));
	/* Bad input. */
	assert_int_equal(mmn_pagemap_scan(NULL, a, PG, 0, vec, 4, NULL), -EINVAL);
	assert_int_equal(mmn_pagemap_scan(f->mm, a + 1, PG, 0, vec, 4, NULL), -EINVAL);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 0, 0, vec, 4, NULL), -EINVAL);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, PG, 0x10, vec, 4, NULL), -EINVAL);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, PG, 0, NULL, 4, NULL), -EINVAL);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, PG, 0, NULL, 0, NULL), -EINVAL);
	assert_int_equal(mmn_uffd_api(u, MMN_UFFD_FEATURE_WP_ASYNC), 0);
	assert_int_equal(mmn_uffd_api(u, MMN_UFFD_FEATURE_WP_ASYNC), -EINVAL);
	assert_int_equal(mmn_uffd_api(NULL, 0), -EINVAL);
	mmn_uffd_release(u);
	u = fa_uffd(f, 0, 0);
	assert_int_equal(mmn_uffd_api(u, 1UL << 3), -EINVAL);
	mmn_uffd_release(u);
}

/* Before 6.7 (6.6.9 has neither): -EOPNOTSUPP. */
static void test_pagemap_scan_and_wp_async_need_6_7(void **state)
{
	struct fa *f = fa_new("6.6");
	unsigned long a = fa_map(f, BASE, 4 * PG, RW, ANON | FIXED);
	struct mmn_page_region vec[4];
	struct mmn_uffd *u = fa_uffd(f, 0, 0);

	*state = f;
	assert_int_equal(mmn_uffd_api(u, MMN_UFFD_FEATURE_WP_ASYNC), -EOPNOTSUPP);
	assert_int_equal(mmn_uffd_api(u, 0), 0);
	assert_int_equal(mmn_pagemap_scan(f->mm, a, 4 * PG, 0, vec, 4, NULL), -EOPNOTSUPP);
	mmn_uffd_release(u);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(
			test_writeprotect_notifies_protection_vma_and_the_store_is_reported,
			fa_teardown),
		cmocka_unit_test(test_unprotect_makes_the_page_writable_from_6_5),
		cmocka_unit_test(test_unprotect_leaves_the_page_read_only_in_5_14),
		cmocka_unit_test(test_unregister_unprotects_from_6_5),
		cmocka_unit_test(test_unregister_keeps_the_bits_in_5_14),
		cmocka_unit_test(test_profiles_without_the_feature_refuse_it),
		cmocka_unit_test_teardown(test_register_and_writeprotect_refuse_bad_input,
					  fa_teardown),
		cmocka_unit_test_teardown(test_fork_drops_the_registration_in_the_child, fa_teardown),
		cmocka_unit_test_teardown(test_release_after_the_mm_is_gone, fa_teardown),
		cmocka_unit_test_teardown(test_writeprotect_of_a_thp_keeps_it_whole, fa_teardown),
		cmocka_unit_test_teardown(test_move_clears_the_source_and_moves_the_rmap, fa_teardown),
		cmocka_unit_test_teardown(test_move_batch_stops_at_a_hole, fa_teardown),
		cmocka_unit_test_teardown(test_move_refuses_what_the_kernel_refuses, fa_teardown),
		cmocka_unit_test_teardown(test_async_store_drops_the_bit_and_writes, fa_teardown),
		cmocka_unit_test_teardown(test_pagemap_scan_reports_written_pages_and_protects_them,
					  fa_teardown),
		cmocka_unit_test_teardown(test_pagemap_scan_stops_when_the_vector_is_full, fa_teardown),
		cmocka_unit_test_teardown(test_pagemap_scan_without_wp_async, fa_teardown),
		cmocka_unit_test_teardown(test_pagemap_scan_and_wp_async_need_6_7, fa_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
