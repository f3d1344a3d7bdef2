/* SPDX-License-Identifier: MIT */
/* The mmu_gather: gather what an unmap clears, flush once, then free. */
#ifndef SHD_RUNTIME_MMU_GATHER_H
#define SHD_RUNTIME_MMU_GATHER_H

#include "types.h"

#define SHD_GATHER_BATCH 512	/* frames a gather holds before it flushes */

/* A growable list of frames to free after a flush. */
struct shd_pfn_list {
	uint64_t *v;
	size_t n, cap;
};

struct shd_mmu_gather {
	struct shd_cpu *cpu;
	struct shd_mm *mm;
	uint64_t start, end;		/* vpns cleared since the last flush */
	uint64_t version;		/* of the changes being made */
	bool freed_tables;
	struct shd_pfn_list pages;
	struct shd_pt_leaf *tables;
	uint64_t n;			/* PTEs cleared in all */
	unsigned flushes;		/* flushes done so far */
	bool may_defer;			/* the VMA is gone: LATR may post it */
	int err;			/* out of memory while gathering */
	int ferr;			/* the first flush that failed */
};

/* All under the mm lock of TLB->mm. */
void shd__tlb_gather_mmu(struct shd_mmu_gather *tlb, struct shd_cpu *cpu,
			 struct shd_mm *mm);
/* The PTEs of vpns [S, E) were cleared into TLB. */
void shd__tlb_adjust_range(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e);
/* PFN's reference goes after the flush (a full batch flushes first). */
void shd__tlb_remove_page(struct shd_mmu_gather *tlb, uint64_t pfn);
/* The last flush: 0 or the first flush's error. */
int shd__tlb_finish_mmu(struct shd_mmu_gather *tlb);

#endif
