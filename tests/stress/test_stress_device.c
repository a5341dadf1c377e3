// SPDX-License-Identifier: MIT
/*
 * Native stress of the device-memory family: three CPU actors load and
 * store over a private mapping (and a shared one, never migrated) while a
 * fourth migrates 8-page ranges to device-private memory and back
 * (mmn_migrate_vma_to_device()/_to_ram()), makes pages device-exclusive
 * and writes them through the returned pfn (the device's atomic), with a
 * start/end recorder registered. CPU accesses fault device pages back
 * (migrate_to_ram) and restore exclusive entries concurrently.
 *
 * Every stored value encodes its address: a load through a stale
 * translation to the wrong frame, or a migration that lost a page's
 * content, returns a value naming another address. Afterwards: every start
 * had its end, no violation (no lost write, no use-after-free), and the
 * audit finds every count consistent.
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
#define PAGES 64UL
#define MAX_OPS 100000
#define MAX_NS 1000000000L /* 1 s per actor at most */

static int owner_tag;

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_dev_pagemap *pg;
	unsigned long priv, shared;
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
		unsigned long addr = (r % 4 ? s->priv : s->shared) + ((r >> 8) % PAGES) * PG;
		int err;

		if (r % 8 < 5) {
			err = mmn_cpu_read(s->mm, w->cpu, addr, &v);
			if (!err && v && (v >> 8) != addr)
				w->bad_values++;
		} else {
			err = mmn_cpu_write(s->mm, w->cpu, addr, tag(addr, w->cpu));
		}
		if (err)
			w->errors++;
	}
	return NULL;
}

static void *op_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	long deadline = now_ns() + MAX_NS;
	unsigned long pfns[8];

	for (w->ops = 0; w->ops < MAX_OPS / 16 && stress_go_on(w->ops, 16, deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng);
		unsigned long off = ((r >> 8) % (PAGES / 8)) * 8 * PG;
		unsigned long a = s->priv + off;
		int err = 0;

		switch (r % 4) {
		case 0:
		case 1:
			err = mmn_migrate_vma_to_device(s->mm, a, a + 8 * PG, s->pg, pfns);
			break;
		case 2:
			err = mmn_migrate_vma_to_ram(s->mm, a, a + 8 * PG, s->pg, pfns);
			break;
		default: {
			unsigned long pfn, x = a + ((r >> 20) % 8) * PG;
			uint64_t v = tag(x, 7);

			err = mmn_make_device_exclusive(s->mm, x, &owner_tag, &pfn);
			if (!err) {
				/* The device's atomic store, under the page lock. */
				mmn_phys_access(s->sim, pfn, mmn_page_gen(s->sim, pfn), x, true, &v);
				mmn_device_exclusive_release(s->sim, pfn);
			}
			break;
		}
		}
		if (err)
			w->errors++;
	}
	atomic_store(&s->stop, 1);
	return NULL;
}

static void test_device_operations_under_concurrent_access(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s = { .stop = 0 };
	struct capture cap;
	struct recorder rec;
	struct worker w[NR_CPUS_ACTORS + 1];
	struct mmn_actor *a[NR_CPUS_ACTORS + 1];
	unsigned long pfns[PAGES];
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
	assert_int_equal(mmn_devmem_create(s.sim, 48, &owner_tag, NULL, &s.pg), 0);
	assert_int_equal(mmn_mmap(s.mm, 0, PAGES * PG, RW, MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS,
				  &s.priv), 0);
	assert_int_equal(mmn_mmap(s.mm, 0, PAGES * PG, RW, MMN_MAP_SHARED | MMN_MAP_ANONYMOUS,
				  &s.shared), 0);
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
	print_message("%ld operations, %zu notifier callbacks, %lu migrate_to_ram calls\n", total,
		      rec_count(&rec), mmn_devmem_migrate_to_ram_calls(s.pg));
	assert_true(w[NR_CPUS_ACTORS].ops >= 16);
	assert_int_equal(rec_dropped(&rec), 0);
	assert_int_equal(rec_count_kind(&rec, REC_START), rec_count_kind(&rec, REC_END));
	assert_int_equal(mmn_check_total(s.sim), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	/* Everything back to RAM; then the device memory can go. */
	assert_int_equal(mmn_migrate_vma_to_ram(s.mm, s.priv, s.priv + PAGES * PG, s.pg, pfns), 0);
	assert_int_equal(mmn_devmem_nr_free(s.pg), 48);
	assert_int_equal(mmn_devmem_destroy(s.pg), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	assert_int_equal(rec_unregister(&rec), 0);
	rec_fini(&rec);
	mmn_mm_put(s.mm);
	mmn_sim_destroy(s.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_device_operations_under_concurrent_access),
	};

	return cmocka_run_group_tests_name("stress_device", tests, NULL, NULL);
}
