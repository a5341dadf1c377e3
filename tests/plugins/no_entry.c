// SPDX-License-Identifier: MIT
/* A shared object without mmnsim's entry point (its init is misnamed):
 * `mmnsim --load` refuses it (cli.bad_plugin_no_entry). */
__attribute__((visibility("default"))) int mmnsim_plugin_start(void);

int mmnsim_plugin_start(void)
{
	return 0;
}
