/* SPDX-License-Identifier: MIT */
/*
 * Internals of the primary MMU model: frames, page tables, TLBs, mms and
 * VMAs. Shared by the sources of lib/mm (and later by the notifier and the operations).
 */
#ifndef MMN_LIB_MM_INTERNAL_H
#define MMN_LIB_MM_INTERNAL_H

#include <mmnsim/fault.h>
#include <mmnsim/mm.h>
#include <mmnsim/page.h>
#include <mmnsim/pgtable.h>
#include <mmnsim/tlb.h>

#include "../internal.h"

/* ------------------------------------------------------------------ */
/* Frames (lib/mm/page.c)                                              */
/* ------------------------------------------------------------------ */

/*
 * struct page. 48 bytes: with the 8-byte PTE and its share of the PTE table,
 * a resident page costs about 60 bytes of host memory.
 */
struct mmn_page {
	_Atomic int refcount;
	_Atomic int mapcount;
	_Atomic int pincount;
	_Atomic unsigned int flags;
	_Atomic uint32_t gen;
	uint32_t pad;
	_Atomic uint64_t content;
	/* Page-table pages: the struct mmn_ptdesc. Anon: the owning mm's id
	 * tag is not needed (rmap arrives with reclaim); shmem: its object. */
	void *mapping;
	unsigned long index;       /* shmem: page offset in the object */
};

struct mmn_frame_pool {
	unsigned long nr_frames;       /* small frames: pfn [0, nr_frames) */
	unsigned long nr_huge;         /* huge pages: pfn [nr_frames, +nr_huge*512) */
	struct mmn_page *pages;        /* nr_frames + nr_huge * MMN_HPAGE_NR */
	struct mmn_raw_lock lock;
	uint32_t *free_stack;          /* LIFO of free small pfns */
	unsigned long nr_free;
	uint32_t *huge_free_stack;     /* LIFO of free huge page indices */
	unsigned long nr_huge_free;
	_Atomic unsigned long allocated, freed;
	_Atomic long pgtables;
};

static inline struct mmn_page *mmn_pfn_to_page(const struct mmn_sim *sim, unsigned long pfn)
{
	return &sim->pool->pages[pfn];
}

static inline bool mmn_pfn_valid(const struct mmn_sim *sim, unsigned long pfn)
{
	return pfn < sim->pool->nr_frames + sim->pool->nr_huge * MMN_HPAGE_NR;
}

static inline bool mmn_pfn_is_huge(const struct mmn_sim *sim, unsigned long pfn)
{
	return pfn >= sim->pool->nr_frames;
}

/* Head pfn of the compound page containing @pfn. */
static inline unsigned long mmn_compound_head(const struct mmn_sim *sim, unsigned long pfn)
{
	if (!mmn_pfn_is_huge(sim, pfn))
		return pfn;
	return pfn - ((pfn - sim->pool->nr_frames) % MMN_HPAGE_NR);
}

int mmn_page_sim_init(struct mmn_sim *sim);
void mmn_page_sim_fini(struct mmn_sim *sim);
/* alloc_page(): a zeroed frame with refcount 1 and @flags, or 0 (the zero
 * pfn doubles as "none": it is never allocated). */
unsigned long mmn_alloc_page(struct mmn_sim *sim, unsigned int flags);
/* alloc_hugetlb_folio(): a 2 MiB compound page (head pfn) or 0. */
unsigned long mmn_alloc_huge_page(struct mmn_sim *sim, unsigned int flags);
/* Mapcount changes (page_add_*_rmap / page_remove_rmap) on the compound head. */
void mmn_page_add_map(struct mmn_sim *sim, unsigned long pfn);
void mmn_page_remove_map(struct mmn_sim *sim, unsigned long pfn);

/* ------------------------------------------------------------------ */
/* Page tables (lib/mm/pgtable.c)                                      */
/* ------------------------------------------------------------------ */

enum { MMN_LVL_PTE = 1, MMN_LVL_PMD = 2, MMN_LVL_PUD = 3, MMN_LVL_PGD = 4 };

/* struct ptdesc: the page-table page behind a PG_TABLE frame. */
struct mmn_ptdesc {
	_Atomic uint64_t e[MMN_PTRS_PER_TABLE];
	struct mmn_spinlock ptl;     /* PTE table: the PTL; PMD table: pmd_lock() */
	unsigned long pfn;           /* the frame it lives in */
	int level;
	_Atomic int nr_used;         /* non-none entries */
};

static inline unsigned int mmn_pt_index(unsigned long addr, int level)
{
	return (addr >> (MMN_PAGE_SHIFT + 9 * (level - 1))) & (MMN_PTRS_PER_TABLE - 1);
}

/* Bytes covered by one entry of a level-@level table. */
static inline unsigned long mmn_pt_entry_size(int level)
{
	return 1UL << (MMN_PAGE_SHIFT + 9 * (level - 1));
}

static inline struct mmn_ptdesc *mmn_pt_of_pfn(const struct mmn_sim *sim, unsigned long pfn)
{
	return (struct mmn_ptdesc *)mmn_pfn_to_page(sim, pfn)->mapping;
}

/* The child table an upper entry points at. */
static inline struct mmn_ptdesc *mmn_pt_child(const struct mmn_sim *sim, mmn_pte_t e)
{
	return mmn_pt_of_pfn(sim, mmn_pte_pfn(e));
}

/* An upper-level entry pointing at table @pfn. */
static inline mmn_pte_t mmn_mk_table_entry(unsigned long pfn)
{
	return mmn_mk_pte(pfn, MMN_PTE_WRITE | MMN_PTE_ACCESSED);
}

/* Allocate an empty table page of @level (pte_alloc_one()); NULL if no frame. */
struct mmn_ptdesc *mmn_pt_alloc(struct mmn_mm *mm, int level);
/* Free a table page now (pte_free()); the caller made it unreachable and flushed. */
void mmn_pt_free(struct mmn_sim *sim, unsigned long pfn);

/*
 * Walk down to the table of @level that covers @addr, allocating missing
 * tables under mm->page_table_lock (__pte_alloc()/__pmd_alloc()). Stops early
 * and returns NULL if a PMD leaf covers @addr while descending to the PTE
 * level (*@leaf_pmd then gets the PMD table) or if no frame is left
 * (-ENOMEM in *@err). Caller holds mmap_lock.
 */
struct mmn_ptdesc *mmn_pt_walk_alloc(struct mmn_mm *mm, unsigned long addr, int level,
				     struct mmn_ptdesc **leaf_pmd, int *err);
/* Same without allocating: NULL if a level is missing. */
struct mmn_ptdesc *mmn_pt_walk(struct mmn_mm *mm, unsigned long addr, int level);

/* A raw atomic read for hardware walkers (no scheduling point: walkers run
 * under raw locks, see tlb.c). */
static inline mmn_pte_t mmn_pte_peek(struct mmn_ptdesc *pt, unsigned int idx)
{
	return atomic_load_explicit(&pt->e[idx], memory_order_seq_cst);
}
/* The hardware-style walk of mmn_pgtable_walk(), for callers that already
 * exclude table freeing (a CPU TLB fill, or mm->walk_lock held). */
void mmn_pt_walk_raw(struct mmn_mm *mm, unsigned long addr, struct mmn_walk *out);

/* Entry accessors: every software PTE read/write is a scheduling point. */
mmn_pte_t mmn_pte_get(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		      unsigned long addr);
/* set_pte_at() on a none entry (no hardware walker writes none entries). */
void mmn_pte_set(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		 unsigned long addr, mmn_pte_t val);
/* ptep_get_and_clear(): atomically, so no accessed/dirty bit is lost. */
mmn_pte_t mmn_pte_get_and_clear(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
				unsigned long addr);
/* Replace a present entry @old with @val; false if a walker changed it meanwhile. */
bool mmn_pte_cmpxchg(struct mmn_sim *sim, struct mmn_ptdesc *pt, unsigned int idx,
		     unsigned long addr, mmn_pte_t old, mmn_pte_t val);

/* ------------------------------------------------------------------ */
/* TLBs (lib/mm/tlb.c)                                                 */
/* ------------------------------------------------------------------ */

struct mmn_tlb_slot {
	_Atomic uint64_t tag;   /* VALID | mm id << 36 | virtual page number */
	_Atomic uint64_t val;   /* gen << 32 | pfn << 2 | DIRTY | WRITE */
};

struct mmn_cpu {
	int id;
	/* Odd while a flush or fill rewrites slots: lockless hit readers retry. */
	_Atomic unsigned int seq;
	/* Serialises fills, store hits and flushes of this CPU: it stands for
	 * the atomicity of a hardware walk and of a store against the IPI of a
	 * shootdown. A raw lock: never held across a scheduling point. */
	struct mmn_raw_lock lock;
	struct mmn_tlb_slot *small;
	struct mmn_tlb_slot *huge;
	unsigned int nr_small, nr_huge;
	/* Statistics: single-writer-per-CPU counters (relaxed). */
	_Atomic unsigned long hits, misses, fills, dropped, shootdowns;
} __attribute__((aligned(64)));

int mmn_tlb_sim_init(struct mmn_sim *sim);
void mmn_tlb_sim_fini(struct mmn_sim *sim);
/* One valid entry of a CPU's TLB, for audits. */
struct mmn_tlb_entry_dump {
	int cpu;
	unsigned int mm_id;
	unsigned long addr;   /* start of the 4 KiB page or of the 2 MiB page */
	unsigned long pfn;    /* the frame (head frame for a 2 MiB entry) */
	uint32_t gen;
	bool write, huge;
};
/* Call @fn for every valid entry of every CPU's TLB (quiescence only). */
void mmn_tlb_for_each_entry(struct mmn_sim *sim,
			    void (*fn)(void *arg, const struct mmn_tlb_entry_dump *e), void *arg);

/* Load or store through CPU @cpu's TLB, walking and faulting as needed. */
int mmn_tlb_access(struct mmn_mm *mm, int cpu, unsigned long addr, bool write, uint64_t *val);

/* ------------------------------------------------------------------ */
/* mm and VMAs (lib/mm/mm.c, lib/mm/mmap.c)                             */
/* ------------------------------------------------------------------ */

/* vm_flags. */
#define MMN_VM_READ 0x1UL
#define MMN_VM_WRITE 0x2UL
#define MMN_VM_SHARED 0x8UL
#define MMN_VM_HUGETLB 0x400000UL

/* A shared memory object (shmem inode / hugetlbfs file), shared by the
 * VMAs that map it and by fork. Holds one reference on each page it caches. */
struct mmn_shmem {
	_Atomic int refcount;
	struct mmn_raw_lock lock;       /* the page-cache (i_pages) lock */
	bool huge;                      /* hugetlbfs: 2 MiB pages */
	unsigned long nr_slots;         /* pages (or huge pages) it can hold */
	unsigned long *slots;           /* pfn per slot, 0 if not present */
};

struct mmn_vma {
	unsigned long start, end;
	unsigned long vm_flags;
	struct mmn_mm *mm;
	struct mmn_shmem *file;         /* shared mappings */
	unsigned long pgoff;            /* page offset of start in @file */
};

struct mmn_notifier_subscriptions;

struct mmn_mm {
	struct mmn_sim *sim;
	unsigned int id;
	_Atomic int mm_users;
	_Atomic int mm_count;
	struct mmn_rwsem mmap_lock;
	struct mmn_spinlock page_table_lock;
	struct mmn_ptdesc *pgd;
	/* VMAs sorted by address, non-overlapping; under mmap_lock. */
	struct mmn_vma **vmas;
	int nr_vmas, cap_vmas;
	_Atomic uint64_t cpumask;       /* CPUs that may cache translations */
	/* Held by lockless walkers that are not CPUs (mmn_pgtable_walk()) and
	 * by the mmu_gather while it frees table pages. */
	struct mmn_raw_lock walk_lock;
	_Atomic long nr_ptes;           /* page-table pages below the PGD */
	/* mm->notifier_subscriptions (lib/notifier): NULL until the first
	 * registration; published with a release store. */
	struct mmn_notifier_subscriptions *notifier_subscriptions;
	struct mmn_mm *next;            /* sim->mm_list */
};

extern const struct mmn_lock_class mmn_mmap_lock_class;
extern const struct mmn_lock_class mmn_page_table_lock_class;
extern const struct mmn_lock_class mmn_ptl_class;

/* The VMA containing @addr, or NULL; caller holds mmap_lock. */
struct mmn_vma *mmn_vma_lookup(struct mmn_mm *mm, unsigned long addr);
/* Index of the first VMA ending above @addr (nr_vmas if none). */
int mmn_vma_first_above(struct mmn_mm *mm, unsigned long addr);
void mmn_shmem_put(struct mmn_sim *sim, struct mmn_shmem *f);

/* Zap [start, end) of @vma into @tlb (zap_page_range_single()/unmap_vmas()
 * body, no notification); returns the 4 KiB mappings removed. */
unsigned long mmn_zap_vma_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				unsigned long start, unsigned long end);
/* Free the page tables no VMA needs any more in [floor, ceiling) (free_pgtables()). */
void mmn_free_pgtables(struct mmn_mmu_gather *tlb, struct mmn_mm *mm, unsigned long floor,
		       unsigned long ceiling);
/* exit_mmap(): tear everything down; called on the last mmput. */
void mmn_exit_mmap(struct mmn_mm *mm);
void mmn_mm_sim_fini(struct mmn_sim *sim);

#endif /* MMN_LIB_MM_INTERNAL_H */
