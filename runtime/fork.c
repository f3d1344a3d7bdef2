/* SPDX-License-Identifier: MIT */
/* fork()'s dup_mmap(): share the pages, write-protect the private ones, flush (kernel/fork.c). */
#include <errno.h>
#include <stdlib.h>

#include <shootdown/fork.h>
#include <shootdown/mm.h>
#include "cacheflush.h"
#include "file.h"
#include "icache.h"
#include "mm.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "smp.h"
#include "tlbflush.h"
#include "vma.h"

struct dup {
	struct shd_mm *child;
	const struct shd_vma *vma;
	uint64_t version;
	int err;
	/* sparc64: the parent's write-protected vpns, for its tlb_batch
	 * (copy_pte_range() runs in lazy MMU mode) */
	bool batch;
	struct shd_pfn_list vpns;
};

/* copy_present_pte(): share the frame; write-protect a private page. */
static void dup_one(struct shd_mm *mm, struct shd_pt_leaf *leaf,
		    struct shd_pte *p, uint64_t val, void *arg)
{
	struct dup *d = arg;
	uint64_t vpn = shd__pte_vpn(leaf, p);
	struct shd_pt_leaf *cleaf;

	if (d->err)
		return;
	cleaf = shd__pt_leaf_alloc(d->child, vpn);
	if (!cleaf) {
		d->err = -ENOMEM;
		return;
	}
	if (!d->vma->shared && (val & SHD_PTE_WRITE)) {
		val &= ~SHD_PTE_WRITE;
		shd__cache_order_check(mm, vpn, "flush_cache_dup_mm");
		shd__pte_write(p, val, d->version, mm);
		if (d->batch && (val & SHD_PTE_PRESENT) &&
		    shd__pfn_list_add(&d->vpns, vpn) < 0) {
			d->err = -ENOMEM;
			return;
		}
	}
	shd__frame_get(mm->m, val >> SHD_PTE_PFN_SHIFT);
	if ((val & SHD_PTE_EXEC) && (val & SHD_PTE_PRESENT) && shd__this_cpu)
		shd__icache_set_pte_exec(shd__this_cpu, val >> SHD_PTE_PFN_SHIFT);
	shd__pte_write(&cleaf->pte[vpn & (SHD_PT_ENTRIES - 1)], val, d->version,
		       d->child);
	cleaf->nr_frames++;
}

int shd_mm_dup(struct shd_cpu *cpu, struct shd_mm *parent,
	       struct shd_mm **out)
{
	struct shd_machine *m;
	struct shd_mm *child;
	struct dup d = { 0 };
	int err, ferr;

	if ((err = shd__check_user_mm(cpu, parent, "fork")))
		return err;
	if (!out)
		return shd__fail(-EINVAL, "fork: out needed");
	*out = NULL;
	m = cpu->m;
	child = shd__mm_alloc(m, false);
	if (!child)
		return shd__fail(-ENOMEM, "fork: out of memory for an mm");
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, parent);
	if (shd__vma_reserve(child, parent->nvmas) < 0) {
		d.err = -ENOMEM;
	} else {
		for (size_t i = 0; i < parent->nvmas; i++) {
			child->vmas[i] = parent->vmas[i];
			if (child->vmas[i].file)
				shd__file_map(child->vmas[i].file);
		}
		child->nvmas = parent->nvmas;
	}
	d.child = child;
	d.batch = m->cfg.arch.tlb == SHD_TLB_SPARC64;
	/* flush_cache_dup_mm(), before the parent's PTEs are write-protected */
	if (!d.err)
		d.err = shd__flush_cache_first(cpu, parent, 0,
					  SHD_USER_TOP >> m->page_shift);
	d.version = shd__clock_next(m);
	for (size_t i = 0; !d.err && i < parent->nvmas; i++) {
		d.vma = &parent->vmas[i];
		shd__for_each_frame(parent, d.vma->start >> m->page_shift,
			       d.vma->end >> m->page_shift, dup_one, &d);
	}
	shd__publish_changes(child, d.version);
	shd__publish_changes(parent, d.version);
	/* dup_mmap() ends with flush_tlb_mm(oldmm): the parent's writable
	 * translations are now stale on every CPU that runs it.  sparc64's
	 * flush_tlb_mm() is empty: its tlb_batch flushed them instead. */
	if (d.batch)
		ferr = shd__flush_tlb_vpns(cpu, parent, d.vpns.v, d.vpns.n, NULL);
	else
		ferr = shd__flush_tlb_mm_range(cpu, parent, 0, SHD_FLUSH_END_ALL,
					       true, SHD_IF_MM, NULL);
	free(d.vpns.v);
	{
		int cerr = shd__flush_cache_done(cpu, parent, 0,
					    SHD_USER_TOP >> m->page_shift);

		ferr = ferr ? ferr : cerr;
	}
	shd__mm_unlock(parent);
	if (d.err || ferr) {
		shd_mm_destroy(child);
		return ferr ? ferr : shd__fail(d.err, "fork: out of memory for "
					       "page tables");
	}
	*out = child;
	return 0;
}
