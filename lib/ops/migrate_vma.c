// SPDX-License-Identifier: MIT
/*
 * migrate_vma (mm/migrate_device.c): migrate_vma_setup() →
 * migrate_vma_collect() → migrate_vma_unmap(); the driver allocates and
 * copies; migrate_vma_pages(); migrate_vma_finalize(). Both directions:
 * system → device-private (SELECT_SYSTEM) and device-private → system
 * (SELECT_DEVICE_PRIVATE, also the CPU fault's migrate_to_ram()).
 *
 *   migrate_vma_collect                       a CPU touching the range
 *   -------------------                       ------------------------
 *   S(MIGRATE, owner = pgmap->owner)
 *   per PTE table: L
 *     candidate: ref + trylock, clear,
 *     migration entry, mapping dropped
 *   F1 over the table's range if a present    fault on the migration entry:
 *   PTE was cleared (F2 inside it, 6.6+)      waits on the page lock
 *   U
 *   E (->invalidate_range before 6.6)
 *   [other mappings (COW-shared pages) via
 *    the rmap: S(CLEAR) L (F1) U E each]
 *   [holes, zero page: S(MIGRATE, lazily
 *    from the first) L insert U ... E]
 *   allocate destinations, copy (the source
 *   is held stable: a store now is lost)
 *   each migration entry → the destination
 *   under the PTL, no notifier (the old
 *   entry was not present)
 *   finalize: unlock, put the sources         woken: finds the destination
 *
 * The driver's own listener skips MIGRATE ranges whose owner is its own
 * (test_hmm's dmirror_interval_invalidate()): it knows what it migrates.
 */
#include <stdlib.h>

#include "ops/device_internal.h"

enum { MVMA_THP = 1, MVMA_THP_LAST = 2 };

struct mvma {
	struct mmn_mm *mm;
	struct mmn_vma *vma;
	struct mmn_dev_pagemap *pgmap;
	unsigned long start, end;
	bool to_device;
	unsigned long fault_pfn;
	unsigned long *src;          /* collected page per index, 0 if none */
	bool *hole;                  /* MIGRATE_PFN_MIGRATE without a page */
	/* src is a subpage of a THP split here (MVMA_THP), the last of its
	 * folio (MVMA_THP_LAST: finalize unlocks the folio before its put) */
	unsigned char *thp;
	unsigned long thp_head;      /* the THP split for the table walked now */
	unsigned long unchanged;
};

/* migrate_vma_collect_hole()/the zero page: only anonymous private VMAs
 * get new device pages in their holes. */
static bool mvma_fills_holes(const struct mvma *m)
{
	return m->to_device && !m->vma->file && !(m->vma->vm_flags & MMN_VM_SHARED);
}

/* migrate_vma_collect_pmd()'s choice for one entry. */
static bool mvma_candidate(struct mvma *m, mmn_pte_t e)
{
	struct mmn_sim *sim = m->mm->sim;
	unsigned long pfn = mmn_pte_pfn(e);
	struct mmn_page *p;
	unsigned int flags;

	if (m->to_device) {
		if (!mmn_pte_present(e) || pfn == MMN_ZERO_PFN || !mmn_pfn_valid(sim, pfn))
			return false;
		if (mmn_pfn_is_huge(sim, pfn))
			/* Only the subpages of the THP this walk split (its
			 * counts were checked whole, before the split). */
			return m->thp_head && mmn_compound_head(sim, pfn) == m->thp_head;
		p = mmn_pfn_to_page(sim, pfn);
		flags = atomic_load(&p->flags);
		/* Private anonymous pages referenced only by their mappings
		 * (migrate_vma_check_page(): no pin, no extra reference; the
		 * other mappings of a COW-shared page are unmapped through
		 * the rmap later); shared memory is not migrated to
		 * device-private memory. */
		return (flags & (MMN_PG_ANON | MMN_PG_KSM | MMN_PG_DEVICE_PRIVATE)) == MMN_PG_ANON &&
		       atomic_load(&p->mapcount) >= 1 &&
		       atomic_load(&p->refcount) == atomic_load(&p->mapcount) &&
		       !atomic_load(&p->pincount);
	}
	return (mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_READ ||
		mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_WRITE) &&
	       mmn__devmem_pgmap_of(sim, pfn) == m->pgmap;
}

/* Whether a PMD-level leaf (a THP, or one being split) covers @addr. */
static bool mvma_pmd_leaf(struct mmn_mm *mm, unsigned long addr)
{
	struct mmn_ptdesc *pmdt = mmn_pt_walk(mm, addr, MMN_LVL_PMD);

	return pmdt && (mmn_pte_get(mm->sim, pmdt, mmn_pt_index(addr, MMN_LVL_PMD), addr) &
			MMN_PTE_HUGE);
}

/*
 * migrate_vma_collect_pmd() on a PMD-mapped anonymous THP, to device memory
 * (5.14-6.5: split_huge_page() under the folio lock, then the PTEs are
 * collected one by one; 6.19 migrates a THP whole when the device takes
 * compound pages: not modelled). The split succeeds only for a folio mapped
 * once and referenced only by that mapping (no pin): otherwise the whole
 * 2 MiB is skipped and stays PMD-mapped (migrate_vma_collect_skip()). The
 * model's folio stays compound after the split (lib/ops/thp.c): its 512
 * subpages are collected as this walk's THP (m->thp_head) and each one
 * leaves with its own mapping; the 2 MiB frame is freed with the last.
 * Returns the PTE table, or NULL when the range was skipped.
 */
static struct mmn_ptdesc *mvma_split_thp(struct mvma *m, unsigned long addr)
{
	struct mmn_mm *mm = m->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_ptdesc *pmdt = mmn_pt_walk(mm, addr, MMN_LVL_PMD);
	mmn_pte_t e = mmn_pte_get(sim, pmdt, mmn_pt_index(addr, MMN_LVL_PMD), addr);
	unsigned long head = mmn_pte_pfn(e);
	struct mmn_page *hp = mmn_pfn_to_page(sim, head);
	bool ok;

	m->thp_head = 0;
	if (m->to_device && mmn_pmd_mapped_leaf(e)) {
		ok = (atomic_load(&hp->flags) & (MMN_PG_ANON | MMN_PG_KSM)) == MMN_PG_ANON &&
		     atomic_load(&hp->mapcount) == 1 && atomic_load(&hp->refcount) == 1 &&
		     !atomic_load(&hp->pincount);
		/* The folio lock, held from the split to the finalize (the
		 * model's subpages share it: lib/mm/folio.c). */
		if (!ok || !mmn_trylock_page(sim, head))
			return NULL;
		if (mmn__split_huge_pmd(mm, addr)) {
			mmn_unlock_page(sim, head);
			return NULL;
		}
		m->thp_head = head;
	} else if (mmn__split_huge_pmd(mm, addr)) {
		/* migrate_vma_collect_pmd(): anything else is split first
		 * (its PTE-mapped subpages are then not migrated here). */
		return NULL;
	}
	return mmn_pt_walk(mm, addr, MMN_LVL_PTE);
}

/* The last subpage collected from the THP of [tstart, next) unlocks its
 * folio at finalize; none collected: unlock it now. */
static void mvma_thp_mark_last(struct mvma *m, unsigned long tstart, unsigned long next)
{
	for (unsigned long a = next; a > tstart; a -= MMN_PAGE_SIZE) {
		unsigned long i = (a - MMN_PAGE_SIZE - m->start) >> MMN_PAGE_SHIFT;

		if (m->thp[i]) {
			m->thp[i] = MVMA_THP_LAST;
			return;
		}
	}
	mmn_unlock_page(m->mm->sim, m->thp_head);
}

/* migrate_vma_collect(): S → walk (L ... F1 U per table) → E. */
static unsigned long mvma_collect(struct mvma *m)
{
	struct mmn_mm *mm = m->mm;
	struct mmn_sim *sim = mm->sim;
	const struct mmn_profile *p = ops_profile(mm);
	struct mmn_notifier_range range;
	unsigned long n = 0;

	mmn__notify_range_init(&range, p->migrate_event ? MMN_NOTIFY_MIGRATE : MMN_NOTIFY_CLEAR, mm,
		       m->start, m->end, p->migrate_event ? m->pgmap->owner : NULL);
	mmn__notify_start(MMN_OP_MIGRATE_VMA, &range);
	for (unsigned long addr = m->start, next; addr < m->end; addr = next) {
		struct mmn_ptdesc *pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
		unsigned long tstart = addr, unmapped = 0;

		next = (addr & MMN_PMD_MASK) + MMN_PMD_SIZE;
		if (next > m->end)
			next = m->end;
		m->thp_head = 0;
		if (!pt && mvma_pmd_leaf(mm, addr)) {
			pt = mvma_split_thp(m, addr);
			if (!pt) {
				m->unchanged += (next - addr) >> MMN_PAGE_SHIFT;
				continue;
			}
		}
		if (!pt) {
			/* No PTE table: every page is a hole. */
			for (; addr < next; addr += MMN_PAGE_SIZE)
				m->hole[(addr - m->start) >> MMN_PAGE_SHIFT] = mvma_fills_holes(m);
			continue;
		}
		mmn_spin_lock(&pt->ptl);
		for (; addr < next; addr += MMN_PAGE_SIZE) {
			unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
			unsigned long i = (addr - m->start) >> MMN_PAGE_SHIFT, pfn;
			mmn_pte_t e = mmn_pte_get(sim, pt, idx, addr);
			bool w;

			if (mmn_pte_none(e) ||
			    (mmn_pte_present(e) && mmn_pte_pfn(e) == MMN_ZERO_PFN && mvma_fills_holes(m))) {
				m->hole[i] = mvma_fills_holes(m);
				continue;
			}
			pfn = mmn_pte_pfn(e);
			if (!mvma_candidate(m, e) ||
			    (pfn != m->fault_pfn && !mmn_pfn_is_huge(sim, pfn) &&
			     !mmn_trylock_page(sim, pfn))) {
				m->unchanged++;
				continue;
			}
			mmn_get_page(sim, pfn);
			e = mmn_pte_get_and_clear(sim, pt, idx, addr);
			if (mmn_pte_present(e)) {
				w = mmn_pte_write(e);
				if (mmn_pte_dirty(e))
					atomic_fetch_or(&mmn_pfn_to_page(sim, pfn)->flags, MMN_PG_DIRTY);
				unmapped++;
			} else {
				w = mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_WRITE;
			}
			mmn_pte_set(sim, pt, idx, addr,
				    mmn_mk_swp_pte(w ? MMN_SWP_MIGRATION_WRITE : MMN_SWP_MIGRATION_READ,
						   pfn) |
					    (e & MMN_PTE_SOFT_DIRTY));
			/* Like a regular unmap: the mapping and its reference go
			 * (the collect's own reference keeps the page). */
			mmn_page_remove_map(sim, pfn);
			mmn_put_page(sim, pfn);
			m->src[i] = pfn;
			if (mmn_pfn_is_huge(sim, pfn))
				m->thp[i] = MVMA_THP;
			n++;
		}
		if (m->thp_head)
			mvma_thp_mark_last(m, tstart, next);
		if (unmapped)
			mmn_flush_tlb_range(mm, tstart, next);
		/* From here a store into a collected page is lost. */
		for (unsigned long a = tstart; a < next; a += MMN_PAGE_SIZE)
			if (m->src[(a - m->start) >> MMN_PAGE_SHIFT])
				mmn_page_mark_stable(sim, m->src[(a - m->start) >> MMN_PAGE_SHIFT]);
		mmn_spin_unlock(&pt->ptl);
	}
	mmn__notify_end(&range);
	return n;
}

struct mvma_rmap {
	unsigned long src, dst;
	unsigned long done;
};

/* try_to_migrate_one() for a mapping of the page outside the range (a
 * COW-shared page after fork): a present PTE is cleared and flushed, a
 * device-private entry replaced. */
static bool mvma_unmap_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct mvma_rmap *c = arg;
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	struct mmn_notifier_range range;
	struct mmn_ptdesc *pt;

	mmn__notify_range_init(&range, MMN_NOTIFY_CLEAR, mm, addr, addr + MMN_PAGE_SIZE, NULL);
	mmn__notify_start(MMN_OP_MIGRATE_VMA, &range);
	pt = mmn_pt_walk(mm, addr, MMN_LVL_PTE);
	if (pt) {
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		mmn_pte_t e;

		mmn_spin_lock(&pt->ptl);
		e = mmn_pte_get(sim, pt, idx, addr);
		if (mmn_pte_pfn(e) == c->src &&
		    (mmn_pte_present(e) || mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_READ ||
		     mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_WRITE)) {
			bool w = mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_WRITE;

			if (mmn_pte_present(e)) {
				e = mmn__ptep_clear_flush_notify(mm, pt, idx, addr);
				w = mmn_pte_write(e);
				if (mmn_pte_dirty(e))
					atomic_fetch_or(&mmn_pfn_to_page(sim, c->src)->flags,
							MMN_PG_DIRTY);
			}

			mmn_pte_set(sim, pt, idx, addr,
				    mmn_mk_swp_pte(w ? MMN_SWP_MIGRATION_WRITE : MMN_SWP_MIGRATION_READ,
						   c->src) |
					    (e & MMN_PTE_SOFT_DIRTY));
			mmn_page_remove_map(sim, c->src);
			mmn_put_page(sim, c->src);
			c->done++;
		}
		mmn_spin_unlock(&pt->ptl);
	}
	mmn__notify_end(&range);
	return true;
}

/* remove_migration_pte(): the migration entry naming @src → @dst (a
 * device-private entry for a device page). No notifier: not present. */
static bool mvma_remove_one(struct mmn_vma *vma, unsigned long addr, void *arg)
{
	struct mvma_rmap *c = arg;
	struct mmn_sim *sim = vma->mm->sim;
	struct mmn_ptdesc *pt = mmn_pt_walk(vma->mm, addr, MMN_LVL_PTE);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
	enum mmn_swp_type t;
	mmn_pte_t e, val;

	if (!pt)
		return true;
	mmn_spin_lock(&pt->ptl);
	e = mmn_pte_get(sim, pt, idx, addr);
	t = mmn_pte_swp_type(e);
	if ((t == MMN_SWP_MIGRATION_READ || t == MMN_SWP_MIGRATION_WRITE) &&
	    mmn_pte_pfn(e) == c->src) {
		struct mmn_page *dp = mmn_pfn_to_page(sim, c->dst);
		bool w = t == MMN_SWP_MIGRATION_WRITE && (vma->vm_flags & MMN_VM_WRITE);

		if (atomic_load(&dp->flags) & MMN_PG_DEVICE_PRIVATE)
			val = mmn_mk_swp_pte(w ? MMN_SWP_DEVICE_PRIVATE_WRITE
					       : MMN_SWP_DEVICE_PRIVATE_READ,
					     c->dst);
		else
			val = mmn_mk_pte(c->dst,
					 MMN_PTE_ACCESSED | (w ? MMN_PTE_WRITE : 0) |
						 (w && (atomic_load(&dp->flags) & MMN_PG_DIRTY)
							  ? MMN_PTE_DIRTY
							  : 0));
		mmn_get_page(sim, c->dst);
		mmn_page_add_map(sim, c->dst);
		mmn_pte_set(sim, pt, idx, addr, val | (e & MMN_PTE_SOFT_DIRTY));
		c->done++;
	}
	mmn_spin_unlock(&pt->ptl);
	return true;
}

/*
 * migrate_vma_pages() for the holes: the first one starts a second MIGRATE
 * range, from its address to the end (lazily, as the kernel does), and each
 * gets a new device page (migrate_vma_insert_page()): under the PTL, if the
 * entry is still none — or still the zero page, cleared and flushed first
 * (ptep_clear_flush(): F1 [+F2]) — a device-private entry, writable if the
 * VMA is. Returns the pages inserted.
 */
static unsigned long mvma_fill_holes(struct mvma *m, unsigned long *out)
{
	struct mmn_mm *mm = m->mm;
	struct mmn_sim *sim = mm->sim;
	const struct mmn_profile *p = ops_profile(mm);
	struct mmn_notifier_range range;
	bool notified = false;
	unsigned long n = 0;

	for (unsigned long addr = m->start; addr < m->end; addr += MMN_PAGE_SIZE) {
		unsigned long i = (addr - m->start) >> MMN_PAGE_SHIFT, dst;
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		struct mmn_ptdesc *pt, *leaf;
		bool done = false;
		mmn_pte_t e;
		int err;

		if (!m->hole[i] || !(dst = mmn__devmem_alloc_page(m->pgmap)))
			continue;
		mmn_page_set_anon_rmap(sim, dst, m->vma, addr);
		if (!notified) {
			mmn__notify_range_init(&range, p->migrate_event ? MMN_NOTIFY_MIGRATE : MMN_NOTIFY_CLEAR,
				       mm, addr, m->end, p->migrate_event ? m->pgmap->owner : NULL);
			mmn__notify_start(MMN_OP_MIGRATE_VMA, &range);
			notified = true;
		}
		pt = mmn_pt_walk_alloc(mm, addr, MMN_LVL_PTE, &leaf, &err);
		if (pt) {
			mmn_spin_lock(&pt->ptl);
			e = mmn_pte_get(sim, pt, idx, addr);
			if (mmn_pte_present(e) && mmn_pte_pfn(e) == MMN_ZERO_PFN)
				e = mmn__ptep_clear_flush_notify(mm, pt, idx, addr);
			else if (!mmn_pte_none(e))
				e = ~0ULL;
			if (e != ~0ULL) {
				bool w = m->vma->vm_flags & MMN_VM_WRITE;

				mmn_get_page(sim, dst);
				mmn_page_add_map(sim, dst);
				mmn_pte_set(sim, pt, idx, addr,
					    mmn_mk_swp_pte(w ? MMN_SWP_DEVICE_PRIVATE_WRITE
							     : MMN_SWP_DEVICE_PRIVATE_READ,
							   dst) |
						    (e & MMN_PTE_SOFT_DIRTY));
				done = true;
			}
			mmn_spin_unlock(&pt->ptl);
		}
		if (done) {
			out[i] = dst;
			n++;
		}
		mmn_put_page(sim, dst); /* the allocation's reference */
	}
	if (notified)
		mmn__notify_end(&range);
	return n;
}

int mmn__mvma_run(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long start, unsigned long end,
	     struct mmn_dev_pagemap *pgmap, bool to_device, unsigned long fault_pfn,
	     unsigned long *out)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long npages = (end - start) >> MMN_PAGE_SHIFT, moved = 0;
	struct mvma m = { .mm = mm, .vma = vma, .pgmap = pgmap, .start = start, .end = end,
			  .to_device = to_device, .fault_pfn = fault_pfn };
	int err = 0;

	for (unsigned long i = 0; i < npages; i++)
		out[i] = 0;
	m.src = calloc(npages, sizeof(*m.src));
	m.hole = calloc(npages, sizeof(*m.hole));
	m.thp = calloc(npages, sizeof(*m.thp));
	if (!m.src || !m.hole || !m.thp) {
		free(m.src);
		free(m.hole);
		free(m.thp);
		return -ENOMEM;
	}
	mvma_collect(&m);
	/* migrate_vma_unmap(): the collected pages' mappings outside the
	 * range (a COW-shared page, fork) go through the rmap. */
	for (unsigned long i = 0; i < npages; i++) {
		struct mvma_rmap c = { .src = m.src[i] };

		if (c.src && atomic_load(&mmn_pfn_to_page(sim, c.src)->mapcount))
			mmn_rmap_walk(sim, c.src, mvma_unmap_one, &c);
	}
	/* The driver allocates and copies; migrate_vma_pages(); finalize. */
	moved += mvma_fill_holes(&m, out);
	for (unsigned long i = 0; i < npages; i++) {
		unsigned long src = m.src[i], dst;
		struct mmn_page *sp, *dp;
		struct mvma_rmap c;

		if (!src)
			continue;
		sp = mmn_pfn_to_page(sim, src);
		/* A mapping the rmap could not take away: the page stays. */
		dst = atomic_load(&sp->mapcount)
			      ? 0
			      : to_device ? mmn__devmem_alloc_page(pgmap)
					  : mmn_alloc_page(sim, MMN_PG_ANON);
		if (dst) {
			/* The driver's copy, then folio_migrate_mapping(). */
			dp = mmn_pfn_to_page(sim, dst);
			atomic_store_explicit(&dp->content,
					      atomic_load_explicit(&sp->content, memory_order_relaxed),
					      memory_order_relaxed);
			atomic_fetch_or(&dp->flags, atomic_load(&sp->flags) & MMN_PG_DIRTY);
			if (m.thp[i]) {
				/* A subpage: the folio's rmap names its head. */
				mmn_page_set_anon_rmap(sim, dst, vma, start + i * MMN_PAGE_SIZE);
			} else {
				dp->index = sp->index;
				dp->mapping = sp->mapping;
				mmn_anon_vma_get(dp->mapping);
			}
		} else if (!atomic_load(&sp->mapcount)) {
			err = -ENOMEM;
		}
		/* migrate_vma_pages()/finalize: remove_migration_ptes() to the
		 * destination, or back to the source when there is none. */
		c = (struct mvma_rmap){ .src = src, .dst = dst ? dst : src };
		/* Without a destination the source is mapped again: stores into
		 * it from then on are not lost, so it is no longer held stable
		 * (found by the native device stress: a store through the
		 * restored PTE, before this, was reported as lost). */
		if (!dst)
			mmn_page_clear_stable(sim, src);
		if (m.thp[i])
			/* This mm's only mapping of the subpage (checked before
			 * the split); the rmap would find the head's address. */
			mvma_remove_one(vma, start + i * MMN_PAGE_SIZE, &c);
		else
			mmn_rmap_walk(sim, src, mvma_remove_one, &c);
		if (dst) {
			if (c.done) {
				out[i] = dst;
				moved++;
			}
			mmn_put_page(sim, dst); /* the allocation's reference */
			mmn_page_clear_stable(sim, src);
		}
		if (src != fault_pfn && (!m.thp[i] || m.thp[i] == MVMA_THP_LAST))
			mmn_unlock_page(sim, src);
		mmn_put_page(sim, src); /* the collect's reference: freed if moved */
	}
	free(m.src);
	free(m.hole);
	free(m.thp);
	mmn__op_stat_call(sim, MMN_OP_MIGRATE_VMA);
	mmn__op_stat_pages(sim, MMN_OP_MIGRATE_VMA, moved, m.unchanged);
	return err;
}

/* migrate_vma_setup()'s checks; takes mmap_lock for read on success. */
static int mvma_check(struct mmn_mm *mm, unsigned long start, unsigned long end,
		      struct mmn_dev_pagemap *pgmap, const unsigned long *out,
		      struct mmn_vma **vmap)
{
	struct mmn_vma *vma;

	if (mmn__mm_dead(mm) || !pgmap || !pgmap->pool || !out || pgmap->sim != mm->sim || (start | end) & ~MMN_PAGE_MASK ||
	    start >= end || end > MMN_TASK_SIZE)
		return -EINVAL;
	mmn_mmap_read_lock(mm);
	vma = mmn_vma_lookup(mm, start);
	if (!vma || end > vma->end || !(vma->vm_flags & MMN_VM_READ) ||
	    (vma->vm_flags & MMN_VM_HUGETLB)) {
		mmn_mmap_read_unlock(mm);
		return -EINVAL;
	}
	*vmap = vma;
	return 0;
}

static int migrate_vma_to_device_do(struct mmn_mm *mm, unsigned long start, unsigned long end,
			      struct mmn_dev_pagemap *pgmap, unsigned long *dev_pfns)
{
	struct mmn_vma *vma;
	int err = mvma_check(mm, start, end, pgmap, dev_pfns, &vma);

	if (err)
		return err;
	err = mmn__mvma_run(mm, vma, start, end, pgmap, true, 0, dev_pfns);
	mmn_mmap_read_unlock(mm);
	/* No device page left is not an error: those pages stay. */
	return err == -ENOMEM ? 0 : err;
}

/* The span of the trace around migrate_vma_to_device (docs/exploration.md). */
int mmn_migrate_vma_to_device(struct mmn_mm *mm, unsigned long start, unsigned long end,
			      struct mmn_dev_pagemap *pgmap, unsigned long *dev_pfns)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "migrate_vma_to_device", start, end, NULL);
	err = migrate_vma_to_device_do(mm, start, end, pgmap, dev_pfns);
	mmn_sched_span_end(sim, "migrate_vma_to_device");
	return err;
}

static int migrate_vma_to_ram_do(struct mmn_mm *mm, unsigned long start, unsigned long end,
			   struct mmn_dev_pagemap *pgmap, unsigned long *pfns)
{
	struct mmn_vma *vma;
	int err = mvma_check(mm, start, end, pgmap, pfns, &vma);

	if (err)
		return err;
	err = mmn__mvma_run(mm, vma, start, end, pgmap, false, 0, pfns);
	mmn_mmap_read_unlock(mm);
	return err;
}

/* The span of the trace around migrate_vma_to_ram (docs/exploration.md). */
int mmn_migrate_vma_to_ram(struct mmn_mm *mm, unsigned long start, unsigned long end,
			   struct mmn_dev_pagemap *pgmap, unsigned long *pfns)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "migrate_vma_to_ram", start, end, NULL);
	err = migrate_vma_to_ram_do(mm, start, end, pgmap, pfns);
	mmn_sched_span_end(sim, "migrate_vma_to_ram");
	return err;
}
