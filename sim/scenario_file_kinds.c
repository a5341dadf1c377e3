// SPDX-License-Identifier: MIT
/*
 * The built-in listener kinds of scenario files: kvm, iommu and hmm, each a
 * struct mmn_listener_kind over the library's listener (include/mmnsim/
 * listeners/), registered with mmn_listener_kind_register() like a
 * plugin's (sfile_kinds_register()). Their variants are the listeners' enum
 * values by name, their counters fields of the listeners' stats.
 *
 *   kvm    memslot 0 over the span (guest frame = host page number); a
 *          device access is vCPU 0's access of that guest frame
 *   iommu  an IOMMU bound to the mm (one PASID); DMA reads and writes
 *   hmm    an interval-notifier mirror of the span; one-page reads, writes
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>

#include "scenario_file.h"

/* A counter: its name and the offset of its unsigned long in the stats. */
struct kc {
	const char *name;
	size_t off;
};

/* ---- kvm ---- */

static const char *const kvm_variants[] = { "check_range", "check_seq_only", "numa_aware", NULL };
#define KVM_C(f) { #f, offsetof(struct mmn_kvm_stats, f) }
static const struct kc kvm_c[] = {
	KVM_C(invalidations_tracked), KVM_C(needless_invalidations), KVM_C(sptes_zapped),
	KVM_C(tlb_flushes), KVM_C(accesses), KVM_C(faults), KVM_C(faults_installed),
	KVM_C(refaults), KVM_C(retries), KVM_C(give_ups),
};
static const char *const kvm_counters[] = {
	"invalidations_tracked", "needless_invalidations", "sptes_zapped", "tlb_flushes", "accesses",
	"faults", "faults_installed", "refaults", "retries", "give_ups", NULL };

static int kvm_create(struct mmn_sim *sim, struct mmn_mm *mm, int variant, unsigned long start,
		      unsigned long length, void **out)
{
	struct mmn_kvm_config cfg;
	struct mmn_kvm *kvm;
	int err;

	(void)sim;
	mmn_kvm_config_init(&cfg);
	cfg.variant = (enum mmn_kvm_variant)variant;
	kvm = mmn_kvm_create(mm, &cfg);
	if (!kvm)
		return -errno;
	err = mmn_kvm_set_memslot(kvm, 0, start / MMN_PAGE_SIZE, length / MMN_PAGE_SIZE, start);
	if (err) {
		mmn_kvm_destroy(kvm);
		return err;
	}
	*out = kvm;
	return 0;
}

static int kvm_destroy(void *l)
{
	mmn_kvm_destroy(l);
	return 0;
}

static int kvm_read(void *l, unsigned long addr, uint64_t *val)
{
	return mmn_kvm_vcpu_read(l, 0, addr / MMN_PAGE_SIZE, val);
}

static int kvm_write(void *l, unsigned long addr, uint64_t val)
{
	return mmn_kvm_vcpu_write(l, 0, addr / MMN_PAGE_SIZE, val);
}

static int kvm_counter(void *l, int idx, unsigned long *val)
{
	struct mmn_kvm_stats st;
	int err = mmn_kvm_get_stats(l, &st);

	if (!err)
		*val = *(const unsigned long *)((const char *)&st + kvm_c[idx].off);
	return err;
}

static const struct mmn_listener_kind kind_kvm = {
	.name = "kvm", .help = "KVM shadow MMU (include/mmnsim/listeners/kvm.h)",
	.variants = kvm_variants, .counters = kvm_counters, .create = kvm_create,
	.destroy = kvm_destroy, .device_read = kvm_read, .device_write = kvm_write,
	.counter = kvm_counter,
};

/* ---- iommu ---- */

struct io_l {
	struct mmn_iommu *io;
	int pasid;
};

static const char *const iommu_variants[] = { "sva", "amdv2", NULL };
#define IO_C(f) { #f, offsetof(struct mmn_iommu_stats, f) }
static const struct kc io_c[] = {
	IO_C(flushes), IO_C(entries_flushed), IO_C(needless_flushes), IO_C(dma_reads),
	IO_C(dma_writes), IO_C(atc_hits), IO_C(iotlb_hits), IO_C(walks), IO_C(page_requests),
	IO_C(refaults), IO_C(completed),
};
static const char *const iommu_counters[] = {
	"flushes", "entries_flushed", "needless_flushes", "dma_reads", "dma_writes", "atc_hits",
	"iotlb_hits", "walks", "page_requests", "refaults", "completed", NULL };

static int io_create(struct mmn_sim *sim, struct mmn_mm *mm, int variant, unsigned long start,
		     unsigned long length, void **out)
{
	struct mmn_iommu_config cfg;
	struct io_l *l = calloc(1, sizeof(*l));
	int err;

	(void)start;
	(void)length;
	if (!l)
		return -ENOMEM;
	mmn_iommu_config_init(&cfg);
	cfg.mode = (enum mmn_iommu_mode)variant;
	l->io = mmn_iommu_create(sim, &cfg);
	err = l->io ? mmn_iommu_bind(l->io, mm, &l->pasid) : -ENOMEM;
	if (err) {
		if (l->io)
			mmn_iommu_destroy(l->io);
		free(l);
		return err;
	}
	*out = l;
	return 0;
}

static int io_destroy(void *p)
{
	struct io_l *l = p;

	mmn_iommu_destroy(l->io);
	free(l);
	return 0;
}

static int io_read(void *p, unsigned long addr, uint64_t *val)
{
	struct io_l *l = p;

	return mmn_iommu_dma_read(l->io, l->pasid, addr, val);
}

static int io_write(void *p, unsigned long addr, uint64_t val)
{
	struct io_l *l = p;

	return mmn_iommu_dma_write(l->io, l->pasid, addr, val);
}

static int io_counter(void *p, int idx, unsigned long *val)
{
	struct io_l *l = p;
	struct mmn_iommu_stats st;
	int err = mmn_iommu_get_stats(l->io, &st);

	if (!err)
		*val = *(const unsigned long *)((const char *)&st + io_c[idx].off);
	return err;
}

static const struct mmn_listener_kind kind_iommu = {
	.name = "iommu", .help = "IOMMU with SVA (include/mmnsim/listeners/iommu.h)",
	.variants = iommu_variants, .counters = iommu_counters, .create = io_create,
	.destroy = io_destroy, .device_read = io_read, .device_write = io_write,
	.counter = io_counter,
};

/* ---- hmm ---- */

static const char *const hmm_variants[] = { "event_aware", "event_blind", "valid_flag", NULL };
#define HMM_C(f) { #f, offsetof(struct mmn_hmm_stats, f) }
static const struct kc hmm_c[] = {
	HMM_C(callbacks), HMM_C(teardowns), HMM_C(needless), HMM_C(zapped), HMM_C(downgraded),
	HMM_C(device_faults), HMM_C(refaults), HMM_C(programmed), HMM_C(retries), HMM_C(reads),
	HMM_C(writes),
};
static const char *const hmm_counters[] = {
	"callbacks", "teardowns", "needless", "zapped", "downgraded", "device_faults", "refaults",
	"programmed", "retries", "reads", "writes", NULL };

static int hmm_create(struct mmn_sim *sim, struct mmn_mm *mm, int variant, unsigned long start,
		      unsigned long length, void **out)
{
	struct mmn_hmm_config cfg;

	(void)sim;
	mmn_hmm_config_init(&cfg);
	cfg.variant = (enum mmn_hmm_variant)variant;
	return mmn_hmm_create(mm, start, length, &cfg, (struct mmn_hmm **)out);
}

static int hmm_destroy(void *l)
{
	return mmn_hmm_destroy(l);
}

static int hmm_read(void *l, unsigned long addr, uint64_t *val)
{
	long r = mmn_hmm_read(l, addr & ~(unsigned long)(MMN_PAGE_SIZE - 1), 1, val);

	return r < 0 ? (int)r : 0;
}

static int hmm_write(void *l, unsigned long addr, uint64_t val)
{
	long r = mmn_hmm_write(l, addr & ~(unsigned long)(MMN_PAGE_SIZE - 1), 1, &val);

	return r < 0 ? (int)r : 0;
}

static int hmm_counter(void *l, int idx, unsigned long *val)
{
	struct mmn_hmm_stats st;
	int err = mmn_hmm_get_stats(l, &st);

	if (!err)
		*val = *(const unsigned long *)((const char *)&st + hmm_c[idx].off);
	return err;
}

static const struct mmn_listener_kind kind_hmm = {
	.name = "hmm", .help = "HMM mirror, test_hmm's dmirror (include/mmnsim/listeners/hmm.h)",
	.variants = hmm_variants, .counters = hmm_counters, .create = hmm_create,
	.destroy = hmm_destroy, .device_read = hmm_read, .device_write = hmm_write,
	.counter = hmm_counter,
};

void sfile_kinds_register(void)
{
	/* -EEXIST after the first call: registered already. */
	(void)mmn_listener_kind_register(&kind_kvm);
	(void)mmn_listener_kind_register(&kind_iommu);
	(void)mmn_listener_kind_register(&kind_hmm);
}
