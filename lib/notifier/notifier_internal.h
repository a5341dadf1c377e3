/* SPDX-License-Identifier: MIT */
/*
 * Internals of the MMU-notifier core (lib/notifier): the per-mm
 * subscriptions (struct mmu_notifier_subscriptions), the hooks lib/mm calls,
 * the internal dispatch variants the operations layer's kernel profiles use,
 * and white-box accessors for the tests.
 */
#ifndef MMN_LIB_NOTIFIER_INTERNAL_H
#define MMN_LIB_NOTIFIER_INTERNAL_H

#include <stdbool.h>

#include <mmnsim/mmu_notifier.h>

#include "internal.h"
#include "sync/internal.h"
#include "notifier/interval_tree.h"

/*
 * struct mmu_notifier_subscriptions (5.5+; struct mmu_notifier_mm before):
 * allocated by the first registration on an mm, published in
 * mm->notifier_subscriptions with a release store, freed when the mm's
 * struct is freed (mmdrop). Field rules:
 *   list        RCU-published singly linked list of struct mmn_notifier;
 *               changed under @lock, read with acquire loads in SRCU read
 *               sections.
 *   has_itree   set once (mmap_lock write), read with acquire loads.
 *   invalidate_seq  changed under @lock, read locklessly by wait conditions
 *               and check_retry (atomic builtins).
 *   the rest    under @lock; the tree is also read without it by a walker
 *               while the sequence is odd (nobody may change it then).
 */
struct mmn_notifier_subscriptions {
	struct mmn_notifier *list;
	bool has_itree;
	struct mmn_spinlock lock;
	unsigned long invalidate_seq;
	unsigned long active_invalidate_ranges;
	struct mmn_itree_root itree;
	struct mmn_waitqueue wq;
	struct mmn_interval_notifier *deferred_list;
};

/* mm->notifier_subscriptions, or NULL (mm_has_notifiers()). */
struct mmn_notifier_subscriptions *mmn_mm_notifier_subscriptions(const struct mmn_mm *mm);

/*
 * __mmu_notifier_subscriptions_destroy() (all versions), from the mmdrop
 * path (mm_free()): free the subscriptions. Subscriptions or intervals still
 * attached are reported (the kernel BUGs) and left alone.
 */
void mmn_notifier_subscriptions_destroy(struct mmn_mm *mm);

/*
 * The end of an invalidation with the knobs of older kernels:
 *
 *   legacy_invalidate_range  3.19-6.5: end calls each subscriber's
 *                            ->invalidate_range (the secondary TLB flush)
 *                            before its ->invalidate_range_end.
 *   only_end                 4.15-6.5: mmu_notifier_invalidate_range_only_end(),
 *                            used where the call site already flushed under
 *                            the PTL: end skips ->invalidate_range.
 *
 * mmn_notifier_invalidate_range_end() is this with (false, false), the 6.6+
 * behaviour. The operations layer's profiles pass their knob values here.
 */
void __mmn_notifier_invalidate_range_end(struct mmn_notifier_range *range,
					 bool legacy_invalidate_range, bool only_end);

/* Set the hooks through which lib/mm calls the notifier (struct mmn_sim). */
void mmn__notifier_sim_init(struct mmn_sim *sim);

/* White-box: outstanding starts of the calling thread (the pairing check). */
int mmn_notifier_pairing_depth(void);
/* White-box: forget the calling thread's outstanding starts. */
void mmn_notifier_pairing_reset(void);

#endif /* MMN_LIB_NOTIFIER_INTERNAL_H */
