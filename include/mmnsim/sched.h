/* SPDX-License-Identifier: MIT */
/**
 * @file sched.h
 * @brief Deterministic scheduling and exploration: run a simulation with one
 *        actor at a time, every scheduling point a seeded choice; record,
 *        replay and shrink schedules; enumerate them with preemption
 *        bounding.
 *
 * Only for simulations created with mmn_sim_config::backend =
 * MMN_BACKEND_DETERMINISTIC. A run is started with mmn_sched_run(): its body
 * runs as actor 0 ("main", a user-level context of its own, or a host thread
 * with mmn_sched_config::threads) and may spawn more
 * actors with mmn_actor_spawn(); exactly one actor runs at a time, and at
 * every scheduling point (each primitive of sync.h, PTE reads and writes,
 * TLB fills and flushes, notifier callback entry and exit, mmn_sched_point())
 * the strategy picks which runnable actor runs next. Blocking is virtual:
 * an actor waiting for a held lock, an unfinished SRCU grace period, a
 * completion, a wait queue or another actor's end is not runnable until it
 * is released. A run is a function of (scenario, configuration, seed): it
 * records its choice list, and replaying that list reproduces the run and
 * its trace byte for byte.
 *
 * A "choice point" is a scheduling point (or an actor blocking or ending)
 * at which two or more actors are runnable; only choice points enter the
 * choice list. Each entry is the run-local index of the actor chosen
 * (0 = main, then spawned actors in spawn order; an SRCU callback helper
 * actor, "srcu_cb", takes the next index when the run first needs it).
 *
 * See docs/exploration.md for the mechanism, the strategies' guarantees and
 * how to read a trace.
 */
#ifndef MMNSIM_SCHED_H
#define MMNSIM_SCHED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include <mmnsim/export.h>
#include <mmnsim/sync.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;

/** How the next actor is chosen at a choice point. */
enum mmn_sched_strategy {
	/** Uniformly at random among the runnable actors (seeded). */
	MMN_STRATEGY_RANDOM = 0,
	/**
	 * PCT (Burckhardt et al., ASPLOS 2010): each actor gets a random
	 * priority when it is spawned; the highest-priority runnable actor
	 * runs; at d-1 random steps in [1, k] the running actor's priority
	 * drops below every initial one. Finds a bug of depth d with
	 * probability at least 1/(n * k^(d-1)) per run (n actors, k steps).
	 */
	MMN_STRATEGY_PCT,
	/**
	 * Follow mmn_sched_config::replay: the i-th choice point picks
	 * replay[i] if that actor is runnable; past the list's end, or when the
	 * listed actor is not runnable, the default applies: the current actor
	 * goes on if it can, else the runnable actor of lowest index (no
	 * preemption). The explorer and shrinking are built on it.
	 */
	MMN_STRATEGY_REPLAY,
};

/** Why a run ended. */
enum mmn_sched_outcome {
	/** Every actor ended (the SRCU helper idle, its queue empty). */
	MMN_OUTCOME_OK = 0,
	/** No runnable actor while some were blocked: reported as
	 *  MMN_VIOL_DEADLOCK with the wait-for cycle. */
	MMN_OUTCOME_DEADLOCK,
	/** mmn_sched_config::max_steps scheduling points passed: a livelock,
	 *  starvation or just a long run. The actors then ran on in turn (no
	 *  more choices) until they ended, so the simulation is left whole;
	 *  only a livelock still running max(max_steps, 10000) points later
	 *  was unwound (mmn_sched_result::unwound). Not a violation, and an
	 *  exploration never judges such a schedule violating. */
	MMN_OUTCOME_BUDGET,
};

/** Largest PCT bug depth mmn_sched_run() accepts. */
#define MMN_SCHED_PCT_MAX_DEPTH 32

/**
 * mmn_sched_yield() - mark a retry: pass a scheduling point that says "I
 * cannot make progress until another actor does" (a retry loop waiting for
 * an invalidation in progress to end, a spin on a flag).
 *
 * It is a normal scheduling point: counted in the steps, a choice when
 * another actor is runnable, in the choice list, replayed, traced with the
 * kind "yield" and @p why as the object's name; a hook installed with
 * mmn_sched_set_hook() sees it as MMN_SCHED_EXPLICIT. What differs is PCT:
 * the caller's priority drops below every other actor's (initial, lowered at
 * a change point, or yielded before), as the PCT literature treats yields,
 * so the actor it waits for runs; without it the highest-priority spinner
 * would run until the step budget, starving the actor it waits for. The
 * random walk and replay treat it as any other point (a replayed schedule
 * is the same schedule). Under the native backend, or outside a run, it is
 * mmn_sched_point(@p sim, MMN_SCHED_EXPLICIT, @p obj, @p why, 0).
 * @param sim  the simulation (NULL: no-op)
 * @param obj  the object waited for (its identity names it in the trace), or NULL
 * @param why  a short label ("retry", "read_retry"), or NULL
 */
MMN_API void mmn_sched_yield(struct mmn_sim *sim, const void *obj, const char *why);

/** Configuration of one run. Fill with mmn_sched_config_init(). */
struct mmn_sched_config {
	/** Strategy. Default MMN_STRATEGY_RANDOM. */
	enum mmn_sched_strategy strategy;
	/** Seed of the random and PCT strategies. Default 1. */
	uint64_t seed;
	/** PCT bug depth d, 1..MMN_SCHED_PCT_MAX_DEPTH (d-1 priority change
	 *  points). Default 2. Out of range with MMN_STRATEGY_PCT, mmn_sched_run()
	 *  refuses the run (-EINVAL); the other strategies ignore it. */
	unsigned int pct_depth;
	/** PCT estimate k of the steps (scheduling points) of a run; the change
	 *  points are drawn in [1, k]. Default 1000. */
	unsigned long pct_steps;
	/** Step budget: the strategy chooses at this many scheduling points at
	 *  most; past it the run is drained (MMN_OUTCOME_BUDGET). Default
	 *  100000. */
	unsigned long max_steps;
	/** Choice list for MMN_STRATEGY_REPLAY (copied when the run starts). */
	const uint32_t *replay;
	/** Entries of @c replay. */
	size_t replay_len;
	/** Record the text trace (one line per scheduling point). Default true. */
	bool trace;
	/** Host threads to run the actors on, reused from run to run
	 *  (mmn_sched_pool_create()); NULL (the default): a new thread per
	 *  actor. Does not change the schedule or the trace. With user-level
	 *  actors (@c threads false) the pool keeps their stacks instead. */
	struct mmn_sched_pool *pool;
	/** The mechanism that runs the actors (docs/exploration.md). false (the
	 *  default): each actor is a user-level context on the calling thread,
	 *  switched in user space. true: each actor is a host thread (or a
	 *  thread of @c pool) and the token is handed over through a mutex and
	 *  condition variables. mmn_sched_config_init() sets it when the
	 *  environment variable MMN_SCHED_MECHANISM is "threads". Does not change
	 *  the schedule or the trace. */
	bool threads;
	/** Stack of a user-level actor in bytes, a guard page below it; 0 (the
	 *  default): 256 KiB, or MMN_SCHED_STACK_KIB KiB from the environment at
	 *  mmn_sched_config_init(). mmn_sched_run() refuses a size below 16 KiB
	 *  or above 1 GiB (-EINVAL). */
	size_t stack_size;
	/** Record what each step of the run touches, for dynamic partial-order
	 *  reduction (mmn_sched_dpor_create() sets it in the configurations it
	 *  hands out). Default false: no record, no cost beyond one test per
	 *  scheduling decision. Does not change the schedule or the trace. */
	bool record_access;
};

/** mmn_sched_access() mode: the step reads the object. */
#define MMN_SCHED_ACCESS_READ 0u
/** mmn_sched_access() mode: the step writes the object. */
#define MMN_SCHED_ACCESS_WRITE 1u

/**
 * mmn_sched_access() - declare that the current step of the calling actor
 * (the code it runs from its last scheduling point to its next) touches
 * @p obj: what dynamic partial-order reduction (mmn_sched_dpor_create(),
 * docs/exploration.md "DPOR") needs to know about state the library cannot
 * see, such as a user listener's own fields or a litmus program's
 * variables. Two steps of different actors are dependent when both
 * declare the same object and one of them writes it; a step that begins at
 * an explicit point (mmn_sched_point() with MMN_SCHED_EXPLICIT,
 * mmn_sched_yield()) counts as touching everything unless it declares what
 * it touches. Not a scheduling point: it changes no schedule and no trace.
 * A no-op unless the run records accesses (mmn_sched_config::record_access)
 * and the caller is its current actor; under the native backend it costs
 * one test.
 * @param sim   the simulation (NULL: no-op)
 * @param obj   the object (its address is its identity); NULL: the step is
 *              dependent with every step
 * @param mode  MMN_SCHED_ACCESS_READ or MMN_SCHED_ACCESS_WRITE (other bits
 *              ignored)
 */
MMN_API void mmn_sched_access(struct mmn_sim *sim, const void *obj, unsigned int mode);

/**
 * A set of parked host threads that runs the actors of deterministic runs
 * on the thread mechanism (mmn_sched_config::threads), so that a run need
 * not create and join a thread per actor (the dominant cost of a short
 * schedule there; docs/exploration.md); with user-level actors it keeps
 * their stacks from run to run instead. Opaque.
 */
struct mmn_sched_pool;

/**
 * mmn_sched_pool_create() - an empty pool; threads are created as runs need
 * them and parked when their actor ends.
 * @return the pool, or NULL when the host is out of memory.
 */
MMN_API struct mmn_sched_pool *mmn_sched_pool_create(void);

/**
 * mmn_sched_pool_destroy() - end and join the pool's threads and free it
 * (NULL: no-op). No run may be using it.
 * @param pool  the pool
 */
MMN_API void mmn_sched_pool_destroy(struct mmn_sched_pool *pool);

/**
 * mmn_sched_pool_threads() - host threads the pool has created so far
 * (the most actors that ran at once in one of its runs).
 * @param pool  the pool (NULL: 0)
 * @return the count.
 */
MMN_API unsigned int mmn_sched_pool_threads(const struct mmn_sched_pool *pool);

/** Result of one run. */
struct mmn_sched_result {
	enum mmn_sched_outcome outcome; /**< why it ended */
	unsigned long steps;            /**< scheduling points passed */
	unsigned long choices;          /**< choice points (entries of the choice list) */
	unsigned long preemptions;      /**< choices that switched away from a runnable actor */
	unsigned long violations;       /**< violations reported during the run, any kind */
	unsigned long replay_misses;    /**< REPLAY: entries that named a non-runnable actor */
	unsigned int actors;            /**< actors that took part (main and helpers included) */
	unsigned int unwound;           /**< actors unwound at the end (blocked, or runnable at
					 *   budget exhaustion) */
};

/** mmn_sched_config_init() - fill @p cfg with the documented defaults. */
MMN_API void mmn_sched_config_init(struct mmn_sched_config *cfg);

/**
 * Body of a run: it runs as actor 0 ("main") and may spawn actors.
 * @param sim  the simulation
 * @param arg  the argument given to mmn_sched_run()
 */
typedef void (*mmn_sched_body_fn)(struct mmn_sim *sim, void *arg);

/**
 * mmn_sched_run() - run @p body(@p sim, @p arg) under the deterministic
 * scheduler until every actor has ended or a deadlock; past the step
 * budget the actors run on in turn to their end (MMN_OUTCOME_BUDGET).
 * @param sim   a simulation of the deterministic backend
 * @param cfg   strategy, seed, budget (NULL: the defaults)
 * @param body  actor 0's body
 * @param arg   its argument
 * @param res   receives the result (may be NULL)
 * @return 0 when the run took place (whatever its outcome), -EINVAL for NULL
 *         @p sim / @p body, a native simulation, a strategy out of range, a
 *         replay without a list or a PCT depth outside
 *         [1, MMN_SCHED_PCT_MAX_DEPTH] (it was clamped silently before)
 *         or a stack_size outside [16 KiB, 1 GiB], -EBUSY when called from
 *         inside a run, -EAGAIN/-ENOMEM when the host cannot create a
 *         thread or map a stack.
 *
 * The calling thread is the controller: it does not run in the schedule and
 * waits until the run ends (with user-level actors, the actors run on it
 * while it waits). Actors still blocked at a deadlock, and every
 * actor of a livelock that outlives the drain past its budget, are then
 * unwound: their wait returns into their start routine (longjmp), the locks,
 * rwsems and SRCU read sections they hold are released, and their threads
 * are joined; invalidations they had started are closed (the interval
 * sequence leaves its odd period, deferred inserts and removes are applied)
 * so that tear-down can remove and free everything, and
 * mmn_check_quiescent() calls the simulation void (-ESTALE) until the next
 * run. Host memory they allocated in the interrupted operation is not
 * freed. Actor handles of a
 * run are invalid once it returns; actors not joined by the body are joined
 * here. Spawning outside a run is refused.
 *
 * Outside a run, the simulation's primitives run for the calling thread
 * alone: scheduling points do nothing, and a wait that nobody could end
 * (a lock held by someone else) is reported as MMN_VIOL_DEADLOCK and
 * skipped.
 */
MMN_API int mmn_sched_run(struct mmn_sim *sim, const struct mmn_sched_config *cfg,
			  mmn_sched_body_fn body, void *arg, struct mmn_sched_result *res);

/**
 * mmn_sched_choices() - the choice list of the last run of @p sim.
 * @param sim  the simulation
 * @param out  receives up to @p max entries (may be NULL with @p max 0)
 * @param max  room in @p out
 * @return the list's full length (entries beyond @p max are not copied);
 *         0 for NULL or before any run.
 */
MMN_API size_t mmn_sched_choices(const struct mmn_sim *sim, uint32_t *out, size_t max);

/**
 * mmn_sched_trace() - the trace of the last run of @p sim (with
 * mmn_sched_config::trace on): one line per scheduling point, plus lines
 * for spawns, blocks, wake-ups, ends and the outcome. It contains no host
 * pointer or time, so two runs with the same choices give the same bytes.
 * @param sim  the simulation
 * @param len  receives its length in bytes (may be NULL)
 * @return the NUL-terminated text, owned by @p sim, valid until its next
 *         run or its destruction; "" before any run and for a NULL @p sim.
 *
 * Line format ("step actor kind object address -> next mark"):
 * @code
 *      2 t1       explicit         between 0x0 -> t2 !
 *      3 t2       lock             lock_B#3 0x0 -> t2 *
 *      5 t2       block            lock_A#2 0x0 -> t1
 * @endcode
 * "#3" numbers objects by first appearance in the run (objects without a
 * name show as "-#N"); "*" marks a choice point, "!" a choice that preempted
 * an actor which could have gone on. Lines without "->" are events (spawn,
 * wake, violation, deadlock, unwound, budget, outcome; begin and end of a
 * modelled kernel function, pte_clear, free, access: see
 * mmn_sched_span_begin()); the actor "(ctl)" is the controller
 * (mmn_sched_run()'s caller). A violation line carries the address, frame
 * and generations of the report and, for a use of a freed frame, the step
 * that freed it ("; cause: step S ACTOR freed pfn N gen G").
 */
MMN_API const char *mmn_sched_trace(const struct mmn_sim *sim, size_t *len);

/**
 * mmn_sched_trace_chrome() - write a trace of mmn_sched_trace()'s format as
 * Chrome trace-event JSON (viewable in Perfetto, chrome://tracing or the
 * DevTools performance panel). One track per actor with its operations as
 * nested slices ("B"/"E" from the begin/end lines: munmap, try_to_unmap,
 * invalidate_range_start/end, the CPU and secondary flushes); a second
 * track per actor ("ACTOR locks") with a slice per lock held, from its
 * lock point to its unlock point; instant events for the scheduling points
 * and the other events; short slices for frees, device accesses and
 * violations, with a flow arrow ("s"/"f") from the free of a frame to each
 * violation that names it as its cause. ts is in microseconds: step N is
 * at N µs and the lines within one step are 1 ns apart, in trace order
 * (displayTimeUnit "ns"), so no two slices of a track start together.
 * @param trace  the text (NUL-terminated)
 * @param out    where to write
 * @return 0, -EINVAL for NULL arguments or a line that is not of the
 *         format (mmn_sched_trace_parse_line()), -EIO when writing fails.
 *         On -EINVAL the output stops after the events before the bad line
 *         and is closed ("]}"), still valid JSON.
 */
MMN_API int mmn_sched_trace_chrome(const char *trace, FILE *out);

/** One line of a trace of mmn_sched_trace()'s format, parsed. */
struct mmn_sched_trace_line {
	unsigned long step;     /**< the first column */
	char actor[64];         /**< the actor ("(ctl)": the controller) */
	char kind[64];          /**< the point's or event's kind */
	bool point;             /**< a scheduling point ("... -> NEXT") */
	char object[192];       /**< point: the object label ("ptl#6", "kvm vcpu tlb#2") */
	unsigned long addr;     /**< point: the address */
	char next[64];          /**< point: the actor that runs next */
	char mark;              /**< point: '*' a choice, '!' a preemption, else 0 */
	char text[512];         /**< event: the rest of the line (truncated to fit) */
};

/**
 * mmn_sched_trace_parse_line() - parse one line (without its newline) of a
 * trace of mmn_sched_trace()'s format.
 * @param line  the line (need not be NUL-terminated)
 * @param len   its length in bytes
 * @param out   receives the fields
 * @return 1 for a point or event, 0 for a blank line, -EINVAL for NULL
 *         arguments or a line not of the format (a step that is not decimal
 *         digits fitting an unsigned long, a point's address that is not
 *         "0x" and 1 to 16 hexadecimal digits, a missing or over-long actor
 *         or kind).
 */
MMN_API int mmn_sched_trace_parse_line(const char *line, size_t len,
				       struct mmn_sched_trace_line *out);

/**
 * mmn_sched_span_begin() - mark in the trace that the current actor enters
 * the modelled kernel function @p name (munmap, try_to_unmap,
 * invalidate_range_start, flush_tlb_range, ...) on [@p start, @p end).
 * Writes the event line "STEP ACTOR begin NAME [START,END) DETAIL" (the step
 * of the actor's last scheduling point); it is not a scheduling point and
 * changes no schedule or choice list. A no-op unless a deterministic run
 * with mmn_sched_config::trace is in progress and the caller is its current
 * actor (under the native backend, or with tracing off, it costs one test).
 * Every begin is matched by mmn_sched_span_end() with the same @p name in
 * the same actor; spans nest.
 * @param sim     the simulation (NULL: no-op)
 * @param name    the kernel function (a string literal: not copied beyond
 *                the call), NULL: no-op
 * @param start   first address of the range (with @p end == 0: no range)
 * @param end     end of the range, exclusive
 * @param detail  what else the line shows ("event=unmap"), or NULL
 */
MMN_API void mmn_sched_span_begin(struct mmn_sim *sim, const char *name, unsigned long start,
				  unsigned long end, const char *detail);

/**
 * mmn_sched_span_end() - the current actor leaves @p name (the event line
 * "STEP ACTOR end NAME"). Same conditions as mmn_sched_span_begin().
 * @param sim   the simulation (NULL: no-op)
 * @param name  the name given to the matching mmn_sched_span_begin()
 */
MMN_API void mmn_sched_span_end(struct mmn_sim *sim, const char *name);

/**
 * mmn_sched_event() - an event line "STEP ACTOR KIND TEXT" of the current
 * actor (a PTE cleared: kind "pte_clear", a device access: "access").
 * Not a scheduling point; same conditions as mmn_sched_span_begin().
 * @param sim   the simulation (NULL: no-op)
 * @param kind  one word, at most 16 characters
 * @param fmt   printf format of the text (one line, no newline)
 */
MMN_API void mmn_sched_event(struct mmn_sim *sim, const char *kind, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/**
 * mmn_sched_note_free() - the event line "STEP ACTOR free pfn N gen G": the
 * frame @p pfn whose generation was @p gen is freed (its generation moves
 * on). The trace remembers the step, so that a later use-after-free or
 * stale-translation violation of that frame names it as the cause
 * ("freed at step S by ACTOR"). Same conditions as mmn_sched_span_begin().
 * @param sim  the simulation (NULL: no-op)
 * @param pfn  the frame
 * @param gen  its generation before the free (the one stale users hold)
 */
MMN_API void mmn_sched_note_free(struct mmn_sim *sim, unsigned long pfn, uint32_t gen);

/** Room for an actor's or an object's name in mmn_sched_preemption. */
#define MMN_SCHED_NAME_MAX 32

/** One preemption of a run: a choice that switched away from an actor that
 *  could have gone on. */
struct mmn_sched_preemption {
	unsigned long step;          /**< the point's step (the trace's first column) */
	size_t choice;               /**< its index in the choice list */
	unsigned int from;           /**< run-local index of the actor preempted */
	unsigned int to;             /**< run-local index of the actor that ran instead */
	char from_name[MMN_SCHED_NAME_MAX]; /**< the actor preempted ("munmap") */
	char to_name[MMN_SCHED_NAME_MAX];   /**< the actor that ran instead ("gpu") */
	enum mmn_sched_kind kind;    /**< the point where it was preempted */
	bool yield;                  /**< the point was mmn_sched_yield() */
	/** The name the point gave its object ("mmap_lock"), "" if none (PTE
	 *  points give none; their address says where). */
	char label[MMN_SCHED_NAME_MAX];
	unsigned long addr;          /**< the point's address, 0 if none */
};

/**
 * mmn_sched_preemptions() - the preemptions of the last run of @p sim, in
 * order: what a shrunk schedule still needs, in a form a person can read
 * (mmn_sched_preemption_format()).
 * @param sim  the simulation (NULL: 0)
 * @param out  receives up to @p max records (may be NULL with @p max 0)
 * @param max  room in @p out
 * @return the number of preemptions of the run (mmn_sched_result::preemptions,
 *         unless the host ran out of memory for the records); records
 *         beyond @p max are not copied. 0 before any run.
 */
MMN_API size_t mmn_sched_preemptions(const struct mmn_sim *sim, struct mmn_sched_preemption *out,
				     size_t max);

/**
 * mmn_sched_preemption_format() - one line for @p p, without a newline:
 * "munmap -> gpu at step 576, at pte_write 0x40000000" or "... at lock
 * mmap_lock" (the label when there is one, then the address when not 0;
 * "yield" for a yield).
 * @param p    the record
 * @param buf  receives the NUL-terminated text (cut to fit)
 * @param len  room in @p buf
 * @return the length of the whole text (as snprintf()), -EINVAL for NULL
 *         @p p or @p buf or a zero @p len.
 */
MMN_API int mmn_sched_preemption_format(const struct mmn_sched_preemption *p, char *buf,
					size_t len);

/* ------------------------------------------------------------------ */
/* Shrinking                                                           */
/* ------------------------------------------------------------------ */

/**
 * Predicate of mmn_sched_shrink(): replay @p choices (a fresh simulation,
 * MMN_STRATEGY_REPLAY) and say whether the violation still shows.
 */
typedef bool (*mmn_sched_check_fn)(const uint32_t *choices, size_t n, void *ctx);

/**
 * mmn_sched_shrink() - delta-debug a choice list that shows a violation into
 * a shorter one that still does: first the empty list (the non-preemptive
 * default schedule), then removal of ever smaller chunks (ddmin, down to
 * single entries). Entries past a list's end follow the replay default, so
 * a shorter list is a schedule with fewer forced decisions.
 * @param choices    the list that fails
 * @param n          its length
 * @param out        receives the shrunk list (room for @p n entries)
 * @param check      the predicate (the caller's replay)
 * @param ctx        passed to @p check
 * @param max_tries  most predicate calls to make (0: 1000)
 * @return the length of the list in @p out, never more than @p n (when
 *         nothing shorter fails, @p out is a copy of @p choices); -EINVAL
 *         for NULL arguments.
 */
MMN_API long mmn_sched_shrink(const uint32_t *choices, size_t n, uint32_t *out,
			      mmn_sched_check_fn check, void *ctx, unsigned long max_tries);

/** State of mmn_sched_shrink_preemptions(), handed to its replay function; opaque. */
struct mmn_sched_shrinker;

/**
 * Replay function of mmn_sched_shrink_preemptions(): replay @p choices
 * (a fresh simulation, MMN_STRATEGY_REPLAY), call
 * mmn_sched_shrinker_record(@p sh, sim) after mmn_sched_run() and before
 * destroying the simulation, and say whether the violation still shows.
 * A run not recorded counts as not violating.
 */
typedef bool (*mmn_sched_replay_fn)(struct mmn_sched_shrinker *sh, const uint32_t *choices,
				    size_t n, void *ctx);

/**
 * mmn_sched_shrinker_record() - learn the choice points of the replay just
 * made on @p sim (what it chose, who could have gone on, who was runnable).
 * @return 0, -EINVAL for NULL or a native simulation, -ENOMEM.
 */
MMN_API int mmn_sched_shrinker_record(struct mmn_sched_shrinker *sh, const struct mmn_sim *sim);

/**
 * mmn_sched_shrink_preemptions() - shrink a choice list that shows a
 * violation into one a person can read: fewest preemptions first, then
 * shortest. The empty list (the non-preemptive default) is tried first;
 * then, on the record of the list's own replay, each preemption, last
 * first, is made to continue the current actor (with the rest of the list
 * dropped, else kept) and kept so when the replay still violates with fewer
 * preemptions; then every other entry that differs from the replay default
 * (a choice after a block or an end) is tried as the default; then the list
 * is cut after its last entry that differs from the default (the same
 * schedule) and ddmin (mmn_sched_shrink()) shortens it further without
 * adding preemptions. The preemptions that remain are those the violation
 * needs as far as single removals can tell: replay the result and read them
 * with mmn_sched_preemptions().
 * @param choices    the list that fails
 * @param n          its length
 * @param out        receives the shrunk list (room for @p n entries)
 * @param fn         the replay (see mmn_sched_replay_fn)
 * @param ctx        passed to @p fn
 * @param max_tries  most replays to make (0: 1000)
 * @return the length of the list in @p out, never more than @p n (a copy of
 *         @p choices when its own replay does not violate); -EINVAL for
 *         NULL arguments.
 */
MMN_API long mmn_sched_shrink_preemptions(const uint32_t *choices, size_t n, uint32_t *out,
					  mmn_sched_replay_fn fn, void *ctx,
					  unsigned long max_tries);

/* ------------------------------------------------------------------ */
/* Exhaustive exploration (stateless, DFS, preemption bounded)         */
/* ------------------------------------------------------------------ */

/** An exploration in progress; opaque. */
struct mmn_sched_explorer;

/**
 * mmn_sched_explorer_create() - start a depth-first enumeration of the
 * schedules of a scenario with at most @p preemption_bound preemptions (a
 * switch away from an actor that could have gone on; CHESS's bound). Each
 * schedule is a REPLAY run of a prefix followed by the non-preemptive
 * default. Actors of the scenario must be fewer than 64.
 * @param preemption_bound  most preemptions per schedule (UINT_MAX: none)
 * @return the explorer, or NULL when the host is out of memory.
 */
MMN_API struct mmn_sched_explorer *mmn_sched_explorer_create(unsigned int preemption_bound);

/**
 * mmn_sched_dpor_create() - start a search by dynamic partial-order
 * reduction: source-set DPOR with sleep sets (Abdulla et al., POPL 2014),
 * which runs one schedule per Mazurkiewicz trace (equivalence class of
 * schedules that order every pair of dependent steps alike) instead of
 * every schedule. Steps are related as docs/exploration.md ("DPOR") says;
 * user code declares what the library cannot see with mmn_sched_access().
 * Used like mmn_sched_explorer_create()'s explorer (mmn_sched_explorer_next(),
 * mmn_sched_explorer_record(), mmn_sched_explore()); the configurations it
 * hands out set mmn_sched_config::record_access. A run that would repeat an
 * explored class is made (the explorer learns only afterwards) but not
 * counted: mmn_sched_explorer_last() says which runs were new classes.
 * @param preemption_bound  most preemptions of a schedule; UINT_MAX: none.
 *        A search that left out a schedule for the bound (or whose run ran
 *        out of its step budget) ends bounded, not complete
 *        (mmn_sched_explorer_bounded()).
 * @return the explorer, or NULL when the host is out of memory.
 */
MMN_API struct mmn_sched_explorer *mmn_sched_dpor_create(unsigned int preemption_bound);

/**
 * mmn_sched_explorer_shard() - make @p x one shard of a sharded search:
 * the subtree of schedules under each list of the first @p depth choices
 * belongs to shard (hash of that list) % @p shards, and @p x counts only
 * the schedules of subtrees of shard @p shard. It still runs one schedule
 * of a foreign subtree where it needs to learn the top of the tree (not
 * counted). The shards together count exactly the schedules (classes, for
 * DPOR) of the unsharded search with the same @p depth; with DPOR the top
 * @p depth choice points are explored exhaustively (with sleep sets), so the
 * classes are the same as the unsharded search's, each counted once.
 * Call before the first mmn_sched_explorer_next().
 * @param x       the explorer
 * @param shard   this shard, < @p shards
 * @param shards  number of shards (1: no sharding)
 * @param depth   choice points of the prefix that names a subtree (>= 1
 *                when @p shards > 1)
 * @return 0, or -EINVAL for NULL @p x, a bad shard or depth, or an explorer
 *         already started.
 */
MMN_API int mmn_sched_explorer_shard(struct mmn_sched_explorer *x, unsigned int shard,
				     unsigned int shards, unsigned int depth);

/**
 * mmn_sched_explorer_last() - whether the run last recorded by @p x was a
 * schedule of this search: for the depth-first explorer one of this
 * shard's schedules, for DPOR a new equivalence class of this shard (not
 * a run that repeated a class, nor one of another shard's subtree).
 * @param x   the explorer
 * @param id  receives (may be NULL) the schedule's identity: for DPOR a
 *            hash of its class (the same for every schedule of the class,
 *            in every shard), else a hash of its choice list
 * @return 1 or 0, -EINVAL for NULL @p x.
 */
MMN_API int mmn_sched_explorer_last(const struct mmn_sched_explorer *x, uint64_t *id);

/** mmn_sched_explorer_schedules() - runs that mmn_sched_explorer_last()
 *  counted so far (classes, for DPOR); 0 for NULL. */
MMN_API unsigned long mmn_sched_explorer_schedules(const struct mmn_sched_explorer *x);

/** mmn_sched_explorer_bounded() - whether a DPOR search left out schedules
 *  for its preemption bound or a run's step budget (false for NULL and for
 *  the depth-first explorer, whose bound is its definition). */
MMN_API bool mmn_sched_explorer_bounded(const struct mmn_sched_explorer *x);

/** mmn_sched_explorer_destroy() - free @p x (NULL: no-op). */
MMN_API void mmn_sched_explorer_destroy(struct mmn_sched_explorer *x);

/**
 * mmn_sched_explorer_next() - the configuration of the next schedule to
 * run: @p cfg is set to MMN_STRATEGY_REPLAY of a prefix owned by @p x
 * (valid until the next call); other fields are kept.
 * @return true if there is one, false when the enumeration is complete.
 */
MMN_API bool mmn_sched_explorer_next(struct mmn_sched_explorer *x, struct mmn_sched_config *cfg);

/**
 * mmn_sched_explorer_record() - learn the choice points of the run just made
 * on @p sim with the configuration of mmn_sched_explorer_next(). Call it
 * after mmn_sched_run() and before the next mmn_sched_explorer_next().
 * @return 0, -EINVAL for NULL or a run with 64 or more actors, -ENOMEM.
 */
MMN_API int mmn_sched_explorer_record(struct mmn_sched_explorer *x, const struct mmn_sim *sim);

/** mmn_sched_explorer_count() - schedules handed out so far. */
MMN_API unsigned long mmn_sched_explorer_count(const struct mmn_sched_explorer *x);

/**
 * mmn_sched_explorer_complete() - whether the enumeration of @p x is over:
 * every schedule within the bound has been handed out and its run recorded
 * (mmn_sched_explorer_record()). Exact also when a run limit was reached on
 * the last schedule: it looks for an untried alternative without moving the
 * enumeration on. False when the enumeration ended for another reason (the
 * last run was not recorded, the host ran out of memory).
 * @param x  the explorer (NULL: false)
 * @return true when nothing is left to explore.
 */
MMN_API bool mmn_sched_explorer_complete(const struct mmn_sched_explorer *x);

/**
 * mmn_sched_explorer_stopped() - whether the last mmn_sched_explore() on
 * @p x stopped because its callback returned 1 (a bug was found), rather
 * than at the end of the enumeration or at its run limit. Together with
 * mmn_sched_explorer_complete() it tells the three ends apart.
 * @param x  the explorer (NULL: false)
 * @return true when the callback stopped it.
 */
MMN_API bool mmn_sched_explorer_stopped(const struct mmn_sched_explorer *x);

/**
 * One schedule of mmn_sched_explore(): create a fresh simulation, run the
 * scenario with mmn_sched_run(@p cfg), call mmn_sched_explorer_record(@p x,
 * sim), judge the run, destroy the simulation.
 * @return 0 to go on, 1 to stop (a bug was found), negative errno to abort.
 */
typedef int (*mmn_sched_explore_fn)(struct mmn_sched_explorer *x,
				    const struct mmn_sched_config *cfg, void *ctx);

/**
 * mmn_sched_explore() - run @p fn for every schedule of @p x's enumeration,
 * at most @p max_runs of them (0: no limit), starting from @p base (NULL:
 * defaults; its strategy and replay list are replaced).
 * @return the number of schedules run (the one that stopped it included),
 *         or the negative errno @p fn returned. Why it ended:
 *         mmn_sched_explorer_stopped() (@p fn returned 1: a bug),
 *         mmn_sched_explorer_complete() (every schedule within the bound
 *         ran); neither: @p max_runs was reached with schedules left.
 */
MMN_API long mmn_sched_explore(struct mmn_sched_explorer *x, const struct mmn_sched_config *base,
			       unsigned long max_runs, mmn_sched_explore_fn fn, void *ctx);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_SCHED_H */
