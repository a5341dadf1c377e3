// SPDX-License-Identifier: MIT
/*
 * The mmu_notifier side of a KVM-style hypervisor, written in kernel style
 * against mmnsim's kernel-compatibility headers (docs/compat.md): the
 * mmu_invalidate_seq / mmu_invalidate_in_progress protocol of
 * virt/kvm/kvm_main.c (kvm_mmu_invalidate_begin()/_end() around the zap,
 * mmu_invalidate_retry_gfn() in the fault path), written here from its
 * behaviour, with one memslot, one SPTE per guest page and one cached
 * translation per vCPU dropped on KVM_REQ_TLB_FLUSH.
 *
 * KVMFRAG_SEQ_ONLY (a creation flag) makes the fault path check the
 * sequence only, not in_progress: a fault that read the sequence before
 * invalidate_range_start and takes mmu_lock before invalidate_range_end
 * installs a page the invalidation is about to free.
 */
#include <linux/errno.h>
#include <linux/kernel.h>
#include <linux/kvm_host.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/sim_device.h>
#include <linux/slab.h>
#include <linux/spinlock.h>

#include "kvm_compat.h"

#define KVMFRAG_VCPUS 2
#define KVMFRAG_RETRIES 1000

struct kvmfrag_spte {
	unsigned long pfn;
	u32 gen;
	bool present;
};

struct kvmfrag_tlb {
	bool valid;
	gfn_t gfn;
	unsigned long pfn;
	u32 gen;
};

struct kvm {
	struct mmu_notifier mmu_notifier;
	struct mm_struct *mm;
	spinlock_t mmu_lock;
	unsigned long mmu_invalidate_seq;
	long mmu_invalidate_in_progress;
	unsigned long mmu_invalidate_range_start;
	unsigned long mmu_invalidate_range_end;
	bool seq_only;
	unsigned long hva;
	unsigned long npages;
	struct kvmfrag_spte *sptes;
	struct kvm_vcpu *vcpus[KVMFRAG_VCPUS];
	struct kvmfrag_tlb tlb[KVMFRAG_VCPUS];
	int online_vcpus;
};

static struct kvm *mmu_notifier_to_kvm(struct mmu_notifier *mn)
{
	return container_of(mn, struct kvm, mmu_notifier);
}

static void kvm_flush_remote_tlbs(struct kvm *kvm)
{
	kvm_make_all_cpus_request(kvm, KVM_REQ_TLB_FLUSH);
}

static int kvm_mmu_notifier_invalidate_range_start(struct mmu_notifier *mn,
						   const struct mmu_notifier_range *range)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);
	unsigned long start = max(range->start, kvm->hva);
	unsigned long end = min(range->end, kvm->hva + kvm->npages * PAGE_SIZE);
	bool flush = false;
	unsigned long hva;

	if (start >= end)
		return 0;
	spin_lock(&kvm->mmu_lock);
	/* kvm_mmu_invalidate_begin() and _range_add() */
	if (!kvm->mmu_invalidate_in_progress++) {
		kvm->mmu_invalidate_range_start = start;
		kvm->mmu_invalidate_range_end = end;
	} else {
		kvm->mmu_invalidate_range_start = min(kvm->mmu_invalidate_range_start, start);
		kvm->mmu_invalidate_range_end = max(kvm->mmu_invalidate_range_end, end);
	}
	for (hva = start; hva < end; hva += PAGE_SIZE) {
		struct kvmfrag_spte *sp = &kvm->sptes[(hva - kvm->hva) >> PAGE_SHIFT];

		flush |= sp->present;
		sp->present = false;
	}
	if (flush)
		kvm_flush_remote_tlbs(kvm);
	spin_unlock(&kvm->mmu_lock);
	return 0;
}

static void kvm_mmu_notifier_invalidate_range_end(struct mmu_notifier *mn,
						  const struct mmu_notifier_range *range)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);

	if (max(range->start, kvm->hva) >= min(range->end, kvm->hva + kvm->npages * PAGE_SIZE))
		return;
	spin_lock(&kvm->mmu_lock);
	/* kvm_mmu_invalidate_end(): the sequence first, then in_progress */
	WRITE_ONCE(kvm->mmu_invalidate_seq, kvm->mmu_invalidate_seq + 1);
	kvm->mmu_invalidate_in_progress--;
	WARN_ON_ONCE(kvm->mmu_invalidate_in_progress < 0);
	spin_unlock(&kvm->mmu_lock);
}

static void kvm_mmu_notifier_release(struct mmu_notifier *mn, struct mm_struct *mm)
{
	struct kvm *kvm = mmu_notifier_to_kvm(mn);
	unsigned long i;

	spin_lock(&kvm->mmu_lock);
	for (i = 0; i < kvm->npages; i++)
		kvm->sptes[i].present = false;
	kvm_flush_remote_tlbs(kvm);
	spin_unlock(&kvm->mmu_lock);
}

static const struct mmu_notifier_ops kvm_mmu_notifier_ops = {
	.invalidate_range_start = kvm_mmu_notifier_invalidate_range_start,
	.invalidate_range_end = kvm_mmu_notifier_invalidate_range_end,
	.release = kvm_mmu_notifier_release,
};

/* mmu_invalidate_retry_gfn() (mmu_lock held) */
static bool mmu_invalidate_retry_hva(struct kvm *kvm, unsigned long mmu_seq, unsigned long hva)
{
	lockdep_assert_held(&kvm->mmu_lock);
	if (!kvm->seq_only && unlikely(kvm->mmu_invalidate_in_progress) &&
	    hva >= kvm->mmu_invalidate_range_start && hva < kvm->mmu_invalidate_range_end)
		return true;
	return kvm->mmu_invalidate_seq != mmu_seq;
}

/* kvm_faultin_pfn() and the install of the SPTE. */
static int kvm_fault(struct kvm *kvm, gfn_t gfn)
{
	unsigned long hva = kvm->hva + gfn * PAGE_SIZE;
	int tries;

	for (tries = 0; tries < KVMFRAG_RETRIES; tries++) {
		unsigned long mmu_seq, pfn;
		bool retry;
		u32 gen;
		int ret;

		mmu_seq = READ_ONCE(kvm->mmu_invalidate_seq);
		smp_rmb();
		ret = sim_get_user_page(kvm->mm, hva, false, &pfn, &gen);
		if (ret)
			return ret;
		spin_lock(&kvm->mmu_lock);
		retry = mmu_invalidate_retry_hva(kvm, mmu_seq, hva);
		if (!retry) {
			kvm->sptes[gfn].pfn = pfn;
			kvm->sptes[gfn].gen = gen;
			kvm->sptes[gfn].present = true;
		}
		spin_unlock(&kvm->mmu_lock);
		sim_put_user_page(kvm->mm, pfn);
		if (!retry)
			return 0;
	}
	return -EAGAIN;
}

int kvm_guest_read(struct kvm *kvm, int vcpu_id, gfn_t gfn, u64 *val)
{
	struct kvm_vcpu *vcpu;
	struct kvmfrag_tlb *t;
	int tries, ret;

	if (vcpu_id < 0 || vcpu_id >= kvm->online_vcpus || gfn >= kvm->npages)
		return -EINVAL;
	vcpu = kvm->vcpus[vcpu_id];
	t = &kvm->tlb[vcpu_id];
	for (tries = 0; tries < KVMFRAG_RETRIES; tries++) {
		struct kvmfrag_spte *sp;

		kvm_guest_enter(vcpu);
		if (kvm_check_request(KVM_REQ_TLB_FLUSH, vcpu))
			t->valid = false;
		if (t->valid && t->gfn == gfn) {
			ret = sim_device_access(kvm->mm, t->pfn, t->gen, kvm->hva + gfn * PAGE_SIZE,
						false, val);
			kvm_guest_exit(vcpu);
			return ret;
		}
		kvm_guest_exit(vcpu);

		spin_lock(&kvm->mmu_lock);
		sp = &kvm->sptes[gfn];
		if (sp->present) {
			kvm_guest_enter(vcpu);
			if (kvm_check_request(KVM_REQ_TLB_FLUSH, vcpu))
				t->valid = false;
			*t = (struct kvmfrag_tlb){ .valid = true, .gfn = gfn, .pfn = sp->pfn,
						   .gen = sp->gen };
			ret = sim_device_access(kvm->mm, t->pfn, t->gen, kvm->hva + gfn * PAGE_SIZE,
						false, val);
			kvm_guest_exit(vcpu);
			spin_unlock(&kvm->mmu_lock);
			return ret;
		}
		spin_unlock(&kvm->mmu_lock);
		ret = kvm_fault(kvm, gfn);
		if (ret)
			return ret;
	}
	return -EAGAIN;
}

/* The SPTEs and the vCPUs' cached translations, as the simulator's
 * quiescent audit sees them (a vCPU with a flush pending uses none). */
static void kvm_translations(void *ctx, sim_emit_fn emit, void *cookie)
{
	struct kvm *kvm = ctx;
	unsigned long i;
	int v;

	spin_lock(&kvm->mmu_lock);
	for (i = 0; i < kvm->npages; i++) {
		struct sim_translation t = {
			.mm = kvm->mm, .addr = kvm->hva + i * PAGE_SIZE,
			.pfn = kvm->sptes[i].pfn, .gen = kvm->sptes[i].gen,
		};

		if (kvm->sptes[i].present)
			emit(cookie, &t);
	}
	for (v = 0; v < kvm->online_vcpus; v++) {
		const struct kvmfrag_tlb *tlb = &kvm->tlb[v];
		struct sim_translation t = {
			.mm = kvm->mm, .addr = kvm->hva + tlb->gfn * PAGE_SIZE,
			.pfn = tlb->pfn, .gen = tlb->gen,
		};

		if (tlb->valid && !kvm_test_request(KVM_REQ_TLB_FLUSH, kvm->vcpus[v]))
			emit(cookie, &t);
	}
	spin_unlock(&kvm->mmu_lock);
}

static void kvm_free(struct kvm *kvm)
{
	int i;

	for (i = 0; i < kvm->online_vcpus; i++) {
		kvm_vcpu_destroy_requests(kvm->vcpus[i]);
		kfree(kvm->vcpus[i]);
	}
	kfree(kvm->sptes);
	kfree(kvm);
}

struct kvm *kvm_create(struct mm_struct *mm, unsigned long hva, unsigned long npages,
		       unsigned int flags)
{
	struct kvm *kvm = kzalloc(sizeof(*kvm), GFP_KERNEL);
	int i, ret;

	if (!kvm)
		return ERR_PTR(-ENOMEM);
	kvm->sptes = kcalloc(npages, sizeof(*kvm->sptes), GFP_KERNEL);
	if (!kvm->sptes) {
		kfree(kvm);
		return ERR_PTR(-ENOMEM);
	}
	spin_lock_init(&kvm->mmu_lock);
	kvm->mm = mm;
	kvm->hva = hva;
	kvm->npages = npages;
	kvm->seq_only = flags & KVMFRAG_SEQ_ONLY;
	for (i = 0; i < KVMFRAG_VCPUS; i++) {
		kvm->vcpus[i] = kzalloc(sizeof(*kvm->vcpus[i]), GFP_KERNEL);
		if (!kvm->vcpus[i]) {
			kvm_free(kvm);
			return ERR_PTR(-ENOMEM);
		}
		kvm_vcpu_init_requests(kvm->vcpus[i], i);
		kvm->online_vcpus++;
	}
	kvm->mmu_notifier.ops = &kvm_mmu_notifier_ops;
	ret = mmu_notifier_register(&kvm->mmu_notifier, mm);
	if (ret) {
		kvm_free(kvm);
		return ERR_PTR(ret);
	}
	ret = sim_register_translations(mm, "kvm", kvm_translations, kvm);
	if (ret) {
		mmu_notifier_unregister(&kvm->mmu_notifier, mm);
		kvm_free(kvm);
		return ERR_PTR(ret);
	}
	return kvm;
}

void kvm_destroy(struct kvm *kvm)
{
	sim_unregister_translations(kvm->mm, kvm);
	mmu_notifier_unregister(&kvm->mmu_notifier, kvm->mm);
	kvm_free(kvm);
}
