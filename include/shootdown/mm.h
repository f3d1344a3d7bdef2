/* SPDX-License-Identifier: MIT */
/* shootdown address spaces: mm, mappings, context switches, simulated accesses. */
#ifndef SHOOTDOWN_MM_H
#define SHOOTDOWN_MM_H

#include <stdint.h>
#include <shootdown/export.h>
#include <shootdown/machine.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Virtual addresses are 48-bit x86-64 style: user space is [0, SHD_USER_TOP),
 * the kernel's vmap area is [SHD_KERNEL_BASE, SHD_KERNEL_TOP) and is mapped
 * with global TLB entries, visible from every mm.  Lengths and addresses
 * given to mapping calls must be page aligned (the machine's page size).
 */
#define SHD_USER_TOP	0x0000800000000000ull
#define SHD_KERNEL_BASE	0xffffc90000000000ull	/* vmalloc area */
#define SHD_KERNEL_TOP	0xffffe90000000000ull
#define SHD_PAGE_OFFSET	0xffff888000000000ull	/* the linear map of memory */

#define SHD_PROT_NONE	0u
#define SHD_PROT_READ	1u
#define SHD_PROT_WRITE	2u
#define SHD_PROT_EXEC	4u

/* shd_mmap_file() flags */
#define SHD_MAP_PRIVATE	0u
#define SHD_MAP_SHARED	1u

struct shd_mm;	/* opaque address space (struct mm_struct) */
struct shd_file;	/* opaque file: an inode with its page cache */

/*
 * Create an empty address space with a fresh never-reused context id.  Any
 * thread.  0, -ENOMEM.
 */
SHD_EXPORT int shd_mm_create(struct shd_machine *m, struct shd_mm **out);

/*
 * Drop the creator's reference (mmput + mmdrop).  No task may still run in
 * MM, but CPUs may hold it lazily as their active mm: the address space and
 * its page tables and frames are freed only when the last lazy CPU lets go,
 * after an RCU grace period.  Any thread.
 */
SHD_EXPORT void shd_mm_destroy(struct shd_mm *mm);

/*
 * The last thread of MM exits: exit_mmap() then shd_mm_destroy().  Every
 * mapping is torn down from CPU (which need not run MM): PTEs cleared, page
 * tables freed, one flush of the whole span (it reaches lazy CPUs too, as
 * page tables were freed), and only then are the frames released, so a
 * fork child that exits gives its pages back to the parent at once.  MM is
 * gone after the call whatever it returns.  0, -EINVAL, or the flush's
 * error.  CPU's own thread.
 */
SHD_EXPORT int shd_mm_exit(struct shd_cpu *cpu, struct shd_mm *mm);

/* The context id (never reused within a process). */
SHD_EXPORT uint64_t shd_mm_id(const struct shd_mm *mm);

/*
 * mmap(MAP_FIXED_NOREPLACE | MAP_ANONYMOUS | MAP_PRIVATE): create a VMA.
 * Pages are allocated on first touch.  0, -EINVAL (unaligned, empty,
 * outside user space, bad prot), -EEXIST (overlaps a mapping), -ENOMEM.
 * Only on CPU's own thread (it may block on the mm lock, taking IPIs).
 */
SHD_EXPORT int shd_mmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr,
			uint64_t len, unsigned prot);

/*
 * A file of NPAGES pages that reads as zeros: its page cache fills on first
 * touch and its frames count against the machine's memory.  Any thread.
 * 0, -EINVAL (no pages, or more than the machine has frames), -ENOMEM.
 */
SHD_EXPORT int shd_file_create(struct shd_machine *m, uint64_t npages,
			       struct shd_file **out);

/*
 * Drop the creator's reference.  Mappings keep the file (and the frames
 * they map) alive until they go, as an unlinked file stays while mapped.
 */
SHD_EXPORT void shd_file_destroy(struct shd_file *f);

/*
 * The kernel's write(2) / read(2) of the 8 bytes at byte OFF (8-byte
 * aligned) of F, on CPU: through the page-cache page's linear-map address
 * (SHD_PAGE_OFFSET + its physical address), so through that colour of an
 * aliasing D-cache.  The write ends with flush_dcache_page(), as
 * generic_perform_write() does; the read starts with it when user mappings
 * exist (they may have written).  0, -EINVAL, -ENOMEM.  CPU's own thread.
 */
SHD_EXPORT int shd_file_write(struct shd_cpu *cpu, struct shd_file *f,
			      uint64_t off, uint64_t val);
SHD_EXPORT int shd_file_read(struct shd_cpu *cpu, struct shd_file *f,
			     uint64_t off, uint64_t *val);

/*
 * ptrace(PTRACE_POKEDATA / PEEKDATA): the tracer on CPU writes (reads) the
 * 8 bytes at VA of MM, which CPU need not run (access_process_vm()): the
 * page is faulted in as get_user_pages() would (a poke into a private page
 * copies it), and the bytes go through the page's kernel address
 * (copy_to_user_page() / copy_from_user_page()), which on an aliasing
 * D-cache flushes this CPU's lines of the page.  0, -EINVAL, -EFAULT,
 * -EACCES, -ENOMEM.  CPU's own thread.
 */
SHD_EXPORT int shd_ptrace_poke(struct shd_cpu *cpu, struct shd_mm *mm,
			       uint64_t va, uint64_t val);
SHD_EXPORT int shd_ptrace_peek(struct shd_cpu *cpu, struct shd_mm *mm,
			       uint64_t va, uint64_t *val);

/*
 * mmap(MAP_FIXED_NOREPLACE | flags, fd, PGOFF pages): map pages
 * [PGOFF, PGOFF + len/pagesize) of F.  SHD_MAP_SHARED maps the page cache
 * itself (stores reach the file and every other mapping);
 * SHD_MAP_PRIVATE maps it read-only and copies a page on the first store
 * to it (copy-on-write).  On an aliasing D-cache a shared mapping must have
 * the colour of its file offset (sparc's SHMLBA rule).  0, -EINVAL (bad
 * range or flags, a shared mapping at the wrong colour, or the range runs
 * past the end of the file), -EEXIST, -ENOMEM.  CPU's own thread.
 */
SHD_EXPORT int shd_mmap_file(struct shd_cpu *cpu, struct shd_mm *mm,
			     uint64_t addr, uint64_t len, unsigned prot,
			     unsigned flags, struct shd_file *f, uint64_t pgoff);

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

/*
 * munmap(): clear the PTEs, flush_tlb_range(), then free the frames and any
 * page-table page left empty (the latter through RCU; the flush then reaches
 * lazy CPUs too).  Unmapped holes are fine, as in Linux.  0, -EINVAL.
 */
SHD_EXPORT int shd_munmap(struct shd_cpu *cpu, struct shd_mm *mm,
			  uint64_t addr, uint64_t len);

/*
 * Reclaim one page, try_to_unmap(TTU_BATCH_FLUSH): clear VA's PTE in MM
 * and, as the policy's `batch` says, flush it now (ptep_clear_flush) or add
 * it to CPU's pending batch (arch_tlbbatch_add_pending).  The page is
 * treated as clean (a lazily freed anonymous page, or a clean file page):
 * its contents are dropped, and the next touch faults in a zeroed page (or
 * the file's).  The frame is released when its flush has completed.  1 if a
 * page was unmapped, 0 if none is mapped there (or it is the zero page),
 * -EINVAL, or a flush error.  CPU's own thread.
 */
SHD_EXPORT int shd_try_to_unmap(struct shd_cpu *cpu, struct shd_mm *mm,
				uint64_t va);

/*
 * try_to_unmap_flush(): flush CPU's pending batch (x86: one full flush on
 * every CPU of the union of the mms' masks; arm64: wait for the
 * invalidations already issued), then release its frames.  A task's batch
 * is also flushed when the task returns.  0 or a flush error.
 */
SHD_EXPORT int shd_try_to_unmap_flush(struct shd_cpu *cpu);

/*
 * mprotect(): change the VMAs and the present PTEs, flush_tlb_range().
 * Write permission is not given to a page that is still copy-on-write
 * (shared after fork, or page cache under a private mapping): the next
 * store copies it, as in Linux.
 * 0, -EINVAL, -ENOMEM (part of the range is not mapped; nothing changed).
 */
SHD_EXPORT int shd_mprotect(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t addr, uint64_t len, unsigned prot);

/*
 * madvise(MADV_DONTNEED): drop the pages (the VMA stays; the next touch
 * faults in a zeroed page, or the file's page for a file mapping: private
 * changes are lost, shared ones are in the page cache),
 * flush_tlb_range().  0, -EINVAL, -ENOMEM.
 */
SHD_EXPORT int shd_madvise_dontneed(struct shd_cpu *cpu, struct shd_mm *mm,
				    uint64_t addr, uint64_t len);

/*
 * Kernel vmap()/vunmap() of fresh zeroed pages at a fixed address in the
 * vmap area (global translations, read-write-execute as module_alloc()'s
 * were before strict kernel RWX: code written there runs after
 * flush_icache_range()).  vunmap() ends in flush_tlb_kernel_range().
 * 0, -EINVAL, -EEXIST, -ENOMEM.
 */
SHD_EXPORT int shd_vmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len);
SHD_EXPORT int shd_vunmap(struct shd_cpu *cpu, uint64_t addr, uint64_t len);

/*
 * switch_mm(): CPU now runs a task of NEXT.  Sets CPU's bit in NEXT's
 * mm_cpumask (ordered before reading NEXT's tlb_gen, pairing with the
 * flusher's generation bump), picks an ASID slot and flushes it if the
 * policy says it may hold stale entries.  Leaving lazy mode on the same mm is
 * the prev == next case.  NULL switches to the kernel's init_mm.  0.
 */
SHD_EXPORT int shd_switch_mm(struct shd_cpu *cpu, struct shd_mm *next);

/*
 * enter_lazy_tlb(): CPU runs a kernel thread or goes idle and keeps its
 * current mm loaded without using it.  A CPU whose task returns enters lazy
 * mode by itself.
 */
SHD_EXPORT void shd_enter_lazy_tlb(struct shd_cpu *cpu);

/* The mm CPU has loaded (lazily or not), or NULL for init_mm. Own thread. */
SHD_EXPORT struct shd_mm *shd_cpu_active_mm(const struct shd_cpu *cpu);

/*
 * Simulated 64-bit accesses at an 8-byte aligned address of the current mm
 * (or the kernel's vmap area), through CPU's TLB: a hit uses the cached
 * translation, a miss walks the page table, a not-present page faults in a
 * zeroed frame (for a load, the shared zero page, read-only, as Linux
 * does; for a file mapping, the file's page) and ends with
 * update_mmu_cache(); a store to a copy-on-write page (the zero page
 * included) copies it and flushes the old translation
 * with flush_tlb_page() (ptep_clear_flush()).  0, -EINVAL (unaligned or
 * non-canonical), -EFAULT (no mapping: SIGSEGV), -EACCES (protection),
 * -ENOMEM (out of frames), -EPERM (a user access while CPU is in lazy TLB
 * mode: switch_mm first).  shd_fetch() is an instruction fetch: it needs
 * PROT_EXEC and goes through the instruction TLB when the TLB is split.
 * Only on CPU's own thread.
 */
SHD_EXPORT int shd_load(struct shd_cpu *cpu, uint64_t addr, uint64_t *val);
SHD_EXPORT int shd_store(struct shd_cpu *cpu, uint64_t addr, uint64_t val);
SHD_EXPORT int shd_fetch(struct shd_cpu *cpu, uint64_t addr, uint64_t *val);

#ifdef __cplusplus
}
#endif
#endif
