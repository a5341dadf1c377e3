/* SPDX-License-Identifier: MIT */
/**
 * @file export.h
 * @brief Symbol visibility for the mmnsim library.
 *
 * The library is compiled with hidden visibility; only declarations marked
 * MMN_API are exported from libmmnsim.so (`nm -D --defined-only` lists only
 * `mmn_` names). Static linking needs nothing special.
 */
#ifndef MMNSIM_EXPORT_H
#define MMNSIM_EXPORT_H

#if defined(__GNUC__) || defined(__clang__)
#define MMN_API __attribute__((visibility("default")))
#else
#define MMN_API
#endif

#endif /* MMNSIM_EXPORT_H */
