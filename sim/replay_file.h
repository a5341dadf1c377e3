/* SPDX-License-Identifier: MIT */
/*
 * Replay files: a found schedule saved by `mmnsim explore` (FILE.replay.json,
 * beside FILE.trace.txt and FILE.trace.json), read back by `mmnsim replay`
 * and `mmnsim shrink`. The format is JSON (docs/exploration.md), read and
 * written with json-c (sim/replay_file.c).
 */
#ifndef MMNSIM_SIM_REPLAY_FILE_H
#define MMNSIM_SIM_REPLAY_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mmnsim/mmnsim.h>

#include "source.h"

/* The largest file read (replay files, saved traces), in bytes; a longer
 * one is refused. */
#define REPLAY_MAX_BYTES (64 << 20)

/* A replay file in memory. */
struct replay {
	/* The scenario; NULL after replay_parse() when the file names a source
	 * (a plugin) that is not loaded yet: replay_resolve() loads it. */
	const struct mmn_scenario *s;
	char scenario[MMN_SCENARIO_NAME_MAX + 1]; /* its id as saved */
	/* The source that registered it ("source"; has_source false: built in). */
	bool has_source;
	enum cli_source_kind src_kind;
	char src_path[CLI_PATH_MAX];
	char src_sha256[65];
	struct mmn_scenario_params p;      /* profile and knobs point into the strings below */
	char profile[32];
	char knobs[MMN_SCENARIO_MAX_KNOBS][96];
	char strategy[16];                 /* how it was found: random, pct, exhaustive */
	uint64_t seed;                     /* the strategy's seed (random, pct) */
	unsigned int pct_depth;
	unsigned long pct_steps, max_steps, index;
	uint32_t *choices;                 /* malloc'ed */
	size_t nr_choices;
	unsigned long by_kind[MMN_VIOL_NR_KINDS]; /* what the run reported */
	char trace_file[512];              /* the saved text trace ("" if none), resolved */
};

/*
 * Save a found schedule as DIR/STEM.replay.json, DIR/STEM.trace.txt and
 * DIR/STEM.trace.json (DIR created if missing); @src is the plugin that
 * registered @s (NULL: built in), recorded as "source". The path of the replay file
 * goes to @path. 0, or -errno after one line on stderr.
 */
int replay_save(const char *dir, const char *stem, const struct mmn_scenario *s,
		const struct cli_source *src, const struct mmn_scenario_params *p, const char *strategy,
		const struct mmn_sched_config *sc, unsigned long index, const uint32_t *choices,
		size_t n, const unsigned long by_kind[MMN_VIOL_NR_KINDS], const char *trace,
		char *path, size_t path_len);

/* Read @path into @r; false after one line on stderr naming the file and,
 * for a bad field, the field (and for a syntax error, the line). */
bool replay_load(const char *path, struct replay *r);

/*
 * Parse the replay file @text of @len bytes (followed by a NUL at
 * @text[@len]) into @r, as replay_load() does for a file's contents; @path
 * names it in messages and places the saved trace (r->trace_file) beside it.
 * One JSON object, white space after it allowed, nothing else. false after
 * one line on stderr (nothing to free then).
 */
bool replay_parse(const char *path, const char *text, size_t len, struct replay *r);

void replay_free(struct replay *r);

/*
 * After replay_parse(): find r->s. A file without a source names a built-in
 * scenario (found already). A file with one needs the same source: one
 * loaded with the same SHA-256, or else the file at the recorded path, which
 * must still hash the same, loaded now. false after one line naming @file
 * and the field (a missing or changed plugin, a scenario it does not
 * register, one registered by another plugin).
 */
bool replay_resolve(const char *file, struct replay *r, struct cli_env *env);

/* Read all of @path (NUL-terminated, length in @len unless NULL; free() it);
 * NULL after one line on stderr, also for a file over REPLAY_MAX_BYTES
 * (/dev/zero included). The line starts with @where ("" or, for a file that
 * another names, "FILE: field 'F': "). */
char *read_text_file(const char *path, size_t *len, const char *where);

/* Write @text to @path ("-": stdout); 0 or -errno after one line on stderr. */
int write_text_file(const char *path, const char *text, size_t len);

/* Where `mmnsim replay` writes (its options): --trace, --chrome (NULL: not
 * written), --json. */
struct replay_outputs {
	const char *trace, *chrome;
	bool json;
};

/*
 * The replay command after its file is read (sim/cmd_replay.c): re-run @rp's
 * choices, compare the trace with the saved one (if any), write @o's outputs
 * and the summary. EXIT_VIOLATION, EXIT_OK, or EXIT_USAGE after one line.
 */
int replay_check(const char *file, const struct replay *rp, const struct replay_outputs *o);

/* Re-run @rp's choices (sim/cmd_replay.c): the run's text trace (free()
 * it) and in *@violating whether it shows the scenario's violation; NULL
 * after one line on stderr. */
char *replay_rerun_trace(const struct replay *rp, bool *violating);

/* Write the Chrome trace-event JSON of @trace to @path; 0 or -errno. */
int write_chrome_file(const char *path, const char *trace);

#endif /* MMNSIM_SIM_REPLAY_FILE_H */
