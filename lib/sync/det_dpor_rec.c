// SPDX-License-Identifier: MIT
/*
 * What each step of a deterministic run touches, for dynamic partial-order
 * reduction (det_dpor.c). Recorded only when the run's configuration asks
 * (mmn_sched_config::record_access, set by the DPOR explorer): every other
 * run pays one test of d->rec per scheduling decision.
 *
 * A step is the code an actor runs from one scheduling decision to the
 * next. What it touches is read off the scheduling points that bound it:
 * a point of a "before" kind (lock, srcu_read_lock, srcu_sync, wait,
 * pte_read, tlb_fill, tlb_flush, callback_enter) announces what the step
 * that follows it touches; a point of an "after" kind (unlock,
 * srcu_read_unlock, wake, pte_write, callback_exit) closes a step that
 * touched its object. To these are added the keys a step blocks on or
 * wakes, the actors it spawns or joins, the frames it frees or a device
 * accesses, and what user code declares with mmn_sched_access(). A step
 * that begins at an explicit point (mmn_sched_point(MMN_SCHED_EXPLICIT),
 * mmn_sched_yield()) and declares nothing is dependent with every step.
 * This rests on the library's discipline that shared state is touched
 * only next to the point that names it (docs/exploration.md, "DPOR").
 */
#include <string.h>
#include <stdlib.h>

#include <mmnsim/sched.h>

#include "det.h"

void mmn__det_rec_reset(struct sync_det *d, bool rec)
{
	d->rec = rec;
	d->rec_cut = false;
	d->nrsteps = 0;
}

static struct det_step *rec_cur(struct sync_det *d)
{
	if (!d->rec || d->rec_cut || !d->nrsteps)
		return NULL;
	return &d->rsteps[d->nrsteps - 1];
}

static void rec_add(struct det_step *s, const void *obj, int cls, bool write)
{
	for (unsigned int i = 0; i < s->nacc; i++) {
		struct det_acc *e = &s->acc[i];

		if (e->obj == obj && e->cls == cls) {
			e->write |= write;
			return;
		}
	}
	if (s->nacc == DET_STEP_ACC) {
		s->all = true; /* too much to list: dependent with everything */
		return;
	}
	s->acc[s->nacc++] = (struct det_acc){ .obj = obj, .cls = (unsigned char)cls,
					      .write = write };
}

void mmn__det_rec_touch(struct sync_det *d, const void *obj, int cls, bool write)
{
	struct det_step *s = rec_cur(d);

	if (s)
		rec_add(s, obj, cls, write);
}

/* The class and mode of a point's object; *before: it announces the next
 * step (else it closes the current one); false for an explicit point. */
static bool rec_kind(enum mmn_sched_kind kind, const char *name, int *cls, bool *write,
		     bool *before)
{
	*cls = DET_C_OBJ;
	*write = true;
	*before = true;
	switch (kind) {
	case MMN_SCHED_LOCK:
	case MMN_SCHED_SRCU_SYNC:
	case MMN_SCHED_WAIT:
	case MMN_SCHED_CALLBACK_ENTER:
		return true;
	case MMN_SCHED_SRCU_READ_LOCK:
		*write = false;
		return true;
	case MMN_SCHED_UNLOCK:
	case MMN_SCHED_WAKE:
	case MMN_SCHED_CALLBACK_EXIT:
		*before = false;
		return true;
	case MMN_SCHED_SRCU_READ_UNLOCK:
		*write = false;
		*before = false;
		return true;
	case MMN_SCHED_PTE_READ:
		/* pgtable_walk names the mm: it reads some PTE of it */
		*cls = name && !strcmp(name, "pgtable_walk") ? DET_C_WALK : DET_C_PTE;
		*write = false;
		return true;
	case MMN_SCHED_PTE_WRITE:
		*cls = DET_C_PTE;
		*before = false;
		return true;
	case MMN_SCHED_TLB_FILL:
		*cls = DET_C_WALK; /* walks the page table, writes the TLB */
		return true;
	case MMN_SCHED_TLB_FLUSH:
		*cls = DET_C_FLUSH;
		return true;
	default:
		return false;
	}
}

void mmn__det_rec_point(struct sync_det *d, struct mmn_actor *a, enum mmn_sched_kind kind,
			const void *obj, const char *name)
{
	bool write, before;
	int cls;

	if (!d->rec || d->rec_cut)
		return;
	if (d->draining) {
		d->rec_cut = true;
		return;
	}
	a->det.pend_obj = NULL;
	a->det.pend_vague = false;
	if (!rec_kind(kind, name, &cls, &write, &before) || a->det.yielding) {
		a->det.pend_vague = true;
		return;
	}
	if (!before) {
		mmn__det_rec_touch(d, obj, cls, write);
		return;
	}
	a->det.pend_obj = obj;
	a->det.pend_cls = (unsigned char)cls;
	a->det.pend_write = write;
}

void mmn__det_rec_open(struct sync_det *d, struct mmn_actor *next)
{
	struct det_step *s;
	unsigned int n = 0;

	if (!d->rec || d->rec_cut || !next)
		return;
	if (d->draining) {
		d->rec_cut = true;
		return;
	}
	if (d->nrsteps == d->cap_rsteps) {
		size_t cap = d->cap_rsteps ? d->cap_rsteps * 2 : 1024;
		struct det_step *p = realloc(d->rsteps, cap * sizeof(*p));

		if (!p) {
			d->rec_cut = true; /* the explorer sees a cut record: bounded */
			return;
		}
		d->rsteps = p;
		d->cap_rsteps = cap;
	}
	s = &d->rsteps[d->nrsteps++];
	memset(s, 0, sizeof(*s));
	s->actor = next->det.idx;
	s->cur = -1;
	for (unsigned int i = 0; i < d->nact && i < 64; i++) {
		struct mmn_actor *a = d->act[i];

		if (a->det.state != SYNC_DET_RUNNABLE)
			continue;
		s->mask |= 1ULL << i;
		n++;
	}
	if (d->cur && d->cur->det.state == SYNC_DET_RUNNABLE)
		s->cur = d->cur->det.idx;
	s->choice = n >= 2 ? (int32_t)d->nchoices - 1 : -1;
	s->vague = next->det.pend_vague;
	if (next->det.pend_obj)
		rec_add(s, next->det.pend_obj, next->det.pend_cls, next->det.pend_write);
}

void mmn__det_rec_block(struct sync_det *d, struct mmn_actor *a, const void *key)
{
	struct det_step *s = rec_cur(d);

	if (!s)
		return;
	/* A step that did nothing but find its object taken is a failed
	 * attempt: no effect, it only tells DPOR whom it waited for. */
	s->phantom = !s->vague && !s->declared && !s->all &&
		     (s->nacc == 0 || (s->nacc == 1 && s->acc[0].obj == a->det.pend_obj));
	s->blocked = true;
	rec_add(s, key, DET_C_OBJ, true);
	/* Woken, it tries again: the same object. */
	a->det.pend_obj = key;
	a->det.pend_cls = DET_C_OBJ;
	a->det.pend_write = true;
	a->det.pend_vague = false;
}

void mmn__det_rec_spawn(struct sync_det *d, struct mmn_actor *a)
{
	/* Its first step runs after the spawn: both touch the new actor, as a
	 * spawn (a join, which touches the actor's end, is not ordered with
	 * the first step unless that step ends the actor). */
	a->det.pend_obj = a;
	a->det.pend_cls = DET_C_SPAWN;
	a->det.pend_write = true;
	a->det.pend_vague = false;
	mmn__det_rec_touch(d, a, DET_C_SPAWN, true);
}

bool mmn__det_acc_conflict(const struct det_acc *e, const struct det_acc *f, bool same)
{
	int a = e->cls, b = f->cls;

	if (a > b) {
		const struct det_acc *t = e;

		e = f;
		f = t;
		a = e->cls;
		b = f->cls;
	}
	/* One object touched alike, one of them writing. Frames and wakes
	 * have their own rules below. */
	if (same && a == b && a != DET_C_FRAME && a != DET_C_WAKE && (e->write || f->write))
		return true;
	/* A wake makes the key's waiters runnable: ordered with a block on
	 * the key (and a lock step of it), not with another wake, as waking
	 * twice is waking once in either order. */
	if (a == DET_C_OBJ && b == DET_C_WAKE)
		return same;
	/* A walk or fill reads PTEs of an mm the slot may belong to; a flush
	 * drops what a fill of any CPU or device may have loaded. */
	if (a == DET_C_PTE && b == DET_C_WALK)
		return e->write;
	if (a == DET_C_PTE && b == DET_C_FLUSH)
		return e->write;
	if (a == DET_C_WALK && b == DET_C_FLUSH)
		return true;
	/* A frame by its pfn; an unknown one (a free) is any frame. */
	if (a == DET_C_FRAME && b == DET_C_FRAME)
		return (e->write || f->write) && (same || !e->obj || !f->obj);
	return false;
}

bool mmn__det_dependent(const struct det_step *x, const struct det_step *y)
{
	if (x->all || y->all || (x->vague && !x->declared) || (y->vague && !y->declared))
		return true;
	for (unsigned int i = 0; i < x->nacc; i++)
		for (unsigned int j = 0; j < y->nacc; j++)
			if (mmn__det_acc_conflict(&x->acc[i], &y->acc[j],
						  x->acc[i].obj == y->acc[j].obj))
				return true;
	return false;
}

/*
 * The step that begins at an rwsem's lock point takes it for reading: two
 * readers' increments of the count commute (an unlock, a writer, a wake of
 * the rwsem and a failed attempt stay dependent with them: they write).
 */
void mmn__det_rec_read_lock(struct mmn_sim *sim, const void *sem)
{
	struct sync_det *d = sim && sim->sync ? sim->sync->det : NULL;
	struct mmn_actor *a;
	struct det_step *s;

	if (!d || !__atomic_load_n(&d->rec, __ATOMIC_RELAXED))
		return;
	a = mmn_actor_current(sim);
	pthread_mutex_lock(&d->m);
	s = d->running && a && d->cur == a ? rec_cur(d) : NULL;
	if (s && s->actor == a->det.idx && s->nacc == 1 && s->acc[0].obj == sem &&
	    s->acc[0].cls == DET_C_OBJ)
		s->acc[0].write = false;
	pthread_mutex_unlock(&d->m);
}

void mmn_sched_access(struct mmn_sim *sim, const void *obj, unsigned int mode)
{
	struct sync_det *d;
	struct mmn_actor *a;
	struct det_step *s;

	if (!sim || !sim->sync || !(d = sim->sync->det))
		return;
	if (!__atomic_load_n(&d->rec, __ATOMIC_RELAXED))
		return;
	a = mmn_actor_current(sim);
	pthread_mutex_lock(&d->m);
	s = d->running && a && d->cur == a ? rec_cur(d) : NULL;
	if (s) {
		s->declared = true;
		if (obj)
			rec_add(s, obj, DET_C_OBJ, (mode & MMN_SCHED_ACCESS_WRITE) != 0);
		else
			s->all = true;
	}
	pthread_mutex_unlock(&d->m);
}
