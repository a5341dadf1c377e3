// SPDX-License-Identifier: MIT
/*
 * A pinned stale translation, caught at access time (docs/notifier.md,
 * "Stale translations at access time"). Written only against the public
 * API; the test build runs it (CTest: example.pfn_cache).
 *
 * The shape of KVM's gfn-to-pfn cache refresh race (virt/kvm/pfncache.c,
 * 2022): a cache holds one translation (address -> frame), pinned with GUP.
 * Its invalidate_range_start drops the translation only if it is valid
 * (gfn_to_pfn_cache_invalidate_start()). The refresh marks it invalid, drops
 * the lock, pins the page (hva_to_pfn()), retakes the lock and installs it
 * valid. An invalidation that runs while the lock is dropped finds nothing
 * valid and does nothing; the refresh then installs a frame the primary no
 * longer maps. The pin keeps the frame allocated, so the generation check
 * of mmn_phys_access() sees no use-after-free: only the access-time check
 * (mmn_check_secondary_access()) catches the later access through it.
 *
 * The fix (hva_to_pfn_retry() with the invalidation sequence): note the
 * cache's sequence before pinning, and install only if no invalidation
 * started or ran meanwhile; else unpin and retry.
 *
 * The race is placed by a scheduling-point hook at the point the refresh
 * passes with its lock dropped: there the "guest" unmaps the page
 * (MADV_DONTNEED) and the CPU writes it again (a new frame).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

struct pfn_cache {
	struct mmn_notifier mn;        /* first: the callbacks get &mn back */
	struct mmn_spinlock lock;      /* guards everything below */
	bool fixed;                    /* refresh with the sequence check */
	bool valid;
	struct mmn_secondary_block t;  /* the cached translation, 4 KiB */
	unsigned long seq;             /* bumped by every end (mmu_invalidate_seq) */
	int in_progress;               /* open invalidations */
	unsigned long retries;
};

static const struct mmn_lock_class pc_lock_class = { .name = "pfn_cache_lock" };

static int pc_start(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	struct pfn_cache *c = (struct pfn_cache *)sub;

	mmn_spin_lock(&c->lock);
	c->in_progress++;
	if (c->valid && c->t.addr >= r->start && c->t.addr < r->end)
		c->valid = false; /* the pin stays until the next refresh */
	mmn_spin_unlock(&c->lock);
	return 0;
}

static void pc_end(struct mmn_notifier *sub, const struct mmn_notifier_range *r)
{
	struct pfn_cache *c = (struct pfn_cache *)sub;

	(void)r;
	mmn_spin_lock(&c->lock);
	c->seq++;
	c->in_progress--;
	mmn_spin_unlock(&c->lock);
}

static const struct mmn_notifier_ops pc_ops = {
	.invalidate_range_start = pc_start,
	.invalidate_range_end = pc_end,
};

/* The oracle's view of the cache: one 4 KiB block while valid. */
static void pc_iter(void *ctx, mmn_secondary_emit_block_fn emit, void *cookie)
{
	struct pfn_cache *c = ctx;

	mmn_spin_lock(&c->lock);
	if (c->valid)
		emit(cookie, &c->t);
	mmn_spin_unlock(&c->lock);
}

/* kvm_gpc_refresh(): pin @addr's page and cache it. */
static int pc_refresh(struct pfn_cache *c, unsigned long addr)
{
	struct mmn_mm *mm = c->mn.mm;
	struct mmn_sim *sim = mmn_mm_sim(mm);

	for (;;) {
		unsigned long old_pfn = 0, pfn, seq;
		uint32_t gen;
		int err;

		mmn_spin_lock(&c->lock);
		if (c->t.pfn && c->t.addr)
			old_pfn = c->t.pfn;
		c->valid = false;
		c->t.pfn = 0;
		seq = c->seq;
		mmn_spin_unlock(&c->lock);
		if (old_pfn)
			mmn_unpin_user_page(sim, old_pfn);

		err = mmn_get_user_pages(mm, addr, MMN_FOLL_WRITE, &pfn, &gen);
		if (err)
			return err;
		/* The lock is dropped here: an invalidation may run. */
		mmn_sched_point(sim, MMN_SCHED_EXPLICIT, c, "pfn_cache_pinned", addr);

		mmn_spin_lock(&c->lock);
		if (c->fixed && (c->in_progress || c->seq != seq)) {
			mmn_spin_unlock(&c->lock);
			mmn_unpin_user_page(sim, pfn);
			c->retries++;
			continue;
		}
		c->t = (struct mmn_secondary_block){ .mm = mm, .addr = addr, .size = MMN_PAGE_SIZE,
						     .pfn = pfn, .gen = gen, .write = true };
		c->valid = true;
		mmn_spin_unlock(&c->lock);
		return 0;
	}
}

/* A guest-side read through the cache (kvm_gpc_check() then the map). */
static int pc_read(struct pfn_cache *c, uint64_t *val)
{
	struct mmn_sim *sim = mmn_mm_sim(c->mn.mm);
	int err = -EAGAIN;

	mmn_spin_lock(&c->lock);
	if (c->valid) {
		(void)mmn_check_secondary_access(sim, c, &c->t, c->t.addr, false);
		err = mmn_phys_access(sim, c->t.pfn, c->t.gen, c->t.addr, false, val);
	}
	mmn_spin_unlock(&c->lock);
	return err;
}

/* The race: once, where the refresh has its page pinned and its lock
 * dropped, the page is unmapped and the CPU writes the address again. */
struct race {
	struct mmn_mm *mm;
	unsigned long addr;
	bool done;
};

static void race_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct race *r = arg;

	(void)sim;
	if (r->done || ev->kind != MMN_SCHED_EXPLICIT || !ev->name ||
	    strcmp(ev->name, "pfn_cache_pinned") != 0)
		return;
	r->done = true;
	mmn_madvise(r->mm, r->addr, MMN_PAGE_SIZE, MMN_MADV_DONTNEED);
	mmn_cpu_write(r->mm, 0, r->addr, 2);
}

/* One run; returns the stale translations found at access time. */
static unsigned long run(bool fixed)
{
	struct mmn_sim *sim = mmn_sim_create(NULL);
	struct mmn_mm *mm = mmn_mm_create(sim);
	struct pfn_cache c;
	struct race r = { .mm = mm };
	unsigned long stale, uaf;
	uint64_t v = 0;
	long audit;

	memset(&c, 0, sizeof(c));
	c.fixed = fixed;
	c.mn.ops = &pc_ops;
	mmn_spin_lock_init(&c.lock, sim, &pc_lock_class, "pfn_cache");
	if (mmn_check_register_secondary_blocks(sim, "pfn_cache", pc_iter, &c,
						MMN_SECONDARY_TOLD_AT_START) ||
	    mmn_check_secondary_link(sim, &c, &c.mn) || mmn_notifier_register(&c.mn, mm))
		return ~0UL;
	mmn_mmap(mm, 0, MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
		 MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS, &r.addr);
	mmn_cpu_write(mm, 0, r.addr, 1);

	mmn_sched_set_hook(sim, race_hook, &r);
	pc_refresh(&c, r.addr);
	mmn_sched_set_hook(sim, NULL, NULL);
	pc_read(&c, &v);

	stale = mmn_check_count(sim, MMN_VIOL_STALE_TRANSLATION);
	uaf = mmn_check_count(sim, MMN_VIOL_USE_AFTER_FREE);
	audit = mmn_check_quiescent(sim);
	printf("%s: read %llu (the CPU sees 2), %lu retries; at access: %lu stale, %lu "
	       "use-after-free; audit: %ld stale\n",
	       fixed ? "fixed" : "racy ", (unsigned long long)v, c.retries, stale, uaf, audit);

	mmn_notifier_unregister(&c.mn, mm);
	if (c.t.pfn)
		mmn_unpin_user_page(sim, c.t.pfn);
	mmn_check_unregister_secondary(sim, &c);
	mmn_spin_lock_destroy(&c.lock);
	mmn_mm_put(mm);
	mmn_sim_destroy(sim);
	return stale;
}

int main(void)
{
	unsigned long racy = run(false), fixed = run(true);

	/* The racy refresh is caught at the access, the fixed one is clean. */
	return racy == 1 && fixed == 0 ? 0 : 1;
}
