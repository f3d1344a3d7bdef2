/* SPDX-License-Identifier: MIT */
/* arm64 ASIDs by generation (arch/arm64/mm/context.c). */
#ifndef SHD_RUNTIME_CONTEXT_H
#define SHD_RUNTIME_CONTEXT_H

#include "types.h"

/* Build M's allocator when its TLB engine is arm64's (after the CPUs):
 * 0 or -ENOMEM; free it.  Controlling thread. */
int shd__asids_init(struct shd_machine *m);
void shd__asids_free(struct shd_machine *m);

/*
 * check_and_switch_context(): the ASID CPU runs NEXT with, allocating one
 * (and rolling the generation over when none is free) if NEXT's is of an
 * older generation, and doing the local flush a rollover owes this CPU.
 * Returns the TLB tag of the ASID.  CPU's thread, NEXT referenced.
 */
unsigned shd__check_and_switch_context(struct shd_cpu *cpu, struct shd_mm *next);

/* ASID(mm): the TLB tag of MM's ASID as a TLBI names it (its number,
 * whatever its generation; ASID 0's, which no mm holds, if MM never
 * ran).  Any thread. */
unsigned shd__mm_asid_tag(const struct shd_mm *mm);

#endif
