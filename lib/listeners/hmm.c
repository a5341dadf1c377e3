// SPDX-License-Identifier: MIT
/*
 * The HMM-style reference listener (include/mmnsim/listeners/hmm.h).
 *
 * Modelled on the kernel's lib/test_hmm.c "dmirror" driver (the device
 * behind tools/testing/selftests/mm/hmm-tests.c) and on the fault loop every
 * mmu_interval_notifier user shares (nouveau_range_fault(), amdgpu's
 * userptr path, ib_umem_odp_map_dma_and_lock()); the VALID_FLAG variant
 * models the pre-5.4 mm/hmm.c hmm_mirror with its per-range "valid" flag.
 * Our own code, written against the public API only: the behaviour is
 * described in comments with the kernel function each part stands for.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/check.h>
#include <mmnsim/clock.h>
#include <mmnsim/device.h>
#include <mmnsim/fault.h>
#include <mmnsim/hmm_range.h>
#include <mmnsim/listeners/hmm.h>
#include <mmnsim/mm.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/page.h>
#include <mmnsim/pgtable.h>
#include <mmnsim/sched.h>
#include <mmnsim/sync.h>

#define PG MMN_PAGE_SIZE

/* Device page table entry tags (dmirror: DPT_XA_TAG_WRITE / _ATOMIC), plus
 * bookkeeping bits of the model. */
enum {
	E_VALID = 1u << 0,
	E_WRITE = 1u << 1,     /* DPT_XA_TAG_WRITE */
	E_ATOMIC = 1u << 2,    /* DPT_XA_TAG_ATOMIC: device-exclusive */
	E_DEVICE = 1u << 3,    /* the frame is a device-private page of ours */
	E_LOST = 1u << 4,      /* erased by a notification: the next program is a re-fault */
	E_LOST_WRITE = 1u << 5, /* WRITE removed by a notification */
	E_PMD = 1u << 6,       /* part of a 2 MiB entry (pmd_entries): every page of
				* its aligned block has it, pfn = block's first + i */
};

struct hmm_entry {
	unsigned long pfn;
	uint32_t gen;
	uint32_t flags;
};

/* One page as the hmm_range_fault()-like walk reports it (hmm_pfns[]). */
enum {
	H_VALID = 1u << 0,
	H_WRITE = 1u << 1,
	H_ZERO = 1u << 2,
	H_PMD = 1u << 3,
	H_DEVICE = 1u << 4,
};

struct hmm_pfn {
	unsigned long pfn;
	uint32_t gen;
	uint32_t flags;
};

/* One chunk's buffers: the helper's words and generations, and the same
 * pages in the mirror's form. */
struct hmm_buf {
	struct hmm_pfn *hp;
	unsigned long *pfns;
	uint32_t *gens;
};

struct mmn_hmm {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	unsigned long start, end, npages;
	struct mmn_hmm_config cfg;

	struct mmn_interval_notifier notifier; /* dmirror->notifier */
	struct mmn_notifier mn;                /* VALID_FLAG: the old hmm_mirror */
	struct mmn_notifier_ops mn_ops;
	bool inserted, registered, audited;

	struct mmn_mutex mutex;   /* dmirror->mutex: guards pt[] */
	struct hmm_entry *pt;     /* the device page table, by page index */
	unsigned long nr_entries; /* under mutex; read atomically */

	/* VALID_FLAG */
	atomic_bool valid;
	atomic_long active;
	struct mmn_waitqueue wq;

	/* Bumped under the mutex when the mirror erases entries for its own
	 * migrations (whose MIGRATE notifications it skips): a fault loop in
	 * flight then retries instead of programming a frame that is leaving. */
	atomic_ulong own_seq;
	/* Own migrations in progress: fault loops wait for none before they
	 * begin and retry if one started (the MIGRATE ranges they cause are
	 * skipped, so nothing else would stop an entry being programmed to a
	 * source page migrate_vma is copying and about to free). */
	atomic_long mig_active;

	/* Device memory. */
	struct mmn_dev_pagemap *pgmap;
	struct mmn_dev_pagemap_ops pgmap_ops;
	atomic_ulong *dev_pfns;   /* device pfns of our pool seen so far */
	atomic_ulong nr_dev_pfns;

	struct mmn_hmm_stats st;  /* atomic builtins, field by field */
};

static const struct mmn_lock_class hmm_mutex_class = { .name = "dmirror_mutex", .rank = 0 };

#define STAT_ADD(m, field, n) __atomic_fetch_add(&(m)->st.field, (n), __ATOMIC_RELAXED)
#define STAT_INC(m, field) STAT_ADD(m, field, 1UL)

static const char *const point_names[2] = { "hmm_collected", "hmm_programmed" };

const char *mmn_hmm_fault_point_name(bool after_program)
{
	return point_names[after_program ? 1 : 0];
}

void mmn_hmm_config_init(struct mmn_hmm_config *cfg)
{
	if (!cfg)
		return;
	memset(cfg, 0, sizeof(*cfg));
	cfg->variant = MMN_HMM_EVENT_AWARE;
	cfg->retry_budget = 64;
	cfg->chunk_pages = 32;
	cfg->name = "hmm";
}

/* ------------------------------------------------------------------ */
/* Device page table helpers (device mutex held)                       */
/* ------------------------------------------------------------------ */

static void entry_erase(struct mmn_hmm *m, struct hmm_entry *e, bool lost)
{
	if (!(e->flags & E_VALID))
		return;
	e->flags = lost ? E_LOST : 0;
	__atomic_fetch_sub(&m->nr_entries, 1, __ATOMIC_RELAXED);
}

/*
 * The 2 MiB block of page index @i: false when it does not lie whole in the
 * mirror (no 2 MiB entry there), else its first index in *@first.
 */
static bool pmd_block(const struct mmn_hmm *m, unsigned long i, unsigned long *first)
{
	unsigned long base = (m->start + i * PG) & MMN_PMD_MASK;

	if (base < m->start || base + MMN_PMD_SIZE > m->end)
		return false;
	*first = (base - m->start) / PG;
	return true;
}

/* Erase the whole 2 MiB entry page @i is part of; returns the pages erased. */
static unsigned long pmd_drop(struct mmn_hmm *m, unsigned long i, bool lost)
{
	unsigned long b, n = 0;

	if (!pmd_block(m, i, &b))
		return 0;
	for (unsigned long k = 0; k < MMN_HPAGE_NR; k++) {
		if (m->pt[b + k].flags & E_VALID)
			n++;
		entry_erase(m, &m->pt[b + k], lost);
	}
	STAT_INC(m, pmd_dropped);
	return n;
}

static void entry_set(struct mmn_hmm *m, struct hmm_entry *e, unsigned long pfn, uint32_t gen,
		      uint32_t tags)
{
	uint32_t old = e->flags;
	bool refault;

	/* a 4 KiB entry inside a 2 MiB one: the block goes first */
	if ((old & E_PMD) && !(tags & E_PMD)) {
		(void)pmd_drop(m, (unsigned long)(e - m->pt), false);
		old = e->flags;
	}
	refault = (old & E_LOST) || ((old & E_LOST_WRITE) && (tags & E_WRITE));

	if (refault)
		STAT_INC(m, refaults);
	if (!(old & E_VALID))
		__atomic_fetch_add(&m->nr_entries, 1, __ATOMIC_RELAXED);
	e->pfn = pfn;
	e->gen = gen;
	e->flags = E_VALID | tags;
	/* read-only again after a downgrade: the write it lost is still owed */
	if ((old & E_LOST_WRITE) && !(tags & E_WRITE))
		e->flags |= E_LOST_WRITE;
}

/* Clip [start, end) to the mirror; false if no overlap. */
static bool clip(const struct mmn_hmm *m, unsigned long start, unsigned long end,
		 unsigned long *first, unsigned long *last)
{
	unsigned long s = start < m->start ? m->start : start;
	unsigned long e = end > m->end ? m->end : end;

	if (end <= m->start || start >= m->end || s >= e)
		return false;
	*first = (s - m->start) / PG;
	*last = (e - m->start + PG - 1) / PG; /* exclusive */
	return true;
}

/*
 * ACT_DOWNGRADE_PAGE (PROTECTION_PAGE): as ACT_DOWNGRADE, but an ATOMIC
 * entry is erased: fork restores device-exclusive entries to present PTEs
 * inside its PROTECTION_PAGE range with no notifier of their own
 * (copy_nonpresent_pte() → try_restore_exclusive_pte(), 5.14-6.19), so
 * that range is the only word the device gets that its exclusivity ended
 * (test_hmm's dmirror erases on every event; mprotect, by contrast, keeps
 * the entry exclusive: change_pte_range() makes it a read one).
 */
enum inval_action { ACT_ERASE, ACT_DOWNGRADE, ACT_DOWNGRADE_PAGE };

/*
 * An invalidation covering any page of a 2 MiB entry acts on the whole
 * entry (a device PTE is one translation: nouveau_svmm_invalidate() clears
 * the range it is given in the GPU's page table, and the model drops the
 * large PTE the range touches rather than splitting it); its pages are
 * counted once in *@zapped or *@down. A 2 MiB entry is never ATOMIC.
 */
static void pmd_invalidate(struct mmn_hmm *m, unsigned long i, enum inval_action act,
			   unsigned long *zapped, unsigned long *down)
{
	unsigned long b;

	if (act == ACT_ERASE) {
		*zapped += pmd_drop(m, i, true);
		return;
	}
	if (!pmd_block(m, i, &b) || !(m->pt[i].flags & E_WRITE))
		return;
	for (unsigned long k = 0; k < MMN_HPAGE_NR; k++) {
		struct hmm_entry *e = &m->pt[b + k];

		if ((e->flags & E_VALID) && (e->flags & E_WRITE)) {
			e->flags &= ~E_WRITE;
			e->flags |= E_LOST_WRITE;
			(*down)++;
		}
	}
}

/* Apply an invalidation to the covered entries; count it. */
static void invalidate_entries(struct mmn_hmm *m, unsigned long start, unsigned long end,
			       enum inval_action act)
{
	unsigned long first, last, zapped = 0, down = 0, covered = 0;

	if (clip(m, start, end, &first, &last)) {
		for (unsigned long i = first; i < last; i++) {
			struct hmm_entry *e = &m->pt[i];

			if (!(e->flags & E_VALID))
				continue;
			covered++;
			if (e->flags & E_PMD) {
				if (!m->cfg.pmd_zap_4k_only)
					pmd_invalidate(m, i, act, &zapped, &down);
				continue;
			}
			if (act == ACT_DOWNGRADE_PAGE && (e->flags & E_ATOMIC)) {
				entry_erase(m, e, true);
				zapped++;
			} else if (act != ACT_ERASE) {
				if (e->flags & E_WRITE) {
					e->flags &= ~E_WRITE;
					e->flags |= E_LOST_WRITE;
					down++;
				}
			} else {
				entry_erase(m, e, true);
				zapped++;
			}
		}
	}
	if (!covered)
		STAT_INC(m, needless);
	if (zapped)
		STAT_INC(m, teardowns);
	STAT_ADD(m, zapped, zapped);
	STAT_ADD(m, downgraded, down);
}

/*
 * An own migration begins (device mutex held): erase the mirror's entries
 * of [first, last) (only those of device page @dev_pfn if non-zero, only
 * device entries with @device_only), move own_seq, count the migration
 * active. Pairs with own_end().
 */
static void own_begin(struct mmn_hmm *m, unsigned long first, unsigned long last,
		      bool device_only, unsigned long dev_pfn)
{
	unsigned long n = 0;

	for (unsigned long i = first; i < last; i++) {
		struct hmm_entry *e = &m->pt[i];

		if (!(e->flags & E_VALID) || (device_only && !(e->flags & E_DEVICE)) ||
		    (dev_pfn && ((e->flags & E_DEVICE) == 0 || e->pfn != dev_pfn)))
			continue;
		if (e->flags & E_PMD) {
			n += pmd_drop(m, i, false);
			continue;
		}
		entry_erase(m, e, false);
		n++;
	}
	atomic_fetch_add(&m->mig_active, 1);
	atomic_fetch_add(&m->own_seq, 1);
	STAT_ADD(m, own_erased, n);
}

/* The own migration is over (device mutex not held). */
static void own_end(struct mmn_hmm *m)
{
	mmn_mutex_lock(&m->mutex);
	atomic_fetch_add(&m->own_seq, 1);
	atomic_fetch_sub(&m->mig_active, 1);
	mmn_mutex_unlock(&m->mutex);
	mmn_wake_up_all(&m->wq);
}

static bool dev_pfn_is_ours(struct mmn_hmm *m, unsigned long pfn)
{
	unsigned long n = atomic_load_explicit(&m->nr_dev_pfns, memory_order_acquire);

	for (unsigned long i = 0; i < n; i++)
		if (atomic_load_explicit(&m->dev_pfns[i], memory_order_relaxed) == pfn)
			return true;
	return false;
}

/* Under the mutex (the only writer). */
static void dev_pfn_record(struct mmn_hmm *m, unsigned long pfn)
{
	unsigned long n = atomic_load_explicit(&m->nr_dev_pfns, memory_order_relaxed);

	if (!pfn || dev_pfn_is_ours(m, pfn) || n >= m->cfg.devmem_pages)
		return;
	atomic_store_explicit(&m->dev_pfns[n], pfn, memory_order_relaxed);
	atomic_store_explicit(&m->nr_dev_pfns, n + 1, memory_order_release);
}

/* ------------------------------------------------------------------ */
/* Notifications                                                       */
/* ------------------------------------------------------------------ */

static void count_callback(struct mmn_hmm *m, const struct mmn_notifier_range *range)
{
	STAT_INC(m, callbacks);
	if ((unsigned int)range->event < MMN_NOTIFY_NR_EVENTS)
		STAT_INC(m, by_event[range->event]);
}

/*
 * dmirror_interval_invalidate(): skip the migrations (and, nouveau-like, the
 * exclusive conversions) this device started itself; take the device mutex
 * (trylock and refuse when the range may not block: the OOM reaper);
 * mmu_interval_set_seq(); then drop what the event requires.
 */
static bool hmm_invalidate(struct mmn_interval_notifier *sub,
			   const struct mmn_notifier_range *range, unsigned long cur_seq)
{
	struct mmn_hmm *m = (struct mmn_hmm *)((char *)sub - offsetof(struct mmn_hmm, notifier));
	enum inval_action act = ACT_ERASE;

	count_callback(m, range);
	if (m->cfg.variant == MMN_HMM_EVENT_AWARE && range->owner == m &&
	    (range->event == MMN_NOTIFY_MIGRATE || range->event == MMN_NOTIFY_EXCLUSIVE)) {
		STAT_INC(m, skipped_own);
		return true;
	}
	if (mmn_notifier_range_blockable(range)) {
		mmn_mutex_lock(&m->mutex);
	} else if (!mmn_mutex_trylock(&m->mutex)) {
		STAT_INC(m, nonblock_refused);
		return false;
	}
	mmn_interval_set_seq(sub, cur_seq);
	if (m->cfg.variant == MMN_HMM_EVENT_AWARE) {
		switch (range->event) {
		case MMN_NOTIFY_PROTECTION_PAGE: /* write-protect only (fork, mkclean) */
			act = ACT_DOWNGRADE_PAGE;
			break;
		case MMN_NOTIFY_SOFT_DIRTY: /* same page, same access; write faults again */
			act = ACT_DOWNGRADE;
			break;
		case MMN_NOTIFY_PROTECTION_VMA:
			act = mmn_notifier_range_update_to_read_only(range) ? ACT_DOWNGRADE : ACT_ERASE;
			break;
		default:
			act = ACT_ERASE;
			break;
		}
	}
	invalidate_entries(m, range->start, range->end, act);
	mmn_mutex_unlock(&m->mutex);
	return true;
}

static const struct mmn_interval_notifier_ops hmm_interval_ops = {
	.invalidate = hmm_invalidate,
};

static bool overlaps(const struct mmn_hmm *m, const struct mmn_notifier_range *r)
{
	return r->start < m->end && r->end > m->start;
}

/*
 * The old hmm_mirror (4.14-5.3 mm/hmm.c, hmm_invalidate_range_start/end):
 * no sequence, a "valid" flag cleared at start and set again at end once
 * no invalidation is active. Events did not reach it: everything erases.
 */
static int hmm_flag_start(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct mmn_hmm *m = (struct mmn_hmm *)((char *)sub - offsetof(struct mmn_hmm, mn));

	if (!overlaps(m, range))
		return 0;
	count_callback(m, range);
	if (mmn_notifier_range_blockable(range)) {
		mmn_mutex_lock(&m->mutex);
	} else if (!mmn_mutex_trylock(&m->mutex)) {
		STAT_INC(m, nonblock_refused);
		return -EAGAIN;
	}
	atomic_fetch_add(&m->active, 1);
	atomic_store(&m->valid, false);
	invalidate_entries(m, range->start, range->end, ACT_ERASE);
	mmn_mutex_unlock(&m->mutex);
	return 0;
}

static void hmm_flag_end(struct mmn_notifier *sub, const struct mmn_notifier_range *range)
{
	struct mmn_hmm *m = (struct mmn_hmm *)((char *)sub - offsetof(struct mmn_hmm, mn));
	long a;

	if (!overlaps(m, range))
		return;
	a = atomic_load(&m->active);
	/* A refused start still gets its end (the core cannot tell): never
	 * go below zero. */
	while (a > 0 && !atomic_compare_exchange_weak(&m->active, &a, a - 1))
		;
	if (a == 1) {
		atomic_store(&m->valid, true);
		mmn_wake_up_all(&m->wq);
	}
}

static void hmm_flag_release(struct mmn_notifier *sub, struct mmn_mm *mm)
{
	struct mmn_hmm *m = (struct mmn_hmm *)((char *)sub - offsetof(struct mmn_hmm, mn));

	(void)mm;
	mmn_mutex_lock(&m->mutex);
	invalidate_entries(m, 0, ~0UL, ACT_ERASE);
	mmn_mutex_unlock(&m->mutex);
}

/* ------------------------------------------------------------------ */
/* hmm_range_fault()-like walk and the fault loop                      */
/* ------------------------------------------------------------------ */

struct collide {
	struct mmn_hmm *m;
	struct mmn_interval_notifier *sub; /* NULL: the VALID_FLAG mirror */
	unsigned long seq;
	unsigned long own;
};

/* Under the device mutex: the final check (mmu_interval_read_retry()). */
static bool collided_locked(struct mmn_hmm *m, const struct collide *c)
{
	if (atomic_load(&m->own_seq) != c->own || atomic_load(&m->mig_active))
		return true;
	if (!c->sub)
		return !atomic_load(&m->valid); /* the ABA hole: no sequence */
	return mmn_interval_read_retry(c->sub, c->seq);
}

static bool valid_cond(void *arg)
{
	return atomic_load(&((struct mmn_hmm *)arg)->valid);
}

static bool no_migration_cond(void *arg)
{
	return atomic_load(&((struct mmn_hmm *)arg)->mig_active) == 0;
}

static void collide_begin(struct mmn_hmm *m, struct collide *c, struct mmn_interval_notifier *sub)
{
	if (atomic_load(&m->mig_active))
		mmn_wait_event(&m->wq, no_migration_cond, m);
	c->m = m;
	c->sub = sub;
	c->seq = 0;
	if (sub)
		c->seq = mmn_interval_read_begin(sub);
	else
		mmn_wait_event(&m->wq, valid_cond, m); /* hmm_range_wait_until_valid() */
	c->own = atomic_load(&m->own_seq);
}

static bool hmm_collided_cb(void *arg)
{
	const struct collide *c = arg;

	/* The notifier's sequence is the helper's own test: only the mirror's
	 * extra reasons here (own migrations; the VALID_FLAG mirror's flag). */
	if (atomic_load(&c->m->own_seq) != c->own || atomic_load(&c->m->mig_active))
		return true;
	return !c->sub && !atomic_load(&c->m->valid);
}

/*
 * hmm_range_fault() over [start, end) through the public helper
 * (mmn_hmm_range_fault(), hmm_range.h): REQ_FAULT (| REQ_WRITE) for every
 * page when @fault is set, own device-private pages reported, not faulted
 * (dev_private_owner = the mirror, the pgmap owner). The results go to
 * @out in the mirror's own form.
 */
static int hmm_walk(struct mmn_hmm *m, struct collide *c, unsigned long start,
		    unsigned long end, bool fault, bool write, struct hmm_buf *out)
{
	struct mmn_hmm_range range = {
		.notifier = c->sub,
		.notifier_seq = c->seq,
		.start = start,
		.end = end,
		.hmm_pfns = out->pfns,
		.default_flags = fault ? MMN_HMM_PFN_REQ_FAULT | (write ? MMN_HMM_PFN_REQ_WRITE : 0) : 0,
		.pfn_flags_mask = 0,
		.dev_private_owner = m->pgmap ? m : NULL,
		.mm = m->mm,
		.gens = out->gens,
		.collided = hmm_collided_cb,
		.collided_arg = c,
		.fault_budget = m->cfg.retry_budget,
	};
	unsigned long n = (end - start) / PG;
	int r;

	mmn_mmap_assert_locked(m->mm);
	r = mmn_hmm_range_fault(&range);
	if (r)
		return r;
	for (unsigned long i = 0; i < n; i++) {
		unsigned long w = out->pfns[i];
		struct hmm_pfn *h = &out->hp[i];
		struct mmn_page_info pi;

		*h = (struct hmm_pfn){ 0 };
		if (!(w & MMN_HMM_PFN_VALID))
			continue;
		h->pfn = mmn_hmm_pfn_to_pfn(w);
		h->gen = out->gens[i];
		h->flags = H_VALID | ((w & MMN_HMM_PFN_WRITE) ? H_WRITE : 0) |
			   (h->pfn == MMN_ZERO_PFN ? H_ZERO : 0) |
			   (mmn_hmm_pfn_to_map_order(w) ? H_PMD : 0);
		if (m->pgmap && !mmn_page_info(m->sim, h->pfn, &pi) &&
		    (pi.flags & MMN_PG_DEVICE_PRIVATE))
			h->flags |= H_DEVICE;
	}
	return 0;
}

static int hmm_buf_alloc(const struct mmn_hmm *m, struct hmm_buf *b)
{
	b->hp = calloc(m->cfg.chunk_pages, sizeof(*b->hp));
	b->pfns = calloc(m->cfg.chunk_pages, sizeof(*b->pfns));
	b->gens = calloc(m->cfg.chunk_pages, sizeof(*b->gens));
	if (b->hp && b->pfns && b->gens)
		return 0;
	free(b->hp);
	free(b->pfns);
	free(b->gens);
	return -ENOMEM;
}

static void hmm_buf_free(struct hmm_buf *b)
{
	free(b->hp);
	free(b->pfns);
	free(b->gens);
}

static void hist_record(struct mmn_hmm *m, unsigned long retries)
{
	unsigned int b = 0;

	while (retries && b < MMN_HMM_HIST_BUCKETS - 1) {
		retries >>= 1;
		b++;
	}
	STAT_INC(m, retry_hist[b]);
}

/*
 * A fault loop gave up. The model bounds the loop by a retry budget; the
 * kernel's bound is HMM_RANGE_DEFAULT_TIMEOUT, so the modelled clock is
 * charged the time the kernel loop would have spent before giving up.
 */
static void hmm_charge_timeout(struct mmn_hmm *m)
{
	mmn_clock_charge(m->sim, MMN_COST_HMM_RETRY_TIMEOUT, 1);
}

/*
 * nouveau_range_fault() with an order-9 page (5.14-6.x trees read): one
 * 2 MiB entry for the aligned block of page index @i, when configured and
 * the block lies in the mirror. Device mutex held, read_retry passed: the
 * interval notifier covers the whole mirror, so no invalidation of the
 * block ran since the walk saw the PMD leaf. Returns false to program a
 * 4 KiB entry instead.
 */
static bool pmd_program(struct mmn_hmm *m, unsigned long i, const struct hmm_pfn *h,
			uint32_t tags)
{
	unsigned long b, base;
	const struct hmm_entry *e = &m->pt[i];

	if (!m->cfg.pmd_entries || !pmd_block(m, i, &b))
		return false;
	base = h->pfn - (i - b);
	/* already mapped by this very block (a later page of it in the chunk) */
	if ((e->flags & (E_VALID | E_PMD)) == (E_VALID | E_PMD) && e->pfn == h->pfn &&
	    e->gen == h->gen && (e->flags & E_WRITE) == (tags & E_WRITE))
		return true;
	for (unsigned long k = 0; k < MMN_HPAGE_NR; k++)
		entry_set(m, &m->pt[b + k], base + k, h->gen, tags | E_PMD);
	STAT_INC(m, pmd_programmed);
	STAT_INC(m, programmed);
	return true;
}

/*
 * dmirror_range_fault() for one chunk: read_begin → mmap_read_lock →
 * hmm_range_fault → mmap_read_unlock → (-EBUSY: again) → device mutex →
 * read_retry (again) → program (dmirror_do_fault()) → unlock. Bounded by
 * the retry budget instead of HMM_RANGE_DEFAULT_TIMEOUT.
 */
static int hmm_fault_chunk(struct mmn_hmm *m, unsigned long start, unsigned long end, bool fault,
			   bool write, struct hmm_buf *buf)
{
	struct hmm_pfn *hp = buf->hp;
	unsigned long retries = 0, n = (end - start) / PG, first = (start - m->start) / PG;
	bool flag = m->cfg.variant == MMN_HMM_VALID_FLAG;

	for (;;) {
		struct collide c;
		int r;

		if (retries > m->cfg.retry_budget) {
			STAT_INC(m, giveups);
			hmm_charge_timeout(m);
			return -EBUSY;
		}
		collide_begin(m, &c, flag ? NULL : &m->notifier);
		mmn_mmap_read_lock(m->mm);
		r = hmm_walk(m, &c, start, end, fault, write, buf);
		mmn_mmap_read_unlock(m->mm);
		if (r == -EBUSY) {
			retries++;
			STAT_INC(m, retries);
			continue;
		}
		if (r)
			return r;
		mmn_sched_point(m->sim, MMN_SCHED_EXPLICIT, m, point_names[0], start);
		mmn_sched_access(m->sim, m, MMN_SCHED_ACCESS_READ); /* DPOR: up to the mutex */
		mmn_mutex_lock(&m->mutex);
		if (collided_locked(m, &c)) {
			mmn_mutex_unlock(&m->mutex);
			retries++;
			STAT_INC(m, retries);
			continue;
		}
		for (unsigned long i = 0; i < n; i++) {
			uint32_t tags;

			if (!(hp[i].flags & H_VALID))
				continue;
			if (hp[i].flags & H_DEVICE)
				dev_pfn_record(m, hp[i].pfn);
			tags = ((hp[i].flags & H_WRITE) ? E_WRITE : 0) |
			       ((hp[i].flags & H_DEVICE) ? E_DEVICE : 0);
			if ((hp[i].flags & H_PMD) && pmd_program(m, first + i, &hp[i], tags))
				continue;
			entry_set(m, &m->pt[first + i], hp[i].pfn, hp[i].gen, tags);
			STAT_INC(m, programmed);
		}
		mmn_mutex_unlock(&m->mutex);
		STAT_INC(m, fault_loops);
		hist_record(m, retries);
		mmn_sched_point(m->sim, MMN_SCHED_EXPLICIT, m, point_names[1], start);
		mmn_sched_access(m->sim, m, MMN_SCHED_ACCESS_READ); /* DPOR: back to the caller */
		return 0;
	}
}

/* dmirror_fault(): [start, end) in chunks. */
static int hmm_fault(struct mmn_hmm *m, unsigned long start, unsigned long end, bool fault,
		     bool write)
{
	unsigned long chunk = (unsigned long)m->cfg.chunk_pages * PG;
	struct hmm_buf buf;
	int r = 0;

	if (hmm_buf_alloc(m, &buf))
		return -ENOMEM;
	for (unsigned long a = start; a < end && !r; a += chunk) {
		unsigned long e = end - a > chunk ? a + chunk : end;

		r = hmm_fault_chunk(m, a, e, fault, write, &buf);
	}
	hmm_buf_free(&buf);
	return r;
}

/* ------------------------------------------------------------------ */
/* Device accesses                                                     */
/* ------------------------------------------------------------------ */

/*
 * The oracle's access-time check (mmn_check_secondary_access()) of a device
 * access at @addr through mirror entry @e; told at start (the interval
 * ->invalidate, or the valid-flag variant's invalidate_range_start). A
 * 2 MiB entry (pmd_entries) is checked as its block.
 */
static void hmm_check_access(struct mmn_hmm *m, const struct hmm_entry *e, unsigned long addr,
			     bool write)
{
	struct mmn_secondary_block b = {
		.mm = m->mm, .addr = addr & MMN_PAGE_MASK, .size = PG, .pfn = e->pfn,
		.gen = e->gen, .write = e->flags & E_WRITE,
	};

	if (e->flags & E_PMD) { /* the access goes through the 2 MiB entry */
		b.addr = addr & MMN_PMD_MASK;
		b.size = MMN_PMD_SIZE;
		b.pfn = e->pfn - ((addr & MMN_PAGE_MASK) - b.addr) / PG;
	}
	(void)mmn_check_secondary_access(m->sim, m, &b, addr, write);
}

static bool range_ok(const struct mmn_hmm *m, unsigned long addr, unsigned long npages)
{
	return m && npages && !(addr & ~MMN_PAGE_MASK) && addr >= m->start && addr < m->end &&
	       npages <= (m->end - addr) / PG;
}

/* dmirror_read() / dmirror_write(): copy under the device mutex through the
 * device page table; the first missing page (or one without WRITE) ends
 * the pass, dmirror_fault() from there to the end, cmd->faults++. */
static long hmm_access(struct mmn_hmm *m, unsigned long addr, unsigned long npages, bool write,
		       uint64_t *buf)
{
	unsigned long i = 0, first, faults = 0;

	if (!range_ok(m, addr, npages) || !buf)
		return -EINVAL;
	if (mmn_mm_users(m->mm) <= 0)
		return -EINVAL; /* dmirror: mmget_not_zero() failed */
	first = (addr - m->start) / PG;
	for (;;) {
		int r;

		mmn_mutex_lock(&m->mutex);
		for (; i < npages; i++) {
			struct hmm_entry *e = &m->pt[first + i];
			uint64_t v = write ? buf[i] : 0;

			if (!(e->flags & E_VALID) || (write && !(e->flags & E_WRITE)))
				break;
			hmm_check_access(m, e, addr + i * PG, write);
			mmn_phys_access(m->sim, e->pfn, e->gen, addr + i * PG, write, &v);
			if (!write)
				buf[i] = v;
		}
		mmn_mutex_unlock(&m->mutex);
		if (i == npages)
			break;
		if (faults >= m->cfg.retry_budget) {
			STAT_INC(m, giveups);
			return -EBUSY;
		}
		/* Modelled time: the device's fault round trip (fault raised,
		 * serviced by the host, access replayed), whatever its outcome. */
		mmn_clock_charge(m->sim, MMN_COST_DEVICE_FAULT, 1);
		r = hmm_fault(m, addr + i * PG, addr + npages * PG, true, write);
		if (r)
			return r;
		faults++;
		STAT_INC(m, device_faults);
	}
	if (write)
		STAT_INC(m, writes);
	else
		STAT_INC(m, reads);
	return (long)faults;
}

long mmn_hmm_read(struct mmn_hmm *m, unsigned long addr, unsigned long npages, uint64_t *out)
{
	return hmm_access(m, addr, npages, false, out);
}

long mmn_hmm_write(struct mmn_hmm *m, unsigned long addr, unsigned long npages,
		   const uint64_t *in)
{
	return hmm_access(m, addr, npages, true, (uint64_t *)(uintptr_t)in);
}

/*
 * A device atomic: through an ATOMIC entry, else make_device_exclusive()
 * and program the entry (dmirror_exclusive() → dmirror_atomic_map();
 * nouveau's atomic fault). test_hmm holds mmap_lock for read across both,
 * so no munmap gets in between; mmn_make_device_exclusive() takes mmap_lock
 * itself, so the model validates the store the hmm way instead: read_begin
 * after the conversion, a walk that finds the device-exclusive entry of
 * that page still in place, then read_retry under the device mutex.
 * With a NULL owner (test_hmm) the mirror's own EXCLUSIVE range erased the
 * old entry first; with its own owner the event-aware mirror skipped it.
 */
static bool exclusive_in_place(struct mmn_hmm *m, unsigned long addr, unsigned long pfn)
{
	struct mmn_walk w;

	if (mmn_pgtable_walk(m->mm, addr, &w) || w.level != MMN_PT_PTE)
		return false;
	/* Only the writable kind: an mprotect() since the conversion made it a
	 * read one (pre-6.15), and a store through an ATOMIC entry programmed
	 * writable over it is caught at access time (mmn_check_secondary_access()). */
	return mmn_pte_swp_type(w.entry) == MMN_SWP_DEVICE_EXCLUSIVE && mmn_pte_pfn(w.entry) == pfn;
}

int mmn_hmm_atomic(struct mmn_hmm *m, unsigned long addr, uint64_t add, uint64_t *old)
{
	bool flag;
	void *owner;

	if (!range_ok(m, addr, 1))
		return -EINVAL;
	if (mmn_mm_users(m->mm) <= 0)
		return -EINVAL;
	flag = m->cfg.variant == MMN_HMM_VALID_FLAG;
	owner = m->cfg.exclusive_null_owner ? NULL : m;
	for (unsigned long tries = 0; tries <= m->cfg.retry_budget; tries++) {
		struct hmm_entry *e = &m->pt[(addr - m->start) / PG];
		struct collide c;
		unsigned long pfn;
		bool stale;
		int r;

		mmn_mutex_lock(&m->mutex);
		if ((e->flags & (E_VALID | E_ATOMIC)) == (E_VALID | E_ATOMIC)) {
			uint64_t v = 0;

			if (!(e->flags & E_WRITE)) {
				mmn_mutex_unlock(&m->mutex);
				return -EPERM;
			}
			hmm_check_access(m, e, addr, false);
			mmn_phys_access(m->sim, e->pfn, e->gen, addr, false, &v);
			if (old)
				*old = v;
			v += add;
			hmm_check_access(m, e, addr, true);
			mmn_phys_access(m->sim, e->pfn, e->gen, addr, true, &v);
			mmn_mutex_unlock(&m->mutex);
			STAT_INC(m, atomics);
			return 0;
		}
		mmn_mutex_unlock(&m->mutex);
		/* Modelled time: the device's atomic fault round trip (nouveau:
		 * the GPU faults, the host makes the page exclusive). */
		mmn_clock_charge(m->sim, MMN_COST_DEVICE_FAULT, 1);
		r = mmn_make_device_exclusive(m->mm, addr, owner, &pfn);
		if (r == -EACCES)
			return -EPERM;
		if (r)
			return r;
		STAT_INC(m, exclusive_made);
		collide_begin(m, &c, flag ? NULL : &m->notifier);
		stale = !exclusive_in_place(m, addr, pfn);
		mmn_mutex_lock(&m->mutex);
		if (stale || collided_locked(m, &c)) {
			mmn_mutex_unlock(&m->mutex);
			mmn_device_exclusive_release(m->sim, pfn);
			STAT_INC(m, retries);
			continue;
		}
		entry_set(m, e, pfn, mmn_page_gen(m->sim, pfn), E_WRITE | E_ATOMIC);
		STAT_INC(m, programmed);
		mmn_mutex_unlock(&m->mutex);
		mmn_device_exclusive_release(m->sim, pfn);
	}
	STAT_INC(m, giveups);
	hmm_charge_timeout(m); /* nouveau_atomic_range_fault()'s timeout */
	return -EBUSY;
}

int mmn_hmm_check_exclusive(struct mmn_hmm *m, unsigned long addr, unsigned long npages)
{
	unsigned long first;
	int r = 0;

	if (!range_ok(m, addr, npages))
		return -EINVAL;
	first = (addr - m->start) / PG;
	mmn_mutex_lock(&m->mutex);
	for (unsigned long i = 0; i < npages; i++)
		if ((m->pt[first + i].flags & (E_VALID | E_ATOMIC)) == (E_VALID | E_ATOMIC))
			r = -EPERM;
	mmn_mutex_unlock(&m->mutex);
	return r;
}

/* ------------------------------------------------------------------ */
/* Snapshot                                                            */
/* ------------------------------------------------------------------ */

struct snap_notifier {
	struct mmn_interval_notifier sub;
	struct mmn_hmm *m;
};

/* dmirror_snapshot_invalidate(): only the sequence, under the mutex. */
static bool snap_invalidate(struct mmn_interval_notifier *sub,
			    const struct mmn_notifier_range *range, unsigned long cur_seq)
{
	struct snap_notifier *s = (struct snap_notifier *)((char *)sub -
							   offsetof(struct snap_notifier, sub));

	if (mmn_notifier_range_blockable(range))
		mmn_mutex_lock(&s->m->mutex);
	else if (!mmn_mutex_trylock(&s->m->mutex))
		return false;
	mmn_interval_set_seq(sub, cur_seq);
	mmn_mutex_unlock(&s->m->mutex);
	return true;
}

static const struct mmn_interval_notifier_ops snap_ops = { .invalidate = snap_invalidate };

static int snapshot_chunk(struct mmn_hmm *m, unsigned long start, unsigned long end,
			  struct hmm_buf *buf, uint8_t *vma_err, uint8_t *out)
{
	const struct hmm_pfn *hp = buf->hp;
	struct snap_notifier s = { .m = m };
	unsigned long n = (end - start) / PG, retries = 0;
	int r;

	r = mmn_interval_notifier_insert(&s.sub, m->mm, start, end - start, &snap_ops);
	if (r)
		return r;
	for (;;) {
		struct collide c;

		if (retries > m->cfg.retry_budget) {
			STAT_INC(m, giveups);
			hmm_charge_timeout(m); /* dmirror_range_snapshot()'s timeout */
			r = -EBUSY;
			break;
		}
		collide_begin(m, &c, &s.sub);
		for (unsigned long i = 0; i < n; i++) {
			struct mmn_vma_info vi;

			vma_err[i] = mmn_find_vma(m->mm, start + i * PG, &vi) ||
				     !(vi.prot & MMN_PROT_READ);
		}
		mmn_mmap_read_lock(m->mm);
		r = hmm_walk(m, &c, start, end, false, false, buf);
		mmn_mmap_read_unlock(m->mm);
		if (r == -EBUSY) {
			retries++;
			STAT_INC(m, retries);
			continue;
		}
		if (r)
			break;
		mmn_mutex_lock(&m->mutex);
		if (collided_locked(m, &c)) {
			mmn_mutex_unlock(&m->mutex);
			retries++;
			STAT_INC(m, retries);
			continue;
		}
		for (unsigned long i = 0; i < n; i++) {
			uint8_t b = MMN_HMM_PROT_NONE;

			if (vma_err[i]) {
				b = MMN_HMM_PROT_ERROR;
			} else if (hp[i].flags & H_VALID) {
				b = MMN_HMM_PROT_READ;
				if (hp[i].flags & H_WRITE)
					b |= MMN_HMM_PROT_WRITE;
				if (hp[i].flags & H_ZERO)
					b |= MMN_HMM_PROT_ZERO;
				if (hp[i].flags & H_PMD)
					b |= MMN_HMM_PROT_PMD;
				if (hp[i].flags & H_DEVICE)
					b |= MMN_HMM_PROT_DEV_PRIVATE_LOCAL;
			}
			out[i] = b;
		}
		mmn_mutex_unlock(&m->mutex);
		r = 0;
		break;
	}
	mmn_interval_notifier_remove(&s.sub);
	return r;
}

int mmn_hmm_snapshot(struct mmn_hmm *m, unsigned long addr, unsigned long npages,
		     uint8_t *prot_out)
{
	unsigned long chunk, end;
	struct hmm_buf buf;
	uint8_t *vma_err;
	int r = 0;

	if (!m || !prot_out || !npages || (addr & ~MMN_PAGE_MASK) || addr >= MMN_TASK_SIZE ||
	    npages > (MMN_TASK_SIZE - addr) / PG)
		return -EINVAL;
	if (mmn_mm_users(m->mm) <= 0)
		return -EINVAL;
	chunk = (unsigned long)m->cfg.chunk_pages * PG;
	end = addr + npages * PG;
	if (hmm_buf_alloc(m, &buf))
		return -ENOMEM;
	vma_err = calloc(m->cfg.chunk_pages, 1);
	if (!vma_err) {
		hmm_buf_free(&buf);
		return -ENOMEM;
	}
	for (unsigned long a = addr; a < end && !r; a += chunk) {
		unsigned long e = end - a > chunk ? a + chunk : end;

		r = snapshot_chunk(m, a, e, &buf, vma_err, prot_out + (a - addr) / PG);
	}
	hmm_buf_free(&buf);
	free(vma_err);
	return r;
}

/* ------------------------------------------------------------------ */
/* Device memory: migration to device-private pages and back           */
/* ------------------------------------------------------------------ */

/* dmirror_devmem_fault(): the CPU touched one of our device pages. Our
 * entries for it go (under the mutex, so no access uses them any more),
 * then the generic migrate_vma back to a system page. Its MIGRATE range
 * names us as owner and the event-aware invalidate skips it. */
static int hmm_migrate_to_ram_cb(struct mmn_dev_pagemap *pgmap, struct mmn_mm *mm,
				 unsigned long addr, unsigned long dev_pfn)
{
	struct mmn_hmm *m = pgmap->owner;
	int r;

	STAT_INC(m, migrate_to_ram);
	mmn_mutex_lock(&m->mutex);
	own_begin(m, 0, m->npages, true, dev_pfn);
	mmn_mutex_unlock(&m->mutex);
	r = mmn_devmem_migrate_to_ram_default(pgmap, mm, addr, dev_pfn);
	own_end(m);
	return r;
}

/* Entries [first, first + n) that map a device-private page of ours. */
static unsigned long device_pages_in(struct mmn_hmm *m, unsigned long first, unsigned long n)
{
	unsigned long on = 0;

	mmn_mutex_lock(&m->mutex);
	for (unsigned long i = first; i < first + n; i++)
		if ((m->pt[i].flags & (E_VALID | E_DEVICE)) == (E_VALID | E_DEVICE))
			on++;
	mmn_mutex_unlock(&m->mutex);
	return on;
}

long mmn_hmm_migrate_to_device(struct mmn_hmm *m, unsigned long addr, unsigned long npages)
{
	unsigned long *dp, first, moved = 0;
	int r;

	if (!range_ok(m, addr, npages))
		return -EINVAL;
	if (!m->pgmap)
		return -ENODEV;
	if (mmn_mm_users(m->mm) <= 0)
		return -EINVAL;
	dp = calloc(npages, sizeof(*dp));
	if (!dp)
		return -ENOMEM;
	first = (addr - m->start) / PG;
	/* The sources are freed by migrate_vma_finalize(): no entry may keep
	 * pointing at them (dmirror overwrites them before finalize; the model
	 * runs the whole migration in one call, so they go first). */
	mmn_mutex_lock(&m->mutex);
	own_begin(m, first, first + npages, false, 0);
	mmn_mutex_unlock(&m->mutex);
	r = mmn_migrate_vma_to_device(m->mm, addr, addr + npages * PG, m->pgmap, dp);
	mmn_mutex_lock(&m->mutex);
	for (unsigned long i = 0; !r && i < npages; i++) {
		if (dp[i]) {
			dev_pfn_record(m, dp[i]);
			moved++;
		}
	}
	mmn_mutex_unlock(&m->mutex);
	own_end(m);
	if (r) {
		free(dp);
		return r;
	}
	free(dp);
	STAT_ADD(m, migrated_to_device, moved);
	/* dmirror_migrate_finalize_and_map(): map the device pages. */
	r = hmm_fault(m, addr, addr + npages * PG, false, false);
	if (r)
		return r;
	/* The kernel's cmd->cpages counts the whole range the device then
	 * holds (dmirror_migrate_to_device() ends with a device read of it),
	 * not this call's moves: a second call on a half-migrated buffer
	 * reports every page now on the device. */
	return (long)device_pages_in(m, first, npages);
}

int mmn_hmm_migrate_to_ram(struct mmn_hmm *m, unsigned long addr, unsigned long npages)
{
	unsigned long *pfns, first;
	int r;

	if (!range_ok(m, addr, npages))
		return -EINVAL;
	if (!m->pgmap)
		return -ENODEV;
	if (mmn_mm_users(m->mm) <= 0)
		return -EINVAL;
	pfns = calloc(npages, sizeof(*pfns));
	if (!pfns)
		return -ENOMEM;
	first = (addr - m->start) / PG;
	mmn_mutex_lock(&m->mutex);
	own_begin(m, first, first + npages, true, 0);
	mmn_mutex_unlock(&m->mutex);
	r = mmn_migrate_vma_to_ram(m->mm, addr, addr + npages * PG, m->pgmap, pfns);
	own_end(m);
	free(pfns);
	return r;
}

/* ------------------------------------------------------------------ */
/* The quiescent audit                                                 */
/* ------------------------------------------------------------------ */

static void report_stale(struct mmn_hmm *m, unsigned long addr, const struct hmm_entry *e,
			 const char *why)
{
	struct mmn_violation v = {
		.kind = MMN_VIOL_STALE_TRANSLATION,
		.actor_id = -1,
		.actor_name = "audit",
		.op = "mmn_check_quiescent",
		.addr = addr,
		.pfn = e->pfn,
		.gen_used = e->gen,
		.gen_now = mmn_page_gen(m->sim, e->pfn),
		.msg = why,
	};

	mmn_check_report(m->sim, &v);
}

/*
 * Entries of system pages go to the oracle. The oracle compares with a
 * present primary entry, so the mirror checks the others itself: device
 * pages against the device-private entry, ATOMIC entries against the
 * device-exclusive entry, read-only entries under a PROT_NONE (NUMA hint)
 * entry of the same frame (still mapped: coherent).
 */
static void hmm_audit_iter(void *ctx, mmn_secondary_emit_block_fn emit, void *cookie)
{
	struct mmn_hmm *m = ctx;

	mmn_mutex_lock(&m->mutex);
	for (unsigned long i = 0; i < m->npages; i++) {
		const struct hmm_entry *e = &m->pt[i];
		unsigned long addr = m->start + i * PG;
		bool write = e->flags & E_WRITE;
		struct mmn_walk w;
		enum mmn_swp_type t;

		if (!(e->flags & E_VALID))
			continue;
		if (mmn_pgtable_walk(m->mm, addr, &w))
			w = (struct mmn_walk){ 0 };
		t = mmn_pte_swp_type(w.entry);
		if (e->flags & (E_DEVICE | E_ATOMIC)) {
			bool dev = e->flags & E_DEVICE;
			bool kind_ok = dev ? (t == MMN_SWP_DEVICE_PRIVATE_READ ||
					      t == MMN_SWP_DEVICE_PRIVATE_WRITE)
					   : (t == MMN_SWP_DEVICE_EXCLUSIVE ||
					      t == MMN_SWP_DEVICE_EXCLUSIVE_READ);

			if (w.level != MMN_PT_PTE || mmn_pte_none(w.entry) || !kind_ok)
				report_stale(m, addr, e, dev ? "stale translation in hmm: no device-private entry"
							     : "stale translation in hmm: no device-exclusive entry");
			else if (mmn_pte_pfn(w.entry) != e->pfn)
				report_stale(m, addr, e, "stale translation in hmm: the primary entry maps another frame");
			else if (mmn_page_gen(m->sim, e->pfn) != e->gen)
				report_stale(m, addr, e, "stale translation in hmm: the frame was freed and re-used since");
			else if (write && !mmn_pte_device_write(w.entry))
				report_stale(m, addr, e, "stale translation in hmm: it allows stores the primary entry forbids");
			continue;
		}
		if (w.level == MMN_PT_PTE && mmn_pte_protnone(w.entry) && !write &&
		    mmn_pte_pfn(w.entry) == e->pfn && mmn_page_gen(m->sim, e->pfn) == e->gen)
			continue;
		{
			struct mmn_secondary_block b = {
				.mm = m->mm, .addr = addr, .size = PG, .pfn = e->pfn, .gen = e->gen,
				.write = write,
			};

			if (e->flags & E_PMD) { /* the block starts here (pmd_block()) */
				b.size = MMN_PMD_SIZE;
				i += MMN_HPAGE_NR - 1;
			}
			emit(cookie, &b);
		}
	}
	mmn_mutex_unlock(&m->mutex);
}

/* ------------------------------------------------------------------ */
/* Lifetime                                                            */
/* ------------------------------------------------------------------ */

#define HMM_MAX_LEN (1UL << 30)

int mmn_hmm_create(struct mmn_mm *mm, unsigned long start, unsigned long length,
		   const struct mmn_hmm_config *cfg, struct mmn_hmm **out)
{
	struct mmn_hmm_config def;
	struct mmn_hmm *m;
	int r;

	if (!cfg) {
		mmn_hmm_config_init(&def);
		cfg = &def;
	}
	if (!mm || !out || !length || (start & ~MMN_PAGE_MASK) || (length & ~MMN_PAGE_MASK) ||
	    start >= MMN_TASK_SIZE || length > MMN_TASK_SIZE - start)
		return -EINVAL;
	if ((unsigned int)cfg->variant > MMN_HMM_VALID_FLAG || !cfg->retry_budget ||
	    !cfg->chunk_pages || cfg->chunk_pages > MMN_PTRS_PER_TABLE)
		return -EINVAL;
	if (length > HMM_MAX_LEN)
		return -E2BIG;
	if (mmn_mm_users(mm) <= 0)
		return -EINVAL;
	m = calloc(1, sizeof(*m));
	if (!m)
		return -ENOMEM;
	m->sim = mmn_mm_sim(mm);
	m->mm = mm;
	m->start = start;
	m->end = start + length;
	m->npages = length / PG;
	m->cfg = *cfg;
	if (!m->cfg.name)
		m->cfg.name = "hmm";
	m->pt = calloc(m->npages, sizeof(*m->pt));
	if (!m->pt) {
		free(m);
		return -ENOMEM;
	}
	mmn_mutex_init(&m->mutex, m->sim, &hmm_mutex_class, m->cfg.name);
	mmn_waitqueue_init(&m->wq, m->sim, "hmm_valid");
	atomic_init(&m->valid, true);
	atomic_init(&m->active, 0);
	atomic_init(&m->own_seq, 0);
	atomic_init(&m->mig_active, 0);
	atomic_init(&m->nr_dev_pfns, 0);
	if (cfg->devmem_pages) {
		m->dev_pfns = calloc(cfg->devmem_pages, sizeof(*m->dev_pfns));
		m->pgmap_ops.migrate_to_ram = hmm_migrate_to_ram_cb;
		r = m->dev_pfns ? mmn_devmem_create(m->sim, cfg->devmem_pages, m, &m->pgmap_ops,
						    &m->pgmap)
				: -ENOMEM;
		if (r)
			goto fail;
	}
	if (cfg->variant == MMN_HMM_VALID_FLAG) {
		m->mn_ops.invalidate_range_start = hmm_flag_start;
		m->mn_ops.invalidate_range_end = hmm_flag_end;
		m->mn_ops.release = hmm_flag_release;
		m->mn.ops = &m->mn_ops;
		r = mmn_notifier_register(&m->mn, mm);
		if (r)
			goto fail;
		m->registered = true;
	} else {
		r = mmn_interval_notifier_insert(&m->notifier, mm, start, length, &hmm_interval_ops);
		if (r)
			goto fail;
		m->inserted = true;
	}
	r = mmn_check_register_secondary_blocks(m->sim, m->cfg.name, hmm_audit_iter, m,
						MMN_SECONDARY_TOLD_AT_START);
	if (r)
		goto fail;
	m->audited = true;
	r = mmn_check_secondary_link(m->sim, m,
				     m->registered ? (const void *)&m->mn : (const void *)&m->notifier);
	if (r)
		goto fail;
	*out = m;
	return 0;
fail:
	if (m->audited)
		mmn_check_unregister_secondary(m->sim, m);
	if (m->registered)
		mmn_notifier_unregister(&m->mn, mm);
	if (m->inserted)
		mmn_interval_notifier_remove(&m->notifier);
	if (m->pgmap)
		mmn_devmem_destroy(m->pgmap);
	mmn_waitqueue_destroy(&m->wq);
	mmn_mutex_destroy(&m->mutex);
	free(m->dev_pfns);
	free(m->pt);
	free(m);
	return r;
}

/* dmirror's RELEASE ioctl: every device page back to system memory, VMA by
 * VMA over the mirrored range. */
static void evict_devmem(struct mmn_hmm *m)
{
	int n;

	if (mmn_mm_users(m->mm) <= 0)
		return;
	mmn_mutex_lock(&m->mutex);
	own_begin(m, 0, m->npages, true, 0);
	mmn_mutex_unlock(&m->mutex);
	n = mmn_vma_count(m->mm);
	for (int i = 0; i < n; i++) {
		struct mmn_vma_info vi;
		unsigned long s, e;

		if (mmn_vma_at(m->mm, i, &vi))
			break;
		s = vi.start > m->start ? vi.start : m->start;
		e = vi.end < m->end ? vi.end : m->end;
		if (s < e) {
			unsigned long *pfns = calloc((e - s) / PG, sizeof(*pfns));

			if (pfns)
				(void)mmn_migrate_vma_to_ram(m->mm, s, e, m->pgmap, pfns);
			free(pfns);
		}
	}
	own_end(m);
}

int mmn_hmm_destroy(struct mmn_hmm *m)
{
	if (!m)
		return -EINVAL;
	/*
	 * Closed while its device lock is held (by a device access in flight
	 * or by the caller through mmn_hmm_device_lock()): the holder would
	 * unlock freed memory. Reported; the mirror stays alive.
	 */
	if (mmn_mutex_is_locked(&m->mutex)) {
		struct mmn_violation v = {
			.kind = MMN_VIOL_PROTOCOL, .actor_id = -1,
			.msg = "mmn_hmm_destroy() while the mirror's device lock is held",
		};

		mmn_check_report(m->sim, &v);
		return -EBUSY;
	}
	if (m->pgmap) {
		evict_devmem(m);
		if (mmn_devmem_nr_free(m->pgmap) != m->cfg.devmem_pages)
			return -EBUSY;
	}
	if (m->audited)
		mmn_check_unregister_secondary(m->sim, m);
	if (m->registered)
		mmn_notifier_unregister(&m->mn, m->mm);
	if (m->inserted)
		mmn_interval_notifier_remove(&m->notifier);
	if (m->pgmap)
		mmn_devmem_destroy(m->pgmap);
	mmn_waitqueue_destroy(&m->wq);
	mmn_mutex_destroy(&m->mutex);
	free(m->dev_pfns);
	free(m->pt);
	free(m);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Introspection                                                       */
/* ------------------------------------------------------------------ */

void mmn_hmm_device_lock(struct mmn_hmm *m)
{
	if (m)
		mmn_mutex_lock(&m->mutex);
}

void mmn_hmm_device_unlock(struct mmn_hmm *m)
{
	if (m)
		mmn_mutex_unlock(&m->mutex);
}

unsigned long mmn_hmm_nr_entries(struct mmn_hmm *m)
{
	return m ? __atomic_load_n(&m->nr_entries, __ATOMIC_RELAXED) : 0;
}

int mmn_hmm_entry(struct mmn_hmm *m, unsigned long addr, unsigned long *pfn, bool *write,
		  bool *atomic)
{
	struct hmm_entry e;

	if (!m || addr < m->start || addr >= m->end)
		return -EINVAL;
	mmn_mutex_lock(&m->mutex);
	e = m->pt[(addr - m->start) / PG];
	mmn_mutex_unlock(&m->mutex);
	if (!(e.flags & E_VALID))
		return -ENOENT;
	if (pfn)
		*pfn = e.pfn;
	if (write)
		*write = e.flags & E_WRITE;
	if (atomic)
		*atomic = e.flags & E_ATOMIC;
	return 0;
}

int mmn_hmm_get_stats(struct mmn_hmm *m, struct mmn_hmm_stats *out)
{
	const unsigned long *src;
	unsigned long *dst;

	if (!m || !out)
		return -EINVAL;
	src = (const unsigned long *)&m->st;
	dst = (unsigned long *)out;
	for (size_t i = 0; i < sizeof(*out) / sizeof(unsigned long); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return 0;
}
