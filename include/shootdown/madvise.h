/* SPDX-License-Identifier: MIT */
/* shootdown madvise(MADV_DONTNEED) (mm/madvise.c). */
#ifndef SHOOTDOWN_MADVISE_H
#define SHOOTDOWN_MADVISE_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;

/*
 * madvise(MADV_DONTNEED): drop the pages (the VMA stays; the next touch
 * faults in a zeroed page, or the file's page for a file mapping: private
 * changes are lost, shared ones are in the page cache),
 * flush_tlb_range().  0, -EINVAL, -ENOMEM.
 */
SHD_EXPORT int shd_madvise_dontneed(struct shd_cpu *cpu, struct shd_mm *mm,
				    uint64_t addr, uint64_t len);

#ifdef __cplusplus
}
#endif
#endif
