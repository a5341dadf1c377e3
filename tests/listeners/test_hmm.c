// SPDX-License-Identifier: MIT
/*
 * The HMM-style listener (include/mmnsim/listeners/hmm.h): the device-side
 * semantics of the kernel's hmm-tests (anon read/write, protection failures,
 * fork and COW with a mirror, migration and fault back, exclusive access,
 * teardown racing a device read, snapshot), written anew against the
 * mirror; scenario S7 (valid flag versus sequence), S5 (event-blind versus
 * event-aware counts), the non-blockable refusal, bad input, and a native
 * stress run. Interleavings are driven from the fault loop's explicit
 * scheduling points (mmn_hmm_fault_point_name()) and completions: no sleeps.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define BASE 0x40000000UL
#define NPAGES 16
#define MIRROR_PAGES 64

struct hf {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	struct mmn_hmm *m;
};

static struct mmn_hmm *mirror_new(struct mmn_mm *mm, enum mmn_hmm_variant v,
				  unsigned long devmem)
{
	struct mmn_hmm_config cfg;
	struct mmn_hmm *m = NULL;

	mmn_hmm_config_init(&cfg);
	cfg.variant = v;
	cfg.devmem_pages = devmem;
	assert_int_equal(mmn_hmm_create(mm, BASE, MIRROR_PAGES * PG, &cfg, &m), 0);
	return m;
}

static struct hf *hf_new_cfg(enum mmn_hmm_variant v, unsigned long devmem, const char *profile)
{
	struct hf *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;
	unsigned long got;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 2048;
	cfg.profile = profile;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	assert_int_equal(mmn_mmap(f->mm, BASE, NPAGES * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	f->m = mirror_new(f->mm, v, devmem);
	return f;
}

static struct hf *hf_new(enum mmn_hmm_variant v)
{
	return hf_new_cfg(v, 0, "latest");
}

/* Quiescent audit, accounting audit, exactly @violations found, teardown. */
static void hf_free(struct hf *f, unsigned long violations)
{
	if (f->m) {
		assert_int_equal(mmn_check_quiescent(f->sim), 0);
		assert_int_equal(mmn_hmm_destroy(f->m), 0);
	}
	assert_int_equal(mmn_audit(f->sim), 0);
	if (mmn_check_total(f->sim) != violations)
		capture_say_last(&f->cap);
	assert_int_equal(mmn_check_total(f->sim), violations);
	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
}

static struct mmn_hmm_stats stats(struct mmn_hmm *m)
{
	struct mmn_hmm_stats st;

	assert_int_equal(mmn_hmm_get_stats(m, &st), 0);
	return st;
}

static void cpu_fill(struct hf *f, unsigned long first, unsigned long n, uint64_t base)
{
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, BASE + (first + i) * PG, base + i), 0);
}

static uint64_t cpu_get(struct mmn_mm *mm, unsigned long addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_cpu_read(mm, 0, addr, &v), 0);
	return v;
}

/* ---- a one-shot action at one of the fault loop's scheduling points ---- */

struct once {
	const char *point;
	bool fired;
	void (*fn)(struct hf *f);
	struct hf *f;
};

static void once_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct once *o = arg;

	(void)sim;
	if (o->fired || ev->kind != MMN_SCHED_EXPLICIT || !ev->name || strcmp(ev->name, o->point))
		return;
	o->fired = true;
	o->fn(o->f);
}

static void arm(struct hf *f, struct once *o, bool after_program, void (*fn)(struct hf *f))
{
	*o = (struct once){ .point = mmn_hmm_fault_point_name(after_program), .fn = fn, .f = f };
	mmn_sched_set_hook(f->sim, once_hook, o);
}

/* ================================================================== */
/* hmm-tests ports                                                     */
/* ================================================================== */

/* hmm.anon_read: one fault pass maps a populated buffer and its pte_none
 * half (zero page); a second read needs none. */
static void test_anon_read_one_fault_pass(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES];
	struct mmn_hmm_stats st;
	unsigned long pfn;
	bool w;

	(void)state;
	cpu_fill(f, 0, NPAGES / 2, 100);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(out[i], i < NPAGES / 2 ? 100 + (uint64_t)i : 0);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 0);
	st = stats(f->m);
	assert_int_equal(st.device_faults, 1);
	assert_int_equal(st.fault_loops, 1);
	assert_int_equal(st.programmed, NPAGES);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.retry_hist[0], 1);
	assert_int_equal(st.reads, 2);
	assert_int_equal(mmn_hmm_nr_entries(f->m), NPAGES);
	/* populated pages are mapped writable (HMM_PFN_WRITE), holes read-only on the zero page */
	assert_int_equal(mmn_hmm_entry(f->m, BASE, &pfn, &w, NULL), 0);
	assert_true(w);
	assert_int_equal(mmn_hmm_entry(f->m, BASE + (NPAGES - 1) * PG, &pfn, &w, NULL), 0);
	assert_int_equal(pfn, MMN_ZERO_PFN);
	assert_false(w);
	hf_free(f, 0);
}

/* hmm.anon_read after mprotect(READ): the zero page is read, still one pass. */
static void test_anon_read_zero_page_after_mprotect_read(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES];

	(void)state;
	assert_int_equal(mmn_mprotect(f->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	memset(out, 0xa5, sizeof(out));
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(out[i], 0);
	hf_free(f, 0);
}

/* hmm.anon_read_prot: PROT_NONE fails with -EFAULT, mirror and buffer untouched. */
static void test_anon_read_prot_none_efault(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES];

	(void)state;
	cpu_fill(f, 0, NPAGES, 1);
	assert_int_equal(mmn_mprotect(f->mm, BASE, NPAGES * PG, MMN_PROT_NONE), 0);
	for (int i = 0; i < NPAGES; i++)
		out[i] = 0xdead;
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), -EFAULT);
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(out[i], 0xdead);
	assert_int_equal(mmn_hmm_nr_entries(f->m), 0);
	assert_int_equal(stats(f->m).device_faults, 0);
	hf_free(f, 0);
}

/* hmm.anon_write: an unpopulated buffer is faulted in writable; the CPU sees the data. */
static void test_anon_write_faults_in_writable(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t in[NPAGES];
	bool w;

	(void)state;
	for (int i = 0; i < NPAGES; i++)
		in[i] = 7000 + (uint64_t)i;
	assert_int_equal(mmn_hmm_write(f->m, BASE, NPAGES, in), 1);
	for (int i = 0; i < NPAGES; i++) {
		assert_int_equal(cpu_get(f->mm, BASE + i * PG), 7000 + (uint64_t)i);
		assert_int_equal(mmn_hmm_entry(f->m, BASE + i * PG, NULL, &w, NULL), 0);
		assert_true(w);
	}
	assert_int_equal(stats(f->m).writes, 1);
	hf_free(f, 0);
}

/* hmm.anon_write_prot: read maps the zero page; write to PROT_READ is
 * -EPERM; after mprotect(RW) the write succeeds and replaces the zero page. */
static void test_anon_write_prot_eperm_then_ok(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES], in[NPAGES];
	unsigned long pfn;

	(void)state;
	assert_int_equal(mmn_mprotect(f->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	for (int i = 0; i < NPAGES; i++)
		in[i] = 50 + (uint64_t)i;
	assert_int_equal(mmn_hmm_write(f->m, BASE, NPAGES, in), -EPERM);
	assert_int_equal(cpu_get(f->mm, BASE), 0);
	assert_int_equal(mmn_mprotect(f->mm, BASE, NPAGES * PG, RW), 0);
	assert_int_equal(mmn_hmm_write(f->m, BASE, NPAGES, in), 1);
	for (int i = 0; i < NPAGES; i++) {
		assert_int_equal(cpu_get(f->mm, BASE + i * PG), 50 + (uint64_t)i);
		assert_int_equal(mmn_hmm_entry(f->m, BASE + i * PG, &pfn, NULL, NULL), 0);
		assert_int_not_equal(pfn, MMN_ZERO_PFN);
	}
	hf_free(f, 0);
}

/* hmm.anon_write_child: after fork the child's device write COWs; the
 * parent (whose mm the first mirror is on) is unchanged, and the
 * event-aware parent mirror kept its (write-protected) entries. */
static void test_fork_child_device_write_cows(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	struct mmn_mm *child;
	struct mmn_hmm *cm;
	uint64_t out[4], in[4] = { 100, 101, 102, 103 };
	struct mmn_hmm_stats st;

	(void)state;
	cpu_fill(f, 0, 4, 1);
	assert_int_equal(mmn_hmm_write(f->m, BASE, 4, (uint64_t[]){ 1, 2, 3, 4 }), 1);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	st = stats(f->m);
	assert_int_equal(st.by_event[MMN_NOTIFY_PROTECTION_PAGE], 1);
	assert_int_equal(st.downgraded, 4);
	assert_int_equal(st.zapped, 0);
	cm = mirror_new(child, MMN_HMM_EVENT_AWARE, 0);
	assert_int_equal(mmn_hmm_write(cm, BASE, 4, in), 1);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cpu_get(child, BASE + i * PG), 100 + (uint64_t)i);
		assert_int_equal(cpu_get(f->mm, BASE + i * PG), 1 + (uint64_t)i);
	}
	/* the parent's mirror reads through its kept entries: no fault */
	assert_int_equal(mmn_hmm_read(f->m, BASE, 4, out), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], 1 + (uint64_t)i);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(mmn_hmm_destroy(cm), 0);
	mmn_mm_put(child);
	hf_free(f, 0);
}

/* ---- hmm.anon_teardown: an munmap racing the device read ---- */

static void unmap_second_half(struct hf *f)
{
	assert_int_equal(mmn_munmap(f->mm, BASE + NPAGES / 2 * PG, NPAGES / 2 * PG), 0);
}

static void remap_second_half(struct hf *f)
{
	unsigned long got;

	assert_int_equal(mmn_mmap(f->mm, BASE + NPAGES / 2 * PG, NPAGES / 2 * PG, RW,
				  ANON | MMN_MAP_FIXED, &got), 0);
}

/* munmap after the walk collected the frames, before the device lock: the
 * retry finds the hole and the read fails cleanly, nothing programmed. */
static void test_teardown_after_collect_fails_cleanly(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES];
	struct once o;

	(void)state;
	cpu_fill(f, 0, NPAGES, 1);
	arm(f, &o, false, unmap_second_half);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), -EFAULT);
	assert_true(o.fired);
	assert_int_equal(stats(f->m).retries, 1);
	assert_int_equal(mmn_hmm_nr_entries(f->m), 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	hf_free(f, 0);
}

/* munmap + mmap(FIXED) there after the walk: the read returns the new
 * (zero) pages, never the freed ones. */
static void test_teardown_remap_after_collect_reads_new_pages(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES];
	struct once o;

	(void)state;
	cpu_fill(f, 0, NPAGES, 1);
	arm(f, &o, false, remap_second_half);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	assert_true(o.fired);
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(out[i], i < NPAGES / 2 ? 1 + (uint64_t)i : 0);
	assert_int_equal(stats(f->m).retries, 1);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	hf_free(f, 0);
}

/* munmap after the entries were programmed, before the copy: the
 * notification erases them, the copy faults and fails cleanly. */
static void test_teardown_after_program_fails_cleanly(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES];
	struct once o;

	(void)state;
	cpu_fill(f, 0, NPAGES, 1);
	arm(f, &o, true, unmap_second_half);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), -EFAULT);
	assert_true(o.fired);
	for (int i = 0; i < NPAGES / 2; i++)
		assert_int_equal(out[i], 1 + (uint64_t)i);
	assert_int_equal(stats(f->m).zapped, NPAGES / 2);
	assert_int_equal(mmn_hmm_nr_entries(f->m), NPAGES / 2);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	hf_free(f, 0);
}

/* hmm2.snapshot without device memory: no faulting, one byte per page. */
static void test_snapshot_reports_without_faulting(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint8_t p[8];
	uint64_t v;

	(void)state;
	/* 0: pte_none; 1: zero page; 2: written; 3: written then read-only;
	 * 4: PROT_NONE; 5-7: unmapped */
	assert_int_equal(mmn_cpu_read(f->mm, 0, BASE + PG, &v), 0);
	cpu_fill(f, 2, 2, 9);
	assert_int_equal(mmn_mprotect(f->mm, BASE + 3 * PG, PG, MMN_PROT_READ), 0);
	assert_int_equal(mmn_mprotect(f->mm, BASE + 4 * PG, PG, MMN_PROT_NONE), 0);
	assert_int_equal(mmn_munmap(f->mm, BASE + 5 * PG, (NPAGES - 5) * PG), 0);
	memset(p, 0x77, sizeof(p));
	assert_int_equal(mmn_hmm_snapshot(f->m, BASE, 8, p), 0);
	assert_int_equal(p[0], MMN_HMM_PROT_NONE);
	assert_int_equal(p[1], MMN_HMM_PROT_ZERO | MMN_HMM_PROT_READ);
	assert_int_equal(p[2], MMN_HMM_PROT_READ | MMN_HMM_PROT_WRITE);
	assert_int_equal(p[3], MMN_HMM_PROT_READ);
	assert_int_equal(p[4], MMN_HMM_PROT_ERROR);
	for (int i = 5; i < 8; i++)
		assert_int_equal(p[i], MMN_HMM_PROT_ERROR);
	assert_int_equal(mmn_hmm_nr_entries(f->m), 0);
	assert_int_equal(stats(f->m).device_faults, 0);
	hf_free(f, 0);
}

/* ---- device memory ---- */

/* hmm.migrate + migrate_fault: to the device (its own MIGRATE skipped), the
 * device reads its pages without faulting, the CPU faults one back through
 * migrate_to_ram, the mixed range migrates again. */
static void test_migrate_and_fault_back(void **state)
{
	struct hf *f = hf_new_cfg(MMN_HMM_EVENT_AWARE, 8, "latest");
	uint64_t out[4];
	uint8_t p[4];
	struct mmn_hmm_stats st;

	(void)state;
	cpu_fill(f, 0, 4, 40);
	assert_int_equal(mmn_hmm_migrate_to_device(f->m, BASE, 4), 4);
	st = stats(f->m);
	assert_int_equal(st.migrated_to_device, 4);
	assert_int_equal(st.skipped_own, 1);
	assert_int_equal(st.zapped, 0);
	assert_int_equal(mmn_hmm_snapshot(f->m, BASE, 4, p), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(p[i], MMN_HMM_PROT_DEV_PRIVATE_LOCAL | MMN_HMM_PROT_READ |
					       MMN_HMM_PROT_WRITE);
	assert_int_equal(mmn_hmm_read(f->m, BASE, 4, out), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(out[i], 40 + (uint64_t)i);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	/* CPU touches pages 0 and 1: migrate_to_ram, own MIGRATE skipped */
	assert_int_equal(cpu_get(f->mm, BASE), 40);
	assert_int_equal(mmn_cpu_write(f->mm, 0, BASE + PG, 141), 0);
	st = stats(f->m);
	assert_int_equal(st.migrate_to_ram, 2);
	assert_int_equal(st.skipped_own, 3);
	assert_int_equal(mmn_hmm_nr_entries(f->m), 2);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	/* the device reads the mixed range: one pass maps the system pages */
	assert_int_equal(mmn_hmm_read(f->m, BASE, 4, out), 1);
	assert_int_equal(out[0], 40);
	assert_int_equal(out[1], 141);
	/* migrate the mixed range again: two move, two already there; the
	 * result counts all four now on the device (hmm.h; the kernel's
	 * cmd->cpages, hmm-tests migrate_multiple) */
	assert_int_equal(mmn_hmm_migrate_to_device(f->m, BASE, 4), 4);
	assert_int_equal(stats(f->m).migrated_to_device, 6);
	assert_int_equal(mmn_hmm_read(f->m, BASE, 4, out), 0);
	assert_int_equal(out[1], 141);
	/* MIGRATE_TO_SYS */
	assert_int_equal(mmn_hmm_migrate_to_ram(f->m, BASE, 4), 0);
	assert_int_equal(mmn_hmm_read(f->m, BASE, 4, out), 1);
	assert_int_equal(out[3], 43);
	hf_free(f, 0);
}

/* ---- device-exclusive access ---- */

/* hmm.exclusive: atomics map pages ATOMIC; a CPU access revokes them
 * (notification); CHECK_EXCLUSIVE then succeeds. Own EXCLUSIVE skipped. */
static void test_exclusive_revoked_by_cpu(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t old;
	bool atomic;
	struct mmn_hmm_stats st;

	(void)state;
	cpu_fill(f, 0, 4, 10);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mmn_hmm_atomic(f->m, BASE + i * PG, 5, &old), 0);
		assert_int_equal(old, 10 + (uint64_t)i);
	}
	assert_int_equal(mmn_hmm_atomic(f->m, BASE, 1, &old), 0);
	assert_int_equal(old, 15);
	st = stats(f->m);
	assert_int_equal(st.exclusive_made, 4);
	assert_int_equal(st.skipped_own, 4);
	assert_int_equal(st.atomics, 5);
	assert_int_equal(mmn_hmm_check_exclusive(f->m, BASE, 4), -EPERM);
	assert_int_equal(mmn_hmm_entry(f->m, BASE, NULL, NULL, &atomic), 0);
	assert_true(atomic);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	for (int i = 0; i < 4; i++) {
		uint64_t v = cpu_get(f->mm, BASE + i * PG);

		assert_int_equal(v, 15 + (uint64_t)i + (i == 0));
		assert_int_equal(mmn_cpu_write(f->mm, 0, BASE + i * PG, v + 1), 0);
	}
	assert_int_equal(mmn_hmm_check_exclusive(f->m, BASE, 4), 0);
	assert_int_equal(mmn_hmm_nr_entries(f->m), 0);
	hf_free(f, 0);
}

/* test_hmm passes a NULL owner: its own EXCLUSIVE range erases first, the
 * ATOMIC entry is stored afterwards. */
/*
 * hmm.exclusive_cow: atomics, then fork. Fork restores the device-exclusive
 * entries to present PTEs without a notifier of their own
 * (copy_nonpresent_pte() → try_restore_exclusive_pte(), 5.14-6.19) inside
 * its PROTECTION_PAGE range, so the mirror must drop its ATOMIC entries
 * there, whichever variant: the audit is clean, CHECK_EXCLUSIVE says none
 * is left, both processes' CPU stores work, and a device atomic after the
 * child's COW makes the parent's page exclusive again.
 */
static void exclusive_cow(enum mmn_hmm_variant v)
{
	struct hf *f = hf_new(v);
	struct mmn_mm *child;
	uint64_t old;

	cpu_fill(f, 0, 4, 10);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_hmm_atomic(f->m, BASE + i * PG, 5, &old), 0);
	assert_int_equal(mmn_hmm_check_exclusive(f->m, BASE, 4), -EPERM);
	assert_int_equal(mmn_fork(f->mm, &child), 0);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(mmn_hmm_check_exclusive(f->m, BASE, 4), 0);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(cpu_get(child, BASE + i * PG), 15 + (uint64_t)i);
		assert_int_equal(mmn_cpu_write(child, 1, BASE + i * PG, 100 + (uint64_t)i), 0);
	}
	assert_int_equal(mmn_hmm_atomic(f->m, BASE, 1, &old), 0);
	assert_int_equal(old, 15);
	assert_int_equal(mmn_hmm_check_exclusive(f->m, BASE, 1), -EPERM);
	for (int i = 0; i < 4; i++) {
		uint64_t want = 15 + (uint64_t)i + (i == 0);

		assert_int_equal(cpu_get(f->mm, BASE + i * PG), want);
		assert_int_equal(mmn_cpu_write(f->mm, 0, BASE + i * PG, want + 1), 0);
		assert_int_equal(cpu_get(child, BASE + i * PG), 100 + (uint64_t)i);
	}
	assert_int_equal(mmn_hmm_check_exclusive(f->m, BASE, 4), 0);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	mmn_mm_put(child);
	hf_free(f, 0);
}

static void test_exclusive_entries_do_not_survive_fork(void **state)
{
	(void)state;
	exclusive_cow(MMN_HMM_EVENT_AWARE);
	exclusive_cow(MMN_HMM_EVENT_BLIND);
}

static void test_exclusive_null_owner_erases_then_stores(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	struct mmn_hmm_config cfg;
	struct mmn_hmm *m;
	struct mmn_hmm_stats st;
	uint64_t out[1];

	(void)state;
	assert_int_equal(mmn_hmm_destroy(f->m), 0);
	mmn_hmm_config_init(&cfg);
	cfg.exclusive_null_owner = true;
	assert_int_equal(mmn_hmm_create(f->mm, BASE, MIRROR_PAGES * PG, &cfg, &m), 0);
	f->m = m;
	cpu_fill(f, 0, 1, 3);
	assert_int_equal(mmn_hmm_read(m, BASE, 1, out), 1);
	assert_int_equal(mmn_hmm_atomic(m, BASE, 1, NULL), 0);
	st = stats(m);
	assert_int_equal(st.skipped_own, 0);
	assert_int_equal(st.by_event[MMN_NOTIFY_EXCLUSIVE], 1);
	assert_int_equal(st.zapped, 1);
	assert_int_equal(mmn_hmm_check_exclusive(m, BASE, 1), -EPERM);
	assert_int_equal(cpu_get(f->mm, BASE), 4);
	hf_free(f, 0);
}

/* hmm.exclusive_mprotect: after mprotect(READ) the device cannot write. */
static void test_exclusive_mprotect_read_eperm(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);

	(void)state;
	cpu_fill(f, 0, 2, 1);
	assert_int_equal(mmn_hmm_atomic(f->m, BASE, 1, NULL), 0);
	assert_int_equal(mmn_mprotect(f->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	assert_int_equal(mmn_hmm_atomic(f->m, BASE, 1, NULL), -EPERM);
	assert_int_equal(mmn_hmm_write(f->m, BASE, 1, (uint64_t[]){ 9 }), -EPERM);
	assert_int_equal(mmn_hmm_atomic(f->m, BASE + PG, 1, NULL), -EPERM);
	assert_int_equal(cpu_get(f->mm, BASE), 2);
	hf_free(f, 0);
}

/* ================================================================== */
/* S7: the valid flag's ABA race versus the interval sequence           */
/* ================================================================== */

/* Invalidation 1 (madvise DONTNEED: start → zap, pages freed → end)
 * runs entirely after the walk collected the frames and before the
 * device lock: "valid" is false then true again. */
static void dontneed_all(struct hf *f)
{
	assert_int_equal(mmn_madvise(f->mm, BASE, 4 * PG, MMN_MADV_DONTNEED), 0);
}

static void s7_run(enum mmn_hmm_variant v, unsigned long uaf, unsigned long stale,
		   unsigned long retries)
{
	struct hf *f = hf_new(v);
	uint64_t out[4];
	struct once o;
	long q;

	cpu_fill(f, 0, 4, 0x5000);
	arm(f, &o, false, dontneed_all);
	assert_int_equal(mmn_hmm_read(f->m, BASE, 4, out), 1);
	assert_true(o.fired);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(stats(f->m).retries, retries);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_USE_AFTER_FREE), uaf);
	if (!uaf)
		for (int i = 0; i < 4; i++)
			assert_int_equal(out[i], 0);
	q = mmn_check_quiescent(f->sim);
	assert_int_equal(q, stale);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_STALE_TRANSLATION), stale);
	assert_int_equal(mmn_hmm_destroy(f->m), 0);
	f->m = NULL;
	hf_free(f, uaf + stale);
}

static void test_s7_valid_flag_maps_freed_frames(void **state)
{
	(void)state;
	/* 4 stale entries programmed: 4 use-after-free reads, 4 stale at quiescence */
	s7_run(MMN_HMM_VALID_FLAG, 4, 4, 0);
}

static void test_s7_sequence_retries(void **state)
{
	(void)state;
	s7_run(MMN_HMM_EVENT_AWARE, 0, 0, 1);
}

/* ================================================================== */
/* S5: event-blind versus event-aware (seed 003)                        */
/* ================================================================== */

struct s5 {
	unsigned long zapped, downgraded, teardowns, refaults, faults;
};

static struct s5 s5_mprotect(enum mmn_hmm_variant v, const char *profile)
{
	struct hf *f = hf_new_cfg(v, 0, profile);
	uint64_t out[NPAGES];
	struct mmn_hmm_stats st;
	struct s5 r;
	long faults;

	cpu_fill(f, 0, NPAGES, 1);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	assert_int_equal(mmn_mprotect(f->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	faults = mmn_hmm_read(f->m, BASE, NPAGES, out);
	assert_true(faults >= 0);
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(out[i], 1 + (uint64_t)i);
	st = stats(f->m);
	r = (struct s5){ st.zapped, st.downgraded, st.teardowns, st.refaults, (unsigned long)faults };
	hf_free(f, 0);
	return r;
}

/* 5.2-6.1: mmu_notifier_range_update_to_read_only() tells the aware mirror
 * the range kept read access (5.14 here): it downgrades. */
static void test_s5_mprotect_read_blind_vs_aware(void **state)
{
	struct s5 aware = s5_mprotect(MMN_HMM_EVENT_AWARE, "5.14");
	struct s5 blind = s5_mprotect(MMN_HMM_EVENT_BLIND, "5.14");

	(void)state;
	assert_int_equal(aware.zapped, 0);
	assert_int_equal(aware.downgraded, NPAGES);
	assert_int_equal(aware.teardowns, 0);
	assert_int_equal(aware.refaults, 0);
	assert_int_equal(aware.faults, 0);
	assert_int_equal(blind.zapped, NPAGES);
	assert_int_equal(blind.downgraded, 0);
	assert_int_equal(blind.teardowns, 1);
	assert_int_equal(blind.refaults, NPAGES);
	assert_int_equal(blind.faults, 1);
	assert_true(aware.refaults < blind.refaults);
}

/* 6.5+ (and 4.x) define no mmu_notifier_range_update_to_read_only(): the
 * aware mirror cannot tell mprotect(READ) from mprotect(NONE) and erases as
 * the blind one does; with the knob on, "latest" downgrades again. */
static void test_aware_mirror_erases_on_mprotect_without_update_to_read_only(void **state)
{
	static const char *const eras[] = { "4.15", "6.5", "latest" };

	(void)state;
	for (size_t i = 0; i < sizeof(eras) / sizeof(eras[0]); i++) {
		struct s5 aware = s5_mprotect(MMN_HMM_EVENT_AWARE, eras[i]);

		assert_false(mmn_profile_by_name(eras[i])->range_update_to_read_only);
		assert_int_equal(aware.zapped, NPAGES);
		assert_int_equal(aware.downgraded, 0);
		assert_int_equal(aware.refaults, NPAGES);
	}
	assert_true(mmn_profile_by_name("5.2")->range_update_to_read_only);
	assert_true(mmn_profile_by_name("5.14")->range_update_to_read_only);
}

static struct s5 s5_soft_dirty(enum mmn_hmm_variant v)
{
	struct hf *f = hf_new(v);
	uint64_t buf[NPAGES];
	struct mmn_hmm_stats st;
	struct s5 r;
	long faults;

	for (int i = 0; i < NPAGES; i++)
		buf[i] = 300 + (uint64_t)i;
	assert_int_equal(mmn_hmm_write(f->m, BASE, NPAGES, buf), 1);
	assert_int_equal(mmn_clear_refs_soft_dirty(f->mm), 0);
	/* the device reads twice, as a compute kernel re-reading its input */
	faults = mmn_hmm_read(f->m, BASE, NPAGES, buf);
	assert_true(faults >= 0);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, buf), 0);
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(buf[i], 300 + (uint64_t)i);
	st = stats(f->m);
	assert_int_equal(st.by_event[MMN_NOTIFY_SOFT_DIRTY], 1);
	r = (struct s5){ st.zapped, st.downgraded, st.teardowns, st.refaults, (unsigned long)faults };
	hf_free(f, 0);
	return r;
}

static void test_s5_soft_dirty_blind_vs_aware(void **state)
{
	struct s5 aware = s5_soft_dirty(MMN_HMM_EVENT_AWARE);
	struct s5 blind = s5_soft_dirty(MMN_HMM_EVENT_BLIND);

	(void)state;
	assert_int_equal(aware.zapped, 0);
	assert_int_equal(aware.downgraded, NPAGES);
	assert_int_equal(aware.refaults, 0);
	assert_int_equal(aware.faults, 0);
	assert_int_equal(blind.zapped, NPAGES);
	assert_int_equal(blind.teardowns, 1);
	assert_int_equal(blind.refaults, NPAGES);
	assert_int_equal(blind.faults, 1);
	assert_true(aware.refaults < blind.refaults);
}

/* Its own migrations: the aware mirror skips the MIGRATE ranges it owns,
 * the blind one takes each as an unmap. */
static struct mmn_hmm_stats s5_migrate(enum mmn_hmm_variant v)
{
	struct hf *f = hf_new_cfg(v, 8, "latest");
	uint64_t out[NPAGES];
	struct mmn_hmm_stats st;

	cpu_fill(f, 0, NPAGES, 1);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	assert_int_equal(mmn_hmm_migrate_to_device(f->m, BASE, 4), 4);
	assert_int_equal(cpu_get(f->mm, BASE), 1); /* migrate_to_ram */
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	for (int i = 0; i < NPAGES; i++)
		assert_int_equal(out[i], 1 + (uint64_t)i);
	st = stats(f->m);
	hf_free(f, 0);
	return st;
}

static void test_s5_own_migration_blind_vs_aware(void **state)
{
	struct mmn_hmm_stats aware = s5_migrate(MMN_HMM_EVENT_AWARE);
	struct mmn_hmm_stats blind = s5_migrate(MMN_HMM_EVENT_BLIND);

	(void)state;
	assert_int_equal(aware.skipped_own, 2);
	assert_int_equal(aware.callbacks, 2);
	assert_int_equal(blind.skipped_own, 0);
	assert_int_equal(blind.by_event[MMN_NOTIFY_MIGRATE], 2);
	assert_int_equal(blind.callbacks, 2);
	/* the blind one handles both (device mutex, set_seq: every fault
	 * loop in flight retries) although the mirror had already dropped
	 * the entries itself: two needless notifications */
	assert_int_equal(blind.needless, 2);
	assert_int_equal(blind.teardowns, 0);
	assert_int_equal(aware.needless, 0);
	assert_int_equal(aware.own_erased, blind.own_erased);
}

/* ================================================================== */
/* Non-blockable: the OOM reaper while a device command holds the mutex  */
/* ================================================================== */

struct holder {
	struct mmn_hmm *m;
	struct mmn_completion locked, release;
};

static void *holder_fn(void *arg)
{
	struct holder *h = arg;

	mmn_hmm_device_lock(h->m);
	mmn_complete(&h->locked);
	mmn_wait_for_completion(&h->release);
	mmn_hmm_device_unlock(h->m);
	return NULL;
}

static void test_oom_reap_refused_while_device_busy(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	struct holder h = { .m = f->m };
	struct mmn_actor *a;
	unsigned long skipped = 99;
	uint64_t out[NPAGES];

	(void)state;
	cpu_fill(f, 0, NPAGES, 1);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	mmn_init_completion(&h.locked, f->sim, "locked");
	mmn_init_completion(&h.release, f->sim, "release");
	assert_int_equal(mmn_actor_spawn(f->sim, "device", holder_fn, &h, &a), 0);
	mmn_wait_for_completion(&h.locked);
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	assert_int_equal(skipped, 1);
	assert_int_equal(stats(f->m).nonblock_refused, 1);
	assert_int_equal(mmn_hmm_nr_entries(f->m), NPAGES);
	mmn_complete(&h.release);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	/* the reaper's next attempt goes through */
	assert_int_equal(mmn_oom_reap(f->mm, &skipped), 0);
	assert_int_equal(skipped, 0);
	assert_int_equal(mmn_hmm_nr_entries(f->m), 0);
	assert_int_equal(stats(f->m).zapped, NPAGES);
	mmn_completion_destroy(&h.locked);
	mmn_completion_destroy(&h.release);
	hf_free(f, 0);
}

/* ================================================================== */
/* Bad input                                                           */
/* ================================================================== */

static void test_bad_input(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	struct mmn_hmm_config cfg;
	struct mmn_hmm *m = (struct mmn_hmm *)0x1;
	struct mmn_hmm_stats st;
	uint64_t buf[2] = { 0 };
	uint8_t p[2];

	(void)state;
	mmn_hmm_config_init(NULL);
	mmn_hmm_config_init(&cfg);
	assert_int_equal(mmn_hmm_create(NULL, BASE, PG, &cfg, &m), -EINVAL);
	assert_int_equal(mmn_hmm_create(f->mm, BASE, PG, &cfg, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_create(f->mm, BASE + 1, PG, &cfg, &m), -EINVAL);
	assert_int_equal(mmn_hmm_create(f->mm, BASE, 0, &cfg, &m), -EINVAL);
	assert_int_equal(mmn_hmm_create(f->mm, BASE, 100, &cfg, &m), -EINVAL);
	assert_int_equal(mmn_hmm_create(f->mm, MMN_TASK_SIZE, PG, &cfg, &m), -EINVAL);
	assert_int_equal(mmn_hmm_create(f->mm, BASE, 2UL << 30, &cfg, &m), -E2BIG);
	cfg.retry_budget = 0;
	assert_int_equal(mmn_hmm_create(f->mm, BASE, PG, &cfg, &m), -EINVAL);
	mmn_hmm_config_init(&cfg);
	cfg.variant = (enum mmn_hmm_variant)7;
	assert_int_equal(mmn_hmm_create(f->mm, BASE, PG, &cfg, &m), -EINVAL);
	assert_ptr_equal(m, (struct mmn_hmm *)0x1);

	assert_int_equal(mmn_hmm_read(NULL, BASE, 1, buf), -EINVAL);
	assert_int_equal(mmn_hmm_read(f->m, BASE, 1, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_read(f->m, BASE + 8, 1, buf), -EINVAL);
	assert_int_equal(mmn_hmm_read(f->m, BASE, 0, buf), -EINVAL);
	assert_int_equal(mmn_hmm_read(f->m, BASE - PG, 1, buf), -EINVAL);
	assert_int_equal(mmn_hmm_read(f->m, BASE + (MIRROR_PAGES - 1) * PG, 2, buf), -EINVAL);
	assert_int_equal(mmn_hmm_write(f->m, BASE + MIRROR_PAGES * PG, 1, buf), -EINVAL);
	/* inside the mirror but outside any VMA */
	assert_int_equal(mmn_hmm_read(f->m, BASE + NPAGES * PG, 1, buf), -EFAULT);
	assert_int_equal(mmn_hmm_write(f->m, BASE + NPAGES * PG, 1, buf), -EFAULT);
	assert_int_equal(mmn_hmm_atomic(NULL, BASE, 1, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_atomic(f->m, BASE + 1, 1, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_atomic(f->m, BASE + NPAGES * PG, 1, NULL), -EFAULT);
	assert_int_equal(mmn_hmm_check_exclusive(f->m, BASE, 0), -EINVAL);
	assert_int_equal(mmn_hmm_snapshot(NULL, BASE, 1, p), -EINVAL);
	assert_int_equal(mmn_hmm_snapshot(f->m, BASE, 1, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_snapshot(f->m, BASE + 4, 1, p), -EINVAL);
	assert_int_equal(mmn_hmm_snapshot(f->m, MMN_TASK_SIZE, 1, p), -EINVAL);
	assert_int_equal(mmn_hmm_migrate_to_device(f->m, BASE, 1), -ENODEV);
	assert_int_equal(mmn_hmm_migrate_to_ram(f->m, BASE, 1), -ENODEV);
	assert_int_equal(mmn_hmm_migrate_to_device(NULL, BASE, 1), -EINVAL);
	assert_int_equal(mmn_hmm_entry(f->m, BASE, NULL, NULL, NULL), -ENOENT);
	assert_int_equal(mmn_hmm_entry(f->m, BASE - 1, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_entry(NULL, BASE, NULL, NULL, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_get_stats(NULL, &st), -EINVAL);
	assert_int_equal(mmn_hmm_get_stats(f->m, NULL), -EINVAL);
	assert_int_equal(mmn_hmm_destroy(NULL), -EINVAL);
	assert_int_equal(mmn_hmm_nr_entries(NULL), 0);
	mmn_hmm_device_lock(NULL);
	mmn_hmm_device_unlock(NULL);
	assert_string_equal(mmn_hmm_fault_point_name(false), "hmm_collected");
	assert_string_equal(mmn_hmm_fault_point_name(true), "hmm_programmed");
	/* nothing changed */
	assert_int_equal(mmn_hmm_nr_entries(f->m), 0);
	st = stats(f->m);
	assert_int_equal(st.programmed, 0);
	hf_free(f, 0);
}

/* The mm goes away first: the RELEASE notification erases everything and
 * later device accesses are refused. */
static void test_release_erases_everything(void **state)
{
	struct hf *f = hf_new(MMN_HMM_EVENT_AWARE);
	uint64_t out[NPAGES];

	(void)state;
	cpu_fill(f, 0, NPAGES, 1);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), 1);
	mmn_mmgrab(f->mm);
	mmn_mm_put(f->mm);
	assert_int_equal(mmn_hmm_nr_entries(f->m), 0);
	assert_int_equal(stats(f->m).by_event[MMN_NOTIFY_RELEASE], 1);
	assert_int_equal(mmn_hmm_read(f->m, BASE, NPAGES, out), -EINVAL);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(mmn_hmm_destroy(f->m), 0);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_mmdrop(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
}

/* ================================================================== */
/* Native stress                                                       */
/* ================================================================== */

#define STRESS_PAGES 32
#define STRESS_ITERS 10000

struct stress {
	struct hf *f;
	unsigned int seed;
};

static unsigned int rnd(unsigned int *s)
{
	*s = *s * 1103515245u + 12345u;
	return (*s >> 8) & 0xffffff;
}

static void *device_actor(void *arg)
{
	struct stress *s = arg;
	struct mmn_hmm *m = s->f->m;
	uint64_t buf[4];

	for (int it = 0; it < STRESS_ITERS; it++) {
		unsigned int op = rnd(&s->seed) % 8, pg = rnd(&s->seed) % (STRESS_PAGES - 4);
		unsigned long addr = BASE + pg * PG;
		long r;

		if (op < 4) {
			r = mmn_hmm_read(m, addr, 4, buf);
		} else if (op < 7) {
			for (int i = 0; i < 4; i++)
				buf[i] = ((uint64_t)it << 8) | (uint64_t)i;
			r = mmn_hmm_write(m, addr, 4, buf);
		} else {
			r = mmn_hmm_atomic(m, addr, 1, NULL);
		}
		assert_true(r >= 0 || r == -EFAULT || r == -EPERM || r == -EBUSY ||
			    r == -ENOMEM || r == -EOPNOTSUPP);
	}
	return NULL;
}

static void *cpu_actor(void *arg)
{
	struct stress *s = arg;

	for (int it = 0; it < STRESS_ITERS; it++) {
		unsigned long addr = BASE + (rnd(&s->seed) % STRESS_PAGES) * PG;
		uint64_t v;
		int r;

		if (rnd(&s->seed) & 1)
			r = mmn_cpu_read(s->f->mm, 1, addr, &v);
		else
			r = mmn_cpu_write(s->f->mm, 1, addr, (uint64_t)it);
		assert_true(r == 0 || r == -EFAULT || r == -EACCES || r == -EAGAIN ||
			    r == -ENOMEM);
	}
	return NULL;
}

static void *operator_actor(void *arg)
{
	struct stress *s = arg;
	struct mmn_mm *mm = s->f->mm;

	for (int it = 0; it < STRESS_ITERS / 4; it++) {
		unsigned int pg = rnd(&s->seed) % (STRESS_PAGES - 4);
		unsigned long addr = BASE + pg * PG, got;

		switch (rnd(&s->seed) % 8) {
		case 0:
			(void)mmn_munmap(mm, addr, 2 * PG);
			break;
		case 1:
			(void)mmn_mmap(mm, addr, 4 * PG, RW, ANON | MMN_MAP_FIXED, &got);
			break;
		case 2:
			(void)mmn_mprotect(mm, addr, 4 * PG,
					   (rnd(&s->seed) & 1) ? MMN_PROT_READ : RW);
			break;
		case 3:
			(void)mmn_try_to_unmap(mm, addr, 4 * PG);
			break;
		case 4:
			(void)mmn_hmm_migrate_to_device(s->f->m, addr, 2);
			break;
		case 5:
			(void)mmn_clear_refs_soft_dirty(mm);
			break;
		case 6:
			(void)mmn_migrate_pages(mm, addr, 4 * PG);
			break;
		default:
			(void)mmn_madvise(mm, addr, 4 * PG, MMN_MADV_DONTNEED);
			break;
		}
	}
	/* leave everything mapped and writable */
	{
		unsigned long got;

		(void)mmn_mmap(mm, BASE, STRESS_PAGES * PG, RW, ANON | MMN_MAP_FIXED, &got);
	}
	return NULL;
}

static void stress_run(enum mmn_hmm_variant v)
{
	struct mmn_sim_config cfg;
	struct hf *f = calloc(1, sizeof(*f));
	struct stress st[4];
	struct mmn_actor *a[4];
	void *(*fns[4])(void *) = { device_actor, device_actor, cpu_actor, operator_actor };
	struct mmn_hmm_config hc;
	unsigned long got;
	struct mmn_hmm_stats hs;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_int_equal(mmn_mmap(f->mm, BASE, STRESS_PAGES * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	mmn_hmm_config_init(&hc);
	hc.variant = v;
	hc.devmem_pages = 16;
	hc.retry_budget = 256;
	assert_int_equal(mmn_hmm_create(f->mm, BASE, MIRROR_PAGES * PG, &hc, &f->m), 0);
	for (int i = 0; i < 4; i++) {
		st[i] = (struct stress){ .f = f, .seed = 17u * (unsigned)i + 1 };
		assert_int_equal(mmn_actor_spawn(f->sim, NULL, fns[i], &st[i], &a[i]), 0);
	}
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
	hs = stats(f->m);
	if (getenv("MMN_TEST_VERBOSE"))
		fprintf(stderr,
			"hmm stress: callbacks %lu zapped %lu faults %lu loops %lu retries %lu "
			"giveups %lu reads %lu writes %lu atomics %lu migrated %lu to_ram %lu "
			"skipped %lu\n",
			hs.callbacks, hs.zapped, hs.device_faults, hs.fault_loops, hs.retries,
			hs.giveups, hs.reads, hs.writes, hs.atomics, hs.migrated_to_device,
			hs.migrate_to_ram, hs.skipped_own);
	assert_true(hs.callbacks > 0);
	assert_true(hs.fault_loops > 0);
	if (f->cap.n)
		fprintf(stderr, "last violation: %s\n", f->cap.last_msg);
	assert_int_equal(mmn_check_total(f->sim), 0);
	hf_free(f, 0);
}

static void test_stress_native_sequence_aware(void **state)
{
	(void)state;
	stress_run(MMN_HMM_EVENT_AWARE);
}

static void test_stress_native_sequence_blind(void **state)
{
	(void)state;
	stress_run(MMN_HMM_EVENT_BLIND);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_anon_read_one_fault_pass),
		cmocka_unit_test(test_anon_read_zero_page_after_mprotect_read),
		cmocka_unit_test(test_anon_read_prot_none_efault),
		cmocka_unit_test(test_anon_write_faults_in_writable),
		cmocka_unit_test(test_anon_write_prot_eperm_then_ok),
		cmocka_unit_test(test_fork_child_device_write_cows),
		cmocka_unit_test(test_teardown_after_collect_fails_cleanly),
		cmocka_unit_test(test_teardown_remap_after_collect_reads_new_pages),
		cmocka_unit_test(test_teardown_after_program_fails_cleanly),
		cmocka_unit_test(test_snapshot_reports_without_faulting),
		cmocka_unit_test(test_migrate_and_fault_back),
		cmocka_unit_test(test_exclusive_revoked_by_cpu),
		cmocka_unit_test(test_exclusive_entries_do_not_survive_fork),
		cmocka_unit_test(test_exclusive_null_owner_erases_then_stores),
		cmocka_unit_test(test_exclusive_mprotect_read_eperm),
		cmocka_unit_test(test_s7_valid_flag_maps_freed_frames),
		cmocka_unit_test(test_s7_sequence_retries),
		cmocka_unit_test(test_s5_mprotect_read_blind_vs_aware),
		cmocka_unit_test(test_aware_mirror_erases_on_mprotect_without_update_to_read_only),
		cmocka_unit_test(test_s5_soft_dirty_blind_vs_aware),
		cmocka_unit_test(test_s5_own_migration_blind_vs_aware),
		cmocka_unit_test(test_oom_reap_refused_while_device_busy),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_release_erases_everything),
		cmocka_unit_test(test_stress_native_sequence_aware),
		cmocka_unit_test(test_stress_native_sequence_blind),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
