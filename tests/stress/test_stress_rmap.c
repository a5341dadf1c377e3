// SPDX-License-Identifier: MIT
/*
 * Native stress of the rmap family: three CPU actors load and store tagged
 * values over a private and a shared mapping while a fourth keeps forking
 * (and checking the child's snapshot), reclaiming and migrating chunks of
 * both mappings, with a start/end listener registered. Bounded in time.
 *
 * Every stored value names its address, so a load that reaches the wrong
 * frame (a page freed too early, a swap-in or migration that lost the
 * content) fails the test even if no check of the model fired. Afterwards:
 * no violation (no use-after-free, no lost write) and a clean audit.
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
#include "support/recorder.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define NR_CPUS_ACT 3
#define PRIV_PAGES 64UL
#define SHARED_PAGES 32UL
#define MAX_OPS 200000
#define MAX_NS 800000000L /* 0.8 s per actor at most */

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long priv, shared;
};

struct worker {
	struct stress *s;
	int cpu;
	uint64_t rng;
	long ops, bad_values, errors, forks, reclaims, migrations;
};

static bool tag_ok(uint64_t v, unsigned long addr)
{
	return v == 0 || (v >> 8) == addr;
}

static unsigned long pick(struct stress *s, uint64_t r)
{
	if (r & 1)
		return s->priv + ((r >> 8) % PRIV_PAGES) * PG;
	return s->shared + ((r >> 8) % SHARED_PAGES) * PG;
}

static void *cpu_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	long deadline = now_ns() + MAX_NS;

	for (w->ops = 0; w->ops < MAX_OPS && (w->ops & 255 || now_ns() < deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng), v;
		unsigned long addr = pick(s, r);
		int err;

		if (r % 8 < 5) {
			err = mmn_cpu_read(s->mm, w->cpu, addr, &v);
			if (!err && !tag_ok(v, addr))
				w->bad_values++;
		} else {
			err = mmn_cpu_write(s->mm, w->cpu, addr, ((uint64_t)addr << 8) | (w->cpu + 1));
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

	for (w->ops = 0; w->ops < 20000 && stress_go_on(w->ops, 64, deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng);
		unsigned long chunk = (r & 16) ? s->priv + ((r >> 8) % (PRIV_PAGES / 4)) * 4 * PG
					       : s->shared + ((r >> 8) % (SHARED_PAGES / 4)) * 4 * PG;
		struct mmn_mm *child;
		int err = 0;

		switch (r % 3) {
		case 0:
			err = mmn_fork(s->mm, &child);
			if (!err) {
				w->forks++;
				for (unsigned long p = 0; p < 8; p++) {
					unsigned long a = pick(s, next_rand(&w->rng));
					uint64_t v;

					if (mmn_cpu_read(child, w->cpu, a, &v) || !tag_ok(v, a))
						w->bad_values++;
				}
				/* The child writes its own copy; the parent must not see it. */
				mmn_cpu_write(child, w->cpu, s->priv, 0xdead00);
				mmn_mm_put(child);
			}
			break;
		case 1:
			err = mmn_try_to_unmap(s->mm, chunk, 4 * PG);
			w->reclaims += !err;
			break;
		default:
			err = mmn_migrate_pages(s->mm, chunk, 4 * PG);
			w->migrations += !err;
			break;
		}
		if (err)
			w->errors++;
	}
	return NULL;
}

static void test_cpus_race_fork_reclaim_and_migration_coherently(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s;
	struct capture cap;
	struct recorder rec;
	struct worker w[NR_CPUS_ACT + 1];
	struct mmn_actor *a[NR_CPUS_ACT + 1];

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = NR_CPUS_ACT + 1;
	cfg.nr_frames = 4096;
	cfg.tlb_entries = 16;
	s.sim = mmn_sim_create(&cfg);
	assert_non_null(s.sim);
	capture_install(s.sim, &cap);
	s.mm = mmn_mm_create(s.sim);
	assert_int_equal(mmn_mmap(s.mm, 0, PRIV_PAGES * PG, RW,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &s.priv), 0);
	assert_int_equal(mmn_mmap(s.mm, 0, SHARED_PAGES * PG, RW,
				  MMN_MAP_SHARED | MMN_MAP_ANONYMOUS, &s.shared), 0);
	assert_int_equal(rec_init(&rec, s.sim, REC_OPS_START_END, 1024), 0);
	assert_int_equal(rec_register(&rec, s.mm), 0);

	for (int i = 0; i <= NR_CPUS_ACT; i++) {
		w[i] = (struct worker){ .s = &s, .cpu = i, .rng = 0x9e3779b97f4a7c15ULL * (i + 7) };
		assert_int_equal(mmn_actor_spawn(s.sim, NULL, i < NR_CPUS_ACT ? cpu_actor : op_actor,
						 &w[i], &a[i]), 0);
	}
	for (int i = 0; i <= NR_CPUS_ACT; i++) {
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		assert_int_equal(w[i].bad_values, 0);
		assert_int_equal(w[i].errors, 0);
	}
	print_message("%ld forks, %ld reclaims, %ld migrations, %zu notifier events\n",
		      w[NR_CPUS_ACT].forks, w[NR_CPUS_ACT].reclaims, w[NR_CPUS_ACT].migrations,
		      rec_count(&rec));
	assert_true(w[NR_CPUS_ACT].forks > 0);
	assert_true(w[NR_CPUS_ACT].reclaims > 0);
	assert_true(w[NR_CPUS_ACT].migrations > 0);
	assert_int_equal(mmn_check_total(s.sim), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	for (unsigned long p = 0; p < PRIV_PAGES; p++) {
		uint64_t v;

		assert_int_equal(mmn_cpu_read(s.mm, 0, s.priv + p * PG, &v), 0);
		assert_true(tag_ok(v, s.priv + p * PG));
	}
	assert_int_equal(rec_unregister(&rec), 0);
	rec_fini(&rec);
	mmn_mm_put(s.mm);
	mmn_sim_destroy(s.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpus_race_fork_reclaim_and_migration_coherently),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
