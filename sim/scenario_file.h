/* SPDX-License-Identifier: MIT */
/*
 * Scenario files (docs/cli.md, "Scenario files", PARTIAL): a race described
 * in YAML, read with libyaml (Debian libyaml-dev) and checked field by
 * field against the format; every error names the file, the line and
 * column (1-based) and the field, on one line. This version reads and
 * checks a file; it does not run it yet (sim/scenario_file.c).
 */
#ifndef MMNSIM_SIM_SCENARIO_FILE_H
#define MMNSIM_SIM_SCENARIO_FILE_H

#include <stdbool.h>
#include <stddef.h>

#include <mmnsim/mmnsim.h>

/* What a checked scenario file declares, in summary. */
struct sfile_summary {
	char id[MMN_SCENARIO_NAME_MAX + 1];
	int nr_mappings, nr_listeners, nr_actors;
	unsigned long nr_ops; /* operations, loop bodies counted once */
};

/* Whether the positional argument @arg names a scenario file (it ends in
 * .yaml or .yml). */
bool sfile_is_path(const char *arg);

/*
 * Check the YAML text @text of @len bytes, named @path in messages, against
 * the format. true and @out filled; false after one line on stderr
 * ("mmnsim: PATH:LINE:COLUMN: field 'F': what").
 */
bool sfile_check(const char *path, const char *text, size_t len, struct sfile_summary *out);

#endif /* MMNSIM_SIM_SCENARIO_FILE_H */
