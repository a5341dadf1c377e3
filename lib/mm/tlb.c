// SPDX-License-Identifier: MIT
/*
 * Per-CPU TLBs, TLB shootdown and the mmu_gather.
 *
 * The access path is the hardware's: TLB hit, else a page walk that fills the
 * TLB, else -EAGAIN: the page-fault handler and the retry are the caller's
 * (lib/ops/memory.c). Loads that hit the TLB take no lock (a per-CPU
 * sequence count makes them retry if a flush or a fill rewrote the slots
 * meanwhile); stores, fills and flushes of one CPU are serialised by the
 * CPU's raw lock, which stands for two hardware facts: a page walk and the
 * store it enables are atomic with respect to a shootdown IPI, and a
 * shootdown returns only after the target dropped the entries.
 *
 * Walker/flusher handshake (why a table or page is never freed under a walk):
 *
 *   CPU c, TLB miss                       unmapping actor
 *   ---------------                       ---------------
 *   lock(c)                               xchg(pte, 0)             [seq_cst]
 *   fetch_or(cpumask, c)   [seq_cst]      mask = load(cpumask)     [seq_cst]
 *   e = load(pte)          [seq_cst]      for c in mask: lock(c), drop, unlock(c)
 *   fill TLB with e                       free the page (after the flush)
 *   unlock(c)
 *
 * In the single total order of seq_cst operations either c's fetch_or comes
 * before the flusher's load of the mask (the flusher then waits for lock(c)
 * and drops what c filled) or after it, and then c's load of the PTE comes
 * after the xchg and sees the entry cleared. A CPU never leaves a cpumask
 * (x86 keeps it lazily too), so the fast path skips the fetch_or.
 */
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/inline.h>

#include "mm/mm_internal.h"

#define TLB_VALID (1ULL << 63)
#define TLB_VAL_WRITE 0x1ULL
#define TLB_VAL_DIRTY 0x2ULL
#define TLB_PFN_MASK ((1ULL << 30) - 1)

int mmn_tlb_sim_init(struct mmn_sim *sim)
{
	unsigned int n = sim->cfg.nr_cpus;

	sim->cpus = aligned_alloc(64, n * sizeof(*sim->cpus));
	if (!sim->cpus)
		return -ENOMEM;
	memset(sim->cpus, 0, n * sizeof(*sim->cpus));
	for (unsigned int i = 0; i < n; i++) {
		struct mmn_cpu *c = &sim->cpus[i];

		c->id = (int)i;
		c->nr_small = sim->cfg.tlb_entries;
		c->nr_huge = sim->cfg.tlb_huge_entries;
		c->small = calloc(c->nr_small, sizeof(*c->small));
		c->huge = calloc(c->nr_huge, sizeof(*c->huge));
		mmn_raw_lock_init(&c->lock);
		if (!c->small || !c->huge) {
			sim->cfg.nr_cpus = i + 1;
			mmn_tlb_sim_fini(sim);
			return -ENOMEM;
		}
	}
	return 0;
}

void mmn_tlb_sim_fini(struct mmn_sim *sim)
{
	if (!sim->cpus)
		return;
	for (unsigned int i = 0; i < sim->cfg.nr_cpus; i++) {
		mmn_raw_lock_destroy(&sim->cpus[i].lock);
		free(sim->cpus[i].small);
		free(sim->cpus[i].huge);
	}
	free(sim->cpus);
	sim->cpus = NULL;
}

static inline uint64_t tlb_tag(const struct mmn_mm *mm, unsigned long vpn)
{
	return mmn__tlb_mm_tag(mm->id) | vpn;
}

/* The layout mmnsim/inline.h reads without the library's headers. */
_Static_assert(sizeof(struct mmn_tlb_slot) == 1 << MMN__TLB_SLOT_SHIFT, "slot size");
_Static_assert(offsetof(struct mmn_tlb_slot, tag) == 0, "slot tag");
_Static_assert(offsetof(struct mmn_tlb_slot, page) == MMN__TLB_SLOT_PAGE, "slot page");
_Static_assert(offsetof(struct mmn_tlb_slot, gen) == MMN__TLB_SLOT_GEN, "slot gen");
_Static_assert(offsetof(struct mmn_page, gen) == MMN__PAGE_GEN, "page gen");
_Static_assert(offsetof(struct mmn_page, content) == MMN__PAGE_CONTENT, "page content");

/* Counters with one writer per CPU in the common case: no locked RMW on the
 * hit path. Two actors sharing a CPU id may lose an increment. */
static inline void stat_inc(_Atomic unsigned long *c)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

/*
 * Begin/end a rewrite of the CPU's slots; caller holds c->lock. The slot
 * stores in between are release stores and the hit path's loads acquire
 * loads, so a reader that sees a rewritten slot also sees the odd count on
 * its re-check. (No standalone fences: ThreadSanitizer does not model them.)
 */
static inline void tlb_write_begin(struct mmn_cpu *c)
{
	atomic_store_explicit(&c->seq, atomic_load_explicit(&c->seq, memory_order_relaxed) + 1,
			      memory_order_relaxed);
}

static inline void tlb_write_end(struct mmn_cpu *c)
{
	atomic_store_explicit(&c->seq, atomic_load_explicit(&c->seq, memory_order_relaxed) + 1,
			      memory_order_release);
}

/* Find @addr's slot on CPU @c: the 4 KiB TLB first, then the 2 MiB one. On a
 * hit returns the slot's value and the subpage pfn. */
static inline bool tlb_find(const struct mmn_cpu *c, const struct mmn_mm *mm, unsigned long addr,
			    uint64_t *valp, unsigned long *pfnp, bool *hugep)
{
	unsigned long vpn = addr >> MMN_PAGE_SHIFT;
	const struct mmn_tlb_slot *s = &c->small[vpn & (c->nr_small - 1)];
	uint64_t val;

	if (atomic_load_explicit(&s->tag, memory_order_acquire) == tlb_tag(mm, vpn)) {
		val = atomic_load_explicit(&s->val, memory_order_acquire);
		*pfnp = (unsigned long)((val >> 2) & TLB_PFN_MASK);
		*valp = val;
		*hugep = false;
		return true;
	}
	vpn = addr >> MMN_PMD_SHIFT;
	s = &c->huge[vpn & (c->nr_huge - 1)];
	if (atomic_load_explicit(&s->tag, memory_order_acquire) == tlb_tag(mm, vpn)) {
		val = atomic_load_explicit(&s->val, memory_order_acquire);
		*pfnp = (unsigned long)((val >> 2) & TLB_PFN_MASK) +
			((addr & ~MMN_PMD_MASK) >> MMN_PAGE_SHIFT);
		*valp = val;
		*hugep = true;
		return true;
	}
	return false;
}

static void tlb_report_uaf(struct mmn_sim *sim, unsigned long addr, unsigned long pfn,
			   uint32_t used, uint32_t now, bool write)
{
	struct mmn_violation v = {
		.kind = MMN_VIOL_USE_AFTER_FREE, .actor_id = -1, .addr = addr, .pfn = pfn,
		.gen_used = used, .gen_now = now,
		.msg = write ? "CPU store through a stale TLB entry to a freed frame"
			     : "CPU load through a stale TLB entry from a freed frame",
	};
	mmn_report(sim, &v);
}

/* A load that hits the TLB, lock-free. False: miss, or a flush raced. */
static bool tlb_load_hit(struct mmn_sim *sim, struct mmn_cpu *c, struct mmn_mm *mm,
			 unsigned long addr, uint64_t *out)
{
	unsigned int seq = atomic_load_explicit(&c->seq, memory_order_acquire);
	unsigned long pfn;
	uint64_t val, data;
	uint32_t now;
	bool huge;

	if (seq & 1)
		return false;
	if (!tlb_find(c, mm, addr, &val, &pfn, &huge))
		return false;
	data = atomic_load_explicit(&mmn_pfn_to_page(sim, pfn)->content, memory_order_acquire);
	now = atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->gen,
				   memory_order_acquire);
	if (atomic_load_explicit(&c->seq, memory_order_relaxed) != seq)
		return false;
	if (mmn_unlikely(now != (uint32_t)(val >> 32)))
		tlb_report_uaf(sim, addr, pfn, (uint32_t)(val >> 32), now, false);
	stat_inc(&c->hits);
	*out = data;
	return true;
}

/*
 * The hardware page walk: the leaf entry mapping @addr (a PTE, or a PMD
 * leaf: *@huge), or NULL when a level is not present. Atomic loads, no
 * scheduling point; *@e is the leaf's value as read.
 */
static _Atomic uint64_t *tlb_walk_leaf(struct mmn_sim *sim, struct mmn_mm *mm, unsigned long addr,
				       uint64_t *e, bool *huge)
{
	struct mmn_ptdesc *pt = mm->pgd;

	*huge = false;
	for (int l = MMN_LVL_PGD;; l--) {
		_Atomic uint64_t *ep = &pt->e[mmn_pt_index(addr, l)];

		*e = atomic_load_explicit(ep, memory_order_seq_cst);
		if (!mmn_pte_present(*e))
			return NULL;
		if (l == MMN_LVL_PTE)
			return ep;
		if (l == MMN_LVL_PMD && mmn_pmd_leaf(*e)) {
			*huge = true;
			return ep;
		}
		pt = mmn_pt_child(sim, *e);
	}
}

/*
 * The lost-write oracle's second test, for a store to a page held stable:
 * does the page table still map @addr to @pfn writable? A store through a
 * translation that predates the write-protection (a stale TLB entry: the
 * flush is still owed) finds it read-only, cleared or remapped, and its
 * value is lost. A store through a current writable mapping is not lost:
 * the stabiliser cannot complete (do_wp_page() finds the entry changed by a
 * racing reuse and drops its copy). The walk is tlb_walk_leaf()'s.
 */
static bool tlb_pte_maps_writable(struct mmn_sim *sim, struct mmn_mm *mm, unsigned long addr,
				  unsigned long pfn)
{
	uint64_t e;
	bool huge;

	if (!tlb_walk_leaf(sim, mm, addr, &e, &huge) || !mmn_pte_write(e))
		return false;
	return mmn_pte_pfn(e) + (huge ? (addr & ~MMN_PMD_MASK) >> MMN_PAGE_SHIFT : 0) == pfn;
}

/* A store that hits a writable, dirty TLB entry; under c->lock so that it
 * cannot straddle a shootdown. */
static bool tlb_store_hit(struct mmn_sim *sim, struct mmn_cpu *c, struct mmn_mm *mm,
			  unsigned long addr, uint64_t data)
{
	unsigned long pfn;
	uint64_t val;
	uint32_t now;
	bool huge, hit, lost = false;

	mmn_raw_lock(&c->lock);
	hit = tlb_find(c, mm, addr, &val, &pfn, &huge) &&
	      (val & (TLB_VAL_WRITE | TLB_VAL_DIRTY)) == (TLB_VAL_WRITE | TLB_VAL_DIRTY);
	if (hit) {
		now = atomic_load_explicit(&mmn_pfn_to_page(sim, mmn_compound_head(sim, pfn))->gen,
					   memory_order_relaxed);
		/* The lost-write oracle: a relaxed look at PG_STABLE (page.c),
		 * then whether the entry went stale. */
		lost = mmn_page_is_stable(sim, pfn) && !tlb_pte_maps_writable(sim, mm, addr, pfn);
		atomic_store_explicit(&mmn_pfn_to_page(sim, pfn)->content, data,
				      memory_order_relaxed);
		stat_inc(&c->hits);
	}
	mmn_raw_unlock(&c->lock);
	if (hit && mmn_unlikely(now != (uint32_t)(val >> 32)))
		tlb_report_uaf(sim, addr, pfn, (uint32_t)(val >> 32), now, true);
	if (mmn_unlikely(lost))
		mmn_page_report_lost_write(sim, pfn, addr);
	return hit;
}

/*
 * A hardware page walk on a TLB miss: find a leaf that permits the access,
 * set its accessed (and for a store, dirty) bit as x86 does, fill the TLB
 * and perform the access. Returns -EAGAIN when the page-fault handler must
 * run first. Caller holds c->lock, with c in the mm's cpumask.
 */
static int tlb_walk_fill(struct mmn_sim *sim, struct mmn_cpu *c, struct mmn_mm *mm,
			 unsigned long addr, bool write, uint64_t *data)
{
	_Atomic uint64_t *ep;
	struct mmn_tlb_slot *slot;
	unsigned long pfn, vpn;
	uint64_t e, want;
	bool huge;
	uint32_t gen;

	ep = tlb_walk_leaf(sim, mm, addr, &e, &huge);
	if (!ep)
		return -EAGAIN;
	/* Set accessed/dirty atomically against concurrent PTE updates. */
	for (;;) {
		if (write && !mmn_pte_write(e))
			return -EAGAIN;
		/* x86 pte_mkdirty() sets the soft-dirty bit with the dirty one. */
		want = e | MMN_PTE_ACCESSED | (write ? MMN_PTE_DIRTY | MMN_PTE_SOFT_DIRTY : 0);
		if (want == e ||
		    atomic_compare_exchange_weak_explicit(ep, &e, want, memory_order_seq_cst,
							  memory_order_seq_cst))
			break;
		if (!mmn_pte_present(e))
			return -EAGAIN;
	}
	pfn = mmn_pte_pfn(want);
	gen = atomic_load_explicit(&mmn_pfn_to_page(sim, pfn)->gen, memory_order_acquire);
	if (huge) {
		vpn = addr >> MMN_PMD_SHIFT;
		slot = &c->huge[vpn & (c->nr_huge - 1)];
	} else {
		vpn = addr >> MMN_PAGE_SHIFT;
		slot = &c->small[vpn & (c->nr_small - 1)];
	}
	tlb_write_begin(c);
	atomic_store_explicit(&slot->tag, tlb_tag(mm, vpn), memory_order_release);
	atomic_store_explicit(&slot->val,
			      ((uint64_t)gen << 32) | ((uint64_t)pfn << 2) |
				      (mmn_pte_write(want) ? TLB_VAL_WRITE : 0) |
				      (mmn_pte_dirty(want) ? TLB_VAL_DIRTY : 0),
			      memory_order_release);
	atomic_store_explicit(&slot->page, mmn_pfn_to_page(sim, pfn), memory_order_release);
	atomic_store_explicit(&slot->gen, gen, memory_order_release);
	tlb_write_end(c);
	stat_inc(&c->fills);
	if (huge)
		pfn += (addr & ~MMN_PMD_MASK) >> MMN_PAGE_SHIFT;
	/* A store through the entry this walk found writable is never lost
	 * (tlb_pte_maps_writable()), even to a page held stable: only a COW
	 * that a racing reuse will make drop its copy holds such a page. */
	if (write)
		atomic_store_explicit(&mmn_pfn_to_page(sim, pfn)->content, *data,
				      memory_order_relaxed);
	else
		*data = atomic_load_explicit(&mmn_pfn_to_page(sim, pfn)->content,
					     memory_order_relaxed);
	return 0;
}

static __attribute__((noinline)) int tlb_access_slow(struct mmn_mm *mm, int cpu,
						     unsigned long addr, bool write, uint64_t *val);

/*
 * The common case as a leaf function: a load that hits a 4 KiB entry of a
 * frame whose generation still matches. Anything else (a store, a 2 MiB
 * entry, a miss, a racing rewrite, a stale generation) takes the full path,
 * which checks again and reports.
 */
int mmn_tlb_access(struct mmn_mm *mm, int cpu, unsigned long addr, bool write, uint64_t *val)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_cpu *c = &sim->cpus[cpu];
	unsigned long vpn = addr >> MMN_PAGE_SHIFT;
	const struct mmn_tlb_slot *s = &c->small[vpn & (c->nr_small - 1)];
	const struct mmn_page *p;
	unsigned int seq;
	uint64_t v, data;

	if (write)
		goto slow;
	seq = atomic_load_explicit(&c->seq, memory_order_acquire);
	if (mmn_unlikely(seq & 1) ||
	    atomic_load_explicit(&s->tag, memory_order_acquire) != tlb_tag(mm, vpn))
		goto slow;
	v = atomic_load_explicit(&s->val, memory_order_acquire);
	p = &sim->pool->pages[(v >> 2) & TLB_PFN_MASK];
	data = atomic_load_explicit(&p->content, memory_order_acquire);
	if (mmn_unlikely(atomic_load_explicit(&p->gen, memory_order_acquire) != (uint32_t)(v >> 32)) ||
	    mmn_unlikely(atomic_load_explicit(&c->seq, memory_order_relaxed) != seq))
		goto slow;
	stat_inc(&c->hits);
	*val = data;
	return 0;
slow:
	return tlb_access_slow(mm, cpu, addr, write, val);
}

int mmn_tlb_view_init(struct mmn_tlb_view *v, struct mmn_mm *mm, int cpu)
{
	struct mmn_cpu *c;

	if (!v || mmn__mm_dead(mm) || cpu < 0 || (unsigned int)cpu >= mm->sim->cfg.nr_cpus)
		return -EINVAL;
	c = &mm->sim->cpus[cpu];
	v->mm = mm;
	v->cpu = cpu;
	v->seq = (const volatile unsigned int *)&c->seq;
	v->slots = (const unsigned char *)c->small;
	v->slot_mask = (unsigned long)(c->nr_small - 1) << MMN__TLB_SLOT_SHIFT;
	v->tag = (const volatile uint64_t *)&mm->tlb_tag;
	return 0;
}

static int tlb_access_slow(struct mmn_mm *mm, int cpu, unsigned long addr, bool write,
			   uint64_t *val)
{
	struct mmn_sim *sim = mm->sim;
	struct mmn_cpu *c = &sim->cpus[cpu];
	uint64_t bit = 1ULL << cpu;
	int err;

	if (write ? tlb_store_hit(sim, c, mm, addr, *val) : tlb_load_hit(sim, c, mm, addr, val))
		return 0;
	mmn_sched_point(sim, MMN_SCHED_TLB_FILL, c, "tlb_fill", addr);
	mmn_raw_lock(&c->lock);
	stat_inc(&c->misses);
	if (!(atomic_load_explicit(&mm->cpumask, memory_order_seq_cst) & bit))
		atomic_fetch_or_explicit(&mm->cpumask, bit, memory_order_seq_cst);
	err = tlb_walk_fill(sim, c, mm, addr, write, val);
	mmn_raw_unlock(&c->lock);
	return err;
}

int mmn__tlb_access_walk(struct mmn_mm *mm, int cpu, unsigned long addr, bool write, uint64_t *val)
{
	return tlb_access_slow(mm, cpu, addr, write, val);
}

/*
 * The secondary-TLB hook (sim->tlb_secondary_hook, set by lib/notifier): the
 * flush of the secondary TLBs (IOMMU, KVM) that goes with a CPU flush,
 * mmu_notifier_arch_invalidate_secondary_tlbs() from the arch flush (6.6+),
 * or the gather's mmu_notifier_invalidate_range() (3.19-6.5).
 */
static void tlb_secondary_flush(struct mmn_mm *mm, unsigned long start, unsigned long end,
				bool arch)
{
	mmn_sched_span_begin(mm->sim, "secondary_flush", start, end, arch ? "arch" : "gather");
	mm->sim->tlb_secondary_hook(mm, start, end, arch);
	mmn_sched_span_end(mm->sim, "secondary_flush");
}

/*
 * The modelled cost of one shootdown (lib/clock, docs/clock.md), charged
 * once per flush, not per entry: x86 native_flush_tlb_multi() sends an IPI
 * to each target CPU (actors are not CPUs, so every CPU of the mask is a
 * remote target), and each target runs flush_tlb_func(): one INVLPG per
 * page of the range up to tlb_single_page_flush_ceiling, else one full
 * flush. A mask with no CPU costs nothing, as no CPU is flushed.
 */
static void tlb_charge_shootdown(struct mmn_sim *sim, unsigned long start, unsigned long end,
				 bool full, uint64_t targets)
{
	if (!targets)
		return;
	mmn_clock_charge(sim, MMN_COST_IPI, targets);
	if (full)
		mmn_clock_charge(sim, MMN_COST_TLB_FLUSH_FULL, targets);
	else
		mmn_clock_charge(sim, MMN_COST_TLB_FLUSH_PAGE,
				 targets * ((end - start + MMN_PAGE_SIZE - 1) >> MMN_PAGE_SHIFT));
}

/*
 * Drop @mm's entries for [start, end) on every CPU of its mask, then, in
 * 6.6+ profiles, flush the secondary TLBs from inside the same flush, as
 * the arch flush primitives call mmu_notifier_arch_invalidate_secondary_tlbs()
 * (x86 flush_tlb_mm_range(), arm64 __flush_tlb_range(); 6.6+). A range
 * larger than the profile's tlb_flush_ceiling drops every entry of the mm
 * on the CPUs (x86 does a full flush then) but tells the secondary TLBs the
 * range asked for, as the kernel does.
 */
static void tlb_shootdown_cpus(struct mmn_mm *mm, unsigned long start, unsigned long end,
			       const char *what, bool secondary)
{
	unsigned long drop_start = start, drop_end = end;
	struct mmn_sim *sim = mm->sim;
	uint64_t mask, targets = 0;
	bool full = false;

	mmn_sched_span_begin(sim, what, start, end, NULL);
	mmn_sched_point(sim, MMN_SCHED_TLB_FLUSH, mm, what, start);
	if ((end - start) >> MMN_PAGE_SHIFT > sim->profile.tlb_flush_ceiling) {
		drop_start = 0;
		drop_end = ~0UL;
		full = true;
	}
	mask = atomic_load_explicit(&mm->cpumask, memory_order_seq_cst);
	while (mask) {
		struct mmn_cpu *c = &sim->cpus[__builtin_ctzll(mask)];
		unsigned long dropped = 0;

		mask &= mask - 1;
		targets++;
		mmn_raw_lock(&c->lock);
		tlb_write_begin(c);
		for (unsigned int i = 0; i < c->nr_small; i++) {
			uint64_t tag = atomic_load_explicit(&c->small[i].tag, memory_order_relaxed);
			unsigned long va = (unsigned long)(tag & ((1ULL << 36) - 1)) << MMN_PAGE_SHIFT;

			if ((tag & ~((1ULL << 36) - 1)) == tlb_tag(mm, 0) && va >= drop_start && va < drop_end) {
				atomic_store_explicit(&c->small[i].tag, 0, memory_order_release);
				dropped++;
			}
		}
		for (unsigned int i = 0; i < c->nr_huge; i++) {
			uint64_t tag = atomic_load_explicit(&c->huge[i].tag, memory_order_relaxed);
			unsigned long va = (unsigned long)(tag & ((1ULL << 36) - 1)) << MMN_PMD_SHIFT;

			if ((tag & ~((1ULL << 36) - 1)) == tlb_tag(mm, 0) && va < drop_end &&
			    va + MMN_PMD_SIZE > drop_start) {
				atomic_store_explicit(&c->huge[i].tag, 0, memory_order_release);
				dropped++;
			}
		}
		tlb_write_end(c);
		atomic_fetch_add_explicit(&c->dropped, dropped, memory_order_relaxed);
		atomic_fetch_add_explicit(&c->shootdowns, 1, memory_order_relaxed);
		mmn_raw_unlock(&c->lock);
	}
	tlb_charge_shootdown(sim, start, end, full, targets);
	if (secondary && sim->profile.secondary_flush == MMN_SECFLUSH_WITH_CPU_FLUSH)
		tlb_secondary_flush(mm, start, end, true);
	mmn_sched_span_end(sim, what);
}

static void tlb_shootdown(struct mmn_mm *mm, unsigned long start, unsigned long end,
			  const char *what)
{
	tlb_shootdown_cpus(mm, start, end, what, true);
}

/*
 * arch_tlbbatch_flush() (x86 4.3+, arm64 6.5+), the flush of
 * try_to_unmap_flush(): every CPU entry of @mm goes, and no secondary TLB
 * is told (x86 calls flush_tlb_multi(), not flush_tlb_mm_range(); 6.6+
 * flushed the secondary TLBs at arch_tlbbatch_add_pending() already).
 */
void mmn__tlbbatch_flush_mm(struct mmn_mm *mm)
{
	if (!mm)
		return;
	atomic_fetch_add_explicit(&mm->sim->flush_stats.mm, 1, memory_order_relaxed);
	tlb_shootdown_cpus(mm, 0, ~0UL, "arch_tlbbatch_flush", false);
}

/* flush_tlb_page(), all versions. */
void mmn_flush_tlb_page(struct mmn_mm *mm, unsigned long addr)
{
	if (!mm)
		return;
	atomic_fetch_add_explicit(&mm->sim->flush_stats.page, 1, memory_order_relaxed);
	addr &= MMN_PAGE_MASK;
	tlb_shootdown(mm, addr, addr + MMN_PAGE_SIZE, "flush_tlb_page");
}

/* flush_tlb_range() / x86 flush_tlb_mm_range(), all versions. */
void mmn_flush_tlb_range(struct mmn_mm *mm, unsigned long start, unsigned long end)
{
	if (!mm || start >= end)
		return;
	atomic_fetch_add_explicit(&mm->sim->flush_stats.range, 1, memory_order_relaxed);
	tlb_shootdown(mm, start & MMN_PAGE_MASK, end, "flush_tlb_range");
}

/* flush_tlb_mm(), all versions. */
void mmn_flush_tlb_mm(struct mmn_mm *mm)
{
	if (!mm)
		return;
	atomic_fetch_add_explicit(&mm->sim->flush_stats.mm, 1, memory_order_relaxed);
	tlb_shootdown(mm, 0, ~0UL, "flush_tlb_mm");
}

int mmn_tlb_lookup(struct mmn_mm *mm, int cpu, unsigned long addr,
		   struct mmn_tlb_entry_info *out)
{
	struct mmn_cpu *c;
	unsigned long pfn;
	uint64_t val;
	bool huge, hit;

	if (mmn__mm_dead(mm) || cpu < 0 || (unsigned int)cpu >= mm->sim->cfg.nr_cpus)
		return -EINVAL;
	c = &mm->sim->cpus[cpu];
	mmn_raw_lock(&c->lock);
	hit = tlb_find(c, mm, addr, &val, &pfn, &huge);
	mmn_raw_unlock(&c->lock);
	if (hit && out) {
		out->pfn = pfn;
		out->gen = (uint32_t)(val >> 32);
		out->write = val & TLB_VAL_WRITE;
		out->huge = huge;
	}
	return hit;
}

void mmn_tlb_for_each_entry(struct mmn_sim *sim,
			    void (*fn)(void *arg, const struct mmn_tlb_entry_dump *e), void *arg)
{
	for (unsigned int i = 0; i < sim->cfg.nr_cpus; i++) {
		struct mmn_cpu *c = &sim->cpus[i];

		for (int huge = 0; huge < 2; huge++) {
			struct mmn_tlb_slot *slots = huge ? c->huge : c->small;
			unsigned int n = huge ? c->nr_huge : c->nr_small;

			for (unsigned int j = 0; j < n; j++) {
				uint64_t tag = atomic_load(&slots[j].tag);
				uint64_t val = atomic_load(&slots[j].val);
				struct mmn_tlb_entry_dump d;

				if (!(tag & TLB_VALID))
					continue;
				d.cpu = (int)i;
				d.mm_id = (unsigned int)((tag & ~TLB_VALID) >> 36);
				d.addr = (unsigned long)(tag & ((1ULL << 36) - 1))
					 << (huge ? MMN_PMD_SHIFT : MMN_PAGE_SHIFT);
				d.pfn = (unsigned long)((val >> 2) & TLB_PFN_MASK);
				d.gen = (uint32_t)(val >> 32);
				d.write = val & TLB_VAL_WRITE;
				d.huge = huge;
				fn(arg, &d);
			}
		}
	}
}

/* ---------------------------------------------------------------- */
/* mmu_gather (include/asm-generic/tlb.h, mm/mmu_gather.c)           */
/* ---------------------------------------------------------------- */

/* tlb_gather_mmu(), all versions. */
void mmn_tlb_gather_mmu(struct mmn_mmu_gather *tlb, struct mmn_mm *mm)
{
	if (!tlb)
		return;
	memset(tlb, 0, offsetof(struct mmn_mmu_gather, pages));
	tlb->mm = mm;
	tlb->start = ~0UL;
	tlb->end = 0;
}

/* tlb_gather_mmu_fullmm() (5.12+; tlb_gather_mmu(tlb, mm, 0, -1) before). */
void mmn_tlb_gather_mmu_fullmm(struct mmn_mmu_gather *tlb, struct mmn_mm *mm)
{
	if (!tlb)
		return;
	mmn_tlb_gather_mmu(tlb, mm);
	tlb->fullmm = true;
}

void mmn_tlb_flush_pte_range(struct mmn_mmu_gather *tlb, unsigned long addr, unsigned long size)
{
	if (!tlb)
		return;
	if (size > ~0UL - addr)  /* a wrapping range: flush up to the top */
		size = ~0UL - addr;
	if (addr < tlb->start)
		tlb->start = addr;
	if (addr + size > tlb->end)
		tlb->end = addr + size;
}

/* The profile's gather batch (knob gather_batch), within the array's size. */
static unsigned int tlb_batch(const struct mmn_mmu_gather *tlb)
{
	unsigned int b = tlb->mm->sim->profile.gather_batch;

	return b >= 1 && b <= MMN_GATHER_BATCH ? b : MMN_GATHER_BATCH;
}

int mmn_tlb_remove_page(struct mmn_mmu_gather *tlb, unsigned long pfn)
{
	/* Refused as mmn_put_page() refuses it: the flush would put it. */
	if (!tlb || !tlb->mm || !mmn_pfn_valid(tlb->mm->sim, pfn))
		return -EINVAL;
	/* A caller that ignored "batch full": flushing here is still safe. */
	if (tlb->nr_pages >= tlb_batch(tlb))
		mmn_tlb_flush_mmu(tlb);
	tlb->pages[tlb->nr_pages++] = pfn;
	return tlb->nr_pages >= tlb_batch(tlb);
}

int mmn_tlb_remove_table(struct mmn_mmu_gather *tlb, unsigned long pfn)
{
	unsigned int flags;

	/* Only a live page-table frame has a ptdesc for the flush to free. */
	if (!tlb || !tlb->mm || !mmn_pfn_valid(tlb->mm->sim, pfn))
		return -EINVAL;
	flags = atomic_load(&mmn_pfn_to_page(tlb->mm->sim, pfn)->flags);
	if ((flags & (MMN_PG_TABLE | MMN_PG_FREE)) != MMN_PG_TABLE)
		return -EINVAL;
	if (tlb->nr_tables == MMN_GATHER_TABLES)
		mmn_tlb_flush_mmu(tlb);
	tlb->freed_tables = true;
	tlb->tables[tlb->nr_tables++] = pfn;
	return 0;
}

/*
 * tlb_flush_mmu_tlbonly(). Freed page tables force a flush even with no PTE
 * range (paging-structure caches), as x86 does with a full flush. From 3.19
 * to 6.5 it also called mmu_notifier_invalidate_range() for the gathered
 * range: the secondary TLBs were flushed with the CPU's here.
 */
void mmn_tlb_flush_mmu_tlbonly(struct mmn_mmu_gather *tlb)
{
	enum mmn_secondary_flush where;
	bool legacy;

	if (!tlb || !tlb->mm)
		return;
	where = tlb->mm->sim->profile.secondary_flush;
	legacy = where == MMN_SECFLUSH_CALL_SITES || where == MMN_SECFLUSH_INVALIDATE_PAGE;

	if (tlb->fullmm || (tlb->freed_tables && tlb->start >= tlb->end))
		mmn_flush_tlb_mm(tlb->mm);
	else if (tlb->start < tlb->end)
		mmn_flush_tlb_range(tlb->mm, tlb->start, tlb->end);
	if (legacy && (tlb->fullmm || tlb->start < tlb->end))
		tlb_secondary_flush(tlb->mm, tlb->fullmm ? 0 : tlb->start,
				    tlb->fullmm ? ~0UL : tlb->end, false);
	tlb->start = ~0UL;
	tlb->end = 0;
	tlb->freed_tables = false;
}

/* tlb_flush_mmu(): flush, then (and only then) free what was gathered. */
void mmn_tlb_flush_mmu(struct mmn_mmu_gather *tlb)
{
	struct mmn_sim *sim;
	unsigned int nr_tables;

	if (!tlb || !tlb->mm)
		return;
	sim = tlb->mm->sim;
	nr_tables = tlb->nr_tables;

	if (!tlb->nr_pages && !nr_tables && tlb->start >= tlb->end)
		return;
	mmn_tlb_flush_mmu_tlbonly(tlb);
	atomic_fetch_add_explicit(&sim->flush_stats.gather, 1, memory_order_relaxed);
	for (unsigned int i = 0; i < tlb->nr_pages; i++)
		mmn_put_page(sim, tlb->pages[i]);
	tlb->nr_pages = 0;
	tlb->nr_tables = 0;
	if (nr_tables) {
		mmn_raw_lock(&tlb->mm->walk_lock);
		for (unsigned int i = 0; i < nr_tables; i++)
			mmn_pt_free(sim, tlb->tables[i]);
		mmn_raw_unlock(&tlb->mm->walk_lock);
	}
}

/* tlb_finish_mmu(). */
void mmn_tlb_finish_mmu(struct mmn_mmu_gather *tlb)
{
	mmn_tlb_flush_mmu(tlb);
}
