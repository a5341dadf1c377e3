// SPDX-License-Identifier: MIT
/*
 * Fuzz target cli (docs/reliability.md, "Fuzzing"): the command line's
 * parsing. The input is an argv, its elements separated by NUL bytes (at
 * most FUZZ_CLI_MAX_ARGS of them); cli_main() dispatches it to the command's
 * option table and checks (cli_parse(), the knob checks) with dry set, so
 * no command runs and no file is read or written. It must never crash or
 * leak, whatever the arguments.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define FUZZ_CLI_MAX_ARGS 64

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[FUZZ_CLI_MAX_ARGS + 2];
	char *buf = malloc(size + 1);
	int argc = 0;

	if (!buf)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[argc++] = "mmnsim";
	for (size_t i = 0; i <= size && argc <= FUZZ_CLI_MAX_ARGS; i += strlen(buf + i) + 1)
		argv[argc++] = buf + i;
	argv[argc] = NULL;
	(void)cli_main(argc, argv, true);
	free(buf);
	return 0;
}
