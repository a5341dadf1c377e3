/* SPDX-License-Identifier: MIT */
/**
 * @file fault.h
 * @brief The CPU page-fault path and get_user_pages()-like pinning.
 *
 * Anonymous read faults map the shared zero page; write faults allocate a
 * private page; a write to a read-only private page copies it (COW) unless
 * the page is exclusively owned and can be reused; MAP_SHARED faults map the
 * shared object's page; hugetlb faults map a 2 MiB page from the pool.
 *
 * Every function here that takes an mm and returns an errno refuses a
 * torn-down mm (mm_users 0, kept allocated by mmn_mmgrab(); see mm.h) with
 * -EINVAL, exactly as it refuses a NULL one.
 */
#ifndef MMNSIM_FAULT_H
#define MMNSIM_FAULT_H

#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;

/** Fault flags (FAULT_FLAG_*). */
#define MMN_FAULT_WRITE 0x1   /**< the faulting access is a store */

/**
 * mmn_handle_mm_fault() - handle_mm_fault(): resolve a fault at @p addr.
 *
 * Caller holds mmap_lock (read or write). Allocates before taking the PTL;
 * if the entry changed meanwhile the work is undone and 0 returned (the
 * access is simply retried, as in the kernel). A COW copy is notified as in
 * wp_page_copy(): one MMN_NOTIFY_CLEAR range over the page around the
 * replacement of the entry (with ->change_pte() in profiles before 6.10).
 * @return 0; -EINVAL for NULL @p mm or unknown @p flags; -EFAULT outside any
 *         VMA; -EACCES when the VMA does not allow the access; -ENOMEM when
 *         no frame is left.
 */
MMN_API int mmn_handle_mm_fault(struct mmn_mm *mm, unsigned long addr, unsigned int flags);

/** Flags of mmn_get_user_pages() (FOLL_*). */
#define MMN_FOLL_WRITE 0x1    /**< the page will be written: break COW first */

/**
 * mmn_get_user_pages() - pin_user_pages_unlocked() for one page: fault
 * @p addr in (as a write with MMN_FOLL_WRITE), take a reference and a pin on
 * its frame, and report the frame and generation. Takes mmap_lock for read.
 * @param mm    the address space
 * @param addr  the user address whose page is pinned
 * @param foll  0 for a read pin, MMN_FOLL_WRITE for a write pin
 * @param pfn   receives the frame of @p addr (the subpage of a huge page)
 * @param gen   receives its generation (may be NULL)
 * @return 0; errors as mmn_handle_mm_fault(), and -EINVAL for a NULL @p pfn
 *         or unknown @p foll bits; -EAGAIN when 1000 faults in a row did not
 *         make the page accessible (as mmn_cpu_read()).
 *
 * A read pin of a private, non-hugetlb page that was never written finds the
 * shared zero page: the frame reported is then MMN_ZERO_PFN, and neither a reference nor
 * a pin is taken (mmn_unpin_user_page() of it is a no-op).
 */
MMN_API int mmn_get_user_pages(struct mmn_mm *mm, unsigned long addr, unsigned int foll,
			       unsigned long *pfn, uint32_t *gen);

/**
 * mmn_unpin_user_page() - unpin_user_page(): drop the pin and the reference
 * taken by mmn_get_user_pages() (the frame may be freed).
 * @return 0, -EINVAL out of range or not pinned (reported as accounting).
 */
MMN_API int mmn_unpin_user_page(struct mmn_sim *sim, unsigned long pfn);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_FAULT_H */
