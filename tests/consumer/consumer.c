// SPDX-License-Identifier: MIT
/*
 * A program outside the library's tree, built by run.sh against the
 * *installed* mmnsim (find_package and pkg-config, shared and static). It
 * uses only the umbrella header and functions declared in mmnsim/sim.h.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

int main(void)
{
	const char *v = mmn_version_string();
	struct mmn_sim *sim;

	if (!v || strcmp(v, MMN_VERSION_STRING) != 0) {
		fprintf(stderr, "consumer: library version %s, header version %s\n",
			v ? v : "(null)", MMN_VERSION_STRING);
		return 1;
	}
	sim = mmn_sim_create(NULL);
	if (!sim) {
		fprintf(stderr, "consumer: mmn_sim_create(NULL): %s\n", strerror(errno));
		return 1;
	}
	mmn_sim_destroy(sim);
	printf("consumer: mmnsim %s: create/destroy ok\n", v);
	return 0;
}
