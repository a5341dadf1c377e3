/* SPDX-License-Identifier: MIT */
/**
 * @file mmnsim.h
 * @brief Umbrella header: the whole public API of mmnsim.
 *
 * `#include <mmnsim/mmnsim.h>` is all a program needs. Each header below
 * also compiles on its own, for code that wants less. Every public header
 * under include/mmnsim/ is listed here (a CTest check, consumer.umbrella,
 * fails otherwise).
 */
#ifndef MMNSIM_MMNSIM_H
#define MMNSIM_MMNSIM_H

#include <mmnsim/version.h>
#include <mmnsim/export.h>
#include <mmnsim/check.h>
#include <mmnsim/sim.h>
#include <mmnsim/clock.h>
#include <mmnsim/sync.h>
#include <mmnsim/sched.h>
#include <mmnsim/page.h>
#include <mmnsim/pgtable.h>
#include <mmnsim/profile.h>
#include <mmnsim/mm.h>
#include <mmnsim/tlb.h>
#include <mmnsim/fault.h>
#include <mmnsim/mmu_notifier.h>
#include <mmnsim/corepath.h>
#include <mmnsim/ops.h>
#include <mmnsim/device.h>
#include <mmnsim/hmm_range.h>
#include <mmnsim/file.h>
#include <mmnsim/aging.h>
#include <mmnsim/userfaultfd.h>
#include <mmnsim/memory_failure.h>
#include <mmnsim/numa.h>
#include <mmnsim/scenario.h>
#include <mmnsim/explore.h>
#include <mmnsim/compat.h>
#include <mmnsim/listeners/kvm.h>
#include <mmnsim/listeners/iommu.h>
#include <mmnsim/listeners/hmm.h>
#include <mmnsim/inline.h>

#endif /* MMNSIM_MMNSIM_H */
