/* SPDX-License-Identifier: MIT */
/*
 * The SRCU read side of the sync layer's fast path, inline, for the other
 * modules of the library (lib/notifier's dispatch). It is exactly what
 * mmn_srcu_read_lock() and mmn_srcu_read_unlock() do when the sync layer's
 * slow flag is clear (lockdep off, no scheduling hook, the native backend):
 * register the thread with liburcu on its first section, then liburcu's
 * inline read side. A caller uses it only for a section it begins and ends
 * in one copy of its code that decided, once, that the flag was clear; lock
 * and unlock then always pair up, even if the flag is set meanwhile (the
 * next section takes the library's slow path). The liburcu calls stay in
 * this layer: code above lib/sync includes this header, never liburcu.
 *
 * Under ThreadSanitizer the library's read side carries the happens-before
 * annotations (lib/sync/srcu.c), so these are the library calls there.
 */
#ifndef MMN_LIB_SYNC_SRCU_FAST_H
#define MMN_LIB_SYNC_SRCU_FAST_H

#include <mmnsim/sync.h>

#if defined(__SANITIZE_THREAD__)
#define MMN__SRCU_FAST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMN__SRCU_FAST_TSAN 1
#endif
#endif

/* lib/sync/srcu.c: register the calling thread with liburcu (first section). */
void mmn__srcu_register_thread(void);

#if !defined(MMN__SRCU_FAST_TSAN) && defined(_LGPL_SOURCE)
#include <urcu/urcu-memb.h>

/*
 * liburcu's per-thread reader state lives in static TLS whenever libmmnsim
 * does (this layer's own TLS is initial-exec already, and liburcu-memb is a
 * dependency loaded with us). Saying so lets the read side address it
 * directly instead of through __tls_get_addr() in the shared object.
 */
extern URCU_TLS_STORAGE_CLASS struct urcu_reader urcu_memb_reader
	__attribute__((tls_model("initial-exec")));

/* mmn_srcu_read_lock(@ss) with the slow flag clear; returns its index (0). */
static inline int mmn__srcu_read_lock_fast(struct mmn_srcu *ss)
{
	(void)ss;
	if (__builtin_expect(!URCU_TLS(urcu_memb_reader).registered, 0))
		mmn__srcu_register_thread();
	urcu_memb_read_lock();
	return 0;
}

/*
 * mmn_srcu_read_unlock(@ss, @idx) with the slow flag clear, of a section
 * that mmn__srcu_read_lock_fast() began in the same function. The library's
 * unlock first tests that a section is open, so that an unbalanced unlock of
 * the research code cannot corrupt liburcu's nesting count; here the pairing
 * holds by construction and the test is left out.
 */
static inline void mmn__srcu_read_unlock_fast(struct mmn_srcu *ss, int idx)
{
	(void)ss;
	(void)idx;
	urcu_memb_read_unlock();
}
#else
static inline int mmn__srcu_read_lock_fast(struct mmn_srcu *ss)
{
	return mmn_srcu_read_lock(ss);
}

static inline void mmn__srcu_read_unlock_fast(struct mmn_srcu *ss, int idx)
{
	mmn_srcu_read_unlock(ss, idx);
}
#endif

#endif /* MMN_LIB_SYNC_SRCU_FAST_H */
