/* SPDX-License-Identifier: MIT */
/* shootdown flush policies: the knobs and the named presets. */
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
 *   async_us    LATR's bound: a request not swept this long (machine time:
 *               simulated under the seeded scheduler, host time under
 *               --sched host; checked at the initiator's ticks) gets a
 *               real interrupt
 *   switch      which Linux switch_mm_irqs_off()/should_flush_tlb() pair:
 *               5.13 (a CPU leaving an mm clears its mm_cpumask bit; a
 *               flush goes to every non-lazy CPU in the mask) or 6.13
 *               (the bit stays set when the CPU leaves, 209954cbc7d0, and
 *               is trimmed by flushes; a flush goes to the CPUs whose
 *               loaded_mm is the mm or LOADED_MM_SWITCHING, fea4e317f9e7;
 *               switch_mm publishes SWITCHING, sets its bit only if clear,
 *               then smp_mb() before reading tlb_gen, 83b0177a6c48)
 *   hz          the simulated tick rate (CONFIG_HZ; Debian's 250).  jiffies =
 *               machine time * hz (simulated under the seeded scheduler,
 *               host time under --sched host)
 *   trim_ms     switch=6.13: a flush trims mm_cpumask at most once per
 *               this many ms per mm (6db2526c1d69: a second, HZ jiffies);
 *               0 trims on every flush, as 209954cbc7d0 alone did (the
 *               tree LKP measured at -13.2% on tlb_flush2)
 *   bcast       hardware broadcast invalidation: off, invlpgb (AMD INVLPGB
 *               with global ASIDs, Linux 6.15 CONFIG_BROADCAST_TLB_FLUSH:
 *               kernel and reclaim flushes broadcast, an mm seen running
 *               on broadcast_min_cpus CPUs gets a global ASID and its
 *               flushes become INVLPGB + TLBSYNC, no IPIs) or rar (Intel
 *               Remote Action Request, the 2025 RFC series, unmerged:
 *               the same global ASIDs, requests to mm_cpumask through a
 *               table of rar_slots payloads, completed without a handler).
 *               Global ASIDs are read off loaded_mm, so need switch=6.13;
 *               none is given under async=on or batch=arm64, whose
 *               requests no broadcast covers (kernel and reclaim
 *               flushes still broadcast)
 *   invlpgb_count_max  pages one INVLPGB may cover (CPUID 0x80000008
 *               EDX[15:0] + 1; per-model value unverified, default 8)
 *   asid_space  MAX_ASID_AVAILABLE: global ASIDs are 6..asid_space-1
 *               (Linux 4094; small values make the allocator wrap)
 *   broadcast_min_cpus  an mm gets a global ASID (hence hardware
 *               broadcast) when at least this many CPUs run it, not lazy
 *               (Linux: "more than 3", i.e. 4)
 *   rar_slots   entries of RAR's payload table (the RFC: 64)
 *   tlbi_range  arm64's engine (--arch arm64): __flush_tlb_range_op() uses
 *               range TLBIs (FEAT_TLBIRANGE, Armv8.4: one instruction for
 *               up to 32 << (5 * scale + 1) pages) where
 *               system_supports_tlb_range(); off: one TLBI a page, as on
 *               Armv8.2 cores (Neoverse N1)
 *   max_dvm_ops arm64's MAX_DVM_OPS: without range TLBIs, a range of this
 *               many pages or more becomes one flush of the ASID
 *               (__flush_tlb_range_limit_excess()); Linux's is
 *               PTRS_PER_PTE: 512 (the default) at 4 KiB pages, 2048 at
 *               16 KiB, 8192 at 64 KiB
 *   rfence      riscv's engine (--arch riscv): remote fences by IPI, each
 *               target running sfence.vma in its handler (Linux since
 *               dc892fb44322, 6.10), or by one SBI RFENCE ecall whose
 *               firmware interrupts the harts (where IPIs go through SBI)
 *   flush_all_threshold
 *               riscv's tlb_flush_all_threshold: a range of more pages
 *               is one sfence.vma of the ASID (64: ba6f35964c51, 6.7)
 *   sbi_flush_limit
 *               rfence=sbi: the firmware's tlb_range_flush_limit in pages
 *               (OpenSBI's default 4 KiB: a range of more than one page is
 *               flushed whole)
 *   clear_cpumask
 *               riscv: a CPU clears its bit in mm_cpumask after a whole-
 *               ASID flush of an mm it is not running (Xu Lu, 2025, patch
 *               2/2 of "riscv: mm: ...", not merged); off, Linux never
 *               clears it (82dd33fde026)
 *   svinval     riscv: a range's per-page loop is sfence.w.inval, one
 *               sinval.vma a page, sfence.inval.ir (Svinval; the patch
 *               Mayuresh Chitale posted, not merged)
 *   tlb_batch_nr
 *               sparc64's engine (--arch sparc64): addresses a tlb_batch
 *               holds before it is flushed (TLB_BATCH_NR: 192); a batch
 *               of one is a single-page cross-call, of more one
 *               smp_flush_tlb_pending() cross-call with the list
 */
struct shd_policy_ops;	/* policy_ops.h: a policy written in C */

/* Knobs a policy in C may declare (policy_ops.h). */
#define SHD_POLICY_KNOBS_MAX 8

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
	unsigned switch_mm;	/* enum shd_switch_mm */
	unsigned hz;
	unsigned trim_ms;
	unsigned bcast;		/* enum shd_bcast_mode */
	unsigned invlpgb_count_max;
	unsigned asid_space;
	unsigned broadcast_min_cpus;
	unsigned rar_slots;
	bool tlbi_range;
	unsigned max_dvm_ops;
	unsigned rfence;	/* enum shd_rfence */
	unsigned flush_all_threshold;
	unsigned sbi_flush_limit;
	bool clear_cpumask;
	bool svinval;
	unsigned tlb_batch_nr;
	/* A policy in C (shd_policy_from_ops()): its hooks over the knobs
	 * above, and its own knobs' values; NULL for a preset. */
	const struct shd_policy_ops *ops;
	int64_t knob[SHD_POLICY_KNOBS_MAX];
};

enum shd_batch { SHD_BATCH_OFF, SHD_BATCH_X86, SHD_BATCH_ARM64 };
enum shd_rfence { SHD_RFENCE_IPI, SHD_RFENCE_SBI };
enum shd_switch_mm { SHD_SWITCH_5_13, SHD_SWITCH_6_13 };
enum shd_bcast_mode { SHD_BCAST_OFF, SHD_BCAST_INVLPGB, SHD_BCAST_RAR };

#define SHD_ASID_SPACE_MAX 4094u	/* MAX_ASID_AVAILABLE without PTI */
#define SHD_RAR_SLOTS_MAX 64u
#define SHD_TLB_BATCH_NR_MAX 192u	/* sparc64's TLB_BATCH_NR */

#define SHD_CEILING_MAX (1u << 24)
#define SHD_HZ_MAX 100000u

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

/* The presets and the knobs, for listings.  *count is set. */
SHD_EXPORT const struct shd_named *shd_policy_presets(size_t *count);
SHD_EXPORT const struct shd_named *shd_policy_knobs(size_t *count);

#ifdef __cplusplus
}
#endif
#endif
