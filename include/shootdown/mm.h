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

#define SHD_PROT_NONE	0u
#define SHD_PROT_READ	1u
#define SHD_PROT_WRITE	2u
#define SHD_PROT_EXEC	4u

struct shd_mm;	/* opaque address space (struct mm_struct) */

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
 * munmap(): clear the PTEs, flush_tlb_range(), then free the frames and any
 * page-table page left empty (the latter through RCU; the flush then reaches
 * lazy CPUs too).  Unmapped holes are fine, as in Linux.  0, -EINVAL.
 */
SHD_EXPORT int shd_munmap(struct shd_cpu *cpu, struct shd_mm *mm,
			  uint64_t addr, uint64_t len);

/*
 * mprotect(): change the VMAs and the present PTEs, flush_tlb_range().
 * 0, -EINVAL, -ENOMEM (part of the range is not mapped; nothing changed).
 */
SHD_EXPORT int shd_mprotect(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t addr, uint64_t len, unsigned prot);

/*
 * madvise(MADV_DONTNEED): drop the pages (the VMA stays; the next touch
 * faults in a zeroed page), flush_tlb_range().  0, -EINVAL, -ENOMEM.
 */
SHD_EXPORT int shd_madvise_dontneed(struct shd_cpu *cpu, struct shd_mm *mm,
				    uint64_t addr, uint64_t len);

/*
 * Kernel vmap()/vunmap() of fresh zeroed pages at a fixed address in the
 * vmap area (global translations).  vunmap() ends in
 * flush_tlb_kernel_range().  0, -EINVAL, -EEXIST, -ENOMEM.
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
 * zeroed frame and ends with update_mmu_cache().  0, -EINVAL (unaligned or
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
