/* SPDX-License-Identifier: MIT */
/* shootdown cache flushing interfaces (Documentation/core-api/cachetlb.rst). */
#ifndef SHOOTDOWN_CACHEFLUSH_H
#define SHOOTDOWN_CACHEFLUSH_H

#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/mm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;
struct shd_file;

/*
 * Each call does what the machine's architecture profile (shd_config.arch,
 * docs/caches.md) needs and nothing more: on `x86` every one is a no-op.
 * All run on CPU's own thread, never from inside an IPI handler (else
 * -EPERM).  They return 0, -EINVAL (bad arguments: the message says
 * which), -ENOMEM, or -ETIMEDOUT when a CPU asked to flush did not answer.
 * Ranges of user or vmap pages are page aligned unless said otherwise; an
 * empty one is a no-op.
 *
 * What the profiles do today:
 *   sparc64  flush_dcache_page (deferred), copy_to_user_page /
 *            copy_from_user_page (the ptrace calls in ptrace.h); the rest are
 *            no-ops, as in Linux (its D-cache is write-through and DMA is
 *            coherent; the flush_cache_* calls only spill register windows)
 *   arm64    flush_dcache_page (clears PG_dcache_clean), copy_to_user_page
 *            into an executable mapping, flush_icache_range; the rest are
 *            no-ops, as in Linux (PIPT D-cache; set_pte_at syncs the I-cache)
 *   hypersparc
 *            flush_cache_{mm,dup_mm,range,page,vmap,vunmap}: the mapped
 *            pages on every CPU of the mm (the kernel's: all), while the
 *            translations exist (the mm's own paths call them before they
 *            change PTEs, and the oracle checks the order);
 *            flush_cache_kmaps: the whole cache everywhere;
 *            invalidate_kernel_vmap_range; flush_dcache_page at once
 */

/*
 * flush_cache_mm(): MM is about to be torn down (exit, exec): no cache may
 * keep lines of its user addresses.  flush_cache_dup_mm(): MM is being
 * forked.  flush_cache_range(): the PTEs of [start, end) of MM are about to
 * change.  flush_cache_page(): ADDR's PTE is about to change; the PTE is
 * still there (an architecture may need the translation to flush).  Called
 * before the page-table change, and before the TLB flush.
 */
SHD_EXPORT int shd_flush_cache_mm(struct shd_cpu *cpu, struct shd_mm *mm);
SHD_EXPORT int shd_flush_cache_dup_mm(struct shd_cpu *cpu, struct shd_mm *mm);
SHD_EXPORT int shd_flush_cache_range(struct shd_cpu *cpu, struct shd_mm *mm,
				     uint64_t start, uint64_t end);
SHD_EXPORT int shd_flush_cache_page(struct shd_cpu *cpu, struct shd_mm *mm,
				    uint64_t addr);

/*
 * flush_cache_vmap() / flush_cache_vunmap(): the kernel just mapped / is
 * about to unmap [start, end) of the vmap area; flush_cache_kmaps(): the
 * kmap area's mappings change (all of them).  Page aligned.
 */
SHD_EXPORT int shd_flush_cache_vmap(struct shd_cpu *cpu, uint64_t start,
				    uint64_t end);
SHD_EXPORT int shd_flush_cache_vunmap(struct shd_cpu *cpu, uint64_t start,
				      uint64_t end);
SHD_EXPORT int shd_flush_cache_kmaps(struct shd_cpu *cpu);

/*
 * flush_dcache_page(): the kernel wrote page PGOFF of F through its kernel
 * address (or is about to read it while user mappings may have written),
 * and user mappings at other colours must see it.  sparc64: if no user maps
 * the file, only mark the page (PG_arch_1) with this CPU, first flushing on
 * a CPU that marked it before; update_mmu_cache() flushes on the marked
 * CPU when a user maps it; otherwise flush this CPU's lines of the page
 * now.  arm64: clear PG_dcache_clean, so the next executable mapping syncs
 * the I-cache.  flush_dcache_folio(): the same for NR pages from PGOFF.
 */
SHD_EXPORT int shd_flush_dcache_page(struct shd_cpu *cpu, struct shd_file *f,
				     uint64_t pgoff);
SHD_EXPORT int shd_flush_dcache_folio(struct shd_cpu *cpu, struct shd_file *f,
				      uint64_t pgoff, uint64_t nr);

/*
 * flush_anon_page(): the kernel is about to read the anonymous page mapped
 * at ADDR of MM through its kernel address (get_user_pages()): the user
 * alias's lines must reach memory first.  No profile here needs it (none
 * has dirty lines, and Linux defines it only for VIVT arm and parisc).
 */
SHD_EXPORT int shd_flush_anon_page(struct shd_cpu *cpu, struct shd_mm *mm,
				   uint64_t addr);

/*
 * flush_icache_range(): the kernel wrote instructions to [start, end) of the
 * vmap area (a module load; any bytes, as a kprobe's one instruction: the
 * pages they are in): when it returns, every CPU fetches them.
 * arm64: clean D and invalidate I for each page (broadcast), then interrupt
 * every other CPU (kick_all_cpus_sync()).  flush_icache_page(): the page at
 * ADDR of MM is about to be mapped executable; a no-op here (arm64 syncs in
 * set_pte_at()).
 */
SHD_EXPORT int shd_flush_icache_range(struct shd_cpu *cpu, uint64_t start,
				      uint64_t end);
SHD_EXPORT int shd_flush_icache_page(struct shd_cpu *cpu, struct shd_mm *mm,
				     uint64_t addr);

/*
 * flush_kernel_vmap_range(): before I/O reads memory under the vmap alias
 * [addr, addr + len) (any bytes: the pages they are in), write that
 * alias's dirty lines back (no profile here
 * has dirty lines: write-through or coherent).
 * invalidate_kernel_vmap_range(): after I/O wrote memory there, drop this
 * CPU's lines of it so its reads see the device's data (hypersparc, whose
 * DMA does not snoop; elsewhere a no-op).
 */
SHD_EXPORT int shd_flush_kernel_vmap_range(struct shd_cpu *cpu, uint64_t addr,
					   uint64_t len);
SHD_EXPORT int shd_invalidate_kernel_vmap_range(struct shd_cpu *cpu,
						uint64_t addr, uint64_t len);

/*
 * A device's DMA of the 8 bytes behind kernel vmap address KVA (8-byte
 * aligned, mapped): it reads or writes memory, not a cache.  Where the bus
 * snoops (every profile but hypersparc) a write drops the line from every
 * D-cache; where it does not, a CPU that cached the buffer keeps the old
 * bytes until invalidate_kernel_vmap_range().  0, -EINVAL, -EFAULT.
 */
SHD_EXPORT int shd_dma_write(struct shd_cpu *cpu, uint64_t kva, uint64_t val);
SHD_EXPORT int shd_dma_read(struct shd_cpu *cpu, uint64_t kva, uint64_t *val);

#ifdef __cplusplus
}
#endif
#endif
