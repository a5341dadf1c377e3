// SPDX-License-Identifier: MIT
/*
 * mmnsim: the simulator's command line (issue 6; docs/cli.md).
 *
 *   mmnsim list [--json]
 *   mmnsim run SCENARIO [--wrong] [--profile P] [--knob k=v ...] [--variant N]
 *              [--pages N] [--iterations N] [--seed N] [--threads native] [--json]
 *   mmnsim explore | replay | shrink       (not implemented yet: exit 2)
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

#define EXIT_OK 0
#define EXIT_VIOLATION 1
#define EXIT_USAGE 2

static const char usage_text[] =
	"usage: mmnsim COMMAND [ARGS]\n"
	"\n"
	"commands:\n"
	"  list [--json]                   the scenarios, the profiles and the knobs\n"
	"  run SCENARIO [options]          run one scenario once\n"
	"  explore | replay | shrink       not implemented yet\n"
	"  help, --help                    this text\n"
	"\n"
	"run options:\n"
	"  --wrong                 the seed's wrong setting (default: the right one)\n"
	"  --profile P             kernel profile (default: the scenario's choice)\n"
	"  --knob NAME=VALUE       override one knob; repeatable (at most 8)\n"
	"  --variant N             listener variant (the listener's enum value)\n"
	"  --pages N               pages of the working set (N >= 1)\n"
	"  --iterations N          rounds of a native run (N >= 1)\n"
	"  --seed N                seed of every pseudo-random choice (0 means 1)\n"
	"  --threads native        native threads (default: the deterministic interleaving)\n"
	"  --threads interleaved   the deterministic interleaving (the default)\n"
	"  --json                  one JSON object instead of the human summary\n"
	"\n"
	"exit status: 0 ok, 1 violation found, 2 usage or input error\n";

static void usage(FILE *out)
{
	fputs(usage_text, out);
}

/* ---------------------------------------------------------------- JSON -- */

/* A small pretty-printing writer: nesting depth and whether the current
 * container already has a member, so commas and indentation come out right. */
struct json {
	FILE *out;
	int depth;
	bool has_member[16];
};

static void json_string(FILE *out, const char *s)
{
	fputc('"', out);
	for (const unsigned char *c = (const unsigned char *)(s ? s : ""); *c; c++) {
		switch (*c) {
		case '"':
			fputs("\\\"", out);
			break;
		case '\\':
			fputs("\\\\", out);
			break;
		case '\n':
			fputs("\\n", out);
			break;
		case '\r':
			fputs("\\r", out);
			break;
		case '\t':
			fputs("\\t", out);
			break;
		case '\b':
			fputs("\\b", out);
			break;
		case '\f':
			fputs("\\f", out);
			break;
		default:
			if (*c < 0x20)
				fprintf(out, "\\u%04x", *c);
			else
				fputc(*c, out);
		}
	}
	fputc('"', out);
}

/* Start a member (key may be NULL inside an array). */
static void json_key(struct json *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->has_member[j->depth] ? ",\n" : "\n", j->out);
		j->has_member[j->depth] = true;
		fprintf(j->out, "%*s", 2 * j->depth, "");
	}
	if (key) {
		json_string(j->out, key);
		fputs(": ", j->out);
	}
}

static void json_open(struct json *j, const char *key, char bracket)
{
	json_key(j, key);
	fputc(bracket, j->out);
	j->depth++;
	j->has_member[j->depth] = false;
}

static void json_close(struct json *j, char bracket)
{
	bool had = j->has_member[j->depth];

	j->depth--;
	if (had)
		fprintf(j->out, "\n%*s", 2 * j->depth, "");
	fputc(bracket, j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

static void json_str(struct json *j, const char *key, const char *value)
{
	json_key(j, key);
	json_string(j->out, value);
}

static void json_ulong(struct json *j, const char *key, unsigned long long value)
{
	json_key(j, key);
	fprintf(j->out, "%llu", value);
}

static void json_int(struct json *j, const char *key, long long value)
{
	json_key(j, key);
	fprintf(j->out, "%lld", value);
}

static void json_bool(struct json *j, const char *key, bool value)
{
	json_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

static void json_null(struct json *j, const char *key)
{
	json_key(j, key);
	fputs("null", j->out);
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
		struct json j = { .out = stdout };

		json_open(&j, NULL, '{');
		json_str(&j, "version", mmn_version_string());
		json_open(&j, "scenarios", '[');
		for (int i = 0; i < mmn_scenario_count(); i++) {
			const struct mmn_scenario *s = mmn_scenario_at(i);

			json_open(&j, NULL, '{');
			json_str(&j, "id", s->id);
			json_str(&j, "seed_thread", s->seed);
			json_str(&j, "title", s->title);
			json_str(&j, "claim", s->claim);
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_open(&j, "profiles", '[');
		for (int i = 0; i < mmn_profile_count(); i++)
			json_str(&j, NULL, mmn_profile_at(i)->name);
		json_close(&j, ']');
		json_open(&j, "knobs", '[');
		for (int i = 0; i < mmn_profile_knob_count(); i++) {
			const char *name = mmn_profile_knob_name(i);
			char val[64];

			json_open(&j, NULL, '{');
			json_str(&j, "name", name);
			if (latest && !mmn_profile_knob_value(latest, name, val, sizeof(val)))
				json_str(&j, "latest", val);
			else
				json_null(&j, "latest");
			json_close(&j, '}');
		}
		json_close(&j, ']');
		json_close(&j, '}');
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
	return EXIT_OK;
}

/* ----------------------------------------------------------------- run -- */

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

/*
 * Check "name=value" against a copy of the profile @p base: one line on
 * stderr and false for a missing '=', an unknown knob or a value the knob
 * does not accept.
 */
static bool check_knob(const struct mmn_profile *base, const char *kv)
{
	struct mmn_profile copy = *base;
	const char *eq = strchr(kv, '=');
	char name[64];
	size_t n;
	int err;

	if (!eq) {
		fprintf(stderr, "mmnsim: --knob takes NAME=VALUE, not '%s'\n", kv);
		return false;
	}
	n = (size_t)(eq - kv);
	if (n == 0 || n >= sizeof(name)) {
		fprintf(stderr, "mmnsim: unknown knob '%.*s' in --knob %s (mmnsim list shows them)\n",
			(int)n, kv, kv);
		return false;
	}
	memcpy(name, kv, n);
	name[n] = '\0';
	err = mmn_profile_set_knob(&copy, name, eq + 1);
	if (err == -ENOENT) {
		fprintf(stderr, "mmnsim: unknown knob '%s' (mmnsim list shows them)\n", name);
		return false;
	}
	if (err) {
		fprintf(stderr, "mmnsim: malformed value '%s' for knob '%s'\n", eq + 1, name);
		return false;
	}
	return true;
}

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
	if (r->note[0])
		printf("note        %s\n", r->note);
	printf("claim       %s: %s\n", r->claim_holds ? "holds" : "DOES NOT HOLD", s->claim);
}

static void print_json(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
		       const struct mmn_scenario_result *r)
{
	struct json j = { .out = stdout };

	json_open(&j, NULL, '{');
	json_str(&j, "scenario", s->id);
	json_str(&j, "seed_thread", s->seed);
	json_str(&j, "title", s->title);
	json_bool(&j, "wrong", p->wrong);
	json_str(&j, "mode", mode_name(p->mode));
	json_str(&j, "profile", r->profile);
	json_open(&j, "knobs", '[');
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		json_str(&j, NULL, p->knobs[i]);
	json_close(&j, ']');
	json_int(&j, "variant", p->variant);
	json_ulong(&j, "pages", p->pages);
	json_ulong(&j, "iterations", p->iterations);
	json_ulong(&j, "rng_seed", p->seed ? p->seed : 1);
	json_str(&j, "setting", r->setting);
	json_ulong(&j, "runs", r->runs);
	json_ulong(&j, "violations", r->violations);
	json_open(&j, "by_kind", '{');
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		json_ulong(&j, mmn_violation_kind_name((enum mmn_violation_kind)k), r->by_kind[k]);
	json_close(&j, '}');
	json_open(&j, "counters", '{');
	for (int i = 0; i < r->nr_counters; i++)
		json_ulong(&j, r->counter_names[i], r->counters[i]);
	json_close(&j, '}');
	json_str(&j, "note", r->note);
	json_str(&j, "claim", s->claim);
	json_bool(&j, "claim_holds", r->claim_holds);
	json_close(&j, '}');
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

static int cmd_run(int argc, char **argv)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_INTERLEAVED };
	const struct mmn_scenario *s = NULL;
	const struct mmn_profile *base;
	struct mmn_scenario_result r;
	const char *scenario = NULL;
	unsigned long long v;
	int nr_knobs = 0;
	bool json = false;
	const char *val;
	int err;

	for (int a = 0; a < argc; a++) {
		const char *arg = argv[a];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return EXIT_OK;
		} else if (!strcmp(arg, "--json")) {
			json = true;
		} else if (!strcmp(arg, "--wrong")) {
			p.wrong = true;
		} else if (is_option(arg, "--profile")) {
			if (!(val = option_value(argc, argv, &a, "--profile")))
				return EXIT_USAGE;
			if (!mmn_profile_by_name(val)) {
				fprintf(stderr, "mmnsim: unknown profile '%s' (mmnsim list shows them)\n",
					val);
				return EXIT_USAGE;
			}
			p.profile = val;
		} else if (is_option(arg, "--knob")) {
			if (!(val = option_value(argc, argv, &a, "--knob")))
				return EXIT_USAGE;
			if (nr_knobs >= MMN_SCENARIO_MAX_KNOBS) {
				fprintf(stderr, "mmnsim: too many --knob options (at most %d)\n",
					MMN_SCENARIO_MAX_KNOBS);
				return EXIT_USAGE;
			}
			p.knobs[nr_knobs++] = val;
		} else if (is_option(arg, "--variant")) {
			if (!(val = option_value(argc, argv, &a, "--variant")) ||
			    !parse_number("--variant", val, 0, INT_MAX, &v))
				return EXIT_USAGE;
			p.variant = (int)v;
		} else if (is_option(arg, "--pages")) {
			if (!(val = option_value(argc, argv, &a, "--pages")) ||
			    !parse_number("--pages", val, 1, ULONG_MAX, &v))
				return EXIT_USAGE;
			p.pages = (unsigned long)v;
		} else if (is_option(arg, "--iterations")) {
			if (!(val = option_value(argc, argv, &a, "--iterations")) ||
			    !parse_number("--iterations", val, 1, ULONG_MAX, &v))
				return EXIT_USAGE;
			p.iterations = (unsigned long)v;
		} else if (is_option(arg, "--seed")) {
			if (!(val = option_value(argc, argv, &a, "--seed")) ||
			    !parse_number("--seed", val, 0, UINT64_MAX, &v))
				return EXIT_USAGE;
			p.seed = (uint64_t)v;
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
		} else if (arg[0] == '-' && arg[1] != '\0') {
			fprintf(stderr, "mmnsim: unknown option '%s' for run (mmnsim --help)\n", arg);
			return EXIT_USAGE;
		} else if (scenario) {
			fprintf(stderr, "mmnsim: run takes one scenario, got '%s' after '%s'\n", arg,
				scenario);
			return EXIT_USAGE;
		} else {
			scenario = arg;
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
	/* Knob names and values do not depend on the profile; without
	 * --profile, check them against "latest". */
	base = mmn_profile_by_name(p.profile ? p.profile : "latest");
	for (int i = 0; i < nr_knobs; i++)
		if (!base || !check_knob(base, p.knobs[i]))
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
	} else if (!strcmp(cmd, "explore") || !strcmp(cmd, "replay") || !strcmp(cmd, "shrink")) {
		fprintf(stderr, "mmnsim: %s is not implemented yet (issue 6)\n", cmd);
		return EXIT_USAGE;
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
