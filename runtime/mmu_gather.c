/* SPDX-License-Identifier: MIT */
/* The mmu_gather: gather what an unmap clears, flush once, then free (mm/mmu_gather.c). */

/*
 * asm-generic/tlb.h's mmu_gather, reduced: PTE changes made under the
 * page-table lock gather the range they cleared, the frames whose
 * references they dropped and the page tables they unlinked; one flush
 * covers the range, and only after it has completed on every CPU are the
 * frames released and the tables handed to call_rcu() (a walker may still
 * be reading them).  The batch is bounded as Linux's: the entry that fills
 * SHD_GATHER_CAPACITY (7 + 19 x 509 on x86-64) forces a flush there and
 * then, under the PTL (zap_pte_range()'s force_flush), so an unmap of any
 * size makes progress in bounded memory.
 *
 * VMA ends.  x86 selects MMU_GATHER_MERGE_VMAS (18ba064e42df, 6.0; before
 * it, arch/x86/include/asm/tlb.h defined tlb_end_vma() empty): its
 * gather keeps growing across VMAs and flushes once, at tlb_finish_mmu()
 * or when the batch fills, the range running over any gap between them
 * (past the ceiling: a full flush).  arm64, riscv and sparc32 take the
 * generic tlb_end_vma(), which flushes what was gathered at every VMA's
 * end.  So a madvise(MADV_DONTNEED) nested with another gather on x86
 * makes one flush, the full one tlb_finish_mmu() upgrades it to; the
 * generic tlb_end_vma() would make two.
 *
 * Nested gathers (mm/mmu_gather.c, 99baac21e458 and 7a30df49f63a).
 * Several gathers can be live on one mm at once: madvise and munmap's zap
 * hold mmap_lock only for read, and the flush comes after the PTL is
 * dropped.  mm->tlb_flush_pending counts them: raised at gather start,
 * before any PTE change (so that whoever takes the PTL and finds a PTE
 * cleared also sees the count), lowered after the finish-time flush.  The
 * race: A clears a PTE and drops the PTL, its flush still to come; B finds
 * the PTE clear, has nothing to flush and returns, while a CPU still
 * holds A's stale translation -- which B's caller was promised was gone.
 * So tlb_finish_mmu() reads mm_tlb_flush_nested() (pending > 1, after its
 * PTL work) and, if another gather is live, flushes the whole mm with
 * freed_tables set, even when it cleared nothing itself: on x86 that
 * reaches every CPU in mm_cpumask, lazy ones included.
 *
 * Invariants: (1) tlb_flush_pending > 0 from before the first PTE change
 * of a gather until after its last flush has returned; (2) a gather
 * returns only after a flush that covers every PTE it found clear, made
 * by itself, by the gather that cleared it, or (nested) by its own full
 * flush; (3) no frame or table goes before the flush that covers it.
 */
#include <errno.h>
#include <string.h>

#include <shootdown/tlbflush.h>
#include "latr.h"
#include "mm.h"
#include "mmu_gather.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "seeded.h"
#include "tlbflush.h"

static void tlb_flush_mmu(struct shd_mmu_gather *tlb, bool full);

void shd__tlb_gather_mmu(struct shd_mmu_gather *tlb, struct shd_cpu *cpu,
			 struct shd_mm *mm, bool fullmm)
{
	memset(tlb, 0, sizeof(*tlb));
	tlb->cpu = cpu;
	tlb->mm = mm;
	tlb->fullmm = fullmm;
	tlb->start = UINT64_MAX;
	/* inc_tlb_flush_pending(): seq-cst, before any PTE change (the PTL
	 * orders it for whoever finds one); pairs with the nested read in
	 * shd__tlb_finish_mmu(). */
	shd_add_return(&mm->tlb_flush_pending, 1);
	tlb->version = shd__clock_next(mm->m);
}

void shd__tlb_ptl_lock(struct shd_mmu_gather *tlb)
{
	shd__mm_lock(tlb->cpu, tlb->mm);
	tlb->ptl_held = true;
	/* Versions are taken under the PTL, so the order of the changes is
	 * the order of their versions (oracle.c's stable_clock). */
	tlb->version = shd__clock_next(tlb->mm->m);
}

void shd__tlb_ptl_unlock(struct shd_mmu_gather *tlb)
{
	/* sparc64: arch_leave_lazy_mmu_mode() before the PTL goes, so the
	 * batch is flushed under it (and a gather that finds a PTE clear
	 * knows its flush is done: sparc64 needs no nested upgrade). */
	if (tlb->vpns.n)
		tlb_flush_mmu(tlb, false);
	shd__publish_changes(tlb->mm, tlb->version);
	tlb->ptl_held = false;
	shd__mm_unlock(tlb->mm);
}

void shd__tlb_adjust_range(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e)
{
	tlb->start = s < tlb->start ? s : tlb->start;
	tlb->end = e > tlb->end ? e : tlb->end;
}

/* The flush itself: LATR's post, the kernel's range, a user range, or
 * (FULL) the whole mm with freed_tables.  0 or an error; *T the clock. */
static int gather_flush(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e,
			bool full, uint64_t *t)
{
	struct shd_mm *mm = tlb->mm;
	struct shd_machine *m = mm->m;
	uint64_t top = SHD_KERNEL_BASE & ~((1ull << SHD_VA_BITS) - 1);

	if (mm->is_kernel)
		return shd_flush_tlb_kernel_range(tlb->cpu, s << m->page_shift | top,
						  e << m->page_shift | top);
	if (m->cfg.arch.tlb == SHD_TLB_SPARC64)	/* what tlb_batch_add() kept */
		return shd__flush_tlb_vpns(tlb->cpu, mm, tlb->vpns.v, tlb->vpns.n,
					   t);
	if (full)
		return shd__flush_tlb_mm_range(tlb->cpu, mm, 0, SHD_FLUSH_END_ALL,
					       true, SHD_IF_MM, t);
	return shd__flush_tlb_mm_range(tlb->cpu, mm, s << m->page_shift,
				       e << m->page_shift, tlb->freed_tables,
				       SHD_IF_RANGE, t);
}

/* LATR posts the flush instead (the VMA is gone); under the PTL, which
 * guards mm->latr.  true if posted. */
static bool gather_post(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e)
{
	struct shd_mm *mm = tlb->mm;
	bool posted;

	if (!tlb->may_defer || !mm->m->cfg.policy.async || mm->is_kernel)
		return false;
	if (!tlb->ptl_held)
		shd__mm_lock(tlb->cpu, mm);
	posted = shd__latr_post(tlb->cpu, mm, s, e, tlb->freed_tables,
				&tlb->pages.v, &tlb->pages.n, &tlb->tables) == 0;
	if (!tlb->ptl_held)
		shd__mm_unlock(mm);
	return posted;
}

/* tlb_flush_mmu(): flush what was gathered (all of the mm if FULL), then
 * free it. */
static void tlb_flush_mmu(struct shd_mmu_gather *tlb, bool full)
{
	struct shd_mm *mm = tlb->mm;
	struct shd_machine *m = mm->m;
	uint64_t t = 0, s = tlb->start, e = tlb->end;
	bool early = shd__fault(m, SHD_FAULT_FREE_BEFORE_FLUSH);
	int err;

	if (s >= e && !full)
		return;
	/* Outside the PTL the changes were published at its unlock. */
	if (tlb->ptl_held)
		shd__publish_changes(mm, tlb->version);
	tlb->flushes++;
	/* A nested flush covers other gathers' PTEs too: never posted. */
	if (!full && gather_post(tlb, s, e)) {
		tlb->pages = (struct shd_pfn_list){ 0 };
		goto reset;
	}
	if (early) {	/* the bug: frames reusable while still mapped in TLBs */
		if (tlb->pages.n)
			shd__fault_fired(tlb->cpu, SHD_FAULT_FREE_BEFORE_FLUSH);
		shd__frames_put(m, tlb->pages.v, tlb->pages.n);
	}
	err = gather_flush(tlb, s, e, full, &t);
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
	tlb->vpns.n = 0;
	tlb->tables = NULL;
	tlb->freed_tables = false;
	tlb->start = UINT64_MAX;
	tlb->end = 0;
	if (tlb->ptl_held)	/* later changes need a later flush */
		tlb->version = shd__clock_next(m);
}

void shd__tlb_remove_page(struct shd_mmu_gather *tlb, uint64_t pfn)
{
	if (shd__pfn_list_add(&tlb->pages, pfn) < 0) {
		/* Cannot grow (tlb_next_batch()'s allocation failed): flush
		 * what we have, then this one fits. */
		tlb_flush_mmu(tlb, false);
		if (shd__pfn_list_add(&tlb->pages, pfn) < 0)
			tlb->err = -ENOMEM;	/* leaks the frame */
		return;
	}
	/* __tlb_remove_folio_pages_size(): the entry that leaves no batch
	 * to move on to forces the flush, itself included. */
	if (tlb->pages.n >= SHD_GATHER_CAPACITY) {
		tlb->cpu->cnt.s.gather_batch_flushes++;
		tlb_flush_mmu(tlb, false);
	}
}

void shd__tlb_pte_changed(struct shd_mmu_gather *tlb, uint64_t vpn)
{
	shd__tlb_adjust_range(tlb, vpn, vpn + 1);
	if (tlb->mm->m->cfg.arch.tlb != SHD_TLB_SPARC64 || tlb->fullmm ||
	    tlb->mm->is_kernel)
		return;
	if (shd__pfn_list_add(&tlb->vpns, vpn) < 0) {
		/* No room: flush what is kept (the PTEs so far), then keep
		 * this one. */
		tlb_flush_mmu(tlb, false);
		shd__tlb_adjust_range(tlb, vpn, vpn + 1);
		if (shd__pfn_list_add(&tlb->vpns, vpn) < 0)
			tlb->err = -ENOMEM;
	}
}

void shd__tlb_flush_mmu(struct shd_mmu_gather *tlb)
{
	tlb_flush_mmu(tlb, false);
}

void shd__tlb_end_vma(struct shd_mmu_gather *tlb)
{
	/* MMU_GATHER_MERGE_VMAS (x86's engine): nothing here. */
	if (!tlb->fullmm && tlb->mm->m->cfg.arch.tlb != SHD_TLB_X86)
		tlb_flush_mmu(tlb, false);
}

int shd__tlb_finish_mmu(struct shd_mmu_gather *tlb)
{
	struct shd_mm *mm = tlb->mm;
	bool full = false;

	/* mm_tlb_flush_nested(): another gather is live.  Seq-cst: pairs
	 * with its increment; read after all our PTL work.  A scheduling
	 * point: another gather may start or end here. */
	if (tlb->cpu)
		shd__sched_point(tlb->cpu);
	if (!mm->is_kernel && mm->m->cfg.arch.tlb != SHD_TLB_SPARC64 &&
	    shd_load_seq(&mm->tlb_flush_pending) > 1 &&
	    !shd__fault_fires(tlb->cpu, SHD_FAULT_SKIP_NESTED_FLUSH)) {
		full = true;
		tlb->freed_tables = true;
		tlb->cpu->cnt.s.nested_flushes++;
	}
	tlb_flush_mmu(tlb, full);
	free(tlb->pages.v);
	free(tlb->vpns.v);
	/* dec_tlb_flush_pending(): after the flush has returned. */
	shd_sub_return(&mm->tlb_flush_pending, 1);
	return tlb->ferr;
}
