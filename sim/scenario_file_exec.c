// SPDX-License-Identifier: MIT
/*
 * The operations of a scenario file, run (sim/scenario_file_run.h): each
 * calls the library's function of that name (ops.h, mm.h, device.h) or a
 * listener's device hook; its return value is an observation (counted in
 * operations_failed), never an error of the run. An operation on an mm
 * slot or listener that does not exist yet (a fork fills it later) fails
 * with -ENODEV.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "scenario_file_run.h"

/* The span of the mappings of mm slot @mm (a forked slot: its parent's). */
static void span_of(const struct sfile *sf, int mm, unsigned long *start, unsigned long *len)
{
	uint64_t lo = UINT64_MAX, hi = 0;

	for (int depth = 0; depth < SFILE_MAX_MMS && (sf->forked_mms & (1u << mm)); depth++)
		mm = sf->fork_parent[mm];
	for (int m = 0; m < sf->sum.nr_mappings; m++) {
		if (sf->maps[m].mm != mm)
			continue;
		lo = sf->maps[m].start < lo ? sf->maps[m].start : lo;
		hi = sf->maps[m].start + sf->maps[m].length > hi ? sf->maps[m].start + sf->maps[m].length
								 : hi;
	}
	*start = hi > lo ? (unsigned long)lo : 0;
	*len = hi > lo ? (unsigned long)(hi - lo) : 0;
}

int sfile_listeners_attach(struct sf_ctx *c, int mm)
{
	struct mmn_mm *m = atomic_load(&c->mm[mm]);

	for (int i = 0; i < c->sf->sum.nr_listeners; i++) {
		const struct sfile_listener *l = &c->sf->lis[i];
		unsigned long start = l->start, len = l->length;
		void *inst = NULL;
		int err;

		if (l->mm != mm || atomic_load(&c->lis[i]))
			continue;
		if (!len)
			span_of(c->sf, mm, &start, &len);
		err = l->kind->create(c->sim, m, l->variant[c->wrong], start, len, &inst);
		if (err)
			return err;
		atomic_store(&c->lis[i], inst);
	}
	return 0;
}

/* fork: the child goes to its slot, and the slot's listeners are attached. */
static int op_fork(struct sf_ctx *c, struct mmn_mm *parent, const struct sfile_op *o)
{
	struct mmn_mm *child = NULL, *none = NULL;
	int err = mmn_fork(parent, &child);

	if (err)
		return err;
	if (!atomic_compare_exchange_strong(&c->mm[o->child], &none, child)) {
		mmn_mm_put(child); /* a loop forks again: the slot is taken */
		return -EBUSY;
	}
	return sfile_listeners_attach(c, o->child);
}

/* A device access through listener o->listener. */
static int op_device(struct sf_ctx *c, const struct sfile_op *o)
{
	const struct mmn_listener_kind *k = c->sf->lis[o->listener].kind;
	void *l = atomic_load(&c->lis[o->listener]);
	uint64_t v;

	if (!l)
		return -ENODEV;
	if (o->op == SF_DEVICE_WRITE)
		return k->device_write ? k->device_write(l, o->addr, o->value) : -EOPNOTSUPP;
	return k->device_read ? k->device_read(l, o->addr, &v) : -EOPNOTSUPP;
}

/* migrate_vma_to_device / _to_ram of [addr, addr + length) with device o->device. */
static int op_migrate_vma(struct sf_ctx *c, struct mmn_mm *mm, const struct sfile_op *o)
{
	unsigned long npages = (o->length + MMN_PAGE_SIZE - 1) / MMN_PAGE_SIZE;
	unsigned long *pfns;
	int err;

	if (npages > 65536)
		return -E2BIG;
	pfns = calloc(npages, sizeof(*pfns));
	if (!pfns)
		return -ENOMEM;
	err = o->op == SF_MIGRATE_VMA_TO_DEVICE
		      ? mmn_migrate_vma_to_device(mm, o->addr, o->addr + npages * MMN_PAGE_SIZE,
						  c->dev[o->device], pfns)
		      : mmn_migrate_vma_to_ram(mm, o->addr, o->addr + npages * MMN_PAGE_SIZE,
					       c->dev[o->device], pfns);
	free(pfns);
	return err;
}

/* make_device_exclusive, the device programmed at once (the page released). */
static int op_exclusive(struct sf_ctx *c, struct mmn_mm *mm, const struct sfile_op *o)
{
	unsigned long pfn;
	int err = mmn_make_device_exclusive(mm, o->addr,
					    o->device >= 0 ? &c->dev_owner[o->device] : NULL, &pfn);

	if (!err)
		mmn_device_exclusive_release(c->sim, pfn);
	return err;
}

/* The userfaultfd operations: mm slot o->mm's userfaultfd, made by its
 * first one (a racing actor's creation is kept, ours dropped). A move
 * that moved less than asked fails with -EAGAIN. */
static int op_uffd(struct sf_ctx *c, struct mmn_mm *mm, const struct sfile_op *o)
{
	struct mmn_uffd *u = atomic_load(&c->uffd[o->mm]), *none = NULL;
	long moved;
	int err;

	if (!u) {
		err = mmn_uffd_create(mm, &u);
		if (err)
			return err;
		if (!atomic_compare_exchange_strong(&c->uffd[o->mm], &none, u)) {
			mmn_uffd_release(u);
			u = none;
		}
	}
	switch (o->op) {
	case SF_UFFD_REGISTER:
		return mmn_uffd_register(u, o->addr, o->length, MMN_UFFDIO_REGISTER_MODE_WP);
	case SF_UFFD_WRITEPROTECT:
	case SF_UFFD_UNPROTECT:
		return mmn_uffd_writeprotect(u, o->addr, o->length, o->op == SF_UFFD_WRITEPROTECT);
	default:
		moved = mmn_uffd_move(u, o->addr, o->addr_b, o->length, 0);
		return moved < 0 ? (int)moved : (uint64_t)moved == o->length ? 0 : -EAGAIN;
	}
}

/* The operations on one mm's address space. */
static int op_mm(struct sf_ctx *c, struct mmn_mm *mm, const struct sfile_op *o)
{
	unsigned long got, skipped;
	uint64_t v;

	switch (o->op) {
	case SF_READ:
		return mmn_cpu_read(mm, o->cpu, o->addr, &v);
	case SF_WRITE:
		return mmn_cpu_write(mm, o->cpu, o->addr, o->value);
	case SF_MMAP:
		return mmn_mmap(mm, o->addr, o->length, o->prot, o->flags, &got);
	case SF_MUNMAP:
		return mmn_munmap(mm, o->addr, o->length);
	case SF_MADV_DONTNEED:
		return mmn_madvise(mm, o->addr, o->length, MMN_MADV_DONTNEED);
	case SF_MADVISE:
		return mmn_madvise(mm, o->addr, o->length, o->advice);
	case SF_MPROTECT:
		return mmn_mprotect(mm, o->addr, o->length, o->prot);
	case SF_MREMAP:
		return mmn_mremap(mm, o->addr, o->length, o->new_length, o->flags, o->new_addr, &got);
	case SF_TRY_TO_UNMAP:
		return mmn_try_to_unmap(mm, o->addr, o->length);
	case SF_MIGRATE_PAGES:
		return mmn_migrate_pages(mm, o->addr, o->length);
	case SF_SPLIT_HUGE_PMD:
		return mmn_split_huge_pmd(mm, o->addr);
	case SF_COLLAPSE_HUGE_PAGE:
		return mmn_collapse_huge_page(mm, o->addr);
	case SF_COLLAPSE_PTE_MAPPED_THP:
		return mmn_collapse_pte_mapped_thp(mm, o->addr);
	case SF_CHANGE_PROT_NUMA:
		return mmn_change_prot_numa(mm, o->addr, o->length);
	case SF_CLEAR_REFS_SOFT_DIRTY:
		return mmn_clear_refs_soft_dirty(mm);
	case SF_OOM_REAP:
		return mmn_oom_reap(mm, &skipped);
	default:
		return -EINVAL;
	}
}

/* One operation (not a loop). */
static int sf_op(struct sf_ctx *c, const struct sfile_op *o)
{
	struct mmn_mm *mm = atomic_load(&c->mm[o->mm]), *mm_b;

	if (o->op == SF_DEVICE_READ || o->op == SF_DEVICE_WRITE)
		return op_device(c, o);
	if (!mm)
		return -ENODEV;
	switch (o->op) {
	case SF_FORK:
		return op_fork(c, mm, o);
	case SF_KSM_MERGE:
		mm_b = atomic_load(&c->mm[o->mm_b]);
		return mm_b ? mmn_ksm_merge(mm, o->addr, mm_b, o->addr_b) : -ENODEV;
	case SF_MIGRATE_VMA_TO_DEVICE:
	case SF_MIGRATE_VMA_TO_RAM:
		return op_migrate_vma(c, mm, o);
	case SF_MAKE_DEVICE_EXCLUSIVE:
		return op_exclusive(c, mm, o);
	case SF_UFFD_REGISTER:
	case SF_UFFD_WRITEPROTECT:
	case SF_UFFD_UNPROTECT:
	case SF_UFFD_MOVE:
		return op_uffd(c, mm, o);
	default:
		return op_mm(c, mm, o);
	}
}

void sfile_run_ops(struct sf_ctx *c, const struct sfile_op *ops, int n)
{
	for (int i = 0; i < n; i++) {
		if (ops[i].op == SF_LOOP) {
			for (unsigned long k = 0; k < ops[i].count; k++)
				sfile_run_ops(c, ops + i + 1, ops[i].body);
			i += ops[i].body;
			continue;
		}
		atomic_fetch_add(&c->ops_run, 1);
		if (sf_op(c, &ops[i]))
			atomic_fetch_add(&c->ops_failed, 1);
	}
}
