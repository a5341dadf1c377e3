// SPDX-License-Identifier: MIT
/*
 * Lockdep-like checks, modelled on the kernel's lock validator
 * (kernel/locking/lockdep.c, all versions) in what it reports, not in how:
 *
 *  - each actor keeps a stack of the locks it holds (held_locks);
 *  - lock classes get small ids per simulation; "class B taken while class A
 *    is held" is an edge A -> B of an order graph, and a new edge that closes
 *    a cycle is a possible circular-locking deadlock, reported once per pair
 *    with the earlier order and who recorded it;
 *  - ranks encode the mm's fixed hierarchy (mmap_lock -> ... -> PTL), which
 *    the kernel documents in mm/rmap.c rather than checks: a ranked class
 *    taken while a higher-ranked class is held is reported at once, without
 *    waiting for the inverse order to show up;
 *  - taking a lock the actor already holds is a self-deadlock: reported and
 *    skipped so that the run continues (the kernel would hang);
 *  - a second lock of a held class without a nesting subclass is "possible
 *    recursive locking" (spin_lock_nested() says it is intended; so does
 *    down_write_nest_lock(), which may take any number of them);
 *  - sleeping calls under a spinlock or in a non-blocking section are
 *    might_sleep() splats.
 *
 * Simplifications: a class is one node whatever its subclass (nested
 * acquisitions of one class add no edge); trylocks add no edge and skip
 * the order checks (they cannot wait, so cannot deadlock), but a lock taken
 * by trylock is a "held" lock for later acquisitions, as in the kernel; SRCU
 * read sections are on the held stack (for depth, is_held and exit checks)
 * but outside the order graph, so "lock X in a read section" and
 * "synchronize while holding X" never make a false cycle.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "priv.h"

#define LD_DETAIL_LEN 6144

static const char *ld_class_name(const struct mmn_lock_class *cls)
{
	return cls && cls->name ? cls->name : "?";
}

const char *mmn__ld_map_name(const struct mmn_lockdep_map *map)
{
	return map->name ? map->name : ld_class_name(map->cls);
}

int mmn__ld_state_init(struct mmn_sync_state *st)
{
	pthread_mutex_init(&st->ld.lock, NULL);
	return 0;
}

void mmn__ld_state_fini(struct mmn_sync_state *st)
{
	pthread_mutex_destroy(&st->ld.lock);
	for (int i = 0; i < SYNC_MAX_CLASSES / SYNC_LD_CHUNK; i++)
		free(st->ld.rows[i]);
	free(st->ld.edges);
	st->ld.edges = NULL;
}

static size_t ld_hash_ptr(const void *p)
{
	uint64_t x = (uint64_t)(uintptr_t)p;

	x ^= x >> 33;
	x *= 0xff51afd7ed558ccdULL;
	x ^= x >> 33;
	return (size_t)x;
}

/* The matrix rows of the next class id exist (allocating their chunk);
 * false on ENOMEM, when the class goes untracked as if the table were full. */
static bool ld_rows_reserve(struct sync_lockdep *ld)
{
	int c = ld->nr_classes / SYNC_LD_CHUNK;
	struct sync_ld_row *rows;

	if (ld->rows[c])
		return true;
	rows = calloc(SYNC_LD_CHUNK, sizeof(*rows));
	if (!rows)
		return false;
	__atomic_store_n(&ld->rows[c], rows, __ATOMIC_RELEASE);
	return true;
}

/* Small id of @cls in this simulation, assigned on first sight; -1 when full. */
static int ld_class_id(struct mmn_sync_state *st, const struct mmn_lock_class *cls)
{
	struct sync_lockdep *ld = &st->ld;
	size_t i = ld_hash_ptr(cls) & (SYNC_CLASS_HASH - 1);
	int id = -1;

	pthread_mutex_lock(&ld->lock);
	for (int n = 0; n < SYNC_CLASS_HASH; n++, i = (i + 1) & (SYNC_CLASS_HASH - 1)) {
		int e = ld->class_hash[i];

		if (e == 0) {
			if (ld->nr_classes < SYNC_MAX_CLASSES && ld_rows_reserve(ld)) {
				id = ld->nr_classes++;
				ld->classes[id] = cls;
				ld->class_hash[i] = (int16_t)(id + 1);
			}
			break;
		}
		if (ld->classes[e - 1] == cls) {
			id = e - 1;
			break;
		}
	}
	pthread_mutex_unlock(&ld->lock);
	return id;
}

void mmn__ld_map_init(struct mmn_lockdep_map *map, struct mmn_sim *sim,
		      const struct mmn_lock_class *cls, const char *name)
{
	map->sim = sim;
	map->cls = cls;
	map->name = name ? name : (cls && cls->name ? cls->name : NULL);
	map->class_id = (sim->sync->lockdep && cls) ? ld_class_id(sim->sync, cls) : -1;
}

/*
 * The destroy of a modelled lock: a lock destroyed while held (its holder
 * would unlock freed host resources) or destroyed twice (class_id poisoned
 * by the first destroy, until a re-init) is reported as MMN_VIOL_PROTOCOL
 * and left as it is: returns true, and the caller skips the host destroy,
 * whose double call or call on a locked mutex is undefined behaviour. A lock
 * whose memory the caller freed cannot be checked (sync.h).
 */
bool mmn__ld_map_destroy(struct mmn_lockdep_map *map, bool held, const char *what)
{
	const char *why = NULL;

	if (map->class_id == MMN__LD_CLASS_DESTROYED)
		why = "destroyed twice";
	else if (held)
		why = "destroyed while held";
	if (!why) {
		map->class_id = MMN__LD_CLASS_DESTROYED;
		return false;
	}
	if (map->sim)
		mmn_reportf(map->sim, MMN_VIOL_PROTOCOL, 0, 0, "%s %s %s", what,
			    mmn__ld_map_name(map) ? mmn__ld_map_name(map) : "?", why);
	return true;
}

/* ------------------------------------------------------------------ */
/* Held stack                                                          */
/* ------------------------------------------------------------------ */

int mmn__ld_find(const struct mmn_actor *a, const struct mmn_lockdep_map *map)
{
	for (int i = a->depth - 1; i >= 0; i--)
		if (a->held[i].map == map)
			return i;
	return -1;
}

static const char *ld_mode(const struct sync_held *h)
{
	switch (h->kind) {
	case SYNC_KIND_SPIN:
		return "spin";
	case SYNC_KIND_MUTEX:
		return "mutex";
	case SYNC_KIND_RWSEM:
		return h->read ? "read" : "write";
	case SYNC_KIND_SRCU:
		return "srcu read";
	default:
		return "?";
	}
}

char *mmn__ld_held_text(const struct mmn_actor *a, char *buf, size_t len)
{
	size_t n = 0;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	for (int i = 0; i < a->depth; i++) {
		const struct sync_held *h = &a->held[i];
		const struct mmn_lockdep_map *m = h->map;
		char sub[24] = "";
		int w;

		if (h->subclass)
			snprintf(sub, sizeof(sub), ", subclass %u", h->subclass);
		w = snprintf(buf + n, len - n, "  #%d: %s (%s) %s%s%s\n", i, mmn__ld_map_name(m),
			     h->kind == SYNC_KIND_SRCU ? "srcu" : ld_class_name(m->cls), ld_mode(h),
			     sub, h->phantom ? ", recursive (skipped)" : "");
		if (w < 0 || (size_t)w >= len - n)
			return buf;
		n += (size_t)w;
	}
	if (a->overflow)
		snprintf(buf + n, len - n, "  ... and %d more, untracked (stack full)\n",
			 a->overflow);
	return buf;
}

char *mmn_lockdep_held_text(struct mmn_sim *sim, char *buf, size_t len)
{
	struct mmn_actor *a;

	if (!buf || !len)
		return buf;
	buf[0] = '\0';
	if (!sim || !sim->sync->lockdep)
		return buf;
	a = sync_actor(sim);
	if (a)
		mmn__ld_held_text(a, buf, len);
	return buf;
}

void mmn__ld_push(struct mmn_actor *a, const struct mmn_lockdep_map *map, unsigned int subclass,
		  enum sync_kind kind, bool read, bool phantom)
{
	struct sync_held *h;

	if (kind == SYNC_KIND_SPIN)
		a->atomic++;
	if (a->depth >= SYNC_MAX_HELD) {
		a->overflow++;
		return;
	}
	h = &a->held[a->depth++];
	h->map = map;
	h->class_id = (short)map->class_id;
	h->subclass = (unsigned char)(subclass > SYNC_MAX_SUBCLASS ? SYNC_MAX_SUBCLASS : subclass);
	h->kind = (unsigned char)kind;
	h->read = read;
	h->phantom = phantom;
}

/* ------------------------------------------------------------------ */
/* Reports                                                             */
/* ------------------------------------------------------------------ */

void mmn__ld_report(struct mmn_sim *sim, struct mmn_actor *a, enum mmn_violation_kind kind,
		    const char *extra, const char *fmt, ...)
{
	char msg[256];
	char detail[LD_DETAIL_LEN];
	size_t n = 0;
	va_list ap;
	struct mmn_violation v = { .kind = kind, .actor_id = -1 };

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	detail[0] = '\0';
	if (extra) {
		int w = snprintf(detail, sizeof(detail), "%s", extra);

		n = w < 0 ? 0 : ((size_t)w >= sizeof(detail) ? sizeof(detail) - 1 : (size_t)w);
	}
	if (a) {
		int w = snprintf(detail + n, sizeof(detail) - n, "held locks of %s:%s\n", a->name,
				 a->depth || a->overflow ? "" : " none");

		if (w > 0 && (size_t)w < sizeof(detail) - n) {
			n += (size_t)w;
			mmn__ld_held_text(a, detail + n, sizeof(detail) - n);
		}
	}
	v.msg = msg;
	v.detail = detail[0] ? detail : NULL;
	mmn_report(sim, &v);
}

bool mmn__ld_check_sleep(struct mmn_actor *a, const char *op)
{
	const char *why;

	if (a->atomic > 0)
		why = "while holding a spinlock";
	else if (a->non_block > 0)
		why = "inside a non-blocking section";
	else if (a->in_callback > 0)
		why = "in an SRCU callback, which must not sleep";
	else
		return false;
	mmn__ld_report(a->sim, a, MMN_VIOL_SLEEP_IN_ATOMIC, NULL, "sleeping call %s %s", op, why);
	return true;
}

/* ------------------------------------------------------------------ */
/* Order graph                                                         */
/* ------------------------------------------------------------------ */

/* The word of matrix @m holding bit (@a, @b); @a is an assigned class id. */
static uint64_t *ld_word(struct sync_lockdep *ld, enum sync_ld_matrix m, int a, int b)
{
	struct sync_ld_row *rows = __atomic_load_n(&ld->rows[a / SYNC_LD_CHUNK], __ATOMIC_ACQUIRE);

	return &rows[a % SYNC_LD_CHUNK].m[m][b >> 6];
}

static bool ld_bit(struct sync_lockdep *ld, enum sync_ld_matrix m, int a, int b)
{
	return (__atomic_load_n(ld_word(ld, m, a, b), __ATOMIC_RELAXED) >> (b & 63)) & 1;
}

static void ld_set_bit(struct sync_lockdep *ld, enum sync_ld_matrix m, int a, int b)
{
	__atomic_fetch_or(ld_word(ld, m, a, b), 1ULL << (b & 63), __ATOMIC_RELAXED);
}

static size_t ld_edge_slot(size_t cap, int from, int to)
{
	return ((size_t)from * 40503u + (size_t)to * 2654435761u) & (cap - 1);
}

static struct sync_edge *ld_edge_lookup(struct sync_lockdep *ld, int from, int to)
{
	if (!ld->edges_cap)
		return NULL;
	for (size_t i = ld_edge_slot(ld->edges_cap, from, to);; i = (i + 1) & (ld->edges_cap - 1)) {
		struct sync_edge *e = &ld->edges[i];

		if (!e->used)
			return NULL;
		if (e->from == from && e->to == to)
			return e;
	}
}

/* Remember who recorded @from -> @to first; best effort (skipped on ENOMEM). */
static void ld_edge_record(struct sync_lockdep *ld, int from, int to, const struct mmn_actor *a)
{
	struct sync_edge *e;

	if ((ld->edges_nr + 1) * 2 > ld->edges_cap) {
		/* A schedule records a few dozen edges: start small, the
		 * zeroing is per simulation. */
		size_t cap = ld->edges_cap ? ld->edges_cap * 2 : 32;
		struct sync_edge *old = ld->edges, *fresh = calloc(cap, sizeof(*fresh));

		if (!fresh)
			return;
		for (size_t i = 0; i < ld->edges_cap; i++) {
			size_t j;

			if (!old[i].used)
				continue;
			for (j = ld_edge_slot(cap, old[i].from, old[i].to); fresh[j].used;
			     j = (j + 1) & (cap - 1))
				;
			fresh[j] = old[i];
		}
		free(old);
		ld->edges = fresh;
		ld->edges_cap = cap;
	}
	for (size_t i = ld_edge_slot(ld->edges_cap, from, to);; i = (i + 1) & (ld->edges_cap - 1)) {
		e = &ld->edges[i];
		if (!e->used)
			break;
	}
	e->used = true;
	e->from = (uint16_t)from;
	e->to = (uint16_t)to;
	/* A bounded copy, not snprintf(): this runs for every new edge, the
	 * text only when a report names it. */
	mmn__strscpy(e->actor, sizeof(e->actor), a->name);
	e->context = a->context;
	ld->edges_nr++;
}

/*
 * Breadth-first search for a path @src -> ... -> @dst in the order graph.
 * Fills @path with the classes along it and returns their number, or 0.
 */
static int ld_path(struct sync_lockdep *ld, int src, int dst, int *path)
{
	int16_t parent[SYNC_MAX_CLASSES];
	int queue[SYNC_MAX_CLASSES];
	int head = 0, tail = 0, n = 0;

	/* Only assigned ids carry bits (@lock held: nr_classes is stable), so
	 * the search costs the classes the simulation has, not the maximum. */
	int nr = ld->nr_classes, words = (nr + 63) / 64;

	for (int i = 0; i < nr; i++)
		parent[i] = -1;
	parent[src] = (int16_t)src;
	queue[tail++] = src;
	while (head < tail && parent[dst] < 0) {
		int u = queue[head++];

		for (int w = 0; w < words; w++) {
			uint64_t bits = __atomic_load_n(ld_word(ld, SYNC_LD_ORDER, u, w * 64),
							__ATOMIC_RELAXED);

			while (bits) {
				int v = w * 64 + __builtin_ctzll(bits);

				bits &= bits - 1;
				if (parent[v] < 0) {
					parent[v] = (int16_t)u;
					queue[tail++] = v;
				}
			}
		}
	}
	if (parent[dst] < 0)
		return 0;
	for (int v = dst; v != src; v = parent[v])
		queue[n++] = v;
	queue[n++] = src;
	for (int i = 0; i < n; i++)
		path[i] = queue[n - 1 - i];
	return n;
}

/* Describe the earlier order @path for a circular-locking report. */
static void ld_path_text(struct sync_lockdep *ld, const int *path, int n, char *buf, size_t len)
{
	size_t off = 0;
	int w;

	buf[0] = '\0';
	w = snprintf(buf, len, "earlier order:");
	off = w > 0 ? (size_t)w : 0;
	for (int i = 0; i < n && off < len; i++) {
		w = snprintf(buf + off, len - off, "%s%s", i ? " -> " : " ",
			     ld_class_name(ld->classes[path[i]]));
		if (w < 0)
			return;
		off += (size_t)w;
	}
	if (off < len) {
		w = snprintf(buf + off, len - off, "\n");
		off += w > 0 ? (size_t)w : 0;
	}
	for (int i = 0; i + 1 < n && off < len; i++) {
		const struct sync_edge *e = ld_edge_lookup(ld, path[i], path[i + 1]);

		w = snprintf(buf + off, len - off, "  %s -> %s first recorded by %s (context %s)\n",
			     ld_class_name(ld->classes[path[i]]),
			     ld_class_name(ld->classes[path[i + 1]]), e ? e->actor : "?",
			     e && e->context ? e->context : "none");
		if (w < 0)
			return;
		off += (size_t)w;
	}
}

/* ld_add_edge() for an edge not known yet (out of line: its buffers make a
 * big frame, and most calls find the edge known). */
static __attribute__((noinline)) void ld_add_edge_new(struct mmn_actor *a, int from, int to)
{
	struct sync_lockdep *ld = &a->sim->sync->ld;
	int lo = from < to ? from : to, hi = from < to ? to : from;
	int path[SYNC_MAX_CLASSES];
	char extra[2048];
	const char *fname, *tname;
	int n;

	pthread_mutex_lock(&ld->lock);
	if (ld_bit(ld, SYNC_LD_ORDER, from, to)) {
		pthread_mutex_unlock(&ld->lock);
		return;
	}
	n = ld_path(ld, to, from, path);
	if (!n) {
		/* No cycle: the graph stays acyclic, so the inverse edge is
		 * the only thing that will ever be reported for this pair. */
		ld_set_bit(ld, SYNC_LD_ORDER, from, to);
		ld_edge_record(ld, from, to, a);
		pthread_mutex_unlock(&ld->lock);
		return;
	}
	if (ld_bit(ld, SYNC_LD_REPORTED, lo, hi)) {
		pthread_mutex_unlock(&ld->lock);
		return;
	}
	ld_set_bit(ld, SYNC_LD_REPORTED, lo, hi);
	fname = ld_class_name(ld->classes[from]);
	tname = ld_class_name(ld->classes[to]);
	{
		int w = snprintf(extra, sizeof(extra), "new order: %s -> %s by %s (context %s)\n",
				 fname, tname, a->name, a->context ? a->context : "none");
		size_t off = w > 0 && (size_t)w < sizeof(extra) ? (size_t)w : 0;

		ld_path_text(ld, path, n, extra + off, sizeof(extra) - off);
	}
	pthread_mutex_unlock(&ld->lock);
	/* Reported outside ld->lock: the handler may do anything. */
	mmn__ld_report(a->sim, a, MMN_VIOL_LOCK_ORDER, extra,
		       "possible circular locking: %s then %s, earlier %s then %s", fname, tname,
		       tname, fname);
}

/* Held class @from, now taking class @to: record the edge or report a cycle. */
static void ld_add_edge(struct mmn_actor *a, int from, int to)
{
	struct sync_lockdep *ld = &a->sim->sync->ld;
	int lo = from < to ? from : to, hi = from < to ? to : from;

	/* Known edge, or a pair already reported: nothing new to learn. */
	if (ld_bit(ld, SYNC_LD_ORDER, from, to) || ld_bit(ld, SYNC_LD_REPORTED, lo, hi))
		return;
	ld_add_edge_new(a, from, to);
}

/* Report-once filter for rank and same-class reports (ids may be -1). */
static bool ld_first_report(struct sync_lockdep *ld, enum sync_ld_matrix m, int a, int b)
{
	uint64_t bit;

	if (a < 0 || b < 0)
		return true;
	bit = 1ULL << (b & 63);
	return !(__atomic_fetch_or(ld_word(ld, m, a, b), bit, __ATOMIC_RELAXED) & bit);
}

static void ld_check_order(struct mmn_actor *a, const struct mmn_lockdep_map *map,
			   unsigned int subclass)
{
	struct sync_lockdep *ld = &a->sim->sync->ld;
	const struct mmn_lock_class *cls = map->cls;
	unsigned int rank = cls ? cls->rank : 0;
	int c = map->class_id;
	bool nest = subclass == SYNC_SUBCLASS_NEST;

	if (subclass > SYNC_MAX_SUBCLASS)
		subclass = SYNC_MAX_SUBCLASS;
	for (int i = 0; i < a->depth; i++) {
		const struct sync_held *h = &a->held[i];
		const struct mmn_lock_class *hc = h->map->cls;

		if (h->kind == SYNC_KIND_SRCU || h->phantom)
			continue;
		if (rank && hc && hc->rank > rank &&
		    ld_first_report(ld, SYNC_LD_RANK_REPORTED, h->class_id, c))
			mmn__ld_report(a->sim, a, MMN_VIOL_LOCK_ORDER, NULL,
				       "%s (rank %u) taken while holding %s (rank %u)",
				       ld_class_name(cls), rank, ld_class_name(hc), hc->rank);
		if (c < 0 || h->class_id < 0)
			continue;
		if (h->class_id == c) {
			if (!nest && h->subclass == subclass && ld_first_report(ld, SYNC_LD_REPORTED, c, c))
				mmn__ld_report(a->sim, a, MMN_VIOL_LOCK_ORDER, NULL,
					       "possible recursive locking: %s (%s) taken while "
					       "holding %s of the same class without a nesting "
					       "subclass",
					       mmn__ld_map_name(map), ld_class_name(cls),
					       mmn__ld_map_name(h->map));
			continue;
		}
		ld_add_edge(a, h->class_id, c);
	}
}

int mmn__ld_acquire(struct mmn_actor *a, const struct mmn_lockdep_map *map,
		    unsigned int subclass, enum sync_kind kind, bool read, const char *op)
{
	int i;

	if (kind == SYNC_KIND_MUTEX || kind == SYNC_KIND_RWSEM)
		mmn__ld_check_sleep(a, op);
	i = mmn__ld_find(a, map);
	if (i >= 0) {
		mmn__ld_report(a->sim, a, MMN_VIOL_RECURSIVE_LOCK, NULL,
			       "%s(%s): already held (%s) by this actor, a self-deadlock; "
			       "acquisition skipped",
			       op, mmn__ld_map_name(map), ld_mode(&a->held[i]));
		mmn__ld_push(a, map, subclass, kind, read, true);
		return SYNC_LD_SKIP;
	}
	ld_check_order(a, map, subclass);
	return SYNC_LD_PROCEED;
}

int mmn__ld_try(struct mmn_actor *a, const struct mmn_lockdep_map *map, enum sync_kind kind,
		bool read, const char *op)
{
	int i = mmn__ld_find(a, map);

	if (i < 0)
		return SYNC_LD_TRY;
	/* Only a read trylock of a read-held rwsem would succeed for real;
	 * every other trylock of a lock the actor holds just fails. */
	if (kind == SYNC_KIND_RWSEM && read && a->held[i].read) {
		mmn__ld_report(a->sim, a, MMN_VIOL_RECURSIVE_LOCK, NULL,
			       "%s(%s): already held (read) by this actor; recursive read "
			       "acquisition skipped",
			       op, mmn__ld_map_name(map));
		mmn__ld_push(a, map, 0, kind, read, true);
		return SYNC_LD_TRY_PHANTOM;
	}
	return SYNC_LD_TRY_FAIL;
}

/* Topmost entry of @map held in @mode (-1: any mode), or -1. */
static int ld_find_mode(const struct mmn_actor *a, const struct mmn_lockdep_map *map, int mode)
{
	for (int i = a->depth - 1; i >= 0; i--)
		if (a->held[i].map == map && (mode < 0 || a->held[i].read == (mode == 1)))
			return i;
	return -1;
}

int mmn__ld_release(struct mmn_actor *a, const struct mmn_lockdep_map *map, enum sync_kind kind,
		    int mode, const char *op)
{
	int i = ld_find_mode(a, map, mode);
	struct sync_held *h;
	bool phantom;

	if (i < 0 && (i = mmn__ld_find(a, map)) >= 0) {
		mmn__ld_report(a->sim, a, MMN_VIOL_BAD_UNLOCK, NULL,
			       "%s(%s) but this actor holds it for %s", op, mmn__ld_map_name(map),
			       a->held[i].read ? "read" : "write");
		return SYNC_LD_NOT_HELD;
	}
	if (i < 0) {
		/* Pushed beyond the stack: trust the caller. */
		if (a->overflow > 0) {
			a->overflow--;
			if (kind == SYNC_KIND_SPIN && a->atomic > 0)
				a->atomic--;
			return SYNC_LD_RELEASED;
		}
		mmn__ld_report(a->sim, a, MMN_VIOL_BAD_UNLOCK, NULL,
			       "%s(%s) by an actor that does not hold it", op,
			       mmn__ld_map_name(map));
		return SYNC_LD_NOT_HELD;
	}
	h = &a->held[i];
	phantom = h->phantom;
	if (h->kind == SYNC_KIND_SPIN && a->atomic > 0)
		a->atomic--;
	memmove(h, h + 1, (size_t)(a->depth - i - 1) * sizeof(*h));
	a->depth--;
	return phantom ? SYNC_LD_PHANTOM : SYNC_LD_RELEASED;
}

bool mmn__ld_downgrade(struct mmn_actor *a, const struct mmn_lockdep_map *map)
{
	for (int i = a->depth - 1; i >= 0; i--) {
		struct sync_held *h = &a->held[i];

		if (h->map == map && !h->read && !h->phantom) {
			h->read = true;
			return true;
		}
	}
	mmn__ld_report(a->sim, a, MMN_VIOL_BAD_UNLOCK, NULL,
		       "downgrade_write(%s) by an actor that does not hold it for write",
		       mmn__ld_map_name(map));
	return false;
}

/* ------------------------------------------------------------------ */
/* Public checks: might_sleep() (all versions); non_block_start()/end() */
/* (5.3+, which the notifier core wraps around non-blockable           */
/* invalidations); lockdep_is_held() and lockdep_depth(). All are       */
/* no-ops (or -EOPNOTSUPP / 0) with lockdep off and on a NULL sim.      */
/* ------------------------------------------------------------------ */

void mmn_might_sleep(struct mmn_sim *sim)
{
	struct mmn_actor *a;

	if (!sim || !sim->sync->lockdep)
		return;
	a = sync_actor(sim);
	if (a)
		mmn__ld_check_sleep(a, "might_sleep()");
}

void mmn_non_block_start(struct mmn_sim *sim)
{
	struct mmn_actor *a;

	if (!sim || !sim->sync->lockdep)
		return;
	a = sync_actor(sim);
	if (a)
		a->non_block++;
}

void mmn_non_block_end(struct mmn_sim *sim)
{
	struct mmn_actor *a;

	if (!sim || !sim->sync->lockdep)
		return;
	a = sync_actor(sim);
	if (a && a->non_block > 0)
		a->non_block--;
}

int mmn_lockdep_is_held(const void *lock)
{
	const struct mmn_lockdep_map *map = lock;
	struct mmn_actor *a;

	if (!map || !map->sim)
		return -EINVAL;
	if (!map->sim->sync->lockdep)
		return -EOPNOTSUPP;
	a = sync_actor(map->sim);
	return a && mmn__ld_find(a, map) >= 0;
}

/*
 * Models lockdep_assert_held() (include/linux/lockdep.h, 2.6.27 onwards):
 * the calling actor must hold @lock. Where the kernel WARNs, this reports
 * MMN_VIOL_PROTOCOL naming @what and the actor's held locks. Silent when
 * lockdep is off or outside an actor; never a scheduling point.
 */
void mmn__lockdep_assert_held(const void *lock, const char *what)
{
	const struct mmn_lockdep_map *map = lock;
	struct mmn_actor *a;

	if (!map || !map->sim || !map->sim->sync->lockdep)
		return;
	a = sync_actor(map->sim);
	if (a && mmn__ld_find(a, map) < 0)
		mmn__ld_report(map->sim, a, MMN_VIOL_PROTOCOL, NULL, "lockdep_assert_held: %s not held", what);
}

void mmn_lockdep_assert_held(const void *lock, const char *what)
{
	mmn__lockdep_assert_held(lock, what ? what : "lock");
}

int mmn_lockdep_depth(struct mmn_sim *sim)
{
	struct mmn_actor *a;

	if (!sim || !sim->sync->lockdep)
		return 0;
	a = sync_actor(sim);
	return a ? a->depth + a->overflow : 0;
}
