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
 *   simulation: { cpus: 1..64, frames: 1..1048576, huge_pages: 0..512, profile: P,
 *                 knobs: { NAME: VALUE }, right_knobs: {...}, wrong_knobs: {...} }
 *   mms: 1..8                         # mm slots (default 1); a fork's child starts empty
 *   devices: [ { pages: N } ]         # device-private memories (mmn_devmem_create())
 *   mappings:  [ { start: ADDR, length: BYTES, prot: [read, write],
 *                  flags: [private|shared, anonymous, fixed, hugetlb, populate],
 *                  thp: BOOL, mm: M } ]
 *   listeners: [ { kind: KIND, right: VARIANT, wrong: VARIANT, mm: M,
 *                  start: ADDR, length: BYTES } ]   # KIND: kvm, iommu, hmm, a plugin's
 *   prologue:  [ OP ... ]              # run alone before the actors
 *   actors:    [ { name: NAME, ops: [ OP ... ] } ]
 *   claim:     { right: none, wrong: [ KIND ... ], counters: [ "A >= B", ... ] }
 *
 *   OP: the operations of sim/scenario_file_ops.c (docs/cli.md has the
 *       table), or { loop: COUNT (1..1000), ops: [ OP ... ] }
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_file_parse.h"

bool sfile_bad(const struct walk *w, const yaml_node_t *n, const char *field, const char *fmt,
	       const char *arg)
{
	fprintf(stderr, "mmnsim: %s:%lu:%lu: field '%s': ", w->path,
		(unsigned long)n->start_mark.line + 1, (unsigned long)n->start_mark.column + 1,
		field);
	fprintf(stderr, fmt, arg);
	fputc('\n', stderr);
	return false;
}

const char *sfile_scalar(const yaml_node_t *n)
{
	return n && n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : NULL;
}

bool sfile_number(const struct walk *w, const yaml_node_t *n, const char *field, uint64_t min,
		  uint64_t max, uint64_t *v)
{
	const char *s = sfile_scalar(n);
	char *end;
	char range[64];

	if (!s || !*s || *s == '-' || *s == '+' || *s == ' ')
		return sfile_bad(w, n, field, "expected a number%s", "");
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (*end || errno)
		return sfile_bad(w, n, field, "expected a number, not '%s'", s);
	if (*v < min || *v > max) {
		snprintf(range, sizeof(range), "%" PRIu64 "..%" PRIu64, min, max);
		return sfile_bad(w, n, field, "out of range (%s)", range);
	}
	return true;
}

bool sfile_keys(const struct walk *w, const yaml_node_t *n, const char *field,
		const char *const *keys, const yaml_node_t **vals)
{
	if (n->type != YAML_MAPPING_NODE)
		return sfile_bad(w, n, field, "expected a mapping%s", "");
	for (int i = 0; keys[i]; i++)
		vals[i] = NULL;
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const char *name = sfile_scalar(k);
		int i = 0;

		while (name && keys[i] && strcmp(keys[i], name))
			i++;
		if (!name || !keys[i])
			return sfile_bad(w, k, field, "unknown field '%s'", name ? name : "(not a name)");
		if (vals[i])
			return sfile_bad(w, k, field, "field '%s' given twice", name);
		vals[i] = yaml_document_get_node(w->doc, p->value);
	}
	return true;
}

bool sfile_names(const struct walk *w, const yaml_node_t *n, const char *field,
		 const char *const *names, const int *bits, const char *what, int *mask)
{
	*mask = 0;
	if (n->type != YAML_SEQUENCE_NODE)
		return sfile_bad(w, n, field, "expected a list of %s", what);
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		const yaml_node_t *e = yaml_document_get_node(w->doc, *i);
		int k = 0;

		while (sfile_scalar(e) && names[k] && strcmp(sfile_scalar(e), names[k]))
			k++;
		if (!sfile_scalar(e) || !names[k])
			return sfile_bad(w, e, field, "unknown %s", what);
		*mask |= bits[k];
	}
	return true;
}

bool sfile_mm(const struct walk *w, const yaml_node_t *n, const char *field, int *mm)
{
	uint64_t x;
	char msg[96];

	*mm = 0;
	if (!n)
		return true;
	if (!sfile_number(w, n, field, 0, UINT64_MAX, &x))
		return false;
	if (x >= (uint64_t)w->sf->nr_mms) {
		snprintf(msg, sizeof(msg), "mm %" PRIu64 " out of range (the file declares mms: %d)",
			 x, w->sf->nr_mms);
		return sfile_bad(w, n, field, "%s", msg);
	}
	*mm = (int)x;
	return true;
}

const char *const sfile_prot_names[] = { "read", "write", NULL };
const int sfile_prot_bits[] = { MMN_PROT_READ, MMN_PROT_WRITE };
const char *const sfile_map_flag_names[] = { "private", "shared", "anonymous", "fixed",
					     "hugetlb", "populate", NULL };
const int sfile_map_flag_bits[] = { MMN_MAP_PRIVATE, MMN_MAP_SHARED, MMN_MAP_ANONYMOUS,
				    MMN_MAP_FIXED, MMN_MAP_HUGETLB, MMN_MAP_POPULATE };

/* Append "name=value" to the knobs of the settings in @which (bit 0 right,
 * bit 1 wrong). */
static bool add_knob(const struct walk *w, const yaml_node_t *k, const char *field,
		     const char *name, const char *value, unsigned int which)
{
	for (int set = 0; set < 2; set++) {
		int i = 0;

		if (!(which & (1u << set)))
			continue;
		while (i < MMN_SCENARIO_MAX_KNOBS && w->sf->knobs[set][i])
			i++;
		if (i == MMN_SCENARIO_MAX_KNOBS)
			return sfile_bad(w, k, field, "more than 8 knobs for one setting%s", "");
		if (snprintf(w->sf->knob_text[set][i], SFILE_TEXT_MAX, "%s=%s", name, value) >=
		    SFILE_TEXT_MAX)
			return sfile_bad(w, k, field, "too long%s", "");
		w->sf->knobs[set][i] = w->sf->knob_text[set][i];
	}
	return true;
}

/* The mapping NAME: VALUE @n of knobs (@field), checked against the
 * profile, for the settings in @which. */
static bool check_knobs(const struct walk *w, const yaml_node_t *n, const char *field,
			unsigned int which)
{
	if (n->type != YAML_MAPPING_NODE)
		return sfile_bad(w, n, field, "expected a mapping NAME: VALUE%s", "");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
		const char *name = sfile_scalar(k), *value = sfile_scalar(val);
		struct mmn_profile copy;
		char f[96];
		int err;

		if (!name || !value)
			return sfile_bad(w, k, field, "expected NAME: VALUE%s", "");
		snprintf(f, sizeof(f), "%s.%.60s", field, name);
		copy = *mmn_profile_by_name(w->profile);
		err = !strncmp(name, "cost_", 5) ? mmn_cost_knob_parse(name, value, NULL, NULL)
						 : mmn_profile_set_knob(&copy, name, value);
		if (err == -ENOENT)
			return sfile_bad(w, k, f, "unknown knob '%s' (mmnsim list shows them)", name);
		if (err)
			return sfile_bad(w, val, f, "value '%s' malformed or out of range", value);
		if (!add_knob(w, k, f, name, value, which))
			return false;
	}
	return true;
}

static bool check_simulation(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "cpus", "frames", "profile", "knobs", "right_knobs",
					    "wrong_knobs", "huge_pages", NULL };
	const yaml_node_t *v[7];
	uint64_t x;

	if (!sfile_keys(w, n, "simulation", keys, v))
		return false;
	if (v[0] && !sfile_number(w, v[0], "simulation.cpus", 1, 64, &x))
		return false;
	if (v[0])
		w->sf->cpus = (int)x;
	if (v[1] && !sfile_number(w, v[1], "simulation.frames", 1, 1 << 20, &x))
		return false;
	if (v[1])
		w->sf->frames = (unsigned long)x;
	if (v[6] && !sfile_number(w, v[6], "simulation.huge_pages", 1, 512, &x))
		return false;
	if (v[6])
		w->sf->huge_pages = (unsigned long)x;
	w->profile = v[2] ? sfile_scalar(v[2]) : "latest";
	if (!w->profile || !mmn_profile_by_name(w->profile))
		return sfile_bad(w, v[2], "simulation.profile",
				 "unknown profile%s (mmnsim list shows them)", "");
	snprintf(w->sf->profile, sizeof(w->sf->profile), "%s", w->profile);
	return (!v[3] || check_knobs(w, v[3], "simulation.knobs", 3)) &&
	       (!v[4] || check_knobs(w, v[4], "simulation.right_knobs", 1)) &&
	       (!v[5] || check_knobs(w, v[5], "simulation.wrong_knobs", 2));
}

/* A boolean scalar (true/false) into *@b. */
static bool get_bool(const struct walk *w, const yaml_node_t *n, const char *field, bool *b)
{
	const char *s = sfile_scalar(n);

	if (!s || (strcmp(s, "true") && strcmp(s, "false")))
		return sfile_bad(w, n, field, "expected true or false%s", "");
	*b = !strcmp(s, "true");
	return true;
}

static bool check_mapping(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "start", "length", "prot", "flags", "mm", "thp", NULL };
	struct sfile_mapping *m = &w->sf->maps[w->out->nr_mappings];
	const yaml_node_t *v[6];

	if (!sfile_keys(w, n, "mappings[]", keys, v))
		return false;
	if (w->out->nr_mappings == SFILE_MAX_MAPPINGS)
		return sfile_bad(w, n, "mappings[]", "more than 16 mappings%s", "");
	if (!v[0] || !v[1])
		return sfile_bad(w, n, "mappings[]", "needs start and length%s", "");
	m->prot = MMN_PROT_READ | MMN_PROT_WRITE;
	m->flags = MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED;
	m->line = (unsigned long)n->start_mark.line + 1;
	m->column = (unsigned long)n->start_mark.column + 1;
	if (!sfile_number(w, v[0], "mappings[].start", 0, UINT64_MAX, &m->start) ||
	    !sfile_number(w, v[1], "mappings[].length", MMN_PAGE_SIZE, 1ULL << 40, &m->length) ||
	    (v[2] && !sfile_names(w, v[2], "mappings[].prot", sfile_prot_names, sfile_prot_bits,
				  "protection", &m->prot)) ||
	    (v[3] && !sfile_names(w, v[3], "mappings[].flags", sfile_map_flag_names,
				  sfile_map_flag_bits, "flag", &m->flags)) ||
	    !sfile_mm(w, v[4], "mappings[].mm", &m->mm) ||
	    (v[5] && !get_bool(w, v[5], "mappings[].thp", &m->thp)))
		return false;
	/* hugetlb pages and THPs come from the huge-page pool: keep it */
	w->sf->hugetlb |= (m->flags & MMN_MAP_HUGETLB) || m->thp;
	return true;
}

/* Listener variant @n (may be NULL: the kind's default, 0) into *@out. */
static bool get_variant(const struct walk *w, const yaml_node_t *n, const char *field,
			const struct mmn_listener_kind *kind, int *out)
{
	const char *const *names = kind->variants;
	char list[160] = "";

	*out = 0;
	if (!n)
		return true;
	for (int i = 0; sfile_scalar(n) && names[i]; i++)
		if (!strcmp(sfile_scalar(n), names[i]))
			return (*out = i), true;
	for (int i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	if (!sfile_scalar(n))
		return sfile_bad(w, n, field, "a variant is a name (%s)", list);
	fprintf(stderr, "mmnsim: %s:%lu:%lu: field '%s': unknown variant '%s' of this listener (%s)\n",
		w->path, (unsigned long)n->start_mark.line + 1,
		(unsigned long)n->start_mark.column + 1, field, sfile_scalar(n), list);
	return false;
}

/* The names of the registered listener kinds, for a message. */
static void kind_list(char *buf, size_t size)
{
	const struct mmn_listener_kind *k;

	buf[0] = '\0';
	for (int i = 0; (k = mmn_listener_kind_at(i)); i++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s%s", i ? ", " : "", k->name);
}

static bool check_listener(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "kind", "right", "wrong", "mm", "start", "length",
					    NULL };
	struct sfile_listener *l = &w->sf->lis[w->out->nr_listeners];
	const yaml_node_t *v[6];
	char list[200], msg[300];

	if (!sfile_keys(w, n, "listeners[]", keys, v))
		return false;
	if (w->out->nr_listeners == SFILE_MAX_LISTENERS)
		return sfile_bad(w, n, "listeners[]", "more than 8 listeners%s", "");
	kind_list(list, sizeof(list));
	if (!v[0] || !sfile_scalar(v[0]))
		return sfile_bad(w, n, "listeners[].kind", "missing: one of %s", list);
	l->kind = mmn_listener_kind_by_name(sfile_scalar(v[0]));
	if (!l->kind) {
		snprintf(msg, sizeof(msg), "unknown listener '%.40s' (%s; a plugin's kind needs "
			 "mmnsim --load)", sfile_scalar(v[0]), list);
		return sfile_bad(w, v[0], "listeners[].kind", "%s", msg);
	}
	l->line = (unsigned long)n->start_mark.line + 1;
	l->column = (unsigned long)n->start_mark.column + 1;
	if ((v[4] != NULL) != (v[5] != NULL))
		return sfile_bad(w, n, "listeners[]", "start and length go together%s", "");
	return get_variant(w, v[1], "listeners[].right", l->kind, &l->variant[0]) &&
	       get_variant(w, v[2], "listeners[].wrong", l->kind, &l->variant[1]) &&
	       sfile_mm(w, v[3], "listeners[].mm", &l->mm) &&
	       (!v[4] || sfile_number(w, v[4], "listeners[].start", 0, UINT64_MAX, &l->start)) &&
	       (!v[5] ||
		sfile_number(w, v[5], "listeners[].length", MMN_PAGE_SIZE, 1ULL << 40, &l->length));
}

static bool check_device(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "pages", NULL };
	const yaml_node_t *v[1];
	uint64_t x;

	if (!sfile_keys(w, n, "devices[]", keys, v))
		return false;
	if (w->sf->nr_devices == SFILE_MAX_DEVICES)
		return sfile_bad(w, n, "devices[]", "more than 4 devices%s", "");
	if (!v[0])
		return sfile_bad(w, n, "devices[].pages", "missing: a device has pages%s", "");
	if (!sfile_number(w, v[0], "devices[].pages", 1, 65536, &x))
		return false;
	w->sf->device_pages[w->sf->nr_devices] = (unsigned long)x;
	return true;
}

static bool check_actor(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "name", "ops", NULL };
	struct sfile_actor *a = &w->sf->actors[w->out->nr_actors];
	const yaml_node_t *v[2];
	unsigned long run = 0;

	if (!sfile_keys(w, n, "actors[]", keys, v))
		return false;
	if (w->out->nr_actors == SFILE_MAX_ACTORS)
		return sfile_bad(w, n, "actors[]", "more than 16 actors%s", "");
	if (!v[0] || !sfile_scalar(v[0]) || !v[1])
		return sfile_bad(w, n, "actors[]", "an actor has a name and ops%s", "");
	if (!*sfile_scalar(v[0]) || strlen(sfile_scalar(v[0])) > MMN_SCENARIO_NAME_MAX)
		return sfile_bad(w, v[0], "actors[].name", "1 to 31 bytes%s", "");
	snprintf(a->name, sizeof(a->name), "%s", sfile_scalar(v[0]));
	a->first = w->sf->nr_ops;
	if (!sfile_check_ops(w, v[1], 0, &run))
		return false;
	a->nr = w->sf->nr_ops - a->first;
	return true;
}

static bool check_claim(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "right", "wrong", "counters", NULL };
	const char *names[MMN_VIOL_NR_KINDS + 1];
	int bits[MMN_VIOL_NR_KINDS], mask = 0;
	const yaml_node_t *v[3];

	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		names[k] = mmn_violation_kind_name((enum mmn_violation_kind)k);
		bits[k] = 1 << k;
	}
	names[MMN_VIOL_NR_KINDS] = NULL;
	if (!sfile_keys(w, n, "claim", keys, v))
		return false;
	if (v[0] && (!sfile_scalar(v[0]) || strcmp(sfile_scalar(v[0]), "none")))
		return sfile_bad(w, v[0], "claim.right", "the right setting claims none%s", "");
	if (v[1] && !sfile_names(w, v[1], "claim.wrong", names, bits, "violation kind", &mask))
		return false;
	w->sf->found_kinds = (unsigned int)mask;
	return !v[2] || sfile_check_relations(w, v[2]);
}

/* Each element of the sequence @n checked by @fn; @count gets their number. */
static bool check_list(struct walk *w, const yaml_node_t *n, const char *field,
		       bool (*fn)(struct walk *, const yaml_node_t *), int *count)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return sfile_bad(w, n, field, "expected a list%s", "");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++) {
		if (!fn(w, yaml_document_get_node(w->doc, *i)))
			return false;
		(*count)++;
	}
	return true;
}

/* prologue: a list of operations run alone before the actors. */
static bool check_prologue(struct walk *w, const yaml_node_t *n)
{
	unsigned long run = 0;

	if (!sfile_check_ops(w, n, 0, &run))
		return false;
	w->sf->nr_prologue = w->sf->nr_ops;
	return true;
}

/* After the whole file: no mapping on an mm that a fork fills. */
static bool check_forked(const struct walk *w)
{
	for (int m = 0; m < w->out->nr_mappings; m++) {
		const struct sfile_mapping *map = &w->sf->maps[m];

		if (w->sf->forked_mms & (1u << map->mm)) {
			fprintf(stderr, "mmnsim: %s:%lu:%lu: field 'mappings[].mm': mm %d is made by "
				"a fork (it gets its parent's mappings)\n",
				w->path, map->line, map->column, map->mm);
			return false;
		}
	}
	return true;
}

/* id and title of the top mapping (fields @v). */
static bool check_id_title(struct walk *w, const yaml_node_t *root, const yaml_node_t *const *v)
{
	const char *id = sfile_scalar(v[0]);

	if (!v[0] || !id || !*id || strlen(id) > MMN_SCENARIO_NAME_MAX ||
	    strspn(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") !=
		    strlen(id))
		return sfile_bad(w, v[0] ? v[0] : root, "id",
				 "expected a name of [A-Za-z0-9_.-], 1 to 31 bytes%s", "");
	snprintf(w->out->id, sizeof(w->out->id), "%s", id);
	w->sf->id_line = (unsigned long)v[0]->start_mark.line + 1;
	w->sf->id_column = (unsigned long)v[0]->start_mark.column + 1;
	if (!v[1] || !sfile_scalar(v[1]))
		return sfile_bad(w, v[1] ? v[1] : root, "title", "expected one line of text%s", "");
	snprintf(w->sf->title, sizeof(w->sf->title), "%s", sfile_scalar(v[1]));
	return true;
}

static bool check_top(struct walk *w, const yaml_node_t *root)
{
	static const char *const keys[] = { "id", "title", "simulation", "mappings", "listeners",
					    "actors", "claim", "prologue", "mms", "devices", NULL };
	const yaml_node_t *v[10];
	uint64_t x;

	if (!sfile_keys(w, root, "(top)", keys, v) || !check_id_title(w, root, v))
		return false;
	if (!v[5])
		return sfile_bad(w, root, "actors", "missing: a scenario has actors%s", "");
	if (v[8] && !sfile_number(w, v[8], "mms", 1, SFILE_MAX_MMS, &x))
		return false;
	w->sf->nr_mms = v[8] ? (int)x : 1;
	return (!v[2] || check_simulation(w, v[2])) &&
	       (!v[9] || check_list(w, v[9], "devices", check_device, &w->sf->nr_devices)) &&
	       (!v[3] || check_list(w, v[3], "mappings", check_mapping, &w->out->nr_mappings)) &&
	       (!v[4] || check_list(w, v[4], "listeners", check_listener, &w->out->nr_listeners)) &&
	       (!v[7] || check_prologue(w, v[7])) &&
	       check_list(w, v[5], "actors", check_actor, &w->out->nr_actors) &&
	       (!v[6] || check_claim(w, v[6])) && check_forked(w);
}

bool sfile_is_path(const char *arg)
{
	size_t n = strlen(arg);

	return (n > 5 && !strcmp(arg + n - 5, ".yaml")) || (n > 4 && !strcmp(arg + n - 4, ".yml"));
}

/* Walk the document of @parser (loaded) into @sf; false after one line. */
static bool walk_doc(const char *path, yaml_parser_t *parser, struct sfile *sf)
{
	yaml_document_t doc;
	struct walk w = { .path = path, .doc = &doc, .out = &sf->sum, .sf = sf,
			  .profile = "latest" };
	const yaml_node_t *root;
	bool ok;

	if (!yaml_parser_load(parser, &doc)) {
		fprintf(stderr, "mmnsim: %s:%lu:%lu: not YAML: %s%s%s\n", path,
			(unsigned long)parser->problem_mark.line + 1,
			(unsigned long)parser->problem_mark.column + 1,
			parser->problem ? parser->problem : "syntax error",
			parser->context ? " " : "", parser->context ? parser->context : "");
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
	return ok;
}

struct sfile *sfile_parse(const char *path, const char *text, size_t len)
{
	struct sfile *sf = calloc(1, sizeof(*sf));
	yaml_parser_t parser;
	bool ok;

	if (!sf || !yaml_parser_initialize(&parser)) {
		fprintf(stderr, "mmnsim: %s: out of memory\n", path);
		free(sf);
		return NULL;
	}
	sfile_kinds_register();
	sf->cpus = 2;
	sf->frames = 512;
	snprintf(sf->profile, sizeof(sf->profile), "latest");
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	ok = walk_doc(path, &parser, sf);
	yaml_parser_delete(&parser);
	if (!ok) {
		free(sf);
		return NULL;
	}
	return sf;
}

bool sfile_check(const char *path, const char *text, size_t len, struct sfile_summary *out)
{
	struct sfile *sf = sfile_parse(path, text, len);

	memset(out, 0, sizeof(*out));
	if (!sf)
		return false;
	*out = sf->sum;
	free(sf);
	return true;
}
