// SPDX-License-Identifier: MIT
/*
 * What the mmnsim commands share (sim/cli.h): the --help text, the one
 * option loop (cli_parse()) with its numbers and its one-line errors, and
 * the knob checks.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "replay_file.h"

/* --------------------------------------------------------------- usage -- */

static const char usage_head[] =
	"usage: mmnsim [--load PLUGIN.so ...] COMMAND [ARGS]\n"
	"\n"
	"  --load PLUGIN.so        load a plugin that registers scenarios (repeatable; also\n"
	"                          MMNSIM_PLUGINS=a.so:b.so); its scenarios work as S1-S9 do\n"
	"\n"
	"commands:\n"
	"  list [--json]                   the scenarios, the profiles and the knobs\n"
	"  run SCENARIO [options]          run one scenario once\n"
	"  explore SCENARIO|all [options]  search the scenario's schedules for violations\n"
	"  replay FILE [options]           re-run a saved schedule (a .replay.json file)\n"
	"  shrink FILE [options]           shorten a saved violating schedule\n"
	"  trace FILE [options]            a saved schedule as a timeline, one column per actor\n"
	"  merge [--json] SHARD.json...    check and merge the --json outputs of explore's shards\n"
	"  help [COMMAND], --help          this text, or one command's\n"
	"\n";

static const char usage_scenario[] =
	"scenario options (run and explore):\n"
	"  --wrong                 the seed's wrong setting (default: the right one)\n"
	"  --profile P             kernel profile (default: the scenario's choice)\n"
	"  --knob NAME=VALUE       override one knob; repeatable (at most 8)\n"
	"  --variant N             listener variant (the listener's enum value; -1, the\n"
	"                          default: the scenario's choice)\n"
	"  --pages N               pages of the working set (N >= 1)\n"
	"  --iterations N          rounds of a native run (N >= 1)\n"
	"  --seed N                seed of every pseudo-random choice (0 means 1)\n"
	"\n";

static const char usage_run[] =
	"run options:\n"
	"  --threads native        native threads (default: the deterministic interleaving)\n"
	"  --threads interleaved   the deterministic interleaving (the default)\n"
	"  --json                  one JSON object instead of the human summary\n"
	"\n";

static const char usage_explore[] =
	"explore options:\n"
	"  --strategy S            random, pct (default), exhaustive or dpor (partial-order\n"
	"                          reduction: one schedule per equivalence class)\n"
	"  --runs N                schedules in all shards together (default 1000)\n"
	"  --schedule-seed N       strategy seed of schedule 0; schedule i uses N + i (default 1;\n"
	"                          --seed is the scenario's own seed)\n"
	"  --shard I/N             run shard I of N (0 <= I < N)\n"
	"  --jobs J                J processes on this machine (default 1)\n"
	"  --pct-depth D           PCT bug depth (default 3)\n"
	"  --pct-steps K           PCT step estimate (default: measured)\n"
	"  --preemption-bound B    exhaustive, dpor: preemptions per schedule (default 2;\n"
	"                          dpor: none)\n"
	"  --shard-depth D         exhaustive, dpor: depth of the subtrees dealt to shards and\n"
	"                          jobs (default 6)\n"
	"  --max-steps N           step budget of a schedule (default 100000)\n"
	"  --keep-going            explore every schedule (default: stop at the first violation)\n"
	"  --out DIR               where found schedules are saved (default mmnsim-out)\n"
	"  --max-saves N           schedules saved per job, at most (default 10; 0: none)\n"
	"  --schedules FILE        one TSV row per schedule: index, steps, modelled_ns,\n"
	"                          outcome, violating (not with all)\n"
	"  --right                 the right setting (the default; with all: only the right rows;\n"
	"                          --wrong: only the wrong rows; neither: both)\n"
	"  --json                  one JSON object (mergeable across shards, docs/exploration.md)\n"
	"  --quiet                 no progress line\n"
	"\n";

static const char usage_replay[] =
	"replay and shrink options:\n"
	"  --out FILE              shrink: where the shrunk schedule goes\n"
	"                          (default FILE with .shrunk before .replay.json)\n"
	"  --trace FILE            replay: write the text trace there ('-': stdout)\n"
	"  --chrome FILE           replay: write the Chrome trace-event JSON there ('-': stdout)\n"
	"                          (with a '-' output, the summary goes to stderr)\n"
	"  --json                  one JSON object instead of the human summary\n"
	"\n";

static const char usage_trace[] =
	"trace options:\n"
	"  --points                every scheduling point on its own row (default: the PTE,\n"
	"                          TLB-fill and SRCU points of a run counted in one row)\n"
	"  --width N               columns of the timeline (40..1000, default 120)\n"
	"  --svg OUT.svg           also draw the timeline as SVG: spans as boxes, an arrow\n"
	"                          from a frame's free to the violation it causes\n"
	"\n";

static const char usage_tail[] = "exit status: 0 ok, 1 violation found, 2 usage or input error\n";

void usage(FILE *out)
{
	fputs(usage_head, out);
	fputs(usage_scenario, out);
	fputs(usage_run, out);
	fputs(usage_explore, out);
	fputs(usage_replay, out);
	fputs(usage_trace, out);
	fputs(usage_tail, out);
}

/* One command's synopsis and the option sections it takes. */
static const struct {
	const char *cmd, *synopsis;
	const char *sections[2];
} command_usage[] = {
	{ "list", "mmnsim list [--json]\n  the scenarios, the profiles, the knobs and the costs\n", { NULL } },
	{ "run", "mmnsim run SCENARIO|FILE.yaml [options]\n  run one scenario once\n",
	  { usage_scenario, usage_run } },
	{ "explore", "mmnsim explore SCENARIO|FILE.yaml|all [options]\n"
		     "  search the scenario's schedules for violations\n",
	  { usage_scenario, usage_explore } },
	{ "replay", "mmnsim replay FILE [--trace F] [--chrome F] [--json]\n"
		    "  re-run a saved schedule and compare its trace with the saved one\n",
	  { usage_replay } },
	{ "shrink", "mmnsim shrink FILE [--out F] [--json]\n  shorten a saved violating schedule\n",
	  { usage_replay } },
	{ "trace", "mmnsim trace FILE [--points] [--width N] [--svg OUT.svg]\n"
		   "  replay a saved schedule and print it as a timeline, one column per actor\n",
	  { usage_trace } },
	{ "merge", "mmnsim merge [--json] SHARD.json...\n"
		   "  check that the files are the --json outputs of the shards of one exploration,\n"
		   "  and merge them (docs/cluster.md)\n", { NULL } },
};

bool usage_command(FILE *out, const char *cmd)
{
	for (size_t i = 0; i < sizeof(command_usage) / sizeof(command_usage[0]); i++) {
		if (strcmp(cmd, command_usage[i].cmd))
			continue;
		fprintf(out, "usage: %s\n", command_usage[i].synopsis);
		for (int k = 0; k < 2 && command_usage[i].sections[k]; k++)
			fputs(command_usage[i].sections[k], out);
		fputs(usage_tail, out);
		return true;
	}
	return false;
}

/* ------------------------------------------------------------- options -- */

/*
 * Parse the decimal number @p s given to option @p opt into @p out, within
 * [min, max]. Signs, spaces, empty strings, trailing characters and
 * overflow are rejected with one line on stderr.
 */
static bool parse_number(const char *opt, const char *s, unsigned long long min,
			 unsigned long long max, unsigned long long *out)
{
	unsigned long long v;
	char *end;

	if (!isdigit((unsigned char)s[0])) {
		fprintf(stderr, "mmnsim: %s takes a decimal number, not '%s'\n", opt, s);
		return false;
	}
	errno = 0;
	v = strtoull(s, &end, 10);
	if (*end) {
		fprintf(stderr, "mmnsim: %s takes a decimal number, not '%s'\n", opt, s);
		return false;
	}
	if (errno == ERANGE || v < min || v > max) {
		fprintf(stderr, "mmnsim: %s %s is out of range (%llu..%llu)\n", opt, s, min, max);
		return false;
	}
	*out = v;
	return true;
}

/* The value of option argv[*a] ("--opt VALUE" or "--opt=VALUE"), or NULL
 * after one line on stderr when it is missing. */
static const char *option_value(int argc, char **argv, int *a, const char *opt)
{
	const char *arg = argv[*a];
	size_t n = strlen(opt);

	if (arg[n] == '=')
		return arg + n + 1;
	if (*a + 1 >= argc) {
		fprintf(stderr, "mmnsim: option %s needs a value\n", opt);
		return NULL;
	}
	return argv[++*a];
}

/* Whether argv element @p arg is option @p opt, alone or as "opt=...". */
static bool is_option(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}

/*
 * An argv element that no option of the command took: an unknown option
 * (one line, false), or the command's one positional argument, a @what
 * ("scenario", "file"), stored in *@slot (false after one line if it is the
 * second).
 */
static bool take_positional(const char *cmd, const char *what, const char *arg, const char **slot)
{
	if (arg[0] == '-' && arg[1] != '\0') {
		fprintf(stderr, "mmnsim: unknown option '%s' for %s (mmnsim --help)\n", arg, cmd);
		return false;
	}
	if (*slot) {
		fprintf(stderr, "mmnsim: %s takes one %s, got '%s' after '%s'\n", cmd, what, arg,
			*slot);
		return false;
	}
	*slot = arg;
	return true;
}

/* An argv element of a command that takes no positional argument (list):
 * one line, always false. */
static bool no_positional(const char *cmd, const char *arg)
{
	if (arg[0] == '-')
		fprintf(stderr, "mmnsim: unknown option '%s' for %s\n", arg, cmd);
	else
		fprintf(stderr, "mmnsim: %s takes no argument, got '%s'\n", cmd, arg);
	return false;
}

/* The option of @opts that argv element @arg names, or NULL. */
static const struct cli_opt *find_option(const struct cli_opt *opts, const char *arg)
{
	for (; opts->name; opts++)
		if (opts->type == CLI_FLAG ? !strcmp(arg, opts->name) : is_option(arg, opts->name))
			return opts;
	return NULL;
}

/* Store @val (already split off the argv) for option @o; false after one line. */
static bool set_option(const struct cli_opt *o, const char *val)
{
	unsigned long long v;

	switch (o->type) {
	case CLI_FLAG:
		*(bool *)o->dest = true;
		return true;
	case CLI_STRING:
		*(const char **)o->dest = val;
		return true;
	case CLI_CUSTOM:
		return o->set(val, o->dest);
	default:
		break;
	}
	if (!parse_number(o->name, val, o->min, o->max, &v))
		return false;
	if (o->type == CLI_INT)
		*(int *)o->dest = (int)v;
	else if (o->type == CLI_UINT)
		*(unsigned int *)o->dest = (unsigned int)v;
	else if (o->type == CLI_ULONG)
		*(unsigned long *)o->dest = (unsigned long)v;
	else
		*(uint64_t *)o->dest = (uint64_t)v;
	return true;
}

int cli_parse(int argc, char **argv, const struct cli_syntax *syn)
{
	for (int a = 0; a < argc; a++) {
		const char *arg = argv[a], *val = NULL;
		const struct cli_opt *o = find_option(syn->opts, arg);

		if (o) {
			if (o->type != CLI_FLAG && !(val = option_value(argc, argv, &a, o->name)))
				return EXIT_USAGE;
			if (!set_option(o, val))
				return EXIT_USAGE;
			if (syn->given)
				syn->given[o - syn->opts] = true;
		} else if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			if (!usage_command(stdout, syn->cmd))
				usage(stdout);
			return CLI_HELP;
		} else if (!syn->what ? !no_positional(syn->cmd, arg)
				      : !take_positional(syn->cmd, syn->what, arg, syn->positional)) {
			return EXIT_USAGE;
		}
	}
	return EXIT_OK;
}

bool cli_given(const struct cli_syntax *syn, const char *name)
{
	for (const struct cli_opt *o = syn->opts; o->name; o++)
		if (!strcmp(o->name, name))
			return syn->given[o - syn->opts];
	return false;
}

bool cli_set_variant(const char *val, void *dest)
{
	unsigned long long v;

	if (!strcmp(val, "-1")) {
		*(int *)dest = -1;
		return true;
	}
	if (!parse_number("--variant", val, 0, INT_MAX, &v))
		return false;
	*(int *)dest = (int)v;
	return true;
}

bool cli_set_profile(const char *val, void *dest)
{
	if (!mmn_profile_by_name(val)) {
		fprintf(stderr, "mmnsim: unknown profile '%s' (mmnsim list shows them)\n", val);
		return false;
	}
	*(const char **)dest = val;
	return true;
}

bool cli_set_knob(const char *val, void *dest)
{
	const char **knobs = dest;
	int n = 0;

	while (n < MMN_SCENARIO_MAX_KNOBS && knobs[n])
		n++;
	if (n >= MMN_SCENARIO_MAX_KNOBS) {
		fprintf(stderr, "mmnsim: too many --knob options (at most %d)\n",
			MMN_SCENARIO_MAX_KNOBS);
		return false;
	}
	knobs[n] = val;
	return true;
}

/* --------------------------------------------------------------- knobs -- */

/*
 * Check "name=value" against a copy of the profile @p base (cost_*_ns knobs
 * against the clock's cost model): one line on stderr, prefixed by @p where,
 * and false for a missing '=', an unknown knob or a value it does not accept.
 */
static bool check_knob(const struct mmn_profile *base, const char *kv, const char *where)
{
	struct mmn_profile copy = *base;
	const char *eq = strchr(kv, '=');
	char name[64];
	size_t n;
	int err;

	if (!eq) {
		fprintf(stderr, "mmnsim: %sa knob is NAME=VALUE, not '%s'\n", where, kv);
		return false;
	}
	n = (size_t)(eq - kv);
	if (n == 0 || n >= sizeof(name)) {
		fprintf(stderr, "mmnsim: %sunknown knob '%.*s' in %s (mmnsim list shows them)\n",
			where, (int)n, kv, kv);
		return false;
	}
	memcpy(name, kv, n);
	name[n] = '\0';
	err = !strncmp(name, "cost_", 5) ? mmn_cost_knob_parse(name, eq + 1, NULL, NULL)
					 : mmn_profile_set_knob(&copy, name, eq + 1);
	if (err == -ENOENT) {
		fprintf(stderr, "mmnsim: %sunknown knob '%s' (mmnsim list shows them)\n", where, name);
		return false;
	}
	if (err) {
		fprintf(stderr, "mmnsim: %smalformed value '%s' for knob '%s'\n", where, eq + 1, name);
		return false;
	}
	return true;
}

bool check_knobs(const struct mmn_scenario_params *p, const char *where)
{
	/* Knob names and values do not depend on the profile; without
	 * --profile, check them against "latest". */
	const struct mmn_profile *base = mmn_profile_by_name(p->profile ? p->profile : "latest");

	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		if (!base || !check_knob(base, p->knobs[i], where))
			return false;
	return true;
}

const char *kinds_text(const unsigned long by_kind[MMN_VIOL_NR_KINDS], char *buf, size_t len)
{
	size_t n = 0;

	buf[0] = '\0';
	for (int k = 0; k < MMN_VIOL_NR_KINDS && n < len; k++) {
		if (!by_kind[k])
			continue;
		n += (size_t)snprintf(buf + n, len - n, "%s%s %lu", n ? ", " : "",
				      mmn_violation_kind_name((enum mmn_violation_kind)k), by_kind[k]);
	}
	if (!n)
		snprintf(buf, len, "none");
	return buf;
}
