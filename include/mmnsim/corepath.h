/* SPDX-License-Identifier: MIT */
/**
 * @file corepath.h
 * @brief Building blocks for a core-mm path of your own: the PTE lock, PTE
 *        reads and writes, the clear-flush helpers with and without
 *        notification, folio lock and rmap counts, and the notifier range
 *        calls as the library's own operations make them.
 *
 * Every operation of lib/ops (zap, COW, KSM, reclaim, migration, THP...) is
 * built from the internal functions these wrap; a research path written
 * from them therefore changes page tables, flushes TLBs and notifies exactly
 * as the library's operations do under the simulation's kernel profile
 * (profile.h: secondary_flush, events, only_end_skips_flush, change_pte),
 * and the oracle judges it the same way. The other blocks are public
 * already: the mmu_gather and the TLB flushes (tlb.h), get/put of a page
 * reference (page.h), the mmap_lock (mm.h), the lockless walk
 * (mmn_pgtable_walk(), pgtable.h), and the raw notifier calls
 * (mmu_notifier.h, which do not read the profile).
 *
 * A typical path (docs/examples/my_core_path.c zaps one PTE this way):
 *
 *     mmn_mmap_read_lock(mm);
 *     mmn_tlb_gather_mmu(&tlb, mm);
 *     mmn_corepath_range_init(&range, MMN_NOTIFY_CLEAR, mm, addr, addr + 4096, NULL);
 *     mmn_corepath_range_start(&range);
 *     mmn_pte_offset_map_lock(mm, addr, &slot);
 *     mmn_ptep_get_and_clear(&slot, &old);
 *     mmn_folio_remove_rmap_pte(sim, mmn_pte_pfn(old));
 *     mmn_tlb_flush_pte_range(&tlb, addr, 4096);
 *     mmn_tlb_remove_page(&tlb, mmn_pte_pfn(old));
 *     mmn_pte_unmap_unlock(&slot);
 *     mmn_corepath_range_end(&range);
 *     mmn_tlb_finish_mmu(&tlb);            (flush, then the page is freed)
 *     mmn_mmap_read_unlock(mm);
 *
 * Errors: every function checks its arguments and returns a negative errno
 * for a NULL pointer, a torn-down mm, a misaligned or out-of-range address,
 * a pfn outside the frame pool, or a slot in the wrong state. A misuse the
 * kernel reports (a PTE written without its PTL, a folio unlocked that was
 * not locked, a mapcount dropped below zero) is also reported through the
 * oracle as MMN_VIOL_PROTOCOL or MMN_VIOL_ACCOUNTING, as lockdep or
 * VM_BUG_ON would; the lockdep-based reports need mmn_sim_config::lockdep.
 */
#ifndef MMNSIM_COREPATH_H
#define MMNSIM_COREPATH_H

#include <stdbool.h>

#include <mmnsim/export.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/pgtable.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;

/* ------------------------------------------------------------------ */
/* The page-table walk and the PTL                                     */
/* ------------------------------------------------------------------ */

/**
 * One PTE slot found by mmn_pte_offset_map_lock() or
 * mmn_pte_offset_map_nolock(): the kernel's (pte_t *, spinlock_t *) pair.
 * Lives on the caller's stack; fields are private.
 */
struct mmn_pte_slot {
	/** @cond MMN_PRIVATE */
	struct mmn_mm *mm;
	void *pt;           /* the PTE table (struct mmn_ptdesc) */
	unsigned int idx;
	unsigned long addr;
	bool mapped;        /* between map and unmap */
	bool locked;        /* this slot's caller holds the PTL */
	/** @endcond */
};

/**
 * mmn_pte_offset_map_lock() - pte_offset_map_lock() (all versions; since
 * 6.5 it may fail, returning NULL, when no PTE table is there): walk @p mm's
 * table down to the PTE table covering @p addr and take its lock (the split
 * PTL, a spinlock: no sleeping until mmn_pte_unmap_unlock()).
 *
 * Locking: the caller holds @p mm's mmap_lock (read or write), which keeps
 * page tables from being freed (the kernel also allows an rmap lock; the
 * model asks for the mmap_lock). Not holding it is reported as
 * MMN_VIOL_PROTOCOL and refused (with lockdep off, only an mmap_lock nobody
 * holds is refused, unreported).
 * @param mm    the address space
 * @param addr  a page-aligned user address
 * @param slot  receives the slot, locked
 * @return 0 (PTL held); -EINVAL for NULL, a torn-down @p mm, a misaligned
 *         @p addr, or an mmap_lock the caller does not hold (as lockdep
 *         knows; with lockdep off: nobody holds); -EFAULT for an address
 *         outside user space; -ENOENT when no PTE table covers @p addr (an
 *         upper level is none, or a 2 MiB PMD leaf maps it: split it first).
 */
MMN_API int mmn_pte_offset_map_lock(struct mmn_mm *mm, unsigned long addr,
				    struct mmn_pte_slot *slot);

/**
 * mmn_pte_offset_map_nolock() - pte_offset_map_nolock() (6.5+; before, the
 * caller paired pte_offset_map() with pte_lockptr()): as
 * mmn_pte_offset_map_lock() without taking the PTL. Reading the entry is
 * allowed; changing it needs mmn_pte_lock() first.
 * @return as mmn_pte_offset_map_lock().
 */
MMN_API int mmn_pte_offset_map_nolock(struct mmn_mm *mm, unsigned long addr,
				      struct mmn_pte_slot *slot);

/**
 * mmn_pte_lock() - spin_lock(ptl) on a slot from mmn_pte_offset_map_nolock().
 * @return 0; -EINVAL for NULL, a slot not mapped or already locked.
 */
MMN_API int mmn_pte_lock(struct mmn_pte_slot *slot);

/**
 * mmn_pte_unmap_unlock() - pte_unmap_unlock(): drop the PTL and forget the
 * slot (it must be mapped again before any further use).
 * @return 0; -EINVAL for NULL or a slot whose PTL this caller does not hold.
 */
MMN_API int mmn_pte_unmap_unlock(struct mmn_pte_slot *slot);

/**
 * mmn_pte_unmap() - pte_unmap() of an unlocked slot.
 * @return 0; -EINVAL for NULL, a slot not mapped, or a locked one (use
 *         mmn_pte_unmap_unlock()).
 */
MMN_API int mmn_pte_unmap(struct mmn_pte_slot *slot);

/* ------------------------------------------------------------------ */
/* PTE reads and writes                                                */
/* ------------------------------------------------------------------ */

/**
 * mmn_ptep_get() - ptep_get() (5.x+; a plain *ptep before): read the entry.
 * A scheduling point. Legal without the PTL (the value may then change
 * under you, as the kernel's lockless readers know).
 * @return 0; -EINVAL for NULL or a slot not mapped.
 */
MMN_API int mmn_ptep_get(struct mmn_pte_slot *slot, mmn_pte_t *out);

/**
 * mmn_ptep_get_and_clear() - ptep_get_and_clear() (all versions): clear the
 * entry atomically (no accessed/dirty bit a hardware walker sets meanwhile
 * is lost) and return it. No TLB flush, no notification: the caller flushes
 * (directly or through an mmu_gather) and drops the mapping's mapcount
 * (mmn_folio_remove_rmap_pte()) and reference.
 * Locking: PTL held (without it: MMN_VIOL_PROTOCOL under lockdep, and
 * refused).
 * @param slot  a locked slot
 * @param old   receives the old entry (may be NULL)
 * @return 0; -EINVAL for NULL, a slot not mapped or not locked.
 */
MMN_API int mmn_ptep_get_and_clear(struct mmn_pte_slot *slot, mmn_pte_t *old);

/**
 * mmn_set_pte_at() - set_pte_at() (all versions) on a none entry: install
 * @p val. The caller took the reference and the mapcount the new mapping
 * owns (mmn_get_page(), mmn_folio_add_rmap_pte()). Locking: PTL held (as
 * mmn_ptep_get_and_clear()).
 * @param slot  a locked slot whose entry is none
 * @param val   the new entry (mmn_mk_pte(), mmn_mk_swp_pte()); not a 2 MiB leaf
 * @return 0; -EINVAL for NULL, a slot not mapped or not locked, a
 *         MMN_PTE_HUGE entry, or a present entry whose frame is outside the
 *         pool, free or a page-table page; -EBUSY when the entry is not none
 *         (the kernel's page_table_check would BUG: clear it first).
 */
MMN_API int mmn_set_pte_at(struct mmn_pte_slot *slot, mmn_pte_t val);

/**
 * mmn_ptep_clear_flush() - ptep_clear_flush() (all versions): clear the
 * entry and flush the CPU TLBs for the page (flush_tlb_page()). No notifier
 * call of its own; in 6.6+ profiles (secondary_flush = with_cpu_flush) the
 * CPU flush itself calls arch_invalidate_secondary_tlbs(), as the kernel's
 * does. Locking: PTL held.
 * @return as mmn_ptep_get_and_clear().
 */
MMN_API int mmn_ptep_clear_flush(struct mmn_pte_slot *slot, mmn_pte_t *old);

/**
 * mmn_ptep_clear_flush_notify() - ptep_clear_flush_notify() (3.19-6.5: the
 * clear, the CPU flush, then mmu_notifier_invalidate_range() under the PTL;
 * 6.6+: plain ptep_clear_flush(), the secondary flush being inside the CPU
 * flush); in 4.12 profiles the ->invalidate_range() call of 4.12's macro.
 * Where the profile defers the secondary flush to the range end
 * (secondary_flush = range_end or invalidate_page) the frame owes that flush
 * until mmn_corepath_range_end() runs: freeing it earlier is reported, as
 * for the library's own clear-flush sites. Locking: PTL held, inside a
 * mmn_corepath_range_start()/end() pair.
 * @return as mmn_ptep_get_and_clear().
 */
MMN_API int mmn_ptep_clear_flush_notify(struct mmn_pte_slot *slot, mmn_pte_t *old);

/**
 * mmn_set_pte_at_notify() - set_pte_at_notify() (2.6.29-6.9): in profiles
 * with the change_pte knob, mmu_notifier_change_pte() then set_pte_at();
 * from 6.10 (the knob off) plain set_pte_at(). Locking: PTL held, inside a
 * start/end pair (KVM warned from 5.17 about change_pte outside one).
 * @return as mmn_set_pte_at().
 */
MMN_API int mmn_set_pte_at_notify(struct mmn_pte_slot *slot, mmn_pte_t val);

/* ------------------------------------------------------------------ */
/* Folio lock and rmap counts                                          */
/* ------------------------------------------------------------------ */

/**
 * mmn_folio_lock() - folio_lock() (5.16+; lock_page() before): take
 * PG_locked of @p pfn's folio (the compound head for a 2 MiB page); may
 * sleep. The caller holds a reference on the frame.
 * @return 0; -EINVAL for NULL @p sim, a pfn outside the pool, the zero
 *         page or a page-table page; -ENOENT for a free frame.
 */
MMN_API int mmn_folio_lock(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_folio_trylock() - folio_trylock(): never sleeps.
 * @return 1 locked, 0 someone else holds it, or the errors of mmn_folio_lock().
 */
MMN_API int mmn_folio_trylock(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_folio_unlock() - folio_unlock(): clear PG_locked and wake the waiters.
 * Unlocking a folio that is not locked is the kernel's
 * VM_BUG_ON_FOLIO(!folio_test_locked()): reported as MMN_VIOL_PROTOCOL.
 * @return 0; the errors of mmn_folio_lock(); -EINVAL (reported) for a folio
 *         not locked.
 */
MMN_API int mmn_folio_unlock(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_folio_add_rmap_pte() - the mapcount half of folio_add_rmap_pte()
 * (6.8+; page_add_file_rmap()/page_add_anon_rmap() before): one more PTE
 * maps @p pfn. For a page whose reverse mapping is set already (a page-cache
 * page, an anonymous page mapped again where it was); the zero page is not
 * counted (returns 0).
 * @return 0; the errors of mmn_folio_lock().
 */
MMN_API int mmn_folio_add_rmap_pte(struct mmn_sim *sim, unsigned long pfn);

/**
 * mmn_folio_remove_rmap_pte() - folio_remove_rmap_pte() (6.8+;
 * page_remove_rmap() before): one PTE fewer maps @p pfn. The zero page is
 * not counted (returns 0).
 * @return 0; the errors of mmn_folio_lock(); -EINVAL for a frame no PTE
 *         maps (a mapcount underflow, reported as MMN_VIOL_ACCOUNTING).
 */
MMN_API int mmn_folio_remove_rmap_pte(struct mmn_sim *sim, unsigned long pfn);

/* ------------------------------------------------------------------ */
/* Notifier ranges as the library's operations issue them              */
/* ------------------------------------------------------------------ */

/**
 * mmn_corepath_range_init() - mmu_notifier_range_init_owner() as the
 * profile's listeners see it (the library's own call sites use the same
 * helper): before 5.2 (profile knob events off) every range is
 * MMN_NOTIFY_UNMAP with no owner, since listeners could not tell why.
 * @param range  receives the range
 * @param event  why (enum mmn_notify_event)
 * @param mm     the address space
 * @param start  page-aligned first address
 * @param end    page-aligned end, above @p start, at most MMN_TASK_SIZE
 * @param owner  MIGRATE/EXCLUSIVE initiator, else NULL
 * @return 0; -EINVAL for NULL, a torn-down @p mm, an event out of range, a
 *         misaligned, empty or out-of-range [@p start, @p end).
 */
MMN_API int mmn_corepath_range_init(struct mmn_notifier_range *range, enum mmn_notify_event event,
				    struct mmn_mm *mm, unsigned long start, unsigned long end,
				    void *owner);

/**
 * mmn_corepath_range_start() - mmu_notifier_invalidate_range_start() (see
 * mmn_notifier_invalidate_range_start()): may sleep, so not under the PTL
 * (reported). Pair it with mmn_corepath_range_end() or
 * mmn_corepath_range_only_end() on the same range by the same actor.
 * @return 0; -EINVAL for NULL or a range whose mm is NULL or torn down.
 */
MMN_API int mmn_corepath_range_start(struct mmn_notifier_range *range);

/**
 * mmn_corepath_range_end() - mmu_notifier_invalidate_range_end() as the
 * profile has it: 3.19-6.5 profiles (secondary_flush call_sites, range_end,
 * invalidate_page) call every subscriber's ->invalidate_range() first, and
 * settle the secondary flushes this actor owed since its
 * mmn_ptep_clear_flush_notify() calls; 6.6+ profiles only end.
 * @return 0; -EINVAL as mmn_corepath_range_start().
 */
MMN_API int mmn_corepath_range_end(struct mmn_notifier_range *range);

/**
 * mmn_corepath_range_only_end() -
 * mmu_notifier_invalidate_range_only_end() (4.15-6.5; the profile knob
 * only_end_skips_flush): the end without ->invalidate_range(), for a path
 * that issued its secondary flush under the PTL already (or needs none:
 * the PTEs point to the same pages). Other profiles: as
 * mmn_corepath_range_end().
 * @return 0; -EINVAL as mmn_corepath_range_start().
 */
MMN_API int mmn_corepath_range_only_end(struct mmn_notifier_range *range);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_COREPATH_H */
