// SPDX-License-Identifier: MIT
/* The listener set-ups that several scenarios share. */
#include <errno.h>

#include "scenarios_internal.h"

int mmn__scn_iommu_mm(struct mmn_sim *sim, const struct mmn_iommu_config *icfg,
		      unsigned long base, unsigned long len, int flags, struct mmn_mm **mm,
		      struct mmn_iommu **io, int *pasid)
{
	unsigned long got;

	*mm = mmn_mm_create(sim);
	*io = *mm ? mmn_iommu_create(sim, icfg) : NULL;
	if (!*io || mmn_iommu_bind(*io, *mm, pasid))
		return -ENOMEM;
	return mmn_mmap(*mm, base, len, MMN_PROT_READ | MMN_PROT_WRITE,
			MMN_MAP_PRIVATE | MMN_MAP_ANONYMOUS | MMN_MAP_FIXED | flags, &got);
}

void mmn__scn_iommu_put(struct mmn_mm *mm, struct mmn_iommu *io)
{
	if (io)
		mmn_iommu_destroy(io);
	if (mm)
		mmn_mm_put(mm);
}
