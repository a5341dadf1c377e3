// SPDX-License-Identifier: MIT
/*
 * Unwinding under the deterministic backend. What each actor holds is kept
 * beside lockdep's stack (mmn__det_held_push/pop); at the end of a run the
 * controller hands the token with the abort flag to every actor that has not
 * ended, its wait longjmps back to its start routine, and everything it
 * holds is released here, newest first, without scheduling points.
 */
#include <string.h>

#include <mmnsim/sched.h>

#include "det.h"

void mmn__det_held_push(struct mmn_actor *a, const void *obj, enum sync_kind kind, bool read,
			int idx)
{
	struct sync_det_held *h;

	if (a->det.nheld >= SYNC_MAX_HELD)
		return; /* untracked: not released at unwinding, not in reports */
	h = &a->det.held[a->det.nheld++];
	h->obj = obj;
	h->kind = (unsigned char)kind;
	h->read = read;
	h->idx = (signed char)idx;
}

int mmn__det_held_pop(struct mmn_actor *a, const void *obj, int read, int idx)
{
	for (int i = a->det.nheld - 1; i >= 0; i--) {
		struct sync_det_held *h = &a->det.held[i];
		int r;

		if (h->obj != obj || (read >= 0 && h->read != (read != 0)))
			continue;
		if (idx >= 0 && h->idx != idx)
			continue;
		r = h->idx;
		memmove(h, h + 1, (size_t)(a->det.nheld - i - 1) * sizeof(*h));
		a->det.nheld--;
		return r;
	}
	return -2;
}

#define DET_RWSEM_WRITER 1L
#define DET_RWSEM_READER 4L
#define DET_RWSEM_READ_MASK (~3L)

/* Release everything an unwound actor holds, newest first, without points. */
static void det_release_all(struct mmn_actor *a)
{
	struct mmn_sim *sim = a->sim;

	for (int i = a->det.nheld - 1; i >= 0; i--) {
		const struct sync_det_held *h = &a->det.held[i];

		switch (h->kind) {
		case SYNC_KIND_SPIN:
		case SYNC_KIND_MUTEX: {
			/* spinlock and mutex share their layout */
			struct mmn_mutex *l = (struct mmn_mutex *)(uintptr_t)h->obj;

			if (l->owner == a)
				l->owner = NULL;
			break;
		}
		case SYNC_KIND_RWSEM: {
			struct mmn_rwsem *s = (struct mmn_rwsem *)(uintptr_t)h->obj;

			if (h->read) {
				if (s->count & DET_RWSEM_READ_MASK)
					s->count -= DET_RWSEM_READER;
			} else if (s->owner == a) {
				s->count &= ~DET_RWSEM_WRITER;
				s->owner = NULL;
			}
			break;
		}
		case SYNC_KIND_SRCU: {
			struct mmn_srcu *ss = (struct mmn_srcu *)(uintptr_t)h->obj;

			if (h->idx >= 0 && h->idx < 2 && ss->det_ctr[h->idx] > 0) {
				ss->det_ctr[h->idx]--;
				mmn__det_wake(sim, &ss->det_ctr[h->idx]);
			}
			continue;
		}
		default:
			continue;
		}
		mmn__det_wake(sim, h->obj);
	}
	a->det.nheld = 0;
	if (a->det.gp_ss) {
		a->det.gp_ss->det_gp = false;
		mmn__det_wake(sim, &a->det.gp_ss->det_gp);
		a->det.gp_ss = NULL;
	}
	/* Its lockdep state goes with it: no HELD_AT_EXIT for an unwound actor. */
	a->depth = 0;
	a->overflow = 0;
	a->atomic = 0;
	a->non_block = 0;
	a->in_callback = 0;
}

void *mmn__det_unwound(struct mmn_actor *a)
{
	struct sync_det *d = det_of(a->sim);

	det_release_all(a);
	if (a->sim->actor_unwound_hook)
		a->sim->actor_unwound_hook(a->sim);
	__atomic_store_n(&a->exited, 1, __ATOMIC_RELEASE);
	a->ret = NULL;
	pthread_mutex_lock(&d->m);
	a->det.state = SYNC_DET_ENDED;
	mmn__det_trace(d, "%6lu %-8s %s\n", d->steps, a->name, "unwound");
	d->unwound++;
	mmn__det_give(d, NULL, DET_BACK_UNWOUND);
	pthread_mutex_unlock(&d->m);
	return NULL;
}

void mmn__det_unwind_all(struct sync_det *d)
{
	for (unsigned int i = 0; i < d->nact; i++) {
		struct mmn_actor *a = d->act[i];

		if (a->det.state == SYNC_DET_ENDED)
			continue;
		a->det.abort = true;
		d->back = DET_BACK_NONE;
		mmn__det_give(d, a, 0);
		while (d->back != DET_BACK_UNWOUND) {
			if (d->contexts)
				mmn__det_switch(d, &d->ctl_ctx);
			else
				pthread_cond_wait(&d->ctl, &d->m);
		}
	}
}
