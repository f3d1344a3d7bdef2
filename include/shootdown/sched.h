/* SPDX-License-Identifier: MIT */
/* shootdown CPUs at work: tasks on simulated CPUs, and taking interrupts between them (kernel/sched). */
#ifndef SHOOTDOWN_SCHED_H
#define SHOOTDOWN_SCHED_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_machine;
struct shd_cpu;

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

/* Take any pending IPIs now.  Only on CPU's own thread.  Under the seeded
 * scheduler it is also a yield: a task that spins on a flag another CPU
 * sets must call it in the loop, or no other CPU ever runs. */
SHD_EXPORT void shd_cpu_poll(struct shd_cpu *cpu);

/*
 * CPU computes for NS nanoseconds without taking interrupts: IPIs sent to
 * it wait until its next library call or shd_cpu_poll().  Under the host
 * scheduler it spins on the host clock; under the seeded one it waits for
 * simulated time to pass NS, while other CPUs run (when all of them wait,
 * the clock jumps to the earliest deadline), so it returns at the first
 * scheduling decision at or after its end, never before.  0, -EINVAL (no
 * CPU), -EPERM (not on CPU's own thread, or from an IPI handler).  Only on
 * CPU's own thread, inside a task; orders nothing.
 */
SHD_EXPORT int shd_cpu_compute(struct shd_cpu *cpu, uint64_t ns);

#ifdef __cplusplus
}
#endif
#endif
