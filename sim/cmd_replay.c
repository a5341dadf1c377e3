// SPDX-License-Identifier: MIT
/*
 * The replay and shrink commands (docs/cli.md); the file format is in
 * sim/replay_file.c.
 *
 *   mmnsim replay FILE [--trace F] [--chrome F] [--json]
 *   mmnsim shrink FILE [--out F] [--json]
 *
 * replay re-runs the saved choice list (MMN_STRATEGY_REPLAY) and compares its
 * trace with the saved one byte for byte. shrink delta-debugs the list
 * (mmn_scenario_shrink()) and saves the shorter schedule like explore does.
 * Exit status: 1 when the (re-run or shrunk) schedule shows the violation,
 * 0 when it does not, 2 for bad input (one line on stderr) or a replay whose
 * trace differs from the saved one.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "replay_file.h"

/* ------------------------------------------------------------- running -- */

/* Preemptions of a shrunk schedule listed by `shrink`, at most. */
#define SHRINK_SHOW 16

struct rerun {
	const struct mmn_scenario *s;
	const struct mmn_scenario_params *p;
	bool violating;
	char *trace;
	size_t trace_len;
	size_t nr_pre;                                   /* preemptions of the run */
	struct mmn_sched_preemption pre[SHRINK_SHOW];    /* the first of them */
};

static void rerun_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct rerun *x = arg;
	size_t len;
	const char *t = mmn_sched_trace(sim, &len);

	x->violating = mmn_explore_violating(x->s, x->p, r);
	x->nr_pre = mmn_sched_preemptions(sim, x->pre, SHRINK_SHOW);
	x->trace = malloc(len + 1);
	if (x->trace) {
		memcpy(x->trace, t, len + 1);
		x->trace_len = len;
	}
}

/* Replay @choices of @rp's scenario; the run's result in @res, its trace in x->trace. */
static int rerun(const struct replay *rp, const uint32_t *choices, size_t n,
		 struct mmn_scenario_result *res, struct rerun *x)
{
	struct mmn_scenario_params p = rp->p;
	struct mmn_sched_config sc;
	int err;

	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = choices;
	sc.replay_len = n;
	sc.max_steps = rp->max_steps;
	p.mode = MMN_SCENARIO_EXPLORE;
	p.sched = &sc;
	p.inspect = rerun_inspect;
	p.inspect_arg = x;
	memset(x, 0, sizeof(*x));
	x->s = rp->s;
	x->p = &rp->p;
	err = mmn_scenario_run(rp->s->id, &p, res);
	if (!err && !x->trace)
		err = -ENOMEM;
	if (err)
		fprintf(stderr, "mmnsim: scenario %s could not run the saved parameters: %s (%d)\n",
			rp->s->id, strerror(-err), err);
	return err;
}

static const char *outcome_name(enum mmn_sched_outcome o)
{
	return o == MMN_OUTCOME_DEADLOCK ? "deadlock" : o == MMN_OUTCOME_BUDGET ? "budget" : "ok";
}

char *replay_rerun_trace(const struct replay *rp, bool *violating)
{
	struct mmn_scenario_result res;
	struct rerun x;

	if (rerun(rp, rp->choices, rp->nr_choices, &res, &x))
		return NULL;
	*violating = x.violating;
	return x.trace;
}

/* Parse FILE and the options of replay or shrink (@opts): EXIT_OK, EXIT_USAGE
 * after one line, or CLI_HELP after printing the usage. */
static int replay_args(int argc, char **argv, const char *cmd, const struct cli_opt *opts,
		       const char **file)
{
	const struct cli_syntax syn = { .cmd = cmd, .what = "file", .positional = file,
					.opts = opts };
	int rc = cli_parse(argc, argv, &syn);

	if (rc != EXIT_OK)
		return rc;
	if (!*file) {
		fprintf(stderr, "mmnsim: %s needs a replay file (saved by mmnsim explore)\n", cmd);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

/* --trace - or --chrome -: the output goes to stdout. */
static bool replay_stdout_taken(const struct replay_outputs *o)
{
	return (o->trace && !strcmp(o->trace, "-")) || (o->chrome && !strcmp(o->chrome, "-"));
}

int replay_check(const char *file, const struct replay *rp, const struct replay_outputs *o)
{
	struct mmn_scenario_result res;
	struct rerun x;
	bool same = false, have_saved = false;
	char kinds[256];
	int status;

	if (!rp->s) {
		fprintf(stderr, "mmnsim: %s: field 'source': the %s %s is not loaded\n", file,
			cli_source_kind_name(rp->src_kind), rp->src_path);
		return EXIT_USAGE;
	}
	if (rerun(rp, rp->choices, rp->nr_choices, &res, &x))
		return EXIT_USAGE;
	if (rp->trace_file[0]) {
		size_t len;
		char where[1200];
		char *saved;

		snprintf(where, sizeof(where), "%s: field 'trace': the saved trace: ", file);
		saved = read_text_file(rp->trace_file, &len, where);

		if (!saved) {
			free(x.trace);
			return EXIT_USAGE;
		}
		have_saved = true;
		same = len == x.trace_len && !memcmp(saved, x.trace, len);
		free(saved);
	}
	status = x.violating ? EXIT_VIOLATION : EXIT_OK;
	if ((o->trace && write_text_file(o->trace, x.trace, x.trace_len)) ||
	    (o->chrome && write_chrome_file(o->chrome, x.trace)))
		status = EXIT_USAGE;
	if (have_saved && !same) {
		fprintf(stderr, "mmnsim: %s: the replay's trace differs from %s (another mmnsim "
				"version, or an edited file)\n",
			file, rp->trace_file);
		status = EXIT_USAGE;
	}
	if (o->json) {
		struct jw j = { .out = stdout };

		jw_open(&j, NULL, '{');
		jw_str(&j, "file", file);
		jw_str(&j, "scenario", rp->s->id);
		jw_bool(&j, "wrong", rp->p.wrong);
		jw_ulong(&j, "choices", rp->nr_choices);
		jw_ulong(&j, "steps", res.sched.steps);
		jw_str(&j, "outcome", outcome_name(res.sched.outcome));
		jw_ulong(&j, "replay_misses", res.sched.replay_misses);
		jw_bool(&j, "violating", x.violating);
		jw_open(&j, "by_kind", '{');
		for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
			jw_ulong(&j, mmn_violation_kind_name((enum mmn_violation_kind)k),
				   res.by_kind[k]);
		jw_close(&j, '}');
		if (have_saved)
			jw_bool(&j, "trace_identical", same);
		else
			jw_null(&j, "trace_identical");
		jw_ulong(&j, "modelled_ns", res.modelled_ns);
		jw_close(&j, '}');
	} else {
		/* stdout carries --trace - or --chrome -: the summary goes to stderr */
		FILE *out = replay_stdout_taken(o) ? stderr : stdout;

		fprintf(out, "replay      %s: %s %s, %zu choices (found by %s, seed %llu, schedule %lu)\n",
			file, rp->s->id, rp->p.wrong ? "wrong" : "right", rp->nr_choices,
			rp->strategy, (unsigned long long)rp->seed, rp->index);
		fprintf(out, "run         %lu steps, outcome %s, %lu replay misses\n", res.sched.steps,
			outcome_name(res.sched.outcome), res.sched.replay_misses);
		fprintf(out, "violations  %s%s\n", kinds_text(res.by_kind, kinds, sizeof(kinds)),
			x.violating ? " (the scenario's violation: reproduced)" : "");
		fprintf(out, "trace       %s\n", !have_saved ? "no saved trace to compare"
					: same	 ? "identical to the saved trace, byte for byte"
						 : "DIFFERS from the saved trace");
	}
	free(x.trace);
	return status;
}

/* Read replay file @file into @rp and find its scenario (loading its
 * plugin or scenario file); false after one line, with nothing to free. */
static bool replay_open(const char *file, struct replay *rp, struct cli_env *env)
{
	if (!replay_load(file, rp))
		return false;
	if (!replay_resolve(file, rp, env)) {
		replay_free(rp);
		return false;
	}
	return true;
}

int cmd_replay(int argc, char **argv, struct cli_env *env)
{
	const char *file = NULL;
	struct replay_outputs o = { 0 };
	struct replay rp;
	const struct cli_opt opts[] = {
		{ "--json", CLI_FLAG, &o.json, 0, 0, NULL },
		{ "--trace", CLI_STRING, &o.trace, 0, 0, NULL },
		{ "--chrome", CLI_STRING, &o.chrome, 0, 0, NULL },
		{ NULL, CLI_FLAG, NULL, 0, 0, NULL },
	};
	int status;

	status = replay_args(argc, argv, "replay", opts, &file);
	if (status == EXIT_OK && replay_stdout_taken(&o) &&
	    (o.json || (o.trace && o.chrome && !strcmp(o.trace, o.chrome)))) {
		fprintf(stderr, "mmnsim: replay: %s write to stdout; give %s a file\n",
			o.json ? "--json and the '-' output both" : "--trace - and --chrome - both",
			o.trace && !strcmp(o.trace, "-") ? "--trace" : "--chrome");
		status = EXIT_USAGE;
	}
	if (status != EXIT_OK || env->dry)
		return cli_parse_status(status);
	if (!replay_open(file, &rp, env))
		return EXIT_USAGE;
	status = replay_check(file, &rp, &o);
	replay_free(&rp);
	return status;
}

/* Where the shrunk schedule goes: --out PATH(.replay.json) as given, else
 * FILE with ".shrunk" before .replay.json; its directory and stem. */
static void shrunk_place(const char *file, const char *out, char *dir, size_t dir_len,
			 char *stem, size_t stem_len)
{
	const char *target = out ? out : file;
	const char *slash = strrchr(target, '/');
	size_t tl = strlen(target), sl = strlen(".replay.json");
	const char *base = slash ? slash + 1 : target;
	int baselen = (int)strlen(base);

	if (tl > sl && !strcmp(target + tl - sl, ".replay.json"))
		baselen -= (int)sl;
	snprintf(dir, dir_len, "%.*s", slash ? (int)(slash - target) : 1, slash ? target : ".");
	snprintf(stem, stem_len, "%.*s%s", baselen, base, out ? "" : ".shrunk");
}

/* Save the shrunk choices @shrunk[@n] of @rp with the re-run's result @res
 * and trace; EXIT_VIOLATION or EXIT_OK as the re-run shows, EXIT_USAGE
 * when it could not be saved. */
static int save_shrunk(const struct replay *rp, const struct cli_source *src, const char *dir, const char *stem,
		       const uint32_t *shrunk, size_t n, const struct mmn_scenario_result *res,
		       const struct rerun *x, char *path, size_t path_len)
{
	struct mmn_sched_config sc;

	mmn_sched_config_init(&sc);
	sc.seed = rp->seed;
	sc.pct_depth = rp->pct_depth;
	sc.pct_steps = rp->pct_steps;
	sc.max_steps = rp->max_steps;
	if (replay_save(dir, stem, rp->s, src, &rp->p, rp->strategy, &sc, rp->index, shrunk, n,
			res->by_kind, x->trace, path, path_len))
		return EXIT_USAGE;
	return x->violating ? EXIT_VIOLATION : EXIT_OK;
}

/* The preemptions the shrunk schedule still needs, one line each. */
static void print_preemptions(const struct rerun *x)
{
	char line[160];

	printf("preemptions %zu%s\n", x->nr_pre, x->nr_pre ? ":" : " (the non-preemptive schedule)");
	for (size_t i = 0; i < x->nr_pre && i < SHRINK_SHOW; i++)
		if (mmn_sched_preemption_format(&x->pre[i], line, sizeof(line)) >= 0)
			printf("  %s\n", line);
	if (x->nr_pre > SHRINK_SHOW)
		printf("  ... and %zu more\n", x->nr_pre - SHRINK_SHOW);
}

int cmd_shrink(int argc, char **argv, struct cli_env *env)
{
	const char *file = NULL, *out = NULL;
	struct mmn_scenario_result res;
	struct replay rp;
	struct rerun x;
	bool json = false;
	uint32_t *shrunk;
	char dir[512], stem[512], path[1024];
	long n;
	const struct cli_opt opts[] = {
		{ "--json", CLI_FLAG, &json, 0, 0, NULL },
		{ "--out", CLI_STRING, &out, 0, 0, NULL },
		{ NULL, CLI_FLAG, NULL, 0, 0, NULL },
	};
	int status;

	status = replay_args(argc, argv, "shrink", opts, &file);
	if (status != EXIT_OK || env->dry)
		return cli_parse_status(status);
	if (!replay_open(file, &rp, env))
		return EXIT_USAGE;
	shrunk = malloc((rp.nr_choices ? rp.nr_choices : 1) * sizeof(*shrunk));
	if (!shrunk) {
		replay_free(&rp);
		fprintf(stderr, "mmnsim: out of memory\n");
		return EXIT_USAGE;
	}
	/* First: does it still fail as saved? */
	if (rerun(&rp, rp.choices, rp.nr_choices, &res, &x)) {
		free(shrunk);
		replay_free(&rp);
		return EXIT_USAGE;
	}
	free(x.trace);
	if (!x.violating) {
		printf("shrink      %s: the saved schedule shows no violation; nothing to shrink\n",
		       file);
		free(shrunk);
		replay_free(&rp);
		return EXIT_OK;
	}
	n = mmn_scenario_shrink(rp.s->id, &rp.p, rp.max_steps, rp.choices, rp.nr_choices, shrunk,
				0);
	if (n < 0 || rerun(&rp, shrunk, (size_t)n, &res, &x)) {
		if (n < 0)
			fprintf(stderr, "mmnsim: shrinking %s failed: %s\n", file, strerror((int)-n));
		free(shrunk);
		replay_free(&rp);
		return EXIT_USAGE;
	}
	shrunk_place(file, out, dir, sizeof(dir), stem, sizeof(stem));
	status = save_shrunk(&rp, cli_source_of(env, rp.s), dir, stem, shrunk, (size_t)n, &res, &x, path, sizeof(path));
	if (status != EXIT_USAGE) {
		if (json) {
			struct jw j = { .out = stdout };

			jw_open(&j, NULL, '{');
			jw_str(&j, "file", file);
			jw_str(&j, "shrunk", path);
			jw_ulong(&j, "choices_before", rp.nr_choices);
			jw_ulong(&j, "choices_after", (unsigned long)n);
			jw_ulong(&j, "steps_after", res.sched.steps);
			jw_bool(&j, "violating", x.violating);
			jw_ulong(&j, "preemptions", x.nr_pre);
			jw_close(&j, '}');
		} else {
			printf("shrink      %s: %zu choices -> %ld, %lu steps; still violating: %s\n",
			       file, rp.nr_choices, n, res.sched.steps, x.violating ? "yes" : "NO");
			print_preemptions(&x);
			printf("saved       %s (and its .trace.txt, .trace.json)\n", path);
		}
	}
	free(x.trace);
	free(shrunk);
	replay_free(&rp);
	return status;
}
