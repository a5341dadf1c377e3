// SPDX-License-Identifier: MIT
/*
 * The decisions of the opt-in inline fast path (mmnsim/inline.h), each both
 * ways, white-box: which reads the inline TLB read serves itself and which
 * it hands to the library (a dead mm, a stale generation, a counted hit),
 * and the index through which the inline SRCU unlock trusts its lock.
 */
#define MMN_INLINE_FAST_PATH 1
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include <urcu/urcu-memb.h>

#include <mmnsim/mmnsim.h>

#include "mm/mm_internal.h"

#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define PG MMN_PAGE_SIZE

struct fixture {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long base;
	struct mmn_tlb_view v;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;
	uint64_t x;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 256;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = false;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	assert_int_equal(mmn_mmap(f->mm, 0, 4 * PG, RW, ANON, &f->base), 0);
	for (unsigned long p = 0; p < 4; p++) {
		assert_int_equal(mmn_cpu_write(f->mm, 0, f->base + p * PG, 10 + p), 0);
		assert_int_equal(mmn_cpu_read(f->mm, 0, f->base + p * PG, &x), 0);
	}
	assert_int_equal(mmn_tlb_view_init(&f->v, f->mm, 0), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	if (f->mm)
		mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

static unsigned long hits(struct mmn_sim *sim)
{
	struct mmn_stats st;

	mmn_sim_get_stats(sim, &st);
	return st.tlb_hits;
}

static struct mmn_tlb_slot *slot_of(struct fixture *f, unsigned long addr)
{
	struct mmn_cpu *c = &f->sim->cpus[0];

	return &c->small[(addr >> MMN_PAGE_SHIFT) & (c->nr_small - 1)];
}

/* A hit served inline is not counted; the library's is. */
static void test_tlb_inline_hit_is_not_counted(void **state)
{
	struct fixture *f = *state;
	unsigned long h = hits(f->sim);
	uint64_t x = 0;

	assert_int_equal(mmn_tlb_read_inline(&f->v, f->base + PG, &x), 0);
	assert_int_equal(x, 11);
	assert_int_equal(hits(f->sim), h);
	assert_int_equal(mmn_cpu_read(f->mm, 0, f->base + PG, &x), 0);
	assert_int_equal(hits(f->sim), h + 1);
}

/* The slot's generation copy disagrees with the frame's: the library
 * decides (here its own test, on val, finds the entry current and hits). */
static void test_tlb_stale_slot_generation_goes_to_the_library(void **state)
{
	struct fixture *f = *state;
	struct mmn_tlb_slot *s = slot_of(f, f->base + 2 * PG);
	uint32_t gen = atomic_load(&s->gen);
	unsigned long h = hits(f->sim);
	uint64_t x = 0;

	atomic_store(&s->gen, gen + 1);
	assert_int_equal(mmn_tlb_read_inline(&f->v, f->base + 2 * PG, &x), 0);
	assert_int_equal(x, 12);
	assert_int_equal(hits(f->sim), h + 1);    /* the library served it */
	atomic_store(&s->gen, gen);
	assert_int_equal(mmn_tlb_read_inline(&f->v, f->base + 2 * PG, &x), 0);
	assert_int_equal(hits(f->sim), h + 1);    /* inline again */
}

/*
 * A dead mm (after mmgrab + the last mmput) never hits inline: its tag is
 * all ones. exit_mmap() flushed its entries, so put one back as a stale
 * survivor would be, generation and all: the read is still the library's
 * -EINVAL. With the live tag restored (the poisoning undone) it would hit.
 */
static void test_tlb_dead_mm_is_refused_inline(void **state)
{
	struct fixture *f = *state;
	struct mmn_tlb_slot *s = slot_of(f, f->base);
	struct mmn_tlb_slot saved = { 0 };
	struct mmn_page *page;
	uint64_t x = 0;

	atomic_store(&saved.tag, atomic_load(&s->tag));
	atomic_store(&saved.val, atomic_load(&s->val));
	page = atomic_load(&s->page);
	assert_int_equal(atomic_load(&saved.tag) & ~((1ULL << 36) - 1),
			 mmn__tlb_mm_tag(mmn_mm_id(f->mm)));
	mmn_mmgrab(f->mm);
	mmn_mm_put(f->mm);
	assert_int_equal(mmn_mm_users(f->mm), 0);
	assert_int_not_equal(atomic_load(&s->tag), atomic_load(&saved.tag)); /* flushed */
	/* The survivor: tag, frame, and the frame's generation of now. */
	atomic_store(&s->page, page);
	atomic_store(&s->gen, atomic_load(&page->gen));
	atomic_store(&s->tag, atomic_load(&saved.tag));
	assert_int_equal(mmn_tlb_read_inline(&f->v, f->base, &x), -EINVAL);
	/* The other way: a live tag would have let it through. */
	atomic_store(&f->mm->tlb_tag, mmn__tlb_mm_tag(mmn_mm_id(f->mm)));
	assert_int_equal(mmn_tlb_read_inline(&f->v, f->base, &x), 0);
	atomic_store(&f->mm->tlb_tag, MMN__TLB_TAG_DEAD);
	atomic_store(&s->tag, 0);
	mmn_mmdrop(f->mm);
	f->mm = NULL;
}

/* ---- the SRCU read side ---- */

struct srcu_fixture {
	struct mmn_sim *sim;
	struct mmn_srcu ss;
	unsigned long unlock_events;
};

static struct srcu_fixture *srcu_new(bool lockdep)
{
	struct srcu_fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;
	int idx;

	assert_non_null(f);
	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = lockdep;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	mmn_srcu_init(&f->ss, f->sim, "decisions");
	/* The first section of an unregistered thread is the library's. */
	idx = mmn_srcu_read_lock(&f->ss);
	mmn_srcu_read_unlock(&f->ss, idx);
	return f;
}

static void srcu_free(struct srcu_fixture *f)
{
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_synchronize_srcu(&f->ss); /* returns: liburcu's nesting is intact */
	mmn_srcu_destroy(&f->ss);
	mmn_sim_destroy(f->sim);
	free(f);
}

/* Sections open on this thread (liburcu's nesting count). */
static unsigned long nesting(void)
{
	return URCU_TLS(urcu_memb_reader).ctr & URCU_GP_CTR_NEST_MASK;
}

#ifdef MMN__INLINE_SRCU
#define INLINE_IDX MMN__SRCU_IDX_INLINE
#else
#define INLINE_IDX 0 /* ThreadSanitizer builds: the library's read side */
#endif

/* The lock takes the inline path only when no slow path is on: its own
 * index then, the library's (0, lockdep holding it) otherwise. */
static void test_srcu_lock_index_says_who_entered(void **state)
{
	struct srcu_fixture *f = srcu_new(false);
	int idx;

	(void)state;
	idx = mmn_srcu_read_lock(&f->ss);
	assert_int_equal(idx, INLINE_IDX);
	assert_int_equal(nesting(), 1);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(nesting(), 0);
	srcu_free(f);

	f = srcu_new(true);
	idx = mmn_srcu_read_lock(&f->ss);
	assert_int_equal(idx, 0);
	assert_int_equal(mmn_srcu_read_lock_held(&f->ss), 1);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(mmn_srcu_read_lock_held(&f->ss), 0);
	assert_int_equal(nesting(), 0);
	srcu_free(f);
}

/* The library's index goes to the library (lockdep releases what it
 * holds: an inline unlock would leave it held), and the library's unlock
 * accepts the inline index. */
static void test_srcu_indices_cross_between_inline_and_library(void **state)
{
	struct srcu_fixture *f = srcu_new(true);
	int idx;

	(void)state;
	idx = (mmn_srcu_read_lock)(&f->ss);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(mmn_srcu_read_lock_held(&f->ss), 0);
	assert_int_equal(nesting(), 0);
	srcu_free(f);

	f = srcu_new(false);
	idx = mmn_srcu_read_lock(&f->ss);
	(mmn_srcu_read_unlock)(&f->ss, idx);
	assert_int_equal(nesting(), 0);
	idx = (mmn_srcu_read_lock)(&f->ss);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(nesting(), 0);
	srcu_free(f);
}

/* A second unlock of an inline index finds no section open and leaves
 * liburcu's count alone (one more decrement would wrap it), also inside
 * an outer section, which it must not close. */
static void test_srcu_second_inline_unlock_is_harmless(void **state)
{
	struct srcu_fixture *f = srcu_new(false);
	int outer, idx;

	(void)state;
	idx = mmn_srcu_read_lock(&f->ss);
	mmn_srcu_read_unlock(&f->ss, idx);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(nesting(), 0);
	outer = mmn_srcu_read_lock(&f->ss);
	idx = mmn_srcu_read_lock(&f->ss);
	assert_int_equal(nesting(), 2);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(nesting(), 1);
	mmn_srcu_read_unlock(&f->ss, outer);
	assert_int_equal(nesting(), 0);
	srcu_free(f);
}

static void count_unlocks(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct srcu_fixture *f = arg;

	(void)sim;
	if (ev->kind == MMN_SCHED_SRCU_READ_UNLOCK)
		f->unlock_events++;
}

/* The unlock trusts its lock: a section entered inline leaves inline even
 * if a scheduling hook (a slow path) came meanwhile; a section the library
 * entered under the hook leaves through the library, which tells the hook. */
static void test_srcu_unlock_trusts_its_lock(void **state)
{
	struct srcu_fixture *f = srcu_new(false);
	int idx;

	(void)state;
	idx = mmn_srcu_read_lock(&f->ss);
	mmn_sched_set_hook(f->sim, count_unlocks, f);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(nesting(), 0);
	assert_int_equal(f->unlock_events, INLINE_IDX ? 0 : 1);
	idx = mmn_srcu_read_lock(&f->ss);
	assert_int_equal(idx, 0);
	mmn_srcu_read_unlock(&f->ss, idx);
	assert_int_equal(f->unlock_events, INLINE_IDX ? 1 : 2);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	srcu_free(f);
}

static void count_events(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	unsigned long *n = arg;

	(void)sim;
	if (ev->kind == MMN_SCHED_SRCU_READ_LOCK)
		n[0]++;
	else if (ev->kind == MMN_SCHED_SRCU_READ_UNLOCK)
		n[1]++;
}

/* One lock+unlock of @ss, inline if it may: the index the lock returned. */
static int lock_unlock(struct mmn_srcu *ss)
{
	int idx = mmn_srcu_read_lock(ss);

	assert_int_equal(nesting(), 1);
	mmn_srcu_read_unlock(ss, idx);
	assert_int_equal(nesting(), 0);
	return idx;
}

/* Every domain's fast byte follows the simulation's slow flag when a hook
 * is set and cleared, a domain initialised under the hook included: under
 * the hook every lock is the library's (the hook sees it), without it the
 * inline path's (the hook, gone, sees nothing either way). */
static void test_srcu_fast_byte_follows_the_flag(void **state)
{
	struct srcu_fixture *f = srcu_new(false);
	struct mmn_srcu b, c;
	unsigned long ev[2] = { 0, 0 };

	(void)state;
	mmn_srcu_init(&b, f->sim, "b");
	assert_int_equal(f->ss.fast, 1);
	assert_int_equal(b.fast, 1);
	mmn_sched_set_hook(f->sim, count_events, ev);
	assert_int_equal(f->ss.fast, 0);
	assert_int_equal(b.fast, 0);
	mmn_srcu_init(&c, f->sim, "c");
	assert_int_equal(c.fast, 0);
	assert_int_equal(lock_unlock(&f->ss), 0);
	assert_int_equal(lock_unlock(&b), 0);
	assert_int_equal(lock_unlock(&c), 0);
	assert_int_equal(ev[0], 3);
	assert_int_equal(ev[1], 3);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(f->ss.fast, 1);
	assert_int_equal(b.fast, 1);
	assert_int_equal(c.fast, 1);
	assert_int_equal(lock_unlock(&f->ss), INLINE_IDX);
	assert_int_equal(lock_unlock(&b), INLINE_IDX);
	assert_int_equal(lock_unlock(&c), INLINE_IDX);
	/* Destroyed, a domain leaves the list: the hook no longer writes it. */
	mmn_srcu_destroy(&b);
	b.fast = 1; /* as if it were reused memory */
	mmn_sched_set_hook(f->sim, count_events, ev);
	assert_int_equal(b.fast, 1);
	assert_int_equal(c.fast, 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	mmn_srcu_destroy(&c);
	srcu_free(f);

	/* Lockdep keeps the flag set: the byte is 0 from the start. */
	f = srcu_new(true);
	assert_int_equal(f->ss.fast, 0);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(f->ss.fast, 0);
	srcu_free(f);
}

/* So does the deterministic backend, whose user hook does not touch it. */
static void test_srcu_fast_byte_clear_under_the_deterministic_backend(void **state)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;
	struct mmn_srcu ss;
	unsigned long ev[2] = { 0, 0 };

	(void)state;
	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 0;
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	mmn_srcu_init(&ss, sim, "det");
	assert_int_equal(ss.fast, 0);
	mmn_sched_set_hook(sim, count_events, ev);
	assert_int_equal(ss.fast, 0);
	mmn_sched_set_hook(sim, NULL, NULL);
	assert_int_equal(ss.fast, 0);
	mmn_srcu_destroy(&ss);
	mmn_sim_destroy(sim);
}

/* A zeroed (never initialised) or destroyed domain goes to the library,
 * whose lock refuses it (-EINVAL) and whose unlock of that refusal does
 * nothing, not even inside an open section of another domain. */
static void test_srcu_zeroed_or_destroyed_is_refused(void **state)
{
	struct srcu_fixture *f = srcu_new(false);
	struct mmn_srcu *z = calloc(1, sizeof(*z));
	struct mmn_srcu d;
	int outer, idx;

	(void)state;
	assert_non_null(z);
	assert_int_equal(mmn_srcu_read_lock(z), -EINVAL);
	assert_int_equal((mmn_srcu_read_lock)(z), -EINVAL);
	assert_int_equal(nesting(), 0);
	mmn_srcu_read_unlock(z, -EINVAL);
	mmn_synchronize_srcu(z);
	mmn_srcu_barrier(z);
	mmn_srcu_destroy(z);
	assert_int_equal(nesting(), 0);

	mmn_srcu_init(&d, f->sim, "d");
	assert_int_equal(lock_unlock(&d), INLINE_IDX);
	mmn_srcu_destroy(&d);
	assert_int_equal(d.fast, 0);
	assert_int_equal(mmn_srcu_read_lock(&d), -EINVAL);
	assert_int_equal((mmn_srcu_read_lock)(&d), -EINVAL);
	assert_int_equal(nesting(), 0);
	outer = mmn_srcu_read_lock(&f->ss);
	idx = mmn_srcu_read_lock(&d);
	assert_int_equal(idx, -EINVAL);
	mmn_srcu_read_unlock(&d, idx);
	assert_int_equal(nesting(), 1);
	mmn_srcu_read_unlock(&f->ss, outer);
	assert_int_equal(nesting(), 0);
	mmn_srcu_destroy(&d); /* twice: accepted */
	/* Initialised again, it is a domain again. */
	mmn_srcu_init(&d, f->sim, "d");
	mmn_srcu_init(&d, f->sim, "d"); /* twice: listed once */
	assert_int_equal(lock_unlock(&d), INLINE_IDX);
	mmn_srcu_destroy(&d);
	assert_int_equal(mmn_srcu_read_lock(&d), -EINVAL);
	mmn_sched_set_hook(f->sim, count_unlocks, f);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(d.fast, 0); /* off the list: the clear did not write it */
	free(z);
	srcu_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_tlb_inline_hit_is_not_counted, setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlb_stale_slot_generation_goes_to_the_library,
						setup, teardown),
		cmocka_unit_test_setup_teardown(test_tlb_dead_mm_is_refused_inline, setup, teardown),
		cmocka_unit_test(test_srcu_lock_index_says_who_entered),
		cmocka_unit_test(test_srcu_indices_cross_between_inline_and_library),
		cmocka_unit_test(test_srcu_second_inline_unlock_is_harmless),
		cmocka_unit_test(test_srcu_unlock_trusts_its_lock),
		cmocka_unit_test(test_srcu_fast_byte_follows_the_flag),
		cmocka_unit_test(test_srcu_fast_byte_clear_under_the_deterministic_backend),
		cmocka_unit_test(test_srcu_zeroed_or_destroyed_is_refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
