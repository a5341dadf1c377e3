/* SPDX-License-Identifier: MIT */
/*
 * The scenarios' shared helpers and the registry's entries. Each scenario
 * lives in lib/scenarios/sN.c and defines `const struct mmn_scenario
 * mmn_scenario_sN`; registry.c lists them in id order.
 */
#ifndef MMN_LIB_SCENARIOS_INTERNAL_H
#define MMN_LIB_SCENARIOS_INTERNAL_H

#include <mmnsim/mmnsim.h>
#include <mmnsim/scenario.h>

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
int mmn__scn_explore(struct mmn_sim *sim, const struct mmn_scenario_params *p, mmn_sched_body_fn body,
		void *arg, struct mmn_scenario_result *out);
/*
 * Before destroying a simulation whose run succeeded: add its modelled time
 * to @out and, in EXPLORE mode, hand it to p->inspect. Call it after the
 * judgement (claim_holds, note) is final.
 */
void mmn__scn_finish(struct mmn_sim *sim, const struct mmn_scenario_params *p,
		struct mmn_scenario_result *out);

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
