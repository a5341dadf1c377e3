// SPDX-License-Identifier: MIT
/*
 * A minimal userfaultfd (include/mmnsim/userfaultfd.h): WP-mode registration
 * of private anonymous ranges, UFFDIO_WRITEPROTECT through the
 * change_protection() walk (lib/ops/mprotect.c, MM_CP_UFFD_WP), the
 * write-protect fault reported as a queued message, and UFFDIO_MOVE.
 *
 * UFFDIO_WRITEPROTECT(MODE_WP) against a device that translated the page
 * before (a secondary MMU listening with start/end):
 *
 *   uffd actor                              a listener / a CPU
 *   ----------                              ------------------
 *   mmap_lock R, tlb_gather_mmu
 *   S(PROTECTION_VMA, lazily per PUD)       drops its writable translations
 *   L, entry: -write, +uffd-wp, U           a CPU with a cached writable TLB
 *   E                                         entry may still store (F1 owed)
 *   tlb_finish_mmu: F1 (+F2 in 6.6+)        from here every store faults and
 *                                             is reported to the userfaultfd
 *
 * UFFDIO_MOVE of one page (6.19 move_pages_pte()):
 *
 *   mover                                   a listener / a CPU
 *   -----                                   ------------------
 *   S(CLEAR, [src, src + 4K))               drops the source translation
 *   folio lock, L(dst), L(src) by address
 *   src cleared, anon rmap + index moved
 *   dst = writable (+dirty, soft-dirty)     dst faults in nothing: it was none
 *   F1 of src (+F2 in 6.6+), U, U, unlock
 *   E
 */
#include <errno.h>
#include <stdlib.h>

#include <mmnsim/userfaultfd.h>

#include "ops/ops_internal.h"
#include "ops/userfaultfd_internal.h"
#include "ops/walk.h"

#define UFFD_QUEUE 64

struct mmn_uffd {
	struct mmn_mm *mm;          /* mmgrab()ed */
	unsigned long features;     /* UFFDIO_API */
	bool api_done;
	struct mmn_spinlock lock;   /* the message queue (fault_pending_wqh) */
	struct mmn_uffd_msg msgs[UFFD_QUEUE];
	unsigned int head, count;
	unsigned long dropped;
};

static const struct mmn_lock_class uffd_queue_class = {
	.name = "uffd_queue",
	.rank = MMN_RANK_NOTIFIER,
};

int mmn_uffd_create(struct mmn_mm *mm, struct mmn_uffd **out)
{
	struct mmn_uffd *u;

	if (mmn__mm_dead(mm) || !out)
		return -EINVAL;
	u = calloc(1, sizeof(*u));
	if (!u)
		return -ENOMEM;
	u->mm = mm;
	mmn_spin_lock_init(&u->lock, mm->sim, &uffd_queue_class, NULL);
	mmn_mmgrab(mm);
	*out = u;
	return 0;
}

int mmn_uffd_api(struct mmn_uffd *uffd, unsigned long features)
{
	if (!uffd || mmn__mm_dead(uffd->mm) || uffd->api_done ||
	    (features & ~MMN_UFFD_FEATURE_WP_ASYNC))
		return -EINVAL;
	if (features && !ops_profile(uffd->mm)->uffd_wp_async)
		return -EOPNOTSUPP;
	uffd->features = features;
	uffd->api_done = true;
	return 0;
}

bool mmn__uffd_wp_async(const struct mmn_vma *vma)
{
	return vma->uffd && (vma->uffd->features & MMN_UFFD_FEATURE_WP_ASYNC);
}

int mmn__uffd_wp_fault(struct mmn_vma *vma, unsigned long addr)
{
	struct mmn_uffd *u = vma->uffd;

	if (!u)
		return -EPERM;
	mmn_spin_lock(&u->lock);
	if (u->count < UFFD_QUEUE) {
		u->msgs[(u->head + u->count) % UFFD_QUEUE] =
			(struct mmn_uffd_msg){ addr & MMN_PAGE_MASK, true, true };
		u->count++;
	} else {
		u->dropped++;
	}
	mmn_spin_unlock(&u->lock);
	return -EPERM;
}

int mmn_uffd_read_msg(struct mmn_uffd *uffd, struct mmn_uffd_msg *msg)
{
	int err = -EAGAIN;

	if (!uffd || !msg)
		return -EINVAL;
	mmn_spin_lock(&uffd->lock);
	if (uffd->count) {
		*msg = uffd->msgs[uffd->head];
		uffd->head = (uffd->head + 1) % UFFD_QUEUE;
		uffd->count--;
		err = 0;
	}
	mmn_spin_unlock(&uffd->lock);
	return err;
}

unsigned long mmn_uffd_dropped(const struct mmn_uffd *uffd)
{
	return uffd ? uffd->dropped : 0;
}

/* The checks every range ioctl makes; the end of the range, or 0. */
static unsigned long uffd_range_end(struct mmn_uffd *u, unsigned long start, unsigned long len)
{
	if (!u || mmn__mm_dead(u->mm) || !len || (len & ~MMN_PAGE_MASK))
		return 0;
	return mmn__walk_range_end(start, len);
}

/* vma_can_userfault() for WP as the model supports it: private anonymous. */
static bool uffd_vma_ok(const struct mmn_vma *vma)
{
	return !(vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)) && !vma->file;
}

/* Every VMA of [start, end) (covered without holes) passes the checks of
 * userfaultfd_register(): 0, -EINVAL or -EBUSY. */
static int uffd_register_check(struct mmn_uffd *u, unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = u->mm;

	if (!mmn__walk_range_mapped(mm, start, end))
		return -EINVAL;
	for (int i = mmn_vma_first_above(mm, start); i < mm->nr_vmas && mm->vmas[i]->start < end;
	     i++) {
		const struct mmn_vma *vma = mm->vmas[i];

		if (!uffd_vma_ok(vma))
			return -EINVAL;
		if (vma->uffd && vma->uffd != u)
			return -EBUSY;
	}
	return 0;
}

int mmn_uffd_register(struct mmn_uffd *uffd, unsigned long start, unsigned long len,
		      unsigned long mode)
{
	unsigned long end = uffd_range_end(uffd, start, len);
	struct mmn_mm *mm;
	int err;

	if (!end)
		return -EINVAL;
	mm = uffd->mm;
	if (!mode || (mode & ~(MMN_UFFDIO_REGISTER_MODE_WP | MMN_UFFDIO_REGISTER_MODE_MISSING)))
		return -EINVAL;
	if (mode != MMN_UFFDIO_REGISTER_MODE_WP || !ops_profile(mm)->uffd_wp)
		return -EOPNOTSUPP;
	mmn_mmap_write_lock(mm);
	err = uffd_register_check(uffd, start, end);
	if (!err)
		err = mmn__mmap_split_range(mm, start, end);
	if (!err)
		for (int i = mmn_vma_first_above(mm, start);
		     i < mm->nr_vmas && mm->vmas[i]->start < end; i++) {
			mm->vmas[i]->vm_flags |= MMN_VM_UFFD_WP;
			mm->vmas[i]->uffd = uffd;
		}
	mmn_mmap_write_unlock(mm);
	return err;
}

/* userfaultfd_clear_vma() over [start, end) for @u's VMAs; mmap_lock W. */
static void uffd_clear_range(struct mmn_uffd *u, unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = u->mm;
	unsigned long changed = 0, unchanged = 0;

	for (int i = mmn_vma_first_above(mm, start); i < mm->nr_vmas && mm->vmas[i]->start < end;
	     i++) {
		struct mmn_vma *vma = mm->vmas[i];

		if (vma->uffd != u)
			continue;
		if (ops_profile(mm)->uffd_unregister_unprotects && (vma->vm_flags & MMN_VM_UFFD_WP))
			mmn__uffd_change_protection(vma, vma->start, vma->end, false, &changed,
						    &unchanged);
		vma->vm_flags &= ~MMN_VM_UFFD_WP;
		vma->uffd = NULL;
	}
	if (changed || unchanged)
		mmn__op_stat_pages(mm->sim, MMN_OP_UFFD_WP, changed, unchanged);
}

int mmn_uffd_unregister(struct mmn_uffd *uffd, unsigned long start, unsigned long len)
{
	unsigned long end = uffd_range_end(uffd, start, len);
	struct mmn_mm *mm;
	int err;

	if (!end)
		return -EINVAL;
	mm = uffd->mm;
	mmn_mmap_write_lock(mm);
	err = mmn__walk_range_mapped(mm, start, end) ? mmn__mmap_split_range(mm, start, end)
						     : -EINVAL;
	if (!err)
		uffd_clear_range(uffd, start, end);
	mmn_mmap_write_unlock(mm);
	return err;
}

void mmn_uffd_release(struct mmn_uffd *uffd)
{
	struct mmn_mm *mm;

	if (!uffd)
		return;
	mm = uffd->mm;
	if (!mmn__mm_dead(mm)) {
		mmn_mmap_write_lock(mm);
		uffd_clear_range(uffd, 0, MMN_TASK_SIZE);
		mmn_mmap_write_unlock(mm);
	}
	mmn_spin_lock_destroy(&uffd->lock);
	mmn_mmdrop(mm);
	free(uffd);
}

/* mwriteprotect_range(): every VMA of the range registered in WP mode with
 * @u (-ENOENT otherwise), then change_protection() per VMA. */
static int uffd_writeprotect_do(struct mmn_uffd *u, unsigned long start, unsigned long end,
				bool wp)
{
	struct mmn_mm *mm = u->mm;
	unsigned long changed = 0, unchanged = 0;
	int err = 0;

	mmn_mmap_read_lock(mm);
	if (!mmn__walk_range_mapped(mm, start, end))
		err = -ENOENT;
	for (int i = mmn_vma_first_above(mm, start);
	     !err && i < mm->nr_vmas && mm->vmas[i]->start < end; i++)
		if (mm->vmas[i]->uffd != u || !(mm->vmas[i]->vm_flags & MMN_VM_UFFD_WP))
			err = -ENOENT;
	for (int i = mmn_vma_first_above(mm, start);
	     !err && i < mm->nr_vmas && mm->vmas[i]->start < end; i++) {
		struct mmn_vma *vma = mm->vmas[i];

		mmn__uffd_change_protection(vma, start > vma->start ? start : vma->start,
					    end < vma->end ? end : vma->end, wp, &changed, &unchanged);
	}
	mmn_mmap_read_unlock(mm);
	if (!err) {
		mmn__op_stat_call(mm->sim, MMN_OP_UFFD_WP);
		mmn__op_stat_pages(mm->sim, MMN_OP_UFFD_WP, changed, unchanged);
	}
	return err;
}

int mmn_uffd_writeprotect(struct mmn_uffd *uffd, unsigned long start, unsigned long len, bool wp)
{
	unsigned long end = uffd_range_end(uffd, start, len);
	struct mmn_sim *sim;
	int err;

	if (!end)
		return -EINVAL;
	if (!ops_profile(uffd->mm)->uffd_wp)
		return -EOPNOTSUPP;
	sim = uffd->mm->sim;
	mmn_sched_span_begin(sim, "uffd_writeprotect", start, end, NULL);
	err = uffd_writeprotect_do(uffd, start, end, wp);
	mmn_sched_span_end(sim, "uffd_writeprotect");
	return err;
}

/* validate_move_areas() and move_pages()'s range checks (6.19). */
static int uffd_move_check(struct mmn_uffd *u, struct mmn_vma *dv, struct mmn_vma *sv,
			   unsigned long dst, unsigned long src, unsigned long len)
{
	if (!sv || !dv)
		return -ENOENT;
	if (src + len > sv->end || dst + len > dv->end)
		return -EINVAL;
	if ((sv->vm_flags & (MMN_VM_READ | MMN_VM_WRITE)) !=
		    (dv->vm_flags & (MMN_VM_READ | MMN_VM_WRITE)) ||
	    !(sv->vm_flags & MMN_VM_WRITE))
		return -EINVAL;
	if (!uffd_vma_ok(sv) || !uffd_vma_ok(dv) || dv->uffd != u)
		return -EINVAL;
	return 0;
}

/* PageAnonExclusive() of a small anonymous page, as the model knows it. */
static bool uffd_page_exclusive(struct mmn_sim *sim, unsigned long pfn)
{
	const struct mmn_page *p = mmn_pfn_to_page(sim, pfn);
	unsigned int f = atomic_load(&p->flags);

	return (f & (MMN_PG_ANON | MMN_PG_KSM | MMN_PG_ANON_SHARED | MMN_PG_HEAD)) == MMN_PG_ANON &&
	       mmn_compound_head(sim, pfn) == pfn && atomic_load(&p->mapcount) == 1;
}

/* double_pt_lock(): the two PTLs in address order, one if they are the same. */
static void uffd_double_pt_lock(struct mmn_ptdesc *a, struct mmn_ptdesc *b, bool lock)
{
	struct mmn_ptdesc *lo = a < b ? a : b, *hi = a < b ? b : a;

	if (lock) {
		mmn_spin_lock(&lo->ptl);
		if (hi != lo)
			mmn_spin_lock_nested(&hi->ptl, 1);
		return;
	}
	if (hi != lo)
		mmn_spin_unlock(&hi->ptl);
	mmn_spin_unlock(&lo->ptl);
}

struct uffd_move {
	struct mmn_vma *dv, *sv;
	unsigned long mode;
};

/* move_zeropage_pte(): the zero page's entry moves, no rmap, flushed at once. */
static long move_zeropage_pte(struct uffd_move *m, struct mmn_ptdesc *dpt,
			      struct mmn_ptdesc *spt, unsigned long dst, unsigned long src)
{
	struct mmn_sim *sim = m->sv->mm->sim;
	mmn_pte_t e = mmn_pte_get_and_clear(sim, spt, mmn_pt_index(src, MMN_LVL_PTE), src);

	mmn_flush_tlb_range(m->sv->mm, src, src + MMN_PAGE_SIZE); /* ptep_clear_flush() */
	mmn_pte_set(sim, dpt, mmn_pt_index(dst, MMN_LVL_PTE), dst, e & ~MMN_PTE_UFFD_WP);
	return MMN_PAGE_SIZE;
}

/* One page under both PTLs and its folio lock: cleared, its rmap moved,
 * mapped at @dst. -EBUSY (entry restored) if it got pinned meanwhile. */
static int move_one_locked(struct uffd_move *m, struct mmn_ptdesc *dpt, struct mmn_ptdesc *spt,
			   unsigned long dst, unsigned long src)
{
	struct mmn_sim *sim = m->sv->mm->sim;
	unsigned int si = mmn_pt_index(src, MMN_LVL_PTE);
	mmn_pte_t e = mmn_pte_get_and_clear(sim, spt, si, src);
	unsigned long pfn = mmn_pte_pfn(e);
	struct mmn_page *p = mmn_pfn_to_page(sim, pfn);
	struct mmn_anon_vma *old = p->mapping;

	if (atomic_load(&p->pincount)) {
		mmn_pte_set(sim, spt, si, src, e);
		return -EBUSY;
	}
	/* folio_move_anon_rmap() + folio->index = linear_page_index(). */
	mmn_page_set_anon_rmap(sim, pfn, m->dv, dst);
	if (old)
		mmn_anon_vma_put(old);
	mmn_pte_set(sim, dpt, mmn_pt_index(dst, MMN_LVL_PTE), dst,
		    mmn_mk_pte(pfn, MMN_PTE_WRITE | MMN_PTE_ACCESSED | MMN_PTE_SOFT_DIRTY |
					    (e & MMN_PTE_DIRTY)));
	return 0;
}

/* check_ptes_for_batched_move(): the next pair can join the batch; its
 * page is then trylocked. */
static bool move_batch_next(struct uffd_move *m, struct mmn_ptdesc *dpt, struct mmn_ptdesc *spt,
			    unsigned long dst, unsigned long src)
{
	struct mmn_sim *sim = m->sv->mm->sim;
	mmn_pte_t e = mmn_pte_get(sim, spt, mmn_pt_index(src, MMN_LVL_PTE), src);

	if (!mmn_pte_none(mmn_pte_get(sim, dpt, mmn_pt_index(dst, MMN_LVL_PTE), dst)) ||
	    !mmn_pte_present(e) || mmn_pte_pfn(e) == MMN_ZERO_PFN ||
	    !uffd_page_exclusive(sim, mmn_pte_pfn(e)))
		return false;
	return mmn_trylock_page(sim, mmn_pte_pfn(e));
}

/*
 * move_present_ptes() (6.19): under both PTLs, the first page (locked and
 * referenced by the caller; *@consumed once this takes both over), then
 * the following ones of the same two PTE tables while they qualify, each
 * unlocked once moved; one flush of the moved source extent, still under
 * the PTLs. Returns the bytes moved, or -EAGAIN / -EBUSY.
 */
static long move_present_ptes(struct uffd_move *m, struct mmn_ptdesc *dpt,
			      struct mmn_ptdesc *spt, unsigned long dst, unsigned long src,
			      unsigned long src_end, mmn_pte_t orig, bool *consumed)
{
	struct mmn_sim *sim = m->sv->mm->sim;
	unsigned long start = src, pfn = mmn_pte_pfn(orig);
	unsigned long dend = (dst & MMN_PMD_MASK) + MMN_PMD_SIZE, send;
	int err = 0;

	if (dend - dst > src_end - src)
		dend = dst + (src_end - src);
	send = (src & MMN_PMD_MASK) + MMN_PMD_SIZE;
	if (send - src > dend - dst)
		send = src + (dend - dst);
	if (mmn_pte_get(sim, spt, mmn_pt_index(src, MMN_LVL_PTE), src) != orig ||
	    !mmn_pte_none(mmn_pte_get(sim, dpt, mmn_pt_index(dst, MMN_LVL_PTE), dst)))
		return -EAGAIN;
	if (!uffd_page_exclusive(sim, pfn) || atomic_load(&mmn_pfn_to_page(sim, pfn)->pincount))
		return -EBUSY;
	*consumed = true;
	mmn_put_page(sim, pfn); /* the page table holds one */
	for (;;) {
		err = move_one_locked(m, dpt, spt, dst, src);
		mmn_unlock_page(sim, pfn);
		if (err)
			break;
		src += MMN_PAGE_SIZE;
		dst += MMN_PAGE_SIZE;
		if (src == send || !move_batch_next(m, dpt, spt, dst, src))
			break;
		pfn = mmn_pte_pfn(mmn_pte_get(sim, spt, mmn_pt_index(src, MMN_LVL_PTE), src));
	}
	if (src > start)
		mmn_flush_tlb_range(m->sv->mm, start, src);
	return src > start ? (long)(src - start) : err;
}

/* The entry of @src and the PTE tables, or why not. */
static int move_lookup(struct uffd_move *m, unsigned long dst, unsigned long src,
		       struct mmn_ptdesc **dpt, struct mmn_ptdesc **spt, mmn_pte_t *orig)
{
	struct mmn_mm *mm = m->sv->mm;
	struct mmn_ptdesc *pmdt = mmn_pt_walk(mm, src, MMN_LVL_PMD), *leaf = NULL;
	int err = 0;

	if (pmdt && mmn_pmd_mapped_leaf(mmn_pte_get(mm->sim, pmdt, mmn_pt_index(src, MMN_LVL_PMD),
						      src)))
		return -EBUSY; /* a THP: the kernel splits or moves it whole; not modelled */
	*spt = mmn_pt_walk(mm, src, MMN_LVL_PTE);
	*orig = *spt ? mmn_pte_get(mm->sim, *spt, mmn_pt_index(src, MMN_LVL_PTE), src) : 0;
	if (mmn_pte_none(*orig))
		return m->mode & MMN_UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES ? 1 : -ENOENT;
	*dpt = mmn_pt_walk_alloc(mm, dst, MMN_LVL_PTE, &leaf, &err);
	if (!*dpt)
		return leaf ? -EEXIST : (err ? err : -ENOMEM);
	if (!mmn_pte_none(mmn_pte_get(mm->sim, *dpt, mmn_pt_index(dst, MMN_LVL_PTE), dst)))
		return -EEXIST;
	if (!mmn_pte_present(*orig))
		return -EBUSY; /* swap, migration, device entries: not modelled */
	return 0;
}

/* move_pages_ptes() (6.19): a CLEAR range over the rest of the source,
 * [src, src_end), around one batch. Returns the bytes moved, 1 for a
 * skipped hole, or -errno. */
static long move_pages_pte(struct uffd_move *m, unsigned long dst, unsigned long src,
			   unsigned long src_end)
{
	struct mmn_mm *mm = m->sv->mm;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *dpt = NULL, *spt = NULL;
	unsigned long pfn;
	mmn_pte_t orig;
	long ret;

	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, src, src_end, NULL);
	mmn__notify_start(MMN_OP_UFFD_MOVE, &range);
	do {
		bool consumed = false;

		ret = move_lookup(m, dst, src, &dpt, &spt, &orig);
		if (ret)
			break;
		pfn = mmn_pte_pfn(orig);
		if (pfn == MMN_ZERO_PFN) {
			uffd_double_pt_lock(dpt, spt, true);
			ret = mmn_pte_get(mm->sim, spt, mmn_pt_index(src, MMN_LVL_PTE), src) == orig
				      ? move_zeropage_pte(m, dpt, spt, dst, src)
				      : -EAGAIN;
			uffd_double_pt_lock(dpt, spt, false);
			continue;
		}
		if (!uffd_page_exclusive(mm->sim, pfn)) {
			ret = -EBUSY;
			break;
		}
		mmn_get_page(mm->sim, pfn);
		mmn_lock_page(mm->sim, pfn);
		uffd_double_pt_lock(dpt, spt, true);
		ret = move_present_ptes(m, dpt, spt, dst, src, src_end, orig, &consumed);
		uffd_double_pt_lock(dpt, spt, false);
		if (!consumed) {
			mmn_unlock_page(mm->sim, pfn);
			mmn_put_page(mm->sim, pfn);
		}
	} while (ret == -EAGAIN);
	mmn__notify_end(&range);
	return ret;
}

static long uffd_move_do(struct mmn_uffd *u, unsigned long dst, unsigned long src,
			 unsigned long len, unsigned long mode)
{
	struct mmn_mm *mm = u->mm;
	struct uffd_move m = { .mode = mode };
	unsigned long moved = 0, changed = 0;
	int err;

	mmn_mmap_read_lock(mm);
	m.dv = mmn_vma_lookup(mm, dst);
	m.sv = mmn_vma_lookup(mm, src);
	err = uffd_move_check(u, m.dv, m.sv, dst, src, len);
	while (!err && moved < len) {
		long r = move_pages_pte(&m, dst + moved, src + moved, src + len);

		if (r < 0) {
			err = (int)r;
		} else if (r == 1) {
			moved += MMN_PAGE_SIZE; /* a skipped hole counts, as in move_pages() */
		} else {
			moved += (unsigned long)r;
			changed += (unsigned long)r / MMN_PAGE_SIZE;
		}
	}
	mmn_mmap_read_unlock(mm);
	if (!err)
		mmn__op_stat_call(mm->sim, MMN_OP_UFFD_MOVE);
	mmn__op_stat_pages(mm->sim, MMN_OP_UFFD_MOVE, changed, 0);
	return moved ? (long)moved : err;
}

long mmn_uffd_move(struct mmn_uffd *uffd, unsigned long dst, unsigned long src,
		   unsigned long len, unsigned long mode)
{
	unsigned long dend = uffd_range_end(uffd, dst, len);
	unsigned long send = uffd_range_end(uffd, src, len);
	struct mmn_sim *sim;
	long ret;

	if (!dend || !send || (mode & ~MMN_UFFDIO_MOVE_MODE_ALLOW_SRC_HOLES) ||
	    (dst < send && src < dend))
		return -EINVAL;
	if (!ops_profile(uffd->mm)->uffd_move)
		return -EOPNOTSUPP;
	sim = uffd->mm->sim;
	mmn_sched_span_begin(sim, "uffd_move", src, send, NULL);
	ret = uffd_move_do(uffd, dst, src, len, mode);
	mmn_sched_span_end(sim, "uffd_move");
	return ret;
}

/* ---- PAGEMAP_SCAN (fs/proc/task_mmu.c, 6.7+) ----------------------- */

struct pm_scan {
	struct mmn_mm *mm;
	unsigned long flags;
	struct mmn_page_region *vec;
	size_t vec_len, nr;
	unsigned long walk_end;  /* where a full vector stopped the walk */
	bool full;
	unsigned long changed, unchanged;
};

/* pagemap_scan_output(): merge with the last region or append; false
 * (the walk stops at @addr) when the vector is full. No vector: nothing
 * is reported (the exclusive-WP path). */
static bool pm_output(struct pm_scan *p, unsigned long addr, unsigned long end)
{
	if (!p->vec)
		return true;
	if (p->nr && p->vec[p->nr - 1].end == addr) {
		p->vec[p->nr - 1].end = end;
		return true;
	}
	if (p->nr == p->vec_len) {
		p->full = true;
		p->walk_end = addr;
		return false;
	}
	p->vec[p->nr++] = (struct mmn_page_region){ addr, end };
	return true;
}

/* make_uffd_wp_pte() / make_uffd_wp_pmd(): pte_mkuffd_wp() (which
 * write-protects on x86 6.x) or pte_swp_mkuffd_wp(). */
static mmn_pte_t pm_wp_pte(void *arg, mmn_pte_t old, unsigned long addr)
{
	(void)arg;
	(void)addr;
	if (mmn_pte_mapped(old))
		return (old & ~MMN_PTE_WRITE) | MMN_PTE_UFFD_WP;
	return old | MMN_PTE_UFFD_WP;
}

/* PAGE_IS_WRITTEN: a populated entry without the uffd-wp bit. */
static bool pm_written(mmn_pte_t e)
{
	return !mmn_pte_none(e) && !mmn_pte_uffd_wp(e);
}

/* pagemap_scan_thp_entry(): 1 handled, 0 not a THP leaf (or split now). */
static int pm_thp_entry(struct pm_scan *p, struct mmn_ptdesc *pmdt, unsigned long addr,
			unsigned long end)
{
	struct mmn_sim *sim = p->mm->sim;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	unsigned long haddr = addr & MMN_PMD_MASK;
	mmn_pte_t e;

	mmn_spin_lock(&pmdt->ptl);
	e = mmn_pte_get(sim, pmdt, idx, haddr);
	if (!mmn_pmd_mapped_leaf(e)) {
		mmn_spin_unlock(&pmdt->ptl);
		return 0;
	}
	if (!pm_written(e) || !(p->flags & MMN_PM_SCAN_WP_MATCHING)) {
		if (pm_written(e))
			(void)pm_output(p, addr, end);
		mmn_spin_unlock(&pmdt->ptl);
		return 1;
	}
	if (addr != haddr || end != haddr + MMN_PMD_SIZE) {
		/* A part of the THP: split_huge_pmd(), then as PTEs. */
		mmn_spin_unlock(&pmdt->ptl);
		(void)mmn__split_huge_pmd(p->mm, haddr);
		return 0;
	}
	if (pm_output(p, addr, end) && mmn__pte_modify(sim, pmdt, idx, haddr, pm_wp_pte, NULL)) {
		mmn_flush_tlb_range(p->mm, haddr, haddr + MMN_PMD_SIZE);
		p->changed += MMN_HPAGE_NR;
	}
	mmn_spin_unlock(&pmdt->ptl);
	return 1;
}

/* pagemap_scan_pmd_entry() over [addr, end) within one PMD entry. */
static void pm_pmd_entry(struct pm_scan *p, unsigned long addr, unsigned long end)
{
	struct mmn_sim *sim = p->mm->sim;
	struct mmn_ptdesc *pmdt = mmn_pt_walk(p->mm, addr, MMN_LVL_PMD), *pt;
	unsigned long fs = 0, fe = 0;

	if (!pmdt || pm_thp_entry(p, pmdt, addr, end))
		return;
	pt = mmn_pt_walk(p->mm, addr, MMN_LVL_PTE);
	if (!pt)
		return; /* pagemap_scan_pte_hole(): nothing written */
	mmn_spin_lock(&pt->ptl);
	for (unsigned long a = addr; a < end && !p->full; a += MMN_PAGE_SIZE) {
		unsigned int i = mmn_pt_index(a, MMN_LVL_PTE);

		if (!pm_written(mmn_pte_get(sim, pt, i, a)) || !pm_output(p, a, a + MMN_PAGE_SIZE))
			continue;
		if (!(p->flags & MMN_PM_SCAN_WP_MATCHING))
			continue;
		if (mmn__pte_modify(sim, pt, i, a, pm_wp_pte, NULL)) {
			fs = fe ? fs : a;
			fe = a + MMN_PAGE_SIZE;
			p->changed++;
		}
	}
	/* flush_tlb_range() of the changed extent, still under the PTL. */
	if (fe)
		mmn_flush_tlb_range(p->mm, fs, fe);
	mmn_spin_unlock(&pt->ptl);
}

/* pagemap_scan_test_walk(): 1 walk the VMA, 0 skip it, -EPERM. */
static int pm_test_walk(const struct pm_scan *p, const struct mmn_vma *vma)
{
	bool wp_allowed = (vma->vm_flags & MMN_VM_UFFD_WP) && mmn__uffd_wp_async(vma);

	if (wp_allowed)
		return 1;
	if (p->flags & MMN_PM_SCAN_CHECK_WPASYNC)
		return -EPERM;
	return p->flags & MMN_PM_SCAN_WP_MATCHING ? 0 : 1;
}

/* walk_page_range() over the VMAs of [start, end); mmap_lock held. */
static int pm_walk(struct pm_scan *p, unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = p->mm;

	for (int i = mmn_vma_first_above(mm, start);
	     i < mm->nr_vmas && mm->vmas[i]->start < end && !p->full; i++) {
		struct mmn_vma *vma = mm->vmas[i];
		unsigned long a = start > vma->start ? start : vma->start;
		unsigned long e = end < vma->end ? end : vma->end;
		int t = pm_test_walk(p, vma);

		if (t < 0)
			return t;
		while (t && a < e && !p->full) {
			unsigned long next = (a & MMN_PMD_MASK) + MMN_PMD_SIZE;

			next = next < e ? next : e;
			pm_pmd_entry(p, a, next);
			a = next;
		}
	}
	return 0;
}

static long pagemap_scan_do(struct pm_scan *p, unsigned long start, unsigned long end)
{
	struct mmn_notifier_range range;
	bool wp = p->flags & MMN_PM_SCAN_WP_MATCHING;
	int err;

	mmn_mmap_read_lock(p->mm);
	if (wp) { /* "Protection change for the range is going to happen." */
		mmn__notify_range_init(&range, MMN_NOTIFY_PROTECTION_VMA, p->mm, start, end, NULL);
		mmn__notify_start(MMN_OP_PAGEMAP_SCAN, &range);
	}
	err = pm_walk(p, start, end);
	if (wp)
		mmn__notify_end(&range);
	mmn_mmap_read_unlock(p->mm);
	if (err)
		return err;
	mmn__op_stat_call(p->mm->sim, MMN_OP_PAGEMAP_SCAN);
	mmn__op_stat_pages(p->mm->sim, MMN_OP_PAGEMAP_SCAN, p->changed, p->unchanged);
	return (long)p->nr;
}

long mmn_pagemap_scan(struct mmn_mm *mm, unsigned long start, unsigned long len,
		      unsigned long flags, struct mmn_page_region *vec, size_t vec_len,
		      unsigned long *walk_end)
{
	struct pm_scan p = { .mm = mm, .flags = flags, .vec = vec, .vec_len = vec_len };
	unsigned long end;
	long ret;

	if (mmn__mm_dead(mm) || !len || (len & ~MMN_PAGE_MASK) ||
	    (flags & ~(MMN_PM_SCAN_WP_MATCHING | MMN_PM_SCAN_CHECK_WPASYNC)) ||
	    (!vec && vec_len) || (vec && !vec_len) || (!vec && !(flags & MMN_PM_SCAN_WP_MATCHING)))
		return -EINVAL;
	end = mmn__walk_range_end(start, len);
	if (!end)
		return -EINVAL;
	if (!ops_profile(mm)->uffd_wp_async)
		return -EOPNOTSUPP;
	p.walk_end = end;
	mmn_sched_span_begin(mm->sim, "pagemap_scan", start, end, NULL);
	ret = pagemap_scan_do(&p, start, end);
	mmn_sched_span_end(mm->sim, "pagemap_scan");
	if (walk_end && ret >= 0)
		*walk_end = p.walk_end;
	return ret;
}
