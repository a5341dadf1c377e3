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
 *   simulation: { cpus: 1..64, frames: 1..1048576, profile: P, knobs: { NAME: VALUE },
 *                 right_knobs: { NAME: VALUE }, wrong_knobs: { NAME: VALUE } }
 *   mappings:  [ { start: ADDR, length: BYTES, prot: [read, write], flags: [private|shared, anonymous, fixed] } ]
 *   listeners: [ { kind: kvm|iommu|hmm, right: VARIANT, wrong: VARIANT } ]
 *   prologue:  [ OP ... ]              # run alone before the actors
 *   actors:    [ { name: NAME, ops: [ OP ... ] } ]
 *   claim:     { right: none, wrong: [ KIND ... ] }
 *
 *   OP: { op: read|write, cpu: N, addr: A [, value: V] }
 *       { op: munmap|madvise_dontneed|try_to_unmap, addr: A, length: L }
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
	struct sfile *sf;    /* what the file declares, filled as it is checked */
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

/* The mask of the names of sequence @n (checked by get_names()) by @bits. */
static int name_bits(const struct walk *w, const yaml_node_t *n, const char *const *names,
		     const int *bits)
{
	int mask = 0;

	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
		for (int k = 0; names[k]; k++)
			if (!strcmp(scalar(yaml_document_get_node(w->doc, *i)), names[k]))
				mask |= bits[k];
	return mask;
}

static int prot_bits(const struct walk *w, const yaml_node_t *n)
{
	static const int bits[] = { MMN_PROT_READ, MMN_PROT_WRITE };

	return name_bits(w, n, prot_names, bits);
}

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
			return bad(w, k, field, "more than 8 knobs for one setting%s", "");
		if (snprintf(w->sf->knob_text[set][i], SFILE_TEXT_MAX, "%s=%s", name, value) >=
		    SFILE_TEXT_MAX)
			return bad(w, k, field, "too long%s", "");
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
		return bad(w, n, field, "expected a mapping NAME: VALUE%s", "");
	for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		const yaml_node_t *k = yaml_document_get_node(w->doc, p->key);
		const yaml_node_t *val = yaml_document_get_node(w->doc, p->value);
		const char *name = scalar(k), *value = scalar(val);
		struct mmn_profile copy;
		char f[96];
		int err;

		if (!name || !value)
			return bad(w, k, field, "expected NAME: VALUE%s", "");
		snprintf(f, sizeof(f), "%s.%.60s", field, name);
		copy = *mmn_profile_by_name(w->profile);
		err = !strncmp(name, "cost_", 5) ? mmn_cost_knob_parse(name, value, NULL, NULL)
						 : mmn_profile_set_knob(&copy, name, value);
		if (err == -ENOENT)
			return bad(w, k, f, "unknown knob '%s' (mmnsim list shows them)", name);
		if (err)
			return bad(w, val, f, "value '%s' malformed or out of range", value);
		if (!add_knob(w, k, f, name, value, which))
			return false;
	}
	return true;
}

static bool check_simulation(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "cpus", "frames", "profile", "knobs", "right_knobs",
					    "wrong_knobs", NULL };
	const yaml_node_t *v[6];
	uint64_t x;

	if (!get_keys(w, n, "simulation", keys, v))
		return false;
	if (v[0] && !get_number(w, v[0], "simulation.cpus", 1, 64, &x))
		return false;
	if (v[0])
		w->sf->cpus = (int)x;
	if (v[1] && !get_number(w, v[1], "simulation.frames", 1, 1 << 20, &x))
		return false;
	if (v[1])
		w->sf->frames = (unsigned long)x;
	w->profile = v[2] ? scalar(v[2]) : "latest";
	if (!w->profile || !mmn_profile_by_name(w->profile))
		return bad(w, v[2], "simulation.profile", "unknown profile%s (mmnsim list shows them)",
			   "");
	snprintf(w->sf->profile, sizeof(w->sf->profile), "%s", w->profile);
	return (!v[3] || check_knobs(w, v[3], "simulation.knobs", 3)) &&
	       (!v[4] || check_knobs(w, v[4], "simulation.right_knobs", 1)) &&
	       (!v[5] || check_knobs(w, v[5], "simulation.wrong_knobs", 2));
}

static bool check_mapping(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "start", "length", "prot", "flags", NULL };
	static const char *const flags[] = { "private", "shared", "anonymous", "fixed", NULL };
	static const int flag_bits[] = { MMN_MAP_PRIVATE, MMN_MAP_SHARED, MMN_MAP_ANONYMOUS,
					 MMN_MAP_FIXED };
	struct sfile_mapping *m = &w->sf->maps[w->out->nr_mappings];
	const yaml_node_t *v[4];

	if (!get_keys(w, n, "mappings[]", keys, v))
		return false;
	if (w->out->nr_mappings == SFILE_MAX_MAPPINGS)
		return bad(w, n, "mappings[]", "more than 16 mappings%s", "");
	if (!v[0] || !v[1])
		return bad(w, n, "mappings[]", "needs start and length%s", "");
	if (!get_number(w, v[0], "mappings[].start", 0, UINT64_MAX, &m->start) ||
	    !get_number(w, v[1], "mappings[].length", MMN_PAGE_SIZE, 1ULL << 40, &m->length) ||
	    (v[2] && !get_names(w, v[2], "mappings[].prot", prot_names, "protection")) ||
	    (v[3] && !get_names(w, v[3], "mappings[].flags", flags, "flag")))
		return false;
	m->prot = v[2] ? prot_bits(w, v[2]) : MMN_PROT_READ | MMN_PROT_WRITE;
	m->flags = v[3] ? name_bits(w, v[3], flags, flag_bits)
			: MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED;
	return true;
}

/* The variants of each listener kind, by their enum value (include/mmnsim/listeners/). */
static const char *const kvm_variants[] = { "check_range", "check_seq_only", "numa_aware", NULL };
static const char *const iommu_variants[] = { "sva", "amdv2", NULL };
static const char *const hmm_variants[] = { "event_aware", "event_blind", "valid_flag", NULL };
static const char *const *const variants_of[] = { kvm_variants, iommu_variants, hmm_variants };

/* Listener variant @n (may be NULL: the kind's default, 0) into *@out. */
static bool get_variant(const struct walk *w, const yaml_node_t *n, const char *field, int kind,
			int *out)
{
	const char *const *names = variants_of[kind];
	char list[96] = "";

	*out = 0;
	if (!n)
		return true;
	for (int i = 0; scalar(n) && names[i]; i++)
		if (!strcmp(scalar(n), names[i]))
			return (*out = i), true;
	for (int i = 0; names[i]; i++)
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", i ? ", " : "",
			 names[i]);
	if (!scalar(n))
		return bad(w, n, field, "a variant is a name (%s)", list);
	fprintf(stderr, "mmnsim: %s:%lu:%lu: field '%s': unknown variant '%s' of this listener (%s)\n",
		w->path, (unsigned long)n->start_mark.line + 1,
		(unsigned long)n->start_mark.column + 1, field, scalar(n), list);
	return false;
}

static bool check_listener(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "kind", "right", "wrong", NULL };
	static const char *const kinds[] = { "kvm", "iommu", "hmm", NULL };
	struct sfile_listener *l = &w->sf->lis[w->out->nr_listeners];
	const yaml_node_t *v[3];
	int k = 0;

	if (!get_keys(w, n, "listeners[]", keys, v))
		return false;
	if (w->out->nr_listeners == SFILE_MAX_LISTENERS)
		return bad(w, n, "listeners[]", "more than 8 listeners%s", "");
	if (!v[0] || !scalar(v[0]))
		return bad(w, n, "listeners[].kind", "missing: kvm, iommu or hmm%s", "");
	while (kinds[k] && strcmp(kinds[k], scalar(v[0])))
		k++;
	if (!kinds[k])
		return bad(w, v[0], "listeners[].kind",
			   "unknown listener '%s' (kvm, iommu or hmm)", scalar(v[0]));
	l->kind = (enum sfile_listener_kind)k;
	return get_variant(w, v[1], "listeners[].right", k, &l->variant[0]) &&
	       get_variant(w, v[2], "listeners[].wrong", k, &l->variant[1]);
}

static bool check_ops(struct walk *w, const yaml_node_t *n, int depth, unsigned long *run);

/* A loop { loop: COUNT, ops: [...] } at @n (fields @v); *@run grows by the
 * operations it runs. */
static bool check_loop(struct walk *w, const yaml_node_t *n, const yaml_node_t *const *v,
		       int depth, unsigned long *run)
{
	int at = w->sf->nr_ops;
	unsigned long body = 0;
	uint64_t x;

	if (!v[8])
		return bad(w, n, "actors[].ops[].loop", "a loop needs ops%s", "");
	if (!get_number(w, v[7], "actors[].ops[].loop", 1, 1000, &x))
		return false;
	w->sf->ops[w->sf->nr_ops++] = (struct sfile_op){ .op = SF_LOOP, .count = (unsigned long)x };
	if (!check_ops(w, v[8], depth + 1, &body))
		return false;
	w->sf->ops[at].body = w->sf->nr_ops - at - 1;
	if (body * x > SFILE_MAX_RUN_OPS - *run)
		return bad(w, v[7], "actors[].ops[].loop",
			   "an actor would run more than 100000 operations%s", "");
	*run += body * x;
	return true;
}

/* The numbers of operation @o (fields @v). */
static bool get_op_fields(const struct walk *w, const yaml_node_t *const *v, struct sfile_op *o)
{
	uint64_t cpu = 0, lis = 0;
	bool ok = (!v[1] || get_number(w, v[1], "actors[].ops[].cpu", 0,
				       (uint64_t)w->sf->cpus - 1, &cpu)) &&
		  get_number(w, v[2], "actors[].ops[].addr", 0, UINT64_MAX, &o->addr) &&
		  (!v[3] || get_number(w, v[3], "actors[].ops[].value", 0, UINT64_MAX, &o->value)) &&
		  (!v[4] || get_number(w, v[4], "actors[].ops[].length", 1, 1ULL << 40, &o->length)) &&
		  (!v[5] || get_names(w, v[5], "actors[].ops[].prot", prot_names, "protection")) &&
		  (!v[6] || get_number(w, v[6], "actors[].ops[].listener", 0,
				       (uint64_t)(w->out->nr_listeners ? w->out->nr_listeners - 1 : 0),
				       &lis));

	if (ok && v[6] && !w->out->nr_listeners)
		return bad(w, v[6], "actors[].ops[].listener", "the file declares no listeners%s", "");
	o->cpu = (int)cpu;
	o->listener = (int)lis;
	o->prot = ok && v[5] ? prot_bits(w, v[5]) : 0;
	return ok;
}

/* One operation (or loop) of an actor or the prologue. */
static bool check_op(struct walk *w, const yaml_node_t *n, int depth, unsigned long *run)
{
	static const char *const keys[] = { "op", "cpu", "addr", "value", "length", "prot",
					    "listener", "loop", "ops", NULL };
	static const char *const ops[] = { "read", "write", "munmap", "madvise_dontneed",
					   "mprotect", "device_read", "device_write",
					   "try_to_unmap", NULL };
	/* Per op: the fields it needs (bit i: keys[i]) and those it allows. */
	static const unsigned int need[] = { 0x6, 0x6, 0x14, 0x14, 0x34, 0x44, 0x44, 0x14 };
	static const unsigned int allow[] = { 0x7, 0xf, 0x15, 0x15, 0x35, 0x45, 0x4d, 0x15 };
	const yaml_node_t *v[9];
	unsigned int have = 0;
	struct sfile_op o = { 0 };
	int k;

	if (!get_keys(w, n, "actors[].ops[]", keys, v))
		return false;
	if (w->sf->nr_ops == SFILE_MAX_OPS)
		return bad(w, n, "actors[].ops[]", "more than 1024 operations in the file%s", "");
	for (int i = 0; i < 9; i++)
		have |= v[i] ? 1u << i : 0;
	if (v[7] && (have & ~0x180u))
		return bad(w, n, "actors[].ops[].loop", "a loop has only loop and ops%s", "");
	if (v[7])
		return check_loop(w, n, v, depth, run);
	if (!v[0] || !scalar(v[0]))
		return bad(w, n, "actors[].ops[].op", "missing: each operation has op (or loop)%s",
			   "");
	for (k = 0; ops[k] && strcmp(ops[k], scalar(v[0])); k++)
		;
	if (!ops[k])
		return bad(w, v[0], "actors[].ops[].op",
			   "unknown operation '%s' (read, write, munmap, madvise_dontneed, mprotect, "
			   "try_to_unmap, device_read, device_write, or a loop)",
			   scalar(v[0]));
	if ((have & need[k]) != need[k] || (have & ~allow[k]))
		return bad(w, n, "actors[].ops[]", "wrong fields for operation '%s' (docs/cli.md)",
			   ops[k]);
	o.op = (enum sfile_opcode)k;
	o.value = 1;
	if (!get_op_fields(w, v, &o))
		return false;
	w->out->nr_ops++;
	w->sf->ops[w->sf->nr_ops++] = o;
	if (*run == SFILE_MAX_RUN_OPS)
		return bad(w, n, "actors[].ops[]", "an actor would run more than 100000 operations%s",
			   "");
	(*run)++;
	return true;
}

static bool check_ops(struct walk *w, const yaml_node_t *n, int depth, unsigned long *run)
{
	if (depth > 8)
		return bad(w, n, "actors[].ops", "loops nested deeper than 8%s", "");
	if (n->type != YAML_SEQUENCE_NODE)
		return bad(w, n, "actors[].ops", "expected a list of operations%s", "");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
		if (!check_op(w, yaml_document_get_node(w->doc, *i), depth, run))
			return false;
	return true;
}

static bool check_actor(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "name", "ops", NULL };
	struct sfile_actor *a = &w->sf->actors[w->out->nr_actors];
	const yaml_node_t *v[2];
	unsigned long run = 0;

	if (!get_keys(w, n, "actors[]", keys, v))
		return false;
	if (w->out->nr_actors == SFILE_MAX_ACTORS)
		return bad(w, n, "actors[]", "more than 16 actors%s", "");
	if (!v[0] || !scalar(v[0]) || !v[1])
		return bad(w, n, "actors[]", "an actor has a name and ops%s", "");
	if (!*scalar(v[0]) || strlen(scalar(v[0])) > MMN_SCENARIO_NAME_MAX)
		return bad(w, v[0], "actors[].name", "1 to 31 bytes%s", "");
	snprintf(a->name, sizeof(a->name), "%s", scalar(v[0]));
	a->first = w->sf->nr_ops;
	if (!check_ops(w, v[1], 0, &run))
		return false;
	a->nr = w->sf->nr_ops - a->first;
	return true;
}

static bool check_claim(struct walk *w, const yaml_node_t *n)
{
	static const char *const keys[] = { "right", "wrong", NULL };
	const char *names[MMN_VIOL_NR_KINDS + 1];
	int bits[MMN_VIOL_NR_KINDS];
	const yaml_node_t *v[2];

	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		names[k] = mmn_violation_kind_name((enum mmn_violation_kind)k);
		bits[k] = 1 << k;
	}
	names[MMN_VIOL_NR_KINDS] = NULL;
	if (!get_keys(w, n, "claim", keys, v))
		return false;
	if (v[0] && (!scalar(v[0]) || strcmp(scalar(v[0]), "none")))
		return bad(w, v[0], "claim.right", "the right setting claims none%s", "");
	if (v[1] && !get_names(w, v[1], "claim.wrong", names, "violation kind"))
		return false;
	w->sf->found_kinds = v[1] ? (unsigned int)name_bits(w, v[1], names, bits) : 0;
	return true;
}

/* Each element of the sequence @n checked by @fn; @count gets their number. */
static bool check_list(struct walk *w, const yaml_node_t *n, const char *field,
		       bool (*fn)(struct walk *, const yaml_node_t *), int *count)
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

/* prologue: a list of operations run alone before the actors. */
static bool check_prologue(struct walk *w, const yaml_node_t *n)
{
	unsigned long run = 0;

	if (!check_ops(w, n, 0, &run))
		return false;
	w->sf->nr_prologue = w->sf->nr_ops;
	return true;
}

static bool check_top(struct walk *w, const yaml_node_t *root)
{
	static const char *const keys[] = { "id", "title", "simulation", "mappings", "listeners",
					    "actors", "claim", "prologue", NULL };
	const yaml_node_t *v[8];
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
	w->sf->id_line = (unsigned long)v[0]->start_mark.line + 1;
	w->sf->id_column = (unsigned long)v[0]->start_mark.column + 1;
	if (!v[1] || !scalar(v[1]))
		return bad(w, v[1] ? v[1] : root, "title", "expected one line of text%s", "");
	snprintf(w->sf->title, sizeof(w->sf->title), "%s", scalar(v[1]));
	if (!v[5])
		return bad(w, root, "actors", "missing: a scenario has actors%s", "");
	return (!v[2] || check_simulation(w, v[2])) &&
	       (!v[3] || check_list(w, v[3], "mappings", check_mapping, &w->out->nr_mappings)) &&
	       (!v[4] || check_list(w, v[4], "listeners", check_listener, &w->out->nr_listeners)) &&
	       (!v[7] || check_prologue(w, v[7])) &&
	       check_list(w, v[5], "actors", check_actor, &w->out->nr_actors) &&
	       (!v[6] || check_claim(w, v[6]));
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
