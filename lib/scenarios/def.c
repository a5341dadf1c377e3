// SPDX-License-Identifier: MIT
/*
 * A scenario definition's checks (mmn_scenario_register(),
 * mmn_scenario_run_def()) and the resolution of one run's parameters
 * against it: the variant by name and the typed "name=value" arguments.
 * Everything here reads; nothing is changed before every check passed.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "scenarios_internal.h"

/* 1..MMN_SCENARIO_NAME_MAX bytes of [a-z0-9_] (@id: also [A-Z.-]). */
static bool scn_name_ok(const char *s, bool id)
{
	size_t n = 0;

	if (!s || !*s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];
		bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' ||
			  (id && ((c >= 'A' && c <= 'Z') || c == '.' || c == '-'));

		if (!ok || n >= MMN_SCENARIO_NAME_MAX)
			return false;
	}
	return true;
}

static int scn_params_check(const struct mmn_scenario_def *d)
{
	if (d->nr_params < 0 || d->nr_params > MMN_SCENARIO_MAX_PARAMS ||
	    (d->nr_params && !d->params))
		return -EINVAL;
	for (int i = 0; i < d->nr_params; i++) {
		const struct mmn_scenario_param *a = &d->params[i];

		if (!scn_name_ok(a->name, false))
			return -EINVAL;
		if (a->type == MMN_SCENARIO_PARAM_BOOL) {
			if (a->def != 0 && a->def != 1)
				return -EINVAL;
		} else if (a->type != MMN_SCENARIO_PARAM_INT || a->min > a->max ||
			   a->def < a->min || a->def > a->max) {
			return -EINVAL;
		}
		for (int j = 0; j < i; j++)
			if (!strcmp(d->params[j].name, a->name))
				return -EINVAL;
	}
	return 0;
}

static int scn_variants_check(const struct mmn_scenario_def *d)
{
	bool right = false, wrong = false;

	if (!d->variants)
		return d->nr_variants ? -EINVAL : 0;
	if (d->nr_variants < 2 || d->nr_variants > MMN_SCENARIO_MAX_VARIANTS)
		return -EINVAL;
	for (int i = 0; i < d->nr_variants; i++) {
		if (!scn_name_ok(d->variants[i].name, false))
			return -EINVAL;
		for (int j = 0; j < i; j++)
			if (!strcmp(d->variants[j].name, d->variants[i].name))
				return -EINVAL;
		wrong |= d->variants[i].wrong;
		right |= !d->variants[i].wrong;
	}
	return right && wrong ? 0 : -EINVAL;
}

int mmn__scn_def_check(const struct mmn_scenario_def *d)
{
	if (!d || !scn_name_ok(d->id, true) || !d->title)
		return -EINVAL;
	if (MMN_VIOL_NR_KINDS < 32 && (d->found_kinds >> MMN_VIOL_NR_KINDS))
		return -EINVAL;
	if (!d->run && !d->interleaved && !d->native && !d->explore && !d->actors)
		return -EINVAL;
	if (scn_params_check(d) || scn_variants_check(d))
		return -EINVAL;
	return 0;
}

static const struct mmn_scenario_variant scn_default_variants[] = {
	{ .name = "right", .help = "the setting that must show no violation", .variant = -1 },
	{ .name = "wrong", .help = "the setting whose bug the scenario shows", .wrong = true,
	  .variant = -1 },
};

static int scn_resolve_variant(const struct mmn_scenario_def *d, struct mmn_scenario_params *q)
{
	const struct mmn_scenario_variant *v = d->variants ? d->variants : scn_default_variants;
	int n = d->variants ? d->nr_variants : 2;

	if (!q->variant_name)
		return 0;
	for (int i = 0; i < n; i++) {
		if (!strcmp(v[i].name, q->variant_name)) {
			q->wrong = v[i].wrong;
			q->variant = v[i].variant;
			return 0;
		}
	}
	return -EINVAL;
}

/* The value of @a from the text @s: -EINVAL if malformed or out of range. */
static int scn_parse_value(const struct mmn_scenario_param *a, const char *s, int64_t *v)
{
	char *end;
	long long x;

	if (a->type == MMN_SCENARIO_PARAM_BOOL) {
		if (!strcmp(s, "true") || !strcmp(s, "1"))
			*v = 1;
		else if (!strcmp(s, "false") || !strcmp(s, "0"))
			*v = 0;
		else
			return -EINVAL;
		return 0;
	}
	if (!*s)
		return -EINVAL;
	errno = 0;
	x = strtoll(s, &end, 0);
	if (errno || *end || x < a->min || x > a->max)
		return -EINVAL;
	*v = x;
	return 0;
}

static int scn_resolve_args(const struct mmn_scenario_def *d, const struct mmn_scenario_params *q,
			    int64_t *values)
{
	bool given[MMN_SCENARIO_MAX_PARAMS] = { false };

	for (int i = 0; i < d->nr_params; i++)
		values[i] = d->params[i].def;
	for (int k = 0; k < MMN_SCENARIO_MAX_ARGS; k++) {
		const char *eq = q->args[k] ? strchr(q->args[k], '=') : NULL;
		size_t n = eq ? (size_t)(eq - q->args[k]) : 0;
		int i;

		if (!q->args[k])
			continue;
		if (!n)
			return -EINVAL;
		for (i = 0; i < d->nr_params; i++)
			if (strlen(d->params[i].name) == n && !strncmp(d->params[i].name, q->args[k], n))
				break;
		if (i == d->nr_params || given[i] || scn_parse_value(&d->params[i], eq + 1, &values[i]))
			return -EINVAL;
		given[i] = true;
	}
	return 0;
}

int mmn__scn_resolve(const struct mmn_scenario_def *d, struct mmn_scenario_params *q,
		     int64_t values[MMN_SCENARIO_MAX_PARAMS])
{
	if ((unsigned int)q->mode > MMN_SCENARIO_EXPLORE || q->iterations > MMN_SCENARIO_MAX_ITERATIONS)
		return -EINVAL;
	if (scn_resolve_variant(d, q))
		return -EINVAL;
	return scn_resolve_args(d, q, values);
}
