// SPDX-License-Identifier: MIT
/*
 * The OOM reaper: __oom_reap_task_mm() (4.19-6.19, event UNMAP) and
 * zap_vma_for_reaping() (mm tree 2025+, event CLEAR; knob oom_reap_clear).
 *
 *   mmap_read_trylock (busy: give up, the reaper retries later)
 *   per reapable VMA (private, not hugetlb):
 *     tlb_gather_mmu
 *     invalidate_range_start_nonblock(vma range)
 *       -EAGAIN: tlb_finish_mmu, the VMA is skipped (no end!)
 *     zap (per PTE table L ... U) → invalidate_range_end → tlb_finish_mmu
 *   mmap_read_unlock
 *
 * Before nonblock (profiles without it) start could not fail:
 *   4.15-4.18 (oom_reap_skip_notifiers): oom_reap_task_mm() refuses any mm
 *     with notifiers (mm_has_notifiers(), 4.15 mm/oom_kill.c): every
 *     reapable VMA is skipped, nothing is notified.
 *   4.12, 4.13 (knob false): __oom_reap_task_mm() zaps every reapable VMA
 *     (unmap_page_range() under a gather) with no start/end at all: a
 *     start/end subscriber (KVM) keeps translating the reaped, freed pages,
 *     a real bug of those kernels; only ->invalidate_range users hear the
 *     gather's flush.
 */
#include "ops/ops_internal.h"

static int oom_reap_do(struct mmn_mm *mm, unsigned long *skipped)
{
	const struct mmn_profile *p;
	unsigned long nskip = 0, zapped = 0;
	bool refuse;

	if (mmn__mm_dead(mm))
		return -EINVAL;
	p = ops_profile(mm);
	if (!mmn_mmap_read_trylock(mm))
		return -EAGAIN;
	refuse = !p->nonblock && p->oom_reap_skip_notifiers && mmn_mm_notifier_subscriptions(mm);
	for (int i = 0; i < mm->nr_vmas; i++) {
		struct mmn_vma *vma = mm->vmas[i];
		struct mmn_notifier_range range;
		struct mmn_mmu_gather tlb;

		/* Only private anonymous memory is dropped without more work. */
		if (vma->vm_flags & (MMN_VM_HUGETLB | MMN_VM_SHARED))
			continue;
		if (refuse) {
			nskip++;
			continue;
		}
		mmn__notify_range_init(&range, p->oom_reap_clear ? MMN_NOTIFY_CLEAR : MMN_NOTIFY_UNMAP, mm,
			       vma->start, vma->end, NULL);
		mmn_tlb_gather_mmu(&tlb, mm);
		/* Before nonblock the reaper called no start/end: 4.15-4.18 only
		 * ran on mms without notifiers, 4.12/4.13 ran on every mm. */
		if (p->nonblock && mmn__notify_start_nonblock(MMN_OP_OOM_REAP, &range)) {
			mmn_tlb_finish_mmu(&tlb);
			nskip++;
			continue;
		}
		zapped += mmn_zap_vma_range(&tlb, vma, vma->start, vma->end);
		if (p->nonblock)
			mmn__notify_end(&range);
		mmn_tlb_finish_mmu(&tlb);
	}
	mmn_mmap_read_unlock(mm);
	mmn__op_stat_call(mm->sim, MMN_OP_OOM_REAP);
	mmn__op_stat_pages(mm->sim, MMN_OP_OOM_REAP, zapped, 0);
	mmn__op_stat_skipped(mm->sim, MMN_OP_OOM_REAP, nskip);
	if (skipped)
		*skipped = nskip;
	return 0;
}

/* The span of the trace around oom_reap (docs/exploration.md). */
int mmn_oom_reap(struct mmn_mm *mm, unsigned long *skipped)
{
	struct mmn_sim *sim = mm ? mm->sim : NULL;
	int err;

	mmn_sched_span_begin(sim, "oom_reap", 0, 0, NULL);
	err = oom_reap_do(mm, skipped);
	mmn_sched_span_end(sim, "oom_reap");
	return err;
}
