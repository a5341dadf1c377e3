/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/mm.h>, the part
 * a notifier listener uses. Not provided (compile errors naming them): the
 * VMA API (find_vma(), vma_lookup(): the model keeps its VMAs private),
 * get_user_pages() and struct page. */
#ifndef MMNSIM_COMPAT_LINUX_MM_H
#define MMNSIM_COMPAT_LINUX_MM_H

#include <linux/kernel.h>
#include <linux/mm_types.h>
#include <linux/mmap_lock.h>
#include <linux/sched/mm.h>

#define find_vma(mm, addr) MMNSIM_COMPAT_MISSING(find_vma)
#define vma_lookup(mm, addr) MMNSIM_COMPAT_MISSING(vma_lookup)
#define get_user_pages(...) MMNSIM_COMPAT_MISSING(get_user_pages)
#define pin_user_pages(...) MMNSIM_COMPAT_MISSING(pin_user_pages)

#endif
