// SPDX-License-Identifier: MIT
/*
 * Regular files with a page cache and writeback (mm/filemap.c,
 * mm/page-writeback.c, mm/rmap.c folio_mkclean()): the file is a struct
 * mmn_shmem with a "disk" (one word per page) and an i_size; its pages are
 * MMN_PG_SHMEM page-cache pages found through the object's i_mmap, so the
 * rmap, reclaim and migration treat them as they treat shmem pages.
 *
 * A shared file mapping wants write notification (vma_wants_writenotify():
 * the filesystem tracks dirty pages), so a page is mapped writable only by a
 * store fault that marks it dirty, and writeback write-protects it again:
 *
 *   writeback (folio locked)                 a CPU / device of a mapping
 *   ------------------------                 ---------------------------
 *   per mapping: S(PROTECTION_PAGE)          (start: KVM/HMM drop the page)
 *     L, writable/dirty entry: clear,
 *     F1 (+F2 in 6.6+), re-set RO + clean
 *     U  E (F2 in 3.19-6.5)
 *   clear PG_dirty, write the content        a store faults: wp_page_shared()
 *   unlock                                   waits for the folio lock, then
 *                                            dirties the page and maps it RW
 */
#include <stdlib.h>

#include <mmnsim/file.h>

#include "ops/ops_internal.h"

static inline struct mmn_shmem *file_obj(struct mmn_file *file)
{
	return (struct mmn_shmem *)(void *)file;
}

static inline void filemap_stat(_Atomic unsigned long *c)
{
	atomic_fetch_add_explicit(c, 1, memory_order_relaxed);
}

struct mmn_file *mmn_file_create(struct mmn_sim *sim, unsigned long size)
{
	struct mmn_shmem *f;

	if (!sim || !size || size > MMN_TASK_SIZE) {
		errno = EINVAL;
		return NULL;
	}
	size = (size + MMN_PAGE_SIZE - 1) & MMN_PAGE_MASK;
	f = mmn__shmem_create(sim, size, false);
	if (!f) {
		errno = ENOMEM;
		return NULL;
	}
	f->disk = calloc(f->nr_slots, sizeof(*f->disk));
	if (!f->disk) {
		mmn_shmem_put(sim, f);
		errno = ENOMEM;
		return NULL;
	}
	f->sim = sim;
	atomic_store_explicit(&f->size, f->nr_slots, memory_order_relaxed);
	return (struct mmn_file *)(void *)f;
}

void mmn_file_put(struct mmn_file *file)
{
	if (file)
		mmn_shmem_put(file_obj(file)->sim, file_obj(file));
}

struct mmn_shmem *mmn__file_get(struct mmn_file *file)
{
	struct mmn_shmem *f = file_obj(file);

	atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed);
	return f;
}

int mmn_file_read_disk(struct mmn_file *file, unsigned long offset, uint64_t *val)
{
	struct mmn_shmem *f = file_obj(file);

	if (!file || !val || offset & ~MMN_PAGE_MASK || (offset >> MMN_PAGE_SHIFT) >= f->nr_slots)
		return -EINVAL;
	mmn_raw_lock(&f->lock);
	*val = f->disk[offset >> MMN_PAGE_SHIFT];
	mmn_raw_unlock(&f->lock);
	return 0;
}

unsigned long mmn_file_cached(struct mmn_file *file, unsigned long offset)
{
	struct mmn_shmem *f = file_obj(file);
	unsigned long pfn;

	if (!file || (offset >> MMN_PAGE_SHIFT) >= f->nr_slots)
		return 0;
	mmn_raw_lock(&f->lock);
	pfn = f->slots[offset >> MMN_PAGE_SHIFT];
	mmn_raw_unlock(&f->lock);
	return pfn;
}

/*
 * filemap_get_folio(FGP_CREAT) + filemap_read_folio(): the cached page at
 * @index, or a new one read from the disk (or from the swap slot reclaim
 * left it in: then it is newer than the disk, hence dirty). The cache keeps
 * one reference; the caller gets another. 0 if out of frames.
 */
static unsigned long filemap_get_page(struct mmn_sim *sim, struct mmn_shmem *f,
				      unsigned long index)
{
	unsigned long pfn;

	mmn_raw_lock(&f->lock);
	pfn = f->slots[index];
	if (!pfn && (pfn = mmn_alloc_page(sim, MMN_PG_SHMEM))) {
		struct mmn_page *p = mmn_pfn_to_page(sim, pfn);
		uint64_t content = f->disk[index];

		if (f->swapped[index]) {
			unsigned long cache;

			mmn_swap_read(sim, f->swapped[index], &content, &cache);
			mmn_swap_free(sim, f->swapped[index]);
			f->swapped[index] = 0;
			atomic_fetch_or(&p->flags, MMN_PG_DIRTY);
		}
		atomic_store_explicit(&p->content, content, memory_order_relaxed);
		p->mapping = f;
		p->index = index;
		f->slots[index] = pfn;
	}
	if (pfn)
		atomic_fetch_add_explicit(&mmn_pfn_to_page(sim, pfn)->refcount, 1,
					  memory_order_relaxed);
	mmn_raw_unlock(&f->lock);
	return pfn;
}

/* Whether @pfn is still @f's page at @index (not truncated meanwhile). */
static bool filemap_still_cached(struct mmn_shmem *f, unsigned long index, unsigned long pfn)
{
	bool same;

	mmn_raw_lock(&f->lock);
	same = index < atomic_load(&f->size) && f->slots[index] == pfn;
	mmn_raw_unlock(&f->lock);
	return same;
}

/*
 * filemap_fault() + finish_fault() for do_read_fault() / do_shared_fault()
 * (all versions), on a mapping that wants write notification: the page
 * locked (VM_FAULT_LOCKED), checked against truncation, then mapped under
 * the PTL: read-only for a load (even in a writable VMA), writable and dirty
 * for a store, which then marks the page dirty before unlocking it
 * (do_page_mkwrite() + fault_dirty_shared_page()). A page not cached is
 * read in under invalidate_lock for read (filemap_fault(), 5.15+). Returns 0
 * (done, or lost a race: retry), -EFAULT past i_size (SIGBUS), -ENOMEM.
 */
int mmn__filemap_fault(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
		       unsigned int idx, unsigned long addr, bool write)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_shmem *f = vma->file;
	unsigned long index = vma->pgoff + ((addr - vma->start) >> MMN_PAGE_SHIFT), pfn;
	bool done = false, inval;
	int err = 0;

	/* Not cached: read it in under invalidate_lock (5.15+; ext4's
	 * i_mmap_sem before), which keeps a truncation or hole punch from
	 * running meanwhile. */
	mmn_raw_lock(&f->lock);
	inval = index < f->nr_slots && !f->slots[index];
	mmn_raw_unlock(&f->lock);
	if (inval)
		mmn_down_read(&f->invalidate_lock);
	if (index >= atomic_load(&f->size)) {
		err = -EFAULT;
		goto out;
	}
	pfn = filemap_get_page(sim, f, index);
	if (!pfn) {
		err = -ENOMEM;
		goto out;
	}
	mmn_lock_page(sim, pfn);
	if (filemap_still_cached(f, index, pfn)) {
		mmn_spin_lock(&pt->ptl);
		if (mmn_pte_none(mmn_pte_get(sim, pt, idx, addr))) {
			mmn_page_add_map(sim, pfn);
			mmn_pte_set(sim, pt, idx, addr,
				    mmn_mk_pte(pfn, MMN_PTE_ACCESSED |
							    (write ? MMN_PTE_WRITE | MMN_PTE_DIRTY |
									     MMN_PTE_SOFT_DIRTY
								   : 0)));
			done = true;
		}
		mmn_spin_unlock(&pt->ptl);
		if (done && write)
			atomic_fetch_or(&mmn_pfn_to_page(sim, pfn)->flags, MMN_PG_DIRTY);
	} else if (index >= atomic_load(&f->size)) {
		err = -EFAULT; /* truncated meanwhile: SIGBUS */
	}
	mmn_unlock_page(sim, pfn);
	if (!done)
		mmn_put_page(sim, pfn);
	else
		filemap_stat(&sim->fault_stats.shared);
out:
	if (inval)
		mmn_up_read(&f->invalidate_lock);
	return err;
}

/*
 * wp_page_shared() (all versions): a store to a read-only entry of a file
 * page. With a reference, the PTL dropped: do_page_mkwrite() (the folio
 * lock, truncation checked), then under the PTL, if the entry is still the
 * one that faulted, wp_page_reuse() makes it writable and dirty; the page is
 * marked dirty before its lock is dropped (fault_dirty_shared_page()).
 */
int mmn__filemap_wp_page(struct mmn_mm *mm, struct mmn_vma *vma, struct mmn_ptdesc *pt,
			 unsigned int idx, unsigned long addr, mmn_pte_t orig)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long pfn = mmn_pte_pfn(orig);
	struct mmn_page *p = mmn_pfn_to_page(sim, pfn);
	bool done = false;

	mmn_spin_lock(&pt->ptl);
	if (mmn_pte_get(sim, pt, idx, addr) != orig) {
		mmn_spin_unlock(&pt->ptl);
		return 0;
	}
	atomic_fetch_add_explicit(&p->refcount, 1, memory_order_relaxed);
	mmn_spin_unlock(&pt->ptl);
	/* ->page_mkwrite() of ext4 / xfs: invalidate_lock for read (5.15+;
	 * ext4's i_mmap_sem before), so a store to a page being truncated
	 * waits for the truncation (whose zap removes this entry) instead of
	 * spinning on the refault. */
	mmn_down_read(&vma->file->invalidate_lock);
	mmn_lock_page(sim, pfn);
	if (filemap_still_cached(vma->file, p->index, pfn)) {
		mmn_spin_lock(&pt->ptl);
		done = mmn_pte_get(sim, pt, idx, addr) == orig &&
		       mmn_pte_cmpxchg(sim, pt, idx, addr, orig,
				       orig | MMN_PTE_WRITE | MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY |
					       MMN_PTE_ACCESSED);
		mmn_spin_unlock(&pt->ptl);
		if (done)
			atomic_fetch_or(&p->flags, MMN_PG_DIRTY);
	}
	mmn_unlock_page(sim, pfn);
	mmn_up_read(&vma->file->invalidate_lock);
	mmn_put_page(sim, pfn);
	if (done)
		filemap_stat(&sim->fault_stats.reuse);
	return 0;
}

/* ---------------------------------------------------------------- */
/* Writeback: folio_clear_dirty_for_io() → folio_mkclean()            */
/* ---------------------------------------------------------------- */

struct mkclean_ctx {
	unsigned long pfn;
	unsigned long cleaned, visited;
};

/*
 * page_mkclean_one() → page_vma_mkclean_one() for a 4 KiB page:
 *   4.13+  S(PROTECTION_PAGE, 5.2+) L [dirty or writable: ptep_clear_flush
 *          (F1; F2 inside in 6.6+), write-protect, clean, set] U E; no
 *          call-site ->invalidate_range: the entry is only downgraded, so
 *          3.19-6.5 flush the secondary TLBs at E.
 *   <=4.12 no start/end; ->invalidate_page right after the change, with
 *          the PTL still held (4.12 mm/rmap.c page_mkclean_one()).
 */
static bool page_mkclean_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct mkclean_ctx *c = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	bool bracket = ops_profile(mm)->secondary_flush != MMN_SECFLUSH_INVALIDATE_PAGE;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pt;

	if (!(vma->vm_flags & MMN_VM_SHARED)) /* invalid_mkclean_vma() */
		return true;
	c->visited++;
	if (bracket) {
		mmn__notify_range_init(&range, MMN_NOTIFY_PROTECTION_PAGE, mm, addr,
				       addr + MMN_PAGE_SIZE, NULL);
		mmn__notify_start(MMN_OP_WRITEBACK, &range);
	}
	pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	if (pt) {
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		mmn_pte_t e;

		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, addr);
		if (mmn_pte_present(e) && mmn_pte_pfn(e) == c->pfn &&
		    (mmn_pte_dirty(e) || mmn_pte_write(e))) {
			e = mmn_pte_get_and_clear(sim, pt, idx, addr);
			mmn_flush_tlb_page(mm, addr); /* ptep_clear_flush() */
			mmn_pte_set(sim, pt, idx, addr, e & ~(MMN_PTE_WRITE | MMN_PTE_DIRTY));
			c->cleaned++;
			if (!bracket)
				mmn_notifier_invalidate_page(mm, addr);
		}
		mmn_spin_unlock(&pt->ptl);
	}
	if (bracket)
		mmn__notify_end(&range);
	return true;
}

/* The write of one page: 1 if it was dirty and is now written. */
static int writeback_one(struct mmn_sim *sim, struct mmn_shmem *f, unsigned long index,
			 struct mkclean_ctx *c)
{
	unsigned long pfn;
	struct mmn_page *p;
	int written = 0;

	mmn_raw_lock(&f->lock);
	pfn = f->slots[index];
	if (pfn && (atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) & MMN_PG_DIRTY))
		atomic_fetch_add_explicit(&mmn_pfn_to_page(sim, pfn)->refcount, 1,
					  memory_order_relaxed);
	else
		pfn = 0;
	mmn_raw_unlock(&f->lock);
	if (!pfn)
		return 0;
	p = mmn_pfn_to_page(sim, pfn);
	mmn_lock_page(sim, pfn);
	if (filemap_still_cached(f, index, pfn) && (atomic_load(&p->flags) & MMN_PG_DIRTY)) {
		c->pfn = pfn;
		if (atomic_load(&p->mapcount))
			mmn_rmap_walk(sim, pfn, page_mkclean_one, c);
		/* folio_test_clear_dirty(), then the I/O (done at once here). */
		atomic_fetch_and(&p->flags, ~MMN_PG_DIRTY);
		mmn_raw_lock(&f->lock);
		f->disk[index] = atomic_load_explicit(&p->content, memory_order_relaxed);
		mmn_raw_unlock(&f->lock);
		written = 1;
	}
	mmn_unlock_page(sim, pfn);
	mmn_put_page(sim, pfn);
	return written;
}

long mmn_file_writeback(struct mmn_file *file, unsigned long offset, unsigned long len)
{
	struct mmn_shmem *f = file_obj(file);
	struct mkclean_ctx c = { 0 };
	unsigned long first, last;
	long written = 0;

	if (!file || offset & ~MMN_PAGE_MASK)
		return -EINVAL;
	first = offset >> MMN_PAGE_SHIFT;
	last = f->nr_slots;
	if (len && first + ((len + MMN_PAGE_SIZE - 1) >> MMN_PAGE_SHIFT) < last)
		last = first + ((len + MMN_PAGE_SIZE - 1) >> MMN_PAGE_SHIFT);
	for (unsigned long i = first; i < last; i++)
		written += writeback_one(f->sim, f, i, &c);
	mmn__op_stat_call(f->sim, MMN_OP_WRITEBACK);
	mmn__op_stat_pages(f->sim, MMN_OP_WRITEBACK, c.cleaned, c.visited - c.cleaned);
	return written;
}
