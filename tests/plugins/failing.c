// SPDX-License-Identifier: MIT
/* A plugin whose registration fails: its scenario's id has a character
 * mmn_scenario_register() refuses, and the entry point passes the error on
 * (-EINVAL): `mmnsim --load` reports it (cli.bad_plugin_init_fails). */
#include <mmnsim/mmnsim.h>

static void no_actors(struct mmn_sim *sim, void *ctx)
{
	(void)sim;
	(void)ctx;
}

static const struct mmn_scenario_def bad = {
	.id = "bad id", .title = "an id with a blank", .actors = no_actors,
};

__attribute__((visibility("default"))) int mmnsim_plugin_init(void);

int mmnsim_plugin_init(void)
{
	return mmn_scenario_register(&bad);
}
