// SPDX-License-Identifier: MIT
/*
 * SRCU (struct srcu_struct), native backend: models srcu_read_lock()/
 * srcu_read_unlock(), synchronize_srcu(), call_srcu() and srcu_barrier()
 * (all versions; the MMU-notifier core has used SRCU since 3.0's switch
 * away from plain RCU) on liburcu's memb flavour.
 *
 * liburcu has one grace-period domain per process, so every mmn_srcu shares
 * it: a grace period waits for the readers of every domain. That is a safe
 * over-approximation of SRCU's per-domain grace periods for the notifier
 * code, with one consequence: a thread inside a read section of any domain
 * cannot wait for a grace period at all. Such a wait is reported and
 * skipped rather than left to hang.
 *
 * liburcu needs every reader thread registered. The sync layer registers a
 * thread on its first read section or call_srcu() (the check is one load of
 * liburcu's own per-thread flag, next to the counter the read lock touches
 * anyway) and unregisters it from a pthread key destructor when the thread
 * exits; actors and threads of the research code alike need no
 * registration call. A thread the research code registered itself stays
 * its business: we neither register it twice nor unregister it.
 *
 * ThreadSanitizer: liburcu 0.13 is not TSan-aware (0.15.0 is). The
 * read-side wrappers are left uninstrumented, and explicit release/acquire
 * annotations tell TSan what liburcu's barriers guarantee:
 *   - every read_unlock releases srcu_tsan_gp, and synchronize_srcu() and
 *     each callback acquire it: whatever a reader did in its section
 *     happens before what the updater does after the grace period;
 *   - call_srcu() releases the head, the callback acquires it: the
 *     updater's stores before call_srcu() happen before the callback;
 *   - each callback releases srcu_tsan_cb, srcu_barrier() acquires it.
 * The annotations live here so that nothing above the sync layer knows.
 */
#include <assert.h>
#include <urcu/urcu-memb.h>

#include "priv.h"
#include "srcu_fast.h"

#ifndef MMN__SRCU_FAST_TSAN
/*
 * liburcu's per-thread reader state in static TLS (declared in srcu_fast.h):
 * addressed directly instead of through __tls_get_addr(), which cost 3 ns
 * of the 4 of an inlined read lock+unlock in the shared-object build.
 */
#else
extern URCU_TLS_STORAGE_CLASS struct urcu_reader urcu_memb_reader
	__attribute__((tls_model("initial-exec")));
#endif

#if defined(__SANITIZE_THREAD__)
#define SRCU_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SRCU_TSAN 1
#endif
#endif

#ifdef SRCU_TSAN
#include <sanitizer/tsan_interface.h>
#if defined(__clang__)
#define SRCU_UNINSTRUMENTED __attribute__((disable_sanitizer_instrumentation, noinline))
#else
#define SRCU_UNINSTRUMENTED __attribute__((no_sanitize_thread, noinline))
#endif
#define srcu_tsan_release(p) __tsan_release((void *)(p))
#define srcu_tsan_acquire(p) __tsan_acquire((void *)(p))
#else
#define SRCU_UNINSTRUMENTED inline
#define srcu_tsan_release(p) ((void)(p))
#define srcu_tsan_acquire(p) ((void)(p))
#endif

static_assert(sizeof(struct rcu_head) <= sizeof(((struct mmn_rcu_head *)0)->priv),
	      "liburcu's rcu_head must fit in mmn_rcu_head::priv");
static_assert(_Alignof(struct rcu_head) <= _Alignof(void *),
	      "liburcu's rcu_head must be pointer-aligned");
static_assert(offsetof(struct mmn_rcu_head, priv) == 0, "priv must come first");

/* Synchronisation objects for TSan's annotations only. */
static char srcu_tsan_gp, srcu_tsan_cb;

/* This thread was registered with liburcu by us (and is unregistered by us). */
static __thread bool srcu_owned __attribute__((tls_model("initial-exec")));
/* Set while this thread runs an SRCU callback (liburcu's call_rcu thread). */
static __thread bool srcu_in_callback __attribute__((tls_model("initial-exec")));

static pthread_once_t srcu_key_once = PTHREAD_ONCE_INIT;
static pthread_key_t srcu_key;
static bool srcu_key_ok;
static unsigned long srcu_nr_register, srcu_nr_unregister;

/* ------------------------------------------------------------------ */
/* Thread registration                                                 */
/* ------------------------------------------------------------------ */

static SRCU_UNINSTRUMENTED bool srcu_urcu_registered(void)
{
	return URCU_TLS(urcu_memb_reader).registered != 0;
}

/* Key destructor: the thread ends; also when it ends inside a read section
 * (reported as HELD_AT_EXIT), so that grace periods stop waiting for it. */
static void srcu_thread_exit(void *unused)
{
	(void)unused;
	if (!srcu_owned)
		return;
	srcu_owned = false;
	/* The research code may have unregistered it behind our back. */
	if (!srcu_urcu_registered())
		return;
	urcu_memb_unregister_thread();
	__atomic_add_fetch(&srcu_nr_unregister, 1, __ATOMIC_RELAXED);
}

static void srcu_key_create(void)
{
	srcu_key_ok = pthread_key_create(&srcu_key, srcu_thread_exit) == 0;
}

/*
 * Register the calling thread. The test is liburcu's own flag, not one of
 * ours: a thread the research code registered itself is left alone (a
 * second registration would trip liburcu's assertions), and one it
 * unregistered is registered again before its next read section.
 */
static __attribute__((noinline)) void srcu_register_slow(void)
{
	pthread_once(&srcu_key_once, srcu_key_create);
	urcu_memb_register_thread();
	srcu_owned = true;
	/* Without the key value the thread would stay in liburcu's registry
	 * after exit; only ENOMEM can get us there. */
	if (srcu_key_ok)
		(void)pthread_setspecific(srcu_key, (void *)1);
	__atomic_add_fetch(&srcu_nr_register, 1, __ATOMIC_RELAXED);
}

/* srcu_fast.h's first-section registration, for the inline read side. */
void mmn__srcu_register_thread(void)
{
	srcu_register_slow();
}

static inline void srcu_register(void)
{
	if (mmn_unlikely(!srcu_urcu_registered()))
		srcu_register_slow();
}

unsigned long mmn__srcu_registrations(void)
{
	return __atomic_load_n(&srcu_nr_register, __ATOMIC_RELAXED);
}

unsigned long mmn__srcu_unregistrations(void)
{
	return __atomic_load_n(&srcu_nr_unregister, __ATOMIC_RELAXED);
}

bool mmn__srcu_thread_registered(void)
{
	return srcu_urcu_registered();
}

/* ------------------------------------------------------------------ */
/* Read side (uninstrumented under TSan, see the top of the file)      */
/* ------------------------------------------------------------------ */

static SRCU_UNINSTRUMENTED void srcu_reader_enter(void)
{
	if (mmn_unlikely(!URCU_TLS(urcu_memb_reader).registered))
		srcu_register_slow();
	urcu_memb_read_lock();
}

static SRCU_UNINSTRUMENTED void srcu_reader_exit(void)
{
	/* Before the unlock: once it is done, a grace period may end and
	 * the updater acquire. */
	srcu_tsan_release(&srcu_tsan_gp);
	urcu_memb_read_unlock();
}

/* Whether this thread is inside a read section of any domain. */
static SRCU_UNINSTRUMENTED bool srcu_reader_ongoing(void)
{
	return urcu_memb_read_ongoing() != 0;
}

static __attribute__((noinline)) int srcu_read_lock_slow(struct mmn_srcu *ss)
{
	struct mmn_sim *sim = ss->dep.sim;
	struct mmn_actor *a;
	int idx = 0;

	/* Zeroed (never initialised) or destroyed: what the fast byte's 0
	 * also covers, told apart from the flag being set. */
	if (mmn_unlikely(!sim || !__atomic_load_n(&ss->slow, __ATOMIC_RELAXED)))
		return -EINVAL;
	a = sync_ld_actor(sim);
	mmn__sched(sim, a, MMN_SCHED_SRCU_READ_LOCK, ss, ss->dep.name);
	/* Backend dispatch point. */
	if (!sync_native(sim))
		idx = mmn__det_srcu_read_lock(ss, a ? a : sync_actor(sim));
	else
		srcu_reader_enter();
	if (a)
		mmn__ld_push(a, &ss->dep, 0, SYNC_KIND_SRCU, true, false);
	return idx;
}

static __attribute__((noinline)) void srcu_read_unlock_slow(struct mmn_srcu *ss, int idx)
{
	struct mmn_sim *sim = ss->dep.sim;
	const char *name = ss->dep.name;
	struct mmn_actor *a;

	/* Zeroed: no lock entered through it. Destroyed: the lock's refusal
	 * is left alone; a section entered before the destroy still ends. */
	if (mmn_unlikely(!sim))
		return;
	if (mmn_unlikely(idx == -EINVAL && !__atomic_load_n(&ss->slow, __ATOMIC_RELAXED)))
		return;
	a = sync_ld_actor(sim);
	if (a && mmn__ld_release(a, &ss->dep, SYNC_KIND_SRCU, 1, "srcu_read_unlock") !=
		 SYNC_LD_RELEASED)
		return; /* reported; liburcu's nesting must stay intact */
	/* Backend dispatch point: indices are 0 and 1 there, checked by det_srcu.c. */
	if (!sync_native(sim)) {
		mmn__det_srcu_read_unlock(ss, a ? a : sync_actor(sim), idx);
		mmn__sched(sim, a, MMN_SCHED_SRCU_READ_UNLOCK, ss, name);
		return;
	}
	if (a) {
		if (idx != 0)
			mmn__ld_report(sim, a, MMN_VIOL_BAD_UNLOCK, NULL,
				       "srcu_read_unlock(%s) with index %d, not the one "
				       "srcu_read_lock() returned",
				       name, idx);
	}
	if (srcu_reader_ongoing())
		srcu_reader_exit();
	mmn__sched(sim, a, MMN_SCHED_SRCU_READ_UNLOCK, ss, name);
}

/*
 * The fast byte is the slow flag's copy in the domain (mmn__srcu_follow_slow()),
 * 0 also for a zeroed or destroyed struct: one load instead of the flag's
 * two dependent ones (the sim, its sync state), and the same decision as
 * the inline read side's (mmnsim/inline.h).
 */
static inline bool srcu_fast(const struct mmn_srcu *ss)
{
	return mmn_likely(__atomic_load_n(&ss->fast, __ATOMIC_RELAXED) != 0);
}

int mmn_srcu_read_lock(struct mmn_srcu *ss)
{
	if (mmn_unlikely(!ss))
		return -EINVAL;
	if (!srcu_fast(ss))
		return srcu_read_lock_slow(ss);
	srcu_reader_enter();
	return 0;
}

void mmn_srcu_read_unlock(struct mmn_srcu *ss, int idx)
{
	if (mmn_unlikely(!ss))
		return;
	if (!srcu_fast(ss)) {
		srcu_read_unlock_slow(ss, idx);
		return;
	}
	/* An unbalanced unlock would corrupt liburcu's nesting count and hang
	 * every later grace period; one TLS load keeps it harmless. */
	if (mmn_unlikely(!srcu_reader_ongoing()))
		return;
	srcu_reader_exit();
}

int mmn_srcu_read_lock_held(const struct mmn_srcu *ss)
{
	struct mmn_actor *a;

	if (!ss || !ss->dep.sim)
		return -EINVAL;
	if (!ss->dep.sim->sync->lockdep)
		return -EOPNOTSUPP;
	a = sync_actor(ss->dep.sim);
	return a && mmn__ld_find(a, &ss->dep) >= 0;
}

/* ------------------------------------------------------------------ */
/* Update side                                                         */
/* ------------------------------------------------------------------ */

/*
 * Checks before waiting for a grace period or for callbacks: the kernel
 * would self-deadlock (or sleep in atomic context) in each reported case;
 * liburcu would hang or assert, so the wait is skipped.
 */
static bool srcu_may_wait(struct mmn_srcu *ss, struct mmn_actor *a, const char *op, bool barrier)
{
	struct mmn_sim *sim = ss->dep.sim;
	const char *name = ss->dep.name;

	if (a) {
		mmn__ld_check_sleep(a, op);
		if (mmn__ld_find(a, &ss->dep) >= 0) {
			mmn__ld_report(sim, a, MMN_VIOL_SRCU_SELF_DEADLOCK, NULL,
				       "%s(%s) inside a read section of the same domain would "
				       "never return; skipped",
				       op, name);
			return false;
		}
	}
	if (!sync_native(sim))
		return true; /* per-domain grace periods: the rest is liburcu's */
	if (barrier && srcu_in_callback) {
		mmn__ld_report(sim, a, MMN_VIOL_SRCU_SELF_DEADLOCK, NULL,
			       "%s(%s) from an SRCU callback would wait for itself; skipped",
			       op, name);
		return false;
	}
	if (srcu_reader_ongoing()) {
		mmn__ld_report(sim, a, MMN_VIOL_SRCU_SELF_DEADLOCK, NULL,
			       "%s(%s) inside an SRCU read section: the native backend has "
			       "one grace-period domain (liburcu), so it would never return; "
			       "skipped",
			       op, name);
		return false;
	}
	return true;
}

/*
 * The front both waits share: the checks above, then the scheduling point.
 * False when the wait is skipped; *@ap is the actor lockdep tracks (NULL
 * when lockdep is off or on the fast path).
 */
static bool srcu_wait_begin(struct mmn_srcu *ss, const char *op, bool barrier,
			    struct mmn_actor **ap)
{
	struct mmn_sim *sim = ss->dep.sim;
	struct mmn_actor *a = NULL;

	if (sync_slow(sim))
		a = sync_ld_actor(sim);
	if (!srcu_may_wait(ss, a, op, barrier))
		return false;
	if (sync_slow(sim))
		mmn__sched(sim, a, MMN_SCHED_SRCU_SYNC, ss, ss->dep.name);
	*ap = a;
	return true;
}

void mmn_synchronize_srcu(struct mmn_srcu *ss)
{
	struct mmn_actor *a;

	if (!ss || !ss->dep.sim || !srcu_wait_begin(ss, "synchronize_srcu", false, &a))
		return;
	/* Backend dispatch point. */
	if (!sync_native(ss->dep.sim)) {
		mmn__det_synchronize_srcu(ss, a ? a : sync_actor(ss->dep.sim));
		return;
	}
	urcu_memb_synchronize_rcu();
	srcu_tsan_acquire(&srcu_tsan_gp);
}

static void srcu_callback(struct rcu_head *rh)
{
	struct mmn_rcu_head *head = (struct mmn_rcu_head *)(void *)rh;
	struct mmn_sim *sim;
	struct mmn_actor *a;

	srcu_tsan_acquire(head);
	srcu_tsan_acquire(&srcu_tsan_gp);
	/* Read before the call: @func usually frees the object holding @head. */
	sim = head->ss->dep.sim;
	/* No longer queued (mmn_call_srcu()'s double-queue check reads it). */
	__atomic_store_n(&head->ss, NULL, __ATOMIC_RELEASE);
	a = sync_ld_actor(sim);
	srcu_in_callback = true;
	if (a)
		a->in_callback++;
	head->func(head);
	if (a)
		a->in_callback--;
	srcu_in_callback = false;
	srcu_tsan_release(&srcu_tsan_cb);
	__atomic_sub_fetch(&sim->sync->srcu_pending, 1, __ATOMIC_RELEASE);
}

void mmn_call_srcu(struct mmn_srcu *ss, struct mmn_rcu_head *head,
		   void (*func)(struct mmn_rcu_head *head))
{
	if (!ss || !head || !func || !ss->dep.sim)
		return;
	/*
	 * A head still queued on @ss (set below, cleared when its callback
	 * starts) queued again would corrupt the queue and lose a callback, as
	 * the kernel's CONFIG_DEBUG_OBJECTS_RCU_HEAD reports: reported, not
	 * queued twice.
	 */
	if (mmn_unlikely(__atomic_load_n(&head->ss, __ATOMIC_RELAXED) == ss)) {
		mmn_reportf(ss->dep.sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "call_srcu() on a head already queued on %s", mmn__ld_map_name(&ss->dep));
		return;
	}
	head->func = func;
	__atomic_store_n(&head->ss, ss, __ATOMIC_RELAXED);
	/* Backend dispatch point. */
	if (!sync_native(ss->dep.sim)) {
		mmn__det_call_srcu(ss, head);
		return;
	}
	__atomic_add_fetch(&ss->dep.sim->sync->srcu_pending, 1, __ATOMIC_RELAXED);
	/* liburcu's call_rcu() enters a read section internally. */
	srcu_register();
	srcu_tsan_release(head);
	urcu_memb_call_rcu((struct rcu_head *)(void *)head->priv, srcu_callback);
}

void mmn_srcu_barrier(struct mmn_srcu *ss)
{
	struct mmn_actor *a;

	if (!ss || !ss->dep.sim || !srcu_wait_begin(ss, "srcu_barrier", true, &a))
		return;
	/* Backend dispatch point. */
	if (!sync_native(ss->dep.sim)) {
		mmn__det_srcu_barrier(ss, a ? a : sync_actor(ss->dep.sim));
		return;
	}
	urcu_memb_barrier();
	srcu_tsan_acquire(&srcu_tsan_cb);
}

/* ------------------------------------------------------------------ */
/* The simulation's domains and their fast byte                        */
/* ------------------------------------------------------------------ */

/*
 * The fast byte of every domain is 1 exactly while the domain is listed
 * (initialised, not destroyed) and the simulation's slow flag is clear. It
 * is written under srcu_list_lock only: here, at init and destroy, and by
 * mmn_sched_set_hook() after each store of the flag, before it returns (the
 * flag's other writers run before any domain exists).
 */
void mmn__srcu_follow_slow(struct mmn_sync_state *st)
{
	bool fast = !__atomic_load_n(&st->slow, __ATOMIC_RELAXED);

	for (struct mmn_srcu *ss = st->srcus; ss; ss = ss->sim_next)
		__atomic_store_n(&ss->fast, fast, __ATOMIC_RELAXED);
}

/* The link to @ss in @st's list, NULL if not listed; caller holds the lock.
 * Membership is found by walking, never read from the struct, whose fields
 * are garbage before its first init. */
static struct mmn_srcu **srcu_list_find(struct mmn_sync_state *st, const struct mmn_srcu *ss)
{
	for (struct mmn_srcu **pp = &st->srcus; *pp; pp = &(*pp)->sim_next)
		if (*pp == ss)
			return pp;
	return NULL;
}

void mmn_srcu_init(struct mmn_srcu *ss, struct mmn_sim *sim, const char *name)
{
	struct mmn_sync_state *st;

	if (!ss || !sim || !sim->sync)
		return;
	st = sim->sync;
	mmn__ld_map_init(&ss->dep, sim, NULL, name ? name : "srcu");
	ss->det_ctr[0] = ss->det_ctr[1] = 0;
	ss->det_idx = 0;
	ss->det_gp = false;
	ss->det_cb_queued = ss->det_cb_done = 0;
	pthread_mutex_lock(&st->srcu_list_lock);
	if (!srcu_list_find(st, ss)) {
		ss->sim_next = st->srcus;
		st->srcus = ss;
	}
	__atomic_store_n(&ss->slow, &st->slow, __ATOMIC_RELAXED);
	__atomic_store_n(&ss->fast, !__atomic_load_n(&st->slow, __ATOMIC_RELAXED),
			 __ATOMIC_RELAXED);
	pthread_mutex_unlock(&st->srcu_list_lock);
}

/* Off the simulation's list: from here the read lock refuses @ss. */
static void srcu_unlist(struct mmn_srcu *ss)
{
	struct mmn_sync_state *st = ss->dep.sim->sync;
	struct mmn_srcu **pp;

	pthread_mutex_lock(&st->srcu_list_lock);
	pp = srcu_list_find(st, ss);
	if (pp)
		*pp = ss->sim_next;
	__atomic_store_n(&ss->fast, false, __ATOMIC_RELAXED);
	__atomic_store_n(&ss->slow, NULL, __ATOMIC_RELAXED);
	pthread_mutex_unlock(&st->srcu_list_lock);
}

/*
 * cleanup_srcu_struct() WARNs when readers are still inside the domain
 * (srcu_readers_active(), all versions). The deterministic backend counts a
 * domain's readers (det_ctr) and reports them; the native backend sits on
 * liburcu's process-wide readers and cannot tell this domain's (sync.h).
 * It also frees the domain's per-CPU reader counts (srcutree.c), so a read
 * lock after it would touch freed memory: here the domain leaves the
 * simulation's list and its read lock is refused (-EINVAL).
 */
void mmn_srcu_destroy(struct mmn_srcu *ss)
{
	if (!ss || !ss->dep.sim)
		return;
	mmn_srcu_barrier(ss);
	if (!sync_native(ss->dep.sim) && (ss->det_ctr[0] || ss->det_ctr[1]))
		mmn_reportf(ss->dep.sim, MMN_VIOL_PROTOCOL, 0, 0,
			    "cleanup_srcu_struct() of %s with %lu reader(s) inside",
			    mmn__ld_map_name(&ss->dep) ? mmn__ld_map_name(&ss->dep) : "srcu",
			    ss->det_ctr[0] + ss->det_ctr[1]);
	srcu_unlist(ss);
}

void mmn__srcu_sim_fini(struct mmn_sim *sim)
{
	/* Backend dispatch point. */
	if (!sync_native(sim)) {
		mmn__det_srcu_sim_fini(sim);
		return;
	}
	/* Callbacks still queued would run on a freed simulation. */
	if (__atomic_load_n(&sim->sync->srcu_pending, __ATOMIC_ACQUIRE) == 0)
		return;
	if (srcu_in_callback || srcu_reader_ongoing())
		return;
	urcu_memb_barrier();
	srcu_tsan_acquire(&srcu_tsan_cb);
}
