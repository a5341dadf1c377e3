// SPDX-License-Identifier: MIT
/*
 * Frames: the page allocator and struct page reference counting.
 *
 * Models alloc_page()/put_page()/get_page() (all versions) with the two
 * properties the oracle relies on: a generation bumped on every free, and
 * LIFO re-use of freed frames (as the per-CPU free lists hand out the most
 * recently freed, cache-hot page first), so that a stale translation hits a
 * frame that already belongs to someone else.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/mm_internal.h"

/* A free frame: generation 1, every other field zero. */
static const struct mmn_page page_free_tmpl = { .gen = 1, .flags = MMN_PG_FREE };

int mmn_page_sim_init(struct mmn_sim *sim)
{
	struct mmn_frame_pool *pool;
	unsigned long total;

	pool = calloc(1, sizeof(*pool));
	if (!pool)
		return -ENOMEM;
	pool->nr_frames = sim->cfg.nr_frames;
	pool->nr_huge = sim->cfg.nr_huge_pages;
	total = pool->nr_frames + pool->nr_huge * MMN_HPAGE_NR;
	/* Not calloc(): the loop below writes every frame once, whole. */
	pool->pages = malloc(total * sizeof(*pool->pages));
	pool->free_stack = malloc(pool->nr_frames * sizeof(*pool->free_stack));
	pool->huge_free_stack = malloc((pool->nr_huge + 1) * sizeof(*pool->huge_free_stack));
	if (!pool->pages || !pool->free_stack || !pool->huge_free_stack) {
		free(pool->pages);
		free(pool->free_stack);
		free(pool->huge_free_stack);
		free(pool);
		return -ENOMEM;
	}
	mmn_raw_lock_init(&pool->lock);
	mmn_waitqueue_init(&pool->folio_wq, sim, "folio_wait_table");
	mmn_raw_lock_init(&pool->swap_lock);
	for (unsigned long pfn = 0; pfn < total; pfn++)
		memcpy(&pool->pages[pfn], &page_free_tmpl, sizeof(page_free_tmpl));
	/* The zero page: reserved, never on the free list. */
	atomic_init(&pool->pages[MMN_ZERO_PFN].flags, MMN_PG_ZERO);
	atomic_init(&pool->pages[MMN_ZERO_PFN].refcount, 1);
	/* Push in descending order so the first allocations get low pfns. */
	for (unsigned long pfn = pool->nr_frames - 1; pfn > MMN_ZERO_PFN; pfn--)
		pool->free_stack[pool->nr_free++] = (uint32_t)pfn;
	for (unsigned long h = pool->nr_huge; h > 0; h--)
		pool->huge_free_stack[pool->nr_huge_free++] = (uint32_t)(h - 1);
	sim->pool = pool;
	return 0;
}

void mmn_page_sim_fini(struct mmn_sim *sim)
{
	struct mmn_frame_pool *pool = sim->pool;

	if (!pool)
		return;
	/* Page-table pages carry a host allocation (none left, the common
	 * case after exit_mmap(): pgtables counts them, no walk). */
	if (atomic_load_explicit(&pool->pgtables, memory_order_relaxed) > 0)
		for (unsigned long pfn = 0; pfn < pool->nr_frames; pfn++)
			if (atomic_load(&pool->pages[pfn].flags) & MMN_PG_TABLE)
				free(pool->pages[pfn].mapping);
	mmn_swap_sim_fini(sim);
	mmn_waitqueue_destroy(&pool->folio_wq);
	mmn_raw_lock_destroy(&pool->lock);
	free(pool->pages);
	free(pool->free_stack);
	free(pool->huge_free_stack);
	free(pool);
	sim->pool = NULL;
}

void mmn__page_prep_new(struct mmn_page *p, unsigned int flags)
{
	atomic_store_explicit(&p->refcount, 1, memory_order_relaxed);
	atomic_store_explicit(&p->mapcount, 0, memory_order_relaxed);
	atomic_store_explicit(&p->pincount, 0, memory_order_relaxed);
	atomic_store_explicit(&p->content, 0, memory_order_relaxed);
	p->mapping = NULL;
	p->index = 0;
	/* Release: whoever finds the frame through a PTE sees it initialised. */
	atomic_store_explicit(&p->flags, flags, memory_order_release);
}

unsigned long mmn_alloc_page(struct mmn_sim *sim, unsigned int flags)
{
	struct mmn_frame_pool *pool;
	unsigned long pfn = 0;

	/* A frame born free, or a second zero page, is no frame at all. */
	if (!sim || (flags & (MMN_PG_FREE | MMN_PG_ZERO)))
		return 0;
	pool = sim->pool;
	mmn_raw_lock(&pool->lock);
	if (pool->nr_free)
		pfn = pool->free_stack[--pool->nr_free];
	mmn_raw_unlock(&pool->lock);
	if (!pfn)
		return 0;
	mmn__page_prep_new(&pool->pages[pfn], flags);
	atomic_fetch_add_explicit(&pool->allocated, 1, memory_order_relaxed);
	return pfn;
}

unsigned long mmn_alloc_huge_page(struct mmn_sim *sim, unsigned int flags)
{
	struct mmn_frame_pool *pool = sim->pool;
	unsigned long head;
	bool found = false;
	uint32_t idx = 0;

	mmn_raw_lock(&pool->lock);
	if (pool->nr_huge_free) {
		idx = pool->huge_free_stack[--pool->nr_huge_free];
		found = true;
	}
	mmn_raw_unlock(&pool->lock);
	if (!found)
		return 0;
	head = pool->nr_frames + (unsigned long)idx * MMN_HPAGE_NR;
	for (unsigned long i = 1; i < MMN_HPAGE_NR; i++) {
		struct mmn_page *t = &pool->pages[head + i];

		atomic_store_explicit(&t->content, 0, memory_order_relaxed);
		atomic_store_explicit(&t->flags, MMN_PG_TAIL | flags, memory_order_relaxed);
	}
	mmn__page_prep_new(&pool->pages[head], MMN_PG_HEAD | flags);
	atomic_fetch_add_explicit(&pool->allocated, 1, memory_order_relaxed);
	return head;
}

/* free_unref_page(): the generation moves before the frame can be re-used. */
static void page_free(struct mmn_sim *sim, unsigned long pfn)
{
	struct mmn_frame_pool *pool = sim->pool;
	struct mmn_page *p = &pool->pages[pfn];
	unsigned int flags = atomic_load_explicit(&p->flags, memory_order_relaxed);

	mmn_sched_note_free(sim, pfn, atomic_load_explicit(&p->gen, memory_order_relaxed));
	if (mmn_unlikely(flags & MMN_PG_SECFLUSH_OWED))
		mmn_reportf(sim, MMN_VIOL_PROTOCOL, 0, pfn,
			    "frame %lu freed before the secondary-TLB flush owed since its "
			    "unmapping (the profile defers it past the PTL)", pfn);
	if (flags & MMN_PG_TABLE) {
		free(p->mapping);
		atomic_fetch_sub_explicit(&pool->pgtables, 1, memory_order_relaxed);
	} else if ((flags & MMN_PG_ANON) && p->mapping) {
		mmn_anon_vma_put(p->mapping); /* the page's anon_vma reference (rmap.c) */
	}
	p->mapping = NULL;
	atomic_fetch_add_explicit(&p->gen, 1, memory_order_release);
	if (flags & MMN_PG_DEVICE_PRIVATE) {
		/* free_zone_device_folio(): back to its pgmap, not to the pool. */
		mmn_devmem_page_free(sim, pfn);
		return;
	}
	atomic_store_explicit(&p->flags, MMN_PG_FREE, memory_order_release);
	if (flags & MMN_PG_HEAD) {
		for (unsigned long i = 1; i < MMN_HPAGE_NR; i++) {
			atomic_fetch_add_explicit(&pool->pages[pfn + i].gen, 1, memory_order_release);
			atomic_store_explicit(&pool->pages[pfn + i].flags, MMN_PG_FREE,
					      memory_order_release);
		}
	}
	mmn_raw_lock(&pool->lock);
	if (flags & MMN_PG_HEAD)
		pool->huge_free_stack[pool->nr_huge_free++] =
			(uint32_t)((pfn - pool->nr_frames) / MMN_HPAGE_NR);
	else
		pool->free_stack[pool->nr_free++] = (uint32_t)pfn;
	mmn_raw_unlock(&pool->lock);
	atomic_fetch_add_explicit(&pool->freed, 1, memory_order_relaxed);
}

static bool page_is_free(const struct mmn_page *p)
{
	return atomic_load_explicit(&p->flags, memory_order_acquire) & MMN_PG_FREE;
}

struct mmn_page *mmn__page_ref_target(struct mmn_sim *sim, unsigned long *pfn, const char *what,
				      int *err)
{
	struct mmn_page *p;

	*err = -EINVAL;
	if (!sim || !mmn_pfn_valid(sim, *pfn))
		return NULL;
	*err = 0;
	if (*pfn == MMN_ZERO_PFN)
		return NULL;
	*pfn = mmn_compound_head(sim, *pfn);
	p = mmn_pfn_to_page(sim, *pfn);
	if (what && page_is_free(p)) {
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, *pfn, "%s on free frame %lu", what, *pfn);
		*err = -ENOENT;
		return NULL;
	}
	return p;
}

int mmn_get_page(struct mmn_sim *sim, unsigned long pfn)
{
	int err;
	struct mmn_page *p = mmn__page_ref_target(sim, &pfn, "get_page()", &err);

	if (!p)
		return err;
	atomic_fetch_add_explicit(&p->refcount, 1, memory_order_relaxed);
	return 0;
}

int mmn_put_page(struct mmn_sim *sim, unsigned long pfn)
{
	int old, err;
	struct mmn_page *p = mmn__page_ref_target(sim, &pfn, "put_page()", &err);

	if (!p)
		return err;
	old = atomic_fetch_sub_explicit(&p->refcount, 1, memory_order_acq_rel);
	if (old == 1) {
		int maps = atomic_load_explicit(&p->mapcount, memory_order_relaxed);

		if (maps)
			mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, pfn,
				    "frame %lu freed while still mapped %d times", pfn, maps);
		page_free(sim, pfn);
	} else if (old <= 0) {
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, pfn, "refcount of frame %lu underflow", pfn);
	}
	return 0;
}

void mmn_page_add_map(struct mmn_sim *sim, unsigned long pfn)
{
	if (pfn == MMN_ZERO_PFN)
		return;
	atomic_fetch_add_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->mapcount, 1,
				  memory_order_relaxed);
}

void mmn_page_remove_map(struct mmn_sim *sim, unsigned long pfn)
{
	int old;

	if (pfn == MMN_ZERO_PFN)
		return;
	pfn = mmn_compound_head(sim, pfn);
	old = atomic_fetch_sub_explicit(&mmn_pfn_to_page(sim, pfn)->mapcount, 1,
					memory_order_relaxed);
	if (old <= 0)
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, 0, pfn, "mapcount of frame %lu underflow", pfn);
}

int mmn_page_info(const struct mmn_sim *sim, unsigned long pfn, struct mmn_page_info *out)
{
	const struct mmn_page *p, *head;

	if (!sim || !out || !mmn_pfn_valid(sim, pfn))
		return -EINVAL;
	p = mmn_pfn_to_page(sim, pfn);
	head = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));
	out->pfn = pfn;
	out->refcount = atomic_load(&head->refcount);
	out->mapcount = atomic_load(&head->mapcount);
	out->pincount = atomic_load(&head->pincount);
	out->flags = atomic_load(&p->flags);
	out->gen = atomic_load(&head->gen);
	out->content = atomic_load(&p->content);
	return 0;
}

uint32_t mmn_page_gen(const struct mmn_sim *sim, unsigned long pfn)
{
	if (!sim || !mmn_pfn_valid(sim, pfn))
		return 0;
	return atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->gen,
				    memory_order_acquire);
}

int mmn_phys_access(struct mmn_sim *sim, unsigned long pfn, uint32_t gen, unsigned long addr,
		    bool write, uint64_t *val)
{
	struct mmn_page *p;
	uint32_t now;

	if (!sim || !val || !mmn_pfn_valid(sim, pfn))
		return -EINVAL;
	p = mmn_pfn_to_page(sim, pfn);
	now = mmn_page_gen(sim, pfn);
	mmn_sched_event(sim, "access", "%s 0x%lx pfn %lu gen %u", write ? "write" : "read", addr, pfn, gen);
	if (now != gen) {
		struct mmn_violation v = {
			.kind = MMN_VIOL_USE_AFTER_FREE, .actor_id = -1, .addr = addr, .pfn = pfn,
			.gen_used = gen, .gen_now = now,
			.msg = write ? "secondary write to a freed frame"
				     : "secondary read of a freed frame",
		};
		mmn_report(sim, &v);
	}
	if (pfn == MMN_ZERO_PFN && write) {
		mmn_reportf(sim, MMN_VIOL_ACCOUNTING, addr, pfn, "write to the zero page");
		return 0;
	}
	if (write)
		mmn_page_check_store(sim, pfn, addr);
	if (write)
		atomic_store_explicit(&p->content, *val, memory_order_relaxed);
	else
		*val = atomic_load_explicit(&p->content, memory_order_relaxed);
	return 0;
}

void mmn_page_mark_stable(struct mmn_sim *sim, unsigned long pfn)
{
	atomic_fetch_or_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->flags,
				 MMN_PG_STABLE, memory_order_seq_cst);
}

void mmn_page_clear_stable(struct mmn_sim *sim, unsigned long pfn)
{
	atomic_fetch_and_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->flags,
				  ~MMN_PG_STABLE, memory_order_seq_cst);
}

/*
 * A store is about to change frame @pfn: if an operation holds the page
 * stable (its mappings were write-protected or removed and flushed), the
 * store comes through a translation that predates that point and its value
 * will be lost (KSM maps the other copy, migration copied the old content).
 */
void mmn_page_report_lost_write(struct mmn_sim *sim, unsigned long pfn, unsigned long addr)
{
	mmn_reportf(sim, MMN_VIOL_LOST_WRITE, addr, pfn,
		    "store to frame %lu while it is held stable (write-protected for a "
		    "compare or copy): the write is lost", pfn);
}

bool mmn_page_check_store(struct mmn_sim *sim, unsigned long pfn, unsigned long addr)
{
	/* Secondary stores only: fork's window holds pages against them. */
	if (mmn_likely(!mmn_page_is_stable(sim, pfn) &&
		       !(atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->flags,
					      memory_order_relaxed) &
			 MMN_PG_FORK_WP)))
		return false;
	mmn_page_report_lost_write(sim, pfn, addr);
	return true;
}
