/* SPDX-License-Identifier: MIT */
/* The kernel's vmap/vunmap: global mappings in the vmap area (mm/vmalloc.c). */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/vmalloc.h>
#include "cache.h"
#include "cacheflush.h"
#include "memory.h"
#include "mm.h"
#include "mmu_gather.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "smp.h"

int shd_vmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct shd_machine *m;
	struct shd_mm *k;
	uint64_t s, e, v;
	int err;

	if ((err = shd__check_cpu(cpu, "vmap")) ||
	    (err = shd__check_kernel_range(cpu->m, "vmap", addr, len)))
		return err;
	m = cpu->m;
	if ((len >> m->page_shift) > m->nframes)
		return shd__fail(-ENOMEM, "vmap: %" PRIu64 " pages is more than "
				 "the machine's %" PRIu64 " frames",
				 len >> m->page_shift, m->nframes);
	k = m->kernel_mm;
	s = shd__va_vpn(m, addr);
	e = s + (len >> m->page_shift);
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, k);
	for (uint64_t vpn = s; vpn < e;) {
		struct shd_pt_leaf *leaf = shd__pt_leaf(k, vpn);
		uint64_t next = (vpn | (SHD_PT_ENTRIES - 1)) + 1;

		for (; leaf && vpn < e && vpn < next; vpn++) {
			if (leaf->pte[vpn & (SHD_PT_ENTRIES - 1)].val) {
				shd__mm_unlock(k);
				return shd__fail(-EEXIST, "vmap: 0x%" PRIx64 " is "
						 "already mapped",
						 addr + ((vpn - s) << m->page_shift));
			}
		}
		vpn = next;
	}
	v = shd__clock_next(m);
	for (uint64_t vpn = s; vpn < e; vpn++) {
		struct shd_pt_leaf *leaf = shd__pt_leaf_alloc(k, vpn);
		uint64_t pfn = leaf ? shd__frame_alloc(m) : UINT64_MAX;

		/* Handlers take no mm lock: taking IPIs here is safe, and a
		 * large vmap must not stall other CPUs' shootdowns. */
		if ((vpn & (SHD_PT_ENTRIES - 1)) == 0 &&
		    shd__ipi_pending(&cpu->ipi))
			shd__cpu_take_ipis(cpu);

		if (pfn == UINT64_MAX) {
			shd__publish_changes(k, v);
			shd__mm_unlock(k);
			/* Undo what was mapped (flushes nothing: never used). */
			if (vpn > s)
				shd_vunmap(cpu, addr, (vpn - s) << m->page_shift);
			return shd__fail(-ENOMEM, "vmap: out of simulated memory");
		}
		shd__frame_zero(m, pfn);
		shd__pte_write(&leaf->pte[vpn & (SHD_PT_ENTRIES - 1)],
			       pfn << SHD_PTE_PFN_SHIFT | SHD_PTE_FRAME |
			       SHD_PTE_PRESENT | SHD_PTE_WRITE | SHD_PTE_EXEC |
			       SHD_PTE_GLOBAL, v, k);
		leaf->nr_frames++;
	}
	shd__publish_changes(k, v);
	shd__mm_unlock(k);
	return 0;
}

int shd_vunmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len)
{
	struct shd_machine *m;
	struct shd_mm *k;
	struct shd_mmu_gather tlb;
	uint64_t s;
	int err;

	if ((err = shd__check_cpu(cpu, "vunmap")) ||
	    (err = shd__check_kernel_range(cpu->m, "vunmap", addr, len)))
		return err;
	m = cpu->m;
	k = m->kernel_mm;
	s = shd__va_vpn(m, addr);
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, k);
	/* flush_cache_vunmap(), while the PTEs exist */
	err = shd__flush_cache_first(cpu, k, s, s + (len >> m->page_shift));
	shd__tlb_gather_mmu(&tlb, cpu, k, false);
	tlb.ptl_held = true;	/* all of vunmap is under init_mm's lock */
	shd__zap_range(&tlb, s, s + (len >> m->page_shift));
	{
		int ferr = shd__tlb_finish_mmu(&tlb);
		int cerr = shd__flush_cache_done(cpu, k, s, s + (len >> m->page_shift));

		err = err ? err : ferr ? ferr : cerr;
	}
	shd__mm_unlock(k);
	if (!err && tlb.err)
		err = shd__fail(-ENOMEM, "out of memory while unmapping");
	return err;
}
