/* SPDX-License-Identifier: MIT */
/* shootdown simulated accesses: loads, stores and fetches through the TLB, page faults (mm/memory.c). */
#ifndef SHOOTDOWN_MEMORY_H
#define SHOOTDOWN_MEMORY_H

#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/mm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;

/*
 * Simulated 64-bit accesses at an 8-byte aligned address of the current mm
 * (or the kernel's vmap area), through CPU's TLB: a hit uses the cached
 * translation, a miss walks the page table, a not-present page faults in a
 * zeroed frame (for a load, the shared zero page, read-only, as Linux
 * does; for a file mapping, the file's page) and ends with
 * update_mmu_cache(); a store to a copy-on-write page (the zero page
 * included) copies it and flushes the old translation
 * with flush_tlb_page() (ptep_clear_flush()).  0, -EINVAL (unaligned or
 * non-canonical), -EFAULT (no mapping: SIGSEGV), -EACCES (protection),
 * -ENOMEM (out of frames), -EPERM (a user access while CPU is in lazy TLB
 * mode: switch_mm first).  shd_fetch() is an instruction fetch: it needs
 * PROT_EXEC and goes through the instruction TLB when the TLB is split.
 * Only on CPU's own thread.
 */
SHD_EXPORT int shd_load(struct shd_cpu *cpu, uint64_t addr, uint64_t *val);
SHD_EXPORT int shd_store(struct shd_cpu *cpu, uint64_t addr, uint64_t val);
SHD_EXPORT int shd_fetch(struct shd_cpu *cpu, uint64_t addr, uint64_t *val);

#ifdef __cplusplus
}
#endif
#endif
