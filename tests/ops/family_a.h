/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the protection and zap family's suites (mprotect, NUMA
 * hinting, madvise, soft-dirty, OOM reap, mremap): a simulation of a given
 * profile with its violations captured, one mm, up to three recording
 * listeners, and white-box helpers to reach entries, PTLs and frames.
 * Every test ends with the audit and no violation.
 */
#ifndef MMN_TEST_FAMILY_A_H
#define MMN_TEST_FAMILY_A_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"
#include "support/capture.h"
#include "support/recorder.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define RO MMN_PROT_READ
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define SHARED (MMN_MAP_SHARED | MMN_MAP_ANONYMOUS)
#define FIXED MMN_MAP_FIXED
#define HUGE MMN_MAP_HUGETLB
/* 1 GiB aligned: one PUD entry, so the lazily started ranges are easy to name. */
#define BASE 0x40000000UL

struct fa {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	struct recorder r[3];
	int nr_rec;
	bool expect_violations;
};

static inline struct fa *fa_new(const char *profile)
{
	struct fa *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	cfg.nr_huge_pages = 2;
	cfg.profile = profile;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	mmn_notifier_pairing_reset();
	return f;
}

static inline void fa_free(struct fa *f)
{
	for (int i = 0; i < f->nr_rec; i++) {
		if (__atomic_load_n(&f->r[i].mn.registered, __ATOMIC_RELAXED))
			assert_int_equal(rec_unregister(&f->r[i]), 0);
	}
	assert_int_equal(mmn_audit(f->sim), 0);
	if (!f->expect_violations)
		assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_mm_put(f->mm);
	for (int i = 0; i < f->nr_rec; i++)
		rec_fini(&f->r[i]);
	mmn_notifier_pairing_reset();
	mmn_sim_destroy(f->sim);
	free(f);
}

static inline int fa_teardown(void **state)
{
	fa_free(*state);
	return 0;
}

/* A registered recorder of @mode. */
static inline struct recorder *fa_rec(struct fa *f, enum rec_ops_mode mode)
{
	struct recorder *r = &f->r[f->nr_rec++];

	assert_int_equal(rec_init(r, f->sim, mode, 256), 0);
	assert_int_equal(rec_register(r, f->mm), 0);
	return r;
}

static inline unsigned long fa_map(struct fa *f, unsigned long addr, unsigned long len, int prot,
				   int flags)
{
	unsigned long a = 0;

	assert_int_equal(mmn_mmap(f->mm, addr, len, prot, flags, &a), 0);
	return a;
}

static inline struct mmn_walk fa_walk(struct fa *f, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(f->mm, addr, &w), 0);
	return w;
}

static inline mmn_pte_t fa_pte(struct fa *f, unsigned long addr)
{
	return fa_walk(f, addr).entry;
}

/* The PTE table's lock (PTL) of @addr; NULL when no PTE table exists. */
static inline struct mmn_spinlock *fa_ptl(struct fa *f, unsigned long addr)
{
	struct mmn_ptdesc *pt = mmn_pt_walk(f->mm, addr, MMN_LVL_PTE);

	return pt ? &pt->ptl : NULL;
}

static inline struct mmn_page_info fa_page(struct fa *f, unsigned long pfn)
{
	struct mmn_page_info i;

	assert_int_equal(mmn_page_info(f->sim, pfn, &i), 0);
	return i;
}

static inline void fa_write(struct fa *f, int cpu, unsigned long addr, uint64_t v)
{
	assert_int_equal(mmn_cpu_write(f->mm, cpu, addr, v), 0);
}

static inline uint64_t fa_read(struct fa *f, int cpu, unsigned long addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_cpu_read(f->mm, cpu, addr, &v), 0);
	return v;
}

static inline bool fa_cached(struct fa *f, int cpu, unsigned long addr)
{
	return mmn_tlb_lookup(f->mm, cpu, addr, NULL) == 1;
}

static inline struct mmn_op_stats fa_stats(struct fa *f, enum mmn_op op)
{
	struct mmn_op_stats s;

	assert_int_equal(mmn_op_get_stats(f->sim, op, &s), 0);
	return s;
}

/* Stamp of the @nth event of @kind in @r (asserts it exists). */
static inline unsigned long fa_stamp(struct recorder *r, enum rec_kind kind, size_t nth)
{
	const struct rec_event *e = rec_find(r, kind, nth);

	assert_non_null(e);
	return e->stamp;
}

/* Assert @r saw exactly the kinds given. */
#define FA_KINDS(r, ...)                                                                \
	do {                                                                            \
		const enum rec_kind want_[] = { __VA_ARGS__ };                           \
		if (!rec_kinds_are((r), want_, sizeof(want_) / sizeof(want_[0])))       \
			rec_dump((r), stderr);                                          \
		assert_true(rec_kinds_are((r), want_, sizeof(want_) / sizeof(want_[0]))); \
	} while (0)

#endif /* MMN_TEST_FAMILY_A_H */
