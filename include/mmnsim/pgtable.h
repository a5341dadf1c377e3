/* SPDX-License-Identifier: MIT */
/**
 * @file pgtable.h
 * @brief The primary page table: an x86-64-like 4-level radix tree.
 *
 * PGD → PUD → PMD → PTE, 512 entries each, 48-bit virtual addresses, 4 KiB
 * pages and 2 MiB PMD leaves. Entries are 64-bit words with x86-like bits;
 * a non-present, non-zero entry is either a PROT_NONE entry
 * (MMN_PTE_PROTNONE: still a mapping) or a swap-style entry of one of the
 * kinds below (migration, device-exclusive, device-private).
 *
 * Locking, as the kernel's split PTLs: each PTE table has its own lock (the
 * PTL); a PMD table's lock guards its PMD leaves (pmd_lock());
 * mm->page_table_lock guards the population of upper levels. Hardware
 * walkers (CPU TLB fills, an IOMMU walking the CPU table) take no lock and
 * read entries atomically, setting accessed/dirty bits with compare-and-swap,
 * which is why software changes a present entry only with atomic
 * exchange-style updates.
 *
 * Every function here that takes an mm and returns an errno refuses a
 * torn-down mm (mm_users 0, kept allocated by mmn_mmgrab(); see mm.h) with
 * -EINVAL, exactly as it refuses a NULL one.
 */
#ifndef MMNSIM_PGTABLE_H
#define MMNSIM_PGTABLE_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>
#include <mmnsim/page.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_mm;

/** A page-table entry at any level. */
typedef uint64_t mmn_pte_t;

#define MMN_PTRS_PER_TABLE 512 /**< entries of a page-table page, at every level */
/** First address above user space (x86-64 TASK_SIZE_MAX with 4 levels). */
#define MMN_TASK_SIZE ((1UL << 47) - MMN_PAGE_SIZE)

/* Present entries. */
#define MMN_PTE_PRESENT (1ULL << 0)     /**< maps a frame (_PAGE_PRESENT) */
#define MMN_PTE_WRITE (1ULL << 1)       /**< stores allowed (_PAGE_RW) */
#define MMN_PTE_USER (1ULL << 2)        /**< user access allowed; set by mmn_mk_pte() */
#define MMN_PTE_ACCESSED (1ULL << 5)    /**< young; walkers set it on access */
#define MMN_PTE_DIRTY (1ULL << 6)       /**< dirty; walkers set it on a store */
#define MMN_PTE_HUGE (1ULL << 7)        /**< PMD leaf (PSE) */
/**
 * PROT_NONE entry (x86 _PAGE_PROTNONE): with MMN_PTE_PRESENT clear it keeps
 * its pfn and every other bit, is not present for hardware walkers (a TLB
 * fill faults) but is still a mapping for software (mapcount, zap, audit).
 * Made by mprotect(PROT_NONE) and by NUMA hinting (change_prot_numa()).
 */
#define MMN_PTE_PROTNONE (1ULL << 8)
/**
 * userfaultfd write-protected (x86 _PAGE_UFFD_WP, software bit 10; 5.7+,
 * include/mmnsim/userfaultfd.h): set with the write bit cleared by
 * UFFDIO_WRITEPROTECT; a store faults to the userfaultfd instead of being
 * resolved. Kept in swap-style entries too (x86 keeps it in _PAGE_SWP_UFFD_WP).
 */
#define MMN_PTE_UFFD_WP (1ULL << 10)
#define MMN_PTE_SOFT_DIRTY (1ULL << 11) /**< kept in swap entries too */
#define MMN_PTE_PFN_SHIFT 12            /**< position of the frame number */
#define MMN_PTE_PFN_MASK (((1ULL << 40) - 1) << MMN_PTE_PFN_SHIFT) /**< frame-number bits */

/** Kinds of non-present, non-empty entries (bits 1-4 when bit 0 is clear). */
enum mmn_swp_type {
	MMN_SWP_NONE = 0,             /**< none or present: not a swap-style entry */
	MMN_SWP_MIGRATION_READ = 1,   /**< migration entry of a read-only PTE */
	MMN_SWP_MIGRATION_WRITE = 2,  /**< migration entry of a writable PTE */
	MMN_SWP_DEVICE_EXCLUSIVE = 3, /**< make_device_exclusive() */
	MMN_SWP_DEVICE_PRIVATE_READ = 4, /**< device-private entry of a read-only PTE */
	MMN_SWP_DEVICE_PRIVATE_WRITE = 5, /**< device-private entry of a writable PTE */
	MMN_SWP_HWPOISON = 6,         /**< a poisoned frame (memory failure) */
	MMN_SWP_SWAP = 7,             /**< swapped out by reclaim: the pfn field is the swap slot */
	/** A device-exclusive entry made read-only by mprotect (pre-6.15
	 * make_readable_device_exclusive_entry()); MMN_SWP_DEVICE_EXCLUSIVE is the writable one. */
	MMN_SWP_DEVICE_EXCLUSIVE_READ = 8,
};
#define MMN_SWP_TYPE_SHIFT 1      /**< position of the kind in a non-present entry */
#define MMN_SWP_TYPE_MASK (0xfULL << MMN_SWP_TYPE_SHIFT) /**< bits of the kind (enum mmn_swp_type) */

/** pte_none(). */
static inline bool mmn_pte_none(mmn_pte_t e) { return e == 0; }
/** pte_present(). */
static inline bool mmn_pte_present(mmn_pte_t e) { return e & MMN_PTE_PRESENT; }
/** pte_write(). */
static inline bool mmn_pte_write(mmn_pte_t e) { return e & MMN_PTE_WRITE; }
/** pte_dirty(). */
static inline bool mmn_pte_dirty(mmn_pte_t e) { return e & MMN_PTE_DIRTY; }
/** pte_young(). */
static inline bool mmn_pte_young(mmn_pte_t e) { return e & MMN_PTE_ACCESSED; }
/** pte_soft_dirty(). */
static inline bool mmn_pte_soft_dirty(mmn_pte_t e) { return e & MMN_PTE_SOFT_DIRTY; }
/** pte_uffd_wp() / pte_swp_uffd_wp(). */
static inline bool mmn_pte_uffd_wp(mmn_pte_t e) { return e & MMN_PTE_UFFD_WP; }
/** pmd_leaf(): a present 2 MiB leaf. */
static inline bool mmn_pmd_leaf(mmn_pte_t e)
{
	return (e & (MMN_PTE_PRESENT | MMN_PTE_HUGE)) == (MMN_PTE_PRESENT | MMN_PTE_HUGE);
}
/** pte_pfn(): frame of a present entry or of a swap-style entry. */
static inline unsigned long mmn_pte_pfn(mmn_pte_t e)
{
	return (unsigned long)((e & MMN_PTE_PFN_MASK) >> MMN_PTE_PFN_SHIFT);
}
/** pte_protnone(): a PROT_NONE entry (not present to hardware, still mapped). */
static inline bool mmn_pte_protnone(mmn_pte_t e)
{
	return (e & (MMN_PTE_PRESENT | MMN_PTE_PROTNONE)) == MMN_PTE_PROTNONE;
}
/** A mapping for software: present, or PROT_NONE (x86's pte_present()). */
static inline bool mmn_pte_mapped(mmn_pte_t e)
{
	return e & (MMN_PTE_PRESENT | MMN_PTE_PROTNONE);
}
/** The kind of a non-present entry (MMN_SWP_NONE for none, present or PROT_NONE). */
static inline enum mmn_swp_type mmn_pte_swp_type(mmn_pte_t e)
{
	if (e & (MMN_PTE_PRESENT | MMN_PTE_PROTNONE))
		return MMN_SWP_NONE;
	return (enum mmn_swp_type)((e & MMN_SWP_TYPE_MASK) >> MMN_SWP_TYPE_SHIFT);
}
/**
 * A device-private or device-exclusive entry (include/mmnsim/device.h): not
 * present for the CPU, but a mapping of its page for software (mapcount and
 * the mapping's reference), as the kernel counts them.
 */
static inline bool mmn_pte_device(mmn_pte_t e)
{
	enum mmn_swp_type t = mmn_pte_swp_type(e);

	return !mmn_pte_none(e) && (t == MMN_SWP_DEVICE_EXCLUSIVE || t == MMN_SWP_DEVICE_EXCLUSIVE_READ ||
				    t == MMN_SWP_DEVICE_PRIVATE_READ || t == MMN_SWP_DEVICE_PRIVATE_WRITE);
}
/** A device entry that grants write access (device-private WRITE, device-exclusive). */
static inline bool mmn_pte_device_write(mmn_pte_t e)
{
	enum mmn_swp_type t = mmn_pte_swp_type(e);

	return !mmn_pte_none(e) && (t == MMN_SWP_DEVICE_EXCLUSIVE || t == MMN_SWP_DEVICE_PRIVATE_WRITE);
}
/** mk_pte(): a present entry for @p pfn with extra bits @p bits. */
static inline mmn_pte_t mmn_mk_pte(unsigned long pfn, uint64_t bits)
{
	return ((uint64_t)pfn << MMN_PTE_PFN_SHIFT) | MMN_PTE_PRESENT | MMN_PTE_USER | bits;
}
/** A swap-style (non-present) entry of @p type for @p pfn. */
static inline mmn_pte_t mmn_mk_swp_pte(enum mmn_swp_type type, unsigned long pfn)
{
	return ((uint64_t)pfn << MMN_PTE_PFN_SHIFT) | ((uint64_t)type << MMN_SWP_TYPE_SHIFT);
}

/** Where a translation was found. */
enum mmn_pt_level {
	MMN_PT_NONE = 0, /**< no table reaches the address */
	MMN_PT_PTE = 1,  /**< a 4 KiB entry */
	MMN_PT_PMD = 2,  /**< a 2 MiB PMD leaf */
};

/** Result of a lockless walk. */
struct mmn_walk {
	enum mmn_pt_level level; /**< where the walk stopped */
	mmn_pte_t entry;         /**< the entry found there (0 when none) */
	unsigned long pfn;       /**< frame of the walked address itself (subpage for a PMD leaf), if present */
	uint32_t gen;            /**< generation of the frame (head's for a PMD leaf) */
};

/**
 * mmn_pgtable_walk() - read the translation of @p addr the way a hardware
 * walker does (x86 page walk, an IOMMU walking the CPU table): no lock, an
 * atomic read per level. The result can be stale by the time it is used;
 * only invalidation (TLB flush, notifiers) makes it safe to cache.
 * @return 0 (see @p out->level), -EINVAL for NULL arguments, -EFAULT for an
 *         address outside user space.
 */
MMN_API int mmn_pgtable_walk(struct mmn_mm *mm, unsigned long addr, struct mmn_walk *out);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_PGTABLE_H */
