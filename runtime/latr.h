/* SPDX-License-Identifier: MIT */
/* LATR: lazy, asynchronous munmap shootdowns (Kumar et al., ASPLOS'18). */
#ifndef SHD_RUNTIME_LATR_H
#define SHD_RUNTIME_LATR_H

#include "types.h"

#define SHD_LATR_TICK 256	/* a CPU sweeps every this many accesses */

/* Post MM's flush of vpns [S, E) and hand over the frames and tables it
 * releases.  Under MM's lock.  0, or -ENOMEM (nothing was posted: the
 * caller flushes synchronously). */
int shd__latr_post(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
		   uint64_t e, bool freed_tables, uint64_t **pfns, size_t *npfns,
		   struct shd_pt_leaf **tables);
/* Release what every target has swept; FORCE: interrupt and wait for the
 * rest.  No mm lock held.  0 or -ETIMEDOUT. */
int shd__latr_reap(struct shd_cpu *cpu, bool force);
/* Before [S, E) of MM is mapped again: the flushes in flight there are
 * swept everywhere.  Under MM's lock.  0 or -ETIMEDOUT. */
int shd__latr_settle(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t s,
		     uint64_t e);
/* A tick of CPU: sweep its queue, look after its posts. */
void shd__latr_tick(struct shd_cpu *cpu);
/* Out of frames: hurry the sweeps.  No lock held.  0 (retry) or an error. */
int shd__latr_relieve(struct shd_cpu *cpu, struct shd_mm *mm);

#endif
