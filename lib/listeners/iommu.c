// SPDX-License-Identifier: MIT
/*
 * Reference listener: an IOMMU doing SVA for one ATS/PRI device.
 *
 * Written against the public API only. Models the behaviour (not the code)
 * of drivers/iommu/iommu-sva.c (bind, one PASID per mm, the iopf handler),
 * drivers/iommu/intel/svm.c and drivers/iommu/arm/arm-smmu-v3/
 * arm-smmu-v3-sva.c (the secondary-TLB flush of IOTLB + ATC tagged by
 * PASID; release blocks the PASID) and, in MMN_IOMMU_AMDV2 mode, of the
 * pre-2014 drivers/iommu/amd/iommu_v2.c (the empty page table between
 * invalidate_range_start and invalidate_range_end; PPR answered SUCCESS
 * meanwhile; the device re-faults).
 *
 * Why SVA needs the flush under the PTL (seed 000): the device walks the
 * CPU table, so the only copy of a translation is the cache. Once the PTE
 * is cleared and the PTL dropped, the page may be freed and re-used; a
 * cached translation flushed only later (at invalidate_range_end) is a
 * window for a DMA into someone else's page:
 *
 *      reclaim (CPU)                        device (DMA)
 *      -------------                        ------------
 *      S(range)                             IOTLB: va -> pfn (gen g)
 *      L(PTL); clear PTE; F1 [F2 here: ok]
 *      U(PTL)
 *      put_page(pfn): freed, gen g+1
 *      pfn re-used by another owner
 *                                           DMA va: IOTLB hit, pfn gen g
 *                                           -> use-after-free
 *      E(range) [F2 here: too late]
 *
 * AMDv2 instead makes the PASID translate nothing from S to E, at the price
 * of device faults for the whole window (seed 001, S2):
 *
 *      invalidator                          device
 *      -----------                          ------
 *      S: pasid->invalidating++, flush
 *                                           translate: empty table -> PRI
 *                                           PPR: SUCCESS (nothing resolved)
 *                                           retry -> PRI again (re-fault)
 *      ... PTE changes ...                  ... max_faults -> give up
 *      E: pasid->invalidating--
 *                                           translate: walk -> ok
 */
#include <errno.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/check.h>
#include <mmnsim/clock.h>
#include <mmnsim/fault.h>
#include <mmnsim/listeners/iommu.h>
#include <mmnsim/mm.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/page.h>
#include <mmnsim/pgtable.h>
#include <mmnsim/sync.h>

#define IO_MAX_ENTRIES 65536u
#define IO_MAX_PASIDS 4096u
#define IO_MAX_FAULTS 1000000u

/* One cached translation (an IOTLB or ATC entry), 4 KiB granule. */
struct io_tlb_entry {
	bool valid;
	bool write;
	int pasid;
	unsigned long va;   /* aligned to @size */
	unsigned long pfn;  /* frame of @va (the first of a superpage) */
	unsigned long size; /* MMN_PAGE_SIZE, or MMN_PMD_SIZE for a superpage */
	uint32_t gen;
};

enum io_pasid_state {
	IO_PASID_FREE = 0,
	IO_PASID_BOUND,   /* translating */
	IO_PASID_BLOCKED, /* released: every translation faults */
};

/* A PASID table entry with its subscription (mm->iommu_mm in the kernel). */
struct io_pasid {
	struct mmn_notifier mn;   /* registered on mm while bound */
	struct mmn_iommu *iommu;
	struct mmn_mm *mm;        /* under cache_lock (read by DMA) */
	int pasid;
	enum io_pasid_state state; /* under cache_lock */
	int invalidating;          /* AMDv2: open starts, under cache_lock */
};

struct mmn_iommu {
	struct mmn_sim *sim;
	struct mmn_iommu_config cfg;
	/* Guards the IOTLB, the ATC and the PASID states (not sleeping:
	 * taken under the PTL by the flush callbacks). */
	struct mmn_spinlock cache_lock;
	/* Serialises bind/unbind (may sleep). */
	struct mmn_mutex bind_lock;
	struct io_tlb_entry *iotlb;
	struct io_tlb_entry *atc;
	struct io_pasid *pasids;  /* cfg.max_pasids, index = pasid - 1 */
	struct mmn_iommu_stats st; /* every member updated with atomic builtins */
};

/* Unranked classes: the cache lock nests inside the PTL (the callbacks) and
 * inside nothing else; bind_lock is outside mmap_lock (registration takes
 * it for write). */
static const struct mmn_lock_class io_cache_class = { .name = "iommu_cache", .rank = 0 };
static const struct mmn_lock_class io_bind_class = { .name = "iommu_bind", .rank = 0 };


#define IO_STAT_ADD(io, field, n) \
	__atomic_fetch_add(&(io)->st.field, (unsigned long)(n), __ATOMIC_RELAXED)
#define IO_STAT_INC(io, field) IO_STAT_ADD(io, field, 1)

static struct io_pasid *io_of(struct mmn_notifier *sub)
{
	return (struct io_pasid *)((char *)sub - offsetof(struct io_pasid, mn));
}

static size_t io_slot(unsigned int size, int pasid, unsigned long va)
{
	uint64_t h = ((uint64_t)(va >> MMN_PAGE_SHIFT)) ^ ((uint64_t)(unsigned)pasid * 0x9e3779b97f4a7c15ULL);

	return (size_t)(h % size);
}

/* ------------------------------------------------------------------ */
/* Flushes (PASID-tagged IOTLB invalidation + ATS invalidation)         */
/* ------------------------------------------------------------------ */

/* Drops the entries of @pasid in [start, end); under cache_lock (__io_flush()). */
static unsigned long __io_flush_cache(struct io_tlb_entry *c, unsigned int n, int pasid,
				      unsigned long start, unsigned long end)
{
	unsigned long dropped = 0;

	for (unsigned int i = 0; i < n; i++) {
		if (c[i].valid && c[i].pasid == pasid && c[i].va < end &&
		    c[i].va + c[i].size > start) {
			c[i].valid = false;
			dropped++;
		}
	}
	return dropped;
}

/*
 * qi_flush_piotlb() + qi_flush_dev_iotlb_pasid() (VT-d) / a PASID-scoped
 * TLBI + ATC_INV + CMD_SYNC (SMMUv3): synchronous, under cache_lock.
 */
static void __io_flush(struct mmn_iommu *io, int pasid, unsigned long start, unsigned long end)
{
	unsigned long dropped = 0;

	mmn_lockdep_assert_held(&io->cache_lock, "iommu cache_lock");
	IO_STAT_INC(io, flushes);
	if (!io->cfg.skip_flush) {
		dropped += __io_flush_cache(io->iotlb, io->cfg.iotlb_entries, pasid, start, end);
		dropped += __io_flush_cache(io->atc, io->cfg.atc_entries, pasid, start, end);
		/* Modelled time: one PASID-scoped IOTLB invalidation command
		 * (one descriptor covers the range) and one ATS invalidation
		 * request to the device's ATC, each waited for. */
		mmn_clock_charge(io->sim, MMN_COST_IOTLB_INV, 1);
		mmn_clock_charge(io->sim, MMN_COST_ATS_INV, 1);
	}
	if (dropped)
		IO_STAT_ADD(io, entries_flushed, dropped);
	else
		IO_STAT_INC(io, needless_flushes);
}

static void io_flush_range(struct io_pasid *p, unsigned long start, unsigned long end)
{
	struct mmn_iommu *io = p->iommu;

	mmn_spin_lock(&io->cache_lock);
	__io_flush(io, p->pasid, start, end);
	mmn_spin_unlock(&io->cache_lock);
}

/* arch_invalidate_secondary_tlbs (6.6+): intel_arch_invalidate_secondary_tlbs(),
 * arm_smmu_mm_arch_invalidate_secondary_tlbs(). Under the PTL. */
static void io_arch_invalidate(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
			       unsigned long end)
{
	struct io_pasid *p = io_of(sub);

	(void)mm;
	IO_STAT_INC(p->iommu, callbacks[MMN_IOMMU_CB_ARCH_INVALIDATE]);
	io_flush_range(p, start, end);
}

/* invalidate_range (3.19-6.5): the same flush under its older name. */
static void io_invalidate_range(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long start,
				unsigned long end)
{
	struct io_pasid *p = io_of(sub);

	(void)mm;
	IO_STAT_INC(p->iommu, callbacks[MMN_IOMMU_CB_INVALIDATE_RANGE]);
	io_flush_range(p, start, end);
}

/* invalidate_page (up to 4.12): intel_invalidate_page() / mn_invalidate_page(). */
static void io_invalidate_page(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long addr)
{
	struct io_pasid *p = io_of(sub);

	(void)mm;
	IO_STAT_INC(p->iommu, callbacks[MMN_IOMMU_CB_INVALIDATE_PAGE]);
	addr &= MMN_PAGE_MASK;
	io_flush_range(p, addr, addr + MMN_PAGE_SIZE);
}

/* change_pte (AMDv2: mn_change_pte() flushed the page). */
static void io_change_pte(struct mmn_notifier *sub, struct mmn_mm *mm, unsigned long addr,
			  mmn_pte_t pte)
{
	struct io_pasid *p = io_of(sub);

	(void)mm;
	(void)pte;
	IO_STAT_INC(p->iommu, callbacks[MMN_IOMMU_CB_CHANGE_PTE]);
	addr &= MMN_PAGE_MASK;
	io_flush_range(p, addr, addr + MMN_PAGE_SIZE);
}

/*
 * AMDv2 mn_invalidate_range_start(): the first open invalidation points the
 * PASID's GCR3 at an empty page table; the caches are flushed so nothing
 * translates until the end. Never sleeps, never fails.
 */
static int io_range_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct io_pasid *p = io_of(sub);
	struct mmn_iommu *io = p->iommu;

	IO_STAT_INC(io, callbacks[MMN_IOMMU_CB_RANGE_START]);
	if ((unsigned)range->event < MMN_NOTIFY_NR_EVENTS)
		IO_STAT_INC(io, events[range->event]);
	mmn_spin_lock(&io->cache_lock);
	p->invalidating++;
	/* The empty table: every translation of the PASID goes, not only the
	 * range's (the old driver flushed the whole PASID). */
	__io_flush(io, p->pasid, 0, ~0UL);
	mmn_spin_unlock(&io->cache_lock);
	return 0;
}

/* AMDv2 mn_invalidate_range_end(): the last one restores the real table. */
static void io_range_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct io_pasid *p = io_of(sub);
	struct mmn_iommu *io = p->iommu;

	(void)range;
	IO_STAT_INC(io, callbacks[MMN_IOMMU_CB_RANGE_END]);
	mmn_spin_lock(&io->cache_lock);
	if (p->invalidating > 0)
		p->invalidating--;
	mmn_spin_unlock(&io->cache_lock);
}

/*
 * release: intel_mm_release() / arm_smmu_mm_release() / mn_release(): the
 * PASID entry is torn down (blocked: every further translation faults and
 * the device's accesses fail) and the caches flushed, before exit_mmap
 * frees the pages.
 */
static void io_release(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	struct io_pasid *p = io_of(sub);
	struct mmn_iommu *io = p->iommu;

	(void)mm;
	IO_STAT_INC(io, callbacks[MMN_IOMMU_CB_RELEASE]);
	mmn_spin_lock(&io->cache_lock);
	if (p->state == IO_PASID_BOUND)
		p->state = IO_PASID_BLOCKED;
	p->invalidating = 0;
	__io_flush(io, p->pasid, 0, ~0UL);
	mmn_spin_unlock(&io->cache_lock);
}

static const struct mmn_notifier_ops io_sva_ops = {
	.release = io_release,
	.arch_invalidate_secondary_tlbs = io_arch_invalidate,
	.invalidate_range = io_invalidate_range,
	.invalidate_page = io_invalidate_page,
};

static const struct mmn_notifier_ops io_amdv2_ops = {
	.release = io_release,
	.invalidate_range_start = io_range_start,
	.invalidate_range_end = io_range_end,
	.invalidate_page = io_invalidate_page,
	.change_pte = io_change_pte,
};

const struct mmn_notifier_ops *mmn_iommu_ops(enum mmn_iommu_mode mode)
{
	switch (mode) {
	case MMN_IOMMU_SVA:
		return &io_sva_ops;
	case MMN_IOMMU_AMDV2:
		return &io_amdv2_ops;
	}
	return NULL;
}

const char *mmn_iommu_cb_name(enum mmn_iommu_cb cb)
{
	static const char *const names[MMN_IOMMU_CB_NR] = {
		"arch_invalidate_secondary_tlbs", "invalidate_range", "invalidate_page",
		"invalidate_range_start", "invalidate_range_end", "change_pte", "release",
	};

	if ((unsigned)cb >= MMN_IOMMU_CB_NR)
		return "unknown";
	return names[cb];
}

/* ------------------------------------------------------------------ */
/* The quiescent audit                                                 */
/* ------------------------------------------------------------------ */

/* One cached entry as the oracle sees it: a 4 KiB page or a superpage. */
static struct mmn_secondary_block io_block(const struct mmn_iommu *io,
					   const struct io_tlb_entry *e)
{
	return (struct mmn_secondary_block){
		.mm = io->pasids[e->pasid - 1].mm, .addr = e->va, .size = e->size,
		.pfn = e->pfn, .gen = e->gen, .write = e->write,
	};
}

static void io_emit_cache(struct mmn_iommu *io, const struct io_tlb_entry *c, unsigned int n,
			  mmn_secondary_emit_block_fn emit, void *cookie)
{
	for (unsigned int i = 0; i < n; i++) {
		struct mmn_secondary_block b;

		if (!c[i].valid)
			continue;
		b = io_block(io, &c[i]);
		emit(cookie, &b);
	}
}

static void io_iter(void *ctx, mmn_secondary_emit_block_fn emit, void *cookie)
{
	struct mmn_iommu *io = ctx;

	mmn_spin_lock(&io->cache_lock);
	io_emit_cache(io, io->iotlb, io->cfg.iotlb_entries, emit, cookie);
	io_emit_cache(io, io->atc, io->cfg.atc_entries, emit, cookie);
	mmn_spin_unlock(&io->cache_lock);
}

/* ------------------------------------------------------------------ */
/* Creation, bind, unbind                                              */
/* ------------------------------------------------------------------ */

void mmn_iommu_config_init(struct mmn_iommu_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = MMN_IOMMU_SVA;
	cfg->iotlb_entries = 64;
	cfg->atc_entries = 16;
	cfg->max_pasids = 16;
	cfg->max_faults = 32;
	cfg->skip_flush = false;
}

struct mmn_iommu *mmn_iommu_create(struct mmn_sim *sim, const struct mmn_iommu_config *cfg)
{
	struct mmn_iommu_config c;
	struct mmn_iommu *io;

	if (cfg)
		c = *cfg;
	else
		mmn_iommu_config_init(&c);
	if (!sim || (c.mode != MMN_IOMMU_SVA && c.mode != MMN_IOMMU_AMDV2) ||
	    c.iotlb_entries < 1 || c.iotlb_entries > IO_MAX_ENTRIES || c.atc_entries < 1 ||
	    c.atc_entries > IO_MAX_ENTRIES || c.max_pasids < 1 || c.max_pasids > IO_MAX_PASIDS ||
	    c.max_faults < 1 || c.max_faults > IO_MAX_FAULTS) {
		errno = EINVAL;
		return NULL;
	}
	io = calloc(1, sizeof(*io));
	if (!io)
		goto nomem;
	io->iotlb = calloc(c.iotlb_entries, sizeof(*io->iotlb));
	io->atc = calloc(c.atc_entries, sizeof(*io->atc));
	io->pasids = calloc(c.max_pasids, sizeof(*io->pasids));
	if (!io->iotlb || !io->atc || !io->pasids)
		goto nomem;
	io->sim = sim;
	io->cfg = c;
	for (unsigned int i = 0; i < c.max_pasids; i++) {
		io->pasids[i].iommu = io;
		io->pasids[i].pasid = (int)i + 1;
	}
	mmn_spin_lock_init(&io->cache_lock, sim, &io_cache_class, NULL);
	mmn_mutex_init(&io->bind_lock, sim, &io_bind_class, NULL);
	/* SVA flushes its IOTLB in the secondary-TLB callback, AMDv2 blocks
	 * the PASID at start: that is when each counts as told. */
	if (mmn_check_register_secondary_blocks(sim, "iommu", io_iter, io,
						c.mode == MMN_IOMMU_SVA
							? MMN_SECONDARY_TOLD_AT_TLB_FLUSH
							: MMN_SECONDARY_TOLD_AT_START) < 0) {
		mmn_mutex_destroy(&io->bind_lock);
		mmn_spin_lock_destroy(&io->cache_lock);
		goto nomem;
	}
	return io;
nomem:
	if (io) {
		free(io->iotlb);
		free(io->atc);
		free(io->pasids);
		free(io);
	}
	errno = ENOMEM;
	return NULL;
}

static struct io_pasid *io_pasid_get(struct mmn_iommu *io, int pasid)
{
	mmn_lockdep_assert_held(&io->bind_lock, "iommu bind_lock");
	if (pasid < 1 || (unsigned)pasid > io->cfg.max_pasids)
		return NULL;
	return &io->pasids[pasid - 1];
}

int mmn_iommu_bind(struct mmn_iommu *io, struct mmn_mm *mm, int *pasid)
{
	struct io_pasid *slot = NULL;
	int ret;

	if (!io || !mm || !pasid || mmn_mm_sim(mm) != io->sim)
		return -EINVAL;
	mmn_mutex_lock(&io->bind_lock);
	for (unsigned int i = 0; i < io->cfg.max_pasids; i++) {
		struct io_pasid *p = &io->pasids[i];

		/* bind_lock serialises every writer of state/mm. */
		if (p->state != IO_PASID_FREE && p->mm == mm) {
			ret = -EEXIST;
			goto out;
		}
		if (!slot && p->state == IO_PASID_FREE)
			slot = p;
	}
	if (!slot) {
		ret = -ENOSPC;
		goto out;
	}
	memset(&slot->mn, 0, sizeof(slot->mn));
	slot->mn.ops = mmn_iommu_ops(io->cfg.mode);
	slot->invalidating = 0;
	/* Publish the PASID entry before the notifier can call back. */
	mmn_spin_lock(&io->cache_lock);
	slot->mm = mm;
	slot->state = IO_PASID_BOUND;
	mmn_spin_unlock(&io->cache_lock);
	ret = mmn_check_secondary_link(io->sim, io, &slot->mn);
	if (!ret) {
		ret = mmn_notifier_register(&slot->mn, mm);
		if (ret < 0)
			(void)mmn_check_secondary_unlink(io->sim, io, &slot->mn);
	}
	if (ret < 0) {
		mmn_spin_lock(&io->cache_lock);
		slot->state = IO_PASID_FREE;
		slot->mm = NULL;
		mmn_spin_unlock(&io->cache_lock);
		goto out;
	}
	*pasid = slot->pasid;
out:
	mmn_mutex_unlock(&io->bind_lock);
	return ret;
}

int mmn_iommu_unbind(struct mmn_iommu *io, int pasid)
{
	struct io_pasid *p;
	struct mmn_mm *mm;

	if (!io)
		return -EINVAL;
	mmn_mutex_lock(&io->bind_lock);
	p = io_pasid_get(io, pasid);
	if (!p || p->state == IO_PASID_FREE) {
		mmn_mutex_unlock(&io->bind_lock);
		return -EINVAL;
	}
	mm = p->mm;
	/* Calls release unless exit_mmap did; waits for callbacks in flight. */
	(void)mmn_notifier_unregister(&p->mn, mm);
	(void)mmn_check_secondary_unlink(io->sim, io, &p->mn);
	mmn_spin_lock(&io->cache_lock);
	__io_flush(io, p->pasid, 0, ~0UL);
	p->state = IO_PASID_FREE;
	p->mm = NULL;
	p->invalidating = 0;
	mmn_spin_unlock(&io->cache_lock);
	mmn_mutex_unlock(&io->bind_lock);
	return 0;
}

void mmn_iommu_destroy(struct mmn_iommu *io)
{
	if (!io)
		return;
	for (unsigned int i = 0; i < io->cfg.max_pasids; i++)
		if (io->pasids[i].state != IO_PASID_FREE)
			(void)mmn_iommu_unbind(io, (int)i + 1);
	(void)mmn_check_unregister_secondary(io->sim, io);
	mmn_mutex_destroy(&io->bind_lock);
	mmn_spin_lock_destroy(&io->cache_lock);
	free(io->iotlb);
	free(io->atc);
	free(io->pasids);
	free(io);
}

/* ------------------------------------------------------------------ */
/* Device accesses                                                     */
/* ------------------------------------------------------------------ */

enum io_xlate {
	IO_XLATE_DONE = 0,    /* translated and accessed */
	IO_XLATE_FAULT,       /* page request needed */
	IO_XLATE_BLOCKED,     /* PASID blocked by release */
	IO_XLATE_UNBOUND,     /* PASID not bound */
};

/*
 * A cached translation of @va: a 4 KiB entry in @va's slot, or a superpage
 * entry in the slot of its 2 MiB base (the IOTLB caches the size the page
 * walk found, as VT-d and SMMUv3 cache first-level large pages).
 */
static struct io_tlb_entry *io_lookup(struct io_tlb_entry *c, unsigned int n, int pasid,
				      unsigned long va, bool write)
{
	struct io_tlb_entry *e = &c[io_slot(n, pasid, va)];

	if (e->valid && e->pasid == pasid && e->va == va && e->size == MMN_PAGE_SIZE &&
	    (!write || e->write))
		return e;
	e = &c[io_slot(n, pasid, va & MMN_PMD_MASK)];
	if (e->valid && e->pasid == pasid && e->va == (va & MMN_PMD_MASK) &&
	    e->size == MMN_PMD_SIZE && (!write || e->write))
		return e;
	return NULL;
}

/* Cache @t (@t->addr aligned to @t->size) in @c; returns the entry. */
static struct io_tlb_entry *io_fill(struct io_tlb_entry *c, unsigned int n, int pasid,
				    const struct io_tlb_entry *t)
{
	struct io_tlb_entry *e = &c[io_slot(n, pasid, t->va)];

	*e = *t;
	e->valid = true;
	e->pasid = pasid;
	return e;
}

/*
 * The access-time check (mmn_check_secondary_access()) of a device access
 * at @addr through entry @e: SVA may use an entry until its secondary-TLB
 * flush ran, AMDv2 none once its start returned (told at registration).
 */
static void io_check_access(struct mmn_iommu *io, const struct io_tlb_entry *e, unsigned long addr,
			    bool write)
{
	struct mmn_secondary_block b = io_block(io, e);

	(void)mmn_check_secondary_access(io->sim, io, &b, addr, write);
}

/*
 * One ATS translation and, if it succeeds, the access, all under
 * cache_lock (a flush waits for translations and accesses in flight).
 * Returns the mm to fault on through *mmp (with mm_count held) when a page
 * request is needed.
 */
static enum io_xlate io_translate_access(struct mmn_iommu *io, int pasid, unsigned long addr,
					 bool write, uint64_t *val, struct mmn_mm **mmp,
					 bool *invalidating)
{
	unsigned long va = addr & MMN_PAGE_MASK;
	struct io_pasid *p = &io->pasids[pasid - 1];
	struct io_tlb_entry *e;
	unsigned long pfn;
	uint32_t gen;
	enum io_xlate ret = IO_XLATE_FAULT;

	mmn_spin_lock(&io->cache_lock);
	if (p->state == IO_PASID_FREE) {
		ret = IO_XLATE_UNBOUND;
		goto out;
	}
	if (p->state == IO_PASID_BLOCKED) {
		ret = IO_XLATE_BLOCKED;
		goto out;
	}
	e = io_lookup(io->atc, io->cfg.atc_entries, pasid, va, write);
	if (e) {
		IO_STAT_INC(io, atc_hits);
		goto access;
	}
	e = io_lookup(io->iotlb, io->cfg.iotlb_entries, pasid, va, write);
	if (e) {
		IO_STAT_INC(io, iotlb_hits);
		e = io_fill(io->atc, io->cfg.atc_entries, pasid, e);
		goto access;
	}
	*invalidating = p->invalidating > 0;
	if (p->invalidating > 0)
		goto fault; /* AMDv2: the PASID points at the empty table */
	{
		struct mmn_walk w;
		struct io_tlb_entry t = { .va = va, .size = MMN_PAGE_SIZE };

		IO_STAT_INC(io, walks);
		if (mmn_pgtable_walk(p->mm, addr, &w) < 0 || w.level == MMN_PT_NONE ||
		    !mmn_pte_present(w.entry))
			goto fault;
		t.write = mmn_pte_write(w.entry);
		if (write && !t.write)
			goto fault;
		t.pfn = w.pfn;
		t.gen = w.gen;
		if (w.level == MMN_PT_PMD) { /* a PMD leaf: one superpage entry */
			t.va = addr & MMN_PMD_MASK;
			t.size = MMN_PMD_SIZE;
			t.pfn -= (addr - t.va) >> MMN_PAGE_SHIFT;
		}
		(void)io_fill(io->iotlb, io->cfg.iotlb_entries, pasid, &t);
		e = io_fill(io->atc, io->cfg.atc_entries, pasid, &t);
	}
access:
	pfn = e->pfn + ((va - e->va) >> MMN_PAGE_SHIFT);
	gen = e->gen;
	io_check_access(io, e, addr, write);
	(void)mmn_phys_access(io->sim, pfn, gen, addr, write, val);
	ret = IO_XLATE_DONE;
	goto out;
fault:
	/* The PRI handler needs the mm beyond the lock: mm_count keeps the
	 * struct (and its mmap_lock) alive even if release runs meanwhile. */
	mmn_mmgrab(p->mm);
	*mmp = p->mm;
out:
	mmn_spin_unlock(&io->cache_lock);
	return ret;
}

static unsigned int io_ilog2(unsigned long n)
{
	unsigned int b = 0;

	while (n >>= 1)
		b++;
	return b;
}

/*
 * The device side of ATS/PRI: translate, else send a page request, wait for
 * its answer and retry. The PRI handler is iommu_sva_handle_iopf() (and the
 * AMDv2 PPR handler): mmap_read_lock + handle_mm_fault; AMDv2 answers
 * SUCCESS without resolving while an invalidation is active.
 */
static int io_dma(struct mmn_iommu *io, int pasid, unsigned long addr, bool write, bool pri,
		  uint64_t *val)
{
	unsigned int faults = 0;

	if (addr >= MMN_TASK_SIZE)
		return -EFAULT;
	for (;;) {
		struct mmn_mm *mm = NULL;
		bool invalidating = false;
		enum io_xlate x;
		int err;

		x = io_translate_access(io, pasid, addr, write, val, &mm, &invalidating);
		if (x == IO_XLATE_DONE) {
			IO_STAT_INC(io, completed);
			if (faults) {
				unsigned int b = io_ilog2(faults);

				if (b >= MMN_IOMMU_HIST_BUCKETS)
					b = MMN_IOMMU_HIST_BUCKETS - 1;
				IO_STAT_INC(io, fault_hist[b]);
			}
			return 0;
		}
		if (x == IO_XLATE_UNBOUND)
			return -EINVAL;
		if (x == IO_XLATE_BLOCKED) {
			IO_STAT_INC(io, blocked);
			return -EFAULT;
		}
		if (!pri) {
			/* No PRI: the translation completion says "no access". */
			IO_STAT_INC(io, translation_failures);
			mmn_mmdrop(mm);
			return -ENXIO;
		}
		/* A page request. */
		if (faults >= io->cfg.max_faults) {
			/* The device gives up: error state, the request aborts. */
			IO_STAT_INC(io, give_ups);
			mmn_mmdrop(mm);
			return -EIO;
		}
		faults++;
		IO_STAT_INC(io, page_requests);
		/* Modelled time: the page request's round trip (PRI request,
		 * iopf handling, PRG response, retried translation). */
		mmn_clock_charge(io->sim, MMN_COST_DEVICE_FAULT, 1);
		if (faults > 1)
			IO_STAT_INC(io, refaults);
		if (invalidating) {
			/* AMDv2 PPR during an invalidation: SUCCESS, nothing done. */
			IO_STAT_INC(io, unresolved_answers);
			err = 0;
		} else {
			mmn_mmap_read_lock(mm);
			err = mmn_handle_mm_fault(mm, addr, write ? MMN_FAULT_WRITE : 0);
			mmn_mmap_read_unlock(mm);
		}
		mmn_mmdrop(mm);
		if (err < 0) {
			/* PRG response INVALID: the device aborts the access. */
			IO_STAT_INC(io, invalid_answers);
			return err;
		}
		IO_STAT_INC(io, retries);
	}
}

static int io_check_pasid(struct mmn_iommu *io, int pasid)
{
	if (pasid < 1 || (unsigned)pasid > io->cfg.max_pasids)
		return -EINVAL;
	return 0;
}

int mmn_iommu_dma(struct mmn_iommu *io, int pasid, unsigned long addr, unsigned int flags,
		  uint64_t *val)
{
	bool write = flags & MMN_IOMMU_DMA_WRITE;

	if (!io || !val || io_check_pasid(io, pasid) < 0 ||
	    (flags & ~(MMN_IOMMU_DMA_WRITE | MMN_IOMMU_DMA_NO_PRI)))
		return -EINVAL;
	if (write)
		IO_STAT_INC(io, dma_writes);
	else
		IO_STAT_INC(io, dma_reads);
	return io_dma(io, pasid, addr, write, !(flags & MMN_IOMMU_DMA_NO_PRI), val);
}

int mmn_iommu_dma_read(struct mmn_iommu *io, int pasid, unsigned long addr, uint64_t *val)
{
	return mmn_iommu_dma(io, pasid, addr, 0, val);
}

int mmn_iommu_dma_write(struct mmn_iommu *io, int pasid, unsigned long addr, uint64_t val)
{
	return mmn_iommu_dma(io, pasid, addr, MMN_IOMMU_DMA_WRITE, &val);
}

int mmn_iommu_pasid_invalidating(struct mmn_iommu *io, int pasid)
{
	int ret;

	if (!io || io_check_pasid(io, pasid) < 0)
		return -EINVAL;
	mmn_spin_lock(&io->cache_lock);
	if (io->pasids[pasid - 1].state == IO_PASID_FREE)
		ret = -EINVAL;
	else
		ret = io->pasids[pasid - 1].invalidating;
	mmn_spin_unlock(&io->cache_lock);
	return ret;
}

int mmn_iommu_pasid_blocked(struct mmn_iommu *io, int pasid)
{
	int ret;

	if (!io || io_check_pasid(io, pasid) < 0)
		return -EINVAL;
	mmn_spin_lock(&io->cache_lock);
	switch (io->pasids[pasid - 1].state) {
	case IO_PASID_FREE:
		ret = -EINVAL;
		break;
	case IO_PASID_BLOCKED:
		ret = 1;
		break;
	default:
		ret = 0;
	}
	mmn_spin_unlock(&io->cache_lock);
	return ret;
}

int mmn_iommu_get_stats(struct mmn_iommu *io, struct mmn_iommu_stats *out)
{
	const unsigned long *src;
	unsigned long *dst;

	if (!io || !out)
		return -EINVAL;
	/* Every member is an unsigned long updated with atomic builtins. */
	src = (const unsigned long *)&io->st;
	dst = (unsigned long *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(unsigned long); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return 0;
}
