/* SPDX-License-Identifier: MIT */
/* shootdown files: an inode's page cache, and the kernel's write(2)/read(2) of it (mm/filemap.c). */
#ifndef SHOOTDOWN_FILE_H
#define SHOOTDOWN_FILE_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_machine;
struct shd_cpu;
struct shd_file;

/*
 * A file of NPAGES pages that reads as zeros: its page cache fills on first
 * touch and its frames count against the machine's memory.  Any thread.
 * 0, -EINVAL (no pages, or more than the machine has frames), -ENOMEM.
 */
SHD_EXPORT int shd_file_create(struct shd_machine *m, uint64_t npages,
			       struct shd_file **out);

/*
 * Drop the creator's reference.  Mappings keep the file (and the frames
 * they map) alive until they go, as an unlinked file stays while mapped.
 */
SHD_EXPORT void shd_file_destroy(struct shd_file *f);

/*
 * The kernel's write(2) / read(2) of the 8 bytes at byte OFF (8-byte
 * aligned) of F, on CPU: through the page-cache page's linear-map address
 * (SHD_PAGE_OFFSET + its physical address), so through that colour of an
 * aliasing D-cache.  The write ends with flush_dcache_page(), as
 * generic_perform_write() does; the read starts with it when user mappings
 * exist (they may have written).  0, -EINVAL, -ENOMEM.  CPU's own thread.
 */
SHD_EXPORT int shd_file_write(struct shd_cpu *cpu, struct shd_file *f,
			      uint64_t off, uint64_t val);
SHD_EXPORT int shd_file_read(struct shd_cpu *cpu, struct shd_file *f,
			     uint64_t off, uint64_t *val);

#ifdef __cplusplus
}
#endif
#endif
