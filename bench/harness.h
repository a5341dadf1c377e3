/* SPDX-License-Identifier: MIT */
/*
 * The benchmarks' shared harness: a monotonic nanosecond clock, the median
 * of repeated measurements, a uniform command line and the one
 * machine-readable line every run prints, in the shape of liburcu's
 * tests/benchmark programs:
 *
 *   bench_X [-n iterations] [-r repeats] [-q] [-d dir] [program flags]
 *   ...human-readable table (not with -q)...
 *   SUMMARY bench_X key=value key=value ...
 *
 * With -d DIR, each table is also written as a data file for plotting
 * (scripts/plots.sh, bench/plot/): DIR/<bench>_<table>.tsv, one header line
 * of tab-separated column names, then one row per measured point with the
 * same medians, baselines and ratios as the table (bench_data_open()).
 *
 * Header-only (static inline): each benchmark is one translation unit.
 * Rules for the programs: measure the baseline and the simulated operation
 * in the same run, interleaved per repeat, and report medians and their
 * ratio; the machines are shared, nested-virtualised VMs (docs/benchmarks.md).
 */
#ifndef MMN_BENCH_HARNESS_H
#define MMN_BENCH_HARNESS_H

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/* Largest -r accepted (the medians are taken from arrays of this size). */
#define BENCH_MAX_REPEATS 1001

/* The common options, filled by bench_getopt() with the program's defaults
 * replaced by what the command line says. */
struct bench_args {
	unsigned long iterations;  /* -n: operations per timed repeat */
	unsigned int repeats;      /* -r: timed repeats; medians over them */
	bool quiet;                /* -q: only the SUMMARY line */
	const char *data_dir;      /* -d: write the tables as DIR/<bench>_<table>.tsv */
};

/* Monotonic time in nanoseconds. */
static inline uint64_t bench_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/* Keep @v alive: the compiler must compute it, without a memory access. */
static inline void bench_keep(uint64_t v)
{
	__asm__ __volatile__("" : : "r"(v));
}

static inline int bench_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Median of @v[0..n) (sorts @v in place); 0 for n == 0. */
static inline double bench_median(double *v, unsigned int n)
{
	if (!n)
		return 0;
	qsort(v, n, sizeof(*v), bench_cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* A positive integer option argument, or exit(2) with a message. */
static inline unsigned long bench_parse_ulong(const char *prog, int opt, const char *arg,
					      unsigned long max)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(arg, &end, 0);
	if (errno || end == arg || *end || arg[0] == '-' || v == 0 || v > max) {
		fprintf(stderr, "%s: -%c wants an integer in 1..%lu, not '%s'\n", prog, opt, max,
			arg);
		exit(2);
	}
	return v;
}

/* -d DIR: an existing, writable directory, or exit(2) with a message. */
static inline const char *bench_parse_dir(const char *prog, const char *arg)
{
	struct stat sb;
	const char *why = NULL;

	if (!*arg || stat(arg, &sb))
		why = *arg && errno != ENOENT ? strerror(errno) : "no such directory";
	else if (!S_ISDIR(sb.st_mode))
		why = "not a directory";
	else if (access(arg, W_OK | X_OK))
		why = strerror(errno);
	if (why) {
		fprintf(stderr, "%s: -d %s: %s\n", prog, arg, why);
		exit(2);
	}
	return arg;
}

/*
 * Parse the common options -n, -r, -q, -d, -h, and the program's own, listed in
 * @extra (getopt syntax, "" for none) and handed to @fn(@opt, @optarg, @ctx),
 * which returns 0, or -1 for a bad value. @synopsis ("[-m] [-p pages]") and
 * @details (one "  -m    ..." line per option) describe the program's own
 * options for the usage text. Exits: 0 after -h, 2 on a bad command line.
 */
static inline void bench_getopt(int argc, char **argv, struct bench_args *a, const char *extra,
				int (*fn)(int opt, const char *arg, void *ctx), void *ctx,
				const char *synopsis, const char *details)
{
	char optstring[64];
	int opt;

	snprintf(optstring, sizeof(optstring), "n:r:qd:h%s", extra ? extra : "");
	while ((opt = getopt(argc, argv, optstring)) != -1) {
		switch (opt) {
		case 'n':
			a->iterations = bench_parse_ulong(argv[0], opt, optarg, 1UL << 40);
			break;
		case 'r':
			a->repeats = (unsigned int)bench_parse_ulong(argv[0], opt, optarg,
								     BENCH_MAX_REPEATS);
			break;
		case 'q':
			a->quiet = true;
			break;
		case 'd':
			a->data_dir = bench_parse_dir(argv[0], optarg);
			break;
		case 'h':
		case '?':
		default:
			if (opt == 'h' || opt == '?' || !fn || fn(opt, optarg, ctx)) {
				FILE *f = opt == 'h' ? stdout : stderr;

				fprintf(f,
					"usage: %s [-n iterations] [-r repeats] [-q] [-d dir] %s\n"
					"  -n N  operations per timed repeat (default %lu)\n"
					"  -r N  timed repeats, medians reported (default %u)\n"
					"  -q    print only the SUMMARY line\n"
					"  -d D  also write each table as D/<bench>_<table>.tsv\n%s",
					argv[0], synopsis ? synopsis : "", a->iterations, a->repeats,
					details ? details : "");
				exit(opt == 'h' ? 0 : 2);
			}
			break;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s' (-h for help)\n", argv[0],
			argv[optind]);
		exit(2);
	}
}

/* printf() unless -q. */
static inline void bench_printf(const struct bench_args *a, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void bench_printf(const struct bench_args *a, const char *fmt, ...)
{
	va_list ap;

	if (a->quiet)
		return;
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
}

/*
 * Print the run's one machine-readable line: "SUMMARY @prog " then @fmt,
 * which should be space-separated key=value pairs with no spaces inside a
 * value. Always printed, also with -q.
 */
static inline void bench_summary(const char *prog, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void bench_summary(const char *prog, const char *fmt, ...)
{
	va_list ap;

	printf("SUMMARY %s ", prog);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/*
 * The data file of one table: DIR/@prog_@table.tsv under -d DIR, created
 * (truncated) with the header line @header (tab-separated column names, no
 * newline); NULL without -d. Rows go in with bench_data_row(), one per
 * measured point; bench_data_close() ends it. Exits 1 if the file cannot be
 * created (the directory was checked by -d already).
 */
static inline FILE *bench_data_open(const struct bench_args *a, const char *prog,
				    const char *table, const char *header)
{
	char path[4096];
	FILE *f;

	if (!a->data_dir)
		return NULL;
	snprintf(path, sizeof(path), "%s/%s_%s.tsv", a->data_dir, prog, table);
	f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "%s: cannot create %s: %s\n", prog, path, strerror(errno));
		exit(1);
	}
	fprintf(f, "%s\n", header);
	return f;
}

/* One row of a data file: @fmt should be tab-separated fields matching the
 * header; the newline is added. Nothing when @f is NULL (no -d). */
static inline void bench_data_row(FILE *f, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
static inline void bench_data_row(FILE *f, const char *fmt, ...)
{
	va_list ap;

	if (!f)
		return;
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fputc('\n', f);
}

/* Close a data file of bench_data_open() (NULL: nothing); exits 1 when it
 * could not be written completely. */
static inline void bench_data_close(FILE *f, const char *prog)
{
	if (!f)
		return;
	if (ferror(f) | fclose(f)) {
		fprintf(stderr, "%s: writing a data file (-d) failed\n", prog);
		exit(1);
	}
}

#endif /* MMN_BENCH_HARNESS_H */
