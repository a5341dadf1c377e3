// SPDX-License-Identifier: MIT
/*
 * Device-exclusive access (mm/rmap.c make_device_exclusive(), 6.15+; 5.14-
 * 6.14 make_device_exclusive_range()) and its lazy undo by the CPU fault
 * (mm/memory.c remove_device_exclusive_entry()), seed 004:
 *
 *   make_device_exclusive (mmap_lock read)    a CPU of the process
 *   --------------------------------------    --------------------
 *   GUP write (fault, COW broken); lock page
 *   S(EXCLUSIVE, owner)
 *   L: same page, writable, PTE level?
 *      (else U E unlock put, retry)
 *   clear + flush (F1 [+F2])                  store: TLB miss, walk finds
 *   dirty → page; exclusive entry             the exclusive entry: fault
 *   U E; return page locked + referenced      remove_device_exclusive_entry:
 *   (driver maps it ATOMIC, unlocks, puts)      get + lock page
 *                                               S(CLEAR, NULL) [6.10: EXCLUSIVE]
 *                                               L: unchanged? restore PTE; U
 *                                               unlock, put; E
 *                                             the process-wide listener of
 *                                             the driver drops its mapping
 *
 * The exclusive entry keeps the page mapped (mapcount, the mapping's
 * reference), as 6.15+ counts it; a device write to the page goes through
 * the driver's own translation (mmn_phys_access()).
 *
 * 5.14-6.14 (knob exclusive_via_rmap; read in 5.14 and 6.5 mm/rmap.c
 * make_device_exclusive_range() → folio_make_device_exclusive() →
 * page_make_device_exclusive_one()): after the GUP the page is only
 * trylocked, then an rmap walk converts EVERY mapping of the page, each in
 * its own mm with its own EXCLUSIVE start/end and the caller's owner:
 *
 *   make_device_exclusive_range               another mapping of the page
 *   ---------------------------               ---------------------------
 *   GUP write; trylock page (busy: NULL)
 *   for each mapping (rmap walk):
 *     S(EXCLUSIVE, owner) in its mm           its listeners invalidate
 *     L: present? clear + flush (F1 [+F2])
 *        writable/readable exclusive entry
 *     U E
 *   ours converted from a writable entry and
 *   no mapping left present? the page, else
 *   NULL (no retry: the entries converted
 *   stay exclusive until a CPU touches them)
 */
#include "ops/device_internal.h"

mmn_pte_t mmn__exclusive_restored_pte(const struct mmn_vma *vma, mmn_pte_t entry)
{
	struct mmn_sim *sim = vma->mm->sim;
	unsigned long pfn = mmn_pte_pfn(entry);
	struct mmn_page *p = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));
	/* can_change_pte_writable(): the VMA allows it, the entry was a
	 * writable one, and the anonymous page is exclusively ours. */
	bool w = (vma->vm_flags & MMN_VM_WRITE) &&
		 mmn_pte_swp_type(entry) == MMN_SWP_DEVICE_EXCLUSIVE &&
		 atomic_load(&p->mapcount) == 1;
	bool dirty = atomic_load(&p->flags) & MMN_PG_DIRTY;

	return mmn_mk_pte(pfn, (entry & MMN_PTE_SOFT_DIRTY) | (w ? MMN_PTE_WRITE : 0) |
				       (w && dirty ? MMN_PTE_DIRTY : 0));
}

/* follow_page_pte() for a write: the PTE table and entry if @addr is mapped
 * by a writable PTE; takes a reference. 0 otherwise. */
static unsigned long devx_follow(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	unsigned long pfn = 0;
	mmn_pte_t e;

	if (!pt)
		return 0;
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(sim, pt, idx, addr);
	if (mmn_pte_present(e) && mmn_pte_write(e) && mmn_pte_pfn(e) != MMN_ZERO_PFN) {
		pfn = mmn_pte_pfn(e);
		mmn_get_page(sim, pfn);
	}
	mmn_spin_unlock(&pt->ptl);
	return pfn;
}

/* One attempt under mmap_lock: 0 done (page locked + referenced in *pfnp),
 * -EAGAIN retry, or an error. */
static int devx_try(struct mmn_mm *mm, unsigned long addr, void *owner, unsigned long *pfnp)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_vma *vma = mmn_vma_lookup(mm, addr);
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pt;
	unsigned long pfn = 0;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE), flags;
	bool done = false;
	mmn_pte_t e;
	int err;

	/* get_user_pages_remote(FOLL_WRITE | FOLL_SPLIT_PMD) */
	if (!vma)
		return -EFAULT;
	if (!(vma->vm_flags & MMN_VM_WRITE))
		return -EACCES;
	if ((vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)) || vma->file)
		return -EOPNOTSUPP;
	for (int tries = 0;; tries++) {
		/* FOLL_SPLIT_PMD: a PMD-mapped THP is split first. */
		err = mmn__split_huge_pmd(mm, addr);
		if (err)
			return err;
		pfn = devx_follow(mm, addr);
		if (pfn)
			break;
		if (tries >= 100)
			return -EBUSY;
		err = mmn_handle_mm_fault(mm, addr, MMN_FAULT_WRITE);
		if (err)
			return err;
	}
	flags = atomic_load(&mmn_pfn_to_page(sim, pfn)->flags);
	if ((flags & (MMN_PG_ANON | MMN_PG_KSM | MMN_PG_HUGETLB)) != MMN_PG_ANON) {
		mmn_put_page(sim, pfn);
		return -EOPNOTSUPP;
	}
	mmn_lock_page(sim, pfn);
	mmn__notify_range_init(&range, MMN_NOTIFY_EXCLUSIVE, mm, addr, addr + MMN_PAGE_SIZE, owner);
	mmn__notify_start(MMN_OP_EXCLUSIVE, &range);
	pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	if (pt) {
		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, addr);
		if (mmn_pte_present(e) && mmn_pte_write(e) && mmn_pte_pfn(e) == pfn) {
			e = mmn__ptep_clear_flush_notify(mm, pt, idx, addr);
			if (mmn_pte_dirty(e))
				atomic_fetch_or(&mmn_pfn_to_page(sim, pfn)->flags, MMN_PG_DIRTY);
			mmn_pte_set(sim, pt, idx, addr,
				    mmn_mk_swp_pte(MMN_SWP_DEVICE_EXCLUSIVE, pfn) |
					    (e & MMN_PTE_SOFT_DIRTY));
			done = true;
		}
		mmn_spin_unlock(&pt->ptl);
	}
	mmn__notify_end(&range);
	if (!done) {
		/* Changed under us: a notification that changed nothing. */
		mmn__op_stat_pages(sim, MMN_OP_EXCLUSIVE, 0, 1);
		mmn_unlock_page(sim, pfn);
		mmn_put_page(sim, pfn);
		return -EAGAIN;
	}
	mmn__op_stat_pages(sim, MMN_OP_EXCLUSIVE, 1, 0);
	*pfnp = pfn;
	return 0;
}

struct devx_rmap {
	struct mmn_mm *mm;     /* the caller's */
	unsigned long addr, pfn;
	void *owner;
	bool valid;            /* ours converted from a writable entry */
	bool left;             /* a mapping stayed present */
};

/* page_make_device_exclusive_one() (5.14-6.14): one mapping of the page. */
static bool devx_rmap_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct devx_rmap *a = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pt;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	mmn_pte_t e;

	mmn__notify_range_init(&range, MMN_NOTIFY_EXCLUSIVE, mm, addr, addr + MMN_PAGE_SIZE,
			       a->owner);
	mmn__notify_start(MMN_OP_EXCLUSIVE, &range);
	pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	if (pt) {
		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, addr);
		if (mmn_pte_present(e) && mmn_pte_pfn(e) == a->pfn) {
			e = mmn__ptep_clear_flush_notify(mm, pt, idx, addr);
			if (mmn_pte_dirty(e))
				atomic_fetch_or(&mmn_pfn_to_page(sim, a->pfn)->flags, MMN_PG_DIRTY);
			if (mm == a->mm && addr == a->addr && mmn_pte_write(e))
				a->valid = true;
			mmn_pte_set(sim, pt, idx, addr,
				    mmn_mk_swp_pte(mmn_pte_write(e) ? MMN_SWP_DEVICE_EXCLUSIVE
								    : MMN_SWP_DEVICE_EXCLUSIVE_READ,
						   a->pfn) |
					    (e & MMN_PTE_SOFT_DIRTY));
		} else if (mmn_pte_present(e)) {
			a->left = true;
		}
		mmn_spin_unlock(&pt->ptl);
	}
	mmn__notify_end(&range);
	return true;
}

/* make_device_exclusive_range() of one page, 5.14-6.14. */
static int devx_range_one(struct mmn_mm *mm, unsigned long addr, void *owner, unsigned long *pfnp)
{
	struct mmn_sim *sim = mm->sim;
	struct devx_rmap a = { .mm = mm, .addr = addr, .owner = owner };
	struct mmn_vma *vma = mmn_vma_lookup(mm, addr);
	int err;

	if (!vma)
		return -EFAULT;
	if (!(vma->vm_flags & MMN_VM_WRITE))
		return -EACCES;
	if ((vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)) || vma->file)
		return -EOPNOTSUPP;
	err = mmn__split_huge_pmd(mm, addr); /* FOLL_SPLIT_PMD */
	if (err)
		return err;
	a.pfn = devx_follow(mm, addr);
	if (!a.pfn) {
		err = mmn_handle_mm_fault(mm, addr, MMN_FAULT_WRITE);
		if (err)
			return err;
		a.pfn = devx_follow(mm, addr);
		if (!a.pfn)
			return -EBUSY;
	}
	if ((atomic_load(&mmn_pfn_to_page(sim, a.pfn)->flags) &
	     (MMN_PG_ANON | MMN_PG_KSM | MMN_PG_HUGETLB)) != MMN_PG_ANON) {
		mmn_put_page(sim, a.pfn);
		return -EOPNOTSUPP;
	}
	if (!mmn_trylock_page(sim, a.pfn)) { /* folio_trylock() */
		mmn_put_page(sim, a.pfn);
		return -EBUSY;
	}
	mmn_rmap_walk(sim, a.pfn, devx_rmap_one, &a);
	if (!a.valid || a.left) {
		mmn__op_stat_pages(sim, MMN_OP_EXCLUSIVE, 0, 1);
		mmn_unlock_page(sim, a.pfn);
		mmn_put_page(sim, a.pfn);
		return -EBUSY; /* the kernel's NULL page */
	}
	mmn__op_stat_pages(sim, MMN_OP_EXCLUSIVE, 1, 0);
	*pfnp = a.pfn;
	return 0;
}

static int make_device_exclusive_do(struct mmn_mm *mm, unsigned long addr, void *owner,
			      unsigned long *pfn)
{
	int err = -EAGAIN;

	if (mmn__mm_dead(mm) || !pfn)
		return -EINVAL;
	if (!ops_profile(mm)->device_exclusive)
		return -EOPNOTSUPP;
	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	addr &= MMN_PAGE_MASK;
	mmn_mmap_read_lock(mm);
	if (ops_profile(mm)->exclusive_via_rmap)
		err = devx_range_one(mm, addr, owner, pfn);
	for (int tries = 0; err == -EAGAIN && tries < 100; tries++)
		err = devx_try(mm, addr, owner, pfn);
	mmn_mmap_read_unlock(mm);
	if (err == -EAGAIN)
		err = -EBUSY;
	if (!err)
		mmn__op_stat_call(mm->sim, MMN_OP_EXCLUSIVE);
	return err;
}

/* The span of the trace around make_device_exclusive (docs/exploration.md). */
int mmn_make_device_exclusive(struct mmn_mm *mm, unsigned long addr, void *owner,
			      unsigned long *pfn)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "make_device_exclusive", addr, addr + MMN_PAGE_SIZE, NULL);
	err = make_device_exclusive_do(mm, addr, owner, pfn);
	mmn_sched_span_end(sim, "make_device_exclusive");
	return err;
}

void mmn_device_exclusive_release(struct mmn_sim *sim, unsigned long pfn)
{
	if (!sim || !mmn_pfn_valid(sim, pfn) || pfn == MMN_ZERO_PFN)
		return;
	mmn_unlock_page(sim, pfn);
	mmn_put_page(sim, pfn);
}

int mmn__devx_restore_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
		       unsigned int idx, unsigned long addr, mmn_pte_t orig)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long pfn = mmn_pte_pfn(orig);
	const struct mmn_profile *p = ops_profile(mm);
	struct mmn_notifier_range range;
	bool same, restored = false;

	addr &= MMN_PAGE_MASK;
	/* folio_try_get(), then folio_lock_or_retry(). */
	mmn_spin_lock(&pt->ptl);
	same = mmn_pte_get(sim, pt, idx, addr) == orig;
	if (same)
		mmn_get_page(sim, pfn);
	mmn_spin_unlock(&pt->ptl);
	if (!same)
		return 0;
	mmn_lock_page(sim, pfn);
	mmn__notify_range_init(&range, p->exclusive_restore_clear ? MMN_NOTIFY_CLEAR : MMN_NOTIFY_EXCLUSIVE,
		       mm, addr, addr + MMN_PAGE_SIZE, NULL);
	mmn__notify_start(MMN_OP_EXCLUSIVE, &range);
	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_get(sim, pt, idx, addr) == orig) {
		/* restore_exclusive_pte(): the page stayed mapped. */
		mmn_pte_set(sim, pt, idx, addr, mmn__exclusive_restored_pte(vma, orig));
		restored = true;
	}
	mmn_spin_unlock(&pt->ptl);
	mmn_unlock_page(sim, pfn);
	mmn_put_page(sim, pfn);
	mmn__notify_end(&range);
	mmn__op_stat_pages(sim, MMN_OP_EXCLUSIVE, restored, !restored);
	return 0;
}
