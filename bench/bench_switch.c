// SPDX-License-Identifier: MIT
/*
 * bench_switch: which switch should the deterministic backend's actors use?
 * (issue 14, "User-level actors"; the answer is in docs/exploration.md.)
 *
 * Three actors pass a token round a ring, -n hand-offs per repeat, for each
 * mechanism:
 *
 *   pthread    one host thread per actor; a shared mutex, a condition
 *              variable per actor (the thread mechanism of lib/sync)
 *   ucontext   user-level contexts on one thread, glibc swapcontext() (it
 *              also saves and restores the signal mask: a system call)
 *   fcontext   Boost.Context's jump_fcontext() (libboost-context-dev; the
 *              row is there only when CMake found libboost_context)
 *   asm        the library's own switch (lib/sync/det_switch.c:
 *              callee-saved registers and the stack pointer)
 *
 * Reported: nanoseconds per hand-off, median of the repeats. SUMMARY keys:
 * pthread_ns, ucontext_ns, fcontext_ns (-1 without Boost), asm_ns. Under a
 * sanitizer build only the pthread row runs (the others switch stacks
 * behind the sanitizer's back). Exits non-zero only if a count is wrong.
 *
 *   bench_switch [-n handoffs] [-r repeats] [-q]     (default -n 300000 -r 7)
 */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <ucontext.h>

#include "harness.h"

#define PROG "bench_switch"
#define NA 3
#define STACK (64 * 1024)

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define SW_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define SW_SANITIZED 1
#endif
#endif

/* lib/sync/det_switch.c (internal, linked from the static library) */
void mmn__ctx_swap(void **save_sp, void *new_sp);
void *mmn__ctx_init(void *top, void (*fn)(void *), void *arg);

static unsigned long total, done, count[NA];

static bool counts_ok(unsigned long n)
{
	unsigned long sum = 0;

	for (int i = 0; i < NA; i++)
		sum += count[i];
	return sum == n && done == n;
}

/* ---- pthread: mutex + one condition variable per actor ---- */

struct pt_ring {
	pthread_mutex_t m;
	pthread_cond_t cv[NA];
	int cur;
};

static struct pt_ring ring;

static void *pt_actor(void *p)
{
	int me = (int)(intptr_t)p;

	pthread_mutex_lock(&ring.m);
	for (;;) {
		while (ring.cur != me)
			pthread_cond_wait(&ring.cv[me], &ring.m);
		if (done >= total)
			break;
		count[me]++;
		done++;
		ring.cur = (me + 1) % NA;
		pthread_cond_signal(&ring.cv[ring.cur]);
	}
	/* Pass the end on so that every actor sees it. */
	ring.cur = (me + 1) % NA;
	pthread_cond_signal(&ring.cv[ring.cur]);
	pthread_mutex_unlock(&ring.m);
	return NULL;
}

static uint64_t run_pthread(unsigned long n, bool *ok)
{
	pthread_t t[NA];
	uint64_t t0;

	total = n;
	done = 0;
	pthread_mutex_init(&ring.m, NULL);
	ring.cur = -1;
	for (int i = 0; i < NA; i++) {
		count[i] = 0;
		pthread_cond_init(&ring.cv[i], NULL);
	}
	for (int i = 0; i < NA; i++)
		pthread_create(&t[i], NULL, pt_actor, (void *)(intptr_t)i);
	t0 = bench_now_ns();
	pthread_mutex_lock(&ring.m);
	ring.cur = 0;
	pthread_cond_signal(&ring.cv[0]);
	pthread_mutex_unlock(&ring.m);
	for (int i = 0; i < NA; i++)
		pthread_join(t[i], NULL);
	t0 = bench_now_ns() - t0;
	*ok &= counts_ok(n);
	for (int i = 0; i < NA; i++)
		pthread_cond_destroy(&ring.cv[i]);
	pthread_mutex_destroy(&ring.m);
	return t0;
}

#ifndef SW_SANITIZED
static char *stacks[NA];

/* ---- ucontext ---- */

static ucontext_t uc_main, uc[NA];

static void uc_actor(int me)
{
	for (;;) {
		count[me]++;
		if (++done >= total)
			swapcontext(&uc[me], &uc_main);
		swapcontext(&uc[me], &uc[(me + 1) % NA]);
	}
}

static uint64_t run_ucontext(unsigned long n, bool *ok)
{
	uint64_t t0;

	total = n;
	done = 0;
	for (int i = 0; i < NA; i++) {
		count[i] = 0;
		getcontext(&uc[i]);
		uc[i].uc_stack.ss_sp = stacks[i];
		uc[i].uc_stack.ss_size = STACK;
		uc[i].uc_link = NULL;
		makecontext(&uc[i], (void (*)(void))uc_actor, 1, i);
	}
	t0 = bench_now_ns();
	swapcontext(&uc_main, &uc[0]);
	t0 = bench_now_ns() - t0;
	*ok &= counts_ok(n);
	return t0;
}

/* ---- asm: lib/sync/det_switch.c ---- */

static void *as_main, *as_sp[NA];

static void as_actor(void *p)
{
	int me = (int)(intptr_t)p;

	for (;;) {
		count[me]++;
		if (++done >= total)
			mmn__ctx_swap(&as_sp[me], as_main);
		mmn__ctx_swap(&as_sp[me], as_sp[(me + 1) % NA]);
	}
}

static uint64_t run_asm(unsigned long n, bool *ok)
{
	uint64_t t0;

	total = n;
	done = 0;
	for (int i = 0; i < NA; i++) {
		count[i] = 0;
		as_sp[i] = mmn__ctx_init(stacks[i] + STACK, as_actor, (void *)(intptr_t)i);
	}
	t0 = bench_now_ns();
	mmn__ctx_swap(&as_main, as_sp[0]);
	t0 = bench_now_ns() - t0;
	*ok &= counts_ok(n);
	return t0;
}

#ifdef MMN_HAVE_FCONTEXT
/* ---- fcontext: Boost.Context's C-linkage entry points ---- */

typedef void *fcontext_t;
typedef struct {
	fcontext_t fctx;
	void *data;
} transfer_t;
transfer_t jump_fcontext(fcontext_t const to, void *vp);
fcontext_t make_fcontext(void *sp, size_t size, void (*fn)(transfer_t));

static fcontext_t fc[NA], fc_main;

static void fc_actor(transfer_t t)
{
	int me = (int)(intptr_t)t.data;

	/* The first jump into actor 0 comes from main; later ones from the
	 * previous actor of the ring, whose context t.fctx now names. */
	for (;;) {
		int prev = (me + NA - 1) % NA;

		if (me == 0 && !fc_main)
			fc_main = t.fctx;
		else
			fc[prev] = t.fctx;
		count[me]++;
		if (++done >= total)
			jump_fcontext(fc_main, NULL);
		t = jump_fcontext(fc[(me + 1) % NA], (void *)(intptr_t)((me + 1) % NA));
	}
}

static uint64_t run_fcontext(unsigned long n, bool *ok)
{
	uint64_t t0;

	total = n;
	done = 0;
	fc_main = NULL;
	for (int i = 0; i < NA; i++) {
		count[i] = 0;
		fc[i] = make_fcontext(stacks[i] + STACK, STACK, fc_actor);
	}
	t0 = bench_now_ns();
	jump_fcontext(fc[0], (void *)(intptr_t)0);
	t0 = bench_now_ns() - t0;
	*ok &= counts_ok(n);
	return t0;
}
#endif
#endif /* !SW_SANITIZED */

enum { R_PTHREAD, R_UCONTEXT, R_FCONTEXT, R_ASM, R_NR };

static const char *const row_name[R_NR] = { "pthread", "ucontext", "fcontext", "asm" };

static bool row_runs(int r)
{
#ifdef SW_SANITIZED
	return r == R_PTHREAD;
#else
#ifndef MMN_HAVE_FCONTEXT
	if (r == R_FCONTEXT)
		return false;
#endif
	return true;
#endif
}

static uint64_t row_run(int r, unsigned long n, bool *ok)
{
	switch (r) {
	case R_PTHREAD:
		return run_pthread(n, ok);
#ifndef SW_SANITIZED
	case R_UCONTEXT:
		return run_ucontext(n, ok);
	case R_ASM:
		return run_asm(n, ok);
#ifdef MMN_HAVE_FCONTEXT
	case R_FCONTEXT:
		return run_fcontext(n, ok);
#endif
#endif
	default:
		return 0;
	}
}

int main(int argc, char **argv)
{
	struct bench_args a = { .iterations = 300000, .repeats = 7 };
	static double ns[R_NR][BENCH_MAX_REPEATS];
	double med[R_NR];
	bool ok = true;

	bench_getopt(argc, argv, &a, "", NULL, NULL, "", "");
#ifndef SW_SANITIZED
	for (int i = 0; i < NA; i++) {
		stacks[i] = mmap(NULL, STACK, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
				 -1, 0);
		if (stacks[i] == MAP_FAILED) {
			perror(PROG ": mmap");
			return 1;
		}
	}
#endif
	/* Interleaved per repeat, so that a noisy neighbour hits every row. */
	for (unsigned int rep = 0; rep < a.repeats; rep++)
		for (int r = 0; r < R_NR; r++)
			if (row_runs(r))
				ns[r][rep] = (double)row_run(r, a.iterations, &ok) / a.iterations;
	bench_printf(&a, "%-10s %12s %10s\n", "mechanism", "ns/hand-off", "vs asm");
	for (int r = 0; r < R_NR; r++)
		med[r] = row_runs(r) ? bench_median(ns[r], a.repeats) : -1;
	for (int r = 0; r < R_NR; r++) {
		if (med[r] < 0)
			bench_printf(&a, "%-10s %12s\n", row_name[r], "n/a");
		else if (med[R_ASM] > 0)
			bench_printf(&a, "%-10s %12.1f %9.1fx\n", row_name[r], med[r],
				     med[r] / med[R_ASM]);
		else
			bench_printf(&a, "%-10s %12.1f\n", row_name[r], med[r]);
	}
	bench_summary(PROG, "handoffs=%lu repeats=%u actors=%d pthread_ns=%.1f ucontext_ns=%.1f "
		      "fcontext_ns=%.1f asm_ns=%.1f",
		      a.iterations, a.repeats, NA, med[R_PTHREAD], med[R_UCONTEXT], med[R_FCONTEXT],
		      med[R_ASM]);
	if (!ok)
		fprintf(stderr, "%s: a token count came out wrong\n", PROG);
	return ok ? 0 : 1;
}
