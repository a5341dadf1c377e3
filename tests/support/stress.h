/* SPDX-License-Identifier: MIT */
/*
 * Test helper shared by the native stress tests: a seeded xorshift
 * generator (one state per actor), a monotonic clock for time bounds, and
 * the value tag that names the address it was stored at, so that a load
 * through a translation to the wrong frame returns a value naming another
 * address.
 */
#ifndef MMN_TEST_STRESS_H
#define MMN_TEST_STRESS_H

#include <stdint.h>
#include <time.h>

/* xorshift64: next pseudo-random value of the state @x (never 0). */
static inline uint64_t next_rand(uint64_t *x)
{
	*x ^= *x << 13;
	*x ^= *x >> 7;
	*x ^= *x << 17;
	return *x;
}

/* Monotonic time in nanoseconds. */
static inline long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/*
 * Whether an operator actor that has done @ops operations goes on: always
 * until it has done @min (its seeded sequence then covers what the test
 * asserts, however loaded the host), then until @deadline.
 */
static inline int stress_go_on(long ops, long min, long deadline)
{
	return ops < min || now_ns() < deadline;
}

/* The value a CPU stores at @addr: the address itself, and who stored it. */
static inline uint64_t tag(unsigned long addr, int cpu)
{
	return ((uint64_t)addr << 8) | (uint64_t)(cpu + 1);
}

#endif /* MMN_TEST_STRESS_H */
