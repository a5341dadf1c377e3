/* SPDX-License-Identifier: MIT */
/**
 * @file scenario.h
 * @brief The seed scenarios S1-S9 (docs/scenarios.md), as reusable,
 *        parameterised functions that the tests, the simulator and the
 *        benchmarks all call.
 *
 * Each scenario reproduces one claim of a seed thread (or of users'
 * reports): under the seed's wrong setting it shows the violation or the
 * cost the seed describes, under the right one it does not. A run builds
 * its own simulation from the parameters, so scenarios are independent of
 * each other and of the caller's state.
 */
#ifndef MMNSIM_SCENARIO_H
#define MMNSIM_SCENARIO_H

#include <stdbool.h>
#include <stdint.h>

#include <mmnsim/check.h>
#include <mmnsim/export.h>
#include <mmnsim/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How a scenario is driven. */
enum mmn_scenario_mode {
	/** One deterministic interleaving written in the scenario (hook points,
	 *  completions; no sleeps): the seed's race placed exactly. */
	MMN_SCENARIO_INTERLEAVED = 0,
	/** Native threads with real parallelism, @c iterations rounds. */
	MMN_SCENARIO_NATIVE,
	/**
	 * The scenario's actors, with no hand-written interleaving, as one
	 * schedule of the deterministic backend (sched.h): mmn_scenario_params::sched
	 * says which (strategy, seed, replay list). The unit explored by
	 * mmn_scenario_explore() (explore.h).
	 */
	MMN_SCENARIO_EXPLORE,
};

/**
 * Largest mmn_scenario_params::iterations a scenario accepts (any mode):
 * larger is refused with -EINVAL. A cap rather than a time limit, so that a
 * run's rounds, counters and result stay a function of its parameters, not
 * of the host's speed. The slowest seed scenario (S8, native) takes about
 * 40 us a round in the release build, so a capped run ends within a minute.
 */
#define MMN_SCENARIO_MAX_ITERATIONS 1000000UL

/** Largest number of knob overrides in struct mmn_scenario_params. */
#define MMN_SCENARIO_MAX_KNOBS 8
/** Largest number of named counters in struct mmn_scenario_result. */
#define MMN_SCENARIO_MAX_COUNTERS 8

struct mmn_scenario_result;

/** Parameters of one scenario run. Zeroed fields take the scenario's defaults. */
struct mmn_scenario_params {
	/** Run the seed's wrong setting (true) or the right one (false). */
	bool wrong;
	/** Profile name; NULL: the scenario's own choice for @c wrong. */
	const char *profile;
	/** Extra knob overrides "name=value", applied after the scenario's
	 *  own; unused slots NULL. */
	const char *knobs[MMN_SCENARIO_MAX_KNOBS];
	/** Listener variant (the listener's own enum value); -1: the
	 *  scenario's choice for @c wrong. */
	int variant;
	/** Pages of the working set; 0: the scenario's default. */
	unsigned long pages;
	/** Rounds of a native run (some scenarios also bound their explored
	 *  loops by it); 0: the scenario's default; at most
	 *  MMN_SCENARIO_MAX_ITERATIONS. */
	unsigned long iterations;
	/** Seed of every pseudo-random choice; 0: 1. */
	uint64_t seed;
	/** How to drive it. */
	enum mmn_scenario_mode mode;
	/** EXPLORE: the schedule (not copied); NULL: mmn_sched_config_init()'s
	 *  defaults with @c seed. */
	const struct mmn_sched_config *sched;
	/**
	 * EXPLORE: called once at the end of a successful run, after the
	 * judgement (@p r is final but for real_ns) and before the scenario
	 * destroys its simulation (NULL: not called): the place to read the
	 * choice list and trace (mmn_sched_choices(), mmn_sched_trace()) or
	 * any other state of @p sim. An EXPLORE run builds one simulation and
	 * runs one schedule.
	 */
	void (*inspect)(struct mmn_sim *sim, const struct mmn_scenario_result *r, void *arg);
	/** Passed to @c inspect. */
	void *inspect_arg;
};

/** What a scenario run observed. */
struct mmn_scenario_result {
	unsigned long runs;                               /**< interleavings or rounds run */
	unsigned long violations;                         /**< violations of every kind */
	unsigned long by_kind[MMN_VIOL_NR_KINDS];         /**< violations per kind */
	int nr_counters;                                  /**< used entries of the two arrays below */
	const char *counter_names[MMN_SCENARIO_MAX_COUNTERS]; /**< "refaults", "teardowns", ... */
	unsigned long counters[MMN_SCENARIO_MAX_COUNTERS];    /**< their values */
	/** Whether the observation matches the seed's claim for this
	 *  setting (a violation under the wrong setting, none under the
	 *  right one; or the counts the seed predicts). */
	bool claim_holds;
	char profile[16];                                 /**< the profile actually used */
	char setting[96];                                 /**< the knob/variant that differs, as text */
	char note[160];                                   /**< one line for a table */
	/** EXPLORE: how the schedule ended (steps, choices, outcome). */
	struct mmn_sched_result sched;
	/** Modelled time of the run, from the simulation's virtual clock
	 *  (clock.h); the sum over the simulations a scenario builds. */
	uint64_t modelled_ns;
	/** Host time the run took (mmn_scenario_run() measures it). */
	uint64_t real_ns;
};

/** A scenario. */
struct mmn_scenario {
	const char *id;      /**< "S1" ... "S9" */
	const char *seed;    /**< "000" ... "004", or "users" */
	const char *title;   /**< one line */
	const char *claim;   /**< what it must show (docs/scenarios.md) */
	/**
	 * The violations that mean the seed's bug was found, as a mask of
	 * (1u << enum mmn_violation_kind): an exploration of the wrong setting
	 * counts a schedule as violating when it reports one of them. 0 for
	 * the scenarios whose claim is about counts (every kind then counts).
	 * Under the right setting every kind counts.
	 */
	unsigned int found_kinds;
	/**
	 * Run it.
	 * @param p    the parameters (NULL: all defaults, the right setting)
	 * @param out  receives the observations
	 * @return 0, or a negative errno when the run could not be made
	 *         (bad parameters, the host out of memory); a violation is an
	 *         observation, not an error.
	 */
	int (*run)(const struct mmn_scenario_params *p, struct mmn_scenario_result *out);
};

/** mmn_scenario_count() - number of scenarios (S1..S9 that exist). */
MMN_API int mmn_scenario_count(void);

/** mmn_scenario_at() - the @p idx-th scenario, in id order; NULL out of range. */
MMN_API const struct mmn_scenario *mmn_scenario_at(int idx);

/** mmn_scenario_by_id() - the scenario named @p id ("S4"); NULL if unknown. */
MMN_API const struct mmn_scenario *mmn_scenario_by_id(const char *id);

/**
 * mmn_scenario_run() - run scenario @p id with @p p (NULL: defaults).
 * @param id   the scenario's id
 * @param p    the parameters, or NULL
 * @param out  receives the observations
 * @return 0, -EINVAL for NULL @p id or @p out, a mode out of range or
 *         iterations above MMN_SCENARIO_MAX_ITERATIONS, -ENOENT for an
 *         unknown id, or the scenario's own error (-EINVAL for parameters
 *         it refuses).
 */
MMN_API int mmn_scenario_run(const char *id, const struct mmn_scenario_params *p,
			     struct mmn_scenario_result *out);

/**
 * mmn_scenario_counter() - the value of the counter named @p name in @p r.
 * @param r      a result filled by a scenario run
 * @param name   the counter's name ("refaults", "teardowns", ...)
 * @param value  receives the value
 * @return 0, -EINVAL for NULL arguments, -ENOENT if the run reported no
 *         counter of that name.
 */
MMN_API int mmn_scenario_counter(const struct mmn_scenario_result *r, const char *name,
				 unsigned long *value);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_SCENARIO_H */
