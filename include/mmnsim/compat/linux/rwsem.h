/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/rwsem.h>. */
#ifndef MMNSIM_COMPAT_LINUX_RWSEM_H
#define MMNSIM_COMPAT_LINUX_RWSEM_H

#include <linux/kernel.h>
#include <linux/lockdep.h>
#include <mmnsim/compat.h>

struct rw_semaphore {
	struct mmn_compat_lock c;
};

#define __RWSEM_INITIALIZER(x) { .c = MMN_COMPAT_LOCK_INIT(MMN_COMPAT_RWSEM, #x) }
#define DECLARE_RWSEM(x) struct rw_semaphore x = __RWSEM_INITIALIZER(x)

#define init_rwsem(s)                                                                      \
	do {                                                                               \
		static const struct mmn_lock_class __mmn_key = { .name = #s };             \
		mmn_compat_lock_init(&(s)->c, MMN_COMPAT_RWSEM, &__mmn_key, #s);            \
	} while (0)

static inline struct mmn_rwsem *__mmn_rwsem(struct rw_semaphore *s)
{
	return (struct mmn_rwsem *)mmn_compat_lock_get(&s->c);
}

#define __MMN_RWSEM_OP(name, fn)                                                           \
	static inline void name(struct rw_semaphore *s)                                    \
	{                                                                                  \
		struct mmn_rwsem *r = __mmn_rwsem(s);                                      \
		if (r)                                                                     \
			fn(r);                                                             \
	}
__MMN_RWSEM_OP(down_read, mmn_down_read)
__MMN_RWSEM_OP(up_read, mmn_up_read)
__MMN_RWSEM_OP(down_write, mmn_down_write)
__MMN_RWSEM_OP(up_write, mmn_up_write)
__MMN_RWSEM_OP(downgrade_write, mmn_downgrade_write)
#undef __MMN_RWSEM_OP

static inline int down_read_trylock(struct rw_semaphore *s)
{
	struct mmn_rwsem *r = __mmn_rwsem(s);

	return r ? mmn_down_read_trylock(r) : 0;
}

static inline int down_write_trylock(struct rw_semaphore *s)
{
	struct mmn_rwsem *r = __mmn_rwsem(s);

	return r ? mmn_down_write_trylock(r) : 0;
}

#endif
