/* SPDX-License-Identifier: MIT */
/* Non-snooping I-caches (arm64): ic ivau as a broadcast log, and the stale-instruction oracle. */

/*
 * Each CPU has a physically indexed I-cache filled from memory (the D-side
 * is coherent, so memory is the point of unification) that no store
 * touches.  Invalidation is arm64's `ic ivau`, broadcast in hardware
 * without interrupting anyone: the model appends the page to a machine-wide
 * log, and every CPU drops the logged pages from its own I-cache before its
 * next fetch (the one rule: a cache is touched only by its CPU's thread).
 * Completion is the append: after it, no CPU can fetch an older line.
 * A CPU more than ILOG entries behind invalidates its whole I-cache.
 *
 * The oracle.  A fetch is stale when the line differs from memory.  That
 * is the kernel's fault only if every write behind the difference was one
 * the kernel must make visible to instruction fetch and the invalidation
 * that does so had completed when the fetch began.  Kernel writes of a
 * frame count themselves in iwriters while they run and in iseq when done
 * (a writer that invalidates, as copy_to_user_page() does, finishes only
 * after its invalidation).  The contract points credit isynced with the
 * iseq they saw before invalidating: set_pte_at() of an executable PTE,
 * copy_to_user_page() into an executable mapping, flush_icache_range().  A
 * fetch is judged only when no kernel write ran across it, none finished
 * uncredited before it, and no user store ever reached the frame (a
 * program syncs its own instructions, which the model does not offer).
 *
 * Ordering.  Every access to iwriters, iseq, isynced, iuser and the log is
 * sequentially consistent, so they fall in one order with the memory word
 * the fetch compares against.  A writer raises iwriters, stores, then
 * raises iseq and lowers iwriters; a fetch reads isynced, iwriters and
 * iseq, then its line and memory, then iuser, iwriters and iseq again.  A
 * fetch that finds no writer and the same iseq on both sides, with iseq
 * credited, read memory with no kernel write in flight and every finished
 * one synced; a user store raises iuser before it stores.  The log's slots
 * are seqlocks: the appender claims a position with head (fetch_add),
 * zeroes the slot's seq, writes the pfn, then writes seq = position + 1;
 * a reader waits for that seq, reads the pfn, and re-reads seq.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "icache.h"
#include "report.h"

#define ILOG 4096u

struct shd_ilog {
	uint64_t head __attribute__((aligned(SHD_CL)));	/* next slot */
	struct {
		uint64_t seq;		/* position + 1 once written */
		uint64_t pfn;
	} slot[ILOG];
};

struct shd_icache {
	uint64_t *tag;		/* physical line + 1; 0: invalid */
	uint8_t *data;		/* sets * ways * line */
	uint8_t *victim;
	uint64_t done;		/* log entries applied */
	unsigned sets, ways, line_shift;
};

int shd__icache_machine_init(struct shd_machine *m)
{
	if (m->cfg.arch.icache_nosnoop && !(m->ilog = calloc(1, sizeof(*m->ilog))))
		return -ENOMEM;
	return 0;
}

void shd__icache_machine_free(struct shd_machine *m)
{
	free(m->ilog);
	m->ilog = NULL;
}

int shd__icache_init(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	const struct shd_arch *a = &m->cfg.arch;
	struct shd_icache *ic;
	size_t n;

	if (!m->ilog)
		return 0;
	if (!(ic = calloc(1, sizeof(*ic))))
		return -ENOMEM;
	cpu->icache = ic;
	ic->sets = a->icache_sets;
	ic->ways = a->icache_ways;
	ic->line_shift = (unsigned)__builtin_ctz(a->line);
	n = (size_t)ic->sets * ic->ways;
	ic->tag = calloc(n, sizeof(*ic->tag));
	ic->data = malloc(n << ic->line_shift);
	ic->victim = calloc(ic->sets, 1);
	return ic->tag && ic->data && ic->victim ? 0 : -ENOMEM;
}

void shd__icache_free(struct shd_cpu *cpu)
{
	struct shd_icache *ic = cpu->icache;

	if (!ic)
		return;
	free(ic->tag);
	free(ic->data);
	free(ic->victim);
	free(ic);
	cpu->icache = NULL;
}

static unsigned icache_drop_page(struct shd_cpu *cpu, uint64_t pfn)
{
	struct shd_icache *ic = cpu->icache;
	uint64_t lo = (pfn << cpu->m->page_shift) >> ic->line_shift;
	uint64_t hi = ((pfn + 1) << cpu->m->page_shift) >> ic->line_shift;
	unsigned n = 0;

	for (size_t i = 0; i < (size_t)ic->sets * ic->ways; i++) {
		if (ic->tag[i] > lo && ic->tag[i] <= hi) {
			ic->tag[i] = 0;
			n++;
		}
	}
	return n;
}

/* Apply the invalidations logged since this CPU last looked. */
static void icache_catch_up(struct shd_cpu *cpu)
{
	struct shd_ilog *log = cpu->m->ilog;
	struct shd_icache *ic = cpu->icache;
	/* Acquire: pairs with the appender's fetch_add; the slots are then
	 * read as seqlocks (see Ordering). */
	uint64_t head = shd_load_acquire(&log->head);

	while (ic->done < head) {
		uint64_t p = ic->done, seq, pfn;

		if (head - p > ILOG)
			goto overrun;
		while ((seq = shd_load_seq(&log->slot[p % ILOG].seq)) < p + 1)
			caa_cpu_relax();	/* its writer is mid-append */
		pfn = shd_load_seq(&log->slot[p % ILOG].pfn);
		if (seq > p + 1 || shd_load_seq(&log->slot[p % ILOG].seq) != seq)
			goto overrun;		/* overwritten: we fell behind */
		cpu->cnt.s.icache_lines_invalidated += icache_drop_page(cpu, pfn);
		ic->done = p + 1;
	}
	return;
overrun:
	for (size_t i = 0; i < (size_t)ic->sets * ic->ways; i++)
		if (ic->tag[i]) {
			ic->tag[i] = 0;
			cpu->cnt.s.icache_lines_invalidated++;
		}
	ic->done = head;
}

static void report_stale_insn(struct shd_cpu *cpu, uint64_t va, uint64_t pa,
			      uint64_t got, uint64_t want)
{
	struct shd_machine *m = cpu->m;
	struct shd_violation v;

	shd__violation_init(&v, m, SHD_VIOLATION_STALE_INSN, cpu->id,
			    cpu->loaded_mm ? cpu->loaded_mm->id : 0, va,
			    "flush_icache_range");
	snprintf(v.text, sizeof(v.text),
		 "stale instruction: cpu %u fetched 0x%" PRIx64 " at va 0x%"
		 PRIx64 " (pa 0x%" PRIx64 ") from its I-cache; memory holds "
		 "0x%" PRIx64 ", written by the kernel and synced: an I-cache "
		 "invalidation (set_pte_at, copy_to_user_page or "
		 "flush_icache_range) was missed, seed %" PRIu64,
		 cpu->id, got, va, pa, want, v.seed);
	shd__report_cpu(cpu, &v);
}

uint64_t shd__icache_fetch(struct shd_cpu *cpu, uint64_t va, uint64_t pa)
{
	struct shd_machine *m = cpu->m;
	struct shd_icache *ic = cpu->icache;
	struct shd_frame *fr = &m->frames[pa >> m->page_shift];
	uint64_t pline = pa >> ic->line_shift, val, mem;
	unsigned set = (unsigned)(pline & (ic->sets - 1));
	/* Seq-cst, all of them: see Ordering above. */
	uint32_t synced = shd_load_seq(&fr->isynced);
	uint32_t w1 = shd_load_seq(&fr->iwriters);
	uint32_t s1 = shd_load_seq(&fr->iseq);
	int i = -1;

	icache_catch_up(cpu);
	for (unsigned w = 0; w < ic->ways && i < 0; w++)
		if (ic->tag[set * ic->ways + w] == pline + 1)
			i = (int)(set * ic->ways + w);
	if (i < 0) {
		unsigned w = ic->victim[set];

		ic->victim[set] = (uint8_t)((w + 1) % ic->ways);
		i = (int)(set * ic->ways + w);
		ic->tag[i] = pline + 1;
		for (unsigned k = 0; k < (1u << ic->line_shift); k += 8) {
			uint64_t x = shd_load_relaxed((uint64_t *)(m->mem +
				((pline << ic->line_shift) + k)));

			memcpy(ic->data + ((size_t)i << ic->line_shift) + k, &x, 8);
		}
		cpu->cnt.s.icache_misses++;
	}
	memcpy(&val, ic->data + ((size_t)i << ic->line_shift) +
	       (pa & ((1u << ic->line_shift) - 1)), 8);
	/* Seq-cst: after the line, before the second look at the
	 * writers (Ordering). */
	mem = shd_load_seq((uint64_t *)(m->mem + pa));
	if (val != mem && m->cfg.oracle && !w1 && s1 == synced &&
	    !shd_load_seq(&fr->iuser) &&
	    !shd_load_seq(&fr->iwriters) &&
	    shd_load_seq(&fr->iseq) == s1)
		report_stale_insn(cpu, va, pa, val, mem);
	return val;
}

void shd__ikernel_write_begin(struct shd_machine *m, uint64_t pfn)
{
	/* Seq-cst: before the write's stores (Ordering). */
	shd_add_return(&m->frames[pfn].iwriters, 1);
}

void shd__ikernel_write_end(struct shd_machine *m, uint64_t pfn)
{
	/* Seq-cst: after the write's stores; iseq moves before iwriters
	 * drops, so a fetch never sees neither (Ordering). */
	shd_add_return(&m->frames[pfn].iseq, 1);
	shd_sub_return(&m->frames[pfn].iwriters, 1);
}

void shd__icache_user_store(struct shd_machine *m, uint64_t pfn)
{
	/* Seq-cst: before the user's store (Ordering). */
	if (!shd_load_relaxed(&m->frames[pfn].iuser))
		shd_store_seq(&m->frames[pfn].iuser, 1);
}

void shd__icache_invalidate(struct shd_cpu *cpu, uint64_t pfn)
{
	struct shd_ilog *log = cpu->m->ilog;
	/* Seq-cst: claims slot p; readers acquire head (icache_catch_up()). */
	uint64_t p = shd_fetch_add(&log->head, 1);

	/* A writer ILOG appends ahead would share the slot: wait our turn
	 * (readers that fell that far behind flush everything anyway). */
	for (uint64_t q; (q = shd_load_seq(&log->slot[p % ILOG].seq)) + ILOG < p + 1 ||
			 (q == 0 && p >= ILOG);)
		caa_cpu_relax();
	/* Readers check seq on both sides of reading pfn (a seqlock). */
	shd_store_seq(&log->slot[p % ILOG].seq, 0);
	shd_store_seq(&log->slot[p % ILOG].pfn, pfn);
	shd_store_seq(&log->slot[p % ILOG].seq, p + 1);
	cpu->cnt.s.icache_flushes++;
}

void shd__icache_credit(struct shd_machine *m, uint64_t pfn, uint32_t seq)
{
	struct shd_frame *fr = &m->frames[pfn];
	/* Seq-cst: credits only grow; pairs with the fetch's load of isynced. */
	uint32_t cur = shd_load_seq(&fr->isynced);

	while ((int32_t)(seq - cur) > 0 &&
	       !shd_cas(&fr->isynced, &cur, seq))
		;
}

uint32_t shd__icache_seq(struct shd_machine *m, uint64_t pfn)
{
	/* Seq-cst: read before the invalidation it will credit (Ordering). */
	return shd_load_seq(&m->frames[pfn].iseq);
}

/*
 * __sync_icache_dcache(), from set_pte_at() of a user-executable PTE: if
 * the page is not known clean (PG_dcache_clean, our arch1), clean D and
 * invalidate I, then mark it.  The oracle counts the page synced either
 * way: once an executable PTE is set, the kernel promises fetches see its
 * own writes (flush_dcache_page() clears the mark when it writes).
 */
void shd__icache_set_pte_exec(struct shd_cpu *cpu, uint64_t pfn)
{
	struct shd_machine *m = cpu->m;
	struct shd_frame *fr = &m->frames[pfn];
	uint32_t s, cur;

	if (!m->ilog)
		return;
	s = shd__icache_seq(m, pfn);
	/* Seq-cst: pairs with flush_dcache_page()'s CAS that clears the
	 * bit and counts the write (shd__flush_dcache_page()). */
	cur = shd_load_seq(&fr->arch1);
	if (!(cur & 1)) {
		/* Not clean since the last write: sync, then mark it clean,
		 * unless a write came meanwhile (the CAS fails on its count;
		 * the next mapping syncs again, and nothing is credited). */
		shd__icache_invalidate(cpu, pfn);
		if (!shd_cas(&fr->arch1, &cur, cur | 1))
			return;
	}
	shd__icache_credit(m, pfn, s);
}
