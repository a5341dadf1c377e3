/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/mmu_notifier.h>
 * with the 5.x-6.x interface: struct mmu_notifier_ops / mmu_notifier /
 * mmu_notifier_range (mm, start, end, flags, event, owner) /
 * mmu_interval_notifier(_ops), the events, register/unregister/get/put,
 * the interval notifier and its sequence helpers. The structures are the
 * simulation's (the kernel's names are macros for them), so callbacks have
 * the kernel's signatures and fields the kernel's names. */
#ifndef MMNSIM_COMPAT_LINUX_MMU_NOTIFIER_H
#define MMNSIM_COMPAT_LINUX_MMU_NOTIFIER_H

#include <linux/err.h>
#include <linux/errno.h>
#include <linux/mm_types.h>
#include <linux/mmap_lock.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/sync.h>
#include <stdbool.h>

#define mmu_notifier mmn_notifier
#define mmu_notifier_ops mmn_notifier_ops
#define mmu_notifier_range mmn_notifier_range
#define mmu_interval_notifier mmn_interval_notifier
#define mmu_interval_notifier_ops mmn_interval_notifier_ops
#define mmu_notifier_event mmn_notify_event

#define MMU_NOTIFY_UNMAP MMN_NOTIFY_UNMAP
#define MMU_NOTIFY_CLEAR MMN_NOTIFY_CLEAR
#define MMU_NOTIFY_PROTECTION_VMA MMN_NOTIFY_PROTECTION_VMA
#define MMU_NOTIFY_PROTECTION_PAGE MMN_NOTIFY_PROTECTION_PAGE
#define MMU_NOTIFY_SOFT_DIRTY MMN_NOTIFY_SOFT_DIRTY
#define MMU_NOTIFY_RELEASE MMN_NOTIFY_RELEASE
#define MMU_NOTIFY_MIGRATE MMN_NOTIFY_MIGRATE
#define MMU_NOTIFY_EXCLUSIVE MMN_NOTIFY_EXCLUSIVE
#define MMU_NOTIFIER_RANGE_BLOCKABLE MMN_NOTIFIER_RANGE_BLOCKABLE

static inline int mmu_notifier_register(struct mmu_notifier *sub, struct mm_struct *mm)
{
	return mmn_notifier_register(sub, mm);
}

static inline int __mmu_notifier_register(struct mmu_notifier *sub, struct mm_struct *mm)
{
	return __mmn_notifier_register(sub, mm);
}

static inline void mmu_notifier_unregister(struct mmu_notifier *sub, struct mm_struct *mm)
{
	(void)mmn_notifier_unregister(sub, mm);
}

/* ERR_PTR() on failure, as the kernel's. */
static inline struct mmu_notifier *mmu_notifier_get(const struct mmu_notifier_ops *ops,
						    struct mm_struct *mm)
{
	struct mmu_notifier *sub = mmn_notifier_get(ops, mm);

	return sub ? sub : (struct mmu_notifier *)ERR_PTR(errno ? -errno : -ENOMEM);
}

static inline struct mmu_notifier *mmu_notifier_get_locked(const struct mmu_notifier_ops *ops,
							   struct mm_struct *mm)
{
	struct mmu_notifier *sub = mmn_notifier_get_locked(ops, mm);

	return sub ? sub : (struct mmu_notifier *)ERR_PTR(errno ? -errno : -ENOMEM);
}

static inline void mmu_notifier_put(struct mmu_notifier *sub)
{
	mmn_notifier_put(sub);
}

static inline void mmu_notifier_synchronize(void)
{
	mmn_notifier_synchronize(mmn_sim_current());
}

static inline int mmu_interval_notifier_insert(struct mmu_interval_notifier *sub,
					       struct mm_struct *mm, unsigned long start,
					       unsigned long length,
					       const struct mmu_interval_notifier_ops *ops)
{
	return mmn_interval_notifier_insert(sub, mm, start, length, ops);
}

static inline int mmu_interval_notifier_insert_locked(struct mmu_interval_notifier *sub,
						      struct mm_struct *mm, unsigned long start,
						      unsigned long length,
						      const struct mmu_interval_notifier_ops *ops)
{
	return mmn_interval_notifier_insert_locked(sub, mm, start, length, ops);
}

static inline void mmu_interval_notifier_remove(struct mmu_interval_notifier *sub)
{
	(void)mmn_interval_notifier_remove(sub);
}

static inline unsigned long mmu_interval_read_begin(struct mmu_interval_notifier *sub)
{
	return mmn_interval_read_begin(sub);
}

static inline bool mmu_interval_read_retry(struct mmu_interval_notifier *sub, unsigned long seq)
{
	return mmn_interval_read_retry(sub, seq);
}

static inline bool mmu_interval_check_retry(struct mmu_interval_notifier *sub, unsigned long seq)
{
	return mmn_interval_check_retry(sub, seq);
}

static inline void mmu_interval_set_seq(struct mmu_interval_notifier *sub, unsigned long cur_seq)
{
	mmn_interval_set_seq(sub, cur_seq);
}

static inline bool mmu_notifier_range_blockable(const struct mmu_notifier_range *range)
{
	return mmn_notifier_range_blockable(range);
}

static inline bool mmu_notifier_range_update_to_read_only(const struct mmu_notifier_range *range)
{
	return mmn_notifier_range_update_to_read_only(range);
}

#endif
