// SPDX-License-Identifier: MIT
/*
 * Actors and the per-simulation state of the sync layer.
 *
 * An actor is a thread's identity within one simulation: the CPU, device
 * engine or vCPU in whose name it locks, faults and reports. Under the
 * native backend each actor is a host thread. mmn_actor_spawn() creates one;
 * any other thread becomes one ("threadN") the first time it needs an
 * identity in a simulation, so research code may use its own threads.
 *
 * Lookup: the thread's last (sim, actor) pair sits in an initial-exec TLS
 * slot, so the common case costs two compares; otherwise a per-simulation
 * pthread key holds the thread's actor. A user-level actor of the
 * deterministic backend shares its host thread with others: the switch
 * (det_context.c) replaces the pair, and the actor-local block it makes
 * current names the actor for a miss. The key's destructor reports an
 * actor whose thread ends with locks held, as the kernel's lockdep does when
 * a task exits holding locks (debug_check_no_locks_held()).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

__thread struct sync_tls_cache mmn__tls __attribute__((tls_model("initial-exec")));

struct mmn_actor mmn__owner_anon = { .id = -1, .name = "?" };

/* The thread's simulation for code that names none (mmn_sim_current()):
 * set while a spawned actor's body runs, or by mmn_sim_set_current(). */
static __thread struct mmn_sim *sync_cur_sim;

/* Never 0, so a zeroed TLS cache never matches a live simulation. */
static unsigned long sync_serial_next;

static void actor_cache(struct mmn_sim *sim, struct mmn_actor *a)
{
	mmn__tls.sim = sim;
	mmn__tls.serial = sim->sync->serial;
	mmn__tls.actor = a;
}

struct mmn_actor *mmn__actor_new(struct mmn_sim *sim, const char *name, const char *prefix)
{
	struct mmn_sync_state *st = sim->sync;
	struct mmn_actor *a = calloc(1, sizeof(*a));

	if (!a)
		return NULL;
	a->sim = sim;
	a->det.idx = -1;
	pthread_mutex_lock(&st->actors_lock);
	a->id = st->next_actor_id++;
	a->next = st->actors;
	st->actors = a;
	pthread_mutex_unlock(&st->actors_lock);
	/* A bounded copy: snprintf("%s") costs more than the rest of the
	 * actor's creation, once per actor per schedule. */
	if (name)
		mmn__strscpy(a->name, sizeof(a->name), name);
	else
		snprintf(a->name, sizeof(a->name), "%s%d", prefix, a->id);
	return a;
}

/* A new actor that will run @fn(@arg) on a thread of its own. */
struct mmn_actor *mmn__actor_new_spawned(struct mmn_sim *sim, const char *name, mmn_actor_fn fn,
					 void *arg)
{
	struct mmn_actor *a = mmn__actor_new(sim, name, "actor");

	if (!a)
		return NULL;
	a->spawned = true;
	a->fn = fn;
	a->arg = arg;
	return a;
}

struct mmn_actor *mmn__actor_slow(struct mmn_sim *sim)
{
	struct mmn_sync_state *st = sim->sync;
	struct mmn__local *l = mmn__local_cur;
	struct mmn_actor *a = l ? l->owner : NULL;

	/* A user-level actor (det_context.c) is not its host thread's key. */
	if (a && a->sim == sim) {
		actor_cache(sim, a);
		return a;
	}
	a = pthread_getspecific(st->key);

	if (!a) {
		a = mmn__actor_new(sim, NULL, "thread");
		if (!a)
			return NULL;
		/* On failure the actor stays listed (freed at fini); the thread
		 * just gets a fresh one on its next cache miss. */
		(void)pthread_setspecific(st->key, a);
	}
	actor_cache(sim, a);
	return a;
}

/*
 * The end of an actor's thread: report locks and read sections it still
 * holds. They stay held (a real exited task would leave them so too); the
 * report is what matters, and other actors see the consequences.
 */
void mmn__actor_exit(struct mmn_actor *a)
{
	struct mmn_sim *sim = a->sim;

	if (__atomic_exchange_n(&a->exited, 1, __ATOMIC_ACQ_REL))
		return;
	if (sim->sync->lockdep && (a->depth > 0 || a->overflow > 0)) {
		char msg[128];
		char detail[4096];
		struct mmn_violation v = {
			.kind = MMN_VIOL_HELD_AT_EXIT,
			.actor_id = a->id,
			.actor_name = a->name,
			.op = a->context,
			.msg = msg,
			.detail = detail,
		};

		snprintf(msg, sizeof(msg), "actor %s ended holding %d lock(s) or SRCU read section(s)",
			 a->name, a->depth + a->overflow);
		mmn__ld_held_text(a, detail, sizeof(detail));
		/* A handler that looks the actor up must find this one. */
		actor_cache(sim, a);
		mmn_report(sim, &v);
	}
	if (mmn__tls.actor == a)
		memset(&mmn__tls, 0, sizeof(mmn__tls));
}

void mmn__actor_bind(struct mmn_sim *sim, struct mmn_actor *a)
{
	(void)pthread_setspecific(sim->sync->key, a);
	actor_cache(sim, a);
}

/* Unlist and free an actor whose thread has been joined (det_run.c, run end). */
void mmn__actor_forget(struct mmn_sim *sim, struct mmn_actor *a)
{
	struct mmn_sync_state *st = sim->sync;
	struct mmn_actor **pp;

	pthread_mutex_lock(&st->actors_lock);
	for (pp = &st->actors; *pp; pp = &(*pp)->next) {
		if (*pp == a) {
			*pp = a->next;
			break;
		}
	}
	pthread_mutex_unlock(&st->actors_lock);
	free(a);
}

/* Key destructor: the thread of an adopted (or pthread_exit()ed) actor ends. */
static void actor_key_dtor(void *p)
{
	mmn__actor_exit(p);
}

static void *actor_trampoline(void *p)
{
	struct mmn_actor *a = p;
	struct mmn_sim *sim = a->sim;

	(void)pthread_setspecific(sim->sync->key, a);
	actor_cache(sim, a);
	sync_cur_sim = sim;
	a->ret = a->fn(a->arg);
	mmn__actor_exit(a);
	return a->ret;
}

int mmn_actor_spawn(struct mmn_sim *sim, const char *name, mmn_actor_fn fn, void *arg,
		    struct mmn_actor **out)
{
	struct mmn_actor *a;
	int err;

	if (!sim || !fn || !out)
		return -EINVAL;
	/* Backend dispatch point. */
	if (!sync_native(sim))
		return mmn__det_spawn(sim, name, fn, arg, out);
	a = mmn__actor_new_spawned(sim, name, fn, arg);
	if (!a)
		return -ENOMEM;
	err = pthread_create(&a->thread, NULL, actor_trampoline, a);
	if (err) {
		/* A dead actor: listed until fini, never joinable. */
		a->exited = 1;
		a->joined = 1;
		return -err;
	}
	*out = a;
	return 0;
}

int mmn_actor_join(struct mmn_actor *actor, void **retval)
{
	void *r;
	int err;

	if (!actor || !actor->spawned)
		return -EINVAL;
	/* Backend dispatch point. */
	if (!sync_native(actor->sim))
		return mmn__det_join(actor, retval);
	if (__atomic_exchange_n(&actor->joined, 1, __ATOMIC_ACQ_REL))
		return -EINVAL;
	err = pthread_join(actor->thread, &r);
	if (err)
		return -err;
	if (retval)
		*retval = r;
	return 0;
}

struct mmn_actor *mmn_actor_current(struct mmn_sim *sim)
{
	if (!sim)
		return NULL;
	return sync_actor(sim);
}

int mmn_actor_id(const struct mmn_actor *actor)
{
	return actor ? actor->id : -1;
}

const char *mmn_actor_name(const struct mmn_actor *actor)
{
	return actor ? actor->name : "?";
}

const char *mmn_actor_set_context(struct mmn_sim *sim, const char *ctx)
{
	struct mmn_actor *a;
	const char *prev;

	if (!sim)
		return NULL;
	a = sync_actor(sim);
	if (!a)
		return NULL;
	prev = a->context;
	a->context = ctx;
	return prev;
}

const char *mmn_actor_context(struct mmn_sim *sim)
{
	struct mmn_actor *a;

	if (!sim)
		return NULL;
	a = sync_actor(sim);
	return a ? a->context : NULL;
}

/* lib/check's describe callback: the reporting actor and its context. */
static void actor_describe(struct mmn_sim *sim, struct mmn_violation *v)
{
	if (!v->actor_name) {
		struct mmn_actor *a = mmn_actor_current(sim);

		v->actor_id = a ? mmn_actor_id(a) : -1;
		v->actor_name = a ? mmn_actor_name(a) : "?";
	}
	if (!v->op)
		v->op = mmn_actor_context(sim);
}

int mmn_sync_sim_init(struct mmn_sim *sim)
{
	struct mmn_sync_state *st;
	int err;

	if (!sim)
		return -EINVAL;
	if (sim->cfg.backend != MMN_BACKEND_NATIVE && sim->cfg.backend != MMN_BACKEND_DETERMINISTIC)
		return -EOPNOTSUPP;
	st = calloc(1, sizeof(*st));
	if (!st)
		return -ENOMEM;
	st->sim = sim;
	st->lockdep = sim->cfg.lockdep;
	st->slow = st->lockdep;
	st->serial = __atomic_add_fetch(&sync_serial_next, 1, __ATOMIC_RELAXED);
	err = pthread_key_create(&st->key, actor_key_dtor);
	if (err) {
		free(st);
		return -err;
	}
	pthread_mutex_init(&st->actors_lock, NULL);
	pthread_mutex_init(&st->srcu_list_lock, NULL);
	err = mmn__ld_state_init(st);
	if (!err && !sync_native(sim)) {
		/* Every primitive takes its slow path, and every point goes
		 * to the scheduler through the hook slot. */
		err = mmn__det_init(st);
		if (err)
			mmn__ld_state_fini(st);
		st->slow = 1;
		st->hook = mmn__det_hook;
	}
	if (err) {
		pthread_mutex_destroy(&st->srcu_list_lock);
		pthread_mutex_destroy(&st->actors_lock);
		pthread_key_delete(st->key);
		free(st);
		return err;
	}
	sim->sync = st;
	mmn__check_set_describe(sim, actor_describe);
	if (st->det)
		mmn__check_set_observer(sim, mmn__det_observe);
	return 0;
}

void mmn_sync_sim_fini(struct mmn_sim *sim)
{
	struct mmn_sync_state *st;
	struct mmn_actor *a, *next;

	if (!sim || !sim->sync)
		return;
	st = sim->sync;
	mmn__srcu_sim_fini(sim);
	/* After this no destructor of this sim runs; threads that outlive the
	 * sim keep a stale value glibc never hands out again. */
	pthread_key_delete(st->key);
	for (a = st->actors; a; a = next) {
		next = a->next;
		/* A spawned actor nobody joined may still be running on this
		 * memory: leak it rather than free it under the thread. */
		if (a->spawned && !__atomic_load_n(&a->joined, __ATOMIC_ACQUIRE))
			continue;
		free(a);
	}
	if (mmn__tls.sim == sim)
		memset(&mmn__tls, 0, sizeof(mmn__tls));
	if (sync_cur_sim == sim)
		sync_cur_sim = NULL;
	mmn__ld_state_fini(st);
	if (st->det)
		mmn__det_fini(st);
	/* Domains still listed were not destroyed: their memory may be gone,
	 * so the list is dropped untouched (sync.h asks for the destroy). */
	pthread_mutex_destroy(&st->srcu_list_lock);
	pthread_mutex_destroy(&st->actors_lock);
	free(st);
	sim->sync = NULL;
	mmn__check_set_observer(sim, NULL);
	mmn__check_set_describe(sim, NULL);
}

/* A deterministic run's actor (det_actor.c) starts its body here too. */
void mmn__sync_enter_actor(struct mmn_sim *sim)
{
	sync_cur_sim = sim;
}

struct mmn_sim *mmn_sim_current(void)
{
	struct mmn__local *l = mmn__local_cur;
	struct mmn_actor *a = l ? l->owner : NULL;

	/* A user-level actor shares its host thread with others: its own. */
	if (a && a != SYNC_OWNER_ANON)
		return a->sim;
	return sync_cur_sim;
}

struct mmn_sim *mmn_sim_set_current(struct mmn_sim *sim)
{
	struct mmn_sim *old = sync_cur_sim;

	sync_cur_sim = sim;
	return old;
}

unsigned long mmn_sim_serial(const struct mmn_sim *sim)
{
	return sim && sim->sync ? sim->sync->serial : 0;
}
