/* SPDX-License-Identifier: MIT */
/* shootdown context switches: switch_mm, lazy TLB mode (mmu_context). */
#ifndef SHOOTDOWN_MMU_CONTEXT_H
#define SHOOTDOWN_MMU_CONTEXT_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;

/*
 * switch_mm(): CPU now runs a task of NEXT.  Sets CPU's bit in NEXT's
 * mm_cpumask (ordered before reading NEXT's tlb_gen, pairing with the
 * flusher's generation bump), picks an ASID slot and flushes it if the
 * policy says it may hold stale entries.  Leaving lazy mode on the same mm is
 * the prev == next case.  NULL switches to the kernel's init_mm.  0.
 */
SHD_EXPORT int shd_switch_mm(struct shd_cpu *cpu, struct shd_mm *next);

/*
 * enter_lazy_tlb(): CPU runs a kernel thread or goes idle and keeps its
 * current mm loaded without using it.  A CPU whose task returns enters lazy
 * mode by itself.
 */
SHD_EXPORT void shd_enter_lazy_tlb(struct shd_cpu *cpu);

/* The mm CPU has loaded (lazily or not), or NULL for init_mm. Own thread. */
SHD_EXPORT struct shd_mm *shd_cpu_active_mm(const struct shd_cpu *cpu);

#ifdef __cplusplus
}
#endif
#endif
