/* SPDX-License-Identifier: MIT */
/**
 * @file device.h
 * @brief Device memory: device-private pages (ZONE_DEVICE / struct
 *        dev_pagemap), migrate_vma to and from them, and device-exclusive
 *        access (make_device_exclusive()).
 *
 * A device-private page is a frame taken from the simulation's pool and
 * owned by a struct mmn_dev_pagemap; a CPU page table maps it with a
 * device-private entry (MMN_SWP_DEVICE_PRIVATE_READ/WRITE): not present for
 * the CPU, a mapping for software (mapcount and a reference, as the kernel
 * counts them). A CPU access to such an entry calls the pagemap's
 * migrate_to_ram(). A device-exclusive entry (MMN_SWP_DEVICE_EXCLUSIVE,
 * _READ after mprotect removed write) replaces the PTE of an ordinary
 * anonymous page so that only the device accesses it (atomics); the CPU's
 * next access restores the PTE (remove_device_exclusive_entry()), lazily,
 * with a notification a process-wide listener sees (seed 004). The page
 * stays mapped while the entry is there (the 6.15+ accounting).
 *
 * Locking: every function here takes mmap_lock for read itself, except the
 * migrate_to_ram() callback and mmn_devmem_migrate_to_ram_default(), which
 * run from the fault path with mmap_lock held for read and the faulting
 * device page locked and referenced (do_swap_page()).
 *
 * Every function here that takes an mm and returns an errno refuses a
 * torn-down mm (mm_users 0, kept allocated by mmn_mmgrab(); see mm.h) with
 * -EINVAL, exactly as it refuses a NULL one.
 */
#ifndef MMNSIM_DEVICE_H
#define MMNSIM_DEVICE_H

#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;
struct mmn_dev_pagemap;
struct mmn_devmem_pool;

/** struct dev_pagemap_ops. */
struct mmn_dev_pagemap_ops {
	/**
	 * dev_pagemap_ops.migrate_to_ram: a CPU touched device page @p dev_pfn
	 * mapped at @p addr of @p mm. Called with mmap_lock held for read and
	 * the page locked and referenced. Return 0 (the access is retried,
	 * whether or not the page moved) or a negative errno for the fault.
	 * NULL: mmn_devmem_migrate_to_ram_default().
	 */
	int (*migrate_to_ram)(struct mmn_dev_pagemap *pgmap, struct mmn_mm *mm, unsigned long addr,
			      unsigned long dev_pfn);
};

/** struct dev_pagemap (MEMORY_DEVICE_PRIVATE) with its pool of device pages. */
struct mmn_dev_pagemap {
	void *owner;                             /**< pgmap->owner: the driver's migrate_vma/hmm owner */
	const struct mmn_dev_pagemap_ops *ops;   /**< may be NULL (default migrate_to_ram) */
	struct mmn_sim *sim;                     /**< the simulation its pages belong to */
	struct mmn_devmem_pool *pool;            /**< private: the pool of device pages */
};

/**
 * mmn_devmem_create() - memremap_pages() of a MEMORY_DEVICE_PRIVATE range:
 * take @p nr_pages frames from the simulation's pool for a new pagemap.
 * @param sim       the simulation
 * @param nr_pages  pages of device memory (at least 1)
 * @param owner     pgmap->owner (what the driver passes to migrate_vma and
 *                  what its listener compares with a MIGRATE event's owner)
 * @param ops       migrate_to_ram, or NULL for the default
 * @param out       receives the pagemap
 * @return 0, -EINVAL for a NULL @p sim or @p out or no pages, -ENOMEM when
 *         the pool has not enough frames (nothing is taken) or the
 *         simulation already has 63 pagemaps.
 */
MMN_API int mmn_devmem_create(struct mmn_sim *sim, unsigned long nr_pages, void *owner,
			      const struct mmn_dev_pagemap_ops *ops, struct mmn_dev_pagemap **out);

/**
 * mmn_devmem_destroy() - memunmap_pages(): give the frames back.
 * mmn_sim_destroy() frees the pagemaps still existing then. The struct of a
 * destroyed pagemap stays allocated (a few dozen bytes) until
 * mmn_sim_destroy(), so that a second destroy is reported
 * (MMN_VIOL_PROTOCOL, -EINVAL) and a later use is refused: -EINVAL from
 * mmn_migrate_vma_to_device(), mmn_migrate_vma_to_ram() and
 * mmn_devmem_migrate_to_ram_default(), 0 from the counters.
 * @return 0, -EINVAL for NULL or a pagemap already destroyed, -EBUSY while a
 *         device page is in use (mapped or referenced; migrate it back or
 *         unmap it first).
 */
MMN_API int mmn_devmem_destroy(struct mmn_dev_pagemap *pgmap);

/** Idle device pages of @p pgmap now. */
MMN_API unsigned long mmn_devmem_nr_free(struct mmn_dev_pagemap *pgmap);

/** Number of migrate_to_ram() calls made by the CPU fault path for @p pgmap. */
MMN_API unsigned long mmn_devmem_migrate_to_ram_calls(struct mmn_dev_pagemap *pgmap);

/**
 * mmn_devmem_migrate_to_ram_default() - what a driver's migrate_to_ram does
 * (lib/test_hmm.c dmirror_devmem_fault()): migrate_vma_setup() over the
 * faulting page with MIGRATE_VMA_SELECT_DEVICE_PRIVATE, pgmap_owner =
 * @p pgmap->owner and fault_page = @p dev_pfn, allocate a system page,
 * copy, migrate_vma_pages(), migrate_vma_finalize(). Called from the fault
 * path (mmap_lock read, @p dev_pfn locked and referenced).
 * @return 0 (also when the page could not be collected: the fault retries),
 *         -ENOMEM when no system frame is left (VM_FAULT_OOM).
 */
MMN_API int mmn_devmem_migrate_to_ram_default(struct mmn_dev_pagemap *pgmap, struct mmn_mm *mm,
					      unsigned long addr, unsigned long dev_pfn);

/**
 * mmn_migrate_vma_to_device() - migrate_vma_setup(SELECT_SYSTEM) +
 * migrate_vma_pages() + migrate_vma_finalize() of [@p start, @p end) to
 * device pages of @p pgmap (test_hmm's MIGRATE_TO_DEV).
 *
 * Models migrate_vma_collect() (5.9+: event MIGRATE, owner = pgmap->owner;
 * profiles without migrate_event: CLEAR and no owner; without events:
 * UNMAP): S over the range → per PTE table: L, for each present private
 * anonymous page mapped once (not the zero page, KSM, pinned or otherwise
 * referenced, locked by someone else), take a reference and the page lock,
 * clear the PTE, install a migration entry (write/soft-dirty kept, dirty to
 * the page, mapping removed), F1 over the range if anything was unmapped
 * (F2 inside it in 6.6+), U → E (with the pre-6.6 ->invalidate_range).
 * Then, no notifier: allocate a device page per collected page, copy,
 * replace each migration entry under the PTL with a device-private entry
 * (WRITE if the PTE was writable) — or, when no device page was left, with
 * the original page again — and migrate_vma_finalize(): unlock and release
 * the sources (freed). Holes (pte_none, no page table) and zero-page entries
 * of a private anonymous VMA get new (zeroed) device pages before that
 * (migrate_vma_pages() → migrate_vma_insert_page()): the first such page
 * starts a second range (same event and owner) from its address to @p end,
 * lazily; each is installed under the PTL if the entry is still none, or
 * still the zero page, cleared and flushed first (F1 [+F2]); E after the
 * last.
 * The other mappings of a COW-shared page (fork) are then unmapped through
 * the reverse map (migrate_vma_unmap() → try_to_migrate_one(): S(CLEAR) over
 * the page, L, clear + flush, migration entry, U, E per mapping), and every
 * mm maps the device page afterwards; a page some mapping could not give up
 * stays where it was.
 * A PMD-mapped anonymous THP mapped once and referenced only by that
 * mapping (no pin) is split first and all 512 subpages are collected
 * (5.14-6.5 migrate_vma_collect_pmd(): split_huge_page(); 6.19 moves the
 * THP whole: not modelled); any other THP is skipped and stays PMD-mapped.
 *
 * @param mm        the address space
 * @param start     page-aligned start
 * @param end       page-aligned end, inside the same VMA as @p start
 * @param pgmap     destination pagemap (same simulation)
 * @param dev_pfns  receives, per page, the device pfn now mapped there, or 0
 * @return 0 (some pages may not have moved), -EINVAL for NULL arguments, a
 *         misaligned or empty range, a range not inside one readable VMA,
 *         a hugetlb VMA or a pagemap of another simulation (nothing
 *         changes).
 */
MMN_API int mmn_migrate_vma_to_device(struct mmn_mm *mm, unsigned long start, unsigned long end,
				      struct mmn_dev_pagemap *pgmap, unsigned long *dev_pfns);

/**
 * mmn_migrate_vma_to_ram() - migrate_vma_setup(SELECT_DEVICE_PRIVATE) over
 * [@p start, @p end) for the device pages of @p pgmap (test_hmm's
 * MIGRATE_TO_SYS; the fault path uses the same code for one page).
 *
 * S(MIGRATE, owner = pgmap->owner) → L, each device-private entry of a
 * page of @p pgmap (other pagemaps' entries are skipped) becomes a
 * migration entry (no CPU flush: the entry was not present) → U → E; pages
 * still mapped elsewhere (fork) are unmapped through the reverse map
 * (try_to_migrate_one(): S(CLEAR)/L/U/E per mapping); then a system page
 * per device page, copy, every migration entry → the system page (writable
 * if the device entry was and the VMA is), finalize (the device page goes
 * back to the pool).
 * @param mm     the address space
 * @param start  page-aligned start
 * @param end    page-aligned end, inside the same VMA as @p start
 * @param pgmap  the pagemap whose pages come back (others' are skipped)
 * @param pfns   receives, per page, the system pfn now mapped there, or 0
 * @return 0, -EINVAL as mmn_migrate_vma_to_device(), -ENOMEM when system
 *         frames ran out (the pages not moved stay on the device).
 */
MMN_API int mmn_migrate_vma_to_ram(struct mmn_mm *mm, unsigned long start, unsigned long end,
				   struct mmn_dev_pagemap *pgmap, unsigned long *pfns);

/**
 * mmn_make_device_exclusive() - make_device_exclusive() (6.15+ shape: one
 * page; 5.14-6.14 make_device_exclusive_range() did the same per page).
 *
 * Under mmap_lock (read, taken here): GUP the page of @p addr writable
 * (faulting, breaking COW), lock it, S(EXCLUSIVE, owner = @p owner) over the
 * page, take the PTL and recheck that the entry is still a writable PTE of
 * that page (else U, E, unlock, put and retry from the GUP; every retry is a
 * notification that changed nothing and is counted as such), clear and flush
 * it (ptep_clear_flush(): F1, F2 per profile), move the dirty bit to the
 * page, install a device-exclusive entry (soft-dirty kept; the page stays
 * mapped), U, E.
 *
 * @param mm     the address space
 * @param addr   any address in the page
 * @param owner  the range's owner (the driver's listener may skip it)
 * @param pfn    receives the page, returned LOCKED and REFERENCED as the
 *               kernel returns its folio: the caller programs its device
 *               and then calls mmn_device_exclusive_release()
 * @return 0, -EINVAL for NULL arguments, -EOPNOTSUPP when the profile has no
 *         device_exclusive (before 5.14) or the page is not a private
 *         anonymous 4 KiB page (shared memory, hugetlb), -EFAULT outside user
 *         space or any VMA, -EACCES for a VMA without write permission,
 *         -ENOMEM when the write fault found no frame, -EBUSY after 100
 *         retries. Nothing changes on error.
 */
MMN_API int mmn_make_device_exclusive(struct mmn_mm *mm, unsigned long addr, void *owner,
				      unsigned long *pfn);

/** folio_unlock() + folio_put() of the page mmn_make_device_exclusive() returned. */
MMN_API void mmn_device_exclusive_release(struct mmn_sim *sim, unsigned long pfn);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_DEVICE_H */
