/* SPDX-License-Identifier: MIT */
/* get_user_pages_remote(FOLL_FORCE) for ptrace. */
#ifndef SHD_RUNTIME_GUP_H
#define SHD_RUNTIME_GUP_H

#include "types.h"

/* The frame behind VA in MM, faulted in as get_user_pages(FOLL_FORCE)
 * would (WRITE: a write to a private page copies it, even where the
 * program may not write).  *PTE gets the PTE.  UINT64_MAX with the error
 * in *ERR. */
uint64_t shd__gup_frame(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va,
			bool write, uint64_t *pte, int *err);

#endif
