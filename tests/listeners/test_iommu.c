// SPDX-License-Identifier: MIT
/*
 * The IOMMU-style (SVA) reference listener: DMA through IOTLB/ATC, page
 * requests, coherence under every operation and profile, seed 000's
 * use-after-free window (S1), AMD IOMMUv2's re-faults and give-ups (S2),
 * registration refusal, release blocking the PASID, bad input and a native
 * stress run.
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h" /* mmn_alloc_page(): a frame stolen in seed 000's window */
#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define BASE 0x40000000UL

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_iommu *io;
	struct capture cap;
	int pasid;
};

static struct fx *fx_new_cfg(const char *profile, enum mmn_backend backend,
			     const struct mmn_iommu_config *icfg)
{
	struct fx *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	assert_non_null(f);
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096;
	cfg.profile = profile;
	cfg.backend = backend;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	f->io = mmn_iommu_create(f->sim, icfg);
	assert_non_null(f->io);
	assert_int_equal(mmn_iommu_bind(f->io, f->mm, &f->pasid), 0);
	assert_true(f->pasid >= 1);
	return f;
}

static struct fx *fx_new(const char *profile, enum mmn_iommu_mode mode)
{
	struct mmn_iommu_config c;

	mmn_iommu_config_init(&c);
	c.mode = mode;
	return fx_new_cfg(profile, MMN_BACKEND_NATIVE, &c);
}

/* Audit and quiescent audit clean, @expected violations in all, teardown.
 * @mm_alive: false when the test already dropped the last user. */
static void fx_free_mm(struct fx *f, unsigned long expected, bool mm_alive)
{
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(mmn_audit(f->sim), 0);
	if (mmn_check_total(f->sim) != expected)
		capture_say_last(&f->cap);
	assert_int_equal(mmn_check_total(f->sim), expected);
	mmn_iommu_destroy(f->io);
	if (mm_alive)
		mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
}

static void fx_free(struct fx *f, unsigned long expected)
{
	fx_free_mm(f, expected, true);
}

static void fx_map(struct fx *f, unsigned long addr, unsigned long len)
{
	unsigned long got;

	assert_int_equal(mmn_mmap(f->mm, addr, len, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(got, addr);
}

static uint64_t dma_rd(struct fx *f, unsigned long addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, addr, &v), 0);
	return v;
}

static struct mmn_iommu_stats fx_stats(struct fx *f)
{
	struct mmn_iommu_stats st;

	assert_int_equal(mmn_iommu_get_stats(f->io, &st), 0);
	return st;
}

static unsigned long pfn_of(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(mm, addr, &w), 0);
	assert_true(mmn_pte_present(w.entry));
	return w.pfn;
}

/* ---- basic DMA ---- */

static void test_dma_reads_cpu_data_and_hits_the_atc_the_second_time(void **state)
{
	struct fx *f = fx_new("latest", MMN_IOMMU_SVA);
	struct mmn_iommu_stats st;

	(void)state;
	fx_map(f, BASE, 2 * PG);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE, 0xc0ffee), 0);
	assert_int_equal(dma_rd(f, BASE), 0xc0ffee);
	st = fx_stats(f);
	assert_int_equal(st.walks, 1);
	assert_int_equal(st.page_requests, 0);
	assert_int_equal(dma_rd(f, BASE + 8), 0xc0ffee);
	st = fx_stats(f);
	assert_int_equal(st.atc_hits, 1);
	assert_int_equal(st.walks, 1);
	fx_free(f, 0);
}

static void test_dma_write_page_requests_then_cpu_sees_it(void **state)
{
	struct fx *f = fx_new("latest", MMN_IOMMU_SVA);
	struct mmn_iommu_stats st;
	uint64_t v;

	(void)state;
	fx_map(f, BASE, PG);
	/* Read of an untouched page: PRI, the fault maps the zero page. */
	assert_int_equal(dma_rd(f, BASE), 0);
	/* Write through the read-only zero-page entry: write PRI, COW. */
	assert_int_equal(mmn_iommu_dma_write(f->io, f->pasid, BASE, 0xd00d), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 1, BASE, &v), 0);
	assert_int_equal(v, 0xd00d);
	st = fx_stats(f);
	assert_int_equal(st.page_requests, 2);
	assert_int_equal(st.refaults, 0);
	assert_int_equal(st.retries, 2);
	assert_int_equal(st.fault_hist[0], 2);
	assert_int_equal(st.completed, 2);
	/* The COW replaced the zero page: the read-only entry was flushed. */
	assert_true(st.entries_flushed >= 1);
	fx_free(f, 0);
}

static void test_dma_outside_any_vma_gets_an_invalid_answer(void **state)
{
	struct fx *f = fx_new("latest", MMN_IOMMU_SVA);
	uint64_t v;

	(void)state;
	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, BASE, &v), -EFAULT);
	assert_int_equal(fx_stats(f).invalid_answers, 1);
	assert_int_equal(mmn_iommu_dma(f->io, f->pasid, BASE, MMN_IOMMU_DMA_NO_PRI, &v), -ENXIO);
	assert_int_equal(fx_stats(f).translation_failures, 1);
	fx_free(f, 0);
}

/* ---- coherence under every operation, in every profile ---- */

enum co_op { CO_MUNMAP, CO_DONTNEED, CO_MPROTECT, CO_RECLAIM, CO_MIGRATE };

static const char *const co_profiles[] = { "latest", "6.5", "4.15", "4.12" };

/* @broken: a listener that does not flush; the oracle must catch it. */
static long co_run(const char *profile, enum co_op op, bool broken)
{
	struct mmn_iommu_config c;
	struct mmn_iommu_stats before, after;
	struct fx *f;
	unsigned long old_pfn;
	uint64_t v = 0;
	long stale;

	mmn_iommu_config_init(&c);
	c.skip_flush = broken;
	f = fx_new_cfg(profile, MMN_BACKEND_NATIVE, &c);
	fx_map(f, BASE, 2 * PG);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE, 0xa1), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE + PG, 0xa2), 0);
	assert_int_equal(dma_rd(f, BASE), 0xa1);
	assert_int_equal(mmn_iommu_dma_write(f->io, f->pasid, BASE + PG, 0xb2), 0);
	old_pfn = pfn_of(f->mm, BASE);
	before = fx_stats(f);
	switch (op) {
	case CO_MUNMAP:
		assert_int_equal(mmn_munmap(f->mm, BASE, 2 * PG), 0);
		break;
	case CO_DONTNEED:
		assert_int_equal(mmn_madvise(f->mm, BASE, 2 * PG, MMN_MADV_DONTNEED), 0);
		break;
	case CO_MPROTECT:
		assert_int_equal(mmn_mprotect(f->mm, BASE, 2 * PG, MMN_PROT_READ), 0);
		break;
	case CO_RECLAIM:
		assert_int_equal(mmn_try_to_unmap(f->mm, BASE, 2 * PG), 0);
		break;
	case CO_MIGRATE:
		assert_int_equal(mmn_migrate_pages(f->mm, BASE, 2 * PG), 0);
		assert_int_not_equal(pfn_of(f->mm, BASE), old_pfn);
		break;
	}
	stale = mmn_check_quiescent(f->sim);
	after = fx_stats(f);
	assert_true(after.flushes > before.flushes);
	if (broken) {
		assert_int_equal(after.entries_flushed, 0);
		mmn_iommu_destroy(f->io);
		mmn_mm_put(f->mm);
		mmn_sim_destroy(f->sim);
		free(f);
		return stale;
	}
	assert_int_equal(stale, 0);
	assert_true(after.entries_flushed >= before.entries_flushed + 2);
	/* The device still sees what the CPU sees. */
	switch (op) {
	case CO_MUNMAP:
		assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, BASE, &v), -EFAULT);
		break;
	case CO_DONTNEED:
		assert_int_equal(dma_rd(f, BASE), 0);
		assert_int_equal(dma_rd(f, BASE + PG), 0);
		break;
	case CO_MPROTECT:
		assert_int_equal(mmn_iommu_dma_write(f->io, f->pasid, BASE + PG, 1), -EACCES);
		assert_int_equal(dma_rd(f, BASE + PG), 0xb2);
		break;
	case CO_RECLAIM:
	case CO_MIGRATE:
		assert_int_equal(dma_rd(f, BASE), 0xa1);
		assert_int_equal(dma_rd(f, BASE + PG), 0xb2);
		assert_int_equal(mmn_iommu_dma_write(f->io, f->pasid, BASE, 0xc1), 0);
		assert_int_equal(mmn_cpu_read(f->mm, 1, BASE, &v), 0);
		assert_int_equal(v, 0xc1);
		break;
	}
	fx_free(f, 0);
	return 0;
}

static void co_all_profiles(enum co_op op)
{
	for (size_t i = 0; i < sizeof(co_profiles) / sizeof(co_profiles[0]); i++)
		assert_int_equal(co_run(co_profiles[i], op, false), 0);
	/* Both ways: a driver that skips the flush is caught by the audit. */
	assert_true(co_run("latest", op, true) > 0);
}

static void test_munmap_flushes_iotlb_and_atc_in_every_profile(void **state)
{
	(void)state;
	co_all_profiles(CO_MUNMAP);
}

static void test_madvise_dontneed_flushes_in_every_profile(void **state)
{
	(void)state;
	co_all_profiles(CO_DONTNEED);
}

static void test_mprotect_read_only_flushes_writable_entries_in_every_profile(void **state)
{
	(void)state;
	co_all_profiles(CO_MPROTECT);
}

static void test_reclaim_flushes_in_every_profile(void **state)
{
	(void)state;
	co_all_profiles(CO_RECLAIM);
}

static void test_migration_flushes_in_every_profile(void **state)
{
	(void)state;
	co_all_profiles(CO_MIGRATE);
}

/* ---- S1 (seed 000): DMA racing reclaim of the page it reads ---- */

struct s1 {
	struct fx *f;
	unsigned long stolen;
	bool fired;
	int dma_ret;
	uint64_t dma_val;
};

/*
 * At the PTL unlock on the reclaimer's path, once the entry is gone: the
 * freed frame (if it was freed already) is re-used by a new owner (LIFO
 * allocation) who fills it, then the device DMAs through its caches. With
 * MMN_IOMMU_DMA_NO_PRI the device never page-requests from inside the hook
 * (the reclaimer holds the page lock).
 */
static void s1_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct s1 *s = arg;
	struct mmn_walk w;
	uint64_t v = 0x5ec7e7;

	if (s->fired || ev->kind != MMN_SCHED_UNLOCK || !ev->name || strcmp(ev->name, "ptl") != 0)
		return;
	if (mmn_pgtable_walk(s->f->mm, BASE, &w) != 0 || mmn_pte_present(w.entry))
		return;
	s->fired = true;
	s->stolen = mmn_alloc_page(sim, MMN_PG_ANON);
	assert_int_not_equal(s->stolen, 0);
	mmn_phys_access(sim, s->stolen, mmn_page_gen(sim, s->stolen), 0, true, &v);
	s->dma_ret = mmn_iommu_dma(s->f->io, s->f->pasid, BASE, MMN_IOMMU_DMA_NO_PRI, &s->dma_val);
}

static unsigned long s1_run(const char *profile, const char *flush, bool put_early)
{
	struct fx *f = fx_new(profile, MMN_IOMMU_SVA);
	struct s1 s = { .f = f };
	unsigned long uaf, early_free;

	if (flush)
		assert_int_equal(mmn_sim_set_knob(f->sim, "secondary_flush", flush), 0);
	assert_int_equal(mmn_sim_set_knob(f->sim, "put_page_before_secondary_flush",
					  put_early ? "true" : "false"), 0);
	fx_map(f, BASE, PG);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE, 0xda7a), 0);
	assert_int_equal(dma_rd(f, BASE), 0xda7a); /* fills IOTLB and ATC */
	mmn_sched_set_hook(f->sim, s1_hook, &s);
	assert_int_equal(mmn_try_to_unmap(f->mm, BASE, PG), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_true(s.fired);
	uaf = mmn_check_count(f->sim, MMN_VIOL_USE_AFTER_FREE);
	/* The library's own protocol check of the deferred flush (a free
	 * before the owed secondary flush) may fire as well; count it. */
	early_free = mmn_check_count(f->sim, MMN_VIOL_PROTOCOL);
	assert_int_equal(s.dma_ret == -ENXIO || s.dma_ret == 0, true);
	if (uaf) {
		assert_int_equal(s.dma_ret, 0);
		assert_int_equal(s.dma_val, 0x5ec7e7); /* the new owner's data */
	} else if (s.dma_ret == 0) {
		/* Flush still owed, but the frame not freed yet: old data. */
		assert_int_equal(s.dma_val, 0xda7a);
	}
	assert_int_equal(mmn_put_page(f->sim, s.stolen), 0);
	assert_int_equal(dma_rd(f, BASE), 0xda7a); /* swapped back in */
	fx_free(f, uaf + early_free);
	return uaf;
}

static void test_s1_dma_after_free_before_range_end_flush_is_use_after_free(void **state)
{
	(void)state;
	assert_int_equal(s1_run("latest", "range_end", true), 1);
}

/* ->invalidate_page after the PTL drop (<= 4.11): 4.13's other knobs with
 * secondary_flush=invalidate_page and invalidate_page_under_ptl false. */
static void test_s1_invalidate_page_after_ptl_is_use_after_free(void **state)
{
	(void)state;
	assert_int_equal(s1_run("4.13", "invalidate_page", true), 1);
}

static void test_s1_flush_under_ptl_is_safe(void **state)
{
	(void)state;
	assert_int_equal(s1_run("latest", NULL, true), 0);
	assert_int_equal(s1_run("6.5", NULL, true), 0);
	assert_int_equal(s1_run("4.15", NULL, true), 0);
	/* range_end flush but the free waits for it: safe as well. */
	assert_int_equal(s1_run("latest", "range_end", false), 0);
}

/* ---- AMD IOMMUv2: re-faults during an open invalidation ---- */

struct gate {
	struct mmn_notifier mn;
	struct mmn_completion entered, go;
	atomic_bool armed;
};

static int gate_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct gate *g = (struct gate *)((char *)sub - offsetof(struct gate, mn));

	(void)range;
	if (atomic_exchange(&g->armed, false)) {
		mmn_complete(&g->entered);
		mmn_wait_for_completion(&g->go);
	}
	return 0;
}

static const struct mmn_notifier_ops gate_ops = { .invalidate_range_start = gate_start };

static void *dontneed_actor(void *arg)
{
	struct fx *f = arg;

	assert_int_equal(mmn_madvise(f->mm, BASE, PG, MMN_MADV_DONTNEED), 0);
	return NULL;
}

static void test_amdv2_refaults_while_invalidation_open_then_gives_up(void **state)
{
	struct mmn_iommu_config c;
	struct mmn_iommu_stats st;
	struct mmn_actor *a;
	struct gate g = { .mn.ops = &gate_ops };
	struct fx *f;
	uint64_t v;

	(void)state;
	mmn_iommu_config_init(&c);
	c.mode = MMN_IOMMU_AMDV2;
	c.max_faults = 5;
	f = fx_new_cfg("latest", MMN_BACKEND_NATIVE, &c);
	/* The gate registered after the IOMMU is called first (list head);
	 * re-bind so the IOMMU's start runs before the gate blocks. */
	assert_int_equal(mmn_iommu_unbind(f->io, f->pasid), 0);
	assert_int_equal(mmn_notifier_register(&g.mn, f->mm), 0);
	assert_int_equal(mmn_iommu_bind(f->io, f->mm, &f->pasid), 0);
	mmn_init_completion(&g.entered, f->sim, "entered");
	mmn_init_completion(&g.go, f->sim, "go");
	fx_map(f, BASE, PG);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE, 0x77), 0);
	assert_int_equal(dma_rd(f, BASE), 0x77);
	assert_int_equal(mmn_iommu_pasid_invalidating(f->io, f->pasid), 0);

	atomic_store(&g.armed, true);
	assert_int_equal(mmn_actor_spawn(f->sim, "dontneed", dontneed_actor, f, &a), 0);
	mmn_wait_for_completion(&g.entered);
	/* The invalidation is open: the PASID points at the empty table. */
	assert_int_equal(mmn_iommu_pasid_invalidating(f->io, f->pasid), 1);
	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, BASE, &v), -EIO);
	st = fx_stats(f);
	assert_int_equal(st.page_requests, 5);
	assert_int_equal(st.refaults, 4);
	assert_int_equal(st.unresolved_answers, 5);
	assert_int_equal(st.give_ups, 1);
	/* The fault count keeps growing as long as the invalidation lasts. */
	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, BASE, &v), -EIO);
	st = fx_stats(f);
	assert_int_equal(st.page_requests, 10);
	assert_int_equal(st.give_ups, 2);

	mmn_complete(&g.go);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	assert_int_equal(mmn_iommu_pasid_invalidating(f->io, f->pasid), 0);
	/* After end the device makes progress (the page was zapped: zero). */
	assert_int_equal(dma_rd(f, BASE), 0);
	st = fx_stats(f);
	assert_int_equal(st.give_ups, 2);
	assert_int_equal(st.callbacks[MMN_IOMMU_CB_RANGE_START], st.callbacks[MMN_IOMMU_CB_RANGE_END]);
	assert_int_equal(st.events[MMN_NOTIFY_CLEAR], 1);
	assert_int_equal(mmn_notifier_unregister(&g.mn, f->mm), 0);
	mmn_completion_destroy(&g.entered);
	mmn_completion_destroy(&g.go);
	fx_free(f, 0);
}

static void test_sva_mode_does_not_fault_during_the_same_invalidation(void **state)
{
	struct mmn_iommu_config c;
	struct mmn_actor *a;
	struct gate g = { .mn.ops = &gate_ops };
	struct fx *f;

	(void)state;
	mmn_iommu_config_init(&c);
	c.max_faults = 5;
	f = fx_new_cfg("latest", MMN_BACKEND_NATIVE, &c);
	assert_int_equal(mmn_notifier_register(&g.mn, f->mm), 0);
	mmn_init_completion(&g.entered, f->sim, "entered");
	mmn_init_completion(&g.go, f->sim, "go");
	fx_map(f, BASE, PG);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE, 0x77), 0);
	atomic_store(&g.armed, true);
	assert_int_equal(mmn_actor_spawn(f->sim, "dontneed", dontneed_actor, f, &a), 0);
	mmn_wait_for_completion(&g.entered);
	/* SVA walks the CPU table, untouched yet: no fault at all. */
	assert_int_equal(dma_rd(f, BASE), 0x77);
	assert_int_equal(fx_stats(f).page_requests, 0);
	assert_int_equal(mmn_iommu_pasid_invalidating(f->io, f->pasid), 0);
	mmn_complete(&g.go);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	assert_int_equal(mmn_notifier_unregister(&g.mn, f->mm), 0);
	mmn_completion_destroy(&g.entered);
	mmn_completion_destroy(&g.go);
	fx_free(f, 0);
}

/* ---- S2 (seed 001): starvation when invalidations never stop ---- */

#define S2_DMAS 60
#define S2_INVALS 200

struct s2 {
	struct fx *f;
	atomic_bool done;
	int ok, failed;
};

static void *s2_invalidator(void *arg)
{
	struct s2 *s = arg;

	for (int i = 0; i < S2_INVALS && !atomic_load(&s->done); i++) {
		assert_int_equal(mmn_mprotect(s->f->mm, BASE, 4 * PG, MMN_PROT_READ), 0);
		assert_int_equal(mmn_mprotect(s->f->mm, BASE, 4 * PG, RW), 0);
	}
	return NULL;
}

static void *s2_device(void *arg)
{
	struct s2 *s = arg;

	for (int i = 0; i < S2_DMAS; i++) {
		uint64_t v;
		int r = mmn_iommu_dma_read(s->f->io, s->f->pasid, BASE + (unsigned long)(i % 4) * PG, &v);

		if (r == 0) {
			assert_int_equal(v, 0x100 + (i % 4));
			s->ok++;
		} else {
			assert_int_equal(r, -EIO);
			s->failed++;
		}
	}
	atomic_store(&s->done, true);
	return NULL;
}

static void s2_body(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *inv, *dev;

	assert_int_equal(mmn_actor_spawn(sim, "invalidator", s2_invalidator, arg, &inv), 0);
	assert_int_equal(mmn_actor_spawn(sim, "device", s2_device, arg, &dev), 0);
	assert_int_equal(mmn_actor_join(dev, NULL), 0);
	assert_int_equal(mmn_actor_join(inv, NULL), 0);
}

/* Re-faults per successful access, x1000. */
static unsigned long s2_run(enum mmn_iommu_mode mode, uint64_t seed)
{
	struct mmn_iommu_config c;
	struct mmn_sched_config sc;
	struct mmn_sched_result res;
	struct mmn_iommu_stats st;
	struct s2 s = { 0 };
	unsigned long ratio;

	mmn_iommu_config_init(&c);
	c.mode = mode;
	c.max_faults = 8;
	s.f = fx_new_cfg("latest", MMN_BACKEND_DETERMINISTIC, &c);
	fx_map(s.f, BASE, 4 * PG);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_cpu_write(s.f->mm, 0, BASE + (unsigned long)i * PG,
					       0x100 + (uint64_t)i), 0);
	mmn_sched_config_init(&sc);
	sc.seed = seed;
	sc.trace = false;
	sc.max_steps = 2000000;
	assert_int_equal(mmn_sched_run(s.f->sim, &sc, s2_body, &s, &res), 0);
	assert_int_equal(res.outcome, MMN_OUTCOME_OK);
	st = fx_stats(s.f);
	assert_int_equal(st.completed, (unsigned long)s.ok);
	assert_int_equal(st.give_ups, (unsigned long)s.failed);
	assert_true(s.ok > 0);
	ratio = st.refaults * 1000 / (unsigned long)s.ok;
	print_message("  %s seed %llu: %d ok, %d gave up, %lu page requests, %lu re-faults, "
		      "%lu.%03lu re-faults per successful access\n",
		      mode == MMN_IOMMU_SVA ? "sva" : "amdv2", (unsigned long long)seed, s.ok,
		      s.failed, st.page_requests, st.refaults, ratio / 1000, ratio % 1000);
	fx_free(s.f, 0);
	return ratio;
}

static void test_s2_amdv2_refaults_under_back_to_back_invalidations(void **state)
{
	(void)state;
	assert_true(s2_run(MMN_IOMMU_AMDV2, 1) > 0);
	assert_true(s2_run(MMN_IOMMU_AMDV2, 7) > 0);
}

static void test_s2_sva_never_refaults_under_the_same_invalidations(void **state)
{
	(void)state;
	assert_int_equal(s2_run(MMN_IOMMU_SVA, 1), 0);
	assert_int_equal(s2_run(MMN_IOMMU_SVA, 7), 0);
}

/* ---- registration ---- */

static int bad_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
	return 0;
}

static void bad_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
}

static void test_sva_ops_with_start_end_are_refused(void **state)
{
	struct fx *f = fx_new("latest", MMN_IOMMU_SVA);
	const struct mmn_notifier_ops *sva = mmn_iommu_ops(MMN_IOMMU_SVA);
	struct mmn_notifier_ops bad = *sva;
	struct mmn_notifier n = { 0 };

	(void)state;
	/* The right tables: SVA has no start/end, AMDv2 no secondary flush. */
	assert_non_null(sva->arch_invalidate_secondary_tlbs);
	assert_null(sva->invalidate_range_start);
	assert_null(sva->invalidate_range_end);
	assert_null(mmn_iommu_ops(MMN_IOMMU_AMDV2)->arch_invalidate_secondary_tlbs);
	assert_null(mmn_iommu_ops((enum mmn_iommu_mode)9));
	/* The wrong one: arch_invalidate_secondary_tlbs with start/end. */
	bad.invalidate_range_start = bad_start;
	n.ops = &bad;
	assert_int_equal(mmn_notifier_register(&n, f->mm), -EINVAL);
	bad.invalidate_range_start = NULL;
	bad.invalidate_range_end = bad_end;
	assert_int_equal(mmn_notifier_register(&n, f->mm), -EINVAL);
	fx_free(f, 0);
}

/* ---- release ---- */

static void test_release_blocks_the_pasid_and_flushes(void **state)
{
	struct fx *f = fx_new("latest", MMN_IOMMU_SVA);
	struct mmn_iommu_stats st;
	uint64_t v;

	(void)state;
	fx_map(f, BASE, PG);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE, 0x42), 0);
	assert_int_equal(dma_rd(f, BASE), 0x42);
	assert_int_equal(mmn_iommu_pasid_blocked(f->io, f->pasid), 0);
	mmn_mm_put(f->mm); /* last user: exit_mmap → release */
	assert_int_equal(mmn_iommu_pasid_blocked(f->io, f->pasid), 1);
	st = fx_stats(f);
	assert_int_equal(st.callbacks[MMN_IOMMU_CB_RELEASE], 1);
	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, BASE, &v), -EFAULT);
	assert_int_equal(mmn_iommu_dma_write(f->io, f->pasid, BASE, 1), -EFAULT);
	st = fx_stats(f);
	assert_int_equal(st.blocked, 2);
	assert_int_equal(st.walks, 1); /* no walk of the dead table */
	assert_int_equal(mmn_iommu_unbind(f->io, f->pasid), 0);
	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, BASE, &v), -EINVAL);
	fx_free_mm(f, 0, false);
}

/* ---- bad input ---- */

static void test_bad_input_is_refused_and_changes_nothing(void **state)
{
	struct fx *f = fx_new("latest", MMN_IOMMU_SVA);
	struct mmn_iommu_config c;
	struct mmn_iommu_stats st;
	struct mmn_mm *mm2, *mm3;
	struct mmn_sim *other;
	struct mmn_iommu *small;
	int pasid = 12345;
	uint64_t v;

	(void)state;
	errno = 0;
	assert_null(mmn_iommu_create(NULL, NULL));
	assert_int_equal(errno, EINVAL);
	mmn_iommu_config_init(&c);
	c.iotlb_entries = 0;
	assert_null(mmn_iommu_create(f->sim, &c));
	mmn_iommu_config_init(&c);
	c.max_faults = 0;
	assert_null(mmn_iommu_create(f->sim, &c));
	mmn_iommu_config_init(&c);
	c.mode = (enum mmn_iommu_mode)5;
	assert_null(mmn_iommu_create(f->sim, &c));

	assert_int_equal(mmn_iommu_bind(NULL, f->mm, &pasid), -EINVAL);
	assert_int_equal(mmn_iommu_bind(f->io, NULL, &pasid), -EINVAL);
	assert_int_equal(mmn_iommu_bind(f->io, f->mm, NULL), -EINVAL);
	/* One PASID per mm. */
	assert_int_equal(mmn_iommu_bind(f->io, f->mm, &pasid), -EEXIST);
	assert_int_equal(pasid, 12345);
	/* An mm of another simulation. */
	other = mmn_sim_create(NULL);
	assert_non_null(other);
	mm3 = mmn_mm_create(other);
	assert_int_equal(mmn_iommu_bind(f->io, mm3, &pasid), -EINVAL);
	mmn_mm_put(mm3);
	mmn_sim_destroy(other);

	assert_int_equal(mmn_iommu_dma_read(NULL, f->pasid, BASE, &v), -EINVAL);
	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid, BASE, NULL), -EINVAL);
	assert_int_equal(mmn_iommu_dma_read(f->io, 0, BASE, &v), -EINVAL);
	assert_int_equal(mmn_iommu_dma_read(f->io, 9999, BASE, &v), -EINVAL);
	assert_int_equal(mmn_iommu_dma_read(f->io, f->pasid + 1, BASE, &v), -EINVAL);
	assert_int_equal(mmn_iommu_dma_write(NULL, f->pasid, BASE, 1), -EINVAL);
	assert_int_equal(mmn_iommu_dma(f->io, f->pasid, BASE, 0x80, &v), -EINVAL);
	assert_int_equal(mmn_iommu_unbind(NULL, f->pasid), -EINVAL);
	assert_int_equal(mmn_iommu_unbind(f->io, f->pasid + 1), -EINVAL);
	assert_int_equal(mmn_iommu_unbind(f->io, -1), -EINVAL);
	assert_int_equal(mmn_iommu_get_stats(NULL, &st), -EINVAL);
	assert_int_equal(mmn_iommu_get_stats(f->io, NULL), -EINVAL);
	assert_int_equal(mmn_iommu_pasid_invalidating(f->io, 77), -EINVAL);
	assert_int_equal(mmn_iommu_pasid_blocked(NULL, 1), -EINVAL);
	assert_string_equal(mmn_iommu_cb_name(MMN_IOMMU_CB_RELEASE), "release");
	assert_string_equal(mmn_iommu_cb_name(MMN_IOMMU_CB_NR), "unknown");
	mmn_iommu_destroy(NULL);
	mmn_iommu_config_init(NULL);

	/* PASID space exhausted. */
	mmn_iommu_config_init(&c);
	c.max_pasids = 1;
	small = mmn_iommu_create(f->sim, &c);
	assert_non_null(small);
	mm2 = mmn_mm_create(f->sim);
	assert_int_equal(mmn_iommu_bind(small, f->mm, &pasid), 0);
	assert_int_equal(pasid, 1);
	assert_int_equal(mmn_iommu_bind(small, mm2, &pasid), -ENOSPC);
	assert_int_equal(mmn_iommu_unbind(small, 1), 0);
	assert_int_equal(mmn_iommu_unbind(small, 1), -EINVAL);
	assert_int_equal(mmn_iommu_bind(small, mm2, &pasid), 0);
	mmn_iommu_destroy(small);
	mmn_mm_put(mm2);

	/* Nothing changed: the PASID still works. */
	fx_map(f, BASE, PG);
	assert_int_equal(dma_rd(f, BASE), 0);
	fx_free(f, 0);
}

/* ---- native stress ---- */

#define ST_PAGES 16
#define ST_OPS 2000
#define ST_DMAS 2000
#define ST_MAX_DMAS 200000

struct st {
	struct fx *f;
	atomic_bool stop;      /* the operator is done: the CPU actor stops */
	atomic_int dma_done;   /* DMA actors finished */
	atomic_ulong dma_ok;
	atomic_ulong dma_tries;
	unsigned long ops;
};

static void *st_device(void *arg)
{
	struct st *s = arg;
	unsigned int seed = (unsigned int)mmn_actor_id(mmn_actor_current(s->f->sim)) + 1;

	/* ST_DMAS accesses at least, and on while the operator runs. */
	for (int i = 0; i < ST_MAX_DMAS && (i < ST_DMAS || !atomic_load(&s->stop)); i++) {
		unsigned long addr = BASE + (unsigned long)(rand_r(&seed) % ST_PAGES) * PG;
		uint64_t v = (uint64_t)i;
		int r;

		if (rand_r(&seed) & 1)
			r = mmn_iommu_dma_write(s->f->io, s->f->pasid, addr, v);
		else
			r = mmn_iommu_dma_read(s->f->io, s->f->pasid, addr, &v);
		assert_true(r == 0 || r == -EFAULT || r == -EACCES || r == -EIO || r == -ENOMEM);
		if (r == 0)
			atomic_fetch_add(&s->dma_ok, 1);
		atomic_fetch_add(&s->dma_tries, 1);
		sched_yield();
	}
	atomic_fetch_add(&s->dma_done, 1);
	return NULL;
}

static void *st_cpu(void *arg)
{
	struct st *s = arg;
	unsigned int seed = 99;

	while (!atomic_load(&s->stop)) {
		unsigned long addr = BASE + (unsigned long)(rand_r(&seed) % ST_PAGES) * PG;
		uint64_t v = 1;
		int r;

		if (rand_r(&seed) & 1)
			r = mmn_cpu_write(s->f->mm, 1, addr, v);
		else
			r = mmn_cpu_read(s->f->mm, 1, addr, &v);
		assert_true(r == 0 || r == -EFAULT || r == -EACCES || r == -ENOMEM || r == -EAGAIN);
	}
	return NULL;
}

static void *st_operator(void *arg)
{
	struct st *s = arg;
	struct mmn_mm *mm = s->f->mm;
	unsigned int seed = 7;

	for (s->ops = 0; s->ops < ST_OPS; s->ops++) {
		unsigned long addr = BASE + (unsigned long)(rand_r(&seed) % ST_PAGES) * PG;
		unsigned long tries = atomic_load(&s->dma_tries);
		unsigned long got;

		/* Let the devices re-populate between operations (the rwsem
		 * lets a writer barge in before woken readers otherwise). */
		while (atomic_load(&s->dma_tries) < tries + 16 && atomic_load(&s->dma_done) < 2)
			sched_yield();

		switch (rand_r(&seed) % 5) {
		case 0:
			assert_int_equal(mmn_munmap(mm, addr, PG), 0);
			assert_int_equal(mmn_mmap(mm, addr, PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
			break;
		case 1:
			assert_int_equal(mmn_mprotect(mm, addr, PG, MMN_PROT_READ), 0);
			assert_int_equal(mmn_mprotect(mm, addr, PG, RW), 0);
			break;
		case 2:
			assert_int_equal(mmn_try_to_unmap(mm, addr, PG), 0);
			break;
		case 3:
			assert_int_equal(mmn_migrate_pages(mm, addr, PG), 0);
			break;
		default:
			assert_int_equal(mmn_madvise(mm, addr, PG, MMN_MADV_DONTNEED), 0);
			break;
		}
	}
	atomic_store(&s->stop, true);
	return NULL;
}

static void test_stress_sva_dma_cpu_and_operator_stay_coherent(void **state)
{
	struct fx *f = fx_new("latest", MMN_IOMMU_SVA);
	struct st s = { .f = f };
	struct mmn_actor *a[4];
	struct mmn_iommu_stats st;

	(void)state;
	fx_map(f, BASE, ST_PAGES * PG);
	assert_int_equal(mmn_actor_spawn(f->sim, "dma0", st_device, &s, &a[0]), 0);
	assert_int_equal(mmn_actor_spawn(f->sim, "dma1", st_device, &s, &a[1]), 0);
	assert_int_equal(mmn_actor_spawn(f->sim, "cpu", st_cpu, &s, &a[2]), 0);
	assert_int_equal(mmn_actor_spawn(f->sim, "operator", st_operator, &s, &a[3]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
	st = fx_stats(f);
	assert_int_equal(atomic_load(&s.dma_done), 2);
	print_message("  %lu operations, %lu DMAs ok, %lu flushes (%lu entries, %lu needless), %lu page requests, "
		      "%lu re-faults, %lu give-ups\n", s.ops, (unsigned long)atomic_load(&s.dma_ok),
		      st.flushes, st.entries_flushed, st.needless_flushes, st.page_requests,
		      st.refaults, st.give_ups);
	assert_true(atomic_load(&s.dma_ok) > 0);
	assert_true(st.flushes > 0);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_USE_AFTER_FREE), 0);
	fx_free(f, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dma_reads_cpu_data_and_hits_the_atc_the_second_time),
		cmocka_unit_test(test_dma_write_page_requests_then_cpu_sees_it),
		cmocka_unit_test(test_dma_outside_any_vma_gets_an_invalid_answer),
		cmocka_unit_test(test_munmap_flushes_iotlb_and_atc_in_every_profile),
		cmocka_unit_test(test_madvise_dontneed_flushes_in_every_profile),
		cmocka_unit_test(test_mprotect_read_only_flushes_writable_entries_in_every_profile),
		cmocka_unit_test(test_reclaim_flushes_in_every_profile),
		cmocka_unit_test(test_migration_flushes_in_every_profile),
		cmocka_unit_test(test_s1_dma_after_free_before_range_end_flush_is_use_after_free),
		cmocka_unit_test(test_s1_invalidate_page_after_ptl_is_use_after_free),
		cmocka_unit_test(test_s1_flush_under_ptl_is_safe),
		cmocka_unit_test(test_amdv2_refaults_while_invalidation_open_then_gives_up),
		cmocka_unit_test(test_sva_mode_does_not_fault_during_the_same_invalidation),
		cmocka_unit_test(test_s2_amdv2_refaults_under_back_to_back_invalidations),
		cmocka_unit_test(test_s2_sva_never_refaults_under_the_same_invalidations),
		cmocka_unit_test(test_sva_ops_with_start_end_are_refused),
		cmocka_unit_test(test_release_blocks_the_pasid_and_flushes),
		cmocka_unit_test(test_bad_input_is_refused_and_changes_nothing),
		cmocka_unit_test(test_stress_sva_dma_cpu_and_operator_stay_coherent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
