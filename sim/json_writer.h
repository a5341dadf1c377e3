/* SPDX-License-Identifier: MIT */
/*
 * A small pretty-printing JSON writer for the --json output of the mmnsim
 * commands (sim/json_writer.c). Replay files are read and written with
 * json-c instead (sim/replay_file.c).
 */
#ifndef MMNSIM_SIM_JSON_WRITER_H
#define MMNSIM_SIM_JSON_WRITER_H

#include <stdbool.h>
#include <stdio.h>

/* Nesting depth and whether the current container already has a member, so
 * commas and indentation come out right. */
struct jw {
	FILE *out;
	int depth;
	bool has_member[16];
};

/* Open an object ('{') or array ('['); @key is NULL inside an array. */
void jw_open(struct jw *j, const char *key, char bracket);
void jw_close(struct jw *j, char bracket);
void jw_str(struct jw *j, const char *key, const char *value);
void jw_ulong(struct jw *j, const char *key, unsigned long long value);
void jw_int(struct jw *j, const char *key, long long value);
void jw_bool(struct jw *j, const char *key, bool value);
void jw_null(struct jw *j, const char *key);

#endif /* MMNSIM_SIM_JSON_WRITER_H */
