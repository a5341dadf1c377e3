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
 * It registers the mirror as a listener kind too, gpu_mirror (variants
 * read_retry and no_retry), that a scenario file names in its listeners:
 *
 *   mmnsim --load ./my_plugin.so explore docs/scenarios/gpu_mirror.yaml --wrong
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

/* ---- The mirror as a listener kind (struct mmn_listener_kind) ---- */

static const char *const gpu_variants[] = { "read_retry", "no_retry", NULL };

static int gpu_kind_create(struct mmn_sim *sim, struct mmn_mm *mm, int variant,
			   unsigned long start, unsigned long length, void **out)
{
	struct gpu *g = calloc(1, sizeof(*g));
	int err = g ? gpu_attach(g, mm, start, length, variant == 0) : -ENOMEM;

	(void)sim;
	if (err && g) {
		gpu_detach(g);
		free(g);
	}
	*out = err ? NULL : g;
	return err;
}

static int gpu_kind_destroy(void *l)
{
	gpu_detach(l);
	free(l);
	return 0;
}

static int gpu_kind_read(void *l, unsigned long addr, uint64_t *val)
{
	return gpu_read(l, addr & ~(unsigned long)(MMN_PAGE_SIZE - 1), val);
}

static const struct mmn_listener_kind gpu_mirror_kind = {
	.name = "gpu_mirror", .help = "the GPU mirror of explore_my_listener.c",
	.variants = gpu_variants, .create = gpu_kind_create, .destroy = gpu_kind_destroy,
	.device_read = gpu_kind_read,
};

int mmnsim_plugin_init(void)
{
	int err = mmn_scenario_register(&gpu_mirror);

	return err ? err : mmn_listener_kind_register(&gpu_mirror_kind);
}
