// SPDX-License-Identifier: MIT
/*
 * consumer.install, the compat part: docs/examples/compat/dmirror_compat.c
 * (a kernel-style file, built against the *installed* compat headers) driven
 * by this harness: a device read sees the CPU's word, munmap erases the
 * mirror, the audits are clean.
 */
#include <stdio.h>

#include <linux/err.h>
#include <mmnsim/mmnsim.h>

#include "dmirror_compat.h"

#define BASE 0x10000000UL

int main(void)
{
	struct mmn_sim *sim = mmn_sim_create(NULL);
	struct mmn_mm *mm;
	struct dmirror *d;
	unsigned long got;
	uint64_t v = 0;
	int bad = 0;

	if (!sim)
		return 1;
	mmn_sim_set_current(sim);
	mm = mmn_mm_create(sim);
	bad |= mmn_mmap(mm, BASE, 2 * MMN_PAGE_SIZE, MMN_PROT_READ | MMN_PROT_WRITE,
			MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED, &got) != 0;
	bad |= mmn_cpu_write(mm, 0, BASE, 42) != 0;
	d = dmirror_create(mm, BASE, 2, 0);
	if (IS_ERR(d))
		return 1;
	bad |= dmirror_read(d, BASE, &v) != 0 || v != 42;
	bad |= mmn_munmap(mm, BASE, 2 * MMN_PAGE_SIZE) != 0;
	bad |= dmirror_read(d, BASE, &v) == 0;
	bad |= mmn_check_quiescent(sim) != 0 || mmn_audit(sim) != 0;
	dmirror_destroy(d);
	mmn_mm_put(mm);
	bad |= mmn_check_total(sim) != 0;
	mmn_sim_destroy(sim);
	printf("compat consumer: %s\n", bad ? "FAILED" : "ok");
	return bad;
}
