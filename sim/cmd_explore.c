// SPDX-License-Identifier: MIT
/*
 * mmnsim explore SCENARIO|all [options] (docs/cli.md, docs/exploration.md).
 *
 * One scenario: explore its schedules (mmn_scenario_explore()) under the
 * chosen strategy, save every violating schedule found (up to --max-saves
 * per job) as a replay file with its text and Chrome traces, print a
 * summary or one JSON object. Exit 1 when a violating schedule was found,
 * 0 when none, 2 for bad input.
 *
 * all: every scenario under the wrong and the right setting, one table
 * (the README's main job). Exit 0 when each row is as the seeds claim (the
 * bug found under each wrong setting that has one, nothing under every
 * right setting, nothing in the count scenarios), 1 otherwise.
 *
 * --jobs J forks J processes, each a sub-shard (shard * J + k of shards * J)
 * of the requested shard, so that a job array of --shard runs and the jobs
 * inside each run partition the same schedule indexes. Their statistics
 * live in a shared anonymous mapping that the parent polls for the progress
 * line and sums at the end.
 *
 * --schedules FILE keeps one TSV row per schedule (index, steps,
 * modelled_ns, outcome, violating): each job writes its rows to an unnamed
 * temporary file, from the differences of the cumulative statistics that
 * the progress callback (called after every schedule then) and the end of
 * the exploration hand it; the parent merges them into FILE in index order
 * once the jobs have ended.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "scenario_file.h"
#include "replay_file.h"

#define EXPLORE_MAX_JOBS 64
#define EXPLORE_SAVED_NAMES 4 /* file names reported per job */

/* One job's results, in memory shared with the parent. */
struct job_slot {
	struct mmn_explore_stats st;
	int err;
	bool finished;
	unsigned long saves;
	char saved[EXPLORE_SAVED_NAMES][1024];
};

struct shared {
	atomic_bool stop; /* a job found a violation and we stop at the first */
	struct job_slot slot[EXPLORE_MAX_JOBS];
};

struct explore_opts {
	struct mmn_explore_config cfg; /* the requested shard; jobs split it */
	const struct cli_env *env;     /* the loaded plugins (recorded in replay files) */
	unsigned int jobs;
	const char *out_dir;
	unsigned long max_saves;
	const char *schedules; /* --schedules FILE, or NULL */
	bool json, quiet;
};

/* The cumulative counts a schedule's row is the difference of. */
struct rows_mark {
	unsigned long schedules, violating, deadlocks, budgets;
	uint64_t steps, modelled_ns;
};

struct job {
	const struct explore_opts *o;
	const struct mmn_scenario *s;
	const struct mmn_scenario_params *p;
	struct shared *sh;
	struct job_slot *slot;
	unsigned int k;
	bool show_progress; /* jobs == 1: the job prints the progress line itself */
	uint64_t last_print;
	FILE *rows;            /* --schedules: this job's rows, or NULL */
	unsigned int shard, shards; /* this job's sub-shard (the rows' indexes) */
	struct rows_mark mark; /* the statistics at the last row written */
};

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

/* The denominator of the progress line: a seeded exploration's share of
 * --runs; an exhaustive or dpor search's cap, runs per job (of @jobs). */
static unsigned long progress_total(const struct mmn_explore_config *c, unsigned int jobs)
{
	if (c->strategy >= MMN_EXPLORE_EXHAUSTIVE)
		return c->runs * jobs;
	return c->runs / c->shards;
}

static void progress_line(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
			  const struct mmn_explore_stats *st, unsigned long runs)
{
	double secs = st->real_ns / 1e9, rate = secs > 0 ? st->schedules / secs : 0.0;
	char eta[32] = "";

	/* the time left at the rate so far (the exhaustive strategy may end
	 * earlier: @runs is only its cap) */
	if (rate > 0 && runs > st->schedules) {
		double left = (runs - st->schedules) / rate;
		unsigned long l = (unsigned long)left;

		if (l >= 3600)
			snprintf(eta, sizeof(eta), ", ETA %luh%02lum", l / 3600, l % 3600 / 60);
		else if (l >= 60)
			snprintf(eta, sizeof(eta), ", ETA %lum%02lus", l / 60, l % 60);
		else
			snprintf(eta, sizeof(eta), ", ETA %.1fs", left);
	}
	fprintf(stderr, "\r%s %s: %lu/%lu schedules, %lu violating, %.0f schedules/s%s   ", s->id,
		p->wrong ? "wrong" : "right", st->schedules, runs, st->violating, rate, eta);
}

/* --schedules: the row of each schedule run since the last one written
 * (one: the progress callback runs after every schedule, and the
 * exploration's end catches the last, after which it was not called). */
static void job_rows(struct job *j, const struct mmn_explore_stats *st)
{
	struct rows_mark *m = &j->mark;
	unsigned long n = st->schedules, index;

	if (!j->rows || n <= m->schedules)
		return;
	/* x_seeded() runs shard, shard + shards, ...; an exhaustive or DPOR
	 * shard counts its own schedules */
	index = j->o->cfg.strategy >= MMN_EXPLORE_EXHAUSTIVE ? n - 1
							     : j->shard + (n - 1) * j->shards;
	fprintf(j->rows, "%lu\t%llu\t%llu\t%s\t%lu\n", index,
		(unsigned long long)(st->steps - m->steps),
		(unsigned long long)(st->modelled_ns - m->modelled_ns),
		st->deadlocks > m->deadlocks ? "deadlock" : st->budgets > m->budgets ? "budget" : "ok",
		st->violating - m->violating);
	*m = (struct rows_mark){ .schedules = n, .violating = st->violating,
				 .deadlocks = st->deadlocks, .budgets = st->budgets,
				 .steps = st->steps, .modelled_ns = st->modelled_ns };
}

static bool job_progress(const struct mmn_explore_stats *st, void *arg)
{
	struct job *j = arg;

	job_rows(j, st);
	j->slot->st = *st;
	if (j->show_progress) {
		uint64_t t = now_ns();

		if (t - j->last_print > 250000000u) {
			progress_line(j->s, j->p, st, progress_total(&j->o->cfg, 1));
			j->last_print = t;
		}
	}
	return !atomic_load(&j->sh->stop);
}

static bool job_found(const struct mmn_explore_found *f, void *arg)
{
	struct job *j = arg;
	const char *strategy = mmn_explore_strategy_name(j->o->cfg.strategy);
	char stem[128], path[1024];

	if (!j->o->cfg.keep_going)
		atomic_store(&j->sh->stop, true);
	if (j->slot->saves >= j->o->max_saves)
		return true;
	snprintf(stem, sizeof(stem), "%s-%s-%s-%lu", j->s->id, j->p->wrong ? "wrong" : "right",
		 strategy, f->index);
	if (replay_save(j->o->out_dir, stem, j->s, cli_source_of(j->o->env, j->s), j->p, strategy,
			f->sched, f->index, f->choices, f->nr_choices, f->result->by_kind, f->trace,
			path, sizeof(path))) {
		j->slot->err = -EIO;
		return false;
	}
	if (j->slot->saves < EXPLORE_SAVED_NAMES)
		snprintf(j->slot->saved[j->slot->saves], sizeof(j->slot->saved[0]), "%s", path);
	j->slot->saves++;
	return true;
}

static void run_job(struct job *j)
{
	struct mmn_explore_config c = j->o->cfg;
	int err;

	c.shard = j->o->cfg.shard * j->o->jobs + j->k;
	c.shards = j->o->cfg.shards * j->o->jobs;
	c.progress_every = j->rows ? 1 : 16;
	c.progress = job_progress;
	c.found = job_found;
	c.arg = j;
	c.trace = j->o->max_saves > 0;
	j->shard = c.shard;
	j->shards = c.shards;
	err = mmn_scenario_explore(j->s->id, j->p, &c, &j->slot->st);
	job_rows(j, &j->slot->st);
	if (j->rows && fflush(j->rows) && !err)
		err = -EIO;
	if (!j->slot->err)
		j->slot->err = err;
	j->slot->finished = true;
}

/* --schedules: an unnamed temporary file per job (before the fork, so that
 * the parent reads what the job wrote); false after one line. */
static bool rows_open(const struct explore_opts *o, FILE **tmp)
{
	for (unsigned int k = 0; k < o->jobs; k++) {
		tmp[k] = o->schedules ? tmpfile() : NULL;
		if (o->schedules && !tmp[k]) {
			fprintf(stderr, "mmnsim: --schedules: cannot create a temporary file: %s\n",
				strerror(errno));
			while (k--)
				fclose(tmp[k]);
			return false;
		}
	}
	return true;
}

/* --schedules: the jobs' rows into the file, round robin: job k's rows are
 * the indexes k, k + jobs, ... of the shard, so that gives index order.
 * Closes @tmp; 0 or -EIO after one line. */
static int rows_merge(const struct explore_opts *o, FILE **tmp, bool write)
{
	FILE *out = NULL;
	char line[256];
	bool more = true;
	int err = 0;

	if (!o->schedules)
		return 0;
	if (write) {
		out = fopen(o->schedules, "w");
		if (out)
			fputs("index\tsteps\tmodelled_ns\toutcome\tviolating\n", out);
	}
	for (unsigned int k = 0; k < o->jobs; k++)
		rewind(tmp[k]);
	while (out && more) {
		more = false;
		for (unsigned int k = 0; k < o->jobs; k++)
			if (fgets(line, sizeof(line), tmp[k])) {
				fputs(line, out);
				more = true;
			}
	}
	for (unsigned int k = 0; k < o->jobs; k++)
		fclose(tmp[k]);
	if (write && (!out || ferror(out) | fclose(out))) {
		fprintf(stderr, "mmnsim: --schedules %s: cannot write it: %s\n", o->schedules,
			strerror(errno));
		err = -EIO;
	}
	return err;
}

/* Sum the jobs' statistics into @st. */
static void merge(const struct shared *sh, unsigned int jobs, struct mmn_explore_stats *st)
{
	memset(st, 0, sizeof(*st));
	st->first_index = ULONG_MAX;
	st->complete = true;
	for (unsigned int k = 0; k < jobs; k++) {
		const struct mmn_explore_stats *x = &sh->slot[k].st;

		st->schedules += x->schedules;
		st->violating += x->violating;
		if (x->violating && x->first_index < st->first_index)
			st->first_index = x->first_index;
		if (x->violating && (!st->first_real_ns || x->first_real_ns < st->first_real_ns))
			st->first_real_ns = x->first_real_ns;
		if (x->real_ns > st->real_ns)
			st->real_ns = x->real_ns;
		st->modelled_ns += x->modelled_ns;
		st->steps += x->steps;
		st->deadlocks += x->deadlocks;
		st->budgets += x->budgets;
		st->claims_held += x->claims_held;
		for (int i = 0; i < MMN_VIOL_NR_KINDS; i++)
			st->by_kind[i] += x->by_kind[i];
		for (int i = 0; i < x->nr_counters; i++)
			(void)mmn_explore_stats_add_counter(st, x->counter_name[i], x->counters[i]);
		st->complete = st->complete && x->complete;
		st->runs += x->runs;
		st->digest += x->digest;
		st->bounded = st->bounded || x->bounded;
	}
	if (st->violating)
		st->first_after = st->first_index + 1;
}

/* Explore one scenario under @p with @o; the jobs' slots stay in *@shp. */
static int explore_one(const struct explore_opts *o, const struct mmn_scenario *s,
		       const struct mmn_scenario_params *p, struct mmn_explore_stats *st,
		       struct shared **shp)
{
	struct shared *sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	pid_t pids[EXPLORE_MAX_JOBS];
	FILE *tmp[EXPLORE_MAX_JOBS];
	bool tty = !o->quiet && !o->json && isatty(STDERR_FILENO);
	int err = 0;

	*shp = NULL;
	if (sh == MAP_FAILED) {
		fprintf(stderr, "mmnsim: cannot map the jobs' shared statistics: %s\n", strerror(errno));
		return -ENOMEM;
	}
	memset(sh, 0, sizeof(*sh));
	if (!rows_open(o, tmp)) {
		munmap(sh, sizeof(*sh));
		return -EIO;
	}
	if (o->jobs == 1) {
		struct job j = { .o = o, .s = s, .p = p, .sh = sh, .slot = &sh->slot[0],
				 .show_progress = tty, .rows = tmp[0] };

		run_job(&j);
	} else {
		unsigned int started = 0;
		uint64_t t0 = now_ns(), last = t0;

		fflush(NULL);
		for (; started < o->jobs; started++) {
			pids[started] = fork();
			if (pids[started] < 0) {
				fprintf(stderr, "mmnsim: cannot start job %u: %s\n", started,
					strerror(errno));
				atomic_store(&sh->stop, true);
				err = -EAGAIN;
				break;
			}
			if (pids[started] == 0) {
				struct job j = { .o = o, .s = s, .p = p, .sh = sh,
						 .slot = &sh->slot[started], .k = started,
						 .rows = tmp[started] };

				run_job(&j);
				_exit(0);
			}
		}
		for (unsigned int left = started; left;) {
			int status;
			/* Without a progress line to refresh, wait for the
			 * next job to end instead of polling (the last one's
			 * end is seen at once, not up to 20 ms later). */
			pid_t pid = waitpid(-1, &status, tty ? WNOHANG : 0);

			if (pid > 0) {
				left--;
				if (!WIFEXITED(status) || WEXITSTATUS(status)) {
					fprintf(stderr, "mmnsim: a job ended abnormally (status %d)\n",
						status);
					err = -EIO;
				}
				continue;
			}
			if (pid < 0 && errno != EINTR)
				break;
			usleep(20000);
			if (tty && now_ns() - last > 250000000u) {
				struct mmn_explore_stats now;

				merge(sh, started, &now);
				now.real_ns = now_ns() - t0;
				progress_line(s, p, &now, progress_total(&o->cfg, o->jobs));
				last = now_ns();
			}
		}
		if (started < o->jobs) {
			rows_merge(o, tmp, false);
			munmap(sh, sizeof(*sh));
			return err;
		}
	}
	if (tty)
		fputs("\r\033[K", stderr);
	merge(sh, o->jobs, st);
	for (unsigned int k = 0; !err && k < o->jobs; k++)
		err = sh->slot[k].err;
	if (rows_merge(o, tmp, true) && !err)
		err = -EIO;
	if (err && err != -EIO)
		fprintf(stderr, "mmnsim: scenario %s could not run with these parameters: %s (%d)\n",
			s->id, strerror(-err), err);
	*shp = sh;
	return err;
}

static void fmt_time(char *buf, size_t len, uint64_t ns)
{
	if (ns >= 1000000000u)
		snprintf(buf, len, "%.2f s", ns / 1e9);
	else if (ns >= 1000000u)
		snprintf(buf, len, "%.1f ms", ns / 1e6);
	else
		snprintf(buf, len, "%.1f us", ns / 1e3);
}

/* Nothing was judged: every schedule ran out of its step budget (an
 * over-budget schedule is never judged, docs/exploration.md "Outcomes"). */
static bool explore_unjudged(const struct mmn_explore_stats *st)
{
	return st->schedules && st->budgets >= st->schedules && !st->violating;
}

/* The line a person can cite for an exhaustive or DPOR search ("S1 right
 * setting, profile latest: 812 equivalence classes, complete, 0
 * violations, 3.41 s"). */
static void citation(char *buf, size_t len, const struct explore_opts *o,
		     const struct mmn_scenario *s, const struct mmn_scenario_params *p,
		     const struct mmn_explore_stats *st)
{
	bool dpor = o->cfg.strategy == MMN_EXPLORE_DPOR;
	unsigned int b = o->cfg.preemption_bound;
	char state[96];

	if (st->complete && (dpor || b == UINT_MAX))
		snprintf(state, sizeof(state), "complete");
	else if (st->complete)
		snprintf(state, sizeof(state), "complete within preemption bound %u", b);
	else if (st->bounded && b != UINT_MAX && !st->budgets)
		snprintf(state, sizeof(state), "bounded (preemption bound %u)", b);
	else if (st->bounded && b != UINT_MAX)
		snprintf(state, sizeof(state), "bounded (preemption bound %u; %lu over step budget %lu)",
			 b, st->budgets, o->cfg.max_steps);
	else if (st->bounded)
		snprintf(state, sizeof(state), "bounded (%lu over step budget %lu)", st->budgets,
			 o->cfg.max_steps);
	else
		snprintf(state, sizeof(state), "stopped after %lu runs", st->runs);
	snprintf(buf, len, "%s %s setting, profile %s: %lu %s, %s, %lu violations, %.2f s", s->id,
		 p->wrong ? "wrong" : "right", p->profile ? p->profile : "latest", st->schedules,
		 dpor ? "equivalence classes" : "schedules", state, st->violating,
		 st->real_ns / 1e9);
}

static void json_stats(struct jw *j, const struct explore_opts *o, const struct mmn_scenario *s,
		       const struct mmn_scenario_params *p, const struct mmn_explore_stats *st,
		       const struct shared *sh)
{
	jw_open(j, NULL, '{');
	jw_str(j, "scenario", s->id);
	jw_bool(j, "wrong", p->wrong);
	jw_str(j, "profile", p->profile ? p->profile : "");
	jw_open(j, "knobs", '[');
	for (int i = 0; i < MMN_SCENARIO_MAX_KNOBS && p->knobs[i]; i++)
		jw_str(j, NULL, p->knobs[i]);
	jw_close(j, ']');
	jw_int(j, "variant", p->variant);
	jw_ulong(j, "pages", p->pages);
	jw_ulong(j, "iterations", p->iterations);
	jw_ulong(j, "rng_seed", p->seed);
	jw_str(j, "strategy", mmn_explore_strategy_name(o->cfg.strategy));
	jw_ulong(j, "runs", o->cfg.runs);
	jw_ulong(j, "seed", o->cfg.seed);
	jw_ulong(j, "shard", o->cfg.shard);
	jw_ulong(j, "shards", o->cfg.shards);
	jw_ulong(j, "jobs", o->jobs);
	jw_ulong(j, "pct_depth", o->cfg.pct_depth);
	jw_ulong(j, "pct_steps", o->cfg.pct_steps);
	jw_ulong(j, "max_steps", o->cfg.max_steps);
	jw_ulong(j, "preemption_bound", o->cfg.preemption_bound);
	jw_bool(j, "keep_going", o->cfg.keep_going);
	jw_ulong(j, "schedules", st->schedules);
	jw_ulong(j, "violating", st->violating);
	if (st->violating) {
		jw_ulong(j, "first_index", st->first_index);
		jw_ulong(j, "first_real_ns", st->first_real_ns);
	} else {
		jw_null(j, "first_index");
		jw_null(j, "first_real_ns");
	}
	jw_ulong(j, "real_ns", st->real_ns);
	jw_ulong(j, "modelled_ns", st->modelled_ns);
	jw_ulong(j, "steps", st->steps);
	jw_ulong(j, "deadlocks", st->deadlocks);
	jw_ulong(j, "budgets", st->budgets);
	jw_bool(j, "judged", !explore_unjudged(st));
	jw_ulong(j, "claims_held", st->claims_held);
	jw_bool(j, "complete", o->cfg.strategy >= MMN_EXPLORE_EXHAUSTIVE && st->complete);
	if (o->cfg.strategy >= MMN_EXPLORE_EXHAUSTIVE) {
		char cite[256], digest[32];

		citation(cite, sizeof(cite), o, s, p, st);
		snprintf(digest, sizeof(digest), "%016llx", (unsigned long long)st->digest);
		jw_ulong(j, "shard_depth", o->cfg.shard_depth);
		jw_ulong(j, "runs_made", st->runs);
		jw_str(j, "digest", digest);
		jw_bool(j, "bounded", st->bounded);
		jw_str(j, "citation", cite);
	}
	jw_open(j, "by_kind", '{');
	for (int k = 0; k < MMN_VIOL_NR_KINDS; k++)
		jw_ulong(j, mmn_violation_kind_name((enum mmn_violation_kind)k), st->by_kind[k]);
	jw_close(j, '}');
	jw_open(j, "counters", '{');
	for (int i = 0; i < st->nr_counters; i++)
		jw_ulong(j, st->counter_name[i], st->counters[i]);
	jw_close(j, '}');
	jw_open(j, "saved", '[');
	for (unsigned int k = 0; k < o->jobs; k++)
		for (unsigned long i = 0; i < sh->slot[k].saves && i < EXPLORE_SAVED_NAMES; i++)
			jw_str(j, NULL, sh->slot[k].saved[i]);
	jw_close(j, ']');
	jw_close(j, '}');
}

static void print_one(const struct explore_opts *o, const struct mmn_scenario *s,
		      const struct mmn_scenario_params *p, const struct mmn_explore_stats *st,
		      const struct shared *sh)
{
	char t1[32], t2[32], kinds[256];

	printf("scenario    %s (seed %s): %s\n", s->id, s->seed, s->title);
	printf("setting     %s\n", p->wrong ? "wrong" : "right");
	printf("strategy    %s", mmn_explore_strategy_name(o->cfg.strategy));
	if (o->cfg.strategy >= MMN_EXPLORE_EXHAUSTIVE) {
		if (o->cfg.preemption_bound == UINT_MAX)
			printf(", no preemption bound");
		else
			printf(", preemption bound %u", o->cfg.preemption_bound);
		printf("%s, shard %u/%u, %u job(s)",
		       st->complete ? (o->cfg.strategy == MMN_EXPLORE_DPOR ? ", search complete"
									  : ", enumeration complete")
				    : "",
		       o->cfg.shard, o->cfg.shards, o->jobs);
	} else
		printf(", schedule seeds %llu.., shard %u/%u, %u job(s)",
		       (unsigned long long)o->cfg.seed, o->cfg.shard, o->cfg.shards, o->jobs);
	printf("\n");
	if (o->cfg.strategy >= MMN_EXPLORE_EXHAUSTIVE) {
		char cite[256];

		citation(cite, sizeof(cite), o, s, p, st);
		printf("result      %s\n", cite);
		printf("runs        %lu made (%lu counted; the rest repeated a class or learnt "
		       "another shard's subtree), digest %016llx\n",
		       st->runs, st->schedules, (unsigned long long)st->digest);
	}
	fmt_time(t1, sizeof(t1), st->real_ns);
	printf("schedules   %lu in %s (%.0f/s), %llu steps, %lu deadlocks, %lu over budget\n",
	       st->schedules, t1, st->real_ns ? st->schedules / (st->real_ns / 1e9) : 0.0,
	       (unsigned long long)st->steps, st->deadlocks, st->budgets);
	if (st->violating) {
		fmt_time(t2, sizeof(t2), st->first_real_ns);
		printf("violating   %lu; first at schedule %lu, after %s\n", st->violating,
		       st->first_index, t2);
	} else if (explore_unjudged(st)) {
		printf("violating   NO VERDICT: every schedule exhausted its step budget (--max-steps "
		       "%lu), so none was judged; raise --max-steps\n", o->cfg.max_steps);
	} else if (st->budgets) {
		printf("violating   none among the %lu judged (%lu over budget, not judged)\n",
		       st->schedules - st->budgets, st->budgets);
	} else {
		printf("violating   none\n");
	}
	printf("violations  %s\n", kinds_text(st->by_kind, kinds, sizeof(kinds)));
	fmt_time(t1, sizeof(t1), st->schedules ? st->modelled_ns / st->schedules : 0);
	printf("modelled    %s per schedule (docs/clock.md)\n", t1);
	for (unsigned int k = 0; k < o->jobs; k++)
		for (unsigned long i = 0; i < sh->slot[k].saves && i < EXPLORE_SAVED_NAMES; i++)
			printf("saved       %s (mmnsim replay / mmnsim shrink it)\n",
			       sh->slot[k].saved[i]);
}

/* What a row of `all` should show: the bug found (wrong setting of a scenario
 * with found_kinds), or no violating schedule. */
static bool row_as_claimed(const struct mmn_scenario *s, const struct mmn_scenario_params *p,
			   const struct mmn_explore_stats *st)
{
	if (p->wrong && s->found_kinds)
		return st->violating > 0;
	return st->violating == 0 && !st->deadlocks;
}

/*
 * What the count scenarios (found_kinds 0: S5, S6, S9 and any such user
 * scenario) measure, after the table of `explore all`: each counter summed
 * over the schedules of each setting, wrong beside right. @meas holds two
 * stats per scenario (wrong, right); @ran says which ran.
 */
/* Counter @name of @st in @buf, "-" when @st is NULL (its setting did not
 * run) or has no such counter. */
static void counter_text(const struct mmn_explore_stats *st, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "-");
	for (int k = 0; st && k < st->nr_counters; k++)
		if (!strcmp(st->counter_name[k], name))
			snprintf(buf, len, "%llu", (unsigned long long)st->counters[k]);
}

static void print_measures(const struct mmn_explore_stats *meas, const bool *ran)
{
	bool header = false;

	for (int i = 0; i < mmn_scenario_count(); i++) {
		const struct mmn_scenario *s = mmn_scenario_at(i);
		const struct mmn_explore_stats *wr = &meas[2 * i], *rt = &meas[2 * i + 1];
		const struct mmn_explore_stats *names = ran[2 * i] ? wr : rt;

		if (s->found_kinds || (!ran[2 * i] && !ran[2 * i + 1]))
			continue;
		if (!header)
			printf("\nwhat the count scenarios measure, summed over each setting's schedules:\n"
			       "%-3s %-28s %12s %12s\n", "id", "counter", "wrong", "right");
		header = true;
		for (int c = 0; c < names->nr_counters; c++) {
			char w[24], r[24];
			const char *name = names->counter_name[c];

			counter_text(ran[2 * i] ? wr : NULL, name, w, sizeof(w));
			counter_text(ran[2 * i + 1] ? rt : NULL, name, r, sizeof(r));
			printf("%-3s %-28s %12s %12s\n", s->id, name, w, r);
		}
	}
}

static int explore_all(const struct explore_opts *o, const struct mmn_scenario_params *base,
		       bool wrong, bool right)
{
	struct jw j = { .out = stdout };
	bool all_ok = true;
	int status = EXIT_OK;
	struct mmn_explore_stats *meas = calloc(2 * (size_t)mmn_scenario_count() + 1, sizeof(*meas));
	bool *ran = calloc(2 * (size_t)mmn_scenario_count() + 1, sizeof(*ran));

	if (!meas || !ran) {
		free(meas);
		free(ran);
		fprintf(stderr, "mmnsim: out of memory\n");
		return EXIT_USAGE;
	}

	if (o->json) {
		jw_open(&j, NULL, '{');
		jw_open(&j, "rows", '[');
	} else {
		printf("%-3s %-6s %-10s %9s %9s %10s %12s %9s %12s  %s\n", "id", "setting", "strategy",
		       "schedules", "violating", "first at", "time to 1st", "claims", "modelled/sch",
		       "verdict");
	}
	for (int i = 0; i < mmn_scenario_count(); i++) {
		const struct mmn_scenario *s = mmn_scenario_at(i);

		for (int w = 1; w >= 0; w--) {
			struct mmn_scenario_params p = *base;
			struct mmn_explore_stats st;
			struct shared *sh;
			char first[24], t1[32], t2[32], kinds[256];
			bool ok;

			if ((w && !wrong) || (!w && !right))
				continue;
			p.wrong = w;
			if (explore_one(o, s, &p, &st, &sh)) {
				if (sh)
					munmap(sh, sizeof(*sh));
				status = EXIT_USAGE;
				continue;
			}
			ok = row_as_claimed(s, &p, &st) && !explore_unjudged(&st);
			meas[2 * i + !w] = st;
			ran[2 * i + !w] = true;
			all_ok = all_ok && ok;
			if (o->json) {
				json_stats(&j, o, s, &p, &st, sh);
			} else {
				snprintf(first, sizeof(first), st.violating ? "#%lu" : "-",
					 st.first_index);
				if (st.violating)
					fmt_time(t1, sizeof(t1), st.first_real_ns);
				else
					snprintf(t1, sizeof(t1), "-");
				fmt_time(t2, sizeof(t2), st.schedules ? st.modelled_ns / st.schedules : 0);
				printf("%-3s %-6s %-10s %9lu %9lu %10s %12s %4lu/%-4lu %12s  %s%s%s\n",
				       s->id, w ? "wrong" : "right",
				       mmn_explore_strategy_name(o->cfg.strategy), st.schedules,
				       st.violating, first, t1, st.claims_held, st.schedules, t2,
				       ok ? "" : "NOT AS CLAIMED: ",
				       st.violating		? "found "
				       : explore_unjudged(&st) ? "no verdict (every schedule over budget)"
							       : "none found",
				       st.violating ? kinds_text(st.by_kind, kinds, sizeof(kinds)) : "");
			}
			munmap(sh, sizeof(*sh));
			fflush(stdout);
		}
	}
	if (o->json) {
		jw_close(&j, ']');
		jw_bool(&j, "as_claimed", all_ok);
		jw_close(&j, '}');
	} else {
		print_measures(meas, ran);
		printf("\n%s\n", all_ok ? "every row as the seeds claim: the bug found under each wrong "
					  "setting that has one, nothing under the right settings"
					: "SOME ROWS ARE NOT AS CLAIMED");
	}
	free(meas);
	free(ran);
	if (status == EXIT_OK && !all_ok)
		status = EXIT_VIOLATION;
	return status;
}

/* --strategy random|pct|exhaustive into an enum mmn_explore_strategy. */
static bool set_strategy(const char *val, void *dest)
{
	int st = mmn_explore_strategy_by_name(val);

	if (st < 0) {
		fprintf(stderr, "mmnsim: --strategy takes random, pct, exhaustive or dpor, not '%s'\n",
			val);
		return false;
	}
	*(enum mmn_explore_strategy *)dest = (enum mmn_explore_strategy)st;
	return true;
}

/* --shard I/N into the shard and shards of a struct mmn_explore_config. */
static bool set_shard(const char *val, void *dest)
{
	struct mmn_explore_config *cfg = dest;
	unsigned int i, n;
	int end = 0;

	if (sscanf(val, "%u/%u%n", &i, &n, &end) != 2 || val[end] || !n || i >= n ||
	    val[0] == '-' || strchr(val, '+') || strchr(val, ' ')) {
		fprintf(stderr, "mmnsim: --shard takes I/N with 0 <= I < N, not '%s'\n", val);
		return false;
	}
	cfg->shard = i;
	cfg->shards = n;
	return true;
}

/* --out DIR: a non-empty directory name. */
static bool set_out_dir(const char *val, void *dest)
{
	if (!*val) {
		fprintf(stderr, "mmnsim: --out takes a directory\n");
		return false;
	}
	*(const char **)dest = val;
	return true;
}

/* --schedules FILE: a non-empty file name. */
static bool set_schedules(const char *val, void *dest)
{
	if (!*val) {
		fprintf(stderr, "mmnsim: --schedules takes a file name\n");
		return false;
	}
	*(const char **)dest = val;
	return true;
}

/* --schedules FILE can be written when the exploration ends: an existing
 * writable regular file, or a new one in an existing writable directory
 * (nothing is created before the exploration ran); false after one line. */
static bool schedules_writable(const char *path)
{
	char dir[1024];
	const char *slash = strrchr(path, '/');
	const char *why = NULL;
	struct stat sb;

	if (!stat(path, &sb)) {
		if (S_ISDIR(sb.st_mode))
			why = "is a directory";
		else if (access(path, W_OK))
			why = strerror(errno);
	} else if (errno != ENOENT) {
		why = strerror(errno);
	} else {
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
			 slash ? (slash == path ? "/" : path) : ".");
		if (stat(dir, &sb) || !S_ISDIR(sb.st_mode))
			why = "its directory does not exist";
		else if (access(dir, W_OK | X_OK))
			why = strerror(errno);
	}
	if (why)
		fprintf(stderr, "mmnsim: --schedules %s: %s\n", path, why);
	return !why;
}

/* Parse explore's arguments into @o, @p, *@scenario and *@right_only, and
 * check how they combine: EXIT_OK, EXIT_USAGE after one line, or CLI_HELP. */
/* Options given that the chosen strategy does not use, and an --out that
 * cannot hold saved schedules, refused before anything runs: false after
 * one line. */
static bool explore_options_apply(const struct cli_syntax *syn, const struct explore_opts *o)
{
	static const struct {
		const char *opt;
		enum mmn_explore_strategy only;
	} only_for[] = {
		{ "--pct-depth", MMN_EXPLORE_PCT },
		{ "--pct-steps", MMN_EXPLORE_PCT },
		{ "--preemption-bound", MMN_EXPLORE_EXHAUSTIVE },
		{ "--shard-depth", MMN_EXPLORE_EXHAUSTIVE },
	};
	struct stat sb;

	for (size_t i = 0; i < sizeof(only_for) / sizeof(only_for[0]); i++) {
		bool applies = o->cfg.strategy == only_for[i].only ||
			       (only_for[i].only == MMN_EXPLORE_EXHAUSTIVE &&
				o->cfg.strategy == MMN_EXPLORE_DPOR);

		if (cli_given(syn, only_for[i].opt) && !applies) {
			fprintf(stderr, "mmnsim: %s applies to the %s strategy only, not to %s\n",
				only_for[i].opt,
				only_for[i].only == MMN_EXPLORE_EXHAUSTIVE
					? "exhaustive and dpor"
					: mmn_explore_strategy_name(only_for[i].only),
				mmn_explore_strategy_name(o->cfg.strategy));
			return false;
		}
	}
	if (o->schedules && !schedules_writable(o->schedules))
		return false;
	if (!o->max_saves)
		return true;
	if (stat(o->out_dir, &sb)) {
		char parent[1024];
		const char *slash = strrchr(o->out_dir, '/');

		/* created at the first save (one level): its parent must be there */
		snprintf(parent, sizeof(parent), "%.*s", slash ? (int)(slash - o->out_dir) : 1,
			 slash ? (slash == o->out_dir ? "/" : o->out_dir) : ".");
		if (errno == ENOENT && !stat(parent, &sb) && S_ISDIR(sb.st_mode))
			return true;
		fprintf(stderr, "mmnsim: --out %s: %s\n", o->out_dir,
			errno == ENOENT ? "its parent directory does not exist" : strerror(errno));
		return false;
	}
	if (!S_ISDIR(sb.st_mode)) {
		fprintf(stderr, "mmnsim: --out %s: not a directory (found schedules are saved in it)\n",
			o->out_dir);
		return false;
	}
	if (access(o->out_dir, W_OK | X_OK)) {
		fprintf(stderr, "mmnsim: --out %s: %s\n", o->out_dir, strerror(errno));
		return false;
	}
	return true;
}

static int explore_args(int argc, char **argv, struct explore_opts *o,
			struct mmn_scenario_params *p, const char **scenario, bool *right_only)
{
	struct mmn_explore_config *c = &o->cfg;
	const struct cli_opt opts[] = {
		CLI_SCENARIO_OPTIONS(p),
		{ "--json", CLI_FLAG, &o->json, 0, 0, NULL },
		{ "--quiet", CLI_FLAG, &o->quiet, 0, 0, NULL },
		{ "--keep-going", CLI_FLAG, &c->keep_going, 0, 0, NULL },
		{ "--right", CLI_FLAG, right_only, 0, 0, NULL },
		{ "--strategy", CLI_CUSTOM, &c->strategy, 0, 0, set_strategy },
		{ "--runs", CLI_ULONG, &c->runs, 1, ULONG_MAX, NULL },
		{ "--jobs", CLI_UINT, &o->jobs, 1, EXPLORE_MAX_JOBS, NULL },
		{ "--shard", CLI_CUSTOM, c, 0, 0, set_shard },
		{ "--schedule-seed", CLI_U64, &c->seed, 0, UINT64_MAX, NULL },
		{ "--pct-depth", CLI_UINT, &c->pct_depth, 1, 16, NULL },
		{ "--pct-steps", CLI_ULONG, &c->pct_steps, 1, ULONG_MAX, NULL },
		{ "--preemption-bound", CLI_UINT, &c->preemption_bound, 0, UINT_MAX, NULL },
		{ "--shard-depth", CLI_UINT, &c->shard_depth, 1, 64, NULL },
		{ "--max-steps", CLI_ULONG, &c->max_steps, 1, ULONG_MAX, NULL },
		{ "--max-saves", CLI_ULONG, &o->max_saves, 0, ULONG_MAX, NULL },
		{ "--out", CLI_CUSTOM, &o->out_dir, 0, 0, set_out_dir },
		{ "--schedules", CLI_CUSTOM, &o->schedules, 0, 0, set_schedules },
		{ NULL, CLI_FLAG, NULL, 0, 0, NULL },
	};
	bool given[sizeof(opts) / sizeof(opts[0])] = { false };
	const struct cli_syntax syn = { .cmd = "explore", .what = "scenario",
					.positional = scenario, .opts = opts, .given = given };
	int rc = cli_parse(argc, argv, &syn);

	if (rc != EXIT_OK)
		return rc;
	if (!explore_options_apply(&syn, o))
		return EXIT_USAGE;
	if (!*scenario) {
		fprintf(stderr, "mmnsim: explore needs a scenario or 'all' (mmnsim list shows them)\n");
		return EXIT_USAGE;
	}
	if (!sfile_is_path(*scenario) && strcmp(*scenario, "all") &&
	    !mmn_scenario_by_id(*scenario)) {
		fprintf(stderr, "mmnsim: unknown scenario '%s' (mmnsim list shows them)\n", *scenario);
		return EXIT_USAGE;
	}
	if (o->schedules && !strcmp(*scenario, "all")) {
		fprintf(stderr, "mmnsim: --schedules applies to one scenario, not to 'all'\n");
		return EXIT_USAGE;
	}
	if (o->schedules && o->jobs > 1 && c->strategy >= MMN_EXPLORE_EXHAUSTIVE) {
		/* a job of a search by subtrees has no global schedule index */
		fprintf(stderr, "mmnsim: --schedules with --jobs applies to random and pct, not to %s\n",
			mmn_explore_strategy_name(c->strategy));
		return EXIT_USAGE;
	}
	/* DPOR claims completeness: no preemption bound unless asked for */
	if (c->strategy == MMN_EXPLORE_DPOR && !cli_given(&syn, "--preemption-bound"))
		c->preemption_bound = UINT_MAX;
	if (*right_only && p->wrong) {
		fprintf(stderr, "mmnsim: --wrong and --right exclude each other\n");
		return EXIT_USAGE;
	}
	if (!check_knobs(p, ""))
		return EXIT_USAGE;
	return EXIT_OK;
}

/* Explore the one scenario @id and print its summary or JSON object. */
static int explore_single(const struct explore_opts *o, const char *id,
			  const struct mmn_scenario_params *p)
{
	const struct mmn_scenario *s = mmn_scenario_by_id(id);
	struct mmn_explore_stats st;
	struct shared *sh;

	if (!s) {
		fprintf(stderr, "mmnsim: unknown scenario '%s' (mmnsim list shows them)\n", id);
		return EXIT_USAGE;
	}
	if (explore_one(o, s, p, &st, &sh)) {
		if (sh)
			munmap(sh, sizeof(*sh));
		return EXIT_USAGE;
	}
	if (o->json) {
		struct jw j = { .out = stdout };

		json_stats(&j, o, s, p, &st, sh);
	} else {
		print_one(o, s, p, &st, sh);
	}
	munmap(sh, sizeof(*sh));
	if (explore_unjudged(&st))
		return EXIT_NO_VERDICT;
	return st.violating ? EXIT_VIOLATION : EXIT_OK;
}

int cmd_explore(int argc, char **argv, struct cli_env *env)
{
	struct mmn_scenario_params p = { .variant = -1 };
	struct explore_opts o = { .jobs = 1, .out_dir = "mmnsim-out", .max_saves = 10, .env = env };
	const char *scenario = NULL;
	bool right_only = false;
	int rc;

	mmn_explore_config_init(&o.cfg);
	o.cfg.strategy = MMN_EXPLORE_PCT;
	rc = explore_args(argc, argv, &o, &p, &scenario, &right_only);
	if (rc != EXIT_OK)
		return cli_parse_status(rc);
	if (sfile_is_path(scenario) && !env->dry) { /* register the file's scenario, run it by id */
		scenario = cli_sfile_load(env, scenario);
		if (!scenario)
			return EXIT_USAGE;
	} else if (sfile_is_path(scenario)) {
		return EXIT_OK;
	}
	if (env->dry)
		return EXIT_OK;
	if (!strcmp(scenario, "all"))
		return explore_all(&o, &p, !right_only, !p.wrong);
	return explore_single(&o, scenario, &p);
}
