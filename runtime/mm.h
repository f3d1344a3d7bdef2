/* SPDX-License-Identifier: MIT */
/* The mm: allocation, references, the lock, and the range checks of its calls. */
#ifndef SHD_RUNTIME_MM_H
#define SHD_RUNTIME_MM_H

#include "types.h"

/* A new mm (KERNEL: the machine's init_mm for the vmap area), or NULL. */
struct shd_mm *shd__mm_alloc(struct shd_machine *m, bool kernel);
/* A reference to MM (a CPU that loads it, a batch or LATR post that
 * names it); shd__mm_put() is the partner. */
void shd__mm_get(struct shd_mm *mm);
/* The last put unlinks MM and frees it after a grace period. */
void shd__mm_put(struct shd_mm *mm);
/* Free everything now: no CPU can reach MM any more. */
void shd__mm_free_now(struct shd_mm *mm);
/* The page-table lock (mm-wide).  CPU (NULL: not a CPU thread) keeps taking
 * IPIs while it waits, as a kernel CPU spinning on a lock takes
 * interrupts; the unlock ends hypersparc's ordering window. */
void shd__mm_lock(struct shd_cpu *cpu, struct shd_mm *mm);
void shd__mm_unlock(struct shd_mm *mm);

/* Page-aligned, non-empty, inside user space / the vmap area: 0 or -EINVAL. */
int shd__check_user_range(struct shd_machine *m, const char *what,
			  uint64_t addr, uint64_t len);
int shd__check_kernel_range(struct shd_machine *m, const char *what,
			    uint64_t addr, uint64_t len);
/* shd__check_cpu(), and MM is a user mm of CPU's machine. */
int shd__check_user_mm(struct shd_cpu *cpu, struct shd_mm *mm, const char *what);

#endif
