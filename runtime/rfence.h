/* SPDX-License-Identifier: MIT */
/* riscv remote fences: sfence.vma on the CPUs of a mask, by IPI or SBI (arch/riscv/mm/tlbflush.c). */
#ifndef SHD_RUNTIME_RFENCE_H
#define SHD_RUNTIME_RFENCE_H

#include "types.h"

/*
 * The body of __flush_tlb_range() for cpu->info (filled by the caller:
 * its asid, a TLB tag or SHD_ASID_NONE for FLUSH_TLB_NO_ASID, its vpns,
 * its mm or NULL, and sbi): fence on every CPU of MASK (NULL: the online
 * CPUs), this one included if it is in MASK, and wait for them.  WHAT
 * names the request in a timeout's report.  Returns how many other CPUs
 * were interrupted (>= 0), or the first request's error.  CPU's thread.
 */
int shd__rfence(struct shd_cpu *cpu, const unsigned long *mask,
		const char *what);

#endif
