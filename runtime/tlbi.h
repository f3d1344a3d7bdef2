/* SPDX-License-Identifier: MIT */
/* arm64 TLB maintenance: TLBI ...IS, range TLBIs, DSB ISH (arch/arm64/include/asm/tlbflush.h). */
#ifndef SHD_RUNTIME_TLBI_H
#define SHD_RUNTIME_TLBI_H

#include "types.h"

/* __flush_tlb_range_op()'s count: shd__tlbi_range_ops(), policy/decide.h. */

/*
 * flush_tlb_mm() (E SHD_FLUSH_END_ALL) or __flush_tlb_range() of ASID
 * (a TLB tag, shd__mm_asid_tag()) over vpns [S, E): the TLBIs, then the
 * DSB ISH that waits for every CPU, then with sme_erratum the IPIs to
 * MASK (the mm's mm_cpumask).  A range past the limit becomes one
 * ASIDE1IS (__flush_tlb_range_limit_excess()).  0 or an IPI's error.
 * CPU's thread.
 */
int shd__tlbi_flush_user(struct shd_cpu *cpu, const unsigned long *mask,
			 unsigned asid, uint64_t s, uint64_t e);
/* flush_tlb_kernel_range() over kernel vpns [S, E) (past the limit:
 * flush_tlb_all()), and flush_tlb_all() (E SHD_FLUSH_END_ALL). */
void shd__tlbi_flush_kernel(struct shd_cpu *cpu, uint64_t s, uint64_t e);
/* __flush_tlb_page_nosync(): one TLBI VALE1IS, no DSB
 * (arch_tlbbatch_add_pending()); shd__dsb_ish() completes it
 * (arch_tlbbatch_flush()). */
void shd__tlbi_page_nosync(struct shd_cpu *cpu, unsigned asid, uint64_t vpn);
void shd__dsb_ish(struct shd_cpu *cpu);
/* sme_do_dvmsync(): with sme_erratum, an empty IPI to each other CPU of
 * MASK, waited for; else nothing.  0 or an IPI's error. */
int shd__sme_dvmsync(struct shd_cpu *cpu, const unsigned long *mask);

#endif
