// SPDX-License-Identifier: MIT
/*
 * mmnsim run SCENARIO [options]: one run of a scenario, interleaved or on
 * native threads, summarised for people or as one JSON object (docs/cli.md).
 */
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "cli.h"
#include "scenario_file.h"

/* --threads native|interleaved into an enum mmn_scenario_mode. */
static bool set_threads(const char *val, void *dest)
{
	enum mmn_scenario_mode *mode = dest;

	if (!strcmp(val, "native")) {
		*mode = MMN_SCENARIO_NATIVE;
	} else if (!strcmp(val, "interleaved")) {
		*mode = MMN_SCENARIO_INTERLEAVED;
	} else {
		fprintf(stderr, "mmnsim: --threads takes 'native' or 'interleaved', not '%s'\n", val);
		return false;
	}
	return true;
}

static const char *mode_name(enum mmn_scenario_mode m)
{
	return mmn_scenario_mode_name(m);
}

/* The mode without --threads: interleaved, or for a scenario that has only
 * an exploration body (a plugin's, defined with actors), one schedule of
 * the deterministic backend (explore mode, schedule seed 1). */
static enum mmn_scenario_mode default_mode(const struct mmn_scenario *s)
{
	const struct mmn_scenario_def *d = s->def;

	if (d && !d->run && !d->interleaved && (d->actors || d->explore))
		return MMN_SCENARIO_EXPLORE;
	return MMN_SCENARIO_INTERLEAVED;
}

static void print_human(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
			const struct mmn_scenario_result *r)
{
	bool any = false;

	printf("scenario    %s (seed %s): %s\n", s->id, s->seed, s->title);
	printf("setting     %s: %s\n", p->wrong ? "wrong" : "right", r->setting);
	printf("profile     %s", r->profile);
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		printf("%s%s", i ? ", " : " + ", p->knobs[i]);
	printf("\n");
	printf("mode        %s, seed %llu", mode_name(p->mode),
	       (unsigned long long)(p->seed ? p->seed : 1));
	if (p->variant >= 0)
		printf(", variant %d", p->variant);
	if (p->pages)
		printf(", pages %lu", p->pages);
	if (p->iterations)
		printf(", iterations %lu", p->iterations);
	printf("\n");
	printf("runs        %lu\n", r->runs);
	printf("violations  %lu", r->violations);
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		if (!r->by_kind[k])
			continue;
		printf("%s%s %lu", any ? ", " : ": ",
		       mmn_violation_kind_name((enum mmn_violation_kind)k), r->by_kind[k]);
		any = true;
	}
	printf("\n");
	printf("counters   ");
	if (!r->nr_counters)
		printf(" none");
	for (int i = 0; i < r->nr_counters; i++)
		printf(" %s=%lu", r->counter_names[i], r->counters[i]);
	printf("\n");
	printf("time        real %.3f ms, modelled %.3f ms (docs/clock.md)\n", r->real_ns / 1e6,
	       r->modelled_ns / 1e6);
	if (r->note[0])
		printf("note        %s\n", r->note);
	printf("claim       %s: %s\n", r->claim_holds ? "holds" : "DOES NOT HOLD", s->claim);
}

/* The reports shown per kind, at most (the result counts them all). */
#define RUN_SHOW_PER_KIND 2

/* The first reports of each kind, with their detail (held-lock stacks),
 * filled from the scenario's on_violation by whichever actor reports: a slot
 * is claimed with an atomic counter, so native runs need no lock. */
struct run_reports {
	atomic_uint seen[MMN_VIOL_NR_KINDS];
	char text[MMN_VIOL_NR_KINDS][RUN_SHOW_PER_KIND][2048];
};

static void run_on_violation(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	struct run_reports *rr = arg;
	unsigned int slot;
	int n;

	(void)sim;
	if ((unsigned int)v->kind >= MMN_VIOL_NR_KINDS)
		return;
	slot = atomic_fetch_add(&rr->seen[v->kind], 1);
	if (slot >= RUN_SHOW_PER_KIND)
		return;
	n = snprintf(rr->text[v->kind][slot], sizeof(rr->text[0][0]), "%s [actor %s%s%s",
		     v->msg ? v->msg : "", v->actor_name ? v->actor_name : "?", v->op ? ", in " : "",
		     v->op ? v->op : "");
	if (n >= 0 && (size_t)n < sizeof(rr->text[0][0]) && v->addr)
		n += snprintf(rr->text[v->kind][slot] + n, sizeof(rr->text[0][0]) - (size_t)n,
			      ", addr 0x%lx", v->addr);
	if (n >= 0 && (size_t)n < sizeof(rr->text[0][0]))
		snprintf(rr->text[v->kind][slot] + n, sizeof(rr->text[0][0]) - (size_t)n, "]%s%s",
			 v->detail ? "\n" : "", v->detail ? v->detail : "");
}

/* The reports, each line of a detail indented under its message. */
static void print_reports(const struct run_reports *rr)
{
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		unsigned int seen = atomic_load(&rr->seen[k]);

		for (unsigned int i = 0; i < seen && i < RUN_SHOW_PER_KIND; i++) {
			const char *t = rr->text[k][i];

			printf("report      %s: ", mmn_violation_kind_name((enum mmn_violation_kind)k));
			for (; *t && !(*t == '\n' && !t[1]); t++) {
				putchar(*t);
				if (*t == '\n')
					fputs("              ", stdout);
			}
			putchar('\n');
		}
		if (seen > RUN_SHOW_PER_KIND)
			printf("report      %s: ... and %u more\n",
			       mmn_violation_kind_name((enum mmn_violation_kind)k),
			       seen - RUN_SHOW_PER_KIND);
	}
}

static void print_json(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
		       const struct mmn_scenario_result *r, const struct run_reports *rr)
{
	struct jw j = { .out = stdout };

	jw_open(&j, NULL, '{');
	jw_str(&j, "scenario", s->id);
	jw_str(&j, "seed_thread", s->seed);
	jw_str(&j, "title", s->title);
	jw_bool(&j, "wrong", p->wrong);
	jw_str(&j, "mode", mode_name(p->mode));
	jw_str(&j, "profile", r->profile);
	jw_open(&j, "knobs", '[');
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		jw_str(&j, NULL, p->knobs[i]);
	jw_close(&j, ']');
	jw_int(&j, "variant", p->variant);
	jw_ulong(&j, "pages", p->pages);
	jw_ulong(&j, "iterations", p->iterations);
	jw_ulong(&j, "rng_seed", p->seed ? p->seed : 1);
	jw_str(&j, "setting", r->setting);
	jw_ulong(&j, "runs", r->runs);
	jw_ulong(&j, "violations", r->violations);
	jw_open(&j, "by_kind", '{');
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		jw_ulong(&j, mmn_violation_kind_name((enum mmn_violation_kind)k), r->by_kind[k]);
	jw_close(&j, '}');
	jw_open(&j, "counters", '{');
	for (int i = 0; i < r->nr_counters; i++)
		jw_ulong(&j, r->counter_names[i], r->counters[i]);
	jw_close(&j, '}');
	jw_ulong(&j, "real_ns", r->real_ns);
	jw_ulong(&j, "modelled_ns", r->modelled_ns);
	jw_open(&j, "reports", '[');
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		for (unsigned int i = 0; i < atomic_load(&rr->seen[k]) && i < RUN_SHOW_PER_KIND; i++) {
			jw_open(&j, NULL, '{');
			jw_str(&j, "kind", mmn_violation_kind_name((enum mmn_violation_kind)k));
			jw_str(&j, "text", rr->text[k][i]);
			jw_close(&j, '}');
		}
	}
	jw_close(&j, ']');
	jw_str(&j, "note", r->note);
	jw_str(&j, "claim", s->claim);
	jw_bool(&j, "claim_holds", r->claim_holds);
	jw_close(&j, '}');
}

int cmd_run(int argc, char **argv, struct cli_env *env)
{
	struct mmn_scenario_params p = { .variant = -1, .mode = MMN_SCENARIO_INTERLEAVED };
	const struct mmn_scenario *s = NULL;
	struct mmn_scenario_result r;
	const char *scenario = NULL, *threads = NULL;
	struct run_reports *rr;
	bool json = false;
	const struct cli_opt opts[] = {
		CLI_SCENARIO_OPTIONS(&p),
		{ "--json", CLI_FLAG, &json, 0, 0, NULL },
		{ "--threads", CLI_STRING, &threads, 0, 0, NULL },
		{ NULL, CLI_FLAG, NULL, 0, 0, NULL },
	};
	const struct cli_syntax syn = { .cmd = "run", .what = "scenario", .positional = &scenario,
					.opts = opts };
	int rc = cli_parse(argc, argv, &syn);
	int err;

	if (rc != EXIT_OK)
		return cli_parse_status(rc);
	if (threads && !set_threads(threads, &p.mode))
		return EXIT_USAGE;
	if (!scenario) {
		fprintf(stderr, "mmnsim: run needs a scenario (mmnsim list shows them)\n");
		return EXIT_USAGE;
	}
	if (sfile_is_path(scenario) && !env->dry) { /* register the file's scenario, run it by id */
		scenario = cli_sfile_load(env, scenario);
		if (!scenario)
			return EXIT_USAGE;
	} else if (sfile_is_path(scenario)) {
		return EXIT_OK;
	}
	s = mmn_scenario_by_id(scenario);
	if (!s) {
		fprintf(stderr, "mmnsim: unknown scenario '%s' (mmnsim list shows them)\n", scenario);
		return EXIT_USAGE;
	}
	if (!check_knobs(&p, ""))
		return EXIT_USAGE;
	if (!threads)
		p.mode = default_mode(s);
	if (env->dry)
		return EXIT_OK;

	rr = calloc(1, sizeof(*rr));
	if (!rr) {
		fprintf(stderr, "mmnsim: out of memory\n");
		return EXIT_USAGE;
	}
	p.on_violation = run_on_violation;
	p.on_violation_arg = rr;
	err = mmn_scenario_run(s->id, &p, &r);
	if (err) {
		free(rr);
		fprintf(stderr,
			"mmnsim: scenario %s could not run with these parameters: %s (%d); "
			"see docs/scenarios.md for its --variant, --pages and --iterations\n",
			s->id, strerror(-err), err);
		return EXIT_USAGE;
	}
	if (json) {
		print_json(s, &p, &r, rr);
	} else {
		print_human(s, &p, &r);
		print_reports(rr);
	}
	free(rr);
	return r.violations ? EXIT_VIOLATION : EXIT_OK;
}

