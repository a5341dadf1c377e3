// SPDX-License-Identifier: MIT
/*
 * Device-private memory, the operations (the pagemaps themselves are
 * lib/mm/memremap.c's). The CPU fault on a device-private entry
 * (do_swap_page()): take a reference, trylock the page, call
 * pgmap->ops->migrate_to_ram(), unlock, put.
 */
#include "ops/device_internal.h"

int mmn_devmem_migrate_to_ram_default(struct mmn_dev_pagemap *pg, struct mmn_mm *mm,
				      unsigned long addr, unsigned long dev_pfn)
{
	struct mmn_vma *vma;
	unsigned long out = 0;

	if (!pg || !pg->pool || mmn__mm_dead(mm) || pg->sim != mm->sim)
		return -EINVAL;
	addr &= MMN_PAGE_MASK;
	vma = mmn_vma_lookup(mm, addr);
	if (!vma)
		return -EFAULT;
	return mmn__mvma_run(mm, vma, addr, addr + MMN_PAGE_SIZE, pg, false, dev_pfn, &out);
}

/* do_swap_page() on a device entry, under mmap_lock for read. */
int mmn_do_device_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			unsigned int idx, unsigned long addr, mmn_pte_t orig, bool write)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long pfn = mmn_pte_pfn(orig);
	struct mmn_dev_pagemap *pg;
	bool same;
	int err;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	(void)write;
	if (mmn_pte_swp_type(orig) == MMN_SWP_DEVICE_EXCLUSIVE ||
	    mmn_pte_swp_type(orig) == MMN_SWP_DEVICE_EXCLUSIVE_READ)
		return mmn__devx_restore_fault(mm, vma, pt, idx, addr, orig);
	mmn_spin_lock(&pt->ptl);
	same = mmn_pte_get(sim, pt, idx, addr) == orig;
	if (same)
		mmn_get_page(sim, pfn);
	mmn_spin_unlock(&pt->ptl);
	if (!same)
		return 0;
	if (!mmn_trylock_page(sim, pfn)) {
		/* Someone migrates it: wait, then retry the access. */
		mmn_wait_on_page_locked(sim, pfn);
		mmn_put_page(sim, pfn);
		return 0;
	}
	pg = mmn__devmem_pgmap_of(sim, pfn);
	if (pg) {
		atomic_fetch_add(&pg->pool->migrate_to_ram_calls, 1);
		err = pg->ops && pg->ops->migrate_to_ram
			      ? pg->ops->migrate_to_ram(pg, mm, addr & MMN_PAGE_MASK, pfn)
			      : mmn_devmem_migrate_to_ram_default(pg, mm, addr & MMN_PAGE_MASK, pfn);
	} else {
		err = -EFAULT;
	}
	mmn_unlock_page(sim, pfn);
	mmn_put_page(sim, pfn);
	return err < 0 ? err : 0;
}
