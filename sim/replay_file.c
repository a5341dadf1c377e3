// SPDX-License-Identifier: MIT
/*
 * Replay files (sim/replay_file.h): a found schedule saved as
 * STEM.replay.json with its traces beside it, and read back, field by
 * field, with one line on stderr naming the file and the field for anything
 * wrong. The format is described in docs/exploration.md.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cli.h"
#include "replay_file.h"

#define REPLAY_FORMAT "mmnsim-replay"
#define REPLAY_VERSION 1

/* --------------------------------------------------------------- files -- */

int write_text_file(const char *path, const char *text, size_t len)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int err = 0;

	if (!f) {
		err = -errno;
		fprintf(stderr, "mmnsim: cannot write %s: %s\n", path, strerror(errno));
		return err;
	}
	if (fwrite(text, 1, len, f) != len || fflush(f))
		err = -EIO;
	if (f != stdout && fclose(f))
		err = -EIO;
	if (err)
		fprintf(stderr, "mmnsim: cannot write %s\n", path);
	return err;
}

int write_chrome_file(const char *path, const char *trace)
{
	FILE *f = strcmp(path, "-") ? fopen(path, "w") : stdout;
	int err;

	if (!f) {
		err = -errno;
		fprintf(stderr, "mmnsim: cannot write %s: %s\n", path, strerror(errno));
		return err;
	}
	err = mmn_sched_trace_chrome(trace, f);
	if (f != stdout && fclose(f) && !err)
		err = -EIO;
	if (err)
		fprintf(stderr, "mmnsim: cannot write the Chrome trace %s: %s\n", path,
			strerror(-err));
	return err;
}

char *read_text_file(const char *path, size_t *len, const char *where)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "mmnsim: %scannot read %s: %s\n", where, path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = 2 * cap + 4096 + 1);

			if (!b) {
				free(buf);
				fclose(f);
				fprintf(stderr, "mmnsim: %sout of memory reading %s\n", where, path);
				return NULL;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, 4096, f);

		n += got;
		if (got < 4096)
			break;
		if (n > REPLAY_MAX_BYTES) {
			fprintf(stderr, "mmnsim: %scannot read %s: larger than %d MiB\n", where,
				path, REPLAY_MAX_BYTES >> 20);
			free(buf);
			fclose(f);
			return NULL;
		}
	}
	if (ferror(f)) {
		fprintf(stderr, "mmnsim: %scannot read %s: %s\n", where, path, strerror(errno));
		free(buf);
		fclose(f);
		return NULL;
	}
	fclose(f);
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

int replay_save(const char *dir, const char *stem, const struct mmn_scenario *s,
		const struct cli_source *src, const struct mmn_scenario_params *p, const char *strategy,
		const struct mmn_sched_config *sc, unsigned long index, const uint32_t *choices,
		size_t n, const unsigned long by_kind[MMN_VIOL_NR_KINDS], const char *trace,
		char *path, size_t path_len)
{
	char trace_name[512], chrome[1024], tpath[1024];
	json_object *o = json_object_new_object(), *a, *k;
	int err = 0;

	if (!o)
		return -ENOMEM;
	if (mkdir(dir, 0777) && errno != EEXIST) {
		err = -errno;
		fprintf(stderr, "mmnsim: cannot create directory %s: %s\n", dir, strerror(errno));
		json_object_put(o);
		return err;
	}
	snprintf(path, path_len, "%s/%s.replay.json", dir, stem);
	snprintf(trace_name, sizeof(trace_name), "%s.trace.txt", stem);
	snprintf(tpath, sizeof(tpath), "%s/%s", dir, trace_name);
	snprintf(chrome, sizeof(chrome), "%s/%s.trace.json", dir, stem);

	json_object_object_add(o, "format", json_object_new_string(REPLAY_FORMAT));
	json_object_object_add(o, "version", json_object_new_int(REPLAY_VERSION));
	json_object_object_add(o, "mmnsim", json_object_new_string(mmn_version_string()));
	json_object_object_add(o, "scenario", json_object_new_string(s->id));
	if (src) {
		json_object *so = json_object_new_object();

		json_object_object_add(so, "kind", json_object_new_string(cli_source_kind_name(src->kind)));
		json_object_object_add(so, "path", json_object_new_string(src->path));
		json_object_object_add(so, "sha256", json_object_new_string(src->sha256));
		json_object_object_add(o, "source", so);
	} else {
		json_object_object_add(o, "source", NULL);
	}
	json_object_object_add(o, "wrong", json_object_new_boolean(p->wrong));
	json_object_object_add(o, "profile", p->profile ? json_object_new_string(p->profile) : NULL);
	a = json_object_new_array();
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		json_object_array_add(a, json_object_new_string(p->knobs[i]));
	json_object_object_add(o, "knobs", a);
	json_object_object_add(o, "variant", json_object_new_int(p->variant));
	json_object_object_add(o, "pages", json_object_new_uint64(p->pages));
	json_object_object_add(o, "iterations", json_object_new_uint64(p->iterations));
	json_object_object_add(o, "rng_seed", json_object_new_uint64(p->seed));
	json_object_object_add(o, "strategy", json_object_new_string(strategy));
	json_object_object_add(o, "seed", json_object_new_uint64(sc->seed));
	json_object_object_add(o, "pct_depth", json_object_new_int((int)sc->pct_depth));
	json_object_object_add(o, "pct_steps", json_object_new_uint64(sc->pct_steps));
	json_object_object_add(o, "max_steps", json_object_new_uint64(sc->max_steps));
	json_object_object_add(o, "index", json_object_new_uint64(index));
	k = json_object_new_object();
	for (int i = 0; i < MMN_VIOL_NR_KINDS; i++)
		if (by_kind[i])
			json_object_object_add(k, mmn_violation_kind_name((enum mmn_violation_kind)i),
					       json_object_new_uint64(by_kind[i]));
	json_object_object_add(o, "violations", k);
	json_object_object_add(o, "trace", trace && *trace ? json_object_new_string(trace_name)
							     : NULL);
	a = json_object_new_array();
	for (size_t i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int((int)choices[i]));
	json_object_object_add(o, "choices", a);
	if (json_object_to_file_ext(path, o, JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)) {
		fprintf(stderr, "mmnsim: cannot write %s: %s\n", path, json_util_get_last_err());
		err = -EIO;
	}
	json_object_put(o);
	if (!err && trace && *trace) {
		err = write_text_file(tpath, trace, strlen(trace));
		if (!err)
			err = write_chrome_file(chrome, trace);
	}
	return err;
}

/* One line naming the file and the field; always false. */
static bool bad_field(const char *path, const char *field, const char *what)
{
	fprintf(stderr, "mmnsim: %s: field '%s': %s\n", path, field, what);
	return false;
}

/* Field @name of @o of type @t (NULL allowed when @nullable); false after one line. */
static bool get_field(const char *path, json_object *o, const char *name, json_type t,
		      bool nullable, json_object **out)
{
	static const char *const type_names[] = {
		[json_type_null] = "null",     [json_type_boolean] = "a boolean",
		[json_type_double] = "a number", [json_type_int] = "an integer",
		[json_type_object] = "an object", [json_type_array] = "an array",
		[json_type_string] = "a string",
	};
	char what[64];

	if (!json_object_object_get_ex(o, name, out))
		return bad_field(path, name, "missing");
	if (!*out && nullable)
		return true;
	if (json_object_get_type(*out) != t) {
		snprintf(what, sizeof(what), "expected %s%s", type_names[t], nullable ? " or null" : "");
		return bad_field(path, name, what);
	}
	return true;
}

static bool get_uint(const char *path, json_object *o, const char *name, uint64_t max,
		     uint64_t *out)
{
	json_object *v;
	char what[96];

	if (!get_field(path, o, name, json_type_int, false, &v))
		return false;
	errno = 0;
	*out = json_object_get_uint64(v);
	if (json_object_get_int64(v) < 0 || errno || *out > max) {
		snprintf(what, sizeof(what), "out of range (0..%llu)", (unsigned long long)max);
		return bad_field(path, name, what);
	}
	return true;
}

/* "line N" of byte @offset in @text. */
static unsigned long line_of(const char *text, size_t offset)
{
	unsigned long line = 1;

	for (size_t i = 0; i < offset && text[i]; i++)
		line += text[i] == '\n';
	return line;
}

/* Whether @s is 64 lower-case hex digits. */
static bool is_sha256(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n == 64 && !s[n];
}

/* "source": absent or null (a built-in scenario), or the plugin that
 * registered the scenario: { "kind": "plugin", "path": ..., "sha256": ... }. */
static bool load_source(const char *path, json_object *o, struct replay *r)
{
	json_object *v, *kind, *file, *sha;
	const char *k;

	if (!json_object_object_get_ex(o, "source", &v) || !v)
		return true;
	if (json_object_get_type(v) != json_type_object)
		return bad_field(path, "source", "expected an object or null");
	if (!get_field(path, v, "kind", json_type_string, false, &kind) ||
	    !get_field(path, v, "path", json_type_string, false, &file) ||
	    !get_field(path, v, "sha256", json_type_string, false, &sha))
		return false;
	k = json_object_get_string(kind);
	if (!strcmp(k, cli_source_kind_name(CLI_SOURCE_PLUGIN)))
		r->src_kind = CLI_SOURCE_PLUGIN;
	else if (!strcmp(k, cli_source_kind_name(CLI_SOURCE_FILE)))
		r->src_kind = CLI_SOURCE_FILE;
	else
		return bad_field(path, "source.kind", "expected \"plugin\" or \"scenario-file\"");
	if (!*json_object_get_string(file) || strlen(json_object_get_string(file)) >= CLI_PATH_MAX)
		return bad_field(path, "source.path", "expected the path of the plugin");
	if (!is_sha256(json_object_get_string(sha)))
		return bad_field(path, "source.sha256", "expected 64 lower-case hex digits");
	snprintf(r->src_path, sizeof(r->src_path), "%s", json_object_get_string(file));
	memcpy(r->src_sha256, json_object_get_string(sha), 65);
	r->has_source = true;
	return true;
}

/* The fields that say what the file is: format, version, scenario, source. */
static bool load_header(const char *path, json_object *o, struct replay *r)
{
	json_object *v;
	uint64_t u;

	if (!get_field(path, o, "format", json_type_string, false, &v))
		return false;
	if (strcmp(json_object_get_string(v), REPLAY_FORMAT)) {
		bad_field(path, "format", "not \"" REPLAY_FORMAT "\"");
		return false;
	}
	if (!get_uint(path, o, "version", 1000, &u))
		return false;
	if (u != REPLAY_VERSION) {
		bad_field(path, "version", "unsupported version (this mmnsim reads 1)");
		return false;
	}
	if (!get_field(path, o, "scenario", json_type_string, false, &v))
		return false;
	if (strlen(json_object_get_string(v)) > MMN_SCENARIO_NAME_MAX) {
		bad_field(path, "scenario", "unknown scenario (mmnsim list shows them)");
		return false;
	}
	snprintf(r->scenario, sizeof(r->scenario), "%s", json_object_get_string(v));
	if (!load_source(path, o, r))
		return false;
	r->s = mmn_scenario_by_id(r->scenario);
	if (!r->s && !r->has_source) {
		bad_field(path, "scenario", "unknown scenario (mmnsim list shows them)");
		return false;
	}
	return true;
}

/* The scenario's parameters: wrong, profile, knobs, variant, pages,
 * iterations, rng_seed. */
static bool load_setting(const char *path, json_object *o, struct replay *r)
{
	json_object *v;
	const char *str;
	uint64_t u;

	if (!get_field(path, o, "wrong", json_type_boolean, false, &v))
		return false;
	r->p.wrong = json_object_get_boolean(v);
	if (!get_field(path, o, "profile", json_type_string, true, &v))
		return false;
	if (v) {
		str = json_object_get_string(v);
		if (!mmn_profile_by_name(str) || strlen(str) >= sizeof(r->profile)) {
			bad_field(path, "profile", "unknown profile (mmnsim list shows them)");
			return false;
		}
		snprintf(r->profile, sizeof(r->profile), "%s", str);
		r->p.profile = r->profile;
	}
	if (!get_field(path, o, "knobs", json_type_array, false, &v))
		return false;
	if (json_object_array_length(v) > MMN_SCENARIO_MAX_KNOBS) {
		bad_field(path, "knobs", "too many knobs (at most 8)");
		return false;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *kv = json_object_array_get_idx(v, i);

		if (json_object_get_type(kv) != json_type_string ||
		    strlen(json_object_get_string(kv)) >= sizeof(r->knobs[0])) {
			bad_field(path, "knobs", "expected strings NAME=VALUE");
			return false;
		}
		snprintf(r->knobs[i], sizeof(r->knobs[i]), "%s", json_object_get_string(kv));
		r->p.knobs[i] = r->knobs[i];
	}
	{
		char where[600];

		snprintf(where, sizeof(where), "%s: field 'knobs': ", path);
		if (!check_knobs(&r->p, where))
			return false;
	}
	if (!get_field(path, o, "variant", json_type_int, false, &v))
		return false;
	if (json_object_get_int64(v) < -1 || json_object_get_int64(v) > 1000) {
		bad_field(path, "variant", "out of range (-1..1000)");
		return false;
	}
	r->p.variant = (int)json_object_get_int64(v);
	if (!get_uint(path, o, "pages", 1UL << 30, &u))
		return false;
	r->p.pages = (unsigned long)u;
	if (!get_uint(path, o, "iterations", 1UL << 40, &u))
		return false;
	r->p.iterations = (unsigned long)u;
	if (!get_uint(path, o, "rng_seed", UINT64_MAX, &r->p.seed))
		return false;
	return true;
}

/* How the schedule was found and what it showed: strategy, seed, pct_depth,
 * pct_steps, max_steps, index, violations, trace. */
static bool load_schedule(const char *path, json_object *o, struct replay *r)
{
	json_object *v;
	const char *str;
	uint64_t u;

	if (!get_field(path, o, "strategy", json_type_string, false, &v))
		return false;
	if (mmn_explore_strategy_by_name(json_object_get_string(v)) < 0) {
		bad_field(path, "strategy", "expected random, pct or exhaustive");
		return false;
	}
	snprintf(r->strategy, sizeof(r->strategy), "%s", json_object_get_string(v));
	if (!get_uint(path, o, "seed", UINT64_MAX, &r->seed))
		return false;
	if (!get_uint(path, o, "pct_depth", 64, &u))
		return false;
	r->pct_depth = (unsigned int)u;
	if (!get_uint(path, o, "pct_steps", UINT64_MAX, &u))
		return false;
	r->pct_steps = (unsigned long)u;
	if (!get_uint(path, o, "max_steps", UINT64_MAX, &u))
		return false;
	if (!u) {
		bad_field(path, "max_steps", "must be at least 1");
		return false;
	}
	r->max_steps = (unsigned long)u;
	if (!get_uint(path, o, "index", UINT64_MAX, &u))
		return false;
	r->index = (unsigned long)u;
	if (!get_field(path, o, "violations", json_type_object, false, &v))
		return false;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		json_object *c;

		if (json_object_object_get_ex(v, mmn_violation_kind_name((enum mmn_violation_kind)k),
					      &c))
			r->by_kind[k] = (unsigned long)json_object_get_uint64(c);
	}
	if (!get_field(path, o, "trace", json_type_string, true, &v))
		return false;
	if (v) {
		const char *slash = strrchr(path, '/');
		int dirlen = slash ? (int)(slash - path + 1) : 0;

		str = json_object_get_string(v);
		if (strchr(str, '/')) {
			bad_field(path, "trace", "a file name beside the replay file, without '/'");
			return false;
		}
		snprintf(r->trace_file, sizeof(r->trace_file), "%.*s%s", dirlen, path, str);
	}
	return true;
}

/* The choice list (malloc'ed into r->choices). */
static bool load_choices(const char *path, json_object *o, struct replay *r)
{
	json_object *v;

	if (!get_field(path, o, "choices", json_type_array, false, &v))
		return false;
	r->nr_choices = json_object_array_length(v);
	r->choices = malloc((r->nr_choices ? r->nr_choices : 1) * sizeof(*r->choices));
	if (!r->choices) {
		fprintf(stderr, "mmnsim: %s: out of memory\n", path);
		return false;
	}
	for (size_t i = 0; i < r->nr_choices; i++) {
		json_object *c = json_object_array_get_idx(v, i);

		if (json_object_get_type(c) != json_type_int || json_object_get_int64(c) < 0 ||
		    json_object_get_int64(c) > 1 << 20) {
			char what[80];

			snprintf(what, sizeof(what), "entry %zu is not an actor index", i);
			bad_field(path, "choices", what);
			return false;
		}
		r->choices[i] = (uint32_t)json_object_get_int64(c);
	}
	return true;
}

/* Whether @text[@from..@len) holds only JSON white space. */
static bool only_blanks(const char *text, size_t from, size_t len)
{
	for (size_t i = from; i < len; i++)
		if (text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
			return false;
	return true;
}

bool replay_parse(const char *path, const char *text, size_t len, struct replay *r)
{
	json_tokener *tok = NULL;
	json_object *o = NULL;
	size_t end;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	r->p.variant = -1;
	if (len > REPLAY_MAX_BYTES) {
		fprintf(stderr, "mmnsim: %s: not a replay file (larger than %d MiB)\n", path,
			REPLAY_MAX_BYTES >> 20);
		return false;
	}
	tok = json_tokener_new();
	if (!tok) {
		fprintf(stderr, "mmnsim: %s: out of memory\n", path);
		return false;
	}
	/* The terminating NUL is part of the input: it ends a number at the
	 * end of the text. */
	o = json_tokener_parse_ex(tok, text, (int)len + 1);
	if (!o && json_tokener_get_error(tok) == json_tokener_success) {
		/* json-c returns NULL for a well-formed "null" */
		fprintf(stderr, "mmnsim: %s: not a replay file (null, not a JSON object)\n", path);
		goto out;
	}
	if (!o) {
		fprintf(stderr, "mmnsim: %s:%lu: not a replay file: %s\n", path,
			line_of(text, json_tokener_get_parse_end(tok)),
			json_tokener_error_desc(json_tokener_get_error(tok)));
		goto out;
	}
	end = json_tokener_get_parse_end(tok);
	if (!only_blanks(text, end, len)) {
		fprintf(stderr, "mmnsim: %s:%lu: not a replay file: text after the JSON object\n",
			path, line_of(text, end));
		goto out;
	}
	if (json_object_get_type(o) != json_type_object) {
		fprintf(stderr, "mmnsim: %s: not a replay file (not a JSON object)\n", path);
		goto out;
	}
	ok = load_header(path, o, r) && load_setting(path, o, r) && load_schedule(path, o, r) &&
	     load_choices(path, o, r);
out:
	if (o)
		json_object_put(o);
	json_tokener_free(tok);
	if (!ok)
		replay_free(r);
	return ok;
}

bool replay_load(const char *path, struct replay *r)
{
	size_t len;
	char *text = read_text_file(path, &len, "");
	bool ok;

	if (!text) {
		memset(r, 0, sizeof(*r));
		return false;
	}
	ok = replay_parse(path, text, len, r);
	free(text);
	return ok;
}

void replay_free(struct replay *r)
{
	free(r->choices);
	r->choices = NULL;
	r->nr_choices = 0;
}

/* Load the source @r names from its recorded path, if it still hashes the
 * same; false after one line. */
static bool load_recorded(const char *file, const struct replay *r, struct cli_env *env)
{
	const char *kind = cli_source_kind_name(r->src_kind);
	char hex[65], what[CLI_PATH_MAX + 200];
	int err = cli_file_sha256(r->src_path, hex);

	if (err) {
		snprintf(what, sizeof(what), "cannot read the %s %s: %s", kind, r->src_path,
			 strerror(-err));
		return bad_field(file, "source", what);
	}
	if (strcmp(hex, r->src_sha256)) {
		snprintf(what, sizeof(what),
			 "the %s %s has changed since the schedule was saved (sha256 %.12s..., "
			 "saved %.12s...)",
			 kind, r->src_path, hex, r->src_sha256);
		return bad_field(file, "source", what);
	}
	if (r->src_kind == CLI_SOURCE_FILE)
		return cli_sfile_load(env, r->src_path) != NULL;
	return !cli_plugin_load(env, r->src_path);
}

bool replay_resolve(const char *file, struct replay *r, struct cli_env *env)
{
	const struct cli_source *src;
	char what[2 * CLI_PATH_MAX + 200];

	if (!r->has_source)
		return r->s || bad_field(file, "scenario", "unknown scenario (mmnsim list shows them)");
	src = cli_source_by_hash(env, r->src_kind, r->src_sha256);
	if (!src) {
		const struct mmn_scenario *s = mmn_scenario_by_id(r->scenario);
		const struct cli_source *other = cli_source_of(env, s);

		if (s) {
			snprintf(what, sizeof(what),
				 "scenario %s is registered by %s, not by the %s %s (sha256 %.12s...)",
				 r->scenario, other ? other->path : "mmnsim itself",
				 cli_source_kind_name(r->src_kind), r->src_path, r->src_sha256);
			return bad_field(file, "source", what);
		}
		if (!load_recorded(file, r, env))
			return false;
		src = cli_source_by_hash(env, r->src_kind, r->src_sha256);
	}
	r->s = mmn_scenario_by_id(r->scenario);
	if (!src || cli_source_of(env, r->s) != src) {
		snprintf(what, sizeof(what), "the %s %s registers no scenario %s",
			 cli_source_kind_name(r->src_kind), r->src_path, r->scenario);
		r->s = NULL;
		return bad_field(file, "scenario", what);
	}
	return true;
}
