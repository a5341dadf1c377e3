/* SPDX-License-Identifier: MIT */
/**
 * @file kvm.h
 * @brief The KVM-style reference listener: a VM with memslots, a shadow page
 *        table under an MMU lock and vCPUs with their own TLBs, kept coherent
 *        by an mmu_notifier as virt/kvm/kvm_main.c does.
 *
 * Modelled kernel code (behaviour, not source): virt/kvm/kvm_main.c —
 * kvm_mmu_notifier_invalidate_range_start/end() with
 * kvm_mmu_invalidate_begin/range_add/end() (mmu_invalidate_seq,
 * mmu_invalidate_in_progress, the union mmu_invalidate_range_start/end,
 * mn_active_invalidate_count blocking memslot changes),
 * mmu_invalidate_retry_gfn() and the x86 fault path (kvm_faultin_pfn(),
 * is_page_fault_stale()), kvm_mmu_notifier_clear_flush_young(),
 * _clear_young(), _test_young(), _change_pte() (2.6.29-6.9) and _release().
 *
 * Written only against the public API (a research listener could be written
 * the same way). The pieces:
 *
 * - **memslots**: up to #MMN_KVM_MAX_MEMSLOTS ranges gfn → hva
 *   (KVM_SET_USER_MEMORY_REGION);
 * - the **shadow page table**: one SPTE per guest page of each memslot
 *   (pfn, the frame's generation, write, accessed), guarded by
 *   kvm->mmu_lock (a struct mmn_spinlock named "kvm->mmu_lock");
 *   2 MiB SPTEs where the host maps a PMD leaf and the memslot is aligned
 *   for it (mmn_kvm_config::huge_pages, on by default as in KVM), zapped
 *   whole by an invalidation of any part;
 * - **vCPUs**: each has a direct-mapped TLB of SPTE copies, filled on a
 *   TLB miss by a walk of the shadow table (which sets the SPTE's accessed
 *   bit; a TLB hit does not, as with hardware A bits) and emptied by
 *   kvm_flush_remote_tlbs(). Every guest access ends in mmn_phys_access()
 *   with the generation the SPTE recorded, so an access through a
 *   translation that outlived its page is a MMN_VIOL_USE_AFTER_FREE.
 *
 * The ordering rule (is_page_fault_stale() against invalidate_range_start):
 * @code
 *   vCPU fault (kvm_faultin_pfn)            invalidation (core mm)
 *   ---------------------------------       -----------------------------------
 *   mmu_seq = mmu_invalidate_seq            start: lock mmu_lock
 *   pfn = GUP(hva)  [pin, fault in]                in_progress++, range |= gfns
 *        <MMN_KVM_SCHED_FAULT_WINDOW>               zap SPTEs, flush vCPU TLBs
 *   lock mmu_lock                                  unlock
 *   retry if in_progress && gfn in range    PTEs cleared, TLB flushed
 *   retry if mmu_invalidate_seq != mmu_seq  end:   lock mmu_lock
 *   else install SPTE                              seq++; in_progress--
 *   unlock; unpin (the notifier, not a             unlock
 *   reference, keeps the page safe)          page freed (tlb_finish_mmu)
 * @endcode
 * MMN_KVM_CHECK_SEQ_ONLY drops the in_progress test: a fault that snapshot
 * the sequence before start and takes the lock between start and end
 * installs a frame that is freed right after end (seed 001; the reference's
 * section 6 item 3).
 */
#ifndef MMNSIM_LISTENERS_KVM_H
#define MMNSIM_LISTENERS_KVM_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/sync.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_mm;
struct mmn_kvm;

/** Most memslots of a VM (KVM has 32767 per address space; the model keeps few). */
#define MMN_KVM_MAX_MEMSLOTS 16
/** Most vCPUs of a VM. */
#define MMN_KVM_MAX_VCPUS 64
/** Most entries of one vCPU TLB. */
#define MMN_KVM_MAX_TLB_ENTRIES 4096
/** Buckets of the fault-latency histogram (mmn_kvm_stats::fault_retry_hist). */
#define MMN_KVM_HIST_BUCKETS 16

/**
 * Name of the explicit scheduling point (mmn_sched_point(), kind
 * MMN_SCHED_EXPLICIT, obj = the struct mmn_kvm, addr = the hva) every fault
 * passes after the page is pinned and before kvm->mmu_lock is taken: the
 * window of the seed-001 race. A test hook or the deterministic scheduler
 * runs an invalidation there.
 */
#define MMN_KVM_SCHED_FAULT_WINDOW "kvm_faultin_pfn:after_gup"

/** How the fault path decides to retry (mmu_invalidate_retry_gfn()). */
enum mmn_kvm_variant {
	/**
	 * Correct (5.x-latest): retry if an invalidation is in progress and
	 * the gfn lies in the union of the ranges in flight, or if
	 * mmu_invalidate_seq moved since the snapshot.
	 */
	MMN_KVM_CHECK_RANGE = 0,
	/**
	 * The known bug: retry only if the sequence moved. An invalidation
	 * that has started (SPTEs zapped) but not ended (sequence not yet
	 * bumped, page about to be freed) is missed.
	 */
	MMN_KVM_CHECK_SEQ_ONLY,
	/**
	 * MMN_KVM_CHECK_RANGE plus the NUMA-hinting filter (after Yan Zhao's
	 * 2023 RFC "Reduce NUMA balance caused TLB-shootdowns in a VM"): in a
	 * MMN_NOTIFY_PROTECTION_VMA range an SPTE is kept, not zapped, when the
	 * VMA now covering its hva still grants every access the SPTE grants.
	 * NUMA hinting (mmn_change_prot_numa()) leaves the VMA's protection as
	 * it was, so every SPTE is kept; mprotect(PROT_NONE) has already
	 * changed the VMA when start runs, so every SPTE goes; mprotect(READ)
	 * drops exactly the writable ones. The range is still tracked
	 * (in_progress, sequence), so no fault installs during it. The VMA is
	 * read with mmn_vma_count()/mmn_vma_at() under the invalidating
	 * caller's mmap_lock, which needs lockdep to know it is held: with
	 * mmn_sim_config::lockdep off the filter is off (everything zapped,
	 * counted in mmn_kvm_stats::numa_filter_off). Kept SPTEs stay ahead of
	 * the primary until the CPU's NUMA fault restores the PTE: the
	 * quiescent audit reports them stale in between (see docs/listeners.md).
	 */
	MMN_KVM_NUMA_AWARE,
};

/** Configuration of a VM. Fill with mmn_kvm_config_init(). */
struct mmn_kvm_config {
	/** Retry check. Default MMN_KVM_CHECK_RANGE. */
	enum mmn_kvm_variant variant;
	/** vCPUs, 1..#MMN_KVM_MAX_VCPUS. Default 2. */
	unsigned int nr_vcpus;
	/** Entries of each vCPU TLB, 1..#MMN_KVM_MAX_TLB_ENTRIES (direct-mapped
	 *  by gfn). Default 16. */
	unsigned int tlb_entries;
	/** Retries of one fault before it gives up with -EAGAIN (KVM itself
	 *  re-enters the guest forever). Default 1000. */
	unsigned int max_retries;
	/**
	 * Map 2 MiB SPTEs where the host maps the page by a PMD leaf (THP or
	 * hugetlb) and the memslot allows it (kvm_mmu_hugepage_adjust() →
	 * kvm_mmu_max_mapping_level(): the memslot's gfn and hva equally
	 * aligned modulo 2 MiB and the 2 MiB gfn range inside the slot,
	 * lpage_info's disallow_lpage, 4.12-6.x; the host level from a walk of
	 * the primary table, host_pfn_mapping_level(), 5.10-6.x). Default
	 * true, as in KVM (kvm_mmu_do_page_fault() starts every fault at
	 * KVM_MAX_HUGEPAGE_LEVEL); false maps 4 KiB SPTEs only, as KVM does in
	 * a slot with dirty logging on. An area the host maps by 4 KiB PTEs
	 * (no THP, no hugetlb) gets 4 KiB SPTEs either way. See
	 * docs/listeners.md, "Huge SPTEs".
	 */
	bool huge_pages;
	/**
	 * Deliberately wrong, for tests of the checker: the zap of an
	 * invalidation looks at 4 KiB SPTEs only and keeps a huge SPTE in the
	 * range (a leaf test at the 4 KiB level only). The kernel's zap
	 * (kvm_tdp_mmu_unmap_gfn_range() → tdp_mmu_zap_leafs(), whose iterator
	 * rounds to each level) drops every leaf the range touches. Default
	 * false.
	 */
	bool huge_zap_4k_only;
};

/** Notifier callbacks, for mmn_kvm_stats::callbacks. */
enum mmn_kvm_callback {
	MMN_KVM_CB_START = 0,          /**< invalidate_range_start */
	MMN_KVM_CB_END,                /**< invalidate_range_end */
	MMN_KVM_CB_CLEAR_FLUSH_YOUNG,  /**< clear_flush_young */
	MMN_KVM_CB_CLEAR_YOUNG,        /**< clear_young */
	MMN_KVM_CB_TEST_YOUNG,         /**< test_young */
	MMN_KVM_CB_CHANGE_PTE,         /**< change_pte (profiles before 6.10) */
	MMN_KVM_CB_RELEASE,            /**< release */
	MMN_KVM_CB_NR                  /**< number of kinds (not a kind) */
};

/**
 * Counters of a VM. Snapshots; taken while actors run they are approximate
 * (each counter is exact, their sum at one instant is not).
 */
struct mmn_kvm_stats {
	/** Callbacks received, by enum mmn_kvm_callback. */
	unsigned long callbacks[MMN_KVM_CB_NR];
	/** invalidate_range_start calls by range event (enum mmn_notify_event). */
	unsigned long start_by_event[MMN_NOTIFY_NR_EVENTS];
	/** Starts whose range overlapped a memslot (kvm_mmu_invalidate_begin). */
	unsigned long invalidations_tracked;
	/** Needless teardowns: starts that zapped no SPTE (memslot or not). */
	unsigned long needless_invalidations;
	/** SPTEs zapped by invalidate_range_start. */
	unsigned long sptes_zapped;
	/** SPTEs kept across a PROTECTION_VMA range by MMN_KVM_NUMA_AWARE. */
	unsigned long sptes_kept_numa;
	/** PROTECTION_VMA starts where MMN_KVM_NUMA_AWARE could not read the
	 *  VMAs (lockdep off) and zapped as the plain variant. */
	unsigned long numa_filter_off;
	/** kvm_flush_remote_tlbs() calls (every vCPU TLB emptied). */
	unsigned long tlb_flushes;
	/** vCPU TLB entries dropped by those flushes. */
	unsigned long tlb_entries_dropped;
	/** Guest accesses (mmn_kvm_vcpu_read()/_write() calls). */
	unsigned long accesses;
	/** Accesses served by the vCPU TLB. */
	unsigned long tlb_hits;
	/** TLB misses served by a present SPTE (a shadow-table walk). */
	unsigned long spte_hits;
	/** Device faults: entries into the fault path (kvm_faultin_pfn). */
	unsigned long faults;
	/** Faults that installed an SPTE. */
	unsigned long faults_installed;
	/** Faults that failed (GUP error, no memslot, released VM). */
	unsigned long faults_failed;
	/** Re-faults: faults on a gfn whose SPTE an invalidation had zapped. */
	unsigned long refaults;
	/** Re-faults that installed the very SPTE zapped (same frame,
	 *  generation and write permission): the zap was needless. */
	unsigned long refaults_same;
	/** Retries, all causes. */
	unsigned long retries;
	/** Retries because an invalidation in progress covered the gfn. */
	unsigned long retries_in_progress;
	/** Retries because mmu_invalidate_seq moved. */
	unsigned long retries_seq;
	/** Retries because a memslot changed meanwhile. */
	unsigned long retries_memslot;
	/** Faults that gave up after mmn_kvm_config::max_retries retries. */
	unsigned long give_ups;
	/**
	 * Fault latency in retries, log2 buckets: [0] faults done without a
	 * retry, [i] (i >= 1) faults with 2^(i-1) .. 2^i - 1 retries, the last
	 * bucket everything above. Given-up faults included.
	 */
	unsigned long fault_retry_hist[MMN_KVM_HIST_BUCKETS];
	/** Young callbacks that answered "young". */
	unsigned long young_hits;
	/** change_pte calls that found an SPTE to retarget or zap. */
	unsigned long change_pte_found;
	/** change_pte calls that found nothing (start had zapped it): the
	 *  reason change_pte was removed in 6.10. */
	unsigned long change_pte_missed;
	/** change_pte calls with no invalidation in progress (outside any
	 *  start/end pair, which KVM warned about from 5.17 on). */
	unsigned long change_pte_outside;
	/** SPTEs zapped by release. */
	unsigned long release_zapped;
	/** Memslot changes (creations, moves, deletions). */
	unsigned long memslot_changes;
	/** 2 MiB SPTEs installed by faults (mmn_kvm_config::huge_pages). */
	unsigned long huge_sptes_mapped;
	/** 2 MiB SPTEs zapped whole (by an invalidation, also one covering
	 *  only part of them, by change_pte, or to map 4 KiB in their place). */
	unsigned long huge_sptes_zapped;
};

/** mmn_kvm_config_init() - fill @p cfg with the documented defaults (NULL: no-op). */
MMN_API void mmn_kvm_config_init(struct mmn_kvm_config *cfg);

/**
 * mmn_kvm_create() - kvm_create_vm(): a VM bound to @p mm, its
 * mmu_notifier registered (kvm_init_mmu_notifier()) and its translations
 * registered with the quiescent audit and the access-time check as blocks
 * (mmn_check_register_secondary_blocks(), name "kvm", told at start: a
 * 2 MiB SPTE is one block). Takes mmap_lock for write (registration); may
 * sleep.
 * @param mm   the address space (the caller keeps mm_users > 0 during the call)
 * @param cfg  configuration, copied; NULL: the defaults
 * @return the VM, or NULL with errno set: EINVAL for a NULL @p mm, a field
 *         out of range or an unknown variant, an mm with no users left;
 *         ENOMEM.
 */
MMN_API struct mmn_kvm *mmn_kvm_create(struct mmn_mm *mm, const struct mmn_kvm_config *cfg);

/**
 * mmn_kvm_destroy() - kvm_destroy_vm(): unregister the notifier (which calls
 * release unless the mm's exit already did), forget the audit registration,
 * free the VM. No vCPU access may be running. May sleep. NULL: no-op.
 */
MMN_API void mmn_kvm_destroy(struct mmn_kvm *kvm);

/**
 * mmn_kvm_set_memslot() - KVM_SET_USER_MEMORY_REGION: map guest frames
 * [@p gfn_start, @p gfn_start + @p npages) to host virtual addresses from
 * @p hva on; @p npages 0 deletes the slot. Replacing a slot zaps its SPTEs
 * and flushes the vCPU TLBs first. As kvm_swap_active_memslots(), waits
 * (sleeps) while an invalidation is in progress (mn_active_invalidate_count),
 * so start and end of one invalidation see the same memslots. May sleep;
 * must not be called from a notifier callback.
 * @param kvm        the VM
 * @param slot       0 .. #MMN_KVM_MAX_MEMSLOTS - 1
 * @param gfn_start  first guest frame
 * @param npages     guest pages, 0 to delete
 * @param hva        page-aligned host address of @p gfn_start (ignored when
 *                   deleting)
 * @return 0; -EINVAL for NULL, a slot out of range, a misaligned @p hva, a
 *         range that overflows or leaves user space; -EEXIST when the gfn
 *         range overlaps another slot; -ENOENT deleting an empty slot;
 *         -EFAULT after release; -ENOMEM. Nothing changes on error.
 */
MMN_API int mmn_kvm_set_memslot(struct mmn_kvm *kvm, int slot, uint64_t gfn_start,
				unsigned long npages, unsigned long hva);

/**
 * mmn_kvm_vcpu_read() - a guest load by vCPU @p vcpu of the word of guest
 * frame @p gfn: vCPU TLB, else a walk of the shadow table (fills the TLB,
 * sets the SPTE's accessed bit), else the fault path (the ordering rule of
 * this header; read faults pin without MMN_FOLL_WRITE and install a
 * read-only SPTE), then the access through mmn_phys_access() with the
 * SPTE's generation. May sleep (GUP).
 * @param kvm   the VM
 * @param vcpu  0 .. nr_vcpus - 1
 * @param gfn   guest frame
 * @param val   receives the word
 * @return 0; -EINVAL for NULL or @p vcpu out of range; -EFAULT for a gfn in
 *         no memslot, an hva with no VMA, or a released VM; the other errors
 *         of mmn_get_user_pages() (-EACCES, -ENOMEM); -EAGAIN after
 *         mmn_kvm_config::max_retries retries.
 */
MMN_API int mmn_kvm_vcpu_read(struct mmn_kvm *kvm, int vcpu, uint64_t gfn, uint64_t *val);

/**
 * mmn_kvm_vcpu_write() - a guest store of @p val; as mmn_kvm_vcpu_read(),
 * with a write fault (GUP with MMN_FOLL_WRITE, writable SPTE) when the
 * translation found is missing or read-only.
 * @param kvm   the VM
 * @param vcpu  0 .. nr_vcpus - 1
 * @param gfn   guest frame
 * @param val   the word to store
 * @return as mmn_kvm_vcpu_read().
 */
MMN_API int mmn_kvm_vcpu_write(struct mmn_kvm *kvm, int vcpu, uint64_t gfn, uint64_t val);

/** A snapshot of one SPTE, for tests. */
struct mmn_kvm_spte_info {
	bool present;     /**< the SPTE maps a frame */
	bool write;       /**< it allows stores */
	bool accessed;    /**< its accessed (young) bit */
	unsigned long pfn; /**< frame, when present */
	uint32_t gen;     /**< the frame's generation at install, when present */
	bool huge;        /**< it is part of a 2 MiB SPTE (@c pfn: this gfn's frame in it) */
};

/**
 * mmn_kvm_spte() - snapshot the SPTE of @p gfn (under kvm->mmu_lock).
 * @return 0; -EINVAL for NULL; -EFAULT for a gfn in no memslot.
 */
MMN_API int mmn_kvm_spte(struct mmn_kvm *kvm, uint64_t gfn, struct mmn_kvm_spte_info *out);

/** mmn_kvm_nr_sptes() - present SPTEs now (a 2 MiB SPTE counts once); 0 for NULL. */
MMN_API unsigned long mmn_kvm_nr_sptes(struct mmn_kvm *kvm);

/**
 * mmn_kvm_get_stats() - copy the counters of @p kvm to @p out.
 * @return 0, -EINVAL for NULL.
 */
MMN_API int mmn_kvm_get_stats(const struct mmn_kvm *kvm, struct mmn_kvm_stats *out);

/** mmn_kvm_variant_name() - "check_range", "check_seq_only", "numa_aware" or "unknown". */
MMN_API const char *mmn_kvm_variant_name(enum mmn_kvm_variant variant);

/* ------------------------------------------------------------------ */
/* vCPU requests: make a request, kick, wait for the acknowledgement   */
/* ------------------------------------------------------------------ */

struct mmn_sim;
struct mmn_lock_class;

/** vcpu->mode (include/linux/kvm_host.h). */
enum mmn_kvm_vcpu_mode {
	MMN_KVM_OUTSIDE_GUEST_MODE = 0, /**< not running guest code */
	MMN_KVM_IN_GUEST_MODE,          /**< running guest code (holding its guest lock) */
	MMN_KVM_EXITING_GUEST_MODE,     /**< kicked: leaves guest mode at its next exit */
};

/** Request number bits of a request word (KVM_REQUEST_MASK). */
#define MMN_KVM_REQUEST_MASK 0xffu
/** The requester waits until every vCPU in guest mode acknowledged the kick
 *  (KVM_REQUEST_WAIT). */
#define MMN_KVM_REQUEST_WAIT (1u << 9)
/** KVM_REQ_TLB_FLUSH: drop every cached guest translation before the next
 *  guest entry (KVM_REQUEST_WAIT set, as in the kernel). */
#define MMN_KVM_REQ_TLB_FLUSH (0u | MMN_KVM_REQUEST_WAIT)
/** First request number free for research code. */
#define MMN_KVM_REQ_FIRST_FREE 8u

/**
 * The request side of one vCPU (vcpu->requests, vcpu->mode), embedded in a
 * listener's vCPU. A vCPU "runs guest code" between
 * mmn_kvm_vcpu_enter_guest() and mmn_kvm_vcpu_exit_guest(), holding its
 * guest lock (a struct mmn_spinlock): a kick's acknowledgement is that lock
 * being released, as the kernel's is the IPI handler running once the vCPU
 * has left guest mode. Fields are private.
 */
struct mmn_kvm_vcpu_req {
	/** @cond MMN_PRIVATE */
	struct mmn_spinlock guest;
	unsigned long requests; /* atomic builtins */
	int mode;               /* atomic builtins */
	unsigned long kicks;    /* IPIs sent to this vCPU */
	/** @endcond */
};

/**
 * mmn_kvm_vcpu_req_init() - kvm_vcpu_init()'s part: no request, outside
 * guest mode, the guest lock in @p sim with class @p cls.
 * @param v     the vCPU's request state
 * @param sim   the simulation
 * @param cls   the guest lock's class (NULL: "kvm vcpu guest mode")
 * @param name  the lock's name in reports (NULL: the class name); not copied
 * @return 0, -EINVAL for NULL @p v or @p sim.
 */
MMN_API int mmn_kvm_vcpu_req_init(struct mmn_kvm_vcpu_req *v, struct mmn_sim *sim,
				  const struct mmn_lock_class *cls, const char *name);

/** mmn_kvm_vcpu_req_destroy() - release @p v's lock (no vCPU may use it). NULL: no-op. */
MMN_API void mmn_kvm_vcpu_req_destroy(struct mmn_kvm_vcpu_req *v);

/**
 * mmn_kvm_make_request() - kvm_make_request(): set request @p req of @p v
 * (release order: what the requester wrote before is seen by the vCPU that
 * sees the request). No kick. NULL or a request number over 63: no-op.
 */
MMN_API void mmn_kvm_make_request(unsigned int req, struct mmn_kvm_vcpu_req *v);

/** mmn_kvm_request_pending() - kvm_request_pending(): any request set? (false for NULL) */
MMN_API bool mmn_kvm_request_pending(const struct mmn_kvm_vcpu_req *v);

/** mmn_kvm_test_request() - kvm_test_request(): is @p req set? (false for NULL) */
MMN_API bool mmn_kvm_test_request(unsigned int req, const struct mmn_kvm_vcpu_req *v);

/**
 * mmn_kvm_check_request() - kvm_check_request(): test and clear @p req
 * (acquire order). What the vCPU calls, in or before guest entry, for each
 * request it services. false for NULL.
 */
MMN_API bool mmn_kvm_check_request(unsigned int req, struct mmn_kvm_vcpu_req *v);

/**
 * mmn_kvm_vcpu_kick() - kvm_vcpu_kick(): if @p v is in guest mode, move it
 * to EXITING_GUEST_MODE and send it an IPI (counted by
 * mmn_kvm_vcpu_kicks(); the caller charges its modelled time); it services its requests at its next guest entry. Does
 * not wait. NULL: no-op.
 */
MMN_API void mmn_kvm_vcpu_kick(struct mmn_kvm_vcpu_req *v);

/**
 * mmn_kvm_make_all_cpus_request() - kvm_make_all_cpus_request() (virt/kvm/
 * kvm_main.c, as in 6.x): set @p req on each of the @p n vCPUs, kick those
 * in guest mode (kvm_request_needs_ipi(): in guest mode, or for a
 * MMN_KVM_REQUEST_WAIT request any mode but OUTSIDE), and with
 * MMN_KVM_REQUEST_WAIT wait for each to acknowledge (leave guest mode).
 *
 * After it returns with MMN_KVM_REQUEST_WAIT, no vCPU still runs guest code
 * that began before the request: each either ran no guest code since, or
 * services the request at its next entry, before guest code runs. This is
 * what lets an invalidation free a page once kvm_flush_remote_tlbs()
 * returns. Model: the wait takes and releases every vCPU's guest lock (free,
 * so no wait, for a vCPU outside guest mode): one scheduling point per
 * vCPU where the kernel has none for the idle ones.
 *
 * May be called with spinlocks held (the kernel calls it under mmu_lock);
 * the caller must not hold a vCPU's guest lock.
 * @param vcpus  @p n pointers (NULL entries skipped)
 * @param n      how many
 * @param req    request number | MMN_KVM_REQUEST_WAIT as wanted
 * @return true when at least one vCPU was kicked (an IPI sent), as the
 *         kernel's "called"; false otherwise or for NULL @p vcpus.
 */
MMN_API bool mmn_kvm_make_all_cpus_request(struct mmn_kvm_vcpu_req *const *vcpus, unsigned int n,
					   unsigned int req);

/**
 * mmn_kvm_vcpu_enter_guest() - vcpu_enter_guest()'s entry: take the guest
 * lock, set IN_GUEST_MODE. The caller then services its requests
 * (mmn_kvm_check_request()) before it uses any cached translation, and
 * leaves with mmn_kvm_vcpu_exit_guest(). May spin (a kicker holds the
 * lock only for the instant of its acknowledgement). NULL: no-op.
 */
MMN_API void mmn_kvm_vcpu_enter_guest(struct mmn_kvm_vcpu_req *v);

/** mmn_kvm_vcpu_exit_guest() - the VM exit: OUTSIDE_GUEST_MODE, guest lock released. NULL: no-op. */
MMN_API void mmn_kvm_vcpu_exit_guest(struct mmn_kvm_vcpu_req *v);

/** mmn_kvm_vcpu_mode() - @p v's mode now (OUTSIDE for NULL). */
MMN_API enum mmn_kvm_vcpu_mode mmn_kvm_vcpu_mode(const struct mmn_kvm_vcpu_req *v);

/** mmn_kvm_vcpu_kicks() - IPIs sent to @p v so far (0 for NULL). */
MMN_API unsigned long mmn_kvm_vcpu_kicks(const struct mmn_kvm_vcpu_req *v);

/**
 * mmn_kvm_vcpu_requests() - the request state of vCPU @p vcpu of @p kvm
 * (the reference listener's vCPUs use the primitive above; tests read their
 * requests and kicks through it).
 * @return the state, or NULL for a NULL @p kvm or @p vcpu out of range.
 */
MMN_API struct mmn_kvm_vcpu_req *mmn_kvm_vcpu_requests(struct mmn_kvm *kvm, int vcpu);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_LISTENERS_KVM_H */
