/* SPDX-License-Identifier: MIT */
/* Virtually indexed D-caches with aliasing (sparc64, hypersparc), and the stale-data oracle. */
#ifndef SHD_RUNTIME_CACHE_H
#define SHD_RUNTIME_CACHE_H

#include "types.h"

/* All no-ops or absent when the profile's D-cache is coherent (m->cache
 * NULL).  docs/caches.md describes the model. */
int shd__cache_machine_init(struct shd_machine *m);
void shd__cache_machine_free(struct shd_machine *m);
int shd__dcache_init(struct shd_cpu *cpu);
void shd__dcache_free(struct shd_cpu *cpu);
/* The colour of virtual address VA (0 where the D-cache does not alias). */
unsigned shd__cache_colour(const struct shd_machine *m, uint64_t va);

/* An 8-byte load or store at PA through virtual address VA: through CPU's
 * D-cache when it aliases, else straight to memory.  The kernel's own
 * accesses use the linear map: VA = SHD_PAGE_OFFSET + PA. */
void shd__mem_access(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
		     bool write, uint64_t *val);
/* A device's 8-byte DMA write at PA: memory, and on a bus that snoops,
 * every CPU's lines of it. */
void shd__dcache_device_store(struct shd_machine *m, uint64_t pa, uint64_t val);
#define SHD_STORE_DEVICE 0xffffu	/* frame.store_cpu: the last store was DMA */

/* Invalidate CPU's own lines of frame PFN, every colour; how many. */
unsigned shd__dcache_flush_page(struct shd_cpu *cpu, uint64_t pfn);
/* Drop CPU's lines of frame PFN at the colour of virtual page VA (a
 * flush by virtual address); how many. */
unsigned shd__dcache_flush_va_page(struct shd_cpu *cpu, uint64_t va,
				   uint64_t pfn);
/* Drop every line of CPU's D-cache (a flush of the whole cache). */
unsigned shd__dcache_flush_all(struct shd_cpu *cpu);

/* flush_dcache_page() of frame PFN, page-cache page of F (NULL: not one),
 * per profile: sparc64 defers it while no user maps F. */
int shd__flush_dcache_page(struct shd_cpu *cpu, uint64_t pfn,
			   struct shd_file *f);
/* update_mmu_cache()'s half: a deferred flush of PFN, on its CPU. */
int shd__dcache_update_mmu(struct shd_cpu *cpu, uint64_t pfn);

/* A fresh page-cache or vmalloc page, zeroed behind the caches. */
void shd__frame_zero(struct shd_machine *m, uint64_t pfn);
/* clear_user_page() / copy_user_page() of frame DST (from SRC, or zeroes
 * when SRC is UINT64_MAX) for user address UVA, on CPU. */
void shd__user_page_fill(struct shd_cpu *cpu, uint64_t dst, uint64_t src,
			 uint64_t uva);

#endif
