/* SPDX-License-Identifier: MIT */
/* Architecture profiles as data (docs/caches.md). */
#include <errno.h>
#include <string.h>

#include <shootdown/arch.h>
#include <shootdown/error.h>
#include "../runtime/errors.h"

/*
 * x86: PIPT, coherent, snooping I-cache: every cache interface is a no-op.
 * sparc64: UltraSPARC's write-through VIPT L1 D-cache (here 64 KiB, 4-way,
 * 64-byte lines: a 16 KiB way, so 4 colours at 4 KiB pages and 2 at sparc64's
 * 8 KiB), coherent across CPUs, aliasing within one; flush_dcache_page
 * deferred with PG_arch_1 and the dirtying CPU.
 */
static const struct shd_arch arches[] = {
	{ "x86", .alias_dcache = false },
	{ "sparc64", .alias_dcache = true, .dcache_sets = 256, .dcache_ways = 4,
	  .line = 64, .deferred_dcache = true },
};

#define NARCHES (sizeof(arches) / sizeof(arches[0]))

static const struct shd_named arch_names[] = {
	{ "x86", "PIPT coherent D-cache, snooping I-cache: every cache "
	  "interface is a no-op (the default)" },
	{ "sparc64", "write-through VIPT D-cache, 64 KiB 4-way (4 colours at "
	  "4 KiB pages): aliases within a CPU; flush_dcache_page deferred to "
	  "update_mmu_cache on the dirtying CPU" },
};
_Static_assert(sizeof(arch_names) / sizeof(arch_names[0]) == NARCHES,
	       "one description per profile");

int shd_arch_preset(const char *name, struct shd_arch *out)
{
	if (!out)
		return shd__fail(-EINVAL, "shd_arch_preset: no profile to fill");
	for (size_t i = 0; name && i < NARCHES; i++) {
		if (strcmp(name, arches[i].name) == 0) {
			*out = arches[i];
			return 0;
		}
	}
	return shd__fail(-ENOENT, "unknown architecture '%s' (see 'shootdown "
			 "list')", name ? name : "(null)");
}

const struct shd_named *shd_arch_presets(size_t *count)
{
	if (count)
		*count = NARCHES;
	return arch_names;
}
