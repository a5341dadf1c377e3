/* SPDX-License-Identifier: MIT */
/* Device memory internals (device.c, migrate_vma.c, exclusive.c). */
#ifndef MMN_LIB_OPS_DEVICE_INTERNAL_H
#define MMN_LIB_OPS_DEVICE_INTERNAL_H

#include <mmnsim/device.h>

#include "ops/ops_internal.h"

/* migrate_vma over [start, end) of @vma (mmap_lock held for read).
 * @to_device: SELECT_SYSTEM to @pgmap, else SELECT_DEVICE_PRIVATE of @pgmap
 * to system pages. @fault_pfn: the device page the caller already locked
 * (the fault path), or 0. @out[i]: the pfn now mapped, or 0. 0 or -ENOMEM
 * (a destination could not be allocated). */
int mmn__mvma_run(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long start, unsigned long end,
	     struct mmn_dev_pagemap *pgmap, bool to_device, unsigned long fault_pfn,
	     unsigned long *out);

/* remove_device_exclusive_entry() (exclusive.c), from the fault path. */
int mmn__devx_restore_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
		       unsigned int idx, unsigned long addr, mmn_pte_t orig);

#endif /* MMN_LIB_OPS_DEVICE_INTERNAL_H */
