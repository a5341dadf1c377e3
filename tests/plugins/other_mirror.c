// SPDX-License-Identifier: MIT
/* Another plugin that registers a scenario named "gpu-mirror" (an empty
 * one): a replay file saved with docs/examples/my_plugin.c is refused
 * when this one is loaded instead (cli.plugin_flow). */
#include <mmnsim/mmnsim.h>

static void no_actors(struct mmn_sim *sim, void *ctx)
{
	(void)sim;
	(void)ctx;
}

static const struct mmn_scenario_def other = {
	.id = "gpu-mirror", .title = "not the GPU mirror", .actors = no_actors,
};

__attribute__((visibility("default"))) int mmnsim_plugin_init(void);

int mmnsim_plugin_init(void)
{
	return mmn_scenario_register(&other);
}
