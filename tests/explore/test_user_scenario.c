// SPDX-License-Identifier: MIT
/*
 * A scenario defined here, as a user would (struct mmn_scenario_def,
 * public headers only), registered and driven through every function that
 * takes a scenario id: run, explore (PCT, exhaustive, keep-going, shards,
 * progress), replay of a found choice list, shrink, the list functions; and
 * the refusals: a duplicate id, bad definitions, bad parameters and variant
 * names (-EINVAL, no side effect); and a one-off definition explored
 * without registering it.
 *
 * The scenario: the library's HMM-style mirror (listeners/hmm.h) over a few
 * pages; a device actor reads them while an operator actor zaps the first
 * page (madvise DONTNEED) and writes it again. Variant "flag" (wrong) tracks
 * validity with a flag, "sequence" (right) with the interval sequence; the
 * flag mirror programs a frame collected before a whole start..end.
 */
#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

#define BASE 0x40000000UL
#define MAX_PAGES 8

enum { P_PAGES, P_READS, P_WRITE_BACK };

static const struct mmn_scenario_param u_params[] = {
	[P_PAGES] = { "pages", "pages the device reads", MMN_SCENARIO_PARAM_INT, 2, 1, MAX_PAGES },
	[P_READS] = { "reads", "device reads of the range", MMN_SCENARIO_PARAM_INT, 2, 1, 8 },
	[P_WRITE_BACK] = { "write_back", "CPU store after each zap", MMN_SCENARIO_PARAM_BOOL, 1 },
};

static const struct mmn_scenario_variant u_variants[] = {
	{ "sequence", "interval sequence (the HMM rule)", false, MMN_HMM_EVENT_AWARE },
	{ "flag", "a valid flag (the old hmm_mirror)", true, MMN_HMM_VALID_FLAG },
};

struct u_ctx {
	struct mmn_mm *mm;
	struct mmn_hmm *m;
	int variant;
	unsigned long pages, reads;
	bool write_back;
};

/* Counts configure calls of the process: a refused run must make none. */
static int u_configured;
static const char u_user[] = "the definition's own data";

static int u_configure(void *ctx, const struct mmn_scenario_params *p, const int64_t *v,
		       struct mmn_sim_config *cfg, const char **own)
{
	struct u_ctx *c = ctx;

	(void)own;
	/* The hooks see the definition being run, and its user data. */
	if (!p->def || p->def->user != u_user)
		return -EPROTO;
	u_configured++;
	c->variant = p->variant >= 0 ? p->variant
				     : (p->wrong ? MMN_HMM_VALID_FLAG : MMN_HMM_EVENT_AWARE);
	c->pages = (unsigned long)v[P_PAGES];
	c->reads = (unsigned long)v[P_READS];
	c->write_back = v[P_WRITE_BACK] != 0;
	cfg->nr_cpus = 2;
	cfg->nr_frames = 256;
	return 0;
}

static int u_setup(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		   struct mmn_scenario_result *out)
{
	struct u_ctx *c = ctx;
	struct mmn_hmm_config hc;
	unsigned long got;
	int err;

	(void)p;
	(void)out;
	c->mm = mmn_mm_create(sim);
	if (!c->mm)
		return -ENOMEM;
	err = mmn_mmap(c->mm, BASE, MAX_PAGES * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
		       MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got);
	mmn_hmm_config_init(&hc);
	hc.variant = (enum mmn_hmm_variant)c->variant;
	hc.name = "user-mirror";
	if (!err)
		err = mmn_hmm_create(c->mm, BASE, MAX_PAGES * MMN_PAGE_SIZE, &hc, &c->m);
	for (unsigned long i = 0; !err && i < c->pages; i++)
		err = mmn_cpu_write(c->mm, 0, BASE + i * MMN_PAGE_SIZE, 0x5000 + i);
	return err;
}

static void *u_device(void *arg)
{
	struct u_ctx *c = arg;
	uint64_t buf[MAX_PAGES];

	for (unsigned long i = 0; i < c->reads; i++)
		(void)mmn_hmm_read(c->m, BASE, c->pages, buf);
	return NULL;
}

static void *u_operator(void *arg)
{
	struct u_ctx *c = arg;

	for (unsigned long i = 0; i < 2; i++) {
		(void)mmn_madvise(c->mm, BASE, MMN_PAGE_SIZE, MMN_MADV_DONTNEED);
		if (c->write_back)
			(void)mmn_cpu_write(c->mm, 1, BASE, 0x7000 + i);
	}
	return NULL;
}

static void u_actors(struct mmn_sim *sim, void *ctx)
{
	struct mmn_actor *a = NULL, *b = NULL;

	(void)mmn_actor_spawn(sim, "device", u_device, ctx, &a);
	(void)mmn_actor_spawn(sim, "operator", u_operator, ctx, &b);
	if (a)
		(void)mmn_actor_join(a, NULL);
	if (b)
		(void)mmn_actor_join(b, NULL);
}

static int u_teardown(void *ctx, int err)
{
	struct u_ctx *c = ctx;

	if (c->m && mmn_hmm_destroy(c->m) && !err)
		err = -EBUSY;
	mmn_mm_put(c->mm);
	return err;
}

static const struct mmn_scenario_def u_def = {
	.id = "user.hmm-flag",
	.title = "a user's HMM mirror: flag versus sequence under DONTNEED",
	.claim = "use-after-free or stale entry with the flag; none with the sequence",
	.found_kinds = 1u << MMN_VIOL_USE_AFTER_FREE | 1u << MMN_VIOL_STALE_TRANSLATION,
	.params = u_params,
	.nr_params = 3,
	.user = u_user,
	.variants = u_variants,
	.nr_variants = 2,
	.ctx_size = sizeof(struct u_ctx),
	.configure = u_configure,
	.setup = u_setup,
	.actors = u_actors,
	.teardown = u_teardown,
};

static int group_setup(void **state)
{
	(void)state;
	return mmn_scenario_register(&u_def);
}

/* ---- registration and listing ---- */

static void test_registered_scenario_is_listed_after_the_seeds(void **state)
{
	const struct mmn_scenario *s = mmn_scenario_by_id("user.hmm-flag");
	int n = mmn_scenario_count();

	(void)state;
	assert_non_null(s);
	assert_ptr_equal(s->def, &u_def);
	assert_string_equal(s->seed, "user");
	assert_int_equal(s->found_kinds, u_def.found_kinds);
	assert_true(n >= 10);
	assert_string_equal(mmn_scenario_at(0)->id, "S1");
	assert_string_equal(mmn_scenario_at(8)->id, "S9");
	assert_ptr_equal(mmn_scenario_at(9), s);
	assert_null(mmn_scenario_at(n));
}

static void test_duplicate_id_is_refused(void **state)
{
	struct mmn_scenario_def again = u_def;
	struct mmn_scenario_def seed = u_def;
	int n = mmn_scenario_count();

	(void)state;
	assert_int_equal(mmn_scenario_register(&u_def), -EEXIST);
	assert_int_equal(mmn_scenario_register(&again), -EEXIST);
	seed.id = "S4";
	assert_int_equal(mmn_scenario_register(&seed), -EEXIST);
	assert_int_equal(mmn_scenario_count(), n);
}

static void test_bad_definitions_are_refused(void **state)
{
	static const struct mmn_scenario_param bad_default[] = {
		{ "pages", NULL, MMN_SCENARIO_PARAM_INT, 9, 1, 8 },
	};
	static const struct mmn_scenario_param twice[] = {
		{ "pages", NULL, MMN_SCENARIO_PARAM_INT, 1, 1, 8 },
		{ "pages", NULL, MMN_SCENARIO_PARAM_INT, 1, 1, 8 },
	};
	static const struct mmn_scenario_variant only_right[] = {
		{ "a", NULL, false, -1 }, { "b", NULL, false, -1 },
	};
	struct mmn_scenario_result r;
	struct mmn_scenario_def d;
	int n = mmn_scenario_count();

	(void)state;
	assert_int_equal(mmn_scenario_register(NULL), -EINVAL);
	d = u_def, d.id = "bad id";
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	d = u_def, d.id = "";
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	d = u_def, d.id = "user.no-title", d.title = NULL;
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	d = u_def, d.id = "user.no-body", d.actors = NULL;
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	d = u_def, d.id = "user.bad-default", d.params = bad_default, d.nr_params = 1;
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	d = u_def, d.id = "user.twice", d.params = twice, d.nr_params = 2;
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	d = u_def, d.id = "user.no-wrong", d.variants = only_right;
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	d = u_def, d.id = "user.kinds", d.found_kinds = 1u << MMN_VIOL_NR_KINDS;
	assert_int_equal(mmn_scenario_register(&d), -EINVAL);
	assert_int_equal(mmn_scenario_count(), n);
	/* and the one-off path checks the same */
	d = u_def, d.title = NULL;
	assert_int_equal(mmn_scenario_run_def(&d, NULL, &r), -EINVAL);
}

/* Registrations from several threads at once: all distinct ids go in, of
 * one id registered by every thread exactly one does (lock-free CAS). */
#define R_THREADS 4
#define R_EACH 16
static struct mmn_scenario_def r_defs[R_THREADS][R_EACH];
static char r_ids[R_THREADS][R_EACH][16];
static struct mmn_scenario_def r_shared;

static void *r_register(void *arg)
{
	int t = (int)(intptr_t)arg, ok = 0;

	for (int i = 0; i < R_EACH; i++) {
		ok += mmn_scenario_register(&r_defs[t][i]) == 0;
		if (i == R_EACH / 2)
			ok += (mmn_scenario_register(&r_shared) == 0) * 1000;
	}
	return (void *)(intptr_t)ok;
}

static void test_concurrent_registrations_are_each_counted_once(void **state)
{
	pthread_t th[R_THREADS];
	int n = mmn_scenario_count(), ok = 0;

	(void)state;
	r_shared = u_def;
	r_shared.id = "user.shared";
	for (int t = 0; t < R_THREADS; t++) {
		for (int i = 0; i < R_EACH; i++) {
			snprintf(r_ids[t][i], sizeof(r_ids[t][i]), "user.r%d.%d", t, i);
			r_defs[t][i] = u_def;
			r_defs[t][i].id = r_ids[t][i];
		}
	}
	for (int t = 0; t < R_THREADS; t++)
		assert_int_equal(pthread_create(&th[t], NULL, r_register, (void *)(intptr_t)t), 0);
	for (int t = 0; t < R_THREADS; t++) {
		void *ret;

		assert_int_equal(pthread_join(th[t], &ret), 0);
		ok += (int)(intptr_t)ret;
	}
	assert_int_equal(ok, 1000 + R_THREADS * R_EACH);
	assert_int_equal(mmn_scenario_count(), n + R_THREADS * R_EACH + 1);
	for (int t = 0; t < R_THREADS; t++)
		for (int i = 0; i < R_EACH; i++)
			assert_ptr_equal(mmn_scenario_by_id(r_ids[t][i])->def, &r_defs[t][i]);
}

/* ---- parameters ---- */

static void test_bad_params_are_refused_without_side_effect(void **state)
{
	static const char *const bad[] = {
		"nosuch=1", "pages=0", "pages=9", "pages=", "pages=2x", "=2",
		"pages", "write_back=maybe", "reads=-1",
	};
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int before = u_configured;

		p.args[0] = bad[i];
		r.violations = 12345;
		assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), -EINVAL);
		assert_int_equal(u_configured, before); /* nothing configured or created */
		assert_int_equal(r.violations, 0);
	}
	p.args[0] = "pages=2";
	p.args[1] = "pages=3"; /* given twice */
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), -EINVAL);
	p.args[1] = NULL;
	p.variant_name = "nosuch";
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), -EINVAL);
	/* S1-S9 have no parameters of their own */
	p.variant_name = NULL;
	p.args[0] = "pages=2";
	assert_int_equal(mmn_scenario_run("S7", &p, &r), -EINVAL);
	/* a mode the scenario has no body for */
	p = (struct mmn_scenario_params){ .variant = -1, .mode = MMN_SCENARIO_NATIVE };
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), -EOPNOTSUPP);
}

static void test_params_reach_the_hooks(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_EXPLORE,
					 .args = { "pages=4", "write_back=false", "reads=1" } };
	struct mmn_scenario_result r;
	unsigned long before;

	(void)state;
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), 0);
	assert_int_equal(r.runs, 1);
	assert_int_equal(r.sched.outcome, MMN_OUTCOME_OK);
	/* the non-preemptive schedule: the device reads 4 pages once */
	before = r.sched.steps;
	p.args[0] = "pages=1";
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), 0);
	assert_true(r.sched.steps < before);
	assert_true(r.claim_holds); /* right variant by default: clean */
	assert_string_equal(r.setting, "right");
}

/* ---- exploration, replay, shrink ---- */

struct u_found {
	uint32_t choices[8192];
	size_t n;
	unsigned long index, calls;
};

static bool u_keep(const struct mmn_explore_found *f, void *arg)
{
	struct u_found *k = arg;

	if (!k->calls++ && f->nr_choices <= 8192) {
		memcpy(k->choices, f->choices, f->nr_choices * sizeof(uint32_t));
		k->n = f->nr_choices;
		k->index = f->index;
	}
	return true;
}

static void u_explore(const char *variant, enum mmn_explore_strategy how, bool keep_going,
		      struct u_found *k, struct mmn_explore_stats *st)
{
	/* small for the exhaustive search: one page, one read, no store */
	struct mmn_scenario_params p = { .variant = -1, .variant_name = variant,
					 .args = { "pages=1", "reads=1", "write_back=false" } };
	struct mmn_explore_config c;

	mmn_explore_config_init(&c);
	if (how != MMN_EXPLORE_EXHAUSTIVE)
		p.args[0] = p.args[1] = p.args[2] = NULL;
	c.strategy = how;
	c.runs = how == MMN_EXPLORE_EXHAUSTIVE ? 5000 : 600;
	c.keep_going = keep_going;
	c.found = u_keep;
	c.arg = k;
	assert_int_equal(mmn_scenario_explore("user.hmm-flag", &p, &c, st), 0);
}

static void test_explore_finds_the_wrong_variant_replays_and_shrinks(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .variant_name = "flag",
					 .mode = MMN_SCENARIO_EXPLORE };
	static struct u_found k;
	struct mmn_explore_stats st;
	struct mmn_sched_config sc;
	struct mmn_scenario_result r;
	static uint32_t out[8192];
	long n;

	(void)state;
	u_explore("flag", MMN_EXPLORE_PCT, false, &k, &st);
	assert_int_equal(st.violating, 1);
	assert_int_equal(k.calls, 1);
	assert_int_equal(st.first_index, k.index);
	assert_true(k.n > 0);
	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = k.choices;
	sc.replay_len = k.n;
	p.sched = &sc;
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), 0);
	assert_true(mmn_explore_violating(mmn_scenario_by_id("user.hmm-flag"), &p, &r));
	assert_true(mmn_explore_violating_def(&u_def, &p, &r));
	assert_true(r.claim_holds);
	assert_string_equal(r.setting, "flag");
	n = mmn_scenario_shrink("user.hmm-flag", &p, 0, k.choices, k.n, out, 0);
	assert_true(n > 0 && (size_t)n <= k.n);
	sc.replay = out;
	sc.replay_len = (size_t)n;
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), 0);
	assert_true(mmn_explore_violating_def(&u_def, &p, &r));
	/* the same schedule under the right variant does not violate */
	p.variant_name = "sequence";
	assert_int_equal(mmn_scenario_run("user.hmm-flag", &p, &r), 0);
	assert_false(mmn_explore_violating_def(&u_def, &p, &r));
}

static void test_exhaustive_finds_the_wrong_variant(void **state)
{
	static struct u_found k;
	struct mmn_explore_stats st;

	(void)state;
	u_explore("flag", MMN_EXPLORE_EXHAUSTIVE, false, &k, &st);
	assert_int_equal(st.violating, 1);
	assert_true(st.by_kind[MMN_VIOL_USE_AFTER_FREE] + st.by_kind[MMN_VIOL_STALE_TRANSLATION] > 0);
}

static void test_right_variant_explores_clean(void **state)
{
	static struct u_found k;
	struct mmn_explore_stats st;

	(void)state;
	u_explore("sequence", MMN_EXPLORE_PCT, true, &k, &st);
	assert_int_equal(st.schedules, 600);
	assert_int_equal(st.budgets, 0);
	assert_int_equal(st.violating, 0);
	assert_int_equal(k.calls, 0);
	u_explore("sequence", MMN_EXPLORE_EXHAUSTIVE, true, &k, &st);
	assert_int_equal(st.violating, 0);
}

static void test_shards_add_up_for_a_user_scenario(void **state)
{
	struct mmn_scenario_params p = { .variant = -1, .wrong = true }; /* wrong/variant fields */
	struct mmn_explore_config c;
	struct mmn_explore_stats whole, s0, s1;

	(void)state;
	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_RANDOM;
	c.runs = 200;
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore("user.hmm-flag", &p, &c, &whole), 0);
	c.shards = 2;
	assert_int_equal(mmn_scenario_explore("user.hmm-flag", &p, &c, &s0), 0);
	c.shard = 1;
	assert_int_equal(mmn_scenario_explore("user.hmm-flag", &p, &c, &s1), 0);
	assert_int_equal(s0.schedules + s1.schedules, whole.schedules);
	assert_int_equal(s0.violating + s1.violating, whole.violating);
	assert_int_equal(s0.steps + s1.steps, whole.steps);
}

static bool u_stop(const struct mmn_explore_stats *st, void *arg)
{
	(void)arg;
	return st->schedules < 30;
}

static void test_progress_can_stop_a_user_exploration(void **state)
{
	struct mmn_explore_config c;
	struct mmn_explore_stats st;

	(void)state;
	mmn_explore_config_init(&c);
	c.runs = 1000;
	c.progress_every = 10;
	c.progress = u_stop;
	assert_int_equal(mmn_scenario_explore("user.hmm-flag", NULL, &c, &st), 0);
	assert_int_equal(st.schedules, 30);
}

/* ---- a one-off definition, not registered ---- */

static void test_one_off_definition_explores_without_registering(void **state)
{
	struct mmn_scenario_def once = u_def; /* same id: never registered */
	struct mmn_scenario_params p = { .variant = -1, .variant_name = "flag" };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	int n = mmn_scenario_count();
	static struct u_found k;
	static uint32_t out[8192];
	long len;

	(void)state;
	once.id = "user.once";
	mmn_explore_config_init(&c);
	c.strategy = MMN_EXPLORE_PCT;
	c.runs = 600;
	c.found = u_keep;
	c.arg = &k;
	assert_int_equal(mmn_scenario_explore_def(&once, &p, &c, &st), 0);
	assert_int_equal(st.violating, 1);
	len = mmn_scenario_shrink_def(&once, &p, 0, k.choices, k.n, out, 0);
	assert_true(len > 0);
	assert_null(mmn_scenario_by_id("user.once"));
	assert_int_equal(mmn_scenario_count(), n);
	assert_int_equal(mmn_scenario_explore("user.once", &p, &c, &st), -ENOENT);
	p.variant_name = "sequence";
	c.keep_going = true;
	c.runs = 200;
	assert_int_equal(mmn_scenario_explore_def(&once, &p, &c, &st), 0);
	assert_int_equal(st.violating, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_registered_scenario_is_listed_after_the_seeds),
		cmocka_unit_test(test_duplicate_id_is_refused),
		cmocka_unit_test(test_bad_definitions_are_refused),
		cmocka_unit_test(test_concurrent_registrations_are_each_counted_once),
		cmocka_unit_test(test_bad_params_are_refused_without_side_effect),
		cmocka_unit_test(test_params_reach_the_hooks),
		cmocka_unit_test(test_explore_finds_the_wrong_variant_replays_and_shrinks),
		cmocka_unit_test(test_exhaustive_finds_the_wrong_variant),
		cmocka_unit_test(test_right_variant_explores_clean),
		cmocka_unit_test(test_shards_add_up_for_a_user_scenario),
		cmocka_unit_test(test_progress_can_stop_a_user_exploration),
		cmocka_unit_test(test_one_off_definition_explores_without_registering),
	};

	return cmocka_run_group_tests(tests, group_setup, NULL);
}
