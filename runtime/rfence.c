/* SPDX-License-Identifier: MIT */
/* riscv remote fences: sfence.vma on the CPUs of a mask, by IPI or SBI (arch/riscv/mm/tlbflush.c). */

/*
 * Theory (after arch/riscv/mm/tlbflush.c as of 038ac18aae93, Linux 6.10,
 * unchanged in substance through 6.12, and arch/riscv/mm/context.c).
 *
 * riscv has no broadcast invalidation: sfence.vma acts on the executing
 * hart only.  __flush_tlb_range(cmask, asid, start, size, stride) returns
 * if cmask is empty; if this CPU is the only one in it, fences locally;
 * else either makes one SBI RFENCE call (sbi_remote_sfence_vma_asid()),
 * whose firmware interrupts every hart of the mask, this one included,
 * and has each run sfence.vma in M-mode, or (the default since
 * dc892fb44322, "riscv: Use IPIs for remote cache/TLB flushes by
 * default", 6.10, when IPIs do not themselves go through SBI) calls
 * on_each_cpu_mask(): an IPI to each other CPU of the mask, the local
 * fence, and a wait for all.  Each target runs local_flush_tlb_range_asid():
 * one page by sfence.vma addr, asid; the whole ASID (sfence.vma x0, asid)
 * for flush_tlb_mm or a range of more than tlb_flush_all_threshold pages
 * (64, ba6f35964c51, 6.7; before it any range beyond a page); else one
 * sfence.vma a page.  The firmware has its own rule (OpenSBI's
 * tlb_range_flush_limit, 4 KiB by default: anything larger is flushed
 * whole).  Kernel ranges go to cpu_online_mask with FLUSH_TLB_NO_ASID;
 * reclaim's batch (54d7431af73e, 6.8) ORs each mm's mask into the batch's
 * and flushes everything (NO_ASID, all sizes) on that union.
 *
 * mm_cpumask only grows: switch_mm sets this CPU's bit and, with ASIDs,
 * never clears prev's (82dd33fde026, "riscv: asid: Fixup stale TLB entry
 * cause application crash", 6.3: clearing it at switch-out left a CPU
 * that later returned to the mm with entries no flush had reached; fault
 * cpumask_clear_no_flush puts that back).  So a remote flush reaches
 * every CPU the mm ever ran on.  Xu Lu's 2025 patch (not merged) clears a
 * CPU's bit after it flushed a whole ASID of an mm it is not running: the
 * clear_cpumask knob.  Fault sbi_missing_fence has the firmware
 * acknowledge one target hart of an RFENCE without fencing it;
 * skip_remote_ipi fences on none of the other CPUs of a mask,
 * skip_local_flush not on this one.
 *
 * Counting: every other online CPU is an IPI candidate, sent if in the
 * mask (an S-mode IPI, or the firmware's M-mode one) and pruned if not;
 * nothing is lazy or deferred.  Local fences count as x86's do
 * (pages_invalidated, flushes_full); svinval=on (Svinval: sfence.w.inval,
 * sinval.vma a page, sfence.inval.ir; Mayuresh Chitale's patch, not
 * merged) counts its pages in sinval_vmas and its two fences.  Not
 * modelled: hugetlb strides (NAPOT), the mmu notifier, SiFive CIP-1200's
 * errata, a machine without an ASID allocator (machine.c refuses it), the
 * weak ordering of riscv's amoor on the mask (here a sequentially
 * consistent bit set).
 */
#include "rfence.h"
#include "seeded.h"
#include "smp.h"
#include "tlb.h"
#include "tso.h"

/* local_flush_tlb_range_asid() in Linux, or the firmware's
 * sbi_tlb_local_sfence_vma_asid() for an SBI request. */
static void local_fence(struct shd_cpu *cpu, const struct shd_flush_info *f)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	uint64_t s = f->start_vpn, e = f->end_vpn;
	bool all = e == SHD_FLUSH_END_ALL;

	if (!all && (f->sbi ? e - s > p->sbi_flush_limit :
			      e - s > 1 && e - s > p->flush_all_threshold))
		all = true;
	if (all) {
		if (f->asid == SHD_ASID_NONE)	/* sfence.vma x0, x0 */
			shd__local_flush_everything(cpu);
		else				/* sfence.vma x0, asid */
			shd__local_flush_asid(cpu, f->asid);
		cpu->cnt.s.flushes_full++;
		/* Xu Lu's patch: after local_flush_tlb_all_asid() of an mm
		 * this CPU is not running, leave its mask (Linux's handler
		 * only: the firmware knows no mm). */
		if (p->clear_cpumask && f->mm && !f->sbi &&
		    cpu->loaded_mm != f->mm &&
		    shd__tso_mask_test(cpu, f->mm->cpumask, cpu->id)) {
			shd__tso_mask_clear(cpu, f->mm->cpumask, cpu->id);
			cpu->cnt.s.cpumask_clears++;
		}
		return;
	}
	if (p->svinval && !f->sbi) {
		cpu->cnt.s.sinval_vmas += e - s;
		cpu->cnt.s.svinval_fences += 2;
	}
	/* NO_ASID by address: kernel pages, tagged global here. */
	shd__local_flush_pages(cpu, s, e, f->asid == SHD_ASID_NONE ?
			       SHD_ASID_GLOBAL : f->asid);
}

/* The target's side: __ipi_flush_tlb_range_asid(), or the firmware's
 * M-mode handler of an RFENCE. */
static void rfence_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	cpu->cnt.s.ipi_requests++;
	local_fence(cpu, csd->info);
}

int shd__rfence(struct shd_cpu *cpu, const unsigned long *mask,
		const char *what)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	unsigned *targets = cpu->targets;
	bool self, dropped = false;
	int n = 0, err = 0, r;

	/* cpumask_any_but() then on_each_cpu_mask() (or the hart mask of
	 * the SBI call): one scan of the mask. */
	n = shd__mask_targets(cpu, mask, targets);
	self = !mask || shd__tso_mask_test(cpu, mask, cpu->id);
	if (!n) {		/* only this CPU, or none */
		if (self)
			local_fence(cpu, f);
		return 0;
	}
	f->sbi = m->cfg.policy.rfence == SHD_RFENCE_SBI;
	if (f->sbi)
		cpu->cnt.s.sbi_rfences++;
	if (shd__fault(m, SHD_FAULT_SKIP_REMOTE_IPI)) {
		shd__fault_fired(cpu, SHD_FAULT_SKIP_REMOTE_IPI);
		n = 0;		/* the mask's other CPUs: none asked */
	}
	for (int i = 0; i < n; i++) {
		/* The firmware acknowledges the first hart without a fence. */
		if (f->sbi && !dropped &&
		    shd__fault_fires(cpu, SHD_FAULT_SBI_MISSING_FENCE)) {
			dropped = true;
			targets[i--] = targets[--n];
			continue;
		}
		if ((r = shd__send_csd(cpu, targets[i], &cpu->csd[targets[i]],
				       rfence_func, f, NULL)) < 0) {
			err = r;
			targets[i--] = targets[--n];
		}
	}
	if (self && !shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH))
		local_fence(cpu, f);
	/* Wait for each queued request even after a failure: none may read
	 * cpu->info once we return. */
	r = shd__wait_targets(cpu, targets, n, what);
	return err ? err : r ? r : n;
}
