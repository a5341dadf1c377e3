// SPDX-License-Identifier: MIT
/*
 * Native stress of the THP family: three CPU actors load and store over a
 * THP-eligible private mapping (4 areas of 2 MiB, MADV_HUGEPAGE) while a
 * fourth splits THPs, collapses areas (after filling them from its own CPU),
 * zaps parts (MADV_DONTNEED: a split inside the zap), changes protections of
 * parts and wholes, forks and drops the child (a THP shared read-only, then
 * split and COWed by the next store), and unmaps and remaps whole areas,
 * with a start/end recorder registered. Bounded in time and operations.
 *
 * Every stored value encodes its address: a load through a stale
 * translation to the wrong frame returns a value naming another address.
 * Loads and stores may fail with -EACCES (read only) and -EFAULT (an area
 * being remapped); nothing else may fail. Afterwards: every start had its
 * end, no violation, the audit and the stale-translation audit are clean.
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
#define AREAS 4UL
#define AREA_PAGES (MMN_PMD_SIZE / PG)
#define BASE 0x40000000UL
#define MAX_OPS 200000
#define MAX_NS 1000000000L /* 1 s at most */

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	atomic_int stop;
};

struct worker {
	struct stress *s;
	int cpu;
	uint64_t rng;
	long ops, bad_values, errors, collapsed, split;
};

static void *cpu_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;

	for (w->ops = 0; w->ops < MAX_OPS && !atomic_load(&s->stop); w->ops++) {
		uint64_t r = next_rand(&w->rng), v;
		unsigned long addr = BASE + ((r >> 8) % (AREAS * AREA_PAGES)) * PG;
		int err;

		if (r % 8 < 5) {
			err = mmn_cpu_read(s->mm, w->cpu, addr, &v);
			if (!err && v && (v >> 8) != addr)
				w->bad_values++;
		} else {
			err = mmn_cpu_write(s->mm, w->cpu, addr, tag(addr, w->cpu));
		}
		if (err && err != -EACCES && err != -EFAULT)
			w->errors++;
	}
	return NULL;
}

static void *op_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	long deadline = now_ns() + MAX_NS;

	for (w->ops = 0; w->ops < MAX_OPS / 64 && stress_go_on(w->ops, 16, deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng);
		unsigned long area = BASE + ((r >> 8) % AREAS) * MMN_PMD_SIZE;
		unsigned long page = area + ((r >> 16) % AREA_PAGES) * PG;
		struct mmn_mm *child;
		unsigned long got;
		int err = 0;

		switch ((r >> 32) % 9) {
		case 0:
			err = mmn_split_huge_pmd(s->mm, page);
			w->split++;
			break;
		case 1:
			/* Fill the area from this actor's CPU, then collapse (-EINVAL:
			 * the area is NOHUGEPAGE now, case 8). */
			for (unsigned long a = area; a < area + MMN_PMD_SIZE; a += PG)
				mmn_cpu_write(s->mm, w->cpu, a, tag(a, w->cpu));
			err = mmn_collapse_huge_page(s->mm, page);
			if (!err)
				w->collapsed++;
			else if (err == -EAGAIN || err == -ENOMEM || err == -EINVAL)
				err = 0;
			break;
		case 2:
			err = mmn_madvise(s->mm, page, 4 * PG, MMN_MADV_DONTNEED);
			break;
		case 3:
			err = mmn_mprotect(s->mm, page, PG, MMN_PROT_READ);
			break;
		case 4:
			err = mmn_mprotect(s->mm, area, MMN_PMD_SIZE, MMN_PROT_READ);
			break;
		case 5:
			err = mmn_mprotect(s->mm, BASE, AREAS * MMN_PMD_SIZE, RW);
			break;
		case 6:
			err = mmn_fork(s->mm, &child);
			if (!err)
				mmn_mm_put(child);
			break;
		case 7:
			err = mmn_munmap(s->mm, area, MMN_PMD_SIZE);
			if (!err)
				err = mmn_mmap(s->mm, area, MMN_PMD_SIZE, RW,
					       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED,
					       &got);
			if (!err)
				err = mmn_madvise(s->mm, area, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE);
			break;
		case 8:
			err = mmn_madvise(s->mm, area, MMN_PMD_SIZE,
					  r & 0x10000 ? MMN_MADV_NOHUGEPAGE : MMN_MADV_HUGEPAGE);
			break;
		}
		if (err)
			w->errors++;
	}
	atomic_store(&s->stop, 1);
	return NULL;
}

static void test_thp_split_collapse_under_concurrent_access(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s = { .stop = 0 };
	struct capture cap;
	struct recorder rec;
	struct worker w[NR_CPUS_ACTORS + 1];
	struct mmn_actor *a[NR_CPUS_ACTORS + 1];
	unsigned long got;
	long total = 0;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = NR_CPUS_ACTORS + 1;
	cfg.nr_frames = 8192;
	cfg.nr_huge_pages = 6;
	cfg.tlb_entries = 16;
	s.sim = mmn_sim_create(&cfg);
	assert_non_null(s.sim);
	capture_install(s.sim, &cap);
	s.mm = mmn_mm_create(s.sim);
	assert_int_equal(mmn_mmap(s.mm, BASE, AREAS * MMN_PMD_SIZE, RW,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(mmn_madvise(s.mm, BASE, AREAS * MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	assert_int_equal(rec_init(&rec, s.sim, REC_OPS_START_END, 1 << 17), 0);
	assert_int_equal(rec_register(&rec, s.mm), 0);

	for (int i = 0; i <= NR_CPUS_ACTORS; i++) {
		w[i] = (struct worker){ .s = &s, .cpu = i, .rng = 0x9e3779b97f4a7c15ULL * (i + 3) };
		assert_int_equal(mmn_actor_spawn(s.sim, NULL, i == NR_CPUS_ACTORS ? op_actor : cpu_actor,
						 &w[i], &a[i]), 0);
	}
	for (int i = 0; i <= NR_CPUS_ACTORS; i++) {
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		total += w[i].ops;
		assert_int_equal(w[i].bad_values, 0);
		assert_int_equal(w[i].errors, 0);
	}
	print_message("%ld operations (%ld splits asked, %ld collapses), %zu notifier callbacks\n",
		      total, w[NR_CPUS_ACTORS].split, w[NR_CPUS_ACTORS].collapsed, rec_count(&rec));
	assert_true(w[NR_CPUS_ACTORS].ops >= 16);
	/* The run really split and collapsed THPs. */
	{
		struct mmn_op_stats sp;

		assert_int_equal(mmn_op_get_stats(s.sim, MMN_OP_THP_SPLIT, &sp), 0);
		print_message("%lu THP splits done\n", sp.calls);
		assert_true(sp.calls > 0);
		assert_true(w[NR_CPUS_ACTORS].collapsed > 0);
	}
	assert_true(rec_count_kind(&rec, REC_START) > 0);
	assert_int_equal(rec_dropped(&rec), 0);
	assert_int_equal(rec_count_kind(&rec, REC_START), rec_count_kind(&rec, REC_END));
	assert_int_equal(mmn_check_quiescent(s.sim), 0);
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
		cmocka_unit_test(test_thp_split_collapse_under_concurrent_access),
	};

	return cmocka_run_group_tests_name("stress_thp", tests, NULL, NULL);
}
