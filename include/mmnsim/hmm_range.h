/* SPDX-License-Identifier: MIT */
/**
 * @file hmm_range.h
 * @brief hmm_range_fault(): snapshot (and fault in) the CPU page table over a
 *        range for a device that mirrors it, with the contract of the
 *        kernel's mm/hmm.c and include/linux/hmm.h (as in 6.x; the mapping
 *        order of the results since 5.9).
 *
 * What an interval-notifier user (the dmirror of lib/test_hmm.c, nouveau,
 * amdgpu's SVM, RDMA ODP) calls between mmn_interval_read_begin() and
 * mmn_interval_read_retry():
 * @code
 *   range.notifier_seq = mmn_interval_read_begin(range.notifier);
 *   mmn_mmap_read_lock(mm);
 *   r = mmn_hmm_range_fault(&range);        // -EBUSY: start again
 *   mmn_mmap_read_unlock(mm);
 *   lock(driver lock);
 *   if (mmn_interval_read_retry(range.notifier, range.notifier_seq))
 *           unlock, start again;            // an invalidation ran meanwhile
 *   program the device from range.hmm_pfns[]; unlock;
 * @endcode
 * The reference HMM listener (listeners/hmm.h) is built on it. The
 * reference listener's own names (the snapshot bytes MMN_HMM_PROT_*) are in
 * that header; this one holds only the kernel's contract.
 *
 * Each hmm_pfns[] word is an input (the request, after @c pfn_flags_mask and
 * @c default_flags) and then an output: the frame number in the low bits and
 * the flags in the top byte, as the kernel encodes them.
 */
#ifndef MMNSIM_HMM_RANGE_H
#define MMNSIM_HMM_RANGE_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_mm;
struct mmn_interval_notifier;

/* enum hmm_pfn_flags of include/linux/hmm.h (as in 6.x; ORDER since 5.9), for 64-bit longs. */
/** Output: the pfn is valid and at least readable. Input: fault it in (REQ_FAULT). */
#define MMN_HMM_PFN_VALID (1UL << 63)
/** Output: the CPU entry allows stores. Input: fault for write (REQ_WRITE). */
#define MMN_HMM_PFN_WRITE (1UL << 62)
/** Output: the address can never be made valid (a VMA without read access). */
#define MMN_HMM_PFN_ERROR (1UL << 61)
/** Output: the order of the CPU mapping (9 for a 2 MiB PMD leaf) sits here. */
#define MMN_HMM_PFN_ORDER_SHIFT 56
/** Input: fault the page in if it is not mapped (the same bit as VALID). */
#define MMN_HMM_PFN_REQ_FAULT MMN_HMM_PFN_VALID
/** Input: fault it in writable (with REQ_FAULT; the same bit as WRITE). */
#define MMN_HMM_PFN_REQ_WRITE MMN_HMM_PFN_WRITE
/** Every flag bit (the top byte). */
#define MMN_HMM_PFN_FLAGS (0xFFUL << MMN_HMM_PFN_ORDER_SHIFT)

/** mmn_hmm_pfn_to_pfn() - the frame number of an output word (hmm_pfn_to_page()'s pfn). */
static inline unsigned long mmn_hmm_pfn_to_pfn(unsigned long hmm_pfn)
{
	return hmm_pfn & ~MMN_HMM_PFN_FLAGS;
}

/** mmn_hmm_pfn_to_map_order() - hmm_pfn_to_map_order(): the CPU mapping's order. */
static inline unsigned int mmn_hmm_pfn_to_map_order(unsigned long hmm_pfn)
{
	return (unsigned int)(hmm_pfn >> MMN_HMM_PFN_ORDER_SHIFT) & 0x1F;
}

/**
 * struct hmm_range. The first eight fields are the kernel's; the rest are
 * the model's extensions, all optional (zero: the kernel's behaviour).
 */
struct mmn_hmm_range {
	/** The interval notifier covering [start, end). NULL only with @c mm
	 *  set (a caller that detects collisions itself, through @c collided). */
	struct mmn_interval_notifier *notifier;
	/** mmn_interval_read_begin()'s value; the walk fails with -EBUSY once
	 *  mmn_interval_check_retry() says it moved. */
	unsigned long notifier_seq;
	/** Page-aligned first address. */
	unsigned long start;
	/** Page-aligned end (exclusive), above @c start. */
	unsigned long end;
	/** (end - start) / page size words: requests in, results out. */
	unsigned long *hmm_pfns;
	/** Request bits applied to every page (REQ_FAULT, REQ_WRITE). */
	unsigned long default_flags;
	/** Which request bits of each hmm_pfns[] word count (0: none). */
	unsigned long pfn_flags_mask;
	/** Device-private pages whose pgmap owner is this are returned as
	 *  valid pfns instead of being faulted back (dev_private_owner). */
	void *dev_private_owner;

	/** Model: the address space when @c notifier is NULL (else ignored). */
	struct mmn_mm *mm;
	/** Model, optional output: the generation of each frame as the walk
	 *  read it, for mmn_phys_access() (the oracle's use-after-free test). */
	uint32_t *gens;
	/** Model, optional: a further collision test evaluated wherever the
	 *  walk evaluates mmu_interval_check_retry() (true: -EBUSY). */
	bool (*collided)(void *arg);
	/** Model: the argument of @c collided. */
	void *collided_arg;
	/** Model: faults of one page that still leave it unusable before the
	 *  walk gives up with -EBUSY (the kernel loops until its caller's
	 *  timeout); 0: 64. */
	unsigned int fault_budget;
};

/**
 * mmn_hmm_range_fault() - hmm_range_fault() (mm/hmm.c, the contract as in 6.x;
 * the mapping order since 5.9): for each page of [start, end), give up with
 * -EBUSY as soon as the notifier's sequence moved, read the CPU entry, and
 * where the request (hmm_pfns[i] & pfn_flags_mask | default_flags) asks for
 * more than it finds (REQ_FAULT: a valid entry; REQ_WRITE: a writable one)
 * call mmn_handle_mm_fault() and read again.
 *
 * Results: a present PTE or PMD leaf gives pfn | VALID (| WRITE if it
 * allows stores; a PMD leaf sets order 9; the shared zero page is valid and
 * read-only); a device-private entry of a pgmap owned by
 * @c dev_private_owner gives its device pfn | VALID (| WRITE); a
 * device-exclusive entry (5.14-6.14) or another owner's device-private
 * entry is not valid: it is faulted back when asked for, else 0; a page in a
 * VMA without read access is ERROR when no fault is asked for; anything
 * else not mapped is 0.
 *
 * Differences from the kernel: a REQ_WRITE on a read-only device-private
 * entry faults (migrating the page back), where the kernel returns it
 * read-only; migration entries are faulted (waited for) as any other
 * non-present entry; hugetlb VMAs are walked page by page (order 0).
 *
 * Locking: the caller holds the mm's mmap_lock (read or write); checked
 * with mmn_mmap_assert_locked(). May sleep (faults).
 * @param range  the range; hmm_pfns[] is rewritten up to the page that
 *               failed
 * @return 0; -EBUSY when the sequence moved (or @c collided said so, or a
 *         page's fault budget ran out): the caller starts again from
 *         mmn_interval_read_begin(); -EFAULT when a fault is asked for at an
 *         address with no VMA or in a VMA without read access, or a fault
 *         fails otherwise; -EPERM when a write fault is asked for in a VMA
 *         without write access; -ENOMEM; -EINVAL for a NULL @p range or
 *         hmm_pfns, a misaligned or empty range, a range past user space,
 *         or neither a notifier nor an mm.
 */
MMN_API int mmn_hmm_range_fault(struct mmn_hmm_range *range);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_HMM_RANGE_H */
