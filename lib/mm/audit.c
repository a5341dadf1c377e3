// SPDX-License-Identifier: MIT
/*
 * The accounting audit: recompute, from the page tables and the shared
 * objects alone, what every frame's mapcount and refcount must be, and
 * compare. The kernel has no such function (its checks are scattered
 * VM_BUG_ONs and bad_page()); a simulator can afford the full walk, and
 * every stress test ends with it.
 */
#include <stdio.h>
#include <stdlib.h>

#include "mm/mm_internal.h"

struct audit {
	struct mmn_sim *sim;
	int *maps;            /* expected mapcount per head pfn */
	int *refs;            /* expected refcount (without pins) per head pfn */
	long errors;
	struct mmn_shmem **files;
	size_t nr_files, cap_files;
};

static void audit_err(struct audit *a, unsigned long addr, unsigned long pfn, const char *fmt,
		      long x, long y)
{
	char msg[160];

	snprintf(msg, sizeof(msg), fmt, x, y);
	mmn_reportf(a->sim, MMN_VIOL_ACCOUNTING, addr, pfn, "audit: %s", msg);
	a->errors++;
}

static void audit_leaf(struct audit *a, struct mmn_mm *mm, unsigned long addr, mmn_pte_t e,
		       bool huge, bool count)
{
	struct mmn_sim *sim = a->sim;
	unsigned long pfn = mmn_pte_pfn(e);
	struct mmn_vma *vma = mmn_vma_lookup(mm, addr);
	unsigned long head, sub;
	unsigned int flags;

	bool dev = mmn_pte_device(e);

	/* PROT_NONE entries (mprotect, NUMA hinting) are mappings too, and so
	 * are device-private and device-exclusive entries. */
	if (!mmn_pte_mapped(e) && !dev)
		return;
	if (!vma) {
		audit_err(a, addr, pfn, "mm %ld maps 0x%lx outside any VMA", (long)mm->id, addr);
		return;
	}
	if ((dev ? mmn_pte_device_write(e) : mmn_pte_write(e)) && !(vma->vm_flags & MMN_VM_WRITE))
		audit_err(a, addr, pfn, "writable entry at 0x%lx in a read-only VMA (mm %ld)", addr,
			  (long)mm->id);
	/* Anonymous THPs (lib/ops/thp.c): PMD leaves of private 4 KiB VMAs. */
	if (huge != !!(vma->vm_flags & MMN_VM_HUGETLB) &&
	    !(huge && !(vma->vm_flags & (MMN_VM_SHARED | MMN_VM_HUGETLB)) &&
	      mmn_pfn_valid(sim, pfn) &&
	      (atomic_load(&mmn_pfn_to_page(sim, pfn)->flags) &
	       (MMN_PG_HEAD | MMN_PG_ANON | MMN_PG_HUGETLB)) == (MMN_PG_HEAD | MMN_PG_ANON)))
		audit_err(a, addr, pfn, "entry size at 0x%lx does not match its VMA (mm %ld)", addr,
			  (long)mm->id);
	if (!mmn_pfn_valid(sim, pfn)) {
		audit_err(a, addr, pfn, "entry at 0x%lx points past the frames (pfn %ld)", addr, pfn);
		return;
	}
	if (pfn == MMN_ZERO_PFN) {
		if (mmn_pte_write(e))
			audit_err(a, addr, pfn, "zero page mapped writable at 0x%lx (mm %ld)", addr,
				  (long)mm->id);
		return;
	}
	flags = atomic_load(&mmn_pfn_to_page(sim, pfn)->flags);
	/* A PTE mapping a subpage of a (split) THP counts on its head. */
	head = mmn_compound_head(sim, pfn);
	sub = huge ? 0 : pfn - head;
	if (huge && head != pfn)
		audit_err(a, addr, pfn, "PMD leaf at 0x%lx maps the tail frame %ld", addr, pfn);
	if (flags & MMN_PG_FREE) {
		audit_err(a, addr, pfn, "entry at 0x%lx maps free frame %ld", addr, pfn);
		return;
	}
	if (flags & MMN_PG_TABLE) {
		audit_err(a, addr, pfn, "entry at 0x%lx maps page-table frame %ld", addr, pfn);
		return;
	}
	if (!!(flags & MMN_PG_DEVICE_PRIVATE) !=
	    (mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_READ ||
	     mmn_pte_swp_type(e) == MMN_SWP_DEVICE_PRIVATE_WRITE))
		audit_err(a, addr, pfn, "entry at 0x%lx and device-private page %ld disagree", addr,
			  pfn);
	/* The reverse map must lead back here (lib/mm/rmap.c). */
	if ((flags & MMN_PG_ANON) && !(flags & MMN_PG_KSM) &&
	    mmn_pfn_to_page(sim, head)->mapping != vma->anon_vma)
		audit_err(a, addr, pfn, "anonymous page at 0x%lx is not in its VMA's anon_vma (mm %ld)",
			  addr, (long)mm->id);
	else if ((flags & MMN_PG_SHMEM) && mmn_pfn_to_page(sim, head)->mapping != vma->file)
		audit_err(a, addr, pfn, "shmem page at 0x%lx is not in its VMA's object (mm %ld)",
			  addr, (long)mm->id);
	else if ((flags & (MMN_PG_ANON | MMN_PG_SHMEM)) && !(flags & MMN_PG_KSM) &&
		 mmn_vma_address(vma, mmn_page_rmap_index(sim, pfn) + sub) !=
			 (addr & (huge ? MMN_PMD_MASK : MMN_PAGE_MASK)))
		audit_err(a, addr, pfn, "the page's index leads to 0x%lx, not to its entry at 0x%lx",
			  (long)mmn_vma_address(vma, mmn_page_rmap_index(sim, pfn) + sub), (long)addr);
	if (!count)
		return; /* a shared hugetlb PMD table: its leaves count once */
	a->maps[head]++;
	a->refs[head]++;
}

static void audit_table(struct audit *a, struct mmn_mm *mm, struct mmn_ptdesc *pt,
			unsigned long base, long *tables)
{
	struct mmn_sim *sim = a->sim;
	unsigned long size = mmn_pt_entry_size(pt->level);
	int used = 0;
	/*
	 * A hugetlb PMD table shared by N mms (lib/mm/hugetlb.c) is reached
	 * from N PUD entries: each is one reference on its frame (the share
	 * count), but its leaves are one mapping each, counted at the first
	 * visit only; later visits still check them against their own mm.
	 */
	bool count = a->refs[pt->pfn] == 0;

	if (atomic_load(&mmn_pfn_to_page(sim, pt->pfn)->flags) != MMN_PG_TABLE)
		audit_err(a, base, pt->pfn, "table frame %ld is not a live page-table page (level %ld)",
			  (long)pt->pfn, (long)pt->level);
	if (!count && pt->level != MMN_LVL_PMD)
		audit_err(a, base, pt->pfn, "level-%ld table frame %ld is reached twice",
			  (long)pt->level, (long)pt->pfn);
	a->refs[pt->pfn]++;
	for (unsigned int i = 0; i < MMN_PTRS_PER_TABLE; i++) {
		unsigned long addr = base + i * size;
		mmn_pte_t e = mmn_pte_peek(pt, i);

		if (!e)
			continue;
		used++;
		if (pt->level == MMN_LVL_PTE || (pt->level == MMN_LVL_PMD && mmn_pmd_mapped_leaf(e)))
			audit_leaf(a, mm, addr, e, pt->level == MMN_LVL_PMD, count);
		else if (mmn_pte_present(e)) {
			(*tables)++;
			audit_table(a, mm, mmn_pt_child(sim, e), addr, tables);
		}
	}
	if (used != atomic_load(&pt->nr_used))
		audit_err(a, base, pt->pfn, "table frame %ld counts %ld entries in use",
			  (long)pt->pfn, (long)atomic_load(&pt->nr_used));
}

static void audit_file(struct audit *a, struct mmn_shmem *f)
{
	for (size_t i = 0; i < a->nr_files; i++)
		if (a->files[i] == f)
			return;
	if (a->nr_files == a->cap_files) {
		size_t cap = a->cap_files ? a->cap_files * 2 : 16;
		struct mmn_shmem **n = realloc(a->files, cap * sizeof(*n));

		if (!n) {
			a->errors++;
			return;
		}
		a->files = n;
		a->cap_files = cap;
	}
	a->files[a->nr_files++] = f;
	for (unsigned long i = 0; i < f->nr_slots; i++)
		if (f->slots[i])
			a->refs[f->slots[i]]++;
}

static void audit_frames(struct audit *a)
{
	struct mmn_sim *sim = a->sim;
	struct mmn_frame_pool *pool = sim->pool;
	unsigned long total = pool->nr_frames + pool->nr_huge * MMN_HPAGE_NR, nr_free = 0;

	for (unsigned long pfn = 1; pfn < total; pfn++) {
		struct mmn_page *p = mmn_pfn_to_page(sim, pfn);
		unsigned int flags = atomic_load(&p->flags);
		int ref = atomic_load(&p->refcount), map = atomic_load(&p->mapcount);
		int pin = atomic_load(&p->pincount);

		if (flags & MMN_PG_FREE) {
			if (pfn < pool->nr_frames)
				nr_free++;
			if (a->refs[pfn])
				audit_err(a, 0, pfn, "free frame %ld is still referenced %ld times", pfn,
					  (long)a->refs[pfn]);
			continue;
		}
		if (flags & MMN_PG_TAIL)
			continue;
		/* An idle page of a device pagemap (refcount 0, lib/mm/memremap.c). */
		if ((flags & MMN_PG_DEVICE_PRIVATE) && !ref && !map && !a->refs[pfn])
			continue;
		if (map != a->maps[pfn])
			audit_err(a, 0, pfn, "mapcount %ld, mappings found %ld", (long)map,
				  (long)a->maps[pfn]);
		/* A poisoned frame keeps memory_failure()'s reference. */
		pin += !!(flags & MMN_PG_HWPOISON);
		if (!a->refs[pfn] && !pin)
			audit_err(a, 0, pfn, "frame %ld is allocated but unreachable (leak), flags %lx",
				  pfn, flags);
		else if (ref != a->refs[pfn] + pin)
			audit_err(a, 0, pfn, "refcount %ld, references found %ld (pins included)",
				  (long)ref, (long)(a->refs[pfn] + pin));
	}
	if (nr_free != __atomic_load_n(&pool->nr_free, __ATOMIC_RELAXED))
		audit_err(a, 0, 0, "free list holds %ld frames, %ld frames are marked free",
			  __atomic_load_n(&pool->nr_free, __ATOMIC_RELAXED), nr_free);
}

long mmn_audit(struct mmn_sim *sim)
{
	struct mmn_frame_pool *pool;
	struct mmn_mm **mms = NULL;
	struct audit a = { .sim = sim };
	size_t n = 0, cap = 0;
	unsigned long total;

	if (!sim)
		return -EINVAL;
	pool = sim->pool;
	total = pool->nr_frames + pool->nr_huge * MMN_HPAGE_NR;
	a.maps = calloc(total, sizeof(*a.maps));
	a.refs = calloc(total, sizeof(*a.refs));
	if (!a.maps || !a.refs) {
		free(a.maps);
		free(a.refs);
		return -ENOMEM;
	}
	/* Pin every mm (mmgrab) so none goes away while we sleep on its lock. */
	mmn_raw_lock(&sim->mm_list_lock);
	for (struct mmn_mm *mm = sim->mm_list; mm; mm = mm->next)
		cap++;
	mms = calloc(cap ? cap : 1, sizeof(*mms));
	for (struct mmn_mm *mm = sim->mm_list; mms && mm; mm = mm->next) {
		mmn_mmgrab(mm);
		mms[n++] = mm;
	}
	mmn_raw_unlock(&sim->mm_list_lock);
	if (!mms) {
		free(a.maps);
		free(a.refs);
		return -ENOMEM;
	}
	/* One mm at a time: at quiescence nothing moves between them, and
	 * holding several mmap_locks of one class would need nesting. */
	for (size_t i = 0; i < n; i++) {
		struct mmn_mm *mm = mms[i];
		long tables = 0;

		mmn_mmap_write_lock(mm);
		audit_table(&a, mm, mm->pgd, 0, &tables);
		if (tables != atomic_load(&mm->nr_ptes))
			audit_err(&a, 0, 0, "mm counts %ld page-table pages, %ld found",
				  (long)atomic_load(&mm->nr_ptes), (long)tables);
		for (int v = 0; v < mm->nr_vmas; v++)
			if (mm->vmas[v]->file)
				audit_file(&a, mm->vmas[v]->file);
		mmn_mmap_write_unlock(mm);
	}
	audit_frames(&a);
	for (size_t i = 0; i < n; i++)
		mmn_mmdrop(mms[i]);
	free(mms);
	free(a.maps);
	free(a.refs);
	free(a.files);
	return a.errors;
}
