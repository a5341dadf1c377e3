// SPDX-License-Identifier: MIT
/*
 * mmnsim: the simulator's command line (issue 6; docs/cli.md): the dispatch.
 *
 *   mmnsim list [--json]
 *   mmnsim run SCENARIO [--wrong] [--profile P] [--knob k=v ...] [--variant N]
 *              [--pages N] [--iterations N] [--seed N] [--threads native] [--json]
 *   mmnsim explore SCENARIO|all [--strategy S] [--runs N] [--shard I/N] [--jobs J] ...
 *   mmnsim replay FILE [--trace F] [--chrome F] [--json]
 *   mmnsim shrink FILE [--out F] [--json]
 *   mmnsim merge [--json] SHARD.json...
 *   mmnsim trace FILE [--points] [--width N] [--svg OUT.svg]
 *   mmnsim help | --help
 *   mmnsim --load PATH.so ... COMMAND ...   (and MMNSIM_PLUGINS=a.so:b.so)
 *
 * Exit status: 0 ok (run: no violation), 1 a violation was found, 2 usage or
 * input error (one line on stderr naming the bad thing), or a scenario that
 * could not run with the given parameters.
 *
 * This file only dispatches (cli_main(), also called by the fuzz target
 * tests/fuzz/fuzz_cli.c with dry set): each command is a sim/cmd_*.c, the
 * shared option parsing and the --help text are in sim/cli_util.c; main()
 * is sim/main.c.
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "cli.h"

static const struct {
	const char *name;
	int (*run)(int argc, char **argv, struct cli_env *env);
} commands[] = {
	{ "list", cmd_list },
	{ "run", cmd_run },
	{ "explore", cmd_explore },
	{ "replay", cmd_replay },
	{ "shrink", cmd_shrink },
	{ "merge", cmd_merge },
	{ "trace", cmd_trace },
};

/* Run command @cmd with the arguments after it; -1 when there is no such
 * command (nothing printed). */
static int dispatch(const char *cmd, int argc, char **argv, struct cli_env *env)
{
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (!strcmp(cmd, commands[i].name))
			return commands[i].run(argc, argv, env);
	return -1;
}

/* The command after the top-level options, with @env filled by them. */
static int cli_command(int argc, char **argv, struct cli_env *env)
{
	const char *cmd;
	int status;

	if (argc < 2) {
		usage(stderr);
		return EXIT_USAGE;
	}
	cmd = argv[1];
	if (!strcmp(cmd, "--help") || !strcmp(cmd, "-h"))
		cmd = "help"; /* mmnsim --help run == mmnsim help run */
	if (!strcmp(cmd, "help") && argc > 3) {
		fprintf(stderr, "mmnsim: help takes one command, got '%s' after '%s'\n", argv[3], argv[2]);
		return EXIT_USAGE;
	} else if (!strcmp(cmd, "help") && argc == 3) {
		if (!usage_command(stdout, argv[2])) {
			fprintf(stderr, "mmnsim: help: unknown command '%s' (mmnsim --help shows them)\n",
				argv[2]);
			return EXIT_USAGE;
		}
		status = EXIT_OK;
	} else if (!strcmp(cmd, "help")) {
		usage(stdout);
		status = EXIT_OK;
	} else if (!strcmp(cmd, "--version") && argc > 2) {
		fprintf(stderr, "mmnsim: --version takes no arguments, got '%s'\n", argv[2]);
		return EXIT_USAGE;
	} else if (!strcmp(cmd, "--version")) {
		printf("mmnsim %s\n", mmn_version_string());
		status = EXIT_OK;
	} else if ((status = dispatch(cmd, argc - 2, argv + 2, env)) >= 0) {
		/* the command ran */
	} else if (cmd[0] == '-') {
		fprintf(stderr, "mmnsim: unknown option '%s' (mmnsim --help)\n", cmd);
		return EXIT_USAGE;
	} else {
		fprintf(stderr, "mmnsim: unknown command '%s' (mmnsim --help shows them)\n", cmd);
		return EXIT_USAGE;
	}
	if (fflush(stdout) || ferror(stdout)) {
		fprintf(stderr, "mmnsim: cannot write the output: %s\n", strerror(errno));
		return EXIT_USAGE;
	}
	return status;
}

int cli_main(int argc, char **argv, bool dry)
{
	/* 64 KiB of paths: on the heap. Loaded plugins stay loaded (the
	 * scenario registry points into them); only this record goes. */
	struct cli_env *env = calloc(1, sizeof(*env));
	int status, first;

	if (!env) {
		fprintf(stderr, "mmnsim: out of memory\n");
		return EXIT_USAGE;
	}
	env->dry = dry;
	if (cli_load_args(env, argc, argv, &first))
		status = EXIT_USAGE;
	else
		status = cli_command(argc - (first - 1), argv + (first - 1), env);
	free(env);
	return status;
}
