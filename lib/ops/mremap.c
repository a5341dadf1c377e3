// SPDX-License-Identifier: MIT
/*
 * mremap() (mm/mremap.c): shrink (munmap of the tail), grow in place, or
 * move (move_vma() → move_page_tables()), event UNMAP on the old range.
 *
 * move_page_tables(), per PTE table (move_ptes()):
 *
 *   mremap actor                              CPU c / truncation
 *   ------------                              ------------------
 *   invalidate_range_start(UNMAP, old range)
 *   L(old PTL), L(new PTL, nested)
 *   entry = get_and_clear(old); set(new)      c may still hold old → page
 *   4.19+: flush_tlb_range(old extent)        (CVE-2018-18281 fix: no TLB
 *   U(new), U(old)                             entry outlives the PTLs)
 *   <4.19, a dirty entry moved: U(new),
 *          flush_tlb_range(old extent), U(old)
 *   <4.19, only clean entries moved: flush    window: c's stale entry to a
 *          only here, after the PTLs are       clean page survives U(old); a
 *          dropped (end of the loop)           truncation that takes the PTL
 *                                              now can free the page while c
 *                                              still writes it
 *   invalidate_range_end
 *   do_munmap(old range): a second (empty) UNMAP bracket
 *
 * Knob: mremap_flush_under_ptl. The pre-4.19 shape is that of 4.12.0 and
 * 4.13.4 mm/mremap.c move_ptes(): a present and dirty entry forces the
 * flush before the old PTL is dropped (against page_mkclean()), so
 * CVE-2018-18281's window was real only when every entry moved was clean.
 * 4.19+ (5.2.1, 6.19 read) force it for every present entry.
 *
 * hugetlb VMAs (knob mremap_hugetlb): before 5.17 (4.12.0 and 5.14
 * mm/mremap.c read) vma_to_resize() refuses them with -EINVAL, so only a
 * shrink (munmap of the tail, which comes first) works, and a FIXED target
 * is unmapped before the refusal. 5.17+ (5.19, 6.5, 6.6.9, 6.19 read):
 * both lengths rounded up to the huge page, both addresses aligned to it,
 * no growth; a FIXED move goes through move_hugetlb_page_tables() below.
 */
#include "ops/walk.h"

#define MREMAP_KNOWN (MMN_MREMAP_MAYMOVE | MMN_MREMAP_FIXED)

static inline unsigned long pmd_next(unsigned long addr)
{
	return (addr & MMN_PMD_MASK) + MMN_PMD_SIZE;
}

/* The length of the next extent: inside one PTE table on both sides. */
static unsigned long extent(unsigned long old, unsigned long old_end, unsigned long new)
{
	unsigned long len = (pmd_next(old) < old_end ? pmd_next(old) : old_end) - old;

	if (pmd_next(new) - new < len)
		len = pmd_next(new) - new;
	return len;
}

/* Allocate the destination PTE tables first, so the move cannot fail half
 * way (the kernel moves back what it moved; the model never needs to). */
static int move_prealloc(struct mmn_mm *mm, unsigned long old, unsigned long old_end,
			 unsigned long new)
{
	while (old < old_end) {
		unsigned long len = extent(old, old_end, new);
		int err;

		if (mmn_pt_walk(mm, old, MMN_LVL_PTE) &&
		    !mmn_pt_walk_alloc(mm, new, MMN_LVL_PTE, NULL, &err))
			return err ? err : -ENOMEM;
		old += len;
		new += len;
	}
	return 0;
}

/* move_ptes() for one extent; returns the entries moved. */
static unsigned long move_ptes(struct mmn_mm *mm, struct mmn_ptdesc *opt, unsigned long old,
			       unsigned long len, struct mmn_ptdesc *npt, unsigned long new,
			       bool *need_flush)
{
	struct mmn_sim *sim = mm->sim;
	bool under_ptl = ops_profile(mm)->mremap_flush_under_ptl;
	bool force_flush = false, present = false;
	unsigned long moved = 0;

	mmn_spin_lock(&opt->ptl);
	if (npt != opt)
		mmn_spin_lock_nested(&npt->ptl, 1);
	for (unsigned long off = 0; off < len; off += MMN_PAGE_SIZE) {
		unsigned int oi = mmn_pt_index(old + off, MMN_LVL_PTE);
		unsigned int ni = mmn_pt_index(new + off, MMN_LVL_PTE);
		mmn_pte_t e = mmn_pte_get(sim, opt, oi, old + off);

		if (mmn_pte_none(e))
			continue;
		e = mmn_pte_get_and_clear(sim, opt, oi, old + off);
		/* 4.19+: any present entry; before: a present dirty one. */
		if (mmn_pte_mapped(e) && (under_ptl || mmn_pte_dirty(e)))
			force_flush = true;
		present |= mmn_pte_mapped(e);
		/* move_soft_dirty_pte(): the new location is soft-dirty. */
		mmn_pte_set(sim, npt, ni, new + off, e | MMN_PTE_SOFT_DIRTY);
		moved++;
	}
	if (under_ptl) {
		if (force_flush)
			mmn_flush_tlb_range(mm, old, old + len);
		if (npt != opt)
			mmn_spin_unlock(&npt->ptl);
	} else {
		/* < 4.19: the new PTL goes first, the flush under the old. */
		if (npt != opt)
			mmn_spin_unlock(&npt->ptl);
		if (force_flush)
			mmn_flush_tlb_range(mm, old, old + len);
		else if (present)
			*need_flush = true;
	}
	mmn_spin_unlock(&opt->ptl);
	return moved;
}

/* move_page_tables() of [old, old + len) to @new. */
static unsigned long move_page_tables(struct mmn_mm *mm, unsigned long old, unsigned long len,
				      unsigned long new)
{
	unsigned long old_end = old + len, start = old, moved = 0;
	struct mmn_notifier_range range;
	bool need_flush = false;

	mmn__notify_range_init(&range, MMN_NOTIFY_UNMAP, mm, old, old_end, NULL);
	mmn__notify_start(MMN_OP_MREMAP, &range);
	while (old < old_end) {
		unsigned long n = extent(old, old_end, new);
		struct mmn_ptdesc *opt = mmn_pt_walk(mm, old, MMN_LVL_PTE);

		if (opt)
			moved += move_ptes(mm, opt, old, n, mmn_pt_walk(mm, new, MMN_LVL_PTE), new,
					   &need_flush);
		old += n;
		new += n;
	}
	/* Before 4.19: one flush of the old range, after every PTL was dropped. */
	if (need_flush)
		mmn_flush_tlb_range(mm, start, old_end);
	mmn__notify_end(&range);
	return moved;
}

/*
 * move_hugetlb_page_tables() (mm/hugetlb.c, 5.17+; read in 5.19, 6.5,
 * 6.6.9, 6.19), move_page_tables()'s hugetlb branch, which replaces its
 * UNMAP bracket:
 *
 *   S(CLEAR, [old, old + len) widened by
 *     adjust_range_if_pmd_sharing_possible())
 *   i_mmap_rwsem W (6.5, 6.6.9, 6.19 also the hugetlb VMA lock: not
 *     modelled; the model's private hugetlb has no object, hence no i_mmap)
 *   per huge page: empty → skipped; in a shared PMD table →
 *     huge_pmd_unshare(): this mm loses the whole PUD area, nothing is
 *     moved from it (the new range faults the pages back from the object),
 *     the walk goes on at the next PUD area; else move_huge_pte(): the new
 *     PMD lock, the old one nested, get_and_clear + set, U, U
 *   F1 of the widened range if a table was unshared, else of the old range
 *     (6.19 gathers the same ranges in an mmu_gather), after the PTLs
 *   E (the full end: ->invalidate_range 5.17-6.5) with i_mmap still held
 *   i_mmap_rwsem U
 *
 * The model takes the PMD lock around huge_pmd_unshare() (its lockdep
 * wants it; the kernel relies on i_mmap_rwsem there), never shares a PMD
 * table at the destination (huge_pte_alloc() may: 5.19 with i_mmap_rwsem
 * held, 6.5+ huge_pmd_share() would take it for read under the writer),
 * and advances the old and the new address by the same amount when it
 * skips (6.5+ OR both with the last-page mask). Returns the 4 KiB pages
 * moved.
 */
static unsigned long move_hugetlb_page_tables(struct mmn_mm *mm, struct mmn_vma *vma,
					      unsigned long old, unsigned long len,
					      unsigned long new)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long old_end = old + len, rs = old, re = old_end, moved = 0;
	struct mmn_notifier_range range;
	bool locked, unshared = false;

	mmn__hugetlb_widen(vma, &rs, &re);
	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, rs, re, NULL);
	mmn__notify_start(MMN_OP_MREMAP, &range);
	locked = mmn_hugetlb_share_lock(vma, true);
	while (old < old_end) {
		struct mmn_ptdesc *src = mmn_pt_walk(mm, old, MMN_LVL_PMD), *dst;
		unsigned long step = MMN_PMD_SIZE;

		if (!src || mmn_pte_none(mmn_pte_get(sim, src, mmn_pt_index(old, MMN_LVL_PMD), old))) {
			if (!src)
				step = (old & MMN_PUD_MASK) + MMN_PUD_SIZE - old;
			old += step;
			new += step;
			continue;
		}
		mmn_spin_lock(&src->ptl);
		if (locked && mmn_huge_pmd_unshare(mm, vma, old, src)) {
			mmn_spin_unlock(&src->ptl);
			unshared = true;
			step = (old & MMN_PUD_MASK) + MMN_PUD_SIZE - old;
			old += step;
			new += step;
			continue;
		}
		mmn_spin_unlock(&src->ptl);
		dst = mmn_pt_walk(mm, new, MMN_LVL_PMD); /* hugetlb_prealloc() */
		mmn_spin_lock(&dst->ptl);
		if (dst != src)
			mmn_spin_lock_nested(&src->ptl, 1);
		mmn_pte_set(sim, dst, mmn_pt_index(new, MMN_LVL_PMD), new,
			    mmn_pte_get_and_clear(sim, src, mmn_pt_index(old, MMN_LVL_PMD), old));
		if (dst != src)
			mmn_spin_unlock(&src->ptl);
		mmn_spin_unlock(&dst->ptl);
		moved += MMN_HPAGE_NR;
		old += step;
		new += step;
	}
	if (unshared)
		mmn_flush_tlb_range(mm, rs, re);
	else
		mmn_flush_tlb_range(mm, old_end - len, old_end);
	mmn__notify_end(&range);
	if (locked)
		mmn_hugetlb_share_unlock(vma, true);
	return moved;
}

/* huge_pte_alloc() of the destination of every populated huge entry,
 * before the bracket (as move_prealloc()); no sharing there. */
static int hugetlb_prealloc(struct mmn_mm *mm, unsigned long old, unsigned long old_end,
			    unsigned long new)
{
	for (; old < old_end; old += MMN_PMD_SIZE, new += MMN_PMD_SIZE) {
		int err;

		if (mmn_pt_walk(mm, old, MMN_LVL_PMD) &&
		    !mmn_pt_walk_alloc(mm, new, MMN_LVL_PMD, NULL, &err))
			return err ? err : -ENOMEM;
	}
	return 0;
}

/* A shared mapping cannot reach past its object (fixed size in the model). */
static bool fits_object(const struct mmn_vma *vma, unsigned long pgoff, unsigned long len)
{
	unsigned long pages = vma->file ? vma->file->nr_slots : 0;

	/* A hugetlb object counts its slots in huge pages. */
	if (vma->vm_flags & MMN_VM_HUGETLB)
		pages *= MMN_HPAGE_NR;
	return !vma->file || pgoff + (len >> MMN_PAGE_SHIFT) <= pages;
}

/*
 * move_vma(): a new VMA like the old one at @new (copy_vma()), the page
 * tables moved, then the old range unmapped (do_munmap()).
 */
static int move_vma(struct mmn_mm *mm, const struct mmn_vma *tmpl, unsigned long old,
		    unsigned long old_len, unsigned long new, unsigned long new_len,
		    unsigned long *moved)
{
	unsigned long pgoff = tmpl->pgoff + ((old - tmpl->start) >> MMN_PAGE_SHIFT);
	bool huge = tmpl->vm_flags & MMN_VM_HUGETLB;
	int err;

	/* move_huge_pmd() is not modelled: THPs in the moved range are split
	 * first (move_page_tables()'s split_huge_pmd() path). */
	if (huge)
		err = hugetlb_prealloc(mm, old, old + old_len, new);
	else
		err = mmn__split_huge_range(mm, old, old + old_len);
	if (!err && !huge)
		err = move_prealloc(mm, old, old + old_len, new);
	if (err)
		return err;
	err = mmn_vma_insert_copy(mm, tmpl, new, new + new_len, pgoff);
	if (err)
		return err;
	if (huge)
		*moved = move_hugetlb_page_tables(mm, mmn_vma_lookup(mm, old), old, old_len, new);
	else
		*moved = move_page_tables(mm, old, old_len, new);
	return mmn_do_munmap(mm, old, old + old_len);
}

/* The checks made before mmap_lock is taken (mremap syscall, mremap_to()). */
static int mremap_check(struct mmn_mm *mm, unsigned long old_addr, unsigned long old_len,
			unsigned long new_len, int flags, unsigned long new_addr)
{
	if (mmn__mm_dead(mm) || flags & ~MREMAP_KNOWN || old_addr & ~MMN_PAGE_MASK ||
	    ((flags & MMN_MREMAP_FIXED) && !(flags & MMN_MREMAP_MAYMOVE)))
		return -EINVAL;
	if (!old_len || !new_len || old_len > MMN_TASK_SIZE || new_len > MMN_TASK_SIZE)
		return -EINVAL;
	if (old_addr > MMN_TASK_SIZE - old_len)
		return -EINVAL;
	if (flags & MMN_MREMAP_FIXED) {
		/* mremap_to() (2.4-6.x): a new range past TASK_SIZE is -EINVAL, not -ENOMEM */
		if (new_addr & ~MMN_PAGE_MASK || new_addr > MMN_TASK_SIZE - new_len)
			return -EINVAL;
		if (old_addr + old_len > new_addr && new_addr + new_len > old_addr)
			return -EINVAL;
		if (new_addr < MMN_MMAP_MIN_ADDR)
			return -EPERM;
	}
	return 0;
}

/*
 * A hugetlb VMA (knob mremap_hugetlb). 5.17+ (5.19 SYSCALL_DEFINE5(mremap),
 * 6.19 align_hugetlb()): both lengths rounded up to 2 MiB, both addresses
 * aligned (new_addr whatever the flags, as both read), no growth; the
 * checks that depend on the lengths are made again. Before (4.12, 5.14):
 * vma_to_resize() refuses, after mremap_to() unmapped the FIXED target
 * and the shrunk tail; a shrink without FIXED never gets there. 0: go on.
 */
static int mremap_hugetlb(struct mmn_mm *mm, const struct mmn_vma *vma, unsigned long old_addr,
			  unsigned long *old_len, unsigned long *new_len, int flags,
			  unsigned long new_addr)
{
	int err;

	if (!ops_profile(mm)->mremap_hugetlb) {
		if (!(flags & MMN_MREMAP_FIXED))
			return *new_len <= *old_len ? 0 : -EINVAL;
		err = mmn_do_munmap(mm, new_addr, new_addr + *new_len);
		if (!err && *old_len > *new_len)
			err = mmn_do_munmap(mm, old_addr + *new_len, old_addr + *old_len);
		return err ? err : -EINVAL;
	}
	*old_len = (*old_len + MMN_PMD_SIZE - 1) & MMN_PMD_MASK;
	*new_len = (*new_len + MMN_PMD_SIZE - 1) & MMN_PMD_MASK;
	if (old_addr & ~MMN_PMD_MASK || new_addr & ~MMN_PMD_MASK || *new_len > *old_len)
		return -EINVAL;
	if (old_addr + *old_len > vma->end)
		return -EFAULT;
	if ((flags & MMN_MREMAP_FIXED) && (new_addr > MMN_TASK_SIZE - *new_len ||
					   (old_addr + *old_len > new_addr &&
					    new_addr + *new_len > old_addr)))
		return -EINVAL;
	return 0;
}

static int mremap_do(struct mmn_mm *mm, unsigned long old_addr, unsigned long old_len,
	       unsigned long new_len, int flags, unsigned long new_addr, unsigned long *out_addr)
{
	unsigned long old_end, moved = 0, result = old_addr;
	struct mmn_vma *vma, tmpl;
	int err;

	/* PAGE_ALIGN(); a length near ULONG_MAX wraps to 0 and is refused. */
	old_len = (old_len + MMN_PAGE_SIZE - 1) & MMN_PAGE_MASK;
	new_len = (new_len + MMN_PAGE_SIZE - 1) & MMN_PAGE_MASK;
	err = mremap_check(mm, old_addr, old_len, new_len, flags, new_addr);
	if (err)
		return err;
	old_end = old_addr + old_len;

	mmn_mmap_write_lock(mm);
	vma = mmn_vma_lookup(mm, old_addr);
	if (!vma || old_end > vma->end) {
		err = -EFAULT;
		goto out;
	}
	if (vma->vm_flags & MMN_VM_HUGETLB) {
		err = mremap_hugetlb(mm, vma, old_addr, &old_len, &new_len, flags, new_addr);
		if (err)
			goto out;
		old_end = old_addr + old_len;
	}
	tmpl = *vma;
	if (!fits_object(vma, vma->pgoff + ((old_addr - vma->start) >> MMN_PAGE_SHIFT),
			 new_len)) {
		err = -EINVAL;
		goto out;
	}

	if (flags & MMN_MREMAP_FIXED) {
		err = mmn_do_munmap(mm, new_addr, new_addr + new_len);
		if (!err && old_len > new_len) {
			err = mmn_do_munmap(mm, old_addr + new_len, old_end);
			old_len = new_len;
		}
		if (!err)
			err = move_vma(mm, &tmpl, old_addr, old_len, new_addr, new_len, &moved);
		result = new_addr;
		goto out;
	}
	if (new_len <= old_len) {
		/* Shrink: unmap the tail, the mapping stays where it is. */
		if (new_len < old_len)
			err = mmn_do_munmap(mm, old_addr + new_len, old_end);
		goto out;
	}
	/* vma_expandable(): grow in place when the range ends the VMA and the
	 * space above is free. */
	if (old_end == vma->end && old_addr <= MMN_TASK_SIZE - new_len &&
	    (mmn_vma_first_above(mm, old_end) == mm->nr_vmas ||
	     mm->vmas[mmn_vma_first_above(mm, old_end)]->start >= old_addr + new_len)) {
		vma->end = old_addr + new_len;
		goto out;
	}
	if (!(flags & MMN_MREMAP_MAYMOVE)) {
		err = -ENOMEM;
		goto out;
	}
	new_addr = mmn_get_unmapped_area(mm, new_len, MMN_PAGE_SIZE);
	if (!new_addr) {
		err = -ENOMEM;
		goto out;
	}
	err = move_vma(mm, &tmpl, old_addr, old_len, new_addr, new_len, &moved);
	result = new_addr;
out:
	mmn_mmap_write_unlock(mm);
	if (err)
		return err;
	mmn__op_stat_call(mm->sim, MMN_OP_MREMAP);
	mmn__op_stat_pages(mm->sim, MMN_OP_MREMAP, moved, 0);
	if (out_addr)
		*out_addr = result;
	return 0;
}

/* The span of the trace around mremap (docs/exploration.md). */
int mmn_mremap(struct mmn_mm *mm, unsigned long old_addr, unsigned long old_len,
	       unsigned long new_len, int flags, unsigned long new_addr, unsigned long *out_addr)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "mremap", old_addr, old_addr + old_len, NULL);
	err = mremap_do(mm, old_addr, old_len, new_len, flags, new_addr, out_addr);
	mmn_sched_span_end(sim, "mremap");
	return err;
}
