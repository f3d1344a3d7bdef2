/* SPDX-License-Identifier: MIT */
/* Reclaim: try_to_unmap, with the flush batched per CPU (mm/rmap.c). */

/*
 * Theory (after mm/rmap.c and x86/arm64 arch_tlbbatch_*).
 *
 * Reclaim clears one PTE at a time and would pay a shootdown per page.
 * With policy batch=x86 the flush is deferred when other CPUs may cache the
 * translation: add_pending bumps the mm's tlb_gen and ORs its mm_cpumask
 * into the CPU's batch, and the flush is one full flush on every CPU of the
 * union (their catch-up covers every mm of the batch).  With batch=arm64
 * each page is invalidated at once (requests queued, not waited for: one
 * doorbell for a burst) and the flush is one wait for all of them.  Frames
 * are released only when the batch's flush has completed.  Either way
 * mm->batched_pending counts the batches that touched the mm, so that a
 * later munmap/mprotect/madvise that finds the PTE already clear still
 * waits for the flush (flush_tlb_batched_pending()).  On arm64's TLB
 * engine (43b3dfdd0455) batching is arm64's whatever batch names (unless
 * off): each page a TLBI VALE1IS with no DSB, the flush one DSB ISH.
 * Whether a page is batched at all is should_defer_flush()'s choice
 * (arch_tlbbatch_should_defer(), 65c8d30e679b): a policy in C's
 * defer_flush may overrule it, safely either way.
 */
#include <errno.h>
#include <string.h>
#include <inttypes.h>

#include <shootdown/rmap.h>
#include "../policy/policy_ops.h"
#include "cacheflush.h"
#include "context.h"
#include "mm.h"
#include "oracle.h"
#include "page_alloc.h"
#include "pgtable.h"
#include "rmap.h"
#include "seeded.h"
#include "smp.h"
#include "tlbflush.h"
#include "tlbi.h"
#include "tso.h"

int shd__tlbbatch_init(struct shd_cpu *cpu)
{
	struct shd_tlbbatch *b = &cpu->batch;

	b->cpumask = calloc(cpu->m->mask_words, sizeof(unsigned long));
	b->e = calloc(SHD_TLBBATCH_MAX, sizeof(*b->e));
	return b->cpumask && b->e ? 0 : -ENOMEM;
}

void shd__tlbbatch_free(struct shd_cpu *cpu)
{
	free(cpu->batch.cpumask);
	free(cpu->batch.e);
	free(cpu->batch.info);
	free(cpu->batch.req);
}

/* The arm64 and riscv engines batch as their Linux does, whichever mode
 * is named. */
static bool arm64_engine(const struct shd_cpu *cpu)
{
	return cpu->m->cfg.arch.tlb == SHD_TLB_ARM64;
}

static bool riscv_engine(const struct shd_cpu *cpu)
{
	return cpu->m->cfg.arch.tlb == SHD_TLB_RISCV;
}

static bool base_should_defer(struct shd_cpu *cpu, struct shd_mm *mm)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;

	/* sparc64 and sparc32 have no ARCH_WANT_BATCHED_UNMAP_TLB_FLUSH:
	 * each page's ptep_clear_flush() is flushed at once. */
	if (cpu->m->cfg.arch.tlb == SHD_TLB_SPARC64 ||
	    cpu->m->cfg.arch.tlb == SHD_TLB_HYPERSPARC)
		return false;
	/* arm64 arch_tlbbatch_should_defer(): always (no repeat-TLBI
	 * erratum here). */
	if (p->batch == SHD_BATCH_ARM64 ||
	    (p->batch != SHD_BATCH_OFF && arm64_engine(cpu)))
		return true;
	/* riscv's (54d7431af73e): always too. */
	if (p->batch != SHD_BATCH_OFF && riscv_engine(cpu))
		return true;
	if (p->batch != SHD_BATCH_X86)
		return false;
	/* x86 arch_tlbbatch_should_defer(): only if another CPU may cache. */
	for (unsigned c = 0; c < cpu->m->ncpus; c++)
		if (c != cpu->id && (!p->prune ||
				     shd__tso_mask_test(cpu, mm->cpumask, c)))
			return true;
	return false;
}

/*
 * should_defer_flush(): the base's answer, or a policy in C's defer_flush
 * (policy_ops.h) where the base batches at all (TTU_BATCH_FLUSH: with
 * batch=off Linux never asks arch_tlbbatch_should_defer()).  Either
 * answer is safe: a deferred page is flushed, its frame freed, at the
 * batch's flush; one not deferred is flushed now (flush_one_now()).
 */
static bool should_defer(struct shd_cpu *cpu, struct shd_mm *mm)
{
	const struct shd_policy *p = &cpu->m->cfg.policy;
	bool builtin = base_should_defer(cpu, mm);
	struct shd_hook_ctx x;

	if (p->batch == SHD_BATCH_OFF || !shd__has_hook(p, defer_flush))
		return builtin;
	shd__hook_ctx_init(cpu, mm, &x);
	x.in_mm_cpumask = shd__mask_test(mm->cpumask, cpu->id);
	x.is_lazy = shd_load_relaxed(&cpu->is_lazy);
	x.loaded = cpu->loaded_mm == mm ? SHD_HOOK_LOADED_THIS :
					   SHD_HOOK_LOADED_OTHER;
	x.npages = 1;
	x.mm_tlb_gen = shd_load_acquire(&mm->tlb_gen);
	x.mask_weight = shd__mask_weight(cpu->m, mm->cpumask);
	x.batch_pages = (unsigned)cpu->batch.n;
	return shd__hook_defer_flush(p, &x, builtin);
}

/* arm64's request slots, allocated on first use.  0 or -ENOMEM. */
static int arm64_slots(struct shd_cpu *cpu)
{
	struct shd_tlbbatch *b = &cpu->batch;

	if (b->info)
		return 0;
	if (posix_memalign((void **)&b->info, SHD_CL,
			   SHD_TLBBATCH_MAX * sizeof(*b->info)))
		b->info = NULL;
	else if (posix_memalign((void **)&b->req, SHD_CL, SHD_TLBBATCH_MAX *
				cpu->m->ncpus * sizeof(*b->req))) {
		free(b->info);
		b->info = NULL;
		b->req = NULL;
	}
	return b->info ? 0 : -ENOMEM;
}

/* arm64: invalidate VPN in MM everywhere now; the wait comes at the flush. */
static int arm64_issue(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn)
{
	struct shd_tlbbatch *b = &cpu->batch;
	struct shd_flush_info *f = &b->info[b->n];
	size_t first = b->nreq;
	uint64_t t0;
	int err = 0;

	shd__flush_info_init(cpu, f, mm, vpn, vpn + 1, false);
	f->start_vpn = vpn;	/* a TLBI by address: no ceiling applies */
	f->end_vpn = vpn + 1;
	/* Each page's invalidation is a flush call with its own candidates;
	 * the batch flush only waits (the DSB). */
	t0 = shd__machine_now(cpu->m);
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, SHD_IF_PAGE, f);
	b->nreq += shd__queue_requests(cpu, f, &b->req[b->nreq], false, &err);
	if (!shd__fault_fires(cpu, SHD_FAULT_SKIP_LOCAL_FLUSH))
		shd__flush_tlb_func(cpu, f);
	/* Timed: the issuing; the wait comes at the batch flush. */
	shd__flush_end(cpu, SHD_IF_PAGE, t0, (int)(b->nreq - first));
	return err;
}

/* arm64 engine, arch_tlbbatch_add_pending(): __flush_tlb_page_nosync(),
 * a TLBI VALE1IS with no DSB, counted as a page flush call. */
static void tlbi_page_nosync(struct shd_cpu *cpu, struct shd_mm *mm,
			     uint64_t vpn)
{
	struct shd_flush_info *f = &cpu->info;
	uint64_t t0 = shd__machine_now(cpu->m);

	memset(f, 0, sizeof(*f));
	f->kind = SHD_FLUSH_USER;
	f->mm = mm;
	f->initiator = cpu->id;
	f->start_vpn = vpn;
	f->end_vpn = vpn + 1;
	cpu->cnt.s.flush_calls++;
	shd__probe_flush_begin(cpu, SHD_IF_PAGE, f);
	shd__tlbi_page_nosync(cpu, shd__mm_asid_tag(mm), vpn);
	shd__flush_end(cpu, SHD_IF_PAGE, t0, (int)cpu->m->ncpus - 1);
}

/* ptep_clear_flush(): one page, now; the frame goes once it is done. */
static int flush_one_now(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn,
			 uint64_t pfn)
{
	struct shd_machine *m = cpu->m;
	int err = shd__flush_tlb_mm_range(cpu, mm, vpn << m->page_shift,
					  (vpn + 1) << m->page_shift, false,
					  SHD_IF_PAGE, NULL);

	if (!err)	/* else quarantined */
		shd__frames_put(m, &pfn, 1);
	return err;
}

/* Reclaim: defer (or do) the flush of PFN's translation at VPN in MM, whose
 * PTE was just cleared under the mm lock (still held); the frame's
 * reference goes when the flush is done.  0 or a flush error. */
static int tlbbatch_add(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t vpn,
			uint64_t pfn)
{
	struct shd_machine *m = cpu->m;
	struct shd_tlbbatch *b = &cpu->batch;
	int err;

	cpu->cnt.s.reclaim_pages++;
	if (!should_defer(cpu, mm))
		return flush_one_now(cpu, mm, vpn, pfn);
	/* The batch cannot take the page (full and its flush failed, or no
	 * memory for arm64's slots): this page is flushed on its own, so
	 * that its cleared PTE never goes without a flush. */
	if (b->n == SHD_TLBBATCH_MAX && (err = shd__tlbbatch_flush(cpu))) {
		int e2 = flush_one_now(cpu, mm, vpn, pfn);

		return e2 ? e2 : err;
	}
	if (m->cfg.policy.batch == SHD_BATCH_ARM64 && !arm64_engine(cpu) &&
	    !riscv_engine(cpu) && arm64_slots(cpu) < 0)
		return flush_one_now(cpu, mm, vpn, pfn);
	cpu->cnt.s.tlbbatch_pages++;
	b->e[b->n] = (struct shd_tlbbatch_ent){ mm, vpn, pfn,
						shd__oracle_begin(mm) };
	shd__mm_get(mm);
	mm->batched_pending++;
	if (arm64_engine(cpu)) {
		tlbi_page_nosync(cpu, mm, vpn);
		/* sme_erratum's sme_dvmsync_add_pending(): a DSB, then the
		 * mm's CPUs join the batch's, IPIed at its flush. */
		if (m->cfg.arch.sme_erratum) {
			shd__dsb_ish(cpu);
			for (size_t w = 0; w < m->mask_words; w++)
				b->cpumask[w] |= shd__tso_load(cpu, &mm->cpumask[w],
							       shd_load_seq);
		}
		b->n++;
		return 0;
	}
	if (riscv_engine(cpu)) {
		/* riscv arch_tlbbatch_add_pending(): the mm's CPUs, no
		 * flush now; seq-cst reads after the PTE clear, as a
		 * flush's scan. */
		for (size_t w = 0; w < m->mask_words; w++)
			b->cpumask[w] |= shd__tso_load(cpu, &mm->cpumask[w],
						       shd_load_seq);
		b->n++;
		return 0;
	}
	if (m->cfg.policy.batch == SHD_BATCH_ARM64) {
		err = arm64_issue(cpu, mm, vpn);
		b->n++;
		return err;
	}
	/* x86 arch_tlbbatch_add_pending(): a generation, and the CPUs.  The
	 * seq-cst bump comes before the mask reads below, as a flush's does
	 * (Dekker with switch_mm's mask set, then tlb_gen read); catching-up
	 * CPUs acquire it (flush_tlb_batch_func(), switch_mm). */
	shd__tso_gen_bump(cpu, &mm->tlb_gen);
	for (size_t w = 0; w < m->mask_words; w++) {
		unsigned long bits = m->cfg.policy.prune ?
			shd__tso_load(cpu, &mm->cpumask[w], shd_load_seq) :
			m->online_mask[w];

		b->cpumask[w] |= bits;
	}
	b->n++;
	return 0;
}

int shd__tlbbatch_flush(struct shd_cpu *cpu)
{
	struct shd_machine *m = cpu->m;
	struct shd_tlbbatch *b = &cpu->batch;
	int err = 0, werr;

	if (!b->n)
		return 0;
	cpu->cnt.s.tlbbatch_flushes++;
	if (arm64_engine(cpu)) {
		/* arch_tlbbatch_flush(): dsb(ish); with sme_erratum,
		 * __tlbi_sync_s1ish_batch()'s IPIs to the batch's CPUs. */
		shd__dsb_ish(cpu);
		if (m->cfg.arch.sme_erratum) {
			err = shd__sme_dvmsync(cpu, b->cpumask);
			memset(b->cpumask, 0, m->mask_words * sizeof(unsigned long));
		}
	} else if (m->cfg.policy.batch == SHD_BATCH_ARM64 && !riscv_engine(cpu)) {
		/* The DSB: wait for every invalidation issued. */
		for (size_t i = 0; i < b->nreq; i++)
			if ((werr = shd__csd_wait(cpu, &b->req[i].csd, b->req[i].target,
						  "arch_tlbbatch_flush")) < 0 && !err)
				err = werr;
		b->nreq = 0;
		if (err) {
			/* A request may still be queued (abandoned): its
			 * memory is never reused. */
			b->info = NULL;
			b->req = NULL;
		}
	} else {
		err = shd__arch_tlbbatch_flush(cpu);
	}
	for (size_t i = 0; i < b->n; i++) {
		struct shd_tlbbatch_ent *e = &b->e[i];

		if (!err) {	/* else quarantined: a CPU may still map it */
			shd__oracle_credit_range(e->mm, e->vpn, e->vpn + 1, e->t,
						 SHD_IF_BATCH);
			shd__frames_put(m, &e->pfn, 1);
		}
		shd__mm_put(e->mm);
	}
	b->n = 0;
	return err;
}

int shd__flush_tlb_batched_pending(struct shd_cpu *cpu, struct shd_mm *mm)
{
	int err;

	if (mm->batched_pending == mm->batched_flushed ||
	    shd__fault_fires(cpu, SHD_FAULT_SKIP_BATCHED_PENDING))
		return 0;
	cpu->cnt.s.batched_pending_flushes++;
	/* arm64 before Ryan Roberts's "Close theoretical race where stale
	 * TLB entry remains valid" (2025, Fixes 43b3dfdd0455): dsb(ish)
	 * here, which completes the TLBIs this CPU issued, not those of the
	 * reclaiming CPU; now flush_tlb_mm(). */
	if (arm64_engine(cpu) &&
	    shd__fault_fires(cpu, SHD_FAULT_BATCHED_PENDING_DSB_ONLY)) {
		shd__dsb_ish(cpu);
		mm->batched_flushed = mm->batched_pending;
		return 0;
	}
	err = shd__flush_tlb_mm_range(cpu, mm, 0, SHD_FLUSH_END_ALL, true,
				      SHD_IF_MM, NULL);
	if (!err)
		mm->batched_flushed = mm->batched_pending;
	return err;
}

int shd_try_to_unmap(struct shd_cpu *cpu, struct shd_mm *mm, uint64_t va)
{
	struct shd_machine *m;
	struct shd_pt_leaf *leaf;
	struct shd_pte *p;
	uint64_t vpn, val, v;
	int err;

	if ((err = shd__check_user_mm(cpu, mm, "try_to_unmap")))
		return err;
	m = cpu->m;
	if ((va & (m->page_size - 1)) || va >= SHD_USER_TOP)
		return shd__fail(-EINVAL, "try_to_unmap: 0x%" PRIx64 " is not a "
				 "page-aligned user address", va);
	vpn = va >> m->page_shift;
	shd__cpu_take_ipis(cpu);
	shd__mm_lock(cpu, mm);
	leaf = shd__pt_leaf(mm, vpn);
	p = leaf ? &leaf->pte[vpn & (SHD_PT_ENTRIES - 1)] : NULL;
	val = p ? p->val : 0;
	if (!(val & SHD_PTE_PRESENT) || (val >> SHD_PTE_PFN_SHIFT) == m->zero_pfn) {
		shd__mm_unlock(mm);
		return 0;
	}
	/* flush_cache_page(), while the PTE exists */
	if ((err = shd__flush_cache_first(cpu, mm, vpn, vpn + 1))) {
		shd__mm_unlock(mm);
		return err;
	}
	shd__cache_order_check(mm, vpn, "flush_cache_page");
	v = shd__clock_next(m);
	shd__pte_write(p, 0, v, mm);
	leaf->nr_frames--;
	shd__publish_changes(mm, v);
	err = tlbbatch_add(cpu, mm, vpn, val >> SHD_PTE_PFN_SHIFT);
	if (!err)
		err = shd__flush_cache_done(cpu, mm, vpn, vpn + 1);
	shd__mm_unlock(mm);
	return err ? err : 1;
}

int shd_try_to_unmap_flush(struct shd_cpu *cpu)
{
	int err = shd__check_cpu(cpu, "try_to_unmap_flush");

	return err ? err : shd__tlbbatch_flush(cpu);
}
