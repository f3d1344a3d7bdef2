/* SPDX-License-Identifier: MIT */
/* hypersparc's TLB engine: sun4m SRMMU contexts and the SMP flush cross-calls (arch/sparc/mm/srmmu.c, kernel/sun4m_smp.c). */

/*
 * Theory (after arch/sparc/mm/srmmu.c, arch/sparc/kernel/sun4m_smp.c and
 * arch/sparc/include/asm/switch_to_32.h, Linux 6.12; the scheme is the
 * 2.x-era sparc32 SMP port's and has barely changed since).
 *
 * An SRMMU TLB entry is tagged with a context number; the context table
 * maps each number to a page directory.  switch_mm gives an mm a number
 * only when it has none (mm->context == NO_CONTEXT): alloc_context(),
 * under srmmu_context_spinlock, takes one from the free list or, when
 * there is none, steals the oldest used one (the head of ctx_used; not
 * the previous mm of this CPU): flush_cache_mm() and flush_tlb_mm() of
 * the victim, whose context becomes NO_CONTEXT.  destroy_context() flushes
 * a dying mm's context and puts its number back on the free list.  No
 * flush at switch_mm for the TLB (HyperSPARC flushes its whole I-cache
 * there).  switch_to() sets this CPU's bit in the next mm's mm_cpumask;
 * nothing clears it (but for an mm_users == 1 shortcut after a flush,
 * not modelled: there is no mm_users here).
 *
 * smp_flush_tlb_mm/range/page() do nothing for an mm with no context
 * (no TLB holds its entries).  Else, if any CPU but this one is in
 * mm_cpumask, they cross-call (xc1, xc3, xc2) -- to every online CPU,
 * not to the mask: the mask only decides whether to cross-call at all --
 * and flush locally.  sun4m's cross_call serialises every cross-call of
 * the machine under one cross_call_lock and waits for each target to
 * enter and leave the handler; cross-calls are level-15 interrupts,
 * taken even with interrupts off.  A target flushes the context the mm
 * has when the handler runs.  flush_tlb_kernel_range() is flush_tlb_all()
 * on sparc32: every CPU flushes everything.  There is no batched unmap
 * flush.
 *
 * Where the model departs.  Linux can steal the context of an mm that
 * another CPU is running at that moment (only this CPU's previous mm is
 * spared): that CPU would go on translating through the new owner's page
 * directory.  Here a victim loaded on any CPU is passed over (so nctx must
 * exceed the CPUs: machine.c).  destroy_context()'s flush needs a CPU and
 * an mm dies on whichever thread drops it last: its number is marked
 * dirty instead, and the CPU that takes a dirty number cross-calls
 * everyone to flush it first (the same flush, later; to every CPU, the
 * dead mm's mask being gone).  HyperSPARC flushes a range by region
 * probes (16 MiB each); here a page at a time.  Costs are x86's.
 *
 * Fault ctx_steal_no_flush steals without flushing the victim: the new
 * owner translates through the victim's entries on the CPUs that ran it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "seeded.h"
#include "smp.h"
#include "srmmu.h"
#include "tlb.h"
#include "tso.h"

/* An owner slot: the mm, free (NULL), or free with its flush owed. */
#define CTX_DIRTY ((struct shd_mm *)1)

struct shd_srmmu {
	unsigned nctx;
	struct shd_mm **owner;	/* ctx_list_pool[].ctx_mm: atomics (CAS
				 * against mm_release) */
	uint64_t *stamp;	/* allocation order, for the LRU: lock */
	uint64_t clock;		/* lock */
	int32_t lock;		/* srmmu_context_spinlock */
	int32_t xcall_lock;	/* sun4m's cross_call_lock */
};

int shd__srmmu_init(struct shd_machine *m)
{
	struct shd_srmmu *a;

	if (m->cfg.arch.tlb != SHD_TLB_HYPERSPARC)
		return 0;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	m->srmmu = a;
	a->nctx = m->cfg.arch.nctx;
	a->owner = calloc(a->nctx, sizeof(*a->owner));
	a->stamp = calloc(a->nctx, sizeof(*a->stamp));
	return a->owner && a->stamp ? 0 : -ENOMEM;
}

void shd__srmmu_free(struct shd_machine *m)
{
	if (!m->srmmu)
		return;
	free(m->srmmu->owner);
	free(m->srmmu->stamp);
	free(m->srmmu);
	m->srmmu = NULL;
}

/* mm->context + 1 (0: NO_CONTEXT), in mm->hw_ctx. */
static unsigned ctx_of(const struct shd_mm *mm)
{
	return (unsigned)shd_load_relaxed(&mm->hw_ctx);
}

static unsigned tag_of(unsigned ctx)
{
	return SHD_NR_ASIDS + ctx - 1;
}

void shd__srmmu_destroy_context(struct shd_mm *mm)
{
	struct shd_srmmu *a = mm->m->srmmu;
	unsigned ctx;
	struct shd_mm *me = mm;

	if (!a || !(ctx = ctx_of(mm)))
		return;
	/* Seq-cst: a stealer that took the number first keeps it. */
	(void)shd_cas(&a->owner[ctx - 1], &me, CTX_DIRTY);
}

/* The demap a round asks, on CPU; the context is read when it runs. */
static void demap(struct shd_cpu *cpu, const struct shd_flush_info *f)
{
	unsigned ctx;

	if (f->kind != SHD_FLUSH_USER) {	/* flush_tlb_all() */
		shd__local_flush_everything(cpu);
		cpu->cnt.s.flushes_full++;
		return;
	}
	/* f->asid: a number whose owner is gone (destroy, steal) */
	ctx = f->asid != SHD_ASID_NONE ? f->asid : f->mm ? ctx_of(f->mm) : 0;
	if (!ctx)
		return;
	if (f->end_vpn == SHD_FLUSH_END_ALL) {
		shd__local_flush_asid(cpu, tag_of(ctx));
		cpu->cnt.s.flushes_full++;
	} else {
		shd__local_flush_pages(cpu, f->start_vpn, f->end_vpn,
				       tag_of(ctx));
	}
}

static void xcall_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	cpu->cnt.s.ipi_requests++;
	demap(cpu, csd->info);
}

/* smp_flush_tlb_*() of cpu->info: if XCALL, a cross-call to every other
 * online CPU under cross_call_lock, waited for; the local flush. */
static int xc_round(struct shd_cpu *cpu, enum shd_iface iface, bool xcall)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	uint64_t t0 = shd__machine_now(m);
	int n = 0, err = 0, r;

	f->initiator = cpu->id;
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, f);
	cpu->in_flush = true;
	if (xcall) {
		shd__cpu_spin_lock(cpu, &m->srmmu->xcall_lock);
		n = shd__mask_targets(cpu, NULL, cpu->targets);
		cpu->cnt.s.xcalls_all++;
		if (shd__fault(m, SHD_FAULT_SKIP_REMOTE_IPI)) {
			shd__fault_fired(cpu, SHD_FAULT_SKIP_REMOTE_IPI);
			n = 0;
		}
		err = shd__send_targets(cpu, cpu->targets, &n, xcall_func, f);
		if ((r = shd__wait_targets(cpu, cpu->targets, n,
					   shd__iface_names[iface])) && !err)
			err = r;
		shd__cpu_spin_unlock(cpu, &m->srmmu->xcall_lock);
	} else {
		cpu->cnt.s.xcalls_skipped++;
	}
	if (!shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH))
		demap(cpu, f);
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, n);
	return err;
}

/* Any CPU but this one in MM's mask (cpumask_any_but_current()). */
static bool others_in_mask(struct shd_cpu *cpu, struct shd_mm *mm)
{
	for (unsigned c = 0; c < cpu->m->ncpus; c++)
		if (c != cpu->id && shd__tso_mask_test(cpu, mm->cpumask, c))
			return true;
	return false;
}

int shd__srmmu_flush(struct shd_cpu *cpu, enum shd_iface iface,
		     struct shd_mm *mm, uint64_t s, uint64_t e)
{
	struct shd_flush_info *f = &cpu->info;

	if (mm && !ctx_of(mm))		/* NO_CONTEXT: no TLB holds it */
		return 0;
	memset(f, 0, sizeof(*f));
	f->kind = mm ? SHD_FLUSH_USER : SHD_FLUSH_ALL;
	f->mm = mm;
	f->asid = SHD_ASID_NONE;
	f->start_vpn = mm ? s : 0;
	f->end_vpn = mm ? e : SHD_FLUSH_END_ALL;
	return xc_round(cpu, iface, !mm || others_in_mask(cpu, mm));
}

/* The whole of number CTX on every CPU (a victim's, or a dead mm's). */
static void flush_number(struct shd_cpu *cpu, struct shd_mm *victim,
			 unsigned ctx)
{
	struct shd_flush_info *f = &cpu->info;

	memset(f, 0, sizeof(*f));
	f->kind = SHD_FLUSH_USER;
	f->asid = ctx;
	f->end_vpn = SHD_FLUSH_END_ALL;
	(void)xc_round(cpu, SHD_IF_MM, !victim || others_in_mask(cpu, victim));
}

static bool loaded_anywhere(struct shd_machine *m, const struct shd_mm *mm)
{
	for (unsigned c = 0; c < m->ncpus; c++)
		if (m->cpus[c]->ctx_loaded_mm == mm)
			return true;
	return false;
}

/* alloc_context(): a number for MM, stolen if none is free.  Lock held;
 * false if every used number's mm is loaded somewhere. */
static bool alloc_context(struct shd_cpu *cpu, struct shd_mm *old,
			  struct shd_mm *mm)
{
	struct shd_srmmu *a = cpu->m->srmmu;
	unsigned best = a->nctx;

	for (unsigned n = 0; n < a->nctx; n++) {
		struct shd_mm *o = shd_load_seq(&a->owner[n]);

		if ((o == NULL || o == CTX_DIRTY) && shd_cas(&a->owner[n], &o, mm)) {
			if (o == CTX_DIRTY) {	/* destroy_context()'s flush */
				flush_number(cpu, NULL, n + 1);
				cpu->cnt.s.ctx_reuse_flushes++;
			}
			best = n;
			goto got;
		}
	}
	/* Steal the oldest: its mm is alive while under the RCU read lock
	 * (mm_release() marks the slot dirty before the grace period). */
	rcu_read_lock();
	for (unsigned n = 0; n < a->nctx; n++) {
		struct shd_mm *o = shd_load_seq(&a->owner[n]);

		if (o == NULL || o == CTX_DIRTY || o == old ||
		    loaded_anywhere(cpu->m, o))
			continue;
		if (best == a->nctx || a->stamp[n] < a->stamp[best])
			best = n;
	}
	if (best < a->nctx) {
		struct shd_mm *victim = shd_load_seq(&a->owner[best]);

		if (victim != CTX_DIRTY && victim &&
		    !shd__fault_fires(cpu, SHD_FAULT_CTX_STEAL_NO_FLUSH))
			flush_number(cpu, victim, best + 1);
		if (victim != CTX_DIRTY && victim)
			shd_store_relaxed(&victim->hw_ctx, 0);
		shd_store_seq(&a->owner[best], mm);
		cpu->cnt.s.ctx_steals++;
	}
	rcu_read_unlock();
	if (best == a->nctx)
		return false;
got:
	a->stamp[best] = ++a->clock;
	shd_store_relaxed(&mm->hw_ctx, best + 1);
	cpu->cnt.s.ctx_allocs++;
	return true;
}

unsigned shd__srmmu_switch_context(struct shd_cpu *cpu, struct shd_mm *next)
{
	struct shd_srmmu *a = cpu->m->srmmu;
	struct shd_mm *old = cpu->loaded_mm;
	unsigned tag = SHD_ASID_NONE;

	shd__sched_point(cpu);
	shd__cpu_spin_lock(cpu, &a->lock);
	cpu->ctx_loaded_mm = next;
	while (next && !ctx_of(next) && !alloc_context(cpu, old, next)) {
		/* Every number's mm runs somewhere: wait for one to stop. */
		shd__cpu_spin_unlock(cpu, &a->lock);
		shd__cpu_take_ipis(cpu);
		if (cpu->m->seeded)
			shd__seeded_yield(cpu);
		else
			caa_cpu_relax();
		shd__cpu_spin_lock(cpu, &a->lock);
	}
	if (next)
		tag = tag_of(ctx_of(next));
	shd__cpu_spin_unlock(cpu, &a->lock);
	/* switch_to(): this CPU's bit, never cleared.  Seq-cst: pairs with
	 * a flusher's mask read after its PTE change. */
	if (next && !shd__tso_mask_test(cpu, next->cpumask, cpu->id))
		shd__tso_mask_set(cpu, next->cpumask, cpu->id);
	return tag;
}
