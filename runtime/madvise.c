/* SPDX-License-Identifier: MIT */
/* madvise(MADV_DONTNEED): drop a range's pages, keep the VMAs (mm/madvise.c). */
#include <shootdown/madvise.h>
#include "memory.h"
#include "mm.h"

int shd_madvise_dontneed(struct shd_cpu *cpu, struct shd_mm *mm,
			 uint64_t addr, uint64_t len)
{
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "madvise")) ||
	    (err = shd__check_user_range(cpu->m, "madvise", addr, len)))
		return err;
	return shd__unmap_range(cpu, mm, addr, len, SHD_UNMAP_MADVISE);
}
