// SPDX-License-Identifier: MIT
/*
 * Address spaces and VMAs: mm_struct lifetime (mmget/mmput, mmgrab/mmdrop),
 * the VMA array, mmap(), munmap() and exit_mmap(), with the zap and
 * free_pgtables() steps they share.
 */
#include <stdlib.h>
#include <string.h>

#include "mm_internal.h"
#include "../notifier/notifier_internal.h"
#include "../ops/ops_internal.h"

const struct mmn_lock_class mmn_mmap_lock_class = {
	.name = "mmap_lock", .rank = MMN_RANK_MMAP_LOCK
};
const struct mmn_lock_class mmn_page_table_lock_class = {
	.name = "page_table_lock", .rank = MMN_RANK_PAGE_TABLE_LOCK
};

/* ---------------------------------------------------------------- */
/* mm_struct lifetime                                                */
/* ---------------------------------------------------------------- */

/* mm_alloc() + mm_init() + mm_alloc_pgd(), all versions. */
struct mmn_mm *mmn_mm_create(struct mmn_sim *sim)
{
	struct mmn_mm *mm;

	if (!sim) {
		errno = EINVAL;
		return NULL;
	}
	mm = calloc(1, sizeof(*mm));
	if (!mm) {
		errno = ENOMEM;
		return NULL;
	}
	mm->sim = sim;
	mmn_raw_lock(&sim->mm_list_lock);
	mm->id = ++sim->next_mm_id;
	mmn_raw_unlock(&sim->mm_list_lock);
	atomic_init(&mm->mm_users, 1);
	atomic_init(&mm->mm_count, 1);
	mmn_rwsem_init(&mm->mmap_lock, sim, &mmn_mmap_lock_class, "mmap_lock");
	mmn_spin_lock_init(&mm->page_table_lock, sim, &mmn_page_table_lock_class,
			   "page_table_lock");
	mmn_seqcount_init(&mm->write_protect_seq, sim);
	mmn_raw_lock_init(&mm->walk_lock);
	mm->pgd = mmn_pt_alloc(mm, MMN_LVL_PGD);
	if (!mm->pgd) {
		mmn_rwsem_destroy(&mm->mmap_lock);
		mmn_spin_lock_destroy(&mm->page_table_lock);
		mmn_raw_lock_destroy(&mm->walk_lock);
		free(mm);
		errno = ENOMEM;
		return NULL;
	}
	mmn_raw_lock(&sim->mm_list_lock);
	mm->next = sim->mm_list;
	sim->mm_list = mm;
	mmn_raw_unlock(&sim->mm_list_lock);
	return mm;
}

void mmn_mm_get(struct mmn_mm *mm)
{
	if (mm)
		atomic_fetch_add_explicit(&mm->mm_users, 1, memory_order_relaxed);
}

void mmn_mmgrab(struct mmn_mm *mm)
{
	if (mm)
		atomic_fetch_add_explicit(&mm->mm_count, 1, memory_order_relaxed);
}

static void mm_free(struct mmn_mm *mm)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_mm **pp;

	mmn_raw_lock(&sim->mm_list_lock);
	for (pp = &sim->mm_list; *pp; pp = &(*pp)->next) {
		if (*pp == mm) {
			*pp = mm->next;
			break;
		}
	}
	mmn_raw_unlock(&sim->mm_list_lock);
	mmn_notifier_subscriptions_destroy(mm);
	if (mm->pgd)
		mmn_pt_free(sim, mm->pgd->pfn);
	for (int i = 0; i < mm->nr_vmas; i++) {
		mmn_vma_rmap_release(mm->vmas[i]);
		if (mm->vmas[i]->file)
			mmn_shmem_put(sim, mm->vmas[i]->file);
		free(mm->vmas[i]);
	}
	free(mm->vmas);
	mmn_rwsem_destroy(&mm->mmap_lock);
	mmn_spin_lock_destroy(&mm->page_table_lock);
	mmn_raw_lock_destroy(&mm->walk_lock);
	free(mm);
}

/* mmdrop() → __mmdrop(): frees the PGD and the struct. */
void mmn_mmdrop(struct mmn_mm *mm)
{
	if (mm && atomic_fetch_sub_explicit(&mm->mm_count, 1, memory_order_acq_rel) == 1)
		mm_free(mm);
}

/* mmput(): the last user runs exit_mmap(), then drops the users' mm_count. */
void mmn_mm_put(struct mmn_mm *mm)
{
	if (!mm)
		return;
	if (atomic_fetch_sub_explicit(&mm->mm_users, 1, memory_order_acq_rel) == 1) {
		mmn_exit_mmap(mm);
		mmn_mmdrop(mm);
	}
}

struct mmn_sim *mmn_mm_sim(const struct mmn_mm *mm)
{
	return mm ? mm->sim : NULL;
}

unsigned int mmn_mm_id(const struct mmn_mm *mm)
{
	return mm ? mm->id : 0;
}

int mmn_mm_users(const struct mmn_mm *mm)
{
	return mm ? atomic_load(&mm->mm_users) : 0;
}

/* Tear down what the user left behind at mmn_sim_destroy(). */
void mmn_mm_sim_fini(struct mmn_sim *sim)
{
	while (sim->mm_list) {
		struct mmn_mm *mm = sim->mm_list;

		if (atomic_load(&mm->mm_users) > 0)
			mmn_exit_mmap(mm);
		mm_free(mm);
	}
}

/* mmap_lock wrappers (include/linux/mmap_lock.h, 5.8+; mmap_sem before). */
void mmn_mmap_read_lock(struct mmn_mm *mm) { mmn_down_read(&mm->mmap_lock); }
int mmn_mmap_read_trylock(struct mmn_mm *mm) { return mmn_down_read_trylock(&mm->mmap_lock); }
void mmn_mmap_read_unlock(struct mmn_mm *mm) { mmn_up_read(&mm->mmap_lock); }
void mmn_mmap_write_lock(struct mmn_mm *mm) { mmn_down_write(&mm->mmap_lock); }
void mmn_mmap_write_unlock(struct mmn_mm *mm) { mmn_up_write(&mm->mmap_lock); }
void mmn_mmap_write_downgrade(struct mmn_mm *mm) { mmn_downgrade_write(&mm->mmap_lock); }

/* ---------------------------------------------------------------- */
/* VMAs                                                              */
/* ---------------------------------------------------------------- */

int mmn_vma_first_above(struct mmn_mm *mm, unsigned long addr)
{
	int lo = 0, hi = mm->nr_vmas;

	while (lo < hi) {
		int mid = (lo + hi) / 2;

		if (mm->vmas[mid]->end <= addr)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

struct mmn_vma *mmn_vma_lookup(struct mmn_mm *mm, unsigned long addr)
{
	int i = mmn_vma_first_above(mm, addr);

	if (i < mm->nr_vmas && mm->vmas[i]->start <= addr)
		return mm->vmas[i];
	return NULL;
}

/* Whether any VMA overlaps [start, end). */
static bool vma_overlaps(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	int i = mmn_vma_first_above(mm, start);

	return i < mm->nr_vmas && mm->vmas[i]->start < end;
}

static void vma_info(const struct mmn_vma *vma, struct mmn_vma_info *out)
{
	out->start = vma->start;
	out->end = vma->end;
	out->prot = (vma->vm_flags & MMN_VM_READ ? MMN_PROT_READ : 0) |
		    (vma->vm_flags & MMN_VM_WRITE ? MMN_PROT_WRITE : 0);
	out->flags = (vma->vm_flags & MMN_VM_SHARED ? MMN_MAP_SHARED : MMN_MAP_PRIVATE) |
		     (vma->vm_flags & MMN_VM_HUGETLB ? MMN_MAP_HUGETLB : 0);
}

/*
 * Take mmap_lock for read unless the calling actor already holds it. Only
 * lockdep knows who holds a lock for read: with lockdep off the caller must
 * not hold it (documented in mm.h).
 */
static bool mmap_lock_if_needed(struct mmn_mm *mm)
{
	if (mmn_rwsem_is_locked(&mm->mmap_lock) && mmn_lockdep_is_held(&mm->mmap_lock) == 1)
		return false;
	mmn_mmap_read_lock(mm);
	return true;
}

int mmn_find_vma(struct mmn_mm *mm, unsigned long addr, struct mmn_vma_info *out)
{
	struct mmn_vma *vma;
	bool locked;

	if (!mm || !out)
		return -EINVAL;
	locked = mmap_lock_if_needed(mm);
	vma = mmn_vma_lookup(mm, addr);
	if (vma)
		vma_info(vma, out);
	if (locked)
		mmn_mmap_read_unlock(mm);
	return vma ? 0 : -ENOENT;
}

int mmn_vma_count(struct mmn_mm *mm)
{
	int n;
	bool locked;

	if (!mm)
		return 0;
	locked = mmap_lock_if_needed(mm);
	n = mm->nr_vmas;
	if (locked)
		mmn_mmap_read_unlock(mm);
	return n;
}

int mmn_vma_at(struct mmn_mm *mm, int idx, struct mmn_vma_info *out)
{
	int err = -ENOENT;
	bool locked;

	if (!mm || !out)
		return -EINVAL;
	locked = mmap_lock_if_needed(mm);
	if (idx >= 0 && idx < mm->nr_vmas) {
		vma_info(mm->vmas[idx], out);
		err = 0;
	}
	if (locked)
		mmn_mmap_read_unlock(mm);
	return err;
}

/* Make room for @extra more VMAs so that later steps cannot fail. */
static int vma_reserve(struct mmn_mm *mm, int extra)
{
	struct mmn_vma **v;
	int cap;

	if (mm->nr_vmas + extra <= mm->cap_vmas)
		return 0;
	cap = mm->cap_vmas ? mm->cap_vmas * 2 : 16;
	while (cap < mm->nr_vmas + extra)
		cap *= 2;
	v = realloc(mm->vmas, (size_t)cap * sizeof(*v));
	if (!v)
		return -ENOMEM;
	mm->vmas = v;
	mm->cap_vmas = cap;
	return 0;
}

static void vma_insert_at(struct mmn_mm *mm, int i, struct mmn_vma *vma)
{
	memmove(&mm->vmas[i + 1], &mm->vmas[i], (size_t)(mm->nr_vmas - i) * sizeof(*mm->vmas));
	mm->vmas[i] = vma;
	mm->nr_vmas++;
}

void mmn_shmem_put(struct mmn_sim *sim, struct mmn_shmem *f)
{
	if (atomic_fetch_sub_explicit(&f->refcount, 1, memory_order_acq_rel) != 1)
		return;
	for (unsigned long i = 0; i < f->nr_slots; i++) {
		if (f->slots[i])
			mmn_put_page(sim, f->slots[i]);
		if (f->swapped[i])
			mmn_swap_free(sim, f->swapped[i]);
	}
	mmn_shmem_rmap_fini(f);
	mmn_raw_lock_destroy(&f->lock);
	free(f->slots);
	free(f->swapped);
	free(f);
}

static struct mmn_shmem *shmem_create(struct mmn_sim *sim, unsigned long len, bool huge)
{
	struct mmn_shmem *f = calloc(1, sizeof(*f));

	if (!f)
		return NULL;
	f->huge = huge;
	f->nr_slots = len >> (huge ? MMN_PMD_SHIFT : MMN_PAGE_SHIFT);
	f->slots = calloc(f->nr_slots, sizeof(*f->slots));
	f->swapped = calloc(f->nr_slots, sizeof(*f->swapped));
	if (!f->slots || !f->swapped) {
		free(f->slots);
		free(f->swapped);
		free(f);
		return NULL;
	}
	atomic_init(&f->refcount, 1);
	mmn_raw_lock_init(&f->lock);
	mmn_shmem_rmap_init(sim, f);
	return f;
}

/*
 * __split_vma(): cut the VMA at @addr into two. Callers reserved the array
 * slot and pass a preallocated struct; hugetlb VMAs split only on a 2 MiB
 * boundary (hugetlb_vm_op_split()).
 */
static void vma_split(struct mmn_mm *mm, int i, unsigned long addr, struct mmn_vma *tail)
{
	struct mmn_vma *vma = mm->vmas[i];

	*tail = *vma;
	tail->start = addr;
	/* Private VMAs keep a linear pgoff too: the rmap needs it. */
	tail->pgoff = vma->pgoff + ((addr - vma->start) >> MMN_PAGE_SHIFT);
	if (vma->file)
		atomic_fetch_add_explicit(&vma->file->refcount, 1, memory_order_relaxed);
	mmn_vma_rmap_dup(tail);
	vma->end = addr;
	vma_insert_at(mm, i + 1, tail);
}

static bool vma_split_ok(const struct mmn_vma *vma, unsigned long addr)
{
	return !(vma->vm_flags & MMN_VM_HUGETLB) || !(addr & ~MMN_PMD_MASK);
}

/* ---------------------------------------------------------------- */
/* Zap: unmap_page_range() and friends                               */
/* ---------------------------------------------------------------- */

/*
 * zap_pte_range(), all versions: clear each PTE under the PTL, hand the
 * mapping's page reference to the gather. When the gather's batch fills,
 * flush the TLB while still holding the PTL, then drop it and free the
 * batch (the force_flush path), then continue.
 */
static unsigned long zap_pte_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				   struct mmn_ptdesc *pte, unsigned long addr, unsigned long end)
{
	struct mmn_sim *sim = vma->mm->sim;
	unsigned long zapped = 0;

	while (addr < end) {
		bool force_flush = false;

		mmn_spin_lock(&pte->ptl);
		for (; addr < end && !force_flush; addr += MMN_PAGE_SIZE) {
			unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
			mmn_pte_t e = mmn_pte_get(sim, pte, idx, addr);
			unsigned long pfn;

			if (mmn_pte_none(e))
				continue;
			e = mmn_pte_get_and_clear(sim, pte, idx, addr);
			/* Swap-style entries hold no mapping; PROT_NONE ones do. */
			if (mmn_pte_swp_type(e) == MMN_SWP_SWAP)
				mmn_swap_free(sim, mmn_pte_pfn(e)); /* free_swap_and_cache() */
			if (mmn_pte_device(e)) {
				/* Device-private/exclusive entries map their page
				 * (no CPU translation to flush). */
				zapped++;
				mmn_page_remove_map(sim, mmn_pte_pfn(e));
				force_flush = mmn_tlb_remove_page(tlb, mmn_pte_pfn(e));
				continue;
			}
			if (!mmn_pte_mapped(e))
				continue;
			pfn = mmn_pte_pfn(e);
			zapped++;
			mmn_tlb_flush_pte_range(tlb, addr, MMN_PAGE_SIZE);
			if (pfn == MMN_ZERO_PFN)
				continue;
			if (mmn_pte_dirty(e))
				atomic_fetch_or(&mmn_pfn_to_page(sim, pfn)->flags, MMN_PG_DIRTY);
			mmn_page_remove_map(sim, pfn);
			force_flush = mmn_tlb_remove_page(tlb, pfn);
		}
		if (force_flush)
			mmn_tlb_flush_mmu_tlbonly(tlb);
		mmn_spin_unlock(&pte->ptl);
		if (force_flush)
			mmn_tlb_flush_mmu(tlb);
	}
	return zapped;
}

/* zap_huge_pmd() for a PMD leaf covered whole: hugetlb (__unmap_hugepage_range())
 * or an anonymous THP (zap_huge_pmd(): the folio goes to the gather). */
static unsigned long zap_huge_pmd(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				  struct mmn_ptdesc *pmd, unsigned long addr)
{
	struct mmn_sim *sim = vma->mm->sim;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	mmn_pte_t e;

	mmn_spin_lock(&pmd->ptl);
	e = mmn_pte_get_and_clear(sim, pmd, idx, addr);
	if (mmn_pmd_mapped_leaf(e)) {
		mmn_tlb_flush_pte_range(tlb, addr, MMN_PMD_SIZE);
		mmn_page_remove_map(sim, mmn_pte_pfn(e));
		if (mmn_tlb_remove_page(tlb, mmn_pte_pfn(e)))
			mmn_tlb_flush_mmu_tlbonly(tlb);
	}
	mmn_spin_unlock(&pmd->ptl);
	return mmn_pmd_mapped_leaf(e) ? MMN_HPAGE_NR : 0;
}

static inline unsigned long level_end(unsigned long addr, int level, unsigned long end)
{
	unsigned long size = mmn_pt_entry_size(level);
	unsigned long next = (addr & ~(size - 1)) + size;

	return next - 1 < end - 1 ? next : end;
}

/* unmap_page_range() over [start, end) of @vma, skipping empty subtrees.
 * Returns the number of 4 KiB mappings removed. */
unsigned long mmn_zap_vma_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				unsigned long start, unsigned long end)
{
	struct mmn_mm *mm = vma->mm;
	struct mmn_sim *sim = mm->sim;
	unsigned long addr = start, zapped = 0;

	if (vma->vm_flags & MMN_VM_HUGETLB) /* PMD sharing: lib/mm/hugetlb.c */
		return mmn_hugetlb_zap_range(tlb, vma, start, end);
	while (addr < end) {
		struct mmn_ptdesc *pt = mm->pgd;
		unsigned long next = end;

		for (int l = MMN_LVL_PGD; l >= MMN_LVL_PMD; l--) {
			mmn_pte_t e = mmn_pte_get(sim, pt, mmn_pt_index(addr, l), addr);

			next = level_end(addr, l, end);
			if (l == MMN_LVL_PMD && e == OPS_PMD_SPLITTING) {
				/* A split under way: wait for its PMD lock. */
				mmn_spin_lock(&pt->ptl);
				mmn_spin_unlock(&pt->ptl);
				e = mmn_pte_get(sim, pt, mmn_pt_index(addr, l), addr);
			}
			if (l == MMN_LVL_PMD && mmn_pmd_mapped_leaf(e) &&
			    !(vma->vm_flags & MMN_VM_HUGETLB) &&
			    (addr & ~MMN_PMD_MASK || next - addr < MMN_PMD_SIZE)) {
				/* zap_pmd_range(): part of a THP: __split_huge_pmd()
				 * first. With no frame for the PTE table (the model
				 * deposits none at fault time) the THP stays. */
				if (ops_split_huge_pmd(mm, addr))
					break;
				e = mmn_pte_get(sim, pt, mmn_pt_index(addr, l), addr);
			}
			if (l == MMN_LVL_PMD && mmn_pmd_mapped_leaf(e)) {
				zapped += zap_huge_pmd(tlb, vma, pt, addr);
				break;
			}
			if (!mmn_pte_present(e))
				break;
			if (l == MMN_LVL_PMD)
				zapped += zap_pte_range(tlb, vma, mmn_pt_child(sim, e), addr, next);
			else
				pt = mmn_pt_child(sim, e);
		}
		addr = next;
	}
	return zapped;
}

/*
 * free_pgtables() → free_pgd_range(): free every table page in
 * [floor, ceiling) whose whole span no VMA overlaps any more, bottom-up,
 * through the gather (the tables are freed after the TLB flush).
 */
static void free_tables_level(struct mmn_mmu_gather *tlb, struct mmn_mm *mm,
			      struct mmn_ptdesc *pt, int level, unsigned long base,
			      unsigned long floor, unsigned long ceiling)
{
	struct mmn_sim *sim = mm->sim;
	unsigned long size = mmn_pt_entry_size(level);

	for (unsigned int i = 0; i < MMN_PTRS_PER_TABLE; i++) {
		unsigned long lo = base + i * size, hi = lo + size;
		struct mmn_ptdesc *child;
		mmn_pte_t e;

		if (hi <= floor || lo >= ceiling || lo >= MMN_TASK_SIZE + MMN_PAGE_SIZE)
			continue;
		e = mmn_pte_peek(pt, i);
		if (!mmn_pte_present(e) || (level == MMN_LVL_PMD && mmn_pmd_leaf(e)))
			continue;
		child = mmn_pt_child(sim, e);
		if (level > MMN_LVL_PMD)
			free_tables_level(tlb, mm, child, level - 1, lo, floor, ceiling);
		if (vma_overlaps(mm, lo, hi))
			continue;
		if (level == MMN_LVL_PUD && mmn_pmd_table_drop_share(sim, child)) {
			/* A hugetlb PMD table other mms still share: drop our
			 * share (huge_pmd_unshare()), never free it. */
			mmn_pte_get_and_clear(sim, pt, i, lo);
			atomic_fetch_sub_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
			mmn_tlb_flush_pte_range(tlb, lo, size);
			continue;
		}
		if (level == MMN_LVL_PUD && atomic_load(&child->pmd_shared)) {
			/* The last sharer: an unsharer that dropped its share
			 * may still hold the table's lock; wait it out. */
			mmn_spin_lock(&child->ptl);
			mmn_spin_unlock(&child->ptl);
		}
		if (atomic_load(&child->nr_used))
			mmn_reportf(sim, MMN_VIOL_ACCOUNTING, lo, child->pfn,
				    "freeing a level-%d table with %d entries in use", level - 1,
				    atomic_load(&child->nr_used));
		mmn_pte_get_and_clear(sim, pt, i, lo);
		atomic_fetch_sub_explicit(&mm->nr_ptes, 1, memory_order_relaxed);
		mmn_tlb_remove_table(tlb, child->pfn);
	}
}

void mmn_free_pgtables(struct mmn_mmu_gather *tlb, struct mmn_mm *mm, unsigned long floor,
		       unsigned long ceiling)
{
	free_tables_level(tlb, mm, mm->pgd, MMN_LVL_PGD, 0, floor, ceiling);
}

/* ---------------------------------------------------------------- */
/* munmap / mmap                                                     */
/* ---------------------------------------------------------------- */

/*
 * The first half of do_vmi_munmap(): split the VMAs at the edges of
 * [start, end) and detach those inside. Nothing is changed if it fails.
 * Returns the number of detached VMAs (moved to *@detached) or -errno.
 */
static int munmap_detach(struct mmn_mm *mm, unsigned long start, unsigned long end,
			 struct mmn_vma ***detached)
{
	struct mmn_vma *tail[2] = { NULL, NULL };
	int first, last, n, err = -ENOMEM;

	first = mmn_vma_first_above(mm, start);
	*detached = NULL;
	if (first == mm->nr_vmas || mm->vmas[first]->start >= end)
		return 0;
	/* Check and allocate everything that can fail before changing anything. */
	if (mm->vmas[first]->start < start && !vma_split_ok(mm->vmas[first], start))
		return -EINVAL;
	last = mmn_vma_first_above(mm, end - 1);
	if (last < mm->nr_vmas && mm->vmas[last]->start < end && mm->vmas[last]->end > end &&
	    !vma_split_ok(mm->vmas[last], end))
		return -EINVAL;
	/* vma_adjust_trans_huge(): a THP straddling an edge is split first. */
	if (ops_split_huge_boundary(mm, start) || ops_split_huge_boundary(mm, end))
		return -ENOMEM;
	if (vma_reserve(mm, 2))
		return -ENOMEM;
	tail[0] = malloc(sizeof(*tail[0]));
	tail[1] = malloc(sizeof(*tail[1]));
	if (!tail[0] || !tail[1])
		goto out;
	*detached = malloc((size_t)(mm->nr_vmas + 2) * sizeof(**detached));
	if (!*detached)
		goto out;
	if (mm->vmas[first]->start < start) {
		vma_split(mm, first, start, tail[0]);
		tail[0] = NULL;
		first++;
	}
	last = mmn_vma_first_above(mm, end - 1);
	if (last < mm->nr_vmas && mm->vmas[last]->start < end && mm->vmas[last]->end > end) {
		vma_split(mm, last, end, tail[1]);
		tail[1] = NULL;
	}
	for (n = 0; first + n < mm->nr_vmas && mm->vmas[first + n]->start < end; n++)
		(*detached)[n] = mm->vmas[first + n];
	memmove(&mm->vmas[first], &mm->vmas[first + n],
		(size_t)(mm->nr_vmas - first - n) * sizeof(*mm->vmas));
	mm->nr_vmas -= n;
	err = n;
out:
	free(tail[0]);
	free(tail[1]);
	if (err < 0) {
		free(*detached);
		*detached = NULL;
	}
	return err;
}

/*
 * unmap_region() → unmap_vmas(), all versions: under one mmu_gather, notify
 * MMN_NOTIFY_UNMAP (5.2+; the range spans the detached VMAs), zap them, end
 * the notification, free the page tables nobody needs, and only then
 * tlb_finish_mmu(): flush (F1, and F2 where the profile puts it) and free
 * pages and tables. Start/end users dropped their mappings at start; F2 users
 * are flushed before any page is freed.
 */
static void unmap_region(struct mmn_mm *mm, struct mmn_vma **vmas, int n, unsigned long start,
			 unsigned long end)
{
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;
	unsigned long zapped = 0;

	mmn_tlb_gather_mmu(&tlb, mm);
	ops_range_init(&range, MMN_NOTIFY_UNMAP, mm, vmas[0]->start, vmas[n - 1]->end, NULL);
	ops_start(MMN_OP_MUNMAP, &range);
	for (int i = 0; i < n; i++)
		zapped += mmn_zap_vma_range(&tlb, vmas[i], vmas[i]->start, vmas[i]->end);
	ops_end(&range);
	/* free_pgtables() unlinks the VMAs from the rmap before freeing their
	 * tables: an rmap walker holding the anon_vma/i_mmap lock keeps them. */
	for (int i = 0; i < n; i++)
		mmn_vma_rmap_unlink(vmas[i]);
	mmn_free_pgtables(&tlb, mm, start & MMN_PMD_MASK, end);
	mmn_tlb_finish_mmu(&tlb);
	ops_stat_pages(mm->sim, MMN_OP_MUNMAP, zapped, 0);
}

static void vmas_free(struct mmn_sim *sim, struct mmn_vma **vmas, int n)
{
	for (int i = 0; i < n; i++) {
		mmn_vma_rmap_release(vmas[i]);
		if (vmas[i]->file)
			mmn_shmem_put(sim, vmas[i]->file);
		free(vmas[i]);
	}
	free(vmas);
}

static int munmap_check(unsigned long addr, unsigned long len, unsigned long *end)
{
	if (addr & ~MMN_PAGE_MASK || !len || len > MMN_TASK_SIZE || addr > MMN_TASK_SIZE - len)
		return -EINVAL;
	*end = addr + ((len + MMN_PAGE_SIZE - 1) & MMN_PAGE_MASK);
	return 0;
}

/* do_vmi_munmap() with the mmap_lock downgrade of __vm_munmap(), 4.20+. */
int mmn_munmap(struct mmn_mm *mm, unsigned long addr, unsigned long len)
{
	struct mmn_vma **detached;
	unsigned long end;
	int n, err;

	if (!mm)
		return -EINVAL;
	err = munmap_check(addr, len, &end);
	if (err)
		return err;
	mmn_mmap_write_lock(mm);
	n = munmap_detach(mm, addr, end, &detached);
	if (n <= 0) {
		mmn_mmap_write_unlock(mm);
		return n;
	}
	/* The VMAs are gone from the tree: faults can no longer find them. */
	mmn_mmap_write_downgrade(mm);
	unmap_region(mm, detached, n, addr, end);
	mmn_mmap_read_unlock(mm);
	vmas_free(mm->sim, detached, n);
	ops_stat_call(mm->sim, MMN_OP_MUNMAP);
	return 0;
}

/*
 * __split_vma() at both edges of [start, end), for operations that change a
 * part of a VMA (mprotect_fixup(), mremap): everything that can fail is
 * checked and allocated first, so nothing changes on error.
 */
int mmn_vma_split_range(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	struct mmn_vma *tail[2] = { NULL, NULL };
	struct mmn_vma *lo = mmn_vma_lookup(mm, start), *hi = mmn_vma_lookup(mm, end - 1);
	bool split_lo = lo && lo->start < start, split_hi = hi && hi->end > end;
	int i;

	if ((split_lo && !vma_split_ok(lo, start)) || (split_hi && !vma_split_ok(hi, end)))
		return -EINVAL;
	if (!split_lo && !split_hi)
		return 0;
	/* vma_adjust_trans_huge(): a THP straddling an edge is split first. */
	if ((split_lo && ops_split_huge_boundary(mm, start)) ||
	    (split_hi && ops_split_huge_boundary(mm, end)))
		return -ENOMEM;
	if (vma_reserve(mm, 2))
		return -ENOMEM;
	tail[0] = split_lo ? malloc(sizeof(*tail[0])) : NULL;
	tail[1] = split_hi ? malloc(sizeof(*tail[1])) : NULL;
	if ((split_lo && !tail[0]) || (split_hi && !tail[1])) {
		free(tail[0]);
		free(tail[1]);
		return -ENOMEM;
	}
	if (split_lo) {
		i = mmn_vma_first_above(mm, start);
		vma_split(mm, i, start, tail[0]);
	}
	if (split_hi) {
		i = mmn_vma_first_above(mm, end - 1);
		vma_split(mm, i, end, tail[1]);
	}
	return 0;
}

/* do_vmi_munmap() for callers holding mmap_lock for write (mremap). */
int mmn_do_munmap(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	struct mmn_vma **detached;
	int n = munmap_detach(mm, start, end, &detached);

	if (n <= 0)
		return n;
	unmap_region(mm, detached, n, start, end);
	vmas_free(mm->sim, detached, n);
	return 0;
}

/* copy_vma() without merging: a new VMA like @tmpl over [start, end). */
int mmn_vma_insert_copy(struct mmn_mm *mm, const struct mmn_vma *tmpl, unsigned long start,
			unsigned long end, unsigned long pgoff)
{
	struct mmn_vma *vma;

	if (vma_reserve(mm, 1))
		return -ENOMEM;
	vma = malloc(sizeof(*vma));
	if (!vma)
		return -ENOMEM;
	*vma = *tmpl;
	vma->mm = mm;
	vma->start = start;
	vma->end = end;
	vma->pgoff = pgoff;
	if (vma->file)
		atomic_fetch_add_explicit(&vma->file->refcount, 1, memory_order_relaxed);
	mmn_vma_rmap_dup(vma); /* anon_vma_clone() / vma_link_file() */
	vma_insert_at(mm, mmn_vma_first_above(mm, start), vma);
	return 0;
}

static unsigned long get_unmapped_area(struct mmn_mm *mm, unsigned long hint,
				       unsigned long len, unsigned long align);

unsigned long mmn_get_unmapped_area(struct mmn_mm *mm, unsigned long len, unsigned long align)
{
	return get_unmapped_area(mm, 0, len, align);
}

/* get_unmapped_area() top-down (arch_get_unmapped_area_topdown()). */
static unsigned long get_unmapped_area(struct mmn_mm *mm, unsigned long hint,
				       unsigned long len, unsigned long align)
{
	unsigned long high = MMN_MMAP_BASE;

	if (hint && !(hint & (align - 1)) && hint >= MMN_MMAP_MIN_ADDR &&
	    hint <= MMN_TASK_SIZE - len && !vma_overlaps(mm, hint, hint + len))
		return hint;
	for (int i = mm->nr_vmas - 1; i >= -1; i--) {
		unsigned long low = i >= 0 ? mm->vmas[i]->end : MMN_MMAP_MIN_ADDR;

		if (i >= 0 && mm->vmas[i]->start >= high)
			continue;
		if (low < high && high - low >= len) {
			unsigned long cand = (high - len) & ~(align - 1);

			if (cand >= low)
				return cand;
		}
		if (i >= 0)
			high = mm->vmas[i]->start;
	}
	return 0;
}

#define MMN_MAP_KNOWN (MMN_MAP_SHARED | MMN_MAP_PRIVATE | MMN_MAP_FIXED | MMN_MAP_ANONYMOUS | \
		       MMN_MAP_POPULATE | MMN_MAP_HUGETLB)

/* do_mmap() + mmap_region() for anonymous memory, all versions. */
int mmn_mmap(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot, int flags,
	     unsigned long *out_addr)
{
	unsigned long align, end;
	struct mmn_vma *vma;
	struct mmn_vma **detached = NULL;
	int type, n = 0, i;

	if (!mm || !len || (prot & ~(MMN_PROT_READ | MMN_PROT_WRITE)) || (flags & ~MMN_MAP_KNOWN))
		return -EINVAL;
	type = flags & (MMN_MAP_SHARED | MMN_MAP_PRIVATE);
	if ((type != MMN_MAP_SHARED && type != MMN_MAP_PRIVATE) || !(flags & MMN_MAP_ANONYMOUS))
		return -EINVAL;
	align = flags & MMN_MAP_HUGETLB ? MMN_PMD_SIZE : MMN_PAGE_SIZE;
	if (len > MMN_TASK_SIZE)
		return -ENOMEM;
	len = (len + align - 1) & ~(align - 1);
	if (flags & MMN_MAP_FIXED) {
		if (addr & (align - 1))
			return -EINVAL;
		if (addr < MMN_MMAP_MIN_ADDR)
			return -EPERM;
		if (addr > MMN_TASK_SIZE - len)
			return -ENOMEM;
	}
	vma = calloc(1, sizeof(*vma));
	if (!vma)
		return -ENOMEM;
	vma->mm = mm;
	vma->vm_flags = (prot ? MMN_VM_READ : 0) | (prot & MMN_PROT_WRITE ? MMN_VM_WRITE : 0) |
			(type == MMN_MAP_SHARED ? MMN_VM_SHARED : 0) |
			(flags & MMN_MAP_HUGETLB ? MMN_VM_HUGETLB : 0);
	if (type == MMN_MAP_SHARED) {
		vma->file = shmem_create(mm->sim, len, flags & MMN_MAP_HUGETLB);
		if (!vma->file) {
			free(vma);
			return -ENOMEM;
		}
	} else {
		/* anon_vma_prepare(), done at mmap rather than at the first fault. */
		vma->anon_vma = mmn_anon_vma_alloc(mm->sim);
		if (!vma->anon_vma) {
			free(vma);
			return -ENOMEM;
		}
	}

	mmn_mmap_write_lock(mm);
	/* Two splits and the new VMA: nothing can fail once unmapping began. */
	if (vma_reserve(mm, 3))
		goto nomem;
	if (flags & MMN_MAP_FIXED) {
		n = munmap_detach(mm, addr, addr + len, &detached);
		if (n < 0) {
			mmn_mmap_write_unlock(mm);
			mmn_vma_rmap_release(vma);
			if (vma->file)
				mmn_shmem_put(mm->sim, vma->file);
			free(vma);
			return n;
		}
		if (n)
			unmap_region(mm, detached, n, addr, addr + len);
	} else {
		addr = get_unmapped_area(mm, addr, len, align);
		if (!addr)
			goto nomem;
	}
	end = addr + len;
	vma->start = addr;
	vma->end = end;
	if (!vma->file)
		vma->pgoff = addr >> MMN_PAGE_SHIFT;
	mmn_vma_rmap_link(vma);
	i = mmn_vma_first_above(mm, addr);
	vma_insert_at(mm, i, vma);
	mmn_mmap_write_unlock(mm);
	if (detached)
		vmas_free(mm->sim, detached, n);

	/* populate_vma_page_range(): errors do not fail the mmap. */
	if (flags & MMN_MAP_POPULATE) {
		unsigned int fflags = prot & MMN_PROT_WRITE ? MMN_FAULT_WRITE : 0;

		mmn_mmap_read_lock(mm);
		for (unsigned long a = addr; a < end && prot; a += align)
			if (mmn_handle_mm_fault(mm, a, fflags))
				break;
		mmn_mmap_read_unlock(mm);
	}
	if (out_addr)
		*out_addr = addr;
	return 0;

nomem:
	mmn_mmap_write_unlock(mm);
	mmn_vma_rmap_release(vma);
	if (vma->file)
		mmn_shmem_put(mm->sim, vma->file);
	free(vma);
	return -ENOMEM;
}

/*
 * exit_mmap(), 6.x order: mmu_notifier_release() first (hlist subscribers
 * get ->release and are unhashed; interval subscribers get a RELEASE
 * invalidation), then under mmap_lock for read a full-mm gather and the
 * UNMAP teardown of every VMA (which still reaches interval subscribers),
 * then under mmap_lock for write free_pgtables() and tlb_finish_mmu().
 */
void mmn_exit_mmap(struct mmn_mm *mm)
{
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;
	struct mmn_vma **vmas;
	unsigned long zapped = 0;
	int n;

	mmn_notifier_release(mm);
	mmn_mmap_read_lock(mm);
	mmn_tlb_gather_mmu_fullmm(&tlb, mm);
	ops_range_init(&range, MMN_NOTIFY_UNMAP, mm, 0, ~0UL, NULL);
	ops_start(MMN_OP_EXIT, &range);
	for (int i = 0; i < mm->nr_vmas; i++)
		zapped += mmn_zap_vma_range(&tlb, mm->vmas[i], mm->vmas[i]->start,
					    mm->vmas[i]->end);
	ops_end(&range);
	mmn_mmap_read_unlock(mm);

	mmn_mmap_write_lock(mm);
	vmas = mm->vmas;
	n = mm->nr_vmas;
	mm->vmas = NULL;
	mm->nr_vmas = mm->cap_vmas = 0;
	for (int i = 0; i < n; i++)
		mmn_vma_rmap_unlink(vmas[i]);
	mmn_free_pgtables(&tlb, mm, 0, ~0UL);
	mmn_tlb_finish_mmu(&tlb);
	mmn_mmap_write_unlock(mm);
	vmas_free(mm->sim, vmas, n);
	ops_stat_call(mm->sim, MMN_OP_EXIT);
	ops_stat_pages(mm->sim, MMN_OP_EXIT, zapped, 0);
}
