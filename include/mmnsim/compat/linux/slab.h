/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/slab.h>. Host
 * allocations; a GFP_KERNEL allocation may sleep (might_sleep(), so one made
 * under a spinlock is reported), GFP_NOWAIT/GFP_ATOMIC ones do not. */
#ifndef MMNSIM_COMPAT_LINUX_SLAB_H
#define MMNSIM_COMPAT_LINUX_SLAB_H

#include <linux/kernel.h>
#include <stdlib.h>

#define __GFP_DIRECT_RECLAIM 0x400u
#define __GFP_ZERO 0x100u
#define GFP_KERNEL (__GFP_DIRECT_RECLAIM)
#define GFP_NOWAIT 0u
#define GFP_ATOMIC 0u

static inline void *kmalloc(size_t size, gfp_t gfp)
{
	if (gfp & __GFP_DIRECT_RECLAIM)
		might_sleep();
	return (gfp & __GFP_ZERO) ? calloc(1, size) : malloc(size);
}

static inline void *kzalloc(size_t size, gfp_t gfp)
{
	return kmalloc(size, gfp | __GFP_ZERO);
}

static inline void *kmalloc_array(size_t n, size_t size, gfp_t gfp)
{
	if (size && n > (size_t)-1 / size)
		return NULL;
	return kmalloc(n * size, gfp);
}

static inline void *kcalloc(size_t n, size_t size, gfp_t gfp)
{
	return kmalloc_array(n, size, gfp | __GFP_ZERO);
}

static inline void kfree(const void *p)
{
	free((void *)(uintptr_t)p);
}

#define kvmalloc(size, gfp) kmalloc(size, gfp)
#define kvzalloc(size, gfp) kzalloc(size, gfp)
#define kvcalloc(n, size, gfp) kcalloc(n, size, gfp)
#define kvfree(p) kfree(p)

#endif
