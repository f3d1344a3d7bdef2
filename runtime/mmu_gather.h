/* SPDX-License-Identifier: MIT */
/* The mmu_gather: gather what an unmap clears, flush once, then free. */
#ifndef SHD_RUNTIME_MMU_GATHER_H
#define SHD_RUNTIME_MMU_GATHER_H

#include "page_alloc.h"
#include "types.h"

/*
 * asm-generic/tlb.h's batch geometry on x86-64: an on-stack bundle of 8
 * entries, then up to MAX_GATHER_BATCH_COUNT pages of MAX_GATHER_BATCH
 * pointers ((4096 - 16) / 8); each keeps one slot spare for a two-entry
 * add.  A gather holds SHD_GATHER_CAPACITY single-page entries; the one
 * that fills it forces a flush.
 */
#define SHD_GATHER_BUNDLE		8
#define SHD_GATHER_MAX_BATCH		510
#define SHD_GATHER_MAX_BATCH_COUNT	(10000 / SHD_GATHER_MAX_BATCH)
#define SHD_GATHER_CAPACITY	(SHD_GATHER_BUNDLE - 1 + \
				 SHD_GATHER_MAX_BATCH_COUNT * (SHD_GATHER_MAX_BATCH - 1))
_Static_assert(SHD_GATHER_CAPACITY == 9678, "7 + 19 x 509 on x86-64");


struct shd_mmu_gather {
	struct shd_cpu *cpu;
	struct shd_mm *mm;
	uint64_t start, end;		/* vpns cleared since the last flush */
	uint64_t version;		/* of the changes being made */
	bool freed_tables;
	/* The page table whose zap found a dirty page-cache PTE (its rmap
	 * is delayed: the flush is forced at the table's end), or NULL. */
	const struct shd_pt_leaf *delay_rmap;
	bool fullmm;			/* exit_mmap: no flush at each VMA end */
	bool ptl_held;			/* inside shd__tlb_ptl_lock() */
	struct shd_pfn_list pages;
	struct shd_pfn_list vpns;	/* sparc64: changed valid PTEs' vpns */
	struct shd_pt_leaf *tables;
	uint64_t n;			/* PTEs cleared in all */
	unsigned flushes;		/* flushes done so far */
	bool may_defer;			/* the VMA is gone: LATR may post it */
	int err;			/* out of memory while gathering */
	int ferr;			/* the first flush that failed */
};

/*
 * A gather's life, under mmap_lock (read or write) of TLB->mm:
 * shd__tlb_gather_mmu() raises mm->tlb_flush_pending; PTEs change only
 * between shd__tlb_ptl_lock() and shd__tlb_ptl_unlock(); the flushes of
 * shd__tlb_end_vma() and shd__tlb_finish_mmu() come after the PTL is
 * dropped; shd__tlb_finish_mmu() lowers the count.  FULLMM: exit_mmap's
 * gather.
 */
void shd__tlb_gather_mmu(struct shd_mmu_gather *tlb, struct shd_cpu *cpu,
			 struct shd_mm *mm, bool fullmm);
/* Take / drop the page-table lock for a walk that changes PTEs; the
 * changes made in between take TLB->version, published at the unlock. */
void shd__tlb_ptl_lock(struct shd_mmu_gather *tlb);
void shd__tlb_ptl_unlock(struct shd_mmu_gather *tlb);
/* The PTEs of vpns [S, E) were cleared into TLB. */
void shd__tlb_adjust_range(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e);
/* A valid PTE at VPN changed: the range grows, and on sparc64's engine
 * (tlb_batch_add(), not for a fullmm gather) the vpn is kept for its
 * tlb_batch.  Under the PTL. */
void shd__tlb_pte_changed(struct shd_mmu_gather *tlb, uint64_t vpn);
/* PFN's reference goes after the flush (the entry that fills the batch
 * forces a flush).  Under the PTL. */
void shd__tlb_remove_page(struct shd_mmu_gather *tlb, uint64_t pfn);
/* tlb_flush_mmu(): flush what was gathered now, then free it. */
void shd__tlb_flush_mmu(struct shd_mmu_gather *tlb);
/* tlb_end_vma(): flush what was gathered at a VMA's end (not for a fullmm
 * gather), except on x86, which merges VMAs (MMU_GATHER_MERGE_VMAS).  PTL
 * not held. */
void shd__tlb_end_vma(struct shd_mmu_gather *tlb);
/* The last flush (a full one, freed_tables, if another gather is live on
 * the mm: mm_tlb_flush_nested()), then tlb_flush_pending drops.  PTL not
 * held.  0 or the first flush's error. */
int shd__tlb_finish_mmu(struct shd_mmu_gather *tlb);

#endif
