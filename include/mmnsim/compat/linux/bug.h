/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/bug.h>. A WARN
 * is a finding of the calling actor's simulation (MMN_VIOL_PROTOCOL naming
 * the file, line and condition); the code goes on, as after a kernel WARN.
 * BUG()/BUG_ON() are not provided: a simulator does not crash on purpose. */
#ifndef MMNSIM_COMPAT_LINUX_BUG_H
#define MMNSIM_COMPAT_LINUX_BUG_H

#include <linux/compiler.h>
#include <mmnsim/compat.h>
#include <stdbool.h>

#define WARN_ON(cond)                                                                      \
	({                                                                                 \
		bool __mmn_c = !!(cond);                                                   \
		if (unlikely(__mmn_c))                                                     \
			mmn_compat_warn(__FILE__, __LINE__, #cond);                        \
		__mmn_c;                                                                   \
	})

/* Once per call site and simulation (the kernel: once per boot). */
#define WARN_ON_ONCE(cond)                                                                 \
	({                                                                                 \
		static unsigned long __mmn_warned;                                         \
		bool __mmn_c = !!(cond);                                                   \
		unsigned long __mmn_s = mmn_sim_serial(mmn_sim_current());                 \
		if (unlikely(__mmn_c) &&                                                   \
		    __atomic_exchange_n(&__mmn_warned, __mmn_s, __ATOMIC_RELAXED) != __mmn_s) \
			mmn_compat_warn(__FILE__, __LINE__, #cond);                        \
		__mmn_c;                                                                   \
	})

#define WARN(cond, ...) WARN_ON(cond)
#define WARN_ONCE(cond, ...) WARN_ON_ONCE(cond)
#define BUG() MMNSIM_COMPAT_MISSING(BUG)
#define BUG_ON(cond) MMNSIM_COMPAT_MISSING(BUG_ON)
#define VM_BUG_ON(cond) MMNSIM_COMPAT_MISSING(VM_BUG_ON)

#endif
