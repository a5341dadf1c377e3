/* SPDX-License-Identifier: MIT */
/*
 * The IOMMU-bound address space that S1, S2 and S3 each build: static inline
 * helpers over the public API (a scenario of your own writes the same with
 * mmn_mm_create(), mmn_iommu_create(), mmn_iommu_bind() and mmn_mmap()).
 */
#ifndef MMN_LIB_SCENARIOS_SCN_IOMMU_H
#define MMN_LIB_SCENARIOS_SCN_IOMMU_H

#include <errno.h>

#include <mmnsim/mmnsim.h>

/*
 * A new mm of @sim bound (a PASID) to a new IOMMU-style device configured by
 * @icfg, with [@base, @base + @len) mapped private, anonymous, read-write and
 * fixed (| @flags: MMN_MAP_HUGETLB). *@mm and *@io hold what was made, also
 * on error: release them with scn_iommu_put(). Returns 0, -ENOMEM (no mm,
 * device or PASID) or mmn_mmap()'s error.
 */
static inline int scn_iommu_mm(struct mmn_sim *sim, const struct mmn_iommu_config *icfg,
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

/* Destroy @io, then put @mm (either may be NULL). */
static inline void scn_iommu_put(struct mmn_mm *mm, struct mmn_iommu *io)
{
	if (io)
		mmn_iommu_destroy(io);
	if (mm)
		mmn_mm_put(mm);
}

#endif /* MMN_LIB_SCENARIOS_SCN_IOMMU_H */
