// SPDX-License-Identifier: MIT
/*
 * KSM merging of two pages (mm/ksm.c try_to_merge_two_pages() →
 * try_to_merge_one_page() → write_protect_page() / replace_page()).
 *
 *   ksmd                                     a CPU writing page B
 *   ----                                     --------------------
 *   write_protect_page(A), A stable
 *   write_protect_page(B): S L clear+flush
 *     (F1 [+F2]) [change_pte] reinstall
 *     RO+clean U [F2] E                      (4.15-6.5: F2 only at E, so from
 *                                             U to E a device may still write B
 *                                             through a writable IOTLB entry)
 *   B stable                                 store: the entry is read-only
 *   compare A, B                             → write fault → COW copy of B
 *   replace_page(B → A): S L clear+flush     (or, through a translation that
 *     [change_pte] set RO entry → A U E      survived the flush: a lost write,
 *   A, B no longer stable                     reported by the oracle)
 */
#include "ops/ops_internal.h"

struct ksm_page {
	struct mmn_mm *mm;
	struct mmn_vma *vma;
	unsigned long addr, pfn;
	struct mmn_ptdesc *pt;
	unsigned int idx;
	mmn_pte_t orig;       /* the write-protected entry */
};

/* Find the anonymous page mapped at @addr. */
static int ksm_lookup(struct ksm_page *k)
{
	struct mmn_sim *sim = k->mm->sim;
	mmn_pte_t e;

	mmn__lockdep_assert_held(&k->mm->mmap_lock, "mmap_lock");
	k->vma = mmn_vma_lookup(k->mm, k->addr);
	if (!k->vma || (k->vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)))
		return -EINVAL;
	k->pt = mmn_pt_walk(k->mm, k->addr, MMN_LVL_PTE);
	if (!k->pt)
		return -EINVAL;
	k->idx = mmn_pt_index(k->addr, MMN_LVL_PTE);
	mmn_spin_lock(&k->pt->ptl);
	e = mmn_pte_get(sim, k->pt, k->idx, k->addr);
	k->pfn = mmn_pte_pfn(e);
	/* Subpages of a PTE-mapped THP: the kernel splits the folio first
	 * (not modelled), so they are refused. */
	if (!mmn_pte_present(e) || k->pfn == MMN_ZERO_PFN ||
	    !(atomic_load(&mmn_pfn_to_page(sim, k->pfn)->flags) & MMN_PG_ANON) ||
	    (atomic_load(&mmn_pfn_to_page(sim, k->pfn)->flags) & (MMN_PG_HEAD | MMN_PG_TAIL))) {
		mmn_spin_unlock(&k->pt->ptl);
		return -EINVAL;
	}
	mmn_get_page(sim, k->pfn); /* follow_page()'s reference */
	mmn_spin_unlock(&k->pt->ptl);
	return 0;
}

/*
 * The entry clear of write_protect_page() and replace_page(). 4.12-4.13:
 * ptep_clear_flush_notify(), ->invalidate_range() under the PTL. 4.15-6.5
 * (ksm_secflush_at_end, commit 0f10851ea475): plain ptep_clear_flush(), the
 * secondary flush left to invalidate_range_end() after the PTL drop, so a
 * device keeps a writable translation of a page the CPU has write-protected
 * until then (seed 001, S3). 6.6+: ptep_clear_flush() with the secondary
 * flush inside the CPU flush.
 */
static mmn_pte_t ksm_clear_flush(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				 unsigned long addr)
{
	mmn_pte_t old;

	if (!ops_profile(mm)->ksm_secflush_at_end)
		return mmn__ptep_clear_flush_notify(mm, pt, idx, addr);
	old = mmn_pte_get_and_clear(mm->sim, pt, idx, addr);
	mmn_flush_tlb_page(mm, addr);
	return old;
}

/*
 * write_protect_page() (mm/ksm.c, 4.12-6.19): 0, -EBUSY (pinned: entry
 * restored), -EAGAIN (changed). The read-only entry goes in with
 * set_pte_at_notify() (->change_pte) while the profile has it (before 6.10).
 */
static int write_protect_page(struct ksm_page *k)
{
	struct mmn_mm *mm = k->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_page *p = mmn_pfn_to_page(sim, k->pfn);
	struct mmn_notifier_range range;
	int err = -EAGAIN;
	mmn_pte_t e;

	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, k->addr, k->addr + MMN_PAGE_SIZE, NULL);
	mmn__notify_start(MMN_OP_KSM, &range);
	mmn_spin_lock(&k->pt->ptl);
	e = mmn_pte_get(sim, k->pt, k->idx, k->addr);
	if (mmn_pte_present(e) && mmn_pte_pfn(e) == k->pfn) {
		if (mmn_pte_write(e) || mmn_pte_dirty(e)) {
			e = ksm_clear_flush(mm, k->pt, k->idx, k->addr);
			/* The mapping, our follow_page() reference: anything more is a
			 * pin or a racing GUP, and the page must not be merged. */
			if (atomic_load(&p->refcount) != atomic_load(&p->mapcount) + 1 ||
			    atomic_load(&p->pincount)) {
				mmn_pte_set(sim, k->pt, k->idx, k->addr, e);
				err = -EBUSY;
				goto out;
			}
			if (mmn_pte_dirty(e))
				atomic_fetch_or(&p->flags, MMN_PG_DIRTY);
			/* 5.19+ page_try_share_anon_rmap() (6.5, 6.19): the page is
			 * no longer PageAnonExclusive, so a write fault while KSM
			 * holds it copies it instead of reusing it in place (the
			 * flag only matters under cow_reuse_anon_exclusive). */
			atomic_fetch_or(&p->flags, MMN_PG_ANON_SHARED);
			e &= ~(MMN_PTE_WRITE | MMN_PTE_DIRTY);
			if (ops_profile(mm)->change_pte)
				mmn_notifier_change_pte(mm, k->addr, e);
			mmn_pte_set(sim, k->pt, k->idx, k->addr, e);
		} else if (atomic_load(&p->pincount)) {
			err = -EBUSY;
			goto out;
		}
		k->orig = e;
		err = 0;
	}
out:
	mmn_spin_unlock(&k->pt->ptl);
	mmn__notify_end(&range);
	return err;
}

/* replace_page() (mm/ksm.c, 4.12-6.19): map @kpfn (the KSM page) instead of
 * @b's page; set_pte_at_notify() before 6.10. */
static int replace_page(struct ksm_page *b, unsigned long kpfn)
{
	struct mmn_mm *mm = b->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_notifier_range range;
	int err = -EAGAIN;

	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, b->addr, b->addr + MMN_PAGE_SIZE, NULL);
	mmn__notify_start(MMN_OP_KSM, &range);
	mmn_spin_lock(&b->pt->ptl);
	if (mmn_pte_get(sim, b->pt, b->idx, b->addr) == b->orig) {
		mmn_pte_t entry = mmn_mk_pte(kpfn, MMN_PTE_ACCESSED |
							(b->orig & MMN_PTE_SOFT_DIRTY));

		mmn_get_page(sim, kpfn);
		mmn_page_add_map(sim, kpfn);
		ksm_clear_flush(mm, b->pt, b->idx, b->addr);
		if (ops_profile(mm)->change_pte)
			mmn_notifier_change_pte(mm, b->addr, entry);
		mmn_pte_set(sim, b->pt, b->idx, b->addr, entry);
		mmn_page_remove_map(sim, b->pfn);
		mmn_put_page(sim, b->pfn); /* the mapping's reference (we hold one) */
		err = 0;
	}
	mmn_spin_unlock(&b->pt->ptl);
	mmn__notify_end(&range);
	return err;
}

static uint64_t page_content(struct mmn_sim *sim, unsigned long pfn)
{
	return atomic_load_explicit(&mmn_pfn_to_page(sim, pfn)->content, memory_order_acquire);
}

static void ksm_release(struct mmn_sim *sim, struct ksm_page *k, bool locked)
{
	if (locked)
		mmn_unlock_page(sim, k->pfn);
	mmn_put_page(sim, k->pfn);
}

static int ksm_merge_do(struct mmn_mm *mm_a, unsigned long a, struct mmn_mm *mm_b, unsigned long b)
{
	struct ksm_page ka = { .mm = mm_a, .addr = a }, kb = { .mm = mm_b, .addr = b };
	struct mmn_sim *sim;
	int err;

	if (mmn__mm_dead(mm_a) || mmn__mm_dead(mm_b) || mm_a->sim != mm_b->sim || (a & ~MMN_PAGE_MASK) ||
	    (b & ~MMN_PAGE_MASK) || a >= MMN_TASK_SIZE || b >= MMN_TASK_SIZE ||
	    (mm_a == mm_b && a == b))
		return -EINVAL;
	sim = mm_a->sim;

	/* Stage 1, page A under mm_a's mmap_lock: it becomes the KSM page. */
	mmn_mmap_read_lock(mm_a);
	err = ksm_lookup(&ka);
	if (err) {
		mmn_mmap_read_unlock(mm_a);
		return err;
	}
	/* The unstable tree found B equal to A: peek at B's content first so a
	 * pair that differs changes nothing. */
	mmn_mmap_read_unlock(mm_a);
	mmn_mmap_read_lock(mm_b);
	err = ksm_lookup(&kb);
	mmn_mmap_read_unlock(mm_b);
	if (err) {
		ksm_release(sim, &ka, false);
		return err;
	}
	if (ka.pfn == kb.pfn) {
		ksm_release(sim, &ka, false);
		ksm_release(sim, &kb, false);
		return 0;
	}
	if (page_content(sim, ka.pfn) != page_content(sim, kb.pfn)) {
		ksm_release(sim, &ka, false);
		ksm_release(sim, &kb, false);
		return -EAGAIN;
	}
	if (atomic_load(&mmn_pfn_to_page(sim, ka.pfn)->pincount) ||
	    atomic_load(&mmn_pfn_to_page(sim, kb.pfn)->pincount)) {
		ksm_release(sim, &ka, false);
		ksm_release(sim, &kb, false);
		return -EBUSY;
	}

	mmn_mmap_read_lock(mm_a);
	mmn_lock_page(sim, ka.pfn);
	/* The VMA may have changed while no lock was held: look again. */
	if (mmn_vma_lookup(mm_a, a) != ka.vma || mmn_pt_walk(mm_a, a, MMN_LVL_PTE) != ka.pt)
		err = -EAGAIN;
	else
		err = write_protect_page(&ka);
	if (!err) {
		mmn_page_mark_stable(sim, ka.pfn);
		atomic_fetch_or(&mmn_pfn_to_page(sim, ka.pfn)->flags, MMN_PG_KSM);
	}
	mmn_unlock_page(sim, ka.pfn);
	mmn_mmap_read_unlock(mm_a);
	if (err)
		goto out_b;

	/* Stage 2, page B under mm_b's mmap_lock: write-protect, compare, replace. */
	mmn_mmap_read_lock(mm_b);
	mmn_lock_page(sim, kb.pfn);
	if (mmn_vma_lookup(mm_b, b) != kb.vma || mmn_pt_walk(mm_b, b, MMN_LVL_PTE) != kb.pt)
		err = -EAGAIN;
	else
		err = write_protect_page(&kb);
	if (!err) {
		mmn_page_mark_stable(sim, kb.pfn);
		if (page_content(sim, ka.pfn) != page_content(sim, kb.pfn))
			err = -EAGAIN; /* written after all: both stay read-only */
		else
			err = replace_page(&kb, ka.pfn);
		mmn_page_clear_stable(sim, kb.pfn);
	}
	mmn_unlock_page(sim, kb.pfn);
	mmn_mmap_read_unlock(mm_b);
	mmn_page_clear_stable(sim, ka.pfn);
	ksm_release(sim, &ka, false);
	ksm_release(sim, &kb, false);
	if (!err) {
		mmn__op_stat_call(sim, MMN_OP_KSM);
		mmn__op_stat_pages(sim, MMN_OP_KSM, 2, 0);
	}
	return err;

out_b:
	ksm_release(sim, &ka, false);
	ksm_release(sim, &kb, false);
	return err;
}

/* The span of the trace around ksm_merge (docs/exploration.md). */
int mmn_ksm_merge(struct mmn_mm *mm_a, unsigned long a, struct mmn_mm *mm_b, unsigned long b)
{
	struct mmn_sim *sim = mm_a ? mm_a->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "try_to_merge_one_page", b, b + MMN_PAGE_SIZE, NULL);
	err = ksm_merge_do(mm_a, a, mm_b, b);
	mmn_sched_span_end(sim, "try_to_merge_one_page");
	return err;
}
