/* SPDX-License-Identifier: MIT */
/* mprotect(): change protections, then flush (mm/mprotect.c). */

/*
 * change_protection(): under the mm lock, after any pending reclaim batch
 * and LATR flush over the range (PTEs they cleared must be flushed before
 * we return), the VMAs change, then every present PTE, then one
 * flush_tlb_range() if any PTE changed.  Write permission is withheld from
 * a page that is still copy-on-write.
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/mprotect.h>
#include "cacheflush.h"
#include "icache.h"
#include "latr.h"
#include "memory.h"
#include "mm.h"
#include "oracle.h"
#include "pgtable.h"
#include "rmap.h"
#include "smp.h"
#include "tlbflush.h"
#include "vma.h"

struct protect {
	struct shd_cpu *cpu;
	uint64_t version;
	uint64_t bits;
	uint64_t changed;
};

static void protect_one(struct shd_mm *mm, struct shd_pt_leaf *leaf,
			struct shd_pte *p, uint64_t val, void *arg)
{
	struct protect *pc = arg;
	uint64_t nval = (val & ~(uint64_t)0xfff) | SHD_PTE_FRAME | pc->bits;

	if ((nval & SHD_PTE_WRITE) &&
	    shd__page_is_cow(mm->m, shd__vma_find(mm, shd__pte_vpn(leaf, p) << mm->m->page_shift),
			val >> SHD_PTE_PFN_SHIFT))
		nval &= ~SHD_PTE_WRITE;	/* the next store copies it */

	if (nval == val)
		return;
	if (val & SHD_PTE_PRESENT)
		shd__cache_order_check(mm, shd__pte_vpn(leaf, p), "flush_cache_range");
	if ((nval & SHD_PTE_EXEC) && (nval & SHD_PTE_PRESENT))
		shd__icache_set_pte_exec(pc->cpu, nval >> SHD_PTE_PFN_SHIFT);
	shd__pte_write(p, nval, pc->version, mm);
	pc->changed++;
}

int shd_mprotect(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		 uint64_t len, unsigned prot)
{
	struct shd_machine *m;
	struct protect pc = { 0 };
	uint64_t s, e, t0;
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "mprotect")) ||
	    (err = shd__check_user_range(cpu->m, "mprotect", addr, len)))
		return err;
	if (prot & ~7u)
		return shd__fail(-EINVAL, "mprotect: unknown protection bits 0x%x",
				 prot);
	m = cpu->m;
	s = addr >> m->page_shift;
	e = (addr + len) >> m->page_shift;
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, mm);
	if (!shd__vma_covers(mm, addr, addr + len)) {
		shd__mm_unlock(mm);
		return shd__fail(-ENOMEM, "mprotect: part of [0x%" PRIx64 ", +0x%"
				 PRIx64 ") is not mapped", addr, len);
	}
	if ((err = shd__flush_tlb_batched_pending(cpu, mm)) ||
	    (mm->latr && (err = shd__latr_settle(cpu, mm, s, e)))) {
		shd__mm_unlock(mm);
		return err;
	}
	t0 = shd__oracle_begin(mm);
	if (shd__vma_reserve(mm, 2) < 0) {
		shd__mm_unlock(mm);
		return shd__fail(-ENOMEM, "mprotect: out of memory for VMAs");
	}
	/* flush_cache_range() (change_protection()), while the PTEs exist */
	if ((err = shd__flush_cache_first(cpu, mm, s, e))) {
		shd__mm_unlock(mm);
		return err;
	}
	shd__vma_split(mm, addr);
	shd__vma_split(mm, addr + len);
	for (size_t i = 0; i < mm->nvmas; i++)
		if (mm->vmas[i].start >= addr && mm->vmas[i].end <= addr + len)
			mm->vmas[i].prot = prot;
	shd__vma_merge(mm);
	pc.version = shd__clock_next(m);
	pc.bits = shd__prot_bits(prot);
	pc.cpu = cpu;
	shd__for_each_frame(mm, s, e, protect_one, &pc);
	shd__publish_changes(mm, pc.version);
	if (pc.changed)
		err = shd__flush_tlb_mm_range(cpu, mm, addr, addr + len, false,
					      SHD_IF_RANGE, NULL);
	{
		int cerr = shd__flush_cache_done(cpu, mm, s, e);

		err = err ? err : cerr;
	}
	/* Pages reclaimed before the call are clear: no translation of them
	 * may be used once mprotect returns (the batched-pending flush). */
	if (!err)
		shd__oracle_credit_absent(mm, s, e, t0, SHD_IF_RANGE);
	shd__mm_unlock(mm);
	return err;
}
