/* SPDX-License-Identifier: MIT */
/**
 * @file hmm.h
 * @brief The HMM-style reference listener: a device that mirrors a range of
 *        a process address space, after the kernel's lib/test_hmm.c dmirror
 *        driver (and the HMM users of section 3.3 of the reference: nouveau,
 *        amdkfd, RDMA ODP).
 *
 * The modelled driver:
 * - an interval notifier (mmu_interval_notifier) over the mirrored range;
 * - a device page table indexed by page (the dmirror's xarray keyed by
 *   address >> PAGE_SHIFT): each entry holds a frame, the generation it had
 *   when the entry was programmed, and the tags WRITE and ATOMIC;
 *   it holds no page reference (as dmirror): correctness rests entirely on the
 *   invalidate callback erasing entries before the pages go;
 * - a device mutex (dmirror->mutex) taken by the invalidate callback around
 *   mmn_interval_set_seq() and by the fault loop around
 *   mmn_interval_read_retry() and the programming of entries;
 * - the fault loop of dmirror_range_fault(): read_begin → under mmap_lock
 *   for read an hmm_range_fault()-like walk that faults pages in
 *   (mmn_handle_mm_fault()) and gives up with -EBUSY as soon as
 *   mmn_interval_check_retry() says a collision happened → device mutex →
 *   read_retry (retry) → program. The kernel bounds the loop with
 *   HMM_RANGE_DEFAULT_TIMEOUT (1 s of real time); the model bounds it with a
 *   retry budget (mmn_hmm_config::retry_budget) so that runs stay
 *   deterministic: past it the fault fails with -EBUSY (a "give-up");
 * - device reads and writes (the READ/WRITE ioctls: dmirror_read/write):
 *   copy through the device page table under the device mutex, fault the
 *   missing part in, count the fault passes (cmd->faults);
 * - snapshot (the SNAPSHOT ioctl): a temporary interval notifier per chunk,
 *   a walk that faults nothing, one byte per page (MMN_HMM_PROT_*);
 * - device-exclusive access for atomics (make_device_exclusive(), the
 *   EXCLUSIVE ioctl and nouveau's atomic faults);
 * - migration to device-private memory and back (MIGRATE_TO_DEV,
 *   MIGRATE_TO_SYS, and migrate_to_ram on a CPU fault), with an owner that
 *   lets the invalidate callback skip the MIGRATE notifications the device
 *   causes itself.
 *
 * Variants (mmn_hmm_config::variant) for the seed scenarios S5-S7
 * (docs/scenarios.md): the event-aware driver (default), an event-blind one
 * that treats every notification as an UNMAP (a driver before 5.2, seed
 * 003) and the old hmm_mirror that tracked validity with a flag instead of
 * a sequence (the ABA race, scenario S7).
 *
 * Locking order: mmap_lock → folio lock → device mutex. Device accesses may
 * sleep. Every device access is reported with mmn_phys_access() with the
 * generation its entry recorded, so a stale entry shows as
 * MMN_VIOL_USE_AFTER_FREE; the entries are audited by mmn_check_quiescent()
 * through mmn_check_register_secondary_blocks() (a 2 MiB entry as one block)
 * and every device access by mmn_check_secondary_access().
 *
 * Errors are negative errno values; on a bad argument nothing changes.
 */
#ifndef MMNSIM_LISTENERS_HMM_H
#define MMNSIM_LISTENERS_HMM_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/export.h>
#include <mmnsim/mmu_notifier.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_mm;
struct mmn_hmm;

/** Which driver is modelled. */
enum mmn_hmm_variant {
	/**
	 * The event-aware interval-notifier driver (5.5+ dmirror, with the
	 * events of 5.2+). PROTECTION_VMA ranges that leave the VMA readable
	 * (mmn_notifier_range_update_to_read_only(), in the profiles whose
	 * kernel defines it: 5.2-6.1; in 6.5+ a driver has only the event and
	 * erases on every PROTECTION_VMA) and PROTECTION_PAGE ranges
	 * downgrade the covered entries to read-only instead of erasing them
	 * (except ATOMIC entries under PROTECTION_PAGE: fork restores
	 * device-exclusive entries inside that range without another
	 * notification, so they are erased);
	 * SOFT_DIRTY ranges keep every entry (same page, same access) and only
	 * drop WRITE, so the next device store faults and marks the page
	 * soft-dirty again (a device that kept WRITE would lose that, and the
	 * quiescent audit would flag it); MIGRATE and EXCLUSIVE ranges whose
	 * owner is this mirror are skipped; everything else erases.
	 */
	MMN_HMM_EVENT_AWARE = 0,
	/**
	 * An event-blind driver (before 5.2: every notification looked like
	 * an munmap): every range erases every covered entry, its own
	 * migrations included. Counts the teardowns and the device re-faults
	 * they cause (seed 003, scenario S5).
	 */
	MMN_HMM_EVENT_BLIND = 1,
	/**
	 * The old hmm_mirror (4.14-5.3): a plain mmu_notifier with
	 * invalidate_range_start (valid = false, erase, under the device mutex)
	 * and invalidate_range_end (valid = true once no invalidation is
	 * active), no sequence number. The fault loop waits for "valid", walks,
	 * takes the device mutex and programs if "valid" is true at that time:
	 * an invalidation that started AND ended during the walk is missed
	 * (the ABA race, scenario S7), and stale frames get mapped.
	 */
	MMN_HMM_VALID_FLAG = 2,
};

/** Configuration of a mirror. Fill it with mmn_hmm_config_init(). */
struct mmn_hmm_config {
	/** The driver modelled. Default MMN_HMM_EVENT_AWARE. */
	enum mmn_hmm_variant variant;
	/**
	 * Most restarts of one fault loop (collisions found by check_retry
	 * or read_retry) before it gives up with -EBUSY, standing for
	 * HMM_RANGE_DEFAULT_TIMEOUT (1 s of real time in the kernel: a count is
	 * used so deterministic runs stay deterministic). Also bounds the fault
	 * passes of one device read or write. Default 64; at least 1.
	 */
	unsigned int retry_budget;
	/** Pages per fault-loop chunk (dmirror: 32; the 5.8 original: 64).
	 *  Default 32; at least 1. */
	unsigned int chunk_pages;
	/** Device-private pages to create (mmn_devmem_create()), owned by the
	 *  mirror; 0 (default): no device memory, migration is refused. */
	unsigned long devmem_pages;
	/**
	 * make_device_exclusive() owner: false (default) passes the mirror
	 * (nouveau: the event-aware mirror skips its own EXCLUSIVE range);
	 * true passes NULL as lib/test_hmm.c does (its own EXCLUSIVE range
	 * erases the page's entry first, the ATOMIC entry is stored
	 * afterwards). The event-blind and valid-flag mirrors cannot tell
	 * their own range and always erase.
	 */
	bool exclusive_null_owner;
	/** Name for reports and the quiescent audit (not copied). Default "hmm". */
	const char *name;
	/**
	 * Keep one 2 MiB entry where the walk reports order 9 (a PMD leaf,
	 * mmn_hmm_pfn_to_map_order()) and the 2 MiB-aligned block lies inside
	 * the mirror, as nouveau's SVM does (nouveau_range_fault() maps
	 * 1 << (order + PAGE_SHIFT) bytes at the aligned address: in the 5.14
	 * and 6.6 trees read, not in 5.10). An invalidation of any page of the
	 * block drops (or write-protects) the whole block; a 4 KiB entry
	 * programmed inside it (an atomic) drops it first. false (default):
	 * 4 KiB entries only, as lib/test_hmm.c's dmirror stores them (one
	 * xarray entry per page, 5.9-6.x; the order only shows in its snapshot,
	 * MMN_HMM_PROT_PMD).
	 */
	bool pmd_entries;
	/**
	 * Deliberately wrong, for tests of the checker: an invalidation erases
	 * (or write-protects) 4 KiB entries only and keeps every 2 MiB entry it
	 * covers. Default false.
	 */
	bool pmd_zap_4k_only;
};

/** Buckets of the fault-loop histogram (mmn_hmm_stats::retry_hist). */
#define MMN_HMM_HIST_BUCKETS 16

/** Counters of one mirror. Snapshots; approximate while actors run. */
struct mmn_hmm_stats {
	/** Notifications received (invalidate calls; start calls for VALID_FLAG). */
	unsigned long callbacks;
	/** Notifications by event (enum mmn_notify_event). */
	unsigned long by_event[MMN_NOTIFY_NR_EVENTS];
	/** MIGRATE/EXCLUSIVE notifications skipped because this mirror owns them. */
	unsigned long skipped_own;
	/** Non-blockable notifications refused (device mutex busy): returned
	 *  false (-EAGAIN for VALID_FLAG). */
	unsigned long nonblock_refused;
	/** Notifications that erased at least one entry. */
	unsigned long teardowns;
	/** Notifications that covered no device entry at all (false positives
	 *  for this device). */
	unsigned long needless;
	/** Entries erased by notifications. */
	unsigned long zapped;
	/** Entries downgraded to read-only instead of erased (event-aware). */
	unsigned long downgraded;
	/** Entries erased by the mirror's own migrations (before MIGRATE_TO_DEV,
	 *  in migrate_to_ram and MIGRATE_TO_SYS). */
	unsigned long own_erased;
	/** Fault passes of device reads and writes (dmirror's cmd->faults). */
	unsigned long device_faults;
	/** Pages programmed again after a notification erased them or took
	 *  their WRITE away. */
	unsigned long refaults;
	/** Entries programmed by fault loops. */
	unsigned long programmed;
	/** Restarts of fault loops (-EBUSY from the walk, read_retry true). */
	unsigned long retries;
	/** Fault loops (or device accesses) that hit the retry budget. */
	unsigned long giveups;
	/** Fault loops completed. */
	unsigned long fault_loops;
	/**
	 * Histogram of the restarts per completed fault loop, log2 buckets:
	 * bucket 0 counts loops with no restart, bucket k (k >= 1) loops with
	 * [2^(k-1), 2^k) restarts, the last bucket everything above. (Restarts,
	 * not nanoseconds: deterministic, and the kernel's timeout is what the
	 * retry budget stands for.)
	 */
	unsigned long retry_hist[MMN_HMM_HIST_BUCKETS];
	/** Device reads (mmn_hmm_read() calls that succeeded). */
	unsigned long reads;
	/** Device writes (mmn_hmm_write() calls that succeeded). */
	unsigned long writes;
	/** Device atomics (mmn_hmm_atomic() calls that succeeded). */
	unsigned long atomics;
	/** make_device_exclusive() calls made for atomics. */
	unsigned long exclusive_made;
	/** Pages moved to device memory by mmn_hmm_migrate_to_device(). */
	unsigned long migrated_to_device;
	/** migrate_to_ram() calls of the CPU fault path for this mirror's pages. */
	unsigned long migrate_to_ram;
	/** 2 MiB entries programmed (mmn_hmm_config::pmd_entries). */
	unsigned long pmd_programmed;
	/** 2 MiB entries dropped whole (by a notification covering any part of
	 *  them, or to program a 4 KiB entry inside them). */
	unsigned long pmd_dropped;
};

/* Snapshot bytes (our own encoding, after test_hmm's HMM_DMIRROR_PROT_*). */
/** Nothing mapped: pte_none, or a non-present entry the walk does not resolve. */
#define MMN_HMM_PROT_NONE 0x00
/** Readable. */
#define MMN_HMM_PROT_READ 0x01
/** Writable. */
#define MMN_HMM_PROT_WRITE 0x02
/** Mapped by a 2 MiB PMD leaf. */
#define MMN_HMM_PROT_PMD 0x04
/** The shared zero page. */
#define MMN_HMM_PROT_ZERO 0x10
/** A device-private page of this mirror's device memory. */
#define MMN_HMM_PROT_DEV_PRIVATE_LOCAL 0x20
/** No VMA, or a VMA without read access (hmm_range_fault's -EFAULT). */
#define MMN_HMM_PROT_ERROR 0xff

/** mmn_hmm_config_init() - fill @p cfg with the documented defaults (NULL: no-op). */
MMN_API void mmn_hmm_config_init(struct mmn_hmm_config *cfg);

/**
 * mmn_hmm_create() - open a mirror of [@p start, @p start + @p length) of
 * @p mm (dmirror_fops_open(): the interval notifier insertion; with
 * MMN_HMM_VALID_FLAG a plain notifier registration instead), create its
 * device memory if asked, register its entries with the quiescent audit.
 * The caller holds an mm_users reference; takes mmap_lock for write; may
 * sleep.
 * @param mm      the address space mirrored
 * @param start   page-aligned first address
 * @param length  bytes, a non-zero multiple of the page size, at most 2^30
 * @param cfg     configuration (NULL: defaults)
 * @param out     receives the mirror
 * @return 0; -EINVAL for NULL @p mm or @p out, a misaligned or empty range,
 *         a range past user space, a bad @p cfg field or an mm without
 *         users; -E2BIG for a range over 2^30 bytes; -ENOMEM; the errors of
 *         mmn_devmem_create(). Nothing is created on error.
 */
MMN_API int mmn_hmm_create(struct mmn_mm *mm, unsigned long start, unsigned long length,
			   const struct mmn_hmm_config *cfg, struct mmn_hmm **out);

/**
 * mmn_hmm_destroy() - close the mirror (dmirror_fops_release()): migrate
 * its device pages back to system memory (the RELEASE ioctl) if the mm is
 * alive, remove the notifier, unregister from the audit, free the device
 * memory and the mirror. Must not race with device accesses of @p m.
 * Called while the mirror's device lock is held (a device access in
 * flight, or mmn_hmm_device_lock() by the caller) it reports
 * MMN_VIOL_PROTOCOL and leaves the mirror alive (-EBUSY). Not caught: a
 * second destroy, or any use after a successful one: the mirror's memory is
 * freed then (a listener keeps no state in the simulation that could
 * outlive it), which ASan and valgrind report.
 * @return 0; -EINVAL for NULL; -EBUSY when device pages are still in use
 *         (mapped by another mm, e.g. a fork child) or the device lock is
 *         held: the mirror is then left alive.
 */
MMN_API int mmn_hmm_destroy(struct mmn_hmm *m);

/**
 * mmn_hmm_read() - the READ ioctl (dmirror_read()): read the first word of
 * each of @p npages pages from @p addr through the device page table into
 * @p out, faulting the missing pages in (read faults). Each access is
 * reported with mmn_phys_access() and the generation of its entry.
 * @param m       the mirror
 * @param addr    page-aligned address inside the mirrored range
 * @param npages  pages (the range must stay inside the mirror)
 * @param out     receives @p npages words
 * @return the number of fault passes (cmd->faults: 0 when every page was
 *         mapped already, 1 for an unpopulated buffer), or -EINVAL for bad
 *         arguments, -EFAULT when a page has no readable VMA, -ENOMEM,
 *         -EBUSY when the retry budget ran out. Words before the failing
 *         page may have been stored.
 */
MMN_API long mmn_hmm_read(struct mmn_hmm *m, unsigned long addr, unsigned long npages,
			  uint64_t *out);

/**
 * mmn_hmm_write() - the WRITE ioctl (dmirror_write()): store @p in[i] as
 * the word of page i, through entries tagged WRITE, faulting for write
 * (breaking COW) where an entry is missing or read-only.
 * @return the number of fault passes, or -EINVAL, -EFAULT (no VMA or no
 *         read access), -EPERM (VMA not writable), -ENOMEM, -EBUSY as
 *         mmn_hmm_read().
 */
MMN_API long mmn_hmm_write(struct mmn_hmm *m, unsigned long addr, unsigned long npages,
			   const uint64_t *in);

/**
 * mmn_hmm_atomic() - a device atomic fetch-and-add on the word of the page
 * at @p addr, through an ATOMIC entry (device-exclusive access). If the
 * page has no ATOMIC entry: make_device_exclusive() (owner: this mirror,
 * or NULL with mmn_hmm_config::exclusive_null_owner) and program the entry
 * tagged ATOMIC|WRITE (dmirror_atomic_map()). test_hmm keeps mmap_lock
 * for read across both steps; mmn_make_device_exclusive() takes it itself,
 * so the store is validated instead as a fault is: read_begin after the
 * conversion, a walk that finds the page's device-exclusive entry still in
 * place, read_retry under the device mutex (else retry). The CPU's next
 * touch of the page restores its PTE and the notification erases the
 * entry.
 * @param m    the mirror
 * @param addr page-aligned address inside the mirrored range
 * @param add  the addend
 * @param old  receives the value before the add (may be NULL)
 * @return 0; -EINVAL; -EPERM when the page cannot be written (a read-only
 *         VMA, or an ATOMIC entry mprotect made read-only); -EOPNOTSUPP
 *         when the profile or the mapping has no device-exclusive entries;
 *         -EFAULT; -ENOMEM; -EBUSY (budget).
 */
MMN_API int mmn_hmm_atomic(struct mmn_hmm *m, unsigned long addr, uint64_t add, uint64_t *old);

/**
 * mmn_hmm_check_exclusive() - the CHECK_EXCLUSIVE ioctl: whether any page
 * of the range still has an ATOMIC entry.
 * @return 0 when none has, -EPERM when one has, -EINVAL for bad arguments.
 */
MMN_API int mmn_hmm_check_exclusive(struct mmn_hmm *m, unsigned long addr,
				    unsigned long npages);

/**
 * mmn_hmm_snapshot() - the SNAPSHOT ioctl (dmirror_snapshot()): per chunk a
 * temporary interval notifier on exactly that chunk, a walk that faults
 * nothing, retried on collision; one MMN_HMM_PROT_* byte per page into
 * @p prot_out. The device page table is not changed.
 * @return 0; -EINVAL for bad arguments (the range may lie outside the
 *         mirrored range, but inside user space); -EBUSY (budget); -ENOMEM.
 */
MMN_API int mmn_hmm_snapshot(struct mmn_hmm *m, unsigned long addr, unsigned long npages,
			     uint8_t *prot_out);

/**
 * mmn_hmm_migrate_to_device() - the MIGRATE_TO_DEV ioctl: erase this
 * mirror's entries of the range, mmn_migrate_vma_to_device() to its device
 * memory (MIGRATE notifications with this mirror as owner, skipped by the
 * event-aware variants), then map the device pages with a non-faulting fault
 * loop (hmm_range_fault reports device-private pages of its own owner
 * without faulting them back).
 * @param m       the mirror (with mmn_hmm_config::devmem_pages)
 * @param addr    page-aligned, inside the mirrored range
 * @param npages  pages, inside one VMA
 * @return the number of pages now on the device; -EINVAL for bad arguments
 *         (or a range not inside one readable VMA), -ENODEV without device
 *         memory, -EBUSY, -ENOMEM.
 */
MMN_API long mmn_hmm_migrate_to_device(struct mmn_hmm *m, unsigned long addr,
				       unsigned long npages);

/**
 * mmn_hmm_migrate_to_ram() - the MIGRATE_TO_SYS ioctl: erase the range's
 * entries and mmn_migrate_vma_to_ram() this mirror's device pages of it.
 * @return 0; -EINVAL; -ENODEV without device memory; -ENOMEM.
 */
MMN_API int mmn_hmm_migrate_to_ram(struct mmn_hmm *m, unsigned long addr, unsigned long npages);

/**
 * mmn_hmm_device_lock() - hold the device mutex, as a long device command
 * would (tests use it to make a non-blockable notification find it busy).
 * May sleep. Pair with mmn_hmm_device_unlock(). NULL: no-op.
 */
MMN_API void mmn_hmm_device_lock(struct mmn_hmm *m);

/** mmn_hmm_device_unlock() - release the device mutex. NULL: no-op. */
MMN_API void mmn_hmm_device_unlock(struct mmn_hmm *m);

/**
 * mmn_hmm_nr_entries() - entries in the device page table now (any tag;
 * a 2 MiB entry counts its 512 pages).
 * @return the count, 0 for NULL.
 */
MMN_API unsigned long mmn_hmm_nr_entries(struct mmn_hmm *m);

/**
 * mmn_hmm_entry() - look one entry up (under the device mutex).
 * @param m      the mirror
 * @param addr   an address inside the mirrored range
 * @param pfn    receives the frame (may be NULL)
 * @param write  receives whether it is tagged WRITE (may be NULL)
 * @param atomic receives whether it is tagged ATOMIC (may be NULL)
 * @return 0; -ENOENT when there is no entry; -EINVAL for NULL or an
 *         address outside the range.
 */
MMN_API int mmn_hmm_entry(struct mmn_hmm *m, unsigned long addr, unsigned long *pfn, bool *write,
			  bool *atomic);

/**
 * mmn_hmm_get_stats() - copy the counters of @p m.
 * @return 0, -EINVAL for NULL.
 */
MMN_API int mmn_hmm_get_stats(struct mmn_hmm *m, struct mmn_hmm_stats *out);

/**
 * mmn_hmm_fault_point_name() - the name of the explicit scheduling points
 * the fault loop passes (MMN_SCHED_EXPLICIT, obj = the mirror, addr = the
 * chunk start): @p after_program false → "hmm_collected" (the walk is done,
 * mmap_lock dropped, the device mutex not yet taken: where an invalidation
 * makes the collected frames stale), true → "hmm_programmed" (the entries
 * are programmed and the mutex dropped). No lock is held at either.
 */
MMN_API const char *mmn_hmm_fault_point_name(bool after_program);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_LISTENERS_HMM_H */
