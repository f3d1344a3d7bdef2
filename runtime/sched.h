/* SPDX-License-Identifier: MIT */
/* The CPUs' threads: the idle loop, and tasks handed to them. */
#ifndef SHD_RUNTIME_SCHED_H
#define SHD_RUNTIME_SCHED_H

#include "types.h"

/* The thread of simulated CPU ARG (a struct shd_cpu) under the host
 * scheduler: bind, then shd__cpu_run(). */
void *shd__cpu_main(void *arg);
/* CPU's life on whatever runs it (its thread, or its context on the seeded
 * scheduler's carrier): take IPIs, run tasks, idle, until the machine
 * stops; returns with its mm left. */
void shd__cpu_run(struct shd_cpu *cpu);
/* An idle CPU's wait is over: a task is pending or the machine stops (ARG:
 * the CPU). */
bool shd__cpu_idle_done(void *arg);

#endif
