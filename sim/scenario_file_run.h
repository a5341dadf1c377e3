/* SPDX-License-Identifier: MIT */
/*
 * The state of one run of a scenario file, shared by its hooks
 * (sim/scenario_file_run.c) and its operations (sim/scenario_file_exec.c).
 * Not for other files.
 */
#ifndef MMNSIM_SIM_SCENARIO_FILE_RUN_H
#define MMNSIM_SIM_SCENARIO_FILE_RUN_H

#include <stdatomic.h>

#include "scenario_file.h"

struct sf_ctx;

/* One file actor: its operations and the run it belongs to. */
struct sf_actor_arg {
	struct sf_ctx *c;
	int actor;
};

struct sf_ctx {
	const struct sfile *sf;
	struct mmn_sim *sim;
	bool wrong;
	/* The mm slots; a slot a fork fills is NULL until it runs. Atomic:
	 * actors read what another actor's fork stores. */
	_Atomic(struct mmn_mm *) mm[SFILE_MAX_MMS];
	/* The listeners (an instance of their kind), NULL until created. */
	_Atomic(void *) lis[SFILE_MAX_LISTENERS];
	struct mmn_dev_pagemap *dev[SFILE_MAX_DEVICES];
	char dev_owner[SFILE_MAX_DEVICES]; /* pgmap->owner of device i: &dev_owner[i] */
	/* Each mm slot's userfaultfd, made by its first uffd_* operation. */
	_Atomic(struct mmn_uffd *) uffd[SFILE_MAX_MMS];
	struct sf_actor_arg args[SFILE_MAX_ACTORS];
	atomic_ulong ops_run, ops_failed;
};

/* Create the listeners of mm slot @mm (now filled): 0 or the first error. */
int sfile_listeners_attach(struct sf_ctx *c, int mm);

/* Run ops[0 .. n), loops unrolled; each failure counted in ops_failed. */
void sfile_run_ops(struct sf_ctx *c, const struct sfile_op *ops, int n);

#endif /* MMNSIM_SIM_SCENARIO_FILE_RUN_H */
