/* SPDX-License-Identifier: MIT */
/* shootdown cross-CPU calls: smp_call_function_single (kernel/smp.c). */
#ifndef SHOOTDOWN_SMP_H
#define SHOOTDOWN_SMP_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;

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
