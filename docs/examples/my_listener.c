// SPDX-License-Identifier: MIT
/*
 * A complete secondary MMU in one file, written only against the public API
 * (docs/listeners.md, "How to write your own listener"). The test build
 * compiles and runs it (CTest: example.my_listener).
 *
 * The "device" caches translations (virtual page -> frame + generation) in a
 * small table. It follows the KVM rule: invalidate_range_start drops the
 * covered entries and blocks new ones until invalidate_range_end; its fault
 * path snapshots a sequence count, pins the page through the primary MMU,
 * and installs the translation only if no invalidation overlapped. Every
 * device access goes through mmn_phys_access() with the generation the
 * translation recorded, so the oracle catches a use-after-free; the cache is
 * registered with the stale-translation audit.
 */
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#define SLOTS 16

struct my_dev {
	struct mmn_notifier mn;        /* first: the callbacks get &mn back */
	struct mmn_spinlock lock;      /* guards everything below */
	unsigned long seq;             /* bumped by every end */
	int in_progress;               /* open invalidations */
	struct mmn_secondary_entry tlb[SLOTS];
	int n;
	unsigned long faults, zapped;
};

static const struct mmn_lock_class my_dev_lock_class = { .name = "my_dev_lock" };

static int my_start(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	struct my_dev *d = (struct my_dev *)sub;

	mmn_spin_lock(&d->lock);
	d->in_progress++;
	for (int i = 0; i < d->n; i++) {
		if (d->tlb[i].addr >= r->start && d->tlb[i].addr < r->end) {
			d->tlb[i--] = d->tlb[--d->n];
			d->zapped++;
		}
	}
	mmn_spin_unlock(&d->lock);
	return 0;
}

static void my_end(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	struct my_dev *d = (struct my_dev *)sub;

	(void)r;
	mmn_spin_lock(&d->lock);
	d->seq++;
	d->in_progress--;
	mmn_spin_unlock(&d->lock);
}

static void my_release(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	struct my_dev *d = (struct my_dev *)sub;

	(void)mm;
	mmn_spin_lock(&d->lock);
	d->n = 0;
	mmn_spin_unlock(&d->lock);
}

static const struct mmn_notifier_ops my_ops = {
	.invalidate_range_start = my_start,
	.invalidate_range_end = my_end,
	.release = my_release,
};

/* The oracle's view of the cache (mmn_check_quiescent()). */
static void my_iter(void *ctx, mmn_secondary_emit_fn emit, void *cookie)
{
	struct my_dev *d = ctx;

	mmn_spin_lock(&d->lock);
	for (int i = 0; i < d->n; i++)
		emit(cookie, &d->tlb[i]);
	mmn_spin_unlock(&d->lock);
}

/* A device load: cache hit, or fault (seq snapshot, pin, recheck, install). */
static int my_dev_read(struct my_dev *d, unsigned long addr, uint64_t *val)
{
	struct mmn_sim *sim = mmn_mm_sim(d->mn.mm);

	addr &= MMN_PAGE_MASK;
	for (;;) {
		unsigned long seq, pfn;
		uint32_t gen;
		int err;

		mmn_spin_lock(&d->lock);
		for (int i = 0; i < d->n; i++) {
			if (d->tlb[i].addr == addr) {
				struct mmn_secondary_entry e = d->tlb[i];

				/* The access happens under the lock, so an
				 * invalidation cannot slip between lookup and use. */
				err = mmn_phys_access(sim, e.pfn, e.gen, addr, false, val);
				mmn_spin_unlock(&d->lock);
				return err;
			}
		}
		seq = d->seq;
		mmn_spin_unlock(&d->lock);

		d->faults++;
		err = mmn_get_user_pages(d->mn.mm, addr, 0, &pfn, &gen);
		if (err)
			return err;
		mmn_spin_lock(&d->lock);
		if (!d->in_progress && d->seq == seq && d->n < SLOTS)
			d->tlb[d->n++] = (struct mmn_secondary_entry){
				.mm = d->mn.mm, .addr = addr, .pfn = pfn, .gen = gen };
		mmn_spin_unlock(&d->lock);
		/* Like KVM, keep no page reference: the notifier protects it. */
		mmn_unpin_user_page(sim, pfn);
	}
}

int main(void)
{
	struct mmn_sim *sim = mmn_sim_create(NULL);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct my_dev dev;
	unsigned long base;
	uint64_t v = 0;
	int bad = 0;

	memset(&dev, 0, sizeof(dev));
	dev.mn.ops = &my_ops;
	mmn_spin_lock_init(&dev.lock, sim, &my_dev_lock_class, "my_dev");
	if (mmn_notifier_register(&dev.mn, mm) ||
	    mmn_check_register_secondary(sim, "my_dev", my_iter, &dev))
		return 1;

	mmn_mmap(mm, 0, 4 * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
		 MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &base);
	mmn_cpu_write(mm, 0, base, 42);
	bad |= my_dev_read(&dev, base, &v) || v != 42;          /* fault, then access */
	bad |= my_dev_read(&dev, base, &v) || v != 42;          /* cache hit */
	mmn_madvise(mm, base, MMN_PAGE_SIZE, MMN_MADV_DONTNEED); /* start zaps the entry */
	bad |= my_dev_read(&dev, base, &v) || v != 0;           /* fresh zero page */

	printf("my_dev: %lu faults, %lu entries zapped; violations %lu, stale %ld\n", dev.faults,
	       dev.zapped, mmn_check_total(sim), mmn_check_quiescent(sim));
	bad |= dev.faults != 2 || dev.zapped != 1 || mmn_check_total(sim) != 0;

	mmn_check_unregister_secondary(sim, &dev);
	mmn_notifier_unregister(&dev.mn, mm);
	mmn_spin_lock_destroy(&dev.lock);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
	return bad;
}
