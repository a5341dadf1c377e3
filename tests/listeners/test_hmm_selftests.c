// SPDX-License-Identifier: MIT
/*
 * The semantics of the kernel's HMM selftests (tools/testing/selftests/mm/
 * hmm-tests.c driving lib/test_hmm.c, read in 6.19), written anew against
 * the HMM-style mirror (include/mmnsim/listeners/hmm.h): the ioctls map to
 * mmn_hmm_read (READ), mmn_hmm_write (WRITE), mmn_hmm_snapshot (SNAPSHOT),
 * mmn_hmm_migrate_to_device (MIGRATE_TO_DEV), mmn_hmm_migrate_to_ram
 * (MIGRATE_TO_SYS / RELEASE), mmn_hmm_atomic (EXCLUSIVE) and
 * mmn_hmm_check_exclusive (CHECK_EXCLUSIVE); "cpages" is what the kernel
 * test reads back, "faults" the returned fault passes.
 *
 * | kernel test (hmm-tests.c)      | here                                                  |
 * |--------------------------------|-------------------------------------------------------|
 * | open_close                     | ported                                                |
 * | anon_read                      | ported                                                |
 * | anon_read_prot                 | ported                                                |
 * | anon_write                     | ported                                                |
 * | anon_write_prot                | ported                                                |
 * | anon_write_child               | ported (the non-migrated variant)                     |
 * | anon_write_child_shared        | ported                                                |
 * | anon_write_huge                | ported (THP via MADV_HUGEPAGE)                        |
 * | anon_write_hugetlbfs           | partial: device write into MAP_HUGETLB, no page-size  |
 * |                                | discovery from sysfs                                  |
 * | file_read, file_write          | not expressible: no file-backed page cache, no        |
 * |                                | read(2)/write(2) of a file                            |
 * | migrate                        | ported                                                |
 * | migrate_fault                  | ported                                                |
 * | migrate_release                | partial: RELEASE (evict device memory) is             |
 * |                                | MIGRATE_TO_SYS here; the CPU then reads system pages  |
 * | migrate_shared                 | partial: the kernel's -ENOENT is "0 pages moved"      |
 * | migrate_mixed (hmm2)           | partial: one device (no device-to-device migration of |
 * |                                | another owner's pages), one call per VMA              |
 * | migrate_multiple               | ported                                                |
 * | anon_read_multiple             | ported                                                |
 * | anon_teardown                  | partial: sequential (the kernel races a thread; the   |
 * |                                | races are test_hmm.c's teardown tests)                |
 * | mixedmap                       | not expressible: mmap of the driver's device file     |
 * |                                | (VM_MIXEDMAP)                                         |
 * | snapshot (hmm2)                | partial: one device (no remote device-private class)  |
 * | compound                       | partial: a THP instead of a hugetlbfs page (PMD flag) |
 * | double_map (hmm2)              | ported (two mirrors on one mm)                        |
 * | exclusive                      | ported                                                |
 * | exclusive_mprotect             | ported                                                |
 * | exclusive_cow                  | ported                                                |
 * | hmm_gup_test                   | partial: get_user_pages of migrated pages faults them |
 * |                                | back (no gup_test module, no FOLL_LONGTERM pinning)   |
 * | hmm_cow_in_device              | ported                                                |
 * | migrate_anon_huge_empty        | partial: the holes get 4 KiB device pages (5.14-6.5:  |
 * |                                | no compound device pages)                             |
 * | migrate_anon_huge_fault        | partial: the THP is split and all 512 pages move      |
 * |                                | (5.14-6.5); the CPU faults them back                  |
 * | migrate_anon_huge_free         | partial: as _fault, then munmap frees device pages    |
 * | migrate_anon_huge_zero,        | not expressible: no huge zero page, no compound       |
 * | migrate_anon_huge_err,         | device pages, no HMM_DMIRROR_FLAGS error injection    |
 * | migrate_anon_huge_zero_err,    | (6.19 THP migration)                                  |
 * | migrate_partial_unmap_fault,   |                                                       |
 * | migrate_remap_fault,           |                                                       |
 * | benchmark_thp_migration        |                                                       |
 *
 * docs/listeners.md carries the same table.
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
#define NPAGES 16UL
#define MIRROR (MMN_PMD_SIZE * 2)
#define DEVMEM 1024UL

struct st {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	struct mmn_hmm *m;
	uint64_t buf[MMN_HPAGE_NR];
};

static struct mmn_hmm *mirror(struct mmn_mm *mm, unsigned long devmem)
{
	struct mmn_hmm_config cfg;
	struct mmn_hmm *m = NULL;

	mmn_hmm_config_init(&cfg);
	cfg.devmem_pages = devmem;
	assert_int_equal(mmn_hmm_create(mm, BASE, MIRROR, &cfg, &m), 0);
	return m;
}

static int setup(void **state)
{
	struct st *s = calloc(1, sizeof(*s));
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 4096;
	cfg.nr_huge_pages = 4;
	cfg.profile = "latest";
	s->sim = mmn_sim_create(&cfg);
	assert_non_null(s->sim);
	capture_install(s->sim, &s->cap);
	s->mm = mmn_mm_create(s->sim);
	assert_non_null(s->mm);
	s->m = mirror(s->mm, DEVMEM);
	*state = s;
	return 0;
}

/* Quiescent audit, accounting audit, no violation. */
static int teardown(void **state)
{
	struct st *s = *state;

	if (s->m) {
		assert_int_equal(mmn_check_quiescent(s->sim), 0);
		assert_int_equal(mmn_hmm_destroy(s->m), 0);
	}
	assert_int_equal(mmn_audit(s->sim), 0);
	assert_int_equal(mmn_check_total(s->sim), 0);
	mmn_mm_put(s->mm);
	mmn_sim_destroy(s->sim);
	free(s);
	return 0;
}

static void map(struct st *s, unsigned long addr, unsigned long len, int flags)
{
	unsigned long got;

	assert_int_equal(mmn_mmap(s->mm, addr, len, RW, flags | MMN_MAP_FIXED, &got), 0);
}

static uint64_t get(struct mmn_mm *mm, unsigned long addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_cpu_read(mm, 0, addr, &v), 0);
	return v;
}

static void put(struct mmn_mm *mm, unsigned long addr, uint64_t v)
{
	assert_int_equal(mmn_cpu_write(mm, 0, addr, v), 0);
}

/* "Initialize buffer in system memory": page i holds @base + i. */
static void fill(struct st *s, unsigned long addr, unsigned long n, uint64_t base)
{
	for (unsigned long i = 0; i < n; i++)
		put(s->mm, addr + i * PG, base + i);
}

static void expect_buf(const struct st *s, unsigned long n, uint64_t base)
{
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(s->buf[i], base + i);
}

/* ---- open_close, anon_read*, anon_write* ---- */

static void test_open_close(void **state)
{
	struct st *s = *state;

	assert_int_equal(mmn_hmm_destroy(s->m), 0);
	s->m = mirror(s->mm, 0);
}

static void test_anon_read(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 1);
	expect_buf(s, NPAGES, 0);
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 0);
}

static void test_anon_read_multiple(void **state)
{
	struct st *s = *state;

	for (int c = 0; c < 3; c++) {
		map(s, BASE, NPAGES * PG, ANON);
		fill(s, BASE, NPAGES, (uint64_t)c * 100);
		assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 1);
		expect_buf(s, NPAGES, (uint64_t)c * 100);
		assert_int_equal(mmn_munmap(s->mm, BASE, NPAGES * PG), 0);
	}
	assert_int_equal(mmn_hmm_nr_entries(s->m), 0);
}

static void test_anon_read_prot(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_mprotect(s->mm, BASE, NPAGES * PG, MMN_PROT_NONE), 0);
	memset(s->buf, 0xa5, sizeof(s->buf));
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), -EFAULT);
	assert_int_equal(s->buf[0], 0xa5a5a5a5a5a5a5a5ULL);
	assert_int_equal(mmn_mprotect(s->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 1);
	expect_buf(s, NPAGES, 0);
}

static void test_anon_write(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	for (unsigned long i = 0; i < NPAGES; i++)
		s->buf[i] = i;
	assert_int_equal(mmn_hmm_write(s->m, BASE, NPAGES, s->buf), 1);
	for (unsigned long i = 0; i < NPAGES; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), i);
}

static void test_anon_write_prot(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	assert_int_equal(mmn_mprotect(s->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 1);
	expect_buf(s, 1, 0); /* the zero page */
	for (unsigned long i = 0; i < NPAGES; i++)
		s->buf[i] = i;
	assert_int_equal(mmn_hmm_write(s->m, BASE, NPAGES, s->buf), -EPERM);
	assert_int_equal(get(s->mm, BASE + PG), 0);
	assert_int_equal(mmn_mprotect(s->mm, BASE, NPAGES * PG, RW), 0);
	assert_int_equal(mmn_hmm_write(s->m, BASE, NPAGES, s->buf), 1);
	for (unsigned long i = 0; i < NPAGES; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), i);
}

/* The child writes through its own mirror; private: the parent keeps its
 * values; shared (anon_write_child_shared): the parent sees the child's. */
static void write_child(struct st *s, int flags)
{
	bool shared = flags & MMN_MAP_SHARED;
	struct mmn_mm *child;
	struct mmn_hmm *cm;

	map(s, BASE, NPAGES * PG, flags);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_fork(s->mm, &child), 0);
	cm = mirror(child, 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		s->buf[i] = 0 - (uint64_t)i;
	assert_int_equal(mmn_hmm_write(cm, BASE, NPAGES, s->buf), 1);
	for (unsigned long i = 0; i < NPAGES; i++) {
		assert_int_equal(get(child, BASE + i * PG), 0 - (uint64_t)i);
		assert_int_equal(get(s->mm, BASE + i * PG), shared ? 0 - (uint64_t)i : i);
	}
	assert_int_equal(mmn_check_quiescent(s->sim), 0);
	assert_int_equal(mmn_hmm_destroy(cm), 0);
	mmn_mm_put(child);
}

static void test_anon_write_child(void **state)
{
	write_child(*state, ANON);
}

static void test_anon_write_child_shared(void **state)
{
	write_child(*state, MMN_MAP_SHARED | MMN_MAP_ANONYMOUS);
}

/* A THP-backed buffer (madvise(MADV_HUGEPAGE)), written by the device. */
static void test_anon_write_huge(void **state)
{
	struct st *s = *state;

	map(s, BASE, MMN_PMD_SIZE, ANON);
	assert_int_equal(mmn_madvise(s->mm, BASE, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	fill(s, BASE, NPAGES, 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		s->buf[i] = 500 + i;
	assert_true(mmn_hmm_write(s->m, BASE, NPAGES, s->buf) >= 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), 500 + i);
}

static void test_anon_write_hugetlbfs(void **state)
{
	struct st *s = *state;

	map(s, BASE, MMN_PMD_SIZE, ANON | MMN_MAP_HUGETLB);
	for (unsigned long i = 0; i < NPAGES; i++)
		s->buf[i] = 900 + i;
	assert_true(mmn_hmm_write(s->m, BASE, NPAGES, s->buf) >= 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), 900 + i);
	assert_int_equal(mmn_munmap(s->mm, BASE, MMN_PMD_SIZE), 0);
}

/* ---- migration ---- */

static void test_migrate(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, NPAGES), NPAGES);
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 0);
	expect_buf(s, NPAGES, 0);
}

static void test_migrate_fault(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, NPAGES), NPAGES);
	for (unsigned long i = 0; i < NPAGES; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), i);
	/* Migrate again: the pages are back in system memory. */
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, NPAGES), NPAGES);
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 0);
	expect_buf(s, NPAGES, 0);
}

static void test_migrate_release(void **state)
{
	struct st *s = *state;
	uint8_t prot[NPAGES];

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, NPAGES), NPAGES);
	assert_int_equal(mmn_hmm_migrate_to_ram(s->m, BASE, NPAGES), 0);
	assert_int_equal(mmn_hmm_snapshot(s->m, BASE, NPAGES, prot), 0);
	for (unsigned long i = 0; i < NPAGES; i++) {
		assert_false(prot[i] & MMN_HMM_PROT_DEV_PRIVATE_LOCAL);
		assert_int_equal(get(s->mm, BASE + i * PG), i);
	}
}

static void test_migrate_shared(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, MMN_MAP_SHARED | MMN_MAP_ANONYMOUS);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, NPAGES), 0);
}

static void test_migrate_mixed(void **state)
{
	struct st *s = *state;

	map(s, BASE, 6 * PG, ANON);
	assert_int_equal(mmn_mprotect(s->mm, BASE, 6 * PG, MMN_PROT_NONE), 0);
	/* Migrating a protected area is an error. */
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, 6), -EINVAL);
	/* A range the VMA does not cover is an error. */
	assert_int_equal(mmn_munmap(s->mm, BASE + PG, PG), 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, 3), -EINVAL);
	/* Page 2 the zero page (read-only), 3 read-only data, 4-5 data. */
	assert_int_equal(mmn_mprotect(s->mm, BASE + 2 * PG, PG, MMN_PROT_READ), 0);
	assert_int_equal(get(s->mm, BASE + 2 * PG), 0);
	assert_int_equal(mmn_mprotect(s->mm, BASE + 3 * PG, 3 * PG, RW), 0);
	fill(s, BASE + 3 * PG, 3, 3);
	assert_int_equal(mmn_mprotect(s->mm, BASE + 3 * PG, PG, MMN_PROT_READ), 0);
	/* Pages 2-5 move, one call per VMA (mmn_hmm_migrate_to_device() takes
	 * one VMA; the kernel's ioctl loops over them). */
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE + 2 * PG, 1), 1);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE + 3 * PG, 1), 1);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE + 4 * PG, 2), 2);
	assert_int_equal(get(s->mm, BASE + 2 * PG), 0);
	for (unsigned long i = 3; i < 6; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), i);
}

static void test_migrate_multiple(void **state)
{
	struct st *s = *state;

	for (int c = 0; c < 4; c++) {
		map(s, BASE, NPAGES * PG, ANON);
		fill(s, BASE, NPAGES, (uint64_t)c);
		assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, NPAGES), NPAGES);
		assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 0);
		expect_buf(s, NPAGES, (uint64_t)c);
		assert_int_equal(mmn_hmm_migrate_to_ram(s->m, BASE, NPAGES), 0);
		for (unsigned long i = 0; i < NPAGES; i++)
			assert_int_equal(get(s->mm, BASE + i * PG), (uint64_t)c + i);
		assert_int_equal(mmn_munmap(s->mm, BASE, NPAGES * PG), 0);
	}
}

static void test_anon_teardown(void **state)
{
	struct st *s = *state;

	for (int c = 0; c < 4; c++) {
		map(s, BASE, NPAGES * PG, ANON);
		fill(s, BASE, NPAGES, (uint64_t)c);
		assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 1);
		expect_buf(s, NPAGES, (uint64_t)c);
		assert_int_equal(mmn_munmap(s->mm, BASE, NPAGES * PG), 0);
		assert_int_equal(mmn_hmm_nr_entries(s->m), 0);
	}
}

/* ---- snapshot, compound, double_map ---- */

static void test_snapshot(void **state)
{
	struct st *s = *state;
	uint8_t m[7];

	map(s, BASE, 7 * PG, ANON);
	assert_int_equal(mmn_munmap(s->mm, BASE + PG, PG), 0);    /* page 1: hole */
	assert_int_equal(mmn_mprotect(s->mm, BASE + 2 * PG, PG, MMN_PROT_READ), 0);
	assert_int_equal(get(s->mm, BASE + 2 * PG), 0);            /* page 2: zero */
	put(s->mm, BASE + 3 * PG, 3);
	assert_int_equal(mmn_mprotect(s->mm, BASE + 3 * PG, PG, MMN_PROT_READ), 0);
	fill(s, BASE + 4 * PG, 3, 4);                               /* pages 4-6 */
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE + 5 * PG, 1), 1);
	assert_int_equal(mmn_mprotect(s->mm, BASE, PG, MMN_PROT_NONE), 0);
	assert_int_equal(mmn_hmm_snapshot(s->m, BASE, 7, m), 0);
	assert_int_equal(m[0], MMN_HMM_PROT_ERROR);
	assert_int_equal(m[1], MMN_HMM_PROT_ERROR);
	assert_int_equal(m[2], MMN_HMM_PROT_ZERO | MMN_HMM_PROT_READ);
	assert_int_equal(m[3], MMN_HMM_PROT_READ);
	assert_int_equal(m[4], MMN_HMM_PROT_READ | MMN_HMM_PROT_WRITE);
	assert_int_equal(m[5], MMN_HMM_PROT_DEV_PRIVATE_LOCAL | MMN_HMM_PROT_READ |
				       MMN_HMM_PROT_WRITE);
	assert_int_equal(m[6], MMN_HMM_PROT_READ | MMN_HMM_PROT_WRITE);
}

static void test_compound(void **state)
{
	struct st *s = *state;
	uint8_t *m = calloc(MMN_HPAGE_NR, 1);
	struct mmn_walk w;

	map(s, BASE, MMN_PMD_SIZE, ANON);
	assert_int_equal(mmn_madvise(s->mm, BASE, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	put(s->mm, BASE, 1);
	assert_int_equal(mmn_pgtable_walk(s->mm, BASE, &w), 0);
	assert_int_equal(w.level, MMN_PT_PMD);
	assert_int_equal(mmn_hmm_snapshot(s->m, BASE, MMN_HPAGE_NR, m), 0);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		assert_int_equal(m[i], MMN_HMM_PROT_WRITE | MMN_HMM_PROT_READ | MMN_HMM_PROT_PMD);
	assert_int_equal(mmn_mprotect(s->mm, BASE, MMN_PMD_SIZE, MMN_PROT_READ), 0);
	assert_int_equal(mmn_hmm_snapshot(s->m, BASE, MMN_HPAGE_NR, m), 0);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		assert_int_equal(m[i], MMN_HMM_PROT_READ | MMN_HMM_PROT_PMD);
	free(m);
}

static void test_double_map(void **state)
{
	struct st *s = *state;
	struct mmn_hmm *m1;

	assert_int_equal(mmn_hmm_destroy(s->m), 0);
	s->m = mirror(s->mm, 0);
	m1 = mirror(s->mm, 0);
	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_mprotect(s->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	assert_int_equal(mmn_hmm_read(s->m, BASE, NPAGES, s->buf), 1);
	expect_buf(s, NPAGES, 0);
	assert_int_equal(mmn_hmm_read(m1, BASE, NPAGES, s->buf), 1);
	expect_buf(s, NPAGES, 0);
	assert_int_equal(mmn_munmap(s->mm, BASE, NPAGES * PG), 0);
	assert_int_equal(mmn_hmm_nr_entries(m1), 0);
	assert_int_equal(mmn_hmm_destroy(m1), 0);
}

/* ---- exclusive access ---- */

static void atomics(struct st *s, unsigned long n)
{
	for (unsigned long i = 0; i < n; i++)
		assert_int_equal(mmn_hmm_atomic(s->m, BASE + i * PG, 1, NULL), 0);
}

static void test_exclusive(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	atomics(s, NPAGES);
	assert_int_equal(mmn_hmm_check_exclusive(s->m, BASE, NPAGES), -EPERM);
	for (unsigned long i = 0; i < NPAGES; i++) {
		assert_int_equal(get(s->mm, BASE + i * PG), i + 1);
		put(s->mm, BASE + i * PG, i + 2);
	}
	assert_int_equal(mmn_hmm_check_exclusive(s->m, BASE, NPAGES), 0);
}

static void test_exclusive_mprotect(void **state)
{
	struct st *s = *state;

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	atomics(s, NPAGES);
	assert_int_equal(mmn_mprotect(s->mm, BASE, NPAGES * PG, MMN_PROT_READ), 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		s->buf[i] = i;
	assert_int_equal(mmn_hmm_write(s->m, BASE, NPAGES, s->buf), -EPERM);
}

static void test_exclusive_cow(void **state)
{
	struct st *s = *state;
	struct mmn_mm *child;

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	atomics(s, NPAGES);
	assert_int_equal(mmn_fork(s->mm, &child), 0);
	for (unsigned long i = 0; i < NPAGES; i++) {
		assert_int_equal(get(s->mm, BASE + i * PG), i + 1);
		put(s->mm, BASE + i * PG, i + 2);
	}
	for (unsigned long i = 0; i < NPAGES; i++) {
		assert_int_equal(get(s->mm, BASE + i * PG), i + 2);
		assert_int_equal(get(child, BASE + i * PG), i + 1);
	}
	assert_int_equal(mmn_hmm_check_exclusive(s->m, BASE, NPAGES), 0);
	assert_int_equal(mmn_check_quiescent(s->sim), 0);
	mmn_mm_put(child);
}

/* ---- GUP and COW of device pages ---- */

static void test_hmm_gup_test(void **state)
{
	struct st *s = *state;
	unsigned long pfn[2];
	uint8_t m[4];

	map(s, BASE, 4 * PG, ANON);
	fill(s, BASE, 4, 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, 4), 4);
	/* GUP (read, then write) of device-private pages faults them back. */
	assert_int_equal(mmn_get_user_pages(s->mm, BASE, 0, &pfn[0], NULL), 0);
	assert_int_equal(mmn_get_user_pages(s->mm, BASE + PG, MMN_FOLL_WRITE, &pfn[1], NULL), 0);
	assert_int_equal(mmn_hmm_snapshot(s->m, BASE, 4, m), 0);
	assert_false(m[0] & MMN_HMM_PROT_DEV_PRIVATE_LOCAL);
	assert_false(m[1] & MMN_HMM_PROT_DEV_PRIVATE_LOCAL);
	assert_true(m[2] & MMN_HMM_PROT_DEV_PRIVATE_LOCAL);
	assert_true(m[3] & MMN_HMM_PROT_DEV_PRIVATE_LOCAL);
	for (int i = 0; i < 2; i++) {
		struct mmn_page_info pi;

		assert_int_equal(mmn_page_info(s->sim, pfn[i], &pi), 0);
		assert_false(pi.flags & MMN_PG_DEVICE_PRIVATE);
		assert_int_equal(pi.pincount, 1);
		assert_int_equal(mmn_unpin_user_page(s->sim, pfn[i]), 0);
	}
	for (unsigned long i = 0; i < 4; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), i);
}

static void test_hmm_cow_in_device(void **state)
{
	struct st *s = *state;
	struct mmn_mm *child;
	uint8_t m[NPAGES];

	map(s, BASE, NPAGES * PG, ANON);
	fill(s, BASE, NPAGES, 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, NPAGES), NPAGES);
	assert_int_equal(mmn_fork(s->mm, &child), 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		put(s->mm, BASE + i * PG, 100 + i);
	mmn_mm_put(child);
	assert_int_equal(mmn_hmm_snapshot(s->m, BASE, NPAGES, m), 0);
	for (unsigned long i = 0; i < NPAGES; i++)
		assert_int_equal(m[i], MMN_HMM_PROT_READ | MMN_HMM_PROT_WRITE);
}

/* ---- THP migration (the 5.14-6.5 split) ---- */

static void test_migrate_anon_huge_empty(void **state)
{
	struct st *s = *state;

	map(s, BASE, MMN_PMD_SIZE, ANON);
	assert_int_equal(mmn_madvise(s->mm, BASE, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, MMN_HPAGE_NR),
			 (long)MMN_HPAGE_NR);
	assert_int_equal(get(s->mm, BASE + 9 * PG), 0);
}

static void huge_on_device(struct st *s)
{
	struct mmn_walk w;

	map(s, BASE, MMN_PMD_SIZE, ANON);
	assert_int_equal(mmn_madvise(s->mm, BASE, MMN_PMD_SIZE, MMN_MADV_HUGEPAGE), 0);
	fill(s, BASE, MMN_HPAGE_NR, 0);
	assert_int_equal(mmn_pgtable_walk(s->mm, BASE, &w), 0);
	assert_int_equal(w.level, MMN_PT_PMD);
	assert_int_equal(mmn_hmm_migrate_to_device(s->m, BASE, MMN_HPAGE_NR),
			 (long)MMN_HPAGE_NR);
	assert_int_equal(mmn_hmm_read(s->m, BASE, MMN_HPAGE_NR, s->buf), 0);
	expect_buf(s, MMN_HPAGE_NR, 0);
}

static void test_migrate_anon_huge_fault(void **state)
{
	struct st *s = *state;

	huge_on_device(s);
	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		assert_int_equal(get(s->mm, BASE + i * PG), i);
}

static void test_migrate_anon_huge_free(void **state)
{
	struct st *s = *state;

	huge_on_device(s);
	assert_int_equal(mmn_munmap(s->mm, BASE, MMN_PMD_SIZE), 0);
	assert_int_equal(mmn_hmm_nr_entries(s->m), 0);
	/* The device memory came back: a second THP migrates whole again. */
	huge_on_device(s);
}

#define T(t) cmocka_unit_test_setup_teardown(t, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_open_close),
		T(test_anon_read),
		T(test_anon_read_multiple),
		T(test_anon_read_prot),
		T(test_anon_write),
		T(test_anon_write_prot),
		T(test_anon_write_child),
		T(test_anon_write_child_shared),
		T(test_anon_write_huge),
		T(test_anon_write_hugetlbfs),
		T(test_migrate),
		T(test_migrate_fault),
		T(test_migrate_release),
		T(test_migrate_shared),
		T(test_migrate_mixed),
		T(test_migrate_multiple),
		T(test_anon_teardown),
		T(test_snapshot),
		T(test_compound),
		T(test_double_map),
		T(test_exclusive),
		T(test_exclusive_mprotect),
		T(test_exclusive_cow),
		T(test_hmm_gup_test),
		T(test_hmm_cow_in_device),
		T(test_migrate_anon_huge_empty),
		T(test_migrate_anon_huge_fault),
		T(test_migrate_anon_huge_free),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
