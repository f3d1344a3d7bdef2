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
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/mmu_context.h>
#include "latr.h"
#include "mm.h"
#include "smp.h"
#include "tlb.h"
#include "tlbflush.h"

/* x86 choose_new_asid(): slot for NEXT, and whether to flush it. */
static unsigned choose_asid(struct shd_cpu *cpu, struct shd_mm *next,
			    uint64_t mm_gen, bool *need_flush)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	unsigned a;

	for (a = 0; a < SHD_NR_ASIDS; a++) {
		if (cpu->ctxs[a].ctx_id != next->id)
			continue;
		*need_flush = shd__policy_switch_flush(p, cpu->ctxs[a].tlb_gen,
						       mm_gen);
		if (*need_flush && shd__fault(cpu->m, SHD_FAULT_IGNORE_TLB_GEN))
			*need_flush = false;
		return a;
	}
	a = cpu->next_asid;
	cpu->next_asid = (a + 1) % SHD_NR_ASIDS;
	cpu->ctxs[a].ctx_id = next->id;
	*need_flush = true;
	return a;
}

int shd_switch_mm(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_machine *m;
	struct shd_mm *prev;
	uint64_t mm_gen;
	bool need_flush;
	unsigned asid;
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
	prev = cpu->loaded_mm;
	if (next == prev) {
		if (!next || !shd_load_relaxed(&cpu->is_lazy))
			return 0;
		/* Leaving lazy mode: Dekker with the flusher, which bumps
		 * tlb_gen (seq-cst RMW) and then reads is_lazy (seq-cst):
		 * our exchange pairs with that read, our load below with
		 * that bump.  One of us sees the other. */
		shd_xchg(&cpu->is_lazy, 0);
		mm_gen = shd_load_seq(&next->tlb_gen);
		if (shd__policy_switch_flush(&m->cfg.policy,
					     cpu->ctxs[cpu->loaded_asid].tlb_gen,
					     mm_gen) &&
		    !shd__fault(m, SHD_FAULT_DROP_LAZY_FLUSH)) {
			shd__local_flush_asid(cpu, cpu->loaded_asid);
			cpu->ctxs[cpu->loaded_asid].tlb_gen = mm_gen;
			cpu->cnt.s.switch_flushes++;
		}
		return 0;
	}
	shd__leave_mm(cpu);
	if (!next)
		return 0;
	shd__mm_get(next);
	/* Seq-cst RMW: set our bit before reading tlb_gen (seq-cst); the
	 * flusher bumps tlb_gen before reading the mask (is_target()).  One
	 * of us sees the other. */
	shd__mask_set(next->cpumask, cpu->id);
	mm_gen = shd_load_seq(&next->tlb_gen);
	asid = choose_asid(cpu, next, mm_gen, &need_flush);
	if (need_flush) {
		shd__local_flush_asid(cpu, asid);
		cpu->cnt.s.switch_flushes++;
	}
	if (need_flush || !m->cfg.policy.gen)
		cpu->ctxs[asid].tlb_gen = mm_gen;
	cpu->loaded_mm = next;
	cpu->loaded_asid = asid;
	return 0;
}

void shd_enter_lazy_tlb(struct shd_cpu *cpu)
{
	if (!cpu || cpu != shd__this_cpu || cpu->in_ipi || !cpu->loaded_mm)
		return;
	/* Seq-cst: pairs with the flusher's read of is_lazy after its tlb_gen
	 * bump (is_target()); a flusher that misses it sends a request the
	 * lazy CPU still handles. */
	shd_xchg(&cpu->is_lazy, 1);
}

struct shd_mm *shd_cpu_active_mm(const struct shd_cpu *cpu)
{
	return cpu ? cpu->loaded_mm : NULL;
}
