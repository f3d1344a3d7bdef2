/* SPDX-License-Identifier: MIT */
/* A CPU's TLBs: set-associative, touched only by their CPU's thread. */
#ifndef SHD_RUNTIME_TLB_H
#define SHD_RUNTIME_TLB_H

#include "types.h"

/* Every call: on the owning CPU's thread only (or before it starts). */

/* Allocate T with geometry G (0 or -ENOMEM); free it (the partner). */
int shd__tlb_init(struct shd_tlb *t, const struct shd_tlb_geometry *g);
void shd__tlb_free(struct shd_tlb *t);
/* The entry for (VPN, ASID), or NULL on a miss. */
struct shd_tlbe *shd__tlb_lookup(struct shd_tlb *t, uint64_t vpn, unsigned asid);
/* Fill (VPN, ASID) with the PTE VAL of VERSION walked at PTEP, replacing
 * a way round-robin; the entry. */
struct shd_tlbe *shd__tlb_fill(struct shd_tlb *t, uint64_t vpn, unsigned asid,
			       uint64_t val, uint64_t version, struct shd_pte *ptep);

/*
 * The local flushes of CPU (the data TLB and, when split, the instruction
 * TLB), by its own thread: INVLPG of vpns [S, E) in ASID, counted as one
 * partial flush (fault range_short skips the last page); every entry of
 * ASID (INVPCID single-context); every global entry; everything.  Each
 * is a serializing instruction: CPU's store buffer drains first (tso.h).
 */
void shd__local_flush_pages(struct shd_cpu *cpu, uint64_t s, uint64_t e,
			    unsigned asid);
/* sparc64's __flush_tlb_pending(): the N pages VPNS of ASID, one flush. */
void shd__local_flush_list(struct shd_cpu *cpu, const uint64_t *vpns,
			   uint64_t n, unsigned asid);
void shd__local_flush_asid(struct shd_cpu *cpu, unsigned asid);
void shd__local_flush_global(struct shd_cpu *cpu);
void shd__local_flush_everything(struct shd_cpu *cpu);

/*
 * Hardware broadcast invalidation, carried out on CPU by its own thread
 * but by no handler: payload P at once (the initiator's own part of an
 * INVLPGB), and every slot its action vector has PENDING (the targets'
 * part, at every interrupt point, wait and idle loop, interrupts off or
 * not; counted in hw_invalidations, never as an interrupt).  The drain
 * returns how many it did: a waiting initiator may go on (the caller
 * tells the seeded scheduler, shd__seeded_wake()).
 */
void shd__hw_invalidate(struct shd_cpu *cpu, const struct shd_hw_payload *p);
unsigned shd__hw_drain(struct shd_cpu *cpu);

#endif
