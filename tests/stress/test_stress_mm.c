// SPDX-License-Identifier: MIT
/*
 * Native stress of the primary MMU: four actors, each a simulated CPU, fault,
 * load, store, pin and flush concurrently over shared mappings while one of
 * them keeps replacing parts of a mapping (mmap MAP_FIXED = unmap + map under
 * mmap_lock). Bounded in time and in operations.
 *
 * Every stored value encodes the address it was stored at, so a load through
 * a translation to the wrong frame (a stale TLB entry, a frame re-used too
 * early) returns a value naming another address and fails the test even if
 * no check of the model fired. Afterwards the accounting audit must find
 * every refcount and mapcount consistent with the page tables.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"
#include "support/stress.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define NR_ACTORS 4
#define PRIV_PAGES 96UL
#define SHARED_PAGES 64UL
#define MAX_OPS 250000
#define MAX_NS 1500000000L /* 1.5 s per actor at most */

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long priv, shared, huge;
};

struct worker {
	struct stress *s;
	int cpu;
	uint64_t rng;
	long ops, bad_values, errors;
	long faults_seen;
};

static unsigned long pick(struct worker *w)
{
	uint64_t r = next_rand(&w->rng);
	struct stress *s = w->s;

	switch (r % 3) {
	case 0:
		return s->priv + ((r >> 8) % PRIV_PAGES) * PG;
	case 1:
		return s->shared + ((r >> 8) % SHARED_PAGES) * PG;
	default:
		return s->huge + ((r >> 8) % MMN_HPAGE_NR) * PG;
	}
}

static void *actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	long deadline = now_ns() + MAX_NS;

	for (w->ops = 0; w->ops < MAX_OPS && (w->ops & 255 || now_ns() < deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng), v;
		unsigned long addr = pick(w), pfn;
		uint32_t gen;
		int err = 0;

		switch (r % 16) {
		case 0 ... 6:
			err = mmn_cpu_read(s->mm, w->cpu, addr, &v);
			if (!err && v && (v >> 8) != addr)
				w->bad_values++;
			break;
		case 7 ... 12:
			err = mmn_cpu_write(s->mm, w->cpu, addr, tag(addr, w->cpu));
			break;
		case 13:
			/* A device pin: DMA through the pinned frame, then unpin. */
			err = mmn_get_user_pages(s->mm, addr, MMN_FOLL_WRITE, &pfn, &gen);
			if (!err) {
				v = tag(addr, w->cpu);
				mmn_phys_access(s->sim, pfn, gen, addr, true, &v);
				mmn_unpin_user_page(s->sim, pfn);
			}
			break;
		case 14:
			mmn_flush_tlb_range(s->mm, addr, addr + 4 * PG);
			break;
		case 15:
			if (w->cpu == NR_ACTORS - 1) {
				/* Replace 4 private pages: they come back zeroed. */
				unsigned long chunk = s->priv + ((r >> 8) % (PRIV_PAGES / 4)) * 4 * PG;

				err = mmn_mmap(s->mm, chunk, 4 * PG, RW,
					       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, NULL);
			}
			break;
		}
		if (err == -EFAULT)
			w->faults_seen++; /* never expected: mappings are always there */
		if (err)
			w->errors++;
	}
	return NULL;
}

static void test_concurrent_faults_accesses_and_remaps_stay_coherent(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s;
	struct capture cap;
	struct worker w[NR_ACTORS];
	struct mmn_actor *a[NR_ACTORS];
	struct mmn_stats st;
	long total_ops = 0;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = NR_ACTORS;
	cfg.nr_frames = 4096;
	cfg.nr_huge_pages = 1;
	cfg.tlb_entries = 16; /* small: plenty of evictions and refills */
	s.sim = mmn_sim_create(&cfg);
	assert_non_null(s.sim);
	capture_install(s.sim, &cap);
	s.mm = mmn_mm_create(s.sim);
	assert_int_equal(mmn_mmap(s.mm, 0, PRIV_PAGES * PG, RW, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS,
				  &s.priv), 0);
	assert_int_equal(mmn_mmap(s.mm, 0, SHARED_PAGES * PG, RW,
				  MMN_MAP_SHARED | MMN_MAP_ANONYMOUS, &s.shared), 0);
	assert_int_equal(mmn_mmap(s.mm, 0, MMN_PMD_SIZE, RW,
				  MMN_MAP_SHARED | MMN_MAP_ANONYMOUS | MMN_MAP_HUGETLB, &s.huge), 0);

	for (int i = 0; i < NR_ACTORS; i++) {
		w[i] = (struct worker){ .s = &s, .cpu = i, .rng = 0x9e3779b97f4a7c15ULL * (i + 1) };
		assert_int_equal(mmn_actor_spawn(s.sim, NULL, actor, &w[i], &a[i]), 0);
	}
	for (int i = 0; i < NR_ACTORS; i++) {
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		total_ops += w[i].ops;
		assert_int_equal(w[i].bad_values, 0);
		assert_int_equal(w[i].faults_seen, 0);
		assert_int_equal(w[i].errors, 0);
	}
	mmn_sim_get_stats(s.sim, &st);
	print_message("%ld operations, %lu faults, %lu TLB fills, %lu shootdowns\n", total_ops,
		      st.faults, st.tlb_fills, st.tlb_shootdowns);
	assert_true(total_ops >= NR_ACTORS * 256);
	assert_true(st.tlb_shootdowns > 0);
	assert_int_equal(mmn_check_total(s.sim), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	assert_int_equal(mmn_check_quiescent(s.sim), 0);
	/* Every value left in memory names its own address. */
	for (unsigned long p = 0; p < PRIV_PAGES; p++) {
		uint64_t v;

		assert_int_equal(mmn_cpu_read(s.mm, 0, s.priv + p * PG, &v), 0);
		assert_true(v == 0 || (v >> 8) == s.priv + p * PG);
	}
	mmn_mm_put(s.mm);
	mmn_sim_get_stats(s.sim, &st);
	assert_int_equal(st.frames_free, cfg.nr_frames - 1);
	assert_int_equal(st.huge_pages_free, 1);
	mmn_sim_destroy(s.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_concurrent_faults_accesses_and_remaps_stay_coherent),
	};

	return cmocka_run_group_tests_name("stress_mm", tests, NULL, NULL);
}
