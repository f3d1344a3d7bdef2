/* SPDX-License-Identifier: MIT */
/* Reclaim: try_to_unmap with the flush batched per CPU (mm/rmap.c). */
#ifndef SHD_RUNTIME_RMAP_H
#define SHD_RUNTIME_RMAP_H

#include "types.h"

int shd__tlbbatch_init(struct shd_cpu *cpu);
void shd__tlbbatch_free(struct shd_cpu *cpu);
/* Reclaim: defer (or do) the flush of PFN's translation at VPN in MM, whose
 * PTE was just cleared under the mm lock (still held); the frame's
 * reference goes when the flush is done.  0 or a flush error. */
int shd__tlbbatch_add(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn,
		      uint64_t pfn);
/* try_to_unmap_flush(): flush CPU's pending batch.  0 or a flush error. */
int shd__tlbbatch_flush(struct shd_cpu *cpu);
/* flush_tlb_batched_pending(): a batch cleared PTEs of MM and has not been
 * flushed: flush MM now.  Under MM's lock. */
int shd__flush_tlb_batched_pending(struct shd_cpu *cpu, struct shd_mm *mm);

#endif
