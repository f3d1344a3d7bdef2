/* SPDX-License-Identifier: MIT */
/* The shootdown engine: the flush_tlb_* interfaces across simulated CPUs. */

/*
 * Theory (after arch/x86/mm/tlb.c).
 *
 * Each mm has a 64-bit tlb_gen, bumped by every flush request; each CPU keeps,
 * per ASID slot, the generation its TLB is known to be up to date with.  An
 * initiator bumps the generation (a seq-cst RMW, ordered before it reads
 * mm_cpumask and the targets' lazy flags), queues one request per target,
 * flushes locally while the requests are in flight (policy "concurrent"),
 * then waits for every acknowledgement.  A target that finds its generation
 * already at or past the request's does nothing; exactly one behind with a
 * small range, it invalidates page by page; otherwise it flushes the whole
 * context and jumps to the mm's current generation.  The invariant: a CPU's
 * local generation never passes a flush it has not done.
 *
 * CPUs that switch into an mm set their mm_cpumask bit (seq-cst) before
 * reading tlb_gen, and CPUs leaving lazy mode clear is_lazy before reading
 * it: so either the flusher sees them and sends a request, or they see the
 * new generation and flush themselves.  Lazy CPUs are skipped unless page
 * tables were freed; one that still gets a request drops to init_mm
 * (leave_mm(), here as in Linux).
 *
 * switch=6.13 (Linux 6.13+, arch/x86/mm/tlb.c native_flush_tlb_multi(),
 * should_flush_tlb(), flush_tlb_func()).  A CPU leaving an mm keeps its
 * bit (209954cbc7d0, "x86/mm/tlb: Update mm_cpumask lazily"), so the mask
 * only says who may hold translations; the scan then reads each
 * candidate's cpu_tlbstate.loaded_mm (loaded_mm_id) and sends to the ones
 * running the mm or mid-switch (LOADED_MM_SWITCHING: fea4e317f9e7, "Eliminate
 * window where TLB flushes may be inadvertently skipped", CVE-2025-37964;
 * fault skip_loaded_mm_switching is the code before it).  The handshake
 * is now switch_mm's store of SWITCHING, a full barrier, its tlb_gen read,
 * against our tlb_gen bump (a locked RMW), then our read of loaded_mm:
 * one of us sees the other, but only with that barrier, which a bit
 * already set does not provide (83b0177a6c48: tso.c's store buffers show
 * it).  Once a second (simulated time under the seeded scheduler) a flush
 * also goes to the CPUs of the mask running another mm, which clear their
 * bits (should_trim_cpumask()); freed page tables reach every CPU in the
 * mask.
 *
 * Counting, as Linux 6.18 counts (arch/x86/mm/tlb.c, kernel/smp.c).  The
 * scan counts every other online CPU as an IPI candidate and each ends in
 * one outcome (include/shootdown/stats.h): pruned or lazy here, sent or
 * coalesced in shd__send_csd(), deferred for LATR's posts, timed out when
 * the watchdog withdraws it.  flush_tlb_func() on a CPU other than the
 * initiator counts the TLB line of /proc/interrupts (tlb_interrupts,
 * inc_irq_stat(TLB)) and NR_TLB_REMOTE_FLUSH_RECEIVED first thing, before
 * any early return (wrong CPU, lazy, already current), for user mms and
 * reclaim batches; kernel flushes never count there.  NR_TLB_REMOTE_FLUSH
 * is the initiator's, once per native_flush_tlb_multi() call (a user or
 * batch flush with another CPU in its mask) and per flush_tlb_all();
 * do_flush_tlb_all() (flush_tlb_all, kernel ranges above the ceiling)
 * counts NR_TLB_REMOTE_FLUSH_RECEIVED on every CPU, the initiator too;
 * NR_TLB_LOCAL_FLUSH_ALL/ONE are the initiator's own full flush and pages
 * in flush_tlb_func(), and flush_tlb_one_kernel()'s pages on every CPU for
 * a kernel range below the ceiling.  LATR is not Linux: its swept requests
 * count as received remote flushes, but not on the TLB line (no
 * interrupt) nor in ipi_requests.
 *
 * The one rule: a TLB is touched only by its own CPU's thread.  Everything
 * remote is a request through ipi/.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <string.h>

#include <shootdown/tlbflush.h>
#include "../common/probes.h"
#include "../policy/policy_ops.h"
#include "bcast.h"
#include "cache.h"
#include "context.h"
#include "mm.h"
#include "oracle.h"
#include "pgtable.h"
#include "rfence.h"
#include "seeded.h"
#include "smp.h"
#include "srmmu.h"
#include "stats.h"
#include "tlb_batch.h"
#include "tlb.h"
#include "tlbflush.h"
#include "tlbi.h"
#include "trace.h"
#include "tso.h"

static void flush_full(struct shd_cpu *cpu, unsigned asid)
{
	shd__local_flush_asid(cpu, asid);
	cpu->cnt.s.flushes_full++;
}

/* NR_TLB_LOCAL_FLUSH_ALL / _ONE: only the initiator's own work counts. */
static void count_local(struct shd_cpu *cpu, const struct shd_flush_info *f,
			uint64_t npages)
{
	if (f->initiator != cpu->id)
		return;
	if (npages)
		cpu->cnt.s.nr_tlb_local_flush_one += npages;
	else
		cpu->cnt.s.nr_tlb_local_flush_all++;
}

/* What flush_tlb_func() tells its tracepoint (trace.c): nothing (an
 * early return), the wrong-CPU return, or pages at "done:". */
#define TRACE_NONE	LONG_MIN
#define TRACE_WRONG_CPU	(LONG_MIN + 1)

/* nr_invalidate of F done in full: its pages, or TLB_FLUSH_ALL. */
static long pages_of(const struct shd_flush_info *f)
{
	return f->end_vpn == SHD_FLUSH_END_ALL ? SHD_TRACE_PAGES_ALL :
	       (long)(f->end_vpn - f->start_vpn);
}

static int asid_of(struct shd_cpu *cpu, struct shd_mm *mm)
{
	for (int a = 0; a < SHD_NR_ASIDS; a++)
		if (cpu->ctxs[a].ctx_id == mm->id)
			return a;
	return -1;
}

/* A batch flush (x86 arch_tlbbatch_flush()) on this CPU; what its
 * tracepoint says (TRACE_NONE, or pages). */
static long flush_tlb_batch_func(struct shd_cpu *cpu, const struct shd_flush_info *f)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	struct shd_mm *mm;
	uint64_t mm_gen;
	int asid;

	if (!shd__policy_may_miss(p)) {
		/* Switch-in will not catch up (no pruning, no lazy
		 * skip): flush every user context now. */
		for (unsigned a = 0; a < SHD_NR_ASIDS; a++)
			shd__local_flush_asid(cpu, a);
		cpu->cnt.s.flushes_full++;
		count_local(cpu, f, 0);
		return SHD_TRACE_PAGES_ALL;
	}
	/* arch_tlbbatch_flush(): flush whatever user mm is loaded and
	 * catch up with its generation; other contexts were bumped by
	 * add_pending and catch up when switched in. */
	mm = cpu->loaded_mm;
	if (!mm || (p->lazy && shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed))) {
		if (mm)
			shd__leave_mm(cpu);
		cpu->cnt.s.flushes_skipped_gen++;
		return TRACE_NONE;	/* init_mm, or lazy: returns early */
	}
	asid = (int)cpu->loaded_asid;
	if (shd__is_global_asid((unsigned)asid)) {
		/* RAR's trims aside, broadcasts keep it current; a full
		 * flush of it is never wrong. */
		flush_full(cpu, (unsigned)asid);
		return SHD_TRACE_PAGES_ALL;
	}
	/* Acquire: pairs with the seq-cst bumps of add_pending
	 * (shd__tlbbatch_add()) and of flush initiators
	 * (shd__flush_info_init()). */
	mm_gen = shd__tso_load(cpu, &mm->tlb_gen, shd_load_acquire);
	if (p->gen && cpu->ctxs[asid].tlb_gen == mm_gen) {
		cpu->cnt.s.flushes_skipped_gen++;	/* already current */
		return 0;
	}
	flush_full(cpu, (unsigned)asid);
	count_local(cpu, f, 0);
	if (p->gen)
		cpu->ctxs[asid].tlb_gen = mm_gen;
	return SHD_TRACE_PAGES_ALL;
}

/* The action of F on this CPU running its mm, at LOCAL of MM_GEN: the
 * base's, or a policy in C's (policy_ops.h). */
static enum shd_flush_action flush_action_of(struct shd_cpu *cpu,
					     const struct shd_flush_info *f,
					     uint64_t local, uint64_t mm_gen,
					     uint64_t npages)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	enum shd_flush_action a = shd__policy_flush_action(p, local,
							   f->new_tlb_gen,
							   mm_gen, npages);
	struct shd_hook_ctx x;

	if (!shd__has_hook(p, flush_action))
		return a;
	shd__hook_ctx_init(cpu, f->mm, &x);
	x.initiator = f->initiator;
	x.in_mm_cpumask = shd__tso_mask_test(cpu, f->mm->cpumask, cpu->id);
	x.loaded = SHD_HOOK_LOADED_THIS;
	x.freed_tables = f->freed_tables;
	x.trim_cpumask = f->trim_cpumask;
	x.npages = npages;
	x.new_tlb_gen = f->new_tlb_gen;
	x.mm_tlb_gen = mm_gen;
	x.local_tlb_gen = local;
	a = (enum shd_flush_action)shd__hook_flush_action(p, &x,
						(enum shd_hook_action)a);
	return a == SHD_ACTION_PARTIAL && !npages ? SHD_ACTION_FULL : a;
}

/* A flush of user mm F->mm on this CPU: what it needs, by generation;
 * what its tracepoint says (TRACE_NONE, TRACE_WRONG_CPU, or pages). */
static long flush_tlb_user_func(struct shd_cpu *cpu, const struct shd_flush_info *f)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	uint64_t npages, local, mm_gen;
	struct shd_mm *mm = f->mm;
	long traced = SHD_TRACE_PAGES_ALL;
	bool wrong = false;
	int asid;

	if (mm != cpu->loaded_mm) {
		/* Not running it: if flushes can bypass us, switch-in will
		 * catch up; if not (broadcast), flush its slot now.  6.13
		 * trims the lazy mask: a remote CPU left in it clears its
		 * bit (LOCK BTR). */
		if (p->switch_mm == SHD_SWITCH_6_13 && f->initiator != cpu->id) {
			shd__tso_mask_clear(cpu, mm->cpumask, cpu->id);
			cpu->cnt.s.tlb_remote_wrong_cpu++;
			wrong = true;
		}
		asid = shd__policy_may_miss(p) ? -1 : asid_of(cpu, mm);
		if (asid < 0) {
			cpu->cnt.s.flushes_skipped_gen++;
			return wrong ? TRACE_WRONG_CPU :
			       f->initiator == cpu->id ? TRACE_NONE : 0;
		}
		if (f->end_vpn != SHD_FLUSH_END_ALL)
			shd__local_flush_pages(cpu, f->start_vpn, f->end_vpn, (unsigned)asid);
		else
			flush_full(cpu, (unsigned)asid);
		count_local(cpu, f, f->end_vpn == SHD_FLUSH_END_ALL ? 0 :
			    f->end_vpn - f->start_vpn);
		return wrong ? TRACE_WRONG_CPU : pages_of(f);
	}
	if (shd__is_global_asid(cpu->loaded_asid) && !f->hw_covered &&
	    shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed)) {
		/* No broadcast covered this request (RAR's trim, a LATR or
		 * arm64 reclaim request, a flush begun before the mm had its
		 * global ASID): flush it before leaving, since this lazy
		 * CPU's bit stays set and switching back in will not. */
		flush_full(cpu, cpu->loaded_asid);
		shd__leave_mm(cpu);
		return TRACE_NONE;	/* Linux: is_lazy, return */
	}
	if (p->lazy && shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed)) {
		/* A lazy CPU that got a request anyway (page tables freed):
		 * stop using the mm; switch-in will check the generation. */
		shd__leave_mm(cpu);
		cpu->cnt.s.flushes_skipped_gen++;
		return TRACE_NONE;
	}
	/* The bug: the wrong-CPU test taken by a CPU that runs the mm.  It
	 * still flushes now; the flushes after it prune it. */
	if (p->switch_mm == SHD_SWITCH_6_13 && f->initiator != cpu->id &&
	    shd__fault(cpu->m, SHD_FAULT_WRONG_CPU_CLEARS_RUNNING) &&
	    shd__tso_mask_test(cpu, mm->cpumask, cpu->id)) {
		shd__tso_mask_clear(cpu, mm->cpumask, cpu->id);
		shd__fault_fired(cpu, SHD_FAULT_WRONG_CPU_CLEARS_RUNNING);
	}
	/* 6.15: a CPU still on a dynamic ASID for an mm that has a global
	 * one moves to it (finish_asid_transition() sent us here); on the
	 * global ASID, the broadcast has flushed us already.  A request no
	 * broadcast covered (see above) flushes here. */
	(void)shd__switch_to_global_asid(cpu);
	asid = (int)cpu->loaded_asid;
	if (shd__is_global_asid((unsigned)asid)) {
		if (f->hw_covered) {
			cpu->cnt.s.flushes_skipped_gen++;
			return TRACE_NONE;	/* is_global_asid(): return */
		}
		if (f->end_vpn == SHD_FLUSH_END_ALL)
			flush_full(cpu, (unsigned)asid);
		else
			shd__local_flush_pages(cpu, f->start_vpn, f->end_vpn,
					       (unsigned)asid);
		return pages_of(f);
	}
	local = cpu->ctxs[asid].tlb_gen;
	/* Acquire: pairs with the initiators' seq-cst bumps
	 * (shd__flush_info_init()): the PTE changes behind them are visible. */
	mm_gen = shd__tso_load(cpu, &mm->tlb_gen, shd_load_acquire);
	npages = f->end_vpn == SHD_FLUSH_END_ALL ? 0 : f->end_vpn - f->start_vpn;
	switch (flush_action_of(cpu, f, local, mm_gen, npages)) {
	case SHD_ACTION_NOTHING:
		cpu->cnt.s.flushes_skipped_gen++;
		/* Linux's flush_tlb_func() tests f->new_tlb_gen <= local first
		 * and returns untraced (aa44284960d5; the "goto done" proposed
		 * with it was not merged); only local == mm_tlb_gen, found
		 * after reading the mm's generation, goes to done: with
		 * nr_invalidate 0. */
		return f->new_tlb_gen && f->new_tlb_gen <= local ? TRACE_NONE : 0;
	case SHD_ACTION_PARTIAL:
		shd__local_flush_pages(cpu, f->start_vpn, f->end_vpn, (unsigned)asid);
		count_local(cpu, f, npages);
		traced = (long)npages;
		break;
	case SHD_ACTION_FULL:
		flush_full(cpu, (unsigned)asid);
		count_local(cpu, f, 0);
		break;
	}
	if (p->gen)
		cpu->ctxs[asid].tlb_gen = mm_gen;
	return traced;
}

/* flush_tlb_func() but its tracepoint: what the tracepoint would say. */
static long flush_tlb_func_untraced(struct shd_cpu *cpu,
				    const struct shd_flush_info *f)
{
	if (f->kind == SHD_FLUSH_ALL) {
		shd__local_flush_everything(cpu);
		cpu->cnt.s.flushes_full++;
		cpu->cnt.s.nr_tlb_remote_flush_received++;	/* do_flush_tlb_all() */
		return TRACE_NONE;
	}
	if (f->kind == SHD_FLUSH_KERNEL) {
		if (f->end_vpn == SHD_FLUSH_END_ALL) {
			/* do_flush_tlb_all(): __flush_tlb_all() is INVPCID
			 * type 2 (or a CR4.PGE toggle): every PCID's entries,
			 * user ones included, not only the global ones.  The
			 * slots' tlb_gen stay as they are: the TLB is merely
			 * more flushed than recorded, and pays in refills. */
			shd__local_flush_everything(cpu);
			cpu->cnt.s.flushes_full++;
			cpu->cnt.s.nr_tlb_remote_flush_received++;
		} else {
			/* do_kernel_range_flush(): flush_tlb_one_kernel() per
			 * page, counted on every CPU. */
			shd__local_flush_pages(cpu, f->start_vpn, f->end_vpn, SHD_ASID_GLOBAL);
			cpu->cnt.s.nr_tlb_local_flush_one += f->end_vpn - f->start_vpn;
		}
		return TRACE_NONE;	/* kernel flushes: no tracepoint */
	}
	return f->kind == SHD_FLUSH_BATCH ? flush_tlb_batch_func(cpu, f) :
					    flush_tlb_user_func(cpu, f);
}

/* flush_tlb_func(): runs on the CPU whose TLB it flushes.  Its
 * tracepoint fires at the done: label or the wrong-CPU return (trace.c). */
void shd__flush_tlb_func(struct shd_cpu *cpu, const struct shd_flush_info *f)
{
	long traced = flush_tlb_func_untraced(cpu, f);

	if (__builtin_expect(cpu->tbuf != NULL, 0) && traced != TRACE_NONE)
		shd__trace_tlb_flush(cpu, traced == TRACE_WRONG_CPU ?
				     SHD_TLB_REMOTE_WRONG_CPU :
				     f->initiator != cpu->id ?
				     SHD_TLB_REMOTE_SHOOTDOWN :
				     f->kind == SHD_FLUSH_BATCH ?
				     SHD_TLB_LOCAL_SHOOTDOWN :
				     SHD_TLB_LOCAL_MM_SHOOTDOWN,
				     traced == TRACE_WRONG_CPU ? 0 : traced);
}

void shd__hook_ctx_init(struct shd_cpu *cpu, const struct shd_mm *mm,
			struct shd_hook_ctx *x)
{
	struct shd_machine *m = cpu->m;

	memset(x, 0, sizeof(*x));
	x->cpu = x->self = x->initiator = cpu->id;
	x->ncpus = m->ncpus;
	x->mm_id = mm->id;
	x->now_ns = shd__machine_now(m);
	x->jiffies = shd__jiffies(m);
	x->knobs = m->cfg.policy.knob;
}

/* IPI handler of flush requests. */
static void flush_ipi_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;
	const struct shd_flush_info *f = csd->info;

	cpu->cnt.s.ipi_requests++;
	/* flush_tlb_func()'s first lines: a remote run for a user mm or a
	 * reclaim batch, before any early return. */
	if (f->kind == SHD_FLUSH_USER || f->kind == SHD_FLUSH_BATCH) {
		cpu->cnt.s.tlb_interrupts++;
		cpu->cnt.s.nr_tlb_remote_flush_received++;
	}
	shd__flush_tlb_func(cpu, f);
}

/* LATR's handler: a posted request, swept (or run at its fallback
 * interrupt, counted by the kicker).  Not from the call queue. */
static void flush_sweep_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	cpu->cnt.s.nr_tlb_remote_flush_received++;
	(void)flush_tlb_func_untraced(cpu, csd->info);	/* no interrupt */
}

/* switch=6.13: candidate T's cpu_tlbstate.loaded_mm against MM. */
static enum shd_loaded loaded_of(struct shd_cpu *cpu, struct shd_cpu *t,
				 const struct shd_mm *mm)
{
	/* Seq-cst (a MOV on x86): after our tlb_gen bump, a locked RMW;
	 * pairs with switch_mm()'s store of SWITCHING, its barrier, then
	 * its tlb_gen read (mmu_context.c). */
	uint64_t id = shd__tso_load(cpu, &t->loaded_mm_id, shd_load_seq);

	if (id == SHD_LOADED_MM_SWITCHING)
		return SHD_LOADED_SWITCHING;
	return id == mm->id ? SHD_LOADED_THIS : SHD_LOADED_OTHER;
}

static enum shd_target_verdict verdict_of(const struct shd_policy *p,
					  bool in_mask, bool lazy,
					  const struct shd_flush_info *f,
					  enum shd_loaded loaded)
{
	/* An ASID transition reaches the whole mask, as freed tables do
	 * (native_flush_tlb_multi()'s unconditional branch). */
	bool all = f->freed_tables || f->asid_transition;

	return p->switch_mm == SHD_SWITCH_6_13 && f->mm ?
	       shd__policy_should_flush(p, in_mask, lazy, all, loaded,
					f->trim_cpumask) :
	       shd__policy_target(p, in_mask, lazy, all);
}

/* A hook's verdicts are the engine's own outcomes (policy_ops.h). */
_Static_assert((int)SHD_HOOK_SEND == (int)SHD_TARGET_SEND &&
	       (int)SHD_HOOK_SKIP_PRUNED == (int)SHD_TARGET_PRUNED &&
	       (int)SHD_HOOK_SKIP_LAZY == (int)SHD_TARGET_LAZY &&
	       (int)SHD_HOOK_NOTHING == (int)SHD_ACTION_NOTHING &&
	       (int)SHD_HOOK_PARTIAL == (int)SHD_ACTION_PARTIAL &&
	       (int)SHD_HOOK_FULL == (int)SHD_ACTION_FULL &&
	       (int)SHD_HOOK_LOADED_SWITCHING == (int)SHD_LOADED_SWITCHING &&
	       (int)SHD_HOOK_LOADED_THIS == (int)SHD_LOADED_THIS,
	       "hook verdicts map onto the engine's");

/*
 * A policy in C's verdict on candidate C of user flush F (policy_ops.h),
 * V being the base's.  What the scan did not read for the base (is_lazy,
 * loaded_mm) is read here, after the tlb_gen bump as the scan's reads.
 */
static enum shd_target_verdict hook_target(struct shd_cpu *cpu, unsigned c,
					   bool in_mask,
					   const struct shd_flush_info *f,
					   enum shd_target_verdict v)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	struct shd_cpu *t = cpu->m->cpus[c];
	struct shd_hook_ctx x;

	shd__hook_ctx_init(cpu, f->mm, &x);
	x.cpu = c;
	x.initiator = f->initiator;
	x.in_mm_cpumask = in_mask;
	x.is_lazy = in_mask && shd__tso_load(cpu, &t->is_lazy, shd_load_seq);
	if (p->switch_mm == SHD_SWITCH_6_13)
		x.loaded = (enum shd_hook_loaded)loaded_of(cpu, t, f->mm);
	else	/* 5.13: the mask holds the CPUs running the mm, or lazy in it */
		x.loaded = in_mask && !x.is_lazy ? SHD_HOOK_LOADED_THIS :
						   SHD_HOOK_LOADED_OTHER;
	x.freed_tables = f->freed_tables;
	x.trim_cpumask = f->trim_cpumask;
	x.npages = f->end_vpn == SHD_FLUSH_END_ALL ? 0 :
		   f->end_vpn - f->start_vpn;
	x.new_tlb_gen = x.mm_tlb_gen = f->new_tlb_gen;
	x.mask_weight = shd__mask_weight(cpu->m, f->mm->cpumask);
	return (enum shd_target_verdict)shd__hook_should_send(p, &x,
						(enum shd_hook_send)v);
}

/*
 * Whether candidate C (another online CPU) gets flush F whose CPUs are
 * MASK (NULL: every CPU gets it), counting the ones that do not.  Each
 * candidate is a scheduling point: the scan reads another CPU's state.
 * *REMOTE is set when C is in the mask (or the policy has none): Linux
 * would call flush_tlb_multi().
 */
static bool is_target(struct shd_cpu *cpu, unsigned c, const unsigned long *mask,
		      const struct shd_flush_info *f, bool *remote)
{
	struct shd_machine *m = cpu->m;
	const struct shd_policy *p = &m->cfg.policy;
	struct shd_cpu *t = m->cpus[c];
	enum shd_loaded loaded = SHD_LOADED_THIS;
	enum shd_target_verdict v;
	bool in_mask, lazy;

	if (!mask)
		return true;
	shd__sched_point(cpu);
	in_mask = shd__tso_mask_test(cpu, mask, c);
	if (in_mask || !p->prune)
		*remote = true;
	if (p->switch_mm == SHD_SWITCH_6_13 && in_mask && f->mm)
		loaded = loaded_of(cpu, t, f->mm);
	/* Seq-cst loads after our seq-cst tlb_gen bump: Dekker with switch_mm
	 * (mask set, then tlb_gen) and leaving lazy mode (is_lazy, then tlb_gen). */
	lazy = in_mask && p->lazy &&
	       shd__tso_load(cpu, &t->is_lazy, shd_load_seq);
	v = verdict_of(p, in_mask, lazy, f, loaded);
	/* The bug (before fea4e317f9e7): SWITCHING read as another mm.  It
	 * fires only when that changes the verdict. */
	if (loaded == SHD_LOADED_SWITCHING &&
	    shd__fault(m, SHD_FAULT_SKIP_LOADED_MM_SWITCHING)) {
		enum shd_target_verdict bug = verdict_of(p, in_mask, lazy, f,
							 SHD_LOADED_OTHER);

		if (bug != v)
			shd__fault_fired(cpu, SHD_FAULT_SKIP_LOADED_MM_SWITCHING);
		v = bug;
	}
	if (f->mm && shd__has_hook(p, should_send))
		v = hook_target(cpu, c, in_mask, f, v);
	switch (v) {
	case SHD_TARGET_PRUNED:
		cpu->cnt.s.ipis_avoided_pruned++;
		return false;
	case SHD_TARGET_LAZY:
		cpu->cnt.s.ipis_avoided_lazy++;
		return false;
	case SHD_TARGET_SEND:
		break;
	}
	/* Why a CPU not running the mm gets it: attributed, so that a
	 * compare of linux-6.12 and linux says where 6.13's IPIs come from. */
	if (loaded == SHD_LOADED_SWITCHING && !f->freed_tables)
		cpu->cnt.s.ipis_switching++;
	if (f->mm && p->prune && (lazy || loaded == SHD_LOADED_OTHER)) {
		if (f->freed_tables)
			cpu->cnt.s.ipis_freed_tables++;
		else if (f->trim_cpumask && loaded == SHD_LOADED_OTHER)
			cpu->cnt.s.ipis_trim++;
	}
	return true;
}

/*
 * Send cpu->info to the CPUs that need it; their ids go to TARGETS.
 * Returns how many were queued.  A CPU whose previous request is still
 * stuck is skipped and *ERR set to -ETIMEDOUT; the others still get theirs
 * (and must be waited for).
 */
static int send_requests(struct shd_cpu *cpu, unsigned *targets, int *err)
{
	struct shd_machine *m = cpu->m;
	const struct shd_flush_info *f = &cpu->info;
	const unsigned long *mask = f->kind == SHD_FLUSH_USER ? f->mm->cpumask :
				    f->kind == SHD_FLUSH_BATCH ? cpu->batch.cpumask :
				    NULL;
	bool skipped = false, remote = false;
	uint64_t t0 = cpu->tbuf ? shd__machine_now(m) : 0;
	int n = 0, r;

	for (unsigned c = 0; c < m->ncpus; c++) {
		if (c == cpu->id)
			continue;
		cpu->cnt.s.ipi_candidates++;
		if (!is_target(cpu, c, mask, f, &remote))
			continue;
		if (shd__fault(m, SHD_FAULT_SKIP_REMOTE_IPI)) {
			skipped = true;
			continue;
		}
		if ((r = shd__send_csd(cpu, c, &cpu->csd[c], flush_ipi_func,
					 &cpu->info, NULL)) < 0) {
			*err = r;
			continue;
		}
		targets[n++] = c;
	}
	if (remote) {	/* native_flush_tlb_multi() */
		cpu->cnt.s.nr_tlb_remote_flush++;
		if (f->kind == SHD_FLUSH_USER || f->kind == SHD_FLUSH_BATCH)
			shd__trace_tlb_flush_at(cpu, SHD_TLB_REMOTE_SEND_IPI,
						pages_of(f), t0);
	}
	if (skipped)	/* one firing a flush that had remote targets */
		shd__fault_fired(cpu, SHD_FAULT_SKIP_REMOTE_IPI);
	return n;
}

/* The core of every flush interface: send, flush locally, wait. */
static int do_flush(struct shd_cpu *cpu, enum shd_iface iface)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	unsigned *targets = cpu->targets;
	bool local, concurrent = m->cfg.policy.concurrent;
	uint64_t t0 = shd__machine_now(m);
	int n = 0, err = 0, werr;

	/* flush_tlb_func() itself decides what a CPU not running the mm
	 * must do (nothing if switch-in will catch up, else its slot). */
	local = !shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH);
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, f);
	cpu->in_flush = true;
	if (concurrent)
		n = send_requests(cpu, targets, &err);
	if (local)
		shd__flush_tlb_func(cpu, f);
	if (!concurrent)
		n = send_requests(cpu, targets, &err);
	/* Wait for every queued request even after a failure: once we return,
	 * none of them may still read cpu->info (each is done or abandoned). */
	werr = shd__wait_targets(cpu, targets, n, shd__iface_names[iface]);
	if (!err)
		err = werr;
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, n);
	return err;
}

/*
 * switch=6.13 should_trim_cpumask() (6db2526c1d69): the first flush of
 * MM needing remote CPUs once jiffies has passed next_trim_cpumask also
 * goes to the CPUs of the lazy mask running another mm, which clear their
 * bits; the next trim is HZ jiffies later.  A deadline checked at flush
 * time, not a timer: no flush, no trim.
 */
static bool other_cpu_in_mask(struct shd_cpu *cpu, const unsigned long *mask);

static bool should_trim_cpumask(struct shd_cpu *cpu, struct shd_mm *mm)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	uint64_t now = shd__jiffies(cpu->m);

	/* Relaxed: READ_ONCE/WRITE_ONCE in Linux; two flushers may both
	 * trim, which costs IPIs, not correctness.  time_after(): strictly.
	 * trim_ms=0 is 209954cbc7d0 alone: every flush. */
	if (p->trim_ms && now <= shd_load_relaxed(&mm->next_trim_cpumask))
		return false;
	/* flush_tlb_mm_range() consults the deadline only when another CPU
	 * is in the mask (cpumask_any_but()); the scan comes after the
	 * cheap test above, with the same outcome. */
	if (!other_cpu_in_mask(cpu, mm->cpumask))
		return false;
	if (p->trim_ms)
		shd_store_relaxed(&mm->next_trim_cpumask,
				  now + shd__trim_jiffies(p));
	return true;
}

/* cpumask_any_but(MASK, this CPU) < nr_cpu_ids */
static bool other_cpu_in_mask(struct shd_cpu *cpu, const unsigned long *mask)
{
	struct shd_machine *m = cpu->m;

	for (size_t w = 0; w < m->mask_words; w++) {
		unsigned long bits = shd__tso_load(cpu, &mask[w], shd_load_seq);

		if (w == cpu->id / 64)
			bits &= ~(1ul << (cpu->id % 64));
		if (bits)
			return true;
	}
	return false;
}

void shd__flush_info_init(struct shd_cpu *cpu, struct shd_flush_info *f,
			  struct shd_mm *mm, uint64_t s_vpn, uint64_t e_vpn,
			  bool freed_tables)
{
	memset(f, 0, sizeof(*f));
	f->mm = mm;
	f->kind = SHD_FLUSH_USER;
	f->initiator = cpu->id;
	f->freed_tables = freed_tables;
	f->start_vpn = s_vpn;
	f->end_vpn = e_vpn;
	/* Linux init_flush_tlb_info(): over the ceiling, flush everything. */
	if (e_vpn != SHD_FLUSH_END_ALL && e_vpn - s_vpn > cpu->m->cfg.policy.ceiling) {
		f->start_vpn = 0;
		f->end_vpn = SHD_FLUSH_END_ALL;
	}
	/* Seq-cst RMW (LOCK XADD): the generation bump is ordered before we
	 * read mm_cpumask, is_lazy and loaded_mm (pairs with switch_mm / lazy
	 * exit).  Then a scheduling point: the window before the scan. */
	f->new_tlb_gen = shd__tso_gen_bump(cpu, &mm->tlb_gen);
	/* INVLPGB's broadcast path never trims (a global-ASID mm sends no
	 * IPIs); RAR's trims stay IPIs. */
	f->trim_cpumask = cpu->m->cfg.policy.switch_mm == SHD_SWITCH_6_13 &&
			  !(cpu->m->cfg.policy.bcast == SHD_BCAST_INVLPGB &&
			    shd__mm_global_asid(mm)) &&
			  should_trim_cpumask(cpu, mm);
	shd__sched_point(cpu);
}

unsigned shd__queue_requests(struct shd_cpu *cpu, struct shd_flush_info *f,
			     struct shd_tlbbatch_req *req, bool quiet, int *err)
{
	struct shd_machine *m = cpu->m;
	unsigned n = 0;
	bool skipped = false, remote = false;
	uint64_t t0 = cpu->tbuf ? shd__machine_now(m) : 0;
	int r;

	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_tlbbatch_req *q = &req[n];

		if (c == cpu->id)
			continue;
		cpu->cnt.s.ipi_candidates++;
		if (!is_target(cpu, c, f->mm->cpumask, f, &remote))
			continue;
		if (shd__fault(m, SHD_FAULT_SKIP_REMOTE_IPI)) {
			skipped = true;
			continue;
		}
		shd__csd_init(&q->csd, cpu->id, &cpu->ipi);
		q->kicked = 0;
		if (quiet) {
			/* No doorbell: swept at the target's next tick. */
			while (!shd__csd_trylock(&q->csd))
				;	/* fresh: free at once */
			q->csd.charged = SHD_CHARGED_DEFERRED;
			cpu->cnt.s.ipis_deferred++;
			(void)shd__ipi_enqueue(&m->cpus[c]->latr_q, &q->csd,
					       flush_sweep_func, f, NULL);
		} else if ((r = shd__send_csd(cpu, c, &q->csd, flush_ipi_func,
					      f, NULL)) < 0) {
			*err = r;
			continue;
		}
		q->target = c;
		n++;
	}
	if (remote) {	/* native_flush_tlb_multi(), or LATR's post */
		cpu->cnt.s.nr_tlb_remote_flush++;
		if (!quiet)
			shd__trace_tlb_flush_at(cpu, SHD_TLB_REMOTE_SEND_IPI,
						pages_of(f), t0);
	}
	if (skipped)	/* one firing a flush that had remote targets */
		shd__fault_fired(cpu, SHD_FAULT_SKIP_REMOTE_IPI);
	return n;
}

/* ---- hardware broadcast (bcast.c holds the hardware) ---- */

/* INVLPGBs for vpns [S, E): one a invlpgb_count_max pages (ceil), one
 * for everything (broadcast_tlb_flush(), invlpgb_kernel_range_flush()). */
static uint64_t invlpgb_count(const struct shd_machine *m, uint64_t s,
			      uint64_t e)
{
	uint64_t max = m->cfg.policy.invlpgb_count_max;

	if (e == SHD_FLUSH_END_ALL || e <= s)
		return 1;
	return (e - s + max - 1) / max;
}

/*
 * finish_asid_transition(): while a CPU of the mask runs the mm on a
 * dynamic ASID (or is mid-switch, where Linux spins: we count it a
 * straggler), send the flush as IPIs to the whole mask, which moves the
 * running ones to the global ASID; once none is left, the mm leaves its
 * transition and its flushes send no IPIs.  *N gets the requests sent.
 */
static int finish_asid_transition(struct shd_cpu *cpu, int *n)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	struct shd_mm *mm = f->mm;
	unsigned g = shd__mm_global_asid(mm);
	bool straggler = false;
	int err = 0, werr;

	*n = 0;
	if (!shd_load_seq(&mm->asid_transition))
		return 0;
	for (unsigned c = 0; c < m->ncpus && !straggler; c++) {
		struct shd_cpu *t = m->cpus[c];
		uint64_t id;

		if (!shd__mask_test(mm->cpumask, c))
			continue;
		/* Seq-cst: loaded_mm is published after loaded_mm_asid. */
		id = shd_load_seq(&t->loaded_mm_id);
		straggler = id == SHD_LOADED_MM_SWITCHING ||
			    (id == mm->id && shd_load_seq(&t->loaded_asid_pub) != g);
	}
	if (!straggler) {
		shd_store_seq(&mm->asid_transition, 0);
		return 0;
	}
	cpu->cnt.s.asid_transition_rounds++;
	f->asid_transition = true;
	*n = send_requests(cpu, cpu->targets, &err);
	if (shd__mask_test(mm->cpumask, cpu->id))
		shd__flush_tlb_func(cpu, f);
	werr = shd__wait_targets(cpu, cpu->targets, *n, "finish_asid_transition");
	f->asid_transition = false;
	return err ? err : werr;
}

/*
 * broadcast_tlb_flush(): the flush of an mm holding global ASID G.
 * INVLPGB: ceil(pages / invlpgb_count_max) INVLPGBs (one for the whole
 * ASID), the transition's IPIs, then TLBSYNC; no IPI otherwise.  RAR:
 * the initiator flushes G itself, a request goes to every other CPU of
 * mm_cpumask, then the transition.
 */
static int broadcast_tlb_flush(struct shd_cpu *cpu, enum shd_iface iface,
			       unsigned g)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	uint64_t t0 = shd__machine_now(m);
	int n = 0, nt, err;

	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, f);
	cpu->in_flush = true;
	f->hw_covered = true;	/* the transition's IPIs find it done */
	if (m->cfg.policy.bcast == SHD_BCAST_INVLPGB) {
		shd__invlpgb(cpu, SHD_HW_ASID, g, f->start_vpn, f->end_vpn,
			     invlpgb_count(m, f->start_vpn, f->end_vpn));
		err = finish_asid_transition(cpu, &nt);
		if (!(m->ncpus > 1 &&
		      shd__fault_fires(cpu, SHD_FAULT_INVLPGB_NO_TLBSYNC)))
			shd__tlbsync(cpu);
		n = (int)m->ncpus - 1 + nt;
	} else {
		if (!shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH)) {
			if (f->end_vpn == SHD_FLUSH_END_ALL)
				flush_full(cpu, g);
			else
				shd__local_flush_pages(cpu, f->start_vpn,
						       f->end_vpn, g);
		}
		n = (int)shd__rar_send(cpu, f->mm->cpumask, SHD_HW_ASID, g,
				       f->start_vpn, f->end_vpn);
		err = finish_asid_transition(cpu, &nt);
		n += nt;
	}
	f->hw_covered = false;
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, n);
	return err;
}

/*
 * A kernel, flush-all or reclaim flush by hardware: INVLPGB (KIND on
 * every CPU, NINSTR instructions, then TLBSYNC; 82378c6c2f43, and
 * 72a920eacd8a for reclaim) or RAR to MASK (NULL: every CPU), the
 * initiator flushing itself.  No IPI either way.
 */
static void bcast_flush_other(struct shd_cpu *cpu, enum shd_iface iface,
			      const unsigned long *mask, enum shd_hw_kind kind,
			      uint64_t s, uint64_t e, uint64_t ninstr)
{
	struct shd_machine *m = cpu->m;
	uint64_t t0 = shd__machine_now(m);
	struct shd_hw_payload self = { .start_vpn = s, .end_vpn = e,
				       .kind = kind };
	int n;

	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, &cpu->info);
	cpu->in_flush = true;
	if (m->cfg.policy.bcast == SHD_BCAST_INVLPGB) {
		shd__invlpgb_sync(cpu, kind, s, e, ninstr);
		n = (int)m->ncpus - 1;
	} else {
		/* The RFC flushes the initiator with INVPCID/INVLPG. */
		if (kind == SHD_HW_KERNEL && e != SHD_FLUSH_END_ALL) {
			shd__local_flush_pages(cpu, s, e, SHD_ASID_GLOBAL);
		} else {
			shd__tso_drain(cpu);
			shd__hw_invalidate(cpu, &self);
			cpu->cnt.s.flushes_full++;
		}
		n = (int)shd__rar_send(cpu, mask, kind, 0, s, e);
	}
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, n);
}

/* ---- arm64's engine (tlbi.c): TLBIs and a DSB, no IPI ---- */

/* One flush call of arm64's: MM (NULL: kernel) over vpns [S, E).  0 or
 * an error of sme_erratum's IPIs. */
static int arm64_flush(struct shd_cpu *cpu, enum shd_iface iface,
		       struct shd_mm *mm, uint64_t s, uint64_t e)
{
	int err = 0;

	struct shd_flush_info *f = &cpu->info;
	uint64_t t0 = shd__machine_now(cpu->m);

	memset(f, 0, sizeof(*f));
	f->kind = mm ? SHD_FLUSH_USER : e == SHD_FLUSH_END_ALL &&
		  iface == SHD_IF_ALL ? SHD_FLUSH_ALL : SHD_FLUSH_KERNEL;
	f->mm = mm;
	f->initiator = cpu->id;
	f->start_vpn = s;
	f->end_vpn = e;
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, f);
	cpu->in_flush = true;
	if (mm)
		err = shd__tlbi_flush_user(cpu, mm->cpumask,
					   shd__mm_asid_tag(mm), s, e);
	else
		shd__tlbi_flush_kernel(cpu, s, e);
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, (int)cpu->m->ncpus - 1);
	return err;
}

/* ---- riscv's engine (rfence.c): sfence.vma by IPI or SBI ---- */

/* One flush call of riscv's: ASID (SHD_ASID_NONE: FLUSH_TLB_NO_ASID) over
 * vpns [S, E) on the CPUs of MASK (NULL: online); MM NULL for kernel,
 * flush_tlb_all and batch flushes.  0 or a request's error. */
static int riscv_flush(struct shd_cpu *cpu, enum shd_iface iface,
		       struct shd_mm *mm, const unsigned long *mask,
		       unsigned asid, uint64_t s, uint64_t e)
{
	struct shd_flush_info *f = &cpu->info;
	uint64_t t0 = shd__machine_now(cpu->m);
	int n;

	memset(f, 0, sizeof(*f));
	f->kind = mm ? SHD_FLUSH_USER : iface == SHD_IF_BATCH ? SHD_FLUSH_BATCH :
		  iface == SHD_IF_ALL ? SHD_FLUSH_ALL : SHD_FLUSH_KERNEL;
	f->mm = mm;
	f->initiator = cpu->id;
	f->start_vpn = s;
	f->end_vpn = e;
	f->asid = asid;
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, iface, f);
	cpu->in_flush = true;
	n = shd__rfence(cpu, mask, shd__iface_names[iface]);
	cpu->in_flush = false;
	shd__flush_end(cpu, iface, t0, n > 0 ? n : 0);
	return n < 0 ? n : 0;
}

/*
 * consider_global_asid() after F, an IPI flush of MM (bcast.c): Linux's
 * sampled choice, or a policy in C's flush_route (policy_ops.h), asked at
 * every such flush of an mm that could take a global ASID.  Its builtin
 * is Linux's answer: sampled, and broadcast_min_cpus CPUs run the mm.
 */
static void consider_global_asid(struct shd_cpu *cpu, struct shd_mm *mm,
				 const struct shd_flush_info *f)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	enum shd_hook_route builtin;
	struct shd_hook_ctx x;

	if (!shd__has_hook(p, flush_route)) {
		shd__consider_global_asid(cpu, mm);
		return;
	}
	if (!shd__global_asid_possible(cpu, mm))
		return;
	shd__hook_ctx_init(cpu, mm, &x);
	x.in_mm_cpumask = shd__mask_test(mm->cpumask, cpu->id);
	x.is_lazy = shd_load_relaxed(&cpu->is_lazy);
	x.loaded = cpu->loaded_mm == mm ? SHD_HOOK_LOADED_THIS :
					   SHD_HOOK_LOADED_OTHER;
	x.freed_tables = f->freed_tables;
	x.trim_cpumask = f->trim_cpumask;
	x.npages = f->end_vpn == SHD_FLUSH_END_ALL ? 0 :
		   f->end_vpn - f->start_vpn;
	x.new_tlb_gen = f->new_tlb_gen;
	x.mm_tlb_gen = shd_load_acquire(&mm->tlb_gen);
	x.mask_weight = shd__mask_weight(cpu->m, mm->cpumask);
	x.active_cpus = shd__mm_active_cpus(cpu, mm);
	builtin = shd__global_asid_sampled(cpu) &&
		  x.active_cpus >= p->broadcast_min_cpus ?
		  SHD_HOOK_ROUTE_BROADCAST : SHD_HOOK_ROUTE_IPI;
	if (shd__hook_flush_route(p, &x, builtin) == SHD_HOOK_ROUTE_BROADCAST)
		shd__use_global_asid(cpu, mm);
}

int shd__flush_tlb_mm_range(struct shd_cpu *cpu, struct shd_mm *mm,
			    uint64_t start, uint64_t end, bool freed_tables,
			    enum shd_iface iface, uint64_t *t_out)
{
	struct shd_machine *m = cpu->m;
	struct shd_flush_info *f = &cpu->info;
	uint64_t t = shd__oracle_begin(mm);
	uint64_t s_vpn, e_vpn;
	unsigned g;
	int err;

	s_vpn = start >> m->page_shift;
	e_vpn = end == SHD_FLUSH_END_ALL ? SHD_FLUSH_END_ALL : end >> m->page_shift;
	if (m->cfg.arch.tlb == SHD_TLB_ARM64) {
		err = arm64_flush(cpu, iface, mm, s_vpn, e_vpn);
		goto credit;
	}
	if (m->cfg.arch.tlb == SHD_TLB_RISCV) {
		err = riscv_flush(cpu, iface, mm, mm->cpumask,
				  shd__mm_asid_tag(mm), s_vpn, e_vpn);
		goto credit;
	}
	if (m->cfg.arch.tlb == SHD_TLB_HYPERSPARC) {
		err = shd__srmmu_flush(cpu, iface, mm, s_vpn, e_vpn);
		goto credit;
	}
	if (m->cfg.arch.tlb == SHD_TLB_SPARC64) {
		/* No flush_tlb_range(): what set_pte_at() would have done. */
		if (e_vpn == SHD_FLUSH_END_ALL)
			err = shd__tlb_flush_mm_xcall(cpu, mm, iface);
		else if (iface == SHD_IF_PAGE)	/* outside lazy MMU mode */
			err = shd__tlb_flush_now(cpu, mm, iface, s_vpn);
		else
			err = shd__tlb_batch_flush(cpu, mm, iface, NULL, 0,
						   s_vpn, e_vpn);
		goto credit;
	}
	shd__flush_info_init(cpu, f, mm, s_vpn, e_vpn, freed_tables);
	if ((g = shd__mm_global_asid(mm)) && !f->trim_cpumask) {
		err = broadcast_tlb_flush(cpu, iface, g);
	} else {
		/* RAR's trim of a global-ASID mm: IPIs to the whole mask
		 * (the RFC's v3), since its requests skip no lazy CPU. */
		f->asid_transition = g != 0;
		err = do_flush(cpu, iface);
		f->asid_transition = false;
		if (!err && m->bcast && other_cpu_in_mask(cpu, mm->cpumask))
			consider_global_asid(cpu, mm, f);
	}
credit:
	if (err)
		return err;
	if (t_out)
		*t_out = t;
	if (e_vpn == SHD_FLUSH_END_ALL)
		shd__oracle_credit_mm(mm, t, iface);
	else
		shd__oracle_credit_range(mm, s_vpn, e_vpn, t, iface);
	return 0;
}

int shd__flush_tlb_vpns(struct shd_cpu *cpu, struct shd_mm *mm,
			const uint64_t *vpns, size_t n, uint64_t *t_out)
{
	uint64_t t = shd__oracle_begin(mm);
	int err = shd__tlb_batch_flush(cpu, mm, SHD_IF_RANGE, vpns, n, 0, 0);

	if (err)
		return err;
	if (t_out)
		*t_out = t;
	for (size_t i = 0; i < n; i++)
		shd__oracle_credit_range(mm, vpns[i], vpns[i] + 1, t,
					 SHD_IF_RANGE);
	return 0;
}

int shd_flush_tlb_mm(struct shd_cpu *cpu, struct shd_mm *mm)
{
	int err = shd__check_user_mm(cpu, mm, "flush_tlb_mm");

	if (err)
		return err;
	shd__cpu_take_ipis(cpu);
	return shd__flush_tlb_mm_range(cpu, mm, 0, SHD_FLUSH_END_ALL, true,
				       SHD_IF_MM, NULL);
}

int shd_flush_tlb_range(struct shd_cpu *cpu, struct shd_mm *mm,
			uint64_t start, uint64_t end)
{
	int err = shd__check_user_mm(cpu, mm, "flush_tlb_range");
	uint64_t mask;

	if (err)
		return err;
	mask = cpu->m->page_size - 1;
	if (start > end)
		return shd__fail(-EINVAL, "flush_tlb_range: start 0x%" PRIx64
				 " > end 0x%" PRIx64, start, end);
	if ((start | end) & mask)
		return shd__fail(-EINVAL, "flush_tlb_range: [0x%" PRIx64 ", 0x%"
				 PRIx64 ") is not page aligned", start, end);
	if (end > SHD_USER_TOP)
		return shd__fail(-EINVAL, "flush_tlb_range: end 0x%" PRIx64
				 " is beyond user space", end);
	if (start == end)
		return 0;
	shd__cpu_take_ipis(cpu);
	return shd__flush_tlb_mm_range(cpu, mm, start, end, true, SHD_IF_RANGE, NULL);
}

int shd_flush_tlb_page(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr)
{
	int err = shd__check_user_mm(cpu, mm, "flush_tlb_page");

	if (err)
		return err;
	if (addr & (cpu->m->page_size - 1) || addr >= SHD_USER_TOP)
		return shd__fail(-EINVAL, "flush_tlb_page: 0x%" PRIx64 " is not "
				 "a page-aligned user address", addr);
	shd__cpu_take_ipis(cpu);
	return shd__flush_tlb_mm_range(cpu, mm, addr, addr + cpu->m->page_size,
				       false, SHD_IF_PAGE, NULL);
}

int shd_flush_tlb_kernel_range(struct shd_cpu *cpu, uint64_t start,
			       uint64_t end)
{
	struct shd_machine *m;
	struct shd_flush_info *f;
	uint64_t t, s_vpn, e_vpn;
	int err = shd__check_cpu(cpu, "flush_tlb_kernel_range");

	if (err)
		return err;
	m = cpu->m;
	if (start > end)
		return shd__fail(-EINVAL, "flush_tlb_kernel_range: start 0x%"
				 PRIx64 " > end 0x%" PRIx64, start, end);
	if ((start | end) & (m->page_size - 1))
		return shd__fail(-EINVAL, "flush_tlb_kernel_range: [0x%" PRIx64
				 ", 0x%" PRIx64 ") is not page aligned", start, end);
	if (start < SHD_KERNEL_BASE || end > SHD_KERNEL_TOP)
		return shd__fail(-EINVAL, "flush_tlb_kernel_range: [0x%" PRIx64
				 ", 0x%" PRIx64 ") is outside the vmap area",
				 start, end);
	if (start == end)
		return 0;
	shd__cpu_take_ipis(cpu);
	t = shd__oracle_begin(m->kernel_mm);
	s_vpn = (start & ((1ull << SHD_VA_BITS) - 1)) >> m->page_shift;
	e_vpn = s_vpn + ((end - start) >> m->page_shift);
	f = &cpu->info;
	memset(f, 0, sizeof(*f));
	f->kind = SHD_FLUSH_KERNEL;
	f->initiator = cpu->id;
	f->start_vpn = s_vpn;
	f->end_vpn = e_vpn;
	if (e_vpn - s_vpn > m->cfg.policy.ceiling) {
		f->start_vpn = 0;
		f->end_vpn = SHD_FLUSH_END_ALL;
	}
	if (m->cfg.arch.tlb == SHD_TLB_ARM64) {
		err = arm64_flush(cpu, SHD_IF_KERNEL_RANGE, NULL, s_vpn, e_vpn);
	} else if (m->cfg.arch.tlb == SHD_TLB_RISCV) {
		/* cpu_online_mask, FLUSH_TLB_NO_ASID; no ceiling: the
		 * threshold decides on each CPU. */
		err = riscv_flush(cpu, SHD_IF_KERNEL_RANGE, NULL, NULL,
				  SHD_ASID_NONE, s_vpn, e_vpn);
	} else if (m->cfg.arch.tlb == SHD_TLB_HYPERSPARC) {
		/* sparc32's flush_tlb_kernel_range() is flush_tlb_all() */
		err = shd__srmmu_flush(cpu, SHD_IF_KERNEL_RANGE, NULL, 0,
				       SHD_FLUSH_END_ALL);
	} else if (m->cfg.arch.tlb == SHD_TLB_SPARC64) {
		/* smp_flush_tlb_kernel_range(): every other CPU, and
		 * __flush_tlb_kernel_range() a page at a time, no ceiling. */
		err = shd__tlb_flush_kernel_xcall(cpu, SHD_IF_KERNEL_RANGE,
						  s_vpn, e_vpn);
	} else if (m->bcast) {
		/* invlpgb_flush_all() above the ceiling, else
		 * invlpgb_kernel_range_flush() (include globals). */
		bool all = f->end_vpn == SHD_FLUSH_END_ALL;

		bcast_flush_other(cpu, SHD_IF_KERNEL_RANGE, NULL,
				  all ? SHD_HW_EVERYTHING : SHD_HW_KERNEL,
				  f->start_vpn, f->end_vpn,
				  invlpgb_count(m, f->start_vpn, f->end_vpn));
		err = 0;
	} else {
		err = do_flush(cpu, SHD_IF_KERNEL_RANGE);
	}
	if (!err)
		shd__oracle_credit_range(m->kernel_mm, s_vpn, e_vpn, t,
					 SHD_IF_KERNEL_RANGE);
	return err;
}

int shd_flush_tlb_all(struct shd_cpu *cpu)
{
	struct shd_machine *m;
	struct shd_mm *mm;
	struct { struct shd_mm *mm; uint64_t t; } *snap = NULL;
	size_t n = 0, cap = 0;
	uint64_t kt;
	int err = shd__check_cpu(cpu, "flush_tlb_all");

	if (err)
		return err;
	m = cpu->m;
	shd__cpu_take_ipis(cpu);
	/* Snapshot every mm's stable clock before the flush (oracle). */
	rcu_read_lock();
	cds_list_for_each_entry_rcu(mm, &m->mms, node) {
		if (!urcu_ref_get_unless_zero(&mm->ref))
			continue;
		if (n == cap) {
			void *p = realloc(snap, (cap = cap ? cap * 2 : 16) * sizeof(*snap));

			if (!p) {
				shd__mm_put(mm);
				break;
			}
			snap = p;
		}
		snap[n].mm = mm;
		snap[n++].t = shd__oracle_begin(mm);
	}
	rcu_read_unlock();
	kt = shd__oracle_begin(m->kernel_mm);
	memset(&cpu->info, 0, sizeof(cpu->info));
	cpu->info.kind = SHD_FLUSH_ALL;
	cpu->info.initiator = cpu->id;
	cpu->info.end_vpn = SHD_FLUSH_END_ALL;
	if (m->cfg.arch.tlb == SHD_TLB_X86)	/* flush_tlb_all(), always */
		cpu->cnt.s.nr_tlb_remote_flush++;
	if (m->cfg.arch.tlb == SHD_TLB_ARM64) {
		err = arm64_flush(cpu, SHD_IF_ALL, NULL, 0, SHD_FLUSH_END_ALL);
	} else if (m->cfg.arch.tlb == SHD_TLB_RISCV) {
		err = riscv_flush(cpu, SHD_IF_ALL, NULL, NULL, SHD_ASID_NONE, 0,
				  SHD_FLUSH_END_ALL);
	} else if (m->cfg.arch.tlb == SHD_TLB_SPARC64) {
		err = shd__tlb_flush_kernel_xcall(cpu, SHD_IF_ALL, 0,
						  SHD_FLUSH_END_ALL);
	} else if (m->cfg.arch.tlb == SHD_TLB_HYPERSPARC) {
		err = shd__srmmu_flush(cpu, SHD_IF_ALL, NULL, 0,
				       SHD_FLUSH_END_ALL);
	} else if (m->bcast) {	/* flush_tlb_all(): invlpgb_flush_all() */
		bcast_flush_other(cpu, SHD_IF_ALL, NULL, SHD_HW_EVERYTHING, 0,
				  SHD_FLUSH_END_ALL, 1);
		err = 0;
	} else {
		err = do_flush(cpu, SHD_IF_ALL);
	}
	for (size_t i = 0; i < n; i++) {
		if (!err)
			shd__oracle_credit_mm(snap[i].mm, snap[i].t, SHD_IF_ALL);
		shd__mm_put(snap[i].mm);
	}
	if (!err)
		shd__oracle_credit_mm(m->kernel_mm, kt, SHD_IF_ALL);
	free(snap);
	return err;
}

int shd_update_mmu_cache(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t addr)
{
	int err = shd__check_cpu(cpu, "update_mmu_cache");

	if (err)
		return err;
	if (!mm || mm->m != cpu->m)
		return shd__fail(-EINVAL, "update_mmu_cache: not an mm of this "
				 "machine");
	if (!(addr < SHD_USER_TOP || (addr >= SHD_KERNEL_BASE && addr < SHD_KERNEL_TOP)))
		return shd__fail(-EINVAL, "update_mmu_cache: 0x%" PRIx64 " is not "
				 "a user or vmap address", addr);
	/* x86: the hardware walker loads the TLB; nothing to do.  sparc64:
	 * a deferred flush_dcache_page() is done now, on its CPU. */
	if (cpu->m->cache && cpu->m->cfg.arch.deferred_dcache &&
	    addr < SHD_USER_TOP) {
		struct shd_pte *p;
		uint64_t val = 0, ver;

		rcu_read_lock();
		p = shd__pte_lookup(mm, addr >> cpu->m->page_shift);
		if (p)
			val = shd__pte_read(p, &ver);
		rcu_read_unlock();
		if (val & SHD_PTE_FRAME)
			return shd__dcache_update_mmu(cpu, val >> SHD_PTE_PFN_SHIFT);
	}
	return 0;
}

int shd__arch_tlbbatch_flush(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	struct shd_tlbbatch *b = &cpu->batch;
	struct shd_flush_info *f = &cpu->info;
	uint64_t t0 = shd__machine_now(m);
	int n, err = 0, werr;

	if (m->cfg.arch.tlb == SHD_TLB_RISCV) {
		/* riscv (54d7431af73e): everything, NO_ASID, on the union. */
		err = riscv_flush(cpu, SHD_IF_BATCH, NULL, b->cpumask,
				  SHD_ASID_NONE, 0, SHD_FLUSH_END_ALL);
		memset(b->cpumask, 0, m->mask_words * sizeof(unsigned long));
		return err;
	}
	memset(f, 0, sizeof(*f));
	f->kind = SHD_FLUSH_BATCH;
	f->initiator = cpu->id;
	f->end_vpn = SHD_FLUSH_END_ALL;
	if (m->bcast) {
		/* INVLPGB: invlpgb_flush_all_nonglobals(), every user entry
		 * of every ASID everywhere.  RAR: a full flush to the batch's
		 * mask, the initiator's own all-non-global. */
		bcast_flush_other(cpu, SHD_IF_BATCH, b->cpumask,
				  SHD_HW_NONGLOBAL, 0, SHD_FLUSH_END_ALL, 1);
		memset(b->cpumask, 0, m->mask_words * sizeof(unsigned long));
		return 0;
	}
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, SHD_IF_BATCH, f);
	cpu->in_flush = true;
	n = send_requests(cpu, cpu->targets, &err);
	if (shd__mask_test(b->cpumask, cpu->id) &&
	    !shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH))
		shd__flush_tlb_func(cpu, f);
	werr = shd__wait_targets(cpu, cpu->targets, n, "arch_tlbbatch_flush");
	if (!err)
		err = werr;
	cpu->in_flush = false;
	memset(b->cpumask, 0, m->mask_words * sizeof(unsigned long));
	shd__flush_end(cpu, SHD_IF_BATCH, t0, n);
	return err;
}

/*
 * switch=6.13: leave_mm() is switch_mm_irqs_off(NULL, &init_mm): publish
 * LOADED_MM_SWITCHING, smp_mb() (no bit to set for init_mm), write CR3
 * (serializing), publish init_mm.  The old mm keeps our bit (the lazy
 * mask); its flushes find us running another mm and skip or trim us.
 */
static void leave_mm_613(struct shd_cpu *cpu)
{
	struct shd_mm *prev = cpu->loaded_mm;

	/* Seq-cst on the host: pairs with the flushers' is_lazy and
	 * loaded_mm reads (is_target()), as in switch_mm. */
	if (shd__tso_load(cpu, &cpu->is_lazy, shd_load_relaxed))
		shd__tso_store(cpu, &cpu->is_lazy, 0, shd_store_seq);
	if (!prev)
		return;
	shd__tso_store(cpu, &cpu->loaded_mm_id, SHD_LOADED_MM_SWITCHING,
		       shd_store_seq);
	shd__sched_point(cpu);
	shd__tso_mb(cpu);	/* and the CR3 write, serializing */
	shd__tso_store(cpu, &cpu->loaded_mm_id, 0, shd_store_seq);
	cpu->loaded_mm = NULL;
	cpu->loaded_asid = SHD_ASID_NONE;
	shd__publish_asid(cpu, SHD_ASID_NONE);
	shd__mm_put(prev);
	/* switch_mm_irqs_off(NULL, &init_mm): init_mm's context is never
	 * behind (its tlb_gen is not bumped), so no flush. */
	shd__trace_tlb_flush(cpu, SHD_TLB_FLUSH_ON_TASK_SWITCH, 0);
}

void shd__leave_mm(struct shd_cpu *cpu)
{
	struct shd_mm *prev = cpu->loaded_mm;

	if (cpu->m->cfg.policy.switch_mm == SHD_SWITCH_6_13) {
		leave_mm_613(cpu);
		return;
	}
	/* Relaxed: ordered before the mask clear below (a seq-cst RMW) for a
	 * flusher, which reads the mask first.  One that still sees us lazy
	 * sends nothing; one that sees us not lazy finds us out of the mask
	 * or gets a request for an mm we no longer run: a no-op. */
	shd__tso_store(cpu, &cpu->is_lazy, 0, shd_store_relaxed);
	if (!prev)
		return;
	shd__tso_mask_clear(cpu, prev->cpumask, cpu->id);
	cpu->loaded_mm = NULL;
	cpu->loaded_asid = SHD_ASID_NONE;
	shd__mm_put(prev);
	shd__trace_tlb_flush(cpu, SHD_TLB_FLUSH_ON_TASK_SWITCH, 0);	/* as below */
}
