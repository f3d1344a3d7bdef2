/* SPDX-License-Identifier: MIT */
/* Hardware broadcast invalidation and global ASIDs: AMD INVLPGB, Intel RAR (arch/x86/mm/tlb.c). */
#ifndef SHD_RUNTIME_BCAST_H
#define SHD_RUNTIME_BCAST_H

#include "types.h"

/* Build M's broadcast state if its policy has bcast on or its TLB engine
 * is arm64's (after the CPUs),
 * 0 or -ENOMEM; free it (the partner).  Controlling thread. */
int shd__bcast_init(struct shd_machine *m);
void shd__bcast_free(struct shd_machine *m);

/* mm->context.global_asid: 0 or the ASID every CPU runs MM with.
 * Seq-cst: pairs with use_global_asid()'s publication. */
static inline unsigned shd__mm_global_asid(struct shd_mm *mm)
{
	return mm->m->bcast ? shd_load_seq(&mm->global_asid) : 0;
}

/* ASID is a global one (not a per-CPU slot, not the kernel's tag). */
static inline bool shd__is_global_asid(unsigned asid)
{
	return asid >= SHD_NR_ASIDS && asid < SHD_ASID_GLOBAL;
}

/* cpu_tlbstate.loaded_mm_asid, published for finish_asid_transition().
 * CPU's own thread; seq-cst, read after loaded_mm (tlbflush.c). */
static inline void shd__publish_asid(struct shd_cpu *cpu, unsigned asid)
{
	shd_store_seq(&cpu->loaded_asid_pub, asid);
}

/*
 * A broadcast invalidation of (KIND, ASID, [S, E)) from CPU: its own TLB
 * at once, every other CPU's by that CPU's hardware once posted, at the
 * latest at shd__hw_complete(), which waits for each (INVLPGB's TLBSYNC,
 * arm64's DSB ISH).  Counts ipi_candidates and ipis_broadcast_hw for the
 * ncpus - 1 others.  One broadcast a CPU is in flight at a time: an
 * earlier one completes first.  CPU's thread.
 */
void shd__hw_issue(struct shd_cpu *cpu, enum shd_hw_kind kind, unsigned asid,
		   uint64_t s, uint64_t e);
void shd__hw_complete(struct shd_cpu *cpu);

/*
 * INVLPGB: CPU issues NINSTR instructions invalidating (KIND, ASID,
 * [S, E)) on every CPU, its own at once; the others' hardware does its
 * part only once posted, at the latest at shd__tlbsync(), which waits for
 * every one of them.  Counts ipis_broadcast_hw for the ncpus - 1
 * candidates.  An earlier INVLPGB left without TLBSYNC (fault
 * invlpgb_no_tlbsync) completes first.  CPU's thread.
 */
void shd__invlpgb(struct shd_cpu *cpu, enum shd_hw_kind kind, unsigned asid,
		  uint64_t s, uint64_t e, uint64_t ninstr);
void shd__tlbsync(struct shd_cpu *cpu);
/* One INVLPGB of KIND and its TLBSYNC (kernel flushes, resets). */
void shd__invlpgb_sync(struct shd_cpu *cpu, enum shd_hw_kind kind,
		       uint64_t s, uint64_t e, uint64_t ninstr);

/*
 * Intel RAR (smp_call_rar_many()): a payload slot (spinning while all are
 * busy), PENDING in the action vector of every other CPU in MASK (NULL:
 * every online CPU), then a spin until each has completed.  Counts
 * ipis_broadcast_hw for the CPUs reached, ipis_avoided_pruned for the
 * others.  Does not flush CPU itself.  Returns how many were reached.
 */
unsigned shd__rar_send(struct shd_cpu *cpu, const unsigned long *mask,
		       enum shd_hw_kind kind, unsigned asid, uint64_t s,
		       uint64_t e);

/*
 * consider_global_asid(): after an IPI flush of MM, sampled as Linux
 * samples it, give MM a global ASID if broadcast_min_cpus CPUs run it,
 * not lazy.  CPU's thread, not from a handler.
 */
void shd__consider_global_asid(struct shd_cpu *cpu, struct shd_mm *mm);
/*
 * consider_global_asid()'s parts, for a policy in C's flush_route
 * (tlbflush.c): whether MM could take a global ASID at all (a broadcast
 * mode that gives them, switch=6.13, neither async nor batch=arm64, none
 * yet); Linux's sampling of this flush; the CPUs of MM's mask running it,
 * not lazy (racy reads, as mm_active_cpus_exceeds()); and
 * use_global_asid(), which gives MM one unless it has one or none is
 * left.  CPU's thread, not from a handler.
 */
bool shd__global_asid_possible(const struct shd_cpu *cpu, struct shd_mm *mm);
bool shd__global_asid_sampled(const struct shd_cpu *cpu);
unsigned shd__mm_active_cpus(struct shd_cpu *cpu, struct shd_mm *mm);
void shd__use_global_asid(struct shd_cpu *cpu, struct shd_mm *mm);
/* mm_free_global_asid(): MM is being freed; its ASID waits in the freed
 * set for the next wraparound.  Any thread. */
void shd__mm_free_global_asid(struct shd_mm *mm);
/* switch_mm_irqs_off(NULL, loaded_mm) for an mm that has a global ASID
 * this CPU does not use yet: reload CR3 with it, no flush.  Whether it
 * did.  CPU's thread. */
bool shd__switch_to_global_asid(struct shd_cpu *cpu);

#endif
