/* SPDX-License-Identifier: MIT */
/* Context switches: switch_mm, lazy TLB mode, ASID slots (arch/x86/mm/tlb.c switch_mm_irqs_off). */

/*
 * A CPU runs one mm at a time in one of SHD_NR_ASIDS slots (x86 PCID).
 * switch_mm() sets the CPU's bit in the next mm's mm_cpumask before it
 * reads the mm's tlb_gen, and flushes the slot if the policy lets flushes
 * bypass CPUs (pruning, lazy skipping) and the slot is behind.  A CPU in
 * lazy TLB mode keeps its mm loaded without using it; leaving lazy mode on
 * the same mm compares generations the same way.  Under LATR a context
 * switch is where a CPU sweeps its posted flushes.
 *
 * Two versions, by the policy's switch knob.  5.13: the bit of the mm
 * left is cleared, the bit of the next one set with a locked instruction,
 * which is the full barrier before the tlb_gen read.  6.13 (Linux 6.13 to
 * today): the left mm keeps the bit (209954cbc7d0), so the next mm's bit
 * is often set already and no locked instruction runs; what the flusher
 * reads instead is cpu_tlbstate.loaded_mm, LOADED_MM_SWITCHING while the
 * switch is under way (fea4e317f9e7), and only an explicit smp_mb()
 * orders that store before the tlb_gen read (83b0177a6c48, "x86/mm: Fix
 * SMP ordering in switch_mm_irqs_off()", CVE-2025-40174).  The shared
 * fields go through tso.h, so under the seeded scheduler the missing
 * barrier leaves the store in the store buffer, as x86 would.
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/mmu_context.h>
#include "../policy/policy_ops.h"
#include "bcast.h"
#include "context.h"
#include "context_sparc64.h"
#include "latr.h"
#include "mm.h"
#include "smp.h"
#include "srmmu.h"
#include "tlb.h"
#include "tlbflush.h"
#include "tso.h"
#include "seeded.h"
#include "trace.h"

/* A policy in C's say on flushing context ASID of MM on switch-in
 * (SWITCH) or on leaving lazy mode (policy_ops.h); BUILTIN the base's. */
static bool hook_switch(struct shd_cpu *cpu, struct shd_mm *mm, unsigned asid,
			uint64_t mm_gen, bool in_mask, bool lazy, bool builtin)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	struct shd_hook_ctx x;

	shd__hook_ctx_init(cpu, mm, &x);
	x.in_mm_cpumask = in_mask;
	x.is_lazy = lazy;
	x.loaded = lazy ? SHD_HOOK_LOADED_THIS : SHD_HOOK_LOADED_SWITCHING;
	x.mm_tlb_gen = mm_gen;
	x.local_tlb_gen = cpu->ctxs[asid].tlb_gen;
	return lazy ? shd__hook_lazy_exit_flush(p, &x, builtin) :
		      shd__hook_switch_flush(p, &x, builtin);
}

/*
 * x86 choose_new_asid(): slot for NEXT, and whether to flush it.  An mm
 * with a global ASID runs on it with no flush (6.15, be88a1dd6112):
 * INVLPGB reaches every CPU.  RAR reaches only the mask, so a CPU whose
 * bit was clear (NEW_CPU) may hold stale entries of it and flushes (the
 * RFC's need_flush = new_cpu: what a global ASID costs on reschedule).
 */
static unsigned choose_asid(struct shd_cpu *cpu, struct shd_mm *next,
			    uint64_t mm_gen, bool new_cpu, bool *need_flush)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	unsigned a = shd__mm_global_asid(next);

	if (a) {
		*need_flush = p->bcast == SHD_BCAST_RAR && new_cpu;
		return a;
	}
	for (a = 0; a < SHD_NR_ASIDS; a++) {
		if (cpu->ctxs[a].ctx_id != next->id)
			continue;
		*need_flush = shd__policy_switch_flush(p, cpu->ctxs[a].tlb_gen,
						       mm_gen);
		if (shd__has_hook(p, switch_flush))
			*need_flush = hook_switch(cpu, next, a, mm_gen, !new_cpu,
						  false, *need_flush);
		if (*need_flush && shd__fault_fires(cpu, SHD_FAULT_IGNORE_TLB_GEN))
			*need_flush = false;
		return a;
	}
	a = cpu->next_asid;
	cpu->next_asid = (a + 1) % SHD_NR_ASIDS;
	cpu->ctxs[a].ctx_id = next->id;
	*need_flush = true;
	return a;
}

/* Load NEXT (a reference held) in ASID: the CR3 write, serializing (the
 * store buffer drains), flushing the slot first if NEED_FLUSH. */
static void load_new_mm_cr3(struct shd_cpu *cpu, struct shd_mm *next,
			    unsigned asid, bool need_flush, uint64_t mm_gen)
{
	if (need_flush) {
		shd__local_flush_asid(cpu, asid);
		cpu->cnt.s.switch_flushes++;
	}
	shd__tso_drain(cpu);
	if ((need_flush || !cpu->m->cfg.policy.gen) && asid < SHD_NR_ASIDS)
		cpu->ctxs[asid].tlb_gen = mm_gen;
	cpu->loaded_mm = next;
	cpu->loaded_asid = asid;
	shd__publish_asid(cpu, asid);
	shd__trace_tlb_flush(cpu, SHD_TLB_FLUSH_ON_TASK_SWITCH,
			     need_flush ? SHD_TRACE_PAGES_ALL : 0);
}

/* Leaving lazy mode on the mm still loaded (switch_mm(next, next)):
 * catch up with its generation.  5.13 and 6.13 alike. */
static void leave_lazy(struct shd_cpu *cpu, struct shd_mm *mm)
{
	struct shd_machine *m = cpu->m;
	uint64_t mm_gen;
	bool flush;

	/* Dekker with the flusher, which bumps tlb_gen (seq-cst RMW) and
	 * then reads is_lazy (seq-cst): our store and fence pair with that
	 * read, our load below with that bump.  One of us sees the other.
	 * 5.13 keeps the exchange it always had (store + smp_mb() in one). */
	if (m->cfg.policy.switch_mm == SHD_SWITCH_6_13) {
		shd__tso_store(cpu, &cpu->is_lazy, 0, shd_store_seq);
		shd__sched_point(cpu);
		shd__tso_mb(cpu);
	} else {
		shd__tso_drain(cpu);	/* XCHG: locked */
		shd_xchg(&cpu->is_lazy, 0);
	}
	shd__sched_point(cpu);
	/* 6.15: the mm got a global ASID meanwhile: move to it; on one,
	 * broadcasts kept it current (RAR's too: our bit stayed set). */
	(void)shd__switch_to_global_asid(cpu);
	if (shd__is_global_asid(cpu->loaded_asid))
		return;
	mm_gen = shd__tso_load(cpu, &mm->tlb_gen, shd_load_seq);
	flush = shd__policy_switch_flush(&m->cfg.policy,
					 cpu->ctxs[cpu->loaded_asid].tlb_gen,
					 mm_gen);
	if (shd__has_hook(&m->cfg.policy, lazy_exit_flush))
		flush = hook_switch(cpu, mm, cpu->loaded_asid, mm_gen, true,
				    true, flush);
	if (flush && !shd__fault_fires(cpu, SHD_FAULT_DROP_LAZY_FLUSH)) {
		shd__local_flush_asid(cpu, cpu->loaded_asid);
		cpu->ctxs[cpu->loaded_asid].tlb_gen = mm_gen;
		cpu->cnt.s.switch_flushes++;
		/* switch_mm_irqs_off() falls through to its need_flush path */
		shd__trace_tlb_flush(cpu, SHD_TLB_FLUSH_ON_TASK_SWITCH,
				     SHD_TRACE_PAGES_ALL);
	}
}

/* 5.13: leave the old mm (its bit cleared), set our bit in NEXT's mask
 * (LOCK BTS, a full barrier) and read its tlb_gen. */
static void switch_mm_513(struct shd_cpu *cpu, struct shd_mm *next)
{
	uint64_t mm_gen;
	bool need_flush;
	unsigned asid;

	shd__leave_mm(cpu);
	if (!next)
		return;
	shd__mm_get(next);
	/* Seq-cst RMW: set our bit before reading tlb_gen (seq-cst); the
	 * flusher bumps tlb_gen before reading the mask (is_target()).  One
	 * of us sees the other. */
	shd__tso_mask_set(cpu, next->cpumask, cpu->id);
	shd__sched_point(cpu);
	mm_gen = shd__tso_load(cpu, &next->tlb_gen, shd_load_seq);
	shd__sched_point(cpu);
	asid = choose_asid(cpu, next, mm_gen, true, &need_flush);
	load_new_mm_cr3(cpu, next, asid, need_flush, mm_gen);
}

/*
 * 6.13 (switch_mm_irqs_off() after 83b0177a6c48): publish LOADED_MM_SWITCHING,
 * set our bit in NEXT's lazy mask only if it is clear (the LOCK BTS is the
 * full barrier) or else smp_mb(), read tlb_gen, write CR3, publish NEXT.
 * The barrier orders the SWITCHING store before the tlb_gen load: without
 * it (fault switch_mm_no_barrier) the store can wait in the store buffer
 * while a flusher bumps tlb_gen, reads our old loaded_mm and skips us, and
 * we read the old generation and keep a stale TLB.  The old mm keeps our
 * bit.  Every step is a scheduling point.
 */
static void switch_mm_613(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_mm *prev = cpu->loaded_mm;
	uint64_t mm_gen;
	bool need_flush, new_cpu;
	unsigned asid;

	if (!next) {
		shd__leave_mm(cpu);
		return;
	}
	if (shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed)) {
		/* Seq-cst on the host: as the stores below. */
		shd__tso_store(cpu, &cpu->is_lazy, 0, shd_store_seq);
		shd__sched_point(cpu);
	}
	shd__mm_get(next);
	/* Seq-cst on the host: pairs with the flusher's read of loaded_mm
	 * after its tlb_gen bump (tlbflush.c loaded_of()). */
	shd__tso_store(cpu, &cpu->loaded_mm_id, SHD_LOADED_MM_SWITCHING,
		       shd_store_seq);
	shd__sched_point(cpu);
	new_cpu = !shd__tso_mask_test(cpu, next->cpumask, cpu->id);
	if (new_cpu)
		shd__tso_mask_set(cpu, next->cpumask, cpu->id);
	else if (!shd__fault_fires(cpu, SHD_FAULT_SWITCH_MM_NO_BARRIER))
		shd__tso_mb(cpu);
	shd__sched_point(cpu);
	/* Seq-cst: pairs with the flusher's bump (shd__flush_info_init()). */
	mm_gen = shd__tso_load(cpu, &next->tlb_gen, shd_load_seq);
	shd__sched_point(cpu);
	asid = choose_asid(cpu, next, mm_gen, new_cpu, &need_flush);
	load_new_mm_cr3(cpu, next, asid, need_flush, mm_gen);
	/* Seq-cst on the host: as SWITCHING above. */
	shd__tso_store(cpu, &cpu->loaded_mm_id, next->id, shd_store_seq);
	if (prev)
		shd__mm_put(prev);
}

/* The end of the other engines' switch: the translation-base write
 * (TTBR0 and its ISB; satp), then NEXT under ASID published as loaded,
 * and PREV's reference dropped. */
static void load_mm_asid(struct shd_cpu *cpu, struct shd_mm *prev,
			 struct shd_mm *next, unsigned asid)
{
	shd__sched_point(cpu);
	shd__tso_drain(cpu);
	cpu->loaded_mm = next;
	cpu->loaded_asid = asid;
	shd__publish_asid(cpu, asid);
	shd_store_seq(&cpu->loaded_mm_id, next ? next->id : 0);
	if (prev)
		shd__mm_put(prev);
}

/*
 * arm64 (arch/arm64/mm/context.c check_and_switch_context(), then
 * cpu_switch_mm()): the mm's ASID on this CPU, by generation, and the
 * TTBR0 write.  No mm_cpumask, no generation to catch up with: TLBIs
 * reach every CPU whatever it runs.  To init_mm: the reserved TTBR0.
 */
static void switch_mm_arm64(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_mm *prev = cpu->loaded_mm;
	unsigned asid = SHD_ASID_NONE;

	/* sme_erratum: mm_cpumask holds the CPUs running the mm (Linux:
	 * at EL0 with SME, sme_set_active()/sme_clear_active()). */
	if (prev && cpu->m->cfg.arch.sme_erratum)
		shd__tso_mask_clear(cpu, prev->cpumask, cpu->id);
	if (next) {
		shd__mm_get(next);
		asid = shd__check_and_switch_context(cpu, next);
		if (cpu->m->cfg.arch.sme_erratum)
			shd__tso_mask_set(cpu, next->cpumask, cpu->id);
	}
	load_mm_asid(cpu, prev, next, asid);	/* TTBR0, ISB */
}

/*
 * riscv (arch/riscv/mm/context.c switch_mm(), set_mm_asid()): this CPU's
 * bit set in next's mm_cpumask and never cleared in prev's (82dd33fde026;
 * fault cpumask_clear_no_flush clears it, as before), then the ASID by
 * arm64's generation scheme and the satp write.
 */
static void switch_mm_riscv(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_mm *prev = cpu->loaded_mm;
	unsigned asid = SHD_ASID_NONE;

	if (prev && shd__fault_fires(cpu, SHD_FAULT_CPUMASK_CLEAR_NO_FLUSH))
		shd__tso_mask_clear(cpu, prev->cpumask, cpu->id);
	if (next) {
		shd__mm_get(next);
		/* Seq-cst: pairs with the flusher's mask scan after its PTE
		 * change (rfence.c). */
		if (!shd__tso_mask_test(cpu, next->cpumask, cpu->id))
			shd__tso_mask_set(cpu, next->cpumask, cpu->id);
		shd__sched_point(cpu);
		asid = shd__check_and_switch_context(cpu, next);
	}
	load_mm_asid(cpu, prev, next, asid);	/* csr_write(satp) */
}

/*
 * sparc64 (arch/sparc/include/asm/mmu_context_64.h switch_mm()): the
 * context step (context_sparc64.c: a new number if the version is old,
 * the whole context flushed on this CPU if it is new or this CPU new to
 * mm_cpumask, whose bits are never cleared), then the secondary context
 * register and the TSB.  To init_mm: no user context.
 */
static void switch_mm_sparc64(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_mm *prev = cpu->loaded_mm;
	unsigned ctx;

	if (next)
		shd__mm_get(next);
	ctx = shd__sparc64_switch_context(cpu, next);
	load_mm_asid(cpu, prev, next, ctx);	/* load_secondary_context() */
}

/*
 * hypersparc (arch/sparc/mm/srmmu.c switch_mm(), switch_to_32.h): a
 * context for NEXT if it has none, its bit in mm_cpumask (srmmu.c), then
 * the context register.  No TLB flush at a switch.
 */
static void switch_mm_hypersparc(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_mm *prev = cpu->loaded_mm;
	unsigned ctx;

	if (next)
		shd__mm_get(next);
	ctx = shd__srmmu_switch_context(cpu, next);
	load_mm_asid(cpu, prev, next, ctx);	/* srmmu_set_context() */
}

int shd_switch_mm(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_machine *m;
	int err;

	if ((err = shd__check_cpu(cpu, "switch_mm")))
		return err;
	m = cpu->m;
	if (next && (next->m != m || next->is_kernel))
		return shd__fail(-EINVAL, "switch_mm: not a user mm of this machine");
	if (next && shd_load_relaxed(&next->dead))
		return shd__fail(-EINVAL, "switch_mm: mm %" PRIu64 " was destroyed",
				 next->id);
	shd__cpu_take_ipis(cpu);
	if (m->cfg.policy.async)
		shd__latr_tick(cpu);	/* LATR sweeps at context switches */
	if (m->cfg.arch.tlb == SHD_TLB_ARM64) {
		if (next != cpu->loaded_mm)
			switch_mm_arm64(cpu, next);
		return 0;
	}
	if (m->cfg.arch.tlb == SHD_TLB_RISCV) {
		if (next != cpu->loaded_mm)
			switch_mm_riscv(cpu, next);
		return 0;
	}
	if (m->cfg.arch.tlb == SHD_TLB_SPARC64) {
		if (next != cpu->loaded_mm)
			switch_mm_sparc64(cpu, next);
		return 0;
	}
	if (m->cfg.arch.tlb == SHD_TLB_HYPERSPARC) {
		if (next != cpu->loaded_mm)
			switch_mm_hypersparc(cpu, next);
		return 0;
	}
	if (next == cpu->loaded_mm) {
		if (next && shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed))
			leave_lazy(cpu, next);
		else if (next)	/* the same-mm path: a global ASID since? */
			(void)shd__switch_to_global_asid(cpu);
		return 0;
	}
	if (m->cfg.policy.switch_mm == SHD_SWITCH_6_13)
		switch_mm_613(cpu, next);
	else
		switch_mm_513(cpu, next);
	return 0;
}

void shd_enter_lazy_tlb(struct shd_cpu *cpu)
{
	if (!cpu || cpu != shd__this_cpu || cpu->in_ipi || !cpu->loaded_mm)
		return;
	/* The other engines' enter_lazy_tlb() are empty: no flush skips a
	 * lazy CPU. */
	if (cpu->m->cfg.arch.tlb != SHD_TLB_X86)
		return;
	/* Seq-cst: pairs with the flusher's read of is_lazy after its tlb_gen
	 * bump (is_target()); a flusher that misses it sends a request the
	 * lazy CPU still handles.  6.13 writes it plainly, as Linux's
	 * enter_lazy_tlb() does (it may sit in the store buffer: the same
	 * harmless miss); 5.13 keeps its exchange. */
	if (cpu->m->cfg.policy.switch_mm == SHD_SWITCH_6_13) {
		shd__tso_store(cpu, &cpu->is_lazy, 1, shd_store_seq);
		return;
	}
	shd__tso_drain(cpu);	/* XCHG: locked */
	shd_xchg(&cpu->is_lazy, 1);
}

struct shd_mm *shd_cpu_active_mm(const struct shd_cpu *cpu)
{
	return cpu ? cpu->loaded_mm : NULL;
}
