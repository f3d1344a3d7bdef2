/* SPDX-License-Identifier: MIT */
/* arm64 ASIDs by generation, the arm64 TLB engine's switch_mm half (arch/arm64/mm/context.c). */

/*
 * Theory (after arch/arm64/mm/context.c, Linux 6.18; the scheme is Will
 * Deacon's 5aec715d7d3b, "arm64: mm: rewrite ASID allocator and MM context-
 * switching code", 2015, with the reserved/pinned refinements since).
 *
 * An mm runs under one ASID on every CPU: arm64 invalidates by broadcast
 * (TLBI ...IS), so there are no per-CPU ASID slots and no mm_cpumask to
 * keep.  mm->context.id holds generation | ASID; the generation counts in
 * steps of 1 << asid_bits.  switch_mm's fast path keeps the ASID when it
 * is of the current generation, by a cmpxchg on this CPU's active_asids
 * (which a rollover sets to 0, sending every CPU to the slow path).  The
 * slow path, under cpu_asid_lock, gives the mm a new ASID if its
 * generation is old (new_context(): its old number again if no one took
 * it, else the next free one), and when none is free rolls the
 * generation over (flush_context()): the bitmap is cleared but for the
 * ASID each CPU is running (reserved_asids: those mms keep their numbers),
 * and every CPU owes a local full flush (tlb_flush_pending), done at its
 * next slow-path switch, before it can use an ASID of the new
 * generation.  ASIDs are never freed when an mm dies: its number stays
 * taken, and its TLB entries harmless, until the next rollover flushes
 * them.
 *
 * Fault asid_rollover_no_flush skips that owed flush: a CPU then keeps
 * entries of a dead or renumbered mm under a number the new generation
 * gives to another mm, and translates through them.
 *
 * riscv's allocator (arch/riscv/mm/context.c, since 65d4b9c53017) is
 * this scheme too (version in the bits above satp.ASID, __flush_context()
 * marking every CPU for a local_flush_tlb_all() at its next switch), and
 * serves riscv's engine as it is.
 *
 * Not modelled: KPTI's paired ASIDs (NUM_USER_ASIDS halves), pinned ASIDs
 * (SVA), CNP.  The TLB tag of ASID n is SHD_NR_ASIDS + n, clear of x86's
 * per-CPU slots.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "seeded.h"
#include "tlb.h"
#include "tso.h"

struct shd_asids {
	uint64_t generation;		/* asid_generation: relaxed atomics */
	unsigned bits;
	uint64_t nr;			/* NUM_USER_ASIDS */
	unsigned long *map;		/* asid_map: lock */
	unsigned long *flush_pending;	/* tlb_flush_pending: lock */
	uint64_t cur_idx;		/* lock */
	int32_t lock;			/* cpu_asid_lock */
};

int shd__asids_init(struct shd_machine *m)
{
	struct shd_asids *a;
	size_t words;

	if (m->cfg.arch.tlb != SHD_TLB_ARM64 && m->cfg.arch.tlb != SHD_TLB_RISCV)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->asids = a;
	a->bits = m->cfg.arch.asid_bits ? m->cfg.arch.asid_bits : 16;
	a->nr = 1ull << a->bits;
	a->generation = a->nr;		/* ASID_FIRST_VERSION */
	a->cur_idx = 1;
	words = (a->nr + 63) / 64;
	a->map = calloc(words, sizeof(unsigned long));
	a->flush_pending = calloc(m->mask_words, sizeof(unsigned long));
	if (!a->map || !a->flush_pending)
		return -ENOMEM;
	a->map[0] = 1;			/* ASID 0 is never handed out */
	return 0;
}

void shd__asids_free(struct shd_machine *m)
{
	if (!m->asids)
		return;
	free(m->asids->map);
	free(m->asids->flush_pending);
	free(m->asids);
	m->asids = NULL;
}

static bool bit_test(const unsigned long *map, uint64_t n)
{
	return (map[n / 64] >> (n % 64)) & 1;
}

static void bit_set(unsigned long *map, uint64_t n)
{
	map[n / 64] |= 1ul << (n % 64);
}

static uint64_t asid_of(const struct shd_asids *a, uint64_t ctx)
{
	return ctx & (a->nr - 1);
}

unsigned shd__mm_asid_tag(const struct shd_mm *mm)
{
	uint64_t ctx = shd_load_relaxed(&mm->hw_ctx);

	return SHD_NR_ASIDS + (unsigned)asid_of(mm->m->asids, ctx);
}

/* asid_gen_match() */
static bool gen_match(struct shd_asids *a, uint64_t ctx)
{
	return !((ctx ^ shd_load_relaxed(&a->generation)) >> a->bits);
}

/* cpu_asid_lock, a raw spinlock taken with interrupts off: a waiter's
 * hardware still completes other CPUs' TLBIs (a DSB may wait on it). */
static void asids_lock(struct shd_cpu *cpu)
{
	struct shd_asids *a = cpu->m->asids;

	for (;;) {
		int32_t unlocked = 0;

		/* Acquire: what the last holder wrote is visible. */
		if (shd_cas_acquire(&a->lock, &unlocked, 1))
			return;
		if (shd__hw_drain(cpu))
			shd__seeded_wake(cpu->m);
		if (cpu->m->seeded)
			shd__seeded_yield(cpu);
		else
			caa_cpu_relax();
	}
}

static void asids_unlock(struct shd_cpu *cpu)
{
	/* Release: pairs with asids_lock()'s acquire. */
	shd_store_release(&cpu->m->asids->lock, 0);
	shd__seeded_wake(cpu->m);
}

/* flush_context(): a new generation; each CPU's running ASID stays
 * taken (reserved), and every CPU owes a local flush.  Lock held. */
static void flush_context(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	struct shd_asids *a = m->asids;

	memset(a->map, 0, (a->nr + 63) / 64 * sizeof(unsigned long));
	a->map[0] = 1;
	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_cpu *t = m->cpus[c];
		/* Relaxed xchg, as Linux's: the lock orders the rest. */
		uint64_t ctx = shd_xchg_relaxed(&t->arm64_active, 0);

		if (!ctx)
			ctx = t->arm64_reserved;
		bit_set(a->map, asid_of(a, ctx));
		t->arm64_reserved = ctx;
	}
	memcpy(a->flush_pending, m->online_mask,
	       m->mask_words * sizeof(unsigned long));
	cpu->cnt.s.asid_rollovers++;
}

/* check_update_reserved_asid(): a CPU kept CTX through a rollover; every
 * such CPU now holds NEWCTX.  Lock held. */
static bool update_reserved(struct shd_machine *m, uint64_t ctx, uint64_t newctx)
{
	bool hit = false;

	for (unsigned c = 0; c < m->ncpus; c++) {
		if (m->cpus[c]->arm64_reserved == ctx) {
			m->cpus[c]->arm64_reserved = newctx;
			hit = true;
		}
	}
	return hit;
}

static uint64_t next_zero(const struct shd_asids *a, uint64_t from)
{
	for (uint64_t n = from; n < a->nr; n++)
		if (!bit_test(a->map, n))
			return n;
	return a->nr;
}

/* new_context(): MM's ASID for the current generation.  Lock held. */
static uint64_t new_context(struct shd_cpu *cpu, struct shd_mm *mm)
{
	struct shd_asids *a = cpu->m->asids;
	uint64_t ctx = shd_load_relaxed(&mm->hw_ctx);
	uint64_t gen = shd_load_relaxed(&a->generation), n;

	if (ctx) {
		uint64_t newctx = gen | asid_of(a, ctx);

		/* Running somewhere through the rollover: keep the number. */
		if (update_reserved(cpu->m, ctx, newctx))
			return newctx;
		/* Its old number, if no one took it this generation. */
		if (!bit_test(a->map, asid_of(a, ctx))) {
			bit_set(a->map, asid_of(a, ctx));
			return newctx;
		}
	}
	n = next_zero(a, a->cur_idx);
	if (n == a->nr) {
		gen += a->nr;
		shd_store_relaxed(&a->generation, gen);
		flush_context(cpu);
		n = next_zero(a, 1);	/* one is free: reserved <= ncpus */
	}
	bit_set(a->map, n);
	a->cur_idx = n;
	return gen | n;
}

unsigned shd__check_and_switch_context(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_machine *m = cpu->m;
	struct shd_asids *a = m->asids;
	uint64_t ctx, old;
	unsigned w = cpu->id / 64;
	unsigned long bit = 1ul << (cpu->id % 64);

	/* The fast path: racy against a rollover, which zeroes our
	 * active_asids first, so the cmpxchg fails and we take the lock. */
	ctx = shd_load_relaxed(&next->hw_ctx);
	shd__sched_point(cpu);
	old = shd_load_relaxed(&cpu->arm64_active);
	if (old && ctx && gen_match(a, ctx) &&
	    shd_cas_relaxed(&cpu->arm64_active, &old, ctx))
		return SHD_NR_ASIDS + (unsigned)asid_of(a, ctx);
	asids_lock(cpu);
	ctx = shd_load_relaxed(&next->hw_ctx);
	if (!ctx || !gen_match(a, ctx)) {
		ctx = new_context(cpu, next);
		shd_store_relaxed(&next->hw_ctx, ctx);
	}
	if (a->flush_pending[w] & bit) {
		a->flush_pending[w] &= ~bit;
		if (!shd__fault_fires(cpu, SHD_FAULT_ASID_ROLLOVER_NO_FLUSH)) {
			shd__local_flush_everything(cpu);
			cpu->cnt.s.switch_flushes++;
			cpu->cnt.s.asid_rollover_flushes++;
		}
	}
	shd_store_relaxed(&cpu->arm64_active, ctx);
	asids_unlock(cpu);
	return SHD_NR_ASIDS + (unsigned)asid_of(a, ctx);
}
