// SPDX-License-Identifier: MIT
/*
 * bench_listeners: what do the reference secondary MMUs (KVM, IOMMU SVA,
 * HMM mirror) cost and suffer under invalidations? Issue "reference
 * secondary MMUs", four measurements in one run:
 *
 *  1. fault: device-side fault throughput per listener. A 64-page RW
 *     private anonymous range, the device reading page after page; before
 *     every sweep of the 64 pages the device thread itself zaps the range
 *     (madvise DONTNEED, untimed), so every sweep is 64 device faults.
 *     "none": nothing else runs; "inv": a second actor loops mprotect(READ),
 *     mprotect(RW), madvise(DONTNEED) over the same range meanwhile.
 *     Per-access real time (clock_gettime around each access): p50/p90/p99
 *     and accesses/s, faults per access, retries per fault, give-ups, and
 *     the listener's own retry histogram (summed over the repeats).
 *  2. s5: an event-blind versus an event-aware HMM mirror of 256 pages,
 *     16 rounds of each mix (mprotect READ/RW, soft-dirty clearing, the
 *     mirror's own migration to device memory and back, NUMA migration
 *     mmn_migrate_pages()): teardowns, entries erased / downgraded,
 *     re-programmed pages and fault passes; driven directly (the S5
 *     scenario sums its phases and caps the working set at 64 pages).
 *  3. s9: mmn_scenario_run("S9") interleaved with 64 pages, plain
 *     (check_range) and NUMA-aware KVM listener: needless shootdowns.
 *  4. flush: IOMMU (SVA) flush callbacks per CPU TLB flush for munmap and
 *     for reclaim (mmn_try_to_unmap) of 1, 16, 512 and 4096 populated
 *     pages, profiles latest (F2 inside every CPU flush), 6.5
 *     (invalidate_range at the call sites and at end) and 4.12
 *     (invalidate_page per page on the rmap paths). Its data file (-d) has
 *     beside each row the host's own munmap() of as many populated pages,
 *     timed in the same repeat (median), and the ratio to it.
 *
 * Lockdep is off in the simulations built here (bare cost), on in S9 (the
 * NUMA-aware filter needs it). Medians over -r repeats; counts of the
 * deterministic measurements (2, 3, 4) do not vary. Beside every real time
 * per access, round, run or operation, the modelled time (clock.h): the
 * simulation's mmn_clock_now() advanced over the timed part, divided by the
 * same count (item 3: the scenario's modelled_ns). In item 1 that is the sum
 * of the clock's advances across each timed read, so under "inv" it includes
 * whatever the invalidator was charged while a read was timed; the untimed
 * zaps are outside it. Exits non-zero only if an operation fails or the
 * model reports a violation, never for a number.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include <mmnsim/mmnsim.h>

#include "harness.h"

#define PROG "bench_listeners"
#define PG MMN_PAGE_SIZE
#define BASE 0x40000000UL
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANONF (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED)
#define GFN0 0x100ULL
#define F_PAGES 64UL            /* item 1 working set */
#define HIST 16

static bool failed;

static void check(int err, const char *what)
{
	if (err && !failed)
		fprintf(stderr, "%s: %s failed: %d\n", PROG, what, err);
	if (err)
		failed = true;
}

static struct mmn_sim *new_sim(const char *profile, unsigned long frames, bool lockdep)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = frames;
	cfg.nr_huge_pages = 0;
	cfg.nr_cpus = 2;
	cfg.lockdep = lockdep;
	cfg.profile = profile;
	sim = mmn_sim_create(&cfg);
	if (!sim) {
		fprintf(stderr, "%s: cannot create a simulation (%s)\n", PROG,
			profile ? profile : "latest");
		exit(1);
	}
	return sim;
}

/* Violations and the quiescent audits: a correctness failure if any. */
static void verify(struct mmn_sim *sim, const char *what)
{
	unsigned long v = mmn_check_total(sim);
	long q = mmn_check_quiescent(sim);
	long a = mmn_audit(sim);

	if (v || q || a) {
		fprintf(stderr, "%s: %s: %lu violations, quiescent %ld, audit %ld\n", PROG, what, v,
			q, a);
		failed = true;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static double pct(const uint64_t *sorted, unsigned long n, double p)
{
	unsigned long i;

	if (!n)
		return 0;
	i = (unsigned long)(p * (double)(n - 1) + 0.5);
	return (double)sorted[i];
}

/* "b0:n0/b1:n1/..." of the non-zero buckets, or "-". */
static void hist_str(const unsigned long *h, int nb, char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int i = 0; i < nb && off + 1 < len; i++) {
		int w;

		if (!h[i])
			continue;
		w = snprintf(buf + off, len - off, "%s%d:%lu", off ? "/" : "", i, h[i]);
		if (w < 0)
			break;
		off += (size_t)w;
	}
	if (!off)
		snprintf(buf, len, "-");
}

/* ------------------------------------------------------------------ */
/* 1. device-side fault throughput                                     */
/* ------------------------------------------------------------------ */

enum lst { L_KVM, L_IOMMU, L_HMM, L_NR };
static const char *const lst_names[L_NR] = { "kvm", "iommu", "hmm" };
enum inv { I_NONE, I_INV, I_NR };
static const char *const inv_names[I_NR] = { "none", "inv" };

struct fenv {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_kvm *kvm;
	struct mmn_iommu *iommu;
	int pasid;
	struct mmn_hmm *hmm;
	atomic_bool stop;
	unsigned long inv_ops;
	int inv_err;
};

struct fres {
	double ns_access, p50, p90, p99, p999, max, faults_per_access, retries_per_fault, inv_ops;
	double modelled_ns_access;
	unsigned long giveups;
};

static void fenv_init(struct fenv *e, enum lst l)
{
	unsigned long got;
	int err;

	memset(e, 0, sizeof(*e));
	e->sim = new_sim(NULL, 4096, false);
	e->mm = mmn_mm_create(e->sim);
	if (!e->mm) {
		fprintf(stderr, "%s: cannot create an mm\n", PROG);
		exit(1);
	}
	err = mmn_mmap(e->mm, BASE, F_PAGES * PG, RW, ANONF, &got);
	check(err, "mmap");
	for (unsigned long i = 0; !err && i < F_PAGES; i++)
		check(mmn_cpu_write(e->mm, 0, BASE + i * PG, i + 1), "cpu store");
	if (l == L_KVM) {
		struct mmn_kvm_config kc;

		mmn_kvm_config_init(&kc);
		e->kvm = mmn_kvm_create(e->mm, &kc);
		if (!e->kvm) {
			check(-errno, "kvm create");
			exit(1);
		}
		check(mmn_kvm_set_memslot(e->kvm, 0, GFN0, F_PAGES, BASE), "memslot");
	} else if (l == L_IOMMU) {
		struct mmn_iommu_config ic;

		mmn_iommu_config_init(&ic);
		e->iommu = mmn_iommu_create(e->sim, &ic);
		if (!e->iommu) {
			check(-errno, "iommu create");
			exit(1);
		}
		check(mmn_iommu_bind(e->iommu, e->mm, &e->pasid), "iommu bind");
	} else {
		struct mmn_hmm_config hc;

		mmn_hmm_config_init(&hc);
		err = mmn_hmm_create(e->mm, BASE, F_PAGES * PG, &hc, &e->hmm);
		check(err, "hmm create");
		if (err)
			exit(1);
	}
}

static void fenv_fini(struct fenv *e)
{
	if (e->kvm)
		mmn_kvm_destroy(e->kvm);
	if (e->iommu)
		mmn_iommu_destroy(e->iommu);
	if (e->hmm)
		check(mmn_hmm_destroy(e->hmm), "hmm destroy");
	verify(e->sim, "fault");
	mmn_mm_put(e->mm);
	mmn_sim_destroy(e->sim);
}

/* One device read of page @pg; 0, 1 for a give-up, or a negative error. */
static int fdev_read(struct fenv *e, enum lst l, unsigned long pg)
{
	uint64_t v = 0;
	long r;

	switch (l) {
	case L_KVM:
		r = mmn_kvm_vcpu_read(e->kvm, 0, GFN0 + pg, &v);
		if (r == -EAGAIN)
			return 1;
		break;
	case L_IOMMU:
		r = mmn_iommu_dma_read(e->iommu, e->pasid, BASE + pg * PG, &v);
		if (r == -EIO)
			return 1;
		break;
	default:
		r = mmn_hmm_read(e->hmm, BASE + pg * PG, 1, &v);
		if (r == -EBUSY)
			return 1;
		if (r > 0)
			r = 0;
		break;
	}
	bench_keep(v);
	return (int)r;
}

static void *invalidator(void *arg)
{
	struct fenv *e = arg;
	int err = 0;

	while (!atomic_load_explicit(&e->stop, memory_order_relaxed) && !err) {
		err = mmn_mprotect(e->mm, BASE, F_PAGES * PG, MMN_PROT_READ);
		if (!err)
			err = mmn_mprotect(e->mm, BASE, F_PAGES * PG, RW);
		if (!err)
			err = mmn_madvise(e->mm, BASE, F_PAGES * PG, MMN_MADV_DONTNEED);
		e->inv_ops += 3;
	}
	e->inv_err = err;
	return NULL;
}

static void fault_run(enum lst l, enum inv inv, unsigned long n, uint64_t *lat, struct fres *out,
		      unsigned long *hist)
{
	struct fenv e;
	struct mmn_actor *actor = NULL;
	unsigned long giveups = 0, faults = 0, retries = 0;
	uint64_t sum = 0, modelled = 0;
	int err = 0;

	fenv_init(&e, l);
	if (inv == I_INV)
		check(mmn_actor_spawn(e.sim, "invalidator", invalidator, &e, &actor), "spawn");
	for (unsigned long i = 0; i < n && !err; i++) {
		unsigned long pg = i % F_PAGES;
		uint64_t c0, t0, t;
		int r;

		if (!pg)
			check(mmn_madvise(e.mm, BASE, F_PAGES * PG, MMN_MADV_DONTNEED), "zap");
		c0 = mmn_clock_now(e.sim);
		t0 = bench_now_ns();
		r = fdev_read(&e, l, pg);
		t = bench_now_ns() - t0;
		modelled += mmn_clock_now(e.sim) - c0;
		lat[i] = t;
		sum += t;
		if (r == 1)
			giveups++;
		else if (r) {
			check(r, "device read");
			err = r;
		}
	}
	if (actor) {
		atomic_store(&e.stop, true);
		check(mmn_actor_join(actor, NULL), "join");
		check(e.inv_err, "invalidator op");
	}
	if (l == L_KVM) {
		struct mmn_kvm_stats s;

		mmn_kvm_get_stats(e.kvm, &s);
		faults = s.faults;
		retries = s.retries;
		for (int b = 0; b < HIST && b < MMN_KVM_HIST_BUCKETS; b++)
			hist[b] += s.fault_retry_hist[b];
	} else if (l == L_IOMMU) {
		struct mmn_iommu_stats s;

		mmn_iommu_get_stats(e.iommu, &s);
		/* faulting accesses = first page requests; retries = further ones */
		faults = s.page_requests - s.refaults;
		retries = s.refaults;
		for (int b = 0; b < HIST && b < MMN_IOMMU_HIST_BUCKETS; b++)
			hist[b] += s.fault_hist[b];
	} else {
		struct mmn_hmm_stats s;

		mmn_hmm_get_stats(e.hmm, &s);
		faults = s.fault_loops;
		retries = s.retries;
		for (int b = 0; b < HIST && b < MMN_HMM_HIST_BUCKETS; b++)
			hist[b] += s.retry_hist[b];
	}
	qsort(lat, n, sizeof(*lat), cmp_u64);
	out->ns_access = (double)sum / (double)n;
	out->modelled_ns_access = (double)modelled / (double)n;
	out->p50 = pct(lat, n, 0.50);
	out->p90 = pct(lat, n, 0.90);
	out->p99 = pct(lat, n, 0.99);
	out->p999 = pct(lat, n, 0.999);
	out->max = (double)lat[n - 1];
	out->faults_per_access = (double)faults / (double)n;
	out->retries_per_fault = faults ? (double)retries / (double)faults : 0;
	out->giveups = giveups;
	out->inv_ops = (double)e.inv_ops;
	fenv_fini(&e);
}

static void bench_fault(const struct bench_args *a)
{
	static double v[L_NR][I_NR][10][BENCH_MAX_REPEATS];
	static unsigned long hist[L_NR][I_NR][HIST];
	unsigned long giveups[L_NR][I_NR] = { { 0 } };
	uint64_t *lat = malloc(a->iterations * sizeof(*lat));
	FILE *data;

	if (!lat) {
		fprintf(stderr, "%s: out of memory\n", PROG);
		exit(1);
	}
	for (unsigned int r = 0; r < a->repeats; r++)
		for (int l = 0; l < L_NR; l++)
			for (int i = 0; i < I_NR; i++) {
				struct fres f;

				fault_run((enum lst)l, (enum inv)i, a->iterations, lat, &f, hist[l][i]);
				v[l][i][0][r] = f.ns_access;
				v[l][i][1][r] = f.p50;
				v[l][i][2][r] = f.p90;
				v[l][i][3][r] = f.p99;
				v[l][i][4][r] = f.faults_per_access;
				v[l][i][5][r] = f.retries_per_fault;
				v[l][i][6][r] = f.inv_ops;
				v[l][i][7][r] = f.p999;
				v[l][i][8][r] = f.max;
				v[l][i][9][r] = f.modelled_ns_access;
				giveups[l][i] += f.giveups;
			}
	free(lat);

	data = bench_data_open(a, PROG, "fault",
			       "listener\tinv\taccesses_per_s\tns_per_access\tmodelled_ns_per_access\t"
			       "p50_ns\tp90_ns\tp99_ns\tp999_ns\tmax_ns\tfaults_per_access\t"
			       "retries_per_fault\tgiveups\tinv_ops");
	bench_printf(a, "\n1. Device-side faults: %lu reads of a %lu-page range per repeat, zapped "
			"before every sweep; medians of %u repeats\n",
		     a->iterations, F_PAGES, a->repeats);
	bench_printf(a, "%-6s %-5s %10s %15s %7s %7s %7s %8s %9s %10s %11s %8s %8s  %s\n",
		     "lstnr", "inv", "accesses/s", "modelled ns/acc", "p50 ns", "p90 ns", "p99 ns",
		     "p99.9 ns", "max ns", "faults/acc", "retry/fault", "giveups", "inv ops",
		     "retry histogram (log2 bucket:count, all repeats)");
	for (int l = 0; l < L_NR; l++)
		for (int i = 0; i < I_NR; i++) {
			double m[10];
			char h[160];

			for (int k = 0; k < 10; k++)
				m[k] = bench_median(v[l][i][k], a->repeats);
			hist_str(hist[l][i], HIST, h, sizeof(h));
			bench_printf(a,
				     "%-6s %-5s %10.0f %15.0f %7.0f %7.0f %7.0f %8.0f %9.0f %10.3f %11.3f %8lu %8.0f  %s\n",
				     lst_names[l], inv_names[i], 1e9 / m[0], m[9], m[1], m[2], m[3],
				     m[7], m[8], m[4], m[5], giveups[l][i], m[6], h);
			bench_summary(PROG,
				      "item=fault listener=%s inv=%s accesses_per_s=%.0f ns_per_access=%.1f "
				      "p50_ns=%.0f p90_ns=%.0f p99_ns=%.0f p999_ns=%.0f max_ns=%.0f faults_per_access=%.4f "
				      "retries_per_fault=%.4f giveups=%lu inv_ops=%.0f hist=%s "
				      "modelled_ns_per_access=%.1f",
				      lst_names[l], inv_names[i], 1e9 / m[0], m[0], m[1], m[2], m[3],
				      m[7], m[8], m[4], m[5], giveups[l][i], m[6], h, m[9]);
			bench_data_row(data,
				       "%s\t%s\t%.0f\t%.1f\t%.1f\t%.0f\t%.0f\t%.0f\t%.0f\t%.0f\t%.4f\t"
				       "%.4f\t%lu\t%.0f",
				       lst_names[l], inv_names[i], 1e9 / m[0], m[0], m[9], m[1], m[2],
				       m[3], m[7], m[8], m[4], m[5], giveups[l][i], m[6]);
		}
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */
/* 2. S5: event-blind versus event-aware HMM, per mix                  */
/* ------------------------------------------------------------------ */

#define S5_PAGES 256UL
#define S5_MIG 64UL
#define S5_ROUNDS 16

enum mix { M_MPROTECT, M_SOFTDIRTY, M_OWNMIG, M_NUMAMIG, M_NR };
static const char *const mix_names[M_NR] = { "mprotect", "soft_dirty", "own_migration",
					     "numa_migration" };

struct s5res {
	unsigned long teardowns, zapped, downgraded, refaults, device_faults, skipped_own;
	double ns_round, modelled_ns_round;
};

static long s5_pos(long r, const char *what)
{
	if (r < 0)
		check((int)r, what);
	return r;
}

static void s5_run(enum mmn_hmm_variant var, enum mix mix, struct s5res *out)
{
	static uint64_t buf[S5_PAGES];
	struct mmn_sim *sim = new_sim(NULL, 4096, false);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct mmn_hmm_config hc;
	struct mmn_hmm_stats st;
	struct mmn_hmm *m = NULL;
	unsigned long got;
	uint64_t c0, t0, v;
	int err;

	if (!mm) {
		fprintf(stderr, "%s: cannot create an mm\n", PROG);
		exit(1);
	}
	err = mmn_mmap(mm, BASE, S5_PAGES * PG, RW, ANONF, &got);
	check(err, "s5 mmap");
	mmn_hmm_config_init(&hc);
	hc.variant = var;
	hc.devmem_pages = S5_MIG;
	hc.retry_budget = 256;
	if (!err)
		err = mmn_hmm_create(mm, BASE, S5_PAGES * PG, &hc, &m);
	check(err, "s5 hmm create");
	if (err)
		exit(1);
	for (unsigned long i = 0; i < S5_PAGES; i++)
		check(mmn_cpu_write(mm, 0, BASE + i * PG, i + 1), "s5 cpu store");
	c0 = mmn_clock_now(sim);
	t0 = bench_now_ns();
	for (int r = 0; r < S5_ROUNDS && !failed; r++) {
		switch (mix) {
		case M_MPROTECT:
			s5_pos(mmn_hmm_read(m, BASE, S5_PAGES, buf), "s5 read");
			check(mmn_mprotect(mm, BASE, S5_PAGES * PG, MMN_PROT_READ), "s5 mprotect");
			s5_pos(mmn_hmm_read(m, BASE, S5_PAGES, buf), "s5 read");
			check(mmn_mprotect(mm, BASE, S5_PAGES * PG, RW), "s5 mprotect");
			break;
		case M_SOFTDIRTY:
			for (unsigned long i = 0; i < S5_PAGES; i++)
				buf[i] = (uint64_t)r * 1000 + i;
			s5_pos(mmn_hmm_write(m, BASE, S5_PAGES, buf), "s5 write");
			check(mmn_clear_refs_soft_dirty(mm), "s5 clear_refs");
			s5_pos(mmn_hmm_read(m, BASE, S5_PAGES, buf), "s5 read");
			break;
		case M_OWNMIG:
			s5_pos(mmn_hmm_read(m, BASE, S5_PAGES, buf), "s5 read");
			if (s5_pos(mmn_hmm_migrate_to_device(m, BASE, S5_MIG), "s5 migrate") !=
			    (long)S5_MIG)
				check(-EIO, "s5 migrate (short)");
			for (unsigned long i = 0; i < S5_MIG; i++)
				check(mmn_cpu_read(mm, 0, BASE + i * PG, &v), "s5 cpu read");
			s5_pos(mmn_hmm_read(m, BASE, S5_PAGES, buf), "s5 read");
			break;
		default:
			s5_pos(mmn_hmm_read(m, BASE, S5_PAGES, buf), "s5 read");
			check(mmn_migrate_pages(mm, BASE, S5_PAGES * PG), "s5 migrate_pages");
			s5_pos(mmn_hmm_read(m, BASE, S5_PAGES, buf), "s5 read");
			break;
		}
	}
	out->ns_round = (double)(bench_now_ns() - t0) / S5_ROUNDS;
	out->modelled_ns_round = (double)(mmn_clock_now(sim) - c0) / S5_ROUNDS;
	mmn_hmm_get_stats(m, &st);
	out->teardowns = st.teardowns;
	out->zapped = st.zapped;
	out->downgraded = st.downgraded;
	out->refaults = st.refaults;
	out->device_faults = st.device_faults;
	out->skipped_own = st.skipped_own;
	check(mmn_hmm_destroy(m), "s5 hmm destroy");
	verify(sim, "s5");
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

static void bench_s5(const struct bench_args *a)
{
	static double ns[2][M_NR][BENCH_MAX_REPEATS], mod[2][M_NR][BENCH_MAX_REPEATS];
	struct s5res res[2][M_NR];
	static const enum mmn_hmm_variant vars[2] = { MMN_HMM_EVENT_BLIND, MMN_HMM_EVENT_AWARE };
	static const char *const vnames[2] = { "blind", "aware" };

	for (unsigned int r = 0; r < a->repeats; r++)
		for (int x = 0; x < M_NR; x++)
			for (int w = 0; w < 2; w++) {
				s5_run(vars[w], (enum mix)x, &res[w][x]);
				ns[w][x][r] = res[w][x].ns_round;
				mod[w][x][r] = res[w][x].modelled_ns_round;
			}
	bench_printf(a, "\n2. S5: HMM mirror of %lu pages, %d rounds per mix (counts per run)\n",
		     S5_PAGES, S5_ROUNDS);
	bench_printf(a, "%-15s %-6s %9s %9s %10s %9s %9s %9s %11s %14s\n", "mix", "mirror",
		     "teardowns", "erased", "downgraded", "refaults", "dev.fault", "own.skip",
		     "us/round", "modelled us/rd");
	for (int x = 0; x < M_NR; x++)
		for (int w = 0; w < 2; w++) {
			struct s5res *s = &res[w][x];
			double m = bench_median(ns[w][x], a->repeats);
			double md = bench_median(mod[w][x], a->repeats);

			bench_printf(a, "%-15s %-6s %9lu %9lu %10lu %9lu %9lu %9lu %11.1f %14.1f\n",
				     mix_names[x], vnames[w], s->teardowns, s->zapped, s->downgraded,
				     s->refaults, s->device_faults, s->skipped_own, m / 1000,
				     md / 1000);
			bench_summary(PROG,
				      "item=s5 mix=%s mirror=%s pages=%lu rounds=%d teardowns=%lu "
				      "erased=%lu downgraded=%lu refaults=%lu device_faults=%lu "
				      "skipped_own=%lu ns_per_round=%.0f modelled_ns_per_round=%.0f",
				      mix_names[x], vnames[w], S5_PAGES, S5_ROUNDS, s->teardowns,
				      s->zapped, s->downgraded, s->refaults, s->device_faults,
				      s->skipped_own, m, md);
		}
}

/* ------------------------------------------------------------------ */
/* 3. S9: needless shootdowns under NUMA hinting                       */
/* ------------------------------------------------------------------ */

static unsigned long counter(const struct mmn_scenario_result *r, const char *name)
{
	unsigned long v = 0;

	mmn_scenario_counter(r, name, &v); /* 0 when the run did not report it */
	return v;
}

static void bench_s9(const struct bench_args *a)
{
	static double ns[2][BENCH_MAX_REPEATS], mod[2][BENCH_MAX_REPEATS];
	struct mmn_scenario_result res[2];
	static const char *const names[2] = { "check_range", "numa_aware" };

	for (unsigned int r = 0; r < a->repeats; r++)
		for (int w = 0; w < 2; w++) {
			struct mmn_scenario_params p;
			uint64_t t0;
			int err;

			memset(&p, 0, sizeof(p));
			p.wrong = w == 0;
			p.variant = -1;
			p.pages = 64;
			p.mode = MMN_SCENARIO_INTERLEAVED;
			t0 = bench_now_ns();
			err = mmn_scenario_run("S9", &p, &res[w]);
			ns[w][r] = (double)(bench_now_ns() - t0);
			mod[w][r] = (double)res[w].modelled_ns;
			check(err, "S9");
			if (res[w].violations) {
				fprintf(stderr, "%s: S9 (%s): %lu violations\n", PROG, names[w],
					res[w].violations);
				failed = true;
			}
		}
	bench_printf(a, "\n3. S9: NUMA hinting over 64 guest pages (scenario, interleaved)\n");
	bench_printf(a, "%-12s %10s %10s %10s %10s %8s %10s %15s\n", "kvm", "needless",
		     "vcpu_flush", "kept", "refaults", "claim", "ms/run", "modelled ms/run");
	for (int w = 0; w < 2; w++) {
		const struct mmn_scenario_result *s = &res[w];
		double m = bench_median(ns[w], a->repeats);
		double md = bench_median(mod[w], a->repeats);

		bench_printf(a, "%-12s %10lu %10lu %10lu %10lu %8s %10.2f %15.3f\n", names[w],
			     counter(s, "needless_shootdowns"), counter(s, "tlb_flushes"),
			     counter(s, "sptes_kept_numa"), counter(s, "numa_refaults"),
			     s->claim_holds ? "holds" : "no", m / 1e6, md / 1e6);
		bench_summary(PROG,
			      "item=s9 kvm=%s pages=64 needless_shootdowns=%lu tlb_flushes=%lu "
			      "sptes_kept=%lu numa_refaults=%lu claim_holds=%d ns_per_run=%.0f "
			      "modelled_ns_per_run=%.0f",
			      names[w], counter(s, "needless_shootdowns"), counter(s, "tlb_flushes"),
			      counter(s, "sptes_kept_numa"), counter(s, "numa_refaults"),
			      s->claim_holds, m, md);
	}
}

/* ------------------------------------------------------------------ */
/* 4. secondary flushes per CPU flush                                  */
/* ------------------------------------------------------------------ */

static const unsigned long fl_sizes[] = { 1, 16, 512, 4096 };
#define NR_FL (sizeof(fl_sizes) / sizeof(fl_sizes[0]))
static const char *const fl_profiles[] = { "latest", "6.5", "4.12" };
#define NR_PROF (sizeof(fl_profiles) / sizeof(fl_profiles[0]))
enum flop { O_MUNMAP, O_RECLAIM, O_NR };
static const char *const flop_names[O_NR] = { "munmap", "reclaim" };

struct flres {
	unsigned long cpu_flushes, shootdowns, sec_cb[3], sec_flushes, sec_dropped;
	double ns, modelled_ns;
};

static void flush_run(const char *profile, enum flop op, unsigned long pages, struct flres *out)
{
	struct mmn_sim *sim = new_sim(profile, pages + 1024, false);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct mmn_iommu_config ic;
	struct mmn_iommu *io;
	struct mmn_iommu_stats i0, i1;
	struct mmn_stats s0, s1;
	unsigned long got;
	uint64_t c0, t0, v;
	int pasid = 0, err;

	if (!mm) {
		fprintf(stderr, "%s: cannot create an mm\n", PROG);
		exit(1);
	}
	mmn_iommu_config_init(&ic);
	io = mmn_iommu_create(sim, &ic);
	if (!io) {
		check(-errno, "iommu create");
		exit(1);
	}
	check(mmn_iommu_bind(io, mm, &pasid), "iommu bind");
	err = mmn_mmap(mm, BASE, pages * PG, RW, ANONF, &got);
	check(err, "flush mmap");
	for (unsigned long i = 0; !err && i < pages; i++)
		check(mmn_cpu_write(mm, (int)(i & 1), BASE + i * PG, i + 1), "flush cpu store");
	/* the device caches some of it (the ATC/IOTLB hold the last ones) */
	for (unsigned long i = 0; !err && i < pages; i++)
		check(mmn_iommu_dma_read(io, pasid, BASE + i * PG, &v), "flush dma read");
	mmn_sim_get_stats(sim, &s0);
	mmn_iommu_get_stats(io, &i0);
	c0 = mmn_clock_now(sim);
	t0 = bench_now_ns();
	if (op == O_MUNMAP)
		check(mmn_munmap(mm, BASE, pages * PG), "munmap");
	else
		check(mmn_try_to_unmap(mm, BASE, pages * PG), "try_to_unmap");
	out->ns = (double)(bench_now_ns() - t0);
	out->modelled_ns = (double)(mmn_clock_now(sim) - c0);
	mmn_sim_get_stats(sim, &s1);
	mmn_iommu_get_stats(io, &i1);
	out->cpu_flushes = (s1.tlb_flush_page - s0.tlb_flush_page) +
			   (s1.tlb_flush_range - s0.tlb_flush_range) +
			   (s1.tlb_flush_mm - s0.tlb_flush_mm);
	out->shootdowns = s1.tlb_shootdowns - s0.tlb_shootdowns;
	out->sec_cb[0] = i1.callbacks[MMN_IOMMU_CB_ARCH_INVALIDATE] -
			 i0.callbacks[MMN_IOMMU_CB_ARCH_INVALIDATE];
	out->sec_cb[1] = i1.callbacks[MMN_IOMMU_CB_INVALIDATE_RANGE] -
			 i0.callbacks[MMN_IOMMU_CB_INVALIDATE_RANGE];
	out->sec_cb[2] = i1.callbacks[MMN_IOMMU_CB_INVALIDATE_PAGE] -
			 i0.callbacks[MMN_IOMMU_CB_INVALIDATE_PAGE];
	out->sec_flushes = i1.flushes - i0.flushes;
	out->sec_dropped = i1.entries_flushed - i0.entries_flushed;
	mmn_iommu_destroy(io);
	verify(sim, "flush");
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
}

/* The host's own munmap() of @pages populated private anonymous pages (4 KiB,
 * MADV_NOHUGEPAGE), in ns: the baseline of the data file's munmap rows. */
static double host_munmap_ns(unsigned long pages)
{
	size_t len = pages * 4096;
	char *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	uint64_t t0;

	if (p == MAP_FAILED) {
		check(-errno, "host mmap");
		return 0;
	}
	madvise(p, len, MADV_NOHUGEPAGE);
	for (size_t i = 0; i < len; i += 4096)
		p[i] = (char)i;
	t0 = bench_now_ns();
	check(munmap(p, len), "host munmap");
	return (double)(bench_now_ns() - t0);
}

static void bench_flush(const struct bench_args *a)
{
	static double ns[NR_PROF][O_NR][NR_FL][BENCH_MAX_REPEATS];
	static double mod[NR_PROF][O_NR][NR_FL][BENCH_MAX_REPEATS];
	static struct flres res[NR_PROF][O_NR][NR_FL];
	static double host[NR_FL][BENCH_MAX_REPEATS];
	FILE *data;

	for (unsigned int r = 0; r < a->repeats; r++) {
		for (size_t s = 0; s < NR_FL; s++)
			host[s][r] = host_munmap_ns(fl_sizes[s]);
		for (size_t p = 0; p < NR_PROF; p++)
			for (int o = 0; o < O_NR; o++)
				for (size_t s = 0; s < NR_FL; s++) {
					flush_run(fl_profiles[p], (enum flop)o, fl_sizes[s],
						  &res[p][o][s]);
					ns[p][o][s][r] = res[p][o][s].ns;
					mod[p][o][s][r] = res[p][o][s].modelled_ns;
				}
	}
	data = bench_data_open(a, PROG, "flush",
			       "op\tprofile\tpages\tns_per_op\tmodelled_ns_per_op\thost_munmap_ns\t"
			       "ratio_host\tcpu_flushes\t"
			       "shootdowns\tcb_arch\tcb_range\tcb_page\tsec_flushes\t"
			       "sec_per_cpu_flush\tsec_per_page\tentries_dropped");
	bench_printf(a, "\n4. IOMMU (SVA) flush callbacks per CPU TLB flush, populated private "
			"anonymous range\n");
	bench_printf(a, "%-7s %-8s %6s %9s %8s %6s %6s %6s %9s %10s %10s %9s %11s %14s\n",
		     "op", "profile", "pages", "cpu_flush", "shootdn", "arch", "range", "page",
		     "sec_flush", "sec/cpu_fl", "sec/page", "dropped", "us/op", "modelled us/op");
	for (int o = 0; o < O_NR; o++)
		for (size_t p = 0; p < NR_PROF; p++)
			for (size_t s = 0; s < NR_FL; s++) {
				const struct flres *f = &res[p][o][s];
				double m = bench_median(ns[p][o][s], a->repeats);
				double md = bench_median(mod[p][o][s], a->repeats);
				double per_cpu = f->cpu_flushes ?
					(double)f->sec_flushes / (double)f->cpu_flushes : 0;
				double per_page = (double)f->sec_flushes / (double)fl_sizes[s];
				double hm = bench_median(host[s], a->repeats);

				bench_printf(a,
					     "%-7s %-8s %6lu %9lu %8lu %6lu %6lu %6lu %9lu %10.3f %10.4f %9lu %11.1f %14.1f\n",
					     flop_names[o], fl_profiles[p], fl_sizes[s], f->cpu_flushes,
					     f->shootdowns, f->sec_cb[0], f->sec_cb[1], f->sec_cb[2],
					     f->sec_flushes, per_cpu, per_page, f->sec_dropped,
					     m / 1000, md / 1000);
				bench_summary(PROG,
					      "item=flush op=%s profile=%s pages=%lu cpu_flushes=%lu "
					      "shootdowns=%lu cb_arch=%lu cb_range=%lu cb_page=%lu "
					      "sec_flushes=%lu sec_per_cpu_flush=%.3f sec_per_page=%.4f "
					      "entries_dropped=%lu ns_per_op=%.0f modelled_ns_per_op=%.0f",
					      flop_names[o], fl_profiles[p], fl_sizes[s], f->cpu_flushes,
					      f->shootdowns, f->sec_cb[0], f->sec_cb[1], f->sec_cb[2],
					      f->sec_flushes, per_cpu, per_page, f->sec_dropped, m, md);
				bench_data_row(data,
					       "%s\t%s\t%lu\t%.0f\t%.0f\t%.0f\t%.4f\t%lu\t%lu\t%lu\t%lu\t"
					       "%lu\t%lu\t%.4f\t%.5f\t%lu",
					       flop_names[o], fl_profiles[p], fl_sizes[s], m, md, hm, m / hm,
					       f->cpu_flushes, f->shootdowns, f->sec_cb[0], f->sec_cb[1],
					       f->sec_cb[2], f->sec_flushes, per_cpu, per_page,
					       f->sec_dropped);
			}
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */

struct opts {
	unsigned int items; /* bit per item */
};

static int parse_opt(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;
	unsigned long v;
	char *end;

	if (opt != 'i')
		return -1;
	o->items = 0;
	for (const char *p = arg; *p;) {
		v = strtoul(p, &end, 10);
		if (end == p || v < 1 || v > 4)
			return -1;
		o->items |= 1u << (v - 1);
		p = *end == ',' ? end + 1 : end;
		if (*end && *end != ',')
			return -1;
	}
	return o->items ? 0 : -1;
}

int main(int argc, char **argv)
{
	struct bench_args a = { .iterations = 20000, .repeats = 5, .quiet = false };
	struct opts o = { .items = 0xf };

	bench_getopt(argc, argv, &a, "i:", parse_opt, &o, "[-i 1,2,3,4]",
		     "  -i L  items to run, comma-separated (1 fault, 2 s5, 3 s9, 4 flush;\n"
		     "        default all); -n is the device reads per run of item 1\n");
	bench_printf(&a, "%s: -n %lu -r %u, mmnsim %s\n", PROG, a.iterations, a.repeats,
		     mmn_version_string());
	if (o.items & 1)
		bench_fault(&a);
	if (o.items & 2)
		bench_s5(&a);
	if (o.items & 4)
		bench_s9(&a);
	if (o.items & 8)
		bench_flush(&a);
	if (failed) {
		fprintf(stderr, "%s: correctness failure (see above)\n", PROG);
		return 1;
	}
	return 0;
}
