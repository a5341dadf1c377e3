/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/hmm.h> as in
 * 6.x (the mapping order since 5.9): struct hmm_range, hmm_range_fault() (the
 * simulation's mmn_hmm_range_fault(), include/mmnsim/hmm_range.h) and the pfn
 * flags.
 * There is no struct page: hmm_pfn_to_page() is not provided; the frame is
 * hmm_pfn & ~HMM_PFN_FLAGS. The model's optional extension fields of the
 * range (gens: the generation of each frame, for device accesses through
 * <linux/sim_device.h>) may be left zero. */
#ifndef MMNSIM_COMPAT_LINUX_HMM_H
#define MMNSIM_COMPAT_LINUX_HMM_H

#include <linux/kernel.h>
#include <linux/mmu_notifier.h>
#include <mmnsim/hmm_range.h>

#define hmm_range mmn_hmm_range

#define HMM_PFN_VALID MMN_HMM_PFN_VALID
#define HMM_PFN_WRITE MMN_HMM_PFN_WRITE
#define HMM_PFN_ERROR MMN_HMM_PFN_ERROR
#define HMM_PFN_ORDER_SHIFT MMN_HMM_PFN_ORDER_SHIFT
#define HMM_PFN_REQ_FAULT MMN_HMM_PFN_REQ_FAULT
#define HMM_PFN_REQ_WRITE MMN_HMM_PFN_REQ_WRITE
#define HMM_PFN_FLAGS MMN_HMM_PFN_FLAGS

/* The kernel's default for a driver's fault loop, in ms (<linux/jiffies.h>). */
#define HMM_RANGE_DEFAULT_TIMEOUT 1000

static inline int hmm_range_fault(struct hmm_range *range)
{
	return mmn_hmm_range_fault(range);
}

static inline unsigned int hmm_pfn_to_map_order(unsigned long hmm_pfn)
{
	return mmn_hmm_pfn_to_map_order(hmm_pfn);
}

#define hmm_pfn_to_page(hmm_pfn) MMNSIM_COMPAT_MISSING(hmm_pfn_to_page)

#endif
