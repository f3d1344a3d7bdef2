/* SPDX-License-Identifier: MIT */
/* shootdown injectable faults: each breaks one step of a protocol, so a test can show the oracle catches it. */
#ifndef SHOOTDOWN_FAULT_H
#define SHOOTDOWN_FAULT_H

#include <stddef.h>
#include <shootdown/export.h>
#include <shootdown/policy.h>
#include <shootdown/arch.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The faults, declared once: SHD_FAULTS_MAP(X) calls X(ENUM, name, help)
 * for each, generating enum shd_fault and the table shd_faults() returns.
 * A run selects them as a bit mask (1 << SHD_FAULT_...) in
 * shd_config.faults.
 */
#define SHD_FAULTS_MAP(X) \
	X(SKIP_REMOTE_IPI, skip_remote_ipi, \
	  "flushes never reach other CPUs") \
	X(SKIP_LOCAL_FLUSH, skip_local_flush, \
	  "the initiating CPU does not flush its own TLB") \
	X(IGNORE_TLB_GEN, ignore_tlb_gen, \
	  "switch_mm treats a context whose tlb_gen is behind as " \
	  "current") \
	X(DROP_LAZY_FLUSH, drop_lazy_flush, \
	  "a CPU leaving lazy TLB mode never flushes") \
	X(RANGE_SHORT, range_short, \
	  "page-by-page flushes miss the last page of the range") \
	X(FREE_BEFORE_FLUSH, free_before_flush, \
	  "unmapping frees the frames before the TLB flush, not after") \
	X(SKIP_BATCHED_PENDING, skip_batched_pending, \
	  "munmap/mprotect/madvise do not wait for a pending reclaim " \
	  "batch") \
	X(ASYNC_EARLY_FREE, async_early_free, \
	  "LATR frees frames once posted, not once every CPU has swept") \
	X(SKIP_FLUSH_DCACHE_PAGE, skip_flush_dcache_page, \
	  "the kernel's write to a page-cache page skips " \
	  "flush_dcache_page") \
	X(DEFERRED_FLUSH_WRONG_CPU, deferred_flush_wrong_cpu, \
	  "update_mmu_cache runs a deferred D-cache flush on another " \
	  "CPU than the one that dirtied the page") \
	X(SKIP_PTRACE_FLUSH, skip_ptrace_flush, \
	  "copy_to_user_page (a ptrace poke) leaves the tracer's " \
	  "D-cache lines of the page unflushed") \
	X(ARCH1_OVERWRITTEN, arch1_overwritten, \
	  "flush_dcache_page takes over a page marked dirty by another " \
	  "CPU without flushing it there first (sparc64)") \
	X(ARCH1_NOT_CLEARED, arch1_not_cleared, \
	  "flush_dcache_page leaves PG_dcache_clean set, so mapping the " \
	  "page executable skips the I-cache sync (arm64)") \
	X(SKIP_PTRACE_ICACHE, skip_ptrace_icache, \
	  "copy_to_user_page into an executable mapping does not " \
	  "invalidate the I-cache (arm64)") \
	X(SKIP_FLUSH_ICACHE_RANGE, skip_flush_icache_range, \
	  "flush_icache_range does nothing: code the kernel wrote is " \
	  "fetched from stale I-cache lines (arm64)") \
	X(TLB_BEFORE_CACHE, tlb_before_cache, \
	  "the mm changes PTEs and flushes the TLB before flushing the " \
	  "cache, whose flush needs the translation (hypersparc)") \
	X(SKIP_KERNEL_VMAP_INVALIDATE, skip_kernel_vmap_invalidate, \
	  "invalidate_kernel_vmap_range does nothing: a read through " \
	  "the vmap alias after DMA sees stale lines (hypersparc)") \
	X(SWITCH_MM_NO_BARRIER, switch_mm_no_barrier, \
	  "switch_mm finds its mm_cpumask bit set and reads tlb_gen with " \
	  "no smp_mb after publishing LOADED_MM_SWITCHING (before " \
	  "83b0177a6c48; needs switch=6.13, caught only with store " \
	  "buffers)") \
	X(SKIP_LOADED_MM_SWITCHING, skip_loaded_mm_switching, \
	  "a flush skips a CPU whose loaded_mm is LOADED_MM_SWITCHING " \
	  "(before fea4e317f9e7, CVE-2025-37964; needs switch=6.13)") \
	X(WRONG_CPU_CLEARS_RUNNING, wrong_cpu_clears_running, \
	  "a flush reaching a CPU that runs the mm clears its mm_cpumask " \
	  "bit as if it ran another (TLB_REMOTE_WRONG_CPU taken on the " \
	  "wrong side), so later flushes skip a CPU that still holds the " \
	  "mm's translations (needs switch=6.13)") \
	X(SKIP_NESTED_FLUSH, skip_nested_flush, \
	  "tlb_finish_mmu ignores mm_tlb_flush_nested: a madvise that " \
	  "finds PTEs another one cleared returns before that one's " \
	  "flush (before 99baac21e458)") \
	X(INVLPGB_NO_TLBSYNC, invlpgb_no_tlbsync, \
	  "a broadcast flush returns without TLBSYNC, before the other " \
	  "CPUs' INVLPGBs completed (needs bcast=invlpgb)") \
	X(GLOBAL_ASID_REUSE_EARLY, global_asid_reuse_early, \
	  "a freed global ASID is handed out again before the wraparound " \
	  "flush of every non-global entry (needs bcast=invlpgb or rar)") \
	X(TLBI_NO_DSB, tlbi_no_dsb, \
	  "a flush returns after its TLBIs without the DSB ISH that waits " \
	  "for every CPU to complete them (arm64 engine)") \
	X(TLBI_RANGE_NUM, tlbi_range_num, \
	  "range TLBIs encoded with __TLBI_RANGE_NUM as before " \
	  "e3ba51ab24fd: a range of exactly MAX_TLBI_RANGE_PAGES (8 GiB " \
	  "at 4 KiB) is covered only in part (arm64 engine, tlbi_range=on)") \
	X(ASID_ROLLOVER_NO_FLUSH, asid_rollover_no_flush, \
	  "after an ASID generation rollover a CPU switches mm without " \
	  "the local TLB flush it owes (tlb_flush_pending; arm64 and " \
	  "riscv engines)") \
	X(CPUMASK_CLEAR_NO_FLUSH, cpumask_clear_no_flush, \
	  "switch_mm clears this CPU from the old mm's mm_cpumask without " \
	  "a flush, as riscv did before 82dd33fde026 (riscv engine)") \
	X(SBI_MISSING_FENCE, sbi_missing_fence, \
	  "the firmware acknowledges one hart of an SBI RFENCE without " \
	  "running its sfence.vma (riscv engine, rfence=sbi)") \
	X(BATCHED_PENDING_DSB_ONLY, batched_pending_dsb_only, \
	  "flush_tlb_batched_pending is a DSB ISH on this CPU, as arm64's " \
	  "arch_flush_tlb_batched_pending was before Ryan Roberts's 2025 " \
	  "fix: it completes only this CPU's TLBIs, not the reclaimer's " \
	  "(arm64 engine, batch on)") \
	X(TLB_BATCH_DROP_LAST, tlb_batch_drop_last, \
	  "flush_tlb_pending flushes a tlb_batch's addresses but the last " \
	  "one queued (sparc64 engine)") \
	X(TLB_PENDING_ASYNC, tlb_pending_async, \
	  "smp_flush_tlb_pending cross-calls without waiting, and the " \
	  "targets read the batch after it was reset, as before " \
	  "f36391d2790d (sparc64 engine)") \
	X(CTX_KEEP_CPUMASK, ctx_keep_cpumask, \
	  "get_new_mmu_context keeps the mm's mm_cpumask: a CPU that ran " \
	  "the mm under its old context number comes back to the new one " \
	  "without flushing it (sparc64 engine)") \
	X(CTX_STEAL_NO_FLUSH, ctx_steal_no_flush, \
	  "alloc_context steals the oldest mm's context without flushing " \
	  "it: the new owner translates through the victim's entries " \
	  "(hypersparc engine)")

enum shd_fault {
#define SHD_FAULT_ENUM_(e, name, help) SHD_FAULT_##e,
	SHD_FAULTS_MAP(SHD_FAULT_ENUM_)
#undef SHD_FAULT_ENUM_
	SHD_FAULT__COUNT
};

/* The faults' names and meanings, indexed by enum shd_fault; *count is
 * set.  Any thread. */
SHD_EXPORT const struct shd_named *shd_faults(size_t *count);

/*
 * Whether fault F can change anything under policy P on architecture A:
 * async_early_free needs async, skip_batched_pending a batching mode, the
 * D-cache faults an aliasing D-cache (deferred_flush_wrong_cpu and
 * arch1_overwritten one that defers), the I-cache faults an I-cache that
 * does not snoop, switch_mm_no_barrier and skip_loaded_mm_switching
 * switch=6.13 with prune and gen on, invlpgb_no_tlbsync bcast=invlpgb,
 * global_asid_reuse_early bcast=invlpgb or rar with switch=6.13 (async
 * off, batch not arm64); on arm64's TLB engine, none of the faults of
 * x86's IPI engine, and tlbi_no_dsb, tlbi_range_num (tlbi_range on) and
 * asid_rollover_no_flush only there.  0 if
 * it can, else -EINVAL with the
 * reason in shd_last_error().
 */
SHD_EXPORT int shd_fault_applies(const struct shd_policy *p,
				 const struct shd_arch *a, enum shd_fault f);

/* The fault called NAME, or -ENOENT. */
SHD_EXPORT int shd_fault_lookup(const char *name);

#ifdef __cplusplus
}
#endif
#endif
