// SPDX-License-Identifier: MIT
/*
 * The dispatch's fast path (mmn_notifier_fast_stats(), docs/notifier.md
 * "Nothing paid when nobody listens"): start and end return at once only
 * when the mm has no subscriptions, lockdep is off, no hook is installed
 * and the backend is the native one. Each test makes the check the fast
 * path skips (the start/end pairing) fire, or not, on one side of that
 * condition: an unmatched end is reported whenever anything asks for
 * checks, and counted as skipped when nothing does. The inline wrappers of
 * mmnsim/inline.h (compiled here with MMN_INLINE_FAST_PATH) test only what
 * the kernel's inline wrappers test: they neither check the range nor count.
 * A start that took either fast path marks its range, so that an end sent
 * down the full path by a change in between is excused, not reported.
 */
#define MMN_INLINE_FAST_PATH 1
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/inline.h>
#include <mmnsim/mmnsim.h>

#include "notifier/notifier_internal.h" /* mmn_notifier_pairing_depth() */
#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define A0 0x100000UL

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
};

static void fx_init(struct fx *f, bool lockdep, enum mmn_backend backend)
{
	struct mmn_sim_config cfg;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = lockdep;
	cfg.backend = backend;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	capture_install(f->sim, &f->cap);
	f->mm = mmn_mm_create(f->sim);
	assert_non_null(f->mm);
	mmn_notifier_pairing_reset();
}

static void fx_fini(struct fx *f)
{
	mmn_notifier_pairing_reset();
	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
}

static struct mmn_notifier_fast_stats stats(const struct fx *f)
{
	struct mmn_notifier_fast_stats s;

	assert_int_equal(mmn_notifier_fast_stats(f->mm, &s), 0);
	return s;
}

static unsigned long protocol(const struct fx *f)
{
	return mmn_check_count(f->sim, MMN_VIOL_PROTOCOL);
}

static int nop_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
	return 0;
}

static void nop_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	(void)sub;
	(void)range;
}

static const struct mmn_notifier_ops nop_ops = {
	.invalidate_range_start = nop_start,
	.invalidate_range_end = nop_end,
};

static void nop_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	(void)sim;
	(void)ev;
	(void)arg;
}

/* A start+end pair and an end with no start, through the library calls. */
static void pair_then_unmatched_end(struct fx *f)
{
	struct mmn_notifier_range r;

	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f->mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&r);
	assert_true(r.flags & MMN_NOTIFIER_RANGE_BLOCKABLE);
	mmn_notifier_invalidate_range_end(&r);
	mmn_notifier_invalidate_range_end(&r); /* unmatched */
}

/* Everything off, nobody listening: skipped and counted, not reported. */
static void test_everything_off_takes_the_fast_path(void **state)
{
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	pair_then_unmatched_end(&f);
	assert_int_equal(protocol(&f), 0);
	assert_int_equal(stats(&f).starts, 1);
	assert_int_equal(stats(&f).ends, 2);
	assert_int_equal(stats(&f).excused, 0);
	/* the start was not recorded: nothing outstanding */
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&r);
	assert_int_equal(mmn_notifier_pairing_depth(), 0);
	assert_int_equal(mmn_notifier_invalidate_range_start_nonblock(&r), 0);
	assert_false(r.flags & MMN_NOTIFIER_RANGE_BLOCKABLE);
	assert_int_equal(stats(&f).starts, 3);
	fx_fini(&f);
}

/* Lockdep on: every dispatch is checked, the unmatched end reported. */
static void test_lockdep_on_checks_every_dispatch(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, true, MMN_BACKEND_NATIVE);
	pair_then_unmatched_end(&f);
	assert_int_equal(protocol(&f), 1);
	assert_non_null(strstr(f.cap.last_msg, "no matching invalidate_range_start"));
	assert_int_equal(stats(&f).starts, 0);
	assert_int_equal(stats(&f).ends, 0);
	fx_fini(&f);
}

/* A scheduling-point hook: checked while installed, fast again after. */
static void test_a_hook_turns_the_fast_path_off(void **state)
{
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	mmn_sched_set_hook(f.sim, nop_hook, NULL);
	pair_then_unmatched_end(&f);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).starts, 0);
	assert_int_equal(stats(&f).ends, 0);
	mmn_sched_set_hook(f.sim, NULL, NULL);
	pair_then_unmatched_end(&f);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).starts, 1);
	assert_int_equal(stats(&f).ends, 2);
	fx_fini(&f);
}

/* A subscription (even with everything off): checked. */
static void test_a_subscription_turns_the_fast_path_off(void **state)
{
	struct mmn_notifier sub = { .ops = &nop_ops };
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	assert_int_equal(mmn_notifier_register(&sub, f.mm), 0);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&r);
	assert_int_equal(mmn_notifier_pairing_depth(), 1);
	mmn_notifier_invalidate_range_end(&r);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).starts, 0);
	assert_int_equal(stats(&f).ends, 0);
	/* unregistered: the subscriptions struct stays, as in the kernel */
	assert_int_equal(mmn_notifier_unregister(&sub, f.mm), 0);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(protocol(&f), 2);
	assert_int_equal(stats(&f).ends, 0);
	fx_fini(&f);
}

/* A range the checks refuse is never fast: still reported. */
static void test_a_bad_range_is_still_reported(void **state)
{
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0 + PG, A0);
	mmn_notifier_invalidate_range_start(&r);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(mmn_notifier_pairing_depth(), 1);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(mmn_notifier_pairing_depth(), 0);
	assert_int_equal(protocol(&f), 1);
	r.event = (enum mmn_notify_event)MMN_NOTIFY_NR_EVENTS;
	mmn_notifier_invalidate_range_start(&r);
	assert_int_equal(protocol(&f), 3); /* inverted, and the event */
	assert_int_equal(stats(&f).starts, 0);
	assert_int_equal(stats(&f).ends, 0);
	fx_fini(&f);
}

/* A first subscription between an unchecked start and its end: the end is
 * excused once, counted; a second unmatched end is reported. */
static void test_an_end_after_the_first_registration_is_excused_once(void **state)
{
	struct mmn_notifier sub = { .ops = &nop_ops };
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&r);
	assert_int_equal(mmn_notifier_register(&sub, f.mm), 0);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(protocol(&f), 0);
	assert_int_equal(stats(&f).excused, 1);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).excused, 1);
	assert_int_equal(mmn_notifier_unregister(&sub, f.mm), 0);
	fx_fini(&f);
}

/* A fast pair leaves no mark: an unmatched end after a first subscription
 * is reported (an end that kept the fast start's mark would be excused). */
static void test_a_fast_pair_leaves_no_excuse_behind(void **state)
{
	struct mmn_notifier sub = { .ops = &nop_ops };
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&r);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(r.flags, MMN_NOTIFIER_RANGE_BLOCKABLE);
	assert_int_equal(mmn_notifier_register(&sub, f.mm), 0);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).excused, 0);
	assert_int_equal(mmn_notifier_unregister(&sub, f.mm), 0);
	fx_fini(&f);
}

/* A checked start takes over a mark a fast start left on its range: its
 * start is recorded and its end matched (not excused, nothing left over). */
static void test_a_checked_start_clears_the_mark(void **state)
{
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&r); /* fast: marked */
	mmn_sched_set_hook(f.sim, nop_hook, NULL);
	mmn_notifier_invalidate_range_start(&r); /* checked */
	assert_int_equal(mmn_notifier_pairing_depth(), 1);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(mmn_notifier_pairing_depth(), 0);
	assert_int_equal(stats(&f).excused, 0);
	assert_int_equal(protocol(&f), 0);
	mmn_sched_set_hook(f.sim, NULL, NULL);
	fx_fini(&f);
}

/* The mark is the library's: a caller cannot pass it through range_init. */
static void test_range_init_masks_the_private_mark(void **state)
{
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, true, MMN_BACKEND_NATIVE);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR,
				MMN_NOTIFIER_RANGE_BLOCKABLE | MMN__NOTIFIER_RANGE_UNCHECKED, f.mm, A0,
				A0 + PG);
	assert_int_equal(r.flags, MMN_NOTIFIER_RANGE_BLOCKABLE);
	mmn_notifier_invalidate_range_end(&r);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).excused, 0);
	fx_fini(&f);
}

/* ---- the deterministic backend: checked, and traced ---- */

struct det_run {
	struct mmn_mm *mm;
	int depth_after_start;
};

static void *det_actor(void *arg)
{
	struct det_run *d = arg;
	struct mmn_notifier_range r;

	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, d->mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start(&r);
	d->depth_after_start = mmn_notifier_pairing_depth();
	mmn_notifier_invalidate_range_end(&r);
	mmn_notifier_invalidate_range_end(&r); /* unmatched */
	return NULL;
}

static void det_body(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *a;

	assert_int_equal(mmn_actor_spawn(sim, "inval", det_actor, arg, &a), 0);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
}

static int count_of(const char *s, const char *what)
{
	int n = 0;

	for (const char *p = strstr(s, what); p; p = strstr(p + 1, what))
		n++;
	return n;
}

static void test_the_deterministic_backend_checks_and_traces(void **state)
{
	struct det_run d = { .depth_after_start = -1 };
	struct mmn_sched_config c;
	struct mmn_sched_result res;
	const char *trace;
	size_t len;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_DETERMINISTIC);
	d.mm = f.mm;
	mmn_sched_config_init(&c);
	c.seed = 1;
	assert_int_equal(mmn_sched_run(f.sim, &c, det_body, &d, &res), 0);
	assert_int_equal(d.depth_after_start, 1);
	assert_int_equal(protocol(&f), 1);
	trace = mmn_sched_trace(f.sim, &len);
	assert_non_null(trace);
	/* the spans of both ends: "STEP ACTOR begin NAME [START, END) EVENT" */
	assert_non_null(strstr(trace, "invalidate_range_start [0x100000, 0x101000) clear"));
	assert_int_equal(count_of(trace, "invalidate_range_end [0x100000, 0x101000) clear"), 2);
	assert_int_equal(stats(&f).starts, 0);
	assert_int_equal(stats(&f).ends, 0);
	fx_fini(&f);
}

/* ---- the inline wrappers (MMN_INLINE_FAST_PATH) ---- */

static void inline_pair_then_unmatched_end(struct fx *f)
{
	struct mmn_notifier_view v;
	struct mmn_notifier_range r;

	assert_int_equal(mmn_notifier_view_init(&v, f->mm), 0);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f->mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start_inline(&v, &r);
	assert_true(r.flags & MMN_NOTIFIER_RANGE_BLOCKABLE);
	mmn_notifier_invalidate_range_end_inline(&v, &r);
	mmn_notifier_invalidate_range_end_inline(&v, &r);
}

/* The kernel's test, nothing else: with everything off and nobody listening
 * nothing is checked or counted; with a hook or lockdep, the library checks. */
static void test_inline_wrappers_test_what_the_kernel_tests(void **state)
{
	struct mmn_notifier_view v;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	inline_pair_then_unmatched_end(&f);
	assert_int_equal(protocol(&f), 0);
	assert_int_equal(stats(&f).starts, 0);
	assert_int_equal(stats(&f).ends, 0);
	mmn_sched_set_hook(f.sim, nop_hook, NULL);
	inline_pair_then_unmatched_end(&f);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).starts, 0);
	mmn_sched_set_hook(f.sim, NULL, NULL);
	fx_fini(&f);

	fx_init(&f, true, MMN_BACKEND_NATIVE);
	inline_pair_then_unmatched_end(&f);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(stats(&f).starts, 0);
	assert_int_equal(stats(&f).ends, 0);
	fx_fini(&f);

	assert_int_equal(mmn_notifier_view_init(NULL, NULL), -EINVAL);
	assert_int_equal(mmn_notifier_view_init(&v, NULL), -EINVAL);
	assert_int_equal(mmn_notifier_fast_stats(NULL, NULL), -EINVAL);
}

/* The inline fast path does not look at the range (as the kernel's): an
 * inverted one is not reported there; the library call still reports it. */
static void test_inline_wrappers_do_not_check_the_range(void **state)
{
	struct mmn_notifier_view v;
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	assert_int_equal(mmn_notifier_view_init(&v, f.mm), 0);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0 + PG, A0);
	mmn_notifier_invalidate_range_start_inline(&v, &r);
	mmn_notifier_invalidate_range_end_inline(&v, &r);
	assert_int_equal(protocol(&f), 0);
	mmn_notifier_invalidate_range_start(&r);
	assert_int_equal(protocol(&f), 1);
	mmn_notifier_invalidate_range_end(&r);
	/* NULL: no-op, no crash */
	mmn_notifier_invalidate_range_start_inline(&v, NULL);
	mmn_notifier_invalidate_range_end_inline(&v, NULL);
	assert_int_equal(protocol(&f), 1);
	fx_fini(&f);
}

/* An inline start that returned at once marks its range: its end, sent to
 * the library by a first subscription in between, is excused once. */
static void test_inline_start_then_registration_is_excused(void **state)
{
	struct mmn_notifier sub = { .ops = &nop_ops };
	struct mmn_notifier_view v;
	struct mmn_notifier_range r;
	struct fx f;

	(void)state;
	fx_init(&f, false, MMN_BACKEND_NATIVE);
	assert_int_equal(mmn_notifier_view_init(&v, f.mm), 0);
	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, f.mm, A0, A0 + PG);
	mmn_notifier_invalidate_range_start_inline(&v, &r);
	assert_int_equal(mmn_notifier_register(&sub, f.mm), 0);
	mmn_notifier_invalidate_range_end_inline(&v, &r);
	assert_int_equal(protocol(&f), 0);
	assert_int_equal(stats(&f).excused, 1);
	mmn_notifier_invalidate_range_end_inline(&v, &r);
	assert_int_equal(protocol(&f), 1);
	assert_int_equal(mmn_notifier_unregister(&sub, f.mm), 0);
	fx_fini(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_everything_off_takes_the_fast_path),
		cmocka_unit_test(test_lockdep_on_checks_every_dispatch),
		cmocka_unit_test(test_a_hook_turns_the_fast_path_off),
		cmocka_unit_test(test_a_subscription_turns_the_fast_path_off),
		cmocka_unit_test(test_a_bad_range_is_still_reported),
		cmocka_unit_test(test_an_end_after_the_first_registration_is_excused_once),
		cmocka_unit_test(test_a_fast_pair_leaves_no_excuse_behind),
		cmocka_unit_test(test_a_checked_start_clears_the_mark),
		cmocka_unit_test(test_range_init_masks_the_private_mark),
		cmocka_unit_test(test_the_deterministic_backend_checks_and_traces),
		cmocka_unit_test(test_inline_wrappers_test_what_the_kernel_tests),
		cmocka_unit_test(test_inline_wrappers_do_not_check_the_range),
		cmocka_unit_test(test_inline_start_then_registration_is_excused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
