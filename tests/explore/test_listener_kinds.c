// SPDX-License-Identifier: MIT
/*
 * The listener-kind registry (scenario.h, struct mmn_listener_kind):
 * registration, lookup by name and index, the refusals (-EINVAL for a bad
 * kind, -EEXIST for a name taken), and concurrent registrations (each name
 * registered exactly once). The kinds are never attached here: the
 * scenario-file tests (tests/cli) attach the built-in and a plugin's.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

static int k_create(struct mmn_sim *sim, struct mmn_mm *mm, int variant, unsigned long start,
		    unsigned long length, void **out)
{
	(void)sim, (void)mm, (void)variant, (void)start, (void)length;
	*out = NULL;
	return -ENOSYS;
}

static int k_destroy(void *l)
{
	(void)l;
	return 0;
}

static int k_counter(void *l, int idx, unsigned long *val)
{
	(void)l, (void)idx;
	*val = 0;
	return 0;
}

static const char *const two[] = { "right_way", "wrong_way", NULL };
static const char *const counters[] = { "faults", "zaps", NULL };

static const struct mmn_listener_kind good = {
	.name = "test_mirror", .variants = two, .counters = counters, .create = k_create,
	.destroy = k_destroy, .counter = k_counter,
};

static void test_registered_kind_is_found(void **state)
{
	int n = mmn_listener_kind_count();

	(void)state;
	assert_int_equal(mmn_listener_kind_register(&good), 0);
	assert_int_equal(mmn_listener_kind_count(), n + 1);
	assert_ptr_equal(mmn_listener_kind_by_name("test_mirror"), &good);
	assert_ptr_equal(mmn_listener_kind_at(n), &good);
	assert_null(mmn_listener_kind_at(n + 1));
	assert_null(mmn_listener_kind_at(-1));
	assert_null(mmn_listener_kind_by_name("test_absent"));
	assert_null(mmn_listener_kind_by_name(NULL));
}

static void test_duplicate_name_is_refused(void **state)
{
	struct mmn_listener_kind other = good;

	(void)state;
	(void)mmn_listener_kind_register(&good);
	other.help = "another kind of the same name";
	assert_int_equal(mmn_listener_kind_register(&other), -EEXIST);
	assert_ptr_equal(mmn_listener_kind_by_name("test_mirror"), &good);
}

static void test_bad_kinds_are_refused(void **state)
{
	static const char *const none[] = { NULL };
	static const char *const dup[] = { "a", "a", NULL };
	static const char *const bad_name[] = { "Right", NULL };
	static const char *const nine[] = { "a", "b", "c", "d", "e", "f", "g", "h", "i", NULL };
	static struct mmn_listener_kind k[12]; /* one is registered: static */
	int n = mmn_listener_kind_count();

	(void)state;
	for (int i = 0; i < 12; i++) {
		k[i] = good;
		k[i].name = "test_bad";
	}
	k[0].name = NULL;
	k[1].name = "";
	k[2].name = "Test-Bad";
	k[3].name = "test_a_name_that_is_far_too_long_";
	k[4].variants = NULL;
	k[5].variants = none;
	k[6].variants = dup;
	k[7].variants = bad_name;
	k[8].variants = nine;
	k[9].create = NULL;
	k[10].destroy = NULL;
	k[11].counter = NULL; /* counters without the hook */
	assert_int_equal(mmn_listener_kind_register(NULL), -EINVAL);
	for (int i = 0; i < 12; i++)
		assert_int_equal(mmn_listener_kind_register(&k[i]), -EINVAL);
	assert_int_equal(mmn_listener_kind_count(), n);
	k[11].counters = NULL; /* no counters: no hook needed */
	assert_int_equal(mmn_listener_kind_register(&k[11]), 0);
}

#define T_THREADS 4
#define T_EACH 16

static struct mmn_listener_kind t_kinds[T_THREADS][T_EACH], t_shared;
static char t_names[T_THREADS][T_EACH][32];

static void *t_register(void *arg)
{
	int t = (int)(intptr_t)arg, ok = 0;

	for (int i = 0; i < T_EACH; i++) {
		ok += !mmn_listener_kind_register(&t_kinds[t][i]);
		ok += !mmn_listener_kind_register(&t_shared) * 1000;
	}
	return (void *)(intptr_t)ok;
}

static void test_concurrent_registrations_each_once(void **state)
{
	pthread_t th[T_THREADS];
	int n = mmn_listener_kind_count(), ok = 0;

	(void)state;
	t_shared = good;
	t_shared.name = "test_shared";
	for (int t = 0; t < T_THREADS; t++) {
		for (int i = 0; i < T_EACH; i++) {
			snprintf(t_names[t][i], sizeof(t_names[t][i]), "test_r%d_%d", t, i);
			t_kinds[t][i] = good;
			t_kinds[t][i].name = t_names[t][i];
		}
	}
	for (int t = 0; t < T_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, t_register, (void *)(intptr_t)t), 0);
	for (int t = 0; t < T_THREADS; t++) {
		void *ret;

		assert_int_equal(pthread_join(th[t], &ret), 0);
		ok += (int)(intptr_t)ret;
	}
	assert_int_equal(ok, 1000 + T_THREADS * T_EACH);
	assert_int_equal(mmn_listener_kind_count(), n + T_THREADS * T_EACH + 1);
	for (int t = 0; t < T_THREADS; t++)
		for (int i = 0; i < T_EACH; i++)
			assert_ptr_equal(mmn_listener_kind_by_name(t_names[t][i]), &t_kinds[t][i]);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered_kind_is_found),
		cmocka_unit_test(test_duplicate_name_is_refused),
		cmocka_unit_test(test_bad_kinds_are_refused),
		cmocka_unit_test(test_concurrent_registrations_each_once),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
