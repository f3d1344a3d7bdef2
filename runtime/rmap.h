/* SPDX-License-Identifier: MIT */
/* Reclaim: try_to_unmap with the flush batched per CPU (mm/rmap.c). */
#ifndef SHD_RUNTIME_RMAP_H
#define SHD_RUNTIME_RMAP_H

#include "types.h"

/* CPU's reclaim batch (current->tlb_ubc): 0 or -ENOMEM; freed with
 * shd__tlbbatch_free() at the machine's teardown. */
int shd__tlbbatch_init(struct shd_cpu *cpu);
void shd__tlbbatch_free(struct shd_cpu *cpu);
/* try_to_unmap_flush(): flush CPU's pending batch.  0 or a flush error. */
int shd__tlbbatch_flush(struct shd_cpu *cpu);
/* flush_tlb_batched_pending(): a batch cleared PTEs of MM and has not been
 * flushed: flush MM now.  Under MM's lock. */
int shd__flush_tlb_batched_pending(struct shd_cpu *cpu, struct shd_mm *mm);

#endif
