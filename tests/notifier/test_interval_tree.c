// SPDX-License-Identifier: MIT
/*
 * The augmented red-black interval tree of lib/notifier/interval_tree.c:
 * insert, remove, overlap iteration on closed intervals, and a randomized
 * comparison against a linear scan with every invariant validated after
 * each change.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "notifier/interval_tree.h"

typedef struct mmn_interval_tree_node node_t;

static void set(node_t *n, unsigned long start, unsigned long last)
{
	memset(n, 0, sizeof(*n));
	n->start = start;
	n->last = last;
}

/* The overlapping nodes the tree yields for [start, last], in order. */
static size_t query(struct mmn_itree_root *root, unsigned long start, unsigned long last,
		    node_t **out, size_t max)
{
	size_t n = 0;

	for (node_t *it = mmn_itree_iter_first(root, start, last); it;
	     it = mmn_itree_iter_next(it, start, last)) {
		if (n < max)
			out[n] = it;
		n++;
	}
	return n;
}

static void test_empty_tree_has_no_overlap(void **state)
{
	struct mmn_itree_root root = { NULL };

	(void)state;
	assert_null(mmn_itree_iter_first(&root, 0, ~0UL));
	assert_int_equal(mmn_itree_validate(&root), 0);
}

static void test_insert_then_iterate_finds_overlaps_in_start_order(void **state)
{
	struct mmn_itree_root root = { NULL };
	node_t n[4], *out[8];

	(void)state;
	set(&n[0], 30, 39);
	set(&n[1], 10, 19);
	set(&n[2], 20, 29);
	set(&n[3], 50, 59);
	for (int i = 0; i < 4; i++)
		mmn_itree_insert(&root, &n[i]);
	assert_int_equal(mmn_itree_validate(&root), 4);

	assert_int_equal(query(&root, 15, 35, out, 8), 3);
	assert_ptr_equal(out[0], &n[1]);
	assert_ptr_equal(out[1], &n[2]);
	assert_ptr_equal(out[2], &n[0]);
}

static void test_closed_interval_bounds_are_inclusive(void **state)
{
	struct mmn_itree_root root = { NULL };
	node_t n, *out[2];

	(void)state;
	set(&n, 100, 199);
	mmn_itree_insert(&root, &n);
	/* touching either end overlaps */
	assert_int_equal(query(&root, 199, 300, out, 2), 1);
	assert_int_equal(query(&root, 0, 100, out, 2), 1);
	/* one past either end does not */
	assert_int_equal(query(&root, 200, 300, out, 2), 0);
	assert_int_equal(query(&root, 0, 99, out, 2), 0);
}

static void test_extreme_addresses(void **state)
{
	struct mmn_itree_root root = { NULL };
	node_t lo, hi, *out[2];

	(void)state;
	set(&lo, 0, 0);
	set(&hi, ~0UL, ~0UL);
	mmn_itree_insert(&root, &lo);
	mmn_itree_insert(&root, &hi);
	assert_int_equal(query(&root, 0, ~0UL, out, 2), 2);
	assert_int_equal(query(&root, 1, ~0UL - 1, out, 2), 0);
	assert_int_equal(query(&root, ~0UL, ~0UL, out, 2), 1);
	assert_ptr_equal(out[0], &hi);
}

static void test_remove_drops_node_from_results(void **state)
{
	struct mmn_itree_root root = { NULL };
	node_t n[3], *out[4];

	(void)state;
	set(&n[0], 0, 100);
	set(&n[1], 50, 60);
	set(&n[2], 55, 56);
	for (int i = 0; i < 3; i++)
		mmn_itree_insert(&root, &n[i]);
	assert_int_equal(query(&root, 55, 55, out, 4), 3);
	mmn_itree_remove(&root, &n[1]);
	assert_int_equal(mmn_itree_validate(&root), 2);
	assert_int_equal(query(&root, 55, 55, out, 4), 2);
	assert_ptr_equal(out[0], &n[0]);
	assert_ptr_equal(out[1], &n[2]);
	mmn_itree_remove(&root, &n[0]);
	mmn_itree_remove(&root, &n[2]);
	assert_null(root.root);
}

static void test_equal_starts_are_all_found(void **state)
{
	struct mmn_itree_root root = { NULL };
	node_t n[16], *out[16];

	(void)state;
	for (int i = 0; i < 16; i++) {
		set(&n[i], 1000, 1000 + (unsigned long)i);
		mmn_itree_insert(&root, &n[i]);
	}
	assert_int_equal(mmn_itree_validate(&root), 16);
	assert_int_equal(query(&root, 1010, 2000, out, 16), 6);
	for (int i = 0; i < 16; i += 2)
		mmn_itree_remove(&root, &n[i]);
	assert_int_equal(mmn_itree_validate(&root), 8);
	assert_int_equal(query(&root, 1010, 2000, out, 16), 3);
}

/* The validator is a check that can fail: break the augmentation. */
static void test_validate_detects_a_stale_subtree_last(void **state)
{
	struct mmn_itree_root root = { NULL };
	node_t n[3];

	(void)state;
	set(&n[0], 10, 20);
	set(&n[1], 5, 50);
	set(&n[2], 30, 40);
	for (int i = 0; i < 3; i++)
		mmn_itree_insert(&root, &n[i]);
	assert_int_equal(mmn_itree_validate(&root), 3);
	root.root->subtree_last = 1;
	assert_int_equal(mmn_itree_validate(&root), -1);
}

/* xorshift64*: a deterministic generator, seeded per test. */
static uint64_t rng_state;

static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 0x2545F4914F6CDD1DULL;
}

static size_t linear_count(node_t *n, const bool *in, size_t nr, unsigned long start,
			   unsigned long last)
{
	size_t c = 0;

	for (size_t i = 0; i < nr; i++)
		c += in[i] && n[i].start <= last && n[i].last >= start;
	return c;
}

/*
 * Random inserts and removes over a small address space (many overlaps and
 * equal starts); after each change the invariants hold, and random queries
 * return exactly the intervals a linear scan finds, in start order.
 */
static void test_random_operations_match_linear_scan(void **state)
{
	enum { NR = 512, STEPS = 6000, SPACE = 4096 };
	struct mmn_itree_root root = { NULL };
	node_t *n = calloc(NR, sizeof(*n));
	bool *in = calloc(NR, sizeof(*in));
	node_t **out = calloc(NR, sizeof(*out));
	long live = 0;

	(void)state;
	rng_state = 0x9e3779b97f4a7c15ULL;
	for (int step = 0; step < STEPS; step++) {
		size_t i = rng() % NR;
		unsigned long qs, ql;
		size_t got, want;

		if (in[i]) {
			mmn_itree_remove(&root, &n[i]);
			in[i] = false;
			live--;
		} else {
			unsigned long s = rng() % SPACE;

			set(&n[i], s, s + rng() % 64);
			mmn_itree_insert(&root, &n[i]);
			in[i] = true;
			live++;
		}
		assert_int_equal(mmn_itree_validate(&root), live);

		qs = rng() % SPACE;
		ql = qs + rng() % 256;
		got = query(&root, qs, ql, out, NR);
		want = linear_count(n, in, NR, qs, ql);
		assert_int_equal(got, want);
		for (size_t k = 0; k < got; k++) {
			assert_true(out[k]->start <= ql && out[k]->last >= qs);
			assert_true(in[out[k] - n]);
			if (k)
				assert_true(out[k - 1]->start <= out[k]->start);
		}
	}
	free(out);
	free(in);
	free(n);
}

/* A large tree stays balanced: height bounded by 2 log2(n + 1). */
static int height(const node_t *n)
{
	int l, r;

	if (!n)
		return 0;
	l = height(n->left);
	r = height(n->right);
	return 1 + (l > r ? l : r);
}

static void test_sequential_inserts_keep_tree_balanced(void **state)
{
	enum { NR = 1 << 16 };
	struct mmn_itree_root root = { NULL };
	node_t *n = calloc(NR, sizeof(*n));

	(void)state;
	for (unsigned long i = 0; i < NR; i++) {
		set(&n[i], i * 4096, i * 4096 + 4095);
		mmn_itree_insert(&root, &n[i]);
	}
	assert_int_equal(mmn_itree_validate(&root), NR);
	assert_true(height(root.root) <= 2 * 17);
	for (unsigned long i = 0; i < NR; i += 3)
		mmn_itree_remove(&root, &n[i]);
	assert_true(mmn_itree_validate(&root) > 0);
	assert_true(height(root.root) <= 2 * 17);
	free(n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_tree_has_no_overlap),
		cmocka_unit_test(test_insert_then_iterate_finds_overlaps_in_start_order),
		cmocka_unit_test(test_closed_interval_bounds_are_inclusive),
		cmocka_unit_test(test_extreme_addresses),
		cmocka_unit_test(test_remove_drops_node_from_results),
		cmocka_unit_test(test_equal_starts_are_all_found),
		cmocka_unit_test(test_validate_detects_a_stale_subtree_last),
		cmocka_unit_test(test_random_operations_match_linear_scan),
		cmocka_unit_test(test_sequential_inserts_keep_tree_balanced),
	};

	return cmocka_run_group_tests_name("interval_tree", tests, NULL, NULL);
}
