// SPDX-License-Identifier: MIT
/*
 * Address spaces and VMAs: mm_struct lifetime (mm_alloc, mmget, mmgrab/mmdrop;
 * mmput() calls exit_mmap() and lives with it in lib/ops/fork.c), the VMA
 * array, __split_vma(), vma_link() and get_unmapped_area(). The operations
 * that change mappings (mmap(), munmap(), exit_mmap(), the zap) are in
 * lib/ops/mmap.c and lib/ops/memory.c.
 */
#include <stdlib.h>
#include <string.h>

#include "mm/mm_internal.h"

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
	atomic_init(&mm->tlb_tag, mmn__tlb_mm_tag(mm->id));
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

/*
 * mmget(). Reviving a torn-down mm (mm_users 0) is the bug the kernel's
 * mmget_not_zero() exists for: reported, and the count stays 0.
 */
void mmn_mm_get(struct mmn_mm *mm)
{
	if (mm)
		(void)mmn__mm_users_add(mm, 1, "mmget()");
}

/* mmget_not_zero() (2.6.34+ as atomic_inc_not_zero(&mm->mm_users)). */
bool mmn_mm_get_not_zero(struct mmn_mm *mm)
{
	int users;

	if (!mm)
		return false;
	users = atomic_load_explicit(&mm->mm_users, memory_order_relaxed);
	do {
		if (users <= 0)
			return false;
	} while (!atomic_compare_exchange_weak_explicit(&mm->mm_users, &users, users + 1,
							memory_order_acq_rel, memory_order_relaxed));
	return true;
}

int mmn__mm_users_add(struct mmn_mm *mm, int delta, const char *what)
{
	int users = atomic_load_explicit(&mm->mm_users, memory_order_relaxed);

	do {
		if (users <= 0) {
			mmn_reportf(mm->sim, MMN_VIOL_ACCOUNTING, 0, 0,
				    "%s of mm %u with no user left (torn down)", what, mm->id);
			return 0;
		}
	} while (!atomic_compare_exchange_weak_explicit(&mm->mm_users, &users, users + delta,
							memory_order_acq_rel, memory_order_relaxed));
	if (users + delta <= 0)  /* the last user: the inline TLB read stops hitting */
		atomic_store_explicit(&mm->tlb_tag, MMN__TLB_TAG_DEAD, memory_order_relaxed);
	return users;
}

void mmn_mmgrab(struct mmn_mm *mm)
{
	if (mm)
		atomic_fetch_add_explicit(&mm->mm_count, 1, memory_order_relaxed);
}

/* __mmdrop() body: unlist the mm and free its subscriptions, PGD and VMAs. */
void mmn__mm_free(struct mmn_mm *mm)
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
	if (mm->notifier_subscriptions)
		sim->subscriptions_destroy_hook(mm); /* mmu_notifier_subscriptions_destroy() */
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
	int count;

	if (!mm)
		return;
	/*
	 * The users together hold one mm_count reference (dropped by the last
	 * mmput()). An mmdrop() that would take that one while users remain
	 * frees the struct under them: an extra mmdrop, reported and refused.
	 */
	count = atomic_load_explicit(&mm->mm_count, memory_order_relaxed);
	do {
		if (count <= 1 && atomic_load_explicit(&mm->mm_users, memory_order_relaxed) > 0) {
			mmn_reportf(mm->sim, MMN_VIOL_ACCOUNTING, 0, 0,
				    "mmdrop() of mm %u would free it under %d user(s) (extra mmdrop)",
				    mm->id, atomic_load(&mm->mm_users));
			return;
		}
	} while (!atomic_compare_exchange_weak_explicit(&mm->mm_count, &count, count - 1,
							memory_order_acq_rel, memory_order_relaxed));
	if (count == 1)
		mmn__mm_free(mm);
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

/* mmap_lock wrappers (include/linux/mmap_lock.h, 5.8+; mmap_sem before). */
/* A NULL mm is a no-op (trylock: 0), as for the rwsem functions. */
#define MM_LOCK(mm) ((mm) ? &(mm)->mmap_lock : NULL)
void mmn_mmap_read_lock(struct mmn_mm *mm) { mmn_down_read(MM_LOCK(mm)); }
int mmn_mmap_read_trylock(struct mmn_mm *mm) { return mmn_down_read_trylock(MM_LOCK(mm)); }
void mmn_mmap_read_unlock(struct mmn_mm *mm) { mmn_up_read(MM_LOCK(mm)); }
void mmn_mmap_write_lock(struct mmn_mm *mm) { mmn_down_write(MM_LOCK(mm)); }
void mmn_mmap_write_unlock(struct mmn_mm *mm) { mmn_up_write(MM_LOCK(mm)); }
void mmn_mmap_write_downgrade(struct mmn_mm *mm) { mmn_downgrade_write(MM_LOCK(mm)); }
void mmn_mmap_assert_locked(struct mmn_mm *mm)
{
	if (mm)
		mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
}

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
bool mmn__vma_overlaps(struct mmn_mm *mm, unsigned long start, unsigned long end)
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

	if (mmn__mm_dead(mm) || !out)
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

	if (mmn__mm_dead(mm))
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

	if (mmn__mm_dead(mm) || !out)
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
int mmn__vma_reserve(struct mmn_mm *mm, int extra)
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
	free(f->disk);
	free(f);
}

struct mmn_shmem *mmn__shmem_create(struct mmn_sim *sim, unsigned long len, bool huge)
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

int mmn__vma_split_edges(struct mmn_mm *mm, unsigned long start, unsigned long end,
			 struct mmn_vma **lo, struct mmn_vma **hi)
{
	struct mmn_vma *l = mmn_vma_lookup(mm, start), *h = mmn_vma_lookup(mm, end - 1);

	*lo = l && l->start < start ? l : NULL;
	*hi = h && h->end > end ? h : NULL;
	if ((*lo && !vma_split_ok(*lo, start)) || (*hi && !vma_split_ok(*hi, end)))
		return -EINVAL;
	return 0;
}

/*
 * __split_vma() at both edges of [start, end), for operations that change a
 * part of a VMA (mprotect_fixup(), mremap, munmap): everything that can fail
 * is checked and allocated first, so nothing changes on error.
 */
int mmn_vma_split_range(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	struct mmn_vma *tail[2] = { NULL, NULL };
	struct mmn_vma *lo, *hi;
	bool split_lo, split_hi;
	int i, err;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	err = mmn__vma_split_edges(mm, start, end, &lo, &hi);
	split_lo = lo;
	split_hi = hi;
	if (err || (!split_lo && !split_hi))
		return err;
	if (mmn__vma_reserve(mm, 2))
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

/*
 * The VMA half of do_vmi_munmap(): split the VMAs at the edges of
 * [start, end) and take those inside off the array, all or nothing.
 */
int mmn__vma_detach_range(struct mmn_mm *mm, unsigned long start, unsigned long end,
			  struct mmn_vma ***detached)
{
	int first, n, err;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	*detached = malloc((size_t)(mm->nr_vmas + 2) * sizeof(**detached));
	if (!*detached)
		return -ENOMEM;
	err = mmn_vma_split_range(mm, start, end);
	if (err) {
		free(*detached);
		*detached = NULL;
		return err;
	}
	first = mmn_vma_first_above(mm, start);
	for (n = 0; first + n < mm->nr_vmas && mm->vmas[first + n]->start < end; n++)
		(*detached)[n] = mm->vmas[first + n];
	memmove(&mm->vmas[first], &mm->vmas[first + n],
		(size_t)(mm->nr_vmas - first - n) * sizeof(*mm->vmas));
	mm->nr_vmas -= n;
	return n;
}

/* vma_link(): put a new VMA in the rmap and in the array. The caller
 * reserved the array slot (mmn__vma_reserve()). */
void mmn__vma_link(struct mmn_mm *mm, struct mmn_vma *vma)
{
	mmn_vma_rmap_link(vma);
	vma_insert_at(mm, mmn_vma_first_above(mm, vma->start), vma);
}

/* copy_vma() without merging: a new VMA like @tmpl over [start, end). */
int mmn_vma_insert_copy(struct mmn_mm *mm, const struct mmn_vma *tmpl, unsigned long start,
			unsigned long end, unsigned long pgoff)
{
	struct mmn_vma *vma;

	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");
	if (mmn__vma_reserve(mm, 1))
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

unsigned long mmn_get_unmapped_area(struct mmn_mm *mm, unsigned long len, unsigned long align)
{
	mmn__lockdep_assert_held(&mm->mmap_lock, "mmap_lock");

	return mmn__get_unmapped_area(mm, 0, len, align);
}

/* get_unmapped_area() top-down (arch_get_unmapped_area_topdown()). */
unsigned long mmn__get_unmapped_area(struct mmn_mm *mm, unsigned long hint, unsigned long len,
				     unsigned long align)
{
	unsigned long high = MMN_MMAP_BASE;

	if (hint && !(hint & (align - 1)) && hint >= MMN_MMAP_MIN_ADDR &&
	    hint <= MMN_TASK_SIZE - len && !mmn__vma_overlaps(mm, hint, hint + len))
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
