/* SPDX-License-Identifier: MIT */
/**
 * @file scenario.h
 * @brief Scenarios: the seed scenarios S1-S9 (docs/scenarios.md) and the
 *        user's own, defined with struct mmn_scenario_def and registered
 *        with mmn_scenario_register(), run by the tests, the simulator and
 *        the benchmarks through one set of functions.
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
#include <stddef.h>
#include <stdint.h>

#include <mmnsim/check.h>
#include <mmnsim/export.h>
#include <mmnsim/sched.h>
#include <mmnsim/sim.h>

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
/** Largest number of "name=value" arguments in mmn_scenario_params::args. */
#define MMN_SCENARIO_MAX_ARGS 8
/** Largest number of parameters of a struct mmn_scenario_def. */
#define MMN_SCENARIO_MAX_PARAMS 16
/** Largest number of variants of a struct mmn_scenario_def. */
#define MMN_SCENARIO_MAX_VARIANTS 8
/** Longest scenario id or parameter or variant name, in bytes (without the NUL). */
#define MMN_SCENARIO_NAME_MAX 31

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
	/**
	 * Called for every violation reported in the scenario's simulations,
	 * in the reporting actor's context, after the scenario's own
	 * accounting (NULL: violations are only counted). It must not take
	 * locks of the simulation; @p v is valid only during the call. This is
	 * how a caller sees the messages and the held-lock stacks
	 * (mmn_violation::detail) that the result only counts (`mmnsim run`
	 * prints the first of each kind).
	 */
	void (*on_violation)(struct mmn_sim *sim, const struct mmn_violation *v, void *arg);
	/** Passed to @c on_violation. */
	void *on_violation_arg;
	/**
	 * The scenario's own parameters (struct mmn_scenario_def::params) as
	 * "name=value" strings; unused slots NULL. The library parses and
	 * checks them before anything else: an unknown name, a malformed value
	 * or one outside [min, max], or a name given twice, makes the run
	 * -EINVAL with no side effect. Parameters not given take their default.
	 */
	const char *args[MMN_SCENARIO_MAX_ARGS];
	/**
	 * A variant by name (struct mmn_scenario_def::variants: "right",
	 * "wrong", ...); when set it replaces @c wrong and @c variant with the
	 * variant's (-EINVAL for a name the scenario does not have). NULL:
	 * @c wrong and @c variant as given.
	 */
	const char *variant_name;
	/**
	 * Set by the library in the parameters it hands a definition's hooks:
	 * the definition being run (so that one set of hooks can serve several
	 * definitions, each with its own mmn_scenario_def::user). Ignored on
	 * input.
	 */
	const struct mmn_scenario_def *def;
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

struct mmn_scenario_def;

/** A registered scenario, as listed (mmn_scenario_at(), mmn_scenario_by_id()). */
struct mmn_scenario {
	const char *id;      /**< "S1" ... "S9", or a user scenario's id */
	const char *seed;    /**< "000" ... "004", "users"; a user scenario's own or "user" */
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
	/** Its definition: parameters, variants, hooks (run it with
	 *  mmn_scenario_run() by id). */
	const struct mmn_scenario_def *def;
};

/**
 * mmn_scenario_count() - number of registered scenarios: S1-S9, then the
 * ones registered with mmn_scenario_register(). Lock-free; may be called
 * from any thread while others register.
 */
MMN_API int mmn_scenario_count(void);

/**
 * mmn_scenario_at() - the @p idx-th registered scenario: S1..S9 in id
 * order, then user scenarios in registration order; NULL out of range.
 * An index, once valid, names the same scenario for the life of the
 * process (the registry only grows).
 */
MMN_API const struct mmn_scenario *mmn_scenario_at(int idx);

/** mmn_scenario_by_id() - the registered scenario named @p id ("S4",
 *  a user's id); NULL if unknown. */
MMN_API const struct mmn_scenario *mmn_scenario_by_id(const char *id);

/**
 * mmn_scenario_run() - run scenario @p id with @p p (NULL: defaults).
 * @param id   the scenario's id
 * @param p    the parameters, or NULL
 * @param out  receives the observations
 * @return 0, -EINVAL for NULL @p id or @p out, a mode out of range,
 *         iterations above MMN_SCENARIO_MAX_ITERATIONS, a bad argument or
 *         variant name (mmn_scenario_params::args,
 *         mmn_scenario_params::variant_name) or parameters the scenario
 *         refuses, -ENOENT for an unknown id,
 *         -EOPNOTSUPP for a mode the scenario has no body for, or the
 *         scenario's own error (-ENOMEM, ...). A violation is an
 *         observation, not an error. On error @p out is zeroed.
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

/* ------------------------------------------------------------------ */
/* Defining a scenario                                                 */
/* ------------------------------------------------------------------ */

/** Type of a scenario parameter. */
enum mmn_scenario_param_type {
	/** A signed integer (decimal, or 0x hexadecimal), in [min, max]. */
	MMN_SCENARIO_PARAM_INT = 0,
	/** "true"/"false" or "1"/"0"; its value is 1 or 0 (min and max unused). */
	MMN_SCENARIO_PARAM_BOOL,
};

/** One typed parameter of a scenario (a knob of its own, given as "name=value"). */
struct mmn_scenario_param {
	const char *name;                  /**< [a-z0-9_], 1 to MMN_SCENARIO_NAME_MAX bytes */
	const char *help;                  /**< one line; may be NULL */
	enum mmn_scenario_param_type type; /**< its type */
	int64_t def;                       /**< its default (within [min, max]) */
	int64_t min;                       /**< smallest value accepted (INT) */
	int64_t max;                       /**< largest value accepted (INT) */
};

/** One variant of a scenario: a named setting. */
struct mmn_scenario_variant {
	const char *name;  /**< "right", "wrong", "valid_flag": as for parameter names */
	const char *help;  /**< one line; may be NULL */
	/** Whether it is a setting whose bug the scenario shows (the judgement
	 *  counts only found_kinds then). */
	bool wrong;
	/** mmn_scenario_params::variant when this variant is chosen by name
	 *  (-1: the scenario's own choice for @c wrong). */
	int variant;
};

/**
 * The definition of a scenario: what it claims, its parameters and
 * variants, and the hooks the library's runner calls. The runner does, for
 * one run (mmn_scenario_run(), mmn_scenario_run_def(), and every schedule
 * of an exploration):
 *
 *     resolve variant_name, parse args into values[] (defaults filled in),
 *     check the mode, @c validate                    (all before any effect)
 *     zero the result
 *     @c run, when set (a scenario that builds several simulations); else:
 *       a zeroed context of @c ctx_size bytes
 *       @c configure (cfg from mmn_sim_config_init()), then the simulation
 *         from mmn_scenario_sim_create()
 *       @c setup
 *       the mode's body: @c interleaved, @c native, or for EXPLORE
 *         @c explore or, when it is NULL, @c actors run as one schedule
 *         (mmn_scenario_sched_run(); result.runs = 1)
 *       @c judge (NULL: mmn_scenario_judge()), mmn_scenario_finish()
 *       @c teardown, then the simulation is destroyed
 *     on error, zero the result again
 *
 * Hooks get the parameters with the variant resolved (never NULL: the
 * defaults stand in) and the parsed parameter values in the order of
 * @c params (values[i] for params[i]). Every hook may be NULL unless said.
 * The definition and everything it points to must stay valid and unchanged
 * for the life of the process once registered (static storage), and during
 * the call for the *_def() functions.
 */
struct mmn_scenario_def {
	/** Unique id: [A-Za-z0-9_.-], 1 to MMN_SCENARIO_NAME_MAX bytes. Required. */
	const char *id;
	/** Where it comes from ("000"... for the seeds); NULL: "user". */
	const char *seed;
	/** One line. Required. */
	const char *title;
	/** What it must show; NULL: "". */
	const char *claim;
	/** The definition's own data, for its hooks (they read it as
	 *  p->def->user): a parsed scenario file, say. NULL: none. */
	const void *user;
	/** The violation kinds that count under a wrong variant, as a mask of
	 *  (1u << enum mmn_violation_kind); 0: every kind (a scenario whose
	 *  claim is about counts). Under a right variant every kind counts. */
	unsigned int found_kinds;
	/** Its parameters (at most MMN_SCENARIO_MAX_PARAMS, unique names). */
	const struct mmn_scenario_param *params;
	int nr_params;                 /**< entries of @c params */
	/** Its variants (at most MMN_SCENARIO_MAX_VARIANTS, unique names, at
	 *  least one right and one wrong); NULL with 0: "right" (wrong false,
	 *  variant -1) and "wrong" (true, -1). */
	const struct mmn_scenario_variant *variants;
	int nr_variants;               /**< entries of @c variants */

	/** Refuse parameters only the scenario can judge: -EINVAL, no side effect. */
	int (*validate)(const struct mmn_scenario_params *p, const int64_t *values);
	/** The whole run, for a scenario that builds several simulations
	 *  (then the hooks below are not called). */
	int (*run)(const struct mmn_scenario_params *p, const int64_t *values,
		   struct mmn_scenario_result *out);

	/** Size of the per-run context handed to the hooks below (0: 1 byte). */
	size_t ctx_size;
	/** Maps hugetlb memory: keep the huge-page pool in EXPLORE mode. */
	bool hugetlb;
	/** Fill the context and @p cfg (sizes, profile, CPUs), and the
	 *  scenario's own knobs @p own ("name=value", NULL-terminated, at most
	 *  MMN_SCENARIO_MAX_KNOBS, all NULL on entry), applied before
	 *  mmn_scenario_params::knobs. */
	int (*configure)(void *ctx, const struct mmn_scenario_params *p, const int64_t *values,
			 struct mmn_sim_config *cfg, const char **own);
	/** Mappings, listeners, a prologue run alone (pages written...). */
	int (*setup)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		     struct mmn_scenario_result *out);
	/** MMN_SCENARIO_INTERLEAVED body (NULL: the mode is -EOPNOTSUPP). */
	int (*interleaved)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
			   struct mmn_scenario_result *out);
	/** MMN_SCENARIO_NATIVE body (NULL: the mode is -EOPNOTSUPP). */
	int (*native)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out);
	/** MMN_SCENARIO_EXPLORE body with full control: runs its actors through
	 *  mmn_scenario_sched_run() and sets out->runs. */
	int (*explore)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		       struct mmn_scenario_result *out);
	/** MMN_SCENARIO_EXPLORE, the short way (when @c explore is NULL): actor
	 *  0 of the schedule, called with the context; it spawns the actors
	 *  (mmn_actor_spawn()) and may join them. */
	void (*actors)(struct mmn_sim *sim, void *ctx);
	/** After a successful body: fill the judgement of @p out (violations
	 *  by kind, counters, claim_holds, profile, setting, note). NULL:
	 *  mmn_scenario_judge(). */
	void (*judge)(void *ctx, struct mmn_sim *sim, const struct mmn_scenario_params *p,
		      struct mmn_scenario_result *out);
	/** Release what @c configure and @c setup made (not the simulation),
	 *  also after an error @p err; return @p err or its own (-EBUSY). */
	int (*teardown)(void *ctx, int err);
};

/**
 * mmn_scenario_register() - add @p def to the process-wide registry, after
 * S1-S9 and the scenarios registered before it. From then on every function
 * that takes a scenario id takes @p def->id (mmn_scenario_run(),
 * mmn_scenario_explore(), mmn_scenario_shrink(), the list functions, the
 * CLI's commands).
 *
 * The registry is process-wide by nature (a plugin registry, like a
 * module's list of drivers): it is append-only (a scenario cannot be
 * unregistered, so a pointer or index handed out stays valid) and
 * lock-free (C11 atomics: a compare-and-swap on the tail link), so
 * registering, listing and running may happen concurrently from any
 * threads; of two concurrent registrations of one id exactly one succeeds.
 * S1-S9 are registered through this function too, on the first use of the
 * registry.
 *
 * @param def  the definition; it and everything it points to must outlive
 *             the process's use of the registry (static storage)
 * @return 0; -EINVAL for NULL or a bad definition (an id, parameter or
 *         variant name that is empty, too long or of other characters, a
 *         missing title, no run hook and no body for any mode, a parameter
 *         whose default is outside [min, max] or of unknown type, a name
 *         given twice, variants without a right and a wrong one, too many
 *         parameters or variants, found_kinds with bits beyond the kinds);
 *         -EEXIST when a scenario of that id is registered (S1-S9
 *         included); -ENOMEM.
 */
MMN_API int mmn_scenario_register(const struct mmn_scenario_def *def);

/**
 * mmn_scenario_run_def() - run @p def once without registering it: the
 * same checks and runner as mmn_scenario_run(), for a one-off definition
 * (a test's or an experiment's own body). Nothing is kept: the id need not
 * be unique, and no other function can name the scenario.
 * @param def  the definition (checked as mmn_scenario_register() checks it)
 * @param p    the parameters, or NULL
 * @param out  receives the observations
 * @return as mmn_scenario_run(); -EINVAL for a bad @p def.
 */
MMN_API int mmn_scenario_run_def(const struct mmn_scenario_def *def,
				 const struct mmn_scenario_params *p,
				 struct mmn_scenario_result *out);

/* ------------------------------------------------------------------ */
/* Listener kinds: listeners a scenario file can name                  */
/* ------------------------------------------------------------------ */

struct mmn_mm;

/** Largest number of variants of a listener kind. */
#define MMN_LISTENER_KIND_MAX_VARIANTS 8
/** Largest number of named counters of a listener kind. */
#define MMN_LISTENER_KIND_MAX_COUNTERS 16

/**
 * A kind of listener (a secondary MMU: a device's page-table mirror, a
 * hypervisor's shadow tables) that a scenario file names in its
 * `listeners:` list (docs/cli.md, "Scenario files"): how to attach one to
 * an mm with one of its variants, how a device reads and writes through it,
 * its counters, and how to detach it. The built-in kvm, iommu and hmm kinds
 * are registered this way by mmnsim itself; a plugin registers its own from
 * its entry point (docs/examples/my_plugin.c).
 *
 * The hooks are called from the actors of a run (create and destroy too:
 * a listener on an mm made by a fork is created right after that fork) and
 * must follow the simulation's rules (sync.h locks only). An instance is
 * used by one simulation at a time.
 */
struct mmn_listener_kind {
	/** Unique name: [a-z0-9_], 1 to MMN_SCENARIO_NAME_MAX bytes. Required. */
	const char *name;
	/** One line; may be NULL. */
	const char *help;
	/** Its variants by name, NULL-terminated, 1 to
	 *  MMN_LISTENER_KIND_MAX_VARIANTS names of [a-z0-9_] (a file's
	 *  `right:` and `wrong:` name them; @c create gets the index; the first
	 *  is the default). Required. */
	const char *const *variants;
	/** Names of its counters, [a-z0-9_], NULL-terminated, at most
	 *  MMN_LISTENER_KIND_MAX_COUNTERS; NULL: none. A file's claim relations
	 *  name them as "listenerI.NAME". */
	const char *const *counters;
	/**
	 * Attach a new listener to @p mm, watching [@p start, @p start +
	 * @p length) (the mappings of that mm in the file, or the listener's
	 * own start and length), with variant @p variant. Required.
	 * @return 0 and *@p out, or a negative errno (the run fails with it).
	 */
	int (*create)(struct mmn_sim *sim, struct mmn_mm *mm, int variant, unsigned long start,
		      unsigned long length, void **out);
	/** Detach and free @p listener: 0, or a negative errno (-EBUSY) that
	 *  becomes the run's error. Required. */
	int (*destroy)(void *listener);
	/** A device load at @p addr through @p listener: 0 or a negative errno
	 *  (an observation: counted as a failed operation). NULL: -EOPNOTSUPP. */
	int (*device_read)(void *listener, unsigned long addr, uint64_t *val);
	/** A device store at @p addr, as @c device_read. NULL: -EOPNOTSUPP. */
	int (*device_write)(void *listener, unsigned long addr, uint64_t val);
	/** Counter @p idx (an index of @c counters) of @p listener into
	 *  *@p val: 0 or a negative errno. Required when @c counters is set. */
	int (*counter)(void *listener, int idx, unsigned long *val);
};

/**
 * mmn_listener_kind_register() - add @p kind to the process-wide registry
 * of listener kinds, append-only and lock-free as the scenario registry
 * (mmn_scenario_register()): a kind cannot be unregistered; of two
 * concurrent registrations of one name exactly one succeeds.
 *
 * @param kind  the kind; it and everything it points to must outlive the
 *              process's use of the registry (static storage)
 * @return 0; -EINVAL for NULL, a name or variant or counter name that is
 *         empty, too long or of other characters, no variant or too many,
 *         too many counters, a name given twice in one list, a missing
 *         create or destroy hook, counters without a counter hook;
 *         -EEXIST when a kind of that name is registered; -ENOMEM.
 */
MMN_API int mmn_listener_kind_register(const struct mmn_listener_kind *kind);

/** mmn_listener_kind_by_name() - the registered kind named @p name, or NULL
 *  (NULL @p name, or unknown). Lock-free. */
MMN_API const struct mmn_listener_kind *mmn_listener_kind_by_name(const char *name);

/** mmn_listener_kind_count() - number of registered listener kinds. */
MMN_API int mmn_listener_kind_count(void);

/** mmn_listener_kind_at() - the @p idx-th registered kind in registration
 *  order; NULL out of range. */
MMN_API const struct mmn_listener_kind *mmn_listener_kind_at(int idx);

/* ------------------------------------------------------------------ */
/* Helpers for a scenario's hooks                                      */
/* ------------------------------------------------------------------ */

/** mmn_scenario_mode_name() - "interleaved", "native" or "explore" (for notes). */
MMN_API const char *mmn_scenario_mode_name(enum mmn_scenario_mode mode);

/**
 * mmn_scenario_sim_create() - create the simulation of a scenario run:
 * @p cfg (the scenario's sizes, profile, backend) gets p->seed (0: 1) and
 * what p->mode needs: in EXPLORE the deterministic backend and, unless
 * @p hugetlb, no huge-page pool (an exploration creates thousands of
 * simulations). Violations are counted silently (the result reports them).
 * Then the scenario's own knobs @p own ("name=value", NULL-terminated, may
 * be NULL) and the caller's p->knobs are applied, in that order.
 * @return 0 and *@p out; -EINVAL for NULL arguments, an unknown profile or
 *         a malformed or refused knob; -ENOMEM.
 */
MMN_API int mmn_scenario_sim_create(struct mmn_sim **out, struct mmn_sim_config *cfg,
				    const struct mmn_scenario_params *p, bool hugetlb,
				    const char *const *own);

/**
 * mmn_scenario_sched_run() - EXPLORE: run @p body(@p sim, @p arg) as actor
 * 0 of the schedule p->sched (NULL: mmn_sched_config_init()'s defaults with
 * p->seed); the outcome goes to out->sched. A deadlock or an exhausted
 * budget is an observation (0), not an error.
 * @return 0, -EINVAL for NULL arguments, or mmn_sched_run()'s error.
 */
MMN_API int mmn_scenario_sched_run(struct mmn_sim *sim, const struct mmn_scenario_params *p,
				   mmn_sched_body_fn body, void *arg,
				   struct mmn_scenario_result *out);

/**
 * mmn_scenario_forward_violation() - hand @p v to @p p->on_violation, if set.
 * mmn_scenario_sim_create() installs a violation handler that does this; a
 * scenario that installs its own (mmn_check_set_handler()) calls this from
 * it so that the caller still sees every violation.
 * @param p    the parameters of the run (NULL: nothing happens)
 * @param sim  the simulation that reported @p v
 * @param v    the violation
 */
MMN_API void mmn_scenario_forward_violation(const struct mmn_scenario_params *p, struct mmn_sim *sim,
					    const struct mmn_violation *v);

/** mmn_scenario_collect_violations() - fill out->by_kind and out->violations
 *  from @p sim's counters (mmn_check_count()). */
MMN_API void mmn_scenario_collect_violations(struct mmn_sim *sim, struct mmn_scenario_result *out);

/**
 * mmn_scenario_judge() - the default judgement (struct mmn_scenario_def's
 * judge left NULL): the quiescent audit (mmn_check_quiescent(), which
 * reports stale translations), the violations by kind, claim_holds (under a
 * wrong variant: a violation of @p found_kinds, or of any kind when 0; under
 * a right one: no violation at all), the profile's name, "wrong"/"right" as
 * the setting and a one-line note.
 */
MMN_API void mmn_scenario_judge(struct mmn_sim *sim, unsigned int found_kinds,
				const struct mmn_scenario_params *p,
				struct mmn_scenario_result *out);

/** mmn_scenario_add_counter() - append a named counter to @p out (@p name
 *  is not copied; ignored past MMN_SCENARIO_MAX_COUNTERS). */
MMN_API void mmn_scenario_add_counter(struct mmn_scenario_result *out, const char *name,
				      unsigned long value);

/**
 * mmn_scenario_finish() - before destroying a simulation whose run
 * succeeded: add its modelled time to @p out and, in EXPLORE mode, hand it
 * to p->inspect. Call it after the judgement is final (the runner does for
 * one-simulation scenarios; a @c run hook calls it itself).
 */
MMN_API void mmn_scenario_finish(struct mmn_sim *sim, const struct mmn_scenario_params *p,
				 struct mmn_scenario_result *out);

/** mmn_scenario_rand() - one xorshift64 step of the state @p s (never 0):
 *  cheap pseudo-random choices for native actors. */
static inline unsigned long mmn_scenario_rand(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return (unsigned long)(*s >> 11);
}

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_SCENARIO_H */
