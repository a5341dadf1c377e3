/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/kernel.h>. */
#ifndef MMNSIM_COMPAT_LINUX_KERNEL_H
#define MMNSIM_COMPAT_LINUX_KERNEL_H

#include <linux/bug.h>
#include <linux/compiler.h>
#include <linux/errno.h>
#include <linux/types.h>
#include <mmnsim/sched.h>
#include <mmnsim/sync.h>
#include <stddef.h>

#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min_t(t, a, b) ((t)(a) < (t)(b) ? (t)(a) : (t)(b))
#define max_t(t, a, b) ((t)(a) > (t)(b) ? (t)(a) : (t)(b))
#define ULONG_MAX (~0UL)

/* might_sleep(): reported (MMN_VIOL_SLEEP_IN_ATOMIC) inside a spinlock, an
 * RCU read side or a non-blockable notifier callback. */
#define might_sleep() mmn_might_sleep(mmn_sim_current())
#define cond_resched() mmn_sched_yield(mmn_sim_current(), NULL, "cond_resched")

#define synchronize_rcu() MMNSIM_COMPAT_MISSING(synchronize_rcu)
#define call_rcu(head, fn) MMNSIM_COMPAT_MISSING(call_rcu)

#endif
