// SPDX-License-Identifier: MIT
/*
 * Behaviour fingerprint of the seed scenarios: for S1-S9 under their right
 * and wrong settings, the SHA-256 of the text traces of a fixed set of
 * schedules (random and PCT seeds 1-3, the first three schedules of the
 * bound-2 exhaustive enumeration) and the statistics of a fixed exploration
 * per strategy. A refactoring must leave every line as it is; a change that
 * alters a schedule on purpose regenerates the file and says so in its
 * commit:
 *
 *   build/release/tests/golden/test_trace_hashes --print > tests/golden/trace_hashes.txt
 *
 * Without --print the program compares its lines with that file (path
 * compiled in) and fails on the first difference, naming both lines.
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
#include <nettle/sha2.h>

#include <mmnsim/explore.h>
#include <mmnsim/scenario.h>
#include <mmnsim/sched.h>

#define NR_SEEDS 3      /* random and PCT seeds 1..NR_SEEDS */
#define NR_EXHAUSTIVE 3 /* first schedules of the exhaustive enumeration */
#define EXPLORE_RUNS 40 /* schedules of each fingerprinted exploration */

struct lines {
	char *buf;
	size_t len, cap;
};

static void add_line(struct lines *l, const char *fmt, ...)
{
	char tmp[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(tmp, sizeof(tmp), fmt, ap);
	va_end(ap);
	assert_true(n > 0 && (size_t)n < sizeof(tmp) - 1);
	if (l->len + (size_t)n + 2 > l->cap) {
		l->cap = 2 * (l->len + (size_t)n + 2);
		l->buf = realloc(l->buf, l->cap);
		assert_non_null(l->buf);
	}
	memcpy(l->buf + l->len, tmp, (size_t)n);
	l->len += (size_t)n;
	l->buf[l->len++] = '\n';
	l->buf[l->len] = '\0';
}

/* One traced schedule: its trace's hash, and the exhaustive explorer fed. */
struct traced {
	struct mmn_sched_explorer *x;
	char hex[2 * SHA256_DIGEST_SIZE + 1];
	int err;
};

static void traced_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct traced *t = arg;
	uint8_t d[SHA256_DIGEST_SIZE];
	struct sha256_ctx ctx;
	size_t len = 0;
	const char *trace = mmn_sched_trace(sim, &len);

	(void)r;
	sha256_init(&ctx);
	sha256_update(&ctx, len, (const uint8_t *)trace);
	sha256_digest(&ctx, sizeof(d), d);
	for (size_t i = 0; i < sizeof(d); i++)
		snprintf(t->hex + 2 * i, 3, "%02x", d[i]);
	if (t->x)
		t->err = mmn_sched_explorer_record(t->x, sim);
}

static void traced_line(struct lines *l, const char *id, bool wrong, const char *what,
			struct mmn_sched_config *sc, struct mmn_sched_explorer *x)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1, .mode = MMN_SCENARIO_EXPLORE };
	struct mmn_scenario_result r;
	struct traced t = { .x = x };

	sc->trace = true;
	p.sched = sc;
	p.inspect = traced_inspect;
	p.inspect_arg = &t;
	assert_int_equal(mmn_scenario_run(id, &p, &r), 0);
	assert_int_equal(t.err, 0);
	add_line(l, "%s %s %s outcome=%d steps=%lu choices=%lu violations=%lu claim=%d modelled=%llu sha256=%s",
		 id, wrong ? "wrong" : "right", what, (int)r.sched.outcome, r.sched.steps, r.sched.choices,
		 r.violations, (int)r.claim_holds, (unsigned long long)r.modelled_ns, t.hex);
}

static void explore_line(struct lines *l, const char *id, bool wrong, enum mmn_explore_strategy s)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1 };
	struct mmn_explore_config c;
	struct mmn_explore_stats st;
	char kinds[256] = "";
	size_t off = 0;

	mmn_explore_config_init(&c);
	c.strategy = s;
	c.runs = EXPLORE_RUNS;
	c.keep_going = true;
	c.trace = false;
	assert_int_equal(mmn_scenario_explore(id, &p, &c, &st), 0);
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		off += (size_t)snprintf(kinds + off, sizeof(kinds) - off, "%s%lu", k ? "," : "", st.by_kind[k]);
	add_line(l, "%s %s explore-%s schedules=%lu violating=%lu first=%ld steps=%llu deadlocks=%lu budgets=%lu held=%lu modelled=%llu complete=%d kinds=%s",
		 id, wrong ? "wrong" : "right", mmn_explore_strategy_name(s), st.schedules, st.violating,
		 st.first_index == (unsigned long)-1 ? -1L : (long)st.first_index,
		 (unsigned long long)st.steps, st.deadlocks, st.budgets, st.claims_held,
		 (unsigned long long)st.modelled_ns, (int)st.complete, kinds);
}

static void scenario_lines(struct lines *l, const char *id, bool wrong)
{
	struct mmn_sched_config sc;
	char what[32];

	for (unsigned int seed = 1; seed <= NR_SEEDS; seed++) {
		mmn_sched_config_init(&sc);
		sc.strategy = MMN_STRATEGY_RANDOM;
		sc.seed = seed;
		snprintf(what, sizeof(what), "random-%u", seed);
		traced_line(l, id, wrong, what, &sc, NULL);

		mmn_sched_config_init(&sc);
		sc.strategy = MMN_STRATEGY_PCT;
		sc.seed = seed;
		sc.pct_depth = 3;
		sc.pct_steps = 200;
		snprintf(what, sizeof(what), "pct-%u", seed);
		traced_line(l, id, wrong, what, &sc, NULL);
	}

	struct mmn_sched_explorer *x = mmn_sched_explorer_create(2);

	assert_non_null(x);
	for (int i = 0; i < NR_EXHAUSTIVE; i++) {
		mmn_sched_config_init(&sc);
		if (!mmn_sched_explorer_next(x, &sc))
			break;
		snprintf(what, sizeof(what), "exhaustive-%d", i);
		traced_line(l, id, wrong, what, &sc, x);
	}
	mmn_sched_explorer_destroy(x);

	explore_line(l, id, wrong, MMN_EXPLORE_RANDOM);
	explore_line(l, id, wrong, MMN_EXPLORE_PCT);
	explore_line(l, id, wrong, MMN_EXPLORE_EXHAUSTIVE);
}

static void all_lines(struct lines *l)
{
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const char *id = mmn_scenario_at(i)->id;

		scenario_lines(l, id, false);
		scenario_lines(l, id, true);
	}
}

static char *read_file(const char *path)
{
	FILE *f = fopen(path, "r");
	char *buf;
	long n;

	if (!f)
		return NULL;
	fseek(f, 0, SEEK_END);
	n = ftell(f);
	rewind(f);
	buf = malloc((size_t)n + 1);
	if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
		free(buf);
		buf = NULL;
	}
	if (buf)
		buf[n] = '\0';
	fclose(f);
	return buf;
}

/* Every line of the fingerprint equals the recorded one. */
static void test_seed_scenario_traces_match_recorded_hashes(void **state)
{
	struct lines l = { 0 };
	char *want = read_file(MMN_GOLDEN_FILE);
	const char *a, *b;
	int line = 1;

	(void)state;
	if (!want)
		fail_msg("cannot read %s: %s", MMN_GOLDEN_FILE, strerror(errno));
	all_lines(&l);
	for (a = l.buf, b = want; *a && *b; line++) {
		size_t na = strcspn(a, "\n"), nb = strcspn(b, "\n");

		if (na != nb || memcmp(a, b, na))
			fail_msg("%s:%d differs\n  recorded: %.*s\n  now:      %.*s", MMN_GOLDEN_FILE, line,
				 (int)nb, b, (int)na, a);
		a += na + (a[na] == '\n');
		b += nb + (b[nb] == '\n');
	}
	if (*a || *b)
		fail_msg("%s: %s lines than recorded (line %d)", MMN_GOLDEN_FILE, *a ? "more" : "fewer", line);
	print_message("%d lines match %s\n", line - 1, MMN_GOLDEN_FILE);
	free(l.buf);
	free(want);
}

int main(int argc, char **argv)
{
	if (argc == 2 && !strcmp(argv[1], "--print")) {
		struct lines l = { 0 };

		all_lines(&l);
		fputs(l.buf, stdout);
		free(l.buf);
		return 0;
	}
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_seed_scenario_traces_match_recorded_hashes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
