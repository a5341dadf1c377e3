// SPDX-License-Identifier: MIT
/*
 * mmnsim: the simulator's command line (docs/cli.md). The dispatch and the
 * exit statuses are in sim/cli_main.c.
 */
#include "cli.h"

int main(int argc, char **argv)
{
	return cli_main(argc, argv, false);
}
