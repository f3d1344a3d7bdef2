/* SPDX-License-Identifier: MIT */
/* shootdown fork: dup_mmap, copy-on-write sharing (kernel/fork.c). */
#ifndef SHOOTDOWN_FORK_H
#define SHOOTDOWN_FORK_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_cpu;
struct shd_mm;

/*
 * fork()'s dup_mmap(): a new mm with PARENT's mappings.  Shared mappings
 * share their frames; private pages are shared read-only by both and
 * copied on the first store in either (the parent's writable PTEs are
 * write-protected, then flush_tlb_mm(PARENT), as Linux's dup_mmap() ends).
 * *CHILD is released with shd_mm_destroy().  0, -EINVAL, -ENOMEM (and any
 * error of the flush).  CPU's own thread.
 */
SHD_EXPORT int shd_mm_dup(struct shd_cpu *cpu, struct shd_mm *parent,
			  struct shd_mm **child);

#ifdef __cplusplus
}
#endif
#endif
