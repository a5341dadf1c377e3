// SPDX-License-Identifier: MIT
/*
 * The deterministic backend's text trace as Chrome trace-event JSON
 * (mmn_sched_trace_chrome()). The trace is the only input, so a trace saved
 * by `mmnsim explore` converts the same as one taken from a live simulation.
 *
 * Line shapes (sched.h): "STEP ACTOR KIND OBJECT ADDR -> NEXT[MARK]" for a
 * scheduling point (the OBJECT label may hold blanks), and
 * "STEP ACTOR KIND [TEXT]" for an event.
 */
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <mmnsim/sched.h>

#define TC_MAX_ACTORS 256
#define TC_NAME 64

struct tc_state {
	FILE *out;
	char names[TC_MAX_ACTORS][TC_NAME];
	int nr;
	bool first;
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

/* The track of actor @name, declared (thread_name metadata) on first use. */
static int tc_tid(struct tc_state *t, const char *name)
{
	for (int i = 0; i < t->nr; i++)
		if (!strcmp(t->names[i], name))
			return i + 1;
	if (t->nr == TC_MAX_ACTORS)
		return TC_MAX_ACTORS; /* more actors share the last track */
	snprintf(t->names[t->nr], TC_NAME, "%s", name);
	t->nr++;
	fprintf(t->out, ",\n{\"ph\":\"M\",\"name\":\"thread_name\",\"pid\":1,\"tid\":%d,\"args\":{\"name\":",
		t->nr);
	tc_string(t->out, name, strlen(name));
	fputs("}}", t->out);
	return t->nr;
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

/* One line (without its newline) of @len bytes. */
static int tc_line(struct tc_state *t, const char *line, size_t len)
{
	char buf[1024], actor[TC_NAME], kind[TC_NAME], name[2 * TC_NAME + 128];
	const char *p = buf, *w, *arrow;
	unsigned long step;
	size_t n;
	int tid;

	if (len >= sizeof(buf))
		len = sizeof(buf) - 1;
	memcpy(buf, line, len);
	buf[len] = '\0';
	w = tc_word(&p, &n);
	if (!n)
		return 0; /* blank line */
	if (!tc_number(w, n, &step))
		return -EINVAL;
	w = tc_word(&p, &n);
	if (!n || n >= TC_NAME)
		return -EINVAL;
	memcpy(actor, w, n);
	actor[n] = '\0';
	w = tc_word(&p, &n);
	if (!n || n >= TC_NAME)
		return -EINVAL;
	memcpy(kind, w, n);
	kind[n] = '\0';
	while (*p == ' ')
		p++;
	tid = tc_tid(t, actor);
	arrow = strstr(p, " -> ");
	if (arrow) {
		/* OBJECT ADDR -> NEXT[MARK] */
		const char *obj, *addr, *next = arrow + 4;
		size_t on, an, nn = strlen(next);
		const char *mark = "";

		/* The address is the last word before the arrow; the object
		 * label before it may hold blanks ("kvm vcpu tlb#2"). */
		addr = arrow;
		while (addr > p && addr[-1] != ' ')
			addr--;
		an = (size_t)(arrow - addr);
		obj = p;
		on = (size_t)(addr - p);
		while (on && obj[on - 1] == ' ')
			on--;
		if (!on || !tc_address(addr, an))
			return -EINVAL;
		if (nn && (next[nn - 1] == '*' || next[nn - 1] == '!')) {
			mark = next[nn - 1] == '*' ? "choice" : "preemption";
			nn--;
		}
		while (nn && next[nn - 1] == ' ')
			nn--;
		snprintf(name, sizeof(name), "%s %.*s", kind, (int)on, obj);
		fprintf(t->out, ",\n{\"ph\":\"X\",\"pid\":1,\"tid\":%d,\"ts\":%lu,\"dur\":1,\"cat\":",
			tid, step);
		tc_string(t->out, kind, strlen(kind));
		fputs(",\"name\":", t->out);
		tc_string(t->out, name, strlen(name));
		fputs(",\"args\":{\"addr\":", t->out);
		tc_string(t->out, addr, an);
		fputs(",\"next\":", t->out);
		tc_string(t->out, next, nn);
		fputs(",\"mark\":", t->out);
		tc_string(t->out, mark, strlen(mark));
		fputs("}}", t->out);
	} else {
		fprintf(t->out, ",\n{\"ph\":\"i\",\"s\":\"%s\",\"pid\":1,\"tid\":%d,\"ts\":%lu,\"name\":",
			strcmp(kind, "outcome") && strcmp(kind, "deadlock") ? "t" : "g", tid, step);
		tc_string(t->out, kind, strlen(kind));
		fputs(",\"args\":{\"detail\":", t->out);
		tc_string(t->out, p, strlen(p));
		fputs("}}", t->out);
	}
	return 0;
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
	fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"ts\":\"scheduling-point step\"},"
	      "\"traceEvents\":[\n{\"ph\":\"M\",\"name\":\"process_name\",\"pid\":1,"
	      "\"args\":{\"name\":\"mmnsim schedule\"}}",
	      out);
	for (const char *l = trace; *l && !err;) {
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);

		err = tc_line(t, l, len);
		l += len + (nl != NULL);
	}
	fputs("\n]}\n", out);
	free(t);
	if (!err && (fflush(out) || ferror(out)))
		err = -EIO;
	return err;
}
