// SPDX-License-Identifier: MIT
/*
 * The public building blocks of a core-mm path (include/mmnsim/corepath.h):
 * argument checks around the very functions lib/ops is built from
 * (lib/mm/pgtable.c's walk and entry accessors, lib/mm/folio.c's folio
 * lock, lib/mm/page.c's mapcount, lib/notifier/notify.c's profile-aware
 * clear-flush and range helpers). Nothing here changes state on its own.
 */
#include <mmnsim/corepath.h>

#include "ops/ops_internal.h"

/* ---------------------------------------------------------------- */
/* walk and PTL                                                      */
/* ---------------------------------------------------------------- */

static struct mmn_ptdesc *slot_pt(const struct mmn_pte_slot *slot)
{
	return slot->pt;
}

/*
 * pte_offset_map(): the PTE table of @addr, under the caller's mmap_lock
 * (what keeps the model's tables from being freed: munmap and collapse free
 * them under the write lock).
 */
static int cp_map(struct mmn_mm *mm, unsigned long addr, struct mmn_pte_slot *slot)
{
	struct mmn_ptdesc *pt;
	int held;

	if (!slot || mmn__mm_dead(mm) || addr & ~MMN_PAGE_MASK)
		return -EINVAL;
	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	held = mmn_lockdep_is_held(&mm->mmap_lock);
	if (!held) { /* lockdep knows this caller does not hold it */
		mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
		return -EINVAL;
	}
	if (held < 0 && !mmn_rwsem_is_locked(&mm->mmap_lock)) /* lockdep off: nobody holds it */
		return -EINVAL;
	pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	if (!pt)
		return -ENOENT;
	*slot = (struct mmn_pte_slot){ .mm = mm, .pt = pt, .idx = mmn_pt_index(addr, MMN_LVL_PTE),
				       .addr = addr, .mapped = true };
	return 0;
}

int mmn_pte_offset_map_nolock(struct mmn_mm *mm, unsigned long addr, struct mmn_pte_slot *slot)
{
	return cp_map(mm, addr, slot);
}

int mmn_pte_lock(struct mmn_pte_slot *slot)
{
	if (!slot || !slot->mapped || slot->locked)
		return -EINVAL;
	mmn_spin_lock(&slot_pt(slot)->ptl);
	slot->locked = true;
	return 0;
}

int mmn_pte_offset_map_lock(struct mmn_mm *mm, unsigned long addr, struct mmn_pte_slot *slot)
{
	int err = cp_map(mm, addr, slot);

	return err ? err : mmn_pte_lock(slot);
}

int mmn_pte_unmap_unlock(struct mmn_pte_slot *slot)
{
	if (!slot || !slot->mapped || !slot->locked)
		return -EINVAL;
	mmn_spin_unlock(&slot_pt(slot)->ptl);
	slot->locked = false;
	slot->mapped = false;
	return 0;
}

int mmn_pte_unmap(struct mmn_pte_slot *slot)
{
	if (!slot || !slot->mapped || slot->locked)
		return -EINVAL;
	slot->mapped = false;
	return 0;
}

/* ---------------------------------------------------------------- */
/* entries                                                           */
/* ---------------------------------------------------------------- */

int mmn_ptep_get(struct mmn_pte_slot *slot, mmn_pte_t *out)
{
	if (!slot || !out || !slot->mapped)
		return -EINVAL;
	*out = mmn_pte_get(slot->mm->sim, slot_pt(slot), slot->idx, slot->addr);
	return 0;
}

/*
 * The PTL contract of every entry change: the kernel's
 * lockdep_assert_held(ptl) where it has one (ptep_modify_prot_start()
 * callers, page_table_check), reported; the change is refused.
 */
static int cp_locked(struct mmn_pte_slot *slot)
{
	if (!slot || !slot->mapped)
		return -EINVAL;
	mmn__lockdep_assert_held(&slot_pt(slot)->ptl, "PTL");
	return slot->locked ? 0 : -EINVAL;
}

int mmn_ptep_get_and_clear(struct mmn_pte_slot *slot, mmn_pte_t *old)
{
	int err = cp_locked(slot);
	mmn_pte_t e;

	if (err)
		return err;
	e = mmn_pte_get_and_clear(slot->mm->sim, slot_pt(slot), slot->idx, slot->addr);
	if (old)
		*old = e;
	return 0;
}

/* set_pte_at()'s checks: a none slot, a 4 KiB entry, a live data frame. */
static int cp_set_check(struct mmn_pte_slot *slot, mmn_pte_t val)
{
	struct mmn_sim *sim;
	int err = cp_locked(slot);

	if (err)
		return err;
	sim = slot->mm->sim;
	if (val & MMN_PTE_HUGE)
		return -EINVAL;
	if (mmn_pte_mapped(val)) {
		unsigned long pfn = mmn_pte_pfn(val);
		unsigned int flags;

		if (!mmn_pfn_valid(sim, pfn))
			return -EINVAL;
		flags = atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->flags,
					     memory_order_relaxed);
		if (flags & (MMN_PG_FREE | MMN_PG_TABLE))
			return -EINVAL;
	}
	if (!mmn_pte_none(mmn_pte_peek(slot_pt(slot), slot->idx)))
		return -EBUSY;
	return 0;
}

int mmn_set_pte_at(struct mmn_pte_slot *slot, mmn_pte_t val)
{
	int err = cp_set_check(slot, val);

	if (!err)
		mmn_pte_set(slot->mm->sim, slot_pt(slot), slot->idx, slot->addr, val);
	return err;
}

int mmn_set_pte_at_notify(struct mmn_pte_slot *slot, mmn_pte_t val)
{
	int err = cp_set_check(slot, val);

	if (err)
		return err;
	/* set_pte_at_notify() (2.6.29-6.9), as lib/ops/ksm.c issues it. */
	if (ops_profile(slot->mm)->change_pte)
		mmn_notifier_change_pte(slot->mm, slot->addr, val);
	mmn_pte_set(slot->mm->sim, slot_pt(slot), slot->idx, slot->addr, val);
	return 0;
}

int mmn_ptep_clear_flush(struct mmn_pte_slot *slot, mmn_pte_t *old)
{
	int err = mmn_ptep_get_and_clear(slot, old);

	/* ptep_clear_flush(): flush_tlb_page() after the clear (with F2 inside
	 * it in 6.6+ profiles, lib/mm/tlb.c). */
	if (!err)
		mmn_flush_tlb_page(slot->mm, slot->addr);
	return err;
}

int mmn_ptep_clear_flush_notify(struct mmn_pte_slot *slot, mmn_pte_t *old)
{
	int err = cp_locked(slot);
	mmn_pte_t e;

	if (err)
		return err;
	e = mmn__ptep_clear_flush_notify(slot->mm, slot_pt(slot), slot->idx, slot->addr);
	if (old)
		*old = e;
	return 0;
}

/* ---------------------------------------------------------------- */
/* folio                                                             */
/* ---------------------------------------------------------------- */

/* A frame a folio call may name: in the pool, not the zero page or a page
 * table (-EINVAL), not free (-ENOENT). */
static int cp_folio(struct mmn_sim *sim, unsigned long pfn)
{
	unsigned int flags;

	if (!sim || !mmn_pfn_valid(sim, pfn) || pfn == MMN_ZERO_PFN)
		return -EINVAL;
	flags = atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->flags,
				     memory_order_relaxed);
	if (flags & MMN_PG_TABLE)
		return -EINVAL;
	return flags & MMN_PG_FREE ? -ENOENT : 0;
}

int mmn_folio_lock(struct mmn_sim *sim, unsigned long pfn)
{
	int err = cp_folio(sim, pfn);

	if (!err)
		mmn_lock_page(sim, pfn);
	return err;
}

int mmn_folio_trylock(struct mmn_sim *sim, unsigned long pfn)
{
	int err = cp_folio(sim, pfn);

	return err ? err : mmn_trylock_page(sim, pfn);
}

int mmn_folio_unlock(struct mmn_sim *sim, unsigned long pfn)
{
	int err = cp_folio(sim, pfn);
	unsigned long head;

	if (err)
		return err;
	head = mmn_compound_head(sim, pfn);
	if (!(atomic_load_explicit(&mmn_pfn_to_page(sim, head)->flags, memory_order_acquire) &
	      MMN_PG_LOCKED)) {
		mmn_reportf(sim, MMN_VIOL_PROTOCOL, 0, pfn,
			    "folio_unlock() of frame %lu, which is not locked", pfn);
		return -EINVAL;
	}
	mmn_unlock_page(sim, pfn);
	return 0;
}

int mmn_folio_add_rmap_pte(struct mmn_sim *sim, unsigned long pfn)
{
	int err = sim && pfn == MMN_ZERO_PFN ? 0 : cp_folio(sim, pfn);

	if (!err)
		mmn_page_add_map(sim, pfn);
	return err;
}

int mmn_folio_remove_rmap_pte(struct mmn_sim *sim, unsigned long pfn)
{
	int err = sim && pfn == MMN_ZERO_PFN ? 0 : cp_folio(sim, pfn);

	if (err || pfn == MMN_ZERO_PFN)
		return err;
	if (atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->mapcount,
				 memory_order_relaxed) <= 0) {
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, pfn,
			    "folio_remove_rmap_pte() of frame %lu, which no PTE maps", pfn);
		return -EINVAL;
	}
	mmn_page_remove_map(sim, pfn);
	return 0;
}

/* ---------------------------------------------------------------- */
/* notifier ranges                                                   */
/* ---------------------------------------------------------------- */

int mmn_corepath_range_init(struct mmn_notifier_range *range, enum mmn_notify_event event,
			    struct mmn_mm *mm, unsigned long start, unsigned long end, void *owner)
{
	if (!range || mmn__mm_dead(mm) || (unsigned int)event >= MMN_NOTIFY_NR_EVENTS ||
	    (start | end) & ~MMN_PAGE_MASK || start >= end || end > MMN_TASK_SIZE)
		return -EINVAL;
	mmn__notify_range_init(range, event, mm, start, end, owner);
	return 0;
}

static bool cp_range_ok(const struct mmn_notifier_range *range)
{
	return range && !mmn__mm_dead(range->mm);
}

int mmn_corepath_range_start(struct mmn_notifier_range *range)
{
	if (!cp_range_ok(range))
		return -EINVAL;
	mmn_notifier_invalidate_range_start(range);
	return 0;
}

int mmn_corepath_range_end(struct mmn_notifier_range *range)
{
	if (!cp_range_ok(range))
		return -EINVAL;
	mmn__notify_end(range);
	return 0;
}

int mmn_corepath_range_only_end(struct mmn_notifier_range *range)
{
	if (!cp_range_ok(range))
		return -EINVAL;
	mmn__notify_end_only(range);
	return 0;
}
