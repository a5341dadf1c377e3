/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/sched/mm.h>:
 * the mm's reference counts. */
#ifndef MMNSIM_COMPAT_LINUX_SCHED_MM_H
#define MMNSIM_COMPAT_LINUX_SCHED_MM_H

#include <linux/mm_types.h>
#include <stdbool.h>

static inline bool mmget_not_zero(struct mm_struct *mm)
{
	return mmn_mm_get_not_zero(mm);
}

static inline void mmget(struct mm_struct *mm)
{
	mmn_mm_get(mm);
}

static inline void mmput(struct mm_struct *mm)
{
	mmn_mm_put(mm);
}

static inline void mmgrab(struct mm_struct *mm)
{
	mmn_mmgrab(mm);
}

static inline void mmdrop(struct mm_struct *mm)
{
	mmn_mmdrop(mm);
}

#endif
