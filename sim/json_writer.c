// SPDX-License-Identifier: MIT
/* The JSON writer of the --json output (sim/json_writer.h). */
#include <stdio.h>

#include "json_writer.h"

static void jw_string(FILE *out, const char *s)
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
