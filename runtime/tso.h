/* SPDX-License-Identifier: MIT */
/* x86-TSO store buffers for the shootdown protocol's shared fields (tso.c). */
#ifndef SHD_RUNTIME_TSO_H
#define SHD_RUNTIME_TSO_H

#include <limits.h>
#include "types.h"

/*
 * The protocol's shared fields (mm_cpumask words, a CPU's published
 * loaded_mm and is_lazy, an mm's tlb_gen; the litmus words of litmus.c)
 * are read and written only through the names below, which say what x86
 * instruction the access is: a plain load (MOV), a plain store (MOV), a
 * locked read-modify-write (LOCK XADD/OR/AND, XCHG), a fence (MFENCE), a
 * serializing instruction (a CR3 write, INVLPG, INVPCID).
 *
 * Under the seeded scheduler with cfg.sched.store_buffers, each CPU has a
 * FIFO store buffer (cpu->sb): a plain store goes into it, the CPU's own
 * plain loads see its newest buffered store to the address (forwarding),
 * every other CPU sees memory; a fence, a locked RMW or a serializing
 * instruction commits the CPU's whole buffer to memory first; and the
 * scheduler commits the oldest entries of every buffer at each switch
 * (tso.c's theory).  Otherwise (cpu->sb NULL, the host scheduler above
 * all) each name is the C11 atomic its caller names, HOST_LOAD or
 * HOST_STORE (shd_load_seq, shd_store_relaxed, ...), and the model costs
 * one predictable branch on a pointer in the CPU's own cache line.
 *
 * Only the CPU's own thread calls these for CPU.  A field is accessed at
 * one size only (4 or 8 bytes).
 */

#define SHD_SB_CAP 16	/* entries a store buffer holds (Skylake: 56) */

struct shd_sb_ent {
	void *addr;
	uint64_t val;
	uint32_t size;		/* 4 or 8 */
};

/* A CPU's store buffer: N entries from E[HEAD], oldest first.  Touched
 * only by the holder of the seeded scheduler's token. */
struct shd_sb {
	unsigned head, n;
	struct shd_sb_ent e[SHD_SB_CAP];
	unsigned long *busy;	/* the machine's: bit i set iff CPU i's n > 0 */
};

/* The slow paths (the model is on).  A load: the newest buffered store of
 * CPU to P, else memory.  A store: into the buffer (committing the oldest
 * entry first when it is full).  Commit the N oldest entries of CPU's
 * buffer (UINT_MAX: all); how many were left. */
uint64_t shd__tso_load_slow(struct shd_cpu *cpu, const void *p, unsigned size);
void shd__tso_store_slow(struct shd_cpu *cpu, void *p, uint64_t v,
			 unsigned size);
unsigned shd__tso_commit(struct shd_cpu *cpu, unsigned n);

/* A plain load of *P by CPU; HOST_LOAD when the model is off. */
#define shd__tso_load(cpu, p, host_load)				\
	(__builtin_expect((cpu)->sb != NULL, 0) ?			\
	 (__typeof__(*(p)))shd__tso_load_slow((cpu), (p), sizeof(*(p))) : \
	 host_load(p))

/* A plain store of V to *P by CPU; HOST_STORE when the model is off. */
#define shd__tso_store(cpu, p, v, host_store)				\
	do {								\
		_Static_assert(sizeof(*(p)) == 4 || sizeof(*(p)) == 8,	\
			       "buffered fields are 4 or 8 bytes");	\
		if (__builtin_expect((cpu)->sb != NULL, 0))		\
			shd__tso_store_slow((cpu), (p), (uint64_t)(v),	\
					    sizeof(*(p)));		\
		else							\
			host_store((p), (v));				\
	} while (0)

/*
 * A locked instruction, a fence or a serializing instruction follows:
 * CPU's buffer drains to memory first.  Under the host scheduler nothing
 * is needed: the callers' host accesses on both sides of every fence the
 * protocol relies on are sequentially consistent (a seq_cst store, RMW or
 * load), which already orders them in one total order, and a C11 fence
 * would be invisible to ThreadSanitizer.
 */
static inline void shd__tso_drain(struct shd_cpu *cpu)
{
	if (__builtin_expect(cpu->sb != NULL, 0))
		shd__tso_commit(cpu, UINT_MAX);
}

/* smp_mb(): MFENCE (or LOCK ADD to the stack, as Linux's x86 smp_mb). */
static inline void shd__tso_mb(struct shd_cpu *cpu)
{
	shd__tso_drain(cpu);
}

/* Entries in CPU's store buffer (0 with the model off). */
static inline unsigned shd__tso_pending(const struct shd_cpu *cpu)
{
	return cpu->sb ? cpu->sb->n : 0;
}

/* mm_cpumask accesses by CPU: the test is a plain load; set and clear are
 * LOCK BTS/BTR (cpumask_set_cpu()), sequentially consistent on the host
 * (types.h's helpers). */
static inline bool shd__tso_mask_test(struct shd_cpu *cpu,
				      const unsigned long *mask, unsigned c)
{
	return (shd__tso_load(cpu, &mask[c / 64], shd_load_seq) >> (c % 64)) & 1;
}
static inline void shd__tso_mask_set(struct shd_cpu *cpu, unsigned long *mask,
				     unsigned c)
{
	shd__tso_drain(cpu);
	shd__mask_set(mask, c);
}
static inline void shd__tso_mask_clear(struct shd_cpu *cpu, unsigned long *mask,
				       unsigned c)
{
	shd__tso_drain(cpu);
	shd__mask_clear(mask, c);
}

/* atomic64_inc_return(&mm->context.tlb_gen): LOCK XADD, seq-cst on the
 * host.  The new generation. */
static inline uint64_t shd__tso_gen_bump(struct shd_cpu *cpu, uint64_t *gen)
{
	shd__tso_drain(cpu);
	return shd_add_return(gen, 1);
}

/* The buffers of a seeded machine: one per CPU (cpu->sb set), or NULL
 * when out of memory; freed with shd__tso_free() (which touches no CPU). */
struct shd_sb *shd__tso_create(struct shd_machine *m);
void shd__tso_free(struct shd_sb *sb);

/*
 * The seeded scheduler switches CPUs at scheduling step STEP: commit the
 * oldest entries of every CPU's buffer, how many decided by (STEP, CPU)
 * alone.  Holder of the token.
 */
void shd__tso_switch(struct shd_machine *m, uint64_t step);

#endif
