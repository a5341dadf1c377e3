// SPDX-License-Identifier: MIT
/*
 * User-level actors of the deterministic backend (lib/sync/det_context.c):
 * the state the host thread's TLS holds for an actor follows the actor from
 * switch to switch, the stack-size knob is checked, deep stacks work, the
 * two mechanisms give the same schedules, and (under ThreadSanitizer) a
 * reused stack's fiber starts each actor with an empty shadow call stack.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#if defined(__SANITIZE_THREAD__)
#define UCTX_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UCTX_TSAN 1
#endif
#endif
#ifdef UCTX_TSAN
/* ThreadSanitizer's runtime (GCC's libtsan and LLVM's): the depth of the
 * running fiber's shadow call stack, exported for its own tests. */
size_t __tsan_testonly_shadow_stack_current_size(void);
#endif

#include "support/capture.h"
#include "internal.h"
#include "notifier/notifier_internal.h" /* mmn_notifier_pairing_depth() */

#define PG MMN_PAGE_SIZE
#define BASE 0x40000000UL

static struct mmn_sim *det_sim(void)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_frames = 256;
	cfg.nr_cpus = 2;
	cfg.lockdep = true;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	return sim;
}

/* ---- the notifier's start/end pairing belongs to the actor ---- */

struct pair_run {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	int open;             /* the starter is between its start and end */
	int starter_depth[3]; /* after start, after the yields, after end */
	int other_depth_open; /* the other's view while @open: -1 never seen */
	struct mmn_actor *who[2];
	bool wrong_actor;
};

static void pair_check_me(struct pair_run *p, int i)
{
	if (mmn_actor_current(p->sim) != p->who[i])
		p->wrong_actor = true;
}

static void *pair_starter(void *arg)
{
	struct pair_run *p = arg;
	struct mmn_notifier_range r;

	mmn_notifier_range_init(&r, MMN_NOTIFY_CLEAR, 0, p->mm, BASE, BASE + PG);
	mmn_notifier_invalidate_range_start(&r);
	p->open = 1;
	p->starter_depth[0] = mmn_notifier_pairing_depth();
	for (int i = 0; i < 4; i++) {
		mmn_sched_yield(p->sim, p, "starter");
		pair_check_me(p, 0);
	}
	p->starter_depth[1] = mmn_notifier_pairing_depth();
	p->open = 0;
	mmn_notifier_invalidate_range_end(&r);
	p->starter_depth[2] = mmn_notifier_pairing_depth();
	return NULL;
}

static void *pair_other(void *arg)
{
	struct pair_run *p = arg;

	for (int i = 0; i < 4; i++) {
		if (p->open)
			p->other_depth_open = mmn_notifier_pairing_depth();
		mmn_sched_yield(p->sim, p, "other");
		pair_check_me(p, 1);
	}
	return NULL;
}

static void pair_body(struct mmn_sim *sim, void *arg)
{
	struct pair_run *p = arg;

	assert_int_equal(mmn_actor_spawn(sim, "starter", pair_starter, p, &p->who[0]), 0);
	assert_int_equal(mmn_actor_spawn(sim, "other", pair_other, p, &p->who[1]), 0);
	assert_int_equal(mmn_actor_join(p->who[0], NULL), 0);
	assert_int_equal(mmn_actor_join(p->who[1], NULL), 0);
}

/* An invalidate_range_start() outstanding in one actor is not another's,
 * though both run on the same host thread: the pairing table is switched
 * with the actor. (A table that stayed per host thread would show the
 * starter's open range to the other actor.) */
static void test_pairing_depth_follows_the_user_level_actor(void **state)
{
	unsigned int overlaps = 0;

	(void)state;
	for (uint64_t seed = 1; seed <= 20; seed++) {
		struct pair_run p = { .other_depth_open = -1 };
		struct mmn_sched_config c;
		struct mmn_sched_result r;

		p.sim = det_sim();
		p.mm = mmn_mm_create(p.sim);
		assert_non_null(p.mm);
		mmn_sched_config_init(&c);
		c.threads = false;
		c.seed = seed;
		assert_int_equal(mmn_sched_run(p.sim, &c, pair_body, &p, &r), 0);
		assert_int_equal(r.outcome, MMN_OUTCOME_OK);
		assert_int_equal(p.starter_depth[0], 1);
		assert_int_equal(p.starter_depth[1], 1);
		assert_int_equal(p.starter_depth[2], 0);
		assert_false(p.wrong_actor);
		if (p.other_depth_open >= 0) {
			assert_int_equal(p.other_depth_open, 0);
			overlaps++;
		}
		/* The controller's own table was never touched. */
		assert_int_equal(mmn_notifier_pairing_depth(), 0);
		assert_int_equal(mmn_check_total(p.sim), 0);
		mmn_mm_put(p.mm);
		mmn_sim_destroy(p.sim);
	}
	assert_true(overlaps > 0);
}

/* ---- the actor cache: another simulation in between ---- */

struct other_sim_run {
	struct mmn_sim *sim, *native;
	struct mmn_actor *self;
	bool same;
};

static void *other_sim_actor(void *arg)
{
	struct other_sim_run *o = arg;

	/* Evict the host thread's cached (sim, actor) pair. */
	assert_non_null(mmn_actor_current(o->native));
	mmn_sched_yield(o->sim, o, "evicted");
	o->same = mmn_actor_current(o->sim) == o->self;
	return NULL;
}

static void other_sim_body(struct mmn_sim *sim, void *arg)
{
	struct other_sim_run *o = arg;

	assert_int_equal(mmn_actor_spawn(sim, "a", other_sim_actor, o, &o->self), 0);
	assert_int_equal(mmn_actor_join(o->self, NULL), 0);
}

/* An actor that used another simulation still finds itself in its own (the
 * cache miss is answered by the actor-local block, not the host thread's
 * key, which names the controller). */
static void test_actor_lookup_survives_another_simulation(void **state)
{
	struct other_sim_run o = { 0 };
	struct mmn_sched_config c;
	struct mmn_sched_result r;

	(void)state;
	o.sim = det_sim();
	o.native = mmn_sim_create(NULL);
	assert_non_null(o.native);
	mmn_sched_config_init(&c);
	c.threads = false;
	assert_int_equal(mmn_sched_run(o.sim, &c, other_sim_body, &o, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_OK);
	assert_true(o.same);
	mmn_sim_destroy(o.native);
	mmn_sim_destroy(o.sim);
}

/* ---- stacks ---- */

static void nop_body(struct mmn_sim *sim, void *arg)
{
	(void)sim;
	(void)arg;
}

static void test_stack_size_outside_the_limits_is_refused(void **state)
{
	struct mmn_sim *sim = det_sim();
	struct mmn_sched_config c;
	struct mmn_sched_result r;

	(void)state;
	mmn_sched_config_init(&c);
	c.stack_size = 4096;
	assert_int_equal(mmn_sched_run(sim, &c, nop_body, NULL, &r), -EINVAL);
	c.stack_size = (size_t)2 << 30;
	assert_int_equal(mmn_sched_run(sim, &c, nop_body, NULL, &r), -EINVAL);
	c.stack_size = 64 * 1024 + 1; /* rounded up to pages */
	assert_int_equal(mmn_sched_run(sim, &c, nop_body, NULL, &r), 0);
	assert_int_equal(r.outcome, MMN_OUTCOME_OK);
	mmn_sim_destroy(sim);
}

/* Recursion that touches @depth KiB of stack, a point at the bottom. */
static unsigned long deep(struct mmn_sim *sim, unsigned int depth)
{
	volatile unsigned char buf[1024];

	buf[0] = (unsigned char)depth;
	buf[sizeof(buf) - 1] = (unsigned char)depth;
	if (!depth) {
		mmn_sched_yield(sim, NULL, "deep");
		return buf[0];
	}
	return deep(sim, depth - 1) + buf[0] + buf[sizeof(buf) - 1];
}

static void *deep_actor(void *arg)
{
	struct mmn_sim *sim = arg;

	return (void *)(uintptr_t)deep(sim, 128);
}

static void deep_body(struct mmn_sim *sim, void *arg)
{
	struct mmn_actor *a[2];

	(void)arg;
	for (int i = 0; i < 2; i++)
		assert_int_equal(mmn_actor_spawn(sim, NULL, deep_actor, sim, &a[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
}

/* The default stack holds 128 KiB of frames in each of two interleaved
 * actors, and the same run on a pool reuses the stacks. */
static void test_default_stack_holds_deep_frames(void **state)
{
	struct mmn_sched_pool *pool = mmn_sched_pool_create();
	struct mmn_sim *sim = det_sim();
	struct mmn_sched_config c;
	struct mmn_sched_result r;

	(void)state;
	assert_non_null(pool);
	mmn_sched_config_init(&c);
	c.threads = false;
	c.stack_size = 0;
	for (int i = 0; i < 3; i++) {
		c.pool = i ? pool : NULL;
		c.seed = (uint64_t)i + 1;
		assert_int_equal(mmn_sched_run(sim, &c, deep_body, NULL, &r), 0);
		assert_int_equal(r.outcome, MMN_OUTCOME_OK);
		assert_int_equal(r.actors, 3);
	}
	/* User-level actors take no thread of the pool. */
	assert_int_equal(mmn_sched_pool_threads(pool), 0);
	mmn_sim_destroy(sim);
	mmn_sched_pool_destroy(pool);
}

/* ---- ThreadSanitizer's shadow call stack of a reused fiber ---- */

#ifdef UCTX_TSAN
struct frames_run;

static const struct mmn_lock_class frames_class = { .name = "frames" };

struct frames_actor_arg {
	struct frames_run *run;
	int frames; /* the shadow call stack's depth it saw */
};

struct frames_run {
	struct mmn_sim *sim;
	bool count;      /* this run counts */
	bool deadlock;   /* this run ends in a deadlock: all three unwound */
	struct mmn_mutex m;
	struct frames_actor_arg a[2];
};

static void *frames_actor(void *arg)
{
	struct frames_actor_arg *me = arg;

	mmn_sched_yield(me->run->sim, NULL, "frames");
	if (me->run->count)
		me->frames = (int)__tsan_testonly_shadow_stack_current_size();
	if (me->run->deadlock) {
		mmn_mutex_lock(&me->run->m); /* held by main, which joins us */
		mmn_mutex_unlock(&me->run->m);
	}
	return NULL;
}

static void frames_body(struct mmn_sim *sim, void *arg)
{
	struct frames_run *run = arg;
	struct mmn_actor *a[2];

	run->sim = sim;
	if (run->deadlock)
		mmn_mutex_lock(&run->m);
	for (int i = 0; i < 2; i++) {
		run->a[i].run = run;
		assert_int_equal(mmn_actor_spawn(sim, NULL, frames_actor, &run->a[i], &a[i]), 0);
	}
	for (int i = 0; i < 2; i++)
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
	if (run->deadlock)
		mmn_mutex_unlock(&run->m);
}
#endif

/* Forty runs on one pool reuse three stacks and their fibers, every other
 * one ending in a deadlock that unwinds its actors: the actors of the last
 * run see as many frames as those of the first (frames left on a fiber at
 * each actor's last switch made it grow by two a run, and ThreadSanitizer's
 * stack depot with it: 2.0 GB after 3,000 schedules of S2, 14.7 GB with the
 * tsan preset's options). */
static void test_reused_fiber_starts_with_an_empty_shadow_stack(void **state)
{
#ifdef UCTX_TSAN
	struct mmn_sched_pool *pool = mmn_sched_pool_create();
	struct mmn_sim *sim = det_sim();
	struct frames_run first = { .count = true }, last = { .count = true };
	struct frames_run idle = { .count = false }, stuck = { .deadlock = true };
	struct frames_run *run;
	struct mmn_sched_config c;
	struct mmn_sched_result r;
	struct capture cap;

	(void)state;
	assert_non_null(pool);
	capture_install(sim, &cap);
	mmn_sched_config_init(&c);
	c.threads = false;
	c.pool = pool;
	for (int i = 0; i < 40; i++) {
		run = i == 0 ? &first : i == 39 ? &last : i % 2 ? &stuck : &idle;
		mmn_mutex_init(&run->m, sim, &frames_class, "frames");
		c.seed = (uint64_t)i + 1;
		assert_int_equal(mmn_sched_run(sim, &c, frames_body, run, &r), 0);
		assert_int_equal(r.outcome, run->deadlock ? MMN_OUTCOME_DEADLOCK : MMN_OUTCOME_OK);
		assert_int_equal(r.unwound, run->deadlock ? 3 : 0);
		assert_int_equal(mmn_check_count(sim, MMN_VIOL_DEADLOCK), run->deadlock);
		mmn_mutex_destroy(&run->m);
		mmn_check_reset(sim);
	}
	for (int i = 0; i < 2; i++) {
		assert_true(first.a[i].frames > 0);
		assert_int_equal(last.a[i].frames, first.a[i].frames);
	}
	mmn_sim_destroy(sim);
	mmn_sched_pool_destroy(pool);
#else
	(void)state;
	skip(); /* the shadow call stack is ThreadSanitizer's */
#endif
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pairing_depth_follows_the_user_level_actor),
		cmocka_unit_test(test_actor_lookup_survives_another_simulation),
		cmocka_unit_test(test_stack_size_outside_the_limits_is_refused),
		cmocka_unit_test(test_default_stack_holds_deep_frames),
		cmocka_unit_test(test_reused_fiber_starts_with_an_empty_shadow_stack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
