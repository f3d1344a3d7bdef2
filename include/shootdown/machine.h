/* SPDX-License-Identifier: MIT */
/* shootdown machine: its configuration, construction and teardown. */
#ifndef SHOOTDOWN_MACHINE_H
#define SHOOTDOWN_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/policy.h>
#include <shootdown/arch.h>
#include <shootdown/seeded.h>

#ifdef __cplusplus
extern "C" {
#endif

#define SHD_MAX_CPUS 1024

struct shd_machine;	/* opaque: created by shd_machine_create() */
struct shd_cpu;		/* opaque: one simulated CPU, handed to tasks */

struct shd_tlb_geometry {
	unsigned entries;	/* total entries, a multiple of ways */
	unsigned ways;		/* associativity; entries/ways must be a power of 2 */
};

/*
 * Machine configuration.  Fill with shd_config_init() (a small x86 box:
 * 8 CPUs, a 1536-entry 12-way TLB (a Skylake STLB), 4 KiB pages, the "linux"
 * policy), then change
 * what you need.  shd_machine_create() validates every field.
 */
struct shd_config {
	unsigned ncpus;			/* 1..SHD_MAX_CPUS */
	struct shd_tlb_geometry dtlb;	/* data (or unified) TLB */
	bool split_tlb;			/* separate instruction TLB for fetches */
	struct shd_tlb_geometry itlb;	/* used when split_tlb */
	unsigned page_shift;		/* 12..30 */
	uint64_t nframes;		/* physical memory, in pages (16..1<<24);
				 * one is the zero page */
	struct shd_policy policy;
	struct shd_arch arch;		/* caches; default "x86" (coherent) */
	uint64_t seed;			/* reported with every violation */
	unsigned watchdog_ms;		/* unacknowledged IPI report; 0 = never */
	uint64_t faults;		/* bit mask of 1 << enum shd_fault */
	bool oracle;			/* stale-translation oracle, default on */
	bool bind;			/* pin CPUs to host PUs with hwloc */
	unsigned spin_us;		/* busy-wait before blocking; default
					   depends on oversubscription */
	struct shd_sched_config sched;	/* host (default) or seeded */
};

/* Defaults: see above.  Any thread. */
SHD_EXPORT void shd_config_init(struct shd_config *cfg);

/*
 * Build a machine and start its CPU threads (idle).  0, or -EINVAL/-ERANGE
 * for a bad field (shd_last_error() names it), -ENOMEM.  Any thread that is
 * not one of a machine's CPUs.
 */
SHD_EXPORT int shd_machine_create(const struct shd_config *cfg,
				  struct shd_machine **out);

/*
 * Stop the CPU threads and free everything, including address spaces not yet
 * destroyed.  No task may be running.  Not from a CPU thread.
 */
SHD_EXPORT void shd_machine_destroy(struct shd_machine *m);

/*
 * Stop the CPU threads without freeing anything: statistics, violations and
 * the seeded scheduler's complete log (its teardown included) stay
 * readable until shd_machine_destroy().  No task may be running; no task
 * can be submitted after.  0, -EINVAL, -EPERM (from a CPU thread).
 */
SHD_EXPORT int shd_machine_stop(struct shd_machine *m);

/* The machine's CPU count, and its configuration as validated (0 and NULL
 * for no machine).  Any thread. */
SHD_EXPORT unsigned shd_machine_ncpus(const struct shd_machine *m);
SHD_EXPORT const struct shd_config *shd_machine_config(const struct shd_machine *m);
/* Host PUs the CPUs were spread over (1 when not bound). */
SHD_EXPORT unsigned shd_machine_host_pus(const struct shd_machine *m);

#ifdef __cplusplus
}
#endif
#endif
