// SPDX-License-Identifier: MIT
/*
 * The operations of scenario files and the relations of their claims, as
 * they are checked (sim/scenario_file.h; docs/cli.md "Scenario files"
 * has the table). Each operation has exactly its fields: those it needs
 * and those it may take; any other is an error at that field.
 *
 *   OP: { op: NAME, FIELD: VALUE ... } with NAME and FIELDs from op_spec[]
 *       { loop: COUNT (1..1000), ops: [ OP ... ] }
 *   claim.counters: [ "A REL B", ... ]  A, B: a number or a counter
 *       (operations, operations_failed, OP.FIELD of mmn_op_get_stats(),
 *       listenerI.NAME of listener I's kind); REL: >= <= > < == !=
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_file_parse.h"

/* The fields of an operation, by bit. */
enum {
	K_OP, K_CPU, K_ADDR, K_VALUE, K_LENGTH, K_PROT, K_LISTENER, K_LOOP, K_OPS, K_MM, K_ADVICE,
	K_NEW_LENGTH, K_FLAGS, K_NEW_ADDR, K_CHILD, K_MM_B, K_ADDR_B, K_DEVICE, K_NR
};
static const char *const op_keys[] = {
	"op", "cpu", "addr", "value", "length", "prot", "listener", "loop", "ops", "mm", "advice",
	"new_length", "flags", "new_addr", "child", "mm_b", "addr_b", "device", NULL };
#define F(k) (1u << K_##k)

/* Each operation: its name, the fields it needs, the others it may take. */
static const struct {
	const char *name;
	unsigned int need, allow;
} op_spec[SF_NR_OPS] = {
	[SF_READ] = { "read", F(CPU) | F(ADDR), F(MM) },
	[SF_WRITE] = { "write", F(CPU) | F(ADDR), F(VALUE) | F(MM) },
	[SF_MUNMAP] = { "munmap", F(ADDR) | F(LENGTH), F(MM) },
	[SF_MADV_DONTNEED] = { "madvise_dontneed", F(ADDR) | F(LENGTH), F(MM) },
	[SF_MPROTECT] = { "mprotect", F(ADDR) | F(LENGTH) | F(PROT), F(MM) },
	[SF_DEVICE_READ] = { "device_read", F(LISTENER) | F(ADDR), 0 },
	[SF_DEVICE_WRITE] = { "device_write", F(LISTENER) | F(ADDR), F(VALUE) },
	[SF_TRY_TO_UNMAP] = { "try_to_unmap", F(ADDR) | F(LENGTH), F(MM) },
	[SF_MMAP] = { "mmap", F(ADDR) | F(LENGTH), F(PROT) | F(FLAGS) | F(MM) },
	[SF_MADVISE] = { "madvise", F(ADDR) | F(LENGTH) | F(ADVICE), F(MM) },
	[SF_MREMAP] = { "mremap", F(ADDR) | F(LENGTH) | F(NEW_LENGTH), F(FLAGS) | F(NEW_ADDR) | F(MM) },
	[SF_FORK] = { "fork", F(CHILD), F(MM) },
	[SF_KSM_MERGE] = { "ksm_merge", F(ADDR) | F(ADDR_B), F(MM) | F(MM_B) },
	[SF_MIGRATE_PAGES] = { "migrate_pages", F(ADDR) | F(LENGTH), F(MM) },
	[SF_SPLIT_HUGE_PMD] = { "split_huge_pmd", F(ADDR), F(MM) },
	[SF_COLLAPSE_HUGE_PAGE] = { "collapse_huge_page", F(ADDR), F(MM) },
	[SF_CHANGE_PROT_NUMA] = { "change_prot_numa", F(ADDR) | F(LENGTH), F(MM) },
	[SF_CLEAR_REFS_SOFT_DIRTY] = { "clear_refs_soft_dirty", 0, F(MM) },
	[SF_OOM_REAP] = { "oom_reap", 0, F(MM) },
	[SF_MIGRATE_VMA_TO_DEVICE] = { "migrate_vma_to_device", F(ADDR) | F(LENGTH) | F(DEVICE), F(MM) },
	[SF_MIGRATE_VMA_TO_RAM] = { "migrate_vma_to_ram", F(ADDR) | F(LENGTH) | F(DEVICE), F(MM) },
	[SF_MAKE_DEVICE_EXCLUSIVE] = { "make_device_exclusive", F(ADDR), F(DEVICE) | F(MM) },
	[SF_COLLAPSE_PTE_MAPPED_THP] = { "collapse_pte_mapped_thp", F(ADDR), F(MM) },
	[SF_UFFD_REGISTER] = { "uffd_register", F(ADDR) | F(LENGTH), F(MM) },
	[SF_UFFD_WRITEPROTECT] = { "uffd_writeprotect", F(ADDR) | F(LENGTH), F(MM) },
	[SF_UFFD_UNPROTECT] = { "uffd_unprotect", F(ADDR) | F(LENGTH), F(MM) },
	[SF_UFFD_MOVE] = { "uffd_move", F(ADDR) | F(ADDR_B) | F(LENGTH), F(MM) },
};

static const char *const advice_names[] = { "dontneed", "free", "hugepage", "nohugepage", NULL };
static const int advice_values[] = { MMN_MADV_DONTNEED, MMN_MADV_FREE, MMN_MADV_HUGEPAGE,
				     MMN_MADV_NOHUGEPAGE };
static const char *const mremap_names[] = { "maymove", "fixed", NULL };
static const int mremap_bits[] = { MMN_MREMAP_MAYMOVE, MMN_MREMAP_FIXED };

/* A loop { loop: COUNT, ops: [...] } at @n (fields @v); *@run grows by the
 * operations it runs. */
static bool check_loop(struct walk *w, const yaml_node_t *n, const yaml_node_t *const *v,
		       int depth, unsigned long *run)
{
	int at = w->sf->nr_ops;
	unsigned long body = 0;
	uint64_t x;

	if (!v[K_OPS])
		return sfile_bad(w, n, "actors[].ops[].loop", "a loop needs ops%s", "");
	if (!sfile_number(w, v[K_LOOP], "actors[].ops[].loop", 1, 1000, &x))
		return false;
	w->sf->ops[w->sf->nr_ops++] = (struct sfile_op){ .op = SF_LOOP, .count = (unsigned long)x };
	if (!sfile_check_ops(w, v[K_OPS], depth + 1, &body))
		return false;
	w->sf->ops[at].body = w->sf->nr_ops - at - 1;
	if (body * x > SFILE_MAX_RUN_OPS - *run)
		return sfile_bad(w, v[K_LOOP], "actors[].ops[].loop",
				 "an actor would run more than 100000 operations%s", "");
	*run += body * x;
	return true;
}

/* An index field @k of @v in [0, @nr) into *@out (@what: for the message). */
static bool get_index(const struct walk *w, const yaml_node_t *const *v, int k, int nr,
		      const char *what, int *out)
{
	char field[48], msg[96];
	uint64_t x;

	*out = 0;
	if (!v[k])
		return true;
	snprintf(field, sizeof(field), "actors[].ops[].%s", op_keys[k]);
	if (!sfile_number(w, v[k], field, 0, UINT64_MAX, &x))
		return false;
	if (x >= (uint64_t)nr) {
		snprintf(msg, sizeof(msg), "%s %" PRIu64 " out of range (the file declares %d)", what,
			 x, nr);
		return sfile_bad(w, v[k], field, "%s", msg);
	}
	*out = (int)x;
	return true;
}

/* The fork's child slot: not the parent, named by no other fork. */
static bool check_child(struct walk *w, const yaml_node_t *const *v, struct sfile_op *o)
{
	if (!get_index(w, v, K_CHILD, w->sf->nr_mms, "mm", &o->child))
		return false;
	if (o->child == o->mm)
		return sfile_bad(w, v[K_CHILD], "actors[].ops[].child",
				 "a fork's child is another mm than its parent%s", "");
	if (w->sf->forked_mms & (1u << o->child))
		return sfile_bad(w, v[K_CHILD], "actors[].ops[].child",
				 "another fork fills this mm already%s", "");
	w->sf->forked_mms |= 1u << o->child;
	w->sf->fork_parent[o->child] = o->mm;
	return true;
}

/* The numbers and names of operation @o (fields @v). */
static bool get_op_fields(struct walk *w, const yaml_node_t *const *v, struct sfile_op *o)
{
	const char *const *fl = o->op == SF_MREMAP ? mremap_names : sfile_map_flag_names;
	const int *fb = o->op == SF_MREMAP ? mremap_bits : sfile_map_flag_bits;
	int adv = 0;

	if (!get_index(w, v, K_CPU, w->sf->cpus, "cpu", &o->cpu) ||
	    !get_index(w, v, K_LISTENER, w->out->nr_listeners, "listener", &o->listener) ||
	    !get_index(w, v, K_DEVICE, w->sf->nr_devices, "device", &o->device) ||
	    !sfile_mm(w, v[K_MM], "actors[].ops[].mm", &o->mm) ||
	    !sfile_mm(w, v[K_MM_B], "actors[].ops[].mm_b", &o->mm_b) ||
	    (v[K_CHILD] && !check_child(w, v, o)))
		return false;
	if ((v[K_ADDR] && !sfile_number(w, v[K_ADDR], "actors[].ops[].addr", 0, UINT64_MAX, &o->addr)) ||
	    (v[K_ADDR_B] && !sfile_number(w, v[K_ADDR_B], "actors[].ops[].addr_b", 0, UINT64_MAX, &o->addr_b)) ||
	    (v[K_VALUE] && !sfile_number(w, v[K_VALUE], "actors[].ops[].value", 0, UINT64_MAX, &o->value)) ||
	    (v[K_LENGTH] && !sfile_number(w, v[K_LENGTH], "actors[].ops[].length", 1, 1ULL << 40, &o->length)) ||
	    (v[K_NEW_LENGTH] && !sfile_number(w, v[K_NEW_LENGTH], "actors[].ops[].new_length", 1, 1ULL << 40, &o->new_length)) ||
	    (v[K_NEW_ADDR] && !sfile_number(w, v[K_NEW_ADDR], "actors[].ops[].new_addr", 0, UINT64_MAX, &o->new_addr)) ||
	    (v[K_PROT] && !sfile_names(w, v[K_PROT], "actors[].ops[].prot", sfile_prot_names,
				       sfile_prot_bits, "protection", &o->prot)) ||
	    (v[K_FLAGS] && !sfile_names(w, v[K_FLAGS], "actors[].ops[].flags", fl, fb, "flag",
					&o->flags)))
		return false;
	if (o->op == SF_MAKE_DEVICE_EXCLUSIVE && !v[K_DEVICE])
		o->device = -1;
	if (o->op == SF_MMAP && !v[K_FLAGS])
		o->flags = MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED;
	if (o->op == SF_MMAP && !v[K_PROT])
		o->prot = MMN_PROT_READ | MMN_PROT_WRITE;
	if (o->op == SF_MMAP && (o->flags & MMN_MAP_HUGETLB))
		w->sf->hugetlb = true;
	if (!v[K_ADVICE])
		return true;
	for (; advice_names[adv] && sfile_scalar(v[K_ADVICE]) &&
	       strcmp(advice_names[adv], sfile_scalar(v[K_ADVICE]));
	     adv++)
		;
	if (!advice_names[adv] || !sfile_scalar(v[K_ADVICE]))
		return sfile_bad(w, v[K_ADVICE], "actors[].ops[].advice",
				 "unknown advice%s (dontneed, free, hugepage, nohugepage)", "");
	o->advice = advice_values[adv];
	w->sf->hugetlb |= o->advice == MMN_MADV_HUGEPAGE; /* THPs: keep the huge-page pool */
	return true;
}

/* That the fields present (@have, of @v) are exactly those of operation @k. */
static bool check_fields(const struct walk *w, const yaml_node_t *n, const yaml_node_t *const *v,
			 unsigned int have, int k)
{
	char msg[96], field[48];

	for (int i = 1; i < K_NR; i++) {
		unsigned int bit = 1u << i;

		snprintf(field, sizeof(field), "actors[].ops[].%s", op_keys[i]);
		if ((have & bit) && !((op_spec[k].need | op_spec[k].allow) & bit)) {
			snprintf(msg, sizeof(msg), "operation '%s' has no field '%s' (docs/cli.md)",
				 op_spec[k].name, op_keys[i]);
			return sfile_bad(w, v[i], field, "%s", msg);
		}
		if ((op_spec[k].need & bit) && !(have & bit)) {
			snprintf(msg, sizeof(msg), "operation '%s' needs field '%s'", op_spec[k].name,
				 op_keys[i]);
			return sfile_bad(w, n, field, "%s", msg);
		}
	}
	return true;
}

/* The names of the operations, for a message. */
static void op_list(char *buf, size_t size)
{
	buf[0] = '\0';
	for (int k = 0; k < SF_NR_OPS; k++)
		snprintf(buf + strlen(buf), size - strlen(buf), "%s, ", op_spec[k].name);
	snprintf(buf + strlen(buf), size - strlen(buf), "or a loop");
}

/* One operation (or loop) of an actor or the prologue. */
static bool check_op(struct walk *w, const yaml_node_t *n, int depth, unsigned long *run)
{
	const yaml_node_t *v[K_NR];
	unsigned int have = 0;
	struct sfile_op o = { 0 };
	char list[512], msg[600];
	int k;

	if (!sfile_keys(w, n, "actors[].ops[]", op_keys, v))
		return false;
	if (w->sf->nr_ops == SFILE_MAX_OPS)
		return sfile_bad(w, n, "actors[].ops[]", "more than 1024 operations in the file%s", "");
	for (int i = 0; i < K_NR; i++)
		have |= v[i] ? 1u << i : 0;
	if (v[K_LOOP] && (have & ~(F(LOOP) | F(OPS))))
		return sfile_bad(w, n, "actors[].ops[].loop", "a loop has only loop and ops%s", "");
	if (v[K_LOOP])
		return check_loop(w, n, v, depth, run);
	if (!v[K_OP] || !sfile_scalar(v[K_OP]))
		return sfile_bad(w, n, "actors[].ops[].op",
				 "missing: each operation has op (or loop)%s", "");
	for (k = 0; k < SF_NR_OPS && strcmp(op_spec[k].name, sfile_scalar(v[K_OP])); k++)
		;
	if (k == SF_NR_OPS) {
		op_list(list, sizeof(list));
		snprintf(msg, sizeof(msg), "unknown operation '%.40s' (%s)", sfile_scalar(v[K_OP]),
			 list);
		return sfile_bad(w, v[K_OP], "actors[].ops[].op", "%s", msg);
	}
	if (!check_fields(w, n, v, have, k))
		return false;
	o.op = (enum sfile_opcode)k;
	o.value = 1;
	if (!get_op_fields(w, v, &o))
		return false;
	w->out->nr_ops++;
	w->sf->ops[w->sf->nr_ops++] = o;
	if (*run == SFILE_MAX_RUN_OPS)
		return sfile_bad(w, n, "actors[].ops[]",
				 "an actor would run more than 100000 operations%s", "");
	(*run)++;
	return true;
}

bool sfile_check_ops(struct walk *w, const yaml_node_t *n, int depth, unsigned long *run)
{
	if (depth > 8)
		return sfile_bad(w, n, "actors[].ops", "loops nested deeper than 8%s", "");
	if (n->type != YAML_SEQUENCE_NODE)
		return sfile_bad(w, n, "actors[].ops", "expected a list of operations%s", "");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
		if (!check_op(w, yaml_document_get_node(w->doc, *i), depth, run))
			return false;
	return true;
}

/* ---- claim.counters ---- */

const char *const sfile_opstat_fields[] = { "calls", "ranges", "pages_changed",
					    "pages_unchanged", "skipped", NULL };

/* A listener counter "listenerI.NAME" into @o; false if @s is not one. */
static bool listener_operand(const struct walk *w, const char *s, struct sfile_operand *o)
{
	char *end;
	unsigned long i;
	const struct mmn_listener_kind *k;

	if (strncmp(s, "listener", 8) || s[8] < '0' || s[8] > '9')
		return false;
	i = strtoul(s + 8, &end, 10);
	if (*end != '.' || i >= (unsigned long)w->out->nr_listeners)
		return false;
	k = w->sf->lis[i].kind;
	for (int c = 0; k->counters && k->counters[c]; c++) {
		if (!strcmp(k->counters[c], end + 1)) {
			*o = (struct sfile_operand){ .type = SFO_LISTENER, .a = (int)i, .b = c };
			return true;
		}
	}
	return false;
}

/* One side of a relation: a number, or a counter's name. */
static bool operand(const struct walk *w, const char *s, struct sfile_operand *o)
{
	char *end;
	const char *dot = strchr(s, '.');

	if (*s >= '0' && *s <= '9') {
		o->type = SFO_NUMBER;
		o->number = strtoull(s, &end, 0);
		return !*end;
	}
	if (!strcmp(s, "operations") || !strcmp(s, "operations_failed")) {
		*o = (struct sfile_operand){ .type = SFO_FILE, .a = !strcmp(s, "operations_failed") };
		return true;
	}
	if (listener_operand(w, s, o))
		return true;
	for (int op = 0; dot && op < MMN_OP_NR; op++) {
		const char *name = mmn_op_name((enum mmn_op)op);

		if (strlen(name) != (size_t)(dot - s) || strncmp(name, s, (size_t)(dot - s)))
			continue;
		for (int f = 0; sfile_opstat_fields[f]; f++)
			if (!strcmp(sfile_opstat_fields[f], dot + 1))
				return (*o = (struct sfile_operand){ .type = SFO_OPSTAT, .a = op,
								     .b = f }), true;
	}
	return false;
}

/* One relation "A REL B" at @n. */
static bool check_relation(struct walk *w, const yaml_node_t *n)
{
	static const char *const rels[] = { ">=", "<=", ">", "<", "==", "!=", NULL };
	struct sfile_relation *r = &w->sf->rel[w->sf->nr_relations];
	char a[64], op[4], b[64], extra[2];
	const char *s = sfile_scalar(n);
	int k = 0;

	if (w->sf->nr_relations == SFILE_MAX_RELATIONS)
		return sfile_bad(w, n, "claim.counters[]", "more than 8 relations%s", "");
	if (!s || strlen(s) >= sizeof(r->text) ||
	    sscanf(s, "%63s %3s %63s %1s", a, op, b, extra) != 3)
		return sfile_bad(w, n, "claim.counters[]",
				 "expected \"COUNTER REL COUNTER-OR-NUMBER\"%s (REL: >= <= > < == !=)",
				 "");
	while (rels[k] && strcmp(rels[k], op))
		k++;
	if (!rels[k])
		return sfile_bad(w, n, "claim.counters[]", "unknown relation '%s' (>= <= > < == !=)",
				 op);
	if (!operand(w, a, &r->lhs))
		return sfile_bad(w, n, "claim.counters[]",
				 "unknown counter '%s' (docs/cli.md lists them)", a);
	if (!operand(w, b, &r->rhs))
		return sfile_bad(w, n, "claim.counters[]",
				 "unknown counter '%s' (docs/cli.md lists them)", b);
	r->op = (enum sfile_relop)k;
	snprintf(r->text, sizeof(r->text), "%s", s);
	w->sf->nr_relations++;
	return true;
}

bool sfile_check_relations(struct walk *w, const yaml_node_t *n)
{
	if (n->type != YAML_SEQUENCE_NODE)
		return sfile_bad(w, n, "claim.counters", "expected a list of relations%s", "");
	for (yaml_node_item_t *i = n->data.sequence.items.start; i < n->data.sequence.items.top; i++)
		if (!check_relation(w, yaml_document_get_node(w->doc, *i)))
			return false;
	return true;
}
