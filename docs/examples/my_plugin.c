// SPDX-License-Identifier: MIT
/*
 * The GPU mirror of explore_my_listener.c as an mmnsim plugin
 * (docs/cli.md, "Plugins"; docs/exploration.md, "Exploring your own
 * listener"): the same listener, actors and scenario definition, compiled
 * from that file (included, not copied), registered by the plugin's entry
 * point instead of its main(). Build and use it:
 *
 *   cc -shared -fPIC -o my_plugin.so my_plugin.c $(pkg-config --cflags --libs mmnsim)
 *   mmnsim --load ./my_plugin.so list
 *   mmnsim --load ./my_plugin.so explore gpu-mirror --wrong
 *   mmnsim replay mmnsim-out/gpu-mirror-wrong-pct-N.replay.json   (loads the plugin itself)
 *
 * CTest builds it (tests/cli, target mmnsim_my_plugin) and runs that flow
 * (cli.plugin_flow).
 */

/* The example's own harness (its main()) comes along, renamed and unused. */
#define main explore_my_listener_main
int explore_my_listener_main(int argc, char **argv);
#include "explore_my_listener.c"
#undef main

/* The entry point mmnsim calls after dlopen(): 0 or a negative errno. Its
 * visibility is explicit, so that the plugin works when compiled with
 * -fvisibility=hidden (as this project compiles everything). */
__attribute__((visibility("default"))) int mmnsim_plugin_init(void);

int mmnsim_plugin_init(void)
{
	return mmn_scenario_register(&gpu_mirror);
}
