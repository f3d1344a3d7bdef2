/* SPDX-License-Identifier: MIT */
/* shootdown kernel vmap/vunmap (mm/vmalloc.c). */
#ifndef SHOOTDOWN_VMALLOC_H
#define SHOOTDOWN_VMALLOC_H

#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/mm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;

/*
 * Kernel vmap()/vunmap() of fresh zeroed pages at a fixed address in the
 * vmap area (global translations, read-write-execute as module_alloc()'s
 * were before strict kernel RWX: code written there runs after
 * flush_icache_range()).  vunmap() ends in flush_tlb_kernel_range().
 * 0, -EINVAL, -EEXIST, -ENOMEM.
 */
SHD_EXPORT int shd_vmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len);
SHD_EXPORT int shd_vunmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len);

#ifdef __cplusplus
}
#endif
#endif
