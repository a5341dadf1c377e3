// SPDX-License-Identifier: MIT
/*
 * Native stress of hugetlb PMD sharing: a parent maps 1 GiB of shared
 * hugetlb memory at a 1 GiB-aligned address and forks, so both mms share
 * one PMD table. Two CPU actors load and store tagged values in the parent
 * and two in the child while a fifth unshares and re-shares: MADV_DONTNEED
 * of a huge page (the zap unshares the whole 1 GiB of that mm, the next
 * fault shares again), migration and reclaim of a huge page (the rmap path
 * unshares), and fork of a grandchild that shares too, munmaps a huge page
 * (unshare), remaps it with a new object, touches it and exits. A
 * start/end listener is registered on the parent.
 *
 * Every stored value names its address, so a load reaching the wrong page
 * fails the test. Afterwards: no violation, a clean audit and a clean
 * quiescent (stale-translation) audit.
 */
#include <errno.h>
#include <stdatomic.h>
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
#define HP MMN_PMD_SIZE
#define GB MMN_PUD_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define SHUGE (MMN_MAP_SHARED | MMN_MAP_ANONYMOUS | MMN_MAP_HUGETLB | MMN_MAP_FIXED)
#define G 0x7e0000000000UL
#define NR_HP 4UL          /* huge pages the actors touch */
#define NR_CPUS_ACT 4
#define MAX_OPS 2000000
#define MAX_NS 400000000L /* 0.4 s per actor at most */

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *parent, *child;
	_Atomic bool stop;    /* the op actor is done */
};

struct worker {
	struct stress *s;
	struct mmn_mm *mm;
	int cpu;
	uint64_t rng;
	long ops, bad_values, errors, dontneeds, migrations, reclaims, grandchildren;
};

static bool tag_ok(uint64_t v, unsigned long addr)
{
	return v == 0 || (v >> 8) == addr;
}

static unsigned long pick(uint64_t r)
{
	return G + ((r >> 8) % NR_HP) * HP + ((r >> 20) % 16) * PG;
}

static void *cpu_actor(void *arg)
{
	struct worker *w = arg;
	long deadline = now_ns() + MAX_NS;

	for (w->ops = 0; w->ops < MAX_OPS && (w->ops & 255 || (now_ns() < deadline &&
							     !atomic_load(&w->s->stop))); w->ops++) {
		uint64_t r = next_rand(&w->rng), v;
		unsigned long addr = pick(r);
		int err;

		if (r % 8 < 5) {
			err = mmn_cpu_read(w->mm, w->cpu, addr, &v);
			if (!err && !tag_ok(v, addr))
				w->bad_values++;
		} else {
			err = mmn_cpu_write(w->mm, w->cpu, addr, ((uint64_t)addr << 8) | (w->cpu + 1));
		}
		if (err)
			w->errors++;
	}
	return NULL;
}

static void grandchild(struct worker *w)
{
	struct mmn_mm *gc;
	uint64_t v;

	if (mmn_fork(w->s->child, &gc)) {
		w->errors++;
		return;
	}
	w->grandchildren++;
	for (int i = 0; i < 4; i++) {
		unsigned long a = pick(next_rand(&w->rng));

		if (mmn_cpu_read(gc, w->cpu, a, &v) || !tag_ok(v, a))
			w->bad_values++;
	}
	/* munmap a huge page (unshares the grandchild's 1 GiB), remap it
	 * with a new object, touch it. */
	if (mmn_munmap(gc, G + HP, HP) || mmn_mmap(gc, G + HP, HP, RW, SHUGE, NULL) ||
	    mmn_cpu_write(gc, w->cpu, G + HP, ((uint64_t)(G + HP) << 8) | 9))
		w->errors++;
	if (mmn_cpu_read(gc, w->cpu, G, &v) || !tag_ok(v, G))
		w->bad_values++;
	mmn_mm_put(gc);
}

static void *op_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	long deadline = now_ns() + MAX_NS;

	for (w->ops = 0; w->ops < 5000 && stress_go_on(w->ops, 64, deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng);
		struct mmn_mm *mm = (r & 8) ? s->child : s->parent;
		unsigned long hp = G + ((r >> 8) % NR_HP) * HP;
		int err = 0;

		switch (w->ops % 4) { /* each kind in turn */
		case 0:
			err = mmn_madvise(mm, hp, HP, MMN_MADV_DONTNEED);
			w->dontneeds += !err;
			break;
		case 1:
			err = mmn_migrate_pages(mm, hp, HP);
			w->migrations += !err;
			break;
		case 2:
			err = mmn_try_to_unmap(mm, hp, HP);
			w->reclaims += !err;
			break;
		default:
			grandchild(w);
			break;
		}
		if (err)
			w->errors++;
		/* Refault in both mms: the faults share the table again. */
		for (int m = 0; m < 2; m++) {
			unsigned long a = pick(next_rand(&w->rng));
			uint64_t v;

			if (mmn_cpu_read(m ? s->child : s->parent, w->cpu, a, &v) || !tag_ok(v, a))
				w->bad_values++;
		}
	}
	atomic_store(&s->stop, true);
	return NULL;
}

static void test_cpus_race_pmd_unsharing_coherently(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s;
	struct capture cap;
	struct recorder rec;
	struct worker w[NR_CPUS_ACT + 1];
	struct mmn_actor *a[NR_CPUS_ACT + 1];
	struct mmn_op_stats st;
	unsigned long got;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = NR_CPUS_ACT + 1;
	cfg.nr_frames = 4096;
	cfg.nr_huge_pages = 16;
	cfg.tlb_entries = 16;
	s.sim = mmn_sim_create(&cfg);
	assert_non_null(s.sim);
	capture_install(s.sim, &cap);
	atomic_init(&s.stop, false);
	s.parent = mmn_mm_create(s.sim);
	assert_int_equal(mmn_mmap(s.parent, G, GB, RW, SHUGE, &got), 0);
	assert_int_equal(got, G);
	for (unsigned long i = 0; i < NR_HP; i++)
		assert_int_equal(mmn_cpu_write(s.parent, 0, G + i * HP, ((G + i * HP) << 8) | 1), 0);
	assert_int_equal(mmn_fork(s.parent, &s.child), 0);
	assert_int_equal(rec_init(&rec, s.sim, REC_OPS_START_END, 1024), 0);
	assert_int_equal(rec_register(&rec, s.parent), 0);

	for (int i = 0; i <= NR_CPUS_ACT; i++) {
		w[i] = (struct worker){ .s = &s, .cpu = i, .mm = (i & 1) ? s.child : s.parent,
					.rng = 0x9e3779b97f4a7c15ULL * (i + 3) };
		assert_int_equal(mmn_actor_spawn(s.sim, NULL, i < NR_CPUS_ACT ? cpu_actor : op_actor,
						 &w[i], &a[i]), 0);
	}
	for (int i = 0; i <= NR_CPUS_ACT; i++) {
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		assert_int_equal(w[i].bad_values, 0);
		assert_int_equal(w[i].errors, 0);
	}
	assert_int_equal(mmn_op_get_stats(s.sim, MMN_OP_MIGRATE, &st), 0);
	print_message("%ld dontneeds, %ld migrations, %ld reclaims, %ld grandchildren, "
		      "%lu migrate pages changed, %zu notifier events\n",
		      w[NR_CPUS_ACT].dontneeds, w[NR_CPUS_ACT].migrations, w[NR_CPUS_ACT].reclaims,
		      w[NR_CPUS_ACT].grandchildren, (unsigned long)st.pages_changed, rec_count(&rec));
	assert_true(w[NR_CPUS_ACT].dontneeds > 0);
	assert_true(w[NR_CPUS_ACT].migrations > 0);
	assert_true(w[NR_CPUS_ACT].reclaims > 0);
	assert_true(w[NR_CPUS_ACT].grandchildren > 0);
	assert_int_equal(mmn_check_total(s.sim), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	assert_int_equal(mmn_check_quiescent(s.sim), 0);
	for (unsigned long i = 0; i < NR_HP; i++) {
		uint64_t v;

		assert_int_equal(mmn_cpu_read(s.child, 0, G + i * HP, &v), 0);
		assert_true(tag_ok(v, G + i * HP));
	}
	assert_int_equal(rec_unregister(&rec), 0);
	rec_fini(&rec);
	mmn_mm_put(s.child);
	mmn_mm_put(s.parent);
	assert_int_equal(mmn_audit(s.sim), 0);
	mmn_sim_destroy(s.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpus_race_pmd_unsharing_coherently),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
