/* SPDX-License-Identifier: MIT */
/* mprotect(): change protections, then flush (mm/mprotect.c). */

/*
 * change_protection() (do_mprotect_pkey()): under mmap_lock for write, and
 * the page-table lock for the VMA change and each VMA's PTE walk.  First
 * any pending reclaim batch and LATR flush over the range (PTEs they
 * cleared must be flushed before we return), then the VMAs, then every
 * PTE with a frame, in an mmu_gather (4a18419f71cd, 5.19): a PTE goes into
 * the gathered range only if pte_needs_flush() says the TLB may hold a
 * translation the change invalidates (c9fe66560bf2).  The range is flushed
 * at tlb_finish_mmu(), after the PTL is dropped, and on the engines
 * without MMU_GATHER_MERGE_VMAS (all but x86's) at each VMA's end too
 * (tlb_end_vma()); nested (another gather live on the mm) makes that a full
 * flush even if no PTE needed one.  Write permission is withheld from a
 * page that is still copy-on-write.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include <shootdown/mprotect.h>
#include "cacheflush.h"
#include "icache.h"
#include "latr.h"
#include "memory.h"
#include "mm.h"
#include "mmap_lock.h"
#include "mmu_gather.h"
#include "oracle.h"
#include "pgtable.h"
#include "rmap.h"
#include "smp.h"
#include "tlbflush.h"
#include "vma.h"

struct protect {
	struct shd_mmu_gather *tlb;
	uint64_t bits;
	bool x86;		/* pte_needs_flush() is x86's; else always */
};

/*
 * x86's pte_needs_flush(OLD, NEW) (arch/x86/include/asm/tlbflush.h): x86
 * never caches a not-present entry, so a change from one needs no flush;
 * a PFN change does; clearing Present does; any change of RW, NX, USER,
 * PKEY, PWT/PCD/PAT or GLOBAL does, in either direction (so adding write
 * to a present page still flushes).  Setting Accessed/Dirty and software
 * bits (our SHD_PTE_FRAME) need none.  Other architectures keep the
 * generic "always".
 */
static bool pte_needs_flush(bool x86, uint64_t old, uint64_t new)
{
	const uint64_t any_change = SHD_PTE_WRITE | SHD_PTE_EXEC | SHD_PTE_GLOBAL;

	if (!x86)
		return true;
	if (!(old & SHD_PTE_PRESENT))
		return false;
	if ((old ^ new) >> SHD_PTE_PFN_SHIFT)
		return true;
	if (!(new & SHD_PTE_PRESENT))
		return true;
	return (old ^ new) & any_change;
}

static void protect_one(struct shd_mm *mm, struct shd_pt_leaf *leaf,
			struct shd_pte *p, uint64_t val, void *arg)
{
	struct protect *pc = arg;
	struct shd_mmu_gather *tlb = pc->tlb;
	uint64_t vpn = shd__pte_vpn(leaf, p);
	uint64_t nval = (val & ~(uint64_t)0xfff) | SHD_PTE_FRAME | pc->bits;

	if ((nval & SHD_PTE_WRITE) &&
	    shd__page_is_cow(mm->m, shd__vma_find(mm, vpn << mm->m->page_shift),
			val >> SHD_PTE_PFN_SHIFT))
		nval &= ~SHD_PTE_WRITE;	/* the next store copies it */

	if (nval == val)
		return;
	if (val & SHD_PTE_PRESENT)
		shd__cache_order_check(mm, vpn, "flush_cache_range");
	if ((nval & SHD_PTE_EXEC) && (nval & SHD_PTE_PRESENT))
		shd__icache_set_pte_exec(tlb->cpu, nval >> SHD_PTE_PFN_SHIFT);
	shd__pte_write(p, nval, tlb->version, mm);
	/* sparc64 queues a change only of a valid PTE (pte_accessible()). */
	if (pte_needs_flush(pc->x86, val, nval) &&
	    ((val & SHD_PTE_PRESENT) || mm->m->cfg.arch.tlb != SHD_TLB_SPARC64))
		shd__tlb_pte_changed(tlb, vpn);		/* tlb_flush_pte_range() */
	else
		tlb->cpu->cnt.s.mprotect_flushes_avoided++;
}

/* Under both locks: split at ADDR and ADDR + LEN, set PROT, merge. */
static void protect_vmas(struct shd_mm *mm, uint64_t addr, uint64_t len,
			 unsigned prot)
{
	shd__vma_split(mm, addr);
	shd__vma_split(mm, addr + len);
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].start >= addr && mm->vmas[i].end <= addr + len)
			mm->vmas[i].prot = prot;
	shd__vma_merge(mm);
}

/* Under mmap_lock for write, the PTL held and TLB live: the checks, the
 * VMA change.  0 or an error (the PTL still held). */
static int protect_begin(struct shd_cpu *cpu, struct shd_mm *mm,
			 uint64_t addr, uint64_t len, unsigned prot)
{
	uint64_t s = addr >> cpu->m->page_shift, e = (addr + len) >> cpu->m->page_shift;
	int err;

	if (!shd__vma_covers(mm, addr, addr + len))
		return shd__fail(-ENOMEM, "mprotect: part of [0x%" PRIx64 ", +0x%"
				 PRIx64 ") is not mapped", addr, len);
	if ((err = shd__flush_tlb_batched_pending(cpu, mm)) ||
	    (mm->latr && (err = shd__latr_settle(cpu, mm, s, e))))
		return err;
	if (shd__vma_reserve(mm, 2) < 0)
		return shd__fail(-ENOMEM, "mprotect: out of memory for VMAs");
	protect_vmas(mm, addr, len, prot);
	return 0;
}

int shd_mprotect(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		 uint64_t len, unsigned prot)
{
	struct shd_mmu_gather tlb;
	struct protect pc = { .tlb = &tlb };
	uint64_t s, e, t0, *segs = NULL, whole[2];
	size_t n, i = 0;
	int err, err2;

	if ((err = shd__check_user_mm(cpu, mm, "mprotect")) ||
	    (err = shd__check_user_range(cpu->m, "mprotect", addr, len)))
		return err;
	if (prot & ~7u)
		return shd__fail(-EINVAL, "mprotect: unknown protection bits 0x%x",
				 prot);
	s = whole[0] = addr >> cpu->m->page_shift;
	e = whole[1] = (addr + len) >> cpu->m->page_shift;
	pc.bits = shd__prot_bits(prot);
	pc.x86 = strncmp(cpu->m->cfg.arch.name, "x86", 3) == 0;
	shd__cpu_take_ipis(cpu);
	shd__mmap_write_lock(cpu, mm);
	shd__tlb_gather_mmu(&tlb, cpu, mm, false);
	shd__tlb_ptl_lock(&tlb);
	t0 = shd__oracle_begin(mm);
	if ((err = protect_begin(cpu, mm, addr, len, prot))) {
		shd__tlb_ptl_unlock(&tlb);
		(void)shd__tlb_finish_mmu(&tlb);
		shd__mmap_write_unlock(mm);
		return err;
	}
	n = shd__vma_segments(mm, addr, addr + len, &segs);
	/* change_protection_range(), a VMA at a time: flush_cache_range()
	 * while the PTEs exist, the PTE walk, tlb_end_vma(). */
	do {
		const uint64_t *g = n ? &segs[2 * i] : whole;

		if (i)
			shd__tlb_ptl_lock(&tlb);
		if ((err2 = shd__flush_cache_first(cpu, mm, g[0], g[1])) && !err)
			err = err2;
		shd__for_each_frame(mm, g[0], g[1], protect_one, &pc);
		shd__tlb_ptl_unlock(&tlb);
		shd__tlb_end_vma(&tlb);
	} while (++i < n);
	free(segs);
	if ((err2 = shd__gather_finish(&tlb, s, e)) && !err)
		err = err2;
	/* Pages reclaimed before the call are clear: no translation of them
	 * may be used once mprotect returns (the batched-pending flush). */
	if (!err)
		shd__oracle_credit_absent(mm, s, e, t0, SHD_IF_RANGE);
	shd__mmap_write_unlock(mm);
	return err;
}
