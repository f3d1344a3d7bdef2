/* SPDX-License-Identifier: MIT */
/* shootdown counters and shootdown latency. */
#ifndef SHOOTDOWN_STATS_H
#define SHOOTDOWN_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/fault.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_machine;

/*
 * The machine's counters, declared once: SHD_STATS_MAP(X) calls
 * X(name, group, flags, help) for each, in the order every output prints
 * them.  It generates struct shd_stats, the field table below and the
 * CLI's help, groups and headline rows.
 *
 * The counting identity (runtime/tlbflush.c, runtime/smp.c): every IPI
 * candidate (ipi_candidates: each online CPU other than the initiator that
 * a flush's scan considers, kernel-range and flush-all flushes included,
 * and the target of an smp_call_function_single() to another CPU) ends in
 * exactly one of
 *
 *   ipis_sent + ipis_coalesced + ipis_avoided_pruned + ipis_avoided_lazy +
 *   ipis_deferred + ipis_timed_out + ipis_broadcast_hw,
 *
 * under every policy.  The one exception is a fault that drops a request
 * (skip_remote_ipi): its candidates end nowhere, which is the bug.  With
 * no watchdog timeout, ipis_received == ipis_sent and ipi_requests ==
 * ipis_sent + ipis_coalesced, with coalescing on or off.  LATR's fallback
 * interrupts go to CPUs already counted in ipis_deferred: they are counted
 * in async_fallback_ipis only (bench/cost.c charges each a send and a
 * receive).
 *
 * Linux's names (6.18, arch/x86/mm/tlb.c, CONFIG_DEBUG_TLBFLUSH for the
 * nr_tlb_* ones): tlb_interrupts is the TLB line of /proc/interrupts
 * (inc_irq_stat(TLB) at the top of flush_tlb_func()); ipis_received is
 * the CAL line (one per call-function vector taken); nr_tlb_* are vmstat's.
 *
 * flags: how per-CPU values combine (SHD_STAT_SUM, SHD_STAT_MAX, or
 * SHD_STAT_PCTL, a percentile of the merged latency histogram), and
 * SHD_STAT_HEADLINE for the rows a summary always shows.
 */
#define SHD_STAT_SUM		0u
#define SHD_STAT_MAX		1u
#define SHD_STAT_PCTL		2u
#define SHD_STAT_AGG_MASK	3u
#define SHD_STAT_HEADLINE	4u

#define SHD_STATS_MAP(X) \
	X(flush_calls, flush, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "flush interface calls") \
	X(shootdowns, flush, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "flush calls that sent at least one request") \
	X(ipis_sent, ipi, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "candidate CPUs sent an interrupt (a doorbell rung)") \
	X(ipis_received, ipi, SHD_STAT_SUM, \
	  "interrupts taken (Linux's CAL line; coalesce=off: one per request)") \
	X(ipis_coalesced, ipi, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "candidate CPUs whose request rode an earlier doorbell") \
	X(ipis_avoided_pruned, ipi, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "candidate CPUs skipped: not in mm_cpumask (switch=6.13: or running another mm)") \
	X(ipis_avoided_lazy, ipi, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "candidate CPUs skipped: lazy TLB mode") \
	X(ipi_candidates, ipi, SHD_STAT_SUM, \
	  "CPUs a flush (or smp_call_function_single) considered, initiator aside; each ends in one outcome") \
	X(ipis_deferred, ipi, SHD_STAT_SUM, \
	  "candidate CPUs given a LATR request to sweep (no interrupt)") \
	X(ipis_timed_out, ipi, SHD_STAT_SUM, \
	  "candidate CPUs whose request the watchdog withdrew (or never sent)") \
	X(ipis_broadcast_hw, ipi, SHD_STAT_SUM, \
	  "candidate CPUs covered by a hardware broadcast (INVLPGB, RAR) instead of an IPI") \
	X(ipi_requests, ipi, SHD_STAT_SUM, \
	  "requests run from a CPU's call queue by an interrupt (every kind; LATR's sweeps not)") \
	X(tlb_interrupts, ipi, SHD_STAT_SUM, \
	  "Linux's TLB line: user-mm or reclaim-batch flush_tlb_func runs on a non-initiating CPU") \
	X(nr_tlb_remote_flush, vmstat, SHD_STAT_SUM, \
	  "vmstat: flushes that sent to other CPUs (flush_tlb_multi calls, flush_tlb_all)") \
	X(nr_tlb_remote_flush_received, vmstat, SHD_STAT_SUM, \
	  "vmstat: remote flush_tlb_func runs, and do_flush_tlb_all runs on every CPU") \
	X(nr_tlb_local_flush_all, vmstat, SHD_STAT_SUM, \
	  "vmstat: the initiator's own full flushes in flush_tlb_func") \
	X(nr_tlb_local_flush_one, vmstat, SHD_STAT_SUM, \
	  "vmstat: the initiator's own page invalidations, and kernel-range pages on every CPU") \
	X(ipis_trim, ipi, SHD_STAT_SUM, \
	  "switch=6.13: requests to CPUs running another mm, sent because " \
	  "the flush trims mm_cpumask (should_trim_cpumask)") \
	X(ipis_switching, ipi, SHD_STAT_SUM, \
	  "switch=6.13: requests to CPUs found mid-switch_mm " \
	  "(LOADED_MM_SWITCHING, fea4e317f9e7)") \
	X(ipis_freed_tables, ipi, SHD_STAT_SUM, \
	  "requests to lazy CPUs or CPUs running another mm, sent only " \
	  "because page tables were freed") \
	X(tlb_remote_wrong_cpu, ipi, SHD_STAT_SUM, \
	  "switch=6.13: requests that found their CPU running another mm; " \
	  "it cleared its mm_cpumask bit (TLB_REMOTE_WRONG_CPU)") \
	X(flushes_full, tlb, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "full flushes (context or whole TLB)") \
	X(flushes_partial, tlb, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "page-by-page flushes") \
	X(flushes_skipped_gen, tlb, SHD_STAT_SUM, \
	  "requests already satisfied (tlb_gen, wrong mm)") \
	X(switch_flushes, tlb, SHD_STAT_SUM, \
	  "flushes done by switch_mm or leaving lazy mode") \
	X(pages_invalidated, tlb, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "single-page invalidations (INVLPG)") \
	X(tlb_hits, tlb, SHD_STAT_SUM, \
	  "TLB hits") \
	X(tlb_misses, tlb, SHD_STAT_SUM, \
	  "TLB misses (page walks)") \
	X(page_faults, mm, SHD_STAT_SUM, \
	  "page faults") \
	X(cow_copies, mm, SHD_STAT_SUM, \
	  "copy-on-write faults that copied the page") \
	X(gather_batch_flushes, mm, SHD_STAT_SUM, \
	  "mmu_gather flushes forced by a full batch (9,678 pages)") \
	X(dirty_file_flushes, mm, SHD_STAT_SUM, \
	  "flushes forced under the PTL at the end of a page table whose zap " \
	  "found a dirty shared file page (delayed rmap, 5df397dec7c4)") \
	X(nested_flushes, mm, SHD_STAT_SUM, \
	  "tlb_finish_mmu flushes upgraded to the whole mm with " \
	  "freed_tables: another gather was live (mm_tlb_flush_nested)") \
	X(mprotect_flushes_avoided, mm, SHD_STAT_SUM, \
	  "PTEs mprotect changed without a flush (pte_needs_flush)") \
	X(reclaim_pages, reclaim, SHD_STAT_SUM, \
	  "pages unmapped by reclaim (shd_try_to_unmap)") \
	X(tlbbatch_pages, reclaim, SHD_STAT_SUM, \
	  "... whose flush was deferred to a batch") \
	X(tlbbatch_flushes, reclaim, SHD_STAT_SUM, \
	  "reclaim batches flushed (arch_tlbbatch_flush)") \
	X(batched_pending_flushes, reclaim, SHD_STAT_SUM, \
	  "flush_tlb_batched_pending flushes (a batch was pending)") \
	X(async_flushes, async, SHD_STAT_SUM, \
	  "LATR: flushes posted without waiting for remote CPUs") \
	X(async_requests, async, SHD_STAT_SUM, \
	  "LATR: requests queued for a sweep (one per target CPU)") \
	X(async_sweeps, async, SHD_STAT_SUM, \
	  "LATR: queues swept at a switch, poll or tick (no interrupt)") \
	X(async_fallback_ipis, async, SHD_STAT_SUM, \
	  "LATR: interrupts to CPUs that had not swept in async_us or whose range was reused (once per request; not in ipis_sent)") \
	X(async_deferred_frames, async, SHD_STAT_SUM, \
	  "LATR: frames freed only once every CPU had swept") \
	X(async_reuse_delay_us, async, SHD_STAT_SUM, \
	  "LATR: post-to-free time summed over flushes (µs, host)") \
	X(dcache_misses, dcache, SHD_STAT_SUM, \
	  "aliasing D-cache line fills") \
	X(dcache_flushes, dcache, SHD_STAT_SUM, \
	  "flush_dcache_page flushes done at once") \
	X(dcache_deferred, dcache, SHD_STAT_SUM, \
	  "flush_dcache_page flushes deferred (PG_arch_1)") \
	X(dcache_deferred_done, dcache, SHD_STAT_SUM, \
	  "deferred D-cache flushes done by update_mmu_cache") \
	X(dcache_cross_cpu, dcache, SHD_STAT_SUM, \
	  "D-cache flushes run on another CPU (IPI)") \
	X(dcache_lines_invalidated, dcache, SHD_STAT_SUM, \
	  "D-cache lines dropped by flushes") \
	X(dcache_flushes_avoided, dcache, SHD_STAT_SUM, \
	  "page clears/copies at the user's colour (no flush needed)") \
	X(icache_misses, icache, SHD_STAT_SUM, \
	  "non-snooping I-cache line fills") \
	X(icache_flushes, icache, SHD_STAT_SUM, \
	  "pages invalidated in every I-cache") \
	X(icache_lines_invalidated, icache, SHD_STAT_SUM, \
	  "I-cache lines dropped") \
	X(invlpgb_issued, bcast, SHD_STAT_SUM, \
	  "INVLPGB instructions issued (one per invlpgb_count_max pages)") \
	X(tlbsyncs, bcast, SHD_STAT_SUM, \
	  "TLBSYNCs: waits for this CPU's INVLPGBs to complete everywhere") \
	X(rar_requests, bcast, SHD_STAT_SUM, \
	  "RAR: requests posted to a target CPU's action vector") \
	X(rar_slot_waits, bcast, SHD_STAT_SUM, \
	  "RAR: sends that found every payload slot busy and spun") \
	X(hw_invalidations, bcast, SHD_STAT_SUM, \
	  "broadcast invalidations a CPU's hardware carried out (no handler, no interrupt)") \
	X(global_asids_assigned, bcast, SHD_STAT_SUM, \
	  "mms given a global ASID (use_global_asid)") \
	X(global_asid_resets, bcast, SHD_STAT_SUM, \
	  "global ASID space resets: a broadcast flush of every non-global entry") \
	X(asid_transition_rounds, bcast, SHD_STAT_SUM, \
	  "finish_asid_transition IPI rounds to the whole mm_cpumask (a CPU ran the mm on a dynamic ASID)") \
	X(tlbi_ops, arm64, SHD_STAT_SUM, \
	  "arm64: TLBI ...IS instructions issued (DVM operations broadcast to every CPU)") \
	X(tlbi_range_ops, arm64, SHD_STAT_SUM, \
	  "arm64: of tlbi_ops, range TLBIs (FEAT_TLBIRANGE: up to 32 << (5*scale+1) pages each)") \
	X(tlbi_full_ops, arm64, SHD_STAT_SUM, \
	  "arm64: of tlbi_ops, whole-ASID or whole-TLB TLBIs (ASIDE1IS, VMALLE1IS): ranges past the limit, flush_tlb_mm, flush_tlb_all") \
	X(dsbs, arm64, SHD_STAT_SUM, \
	  "arm64: DSB ISH after TLBIs: waits for every CPU to complete them (DVM sync)") \
	X(sme_dvmsyncs, arm64, SHD_STAT_SUM, \
	  "arm64, sme_erratum: IPI rounds to mm_cpumask after a DSB (C1-Pro erratum 4193714's sme_do_dvmsync)") \
	X(asid_rollovers, arm64, SHD_STAT_SUM, \
	  "arm64, riscv: ASID generation rollovers (new_context found no free ASID)") \
	X(asid_rollover_flushes, arm64, SHD_STAT_SUM, \
	  "arm64, riscv: local full flushes at switch_mm owed to a rollover (tlb_flush_pending)") \
	X(sbi_rfences, riscv, SHD_STAT_SUM, \
	  "riscv: SBI RFENCE ecalls (rfence=sbi): one a remote flush, the firmware interrupting the harts") \
	X(sinval_vmas, riscv, SHD_STAT_SUM, \
	  "riscv: of pages_invalidated, pages invalidated by sinval.vma (svinval=on) rather than sfence.vma") \
	X(svinval_fences, riscv, SHD_STAT_SUM, \
	  "riscv: sfence.w.inval and sfence.inval.ir around sinval.vma loops (svinval=on)") \
	X(cpumask_clears, riscv, SHD_STAT_SUM, \
	  "riscv: CPUs that left mm_cpumask after a whole-ASID flush of an mm they were not running (clear_cpumask=on)") \
	X(tlb_batch_flushes, sparc64, SHD_STAT_SUM, \
	  "sparc64: tlb_batch flushes (flush_tlb_pending() with addresses queued)") \
	X(tlb_batch_entries, sparc64, SHD_STAT_SUM, \
	  "sparc64: addresses queued in tlb_batches (tlb_batch_add_one() in lazy MMU mode)") \
	X(tlb_immediate_flushes, sparc64, SHD_STAT_SUM, \
	  "sparc64: PTE changes flushed at once, outside lazy MMU mode (global_flush_tlb_page())") \
	X(xcalls_page, sparc64, SHD_STAT_SUM, \
	  "sparc64: cross-call rounds of xcall_flush_tlb_page (one address, to mm_cpumask)") \
	X(xcalls_pending, sparc64, SHD_STAT_SUM, \
	  "sparc64: cross-call rounds of smp_flush_tlb_pending (a batch's addresses, to mm_cpumask)") \
	X(xcalls_mm, sparc64, SHD_STAT_SUM, \
	  "sparc64: cross-call rounds of xcall_flush_tlb_mm (a whole context, to mm_cpumask)") \
	X(xcalls_kernel, sparc64, SHD_STAT_SUM, \
	  "sparc64: cross-call rounds of xcall_flush_tlb_kernel_range (to every other CPU)") \
	X(ctx_allocs, sparc64, SHD_STAT_SUM, \
	  "sparc64, hypersparc: context numbers handed out (get_new_mmu_context(), alloc_context())") \
	X(ctx_wraps, sparc64, SHD_STAT_SUM, \
	  "sparc64: context version wraps (mmu_context_wrap(): no number free)") \
	X(ctx_switch_flushes, sparc64, SHD_STAT_SUM, \
	  "sparc64: of switch_flushes, contexts flushed at switch_mm (new context, or this CPU new to mm_cpumask)") \
	X(xcalls_all, hypersparc, SHD_STAT_SUM, \
	  "hypersparc: flush cross-calls to every online CPU (another CPU was in mm_cpumask, or flush_tlb_all)") \
	X(xcalls_skipped, hypersparc, SHD_STAT_SUM, \
	  "hypersparc: user flushes done locally only (no other CPU in mm_cpumask)") \
	X(ctx_steals, hypersparc, SHD_STAT_SUM, \
	  "hypersparc: contexts taken from their oldest holder (alloc_context() found none free)") \
	X(ctx_reuse_flushes, hypersparc, SHD_STAT_SUM, \
	  "hypersparc: a dead mm's context flushed everywhere as it is taken again (destroy_context()'s flush)") \
	X(violations, oracle, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "oracle violations") \
	X(lat_count, latency, SHD_STAT_SUM, \
	  "shootdowns timed") \
	X(lat_p50_ns, latency, SHD_STAT_PCTL | SHD_STAT_HEADLINE, \
	  "shootdown latency, median (ns, host or seeded time)") \
	X(lat_p99_ns, latency, SHD_STAT_PCTL, \
	  "shootdown latency, 99th percentile (ns, host or seeded time)") \
	X(lat_max_ns, latency, SHD_STAT_MAX, \
	  "shootdown latency, maximum (ns, host or seeded time)")

struct shd_stats {
#define SHD_STATS_FIELD_(name, group, flags, help) uint64_t name;
	SHD_STATS_MAP(SHD_STATS_FIELD_)
#undef SHD_STATS_FIELD_
};

/* One counter: its name, place in struct shd_stats, group ("ipi", "tlb",
 * "dcache"...), flags and meaning, in SHD_STATS_MAP order. */
struct shd_stat_field {
	const char *name;
	size_t offset;
	const char *help;
	const char *group;
	unsigned flags;
};
SHD_EXPORT const struct shd_stat_field *shd_stat_fields(size_t *count);

/*
 * Sum the counters of all CPUs.  Call only when no task is running (the
 * counters are owned by their CPUs).  Not from a CPU thread.
 */
SHD_EXPORT void shd_machine_stats(struct shd_machine *m, struct shd_stats *out);

/*
 * One CPU's own counters (what /proc/interrupts prints a column of): CPU
 * is a simulated CPU number.  Summed fields are that CPU's share of
 * shd_machine_stats()'s sums; lat_max_ns its own maximum, lat_p50_ns and
 * lat_p99_ns from its own histogram; violations the reports its checks
 * made.  Same rules as shd_machine_stats().  0, or -EINVAL (no machine,
 * no OUT, CPU out of range; OUT zeroed when given).
 */
SHD_EXPORT int shd_machine_cpu_stats(struct shd_machine *m, unsigned cpu,
				     struct shd_stats *out);

/*
 * From a task on CPU, during a run: CPU's own counters so far (the SHD_STAT_SUM ones: the percentiles are
 * not filled in), e.g. to attribute the IPIs a call sent to that call.
 * Only on CPU's own thread, which is their only writer.
 */
struct shd_cpu;
SHD_EXPORT void shd_cpu_stats(const struct shd_cpu *cpu, struct shd_stats *out);

/*
 * How many times injected fault F fired on M: made a CPU do other than the
 * correct path would (a flush that had remote targets sent nothing, a
 * range flush left a page out...), not how often it was tested.  Summed
 * over the CPUs since the machine was created or its counters were reset;
 * 0 for a fault not injected.  Deterministic under the seeded scheduler.
 * Same rules as shd_machine_stats().
 */
SHD_EXPORT uint64_t shd_fault_firings(struct shd_machine *m, enum shd_fault f);

/* Zero all counters, fault firings and latencies (e.g. after a warm-up).
 * Same rules. */
SHD_EXPORT void shd_machine_stats_reset(struct shd_machine *m);

#ifdef __cplusplus
}
#endif
#endif
