/* SPDX-License-Identifier: MIT */
/* The kernel-style KVM fragment of kvm_compat.c: its interface. */
#ifndef KVM_COMPAT_H
#define KVM_COMPAT_H

#include <linux/mm_types.h>
#include <linux/types.h>

struct kvm;

/* The wrong variant: the fault path checks mmu_invalidate_seq only. */
#define KVMFRAG_SEQ_ONLY 0x1u

/* A VM whose guest frames [0, npages) are the host pages at hva; ERR_PTR(). */
struct kvm *kvm_create(struct mm_struct *mm, unsigned long hva, unsigned long npages,
		       unsigned int flags);
void kvm_destroy(struct kvm *kvm);
/* A guest load by vCPU vcpu_id (0 or 1) of guest frame gfn. */
int kvm_guest_read(struct kvm *kvm, int vcpu_id, gfn_t gfn, u64 *val);

#endif
