// SPDX-License-Identifier: MIT
/* The oracle's channel and the stale-translation audit, both ways. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h"
#include "support/capture.h"

#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define PG MMN_PAGE_SIZE

/* A toy secondary MMU: a small table of cached translations filled from the
 * CPU page table, optionally flushed by arch_invalidate_secondary_tlbs. */
struct toy {
	struct mmn_notifier mn;
	struct mmn_mm *mm;
	struct mmn_secondary_entry e[8];
	int n;
};

static void toy_flush(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
		      unsigned long end)
{
	struct toy *t = (struct toy *)sub;

	(void)mm;
	for (int i = 0; i < t->n; i++)
		if (t->e[i].addr >= start && t->e[i].addr < end)
			t->e[i] = t->e[--t->n], i--;
}

static const struct mmn_notifier_ops toy_ops = { .arch_invalidate_secondary_tlbs = toy_flush };

static void toy_iter(void *ctx, mmn_secondary_emit_fn emit, void *cookie)
{
	struct toy *t = ctx;

	for (int i = 0; i < t->n; i++)
		emit(cookie, &t->e[i]);
}

static void toy_fill(struct toy *t, unsigned long addr, bool write)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(t->mm, addr, &w), 0);
	assert_true(mmn_pte_present(w.entry));
	t->e[t->n++] = (struct mmn_secondary_entry){ .mm = t->mm, .addr = addr, .pfn = w.pfn,
						     .gen = w.gen, .write = write };
}

struct fixture {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
	unsigned long base;
	struct toy toy;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));

	f->sim = mmn_sim_create(NULL);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON, &f->base), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_cpu_write(f->mm, i % 2, f->base + i * PG, i), 0);
	f->toy.mm = f->mm;
	assert_int_equal(mmn_check_register_secondary(f->sim, "toy", toy_iter, &f->toy), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->toy.mn.mm)
		mmn_notifier_unregister(&f->toy.mn, f->mm);
	mmn_check_unregister_secondary(f->sim, &f->toy);
	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

static void test_coherent_state_is_silent(void **state)
{
	struct fixture *f = *state;

	toy_fill(&f->toy, f->base, true);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(f->cap.n, 0);
}

/* A CPU TLB entry that survived its PTE (no flush) is stale; with the flush
 * it is gone. */
static void test_unflushed_cpu_tlb_entry_is_stale_and_flushed_one_is_not(void **state)
{
	struct fixture *f = *state;

	for (int flush = 0; flush < 2; flush++) {
		unsigned long addr = f->base + (unsigned long)flush * PG;
		struct mmn_ptdesc *pt = mmn_pt_walk(f->mm, addr, MMN_LVL_PTE);
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		mmn_pte_t e;

		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(f->sim, pt, idx, addr);
		/* Write-protect: a writable TLB entry left behind is stale. */
		mmn_pte_cmpxchg(f->sim, pt, idx, addr, e, e & ~MMN_PTE_WRITE);
		if (flush)
			mmn_flush_tlb_page(f->mm, addr);
		mmn_spin_unlock(&pt->ptl);
		assert_int_equal(mmn_check_quiescent(f->sim), flush ? 0 : 1);
		if (!flush) {
			assert_int_equal(f->cap.last.kind, MMN_VIOL_STALE_TRANSLATION);
			assert_non_null(strstr(f->cap.last_msg, "cpu0 TLB"));
			assert_non_null(strstr(f->cap.last_msg, "stores"));
			mmn_flush_tlb_page(f->mm, addr);
		}
	}
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_STALE_TRANSLATION), 1);
}

/* A listener that ignores invalidations keeps translations of unmapped
 * memory; one that flushes on arch_invalidate_secondary_tlbs does not. */
static void test_listener_without_invalidation_is_caught_after_munmap(void **state)
{
	struct fixture *f = *state;

	toy_fill(&f->toy, f->base, false);
	toy_fill(&f->toy, f->base + PG, false);
	assert_int_equal(mmn_munmap(f->mm, f->base, 2 * PG), 0);
	assert_int_equal(mmn_check_quiescent(f->sim), 2);
	assert_non_null(strstr(f->cap.last_msg, "toy"));
	assert_non_null(strstr(f->cap.last_msg, "not present"));
}

static void test_listener_that_invalidates_stays_coherent_after_munmap(void **state)
{
	struct fixture *f = *state;

	f->toy.mn.ops = &toy_ops;
	assert_int_equal(mmn_notifier_register(&f->toy.mn, f->mm), 0);
	toy_fill(&f->toy, f->base, false);
	toy_fill(&f->toy, f->base + 3 * PG, false);
	assert_int_equal(mmn_munmap(f->mm, f->base, 2 * PG), 0);
	assert_int_equal(f->toy.n, 1);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(f->cap.n, 0);
}

/* The frame was freed and handed to another address: same pfn present,
 * but the generation moved. */
static void test_translation_to_a_reused_frame_is_stale(void **state)
{
	struct fixture *f = *state;
	struct mmn_secondary_entry e;

	toy_fill(&f->toy, f->base, false);
	e = f->toy.e[0];
	assert_int_equal(mmn_munmap(f->mm, f->base, PG), 0);
	assert_int_equal(mmn_mmap(f->mm, f->base, PG, RW, ANON | MMN_MAP_FIXED, NULL), 0);
	assert_int_equal(mmn_cpu_write(f->mm, 0, f->base, 9), 0);
	assert_int_equal(mmn_pfn_to_page(f->sim, e.pfn)->flags & MMN_PG_FREE, 0);
	assert_int_equal(mmn_check_quiescent(f->sim), 1);
	assert_non_null(strstr(f->cap.last_msg, "re-used"));
}

static void test_registry_rejects_bad_input(void **state)
{
	struct fixture *f = *state;
	int other;

	assert_int_equal(mmn_check_register_secondary(f->sim, "toy", toy_iter, &f->toy), -EEXIST);
	assert_int_equal(mmn_check_register_secondary(NULL, "x", toy_iter, &other), -EINVAL);
	assert_int_equal(mmn_check_register_secondary(f->sim, NULL, toy_iter, &other), -EINVAL);
	assert_int_equal(mmn_check_register_secondary(f->sim, "x", NULL, &other), -EINVAL);
	assert_int_equal(mmn_check_register_secondary(f->sim, "x", toy_iter, NULL), -EINVAL);
	assert_int_equal(mmn_check_unregister_secondary(f->sim, &other), -ENOENT);
	assert_int_equal(mmn_check_unregister_secondary(NULL, &other), -EINVAL);
	assert_int_equal(mmn_check_quiescent(NULL), -EINVAL);
}

static void test_user_reports_are_counted_and_attributed(void **state)
{
	struct fixture *f = *state;
	struct mmn_violation v = { .kind = MMN_VIOL_PROTOCOL, .actor_id = -1, .msg = "mine" };

	mmn_check_report(f->sim, &v);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 1);
	assert_int_equal(mmn_check_total(f->sim), 1);
	assert_non_null(f->cap.last.actor_name);
	assert_string_equal(f->cap.last_msg, "mine");
	mmn_check_reset(f->sim);
	assert_int_equal(mmn_check_total(f->sim), 0);
	assert_string_equal(mmn_violation_kind_name(MMN_VIOL_LOST_WRITE), "lost_write");
	assert_string_equal(mmn_violation_kind_name(MMN_VIOL_NR_KINDS), "unknown");
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_NR_KINDS), 0);
	v.kind = MMN_VIOL_NR_KINDS;
	mmn_check_report(f->sim, &v); /* out of range: ignored */
	assert_int_equal(mmn_check_total(f->sim), 0);
}

/* Report @n violations of @kind (the first with a two-line detail) through
 * the default handler; what it printed on stderr, in @buf. */
static void report_to_default_handler(struct mmn_sim *sim, enum mmn_violation_kind kind,
				      unsigned long n, char *buf, size_t len)
{
	struct mmn_violation v = { .kind = kind, .actor_id = -1, .msg = "again",
				   .detail = "held locks of x:\n#0: ptl\n" };
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t got;

	assert_non_null(tmp);
	fflush(stderr);
	dup2(fileno(tmp), STDERR_FILENO);
	mmn_check_set_handler(sim, NULL, NULL);
	for (unsigned long i = 0; i < n; i++) {
		mmn_check_report(sim, &v);
		v.detail = NULL;
	}
	fflush(stderr);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	got = fread(buf, 1, len - 1, tmp);
	buf[got] = '\0';
	fclose(tmp);
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_default_handler_prints_the_first_of_a_kind_then_only_counts(void **state)
{
	struct fixture *f = *state;
	char out[8192];

	report_to_default_handler(f->sim, MMN_VIOL_PROTOCOL, 1234, out, sizeof(out));
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 1234);
	/* 5 lines in full (the first with its 2 detail lines), then the 10th,
	 * 100th and 1000th: 10 lines for 1234 violations */
	assert_int_equal(count_lines(out), MMN_CHECK_PRINT_FIRST + 2 + 3);
	assert_non_null(strstr(out, "mmnsim: violation protocol: again"));
	assert_non_null(strstr(out, "\n    held locks of x:\n    #0: ptl\n"));
	assert_non_null(strstr(out, "protocol: 10 so far; only the first 5"));
	assert_non_null(strstr(out, "protocol: 1000 so far"));
	assert_null(strstr(out, "1234"));
}

static void test_default_handler_prints_every_violation_up_to_the_limit(void **state)
{
	struct fixture *f = *state;
	char out[8192];

	/* another kind keeps its own count: its first ones print in full */
	report_to_default_handler(f->sim, MMN_VIOL_PROTOCOL, 20, out, sizeof(out));
	report_to_default_handler(f->sim, MMN_VIOL_LOST_WRITE, MMN_CHECK_PRINT_FIRST, out,
				  sizeof(out));
	assert_int_equal(count_lines(out), MMN_CHECK_PRINT_FIRST + 2);
	assert_null(strstr(out, "so far"));
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_coherent_state_is_silent),
		T(test_unflushed_cpu_tlb_entry_is_stale_and_flushed_one_is_not),
		T(test_listener_without_invalidation_is_caught_after_munmap),
		T(test_listener_that_invalidates_stays_coherent_after_munmap),
		T(test_translation_to_a_reused_frame_is_stale),
		T(test_registry_rejects_bad_input),
		T(test_user_reports_are_counted_and_attributed),
		T(test_default_handler_prints_the_first_of_a_kind_then_only_counts),
		T(test_default_handler_prints_every_violation_up_to_the_limit),
	};

	return cmocka_run_group_tests_name("check", tests, NULL, NULL);
}
