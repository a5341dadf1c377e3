/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/errno.h>. The
 * host's values (the kernel's uapi <asm/errno.h>, which the C library's
 * <errno.h> reaches through <linux/errno.h>: this file), plus the
 * kernel-only ones. */
#ifndef MMNSIM_COMPAT_LINUX_ERRNO_H
#define MMNSIM_COMPAT_LINUX_ERRNO_H

#include <asm/errno.h>
#include <errno.h>

#define ERESTARTSYS 512
#define ENOTSUPP 524

#endif
