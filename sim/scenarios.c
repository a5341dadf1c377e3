// SPDX-License-Identifier: MIT
/*
 * mmnsim-scenarios: the table of the hand-placed interleavings and native
 * runs (the main job, `mmnsim explore all`, searches schedules instead).
 *
 * Runs every seed scenario (scenario.h) under its right and its wrong
 * setting, first as the scenario's deterministic interleaving, then with
 * native threads, and prints one table: scenario, seed, setting, mode,
 * profile, runs, violations, whether the seed's claim holds, the run's
 * modelled time beside its real time (the simulation's clock, clock.h:
 * what the cost model charged, against the host time the run took), and
 * key counters. The verdict comes from the interleaved runs, which place the race
 * deterministically; a native run of the wrong setting may or may not hit
 * the race, so its claim column is shown in parentheses, for information
 * (a native run of the right setting must still be free of violations).
 * Exit status 0 when every interleaved claim holds and no right setting
 * shows a violation, 1 otherwise, 2 when a scenario could not run.
 *
 *   mmnsim-scenarios [S1 S4 ...]     (no argument: all of them)
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

static const char *mode_name(enum mmn_scenario_mode m)
{
	return m == MMN_SCENARIO_NATIVE ? "native" : "interleaved";
}

/* @ns as a time of three significant digits with a unit ("850 ns",
 * "12.3 us", "1.00 s"). */
static void fmt_time(uint64_t ns, char *buf, size_t len)
{
	static const char *const units[] = { "us", "ms", "s" };
	double v = (double)ns;
	int u = -1;

	if (ns < 1000) {
		snprintf(buf, len, "%llu ns", (unsigned long long)ns);
		return;
	}
	while (v >= 999.5 && u < 2) {
		v /= 1000;
		u++;
	}
	snprintf(buf, len, v < 9.995 ? "%.2f %s" : v < 99.95 ? "%.1f %s" : "%.0f %s", v, units[u]);
}

static int run_one(const struct mmn_scenario *s, bool wrong, enum mmn_scenario_mode mode)
{
	struct mmn_scenario_params p = { .wrong = wrong, .variant = -1, .mode = mode, .seed = 1 };
	struct mmn_scenario_result r;
	char counters[160] = "", times[48], modelled[16], real[16];
	int err = mmn_scenario_run(s->id, &p, &r);

	if (err) {
		printf("%-3s %-5s %-6s %-11s  error %d\n", s->id, s->seed, wrong ? "wrong" : "right",
		       mode_name(mode), err);
		return 2;
	}
	for (int i = 0; i < r.nr_counters; i++) {
		size_t len = strlen(counters);

		snprintf(counters + len, sizeof(counters) - len, "%s%s=%lu", i ? " " : "",
			 r.counter_names[i], r.counters[i]);
	}
	fmt_time(r.modelled_ns, modelled, sizeof(modelled));
	fmt_time(r.real_ns, real, sizeof(real));
	snprintf(times, sizeof(times), "%s / %s", modelled, real);
	printf("%-3s %-5s %-6s %-11s %-7s %5lu %5lu  %-40s %-6s %-21s %s | %s\n", s->id, s->seed,
	       wrong ? "wrong" : "right", mode_name(mode), r.profile, r.runs, r.violations,
	       r.setting,
	       mode == MMN_SCENARIO_NATIVE ? (r.claim_holds ? "(ok)" : "(miss)")
					   : (r.claim_holds ? "ok" : "FAIL"),
	       times, counters, r.note);
	if (mode == MMN_SCENARIO_NATIVE)
		return !wrong && r.violations ? 1 : 0;
	return r.claim_holds ? 0 : 1;
}

int main(int argc, char **argv)
{
	int status = 0;

	printf("mmnsim %s: the seed scenarios, each under its right and wrong setting\n",
	       mmn_version_string());
	printf("%-3s %-5s %-6s %-11s %-7s %5s %5s  %-40s %-6s %-21s %s\n", "id", "seed", "set",
	       "mode", "profile", "runs", "viol", "setting", "claim", "modelled / real",
	       "counters | note");
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const struct mmn_scenario *s = mmn_scenario_at(i);
		bool chosen = argc < 2;

		for (int a = 1; a < argc; a++)
			chosen |= !strcmp(argv[a], s->id);
		if (!chosen)
			continue;
		for (int mode = MMN_SCENARIO_INTERLEAVED; mode <= MMN_SCENARIO_NATIVE; mode++) {
			for (int wrong = 0; wrong < 2; wrong++) {
				int rc = run_one(s, wrong, (enum mmn_scenario_mode)mode);

				if (rc > status)
					status = rc;
			}
		}
	}
	for (int a = 1; a < argc; a++) {
		if (!mmn_scenario_by_id(argv[a])) {
			fprintf(stderr, "mmnsim-scenarios: unknown scenario '%s'\n", argv[a]);
			status = 2;
		}
	}
	printf("%s\n", status == 0 ? "every claim holds" : "some claims do not hold");
	return status;
}
