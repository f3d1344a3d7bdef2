/* SPDX-License-Identifier: MIT */
/* hypersparc's TLB engine: SRMMU contexts and sun4m's flush cross-calls (arch/sparc/mm/srmmu.c). */
#ifndef SHD_RUNTIME_SRMMU_H
#define SHD_RUNTIME_SRMMU_H

#include "types.h"

/* Build M's context pool when its TLB engine is hypersparc's (after the
 * CPUs): 0 or -ENOMEM; free it.  Controlling thread. */
int shd__srmmu_init(struct shd_machine *m);
void shd__srmmu_free(struct shd_machine *m);

/*
 * switch_mm() and switch_to()'s part: NEXT (NULL: init_mm) gets a context
 * number if it has none (alloc_context(): a free one, or the oldest
 * stolen, its mm's entries flushed everywhere first), and this CPU's bit
 * in its mm_cpumask.  Returns the number's TLB tag (SHD_ASID_NONE for
 * init_mm).  CPU's thread, NEXT referenced.
 */
unsigned shd__srmmu_switch_context(struct shd_cpu *cpu, struct shd_mm *next);

/*
 * smp_flush_tlb_mm/range/page() of MM's vpns [S, E) (E SHD_FLUSH_END_ALL:
 * the whole context), or with MM NULL flush_tlb_all(): nothing if MM has
 * no context; a cross-call to every online CPU if any other is in its
 * mask; the local flush.  IFACE names it.  0 or a request's error.
 */
int shd__srmmu_flush(struct shd_cpu *cpu, enum shd_iface iface,
		     struct shd_mm *mm, uint64_t s, uint64_t e);

/* destroy_context(): MM's number goes back, its flush owed by whoever
 * takes it next.  Any thread, as MM's last reference goes. */
void shd__srmmu_destroy_context(struct shd_mm *mm);

#endif
