// SPDX-License-Identifier: MIT
/*
 * bench_mm: two questions about the primary MMU model.
 *
 *  -m  Memory: how many bytes of host memory does one resident 4 KiB page
 *      cost, its PTE and its share of the page tables included? One
 *      simulation with room for the pages, one mm, one private anonymous RW
 *      mapping, one store per page (each store faults a page in). Measured
 *      as the process's resident set (/proc/self/statm) after the fault-in
 *      minus before mmn_sim_create(), divided by the number of pages, and
 *      explained by the structural cost computed from the sizes of the
 *      structures. One measurement per process: memory freed by one
 *      simulation would be re-used by the next, so repeats are separate runs.
 *      The kernel's figure for comparison: 64 bytes of struct page per frame
 *      plus 8 bytes of PTE per mapped page.
 *
 *  -t  TLB hit: nanoseconds per mmn_cpu_read() of an address already in the
 *      CPU's TLB (a few pages that fit its 64 entries), against a plain load
 *      from a host array and against the same load behind a function call,
 *      interleaved in the same run, with lockdep on and off (the hit path
 *      takes no modelled lock, so it must not depend on lockdep).
 *
 * Both by default. Output: a short table and one SUMMARY line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

/* The inline TLB-hit row (mmnsim/inline.h); mmn_cpu_read stays a call. */
#define MMN_INLINE_FAST_PATH 1
#include <mmnsim/mmnsim.h>

#include "harness.h"
#include "mm/mm_internal.h"   /* sizeof(struct mmn_page), struct mmn_ptdesc */

#define PROG "bench_mm"

/* The figures. */
#define DEFAULT_PAGES (1UL << 20)      /* 1 Mi resident pages: 4 GiB */
#define MEM_TARGET_BYTES 80.0          /* per resident page */
#define TLB_TARGET_RATIO 3.0           /* TLB-hit read vs plain load */
/* Frames beyond the data pages: page-table pages (one PTE table per 512
 * pages, a few upper tables) and the zero page. */
#define FRAME_SLACK(pages) ((pages) / 256 + 64)
/* Pages the TLB loop cycles through: consecutive virtual pages land in
 * distinct slots of the direct-mapped 64-entry TLB. */
#define TLB_PAGES 8

struct opts {
	bool mem, tlb;
	unsigned long pages;
};

static int parse_opt(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;

	switch (opt) {
	case 'm':
		o->mem = true;
		return 0;
	case 't':
		o->tlb = true;
		return 0;
	case 'p':
		o->pages = bench_parse_ulong(PROG, opt, arg, 1UL << 24);
		return 0;
	}
	return -1;
}

/* Resident set of this process in bytes (the second field of statm). */
static long rss_bytes(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long size = 0, resident = 0;

	if (!f || fscanf(f, "%ld %ld", &size, &resident) != 2) {
		fprintf(stderr, PROG ": cannot read /proc/self/statm\n");
		exit(1);
	}
	fclose(f);
	return resident * sysconf(_SC_PAGESIZE);
}

static long maxrss_bytes(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_maxrss * 1024L;
}

/* The host bytes one heap allocation of @size occupies (glibc: the usable
 * size plus the 8-byte chunk header). */
static size_t heap_chunk(size_t size)
{
#ifdef __GLIBC__
	void *p = malloc(size);
	size_t chunk = p ? malloc_usable_size(p) + sizeof(size_t) : size;

	free(p);
	return chunk;
#else
	return size;
#endif
}

static struct mmn_sim *sim_new(unsigned long frames, bool lockdep)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = frames;
	cfg.nr_huge_pages = 0;   /* the hugetlb pool is not part of the question */
	cfg.lockdep = lockdep;
	sim = mmn_sim_create(&cfg);
	if (!sim) {
		perror(PROG ": mmn_sim_create");
		exit(1);
	}
	return sim;
}

static struct mmn_mm *mm_with_mapping(struct mmn_sim *sim, unsigned long len,
				      unsigned long *base)
{
	struct mmn_mm *mm = mmn_mm_create(sim);
	int err;

	if (!mm) {
		perror(PROG ": mmn_mm_create");
		exit(1);
	}
	err = mmn_mmap(mm, 0, len, MMN_PROT_READ | MMN_PROT_WRITE,
		       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, base);
	if (err) {
		fprintf(stderr, PROG ": mmn_mmap(%lu bytes): %s\n", len, strerror(-err));
		exit(1);
	}
	return mm;
}

/* ---------------------------------------------------------------- */
/* -m: bytes per resident page                                       */
/* ---------------------------------------------------------------- */

struct mem_result {
	double measured;        /* RSS delta / pages */
	double per_frame_fixed; /* RSS delta of mmn_sim_create() / frames */
	double per_fault;       /* RSS delta of mm + mmap + fault-in / pages */
	double structural;      /* computed, see below */
	double fault_ns;        /* ns per faulting store */
	long maxrss_delta;
	unsigned long frames, tables;
	bool ok;
};

static void bench_memory(const struct bench_args *a, unsigned long pages, struct mem_result *r)
{
	unsigned long frames = pages + FRAME_SLACK(pages), base;
	long rss0, rss1, rss2, maxrss0;
	struct mmn_stats st;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	uint64_t t0, t1;
	size_t ptdesc_chunk;
	long audit;
	int err = 0;

	maxrss0 = maxrss_bytes();
	rss0 = rss_bytes();
	sim = sim_new(frames, true);
	rss1 = rss_bytes();
	mm = mm_with_mapping(sim, pages * MMN_PAGE_SIZE, &base);
	t0 = bench_now_ns();
	for (unsigned long i = 0; i < pages && !err; i++)
		err = mmn_cpu_write(mm, 0, base + i * MMN_PAGE_SIZE, i + 1);
	t1 = bench_now_ns();
	rss2 = rss_bytes();
	r->maxrss_delta = maxrss_bytes() - maxrss0;

	mmn_sim_get_stats(sim, &st);
	r->frames = frames;
	r->tables = st.pgtables;
	r->measured = (double)(rss2 - rss0) / (double)pages;
	r->per_frame_fixed = (double)(rss1 - rss0) / (double)frames;
	r->per_fault = (double)(rss2 - rss1) / (double)pages;
	r->fault_ns = (double)(t1 - t0) / (double)pages;

	/*
	 * The structure: every configured frame has a struct mmn_page and a
	 * slot in the free stack, resident or not (the array is allocated and
	 * initialised for all of them, as the kernel's mem_map is); each data
	 * page adds its 8-byte PTE; each page-table page is a frame (struct
	 * page + free-stack slot) plus a heap-allocated struct mmn_ptdesc
	 * whose 512 entries include those PTEs (counted once, in the table).
	 */
	ptdesc_chunk = heap_chunk(sizeof(struct mmn_ptdesc));
	r->structural = ((double)frames * (sizeof(struct mmn_page) + sizeof(uint32_t)) +
			 (double)st.pgtables * (double)ptdesc_chunk) /
			(double)pages;

	r->ok = !err && st.faults_anon == pages;
	if (err)
		fprintf(stderr, PROG ": store %s at page %lu\n", strerror(-err),
			st.faults_anon);
	/* Read a sample back (after the measurement: reads fill TLB entries). */
	for (unsigned long i = 0; i < pages && r->ok; i += 257) {
		uint64_t v = 0;

		if (mmn_cpu_read(mm, 1, base + i * MMN_PAGE_SIZE, &v) || v != i + 1) {
			fprintf(stderr, PROG ": page %lu reads %llu\n", i, (unsigned long long)v);
			r->ok = false;
		}
	}
	audit = mmn_audit(sim);
	if (audit || mmn_check_total(sim)) {
		fprintf(stderr, PROG ": audit %ld, violations %lu\n", audit, mmn_check_total(sim));
		r->ok = false;
	}
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);

	bench_printf(a, "Memory per resident 4 KiB page (%lu pages = %lu MiB mapped, %lu frames, "
		     "%lu page-table pages)\n",
		     pages, pages * MMN_PAGE_SIZE >> 20, frames, r->tables);
	bench_printf(a, "  measured RSS delta / pages          %7.2f bytes  (target <= %.0f)\n",
		     r->measured, MEM_TARGET_BYTES);
	bench_printf(a, "    of which mmn_sim_create / frames  %7.2f bytes per configured frame\n",
		     r->per_frame_fixed);
	bench_printf(a, "    of which mmap + fault-in / pages  %7.2f bytes per faulted page\n",
		     r->per_fault);
	bench_printf(a, "  structural                          %7.2f bytes\n", r->structural);
	bench_printf(a, "    struct mmn_page %zu + free-stack slot %zu per frame; PTE 8 in a\n"
		     "    struct mmn_ptdesc of %zu bytes (%zu on the heap) per 512 pages\n",
		     sizeof(struct mmn_page), sizeof(uint32_t), sizeof(struct mmn_ptdesc),
		     ptdesc_chunk);
	bench_printf(a, "  peak RSS (ru_maxrss) delta / pages  %7.2f bytes\n",
		     (double)r->maxrss_delta / (double)pages);
	bench_printf(a, "  fault-in: %.0f ns per page\n\n", r->fault_ns);
}

/* ---------------------------------------------------------------- */
/* -t: TLB-hit read against a host load                              */
/* ---------------------------------------------------------------- */

/* Host baseline: TLB_PAGES "pages" of 512 words; a load from each. */
static uint64_t host_mem[TLB_PAGES * 512];

/* The same load behind an out-of-line call, as the library's is. Called
 * through a volatile pointer so that it is neither inlined nor cloned. */
static __attribute__((noinline)) uint64_t host_load_call(const volatile uint64_t *p)
{
	return *p;
}
static uint64_t (*volatile host_load_fn)(const volatile uint64_t *) = host_load_call;

static double time_host_plain(unsigned long n)
{
	const volatile uint64_t *m = host_mem;
	uint64_t sum = 0, t0, t1;

	t0 = bench_now_ns();
	for (unsigned long i = 0; i < n; i++)
		sum += m[(i % TLB_PAGES) * 512];
	t1 = bench_now_ns();
	bench_keep(sum);
	return (double)(t1 - t0) / (double)n;
}

static double time_host_call(unsigned long n)
{
	uint64_t (*fn)(const volatile uint64_t *) = host_load_fn;
	const volatile uint64_t *m = host_mem;
	uint64_t sum = 0, t0, t1;

	t0 = bench_now_ns();
	for (unsigned long i = 0; i < n; i++)
		sum += fn(&m[(i % TLB_PAGES) * 512]);
	t1 = bench_now_ns();
	bench_keep(sum);
	return (double)(t1 - t0) / (double)n;
}

struct tlb_case {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long base;
	unsigned long misses0;
	int errors;
};

static void tlb_case_init(struct tlb_case *c, bool lockdep)
{
	struct mmn_stats st;
	uint64_t v;

	c->sim = sim_new(4096, lockdep);
	c->mm = mm_with_mapping(c->sim, TLB_PAGES * MMN_PAGE_SIZE, &c->base);
	c->errors = 0;
	/* Fault every page in with a store, then fill the TLB with a load. */
	for (unsigned long p = 0; p < TLB_PAGES; p++) {
		host_mem[p * 512] = p + 1;
		if (mmn_cpu_write(c->mm, 0, c->base + p * MMN_PAGE_SIZE, p + 1) ||
		    mmn_cpu_read(c->mm, 0, c->base + p * MMN_PAGE_SIZE, &v) || v != p + 1)
			c->errors++;
	}
	mmn_sim_get_stats(c->sim, &st);
	c->misses0 = st.tlb_misses;
}

static double time_tlb_hit(struct tlb_case *c, unsigned long n)
{
	struct mmn_mm *mm = c->mm;
	unsigned long base = c->base;
	uint64_t sum = 0, v = 0, t0, t1;
	int err = 0;

	t0 = bench_now_ns();
	for (unsigned long i = 0; i < n; i++) {
		err |= mmn_cpu_read(mm, 0, base + (i % TLB_PAGES) * MMN_PAGE_SIZE, &v);
		sum += v;
	}
	t1 = bench_now_ns();
	bench_keep(sum);
	/* The values written at set-up, (1 + .. + TLB_PAGES) per round. */
	if (err || (n % TLB_PAGES == 0 &&
		    sum != (uint64_t)(n / TLB_PAGES) * TLB_PAGES * (TLB_PAGES + 1) / 2))
		c->errors++;
	return (double)(t1 - t0) / (double)n;
}

/* The same reads through the opt-in inline fast path (mmn_tlb_read_inline). */
static double time_tlb_hit_inline(struct tlb_case *c, unsigned long n)
{
	struct mmn_tlb_view v;
	unsigned long base = c->base;
	uint64_t sum = 0, val = 0, t0, t1;
	int err = mmn_tlb_view_init(&v, c->mm, 0);

	t0 = bench_now_ns();
	for (unsigned long i = 0; i < n; i++) {
		err |= mmn_tlb_read_inline(&v, base + (i % TLB_PAGES) * MMN_PAGE_SIZE, &val);
		sum += val;
	}
	t1 = bench_now_ns();
	bench_keep(sum);
	if (err || (n % TLB_PAGES == 0 &&
		    sum != (uint64_t)(n / TLB_PAGES) * TLB_PAGES * (TLB_PAGES + 1) / 2))
		c->errors++;
	return (double)(t1 - t0) / (double)n;
}

/* Every timed read must have hit: no miss since set-up, no violation. */
static bool tlb_case_fini(struct tlb_case *c)
{
	struct mmn_stats st;
	bool ok;

	mmn_sim_get_stats(c->sim, &st);
	ok = !c->errors && st.tlb_misses == c->misses0 && !mmn_check_total(c->sim);
	if (!ok)
		fprintf(stderr, PROG ": TLB case: %d errors, %lu misses in the timed loop\n",
			c->errors, st.tlb_misses - c->misses0);
	mmn_mm_put(c->mm);
	mmn_sim_destroy(c->sim);
	return ok;
}

struct tlb_result {
	double plain, call, hit_ld, hit_nold, hit_inline;
	double ratio_ld, ratio_nold, ratio_call_ld, ratio_inline;
	bool ok;
};

static void bench_tlb(const struct bench_args *a, struct tlb_result *r)
{
	double plain[BENCH_MAX_REPEATS], call[BENCH_MAX_REPEATS];
	double ld[BENCH_MAX_REPEATS], nold[BENCH_MAX_REPEATS], inl[BENCH_MAX_REPEATS];
	struct tlb_case on, off;
	unsigned long n = a->iterations;

	tlb_case_init(&on, true);
	tlb_case_init(&off, false);
	/* Warm-up: caches, branch predictors, CPU frequency. */
	time_host_plain(n / 10 + 1);
	time_host_call(n / 10 + 1);
	time_tlb_hit(&on, n / 10 + 1);
	time_tlb_hit(&off, n / 10 + 1);
	time_tlb_hit_inline(&off, n / 10 + 1);
	/* Interleaved, so that a noisy neighbour hits all four alike. */
	for (unsigned int i = 0; i < a->repeats; i++) {
		plain[i] = time_host_plain(n);
		ld[i] = time_tlb_hit(&on, n);
		call[i] = time_host_call(n);
		nold[i] = time_tlb_hit(&off, n);
		inl[i] = time_tlb_hit_inline(&off, n);
	}
	r->plain = bench_median(plain, a->repeats);
	r->call = bench_median(call, a->repeats);
	r->hit_ld = bench_median(ld, a->repeats);
	r->hit_nold = bench_median(nold, a->repeats);
	r->ratio_ld = r->hit_ld / r->plain;
	r->ratio_nold = r->hit_nold / r->plain;
	r->ratio_call_ld = r->hit_ld / r->call;
	r->hit_inline = bench_median(inl, a->repeats);
	r->ratio_inline = r->hit_inline / r->plain;
	r->ok = tlb_case_fini(&on);
	r->ok = tlb_case_fini(&off) && r->ok;

	bench_printf(a, "Read through a TLB hit (%d pages cycled, %lu reads x %u repeats, "
		     "medians)\n",
		     TLB_PAGES, n, a->repeats);
	bench_printf(a, "  %-34s %7.2f ns/op\n", "host: volatile load from array", r->plain);
	bench_printf(a, "  %-34s %7.2f ns/op\n", "host: same load behind a call", r->call);
	bench_printf(a, "  %-34s %7.2f ns/op  %5.1fx plain  %5.1fx call\n",
		     "mmn_cpu_read hit, lockdep on", r->hit_ld, r->ratio_ld, r->ratio_call_ld);
	bench_printf(a, "  %-34s %7.2f ns/op  %5.1fx plain  %5.1fx call\n",
		     "mmn_cpu_read hit, lockdep off", r->hit_nold, r->ratio_nold,
		     r->hit_nold / r->call);
	bench_printf(a, "  %-34s %7.2f ns/op  %5.1fx plain  %5.1fx call\n",
		     "mmn_tlb_read_inline hit (inline.h)", r->hit_inline, r->ratio_inline,
		     r->hit_inline / r->call);
	bench_printf(a, "  target: hit within %.0fx of the plain load\n\n", TLB_TARGET_RATIO);
}

int main(int argc, char **argv)
{
	struct bench_args a = { .iterations = 20000000, .repeats = 11, .quiet = false };
	struct opts o = { .pages = DEFAULT_PAGES };
	struct mem_result mr = { .ok = true };
	struct tlb_result tr = { .ok = true };
	char mem[256] = "", tlb[384] = "";

	bench_getopt(argc, argv, &a, "mtp:", parse_opt, &o, "[-m] [-t] [-p pages]",
		     "  -m    measure memory per resident page (once per run; -n, -r unused)\n"
		     "  -t    measure reads through a TLB hit (-n reads per repeat)\n"
		     "        neither -m nor -t: both\n"
		     "  -p N  resident pages of the memory measurement (default 1048576)\n");
	if (!o.mem && !o.tlb)
		o.mem = o.tlb = true;

	/* Memory first: the process's heap is still untouched by the library. */
	if (o.mem)
		bench_memory(&a, o.pages, &mr);
	if (o.tlb)
		bench_tlb(&a, &tr);

	if (o.mem)
		snprintf(mem, sizeof(mem),
			 "pages=%lu bytes_per_page=%.2f structural_bytes_per_page=%.2f "
			 "fixed_bytes_per_frame=%.2f fault_bytes_per_page=%.2f fault_ns=%.0f "
			 "mem_target_met=%d ",
			 o.pages, mr.measured, mr.structural, mr.per_frame_fixed, mr.per_fault,
			 mr.fault_ns, mr.measured <= MEM_TARGET_BYTES);
	if (o.tlb)
		snprintf(tlb, sizeof(tlb),
			 "n=%lu repeats=%u plain_ns=%.3f call_ns=%.3f hit_lockdep_ns=%.3f "
			 "hit_nolockdep_ns=%.3f ratio_lockdep=%.2f ratio_nolockdep=%.2f "
			 "inline_ns=%.3f ratio_inline=%.2f inline_target_met=%d tlb_target_met=%d ",
			 a.iterations, a.repeats, tr.plain, tr.call, tr.hit_ld, tr.hit_nold,
			 tr.ratio_ld, tr.ratio_nold, tr.hit_inline, tr.ratio_inline,
			 tr.ratio_inline <= TLB_TARGET_RATIO,
			 tr.ratio_ld <= TLB_TARGET_RATIO && tr.ratio_nold <= TLB_TARGET_RATIO);
	bench_summary(PROG, "%s%sok=%d", mem, tlb, mr.ok && tr.ok);
	return mr.ok && tr.ok ? 0 : 1;
}
