/* SPDX-License-Identifier: MIT */
/* Architecture profiles as data (docs/caches.md). */
#include <errno.h>
#include <string.h>

#include <shootdown/arch.h>
#include <shootdown/error.h>
#include "../common/error.h"

/*
 * x86: PIPT, coherent, snooping I-cache: every cache interface is a no-op.
 * sparc64: UltraSPARC's write-through VIPT L1 D-cache (here 64 KiB, 4-way,
 * 64-byte lines: a 16 KiB way, so 4 colours at 4 KiB pages and 2 at sparc64's
 * 8 KiB), coherent across CPUs, aliasing within one; flush_dcache_page
 * deferred with PG_arch_1 and the dirtying CPU.
 * arm64: PIPT coherent D-cache, I-cache that does not snoop (no DIC): the
 * kernel cleans D and invalidates I when it maps a page executable whose
 * PG_dcache_clean is clear, when ptrace pokes an executable mapping and in
 * flush_icache_range().
 * riscv: an RV64 machine whose caches we leave out: PIPT coherent D-cache,
 * and the I-cache treated as snooping (riscv's fence.i protocol,
 * flush_icache_mm() and its icache_stale_mask, is not modelled); TLBs kept
 * by remote fences, IPIs or SBI (Linux 6.12 arch/riscv/mm/tlbflush.c),
 * 16-bit ASIDs by generation.
 * hypersparc: a sun4m HyperSparc: its virtually indexed cache is flushed by
 * virtual address through the MMU, so flush_cache_* must run while the
 * translation still exists (cachetlb.rst's "cache flush first" rule), on
 * every CPU of the mm (cross-calls); DMA does not snoop it.  Modelled
 * write-through, like sparc64's D-cache, and without a deferred
 * flush_dcache_page (sun4m flushes at once).
 */
static const struct shd_arch arches[] = {
	{ "x86", .alias_dcache = false },
	/* ... and sparc64's TLB engine: tlb_batch, cross-calls, 13-bit
	 * context numbers (CTX_NR_BITS) */
	{ "sparc64", .alias_dcache = true, .dcache_sets = 256, .dcache_ways = 4,
	  .line = 64, .deferred_dcache = true, .colour_kmap = true,
	  .tlb = SHD_TLB_SPARC64, .ctx_bits = 13 },
	/* A Neoverse-N1-like 64 KiB 4-way PIPT I-cache, CTR_EL0.DIC = 0;
	 * broadcast TLBI, 16-bit ASIDs */
	{ "arm64", .line = 64, .icache_nosnoop = true, .icache_sets = 256,
	  .icache_ways = 4, .tlb = SHD_TLB_ARM64, .asid_bits = 16 },
	/* RV64: SATP_ASID_BITS 16 */
	{ "riscv", .tlb = SHD_TLB_RISCV, .asid_bits = 16 },
	/* A 64 KiB direct-mapped, 32-byte-line cache (16 colours at 4 KiB) */
	{ "hypersparc", .alias_dcache = true, .dcache_sets = 2048,
	  .dcache_ways = 1, .line = 32, .flush_needs_mapping = true,
	  .dma_noncoherent = true, .tlb = SHD_TLB_HYPERSPARC, .nctx = 4096 },
};

#define NARCHES (sizeof(arches) / sizeof(arches[0]))

static const struct shd_named arch_names[] = {
	{ "x86", "PIPT coherent D-cache, snooping I-cache: every cache "
	  "interface is a no-op (the default)" },
	{ "sparc64", "write-through VIPT D-cache, 64 KiB 4-way (4 colours at "
	  "4 KiB pages): aliases within a CPU; flush_dcache_page deferred to "
	  "update_mmu_cache on the dirtying CPU; ',colour=off': page clears "
	  "and copies through the linear map, then a flush; TLBs kept by "
	  "tlb_batch (up to 192 addresses a flush, queued at each PTE change) "
	  "and cross-calls to mm_cpumask, which never shrinks, 13-bit context "
	  "numbers by version (Linux 6.12 arch/sparc); ',tlb=x86': x86's "
	  "engine instead; ',ctx_bits=N' (2..13)" },
	{ "arm64", "PIPT coherent D-cache, 64 KiB 4-way I-cache that does not "
	  "snoop stores: set_pte_at of an executable page, ptrace pokes and "
	  "flush_icache_range invalidate it on every CPU; TLBs kept by "
	  "broadcast TLBI IS + DSB ISH, no IPIs, 16-bit ASIDs by generation "
	  "(Linux 6.18 arch/arm64); ',tlb=x86': x86's IPI engine instead; "
	  "',asid_bits=N' (3..16); ',sme_erratum': C1-Pro erratum 4193714's "
	  "IPIs to the mm's CPUs after each user flush's DSB (0baba94a9779)" },
	{ "riscv", "RV64, caches not simulated (the I-cache taken as "
	  "snooping: fence.i is not modelled); TLBs kept by remote "
	  "sfence.vma through IPIs or SBI to mm_cpumask, which never shrinks, "
	  "ranges above 64 pages flushed whole, 16-bit ASIDs by generation "
	  "(Linux 6.12 arch/riscv); ',tlb=x86': x86's engine instead; "
	  "',asid_bits=N' (3..16)" },
	{ "hypersparc", "VIPT D-cache, 64 KiB direct-mapped (16 colours): "
	  "flush_cache_* need the translation (cache flush, then PTE change, "
	  "then TLB flush: checked), cross-called to the mm's CPUs; DMA does "
	  "not snoop (invalidate_kernel_vmap_range after I/O); TLBs kept by "
	  "sun4m cross-calls to every CPU when another is in mm_cpumask, "
	  "SRMMU contexts stolen oldest first (Linux 6.12 arch/sparc/mm/"
	  "srmmu.c); ',tlb=x86': x86's engine instead; ',nctx=N' (8..65536)" },
};
_Static_assert(sizeof(arch_names) / sizeof(arch_names[0]) == NARCHES,
	       "one description per profile");

/* "KEY=N" with N a decimal number up to 2^31: N, or -1. */
static long option_number(const char *opt, size_t len, const char *key)
{
	size_t k = strlen(key);
	long n = 0;

	if (len <= k + 1 || strncmp(opt, key, k) || opt[k] != '=')
		return -1;
	for (size_t i = k + 1; i < len; i++) {
		if (opt[i] < '0' || opt[i] > '9' || n > (1l << 31) / 10)
			return -1;
		n = n * 10 + (opt[i] - '0');
	}
	return n;
}

static int arch_option(struct shd_arch *a, const char *opt, size_t len,
		       const struct shd_arch *base)
{
	long n;

	/* The TLB engine: a profile's own, or x86's IPIs for comparison. */
	if (len == 7 && !strncmp(opt, "tlb=x86", len)) {
		a->tlb = SHD_TLB_X86;
		return 0;
	}
	if (len == 9 && !strncmp(opt, "tlb=arm64", len) &&
	    base->tlb == SHD_TLB_ARM64) {
		a->tlb = SHD_TLB_ARM64;
		return 0;
	}
	if (len == 11 && !strncmp(opt, "sme_erratum", len) &&
	    base->tlb == SHD_TLB_ARM64) {
		a->sme_erratum = true;
		return 0;
	}
	if (len == 9 && !strncmp(opt, "tlb=riscv", len) &&
	    base->tlb == SHD_TLB_RISCV) {
		a->tlb = SHD_TLB_RISCV;
		return 0;
	}
	if (len == 11 && !strncmp(opt, "tlb=sparc64", len) &&
	    base->tlb == SHD_TLB_SPARC64) {
		a->tlb = SHD_TLB_SPARC64;
		return 0;
	}
	if (len == 14 && !strncmp(opt, "tlb=hypersparc", len) &&
	    base->tlb == SHD_TLB_HYPERSPARC) {
		a->tlb = SHD_TLB_HYPERSPARC;
		return 0;
	}
	if ((n = option_number(opt, len, "nctx")) >= 0 &&
	    base->tlb == SHD_TLB_HYPERSPARC) {
		if (n < 8 || n > 65536)
			return shd__fail(-EINVAL, "architecture %s: nctx=%ld "
					 "is not in 8..65536", a->name, n);
		a->nctx = (unsigned)n;
		return 0;
	}
	if ((n = option_number(opt, len, "ctx_bits")) >= 0 &&
	    base->tlb == SHD_TLB_SPARC64) {
		if (n < 2 || n > 13)
			return shd__fail(-EINVAL, "architecture %s: ctx_bits=%ld "
					 "is not in 2..13", a->name, n);
		a->ctx_bits = (unsigned)n;
		return 0;
	}
	if ((n = option_number(opt, len, "asid_bits")) >= 0 &&
	    (base->tlb == SHD_TLB_ARM64 || base->tlb == SHD_TLB_RISCV)) {
		if (n < 3 || n > 16)
			return shd__fail(-EINVAL, "architecture %s: asid_bits=%ld "
					 "is not in 3..16", a->name, n);
		a->asid_bits = (unsigned)n;
		return 0;
	}
	if (len == 10 && !strncmp(opt, "colour=off", len) && a->alias_dcache) {
		a->colour_kmap = false;
		return 0;
	}
	if (len == 9 && !strncmp(opt, "colour=on", len) && a->alias_dcache) {
		a->colour_kmap = true;
		return 0;
	}
	/* Geometry: the simulated cache's (the D-cache where it aliases,
	 * else the I-cache); shd_machine_create() checks the values. */
	if ((n = option_number(opt, len, "sets")) >= 0 &&
	    (a->alias_dcache || a->icache_nosnoop)) {
		*(a->alias_dcache ? &a->dcache_sets : &a->icache_sets) = (unsigned)n;
		return 0;
	}
	if ((n = option_number(opt, len, "ways")) >= 0 &&
	    (a->alias_dcache || a->icache_nosnoop)) {
		*(a->alias_dcache ? &a->dcache_ways : &a->icache_ways) = (unsigned)n;
		return 0;
	}
	if ((n = option_number(opt, len, "line")) >= 0 &&
	    (a->alias_dcache || a->icache_nosnoop)) {
		a->line = (unsigned)n;
		return 0;
	}
	return shd__fail(-EINVAL, "architecture %s has no option '%.*s' "
			 "(%s)", a->name, (int)len, opt,
			 base->tlb == SHD_TLB_SPARC64 ?
			 "it takes colour=on|off, sets=N, ways=N, line=N, "
			 "tlb=x86|sparc64, ctx_bits=N" :
			 base->tlb == SHD_TLB_HYPERSPARC ?
			 "it takes colour=on|off, sets=N, ways=N, line=N, "
			 "tlb=x86|hypersparc, nctx=N" : a->alias_dcache ?
			 "it takes colour=on|off, sets=N, ways=N, line=N, tlb=x86" :
			 a->icache_nosnoop ? "it takes sets=N, ways=N, line=N "
			 "(its I-cache), tlb=x86|arm64, asid_bits=N, sme_erratum" :
			 base->tlb == SHD_TLB_RISCV ?
			 "it takes tlb=x86|riscv, asid_bits=N" :
			 "it takes tlb=x86");
}

int shd_arch_preset(const char *name, struct shd_arch *out)
{
	const char *comma;
	size_t len;

	if (!out)
		return shd__fail(-EINVAL, "shd_arch_preset: no profile to fill");
	if (!name)
		return shd__fail(-ENOENT, "unknown architecture '(null)'");
	comma = strchr(name, ',');
	len = comma ? (size_t)(comma - name) : strlen(name);
	for (size_t i = 0; i < NARCHES; i++) {
		if (strlen(arches[i].name) != len ||
		    strncmp(name, arches[i].name, len))
			continue;
		struct shd_arch a = arches[i];

		for (const char *o = comma; o; o = strchr(o + 1, ',')) {
			const char *end = strchr(o + 1, ',');
			int err = arch_option(&a, o + 1, end ? (size_t)(end - o - 1)
					      : strlen(o + 1), &arches[i]);

			if (err)
				return err;
		}
		if (strlen(name) >= sizeof(a.name))
			return shd__fail(-EINVAL, "architecture '%.20s...' is "
					 "longer than %zu characters", name,
					 sizeof(a.name) - 1);
		memcpy(a.name, name, strlen(name) + 1);
		*out = a;
		return 0;
	}
	return shd__fail(-ENOENT, "unknown architecture '%.*s' (see "
			 "'shootdown list')", (int)len, name);
}

const struct shd_named *shd_arch_presets(size_t *count)
{
	if (count)
		*count = NARCHES;
	return arch_names;
}
