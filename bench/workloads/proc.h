/* SPDX-License-Identifier: MIT */
/* A threaded process of the fork and exec workloads (wl_fork.c defines the
 * helpers; wl_exec.c uses them). */
#ifndef SHD_BENCH_PROC_H
#define SHD_BENCH_PROC_H

#include "workload.h"

#define PROC_BASE (1ull << 32)

struct proc {
	struct shd_mm *mm;		/* the parent, or the current image */
	struct wl_barrier bar;
	uint64_t page, pages, touch, rounds;
	uint64_t failures;
	char note[160];
};

/* Phase A of both: each thread stores to its pages (and reads one back). */
int wl_proc_touch(struct shd_cpu *cpu, struct proc *p, uint64_t r);
/* Create P's mm, map its threads' pages, run FN on its threads (timed). */
int wl_proc_run(struct shd_machine *m, const struct wl_opts *o,
		struct wl_result *res, struct proc *p, shd_task_fn fn);

#endif
