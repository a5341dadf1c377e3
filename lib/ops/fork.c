// SPDX-License-Identifier: MIT
/*
 * fork(): dup_mmap() and copy_page_range() (kernel/fork.c, mm/memory.c,
 * mm/hugetlb.c copy_hugetlb_page_range()).
 *
 * The COW write-protect and the late CPU flush (kernel/fork.c dup_mmap():
 * flush_tlb_mm(oldmm) after every VMA is copied, i.e. after E):
 *
 *   fork (parent mmap_lock write)          a thread of the parent
 *   -----------------------------          ----------------------
 *   S(PROTECTION_PAGE, vma)
 *   write_protect_seq begin
 *   L(child) L(parent): wrprotect parent
 *     entry (page FORK_WP), child maps     store via a stale writable TLB
 *     the page RO                          entry: lands in the shared page,
 *   U U                                    both see it (fork is racy with
 *   write_protect_seq end                  threads, as in the kernel); a
 *   E                                      device's through a pre-fork
 *   ... next VMAs ...                      translation: LOST_WRITE
 *   flush_tlb_mm(parent)   (F1 [+F2])      the next store faults: COW
 *   FORK_WP cleared
 *   mmap_write_unlock(parent)
 *
 * No page is freed by fork, so the flush after E is safe: start/end
 * listeners dropped their mappings at S, F2 listeners are flushed with F1.
 */
#include <stdlib.h>

#include "ops/ops_internal.h"

/* The pages fork write-protected, marked MMN_PG_FORK_WP until the parent's
 * late TLB flush (the write-protect window: a device store through a
 * translation made before the write-protect is a lost write for the check,
 * as check.h says of fork; a CPU store through a stale TLB entry is the
 * kernel's accepted fork-versus-threads race, not reported). */
struct fork_stable {
	unsigned long *pfn;
	size_t n, cap;
};

struct fork_stats {
	unsigned long changed, unchanged;
	struct fork_stable *stable;
};

/* Mark @pfn (once) and remember it. A full list or no memory only loses
 * the check, never the fork. */
static void fork_hold_stable(struct mmn_sim *sim, struct fork_stats *st, unsigned long pfn)
{
	struct fork_stable *fs = st->stable;

	struct mmn_page *head;

	if (!fs || pfn == MMN_ZERO_PFN)
		return;
	head = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));
	if (atomic_load(&head->flags) & MMN_PG_FORK_WP)
		return;
	if (fs->n == fs->cap) {
		size_t cap = fs->cap ? 2 * fs->cap : 64;
		unsigned long *p = realloc(fs->pfn, cap * sizeof(*p));

		if (!p)
			return;
		fs->pfn = p;
		fs->cap = cap;
	}
	atomic_fetch_or(&head->flags, MMN_PG_FORK_WP);
	fs->pfn[fs->n++] = pfn;
}

/* The window closes: after flush_tlb_mm(parent), no translation made
 * before the write-protect is left. */
static void fork_release_stable(struct mmn_sim *sim, struct fork_stable *fs)
{
	for (size_t i = 0; i < fs->n; i++)
		atomic_fetch_and(&mmn_pfn_to_page(sim, mmn_compound_head(sim, fs->pfn[i]))->flags,
				 ~(unsigned int)MMN_PG_FORK_WP);
	free(fs->pfn);
	*fs = (struct fork_stable){ NULL, 0, 0 };
}

/*
 * Whether fork must copy the page of the present entry @e now rather than
 * share it: a private anonymous page that may be pinned (pincount > 0), in
 * the profiles with fork_copy_pinned. Models page_maybe_dma_pinned() in
 * copy_present_page() (5.9-5.18) and the failing page_try_dup_anon_rmap()
 * in copy_present_pte() (5.19-6.x); 5.8 and older share it (copy_one_pte()).
 */
static bool fork_must_copy_pinned(struct mmn_sim *sim, const struct mmn_vma *vma, mmn_pte_t e)
{
	unsigned long pfn = mmn_pte_pfn(e);
	struct mmn_page *head;

	if (!ops_profile(vma->mm)->fork_copy_pinned || pfn == MMN_ZERO_PFN)
		return false;
	head = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));
	return (atomic_load(&head->flags) & (MMN_PG_ANON | MMN_PG_KSM)) == MMN_PG_ANON &&
	       atomic_load(&head->pincount) > 0;
}

/*
 * copy_present_page() (5.9+): the child gets its own copy of the pinned
 * page, dirty and writable if the VMA is; the parent's entry is left as it
 * was (still writable: the pin keeps seeing the parent's stores). A frame
 * shortage falls back to sharing (the kernel's prealloc would fail fork
 * with -ENOMEM; the model keeps fork infallible here).
 */
static int copy_present_page(struct mmn_sim *sim, struct mmn_vma *dst_vma, struct mmn_ptdesc *dst,
			     unsigned int idx, unsigned long addr, mmn_pte_t e,
			     struct fork_stats *st)
{
	unsigned long copy = mmn_alloc_page(sim, MMN_PG_ANON);
	uint64_t bits = MMN_PTE_DIRTY | MMN_PTE_ACCESSED | (e & MMN_PTE_SOFT_DIRTY);

	if (!copy)
		return -ENOMEM;
	atomic_store_explicit(&mmn_pfn_to_page(sim, copy)->content,
			      atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_pte_pfn(e))->content,
						   memory_order_relaxed),
			      memory_order_relaxed);
	mmn_page_set_anon_rmap(sim, copy, dst_vma, addr);
	mmn_page_add_map(sim, copy);
	if (dst_vma->vm_flags & MMN_VM_WRITE)
		bits |= MMN_PTE_WRITE;
	mmn_pte_set(sim, dst, idx, addr, mmn_mk_pte(copy, bits));
	st->unchanged++;
	return 0;
}

/* page_try_dup_anon_rmap() (5.19+): an anonymous page fork shares is no
 * longer PageAnonExclusive (read by do_wp_page() when the profile has
 * cow_reuse_anon_exclusive). */
static void fork_mark_shared(struct mmn_sim *sim, unsigned long pfn)
{
	struct mmn_page *head;

	if (pfn == MMN_ZERO_PFN)
		return;
	head = mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn));
	if (atomic_load(&head->flags) & MMN_PG_ANON)
		atomic_fetch_or(&head->flags, MMN_PG_ANON_SHARED);
}

/* Copy one non-none entry @e of the parent into the child's @dst slot,
 * write-protecting the parent's for a COW mapping. Both PTLs held.
 * -EBUSY (with a reference on the page in *@busy): a device-exclusive
 * entry whose page is locked; the caller drops the PTLs, waits for the
 * page lock and retries (copy_nonpresent_pte()'s -EBUSY). */
static int copy_one_pte(struct mmn_sim *sim, struct mmn_vma *dst_vma, struct mmn_vma *src_vma,
			struct mmn_ptdesc *src,
			struct mmn_ptdesc *dst, unsigned int idx, unsigned long addr, mmn_pte_t e,
			struct fork_stats *st, unsigned long *busy)
{
	bool cow = !(src_vma->vm_flags & MMN_VM_SHARED);
	mmn_pte_t child;

	if (mmn_pte_swp_type(e) == MMN_SWP_DEVICE_EXCLUSIVE ||
	    mmn_pte_swp_type(e) == MMN_SWP_DEVICE_EXCLUSIVE_READ) {
		/* try_restore_exclusive_pte(): the parent's entry becomes the
		 * present one again (no notifier), then it is copied as such. */
		if (!mmn_trylock_page(sim, mmn_pte_pfn(e))) {
			mmn_get_page(sim, mmn_pte_pfn(e));
			*busy = mmn_pte_pfn(e);
			return -EBUSY;
		}
		mmn_pte_set(sim, src, idx, addr, mmn__exclusive_restored_pte(src_vma, e));
		mmn_unlock_page(sim, mmn_pte_pfn(e));
		e = mmn_pte_get(sim, src, idx, addr);
	}
	if (!mmn_pte_mapped(e)) {
		/* copy_nonpresent_pte() */
		enum mmn_swp_type t = mmn_pte_swp_type(e);

		if (t == MMN_SWP_DEVICE_PRIVATE_READ || t == MMN_SWP_DEVICE_PRIVATE_WRITE) {
			/* The child maps the device page too; a writable entry
			 * becomes a read one in both for a COW mapping. */
			mmn_get_page(sim, mmn_pte_pfn(e));
			mmn_page_add_map(sim, mmn_pte_pfn(e));
			if (cow)
				fork_mark_shared(sim, mmn_pte_pfn(e));
			if (t == MMN_SWP_DEVICE_PRIVATE_WRITE && cow) {
				e = mmn_mk_swp_pte(MMN_SWP_DEVICE_PRIVATE_READ, mmn_pte_pfn(e)) |
				    (e & MMN_PTE_SOFT_DIRTY);
				mmn_pte_set(sim, src, idx, addr, e);
				st->changed++;
			} else if (cow) {
				st->unchanged++;
			}
			mmn_pte_set(sim, dst, idx, addr, e);
			return 0;
		}
		if (t == MMN_SWP_SWAP) {
			mmn_swap_dup(sim, mmn_pte_pfn(e));
		} else if (t == MMN_SWP_MIGRATION_WRITE && cow) {
			/* A writable migration entry becomes readable in both. */
			e = (e & ~MMN_SWP_TYPE_MASK) |
			    ((uint64_t)MMN_SWP_MIGRATION_READ << MMN_SWP_TYPE_SHIFT);
			mmn_pte_set(sim, src, idx, addr, e);
			st->changed++;
			mmn_pte_set(sim, dst, idx, addr, e);
			return 0;
		}
		if (cow)
			st->unchanged++;
		mmn_pte_set(sim, dst, idx, addr, e);
		return 0;
	}
	/* copy_present_pte() */
	if (cow && fork_must_copy_pinned(sim, src_vma, e))
		if (!copy_present_page(sim, dst_vma, dst, idx, addr, e, st))
			return 0;
	if (cow)
		fork_mark_shared(sim, mmn_pte_pfn(e));
	if (cow && mmn_pte_write(e)) {
		/* ptep_set_wrprotect(): atomic against the walkers' A/D updates. */
		while (!mmn_pte_cmpxchg(sim, src, idx, addr, e, e & ~MMN_PTE_WRITE))
			e = mmn_pte_get(sim, src, idx, addr);
		e &= ~MMN_PTE_WRITE;
		fork_hold_stable(sim, st, mmn_pte_pfn(e));
		st->changed++;
	} else if (cow) {
		st->unchanged++;
	}
	child = e & ~MMN_PTE_ACCESSED; /* pte_mkold() */
	/* copy_present_pte(): the child's VMA is never uffd-wp registered here
	 * (dup_userfaultfd() without EVENT_FORK), so pte_clear_uffd_wp(). */
	child &= ~MMN_PTE_UFFD_WP;
	if (!cow)
		child &= ~MMN_PTE_DIRTY; /* pte_mkclean() for shared mappings */
	if (mmn_pte_pfn(e) != MMN_ZERO_PFN) {
		mmn_get_page(sim, mmn_pte_pfn(e));
		mmn_page_add_map(sim, mmn_pte_pfn(e));
	}
	mmn_pte_set(sim, dst, idx, addr, child);
	return 0;
}

/* copy_pte_range() for [addr, end) within one PMD. */
static int copy_pte_range(struct mmn_vma *dst_vma, struct mmn_vma *src_vma, unsigned long addr,
			  unsigned long end, struct fork_stats *st)
{
	struct mmn_sim *sim = src_vma->mm->sim;
	struct mmn_ptdesc *src, *dst, *leaf;
	unsigned long busy = 0;
	int err;

	src = mmn_pt_walk(src_vma->mm, addr, MMN_LVL_PTE);
	if (!src)
		return 0;
	dst = mmn_pt_walk_alloc(dst_vma->mm, addr, MMN_LVL_PTE, &leaf, &err);
	if (!dst)
		return err ? err : -ENOMEM;
again:
	/* The kernel takes the child's PTL first and the parent's nested. */
	mmn_spin_lock(&dst->ptl);
	mmn_spin_lock_nested(&src->ptl, 1);
	for (; addr < end; addr += MMN_PAGE_SIZE) {
		unsigned int idx = mmn_pt_index(addr, MMN_LVL_PTE);
		mmn_pte_t e = mmn_pte_get(sim, src, idx, addr);

		if (!mmn_pte_none(e) &&
		    copy_one_pte(sim, dst_vma, src_vma, src, dst, idx, addr, e, st, &busy) == -EBUSY)
			break;
	}
	mmn_spin_unlock(&src->ptl);
	mmn_spin_unlock(&dst->ptl);
	if (busy) {
		/* A device-exclusive entry's page was locked: wait, retry. */
		mmn_lock_page(sim, busy);
		mmn_unlock_page(sim, busy);
		mmn_put_page(sim, busy);
		busy = 0;
		goto again;
	}
	return 0;
}

/*
 * copy_hugetlb_page_range()'s copy of one private leaf @e (both PMD locks
 * held; 4.12, 4.13.4, 4.15, 5.2.1, 5.14, 6.5, 6.19 read): shared
 * copy-on-write in every era, the parent's entry write-protected
 * (huge_ptep_set_wrprotect()) and the child mapping the same huge page
 * read-only; 4.12/4.13 call ->invalidate_range() over the whole VMA right
 * there under the PTLs, 4.15+ leave the secondary flush to end
 * (hugetlb_fork_secflush_at_end, commit 0f10851ea475). A maybe-pinned page
 * in a fork_copy_pinned profile is copied for the child at once (5.14
 * copy_hugetlb_page_range() page_needs_cow_for_dma(), 6.5/6.19
 * hugetlb_try_dup_anon_rmap() failing); @copy is that page, preallocated.
 * Returns true when @copy was used.
 */
static bool copy_hugetlb_cow_leaf(struct mmn_vma *dst_vma, struct mmn_vma *src_vma,
				  struct mmn_ptdesc *src, struct mmn_ptdesc *dst, unsigned long addr,
				  mmn_pte_t e, unsigned long copy, struct fork_stats *st)
{
	struct mmn_sim *sim = src_vma->mm->sim;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	unsigned long pfn = mmn_pte_pfn(e);

	if (copy && fork_must_copy_pinned(sim, src_vma, e)) {
		for (unsigned long i = 0; i < MMN_HPAGE_NR; i++)
			atomic_store_explicit(
				&mmn_pfn_to_page(sim, copy + i)->content,
				atomic_load_explicit(&mmn_pfn_to_page(sim, pfn + i)->content,
						     memory_order_relaxed),
				memory_order_relaxed);
		mmn_page_set_anon_rmap(sim, copy, dst_vma, addr);
		mmn_page_add_map(sim, copy);
		mmn_pte_set(sim, dst, idx, addr,
			    (e & ~(MMN_PTE_PFN_MASK | MMN_PTE_ACCESSED)) |
				    ((uint64_t)copy << MMN_PTE_PFN_SHIFT));
		st->unchanged += MMN_HPAGE_NR;
		return true;
	}
	fork_mark_shared(sim, pfn);
	if (mmn_pte_write(e)) {
		while (!mmn_pte_cmpxchg(sim, src, idx, addr, e, e & ~MMN_PTE_WRITE))
			e = mmn_pte_get(sim, src, idx, addr);
		e &= ~MMN_PTE_WRITE;
		fork_hold_stable(sim, st, pfn);
		st->changed += MMN_HPAGE_NR;
		if (!ops_profile(src_vma->mm)->hugetlb_fork_secflush_at_end)
			(void)mmn__notify_call_site_flush(src_vma->mm, src_vma->start, src_vma->end);
	} else {
		st->unchanged += MMN_HPAGE_NR;
	}
	mmn_get_page(sim, pfn);
	mmn_page_add_map(sim, pfn);
	mmn_pte_set(sim, dst, idx, addr, e);
	return false;
}

/* copy_hugetlb_page_range() for the PMD leaf at @addr. */
static int copy_huge_pmd(struct mmn_vma *dst_vma, struct mmn_vma *src_vma, unsigned long addr,
			 struct fork_stats *st)
{
	struct mmn_sim *sim = src_vma->mm->sim;
	bool cow = !(src_vma->vm_flags & MMN_VM_SHARED);
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	struct mmn_ptdesc *src, *dst;
	unsigned long copy = 0;
	mmn_pte_t e;
	bool locked;
	int err;

	src = mmn_pt_walk(src_vma->mm, addr, MMN_LVL_PMD);
	if (!src || mmn_pte_none(mmn_pte_get(sim, src, idx, addr)))
		return 0;
	/* huge_pte_alloc(): a shared mapping may share the parent's PMD
	 * table (huge_pmd_share()); then there is nothing to copy. */
	locked = mmn_hugetlb_share_lock(dst_vma, false);
	dst = mmn_huge_pte_alloc(dst_vma->mm, dst_vma, addr, &err);
	if (locked)
		mmn_hugetlb_share_unlock(dst_vma, false);
	if (!dst)
		return err ? err : -ENOMEM;
	if (dst == src)
		return 0;
	/* The copy for a pinned page is allocated before the locks (the
	 * kernel drops them to allocate and retries). */
	if (cow && fork_must_copy_pinned(sim, src_vma, mmn_pte_get(sim, src, idx, addr))) {
		copy = mmn_alloc_huge_page(sim, MMN_PG_ANON | MMN_PG_HUGETLB);
		if (!copy)
			return -ENOMEM;
	}
	mmn_spin_lock(&dst->ptl);
	mmn_spin_lock_nested(&src->ptl, 1);
	e = mmn_pte_get(sim, src, idx, addr);
	/* (A table shared with a third mm may hold the entry already.) */
	if (mmn_pmd_mapped_leaf(e) && mmn_pte_none(mmn_pte_get(sim, dst, idx, addr))) {
		unsigned long pfn = mmn_pte_pfn(e);

		if (cow) {
			if (copy_hugetlb_cow_leaf(dst_vma, src_vma, src, dst, addr, e, copy, st))
				copy = 0;
		} else {
			mmn_get_page(sim, pfn);
			mmn_page_add_map(sim, pfn);
			mmn_pte_set(sim, dst, idx, addr, e & ~(MMN_PTE_ACCESSED | MMN_PTE_DIRTY));
		}
	}
	mmn_spin_unlock(&src->ptl);
	mmn_spin_unlock(&dst->ptl);
	if (copy)
		mmn_put_page(sim, copy);
	return 0;
}

/*
 * copy_huge_pmd() for an anonymous THP leaf at @addr (4.5+): under the
 * child's PMD lock and the parent's nested, the parent's leaf is
 * write-protected and the child maps the same THP read-only and old; the
 * folio's mapcount and refcount +1. A later store in either faults:
 * do_huge_pmd_wp_page() splits (5.8+) and the COW copies 4 KiB. A pinned
 * THP in a fork_copy_pinned profile: -EAGAIN, nothing copied; the caller
 * splits the parent's PMD and copies PTE-wise, each pinned subpage eagerly
 * (copy_huge_pmd() 5.9+: __split_huge_pmd() and -EAGAIN).
 * *@done is false when @addr is not mapped by a THP leaf.
 */
static int copy_anon_huge_pmd(struct mmn_vma *dst_vma, struct mmn_vma *src_vma,
			      unsigned long addr, struct fork_stats *st, bool *done)
{
	struct mmn_sim *sim = src_vma->mm->sim;
	unsigned int idx = mmn_pt_index(addr, MMN_LVL_PMD);
	struct mmn_ptdesc *src, *dst;
	mmn_pte_t e;
	int err;

	*done = false;
	src = mmn_pt_walk(src_vma->mm, addr, MMN_LVL_PMD);
	if (!src || !mmn_pmd_mapped_leaf(mmn_pte_get(sim, src, idx, addr)))
		return 0;
	dst = mmn_pt_walk_alloc(dst_vma->mm, addr, MMN_LVL_PMD, NULL, &err);
	if (!dst)
		return err ? err : -ENOMEM;
	err = 0;
	mmn_spin_lock(&dst->ptl);
	mmn_spin_lock_nested(&src->ptl, 1);
	e = mmn_pte_get(sim, src, idx, addr);
	if (mmn_pmd_mapped_leaf(e) && fork_must_copy_pinned(sim, src_vma, e)) {
		err = -EAGAIN;
	} else if (mmn_pmd_mapped_leaf(e)) {
		fork_mark_shared(sim, mmn_pte_pfn(e));
		if (mmn_pte_write(e)) {
			/* pmdp_set_wrprotect(): atomic against the walkers. */
			while (!mmn_pte_cmpxchg(sim, src, idx, addr, e, e & ~MMN_PTE_WRITE))
				e = mmn_pte_get(sim, src, idx, addr);
			e &= ~MMN_PTE_WRITE;
			fork_hold_stable(sim, st, mmn_pte_pfn(e));
			st->changed += MMN_HPAGE_NR;
		} else {
			st->unchanged += MMN_HPAGE_NR;
		}
		mmn_get_page(sim, mmn_pte_pfn(e));
		mmn_page_add_map(sim, mmn_pte_pfn(e));
		mmn_pte_set(sim, dst, idx, addr, e & ~MMN_PTE_ACCESSED); /* pmd_mkold() */
		*done = true;
	}
	mmn_spin_unlock(&src->ptl);
	mmn_spin_unlock(&dst->ptl);
	return err;
}

/* copy_page_range() for one VMA. */
static int copy_page_range(struct mmn_vma *dst_vma, struct mmn_vma *src_vma,
			   struct fork_stable *stable)
{
	struct mmn_mm *src_mm = src_vma->mm;
	bool cow = !(src_vma->vm_flags & MMN_VM_SHARED);
	bool huge = src_vma->vm_flags & MMN_VM_HUGETLB;
	struct mmn_notifier_range range;
	struct fork_stats st = { 0, 0, stable };
	int err = 0;

	if (cow) {
		/* copy_hugetlb_page_range() notifies CLEAR, copy_page_range()
		 * PROTECTION_PAGE (5.2+), both over the whole source VMA. */
		mmn__notify_range_init(&range, huge ? MMN_NOTIFY_CLEAR : MMN_NOTIFY_PROTECTION_PAGE, src_mm,
			       src_vma->start, src_vma->end, NULL);
		mmn__notify_start(MMN_OP_FORK, &range);
		if (!huge)
			mmn_write_seqcount_begin(&src_mm->write_protect_seq);
	}
	for (unsigned long addr = src_vma->start; addr < src_vma->end && !err;) {
		unsigned long next = (addr & MMN_PMD_MASK) + MMN_PMD_SIZE;

		if (next > src_vma->end)
			next = src_vma->end;
		bool thp = false;

		if (!huge && cow) {
			err = copy_anon_huge_pmd(dst_vma, src_vma, addr, &st, &thp);
			if (err == -EAGAIN)
				err = mmn__split_huge_pmd(src_mm, addr);
		}
		if (!err && !thp)
			err = huge ? copy_huge_pmd(dst_vma, src_vma, addr, &st)
				   : copy_pte_range(dst_vma, src_vma, addr, next, &st);
		addr = next;
	}
	if (cow) {
		if (!huge)
			mmn_write_seqcount_end(&src_mm->write_protect_seq);
		mmn__notify_end(&range);
		mmn__op_stat_pages(src_mm->sim, MMN_OP_FORK, st.changed, st.unchanged);
	}
	return err;
}

static int fork_do(struct mmn_mm *parent, struct mmn_mm **childp)
{
	struct fork_stable stable = { NULL, 0, 0 };
	struct mmn_mm *child;
	struct mmn_sim *sim;
	int err = 0;

	if (mmn__mm_dead(parent) || !childp)
		return -EINVAL;
	sim = parent->sim;
	mmn_mmap_write_lock(parent);
	child = mmn_mm_create(sim);
	if (!child) {
		mmn_mmap_write_unlock(parent);
		return -ENOMEM;
	}
	/* mmap_write_lock_nested(): nobody else can know the new mm; a
	 * trylock tells lockdep the same as the nesting annotation would. */
	mmn_down_write_trylock(&child->mmap_lock);
	if (parent->nr_vmas) {
		child->vmas = malloc((size_t)parent->nr_vmas * sizeof(*child->vmas));
		if (!child->vmas)
			err = -ENOMEM;
		else
			child->cap_vmas = parent->nr_vmas;
	}
	for (int i = 0; i < parent->nr_vmas && !err; i++) {
		struct mmn_vma *src = parent->vmas[i];
		struct mmn_vma *dst = malloc(sizeof(*dst));

		if (!dst) {
			err = -ENOMEM;
			break;
		}
		/* vm_area_dup() + anon_vma_fork() / the file's i_mmap. */
		*dst = *src;
		dst->mm = child;
		/* dup_userfaultfd() without UFFD_FEATURE_EVENT_FORK: the child's
		 * VMA is not registered (fs/userfaultfd.c, 5.8-6.19). */
		dst->vm_flags &= ~MMN_VM_UFFD_WP;
		dst->uffd = NULL;
		if (dst->file)
			atomic_fetch_add_explicit(&dst->file->refcount, 1, memory_order_relaxed);
		mmn_vma_rmap_dup(dst);
		child->vmas[child->nr_vmas++] = dst;
		err = copy_page_range(dst, src, &stable);
	}
	mmn_up_write(&child->mmap_lock);
	/* dup_mmap()'s flush of the parent, after every E. */
	mmn_flush_tlb_mm(parent);
	fork_release_stable(sim, &stable);
	mmn_mmap_write_unlock(parent);
	if (err) {
		mmn_mm_put(child);
		return err;
	}
	*childp = child;
	mmn__op_stat_call(sim, MMN_OP_FORK);
	return 0;
}

/* The span of the trace around fork (docs/exploration.md). */
int mmn_fork(struct mmn_mm *parent, struct mmn_mm **childp)
{
	struct mmn_sim *sim = parent ? parent->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "dup_mmap", 0, 0, NULL);
	err = fork_do(parent, childp);
	mmn_sched_span_end(sim, "dup_mmap");
	return err;
}

/* mmput(): the last user runs exit_mmap(), then drops the users' mm_count. */
void mmn_mm_put(struct mmn_mm *mm)
{
	if (!mm)
		return;
	/*
	 * A put with no user left (a double mmput) would drive mm_users
	 * negative and run exit_mmap() twice: reported and refused. Reachable
	 * only while an mmgrab() keeps the struct; after the last mmdrop() the
	 * memory is freed and the put cannot be checked (mm.h).
	 */
	if (mmn__mm_users_add(mm, -1, "mmput()") == 1) {
		mmn_exit_mmap(mm);
		mmn_mmdrop(mm);
	}
}

/* Tear down what the user left behind at mmn_sim_destroy(). */
void mmn_mm_sim_fini(struct mmn_sim *sim)
{
	while (sim->mm_list) {
		struct mmn_mm *mm = sim->mm_list;

		if (atomic_load(&mm->mm_users) > 0)
			mmn_exit_mmap(mm);
		mmn__mm_free(mm);
	}
}
