/* SPDX-License-Identifier: MIT */
/**
 * @file explore.h
 * @brief Exploration of a scenario's schedules: run it again and again under
 *        the deterministic backend (random walk, PCT or exhaustive search),
 *        count the schedules that show a violation, hand each one found to
 *        the caller with its choice list and trace, shard the search, and
 *        shrink a found schedule.
 *
 * Schedule i of an exploration (i = 0, 1, ... runs-1) is the scenario in
 * MMN_SCENARIO_EXPLORE mode with the strategy's seed @c seed + i; a shard
 * (@c shard of @c shards) runs the schedules with i % shards == shard, so
 * the shards of one exploration together run exactly the schedules of the
 * unsharded one and their statistics add up (docs/exploration.md has the
 * merge command for the CLI's JSON). The exhaustive strategy enumerates
 * schedules depth-first with a preemption bound; the DPOR strategy runs one
 * schedule per equivalence class (mmn_sched_dpor_create()). Both shard by
 * subtrees (mmn_sched_explorer_shard(), depth @c shard_depth): the shards
 * together count exactly the schedules (classes) of the unsharded search.
 */
#ifndef MMNSIM_EXPLORE_H
#define MMNSIM_EXPLORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <mmnsim/check.h>
#include <mmnsim/export.h>
#include <mmnsim/scenario.h>
#include <mmnsim/sched.h>

#ifdef __cplusplus
extern "C" {
#endif

/** How the schedules of an exploration are chosen. */
enum mmn_explore_strategy {
	/** Schedule i: MMN_STRATEGY_RANDOM with seed + i. */
	MMN_EXPLORE_RANDOM = 0,
	/** Schedule i: MMN_STRATEGY_PCT with seed + i, depth and steps as configured. */
	MMN_EXPLORE_PCT,
	/** Depth-first enumeration with a preemption bound (mmn_sched_explorer_create()). */
	MMN_EXPLORE_EXHAUSTIVE,
	/** Dynamic partial-order reduction: source-set DPOR with sleep sets,
	 *  one schedule per Mazurkiewicz trace (mmn_sched_dpor_create()). */
	MMN_EXPLORE_DPOR,
};

/** mmn_explore_strategy_name() - "random", "pct", "exhaustive", "dpor"; NULL out of range. */
MMN_API const char *mmn_explore_strategy_name(enum mmn_explore_strategy s);

/** mmn_explore_strategy_by_name() - the strategy named @p name, or -ENOENT
 *  (also for NULL). */
MMN_API int mmn_explore_strategy_by_name(const char *name);

/** Statistics of an exploration (of one shard). */
struct mmn_explore_stats {
	unsigned long schedules;   /**< schedules run */
	unsigned long violating;   /**< schedules that showed a counted violation */
	/** Global index of the first violating schedule; ULONG_MAX if none. */
	unsigned long first_index;
	/** Schedules this shard had run when it found its first violating one
	 *  (that one included); 0 if none. */
	unsigned long first_after;
	/** Host time from the start of the exploration to the end of the
	 *  first violating schedule; 0 if none. */
	uint64_t first_real_ns;
	uint64_t real_ns;          /**< host time of the whole exploration */
	uint64_t modelled_ns;      /**< modelled time summed over the schedules */
	uint64_t steps;            /**< scheduling points summed over the schedules */
	unsigned long deadlocks;   /**< schedules that ended in a deadlock */
	unsigned long budgets;     /**< schedules that ran out of their step budget */
	unsigned long claims_held; /**< schedules whose result's claim_holds was true */
	unsigned long by_kind[MMN_VIOL_NR_KINDS]; /**< violations per kind, summed */
	/** EXHAUSTIVE: the enumeration ended before the @c runs cap. DPOR:
	 *  every class was explored: the search ended before the cap and no
	 *  schedule was left out for the preemption bound or a step budget. */
	bool complete;
	/** How many entries of @c counter_name and @c counters are set. */
	int nr_counters;
	/** The scenario's counters (mmn_scenario_result::counter_names), in
	 *  the order the schedules first reported them; names are copied
	 *  (cut at 31 bytes), so the stats can cross a fork. */
	char counter_name[MMN_SCENARIO_MAX_COUNTERS][32];
	/** Each counter summed over the schedules: what a count scenario
	 *  measures (S5's teardowns, S9's needless shootdowns, ...). */
	uint64_t counters[MMN_SCENARIO_MAX_COUNTERS];
	/** EXHAUSTIVE and DPOR: runs made, counted or not (a run that repeated
	 *  an explored class, or that learnt the top of another shard's
	 *  subtree, is made but not counted in @c schedules). */
	unsigned long runs;
	/** EXHAUSTIVE and DPOR: the sum (mod 2^64) of the identities of the
	 *  schedules counted (mmn_sched_explorer_last()): for DPOR of their
	 *  classes. Shards' digests add up to the unsharded search's. */
	uint64_t digest;
	/** DPOR: the search ended having left schedules out for the
	 *  preemption bound or a step budget: the result is bounded, not
	 *  complete (false when it stopped early, at a violation or the cap). */
	bool bounded;
};

/**
 * mmn_explore_stats_add_counter() - add @p value to the counter @p name of
 * @p st, appending it when it is new.
 * @return 0, or -ENOSPC when @p st already has MMN_SCENARIO_MAX_COUNTERS
 *         other counters, -EINVAL for a NULL argument.
 */
MMN_API int mmn_explore_stats_add_counter(struct mmn_explore_stats *st, const char *name,
					  uint64_t value);

/** A violating schedule, as handed to mmn_explore_config::found. */
struct mmn_explore_found {
	unsigned long index;          /**< its global schedule index */
	/** The configuration it ran with (strategy, seed, PCT parameters; for
	 *  the exhaustive strategy a replay prefix). */
	const struct mmn_sched_config *sched;
	const struct mmn_scenario_result *result; /**< the scenario's observations */
	const uint32_t *choices;      /**< its choice list (replay it to reproduce the run) */
	size_t nr_choices;            /**< entries of @c choices */
	const char *trace;            /**< its text trace (sched.h), "" when traces are off */
	size_t trace_len;             /**< bytes of @c trace */
};

/** Configuration of an exploration. Fill with mmn_explore_config_init(). */
struct mmn_explore_config {
	/** Strategy. Default MMN_EXPLORE_RANDOM. */
	enum mmn_explore_strategy strategy;
	/** Schedules of the whole exploration (all shards), or for the
	 *  exhaustive and DPOR strategies the most runs to make (per shard).
	 *  Default 1000. */
	unsigned long runs;
	/** Seed of schedule 0. Default 1. */
	uint64_t seed;
	/** This shard's index, in [0, @c shards). Default 0. */
	unsigned int shard;
	/** Number of shards (>= 1). Default 1. */
	unsigned int shards;
	/** PCT depth d, 1..MMN_SCHED_PCT_MAX_DEPTH (see MMN_STRATEGY_PCT).
	 *  Default 3. */
	unsigned int pct_depth;
	/** PCT step estimate k; 0 (the default): the step count of the
	 *  scenario's non-preemptive schedule, measured by one extra run
	 *  before the first (the same in every shard). */
	unsigned long pct_steps;
	/** Step budget of each schedule. Default 100000. */
	unsigned long max_steps;
	/** EXHAUSTIVE and DPOR: the preemption bound (UINT_MAX: none).
	 *  Default 2. */
	unsigned int preemption_bound;
	/** EXHAUSTIVE and DPOR with @c shards > 1: the depth of the subtrees
	 *  dealt to the shards (choice points for EXHAUSTIVE, steps for DPOR,
	 *  mmn_sched_explorer_shard()). Default 6. */
	unsigned int shard_depth;
	/** EXHAUSTIVE and DPOR: called for each schedule counted, with its
	 *  identity (mmn_sched_explorer_last()); may be NULL. */
	void (*schedule)(uint64_t id, bool violating, void *arg);
	/** Explore every schedule (true) or stop at the first violating one
	 *  (false, the default). */
	bool keep_going;
	/** Record traces (handed to @c found). Default true. */
	bool trace;
	/** Call @c progress after every this many schedules (0: never). Default 0. */
	unsigned long progress_every;
	/** Progress callback (may be NULL): return false to stop the
	 *  exploration there (a time limit, a stop requested elsewhere). */
	bool (*progress)(const struct mmn_explore_stats *st, void *arg);
	/**
	 * Called for each violating schedule, with everything needed to replay
	 * it; the pointers are valid during the call only (may be NULL).
	 * Return true to go on (under @c keep_going), false to stop.
	 */
	bool (*found)(const struct mmn_explore_found *f, void *arg);
	/** Passed to @c progress and @c found. */
	void *arg;
};

/** mmn_explore_config_init() - fill @p c with the documented defaults. */
MMN_API void mmn_explore_config_init(struct mmn_explore_config *c);

/**
 * mmn_explore_violating() - the exploration's judgement of one run: true
 * when @p r reports a violation that counts for scenario @p s under @p p
 * (a kind of mmn_scenario::found_kinds under the wrong setting, any kind
 * under the right one or when found_kinds is 0).
 * @param s  the scenario
 * @param p  the parameters of the run (NULL: defaults, the right setting)
 * @param r  its result
 * @return the judgement; false for NULL @p s or @p r.
 */
MMN_API bool mmn_explore_violating(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
				   const struct mmn_scenario_result *r);

/**
 * mmn_explore_violating_def() - mmn_explore_violating() for a definition
 * (registered or not): its found_kinds, with @p p's variant_name resolved.
 * @return the judgement; false for NULL @p def or @p r.
 */
MMN_API bool mmn_explore_violating_def(const struct mmn_scenario_def *def,
				       const struct mmn_scenario_params *p,
				       const struct mmn_scenario_result *r);

/**
 * mmn_scenario_explore() - explore scenario @p id: run its schedules under
 * @p c and gather @p st.
 * @param id  a registered scenario's id ("S1", a user scenario's)
 * @param p   its parameters (NULL: defaults); mode, sched and inspect are
 *            replaced by the exploration's own
 * @param c   the exploration (NULL: defaults)
 * @param st  receives the statistics
 * @return 0 when the exploration ran (violations found or not), -EINVAL
 *         for NULL @p id / @p st, a bad shard, a zero run count, a
 *         strategy out of range, a PCT depth outside
 *         [1, MMN_SCHED_PCT_MAX_DEPTH] with MMN_EXPLORE_PCT, or
 *         parameters the scenario refuses (its args, variant_name,
 *         validate hook), a zero @c shard_depth for a sharded exhaustive
 *         or DPOR search; -EOPNOTSUPP when it has no EXPLORE body; -ENOENT
 *         for an unknown scenario; -ENOMEM; -EIO when
 *         the traced re-run of a violating schedule did not violate (a
 *         determinism bug of the library; the statistics stop there).
 */
MMN_API int mmn_scenario_explore(const char *id, const struct mmn_scenario_params *p,
				 const struct mmn_explore_config *c, struct mmn_explore_stats *st);

/**
 * mmn_scenario_shrink() - shrink the choice list of a violating schedule of
 * scenario @p id into a shorter one whose replay still violates (by
 * mmn_explore_violating()); by mmn_sched_shrink_preemptions(): fewest
 * preemptions first, then shortest; replay the result and read what remains
 * with mmn_sched_preemptions().
 * @param id         the scenario
 * @param p          the parameters of the violating run (mode and sched are
 *                   replaced)
 * @param max_steps  the step budget of each replay (0: the default)
 * @param choices    its choice list
 * @param n          its length
 * @param out        receives the shrunk list (room for @p n entries)
 * @param max_tries  most replays to make (0: 1000)
 * @return the shrunk length (<= @p n), -EINVAL, -ENOENT for a scenario
 *         not registered, -ENOMEM.
 */
MMN_API long mmn_scenario_shrink(const char *id, const struct mmn_scenario_params *p,
				 unsigned long max_steps, const uint32_t *choices, size_t n,
				 uint32_t *out, unsigned long max_tries);

/**
 * mmn_scenario_explore_def() - mmn_scenario_explore() of a one-off
 * definition, without registering it.
 *
 * How it differs from registering @p def and exploring it by id: nothing is
 * added to the process-wide registry, so the id need not be unique (a
 * test's or an experiment's body, defined in a function and thrown away),
 * @p def need only live during the call, and nothing else can name the
 * scenario: not mmn_scenario_by_id(), not the CLI, not a replay file (which
 * records a scenario id). The runs, the schedules, the statistics and the
 * callbacks are exactly those of the registered path.
 * @param def  the definition (checked as mmn_scenario_register() does)
 * @param p    its parameters (NULL: defaults), as for mmn_scenario_explore()
 * @param c    the exploration (NULL: defaults)
 * @param st   receives the statistics
 * @return as mmn_scenario_explore(); -EINVAL for a bad @p def or NULL @p st.
 */
MMN_API int mmn_scenario_explore_def(const struct mmn_scenario_def *def,
				     const struct mmn_scenario_params *p,
				     const struct mmn_explore_config *c,
				     struct mmn_explore_stats *st);

/**
 * mmn_scenario_shrink_def() - mmn_scenario_shrink() of a one-off
 * definition, without registering it (see mmn_scenario_explore_def()).
 * @return as mmn_scenario_shrink(); -EINVAL for a bad @p def.
 */
MMN_API long mmn_scenario_shrink_def(const struct mmn_scenario_def *def,
				     const struct mmn_scenario_params *p, unsigned long max_steps,
				     const uint32_t *choices, size_t n, uint32_t *out,
				     unsigned long max_tries);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_EXPLORE_H */
