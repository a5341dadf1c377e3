// SPDX-License-Identifier: MIT
/*
 * The modelled clock: documented defaults, names, overrides (directly and
 * through the knob path), what the primary MMU and the IOMMU listener
 * charge, proportionality, repeatability under the deterministic backend,
 * and exact counts under the native backend with real threads.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define BASE 0x40000000UL

static struct mmn_sim *sim_new(enum mmn_backend backend)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 4;
	cfg.nr_frames = 4096;
	cfg.backend = backend;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	return sim;
}

/* What the clock holds now, kind by kind, to compare before/after. */
struct snap {
	uint64_t now;
	uint64_t events[MMN_COST_NR];
	uint64_t ns[MMN_COST_NR];
};

static struct snap snap_take(const struct mmn_sim *sim)
{
	struct snap s = { .now = mmn_clock_now(sim) };

	for (int c = 0; c < MMN_COST_NR; c++) {
		s.events[c] = mmn_clock_events(sim, (enum mmn_cost)c);
		s.ns[c] = mmn_clock_charged(sim, (enum mmn_cost)c);
	}
	return s;
}

static uint64_t d_events(const struct snap *a, const struct snap *b, enum mmn_cost c)
{
	return b->events[c] - a->events[c];
}

/* Map @npages at BASE and store to each from CPUs 0..@ncpus-1 (each CPU
 * then sits in the mm's cpumask and caches the pages). */
static void map_and_touch(struct mmn_mm *mm, unsigned long npages, int ncpus)
{
	unsigned long got;

	assert_int_equal(mmn_mmap(mm, BASE, npages * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(got, BASE);
	for (int cpu = 0; cpu < ncpus; cpu++)
		for (unsigned long i = 0; i < npages; i++)
			assert_int_equal(mmn_cpu_write(mm, cpu, BASE + i * PG, i), 0);
}

/* ------------------------------------------------------------------ */
/* Costs, names, overrides                                             */
/* ------------------------------------------------------------------ */

static void test_defaults_are_the_documented_values(void **state)
{
	/* docs/clock.md's table */
	static const uint64_t documented[MMN_COST_NR] = {
		[MMN_COST_TLB_FLUSH_PAGE] = 100,
		[MMN_COST_TLB_FLUSH_FULL] = 3300,
		[MMN_COST_IPI] = 2000,
		[MMN_COST_IOTLB_INV] = 1000,
		[MMN_COST_ATS_INV] = 1000,
		[MMN_COST_DEVICE_FAULT] = 30000,
		[MMN_COST_HMM_RETRY_TIMEOUT] = 1000000000,
	};
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);

	(void)state;
	for (int c = 0; c < MMN_COST_NR; c++) {
		assert_int_equal(mmn_cost_get(sim, (enum mmn_cost)c), documented[c]);
		assert_int_equal(mmn_cost_default((enum mmn_cost)c), documented[c]);
		assert_int_equal(mmn_clock_events(sim, (enum mmn_cost)c), 0);
	}
	assert_int_equal(mmn_clock_now(sim), 0);
	assert_int_equal(mmn_cost_default(MMN_COST_NR), 0);
	mmn_sim_destroy(sim);
}

static void test_names_round_trip_and_unknown_names_are_refused(void **state)
{
	static const char *const names[MMN_COST_NR] = {
		"tlb_flush_page", "tlb_flush_full", "ipi", "iotlb_inv", "ats_inv",
		"device_fault", "hmm_retry_timeout",
	};

	(void)state;
	for (int c = 0; c < MMN_COST_NR; c++) {
		assert_string_equal(mmn_cost_name((enum mmn_cost)c), names[c]);
		assert_int_equal(mmn_cost_by_name(names[c]), c);
	}
	assert_null(mmn_cost_name(MMN_COST_NR));
	assert_null(mmn_cost_name((enum mmn_cost)-1));
	assert_int_equal(mmn_cost_by_name("tlb_flush"), -ENOENT);
	assert_int_equal(mmn_cost_by_name("IPI"), -ENOENT);
	assert_int_equal(mmn_cost_by_name(""), -ENOENT);
	assert_int_equal(mmn_cost_by_name(NULL), -EINVAL);
}

static void test_set_changes_one_cost_and_bad_arguments_change_nothing(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);

	(void)state;
	assert_int_equal(mmn_cost_set(sim, MMN_COST_IPI, 1500), 0);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_IPI), 1500);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_TLB_FLUSH_PAGE), 100);
	assert_int_equal(mmn_cost_set(sim, MMN_COST_IPI, MMN_COST_MAX_NS), 0);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_IPI), MMN_COST_MAX_NS);
	assert_int_equal(mmn_cost_set(sim, MMN_COST_IPI, 0), 0);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_IPI), 0);

	assert_int_equal(mmn_cost_set(sim, MMN_COST_IPI, MMN_COST_MAX_NS + 1), -EINVAL);
	assert_int_equal(mmn_cost_set(sim, MMN_COST_NR, 5), -EINVAL);
	assert_int_equal(mmn_cost_set(NULL, MMN_COST_IPI, 5), -EINVAL);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_IPI), 0);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_NR), 0);
	assert_int_equal(mmn_cost_get(NULL, MMN_COST_IPI), 0);
	mmn_sim_destroy(sim);
}

static void test_cost_knob_overrides_one_cost_and_leaves_the_profile(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);

	(void)state;
	assert_int_equal(mmn_sim_set_knob(sim, "cost_iotlb_inv_ns", "5000"), 0);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_IOTLB_INV), 5000);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_ATS_INV), 1000);
	assert_int_equal(mmn_sim_set_knob(sim, "cost_hmm_retry_timeout_ns", "0"), 0);
	assert_int_equal(mmn_cost_get(sim, MMN_COST_HMM_RETRY_TIMEOUT), 0);
	/* Not a profile knob: the profile keeps its name. */
	assert_string_equal(mmn_sim_profile(sim)->name, "latest");
	mmn_sim_destroy(sim);
}

static void test_cost_knob_refuses_unknown_names_and_malformed_values(void **state)
{
	static const char *const bad_names[] = {
		"cost_iotlb_ns", "cost_bogus_ns", "cost_ipi", "cost_ipi_us", "cost__ns",
		"cost_", "cost_IPI_ns", "cost_ipi_ns_ns",
	};
	static const char *const bad_values[] = {
		"", "-1", "+1", " 5", "5 ", "12x", "0x10", "1e3", "3600000000001",
		"99999999999999999999999",
	};
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);

	(void)state;
	for (size_t i = 0; i < sizeof(bad_names) / sizeof(bad_names[0]); i++)
		assert_int_equal(mmn_sim_set_knob(sim, bad_names[i], "5"), -ENOENT);
	for (size_t i = 0; i < sizeof(bad_values) / sizeof(bad_values[0]); i++)
		assert_int_equal(mmn_sim_set_knob(sim, "cost_ipi_ns", bad_values[i]), -ERANGE);
	assert_int_equal(mmn_sim_set_knob(sim, "cost_ipi_ns", NULL), -EINVAL);
	for (int c = 0; c < MMN_COST_NR; c++)
		assert_int_equal(mmn_cost_get(sim, (enum mmn_cost)c),
				 mmn_cost_default((enum mmn_cost)c));
	/* The profile's own knobs still go to the profile. */
	assert_int_equal(mmn_sim_set_knob(sim, "tlb_flush_ceiling", "8"), 0);
	assert_int_equal(mmn_sim_profile(sim)->tlb_flush_ceiling, 8);
	mmn_sim_destroy(sim);
}

static void test_knob_parse_validates_without_a_simulation(void **state)
{
	enum mmn_cost c = MMN_COST_NR;
	uint64_t ns = 0;

	(void)state;
	assert_int_equal(mmn_cost_knob_parse("cost_device_fault_ns", "25000", &c, &ns), 0);
	assert_int_equal(c, MMN_COST_DEVICE_FAULT);
	assert_int_equal(ns, 25000);
	assert_int_equal(mmn_cost_knob_parse("cost_ipi_ns", "1", NULL, NULL), 0);
	assert_int_equal(mmn_cost_knob_parse("ipi", "1", &c, &ns), -ENOENT);
	assert_int_equal(mmn_cost_knob_parse("cost_ipi_ns", "x", &c, &ns), -ERANGE);
	assert_int_equal(mmn_cost_knob_parse(NULL, "1", &c, &ns), -EINVAL);
	assert_int_equal(c, MMN_COST_DEVICE_FAULT);
	assert_int_equal(ns, 25000);
}

/* ------------------------------------------------------------------ */
/* Charging                                                            */
/* ------------------------------------------------------------------ */

static void test_charge_advances_by_count_times_cost_and_counts_events(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);

	(void)state;
	assert_int_equal(mmn_clock_charge(sim, MMN_COST_DEVICE_FAULT, 3), 0);
	assert_int_equal(mmn_clock_charge(sim, MMN_COST_IPI, 2), 0);
	assert_int_equal(mmn_clock_events(sim, MMN_COST_DEVICE_FAULT), 3);
	assert_int_equal(mmn_clock_charged(sim, MMN_COST_DEVICE_FAULT), 90000);
	assert_int_equal(mmn_clock_charged(sim, MMN_COST_IPI), 4000);
	assert_int_equal(mmn_clock_now(sim), 94000);
	/* A free kind still counts its events. */
	assert_int_equal(mmn_cost_set(sim, MMN_COST_IPI, 0), 0);
	assert_int_equal(mmn_clock_charge(sim, MMN_COST_IPI, 5), 0);
	assert_int_equal(mmn_clock_events(sim, MMN_COST_IPI), 7);
	assert_int_equal(mmn_clock_charged(sim, MMN_COST_IPI), 4000);
	assert_int_equal(mmn_clock_charge(sim, MMN_COST_IPI, 0), 0);
	assert_int_equal(mmn_clock_events(sim, MMN_COST_IPI), 7);
	mmn_sim_destroy(sim);
}

static void test_charge_refuses_bad_arguments_and_overflow_and_charges_nothing(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);

	(void)state;
	assert_int_equal(mmn_clock_charge(NULL, MMN_COST_IPI, 1), -EINVAL);
	assert_int_equal(mmn_clock_charge(sim, MMN_COST_NR, 1), -EINVAL);
	assert_int_equal(mmn_clock_charge(sim, (enum mmn_cost)-1, 1), -EINVAL);
	assert_int_equal(mmn_clock_charge(sim, MMN_COST_HMM_RETRY_TIMEOUT, UINT64_MAX / 1000), -ERANGE);
	assert_int_equal(mmn_clock_now(sim), 0);
	assert_int_equal(mmn_clock_events(sim, MMN_COST_HMM_RETRY_TIMEOUT), 0);
	assert_int_equal(mmn_clock_events(sim, MMN_COST_NR), 0);
	assert_int_equal(mmn_clock_charged(NULL, MMN_COST_IPI), 0);
	assert_int_equal(mmn_clock_now(NULL), 0);
	mmn_sim_destroy(sim);
}

/* A range up to the ceiling: one INVLPG per page and one IPI per CPU. */
static void test_munmap_of_n_pages_charges_n_page_flushes_per_cpu(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct snap a, b;

	(void)state;
	map_and_touch(mm, 8, 1);
	a = snap_take(sim);
	assert_int_equal(mmn_munmap(mm, BASE, 8 * PG), 0);
	b = snap_take(sim);
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_PAGE), 8);
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_FULL), 0);
	assert_int_equal(d_events(&a, &b, MMN_COST_IPI), 1);
	assert_int_equal(b.now - a.now, 8 * 100 + 2000);

	/* Three CPUs in the mask: each is flushed and interrupted. */
	map_and_touch(mm, 8, 3);
	a = snap_take(sim);
	assert_int_equal(mmn_munmap(mm, BASE, 8 * PG), 0);
	b = snap_take(sim);
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_PAGE), 3 * 8);
	assert_int_equal(d_events(&a, &b, MMN_COST_IPI), 3);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

/* Above tlb_flush_ceiling (33) x86 flushes the whole TLB instead. */
static void test_range_above_the_ceiling_charges_one_full_flush_per_cpu(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct snap a, b;

	(void)state;
	assert_int_equal(mmn_sim_profile(sim)->tlb_flush_ceiling, 33);
	map_and_touch(mm, 33, 1);
	a = snap_take(sim);
	assert_int_equal(mmn_munmap(mm, BASE, 33 * PG), 0);
	b = snap_take(sim);
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_PAGE), 33);
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_FULL), 0);

	map_and_touch(mm, 34, 2);
	a = snap_take(sim);
	assert_int_equal(mmn_munmap(mm, BASE, 34 * PG), 0);
	b = snap_take(sim);
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_PAGE), 0);
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_FULL), 2);
	assert_int_equal(d_events(&a, &b, MMN_COST_IPI), 2);
	assert_int_equal(b.now - a.now, 2 * 3300 + 2 * 2000);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

/* No CPU ever used the mm: no CPU is flushed, nothing is charged. */
static void test_flush_of_an_mm_no_cpu_used_charges_nothing(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	unsigned long got;

	(void)state;
	assert_int_equal(mmn_mmap(mm, BASE, 8 * PG, RW, ANON | MMN_MAP_FIXED | MMN_MAP_POPULATE,
				  &got), 0);
	assert_int_equal(mmn_munmap(mm, BASE, 8 * PG), 0);
	assert_int_equal(mmn_clock_now(sim), 0);
	assert_int_equal(mmn_clock_events(sim, MMN_COST_TLB_FLUSH_PAGE), 0);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

/* A TLB hit is not an event of the cost model. */
static void test_tlb_hits_charge_nothing(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	uint64_t v;

	(void)state;
	map_and_touch(mm, 4, 1);
	assert_int_equal(mmn_clock_now(sim), 0);
	for (int i = 0; i < 100; i++)
		assert_int_equal(mmn_cpu_read(mm, 0, BASE + (unsigned long)(i % 4) * PG, &v), 0);
	assert_int_equal(mmn_clock_now(sim), 0);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

/* ------------------------------------------------------------------ */
/* The IOMMU listener                                                  */
/* ------------------------------------------------------------------ */

struct io_run {
	struct snap after_dma, after_unmap, before;
	struct mmn_iommu_stats st;
};

static void iommu_run(bool skip_flush, struct io_run *out)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct mmn_iommu_config icfg;
	struct mmn_iommu_stats st0;
	struct mmn_iommu *io;
	struct capture cap;
	unsigned long got;
	uint64_t v;
	int pasid;

	capture_install(sim, &cap); /* skip_flush reports stale entries */
	mmn_iommu_config_init(&icfg);
	icfg.skip_flush = skip_flush;
	io = mmn_iommu_create(sim, &icfg);
	assert_non_null(io);
	assert_int_equal(mmn_iommu_bind(io, mm, &pasid), 0);
	assert_int_equal(mmn_mmap(mm, BASE, PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	out->before = snap_take(sim);
	/* Not mapped yet: one page request, then the translation. */
	assert_int_equal(mmn_iommu_dma_read(io, pasid, BASE, &v), 0);
	out->after_dma = snap_take(sim);
	assert_int_equal(mmn_iommu_get_stats(io, &st0), 0);
	assert_int_equal(mmn_munmap(mm, BASE, PG), 0);
	out->after_unmap = snap_take(sim);
	assert_int_equal(mmn_iommu_get_stats(io, &out->st), 0);
	out->st.flushes -= st0.flushes;
	mmn_iommu_destroy(io);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

static void test_iommu_page_request_charges_one_device_fault(void **state)
{
	struct io_run r;

	(void)state;
	iommu_run(false, &r);
	assert_int_equal(d_events(&r.before, &r.after_dma, MMN_COST_DEVICE_FAULT), 1);
	assert_int_equal(d_events(&r.before, &r.after_dma, MMN_COST_IOTLB_INV), 0);
}

static void test_iommu_invalidation_charges_iotlb_and_ats_invalidations(void **state)
{
	struct io_run r;

	(void)state;
	iommu_run(false, &r);
	assert_true(r.st.flushes >= 1);
	assert_int_equal(d_events(&r.after_dma, &r.after_unmap, MMN_COST_IOTLB_INV), r.st.flushes);
	assert_int_equal(d_events(&r.after_dma, &r.after_unmap, MMN_COST_ATS_INV), r.st.flushes);
	/* The wrong setting: a driver that skips the flush is not charged. */
	iommu_run(true, &r);
	assert_true(r.st.flushes >= 1);
	assert_int_equal(d_events(&r.after_dma, &r.after_unmap, MMN_COST_IOTLB_INV), 0);
	assert_int_equal(d_events(&r.after_dma, &r.after_unmap, MMN_COST_ATS_INV), 0);
}

/* ------------------------------------------------------------------ */
/* The KVM and HMM listeners                                           */
/* ------------------------------------------------------------------ */

#define GFN0 0x100

static void test_kvm_remote_tlb_flush_charges_one_ipi_per_vcpu(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct mmn_kvm_config kc;
	struct mmn_kvm_stats st;
	struct mmn_kvm *kvm;
	struct snap a, b;
	unsigned long got;
	uint64_t v;

	(void)state;
	assert_int_equal(mmn_mmap(mm, BASE, 4 * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	mmn_kvm_config_init(&kc);
	kc.nr_vcpus = 3;
	kvm = mmn_kvm_create(mm, &kc);
	assert_non_null(kvm);
	assert_int_equal(mmn_kvm_set_memslot(kvm, 0, GFN0, 4, BASE), 0);
	for (uint64_t i = 0; i < 4; i++)
		assert_int_equal(mmn_kvm_vcpu_read(kvm, 0, GFN0 + i, &v), 0);
	a = snap_take(sim);
	assert_int_equal(mmn_munmap(mm, BASE + PG, 2 * PG), 0);
	b = snap_take(sim);
	assert_int_equal(mmn_kvm_get_stats(kvm, &st), 0);
	assert_int_equal(st.tlb_flushes, 1);
	/* No CPU used the mm: every IPI is a vCPU kick. */
	assert_int_equal(d_events(&a, &b, MMN_COST_TLB_FLUSH_PAGE), 0);
	assert_int_equal(d_events(&a, &b, MMN_COST_IPI), 3);
	mmn_kvm_destroy(kvm);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

/* An invalidation in the mirrored range at every "collected" point of the
 * fault loop: every pass collides, the loop runs out of budget. */
static void hmm_collide_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	(void)sim;
	if (ev->kind == MMN_SCHED_EXPLICIT && ev->name &&
	    !strcmp(ev->name, mmn_hmm_fault_point_name(false)))
		(void)mmn_madvise(arg, BASE + PG, PG, MMN_MADV_DONTNEED);
}

static struct snap hmm_read_run(bool collide, long *ret)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct mmn_hmm_config hc;
	struct mmn_hmm *m;
	unsigned long got;
	uint64_t buf[1];
	struct snap s;

	assert_int_equal(mmn_mmap(mm, BASE, 4 * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	mmn_hmm_config_init(&hc);
	hc.retry_budget = 2;
	assert_int_equal(mmn_hmm_create(mm, BASE, 4 * PG, &hc, &m), 0);
	if (collide)
		mmn_sched_set_hook(sim, hmm_collide_hook, mm);
	*ret = mmn_hmm_read(m, BASE, 1, buf);
	mmn_sched_set_hook(sim, NULL, NULL);
	s = snap_take(sim);
	assert_int_equal(mmn_hmm_destroy(m), 0);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
	return s;
}

static void test_hmm_device_fault_charges_one_round_trip(void **state)
{
	long ret;
	struct snap s = hmm_read_run(false, &ret);

	(void)state;
	assert_int_equal(ret, 1); /* one fault pass */
	assert_int_equal(s.events[MMN_COST_DEVICE_FAULT], 1);
	assert_int_equal(s.events[MMN_COST_HMM_RETRY_TIMEOUT], 0);
}

static void test_hmm_fault_loop_give_up_charges_one_retry_timeout(void **state)
{
	long ret;
	struct snap s = hmm_read_run(true, &ret);

	(void)state;
	assert_int_equal(ret, -EBUSY);
	assert_int_equal(s.events[MMN_COST_DEVICE_FAULT], 1);
	assert_int_equal(s.events[MMN_COST_HMM_RETRY_TIMEOUT], 1);
	assert_int_equal(s.ns[MMN_COST_HMM_RETRY_TIMEOUT], 1000000000);
}

/* ------------------------------------------------------------------ */
/* Proportionality, repeatability, threads                             */
/* ------------------------------------------------------------------ */

/* The same work on a fresh simulation, with @knob applied first. */
static struct snap workload(const char *knob, const char *value)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct snap s;

	if (knob)
		assert_int_equal(mmn_sim_set_knob(sim, knob, value), 0);
	for (int round = 0; round < 3; round++) {
		map_and_touch(mm, 8 + 16 * (unsigned long)round, 2);
		assert_int_equal(mmn_munmap(mm, BASE, (8 + 16 * (unsigned long)round) * PG), 0);
	}
	s = snap_take(sim);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
	return s;
}

static void test_doubling_a_cost_doubles_its_charge_for_the_same_work(void **state)
{
	struct snap base = workload(NULL, NULL);
	struct snap twice = workload("cost_tlb_flush_page_ns", "200");

	(void)state;
	assert_true(base.ns[MMN_COST_TLB_FLUSH_PAGE] > 0);
	for (int c = 0; c < MMN_COST_NR; c++)
		assert_int_equal(twice.events[c], base.events[c]);
	assert_int_equal(twice.ns[MMN_COST_TLB_FLUSH_PAGE], 2 * base.ns[MMN_COST_TLB_FLUSH_PAGE]);
	assert_int_equal(twice.ns[MMN_COST_IPI], base.ns[MMN_COST_IPI]);
	assert_int_equal(twice.ns[MMN_COST_TLB_FLUSH_FULL], base.ns[MMN_COST_TLB_FLUSH_FULL]);
	assert_int_equal(twice.now - base.now, base.ns[MMN_COST_TLB_FLUSH_PAGE]);
}

/* Deterministic backend: a CPU touching pages while another actor unmaps
 * and maps again; how many CPUs each flush reaches depends on the
 * schedule. */
struct det {
	struct mmn_mm *mm;
	void *unmapper_failed;
};

static void *det_toucher(void *arg)
{
	struct det *d = arg;

	for (int i = 0; i < 16; i++) {
		uint64_t v;

		/* -EFAULT while the range is unmapped is part of the race */
		(void)mmn_cpu_read(d->mm, i % 3, BASE + (unsigned long)(i % 4) * PG, &v);
	}
	return NULL;
}

/* Returns the number of failed calls (checked by the test's thread). */
static void *det_unmapper(void *arg)
{
	struct det *d = arg;
	uintptr_t failed = 0;
	unsigned long got;

	for (int i = 0; i < 4; i++) {
		failed += mmn_munmap(d->mm, BASE, 4 * PG) != 0;
		failed += mmn_mmap(d->mm, BASE, 4 * PG, RW, ANON | MMN_MAP_FIXED | MMN_MAP_POPULATE,
				   &got) != 0;
	}
	return (void *)failed;
}

static void det_body(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *t[2];

	assert_int_equal(mmn_actor_spawn(sim, "cpu", det_toucher, arg, &t[0]), 0);
	assert_int_equal(mmn_actor_spawn(sim, "unmap", det_unmapper, arg, &t[1]), 0);
	(void)mmn_actor_join(t[0], NULL);
	(void)mmn_actor_join(t[1], &((struct det *)arg)->unmapper_failed);
}

static struct snap det_run(uint64_t seed)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_DETERMINISTIC);
	struct mmn_sched_config sc;
	struct mmn_sched_result res;
	struct det d = { .mm = mmn_mm_create(sim) };
	unsigned long got;
	struct snap s;

	assert_int_equal(mmn_mmap(d.mm, BASE, 4 * PG, RW, ANON | MMN_MAP_FIXED | MMN_MAP_POPULATE,
				  &got), 0);
	mmn_sched_config_init(&sc);
	sc.seed = seed;
	assert_int_equal(mmn_sched_run(sim, &sc, det_body, &d, &res), 0);
	assert_int_equal(res.outcome, MMN_OUTCOME_OK);
	assert_null(d.unmapper_failed);
	s = snap_take(sim);
	mmn_mm_put(d.mm);
	mmn_sim_destroy(sim);
	return s;
}

static void test_the_clock_repeats_across_identical_deterministic_runs(void **state)
{
	bool differs = false;

	(void)state;
	for (uint64_t seed = 1; seed <= 8; seed++) {
		struct snap a = det_run(seed), b = det_run(seed), other = det_run(seed + 100);

		assert_true(a.now > 0);
		assert_int_equal(a.now, b.now);
		for (int c = 0; c < MMN_COST_NR; c++) {
			assert_int_equal(a.events[c], b.events[c]);
			assert_int_equal(a.ns[c], b.ns[c]);
		}
		differs |= other.now != a.now;
	}
	/* The clock follows the schedule: some other seed gives another time
	 * (so the equality above is not equality of constants). */
	assert_true(differs);
}

#define NATIVE_ACTORS 4
#define NATIVE_CHARGES 10000

/* Returns the number of failed charges (cmocka's asserts belong to the
 * test's thread). */
static void *native_charger(void *arg)
{
	struct mmn_sim *sim = arg;
	uintptr_t failed = 0;

	for (int i = 0; i < NATIVE_CHARGES; i++) {
		failed += mmn_clock_charge(sim, MMN_COST_IPI, 1) != 0;
		failed += mmn_clock_charge(sim, MMN_COST_TLB_FLUSH_PAGE, 2) != 0;
	}
	return (void *)failed;
}

static void test_native_actors_lose_no_charge(void **state)
{
	struct mmn_sim *sim = sim_new(MMN_BACKEND_NATIVE);
	struct mmn_actor *t[NATIVE_ACTORS];
	const uint64_t n = (uint64_t)NATIVE_ACTORS * NATIVE_CHARGES;

	(void)state;
	for (int i = 0; i < NATIVE_ACTORS; i++)
		assert_int_equal(mmn_actor_spawn(sim, NULL, native_charger, sim, &t[i]), 0);
	for (int i = 0; i < NATIVE_ACTORS; i++) {
		void *failed;

		assert_int_equal(mmn_actor_join(t[i], &failed), 0);
		assert_null(failed);
	}
	assert_int_equal(mmn_clock_events(sim, MMN_COST_IPI), n);
	assert_int_equal(mmn_clock_events(sim, MMN_COST_TLB_FLUSH_PAGE), 2 * n);
	assert_int_equal(mmn_clock_charged(sim, MMN_COST_IPI), n * 2000);
	assert_int_equal(mmn_clock_now(sim), n * 2000 + 2 * n * 100);
	mmn_sim_destroy(sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_are_the_documented_values),
		cmocka_unit_test(test_names_round_trip_and_unknown_names_are_refused),
		cmocka_unit_test(test_set_changes_one_cost_and_bad_arguments_change_nothing),
		cmocka_unit_test(test_cost_knob_overrides_one_cost_and_leaves_the_profile),
		cmocka_unit_test(test_cost_knob_refuses_unknown_names_and_malformed_values),
		cmocka_unit_test(test_knob_parse_validates_without_a_simulation),
		cmocka_unit_test(test_charge_advances_by_count_times_cost_and_counts_events),
		cmocka_unit_test(test_charge_refuses_bad_arguments_and_overflow_and_charges_nothing),
		cmocka_unit_test(test_munmap_of_n_pages_charges_n_page_flushes_per_cpu),
		cmocka_unit_test(test_range_above_the_ceiling_charges_one_full_flush_per_cpu),
		cmocka_unit_test(test_flush_of_an_mm_no_cpu_used_charges_nothing),
		cmocka_unit_test(test_tlb_hits_charge_nothing),
		cmocka_unit_test(test_iommu_page_request_charges_one_device_fault),
		cmocka_unit_test(test_iommu_invalidation_charges_iotlb_and_ats_invalidations),
		cmocka_unit_test(test_kvm_remote_tlb_flush_charges_one_ipi_per_vcpu),
		cmocka_unit_test(test_hmm_device_fault_charges_one_round_trip),
		cmocka_unit_test(test_hmm_fault_loop_give_up_charges_one_retry_timeout),
		cmocka_unit_test(test_doubling_a_cost_doubles_its_charge_for_the_same_work),
		cmocka_unit_test(test_the_clock_repeats_across_identical_deterministic_runs),
		cmocka_unit_test(test_native_actors_lose_no_charge),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
