// SPDX-License-Identifier: MIT
/*
 * bench_ops: what does an mmnsim operation cost, next to the host kernel's
 * own system call on the same number of pages?
 *
 * For 1, 16 and 512 pages, interleaved repeat by repeat in one run:
 *
 *   mprotect   toggle read-only <-> read-write of populated memory
 *   dontneed   madvise(MADV_DONTNEED) of populated memory (population untimed)
 *   mmap_touch mmap + a store to every page + munmap
 *
 * each measured on the host (real syscalls on anonymous private memory,
 * MADV_NOHUGEPAGE) and in mmnsim with 0 and with 3 no-op listeners
 * (invalidate_range_start/end that return at once). Medians of the repeats,
 * nanoseconds per operation. Lockdep is off unless -l is given: the target
 * compares the model's bare cost with the kernel's. Beside the model's real
 * time, its modelled time per operation: the simulation's clock
 * (mmn_clock_now(), clock.h) advanced over the timed part, per operation;
 * what the cost model charges (TLB flushes, IPIs), not a prediction of the
 * host syscall's time.
 *
 * Target (issue "Core-mm operations"): with 3 listeners, at most 1x the
 * host's syscall. Exits non-zero only if an operation fails or the model
 * reports a violation, never for a missed target.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <mmnsim/mmnsim.h>

#include "harness.h"

#define PROG "bench_ops"
#define NR_LISTENERS 3

enum kind { K_MPROTECT, K_DONTNEED, K_MMAP_TOUCH, K_NR };
enum side { S_HOST, S_MMN0, S_MMN3, S_NR };

static const char *const kind_names[K_NR] = { "mprotect", "dontneed", "mmap_touch" };
static const unsigned long sizes[] = { 1, 16, 512 };
#define NR_SIZES (sizeof(sizes) / sizeof(sizes[0]))

struct model {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_notifier subs[NR_LISTENERS];
	unsigned long base;
};

static int noop_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
	return 0;
}

static void noop_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
}

static const struct mmn_notifier_ops noop_ops = {
	.invalidate_range_start = noop_start,
	.invalidate_range_end = noop_end,
};

static bool failed;

static void check(int err, const char *what)
{
	if (err && !failed) {
		fprintf(stderr, "%s: %s failed: %d\n", PROG, what, err);
		failed = true;
	}
}

static void model_init(struct model *m, int listeners, bool lockdep)
{
	struct mmn_sim_config cfg;

	memset(m, 0, sizeof(*m));
	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 4096;
	cfg.nr_huge_pages = 0;
	cfg.nr_cpus = 2;
	cfg.lockdep = lockdep;
	m->sim = mmn_sim_create(&cfg);
	m->mm = m->sim ? mmn_mm_create(m->sim) : NULL;
	if (!m->mm) {
		fprintf(stderr, "%s: cannot create a simulation\n", PROG);
		exit(1);
	}
	for (int i = 0; i < listeners; i++) {
		m->subs[i].ops = &noop_ops;
		check(mmn_notifier_register(&m->subs[i], m->mm), "register");
	}
}

static void model_fini(struct model *m, int listeners)
{
	for (int i = 0; i < listeners; i++)
		mmn_notifier_unregister(&m->subs[i], m->mm);
	if (mmn_check_total(m->sim) || mmn_audit(m->sim)) {
		fprintf(stderr, "%s: the model reported violations\n", PROG);
		failed = true;
	}
	mmn_mm_put(m->mm);
	mmn_sim_destroy(m->sim);
}

static void model_touch(struct model *m, unsigned long base, unsigned long pages)
{
	for (unsigned long i = 0; i < pages; i++)
		check(mmn_cpu_write(m->mm, 0, base + i * MMN_PAGE_SIZE, i), "store");
}

static void host_touch(char *p, unsigned long pages)
{
	for (unsigned long i = 0; i < pages; i++)
		p[i * 4096] = (char)i;
}

/* One timed operation of @k on @pages pages; returns ns. */
static double host_op(enum kind k, unsigned long pages, char **region, int *prot)
{
	size_t len = pages * 4096;
	uint64_t t0, t;

	switch (k) {
	case K_MPROTECT:
		*prot = *prot == PROT_READ ? PROT_READ | PROT_WRITE : PROT_READ;
		t0 = bench_now_ns();
		check(mprotect(*region, len, *prot), "host mprotect");
		return (double)(bench_now_ns() - t0);
	case K_DONTNEED:
		host_touch(*region, pages);
		t0 = bench_now_ns();
		check(madvise(*region, len, MADV_DONTNEED), "host madvise");
		return (double)(bench_now_ns() - t0);
	case K_MMAP_TOUCH:
	default:
		t0 = bench_now_ns();
		{
			char *p = mmap(NULL, len, PROT_READ | PROT_WRITE,
				       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

			if (p == MAP_FAILED) {
				check(-1, "host mmap");
				return 0;
			}
			madvise(p, len, MADV_NOHUGEPAGE);
			host_touch(p, pages);
			check(munmap(p, len), "host munmap");
		}
		t = bench_now_ns() - t0;
		return (double)t;
	}
}

/*
 * One timed operation of @k in the model; returns the real ns and adds the
 * modelled ns of the timed part (the clock read outside the real timing) to
 * @modelled.
 */
static double model_op(enum kind k, struct model *m, unsigned long pages, int *prot,
		       uint64_t *modelled)
{
	unsigned long len = pages * MMN_PAGE_SIZE, a;
	uint64_t c0, t0, t;

	switch (k) {
	case K_MPROTECT:
		*prot = *prot == MMN_PROT_READ ? MMN_PROT_READ | MMN_PROT_WRITE : MMN_PROT_READ;
		c0 = mmn_clock_now(m->sim);
		t0 = bench_now_ns();
		check(mmn_mprotect(m->mm, m->base, len, *prot), "mmn_mprotect");
		t = bench_now_ns() - t0;
		break;
	case K_DONTNEED:
		model_touch(m, m->base, pages);
		c0 = mmn_clock_now(m->sim);
		t0 = bench_now_ns();
		check(mmn_madvise(m->mm, m->base, len, MMN_MADV_DONTNEED), "mmn_madvise");
		t = bench_now_ns() - t0;
		break;
	case K_MMAP_TOUCH:
	default:
		c0 = mmn_clock_now(m->sim);
		t0 = bench_now_ns();
		check(mmn_mmap(m->mm, 0, len, MMN_PROT_READ | MMN_PROT_WRITE,
			       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &a), "mmn_mmap");
		model_touch(m, a, pages);
		check(mmn_munmap(m->mm, a, len), "mmn_munmap");
		t = bench_now_ns() - t0;
		break;
	}
	*modelled += mmn_clock_now(m->sim) - c0;
	return (double)t;
}

static bool lockdep;

static int own_opt(int opt, const char *arg, void *ctx)
{
	(void)arg;
	(void)ctx;
	if (opt != 'l')
		return -1;
	lockdep = true;
	return 0;
}

int main(int argc, char **argv)
{
	struct bench_args a = { .iterations = 200, .repeats = 5 };
	static double samples[K_NR][NR_SIZES][S_NR][BENCH_MAX_REPEATS];
	/* modelled ns per operation, model sides only (S_HOST unused) */
	static double modelled[K_NR][NR_SIZES][S_NR][BENCH_MAX_REPEATS];

	bench_getopt(argc, argv, &a, "l", own_opt, NULL, "[-l]",
		     "  -l    lockdep on in the model (default off)\n");
	for (int k = 0; k < K_NR; k++) {
		for (size_t s = 0; s < NR_SIZES; s++) {
			unsigned long pages = sizes[s];
			char *region = mmap(NULL, pages * 4096, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
			struct model m0, m3;
			int hprot = PROT_READ | PROT_WRITE, p0 = MMN_PROT_READ | MMN_PROT_WRITE,
			    p3 = p0;

			if (region == MAP_FAILED)
				return 1;
			madvise(region, pages * 4096, MADV_NOHUGEPAGE);
			host_touch(region, pages);
			model_init(&m0, 0, lockdep);
			model_init(&m3, NR_LISTENERS, lockdep);
			check(mmn_mmap(m0.mm, 0, pages * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
				       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &m0.base), "mmap");
			check(mmn_mmap(m3.mm, 0, pages * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
				       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &m3.base), "mmap");
			model_touch(&m0, m0.base, pages);
			model_touch(&m3, m3.base, pages);
			for (unsigned int r = 0; r < a.repeats; r++) {
				double t[S_NR] = { 0 };
				uint64_t mod[S_NR] = { 0 };

				for (unsigned long i = 0; i < a.iterations; i++) {
					t[S_HOST] += host_op(k, pages, &region, &hprot);
					t[S_MMN0] += model_op(k, &m0, pages, &p0, &mod[S_MMN0]);
					t[S_MMN3] += model_op(k, &m3, pages, &p3, &mod[S_MMN3]);
				}
				for (int sd = 0; sd < S_NR; sd++) {
					samples[k][s][sd][r] = t[sd] / (double)a.iterations;
					modelled[k][s][sd][r] = (double)mod[sd] / (double)a.iterations;
				}
			}
			model_fini(&m0, 0);
			model_fini(&m3, NR_LISTENERS);
			munmap(region, pages * 4096);
		}
	}

	FILE *data = bench_data_open(&a, PROG, "ops",
				     "op\tpages\thost_ns\tmmn0_ns\tmmn3_ns\tmmn0_ratio\tmmn3_ratio\t"
				     "mmn0_modelled_ns\tmmn3_modelled_ns");

	bench_printf(&a, "%-11s %6s %12s %12s %12s %10s %12s %12s\n", "operation", "pages",
		     "host ns", "mmn 0 lst", "mmn 3 lst", "3lst/host", "mod 0 lst", "mod 3 lst");
	for (int k = 0; k < K_NR; k++) {
		for (size_t s = 0; s < NR_SIZES; s++) {
			double med[S_NR], mod[S_NR];

			for (int sd = 0; sd < S_NR; sd++) {
				med[sd] = bench_median(samples[k][s][sd], a.repeats);
				mod[sd] = bench_median(modelled[k][s][sd], a.repeats);
			}
			bench_printf(&a, "%-11s %6lu %12.0f %12.0f %12.0f %10.2f %12.0f %12.0f%s\n",
				     kind_names[k], sizes[s], med[S_HOST], med[S_MMN0], med[S_MMN3],
				     med[S_MMN3] / med[S_HOST], mod[S_MMN0], mod[S_MMN3],
				     med[S_MMN3] <= med[S_HOST] ? "" : "  (over target)");
			bench_summary(PROG,
				      "op=%s pages=%lu n=%lu r=%u lockdep=%d host_ns=%.0f "
				      "mmn0_ns=%.0f mmn3_ns=%.0f ratio=%.3f target=1.0 met=%s "
				      "mmn0_modelled_ns=%.0f mmn3_modelled_ns=%.0f",
				      kind_names[k], sizes[s], a.iterations, a.repeats, lockdep,
				      med[S_HOST], med[S_MMN0], med[S_MMN3],
				      med[S_MMN3] / med[S_HOST],
				      med[S_MMN3] <= med[S_HOST] ? "yes" : "no", mod[S_MMN0],
				      mod[S_MMN3]);
			bench_data_row(data, "%s\t%lu\t%.0f\t%.0f\t%.0f\t%.4f\t%.4f\t%.0f\t%.0f",
				       kind_names[k], sizes[s], med[S_HOST], med[S_MMN0], med[S_MMN3],
				       med[S_MMN0] / med[S_HOST], med[S_MMN3] / med[S_HOST],
				       mod[S_MMN0], mod[S_MMN3]);
		}
	}
	bench_data_close(data, PROG);
	return failed ? 1 : 0;
}
