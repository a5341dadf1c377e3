// SPDX-License-Identifier: MIT
/*
 * mm/mmap.c's operations: mmap() (do_mmap() + mmap_region()), munmap()
 * (do_vmi_munmap() → unmap_region()), free_pgtables() and exit_mmap(). The
 * VMA array they change is lib/mm/mm.c's; the zap is lib/ops/memory.c's.
 */
#include <stdlib.h>
#include <string.h>

#include <mmnsim/file.h>

#include "ops/ops_internal.h"

/*
 * free_pgtables() → free_pgd_range(): free every table page in
 * [floor, ceiling) whose whole span no VMA overlaps any more, bottom-up,
 * through the gather (the tables are freed after the TLB flush).
 */
static void free_tables_level(struct mmn_mmu_gather *tlb, struct mmn_mm *mm,
			      struct mmn_ptdesc *pt, int level, unsigned long base,
			      unsigned long floor, unsigned long ceiling)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long size = mmn_pt_entry_size(level);
	/*
	 * exit_mmap() (the whole space, under mmap_write_lock, no VMA left):
	 * nothing can fill a table any more, so once as many non-none entries
	 * as the table held are behind us the rest is empty and the walk costs
	 * what the tables hold, not 512 slots per level. munmap() frees under
	 * the downgraded mmap_lock, where a fault next door may add an entry:
	 * it walks every slot.
	 */
	bool whole = floor == 0 && ceiling == ~0UL;
	int left = whole ? atomic_load_explicit(&pt->nr_used, memory_order_relaxed)
			 : MMN_PTRS_PER_TABLE;

	for (unsigned int i = 0; i < MMN_PTRS_PER_TABLE && left > 0; i++) {
		unsigned long lo = base + i * size, hi = lo + size;
		struct mmn_ptdesc *child;
		mmn_pte_t e;

		if (lo >= ceiling || lo >= MMN_TASK_SIZE + MMN_PAGE_SIZE)
			break;
		e = mmn_pte_peek(pt, i);
		if (mmn_pte_none(e))
			continue;
		left--;
		if (hi <= floor || !mmn_pte_present(e) || (level == MMN_LVL_PMD && mmn_pmd_leaf(e)))
			continue;
		child = mmn_pt_child(sim, e);
		if (level > MMN_LVL_PMD)
			free_tables_level(tlb, mm, child, level - 1, lo, floor, ceiling);
		if (mmn__vma_overlaps(mm, lo, hi))
			continue;
		if (level == MMN_LVL_PUD && mmn_pmd_table_drop_share(sim, child)) {
			/* A hugetlb PMD table other mms still share: drop our
			 * share (huge_pmd_unshare()), never free it. */
			mmn_pte_get_and_clear(sim, pt, i, lo);
			atomic_fetch_sub_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
			mmn_tlb_flush_pte_range(tlb, lo, size);
			continue;
		}
		if (level == MMN_LVL_PUD && atomic_load(&child->pmd_shared)) {
			/* The last sharer: an unsharer that dropped its share
			 * may still hold the table's lock; wait it out. */
			mmn_spin_lock(&child->ptl);
			mmn_spin_unlock(&child->ptl);
		}
		if (atomic_load(&child->nr_used))
			mmn_reportf(sim, MMN_VIOL_ACCOUNTING, lo, child->pfn,
				    "freeing a level-%d table with %d entries in use", level - 1,
				    atomic_load(&child->nr_used));
		mmn_pte_get_and_clear(sim, pt, i, lo);
		atomic_fetch_sub_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
		mmn_tlb_remove_table(tlb, child->pfn);
	}
}

void mmn_free_pgtables(struct mmn_mmu_gather *tlb, struct mmn_mm *mm, unsigned long floor,
		       unsigned long ceiling)
{
	free_tables_level(tlb, mm, mm->pgd, MMN_LVL_PGD, 0, floor, ceiling);
}

/* ---------------------------------------------------------------- */
/* munmap / mmap                                                     */
/* ---------------------------------------------------------------- */

/*
 * The first half of do_vmi_munmap(): split the VMAs at the edges of
 * [start, end) and detach those inside. Nothing is changed if it fails.
 * Returns the number of detached VMAs (moved to *@detached) or -errno.
 */
static int munmap_detach(struct mmn_mm *mm, unsigned long start, unsigned long end,
			 struct mmn_vma ***detached)
{
	struct mmn_vma *lo, *hi;
	int first = mmn_vma_first_above(mm, start), err;

	*detached = NULL;
	if (first == mm->nr_vmas || mm->vmas[first]->start >= end)
		return 0;
	/* Check everything that can fail before changing anything. */
	err = mmn__vma_split_edges(mm, start, end, &lo, &hi);
	if (err)
		return err;
	/* vma_adjust_trans_huge(): a THP straddling an edge is split first. */
	if (mmn__split_huge_boundary(mm, start) || mmn__split_huge_boundary(mm, end))
		return -ENOMEM;
	mmn__hugetlb_split_unshare(mm, lo, start);
	mmn__hugetlb_split_unshare(mm, hi, end);
	return mmn__vma_detach_range(mm, start, end, detached);
}

/*
 * unmap_region() → unmap_vmas(), all versions: under one mmu_gather, notify
 * MMN_NOTIFY_UNMAP (5.2+; the range spans the detached VMAs), zap them, end
 * the notification, free the page tables nobody needs, and only then
 * tlb_finish_mmu(): flush (F1, and F2 where the profile puts it) and free
 * pages and tables. Start/end users dropped their mappings at start; F2 users
 * are flushed before any page is freed.
 */
static void unmap_region(struct mmn_mm *mm, struct mmn_vma **vmas, int n, unsigned long start,
			 unsigned long end)
{
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;
	unsigned long zapped = 0;

	mmn_tlb_gather_mmu(&tlb, mm);
	mmn__notify_range_init(&range, MMN_NOTIFY_UNMAP, mm, vmas[0]->start, vmas[n - 1]->end, NULL);
	mmn__notify_start(MMN_OP_MUNMAP, &range);
	for (int i = 0; i < n; i++)
		zapped += mmn_zap_vma_range(&tlb, vmas[i], vmas[i]->start, vmas[i]->end);
	mmn__notify_end(&range);
	/* free_pgtables() unlinks the VMAs from the rmap before freeing their
	 * tables: an rmap walker holding the anon_vma/i_mmap lock keeps them. */
	for (int i = 0; i < n; i++)
		mmn_vma_rmap_unlink(vmas[i]);
	mmn_free_pgtables(&tlb, mm, start & MMN_PMD_MASK, end);
	mmn_tlb_finish_mmu(&tlb);
	mmn__op_stat_pages(mm->sim, MMN_OP_MUNMAP, zapped, 0);
}

static void vmas_free(struct mmn_sim *sim, struct mmn_vma **vmas, int n)
{
	for (int i = 0; i < n; i++) {
		mmn_vma_rmap_release(vmas[i]);
		if (vmas[i]->file)
			mmn_shmem_put(sim, vmas[i]->file);
		free(vmas[i]);
	}
	free(vmas);
}

static int munmap_check(unsigned long addr, unsigned long len, unsigned long *end)
{
	if (addr & ~MMN_PAGE_MASK || !len || len > MMN_TASK_SIZE || addr > MMN_TASK_SIZE - len)
		return -EINVAL;
	*end = addr + ((len + MMN_PAGE_SIZE - 1) & MMN_PAGE_MASK);
	return 0;
}

/* do_vmi_munmap() with the mmap_lock downgrade of __vm_munmap(), 4.20+. */
int mmn_munmap(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	struct mmn_vma **detached;
	unsigned long end;
	int n, err;

	if (mmn__mm_dead(mm))
		return -EINVAL;
	err = munmap_check(addr, len, &end);
	if (err)
		return err;
	mmn_sched_span_begin(mm->sim, "munmap", addr, end, NULL);
	mmn_mmap_write_lock(mm);
	n = munmap_detach(mm, addr, end, &detached);
	if (n <= 0) {
		mmn_mmap_write_unlock(mm);
		mmn_sched_span_end(mm->sim, "munmap");
		return n;
	}
	/* The VMAs are gone from the tree: faults can no longer find them. */
	mmn_mmap_write_downgrade(mm);
	unmap_region(mm, detached, n, addr, end);
	mmn_mmap_read_unlock(mm);
	vmas_free(mm->sim, detached, n);
	mmn__op_stat_call(mm->sim, MMN_OP_MUNMAP);
	mmn_sched_span_end(mm->sim, "munmap");
	return 0;
}

/* do_vmi_munmap() for callers holding mmap_lock for write (mremap). */
/*
 * __split_vma() at both edges of [start, end) for the operations that change
 * a part of a VMA (mprotect_fixup(), madvise): vma_adjust_trans_huge() first
 * splits a THP straddling an edge that is cut, then the VMA code splits.
 */
int mmn__mmap_split_range(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	struct mmn_vma *lo, *hi;
	int err = mmn__vma_split_edges(mm, start, end, &lo, &hi);

	if (err || (!lo && !hi))
		return err;
	if ((lo && mmn__split_huge_boundary(mm, start)) || (hi && mmn__split_huge_boundary(mm, end)))
		return -ENOMEM;
	mmn__hugetlb_split_unshare(mm, lo, start);
	mmn__hugetlb_split_unshare(mm, hi, end);
	return mmn_vma_split_range(mm, start, end);
}

int mmn_do_munmap(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	struct mmn_vma **detached;
	int n = munmap_detach(mm, start, end, &detached);

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	if (n <= 0)
		return n;
	unmap_region(mm, detached, n, start, end);
	vmas_free(mm->sim, detached, n);
	return 0;
}

#define MMN_MAP_KNOWN (MMN_MAP_SHARED | MMN_MAP_PRIVATE | MMN_MAP_FIXED | MMN_MAP_ANONYMOUS | \
		       MMN_MAP_POPULATE | MMN_MAP_HUGETLB)

/* do_mmap()'s checks: 0 with the alignment and the rounded length, or -errno. */
static int mmap_check(unsigned long addr, unsigned long *len, int prot, int flags,
		      unsigned long *align)
{
	int type = flags & (MMN_MAP_SHARED | MMN_MAP_PRIVATE);

	if (!*len || (prot & ~(MMN_PROT_READ | MMN_PROT_WRITE)) || (flags & ~MMN_MAP_KNOWN))
		return -EINVAL;
	if ((type != MMN_MAP_SHARED && type != MMN_MAP_PRIVATE) || !(flags & MMN_MAP_ANONYMOUS))
		return -EINVAL;
	*align = flags & MMN_MAP_HUGETLB ? MMN_PMD_SIZE : MMN_PAGE_SIZE;
	if (*len > MMN_TASK_SIZE)
		return -ENOMEM;
	*len = (*len + *align - 1) & ~(*align - 1);
	if (flags & MMN_MAP_FIXED) {
		if (addr & (*align - 1))
			return -EINVAL;
		if (addr < MMN_MMAP_MIN_ADDR)
			return -EPERM;
		if (addr > MMN_TASK_SIZE - *len)
			return -ENOMEM;
	}
	return 0;
}

/*
 * vm_area_alloc() with what backs it: a shared object (shmem_zero_setup(),
 * hugetlbfs) for a shared mapping, an anon_vma for a private one
 * (anon_vma_prepare(), done at mmap rather than at the first fault). NULL
 * if out of memory.
 */
static struct mmn_vma *mmap_vma_alloc(struct mmn_mm *mm, unsigned long len, int prot, int flags)
{
	bool shared = (flags & (MMN_MAP_SHARED | MMN_MAP_PRIVATE)) == MMN_MAP_SHARED;
	struct mmn_vma *vma = calloc(1, sizeof(*vma));

	if (!vma)
		return NULL;
	vma->mm = mm;
	vma->vm_flags = (prot ? MMN_VM_READ : 0) | (prot & MMN_PROT_WRITE ? MMN_VM_WRITE : 0) |
			(shared ? MMN_VM_SHARED : 0) |
			(flags & MMN_MAP_HUGETLB ? MMN_VM_HUGETLB : 0);
	if (shared)
		vma->file = mmn__shmem_create(mm->sim, len, flags & MMN_MAP_HUGETLB);
	else
		vma->anon_vma = mmn_anon_vma_alloc(mm->sim);
	if (!vma->file && !vma->anon_vma) {
		free(vma);
		return NULL;
	}
	return vma;
}

/* vm_area_free() of a VMA that was never linked. */
static void mmap_vma_free(struct mmn_mm *mm, struct mmn_vma *vma)
{
	mmn_vma_rmap_release(vma);
	if (vma->file)
		mmn_shmem_put(mm->sim, vma->file);
	free(vma);
}

/*
 * mmap_region() under mmap_lock for write: a MAP_FIXED range is unmapped
 * first (its VMAs are detached into *@detached, *@nr of them, for the caller
 * to free after the lock), else get_unmapped_area() finds one; then the VMA
 * is linked. Returns the address, or -errno with nothing changed.
 */
static long mmap_region(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr,
			unsigned long len, unsigned long align, int flags,
			struct mmn_vma ***detached, int *nr)
{
	/* Two splits and the new VMA: nothing can fail once unmapping began. */
	if (mmn__vma_reserve(mm, 3))
		return -ENOMEM;
	if (flags & MMN_MAP_FIXED) {
		*nr = munmap_detach(mm, addr, addr + len, detached);
		if (*nr < 0)
			return *nr;
		if (*nr)
			unmap_region(mm, *detached, *nr, addr, addr + len);
	} else {
		addr = mmn__get_unmapped_area(mm, addr, len, align);
		if (!addr)
			return -ENOMEM;
	}
	vma->start = addr;
	vma->end = addr + len;
	if (!vma->file)
		vma->pgoff = addr >> MMN_PAGE_SHIFT;
	mmn__vma_link(mm, vma);
	return (long)addr;
}

/*
 * The common tail of do_mmap(): mmap_region() under mmap_lock for write,
 * the VMAs a MAP_FIXED replaced freed after the lock, then MAP_POPULATE.
 * Consumes @vma (freed on error).
 */
static int mmap_install(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr,
			unsigned long len, unsigned long align, int prot, int flags,
			unsigned long *out_addr)
{
	struct mmn_vma **detached = NULL;
	int n = 0;
	long ret;

	mmn_mmap_write_lock(mm);
	ret = mmap_region(mm, vma, addr, len, align, flags, &detached, &n);
	mmn_mmap_write_unlock(mm);
	if (ret < 0) {
		mmap_vma_free(mm, vma);
		return (int)ret;
	}
	addr = (unsigned long)ret;
	if (detached)
		vmas_free(mm->sim, detached, n);

	/* populate_vma_page_range(): errors do not fail the mmap. */
	if (flags & MMN_MAP_POPULATE) {
		unsigned int fflags = prot & MMN_PROT_WRITE ? MMN_FAULT_WRITE : 0;

		mmn_mmap_read_lock(mm);
		for (unsigned long a = addr; a < addr + len && prot; a += align)
			if (mmn_handle_mm_fault(mm, a, fflags))
				break;
		mmn_mmap_read_unlock(mm);
	}
	if (out_addr)
		*out_addr = addr;
	return 0;
}

/* do_mmap() + mmap_region() for anonymous memory, all versions. */
int mmn_mmap(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot, int flags,
	     unsigned long *out_addr)
{
	struct mmn_vma *vma;
	unsigned long align;
	int err;

	if (mmn__mm_dead(mm))
		return -EINVAL;
	err = mmap_check(addr, &len, prot, flags, &align);
	if (err)
		return err;
	vma = mmap_vma_alloc(mm, len, prot, flags);
	if (!vma)
		return -ENOMEM;
	return mmap_install(mm, vma, addr, len, align, prot, flags, out_addr);
}

/*
 * do_mmap() + mmap_region() of a regular file, MAP_SHARED (all versions):
 * vma->vm_file holds a reference, vm_pgoff is the file offset; the VMA joins
 * the file's i_mmap at vma_link(). See include/mmnsim/file.h.
 */
int mmn_mmap_file(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot, int flags,
		  struct mmn_file *file, unsigned long offset, unsigned long *out_addr)
{
	struct mmn_shmem *f = (struct mmn_shmem *)(void *)file;
	struct mmn_vma *vma;
	unsigned long align;
	int err;

	if (mmn__mm_dead(mm) || !file || offset & ~MMN_PAGE_MASK ||
	    (flags & ~(MMN_MAP_SHARED | MMN_MAP_FIXED | MMN_MAP_POPULATE)) ||
	    !(flags & MMN_MAP_SHARED))
		return -EINVAL;
	/* mmap_check() wants MAP_ANONYMOUS: the other checks are the same. */
	err = mmap_check(addr, &len, prot, flags | MMN_MAP_ANONYMOUS, &align);
	if (err)
		return err;
	if ((offset >> MMN_PAGE_SHIFT) + (len >> MMN_PAGE_SHIFT) > f->nr_slots)
		return -EINVAL;
	vma = calloc(1, sizeof(*vma));
	if (!vma)
		return -ENOMEM;
	vma->mm = mm;
	vma->vm_flags = (prot ? MMN_VM_READ : 0) | (prot & MMN_PROT_WRITE ? MMN_VM_WRITE : 0) |
			MMN_VM_SHARED;
	vma->file = mmn__file_get(file);
	vma->pgoff = offset >> MMN_PAGE_SHIFT;
	return mmap_install(mm, vma, addr, len, align, prot, flags, out_addr);
}

/*
 * exit_mmap(), 6.x order: mmu_notifier_release() first (hlist subscribers
 * get ->release and are unhashed; interval subscribers get a RELEASE
 * invalidation), then under mmap_lock for read a full-mm gather and the
 * UNMAP teardown of every VMA (which still reaches interval subscribers),
 * then under mmap_lock for write free_pgtables() and tlb_finish_mmu().
 */
void mmn_exit_mmap(struct mmn_mm *mm)
{
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;
	struct mmn_vma **vmas;
	unsigned long zapped = 0;
	int n;

	mmn_sched_span_begin(mm->sim, "exit_mmap", 0, 0, NULL);
	mmn_notifier_release(mm);
	mmn_mmap_read_lock(mm);
	mmn_tlb_gather_mmu_fullmm(&tlb, mm);
	mmn__notify_range_init(&range, MMN_NOTIFY_UNMAP, mm, 0, ~0UL, NULL);
	mmn__notify_start(MMN_OP_EXIT, &range);
	for (int i = 0; i < mm->nr_vmas; i++)
		zapped += mmn_zap_vma_range(&tlb, mm->vmas[i], mm->vmas[i]->start,
					    mm->vmas[i]->end);
	mmn__notify_end(&range);
	mmn_mmap_read_unlock(mm);

	mmn_mmap_write_lock(mm);
	vmas = mm->vmas;
	n = mm->nr_vmas;
	mm->vmas = NULL;
	mm->nr_vmas = mm->cap_vmas = 0;
	for (int i = 0; i < n; i++)
		mmn_vma_rmap_unlink(vmas[i]);
	mmn_free_pgtables(&tlb, mm, 0, ~0UL);
	mmn_tlb_finish_mmu(&tlb);
	mmn_mmap_write_unlock(mm);
	vmas_free(mm->sim, vmas, n);
	mmn__op_stat_call(mm->sim, MMN_OP_EXIT);
	mmn__op_stat_pages(mm->sim, MMN_OP_EXIT, zapped, 0);
	mmn_sched_span_end(mm->sim, "exit_mmap");
}
