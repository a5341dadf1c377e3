/* SPDX-License-Identifier: MIT */
/**
 * @file file.h
 * Regular files with a page cache and writeback (lib/ops/filemap.c,
 * lib/ops/truncate.c): a file object whose pages are indexed by offset and
 * shared by every mm and mapping that maps it, shared file mappings that
 * fault the page-cache pages in (write-notify: read-only until the first
 * store dirties the page), writeback that cleans the pages through
 * folio_mkclean() (PROTECTION_PAGE per mapping), and truncate / hole punch
 * through unmap_mapping_range() (CLEAR per mapping).
 */
#ifndef MMNSIM_FILE_H
#define MMNSIM_FILE_H

#include <stdint.h>

#include <mmnsim/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct mmn_sim;
struct mmn_mm;
/** A regular file (struct inode + its address_space); opaque. */
struct mmn_file;

/**
 * mmn_file_create() - a regular file of @p size bytes (rounded up to pages),
 * zero-filled on "disk", nothing cached yet. The caller holds the only
 * reference; each mapping takes another.
 * @param sim   the simulation
 * @param size  i_size and capacity in bytes (a truncate may shrink it and
 *              grow it back up to this capacity)
 * @return the file, or NULL with errno EINVAL (NULL @p sim, size 0 or above
 *         the user address space) or ENOMEM.
 */
MMN_API struct mmn_file *mmn_file_create(struct mmn_sim *sim, unsigned long size);

/**
 * mmn_file_put() - drop a reference (fput()); the last frees the cache.
 * @param file  the file; NULL: no-op
 */
MMN_API void mmn_file_put(struct mmn_file *file);

/**
 * mmn_mmap_file() - mmap(MAP_SHARED) of @p file at page offset
 * @p offset / 4096 (do_mmap() → mmap_region() with vma->vm_file), all
 * versions. The mapping wants write notification (vma_wants_writenotify()):
 * a read fault maps the page-cache page read-only; a store faults
 * (do_shared_fault() / wp_page_shared()), marks the page dirty under its
 * lock and maps it writable and dirty. Takes mmap_lock for write.
 * @param mm        the address space
 * @param addr      hint, or the address with MMN_MAP_FIXED
 * @param len       length in bytes (rounded up to pages)
 * @param prot      MMN_PROT_* bits
 * @param flags     MMN_MAP_SHARED, optionally | MMN_MAP_FIXED | MMN_MAP_POPULATE
 * @param file      the file (a reference is taken)
 * @param offset    page-aligned byte offset into the file
 * @param out_addr  receives the address (may be NULL)
 * @return 0; -EINVAL for NULL, other flags (private, anonymous, hugetlb),
 *         a misaligned @p offset, or a range past the file's capacity;
 *         the errors of mmn_mmap() otherwise. A store or load past i_size
 *         faults with -EFAULT (SIGBUS).
 */
MMN_API int mmn_mmap_file(struct mmn_mm *mm, unsigned long addr, unsigned long len, int prot,
			  int flags, struct mmn_file *file, unsigned long offset,
			  unsigned long *out_addr);

/**
 * mmn_file_writeback() - write the dirty pages of [@p offset, @p offset +
 * @p len) back (writeback_iter() → folio_clear_dirty_for_io() → folio_mkclean()
 * → rmap walk → page_vma_mkclean_one(), then the I/O), all versions. Per dirty
 * page: the folio lock; per shared mapping, invalidate_range_start
 * (PROTECTION_PAGE, 5.2+; UNMAP as listeners see it before), under the PTL a
 * writable or dirty entry is cleared, flushed (ptep_clear_flush: F1, with F2
 * inside in 6.6+) and re-set write-protected and clean, then end (F2 in
 * 3.19-6.5: no call-site ->invalidate_range, the entry is only downgraded);
 * up to 4.12 no start/end but ->invalidate_page under the PTL. The content
 * is written to the file and the page is clean; the next store faults. The
 * page is held stable (MMN_PG_STABLE) from its mkclean to the end of the
 * I/O, so a device store through a stale writable translation meanwhile is
 * reported as a lost write. Takes no mmap_lock. May sleep.
 * @param file    the file
 * @param offset  page-aligned byte offset
 * @param len     bytes (0: to the end of the file)
 * @return pages written, -EINVAL for NULL or a misaligned @p offset.
 */
MMN_API long mmn_file_writeback(struct mmn_file *file, unsigned long offset, unsigned long len);

/**
 * mmn_file_truncate() - truncate_setsize() + truncate_pagecache(), all
 * versions: set i_size, unmap_mapping_range() of everything past the new
 * size (per mapping: zap_page_range_single(), CLEAR; UNMAP as listeners see
 * it before 5.2), truncate_inode_pages() (each page locked; one still mapped
 * by a racing fault is unmapped again, unmap_mapping_folio(); then it leaves
 * the cache and its blocks are freed), and unmap_mapping_range() again.
 * Under i_mmap_rwsem for read, no mmap_lock. May sleep.
 * @param file  the file
 * @param size  new size in bytes (up to the capacity it was created with)
 * @return 0, -EINVAL for NULL, -EFBIG above the capacity.
 */
MMN_API int mmn_file_truncate(struct mmn_file *file, unsigned long size);

/**
 * mmn_file_punch_hole() - fallocate(FALLOC_FL_PUNCH_HOLE | KEEP_SIZE) →
 * truncate_pagecache_range(): one unmap_mapping_range() over the pages
 * wholly inside the hole (CLEAR per mapping), then truncate_inode_pages_range().
 * @param file    the file
 * @param offset  page-aligned byte offset
 * @param len     page-aligned length (0: nothing)
 * @return 0, -EINVAL for NULL, misalignment, or a hole past the capacity.
 */
MMN_API int mmn_file_punch_hole(struct mmn_file *file, unsigned long offset, unsigned long len);

/**
 * mmn_file_read_disk() - the word written back for the page at @p offset
 * (what a reader of the file would get after dropping the cache).
 * @param file    the file
 * @param offset  page-aligned byte offset
 * @param val     receives the word
 * @return 0, -EINVAL for NULL, misalignment or an offset past the capacity.
 */
MMN_API int mmn_file_read_disk(struct mmn_file *file, unsigned long offset, uint64_t *val);

/**
 * mmn_file_cached() - the frame caching the page at @p offset, 0 if none.
 * @param file    the file (NULL: 0)
 * @param offset  byte offset (past the capacity: 0)
 * @return the pfn or 0.
 */
MMN_API unsigned long mmn_file_cached(struct mmn_file *file, unsigned long offset);

#ifdef __cplusplus
}
#endif

#endif /* MMNSIM_FILE_H */
