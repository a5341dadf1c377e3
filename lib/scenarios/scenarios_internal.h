/* SPDX-License-Identifier: MIT */
/*
 * The scenarios' shared skeleton and helpers, and the registry's entries.
 * Each scenario lives in lib/scenarios/sN.c and defines `const struct
 * mmn_scenario mmn_scenario_sN`; registry.c lists them in id order.
 * runner.c holds the skeleton (mmn__scn_run()) and the helpers below.
 */
#ifndef MMN_LIB_SCENARIOS_INTERNAL_H
#define MMN_LIB_SCENARIOS_INTERNAL_H

#include <stddef.h>

#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

/*
 * What one scenario adds to the skeleton every scenario shares:
 *
 *   check the parameters (the mode, then @validate)
 *   clear the result
 *   @run, for a scenario that builds several simulations; otherwise:
 *     allocate a zeroed context of @ctx_size bytes
 *     @configure the simulation (cfg comes initialised), create it
 *     @setup (mappings, listeners)
 *     run the mode's body: @interleaved, @native or @explore
 *     @judge (violations, counters, claim, profile/setting/note)
 *     mmn__scn_finish(), @teardown, destroy the simulation
 *   on error, clear the result again (no half-filled result)
 *
 * Every hook but @validate and @run gets the context, and the ones after
 * the creation the simulation, the parameters (never NULL: the defaults
 * stand in) and the result. A hook that may be NULL says so.
 */
struct mmn__scn_def {
	/* -EINVAL for parameters the scenario refuses (the mode is checked
	 * before); NULL: none. No side effect. */
	int (*validate)(const struct mmn_scenario_params *p);
	/* The whole run, for a scenario that builds several simulations;
	 * NULL: the one-simulation hooks below. */
	int (*run)(const struct mmn_scenario_params *p, struct mmn_scenario_result *out);

	/* Size of the per-run context (at least 1). */
	size_t ctx_size;
	/* Maps hugetlb memory: keep the huge-page pool in EXPLORE. */
	bool hugetlb;
	/* Fill the context's own values and @cfg (after mmn_sim_config_init())
	 * and the scenario's own knobs @own ("name=value", at most
	 * MMN_SCENARIO_MAX_KNOBS, NULL-terminated, all NULL on entry: its
	 * setting). -EINVAL for what only the context can tell. */
	int (*configure)(void *ctx, const struct mmn_scenario_params *p,
			 struct mmn_sim_config *cfg, const char **own);
	/* Mappings and listeners, in the context; NULL: none. */
	int (*setup)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out);
	/* The modes' bodies (@explore runs its prologue and then its actors
	 * through mmn__scn_explore()). */
	int (*interleaved)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			   struct mmn_scenario_result *out);
	int (*native)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out);
	int (*explore)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		       struct mmn_scenario_result *out);
	/* After a successful body: fill the judgement of @out. */
	void (*judge)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out);
	/* Release what @configure and @setup made (not the simulation), also
	 * after an error @err; returns @err or a teardown's own error (-EBUSY
	 * when a listener cannot go). NULL: nothing to release. */
	int (*teardown)(void *ctx, int err);
};

/* Run @d with @p (NULL: the defaults, the right setting) into @out: the
 * struct mmn_scenario::run of every scenario. */
int mmn__scn_run(const struct mmn__scn_def *d, const struct mmn_scenario_params *p,
		 struct mmn_scenario_result *out);

/* "interleaved", "native" or "explore": for the notes. */
const char *mmn__scn_mode_name(enum mmn_scenario_mode mode);

/* Fill out->by_kind and out->violations from @sim's counters. */
void mmn__scn_collect_violations(struct mmn_sim *sim, struct mmn_scenario_result *out);
/* xorshift64 step of the state @s (never 0): the native actors' choices. */
static inline unsigned long scn_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned long)(*s >> 11);
}

/* Append a named counter to @out (ignored past MMN_SCENARIO_MAX_COUNTERS). */
void mmn__scn_counter(struct mmn_scenario_result *out, const char *name, unsigned long value);
/*
 * Create the simulation of a scenario run into *@out. @cfg (the scenario's
 * sizes, profile and backend) gets p->seed (0: 1) and what mode p->mode
 * needs: in EXPLORE the deterministic backend and, for a scenario that maps
 * no hugetlb memory (@hugetlb false), no huge-page pool. Violations are
 * counted silently. Then the scenario's own knobs @own ("name=value",
 * NULL-terminated, may be NULL: its setting) and the caller's p->knobs are
 * applied, in that order. Returns 0, -EINVAL for an unknown profile or a
 * malformed or refused knob, -ENOMEM.
 */
int mmn__scn_sim_create(struct mmn_sim **out, struct mmn_sim_config *cfg,
			const struct mmn_scenario_params *p, bool hugetlb, const char *const *own);
/*
 * EXPLORE: run @body(@sim, @arg) as actor 0 of the schedule p->sched (or the
 * defaults with p->seed); the outcome goes to out->sched. A deadlock or an
 * exhausted budget is an observation (0), not an error.
 */
int mmn__scn_explore(struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     mmn_sched_body_fn body, void *arg, struct mmn_scenario_result *out);
/*
 * Before destroying a simulation whose run succeeded: add its modelled time
 * to @out and, in EXPLORE mode, hand it to p->inspect. Call it after the
 * judgement (claim_holds, note) is final.
 */
void mmn__scn_finish(struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out);

/*
 * devices.c: a new mm of @sim bound (a PASID) to a new IOMMU-style device
 * configured by @icfg, with [@base, @base + @len) mapped private, anonymous,
 * read-write and fixed (| @flags: MMN_MAP_HUGETLB). *@mm and *@io hold what
 * was made, also on error: release them with mmn__scn_iommu_put(). Returns
 * 0, -ENOMEM (no mm, device or PASID) or mmn_mmap()'s error.
 */
int mmn__scn_iommu_mm(struct mmn_sim *sim, const struct mmn_iommu_config *icfg,
		      unsigned long base, unsigned long len, int flags, struct mmn_mm **mm,
		      struct mmn_iommu **io, int *pasid);
/* Destroy @io, then put @mm (either may be NULL). */
void mmn__scn_iommu_put(struct mmn_mm *mm, struct mmn_iommu *io);

extern const struct mmn_scenario mmn_scenario_s1;
extern const struct mmn_scenario mmn_scenario_s2;
extern const struct mmn_scenario mmn_scenario_s3;
extern const struct mmn_scenario mmn_scenario_s4;
extern const struct mmn_scenario mmn_scenario_s5;
extern const struct mmn_scenario mmn_scenario_s6;
extern const struct mmn_scenario mmn_scenario_s7;
extern const struct mmn_scenario mmn_scenario_s8;
extern const struct mmn_scenario mmn_scenario_s9;

#endif /* MMN_LIB_SCENARIOS_INTERNAL_H */
