// SPDX-License-Identifier: MIT
/*
 * Named kernel-era profiles and the knob table. Each value was read in the
 * kernel version the profile names (or the nearest one read); docs/profiles.md
 * gives, knob by knob, the kernel file and function each era's value comes
 * from.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <mmnsim/profile.h>
#include <mmnsim/tlb.h>

/*
 * The profiles, oldest first; "latest" models 6.19 (6.19.9 as read). A knob
 * an era does not name is false (the
 * older shape); docs/profiles.md gives the kernel file and function each
 * value comes from. A new knob is a field set in the eras that have it.
 */
#define ERA_COMMON                                                                     \
	.tlb_flush_ceiling = 33, .gather_batch = MMN_GATHER_BATCH, .arch = MMN_ARCH_X86,  \
	.reclaim_batch_flush = true

static const struct mmn_profile profiles[] = {
	{
		.name = "4.12",
		.secondary_flush = MMN_SECFLUSH_INVALIDATE_PAGE,
		.change_pte = true,
		.numa_map_before_migrate = true,
		.invalidate_page_under_ptl = true,
		.hugetlb_unmap_nested_notify = true,
		ERA_COMMON,
	},
	{
		.name = "4.13",
		.secondary_flush = MMN_SECFLUSH_CALL_SITES,
		.change_pte = true,
		.numa_map_before_migrate = true,
		.hugetlb_unmap_nested_notify = true,
		ERA_COMMON,
	},
	{
		.name = "4.15",
		.secondary_flush = MMN_SECFLUSH_CALL_SITES,
		.only_end_skips_flush = true,
		.change_pte = true,
		.ksm_secflush_at_end = true,
		.numa_map_before_migrate = true,
		.oom_reap_skip_notifiers = true,
		.hugetlb_unmap_nested_notify = true,
		.hugetlb_fork_secflush_at_end = true,
		ERA_COMMON,
	},
	{
		.name = "5.2",
		.secondary_flush = MMN_SECFLUSH_CALL_SITES,
		.only_end_skips_flush = true,
		.pmd_share_widen = true,
		.events = true,
		.change_pte = true,
		.nonblock = true,
		.mremap_flush_under_ptl = true,
		.ksm_secflush_at_end = true,
		.hugetlb_prot_secflush_at_end = true,
		.range_update_to_read_only = true,
		.numa_map_before_migrate = true,
		.hugetlb_unmap_nested_notify = true,
		.hugetlb_fork_secflush_at_end = true,
		ERA_COMMON,
	},
	{
		.name = "5.14",
		.secondary_flush = MMN_SECFLUSH_CALL_SITES,
		.only_end_skips_flush = true,
		.pmd_share_widen = true,
		.events = true,
		.change_pte = true,
		.nonblock = true,
		.mremap_flush_under_ptl = true,
		.interval_notifiers = true,
		.migrate_event = true,
		.device_exclusive = true,
		.ksm_secflush_at_end = true,
		.hugetlb_prot_secflush_at_end = true,
		.fork_copy_pinned = true,
		.range_update_to_read_only = true,
		.clear_refs_write_lock = true,
		.start_failure_ends_others = true,
		.exclusive_via_rmap = true,
		.hugetlb_unmap_nested_notify = true,
		.uffd_wp = true,
		.hugetlb_fork_secflush_at_end = true,
		ERA_COMMON,
	},
	{
		.name = "6.5",
		.secondary_flush = MMN_SECFLUSH_CALL_SITES,
		.only_end_skips_flush = true,
		.pmd_share_widen = true,
		.events = true,
		.change_pte = true,
		.nonblock = true,
		.mremap_flush_under_ptl = true,
		.interval_notifiers = true,
		.migrate_event = true,
		.device_exclusive = true,
		.ksm_secflush_at_end = true,
		.hugetlb_prot_secflush_at_end = true,
		.fork_copy_pinned = true,
		.cow_reuse_anon_exclusive = true,
		.clear_refs_write_lock = true,
		.start_failure_ends_others = true,
		.migrate_batch_flush = true,
		.exclusive_via_rmap = true,
		.hugetlb_split_unshares = true,
		.file_collapse_notify = true,
		.uffd_wp = true,
		.uffd_wp_unprotect_writable = true,
		.uffd_unregister_unprotects = true,
		.hugetlb_fork_secflush_at_end = true,
		.mremap_hugetlb = true,
		ERA_COMMON,
	},
	{
		.name = "6.6",
		.secondary_flush = MMN_SECFLUSH_WITH_CPU_FLUSH,
		.pmd_share_widen = true,
		.events = true,
		.change_pte = true,
		.nonblock = true,
		.mremap_flush_under_ptl = true,
		.interval_notifiers = true,
		.migrate_event = true,
		.device_exclusive = true,
		.ksm_secflush_at_end = true,
		.hugetlb_prot_secflush_at_end = true,
		.fork_copy_pinned = true,
		.cow_reuse_anon_exclusive = true,
		.clear_refs_write_lock = true,
		.start_failure_ends_others = true,
		.migrate_batch_flush = true,
		.exclusive_via_rmap = true,
		.hugetlb_split_unshares = true,
		.file_collapse_notify = true,
		.uffd_wp = true,
		.uffd_wp_unprotect_writable = true,
		.uffd_unregister_unprotects = true,
		.hugetlb_fork_secflush_at_end = true,
		.mremap_hugetlb = true,
		ERA_COMMON,
	},
	{
		.name = "6.10",
		.secondary_flush = MMN_SECFLUSH_WITH_CPU_FLUSH,
		.pmd_share_widen = true,
		.events = true,
		.nonblock = true,
		.mremap_flush_under_ptl = true,
		.interval_notifiers = true,
		.migrate_event = true,
		.device_exclusive = true,
		.ksm_secflush_at_end = true,
		.hugetlb_prot_secflush_at_end = true,
		.fork_copy_pinned = true,
		.cow_reuse_anon_exclusive = true,
		.clear_refs_write_lock = true,
		.start_failure_ends_others = true,
		.migrate_batch_flush = true,
		.exclusive_via_rmap = true,
		.hugetlb_split_unshares = true,
		.file_collapse_notify = true,
		.uffd_wp = true,
		.uffd_wp_unprotect_writable = true,
		.uffd_unregister_unprotects = true,
		.uffd_move = true,
		.uffd_wp_async = true,
		.hugetlb_fork_secflush_at_end = true,
		.mremap_hugetlb = true,
		ERA_COMMON,
	},
	{
		.name = "latest",
		.secondary_flush = MMN_SECFLUSH_WITH_CPU_FLUSH,
		.pmd_share_widen = true,
		.events = true,
		.nonblock = true,
		.mremap_flush_under_ptl = true,
		.interval_notifiers = true,
		.migrate_event = true,
		.device_exclusive = true,
		.exclusive_restore_clear = true,
		.ksm_secflush_at_end = true,
		.hugetlb_prot_secflush_at_end = true,
		.fork_copy_pinned = true,
		.cow_reuse_anon_exclusive = true,
		.clear_refs_write_lock = true,
		.start_failure_ends_others = true,
		.mprotect_start_per_p4d = true,
		.migrate_batch_flush = true,
		.hugetlb_split_unshares = true,
		.file_collapse_notify = true,
		.uffd_wp = true,
		.uffd_wp_unprotect_writable = true,
		.uffd_unregister_unprotects = true,
		.uffd_move = true,
		.uffd_wp_async = true,
		.hugetlb_fork_secflush_at_end = true,
		.mremap_hugetlb = true,
		ERA_COMMON,
	},
};

static const char *const flush_names[] = {
	[MMN_SECFLUSH_WITH_CPU_FLUSH] = "with_cpu_flush",
	[MMN_SECFLUSH_CALL_SITES] = "call_sites",
	[MMN_SECFLUSH_RANGE_END] = "range_end",
	[MMN_SECFLUSH_INVALIDATE_PAGE] = "invalidate_page",
};

static const char *const arch_names[] = {
	[MMN_ARCH_X86] = "x86",
	[MMN_ARCH_ARM64] = "arm64",
};

enum knob_type { KNOB_BOOL, KNOB_FLUSH, KNOB_UINT, KNOB_ARCH };

static const struct knob {
	const char *name;
	enum knob_type type;
	size_t offset;
	unsigned long min, max; /* KNOB_UINT */
} knobs[] = {
#define K(field, type) { #field, type, offsetof(struct mmn_profile, field), 0, 1000000 }
#define KU(field, lo, hi) { #field, KNOB_UINT, offsetof(struct mmn_profile, field), lo, hi }
	K(secondary_flush, KNOB_FLUSH),
	K(only_end_skips_flush, KNOB_BOOL),
	K(pmd_share_widen, KNOB_BOOL),
	K(events, KNOB_BOOL),
	K(change_pte, KNOB_BOOL),
	K(put_page_before_secondary_flush, KNOB_BOOL),
	K(nonblock, KNOB_BOOL),
	K(mremap_flush_under_ptl, KNOB_BOOL),
	K(interval_notifiers, KNOB_BOOL),
	K(migrate_event, KNOB_BOOL),
	K(device_exclusive, KNOB_BOOL),
	K(exclusive_restore_clear, KNOB_BOOL),
	K(oom_reap_clear, KNOB_BOOL),
	K(tlb_flush_ceiling, KNOB_UINT),
	KU(gather_batch, 1, MMN_GATHER_BATCH),
	K(ksm_secflush_at_end, KNOB_BOOL),
	K(hugetlb_prot_secflush_at_end, KNOB_BOOL),
	K(fork_copy_pinned, KNOB_BOOL),
	K(cow_reuse_anon_exclusive, KNOB_BOOL),
	K(range_update_to_read_only, KNOB_BOOL),
	K(numa_map_before_migrate, KNOB_BOOL),
	K(oom_reap_skip_notifiers, KNOB_BOOL),
	K(clear_refs_write_lock, KNOB_BOOL),
	K(invalidate_page_under_ptl, KNOB_BOOL),
	K(start_failure_ends_others, KNOB_BOOL),
	K(mprotect_start_per_p4d, KNOB_BOOL),
	K(arch, KNOB_ARCH),
	K(reclaim_batch_flush, KNOB_BOOL),
	K(migrate_batch_flush, KNOB_BOOL),
	K(exclusive_via_rmap, KNOB_BOOL),
	K(hugetlb_unmap_nested_notify, KNOB_BOOL),
	K(hugetlb_split_unshares, KNOB_BOOL),
	K(file_collapse_notify, KNOB_BOOL),
	K(uffd_wp, KNOB_BOOL),
	K(uffd_wp_unprotect_writable, KNOB_BOOL),
	K(uffd_move, KNOB_BOOL),
	K(uffd_unregister_unprotects, KNOB_BOOL),
	K(uffd_wp_async, KNOB_BOOL),
	K(hugetlb_fork_secflush_at_end, KNOB_BOOL),
	K(mremap_hugetlb, KNOB_BOOL),
#undef KU
#undef K
};

const struct mmn_profile *mmn_profile_by_name(const char *name)
{
	if (!name)
		name = "latest";
	for (size_t i = 0; i < sizeof(profiles) / sizeof(profiles[0]); i++)
		if (!strcmp(profiles[i].name, name))
			return &profiles[i];
	return NULL;
}

int mmn_profile_count(void)
{
	return (int)(sizeof(profiles) / sizeof(profiles[0]));
}

const struct mmn_profile *mmn_profile_at(int idx)
{
	if (idx < 0 || idx >= mmn_profile_count())
		return NULL;
	return &profiles[idx];
}

int mmn_profile_knob_count(void)
{
	return (int)(sizeof(knobs) / sizeof(knobs[0]));
}

const char *mmn_profile_knob_name(int idx)
{
	if (idx < 0 || idx >= mmn_profile_knob_count())
		return NULL;
	return knobs[idx].name;
}

const char *mmn_secondary_flush_name(enum mmn_secondary_flush where)
{
	if ((unsigned int)where >= sizeof(flush_names) / sizeof(flush_names[0]))
		return "unknown";
	return flush_names[where];
}

static const struct knob *knob_find(const char *name)
{
	for (size_t i = 0; i < sizeof(knobs) / sizeof(knobs[0]); i++)
		if (!strcmp(knobs[i].name, name))
			return &knobs[i];
	return NULL;
}

static int parse_bool(const char *v, bool *out)
{
	if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes") ||
	    !strcasecmp(v, "on"))
		*out = true;
	else if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no") ||
		 !strcasecmp(v, "off"))
		*out = false;
	else
		return -ERANGE;
	return 0;
}

int mmn_profile_set_knob(struct mmn_profile *p, const char *knob, const char *value)
{
	const struct knob *k;
	char *end;
	bool b;

	if (!p || !knob || !value)
		return -EINVAL;
	k = knob_find(knob);
	if (!k)
		return -ENOENT;
	switch (k->type) {
	case KNOB_BOOL:
		if (parse_bool(value, &b))
			return -ERANGE;
		*(bool *)((char *)p + k->offset) = b;
		break;
	case KNOB_FLUSH:
		for (size_t i = 0; i < sizeof(flush_names) / sizeof(flush_names[0]); i++) {
			if (!strcmp(flush_names[i], value)) {
				p->secondary_flush = (enum mmn_secondary_flush)i;
				goto done;
			}
		}
		return -ERANGE;
	case KNOB_ARCH:
		for (size_t i = 0; i < sizeof(arch_names) / sizeof(arch_names[0]); i++) {
			if (!strcmp(arch_names[i], value)) {
				p->arch = (enum mmn_arch)i;
				goto done;
			}
		}
		return -ERANGE;
	case KNOB_UINT: {
		unsigned long v;

		/* Digits only: strtoul() alone would take leading blanks
		 * and a sign (" 5", "+5"). */
		if (*value < '0' || *value > '9')
			return -ERANGE;
		errno = 0;
		v = strtoul(value, &end, 10);
		if (errno || *end || v < k->min || v > k->max)
			return -ERANGE;
		*(unsigned int *)((char *)p + k->offset) = (unsigned int)v;
		break;
	}
	}
done:
	p->name = "custom";
	return 0;
}

int mmn_profile_knob_value(const struct mmn_profile *p, const char *knob, char *buf,
			   unsigned long len)
{
	const struct knob *k;
	int n = 0;

	if (!p || !knob || !buf || !len)
		return -EINVAL;
	k = knob_find(knob);
	if (!k)
		return -ENOENT;
	switch (k->type) {
	case KNOB_BOOL:
		n = snprintf(buf, len, "%s",
			     *(const bool *)((const char *)p + k->offset) ? "true" : "false");
		break;
	case KNOB_FLUSH:
		n = snprintf(buf, len, "%s", mmn_secondary_flush_name(p->secondary_flush));
		break;
	case KNOB_UINT:
		n = snprintf(buf, len, "%u", *(const unsigned int *)((const char *)p + k->offset));
		break;
	case KNOB_ARCH:
		n = snprintf(buf, len, "%s",
			     (unsigned int)p->arch < sizeof(arch_names) / sizeof(arch_names[0])
				     ? arch_names[p->arch]
				     : "unknown");
		break;
	}
	return n < 0 || (unsigned long)n >= len ? -EINVAL : 0;
}

void mmn_profile_print(const struct mmn_profile *p, FILE *out)
{
	char val[32];

	if (!p || !out)
		return;
	fprintf(out, "profile %s\n", p->name);
	for (int i = 0; i < mmn_profile_knob_count(); i++) {
		mmn_profile_knob_value(p, knobs[i].name, val, sizeof(val));
		fprintf(out, "  %-32s = %s\n", knobs[i].name, val);
	}
}
