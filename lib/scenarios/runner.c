// SPDX-License-Identifier: MIT
/*
 * The runner every scenario shares, S1-S9 and the user's alike
 * (mmn_scenario_run_def(): resolve the variant, parse the parameters, check,
 * configure, create, set up, dispatch on the mode, judge, tear down), the
 * public helpers a scenario's hooks call (scenario.h).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <mmnsim/mmnsim.h>

#include "scenarios_internal.h"

const char *mmn_scenario_mode_name(enum mmn_scenario_mode mode)
{
	return mode == MMN_SCENARIO_INTERLEAVED ? "interleaved"
	       : mode == MMN_SCENARIO_NATIVE	? "native"
						: "explore";
}

/* EXPLORE the short way: def->actors as actor 0 of the schedule. */
struct scn_actors {
	void (*fn)(struct mmn_sim *sim, void *ctx);
	void *ctx;
};

static void scn_actors_body(struct mmn_sim *sim, void *arg)
{
	struct scn_actors *a = arg;

	a->fn(sim, a->ctx);
}

static int scn_body(const struct mmn_scenario_def *d, void *ctx, struct mmn_sim *sim,
		    const struct mmn_scenario_params *p, struct mmn_scenario_result *out)
{
	struct scn_actors a = { d->actors, ctx };
	int err;

	if (p->mode == MMN_SCENARIO_INTERLEAVED)
		return d->interleaved(ctx, sim, p, out);
	if (p->mode == MMN_SCENARIO_NATIVE)
		return d->native(ctx, sim, p, out);
	if (d->explore)
		return d->explore(ctx, sim, p, out);
	err = mmn_scenario_sched_run(sim, p, scn_actors_body, &a, out);
	out->runs = 1;
	return err;
}

/* One simulation: configure, create, set up, the mode's body, judge, tear down. */
static int scn_run_one(const struct mmn_scenario_def *d, const struct mmn_scenario_params *p,
		       const int64_t *values, struct mmn_scenario_result *out)
{
	const char *own[MMN_SCENARIO_MAX_KNOBS + 1] = { NULL };
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;
	void *ctx;
	int err;

	ctx = calloc(1, d->ctx_size ? d->ctx_size : 1);
	if (!ctx)
		return -ENOMEM;
	mmn_sim_config_init(&cfg);
	err = d->configure ? d->configure(ctx, p, values, &cfg, own) : 0;
	if (!err)
		err = mmn_scenario_sim_create(&sim, &cfg, p, d->hugetlb, own);
	if (err) {
		free(ctx);
		return err;
	}
	err = d->setup ? d->setup(ctx, sim, p, out) : 0;
	if (!err)
		err = scn_body(d, ctx, sim, p, out);
	if (!err) {
		if (d->judge)
			d->judge(ctx, sim, p, out);
		else
			mmn_scenario_judge(sim, d->found_kinds, p, out);
		mmn_scenario_finish(sim, p, out);
	}
	if (d->teardown)
		err = d->teardown(ctx, err);
	mmn_sim_destroy(sim);
	free(ctx);
	return err;
}

static bool scn_has_mode(const struct mmn_scenario_def *d, enum mmn_scenario_mode m)
{
	if (d->run)
		return true;
	return m == MMN_SCENARIO_INTERLEAVED ? d->interleaved != NULL
	       : m == MMN_SCENARIO_NATIVE    ? d->native != NULL
					     : d->explore || d->actors;
}

static uint64_t scn_now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

int mmn__scn_run_checked(const struct mmn_scenario_def *d, const struct mmn_scenario_params *p,
			 struct mmn_scenario_result *out)
{
	static const struct mmn_scenario_params defaults = { .variant = -1 };
	int64_t values[MMN_SCENARIO_MAX_PARAMS];
	struct mmn_scenario_params q;
	uint64_t t0;
	int err;

	memset(out, 0, sizeof(*out));
	q = p ? *p : defaults;
	q.def = d;
	err = mmn__scn_resolve(d, &q, values);
	if (err)
		return err;
	if (!scn_has_mode(d, q.mode))
		return -EOPNOTSUPP;
	err = d->validate ? d->validate(&q, values) : 0;
	if (err)
		return err;
	t0 = scn_now_ns();
	err = d->run ? d->run(&q, values, out) : scn_run_one(d, &q, values, out);
	if (err)
		memset(out, 0, sizeof(*out)); /* no half-filled result on error */
	else
		out->real_ns = scn_now_ns() - t0;
	return err;
}

int mmn_scenario_run_def(const struct mmn_scenario_def *def, const struct mmn_scenario_params *p,
			 struct mmn_scenario_result *out)
{
	int err;

	if (!out)
		return -EINVAL;
	err = mmn__scn_def_check(def);
	if (err)
		return err;
	return mmn__scn_run_checked(def, p, out);
}

void mmn_scenario_collect_violations(struct mmn_sim *sim, struct mmn_scenario_result *out)
{
	if (!sim || !out)
		return;
	out->violations = 0;
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++) {
		out->by_kind[k] = mmn_check_count(sim, (enum mmn_violation_kind)k);
		out->violations += out->by_kind[k];
	}
}

/* Append @s to @buf (room for @len - 1 characters) at *@at. */
static void scn_put(char *buf, size_t len, size_t *at, const char *s, size_t n)
{
	size_t room = len - 1 - *at;

	if (n > room)
		n = room;
	memcpy(buf + *at, s, n);
	*at += n;
}

/* Decimal text of @v (negative when @neg) ending at @end; its start. */
static const char *scn_dec(char *end, unsigned long v, bool neg)
{
	char *p = end;

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	if (neg)
		*--p = '-';
	return p;
}

static unsigned long scn_abs(long v)
{
	return v < 0 ? 0UL - (unsigned long)v : (unsigned long)v;
}

/* The conversion of mmn__scn_fmt() at @f (past the '%', one scn_simple()
 * accepts): its text in *@s (in @tmp for a number), its length in *@n;
 * returns the characters of the conversion. */
static size_t scn_conv(const char *f, va_list *ap, char (*tmp)[24], const char **s, size_t *n)
{
	char *end = *tmp + sizeof(*tmp);
	size_t used = f[0] == 'l' ? 2 : 1;
	char c = f[used - 1];

	if (c == '%') {
		*s = "%";
	} else if (c == 's') {
		*s = va_arg(*ap, const char *);
		if (!*s)
			*s = "(null)"; /* as glibc's snprintf */
		*n = strlen(*s);
		return used;
	} else if (c == 'u') {
		*s = used == 2 ? scn_dec(end, va_arg(*ap, unsigned long), false)
			       : scn_dec(end, va_arg(*ap, unsigned int), false);
	} else {
		long v = used == 2 ? va_arg(*ap, long) : va_arg(*ap, int);

		*s = scn_dec(end, scn_abs(v), v < 0);
	}
	*n = c == '%' ? 1 : (size_t)(end - *s);
	return used;
}

/* Whether every conversion of @fmt is one scn_conv() handles. */
static bool scn_simple(const char *fmt)
{
	for (const char *f = fmt; (f = strchr(f, '%')) != NULL;) {
		f++;
		if (*f == 's' || *f == 'd' || *f == 'u' || *f == '%')
			f++;
		else if (f[0] == 'l' && (f[1] == 'u' || f[1] == 'd'))
			f += 2;
		else
			return false;
	}
	return true;
}

void mmn__scn_fmt(char *buf, size_t len, const char *fmt, ...)
{
	char tmp[24];
	size_t at = 0;
	va_list ap;

	if (!len)
		return;
	va_start(ap, fmt);
	if (!scn_simple(fmt)) {
		vsnprintf(buf, len, fmt, ap);
		va_end(ap);
		return;
	}
	while (*fmt) {
		const char *pct = strchr(fmt, '%'), *s;
		size_t n;

		if (!pct) {
			scn_put(buf, len, &at, fmt, strlen(fmt));
			break;
		}
		scn_put(buf, len, &at, fmt, (size_t)(pct - fmt));
		fmt = pct + 1 + scn_conv(pct + 1, &ap, &tmp, &s, &n);
		scn_put(buf, len, &at, s, n);
	}
	va_end(ap);
	buf[at] = '\0';
}

/* snprintf(@dst, @size, "%s", @src) without the formatting: judged once
 * per schedule. */
static void scn_copy(char *dst, size_t size, const char *src)
{
	size_t n = strnlen(src, size - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

void mmn_scenario_judge(struct mmn_sim *sim, unsigned int found_kinds,
			const struct mmn_scenario_params *p, struct mmn_scenario_result *out)
{
	unsigned int mask = p && p->wrong && found_kinds ? found_kinds : ~0u;
	unsigned long counted = 0;
	long stale;

	if (!sim || !out)
		return;
	stale = mmn_check_quiescent(sim);
	mmn_scenario_collect_violations(sim, out);
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		if (mask & (1u << k))
			counted += out->by_kind[k];
	out->claim_holds = p && p->wrong ? counted > 0 : out->violations == 0;
	scn_copy(out->profile, sizeof(out->profile), mmn_sim_profile(sim)->name);
	scn_copy(out->setting, sizeof(out->setting),
		 p && p->variant_name ? p->variant_name : p && p->wrong ? "wrong" : "right");
	mmn__scn_fmt(out->note, sizeof(out->note), "%lu violations (%lu counted), %ld stale at quiescence",
		 out->violations, counted, stale > 0 ? stale : 0);
}

void mmn_scenario_add_counter(struct mmn_scenario_result *out, const char *name,
			      unsigned long value)
{
	if (!out || out->nr_counters >= MMN_SCENARIO_MAX_COUNTERS)
		return;
	out->counter_names[out->nr_counters] = name;
	out->counters[out->nr_counters++] = value;
}

/* Apply the "name=value" knobs of @kv (at most @max, up to the first NULL). */
static int scn_set_knobs(struct mmn_sim *sim, const char *const *kv, int max)
{
	for (int i = 0; kv && i < max && kv[i]; i++) {
		char name[64];
		const char *eq = strchr(kv[i], '=');
		size_t n;

		if (!eq || eq == kv[i])
			return -EINVAL;
		n = (size_t)(eq - kv[i]);
		if (n >= sizeof(name))
			return -EINVAL;
		memcpy(name, kv[i], n);
		name[n] = '\0';
		if (mmn_sim_set_knob(sim, name, eq + 1))
			return -EINVAL;
	}
	return 0;
}

void mmn_scenario_forward_violation(const struct mmn_scenario_params *p, struct mmn_sim *sim,
				    const struct mmn_violation *v)
{
	if (p && p->on_violation && v)
		p->on_violation(sim, v, p->on_violation_arg);
}

/* Violations are counted (the result reports them), not printed; the
 * caller's on_violation sees each one. */
static void scn_forward(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	mmn_scenario_forward_violation(arg, sim, v);
}

int mmn_scenario_sim_create(struct mmn_sim **out, struct mmn_sim_config *cfg,
			    const struct mmn_scenario_params *p, bool hugetlb, const char *const *own)
{
	struct mmn_sim *sim;

	if (!out || !cfg || !p)
		return -EINVAL;
	if (p->mode == MMN_SCENARIO_EXPLORE) {
		cfg->backend = MMN_BACKEND_DETERMINISTIC;
		/* An exploration creates thousands of simulations a second, and
		 * the huge-page pool's metadata is zeroed at each creation. */
		if (!hugetlb)
			cfg->nr_huge_pages = 0;
	}
	cfg->seed = p->seed ? p->seed : 1;
	sim = mmn_sim_create(cfg);
	if (!sim)
		return cfg->profile && !mmn_profile_by_name(cfg->profile) ? -EINVAL : -ENOMEM;
	mmn_check_set_handler(sim, scn_forward, (void *)p);
	if (scn_set_knobs(sim, own, MMN_SCENARIO_MAX_KNOBS) ||
	    scn_set_knobs(sim, p->knobs, MMN_SCENARIO_MAX_KNOBS)) {
		mmn_sim_destroy(sim);
		return -EINVAL;
	}
	*out = sim;
	return 0;
}

int mmn_scenario_sched_run(struct mmn_sim *sim, const struct mmn_scenario_params *p,
			   mmn_sched_body_fn body, void *arg, struct mmn_scenario_result *out)
{
	struct mmn_sched_config sc;

	if (!sim || !p || !body || !out)
		return -EINVAL;
	if (p->sched) {
		sc = *p->sched;
	} else {
		mmn_sched_config_init(&sc);
		sc.seed = p->seed ? p->seed : 1;
	}
	return mmn_sched_run(sim, &sc, body, arg, &out->sched);
}

void mmn_scenario_finish(struct mmn_sim *sim, const struct mmn_scenario_params *p,
			 struct mmn_scenario_result *out)
{
	if (!sim || !out)
		return;
	out->modelled_ns += mmn_clock_now(sim);
	if (p && p->mode == MMN_SCENARIO_EXPLORE && p->inspect)
		p->inspect(sim, out, p->inspect_arg);
}
