/* SPDX-License-Identifier: MIT */
/* shootdown architecture profiles: the caches a machine has, as data. */
#ifndef SHOOTDOWN_ARCH_H
#define SHOOTDOWN_ARCH_H

#include <stdbool.h>
#include <stddef.h>
#include <shootdown/export.h>
#include <shootdown/policy.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * What the caches of a profile are (docs/caches.md has the model):
 *
 *   alias_dcache  per-CPU virtually indexed, physically tagged, write-through
 *                 D-cache whose way is larger than a page: a physical line
 *                 can sit at several colours.  Coherent across CPUs (a store
 *                 invalidates the line on every other CPU, at every colour);
 *                 not within a CPU (a store at one colour leaves that CPU's
 *                 lines at other colours stale).  false: PIPT and coherent,
 *                 not simulated (costs nothing).
 *   dcache_sets, dcache_ways, line
 *                 its geometry (sets x line bytes a way: the colours are
 *                 way size / page size)
 *   deferred_dcache
 *                 flush_dcache_page() on a page-cache page no user maps only
 *                 marks it (PG_arch_1) and records the CPU; update_mmu_cache()
 *                 flushes it on that CPU (sparc64)
 */
struct shd_arch {
	char name[16];
	bool alias_dcache;
	unsigned dcache_sets, dcache_ways, line;
	bool deferred_dcache;
};

/* Fill *out with the profile NAME.  0, or -ENOENT. */
SHD_EXPORT int shd_arch_preset(const char *name, struct shd_arch *out);

/* The profiles, for listings.  *count is set. */
SHD_EXPORT const struct shd_named *shd_arch_presets(size_t *count);

#ifdef __cplusplus
}
#endif
#endif
