/* SPDX-License-Identifier: MIT */
/* shootdown address spaces: the mm and its lifetime, the address-space layout. */
#ifndef SHOOTDOWN_MM_H
#define SHOOTDOWN_MM_H

#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_machine;

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

/* The context id (never reused within a process). */
SHD_EXPORT uint64_t shd_mm_id(const struct shd_mm *mm);

#ifdef __cplusplus
}
#endif
#endif
