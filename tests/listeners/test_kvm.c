// SPDX-License-Identifier: MIT
/*
 * The KVM-style reference listener (include/mmnsim/listeners/kvm.h):
 * shadow table and vCPU TLBs against the CPU's view, the seed-001 race of a
 * vCPU fault against invalidate_range_start (the seq-only bug found, the
 * range check safe), aging hooks, change_pte finding nothing, release, the
 * NUMA-aware variant, bad input, a deterministic exploration and a native
 * stress. Public API only, as a research listener's tests would be.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#include "support/capture.h"

#define PG MMN_PAGE_SIZE
#define RW (MMN_PROT_READ | MMN_PROT_WRITE)
#define ANON (MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS)
#define BASE 0x40000000UL
#define GFN0 0x100ULL
#define EXPLORE_SEEDS 1000
#define EXPLORE_PCT_STEPS 64

struct kt {
	struct mmn_sim *sim;
	struct mmn_mm *mm;
	struct mmn_kvm *kvm;
	struct capture cap;
	bool mm_gone;
};

static void kt_setup(struct kt *t, const char *profile, enum mmn_kvm_variant variant,
		     unsigned long pages)
{
	struct mmn_sim_config cfg;
	struct mmn_kvm_config kc;
	unsigned long got;

	memset(t, 0, sizeof(*t));
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	cfg.profile = profile;
	t->sim = mmn_sim_create(&cfg);
	assert_non_null(t->sim);
	capture_install(t->sim, &t->cap);
	t->mm = mmn_mm_create(t->sim);
	assert_non_null(t->mm);
	assert_int_equal(mmn_mmap(t->mm, BASE, pages * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	mmn_kvm_config_init(&kc);
	kc.variant = variant;
	t->kvm = mmn_kvm_create(t->mm, &kc);
	assert_non_null(t->kvm);
	assert_int_equal(mmn_kvm_set_memslot(t->kvm, 0, GFN0, pages, BASE), 0);
}

static void kt_teardown(struct kt *t)
{
	mmn_kvm_destroy(t->kvm);
	if (!t->mm_gone)
		mmn_mm_put(t->mm);
	mmn_sim_destroy(t->sim);
}

static struct mmn_kvm_stats kt_stats(struct kt *t)
{
	struct mmn_kvm_stats st;

	assert_int_equal(mmn_kvm_get_stats(t->kvm, &st), 0);
	return st;
}

static uint64_t cpu_read(struct kt *t, unsigned long addr)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_cpu_read(t->mm, 0, addr, &v), 0);
	return v;
}

static uint64_t vread(struct kt *t, int vcpu, uint64_t gfn)
{
	uint64_t v = ~0ULL;

	assert_int_equal(mmn_kvm_vcpu_read(t->kvm, vcpu, gfn, &v), 0);
	return v;
}

static unsigned long primary_pfn(struct kt *t, unsigned long addr)
{
	struct mmn_walk w;

	assert_int_equal(mmn_pgtable_walk(t->mm, addr, &w), 0);
	assert_true(mmn_pte_present(w.entry));
	return w.pfn;
}

/* ------------------------------------------------------------------ */
/* basic coherence                                                     */
/* ------------------------------------------------------------------ */

static void test_vcpu_access_through_shadow_table_matches_cpu(void **state)
{
	struct kt t;
	struct mmn_kvm_spte_info si;
	struct mmn_kvm_stats st;

	(void)state;
	kt_setup(&t, NULL, MMN_KVM_CHECK_RANGE, 4);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE, 0x1111), 0);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE + PG, 0x2222), 0);

	/* read fault: read-only SPTE to the CPU's frame */
	assert_int_equal(vread(&t, 0, GFN0), 0x1111);
	assert_int_equal(mmn_kvm_spte(t.kvm, GFN0, &si), 0);
	assert_true(si.present);
	assert_false(si.write);
	assert_true(si.accessed);
	assert_int_equal(si.pfn, primary_pfn(&t, BASE));
	/* the second read hits the vCPU TLB; vCPU 1 walks the shadow table */
	assert_int_equal(vread(&t, 0, GFN0), 0x1111);
	assert_int_equal(vread(&t, 1, GFN0), 0x1111);
	st = kt_stats(&t);
	assert_int_equal(st.faults, 1);
	assert_int_equal(st.faults_installed, 1);
	assert_int_equal(st.tlb_hits, 1);
	assert_int_equal(st.spte_hits, 2); /* the re-walk after the fault, and vCPU 1 */
	assert_int_equal(st.fault_retry_hist[0], 1);

	/* a write through the read-only SPTE is a write fault; the CPU sees it */
	assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 0, GFN0 + 1, 0xabcd), 0);
	assert_int_equal(cpu_read(&t, BASE + PG), 0xabcd);
	assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 1, GFN0, 0x5555), 0);
	assert_int_equal(cpu_read(&t, BASE), 0x5555);
	assert_int_equal(mmn_kvm_spte(t.kvm, GFN0, &si), 0);
	assert_true(si.write);
	/* and the vCPU sees the CPU's stores (same frame) */
	assert_int_equal(mmn_cpu_write(t.mm, 1, BASE + PG, 0x7777), 0);
	assert_int_equal(vread(&t, 0, GFN0 + 1), 0x7777);
	st = kt_stats(&t);
	assert_int_equal(st.faults, 3);
	assert_int_equal(st.retries, 0);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 2);

	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_audit(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
}

static void test_munmap_zaps_sptes_at_start_and_vcpu_refaults(void **state)
{
	struct kt t;
	struct mmn_kvm_stats st;
	uint64_t v;
	unsigned long got;

	(void)state;
	kt_setup(&t, NULL, MMN_KVM_CHECK_RANGE, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_cpu_write(t.mm, 0, BASE + i * PG, 10 + i), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(vread(&t, 0, GFN0 + i), 10 + i);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 4);

	assert_int_equal(mmn_munmap(t.mm, BASE + PG, 2 * PG), 0);
	st = kt_stats(&t);
	assert_int_equal(st.callbacks[MMN_KVM_CB_START], 1);
	assert_int_equal(st.callbacks[MMN_KVM_CB_END], 1);
	assert_int_equal(st.start_by_event[MMN_NOTIFY_UNMAP], 1);
	assert_int_equal(st.sptes_zapped, 2);
	assert_int_equal(st.tlb_flushes, 1);
	/* KVM_REQ_TLB_FLUSH made on both vCPUs; neither was in guest mode, so
	 * no kick, and the TLBs go when each vCPU next enters the guest */
	assert_int_equal(st.tlb_entries_dropped, 0);
	assert_true(mmn_kvm_test_request(MMN_KVM_REQ_TLB_FLUSH, mmn_kvm_vcpu_requests(t.kvm, 0)));
	assert_true(mmn_kvm_test_request(MMN_KVM_REQ_TLB_FLUSH, mmn_kvm_vcpu_requests(t.kvm, 1)));
	assert_int_equal(mmn_kvm_vcpu_kicks(mmn_kvm_vcpu_requests(t.kvm, 0)), 0);
	assert_int_equal(st.needless_invalidations, 0);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 2);
	/* the audit sees the TLBs as the vCPUs would use them: flushed */
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(kt_stats(&t).tlb_entries_dropped, 4);
	assert_false(mmn_kvm_request_pending(mmn_kvm_vcpu_requests(t.kvm, 0)));

	/* nothing behind the hva: the fault fails */
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, GFN0 + 1, &v), -EFAULT);
	/* new memory there: the vCPU faults it in and sees the new data */
	assert_int_equal(mmn_mmap(t.mm, BASE + PG, 2 * PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE + PG, 99), 0);
	assert_int_equal(vread(&t, 0, GFN0 + 1), 99);
	assert_int_equal(vread(&t, 0, GFN0), 10); /* untouched page: TLB refilled */
	st = kt_stats(&t);
	assert_int_equal(st.refaults, 1);
	assert_int_equal(st.refaults_same, 0);
	assert_int_equal(st.faults_failed, 1);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_audit(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
}

/* ------------------------------------------------------------------ */
/* The seed-001 race: a fault against an invalidation in progress       */
/* ------------------------------------------------------------------ */

/*
 *   vCPU actor                              munmap actor
 *   --------------------------------        ---------------------------------
 *   read gfn: TLB/SPTE miss → fault
 *   mmu_seq = seq; GUP(hva) pins P
 *   [fault window hook] ─── go ───────────▶ munmap: detach, start:
 *                                             kvm start: in_progress++, zap (none)
 *                      ◀─── in start ────── blocker start: waits for "vCPU done"
 *   lock mmu_lock
 *     SEQ_ONLY: seq unchanged → install P
 *     RANGE:    in progress → retry; GUP: no VMA → -EFAULT
 *   unlock, unpin ─────── vCPU done ──────▶ zap PTE, end: seq++; free P
 *   (after both) read gfn: SEQ_ONLY → through the stale TLB entry → UAF
 *
 * The blocker is registered before the VM: the subscription list is walked
 * newest first (hlist_add_head), so KVM's start runs before the blocker's.
 */
struct race {
	struct kt t;
	struct mmn_notifier blocker;
	struct mmn_completion go_munmap, in_start, vcpu_done;
	int window_passes;
	bool blocker_armed;
	int vcpu_err;
	uint64_t vcpu_val;
};

static struct race *race_of_blocker(struct mmn_notifier *mn)
{
	return (struct race *)((char *)mn - offsetof(struct race, blocker));
}

static int blocker_start(struct mmn_notifier *mn, const struct mmn_notifier_range *range)
{
	struct race *r = race_of_blocker(mn);

	if (r->blocker_armed && range->start <= BASE && range->end > BASE) {
		r->blocker_armed = false;
		mmn_complete(&r->in_start);
		mmn_wait_for_completion(&r->vcpu_done);
	}
	return 0;
}

static const struct mmn_notifier_ops blocker_ops = {
	.invalidate_range_start = blocker_start,
};

static void race_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct race *r = arg;

	(void)sim;
	if (ev->kind != MMN_SCHED_EXPLICIT || !ev->name ||
	    strcmp(ev->name, MMN_KVM_SCHED_FAULT_WINDOW) != 0)
		return;
	if (++r->window_passes == 1) {
		mmn_complete(&r->go_munmap);
		mmn_wait_for_completion(&r->in_start);
	}
}

static void *race_vcpu(void *arg)
{
	struct race *r = arg;

	r->vcpu_err = mmn_kvm_vcpu_read(r->t.kvm, 0, GFN0, &r->vcpu_val);
	mmn_complete(&r->vcpu_done);
	return NULL;
}

static void *race_munmap(void *arg)
{
	struct race *r = arg;

	mmn_wait_for_completion(&r->go_munmap);
	assert_int_equal(mmn_munmap(r->t.mm, BASE, PG), 0);
	return NULL;
}

static void race_run(struct race *r, enum mmn_kvm_variant variant)
{
	struct mmn_sim_config cfg;
	struct mmn_kvm_config kc;
	struct mmn_actor *a, *b;
	unsigned long got;

	memset(r, 0, sizeof(*r));
	mmn_sim_config_init(&cfg);
	cfg.nr_cpus = 2;
	cfg.nr_frames = 1024;
	r->t.sim = mmn_sim_create(&cfg);
	assert_non_null(r->t.sim);
	capture_install(r->t.sim, &r->t.cap);
	r->t.mm = mmn_mm_create(r->t.sim);
	assert_non_null(r->t.mm);
	assert_int_equal(mmn_mmap(r->t.mm, BASE, PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(mmn_cpu_write(r->t.mm, 0, BASE, 42), 0);
	r->blocker.ops = &blocker_ops;
	assert_int_equal(mmn_notifier_register(&r->blocker, r->t.mm), 0);
	mmn_kvm_config_init(&kc);
	kc.variant = variant;
	r->t.kvm = mmn_kvm_create(r->t.mm, &kc);
	assert_non_null(r->t.kvm);
	assert_int_equal(mmn_kvm_set_memslot(r->t.kvm, 0, GFN0, 1, BASE), 0);
	mmn_init_completion(&r->go_munmap, r->t.sim, "go_munmap");
	mmn_init_completion(&r->in_start, r->t.sim, "in_start");
	mmn_init_completion(&r->vcpu_done, r->t.sim, "vcpu_done");
	r->blocker_armed = true;
	mmn_sched_set_hook(r->t.sim, race_hook, r);
	assert_int_equal(mmn_actor_spawn(r->t.sim, "vcpu0", race_vcpu, r, &a), 0);
	assert_int_equal(mmn_actor_spawn(r->t.sim, "munmap", race_munmap, r, &b), 0);
	assert_int_equal(mmn_actor_join(a, NULL), 0);
	assert_int_equal(mmn_actor_join(b, NULL), 0);
	mmn_sched_set_hook(r->t.sim, NULL, NULL);
	assert_int_equal(r->window_passes, 1);
}

static void race_teardown(struct race *r)
{
	mmn_completion_destroy(&r->go_munmap);
	mmn_completion_destroy(&r->in_start);
	mmn_completion_destroy(&r->vcpu_done);
	assert_int_equal(mmn_notifier_unregister(&r->blocker, r->t.mm), 0);
	kt_teardown(&r->t);
}

static void test_race_seq_only_installs_page_being_freed(void **state)
{
	struct race *r = calloc(1, sizeof(*r));
	struct mmn_kvm_stats st;
	uint64_t v = 0;

	(void)state;
	race_run(r, MMN_KVM_CHECK_SEQ_ONLY);
	/* the fault saw an unchanged sequence and installed P */
	assert_int_equal(r->vcpu_err, 0);
	assert_int_equal(r->vcpu_val, 42);
	st = kt_stats(&r->t);
	assert_int_equal(st.retries, 0);
	assert_int_equal(st.faults_installed, 1);
	assert_int_equal(st.sptes_zapped, 0); /* start ran before the install */
	assert_int_equal(mmn_check_total(r->t.sim), 0);

	/* P is free now; the guest still reaches it */
	assert_int_equal(mmn_kvm_vcpu_read(r->t.kvm, 0, GFN0, &v), 0);
	assert_int_equal(mmn_check_count(r->t.sim, MMN_VIOL_USE_AFTER_FREE), 1);
	/* the SPTE and the vCPU TLB entry both outlived the page */
	assert_int_equal(mmn_check_quiescent(r->t.sim), 2);
	assert_int_equal(mmn_check_count(r->t.sim, MMN_VIOL_STALE_TRANSLATION), 2);
	assert_int_equal(mmn_check_total(r->t.sim), 3);
	race_teardown(r);
	free(r);
}

static void test_race_range_check_retries_and_stays_coherent(void **state)
{
	struct race *r = calloc(1, sizeof(*r));
	struct mmn_kvm_stats st;
	uint64_t v = 0;

	(void)state;
	race_run(r, MMN_KVM_CHECK_RANGE);
	/* in progress over the gfn: retry; the VMA is gone by then */
	assert_int_equal(r->vcpu_err, -EFAULT);
	st = kt_stats(&r->t);
	assert_int_equal(st.retries, 1);
	assert_int_equal(st.retries_in_progress, 1);
	assert_int_equal(st.faults_installed, 0);
	assert_int_equal(st.faults_failed, 1);
	assert_int_equal(st.fault_retry_hist[1], 1);
	assert_int_equal(mmn_kvm_vcpu_read(r->t.kvm, 0, GFN0, &v), -EFAULT);
	assert_int_equal(mmn_kvm_nr_sptes(r->t.kvm), 0);
	assert_int_equal(mmn_check_quiescent(r->t.sim), 0);
	assert_int_equal(mmn_audit(r->t.sim), 0);
	assert_int_equal(mmn_check_total(r->t.sim), 0);
	race_teardown(r);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Aging                                                               */
/* ------------------------------------------------------------------ */

static void test_clear_flush_young_flushes_clear_young_does_not(void **state)
{
	struct kt t;
	struct mmn_kvm_spte_info si;
	struct mmn_kvm_stats st;

	(void)state;
	kt_setup(&t, NULL, MMN_KVM_CHECK_RANGE, 2);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE, 1), 0);
	assert_int_equal(mmn_notifier_test_young(t.mm, BASE), 0); /* no SPTE yet */
	vread(&t, 0, GFN0);
	assert_int_equal(mmn_notifier_test_young(t.mm, BASE), 1);
	assert_int_equal(mmn_notifier_test_young(t.mm, BASE + PG), 0);

	/* clear_young: bit cleared, TLB kept: the next access is not seen */
	assert_int_equal(mmn_notifier_clear_young(t.mm, BASE, BASE + 2 * PG), 1);
	vread(&t, 0, GFN0);
	assert_int_equal(mmn_kvm_spte(t.kvm, GFN0, &si), 0);
	assert_false(si.accessed);
	assert_int_equal(mmn_notifier_test_young(t.mm, BASE), 0);
	st = kt_stats(&t);
	assert_int_equal(st.tlb_flushes, 0);

	/* clear_flush_young on an old SPTE: nothing young, no flush */
	assert_int_equal(mmn_notifier_clear_flush_young(t.mm, BASE, BASE + PG), 0);
	assert_int_equal(kt_stats(&t).tlb_flushes, 0);
	/* make it young (vCPU 1 walks), then clear_flush_young flushes: the
	 * next access re-walks and the bit is set again */
	vread(&t, 1, GFN0);
	assert_int_equal(mmn_notifier_clear_flush_young(t.mm, BASE, BASE + PG), 1);
	st = kt_stats(&t);
	assert_int_equal(st.tlb_flushes, 1);
	assert_int_equal(st.tlb_entries_dropped, 0); /* requested, not yet serviced */
	vread(&t, 0, GFN0);
	assert_int_equal(kt_stats(&t).tlb_entries_dropped, 1); /* vCPU 0's entry */
	assert_int_equal(mmn_notifier_test_young(t.mm, BASE), 1);
	st = kt_stats(&t);
	assert_int_equal(st.callbacks[MMN_KVM_CB_CLEAR_YOUNG], 1);
	assert_int_equal(st.callbacks[MMN_KVM_CB_CLEAR_FLUSH_YOUNG], 2);
	assert_int_equal(st.callbacks[MMN_KVM_CB_TEST_YOUNG], 5);
	assert_int_equal(st.young_hits, 4);
	assert_int_equal(st.faults, 1); /* aging never zaps */
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
}

/* ------------------------------------------------------------------ */
/* change_pte                                                          */
/* ------------------------------------------------------------------ */

/* A COW fault (wp_page_copy) under a vCPU's SPTE of the old page. */
static struct mmn_kvm_stats cow_under_spte(const char *profile)
{
	struct kt t;
	struct mmn_kvm_stats st;
	struct mmn_mm *child;

	kt_setup(&t, profile, MMN_KVM_CHECK_RANGE, 1);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE, 5), 0);
	/* fork makes the page COW-shared; the vCPU maps it read-only */
	assert_int_equal(mmn_fork(t.mm, &child), 0);
	assert_int_equal(vread(&t, 0, GFN0), 5);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 1);
	/* the CPU's store copies: start zaps, set_pte_at_notify, end */
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE, 6), 0);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 0);
	assert_int_equal(vread(&t, 0, GFN0), 6);
	st = kt_stats(&t);
	mmn_mm_put(child);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_audit(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
	return st;
}

static void test_change_pte_inside_start_end_finds_nothing(void **state)
{
	struct mmn_kvm_stats st;

	(void)state;
	/* 6.5: change_pte exists and is always inside start/end */
	st = cow_under_spte("6.5");
	assert_int_equal(st.callbacks[MMN_KVM_CB_CHANGE_PTE], 1);
	assert_int_equal(st.change_pte_found, 0);
	assert_int_equal(st.change_pte_missed, 1);
	assert_int_equal(st.change_pte_outside, 0);
	assert_int_equal(st.sptes_zapped, 1); /* start zapped it already */
	/* 4.12: the model's wp_page_copy brackets it with start/end there too */
	st = cow_under_spte("4.12");
	assert_int_equal(st.callbacks[MMN_KVM_CB_CHANGE_PTE], 1);
	assert_int_equal(st.change_pte_found, 0);
	assert_int_equal(st.change_pte_outside, 0);
	/* 6.10: the callback is gone */
	st = cow_under_spte("6.10");
	assert_int_equal(st.callbacks[MMN_KVM_CB_CHANGE_PTE], 0);
	assert_int_equal(st.sptes_zapped, 1);
}

static void test_change_pte_outside_start_end_retargets_spte(void **state)
{
	struct kt t;
	struct mmn_kvm_spte_info si;
	struct mmn_kvm_stats st;
	unsigned long other, got;

	(void)state;
	/* The pre-4.13 shape (set_pte_at_notify() with no bracket), driven by
	 * hand: the SPTE is retargeted to the new read-only page, which is the
	 * behaviour the kernel removed once nothing could reach it. */
	kt_setup(&t, "6.5", MMN_KVM_CHECK_RANGE, 1);
	assert_int_equal(mmn_mmap(t.mm, BASE + 16 * PG, PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE, 1), 0);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE + 16 * PG, 2), 0);
	other = primary_pfn(&t, BASE + 16 * PG);
	vread(&t, 0, GFN0);
	mmn_notifier_change_pte(t.mm, BASE, mmn_mk_pte(other, 0));
	st = kt_stats(&t);
	assert_int_equal(st.change_pte_found, 1);
	assert_int_equal(st.change_pte_outside, 1);
	assert_int_equal(mmn_kvm_spte(t.kvm, GFN0, &si), 0);
	assert_true(si.present);
	assert_int_equal(si.pfn, other);
	assert_false(si.write);
	/* the primary still maps the old page: the access through the SPTE
	 * is caught at access time, */
	assert_int_equal(vread(&t, 0, GFN0), 2);
	assert_int_equal(mmn_check_count(t.sim, MMN_VIOL_STALE_TRANSLATION), 1);
	/* and the audit sees the mismatch (the SPTE and the vCPU TLB entry
	 * made from it) */
	assert_int_equal(mmn_check_quiescent(t.sim), 2);
	assert_int_equal(mmn_check_total(t.sim), 3);
	kt_teardown(&t);
}

/* ------------------------------------------------------------------ */
/* release                                                             */
/* ------------------------------------------------------------------ */

static void test_release_zaps_everything_and_refuses_faults(void **state)
{
	struct kt t;
	struct mmn_kvm_stats st;
	uint64_t v;

	(void)state;
	kt_setup(&t, NULL, MMN_KVM_CHECK_RANGE, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_kvm_vcpu_write(t.kvm, i & 1, GFN0 + i, i), 0);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 4);
	/* exit_mmap: release first */
	mmn_mm_put(t.mm);
	t.mm_gone = true;
	st = kt_stats(&t);
	assert_int_equal(st.callbacks[MMN_KVM_CB_RELEASE], 1);
	assert_int_equal(st.release_zapped, 4);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 0);
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, GFN0, &v), -EFAULT);
	assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 1, GFN0 + 3, 1), -EFAULT);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 1, 0, 1, BASE), -EFAULT);
	assert_int_equal(kt_stats(&t).faults, 4);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t); /* unregister after release: no second release */
}

/* ------------------------------------------------------------------ */
/* NUMA hinting                                                        */
/* ------------------------------------------------------------------ */

static void numa_prepare(struct kt *t, enum mmn_kvm_variant variant)
{
	kt_setup(t, NULL, variant, 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(mmn_cpu_write(t->mm, 0, BASE + i * PG, 100 + i), 0);
		assert_int_equal(vread(t, 0, GFN0 + i), 100 + i);
	}
	assert_int_equal(mmn_change_prot_numa(t->mm, BASE, 4 * PG), 0);
}

static void test_numa_hinting_plain_variant_zaps_and_refaults_same(void **state)
{
	struct kt t;
	struct mmn_kvm_stats st;

	(void)state;
	numa_prepare(&t, MMN_KVM_CHECK_RANGE);
	st = kt_stats(&t);
	assert_int_equal(st.start_by_event[MMN_NOTIFY_PROTECTION_VMA], 1);
	assert_int_equal(st.sptes_zapped, 4);
	assert_int_equal(st.tlb_flushes, 1);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 0);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	/* the vCPU faults every page back (GUP takes the NUMA fault): the very
	 * SPTEs it lost */
	for (int i = 0; i < 4; i++)
		assert_int_equal(vread(&t, 0, GFN0 + i), 100 + i);
	st = kt_stats(&t);
	assert_int_equal(st.faults, 8);
	assert_int_equal(st.refaults, 4);
	assert_int_equal(st.refaults_same, 4);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_audit(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
}

static void test_numa_aware_keeps_sptes_across_hinting(void **state)
{
	struct kt t;
	struct mmn_kvm_stats st;
	struct mmn_stats ms;

	(void)state;
	numa_prepare(&t, MMN_KVM_NUMA_AWARE);
	st = kt_stats(&t);
	assert_int_equal(st.sptes_zapped, 0);
	assert_int_equal(st.sptes_kept_numa, 4);
	assert_int_equal(st.tlb_flushes, 0);
	assert_int_equal(st.needless_invalidations, 1);
	assert_int_equal(st.invalidations_tracked, 1);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 4);
	/* the guest keeps running on its SPTEs: no fault */
	for (int i = 0; i < 4; i++)
		assert_int_equal(vread(&t, 0, GFN0 + i), 100 + i);
	assert_int_equal(kt_stats(&t).faults, 4);
	/* Deliberately ahead of the primary: the PTEs are PROT_NONE hinting
	 * entries of the same frames; the audit, which wants a present
	 * primary entry, reports the 4 SPTEs and the 4 TLB entries ... */
	assert_int_equal(mmn_check_quiescent(t.sim), 8);
	assert_int_equal(mmn_check_count(t.sim, MMN_VIOL_STALE_TRANSLATION), 8);
	/* ... until the CPU's hinting faults restore the PTEs: then coherent */
	for (int i = 0; i < 4; i++)
		assert_int_equal(cpu_read(&t, BASE + i * PG), 100 + i);
	mmn_sim_get_stats(t.sim, &ms);
	assert_int_equal(ms.faults_numa, 4);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_audit(t.sim), 0);
	assert_int_equal(mmn_check_count(t.sim, MMN_VIOL_USE_AFTER_FREE), 0);
	assert_int_equal(mmn_check_total(t.sim), 8);
	kt_teardown(&t);
}

static void test_numa_aware_still_zaps_on_mprotect(void **state)
{
	struct kt t;
	struct mmn_kvm_stats st;
	uint64_t v;

	(void)state;
	kt_setup(&t, NULL, MMN_KVM_NUMA_AWARE, 4);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 0, GFN0 + i, i), 0);
	vread(&t, 0, GFN0 + 3);
	/* mprotect(READ) on pages 0-1: the writable SPTEs there go */
	assert_int_equal(mmn_mprotect(t.mm, BASE, 2 * PG, MMN_PROT_READ), 0);
	st = kt_stats(&t);
	assert_int_equal(st.sptes_zapped, 2);
	assert_int_equal(st.sptes_kept_numa, 0);
	assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 0, GFN0, 7), -EACCES);
	assert_int_equal(vread(&t, 0, GFN0), 0);
	/* mprotect(PROT_NONE) on pages 2-3 (not hinting: the VMA forbids
	 * access now): everything there goes */
	assert_int_equal(mmn_mprotect(t.mm, BASE + 2 * PG, 2 * PG, MMN_PROT_NONE), 0);
	st = kt_stats(&t);
	assert_int_equal(st.sptes_zapped, 4);
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, GFN0 + 2, &v), -EACCES);
	/* the read-only SPTE of page 0 survives a read-keeping mprotect */
	assert_int_equal(mmn_mprotect(t.mm, BASE, PG, MMN_PROT_READ | MMN_PROT_WRITE), 0);
	st = kt_stats(&t);
	assert_int_equal(st.sptes_kept_numa, 1);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_audit(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
}

/* ------------------------------------------------------------------ */
/* bad input                                                           */
/* ------------------------------------------------------------------ */

static void test_bad_input_is_refused_without_change(void **state)
{
	struct kt t;
	struct mmn_kvm_config kc;
	struct mmn_kvm_spte_info si;
	struct mmn_kvm_stats st;
	uint64_t v;

	(void)state;
	kt_setup(&t, NULL, MMN_KVM_CHECK_RANGE, 4);
	errno = 0;
	assert_null(mmn_kvm_create(NULL, NULL));
	assert_int_equal(errno, EINVAL);
	mmn_kvm_config_init(&kc);
	kc.nr_vcpus = 0;
	assert_null(mmn_kvm_create(t.mm, &kc));
	kc.nr_vcpus = MMN_KVM_MAX_VCPUS + 1;
	assert_null(mmn_kvm_create(t.mm, &kc));
	mmn_kvm_config_init(&kc);
	kc.tlb_entries = 0;
	assert_null(mmn_kvm_create(t.mm, &kc));
	mmn_kvm_config_init(&kc);
	kc.variant = (enum mmn_kvm_variant)7;
	assert_null(mmn_kvm_create(t.mm, &kc));
	assert_int_equal(errno, EINVAL);

	assert_int_equal(mmn_kvm_set_memslot(NULL, 0, 0, 1, BASE), -EINVAL);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, -1, 0, 1, BASE), -EINVAL);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, MMN_KVM_MAX_MEMSLOTS, 0, 1, BASE), -EINVAL);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 1, 0, 1, BASE + 1), -EINVAL);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 1, 0, 2, MMN_TASK_SIZE - PG), -EINVAL);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 1, GFN0 + 3, 2, BASE), -EEXIST);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 1, 0, 0, 0), -ENOENT);

	assert_int_equal(mmn_kvm_vcpu_read(NULL, 0, GFN0, &v), -EINVAL);
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, GFN0, NULL), -EINVAL);
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, -1, GFN0, &v), -EINVAL);
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 2, GFN0, &v), -EINVAL);
	assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 2, GFN0, 1), -EINVAL);
	/* gfns outside every slot */
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, GFN0 - 1, &v), -EFAULT);
	assert_int_equal(mmn_kvm_vcpu_write(t.kvm, 0, GFN0 + 4, 1), -EFAULT);
	assert_int_equal(mmn_kvm_spte(t.kvm, GFN0 + 4, &si), -EFAULT);
	assert_int_equal(mmn_kvm_spte(NULL, GFN0, &si), -EINVAL);
	assert_int_equal(mmn_kvm_get_stats(NULL, &st), -EINVAL);
	assert_int_equal(mmn_kvm_get_stats(t.kvm, NULL), -EINVAL);
	assert_int_equal(mmn_kvm_nr_sptes(NULL), 0);
	assert_string_equal(mmn_kvm_variant_name(MMN_KVM_NUMA_AWARE), "numa_aware");
	assert_string_equal(mmn_kvm_variant_name((enum mmn_kvm_variant)9), "unknown");
	mmn_kvm_destroy(NULL);
	mmn_kvm_config_init(NULL);
	/* a slot whose hva has no VMA: the fault fails */
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 1, 0x1000, 1, BASE + 64 * PG), 0);
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, 0x1000, &v), -EFAULT);
	/* nothing changed by the refusals */
	st = kt_stats(&t);
	assert_int_equal(st.faults, 1);
	assert_int_equal(st.faults_failed, 1);
	assert_int_equal(st.memslot_changes, 2);
	assert_int_equal(vread(&t, 0, GFN0), 0);
	/* delete the extra slot, and its gfn is outside again */
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 1, 0, 0, 0), 0);
	assert_int_equal(mmn_kvm_vcpu_read(t.kvm, 0, 0x1000, &v), -EFAULT);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
}

/* Moving a slot drops its SPTEs and the vCPU TLBs. */
static void test_memslot_move_zaps_old_translations(void **state)
{
	struct kt t;
	unsigned long got;

	(void)state;
	kt_setup(&t, NULL, MMN_KVM_CHECK_RANGE, 1);
	assert_int_equal(mmn_mmap(t.mm, BASE + 8 * PG, PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE, 1), 0);
	assert_int_equal(mmn_cpu_write(t.mm, 0, BASE + 8 * PG, 2), 0);
	assert_int_equal(vread(&t, 0, GFN0), 1);
	assert_int_equal(mmn_kvm_set_memslot(t.kvm, 0, GFN0, 1, BASE + 8 * PG), 0);
	assert_int_equal(mmn_kvm_nr_sptes(t.kvm), 0);
	assert_int_equal(vread(&t, 0, GFN0), 2);
	assert_int_equal(mmn_check_quiescent(t.sim), 0);
	assert_int_equal(mmn_check_total(t.sim), 0);
	kt_teardown(&t);
}

/* ------------------------------------------------------------------ */
/* Deterministic exploration of the race                               */
/* ------------------------------------------------------------------ */

struct explore {
	struct mmn_mm *mm;
	struct mmn_kvm *kvm;
	int err;
};

static void *explore_vcpu(void *arg)
{
	struct explore *x = arg;
	uint64_t v;

	x->err = mmn_kvm_vcpu_read(x->kvm, 0, GFN0, &v);
	return NULL;
}

static void *explore_unmap(void *arg)
{
	struct explore *x = arg;

	mmn_munmap(x->mm, BASE, PG);
	return NULL;
}

/* The run: only the two racing actors (set-up and checks are outside it). */
static void explore_body(struct mmn_sim *sim, void *arg)
{
	struct explore *x = arg;
	struct mmn_actor *a, *b;

	mmn_actor_spawn(sim, "vcpu0", explore_vcpu, x, &a);
	mmn_actor_spawn(sim, "munmap", explore_unmap, x, &b);
	mmn_actor_join(a, NULL);
	mmn_actor_join(b, NULL);
}

/*
 * One PCT run (depth 3: one priority change inside the fault window, one
 * inside the invalidation) per seed 1..n. Returns the runs in which the
 * guest's later access was a use-after-free.
 */
static unsigned long explore_seeds(enum mmn_kvm_variant variant, unsigned long n,
				   unsigned long *max_steps, unsigned long *defended)
{
	unsigned long bad = 0;

	*max_steps = 0;
	*defended = 0;
	for (unsigned long seed = 1; seed <= n; seed++) {
		struct mmn_sim_config cfg;
		struct mmn_sched_config sc;
		struct mmn_sched_result res;
		struct mmn_kvm_config kc;
		struct explore x = { 0 };
		struct capture cap;
		struct mmn_sim *sim;
		unsigned long got;
		uint64_t v;

		mmn_sim_config_init(&cfg);
		cfg.backend = MMN_BACKEND_DETERMINISTIC;
		cfg.nr_cpus = 1;
		cfg.nr_frames = 256;
		sim = mmn_sim_create(&cfg);
		assert_non_null(sim);
		capture_install(sim, &cap);
		x.mm = mmn_mm_create(sim);
		assert_non_null(x.mm);
		assert_int_equal(mmn_mmap(x.mm, BASE, PG, RW, ANON | MMN_MAP_FIXED, &got), 0);
		assert_int_equal(mmn_cpu_write(x.mm, 0, BASE, 42), 0);
		mmn_kvm_config_init(&kc);
		kc.variant = variant;
		kc.nr_vcpus = 1;
		x.kvm = mmn_kvm_create(x.mm, &kc);
		assert_non_null(x.kvm);
		assert_int_equal(mmn_kvm_set_memslot(x.kvm, 0, GFN0, 1, BASE), 0);

		mmn_sched_config_init(&sc);
		sc.strategy = MMN_STRATEGY_PCT;
		sc.pct_depth = 3;
		sc.pct_steps = EXPLORE_PCT_STEPS;
		sc.seed = seed;
		sc.trace = false;
		assert_int_equal(mmn_sched_run(sim, &sc, explore_body, &x, &res), 0);
		assert_int_equal(res.outcome, MMN_OUTCOME_OK);
		if (res.steps > *max_steps)
			*max_steps = res.steps;
		assert_true(x.err == 0 || x.err == -EFAULT);
		/* In the run, only the access-time check may fire: the seq-only
		 * variant's vCPU reading through an SPTE installed after start,
		 * before munmap freed the page (not yet a use-after-free). */
		assert_int_equal(mmn_check_total(sim),
				 mmn_check_count(sim, MMN_VIOL_STALE_TRANSLATION));
		{
			struct mmn_kvm_stats st;

			assert_int_equal(mmn_kvm_get_stats(x.kvm, &st), 0);
			/* the fault met the invalidation between start and end */
			if (st.retries_in_progress)
				(*defended)++;
		}
		/* the guest touches the page again after the munmap */
		mmn_kvm_vcpu_read(x.kvm, 0, GFN0, &v);
		if (mmn_check_count(sim, MMN_VIOL_USE_AFTER_FREE) ||
		    mmn_check_count(sim, MMN_VIOL_STALE_TRANSLATION))
			bad++;
		assert_int_equal(mmn_check_total(sim),
				 mmn_check_count(sim, MMN_VIOL_USE_AFTER_FREE) +
					 mmn_check_count(sim, MMN_VIOL_STALE_TRANSLATION));
		mmn_kvm_destroy(x.kvm);
		mmn_mm_put(x.mm);
		mmn_sim_destroy(sim);
	}
	return bad;
}

static void test_explore_seq_only_found_range_check_never(void **state)
{
	unsigned long bad_seq, bad_range, steps_seq, steps_range, def_seq, def_range;

	(void)state;
	bad_seq = explore_seeds(MMN_KVM_CHECK_SEQ_ONLY, EXPLORE_SEEDS, &steps_seq, &def_seq);
	bad_range = explore_seeds(MMN_KVM_CHECK_RANGE, EXPLORE_SEEDS, &steps_range, &def_range);
	print_message("PCT d=3 over %d seeds: seq-only %lu runs with a stale or freed frame used, range check %lu "
		      "(%lu runs retried on in_progress; max steps %lu / %lu)\n",
		      EXPLORE_SEEDS, bad_seq, bad_range, def_range, steps_seq, steps_range);
	assert_true(bad_seq > 0);
	assert_int_equal(def_seq, 0); /* the seq-only check never looks */
	assert_int_equal(bad_range, 0);
	assert_true(def_range > 0);   /* the range check met the same window */
}

/* ------------------------------------------------------------------ */
/* Native stress                                                       */
/* ------------------------------------------------------------------ */

#define ST_PAGES 16

struct stress {
	struct kt t;
	unsigned long iters;
	unsigned long vcpu_ok[2], cpu_ok, ops_done;
	int ops_finished; /* atomic: the accessors run until the ops actor ends */
	struct mmn_completion started; /* each accessor completes it once */
};

/*
 * Accessors make at least 100 accesses and then go on while the ops actor
 * runs (at most 5000 * iters accesses).
 */
static bool stress_go_on(struct stress *s, unsigned long i)
{
	if (i == 0)
		mmn_complete(&s->started);
	return i < 100 ||
	       (i < 5000 * s->iters && !__atomic_load_n(&s->ops_finished, __ATOMIC_ACQUIRE));
}

static unsigned long xorshift(unsigned long *s)
{
	unsigned long x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

struct stress_vcpu {
	struct stress *s;
	int vcpu;
};

static void *stress_vcpu_fn(void *arg)
{
	struct stress_vcpu *sv = arg;
	struct stress *s = sv->s;
	unsigned long rnd = 0x9e3779b97f4a7c15UL + (unsigned long)sv->vcpu;

	for (unsigned long i = 0; stress_go_on(s, i); i++) {
		uint64_t gfn = GFN0 + xorshift(&rnd) % ST_PAGES, v = 0;
		int err;

		if (xorshift(&rnd) & 1)
			err = mmn_kvm_vcpu_write(s->t.kvm, sv->vcpu, gfn, i);
		else
			err = mmn_kvm_vcpu_read(s->t.kvm, sv->vcpu, gfn, &v);
		assert_true(err == 0 || err == -EFAULT || err == -EACCES || err == -EAGAIN);
		if (!err)
			s->vcpu_ok[sv->vcpu]++;
	}
	return NULL;
}

static void *stress_cpu_fn(void *arg)
{
	struct stress *s = arg;
	unsigned long rnd = 12345;

	for (unsigned long i = 0; stress_go_on(s, i); i++) {
		unsigned long addr = BASE + (xorshift(&rnd) % ST_PAGES) * PG;
		uint64_t v;
		int err;

		if (xorshift(&rnd) & 1)
			err = mmn_cpu_write(s->t.mm, 1, addr, i);
		else
			err = mmn_cpu_read(s->t.mm, 1, addr, &v);
		assert_true(err == 0 || err == -EFAULT || err == -EACCES || err == -EAGAIN);
		if (!err)
			s->cpu_ok++;
	}
	return NULL;
}

static void *stress_ops_fn(void *arg)
{
	struct stress *s = arg;
	unsigned long rnd = 777;

	/* start when every accessor runs */
	for (int i = 0; i < 3; i++)
		mmn_wait_for_completion(&s->started);
	for (unsigned long i = 0; i < s->iters; i++) {
		unsigned long first = xorshift(&rnd) % ST_PAGES;
		unsigned long n = 1 + xorshift(&rnd) % (ST_PAGES - first);
		unsigned long addr = BASE + first * PG, len = n * PG, got;
		int err = 0;

		switch (xorshift(&rnd) % 7) {
		case 0:
			err = mmn_mprotect(s->t.mm, addr, len, MMN_PROT_READ);
			break;
		case 1:
			err = mmn_mprotect(s->t.mm, addr, len, RW);
			break;
		case 2:
			err = mmn_munmap(s->t.mm, addr, len);
			break;
		case 3:
			err = mmn_mmap(s->t.mm, addr, len, RW, ANON | MMN_MAP_FIXED, &got);
			break;
		case 4:
			err = mmn_try_to_unmap(s->t.mm, addr, len);
			break;
		case 5:
			err = mmn_change_prot_numa(s->t.mm, addr, len);
			break;
		default:
			err = mmn_mprotect(s->t.mm, addr, len, MMN_PROT_NONE);
			break;
		}
		/* -ENOMEM: part of the range is unmapped right now */
		assert_true(err == 0 || err == -ENOMEM);
		if (!err)
			s->ops_done++;
	}
	/* leave the whole range mapped and accessible */
	{
		unsigned long got;

		assert_int_equal(mmn_mmap(s->t.mm, BASE, ST_PAGES * PG, RW, ANON | MMN_MAP_FIXED,
					  &got),
				 0);
	}
	__atomic_store_n(&s->ops_finished, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_native_stress_range_check_coherent(void **state)
{
	struct stress *s = calloc(1, sizeof(*s));
	struct stress_vcpu sv[2];
	struct mmn_actor *a[4];
	struct mmn_kvm_stats st;

	(void)state;
	kt_setup(&s->t, NULL, MMN_KVM_CHECK_RANGE, ST_PAGES);
	s->iters = 600;
	mmn_init_completion(&s->started, s->t.sim, "stress_started");
	assert_int_equal(mmn_actor_spawn(s->t.sim, "ops", stress_ops_fn, s, &a[3]), 0);
	for (int i = 0; i < 2; i++) {
		sv[i].s = s;
		sv[i].vcpu = i;
		assert_int_equal(mmn_actor_spawn(s->t.sim, i ? "vcpu1" : "vcpu0", stress_vcpu_fn,
						 &sv[i], &a[i]),
				 0);
	}
	assert_int_equal(mmn_actor_spawn(s->t.sim, "cpu", stress_cpu_fn, s, &a[2]), 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(mmn_actor_join(a[i], NULL), 0);
	st = kt_stats(&s->t);
	print_message("stress: vcpu ok %lu+%lu, cpu ok %lu, ops %lu, faults %lu, retries %lu "
		      "(in progress %lu, seq %lu), zapped %lu, give-ups %lu\n",
		      s->vcpu_ok[0], s->vcpu_ok[1], s->cpu_ok, s->ops_done, st.faults, st.retries,
		      st.retries_in_progress, st.retries_seq, st.sptes_zapped, st.give_ups);
	assert_int_equal(st.callbacks[MMN_KVM_CB_START], st.callbacks[MMN_KVM_CB_END]);
	assert_int_equal(mmn_check_total(s->t.sim), 0);
	assert_int_equal(mmn_check_quiescent(s->t.sim), 0);
	assert_int_equal(mmn_audit(s->t.sim), 0);
	/* the guest sees what the CPU wrote last */
	assert_int_equal(mmn_cpu_write(s->t.mm, 0, BASE, 0xfeed), 0);
	assert_int_equal(vread(&s->t, 0, GFN0), 0xfeed);
	assert_int_equal(mmn_check_total(s->t.sim), 0);
	mmn_completion_destroy(&s->started);
	kt_teardown(&s->t);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vcpu_access_through_shadow_table_matches_cpu),
		cmocka_unit_test(test_munmap_zaps_sptes_at_start_and_vcpu_refaults),
		cmocka_unit_test(test_race_seq_only_installs_page_being_freed),
		cmocka_unit_test(test_race_range_check_retries_and_stays_coherent),
		cmocka_unit_test(test_clear_flush_young_flushes_clear_young_does_not),
		cmocka_unit_test(test_change_pte_inside_start_end_finds_nothing),
		cmocka_unit_test(test_change_pte_outside_start_end_retargets_spte),
		cmocka_unit_test(test_release_zaps_everything_and_refuses_faults),
		cmocka_unit_test(test_numa_hinting_plain_variant_zaps_and_refaults_same),
		cmocka_unit_test(test_numa_aware_keeps_sptes_across_hinting),
		cmocka_unit_test(test_numa_aware_still_zaps_on_mprotect),
		cmocka_unit_test(test_bad_input_is_refused_without_change),
		cmocka_unit_test(test_memslot_move_zaps_old_translations),
		cmocka_unit_test(test_explore_seq_only_found_range_check_never),
		cmocka_unit_test(test_native_stress_range_check_coherent),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
