// SPDX-License-Identifier: MIT
/*
 * The kernel-compatibility layer (docs/compat.md): the kernel-style mirror
 * (docs/examples/compat/dmirror_compat.c) passes the native HMM listener's
 * checks (device reads see the CPU's data, device writes reach it, an
 * munmap erases its translations and later device accesses fault, the
 * quiescent audit and the accounting audit are clean) and its race with
 * munmap is explored as the native one is: without read_retry under the
 * device lock the use-after-free is found, with it every schedule up to two
 * preemptions is clean. The kernel-style KVM fragment runs its scenario the
 * same way. The locks made with the kernel's initialisers bind to the
 * calling actor's simulation, take their class from the initialiser's site
 * (lock order checked between two sites), and are lockdep-checked; WARN_ON
 * and a GFP_KERNEL allocation in atomic context are reported through the
 * oracle. Each check both ways.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <linux/err.h>
#include <linux/kernel.h>
#include <linux/mutex.h>
#include <linux/rcupdate.h>
#include <linux/slab.h>
#include <linux/spinlock.h>
#include <mmnsim/mmnsim.h>

#include "compat_scenarios.h"
#include "dmirror_compat.h"
#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define BASE 0x20000000UL

struct fx {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct capture cap;
};

static int setup(void **state)
{
	struct mmn_sim_config cfg;
	struct fx *f = calloc(1, sizeof(*f));
	unsigned long got;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 512;
	cfg.lockdep = true;
	f->sim = mmn_sim_create(&cfg);
	capture_install(f->sim, &f->cap);
	mmn_sim_set_current(f->sim);
	f->mm = mmn_mm_create(f->sim);
	assert_int_equal(mmn_mmap(f->mm, BASE, 4 * PG, MMN_PROT_READ | MMN_PROT_WRITE,
				  MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_cpu_write(f->mm, 0, BASE + i * PG, 100 + i), 0);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	mmn_mm_put(f->mm);
	mmn_sim_destroy(f->sim);
	assert_null(mmn_sim_current()); /* cleared by the destroying thread */
	free(f);
	return 0;
}

/* ---- the mirror: the native listener's checks --------------------- */

static void test_mirror_reads_cpu_data_and_writes_reach_the_cpu(void **state)
{
	struct fx *f = *state;
	struct dmirror *d = dmirror_create(f->mm, BASE, 4, 0);
	uint64_t v = 0;

	assert_false(IS_ERR(d));
	assert_true(dmirror_has_read_retry(d));
	for (int i = 0; i < 4; i++) {
		assert_int_equal(dmirror_read(d, BASE + i * PG, &v), 0);
		assert_int_equal(v, 100 + i);
	}
	assert_int_equal(dmirror_write(d, BASE + PG, 77), 0);
	assert_int_equal(mmn_cpu_read(f->mm, 0, BASE + PG, &v), 0);
	assert_int_equal(v, 77);
	assert_int_equal(dmirror_read(d, BASE + PG, &v), 0);
	assert_int_equal(v, 77);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(mmn_audit(f->sim), 0);
	dmirror_destroy(d);
	assert_int_equal(f->cap.n, 0);
}

static void test_munmap_erases_the_mirror_and_later_accesses_fault(void **state)
{
	struct fx *f = *state;
	struct dmirror *d = dmirror_create(f->mm, BASE, 4, 0);
	uint64_t v;

	assert_int_equal(dmirror_read(d, BASE, &v), 0);
	assert_int_equal(dmirror_invalidations(d), 0);
	assert_int_equal(mmn_munmap(f->mm, BASE, 2 * PG), 0);
	assert_true(dmirror_invalidations(d) > 0);
	assert_int_equal(mmn_check_quiescent(f->sim), 0);
	assert_int_equal(dmirror_read(d, BASE, &v), -EFAULT);
	assert_int_equal(dmirror_read(d, BASE + 2 * PG, &v), 0);
	assert_int_equal(v, 102);
	assert_int_equal(dmirror_read(d, BASE + 8 * PG, &v), -EINVAL);
	dmirror_destroy(d);
	assert_int_equal(mmn_audit(f->sim), 0);
	assert_int_equal(f->cap.n, 0);
}

static void test_bad_mirror_range_is_an_error_pointer(void **state)
{
	struct fx *f = *state;

	assert_int_equal(PTR_ERR(dmirror_create(f->mm, BASE + 1, 4, 0)), -EINVAL);
	assert_int_equal(PTR_ERR(dmirror_create(f->mm, BASE, 0, 0)), -EINVAL);
}

/* ---- the scenarios, explored ---------------------------------------- */

static void explore(const char *id, bool wrong, enum mmn_explore_strategy s,
		    struct mmn_explore_stats *st)
{
	struct mmn_explore_config c;
	struct mmn_scenario_params p = { .variant_name = wrong ? "wrong" : "right" };

	mmn_explore_config_init(&c);
	c.strategy = s;
	c.runs = s == MMN_EXPLORE_EXHAUSTIVE ? 100000 : 300;
	c.preemption_bound = 2;
#if defined(__SANITIZE_THREAD__) || defined(__SANITIZE_ADDRESS__)
	/* sanitizer builds: bound 1 (still complete); the wrong variants are
	 * found within the first 100 PCT schedules (#13 and #93) */
	c.runs = s == MMN_EXPLORE_EXHAUSTIVE ? 100000 : 100;
	c.preemption_bound = 1;
#endif
	assert_int_equal(mmn_scenario_explore(id, &p, &c, st), 0);
}

static void explore_both_ways(const char *id)
{
	struct mmn_explore_stats st;

	explore(id, true, MMN_EXPLORE_PCT, &st);
	assert_true(st.violating > 0);
	explore(id, false, MMN_EXPLORE_PCT, &st);
	assert_int_equal(st.violating, 0);
	explore(id, false, MMN_EXPLORE_EXHAUSTIVE, &st);
	assert_true(st.complete);
	assert_int_equal(st.violating, 0);
}

static void test_dmirror_without_read_retry_found_with_it_clean(void **state)
{
	(void)state;
	explore_both_ways("compat-dmirror");
}

static void test_kvm_fragment_seq_only_found_with_in_progress_clean(void **state)
{
	(void)state;
	explore_both_ways("compat-kvm");
}

/* ---- locks, lockdep, WARN ------------------------------------------- */

static DEFINE_MUTEX(compat_static_mutex);

static void test_static_mutex_binds_to_each_simulation(void **state)
{
	struct fx *f = *state;

	mutex_lock(&compat_static_mutex);
	assert_true(lockdep_is_held(&compat_static_mutex));
	mutex_unlock(&compat_static_mutex);
	assert_false(lockdep_is_held(&compat_static_mutex));
	assert_int_equal(f->cap.n, 0);
	/* a second simulation after this one (teardown) binds it afresh: the
	 * next test uses it again */
}

static void test_static_mutex_in_a_later_simulation(void **state)
{
	struct fx *f = *state;

	mutex_lock(&compat_static_mutex);
	mutex_unlock(&compat_static_mutex);
	/* an unlock it does not hold is reported: the lock is a modelled one */
	mutex_unlock(&compat_static_mutex);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_BAD_UNLOCK), 1);
}

struct two {
	struct mutex a, b;
};

static void two_init(struct two *t)
{
	mutex_init(&t->a); /* one site, one class */
	mutex_init(&t->b); /* another */
}

static void test_classes_come_from_the_init_sites(void **state)
{
	struct fx *f = *state;
	struct two t1, t2, t3;

	two_init(&t1);
	two_init(&t2);
	two_init(&t3);
	/* a then b, on two objects of each site: one order, no report */
	mutex_lock(&t1.a);
	mutex_lock(&t1.b);
	mutex_unlock(&t1.b);
	mutex_unlock(&t1.a);
	mutex_lock(&t2.a);
	mutex_lock(&t2.b);
	mutex_unlock(&t2.b);
	mutex_unlock(&t2.a);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOCK_ORDER), 0);
	/* b then a, on a third pair never taken before: the classes (not the
	 * objects) invert (and ThreadSanitizer's own instance-based detector,
	 * which sees no cycle of objects, stays quiet) */
	mutex_lock(&t3.b);
	mutex_lock(&t3.a);
	mutex_unlock(&t3.a);
	mutex_unlock(&t3.b);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_LOCK_ORDER), 1);
}

static void test_gfp_kernel_under_a_spinlock_is_reported(void **state)
{
	struct fx *f = *state;
	spinlock_t lock;
	void *p;

	spin_lock_init(&lock);
	spin_lock(&lock);
	p = kmalloc(64, GFP_NOWAIT);
	kfree(p);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_SLEEP_IN_ATOMIC), 0);
	p = kzalloc(64, GFP_KERNEL);
	kfree(p);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_SLEEP_IN_ATOMIC), 1);
	spin_unlock(&lock);
	rcu_read_lock();
	might_sleep();
	rcu_read_unlock();
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_SLEEP_IN_ATOMIC), 2);
	might_sleep();
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_SLEEP_IN_ATOMIC), 2);
}

static void test_lockdep_assert_held_both_ways(void **state)
{
	struct fx *f = *state;
	struct mutex m;

	mutex_init(&m);
	mutex_lock(&m);
	lockdep_assert_held(&m);
	mutex_unlock(&m);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 0);
	lockdep_assert_held(&m);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 1);
	mutex_destroy(&m);
}

static int warn_site(bool c)
{
	return WARN_ON_ONCE(c);
}

static void test_warn_on_is_a_finding(void **state)
{
	struct fx *f = *state;

	assert_false(WARN_ON(0));
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 0);
	assert_true(WARN_ON(1 + 1 == 2));
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 1);
	assert_non_null(strstr(f->cap.last_msg, "WARN_ON(1 + 1 == 2) at "));
	assert_non_null(strstr(f->cap.last_msg, "test_compat.c:"));
	warn_site(true);
	warn_site(true);
	warn_site(false);
	assert_int_equal(mmn_check_count(f->sim, MMN_VIOL_PROTOCOL), 2);
}

static void test_lock_outside_any_simulation_is_not_modelled(void **state)
{
	struct fx *f = *state;
	struct mutex m;

	mmn_sim_set_current(NULL);
	mutex_init(&m);
	mutex_lock(&m); /* one line on stderr, nothing else */
	mutex_unlock(&m);
	assert_false(mutex_is_locked(&m));
	assert_ptr_equal(mmn_sim_set_current(f->sim), NULL);
	mutex_lock(&m); /* bound now */
	assert_true(mutex_is_locked(&m));
	mutex_unlock(&m);
	mutex_destroy(&m);
	assert_int_equal(f->cap.n, 0);
}

static void *current_body(void *arg)
{
	(void)arg;
	return mmn_sim_current();
}

static void *no_sim_thread(void *arg)
{
	(void)arg;
	return mmn_sim_current();
}

static void test_current_simulation_is_the_actors(void **state)
{
	struct fx *f = *state;
	struct mmn_sim_config cfg;
	struct mmn_sim *other;
	struct mmn_actor *a;
	pthread_t t;
	void *ret = NULL;

	mmn_sim_config_init(&cfg);
	other = mmn_sim_create(&cfg);
	/* an actor of the other simulation, spawned from this thread: its own */
	assert_int_equal(mmn_actor_spawn(other, "x", current_body, NULL, &a), 0);
	assert_int_equal(mmn_actor_join(a, &ret), 0);
	assert_ptr_equal(ret, other);
	assert_ptr_equal(mmn_sim_current(), f->sim);
	assert_int_not_equal(mmn_sim_serial(other), mmn_sim_serial(f->sim));
	mmn_sim_destroy(other);
	assert_ptr_equal(mmn_sim_current(), f->sim); /* not the destroyed one's */
	/* a plain thread that set nothing has none */
	assert_int_equal(pthread_create(&t, NULL, no_sim_thread, NULL), 0);
	assert_int_equal(pthread_join(t, &ret), 0);
	assert_null(ret);
	assert_int_equal(mmn_sim_serial(NULL), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_mirror_reads_cpu_data_and_writes_reach_the_cpu),
		T(test_munmap_erases_the_mirror_and_later_accesses_fault),
		T(test_bad_mirror_range_is_an_error_pointer),
		T(test_dmirror_without_read_retry_found_with_it_clean),
		T(test_kvm_fragment_seq_only_found_with_in_progress_clean),
		T(test_static_mutex_binds_to_each_simulation),
		T(test_static_mutex_in_a_later_simulation),
		T(test_classes_come_from_the_init_sites),
		T(test_gfp_kernel_under_a_spinlock_is_reported),
		T(test_lockdep_assert_held_both_ways),
		T(test_warn_on_is_a_finding),
		T(test_lock_outside_any_simulation_is_not_modelled),
		T(test_current_simulation_is_the_actors),
#undef T
	};

	if (compat_scenarios_register())
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
