/* SPDX-License-Identifier: MIT */
/*
 * An interval tree over closed intervals [start, last]: a red-black tree
 * ordered by start, each node augmented with the largest last of its
 * subtree, as the kernel's lib/interval_tree.c (INTERVAL_TREE_DEFINE over
 * rbtree_augmented.h). Written for mmnsim; no Debian-packaged C library
 * offers a mutable augmented interval tree (libiitii is a static, C++ one;
 * liburcu-cds has none).
 *
 * The tree does no locking: the notifier core changes it under the
 * subscriptions lock and walks it only while it is frozen (odd sequence).
 */
#ifndef MMN_LIB_NOTIFIER_INTERVAL_TREE_H
#define MMN_LIB_NOTIFIER_INTERVAL_TREE_H

#include <stddef.h>

#include <mmnsim/mmu_notifier.h>

/* struct rb_root of an interval tree. */
struct mmn_itree_root {
	struct mmn_interval_tree_node *root;
};

/* interval_tree_insert(): @node->start and @node->last must be set. O(log n). */
void mmn_itree_insert(struct mmn_itree_root *root, struct mmn_interval_tree_node *node);

/* interval_tree_remove(): @node must be in the tree. O(log n). */
void mmn_itree_remove(struct mmn_itree_root *root, struct mmn_interval_tree_node *node);

/*
 * interval_tree_iter_first(): the first node, in start order, overlapping
 * [start, last], or NULL. O(log n).
 */
struct mmn_interval_tree_node *mmn_itree_iter_first(const struct mmn_itree_root *root,
						    unsigned long start, unsigned long last);

/*
 * interval_tree_iter_next(): the next node after @node, in start order,
 * overlapping [start, last], or NULL. O(log n) amortised per step.
 */
struct mmn_interval_tree_node *mmn_itree_iter_next(struct mmn_interval_tree_node *node,
						   unsigned long start, unsigned long last);

/*
 * White-box check of every invariant: binary-search order, red-black
 * colouring and equal black heights, parent links and subtree_last. Returns
 * the number of nodes, or -1 if an invariant is broken.
 */
long mmn_itree_validate(const struct mmn_itree_root *root);

#endif /* MMN_LIB_NOTIFIER_INTERVAL_TREE_H */
