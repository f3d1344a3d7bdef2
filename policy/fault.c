/* SPDX-License-Identifier: MIT */
/* Injectable faults: their names, and where each can fire. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <shootdown/fault.h>
#include "../common/error.h"

static const struct shd_named faults[SHD_FAULT__COUNT] = {
#define SHD_FAULT_NAME_(e, name, help) [SHD_FAULT_##e] = { #name, help },
	SHD_FAULTS_MAP(SHD_FAULT_NAME_)
#undef SHD_FAULT_NAME_
};

const struct shd_named *shd_faults(size_t *count)
{
	if (count)
		*count = SHD_FAULT__COUNT;
	return faults;
}

/* The TLB engines whose steps fault F breaks, a bit each (1 << tlb). */
#define ON_X86 (1u << SHD_TLB_X86)
#define ON_ARM64 (1u << SHD_TLB_ARM64)
#define ON_RISCV (1u << SHD_TLB_RISCV)
#define ON_SPARC64 (1u << SHD_TLB_SPARC64)
#define ON_HYPERSPARC (1u << SHD_TLB_HYPERSPARC)

static unsigned fault_engines(enum shd_fault f)
{
	switch (f) {
	case SHD_FAULT_IGNORE_TLB_GEN:
	case SHD_FAULT_DROP_LAZY_FLUSH:
	case SHD_FAULT_ASYNC_EARLY_FREE:
	case SHD_FAULT_SWITCH_MM_NO_BARRIER:
	case SHD_FAULT_SKIP_LOADED_MM_SWITCHING:
	case SHD_FAULT_WRONG_CPU_CLEARS_RUNNING:
	case SHD_FAULT_INVLPGB_NO_TLBSYNC:
	case SHD_FAULT_GLOBAL_ASID_REUSE_EARLY:
		return ON_X86;		/* generations, lazy mode, x86 ASIDs */
	case SHD_FAULT_SKIP_REMOTE_IPI:
	case SHD_FAULT_SKIP_LOCAL_FLUSH:
		/* IPIs (cross-calls), local flushes */
		return ON_X86 | ON_RISCV | ON_SPARC64 | ON_HYPERSPARC;
	case SHD_FAULT_RANGE_SHORT:
		return ON_X86 | ON_RISCV;	/* INVLPG / sfence.vma loops */
	case SHD_FAULT_TLBI_NO_DSB:
	case SHD_FAULT_TLBI_RANGE_NUM:
	case SHD_FAULT_BATCHED_PENDING_DSB_ONLY:
		return ON_ARM64;
	case SHD_FAULT_ASID_ROLLOVER_NO_FLUSH:
		return ON_ARM64 | ON_RISCV;	/* context.c */
	case SHD_FAULT_CPUMASK_CLEAR_NO_FLUSH:
	case SHD_FAULT_SBI_MISSING_FENCE:
		return ON_RISCV;
	case SHD_FAULT_SKIP_NESTED_FLUSH:
		/* sparc64 flushes each batch under the PTL: no gather finds
		 * a PTE clear whose flush is still to come. */
		return ON_X86 | ON_ARM64 | ON_RISCV | ON_HYPERSPARC;
	case SHD_FAULT_SKIP_BATCHED_PENDING:
		/* Reclaim's batch: sparc64 and sparc32 have none (no
		 * ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH). */
		return ON_X86 | ON_ARM64 | ON_RISCV;
	case SHD_FAULT_TLB_BATCH_DROP_LAST:
	case SHD_FAULT_TLB_PENDING_ASYNC:
	case SHD_FAULT_CTX_KEEP_CPUMASK:
		return ON_SPARC64;
	case SHD_FAULT_CTX_STEAL_NO_FLUSH:
		return ON_HYPERSPARC;
	default:
		return ~0u;			/* generic mm or caches */
	}
}

static const char *const engine_names[] = { "x86", "arm64", "riscv",
					    "sparc64", "hypersparc" };

/* BUF += (SEP if BUF is not empty) S, cut to LEN. */
static void append(char *buf, size_t len, const char *sep, const char *s)
{
	size_t n = strlen(buf);

	if (n + 1 < len)
		snprintf(buf + n, len - n, "%s%s", n ? sep : "", s);
}

/* "fault F cannot happen on arch A": the engines it needs, and the
 * engine-specific faults A's engine has instead. */
static int engine_refusal(enum shd_fault f, const struct shd_arch *a,
			  unsigned on)
{
	const unsigned nengines = sizeof(engine_names) / sizeof(*engine_names);
	char need[128] = "", mine[512] = "", name[32];
	unsigned e = a->tlb < 32 ? 1u << a->tlb : 0, total = 0, seen = 0;

	for (unsigned i = 0; i < nengines; i++)
		total += !!(on & 1u << i);
	for (unsigned i = 0; i < nengines; i++) {
		if (!(on & 1u << i))
			continue;
		snprintf(name, sizeof(name), "%s's", engine_names[i]);
		append(need, sizeof(need), ++seen == total ? " or " : ", ",
		       name);
	}
	for (int i = 0; i < SHD_FAULT__COUNT; i++)
		if (fault_engines((enum shd_fault)i) != ~0u &&
		    (fault_engines((enum shd_fault)i) & e))
			append(mine, sizeof(mine), ", ", faults[i].name);
	return shd__fail(-EINVAL, "fault %s cannot happen on arch %s: it "
			 "breaks a step of %s TLB engine, and %s uses %s's "
			 "(its engine's faults: %s; ',tlb=...' picks another "
			 "engine)", faults[f].name, a->name, need, a->name,
			 a->tlb < nengines ? engine_names[a->tlb] : "an unknown",
			 mine);
}

int shd_fault_applies(const struct shd_policy *p, const struct shd_arch *a,
		      enum shd_fault f)
{
	if (!p || !a || (unsigned)f >= SHD_FAULT__COUNT)
		return shd__fail(-EINVAL, "shd_fault_applies: policy, architecture "
				 "and a fault needed");
	unsigned on = fault_engines(f);

	if (a->tlb >= 32 || !(on & 1u << a->tlb))
		return engine_refusal(f, a, on);
	if (f == SHD_FAULT_SBI_MISSING_FENCE && p->rfence != SHD_RFENCE_SBI)
		return shd__fail(-EINVAL, "fault %s cannot happen under policy "
				 "%s: it needs rfence=sbi", faults[f].name,
				 p->name);
	if (f == SHD_FAULT_TLBI_RANGE_NUM && !p->tlbi_range)
		return shd__fail(-EINVAL, "fault %s cannot happen under policy "
				 "%s: it needs tlbi_range=on", faults[f].name,
				 p->name);
	if (f == SHD_FAULT_ASYNC_EARLY_FREE && !p->async)
		return shd__fail(-EINVAL, "fault %s cannot happen under policy "
				 "%s: it needs async=on (e.g. --policy latr)",
				 faults[f].name, p->name);
	if ((f == SHD_FAULT_SWITCH_MM_NO_BARRIER ||
	     f == SHD_FAULT_SKIP_LOADED_MM_SWITCHING ||
	     f == SHD_FAULT_WRONG_CPU_CLEARS_RUNNING) &&
	    (p->switch_mm != SHD_SWITCH_6_13 || !p->prune || !p->gen))
		return shd__fail(-EINVAL, "fault %s cannot happen under policy "
				 "%s: it needs switch=6.13 with prune and gen on "
				 "(e.g. --policy linux)", faults[f].name,
				 p->name);
	if (f == SHD_FAULT_INVLPGB_NO_TLBSYNC && p->bcast != SHD_BCAST_INVLPGB)
		return shd__fail(-EINVAL, "fault %s cannot happen under policy "
				 "%s: it needs bcast=invlpgb (e.g. --policy "
				 "linux-invlpgb)", faults[f].name, p->name);
	if (f == SHD_FAULT_GLOBAL_ASID_REUSE_EARLY &&
	    (p->bcast == SHD_BCAST_OFF || p->switch_mm != SHD_SWITCH_6_13 ||
	     p->async || p->batch == SHD_BATCH_ARM64))
		return shd__fail(-EINVAL, "fault %s cannot happen under policy "
				 "%s: it needs global ASIDs, bcast=invlpgb or rar "
				 "with switch=6.13, async off and batch not arm64 "
				 "(e.g. --policy linux-invlpgb)", faults[f].name,
				 p->name);
	/* skip_nested_flush: every policy runs mmu_gathers with the nested
	 * upgrade (Linux since 4.13), so it applies wherever the engine
	 * flushes after the PTL (not sparc64's). */
	if ((f == SHD_FAULT_SKIP_BATCHED_PENDING ||
	     f == SHD_FAULT_BATCHED_PENDING_DSB_ONLY) && p->batch == SHD_BATCH_OFF)
		return shd__fail(-EINVAL, "fault %s cannot happen under policy "
				 "%s: it needs batch=x86 or arm64 (e.g. --policy "
				 "linux)", faults[f].name, p->name);
	if (f == SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE && !a->alias_dcache &&
	    !a->icache_nosnoop)
		return shd__fail(-EINVAL, "fault %s cannot happen on arch %s: it "
				 "needs an aliasing D-cache or an I-cache that does "
				 "not snoop (e.g. --arch sparc64 or arm64)",
				 faults[f].name, a->name);
	if (f == SHD_FAULT_SKIP_PTRACE_FLUSH && !a->alias_dcache)
		return shd__fail(-EINVAL, "fault %s cannot happen on arch %s: it "
				 "needs an aliasing D-cache (e.g. --arch sparc64)",
				 faults[f].name, a->name);
	if ((f == SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU ||
	     f == SHD_FAULT_ARCH1_OVERWRITTEN) &&
	    !(a->alias_dcache && a->deferred_dcache))
		return shd__fail(-EINVAL, "fault %s cannot happen on arch %s: it "
				 "needs a D-cache that defers flush_dcache_page "
				 "(e.g. --arch sparc64)", faults[f].name, a->name);
	if ((f == SHD_FAULT_ARCH1_NOT_CLEARED ||
	     f == SHD_FAULT_SKIP_PTRACE_ICACHE ||
	     f == SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE) && !a->icache_nosnoop)
		return shd__fail(-EINVAL, "fault %s cannot happen on arch %s: it "
				 "needs an I-cache that does not snoop (e.g. "
				 "--arch arm64)", faults[f].name, a->name);
	if (f == SHD_FAULT_TLB_BEFORE_CACHE && !a->flush_needs_mapping)
		return shd__fail(-EINVAL, "fault %s cannot happen on arch %s: it "
				 "needs a cache whose flush needs the translation "
				 "(e.g. --arch hypersparc)", faults[f].name, a->name);
	if (f == SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE &&
	    !(a->alias_dcache && a->dma_noncoherent))
		return shd__fail(-EINVAL, "fault %s cannot happen on arch %s: it "
				 "needs a D-cache that DMA does not snoop (e.g. "
				 "--arch hypersparc)", faults[f].name, a->name);
	return 0;
}

int shd_fault_lookup(const char *name)
{
	for (int i = 0; name && i < SHD_FAULT__COUNT; i++)
		if (strcmp(name, faults[i].name) == 0)
			return i;
	return shd__fail(-ENOENT, "unknown fault '%s' (see 'shootdown list')",
			 name ? name : "(null)");
}
