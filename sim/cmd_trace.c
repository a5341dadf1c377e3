// SPDX-License-Identifier: MIT
/*
 * The trace command (docs/cli.md): a saved schedule as a timeline.
 *
 *   mmnsim trace FILE.replay.json [--points] [--width N] [--svg OUT.svg]
 *
 * It replays the saved choice list (as `mmnsim replay` does) and lays the
 * run's trace out as the kernel's comments draw a race: one column per
 * actor, time downward, each row a step. Rows are the operations (the
 * begin/end lines of det_span.c, indented by nesting), the locks taken and
 * released, the notifier callbacks, frees, device accesses and violations;
 * the other scheduling points (PTE reads and writes, TLB fills, SRCU) are
 * counted in one row per run of them unless --points. --svg draws the same
 * rows as SVG: spans as boxes, an arrow from a frame's free to the
 * violation that names it as its cause.
 * Exit status: 1 when the replayed schedule shows the violation, 0 when
 * not, 2 for bad input (one line on stderr).
 */
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "replay_file.h"

#define TR_MAX_ACTORS 16
#define TR_DEPTH 16
#define TR_STEP_W 6

enum tr_kind { TR_TEXT, TR_BEGIN, TR_END, TR_FREE, TR_VIOL };

struct tr_row {
	int actor, depth;
	enum tr_kind kind;
	unsigned long step, pfn;
	char text[640];
};

struct tr {
	struct tr_row *rows;
	size_t nrows, cap;
	char actors[TR_MAX_ACTORS][64];
	int nactors;
	int depth[TR_MAX_ACTORS];
	/* the current run of collapsed points: its actor (-1: none), count */
	int run_actor;
	unsigned long run_step, run_count;
	/* the current run of repeated frame events (free, access, pte_clear) */
	int rep_actor;
	unsigned long rep_count;
	bool points;
};

static int tr_actor(struct tr *t, const char *name)
{
	for (int i = 0; i < t->nactors; i++)
		if (!strcmp(t->actors[i], name))
			return i;
	if (t->nactors == TR_MAX_ACTORS)
		return TR_MAX_ACTORS - 1; /* more actors share the last column */
	snprintf(t->actors[t->nactors], sizeof(t->actors[0]), "%s", name);
	return t->nactors++;
}

static struct tr_row *tr_add(struct tr *t, int actor, unsigned long step, enum tr_kind kind,
			     const char *fmt, const char *a, const char *b)
{
	struct tr_row *r;

	if (t->nrows == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 256;
		struct tr_row *n = realloc(t->rows, cap * sizeof(*n));

		if (!n)
			return NULL;
		t->rows = n;
		t->cap = cap;
	}
	r = &t->rows[t->nrows++];
	memset(r, 0, sizeof(*r));
	r->actor = actor;
	r->depth = t->depth[actor];
	r->kind = kind;
	r->step = step;
	snprintf(r->text, sizeof(r->text), fmt, a, b ? b : "");
	return r;
}

/* End the run of collapsed points, as one row "· N points". */
static void tr_flush_run(struct tr *t)
{
	char n[32];

	if (t->run_actor < 0)
		return;
	snprintf(n, sizeof(n), "%lu", t->run_count);
	tr_add(t, t->run_actor, t->run_step, TR_TEXT, ". %s point%s", n,
	       t->run_count == 1 ? "" : "s");
	t->run_actor = -1;
}

/* The points a timeline shows without --points: the locks and the
 * notifier callbacks, and those that end or block an actor. */
static bool tr_shown_point(const char *kind)
{
	static const char *const shown[] = { "lock", "unlock", "callback_enter", "callback_exit",
					     "block", "exit", "srcu_sync", "wait" };

	for (size_t i = 0; i < sizeof(shown) / sizeof(shown[0]); i++)
		if (!strcmp(kind, shown[i]))
			return true;
	return false;
}

/* Repeated frame events of one actor (a loop freeing and touching frames):
 * the first 3 shown, the rest counted. True when @l is counted. */
static bool tr_repeat(struct tr *t, int a, const struct mmn_sched_trace_line *l)
{
	bool frame = !strcmp(l->kind, "free") || !strcmp(l->kind, "access") ||
		     !strcmp(l->kind, "pte_clear");

	if (!frame || t->points || a != t->rep_actor) {
		if (t->rep_count > 3) {
			char n[32];

			snprintf(n, sizeof(n), "%lu", t->rep_count - 3);
			tr_add(t, t->rep_actor, t->rows[t->nrows - 1].step, TR_TEXT,
			       "... %s more frees/accesses%s", n, "");
		}
		t->rep_actor = frame ? a : -1;
		t->rep_count = frame;
		return false;
	}
	return ++t->rep_count > 3;
}

static void tr_event(struct tr *t, int a, const struct mmn_sched_trace_line *l)
{
	const char *k = l->kind;
	struct tr_row *r;

	if (tr_repeat(t, a, l))
		return;
	if (!strcmp(k, "begin")) {
		tr_add(t, a, l->step, TR_BEGIN, "%s%s", l->text, NULL);
		if (t->depth[a] < TR_DEPTH)
			t->depth[a]++;
	} else if (!strcmp(k, "end")) {
		if (t->depth[a])
			t->depth[a]--;
		tr_add(t, a, l->step, TR_END, "/%s%s", l->text, NULL);
	} else if (!strcmp(k, "free")) {
		r = tr_add(t, a, l->step, TR_FREE, "FREE %s%s", l->text, NULL);
		if (r)
			sscanf(l->text, "pfn %lu", &r->pfn);
	} else if (!strcmp(k, "violation")) {
		const char *c = strstr(l->text, " freed pfn ");

		r = tr_add(t, a, l->step, TR_VIOL, "!! %s%s", l->text, NULL);
		if (r && c)
			sscanf(c, " freed pfn %lu", &r->pfn);
	} else if (strcmp(k, "outcome")) {
		tr_add(t, a, l->step, TR_TEXT, "%s %s", k, l->text);
	}
}

static int tr_line(struct tr *t, const char *line, size_t len)
{
	struct mmn_sched_trace_line l;
	int a, r = mmn_sched_trace_parse_line(line, len, &l);

	if (r <= 0)
		return r;
	if (!strcmp(l.actor, "(ctl)"))
		return 0; /* the controller: spawns main, and the outcome */
	a = tr_actor(t, l.actor);
	if (l.point && !t->points && !tr_shown_point(l.kind)) {
		if (t->run_actor != a) {
			tr_flush_run(t);
			t->run_actor = a;
			t->run_step = l.step;
			t->run_count = 0;
		}
		t->run_count++;
		return 0;
	}
	tr_flush_run(t);
	if (l.point) {
		char what[300];

		tr_repeat(t, a, &l);
		snprintf(what, sizeof(what), "%s %s%s", l.kind, l.object,
			 l.mark == '!' ? " (preempted)" : "");
		tr_add(t, a, l.step, TR_TEXT, "%s%s", what, NULL);
	} else {
		tr_event(t, a, &l);
	}
	return 0;
}

/* Build @t from @trace; -EINVAL on a bad line. */
static int tr_build(struct tr *t, const char *trace)
{
	int err = 0;

	t->run_actor = t->rep_actor = -1;
	for (const char *l = trace; *l && !err;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		err = tr_line(t, l, len);
		l += len + (nl != NULL);
	}
	tr_flush_run(t);
	tr_repeat(t, -1, &(struct mmn_sched_trace_line){ .kind = "" });
	return err;
}

/* ------------------------------------------------------------ text --- */

/* The next piece of @text from *@off that fits @room columns, broken at a
 * blank where there is one (a longer word is cut); its length. */
static size_t tr_wrap(const char *text, size_t *off, size_t room)
{
	const char *p = text + *off;
	size_t len = strlen(p), n = len <= room ? len : room;

	if (len > room) {
		size_t cut = n;

		while (cut && p[cut] != ' ')
			cut--;
		if (cut)
			n = cut;
	}
	*off += n;
	while (text[*off] == ' ')
		(*off)++;
	return n;
}

/* Print row @r's cell (indented by its depth, wrapped at blanks to @w
 * columns, the continuation indented 2 more) in its actor's column. */
static void tr_cell(const struct tr_row *r, int w)
{
	int indent = 2 * r->depth;
	size_t off = 0;

	if (indent > w - 12)
		indent = w - 12 > 0 ? w - 12 : 0;
	for (int part = 0; !part || r->text[off]; part++) {
		int in = indent + (part ? 2 : 0);
		size_t start = off, n = tr_wrap(r->text, &off, (size_t)(w - 1 - in));

		if (part)
			printf("%*s ", TR_STEP_W, "");
		else
			printf("%*lu ", TR_STEP_W, r->step);
		printf("%*s%.*s\n", r->actor * w + in, "", (int)n, r->text + start);
	}
}

static void tr_print(const struct tr *t, const struct replay *rp, int width, bool violating)
{
	int w = (width - TR_STEP_W - 1) / (t->nactors ? t->nactors : 1);

	if (w < 12)
		w = 12;
	printf("%s %s, %zu choices (found by %s, seed %llu, schedule %lu)%s\n", rp->s->id,
	       rp->p.wrong ? "wrong" : "right", rp->nr_choices, rp->strategy,
	       (unsigned long long)rp->seed, rp->index, violating ? ": violation reproduced" : "");
	printf("%*s ", TR_STEP_W, "step");
	for (int i = 0; i < t->nactors; i++)
		printf("%-*.*s", w, w - 1, t->actors[i]);
	printf("\n%*s ", TR_STEP_W, "");
	for (int i = 0; i < t->nactors; i++)
		printf("%-*.*s", w, w - 1, "--------------------------------------------------");
	putchar('\n');
	for (size_t i = 0; i < t->nrows; i++)
		tr_cell(&t->rows[i], w);
}

/* ------------------------------------------------------------- SVG --- */

static void svg_text(FILE *f, const char *s)
{
	for (; *s; s++) {
		if (*s == '<')
			fputs("&lt;", f);
		else if (*s == '>')
			fputs("&gt;", f);
		else if (*s == '&')
			fputs("&amp;", f);
		else
			fputc(*s, f);
	}
}

#define SVG_ROW 16
#define SVG_TOP 56
#define SVG_LEFT 52

/* The row of the free that @v's cause names: the last free of its pfn. */
static long svg_cause(const struct tr *t, size_t v)
{
	for (size_t i = v; i-- > 0;)
		if (t->rows[i].kind == TR_FREE && t->rows[i].pfn == t->rows[v].pfn)
			return (long)i;
	return -1;
}

static void svg_spans(FILE *f, const struct tr *t, int colw)
{
	for (size_t i = 0; i < t->nrows; i++) {
		const struct tr_row *b = &t->rows[i];
		size_t e;
		int open = 0;

		if (b->kind != TR_BEGIN)
			continue;
		for (e = i + 1; e < t->nrows; e++) {
			if (t->rows[e].actor != b->actor)
				continue;
			open += t->rows[e].kind == TR_BEGIN;
			if (t->rows[e].kind == TR_END && open-- == 0)
				break;
		}
		if (e == t->nrows)
			e--;
		fprintf(f, "<rect class=\"span d%d\" x=\"%d\" y=\"%zu\" width=\"%d\" height=\"%zu\"/>\n",
			b->depth % 4, SVG_LEFT + b->actor * colw + 4 + 10 * b->depth,
			SVG_TOP + i * SVG_ROW + 2, colw - 8 - 20 * b->depth,
			(e - i) * SVG_ROW + SVG_ROW - 4);
	}
}

static int svg_write(const struct tr *t, const struct replay *rp, FILE *f)
{
	int colw = 280, width = SVG_LEFT + t->nactors * colw + 10;
	size_t height = SVG_TOP + t->nrows * SVG_ROW + 20;

	fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%zu\" "
		   "viewBox=\"0 0 %d %zu\" font-family=\"monospace\" font-size=\"11\">\n"
		   "<style>.span{fill:#dbe8f6;stroke:#5b7fa6}.d1{fill:#e6f2df;stroke:#6f9a57}"
		   ".d2{fill:#fbefd5;stroke:#b08a3e}.d3{fill:#f1e1f3;stroke:#8e5a96}"
		   ".free{fill:#b00000;font-weight:bold}.viol{fill:#b00000;font-weight:bold}"
		   ".arrow{stroke:#b00000;stroke-width:2;fill:none;marker-end:url(#head)}"
		   ".col{stroke:#999;stroke-dasharray:3 3}.step{fill:#666}</style>\n"
		   "<defs><marker id=\"head\" markerWidth=\"10\" markerHeight=\"8\" refX=\"9\" "
		   "refY=\"4\" orient=\"auto\"><path d=\"M0,0 L10,4 L0,8 z\" fill=\"#b00000\"/>"
		   "</marker></defs>\n<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n",
		width, height, width, height);
	fprintf(f, "<text x=\"4\" y=\"16\" font-size=\"13\" font-weight=\"bold\">%s %s, "
		   "schedule %lu (%s, seed %llu)</text>\n",
		rp->s->id, rp->p.wrong ? "wrong" : "right", rp->index, rp->strategy,
		(unsigned long long)rp->seed);
	for (int i = 0; i < t->nactors; i++) {
		int x = SVG_LEFT + i * colw;

		fprintf(f, "<line class=\"col\" x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%zu\"/>\n", x,
			SVG_TOP - 14, x, height);
		fprintf(f, "<text x=\"%d\" y=\"%d\" font-size=\"13\" font-weight=\"bold\">", x + 6,
			SVG_TOP - 20);
		svg_text(f, t->actors[i]);
		fputs("</text>\n", f);
	}
	svg_spans(f, t, colw);
	for (size_t i = 0; i < t->nrows; i++) {
		const struct tr_row *r = &t->rows[i];
		int x = SVG_LEFT + r->actor * colw + 8 + 10 * r->depth;
		size_t y = SVG_TOP + i * SVG_ROW + SVG_ROW - 4;
		/* the box of depth d spans colw - 8 - 20 d from 4 + 10 d; 11 px
		 * monospace is about 6.7 px a character */
		int chars = (int)((colw - 20 - 20 * r->depth) / 6.7);

		if (!i || t->rows[i - 1].step != r->step)
			fprintf(f, "<text class=\"step\" x=\"4\" y=\"%zu\">%lu</text>\n", y, r->step);
		fprintf(f, "<text x=\"%d\" y=\"%zu\"%s><title>", x, y,
			r->kind == TR_FREE ? " class=\"free\"" : r->kind == TR_VIOL ? " class=\"viol\"" : "");
		svg_text(f, r->text);
		fputs("</title>", f);
		{
			/* a violation shows its kind and message; its title all */
			size_t n = r->kind == TR_VIOL ? strcspn(r->text, "[;") : strlen(r->text);
			char shown[320];

			snprintf(shown, sizeof(shown), "%.*s",
				 (int)(n < (size_t)chars ? n : (size_t)chars), r->text);
			svg_text(f, shown);
		}
		fputs("</text>\n", f);
	}
	for (size_t i = 0; i < t->nrows; i++) {
		long c;

		if (t->rows[i].kind != TR_VIOL || !t->rows[i].pfn || (c = svg_cause(t, i)) < 0)
			continue;
		fprintf(f, "<path class=\"arrow\" d=\"M%d,%zu C%d,%zu %d,%zu %d,%zu\"/>\n",
			SVG_LEFT + t->rows[c].actor * colw + colw - 30,
			SVG_TOP + (size_t)c * SVG_ROW + SVG_ROW / 2,
			SVG_LEFT + t->rows[c].actor * colw + colw + 40,
			SVG_TOP + (size_t)c * SVG_ROW + SVG_ROW / 2,
			SVG_LEFT + t->rows[i].actor * colw - 40, SVG_TOP + i * SVG_ROW + SVG_ROW / 2,
			SVG_LEFT + t->rows[i].actor * colw + 4, SVG_TOP + i * SVG_ROW + SVG_ROW / 2);
	}
	fputs("</svg>\n", f);
	return ferror(f) ? -EIO : 0;
}

/* ---------------------------------------------------------- command --- */

struct trace_opts {
	const char *file, *svg;
	bool points;
	unsigned int width;
};

static int trace_run(const struct trace_opts *o, struct cli_env *env, FILE *svg)
{
	struct replay rp;
	struct tr t = { 0 };
	bool violating = false;
	char *trace;
	int status;

	if (!replay_load(o->file, &rp))
		return EXIT_USAGE;
	if (!replay_resolve(o->file, &rp, env)) {
		replay_free(&rp);
		return EXIT_USAGE;
	}
	trace = replay_rerun_trace(&rp, &violating);
	if (!trace) {
		replay_free(&rp);
		return EXIT_USAGE;
	}
	t.points = o->points;
	if (tr_build(&t, trace)) {
		fprintf(stderr, "mmnsim: trace: %s: the replay's trace has a line of an unknown "
				"format (another mmnsim version?)\n", o->file);
		status = EXIT_USAGE;
	} else {
		tr_print(&t, &rp, (int)o->width, violating);
		status = violating ? EXIT_VIOLATION : EXIT_OK;
		if (svg && svg_write(&t, &rp, svg)) {
			fprintf(stderr, "mmnsim: trace: cannot write %s\n", o->svg);
			status = EXIT_USAGE;
		}
	}
	free(t.rows);
	free(trace);
	replay_free(&rp);
	return status;
}

int cmd_trace(int argc, char **argv, struct cli_env *env)
{
	struct trace_opts o = { .width = 120 };
	const struct cli_opt opts[] = {
		{ "--points", CLI_FLAG, &o.points, 0, 0, NULL },
		{ "--width", CLI_UINT, &o.width, 40, 1000, NULL },
		{ "--svg", CLI_STRING, &o.svg, 0, 0, NULL },
		{ NULL, CLI_FLAG, NULL, 0, 0, NULL },
	};
	const struct cli_syntax syn = { .cmd = "trace", .what = "file", .positional = &o.file,
					.opts = opts };
	int status = cli_parse(argc, argv, &syn);
	FILE *svg = NULL;

	if (status == EXIT_OK && !o.file) {
		fprintf(stderr, "mmnsim: trace needs a replay file (saved by mmnsim explore)\n");
		status = EXIT_USAGE;
	}
	if (status != EXIT_OK || env->dry)
		return cli_parse_status(status);
	/* --svg is checked before the replay runs. */
	if (o.svg && !(svg = fopen(o.svg, "w"))) {
		fprintf(stderr, "mmnsim: trace: cannot write --svg %s: %s\n", o.svg, strerror(errno));
		return EXIT_USAGE;
	}
	status = trace_run(&o, env, svg);
	if (svg && fclose(svg) && status != EXIT_USAGE) {
		fprintf(stderr, "mmnsim: trace: cannot write --svg %s: %s\n", o.svg, strerror(errno));
		status = EXIT_USAGE;
	}
	if (svg && status == EXIT_USAGE)
		remove(o.svg);
	return status;
}
