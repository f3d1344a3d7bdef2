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
 *   colour_kmap   clear_user_page()/copy_user_page() write through a kernel
 *                 address of the user address's colour, so no D-cache flush
 *                 follows (the aliasing email's scheme); false: through the
 *                 linear map, then a flush of the page
 *   icache_nosnoop
 *                 per-CPU physically indexed I-cache that does not see
 *                 stores: instructions written by the kernel are fetched
 *                 only after an explicit invalidation (arm64 without DIC).
 *                 PG_arch_1 then means "D and I clean" (PG_dcache_clean):
 *                 flush_dcache_page() clears it, mapping the page
 *                 executable (set_pte_at) syncs the I-cache if it is clear.
 *                 false: the I-cache snoops, not simulated.
 *   icache_sets, icache_ways
 *                 its geometry, with `line`-byte lines
 *   flush_needs_mapping
 *                 flush_cache_{mm,range,page} work by virtual address and
 *                 need the translation (HyperSparc): the mm's paths flush
 *                 the cache, then change the PTEs, then flush the TLB, and
 *                 the oracle reports a PTE changed before its cache flush
 *   dma_noncoherent
 *                 device I/O does not snoop the D-cache: a driver reading a
 *                 buffer through a vmap alias after a device wrote it must
 *                 invalidate_kernel_vmap_range() first
 *
 * and how its TLBs are kept coherent:
 *
 *   tlb           the TLB engine: x86 (IPIs to the CPUs mm_cpumask and the
 *                 policy pick, flush_tlb_func() on each; arch/x86/mm/tlb.c)
 *                 or arm64 (no IPI: TLBI ...IS broadcast by the hardware to
 *                 every CPU, complete at the initiator's DSB ISH; one ASID
 *                 per mm on every CPU, allocated by generation with
 *                 rollover; arch/arm64/include/asm/tlbflush.h,
 *                 arch/arm64/mm/context.c)
 *                 or riscv (remote sfence.vma by IPI or SBI call to the
 *                 CPUs of mm_cpumask, which only grows; ranges above a
 *                 threshold flushed whole; ASIDs as arm64's;
 *                 arch/riscv/mm/tlbflush.c, context.c)
 *                 or sparc64 (no flush_tlb_range: each PTE change queues
 *                 its address in this CPU's tlb_batch, flushed when full,
 *                 at lazy MMU mode's end or at once outside it, by cross-
 *                 calls to the CPUs of mm_cpumask, which only grows;
 *                 context numbers by version with wrap; arch/sparc/mm/
 *                 tlb.c, init_64.c, arch/sparc/kernel/smp_64.c)
 *                 or hypersparc (sun4m SMP: if any other CPU is in
 *                 mm_cpumask, which only grows, a cross-call to every
 *                 online CPU; contexts from a free list or stolen, oldest
 *                 first; arch/sparc/mm/srmmu.c, kernel/sun4m_smp.c)
 *   asid_bits     arm64 and riscv: ASID width (ID_AA64MMFR0_EL1.ASIDBits: 8
 *                 or 16 on real cores; riscv's satp.ASID: up to 16 on RV64;
 *                 3..16 here, small widths roll over often)
 *   nctx          hypersparc: SRMMU contexts (the PROM's mmu-nctx; 4096
 *                 here by default; more than the CPUs, 8..65536)
 *   ctx_bits      sparc64: context number width (CTX_NR_BITS: 13 on every
 *                 UltraSPARC; 2..13 here, small widths wrap often)
 *   sme_erratum   arm64's engine with the workaround for Arm C1-Pro
 *                 erratum 4193714 (0baba94a9779, 2026): the DVMSync is
 *                 acknowledged before SME accesses complete, so after the
 *                 DSB of a user flush the initiator IPIs (empty handler,
 *                 waited for) the CPUs of mm_cpumask, which then holds
 *                 the CPUs running the mm; a reclaim batch ORs the masks
 *                 (after a DSB a page) and IPIs their union at its flush
 */
struct shd_arch {
	char name[64];		/* as given, options included */
	bool alias_dcache;
	unsigned dcache_sets, dcache_ways, line;
	bool deferred_dcache;
	bool colour_kmap;
	bool icache_nosnoop;
	unsigned icache_sets, icache_ways;
	bool flush_needs_mapping;
	bool dma_noncoherent;
	unsigned tlb;		/* enum shd_tlb_engine */
	unsigned asid_bits;
	bool sme_erratum;
	unsigned ctx_bits;
	unsigned nctx;
};

enum shd_tlb_engine { SHD_TLB_X86, SHD_TLB_ARM64, SHD_TLB_RISCV,
		      SHD_TLB_SPARC64, SHD_TLB_HYPERSPARC };

/*
 * Fill *out with the profile NAME, optionally followed by options:
 * "sparc64,colour=off" (the kernel's page clears and copies go through the
 * linear map and flush, instead of a colour-matched kmap), and the
 * simulated cache's geometry, "sets=N", "ways=N", "line=N" (the D-cache
 * where it aliases, else arm64's I-cache; e.g. "sparc64,sets=512,ways=1":
 * 8 colours), and the TLB engine, "tlb=x86" (arm64's caches with x86's
 * IPI flushing, for comparison) or "tlb=arm64" (arm64 only), "asid_bits=N"
 * (the arm64 and riscv engines' ASID width), "sme_erratum" (arm64's
 * engine with C1-Pro erratum 4193714's IPIs), "tlb=sparc64" and
 * "ctx_bits=N" (sparc64's engine and its context width), "tlb=hypersparc"
 * and "nctx=N" (hypersparc's engine and its contexts).  The values are
 * checked by shd_machine_create().  0, -ENOENT (no such profile),
 * -EINVAL (a bad option, or one the profile has no use for).
 */
SHD_EXPORT int shd_arch_preset(const char *name, struct shd_arch *out);

/* The profiles, for listings.  *count is set. */
SHD_EXPORT const struct shd_named *shd_arch_presets(size_t *count);

#ifdef __cplusplus
}
#endif
#endif
