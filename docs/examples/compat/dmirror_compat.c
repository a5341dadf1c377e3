// SPDX-License-Identifier: MIT
/*
 * A device that mirrors a range of a process address space, written in
 * kernel style against mmnsim's kernel-compatibility headers
 * (docs/compat.md): the shape of lib/test_hmm.c's dmirror (an interval
 * notifier, a device page table under a mutex, a fault loop around
 * hmm_range_fault()), written here from that driver's behaviour. It names
 * nothing of the simulator except <linux/sim_device.h>, the device access
 * a real device does by DMA.
 *
 * The fault loop is the HMM rule (Documentation/mm/hmm.rst): read_begin,
 * hmm_range_fault() under mmap_read_lock, then under the device lock
 * mmu_interval_read_retry() before programming. DMIRROR_NO_READ_RETRY
 * (a creation flag) drops that check (the wrong variant, as a DRM user had it):
 * an invalidation between the walk and the lock goes unnoticed and the
 * device keeps a frame the CPU side already freed.
 */
#include <linux/errno.h>
#include <linux/hmm.h>
#include <linux/kernel.h>
#include <linux/mm.h>
#include <linux/mmu_notifier.h>
#include <linux/mutex.h>
#include <linux/sched/mm.h>
#include <linux/sim_device.h>
#include <linux/slab.h>

#include "dmirror_compat.h"

#define DMIRROR_CHUNK 16
#define DMIRROR_RETRIES 64

struct dmirror_entry {
	unsigned long pfn;
	u32 gen;
	bool valid;
	bool write;
};

struct dmirror {
	struct mmu_interval_notifier notifier;
	struct mutex mutex; /* protects pt[] */
	struct mm_struct *mm;
	unsigned long start;
	unsigned long npages;
	bool read_retry;
	unsigned long faults;
	unsigned long invalidations;
	struct dmirror_entry *pt;
};

static void dmirror_zap(struct dmirror *dmirror, unsigned long start, unsigned long end)
{
	unsigned long addr;

	lockdep_assert_held(&dmirror->mutex);
	start = max(start, dmirror->start);
	end = min(end, dmirror->start + dmirror->npages * PAGE_SIZE);
	for (addr = start; addr < end; addr += PAGE_SIZE)
		dmirror->pt[(addr - dmirror->start) >> PAGE_SHIFT].valid = false;
}

static bool dmirror_interval_invalidate(struct mmu_interval_notifier *mni,
					const struct mmu_notifier_range *range,
					unsigned long cur_seq)
{
	struct dmirror *dmirror = container_of(mni, struct dmirror, notifier);

	if (mmu_notifier_range_blockable(range))
		mutex_lock(&dmirror->mutex);
	else if (!mutex_trylock(&dmirror->mutex))
		return false;

	mmu_interval_set_seq(mni, cur_seq);
	dmirror->invalidations++;
	dmirror_zap(dmirror, range->start, range->end);

	mutex_unlock(&dmirror->mutex);
	return true;
}

static const struct mmu_interval_notifier_ops dmirror_min_ops = {
	.invalidate = dmirror_interval_invalidate,
};

/* Program the device page table from a successful walk (mutex held). */
static void dmirror_program(struct dmirror *dmirror, const struct hmm_range *range)
{
	unsigned long i, n = (range->end - range->start) >> PAGE_SHIFT;
	unsigned long first = (range->start - dmirror->start) >> PAGE_SHIFT;

	for (i = 0; i < n; i++) {
		unsigned long hpfn = range->hmm_pfns[i];
		struct dmirror_entry *e = &dmirror->pt[first + i];

		if (!(hpfn & HMM_PFN_VALID))
			continue;
		e->pfn = hpfn & ~HMM_PFN_FLAGS;
		e->gen = range->gens[i];
		e->write = hpfn & HMM_PFN_WRITE;
		e->valid = true;
	}
}

static int dmirror_range_fault(struct dmirror *dmirror, struct hmm_range *range)
{
	int tries, ret;

	for (tries = 0; tries < DMIRROR_RETRIES; tries++) {
		range->notifier_seq = mmu_interval_read_begin(range->notifier);
		mmap_read_lock(dmirror->mm);
		ret = hmm_range_fault(range);
		mmap_read_unlock(dmirror->mm);
		if (ret == -EBUSY)
			continue;
		if (ret)
			return ret;

		mutex_lock(&dmirror->mutex);
		if (dmirror->read_retry &&
		    mmu_interval_read_retry(range->notifier, range->notifier_seq)) {
			mutex_unlock(&dmirror->mutex);
			continue;
		}
		dmirror_program(dmirror, range);
		mutex_unlock(&dmirror->mutex);
		return 0;
	}
	return -EBUSY;
}

static int dmirror_fault(struct dmirror *dmirror, unsigned long start, unsigned long end,
			 bool write)
{
	unsigned long pfns[DMIRROR_CHUNK];
	u32 gens[DMIRROR_CHUNK];
	struct hmm_range range = {
		.notifier = &dmirror->notifier,
		.hmm_pfns = pfns,
		.default_flags = HMM_PFN_REQ_FAULT | (write ? HMM_PFN_REQ_WRITE : 0),
		.dev_private_owner = dmirror,
		.gens = gens,
	};
	unsigned long addr, next;
	int ret = 0;

	if (!mmget_not_zero(dmirror->mm))
		return -EINVAL;
	for (addr = start; addr < end && !ret; addr = next) {
		next = min(end, addr + DMIRROR_CHUNK * PAGE_SIZE);
		range.start = addr;
		range.end = next;
		ret = dmirror_range_fault(dmirror, &range);
	}
	mmput(dmirror->mm);
	return ret;
}

/* One device access of the page at @addr; faults once if it is not mapped
 * as needed (the READ/WRITE commands of dmirror, one page). */
static int dmirror_access(struct dmirror *dmirror, unsigned long addr, bool write, u64 *val)
{
	unsigned long idx;
	int ret;

	if (addr < dmirror->start || addr >= dmirror->start + dmirror->npages * PAGE_SIZE)
		return -EINVAL;
	idx = (addr - dmirror->start) >> PAGE_SHIFT;
	for (;;) {
		struct dmirror_entry *e;

		mutex_lock(&dmirror->mutex);
		e = &dmirror->pt[idx];
		if (e->valid && (!write || e->write)) {
			ret = sim_device_access(dmirror->mm, e->pfn, e->gen, addr, write, val);
			mutex_unlock(&dmirror->mutex);
			return ret;
		}
		mutex_unlock(&dmirror->mutex);
		if (dmirror->faults++ > DMIRROR_RETRIES)
			return -EBUSY;
		ret = dmirror_fault(dmirror, addr, addr + PAGE_SIZE, write);
		if (ret)
			return ret;
	}
}

int dmirror_read(struct dmirror *dmirror, unsigned long addr, u64 *val)
{
	return dmirror_access(dmirror, addr & PAGE_MASK, false, val);
}

int dmirror_write(struct dmirror *dmirror, unsigned long addr, u64 val)
{
	return dmirror_access(dmirror, addr & PAGE_MASK, true, &val);
}

/* The translations, as the simulator's quiescent audit sees them. */
static void dmirror_translations(void *ctx, sim_emit_fn emit, void *cookie)
{
	struct dmirror *dmirror = ctx;
	unsigned long i;

	mutex_lock(&dmirror->mutex);
	for (i = 0; i < dmirror->npages; i++) {
		const struct dmirror_entry *e = &dmirror->pt[i];
		struct sim_translation t = {
			.mm = dmirror->mm,
			.addr = dmirror->start + i * PAGE_SIZE,
			.pfn = e->pfn,
			.gen = e->gen,
			.write = e->write,
		};

		if (e->valid)
			emit(cookie, &t);
	}
	mutex_unlock(&dmirror->mutex);
}

struct dmirror *dmirror_create(struct mm_struct *mm, unsigned long start, unsigned long npages,
			       unsigned int flags)
{
	struct dmirror *dmirror;
	int ret;

	if (!npages || (start & ~PAGE_MASK))
		return ERR_PTR(-EINVAL);
	dmirror = kzalloc(sizeof(*dmirror), GFP_KERNEL);
	if (!dmirror)
		return ERR_PTR(-ENOMEM);
	dmirror->pt = kcalloc(npages, sizeof(*dmirror->pt), GFP_KERNEL);
	if (!dmirror->pt) {
		kfree(dmirror);
		return ERR_PTR(-ENOMEM);
	}
	mutex_init(&dmirror->mutex);
	dmirror->mm = mm;
	dmirror->start = start;
	dmirror->npages = npages;
	dmirror->read_retry = !(flags & DMIRROR_NO_READ_RETRY);
	ret = mmu_interval_notifier_insert(&dmirror->notifier, mm, start, npages * PAGE_SIZE,
					   &dmirror_min_ops);
	if (!ret)
		ret = sim_register_translations(mm, "dmirror", dmirror_translations, dmirror);
	if (ret) {
		if (dmirror->notifier.mm)
			mmu_interval_notifier_remove(&dmirror->notifier);
		mutex_destroy(&dmirror->mutex);
		kfree(dmirror->pt);
		kfree(dmirror);
		return ERR_PTR(ret);
	}
	return dmirror;
}

void dmirror_destroy(struct dmirror *dmirror)
{
	sim_unregister_translations(dmirror->mm, dmirror);
	mmu_interval_notifier_remove(&dmirror->notifier);
	mutex_destroy(&dmirror->mutex);
	kfree(dmirror->pt);
	kfree(dmirror);
}

bool dmirror_has_read_retry(const struct dmirror *dmirror)
{
	return dmirror->read_retry;
}

unsigned long dmirror_invalidations(struct dmirror *dmirror)
{
	unsigned long n;

	mutex_lock(&dmirror->mutex);
	n = dmirror->invalidations;
	mutex_unlock(&dmirror->mutex);
	return n;
}
