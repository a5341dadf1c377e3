/* SPDX-License-Identifier: MIT */
/*
 * What the mmnsim commands share (sim/mmnsim.c: main, list, run;
 * sim/explore.c: explore; sim/replay.c: replay files, replay, shrink).
 */
#ifndef MMNSIM_SIM_CLI_H
#define MMNSIM_SIM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include <mmnsim/mmnsim.h>

#define EXIT_OK 0
#define EXIT_VIOLATION 1
#define EXIT_USAGE 2

/* A small pretty-printing JSON writer: nesting depth and whether the current
 * container already has a member, so commas and indentation come out right. */
struct jw {
	FILE *out;
	int depth;
	bool has_member[16];
};

void jw_string(FILE *out, const char *s);
/* Open an object ('{') or array ('['); @key is NULL inside an array. */
void jw_open(struct jw *j, const char *key, char bracket);
void jw_close(struct jw *j, char bracket);
void jw_str(struct jw *j, const char *key, const char *value);
void jw_ulong(struct jw *j, const char *key, unsigned long long value);
void jw_int(struct jw *j, const char *key, long long value);
void jw_bool(struct jw *j, const char *key, bool value);
void jw_null(struct jw *j, const char *key);

/*
 * Parse the decimal number @s given to option @opt into @out, within
 * [min, max]; false after one line on stderr.
 */
bool parse_number(const char *opt, const char *s, unsigned long long min, unsigned long long max,
		  unsigned long long *out);
/* Check "name=value" against a copy of @base (cost_*_ns knobs against the
 * cost model); false after one line on stderr that starts with @where. */
bool check_knob(const struct mmn_profile *base, const char *kv, const char *where);
/* The value of option argv[*a] ("--opt VALUE" or "--opt=VALUE"), or NULL
 * after one line on stderr when it is missing. */
const char *option_value(int argc, char **argv, int *a, const char *opt);
/* Whether argv element @arg is option @opt, alone or as "opt=...". */
bool is_option(const char *arg, const char *opt);
/*
 * An argv element that no option of command @cmd took: an unknown option
 * (one line, false), or the command's one positional argument, a @what
 * ("scenario", "file"), stored in *@slot (false after one line if it is the
 * second).
 */
bool take_positional(const char *cmd, const char *what, const char *arg, const char **slot);

/*
 * The options that set a scenario's parameters, shared by run and explore:
 * --wrong --profile --knob --variant --pages --iterations --seed. Returns 1
 * when argv[*a] was one (its value consumed), 0 when it is not, -1 after
 * one line on stderr for a bad value. @nr_knobs counts the --knob options.
 */
int scenario_option(int argc, char **argv, int *a, struct mmn_scenario_params *p, int *nr_knobs);
/* Check every knob of @p against its profile (or latest): false after one
 * line that starts with @where ("" or "FILE: field 'knobs': "). */
bool check_knobs(const struct mmn_scenario_params *p, const char *where);

/* "violations: use_after_free 2, protocol 1" into @buf (for summaries). */
const char *kinds_text(const unsigned long by_kind[MMN_VIOL_NR_KINDS], char *buf, size_t len);

/* The --help text. */
void usage(FILE *out);

int cmd_explore(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_shrink(int argc, char **argv);

#endif /* MMNSIM_SIM_CLI_H */
