/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/spinlock.h>.
 * A spinlock_t is a modelled spinlock of the calling actor's simulation
 * (lockdep, scheduling points, sleeping inside it reported); its class is
 * its initialiser's: DEFINE_SPINLOCK()'s object, or spin_lock_init()'s call
 * site. The _irq/_irqsave variants are the plain ones (no interrupts). */
#ifndef MMNSIM_COMPAT_LINUX_SPINLOCK_H
#define MMNSIM_COMPAT_LINUX_SPINLOCK_H

#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <mmnsim/compat.h>

typedef struct {
	struct mmn_compat_lock c;
} spinlock_t;

#define __SPIN_LOCK_UNLOCKED(x) { .c = MMN_COMPAT_LOCK_INIT(MMN_COMPAT_SPINLOCK, #x) }
#define DEFINE_SPINLOCK(x) spinlock_t x = __SPIN_LOCK_UNLOCKED(x)

#define spin_lock_init(l)                                                                  \
	do {                                                                               \
		static const struct mmn_lock_class __mmn_key = { .name = #l };             \
		mmn_compat_lock_init(&(l)->c, MMN_COMPAT_SPINLOCK, &__mmn_key, #l);         \
	} while (0)

static inline struct mmn_spinlock *__mmn_spin(spinlock_t *l)
{
	return (struct mmn_spinlock *)mmn_compat_lock_get(&l->c);
}

static inline void spin_lock(spinlock_t *l)
{
	struct mmn_spinlock *s = __mmn_spin(l);

	if (s)
		mmn_spin_lock(s);
}

static inline void spin_lock_nested(spinlock_t *l, unsigned int subclass)
{
	struct mmn_spinlock *s = __mmn_spin(l);

	if (s)
		mmn_spin_lock_nested(s, subclass);
}

static inline int spin_trylock(spinlock_t *l)
{
	struct mmn_spinlock *s = __mmn_spin(l);

	return s ? mmn_spin_trylock(s) : 0;
}

static inline void spin_unlock(spinlock_t *l)
{
	struct mmn_spinlock *s = __mmn_spin(l);

	if (s)
		mmn_spin_unlock(s);
}

static inline int spin_is_locked(spinlock_t *l)
{
	struct mmn_spinlock *s = __mmn_spin(l);

	return s ? mmn_spin_is_locked(s) : 0;
}

#define spin_lock_irq(l) spin_lock(l)
#define spin_unlock_irq(l) spin_unlock(l)
#define spin_lock_bh(l) spin_lock(l)
#define spin_unlock_bh(l) spin_unlock(l)
#define spin_lock_irqsave(l, flags) ((void)(flags = 0), spin_lock(l))
#define spin_unlock_irqrestore(l, flags) ((void)(flags), spin_unlock(l))

#define assert_spin_locked(l) lockdep_assert_held(l)

#endif
