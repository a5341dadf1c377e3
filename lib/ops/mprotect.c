// SPDX-License-Identifier: MIT
/*
 * Protection changes: mprotect() (mprotect_fixup() → change_protection())
 * and NUMA hinting (change_prot_numa()), event PROTECTION_VMA.
 *
 * Step order of change_protection() on a 4 KiB VMA (4.x-6.8, per PUD entry
 * the walk enters):
 *
 *   mprotect actor                          a listener / a CPU
 *   --------------                          ------------------
 *   tlb_gather_mmu
 *   (first populated PMD entry)
 *   invalidate_range_start(PROTECTION_VMA,  start/end users drop their
 *     [that PMD's addr, region end))        mappings of the range
 *   per PTE table: L, modify entries,       CPUs may still use cached
 *     tlb_flush_pte_range (record), U       translations with the old
 *   invalidate_range_end                    permissions (F1 owed)
 *   ... next VMA ...
 *   tlb_finish_mmu: F1 (+F2 in 6.6+)        now every CPU/IOTLB refetches
 *
 * No page is freed, so the late F1 is tolerated (reference section 6, item
 * 14). Hugetlb VMAs (hugetlb_change_protection()) notify once over the
 * range (widened for PMD sharing), change the PMD leaves under the PMD
 * lock, flush (F1) before end and end with the full end (which flushes
 * the secondary TLBs in 3.19-6.5; see hugetlb_change_protection() below).
 */
#include "ops/userfaultfd_internal.h"
#include "ops/walk.h"

/* cp_flags' userfaultfd bits. */
enum cp_uffd { CP_UFFD_NONE, CP_UFFD_WP, CP_UFFD_WP_RESOLVE };

struct cp_walk {
	struct ops_pmd_walk w;
	struct mmn_vma *vma;
	struct mmn_mmu_gather *tlb;
	enum mmn_op op;
	bool numa;                       /* MM_CP_PROT_NUMA */
	enum cp_uffd uffd;               /* MM_CP_UFFD_WP / MM_CP_UFFD_WP_RESOLVE */
	bool started;
	struct mmn_notifier_range range;
	unsigned long start, end;        /* the walk's range */
	unsigned long changed, unchanged;
};

/*
 * can_change_pte_writable() (6.0+ MM_CP_TRY_CHANGE_WRITABLE): when the VMA
 * gains write permission, a private page becomes writable only if it is an
 * anonymous page this mapping owns exclusively; a shared COW page or the
 * zero page stays read-only and the write fault decides. Shared (shmem)
 * mappings need no write notification: writable. Private hugetlb pages stay
 * read-only (huge_pte_modify() with the private protection).
 */
static bool cp_may_write(const struct mmn_vma *vma, mmn_pte_t e)
{
	struct mmn_sim *sim = vma->mm->sim;
	unsigned long pfn = mmn_pte_pfn(e);
	struct mmn_page *p;

	if (vma->vm_flags & MMN_VM_SHARED)
		return true;
	if ((vma->vm_flags & MMN_VM_HUGETLB) || pfn == MMN_ZERO_PFN || !mmn_pfn_valid(sim, pfn))
		return false;
	/* can_change_private_pte_writable(): never a uffd-wp entry (6.x). */
	if (mmn__uffd_pte_wp(vma, e))
		return false;
	p = mmn_pfn_to_page(sim, pfn);
	return (atomic_load(&p->flags) & MMN_PG_ANON) && atomic_load(&p->refcount) == 1 &&
	       atomic_load(&p->mapcount) == 1;
}

/* The entry change_pte_range() makes for the VMA's new protection. */
static mmn_pte_t cp_prot_pte(void *arg, mmn_pte_t old, unsigned long addr)
{
	const struct mmn_vma *vma = arg;
	unsigned long fl = vma->vm_flags;
	mmn_pte_t val;

	(void)addr;
	if (!mmn_pte_mapped(old)) {
		/* Swap-style entries: a writable migration or device-private
		 * entry becomes a read one when write permission goes. */
		enum mmn_swp_type t = mmn_pte_swp_type(old);

		if (fl & MMN_VM_WRITE)
			return old;
		if (t == MMN_SWP_MIGRATION_WRITE)
			t = MMN_SWP_MIGRATION_READ;
		else if (t == MMN_SWP_DEVICE_PRIVATE_WRITE)
			t = MMN_SWP_DEVICE_PRIVATE_READ;
		else if (t == MMN_SWP_DEVICE_EXCLUSIVE)
			t = MMN_SWP_DEVICE_EXCLUSIVE_READ;
		else
			return old;
		return mmn_mk_swp_pte(t, mmn_pte_pfn(old)) | (old & MMN_PTE_SOFT_DIRTY);
	}
	if (!(fl & MMN_VM_READ))
		/* PROT_NONE: not present to hardware, still mapped. */
		return (old & ~(MMN_PTE_PRESENT | MMN_PTE_WRITE)) | MMN_PTE_PROTNONE;
	val = (old | MMN_PTE_PRESENT) & ~MMN_PTE_PROTNONE;
	if (!(fl & MMN_VM_WRITE))
		val &= ~MMN_PTE_WRITE;
	else if (!mmn_pte_write(val) && cp_may_write(vma, val))
		val |= MMN_PTE_WRITE;
	return val;
}

/*
 * change_pte_range() with MM_CP_PROT_NUMA: a present entry becomes a
 * PROT_NONE hint keeping every other bit. Entries already PROT_NONE, the
 * zero page and shared COW pages are skipped (left as they were).
 */
static mmn_pte_t cp_numa_pte(void *arg, mmn_pte_t old, unsigned long addr)
{
	const struct mmn_vma *vma = arg;
	struct mmn_sim *sim = vma->mm->sim;
	unsigned long pfn = mmn_pte_pfn(old);

	(void)addr;
	if (!mmn_pte_present(old) || pfn == MMN_ZERO_PFN || !mmn_pfn_valid(sim, pfn) ||
	    atomic_load(&mmn_pfn_to_page(sim, pfn)->mapcount) > 1)
		return old;
	return (old & ~MMN_PTE_PRESENT) | MMN_PTE_PROTNONE;
}

/*
 * change_pte_range() with MM_CP_UFFD_WP / MM_CP_UFFD_WP_RESOLVE (5.8.1,
 * 5.10, 5.14, 6.5, 6.19 mm/mprotect.c): the VMA's protection is unchanged;
 * a present or PROT_NONE entry gets the uffd-wp bit with the write bit
 * cleared (x86 pte_mkuffd_wp() wrprotects from 6.x; 5.8 clears both
 * explicitly), or loses the bit, keeping write cleared (pte_modify() with
 * the private VMA's read-only vm_page_prot) unless the profile tries to
 * make it writable (6.5+ MM_CP_TRY_CHANGE_WRITABLE in a writable VMA:
 * can_change_pte_writable(), an exclusive anonymous page). Swap-style
 * entries get or lose the bit (pte_swp_mkuffd_wp()); a writable migration
 * or device-private entry becomes a read one, as in every change_protection().
 */
static mmn_pte_t cp_uffd_pte(void *arg, mmn_pte_t old, unsigned long addr)
{
	const struct cp_walk *c = arg;
	const struct mmn_vma *vma = c->vma;
	mmn_pte_t val = old;

	(void)addr;
	if (!mmn_pte_mapped(old)) {
		enum mmn_swp_type t = mmn_pte_swp_type(old);

		if (t == MMN_SWP_MIGRATION_WRITE)
			val = (old & ~MMN_SWP_TYPE_MASK) |
			      ((uint64_t)MMN_SWP_MIGRATION_READ << MMN_SWP_TYPE_SHIFT);
		else if (t == MMN_SWP_DEVICE_PRIVATE_WRITE)
			val = (old & ~MMN_SWP_TYPE_MASK) |
			      ((uint64_t)MMN_SWP_DEVICE_PRIVATE_READ << MMN_SWP_TYPE_SHIFT);
		return c->uffd == CP_UFFD_WP ? val | MMN_PTE_UFFD_WP : val & ~MMN_PTE_UFFD_WP;
	}
	val &= ~MMN_PTE_WRITE;
	if (c->uffd == CP_UFFD_WP)
		return val | MMN_PTE_UFFD_WP;
	val &= ~MMN_PTE_UFFD_WP;
	if (ops_profile(vma->mm)->uffd_wp_unprotect_writable && (vma->vm_flags & MMN_VM_WRITE) &&
	    mmn_pte_present(val) && cp_may_write(vma, val))
		val |= MMN_PTE_WRITE;
	return val;
}

/* The entry function and its argument for the walk's flags. */
static ops_pte_fn cp_pte_fn(struct cp_walk *c, void **arg)
{
	*arg = c->uffd != CP_UFFD_NONE ? (void *)c : (void *)c->vma;
	if (c->uffd != CP_UFFD_NONE)
		return cp_uffd_pte;
	return c->numa ? cp_numa_pte : cp_prot_pte;
}

/*
 * change_huge_pmd() for an anonymous THP leaf covered whole: under the PMD
 * lock, the leaf rewritten (pmdp_invalidate_ad(): the CPU TLB flushed for
 * the area under the lock, F1 with F2 inside it in 6.6+), and the range
 * recorded in the gather (tlb_flush_pmd_range()).
 */
static void change_huge_pmd(struct cp_walk *c, struct mmn_ptdesc *pmdt, unsigned int idx,
			    unsigned long addr)
{
	struct mmn_mm *mm = c->vma->mm;
	void *arg;
	ops_pte_fn fn = cp_pte_fn(c, &arg);

	mmn_spin_lock(&pmdt->ptl);
	if (mmn_pmd_mapped_leaf(mmn_pte_get(mm->sim, pmdt, idx, addr)) &&
	    mmn__pte_modify(mm->sim, pmdt, idx, addr, fn, arg)) {
		mmn_flush_tlb_range(mm, addr, addr + MMN_PMD_SIZE);
		mmn_tlb_flush_pte_range(c->tlb, addr, MMN_PMD_SIZE);
		c->changed += MMN_HPAGE_NR;
	} else {
		c->unchanged += MMN_HPAGE_NR;
	}
	mmn_spin_unlock(&pmdt->ptl);
}

/*
 * The lazy start, per era (knob mprotect_start_per_p4d):
 *   4.x-6.11 change_pmd_range() (5.14, 6.5, 6.6 read): per PUD entry, at
 *     the first populated PMD entry, over [that PMD's addr, PUD region end);
 *     end after that PUD entry's PMD table (cp_region_done()).
 *   6.12+ change_pud_range() (6.19 read; Peter Xu's "mm/mprotect: push mmu
 *     notifier to PUDs"): per P4D entry (a PGD entry here, P4D folded), at
 *     the first non-none PUD entry, over [the walk's address at that PUD
 *     entry, P4D region end); end after the P4D entry. One bracket where
 *     the older kernels made one per GiB.
 */
static void cp_lazy_start(struct cp_walk *c, unsigned long addr, unsigned long end)
{
	if (ops_profile(c->vma->mm)->mprotect_start_per_p4d) {
		unsigned long p4d_end = (addr & ~(MMN_PGDIR_SIZE - 1)) + MMN_PGDIR_SIZE;

		/* Left the started P4D region: change_pud_range() ended it. */
		if (c->started && c->range.end <= addr) {
			mmn__notify_end(&c->range);
			c->started = false;
		}
		addr &= MMN_PUD_MASK;
		addr = addr < c->start ? c->start : addr;
		end = p4d_end - 1 < c->end - 1 ? p4d_end : c->end;
	}
	if (c->started)
		return;
	mmn__notify_range_init(&c->range, MMN_NOTIFY_PROTECTION_VMA, c->vma->mm, addr, end, NULL);
	mmn__notify_start(c->op, &c->range);
	c->started = true;
}

static void cp_pmd_entry(struct ops_pmd_walk *w, struct mmn_ptdesc *pmdt, unsigned int idx,
			 mmn_pte_t pmde, unsigned long addr, unsigned long next,
			 unsigned long region_end)
{
	struct cp_walk *c = mmn_container_of(w, struct cp_walk, w);
	struct mmn_sim *sim = w->mm->sim;
	void *arg;
	ops_pte_fn fn = cp_pte_fn(c, &arg);
	struct mmn_ptdesc *pt;

	if (mmn_pmd_mapped_leaf(pmde) && !(c->vma->vm_flags & MMN_VM_HUGETLB)) {
		/* An anonymous THP (lib/ops/thp.c). NUMA hinting of THP
		 * leaves (change_huge_pmd() with prot_numa) is not modelled. */
		if (c->numa)
			return;
		cp_lazy_start(c, addr, region_end);
		if (!(addr & ~MMN_PMD_MASK) && next - addr == MMN_PMD_SIZE) {
			change_huge_pmd(c, pmdt, idx, addr);
			return;
		}
		/* Part of a THP: __split_huge_pmd(), then the PTEs. */
		if (mmn__split_huge_pmd(w->mm, addr))
			return;
		pmde = mmn_pte_get(sim, pmdt, idx, addr);
	}
	if (!mmn_pte_present(pmde) || (pmde & MMN_PTE_HUGE))
		return; /* no PMD leaves (THP) in 4 KiB VMAs */
	cp_lazy_start(c, addr, region_end);
	pt = mmn_pt_child(sim, pmde);
	mmn_spin_lock(&pt->ptl);
	for (unsigned long a = addr; a < next; a += MMN_PAGE_SIZE) {
		unsigned int i = mmn_pt_index(a, MMN_LVL_PTE);

		if (mmn_pte_none(mmn_pte_get(sim, pt, i, a)))
			continue;
		if (mmn__pte_modify(sim, pt, i, a, fn, arg)) {
			c->changed++;
			mmn_tlb_flush_pte_range(c->tlb, a, MMN_PAGE_SIZE);
		} else {
			c->unchanged++;
		}
	}
	mmn_spin_unlock(&pt->ptl);
}

/* After a present PUD entry's PMD table. */
static void cp_region_done(struct ops_pmd_walk *w)
{
	struct cp_walk *c = mmn_container_of(w, struct cp_walk, w);

	if (ops_profile(w->mm)->mprotect_start_per_p4d) {
		/* 6.12+: a non-none PUD entry starts the range even when none
		 * of its PMD entries is populated; the end waits for the P4D. */
		cp_lazy_start(c, w->region_start, c->end);
		return;
	}
	if (!c->started)
		return;
	mmn__notify_end(&c->range);
	c->started = false;
}

/*
 * hugetlb_change_protection() (mm/hugetlb.c, 4.12-6.19): one notification
 * over the (widened) range, each PMD leaf changed under its PMD lock,
 * flush_hugetlb_tlb_range() (F1) with i_mmap_rwsem still held, then the full
 * invalidate_range_end() in every era (never only_end). The secondary flush:
 * 4.12-4.15 an explicit ->invalidate_range() right after F1; 5.2-6.5
 * (hugetlb_prot_secflush_at_end) only from end, after i_mmap_rwsem and the
 * PTLs are dropped; 6.6+ inside F1.
 */
static void hugetlb_change_protection(struct cp_walk *c, unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = c->vma->mm;
	struct mmn_sim *sim = mm->sim;
	unsigned long rs = start, re = end, fs = start, fe = end;
	bool locked, shared = false;

	mmn__hugetlb_widen(c->vma, &rs, &re);
	mmn__notify_range_init(&c->range, MMN_NOTIFY_PROTECTION_VMA, mm, rs, re, NULL);
	mmn__notify_start(c->op, &c->range);
	/* i_mmap_lock_write(): huge_pmd_unshare() (lib/mm/hugetlb.c). */
	locked = mmn_hugetlb_share_lock(c->vma, true);
	for (unsigned long a = start; a < end; a += MMN_PMD_SIZE) {
		struct mmn_ptdesc *pmdt = mmn_pt_walk(mm, a, MMN_LVL_PMD);
		unsigned int idx = mmn_pt_index(a, MMN_LVL_PMD);
		unsigned long n;

		if (!pmdt)
			continue;
		mmn_spin_lock(&pmdt->ptl);
		n = locked ? mmn_huge_pmd_unshare(mm, c->vma, a, pmdt) : 0;
		if (n) {
			/* The whole PUD area of this mm is unmapped: refaults
			 * will see the new protection. */
			mmn_spin_unlock(&pmdt->ptl);
			c->changed += n;
			shared = true;
			a = (a & MMN_PUD_MASK) + MMN_PUD_SIZE - MMN_PMD_SIZE;
			continue;
		}
		if (!mmn_pte_none(mmn_pte_get(sim, pmdt, idx, a))) {
			if (mmn__pte_modify(sim, pmdt, idx, a, cp_prot_pte, c->vma))
				c->changed += MMN_HPAGE_NR;
			else
				c->unchanged += MMN_HPAGE_NR;
		}
		mmn_spin_unlock(&pmdt->ptl);
	}
	/* flush_hugetlb_tlb_range() of the PUD areas when a PMD was unshared. */
	if (shared) {
		fs = start & MMN_PUD_MASK;
		fe = (end + MMN_PUD_SIZE - 1) & MMN_PUD_MASK;
	}
	mmn_flush_tlb_range(mm, fs, fe);
	if (!ops_profile(mm)->hugetlb_prot_secflush_at_end)
		(void)mmn__notify_call_site_flush(mm, fs, fe);
	if (locked)
		mmn_hugetlb_share_unlock(c->vma, true);
	mmn__notify_end(&c->range);
}

/* change_protection() over [start, end) of @vma. */
static void change_protection(struct cp_walk *c, struct mmn_mmu_gather *tlb,
			      struct mmn_vma *vma, unsigned long start, unsigned long end)
{
	c->vma = vma;
	c->tlb = tlb;
	c->started = false;
	c->start = start;
	c->end = end;
	if (vma->vm_flags & MMN_VM_HUGETLB) {
		hugetlb_change_protection(c, start, end);
		return;
	}
	c->w = (struct ops_pmd_walk){ .mm = vma->mm, .pmd_entry = cp_pmd_entry,
				      .region_done = cp_region_done };
	mmn__walk_pmds(&c->w, start, end);
	if (c->started) { /* 6.12+: the last P4D entry's end */
		mmn__notify_end(&c->range);
		c->started = false;
	}
}

static unsigned long prot_to_vm(int prot)
{
	return (prot ? MMN_VM_READ : 0) | (prot & MMN_PROT_WRITE ? MMN_VM_WRITE : 0);
}

#define VM_PROT_MASK (MMN_VM_READ | MMN_VM_WRITE)

/* do_mprotect_pkey() → mprotect_fixup() → change_protection(), 6.x shape
 * (one mmu_gather for the whole call; 4.x-5.x flush_tlb_range() per VMA at
 * the same place: after end). */
static int mprotect_do(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot)
{
	struct cp_walk c = { .op = MMN_OP_MPROTECT };
	unsigned long end, newflags, s, e;
	struct mmn_mmu_gather tlb;
	struct mmn_vma *lo, *hi;
	int err;

	if (mmn__mm_dead(mm) || addr & ~MMN_PAGE_MASK || prot & ~(MMN_PROT_READ | MMN_PROT_WRITE))
		return -EINVAL;
	if (!len)
		return 0;
	end = mmn__walk_range_end(addr, len);
	if (!end)
		return -ENOMEM;
	newflags = prot_to_vm(prot);

	mmn_mmap_write_lock(mm);
	if (!mmn__walk_range_mapped(mm, addr, end)) {
		mmn_mmap_write_unlock(mm);
		return -ENOMEM;
	}
	/* mprotect_fixup() splits only the VMAs whose flags change. */
	lo = mmn_vma_lookup(mm, addr);
	hi = mmn_vma_lookup(mm, end - 1);
	s = (lo->vm_flags & VM_PROT_MASK) != newflags ? addr : lo->start;
	e = (hi->vm_flags & VM_PROT_MASK) != newflags ? end : hi->end;
	err = mmn__mmap_split_range(mm, s, e);
	if (err) {
		mmn_mmap_write_unlock(mm);
		return err;
	}
	mmn_tlb_gather_mmu(&tlb, mm);
	for (int i = mmn_vma_first_above(mm, addr); i < mm->nr_vmas && mm->vmas[i]->start < end;
	     i++) {
		struct mmn_vma *vma = mm->vmas[i];

		if ((vma->vm_flags & VM_PROT_MASK) == newflags)
			continue; /* "newflags == oldflags": no split, no notification */
		vma->vm_flags = (vma->vm_flags & ~VM_PROT_MASK) | newflags;
		change_protection(&c, &tlb, vma, vma->start, vma->end);
	}
	mmn_tlb_finish_mmu(&tlb);
	mmn_mmap_write_unlock(mm);
	mmn__op_stat_call(mm->sim, MMN_OP_MPROTECT);
	mmn__op_stat_pages(mm->sim, MMN_OP_MPROTECT, c.changed, c.unchanged);
	return 0;
}

/*
 * change_prot_numa() as task_numa_work() calls it: mmap_lock for read, per
 * VMA a gather, change_protection(MM_CP_PROT_NUMA), tlb_finish_mmu. VMAs
 * that are not migratable or not accessible are skipped; the model keeps
 * private anonymous, non-hugetlb, accessible ones.
 */
static int change_prot_numa_do(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	struct cp_walk c = { .op = MMN_OP_NUMA_HINT, .numa = true };
	unsigned long end;

	if (mmn__mm_dead(mm) || addr & ~MMN_PAGE_MASK)
		return -EINVAL;
	if (!len)
		return 0;
	end = mmn__walk_range_end(addr, len);
	if (!end)
		return -EINVAL;
	mmn_mmap_read_lock(mm);
	if (!mmn__walk_range_mapped(mm, addr, end)) {
		mmn_mmap_read_unlock(mm);
		return -ENOMEM;
	}
	for (int i = mmn_vma_first_above(mm, addr); i < mm->nr_vmas && mm->vmas[i]->start < end;
	     i++) {
		struct mmn_vma *vma = mm->vmas[i];
		struct mmn_mmu_gather tlb;

		if (vma->vm_flags & (MMN_VM_HUGETLB | MMN_VM_SHARED) ||
		    !(vma->vm_flags & MMN_VM_READ))
			continue;
		mmn_tlb_gather_mmu(&tlb, mm);
		change_protection(&c, &tlb, vma, vma->start > addr ? vma->start : addr,
				  vma->end < end ? vma->end : end);
		mmn_tlb_finish_mmu(&tlb);
	}
	mmn_mmap_read_unlock(mm);
	mmn__op_stat_call(mm->sim, MMN_OP_NUMA_HINT);
	mmn__op_stat_pages(mm->sim, MMN_OP_NUMA_HINT, c.changed, c.unchanged);
	return 0;
}

void mmn__uffd_change_protection(struct mmn_vma *vma, unsigned long start, unsigned long end,
				 bool wp, unsigned long *changed, unsigned long *unchanged)
{
	struct cp_walk c = { .op = MMN_OP_UFFD_WP, .uffd = wp ? CP_UFFD_WP : CP_UFFD_WP_RESOLVE };
	struct mmn_mmu_gather tlb;

	mmn_tlb_gather_mmu(&tlb, vma->mm);
	change_protection(&c, &tlb, vma, start, end);
	mmn_tlb_finish_mmu(&tlb);
	*changed += c.changed;
	*unchanged += c.unchanged;
}

/* The span of the trace around change_prot_numa (docs/exploration.md). */
int mmn_change_prot_numa(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "change_prot_numa", addr, addr + len, NULL);
	err = change_prot_numa_do(mm, addr, len);
	mmn_sched_span_end(sim, "change_prot_numa");
	return err;
}

/* The span of the trace around mprotect (docs/exploration.md). */
int mmn_mprotect(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "mprotect", addr, addr + len, NULL);
	err = mprotect_do(mm, addr, len, prot);
	mmn_sched_span_end(sim, "mprotect");
	return err;
}
