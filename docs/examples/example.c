// SPDX-License-Identifier: MIT
/*
 * mmnsim-example (CMake target, built as build/<preset>/sim/mmnsim-example):
 * a CPU-only walk-through of the public API.
 *
 * Maps 64 pages of private anonymous memory, has two simulated CPUs fault it
 * in concurrently (CPU 0 writes the even pages, CPU 1 reads then writes the
 * odd ones), checks the data from the other CPU, unmaps it, and prints what
 * the primary MMU did: faults by kind, TLB fills, hits and shootdowns, and
 * frames allocated and freed. Exit status 0 when the data and the final
 * accounting audit are right, 1 otherwise.
 */
#include <stdio.h>
#include <stdlib.h>

#include <mmnsim/mmnsim.h>

#define NR_PAGES 64UL

struct worker {
	struct mmn_mm *mm;
	unsigned long base;
	int cpu;
	int errors;
};

static void *cpu_body(void *arg)
{
	struct worker *w = arg;

	for (unsigned long i = (unsigned long)w->cpu; i < NR_PAGES; i += 2) {
		unsigned long addr = w->base + i * MMN_PAGE_SIZE;
		uint64_t v;

		/* CPU 1 reads first: a zero-page mapping, then a COW on write. */
		if (w->cpu == 1 && (mmn_cpu_read(w->mm, w->cpu, addr, &v) || v != 0))
			w->errors++;
		if (mmn_cpu_write(w->mm, w->cpu, addr, 0x1000 + i))
			w->errors++;
	}
	return NULL;
}

int main(void)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_actor *actors[2];
	struct worker w[2];
	struct mmn_stats st;
	unsigned long base;
	int errors = 0, err;
	long audit;
	unsigned long violations;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096;
	sim = mmn_sim_create(&cfg);
	if (!sim) {
		perror("mmn_sim_create");
		return 1;
	}
	mm = mmn_mm_create(sim);
	err = mm ? mmn_mmap(mm, 0, NR_PAGES * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
			    MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &base)
		 : -1;
	if (err) {
		fprintf(stderr, "mmap failed: %d\n", err);
		return 1;
	}
	printf("mmnsim %s example: %lu pages mapped at 0x%lx, 2 CPUs\n", mmn_version_string(),
	       NR_PAGES, base);

	for (int c = 0; c < 2; c++) {
		w[c] = (struct worker){ .mm = mm, .base = base, .cpu = c };
		if (mmn_actor_spawn(sim, c ? "cpu1" : "cpu0", cpu_body, &w[c], &actors[c])) {
			fprintf(stderr, "cannot start CPU %d\n", c);
			return 1;
		}
	}
	for (int c = 0; c < 2; c++) {
		mmn_actor_join(actors[c], NULL);
		errors += w[c].errors;
	}
	/* Each CPU reads what the other wrote: the data is shared memory. */
	for (unsigned long i = 0; i < NR_PAGES; i++) {
		uint64_t v = 0;

		if (mmn_cpu_read(mm, (int)((i + 1) % 2), base + i * MMN_PAGE_SIZE, &v) ||
		    v != 0x1000 + i)
			errors++;
	}
	mmn_sim_get_stats(sim, &st);
	printf("after fault-in:   faults %lu (zero-page %lu, anon %lu, cow %lu, reuse %lu)\n",
	       st.faults, st.faults_zero_page, st.faults_anon, st.faults_cow, st.faults_reuse);
	printf("                  TLB fills %lu, hits %lu, misses %lu, shootdowns %lu\n",
	       st.tlb_fills, st.tlb_hits, st.tlb_misses, st.tlb_shootdowns);
	printf("                  frames in use %lu (page tables %lu)\n",
	       st.frames_total - 1 - st.frames_free, st.pgtables);

	err = mmn_munmap(mm, base, NR_PAGES * MMN_PAGE_SIZE);
	if (err)
		errors++;
	mmn_sim_get_stats(sim, &st);
	printf("after munmap:     TLB range flushes %lu, full flushes %lu, shootdowns %lu, "
	       "entries dropped %lu\n",
	       st.tlb_flush_range, st.tlb_flush_mm, st.tlb_shootdowns, st.tlb_entries_dropped);
	printf("                  frames allocated %lu, freed %lu, in use %lu (page tables %lu)\n",
	       st.frames_allocated, st.frames_freed, st.frames_total - 1 - st.frames_free,
	       st.pgtables);
	audit = mmn_audit(sim);
	violations = mmn_check_total(sim);
	printf("audit: %ld inconsistencies; violations: %lu; data errors: %d\n", audit,
	       violations, errors);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
	return errors || audit || violations ? 1 : 0;
}
