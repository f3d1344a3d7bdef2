/* SPDX-License-Identifier: MIT */
/* mmap_lock: the mm's reader-writer semaphore (kernel/locking/rwsem.c). */
#ifndef SHD_RUNTIME_MMAP_LOCK_H
#define SHD_RUNTIME_MMAP_LOCK_H

#include "types.h"

/*
 * mmap_lock, a reader-writer semaphore (see mmap_lock.c): read for madvise and
 * munmap's zap, write for mmap, mprotect and munmap's VMA detach (then
 * downgraded to read).  CPU (NULL: not a CPU thread) sleeps while it
 * waits: lazy TLB mode if it was running MM, taking IPIs; it runs MM
 * again when it returns.  Never under the page-table lock; not nested.
 */
void shd__mmap_read_lock(struct shd_cpu *cpu, struct shd_mm *mm);
void shd__mmap_read_unlock(struct shd_mm *mm);
void shd__mmap_write_lock(struct shd_cpu *cpu, struct shd_mm *mm);
void shd__mmap_write_unlock(struct shd_mm *mm);
/* Write to read, letting readers in (vms_complete_munmap_vmas()). */
void shd__mmap_write_downgrade(struct shd_mm *mm);

#endif
