// SPDX-License-Identifier: MIT
/*
 * The deterministic backend's text trace as Chrome trace-event JSON
 * (mmn_sched_trace_chrome()), and the parser of one trace line
 * (mmn_sched_trace_parse_line()). The trace is the only input, so a trace
 * saved by `mmnsim explore` converts the same as one taken from a live
 * simulation.
 *
 * Line shapes (sched.h): "STEP ACTOR KIND OBJECT ADDR -> NEXT[MARK]" for a
 * scheduling point (the OBJECT label may hold blanks), and
 * "STEP ACTOR KIND [TEXT]" for an event; the events "begin NAME ..." and
 * "end NAME" bracket a modelled kernel function (det_span.c).
 *
 * Time: step N is at N µs, and the k-th line within a step at N µs + k ns,
 * so every slice of a track starts at its own ts and the file's order is
 * the timeline's.
 */
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#define TC_MAX_ACTORS 256
#define TC_DEPTH 32
/* Locks of an actor's second track, after its operations' track. */
#define TC_LOCK_TRACK (TC_MAX_ACTORS + 1)

/* A time: step N at N µs, line k of the step at N µs + k ns (k < 1000);
 * kept in two parts, as steps go up to ULONG_MAX. */
struct tc_ts {
	unsigned long step;
	unsigned int ns;
};

struct tc_lock {
	char obj[192];
	struct tc_ts ts;
};

struct tc_actor {
	char name[64];
	int nspan, nlock;
	bool lock_track;
	char span[TC_DEPTH][64];
	struct tc_lock lock[TC_DEPTH];
};

/* The last free of a frame: where a flow to its stale use starts. */
struct tc_free {
	unsigned long pfn;
	struct tc_ts ts;
	int tid;
};

struct tc_state {
	FILE *out;
	struct tc_actor act[TC_MAX_ACTORS];
	int nr;
	struct tc_ts ts;             /* the current line's */
	bool started;
	struct tc_free *frees;
	size_t nfrees, cap_frees;
	unsigned long flows;
	struct mmn_sched_trace_line l;
};

static void tc_string(FILE *out, const char *s, size_t n)
{
	fputc('"', out);
	for (size_t i = 0; i < n && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(out, "\\%c", c);
		else if (c < 0x20)
			fprintf(out, "\\u%04x", c);
		else
			fputc(c, out);
	}
	fputc('"', out);
}

/* Skip blanks, then return the next word of @s (length in @n). */
static const char *tc_word(const char **s, size_t *n)
{
	const char *p = *s, *w;

	while (*p == ' ')
		p++;
	w = p;
	while (*p && *p != ' ' && *p != '\n')
		p++;
	*n = (size_t)(p - w);
	*s = p;
	return w;
}

/* Whether the word @w of @n bytes is a step: decimal digits that fit an
 * unsigned long, into *@out. */
static bool tc_number(const char *w, size_t n, unsigned long *out)
{
	unsigned long v = 0;

	if (!n)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned int d = (unsigned int)(w[i] - '0');

		if (w[i] < '0' || w[i] > '9' || v > (ULONG_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* Whether the word @w of @n bytes is an address as the trace writes it:
 * "0x" and 1 to 16 hexadecimal digits. */
static bool tc_address(const char *w, size_t n)
{
	if (n < 3 || n > 18 || w[0] != '0' || w[1] != 'x')
		return false;
	for (size_t i = 2; i < n; i++)
		if (!isxdigit((unsigned char)w[i]))
			return false;
	return true;
}


int mmn_sched_trace_parse_line(const char *line, size_t len, struct mmn_sched_trace_line *out)
{
	char buf[1024];
	const char *p = buf, *w, *arrow;
	size_t n;

	if (!line || !out)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	w = tc_word(&p, &n);
	if (!n)
		return 0; /* blank line */
	if (!tc_number(w, n, &out->step))
		return -EINVAL;
	w = tc_word(&p, &n);
	if (!n || n >= sizeof(out->actor))
		return -EINVAL;
	memcpy(out->actor, w, n);
	w = tc_word(&p, &n);
	if (!n || n >= sizeof(out->kind))
		return -EINVAL;
	memcpy(out->kind, w, n);
	while (*p == ' ')
		p++;
	arrow = strstr(p, " -> ");
	if (!arrow) {
		snprintf(out->text, sizeof(out->text), "%s", p);
		return 1;
	}
	/* OBJECT ADDR -> NEXT[MARK]: the address is the last word before the
	 * arrow; the object label before it may hold blanks. */
	{
		const char *addr = arrow, *next = arrow + 4;
		size_t on, an, nn = strlen(next);

		while (addr > p && addr[-1] != ' ')
			addr--;
		an = (size_t)(arrow - addr);
		on = (size_t)(addr - p);
		while (on && p[on - 1] == ' ')
			on--;
		if (!on || !tc_address(addr, an) || on >= sizeof(out->object))
			return -EINVAL;
		if (nn && (next[nn - 1] == '*' || next[nn - 1] == '!'))
			out->mark = next[--nn];
		while (nn && next[nn - 1] == ' ')
			nn--;
		if (nn >= sizeof(out->next))
			return -EINVAL;
		out->point = true;
		memcpy(out->object, p, on);
		out->addr = strtoul(addr, NULL, 16);
		memcpy(out->next, next, nn);
	}
	return 1;
}

/* Declare the track @tid named @name (and @suffix), sorted by @sort. */
static void tc_track(struct tc_state *t, int tid, const char *name, const char *suffix, int sort)
{
	char label[96];

	snprintf(label, sizeof(label), "%s%s", name, suffix);
	fprintf(t->out, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":",
		tid);
	tc_string(t->out, label, strlen(label));
	fprintf(t->out, "}},\n{\"ph\":\"M\",\"name\":\"thread_sort_index\",\"pid\":1,\"tid\":%d,"
		"\"args\":{\"sort_index\":%d}}", tid, sort);
}

/* The index of actor @name, its track declared on first use. */
static int tc_actor(struct tc_state *t, const char *name)
{
	for (int i = 0; i < t->nr; i++)
		if (!strcmp(t->act[i].name, name))
			return i;
	if (t->nr == TC_MAX_ACTORS)
		return TC_MAX_ACTORS - 1; /* more actors share the last track */
	snprintf(t->act[t->nr].name, sizeof(t->act[t->nr].name), "%s", name);
	tc_track(t, t->nr + 1, name, "", 2 * t->nr);
	return t->nr++;
}

/* The head of an event: ph, track, ts (µs, with ns digits). */
static void tc_head(struct tc_state *t, const char *ph, int tid, struct tc_ts ts)
{
	fprintf(t->out, ",\n{\"ph\":\"%s\",\"pid\":1,\"tid\":%d,\"ts\":%lu.%03u", ph, tid,
		ts.step, ts.ns);
}

/* A complete slice "X" on @tid from @ts to @end (later), with one string
 * argument; @end NULL: 1 ns long. */
static void tc_slice(struct tc_state *t, int tid, struct tc_ts ts, const struct tc_ts *end,
		     const char *cat, const char *name, const char *arg, const char *val)
{
	unsigned long us = 0;
	unsigned int ns = 1;

	if (end) {
		us = end->step - ts.step - (end->ns < ts.ns);
		ns = (end->ns + 1000 - ts.ns) % 1000;
	}
	tc_head(t, "X", tid, ts);
	fprintf(t->out, ",\"dur\":%lu.%03u,\"cat\":\"%s\",\"name\":", us, ns, cat);
	tc_string(t->out, name, strlen(name));
	fprintf(t->out, ",\"args\":{\"%s\":", arg);
	tc_string(t->out, val, strlen(val));
	fputs("}}", t->out);
}

static void tc_instant(struct tc_state *t, int tid, const char *scope, const char *name,
		       const char *detail)
{
	tc_head(t, "i", tid, t->ts);
	fprintf(t->out, ",\"s\":\"%s\",\"name\":", scope);
	tc_string(t->out, name, strlen(name));
	fputs(",\"args\":{\"detail\":", t->out);
	tc_string(t->out, detail, strlen(detail));
	fputs("}}", t->out);
}

/* A lock point: a held lock starts; an unlock ends the slice of its lock
 * on the actor's lock track (a lock not in the stack, taken before the
 * trace started or past TC_DEPTH, has no slice). */
static void tc_lock_point(struct tc_state *t, int a)
{
	struct tc_actor *ac = &t->act[a];
	const struct mmn_sched_trace_line *l = &t->l;

	if (!strcmp(l->kind, "lock")) {
		if (ac->nlock < TC_DEPTH) {
			snprintf(ac->lock[ac->nlock].obj, sizeof(ac->lock[0].obj), "%s", l->object);
			ac->lock[ac->nlock++].ts = t->ts;
		}
		return;
	}
	for (int i = ac->nlock - 1; i >= 0; i--) {
		if (strcmp(ac->lock[i].obj, l->object))
			continue;
		if (!ac->lock_track) {
			tc_track(t, TC_LOCK_TRACK + a, ac->name, " locks", 2 * a + 1);
			ac->lock_track = true;
		}
		tc_slice(t, TC_LOCK_TRACK + a, ac->lock[i].ts, &t->ts, "lock",
			 l->object, "held", "from the lock point to the unlock point");
		memmove(&ac->lock[i], &ac->lock[i + 1], (size_t)(ac->nlock - i - 1) * sizeof(ac->lock[0]));
		ac->nlock--;
		return;
	}
}

static void tc_point(struct tc_state *t, int a)
{
	const struct mmn_sched_trace_line *l = &t->l;
	char name[256], addr[24];
	const char *mark = l->mark == '*' ? "choice" : l->mark == '!' ? "preemption" : "";

	if (!strcmp(l->kind, "lock") || !strcmp(l->kind, "unlock"))
		tc_lock_point(t, a);
	snprintf(name, sizeof(name), "%s %s", l->kind, l->object);
	snprintf(addr, sizeof(addr), "0x%lx", l->addr);
	tc_head(t, "i", a + 1, t->ts);
	fputs(",\"s\":\"t\",\"cat\":\"point\",\"name\":", t->out);
	tc_string(t->out, name, strlen(name));
	fputs(",\"args\":{\"addr\":", t->out);
	tc_string(t->out, addr, strlen(addr));
	fputs(",\"next\":", t->out);
	tc_string(t->out, l->next, strlen(l->next));
	fputs(",\"mark\":", t->out);
	tc_string(t->out, mark, strlen(mark));
	fputs("}}", t->out);
}

/* "begin NAME REST": a "B" named NAME with REST as its argument. */
static void tc_begin(struct tc_state *t, int a)
{
	struct tc_actor *ac = &t->act[a];
	const char *rest = t->l.text;
	size_t n = strcspn(rest, " ");
	char name[64];

	snprintf(name, sizeof(name), "%.*s", (int)(n < sizeof(name) ? n : sizeof(name) - 1), rest);
	rest += n;
	while (*rest == ' ')
		rest++;
	if (ac->nspan == TC_DEPTH)
		return; /* deeper than any modelled path: not drawn */
	snprintf(ac->span[ac->nspan++], sizeof(ac->span[0]), "%s", name);
	tc_head(t, "B", a + 1, t->ts);
	fputs(",\"cat\":\"op\",\"name\":", t->out);
	tc_string(t->out, name, strlen(name));
	fputs(",\"args\":{\"range\":", t->out);
	tc_string(t->out, rest, strlen(rest));
	fputs("}}", t->out);
}

/* "end NAME": close the spans opened since NAME's begin, innermost first
 * (an end without its begin, as after a truncated trace, closes nothing). */
static void tc_end(struct tc_state *t, int a, const char *name)
{
	struct tc_actor *ac = &t->act[a];
	int i = ac->nspan - 1;

	if (name) {
		while (i >= 0 && strcmp(ac->span[i], name))
			i--;
		if (i < 0)
			return;
	} else {
		i = 0;
	}
	while (ac->nspan > i) {
		ac->nspan--;
		/* "E" with its name and category: the DevTools trace engine
		 * reads the name of every event. */
		tc_head(t, "E", a + 1, t->ts);
		fputs(",\"cat\":\"op\",\"name\":", t->out);
		tc_string(t->out, ac->span[ac->nspan], strlen(ac->span[ac->nspan]));
		fputs("}", t->out);
	}
}

static void tc_free_note(struct tc_state *t, int a, unsigned long pfn)
{
	size_t i;

	for (i = 0; i < t->nfrees && t->frees[i].pfn != pfn; i++)
		;
	if (i == t->nfrees) {
		if (t->nfrees == t->cap_frees) {
			size_t cap = t->cap_frees ? t->cap_frees * 2 : 64;
			struct tc_free *f = realloc(t->frees, cap * sizeof(*f));

			if (!f)
				return;
			t->frees = f;
			t->cap_frees = cap;
		}
		t->nfrees++;
	}
	t->frees[i] = (struct tc_free){ .pfn = pfn, .ts = t->ts, .tid = a + 1 };
}

/* A violation: a short slice, and a flow from the free its cause names.
 * The DevTools trace engine binds a flow event to the slice of the same ts,
 * track and category, and groups the two ends by category, name and id: the
 * free's slice, the violation's and the flow share the category "frame". */
static void tc_violation(struct tc_state *t, int a)
{
	const char *text = t->l.text, *cause = strstr(text, "; cause: step ");
	size_t n = strcspn(text, ":");
	char name[96];
	unsigned long pfn;

	snprintf(name, sizeof(name), "violation %.*s", (int)(n < 80 ? n : 80), text);
	tc_slice(t, a + 1, t->ts, NULL, "frame", name, "detail", text);
	if (!cause || !(cause = strstr(cause, " freed pfn ")) ||
	    sscanf(cause, " freed pfn %lu", &pfn) != 1)
		return;
	for (size_t i = 0; i < t->nfrees; i++) {
		if (t->frees[i].pfn != pfn)
			continue;
		t->flows++;
		tc_head(t, "s", t->frees[i].tid, t->frees[i].ts);
		fprintf(t->out, ",\"cat\":\"frame\",\"name\":\"freed frame used\",\"id\":%lu}",
			t->flows);
		tc_head(t, "f", a + 1, t->ts);
		fprintf(t->out, ",\"bp\":\"e\",\"cat\":\"frame\",\"name\":\"freed frame used\","
			"\"id\":%lu}", t->flows);
		return;
	}
}

static void tc_event(struct tc_state *t, int a)
{
	const char *k = t->l.kind, *text = t->l.text;
	unsigned long pfn;

	if (!strcmp(k, "begin")) {
		tc_begin(t, a);
	} else if (!strcmp(k, "end")) {
		if (*text)
			tc_end(t, a, text);
	} else if (!strcmp(k, "free") && sscanf(text, "pfn %lu", &pfn) == 1) {
		char name[48];

		snprintf(name, sizeof(name), "free pfn %lu", pfn);
		tc_slice(t, a + 1, t->ts, NULL, "frame", name, "detail", text);
		tc_free_note(t, a, pfn);
	} else if (!strcmp(k, "access") || !strcmp(k, "pte_clear")) {
		tc_slice(t, a + 1, t->ts, NULL, k, k, "detail", text);
	} else if (!strcmp(k, "violation")) {
		tc_violation(t, a);
	} else {
		tc_instant(t, a + 1, strcmp(k, "outcome") && strcmp(k, "deadlock") ? "t" : "g", k,
			   text);
	}
}

/* One line (without its newline) of @len bytes. */
static int tc_line(struct tc_state *t, const char *line, size_t len)
{
	int r = mmn_sched_trace_parse_line(line, len, &t->l);
	int a;

	if (r <= 0)
		return r;
	if (t->l.step != t->ts.step || !t->started)
		t->ts = (struct tc_ts){ .step = t->l.step, .ns = 0 };
	else if (t->ts.ns < 998)
		t->ts.ns++; /* past 998 lines in a step, the rest share a time */
	t->started = true;
	a = tc_actor(t, t->l.actor);
	if (t->l.point)
		tc_point(t, a);
	else
		tc_event(t, a);
	return 0;
}

/* The end of the trace: what is still open ends at the last line. */
static void tc_close(struct tc_state *t)
{
	if (t->ts.ns < 999)
		t->ts.ns++;
	for (int a = 0; a < t->nr; a++) {
		struct tc_actor *ac = &t->act[a];

		tc_end(t, a, NULL);
		while (ac->nlock) {
			snprintf(t->l.object, sizeof(t->l.object), "%s", ac->lock[ac->nlock - 1].obj);
			snprintf(t->l.kind, sizeof(t->l.kind), "unlock");
			tc_lock_point(t, a);
		}
	}
}

int mmn_sched_trace_chrome(const char *trace, FILE *out)
{
	struct tc_state *t;
	int err = 0;

	if (!trace || !out)
		return -EINVAL;
	t = calloc(1, sizeof(*t));
	if (!t)
		return -ENOMEM;
	t->out = out;
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"ts\":\"microseconds: step N at N us, "
	      "the lines within a step 1 ns apart\"},"
	      "\"traceEvents\":[\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,"
	      "\"args\":{\"name\":\"mmnsim schedule\"}}",
	      out);
	for (const char *l = trace; *l && !err;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		err = tc_line(t, l, len);
		l += len + (nl != NULL);
	}
	tc_close(t);
	fputs("\n]}\n", out);
	free(t->frees);
	free(t);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}
