// SPDX-License-Identifier: MIT
/*
 * unmap_mapping_range() and the page-cache removal it precedes
 * (mm/memory.c, mm/truncate.c; shmem_fallocate() for shmem objects): file
 * truncation, hole punching and madvise(MADV_REMOVE).
 *
 *   truncate / punch (no mmap_lock)          a CPU of a mapping
 *   -------------------------------          ------------------
 *   i_mmap_rwsem read; per mapping:
 *     zap_page_range_single(): gather,
 *     S(CLEAR) [L clear U per table] E,
 *     tlb_finish_mmu (F1, pages freed
 *     after the flush)
 *   per cached page: folio lock              a refault finds the page
 *     still mapped (refaulted)? unmap        cached and maps it under its
 *     it again (unmap_mapping_folio())       folio lock, or finds it gone
 *     take it out of the cache, unlock       (truncated: retry / SIGBUS)
 *
 * Truncation and hole punching hold mapping->invalidate_lock for write
 * (5.15+, ext4's i_mmap_sem before; the filesystems' setattr / fallocate):
 * a fault that must read a page in, and a store's ->page_mkwrite(), wait
 * for them (lib/ops/filemap.c).
 * The zap reaches each mm through i_mmap without that mm's mmap_lock: the
 * VMA stays on i_mmap (and its page tables stay) until free_pgtables()
 * unlinks it under i_mmap_rwsem for write.
 */
#include <mmnsim/file.h>

#include "ops/walk.h"

/* zap_page_range_single() (2.6.x-latest; CLEAR from 5.2, UNMAP as listeners
 * saw it before): one gather and one CLEAR bracket for [start, end). */
static unsigned long zap_vma_single(struct mmn_vma *vma, unsigned long start, unsigned long end)
{
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;
	unsigned long zapped;

	mmn_tlb_gather_mmu(&tlb, vma->mm);
	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, vma->mm, start, end, NULL);
	mmn__notify_start(MMN_OP_UNMAP_MAPPING, &range);
	zapped = mmn_zap_vma_range(&tlb, vma, start, end);
	mmn__notify_end(&range);
	mmn_tlb_finish_mmu(&tlb);
	return zapped;
}

/*
 * unmap_mapping_pages() → unmap_mapping_range_tree() (all versions): under
 * i_mmap_rwsem for read, each VMA mapping a page of [first, last] loses the
 * part that maps it. Returns the 4 KiB mappings removed.
 */
static unsigned long unmap_mapping_pages(struct mmn_shmem *f, unsigned long first,
					 unsigned long last)
{
	struct mmn_list_head *n;
	unsigned long zapped = 0;

	mmn_down_read(&f->i_mmap_rwsem);
	for (n = f->i_mmap.next; n != &f->i_mmap; n = n->next) {
		struct mmn_vma *vma = mmn_container_of(n, struct mmn_vma, rmap_link);
		unsigned long vba = vma->pgoff;
		unsigned long vea = vba + ((vma->end - vma->start) >> MMN_PAGE_SHIFT) - 1;
		unsigned long zba = first > vba ? first : vba, zea = last < vea ? last : vea;

		if (zba > zea)
			continue;
		zapped += zap_vma_single(vma, vma->start + ((zba - vba) << MMN_PAGE_SHIFT),
					 vma->start + ((zea - vba + 1) << MMN_PAGE_SHIFT));
	}
	mmn_up_read(&f->i_mmap_rwsem);
	return zapped;
}

/*
 * truncate_inode_pages_range() / shmem_undo_range() for one index: the page,
 * locked, unmapped again if a fault mapped it meanwhile
 * (unmap_mapping_folio()), leaves the cache (truncate_cleanup_folio():
 * no longer dirty; page->mapping cleared); its blocks (or swap slot) go.
 */
static unsigned long truncate_one(struct mmn_sim *sim, struct mmn_shmem *f, unsigned long index)
{
	unsigned long pfn, zapped = 0;
	bool cache_ref = false;

	mmn_raw_lock(&f->lock);
	pfn = f->slots[index];
	if (pfn)
		atomic_fetch_add_explicit(&mmn_pfn_to_page(sim, pfn)->refcount, 1,
					  memory_order_relaxed);
	mmn_raw_unlock(&f->lock);
	if (pfn) {
		struct mmn_page *p = mmn_pfn_to_page(sim, pfn);

		mmn_lock_page(sim, pfn);
		if (atomic_load(&p->mapcount))
			zapped = unmap_mapping_pages(f, index, index);
		mmn_raw_lock(&f->lock);
		if (f->slots[index] == pfn) {
			f->slots[index] = 0;
			p->mapping = NULL;
			atomic_fetch_and(&p->flags, ~MMN_PG_DIRTY);
			cache_ref = true;
		}
		mmn_raw_unlock(&f->lock);
		mmn_unlock_page(sim, pfn);
		if (cache_ref)
			mmn_put_page(sim, pfn);
		mmn_put_page(sim, pfn);
	}
	mmn_raw_lock(&f->lock);
	if (f->disk)
		f->disk[index] = 0;
	if (f->swapped[index]) {
		mmn_swap_free(sim, f->swapped[index]);
		f->swapped[index] = 0;
	}
	mmn_raw_unlock(&f->lock);
	return zapped;
}

/* The pages [first, last] of @f: unmapped (once, or twice for a truncate,
 * as truncate_pagecache() does for the COWs a private mapping could make in
 * between), then out of the cache. */
static void truncate_range(struct mmn_sim *sim, struct mmn_shmem *f, unsigned long first,
			   unsigned long last, bool twice)
{
	unsigned long zapped;

	mmn__lockdep_assert_held(&f->invalidate_lock, "invalidate_lock");
	zapped = unmap_mapping_pages(f, first, last);

	for (unsigned long i = first; i <= last && i < f->nr_slots; i++)
		zapped += truncate_one(sim, f, i);
	if (twice)
		zapped += unmap_mapping_pages(f, first, last);
	mmn__op_stat_call(sim, MMN_OP_UNMAP_MAPPING);
	mmn__op_stat_pages(sim, MMN_OP_UNMAP_MAPPING, zapped, 0);
}

int mmn_file_truncate(struct mmn_file *file, unsigned long size)
{
	struct mmn_shmem *f = (struct mmn_shmem *)(void *)file;
	unsigned long pages;

	if (!file)
		return -EINVAL;
	pages = (size >> MMN_PAGE_SHIFT) + !!(size & ~MMN_PAGE_MASK);
	if (pages > f->nr_slots)
		return -EFBIG;
	/* The filesystem's setattr: invalidate_lock for write (5.15+; ext4's
	 * i_mmap_sem before), then truncate_setsize(): i_size first, so new
	 * faults past it fail. */
	mmn_down_write(&f->invalidate_lock);
	if (pages < atomic_exchange(&f->size, pages))
		truncate_range(f->sim, f, pages, f->nr_slots - 1, true);
	mmn_up_write(&f->invalidate_lock);
	return 0;
}

int mmn_file_punch_hole(struct mmn_file *file, unsigned long offset, unsigned long len)
{
	struct mmn_shmem *f = (struct mmn_shmem *)(void *)file;

	if (!file || (offset | len) & ~MMN_PAGE_MASK ||
	    (offset >> MMN_PAGE_SHIFT) + (len >> MMN_PAGE_SHIFT) > f->nr_slots)
		return -EINVAL;
	if (!len)
		return 0;
	mmn_down_write(&f->invalidate_lock); /* the filesystem's fallocate */
	truncate_range(f->sim, f, offset >> MMN_PAGE_SHIFT, ((offset + len) >> MMN_PAGE_SHIFT) - 1,
		       false);
	mmn_up_write(&f->invalidate_lock);
	return 0;
}

/* madvise_remove()'s checks for one VMA (6.19 mm/madvise.c). */
static int madvise_remove_check(const struct mmn_vma *vma)
{
	if (!vma->file || (vma->vm_flags & MMN_VM_HUGETLB))
		return -EINVAL; /* hugetlbfs hole punching is not modelled */
	if ((vma->vm_flags & (MMN_VM_SHARED | MMN_VM_WRITE)) != (MMN_VM_SHARED | MMN_VM_WRITE))
		return -EACCES;
	return 0;
}

/*
 * madvise_remove() (2.6.16-latest): for each VMA of the range, the file
 * offset it maps, a file reference, mmap_lock dropped, then
 * vfs_fallocate(PUNCH_HOLE | KEEP_SIZE) (shmem_fallocate() for a shmem
 * object: the same unmap_mapping_range() and removal). Every VMA is checked
 * before anything is punched.
 */
int mmn__madvise_remove(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	unsigned long addr = start;
	int err = 0;

	mmn_mmap_read_lock(mm);
	if (!mmn__walk_range_mapped(mm, start, end))
		err = -ENOMEM;
	for (int i = mmn_vma_first_above(mm, start);
	     !err && i < mm->nr_vmas && mm->vmas[i]->start < end; i++)
		err = madvise_remove_check(mm->vmas[i]);
	while (!err && addr < end) {
		struct mmn_vma *vma = mmn_vma_lookup(mm, addr);
		unsigned long e = vma->end < end ? vma->end : end;
		struct mmn_shmem *f = vma->file;
		unsigned long first = vma->pgoff + ((addr - vma->start) >> MMN_PAGE_SHIFT);

		atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed); /* get_file() */
		mmn_mmap_read_unlock(mm);
		mmn_down_write(&f->invalidate_lock);
		truncate_range(mm->sim, f, first, first + ((e - addr) >> MMN_PAGE_SHIFT) - 1, false);
		mmn_up_write(&f->invalidate_lock);
		mmn_shmem_put(mm->sim, f);
		addr = e;
		mmn_mmap_read_lock(mm);
		/* The VMAs may have changed while the lock was dropped. */
		if (addr < end && !mmn__walk_range_mapped(mm, addr, end))
			err = -ENOMEM;
		else if (addr < end)
			err = madvise_remove_check(mmn_vma_lookup(mm, addr));
	}
	mmn_mmap_read_unlock(mm);
	return err;
}
