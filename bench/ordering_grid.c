// SPDX-License-Identifier: MIT
/*
 * The invalidation-ordering grid (ordering_grid.h): the cells, their
 * set-up, the operation of each family, the cost run and the safety
 * exploration. Public API of the library only.
 */
#include <errno.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ordering_grid.h"

#define OG_PG MMN_PAGE_SIZE
#define OG_BASE 0x40000000UL /* 2 MiB aligned: the THP cells map a PMD leaf there */
#define OG_GFN0 0x100ULL
#define OG_RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define OG_ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED)
#define OG_THP_PAGES 512UL
#define OG_MAX_TARGETS 4

static const char *const og_order_names[OG_NR_ORDER] = {
	"cpu_flush", "call_sites", "only_end", "range_end", "range_end_held", "invalidate_page",
	"start_end",
};
static const char *const og_lst_names[OG_NR_LST] = { "kvm", "iommu_sva", "iommu_amdv2", "hmm" };
static const char *const og_op_names[OG_NR_OP] = {
	"munmap", "mprotect", "dontneed", "reclaim", "migrate", "ksm", "thp_split", "fork", "numa",
};

/* Each ordering as knobs over profile "latest" (so nothing but F2's
 * placement differs from one ordering to the next). */
static const char *const og_knobs_cpu[] = { NULL };
static const char *const og_knobs_call[] = {
	"secondary_flush=call_sites", "only_end_skips_flush=false", "ksm_secflush_at_end=false",
	"hugetlb_prot_secflush_at_end=false", NULL,
};
static const char *const og_knobs_only_end[] = {
	"secondary_flush=call_sites", "only_end_skips_flush=true", "ksm_secflush_at_end=true",
	"hugetlb_prot_secflush_at_end=true", NULL,
};
static const char *const og_knobs_range_end[] = {
	"secondary_flush=range_end", "put_page_before_secondary_flush=true", NULL,
};
static const char *const og_knobs_range_end_held[] = {
	"secondary_flush=range_end", "put_page_before_secondary_flush=false", NULL,
};
static const char *const og_knobs_inv_page[] = {
	"secondary_flush=invalidate_page", "invalidate_page_under_ptl=true", NULL,
};
static const char *const *const og_knobs[OG_NR_ORDER] = {
	og_knobs_cpu, og_knobs_call, og_knobs_only_end, og_knobs_range_end,
	og_knobs_range_end_held, og_knobs_inv_page, og_knobs_cpu,
};

const char *og_order_name(enum og_order o)
{
	return (unsigned)o < OG_NR_ORDER ? og_order_names[o] : "unknown";
}

const char *og_listener_name(enum og_listener l)
{
	return (unsigned)l < OG_NR_LST ? og_lst_names[l] : "unknown";
}

const char *og_op_name(enum og_op o)
{
	return (unsigned)o < OG_NR_OP ? og_op_names[o] : "unknown";
}

const char *const *og_order_knobs(enum og_order o)
{
	return (unsigned)o < OG_NR_ORDER ? og_knobs[o] : og_knobs_cpu;
}

const char *og_na_reason(const struct og_cell *c)
{
	if ((unsigned)c->order >= OG_NR_ORDER || (unsigned)c->lst >= OG_NR_LST ||
	    (unsigned)c->op >= OG_NR_OP || c->pages < 1 || c->pages > OG_THP_PAGES)
		return "not a cell of the grid";
	if (c->lst == OG_SVA && c->order == OG_START_END)
		return "SVA walks the CPU page table: start cannot make the entry non-present "
		       "for the device, so it cannot block and re-fault (seed 001)";
	if ((c->lst == OG_KVM || c->lst == OG_HMM) && c->order != OG_START_END)
		return "registers only start/end, no secondary-TLB callback: F2's placement "
		       "never reaches it (its row: start_end)";
	if (c->lst == OG_AMDV2 && c->order != OG_START_END && c->order != OG_INV_PAGE)
		return "pre-2014 AMD-v2 has no invalidate_range: it empties the table at start "
		       "and restores it at end (its rows: start_end, invalidate_page)";
	if (c->op == OG_THP_SPLIT && c->pages != OG_THP_PAGES)
		return "a THP split covers the whole 512-page PMD: see size 512";
	return NULL;
}

/* ------------------------------------------------------------------ */
/* The environment of one cell: mm, mapping, listener                  */
/* ------------------------------------------------------------------ */

struct og_env {
	struct og_cell c;
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_kvm *kvm;
	struct mmn_iommu *io;
	int pasid;
	struct mmn_hmm *hmm;
	unsigned long region;                  /* pages mapped */
	unsigned long targets[OG_MAX_TARGETS]; /* pages the device and the CPU race on */
	int nr_targets;
	/* explore */
	unsigned long rounds;
	atomic_int done;
};

/* Pages i and n + i of a KSM cell hold the same word, so they merge. */
static uint64_t og_val(const struct og_env *e, unsigned long pg)
{
	return 0xda7a0000ULL + (e->c.op == OG_KSM ? pg % e->c.pages : pg);
}

static unsigned long og_region(const struct og_cell *c)
{
	return c->op == OG_KSM ? 2 * c->pages : c->op == OG_THP_SPLIT ? OG_THP_PAGES : c->pages;
}

static void og_sim_config(const struct og_cell *c, struct mmn_sim_config *cfg)
{
	cfg->nr_cpus = 2;
	cfg->nr_frames = 3 * og_region(c) + 512;
	cfg->nr_huge_pages = c->op == OG_THP_SPLIT ? 2 : 0;
	cfg->profile = "latest";
}

/* Map the region (and make it THP-eligible for a THP cell), then write
 * every page from the CPU. */
static int og_populate(struct og_env *e)
{
	unsigned long got;
	int err = mmn_mmap(e->mm, OG_BASE, e->region * OG_PG, OG_RW, OG_ANON, &got);

	if (!err && e->c.op == OG_THP_SPLIT)
		err = mmn_madvise(e->mm, OG_BASE, e->region * OG_PG, MMN_MADV_HUGEPAGE);
	for (unsigned long i = 0; !err && i < e->region; i++)
		err = mmn_cpu_write(e->mm, 0, OG_BASE + i * OG_PG, og_val(e, i));
	return err;
}

static int og_listener_create(struct og_env *e)
{
	if (e->c.lst == OG_KVM) {
		struct mmn_kvm_config kc;

		mmn_kvm_config_init(&kc);
		e->kvm = mmn_kvm_create(e->mm, &kc);
		if (!e->kvm)
			return -errno;
		return mmn_kvm_set_memslot(e->kvm, 0, OG_GFN0, e->region, OG_BASE);
	}
	if (e->c.lst == OG_HMM) {
		struct mmn_hmm_config hc;

		mmn_hmm_config_init(&hc);
		return mmn_hmm_create(e->mm, OG_BASE, e->region * OG_PG, &hc, &e->hmm);
	}
	struct mmn_iommu_config ic;

	mmn_iommu_config_init(&ic);
	ic.mode = e->c.lst == OG_AMDV2 ? MMN_IOMMU_AMDV2 : MMN_IOMMU_SVA;
	e->io = mmn_iommu_create(e->sim, &ic);
	if (!e->io)
		return -errno;
	return mmn_iommu_bind(e->io, e->mm, &e->pasid);
}

/* One device (or vCPU) access of page @pg: 0, 1 when the device gave up,
 * or the access's error (a page gone by munmap is -EFAULT: not a give-up). */
static int og_access(struct og_env *e, unsigned long pg, bool write)
{
	unsigned long addr = OG_BASE + pg * OG_PG;
	uint64_t v = og_val(e, pg);
	long r;

	switch (e->c.lst) {
	case OG_KVM:
		r = write ? mmn_kvm_vcpu_write(e->kvm, 0, OG_GFN0 + pg, v)
			  : mmn_kvm_vcpu_read(e->kvm, 0, OG_GFN0 + pg, &v);
		return r == -EAGAIN ? 1 : (int)r;
	case OG_HMM:
		r = write ? mmn_hmm_write(e->hmm, addr, 1, &v) : mmn_hmm_read(e->hmm, addr, 1, &v);
		return r == -EBUSY ? 1 : r < 0 ? (int)r : 0;
	default:
		r = write ? mmn_iommu_dma_write(e->io, e->pasid, addr, v)
			  : mmn_iommu_dma_read(e->io, e->pasid, addr, &v);
		return r == -EIO ? 1 : (int)r;
	}
}

/* The pages the race is about: the first few of the range, the replaced
 * (second) pages of a KSM cell. */
static void og_targets(struct og_env *e)
{
	unsigned long first = e->c.op == OG_KSM ? e->c.pages : 0;
	unsigned long n = e->c.pages < OG_MAX_TARGETS ? e->c.pages : OG_MAX_TARGETS;

	e->nr_targets = (int)n;
	for (unsigned long i = 0; i < n; i++)
		e->targets[i] = first + i * (e->c.pages / n);
}

static int og_env_setup(struct og_env *e, struct mmn_sim *sim, const struct og_cell *c)
{
	int err;

	memset(e, 0, sizeof(*e));
	e->c = *c;
	e->sim = sim;
	e->region = og_region(c);
	og_targets(e);
	e->mm = mmn_mm_create(sim);
	if (!e->mm)
		return -ENOMEM;
	err = og_listener_create(e);
	if (!err)
		err = og_populate(e);
	return err;
}

static void og_env_destroy(struct og_env *e)
{
	if (e->kvm)
		mmn_kvm_destroy(e->kvm);
	if (e->io)
		mmn_iommu_destroy(e->io);
	if (e->hmm)
		(void)mmn_hmm_destroy(e->hmm);
	if (e->mm)
		mmn_mm_put(e->mm);
	e->kvm = NULL;
	e->io = NULL;
	e->hmm = NULL;
	e->mm = NULL;
}

/* The operation of the cell's family over its range, once. */
static int og_op(struct og_env *e, unsigned long round)
{
	unsigned long len = e->c.pages * OG_PG;
	struct mmn_mm *child = NULL;
	int err = 0;

	switch (e->c.op) {
	case OG_MUNMAP:
		return mmn_munmap(e->mm, OG_BASE, len);
	case OG_MPROTECT:
		return mmn_mprotect(e->mm, OG_BASE, len, round % 2 ? OG_RW : MMN_PROT_READ);
	case OG_DONTNEED:
		return mmn_madvise(e->mm, OG_BASE, len, MMN_MADV_DONTNEED);
	case OG_RECLAIM:
		return mmn_try_to_unmap(e->mm, OG_BASE, len);
	case OG_MIGRATE:
		return mmn_migrate_pages(e->mm, OG_BASE, len);
	case OG_KSM:
		for (unsigned long i = 0; !err && i < e->c.pages; i++)
			err = mmn_ksm_merge(e->mm, OG_BASE + i * OG_PG, e->mm,
					    OG_BASE + (e->c.pages + i) * OG_PG);
		return err;
	case OG_THP_SPLIT:
		return mmn_split_huge_pmd(e->mm, OG_BASE);
	case OG_FORK:
		err = mmn_fork(e->mm, &child);
		if (child)
			mmn_mm_put(child);
		return err;
	default:
		return mmn_change_prot_numa(e->mm, OG_BASE, len);
	}
}

/* The listener's counters in the grid's terms (docs/benchmarks.md says
 * which counter of each listener stands for which column). */
struct og_lsnap {
	unsigned long flushes, entries, needless, faults, refaults, giveups;
};

static void og_lsnap(struct og_env *e, struct og_lsnap *s)
{
	if (e->kvm) {
		struct mmn_kvm_stats k;

		mmn_kvm_get_stats(e->kvm, &k);
		*s = (struct og_lsnap){ k.tlb_flushes, k.sptes_zapped, k.needless_invalidations,
					k.faults, k.refaults, k.give_ups };
	} else if (e->hmm) {
		struct mmn_hmm_stats h;

		mmn_hmm_get_stats(e->hmm, &h);
		*s = (struct og_lsnap){ h.callbacks - h.skipped_own, h.zapped + h.downgraded,
					h.needless, h.device_faults, h.refaults, h.giveups };
	} else {
		struct mmn_iommu_stats i;

		mmn_iommu_get_stats(e->io, &i);
		*s = (struct og_lsnap){ i.flushes, i.entries_flushed, i.needless_flushes,
					i.page_requests, i.refaults, i.give_ups };
	}
}

/* ------------------------------------------------------------------ */
/* Cost: the operation alone                                           */
/* ------------------------------------------------------------------ */

static uint64_t og_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void og_events(struct mmn_sim *sim, uint64_t *ev)
{
	for (int k = 0; k < MMN_COST_NR; k++)
		ev[k] = mmn_clock_events(sim, (enum mmn_cost)k);
}

/* The device reads every page of the range (@after the operation: again;
 * not after munmap, the range is gone). */
static int og_refill(struct og_env *e, bool after)
{
	unsigned long first = e->c.op == OG_KSM ? e->c.pages : 0;
	unsigned long n = e->c.op == OG_THP_SPLIT ? OG_THP_PAGES : e->c.pages;
	int err = 0;

	for (unsigned long i = 0; !(after && e->c.op == OG_MUNMAP) && !err && i < n; i++)
		err = og_access(e, first + i, false);
	return err > 0 ? 0 : err;
}

/* Violations are counted (mmn_check_total()), not printed. */
static void og_quiet(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	(void)sim;
	(void)v;
	(void)arg;
}

static struct mmn_sim *og_sim_new(const struct og_cell *c)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	og_sim_config(c, &cfg);
	sim = mmn_sim_create(&cfg);
	if (sim)
		mmn_check_set_handler(sim, og_quiet, NULL);
	for (const char *const *k = og_order_knobs(c->order); sim && *k; k++) {
		char name[64];
		const char *eq = strchr(*k, '=');

		snprintf(name, sizeof(name), "%.*s", (int)(eq - *k), *k);
		if (mmn_sim_set_knob(sim, name, eq + 1)) {
			mmn_sim_destroy(sim);
			return NULL;
		}
	}
	return sim;
}

int og_cost(const struct og_cell *c, struct og_cost *out)
{
	struct og_lsnap s0, s1, s2;
	uint64_t e0[MMN_COST_NR], e2[MMN_COST_NR], c0, c1, t0;
	struct mmn_sim *sim;
	struct og_env e;
	int err;

	if (og_na_reason(c))
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	sim = og_sim_new(c);
	if (!sim)
		return -ENOMEM;
	err = og_env_setup(&e, sim, c);
	/* the device has every page of the range cached (as far as it holds) */
	if (!err)
		err = og_refill(&e, false);
	if (!err) {
		og_lsnap(&e, &s0);
		og_events(sim, e0);
		c0 = mmn_clock_now(sim);
		t0 = og_now_ns();
		err = og_op(&e, 0);
		out->real_ns = (double)(og_now_ns() - t0);
		c1 = mmn_clock_now(sim);
		og_lsnap(&e, &s1);
	}
	if (!err)
		err = og_refill(&e, true);
	if (!err) {
		og_lsnap(&e, &s2);
		og_events(sim, e2);
		out->sec_flushes = s1.flushes - s0.flushes;
		out->entries = s1.entries - s0.entries;
		out->needless = s1.needless - s0.needless;
		out->dev_faults = s2.faults - s1.faults;
		out->refaults = s2.refaults - s1.refaults;
		out->op_modelled_ns = c1 - c0;
		out->refill_modelled_ns = mmn_clock_now(sim) - c1;
		for (int k = 0; k < MMN_COST_NR; k++)
			out->events[k] = e2[k] - e0[k];
		/* range_end's early free is a protocol report even alone */
		out->violations = mmn_check_total(sim);
	}
	og_env_destroy(&e);
	mmn_sim_destroy(sim);
	return err;
}

/* ------------------------------------------------------------------ */
/* Safety: the same combination explored                               */
/* ------------------------------------------------------------------ */

static void *og_operator(void *arg)
{
	struct og_env *e = arg;

	for (unsigned long r = 0; r < e->rounds; r++) {
		if (r && e->c.op == OG_MUNMAP)
			(void)og_populate(e);
		else if (r && e->c.op != OG_MPROTECT)
			for (int t = 0; t < e->nr_targets; t++)
				(void)mmn_cpu_write(e->mm, 1, OG_BASE + e->targets[t] * OG_PG,
						    og_val(e, e->targets[t]));
		(void)og_op(e, r);
	}
	atomic_fetch_add(&e->done, 1);
	return NULL;
}

static void *og_device(void *arg)
{
	struct og_env *e = arg;

	for (unsigned long n = 0; n < 2 * e->rounds * (unsigned long)e->nr_targets; n++)
		(void)og_access(e, e->targets[n % (unsigned long)e->nr_targets], n % 2 == 0);
	atomic_fetch_add(&e->done, 1);
	return NULL;
}

/* A CPU that stores to the raced pages (a COW copy in a write-protect
 * window) and re-uses freed frames (a page put too early is re-allocated). */
static void *og_cpu(void *arg)
{
	struct og_env *e = arg;

	for (unsigned long n = 0; atomic_load(&e->done) < 2 && n < 4 * e->rounds; n++) {
		unsigned long pfn = mmn_alloc_page(e->sim, MMN_PG_ANON);
		unsigned long pg = e->targets[n % (unsigned long)e->nr_targets];
		uint64_t v = 0x5ec7e7;

		if (pfn) {
			mmn_phys_access(e->sim, pfn, mmn_page_gen(e->sim, pfn), 0, true, &v);
			(void)mmn_put_page(e->sim, pfn);
		}
		if (n % 2)
			(void)mmn_cpu_write(e->mm, 1, OG_BASE + pg * OG_PG, og_val(e, pg));
	}
	return NULL;
}

static void og_actors(struct mmn_sim *sim, void *ctx)
{
	void *(*fn[3])(void *) = { og_operator, og_device, og_cpu };
	const char *names[3] = { "operator", "device", "cpu" };
	struct og_env *e = ctx;
	struct mmn_actor *a[3];
	int n = 0;

	for (; n < 3; n++)
		if (mmn_actor_spawn(sim, names[n], fn[n], e, &a[n])) {
			atomic_store(&e->done, 2);
			break;
		}
	for (int i = 0; i < n; i++)
		(void)mmn_actor_join(a[i], NULL);
}

static int og_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			struct mmn_sim_config *cfg, const char **own)
{
	const struct og_cell *c = p->def->user;
	struct og_env *e = ctx;

	(void)values;
	og_sim_config(c, cfg);
	if (p->mode == MMN_SCENARIO_EXPLORE)
		cfg->nr_frames = 2 * og_region(c) + 64;
	for (const char *const *k = og_order_knobs(c->order); *k; k++)
		*own++ = *k;
	e->rounds = p->iterations ? p->iterations : 1;
	return 0;
}

/* The set-up, alone: the region written, the device's caches filled with
 * writable entries of the raced pages (as S3 does). */
static int og_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		    struct mmn_scenario_result *out)
{
	struct og_env *e = ctx;
	unsigned long rounds = e->rounds;
	int err;

	(void)out;
	err = og_env_setup(e, sim, p->def->user);
	e->rounds = rounds;
	for (int t = 0; !err && t < e->nr_targets; t++)
		err = og_access(e, e->targets[t], true);
	return err > 0 ? -EIO : err;
}

static void og_judge(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out)
{
	struct og_env *e = ctx;
	struct og_lsnap s;

	mmn_scenario_judge(sim, OG_FOUND_KINDS, p, out);
	og_lsnap(e, &s);
	mmn_scenario_add_counter(out, "giveups", s.giveups);
	mmn_scenario_add_counter(out, "refaults", s.refaults);
	mmn_scenario_add_counter(out, "device_faults", s.faults);
}

static int og_teardown(void *ctx, int err)
{
	og_env_destroy(ctx);
	return err;
}

static uint64_t og_counter(const struct mmn_explore_stats *st, const char *name)
{
	for (int i = 0; i < st->nr_counters; i++)
		if (!strcmp(st->counter_name[i], name))
			return st->counters[i];
	return 0;
}

int og_safety(const struct og_cell *c, const struct og_safety_config *cfg, struct og_safety *out)
{
	const char *strategy = cfg && cfg->strategy ? cfg->strategy : "pct";
	int s = mmn_explore_strategy_by_name(strategy);
	struct mmn_scenario_def def = {
		.id = "ordering", .seed = "001", .title = "an ordering cell under concurrent access",
		.user = c, .found_kinds = OG_FOUND_KINDS, .ctx_size = sizeof(struct og_env),
		.hugetlb = c->op == OG_THP_SPLIT, .configure = og_configure, .setup = og_setup,
		.actors = og_actors, .judge = og_judge, .teardown = og_teardown,
	};
	struct mmn_scenario_params p;
	struct mmn_explore_config ec;
	struct mmn_explore_stats st;
	uint64_t t0;
	int err;

	if (og_na_reason(c) || s < 0)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	/* wrong: only the kinds of OG_FOUND_KINDS make a schedule violating
	 * (a range_end cell's early free, a protocol report, is counted by
	 * kind but is not by itself a corruption the device saw). */
	p.wrong = true;
	p.variant = -1;
	p.pages = c->pages;
	mmn_explore_config_init(&ec);
	ec.strategy = (enum mmn_explore_strategy)s;
	ec.runs = cfg && cfg->schedules ? cfg->schedules : 200;
	ec.seed = cfg && cfg->seed ? cfg->seed : 1;
	ec.keep_going = cfg ? cfg->keep_going : false;
	ec.trace = false;
	t0 = og_now_ns();
	err = mmn_scenario_explore_def(&def, &p, &ec, &st);
	out->real_ns = (double)(og_now_ns() - t0);
	if (err)
		return err;
	snprintf(out->strategy, sizeof(out->strategy), "%s", strategy);
	out->schedules = st.schedules;
	out->violating = st.violating;
	out->first_index = st.first_index;
	out->complete = st.complete;
	out->keep_going = ec.keep_going;
	memcpy(out->by_kind, st.by_kind, sizeof(out->by_kind));
	out->giveups = og_counter(&st, "giveups");
	out->refaults = og_counter(&st, "refaults");
	out->dev_faults = og_counter(&st, "device_faults");
	return 0;
}

void og_safety_text(const struct og_safety *s, char *buf, unsigned long len)
{
	static const int kinds[] = { MMN_VIOL_USE_AFTER_FREE, MMN_VIOL_LOST_WRITE,
				     MMN_VIOL_STALE_TRANSLATION };
	static const char *const names[] = { "use_after_free", "lost_write", "stale" };
	size_t off;

	if (!s->violating) {
		snprintf(buf, len, "none in %lu%s", s->schedules, s->complete ? " (complete)" : "");
		return;
	}
	if (s->keep_going)
		off = (size_t)snprintf(buf, len, "found %lu/%lu (", s->violating, s->schedules);
	else
		off = (size_t)snprintf(buf, len, "found at #%lu (", s->first_index);
	for (int i = 0; i < 3 && off < len; i++)
		if (s->by_kind[kinds[i]])
			off += (size_t)snprintf(buf + off, len - off, "%s%s",
						buf[off - 1] == '(' ? "" : ",", names[i]);
	if (off < len)
		snprintf(buf + off, len - off, ")");
}
