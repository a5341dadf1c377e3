// SPDX-License-Identifier: MIT
/*
 * A consumer-style workload, compiled twice (tests/inline/CMakeLists.txt):
 * as WORKLOAD=workload_inline with MMN_INLINE_FAST_PATH defined, and as
 * WORKLOAD=workload_calls without. It records everything it observes.
 */
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "workload.h"

#ifdef MMN_INLINE_FAST_PATH
#define READ(v, addr, val) mmn_tlb_read_inline((v), (addr), (val))
#else
#define READ(v, addr, val) mmn_cpu_read((v)->mm, (v)->cpu, (addr), (val))
#endif

/* One read; whether the library counted neither a hit nor a miss for it. */
static int one_read(struct workload_result *r, struct mmn_sim *sim, struct mmn_tlb_view *v,
		    unsigned long addr, unsigned int k)
{
	struct mmn_stats before, after;

	mmn_sim_get_stats(sim, &before);
	r->err[k] = READ(v, addr, &r->val[k]);
	mmn_sim_get_stats(sim, &after);
	r->served_inline[k] = !r->err[k] && after.tlb_hits == before.tlb_hits &&
			      after.tlb_misses == before.tlb_misses;
	return r->err[k];
}

static void tlb_part(struct workload_result *r, bool lockdep)
{
	struct mmn_sim_config cfg;
	struct mmn_tlb_view v;
	struct mmn_stats st;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long base = 0;
	unsigned int k = 0;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 256;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = lockdep;
	sim = mmn_sim_create(&cfg);
	mm = sim ? mmn_mm_create(sim) : NULL;
	if (!mm || mmn_mmap(mm, 0, WL_PAGES * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
			    MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &base)) {
		r->setup_failed = true;
		return;
	}
	r->view_err = mmn_tlb_view_init(&v, mm, 0);
	r->view_bad_cpu = mmn_tlb_view_init(&v, mm, 99);
	(void)mmn_tlb_view_init(&v, mm, 0);
	for (unsigned long p = 0; p < WL_PAGES; p++)
		(void)mmn_cpu_write(mm, 0, base + p * MMN_PAGE_SIZE, 100 + p);
	/* Hits, then misses after a flush, then a hole and a bad address. */
	for (int round = 0; round < 3; round++)
		for (unsigned long p = 0; p < WL_PAGES; p++, k++)
			(void)one_read(r, sim, &v, base + p * MMN_PAGE_SIZE, k);
	mmn_flush_tlb_range(mm, base, base + 2 * MMN_PAGE_SIZE);
	(void)mmn_munmap(mm, base + 3 * MMN_PAGE_SIZE, MMN_PAGE_SIZE);
	for (unsigned long p = 0; p < WL_PAGES; p++, k++)
		(void)one_read(r, sim, &v, base + p * MMN_PAGE_SIZE, k);
	(void)one_read(r, sim, &v, MMN_TASK_SIZE + MMN_PAGE_SIZE, k++);
	/* A cached page with bit 48 set: its page number ORed into the tag
	 * would alias the mm id bits (mm 1); the task-size test refuses it. */
	(void)one_read(r, sim, &v, (base + 4 * MMN_PAGE_SIZE) | (1UL << 48), k++);
	r->nr_reads = k;
	mmn_sim_get_stats(sim, &st);
	r->tlb_hits = st.tlb_hits;
	r->tlb_misses = st.tlb_misses;
	r->violations = mmn_check_total(sim);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

static void srcu_part(struct workload_result *r, bool lockdep)
{
	struct mmn_sim_config cfg;
	struct mmn_srcu ss;
	struct mmn_sim *sim;
	int a, b;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = lockdep;
	sim = mmn_sim_create(&cfg);
	if (!sim) {
		r->setup_failed = true;
		return;
	}
	mmn_srcu_init(&ss, sim, "wl_srcu");
	/* A thread not registered with liburcu yet takes the library's lock
	 * (which registers it): one section first. */
	a = mmn_srcu_read_lock(&ss);
	mmn_srcu_read_unlock(&ss, a);
	a = mmn_srcu_read_lock(&ss);
	b = mmn_srcu_read_lock(&ss);
	r->held_inside = mmn_srcu_read_lock_held(&ss);
	mmn_srcu_read_unlock(&ss, b);
	mmn_srcu_read_unlock(&ss, a);
	r->held_after = mmn_srcu_read_lock_held(&ss);
	r->idx_sum = a + b;
	/* Unlocks with no lock, with the library's index and with the one the
	 * lock returned: lockdep reports them, no mode crashes, and liburcu's
	 * nesting stays intact (the grace period below returns). */
	mmn_srcu_read_unlock(&ss, 0);
	mmn_srcu_read_unlock(&ss, a);
	mmn_synchronize_srcu(&ss);
	r->srcu_violations = mmn_check_total(sim);
	mmn_srcu_destroy(&ss);
	mmn_sim_destroy(sim);
}

void WORKLOAD(struct workload_result *r, bool lockdep)
{
	memset(r, 0, sizeof(*r));
	tlb_part(r, lockdep);
	srcu_part(r, lockdep);
}
