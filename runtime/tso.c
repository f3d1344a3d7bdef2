/* SPDX-License-Identifier: MIT */
/* x86-TSO store buffers for the protocol's shared fields, under the seeded scheduler. */

/*
 * Theory of operation.
 *
 * Why.  Without this file every protocol variable is sequentially
 * consistent: a store is seen by every CPU the moment it is made.  Then a
 * switch_mm() that publishes "I am switching" and reads tlb_gen with no
 * fence between cannot be told from one that has the fence, and the bug
 * Linux fixed in 83b0177a6c48 ("x86/mm: Fix SMP ordering in
 * switch_mm_irqs_off()", CVE-2025-40174) is not even expressible.  On x86
 * a store waits in the CPU's store buffer while the CPU's later loads run:
 * the one reordering x86-TSO allows (store then load, to different
 * addresses), and the one that breaks a Dekker handshake without MFENCE
 * or a locked instruction.
 *
 * The model (x86-TSO as Owens, Sarkar and Sewell give it, "A better x86
 * memory model: x86-TSO", TPHOLs 2009).  Each CPU has a FIFO buffer of
 * (address, value) stores; memory is the fields themselves.  A plain store
 * appends; a plain load returns the newest buffered store of the same CPU
 * to that address, else memory; committing moves the oldest entry to
 * memory.  MFENCE, every locked instruction and every serializing one (a
 * CR3 write, INVLPG, INVPCID, IRET) commit the whole buffer first.  Since
 * the seeded scheduler runs one CPU at a time, "memory" needs no locks:
 * the holder of the token is the only thread touching any buffer or field.
 *
 * When stores commit by themselves.  Hardware drains a buffer at its own
 * pace; here the scheduler does it, at each switch (the only moment
 * another CPU can start looking): every CPU's buffer commits its K oldest
 * entries, K = mix(step, cpu) mod (entries + 1).  K depends on the step and
 * the CPU only, not on the seed or the strategy's state, so:
 *   - a run stays a pure function of its configuration (nothing new is
 *     recorded or drawn from the schedule's random stream, which therefore
 *     makes the same choices as without buffers);
 *   - a replay, which makes the recorded switches at the recorded steps,
 *     commits exactly what the original run committed, even if it was
 *     recorded under another seed or edited by hand;
 *   - any partial drain is reachable: the window a missing fence opens is
 *     as long as the schedule keeps the CPU from committing.
 * A CPU that blocks, yields or exits commits everything (a waiting CPU
 * takes locks and sleeps: locked instructions), which also guarantees a
 * buffered store is seen by a CPU that waits for it.  Under the host
 * scheduler there are no buffers (cpu->sb is NULL) and tso.h's names
 * compile to the callers' C11 atomics: --sched host runs as before.
 */
#include <stdlib.h>
#include <string.h>

#include "tso.h"

static void ent_commit(const struct shd_sb_ent *e)
{
	/* Relaxed: only the token's holder runs; the token's hand-over
	 * (seeded.c's go_give/go_take) orders it for the next holder. */
	if (e->size == 4)
		shd_store_relaxed((uint32_t *)e->addr, (uint32_t)e->val);
	else
		shd_store_relaxed((uint64_t *)e->addr, e->val);
}

static uint64_t mem_load(const void *p, unsigned size)
{
	/* Relaxed: as in ent_commit(). */
	return size == 4 ? shd_load_relaxed((const uint32_t *)p) :
			   shd_load_relaxed((const uint64_t *)p);
}

uint64_t shd__tso_load_slow(struct shd_cpu *cpu, const void *p, unsigned size)
{
	const struct shd_sb *b = cpu->sb;

	for (unsigned i = b->n; i-- > 0;) {	/* newest first */
		const struct shd_sb_ent *e = &b->e[(b->head + i) % SHD_SB_CAP];

		if (e->addr == p)
			return e->val;		/* store forwarding */
	}
	return mem_load(p, size);
}

#define LONG_BITS (8 * sizeof(unsigned long))

unsigned shd__tso_commit(struct shd_cpu *cpu, unsigned n)
{
	struct shd_sb *b = cpu->sb;

	if (!b->n)
		return 0;
	for (; n && b->n; n--, b->n--) {
		ent_commit(&b->e[b->head]);
		b->head = (b->head + 1) % SHD_SB_CAP;
	}
	if (!b->n)
		b->busy[cpu->id / LONG_BITS] &= ~(1ul << cpu->id % LONG_BITS);
	return b->n;
}

void shd__tso_store_slow(struct shd_cpu *cpu, void *p, uint64_t v,
			 unsigned size)
{
	struct shd_sb *b = cpu->sb;

	if (b->n == SHD_SB_CAP)
		shd__tso_commit(cpu, 1);	/* full: the oldest goes out */
	b->e[(b->head + b->n) % SHD_SB_CAP] = (struct shd_sb_ent){ p, v, size };
	if (!b->n++)
		b->busy[cpu->id / LONG_BITS] |= 1ul << cpu->id % LONG_BITS;
}

/* Visits the CPUs with a store buffered in increasing order, as a walk over
 * all of them would: at 256 CPUs that walk was a tenth of a switch. */
void shd__tso_switch(struct shd_machine *m, uint64_t step)
{
	const unsigned long *busy = m->cpus[0]->sb->busy;

	for (unsigned w = 0; w * LONG_BITS < m->ncpus; w++) {
		/* Committing clears only the bit of the CPU it commits. */
		for (unsigned long bits = busy[w]; bits; bits &= bits - 1) {
			unsigned i = w * LONG_BITS + (unsigned)__builtin_ctzl(bits);
			struct shd_cpu *cpu = m->cpus[i];
			unsigned n = cpu->sb->n;

			shd__tso_commit(cpu, (unsigned)(shd__mix64(
				step * 0x9e3779b97f4a7c15ull + i + 1) % (n + 1)));
		}
	}
}

struct shd_sb *shd__tso_create(struct shd_machine *m)
{
	size_t words = (m->ncpus + LONG_BITS - 1) / LONG_BITS;
	struct shd_sb *sb = calloc(m->ncpus, sizeof(*sb));
	unsigned long *busy = calloc(words, sizeof(*busy));

	if (!sb || !busy) {
		free(sb);
		free(busy);
		return NULL;
	}
	for (unsigned i = 0; i < m->ncpus; i++) {
		sb[i].busy = busy;
		m->cpus[i]->sb = &sb[i];
	}
	return sb;
}

void shd__tso_free(struct shd_sb *sb)
{
	if (sb)
		free(sb[0].busy);
	free(sb);
}
