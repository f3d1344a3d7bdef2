/* SPDX-License-Identifier: MIT */
/* The cache flushing interfaces; for the mm's own paths, hypersparc's cache-first order. */
#ifndef SHD_RUNTIME_CACHEFLUSH_H
#define SHD_RUNTIME_CACHEFLUSH_H

#include "types.h"

/* The mm paths' cache flush before (first) and after (done) their PTE
 * change and TLB flush: one of them flushes, the other does nothing,
 * unless the tlb_before_cache fault moves the flush after.  Under MM's
 * lock; 0 or -ETIMEDOUT. */
int shd__flush_cache_first(struct shd_cpu *cpu, struct shd_mm *mm,
			   uint64_t s, uint64_t e);
int shd__flush_cache_done(struct shd_cpu *cpu, struct shd_mm *mm,
			  uint64_t s, uint64_t e);
/* A present PTE of MM at VPN is about to change (under the mm lock): on
 * hypersparc, report it unless the CPU's last cache flush covered it.
 * IFACE is the flush that must have come first. */
void shd__cache_order_check(struct shd_mm *mm, uint64_t vpn, const char *iface);

#endif
