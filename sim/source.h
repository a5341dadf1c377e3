/* SPDX-License-Identifier: MIT */
/*
 * Where the scenarios beyond S1-S9 come from (docs/cli.md, "Plugins"):
 * shared objects loaded with `mmnsim --load PATH.so` or MMNSIM_PLUGINS,
 * whose entry point registers scenarios through the public API
 * (mmn_scenario_register()). Each loaded source is identified by its
 * resolved path and the SHA-256 of its contents (nettle), which a replay
 * file records so that `mmnsim replay` finds the same code again, or
 * refuses a changed one (sim/source.c).
 */
#ifndef MMNSIM_SIM_SOURCE_H
#define MMNSIM_SIM_SOURCE_H

#include <stdbool.h>
#include <stddef.h>

#include <mmnsim/mmnsim.h>

/* The entry point a plugin defines: int mmnsim_plugin_init(void), 0 or a
 * negative errno. */
#define CLI_PLUGIN_ENTRY "mmnsim_plugin_init"
/* The environment variable: plugins to load, a colon-separated list. */
#define CLI_PLUGIN_ENV "MMNSIM_PLUGINS"
/* Most sources one process loads. */
#define CLI_MAX_SOURCES 16
#define CLI_PATH_MAX 4096

enum cli_source_kind {
	CLI_SOURCE_PLUGIN = 0, /* a shared object (--load) */
	CLI_SOURCE_FILE,       /* a scenario file (FILE.yaml) */
};

/* One loaded source of scenarios. */
struct cli_source {
	enum cli_source_kind kind;
	char path[CLI_PATH_MAX]; /* realpath() of the file */
	char sha256[65];         /* hex digest of its contents */
	int first, end;          /* the scenarios it registered: registry indexes [first, end) */
};

/* What one mmnsim process carries from the top-level options to its command. */
struct cli_env {
	bool dry; /* parse and check only: load nothing, run nothing (cli_main()) */
	int nr_sources;
	struct cli_source src[CLI_MAX_SOURCES];
};

/* "plugin" or "scenario-file" (the replay file's source.kind). */
const char *cli_source_kind_name(enum cli_source_kind k);

/* The SHA-256 of the @len bytes at @buf as 64 hex digits into @hex. */
void cli_sha256_hex(const void *buf, size_t len, char hex[65]);

/* The SHA-256 of the file @path as 64 hex digits into @hex; 0 or -errno
 * (nothing printed). */
int cli_file_sha256(const char *path, char hex[65]);

/*
 * Load the plugin @path: hash it, dlopen() it, call its entry point, note
 * the scenarios it registered in @env. A file already loaded (same
 * contents) is not loaded again. 0, or -1 after one line on stderr
 * (unreadable file, not a shared object, no entry point, the entry point's
 * error, too many plugins).
 */
int cli_plugin_load(struct cli_env *env, const char *path);

/*
 * Load the scenario file @path (docs/cli.md, "Scenario files"): read it
 * once, hash what was read, check it (sim/scenario_file.c) and register its
 * scenario (sim/scenario_file_run.c), noted in @env as a source of kind
 * CLI_SOURCE_FILE. A file already loaded (same contents) is not loaded
 * again. The id of its scenario, or NULL after one line on stderr (the
 * file's first error, an id registered already, too many sources).
 */
const char *cli_sfile_load(struct cli_env *env, const char *path);

/*
 * The top-level options before the command: MMNSIM_PLUGINS, then each
 * "--load PATH" / "--load=PATH", loaded in that order (with env->dry only
 * checked). *@first becomes the index of the command in @argv. 0, or -1
 * after one line.
 */
int cli_load_args(struct cli_env *env, int argc, char **argv, int *first);

/* The source that registered @s, or NULL (S1-S9, or a scenario registered
 * by other means). */
const struct cli_source *cli_source_of(const struct cli_env *env, const struct mmn_scenario *s);

/* The loaded source of @kind whose contents hash to @sha256, or NULL. */
const struct cli_source *cli_source_by_hash(const struct cli_env *env, enum cli_source_kind kind,
					    const char *sha256);

#endif /* MMNSIM_SIM_SOURCE_H */
