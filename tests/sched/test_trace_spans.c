// SPDX-License-Identifier: MIT
/*
 * The trace's span and event lines (mmn_sched_span_begin/end(),
 * mmn_sched_event(), mmn_sched_note_free()), the violation line's fields and
 * cause, and their Chrome form (nested spans, the flow from a free to its
 * stale use, lock slices).
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include <mmnsim/mmnsim.h>

static struct mmn_sim *det_sim(void)
{
	struct mmn_sim_config cfg;
	struct mmn_sim *sim;

	mmn_sim_config_init(&cfg);
	cfg.backend = MMN_BACKEND_DETERMINISTIC;
	cfg.nr_frames = 64;
	cfg.nr_cpus = 2;
	sim = mmn_sim_create(&cfg);
	assert_non_null(sim);
	return sim;
}

struct two {
	struct mmn_sim *sim;
	bool spans;
};

static void *two_worker(void *p)
{
	struct two *w = p;

	for (int i = 0; i < 6; i++) {
		if (w->spans)
			mmn_sched_span_begin(w->sim, "munmap", 0x1000, 0x3000, NULL);
		mmn_sched_point(w->sim, MMN_SCHED_EXPLICIT, w, "work", 0x1000);
		if (w->spans)
			mmn_sched_event(w->sim, "pte_clear", "0x%x pfn %d", 0x1000, i);
		mmn_sched_point(w->sim, MMN_SCHED_EXPLICIT, w, "more", 0x2000);
		if (w->spans)
			mmn_sched_span_end(w->sim, "munmap");
	}
	return NULL;
}

static void two_body(struct mmn_sim *sim, void *arg)
{
	struct two *w = arg;
	struct mmn_actor *t[2];

	w->sim = sim;
	for (int i = 0; i < 2; i++)
		assert_int_equal(mmn_actor_spawn(sim, NULL, two_worker, w, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		assert_int_equal(mmn_actor_join(t[i], NULL), 0);
}

/* The trace of one random run of two_body, without its event lines other
 * than begin/end/pte_clear kept when @spans; *@nchoices its choices. */
static char *two_run(bool spans, size_t *nchoices, uint32_t *choices, size_t max)
{
	struct mmn_sim *sim = det_sim();
	struct mmn_sched_config c;
	struct mmn_sched_result res;
	struct two w = { .spans = spans };
	char *copy;

	mmn_sched_config_init(&c);
	c.strategy = MMN_STRATEGY_RANDOM;
	c.seed = 7;
	assert_int_equal(mmn_sched_run(sim, &c, two_body, &w, &res), 0);
	copy = strdup(mmn_sched_trace(sim, NULL));
	*nchoices = mmn_sched_choices(sim, choices, max);
	mmn_sim_destroy(sim);
	return copy;
}

/* @trace without its lines of kind begin, end and pte_clear. */
static void strip_spans(char *trace)
{
	char *out = trace;

	for (char *l = trace; *l;) {
		char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) + 1 : strlen(l);
		bool span = strstr(l, " begin ") && strstr(l, " begin ") < l + len;

		span = span || (strstr(l, " end ") && strstr(l, " end ") < l + len);
		span = span || (strstr(l, " pte_clear ") && strstr(l, " pte_clear ") < l + len);
		if (!span) {
			memmove(out, l, len);
			out += len;
		}
		l += len;
	}
	*out = '\0';
}

static void test_span_lines_are_no_scheduling_points(void **state)
{
	uint32_t a[512], b[512];
	size_t na, nb;
	char *with, *without;

	(void)state;
	with = two_run(true, &na, a, 512);
	without = two_run(false, &nb, b, 512);
	/* the lines are there, with the step of the actor's last point */
	assert_non_null(strstr(with, "begin            munmap [0x1000, 0x3000)\n"));
	assert_non_null(strstr(with, "end              munmap\n"));
	assert_non_null(strstr(with, "pte_clear        0x1000 pfn 5\n"));
	assert_null(strstr(without, " begin "));
	/* and the schedule is the same: same choices, same points */
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na * sizeof(a[0]));
	strip_spans(with);
	assert_string_equal(with, without);
	free(with);
	free(without);
}

static void quiet(struct mmn_sim *sim, const struct mmn_violation *v, void *arg)
{
	(void)sim;
	(void)v;
	++*(int *)arg;
}

struct uaf {
	unsigned long pfn;
	uint32_t gen;
};

/* Free a frame, then read it through the generation held before. */
static void uaf_body(struct mmn_sim *sim, void *arg)
{
	struct uaf *u = arg;
	uint64_t v = 0;

	u->pfn = mmn_alloc_page(sim, 0);
	u->gen = mmn_page_gen(sim, u->pfn);
	mmn_sched_point(sim, MMN_SCHED_EXPLICIT, u, "before_free", 0);
	assert_int_equal(mmn_put_page(sim, u->pfn), 0);
	mmn_sched_point(sim, MMN_SCHED_EXPLICIT, u, "after_free", 0);
	mmn_sched_point(sim, MMN_SCHED_EXPLICIT, u, "later", 0);
	assert_int_equal(mmn_phys_access(sim, u->pfn, u->gen, 0x40000000UL, false, &v), 0);
}

static void test_use_after_free_line_names_the_free(void **state)
{
	struct mmn_sim *sim = det_sim();
	struct mmn_sched_config c;
	struct mmn_sched_result res;
	struct uaf u = { 0 };
	char want[160];
	const char *t;
	int seen = 0;

	(void)state;
	mmn_check_set_handler(sim, quiet, &seen);
	mmn_sched_config_init(&c);
	assert_int_equal(mmn_sched_run(sim, &c, uaf_body, &u, &res), 0);
	assert_int_equal(seen, 1);
	t = mmn_sched_trace(sim, NULL);
	/* the free, at the step of the point before it */
	snprintf(want, sizeof(want), "     1 main     free             pfn %lu gen %u\n", u.pfn,
		 u.gen);
	assert_non_null(strstr(t, want));
	/* the access with the translation and generation used */
	snprintf(want, sizeof(want), "access           read 0x40000000 pfn %lu gen %u\n", u.pfn,
		 u.gen);
	assert_non_null(strstr(t, want));
	/* the violation: address, frame, generations, and the step of the free */
	snprintf(want, sizeof(want),
		 "use_after_free: secondary read of a freed frame [addr 0x40000000, pfn %lu gen "
		 "%u->%u]; cause: step 1 main freed pfn %lu gen %u\n",
		 u.pfn, u.gen, u.gen + 1, u.pfn, u.gen);
	assert_non_null(strstr(t, want));
	mmn_sim_destroy(sim);
}

/* mmn_sched_trace_chrome() of @trace into @out. */
static int chrome_of(const char *trace, char *out, size_t len)
{
	FILE *f = fmemopen(out, len, "w");
	int err;

	assert_non_null(f);
	err = mmn_sched_trace_chrome(trace, f);
	fclose(f);
	return err;
}

static const char race[] =
	"     1 rec      lock             ptl#6 0x0 -> rec *\n"
	"     1 rec      begin            try_to_unmap\n"
	"     1 rec      begin            flush_tlb_page [0x1000,0x2000)\n"
	"     2 rec      tlb_flush        flush_tlb_page#10 0x1000 -> rec *\n"
	"     2 rec      end              flush_tlb_page\n"
	"     2 rec      free             pfn 5 gen 1\n"
	"     3 rec      unlock           ptl#6 0x0 -> dev !\n"
	"     4 dev      lock             iommu#13 0x0 -> dev *\n"
	"     4 dev      violation        use_after_free: secondary read of a freed frame "
	"[addr 0x1000, pfn 5 gen 1->2]; cause: step 2 rec freed pfn 5 gen 1\n"
	"     5 rec      end              try_to_unmap\n";

static void test_chrome_nests_spans_and_draws_the_flow(void **state)
{
	char out[8192];
	const char *s, *f;

	(void)state;
	assert_int_equal(chrome_of(race, out, sizeof(out)), 0);
	/* nested spans: B try_to_unmap, B flush, E flush, ..., E try_to_unmap */
	s = strstr(out, "\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":1.001,\"cat\":\"op\",\"name\":\"try_to_unmap\"");
	assert_non_null(s);
	s = strstr(s, "\"ph\":\"B\",\"pid\":1,\"tid\":1,\"ts\":1.002,\"cat\":\"op\",\"name\":\"flush_tlb_page\"");
	assert_non_null(s);
	s = strstr(s, "\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":2.001,\"cat\":\"op\",\"name\":\"flush_tlb_page\"");
	assert_non_null(s);
	assert_non_null(strstr(s, "\"ph\":\"E\",\"pid\":1,\"tid\":1,\"ts\":5.000,\"cat\":\"op\",\"name\":\"try_to_unmap\""));
	/* the PTL held from 1.000 to 3.000 on rec's lock track */
	assert_non_null(strstr(out, "\"ts\":1.000,\"dur\":2.000,\"cat\":\"lock\",\"name\":\"ptl#6\""));
	/* the flow: from the free's slice (rec, 2.002) to the violation's (dev, 4.001) */
	s = strstr(out, "\"ph\":\"s\",\"pid\":1,\"tid\":1,\"ts\":2.002,\"cat\":\"frame\",\"name\":\"freed frame used\",\"id\":1}");
	f = strstr(out, "\"ph\":\"f\",\"pid\":1,\"tid\":2,\"ts\":4.001,\"bp\":\"e\",\"cat\":\"frame\",\"name\":\"freed frame used\",\"id\":1}");
	assert_non_null(s);
	assert_non_null(f);
	assert_non_null(strstr(out, "\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":2.002,\"dur\":0.001,\"cat\":\"frame\",\"name\":\"free pfn 5\""));
	assert_non_null(strstr(out, "\"ph\":\"X\",\"pid\":1,\"tid\":2,\"ts\":4.001,\"dur\":0.001,\"cat\":\"frame\",\"name\":\"violation use_after_free\""));
	/* no flow without a cause, and scheduling points are instants, not slices */
	assert_int_equal(chrome_of("     1 rec      lock             ptl#6 0x0 -> rec *\n"
				   "     2 dev      violation        protocol: x [pfn 5 gen 0->0]\n",
				   out, sizeof(out)),
			 0);
	assert_null(strstr(out, "\"ph\":\"s\""));
	assert_non_null(strstr(out, "\"ph\":\"i\",\"pid\":1,\"tid\":1,\"ts\":1.000,\"s\":\"t\",\"cat\":\"point\",\"name\":\"lock ptl#6\""));
	/* a lock never released is held to the end of the trace */
	assert_non_null(strstr(out, "\"ts\":1.000,\"dur\":1.001,\"cat\":\"lock\",\"name\":\"ptl#6\""));
}

static void test_parse_line_splits_points_and_events(void **state)
{
	struct mmn_sched_trace_line l;
	const char *p = "    12 vcpu     lock             kvm vcpu tlb#2 0x40 -> t1 !";
	const char *e = "    13 t1       begin            munmap [0x1000,0x2000)";

	(void)state;
	assert_int_equal(mmn_sched_trace_parse_line(p, strlen(p), &l), 1);
	assert_true(l.point);
	assert_int_equal(l.step, 12);
	assert_string_equal(l.actor, "vcpu");
	assert_string_equal(l.kind, "lock");
	assert_string_equal(l.object, "kvm vcpu tlb#2");
	assert_int_equal(l.addr, 0x40);
	assert_string_equal(l.next, "t1");
	assert_int_equal(l.mark, '!');
	assert_int_equal(mmn_sched_trace_parse_line(e, strlen(e), &l), 1);
	assert_false(l.point);
	assert_string_equal(l.kind, "begin");
	assert_string_equal(l.text, "munmap [0x1000,0x2000)");
	assert_int_equal(mmn_sched_trace_parse_line("   ", 3, &l), 0);
	assert_int_equal(mmn_sched_trace_parse_line("x t1 outcome ok", 15, &l), -EINVAL);
	assert_int_equal(mmn_sched_trace_parse_line(NULL, 0, &l), -EINVAL);
	assert_int_equal(mmn_sched_trace_parse_line(p, strlen(p), NULL), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_span_lines_are_no_scheduling_points),
		cmocka_unit_test(test_use_after_free_line_names_the_free),
		cmocka_unit_test(test_chrome_nests_spans_and_draws_the_flow),
		cmocka_unit_test(test_parse_line_splits_points_and_events),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
