/* SPDX-License-Identifier: MIT */
/*
 * The operations layer's shared internals: the mm/memory.c and mm/mmap.c
 * entry points other operations use, the rmap isolation, THP splitting,
 * device-exclusive and hugetlb helpers, and the per-operation statistics.
 * How an operation notifies under the profile is lib/notifier/notify.h's.
 */
#ifndef MMN_LIB_OPS_INTERNAL_H
#define MMN_LIB_OPS_INTERNAL_H

#include <mmnsim/mmu_notifier.h>
#include <mmnsim/ops.h>

#include "mm/mm_internal.h"
#include "notifier/notifier_internal.h"
#include "notifier/notify.h"

/*
 * The rmap family (reclaim, migration; lib/ops/isolate.c): check the
 * arguments (-EINVAL) and that [@addr, @addr + @len) is mapped (-ENOMEM),
 * then return the 4 KiB anonymous and shmem pages mapped there (not zero,
 * KSM or private hugetlb pages; a shared hugetlb page once, by its head),
 * each with a reference the caller drops. Takes mmap_lock for read around
 * the walk only.
 */
int mmn__isolate_range(struct mmn_mm *mm, unsigned long addr, unsigned long len,
		      unsigned long **pfns, size_t *nr);
/*
 * The driver the rmap family shares (migrate_pages(), shrink_folio_list()):
 * isolate the range as mmn__isolate_range() does, call @one on each page (it
 * consumes the isolation's reference and returns the mappings it changed),
 * and count the call and the changed pages for @op. 0 or the isolation's
 * error.
 */
int mmn__isolate_apply(struct mmn_mm *mm, unsigned long addr, unsigned long len, enum mmn_op op,
		       unsigned long (*one)(struct mmn_sim *sim, unsigned long pfn));

/*
 * THP (lib/ops/thp.c). Callers hold mmap_lock (read or write).
 * mmn__thp_vma_eligible(): a private anonymous, non-hugetlb VMA with
 * MMN_VM_HUGEPAGE and without MMN_VM_NOHUGEPAGE.
 * mmn__split_huge_pmd(): __split_huge_pmd() of the anonymous THP leaf
 * mapping @addr, if any (0 when there is none; -ENOMEM: no frame for the
 * PTE table, nothing changed).
 * mmn__split_huge_range(): the same for every THP leaf overlapping
 * [start, end) (all-or-nothing is not needed: each split keeps the data).
 * mmn__split_huge_boundary(): vma_adjust_trans_huge(): split the THP
 * straddling @addr when @addr is not 2 MiB aligned.
 */
/* pmd_mkinvalid() of a THP leaf being split (under its PMD lock): not
 * present, not none; whoever meets it waits for the PMD lock. */
#define OPS_PMD_SPLITTING MMN_PTE_HUGE
bool mmn__thp_vma_eligible(const struct mmn_vma *vma);
int mmn__split_huge_pmd(struct mmn_mm *mm, unsigned long addr);
int mmn__split_huge_range(struct mmn_mm *mm, unsigned long start, unsigned long end);
int mmn__split_huge_boundary(struct mmn_mm *mm, unsigned long addr);
/* A collapse entry point (mmn_collapse_huge_page(), mmn_collapse_pte_mapped_thp()): the trace's
 * span named @span around @collapse(@mm, @addr) under mmap_write_lock, or
 * -EINVAL for a dead mm, -EFAULT for an address past the task size. */
int mmn__collapse_op(struct mmn_mm *mm, unsigned long addr, const char *span,
		     int (*collapse)(struct mmn_mm *mm, unsigned long addr));

/*
 * mm/memory.c and mm/mmap.c operations (lib/ops/memory.c, lib/ops/mmap.c).
 * mmn_zap_vma_range(): zap [start, end) of @vma into @tlb
 * (zap_page_range_single()/unmap_vmas() body, no notification); returns the
 * 4 KiB mappings removed.
 * mmn_free_pgtables(): free the page tables no VMA needs any more in
 * [floor, ceiling) (free_pgtables()).
 * mmn_do_munmap(): do_vmi_munmap() without the lock downgrade: split, detach
 * and unmap [start, end) (UNMAP notification, zap, free_pgtables,
 * tlb_finish_mmu). Caller holds mmap_lock for write and keeps it. 0,
 * -EINVAL, -ENOMEM.
 * mmn__mmap_split_range(): __split_vma() at both edges of [start, end), the
 * THP straddling a cut edge split first (vma_adjust_trans_huge()). Caller
 * holds mmap_lock for write. 0, -EINVAL, -ENOMEM, nothing changed on error.
 * mmn_exit_mmap(): tear everything down; called on the last mmput.
 */
unsigned long mmn_zap_vma_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				unsigned long start, unsigned long end);
void mmn_free_pgtables(struct mmn_mmu_gather *tlb, struct mmn_mm *mm, unsigned long floor,
		       unsigned long ceiling);
int mmn_do_munmap(struct mmn_mm *mm, unsigned long start, unsigned long end);
int mmn__mmap_split_range(struct mmn_mm *mm, unsigned long start, unsigned long end);
void mmn_exit_mmap(struct mmn_mm *mm);

/* The CPU fault on a device-private entry (do_swap_page() → migrate_to_ram)
 * or a device-exclusive one (remove_device_exclusive_entry()), from the
 * fault path (lib/ops/device.c); mmap_lock held. */
int mmn_do_device_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			unsigned int idx, unsigned long addr, mmn_pte_t orig, bool write);

/* restore_exclusive_pte() (lib/ops/exclusive.c): the present entry that
 * device-exclusive @entry of @vma stands for. Caller holds the page lock
 * and the PTL. */
mmn_pte_t mmn__exclusive_restored_pte(const struct mmn_vma *vma, mmn_pte_t entry);

/*
 * try_to_unmap_one()/try_to_migrate_one() for hugetlb page @pfn mapped at
 * @addr of @vma (lib/ops/hugetlb.c): notify CLEAR over the huge page,
 * widened for PMD sharing, and huge_pmd_unshare() if the PMD table is
 * shared (the 4 KiB mappings this mm lost are added to *@changed); an
 * unshared mapping is left as it is. Called from an rmap walk; returns
 * true (continue the walk).
 */
bool mmn__hugetlb_rmap_one(enum mmn_op op, struct mmn_vma *vma, unsigned long addr,
			  unsigned long pfn, unsigned long *changed);
/* rmap_walk_locked() for a hugetlb page with i_mmap_rwsem held for write,
 * as try_to_unmap()/try_to_migrate() callers take it for hugetlb
 * (TTU_RMAP_LOCKED): no huge_pmd_share() can run meanwhile. */
void mmn__hugetlb_rmap_walk(struct mmn_sim *sim, unsigned long pfn, mmn_rmap_one_fn fn, void *arg);
/* __unmap_hugepage_range() with its own (widened) UNMAP bracket, up to 5.x
 * (knob hugetlb_unmap_nested_notify; lib/ops/hugetlb.c). */
/* hugetlb_split() (6.5+): unshare the PUD area around a cut of a shared
 * hugetlb VMA @vma at @addr (knob hugetlb_split_unshares). */
void mmn__hugetlb_split_unshare(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr);
unsigned long mmn__hugetlb_zap_nested(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				      unsigned long start, unsigned long end);

/* Per-operation statistics (lib/ops/stats.c): calls, pages changed and
 * unchanged, skipped; the ranges are counted by mmn__notify_start(). */
void mmn__op_stat_call(struct mmn_sim *sim, enum mmn_op op);
void mmn__op_stat_pages(struct mmn_sim *sim, enum mmn_op op, unsigned long changed,
		    unsigned long unchanged);
void mmn__op_stat_skipped(struct mmn_sim *sim, enum mmn_op op, unsigned long n);

/*
 * Regular files (lib/ops/filemap.c). mmn__file_get(): a new reference on
 * the file's object (fget()). mmn__filemap_fault(): the fault on a none
 * entry of a file mapping (filemap_fault() + finish_fault()).
 * mmn__filemap_wp_page(): a store to a read-only entry there
 * (wp_page_shared()). Both with mmap_lock held; 0 (done or retry) or -errno.
 */
struct mmn_file;
struct mmn_shmem *mmn__file_get(struct mmn_file *file);
int mmn__filemap_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
		       unsigned int idx, unsigned long addr, bool write);
int mmn__filemap_wp_page(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			 unsigned int idx, unsigned long addr, mmn_pte_t orig);
/* madvise(MADV_REMOVE) of [start, end) (lib/ops/truncate.c); mmap_lock not held. */
int mmn__madvise_remove(struct mmn_mm *mm, unsigned long start, unsigned long end);
/* shrink_folio_list()'s body for one isolated page (lib/ops/reclaim.c):
 * try_to_unmap() and pageout; consumes the isolation's reference. */
unsigned long mmn__shrink_one(struct mmn_sim *sim, unsigned long pfn);
/* migrate_pages() of one isolated page (lib/ops/migrate.c) to a new page of
 * node @nid (-1: any node); consumes the isolation's reference. Returns the
 * mappings changed. */
unsigned long mmn__migrate_one(struct mmn_sim *sim, unsigned long src, int nid);

#endif /* MMN_LIB_OPS_INTERNAL_H */
