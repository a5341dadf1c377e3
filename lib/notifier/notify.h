/* SPDX-License-Identifier: MIT */
/*
 * The notification call-site helpers (mm/mmu_notifier.c's inline wrappers
 * of include/linux/mmu_notifier.h and the *_notify() helpers beside them):
 * how an operation notifies under the simulation's kernel profile. Every
 * operation of lib/ops goes through them, so the knobs are read in one place:
 *
 *   events           mmn__notify_range_init(): before 5.2 a listener cannot tell
 *                    why it is notified; it sees every range as UNMAP.
 *   secondary_flush  where F2 (the secondary-TLB flush) happens:
 *                    with_cpu_flush  inside every CPU flush (lib/mm/tlb.c)
 *                    call_sites      mmn__ptep_clear_flush_notify() under the PTL,
 *                                    the gather's tlbonly flush, and end
 *                    range_end       only at end (mmn__notify_end())
 *                    invalidate_page ->invalidate_page on the rmap paths,
 *                                    under the PTL (4.12) or after its
 *                                    drop (<= 4.11: knob
 *                                    invalidate_page_under_ptl), plus the
 *                                    3.19+ range calls of the
 *                                    *_clear_flush_notify() sites, the
 *                                    gather and end
 *   only_end_skips_flush  mmn__notify_end_only(): end skips ->invalidate_range.
 *
 * Nothing outside lib/notifier, lib/ops and lib/mm/tlb.c branches on them.
 */
#ifndef MMN_LIB_NOTIFIER_NOTIFY_H
#define MMN_LIB_NOTIFIER_NOTIFY_H

#include <mmnsim/mmu_notifier.h>
#include <mmnsim/ops.h>

#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"

static inline const struct mmn_profile *ops_profile(const struct mmn_mm *mm)
{
	return &mm->sim->profile;
}

/* Whether end calls ->invalidate_range (3.19-6.5, and the range_end knob). */
static inline bool ops_end_flushes(const struct mmn_profile *p)
{
	return p->secondary_flush != MMN_SECFLUSH_WITH_CPU_FLUSH;
}

/* mmu_notifier_range_init[_owner]() as the profile's listeners see it. */
static inline void mmn__notify_range_init(struct mmn_notifier_range *range, enum mmn_notify_event event,
				  struct mmn_mm *mm, unsigned long start, unsigned long end,
				  void *owner)
{
	if (!ops_profile(mm)->events) {
		event = MMN_NOTIFY_UNMAP;
		owner = NULL;
	}
	mmn_notifier_range_init_owner(range, event, 0, mm, start, end, owner);
}

/* mmu_notifier_invalidate_range_start(), counted for the operation. */
void mmn__notify_start(enum mmn_op op, struct mmn_notifier_range *range);
/* mmu_notifier_invalidate_range_start_nonblock(); -EAGAIN: do not call end. */
int mmn__notify_start_nonblock(enum mmn_op op, struct mmn_notifier_range *range);
/* mmu_notifier_invalidate_range_end() with the profile's secondary flush. */
void mmn__notify_end(struct mmn_notifier_range *range);
/* mmu_notifier_invalidate_range_only_end() (4.15-6.5), else as mmn__notify_end(). */
void mmn__notify_end_only(struct mmn_notifier_range *range);

/*
 * ptep_clear_flush_notify() (3.19-6.5) / ptep_clear_flush() (6.6+): clear the
 * entry, flush the CPU TLB for the page (with F2 inside it in 6.6+ profiles)
 * and, in call_sites and invalidate_page profiles, ->invalidate_range()
 * under the PTL. Caller holds the PTL. Returns the old entry.
 */
mmn_pte_t mmn__ptep_clear_flush_notify(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				      unsigned long addr);

/*
 * The clear of try_to_unmap_one() / try_to_migrate_one(): up to 4.12
 * (invalidate_page profiles) a plain ptep_clear_flush() whose secondary
 * flush is the ->invalidate_page that follows; from 4.13 as
 * mmn__ptep_clear_flush_notify(). Caller holds the PTL.
 */
mmn_pte_t mmn__ptep_clear_flush_rmap(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				    unsigned long addr);

/*
 * 4.12 try_to_unmap_one() / page_mkclean_one() (mm/rmap.c, inside the
 * page_vma_mapped_walk() loop): ->invalidate_page() with the PTL still held,
 * after the mapping's put_page(). Call it under the PTL once an entry was
 * unmapped; returns whether it notified (invalidate_page profiles with
 * invalidate_page_under_ptl), in which case pass unmapped = false to
 * mmn__notify_rmap_end().
 */
bool mmn__notify_rmap_unmapped_locked(struct mmn_mm *mm, unsigned long addr);

/*
 * ptep_set_access_flags() with dirty (a permission upgrade: wp_page_reuse()):
 * x86 flushes nothing; arm64 flushes the page's TLB entry (5.x-6.5
 * flush_tlb_page() with no notifier; 6.6+ with
 * arch_invalidate_secondary_tlbs() inside it, i.e. mmn_flush_tlb_page()
 * under the profile's secondary_flush). Caller holds the PTL.
 */
void mmn__notify_access_upgrade(struct mmn_mm *mm, unsigned long addr);

/*
 * After the PTL is dropped on an rmap path: ->invalidate_page() in
 * invalidate_page profiles (the <= 4.11 place; 4.12 calls it under the PTL,
 * see mmn__notify_rmap_unmapped_locked()), nothing otherwise.
 */
void mmn__notify_after_ptl_drop(struct mmn_mm *mm, unsigned long addr);

/*
 * The bracket of one mapping on an rmap path (try_to_unmap_one(),
 * try_to_migrate_one() and their hugetlb branches): from 4.13 a CLEAR
 * start/end over [start, end) around the PTL section; up to 4.12 no
 * start/end, and ->invalidate_page after the PTL drop if an entry was
 * unmapped. mmn__notify_rmap_start() returns whether it started a range; pass that
 * to mmn__notify_rmap_end().
 */
bool mmn__notify_rmap_start(enum mmn_op op, struct mmn_notifier_range *range, struct mmn_mm *mm,
		    unsigned long start, unsigned long end);
void mmn__notify_rmap_end(struct mmn_notifier_range *range, struct mmn_mm *mm, bool started,
		  bool unmapped, unsigned long addr);

/*
 * The secondary flush a *_clear_flush_notify() site issues under the PTL in
 * call_sites profiles (3.19-6.5): ->invalidate_range() over [start, end).
 * Returns false (nothing done) in other profiles.
 */
bool mmn__notify_call_site_flush(struct mmn_mm *mm, unsigned long start, unsigned long end);

/*
 * The reclaimer's deferred TLB flush (struct tlbflush_unmap_batch,
 * current->tlb_ubc): the mms whose entries were cleared unflushed.
 */
#define MMN__TLBBATCH_MAX 8
struct mmn__tlbbatch {
	struct mmn_mm *mm[MMN__TLBBATCH_MAX];
	unsigned int nr;
};

/*
 * The clear of try_to_unmap_one() / try_to_migrate_one() with
 * TTU_BATCH_FLUSH (mm/rmap.c, 4.3+; read in 4.12, 4.15, 5.2, 5.14, 6.5,
 * 6.6.9, 6.19): when should_defer_flush() (x86
 * arch_tlbbatch_should_defer(): the mm may be cached on a CPU, i.e. a
 * non-empty cpumask here) a plain ptep_get_and_clear() and
 * set_tlb_ubc_flush_pending(): no CPU flush; up to 6.5 the secondary flush
 * stays where the unbatched path has it (4.13-6.5 the ->invalidate_range()
 * under the PTL after the swap entry is set, 4.12 ->invalidate_page);
 * from 6.6 arch_tlbbatch_add_pending() calls
 * mmu_notifier_arch_invalidate_secondary_tlbs() at once, for the whole mm
 * on x86 (0, -1UL) and for the page on arm64 (__flush_tlb_page_nosync()).
 * Otherwise, or with a NULL @b, as mmn__ptep_clear_flush_rmap(). Caller
 * holds the PTL. Returns the old entry.
 */
mmn_pte_t mmn__ptep_clear_batched(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				  unsigned long addr, struct mmn__tlbbatch *b);

/* try_to_unmap_flush(): the CPU flush of every mm of @b (arch_tlbbatch_flush()). */
void mmn__try_to_unmap_flush(struct mmn__tlbbatch *b);

#endif /* MMN_LIB_NOTIFIER_NOTIFY_H */
