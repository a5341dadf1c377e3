/* SPDX-License-Identifier: MIT */
/* The kernel-style mirror of dmirror_compat.c: its interface, in kernel
 * types (docs/compat.md). */
#ifndef DMIRROR_COMPAT_H
#define DMIRROR_COMPAT_H

#include <linux/mm_types.h>
#include <linux/types.h>

struct dmirror;

/* The wrong variant: program the device without mmu_interval_read_retry(). */
#define DMIRROR_NO_READ_RETRY 0x1u

/* Returns the mirror or an ERR_PTR(). */
struct dmirror *dmirror_create(struct mm_struct *mm, unsigned long start, unsigned long npages,
			       unsigned int flags);
void dmirror_destroy(struct dmirror *dmirror);
int dmirror_read(struct dmirror *dmirror, unsigned long addr, u64 *val);
int dmirror_write(struct dmirror *dmirror, unsigned long addr, u64 val);
bool dmirror_has_read_retry(const struct dmirror *dmirror);
unsigned long dmirror_invalidations(struct dmirror *dmirror);

#endif
