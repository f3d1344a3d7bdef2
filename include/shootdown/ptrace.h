/* SPDX-License-Identifier: MIT */
/* shootdown ptrace: PEEKDATA/POKEDATA through access_process_vm (kernel/ptrace.c). */
#ifndef SHOOTDOWN_PTRACE_H
#define SHOOTDOWN_PTRACE_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;

/*
 * ptrace(PTRACE_POKEDATA / PEEKDATA): the tracer on CPU writes (reads) the
 * 8 bytes at VA of MM, which CPU need not run (access_process_vm()): the
 * page is faulted in as get_user_pages() would (a poke into a private page
 * copies it), and the bytes go through the page's kernel address
 * (copy_to_user_page() / copy_from_user_page()), which on an aliasing
 * D-cache flushes this CPU's lines of the page.  0, -EINVAL, -EFAULT,
 * -EACCES, -ENOMEM.  CPU's own thread.
 */
SHD_EXPORT int shd_ptrace_poke(struct shd_cpu *cpu, struct shd_mm *mm,
			       uint64_t va, uint64_t val);
SHD_EXPORT int shd_ptrace_peek(struct shd_cpu *cpu, struct shd_mm *mm,
			       uint64_t va, uint64_t *val);

#ifdef __cplusplus
}
#endif
#endif
