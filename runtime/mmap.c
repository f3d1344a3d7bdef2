/* SPDX-License-Identifier: MIT */
/* Mappings: mmap of anonymous memory and files, munmap, exit_mmap (mm/mmap.c). */

/*
 * A mapping is a VMA and nothing else until it is touched (memory.c faults
 * pages in).  Under LATR a new mapping first settles the flushes still in
 * flight over its range, so that no CPU reads a new page through an old
 * translation.  Unmapping is memory.c's shd__unmap_range().  mmap takes
 * mmap_lock for write, and the page-table lock inside it for the VMA
 * change (faults read the VMAs under the PTL alone).
 */
#include <errno.h>
#include <inttypes.h>

#include <shootdown/mmap.h>
#include "cache.h"
#include "file.h"
#include "latr.h"
#include "memory.h"
#include "mm.h"
#include "mmap_lock.h"
#include "smp.h"
#include "vma.h"

static int mmap_common(struct shd_cpu *cpu, struct shd_mm *mm,
		       const struct shd_vma *nv)
{
	int err = 0;

	shd__cpu_take_ipis(cpu);
	shd__mmap_write_lock(cpu, mm);
	shd__mm_lock(cpu, mm);	/* VMA changes: under both */
	/* LATR: the range is not reused while CPUs may still map it. */
	if (mm->latr && (err = shd__latr_settle(cpu, mm,
						nv->start >> cpu->m->page_shift,
						nv->end >> cpu->m->page_shift))) {
		shd__mm_unlock(mm);
		shd__mmap_write_unlock(mm);
		return err;
	}
	if (shd__vma_overlaps(mm, nv->start, nv->end)) {
		err = shd__fail(-EEXIST, "mmap: [0x%" PRIx64 ", +0x%" PRIx64
				") overlaps a mapping", nv->start,
				nv->end - nv->start);
	} else if (shd__vma_reserve(mm, 1) < 0) {
		err = shd__fail(-ENOMEM, "mmap: out of memory for a VMA");
	} else {
		if (nv->file)
			shd__file_map(nv->file);
		shd__vma_insert(mm, nv);
		shd__vma_merge(mm);
	}
	shd__mm_unlock(mm);
	shd__mmap_write_unlock(mm);
	return err;
}

static int mmap_check(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		      uint64_t len, unsigned prot)
{
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "mmap")) ||
	    (err = shd__check_user_range(cpu->m, "mmap", addr, len)))
		return err;
	if (prot & ~7u)
		return shd__fail(-EINVAL, "mmap: unknown protection bits 0x%x", prot);
	return 0;
}

int shd_mmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
	     uint64_t len, unsigned prot)
{
	int err = mmap_check(cpu, mm, addr, len, prot);

	return err ? err : mmap_common(cpu, mm, &(struct shd_vma){
		.start = addr, .end = addr + len, .prot = prot });
}

int shd_mmap_file(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		  uint64_t len, unsigned prot, unsigned flags,
		  struct shd_file *f, uint64_t pgoff)
{
	uint64_t pages;
	int err;

	if ((err = mmap_check(cpu, mm, addr, len, prot)))
		return err;
	if (flags & ~SHD_MAP_SHARED)
		return shd__fail(-EINVAL, "mmap: unknown flags 0x%x", flags);
	if (!f || shd__file_machine(f) != cpu->m)
		return shd__fail(-EINVAL, "mmap: not a file of this machine");
	pages = len >> cpu->m->page_shift;
	if (pgoff > shd__file_npages(f) || pages > shd__file_npages(f) - pgoff)
		return shd__fail(-EINVAL, "mmap: pages [%" PRIu64 ", %" PRIu64
				 ") run past the end of the file (%" PRIu64
				 " pages)", pgoff, pgoff + pages,
				 shd__file_npages(f));
	/* sparc's arch_get_unmapped_area(): a shared mapping whose colour is
	 * not its file offset's would alias other mappings of the file. */
	if ((flags & SHD_MAP_SHARED) && cpu->m->cache &&
	    shd__cache_colour(cpu->m, addr) !=
	    shd__cache_colour(cpu->m, pgoff << cpu->m->page_shift))
		return shd__fail(-EINVAL, "mmap: a shared mapping of page %" PRIu64
				 " at 0x%" PRIx64 " would have colour %u, not the "
				 "file offset's %u (SHMLBA: it would alias other "
				 "mappings)", pgoff, addr, shd__cache_colour(cpu->m, addr),
				 shd__cache_colour(cpu->m, pgoff << cpu->m->page_shift));
	return mmap_common(cpu, mm, &(struct shd_vma){ .start = addr,
		.end = addr + len, .prot = prot, .shared = flags & SHD_MAP_SHARED,
		.file = f, .pgoff = pgoff });
}

int shd_munmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
	       uint64_t len)
{
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "munmap")) ||
	    (err = shd__check_user_range(cpu->m, "munmap", addr, len)))
		return err;
	return shd__unmap_range(cpu, mm, addr, len, SHD_UNMAP_MUNMAP);
}

int shd_mm_exit(struct shd_cpu *cpu, struct shd_mm *mm)
{
	uint64_t start = 0, end = 0;
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "exit_mmap")))
		return err;
	shd__mm_lock(cpu, mm);
	if (mm->nvmas) {
		start = mm->vmas[0].start;
		end = mm->vmas[mm->nvmas - 1].end;
	}
	shd__mm_unlock(mm);
	if (end)
		err = shd__unmap_range(cpu, mm, start, end - start,
				       SHD_UNMAP_EXIT);
	shd_mm_destroy(mm);
	return err;
}
