/* SPDX-License-Identifier: MIT */
/**
 * @file profile.h
 * @brief Kernel-semantics profiles and ordering knobs.
 *
 * The MMU-notifier contract changed over the kernel's history (invalidate_range
 * for IOMMUs in 3.19, invalidate_page gone in 4.13, only_end in 4.15, events in
 * 5.2, arch_invalidate_secondary_tlbs in 6.6, change_pte gone in 6.10...).
 * mmnsim makes that history a parameter: a profile is a named bundle of knob
 * values for one kernel era, and any knob can be overridden. The operations
 * and the notifier core consult the knobs; nothing else branches on a version.
 * docs/profiles.md lists every knob, every profile and the seed each comes
 * from.
 */
#ifndef MMNSIM_PROFILE_H
#define MMNSIM_PROFILE_H

#include <stdbool.h>
#include <stdio.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/** Where the secondary-TLB flush (F2) happens relative to the CPU flush (F1). */
enum mmn_secondary_flush {
	/** 6.6+: arch_invalidate_secondary_tlbs() from inside every CPU TLB
	 *  flush, so under the PTL wherever F1 is. */
	MMN_SECFLUSH_WITH_CPU_FLUSH = 0,
	/** 4.13-6.5: explicit ->invalidate_range() at the *_clear_flush_notify()
	 *  sites under the PTL, from tlb_flush_mmu_tlbonly(), and again from
	 *  invalidate_range_end() unless the path uses only_end. */
	MMN_SECFLUSH_CALL_SITES,
	/** A proposal of the 2017 thread (seed 000), never merged: only from
	 *  invalidate_range_end(), after the PTL is dropped. Wrong. */
	MMN_SECFLUSH_RANGE_END,
	/** Up to 4.12: ->invalidate_page() per page after the PTL is dropped
	 *  (rmap paths), range calls around batch unmaps. */
	MMN_SECFLUSH_INVALIDATE_PAGE,
};

/** The CPU architecture whose TLB code the model follows. */
enum mmn_arch {
	/** x86: a permission upgrade (ptep_set_access_flags()) flushes no
	 *  TLB (arch/x86/mm/pgtable.c). */
	MMN_ARCH_X86 = 0,
	/** arm64: a permission upgrade flushes the page's TLB entry
	 *  (arch/arm64/mm/fault.c __ptep_set_access_flags()), and from 6.6
	 *  that flush calls arch_invalidate_secondary_tlbs() too. */
	MMN_ARCH_ARM64,
};

/** The knobs. Every field is documented in docs/profiles.md. */
struct mmn_profile {
	const char *name;   /**< "latest", "6.6", ... ("custom" once overridden) */
	/** Where F2 happens. */
	enum mmn_secondary_flush secondary_flush;
	/** 4.15-6.5: paths ending with invalidate_range_only_end() skip the
	 *  ->invalidate_range() of end, relying on their call site. */
	bool only_end_skips_flush;
	/** 4.19+ (and backports): widen the range to the PUD-aligned area when
	 *  a hugetlb PMD may be shared (adjust_range_if_pmd_sharing_possible). */
	bool pmd_share_widen;
	/** 5.2+: listeners receive the real event; before, every notification
	 *  is MMN_NOTIFY_UNMAP as far as they can tell. */
	bool events;
	/** Before 6.10: set_pte_at_notify() calls ->change_pte() (KSM, COW). */
	bool change_pte;
	/** The last put_page() of an unmapped page may come before the
	 *  secondary flush (what invalidate_range-at-end-only would need to
	 *  forbid, per seed 000). false: the free waits for the flush. */
	bool put_page_before_secondary_flush;
	/** 4.19+: invalidate_range_start may be non-blockable (OOM reaper). */
	bool nonblock;
	/** 4.19+ (CVE-2018-18281 fix): mremap flushes before dropping the PTL. */
	bool mremap_flush_under_ptl;
	/** 5.4+: mmu_interval_notifier exists. */
	bool interval_notifiers;
	/** 5.9+: migrate_vma uses MMN_NOTIFY_MIGRATE with an owner. */
	bool migrate_event;
	/** 5.14+: device-exclusive entries (make_device_exclusive). */
	bool device_exclusive;
	/** mm tree 2025+: restoring a device-exclusive entry notifies CLEAR
	 *  (false: MMN_NOTIFY_EXCLUSIVE with a NULL owner). */
	bool exclusive_restore_clear;
	/** mm tree 2025/26 (not in 6.19): the OOM reaper
	 *  (zap_vma_for_reaping()) notifies CLEAR (false: MMN_NOTIFY_UNMAP,
	 *  __oom_reap_task_mm() 4.19-6.19). */
	bool oom_reap_clear;
	/** x86 tlb_single_page_flush_ceiling: ranges of more pages are flushed
	 *  whole. Default 33. */
	unsigned int tlb_flush_ceiling;
	/** Pages an mmu_gather holds before it flushes the TLBs and frees them
	 *  in the middle of a zap, 1 to MMN_GATHER_BATCH (tlb.h). Default
	 *  MMN_GATHER_BATCH (256). The kernel's gather flushes early after 8
	 *  pages when it cannot allocate a batch, later (about 10,000) when it
	 *  can: a small value lets a scenario of a few pages show the window
	 *  between that flush and invalidate_range_end (docs/listeners.md). */
	unsigned int gather_batch;
	/** 4.15+ (commit 0f10851ea475): KSM write_protect_page() and
	 *  replace_page() clear the entry with plain ptep_clear_flush(), no
	 *  ->invalidate_range() under the PTL; in secondary_flush=call_sites
	 *  profiles the secondary flush comes from invalidate_range_end(), after
	 *  the PTL drop. false (4.12-4.13): ptep_clear_flush_notify(). */
	bool ksm_secflush_at_end;
	/** 5.2+: hugetlb_change_protection() calls no ->invalidate_range()
	 *  after flush_hugetlb_tlb_range(); in call_sites profiles the secondary
	 *  flush comes from invalidate_range_end(), after i_mmap_rwsem and the
	 *  PTLs are dropped. false (4.12-4.15): the explicit call right after the
	 *  CPU flush, i_mmap_rwsem still held. */
	bool hugetlb_prot_secflush_at_end;
	/** 5.9+ (read: 5.9/5.14 copy_present_page(), 6.5 copy_present_pte(),
	 *  6.19 copy_present_ptes()): fork copies a maybe-pinned anonymous page
	 *  for the child at once instead of sharing it copy-on-write. false
	 *  (5.2/5.8 copy_one_pte()): shared, the GUP-after-fork bug. */
	bool fork_copy_pinned;
	/** 5.19+ (read: 5.19/6.5/6.19 do_wp_page()): a write fault reuses a
	 *  PageAnonExclusive page whatever its refcount (a pin included).
	 *  false (5.9-5.14 do_wp_page(): page_count() == 1; before 5.9
	 *  reuse_swap_page(), mapcount-based, modelled as refcount 1 too): a
	 *  pinned page is copied. */
	bool cow_reuse_anon_exclusive;
	/** 5.2 to 6.1 (read in 5.2, 5.14, 6.1 mm/mmu_notifier.c):
	 *  mmu_notifier_range_update_to_read_only() is defined; not in 4.x nor
	 *  6.5+ (6.5/6.19 keep a dangling declaration). */
	bool range_update_to_read_only;
	/** do_numa_page() makes the hinting entry present again before it
	 *  migrates a misplaced page, which then unmaps a present entry
	 *  (4.12-5.10 mm/memory.c); false: the entry stays PROT_NONE until
	 *  the migration entry replaces it, and is made present only if the
	 *  migration fails (5.14, 6.19). */
	bool numa_map_before_migrate;
	/** 4.15-4.18: without nonblock, the OOM reaper leaves an mm with
	 *  notifiers alone (__oom_reap_task_mm()'s mm_has_notifiers() check).
	 *  false with nonblock false: the reaper zaps such an mm and calls no
	 *  notifier at all (4.12, 4.13). Not read when nonblock is true. */
	bool oom_reap_skip_notifiers;
	/** clear_refs_write() soft-dirty holds mmap_lock for write across
	 *  the whole operation (5.14+). false: for read (4.12-5.2). */
	bool clear_refs_write_lock;
	/** With secondary_flush = invalidate_page: the rmap paths
	 *  (try_to_unmap_one(), page_mkclean_one()) call ->invalidate_page()
	 *  under the PTL, after put_page() (4.12, page_vma_mapped_walk()).
	 *  false: after the PTL is dropped (4.11 and before). */
	bool invalidate_page_under_ptl;
	/** When a non-blockable start fails, the core calls the end of every
	 *  subscriber that implements one (5.14, 6.19). false: nobody ends the
	 *  subscribers whose start succeeded (5.2). */
	bool start_failure_ends_others;
	/** mprotect's lazy start per P4D entry (change_pud_range(), 6.12+,
	 *  6.19 read) rather than per PUD entry (change_pmd_range(), up to
	 *  6.11; 5.14, 6.5, 6.6 read). */
	bool mprotect_start_per_p4d;
	/** The architecture (x86 in every profile): arm64 flushes the TLB,
	 *  and with it the secondary TLBs from 6.6, on a permission upgrade. */
	enum mmn_arch arch;
	/** shrink_folio_list() unmaps with TTU_BATCH_FLUSH (4.3+ on x86;
	 *  read in 4.12, 4.15, 5.2, 5.14, 6.5, 6.19 mm/vmscan.c and mm/rmap.c,
	 *  every profile): try_to_unmap_one() clears without a CPU flush when
	 *  the mm may be cached on a CPU, and try_to_unmap_flush() flushes
	 *  after the rmap walk, before pageout and the free. From 6.6 the
	 *  secondary TLBs are flushed when the entry is added to the batch (x86:
	 *  the whole mm, arch_tlbbatch_add_pending()). false: a flush per
	 *  entry under the PTL. */
	bool reclaim_batch_flush;
	/** 6.3+ (read in 6.5 and 6.19 mm/migrate.c migrate_pages_batch();
	 *  not in 5.19): MIGRATE_ASYNC migration (NUMA hinting faults) unmaps
	 *  with TTU_BATCH_FLUSH and flushes once before moving. false: a flush
	 *  per entry under the PTL. */
	bool migrate_batch_flush;
	/** 5.14-6.14 (read in 5.14 and 6.5 mm/rmap.c
	 *  make_device_exclusive_range()): the page is trylocked and an rmap
	 *  walk converts every mapping of it (page_make_device_exclusive_one(),
	 *  an EXCLUSIVE start/end per mapping); no retry, a busy or still
	 *  mapped page is not made exclusive. false (6.15+ make_device_exclusive(),
	 *  6.19 read): only the caller's entry, the page lock waited for, and a
	 *  changed entry retried. */
	bool exclusive_via_rmap;
	/** __unmap_hugepage_range() brackets its zap with its own
	 *  start/end (UNMAP, widened when pmd_share_widen), nested inside its
	 *  caller's (read in 4.12, 4.15, 5.2.1, 5.10, 5.14 mm/hugetlb.c). false
	 *  (6.5, 6.19): only the callers notify. */
	bool hugetlb_unmap_nested_notify;
	/** Cutting a shared hugetlb VMA inside a PUD-aligned area it covers
	 *  unshares that area's PMD table first, under a CLEAR range (6.5/6.6.9
	 *  hugetlb_vm_op_split() → hugetlb_unshare_pmds(); 6.19 hugetlb_split()).
	 *  false (5.14): the table stays shared across the new VMA edge. */
	bool hugetlb_split_unshares;
	/** khugepaged's retraction of a shmem/file range's PTE table
	 *  (collapse_pte_mapped_thp(), retract_page_tables() in
	 *  mm/khugepaged.c) brackets pmdp_collapse_flush() with a CLEAR
	 *  start/end over the 2 MiB range: commit f268f6cf875f ("mm/khugepaged:
	 *  invoke MMU notifiers in shmem/file collapse paths"), in 6.1 (and the
	 *  4.19, 5.4, 5.10, 5.15 stable trees). false (4.12-5.14 as released):
	 *  the table goes with no notification (mmn_collapse_pte_mapped_thp()). */
	bool file_collapse_notify;
	/** userfaultfd write-protect mode (5.7+; read in 5.8.1, 5.10, 5.14,
	 *  6.5, 6.19 mm/userfaultfd.c mwriteprotect_range(); absent in 5.2.1):
	 *  registering with MMN_UFFDIO_REGISTER_MODE_WP and
	 *  mmn_uffd_writeprotect(). false: -EOPNOTSUPP. */
	bool uffd_wp;
	/** Un-protecting (UFFDIO_WRITEPROTECT without MODE_WP) makes an
	 *  exclusive anonymous page writable again in a writable VMA
	 *  (uffd_wp_range() with MM_CP_TRY_CHANGE_WRITABLE; read in 6.5, 6.6.9,
	 *  6.19). false (5.8.1-5.19 mwriteprotect_range(), MM_CP_UFFD_WP_RESOLVE
	 *  alone): the entry stays read-only and the next store takes a write
	 *  fault that reuses the page. */
	bool uffd_wp_unprotect_writable;
	/** UFFDIO_MOVE (6.8+; read in 6.19 mm/userfaultfd.c move_pages(),
	 *  absent in 6.6.9): mmn_uffd_move(). false: -EOPNOTSUPP. */
	bool uffd_move;
	/** Unregistering (and closing) a userfaultfd un-protects the entries
	 *  of its WP ranges (uffd_wp_range(false): a PROTECTION_VMA range;
	 *  read in 6.5, 6.6.9 fs/userfaultfd.c userfaultfd_unregister(), 6.19
	 *  mm/userfaultfd.c userfaultfd_clear_vma()). false (5.8.1-5.19): only
	 *  the VMA flags are cleared; the bits stay, inert. */
	bool uffd_unregister_unprotects;
	/** UFFD_FEATURE_WP_ASYNC and the PAGEMAP_SCAN ioctl (6.7+; read in
	 *  6.19 fs/proc/task_mmu.c do_pagemap_scan(), mm/memory.c do_wp_page();
	 *  absent in 6.6.9): mmn_uffd_api() with MMN_UFFD_FEATURE_WP_ASYNC and
	 *  mmn_pagemap_scan(). false: -EOPNOTSUPP. */
	bool uffd_wp_async;
	/** fork's copy_hugetlb_page_range() leaves the secondary flush of the
	 *  private hugetlb entries it write-protects to end (4.15+; read in
	 *  4.15, 5.2.1, 5.14, 6.5, 6.19 mm/hugetlb.c). false (4.12, 4.13.4):
	 *  mmu_notifier_invalidate_range() over the VMA after each
	 *  huge_ptep_set_wrprotect(), under both PTLs. */
	bool hugetlb_fork_secflush_at_end;
	/** mremap() of a hugetlb VMA (5.17+; read in 5.19, 6.5, 6.6.9, 6.19
	 *  mm/mremap.c and mm/hugetlb.c move_hugetlb_page_tables()): lengths
	 *  rounded up to 2 MiB, addresses 2 MiB aligned, no growth, a
	 *  MREMAP_FIXED move under a CLEAR range. false (4.12-5.14
	 *  vma_to_resize()): a shrink unmaps the tail; growing or moving is
	 *  -EINVAL, a FIXED target being unmapped first. */
	bool mremap_hugetlb;
};

/**
 * mmn_profile_by_name() - a named profile.
 * @param name  "4.12", "4.13", "4.15", "5.2", "5.14", "6.5", "6.6", "6.10" or
 *              "latest" (which models 6.19, docs/profiles.md); NULL means
 *              "latest"
 * @return the profile (static, read-only), or NULL for an unknown name.
 */
MMN_API const struct mmn_profile *mmn_profile_by_name(const char *name);

/** mmn_profile_count() - number of named profiles. */
MMN_API int mmn_profile_count(void);

/** mmn_profile_at() - the @p idx-th named profile, oldest first; NULL out of range. */
MMN_API const struct mmn_profile *mmn_profile_at(int idx);

/**
 * mmn_profile_set_knob() - override one knob by name ("only_end_skips_flush",
 * "secondary_flush"...), parsing @p value ("true"/"false"/"1"/"0" for booleans,
 * the enum's short name for secondary_flush: "with_cpu_flush", "call_sites",
 * "range_end", "invalidate_page", "x86" or "arm64" for arch, a decimal
 * number from 0 to 1000000 for
 * tlb_flush_ceiling and from 1 to MMN_GATHER_BATCH for gather_batch: digits
 * only, no blank, sign or other character). On success
 * @p p->name becomes "custom".
 * @return 0, -EINVAL for a NULL argument, -ENOENT for an unknown knob,
 *         -ERANGE for a value that does not parse; @p p is unchanged on error.
 */
MMN_API int mmn_profile_set_knob(struct mmn_profile *p, const char *knob, const char *value);

/** mmn_profile_knob_count() - number of knobs (for listing). */
MMN_API int mmn_profile_knob_count(void);

/** mmn_profile_knob_name() - the @p idx-th knob's name, NULL out of range. */
MMN_API const char *mmn_profile_knob_name(int idx);

/**
 * mmn_profile_knob_value() - the value of knob @p knob in @p p as text, in
 * the form mmn_profile_set_knob() accepts, written NUL-terminated to @p buf
 * of @p len bytes.
 * @return 0, -EINVAL for NULL arguments or a buffer too small (a zero
 *         @p len included), -ENOENT for an unknown knob.
 */
MMN_API int mmn_profile_knob_value(const struct mmn_profile *p, const char *knob, char *buf,
				   unsigned long len);

/**
 * mmn_profile_print() - every knob of @p p, one "name = value" line each,
 * after a "profile NAME" line, to @p out. NULL @p p or @p out: no-op.
 */
MMN_API void mmn_profile_print(const struct mmn_profile *p, FILE *out);

/** mmn_secondary_flush_name() - "with_cpu_flush", ... or "unknown". */
MMN_API const char *mmn_secondary_flush_name(enum mmn_secondary_flush where);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_PROFILE_H */
