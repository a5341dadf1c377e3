// SPDX-License-Identifier: MIT
/* mmnsim list [--json]: the scenarios, the profiles, the knobs and the costs
 * of the modelled clock (docs/cli.md). */
#include <stdbool.h>
#include <stdio.h>

#include <mmnsim/mmnsim.h>

#include "cli.h"

static void list_json(const struct mmn_profile *latest, const struct cli_env *env)
{
	struct jw j = { .out = stdout };

	jw_open(&j, NULL, '{');
	jw_str(&j, "version", mmn_version_string());
	jw_open(&j, "scenarios", '[');
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const struct mmn_scenario *s = mmn_scenario_at(i);

		jw_open(&j, NULL, '{');
		jw_str(&j, "id", s->id);
		jw_str(&j, "seed_thread", s->seed);
		jw_str(&j, "title", s->title);
		jw_str(&j, "claim", s->claim);
		if (cli_source_of(env, s))
			jw_str(&j, "source", cli_source_of(env, s)->path);
		else
			jw_null(&j, "source");
		jw_close(&j, '}');
	}
	jw_close(&j, ']');
	jw_open(&j, "profiles", '[');
	for (int i = 0; i < mmn_profile_count(); i++)
		jw_str(&j, NULL, mmn_profile_at(i)->name);
	jw_close(&j, ']');
	jw_open(&j, "knobs", '[');
	for (int i = 0; i < mmn_profile_knob_count(); i++) {
		const char *name = mmn_profile_knob_name(i);
		char val[64];

		jw_open(&j, NULL, '{');
		jw_str(&j, "name", name);
		if (latest && !mmn_profile_knob_value(latest, name, val, sizeof(val)))
			jw_str(&j, "latest", val);
		else
			jw_null(&j, "latest");
		jw_close(&j, '}');
	}
	jw_close(&j, ']');
	jw_open(&j, "costs", '[');
	for (int c = 0; c < MMN_COST_NR; c++) {
		char knob[64];

		snprintf(knob, sizeof(knob), "cost_%s_ns", mmn_cost_name((enum mmn_cost)c));
		jw_open(&j, NULL, '{');
		jw_str(&j, "knob", knob);
		jw_ulong(&j, "default_ns", mmn_cost_default((enum mmn_cost)c));
		jw_close(&j, '}');
	}
	jw_close(&j, ']');
	jw_close(&j, '}');
}

static void list_human(const struct mmn_profile *latest, const struct cli_env *env)
{
	printf("scenarios (mmnsim run ID):\n");
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const struct mmn_scenario *s = mmn_scenario_at(i);

		printf("  %-3s seed %-5s %s\n", s->id, s->seed, s->title);
		printf("      claim: %s\n", s->claim);
		if (cli_source_of(env, s))
			printf("      from %s %s\n", cli_source_kind_name(cli_source_of(env, s)->kind),
			       cli_source_of(env, s)->path);
	}
	printf("profiles (--profile P):\n ");
	for (int i = 0; i < mmn_profile_count(); i++)
		printf(" %s", mmn_profile_at(i)->name);
	printf("\nknobs (--knob NAME=VALUE; value in latest):\n");
	for (int i = 0; i < mmn_profile_knob_count(); i++) {
		const char *name = mmn_profile_knob_name(i);
		char val[64] = "?";

		if (latest)
			mmn_profile_knob_value(latest, name, val, sizeof(val));
		printf("  %-32s %s\n", name, val);
	}
	printf("costs of the modelled clock (--knob cost_NAME_ns=NS; default ns; docs/clock.md):\n");
	for (int c = 0; c < MMN_COST_NR; c++) {
		char knob[64];

		snprintf(knob, sizeof(knob), "cost_%s_ns", mmn_cost_name((enum mmn_cost)c));
		printf("  %-32s %llu\n", knob,
		       (unsigned long long)mmn_cost_default((enum mmn_cost)c));
	}
}

int cmd_list(int argc, char **argv, struct cli_env *env)
{
	const struct mmn_profile *latest = mmn_profile_by_name("latest");
	bool json = false;
	const struct cli_opt opts[] = {
		{ "--json", CLI_FLAG, &json, 0, 0, NULL },
		{ NULL, CLI_FLAG, NULL, 0, 0, NULL },
	};
	const struct cli_syntax syn = { .cmd = "list", .opts = opts };
	int rc = cli_parse(argc, argv, &syn);

	if (rc != EXIT_OK || env->dry)
		return cli_parse_status(rc);
	if (json)
		list_json(latest, env);
	else
		list_human(latest, env);
	return EXIT_OK;
}
