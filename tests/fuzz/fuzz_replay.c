// SPDX-License-Identifier: MIT
/*
 * Fuzz target replay (docs/reliability.md, "Fuzzing"): the whole `mmnsim
 * replay` path on arbitrary bytes. The bytes are read as a replay file
 * (replay_parse(), as replay_load() does), and a file that reads is
 * replayed by replay_check(), the replay command's body: the scenario runs
 * the saved choices under the deterministic scheduler, the outcome is
 * judged, the Chrome trace is written (to /dev/null) and the summary
 * printed. It must never crash, leak or hang.
 *
 * Work per input is capped: the step budget (the file's max_steps) at
 * FUZZ_MAX_STEPS. The file names a directory that does not exist, so the
 * saved trace it may name is never read (that read fails with one line).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "replay_file.h"

#define FUZZ_MAX_STEPS 4000UL

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char path[] = "/nonexistent-mmnsim-fuzz/fuzz.replay.json";
	const struct replay_outputs out = { .chrome = "/dev/null", .json = size & 1 };
	char *text = malloc(size + 1);
	struct replay r;

	if (!text)
		return 0;
	memcpy(text, data, size);
	text[size] = '\0';
	if (replay_parse(path, text, size, &r)) {
		if (r.max_steps > FUZZ_MAX_STEPS)
			r.max_steps = FUZZ_MAX_STEPS;
		(void)replay_check(path, &r, &out);
		replay_free(&r);
	}
	free(text);
	return 0;
}
