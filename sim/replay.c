// SPDX-License-Identifier: MIT
/*
 * Replay files (sim/replay.h) and the replay and shrink commands.
 *
 *   mmnsim replay FILE [--trace F] [--chrome F] [--json]
 *   mmnsim shrink FILE [--out F] [--json]
 *
 * replay re-runs the saved choice list (MMN_STRATEGY_REPLAY) and compares its
 * trace with the saved one byte for byte. shrink delta-debugs the list
 * (mmn_scenario_shrink()) and saves the shorter schedule like explore does.
 * Exit status: 1 when the (re-run or shrunk) schedule shows the violation,
 * 0 when it does not, 2 for bad input (one line on stderr) or a replay whose
 * trace differs from the saved one.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <json-c/json.h>

#include "cli.h"
#include "replay.h"

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

/* Read all of @path (NUL-terminated, length in @len); NULL after one line. */
static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "r");
	char *buf = NULL;
	size_t cap = 0, n = 0;

	if (!f) {
		fprintf(stderr, "mmnsim: cannot read %s: %s\n", path, strerror(errno));
		return NULL;
	}
	for (;;) {
		if (n + 4096 + 1 > cap) {
			char *b = realloc(buf, cap = 2 * cap + 4096 + 1);

			if (!b) {
				free(buf);
				fclose(f);
				fprintf(stderr, "mmnsim: out of memory reading %s\n", path);
				return NULL;
			}
			buf = b;
		}
		size_t got = fread(buf + n, 1, 4096, f);

		n += got;
		if (got < 4096)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "mmnsim: cannot read %s: %s\n", path, strerror(errno));
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
		const struct mmn_scenario_params *p, const char *strategy,
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

bool replay_load(const char *path, struct replay *r)
{
	json_tokener *tok = NULL;
	json_object *o = NULL, *v;
	const char *str;
	uint64_t u;
	size_t len;
	char *text;
	bool ok = false;

	memset(r, 0, sizeof(*r));
	r->p.variant = -1;
	text = read_file(path, &len);
	if (!text)
		return false;
	tok = json_tokener_new();
	if (tok)
		o = json_tokener_parse_ex(tok, text, (int)len + 1);
	if (!tok) {
		fprintf(stderr, "mmnsim: %s: out of memory\n", path);
		goto out;
	}
	if (!o) {
		fprintf(stderr, "mmnsim: %s:%lu: not a replay file: %s\n", path,
			line_of(text, json_tokener_get_parse_end(tok)),
			json_tokener_error_desc(json_tokener_get_error(tok)));
		goto out;
	}
	if (json_object_get_type(o) != json_type_object) {
		fprintf(stderr, "mmnsim: %s: not a replay file (not a JSON object)\n", path);
		goto out;
	}
	if (!get_field(path, o, "format", json_type_string, false, &v))
		goto out;
	if (strcmp(json_object_get_string(v), REPLAY_FORMAT)) {
		bad_field(path, "format", "not \"" REPLAY_FORMAT "\"");
		goto out;
	}
	if (!get_uint(path, o, "version", 1000, &u))
		goto out;
	if (u != REPLAY_VERSION) {
		bad_field(path, "version", "unsupported version (this mmnsim reads 1)");
		goto out;
	}
	if (!get_field(path, o, "scenario", json_type_string, false, &v))
		goto out;
	r->s = mmn_scenario_by_id(json_object_get_string(v));
	if (!r->s) {
		bad_field(path, "scenario", "unknown scenario (mmnsim list shows them)");
		goto out;
	}
	if (!get_field(path, o, "wrong", json_type_boolean, false, &v))
		goto out;
	r->p.wrong = json_object_get_boolean(v);
	if (!get_field(path, o, "profile", json_type_string, true, &v))
		goto out;
	if (v) {
		str = json_object_get_string(v);
		if (!mmn_profile_by_name(str) || strlen(str) >= sizeof(r->profile)) {
			bad_field(path, "profile", "unknown profile (mmnsim list shows them)");
			goto out;
		}
		snprintf(r->profile, sizeof(r->profile), "%s", str);
		r->p.profile = r->profile;
	}
	if (!get_field(path, o, "knobs", json_type_array, false, &v))
		goto out;
	if (json_object_array_length(v) > MMN_SCENARIO_MAX_KNOBS) {
		bad_field(path, "knobs", "too many knobs (at most 8)");
		goto out;
	}
	for (size_t i = 0; i < json_object_array_length(v); i++) {
		json_object *kv = json_object_array_get_idx(v, i);

		if (json_object_get_type(kv) != json_type_string ||
		    strlen(json_object_get_string(kv)) >= sizeof(r->knobs[0])) {
			bad_field(path, "knobs", "expected strings NAME=VALUE");
			goto out;
		}
		snprintf(r->knobs[i], sizeof(r->knobs[i]), "%s", json_object_get_string(kv));
		r->p.knobs[i] = r->knobs[i];
	}
	{
		char where[600];

		snprintf(where, sizeof(where), "%s: field 'knobs': ", path);
		if (!check_knobs(&r->p, where))
			goto out;
	}
	if (!get_field(path, o, "variant", json_type_int, false, &v))
		goto out;
	if (json_object_get_int64(v) < -1 || json_object_get_int64(v) > 1000) {
		bad_field(path, "variant", "out of range (-1..1000)");
		goto out;
	}
	r->p.variant = (int)json_object_get_int64(v);
	if (!get_uint(path, o, "pages", 1UL << 30, &u))
		goto out;
	r->p.pages = (unsigned long)u;
	if (!get_uint(path, o, "iterations", 1UL << 40, &u))
		goto out;
	r->p.iterations = (unsigned long)u;
	if (!get_uint(path, o, "rng_seed", UINT64_MAX, &r->p.seed))
		goto out;
	if (!get_field(path, o, "strategy", json_type_string, false, &v))
		goto out;
	if (mmn_explore_strategy_by_name(json_object_get_string(v)) < 0) {
		bad_field(path, "strategy", "expected random, pct or exhaustive");
		goto out;
	}
	snprintf(r->strategy, sizeof(r->strategy), "%s", json_object_get_string(v));
	if (!get_uint(path, o, "seed", UINT64_MAX, &r->seed))
		goto out;
	if (!get_uint(path, o, "pct_depth", 64, &u))
		goto out;
	r->pct_depth = (unsigned int)u;
	if (!get_uint(path, o, "pct_steps", UINT64_MAX, &u))
		goto out;
	r->pct_steps = (unsigned long)u;
	if (!get_uint(path, o, "max_steps", UINT64_MAX, &u))
		goto out;
	if (!u) {
		bad_field(path, "max_steps", "must be at least 1");
		goto out;
	}
	r->max_steps = (unsigned long)u;
	if (!get_uint(path, o, "index", UINT64_MAX, &u))
		goto out;
	r->index = (unsigned long)u;
	if (!get_field(path, o, "violations", json_type_object, false, &v))
		goto out;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		json_object *c;

		if (json_object_object_get_ex(v, mmn_violation_kind_name((enum mmn_violation_kind)k),
					      &c))
			r->by_kind[k] = (unsigned long)json_object_get_uint64(c);
	}
	if (!get_field(path, o, "trace", json_type_string, true, &v))
		goto out;
	if (v) {
		const char *slash = strrchr(path, '/');
		int dirlen = slash ? (int)(slash - path + 1) : 0;

		str = json_object_get_string(v);
		if (strchr(str, '/')) {
			bad_field(path, "trace", "a file name beside the replay file, without '/'");
			goto out;
		}
		snprintf(r->trace_file, sizeof(r->trace_file), "%.*s%s", dirlen, path, str);
	}
	if (!get_field(path, o, "choices", json_type_array, false, &v))
		goto out;
	r->nr_choices = json_object_array_length(v);
	r->choices = malloc((r->nr_choices ? r->nr_choices : 1) * sizeof(*r->choices));
	if (!r->choices) {
		fprintf(stderr, "mmnsim: %s: out of memory\n", path);
		goto out;
	}
	for (size_t i = 0; i < r->nr_choices; i++) {
		json_object *c = json_object_array_get_idx(v, i);

		if (json_object_get_type(c) != json_type_int || json_object_get_int64(c) < 0 ||
		    json_object_get_int64(c) > 1 << 20) {
			char what[80];

			snprintf(what, sizeof(what), "entry %zu is not an actor index", i);
			bad_field(path, "choices", what);
			goto out;
		}
		r->choices[i] = (uint32_t)json_object_get_int64(c);
	}
	ok = true;
out:
	if (o)
		json_object_put(o);
	if (tok)
		json_tokener_free(tok);
	free(text);
	if (!ok)
		replay_free(r);
	return ok;
}

void replay_free(struct replay *r)
{
	free(r->choices);
	r->choices = NULL;
	r->nr_choices = 0;
}

/* ------------------------------------------------------------- running -- */

struct rerun {
	const struct mmn_scenario *s;
	const struct mmn_scenario_params *p;
	bool violating;
	char *trace;
	size_t trace_len;
};

static void rerun_inspect(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg)
{
	struct rerun *x = arg;
	size_t len;
	const char *t = mmn_sched_trace(sim, &len);

	x->violating = mmn_explore_violating(x->s, x->p, r);
	x->trace = malloc(len + 1);
	if (x->trace) {
		memcpy(x->trace, t, len + 1);
		x->trace_len = len;
	}
}

/* Replay @choices of @rp's scenario; the run's result in @res, its trace in x->trace. */
static int rerun(const struct replay *rp, const uint32_t *choices, size_t n,
		 struct mmn_scenario_result *res, struct rerun *x)
{
	struct mmn_scenario_params p = rp->p;
	struct mmn_sched_config sc;
	int err;

	mmn_sched_config_init(&sc);
	sc.strategy = MMN_STRATEGY_REPLAY;
	sc.replay = choices;
	sc.replay_len = n;
	sc.max_steps = rp->max_steps;
	p.mode = MMN_SCENARIO_EXPLORE;
	p.sched = &sc;
	p.inspect = rerun_inspect;
	p.inspect_arg = x;
	memset(x, 0, sizeof(*x));
	x->s = rp->s;
	x->p = &rp->p;
	err = mmn_scenario_run(rp->s->id, &p, res);
	if (!err && !x->trace)
		err = -ENOMEM;
	if (err)
		fprintf(stderr, "mmnsim: scenario %s could not run the saved parameters: %s (%d)\n",
			rp->s->id, strerror(-err), err);
	return err;
}

static const char *outcome_name(enum mmn_sched_outcome o)
{
	return o == MMN_OUTCOME_DEADLOCK ? "deadlock" : o == MMN_OUTCOME_BUDGET ? "budget" : "ok";
}

/* Parse FILE and the options common to replay and shrink: EXIT_OK, EXIT_USAGE,
 * or -1 after printing the usage for --help. */
static int replay_args(int argc, char **argv, const char *cmd, const char **file, bool *json,
		       const char **out, const char **trace, const char **chrome)
{
	for (int a = 0; a < argc; a++) {
		const char *arg = argv[a];

		if (!strcmp(arg, "--help") || !strcmp(arg, "-h")) {
			usage(stdout);
			return -1;
		} else if (!strcmp(arg, "--json")) {
			*json = true;
		} else if (out && is_option(arg, "--out")) {
			if (!(*out = option_value(argc, argv, &a, "--out")))
				return EXIT_USAGE;
		} else if (trace && is_option(arg, "--trace")) {
			if (!(*trace = option_value(argc, argv, &a, "--trace")))
				return EXIT_USAGE;
		} else if (chrome && is_option(arg, "--chrome")) {
			if (!(*chrome = option_value(argc, argv, &a, "--chrome")))
				return EXIT_USAGE;
		} else if (!take_positional(cmd, "file", arg, file)) {
			return EXIT_USAGE;
		}
	}
	if (!*file) {
		fprintf(stderr, "mmnsim: %s needs a replay file (saved by mmnsim explore)\n", cmd);
		return EXIT_USAGE;
	}
	return EXIT_OK;
}

int cmd_replay(int argc, char **argv)
{
	const char *file = NULL, *trace_out = NULL, *chrome_out = NULL;
	struct mmn_scenario_result res;
	struct replay rp;
	struct rerun x;
	bool json = false, same = false, have_saved = false;
	char kinds[256];
	int status;

	status = replay_args(argc, argv, "replay", &file, &json, NULL, &trace_out, &chrome_out);
	if (status != EXIT_OK)
		return status < 0 ? EXIT_OK : status;
	if (!replay_load(file, &rp))
		return EXIT_USAGE;
	if (rerun(&rp, rp.choices, rp.nr_choices, &res, &x)) {
		replay_free(&rp);
		return EXIT_USAGE;
	}
	if (rp.trace_file[0]) {
		size_t len;
		char *saved = read_file(rp.trace_file, &len);

		if (!saved) {
			free(x.trace);
			replay_free(&rp);
			return EXIT_USAGE;
		}
		have_saved = true;
		same = len == x.trace_len && !memcmp(saved, x.trace, len);
		free(saved);
	}
	status = x.violating ? EXIT_VIOLATION : EXIT_OK;
	if ((trace_out && write_text_file(trace_out, x.trace, x.trace_len)) ||
	    (chrome_out && write_chrome_file(chrome_out, x.trace)))
		status = EXIT_USAGE;
	if (have_saved && !same) {
		fprintf(stderr, "mmnsim: %s: the replay's trace differs from %s (another mmnsim "
				"version, or an edited file)\n",
			file, rp.trace_file);
		status = EXIT_USAGE;
	}
	if (json) {
		struct jw j = { .out = stdout };

		jw_open(&j, NULL, '{');
		jw_str(&j, "file", file);
		jw_str(&j, "scenario", rp.s->id);
		jw_bool(&j, "wrong", rp.p.wrong);
		jw_ulong(&j, "choices", rp.nr_choices);
		jw_ulong(&j, "steps", res.sched.steps);
		jw_str(&j, "outcome", outcome_name(res.sched.outcome));
		jw_ulong(&j, "replay_misses", res.sched.replay_misses);
		jw_bool(&j, "violating", x.violating);
		jw_open(&j, "by_kind", '{');
		for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
			jw_ulong(&j, mmn_violation_kind_name((enum mmn_violation_kind)k),
				   res.by_kind[k]);
		jw_close(&j, '}');
		if (have_saved)
			jw_bool(&j, "trace_identical", same);
		else
			jw_null(&j, "trace_identical");
		jw_ulong(&j, "modelled_ns", res.modelled_ns);
		jw_close(&j, '}');
	} else if (!trace_out || strcmp(trace_out, "-")) {
		printf("replay      %s: %s %s, %zu choices (found by %s, seed %llu, schedule %lu)\n",
		       file, rp.s->id, rp.p.wrong ? "wrong" : "right", rp.nr_choices, rp.strategy,
		       (unsigned long long)rp.seed, rp.index);
		printf("run         %lu steps, outcome %s, %lu replay misses\n", res.sched.steps,
		       outcome_name(res.sched.outcome), res.sched.replay_misses);
		printf("violations  %s%s\n", kinds_text(res.by_kind, kinds, sizeof(kinds)),
		       x.violating ? " (the scenario's violation: reproduced)" : "");
		printf("trace       %s\n", !have_saved ? "no saved trace to compare"
				       : same	  ? "identical to the saved trace, byte for byte"
						  : "DIFFERS from the saved trace");
	}
	free(x.trace);
	replay_free(&rp);
	return status;
}

int cmd_shrink(int argc, char **argv)
{
	const char *file = NULL, *out = NULL;
	struct mmn_scenario_result res;
	struct replay rp;
	struct rerun x;
	bool json = false;
	uint32_t *shrunk;
	char dir[512], stem[512], path[1024];
	long n;
	int status;

	status = replay_args(argc, argv, "shrink", &file, &json, &out, NULL, NULL);
	if (status != EXIT_OK)
		return status < 0 ? EXIT_OK : status;
	if (!replay_load(file, &rp))
		return EXIT_USAGE;
	shrunk = malloc((rp.nr_choices ? rp.nr_choices : 1) * sizeof(*shrunk));
	if (!shrunk) {
		replay_free(&rp);
		fprintf(stderr, "mmnsim: out of memory\n");
		return EXIT_USAGE;
	}
	/* First: does it still fail as saved? */
	if (rerun(&rp, rp.choices, rp.nr_choices, &res, &x)) {
		free(shrunk);
		replay_free(&rp);
		return EXIT_USAGE;
	}
	free(x.trace);
	if (!x.violating) {
		printf("shrink      %s: the saved schedule shows no violation; nothing to shrink\n",
		       file);
		free(shrunk);
		replay_free(&rp);
		return EXIT_OK;
	}
	n = mmn_scenario_shrink(rp.s->id, &rp.p, rp.max_steps, rp.choices, rp.nr_choices, shrunk,
				0);
	if (n < 0 || rerun(&rp, shrunk, (size_t)n, &res, &x)) {
		if (n < 0)
			fprintf(stderr, "mmnsim: shrinking %s failed: %s\n", file, strerror((int)-n));
		free(shrunk);
		replay_free(&rp);
		return EXIT_USAGE;
	}
	/* Where: --out PATH(.replay.json), else FILE with ".shrunk". */
	{
		const char *target = out ? out : file;
		const char *slash = strrchr(target, '/');
		size_t tl = strlen(target), sl = strlen(".replay.json");
		const char *base = slash ? slash + 1 : target;
		int baselen = (int)strlen(base);

		if (tl > sl && !strcmp(target + tl - sl, ".replay.json"))
			baselen -= (int)sl;
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - target) : 1,
			 slash ? target : ".");
		snprintf(stem, sizeof(stem), "%.*s%s", baselen, base, out ? "" : ".shrunk");
	}
	{
		struct mmn_sched_config sc;

		mmn_sched_config_init(&sc);
		sc.seed = rp.seed;
		sc.pct_depth = rp.pct_depth;
		sc.pct_steps = rp.pct_steps;
		sc.max_steps = rp.max_steps;
		if (replay_save(dir, stem, rp.s, &rp.p, rp.strategy, &sc, rp.index, shrunk, (size_t)n,
				res.by_kind, x.trace, path, sizeof(path)))
			status = EXIT_USAGE;
		else
			status = x.violating ? EXIT_VIOLATION : EXIT_OK;
	}
	if (status != EXIT_USAGE) {
		if (json) {
			struct jw j = { .out = stdout };

			jw_open(&j, NULL, '{');
			jw_str(&j, "file", file);
			jw_str(&j, "shrunk", path);
			jw_ulong(&j, "choices_before", rp.nr_choices);
			jw_ulong(&j, "choices_after", (unsigned long)n);
			jw_ulong(&j, "steps_after", res.sched.steps);
			jw_bool(&j, "violating", x.violating);
			jw_close(&j, '}');
		} else {
			printf("shrink      %s: %zu choices -> %ld, %lu steps; still violating: %s\n",
			       file, rp.nr_choices, n, res.sched.steps, x.violating ? "yes" : "NO");
			printf("saved       %s (and its .trace.txt, .trace.json)\n", path);
		}
	}
	free(x.trace);
	free(shrunk);
	replay_free(&rp);
	return status;
}
