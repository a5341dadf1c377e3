// SPDX-License-Identifier: MIT
/*
 * Randomized native stress over every operation (issue "Core-mm
 * operations"): three CPU actors load, store and pin over private and
 * shared mappings while an operator actor runs a random mix of mprotect,
 * madvise (DONTNEED, FREE), NUMA hinting, soft-dirty clearing, reclaim,
 * migration, KSM merge, mremap there and back, fork (the child writes and
 * exits), MAP_FIXED replacement and munmap+mmap, with a start/end listener
 * and a secondary-TLB listener registered, under the latest profile.
 * Bounded in time and operations.
 *
 * Checks afterwards: every value loaded was 0, the KSM value, or a value
 * naming its own address (a store landing in the wrong frame would name
 * another); every start had its end; no violation of any kind; the
 * accounting audit and the stale-translation audit are clean.
 * Racing accesses may legitimately fail with -EACCES (inside an mprotect
 * window) or -EFAULT (inside a munmap/mremap window); they are counted.
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

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define PRIV (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define SHARED (MMN_MAP_SHARED | MMN_MAP_ANONYMOUS)
#define NR_CPUS 3
#define PRIV_PAGES 64UL
#define SHARED_PAGES 32UL
#define MAX_NS 1500000000L
#define KSM_VALUE 0x6b736dULL

struct stress {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long priv, shared, spare;
	_Atomic int stop;
};

/* A start/end listener that checks pairing and counts. */
struct pairing {
	struct mmn_notifier mn;
	_Atomic long starts, ends;
};

static int pair_start(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	(void)r;
	atomic_fetch_add(&((struct pairing *)sub)->starts, 1);
	return 0;
}

static void pair_end(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	(void)r;
	atomic_fetch_add(&((struct pairing *)sub)->ends, 1);
}

static const struct mmn_notifier_ops pairing_ops = {
	.invalidate_range_start = pair_start,
	.invalidate_range_end = pair_end,
};

/* A secondary-TLB listener that only counts flushes. */
struct sva {
	struct mmn_notifier mn;
	_Atomic long flushes;
};

static void sva_flush(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long s,
		      unsigned long e)
{
	(void)mm;
	(void)s;
	(void)e;
	atomic_fetch_add(&((struct sva *)sub)->flushes, 1);
}

static const struct mmn_notifier_ops sva_ops = { .arch_invalidate_secondary_tlbs = sva_flush };

struct worker {
	struct stress *s;
	int cpu;
	uint64_t rng;
	long ops, bad_values, eacces, efault, other_errors;
	long op_calls[16];
};

static void count_err(struct worker *w, int err)
{
	if (err == -EACCES)
		w->eacces++;
	else if (err == -EFAULT)
		w->efault++;
	else if (err)
		w->other_errors++;
}

static void *cpu_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;

	while (!atomic_load(&s->stop)) {
		uint64_t r = next_rand(&w->rng), v;
		bool shared = r & 1;
		unsigned long addr = shared ? s->shared + ((r >> 8) % SHARED_PAGES) * PG
					    : s->priv + ((r >> 8) % PRIV_PAGES) * PG;
		int err;

		if ((r >> 4) % 3) {
			err = mmn_cpu_read(s->mm, w->cpu, addr, &v);
			if (!err && v && v != KSM_VALUE && (v >> 8) != addr)
				w->bad_values++;
		} else {
			err = mmn_cpu_write(s->mm, w->cpu, addr, (addr << 8) | (uint64_t)(w->cpu + 1));
		}
		count_err(w, err);
		w->ops++;
	}
	return NULL;
}

static void *child_body(struct mmn_mm *child, unsigned long base, uint64_t *rng)
{
	for (int i = 0; i < 8; i++) {
		unsigned long addr = base + (next_rand(rng) % PRIV_PAGES) * PG;

		mmn_cpu_write(child, 0, addr, (addr << 8) | 9);
	}
	mmn_mm_put(child);
	return NULL;
}

static void *operator_actor(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	long deadline = now_ns() + MAX_NS;

	for (w->ops = 0; w->ops < 4000 && stress_go_on(w->ops, 256, deadline); w->ops++) {
		uint64_t r = next_rand(&w->rng);
		unsigned long first = (r >> 8) % (PRIV_PAGES - 8);
		unsigned long a = s->priv + first * PG, len = (1 + (r >> 16) % 8) * PG;
		unsigned int op = (unsigned int)(r % 13);
		struct mmn_mm *child;
		unsigned long skipped, out;
		int err = 0;

		switch (op) {
		case 0:
			err = mmn_mprotect(s->mm, a, len, MMN_PROT_READ);
			if (!err)
				err = mmn_mprotect(s->mm, a, len, RW);
			break;
		case 1:
			err = mmn_madvise(s->mm, a, len, MMN_MADV_DONTNEED);
			break;
		case 2:
			err = mmn_madvise(s->mm, a, len, MMN_MADV_FREE);
			break;
		case 3:
			err = mmn_change_prot_numa(s->mm, a, len);
			break;
		case 4:
			err = mmn_clear_refs_soft_dirty(s->mm);
			break;
		case 5:
			err = mmn_try_to_unmap(s->mm, (r & 0x100) ? a : s->shared, len);
			break;
		case 6:
			err = mmn_migrate_pages(s->mm, (r & 0x100) ? a : s->shared, len);
			break;
		case 7:
			mmn_cpu_write(s->mm, w->cpu, a, KSM_VALUE);
			mmn_cpu_write(s->mm, w->cpu, a + PG, KSM_VALUE);
			err = mmn_ksm_merge(s->mm, a, s->mm, a + PG);
			if (err == -EAGAIN || err == -EBUSY || err == -ENOMEM)
				err = 0; /* contents changed meanwhile, pinned, or not mapped */
			break;
		case 8:
			/* Move a range to the spare area and back (MAYMOVE|FIXED). */
			err = mmn_mremap(s->mm, a, len, len, MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED,
					 s->spare, &out);
			if (!err)
				err = mmn_mremap(s->mm, s->spare, len, len,
						 MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED, a, &out);
			break;
		case 9:
			err = mmn_fork(s->mm, &child);
			if (!err)
				child_body(child, s->priv, &w->rng);
			break;
		case 10:
			err = mmn_mmap(s->mm, a, len, RW, PRIV | MMN_MAP_FIXED, &out);
			break;
		case 11:
			err = mmn_munmap(s->mm, a, len);
			if (!err)
				err = mmn_mmap(s->mm, a, len, RW, PRIV | MMN_MAP_FIXED, &out);
			break;
		case 12:
			err = mmn_oom_reap(s->mm, &skipped);
			if (err == -EAGAIN)
				err = 0; /* mmap_lock contended: the reaper retries later */
			break;
		}
		w->op_calls[op]++;
		count_err(w, err);
	}
	atomic_store(&s->stop, 1);
	return NULL;
}

static void test_random_mix_of_every_operation_stays_coherent(void **state)
{
	struct mmn_sim_config cfg;
	struct stress s = { 0 };
	struct capture cap;
	struct pairing pairing = { .mn.ops = &pairing_ops };
	struct sva sva = { .mn.ops = &sva_ops };
	struct worker w[NR_CPUS + 1];
	struct mmn_actor *a[NR_CPUS + 1];
	long cpu_ops = 0, eacces = 0, efault = 0;

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = NR_CPUS + 1;
	cfg.nr_frames = 8192;
	cfg.tlb_entries = 16;
	s.sim = mmn_sim_create(&cfg);
	assert_non_null(s.sim);
	capture_install(s.sim, &cap);
	s.mm = mmn_mm_create(s.sim);
	assert_int_equal(mmn_mmap(s.mm, 0, PRIV_PAGES * PG, RW, PRIV, &s.priv), 0);
	assert_int_equal(mmn_mmap(s.mm, 0, SHARED_PAGES * PG, RW, SHARED, &s.shared), 0);
	/* A reserved spare area for mremap round trips, kept unmapped. */
	assert_int_equal(mmn_mmap(s.mm, 0, 8 * PG, RW, PRIV, &s.spare), 0);
	assert_int_equal(mmn_munmap(s.mm, s.spare, 8 * PG), 0);
	assert_int_equal(mmn_notifier_register(&pairing.mn, s.mm), 0);
	assert_int_equal(mmn_notifier_register(&sva.mn, s.mm), 0);

	for (int i = 0; i <= NR_CPUS; i++) {
		w[i] = (struct worker){ .s = &s, .cpu = i, .rng = 0x2545f4914f6cdd1dULL * (i + 3) };
		assert_int_equal(mmn_actor_spawn(s.sim, i == NR_CPUS ? "operator" : NULL,
						 i == NR_CPUS ? operator_actor : cpu_actor, &w[i],
						 &a[i]),
				 0);
	}
	for (int i = 0; i <= NR_CPUS; i++) {
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
		assert_int_equal(w[i].bad_values, 0);
		assert_int_equal(w[i].other_errors, 0);
		if (i < NR_CPUS)
			cpu_ops += w[i].ops;
		eacces += w[i].eacces;
		efault += w[i].efault;
	}
	print_message("operator: %ld operations; CPUs: %ld accesses (%ld -EACCES, %ld -EFAULT); "
		      "%ld start/end pairs, %ld secondary flushes\n",
		      w[NR_CPUS].ops, cpu_ops, eacces, efault, (long)atomic_load(&pairing.starts),
		      (long)atomic_load(&sva.flushes));
	for (int op = 0; op < 13; op++)
		assert_true(w[NR_CPUS].op_calls[op] > 0);
	assert_int_equal(atomic_load(&pairing.starts), atomic_load(&pairing.ends));
	assert_true(atomic_load(&pairing.starts) > 100);
	assert_true(atomic_load(&sva.flushes) > 100);
	assert_int_equal(mmn_check_total(s.sim), 0);
	assert_int_equal(mmn_audit(s.sim), 0);
	assert_int_equal(mmn_check_quiescent(s.sim), 0);
	assert_int_equal(mmn_notifier_unregister(&pairing.mn, s.mm), 0);
	assert_int_equal(mmn_notifier_unregister(&sva.mn, s.mm), 0);
	mmn_mm_put(s.mm);
	assert_int_equal(mmn_audit(s.sim), 0);
	mmn_sim_destroy(s.sim);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_random_mix_of_every_operation_stays_coherent),
	};

	return cmocka_run_group_tests_name("stress_ops", tests, NULL, NULL);
}
