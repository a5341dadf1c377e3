// SPDX-License-Identifier: MIT
/*
 * Augmented red-black interval tree (see interval_tree.h). Models the
 * behaviour of the kernel's interval_tree_insert/remove/iter_first/iter_next
 * (lib/interval_tree.c, all versions since 3.7): nodes sorted by start,
 * equal starts kept in insertion order to the right, each node caching the
 * largest last of its subtree so that an overlap search can skip subtrees
 * that end before the query starts.
 *
 * The red-black algorithms are the textbook ones (insert and delete fix-ups
 * with NULL leaves); the augmentation is maintained by recomputing the two
 * nodes of every rotation and, after a deletion splices nodes, every node
 * from the splice point up to the root.
 */
#include "notifier/interval_tree.h"

typedef struct mmn_interval_tree_node node_t;

static inline unsigned long node_max(const node_t *n)
{
	unsigned long m = n->last;

	if (n->left && n->left->subtree_last > m)
		m = n->left->subtree_last;
	if (n->right && n->right->subtree_last > m)
		m = n->right->subtree_last;
	return m;
}

static inline void augment_recompute(node_t *n)
{
	n->subtree_last = node_max(n);
}

/* Recompute every node from @n up to the root. */
static void augment_propagate(node_t *n)
{
	for (; n; n = n->parent)
		augment_recompute(n);
}

/* Make @v take @u's place under @u's parent. */
static void replace_child(struct mmn_itree_root *root, node_t *u, node_t *v)
{
	if (!u->parent)
		root->root = v;
	else if (u == u->parent->left)
		u->parent->left = v;
	else
		u->parent->right = v;
	if (v)
		v->parent = u->parent;
}

/*
 *     x                y
 *    / \              / \
 *   a   y     ->     x   c
 *      / \          / \
 *     b   c        a   b
 * y ends up covering exactly x's old subtree, so it takes x's old
 * subtree_last; x is recomputed from its new children.
 */
static void rotate_left(struct mmn_itree_root *root, node_t *x)
{
	node_t *y = x->right;

	x->right = y->left;
	if (y->left)
		y->left->parent = x;
	replace_child(root, x, y);
	y->left = x;
	x->parent = y;
	y->subtree_last = x->subtree_last;
	augment_recompute(x);
}

/* Mirror image of rotate_left(). */
static void rotate_right(struct mmn_itree_root *root, node_t *x)
{
	node_t *y = x->left;

	x->left = y->right;
	if (y->right)
		y->right->parent = x;
	replace_child(root, x, y);
	y->right = x;
	x->parent = y;
	y->subtree_last = x->subtree_last;
	augment_recompute(x);
}

static inline bool is_red(const node_t *n)
{
	return n && n->red;
}

void mmn_itree_insert(struct mmn_itree_root *root, node_t *node)
{
	node_t **link = &root->root, *parent = NULL;

	/* Descend by start; every ancestor's subtree gains node->last. */
	while (*link) {
		parent = *link;
		if (parent->subtree_last < node->last)
			parent->subtree_last = node->last;
		link = node->start < parent->start ? &parent->left : &parent->right;
	}
	node->parent = parent;
	node->left = node->right = NULL;
	node->subtree_last = node->last;
	node->red = 1;
	*link = node;

	/* Restore the colouring (no red node with a red parent). */
	while (is_red(node->parent)) {
		node_t *p = node->parent;
		node_t *g = p->parent; /* exists: a red node is never the root */

		if (p == g->left) {
			node_t *u = g->right;

			if (is_red(u)) {
				p->red = 0;
				u->red = 0;
				g->red = 1;
				node = g;
				continue;
			}
			if (node == p->right) {
				rotate_left(root, p);
				node = p;
				p = node->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_right(root, g);
		} else {
			node_t *u = g->left;

			if (is_red(u)) {
				p->red = 0;
				u->red = 0;
				g->red = 1;
				node = g;
				continue;
			}
			if (node == p->left) {
				rotate_right(root, p);
				node = p;
				p = node->parent;
			}
			p->red = 0;
			g->red = 1;
			rotate_left(root, g);
		}
	}
	root->root->red = 0;
}

/*
 * After a black node left position (@x, possibly NULL, under @parent) the
 * path through @x is one black short: recolour and rotate until it is not.
 */
static void erase_fixup(struct mmn_itree_root *root, node_t *x, node_t *parent)
{
	while (x != root->root && !is_red(x)) {
		if (x == parent->left) {
			node_t *w = parent->right; /* non-NULL: its side is black-taller */

			if (w->red) {
				w->red = 0;
				parent->red = 1;
				rotate_left(root, parent);
				w = parent->right;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				w->red = 1;
				x = parent;
				parent = x->parent;
				continue;
			}
			if (!is_red(w->right)) {
				w->left->red = 0;
				w->red = 1;
				rotate_right(root, w);
				w = parent->right;
			}
			w->red = parent->red;
			parent->red = 0;
			if (w->right)
				w->right->red = 0;
			rotate_left(root, parent);
			x = root->root;
		} else {
			node_t *w = parent->left;

			if (w->red) {
				w->red = 0;
				parent->red = 1;
				rotate_right(root, parent);
				w = parent->left;
			}
			if (!is_red(w->left) && !is_red(w->right)) {
				w->red = 1;
				x = parent;
				parent = x->parent;
				continue;
			}
			if (!is_red(w->left)) {
				w->right->red = 0;
				w->red = 1;
				rotate_left(root, w);
				w = parent->left;
			}
			w->red = parent->red;
			parent->red = 0;
			if (w->left)
				w->left->red = 0;
			rotate_right(root, parent);
			x = root->root;
		}
	}
	if (x)
		x->red = 0;
}

void mmn_itree_remove(struct mmn_itree_root *root, node_t *z)
{
	node_t *x, *xparent;
	int removed_red;

	if (!z->left || !z->right) {
		/* At most one child: it takes z's place. */
		x = z->left ? z->left : z->right;
		xparent = z->parent;
		removed_red = z->red;
		replace_child(root, z, x);
	} else {
		/* Two children: z's successor y (leftmost of the right subtree)
		 * takes z's place and colour; y's right child takes y's. */
		node_t *y = z->right;

		while (y->left)
			y = y->left;
		removed_red = y->red;
		x = y->right;
		if (y->parent == z) {
			xparent = y;
		} else {
			xparent = y->parent;
			replace_child(root, y, x);
			y->right = z->right;
			y->right->parent = y;
		}
		replace_child(root, z, y);
		y->left = z->left;
		y->left->parent = y;
		y->red = z->red;
	}
	/* Every node whose subtree changed lies on the path from xparent up
	 * (y's new position included). */
	augment_propagate(xparent);
	if (!removed_red)
		erase_fixup(root, x, xparent);
	z->parent = z->left = z->right = NULL;
}

/*
 * The first node, in start order, of @node's subtree that overlaps
 * [start, last]. Since nodes are sorted by start, once a candidate starts
 * after @last nothing later can overlap.
 */
static node_t *subtree_search(node_t *node, unsigned long start, unsigned long last)
{
	for (;;) {
		if (node->left && node->left->subtree_last >= start) {
			node = node->left;
			continue;
		}
		if (node->start > last)
			return NULL;
		if (node->last >= start)
			return node;
		if (!node->right || node->right->subtree_last < start)
			return NULL;
		node = node->right;
	}
}

node_t *mmn_itree_iter_first(const struct mmn_itree_root *root, unsigned long start,
			     unsigned long last)
{
	node_t *n = root->root;

	if (!n || n->subtree_last < start)
		return NULL;
	return subtree_search(n, start, last);
}

node_t *mmn_itree_iter_next(node_t *node, unsigned long start, unsigned long last)
{
	for (;;) {
		node_t *prev;

		if (node->right && node->right->subtree_last >= start)
			return subtree_search(node->right, start, last);
		/* Climb to the in-order successor: the first ancestor reached
		 * from its left child. */
		do {
			prev = node;
			node = node->parent;
			if (!node)
				return NULL;
		} while (prev == node->right);
		if (node->start > last)
			return NULL;
		if (node->last >= start)
			return node;
	}
}

/* State of an in-order walk for the order check. */
struct validate_walk {
	long count;
	bool seen;
	unsigned long prev_start;
};

/* Returns the black height of @n's subtree, or -1 on a broken invariant. */
static long validate_node(const node_t *n, const node_t *parent, struct validate_walk *w)
{
	long lh, rh;

	if (!n)
		return 1;
	if (n->parent != parent || n->last < n->start)
		return -1;
	if (n->red && (is_red(n->left) || is_red(n->right)))
		return -1;
	if (n->subtree_last != node_max(n))
		return -1;
	lh = validate_node(n->left, n, w);
	if (lh < 0)
		return -1;
	/* In order, starts never decrease. */
	if (w->seen && n->start < w->prev_start)
		return -1;
	w->seen = true;
	w->prev_start = n->start;
	w->count++;
	rh = validate_node(n->right, n, w);
	if (rh < 0 || lh != rh)
		return -1;
	return lh + !n->red;
}

long mmn_itree_validate(const struct mmn_itree_root *root)
{
	struct validate_walk w = { 0 };

	if (root->root && root->root->red)
		return -1;
	if (validate_node(root->root, NULL, &w) < 0)
		return -1;
	return w.count;
}
