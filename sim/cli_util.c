// SPDX-License-Identifier: MIT
/* Helpers shared by the mmnsim commands (sim/cli.h). */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* ---------------------------------------------------------------- JSON -- */

void jw_string(FILE *out, const char *s)
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
static void jw_key(struct jw *j, const char *key)
{
	if (j->depth > 0) {
		fputs(j->has_member[j->depth] ? ",\n" : "\n", j->out);
		j->has_member[j->depth] = true;
		fprintf(j->out, "%*s", 2 * j->depth, "");
	}
	if (key) {
		jw_string(j->out, key);
		fputs(": ", j->out);
	}
}

void jw_open(struct jw *j, const char *key, char bracket)
{
	jw_key(j, key);
	fputc(bracket, j->out);
	j->depth++;
	j->has_member[j->depth] = false;
}

void jw_close(struct jw *j, char bracket)
{
	bool had = j->has_member[j->depth];

	j->depth--;
	if (had)
		fprintf(j->out, "\n%*s", 2 * j->depth, "");
	fputc(bracket, j->out);
	if (j->depth == 0)
		fputc('\n', j->out);
}

void jw_str(struct jw *j, const char *key, const char *value)
{
	jw_key(j, key);
	jw_string(j->out, value);
}

void jw_ulong(struct jw *j, const char *key, unsigned long long value)
{
	jw_key(j, key);
	fprintf(j->out, "%llu", value);
}

void jw_int(struct jw *j, const char *key, long long value)
{
	jw_key(j, key);
	fprintf(j->out, "%lld", value);
}

void jw_bool(struct jw *j, const char *key, bool value)
{
	jw_key(j, key);
	fputs(value ? "true" : "false", j->out);
}

void jw_null(struct jw *j, const char *key)
{
	jw_key(j, key);
	fputs("null", j->out);
}

/*
 * Parse the decimal number @p s given to option @p opt into @p out, within
 * [min, max]. Signs, spaces, empty strings, trailing characters and
 * overflow are rejected with one line on stderr.
 */
bool parse_number(const char *opt, const char *s, unsigned long long min,
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
 * Check "name=value" against a copy of the profile @p base (cost_*_ns knobs
 * against the clock's cost model): one line on stderr, prefixed by @p where,
 * and false for a missing '=', an unknown knob or a value it does not accept.
 */
bool check_knob(const struct mmn_profile *base, const char *kv, const char *where)
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

/* The value of option argv[*a] ("--opt VALUE" or "--opt=VALUE"), or NULL
 * after one line on stderr when it is missing. */
const char *option_value(int argc, char **argv, int *a, const char *opt)
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
bool is_option(const char *arg, const char *opt)
{
	size_t n = strlen(opt);

	return !strncmp(arg, opt, n) && (arg[n] == '\0' || arg[n] == '=');
}


bool take_positional(const char *cmd, const char *what, const char *arg, const char **slot)
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

int scenario_option(int argc, char **argv, int *a, struct mmn_scenario_params *p, int *nr_knobs)
{
	const char *arg = argv[*a];
	unsigned long long v;
	const char *val;

	if (!strcmp(arg, "--wrong")) {
		p->wrong = true;
	} else if (is_option(arg, "--profile")) {
		if (!(val = option_value(argc, argv, a, "--profile")))
			return -1;
		if (!mmn_profile_by_name(val)) {
			fprintf(stderr, "mmnsim: unknown profile '%s' (mmnsim list shows them)\n", val);
			return -1;
		}
		p->profile = val;
	} else if (is_option(arg, "--knob")) {
		if (!(val = option_value(argc, argv, a, "--knob")))
			return -1;
		if (*nr_knobs >= MMN_SCENARIO_MAX_KNOBS) {
			fprintf(stderr, "mmnsim: too many --knob options (at most %d)\n",
				MMN_SCENARIO_MAX_KNOBS);
			return -1;
		}
		p->knobs[(*nr_knobs)++] = val;
	} else if (is_option(arg, "--variant")) {
		if (!(val = option_value(argc, argv, a, "--variant")) ||
		    !parse_number("--variant", val, 0, INT_MAX, &v))
			return -1;
		p->variant = (int)v;
	} else if (is_option(arg, "--pages")) {
		if (!(val = option_value(argc, argv, a, "--pages")) ||
		    !parse_number("--pages", val, 1, ULONG_MAX, &v))
			return -1;
		p->pages = (unsigned long)v;
	} else if (is_option(arg, "--iterations")) {
		if (!(val = option_value(argc, argv, a, "--iterations")) ||
		    !parse_number("--iterations", val, 1, ULONG_MAX, &v))
			return -1;
		p->iterations = (unsigned long)v;
	} else if (is_option(arg, "--seed")) {
		if (!(val = option_value(argc, argv, a, "--seed")) ||
		    !parse_number("--seed", val, 0, UINT64_MAX, &v))
			return -1;
		p->seed = (uint64_t)v;
	} else {
		return 0;
	}
	return 1;
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
