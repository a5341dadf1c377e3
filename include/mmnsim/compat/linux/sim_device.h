/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): the simulator's own
 * additions for a device driver, with no counterpart in the kernel (a real
 * device's DMA needs no call): a device access through a translation the
 * driver holds, checked by the coherence oracle with the generation its
 * hmm_range_fault() read (range.gens), and the registration of the
 * driver's translations with the quiescent audit. */
#ifndef MMNSIM_COMPAT_LINUX_SIM_DEVICE_H
#define MMNSIM_COMPAT_LINUX_SIM_DEVICE_H

#include <linux/mm_types.h>
#include <mmnsim/check.h>
#include <mmnsim/fault.h>
#include <mmnsim/page.h>

#define sim_translation mmn_secondary_entry
#define sim_emit_fn mmn_secondary_emit_fn

/* A device load (!write) or store of the page's word through frame @pfn of
 * generation @gen at @addr: a use-after-free when the frame was freed since. */
static inline int sim_device_access(struct mm_struct *mm, unsigned long pfn, u32 gen,
				    unsigned long addr, bool write, u64 *val)
{
	return mmn_phys_access(mmn_mm_sim(mm), pfn, gen, addr, write, val);
}

/* hva_to_pfn(): fault the page at @addr in (for write: COW broken) and pin
 * it; its frame and generation. Takes mmap_lock for read. */
static inline int sim_get_user_page(struct mm_struct *mm, unsigned long addr, bool write,
				    unsigned long *pfn, u32 *gen)
{
	return mmn_get_user_pages(mm, addr, write ? MMN_FOLL_WRITE : 0, pfn, gen);
}

/* kvm_release_pfn_clean(): drop that pin. */
static inline void sim_put_user_page(struct mm_struct *mm, unsigned long pfn)
{
	(void)mmn_unpin_user_page(mmn_mm_sim(mm), pfn);
}

static inline int sim_register_translations(struct mm_struct *mm, const char *name,
					    void (*iter)(void *ctx, sim_emit_fn emit, void *cookie),
					    void *ctx)
{
	return mmn_check_register_secondary(mmn_mm_sim(mm), name, iter, ctx);
}

static inline void sim_unregister_translations(struct mm_struct *mm, void *ctx)
{
	(void)mmn_check_unregister_secondary(mmn_mm_sim(mm), ctx);
}

#endif
