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
 */
#include <stdlib.h>

#include "ops/ops_internal.h"

struct migrate_ctx {
	struct mmn_sim *sim;
	unsigned long src, dst;
	bool busy;
	unsigned long changed;
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

				e = mmn__ptep_clear_flush_rmap(mm, pt, idx, addr);
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

/* migrate_folio_unmap() + migrate_folio_move() for one page. */
static unsigned long migrate_one(struct mmn_sim *sim, unsigned long src)
{
	struct mmn_page *sp = mmn_pfn_to_page(sim, src), *dp;
	struct migrate_ctx c = { .sim = sim, .src = src };
	unsigned int flags;

	mmn_lock_page(sim, src);
	if (mmn_pfn_is_huge(sim, src)) {
		/* hugetlb: only the unshare of shared PMD tables is modelled. */
		mmn__hugetlb_rmap_walk(sim, src, try_to_migrate_one, &c);
		mmn_unlock_page(sim, src);
		mmn_put_page(sim, src);
		return c.changed;
	}
	flags = atomic_load(&sp->flags);
	if (atomic_load(&sp->pincount) ||
	    !(c.dst = mmn_alloc_page(sim, flags & (MMN_PG_ANON | MMN_PG_SHMEM)))) {
		mmn_unlock_page(sim, src);
		mmn_put_page(sim, src);
		return 0;
	}
	dp = mmn_pfn_to_page(sim, c.dst);
	mmn_trylock_page(sim, c.dst); /* a new page: always succeeds */
	mmn_rmap_walk(sim, src, try_to_migrate_one, &c);
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
	} else {
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

int mmn_migrate_pages(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	return mmn__isolate_apply(mm, addr, len, MMN_OP_MIGRATE, migrate_one);
}
