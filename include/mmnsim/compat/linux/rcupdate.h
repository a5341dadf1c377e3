/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/rcupdate.h>,
 * the read side. An RCU read-side section is a section that must not sleep
 * (mmn_non_block_start()/_end()): a sleeping call inside is reported. There
 * is no RCU grace period in the model: synchronize_rcu(), call_rcu() and
 * kfree_rcu() are compile errors; use SRCU (<linux/srcu.h>). */
#ifndef MMNSIM_COMPAT_LINUX_RCUPDATE_H
#define MMNSIM_COMPAT_LINUX_RCUPDATE_H

#include <linux/compiler.h>
#include <linux/kernel.h>
#include <mmnsim/sync.h>

#define rcu_read_lock() mmn_non_block_start(mmn_sim_current())
#define rcu_read_unlock() mmn_non_block_end(mmn_sim_current())
#define rcu_dereference(p) __atomic_load_n(&(p), __ATOMIC_CONSUME)
#define rcu_access_pointer(p) __atomic_load_n(&(p), __ATOMIC_RELAXED)
#define rcu_assign_pointer(p, v) __atomic_store_n(&(p), (v), __ATOMIC_RELEASE)
#define kfree_rcu(p, f) MMNSIM_COMPAT_MISSING(kfree_rcu)

#endif
