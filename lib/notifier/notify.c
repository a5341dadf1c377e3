// SPDX-License-Identifier: MIT
/*
 * How operations notify under the simulation's profile (see notify.h): the
 * start/end wrappers with their per-operation range count,
 * ptep_clear_flush_notify(), the secondary flush owed after the PTL drop,
 * and the rmap bracket.
 */
#include "notifier/notify.h"

static void ops_settle(struct mmn_sim *sim);

void mmn__notify_start(enum mmn_op op, struct mmn_notifier_range *range)
{
	atomic_fetch_add_explicit(&range->mm->sim->op_stats[op].ranges, 1, memory_order_relaxed);
	mmn_notifier_invalidate_range_start(range);
}

int mmn__notify_start_nonblock(enum mmn_op op, struct mmn_notifier_range *range)
{
	atomic_fetch_add_explicit(&range->mm->sim->op_stats[op].ranges, 1, memory_order_relaxed);
	return mmn_notifier_invalidate_range_start_nonblock(range);
}

void mmn__notify_end(struct mmn_notifier_range *range)
{
	__mmn_notifier_invalidate_range_end(range, ops_end_flushes(ops_profile(range->mm)), false);
	if (ops_end_flushes(ops_profile(range->mm)))
		ops_settle(range->mm->sim);
}

void mmn__notify_end_only(struct mmn_notifier_range *range)
{
	const struct mmn_profile *p = ops_profile(range->mm);

	__mmn_notifier_invalidate_range_end(range, ops_end_flushes(p), p->only_end_skips_flush);
	if (ops_end_flushes(p) && !p->only_end_skips_flush)
		ops_settle(range->mm->sim);
}

/*
 * The oracle's "secondary flush where the profile requires it" check. When
 * the profile defers the secondary flush past the PTL (range_end,
 * invalidate_page) and the mm has subscribers, a frame unmapped at a
 * clear-flush site is marked MMN_PG_SECFLUSH_OWED until the deferred flush
 * runs (mmn__notify_end() / mmn__notify_after_ptl_drop() of the same actor); freeing it
 * before that is reported by the page allocator (lib/mm/page.c). The marks
 * an actor owes are kept in the running actor's block (struct mmn__local,
 * lib/check: the host thread's own, or under the deterministic backend's
 * user-level actors the actor's); past MMN__OWED_MAX the extra ones go
 * unchecked.
 */

static void ops_owe(struct mmn_mm *mm, mmn_pte_t old)
{
	enum mmn_secondary_flush where = ops_profile(mm)->secondary_flush;
	unsigned long pfn = mmn_pte_pfn(old);
	struct mmn__local *l = mmn__local();

	if ((where != MMN_SECFLUSH_RANGE_END && where != MMN_SECFLUSH_INVALIDATE_PAGE) ||
	    !mmn_pte_present(old) || pfn == MMN_ZERO_PFN || !mmn_mm_notifier_subscriptions(mm) ||
	    l->nr_owed == MMN__OWED_MAX)
		return;
	pfn = mmn_compound_head(mm->sim, pfn);
	atomic_fetch_or_explicit(&mmn_pfn_to_page(mm->sim, pfn)->flags, MMN_PG_SECFLUSH_OWED,
				 memory_order_relaxed);
	l->owed[l->nr_owed].sim = mm->sim;
	l->owed[l->nr_owed++].pfn = pfn;
}

/* The deferred secondary flush ran: the frames this actor owed in @sim are
 * settled (entries of another simulation, which the caller cannot have
 * flushed, stay). */
static void ops_settle(struct mmn_sim *sim)
{
	struct mmn__local *l = mmn__local();
	unsigned int kept = 0;

	for (unsigned int i = 0; i < l->nr_owed; i++) {
		if (l->owed[i].sim == sim && mmn_pfn_valid(sim, l->owed[i].pfn))
			atomic_fetch_and_explicit(&mmn_pfn_to_page(sim, l->owed[i].pfn)->flags,
						  ~MMN_PG_SECFLUSH_OWED, memory_order_relaxed);
		else
			l->owed[kept++] = l->owed[i];
	}
	l->nr_owed = kept;
}

/*
 * ptep_clear_flush_notify(): in call_sites profiles (4.13-6.5) and in
 * invalidate_page ones (4.12's macro in include/linux/mmu_notifier.h: a
 * plain ptep_clear_flush() then mmu_notifier_invalidate_range()) the
 * secondary flush under the PTL; 6.6+ inside the CPU flush.
 */
mmn_pte_t mmn__ptep_clear_flush_notify(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				      unsigned long addr)
{
	mmn_pte_t old = mmn_pte_get_and_clear(mm->sim, pt, idx, addr);
	unsigned long a = addr & MMN_PAGE_MASK;

	mmn_flush_tlb_page(mm, addr);
	if (ops_profile(mm)->secondary_flush == MMN_SECFLUSH_INVALIDATE_PAGE)
		mmn_notifier_invalidate_range(mm, a, a + MMN_PAGE_SIZE);
	else if (!mmn__notify_call_site_flush(mm, a, a + MMN_PAGE_SIZE))
		ops_owe(mm, old);
	return old;
}

mmn_pte_t mmn__ptep_clear_flush_rmap(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				    unsigned long addr)
{
	mmn_pte_t old;

	if (ops_profile(mm)->secondary_flush != MMN_SECFLUSH_INVALIDATE_PAGE)
		return mmn__ptep_clear_flush_notify(mm, pt, idx, addr);
	/* <= 4.12: plain ptep_clear_flush(); ->invalidate_page follows. */
	old = mmn_pte_get_and_clear(mm->sim, pt, idx, addr);
	mmn_flush_tlb_page(mm, addr);
	ops_owe(mm, old);
	return old;
}

/*
 * The batched clear, 6.6+ x86 (4.13-6.5: F2 is the ->invalidate_range()
 * under the PTL that try_to_unmap_one() makes after the swap entry is set,
 * as without batching; 4.12: ->invalidate_page):
 *
 *   reclaimer                                 CPU / IOMMU
 *   ---------                                 -----------
 *   S(CLEAR) L, ptep_get_and_clear()
 *   arch_tlbbatch_add_pending(): F2 for the   CPU: stale entry still usable
 *   whole mm (IOMMU: every entry of the mm)
 *   U E
 *   (other mappings of the page ...)
 *   try_to_unmap_flush(): F1                  CPU: entry gone
 *   pageout, free
 */
mmn_pte_t mmn__ptep_clear_batched(struct mmn_mm *mm, struct mmn_ptdesc *pt, unsigned int idx,
				  unsigned long addr, struct mmn__tlbbatch *b)
{
	const struct mmn_profile *p = ops_profile(mm);
	mmn_pte_t old;
	unsigned int i;

	if (!b || !atomic_load_explicit(&mm->cpumask, memory_order_seq_cst))
		return mmn__ptep_clear_flush_rmap(mm, pt, idx, addr);
	old = mmn_pte_get_and_clear(mm->sim, pt, idx, addr);
	/*
	 * x86 pte_accessible() also calls a PROT_NONE entry accessible while
	 * mm->tlb_flush_pending (a change_prot_numa() that has not flushed yet)
	 * and only then skips the batch. The model keeps no such counter, so
	 * it treats every cleared mapped entry as accessible: a flush more,
	 * never one less (skipping it let CPUs use freed frames in
	 * tests/stress/test_stress_file).
	 */
	for (i = 0; i < b->nr && b->mm[i] != mm; i++)
		;
	if (i == b->nr) {
		if (b->nr == MMN__TLBBATCH_MAX)
			mmn__try_to_unmap_flush(b); /* the model's bound, not the kernel's */
		mmn_mmgrab(mm); /* the model's: the flush below reads the mm */
		b->mm[b->nr++] = mm;
	}
	if (p->secondary_flush == MMN_SECFLUSH_WITH_CPU_FLUSH) {
		if (p->arch == MMN_ARCH_X86)
			mmn_notifier_arch_invalidate_secondary_tlbs(mm, 0, ~0UL);
		else
			mmn_notifier_arch_invalidate_secondary_tlbs(mm, addr & MMN_PAGE_MASK,
								    (addr & MMN_PAGE_MASK) + MMN_PAGE_SIZE);
	} else if (!mmn__notify_call_site_flush(mm, addr & MMN_PAGE_MASK,
					       (addr & MMN_PAGE_MASK) + MMN_PAGE_SIZE)) {
		ops_owe(mm, old);
	}
	return old;
}

void mmn__try_to_unmap_flush(struct mmn__tlbbatch *b)
{
	for (unsigned int i = 0; i < b->nr; i++) {
		mmn__tlbbatch_flush_mm(b->mm[i]);
		mmn_mmdrop(b->mm[i]);
	}
	b->nr = 0;
}

bool mmn__notify_rmap_unmapped_locked(struct mmn_mm *mm, unsigned long addr)
{
	const struct mmn_profile *p = ops_profile(mm);

	if (p->secondary_flush != MMN_SECFLUSH_INVALIDATE_PAGE || !p->invalidate_page_under_ptl)
		return false;
	mmn_notifier_invalidate_page(mm, addr & MMN_PAGE_MASK);
	ops_settle(mm->sim);
	return true;
}

void mmn__notify_access_upgrade(struct mmn_mm *mm, unsigned long addr)
{
	if (ops_profile(mm)->arch == MMN_ARCH_ARM64)
		mmn_flush_tlb_page(mm, addr);
}

bool mmn__notify_call_site_flush(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	if (ops_profile(mm)->secondary_flush != MMN_SECFLUSH_CALL_SITES)
		return false;
	mmn_notifier_invalidate_range(mm, start, end);
	return true;
}

bool mmn__notify_rmap_start(enum mmn_op op, struct mmn_notifier_range *range, struct mmn_mm *mm,
		    unsigned long start, unsigned long end)
{
	if (ops_profile(mm)->secondary_flush == MMN_SECFLUSH_INVALIDATE_PAGE) {
		/* <= 4.12: the invalidation runs from the clear to ->invalidate_page;
		 * the access-time check (mmn_check_secondary_access()) sees it as
		 * one in flight, closed by mmn__notify_rmap_end(). */
		range->mm = mm;
		range->start = start;
		range->end = end;
		mmn__check_inval_open(&mm->sim->check, mm, start, end, "invalidate_page", 0);
		return false;
	}
	mmn__notify_range_init(range, MMN_NOTIFY_CLEAR, mm, start, end, NULL);
	mmn__notify_start(op, range);
	return true;
}

void mmn__notify_rmap_end(struct mmn_notifier_range *range, struct mmn_mm *mm, bool started,
		  bool unmapped, unsigned long addr)
{
	if (started) {
		mmn__notify_end(range);
	} else {
		if (unmapped)
			mmn__notify_after_ptl_drop(mm, addr);
		mmn__check_inval_close(&mm->sim->check, mm, range->start, range->end);
	}
}

void mmn__notify_after_ptl_drop(struct mmn_mm *mm, unsigned long addr)
{
	if (ops_profile(mm)->secondary_flush == MMN_SECFLUSH_INVALIDATE_PAGE) {
		mmn_notifier_invalidate_page(mm, addr & MMN_PAGE_MASK);
		ops_settle(mm->sim);
	}
}
