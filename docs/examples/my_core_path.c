// SPDX-License-Identifier: MIT
/*
 * A core-mm path of your own (docs/listeners.md, "Building blocks for your
 * own listener and your own core-mm path"): "zap one PTE and free its page"
 * written from the public building blocks of include/mmnsim/corepath.h and
 * tlb.h, the way lib/ops writes zap_pte_range(): under mmap_lock, an
 * mmu_gather, the PTE cleared under its PTL, the mapcount dropped, the page
 * queued in the gather and freed only after the TLB flush.
 *
 * Two variants race a KVM guest reading the page through its own shadow
 * translation (the reference KVM listener, a start/end subscriber):
 *   right  invalidate_range_start before the clear, _end after the unlock;
 *   wrong  forgets them. KVM keeps its SPTE, the gather frees the page, and
 *          the vCPU's next read goes through the stale SPTE into a freed
 *          frame: a use-after-free the oracle reports.
 * Both are explored by PCT and by exhaustive search; the program exits 0
 * only if the wrong variant is found and the right one explores clean. CTest
 * builds and runs it (example.my_core_path).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>

#include <mmnsim/mmnsim.h>

#define BASE 0x10000000UL
#define PAGES 2
#define READS 2 /* vCPU reads of guest frame 0 while the zap runs */

/* ---- The operation: zap one PTE, free its page ------------------- */
static int zap_one_pte(struct mmn_mm *mm, unsigned long addr, bool notify)
{
	struct mmn_sim *sim = mmn_mm_sim(mm);
	struct mmn_notifier_range range;
	struct mmn_mmu_gather tlb;
	struct mmn_pte_slot slot;
	bool started = false;
	mmn_pte_t old = 0;
	int err;

	mmn_mmap_read_lock(mm);
	mmn_tlb_gather_mmu(&tlb, mm);
	err = mmn_corepath_range_init(&range, MMN_NOTIFY_CLEAR, mm, addr, addr + MMN_PAGE_SIZE, NULL);
	if (!err && notify)
		started = !mmn_corepath_range_start(&range); /* may sleep: before the PTL */
	if (!err)
		err = mmn_pte_offset_map_lock(mm, addr, &slot);
	if (!err) {
		(void)mmn_ptep_get_and_clear(&slot, &old);
		if (mmn_pte_present(old)) {
			(void)mmn_folio_remove_rmap_pte(sim, mmn_pte_pfn(old));
			mmn_tlb_flush_pte_range(&tlb, addr, MMN_PAGE_SIZE);
			/* The mapping's reference: dropped after the flush. */
			if (mmn_tlb_remove_page(&tlb, mmn_pte_pfn(old)) == 1)
				mmn_tlb_flush_mmu_tlbonly(&tlb);
		}
		(void)mmn_pte_unmap_unlock(&slot);
	}
	if (started)
		(void)mmn_corepath_range_end(&range);
	mmn_tlb_finish_mmu(&tlb); /* flush, then free the page */
	mmn_mmap_read_unlock(mm);
	return err;
}

/* ---- The scenario: a guest reads while the zap runs --------------- */
struct race {
	struct mmn_mm *mm;
	struct mmn_kvm *kvm;
	bool notify;
};

static void *vcpu_actor(void *arg)
{
	struct race *c = arg;
	uint64_t v;

	for (int i = 0; i < READS; i++)
		(void)mmn_kvm_vcpu_read(c->kvm, 0, 0, &v);
	return NULL;
}

static void *zap_actor(void *arg)
{
	struct race *c = arg;

	(void)zap_one_pte(c->mm, BASE, c->notify);
	return NULL;
}

static void race_actors(struct mmn_sim *sim, void *ctx)
{
	struct race *c = ctx;
	struct mmn_actor *a = NULL, *b = NULL;
	unsigned long got;
	uint64_t v;

	(void)mmn_mmap(c->mm, BASE, PAGES * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
		       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
	for (unsigned long i = 0; i < PAGES; i++)
		(void)mmn_cpu_write(c->mm, 0, BASE + i * MMN_PAGE_SIZE, 0x600d + i);
	(void)mmn_kvm_set_memslot(c->kvm, 0, 0, PAGES, BASE);
	(void)mmn_kvm_vcpu_read(c->kvm, 0, 0, &v); /* the guest maps frame 0 */
	(void)mmn_actor_spawn(sim, "vcpu", vcpu_actor, c, &a);
	(void)mmn_actor_spawn(sim, "zap", zap_actor, c, &b);
	if (a)
		(void)mmn_actor_join(a, NULL);
	if (b)
		(void)mmn_actor_join(b, NULL);
}

static int race_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out)
{
	struct race *c = ctx;

	(void)out;
	c->notify = !p->wrong;
	c->mm = mmn_mm_create(sim);
	if (!c->mm)
		return -ENOMEM;
	c->kvm = mmn_kvm_create(c->mm, NULL);
	return c->kvm ? 0 : -errno;
}

static int race_teardown(void *ctx, int err)
{
	struct race *c = ctx;

	mmn_kvm_destroy(c->kvm);
	mmn_mm_put(c->mm);
	return err;
}

static const struct mmn_scenario_def zap_race = { /* variants: "right" and "wrong" */
	.id = "my-zap", .title = "a custom zap racing a KVM guest", .ctx_size = sizeof(struct race),
	.claim = "use-after-free without invalidate_range_start/end; none with them",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE | 1u << MMN_VIOL_STALE_TRANSLATION,
	.setup = race_setup, .actors = race_actors, .teardown = race_teardown,
};

/* The first violating schedule: the guest's use-after-free is the find. */
static bool print_first(const struct mmn_explore_found *f, void *arg)
{
	*(unsigned long *)arg += f->result->by_kind[MMN_VIOL_USE_AFTER_FREE];
	printf("  found at schedule %lu: %s; use-after-free %lu\n", f->index, f->result->note,
	       f->result->by_kind[MMN_VIOL_USE_AFTER_FREE]);
	return false; /* stop at the first */
}

int main(int argc, char **argv) /* argv[1]: schedules per exploration (1000) */
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	unsigned long uaf = 0;
	int ok = !mmn_scenario_register(&zap_race);

	mmn_explore_config_init(&c);
	c.runs = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000;
	c.found = print_first, c.arg = &uaf;
	for (int i = 0; ok && i < 4; i++) { /* right: PCT, exhaustive; wrong: PCT, exhaustive */
		struct mmn_scenario_params p = { .variant_name = i < 2 ? "right" : "wrong" };

		c.strategy = i % 2 ? MMN_EXPLORE_EXHAUSTIVE : MMN_EXPLORE_PCT;
		ok = !mmn_scenario_explore("my-zap", &p, &c, &st) && !st.violating == (i < 2);
		printf("%s %-10s %4lu schedules, %lu violating\n", p.variant_name,
		       mmn_explore_strategy_name(c.strategy), st.schedules, st.violating);
	}
	return ok && uaf ? 0 : 1;
}
