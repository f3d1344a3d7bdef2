/* SPDX-License-Identifier: MIT */
/* shootdown litmus words: memory accessed as the protocol's fields are, for litmus tests of the memory model. */
#ifndef SHOOTDOWN_LITMUS_H
#define SHOOTDOWN_LITMUS_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;

/*
 * A litmus word is an 8-byte aligned uint64_t of the caller's, shared by
 * tasks on several CPUs and touched only through these calls, which
 * access it exactly as the shootdown protocol accesses mm_cpumask,
 * loaded_mm, is_lazy and tlb_gen: under the seeded scheduler with
 * cfg.sched.store_buffers (the default), as x86-TSO does (a store waits in
 * the CPU's store buffer, the CPU's own loads see it, other CPUs see memory
 * until it commits; a fence or a locked instruction commits the buffer);
 * otherwise sequentially consistent.  Each call is a scheduling point, so
 * a seeded run explores the interleavings of a litmus test like those of
 * the protocol (Sewell et al.'s SB, MP, ... shapes).
 *
 * Every call: only on CPU's own thread (inside a task), not from an IPI
 * handler.  0, -EINVAL (no word, or not 8-byte aligned), -EPERM.
 */
/* MOV store: *WORD = V. */
SHD_EXPORT int shd_litmus_store(struct shd_cpu *cpu, uint64_t *word,
				uint64_t v);
/* MOV load: *OUT = *WORD as CPU sees it. */
SHD_EXPORT int shd_litmus_load(struct shd_cpu *cpu, const uint64_t *word,
			       uint64_t *out);
/* MFENCE (smp_mb()). */
SHD_EXPORT int shd_litmus_mb(struct shd_cpu *cpu);
/* XCHG (locked): *OLD (may be NULL) = *WORD, *WORD = V. */
SHD_EXPORT int shd_litmus_xchg(struct shd_cpu *cpu, uint64_t *word,
			       uint64_t v, uint64_t *old);
/* Stores waiting in CPU's store buffer (0 when there are none: the host
 * scheduler, or store_buffers off).  CPU's own thread. */
SHD_EXPORT unsigned shd_litmus_pending(const struct shd_cpu *cpu);

#ifdef __cplusplus
}
#endif
#endif
