// SPDX-License-Identifier: MIT
/*
 * vCPU requests (listeners/kvm.h): kvm_make_request()/kvm_check_request(),
 * kvm_vcpu_kick() and kvm_make_all_cpus_request() as virt/kvm/kvm_main.c
 * defines them: a request is seen once, a kick is an IPI only for a vCPU in
 * guest mode, and a KVM_REQUEST_WAIT request returns only after every vCPU
 * that was in guest mode left it (and not before: tested with a vCPU that
 * watches for the requester's return while it stays in guest mode).
 */
#include <errno.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

struct fx {
	struct mmn_sim *sim;
	struct capture cap;
	struct mmn_kvm_vcpu_req v[2];
	struct mmn_kvm_vcpu_req *vp[2];
};

static int setup(void **state)
{
	struct mmn_sim_config cfg;
	struct fx *f = calloc(1, sizeof(*f));

	mmn_sim_config_init(&cfg);
	f->sim = mmn_sim_create(&cfg);
	capture_install(f->sim, &f->cap);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(mmn_kvm_vcpu_req_init(&f->v[i], f->sim, NULL, NULL), 0);
		f->vp[i] = &f->v[i];
	}
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fx *f = *state;

	assert_int_equal(f->cap.n, 0);
	for (int i = 0; i < 2; i++)
		mmn_kvm_vcpu_req_destroy(&f->v[i]);
	mmn_sim_destroy(f->sim);
	free(f);
	return 0;
}

static void test_request_is_seen_once(void **state)
{
	struct fx *f = *state;

	assert_false(mmn_kvm_request_pending(&f->v[0]));
	mmn_kvm_make_request(MMN_KVM_REQ_TLB_FLUSH, &f->v[0]);
	mmn_kvm_make_request(MMN_KVM_REQ_FIRST_FREE, &f->v[0]);
	assert_true(mmn_kvm_request_pending(&f->v[0]));
	assert_true(mmn_kvm_test_request(MMN_KVM_REQ_TLB_FLUSH, &f->v[0]));
	assert_true(mmn_kvm_check_request(MMN_KVM_REQ_TLB_FLUSH, &f->v[0]));
	assert_false(mmn_kvm_check_request(MMN_KVM_REQ_TLB_FLUSH, &f->v[0]));
	assert_true(mmn_kvm_check_request(MMN_KVM_REQ_FIRST_FREE, &f->v[0]));
	assert_false(mmn_kvm_request_pending(&f->v[0]));
	assert_false(mmn_kvm_request_pending(&f->v[1]));
	/* bad input is a no-op */
	mmn_kvm_make_request(64, &f->v[0]);
	mmn_kvm_make_request(0, NULL);
	assert_false(mmn_kvm_request_pending(&f->v[0]));
	assert_int_equal(mmn_kvm_vcpu_req_init(NULL, f->sim, NULL, NULL), -EINVAL);
	assert_int_equal(mmn_kvm_vcpu_req_init(&f->v[0], NULL, NULL, NULL), -EINVAL);
}

static void test_kick_is_an_ipi_only_in_guest_mode(void **state)
{
	struct fx *f = *state;

	mmn_kvm_vcpu_kick(&f->v[0]);
	assert_int_equal(mmn_kvm_vcpu_kicks(&f->v[0]), 0);
	assert_int_equal(mmn_kvm_vcpu_mode(&f->v[0]), MMN_KVM_OUTSIDE_GUEST_MODE);
	mmn_kvm_vcpu_enter_guest(&f->v[0]);
	assert_int_equal(mmn_kvm_vcpu_mode(&f->v[0]), MMN_KVM_IN_GUEST_MODE);
	mmn_kvm_vcpu_kick(&f->v[0]);
	assert_int_equal(mmn_kvm_vcpu_kicks(&f->v[0]), 1);
	assert_int_equal(mmn_kvm_vcpu_mode(&f->v[0]), MMN_KVM_EXITING_GUEST_MODE);
	/* an exiting vCPU is not kicked twice */
	mmn_kvm_vcpu_kick(&f->v[0]);
	assert_int_equal(mmn_kvm_vcpu_kicks(&f->v[0]), 1);
	mmn_kvm_vcpu_exit_guest(&f->v[0]);
	assert_int_equal(mmn_kvm_vcpu_mode(&f->v[0]), MMN_KVM_OUTSIDE_GUEST_MODE);
}

static void test_all_cpus_request_without_guests_kicks_nobody(void **state)
{
	struct fx *f = *state;

	assert_false(mmn_kvm_make_all_cpus_request(f->vp, 2, MMN_KVM_REQ_TLB_FLUSH));
	assert_true(mmn_kvm_check_request(MMN_KVM_REQ_TLB_FLUSH, &f->v[0]));
	assert_true(mmn_kvm_check_request(MMN_KVM_REQ_TLB_FLUSH, &f->v[1]));
	assert_int_equal(mmn_kvm_vcpu_kicks(&f->v[0]) + mmn_kvm_vcpu_kicks(&f->v[1]), 0);
	assert_false(mmn_kvm_make_all_cpus_request(NULL, 2, MMN_KVM_REQ_TLB_FLUSH));
}

/* A vCPU that stays in guest mode until the requester's request and kick
 * arrived, then for a while longer, watching whether the requester came
 * back meanwhile (it must not, for a WAIT request). */
struct guest {
	struct fx *f;
	atomic_int in_guest;
	atomic_int returned;
	atomic_int returned_while_in_guest;
};

static void *guest_body(void *arg)
{
	struct guest *g = arg;
	struct mmn_kvm_vcpu_req *v = &g->f->v[0];

	mmn_kvm_vcpu_enter_guest(v);
	atomic_store(&g->in_guest, 1);
	while (mmn_kvm_vcpu_mode(v) != MMN_KVM_EXITING_GUEST_MODE)
		sched_yield();
	for (int i = 0; i < 20000; i++) {
		if (atomic_load(&g->returned)) {
			atomic_store(&g->returned_while_in_guest, 1);
			break;
		}
		sched_yield();
	}
	mmn_kvm_vcpu_exit_guest(v);
	return NULL;
}

static struct guest run_request_against_guest(struct fx *f, unsigned int req)
{
	struct guest g = { .f = f };
	struct mmn_actor *a;

	assert_int_equal(mmn_actor_spawn(f->sim, "vcpu0", guest_body, &g, &a), 0);
	while (!atomic_load(&g.in_guest))
		sched_yield();
	assert_true(mmn_kvm_make_all_cpus_request(f->vp, 2, req));
	atomic_store(&g.returned, 1);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	assert_int_equal(mmn_kvm_vcpu_kicks(&f->v[0]), 1);
	assert_int_equal(mmn_kvm_vcpu_kicks(&f->v[1]), 0);
	return g;
}

static void test_wait_request_returns_after_the_guest_left(void **state)
{
	struct guest g = run_request_against_guest(*state, MMN_KVM_REQ_TLB_FLUSH);

	assert_int_equal(atomic_load(&g.returned_while_in_guest), 0);
}

static void test_request_without_wait_does_not_wait(void **state)
{
	struct guest g = run_request_against_guest(*state, MMN_KVM_REQ_FIRST_FREE);

	assert_int_equal(atomic_load(&g.returned_while_in_guest), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
		T(test_request_is_seen_once),
		T(test_kick_is_an_ipi_only_in_guest_mode),
		T(test_all_cpus_request_without_guests_kicks_nobody),
		T(test_wait_request_returns_after_the_guest_left),
		T(test_request_without_wait_does_not_wait),
#undef T
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
