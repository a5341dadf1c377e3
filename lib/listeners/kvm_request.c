// SPDX-License-Identifier: MIT
/*
 * vCPU requests (include/mmnsim/listeners/kvm.h): virt/kvm/kvm_main.c's
 * kvm_make_all_cpus_request() / kvm_vcpu_kick() and the request bits of
 * include/linux/kvm_host.h, written against the public API only.
 *
 * The ordering rule (the kernel's: vcpu->mode against vcpu->requests, each
 * side writes its own word, then reads the other's with a full barrier):
 *
 *   requester                               vCPU
 *   ---------                               ----
 *   requests |= req         [seq_cst]       lock(guest); mode = IN_GUEST [seq_cst]
 *   m = mode                [seq_cst]       if requests: service them
 *   if m != OUTSIDE: mode = EXITING,        use cached translations
 *       IPI                                 mode = OUTSIDE; unlock(guest)
 *   wait: lock(guest); unlock(guest)
 *
 * Either the vCPU set IN_GUEST first (the requester then waits for its
 * unlock: everything it did in guest mode is over), or the requester's bit
 * is set first and the vCPU services it before it uses anything cached.
 */
#include <errno.h>
#include <stdbool.h>

#include <mmnsim/listeners/kvm.h>
#include <mmnsim/sync.h>

#define REQ_NR(req) ((req) & MMN_KVM_REQUEST_MASK)

static const struct mmn_lock_class vcpu_guest_class = { "kvm vcpu guest mode", 0 };

int mmn_kvm_vcpu_req_init(struct mmn_kvm_vcpu_req *v, struct mmn_sim *sim,
			  const struct mmn_lock_class *cls, const char *name)
{
	if (!v || !sim)
		return -EINVAL;
	mmn_spin_lock_init(&v->guest, sim, cls ? cls : &vcpu_guest_class, name);
	__atomic_store_n(&v->requests, 0UL, __ATOMIC_RELAXED);
	__atomic_store_n(&v->mode, (int)MMN_KVM_OUTSIDE_GUEST_MODE, __ATOMIC_RELAXED);
	__atomic_store_n(&v->kicks, 0UL, __ATOMIC_RELAXED);
	return 0;
}

void mmn_kvm_vcpu_req_destroy(struct mmn_kvm_vcpu_req *v)
{
	if (v)
		mmn_spin_lock_destroy(&v->guest);
}

/* kvm_make_request(): smp_wmb() then set_bit(). */
void mmn_kvm_make_request(unsigned int req, struct mmn_kvm_vcpu_req *v)
{
	if (!v || REQ_NR(req) >= 64)
		return;
	__atomic_fetch_or(&v->requests, 1UL << REQ_NR(req), __ATOMIC_SEQ_CST);
}

bool mmn_kvm_request_pending(const struct mmn_kvm_vcpu_req *v)
{
	return v && __atomic_load_n(&v->requests, __ATOMIC_SEQ_CST) != 0;
}

bool mmn_kvm_test_request(unsigned int req, const struct mmn_kvm_vcpu_req *v)
{
	if (!v || REQ_NR(req) >= 64)
		return false;
	return __atomic_load_n(&v->requests, __ATOMIC_ACQUIRE) & (1UL << REQ_NR(req));
}

/* kvm_check_request(): test, clear, smp_mb__after_atomic(). */
bool mmn_kvm_check_request(unsigned int req, struct mmn_kvm_vcpu_req *v)
{
	unsigned long bit;

	if (!mmn_kvm_test_request(req, v))
		return false;
	bit = 1UL << REQ_NR(req);
	return __atomic_fetch_and(&v->requests, ~bit, __ATOMIC_SEQ_CST) & bit;
}

/* kvm_vcpu_exiting_guest_mode(): IN_GUEST → EXITING; the mode seen. */
static int vcpu_exiting_guest_mode(struct mmn_kvm_vcpu_req *v)
{
	int m = MMN_KVM_IN_GUEST_MODE;

	if (__atomic_compare_exchange_n(&v->mode, &m, (int)MMN_KVM_EXITING_GUEST_MODE, false,
					__ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST))
		return MMN_KVM_IN_GUEST_MODE;
	return m;
}

/* The IPI: counted; its modelled time is the caller's to charge (see
 * mmn_kvm_vcpu_kicks()). */
static void vcpu_ipi(struct mmn_kvm_vcpu_req *v)
{
	__atomic_fetch_add(&v->kicks, 1UL, __ATOMIC_RELAXED);
}

void mmn_kvm_vcpu_kick(struct mmn_kvm_vcpu_req *v)
{
	if (v && vcpu_exiting_guest_mode(v) == MMN_KVM_IN_GUEST_MODE)
		vcpu_ipi(v);
}

/* kvm_request_needs_ipi() */
static bool vcpu_needs_ipi(struct mmn_kvm_vcpu_req *v, unsigned int req)
{
	int mode = vcpu_exiting_guest_mode(v);

	if (req & MMN_KVM_REQUEST_WAIT)
		return mode != MMN_KVM_OUTSIDE_GUEST_MODE;
	return mode == MMN_KVM_IN_GUEST_MODE;
}

bool mmn_kvm_make_all_cpus_request(struct mmn_kvm_vcpu_req *const *vcpus, unsigned int n,
				   unsigned int req)
{
	bool called = false;

	if (!vcpus)
		return false;
	for (unsigned int i = 0; i < n; i++) {
		if (!vcpus[i])
			continue;
		mmn_kvm_make_request(req, vcpus[i]);
		if (vcpu_needs_ipi(vcpus[i], req)) {
			vcpu_ipi(vcpus[i]);
			called = true;
		}
	}
	if (!(req & MMN_KVM_REQUEST_WAIT))
		return called;
	/* smp_call_function_many(..., wait): the acknowledgement of each */
	for (unsigned int i = 0; i < n; i++) {
		if (!vcpus[i])
			continue;
		mmn_spin_lock(&vcpus[i]->guest);
		mmn_spin_unlock(&vcpus[i]->guest);
	}
	return called;
}

void mmn_kvm_vcpu_enter_guest(struct mmn_kvm_vcpu_req *v)
{
	if (!v)
		return;
	mmn_spin_lock(&v->guest);
	__atomic_store_n(&v->mode, (int)MMN_KVM_IN_GUEST_MODE, __ATOMIC_SEQ_CST);
}

void mmn_kvm_vcpu_exit_guest(struct mmn_kvm_vcpu_req *v)
{
	if (!v)
		return;
	__atomic_store_n(&v->mode, (int)MMN_KVM_OUTSIDE_GUEST_MODE, __ATOMIC_SEQ_CST);
	mmn_spin_unlock(&v->guest);
}

enum mmn_kvm_vcpu_mode mmn_kvm_vcpu_mode(const struct mmn_kvm_vcpu_req *v)
{
	return v ? (enum mmn_kvm_vcpu_mode)__atomic_load_n(&v->mode, __ATOMIC_SEQ_CST)
		 : MMN_KVM_OUTSIDE_GUEST_MODE;
}

unsigned long mmn_kvm_vcpu_kicks(const struct mmn_kvm_vcpu_req *v)
{
	return v ? __atomic_load_n(&v->kicks, __ATOMIC_RELAXED) : 0;
}
