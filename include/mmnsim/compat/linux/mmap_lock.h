/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/mmap_lock.h>. */
#ifndef MMNSIM_COMPAT_LINUX_MMAP_LOCK_H
#define MMNSIM_COMPAT_LINUX_MMAP_LOCK_H

#include <linux/mm_types.h>
#include <stdbool.h>

static inline void mmap_read_lock(struct mm_struct *mm)
{
	mmn_mmap_read_lock(mm);
}

static inline bool mmap_read_trylock(struct mm_struct *mm)
{
	return mmn_mmap_read_trylock(mm);
}

static inline void mmap_read_unlock(struct mm_struct *mm)
{
	mmn_mmap_read_unlock(mm);
}

static inline void mmap_write_lock(struct mm_struct *mm)
{
	mmn_mmap_write_lock(mm);
}

static inline void mmap_write_unlock(struct mm_struct *mm)
{
	mmn_mmap_write_unlock(mm);
}

static inline void mmap_write_downgrade(struct mm_struct *mm)
{
	mmn_mmap_write_downgrade(mm);
}

static inline void mmap_assert_locked(struct mm_struct *mm)
{
	mmn_mmap_assert_locked(mm);
}

#endif
