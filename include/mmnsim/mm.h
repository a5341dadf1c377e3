/* SPDX-License-Identifier: MIT */
/**
 * @file mm.h
 * @brief Address spaces (mm_struct) and their VMAs; mmap, munmap and CPU
 *        loads and stores.
 *
 * An mm has two reference counts, as in the kernel: mm_users (mmget/mmput:
 * the address space is alive; the last put tears it down as exit_mmap does)
 * and mm_count (mmgrab/mmdrop: the struct itself stays allocated). VMAs are
 * guarded by mmap_lock.
 *
 * A torn-down mm (mm_users 0, kept allocated by an mmgrab) is refused with
 * -EINVAL by every operation that takes an mm and returns an errno (mmap,
 * munmap, the CPU accesses, the VMA queries, the page walk, the operations
 * of ops.h, fault.h and device.h, the notifier registrations); the functions
 * returning a count return 0 for it. The mmap_lock functions, the TLB
 * flushes, mmn_mm_sim(), mmn_mm_id() and mmn_mm_users() still accept it (its
 * lock and id live until the last mmdrop). After the last mmn_mmdrop() the
 * struct is freed and nothing can be checked: a use then is a use after free
 * (ASan, valgrind).
 */
#ifndef MMNSIM_MM_H
#define MMNSIM_MM_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;

/* Protection bits (PROT_*). Write implies read, as on x86. */
#define MMN_PROT_NONE 0x0   /**< no access */
#define MMN_PROT_READ 0x1   /**< loads allowed */
#define MMN_PROT_WRITE 0x2  /**< stores allowed (implies read) */

/* Mapping flags (MAP_*). Exactly one of PRIVATE and SHARED. */
#define MMN_MAP_SHARED 0x01        /**< shared: no COW, the pages live in a shmem object */
#define MMN_MAP_PRIVATE 0x02       /**< private: copy-on-write */
#define MMN_MAP_FIXED 0x10         /**< exactly at the address given, replacing what is there */
#define MMN_MAP_ANONYMOUS 0x20     /**< required: file mappings are not modelled */
#define MMN_MAP_POPULATE 0x8000    /**< fault every page in at mmap time */
#define MMN_MAP_HUGETLB 0x40000    /**< 2 MiB pages from the hugetlb pool */

/** Lowest address mmap may use (vm.mmap_min_addr's default). */
#define MMN_MMAP_MIN_ADDR 0x10000UL
/** Where top-down placement starts (below the stack gap). */
#define MMN_MMAP_BASE 0x7f0000000000UL

/**
 * mmn_mm_create() - a new, empty address space (mm_users = mm_count = 1).
 * @return the mm, or NULL (errno EINVAL for a NULL @p sim, ENOMEM when no
 *         frame is left for its PGD).
 */
MMN_API struct mmn_mm *mmn_mm_create(struct mmn_sim *sim);

/**
 * mmn_mm_get() - mmget(): take a user reference. NULL is a no-op. On a
 * torn-down mm (no user left: the kernel's mmget_not_zero() case) it reports
 * MMN_VIOL_ACCOUNTING and takes nothing.
 */
MMN_API void mmn_mm_get(struct mmn_mm *mm);

/**
 * mmn_mm_put() - mmput(): drop a user reference. The last one tears the
 * address space down as exit_mmap() does (mmn_notifier_release() first, then
 * every mapping unmapped inside one MMN_NOTIFY_UNMAP range over the whole
 * address space, every page-table page freed), then drops the mm_count
 * reference the users held.
 * May sleep. NULL is a no-op. A put with no user left (a double put, on an
 * mm kept allocated by an mmgrab) reports MMN_VIOL_ACCOUNTING and does
 * nothing; a double put of an mm nobody grabbed touches freed memory and
 * cannot be checked.
 */
MMN_API void mmn_mm_put(struct mmn_mm *mm);

/**
 * mmn_mm_get_not_zero() - mmget_not_zero(): take a user reference unless
 * none is left (the mm is being or has been torn down), atomically.
 * @return true if a reference was taken; false for NULL or no user left.
 */
MMN_API bool mmn_mm_get_not_zero(struct mmn_mm *mm);

/** mmn_mmgrab() - mmgrab(): keep the struct alive (not the mappings). */
MMN_API void mmn_mmgrab(struct mmn_mm *mm);

/**
 * mmn_mmdrop() - mmdrop(): the last reference frees the struct. The users
 * together hold one reference (dropped by the last mmn_mm_put()): an mmdrop
 * that would take it while users remain (an extra mmdrop) reports
 * MMN_VIOL_ACCOUNTING and does nothing. An mmdrop after the struct was
 * freed cannot be checked. NULL is a no-op.
 */
MMN_API void mmn_mmdrop(struct mmn_mm *mm);

/** mmn_mm_sim() - the simulation @p mm belongs to. */
MMN_API struct mmn_sim *mmn_mm_sim(const struct mmn_mm *mm);

/** mmn_mm_id() - small id, unique within the simulation (for traces). */
MMN_API unsigned int mmn_mm_id(const struct mmn_mm *mm);

/** mmn_mm_users() - the mm_users count now. */
MMN_API int mmn_mm_users(const struct mmn_mm *mm);

/**
 * mmn_mmap() - mmap(): create a mapping.
 * @param mm        the address space
 * @param addr      hint, or the exact address with MMN_MAP_FIXED
 *                  (which replaces what was mapped there)
 * @param len       length in bytes, rounded up to the page size (the huge
 *                  page size with MMN_MAP_HUGETLB)
 * @param prot      MMN_PROT_* bits
 * @param flags     MMN_MAP_* bits
 * @param out_addr  receives the start of the mapping (may be NULL)
 * @return 0; -EINVAL for a NULL or torn-down @p mm, a zero length, unknown prot or flag
 *         bits, neither or both of PRIVATE and SHARED, no ANONYMOUS, or a
 *         misaligned FIXED address; -ENOMEM when the length overflows, the
 *         FIXED range leaves user space or no gap is large enough; -EPERM for
 *         a FIXED address below MMN_MMAP_MIN_ADDR. On error nothing changes.
 *
 * Takes mmap_lock for write; may sleep. Adjacent VMAs are not merged.
 */
MMN_API int mmn_mmap(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot,
		     int flags, unsigned long *out_addr);

/**
 * mmn_munmap() - munmap(): remove the mappings in [@p addr, @p addr + @p len).
 *
 * Follows unmap_region(): split the VMAs at the edges, detach them, downgrade
 * mmap_lock, then under an mmu_gather zap the PTEs (each under its PTL)
 * inside one MMN_NOTIFY_UNMAP range spanning the detached VMAs
 * (mmn_notifier_invalidate_range_start() before the zap,
 * mmn_notifier_invalidate_range_end() after it), free empty page-table
 * pages, and flush the CPU TLBs (and the secondary TLBs, where the profile
 * puts that flush) before any page or table is freed.
 * @return 0 (also when nothing was mapped there); -EINVAL for a NULL or
 *         torn-down @p mm, a
 *         misaligned @p addr, a zero or overflowing @p len, or a range that cuts
 *         a hugetlb VMA off its 2 MiB alignment. On error nothing changes.
 */
MMN_API int mmn_munmap(struct mmn_mm *mm, unsigned long addr, unsigned long len);

/**
 * mmn_cpu_read() - a load of simulated CPU @p cpu in @p mm.
 *
 * TLB first; on a miss a hardware walk that fills the TLB; if the walk
 * finds no usable entry, the page-fault handler (mmn_handle_mm_fault()),
 * then the access is retried. An access through a TLB entry whose frame was
 * freed meanwhile is performed and reported as MMN_VIOL_USE_AFTER_FREE.
 * @return 0; -EINVAL for a NULL or torn-down @p mm, a NULL @p val or a @p cpu
 *         out of range; -EFAULT
 *         outside any VMA; -EACCES on a protection violation; -ENOMEM when
 *         the fault needs a frame and none is left; -EAGAIN when 1000
 *         faults in a row did not make the access possible (concurrent
 *         invalidations without end; the kernel would keep retrying).
 */
MMN_API int mmn_cpu_read(struct mmn_mm *mm, int cpu, unsigned long addr, uint64_t *val);

/**
 * mmn_cpu_write() - a store of @p val by simulated CPU @p cpu in @p mm. Errors as
 * mmn_cpu_read(); a write to a read-only private page takes the COW fault.
 */
MMN_API int mmn_cpu_write(struct mmn_mm *mm, int cpu, unsigned long addr, uint64_t val);

/** A snapshot of one VMA. */
struct mmn_vma_info {
	unsigned long start;  /**< first address */
	unsigned long end;    /**< first address past the VMA */
	int prot;             /**< MMN_PROT_* */
	int flags;            /**< MMN_MAP_SHARED or MMN_MAP_PRIVATE, | MMN_MAP_HUGETLB */
};

/**
 * mmn_find_vma() - the VMA containing @p addr (not the next one above, unlike
 * the kernel's find_vma(): use mmn_vma_count()/mmn_vma_at() to iterate).
 * Takes mmap_lock for read unless the calling actor holds it already (as
 * lockdep tells; with lockdep off the caller must not hold it). The same
 * holds for mmn_vma_count() and mmn_vma_at().
 * @return 0, -EINVAL for NULL arguments or a torn-down @p mm, -ENOENT if no
 *         VMA contains @p addr.
 */
MMN_API int mmn_find_vma(struct mmn_mm *mm, unsigned long addr, struct mmn_vma_info *out);

/** mmn_vma_count() - number of VMAs of @p mm now; 0 for NULL or torn down. */
MMN_API int mmn_vma_count(struct mmn_mm *mm);

/**
 * mmn_vma_at() - the @p idx-th VMA in address order.
 * @return 0, -EINVAL for NULL arguments or a torn-down @p mm, -ENOENT for
 *         @p idx out of range.
 */
MMN_API int mmn_vma_at(struct mmn_mm *mm, int idx, struct mmn_vma_info *out);

/* mmap_lock, for listeners and research code that must take it. A NULL mm:
 * no-op (trylock returns 0). */
/** mmap_read_lock(): may sleep. */
MMN_API void mmn_mmap_read_lock(struct mmn_mm *mm);
/** mmap_read_trylock(): 1 if acquired. */
MMN_API int mmn_mmap_read_trylock(struct mmn_mm *mm);
/** mmap_read_unlock(). */
MMN_API void mmn_mmap_read_unlock(struct mmn_mm *mm);
/** mmap_write_lock(): may sleep. */
MMN_API void mmn_mmap_write_lock(struct mmn_mm *mm);
/** mmap_write_unlock(). */
MMN_API void mmn_mmap_write_unlock(struct mmn_mm *mm);
/** mmap_write_downgrade(). */
MMN_API void mmn_mmap_write_downgrade(struct mmn_mm *mm);
/**
 * mmn_mmap_assert_locked() - mmap_assert_locked() (5.8+): report
 * MMN_VIOL_PROTOCOL when the calling actor holds @p mm's mmap_lock in
 * neither mode (see mmn_lockdep_assert_held()). Never a scheduling point.
 */
MMN_API void mmn_mmap_assert_locked(struct mmn_mm *mm);

/**
 * mmn_audit() - check, at quiescence, that the whole simulation's
 * bookkeeping agrees with its page tables: each frame's mapcount equals the
 * number of entries mapping it, its refcount equals mappings + page-cache
 * references + pins, no allocated frame is unreachable, no entry points at a
 * free frame, every present entry lies in a VMA and grants no more than the
 * VMA allows, every table's population count is right. Each inconsistency is
 * reported as MMN_VIOL_ACCOUNTING.
 *
 * Call it when no actor is running: it takes every mm's mmap_lock for write.
 * @return the number of inconsistencies (0: consistent), -EINVAL for NULL,
 *         -ENOMEM if the host cannot allocate the audit's scratch space.
 */
MMN_API long mmn_audit(struct mmn_sim *sim);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_MM_H */
