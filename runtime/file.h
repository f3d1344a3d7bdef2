/* SPDX-License-Identifier: MIT */
/* Files: an inode's page cache, shared by every mapping of the file. */
#ifndef SHD_RUNTIME_FILE_H
#define SHD_RUNTIME_FILE_H

#include "types.h"

/* A VMA takes (gives back) a reference and counts as a mapping of F. */
void shd__file_map(struct shd_file *f);
void shd__file_unmap(struct shd_file *f);
/* F's size in pages, and its machine. */
uint64_t shd__file_npages(const struct shd_file *f);
struct shd_machine *shd__file_machine(const struct shd_file *f);
/* The frame caching page IDX of F with a reference for the caller (the
 * page is allocated zeroed on first use); UINT64_MAX when out of frames. */
uint64_t shd__file_page(struct shd_file *f, uint64_t idx);
/* ... the same, the page cache keeping its own reference only. */
uint64_t shd__file_frame(struct shd_file *f, uint64_t idx);
/* The frame caching page IDX of F with a reference for the caller if
 * the page is in the page cache already, else UINT64_MAX (nothing is
 * allocated: filemap_map_pages() maps only what is cached). */
uint64_t shd__file_cached(struct shd_file *f, uint64_t idx);
/* The checks of a kernel access to F at byte OFF on CPU: 0, -EINVAL,
 * -EPERM (WHAT names the caller). */
int shd__file_check(struct shd_cpu *cpu, struct shd_file *f, uint64_t off,
		    const char *what);

#endif
