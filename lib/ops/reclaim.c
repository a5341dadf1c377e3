// SPDX-License-Identifier: MIT
/*
 * Reclaim of a range: shrink_folio_list() on each page (mm/vmscan.c), its
 * try_to_unmap() → rmap_walk() → try_to_unmap_one() (mm/rmap.c), then
 * pageout to the model's swap area and the free.
 *
 * Why the free must wait for the secondary flush (seed 000):
 *
 *   reclaimer                               IOMMU (caches va → frame)
 *   ---------                               -------------------------
 *   S(CLEAR, page)
 *   L, clear entry, F1 (+F2 in 6.6+)
 *   [knob put_page_before_secondary_flush:
 *    last put → frame free, LIFO re-used]
 *   U                                       DMA through its cached
 *                                           translation: with F2 only at E
 *                                           (range_end) or after U
 *                                           (invalidate_page) it reaches
 *                                           the re-used frame: UAF
 *   E (F2 in range_end profiles)
 *   free (the reclaimer's last put)
 *
 * Without the knob the reclaimer's own reference keeps the frame until
 * after E, so even a late F2 comes before the free.
 *
 * try_to_unmap_one() per era (mm/rmap.c):
 *   4.12      no start/end; L, ptep_clear_flush() (F1 only), swap entry,
 *             page_remove_rmap, put_page, ->invalidate_page (F2), U: the
 *             page_vma_mapped_walk() loop holds the PTL across the call
 *   <= 4.11   as 4.12 but ->invalidate_page after U (knob
 *             invalidate_page_under_ptl false)
 *   4.13-6.5  S(CLEAR) L, ptep_clear_flush_notify() (F1, F2), ..., U, E
 *   6.6+      S(CLEAR) L, ptep_clear_flush() (F1 with F2 inside), ..., U, E
 *
 * With TTU_BATCH_FLUSH (knob reclaim_batch_flush, every profile) and the mm
 * on a CPU, F1 leaves the PTL section (mmn__ptep_clear_batched()):
 *   4.12      L, clear, ->invalidate_page (F2), U ... F1 after the walk
 *   4.13-6.5  S L clear, ->invalidate_range (F2) U E ... F1 after the walk
 *   6.6+      S L clear, F2 for the whole mm (x86) U E ... F1 after the walk
 * and try_to_unmap_flush() (F1) comes before pageout and the free.
 */
#include <stdlib.h>

#include "ops/ops_internal.h"

struct reclaim_ctx {
	struct mmn_sim *sim;
	unsigned long pfn;
	unsigned long slot;   /* anonymous: the swap slot */
	bool anon;
	bool busy;            /* a mapping could not be unmapped (pinned) */
	bool released;        /* written out and the reclaimer's reference dropped */
	unsigned long changed;
	struct mmn__tlbbatch *batch; /* TTU_BATCH_FLUSH: current->tlb_ubc */
};

/*
 * pageout() + __remove_mapping() + the reclaimer's final folio_put(): save
 * the content, take a shmem page out of its page cache (only if nobody but
 * the cache and the reclaimer holds it), unlock, drop the reference.
 */
static void reclaim_release(struct reclaim_ctx *c)
{
	struct mmn_sim *sim = c->sim;
	struct mmn_page *p = mmn_pfn_to_page(sim, c->pfn);
	uint64_t content = atomic_load_explicit(&p->content, memory_order_relaxed);

	if (c->anon) {
		mmn_swap_writeback(sim, c->slot, content);
	} else if (p->mapping) { /* NULL: truncated meanwhile (lib/ops/truncate.c) */
		struct mmn_shmem *f = p->mapping;
		unsigned long slot;

		mmn_raw_lock(&f->lock);
		if (f->slots[p->index] == c->pfn && atomic_load(&p->refcount) == 2 &&
		    !atomic_load(&p->mapcount) && !atomic_load(&p->pincount) &&
		    (slot = mmn_swap_alloc(sim, 0))) {
			mmn_swap_dup(sim, slot);
			mmn_swap_writeback(sim, slot, content);
			f->swapped[p->index] = slot;
			f->slots[p->index] = 0;
			mmn_put_page(sim, c->pfn); /* the page cache's reference */
		}
		mmn_raw_unlock(&f->lock);
	}
	c->released = true;
	mmn_unlock_page(sim, c->pfn);
	mmn_put_page(sim, c->pfn);
}

/* try_to_unmap_one(): one mapping of the page. */
static bool try_to_unmap_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct reclaim_ctx *c = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_notifier_range range;
	bool started;
	struct mmn_ptdesc *pt;
	bool unmapped = false;

	if (c->released)
		return false;
	if (mmn_pfn_is_huge(sim, c->pfn)) /* hugetlb: PMD sharing (hugetlb.c) */
		return mmn__hugetlb_rmap_one(MMN_OP_RECLAIM, vma, addr, c->pfn, &c->changed);
	/* Up to 4.12: no start/end, ->invalidate_page per page instead. */
	started = mmn__notify_rmap_start(MMN_OP_RECLAIM, &range, mm, addr, addr + MMN_PAGE_SIZE);
	/* page_vma_mapped_walk(): is the page mapped here? */
	pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	if (pt) {
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		mmn_pte_t e;

		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, addr);
		if (mmn_pte_mapped(e) && mmn_pte_pfn(e) == c->pfn) {
			if (atomic_load(&mmn_pfn_to_page(sim, c->pfn)->pincount)) {
				/* A pinned page may be under DMA: keep it mapped. */
				c->busy = true;
			} else {
				e = mmn__ptep_clear_batched(mm, pt, idx, addr, c->batch);
				if (mmn_pte_dirty(e))
					atomic_fetch_or(&mmn_pfn_to_page(sim, c->pfn)->flags,
							MMN_PG_DIRTY);
				if (c->anon) {
					mmn_swap_dup(sim, c->slot);
					mmn_pte_set(sim, pt, idx, addr,
						    mmn_mk_swp_pte(MMN_SWP_SWAP, c->slot) |
							    (e & MMN_PTE_SOFT_DIRTY));
				}
				mmn_page_remove_map(sim, c->pfn);
				/* The mapping's reference; the reclaimer holds another. */
				mmn_put_page(sim, c->pfn);
				c->changed++;
				unmapped = true;
				if (ops_profile(mm)->put_page_before_secondary_flush &&
				    !atomic_load(&mmn_pfn_to_page(sim, c->pfn)->mapcount)) {
					/* The knob frees before F2, never before F1. */
					if (c->batch)
						mmn__try_to_unmap_flush(c->batch);
					reclaim_release(c); /* the frame is free before U */
				}
				/* 4.12: ->invalidate_page here, PTL held. */
				if (mmn__notify_rmap_unmapped_locked(mm, addr))
					unmapped = false;
			}
		}
		mmn_spin_unlock(&pt->ptl);
	}
	mmn__notify_rmap_end(&range, mm, started, unmapped, addr);
	return !c->busy;
}

/* Undo the swap entries of a page that stays mapped (a pin appeared). */
static bool restore_swap_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct reclaim_ctx *c = arg;
	struct mmn_sim *sim = vma->mm->sim;
	struct mmn_ptdesc *pt = mmn_pt_walk(vma->mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	mmn_pte_t e;

	if (!pt)
		return true;
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(sim, pt, idx, addr);
	if (mmn_pte_swp_type(e) == MMN_SWP_SWAP && mmn_pte_pfn(e) == c->slot) {
		mmn_get_page(sim, c->pfn);
		mmn_page_add_map(sim, c->pfn);
		/* Read-only: the next store decides between reuse and copy. */
		mmn_pte_set(sim, pt, idx, addr,
			    mmn_mk_pte(c->pfn, MMN_PTE_ACCESSED | (e & MMN_PTE_SOFT_DIRTY)));
		mmn_swap_free(sim, c->slot);
	}
	mmn_spin_unlock(&pt->ptl);
	return true;
}

unsigned long mmn__shrink_one(struct mmn_sim *sim, unsigned long pfn)
{
	struct mmn_page *p = mmn_pfn_to_page(sim, pfn);
	struct mmn__tlbbatch batch = { .nr = 0 };
	struct reclaim_ctx c = { .sim = sim, .pfn = pfn };

	mmn_lock_page(sim, pfn);
	c.anon = atomic_load(&p->flags) & MMN_PG_ANON;
	if (atomic_load(&p->pincount) || (c.anon && !(c.slot = mmn_swap_alloc(sim, pfn)))) {
		mmn_unlock_page(sim, pfn);
		mmn_put_page(sim, pfn);
		return 0;
	}
	mmn_sched_span_begin(sim, "try_to_unmap", 0, 0, NULL);
	if (mmn_pfn_is_huge(sim, pfn)) { /* i_mmap_rwsem for write (hugetlb.c) */
		mmn__hugetlb_rmap_walk(sim, pfn, try_to_unmap_one, &c);
	} else {
		if (sim->profile.reclaim_batch_flush)
			c.batch = &batch;
		mmn_rmap_walk(sim, pfn, try_to_unmap_one, &c);
	}
	mmn_sched_span_end(sim, "try_to_unmap");
	/* shrink_folio_list(): try_to_unmap_flush() before pageout (a no-op
	 * for the hugetlb walk, which batches nothing). */
	mmn__try_to_unmap_flush(&batch);
	if (c.released)
		return c.changed;
	/*
	 * try_to_unmap() failed: the page stays. A hugetlb folio always stays:
	 * the kernel never pages them out (the walk above only unshares PMD
	 * tables), even when a racing MADV_DONTNEED removed its last mapping
	 * meanwhile (found by exploring S4).
	 */
	if (atomic_load(&p->mapcount) || mmn_pfn_is_huge(sim, pfn)) {
		if (c.anon) {
			mmn_rmap_walk(sim, pfn, restore_swap_one, &c);
			mmn_swap_writeback(sim, c.slot, 0); /* releases the unused slot */
		}
		mmn_unlock_page(sim, pfn);
		mmn_put_page(sim, pfn);
		return c.changed;
	}
	reclaim_release(&c);
	return c.changed;
}

int mmn_try_to_unmap(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "shrink_folio_list", addr, addr + len, NULL);
	err = mmn__isolate_apply(mm, addr, len, MMN_OP_RECLAIM, mmn__shrink_one);
	mmn_sched_span_end(sim, "shrink_folio_list");
	return err;
}
