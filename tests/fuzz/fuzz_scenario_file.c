// SPDX-License-Identifier: MIT
/*
 * Fuzz target scenario_file (docs/reliability.md, "Fuzzing"; docs/cli.md,
 * "Scenario files"): the scenario-file reader of sim/scenario_file.c
 * (libyaml, then the format's checks) on arbitrary bytes. It must accept
 * the input or refuse it with one line, never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "scenario_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct sfile_summary sum;
	char *text = malloc(size + 1);

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	(void)sfile_check("fuzz.yaml", text, size, &sum);
	free(text);
	return 0;
}
