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
 * CLI's help, groups and headline rows.  Every IPI candidate of a flush (an
 * online CPU other than the initiator) ends in exactly one of
 * ipis_avoided_pruned, ipis_avoided_lazy, ipis_coalesced or ipis_sent.
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
	  "doorbells rung (interrupts sent)") \
	X(ipis_received, ipi, SHD_STAT_SUM, \
	  "doorbells answered (interrupts taken)") \
	X(ipis_coalesced, ipi, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "requests queued behind an earlier doorbell") \
	X(ipis_avoided_pruned, ipi, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "candidate CPUs skipped: not in mm_cpumask") \
	X(ipis_avoided_lazy, ipi, SHD_STAT_SUM | SHD_STAT_HEADLINE, \
	  "candidate CPUs skipped: lazy TLB mode") \
	X(ipi_requests, ipi, SHD_STAT_SUM, \
	  "flush requests run by target CPUs") \
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
	  "mmu_gather flushes forced by a full batch (512 frames)") \
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
	  "LATR: interrupts to CPUs that had not swept in async_us or whose range was reused") \
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
	X(ipis_broadcast_hw, bcast, SHD_STAT_SUM, \
	  "candidate CPUs a hardware broadcast (INVLPGB, RAR) covered instead of an IPI") \
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
