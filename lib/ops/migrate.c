// SPDX-License-Identifier: MIT
/*
 * Page migration (mm/migrate.c migrate_pages() → migrate_folio_unmap() →
 * try_to_migrate() (mm/rmap.c try_to_migrate_one(), 5.14+) →
 * move_to_new_folio() → remove_migration_ptes()).
 *
 *   migration (source locked)                 a CPU of a mapping
 *   -------------------------                 ------------------
 *   S(CLEAR, page) L
 *   clear + flush (F1 [+F2]); install a
 *   migration entry naming the source
 *   U E                                       fault on the migration entry:
 *   source held stable; copy content          migration_entry_wait() sleeps
 *   remove_migration_ptes(): each migration   on the source's folio lock
 *   entry → the new page (no notifier:
 *   the old entry was not present)
 *   unlock                                    woken: retries, finds the new
 *   free the source                           page
 *
 * A store through a stale translation of the source after its entry was
 * cleared and flushed would be lost (the copy is already made or being made):
 * the source carries MMN_PG_STABLE from the end of the unmap until its last
 * put, so the oracle reports it as MMN_VIOL_LOST_WRITE.
 *
 * MIGRATE_ASYNC (a NUMA hinting fault's migrate_misplaced_folio()) batches
 * the CPU flush in 6.3+ (knob migrate_batch_flush; migrate_pages_batch():
 * try_to_migrate(TTU_BATCH_FLUSH), then try_to_unmap_flush() before the
 * move):
 *
 *   migration                                 a CPU of a mapping
 *   ---------                                 ------------------
 *   S L clear, migration entry
 *   (6.6+ x86: F2 for the whole mm)
 *   U E                                       store through its stale
 *                                             entry: reaches the source
 *   try_to_unmap_flush(): F1                  entry gone
 *   mark stable, copy                         fault: waits for the move
 *
 * The store before F1 reaches the source before the copy, so it is kept.
 * migrate_pages() (MIGRATE_SYNC, MR_SYSCALL) flushes per entry.
 */
#include <stdlib.h>

#include "ops/ops_internal.h"

struct migrate_ctx {
	struct mmn_sim *sim;
	unsigned long src, dst;
	bool busy;
	unsigned long changed;
	struct mmn__tlbbatch *batch; /* TTU_BATCH_FLUSH: current->tlb_ubc */
};

/* try_to_migrate_one(). */
static bool try_to_migrate_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct migrate_ctx *c = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_notifier_range range;
	bool started;
	struct mmn_ptdesc *pt;
	bool unmapped = false;

	if (mmn_pfn_is_huge(sim, c->src)) /* hugetlb: PMD sharing (hugetlb.c) */
		return mmn__hugetlb_rmap_one(MMN_OP_MIGRATE, vma, addr, c->src, &c->changed);
	started = mmn__notify_rmap_start(MMN_OP_MIGRATE, &range, mm, addr, addr + MMN_PAGE_SIZE);
	pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	if (pt) {
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		mmn_pte_t e;

		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, addr);
		if (mmn_pte_mapped(e) && mmn_pte_pfn(e) == c->src) {
			if (atomic_load(&mmn_pfn_to_page(sim, c->src)->pincount)) {
				c->busy = true; /* page_try_share_anon_rmap() fails */
			} else {
				bool w;

				e = mmn__ptep_clear_batched(mm, pt, idx, addr, c->batch);
				w = mmn_pte_write(e);
				if (mmn_pte_dirty(e))
					atomic_fetch_or(&mmn_pfn_to_page(sim, c->src)->flags,
							MMN_PG_DIRTY);
				mmn_pte_set(sim, pt, idx, addr,
					    mmn_mk_swp_pte(w ? MMN_SWP_MIGRATION_WRITE
							     : MMN_SWP_MIGRATION_READ,
							   c->src) |
						    (e & MMN_PTE_SOFT_DIRTY));
				mmn_page_remove_map(sim, c->src);
				mmn_put_page(sim, c->src); /* the mapping's reference */
				c->changed++;
				/* 4.12: ->invalidate_page here, PTL held. */
				unmapped = !mmn__notify_rmap_unmapped_locked(mm, addr);
			}
		}
		mmn_spin_unlock(&pt->ptl);
	}
	mmn__notify_rmap_end(&range, mm, started, unmapped, addr);
	return !c->busy;
}

/* remove_migration_pte(): the migration entry naming @src → @dst. */
static bool remove_migration_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct migrate_ctx *c = arg;
	struct mmn_sim *sim = vma->mm->sim;
	struct mmn_ptdesc *pt = mmn_pt_walk(vma->mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	enum mmn_swp_type t;
	mmn_pte_t e;

	if (!pt)
		return true;
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(sim, pt, idx, addr);
	t = mmn_pte_swp_type(e);
	if ((t == MMN_SWP_MIGRATION_READ || t == MMN_SWP_MIGRATION_WRITE) &&
	    mmn_pte_pfn(e) == c->src) {
		bool w = t == MMN_SWP_MIGRATION_WRITE && (vma->vm_flags & MMN_VM_WRITE);
		bool dirty = atomic_load(&mmn_pfn_to_page(sim, c->dst)->flags) & MMN_PG_DIRTY;

		mmn_get_page(sim, c->dst);
		mmn_page_add_map(sim, c->dst);
		mmn_pte_set(sim, pt, idx, addr,
			    mmn_mk_pte(c->dst, MMN_PTE_ACCESSED | (w ? MMN_PTE_WRITE : 0) |
						       (w && dirty ? MMN_PTE_DIRTY : 0) |
						       (e & MMN_PTE_SOFT_DIRTY)));
	}
	mmn_spin_unlock(&pt->ptl);
	return true;
}

/*
 * try_to_unmap_one(TTU_MIGRATION) of a hugetlb page before 4.19 (mm/rmap.c
 * 4.12, 4.13.4; profile knob pmd_share_widen=false: commit 017b1660df89
 * "mm: migration: fix migration of huge PMD shared pages" added both the
 * range widening and the huge_pmd_unshare() call, 4.19 and stable): no
 * unshare. The huge PMD entry is cleared where it is, in the PMD table
 * every sharer points at, with this mm's notification over the huge page
 * only (4.13+: start/end; 4.12: ->invalidate_page after the PTL) and this
 * mm's TLB flush. The leaf's single mapcount drops to zero, so the rmap
 * walk stops (try_to_unmap()'s rwc.done = page_mapcount_is_zero): no other
 * sharer is visited, notified or flushed, although its page table changed
 * too (seed 002).
 *
 *   migration, first VMA on i_mmap (mm P)     a KVM-like listener of mm C
 *   -------------------------------------     (C shares P's PMD table)
 *   S(P, [A, A + 2 MiB))                      (nothing: not P)
 *   L, clear the shared entry, F1 on P's
 *   CPUs (+F2 of P), migration entry
 *   U E; mapcount 0: the walk stops           keeps its SPTE of A → the source
 *   copy, remove_migration_ptes(): the
 *   shared entry → the new page; free the     stale; a guest access reads or
 *   source                                    writes the freed frame
 *
 * The migration entry's lifetime is not modelled: the entry goes from the
 * source to the new page under the PMD table's lock, after the copy (the
 * source held stable from the copy on).
 */
struct hugetlb_mig {
	unsigned long src, dst, changed;
	bool moved;
};

static bool hugetlb_migrate_one_pre_4_19(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct hugetlb_mig *c = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	unsigned long haddr = addr & MMN_PMD_MASK;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pmdt;
	bool started;

	started = mmn__notify_rmap_start(MMN_OP_MIGRATE, &range, mm, haddr, haddr + MMN_PMD_SIZE);
	pmdt = mmn_pt_walk(mm, haddr, MMN_LVL_PMD);
	if (pmdt) {
		unsigned int idx = mmn_pt_index(haddr, MMN_LVL_PMD);
		mmn_pte_t e;

		mmn_spin_lock(&pmdt->ptl);
		e = mmn_pte_get(sim, pmdt, idx, haddr);
		if (mmn_pmd_mapped_leaf(e) && mmn_pte_pfn(e) == c->src) {
			/* huge_ptep_clear_flush(): this mm's CPUs only. */
			e = mmn_pte_get_and_clear(sim, pmdt, idx, haddr);
			mmn_flush_tlb_range(mm, haddr, haddr + MMN_PMD_SIZE);
			(void)mmn__notify_call_site_flush(mm, haddr, haddr + MMN_PMD_SIZE);
			mmn_page_mark_stable(sim, c->src);
			for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
				atomic_store_explicit(
					&mmn_pfn_to_page(sim, c->dst + i)->content,
					atomic_load_explicit(&mmn_pfn_to_page(sim, c->src + i)->content,
							     memory_order_relaxed),
					memory_order_relaxed);
			mmn_get_page(sim, c->dst);
			mmn_page_add_map(sim, c->dst);
			mmn_pte_set(sim, pmdt, idx, haddr,
				    (e & ~MMN_PTE_PFN_MASK) | ((uint64_t)c->dst << MMN_PTE_PFN_SHIFT));
			mmn_page_remove_map(sim, c->src);
			mmn_put_page(sim, c->src); /* the mapping's reference */
			c->changed += MMN_HPAGE_NR;
			c->moved = true;
		}
		mmn_spin_unlock(&pmdt->ptl);
	}
	mmn__notify_rmap_end(&range, mm, started, c->moved, haddr);
	/* rwc.done: page_mapcount_is_zero(). */
	return atomic_load(&mmn_pfn_to_page(sim, c->src)->mapcount) != 0;
}

/* migrate_pages() of a hugetlb page of a shared mapping before 4.19. */
static unsigned long hugetlb_migrate_pre_4_19(struct mmn_sim *sim, unsigned long src)
{
	struct mmn_page *sp = mmn_pfn_to_page(sim, src);
	struct mmn_shmem *f = sp->mapping;
	struct hugetlb_mig c = { .src = src };

	c.dst = mmn_alloc_huge_page(sim, atomic_load(&sp->flags) & (MMN_PG_SHMEM | MMN_PG_HUGETLB));
	if (c.dst) {
		struct mmn_page *dp = mmn_pfn_to_page(sim, c.dst);

		dp->mapping = f;
		dp->index = sp->index;
		mmn__hugetlb_rmap_walk(sim, src, hugetlb_migrate_one_pre_4_19, &c);
		if (c.moved) {
			/* The page cache now holds the new page. */
			mmn_raw_lock(&f->lock);
			if (f->slots[sp->index] == src) {
				f->slots[sp->index] = c.dst;
				mmn_get_page(sim, c.dst);
				mmn_put_page(sim, src);
			}
			mmn_raw_unlock(&f->lock);
		}
		mmn_put_page(sim, c.dst); /* the allocation's reference */
		mmn_page_clear_stable(sim, src);
	}
	mmn_unlock_page(sim, src);
	mmn_put_page(sim, src); /* the isolation's reference: freed if moved */
	return c.changed;
}

/* migrate_folio_unmap() + migrate_folio_move() for one page, to node @nid
 * (migrate_misplaced_folio(), lib/ops/memory.c) or anywhere (-1). */
unsigned long mmn__migrate_one(struct mmn_sim *sim, unsigned long src, int nid)
{
	struct mmn_page *sp = mmn_pfn_to_page(sim, src), *dp;
	struct mmn__tlbbatch batch = { .nr = 0 };
	struct migrate_ctx c = { .sim = sim, .src = src };
	unsigned int flags;

	mmn_lock_page(sim, src);
	if (mmn_pfn_is_huge(sim, src)) {
		if (!sim->profile.pmd_share_widen &&
		    (atomic_load(&sp->flags) & MMN_PG_SHMEM) && sp->mapping)
			return hugetlb_migrate_pre_4_19(sim, src);
		/* 4.19+: only the unshare of shared PMD tables is modelled. */
		mmn__hugetlb_rmap_walk(sim, src, try_to_migrate_one, &c);
		mmn_unlock_page(sim, src);
		mmn_put_page(sim, src);
		return c.changed;
	}
	flags = atomic_load(&sp->flags);
	if (atomic_load(&sp->pincount) ||
	    !(c.dst = nid < 0 ? mmn_alloc_page(sim, flags & (MMN_PG_ANON | MMN_PG_SHMEM))
			      : mmn__alloc_page_node(sim, flags & (MMN_PG_ANON | MMN_PG_SHMEM),
						     (unsigned int)nid))) {
		mmn_unlock_page(sim, src);
		mmn_put_page(sim, src);
		return 0;
	}
	dp = mmn_pfn_to_page(sim, c.dst);
	mmn_trylock_page(sim, c.dst); /* a new page: always succeeds */
	if (nid >= 0 && sim->profile.migrate_batch_flush)
		c.batch = &batch; /* MIGRATE_ASYNC */
	mmn_rmap_walk(sim, src, try_to_migrate_one, &c);
	mmn__try_to_unmap_flush(&batch); /* migrate_pages_batch(), before the move */
	if (atomic_load(&sp->mapcount)) {
		/* Some mapping stayed: put the source back everywhere. */
		unsigned long dst = c.dst;

		c.dst = src;
		mmn_rmap_walk(sim, src, remove_migration_one, &c);
		mmn_unlock_page(sim, dst);
		mmn_put_page(sim, dst);
		mmn_unlock_page(sim, src);
		mmn_put_page(sim, src);
		return c.changed;
	}
	/* move_to_new_folio(): the source must not change from here on. */
	mmn_page_mark_stable(sim, src);
	atomic_store_explicit(&dp->content, atomic_load_explicit(&sp->content, memory_order_relaxed),
			      memory_order_relaxed);
	atomic_fetch_or(&dp->flags, flags & MMN_PG_DIRTY);
	dp->index = sp->index;
	dp->mapping = sp->mapping;
	if (flags & MMN_PG_ANON) {
		mmn_anon_vma_get(dp->mapping);
	} else if (sp->mapping) { /* NULL: truncated meanwhile (lib/ops/truncate.c) */
		struct mmn_shmem *f = sp->mapping;

		/* folio_migrate_mapping(): the page cache now holds the new page. */
		mmn_raw_lock(&f->lock);
		if (f->slots[sp->index] == src) {
			f->slots[sp->index] = c.dst;
			mmn_get_page(sim, c.dst);
			mmn_put_page(sim, src);
		}
		mmn_raw_unlock(&f->lock);
	}
	mmn_rmap_walk(sim, c.dst, remove_migration_one, &c);
	mmn_unlock_page(sim, c.dst);
	mmn_put_page(sim, c.dst); /* the allocation's reference */
	mmn_page_clear_stable(sim, src);
	mmn_unlock_page(sim, src);
	mmn_put_page(sim, src); /* the isolation's reference: the source is freed */
	return c.changed;
}

static unsigned long migrate_one_any(struct mmn_sim *sim, unsigned long src)
{
	return mmn__migrate_one(sim, src, -1);
}

int mmn_migrate_pages(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "migrate_pages", addr, addr + len, NULL);
	err = mmn__isolate_apply(mm, addr, len, MMN_OP_MIGRATE, migrate_one_any);
	mmn_sched_span_end(sim, "migrate_pages");
	return err;
}
