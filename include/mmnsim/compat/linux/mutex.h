/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/mutex.h>. A
 * struct mutex is a modelled mutex of the calling actor's simulation; its
 * class is its initialiser's (DEFINE_MUTEX()'s object, mutex_init()'s call
 * site). */
#ifndef MMNSIM_COMPAT_LINUX_MUTEX_H
#define MMNSIM_COMPAT_LINUX_MUTEX_H

#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <mmnsim/compat.h>

struct mutex {
	struct mmn_compat_lock c;
};

#define __MUTEX_INITIALIZER(x) { .c = MMN_COMPAT_LOCK_INIT(MMN_COMPAT_MUTEX, #x) }
#define DEFINE_MUTEX(x) struct mutex x = __MUTEX_INITIALIZER(x)

#define mutex_init(m)                                                                      \
	do {                                                                               \
		static const struct mmn_lock_class __mmn_key = { .name = #m };             \
		mmn_compat_lock_init(&(m)->c, MMN_COMPAT_MUTEX, &__mmn_key, #m);            \
	} while (0)

static inline struct mmn_mutex *__mmn_mutex(struct mutex *m)
{
	return (struct mmn_mutex *)mmn_compat_lock_get(&m->c);
}

static inline void mutex_lock(struct mutex *m)
{
	struct mmn_mutex *x = __mmn_mutex(m);

	if (x)
		mmn_mutex_lock(x);
}

static inline void mutex_lock_nested(struct mutex *m, unsigned int subclass)
{
	struct mmn_mutex *x = __mmn_mutex(m);

	if (x)
		mmn_mutex_lock_nested(x, subclass);
}

static inline int mutex_trylock(struct mutex *m)
{
	struct mmn_mutex *x = __mmn_mutex(m);

	return x ? mmn_mutex_trylock(x) : 0;
}

static inline void mutex_unlock(struct mutex *m)
{
	struct mmn_mutex *x = __mmn_mutex(m);

	if (x)
		mmn_mutex_unlock(x);
}

static inline bool mutex_is_locked(struct mutex *m)
{
	struct mmn_mutex *x = __mmn_mutex(m);

	return x && mmn_mutex_is_locked(x);
}

static inline void mutex_destroy(struct mutex *m)
{
	mmn_compat_lock_destroy(&m->c);
}

#define mutex_lock_interruptible(m) (mutex_lock(m), 0)
#define mutex_lock_killable(m) (mutex_lock(m), 0)

#endif
