/* SPDX-License-Identifier: MIT */
/* shootdown flush policies: the knobs, the named presets, the injectable faults. */
#ifndef SHOOTDOWN_POLICY_H
#define SHOOTDOWN_POLICY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * A policy is plain data: which of the kernel's shootdown optimisations are
 * on.  Presets are named instances ("broadcast", "linux"); any knob can then
 * be overridden by name with shd_policy_set() (the CLI's --set key=value).
 *
 *   prune       send only to CPUs in mm_cpumask (otherwise: every online CPU)
 *   lazy        skip CPUs in lazy TLB mode unless page tables were freed; such
 *               a CPU checks its generation when it leaves lazy mode
 *   gen         per-mm tlb_gen against per-CPU local generation decides
 *               nothing / partial / full flush on the target and on switch_mm
 *               (off: targets do exactly what was asked, and a CPU that may
 *               have missed flushes flushes the whole context on switch-in)
 *   coalesce    ring a CPU's doorbell only when its call queue was empty
 *               (off: one interrupt per request)
 *   concurrent  the initiator flushes locally while remote requests are in
 *               flight (off: local flush first, then send)
 *   ceiling     ranges of more than this many pages become full flushes
 *               (Linux x86 tlb_single_page_flush_ceiling, default 33; 0 means
 *               every range is a full flush)
 *   batch       how shd_try_to_unmap() (reclaim) flushes: off (each page at
 *               once, ptep_clear_flush), x86 (defer to the CPU's batch: bump
 *               the mm's tlb_gen, gather mm_cpumask; one full flush of the
 *               union at shd_try_to_unmap_flush()), arm64 (invalidate each
 *               page at once without waiting; one wait for all at the end)
 *   async       LATR: munmap (and exit) does not wait for remote CPUs.  The
 *               initiator flushes itself, queues the request without an
 *               interrupt and returns; each CPU sweeps its queue at its
 *               next context switch, poll or tick (every 256 accesses).
 *               Frames and page tables are freed, and the range may be
 *               mapped again, only when every CPU has swept it
 *   async_us    LATR's bound: a request not swept this long (host time,
 *               checked at the initiator's ticks) gets a real interrupt
 */
struct shd_policy {
	char name[32];
	bool prune;
	bool lazy;
	bool gen;
	bool coalesce;
	bool concurrent;
	unsigned ceiling;
	unsigned batch;		/* enum shd_batch */
	bool async;
	unsigned async_us;
};

enum shd_batch { SHD_BATCH_OFF, SHD_BATCH_X86, SHD_BATCH_ARM64 };

#define SHD_CEILING_MAX (1u << 24)

/* Fill *out with the preset NAME.  0, or -ENOENT for an unknown name. */
SHD_EXPORT int shd_policy_preset(const char *name, struct shd_policy *out);

/*
 * Override one knob: KEY is a knob name above, VALUE "on"/"off"/"1"/"0"/
 * "true"/"false" for switches and a decimal number for ceiling.  0, -ENOENT
 * (unknown key) or -EINVAL (bad value); shd_last_error() says which.
 */
SHD_EXPORT int shd_policy_set(struct shd_policy *p, const char *key,
			      const char *value);

/* Format the knobs as "prune=on lazy=on ... ceiling=33" into buf. */
SHD_EXPORT int shd_policy_format(const struct shd_policy *p, char *buf,
				 size_t len);

struct shd_named {
	const char *name;
	const char *help;
};

/* The presets, the knobs and the faults, for listings.  *count is set. */
SHD_EXPORT const struct shd_named *shd_policy_presets(size_t *count);
SHD_EXPORT const struct shd_named *shd_policy_knobs(size_t *count);

/*
 * Injectable faults: each breaks one step of the protocol, so that a test can
 * show the oracle catches it.  Selected as a bit mask in shd_config.faults.
 */
enum shd_fault {
	SHD_FAULT_SKIP_REMOTE_IPI,	/* no request reaches another CPU */
	SHD_FAULT_SKIP_LOCAL_FLUSH,	/* the initiator does not flush itself */
	SHD_FAULT_IGNORE_TLB_GEN,	/* switch_mm treats a behind context as current */
	SHD_FAULT_DROP_LAZY_FLUSH,	/* leaving lazy mode never flushes */
	SHD_FAULT_RANGE_SHORT,		/* a partial flush misses the last page */
	SHD_FAULT_FREE_BEFORE_FLUSH,	/* mmu_gather frees frames before its flush */
	SHD_FAULT_SKIP_BATCHED_PENDING,	/* no flush_tlb_batched_pending() */
	SHD_FAULT_ASYNC_EARLY_FREE,	/* LATR frees before every CPU has swept */
	SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE, /* a kernel write skips flush_dcache_page */
	SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU, /* ... on a CPU other than the dirtier */
	SHD_FAULT_SKIP_PTRACE_FLUSH,	/* copy_to_user_page does not flush */
	SHD_FAULT_ARCH1_OVERWRITTEN,	/* flush_dcache_page takes over another
					 * CPU's mark without flushing there */
	SHD_FAULT_ARCH1_NOT_CLEARED,	/* flush_dcache_page leaves
					 * PG_dcache_clean set (arm64) */
	SHD_FAULT_SKIP_PTRACE_ICACHE,	/* copy_to_user_page into an executable
					 * mapping does not invalidate I */
	SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE, /* flush_icache_range does nothing */
	SHD_FAULT_TLB_BEFORE_CACHE,	/* the mm flushes caches after the PTE
					 * change and TLB flush (hypersparc) */
	SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE, /* invalidate_kernel_vmap_range
					 * does nothing */
	SHD_FAULT__COUNT
};

SHD_EXPORT const struct shd_named *shd_faults(size_t *count);

/*
 * Whether fault F can change anything under policy P on architecture A:
 * async_early_free needs async, skip_batched_pending a batching mode, the
 * D-cache faults an aliasing D-cache (deferred_flush_wrong_cpu and
 * arch1_overwritten one that defers), the I-cache faults an I-cache that
 * does not snoop.  0 if it can, else -EINVAL with the reason in
 * shd_last_error().
 */
struct shd_arch;
SHD_EXPORT int shd_fault_applies(const struct shd_policy *p,
				 const struct shd_arch *a, enum shd_fault f);

/* The fault called NAME, or -ENOENT. */
SHD_EXPORT int shd_fault_lookup(const char *name);

#ifdef __cplusplus
}
#endif
#endif
