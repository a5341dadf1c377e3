// SPDX-License-Identifier: MIT
/*
 * Dynamic partial-order reduction (mmn_sched_dpor_create()) on litmus
 * programs whose Mazurkiewicz traces can be counted by hand, against the
 * plain depth-first enumeration (mmn_sched_explorer_create()) of the same
 * programs: DPOR runs one schedule per class (distinct class ids, each
 * once), at least as many classes as exist and no more schedules than the
 * enumeration; it reaches every final state the enumeration reaches, so it
 * finds every assertion failure; sharded over 2 and 4 shards it counts
 * the same set of classes; sharded enumeration = unsharded enumeration.
 *
 * Each step of a litmus actor is one operation, after an explicit point,
 * and declares what it touches with mmn_sched_access(). Class counts, by
 * reasoning on the dependent pairs (same variable, one a write; the lock):
 *   independent writers (3 actors, one variable each)      1
 *   store buffering  T0: x=1; r0=y   T1: y=1; r1=x          3 (under SC the
 *       4th combination, both reads before both writes, is a cycle)
 *   message passing  T0: x=1; y=1    T1: r0=y; r1=x         3 (same reason)
 *   one writer, two readers of x                            4 (each read
 *       before or after the write; the reads commute)
 *   lock-protected counter, n actors (read, point, write
 *       inside the critical section)                        n!
 *   the same counter without the lock, 2 actors             4 (the writes
 *       in 2 orders, the later actor's read before or after the earlier
 *       write); the assertion counter == n fails in 2 of them
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#define MAXA 5
#define MAXOP 4

enum { OP_NONE = 0, OP_W, OP_R, OP_INC, OP_LOCKED_INC };

struct op {
	int kind, var, val;
};

struct prog {
	const char *name;
	int nact;
	struct op ops[MAXA][MAXOP];
	/* the assertion on the final state; NULL: none */
	bool (*ok)(const int *vars, int (*regs)[MAXOP], int nact);
};

struct state;

struct who {
	struct state *s;
	int i;
};

struct state {
	const struct prog *pg;
	struct mmn_sim *sim;
	struct mmn_mutex lock;
	int vars[4];
	int regs[MAXA][MAXOP];
	struct who who[MAXA];
};

static const struct mmn_lock_class litmus_class = { .name = "litmus_lock" };

static void step(struct state *s, const char *why, const void *obj, unsigned int mode)
{
	mmn_sched_point(s->sim, MMN_SCHED_EXPLICIT, NULL, why, 0);
	mmn_sched_access(s->sim, obj, mode);
}

static void *litmus_actor(void *arg)
{
	const struct who *w = arg;
	struct state *s = w->s;
	const struct op *ops = s->pg->ops[w->i];

	for (int i = 0; i < MAXOP && ops[i].kind; i++) {
		int *v = &s->vars[ops[i].var], tmp;

		switch (ops[i].kind) {
		case OP_W:
			step(s, "w", v, MMN_SCHED_ACCESS_WRITE);
			*v = ops[i].val;
			break;
		case OP_R:
			step(s, "r", v, MMN_SCHED_ACCESS_READ);
			s->regs[w->i][i] = *v;
			break;
		case OP_LOCKED_INC:
			mmn_mutex_lock(&s->lock);
			mmn_sched_access(s->sim, v, MMN_SCHED_ACCESS_READ);
			tmp = *v;
			step(s, "inc", v, MMN_SCHED_ACCESS_WRITE);
			*v = tmp + 1;
			mmn_mutex_unlock(&s->lock);
			break;
		case OP_INC:
			step(s, "r", v, MMN_SCHED_ACCESS_READ);
			tmp = *v;
			step(s, "inc", v, MMN_SCHED_ACCESS_WRITE);
			*v = tmp + 1;
			break;
		}
	}
	return NULL;
}

static void litmus_body(struct mmn_sim *sim, void *arg)
{
	struct state *s = arg;

	/* Touched here first, the shared objects have one identity from the
	 * start (docs/exploration.md, "DPOR"). */
	for (size_t i = 0; i < sizeof(s->vars) / sizeof(s->vars[0]); i++)
		mmn_sched_access(sim, &s->vars[i], MMN_SCHED_ACCESS_READ);
	mmn_sched_access(sim, &s->lock, MMN_SCHED_ACCESS_READ);
	for (int i = 0; i < s->pg->nact; i++) {
		struct mmn_actor *a;

		s->who[i] = (struct who){ .s = s, .i = i };
		assert_int_equal(mmn_actor_spawn(sim, NULL, litmus_actor, &s->who[i], &a), 0);
	}
}

#define MAXSET (1u << 16) /* open addressing, 0 marks a free slot */

struct set {
	uint64_t v[MAXSET];
	size_t n;
};

/* Add @x; false if it was there. */
static bool set_add(struct set *s, uint64_t x)
{
	size_t i;

	x = x ? x : 1;
	assert_true(s->n < MAXSET / 2);
	for (i = x % MAXSET; s->v[i]; i = (i + 1) % MAXSET)
		if (s->v[i] == x)
			return false;
	s->v[i] = x;
	s->n++;
	return true;
}

static bool set_has(const struct set *s, uint64_t x)
{
	x = x ? x : 1;
	for (size_t i = x % MAXSET; s->v[i]; i = (i + 1) % MAXSET)
		if (s->v[i] == x)
			return true;
	return false;
}

static bool set_equal(const struct set *a, const struct set *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < MAXSET; i++)
		if (a->v[i] && !set_has(b, a->v[i]))
			return false;
	return true;
}

struct res {
	unsigned long runs, counted, failing;
	bool complete;
	struct set ids, outcomes, failures;
};

static uint64_t outcome_of(const struct state *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (int i = 0; i < 4; i++)
		h = (h ^ (uint64_t)s->vars[i]) * 1099511628211ULL;
	for (int a = 0; a < MAXA; a++)
		for (int i = 0; i < MAXOP; i++)
			h = (h ^ (uint64_t)s->regs[a][i]) * 1099511628211ULL;
	return h;
}

static struct mmn_sim *det_sim(void)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_frames = 64;
	cfg.nr_cpus = 2;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	return sim;
}

static void explore(const struct prog *pg, bool dpor, unsigned int shard, unsigned int shards,
		    struct res *r)
{
	struct mmn_sched_explorer *x = dpor ? mmn_sched_dpor_create(UINT32_MAX)
					    : mmn_sched_explorer_create(UINT32_MAX);
	struct mmn_sched_config cfg;

	assert_non_null(x);
	memset(r, 0, sizeof(*r));
	assert_int_equal(mmn_sched_explorer_shard(x, shard, shards, 2), 0);
	mmn_sched_config_init(&cfg);
	cfg.trace = false;
	while (mmn_sched_explorer_next(x, &cfg)) {
		struct state *s = calloc(1, sizeof(*s));
		uint64_t id;
		int last;

		assert_non_null(s);
		s->pg = pg;
		s->sim = det_sim();
		mmn_mutex_init(&s->lock, s->sim, &litmus_class, "litmus");
		assert_int_equal(mmn_sched_run(s->sim, &cfg, litmus_body, s, NULL), 0);
		assert_int_equal(mmn_sched_explorer_record(x, s->sim), 0);
		last = mmn_sched_explorer_last(x, &id);
		assert_true(last >= 0);
		if (getenv("DPOR_DEBUG")) {
			uint32_t ch[64];
			size_t nc = mmn_sched_choices(s->sim, ch, 64);

			fprintf(stderr, "run %lu last %d id %016llx:", r->runs, last,
				(unsigned long long)id);
			for (size_t k = 0; k < nc && k < 64; k++)
				fprintf(stderr, " %u", ch[k]);
			fprintf(stderr, "\n");
		}
		r->runs++;
		if (last) {
			bool bad = pg->ok && !pg->ok(s->vars, s->regs, pg->nact);

			r->counted++;
			/* each class (schedule) once */
			assert_true(set_add(&r->ids, id));
			set_add(&r->outcomes, outcome_of(s));
			if (bad) {
				r->failing++;
				set_add(&r->failures, outcome_of(s));
			}
		}
		mmn_mutex_destroy(&s->lock);
		mmn_sim_destroy(s->sim);
		free(s);
		assert_true(r->runs < 30000);
	}
	r->complete = mmn_sched_explorer_complete(x);
	assert_int_equal(mmn_sched_explorer_schedules(x), r->counted);
	assert_int_equal(mmn_sched_explorer_count(x), r->runs);
	mmn_sched_explorer_destroy(x);
}

/* DPOR against the enumeration on @pg: @classes exactly, everything the
 * enumeration reaches. Prints the figures docs/exploration.md quotes. */
static void check(const struct prog *pg, unsigned long classes)
{
	static struct res dfs, dp;

	explore(pg, true, 0, 1, &dp);
	if (pg->nact > 2 && pg->ops[0][0].kind == OP_LOCKED_INC) {
		/* the enumeration is out of reach (> 30,000 schedules): the
		 * counter ends at n in every class */
		printf("litmus %-22s classes %lu (expected %lu), DPOR runs %lu\n", pg->name,
		       dp.counted, classes, dp.runs);
		assert_true(dp.complete);
		assert_int_equal(dp.counted, classes);
		assert_int_equal(dp.outcomes.n, 1);
		assert_int_equal(dp.failing, 0);
		return;
	}
	explore(pg, false, 0, 1, &dfs);
	printf("litmus %-22s classes %lu (expected %lu), DPOR runs %lu, DFS schedules %lu, "
	       "failing DFS %lu DPOR %lu\n",
	       pg->name, dp.counted, classes, dp.runs, dfs.runs, dfs.failing, dp.failing);
	assert_true(dfs.complete);
	assert_true(dp.complete);
	assert_int_equal(dp.counted, classes);
	assert_true(dp.runs <= dfs.runs);
	assert_true(set_equal(&dp.outcomes, &dfs.outcomes));
	assert_true(set_equal(&dp.failures, &dfs.failures));
	assert_int_equal(dfs.failing > 0, dp.failing > 0);
}

static const struct prog independent = {
	.name = "independent writers",
	.nact = 3,
	.ops = { { { OP_W, 0, 1 } }, { { OP_W, 1, 1 } }, { { OP_W, 2, 1 } } },
};

/* SB: under SC not both reads 0; the assertion "not both 1" fails. */
static bool sb_ok(const int *vars, int (*regs)[MAXOP], int nact)
{
	(void)vars;
	(void)nact;
	return !(regs[0][1] == 1 && regs[1][1] == 1);
}

static const struct prog store_buffering = {
	.name = "store buffering",
	.nact = 2,
	.ops = { { { OP_W, 0, 1 }, { OP_R, 1, 0 } }, { { OP_W, 1, 1 }, { OP_R, 0, 0 } } },
	.ok = sb_ok,
};

/* MP: r0 = y = 1 implies r1 = x = 1 under SC: the assertion never fails. */
static bool mp_ok(const int *vars, int (*regs)[MAXOP], int nact)
{
	(void)vars;
	(void)nact;
	return !(regs[1][0] == 1 && regs[1][1] == 0);
}

static const struct prog message_passing = {
	.name = "message passing",
	.nact = 2,
	.ops = { { { OP_W, 0, 1 }, { OP_W, 1, 1 } }, { { OP_R, 1, 0 }, { OP_R, 0, 0 } } },
	.ok = mp_ok,
};

static const struct prog readers = {
	.name = "one writer two readers",
	.nact = 3,
	.ops = { { { OP_W, 0, 1 } }, { { OP_R, 0, 0 } }, { { OP_R, 0, 0 } } },
};

static bool counter_ok(const int *vars, int (*regs)[MAXOP], int nact)
{
	(void)regs;
	return vars[0] == nact;
}

static const struct prog locked2 = {
	.name = "locked counter n=2",
	.nact = 2,
	.ops = { { { OP_LOCKED_INC, 0, 0 } }, { { OP_LOCKED_INC, 0, 0 } } },
	.ok = counter_ok,
};

static const struct prog locked3 = {
	.name = "locked counter n=3",
	.nact = 3,
	.ops = { { { OP_LOCKED_INC, 0, 0 } }, { { OP_LOCKED_INC, 0, 0 } },
		 { { OP_LOCKED_INC, 0, 0 } } },
	.ok = counter_ok,
};

static const struct prog locked4 = {
	.name = "locked counter n=4",
	.nact = 4,
	.ops = { { { OP_LOCKED_INC, 0, 0 } }, { { OP_LOCKED_INC, 0, 0 } },
		 { { OP_LOCKED_INC, 0, 0 } }, { { OP_LOCKED_INC, 0, 0 } } },
	.ok = counter_ok,
};

static const struct prog unlocked2 = {
	.name = "unlocked counter n=2",
	.nact = 2,
	.ops = { { { OP_INC, 0, 0 } }, { { OP_INC, 0, 0 } } },
	.ok = counter_ok,
};

static void test_dpor_independent_writers_one_class(void **state)
{
	(void)state;
	check(&independent, 1);
}

static void test_dpor_store_buffering_three_classes(void **state)
{
	(void)state;
	check(&store_buffering, 3);
}

static void test_dpor_message_passing_three_classes(void **state)
{
	(void)state;
	check(&message_passing, 3);
}

static void test_dpor_reads_commute(void **state)
{
	(void)state;
	check(&readers, 4);
}

static void test_dpor_locked_counter_factorial_classes(void **state)
{
	(void)state;
	check(&locked2, 2);
	check(&locked3, 6);
	check(&locked4, 24);
}

static void test_dpor_finds_the_lost_update(void **state)
{
	static struct res r;

	(void)state;
	check(&unlocked2, 4);
	explore(&unlocked2, true, 0, 1, &r);
	assert_int_equal(r.failing, 2);
}

/* Shards of DPOR: the same classes as the unsharded search, each once. */
static void shards_equal(const struct prog *pg, bool dpor, unsigned int shards)
{
	static struct res whole, part;
	static struct set all;
	unsigned long counted = 0;

	memset(&all, 0, sizeof(all));
	explore(pg, dpor, 0, 1, &whole);
	for (unsigned int i = 0; i < shards; i++) {
		explore(pg, dpor, i, shards, &part);
		assert_true(part.complete);
		counted += part.counted;
		for (size_t k = 0; k < MAXSET; k++)
			if (part.ids.v[k]) /* in one shard only */
				assert_true(set_add(&all, part.ids.v[k]));
	}
	assert_int_equal(counted, whole.counted);
	assert_true(set_equal(&all, &whole.ids));
}

static void test_dpor_shards_give_the_unsharded_classes(void **state)
{
	(void)state;
	shards_equal(&locked3, true, 2);
	shards_equal(&locked3, true, 4);
	shards_equal(&store_buffering, true, 2);
	shards_equal(&readers, true, 4);
}

static void test_exhaustive_shards_give_the_unsharded_schedules(void **state)
{
	(void)state;
	shards_equal(&locked2, false, 2);
	shards_equal(&locked2, false, 4);
	shards_equal(&store_buffering, false, 4);
	shards_equal(&readers, false, 2);
}

static void test_dpor_refuses_bad_shards(void **state)
{
	struct mmn_sched_explorer *x = mmn_sched_dpor_create(2);

	(void)state;
	assert_int_equal(mmn_sched_explorer_shard(NULL, 0, 1, 0), -EINVAL);
	assert_int_equal(mmn_sched_explorer_shard(x, 2, 2, 1), -EINVAL);
	assert_int_equal(mmn_sched_explorer_shard(x, 0, 0, 1), -EINVAL);
	assert_int_equal(mmn_sched_explorer_shard(x, 0, 2, 0), -EINVAL);
	assert_int_equal(mmn_sched_explorer_last(NULL, NULL), -EINVAL);
	mmn_sched_explorer_destroy(x);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_dpor_independent_writers_one_class),
		cmocka_unit_test(test_dpor_store_buffering_three_classes),
		cmocka_unit_test(test_dpor_message_passing_three_classes),
		cmocka_unit_test(test_dpor_reads_commute),
		cmocka_unit_test(test_dpor_locked_counter_factorial_classes),
		cmocka_unit_test(test_dpor_finds_the_lost_update),
		cmocka_unit_test(test_dpor_shards_give_the_unsharded_classes),
		cmocka_unit_test(test_exhaustive_shards_give_the_unsharded_schedules),
		cmocka_unit_test(test_dpor_refuses_bad_shards),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
