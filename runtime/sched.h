/* SPDX-License-Identifier: MIT */
/* The CPUs' threads: the idle loop, and tasks handed to them. */
#ifndef SHD_RUNTIME_SCHED_H
#define SHD_RUNTIME_SCHED_H

#include "types.h"

/* The thread of simulated CPU ARG (a struct shd_cpu): bind, then take
 * IPIs, run tasks, sleep, until the machine stops. */
void *shd__cpu_main(void *arg);
/* An idle CPU's wait is over: a task is pending or the machine stops (ARG:
 * the CPU). */
bool shd__cpu_idle_done(void *arg);

#endif
