// SPDX-License-Identifier: MIT
/*
 * Native stress of the protection and zap family: three CPU actors load and
 * store over a private and a shared mapping while a fourth runs mprotect
 * (RO / RW / PROT_NONE), NUMA hinting, madvise DONTNEED and FREE, clear_refs
 * soft-dirty, OOM reaping of the private area, and mremap moving a scratch
 * mapping back and forth, with a start/end recorder registered. Bounded in
 * time and in operations.
 *
 * Every stored value encodes its address: a load through a stale
 * translation to the wrong frame returns a value naming another address.
 * Loads may fail with -EACCES (PROT_NONE) and stores with -EACCES (read
 * only) while the operator changes protections; nothing else may fail.
 * Afterwards: every start had its end, no violation, and the audit finds
 * every count consistent.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"
#include "support/stress.h"
#include "support/recorder.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define NR_CPUS_ACTORS 3
#define PRIV_PAGES 64UL
#define SHARED_PAGES 64UL
#define MAX_OPS 200000
#define MAX_NS 1200000000L /* 1.2 s per actor at most */

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long priv, shared, scratch[2];
	atomic_int stop;
};

struct worker {
	struct stress *s;
	int cpu;
	uint64_t rng;
	long ops, bad_values, errors;
};

static void *cpu_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;

	for (w->ops = 0; w->ops < MAX_OPS && !atomic_load(&s->stop); w->ops++) {
		uint64_t r = next_rand(&w->rng), v;
		unsigned long addr = (r & 1 ? s->priv : s->shared) + ((r >> 8) % PRIV_PAGES) * PG;
		int err;

		if (r % 8 < 5) {
			err = mmn_cpu_read(s->mm, w->cpu, addr, &v);
			if (!err && v && (v >> 8) != addr)
				w->bad_values++;
		} else {
			err = mmn_cpu_write(s->mm, w->cpu, addr, tag(addr, w->cpu));
		}
		if (err && err != -EACCES)
			w->errors++;
	}
	return NULL;
}

static void *op_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	long deadline = now_ns() + MAX_NS;
	int where = 0;

	for (w->ops = 0; w->ops < MAX_OPS / 16 && stress_go_on(w->ops, 16, deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng);
		unsigned long base = r & 1 ? s->priv : s->shared;
		unsigned long off = ((r >> 8) % (PRIV_PAGES / 8)) * 8 * PG, n;
		int err = 0;

		switch ((r >> 16) % 9) {
		case 0:
			err = mmn_mprotect(s->mm, base + off, 8 * PG, MMN_PROT_READ);
			break;
		case 1:
			err = mmn_mprotect(s->mm, base + off, 8 * PG, MMN_PROT_NONE);
			break;
		case 2:
		case 3:
			err = mmn_mprotect(s->mm, base, PRIV_PAGES * PG, RW);
			break;
		case 4:
			err = mmn_change_prot_numa(s->mm, s->priv, PRIV_PAGES * PG);
			break;
		case 5:
			err = mmn_madvise(s->mm, base + off, 8 * PG, MMN_MADV_DONTNEED);
			break;
		case 6:
			/* MADV_FREE needs private memory. */
			err = mmn_madvise(s->mm, s->priv + off, 8 * PG, MMN_MADV_FREE);
			break;
		case 7:
			err = mmn_clear_refs_soft_dirty(s->mm);
			break;
		case 8:
			if (r & 0x1000000) {
				err = mmn_oom_reap(s->mm, NULL);
				if (err == -EAGAIN)
					err = 0;
			} else {
				err = mmn_mremap(s->mm, s->scratch[where], 4 * PG, 4 * PG,
						 MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED,
						 s->scratch[!where], &n);
				where = !where;
			}
			break;
		}
		if (err)
			w->errors++;
	}
	atomic_store(&s->stop, 1);
	return NULL;
}

static void test_protection_and_zap_operations_under_concurrent_access(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s = { .stop = 0 };
	struct capture cap;
	struct recorder rec;
	struct worker w[NR_CPUS_ACTORS + 1];
	struct mmn_actor *a[NR_CPUS_ACTORS + 1];
	long total = 0;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = NR_CPUS_ACTORS + 1;
	cfg.nr_frames = 4096;
	cfg.tlb_entries = 16;
	s.sim = mmn_sim_create(&cfg);
	assert_non_null(s.sim);
	capture_install(s.sim, &cap);
	s.mm = mmn_mm_create(s.sim);
	assert_int_equal(mmn_mmap(s.mm, 0, PRIV_PAGES * PG, RW, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS,
				  &s.priv), 0);
	assert_int_equal(mmn_mmap(s.mm, 0, SHARED_PAGES * PG, RW,
				  MMN_MAP_SHARED | MMN_MAP_ANONYMOUS, &s.shared), 0);
	/* Below the top-down mmap area: the FIXED moves replace nothing else. */
	assert_int_equal(mmn_mmap(s.mm, 0x10000000UL, 4 * PG, RW,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_POPULATE |
					  MMN_MAP_FIXED,
				  &s.scratch[0]), 0);
	s.scratch[1] = s.scratch[0] + MMN_PMD_SIZE;
	assert_int_equal(rec_init(&rec, s.sim, REC_OPS_START_END, 1 << 17), 0);
	assert_int_equal(rec_register(&rec, s.mm), 0);

	for (int i = 0; i <= NR_CPUS_ACTORS; i++) {
		w[i] = (struct worker){ .s = &s, .cpu = i, .rng = 0x9e3779b97f4a7c15ULL * (i + 1) };
		assert_int_equal(mmn_actor_spawn(s.sim, NULL, i == NR_CPUS_ACTORS ? op_actor : cpu_actor,
						 &w[i], &a[i]), 0);
	}
	for (int i = 0; i <= NR_CPUS_ACTORS; i++) {
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		total += w[i].ops;
		assert_int_equal(w[i].bad_values, 0);
		assert_int_equal(w[i].errors, 0);
	}
	print_message("%ld operations, %zu notifier callbacks\n", total, rec_count(&rec));
	assert_true(w[NR_CPUS_ACTORS].ops >= 16);
	assert_true(rec_count_kind(&rec, REC_START) > 0);
	assert_int_equal(rec_dropped(&rec), 0);
	assert_int_equal(rec_count_kind(&rec, REC_START), rec_count_kind(&rec, REC_END));
	assert_int_equal(mmn_check_total(s.sim), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	assert_int_equal(rec_unregister(&rec), 0);
	rec_fini(&rec);
	mmn_mm_put(s.mm);
	mmn_sim_destroy(s.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_protection_and_zap_operations_under_concurrent_access),
	};

	return cmocka_run_group_tests_name("stress_protect", tests, NULL, NULL);
}
