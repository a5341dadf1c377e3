// SPDX-License-Identifier: MIT
/*
 * bench_ordering: what does each ordering of the secondary-TLB flush cost,
 * and is it safe, for each kind of secondary MMU? (issue 20, the table the
 * seeds argued about; docs/benchmarks.md "Invalidation ordering").
 *
 * The grid (ordering_grid.h): ordering of F2 (cpu_flush, call_sites,
 * only_end, range_end, range_end_held, invalidate_page, start_end) x listener kind (KVM,
 * IOMMU SVA, IOMMU AMD-v2, HMM mirror) x operation family (munmap,
 * mprotect, MADV_DONTNEED, reclaim, migration, KSM, THP split, fork, NUMA
 * hinting) x size (1, 16, 512 pages). For each applicable cell:
 *
 *  - cost: the operation once, alone, after the device cached the range,
 *    then the device reads the range again: secondary flushes, entries
 *    invalidated, needless invalidations, device faults and re-faults of
 *    that refill, the modelled time of the operation and of the refill
 *    (docs/clock.md), and the real time of the operation (median of -r);
 *  - safety: an exploration of the same cell (-s strategy, PCT by default)
 *    with an operator, a device (or vCPU) and a CPU racing on the range, -n
 *    schedules: the first violating schedule and its kinds, or none in N;
 *    the give-ups and re-faults of the device summed over those schedules.
 *
 * Cells that make no sense print "n/a: reason". Then the sensitivity of the
 * IOMMU designs' ranking (total modelled time over the operations of one
 * size) to the three uncertain costs, each swept from 0.1x to 10x its
 * default: exact, since the clock is a sum of events times costs. -j FILE
 * writes everything as JSON; -d DIR the plots' data files.
 */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/mmnsim.h>

#include "harness.h"
#include "ordering_grid.h"

#define PROG "bench_ordering"
#define MAX_SIZES 3

struct opts {
	bool quick;
	bool no_safety;
	bool keep_going;
	const char *strategy;
	const char *json;
	unsigned long sizes[MAX_SIZES];
	int nr_sizes;
	unsigned long sens_pages; /* the size the sensitivity and trade-off use */
};

/* Results of every cell, indexed [order][listener][op][size]. */
struct grid {
	struct og_cost cost[OG_NR_ORDER][OG_NR_LST][OG_NR_OP][MAX_SIZES];
	struct og_safety safe[OG_NR_ORDER][OG_NR_LST][OG_NR_OP][MAX_SIZES];
	double real_med[OG_NR_ORDER][OG_NR_LST][OG_NR_OP][MAX_SIZES];
};

static bool failed;

static int parse_opt(int opt, const char *arg, void *ctx)
{
	struct opts *o = ctx;
	char *end;

	switch (opt) {
	case 'Q':
		o->quick = true;
		return 0;
	case 'S':
		o->no_safety = true;
		return 0;
	case 'k':
		o->keep_going = true;
		return 0;
	case 's':
		o->strategy = arg;
		return mmn_explore_strategy_by_name(arg) < 0 ? -1 : 0;
	case 'j':
		o->json = arg;
		return 0;
	case 'z':
		o->nr_sizes = 0;
		for (const char *p = arg; *p && o->nr_sizes < MAX_SIZES;) {
			unsigned long v = strtoul(p, &end, 10);

			if (end == p || v < 1 || v > 512 || (*end && *end != ','))
				return -1;
			o->sizes[o->nr_sizes++] = v;
			p = *end ? end + 1 : end;
		}
		return o->nr_sizes ? 0 : -1;
	default:
		return -1;
	}
}

static void cell_of(struct og_cell *c, int ord, int l, int op, unsigned long pages)
{
	c->order = (enum og_order)ord;
	c->lst = (enum og_listener)l;
	c->op = (enum og_op)op;
	c->pages = pages;
}

/* The grid's cells in its order (ordering, listener, operation, size):
 * for (struct cell_it it = CELL_IT_INIT; next_cell(o, &it);) uses it.c and
 * the indices it.ord, it.l, it.op, it.z. */
struct cell_it {
	int ord, l, op, z;
	struct og_cell c;
};
#define CELL_IT_INIT { .z = -1 }

static bool next_cell(const struct opts *o, struct cell_it *it)
{
	if (++it->z >= o->nr_sizes) {
		it->z = 0;
		if (++it->op == OG_NR_OP) {
			it->op = 0;
			if (++it->l == OG_NR_LST) {
				it->l = 0;
				if (++it->ord == OG_NR_ORDER)
					return false;
			}
		}
	}
	cell_of(&it->c, it->ord, it->l, it->op, o->sizes[it->z]);
	return true;
}

/* Cost (-r times, the counts are deterministic, the real time a median)
 * and safety of every applicable cell. */
static void run_grid(const struct bench_args *a, const struct opts *o, struct grid *g)
{
	static double real[BENCH_MAX_REPEATS];
	struct og_safety_config sc = { .strategy = o->strategy, .schedules = a->iterations,
				       .seed = 1, .keep_going = o->keep_going };

	for (struct cell_it it = CELL_IT_INIT; next_cell(o, &it);) {
		const struct og_cell *c = &it.c;
		struct og_cost *cost = &g->cost[it.ord][it.l][it.op][it.z];
		int err = 0;

		if (og_na_reason(c))
			continue;
		for (unsigned int r = 0; r < a->repeats && !err; r++) {
			err = og_cost(c, cost);
			real[r] = cost->real_ns;
		}
		g->real_med[it.ord][it.l][it.op][it.z] = err ? 0 : bench_median(real, a->repeats);
		if (!err && !o->no_safety)
			err = og_safety(c, &sc, &g->safe[it.ord][it.l][it.op][it.z]);
		if (err) {
			fprintf(stderr, "%s: %s/%s/%s/%lu: error %d\n", PROG, og_order_name(c->order),
				og_listener_name(c->lst), og_op_name(c->op), c->pages, err);
			failed = true;
		}
	}
}

/* A reason shared by every operation and size of (ord, l), or NULL. */
static const char *pair_reason(int ord, int l)
{
	struct og_cell c;

	cell_of(&c, ord, l, OG_MUNMAP, 512);
	return og_na_reason(&c);
}

static void print_cell(const struct bench_args *a, const struct opts *o, const struct grid *g,
		       FILE *data, int ord, int l, int op, int z)
{
	const struct og_cost *k = &g->cost[ord][l][op][z];
	const struct og_safety *s = &g->safe[ord][l][op][z];
	char safety[96];
	double mod = (double)(k->op_modelled_ns + k->refill_modelled_ns);

	if (o->no_safety)
		snprintf(safety, sizeof(safety), "not explored (-S)");
	else
		og_safety_text(s, safety, sizeof(safety));
	bench_printf(a, "%-15s %-11s %-9s %5lu %7lu %7lu %7lu %7lu %7lu %7lu %9.1f %9.1f %9.1f %8.1f  %s\n",
		     og_order_name((enum og_order)ord), og_listener_name((enum og_listener)l),
		     og_op_name((enum og_op)op), o->sizes[z], k->sec_flushes, k->entries,
		     k->needless, k->dev_faults, k->refaults, (unsigned long)s->giveups,
		     (double)k->op_modelled_ns / 1e3, (double)k->refill_modelled_ns / 1e3,
		     mod / 1e3, g->real_med[ord][l][op][z] / 1e3, safety);
	bench_data_row(data, "%s\t%s\t%s\t%lu\t%lu\t%lu\t%lu\t%lu\t%lu\t%lu\t%.3f\t%.3f\t%.3f\t%.3f\t%lu\t%lu\t%s",
		       og_order_name((enum og_order)ord), og_listener_name((enum og_listener)l),
		       og_op_name((enum og_op)op), o->sizes[z], k->sec_flushes, k->entries,
		       k->needless, k->dev_faults, k->refaults, (unsigned long)s->giveups,
		       (double)k->op_modelled_ns / 1e3, (double)k->refill_modelled_ns / 1e3,
		       mod / 1e3, g->real_med[ord][l][op][z] / 1e3, s->schedules,
		       s->violating, o->no_safety ? "-" : s->violating ? "unsafe" : "safe");
}

static void print_table(const struct bench_args *a, const struct opts *o, const struct grid *g)
{
	FILE *data = bench_data_open(a, PROG, "grid",
				     "order\tlistener\top\tpages\tsec_flushes\tentries\tneedless\t"
				     "dev_faults\trefaults\tgiveups\top_modelled_us\trefill_modelled_us\t"
				     "modelled_us\treal_us\tschedules\tviolating\tsafety");

	bench_printf(a, "\nThe grid: cost of one operation alone, safety of the cell explored (%s, %lu "
			"schedules%s); real time median of %u\n",
		     o->strategy, a->iterations, o->keep_going ? ", all run" : ", stop at the first",
		     a->repeats);
	bench_printf(a, "%-15s %-11s %-9s %5s %7s %7s %7s %7s %7s %7s %9s %9s %9s %8s  %s\n",
		     "ordering", "listener", "op", "pages", "flushes", "entries", "needless",
		     "devflt", "refault", "giveup", "op_us*", "refill_us*", "total_us*", "real_us",
		     "safety");
	for (int ord = 0; ord < OG_NR_ORDER; ord++)
		for (int l = 0; l < OG_NR_LST; l++) {
			const char *why = pair_reason(ord, l);

			if (why) {
				bench_printf(a, "%-15s %-11s %-9s %5s n/a: %s\n",
					     og_order_name((enum og_order)ord),
					     og_listener_name((enum og_listener)l), "all", "all", why);
				continue;
			}
			for (int op = 0; op < OG_NR_OP; op++)
				for (int z = 0; z < o->nr_sizes; z++) {
					struct og_cell c;

					cell_of(&c, ord, l, op, o->sizes[z]);
					why = og_na_reason(&c);
					if (why)
						bench_printf(a, "%-15s %-11s %-9s %5lu n/a: %s\n",
							     og_order_name(c.order),
							     og_listener_name(c.lst), og_op_name(c.op),
							     c.pages, why);
					else
						print_cell(a, o, g, data, ord, l, op, z);
				}
		}
	bench_printf(a, "(* modelled, docs/clock.md; giveup: summed over the safety schedules)\n");
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */
/* Trade-off, cost against size, sensitivity                           */
/* ------------------------------------------------------------------ */

static int size_index(const struct opts *o, unsigned long pages)
{
	for (int z = 0; z < o->nr_sizes; z++)
		if (o->sizes[z] == pages)
			return z;
	return -1;
}

/* Modelled ns of one cell at the costs @cost (events x cost, exact). */
static double cell_ns(const struct og_cost *k, const uint64_t *cost)
{
	double ns = 0;

	for (int c = 0; c < MMN_COST_NR; c++)
		ns += (double)k->events[c] * (double)cost[c];
	return ns;
}

/* The sum over the operations of (ord, l) at size index @z, at @cost:
 * modelled ns, and how many of those cells were found unsafe. THP split is
 * left out below 512 pages (n/a). @contended adds, per cell of an IOMMU
 * listener, the device's re-faults per explored schedule (one operation
 * racing the device: repeated page requests of one access, each a PRI round
 * trip the clock charges as device_fault) at the device-fault cost. KVM's
 * re-faults are guest faults, which the clock does not charge, and HMM's
 * re-programmed pages ride on fault passes it charges already: for them
 * contended = alone. Returns the number of cells. */
static int design_sum(const struct grid *g, int ord, int l, int z, unsigned long pages,
		      const uint64_t *cost, bool contended, double *ns, int *unsafe)
{
	int n = 0;

	*ns = 0;
	*unsafe = 0;
	for (int op = 0; op < OG_NR_OP; op++) {
		struct og_cell c;

		cell_of(&c, ord, l, op, pages);
		if (og_na_reason(&c))
			continue;
		const struct og_safety *sf = &g->safe[ord][l][op][z];

		*ns += cell_ns(&g->cost[ord][l][op][z], cost);
		if (contended && sf->schedules && (l == OG_SVA || l == OG_AMDV2))
			*ns += (double)sf->refaults / (double)sf->schedules *
			       (double)cost[MMN_COST_DEVICE_FAULT];
		*unsafe += sf->violating ? 1 : 0;
		n++;
	}
	return n;
}

/* The device's re-faults and give-ups per explored schedule, over the
 * operations of (ord, l) at size index @z. */
static void per_schedule(const struct grid *g, int ord, int l, int z, unsigned long pages,
			 double *refaults, double *giveups)
{
	uint64_t rf = 0, gu = 0, sched = 0;

	for (int op = 0; op < OG_NR_OP; op++) {
		const struct og_safety *s = &g->safe[ord][l][op][z];
		struct og_cell c;

		cell_of(&c, ord, l, op, pages);
		if (og_na_reason(&c))
			continue;
		rf += s->refaults;
		gu += s->giveups;
		sched += s->schedules;
	}
	*refaults = sched ? (double)rf / (double)sched : 0;
	*giveups = sched ? (double)gu / (double)sched : 0;
}

static void default_costs(uint64_t *cost)
{
	for (int c = 0; c < MMN_COST_NR; c++)
		cost[c] = mmn_cost_default((enum mmn_cost)c);
}

static void print_tradeoff(const struct bench_args *a, const struct opts *o, const struct grid *g)
{
	FILE *tr = bench_data_open(a, PROG, "tradeoff",
				   "listener\torder\tmodelled_us_per_op\tunsafe_cells\tcells\tunsafe_frac\t"
				   "refaults_per_schedule\tgiveups_per_schedule\tcontended_us_per_op");
	FILE *sz = bench_data_open(a, PROG, "size",
				   "design\tpages\tmodelled_us_per_op\tsec_flushes_per_op\trefaults_per_op");
	int z = size_index(o, o->sens_pages);
	uint64_t cost[MMN_COST_NR];

	default_costs(cost);
	bench_printf(a, "\nCost against safety at %lu pages: modelled us per operation (mean over "
			"the operations), cells found unsafe, and the device's re-faults and give-ups "
			"per explored schedule\n", o->sens_pages);
	bench_printf(a, "%-11s %-15s %12s %8s %13s %13s\n", "listener", "ordering", "model_us/op",
		     "unsafe", "refault/sched", "giveup/sched");
	for (int l = 0; l < OG_NR_LST; l++)
		for (int ord = 0; ord < OG_NR_ORDER; ord++) {
			double ns, cns, rps, gps;
			int unsafe, n;

			if (pair_reason(ord, l))
				continue;
			n = design_sum(g, ord, l, z, o->sens_pages, cost, true, &cns, &unsafe);
			n = design_sum(g, ord, l, z, o->sens_pages, cost, false, &ns, &unsafe);
			per_schedule(g, ord, l, z, o->sens_pages, &rps, &gps);
			bench_printf(a, "%-11s %-15s %12.2f %5d/%d %13.3f %13.3f\n",
				     og_listener_name((enum og_listener)l),
				     og_order_name((enum og_order)ord), ns / n / 1e3, unsafe, n, rps,
				     gps);
			bench_data_row(tr, "%s\t%s\t%.3f\t%d\t%d\t%.3f\t%.4f\t%.4f\t%.3f",
				       og_listener_name((enum og_listener)l),
				       og_order_name((enum og_order)ord), ns / n / 1e3, unsafe, n,
				       (double)unsafe / n, rps, gps, cns / n / 1e3);
			for (int s = 0; s < o->nr_sizes; s++) {
				unsigned long fl = 0, rf = 0;
				int m = design_sum(g, ord, l, s, o->sizes[s], cost, false, &ns,
						   &unsafe);

				for (int op = 0; op < OG_NR_OP; op++) {
					fl += g->cost[ord][l][op][s].sec_flushes;
					rf += g->cost[ord][l][op][s].refaults;
				}
				bench_data_row(sz, "%s/%s\t%lu\t%.3f\t%.3f\t%.3f",
					       og_listener_name((enum og_listener)l),
					       og_order_name((enum og_order)ord), o->sizes[s],
					       ns / m / 1e3, (double)fl / m, (double)rf / m);
			}
		}
	bench_data_close(tr, PROG);
	bench_data_close(sz, PROG);
}

/* The IOMMU designs, the ones the seeds compare for one device. */
static const int sens_designs[][2] = {
	{ OG_CPU_FLUSH, OG_SVA }, { OG_CALL_SITES, OG_SVA }, { OG_ONLY_END, OG_SVA },
	{ OG_RANGE_END, OG_SVA }, { OG_RANGE_END_HELD, OG_SVA }, { OG_INV_PAGE, OG_SVA },
	{ OG_INV_PAGE, OG_AMDV2 },
	{ OG_START_END, OG_AMDV2 },
};
#define NR_DESIGNS ((int)(sizeof(sens_designs) / sizeof(sens_designs[0])))
static const enum mmn_cost sens_costs[] = { MMN_COST_IOTLB_INV, MMN_COST_ATS_INV,
					    MMN_COST_DEVICE_FAULT };
static const double sens_factors[] = { 0.1, 0.3, 1, 3, 10 };
#define NR_SC 3
#define NR_SF 5

/* "a < b < c" of the designs sorted by @ns (ties keep the table's order);
 * a design with cells found unsafe carries "!" and their number. */
static void ranking(const double *ns, const int *unsafe, char *buf, size_t len)
{
	int idx[NR_DESIGNS];
	size_t off = 0;

	for (int i = 0; i < NR_DESIGNS; i++)
		idx[i] = i;
	for (int i = 1; i < NR_DESIGNS; i++)
		for (int j = i; j > 0 && ns[idx[j]] < ns[idx[j - 1]]; j--) {
			int t = idx[j];

			idx[j] = idx[j - 1];
			idx[j - 1] = t;
		}
	buf[0] = '\0';
	for (int i = 0; i < NR_DESIGNS && off < len; i++) {
		int d = idx[i];

		off += (size_t)snprintf(buf + off, len - off, "%s%s/%s", i ? " < " : "",
					sens_designs[d][1] == OG_SVA ? "sva" : "amdv2",
					og_order_name((enum og_order)sens_designs[d][0]));
		if (unsafe[d] && off < len)
			off += (size_t)snprintf(buf + off, len - off, "!%d", unsafe[d]);
	}
}

/* One sweep point: the designs' modelled us per operation at @cost, alone
 * (@ns[0]) and under contention (@ns[1]), ranked. */
static void sens_point(const struct opts *o, const struct grid *g, int z, const uint64_t *cost,
		       double ns[2][NR_DESIGNS], int *unsafe, char rank[2][512])
{
	for (int k = 0; k < 2; k++) {
		for (int d = 0; d < NR_DESIGNS; d++) {
			int n = design_sum(g, sens_designs[d][0], sens_designs[d][1], z,
					   o->sens_pages, cost, k == 1, &ns[k][d], &unsafe[d]);

			ns[k][d] /= n;
		}
		ranking(ns[k], unsafe, rank[k], 512);
	}
}

static int rank_of(const double *ns, int d)
{
	int r = 1;

	for (int e = 0; e < NR_DESIGNS; e++)
		r += ns[e] < ns[d];
	return r;
}

static void print_sensitivity(const struct bench_args *a, const struct opts *o, const struct grid *g)
{
	FILE *data = bench_data_open(a, PROG, "sens",
				     "cost\tfactor\tcost_ns\tdesign\tmodelled_us_per_op\trank\t"
				     "contended_us_per_op\trank_contended");
	int z = size_index(o, o->sens_pages);

	bench_printf(a, "\nSensitivity at %lu pages: the IOMMU designs ranked by modelled us per "
			"operation (cheapest first; !N: N cells found unsafe), one cost swept, the others "
			"at their defaults; alone (the cost run) and contended (plus the device's "
			"re-faults per explored schedule at the device-fault cost)\n", o->sens_pages);
	for (int c = 0; c < NR_SC; c++)
		for (int f = 0; f < NR_SF; f++) {
			uint64_t cost[MMN_COST_NR];
			double ns[2][NR_DESIGNS];
			int unsafe[NR_DESIGNS];
			char rank[2][512];

			default_costs(cost);
			cost[sens_costs[c]] = (uint64_t)((double)cost[sens_costs[c]] * sens_factors[f]);
			sens_point(o, g, z, cost, ns, unsafe, rank);
			for (int k = 0; k < 2; k++)
				bench_printf(a, "%-12s x%-4g %7lu ns %-9s: %s\n",
					     mmn_cost_name(sens_costs[c]), sens_factors[f],
					     (unsigned long)cost[sens_costs[c]], k ? "contended" : "alone",
					     rank[k]);
			for (int d = 0; d < NR_DESIGNS; d++)
				bench_data_row(data, "%s\t%g\t%lu\t%s/%s\t%.3f\t%d\t%.3f\t%d",
					       mmn_cost_name(sens_costs[c]), sens_factors[f],
					       (unsigned long)cost[sens_costs[c]],
					       sens_designs[d][1] == OG_SVA ? "sva" : "amdv2",
					       og_order_name((enum og_order)sens_designs[d][0]),
					       ns[0][d] / 1e3, rank_of(ns[0], d), ns[1][d] / 1e3,
					       rank_of(ns[1], d));
		}
	bench_data_close(data, PROG);
}

/* ------------------------------------------------------------------ */
/* JSON                                                                */
/* ------------------------------------------------------------------ */

static void json_cell(FILE *f, const struct opts *o, const struct grid *g, const struct og_cell *c,
		      int z, bool first)
{
	const char *why = og_na_reason(c);
	const struct og_cost *k = &g->cost[c->order][c->lst][c->op][z];
	const struct og_safety *s = &g->safe[c->order][c->lst][c->op][z];

	fprintf(f, "%s\n    {\"order\": \"%s\", \"listener\": \"%s\", \"op\": \"%s\", \"pages\": %lu",
		first ? "" : ",", og_order_name(c->order), og_listener_name(c->lst),
		og_op_name(c->op), c->pages);
	if (why) {
		fprintf(f, ", \"na\": \"%s\"}", why);
		return;
	}
	fprintf(f, ", \"cost\": {\"sec_flushes\": %lu, \"entries\": %lu, \"needless\": %lu, "
		   "\"dev_faults\": %lu, \"refaults\": %lu, \"op_modelled_ns\": %llu, "
		   "\"refill_modelled_ns\": %llu, \"real_ns\": %.0f, \"events\": {",
		k->sec_flushes, k->entries, k->needless, k->dev_faults, k->refaults,
		(unsigned long long)k->op_modelled_ns, (unsigned long long)k->refill_modelled_ns,
		g->real_med[c->order][c->lst][c->op][z]);
	for (int e = 0; e < MMN_COST_NR; e++)
		fprintf(f, "%s\"%s\": %llu", e ? ", " : "", mmn_cost_name((enum mmn_cost)e),
			(unsigned long long)k->events[e]);
	fprintf(f, "}}");
	if (o->no_safety) {
		fprintf(f, "}");
		return;
	}
	fprintf(f, ", \"safety\": {\"strategy\": \"%s\", \"schedules\": %lu, \"violating\": %lu, "
		   "\"first_index\": %ld, \"keep_going\": %s, \"complete\": %s, "
		   "\"giveups\": %llu, \"refaults\": %llu, \"by_kind\": {",
		s->strategy, s->schedules, s->violating,
		s->first_index == ULONG_MAX ? -1L : (long)s->first_index,
		s->keep_going ? "true" : "false", s->complete ? "true" : "false",
		(unsigned long long)s->giveups, (unsigned long long)s->refaults);
	for (int v = 0, n = 0; v < MMN_VIOL_NR_KINDS; v++)
		if (s->by_kind[v])
			fprintf(f, "%s\"%s\": %lu", n++ ? ", " : "",
				mmn_violation_kind_name((enum mmn_violation_kind)v), s->by_kind[v]);
	fprintf(f, "}}}");
}

static void write_json(const struct bench_args *a, const struct opts *o, const struct grid *g)
{
	FILE *f = fopen(o->json, "w");
	bool first = true;

	if (!f) {
		fprintf(stderr, "%s: cannot create %s: %s\n", PROG, o->json, strerror(errno));
		exit(1);
	}
	fprintf(f, "{\"bench\": \"%s\", \"version\": \"%s\", \"schedules\": %lu, \"repeats\": %u, "
		   "\"strategy\": \"%s\", \"cells\": [",
		PROG, mmn_version_string(), a->iterations, a->repeats, o->strategy);
	for (struct cell_it it = CELL_IT_INIT; next_cell(o, &it); first = false)
		json_cell(f, o, g, &it.c, it.z, first);
	fprintf(f, "\n  ]\n}\n");
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "%s: writing %s failed\n", PROG, o->json);
		exit(1);
	}
}

static void summary(const struct bench_args *a, const struct opts *o, const struct grid *g)
{
	unsigned long cells = 0, na = 0, unsafe = 0;

	for (struct cell_it it = CELL_IT_INIT; next_cell(o, &it);) {
		if (og_na_reason(&it.c)) {
			na++;
			continue;
		}
		cells++;
		unsafe += g->safe[it.ord][it.l][it.op][it.z].violating ? 1 : 0;
	}
	bench_summary(PROG, "cells=%lu na=%lu unsafe=%lu schedules=%lu strategy=%s sizes=%d quick=%d",
		      cells, na, unsafe, o->no_safety ? 0 : a->iterations, o->strategy,
		      o->nr_sizes, o->quick);
}

int main(int argc, char **argv)
{
	struct bench_args a = { .iterations = 200, .repeats = 3, .quiet = false };
	struct opts o = { .strategy = "pct", .sizes = { 1, 16, 512 }, .nr_sizes = 3 };
	static struct grid g;

	bench_getopt(argc, argv, &a, "QSks:j:z:", parse_opt, &o,
		     "[-Q] [-S] [-k] [-s strategy] [-j file.json] [-z sizes]",
		     "        -n is the schedules of each cell's safety exploration (-Q: at most 20)\n"
		     "  -Q    quick: size 1 only, at most 20 schedules, 1 repeat (the smoke test)\n"
		     "  -S    no safety explorations (cost only)\n"
		     "  -k    run every schedule (default: stop at the first violating one)\n"
		     "  -s S  exploration strategy by name (default pct)\n"
		     "  -j F  also write the grid and its safety as JSON to F\n"
		     "  -z L  sizes in pages, comma-separated, 1..512 (default 1,16,512)\n");
	if (o.quick) {
		o.sizes[0] = 1;
		o.nr_sizes = 1;
		if (a.iterations > 20)
			a.iterations = 20;
		a.repeats = 1;
	}
	o.sens_pages = size_index(&o, 16) >= 0 ? 16 : o.sizes[0];
	bench_printf(&a, "%s: -n %lu -r %u -s %s, sizes", PROG, a.iterations, a.repeats, o.strategy);
	for (int z = 0; z < o.nr_sizes; z++)
		bench_printf(&a, " %lu", o.sizes[z]);
	bench_printf(&a, ", mmnsim %s\n", mmn_version_string());
	run_grid(&a, &o, &g);
	print_table(&a, &o, &g);
	print_tradeoff(&a, &o, &g);
	print_sensitivity(&a, &o, &g);
	if (o.json)
		write_json(&a, &o, &g);
	summary(&a, &o, &g);
	if (failed) {
		fprintf(stderr, "%s: a cell failed (see above)\n", PROG);
		return 1;
	}
	return 0;
}
