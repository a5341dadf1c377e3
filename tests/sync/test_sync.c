// SPDX-License-Identifier: MIT
/*
 * The sync layer: actors, every primitive's exclusion and wake-up rules,
 * SRCU grace periods and callbacks, the scheduling-point hook, and each
 * lockdep check both ways (the bad pattern is reported, the good one is
 * silent). Interleavings are sequenced with completions, trylocks and the
 * rwsem's own wait counters; no test sleeps to let a race happen. Polls
 * that wait for another actor are bounded (POLL_SECONDS) so that a broken
 * primitive fails the test instead of hanging it.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include <urcu/urcu-memb.h>

#include <mmnsim/check.h>
#include <mmnsim/sim.h>
#include <mmnsim/sync.h>

#include "sync/internal.h"
#include "sync/priv.h"

#define POLL_SECONDS 10

/* ------------------------------------------------------------------ */
/* Fixture: a simulation and a thread-safe violation recorder          */
/* ------------------------------------------------------------------ */

struct recorder {
	pthread_mutex_t lock;
	unsigned long n[MMN_VIOL_NR_KINDS];
	char last_msg[MMN_VIOL_NR_KINDS][256];
	char last_detail[MMN_VIOL_NR_KINDS][2048];
	char last_actor[MMN_VIOL_NR_KINDS][32];
	bool verbose;
};

struct fixture {
	struct mmn_sim *sim;
	struct recorder rec;
};

static void record_fn(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	struct recorder *r = arg;

	(void)sim;
	pthread_mutex_lock(&r->lock);
	r->n[v->kind]++;
	snprintf(r->last_msg[v->kind], sizeof(r->last_msg[0]), "%s", v->msg ? v->msg : "");
	snprintf(r->last_detail[v->kind], sizeof(r->last_detail[0]), "%s",
		 v->detail ? v->detail : "");
	snprintf(r->last_actor[v->kind], sizeof(r->last_actor[0]), "%s",
		 v->actor_name ? v->actor_name : "");
	if (r->verbose)
		fprintf(stderr, "violation %s: %s [%s]\n%s", mmn_violation_kind_name(v->kind),
			v->msg, v->actor_name, v->detail ? v->detail : "");
	pthread_mutex_unlock(&r->lock);
}

static unsigned long nviol(struct fixture *f, enum mmn_violation_kind k)
{
	unsigned long n;

	pthread_mutex_lock(&f->rec.lock);
	n = f->rec.n[k];
	pthread_mutex_unlock(&f->rec.lock);
	/* The library's own counter must agree with what the handler saw. */
	assert_int_equal(mmn_check_count(f->sim, k), n);
	return n;
}

static int setup_cfg(void **state, bool lockdep)
{
	struct fixture *f = calloc(1, sizeof(*f));
	struct mmn_sim_config cfg;

	assert_non_null(f);
	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 0;
	cfg.lockdep = lockdep;
	f->sim = mmn_sim_create(&cfg);
	assert_non_null(f->sim);
	pthread_mutex_init(&f->rec.lock, NULL);
	f->rec.verbose = getenv("MMN_TEST_VERBOSE") != NULL;
	mmn_check_set_handler(f->sim, record_fn, &f->rec);
	*state = f;
	return 0;
}

static int setup(void **state)
{
	return setup_cfg(state, true);
}

static int setup_nolockdep(void **state)
{
	return setup_cfg(state, false);
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	mmn_sim_destroy(f->sim);
	pthread_mutex_destroy(&f->rec.lock);
	free(f);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Helpers                                                             */
/* ------------------------------------------------------------------ */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* Bounded poll: true once *@p == @want, false after POLL_SECONDS. */
static bool poll_int(const int *p, int want)
{
	double end = now_s() + POLL_SECONDS;

	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) != want) {
		if (now_s() > end)
			return false;
		sched_yield();
	}
	return true;
}

static int rwsem_nr_waiting(struct mmn_rwsem *s, bool writers)
{
	int n;

	pthread_mutex_lock(&s->wait_lock);
	n = writers ? s->writers_waiting : s->readers_waiting;
	pthread_mutex_unlock(&s->wait_lock);
	return n;
}

/* Bounded poll until @n writers (or readers) sleep in @s's slow path. */
static bool poll_rwsem_waiting(struct mmn_rwsem *s, bool writers, int n)
{
	double end = now_s() + POLL_SECONDS;

	while (rwsem_nr_waiting(s, writers) != n) {
		if (now_s() > end)
			return false;
		sched_yield();
	}
	return true;
}

/* Give other actors many chances to run (a bounded negative check). */
static void yield_a_while(void)
{
	for (int i = 0; i < 2000; i++)
		sched_yield();
}

static struct mmn_actor *spawn(struct fixture *f, const char *name, mmn_actor_fn fn, void *arg)
{
	struct mmn_actor *a = NULL;

	assert_int_equal(mmn_actor_spawn(f->sim, name, fn, arg, &a), 0);
	assert_non_null(a);
	return a;
}

static void *join(struct mmn_actor *a)
{
	void *ret = NULL;

	assert_int_equal(mmn_actor_join(a, &ret), 0);
	return ret;
}

static const struct mmn_lock_class class_a = { .name = "class_a" };
static const struct mmn_lock_class class_b = { .name = "class_b" };
static const struct mmn_lock_class class_mutex = { .name = "some_mutex" };
static const struct mmn_lock_class class_mmap = { .name = "mmap_lock",
						  .rank = MMN_RANK_MMAP_LOCK };
static const struct mmn_lock_class class_ptl = { .name = "ptl", .rank = MMN_RANK_PTL };
static const struct mmn_lock_class class_sem = { .name = "sem" };

/* ------------------------------------------------------------------ */
/* Mutual exclusion with real threads                                  */
/* ------------------------------------------------------------------ */

#define EXCL_ITERS 5000

enum excl_kind { EXCL_SPIN, EXCL_MUTEX, EXCL_RWSEM };

struct excl {
	enum excl_kind kind;
	struct mmn_spinlock spin;
	struct mmn_mutex mutex;
	struct mmn_rwsem sem;
	long counter; /* plain: only the lock under test protects it */
};

static void *excl_body(void *arg)
{
	struct excl *e = arg;

	for (int i = 0; i < EXCL_ITERS; i++) {
		long v;

		switch (e->kind) {
		case EXCL_SPIN:
			mmn_spin_lock(&e->spin);
			break;
		case EXCL_MUTEX:
			mmn_mutex_lock(&e->mutex);
			break;
		case EXCL_RWSEM:
			mmn_down_write(&e->sem);
			break;
		}
		/* Widen the window a lost exclusion would show in. */
		v = e->counter;
		if ((i & 7) == 0)
			sched_yield();
		e->counter = v + 1;
		switch (e->kind) {
		case EXCL_SPIN:
			mmn_spin_unlock(&e->spin);
			break;
		case EXCL_MUTEX:
			mmn_mutex_unlock(&e->mutex);
			break;
		case EXCL_RWSEM:
			mmn_up_write(&e->sem);
			break;
		}
	}
	return NULL;
}

static void run_exclusion(struct fixture *f, enum excl_kind kind)
{
	struct excl e = { .kind = kind };
	struct mmn_actor *a, *b;

	mmn_spin_lock_init(&e.spin, f->sim, &class_a, "spin");
	mmn_mutex_init(&e.mutex, f->sim, &class_mutex, "mutex");
	mmn_rwsem_init(&e.sem, f->sim, &class_sem, "sem");
	a = spawn(f, "inc0", excl_body, &e);
	b = spawn(f, "inc1", excl_body, &e);
	join(a);
	join(b);
	assert_int_equal(e.counter, 2 * EXCL_ITERS);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_spin_lock_destroy(&e.spin);
	mmn_mutex_destroy(&e.mutex);
	mmn_rwsem_destroy(&e.sem);
}

static void test_spinlock_excludes_concurrent_actors(void **state)
{
	run_exclusion(*state, EXCL_SPIN);
}

static void test_mutex_excludes_concurrent_actors(void **state)
{
	run_exclusion(*state, EXCL_MUTEX);
}

static void test_rwsem_write_excludes_concurrent_writers(void **state)
{
	run_exclusion(*state, EXCL_RWSEM);
}

/* Same, with lockdep off: the fast paths, not the lockdep slow paths. */
static void test_fast_paths_exclude_with_lockdep_off(void **state)
{
	struct fixture *f = *state;

	assert_false(f->sim->cfg.lockdep);
	run_exclusion(f, EXCL_SPIN);
	run_exclusion(f, EXCL_MUTEX);
	run_exclusion(f, EXCL_RWSEM);
}

/* ------------------------------------------------------------------ */
/* Trylocks                                                            */
/* ------------------------------------------------------------------ */

struct trylock_probe {
	struct mmn_spinlock *spin;
	struct mmn_mutex *mutex;
	struct mmn_rwsem *sem;
	int spin_ok, mutex_ok, read_ok, write_ok;
};

/* From another actor: try everything, release what was taken. */
static void *trylock_body(void *arg)
{
	struct trylock_probe *p = arg;

	if (p->spin) {
		p->spin_ok = mmn_spin_trylock(p->spin);
		if (p->spin_ok)
			mmn_spin_unlock(p->spin);
	}
	if (p->mutex) {
		p->mutex_ok = mmn_mutex_trylock(p->mutex);
		if (p->mutex_ok)
			mmn_mutex_unlock(p->mutex);
	}
	if (p->sem) {
		p->read_ok = mmn_down_read_trylock(p->sem);
		if (p->read_ok)
			mmn_up_read(p->sem);
		p->write_ok = mmn_down_write_trylock(p->sem);
		if (p->write_ok)
			mmn_up_write(p->sem);
	}
	return NULL;
}

static void probe(struct fixture *f, struct trylock_probe *p)
{
	join(spawn(f, "prober", trylock_body, p));
}

static void test_spin_and_mutex_trylock_fail_when_held_succeed_when_free(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock s;
	struct mmn_mutex m;
	struct trylock_probe p = { .spin = &s, .mutex = &m };

	mmn_spin_lock_init(&s, f->sim, &class_a, "s");
	mmn_mutex_init(&m, f->sim, &class_mutex, "m");
	mmn_mutex_lock(&m);
	mmn_spin_lock(&s);
	assert_true(mmn_spin_is_locked(&s));
	assert_true(mmn_mutex_is_locked(&m));
	probe(f, &p);
	assert_int_equal(p.spin_ok, 0);
	assert_int_equal(p.mutex_ok, 0);
	mmn_spin_unlock(&s);
	mmn_mutex_unlock(&m);
	assert_false(mmn_spin_is_locked(&s));
	assert_false(mmn_mutex_is_locked(&m));
	probe(f, &p);
	assert_int_equal(p.spin_ok, 1);
	assert_int_equal(p.mutex_ok, 1);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_spin_lock_destroy(&s);
	mmn_mutex_destroy(&m);
}

static void test_rwsem_trylocks_follow_the_holders(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem sem;
	struct trylock_probe p = { .sem = &sem };

	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_down_write(&sem);
	assert_true(mmn_rwsem_is_write_locked(&sem));
	probe(f, &p);
	assert_int_equal(p.read_ok, 0);
	assert_int_equal(p.write_ok, 0);
	mmn_up_write(&sem);

	mmn_down_read(&sem);
	assert_true(mmn_rwsem_is_locked(&sem));
	assert_false(mmn_rwsem_is_write_locked(&sem));
	probe(f, &p);
	assert_int_equal(p.read_ok, 1);
	assert_int_equal(p.write_ok, 0);
	mmn_up_read(&sem);

	assert_false(mmn_rwsem_is_locked(&sem));
	probe(f, &p);
	assert_int_equal(p.read_ok, 1);
	assert_int_equal(p.write_ok, 1);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_rwsem_destroy(&sem);
}

/* ------------------------------------------------------------------ */
/* rw_semaphore ordering                                               */
/* ------------------------------------------------------------------ */

struct rw_actor {
	struct mmn_rwsem *sem;
	bool write;
	int acquired;       /* set once the lock is held */
	int release;        /* the actor releases once this is set */
	const int *watch;   /* sampled at acquisition, if not NULL */
	int seen;
};

static void *rw_body(void *arg)
{
	struct rw_actor *r = arg;

	if (r->write)
		mmn_down_write(r->sem);
	else
		mmn_down_read(r->sem);
	if (r->watch)
		r->seen = __atomic_load_n(r->watch, __ATOMIC_ACQUIRE);
	__atomic_store_n(&r->acquired, 1, __ATOMIC_RELEASE);
	poll_int(&r->release, 1);
	if (r->write)
		mmn_up_write(r->sem);
	else
		mmn_up_read(r->sem);
	return NULL;
}

static void test_rwsem_readers_share(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem sem;
	struct rw_actor r = { .sem = &sem };
	struct mmn_actor *a;
	bool shared;

	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_down_read(&sem);
	a = spawn(f, "reader", rw_body, &r);
	shared = poll_int(&r.acquired, 1);
	mmn_up_read(&sem);
	__atomic_store_n(&r.release, 1, __ATOMIC_RELEASE);
	join(a);
	assert_true(shared);
	mmn_rwsem_destroy(&sem);
}

static void test_rwsem_writer_waits_for_reader(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem sem;
	struct rw_actor w = { .sem = &sem, .write = true, .release = 1 };
	struct mmn_actor *a;

	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_down_read(&sem);
	a = spawn(f, "writer", rw_body, &w);
	assert_true(poll_rwsem_waiting(&sem, true, 1));
	assert_int_equal(__atomic_load_n(&w.acquired, __ATOMIC_ACQUIRE), 0);
	mmn_up_read(&sem);
	assert_true(poll_int(&w.acquired, 1));
	join(a);
	mmn_rwsem_destroy(&sem);
}

/*
 * Kernel rwsems queue new readers behind a waiting writer; a
 * reader-preferring lock would let them in and starve the writer.
 */
static void test_rwsem_waiting_writer_blocks_new_readers(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem sem;
	int writer_done = 0;
	struct rw_actor w = { .sem = &sem, .write = true };
	struct rw_actor r2 = { .sem = &sem, .release = 1, .watch = &writer_done };
	struct trylock_probe p = { .sem = &sem };
	struct mmn_actor *wa, *ra;

	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_down_read(&sem);
	wa = spawn(f, "writer", rw_body, &w);
	assert_true(poll_rwsem_waiting(&sem, true, 1));
	/* A new reader may not overtake the waiting writer... */
	p.sem = &sem;
	join(spawn(f, "prober", trylock_body, &p));
	assert_int_equal(p.read_ok, 0);
	/* ...and a blocking one gets in only after the writer is done. */
	ra = spawn(f, "reader2", rw_body, &r2);
	assert_true(poll_rwsem_waiting(&sem, false, 1));
	mmn_up_read(&sem);
	assert_true(poll_int(&w.acquired, 1));
	__atomic_store_n(&writer_done, 1, __ATOMIC_RELEASE);
	__atomic_store_n(&w.release, 1, __ATOMIC_RELEASE);
	join(wa);
	join(ra);
	assert_int_equal(r2.seen, 1);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_rwsem_destroy(&sem);
}

static void test_downgrade_admits_readers_but_keeps_writers_out(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem sem;
	struct trylock_probe p = { .sem = &sem };

	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_down_write(&sem);
	mmn_downgrade_write(&sem);
	assert_true(mmn_rwsem_is_locked(&sem));
	assert_false(mmn_rwsem_is_write_locked(&sem));
	assert_int_equal(mmn_lockdep_is_held(&sem), 1);
	probe(f, &p);
	assert_int_equal(p.read_ok, 1);
	assert_int_equal(p.write_ok, 0);
	mmn_up_read(&sem);
	probe(f, &p);
	assert_int_equal(p.write_ok, 1);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_rwsem_destroy(&sem);
}

static void test_downgrade_wakes_a_waiting_reader(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem sem;
	struct rw_actor r = { .sem = &sem, .release = 1 };
	struct mmn_actor *a;
	bool admitted;

	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_down_write(&sem);
	a = spawn(f, "reader", rw_body, &r);
	assert_true(poll_rwsem_waiting(&sem, false, 1));
	assert_int_equal(__atomic_load_n(&r.acquired, __ATOMIC_ACQUIRE), 0);
	mmn_downgrade_write(&sem);
	/* We still hold it for read: the reader must get in now. */
	admitted = poll_int(&r.acquired, 1);
	mmn_up_read(&sem);
	join(a);
	assert_true(admitted);
	mmn_rwsem_destroy(&sem);
}

#define STREAM_ITERS 200000

struct stream {
	struct mmn_rwsem sem;
	int stop;
	int started;
	int exhausted; /* readers that ran out of iterations */
};

static void *stream_reader(void *arg)
{
	struct stream *s = arg;
	int i;

	__atomic_add_fetch(&s->started, 1, __ATOMIC_RELEASE);
	for (i = 0; i < STREAM_ITERS && !__atomic_load_n(&s->stop, __ATOMIC_ACQUIRE); i++) {
		mmn_down_read(&s->sem);
		sched_yield(); /* overlap with the other reader */
		mmn_up_read(&s->sem);
	}
	if (i == STREAM_ITERS)
		__atomic_add_fetch(&s->exhausted, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void *stream_writer(void *arg)
{
	struct stream *s = arg;

	poll_int(&s->started, 3);
	mmn_down_write(&s->sem);
	__atomic_store_n(&s->stop, 1, __ATOMIC_RELEASE);
	mmn_up_write(&s->sem);
	return NULL;
}

static void test_writer_not_starved_by_reader_stream(void **state)
{
	struct fixture *f = *state;
	struct stream s = { 0 };
	struct mmn_actor *r[3], *w;

	mmn_rwsem_init(&s.sem, f->sim, &class_sem, "sem");
	for (int i = 0; i < 3; i++)
		r[i] = spawn(f, NULL, stream_reader, &s);
	w = spawn(f, "writer", stream_writer, &s);
	join(w);
	for (int i = 0; i < 3; i++)
		join(r[i]);
	assert_int_equal(s.exhausted, 0);
	mmn_rwsem_destroy(&s.sem);
}

/* Mixed readers and writers, checking the invariant from inside. */
#define MIX_ITERS 3000

struct mix {
	struct mmn_rwsem sem;
	int readers_in, writers_in;
	int bad;
};

static void *mix_body(void *arg)
{
	struct mix *m = arg;
	unsigned int seed = (unsigned int)(uintptr_t)&seed;

	for (int i = 0; i < MIX_ITERS; i++) {
		seed = seed * 1103515245u + 12345u;
		if ((seed >> 16) % 4 == 0) {
			mmn_down_write(&m->sem);
			if (__atomic_add_fetch(&m->writers_in, 1, __ATOMIC_SEQ_CST) != 1 ||
			    __atomic_load_n(&m->readers_in, __ATOMIC_SEQ_CST) != 0)
				__atomic_store_n(&m->bad, 1, __ATOMIC_RELAXED);
			__atomic_sub_fetch(&m->writers_in, 1, __ATOMIC_SEQ_CST);
			if ((seed >> 20) % 2)
				mmn_up_write(&m->sem);
			else {
				mmn_downgrade_write(&m->sem);
				mmn_up_read(&m->sem);
			}
		} else {
			mmn_down_read(&m->sem);
			__atomic_add_fetch(&m->readers_in, 1, __ATOMIC_SEQ_CST);
			if (__atomic_load_n(&m->writers_in, __ATOMIC_SEQ_CST) != 0)
				__atomic_store_n(&m->bad, 1, __ATOMIC_RELAXED);
			__atomic_sub_fetch(&m->readers_in, 1, __ATOMIC_SEQ_CST);
			mmn_up_read(&m->sem);
		}
	}
	return NULL;
}

/* Ends (no lost wake-up) with readers and writers never inside together. */
static void test_rwsem_mixed_load_keeps_invariant_and_completes(void **state)
{
	struct fixture *f = *state;
	struct mix m = { 0 };
	struct mmn_actor *a[4];

	mmn_rwsem_init(&m.sem, f->sim, &class_sem, "sem");
	for (int i = 0; i < 4; i++)
		a[i] = spawn(f, NULL, mix_body, &m);
	for (int i = 0; i < 4; i++)
		join(a[i]);
	assert_int_equal(m.bad, 0);
	assert_false(mmn_rwsem_is_locked(&m.sem));
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_rwsem_destroy(&m.sem);
}

/* ------------------------------------------------------------------ */
/* seqcount_t                                                          */
/* ------------------------------------------------------------------ */

static void test_seqcount_retry_detects_a_write(void **state)
{
	struct fixture *f = *state;
	struct mmn_seqcount s;
	unsigned int start;

	mmn_seqcount_init(&s, f->sim);
	start = mmn_read_seqcount_begin(&s);
	assert_false(mmn_read_seqcount_retry(&s, start));
	mmn_write_seqcount_begin(&s);
	assert_true(mmn_raw_read_seqcount(&s) & 1);
	mmn_write_seqcount_end(&s);
	assert_true(mmn_read_seqcount_retry(&s, start));
	start = mmn_read_seqcount_begin(&s);
	assert_int_equal(start & 1, 0);
	assert_false(mmn_read_seqcount_retry(&s, start));
}

struct seq_reader {
	struct mmn_seqcount *s;
	int started, done;
	unsigned int seen;
};

static void *seq_reader_body(void *arg)
{
	struct seq_reader *r = arg;

	__atomic_store_n(&r->started, 1, __ATOMIC_RELEASE);
	r->seen = mmn_read_seqcount_begin(r->s);
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_seqcount_read_begin_waits_for_the_writer(void **state)
{
	struct fixture *f = *state;
	struct mmn_seqcount s;
	struct seq_reader r = { .s = &s };
	struct mmn_actor *a;

	mmn_seqcount_init(&s, f->sim);
	mmn_write_seqcount_begin(&s);
	a = spawn(f, "reader", seq_reader_body, &r);
	assert_true(poll_int(&r.started, 1));
	yield_a_while();
	assert_int_equal(__atomic_load_n(&r.done, __ATOMIC_ACQUIRE), 0);
	mmn_write_seqcount_end(&s);
	join(a);
	assert_int_equal(r.seen, 2);
}

/* ------------------------------------------------------------------ */
/* Completions and wait queues                                         */
/* ------------------------------------------------------------------ */

struct waiter {
	struct mmn_completion *c;
	int done;
};

static void *completion_waiter(void *arg)
{
	struct waiter *w = arg;

	mmn_wait_for_completion(w->c);
	__atomic_store_n(&w->done, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_completion_releases_its_waiter(void **state)
{
	struct fixture *f = *state;
	struct mmn_completion c;
	struct waiter w = { .c = &c };
	struct mmn_actor *a;

	mmn_init_completion(&c, f->sim, "c");
	assert_false(mmn_completion_done(&c));
	assert_false(mmn_try_wait_for_completion(&c));
	a = spawn(f, "waiter", completion_waiter, &w);
	yield_a_while();
	assert_int_equal(__atomic_load_n(&w.done, __ATOMIC_ACQUIRE), 0);
	mmn_complete(&c);
	join(a);
	assert_int_equal(w.done, 1);
	/* The waiter consumed the only complete(). */
	assert_false(mmn_try_wait_for_completion(&c));
	mmn_complete(&c);
	assert_true(mmn_completion_done(&c));
	assert_true(mmn_try_wait_for_completion(&c));
	assert_false(mmn_completion_done(&c));
	mmn_completion_destroy(&c);
}

static void test_complete_all_releases_everyone_until_reinit(void **state)
{
	struct fixture *f = *state;
	struct mmn_completion c;
	struct waiter w[2] = { { .c = &c }, { .c = &c } };
	struct mmn_actor *a[2];

	mmn_init_completion(&c, f->sim, "c");
	for (int i = 0; i < 2; i++)
		a[i] = spawn(f, NULL, completion_waiter, &w[i]);
	mmn_complete_all(&c);
	for (int i = 0; i < 2; i++)
		join(a[i]);
	assert_true(mmn_try_wait_for_completion(&c));
	assert_true(mmn_try_wait_for_completion(&c));
	mmn_reinit_completion(&c);
	assert_false(mmn_try_wait_for_completion(&c));
	mmn_completion_destroy(&c);
}

struct wq_waiter {
	struct mmn_waitqueue *wq;
	int flag;
	int evals;
	int returned;
};

static bool wq_cond(void *arg)
{
	struct wq_waiter *w = arg;

	__atomic_add_fetch(&w->evals, 1, __ATOMIC_RELEASE);
	return __atomic_load_n(&w->flag, __ATOMIC_ACQUIRE) != 0;
}

static void *wq_body(void *arg)
{
	struct wq_waiter *w = arg;

	mmn_wait_event(w->wq, wq_cond, w);
	__atomic_store_n(&w->returned, 1, __ATOMIC_RELEASE);
	return NULL;
}

static void test_wait_event_returns_only_when_woken_with_condition_true(void **state)
{
	struct fixture *f = *state;
	struct mmn_waitqueue wq;
	struct wq_waiter w = { .wq = &wq };
	struct mmn_actor *a;

	mmn_waitqueue_init(&wq, f->sim, "wq");
	a = spawn(f, "waiter", wq_body, &w);
	assert_true(poll_int(&w.evals, 1));
	/* A wake-up with the condition still false: it re-checks, sleeps on. */
	mmn_wake_up_all(&wq);
	assert_true(poll_int(&w.evals, 2));
	yield_a_while();
	assert_int_equal(__atomic_load_n(&w.returned, __ATOMIC_ACQUIRE), 0);
	__atomic_store_n(&w.flag, 1, __ATOMIC_RELEASE);
	mmn_wake_up_all(&wq);
	join(a);
	assert_int_equal(w.returned, 1);
	mmn_waitqueue_destroy(&wq);
}

/* ------------------------------------------------------------------ */
/* SRCU                                                                */
/* ------------------------------------------------------------------ */

struct srcu_reader {
	struct mmn_srcu *ss;
	struct mmn_completion entered, go;
	int left;              /* set just before read_unlock */
	int registered;        /* liburcu registration seen inside */
	char name[32];
};

static void *srcu_reader_body(void *arg)
{
	struct srcu_reader *r = arg;
	int idx = mmn_srcu_read_lock(r->ss);

	r->registered = mmn__srcu_thread_registered() && urcu_memb_read_ongoing();
	snprintf(r->name, sizeof(r->name), "%s", mmn_actor_name(mmn_actor_current(r->ss->dep.sim)));
	mmn_complete(&r->entered);
	mmn_wait_for_completion(&r->go);
	__atomic_store_n(&r->left, 1, __ATOMIC_RELEASE);
	mmn_srcu_read_unlock(r->ss, idx);
	return NULL;
}

static void srcu_reader_init(struct fixture *f, struct srcu_reader *r, struct mmn_srcu *ss)
{
	memset(r, 0, sizeof(*r));
	r->ss = ss;
	mmn_init_completion(&r->entered, f->sim, "entered");
	mmn_init_completion(&r->go, f->sim, "go");
}

static void srcu_reader_fini(struct srcu_reader *r)
{
	mmn_completion_destroy(&r->entered);
	mmn_completion_destroy(&r->go);
}

struct syncer {
	struct mmn_srcu *ss;
	struct mmn_completion starting;
	const int *left;
	int left_at_return;
};

static void *syncer_body(void *arg)
{
	struct syncer *s = arg;

	mmn_complete(&s->starting);
	mmn_synchronize_srcu(s->ss);
	s->left_at_return = __atomic_load_n(s->left, __ATOMIC_ACQUIRE);
	return NULL;
}

static void test_synchronize_waits_for_a_reader_on_another_actor(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu ss;
	struct srcu_reader r;
	struct syncer s = { .ss = &ss };
	struct mmn_actor *ra, *sa;

	mmn_srcu_init(&ss, f->sim, "ss");
	srcu_reader_init(f, &r, &ss);
	s.left = &r.left;
	mmn_init_completion(&s.starting, f->sim, "starting");
	ra = spawn(f, "reader", srcu_reader_body, &r);
	mmn_wait_for_completion(&r.entered);
	sa = spawn(f, "syncer", syncer_body, &s);
	mmn_wait_for_completion(&s.starting);
	yield_a_while();
	mmn_complete(&r.go);
	join(sa);
	join(ra);
	assert_int_equal(s.left_at_return, 1);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_completion_destroy(&s.starting);
	srcu_reader_fini(&r);
	mmn_srcu_destroy(&ss);
}

struct cb_obj {
	struct mmn_rcu_head head;
	const int *left;
	int left_seen;
	int ran;
};

static void cb_func(struct mmn_rcu_head *head)
{
	struct cb_obj *o = (struct cb_obj *)head;

	o->left_seen = __atomic_load_n(o->left, __ATOMIC_ACQUIRE);
	__atomic_store_n(&o->ran, 1, __ATOMIC_RELEASE);
}

static void test_call_srcu_runs_after_readers_and_barrier_waits_for_it(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu ss;
	struct srcu_reader r;
	struct cb_obj o = { 0 };
	struct mmn_actor *ra;

	mmn_srcu_init(&ss, f->sim, "ss");
	srcu_reader_init(f, &r, &ss);
	o.left = &r.left;
	ra = spawn(f, "reader", srcu_reader_body, &r);
	mmn_wait_for_completion(&r.entered);
	mmn_call_srcu(&ss, &o.head, cb_func);
	yield_a_while();
	assert_int_equal(__atomic_load_n(&o.ran, __ATOMIC_ACQUIRE), 0);
	mmn_complete(&r.go);
	mmn_srcu_barrier(&ss);
	/* Read without atomics: the barrier orders the callback before us. */
	assert_int_equal(o.ran, 1);
	assert_int_equal(o.left_seen, 1);
	join(ra);
	assert_int_equal(mmn_check_total(f->sim), 0);
	srcu_reader_fini(&r);
	mmn_srcu_destroy(&ss);
}

struct plain_thread {
	struct mmn_srcu *ss;
	int registered;
	char name[32];
};

static void *plain_reader(void *arg)
{
	struct plain_thread *p = arg;
	int idx = mmn_srcu_read_lock(p->ss);

	p->registered = mmn__srcu_thread_registered() && urcu_memb_read_ongoing();
	snprintf(p->name, sizeof(p->name), "%s", mmn_actor_name(mmn_actor_current(p->ss->dep.sim)));
	mmn_srcu_read_unlock(p->ss, idx);
	return NULL;
}

static void test_threads_are_registered_without_a_registration_call(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu ss;
	struct plain_thread p = { .ss = &ss };
	struct srcu_reader r;
	pthread_t t;
	unsigned long reg0 = mmn__srcu_registrations();
	unsigned long unreg0 = mmn__srcu_unregistrations();

	mmn_srcu_init(&ss, f->sim, "ss");
	/* A thread of the research code's own... */
	assert_int_equal(pthread_create(&t, NULL, plain_reader, &p), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_true(p.registered);
	assert_int_equal(strncmp(p.name, "thread", 6), 0);
	assert_int_equal(mmn__srcu_registrations() - reg0, 1);
	assert_int_equal(mmn__srcu_unregistrations() - unreg0, 1);
	/* ...and an actor. */
	srcu_reader_init(f, &r, &ss);
	mmn_complete(&r.go);
	join(spawn(f, "spawned", srcu_reader_body, &r));
	assert_true(r.registered);
	assert_string_equal(r.name, "spawned");
	assert_int_equal(mmn__srcu_registrations() - reg0, 2);
	assert_int_equal(mmn__srcu_unregistrations() - unreg0, 2);
	/* Grace periods still end: no dead thread left in liburcu's registry. */
	mmn_synchronize_srcu(&ss);
	srcu_reader_fini(&r);
	mmn_srcu_destroy(&ss);
}

static void test_synchronize_inside_own_read_section_reported_and_returns(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu ss;
	int idx;

	mmn_srcu_init(&ss, f->sim, "ss");
	mmn_synchronize_srcu(&ss);
	assert_int_equal(nviol(f, MMN_VIOL_SRCU_SELF_DEADLOCK), 0);
	idx = mmn_srcu_read_lock(&ss);
	assert_int_equal(mmn_srcu_read_lock_held(&ss), 1);
	mmn_synchronize_srcu(&ss);
	assert_int_equal(nviol(f, MMN_VIOL_SRCU_SELF_DEADLOCK), 1);
	mmn_srcu_barrier(&ss);
	assert_int_equal(nviol(f, MMN_VIOL_SRCU_SELF_DEADLOCK), 2);
	mmn_srcu_read_unlock(&ss, idx);
	assert_int_equal(mmn_srcu_read_lock_held(&ss), 0);
	mmn_synchronize_srcu(&ss);
	assert_int_equal(nviol(f, MMN_VIOL_SRCU_SELF_DEADLOCK), 2);
	mmn_srcu_destroy(&ss);
}

/* One liburcu domain: waiting on B from a reader of A cannot work natively. */
static void test_synchronize_inside_other_domain_read_section_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu a, b;
	int idx;

	mmn_srcu_init(&a, f->sim, "a");
	mmn_srcu_init(&b, f->sim, "b");
	idx = mmn_srcu_read_lock(&a);
	mmn_synchronize_srcu(&b);
	assert_int_equal(nviol(f, MMN_VIOL_SRCU_SELF_DEADLOCK), 1);
	mmn_srcu_read_unlock(&a, idx);
	mmn_synchronize_srcu(&b);
	assert_int_equal(nviol(f, MMN_VIOL_SRCU_SELF_DEADLOCK), 1);
	mmn_srcu_destroy(&a);
	mmn_srcu_destroy(&b);
}

static void test_srcu_read_sections_nest_and_unbalanced_unlock_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu ss;
	int i1, i2;

	mmn_srcu_init(&ss, f->sim, "ss");
	i1 = mmn_srcu_read_lock(&ss);
	i2 = mmn_srcu_read_lock(&ss);
	assert_int_equal(mmn_lockdep_depth(f->sim), 2);
	mmn_srcu_read_unlock(&ss, i2);
	mmn_srcu_read_unlock(&ss, i1);
	assert_int_equal(mmn_lockdep_depth(f->sim), 0);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 0);
	mmn_srcu_read_unlock(&ss, 0);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 1);
	/* liburcu's nesting survived: grace periods still complete. */
	assert_false(urcu_memb_read_ongoing());
	mmn_synchronize_srcu(&ss);
	mmn_srcu_destroy(&ss);
}

/* ------------------------------------------------------------------ */
/* Lockdep                                                             */
/* ------------------------------------------------------------------ */

static void test_mutex_under_spinlock_reports_sleep_in_atomic(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock s;
	struct mmn_mutex m;

	mmn_spin_lock_init(&s, f->sim, &class_a, "s");
	mmn_mutex_init(&m, f->sim, &class_mutex, "m");
	mmn_spin_lock(&s);
	mmn_mutex_lock(&m);
	assert_int_equal(nviol(f, MMN_VIOL_SLEEP_IN_ATOMIC), 1);
	assert_non_null(strstr(f->rec.last_detail[MMN_VIOL_SLEEP_IN_ATOMIC], "#0: s (class_a) spin"));
	mmn_mutex_unlock(&m);
	mmn_spin_unlock(&s);
	/* A trylock does not sleep. */
	mmn_spin_lock(&s);
	assert_int_equal(mmn_mutex_trylock(&m), 1);
	mmn_mutex_unlock(&m);
	mmn_spin_unlock(&s);
	assert_int_equal(nviol(f, MMN_VIOL_SLEEP_IN_ATOMIC), 1);
	mmn_spin_lock_destroy(&s);
	mmn_mutex_destroy(&m);
}

static void test_mutex_alone_is_silent(void **state)
{
	struct fixture *f = *state;
	struct mmn_mutex m;
	struct mmn_rwsem sem;

	mmn_mutex_init(&m, f->sim, &class_mutex, "m");
	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_down_read(&sem);
	mmn_mutex_lock(&m);
	mmn_might_sleep(f->sim);
	mmn_mutex_unlock(&m);
	mmn_up_read(&sem);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_mutex_destroy(&m);
	mmn_rwsem_destroy(&sem);
}

static void test_rank_inversion_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem mmap;
	struct mmn_spinlock ptl;

	mmn_rwsem_init(&mmap, f->sim, &class_mmap, "mmap_lock");
	mmn_spin_lock_init(&ptl, f->sim, &class_ptl, "ptl");
	mmn_spin_lock(&ptl);
	assert_int_equal(mmn_down_read_trylock(&mmap), 1); /* trylocks skip order checks */
	mmn_up_read(&mmap);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 0);
	mmn_down_read(&mmap);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 1);
	assert_non_null(strstr(f->rec.last_msg[MMN_VIOL_LOCK_ORDER],
			       "mmap_lock (rank 10) taken while holding ptl (rank 60)"));
	/* mmap_lock is a sleeping lock, under a spinlock too. */
	assert_int_equal(nviol(f, MMN_VIOL_SLEEP_IN_ATOMIC), 1);
	mmn_up_read(&mmap);
	mmn_spin_unlock(&ptl);
	mmn_rwsem_destroy(&mmap);
	mmn_spin_lock_destroy(&ptl);
}

static void test_rank_order_respected_is_silent(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem mmap;
	struct mmn_spinlock ptl;

	mmn_rwsem_init(&mmap, f->sim, &class_mmap, "mmap_lock");
	mmn_spin_lock_init(&ptl, f->sim, &class_ptl, "ptl");
	for (int i = 0; i < 3; i++) {
		mmn_down_write(&mmap);
		mmn_spin_lock(&ptl);
		mmn_spin_unlock(&ptl);
		mmn_up_write(&mmap);
	}
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_rwsem_destroy(&mmap);
	mmn_spin_lock_destroy(&ptl);
}

struct ab_pair {
	struct mmn_spinlock *first, *second;
	const char *ctx;
};

static void *take_in_order(void *arg)
{
	struct ab_pair *p = arg;

	mmn_actor_set_context(p->first->dep.sim, p->ctx);
	mmn_spin_lock(p->first);
	mmn_spin_lock(p->second);
	mmn_spin_unlock(p->second);
	mmn_spin_unlock(p->first);
	return NULL;
}

/*
 * Orders are per class, as in the kernel: the inverse order is taken on
 * other instances of the two classes (which also keeps TSan's own
 * instance-based deadlock detector quiet about this deliberate inversion).
 */
static void test_ab_ba_inversion_reported_once_with_the_earlier_order(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock a1, b1, a, b;
	struct ab_pair ab = { &a1, &b1, "fault" }, ba = { &b, &a, "munmap" };
	const char *d;

	mmn_spin_lock_init(&a1, f->sim, &class_a, "a1");
	mmn_spin_lock_init(&b1, f->sim, &class_b, "b1");
	mmn_spin_lock_init(&a, f->sim, &class_a, "a");
	mmn_spin_lock_init(&b, f->sim, &class_b, "b");
	join(spawn(f, "first", take_in_order, &ab));
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 0);
	take_in_order(&ba);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 1);
	assert_string_equal(f->rec.last_msg[MMN_VIOL_LOCK_ORDER],
			    "possible circular locking: class_b then class_a, "
			    "earlier class_a then class_b");
	d = f->rec.last_detail[MMN_VIOL_LOCK_ORDER];
	assert_non_null(strstr(d, "class_a -> class_b first recorded by first (context fault)"));
	assert_non_null(strstr(d, "#0: b (class_b) spin"));
	/* Once per pair. */
	take_in_order(&ba);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 1);
	mmn_spin_lock_destroy(&a1);
	mmn_spin_lock_destroy(&b1);
	mmn_spin_lock_destroy(&a);
	mmn_spin_lock_destroy(&b);
}

/* A -> B, B -> C, then C -> A closes a longer cycle. */
static void test_transitive_cycle_reported(void **state)
{
	struct fixture *f = *state;
	static const struct mmn_lock_class class_c = { .name = "class_c" };
	struct mmn_spinlock a, b, c, c2, a2;
	struct ab_pair ab = { &a, &b, NULL }, bc = { &b, &c, NULL }, ca = { &c2, &a2, NULL };

	mmn_spin_lock_init(&a, f->sim, &class_a, "a");
	mmn_spin_lock_init(&b, f->sim, &class_b, "b");
	mmn_spin_lock_init(&c, f->sim, &class_c, "c");
	mmn_spin_lock_init(&c2, f->sim, &class_c, "c2");
	mmn_spin_lock_init(&a2, f->sim, &class_a, "a2");
	take_in_order(&ab);
	take_in_order(&bc);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 0);
	take_in_order(&ca);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 1);
	assert_non_null(strstr(f->rec.last_detail[MMN_VIOL_LOCK_ORDER],
			       "earlier order: class_a -> class_b -> class_c"));
	mmn_spin_lock_destroy(&c2);
	mmn_spin_lock_destroy(&a2);
	mmn_spin_lock_destroy(&a);
	mmn_spin_lock_destroy(&b);
	mmn_spin_lock_destroy(&c);
}

static void test_consistent_order_is_silent(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock a, b;
	struct ab_pair ab = { &a, &b, NULL };

	mmn_spin_lock_init(&a, f->sim, &class_a, "a");
	mmn_spin_lock_init(&b, f->sim, &class_b, "b");
	join(spawn(f, NULL, take_in_order, &ab));
	take_in_order(&ab);
	/* Releasing out of order is fine too. */
	mmn_spin_lock(&a);
	mmn_spin_lock(&b);
	mmn_spin_unlock(&a);
	mmn_spin_unlock(&b);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_spin_lock_destroy(&a);
	mmn_spin_lock_destroy(&b);
}

/* SRCU sections are outside the order graph: no false cycle through them. */
static void test_srcu_section_does_not_create_order_edges(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu ss;
	struct mmn_mutex m;
	int idx;

	mmn_srcu_init(&ss, f->sim, "ss");
	mmn_mutex_init(&m, f->sim, &class_mutex, "m");
	idx = mmn_srcu_read_lock(&ss);
	mmn_mutex_lock(&m);
	mmn_mutex_unlock(&m);
	mmn_srcu_read_unlock(&ss, idx);
	mmn_mutex_lock(&m);
	idx = mmn_srcu_read_lock(&ss);
	mmn_srcu_read_unlock(&ss, idx);
	mmn_mutex_unlock(&m);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_mutex_destroy(&m);
	mmn_srcu_destroy(&ss);
}

/* Classes beyond the per-simulation table are untracked, not a crash. */
static void test_classes_beyond_the_table_are_untracked(void **state)
{
	struct fixture *f = *state;
	enum { N = SYNC_MAX_CLASSES + 10 };
	static struct mmn_lock_class classes[N];
	static struct mmn_spinlock locks[N], other[N];
	struct ab_pair untracked = { &locks[N - 1], &locks[N - 2], NULL };
	struct ab_pair untracked_inv = { &other[N - 2], &other[N - 1], NULL };
	struct ab_pair tracked = { &locks[0], &locks[1], NULL };
	struct ab_pair tracked_inv = { &other[1], &other[0], NULL };

	for (int i = 0; i < N; i++) {
		classes[i].name = "many";
		mmn_spin_lock_init(&locks[i], f->sim, &classes[i], NULL);
		mmn_spin_lock_init(&other[i], f->sim, &classes[i], NULL);
	}
	assert_int_equal(locks[0].dep.class_id, 0);
	assert_int_equal(other[0].dep.class_id, 0);
	assert_int_equal(locks[N - 1].dep.class_id, -1);
	/* Untracked pair inverted: nothing to report. */
	take_in_order(&untracked);
	take_in_order(&untracked_inv);
	assert_int_equal(mmn_check_total(f->sim), 0);
	/* Tracked pair inverted: reported. */
	take_in_order(&tracked);
	take_in_order(&tracked_inv);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 1);
	for (int i = 0; i < N; i++) {
		mmn_spin_lock_destroy(&locks[i]);
		mmn_spin_lock_destroy(&other[i]);
	}
}

/* More locks than the held stack has room for: tracked as overflow. */
static void test_held_stack_overflow_is_tolerated(void **state)
{
	struct fixture *f = *state;
	enum { N = SYNC_MAX_HELD + 4 };
	static struct mmn_spinlock locks[N];
	struct mmn_mutex m;

	mmn_mutex_init(&m, f->sim, NULL, "m");
	for (int i = 0; i < N; i++)
		mmn_spin_lock_init(&locks[i], f->sim, NULL, "anon");
	for (int i = 0; i < N; i++)
		mmn_spin_lock(&locks[i]);
	assert_int_equal(mmn_lockdep_depth(f->sim), N);
	for (int i = N - 1; i >= 0; i--)
		mmn_spin_unlock(&locks[i]);
	assert_int_equal(mmn_lockdep_depth(f->sim), 0);
	assert_int_equal(mmn_check_total(f->sim), 0);
	/* The atomic count went back to zero with it. */
	mmn_mutex_lock(&m);
	mmn_mutex_unlock(&m);
	assert_int_equal(mmn_check_total(f->sim), 0);
	for (int i = 0; i < N; i++)
		mmn_spin_lock_destroy(&locks[i]);
	mmn_mutex_destroy(&m);
}

/* lockdep_assert_held(): silent while held (any mode), reported when not. */
static void test_assert_held_fires_only_when_not_held(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock s;
	struct mmn_rwsem sem;

	mmn_spin_lock_init(&s, f->sim, &class_a, "s");
	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_spin_lock(&s);
	mmn__lockdep_assert_held(&s, "s");
	mmn_spin_unlock(&s);
	mmn_down_read(&sem);
	mmn__lockdep_assert_held(&sem, "sem");
	mmn_up_read(&sem);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn__lockdep_assert_held(&s, "s");
	mmn__lockdep_assert_held(&sem, "sem");
	assert_int_equal(nviol(f, MMN_VIOL_PROTOCOL), 2);
	mmn_rwsem_destroy(&sem);
	mmn_spin_lock_destroy(&s);
}

static void test_recursive_lock_reported_and_skipped(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock s;
	struct mmn_rwsem sem;

	mmn_spin_lock_init(&s, f->sim, &class_a, "s");
	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_spin_lock(&s);
	mmn_spin_lock(&s); /* would hang for real */
	assert_int_equal(nviol(f, MMN_VIOL_RECURSIVE_LOCK), 1);
	assert_int_equal(mmn_lockdep_depth(f->sim), 2);
	mmn_spin_unlock(&s); /* pops the skipped acquisition only */
	assert_true(mmn_spin_is_locked(&s));
	assert_int_equal(mmn_lockdep_is_held(&s), 1);
	mmn_spin_unlock(&s);
	assert_false(mmn_spin_is_locked(&s));
	assert_int_equal(mmn_lockdep_is_held(&s), 0);

	/* rwsem: read while holding write, and read-read. */
	mmn_down_write(&sem);
	mmn_down_read(&sem);
	assert_int_equal(nviol(f, MMN_VIOL_RECURSIVE_LOCK), 2);
	mmn_up_read(&sem);
	assert_true(mmn_rwsem_is_write_locked(&sem));
	mmn_up_write(&sem);
	mmn_down_read(&sem);
	mmn_down_read(&sem);
	assert_int_equal(nviol(f, MMN_VIOL_RECURSIVE_LOCK), 3);
	mmn_up_read(&sem);
	mmn_up_read(&sem);
	assert_false(mmn_rwsem_is_locked(&sem));
	/* Write inside read, released out of order: each unlock finds its own. */
	mmn_down_read(&sem);
	mmn_down_write(&sem);
	assert_int_equal(nviol(f, MMN_VIOL_RECURSIVE_LOCK), 4);
	mmn_up_read(&sem);
	assert_false(mmn_rwsem_is_locked(&sem));
	mmn_up_write(&sem);
	assert_false(mmn_rwsem_is_locked(&sem));
	assert_int_equal(mmn_lockdep_depth(f->sim), 0);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 0);
	mmn_spin_lock_destroy(&s);
	mmn_rwsem_destroy(&sem);
}

struct mutex_owner {
	struct mmn_mutex *m;
	struct mmn_completion locked, go;
};

static void *lock_mutex_and_wait(void *arg)
{
	struct mutex_owner *p = arg;

	mmn_mutex_lock(p->m);
	mmn_complete(&p->locked);
	mmn_wait_for_completion(&p->go);
	mmn_mutex_unlock(p->m);
	return NULL;
}

static void test_unlock_of_a_lock_not_held_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock s;
	struct mmn_mutex m;
	struct mmn_rwsem sem;
	struct mutex_owner p = { .m = &m };
	struct mmn_actor *a;

	mmn_spin_lock_init(&s, f->sim, &class_a, "s");
	mmn_mutex_init(&m, f->sim, &class_mutex, "m");
	mmn_rwsem_init(&sem, f->sim, &class_sem, "sem");
	mmn_spin_unlock(&s);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 1);
	mmn_spin_lock(&s); /* still usable */
	mmn_spin_unlock(&s);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 1);

	/* Another actor's mutex: reported, and left with its owner. */
	mmn_init_completion(&p.locked, f->sim, "locked");
	mmn_init_completion(&p.go, f->sim, "go");
	a = spawn(f, "owner", lock_mutex_and_wait, &p);
	mmn_wait_for_completion(&p.locked);
	mmn_mutex_unlock(&m);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 2);
	assert_true(mmn_mutex_is_locked(&m));
	assert_int_equal(mmn_mutex_trylock(&m), 0);
	mmn_complete(&p.go);
	join(a);
	assert_false(mmn_mutex_is_locked(&m));

	/* rwsem held for write, released as if read. */
	mmn_down_write(&sem);
	mmn_up_read(&sem);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 3);
	assert_true(mmn_rwsem_is_write_locked(&sem));
	mmn_up_write(&sem);
	mmn_downgrade_write(&sem);
	assert_int_equal(nviol(f, MMN_VIOL_BAD_UNLOCK), 4);
	assert_false(mmn_rwsem_is_locked(&sem));

	mmn_completion_destroy(&p.locked);
	mmn_completion_destroy(&p.go);
	mmn_spin_lock_destroy(&s);
	mmn_mutex_destroy(&m);
	mmn_rwsem_destroy(&sem);
}

static void test_might_sleep_in_non_block_section_reported(void **state)
{
	struct fixture *f = *state;
	struct mmn_completion c;

	mmn_init_completion(&c, f->sim, "c");
	mmn_complete(&c);
	mmn_non_block_start(f->sim);
	mmn_might_sleep(f->sim);
	assert_int_equal(nviol(f, MMN_VIOL_SLEEP_IN_ATOMIC), 1);
	mmn_wait_for_completion(&c); /* does not block: done already */
	assert_int_equal(nviol(f, MMN_VIOL_SLEEP_IN_ATOMIC), 2);
	mmn_non_block_end(f->sim);
	mmn_might_sleep(f->sim);
	assert_int_equal(nviol(f, MMN_VIOL_SLEEP_IN_ATOMIC), 2);
	mmn_completion_destroy(&c);
}

static void test_same_class_nesting_needs_a_subclass(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock p1, p2;

	mmn_spin_lock_init(&p1, f->sim, &class_ptl, "old_ptl");
	mmn_spin_lock_init(&p2, f->sim, &class_ptl, "new_ptl");
	mmn_spin_lock(&p1);
	mmn_spin_lock_nested(&p2, 1);
	mmn_spin_unlock(&p2);
	mmn_spin_unlock(&p1);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_spin_lock(&p1);
	mmn_spin_lock(&p2);
	assert_int_equal(nviol(f, MMN_VIOL_LOCK_ORDER), 1);
	assert_non_null(strstr(f->rec.last_msg[MMN_VIOL_LOCK_ORDER], "possible recursive locking"));
	mmn_spin_unlock(&p2);
	mmn_spin_unlock(&p1);
	mmn_spin_lock_destroy(&p1);
	mmn_spin_lock_destroy(&p2);
}

static void test_lockdep_off_reports_nothing_and_is_held_unsupported(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock s;
	struct mmn_mutex m;
	struct mmn_srcu ss;
	char buf[64] = "x";
	int idx;

	mmn_spin_lock_init(&s, f->sim, &class_a, "s");
	mmn_mutex_init(&m, f->sim, &class_mutex, "m");
	mmn_srcu_init(&ss, f->sim, "ss");
	mmn_spin_lock(&s);
	mmn_mutex_lock(&m);
	mmn_might_sleep(f->sim);
	assert_int_equal(mmn_lockdep_is_held(&s), -EOPNOTSUPP);
	assert_int_equal(mmn_lockdep_depth(f->sim), 0);
	assert_string_equal(mmn_lockdep_held_text(f->sim, buf, sizeof(buf)), "");
	mmn_mutex_unlock(&m);
	mmn_spin_unlock(&s);
	idx = mmn_srcu_read_lock(&ss);
	assert_int_equal(mmn_srcu_read_lock_held(&ss), -EOPNOTSUPP);
	mmn_srcu_read_unlock(&ss, idx);
	/* Unbalanced: ignored, without corrupting liburcu's nesting. */
	mmn_srcu_read_unlock(&ss, idx);
	assert_false(urcu_memb_read_ongoing());
	mmn_synchronize_srcu(&ss);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_spin_lock_destroy(&s);
	mmn_mutex_destroy(&m);
	mmn_srcu_destroy(&ss);
}

static void test_held_text_lists_the_stack(void **state)
{
	struct fixture *f = *state;
	struct mmn_rwsem mmap;
	struct mmn_spinlock ptl;
	struct mmn_srcu ss;
	char buf[512];
	int idx;

	mmn_rwsem_init(&mmap, f->sim, &class_mmap, NULL);
	mmn_spin_lock_init(&ptl, f->sim, &class_ptl, "pte_ptl");
	mmn_srcu_init(&ss, f->sim, "notifier_srcu");
	mmn_down_write(&mmap);
	idx = mmn_srcu_read_lock(&ss);
	mmn_spin_lock_nested(&ptl, 1);
	assert_int_equal(mmn_lockdep_depth(f->sim), 3);
	mmn_lockdep_held_text(f->sim, buf, sizeof(buf));
	assert_string_equal(buf, "  #0: mmap_lock (mmap_lock) write\n"
				 "  #1: notifier_srcu (srcu) srcu read\n"
				 "  #2: pte_ptl (ptl) spin, subclass 1\n");
	mmn_spin_unlock(&ptl);
	mmn_srcu_read_unlock(&ss, idx);
	mmn_up_write(&mmap);
	assert_int_equal(mmn_check_total(f->sim), 0);
	mmn_rwsem_destroy(&mmap);
	mmn_spin_lock_destroy(&ptl);
	mmn_srcu_destroy(&ss);
}

/* ------------------------------------------------------------------ */
/* Scheduling-point hook                                               */
/* ------------------------------------------------------------------ */

#define MAX_EVENTS 64

struct hook_log {
	pthread_mutex_t lock;
	int n;
	struct mmn_sched_event ev[MAX_EVENTS];
	int depth, max_depth;
	struct mmn_spinlock *inner; /* taken from inside the hook, if set */
};

static void log_hook(struct mmn_sim *sim, const struct mmn_sched_event *ev, void *arg)
{
	struct hook_log *h = arg;

	(void)sim;
	pthread_mutex_lock(&h->lock);
	if (h->n < MAX_EVENTS)
		h->ev[h->n++] = *ev;
	if (++h->depth > h->max_depth)
		h->max_depth = h->depth;
	pthread_mutex_unlock(&h->lock);
	if (h->inner) {
		mmn_spin_lock(h->inner);
		mmn_spin_unlock(h->inner);
	}
	pthread_mutex_lock(&h->lock);
	h->depth--;
	pthread_mutex_unlock(&h->lock);
}

static void expect_event(struct hook_log *h, int i, enum mmn_sched_kind kind, const void *obj,
			 struct mmn_actor *actor)
{
	assert_true(i < h->n);
	assert_string_equal(mmn_sched_kind_name(h->ev[i].kind), mmn_sched_kind_name(kind));
	assert_ptr_equal(h->ev[i].obj, obj);
	assert_ptr_equal(h->ev[i].actor, actor);
}

static void run_hooked_ops(struct fixture *f, struct mmn_spinlock *s, struct mmn_srcu *ss)
{
	int idx;

	mmn_spin_lock(s);
	mmn_spin_unlock(s);
	idx = mmn_srcu_read_lock(ss);
	mmn_srcu_read_unlock(ss, idx);
	mmn_sched_point(f->sim, MMN_SCHED_EXPLICIT, f, "mine", 0x1000);
}

static void hook_sees_points(void **state)
{
	struct fixture *f = *state;
	struct hook_log h = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct mmn_spinlock s;
	struct mmn_srcu ss;
	struct mmn_actor *me = mmn_actor_current(f->sim);

	mmn_spin_lock_init(&s, f->sim, &class_a, "s");
	mmn_srcu_init(&ss, f->sim, "ss");
	assert_false(mmn_sched_hook_active(f->sim));
	mmn_sched_set_hook(f->sim, log_hook, &h);
	assert_true(mmn_sched_hook_active(f->sim));
	run_hooked_ops(f, &s, &ss);
	assert_int_equal(h.n, 5);
	expect_event(&h, 0, MMN_SCHED_LOCK, &s, me);
	assert_string_equal(h.ev[0].name, "s");
	expect_event(&h, 1, MMN_SCHED_UNLOCK, &s, me);
	expect_event(&h, 2, MMN_SCHED_SRCU_READ_LOCK, &ss, me);
	expect_event(&h, 3, MMN_SCHED_SRCU_READ_UNLOCK, &ss, me);
	expect_event(&h, 4, MMN_SCHED_EXPLICIT, f, me);
	assert_int_equal(h.ev[4].addr, 0x1000);
	/* Removed: nothing more. */
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_false(mmn_sched_hook_active(f->sim));
	run_hooked_ops(f, &s, &ss);
	assert_int_equal(h.n, 5);
	mmn_spin_lock_destroy(&s);
	mmn_srcu_destroy(&ss);
}

static void test_sched_hook_sees_points_with_actor_and_object(void **state)
{
	hook_sees_points(state);
}

static void test_sched_hook_sees_points_with_lockdep_off(void **state)
{
	hook_sees_points(state);
}

static void *hooked_trylock(void *arg)
{
	struct mmn_mutex *m = arg;

	if (mmn_mutex_trylock(m))
		mmn_mutex_unlock(m);
	return NULL;
}

static void test_sched_hook_reports_the_passing_actor(void **state)
{
	struct fixture *f = *state;
	struct hook_log h = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct mmn_mutex m;
	struct mmn_actor *a;

	mmn_mutex_init(&m, f->sim, &class_mutex, "m");
	mmn_sched_set_hook(f->sim, log_hook, &h);
	a = spawn(f, "other", hooked_trylock, &m);
	join(a);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	assert_int_equal(h.n, 2);
	expect_event(&h, 0, MMN_SCHED_LOCK, &m, a);
	expect_event(&h, 1, MMN_SCHED_UNLOCK, &m, a);
	assert_string_equal(mmn_actor_name(h.ev[0].actor), "other");
	mmn_mutex_destroy(&m);
}

static void test_sched_hook_is_not_reentered_from_itself(void **state)
{
	struct fixture *f = *state;
	struct hook_log h = { .lock = PTHREAD_MUTEX_INITIALIZER };
	struct mmn_spinlock outer, inner;

	mmn_spin_lock_init(&outer, f->sim, &class_a, "outer");
	mmn_spin_lock_init(&inner, f->sim, &class_b, "inner");
	h.inner = &inner;
	mmn_sched_set_hook(f->sim, log_hook, &h);
	mmn_spin_lock(&outer);
	mmn_spin_unlock(&outer);
	mmn_sched_set_hook(f->sim, NULL, NULL);
	/* Only the outer lock's points; the hook's own locking passed silently. */
	assert_int_equal(h.n, 2);
	assert_int_equal(h.max_depth, 1);
	expect_event(&h, 0, MMN_SCHED_LOCK, &outer, mmn_actor_current(f->sim));
	expect_event(&h, 1, MMN_SCHED_UNLOCK, &outer, mmn_actor_current(f->sim));
	mmn_spin_lock_destroy(&outer);
	mmn_spin_lock_destroy(&inner);
}

/* ------------------------------------------------------------------ */
/* Actors                                                              */
/* ------------------------------------------------------------------ */

static void *return_holding(void *arg)
{
	mmn_spin_lock(arg);
	return NULL;
}

static void *return_released(void *arg)
{
	mmn_spin_lock(arg);
	mmn_spin_unlock(arg);
	return NULL;
}

static void test_held_at_exit_reported_for_an_actor(void **state)
{
	struct fixture *f = *state;
	struct mmn_spinlock s1, s2;

	mmn_spin_lock_init(&s1, f->sim, &class_a, "s1");
	mmn_spin_lock_init(&s2, f->sim, &class_a, "s2");
	join(spawn(f, "tidy", return_released, &s1));
	assert_int_equal(nviol(f, MMN_VIOL_HELD_AT_EXIT), 0);
	join(spawn(f, "sloppy", return_holding, &s2));
	assert_int_equal(nviol(f, MMN_VIOL_HELD_AT_EXIT), 1);
	assert_string_equal(f->rec.last_actor[MMN_VIOL_HELD_AT_EXIT], "sloppy");
	assert_non_null(strstr(f->rec.last_detail[MMN_VIOL_HELD_AT_EXIT], "#0: s2 (class_a) spin"));
	/* s2 stays locked by the dead actor; it is not destroyed. */
	mmn_spin_lock_destroy(&s1);
}

static void *plain_return_holding(void *arg)
{
	struct mmn_srcu *ss = arg;

	(void)mmn_srcu_read_lock(ss);
	return NULL;
}

static void test_held_at_exit_reported_for_an_adopted_thread(void **state)
{
	struct fixture *f = *state;
	struct mmn_srcu ss;
	pthread_t t;

	mmn_srcu_init(&ss, f->sim, "ss");
	assert_int_equal(pthread_create(&t, NULL, plain_return_holding, &ss), 0);
	assert_int_equal(pthread_join(t, NULL), 0);
	assert_int_equal(nviol(f, MMN_VIOL_HELD_AT_EXIT), 1);
	assert_non_null(strstr(f->rec.last_detail[MMN_VIOL_HELD_AT_EXIT], "ss (srcu) srcu read"));
	/* The thread was unregistered at exit: grace periods still end. */
	mmn_synchronize_srcu(&ss);
	mmn_srcu_destroy(&ss);
}

static void *name_body(void *arg)
{
	struct mmn_sim *sim = arg;

	return (void *)mmn_actor_name(mmn_actor_current(sim));
}

static void test_actor_identity_and_join_rules(void **state)
{
	struct fixture *f = *state;
	struct mmn_actor *me = mmn_actor_current(f->sim);
	struct mmn_actor *a, *b;
	void *ret = NULL;

	assert_non_null(me);
	assert_ptr_equal(mmn_actor_current(f->sim), me);
	assert_int_equal(mmn_actor_id(me), 0);
	assert_string_equal(mmn_actor_name(me), "thread0");
	a = spawn(f, "cpu1", name_body, f->sim);
	b = spawn(f, NULL, name_body, f->sim);
	assert_int_equal(mmn_actor_join(a, &ret), 0);
	assert_string_equal(ret, "cpu1");
	assert_int_equal(mmn_actor_join(b, &ret), 0);
	assert_string_equal(ret, "actor2");
	assert_int_equal(mmn_actor_id(b), 2);
	assert_int_equal(mmn_actor_join(a, NULL), -EINVAL);   /* twice */
	assert_int_equal(mmn_actor_join(me, NULL), -EINVAL);  /* adopted */
	assert_null(mmn_actor_set_context(f->sim, "munmap"));
	assert_string_equal(mmn_actor_context(f->sim), "munmap");
	assert_string_equal(mmn_actor_set_context(f->sim, NULL), "munmap");
}

static void test_null_arguments_are_rejected_without_crashing(void **state)
{
	struct fixture *f = *state;
	struct mmn_actor *a = NULL;

	assert_int_equal(mmn_actor_spawn(NULL, "x", name_body, NULL, &a), -EINVAL);
	assert_int_equal(mmn_actor_spawn(f->sim, "x", NULL, NULL, &a), -EINVAL);
	assert_int_equal(mmn_actor_spawn(f->sim, "x", name_body, NULL, NULL), -EINVAL);
	assert_int_equal(mmn_actor_join(NULL, NULL), -EINVAL);
	assert_null(mmn_actor_current(NULL));
	assert_int_equal(mmn_actor_id(NULL), -1);
	assert_int_equal(mmn_spin_trylock(NULL), 0);
	assert_int_equal(mmn_mutex_trylock(NULL), 0);
	assert_int_equal(mmn_down_read_trylock(NULL), 0);
	assert_int_equal(mmn_down_write_trylock(NULL), 0);
	assert_int_equal(mmn_srcu_read_lock(NULL), -EINVAL);
	assert_int_equal(mmn_srcu_read_lock_held(NULL), -EINVAL);
	assert_int_equal(mmn_lockdep_is_held(NULL), -EINVAL);
	mmn_spin_lock(NULL);
	mmn_spin_unlock(NULL);
	mmn_mutex_lock(NULL);
	mmn_down_read(NULL);
	mmn_up_write(NULL);
	mmn_srcu_read_unlock(NULL, 0);
	mmn_synchronize_srcu(NULL);
	mmn_wait_for_completion(NULL);
	mmn_wake_up_all(NULL);
	mmn_sched_point(NULL, MMN_SCHED_EXPLICIT, NULL, NULL, 0);
	assert_string_equal(mmn_sched_kind_name(MMN_SCHED_NR_KINDS), "unknown");
	assert_string_equal(mmn_sched_kind_name(MMN_SCHED_PTE_READ), "pte_read");
	assert_int_equal(mmn_check_total(f->sim), 0);
}

/* Two simulations in one thread: actors and lockdep state are per sim. */
static void test_two_simulations_keep_separate_actors(void **state)
{
	struct fixture *f = *state;
	struct mmn_sim_config cfg;
	struct mmn_sim *other;
	struct mmn_actor *a1, *a2;

	mmn_sim_config_init(&cfg);
	cfg.nr_frames = 64;
	cfg.nr_huge_pages = 0;
	other = mmn_sim_create(&cfg);
	assert_non_null(other);
	a1 = mmn_actor_current(f->sim);
	a2 = mmn_actor_current(other);
	assert_ptr_not_equal(a1, a2);
	assert_ptr_equal(mmn_actor_current(f->sim), a1);
	assert_ptr_equal(mmn_actor_current(other), a2);
	mmn_sim_destroy(other);
	assert_ptr_equal(mmn_actor_current(f->sim), a1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
#define TOFF(fn) cmocka_unit_test_setup_teardown(fn, setup_nolockdep, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_spinlock_excludes_concurrent_actors),
		T(test_assert_held_fires_only_when_not_held),
		T(test_mutex_excludes_concurrent_actors),
		T(test_rwsem_write_excludes_concurrent_writers),
		TOFF(test_fast_paths_exclude_with_lockdep_off),
		T(test_spin_and_mutex_trylock_fail_when_held_succeed_when_free),
		T(test_rwsem_trylocks_follow_the_holders),
		T(test_rwsem_readers_share),
		T(test_rwsem_writer_waits_for_reader),
		T(test_rwsem_waiting_writer_blocks_new_readers),
		TOFF(test_rwsem_waiting_writer_blocks_new_readers),
		T(test_downgrade_admits_readers_but_keeps_writers_out),
		T(test_downgrade_wakes_a_waiting_reader),
		TOFF(test_downgrade_wakes_a_waiting_reader),
		T(test_writer_not_starved_by_reader_stream),
		T(test_rwsem_mixed_load_keeps_invariant_and_completes),
		TOFF(test_rwsem_mixed_load_keeps_invariant_and_completes),
		T(test_seqcount_retry_detects_a_write),
		T(test_seqcount_read_begin_waits_for_the_writer),
		T(test_completion_releases_its_waiter),
		T(test_complete_all_releases_everyone_until_reinit),
		T(test_wait_event_returns_only_when_woken_with_condition_true),
		T(test_synchronize_waits_for_a_reader_on_another_actor),
		TOFF(test_synchronize_waits_for_a_reader_on_another_actor),
		T(test_call_srcu_runs_after_readers_and_barrier_waits_for_it),
		TOFF(test_call_srcu_runs_after_readers_and_barrier_waits_for_it),
		T(test_threads_are_registered_without_a_registration_call),
		T(test_synchronize_inside_own_read_section_reported_and_returns),
		T(test_synchronize_inside_other_domain_read_section_reported),
		T(test_srcu_read_sections_nest_and_unbalanced_unlock_reported),
		T(test_mutex_under_spinlock_reports_sleep_in_atomic),
		T(test_mutex_alone_is_silent),
		T(test_rank_inversion_reported),
		T(test_rank_order_respected_is_silent),
		T(test_ab_ba_inversion_reported_once_with_the_earlier_order),
		T(test_transitive_cycle_reported),
		T(test_consistent_order_is_silent),
		T(test_srcu_section_does_not_create_order_edges),
		T(test_classes_beyond_the_table_are_untracked),
		T(test_held_stack_overflow_is_tolerated),
		T(test_recursive_lock_reported_and_skipped),
		T(test_unlock_of_a_lock_not_held_reported),
		T(test_might_sleep_in_non_block_section_reported),
		T(test_same_class_nesting_needs_a_subclass),
		TOFF(test_lockdep_off_reports_nothing_and_is_held_unsupported),
		T(test_held_text_lists_the_stack),
		T(test_sched_hook_sees_points_with_actor_and_object),
		TOFF(test_sched_hook_sees_points_with_lockdep_off),
		T(test_sched_hook_reports_the_passing_actor),
		T(test_sched_hook_is_not_reentered_from_itself),
		T(test_held_at_exit_reported_for_an_actor),
		T(test_held_at_exit_reported_for_an_adopted_thread),
		T(test_actor_identity_and_join_rules),
		T(test_null_arguments_are_rejected_without_crashing),
		T(test_two_simulations_keep_separate_actors),
	};

	return cmocka_run_group_tests_name("sync", tests, NULL, NULL);
}
