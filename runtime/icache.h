/* SPDX-License-Identifier: MIT */
/* Non-snooping I-caches (arm64): ic ivau as a broadcast log, and the stale-instruction oracle. */
#ifndef SHD_RUNTIME_ICACHE_H
#define SHD_RUNTIME_ICACHE_H

#include "types.h"

/* All absent when the profile's I-cache snoops (m->ilog NULL). */
int shd__icache_machine_init(struct shd_machine *m);
void shd__icache_machine_free(struct shd_machine *m);
int shd__icache_init(struct shd_cpu *cpu);
void shd__icache_free(struct shd_cpu *cpu);
/* An instruction fetch of the 8 bytes at PA (virtual VA) on CPU. */
uint64_t shd__icache_fetch(struct shd_cpu *cpu, uint64_t va, uint64_t pa);
/* A kernel write of frame PFN begins / ends (the I-cache oracle must not
 * judge fetches of it in between, nor count it synced). */
void shd__ikernel_write_begin(struct shd_machine *m, uint64_t pfn);
void shd__ikernel_write_end(struct shd_machine *m, uint64_t pfn);
/* A store the program must sync itself reached PFN (set before the store,
 * once): the oracle stops judging fetches of it. */
void shd__icache_user_store(struct shd_machine *m, uint64_t pfn);
/* Clean D / invalidate I of PFN on every CPU (ic ivau, broadcast): each
 * CPU drops its lines before its next fetch. */
void shd__icache_invalidate(struct shd_cpu *cpu, uint64_t pfn);
/* The oracle: kernel writes of PFN up to SEQ (shd__icache_seq()) are now
 * visible to every fetch. */
void shd__icache_credit(struct shd_machine *m, uint64_t pfn, uint32_t seq);
uint32_t shd__icache_seq(struct shd_machine *m, uint64_t pfn);
/* set_pte_at() of a user-executable PTE for PFN (__sync_icache_dcache). */
void shd__icache_set_pte_exec(struct shd_cpu *cpu, uint64_t pfn);

#endif
