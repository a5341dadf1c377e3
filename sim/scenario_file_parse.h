/* SPDX-License-Identifier: MIT */
/*
 * What the two halves of the scenario-file reader share: the walk over a
 * libyaml document and its helpers (sim/scenario_file.c), used by the
 * operations' checks (sim/scenario_file_ops.c). Not for other files.
 */
#ifndef MMNSIM_SIM_SCENARIO_FILE_PARSE_H
#define MMNSIM_SIM_SCENARIO_FILE_PARSE_H

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
bool sfile_bad(const struct walk *w, const yaml_node_t *n, const char *field, const char *fmt,
	       const char *arg);
/* The text of scalar node @n, or NULL. */
const char *sfile_scalar(const yaml_node_t *n);
/* A scalar that is an unsigned number (decimal or 0x hex) in [min, max]. */
bool sfile_number(const struct walk *w, const yaml_node_t *n, const char *field, uint64_t min,
		  uint64_t max, uint64_t *v);
/* Check that every key of mapping @n is one of the NULL-terminated @keys;
 * each value goes to @vals[i] (NULL if absent). */
bool sfile_keys(const struct walk *w, const yaml_node_t *n, const char *field,
		const char *const *keys, const yaml_node_t **vals);
/* A sequence of names, each one of @names, into the mask of @bits. */
bool sfile_names(const struct walk *w, const yaml_node_t *n, const char *field,
		 const char *const *names, const int *bits, const char *what, int *mask);
/* An mm index (field @field) into *@mm: 0 .. sf->nr_mms - 1. */
bool sfile_mm(const struct walk *w, const yaml_node_t *n, const char *field, int *mm);

/* The operations of an actor or the prologue (sim/scenario_file_ops.c);
 * *@run grows by the operations they run, loops unrolled. */
bool sfile_check_ops(struct walk *w, const yaml_node_t *n, int depth, unsigned long *run);
/* The relations of claim.counters (sim/scenario_file_ops.c). */
bool sfile_check_relations(struct walk *w, const yaml_node_t *n);

extern const char *const sfile_prot_names[];
extern const int sfile_prot_bits[];
extern const char *const sfile_map_flag_names[];
extern const int sfile_map_flag_bits[];

#endif /* MMNSIM_SIM_SCENARIO_FILE_PARSE_H */
