// SPDX-License-Identifier: MIT
/*
 * bench_sched: how fast can the deterministic backend hand the one running
 * slot from one actor to another? The answer chose its mechanism
 * (docs/exploration.md).
 *
 * Two actors ping-pong a token -n times per repeat, for each mechanism:
 *
 *   condvar    one host thread per actor; a shared mutex, one condition
 *              variable per actor; the giver sets "current", signals the
 *              taker's variable and waits on its own (what lib/sync/det_core.c
 *              does)
 *   futex      one host thread per actor; one futex word per actor (a
 *              lower bound for any pthread design: nothing but the two
 *              system calls a hand-off needs)
 *   ucontext   one host thread; each actor a user-level context, switched
 *              with swapcontext() (which also saves and restores the signal
 *              mask: one system call per switch)
 *   mmnsim     the real thing: two actors under MMN_BACKEND_DETERMINISTIC
 *              passing mmn_sched_point() with a replay strategy that
 *              alternates them (so every point is a switch), including the
 *              scheduler's bookkeeping and the choice list
 *
 * Reported: switches per second (one switch = one hand-off), median of the
 * repeats. SUMMARY keys: condvar_sw_s, futex_sw_s, ucontext_sw_s, mmnsim_sw_s.
 * Exits non-zero only if a token count comes out wrong.
 */
#include <errno.h>
#include <linux/futex.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <mmnsim/mmnsim.h>

#include "harness.h"

#define PROG "bench_sched"

/* ---- condvar: what lib/sync/det_core.c does ---- */

struct cv_pp {
	pthread_mutex_t m;
	pthread_cond_t cv[2];
	int cur;
	unsigned long n, count[2];
};

struct cv_arg {
	struct cv_pp *pp;
	int me;
};

static void *cv_actor(void *p)
{
	struct cv_arg *a = p;
	struct cv_pp *pp = a->pp;
	int me = a->me;

	pthread_mutex_lock(&pp->m);
	for (unsigned long i = 0; i < pp->n; i++) {
		while (pp->cur != me)
			pthread_cond_wait(&pp->cv[me], &pp->m);
		pp->count[me]++;
		pp->cur = !me;
		pthread_cond_signal(&pp->cv[!me]);
	}
	pthread_mutex_unlock(&pp->m);
	return NULL;
}

static uint64_t run_condvar(unsigned long n, bool *ok)
{
	struct cv_pp pp = { .n = n };
	struct cv_arg args[2] = { { &pp, 0 }, { &pp, 1 } };
	pthread_t t[2];
	uint64_t t0;

	pthread_mutex_init(&pp.m, NULL);
	pthread_cond_init(&pp.cv[0], NULL);
	pthread_cond_init(&pp.cv[1], NULL);
	pp.cur = -1;
	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, cv_actor, &args[i]);
	t0 = bench_now_ns();
	pthread_mutex_lock(&pp.m);
	pp.cur = 0;
	pthread_cond_signal(&pp.cv[0]);
	pthread_mutex_unlock(&pp.m);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	t0 = bench_now_ns() - t0;
	*ok &= pp.count[0] == n && pp.count[1] == n;
	pthread_cond_destroy(&pp.cv[0]);
	pthread_cond_destroy(&pp.cv[1]);
	pthread_mutex_destroy(&pp.m);
	return t0;
}

/* ---- futex: the floor for a thread-per-actor hand-off ---- */

struct fx_pp {
	int word[2];
	unsigned long n, count[2];
};

struct fx_arg {
	struct fx_pp *pp;
	int me;
};

static void fx_wait(int *w)
{
	while (__atomic_load_n(w, __ATOMIC_ACQUIRE) == 0)
		syscall(SYS_futex, w, FUTEX_WAIT_PRIVATE, 0, NULL, NULL, 0);
	__atomic_store_n(w, 0, __ATOMIC_RELAXED);
}

static void fx_wake(int *w)
{
	__atomic_store_n(w, 1, __ATOMIC_RELEASE);
	syscall(SYS_futex, w, FUTEX_WAKE_PRIVATE, 1, NULL, NULL, 0);
}

static void *fx_actor(void *p)
{
	struct fx_arg *a = p;
	struct fx_pp *pp = a->pp;
	int me = a->me;

	for (unsigned long i = 0; i < pp->n; i++) {
		fx_wait(&pp->word[me]);
		pp->count[me]++;
		fx_wake(&pp->word[!me]);
	}
	return NULL;
}

static uint64_t run_futex(unsigned long n, bool *ok)
{
	struct fx_pp pp = { .n = n };
	struct fx_arg args[2] = { { &pp, 0 }, { &pp, 1 } };
	pthread_t t[2];
	uint64_t t0;

	for (int i = 0; i < 2; i++)
		pthread_create(&t[i], NULL, fx_actor, &args[i]);
	t0 = bench_now_ns();
	fx_wake(&pp.word[0]);
	for (int i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	t0 = bench_now_ns() - t0;
	*ok &= pp.count[0] == n && pp.count[1] == n;
	return t0;
}

/* ---- ucontext: user-level contexts on one thread ---- */

#define UC_STACK (64 * 1024)

static ucontext_t uc_main, uc_ctx[2];
static unsigned long uc_n, uc_count[2];

static void uc_actor(int me)
{
	for (unsigned long i = 0; i < uc_n; i++) {
		uc_count[me]++;
		swapcontext(&uc_ctx[me], &uc_ctx[!me]);
	}
	/* The last one to finish returns to main through uc_link. */
}

static uint64_t run_ucontext(unsigned long n, bool *ok)
{
	void *stk[2];
	uint64_t t0;

	uc_n = n;
	uc_count[0] = uc_count[1] = 0;
	for (int i = 0; i < 2; i++) {
		stk[i] = malloc(UC_STACK);
		getcontext(&uc_ctx[i]);
		uc_ctx[i].uc_stack.ss_sp = stk[i];
		uc_ctx[i].uc_stack.ss_size = UC_STACK;
		uc_ctx[i].uc_link = &uc_main;
		makecontext(&uc_ctx[i], (void (*)(void))uc_actor, 1, i);
	}
	t0 = bench_now_ns();
	/* Actor 0 runs n rounds, switching to 1 each time; 1 switches back.
	 * Actor 0 ends first (after its n-th switch returns): main resumes;
	 * actor 1 is left suspended after its n-th switch, as intended. */
	swapcontext(&uc_main, &uc_ctx[0]);
	t0 = bench_now_ns() - t0;
	*ok &= uc_count[0] == n && uc_count[1] == n;
	free(stk[0]);
	free(stk[1]);
	return t0;
}

/* ---- mmnsim: the deterministic backend itself ---- */

struct mm_arg {
	struct mmn_sim *sim;
	unsigned long n;
	unsigned long count;
};

static void *mm_pinger(void *p)
{
	struct mm_arg *a = p;

	for (unsigned long i = 0; i < a->n; i++) {
		__atomic_add_fetch(&a->count, 1, __ATOMIC_RELAXED);
		mmn_sched_point(a->sim, MMN_SCHED_EXPLICIT, NULL, NULL, 0);
	}
	return NULL;
}

static void mm_body(struct mmn_sim *sim, void *p)
{
	struct mm_arg *a = p;
	struct mmn_actor *t[2];

	mmn_actor_spawn(sim, "ping", mm_pinger, a, &t[0]);
	mmn_actor_spawn(sim, "pong", mm_pinger, a, &t[1]);
}

static uint64_t run_mmnsim(unsigned long n, bool *ok)
{
	struct mmn_sim_config cfg;
	struct mmn_sched_config sc;
	struct mmn_sched_result res;
	struct mmn_sim *sim;
	struct mm_arg a = { .n = n };
	uint32_t *alt = malloc(sizeof(*alt) * (2 * n + 2));
	uint64_t t0;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_frames = 64;
	cfg.lockdep = false;
	sim = mmn_sim_create(&cfg);
	if (!sim || !alt) {
		*ok = false;
		free(alt);
		return 1;
	}
	a.sim = sim;
	/* Actor indices: 0 main, 1 ping, 2 pong; alternate ping and pong. */
	for (unsigned long i = 0; i < 2 * n + 2; i++)
		alt[i] = 1 + (uint32_t)(i & 1);
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = alt;
	sc.replay_len = 2 * n + 2;
	sc.max_steps = 4 * n + 16;
	sc.trace = false;
	t0 = bench_now_ns();
	mmn_sched_run(sim, &sc, mm_body, &a, &res);
	t0 = bench_now_ns() - t0;
	*ok &= res.outcome == MMN_OUTCOME_OK && a.count == 2 * n;
	mmn_sim_destroy(sim);
	free(alt);
	return t0;
}

int main(int argc, char **argv)
{
	struct bench_args args = { .iterations = 100000, .repeats = 5 };
	double r[4][BENCH_MAX_REPEATS];
	const char *names[4] = { "condvar", "futex", "ucontext", "mmnsim" };
	double med[4];
	bool ok = true;

	bench_getopt(argc, argv, &args, "", NULL, NULL, "", "");
	for (unsigned int rep = 0; rep < args.repeats; rep++) {
		unsigned long n = args.iterations;
		/* 2n switches in each of the first three; the mmnsim run passes
		 * 2n points, every one a switch, plus spawn/exit bookkeeping. */
		r[0][rep] = 2.0 * n / ((double)run_condvar(n, &ok) / 1e9);
		r[1][rep] = 2.0 * n / ((double)run_futex(n, &ok) / 1e9);
		r[2][rep] = 2.0 * n / ((double)run_ucontext(n, &ok) / 1e9);
		r[3][rep] = 2.0 * n / ((double)run_mmnsim(n, &ok) / 1e9);
	}
	bench_printf(&args, "%-10s %16s %12s\n", "mechanism", "switches/s", "ns/switch");
	for (int m = 0; m < 4; m++) {
		med[m] = bench_median(r[m], args.repeats);
		bench_printf(&args, "%-10s %16.0f %12.1f\n", names[m], med[m], 1e9 / med[m]);
	}
	bench_summary(PROG, "n=%lu repeats=%u condvar_sw_s=%.0f futex_sw_s=%.0f ucontext_sw_s=%.0f "
		      "mmnsim_sw_s=%.0f ok=%d",
		      args.iterations, args.repeats, med[0], med[1], med[2], med[3], ok);
	return ok ? 0 : 1;
}
