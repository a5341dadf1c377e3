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
#define SFILE_MAX_MMS 8             /* mm slots (mms:) */
#define SFILE_MAX_DEVICES 4         /* device memories (devices:) */
#define SFILE_MAX_RELATIONS 8       /* claim.counters */
#define SFILE_MAX_OPS 1024          /* operations and loops, as written */
#define SFILE_MAX_RUN_OPS 100000UL  /* operations one actor runs, loops unrolled */
#define SFILE_TEXT_MAX 256          /* title, knob strings */

/* What a checked scenario file declares, in summary. */
struct sfile_summary {
	char id[MMN_SCENARIO_NAME_MAX + 1];
	int nr_mappings, nr_listeners, nr_actors;
	unsigned long nr_ops; /* operations, loop bodies counted once */
};

/* The operations, in the order of their names (sim/scenario_file_ops.c). */
enum sfile_opcode {
	SF_READ = 0, SF_WRITE, SF_MUNMAP, SF_MADV_DONTNEED, SF_MPROTECT, SF_DEVICE_READ,
	SF_DEVICE_WRITE, SF_TRY_TO_UNMAP, SF_MMAP, SF_MADVISE, SF_MREMAP, SF_FORK, SF_KSM_MERGE,
	SF_MIGRATE_PAGES, SF_SPLIT_HUGE_PMD, SF_COLLAPSE_HUGE_PAGE, SF_CHANGE_PROT_NUMA,
	SF_CLEAR_REFS_SOFT_DIRTY, SF_OOM_REAP, SF_MIGRATE_VMA_TO_DEVICE, SF_MIGRATE_VMA_TO_RAM,
	SF_MAKE_DEVICE_EXCLUSIVE, SF_COLLAPSE_PTE_MAPPED_THP, SF_UFFD_REGISTER, SF_UFFD_WRITEPROTECT,
	SF_UFFD_UNPROTECT, SF_UFFD_MOVE, SF_NR_OPS,
	SF_LOOP = 100,
};

/* One operation; a loop is followed by its @body entries (nested loops
 * inside). The fields an operation lacks stay 0. */
struct sfile_op {
	enum sfile_opcode op;
	int cpu, listener, prot, mm, mm_b, advice, flags, child;
	int device; /* make_device_exclusive without device: -1 (owner NULL) */
	uint64_t addr, addr_b, value, length, new_length, new_addr;
	unsigned long count; /* SF_LOOP: times */
	int body;            /* SF_LOOP: entries after it that form the body */
};

struct sfile_mapping {
	uint64_t start, length;
	int prot, flags, mm;
	bool thp; /* madvise(MADV_HUGEPAGE) after the mmap */
	unsigned long line, column;
};

struct sfile_listener {
	const struct mmn_listener_kind *kind;
	int variant[2]; /* [0] right, [1] wrong: an index of kind->variants */
	int mm;
	uint64_t start, length; /* 0, 0: the span of the mm's mappings */
	unsigned long line, column;
};

struct sfile_actor {
	char name[MMN_SCENARIO_NAME_MAX + 1];
	int first, nr; /* its ops: ops[first .. first + nr) */
};

/* One side of a claim relation: a number or a counter. */
enum sfile_operand_type { SFO_NUMBER = 0, SFO_FILE, SFO_OPSTAT, SFO_LISTENER };

struct sfile_operand {
	enum sfile_operand_type type;
	uint64_t number; /* SFO_NUMBER */
	int a, b;        /* FILE: 0 operations, 1 operations_failed; OPSTAT: op, field;
			  * LISTENER: listener, counter */
};

enum sfile_relop { SFR_GE = 0, SFR_LE, SFR_GT, SFR_LT, SFR_EQ, SFR_NE };

/* A claim relation "LHS OP RHS", checked by the judge. */
struct sfile_relation {
	struct sfile_operand lhs, rhs;
	enum sfile_relop op;
	char text[96];
};

/* A checked scenario file, ready to be interpreted. */
struct sfile {
	struct sfile_summary sum;
	unsigned long id_line, id_column; /* where the id is, 1-based */
	char title[SFILE_TEXT_MAX];
	int cpus;
	unsigned long frames, huge_pages;
	char profile[16];
	/* The knobs "name=value" of each setting ([0] right, [1] wrong): the
	 * file's knobs, then right_knobs or wrong_knobs; NULL-terminated. */
	char knob_text[2][MMN_SCENARIO_MAX_KNOBS][SFILE_TEXT_MAX];
	const char *knobs[2][MMN_SCENARIO_MAX_KNOBS + 1];
	int nr_mms;                 /* mm slots, 1 by default */
	unsigned int forked_mms;    /* slots a fork fills (bit per slot): empty at setup */
	int fork_parent[SFILE_MAX_MMS]; /* of a slot a fork fills: the fork's mm */
	bool hugetlb;               /* a mapping is MAP_HUGETLB: keep the pool */
	int nr_devices;
	unsigned long device_pages[SFILE_MAX_DEVICES];
	struct sfile_mapping maps[SFILE_MAX_MAPPINGS];
	struct sfile_listener lis[SFILE_MAX_LISTENERS];
	struct sfile_actor actors[SFILE_MAX_ACTORS];
	int nr_prologue; /* ops[0 .. nr_prologue): the prologue, run alone first */
	struct sfile_op ops[SFILE_MAX_OPS];
	int nr_ops;
	unsigned int found_kinds; /* claim.wrong as a mask; 0: every kind */
	int nr_relations;
	struct sfile_relation rel[SFILE_MAX_RELATIONS];
};

/* The names of the fields of struct mmn_op_stats, in order (relations
 * name them as "OP.FIELD", OP an mmn_op_name()). */
extern const char *const sfile_opstat_fields[];

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

/* Register the built-in listener kinds kvm, iommu and hmm
 * (sim/scenario_file_kinds.c); idempotent. mmnsim calls it before loading
 * plugins, so that those names stay the built-in kinds. */
void sfile_kinds_register(void);

#endif /* MMNSIM_SIM_SCENARIO_FILE_H */
