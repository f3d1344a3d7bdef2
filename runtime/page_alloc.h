/* SPDX-License-Identifier: MIT */
/* Simulated physical memory: frames handed out and reference counted. */
#ifndef SHD_RUNTIME_PAGE_ALLOC_H
#define SHD_RUNTIME_PAGE_ALLOC_H

#include "types.h"

/* A free frame with one reference (its flags clear), or UINT64_MAX when
 * memory is exhausted.  Any thread; takes m->frame_lock. */
uint64_t shd__frame_alloc(struct shd_machine *m);

/* Drop a reference to each of PFNS[0..N); a frame that reaches 0 goes back
 * to the allocator and its generation (the oracle's use-after-free check)
 * moves on.  Callers drop a mapped frame's reference only after the flush
 * that removed its last translation. */
void shd__frames_put(struct shd_machine *m, const uint64_t *pfns, size_t n);

/* A growable list of frame numbers (or vpns): the frames a gather frees
 * after its flush, the pages sparc64's batch flushes. */
struct shd_pfn_list {
	uint64_t *v;
	size_t n, cap;
};

/* Append PFN to L, growing it.  0 or -ENOMEM (L unchanged). */
int shd__pfn_list_add(struct shd_pfn_list *l, uint64_t pfn);

static inline void shd__frame_get(struct shd_machine *m, uint64_t pfn)
{
	/* Seq-cst RMW: taken while the caller holds a reference (the page
	 * cache's or a PTE's); the drop it pairs with is shd__frames_put(). */
	shd_add_return(&m->frames[pfn].ref, 1);
}

#endif
