/* SPDX-License-Identifier: MIT */
/* Page tables: a radix tree per mm, walked lock-free, with a pool of leaves. */
#ifndef SHD_RUNTIME_PGTABLE_H
#define SHD_RUNTIME_PGTABLE_H

#include "types.h"

/* The slot of VPN in its table at LEVEL (0: the pgd). */
static inline unsigned shd__pt_index(const struct shd_machine *m, uint64_t vpn,
				     unsigned level)
{
	return (unsigned)(vpn >> ((m->pt_levels - 1 - level) * SHD_PT_BITS)) &
	       (SHD_PT_ENTRIES - 1);
}

/* The vpn of P in LEAF. */
static inline uint64_t shd__pte_vpn(const struct shd_pt_leaf *leaf,
				    const struct shd_pte *p)
{
	return leaf->base_vpn + (uint64_t)(p - leaf->pte);
}

/* The PTE bits a VMA of protection PROT gives its pages (vm_get_page_prot). */
static inline uint64_t shd__prot_bits(unsigned prot)
{
	uint64_t b = 0;

	if (prot & (SHD_PROT_READ | SHD_PROT_WRITE | SHD_PROT_EXEC))
		b |= SHD_PTE_PRESENT;
	if (prot & SHD_PROT_WRITE)
		b |= SHD_PTE_WRITE;
	if (prot & SHD_PROT_EXEC)
		b |= SHD_PTE_EXEC;
	return b;
}

/* The leaf holding VPN, or NULL.  Under rcu_read_lock() or the mm lock. */
struct shd_pt_leaf *shd__pt_leaf(struct shd_mm *mm, uint64_t vpn);
/* ... and the PTE of VPN in it, or NULL. */
struct shd_pte *shd__pte_lookup(struct shd_mm *mm, uint64_t vpn);
/* The leaf for VPN, allocating the path (NULL: out of memory).  Under the
 * mm lock. */
struct shd_pt_leaf *shd__pt_leaf_alloc(struct shd_mm *mm, uint64_t vpn);

typedef void (*shd_pte_fn)(struct shd_mm *mm, struct shd_pt_leaf *leaf,
			   struct shd_pte *p, uint64_t val, void *arg);
/* FN for every PTE of vpns [S, E) that has a frame attached.  Under the mm
 * lock (or when nobody else can reach MM). */
void shd__for_each_frame(struct shd_mm *mm, uint64_t s, uint64_t e,
			 shd_pte_fn fn, void *arg);
/* Free the tree below NODE at LEVEL (0: the pgd) at once; its leaves go
 * to the pool.  No walker may reach it any more. */
void shd__pt_free_dir(struct shd_machine *m, void *node, unsigned level);
/* Hand detached leaves back after their flush (clock T over vpns [S, E)):
 * credited, then to the pool after a grace period. */
void shd__leaves_release(struct shd_mm *mm, struct shd_pt_leaf *list,
			 uint64_t s, uint64_t e, uint64_t t);
/* Free the pool (the machine's teardown, after rcu_barrier()). */
void shd__pt_leaf_release_all(struct shd_machine *m);

#endif
