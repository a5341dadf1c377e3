// SPDX-License-Identifier: MIT
/*
 * The kernel-style mirror and KVM fragment of this folder as an mmnsim
 * plugin (docs/compat.md, "Exploring it from the command line"):
 *
 *   mmnsim --load ./mmnsim_compat_plugin.so explore compat-dmirror --wrong
 */
#include "compat_scenarios.h"

__attribute__((visibility("default"))) int mmnsim_plugin_init(void);

int mmnsim_plugin_init(void)
{
	return compat_scenarios_register();
}
