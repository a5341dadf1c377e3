// SPDX-License-Identifier: MIT
/*
 * Native stress of the paths of lib/ops/filemap.c, truncate.c, aging.c and
 * NUMA migration: three CPU actors on two NUMA nodes load and store tagged
 * values through two mms sharing one file and through a private mapping,
 * while an operator actor writes the file back, punches holes, truncates and
 * regrows it, ages and shrinks pages, and marks the private mapping for NUMA
 * hinting (the CPUs' faults then migrate misplaced pages). A start/end
 * listener is registered on both mms. Bounded in time.
 *
 * Afterwards: every load saw a value naming its address (or 0: a punched or
 * truncated page), accesses failed only with -EFAULT past i_size, no
 * violation, a clean audit, and after a last writeback every cached page's
 * content is on disk.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sched.h>
#include <time.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"
#include "support/recorder.h"
#include "support/stress.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define NR_CPUS_ACT 3
#define FILE_PAGES 32UL
#define PRIV_PAGES 32UL
#define MAX_NS 800000000L /* 0.8 s per actor at most */

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm[2];
	struct mmn_file *file;
	unsigned long fbase[2], priv;
	_Atomic bool ops_done;          /* the operator actor has finished */
};

struct worker {
	struct stress *s;
	int cpu;
	uint64_t rng;
	int last_err;
	long ops, bad_values, errors, sigbus, writebacks, punches, truncates, agings, numa;
};

/* Values name the page's file offset (or the private address), so both mms
 * store and expect the same tag for one file page. */
static bool tag_ok(uint64_t v, unsigned long key)
{
	return v == 0 || (v >> 8) == key;
}

static void *cpu_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;

	/* Until the operator is done, so that every operation meets accesses. */
	for (w->ops = 0; !atomic_load(&s->ops_done) || w->ops < 1024; w->ops++) {
		uint64_t r = next_rand(&w->rng), v;
		unsigned long page = (r >> 8) % FILE_PAGES, key, addr;
		struct mmn_mm *mm = s->mm[(r >> 4) & 1];
		int err;

		if (r & 2) {
			addr = s->fbase[mm == s->mm[1]] + page * PG;
			key = 0x1000 + page;
		} else {
			mm = s->mm[0];
			addr = s->priv + page * PG;
			key = addr;
		}
		if (r % 8 < 5) {
			err = mmn_cpu_read(mm, w->cpu, addr, &v);
			if (!err && !tag_ok(v, key))
				w->bad_values++;
		} else {
			err = mmn_cpu_write(mm, w->cpu, addr, (key << 8) | (uint64_t)(w->cpu + 1));
		}
		if (err == -EFAULT && (r & 2))
			w->sigbus++; /* past i_size during a truncate */
		else if (err) {
			w->errors++;
			w->last_err = err;
		}
	}
	return NULL;
}

static void op_one(struct worker *w, uint64_t r)
{
	struct stress *s = w->s;
	unsigned long page = (r >> 8) % FILE_PAGES;
	int err = 0;

	switch (r % 6) {
	case 0:
		w->writebacks += mmn_file_writeback(s->file, 0, 0) >= 0;
		break;
	case 1:
		err = mmn_file_punch_hole(s->file, page * PG, PG);
		w->punches += !err;
		break;
	case 2:
		err = mmn_file_truncate(s->file, page * PG);
		if (!err)
			err = mmn_file_truncate(s->file, FILE_PAGES * PG);
		w->truncates += !err;
		break;
	case 3:
		err = mmn_change_prot_numa(s->mm[0], s->priv, PRIV_PAGES * PG);
		w->numa += !err;
		break;
	case 4:
		err = mmn_shrink_range(s->mm[0], s->priv + (page & ~3UL) * PG, 4 * PG);
		w->agings += !err;
		break;
	default: {
		unsigned long pfn;

		/* page_idle on a page kept allocated by a pin (the API's
		 * contract), then DAMON on the other mm's mapping of it. */
		if (!mmn_get_user_pages(s->mm[1], s->fbase[1] + page * PG, 0, &pfn, NULL)) {
			mmn_page_idle_set(s->sim, pfn);
			mmn_page_idle_get(s->sim, pfn);
			mmn_unpin_user_page(s->sim, pfn);
		}
		mmn_damon_mkold(s->mm[0], s->fbase[0] + page * PG);
		w->agings++;
		break;
	}
	}
	if (err) {
		w->errors++;
		w->last_err = err * 100 - (int)(r % 6);
	}
}

static void *op_actor(void *arg)
{
	struct worker *w = arg;
	long deadline = now_ns() + MAX_NS;

	for (w->ops = 0; w->ops < 20000 && stress_go_on(w->ops, 256, deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng);

		op_one(w, r);
		if (r % 6 == 3)
			sched_yield(); /* let the CPUs fault on the NUMA hints */
	}
	atomic_store(&w->s->ops_done, true);
	return NULL;
}

static void check_disk_matches_cache(struct stress *s)
{
	assert_true(mmn_file_writeback(s->file, 0, 0) >= 0);
	for (unsigned long p = 0; p < FILE_PAGES; p++) {
		uint64_t d, v;

		assert_int_equal(mmn_file_read_disk(s->file, p * PG, &d), 0);
		assert_int_equal(mmn_cpu_read(s->mm[1], 0, s->fbase[1] + p * PG, &v), 0);
		assert_int_equal(d, v);
		assert_true(tag_ok(v, 0x1000 + p));
	}
}

static void test_cpus_race_writeback_truncate_aging_and_numa(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s;
	struct capture cap;
	struct recorder rec[2];
	struct worker w[NR_CPUS_ACT + 1];
	struct mmn_actor *a[NR_CPUS_ACT + 1];
	long sigbus = 0;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = NR_CPUS_ACT + 1;
	cfg.nr_frames = 4096;
	cfg.tlb_entries = 16;
	s.sim = mmn_sim_create(&cfg);
	atomic_init(&s.ops_done, false);
	assert_non_null(s.sim);
	capture_install(s.sim, &cap);
	assert_int_equal(mmn_numa_set_nodes(s.sim, 2), 0);
	s.file = mmn_file_create(s.sim, FILE_PAGES * PG);
	assert_non_null(s.file);
	for (int i = 0; i < 2; i++) {
		s.mm[i] = mmn_mm_create(s.sim);
		assert_non_null(s.mm[i]);
		assert_int_equal(mmn_mmap_file(s.mm[i], 0, FILE_PAGES * PG, RW, MMN_MAP_SHARED,
					       s.file, 0, &s.fbase[i]),
				 0);
		assert_int_equal(rec_init(&rec[i], s.sim, REC_OPS_START_END, 1024), 0);
		assert_int_equal(rec_register(&rec[i], s.mm[i]), 0);
	}
	assert_int_equal(mmn_mmap(s.mm[0], 0, PRIV_PAGES * PG, RW,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &s.priv), 0);

	for (int i = 0; i <= NR_CPUS_ACT; i++) {
		w[i] = (struct worker){ .s = &s, .cpu = i, .rng = 0x9e3779b97f4a7c15ULL * (i + 11) };
		assert_int_equal(mmn_actor_spawn(s.sim, NULL, i < NR_CPUS_ACT ? cpu_actor : op_actor,
						 &w[i], &a[i]), 0);
	}
	for (int i = 0; i <= NR_CPUS_ACT; i++) {
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		if (w[i].errors || w[i].bad_values)
			print_message("actor %d: %ld errors (last %d), %ld bad values\n", i,
				      w[i].errors, w[i].last_err, w[i].bad_values);
		assert_int_equal(w[i].bad_values, 0);
		assert_int_equal(w[i].errors, 0);
		sigbus += w[i].sigbus;
	}
	print_message("%ld writebacks, %ld punches, %ld truncates, %ld agings, %ld numa scans, "
		      "%ld SIGBUS\n",
		      w[NR_CPUS_ACT].writebacks, w[NR_CPUS_ACT].punches, w[NR_CPUS_ACT].truncates,
		      w[NR_CPUS_ACT].agings, w[NR_CPUS_ACT].numa, sigbus);
	assert_true(w[NR_CPUS_ACT].writebacks > 0);
	assert_true(w[NR_CPUS_ACT].truncates > 0);
	{
		struct mmn_op_stats mig;

		assert_int_equal(mmn_op_get_stats(s.sim, MMN_OP_MIGRATE, &mig), 0);
		struct mmn_stats ss;

		mmn_sim_get_stats(s.sim, &ss);
		/* How many depends on the host's scheduling (two cores, four
		 * threads): reported, not asserted (tests/ops/test_numa.c does). */
		print_message("%lu NUMA migrations, %lu NUMA faults\n", mig.calls, ss.faults_numa);
	}
	assert_int_equal(mmn_check_total(s.sim), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	check_disk_matches_cache(&s);
	for (int i = 0; i < 2; i++) {
		rec_unregister(&rec[i]);
		rec_fini(&rec[i]);
		mmn_mm_put(s.mm[i]);
	}
	mmn_file_put(s.file);
	assert_int_equal(mmn_check_total(s.sim), 0);
	mmn_sim_destroy(s.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpus_race_writeback_truncate_aging_and_numa),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
