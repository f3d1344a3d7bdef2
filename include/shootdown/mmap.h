/* SPDX-License-Identifier: MIT */
/* shootdown mappings: mmap of anonymous memory and files, munmap, exit_mmap (mm/mmap.c). */
#ifndef SHOOTDOWN_MMAP_H
#define SHOOTDOWN_MMAP_H

#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/mm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;
struct shd_file;

/*
 * mmap(MAP_FIXED_NOREPLACE | MAP_ANONYMOUS | MAP_PRIVATE): create a VMA.
 * Pages are allocated on first touch.  0, -EINVAL (unaligned, empty,
 * outside user space, bad prot), -EEXIST (overlaps a mapping), -ENOMEM.
 * Only on CPU's own thread (it may block on the mm lock, taking IPIs).
 */
SHD_EXPORT int shd_mmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
			uint64_t len, unsigned prot);

/*
 * mmap(MAP_FIXED_NOREPLACE | flags, fd, PGOFF pages): map pages
 * [PGOFF, PGOFF + len/pagesize) of F.  SHD_MAP_SHARED maps the page cache
 * itself (stores reach the file and every other mapping);
 * SHD_MAP_PRIVATE maps it read-only and copies a page on the first store
 * to it (copy-on-write).  On an aliasing D-cache a shared mapping must have
 * the colour of its file offset (sparc's SHMLBA rule).  0, -EINVAL (bad
 * range or flags, a shared mapping at the wrong colour, or the range runs
 * past the end of the file), -EEXIST, -ENOMEM.  CPU's own thread.
 */
SHD_EXPORT int shd_mmap_file(struct shd_cpu *cpu, struct shd_mm *mm,
			     uint64_t addr, uint64_t len, unsigned prot,
			     unsigned flags, struct shd_file *f, uint64_t pgoff);

/*
 * munmap(): clear the PTEs, flush_tlb_range(), then free the frames and any
 * page-table page left empty (the latter through RCU; the flush then reaches
 * lazy CPUs too).  Unmapped holes are fine, as in Linux.  0, -EINVAL.
 */
SHD_EXPORT int shd_munmap(struct shd_cpu *cpu, struct shd_mm *mm,
			  uint64_t addr, uint64_t len);

/*
 * The last thread of MM exits: exit_mmap() then shd_mm_destroy().  Every
 * mapping is torn down from CPU (which need not run MM): PTEs cleared, page
 * tables freed, one flush of the whole span (it reaches lazy CPUs too, as
 * page tables were freed), and only then are the frames released, so a
 * fork child that exits gives its pages back to the parent at once.  MM is
 * gone after the call whatever it returns.  0, -EINVAL, or the flush's
 * error.  CPU's own thread.
 */
SHD_EXPORT int shd_mm_exit(struct shd_cpu *cpu, struct shd_mm *mm);

#ifdef __cplusplus
}
#endif
#endif
