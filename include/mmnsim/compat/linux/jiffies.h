/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/jiffies.h> on
 * the modelled clock (docs/clock.md) of the calling actor's simulation, at
 * HZ = 1000: deterministic runs stay deterministic. */
#ifndef MMNSIM_COMPAT_LINUX_JIFFIES_H
#define MMNSIM_COMPAT_LINUX_JIFFIES_H

#include <linux/kernel.h>
#include <mmnsim/clock.h>

#define HZ 1000
#define jiffies ((unsigned long)(mmn_clock_now(mmn_sim_current()) / 1000000u))
#define msecs_to_jiffies(ms) ((unsigned long)(ms))
#define time_after(a, b) ((long)((b) - (a)) < 0)
#define time_before(a, b) time_after(b, a)

#endif
