/* SPDX-License-Identifier: MIT */
/*
 * What the mmnsim commands share: the option parser, the numbers, the knob
 * checks and the --help text (sim/cli_util.c), and the commands themselves
 * (sim/cmd_*.c), which sim/cli_main.c dispatches to. Layers: main.c calls
 * cli_main.c, which calls the commands, which call cli_util.c,
 * json_writer.c and replay_file.c; nothing calls upward. Everything but
 * main.c is also built into the fuzz targets (tests/fuzz/).
 */
#ifndef MMNSIM_SIM_CLI_H
#define MMNSIM_SIM_CLI_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mmnsim/mmnsim.h>

#include "json_writer.h"
#include "source.h"

#define EXIT_OK 0
#define EXIT_VIOLATION 1
#define EXIT_USAGE 2
/* explore: every schedule exhausted its step budget, so none was judged */
#define EXIT_NO_VERDICT 3

/* ------------------------------------------------------ option parser -- */

enum cli_opt_type {
	CLI_FLAG,   /* exact name, no value: *(bool *)dest = true */
	CLI_STRING, /* *(const char **)dest = value */
	CLI_INT,    /* decimal in [min, max] into an int */
	CLI_UINT,   /* ... into an unsigned int */
	CLI_ULONG,  /* ... into an unsigned long */
	CLI_U64,    /* ... into a uint64_t */
	CLI_CUSTOM, /* set(value, dest) */
};

/*
 * One option of a command. Options that take a value accept it as the next
 * argument or after '=' ("--runs 5", "--runs=5"); flags only as written.
 * A table ends with an entry whose name is NULL.
 */
struct cli_opt {
	const char *name;
	enum cli_opt_type type;
	void *dest;
	unsigned long long min, max; /* numbers */
	/* CLI_CUSTOM: store @val into @dest; false after one line on stderr. */
	bool (*set)(const char *val, void *dest);
};

/* A command's syntax: its options and its one positional argument, a @what
 * ("scenario", "file") stored in *@positional; @what NULL: the command
 * takes none. */
struct cli_syntax {
	const char *cmd;
	const char *what;
	const char **positional;
	const struct cli_opt *opts;
	/* NULL, or one flag per entry of @opts: set when the option was given. */
	bool *given;
};

/* Whether option @name of @syn was given (syn->given must be set). */
bool cli_given(const struct cli_syntax *syn, const char *name);

#define CLI_HELP (-1)

/*
 * Parse @argv (the arguments after the command) against @syn; options may
 * come before or after the positional argument. Returns EXIT_OK, EXIT_USAGE
 * after one line on stderr, or CLI_HELP after printing the usage on stdout
 * (--help, -h).
 */
int cli_parse(int argc, char **argv, const struct cli_syntax *syn);

/* What a command returns for a cli_parse() result other than EXIT_OK. */
static inline int cli_parse_status(int rc)
{
	return rc == CLI_HELP ? EXIT_OK : rc;
}

/*
 * The options that set a scenario's parameters @p, shared by run and
 * explore: --wrong --profile --knob --variant --pages --iterations --seed.
 * --knob fills p->knobs in order (at most MMN_SCENARIO_MAX_KNOBS).
 */
#define CLI_SCENARIO_OPTIONS(p)                                                            \
	{ "--wrong", CLI_FLAG, &(p)->wrong, 0, 0, NULL },                                  \
	{ "--profile", CLI_CUSTOM, &(p)->profile, 0, 0, cli_set_profile },                 \
	{ "--knob", CLI_CUSTOM, (p)->knobs, 0, 0, cli_set_knob },                          \
	{ "--variant", CLI_CUSTOM, &(p)->variant, 0, 0, cli_set_variant },                 \
	{ "--pages", CLI_ULONG, &(p)->pages, 1, ULONG_MAX, NULL },                         \
	{ "--iterations", CLI_ULONG, &(p)->iterations, 1, ULONG_MAX, NULL },               \
	{ "--seed", CLI_U64, &(p)->seed, 0, UINT64_MAX, NULL }

/* --profile: a known profile name into a const char *. */
bool cli_set_profile(const char *val, void *dest);
/* --knob: the next free slot of a const char *[MMN_SCENARIO_MAX_KNOBS]. */
bool cli_set_knob(const char *val, void *dest);
/* --variant: -1 (the scenario's choice) or 0..INT_MAX into an int. */
bool cli_set_variant(const char *val, void *dest);

/* ------------------------------------------------------------- knobs -- */

/* Check every knob of @p against its profile (or latest): false after one
 * line that starts with @where ("" or "FILE: field 'knobs': "). */
bool check_knobs(const struct mmn_scenario_params *p, const char *where);

/* "violations: use_after_free 2, protocol 1" into @buf (for summaries). */
const char *kinds_text(const unsigned long by_kind[MMN_VIOL_NR_KINDS], char *buf, size_t len);

/* The --help text. */
void usage(FILE *out);
/* One command's --help text (`mmnsim help run`, `mmnsim run --help`); false
 * when @cmd is no command. */
bool usage_command(FILE *out, const char *cmd);

/* ---------------------------------------------------------- commands -- */

/*
 * mmnsim with @argv (argv[0] the program): the exit status (sim/cli_main.c).
 * Top-level --load options (and MMNSIM_PLUGINS) come before the command.
 * With @dry, the command only parses and checks its arguments, prints what
 * a run would print for bad ones (or --help) and returns the status a run
 * would start with; it runs nothing and reads or writes no file.
 */
int cli_main(int argc, char **argv, bool dry);

/* The commands: the arguments after the command's name; @env the loaded
 * plugins and, in env->dry, cli_main()'s @dry (EXIT_OK once the arguments
 * are checked). */
int cmd_list(int argc, char **argv, struct cli_env *env);    /* sim/cmd_list.c */
int cmd_run(int argc, char **argv, struct cli_env *env);     /* sim/cmd_run.c */
int cmd_explore(int argc, char **argv, struct cli_env *env); /* sim/cmd_explore.c */
int cmd_replay(int argc, char **argv, struct cli_env *env);  /* sim/cmd_replay.c */
int cmd_shrink(int argc, char **argv, struct cli_env *env);  /* sim/cmd_replay.c */
int cmd_merge(int argc, char **argv, struct cli_env *env);   /* sim/cmd_merge.c */
int cmd_trace(int argc, char **argv, struct cli_env *env);   /* sim/cmd_trace.c */

#endif /* MMNSIM_SIM_CLI_H */
