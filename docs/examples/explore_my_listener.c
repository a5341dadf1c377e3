// SPDX-License-Identifier: MIT
/*
 * Exploring your own listener (docs/exploration.md, "Exploring your own
 * listener"): a GPU-style mirror written against the public API, its race
 * with munmap defined as a scenario, explored by PCT and by exhaustive
 * search, the violating schedule replayed and shrunk, the right variant
 * explored clean. CTest builds and runs it (example.explore_my_listener).
 *
 * The mirror is an interval notifier (mmu_interval_notifier, 5.5+). Its
 * invalidate drops the covered translations under the mirror's lock after
 * mmn_interval_set_seq(). Its fault path is the HMM rule of
 * docs/listeners.md: read_begin, pin the page (GUP), take the lock, install
 * only if mmn_interval_read_retry() says no invalidation started since.
 * The wrong variant skips that check: a fault that pinned the page before
 * munmap zapped it installs the translation after the invalidation has
 * dropped everything, and when it unpins, the page (already out of the
 * gather) is freed; the device's next access reads a freed frame.
 *
 * Why not "drop only at invalidate_range_end" as the wrong variant: munmap
 * frees the pages at tlb_finish_mmu(), after invalidate_range_end, unless
 * the mmu_gather batch fills first (256 pages, MMN_GATHER_BATCH); so with a
 * few pages a mirror that drops at end, and blocks faults between start and
 * end, is correct, and exploring it finds nothing (docs/listeners.md).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

/* ------------------------------------------------------------------ */
/* The listener: a GPU page-table mirror                               */
/* ------------------------------------------------------------------ */

#define GPU_SLOTS 8

struct gpu {
	struct mmn_interval_notifier in; /* first: invalidate gets &in back */
	struct mmn_spinlock lock;        /* the "driver lock": entries, set_seq */
	bool check_seq;                  /* right: read_retry before installing */
	struct mmn_secondary_entry e[GPU_SLOTS];
	int n;
};

static const struct mmn_lock_class gpu_lock_class = { .name = "gpu_lock" };

static bool gpu_invalidate(struct mmn_interval_notifier *in, const struct mmn_notifier_range *r,
			   unsigned long cur_seq)
{
	struct gpu *g = (struct gpu *)in;

	mmn_spin_lock(&g->lock);
	mmn_interval_set_seq(in, cur_seq);
	for (int i = 0; i < g->n; i++)
		if (g->e[i].addr >= r->start && g->e[i].addr < r->end)
			g->e[i--] = g->e[--g->n];
	mmn_spin_unlock(&g->lock);
	return true;
}

static const struct mmn_interval_notifier_ops gpu_ops = { .invalidate = gpu_invalidate };

/* The oracle's view of the mirror (mmn_check_quiescent()). */
static void gpu_iter(void *ctx, mmn_secondary_emit_fn emit, void *cookie)
{
	struct gpu *g = ctx;

	mmn_spin_lock(&g->lock);
	for (int i = 0; i < g->n; i++)
		emit(cookie, &g->e[i]);
	mmn_spin_unlock(&g->lock);
}

/* A device load at @addr: through the mirror, or fault it in and retry. */
static int gpu_read(struct gpu *g, unsigned long addr, uint64_t *val)
{
	struct mmn_sim *sim = mmn_mm_sim(g->in.mm);

	for (;;) {
		unsigned long seq, pfn;
		uint32_t gen;
		bool stale;
		int err;

		mmn_spin_lock(&g->lock);
		for (int i = 0; i < g->n; i++) {
			if (g->e[i].addr == addr) {
				err = mmn_phys_access(sim, g->e[i].pfn, g->e[i].gen, addr, false, val);
				mmn_spin_unlock(&g->lock);
				return err;
			}
		}
		mmn_spin_unlock(&g->lock);
		seq = mmn_interval_read_begin(&g->in);
		err = mmn_get_user_pages(g->in.mm, addr, 0, &pfn, &gen);
		if (err)
			return err; /* unmapped: the device gets a fault */
		mmn_spin_lock(&g->lock);
		stale = g->check_seq && mmn_interval_read_retry(&g->in, seq);
		if (!stale && g->n < GPU_SLOTS)
			g->e[g->n++] = (struct mmn_secondary_entry){
				.mm = g->in.mm, .addr = addr, .pfn = pfn, .gen = gen };
		mmn_spin_unlock(&g->lock);
		mmn_unpin_user_page(sim, pfn); /* the notifier protects the entry */
	}
}

/* Attach the mirror to [@start, @start + @len) of @mm (the driver's bind). */
static int gpu_attach(struct gpu *g, struct mmn_mm *mm, unsigned long start, unsigned long len,
		      bool check_seq)
{
	struct mmn_sim *sim = mmn_mm_sim(mm);
	int err;

	g->check_seq = check_seq;
	mmn_spin_lock_init(&g->lock, sim, &gpu_lock_class, "gpu");
	err = mmn_interval_notifier_insert(&g->in, mm, start, len, &gpu_ops);
	return err ? err : mmn_check_register_secondary(sim, "gpu", gpu_iter, g);
}

static void gpu_detach(struct gpu *g)
{
	if (g->in.mm) {
		mmn_check_unregister_secondary(mmn_mm_sim(g->in.mm), g);
		mmn_interval_notifier_remove(&g->in);
		mmn_spin_lock_destroy(&g->lock);
	}
}


/* ------------------------------------------------------------------ */
/* The scenario's state and actors                                     */
/* ------------------------------------------------------------------ */

#define BASE 0x10000000UL
#define PAGES 2 /* mapped and unmapped: far below a gather batch (256) */
#define READS 2 /* device reads of page 0: a fault, then a hit */

struct race {
	struct mmn_mm *mm;
	struct gpu gpu;
};

static void *gpu_actor(void *arg)
{
	struct race *c = arg;
	uint64_t v;

	for (int i = 0; i < READS; i++)
		(void)gpu_read(&c->gpu, BASE, &v);
	return NULL;
}

static void *munmap_actor(void *arg)
{
	struct race *c = arg;

	(void)mmn_munmap(c->mm, BASE, PAGES * MMN_PAGE_SIZE);
	return NULL;
}

/* Actor 0 of each schedule: map and fill the pages (alone: no choice to
 * make yet), then the device and munmap race. */
static void race_actors(struct mmn_sim *sim, void *ctx)
{
	struct race *c = ctx;
	struct mmn_actor *a = NULL, *b = NULL;
	unsigned long got;

	(void)mmn_mmap(c->mm, BASE, PAGES * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
		       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
	for (unsigned long i = 0; i < PAGES; i++) /* written: GUP pins real pages */
		(void)mmn_cpu_write(c->mm, 0, BASE + i * MMN_PAGE_SIZE, 0x600d + i);
	(void)mmn_actor_spawn(sim, "gpu", gpu_actor, c, &a);
	(void)mmn_actor_spawn(sim, "munmap", munmap_actor, c, &b);
	if (a)
		(void)mmn_actor_join(a, NULL);
	if (b)
		(void)mmn_actor_join(b, NULL);
}

/* ---- The exploration harness ------------------------------------- */
static int race_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out)
{
	struct race *c = ctx;

	(void)out;
	c->mm = mmn_mm_create(sim);
	return c->mm ? gpu_attach(&c->gpu, c->mm, BASE, PAGES * MMN_PAGE_SIZE, !p->wrong) : -ENOMEM;
}

static int race_teardown(void *ctx, int err)
{
	gpu_detach(&((struct race *)ctx)->gpu);
	mmn_mm_put(((struct race *)ctx)->mm);
	return err;
}

static const struct mmn_scenario_def gpu_mirror = { /* variants: "right" and "wrong" */
	.id = "gpu-mirror", .title = "GPU mirror fault racing munmap", .ctx_size = sizeof(struct race),
	.claim = "use-after-free without read_retry; none with it",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE | 1u << MMN_VIOL_STALE_TRANSLATION,
	.setup = race_setup, .actors = race_actors, .teardown = race_teardown,
};

static bool replay_and_shrink(const struct mmn_explore_found *f, void *arg)
{
	struct mmn_sched_config sc = *f->sched; /* replay: the choice list alone */
	struct mmn_scenario_params p = { .variant_name = "wrong", .mode = MMN_SCENARIO_EXPLORE,
					 .sched = &sc };
	static uint32_t shrunk[1 << 14];
	long n = f->nr_choices > 1 << 14 ? -1 : mmn_scenario_shrink("gpu-mirror", &p, 0, f->choices,
								     f->nr_choices, shrunk, 0);
	struct mmn_scenario_result r;

	sc.strategy = MMN_STRATEGY_REPLAY, sc.replay = f->choices, sc.replay_len = f->nr_choices;
	*(int *)arg += !mmn_scenario_run("gpu-mirror", &p, &r) && r.claim_holds;
	printf("  replayed: %s; shrunk: %zu choices -> %ld\n", r.note, f->nr_choices, n);
	return false; /* stop at the first */
}

int main(int argc, char **argv) /* argv[1]: schedules per exploration (1000) */
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	int replayed = 0, ok = !mmn_scenario_register(&gpu_mirror);

	mmn_explore_config_init(&c);
	c.runs = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	c.found = replay_and_shrink, c.arg = &replayed;
	for (int i = 0; ok && i < 4; i++) { /* right: PCT, exhaustive; wrong: PCT, exhaustive */
		struct mmn_scenario_params p = { .variant_name = i < 2 ? "right" : "wrong" };

		c.strategy = i % 2 ? MMN_EXPLORE_EXHAUSTIVE : MMN_EXPLORE_PCT;
		ok = !mmn_scenario_explore("gpu-mirror", &p, &c, &st) && !st.violating == (i < 2);
		printf("%s %-10s %4lu schedules, %lu violating\n", p.variant_name,
		       mmn_explore_strategy_name(c.strategy), st.schedules, st.violating);
	}
	return ok && replayed == 2 ? 0 : 1;
}
