/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/types.h>. */
#ifndef MMNSIM_COMPAT_LINUX_TYPES_H
#define MMNSIM_COMPAT_LINUX_TYPES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int8_t s8;
typedef int16_t s16;
typedef int32_t s32;
typedef int64_t s64;
typedef unsigned int gfp_t;
typedef u64 gfn_t;
typedef u64 gpa_t;
typedef unsigned long hva_t;
typedef u64 kvm_pfn_t;

#endif
