// SPDX-License-Identifier: MIT
/*
 * The KVM-style reference listener (include/mmnsim/listeners/kvm.h).
 *
 * Models the behaviour of virt/kvm/kvm_main.c's mmu_notifier glue and of the
 * x86 fault path (arch/x86/kvm/mmu/mmu.c kvm_faultin_pfn() /
 * is_page_fault_stale()), written against the public API only, as research
 * code would write a listener. No kernel source is copied; the kernel
 * function each piece models is named where it is.
 *
 * Locks, outermost first:
 *   slots_lock (mutex)      serialises memslot updates (kvm->slots_lock)
 *   mn_invalidate_lock      guards mn_active_invalidate_count (spinlock)
 *   mmu_lock (spinlock)     memslots, SPTEs, mmu_invalidate_* (kvm->mmu_lock)
 *   vcpu guest lock         held while the vCPU runs guest code (its TLB is
 *                           used only then); kvm_flush_remote_tlbs() is
 *                           kvm_make_all_cpus_request(KVM_REQ_TLB_FLUSH),
 *                           whose wait takes it (lib/listeners/kvm_request.c)
 * The invalidating caller's locks (mmap_lock, i_mmap, PTL...) come before
 * all of them: callbacks take mmu_lock under them.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>
#include <mmnsim/listeners/kvm.h>

struct kvm_spte {
	unsigned long pfn;
	uint32_t gen;
	bool present;
	bool write;
	bool accessed;
	/* part of a 2 MiB SPTE: every gfn of the 2 MiB-aligned group is present
	 * with huge set, the same gen and write, pfn = the block's first + i */
	bool huge;
	/* what the last invalidation zapped here, for re-fault accounting */
	bool zapped;
	unsigned long zapped_pfn;
	uint32_t zapped_gen;
	bool zapped_write;
};

struct kvm_memslot {
	bool used;
	uint64_t base_gfn;
	unsigned long npages;
	unsigned long hva;
	struct kvm_spte *sptes; /* npages of them, under mmu_lock */
};

struct kvm_tlb_entry {
	bool valid;
	bool write;
	uint64_t gfn;
	unsigned long hva;
	unsigned long pfn;
	uint32_t gen;
	bool huge; /* filled from a 2 MiB SPTE: checked as that block */
};

/* The vCPU: its request state (vcpu->requests, vcpu->mode and the guest
 * lock held while it runs guest code, which a kick waits for) and its TLB,
 * read and written only in guest mode. */
struct kvm_vcpu {
	struct mmn_kvm_vcpu_req req;
	struct kvm_tlb_entry *tlb;
};

struct mmn_kvm {
	struct mmn_notifier mn; /* kvm->mmu_notifier */
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_kvm_config cfg;

	struct mmn_mutex slots_lock;
	struct mmn_spinlock mn_invalidate_lock;
	long mn_active_invalidate_count; /* under mn_invalidate_lock; read atomically */
	struct mmn_waitqueue mn_memslots_update_wq;

	struct mmn_spinlock mmu_lock;
	struct kvm_memslot slots[MMN_KVM_MAX_MEMSLOTS];
	unsigned long slots_gen; /* bumped on every memslot change; under mmu_lock */
	/* mmu_invalidate_*: written under mmu_lock, seq read locklessly by faults */
	unsigned long mmu_invalidate_seq;
	long mmu_invalidate_in_progress;
	uint64_t mmu_invalidate_range_start;
	uint64_t mmu_invalidate_range_end;
	bool released; /* under mmu_lock; read atomically */

	struct kvm_vcpu *vcpus;
	struct mmn_kvm_vcpu_req *reqs[MMN_KVM_MAX_VCPUS]; /* &vcpus[i].req */
	struct mmn_kvm_stats st; /* atomic builtins, relaxed */
	bool audit_registered;
};

#define INVALID_GFN (~(uint64_t)0)

#define STAT_ADD(kvm, field, n) __atomic_fetch_add(&(kvm)->st.field, (n), __ATOMIC_RELAXED)
#define STAT_INC(kvm, field) STAT_ADD(kvm, field, 1UL)

static const struct mmn_lock_class kvm_slots_lock_class = { "kvm->slots_lock", 0 };
static const struct mmn_lock_class kvm_mn_invalidate_class = { "kvm->mn_invalidate_lock", 0 };
static const struct mmn_lock_class kvm_mmu_lock_class = { "kvm->mmu_lock", 0 };
static const struct mmn_lock_class kvm_tlb_lock_class = { "kvm vcpu tlb", 0 };

static struct mmn_kvm *mn_to_kvm(struct mmn_notifier *mn)
{
	return (struct mmn_kvm *)((char *)mn - offsetof(struct mmn_kvm, mn));
}

/* ------------------------------------------------------------------ */
/* vCPU TLBs                                                           */
/* ------------------------------------------------------------------ */

/*
 * kvm_flush_remote_tlbs() → kvm_make_all_cpus_request(KVM_REQ_TLB_FLUSH):
 * every vCPU gets the request, the ones in guest mode are kicked, and the
 * caller waits for their acknowledgement; each vCPU drops its TLB when it
 * services the request at its next guest entry (vcpu_flush_tlb()). Called
 * under mmu_lock, as the kernel does at the end of a zap (flush_on_ret)
 * before start returns.
 */
static void kvm_flush_remote_tlbs(struct mmn_kvm *kvm)
{
	(void)mmn_kvm_make_all_cpus_request(kvm->reqs, kvm->cfg.nr_vcpus, MMN_KVM_REQ_TLB_FLUSH);
	STAT_INC(kvm, tlb_flushes);
	/* Modelled time: one IPI per vCPU, as before the vCPUs had modes
	 * (the kernel kicks only those in guest mode, mmn_kvm_vcpu_kicks();
	 * charging all keeps the clock of the recorded runs). */
	mmn_clock_charge(kvm->sim, MMN_COST_IPI, kvm->cfg.nr_vcpus);
}

/* In guest mode: service the vCPU's requests before its TLB is used
 * (vcpu_enter_guest(): kvm_check_request(KVM_REQ_TLB_FLUSH) →
 * kvm_vcpu_flush_tlb_all()). */
static void vcpu_service_requests(struct mmn_kvm *kvm, struct kvm_vcpu *vc)
{
	unsigned long dropped = 0;

	if (!mmn_kvm_check_request(MMN_KVM_REQ_TLB_FLUSH, &vc->req))
		return;
	for (unsigned int i = 0; i < kvm->cfg.tlb_entries; i++) {
		if (vc->tlb[i].valid) {
			vc->tlb[i].valid = false;
			dropped++;
		}
	}
	STAT_ADD(kvm, tlb_entries_dropped, dropped);
}

static void vcpu_enter(struct mmn_kvm *kvm, struct kvm_vcpu *vc)
{
	mmn_kvm_vcpu_enter_guest(&vc->req);
	vcpu_service_requests(kvm, vc);
}

/* ------------------------------------------------------------------ */
/* Memslots and SPTEs (all under mmu_lock)                             */
/* ------------------------------------------------------------------ */

static struct kvm_memslot *gfn_to_memslot(struct mmn_kvm *kvm, uint64_t gfn)
{
	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		struct kvm_memslot *s = &kvm->slots[i];

		if (s->used && gfn >= s->base_gfn && gfn - s->base_gfn < s->npages)
			return s;
	}
	return NULL;
}

/*
 * The gfns of @s whose hva lies in [start, end): [*gs, *ge). False when the
 * hva ranges do not overlap (kvm_handle_hva_range()'s per-slot clipping).
 */
static bool slot_hva_overlap(const struct kvm_memslot *s, unsigned long start, unsigned long end,
			     uint64_t *gs, uint64_t *ge)
{
	unsigned long s_end = s->hva + s->npages * MMN_PAGE_SIZE;
	unsigned long lo, hi;

	if (!s->used || end <= s->hva || start >= s_end)
		return false;
	lo = start > s->hva ? start : s->hva;
	hi = end < s_end ? end : s_end;
	*gs = s->base_gfn + ((lo - s->hva) >> MMN_PAGE_SHIFT);
	/* round a partial last page up: it is covered */
	*ge = s->base_gfn + ((hi - s->hva + MMN_PAGE_SIZE - 1) >> MMN_PAGE_SHIFT);
	return *ge > *gs;
}

static bool spte_zap(struct kvm_spte *sp)
{
	if (!sp->present)
		return false;
	sp->zapped = true;
	sp->zapped_pfn = sp->pfn;
	sp->zapped_gen = sp->gen;
	sp->zapped_write = sp->write;
	sp->present = false;
	sp->huge = false;
	return true;
}

/* The first gfn of the 2 MiB-aligned group of @gfn. */
static uint64_t huge_base(uint64_t gfn)
{
	return gfn & ~(uint64_t)(MMN_HPAGE_NR - 1);
}

/*
 * Zap the whole 2 MiB SPTE that @sp is part of (a zap of any gfn in it
 * drops the leaf: tdp_mmu_zap_leafs() iterates from the range's start
 * rounded down to each level, 5.10-6.x). Under mmu_lock. The group lies in
 * @s (huge_allowed()).
 */
static void huge_zap(struct mmn_kvm *kvm, struct kvm_memslot *s, uint64_t gfn)
{
	uint64_t b = huge_base(gfn) - s->base_gfn;

	for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
		(void)spte_zap(&s->sptes[b + i]);
	STAT_INC(kvm, huge_sptes_zapped);
}

/*
 * Whether @gfn of @s may be mapped by a 2 MiB SPTE as far as the memslot
 * goes: kvm_alloc_memslot_metadata()'s disallow_lpage (4.12-6.x) refuses
 * the groups at the slot's edges that stick out of it, and every group of
 * a slot whose gfn and hva differ in alignment modulo 2 MiB.
 */
static bool huge_allowed(const struct mmn_kvm *kvm, const struct kvm_memslot *s, uint64_t gfn)
{
	uint64_t b = huge_base(gfn);

	if (!kvm->cfg.huge_pages)
		return false;
	if ((s->base_gfn ^ (s->hva >> MMN_PAGE_SHIFT)) & (MMN_HPAGE_NR - 1))
		return false;
	return b >= s->base_gfn && b + MMN_HPAGE_NR <= s->base_gfn + s->npages;
}

/* kvm_mmu_invalidate_begin(): the first tracking start resets the range. */
static void kvm_mmu_invalidate_begin(struct mmn_kvm *kvm)
{
	long n = kvm->mmu_invalidate_in_progress + 1;

	__atomic_store_n(&kvm->mmu_invalidate_in_progress, n, __ATOMIC_RELAXED);
	if (n == 1) {
		kvm->mmu_invalidate_range_start = INVALID_GFN;
		kvm->mmu_invalidate_range_end = INVALID_GFN;
	}
}

/* kvm_mmu_invalidate_range_add(): widen the union of the ranges in flight. */
static void kvm_mmu_invalidate_range_add(struct mmn_kvm *kvm, uint64_t gs, uint64_t ge)
{
	if (kvm->mmu_invalidate_range_start == INVALID_GFN) {
		kvm->mmu_invalidate_range_start = gs;
		kvm->mmu_invalidate_range_end = ge;
	} else {
		if (gs < kvm->mmu_invalidate_range_start)
			kvm->mmu_invalidate_range_start = gs;
		if (ge > kvm->mmu_invalidate_range_end)
			kvm->mmu_invalidate_range_end = ge;
	}
}

/*
 * mmu_invalidate_retry_gfn(), called under mmu_lock by the fault path.
 * Returns 0 (install), 1 (in progress over the gfn), 2 (sequence moved).
 */
static int kvm_retry_gfn(struct mmn_kvm *kvm, unsigned long mmu_seq, uint64_t gfn)
{
	if (kvm->cfg.variant != MMN_KVM_CHECK_SEQ_ONLY && kvm->mmu_invalidate_in_progress) {
		/* An in-progress invalidation with no range yet cannot happen:
		 * begin and range_add run in one mmu_lock section. Retry anyway,
		 * as the kernel does after its WARN. */
		if (kvm->mmu_invalidate_range_start == INVALID_GFN)
			return 1;
		if (gfn >= kvm->mmu_invalidate_range_start && gfn < kvm->mmu_invalidate_range_end)
			return 1;
	}
	if (kvm->mmu_invalidate_seq != mmu_seq)
		return 2;
	return 0;
}

/* ------------------------------------------------------------------ */
/* NUMA-aware filter                                                   */
/* ------------------------------------------------------------------ */

struct vma_snap {
	int n;
	struct mmn_vma_info *v;
};

/*
 * The VMAs overlapping [start, end), read under the invalidating caller's
 * mmap_lock (mprotect holds it for write, change_prot_numa for read).
 * Returns false when they cannot be read safely (lockdep off: the mm layer
 * could not tell that the caller holds mmap_lock) or on host OOM.
 */
static bool vma_snapshot(struct mmn_kvm *kvm, unsigned long start, unsigned long end,
			 struct vma_snap *out)
{
	const struct mmn_sim_config *sc = mmn_sim_config_get(kvm->sim);
	int n;

	out->n = 0;
	out->v = NULL;
	if (!sc || !sc->lockdep)
		return false;
	n = mmn_vma_count(kvm->mm);
	if (n <= 0)
		return true;
	out->v = calloc((size_t)n, sizeof(*out->v));
	if (!out->v)
		return false;
	for (int i = 0; i < n; i++) {
		struct mmn_vma_info vi;

		if (mmn_vma_at(kvm->mm, i, &vi))
			break;
		if (vi.end <= start || vi.start >= end)
			continue;
		out->v[out->n++] = vi;
	}
	return true;
}

/* Whether the VMA covering @hva still grants everything the SPTE grants. */
static bool vma_allows(const struct vma_snap *vs, unsigned long hva, bool write)
{
	for (int i = 0; i < vs->n; i++) {
		if (hva >= vs->v[i].start && hva < vs->v[i].end) {
			if (!(vs->v[i].prot & (MMN_PROT_READ | MMN_PROT_WRITE)))
				return false;
			return !write || (vs->v[i].prot & MMN_PROT_WRITE);
		}
	}
	return false;
}

/* ------------------------------------------------------------------ */
/* Notifier callbacks                                                  */
/* ------------------------------------------------------------------ */

/* kvm_mmu_notifier_invalidate_range_start() */
static int kvm_mn_invalidate_range_start(struct mmn_notifier *mn,
					 const struct mmn_notifier_range *range)
{
	struct mmn_kvm *kvm = mn_to_kvm(mn);
	struct vma_snap vs = { 0, NULL };
	bool filter = false, tracked = false;
	unsigned long zapped = 0, kept = 0;

	STAT_INC(kvm, callbacks[MMN_KVM_CB_START]);
	if ((unsigned int)range->event < MMN_NOTIFY_NR_EVENTS)
		STAT_INC(kvm, start_by_event[range->event]);

	/* Memslot updates wait until every invalidation has ended. */
	mmn_spin_lock(&kvm->mn_invalidate_lock);
	__atomic_store_n(&kvm->mn_active_invalidate_count, kvm->mn_active_invalidate_count + 1,
			 __ATOMIC_RELAXED);
	mmn_spin_unlock(&kvm->mn_invalidate_lock);

	if (kvm->cfg.variant == MMN_KVM_NUMA_AWARE && range->event == MMN_NOTIFY_PROTECTION_VMA) {
		filter = vma_snapshot(kvm, range->start, range->end, &vs);
		if (!filter)
			STAT_INC(kvm, numa_filter_off);
	}

	mmn_spin_lock(&kvm->mmu_lock);
	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		struct kvm_memslot *s = &kvm->slots[i];
		uint64_t gs, ge;

		if (!slot_hva_overlap(s, range->start, range->end, &gs, &ge))
			continue;
		/* on_lock: begin once for the whole range */
		if (!tracked) {
			kvm_mmu_invalidate_begin(kvm);
			tracked = true;
		}
		kvm_mmu_invalidate_range_add(kvm, gs, ge);
		/* kvm_unmap_gfn_range() */
		for (uint64_t g = gs; g < ge; g++) {
			struct kvm_spte *sp = &s->sptes[g - s->base_gfn];

			if (!sp->present || (sp->huge && kvm->cfg.huge_zap_4k_only))
				continue;
			if (filter && vma_allows(&vs, s->hva + (g - s->base_gfn) * MMN_PAGE_SIZE,
						 sp->write)) {
				kept++;
				continue;
			}
			if (sp->huge) {
				huge_zap(kvm, s, g); /* the whole leaf, also past [gs, ge) */
				zapped++;
			} else if (spte_zap(sp)) {
				zapped++;
			}
		}
	}
	/* flush_on_ret: the vCPUs lose the translations before start returns */
	if (zapped)
		kvm_flush_remote_tlbs(kvm);
	mmn_spin_unlock(&kvm->mmu_lock);

	free(vs.v);
	if (tracked)
		STAT_INC(kvm, invalidations_tracked);
	if (!zapped)
		STAT_INC(kvm, needless_invalidations);
	STAT_ADD(kvm, sptes_zapped, zapped);
	STAT_ADD(kvm, sptes_kept_numa, kept);
	return 0;
}

/* kvm_mmu_notifier_invalidate_range_end() */
static void kvm_mn_invalidate_range_end(struct mmn_notifier *mn,
					const struct mmn_notifier_range *range)
{
	struct mmn_kvm *kvm = mn_to_kvm(mn);
	bool wake;

	STAT_INC(kvm, callbacks[MMN_KVM_CB_END]);
	mmn_spin_lock(&kvm->mmu_lock);
	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		uint64_t gs, ge;

		if (!slot_hva_overlap(&kvm->slots[i], range->start, range->end, &gs, &ge))
			continue;
		/* kvm_mmu_invalidate_end(): the sequence moves first, then
		 * in_progress drops, so a fault that sees in_progress == 0
		 * also sees the new sequence. */
		__atomic_store_n(&kvm->mmu_invalidate_seq, kvm->mmu_invalidate_seq + 1,
				 __ATOMIC_RELEASE);
		__atomic_store_n(&kvm->mmu_invalidate_in_progress,
				 kvm->mmu_invalidate_in_progress - 1, __ATOMIC_RELAXED);
		if (kvm->mmu_invalidate_in_progress < 0) {
			struct mmn_violation v = {
				.kind = MMN_VIOL_PROTOCOL, .actor_id = -1, .addr = range->start,
				.msg = "kvm: mmu_invalidate_in_progress went negative",
			};
			mmn_check_report(kvm->sim, &v);
		}
		break;
	}
	mmn_spin_unlock(&kvm->mmu_lock);

	mmn_spin_lock(&kvm->mn_invalidate_lock);
	__atomic_store_n(&kvm->mn_active_invalidate_count, kvm->mn_active_invalidate_count - 1,
			 __ATOMIC_RELAXED);
	wake = kvm->mn_active_invalidate_count == 0;
	mmn_spin_unlock(&kvm->mn_invalidate_lock);
	if (wake)
		mmn_wake_up_all(&kvm->mn_memslots_update_wq);
}

/*
 * kvm_age_gfn() / kvm_test_age_gfn() over the gfns whose hva lies in
 * [start, end): returns whether any SPTE was young; clears the bits if
 * @clear.
 */
static int kvm_age_range(struct mmn_kvm *kvm, unsigned long start, unsigned long end, bool clear)
{
	int young = 0;

	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		struct kvm_memslot *s = &kvm->slots[i];
		uint64_t gs, ge;

		if (!slot_hva_overlap(s, start, end, &gs, &ge))
			continue;
		for (uint64_t g = gs; g < ge; g++) {
			struct kvm_spte *sp = &s->sptes[g - s->base_gfn];

			if (sp->present && sp->accessed) {
				young = 1;
				if (clear)
					sp->accessed = false;
			}
		}
	}
	return young;
}

/* kvm_mmu_notifier_clear_flush_young(): age, and flush if anything was young. */
static int kvm_mn_clear_flush_young(struct mmn_notifier *mn, struct mmn_mm *mm,
				    unsigned long start, unsigned long end)
{
	struct mmn_kvm *kvm = mn_to_kvm(mn);
	int young;

	STAT_INC(kvm, callbacks[MMN_KVM_CB_CLEAR_FLUSH_YOUNG]);
	mmn_spin_lock(&kvm->mmu_lock);
	young = kvm_age_range(kvm, start, end, true);
	/* Cached vCPU translations would let the guest touch the page without
	 * setting the bit again: drop them. */
	if (young)
		kvm_flush_remote_tlbs(kvm);
	mmn_spin_unlock(&kvm->mmu_lock);
	if (young)
		STAT_INC(kvm, young_hits);
	return young;
}

/*
 * kvm_mmu_notifier_clear_young(): age without the flush (the kernel's
 * comment: a missed access only makes reclaim a little less accurate).
 */
static int kvm_mn_clear_young(struct mmn_notifier *mn, struct mmn_mm *mm, unsigned long start,
			      unsigned long end)
{
	struct mmn_kvm *kvm = mn_to_kvm(mn);
	int young;

	STAT_INC(kvm, callbacks[MMN_KVM_CB_CLEAR_YOUNG]);
	mmn_spin_lock(&kvm->mmu_lock);
	young = kvm_age_range(kvm, start, end, true);
	mmn_spin_unlock(&kvm->mmu_lock);
	if (young)
		STAT_INC(kvm, young_hits);
	return young;
}

/* kvm_mmu_notifier_test_young() */
static int kvm_mn_test_young(struct mmn_notifier *mn, struct mmn_mm *mm, unsigned long address)
{
	struct mmn_kvm *kvm = mn_to_kvm(mn);
	unsigned long a = address & MMN_PAGE_MASK;
	int young;

	STAT_INC(kvm, callbacks[MMN_KVM_CB_TEST_YOUNG]);
	mmn_spin_lock(&kvm->mmu_lock);
	young = kvm_age_range(kvm, a, a + MMN_PAGE_SIZE, false);
	mmn_spin_unlock(&kvm->mmu_lock);
	if (young)
		STAT_INC(kvm, young_hits);
	return young;
}

/*
 * kvm_mmu_notifier_change_pte() → kvm_set_spte_gfn() (2.6.29-6.9): retarget
 * the SPTE of @address to the new page if the new PTE is read-only, else
 * zap it. Since 4.13 every caller runs it between start and end, after
 * start zapped the SPTE: it finds nothing (change_pte_missed), which is why
 * 6.10 removed it. Called under the PTL: must not sleep.
 */
static void kvm_mn_change_pte(struct mmn_notifier *mn, struct mmn_mm *mm, unsigned long address,
			      mmn_pte_t pte)
{
	struct mmn_kvm *kvm = mn_to_kvm(mn);
	unsigned long a = address & MMN_PAGE_MASK;
	bool found = false;

	STAT_INC(kvm, callbacks[MMN_KVM_CB_CHANGE_PTE]);
	mmn_spin_lock(&kvm->mmu_lock);
	if (!kvm->mmu_invalidate_in_progress)
		STAT_INC(kvm, change_pte_outside);
	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		struct kvm_memslot *s = &kvm->slots[i];
		uint64_t gs, ge;

		if (!slot_hva_overlap(s, a, a + MMN_PAGE_SIZE, &gs, &ge))
			continue;
		for (uint64_t g = gs; g < ge; g++) {
			struct kvm_spte *sp = &s->sptes[g - s->base_gfn];

			if (!sp->present)
				continue;
			found = true;
			if (sp->huge) {
				/* kvm_set_spte_gfn() on a huge leaf: zap it */
				huge_zap(kvm, s, g);
			} else if (mmn_pte_present(pte) && !mmn_pte_write(pte)) {
				sp->pfn = mmn_pte_pfn(pte);
				sp->gen = mmn_page_gen(kvm->sim, sp->pfn);
				sp->write = false;
				sp->accessed = false;
			} else {
				spte_zap(sp);
			}
		}
	}
	if (found)
		kvm_flush_remote_tlbs(kvm);
	mmn_spin_unlock(&kvm->mmu_lock);
	if (found)
		STAT_INC(kvm, change_pte_found);
	else
		STAT_INC(kvm, change_pte_missed);
}

/* Zap every SPTE (kvm_flush_shadow_all()); under mmu_lock. */
static unsigned long kvm_zap_all(struct mmn_kvm *kvm)
{
	unsigned long n = 0;

	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		struct kvm_memslot *s = &kvm->slots[i];

		if (!s->used)
			continue;
		for (unsigned long j = 0; j < s->npages; j++)
			if (s->sptes[j].present) {
				s->sptes[j].present = false;
				s->sptes[j].huge = false;
				n++;
			}
	}
	kvm_flush_remote_tlbs(kvm);
	return n;
}

/* kvm_mmu_notifier_release() → kvm_flush_shadow_all(); no fault after it. */
static void kvm_mn_release(struct mmn_notifier *mn, struct mmn_mm *mm)
{
	struct mmn_kvm *kvm = mn_to_kvm(mn);
	unsigned long n;

	STAT_INC(kvm, callbacks[MMN_KVM_CB_RELEASE]);
	mmn_spin_lock(&kvm->mmu_lock);
	__atomic_store_n(&kvm->released, true, __ATOMIC_RELEASE);
	n = kvm_zap_all(kvm);
	mmn_spin_unlock(&kvm->mmu_lock);
	STAT_ADD(kvm, release_zapped, n);
}

static const struct mmn_notifier_ops kvm_mmu_notifier_ops = {
	.release = kvm_mn_release,
	.clear_flush_young = kvm_mn_clear_flush_young,
	.clear_young = kvm_mn_clear_young,
	.test_young = kvm_mn_test_young,
	.invalidate_range_start = kvm_mn_invalidate_range_start,
	.invalidate_range_end = kvm_mn_invalidate_range_end,
	.change_pte = kvm_mn_change_pte,
};

/* ------------------------------------------------------------------ */
/* The quiescent audit's iterator                                      */
/* ------------------------------------------------------------------ */

/*
 * Every present SPTE (a 2 MiB SPTE as one block) and every vCPU TLB entry
 * (4 KiB: what the vCPU caches of a huge SPTE is the page it used), as the
 * oracle sees them.
 */
static void kvm_audit_iter(void *ctx, mmn_secondary_emit_block_fn emit, void *cookie)
{
	struct mmn_kvm *kvm = ctx;

	mmn_spin_lock(&kvm->mmu_lock);
	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		struct kvm_memslot *s = &kvm->slots[i];

		if (!s->used)
			continue;
		for (unsigned long j = 0; j < s->npages; j++) {
			struct kvm_spte *sp = &s->sptes[j];
			struct mmn_secondary_block b = {
				.mm = kvm->mm, .addr = s->hva + j * MMN_PAGE_SIZE,
				.size = MMN_PAGE_SIZE, .pfn = sp->pfn, .gen = sp->gen,
				.write = sp->write,
			};

			if (!sp->present)
				continue;
			if (sp->huge) {
				/* the group starts here (huge_allowed(): aligned, inside) */
				b.size = MMN_PMD_SIZE;
				j += MMN_HPAGE_NR - 1;
			}
			emit(cookie, &b);
		}
	}
	for (unsigned int v = 0; v < kvm->cfg.nr_vcpus; v++) {
		struct kvm_vcpu *vc = &kvm->vcpus[v];

		/* the TLB as the vCPU would use it: pending flushes first */
		vcpu_enter(kvm, vc);
		for (unsigned int i = 0; i < kvm->cfg.tlb_entries; i++) {
			struct kvm_tlb_entry *t = &vc->tlb[i];
			struct mmn_secondary_block b = {
				.mm = kvm->mm, .addr = t->hva, .size = MMN_PAGE_SIZE,
				.pfn = t->pfn, .gen = t->gen, .write = t->write,
			};

			if (t->valid)
				emit(cookie, &b);
		}
		mmn_kvm_vcpu_exit_guest(&vc->req);
	}
	mmn_spin_unlock(&kvm->mmu_lock);
}

/* ------------------------------------------------------------------ */
/* Fault path                                                          */
/* ------------------------------------------------------------------ */

static unsigned int log2_bucket(unsigned long retries)
{
	unsigned int b = 0;

	while (retries) {
		b++;
		retries >>= 1;
	}
	return b < MMN_KVM_HIST_BUCKETS ? b : MMN_KVM_HIST_BUCKETS - 1;
}

static void spte_set(struct mmn_kvm *kvm, struct kvm_spte *sp, unsigned long pfn, uint32_t gen,
		     bool write, bool huge)
{
	if (sp->zapped) {
		STAT_INC(kvm, refaults);
		if (sp->zapped_pfn == pfn && sp->zapped_gen == gen && sp->zapped_write == write)
			STAT_INC(kvm, refaults_same);
		sp->zapped = false;
	}
	sp->pfn = pfn;
	sp->gen = gen;
	sp->write = write;
	sp->accessed = false;
	sp->huge = huge;
	sp->present = true;
}

/*
 * The host mapping level of @hva for the fault that pinned @pfn (generation
 * @gen): true when the primary maps it by a PMD leaf that grants what the
 * fault needs, with *@base the leaf's first frame. Models
 * host_pfn_mapping_level() (5.10-6.x: a lockless walk of the primary
 * table, safe because the caller holds mmu_lock and has just passed the
 * invalidation retry check, so no invalidation of @hva is in flight).
 * 1 GiB SPTEs are not modelled (the primary has no PUD leaves).
 */
static bool host_level_is_pmd(struct mmn_kvm *kvm, unsigned long hva, unsigned long pfn,
			      uint32_t gen, bool write, unsigned long *base)
{
	struct mmn_walk w;

	if (mmn_pgtable_walk(kvm->mm, hva, &w) || w.level != MMN_PT_PMD ||
	    !mmn_pte_present(w.entry) || w.pfn != pfn || w.gen != gen ||
	    (write && !mmn_pte_write(w.entry)))
		return false;
	*base = pfn - ((hva & ~MMN_PMD_MASK) >> MMN_PAGE_SHIFT);
	return true;
}

/*
 * Install the SPTE of @gfn after the retry check passed (under mmu_lock):
 * kvm_mmu_hugepage_adjust() picks 2 MiB when the memslot allows it and the
 * host maps a PMD leaf, then kvm_tdp_mmu_map() installs the leaf; a 4 KiB
 * install inside a 2 MiB SPTE (the host split its THP meanwhile) zaps the
 * huge leaf first and flushes (5.10-6.x).
 */
static void kvm_install(struct mmn_kvm *kvm, struct kvm_memslot *s, uint64_t gfn,
			unsigned long hva, unsigned long pfn, uint32_t gen, bool write)
{
	struct kvm_spte *sp = &s->sptes[gfn - s->base_gfn];
	unsigned long base;

	if (huge_allowed(kvm, s, gfn) && host_level_is_pmd(kvm, hva, pfn, gen, write, &base)) {
		uint64_t b = huge_base(gfn) - s->base_gfn;

		/* a new leaf over whatever 4 KiB SPTEs the group had: the
		 * kernel replaces the page table by the leaf (same frames, as the
		 * retry check passed) */
		for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
			spte_set(kvm, &s->sptes[b + i], base + i, gen, write, true);
		STAT_INC(kvm, huge_sptes_mapped);
		return;
	}
	if (sp->present && sp->huge) {
		huge_zap(kvm, s, gfn);
		kvm_flush_remote_tlbs(kvm);
	}
	spte_set(kvm, sp, pfn, gen, write, false);
}

/*
 * kvm_tdp_page_fault() → kvm_faultin_pfn() → is_page_fault_stale(): bring
 * @gfn's page in and install its SPTE. Returns 0 once an SPTE was installed
 * (the caller re-walks), or a negative errno.
 */
static int kvm_faultin(struct mmn_kvm *kvm, uint64_t gfn, bool write)
{
	unsigned long retries = 0;
	int err = 0;

	STAT_INC(kvm, faults);
	for (;;) {
		unsigned long mmu_seq, slots_gen, hva, pfn;
		struct kvm_memslot *s;
		uint32_t gen = 0;
		int why;

		/* mmu_seq = kvm->mmu_invalidate_seq; smp_rmb() */
		mmu_seq = __atomic_load_n(&kvm->mmu_invalidate_seq, __ATOMIC_ACQUIRE);

		/* __gfn_to_hva_memslot() (KVM reads memslots under SRCU; the
		 * model under mmu_lock, with a generation to notice changes) */
		mmn_spin_lock(&kvm->mmu_lock);
		s = kvm->released ? NULL : gfn_to_memslot(kvm, gfn);
		hva = s ? s->hva + (gfn - s->base_gfn) * MMN_PAGE_SIZE : 0;
		slots_gen = kvm->slots_gen;
		mmn_spin_unlock(&kvm->mmu_lock);
		if (!s) {
			err = -EFAULT;
			break;
		}

		/* hva_to_pfn(): GUP faults the page in; the reference is dropped
		 * after the install, the notifier keeps the page safe. */
		err = mmn_get_user_pages(kvm->mm, hva, write ? MMN_FOLL_WRITE : 0, &pfn, &gen);
		if (err)
			break;

		/* The window of seed 001: an invalidation may start (or run
		 * whole) here. */
		mmn_sched_point(kvm->sim, MMN_SCHED_EXPLICIT, kvm, MMN_KVM_SCHED_FAULT_WINDOW, hva);
		mmn_sched_access(kvm->sim, kvm, MMN_SCHED_ACCESS_READ); /* DPOR: up to mmu_lock */

		mmn_spin_lock(&kvm->mmu_lock);
		if (kvm->released) {
			mmn_spin_unlock(&kvm->mmu_lock);
			mmn_unpin_user_page(kvm->sim, pfn);
			err = -EFAULT;
			break;
		}
		if (kvm->slots_gen != slots_gen)
			why = 3;
		else
			why = kvm_retry_gfn(kvm, mmu_seq, gfn);
		if (!why)
			kvm_install(kvm, s, gfn, hva, pfn, gen, write);
		mmn_spin_unlock(&kvm->mmu_lock);
		/* kvm_release_pfn_clean(): the GUP reference goes */
		mmn_unpin_user_page(kvm->sim, pfn);
		if (!why) {
			STAT_INC(kvm, faults_installed);
			break;
		}
		STAT_INC(kvm, retries);
		if (why == 1)
			STAT_INC(kvm, retries_in_progress);
		else if (why == 2)
			STAT_INC(kvm, retries_seq);
		else
			STAT_INC(kvm, retries_memslot);
		if (++retries > kvm->cfg.max_retries) {
			STAT_INC(kvm, give_ups);
			err = -EAGAIN;
			break;
		}
	}
	if (err && err != -EAGAIN)
		STAT_INC(kvm, faults_failed);
	STAT_INC(kvm, fault_retry_hist[log2_bucket(retries)]);
	return err;
}

/*
 * The oracle's access-time check of a guest access through vCPU TLB entry
 * @t (mmn_check_secondary_access()): a vCPU uses no old translation once
 * KVM's invalidate_range_start has returned (told at start).
 */
static void kvm_check_access(struct mmn_kvm *kvm, const struct kvm_tlb_entry *t, bool write)
{
	struct mmn_secondary_block b = {
		.mm = kvm->mm, .addr = t->hva & MMN_PAGE_MASK, .size = MMN_PAGE_SIZE,
		.pfn = t->pfn, .gen = t->gen, .write = t->write,
	};

	if (t->huge) { /* filled from a 2 MiB SPTE: the access goes through it */
		b.addr = t->hva & MMN_PMD_MASK;
		b.size = MMN_PMD_SIZE;
		b.pfn = t->pfn - ((t->hva - b.addr) >> MMN_PAGE_SHIFT);
	}
	(void)mmn_check_secondary_access(kvm->sim, kvm, &b, t->hva, write);
}

/* One guest access: vCPU TLB, shadow-table walk, fault; then the access. */
static int kvm_vcpu_access(struct mmn_kvm *kvm, int vcpu, uint64_t gfn, bool write,
			   uint64_t *val)
{
	struct kvm_vcpu *vc;
	struct kvm_tlb_entry *t;
	unsigned int tries = 0;

	if (!kvm || !val || vcpu < 0 || (unsigned int)vcpu >= kvm->cfg.nr_vcpus)
		return -EINVAL;
	vc = &kvm->vcpus[vcpu];
	t = &vc->tlb[gfn % kvm->cfg.tlb_entries];
	STAT_INC(kvm, accesses);
	for (;;) {
		struct kvm_memslot *s;
		struct kvm_spte *sp;
		int err;

		if (__atomic_load_n(&kvm->released, __ATOMIC_ACQUIRE))
			return -EFAULT;

		/* guest mode: a TLB hit */
		vcpu_enter(kvm, vc);
		if (t->valid && t->gfn == gfn && (!write || t->write)) {
			kvm_check_access(kvm, t, write);
			mmn_phys_access(kvm->sim, t->pfn, t->gen, t->hva, write, val);
			mmn_kvm_vcpu_exit_guest(&vc->req);
			STAT_INC(kvm, tlb_hits);
			return 0;
		}
		mmn_kvm_vcpu_exit_guest(&vc->req);

		/* TLB miss: the walk of the shadow table */
		mmn_spin_lock(&kvm->mmu_lock);
		s = gfn_to_memslot(kvm, gfn);
		if (!s) {
			mmn_spin_unlock(&kvm->mmu_lock);
			return -EFAULT;
		}
		sp = &s->sptes[gfn - s->base_gfn];
		if (sp->present && (!write || sp->write)) {
			sp->accessed = true;
			vcpu_enter(kvm, vc);
			t->valid = true;
			t->gfn = gfn;
			t->hva = s->hva + (gfn - s->base_gfn) * MMN_PAGE_SIZE;
			t->pfn = sp->pfn;
			t->gen = sp->gen;
			t->write = sp->write;
			t->huge = sp->huge;
			kvm_check_access(kvm, t, write);
			mmn_phys_access(kvm->sim, t->pfn, t->gen, t->hva, write, val);
			mmn_kvm_vcpu_exit_guest(&vc->req);
			mmn_spin_unlock(&kvm->mmu_lock);
			STAT_INC(kvm, spte_hits);
			return 0;
		}
		mmn_spin_unlock(&kvm->mmu_lock);

		/* EPT violation → the fault path */
		if (tries++ > kvm->cfg.max_retries)
			return -EAGAIN;
		err = kvm_faultin(kvm, gfn, write);
		if (err)
			return err;
	}
}

struct mmn_kvm_vcpu_req *mmn_kvm_vcpu_requests(struct mmn_kvm *kvm, int vcpu)
{
	if (!kvm || vcpu < 0 || (unsigned int)vcpu >= kvm->cfg.nr_vcpus)
		return NULL;
	return &kvm->vcpus[vcpu].req;
}

int mmn_kvm_vcpu_read(struct mmn_kvm *kvm, int vcpu, uint64_t gfn, uint64_t *val)
{
	return kvm_vcpu_access(kvm, vcpu, gfn, false, val);
}

int mmn_kvm_vcpu_write(struct mmn_kvm *kvm, int vcpu, uint64_t gfn, uint64_t val)
{
	return kvm_vcpu_access(kvm, vcpu, gfn, true, &val);
}

/* ------------------------------------------------------------------ */
/* VM lifetime and memslots                                            */
/* ------------------------------------------------------------------ */

void mmn_kvm_config_init(struct mmn_kvm_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->variant = MMN_KVM_CHECK_RANGE;
	cfg->nr_vcpus = 2;
	cfg->tlb_entries = 16;
	cfg->max_retries = 1000;
	/* kvm_mmu_do_page_fault() starts every fault at KVM_MAX_HUGEPAGE_LEVEL
	 * and kvm_mmu_hugepage_adjust() maps huge where it can (5.10-6.x) */
	cfg->huge_pages = true;
}

const char *mmn_kvm_variant_name(enum mmn_kvm_variant variant)
{
	switch (variant) {
	case MMN_KVM_CHECK_RANGE:
		return "check_range";
	case MMN_KVM_CHECK_SEQ_ONLY:
		return "check_seq_only";
	case MMN_KVM_NUMA_AWARE:
		return "numa_aware";
	}
	return "unknown";
}

static void kvm_free(struct mmn_kvm *kvm)
{
	if (kvm->vcpus) {
		for (unsigned int v = 0; v < kvm->cfg.nr_vcpus; v++) {
			free(kvm->vcpus[v].tlb);
			mmn_kvm_vcpu_req_destroy(&kvm->vcpus[v].req);
		}
		free(kvm->vcpus);
	}
	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++)
		free(kvm->slots[i].sptes);
	mmn_spin_lock_destroy(&kvm->mmu_lock);
	mmn_spin_lock_destroy(&kvm->mn_invalidate_lock);
	mmn_mutex_destroy(&kvm->slots_lock);
	mmn_waitqueue_destroy(&kvm->mn_memslots_update_wq);
	free(kvm);
}

struct mmn_kvm *mmn_kvm_create(struct mmn_mm *mm, const struct mmn_kvm_config *cfg)
{
	struct mmn_kvm_config c;
	struct mmn_kvm *kvm;
	int err;

	if (cfg)
		c = *cfg;
	else
		mmn_kvm_config_init(&c);
	if (!mm || c.nr_vcpus < 1 || c.nr_vcpus > MMN_KVM_MAX_VCPUS || c.tlb_entries < 1 ||
	    c.tlb_entries > MMN_KVM_MAX_TLB_ENTRIES ||
	    (c.variant != MMN_KVM_CHECK_RANGE && c.variant != MMN_KVM_CHECK_SEQ_ONLY &&
	     c.variant != MMN_KVM_NUMA_AWARE)) {
		errno = EINVAL;
		return NULL;
	}
	kvm = calloc(1, sizeof(*kvm));
	if (!kvm) {
		errno = ENOMEM;
		return NULL;
	}
	kvm->sim = mmn_mm_sim(mm);
	kvm->mm = mm;
	kvm->cfg = c;
	mmn_mutex_init(&kvm->slots_lock, kvm->sim, &kvm_slots_lock_class, NULL);
	mmn_spin_lock_init(&kvm->mn_invalidate_lock, kvm->sim, &kvm_mn_invalidate_class, NULL);
	mmn_spin_lock_init(&kvm->mmu_lock, kvm->sim, &kvm_mmu_lock_class, NULL);
	mmn_waitqueue_init(&kvm->mn_memslots_update_wq, kvm->sim, "kvm->mn_memslots_update_rcuwait");
	kvm->mmu_invalidate_range_start = INVALID_GFN;
	kvm->mmu_invalidate_range_end = INVALID_GFN;
	kvm->vcpus = calloc(c.nr_vcpus, sizeof(*kvm->vcpus));
	if (!kvm->vcpus) {
		kvm_free(kvm);
		errno = ENOMEM;
		return NULL;
	}
	for (unsigned int v = 0; v < c.nr_vcpus; v++) {
		mmn_kvm_vcpu_req_init(&kvm->vcpus[v].req, kvm->sim, &kvm_tlb_lock_class, NULL);
		kvm->reqs[v] = &kvm->vcpus[v].req;
		kvm->vcpus[v].tlb = calloc(c.tlb_entries, sizeof(*kvm->vcpus[v].tlb));
		if (!kvm->vcpus[v].tlb) {
			kvm_free(kvm);
			errno = ENOMEM;
			return NULL;
		}
	}
	kvm->mn.ops = &kvm_mmu_notifier_ops;
	err = mmn_notifier_register(&kvm->mn, mm);
	if (err) {
		kvm_free(kvm);
		errno = -err;
		return NULL;
	}
	err = mmn_check_register_secondary_blocks(kvm->sim, "kvm", kvm_audit_iter, kvm,
						  MMN_SECONDARY_TOLD_AT_START);
	if (!err && (err = mmn_check_secondary_link(kvm->sim, kvm, &kvm->mn)) != 0)
		(void)mmn_check_unregister_secondary(kvm->sim, kvm);
	if (err) {
		mmn_notifier_unregister(&kvm->mn, mm);
		kvm_free(kvm);
		errno = -err;
		return NULL;
	}
	kvm->audit_registered = true;
	return kvm;
}

void mmn_kvm_destroy(struct mmn_kvm *kvm)
{
	if (!kvm)
		return;
	/* kvm_destroy_vm(): mmu_notifier_unregister() calls release if the
	 * mm's exit did not, and waits for callbacks in flight. */
	mmn_notifier_unregister(&kvm->mn, kvm->mm);
	if (kvm->audit_registered)
		mmn_check_unregister_secondary(kvm->sim, kvm);
	kvm_free(kvm);
}

static bool no_active_invalidations(void *arg)
{
	struct mmn_kvm *kvm = arg;

	return __atomic_load_n(&kvm->mn_active_invalidate_count, __ATOMIC_ACQUIRE) == 0;
}

/*
 * kvm_set_memory_region() → kvm_swap_active_memslots(): wait until no
 * invalidation is in flight (mn_active_invalidate_count), then, under
 * mn_invalidate_lock and mmu_lock, zap the old slot and install the new.
 */
int mmn_kvm_set_memslot(struct mmn_kvm *kvm, int slot, uint64_t gfn_start, unsigned long npages,
			unsigned long hva)
{
	struct kvm_spte *fresh = NULL, *old = NULL;
	struct kvm_memslot *s;
	int err = 0;

	if (!kvm || slot < 0 || slot >= MMN_KVM_MAX_MEMSLOTS)
		return -EINVAL;
	if (npages) {
		if (hva & ~MMN_PAGE_MASK || hva >= MMN_TASK_SIZE ||
		    npages > (MMN_TASK_SIZE - hva) >> MMN_PAGE_SHIFT ||
		    gfn_start + npages < gfn_start)
			return -EINVAL;
		fresh = calloc(npages, sizeof(*fresh));
		if (!fresh)
			return -ENOMEM;
	}
	mmn_mutex_lock(&kvm->slots_lock);
	for (;;) {
		mmn_spin_lock(&kvm->mn_invalidate_lock);
		if (!kvm->mn_active_invalidate_count)
			break;
		mmn_spin_unlock(&kvm->mn_invalidate_lock);
		mmn_wait_event(&kvm->mn_memslots_update_wq, no_active_invalidations, kvm);
	}
	mmn_spin_lock(&kvm->mmu_lock);
	s = &kvm->slots[slot];
	if (__atomic_load_n(&kvm->released, __ATOMIC_RELAXED)) {
		err = -EFAULT;
	} else if (!npages) {
		if (!s->used)
			err = -ENOENT;
	} else {
		for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
			const struct kvm_memslot *o = &kvm->slots[i];

			if (i != slot && o->used && gfn_start < o->base_gfn + o->npages &&
			    o->base_gfn < gfn_start + npages)
				err = -EEXIST;
		}
	}
	if (!err) {
		if (s->used) {
			for (unsigned long j = 0; j < s->npages; j++) {
				s->sptes[j].present = false;
				s->sptes[j].huge = false;
			}
			kvm_flush_remote_tlbs(kvm);
		}
		old = s->sptes;
		s->used = npages != 0;
		s->base_gfn = npages ? gfn_start : 0;
		s->npages = npages;
		s->hva = npages ? hva : 0;
		s->sptes = fresh;
		fresh = NULL;
		kvm->slots_gen++;
		STAT_INC(kvm, memslot_changes);
	}
	mmn_spin_unlock(&kvm->mmu_lock);
	mmn_spin_unlock(&kvm->mn_invalidate_lock);
	mmn_mutex_unlock(&kvm->slots_lock);
	free(old);
	free(fresh);
	return err;
}

/* ------------------------------------------------------------------ */
/* Introspection                                                       */
/* ------------------------------------------------------------------ */

int mmn_kvm_spte(struct mmn_kvm *kvm, uint64_t gfn, struct mmn_kvm_spte_info *out)
{
	struct kvm_memslot *s;
	int err = 0;

	if (!kvm || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	mmn_spin_lock(&kvm->mmu_lock);
	s = gfn_to_memslot(kvm, gfn);
	if (!s) {
		err = -EFAULT;
	} else {
		const struct kvm_spte *sp = &s->sptes[gfn - s->base_gfn];

		out->present = sp->present;
		if (sp->present) {
			out->write = sp->write;
			out->accessed = sp->accessed;
			out->pfn = sp->pfn;
			out->gen = sp->gen;
			out->huge = sp->huge;
		}
	}
	mmn_spin_unlock(&kvm->mmu_lock);
	return err;
}

unsigned long mmn_kvm_nr_sptes(struct mmn_kvm *kvm)
{
	unsigned long n = 0;

	if (!kvm)
		return 0;
	mmn_spin_lock(&kvm->mmu_lock);
	for (int i = 0; i < MMN_KVM_MAX_MEMSLOTS; i++) {
		const struct kvm_memslot *s = &kvm->slots[i];

		if (!s->used)
			continue;
		for (unsigned long j = 0; j < s->npages; j++)
			n += s->sptes[j].present &&
			     (!s->sptes[j].huge || !((s->base_gfn + j) & (MMN_HPAGE_NR - 1)));
	}
	mmn_spin_unlock(&kvm->mmu_lock);
	return n;
}

int mmn_kvm_get_stats(const struct mmn_kvm *kvm, struct mmn_kvm_stats *out)
{
	const unsigned long *src;
	unsigned long *dst;

	_Static_assert(sizeof(struct mmn_kvm_stats) % sizeof(unsigned long) == 0,
		       "mmn_kvm_stats holds only unsigned long counters");
	if (!kvm || !out)
		return -EINVAL;
	src = (const unsigned long *)&kvm->st;
	dst = (unsigned long *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(unsigned long); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return 0;
}
