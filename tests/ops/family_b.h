/* SPDX-License-Identifier: MIT */
/*
 * Shared fixture of the rmap family's suites (fork, reclaim, migration,
 * KSM): a simulation of a given profile with its violations captured, one
 * mm, white-box helpers to reach entries, PTLs and frames, and a small
 * IOMMU-like listener (an SVA device caching translations it walked from
 * the CPU table, flushed only by arch_invalidate_secondary_tlbs /
 * invalidate_range) for the use-after-free tests.
 */
#ifndef MMN_TEST_FAMILY_B_H
#define MMN_TEST_FAMILY_B_H

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
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define SHARED (MMN_MAP_SHARED | MMN_MAP_ANONYMOUS)
#define FIXED MMN_MAP_FIXED
#define HUGE MMN_MAP_HUGETLB
#define BASE 0x40000000UL

struct fb {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
};

static inline struct fb *fb_new_cfg(const char *profile, unsigned long frames)
{
	struct fb *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = frames;
	cfg.nr_huge_pages = 4;
	cfg.profile = profile;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	mmn_notifier_pairing_reset();
	return f;
}

static inline struct fb *fb_new(const char *profile)
{
	return fb_new_cfg(profile, 1024);
}

/* Audit, no violation, teardown. */
static inline void fb_free(struct fb *f, unsigned long expected_violations)
{
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(mmn_check_total(f->sim), expected_violations);
	mmn_mm_put(f->mm);
	mmn_notifier_pairing_reset();
	mmn_sim_destroy(f->sim);
	free(f);
}

static inline void fb_map(struct fb *f, unsigned long addr, unsigned long len, int flags)
{
	unsigned long got;

	assert_int_equal(mmn_mmap(f->mm, addr, len, RW, flags | FIXED, &got), 0);
	assert_int_equal(got, addr);
}

/* The entry mapping @addr in @mm now (0 if none). */
static inline mmn_pte_t fb_entry(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(mm, addr, &w), 0);
	return w.entry;
}

static inline unsigned long fb_pfn(struct mmn_mm *mm, unsigned long addr)
{
	mmn_pte_t e = fb_entry(mm, addr);

	assert_true(mmn_pte_present(e));
	return mmn_pte_pfn(e);
}

static inline struct mmn_spinlock *fb_ptl(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_ptdesc *pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);

	assert_non_null(pt);
	return &pt->ptl;
}

static inline struct mmn_page_info fb_page(struct fb *f, unsigned long pfn)
{
	struct mmn_page_info pi;

	assert_int_equal(mmn_page_info(f->sim, pfn, &pi), 0);
	return pi;
}

static inline struct mmn_op_stats fb_stats(struct fb *f, enum mmn_op op)
{
	struct mmn_op_stats st;

	assert_int_equal(mmn_op_get_stats(f->sim, op, &st), 0);
	return st;
}

static inline uint64_t fb_read(struct mmn_mm *mm, int cpu, unsigned long addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_cpu_read(mm, cpu, addr, &v), 0);
	return v;
}

static inline void fb_write(struct mmn_mm *mm, int cpu, unsigned long addr, uint64_t v)
{
	assert_int_equal(mmn_cpu_write(mm, cpu, addr, v), 0);
}

/* ---- an IOMMU-like (SVA) listener: one cached translation ---- */

struct iommu {
	struct mmn_notifier mn;
	struct mmn_notifier_ops ops;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	bool valid;          /* the IOTLB entry */
	unsigned long va, pfn;
	uint32_t gen;
	_Atomic unsigned long flushes;
};

/* arch_invalidate_secondary_tlbs (6.6+) and invalidate_range (3.19-6.5). */
static inline void iommu_flush(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
			       unsigned long end)
{
	struct iommu *io = (struct iommu *)((char *)sub - offsetof(struct iommu, mn));

	(void)mm;
	atomic_fetch_add(&io->flushes, 1);
	if (io->valid && io->va >= start && io->va < end)
		io->valid = false;
}

static inline void iommu_invalidate_page(struct mmn_notifier *sub, struct mmn_mm *mm,
					 unsigned long addr)
{
	iommu_flush(sub, mm, addr, addr + 1);
}

static inline void iommu_register(struct iommu *io, struct mmn_mm *mm)
{
	memset(io, 0, sizeof(*io));
	io->sim = mmn_mm_sim(mm);
	io->mm = mm;
	io->ops.arch_invalidate_secondary_tlbs = iommu_flush;
	io->ops.invalidate_range = iommu_flush;
	io->ops.invalidate_page = iommu_invalidate_page;
	io->mn.ops = &io->ops;
	assert_int_equal(mmn_notifier_register(&io->mn, mm), 0);
}

/* A DMA read of @va: through the IOTLB, else a walk of the CPU table that
 * fills it. Returns false when nothing is mapped (a page request). */
static inline bool iommu_dma_read(struct iommu *io, unsigned long va, uint64_t *v)
{
	struct mmn_walk w;

	if (!io->valid || io->va != va) {
		assert_int_equal(mmn_pgtable_walk(io->mm, va, &w), 0);
		if (w.level != MMN_PT_PTE || !mmn_pte_present(w.entry))
			return false;
		io->valid = true;
		io->va = va;
		io->pfn = w.pfn;
		io->gen = w.gen;
	}
	assert_int_equal(mmn_phys_access(io->sim, io->pfn, io->gen, va, false, v), 0);
	return true;
}

#endif /* MMN_TEST_FAMILY_B_H */
