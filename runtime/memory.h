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
/* Clear the PTEs of vpns [S, E) that have frames into TLB.  Under the
 * page-table lock of TLB->mm. */
struct shd_mmu_gather;
void shd__zap_range(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e);
/* A range operation's last flush, then flush_cache_done() on [S, E). */
int shd__gather_finish(struct shd_mmu_gather *tlb, uint64_t s, uint64_t e);
/*
 * The VMA pieces of [ADDR, END) in MM, as vpn pairs in *SEGS (malloc'ed,
 * the caller frees): one tlb_start_vma()/tlb_end_vma() each.  0 (and
 * *SEGS maybe NULL) if there are none or no memory for the list: the
 * caller then walks the whole range as one (one flush fewer, never one
 * missing).  Under the PTL or mmap_lock for write.
 */
size_t shd__vma_segments(struct shd_mm *mm, uint64_t addr, uint64_t end,
			 uint64_t **segs);
/* Who unmaps: madvise(MADV_DONTNEED) keeps the VMAs (mmap_lock read);
 * munmap detaches them (write, then downgraded); exit_mmap as munmap,
 * with a fullmm gather (no flush at each VMA's end). */
enum shd_unmap_kind { SHD_UNMAP_MADVISE, SHD_UNMAP_MUNMAP, SHD_UNMAP_EXIT };
/* Unmap [ADDR, +LEN) of MM: clear under the PTL, flush at each VMA's end
 * and at the finish (nested: all of the mm), free after.  Takes mmap_lock
 * and the PTL.  0, -ENOMEM, or a flush error. */
int shd__unmap_range(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
		     uint64_t len, enum shd_unmap_kind kind);

#endif
