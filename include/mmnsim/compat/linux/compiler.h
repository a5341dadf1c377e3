/* SPDX-License-Identifier: MIT */
/* mmnsim kernel-compatibility layer (docs/compat.md): <linux/compiler.h>. */
#ifndef MMNSIM_COMPAT_LINUX_COMPILER_H
#define MMNSIM_COMPAT_LINUX_COMPILER_H

/* READ_ONCE/WRITE_ONCE: one untorn access (relaxed atomics, which
 * ThreadSanitizer understands). ThreadSanitizer does not model standalone
 * fences (GCC refuses them under -fsanitize=thread): there the barriers are
 * compiler barriers and READ_ONCE/WRITE_ONCE acquire/release, which orders
 * at least what the fences would between such accesses. */
#define smp_load_acquire(p) __atomic_load_n((p), __ATOMIC_ACQUIRE)
#define smp_store_release(p, v) __atomic_store_n((p), (v), __ATOMIC_RELEASE)
#ifdef __SANITIZE_THREAD__
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_ACQUIRE)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELEASE)
#define smp_mb() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#define smp_wmb() __atomic_signal_fence(__ATOMIC_SEQ_CST)
#else
#define READ_ONCE(x) __atomic_load_n(&(x), __ATOMIC_RELAXED)
#define WRITE_ONCE(x, v) __atomic_store_n(&(x), (v), __ATOMIC_RELAXED)
#define smp_mb() __atomic_thread_fence(__ATOMIC_SEQ_CST)
#define smp_rmb() __atomic_thread_fence(__ATOMIC_ACQUIRE)
#define smp_wmb() __atomic_thread_fence(__ATOMIC_RELEASE)
#endif
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define __must_check __attribute__((warn_unused_result))
#define __maybe_unused __attribute__((unused))

/* A symbol the layer does not provide, used as an expression: a compile
 * error that names it (never a silent stub). */
#define MMNSIM_COMPAT_MISSING(sym)                                                         \
	({                                                                                 \
		_Static_assert(0, "mmnsim compat: " #sym " is not provided (docs/compat.md)"); \
		0;                                                                         \
	})

#endif
