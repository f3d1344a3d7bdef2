/* SPDX-License-Identifier: MIT */
/* sparc64's TLB engine: tlb_batch and the flush cross-calls (arch/sparc/mm/tlb.c, smp_64.c). */
#ifndef SHD_RUNTIME_TLB_BATCH_H
#define SHD_RUNTIME_TLB_BATCH_H

#include "types.h"

/* CPU's tlb_batch when its machine's engine is sparc64's: 0 or -ENOMEM;
 * free it.  Controlling thread. */
int shd__tlb_batch_init(struct shd_cpu *cpu);
void shd__tlb_batch_free(struct shd_cpu *cpu);

/*
 * Lazy MMU mode over the changed PTEs of MM at the N vpns VPNS (NULL:
 * every vpn of [S, E)), in order: each queued in CPU's tlb_batch, which is
 * flushed (flush_tlb_pending()) when it holds tlb_batch_nr addresses, at
 * each page table's end and at the end.  IFACE names the rounds.  0 or the
 * first round's error.  CPU's thread.
 */
int shd__tlb_batch_flush(struct shd_cpu *cpu, struct shd_mm *mm,
			 enum shd_iface iface, const uint64_t *vpns, size_t n,
			 uint64_t s, uint64_t e);
/* A PTE of MM at VPN changed outside lazy MMU mode: global_flush_tlb_page()
 * at once.  0 or the round's error.  CPU's thread. */
int shd__tlb_flush_now(struct shd_cpu *cpu, struct shd_mm *mm,
		       enum shd_iface iface, uint64_t vpn);
/* smp_flush_tlb_mm(): MM's whole context on every CPU of its mask. */
int shd__tlb_flush_mm_xcall(struct shd_cpu *cpu, struct shd_mm *mm,
			    enum shd_iface iface);
/* smp_flush_tlb_kernel_range() of vpns [S, E) (E SHD_FLUSH_END_ALL:
 * everything), or for IFACE SHD_IF_ALL every entry, on every online CPU. */
int shd__tlb_flush_kernel_xcall(struct shd_cpu *cpu, enum shd_iface iface,
				uint64_t s, uint64_t e);

#endif
