/* SPDX-License-Identifier: MIT */
/* shootdown machine: simulated CPUs as pinned worker threads, and tasks on them. */
#ifndef SHOOTDOWN_MACHINE_H
#define SHOOTDOWN_MACHINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/policy.h>
#include <shootdown/arch.h>

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

SHD_EXPORT unsigned shd_machine_ncpus(const struct shd_machine *m);
SHD_EXPORT const struct shd_config *shd_machine_config(const struct shd_machine *m);
/* Host PUs the CPUs were spread over (1 when not bound). */
SHD_EXPORT unsigned shd_machine_host_pus(const struct shd_machine *m);

/*
 * A task runs on one simulated CPU, like a kernel running a task there.  It
 * receives that CPU; every shootdown call it makes takes pending IPIs first,
 * as a CPU takes interrupts between instructions.  A task that computes for a
 * long time without calling the library should call shd_cpu_poll().
 * Its return value is handed to shd_cpu_join().
 */
typedef int (*shd_task_fn)(struct shd_cpu *cpu, void *arg);

/*
 * Start FN(cpu, ARG) on CPU (asynchronous; pair with shd_cpu_join()).
 * 0, -ERANGE (no such CPU), -EBUSY (a task is already running there).
 * Not from a CPU thread.
 */
SHD_EXPORT int shd_cpu_submit(struct shd_machine *m, unsigned cpu,
			      shd_task_fn fn, void *arg);

/*
 * Wait for the task on CPU to finish; *ret (may be NULL) gets its return
 * value.  0, -ERANGE, -ESRCH (nothing submitted).  Not from a CPU thread.
 */
SHD_EXPORT int shd_cpu_join(struct shd_machine *m, unsigned cpu, int *ret);

/* Submit FN on CPUs first..first+n-1 and join them all; first error wins. */
SHD_EXPORT int shd_run_on(struct shd_machine *m, unsigned first, unsigned n,
			  shd_task_fn fn, void *arg);

/* Accessors for tasks. */
SHD_EXPORT unsigned shd_cpu_id(const struct shd_cpu *cpu);
SHD_EXPORT struct shd_machine *shd_cpu_machine(const struct shd_cpu *cpu);

/* Take any pending IPIs now.  Only on CPU's own thread. */
SHD_EXPORT void shd_cpu_poll(struct shd_cpu *cpu);

/*
 * Emulated smp_call_function_single(): run FN(target_cpu, INFO) on TARGET
 * through its IPI queue and wait for it to finish (FN runs on TARGET's own
 * thread).  If TARGET is CPU itself FN runs directly.  0, -ERANGE,
 * -ETIMEDOUT (watchdog; the report names the CPU).  Only from CPU's thread,
 * not from inside an IPI handler.
 */
typedef void (*shd_smp_call_fn)(struct shd_cpu *cpu, void *info);
SHD_EXPORT int shd_smp_call_function_single(struct shd_cpu *cpu,
					    unsigned target,
					    shd_smp_call_fn fn, void *info);

#ifdef __cplusplus
}
#endif
#endif
