/* SPDX-License-Identifier: MIT */
/* shootdown kmap/kunmap (mm/highmem.c). */
#ifndef SHOOTDOWN_HIGHMEM_H
#define SHOOTDOWN_HIGHMEM_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_file;

/*
 * kmap(): map page PGOFF of F at a kernel address of one of CPU's kmap
 * slots, into *KVA, for the kernel's loads and stores (shd_load/shd_store
 * on CPU).  On a profile that colours kernel addresses (sparc64), while
 * users map the file, the address has the colour of user address
 * COLOUR_VA (0: no preference), so
 * a user mapping there shares the kernel's lines and the flush a different
 * colour would need is avoided (dcache_flushes_avoided); otherwise it has
 * the colour of the page's linear map.  kunmap(): unmap it (the cache
 * flushed first where that needs the translation, then
 * flush_tlb_kernel_range()).  A page-cache page written through a kmap
 * still needs flush_dcache_page() for its other aliases.  0, -EINVAL,
 * -ENOMEM, -ENOSPC (all 8 slots of that colour in use).
 */
SHD_EXPORT int shd_kmap(struct shd_cpu *cpu, struct shd_file *f, uint64_t pgoff,
			uint64_t colour_va, uint64_t *kva);
SHD_EXPORT int shd_kunmap(struct shd_cpu *cpu, uint64_t kva);


#ifdef __cplusplus
}
#endif
#endif
