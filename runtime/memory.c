/* SPDX-License-Identifier: MIT */
/* Page faults, simulated accesses, and the unmap of a range (mm/memory.c). */

/*
 * An access is what a CPU's MMU and the kernel's fault path do together: a
 * TLB hit (the oracle checks it), else a walk of the page table, else
 * handle_mm_fault() under the mm lock, which maps the page (the zero page
 * for a read of anonymous memory, the page cache's for a file, a copy for
 * a private store) and ends with update_mmu_cache().  A store to a
 * write-protected copy-on-write page copies it and flushes the old
 * translation before the old frame's reference goes (wp_page_copy()).
 * The data then goes through memory, or through the CPU's caches where
 * the profile's caches do not cohere.
 *
 * The unmap of a range (munmap, madvise, exit_mmap) clears PTEs into an
 * mmu_gather, unlinks empty page tables (free_pgtables()), and flushes once
 * before anything is freed; the oracle holds it to the contract for every
 * PTE of the range, cleared here or earlier.
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/memory.h>
#include "../common/probes.h"
#include "cache.h"
#include "cacheflush.h"
#include "file.h"
#include "icache.h"
#include "latr.h"
#include "memory.h"
#include "mm.h"
#include "mmap_lock.h"
#include "mmu_gather.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "rmap.h"
#include "seeded.h"
#include "smp.h"
#include "tlb.h"
#include "tlbflush.h"
#include "tso.h"
#include "vma.h"

/*
 * A page that VMA may map but not write yet: private, and the frame is the
 * zero page, the page cache's, or still shared with another mm after fork.  The reference
 * count can only fall under us (the other mm lets go), so a stale "shared"
 * answer costs one needless copy, never a lost one.
 */
bool shd__page_is_cow(struct shd_machine *m, const struct shd_vma *vma,
			uint64_t pfn)
{
	/* Acquire: pairs with shd__frames_put()'s acq-rel drop. */
	return !vma->shared &&
	       ((m->frames[pfn].flags & (SHD_FRAME_PAGECACHE | SHD_FRAME_ZERO)) ||
		shd_load_acquire(&m->frames[pfn].ref) > 1);
}

/* ---- unmapping a range ---- */

static void zap_force_flush(struct shd_mmu_gather *tlb);

/*
 * zap_present_folio_ptes() (mm/memory.c): a dirty PTE of a page-cache page
 * (a MAP_SHARED file page stored to) has its rmap removal delayed until
 * after the TLB flush (5df397dec7c4, 6.3: folio_mark_dirty() must not race
 * a writeback that finds the page clean while another CPU can still
 * write through a stale entry), which zap_pte_range() forces then and
 * there, under the PTL, at the end of that page table (force_flush,
 * tlb_flush_mmu_tlbonly()).  So MADV_DONTNEED or munmap of dirty shared
 * file pages flushes once for each page table, on top of the flush its
 * tlb_finish_mmu() makes when nested (will-it-scale's tlb_flush3 on the
 * host: one such flush per call).
 */
static void zap_one(struct shd_mm *mm, struct shd_pt_leaf *leaf,
		    struct shd_pte *p, uint64_t val, void *arg)
{
	struct shd_mmu_gather *tlb = arg;
	uint64_t vpn = shd__pte_vpn(leaf, p);
	uint64_t pfn = val >> SHD_PTE_PFN_SHIFT;

	if (tlb->delay_rmap && tlb->delay_rmap != leaf)	/* a table done */
		zap_force_flush(tlb);
	shd__cache_order_check(mm, vpn, "flush_cache_range");
	if (shd_load_relaxed(&p->dirty) && !mm->is_kernel &&
	    (mm->m->frames[pfn].flags & SHD_FRAME_PAGECACHE))
		tlb->delay_rmap = leaf;
	shd__pte_write(p, 0, tlb->version, mm);
	leaf->nr_frames--;
	tlb->n++;
	shd__tlb_pte_changed(tlb, vpn);
	shd__tlb_remove_page(tlb, pfn);
}

/* zap_pte_range()'s force_flush at the end of a page table that had a
 * dirty page-cache page, under the PTL. */
static void zap_force_flush(struct shd_mmu_gather *tlb)
{
	tlb->delay_rmap = NULL;
	tlb->cpu->cnt.s.dirty_file_flushes++;
	shd__tlb_flush_mmu(tlb);
}

void shd__zap_range(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e)
{
	shd__for_each_frame(tlb->mm, s, e, zap_one, tlb);
	if (tlb->delay_rmap)
		zap_force_flush(tlb);
}

/* Unlink empty leaves in [s, e) that no VMA uses; collect them in *out. */
static unsigned free_empty_leaves(struct shd_mm *mm, uint64_t s, uint64_t e,
				  struct shd_pt_leaf **out)
{
	struct shd_machine *m = mm->m;
	unsigned n = 0;

	for (uint64_t base = s & ~(uint64_t)(SHD_PT_ENTRIES - 1); base < e;
	     base += SHD_PT_ENTRIES) {
		struct shd_pt_dir *dir = mm->pgd;
		struct shd_pt_leaf *leaf;
		unsigned l;

		for (l = 0; dir && l < m->pt_levels - 2; l++)
			dir = dir->slot[shd__pt_index(m, base, l)];
		if (!dir)
			continue;
		leaf = dir->slot[shd__pt_index(m, base, m->pt_levels - 2)];
		if (!leaf || leaf->nr_frames)
			continue;
		if (shd__vma_overlaps(mm, base << m->page_shift,
				 (base + SHD_PT_ENTRIES) << m->page_shift))
			continue;
		/* Release: rcu_assign_pointer(NULL), paired with the walkers'
		 * acquire (shd__pt_leaf()); the leaf is freed after a grace period. */
		shd_store_release(&dir->slot[shd__pt_index(m, base, m->pt_levels - 2)],
				  (void *)NULL);
		leaf->base_vpn = base;
		leaf->next_free = *out;
		*out = leaf;
		n++;
	}
	return n;
}

/* See memory.h. */
size_t shd__vma_segments(struct shd_mm *mm, uint64_t addr, uint64_t end,
			 uint64_t **segs)
{
	unsigned shift = mm->m->page_shift;
	size_t n = 0;

	*segs = malloc(2 * (mm->nvmas ? mm->nvmas : 1) * sizeof(**segs));
	if (!*segs)
		return 0;
	for (size_t i = 0; i < mm->nvmas; i++) {
		const struct shd_vma *v = &mm->vmas[i];

		if (v->end <= addr || v->start >= end)
			continue;
		(*segs)[2 * n] = (v->start > addr ? v->start : addr) >> shift;
		(*segs)[2 * n + 1] = (v->end < end ? v->end : end) >> shift;
		n++;
	}
	return n;
}

/*
 * Under mmap_lock: for munmap, for write, detach the VMAs and note their
 * pieces, then downgrade to read (vms_complete_munmap_vmas(), since
 * dd2283f2605e); for madvise, for read.  *ERR: -ENOMEM if the VMAs
 * could not be split (they stay); *HOLE: madvise found a gap.
 */
static size_t unmap_lock(struct shd_cpu *cpu, struct shd_mm *mm,
			 uint64_t addr, uint64_t len, bool drop_vma,
			 uint64_t **segs, int *err, bool *hole)
{
	size_t n;

	if (!drop_vma) {
		/* VMAs change under mmap_lock for write (and the mm lock,
		 * which faults read them under): for read, mmap_lock alone
		 * keeps them, as madvise's VMA walk in Linux takes no page
		 * table lock; a gather then starts before any PTL is taken,
		 * so two madvise calls nest as they do there. */
		shd__mmap_read_lock(cpu, mm);
		n = shd__vma_segments(mm, addr, addr + len, segs);
		*hole = !shd__vma_covers(mm, addr, addr + len);
		return n;
	}
	shd__mmap_write_lock(cpu, mm);
	shd__mm_lock(cpu, mm);	/* VMA changes: under both */
	n = shd__vma_segments(mm, addr, addr + len, segs);
	if (shd__vma_remove(mm, addr, addr + len) < 0)
		*err = -ENOMEM;
	shd__mm_unlock(mm);
	shd__mmap_write_downgrade(mm);
	return n;
}

/*
 * The checks a gather owes the PTEs it finds clear (under the PTL, with
 * the oracle's clock T0 read after them): a reclaim batch may have cleared
 * PTEs here whose flush is still pending (flush_tlb_batched_pending()),
 * and so may a LATR flush not yet swept everywhere.
 */
static int unmap_settle(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
			uint64_t e)
{
	int err = shd__flush_tlb_batched_pending(cpu, mm);

	if (mm->latr && !err)
		err = shd__latr_settle(cpu, mm, s, e);
	return err;
}

/* Zap vpns [S, E) of one VMA piece under the PTL (zap_pte_range(), with
 * tlb_start_vma()'s flush_cache_range() while the PTEs exist); with LAST
 * and DROP_VMA, free_pgtables() too: the flush must then cover the
 * tables' span and reach lazy CPUs.  The first error in *FERR. */
static void unmap_piece(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e,
			bool free_tables, uint64_t fs, uint64_t fe, int *ferr)
{
	int err;

	if ((err = shd__flush_cache_first(tlb->cpu, tlb->mm, s, e)) && !*ferr)
		*ferr = err;
	shd__zap_range(tlb, s, e);
	if (free_tables && free_empty_leaves(tlb->mm, fs, fe, &tlb->tables)) {
		tlb->freed_tables = true;
		shd__tlb_adjust_range(tlb, fs, fe);
	}
}

/*
 * The end of a range operation's gather (unmap, mprotect): its last flush
 * (tlb_finish_mmu()), then the cache work that must follow the TLB flush
 * on [S, E) (flush_cache_done(), under the page-table lock).  The first
 * error.
 */
int shd__gather_finish(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e)
{
	int err = shd__tlb_finish_mmu(tlb), err2;

	shd__mm_lock(tlb->cpu, tlb->mm);
	if ((err2 = shd__flush_cache_done(tlb->cpu, tlb->mm, s, e)) && !err)
		err = err2;
	shd__mm_unlock(tlb->mm);
	return err;
}

int shd__unmap_range(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		     uint64_t len, enum shd_unmap_kind kind)
{
	struct shd_machine *m = cpu->m;
	struct shd_mmu_gather tlb;
	uint64_t s = addr >> m->page_shift, e = (addr + len) >> m->page_shift, t0;
	bool drop_vma = kind != SHD_UNMAP_MADVISE, hole = false;
	uint64_t *segs = NULL, whole[2] = { s, e };
	int err = 0, ferr, err2;
	size_t n, i = 0;

	shd__cpu_take_ipis(cpu);
	n = unmap_lock(cpu, mm, addr, len, drop_vma, &segs, &err, &hole);
	shd__tlb_gather_mmu(&tlb, cpu, mm, kind == SHD_UNMAP_EXIT);
	tlb.may_defer = drop_vma && !err;	/* else the VMA stays */
	shd__tlb_ptl_lock(&tlb);
	ferr = unmap_settle(cpu, mm, s, e);
	t0 = shd__oracle_begin(mm);
	/* unmap_vmas(): one walk per VMA, each ending in tlb_end_vma() (a
	 * flush, but on x86's engine); the PTL is dropped between them.  A gap gets no walk (a
	 * VMA being unmapped by another has left it) unless there is no
	 * VMA at all or no memory for the list: then one walk of it all. */
	do {
		const uint64_t *g = n ? &segs[2 * i] : whole;

		if (i)
			shd__tlb_ptl_lock(&tlb);
		unmap_piece(&tlb, g[0], g[1], drop_vma && i + 1 >= n, s, e,
			    &ferr);
		/* LATR posts before the PTL goes, so that a gather that
		 * finds these PTEs clear finds the post too (its settle). */
		if (tlb.may_defer && m->cfg.policy.async)
			shd__tlb_flush_mmu(&tlb);
		shd__tlb_ptl_unlock(&tlb);
		if (n)
			shd__tlb_end_vma(&tlb);
	} while (++i < n);
	free(segs);
	if ((err2 = shd__gather_finish(&tlb, s, e)) && !ferr)
		ferr = err2;
	/* The contract: once this returns, no CPU may use a translation of
	 * the range older than the call.  PTEs that were already clear were
	 * flushed by whoever cleared them: before T0 under the PTL (the
	 * batched-pending flush, the LATR settle: LATR posts under the PTL),
	 * or by a gather still live, whose count made ours a full flush
	 * (mm_tlb_flush_nested(), never posted).
	 * The oracle holds us to it, whatever this call flushed itself. */
	if (!ferr)
		shd__oracle_credit_absent(mm, s, e, t0, SHD_IF_RANGE);
	shd__mmap_read_unlock(mm);
	if (ferr)
		return ferr;
	if (err || tlb.err)
		return shd__fail(-ENOMEM, "out of memory while unmapping");
	if (hole)
		return shd__fail(-ENOMEM, "madvise: part of [0x%" PRIx64 ", +0x%"
				 PRIx64 ") is not mapped", addr, len);
	return 0;
}

/* ---- faults ---- */

static bool pte_allows(uint64_t val, enum shd_access_kind k)
{
	if (!(val & SHD_PTE_PRESENT))
		return false;
	if (k == ACC_WRITE)
		return val & SHD_PTE_WRITE;
	if (k == ACC_FETCH)
		return val & SHD_PTE_EXEC;
	return true;
}

static bool vma_allows(const struct shd_vma *vma, enum shd_access_kind k)
{
	unsigned prot = vma->prot;

	if (k == ACC_FORCE)
		return (prot & SHD_PROT_WRITE) ||
		       (!vma->shared && (prot & (SHD_PROT_READ | SHD_PROT_EXEC)));
	if (k == ACC_PEEK || k == ACC_READ)	/* x86: executable is readable */
		return prot & (SHD_PROT_READ | SHD_PROT_WRITE | SHD_PROT_EXEC);
	if (k == ACC_WRITE)
		return prot & SHD_PROT_WRITE;
	if (k == ACC_FETCH)
		return prot & SHD_PROT_EXEC;
	return prot & (SHD_PROT_READ | SHD_PROT_WRITE);
}

/*
 * A store to a present, write-protected page of a VMA that allows it
 * (do_wp_page()): reuse the page if it is ours alone, else copy it.  The
 * copy replaces a translation other CPUs may cache, so it is flushed with
 * flush_tlb_page() before the old frame's reference goes (ptep_clear_flush()).
 * Under the mm lock.
 */
static int wp_fault(struct shd_cpu *cpu, struct shd_mm *mm,
		    const struct shd_vma *vma, struct shd_pte *p, uint64_t val,
		    uint64_t addr)
{
	struct shd_machine *m = cpu->m;
	uint64_t old = val >> SHD_PTE_PFN_SHIFT, pfn = old, v;
	uint64_t page = addr & ~(m->page_size - 1);
	bool copy = shd__page_is_cow(m, vma, old);
	int err = 0;

	if (copy) {
		pfn = shd__frame_alloc(m);
		if (pfn == UINT64_MAX)
			return shd__fail(-ENOMEM, "out of simulated memory (%" PRIu64
					 " frames)", m->nframes);
		shd__user_page_fill(cpu, pfn, old, addr);	/* copy_user_page() */
		cpu->cnt.s.cow_copies++;
		/* wp_page_copy(): flush_cache_page() while the old PTE is
		 * there, then clear it and flush the TLB before the new one
		 * goes in, or one CPU could store to the copy while another
		 * still reads the old page through its entry. */
		if ((err = shd__flush_cache_first(cpu, mm, page >> m->page_shift,
					     (page >> m->page_shift) + 1)))
			return err;
		shd__cache_order_check(mm, page >> m->page_shift, "flush_cache_page");
		v = shd__clock_next(m);
		shd__pte_write(p, 0, v, mm);
		shd__publish_changes(mm, v);
		err = shd__flush_tlb_mm_range(cpu, mm, page, page + m->page_size,
					      false, SHD_IF_PAGE, NULL);
		if (!err)
			err = shd__flush_cache_done(cpu, mm, page >> m->page_shift,
					       (page >> m->page_shift) + 1);
		if (err)	/* quarantined: neither frame is reused */
			return err;
		shd__frames_put(m, &old, 1);
	}
	if (!copy) {	/* wp_page_reuse(): flush_cache_page() first */
		if ((err = shd__flush_cache_first(cpu, mm, page >> m->page_shift,
					     (page >> m->page_shift) + 1)))
			return err;
		shd__cache_order_check(mm, page >> m->page_shift, "flush_cache_page");
	}
	if (shd__prot_bits(vma->prot) & SHD_PTE_EXEC)	/* set_pte_at() */
		shd__icache_set_pte_exec(cpu, pfn);
	v = shd__clock_next(m);
	shd__pte_write(p, pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME |
		       shd__prot_bits(vma->prot), v, mm);
	shd_store_relaxed(&p->dirty, 1u);	/* maybe_mkwrite(pte_mkdirty()) */
	shd__publish_changes(mm, v);
	cpu->cnt.s.page_faults++;
	return shd__dcache_update_mmu(cpu, pfn);	/* update_mmu_cache() */
}

/*
 * The frame a not-present page of VMA gets, with its PTE bits in *BITS: a
 * zeroed anonymous page (the zero page, read-only, for a load or fetch), the
 * page cache's page (read-only under a private
 * mapping), or for a store to a private file mapping a copy of it
 * (do_cow_fault()).  UINT64_MAX when out of frames.
 */
static uint64_t fault_page(struct shd_cpu *cpu, const struct shd_vma *vma,
			   uint64_t addr, enum shd_access_kind k, uint64_t *bits)
{
	struct shd_machine *m = cpu->m;
	uint64_t pfn, copy;

	*bits = shd__prot_bits(vma->prot);
	if (k == ACC_FORCE)
		k = ACC_WRITE;
	if (!vma->file && k != ACC_WRITE) {
		shd__frame_get(m, m->zero_pfn);
		*bits &= ~SHD_PTE_WRITE;
		return m->zero_pfn;
	}
	if (!vma->file) {
		pfn = shd__frame_alloc(m);
		if (pfn != UINT64_MAX)	/* clear_user_page() */
			shd__user_page_fill(cpu, pfn, UINT64_MAX, addr);
		return pfn;
	}
	pfn = shd__file_page(vma->file, vma->pgoff +
			     ((addr - vma->start) >> m->page_shift));
	if (pfn == UINT64_MAX || vma->shared)
		return pfn;
	if (k != ACC_WRITE) {
		*bits &= ~SHD_PTE_WRITE;
		return pfn;
	}
	copy = shd__frame_alloc(m);
	if (copy != UINT64_MAX) {
		shd__user_page_fill(cpu, copy, pfn, addr);	/* copy_user_page() */
		cpu->cnt.s.cow_copies++;
	}
	shd__frames_put(m, &pfn, 1);
	return copy;
}

/*
 * do_fault_around() (mm/memory.c; Linux 6.18, as reworked by 53d36a56d8c4
 * in 6.4): a read fault on a file mapping first maps, read-only under a
 * private mapping, the pages around it that the page cache already holds
 * and whose PTEs are empty (filemap_map_pages()), in the
 * fault_around_bytes (64 KiB: 16 pages of 4 KiB) aligned window, clipped
 * to the VMA and to the faulting page's page table.  A store to one of
 * them later is a write-protect fault on a present PTE: under a private
 * mapping a copy, whose ptep_clear_flush() sends a shootdown that a
 * mapping made by the store's own fault would not (will-it-scale's
 * tlb_flush1, measured on the host: 0.88 more per op).  Pages of 64 KiB
 * and more: no window (fault_around_pages <= 1).  Under the mm lock; the
 * caller maps the faulting page itself.
 */
#define SHD_FAULT_AROUND_BYTES 65536ull

static int fault_around(struct shd_cpu *cpu, struct shd_mm *mm,
			 const struct shd_vma *vma, struct shd_pt_leaf *leaf,
			 uint64_t vpn)
{
	struct shd_machine *m = cpu->m;
	uint64_t nr = SHD_FAULT_AROUND_BYTES >> m->page_shift;
	uint64_t pte_off = vpn & (SHD_PT_ENTRIES - 1);
	uint64_t vma_off = vpn - (vma->start >> m->page_shift);
	uint64_t vma_pages = (vma->end - vma->start) >> m->page_shift;
	uint64_t bits = shd__prot_bits(vma->prot), from, to;
	int err = 0;

	if (nr <= 1)
		return 0;
	if (!vma->shared)
		bits &= ~SHD_PTE_WRITE;
	from = pte_off & ~(nr - 1);
	if (from < pte_off - (pte_off < vma_off ? pte_off : vma_off))
		from = pte_off - (pte_off < vma_off ? pte_off : vma_off);
	to = from + nr;
	if (to > SHD_PT_ENTRIES)
		to = SHD_PT_ENTRIES;
	if (to > pte_off + vma_pages - vma_off)
		to = pte_off + vma_pages - vma_off;
	for (uint64_t i = from; i < to && !err; i++) {
		struct shd_pte *p = &leaf->pte[i];
		uint64_t pfn, v;

		if (i == pte_off || (p->val & SHD_PTE_FRAME))
			continue;
		pfn = shd__file_cached(vma->file, vma->pgoff + vma_off + i - pte_off);
		if (pfn == UINT64_MAX)
			continue;
		if (bits & SHD_PTE_EXEC)
			shd__icache_set_pte_exec(cpu, pfn);
		v = shd__clock_next(m);
		shd__pte_write(p, pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME | bits,
			       v, mm);
		leaf->nr_frames++;
		shd__publish_changes(mm, v);
		/* update_mmu_cache_range(): each page's D-cache hook. */
		err = shd__dcache_update_mmu(cpu, pfn);
	}
	return err;
}

int shd__handle_mm_fault(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
			enum shd_access_kind k)
{
	struct shd_machine *m = cpu->m;
	uint64_t vpn = addr >> m->page_shift, v, pfn, bits, val;
	struct shd_pt_leaf *leaf;
	struct shd_pte *p;
	struct shd_vma *vma;
	int err = 0;

	shd__mm_lock(cpu, mm);
	vma = shd__vma_find(mm, addr);
	if (!vma) {
		err = shd__fail(-EFAULT, "cpu %u: no mapping at 0x%" PRIx64
				" in mm %" PRIu64, cpu->id, addr, mm->id);
		goto out;
	}
	if (!vma_allows(vma, k)) {
		err = shd__fail(-EACCES, "cpu %u: %s of 0x%" PRIx64 " not allowed",
				cpu->id, k == ACC_WRITE || k == ACC_FORCE ? "write" :
				k == ACC_FETCH ? "fetch" : "read", addr);
		goto out;
	}
	leaf = shd__pt_leaf_alloc(mm, vpn);
	if (!leaf) {
		err = shd__fail(-ENOMEM, "out of memory for a page table");
		goto out;
	}
	p = &leaf->pte[vpn & (SHD_PT_ENTRIES - 1)];
	val = p->val;
	if (val & SHD_PTE_FRAME) {
		if (k == ACC_WRITE && (val & SHD_PTE_PRESENT) &&
		    !(val & SHD_PTE_WRITE))
			err = wp_fault(cpu, mm, vma, p, val, addr);
		else if (k == ACC_FORCE && (val & SHD_PTE_PRESENT) &&
			 !(val & SHD_PTE_WRITE) &&
			 ((vma->prot & SHD_PROT_WRITE) ||
			  shd__page_is_cow(m, vma, val >> SHD_PTE_PFN_SHIFT)))
			err = wp_fault(cpu, mm, vma, p, val, addr);
		goto out;	/* else another CPU faulted it in: retry */
	}
	/* do_read_fault(): the window around a read first. */
	if (vma->file && (k == ACC_READ || k == ACC_PEEK || k == ACC_FETCH) &&
	    (err = fault_around(cpu, mm, vma, leaf, vpn)))
		goto out;
	pfn = fault_page(cpu, vma, addr, k, &bits);
	if (pfn == UINT64_MAX) {
		err = shd__fail(-ENOMEM, "out of simulated memory (%" PRIu64
				" frames)", m->nframes);
		goto out;
	}
	if (bits & SHD_PTE_EXEC)	/* set_pte_at(): __sync_icache_dcache() */
		shd__icache_set_pte_exec(cpu, pfn);
	v = shd__clock_next(m);
	shd__pte_write(p, pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME | bits, v, mm);
	if (k == ACC_WRITE || k == ACC_FORCE)	/* set_pte_range(): write */
		shd_store_relaxed(&p->dirty, 1u);
	leaf->nr_frames++;
	shd__publish_changes(mm, v);
	cpu->cnt.s.page_faults++;
	err = shd__dcache_update_mmu(cpu, pfn);	/* update_mmu_cache() */
out:
	shd__mm_unlock(mm);
	return err;
}

/* ---- accesses ---- */

/* The mm and ASID an access to ADDR uses, or an error for an address no
 * access may use (unaligned, no mm, lazy, non-canonical, outside vmap). */
static int access_space(struct shd_cpu *cpu, uint64_t addr, struct shd_mm **mmp,
			unsigned *asidp)
{
	struct shd_machine *m = cpu->m;

	if (addr & 7)
		return shd__fail(-EINVAL, "access: 0x%" PRIx64 " is not 8-byte "
				 "aligned", addr);
	if (shd__is_kernel_va(addr)) {
		*mmp = m->kernel_mm;
		*asidp = SHD_ASID_GLOBAL;
	} else if (addr < SHD_USER_TOP) {
		*mmp = cpu->loaded_mm;
		if (!*mmp)
			return shd__fail(-EFAULT, "cpu %u: user access at 0x%" PRIx64
					 " with no mm (switch_mm first)",
					 cpu->id, addr);
		if (shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed))
			return shd__fail(-EPERM, "cpu %u: user access in lazy TLB "
					 "mode (switch_mm first)", cpu->id);
		*asidp = cpu->loaded_asid;
	} else if (addr < 0xffff800000000000ull) {
		return shd__fail(-EINVAL, "cpu %u: 0x%" PRIx64 " is not a "
				 "canonical address", cpu->id, addr);
	} else {
		return shd__fail(-EFAULT, "cpu %u: 0x%" PRIx64 " is kernel space "
				 "outside the vmap area", cpu->id, addr);
	}
	return 0;
}

/*
 * The TLB entry that translates ADDR in MM (ASID) for an access of kind K:
 * a hit (checked by the oracle), or a walk and a fill, faulting the page
 * in as needed.  0 with *EP set, or the fault's error.
 */
static int access_translate(struct shd_cpu *cpu, struct shd_mm *mm,
			    unsigned asid, uint64_t addr,
			    enum shd_access_kind k, struct shd_tlbe **ep)
{
	struct shd_machine *m = cpu->m;
	struct shd_tlb *tlb = (k == ACC_FETCH && cpu->split) ? &cpu->itlb :
							       &cpu->dtlb;
	uint64_t vpn = shd__va_vpn(m, addr), pte, ver = 0;
	bool kernel = mm == m->kernel_mm;
	unsigned relieved = 0;
	struct shd_tlbe *e;

	for (int tries = 0;; tries++) {
		e = shd__tlb_lookup(tlb, vpn, asid);
		if (e) {
			cpu->cnt.s.tlb_hits++;
			if (m->cfg.oracle)
				shd__oracle_check_hit(cpu, mm, e, addr);
			if (pte_allows(e->val, k)) {
				*ep = e;
				return 0;
			}
			/* A stricter cached entry: spurious fault if the PTE
			 * now allows it (x86 flushes the one entry). */
			e->tag = 0;
		}
		cpu->cnt.s.tlb_misses++;
		SHD_PROBE3(tlb_miss, cpu->id, mm->id, addr);
		rcu_read_lock();
		struct shd_pte *p = shd__pte_lookup(mm, vpn);

		pte = p ? shd__pte_read(p, &ver) : 0;
		rcu_read_unlock();
		if (p && pte_allows(pte, k)) {
			e = shd__tlb_fill(tlb, vpn, asid, pte, ver, p);
			/* Only the oracle reads it.  Acquire: pairs with the
			 * generation bump of shd__frames_put(). */
			if (m->cfg.oracle) {
				e->fgen = shd_load_acquire(&m->frames[pte >> SHD_PTE_PFN_SHIFT].gen);
				e->mm_id = (uint32_t)mm->id;
			}
			*ep = e;
			return 0;
		}
		if (kernel)
			return shd__fail(p && (pte & SHD_PTE_PRESENT) ? -EACCES : -EFAULT,
					 "cpu %u: kernel access at 0x%" PRIx64
					 " %s", cpu->id, addr,
					 p && (pte & SHD_PTE_PRESENT) ?
					 "not allowed" : "not mapped");
		if (tries >= 2)
			return shd__fail(-EFAULT, "cpu %u: fault at 0x%" PRIx64
					 " did not resolve", cpu->id, addr);
		int err = shd__handle_mm_fault(cpu, mm, addr, k);

		/* LATR holds frames until every CPU has swept: out of memory,
		 * hurry the sweeps along and try again (no lock held). */
		if (err == -ENOMEM && m->cfg.policy.async && relieved++ < 64 &&
		    !shd__latr_relieve(cpu, mm)) {
			tries--;
			continue;
		}
		if (err)
			return err;
	}
}

/* The data path of an access through E (KERNEL: a vmap address):
 * memory, or the caches where they do not cohere. */
static void access_data(struct shd_cpu *cpu, const struct shd_tlbe *e,
			uint64_t addr, bool kernel, enum shd_access_kind k,
			uint64_t *val)
{
	struct shd_machine *m = cpu->m;
	uint64_t pa = ((e->val >> SHD_PTE_PFN_SHIFT) << m->page_shift) +
		      (addr & (m->page_size - 1));

	if (!m->cache && !m->ilog) {	/* coherent caches: memory, at once */
		uint64_t *w = (uint64_t *)(m->mem + pa);

		if (k == ACC_WRITE)
			shd_store_relaxed(w, *val);
		else
			*val = shd_load_relaxed(w);
		return;
	}
	if (k == ACC_FETCH && m->ilog) {
		*val = shd__icache_fetch(cpu, addr, pa);
	} else if (k == ACC_FETCH) {	/* the I-cache snoops: memory */
		*val = shd_load_relaxed((uint64_t *)(m->mem + pa));
	} else if (k == ACC_WRITE && m->ilog) {
		/* For the I-cache oracle: a user store is the program's to
		 * sync; a kernel one (through vmap) the kernel's. */
		uint64_t pfn = pa >> m->page_shift;

		if (kernel)
			shd__ikernel_write_begin(m, pfn);
		else
			shd__icache_user_store(m, pfn);
		shd__mem_access(cpu, addr, pa, true, val);
		if (kernel)
			shd__ikernel_write_end(m, pfn);
	} else {
		shd__mem_access(cpu, addr, pa, k == ACC_WRITE, val);
	}
}

static int do_access(struct shd_cpu *cpu, uint64_t addr,
		     enum shd_access_kind k, uint64_t *val)
{
	struct shd_tlbe *e = NULL;
	struct shd_mm *mm = NULL;
	unsigned asid = 0;
	int err;

	if (!cpu || cpu != shd__this_cpu || cpu->in_ipi)
		return shd__check_cpu(cpu, "access");
	/* A call like any other: another CPU may run between two accesses
	 * (a flush between the fill and the use of a translation). */
	shd__sched_point(cpu);
	if (shd__ipi_pending(&cpu->ipi))
		shd__cpu_take_ipis(cpu);
	if (cpu->m->cfg.policy.async && !(++cpu->ticks & (SHD_LATR_TICK - 1)))
		shd__latr_tick(cpu);
	if ((err = access_space(cpu, addr, &mm, &asid)) ||
	    (err = access_translate(cpu, mm, asid, addr, k, &e)))
		return err;
	/* The first store through an entry sets its PTE's D bit (x86's
	 * walk assist); the entry remembers it.  Relaxed: read under the
	 * mm lock by the zap. */
	if (k == ACC_WRITE && !(e->val & SHD_PTE_DIRTY)) {
		e->val |= SHD_PTE_DIRTY;
		if (e->ptep)
			shd_store_relaxed(&e->ptep->dirty, 1u);
	}
	access_data(cpu, e, addr, mm == cpu->m->kernel_mm, k, val);
	return 0;
}

int shd_load(struct shd_cpu *cpu, uint64_t addr, uint64_t *val)
{
	uint64_t tmp;

	return do_access(cpu, addr, ACC_READ, val ? val : &tmp);
}

int shd_store(struct shd_cpu *cpu, uint64_t addr, uint64_t val)
{
	return do_access(cpu, addr, ACC_WRITE, &val);
}

int shd_fetch(struct shd_cpu *cpu, uint64_t addr, uint64_t *val)
{
	uint64_t tmp;

	return do_access(cpu, addr, ACC_FETCH, val ? val : &tmp);
}
