// SPDX-License-Identifier: MIT
/*
 * Scenario files (sim/scenario_file.h, docs/cli.md "Scenario files"): the
 * YAML is parsed into a libyaml document (every node carries its start
 * line and column), then walked against the format below; the first
 * problem is reported on one line with the file, line, column and field.
 * An unknown field, operation, listener kind, knob or violation kind is an
 * error, never ignored.
 *
 *   id: NAME                          # [A-Za-z0-9_.-], 1..31 bytes
 *   title: TEXT
 *   simulation: { cpus: 1..64, frames: 1..1048576, profile: P, knobs: { NAME: VALUE } }
 *   mappings:  [ { start: ADDR, length: BYTES, prot: [read, write], flags: [private|shared, anonymous, fixed] } ]
 *   listeners: [ { kind: kvm|iommu|hmm, right: VARIANT, wrong: VARIANT } ]
 *   actors:    [ { name: NAME, ops: [ OP ... ] } ]
 *   claim:     { right: none, wrong: [ KIND ... ] }
 *
 *   OP: { op: read|write, cpu: N, addr: A [, value: V] }
 *       { op: munmap|madvise_dontneed, addr: A, length: L }
 *       { op: mprotect, addr: A, length: L, prot: [...] }
 *       { op: device_read|device_write, listener: I, addr: A }
 *       { loop: COUNT (1..1000), ops: [ OP ... ] }
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

#include "scenario_file.h"

/* A walk over one document: where errors go, what was found. */
struct walk {
	const char *path;
	yaml_document_t *doc;
	struct sfile_summary *out;
	const char *profile; /* simulation.profile, for the knob checks */
};

/* One line naming the file, the node's line and column, and @field; false. */
static bool bad(const struct walk *w, const yaml_node_t *n, const char *field, const char *fmt,
		const char *arg)
{
	fprintf(stderr, "mmnsim: %s:%lu:%lu: field '%s': ", w->path,
		(unsigned long)n->start_mark.line + 1, (unsigned long)n->start_mark.column + 1,
		field);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return false;
}

static const char *scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

/* Whether @s is one of the NULL-terminated @names. */
static bool one_of(const char *s, const char *const *names)
{
	for (; *names; names++)
		if (!strcmp(s, *names))
			return true;
	return false;
}

/* A scalar that is an unsigned number (decimal or 0x hex) in [min, max]. */
static bool get_number(const struct walk *w, const yaml_node_t *n, const char *field,
		       uint64_t min, uint64_t max, uint64_t *v)
{
	const char *s = scalar(n);
	char *end;
	char range[64];

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return bad(w, n, field, "expected a number%s", "");
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (*end || errno)
		return bad(w, n, field, "expected a number, not '%s'", s);
	if (*v < min || *v > max) {
		snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64, min, max);
		return bad(w, n, field, "out of range (%s)", range);
	}
	return true;
}

/* Check that every key of mapping @n is one of @keys; each value goes to
 * @vals[i] (NULL if absent). */
static bool get_keys(const struct walk *w, const yaml_node_t *n, const char *field,
		     const char *const *keys, const yaml_node_t **vals)
{
	char f[160];

	if (n->type != YAML_MAPPING_NODE)
		return bad(w, n, field, "expected a mapping%s", "");
	for (int i = 0; keys[i]; i++)
		vals[i] = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const char *name = scalar(k);
		int i = 0;

		while (name && keys[i] && strcmp(keys[i], name))
			i++;
		if (!name || !keys[i]) {
			snprintf(f, sizeof(f), "%s", field);
			return bad(w, k, f, "unknown field '%s'", name ? name : "(not a name)");
		}
		if (vals[i])
			return bad(w, k, field, "field '%s' given twice", name);
		vals[i] = yaml_document_get_node(w->doc, p->value);
	}
	return true;
}

/* A sequence of names, each one of @names. */
static bool get_names(const struct walk *w, const yaml_node_t *n, const char *field,
		      const char *const *names, const char *what)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(w, n, field, "expected a list of %s", what);
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		const yaml_node_t *e = yaml_document_get_node(w->doc, *i);

		if (!scalar(e) || !one_of(scalar(e), names))
			return bad(w, e, field, "unknown %s", what);
	}
	return true;
}

static const char *const prot_names[] = { "read", "write", NULL };

static bool check_simulation(const struct walk *wc, const yaml_node_t *n)
{
	static const char *const keys[] = { "cpus", "frames", "profile", "knobs", NULL };
	struct walk w = *wc;
	const yaml_node_t *v[4];
	struct mmn_profile copy;
	uint64_t x;

	if (!get_keys(&w, n, "simulation", keys, v))
		return false;
	if (v[0] && !get_number(&w, v[0], "simulation.cpus", 1, 64, &x))
		return false;
	if (v[1] && !get_number(&w, v[1], "simulation.frames", 1, 1 << 20, &x))
		return false;
	w.profile = v[2] ? scalar(v[2]) : "latest";
	if (!w.profile || !mmn_profile_by_name(w.profile))
		return bad(&w, v[2], "simulation.profile", "unknown profile%s (mmnsim list shows them)",
			   "");
	if (!v[3])
		return true;
	if (v[3]->type != YAML_MAPPING_NODE)
		return bad(&w, v[3], "simulation.knobs", "expected a mapping NAME: VALUE%s", "");
	for (yaml_node_pair_t *p = v[3]->data.mapping.pairs.start; p < v[3]->data.mapping.pairs.top;
	     p++) {
		const yaml_node_t *k = yaml_document_get_node(w.doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(w.doc, p->value);
		const char *name = scalar(k), *value = scalar(val);
		char field[96];
		int err;

		if (!name || !value)
			return bad(&w, k, "simulation.knobs", "expected NAME: VALUE%s", "");
		snprintf(field, sizeof(field), "simulation.knobs.%.60s", name);
		copy = *mmn_profile_by_name(w.profile);
		err = !strncmp(name, "cost_", 5) ? mmn_cost_knob_parse(name, value, NULL, NULL)
						 : mmn_profile_set_knob(&copy, name, value);
		if (err == -ENOENT)
			return bad(&w, k, field, "unknown knob '%s' (mmnsim list shows them)", name);
		if (err)
			return bad(&w, val, field, "value '%s' malformed or out of range", value);
	}
	return true;
}

static bool check_mapping(const struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "start", "length", "prot", "flags", NULL };
	static const char *const flags[] = { "private", "shared", "anonymous", "fixed", NULL };
	const yaml_node_t *v[4];
	uint64_t x;

	if (!get_keys(w, n, "mappings[]", keys, v))
		return false;
	if (!v[0] || !v[1])
		return bad(w, n, "mappings[]", "needs start and length%s", "");
	return get_number(w, v[0], "mappings[].start", 0, UINT64_MAX, &x) &&
	       get_number(w, v[1], "mappings[].length", MMN_PAGE_SIZE, 1ULL << 40, &x) &&
	       (!v[2] || get_names(w, v[2], "mappings[].prot", prot_names, "protection")) &&
	       (!v[3] || get_names(w, v[3], "mappings[].flags", flags, "flag"));
}

static bool check_listener(const struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "kind", "right", "wrong", NULL };
	static const char *const kinds[] = { "kvm", "iommu", "hmm", NULL };
	const yaml_node_t *v[3];

	if (!get_keys(w, n, "listeners[]", keys, v))
		return false;
	if (!v[0] || !scalar(v[0]))
		return bad(w, n, "listeners[].kind", "missing: kvm, iommu or hmm%s", "");
	if (!one_of(scalar(v[0]), kinds))
		return bad(w, v[0], "listeners[].kind",
			   "unknown listener '%s' (kvm, iommu or hmm)", scalar(v[0]));
	if ((v[1] && !scalar(v[1])) || (v[2] && !scalar(v[2])))
		return bad(w, v[1] && !scalar(v[1]) ? v[1] : v[2], "listeners[]",
			   "a variant is a name%s", "");
	return true;
}

static bool check_ops(const struct walk *w, const yaml_node_t *n, int depth);

/* One operation (or loop) of an actor. */
static bool check_op(const struct walk *w, const yaml_node_t *n, int depth)
{
	static const char *const keys[] = { "op", "cpu", "addr", "value", "length", "prot",
					    "listener", "loop", "ops", NULL };
	static const char *const ops[] = { "read", "write", "munmap", "madvise_dontneed",
					   "mprotect", "device_read", "device_write", NULL };
	/* Per op: the fields it needs (bit i: keys[i]) and those it allows. */
	static const unsigned int need[] = { 0x6, 0x6, 0x14, 0x14, 0x34, 0x44, 0x44 };
	static const unsigned int allow[] = { 0x7, 0xf, 0x15, 0x15, 0x35, 0x45, 0x45 };
	const yaml_node_t *v[9];
	unsigned int have = 0;
	uint64_t x;
	int k;

	if (!get_keys(w, n, "actors[].ops[]", keys, v))
		return false;
	for (int i = 0; i < 9; i++)
		have |= v[i] ? 1u << i : 0;
	if (v[7]) { /* a loop */
		if (have & ~0x180u)
			return bad(w, n, "actors[].ops[].loop", "a loop has only loop and ops%s", "");
		if (!v[8])
			return bad(w, n, "actors[].ops[].loop", "a loop needs ops%s", "");
		return get_number(w, v[7], "actors[].ops[].loop", 1, 1000, &x) &&
		       check_ops(w, v[8], depth + 1);
	}
	if (!v[0] || !scalar(v[0]))
		return bad(w, n, "actors[].ops[].op", "missing: each operation has op (or loop)%s",
			   "");
	for (k = 0; ops[k] && strcmp(ops[k], scalar(v[0])); k++)
		;
	if (!ops[k])
		return bad(w, v[0], "actors[].ops[].op",
			   "unknown operation '%s' (read, write, munmap, madvise_dontneed, mprotect, "
			   "device_read, device_write, or a loop)",
			   scalar(v[0]));
	if ((have & need[k]) != need[k] || (have & ~allow[k]))
		return bad(w, n, "actors[].ops[]", "wrong fields for operation '%s' (docs/cli.md)",
			   ops[k]);
	w->out->nr_ops++;
	return (!v[1] || get_number(w, v[1], "actors[].ops[].cpu", 0, 63, &x)) &&
	       get_number(w, v[2], "actors[].ops[].addr", 0, UINT64_MAX, &x) &&
	       (!v[3] || get_number(w, v[3], "actors[].ops[].value", 0, UINT64_MAX, &x)) &&
	       (!v[4] || get_number(w, v[4], "actors[].ops[].length", 1, 1ULL << 40, &x)) &&
	       (!v[5] || get_names(w, v[5], "actors[].ops[].prot", prot_names, "protection")) &&
	       (!v[6] || get_number(w, v[6], "actors[].ops[].listener", 0,
				    (uint64_t)(w->out->nr_listeners ? w->out->nr_listeners - 1 : 0),
				    &x));
}

static bool check_ops(const struct walk *w, const yaml_node_t *n, int depth)
{
	if (depth > 8)
		return bad(w, n, "actors[].ops", "loops nested deeper than 8%s", "");
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(w, n, "actors[].ops", "expected a list of operations%s", "");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
		if (!check_op(w, yaml_document_get_node(w->doc, *i), depth))
			return false;
	return true;
}

static bool check_actor(const struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "name", "ops", NULL };
	const yaml_node_t *v[2];

	if (!get_keys(w, n, "actors[]", keys, v))
		return false;
	if (!v[0] || !scalar(v[0]) || !v[1])
		return bad(w, n, "actors[]", "an actor has a name and ops%s", "");
	return check_ops(w, v[1], 0);
}

static bool check_claim(const struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "right", "wrong", NULL };
	const char *names[MMN_VIOL_NR_KINDS + 1];
	const yaml_node_t *v[2];

	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		names[k] = mmn_violation_kind_name((enum mmn_violation_kind)k);
	names[MMN_VIOL_NR_KINDS] = NULL;
	if (!get_keys(w, n, "claim", keys, v))
		return false;
	if (v[0] && (!scalar(v[0]) || strcmp(scalar(v[0]), "none")))
		return bad(w, v[0], "claim.right", "the right setting claims none%s", "");
	return !v[1] || get_names(w, v[1], "claim.wrong", names, "violation kind");
}

/* Each element of the sequence @n checked by @fn; @count gets their number. */
static bool check_list(const struct walk *w, const yaml_node_t *n, const char *field,
		       bool (*fn)(const struct walk *, const yaml_node_t *), int *count)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(w, n, field, "expected a list%s", "");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		if (!fn(w, yaml_document_get_node(w->doc, *i)))
			return false;
		(*count)++;
	}
	return true;
}

static bool check_top(struct walk *w, const yaml_node_t *root)
{
	static const char *const keys[] = { "id", "title", "simulation", "mappings", "listeners",
					    "actors", "claim", NULL };
	const yaml_node_t *v[7];
	const char *id;

	if (!get_keys(w, root, "(top)", keys, v))
		return false;
	id = scalar(v[0]);
	if (!v[0] || !id || !*id || strlen(id) > MMN_SCENARIO_NAME_MAX ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
		    strlen(id))
		return bad(w, v[0] ? v[0] : root, "id", "expected a name of [A-Za-z0-9_.-], 1 to 31 bytes%s",
			   "");
	snprintf(w->out->id, sizeof(w->out->id), "%s", id);
	if (!v[1] || !scalar(v[1]))
		return bad(w, v[1] ? v[1] : root, "title", "expected one line of text%s", "");
	if (!v[5])
		return bad(w, root, "actors", "missing: a scenario has actors%s", "");
	return (!v[2] || check_simulation(w, v[2])) &&
	       (!v[3] || check_list(w, v[3], "mappings", check_mapping, &w->out->nr_mappings)) &&
	       (!v[4] || check_list(w, v[4], "listeners", check_listener, &w->out->nr_listeners)) &&
	       check_list(w, v[5], "actors", check_actor, &w->out->nr_actors) &&
	       (!v[6] || check_claim(w, v[6]));
}

bool sfile_is_path(const char *arg)
{
	size_t n = strlen(arg);

	return (n > 5 && !strcmp(arg + n - 5, ".yaml")) || (n > 4 && !strcmp(arg + n - 4, ".yml"));
}

bool sfile_check(const char *path, const char *text, size_t len, struct sfile_summary *out)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct walk w = { .path = path, .doc = &doc, .out = out };
	const yaml_node_t *root;
	bool ok;

	memset(out, 0, sizeof(*out));
	if (!yaml_parser_initialize(&parser)) {
		fprintf(stderr, "mmnsim: %s: out of memory\n", path);
		return false;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		fprintf(stderr, "mmnsim: %s:%lu:%lu: not YAML: %s%s%s\n", path,
			(unsigned long)parser.problem_mark.line + 1,
			(unsigned long)parser.problem_mark.column + 1,
			parser.problem ? parser.problem : "syntax error",
			parser.context ? " " : "", parser.context ? parser.context : "");
		yaml_parser_delete(&parser);
		return false;
	}
	root = yaml_document_get_root_node(&doc);
	if (!root) {
		fprintf(stderr, "mmnsim: %s:1:1: not a scenario file: empty\n", path);
		ok = false;
	} else {
		ok = check_top(&w, root);
	}
	yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	return ok;
}
