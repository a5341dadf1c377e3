/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/mm_types.h>.
 * struct mm_struct is the simulation's address space (struct mmn_mm, opaque:
 * its fields are read through the functions of <linux/mm.h> and
 * <linux/sched/mm.h>). struct vm_area_struct is not provided. */
#ifndef MMNSIM_COMPAT_LINUX_MM_TYPES_H
#define MMNSIM_COMPAT_LINUX_MM_TYPES_H

#include <linux/types.h>
#include <mmnsim/mm.h>
#include <mmnsim/page.h>

#define mm_struct mmn_mm

#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) (((x) + PAGE_SIZE - 1) & PAGE_MASK)

#endif
