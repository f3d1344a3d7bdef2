/* SPDX-License-Identifier: MIT */
/* sparc64 context numbers by version, and switch_mm's half of them (arch/sparc/mm/init_64.c, mmu_context_64.h). */

/*
 * Theory (after arch/sparc/mm/init_64.c get_new_mmu_context() and
 * mmu_context_wrap(), and arch/sparc/include/asm/mmu_context_64.h
 * switch_mm(), Linux 6.12; the wrap is Pavel Tatashin's 7a5b4bbf49fe,
 * "sparc64: new context wrap", 2017).
 *
 * An UltraSPARC TLB entry is tagged with a 13-bit context number
 * (CTX_NR_BITS); mm->context.sparc64_ctx_val holds version | number, and
 * tlb_context_cache the current version and the last number handed out.
 * A context is valid while its version is the current one (CTX_VALID()).
 * switch_mm, under the mm's context lock, records the mm as this CPU's
 * per_cpu_secondary_mm, gives it a new number if its context is not valid
 * (get_new_mmu_context(), under ctx_alloc_lock), loads it, and then, if
 * the context was not valid or this CPU is not in mm_cpumask, sets the
 * bit and flushes the whole context on this CPU (__flush_tlb_mm): whatever
 * entries an earlier owner of the number left here go before the mm uses
 * it.  mm_cpumask otherwise only grows (bafb056ce279, 5.10, removed the
 * single-user shortcut that reset it).
 *
 * get_new_mmu_context() takes the next free number after the last one;
 * when none is free, mmu_context_wrap() starts a new version: the bitmap
 * is cleared but for the numbers of the mms that CPUs hold as their
 * secondary context, which keep their numbers under the new version.
 * There is no flush at a wrap.  Every other mm gets a new number when it
 * next runs, and get_new_mmu_context() then clears its mm_cpumask, so
 * that each CPU flushes the new number on its first switch into it;
 * fault ctx_keep_cpumask skips that clear, and a CPU that ran the mm
 * under its old number comes back to the new one, which another mm may
 * have used on it, without a flush.
 *
 * Here the whole of switch_mm's context step runs under the allocator's
 * lock (Linux: the mm's own lock, ctx_alloc_lock only to allocate), so a
 * wrap reads every CPU's secondary mm while it is still referenced.
 * Numbers are not freed when an mm dies (Linux's destroy_context() frees
 * them): they come back at the next wrap.  Not modelled: the TSBs, the
 * page-size bits of the context, the nucleus/primary contexts.  The TLB
 * tag of number n is SHD_NR_ASIDS + n, as arm64's ASIDs.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "context_sparc64.h"
#include "seeded.h"
#include "smp.h"
#include "tlb.h"
#include "tso.h"

struct shd_sparc64_ctx {
	uint64_t cache;		/* tlb_context_cache: relaxed atomics */
	uint64_t nr;		/* 1 << CTX_NR_BITS */
	unsigned long *bmap;	/* mmu_context_bmap: lock */
	int32_t lock;		/* ctx_alloc_lock */
};

int shd__sparc64_ctx_init(struct shd_machine *m)
{
	struct shd_sparc64_ctx *a;

	if (m->cfg.arch.tlb != SHD_TLB_SPARC64)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->sparc64_ctx = a;
	a->nr = 1ull << m->cfg.arch.ctx_bits;
	a->cache = a->nr;		/* CTX_FIRST_VERSION, number 0 */
	a->bmap = calloc((a->nr + 63) / 64, sizeof(unsigned long));
	if (!a->bmap)
		return -ENOMEM;
	a->bmap[0] = 1;			/* context 0: the kernel's (nucleus) */
	return 0;
}

void shd__sparc64_ctx_free(struct shd_machine *m)
{
	if (!m->sparc64_ctx)
		return;
	free(m->sparc64_ctx->bmap);
	free(m->sparc64_ctx);
	m->sparc64_ctx = NULL;
}

static uint64_t version_mask(const struct shd_sparc64_ctx *a)
{
	return ~(a->nr - 1);
}

/* CTX_VALID(): CTX is of the current version. */
static bool ctx_valid(const struct shd_sparc64_ctx *a, uint64_t ctx)
{
	return !((ctx ^ shd_load_relaxed(&a->cache)) & version_mask(a));
}

unsigned shd__sparc64_ctx_tag(const struct shd_mm *mm, bool *valid)
{
	const struct shd_sparc64_ctx *a = mm->m->sparc64_ctx;
	uint64_t ctx = shd_load_relaxed(&mm->hw_ctx);

	*valid = ctx && ctx_valid(a, ctx);
	return SHD_NR_ASIDS + (unsigned)(ctx & (a->nr - 1));
}

static void bit_set(unsigned long *map, uint64_t n)
{
	map[n / 64] |= 1ul << (n % 64);
}

/* find_next_zero_bit(MAP, END, FROM): END if none. */
static uint64_t next_zero(const unsigned long *map, uint64_t end, uint64_t from)
{
	for (uint64_t n = from; n < end; n++)
		if (!((map[n / 64] >> (n % 64)) & 1))
			return n;
	return end;
}

/* mmu_context_wrap(): a new version; the mms CPUs hold as their secondary
 * context keep their numbers.  Lock held. */
static void ctx_wrap(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	struct shd_sparc64_ctx *a = m->sparc64_ctx;
	uint64_t vm = version_mask(a);
	uint64_t old_ver = a->cache & vm, new_ver = old_ver + a->nr;

	memset(a->bmap, 0, (a->nr + 63) / 64 * sizeof(unsigned long));
	a->bmap[0] = 1;
	if (!new_ver)			/* the version itself wrapped */
		new_ver = a->nr;
	shd_store_relaxed(&a->cache, new_ver);
	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_mm *mm = m->cpus[c]->ctx_loaded_mm;
		uint64_t old;

		if (!mm)
			continue;
		old = shd_load_relaxed(&mm->hw_ctx);
		if ((old & vm) == old_ver) {
			bit_set(a->bmap, old & (a->nr - 1));
			shd_store_relaxed(&mm->hw_ctx, (old & ~vm) | new_ver);
		}
	}
	cpu->cnt.s.ctx_wraps++;
}

/* get_new_mmu_context(): a number of the current version for MM, whose
 * mm_cpumask then starts empty if it had one before.  Lock held. */
static void get_new_context(struct shd_cpu *cpu, struct shd_mm *mm)
{
	struct shd_sparc64_ctx *a = cpu->m->sparc64_ctx;
	uint64_t old, from, n;

	for (;;) {
		old = shd_load_relaxed(&mm->hw_ctx);
		if (old && ctx_valid(a, old))	/* a wrap kept it */
			return;
		from = (a->cache + 1) & (a->nr - 1);
		n = next_zero(a->bmap, a->nr, from);
		if (n >= a->nr) {
			n = next_zero(a->bmap, from, 1);
			if (n >= from) {
				ctx_wrap(cpu);
				continue;
			}
		}
		break;
	}
	if (old && !shd__fault_fires(cpu, SHD_FAULT_CTX_KEEP_CPUMASK))
		for (unsigned c = 0; c < cpu->m->ncpus; c++)
			if (shd__tso_mask_test(cpu, mm->cpumask, c))
				shd__tso_mask_clear(cpu, mm->cpumask, c);
	bit_set(a->bmap, n);
	n |= a->cache & version_mask(a);
	shd_store_relaxed(&a->cache, n);
	shd_store_relaxed(&mm->hw_ctx, n);
	cpu->cnt.s.ctx_allocs++;
}

unsigned shd__sparc64_switch_context(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_sparc64_ctx *a = cpu->m->sparc64_ctx;
	unsigned tag = SHD_ASID_NONE;
	bool valid;

	shd__sched_point(cpu);
	/* ctx_alloc_lock, with interrupts off as far as the kernel knows:
	 * a waiter still takes cross-calls (mondo vectors: not masked). */
	shd__cpu_spin_lock(cpu, &a->lock);
	cpu->ctx_loaded_mm = next;
	if (next) {
		uint64_t ctx = shd_load_relaxed(&next->hw_ctx);

		valid = ctx && ctx_valid(a, ctx);
		if (!valid)
			get_new_context(cpu, next);
		tag = SHD_NR_ASIDS +
		      (unsigned)(shd_load_relaxed(&next->hw_ctx) & (a->nr - 1));
		/* Seq-cst: pairs with the flusher's mask scan after its PTE
		 * change (tlb_batch.c). */
		if (!valid || !shd__tso_mask_test(cpu, next->cpumask, cpu->id)) {
			shd__tso_mask_set(cpu, next->cpumask, cpu->id);
			shd__local_flush_asid(cpu, tag);
			cpu->cnt.s.switch_flushes++;
			cpu->cnt.s.ctx_switch_flushes++;
		}
	}
	shd__cpu_spin_unlock(cpu, &a->lock);
	return tag;
}
