/* SPDX-License-Identifier: MIT */
/* The shootdown engine: flush_tlb_* across CPUs (arch/x86/mm/tlb.c). */
#ifndef SHD_RUNTIME_TLBFLUSH_H
#define SHD_RUNTIME_TLBFLUSH_H

#include <shootdown/policy_ops.h>
#include "types.h"

/* The flush of MM's [START, END) (END SHD_FLUSH_END_ALL: all of it) behind
 * every flush interface: send, flush locally, wait, then credit the
 * oracle.  T_OUT (may be NULL) gets the oracle clock the flush covered.
 * 0 or -ETIMEDOUT. */
int shd__flush_tlb_mm_range(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t start, uint64_t end, bool freed_tables,
			    enum shd_iface iface, uint64_t *t_out);
/* sparc64: the gather's changed PTEs of MM, the N vpns VPNS, through
 * the tlb_batch, then the oracle's credit for each; *T_OUT as above. */
int shd__flush_tlb_vpns(struct shd_cpu *cpu, struct shd_mm *mm,
			const uint64_t *vpns, size_t n, uint64_t *t_out);
/* flush_tlb_func(): carry out F on CPU's own TLB. */
void shd__flush_tlb_func(struct shd_cpu *cpu, const struct shd_flush_info *f);
/* init_flush_tlb_info() for MM's vpns [S, E) (ceiling applied) and the
 * generation bump. */
void shd__flush_info_init(struct shd_cpu *cpu, struct shd_flush_info *f,
			  struct shd_mm *mm, uint64_t s_vpn, uint64_t e_vpn,
			  bool freed_tables);
/* Queue F to every CPU that must get it (REQ: one slot a CPU), ringing
 * doorbells, or QUIET: onto LATR's queues with none.  How many; a send
 * that failed sets *ERR. */
unsigned shd__queue_requests(struct shd_cpu *cpu, struct shd_flush_info *f,
			     struct shd_tlbbatch_req *req, bool quiet, int *err);
/* x86 arch_tlbbatch_flush(): one full flush on every CPU of CPU's batch
 * mask (and CPU itself if in it), waited for; the mask is cleared. */
int shd__arch_tlbbatch_flush(struct shd_cpu *cpu);
/* A policy in C's context for a hook on CPU about MM: the machine's
 * fields (CPU, counts, time, knobs); the hook's own ones are 0. */
void shd__hook_ctx_init(struct shd_cpu *cpu, const struct shd_mm *mm,
			struct shd_hook_ctx *x);
/* leave_mm(): CPU drops its loaded mm for init_mm (a lazy CPU that got a
 * request, a CPU thread that stops). */
void shd__leave_mm(struct shd_cpu *cpu);

#endif
