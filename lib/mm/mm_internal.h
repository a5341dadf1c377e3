/* SPDX-License-Identifier: MIT */
/*
 * Internals of the primary MMU model: frames, device pagemaps, page tables,
 * TLBs, mms and VMAs, rmap, hugetlb PMD sharing, swap slots. Data structures
 * and their primitives only: nothing here starts a notification or calls
 * lib/notifier or lib/ops (the secondary-TLB flush goes through a hook the
 * notifier registers). Shared by lib/mm and the layers above it.
 */
#ifndef MMN_LIB_MM_INTERNAL_H
#define MMN_LIB_MM_INTERNAL_H

#include <mmnsim/device.h>
#include <mmnsim/fault.h>
#include <mmnsim/mm.h>
#include <mmnsim/page.h>
#include <mmnsim/pgtable.h>
#include <mmnsim/sched.h>
#include <mmnsim/tlb.h>

#include "internal.h"
#include "sync/internal.h"

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
	uint32_t pgmap_id;      /* device-private pages: their pgmap (memremap.c) */
	_Atomic uint64_t content;
	/* Page-table pages: the struct mmn_ptdesc. Anon: its struct
	 * mmn_anon_vma (a reference, rmap.c); shmem: its object. */
	void *mapping;
	/* Anon: linear page index (vma->pgoff based); shmem: slot in the
	 * object (huge pages for hugetlbfs). */
	unsigned long index;
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
	/* Sleepers on a folio lock (folio.c): one queue for every frame, as
	 * the kernel hashes folios onto a few shared wait queues. */
	struct mmn_waitqueue folio_wq;
	/* The swap area of reclaim (swap.c). */
	struct mmn_raw_lock swap_lock;
	struct mmn_swap_slot *swap_slots;   /* [0] unused: slot 0 means "none" */
	unsigned long swap_nr, swap_cap;    /* slots in use + free, capacity */
	unsigned long swap_free_head;       /* free slots linked through .count */
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
/* prep_new_page(): refcount 1, no mapping, pin or content, then @flags
 * (published with a release store: a PTE reader sees the frame initialised). */
void mmn__page_prep_new(struct mmn_page *p, unsigned int flags);
/* alloc_hugetlb_folio(): a 2 MiB compound page (head pfn) or 0. */
unsigned long mmn_alloc_huge_page(struct mmn_sim *sim, unsigned int flags);
/*
 * The preamble of the reference calls (get_page(), put_page(),
 * unpin_user_page()): the struct page of @pfn's compound head (*@pfn becomes
 * the head), or NULL with *@err: -EINVAL (no simulation, no such frame), 0
 * (the zero page: nothing to count), -ENOENT for a free frame when @what
 * names the caller (reported as MMN_VIOL_ACCOUNTING "@what on free frame").
 */
struct mmn_page *mmn__page_ref_target(struct mmn_sim *sim, unsigned long *pfn, const char *what,
				      int *err);
/* Mapcount changes (page_add_*_rmap / page_remove_rmap) on the compound head. */
void mmn_page_add_map(struct mmn_sim *sim, unsigned long pfn);
void mmn_page_remove_map(struct mmn_sim *sim, unsigned long pfn);

/*
 * The lost-write check of the oracle (a store the kernel would lose): an
 * operation that needs a page's content stable (KSM compare, migration
 * copy) marks it from the point its mappings were write-protected or
 * removed and flushed until it no longer needs it; every store into the
 * frame meanwhile (a CPU store through a stale writable TLB entry, a device
 * write) is reported as MMN_VIOL_LOST_WRITE (page.c, tlb.c). Marks the
 * compound head.
 */
void mmn_page_mark_stable(struct mmn_sim *sim, unsigned long pfn);
void mmn_page_clear_stable(struct mmn_sim *sim, unsigned long pfn);
/* Whether a secondary (device) store into @pfn now is a lost write
 * (reported if so): held stable, or write-protected by fork's window
 * (MMN_PG_FORK_WP). */
bool mmn_page_check_store(struct mmn_sim *sim, unsigned long pfn, unsigned long addr);
/* The two halves, for stores made under a raw lock (tlb.c): test, then
 * report once the lock is dropped. */
static inline bool mmn_page_is_stable(const struct mmn_sim *sim, unsigned long pfn)
{
	return atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->flags,
				    memory_order_relaxed) & MMN_PG_STABLE;
}
void mmn_page_report_lost_write(struct mmn_sim *sim, unsigned long pfn, unsigned long addr);

/*
 * The folio lock (folio.c): PG_locked, a sleeping bit lock; waiters sleep
 * on the pool's folio_wq. The caller holds a reference on the frame.
 * mmn_wait_on_page_locked() is folio_wait_locked() (migration_entry_wait(),
 * the swap-in of a page still being reclaimed).
 */
void mmn_lock_page(struct mmn_sim *sim, unsigned long pfn);
bool mmn_trylock_page(struct mmn_sim *sim, unsigned long pfn);
void mmn_unlock_page(struct mmn_sim *sim, unsigned long pfn);
void mmn_wait_on_page_locked(struct mmn_sim *sim, unsigned long pfn);

/*
 * The swap area (swap.c): a slot keeps one page's content word while no
 * frame holds it. @count counts the swap entries (MMN_SWP_SWAP) and shmem
 * swapped[] references naming the slot; @pfn is the page still being
 * reclaimed ("in the swap cache"), 0 once its content was written out.
 */
struct mmn_swap_slot {
	uint64_t content;
	unsigned long pfn;
	unsigned long count;
};
/* get_swap_page()/folio_alloc_swap(): a slot for @pfn (count 0), or 0. */
unsigned long mmn_swap_alloc(struct mmn_sim *sim, unsigned long pfn);
/* swap_duplicate(): one more entry names @slot. */
void mmn_swap_dup(struct mmn_sim *sim, unsigned long slot);
/* swap_free(): one entry fewer; the slot is released at 0 once written. */
void mmn_swap_free(struct mmn_sim *sim, unsigned long slot);
/* swap_writepage() + delete_from_swap_cache(): the content is on "disk". */
void mmn_swap_writeback(struct mmn_sim *sim, unsigned long slot, uint64_t content);
/* A snapshot of @slot: content and the page still in the swap cache (0 if none). */
void mmn_swap_read(struct mmn_sim *sim, unsigned long slot, uint64_t *content,
		   unsigned long *cache_pfn);
void mmn_swap_sim_fini(struct mmn_sim *sim);

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
	/* hugetlb PMD table another mm shared at some point (hugetlb.c); the
	 * share count is the frame's refcount. */
	_Atomic bool pmd_shared;
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
	/* What the inline hit read of mmnsim/inline.h needs without
	 * arithmetic: the frame's struct (the head's for a 2 MiB entry) and
	 * the generation of val, written with them by every fill. */
	_Atomic(struct mmn_page *) page;
	_Atomic uint32_t gen;
	uint32_t pad;
};

/* The tag bits of @id's TLB entries (vpn 0): valid bit | id << 36. */
static inline uint64_t mmn__tlb_mm_tag(unsigned int id)
{
	return (1ULL << 63) | ((uint64_t)id << 36);
}
/* mm->tlb_tag once the last user is gone: no entry carries it. */
#define MMN__TLB_TAG_DEAD (~0ULL)

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

/*
 * Load or store through CPU @cpu's TLB: a hit, else a page walk that fills
 * the TLB. -EAGAIN when no usable translation was found: the caller runs the
 * fault handler and retries with mmn__tlb_access_walk() (lib/ops/memory.c).
 */
int mmn_tlb_access(struct mmn_mm *mm, int cpu, unsigned long addr, bool write, uint64_t *val);
int mmn__tlb_access_walk(struct mmn_mm *mm, int cpu, unsigned long addr, bool write,
			uint64_t *val);
/* arch_tlbbatch_flush() for @mm: its CPU entries only, no secondary flush. */
void mmn__tlbbatch_flush_mm(struct mmn_mm *mm);

/*
 * The secondary-TLB hook: called with the CPU flush (@arch: 6.6+
 * arch_invalidate_secondary_tlbs) or from the gather's tlbonly flush
 * (!@arch: the 3.19-6.5 ->invalidate_range), as the profile says. lib/notifier
 * registers its flush walk with its first subscriptions.
 */

/* ------------------------------------------------------------------ */
/* mm and VMAs (lib/mm/mm.c)                                           */
/* ------------------------------------------------------------------ */

/* vm_flags. */
#define MMN_VM_READ 0x1UL
#define MMN_VM_WRITE 0x2UL
#define MMN_VM_SHARED 0x8UL
/* Registered with a userfaultfd in write-protect mode (VM_UFFD_WP, 5.7+). */
#define MMN_VM_UFFD_WP 0x1000UL
#define MMN_VM_HUGETLB 0x400000UL
/* THP eligibility (madvise MADV_HUGEPAGE / MADV_NOHUGEPAGE; lib/ops/thp.c). */
#define MMN_VM_HUGEPAGE 0x20000000UL
#define MMN_VM_NOHUGEPAGE 0x40000000UL

/* A shared memory object (shmem inode / hugetlbfs file), shared by the
 * VMAs that map it and by fork. Holds one reference on each page it caches. */
/* An intrusive doubly linked list (list_head). */
struct mmn_list_head {
	struct mmn_list_head *next, *prev;
};

struct mmn_shmem {
	_Atomic int refcount;
	struct mmn_raw_lock lock;       /* the page-cache (i_pages) lock */
	bool huge;                      /* hugetlbfs: 2 MiB pages */
	unsigned long nr_slots;         /* pages (or huge pages) it can hold */
	unsigned long *slots;           /* pfn per slot, 0 if not present */
	unsigned long *swapped;         /* swap slot per slot of a reclaimed page, 0 if none */
	/* mapping->i_mmap and i_mmap_rwsem (rmap.c): the VMAs mapping it. */
	struct mmn_rwsem i_mmap_rwsem;
	struct mmn_list_head i_mmap;
	/* A regular file with writeback (struct mmn_file, lib/ops/filemap.c):
	 * its blocks ("disk", one content word per page; NULL for shmem and
	 * hugetlbfs objects), i_size in pages, and its simulation. */
	uint64_t *disk;
	_Atomic unsigned long size;
	struct mmn_sim *sim;
	/* mapping->invalidate_lock (not in 5.14, in 5.19 mm/filemap.c; ext4's
	 * i_mmap_sem played the part before, as in 5.14 fs/ext4/inode.c):
	 * truncate and hole punching hold it for write; the faults that could
	 * map a page being removed hold it for read (lib/ops/filemap.c,
	 * truncate.c). Modelled in every profile. */
	struct mmn_rwsem invalidate_lock;
};

/*
 * struct anon_vma (rmap.c), simplified: one per private mapping, shared by
 * the VMAs split from it and by the VMAs fork copies from them (the kernel
 * gives each child its own anon_vma chained to the parent's, so that pages
 * COWed in the child are not searched in the parent; here every page of the
 * family searches every VMA of the family, and the walk skips the VMAs
 * whose entry maps another frame). Anonymous pages point at it
 * (page->mapping) and hold a reference on it.
 */
struct mmn_anon_vma {
	_Atomic int refcount;           /* VMAs and anonymous pages using it */
	struct mmn_rwsem rwsem;
	struct mmn_list_head vmas;      /* under rwsem */
};

struct mmn_vma {
	unsigned long start, end;
	unsigned long vm_flags;
	struct mmn_mm *mm;
	struct mmn_shmem *file;         /* shared mappings */
	/* Page offset of start: in @file, or for private memory its linear
	 * page index (start >> 12 at mmap, kept by splits and fork), so that
	 * an anonymous page's index names its address in every VMA. */
	unsigned long pgoff;
	struct mmn_anon_vma *anon_vma;  /* private mappings (a reference) */
	struct mmn_list_head rmap_link; /* in anon_vma->vmas or file->i_mmap */
	/* vm_userfaultfd_ctx: the userfaultfd the VMA is registered with
	 * (lib/ops/userfaultfd.c), or NULL; copied by splits, cleared by fork. */
	struct mmn_uffd *uffd;
};

struct mmn_notifier_subscriptions;

struct mmn_mm {
	struct mmn_sim *sim;
	unsigned int id;
	_Atomic int mm_users;
	_Atomic int mm_count;
	/* mmn__tlb_mm_tag(id) while mm_users > 0, MMN__TLB_TAG_DEAD after:
	 * the inline TLB read (mmnsim/inline.h) compares through it, so a
	 * dead mm never hits there. */
	_Atomic uint64_t tlb_tag;
	struct mmn_rwsem mmap_lock;
	struct mmn_spinlock page_table_lock;
	/* mm->write_protect_seq (5.9+): odd while fork write-protects. */
	struct mmn_seqcount write_protect_seq;
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
	/* The notifier's fast path (lib/notifier, mmn_notifier_fast_stats()):
	 * unchecked starts and ends, and ends excused by them. Relaxed
	 * counters, also written by the inline wrappers of mmnsim/inline.h. */
	unsigned long notifier_fast_starts, notifier_fast_ends, notifier_excused;
	struct mmn_mm *next;            /* sim->mm_list */
};

/*
 * A NULL mm, or one the last mmn_mm_put() tore down (mm_users 0, the struct
 * kept allocated by an mmgrab()): every public operation taking an mm refuses
 * it with -EINVAL. The kernel's callers hold an mm_users reference (mmget,
 * or mmget_not_zero() for a remote mm) for the same reason. One relaxed
 * load: never a scheduling point, so valid runs keep their schedules.
 */
static inline bool mmn__mm_dead(const struct mmn_mm *mm)
{
	return !mm || atomic_load_explicit(&mm->mm_users, memory_order_relaxed) <= 0;
}

extern const struct mmn_lock_class mmn_mmap_lock_class;
extern const struct mmn_lock_class mmn_page_table_lock_class;
extern const struct mmn_lock_class mmn_ptl_class;

/* The VMA containing @addr, or NULL. Under mmap_lock (not asserted: the
 * public mmn_handle_mm_fault() may reach it unlocked, and tests do). */
struct mmn_vma *mmn_vma_lookup(struct mmn_mm *mm, unsigned long addr);
/* Index of the first VMA ending above @addr (nr_vmas if none). */
int mmn_vma_first_above(struct mmn_mm *mm, unsigned long addr);
void mmn_shmem_put(struct mmn_sim *sim, struct mmn_shmem *f);
/* A new shared object of @len bytes (shmem_file_setup() / hugetlbfs), or NULL. */
struct mmn_shmem *mmn__shmem_create(struct mmn_sim *sim, unsigned long len, bool huge);
/* __mmdrop() body: unlist @mm and free it (subscriptions, PGD, VMAs). */
void mmn__mm_free(struct mmn_mm *mm);
/*
 * mm_users += @delta unless the mm is torn down (no user left: reviving it
 * or putting it again is reported as @what, "mmget()" or "mmput()", and
 * refused). Returns the count before, 0 when refused.
 */
int mmn__mm_users_add(struct mmn_mm *mm, int delta, const char *what);
/* The hook __mmdrop() calls to free mm->notifier_subscriptions when set
 * (mmu_notifier_subscriptions_destroy()); lib/notifier registers it. */
/* Whether any VMA overlaps [start, end). */
bool mmn__vma_overlaps(struct mmn_mm *mm, unsigned long start, unsigned long end);
/* Room for @extra more VMAs in the array: 0 or -ENOMEM. */
int mmn__vma_reserve(struct mmn_mm *mm, int extra);
/* vma_link(): rmap link and array insertion of a new VMA (slot reserved). */
void mmn__vma_link(struct mmn_mm *mm, struct mmn_vma *vma);
/* A PMD-level leaf that is a mapping: a present 2 MiB leaf or a PROT_NONE one. */
static inline bool mmn_pmd_mapped_leaf(mmn_pte_t e)
{
	return (e & MMN_PTE_HUGE) && mmn_pte_mapped(e);
}
/*
 * The VMAs __split_vma() must cut to isolate [start, end): *@lo contains
 * @start and begins below it, *@hi contains @end - 1 and ends above @end
 * (NULL where no cut is needed). -EINVAL when a cut would take a hugetlb
 * VMA off its 2 MiB alignment (hugetlb_vm_op_split()).
 */
int mmn__vma_split_edges(struct mmn_mm *mm, unsigned long start, unsigned long end,
			 struct mmn_vma **lo, struct mmn_vma **hi);
/*
 * Split the VMAs straddling @start and @end there (__split_vma() at both
 * edges), all or nothing. Caller holds mmap_lock for write and split the
 * THPs straddling the edges first (vma_adjust_trans_huge(): the callers in
 * lib/ops do). 0, -EINVAL when an edge would cut a hugetlb VMA off its
 * 2 MiB alignment, -ENOMEM.
 */
int mmn_vma_split_range(struct mmn_mm *mm, unsigned long start, unsigned long end);
/*
 * The VMA half of do_vmi_munmap(): split at the edges of [start, end) (as
 * mmn_vma_split_range()) and take the VMAs inside off the array into a new
 * array *@detached. Returns their number (0: none, *@detached NULL) or
 * -errno, nothing changed. Caller holds mmap_lock for write.
 */
int mmn__vma_detach_range(struct mmn_mm *mm, unsigned long start, unsigned long end,
			  struct mmn_vma ***detached);
/*
 * Insert a new VMA [start, end) with @tmpl's flags and file (a reference is
 * taken) and page offset @pgoff (vma_merge()/copy_vma() without merging).
 * Caller holds mmap_lock for write and made sure the range is free.
 * 0 or -ENOMEM.
 */
int mmn_vma_insert_copy(struct mmn_mm *mm, const struct mmn_vma *tmpl, unsigned long start,
			unsigned long end, unsigned long pgoff);
/* get_unmapped_area() without a hint: a free range of @len aligned to
 * @align, or 0. Caller holds mmap_lock. */
unsigned long mmn_get_unmapped_area(struct mmn_mm *mm, unsigned long len, unsigned long align);
/* The same, returning @hint itself when it is aligned and free. */
unsigned long mmn__get_unmapped_area(struct mmn_mm *mm, unsigned long hint, unsigned long len,
				     unsigned long align);

/* ------------------------------------------------------------------ */
/* Reverse mapping (lib/mm/rmap.c)                                      */
/* ------------------------------------------------------------------ */

extern const struct mmn_lock_class mmn_anon_vma_class;
extern const struct mmn_lock_class mmn_i_mmap_class;
extern const struct mmn_lock_class mmn_invalidate_lock_class;

/* anon_vma_alloc(): refcount 1 (for the VMA that will hold it), or NULL. */
struct mmn_anon_vma *mmn_anon_vma_alloc(struct mmn_sim *sim);
void mmn_anon_vma_get(struct mmn_anon_vma *av);
void mmn_anon_vma_put(struct mmn_anon_vma *av);
/* Shared-object rmap state (i_mmap), from shmem creation/destruction. */
void mmn_shmem_rmap_init(struct mmn_sim *sim, struct mmn_shmem *f);
void mmn_shmem_rmap_fini(struct mmn_shmem *f);
/*
 * Put @vma on its anon_vma's or file's list (anon_vma_link()/
 * vma_interval_tree_insert()), under the rmap lock for write. For a VMA
 * that is a struct copy of another (split, fork), mmn_vma_rmap_dup() also
 * takes the anon_vma reference the copy holds (the file reference is the
 * caller's business, as before). Cannot fail.
 */
void mmn_vma_rmap_link(struct mmn_vma *vma);
void mmn_vma_rmap_dup(struct mmn_vma *vma);
/* unlink_anon_vmas()/unlink_file_vma(): off the list (idempotent). Must
 * precede freeing the page tables of the VMA's range. */
void mmn_vma_rmap_unlink(struct mmn_vma *vma);
/* Before freeing a VMA: unlink and drop its anon_vma reference. */
void mmn_vma_rmap_release(struct mmn_vma *vma);
/* Anonymous page @pfn (head) now belongs to @vma at @addr:
 * page->mapping = anon_vma (a reference), page->index = linear index. */
void mmn_page_set_anon_rmap(struct mmn_sim *sim, unsigned long pfn, struct mmn_vma *vma,
			    unsigned long addr);
/* The address page index @index has in @vma (for shmem: small-page index),
 * or -1UL if outside it. */
unsigned long mmn_vma_address(const struct mmn_vma *vma, unsigned long index);
/* The small-page index of @pfn's head, as mmn_vma_address() wants it. */
unsigned long mmn_page_rmap_index(struct mmn_sim *sim, unsigned long pfn);

/*
 * rmap_walk() → rmap_walk_anon()/rmap_walk_file(): call @fn(vma, address,
 * @arg) for every VMA that may map page @pfn, with the anon_vma lock or
 * i_mmap_rwsem held for read; @fn returns false to stop the walk. The
 * caller holds a reference on the page (and usually its lock); @fn must
 * check under the PTL that the entry really maps the page.
 * @return 0, -EINVAL for a page without reverse mapping (zero page, free,
 *         page table, KSM page: rmap_walk_ksm is not modelled).
 */
typedef bool (*mmn_rmap_one_fn)(struct mmn_vma *vma, unsigned long addr, void *arg);
int mmn_rmap_walk(struct mmn_sim *sim, unsigned long pfn, mmn_rmap_one_fn fn, void *arg);

/* mm_take_all_locks()/mm_drop_all_locks() (lib/mm/rmap.c): every rmap lock
 * of @mm's VMAs for write; mmap_lock held for write. -ENOMEM: none taken. */
struct mmn_all_locks {
	struct mmn_rwsem **locks;
	int n;
};
int mmn__mm_take_all_locks(struct mmn_mm *mm, struct mmn_all_locks *all);
void mmn__mm_drop_all_locks(struct mmn_all_locks *all);

/* ------------------------------------------------------------------ */
/* Device pagemaps (lib/mm/memremap.c)                                  */
/* ------------------------------------------------------------------ */

struct mmn_devmem_pool {
	unsigned int id;              /* slot in the registry, page->pgmap_id */
	unsigned long nr_pages;
	unsigned long *pfns;          /* every page of the pagemap */
	unsigned long *free;          /* idle pages (LIFO) */
	unsigned long nr_free;
	struct mmn_raw_lock lock;
	_Atomic unsigned long migrate_to_ram_calls;
};

/* page->pgmap: the pagemap of device-private page @pfn. */
struct mmn_dev_pagemap *mmn__devmem_pgmap_of(struct mmn_sim *sim, unsigned long pfn);
/* An idle device page with refcount 1 (flags DEVICE_PRIVATE | ANON), or 0. */
unsigned long mmn__devmem_alloc_page(struct mmn_dev_pagemap *pgmap);
/* free_zone_device_folio(): a device-private page's last put returns it to
 * its pgmap (page.c). */
void mmn_devmem_page_free(struct mmn_sim *sim, unsigned long pfn);

/* ------------------------------------------------------------------ */
/* hugetlb PMD sharing (lib/mm/hugetlb.c)                               */
/* ------------------------------------------------------------------ */

/* vma_shareable(): shared hugetlb VMA spanning the PUD-aligned area of @addr. */
bool mmn_hugetlb_vma_shareable(const struct mmn_vma *vma, unsigned long addr);
/* huge_pte_alloc(): the PMD table for @addr, sharing another mm's table
 * (huge_pmd_share()) when possible. Caller holds mmap_lock and, for a
 * shareable VMA, i_mmap_rwsem for read (mmn_hugetlb_share_lock()). */
struct mmn_ptdesc *mmn_huge_pte_alloc(struct mmn_mm *mm, struct mmn_vma *vma,
				      unsigned long addr, int *err);
/* i_mmap_rwsem of a shared hugetlb VMA's object; false (nothing taken)
 * for any other VMA. */
bool mmn_hugetlb_share_lock(struct mmn_vma *vma, bool write);
void mmn_hugetlb_share_unlock(struct mmn_vma *vma, bool write);
/* Drop one share of PMD table @pmdt if others share it (refcount > 1). */
bool mmn_pmd_table_drop_share(struct mmn_sim *sim, struct mmn_ptdesc *pmdt);
/* huge_pmd_unshare(): if @mm's PUD entry for @addr points at @pmdt and the
 * table is shared, clear the entry and drop the share. Caller holds
 * i_mmap_rwsem and @pmdt->ptl, and flushes the PUD range (TLB) afterwards.
 * Returns the 4 KiB mappings this mm lost (0: not shared, nothing done). */
unsigned long mmn_huge_pmd_unshare(struct mmn_mm *mm, struct mmn_vma *vma, unsigned long addr,
				   struct mmn_ptdesc *pmdt);
/* __unmap_hugepage_range() of a hugetlb VMA (mmn_zap_vma_range()). */
unsigned long mmn_hugetlb_zap_range(struct mmn_mmu_gather *tlb, struct mmn_vma *vma,
				    unsigned long start, unsigned long end);

/* ------------------------------------------------------------------ */
/* NUMA nodes (lib/mm/numa.c)                                           */
/* ------------------------------------------------------------------ */

/* The node of small frame @pfn (memory is split into equal pfn ranges) and
 * of CPU @cpu; 0 with one node. */
unsigned int mmn__pfn_nid(const struct mmn_sim *sim, unsigned long pfn);
unsigned int mmn__cpu_nid(const struct mmn_sim *sim, int cpu);
unsigned int mmn__nr_nodes(const struct mmn_sim *sim);
/* alloc_pages_node(): a free small frame of node @nid (the most recently
 * freed one of that node), prepared as mmn_alloc_page() does, or 0. */
unsigned long mmn__alloc_page_node(struct mmn_sim *sim, unsigned int flags, unsigned int nid);

#endif /* MMN_LIB_MM_INTERNAL_H */
