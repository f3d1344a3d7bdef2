/* SPDX-License-Identifier: MIT */
/* shootdown reclaim: try_to_unmap with batched flushes (mm/rmap.c). */
#ifndef SHOOTDOWN_RMAP_H
#define SHOOTDOWN_RMAP_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;

/*
 * Reclaim one page, try_to_unmap(TTU_BATCH_FLUSH): clear VA's PTE in MM
 * and, as the policy's `batch` says, flush it now (ptep_clear_flush) or add
 * it to CPU's pending batch (arch_tlbbatch_add_pending).  The page is
 * treated as clean (a lazily freed anonymous page, or a clean file page):
 * its contents are dropped, and the next touch faults in a zeroed page (or
 * the file's).  The frame is released when its flush has completed.  1 if a
 * page was unmapped, 0 if none is mapped there (or it is the zero page),
 * -EINVAL, or a flush error.  CPU's own thread.
 */
SHD_EXPORT int shd_try_to_unmap(struct shd_cpu *cpu, struct shd_mm *mm,
				uint64_t va);

/*
 * try_to_unmap_flush(): flush CPU's pending batch (x86: one full flush on
 * every CPU of the union of the mms' masks; arm64: wait for the
 * invalidations already issued), then release its frames.  A task's batch
 * is also flushed when the task returns.  0 or a flush error.
 */
SHD_EXPORT int shd_try_to_unmap_flush(struct shd_cpu *cpu);

#ifdef __cplusplus
}
#endif
#endif
