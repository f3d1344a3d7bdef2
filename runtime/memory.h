/* SPDX-License-Identifier: MIT */
/* Page faults, simulated accesses, and the unmap of a range (mm/memory.c). */
#ifndef SHD_RUNTIME_MEMORY_H
#define SHD_RUNTIME_MEMORY_H

#include "types.h"

/* ACC_FORCE: a debugger's write, get_user_pages(FOLL_FORCE | FOLL_WRITE):
 * allowed into a private mapping the program cannot write (its text),
 * where it breaks copy-on-write and leaves the PTE read-only.  ACC_PEEK: a
 * debugger's read (FOLL_FORCE): any accessible mapping, execute-only too. */
enum shd_access_kind { ACC_READ, ACC_WRITE, ACC_FETCH, ACC_FORCE, ACC_PEEK };

/* handle_mm_fault() of ADDR in MM for an access of kind K.  Takes MM's
 * lock.  0, -EFAULT, -EACCES, -ENOMEM, or a flush error (COW). */
int shd__handle_mm_fault(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
			 enum shd_access_kind k);
/* A page that VMA may map but not write yet (copy-on-write). */
bool shd__page_is_cow(struct shd_machine *m, const struct shd_vma *vma,
		      uint64_t pfn);
/* Clear the PTEs of vpns [S, E) that have frames into TLB.  Under the mm
 * lock of TLB->mm. */
struct shd_mmu_gather;
void shd__zap_range(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e);
/* munmap (DROP_VMA) or madvise(MADV_DONTNEED) of [ADDR, +LEN) in MM:
 * clear, flush once, free after.  Takes MM's lock.  0, -ENOMEM, or a
 * flush error. */
int shd__unmap_range(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		     uint64_t len, bool drop_vma);

#endif
