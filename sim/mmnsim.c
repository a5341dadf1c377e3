// SPDX-License-Identifier: MIT
/*
 * mmnsim: the simulator's command line (issue 6; docs/cli.md).
 *
 *   mmnsim list [--json]
 *   mmnsim run SCENARIO [--wrong] [--profile P] [--knob k=v ...] [--variant N]
 *              [--pages N] [--iterations N] [--seed N] [--threads native] [--json]
 *   mmnsim explore SCENARIO|all [--strategy S] [--runs N] [--shard I/N] [--jobs J] ...
 *   mmnsim replay FILE [--trace F] [--chrome F] [--json]
 *   mmnsim shrink FILE [--out F] [--json]
 *   mmnsim help | --help
 *
 * Exit status: 0 ok (run: no violation), 1 a violation was found, 2 usage or
 * input error (one line on stderr naming the bad thing), or a scenario that
 * could not run with the given parameters.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "cli.h"

static const char usage_text[] =
	"usage: mmnsim COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  list [--json]                   the scenarios, the profiles and the knobs\n"
	"  run SCENARIO [options]          run one scenario once\n"
	"  explore SCENARIO|all [options]  search the scenario's schedules for violations\n"
	"  replay FILE [options]           re-run a saved schedule (a .replay.json file)\n"
	"  shrink FILE [options]           shorten a saved violating schedule\n"
	"  help, --help                    this text\n"
	"\n"
	"scenario options (run and explore):\n"
	"  --wrong                 the seed's wrong setting (default: the right one)\n"
	"  --profile P             kernel profile (default: the scenario's choice)\n"
	"  --knob NAME=VALUE       override one knob; repeatable (at most 8)\n"
	"  --variant N             listener variant (the listener's enum value)\n"
	"  --pages N               pages of the working set (N >= 1)\n"
	"  --iterations N          rounds of a native run (N >= 1)\n"
	"  --seed N                seed of every pseudo-random choice (0 means 1)\n"
	"\n"
	"run options:\n"
	"  --threads native        native threads (default: the deterministic interleaving)\n"
	"  --threads interleaved   the deterministic interleaving (the default)\n"
	"  --json                  one JSON object instead of the human summary\n"
	"\n"
	"explore options:\n"
	"  --strategy S            random, pct (default) or exhaustive\n"
	"  --runs N                schedules in all shards together (default 1000)\n"
	"  --schedule-seed N       strategy seed of schedule 0; schedule i uses N + i (default 1;\n"
	"                          --seed is the scenario's own seed)\n"
	"  --shard I/N             run shard I of N (0 <= I < N; not with exhaustive)\n"
	"  --jobs J                J processes on this machine (default 1)\n"
	"  --pct-depth D           PCT bug depth (default 3)\n"
	"  --pct-steps K           PCT step estimate (default: measured)\n"
	"  --preemption-bound B    exhaustive: preemptions per schedule (default 2)\n"
	"  --max-steps N           step budget of a schedule (default 100000)\n"
	"  --keep-going            explore every schedule (default: stop at the first violation)\n"
	"  --out DIR               where found schedules are saved (default mmnsim-out)\n"
	"  --max-saves N           schedules saved per job, at most (default 10; 0: none)\n"
	"  --right                 the right setting (the default; with all: only the right rows;\n"
	"                          --wrong: only the wrong rows; neither: both)\n"
	"  --json                  one JSON object (mergeable across shards, docs/exploration.md)\n"
	"  --quiet                 no progress line\n"
	"\n"
	"replay and shrink options:\n"
	"  --out FILE              shrink: where the shrunk schedule goes\n"
	"                          (default FILE with .shrunk before .replay.json)\n"
	"  --trace FILE            replay: write the text trace there ('-': stdout)\n"
	"  --chrome FILE           replay: write the Chrome trace-event JSON there\n"
	"  --json                  one JSON object instead of the human summary\n"
	"\n"
	"exit status: 0 ok, 1 violation found, 2 usage or input error\n";

void usage(FILE *out)
{
	fputs(usage_text, out);
}

/* ---------------------------------------------------------------- list -- */

static int cmd_list(int argc, char **argv)
{
	const struct mmn_profile *latest = mmn_profile_by_name("latest");
	bool json = false;

	for (int a = 0; a < argc; a++) {
		if (!strcmp(argv[a], "--json")) {
			json = true;
		} else if (!strcmp(argv[a], "--help") || !strcmp(argv[a], "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (argv[a][0] == '-') {
			fprintf(stderr, "mmnsim: unknown option '%s' for list\n", argv[a]);
			return EXIT_USAGE;
		} else {
			fprintf(stderr, "mmnsim: list takes no argument, got '%s'\n", argv[a]);
			return EXIT_USAGE;
		}
	}

	if (json) {
		struct jw j = { .out = stdout };

		jw_open(&j, NULL, '{');
		jw_str(&j, "version", mmn_version_string());
		jw_open(&j, "scenarios", '[');
		for (int i = 0; i < mmn_scenario_count(); i++) {
			const struct mmn_scenario *s = mmn_scenario_at(i);

			jw_open(&j, NULL, '{');
			jw_str(&j, "id", s->id);
			jw_str(&j, "seed_thread", s->seed);
			jw_str(&j, "title", s->title);
			jw_str(&j, "claim", s->claim);
			jw_close(&j, '}');
		}
		jw_close(&j, ']');
		jw_open(&j, "profiles", '[');
		for (int i = 0; i < mmn_profile_count(); i++)
			jw_str(&j, NULL, mmn_profile_at(i)->name);
		jw_close(&j, ']');
		jw_open(&j, "knobs", '[');
		for (int i = 0; i < mmn_profile_knob_count(); i++) {
			const char *name = mmn_profile_knob_name(i);
			char val[64];

			jw_open(&j, NULL, '{');
			jw_str(&j, "name", name);
			if (latest && !mmn_profile_knob_value(latest, name, val, sizeof(val)))
				jw_str(&j, "latest", val);
			else
				jw_null(&j, "latest");
			jw_close(&j, '}');
		}
		jw_close(&j, ']');
		jw_open(&j, "costs", '[');
		for (int c = 0; c < MMN_COST_NR; c++) {
			char knob[64];

			snprintf(knob, sizeof(knob), "cost_%s_ns", mmn_cost_name((enum mmn_cost)c));
			jw_open(&j, NULL, '{');
			jw_str(&j, "knob", knob);
			jw_ulong(&j, "default_ns", mmn_cost_default((enum mmn_cost)c));
			jw_close(&j, '}');
		}
		jw_close(&j, ']');
		jw_close(&j, '}');
		return EXIT_OK;
	}

	printf("scenarios (mmnsim run ID):\n");
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const struct mmn_scenario *s = mmn_scenario_at(i);

		printf("  %-3s seed %-5s %s\n", s->id, s->seed, s->title);
		printf("      claim: %s\n", s->claim);
	}
	printf("profiles (--profile P):\n ");
	for (int i = 0; i < mmn_profile_count(); i++)
		printf(" %s", mmn_profile_at(i)->name);
	printf("\nknobs (--knob NAME=VALUE; value in latest):\n");
	for (int i = 0; i < mmn_profile_knob_count(); i++) {
		const char *name = mmn_profile_knob_name(i);
		char val[64] = "?";

		if (latest)
			mmn_profile_knob_value(latest, name, val, sizeof(val));
		printf("  %-32s %s\n", name, val);
	}
	printf("costs of the modelled clock (--knob cost_NAME_ns=NS; default ns; docs/clock.md):\n");
	for (int c = 0; c < MMN_COST_NR; c++) {
		char knob[64];

		snprintf(knob, sizeof(knob), "cost_%s_ns", mmn_cost_name((enum mmn_cost)c));
		printf("  %-32s %llu\n", knob,
		       (unsigned long long)mmn_cost_default((enum mmn_cost)c));
	}
	return EXIT_OK;
}

/* ----------------------------------------------------------------- run -- */

static const char *mode_name(enum mmn_scenario_mode m)
{
	return m == MMN_SCENARIO_NATIVE ? "native" : "interleaved";
}

static void print_human(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
			const struct mmn_scenario_result *r)
{
	bool any = false;

	printf("scenario    %s (seed %s): %s\n", s->id, s->seed, s->title);
	printf("setting     %s: %s\n", p->wrong ? "wrong" : "right", r->setting);
	printf("profile     %s", r->profile);
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		printf("%s%s", i ? ", " : " + ", p->knobs[i]);
	printf("\n");
	printf("mode        %s, seed %llu", mode_name(p->mode),
	       (unsigned long long)(p->seed ? p->seed : 1));
	if (p->variant >= 0)
		printf(", variant %d", p->variant);
	if (p->pages)
		printf(", pages %lu", p->pages);
	if (p->iterations)
		printf(", iterations %lu", p->iterations);
	printf("\n");
	printf("runs        %lu\n", r->runs);
	printf("violations  %lu", r->violations);
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		if (!r->by_kind[k])
			continue;
		printf("%s%s %lu", any ? ", " : ": ",
		       mmn_violation_kind_name((enum mmn_violation_kind)k), r->by_kind[k]);
		any = true;
	}
	printf("\n");
	printf("counters   ");
	if (!r->nr_counters)
		printf(" none");
	for (int i = 0; i < r->nr_counters; i++)
		printf(" %s=%lu", r->counter_names[i], r->counters[i]);
	printf("\n");
	printf("time        real %.3f ms, modelled %.3f ms (docs/clock.md)\n", r->real_ns / 1e6,
	       r->modelled_ns / 1e6);
	if (r->note[0])
		printf("note        %s\n", r->note);
	printf("claim       %s: %s\n", r->claim_holds ? "holds" : "DOES NOT HOLD", s->claim);
}

static void print_json(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
		       const struct mmn_scenario_result *r)
{
	struct jw j = { .out = stdout };

	jw_open(&j, NULL, '{');
	jw_str(&j, "scenario", s->id);
	jw_str(&j, "seed_thread", s->seed);
	jw_str(&j, "title", s->title);
	jw_bool(&j, "wrong", p->wrong);
	jw_str(&j, "mode", mode_name(p->mode));
	jw_str(&j, "profile", r->profile);
	jw_open(&j, "knobs", '[');
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		jw_str(&j, NULL, p->knobs[i]);
	jw_close(&j, ']');
	jw_int(&j, "variant", p->variant);
	jw_ulong(&j, "pages", p->pages);
	jw_ulong(&j, "iterations", p->iterations);
	jw_ulong(&j, "rng_seed", p->seed ? p->seed : 1);
	jw_str(&j, "setting", r->setting);
	jw_ulong(&j, "runs", r->runs);
	jw_ulong(&j, "violations", r->violations);
	jw_open(&j, "by_kind", '{');
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		jw_ulong(&j, mmn_violation_kind_name((enum mmn_violation_kind)k), r->by_kind[k]);
	jw_close(&j, '}');
	jw_open(&j, "counters", '{');
	for (int i = 0; i < r->nr_counters; i++)
		jw_ulong(&j, r->counter_names[i], r->counters[i]);
	jw_close(&j, '}');
	jw_ulong(&j, "real_ns", r->real_ns);
	jw_ulong(&j, "modelled_ns", r->modelled_ns);
	jw_str(&j, "note", r->note);
	jw_str(&j, "claim", s->claim);
	jw_bool(&j, "claim_holds", r->claim_holds);
	jw_close(&j, '}');
}

static int cmd_run(int argc, char **argv)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_INTERLEAVED };
	const struct mmn_scenario *s = NULL;
	struct mmn_scenario_result r;
	const char *scenario = NULL;
	int nr_knobs = 0;
	bool json = false;
	const char *val;
	int err;

	for (int a = 0; a < argc; a++) {
		const char *arg = argv[a];
		int used = scenario_option(argc, argv, &a, &p, &nr_knobs);

		if (used < 0)
			return EXIT_USAGE;
		if (used)
			continue;
		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(arg, "--json")) {
			json = true;
		} else if (is_option(arg, "--threads")) {
			if (!(val = option_value(argc, argv, &a, "--threads")))
				return EXIT_USAGE;
			if (!strcmp(val, "native")) {
				p.mode = MMN_SCENARIO_NATIVE;
			} else if (!strcmp(val, "interleaved")) {
				p.mode = MMN_SCENARIO_INTERLEAVED;
			} else {
				fprintf(stderr,
					"mmnsim: --threads takes 'native' or 'interleaved', not '%s'\n",
					val);
				return EXIT_USAGE;
			}
		} else if (!take_positional("run", "scenario", arg, &scenario)) {
			return EXIT_USAGE;
		}
	}

	if (!scenario) {
		fprintf(stderr, "mmnsim: run needs a scenario (mmnsim list shows them)\n");
		return EXIT_USAGE;
	}
	s = mmn_scenario_by_id(scenario);
	if (!s) {
		fprintf(stderr, "mmnsim: unknown scenario '%s' (mmnsim list shows them)\n", scenario);
		return EXIT_USAGE;
	}
	if (!check_knobs(&p, ""))
		return EXIT_USAGE;

	err = mmn_scenario_run(s->id, &p, &r);
	if (err) {
		fprintf(stderr,
			"mmnsim: scenario %s could not run with these parameters: %s (%d); "
			"see docs/scenarios.md for its --variant, --pages and --iterations\n",
			s->id, strerror(-err), err);
		return EXIT_USAGE;
	}
	if (json)
		print_json(s, &p, &r);
	else
		print_human(s, &p, &r);
	return r.violations ? EXIT_VIOLATION : EXIT_OK;
}

/* ---------------------------------------------------------------- main -- */

int main(int argc, char **argv)
{
	const char *cmd;
	int status;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "help") || !strcmp(cmd, "--help") || !strcmp(cmd, "-h")) {
		usage(stdout);
		status = EXIT_OK;
	} else if (!strcmp(cmd, "--version")) {
		printf("mmnsim %s\n", mmn_version_string());
		status = EXIT_OK;
	} else if (!strcmp(cmd, "list")) {
		status = cmd_list(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "run")) {
		status = cmd_run(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "explore")) {
		status = cmd_explore(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "replay")) {
		status = cmd_replay(argc - 2, argv + 2);
	} else if (!strcmp(cmd, "shrink")) {
		status = cmd_shrink(argc - 2, argv + 2);
	} else if (cmd[0] == '-') {
		fprintf(stderr, "mmnsim: unknown option '%s' (mmnsim --help)\n", cmd);
		return EXIT_USAGE;
	} else {
		fprintf(stderr, "mmnsim: unknown command '%s' (mmnsim --help shows them)\n", cmd);
		return EXIT_USAGE;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mmnsim: cannot write the output: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}
