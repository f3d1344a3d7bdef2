/* SPDX-License-Identifier: MIT */
/* shootdown counters, shootdown latency, and the oracle's violation reports. */
#ifndef SHOOTDOWN_STATS_H
#define SHOOTDOWN_STATS_H

#include <stddef.h>
#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/machine.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * The machine's counters, summed over CPUs.  Every IPI candidate of a flush
 * (an online CPU other than the initiator) ends in exactly one of
 * ipis_avoided_pruned, ipis_avoided_lazy, ipis_coalesced or ipis_sent.
 */
struct shd_stats {
	uint64_t flush_calls;		/* flush interface calls */
	uint64_t shootdowns;		/* calls that sent at least one request */
	uint64_t ipis_sent;		/* doorbells rung (interrupts) */
	uint64_t ipis_received;		/* doorbells answered */
	uint64_t ipis_coalesced;	/* requests that rode an earlier doorbell */
	uint64_t ipis_avoided_pruned;	/* candidates not in mm_cpumask */
	uint64_t ipis_avoided_lazy;	/* candidates skipped in lazy TLB mode */
	uint64_t ipi_requests;		/* requests handled by targets */
	uint64_t flushes_full;		/* whole-context (or whole-TLB) flushes */
	uint64_t flushes_partial;	/* page-by-page flushes */
	uint64_t flushes_skipped_gen;	/* requests already satisfied by tlb_gen */
	uint64_t switch_flushes;	/* flushes done by switch_mm / lazy exit */
	uint64_t pages_invalidated;	/* single-page invalidations (INVLPG) */
	uint64_t tlb_hits;
	uint64_t tlb_misses;
	uint64_t page_faults;
	uint64_t cow_copies;		/* copy-on-write faults that copied a page */
	uint64_t gather_batch_flushes;	/* mmu_gather flushes forced by a full batch */
	uint64_t reclaim_pages;		/* pages unmapped by shd_try_to_unmap */
	uint64_t tlbbatch_pages;	/* ... whose flush was deferred to a batch */
	uint64_t tlbbatch_flushes;	/* batches flushed */
	uint64_t batched_pending_flushes; /* flush_tlb_batched_pending flushes */
	uint64_t async_flushes;		/* LATR: flushes posted without waiting */
	uint64_t async_sweeps;		/* ... request batches swept with no interrupt */
	uint64_t async_fallback_ipis;	/* ... interrupts: async_us passed, or
					 * the range is mapped again */
	uint64_t async_deferred_frames;	/* ... frames freed only after the sweeps */
	uint64_t async_reuse_delay_us;	/* ... sum over flushes of post-to-free time */
	uint64_t dcache_misses;		/* aliasing D-cache line fills */
	uint64_t dcache_flushes;	/* flush_dcache_page flushes done at once */
	uint64_t dcache_deferred;	/* ... deferred (PG_arch_1 set) */
	uint64_t dcache_deferred_done;	/* ... deferred flushes done at update_mmu_cache */
	uint64_t dcache_cross_cpu;	/* ... flushes run on another CPU (IPI) */
	uint64_t dcache_lines_invalidated; /* D-cache lines dropped by flushes */
	uint64_t dcache_flushes_avoided; /* page clears/copies through a kmap of
					 * the user's colour: no flush needed */
	uint64_t icache_misses;		/* non-snooping I-cache line fills */
	uint64_t icache_flushes;	/* pages invalidated in every I-cache */
	uint64_t icache_lines_invalidated; /* I-cache lines dropped */
	uint64_t violations;		/* oracle reports */
	uint64_t lat_count;		/* shootdowns timed */
	uint64_t lat_p50_ns;		/* initiator latency of flush calls that */
	uint64_t lat_p99_ns;		/* sent requests, from the call to the */
	uint64_t lat_max_ns;		/* last acknowledgement */
};

/* Name and meaning of each field, in struct order, for generic printing. */
struct shd_stat_field {
	const char *name;
	size_t offset;
	const char *help;
};
SHD_EXPORT const struct shd_stat_field *shd_stat_fields(size_t *count);

/*
 * Sum the counters of all CPUs.  Call only when no task is running (the
 * counters are owned by their CPUs).  Not from a CPU thread.
 */
SHD_EXPORT void shd_machine_stats(struct shd_machine *m, struct shd_stats *out);

/* Zero all counters and latencies (e.g. after a warm-up).  Same rules. */
SHD_EXPORT void shd_machine_stats_reset(struct shd_machine *m);

enum shd_violation_kind {
	SHD_VIOLATION_STALE_TLB,	/* a hit on a translation a completed flush removed */
	SHD_VIOLATION_WATCHDOG,		/* a CPU did not acknowledge an IPI in time */
	SHD_VIOLATION_USE_AFTER_FREE,	/* a hit on a translation to a freed frame */
	SHD_VIOLATION_STALE_DATA,	/* a load returned a stale cache line */
	SHD_VIOLATION_STALE_INSN,	/* a fetch returned a stale I-cache line */
	SHD_VIOLATION_ORDERING,		/* a PTE changed before its cache flush */
};

/*
 * One oracle report.  `interface` is the flush interface whose return made
 * the translation illegal; versions are the entry's, the PTE's latest and the
 * newest version a completed flush covers.
 */
struct shd_violation {
	enum shd_violation_kind kind;
	unsigned cpu;
	uint64_t mm_id;		/* 0 for the kernel */
	uint64_t addr;
	const char *interface;
	uint64_t entry_version;
	uint64_t pte_version;
	uint64_t flushed_version;
	uint64_t seed;
	char text[384];		/* the whole report, one line */
};

/*
 * Copy the first reports (at most MAX, the machine keeps the first 16) into
 * OUT; returns how many violations there were in all.  Any thread.
 */
SHD_EXPORT uint64_t shd_machine_violations(struct shd_machine *m,
					   struct shd_violation *out,
					   size_t max);

#ifdef __cplusplus
}
#endif
#endif
