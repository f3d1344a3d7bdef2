/* SPDX-License-Identifier: MIT */
/* shootdown mprotect (mm/mprotect.c). */
#ifndef SHOOTDOWN_MPROTECT_H
#define SHOOTDOWN_MPROTECT_H

#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/mm.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;

/*
 * mprotect(): change the VMAs and the present PTEs, flush_tlb_range().
 * Write permission is not given to a page that is still copy-on-write
 * (shared after fork, or page cache under a private mapping): the next
 * store copies it, as in Linux.
 * 0, -EINVAL, -ENOMEM (part of the range is not mapped; nothing changed).
 */
SHD_EXPORT int shd_mprotect(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t addr, uint64_t len, unsigned prot);

#ifdef __cplusplus
}
#endif
#endif
