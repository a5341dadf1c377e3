/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): the vCPU-request part
 * of <linux/kvm_host.h> (virt/kvm/kvm_main.c as in 6.x), on the simulator's
 * vCPU requests (include/mmnsim/listeners/kvm.h). A driver's struct kvm is
 * its own; kvm_make_all_cpus_request() and kvm_for_each_vcpu() read its
 * vcpus[] (struct kvm_vcpu *) and online_vcpus members. Guest mode has no
 * kernel API a driver calls (arch code sets vcpu->mode): the simulator's
 * kvm_guest_enter()/kvm_guest_exit() stand for it. */
#ifndef MMNSIM_COMPAT_LINUX_KVM_HOST_H
#define MMNSIM_COMPAT_LINUX_KVM_HOST_H

#include <linux/kernel.h>
#include <linux/mmu_notifier.h>
#include <linux/spinlock.h>
#include <mmnsim/listeners/kvm.h>

struct kvm_vcpu {
	struct mmn_kvm_vcpu_req req; /* vcpu->requests, vcpu->mode */
	int vcpu_id;
};

#define KVM_REQUEST_MASK MMN_KVM_REQUEST_MASK
#define KVM_REQUEST_WAIT MMN_KVM_REQUEST_WAIT
#define KVM_REQ_TLB_FLUSH MMN_KVM_REQ_TLB_FLUSH
#define OUTSIDE_GUEST_MODE MMN_KVM_OUTSIDE_GUEST_MODE
#define IN_GUEST_MODE MMN_KVM_IN_GUEST_MODE
#define EXITING_GUEST_MODE MMN_KVM_EXITING_GUEST_MODE

/* kvm_vcpu_init()'s part; the vCPU's guest lock gets this call site's class. */
#define kvm_vcpu_init_requests(vcpu, id)                                                   \
	do {                                                                               \
		static const struct mmn_lock_class __mmn_key = { .name = "vcpu guest mode" }; \
		mmn_kvm_vcpu_req_init(&(vcpu)->req, mmn_sim_current(), &__mmn_key, NULL);   \
		(vcpu)->vcpu_id = (id);                                                    \
	} while (0)

static inline void kvm_vcpu_destroy_requests(struct kvm_vcpu *vcpu)
{
	mmn_kvm_vcpu_req_destroy(&vcpu->req);
}

static inline void kvm_make_request(int req, struct kvm_vcpu *vcpu)
{
	mmn_kvm_make_request((unsigned int)req, &vcpu->req);
}

static inline bool kvm_request_pending(struct kvm_vcpu *vcpu)
{
	return mmn_kvm_request_pending(&vcpu->req);
}

static inline bool kvm_test_request(int req, struct kvm_vcpu *vcpu)
{
	return mmn_kvm_test_request((unsigned int)req, &vcpu->req);
}

static inline bool kvm_check_request(int req, struct kvm_vcpu *vcpu)
{
	return mmn_kvm_check_request((unsigned int)req, &vcpu->req);
}

static inline void kvm_vcpu_kick(struct kvm_vcpu *vcpu)
{
	mmn_kvm_vcpu_kick(&vcpu->req);
}

static inline void kvm_guest_enter(struct kvm_vcpu *vcpu)
{
	mmn_kvm_vcpu_enter_guest(&vcpu->req);
}

static inline void kvm_guest_exit(struct kvm_vcpu *vcpu)
{
	mmn_kvm_vcpu_exit_guest(&vcpu->req);
}

static inline bool __mmn_kvm_all(struct kvm_vcpu *const *vcpus, int n, unsigned int req)
{
	struct mmn_kvm_vcpu_req *r[MMN_KVM_MAX_VCPUS];
	int i;

	if (n > MMN_KVM_MAX_VCPUS)
		n = MMN_KVM_MAX_VCPUS;
	for (i = 0; i < n; i++)
		r[i] = vcpus[i] ? &vcpus[i]->req : NULL;
	return mmn_kvm_make_all_cpus_request(r, (unsigned int)(n > 0 ? n : 0), req);
}

#define kvm_make_all_cpus_request(kvm, req)                                                \
	__mmn_kvm_all((kvm)->vcpus, (kvm)->online_vcpus, (unsigned int)(req))
#define kvm_for_each_vcpu(idx, vcpup, kvm)                                                 \
	for (idx = 0; idx < (kvm)->online_vcpus && ((vcpup) = (kvm)->vcpus[idx]); idx++)

#endif
