/* SPDX-License-Identifier: MIT */
/* shootdown TLB flushing interfaces (Documentation/core-api/cachetlb.rst). */
#ifndef SHOOTDOWN_TLBFLUSH_H
#define SHOOTDOWN_TLBFLUSH_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;

/*
 * The contract of every call here: when it returns, no CPU holds a
 * translation that a page-table change made before the call invalidated, for
 * the range the call names.  The machine's policy decides how (which CPUs get
 * an IPI, whether they flush pages or everything); the oracle checks that the
 * contract held.  All calls run on CPU's own thread, never from inside an IPI
 * handler, and wait for every acknowledgement.  They return 0, -EINVAL (bad
 * range: start > end, unaligned, outside the space), or -ETIMEDOUT when a CPU
 * failed to acknowledge within the watchdog bound (the report names it).
 */

/* Every translation on every CPU, user and kernel (global) alike. */
SHD_EXPORT int shd_flush_tlb_all(struct shd_cpu *cpu);

/* Every user translation of MM, everywhere (after fork COW, exit). */
SHD_EXPORT int shd_flush_tlb_mm(struct shd_cpu *cpu, struct shd_mm *mm);

/* Translations of MM in [start, end), page aligned.  Over the policy's
 * ceiling (in pages) this becomes a full flush of MM. */
SHD_EXPORT int shd_flush_tlb_range(struct shd_cpu *cpu, struct shd_mm *mm,
				   uint64_t start, uint64_t end);

/* The translation of one page of MM. */
SHD_EXPORT int shd_flush_tlb_page(struct shd_cpu *cpu, struct shd_mm *mm,
				  uint64_t addr);

/* Kernel (global) translations in [start, end) of the vmap area.  Lazy CPUs
 * are not skipped: kernel mappings are live in every context. */
SHD_EXPORT int shd_flush_tlb_kernel_range(struct shd_cpu *cpu, uint64_t start,
					  uint64_t end);

/*
 * Called at the end of a page fault once the PTE for ADDR is set (the fault
 * path in shd_load/shd_store calls it).  On x86 there is nothing to do; an
 * arch with a software-loaded TLB preloads the translation here.  0, -EINVAL.
 */
SHD_EXPORT int shd_update_mmu_cache(struct shd_cpu *cpu, struct shd_mm *mm,
				    uint64_t addr);


#ifdef __cplusplus
}
#endif
#endif
