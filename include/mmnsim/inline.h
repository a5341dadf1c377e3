/* SPDX-License-Identifier: MIT */
/**
 * @file inline.h
 * @brief The opt-in inline fast path: the TLB-hit read, the SRCU read side and
 *        the notifier dispatch with nobody listening.
 *
 * liburcu inlines its read side into programs that define _LGPL_SOURCE;
 * mmnsim does the same for its two hottest reads. A research program that
 * defines MMN_INLINE_FAST_PATH (and _LGPL_SOURCE, for liburcu's inline read
 * side) before including the headers gets:
 *
 * - mmn_srcu_read_lock() / mmn_srcu_read_unlock() as inline functions: the
 *   lock tests the domain's fast byte (the library keeps it equal to "the
 *   struct is initialised, not destroyed, and the simulation's slow flag is
 *   clear"; lockdep, a scheduling hook or the deterministic backend set the
 *   flag) and liburcu's registration of the thread, in one branch with
 *   liburcu's own outermost-section test, then runs liburcu's inline read
 *   lock and returns an index of its own (MMN__SRCU_IDX_INLINE); the unlock
 *   of that index runs liburcu's inline unlock without testing the byte
 *   again. Whenever the byte is 0 (the flag set, a zeroed or destroyed
 *   struct), the thread is not registered with liburcu yet, or the build is
 *   under ThreadSanitizer, the lock calls the library (which refuses a
 *   zeroed or destroyed struct with -EINVAL) and its index sends the unlock
 *   to the library too, so the results are the library's.
 * - mmn_tlb_read_inline(): a load through a struct mmn_tlb_view (one per mm
 *   and CPU) that hits a 4 KiB TLB entry whose frame generation still
 *   matches; everything else (a miss, a rewrite under way, a stale
 *   generation, a dead mm, an address past the task size) calls
 *   mmn_cpu_read(), which checks again and reports. A hit served inline is
 *   not counted in mmn_stats.tlb_hits.
 * - mmn_notifier_invalidate_range_start_inline() / _end_inline(): the
 *   kernel's inline mmu_notifier_invalidate_range_start()/end(), which test
 *   mm_has_notifiers() and return: through a struct mmn_notifier_view (one
 *   per mm), they test what the kernel tests and the simulation's slow flag
 *   (no subscription struct on the mm, the flag clear) and return at once,
 *   marking the range as the library's fast path does; otherwise they call
 *   the library. Unlike the library's fast path they neither check the
 *   range nor count the dispatch (mmn_notifier_fast_stats()).
 *
 * Without the macro nothing here is inline: the ABI stays opaque, and
 * mmn_tlb_view_init() and mmn_notifier_view_init() are ordinary exported
 * functions. The layouts this
 * header reads (struct mmn_tlb_view, struct mmn_notifier_view, the private
 * tail of struct mmn_srcu, and through them a TLB slot, a frame's struct and
 * an mm's TLB tag) are a contract with the library of the same version only: a
 * program built with the macro must run against the library it was built
 * with (MMN_VERSION).
 */
#ifndef MMNSIM_INLINE_H
#define MMNSIM_INLINE_H

#include <stddef.h>
#include <stdint.h>

#include <mmnsim/export.h>
#include <mmnsim/mm.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/pgtable.h>
#include <mmnsim/sync.h>

#ifdef __cplusplus
extern "C" {
#endif

/** @cond MMN_PRIVATE */
/* The layouts the inline TLB read uses (checked by lib/mm/tlb.c): a TLB
 * slot is 1 << MMN__TLB_SLOT_SHIFT bytes, tag at 0, the frame's struct at
 * MMN__TLB_SLOT_PAGE, the generation at MMN__TLB_SLOT_GEN; the frame's
 * generation and content at MMN__PAGE_GEN and MMN__PAGE_CONTENT. */
#define MMN__TLB_SLOT_SHIFT 5
#define MMN__TLB_SLOT_PAGE 16
#define MMN__TLB_SLOT_GEN 24
#define MMN__PAGE_GEN 16
#define MMN__PAGE_CONTENT 24
/** @endcond */

/**
 * What the inline TLB-hit read needs of one (mm, CPU): filled by
 * mmn_tlb_view_init(), valid while the caller holds a reference on the mm
 * (mmn_mm_get() or the creation's) and the simulation lives. Read only:
 * threads may share one.
 */
struct mmn_tlb_view {
	/** @cond MMN_PRIVATE */
	struct mmn_mm *mm;
	int cpu;
	const volatile unsigned int *seq;      /* odd while slots are rewritten */
	const unsigned char *slots;            /* the 4 KiB TLB's slots */
	unsigned long slot_mask;               /* (entries - 1) << MMN__TLB_SLOT_SHIFT */
	const volatile uint64_t *tag;          /* the mm's: valid | id << 36; all ones once dead */
	/** @endcond */
};

/**
 * Fill @p v for reads of @p mm on CPU @p cpu through mmn_tlb_read_inline().
 * Returns 0, or -EINVAL for a NULL argument, a dead
 * mm or a CPU out of range. Takes no lock, never sleeps.
 */
MMN_API int mmn_tlb_view_init(struct mmn_tlb_view *v, struct mmn_mm *mm, int cpu);

struct mmn_notifier_subscriptions;

/**
 * What the inline notifier wrappers need of one mm: filled by
 * mmn_notifier_view_init(), valid while the caller holds a reference on the
 * mm and the simulation lives. Read only.
 */
struct mmn_notifier_view {
	/** @cond MMN_PRIVATE */
	struct mmn_mm *mm;
	struct mmn_notifier_subscriptions *const *subs; /* mm_has_notifiers() */
	const unsigned char *slow;       /* the simulation's slow flag */
	/** @endcond */
};

/**
 * Fill @p v for the dispatch of @p mm through
 * mmn_notifier_invalidate_range_start_inline() and
 * mmn_notifier_invalidate_range_end_inline(). Returns 0, or -EINVAL for a
 * NULL argument or a dead mm. Takes no lock, never sleeps.
 */
MMN_API int mmn_notifier_view_init(struct mmn_notifier_view *v, struct mmn_mm *mm);

#if defined(MMN_INLINE_FAST_PATH)

#if defined(__SANITIZE_THREAD__)
#define MMN__INLINE_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MMN__INLINE_TSAN 1
#endif
#endif

/* liburcu's inline read side exists only under _LGPL_SOURCE; ThreadSanitizer
 * builds need the library's happens-before annotations. */
#if defined(_LGPL_SOURCE) && !defined(MMN__INLINE_TSAN)
#include <urcu/urcu-memb.h>
#define MMN__INLINE_SRCU 1
#endif

/** @cond MMN_PRIVATE */
/* The index of a read section the inline lock entered: the library's are
 * 0 and 1 (and -EINVAL), so the inline unlock tells its own apart. */
#define MMN__SRCU_IDX_INLINE 2
/** @endcond */

/**
 * mmn_srcu_read_lock(), inline when the domain's fast byte says the
 * simulation takes no slow path and the thread is registered with liburcu
 * (see the file comment); then the index is MMN__SRCU_IDX_INLINE, else the
 * library's call and index (-EINVAL for a NULL, zeroed or destroyed @p ss).
 */
static inline int mmn_srcu_read_lock_inline(struct mmn_srcu *ss)
{
#ifdef MMN__INLINE_SRCU
	if (__builtin_expect(ss != NULL, 1)) {
		unsigned long tmp;
		unsigned int ok;

		/* liburcu's read lock, its load of the nesting count first. */
		cmm_barrier();
		tmp = URCU_TLS(urcu_memb_reader).ctr;
		/* The domain's fast byte (the simulation's slow flag clear, the
		 * struct initialised and not destroyed) and the thread's
		 * registration with liburcu: ok is 0 or 1 (a 1-bit field). */
		ok = __atomic_load_n(&ss->fast, __ATOMIC_RELAXED) &
		     URCU_TLS(urcu_memb_reader).registered;
		/* One branch for both tests and liburcu's "outermost section"
		 * test: ok > nesting means ok and no section open. */
		if (__builtin_expect(ok > (unsigned int)(tmp & URCU_GP_CTR_NEST_MASK), 1)) {
			_urcu_memb_read_lock_update(0);
			return MMN__SRCU_IDX_INLINE;
		}
		if (ok) {
			_urcu_memb_read_lock_update(tmp); /* nested */
			return MMN__SRCU_IDX_INLINE;
		}
	}
#endif
	return (mmn_srcu_read_lock)(ss);
}

/**
 * mmn_srcu_read_unlock(), inline for a section its lock entered inline
 * (@p idx MMN__SRCU_IDX_INLINE): the unlock trusts that decision and does
 * not look at the slow flag again. An unlock with no section open (a second
 * unlock of the same index) goes to the library, which leaves liburcu's
 * nesting alone; so does every other index.
 */
static inline void mmn_srcu_read_unlock_inline(struct mmn_srcu *ss, int idx)
{
#ifdef MMN__INLINE_SRCU
	if (__builtin_expect(idx == MMN__SRCU_IDX_INLINE && ss, 1)) {
		unsigned long tmp = URCU_TLS(urcu_memb_reader).ctr;

		/* liburcu's inline unlock, its outermost-section test first:
		 * then the "no section open" test costs nothing on that path. */
		if (__builtin_expect((tmp & URCU_GP_CTR_NEST_MASK) == URCU_GP_COUNT, 1)) {
			_urcu_memb_read_unlock_update_and_wakeup(tmp);
			cmm_barrier();
			return;
		}
		/* Nested (a fresh load: keeping tmp's nesting for this test
		 * costs the outermost path a register copy). */
		if (_urcu_memb_read_ongoing()) {
			urcu_memb_read_unlock();
			return;
		}
	}
#endif
	(mmn_srcu_read_unlock)(ss, idx);
}

#define mmn_srcu_read_lock(ss) mmn_srcu_read_lock_inline(ss)
#define mmn_srcu_read_unlock(ss, idx) mmn_srcu_read_unlock_inline(ss, idx)

/**
 * mmn_cpu_read(v->mm, v->cpu, @p addr, @p val) with the TLB hit inline: the
 * library's lockless hit test (the CPU's rewrite count, the slot's tag
 * against the mm's, the frame's generation against the slot's, the count
 * again); else the library call. A dead mm's tag is all ones, which no
 * slot carries, so it never hits here. A hit served inline is not counted:
 * mmn_stats.tlb_hits counts the library's hits only (a counter updated
 * on every hit is one more memory update per read: docs/benchmarks.md).
 */
static inline int mmn_tlb_read_inline(const struct mmn_tlb_view *v, unsigned long addr, uint64_t *val)
{
	const volatile unsigned int *seqp = v->seq;
	const unsigned char *s =
		v->slots + ((addr >> (MMN_PAGE_SHIFT - MMN__TLB_SLOT_SHIFT)) & v->slot_mask);
	uint64_t tag = __atomic_load_n(v->tag, __ATOMIC_RELAXED) | (addr >> MMN_PAGE_SHIFT);
	const unsigned char *p;
	unsigned int seq;
	uint64_t data;

	if (__builtin_expect(addr >= MMN_TASK_SIZE || !val, 0))
		goto slow;
	seq = __atomic_load_n(seqp, __ATOMIC_ACQUIRE);
	if (__builtin_expect(seq & 1, 0) ||
	    __atomic_load_n((const volatile uint64_t *)s, __ATOMIC_ACQUIRE) != tag)
		goto slow;
	p = __atomic_load_n((const unsigned char *const volatile *)(s + MMN__TLB_SLOT_PAGE),
			    __ATOMIC_ACQUIRE);
	data = __atomic_load_n((const volatile uint64_t *)(p + MMN__PAGE_CONTENT), __ATOMIC_ACQUIRE);
	if (__builtin_expect(__atomic_load_n((const volatile uint32_t *)(p + MMN__PAGE_GEN),
					     __ATOMIC_ACQUIRE) !=
				     __atomic_load_n((const volatile uint32_t *)(s + MMN__TLB_SLOT_GEN),
						     __ATOMIC_ACQUIRE),
			     0) ||
	    __builtin_expect(__atomic_load_n(seqp, __ATOMIC_RELAXED) != seq, 0))
		goto slow;
	*val = data;
	return 0;
slow:
	return mmn_cpu_read(v->mm, v->cpu, addr, val);
}

/*
 * The kernel's inline test, mm_has_notifiers(), and the simulation's slow
 * flag (lockdep, a scheduling hook, the deterministic backend): nothing
 * else, so that nobody listening costs what it costs the kernel.
 */
static inline int mmn__notifier_view_fast(const struct mmn_notifier_view *v)
{
	return __builtin_expect(!__atomic_load_n(v->subs, __ATOMIC_ACQUIRE) &&
					!__atomic_load_n(v->slow, __ATOMIC_RELAXED),
				1);
}

/**
 * mmn_notifier_invalidate_range_start(@p range) for a range of the view's
 * mm (@p range->mm must be the view's: the test reads the view's mm), with
 * the nobody-listens test inline (the kernel's inline wrapper). On that path
 * the range is neither checked nor counted; it gets
 * MMN_NOTIFIER_RANGE_BLOCKABLE and the library's mark of an unchecked start,
 * so that its end is excused, not reported, if it takes the library's full
 * path (mmn_notifier_fast_stats()). NULL @p range: no-op.
 */
static inline void mmn_notifier_invalidate_range_start_inline(const struct mmn_notifier_view *v,
							      struct mmn_notifier_range *range)
{
	if (__builtin_expect(range != NULL, 1) && mmn__notifier_view_fast(v)) {
		range->flags |= MMN_NOTIFIER_RANGE_BLOCKABLE | MMN__NOTIFIER_RANGE_UNCHECKED;
		return;
	}
	mmn_notifier_invalidate_range_start(range);
}

/**
 * mmn_notifier_invalidate_range_end(@p range) for a range of the view's mm,
 * with the nobody-listens test inline: on that path only the mark of an
 * unchecked start is cleared. NULL @p range: no-op.
 */
static inline void mmn_notifier_invalidate_range_end_inline(const struct mmn_notifier_view *v,
							    struct mmn_notifier_range *range)
{
	if (__builtin_expect(range != NULL, 1) && mmn__notifier_view_fast(v)) {
		range->flags &= ~MMN__NOTIFIER_RANGE_UNCHECKED;
		return;
	}
	mmn_notifier_invalidate_range_end(range);
}

#endif /* MMN_INLINE_FAST_PATH */

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_INLINE_H */
