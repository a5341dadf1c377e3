// SPDX-License-Identifier: MIT
/*
 * Reverse mapping (mm/rmap.c): from a page to the VMAs that may map it.
 *
 * Anonymous pages point at their VMA's anon_vma (page->mapping) and carry
 * their linear page index (page->index); shmem and hugetlbfs pages point at
 * their object, whose i_mmap list holds the VMAs mapping it. rmap_walk()
 * visits those VMAs under the anon_vma lock or i_mmap_rwsem held for read,
 * at the address the page's index has in each.
 *
 * Simplification (documented in mm_internal.h): one anon_vma per private
 * mapping family. Splits and fork put the new VMA on the same anon_vma
 * (the kernel links a child's VMA to the parent's anon_vma through an
 * anon_vma_chain and gives it an anon_vma of its own for the pages it COWs);
 * a walk may therefore visit VMAs that cannot map the page, which the
 * callbacks rule out by checking the entry under the PTL, as
 * page_vma_mapped_walk() does.
 *
 * Lifetime, as the kernel's: a VMA leaves its list (under the lock for
 * write) before the page tables of its range are freed, so a walker holding
 * the lock for read may walk them; the walker holds a reference on the page,
 * which holds one on its anon_vma, and takes one of its own on the anon_vma
 * or object for the duration of the walk.
 */
#include <stdlib.h>

#include "mm/mm_internal.h"

const struct mmn_lock_class mmn_anon_vma_class = {
	.name = "anon_vma", .rank = MMN_RANK_ANON_VMA
};
const struct mmn_lock_class mmn_i_mmap_class = {
	.name = "i_mmap_rwsem", .rank = MMN_RANK_I_MMAP
};

static void list_init(struct mmn_list_head *h)
{
	h->next = h->prev = h;
}

static void list_add_tail(struct mmn_list_head *n, struct mmn_list_head *h)
{
	n->prev = h->prev;
	n->next = h;
	h->prev->next = n;
	h->prev = n;
}

static void list_del(struct mmn_list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
	n->next = n->prev = NULL;
}

/* anon_vma_alloc(), all versions. */
struct mmn_anon_vma *mmn_anon_vma_alloc(struct mmn_sim *sim)
{
	struct mmn_anon_vma *av = calloc(1, sizeof(*av));

	if (!av)
		return NULL;
	atomic_init(&av->refcount, 1);
	mmn_rwsem_init(&av->rwsem, sim, &mmn_anon_vma_class, "anon_vma");
	list_init(&av->vmas);
	return av;
}

void mmn_anon_vma_get(struct mmn_anon_vma *av)
{
	atomic_fetch_add_explicit(&av->refcount, 1, memory_order_relaxed);
}

/* put_anon_vma(): the last reference frees it (no VMA and no page left). */
void mmn_anon_vma_put(struct mmn_anon_vma *av)
{
	if (!av || atomic_fetch_sub_explicit(&av->refcount, 1, memory_order_acq_rel) != 1)
		return;
	mmn_rwsem_destroy(&av->rwsem);
	free(av);
}

/* Between mmap_lock and the folio lock (filemap_fault() takes it under
 * mmap_lock, truncation takes folio locks under it). */
const struct mmn_lock_class mmn_invalidate_lock_class = {
	.name = "invalidate_lock", .rank = (MMN_RANK_MMAP_LOCK + MMN_RANK_FOLIO_LOCK) / 2
};

void mmn_shmem_rmap_init(struct mmn_sim *sim, struct mmn_shmem *f)
{
	mmn_rwsem_init(&f->i_mmap_rwsem, sim, &mmn_i_mmap_class, "i_mmap_rwsem");
	mmn_rwsem_init(&f->invalidate_lock, sim, &mmn_invalidate_lock_class, "invalidate_lock");
	list_init(&f->i_mmap);
}

void mmn_shmem_rmap_fini(struct mmn_shmem *f)
{
	mmn_rwsem_destroy(&f->invalidate_lock);
	mmn_rwsem_destroy(&f->i_mmap_rwsem);
}

static struct mmn_rwsem *vma_rmap_lock(struct mmn_vma *vma, struct mmn_list_head **head)
{
	if (vma->file) {
		*head = &vma->file->i_mmap;
		return &vma->file->i_mmap_rwsem;
	}
	if (vma->anon_vma) {
		*head = &vma->anon_vma->vmas;
		return &vma->anon_vma->rwsem;
	}
	return NULL;
}

void mmn_vma_rmap_link(struct mmn_vma *vma)
{
	struct mmn_list_head *head;
	struct mmn_rwsem *lock = vma_rmap_lock(vma, &head);

	vma->rmap_link.next = vma->rmap_link.prev = NULL;
	if (!lock)
		return;
	mmn_down_write(lock);
	list_add_tail(&vma->rmap_link, head);
	mmn_up_write(lock);
}

void mmn_vma_rmap_dup(struct mmn_vma *vma)
{
	if (!vma->file && vma->anon_vma)
		mmn_anon_vma_get(vma->anon_vma);
	mmn_vma_rmap_link(vma);
}

void mmn_vma_rmap_unlink(struct mmn_vma *vma)
{
	struct mmn_list_head *head;
	struct mmn_rwsem *lock = vma_rmap_lock(vma, &head);

	if (!lock || !vma->rmap_link.next)
		return;
	mmn_down_write(lock);
	list_del(&vma->rmap_link);
	mmn_up_write(lock);
}

void mmn_vma_rmap_release(struct mmn_vma *vma)
{
	mmn_vma_rmap_unlink(vma);
	if (!vma->file && vma->anon_vma) {
		mmn_anon_vma_put(vma->anon_vma);
		vma->anon_vma = NULL;
	}
}

/* folio_add_new_anon_rmap()'s __folio_set_anon(): mapping and index. */
void mmn_page_set_anon_rmap(struct mmn_sim *sim, unsigned long pfn, struct mmn_vma *vma,
			    unsigned long addr)
{
	struct mmn_page *p = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));

	if (vma->anon_vma)
		mmn_anon_vma_get(vma->anon_vma);
	p->mapping = vma->anon_vma;
	p->index = vma->pgoff + ((addr - vma->start) >> MMN_PAGE_SHIFT);
}

/* vma_address(): where page index @index sits in @vma, or -1UL. */
unsigned long mmn_vma_address(const struct mmn_vma *vma, unsigned long index)
{
	unsigned long addr;

	if (index < vma->pgoff)
		return -1UL;
	addr = vma->start + ((index - vma->pgoff) << MMN_PAGE_SHIFT);
	if (addr < vma->start || addr >= vma->end)
		return -1UL;
	return addr;
}

/* The small-page index of a page: hugetlbfs objects count in huge pages. */
unsigned long mmn_page_rmap_index(struct mmn_sim *sim, unsigned long pfn)
{
	const struct mmn_page *p = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));
	unsigned int flags = atomic_load_explicit(&p->flags, memory_order_acquire);

	if ((flags & MMN_PG_SHMEM) && (flags & MMN_PG_HEAD))
		return p->index << (MMN_PMD_SHIFT - MMN_PAGE_SHIFT);
	return p->index;
}

/* rmap_walk() → rmap_walk_anon() / rmap_walk_file(), all versions. */
int mmn_rmap_walk(struct mmn_sim *sim, unsigned long pfn, mmn_rmap_one_fn fn, void *arg)
{
	struct mmn_page *p;
	struct mmn_anon_vma *av = NULL;
	struct mmn_shmem *f = NULL;
	struct mmn_list_head *head, *n;
	struct mmn_rwsem *lock;
	unsigned long index;
	unsigned int flags;

	if (!sim || !fn || !mmn_pfn_valid(sim, pfn) || pfn == MMN_ZERO_PFN)
		return -EINVAL;
	pfn = mmn_compound_head(sim, pfn);
	p = mmn_pfn_to_page(sim, pfn);
	flags = atomic_load_explicit(&p->flags, memory_order_acquire);
	if ((flags & (MMN_PG_FREE | MMN_PG_TABLE | MMN_PG_KSM)) || !p->mapping)
		return -EINVAL;
	index = mmn_page_rmap_index(sim, pfn);
	if (flags & MMN_PG_ANON) {
		/* folio_lock_anon_vma_read() */
		av = p->mapping;
		mmn_anon_vma_get(av);
		lock = &av->rwsem;
		head = &av->vmas;
	} else if (flags & MMN_PG_SHMEM) {
		/* i_mmap_lock_read() */
		f = p->mapping;
		atomic_fetch_add_explicit(&f->refcount, 1, memory_order_relaxed);
		lock = &f->i_mmap_rwsem;
		head = &f->i_mmap;
	} else {
		return -EINVAL;
	}
	mmn_down_read(lock);
	for (n = head->next; n != head; n = n->next) {
		struct mmn_vma *vma = mmn_container_of(n, struct mmn_vma, rmap_link);
		unsigned long addr = mmn_vma_address(vma, index);

		if (addr == -1UL)
			continue;
		if (!fn(vma, addr, arg))
			break;
	}
	mmn_up_read(lock);
	if (av)
		mmn_anon_vma_put(av);
	else
		mmn_shmem_put(sim, f);
	return 0;
}

/* Whether @lock is already among the @n first of @locks. */
static bool locks_have(struct mmn_rwsem *const *locks, int n, const struct mmn_rwsem *lock)
{
	for (int i = 0; i < n; i++)
		if (locks[i] == lock)
			return true;
	return false;
}

/*
 * mm_take_all_locks() (mm/mmap.c up to 6.x, mm/vma.c in 6.19): with
 * mmap_lock held for write, every i_mmap_rwsem of the mm's file VMAs, then
 * every anon_vma lock, each once, for write (nested under mmap_lock). An
 * rmap walker holds one of them for read across its start..end of a mapping
 * of this mm, so the holder of them all is never inside such a bracket.
 */
int mmn__mm_take_all_locks(struct mmn_mm *mm, struct mmn_all_locks *all)
{
	all->n = 0;
	all->locks = calloc(mm->nr_vmas ? (size_t)mm->nr_vmas : 1, sizeof(*all->locks));
	if (!all->locks)
		return -ENOMEM;
	for (int pass = 0; pass < 2; pass++) {
		for (int i = 0; i < mm->nr_vmas; i++) {
			struct mmn_vma *vma = mm->vmas[i];
			struct mmn_list_head *head;
			struct mmn_rwsem *lock = vma_rmap_lock(vma, &head);

			/* i_mmap_rwsem first, anon_vma second, as the kernel. */
			if (!lock || (pass == 0) != !!vma->file || locks_have(all->locks, all->n, lock))
				continue;
			mmn_down_write_nest_lock(lock, &mm->mmap_lock);
			all->locks[all->n++] = lock;
		}
	}
	return 0;
}

/* mm_drop_all_locks(). */
void mmn__mm_drop_all_locks(struct mmn_all_locks *all)
{
	while (all->n > 0)
		mmn_up_write(all->locks[--all->n]);
	free(all->locks);
	all->locks = NULL;
}
