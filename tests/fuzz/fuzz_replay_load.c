// SPDX-License-Identifier: MIT
/*
 * Fuzz target replay_load (docs/reliability.md, "Fuzzing"): the replay-file
 * reader of sim/replay_file.c on arbitrary bytes. replay_parse() is what
 * replay_load() runs on a file's contents; it must accept the input or
 * refuse it with one line, and never crash, read out of bounds, overflow
 * (UBSan) or leak (LeakSanitizer, per input).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "replay_file.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = malloc(size + 1);
	struct replay r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (replay_parse("fuzz.replay.json", text, size, &r))
		replay_free(&r);
	free(text);
	return 0;
}
