/* SPDX-License-Identifier: MIT */
/*
 * Scenario files (docs/cli.md, "Scenario files"): a race described in YAML,
 * read with libyaml (Debian libyaml-dev) and checked field by field against
 * the format; every error names the file, the line and column (1-based) and
 * the field, on one line (sim/scenario_file.c). A file that checks is held
 * as a struct sfile, which sim/scenario_file_run.c turns into a registered
 * struct mmn_scenario_def whose hooks interpret it.
 */
#ifndef MMNSIM_SIM_SCENARIO_FILE_H
#define MMNSIM_SIM_SCENARIO_FILE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mmnsim/mmnsim.h>

/* Limits of one file (each refused at its line and column beyond). */
#define SFILE_MAX_MAPPINGS 16
#define SFILE_MAX_LISTENERS 8
#define SFILE_MAX_ACTORS 16
#define SFILE_MAX_OPS 1024          /* operations and loops, as written */
#define SFILE_MAX_RUN_OPS 100000UL  /* operations one actor runs, loops unrolled */
#define SFILE_TEXT_MAX 256          /* title, knob strings */

/* What a checked scenario file declares, in summary. */
struct sfile_summary {
	char id[MMN_SCENARIO_NAME_MAX + 1];
	int nr_mappings, nr_listeners, nr_actors;
	unsigned long nr_ops; /* operations, loop bodies counted once */
};

enum sfile_opcode {
	SF_READ = 0, SF_WRITE, SF_MUNMAP, SF_MADV_DONTNEED, SF_MPROTECT, SF_DEVICE_READ,
	SF_DEVICE_WRITE, SF_TRY_TO_UNMAP, SF_LOOP,
};

enum sfile_listener_kind { SF_KVM = 0, SF_IOMMU, SF_HMM };

/* One operation; a loop is followed by its @body entries (nested loops inside). */
struct sfile_op {
	enum sfile_opcode op;
	int cpu, listener, prot;
	uint64_t addr, value, length;
	unsigned long count; /* SF_LOOP: times */
	int body;            /* SF_LOOP: entries after it that form the body */
};

struct sfile_mapping {
	uint64_t start, length;
	int prot, flags;
};

struct sfile_listener {
	enum sfile_listener_kind kind;
	int variant[2]; /* [0] right, [1] wrong: the listener's enum value */
};

struct sfile_actor {
	char name[MMN_SCENARIO_NAME_MAX + 1];
	int first, nr; /* its ops: ops[first .. first + nr) */
};

/* A checked scenario file, ready to be interpreted. */
struct sfile {
	struct sfile_summary sum;
	unsigned long id_line, id_column; /* where the id is, 1-based */
	char title[SFILE_TEXT_MAX];
	int cpus;
	unsigned long frames;
	char profile[16];
	/* The knobs "name=value" of each setting ([0] right, [1] wrong): the
	 * file's knobs, then right_knobs or wrong_knobs; NULL-terminated. */
	char knob_text[2][MMN_SCENARIO_MAX_KNOBS][SFILE_TEXT_MAX];
	const char *knobs[2][MMN_SCENARIO_MAX_KNOBS + 1];
	struct sfile_mapping maps[SFILE_MAX_MAPPINGS];
	struct sfile_listener lis[SFILE_MAX_LISTENERS];
	struct sfile_actor actors[SFILE_MAX_ACTORS];
	int nr_prologue; /* ops[0 .. nr_prologue): the prologue, run alone first */
	struct sfile_op ops[SFILE_MAX_OPS];
	int nr_ops;
	unsigned int found_kinds; /* claim.wrong as a mask; 0: every kind */
};

/* Whether the positional argument @arg names a scenario file (it ends in
 * .yaml or .yml). */
bool sfile_is_path(const char *arg);

/*
 * Read and check the YAML text @text of @len bytes, named @path in
 * messages, against the format: a new struct sfile (free() it), or NULL
 * after one line on stderr ("mmnsim: PATH:LINE:COLUMN: field 'F': what",
 * or out of memory).
 */
struct sfile *sfile_parse(const char *path, const char *text, size_t len);

/* sfile_parse(), keeping only the summary @out: true, or false after one line. */
bool sfile_check(const char *path, const char *text, size_t len, struct sfile_summary *out);

/*
 * Register the scenario @sf describes (sim/scenario_file_run.c): a struct
 * mmn_scenario_def of id sf->sum.id whose hooks interpret @sf. 0, and @sf
 * is taken over for the life of the process (the registry is append-only);
 * or mmn_scenario_register()'s error (-EEXIST: a scenario of that id is
 * registered already), and @sf stays the caller's.
 */
int sfile_register(struct sfile *sf);

#endif /* MMNSIM_SIM_SCENARIO_FILE_H */
