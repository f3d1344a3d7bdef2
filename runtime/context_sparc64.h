/* SPDX-License-Identifier: MIT */
/* sparc64 context numbers by version (arch/sparc/mm/init_64.c). */
#ifndef SHD_RUNTIME_CONTEXT_SPARC64_H
#define SHD_RUNTIME_CONTEXT_SPARC64_H

#include "types.h"

/* Build M's context allocator when its TLB engine is sparc64's (after
 * the CPUs): 0 or -ENOMEM; free it.  Controlling thread. */
int shd__sparc64_ctx_init(struct shd_machine *m);
void shd__sparc64_ctx_free(struct shd_machine *m);

/*
 * switch_mm()'s context step: NEXT (NULL: init_mm) becomes CPU's
 * secondary mm; a new number if its context is not of the current
 * version (wrapping when none is free); the local flush of the whole
 * context, and CPU's bit set, if the context was new or CPU was not in
 * NEXT's mm_cpumask.  Returns the context's TLB tag (SHD_ASID_NONE for
 * init_mm).  CPU's thread, NEXT referenced.
 */
unsigned shd__sparc64_switch_context(struct shd_cpu *cpu, struct shd_mm *next);

/* CTX_HWBITS(mm->context) as a TLB tag, read racily as a flusher does;
 * *VALID: CTX_VALID() (false too if MM never ran).  Any thread. */
unsigned shd__sparc64_ctx_tag(const struct shd_mm *mm, bool *valid);

#endif
