// SPDX-License-Identifier: MIT
/*
 * mmnsim merge [--json] FILE...: the shard outputs of one sharded exploration
 * (`mmnsim explore ... --shard I/N --json`, one file per shard, e.g. the tasks
 * of a Slurm job array: scripts/slurm/explore-array.sbatch) checked and merged
 * into the statistics of the whole exploration (docs/cluster.md).
 *
 * Checked: every file is one explore object; all describe the same
 * exploration (scenario, setting, parameters, strategy, seed, runs, shard
 * count); every shard index 0..N-1 is there exactly once. Each problem is one
 * line naming the file and the field, and exit 2. Merged: the counts (and the
 * scenario's counters) are added (every schedule belongs to exactly one shard), first_index is the minimum,
 * the saved file names are concatenated; host times are not merged (each
 * shard measured its own, on its own machine). The exit status is explore's:
 * 0 nothing violating, 1 violating schedules, 2 an input error.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include "cli.h"
#include "replay_file.h"

#define MERGE_MAX_FILES 4096

/* Fields that must be equal in every shard of one exploration. */
static const char *const same_fields[] = {
	"scenario", "wrong",	 "profile",  "knobs",	  "variant",	      "pages",
	"iterations", "rng_seed", "strategy", "runs",	  "seed",	      "shards",
	"pct_depth", "pct_steps", "max_steps", "preemption_bound", "keep_going", NULL,
};

/* Fields added up over the shards. */
static const char *const sum_fields[] = { "schedules", "deadlocks", "budgets", "steps",
					  "modelled_ns", "claims_held", "violating", NULL };

struct merge {
	int nr;
	const char **path;
	json_object **obj;
	unsigned long shards;
	const char **by_shard; /* path of the file holding shard i */
	uint64_t sum[sizeof(sum_fields) / sizeof(sum_fields[0])];
	uint64_t by_kind[MMN_VIOL_NR_KINDS];
	bool have_first;
	uint64_t first_index;
	struct mmn_explore_stats counters; /* the scenario's counters, summed */
	/* exhaustive and dpor shards: runs made, the digest of the schedules
	 * (classes) counted, whether every shard completed or left some out */
	bool search;
	uint64_t runs_made, digest, real_ns, shard_depth;
	bool complete, bounded;
};

static int merge_bad(const char *path, const char *field, const char *what)
{
	fprintf(stderr, "mmnsim: merge: %s: field '%s': %s\n", path, field, what);
	return EXIT_USAGE;
}

/* An unsigned integer field @name of @o into *@out; false after one line. */
static bool merge_uint(const char *path, json_object *o, const char *name, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, name, &v) || json_object_get_type(v) != json_type_int ||
	    json_object_get_int64(v) < 0) {
		merge_bad(path, name, "missing or not an unsigned integer");
		return false;
	}
	*out = json_object_get_uint64(v);
	return true;
}

/* One shard output, read with read_text_file() (the replay files' reader:
 * unreadable files, directories and files over 64 MiB refused in one line). */
static json_object *merge_read(const char *path)
{
	struct json_tokener *tok;
	json_object *o = NULL;
	size_t n, end;
	char *buf;

	buf = read_text_file(path, &n, "merge: ");
	if (!buf)
		return NULL;
	tok = json_tokener_new();
	if (!tok) {
		fprintf(stderr, "mmnsim: merge: out of memory\n");
		free(buf);
		return NULL;
	}
	o = json_tokener_parse_ex(tok, buf, (int)n);
	end = json_tokener_get_parse_end(tok);
	if (json_tokener_get_error(tok) == json_tokener_continue)
		fprintf(stderr, "mmnsim: merge: %s: not JSON: the text ends inside a value\n", path);
	else if (json_tokener_get_error(tok) != json_tokener_success)
		fprintf(stderr, "mmnsim: merge: %s: not JSON: %s\n", path,
			json_tokener_error_desc(json_tokener_get_error(tok)));
	else if (buf[end + strspn(buf + end, " \t\r\n")])
		fprintf(stderr, "mmnsim: merge: %s: not a shard output: text after the object\n", path);
	else if (json_object_get_type(o) != json_type_object)
		fprintf(stderr,
			"mmnsim: merge: %s: not a shard output: expected the object of one "
			"'mmnsim explore SCENARIO --json' (explore all does not shard)\n",
			path);
	else
		goto out;
	json_object_put(o);
	o = NULL;
out:
	json_tokener_free(tok);
	free(buf);
	return o;
}

/* File @i against file 0: the fields of one exploration are equal. */
static bool merge_same(const struct merge *m, int i)
{
	for (int f = 0; same_fields[f]; f++) {
		json_object *a, *b;
		char what[512];

		if (!json_object_object_get_ex(m->obj[i], same_fields[f], &a)) {
			merge_bad(m->path[i], same_fields[f], "missing (written by an older mmnsim?)");
			return false;
		}
		if (!i)
			continue;
		json_object_object_get_ex(m->obj[0], same_fields[f], &b);
		if (!json_object_equal(a, b)) {
			snprintf(what, sizeof(what), "%.120s, but %.200s has %.120s",
				 json_object_to_json_string(a), m->path[0],
				 json_object_to_json_string(b));
			merge_bad(m->path[i], same_fields[f], what);
			return false;
		}
	}
	return true;
}

/* Shard index of file @i: in range and not seen before. */
static bool merge_place(struct merge *m, int i)
{
	uint64_t shard, shards;
	char what[512];

	if (!merge_uint(m->path[i], m->obj[i], "shard", &shard) ||
	    !merge_uint(m->path[i], m->obj[i], "shards", &shards))
		return false;
	if (!shards || shards > MERGE_MAX_FILES || shard >= shards) {
		merge_bad(m->path[i], "shard", "not a shard index below the shard count");
		return false;
	}
	if (!m->shards) {
		m->shards = shards;
		m->by_shard = calloc(shards, sizeof(*m->by_shard));
		if (!m->by_shard) {
			fprintf(stderr, "mmnsim: merge: out of memory\n");
			return false;
		}
	}
	if (m->by_shard[shard]) {
		snprintf(what, sizeof(what), "shard %" PRIu64 " of %" PRIu64 " is also in %s", shard,
			 shards, m->by_shard[shard]);
		merge_bad(m->path[i], "shard", what);
		return false;
	}
	m->by_shard[shard] = m->path[i];
	return true;
}

/* The exhaustive and dpor fields of file @i (none in random or pct files). */
static bool merge_search(struct merge *m, int i)
{
	json_object *v;
	uint64_t n, depth;
	char *end;

	if (!json_object_object_get_ex(m->obj[i], "digest", &v) || !v)
		return true;
	if (json_object_get_type(v) != json_type_string) {
		merge_bad(m->path[i], "digest", "not a string of hexadecimal digits");
		return false;
	}
	errno = 0;
	n = strtoull(json_object_get_string(v), &end, 16);
	if (errno || *end || end == json_object_get_string(v)) {
		merge_bad(m->path[i], "digest", "not a string of hexadecimal digits");
		return false;
	}
	if (!i) {
		m->search = true;
		m->complete = true;
	}
	if (!merge_uint(m->path[i], m->obj[i], "shard_depth", &depth))
		return false;
	if (!i) {
		m->shard_depth = depth;
	} else if (depth != m->shard_depth) {
		merge_bad(m->path[i], "shard_depth", "differs from the first file's: not one partition");
		return false;
	}
	m->digest += n;
	if (!merge_uint(m->path[i], m->obj[i], "runs_made", &n))
		return false;
	m->runs_made += n;
	if (!merge_uint(m->path[i], m->obj[i], "real_ns", &n))
		return false;
	m->real_ns = n > m->real_ns ? n : m->real_ns;
	m->complete = m->complete && json_object_object_get_ex(m->obj[i], "complete", &v) &&
		      json_object_get_boolean(v);
	m->bounded = m->bounded || (json_object_object_get_ex(m->obj[i], "bounded", &v) &&
				    json_object_get_boolean(v));
	return true;
}

/* Add file @i's counts into @m. */
static bool merge_add(struct merge *m, int i)
{
	json_object *kinds, *first;
	uint64_t v;

	for (int f = 0; sum_fields[f]; f++) {
		if (!merge_uint(m->path[i], m->obj[i], sum_fields[f], &v))
			return false;
		m->sum[f] += v;
	}
	if (!json_object_object_get_ex(m->obj[i], "by_kind", &kinds) ||
	    json_object_get_type(kinds) != json_type_object) {
		merge_bad(m->path[i], "by_kind", "missing or not an object");
		return false;
	}
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		const char *name = mmn_violation_kind_name((enum mmn_violation_kind)k);

		if (!merge_uint(m->path[i], kinds, name, &v))
			return false;
		m->by_kind[k] += v;
	}
	if (json_object_object_get_ex(m->obj[i], "counters", &kinds) && kinds) {
		if (json_object_get_type(kinds) != json_type_object) {
			merge_bad(m->path[i], "counters", "not an object");
			return false;
		}
		json_object_object_foreach(kinds, name, val) {
			(void)val;
			if (!merge_uint(m->path[i], kinds, name, &v))
				return false;
			if (mmn_explore_stats_add_counter(&m->counters, name, v)) {
				merge_bad(m->path[i], "counters", "more counters than a scenario has");
				return false;
			}
		}
	}
	if (json_object_object_get_ex(m->obj[i], "first_index", &first) && first) {
		if (!merge_uint(m->path[i], m->obj[i], "first_index", &v))
			return false;
		if (!m->have_first || v < m->first_index)
			m->first_index = v;
		m->have_first = true;
	}
	return merge_search(m, i);
}

static uint64_t merge_sum(const struct merge *m, const char *name)
{
	for (int f = 0; sum_fields[f]; f++)
		if (!strcmp(sum_fields[f], name))
			return m->sum[f];
	return 0;
}

static void merge_print_json(const struct merge *m)
{
	json_object *o = json_object_new_object(), *kinds = json_object_new_object();
	json_object *saved = json_object_new_array(), *v;

	for (int f = 0; same_fields[f]; f++) {
		json_object_object_get_ex(m->obj[0], same_fields[f], &v);
		json_object_object_add(o, same_fields[f], json_object_get(v));
	}
	for (int f = 0; sum_fields[f]; f++)
		json_object_object_add(o, sum_fields[f], json_object_new_uint64(m->sum[f]));
	json_object_object_add(o, "first_index",
			       m->have_first ? json_object_new_uint64(m->first_index) : NULL);
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		json_object_object_add(kinds, mmn_violation_kind_name((enum mmn_violation_kind)k),
				       json_object_new_uint64(m->by_kind[k]));
	json_object_object_add(o, "by_kind", kinds);
	kinds = json_object_new_object();
	for (int c = 0; c < m->counters.nr_counters; c++)
		json_object_object_add(kinds, m->counters.counter_name[c],
				       json_object_new_uint64(m->counters.counters[c]));
	json_object_object_add(o, "counters", kinds);
	for (unsigned long s = 0; s < m->shards; s++) {
		json_object *obj = NULL, *list;

		for (int i = 0; i < m->nr; i++)
			if (m->path[i] == m->by_shard[s])
				obj = m->obj[i];
		if (obj && json_object_object_get_ex(obj, "saved", &list) &&
		    json_object_get_type(list) == json_type_array)
			for (size_t k = 0; k < json_object_array_length(list); k++)
				json_object_array_add(saved,
						      json_object_get(json_object_array_get_idx(list, k)));
	}
	json_object_object_add(o, "saved", saved);
	if (m->search) {
		char digest[32];

		snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)m->digest);
		json_object_object_add(o, "runs_made", json_object_new_uint64(m->runs_made));
		json_object_object_add(o, "digest", json_object_new_string(digest));
		json_object_object_add(o, "complete", json_object_new_boolean(m->complete));
		json_object_object_add(o, "bounded", json_object_new_boolean(m->bounded));
		json_object_object_add(o, "real_ns", json_object_new_uint64(m->real_ns));
	}
	puts(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE));
	json_object_put(o);
}

static void merge_print_text(const struct merge *m)
{
	json_object *id, *wrong, *strategy;
	char kinds[256];

	json_object_object_get_ex(m->obj[0], "scenario", &id);
	json_object_object_get_ex(m->obj[0], "wrong", &wrong);
	json_object_object_get_ex(m->obj[0], "strategy", &strategy);
	printf("%s %s setting, %s: %lu shards merged\n", json_object_get_string(id),
	       json_object_get_boolean(wrong) ? "wrong" : "right", json_object_get_string(strategy),
	       m->shards);
	printf("  schedules %" PRIu64 ", violating %" PRIu64, merge_sum(m, "schedules"),
	       merge_sum(m, "violating"));
	if (m->have_first)
		printf(" (first at schedule #%" PRIu64 ")", m->first_index);
	printf(", deadlocks %" PRIu64 ", over budget %" PRIu64 ", steps %" PRIu64 "\n",
	       merge_sum(m, "deadlocks"), merge_sum(m, "budgets"), merge_sum(m, "steps"));
	if (m->search)
		printf("  %s, %" PRIu64 " runs made, digest %016llx, %.2f s (the slowest shard)\n",
		       m->complete ? "complete" : m->bounded ? "bounded" : "stopped", m->runs_made,
		       (unsigned long long)m->digest, m->real_ns / 1e9);
	if (merge_sum(m, "violating")) {
		unsigned long by_kind[MMN_VIOL_NR_KINDS];

		for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
			by_kind[k] = (unsigned long)m->by_kind[k];
		printf("  %s\n", kinds_text(by_kind, kinds, sizeof(kinds)));
	}
}

/* Check and merge the files of @m; the exit status. */
static int merge_files(struct merge *m, bool json)
{
	for (int i = 0; i < m->nr; i++) {
		m->obj[i] = merge_read(m->path[i]);
		if (!m->obj[i] || !merge_same(m, i) || !merge_place(m, i) || !merge_add(m, i))
			return EXIT_USAGE;
	}
	for (unsigned long s = 0; s < m->shards; s++) {
		if (!m->by_shard[s]) {
			fprintf(stderr, "mmnsim: merge: shard %lu of %lu is missing (%d file(s) given)\n",
				s, m->shards, m->nr);
			return EXIT_USAGE;
		}
	}
	if (json)
		merge_print_json(m);
	else
		merge_print_text(m);
	if (!merge_sum(m, "violating") && merge_sum(m, "schedules") &&
	    merge_sum(m, "budgets") >= merge_sum(m, "schedules"))
		return EXIT_NO_VERDICT; /* as explore: every schedule over budget */
	return merge_sum(m, "violating") ? EXIT_VIOLATION : EXIT_OK;
}

int cmd_merge(int argc, char **argv, struct cli_env *env)
{
	struct merge m = { 0 };
	bool json = false;
	int status;

	m.path = calloc((size_t)argc + 1, sizeof(*m.path));
	m.obj = calloc((size_t)argc + 1, sizeof(*m.obj));
	if (!m.path || !m.obj) {
		free(m.path);
		free(m.obj);
		fprintf(stderr, "mmnsim: merge: out of memory\n");
		return EXIT_USAGE;
	}
	status = EXIT_OK;
	for (int i = 0; i < argc && status == EXIT_OK; i++) {
		if (!strcmp(argv[i], "--json")) {
			json = true;
		} else if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			usage_command(stdout, "merge");
			status = CLI_HELP;
		} else if (argv[i][0] == '-' && argv[i][1]) {
			fprintf(stderr, "mmnsim: merge: unknown option '%s' (mmnsim merge --help)\n",
				argv[i]);
			status = EXIT_USAGE;
		} else if (m.nr >= MERGE_MAX_FILES) {
			fprintf(stderr, "mmnsim: merge: more than %d files\n", MERGE_MAX_FILES);
			status = EXIT_USAGE;
		} else {
			m.path[m.nr++] = argv[i];
		}
	}
	if (status == EXIT_OK && !m.nr) {
		fprintf(stderr, "mmnsim: merge: no files (usage: mmnsim merge [--json] SHARD.json...)\n");
		status = EXIT_USAGE;
	}
	if (status == EXIT_OK && !env->dry)
		status = merge_files(&m, json);
	for (int i = 0; i < m.nr; i++)
		if (m.obj[i])
			json_object_put(m.obj[i]);
	free(m.by_shard);
	free(m.path);
	free(m.obj);
	return cli_parse_status(status);
}
