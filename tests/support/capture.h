/* SPDX-License-Identifier: MIT */
/*
 * Test helper: capture violations instead of printing them, so a test can
 * assert exactly which checks fired (and stderr stays quiet).
 */
#ifndef MMN_TEST_CAPTURE_H
#define MMN_TEST_CAPTURE_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/check.h>

struct capture {
	unsigned long n;
	struct mmn_violation last;
	char last_msg[256];
	bool verbose;  /* also print each one (debugging a failing test) */
};

static inline void capture_fn(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	struct capture *c = arg;

	(void)sim;
	c->n++;
	c->last = *v;
	snprintf(c->last_msg, sizeof(c->last_msg), "%s", v->msg ? v->msg : "");
	c->last.msg = c->last_msg;
	c->last.detail = NULL;
	if (c->verbose)
		fprintf(stderr, "captured %s: %s\n", mmn_violation_kind_name(v->kind), c->last_msg);
}

static inline void capture_install(struct mmn_sim *sim, struct capture *c)
{
	memset(c, 0, sizeof(*c));
	c->verbose = getenv("MMN_TEST_VERBOSE") != NULL;
	mmn_check_set_handler(sim, capture_fn, c);
}

/* Print the last violation captured (before an assertion on the count
 * fails, so a rare failure in CI says what fired). */
static inline void capture_say_last(const struct capture *c)
{
	if (c->n)
		fprintf(stderr, "%lu violation(s) captured, the last: %s: %s\n", c->n,
			mmn_violation_kind_name(c->last.kind), c->last_msg);
}

#endif /* MMN_TEST_CAPTURE_H */
