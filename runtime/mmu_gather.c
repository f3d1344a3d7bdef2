/* SPDX-License-Identifier: MIT */
/* The mmu_gather: gather what an unmap clears, flush once, then free (mm/mmu_gather.c). */

/*
 * asm-generic/tlb.h's mmu_gather, reduced: PTE changes made under the mm
 * lock gather the range they cleared, the frames whose references they
 * dropped and the page tables they unlinked; one flush covers the range,
 * and only after it has completed on every CPU are the frames released and
 * the tables handed to call_rcu() (a walker may still be reading them).
 * The batch is bounded: when it holds SHD_GATHER_BATCH frames, or cannot
 * grow, it is flushed and freed there and then (tlb_flush_mmu()), so an
 * unmap of any size makes progress in bounded memory.
 */
#include <errno.h>
#include <string.h>

#include <shootdown/tlbflush.h>
#include "latr.h"
#include "mmu_gather.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "tlbflush.h"

static int pfn_list_add(struct shd_pfn_list *l, uint64_t pfn)
{
	if (l->n == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 64;
		uint64_t *v = realloc(l->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		l->v = v;
		l->cap = cap;
	}
	l->v[l->n++] = pfn;
	return 0;
}

void shd__tlb_gather_mmu(struct shd_mmu_gather *tlb, struct shd_cpu *cpu,
			   struct shd_mm *mm)
{
	memset(tlb, 0, sizeof(*tlb));
	tlb->cpu = cpu;
	tlb->mm = mm;
	tlb->start = UINT64_MAX;
	tlb->version = shd__clock_next(mm->m);
}

void shd__tlb_adjust_range(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e)
{
	tlb->start = s < tlb->start ? s : tlb->start;
	tlb->end = e > tlb->end ? e : tlb->end;
}

/* tlb_flush_mmu(): flush what was gathered, then free it.  Under the lock. */
static void tlb_flush_mmu(struct shd_mmu_gather *tlb)
{
	struct shd_mm *mm = tlb->mm;
	struct shd_machine *m = mm->m;
	uint64_t t = 0, s = tlb->start, e = tlb->end;
	bool early = shd__fault(m, SHD_FAULT_FREE_BEFORE_FLUSH);
	int err;

	if (s >= e)
		return;
	shd__publish_changes(mm, tlb->version);
	tlb->flushes++;
	if (tlb->may_defer && m->cfg.policy.async && !mm->is_kernel &&
	    shd__latr_post(tlb->cpu, mm, s, e, tlb->freed_tables, &tlb->pages.v,
			   &tlb->pages.n, &tlb->tables) == 0) {
		tlb->pages = (struct shd_pfn_list){ 0 };
		goto reset;
	}
	if (early) {	/* the bug: frames reusable while still mapped in TLBs */
		if (tlb->pages.n)
			shd__fault_fired(tlb->cpu, SHD_FAULT_FREE_BEFORE_FLUSH);
		shd__frames_put(m, tlb->pages.v, tlb->pages.n);
	}
	if (mm->is_kernel)
		err = shd_flush_tlb_kernel_range(tlb->cpu, s << m->page_shift |
						 (SHD_KERNEL_BASE & ~((1ull << SHD_VA_BITS) - 1)),
						 e << m->page_shift |
						 (SHD_KERNEL_BASE & ~((1ull << SHD_VA_BITS) - 1)));
	else
		err = shd__flush_tlb_mm_range(tlb->cpu, mm, s << m->page_shift,
					      e << m->page_shift, tlb->freed_tables,
					      SHD_IF_RANGE, &t);
	/* After the flush nobody can reach these frames and tables.  If it
	 * failed (a CPU did not answer), a CPU may still hold translations to
	 * them: they are quarantined (never reused) instead of freed. */
	if (!err) {
		if (!early)
			shd__frames_put(m, tlb->pages.v, tlb->pages.n);
		shd__leaves_release(mm, tlb->tables, s, e, t);
	} else if (!tlb->ferr) {
		tlb->ferr = err;
	}
reset:
	tlb->pages.n = 0;
	tlb->tables = NULL;
	tlb->freed_tables = false;
	tlb->start = UINT64_MAX;
	tlb->end = 0;
	tlb->version = shd__clock_next(m);	/* later changes need a later flush */
}

/* shd__tlb_remove_page(): the frame's reference goes after the flush. */
void shd__tlb_remove_page(struct shd_mmu_gather *tlb, uint64_t pfn)
{
	if (tlb->pages.n >= SHD_GATHER_BATCH) {
		tlb->cpu->cnt.s.gather_batch_flushes++;
		tlb_flush_mmu(tlb);
	}
	if (pfn_list_add(&tlb->pages, pfn) < 0) {
		/* Cannot grow: flush what we have, then this one fits. */
		tlb_flush_mmu(tlb);
		if (pfn_list_add(&tlb->pages, pfn) < 0)
			tlb->err = -ENOMEM;	/* leaks the frame */
	}
}

/* shd__tlb_finish_mmu(): the last flush.  0 or the first flush's error. */
int shd__tlb_finish_mmu(struct shd_mmu_gather *tlb)
{
	tlb_flush_mmu(tlb);
	free(tlb->pages.v);
	return tlb->ferr;
}
