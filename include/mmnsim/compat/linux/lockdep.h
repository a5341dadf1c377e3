/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/lockdep.h>.
 * lockdep_assert_held() takes any lock of this tree (spinlock_t, struct
 * mutex, struct rw_semaphore): reported (MMN_VIOL_PROTOCOL) when the calling
 * actor does not hold it, silent with lockdep off; never a scheduling point.
 * For mmap_lock use mmap_assert_locked() (<linux/mmap_lock.h>). */
#ifndef MMNSIM_COMPAT_LINUX_LOCKDEP_H
#define MMNSIM_COMPAT_LINUX_LOCKDEP_H

#include <mmnsim/compat.h>
#include <mmnsim/sync.h>

#define lockdep_assert_held(l) mmn_lockdep_assert_held(mmn_compat_lock_get(&(l)->c), #l)
#define lockdep_assert_held_write(l) lockdep_assert_held(l)
#define lockdep_assert_held_read(l) lockdep_assert_held(l)
#define lockdep_is_held(l) (mmn_lockdep_is_held(mmn_compat_lock_get(&(l)->c)) == 1)

#endif
