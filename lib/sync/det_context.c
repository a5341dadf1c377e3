// SPDX-License-Identifier: MIT
/*
 * User-level actors of the deterministic backend (the default mechanism;
 * mmn_sched_config::threads selects the host-thread one of det_core.c).
 *
 * Every actor of a run is a context on the controller's host thread: its
 * own mmap'd stack, a guard page below it, and the registers the switch
 * (det_switch.c) saves. Handing the token over is a function call:
 *
 *   giver (holds d->m)                     taker (suspended in a switch)
 *   cur = taker
 *   unlock(m); save TLS; swap ----------->  (resumed) lock(m)
 *                                           while (cur != me) ...: returns
 *
 * The mutex stays (other host threads may ask whether a run is going on),
 * but is never held across the swap: each context takes it for itself.
 *
 * What the host thread's TLS holds for the running actor follows the actor:
 * the sync layer's actor cache (mmn__tls) and the actor-local block of
 * lib/check (mmn__local_cur: raw-lock depth, the notifier's start/end
 * pairing, the secondary flushes owed). A switch saves both into the context
 * it leaves and loads the ones of the context it resumes. The native
 * backend, and the thread mechanism, never switch: their actors use their
 * thread's own block. The liburcu registration of srcu.c stays per host
 * thread: only the native backend uses liburcu.
 *
 * Sanitizers: AddressSanitizer is told of each stack change
 * (__sanitizer_start_switch_fiber() before, _finish_ after) and a context's
 * stack is unpoisoned before reuse; ThreadSanitizer gets a fiber per stack
 * (kept with it from run to run: creating one costs about a run's worth of
 * system calls) and a __tsan_switch_to_fiber() before each swap, which
 * orders everything the giver did before everything the taker does, as the
 * thread mechanism's mutex does. As the fiber outlives its actor, the last
 * switch leaves no frame on the fiber's shadow call stack (det_ctx_main()).
 *
 * Unwinding stays a longjmp inside the actor's own context (det_core.c):
 * it leaves the stack it is on only through its final switch.
 */
#include <errno.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <mmnsim/sched.h>

#include "det.h"

#if defined(__SANITIZE_ADDRESS__)
#define DET_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define DET_ASAN 1
#endif
#endif
#if defined(__SANITIZE_THREAD__)
#define DET_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define DET_TSAN 1
#endif
#endif

#ifdef DET_ASAN
#include <sanitizer/asan_interface.h>
#include <sanitizer/common_interface_defs.h>
#endif
#ifdef DET_TSAN
#include <sanitizer/tsan_interface.h>
/* Neither memory accesses nor function entries and exits instrumented
 * (GCC's no_sanitize_thread drops both; clang's needs the stronger form). */
#if defined(__clang__)
#define DET_NO_TSAN __attribute__((disable_sanitizer_instrumentation))
#else
#define DET_NO_TSAN __attribute__((no_sanitize_thread))
#endif
#else
#define DET_NO_TSAN
#endif

/* det_switch.c */
void mmn__ctx_swap(void **save_sp, void *new_sp);
void *mmn__ctx_init(void *top, void (*fn)(void *), void *arg);

static size_t det_page(void)
{
	long p = sysconf(_SC_PAGESIZE);

	return p > 0 ? (size_t)p : 4096;
}

/* A stack of @size usable bytes (a multiple of the page size) above a guard
 * page, with its fiber: from the pool, the simulation's cache, or new. */
static bool det_stack_get(struct sync_det *d, size_t size, struct sync_stack *st)
{
	size_t len = size + det_page();
	void *map;

	if (d->cfg.pool ? mmn__pool_stack_get(d->cfg.pool, size, st) :
			  d->nstacks && d->stacks_size == size) {
		if (!d->cfg.pool)
			*st = d->stacks[--d->nstacks];
		return true;
	}
	map = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK,
		   -1, 0);
	if (map == MAP_FAILED)
		return false;
	if (mprotect(map, det_page(), PROT_NONE)) {
		munmap(map, len);
		return false;
	}
	st->map = map;
	st->fiber = NULL;
#ifdef DET_TSAN
	st->fiber = __tsan_create_fiber(0);
#endif
	return true;
}

void mmn__stack_free(const struct sync_stack *st, size_t size)
{
#ifdef DET_TSAN
	__tsan_destroy_fiber(st->fiber);
#endif
	munmap(st->map, size + det_page());
}

static void det_stack_put(struct sync_det *d, const struct sync_stack *st, size_t size)
{
	if (d->cfg.pool) {
		if (mmn__pool_stack_put(d->cfg.pool, st, size))
			return;
	} else {
		if (d->nstacks && d->stacks_size != size)
			mmn__det_ctx_fini(d);
		if (d->nstacks < DET_STACK_CACHE) {
			d->stacks_size = size;
			d->stacks[d->nstacks++] = *st;
			return;
		}
	}
	mmn__stack_free(st, size);
}

void mmn__det_ctx_fini(struct sync_det *d)
{
	while (d->nstacks)
		mmn__stack_free(&d->stacks[--d->nstacks], d->stacks_size);
}

__attribute__((noreturn)) static void det_ctx_main(void *p);

int mmn__det_ctx_create(struct sync_det *d, struct mmn_actor *a)
{
	struct sync_ctx *c = &a->det.ctx;
	size_t size = d->stack_size;
	struct sync_stack st;
	char *top;

	if (!det_stack_get(d, size, &st))
		return -ENOMEM;
	memset(c, 0, sizeof(*c));
	c->map = st.map;
	c->map_size = size;
	c->tsan_fiber = st.fiber;
	c->asan_bottom = (char *)st.map + det_page();
	c->asan_size = size;
#ifdef DET_ASAN
	/* A reused stack may keep the poisoned frames of its last actor. */
	ASAN_UNPOISON_MEMORY_REGION(c->asan_bottom, size);
#endif
	top = (char *)st.map + det_page() + size;
	c->sp = mmn__ctx_init(top, det_ctx_main, a);
	c->tls.sim = a->sim;
	c->tls.serial = a->sim->sync->serial;
	c->tls.actor = a;
	memset(&a->local, 0, sizeof(a->local));
	a->local.owner = a;
	c->local = &a->local;
	return 0;
}

void mmn__det_ctx_destroy(struct sync_det *d, struct mmn_actor *a)
{
	struct sync_ctx *c = &a->det.ctx;
	struct sync_stack st = { .map = c->map, .fiber = c->tsan_fiber };

	if (!c->map)
		return;
	det_stack_put(d, &st, c->map_size);
	c->map = NULL;
}

void mmn__det_ctx_begin(struct sync_det *d)
{
	memset(&d->ctl_ctx, 0, sizeof(d->ctl_ctx));
#ifdef DET_TSAN
	d->ctl_ctx.tsan_fiber = __tsan_get_current_fiber();
#endif
}

/* After a swap, in the context resumed: tell AddressSanitizer, and learn
 * the bounds of the stack left (the controller's is known only so). */
static inline void det_arrive(struct sync_det *d, struct sync_ctx *me)
{
#ifdef DET_ASAN
	struct sync_ctx *from = d->sw_from;

	__sanitizer_finish_switch_fiber(me ? me->asan_fake : NULL, &from->asan_bottom,
					&from->asan_size);
#else
	(void)d;
	(void)me;
#endif
}

/* Leave @from for @to: the host thread's TLS for the actor changes hands,
 * the sanitizers hear of it, and the registers are swapped. Always inlined,
 * so that it adds no instrumented frame to det_ctx_main()'s last switch. */
static inline __attribute__((always_inline)) void det_swap(struct sync_det *d,
							  struct sync_ctx *from,
							  struct sync_ctx *to, bool last)
{
	from->tls = mmn__tls;
	from->local = mmn__local_cur;
	mmn__tls = to->tls;
	mmn__local_cur = to->local;
	d->sw_from = from;
#ifdef DET_ASAN
	__sanitizer_start_switch_fiber(last ? NULL : &from->asan_fake, to->asan_bottom,
				       to->asan_size);
#else
	(void)last;
#endif
#ifdef DET_TSAN
	__tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
	mmn__ctx_swap(&from->sp, to->sp);
}

static inline __attribute__((always_inline)) struct sync_ctx *det_target(struct sync_det *d)
{
	return d->cur ? &d->cur->det.ctx : &d->ctl_ctx;
}

void mmn__det_switch(struct sync_det *d, struct sync_ctx *from)
{
	struct sync_ctx *to = det_target(d);

	if (to == from)
		return;
	pthread_mutex_unlock(&d->m);
	det_swap(d, from, to, false);
	det_arrive(d, from);
	pthread_mutex_lock(&d->m);
}

/*
 * The entry of every context, and the frame its last switch leaves from.
 * ThreadSanitizer keeps a shadow call stack per fiber, and the fiber stays
 * with the stack from run to run: a frame entered and never left would stay
 * on it, two per actor, so that every stack TSan records later (a mutex's,
 * an allocation's) grows with every schedule, and its stack depot grew
 * quadratically (2.0 GB after 3,000 schedules of S2). So this function is
 * not instrumented, everything it calls returns before the switch, and the
 * switch is inlined here: the fiber's shadow stack is empty at the end.
 */
DET_NO_TSAN __attribute__((noreturn)) static void det_ctx_main(void *p)
{
	struct mmn_actor *a = p;
	struct sync_det *d = det_of(a->sim);
	struct sync_ctx *to;

	det_arrive(d, NULL);
	mmn__det_ctx_body(a);
	pthread_mutex_lock(&d->m);
	to = det_target(d);
	pthread_mutex_unlock(&d->m);
	det_swap(d, &a->det.ctx, to, true);
	__builtin_unreachable();
}
