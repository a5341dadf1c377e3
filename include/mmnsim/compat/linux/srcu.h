/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/srcu.h>. A
 * struct srcu_struct is an SRCU domain of the calling actor's simulation
 * (read sides, synchronize_srcu(), a wait inside its own read side
 * reported). */
#ifndef MMNSIM_COMPAT_LINUX_SRCU_H
#define MMNSIM_COMPAT_LINUX_SRCU_H

#include <linux/rcupdate.h>
#include <mmnsim/compat.h>

struct srcu_struct {
	struct mmn_compat_lock c;
};

#define DEFINE_SRCU(x) struct srcu_struct x = { .c = MMN_COMPAT_LOCK_INIT(MMN_COMPAT_SRCU, #x) }
#define DEFINE_STATIC_SRCU(x) static DEFINE_SRCU(x)

static inline int init_srcu_struct(struct srcu_struct *s)
{
	mmn_compat_lock_init(&s->c, MMN_COMPAT_SRCU, NULL, "srcu");
	return 0;
}

static inline void cleanup_srcu_struct(struct srcu_struct *s)
{
	mmn_compat_lock_destroy(&s->c);
}

static inline int srcu_read_lock(struct srcu_struct *s)
{
	struct mmn_srcu *x = (struct mmn_srcu *)mmn_compat_lock_get(&s->c);

	return x ? mmn_srcu_read_lock(x) : 0;
}

static inline void srcu_read_unlock(struct srcu_struct *s, int idx)
{
	struct mmn_srcu *x = (struct mmn_srcu *)mmn_compat_lock_get(&s->c);

	if (x)
		mmn_srcu_read_unlock(x, idx);
}

static inline void synchronize_srcu(struct srcu_struct *s)
{
	struct mmn_srcu *x = (struct mmn_srcu *)mmn_compat_lock_get(&s->c);

	if (x)
		mmn_synchronize_srcu(x);
}

#define srcu_dereference(p, s) rcu_dereference(p)

#endif
