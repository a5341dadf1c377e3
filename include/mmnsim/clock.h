/* SPDX-License-Identifier: MIT */
/**
 * @file clock.h
 * @brief The modelled clock: a virtual time advanced by a cost model.
 *
 * The simulator does the work of the kernel but not at the kernel's speed:
 * a simulated TLB flush is a loop over an array, a simulated IOTLB
 * invalidation a few stores. To say what a run would have cost on real
 * hardware, the library charges a modelled cost each time it performs one
 * of the expensive events below (a CPU TLB flush, a shootdown IPI, an IOTLB
 * or ATS invalidation, a device fault round trip, an HMM retry timeout).
 *
 * The clock is a serial cost model: mmn_clock_now() is the sum of every
 * charge, i.e. what the charged work would take done one event after the
 * other on one CPU. It is not a latency or contention model: overlap
 * between CPUs, queueing and batching are not modelled. Under the
 * deterministic backend the charges depend only on the schedule, so the
 * clock is exact and the same for two runs with the same seed; under the
 * native backend the counters are atomic and every charge is counted.
 *
 * The defaults come from published figures (docs/clock.md names the source
 * of each and how firm it is). Every cost can be overridden per simulation,
 * with mmn_cost_set() or through the knob path: mmn_sim_set_knob(sim,
 * "cost_NAME_ns", "NS"), so every tool that applies knobs (scenarios,
 * the CLI's --knob) takes overrides too.
 *
 * All state lives in struct mmn_sim; two simulations share nothing.
 */
#ifndef MMNSIM_CLOCK_H
#define MMNSIM_CLOCK_H

#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;

/** The kinds of modelled cost. Names (mmn_cost_name()) in brackets. */
enum mmn_cost {
	/** One single-page CPU TLB invalidation (INVLPG) on one CPU
	 *  ["tlb_flush_page"]. Default 100 ns. */
	MMN_COST_TLB_FLUSH_PAGE = 0,
	/** One full CPU TLB flush on one CPU, done instead of per-page
	 *  flushes above the flush ceiling ["tlb_flush_full"]. Default
	 *  3300 ns. */
	MMN_COST_TLB_FLUSH_FULL,
	/** One shootdown IPI to one target CPU (or one vCPU kick of a KVM
	 *  remote TLB flush), send to acknowledgement ["ipi"]. Default
	 *  2000 ns. */
	MMN_COST_IPI,
	/** One IOTLB invalidation command, queued and waited for
	 *  ["iotlb_inv"]. Default 1000 ns. */
	MMN_COST_IOTLB_INV,
	/** One ATS (device ATC) invalidation, sent to the device and
	 *  completed ["ats_inv"]. Default 1000 ns. */
	MMN_COST_ATS_INV,
	/** One device fault round trip: fault raised by the device,
	 *  serviced by the host, access retried ["device_fault"]. Default
	 *  30000 ns. */
	MMN_COST_DEVICE_FAULT,
	/** One HMM fault loop that ran out of time and gave up
	 *  (HMM_RANGE_DEFAULT_TIMEOUT) ["hmm_retry_timeout"]. Default
	 *  1000000000 ns (1 s). */
	MMN_COST_HMM_RETRY_TIMEOUT,
	/** Number of kinds (not a kind). */
	MMN_COST_NR
};

/** Largest cost mmn_cost_set() accepts: one hour per event, in ns. */
#define MMN_COST_MAX_NS 3600000000000ULL

/**
 * mmn_cost_name() - the name of cost @p c ("tlb_flush_page", "ipi", ...),
 * as used in the knob "cost_NAME_ns".
 * @param c  the kind of cost
 * @return a static string, or NULL for @p c out of range.
 */
MMN_API const char *mmn_cost_name(enum mmn_cost c);

/**
 * mmn_cost_by_name() - the kind of cost called @p name (mmn_cost_name()).
 * @param name  e.g. "iotlb_inv"
 * @return the enum mmn_cost value, -ENOENT for an unknown name, -EINVAL for
 *         a NULL @p name.
 */
MMN_API int mmn_cost_by_name(const char *name);

/**
 * mmn_cost_default() - the built-in default of cost @p c in ns (the value a
 * new simulation starts with; docs/clock.md gives the source of each).
 * @param c  the kind of cost
 * @return the default, or 0 for @p c out of range.
 */
MMN_API uint64_t mmn_cost_default(enum mmn_cost c);

/**
 * mmn_cost_set() - set the modelled cost of one event of kind @p c in
 * @p sim. Charges already made keep the cost they were made with. Set
 * costs before actors run if the clock must be repeatable (the store is
 * atomic, so a concurrent change is safe, only not deterministic).
 * @param sim  the simulation
 * @param c    the kind of cost
 * @param ns   the cost of one event, 0..MMN_COST_MAX_NS (0: free, the
 *             events are still counted)
 * @return 0, or -EINVAL for a NULL @p sim, @p c out of range or @p ns above
 *         MMN_COST_MAX_NS; nothing changes on error.
 */
MMN_API int mmn_cost_set(struct mmn_sim *sim, enum mmn_cost c, uint64_t ns);

/**
 * mmn_cost_get() - the modelled cost of one event of kind @p c in @p sim.
 * @param sim  the simulation
 * @param c    the kind of cost
 * @return the cost in ns, or 0 for a NULL @p sim or @p c out of range.
 */
MMN_API uint64_t mmn_cost_get(const struct mmn_sim *sim, enum mmn_cost c);

/**
 * mmn_cost_knob_parse() - parse the knob "cost_NAME_ns" = @p value without
 * applying it (for tools that validate a knob before creating a
 * simulation; mmn_sim_set_knob() applies it).
 * @param knob   the knob name, "cost_" + mmn_cost_name() + "_ns"
 * @param value  a decimal number of ns, 0..MMN_COST_MAX_NS, no sign, no
 *               spaces, nothing after it
 * @param cost   receives the kind (may be NULL)
 * @param ns     receives the value (may be NULL)
 * @return 0, -EINVAL for a NULL @p knob or @p value, -ENOENT when @p knob
 *         names no cost, -ERANGE for a malformed or too large value (the
 *         errors mmn_sim_set_knob() returns for any knob).
 */
MMN_API int mmn_cost_knob_parse(const char *knob, const char *value, enum mmn_cost *cost,
				uint64_t *ns);

/**
 * mmn_clock_charge() - charge @p count events of kind @p c: the clock
 * advances by @p count times the current cost of @p c and the events are
 * counted. Called by the library where it models an expensive event, and
 * available to listeners written outside it. Lock-free (two relaxed atomic
 * compare-and-swap loops): callable from any context, under any lock, from
 * any actor. The per-kind time and event counts saturate at UINT64_MAX
 * instead of wrapping (and so does mmn_clock_now()): a clock never runs
 * backwards.
 * @param sim    the simulation
 * @param c      the kind of cost
 * @param count  how many events (0 charges nothing)
 * @return 0, -EINVAL for a NULL @p sim or @p c out of range, -ERANGE when
 *         @p count times the cost does not fit 64 bits; nothing is charged
 *         on error.
 */
MMN_API int mmn_clock_charge(struct mmn_sim *sim, enum mmn_cost c, uint64_t count);

/**
 * mmn_clock_now() - the modelled time of @p sim: the ns charged so far in
 * the whole simulation, all kinds summed (a serial sum, see the file
 * comment). A snapshot; exact once the actors have stopped.
 * @param sim  the simulation
 * @return the modelled ns, 0 for a NULL @p sim.
 */
MMN_API uint64_t mmn_clock_now(const struct mmn_sim *sim);

/**
 * mmn_clock_events() - how many events of kind @p c were charged in @p sim.
 * @param sim  the simulation
 * @param c    the kind of cost
 * @return the count, 0 for a NULL @p sim or @p c out of range.
 */
MMN_API uint64_t mmn_clock_events(const struct mmn_sim *sim, enum mmn_cost c);

/**
 * mmn_clock_charged() - the ns charged for events of kind @p c in @p sim
 * (each at the cost in force when it was charged).
 * @param sim  the simulation
 * @param c    the kind of cost
 * @return the ns, 0 for a NULL @p sim or @p c out of range.
 */
MMN_API uint64_t mmn_clock_charged(const struct mmn_sim *sim, enum mmn_cost c);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_CLOCK_H */
