/* SPDX-License-Identifier: MIT */
/* arm64 TLB maintenance: TLBI ...IS broadcast, range TLBIs, DSB ISH (arch/arm64/include/asm/tlbflush.h). */

/*
 * Theory (after arch/arm64/include/asm/tlbflush.h and asm/tlb.h, Linux
 * 6.18).
 *
 * arm64 sends no IPI to flush a TLB.  Every invalidation is
 *   DSB ISHST; TLBI <op>IS ...; DSB ISH
 * where the inner-shareable TLBI is a DVM message the interconnect
 * broadcasts to every CPU, and the DSB ISH waits until every CPU has
 * completed every TLBI this CPU issued before it.  Here a TLBI is a
 * hardware payload (bcast.c): this CPU's TLB at once, the others' by
 * their own threads once posted, at the latest at the DSB, which waits
 * for each; nothing counts as an interrupt, and every other CPU is an
 * IPI candidate covered by hardware (ipis_broadcast_hw).  Fault
 * tlbi_no_dsb returns without the DSB: the flush's caller frees and
 * reuses what other CPUs may still translate.
 *
 * __flush_tlb_range_nosync(): a range of PAGES pages becomes one
 * flush_tlb_mm() (TLBI ASIDE1IS) when __flush_tlb_range_limit_excess():
 * without range TLBIs (FEAT_TLBIRANGE) at MAX_DVM_OPS pages (PTRS_PER_PTE;
 * the policy's max_dvm_ops), with them above MAX_TLBI_RANGE_PAGES.
 * Otherwise __flush_tlb_range_op() issues one TLBI a page without range
 * TLBIs, and with them walks SCALE from 3 down to 0 (e2768b798a19), at
 * each a range TLBI of (NUM + 1) << (5 * SCALE + 1) pages when
 * __TLBI_RANGE_NUM gives NUM >= 0, a lone page by a plain TLBI.  Before
 * e3ba51ab24fd ("arm64: tlb: Fix TLBI RANGE operand", 2024) NUM was
 * ((PAGES >> (5 * SCALE + 1)) & 31) - 1, which is -1 at every scale for
 * exactly MAX_TLBI_RANGE_PAGES (2^21 pages): SCALE then underflowed to -9
 * and the one TLBI issued carried a corrupt operand (its commit message:
 * 0xffff708000040000); fault tlbi_range_num issues that one TLBI and
 * invalidates none of the range with it.
 *
 * flush_tlb_kernel_range() does the same by VAALE1IS over kernel pages,
 * past the limit flush_tlb_all() (VMALLE1IS: every entry).  Reclaim's
 * batch (43b3dfdd0455): arch_tlbbatch_add_pending() issues one TLBI
 * VALE1IS a page without a DSB, arch_tlbbatch_flush() is one DSB ISH.
 *
 * sme_erratum (0baba94a9779, "arm64: errata: Work around early CME
 * DVMSync acknowledgement", 2026): Arm C1-Pro acknowledges the DVMSync
 * behind DSB ISH before its SME accesses complete, so __tlbi_sync_s1ish()
 * of a user flush follows the DSB with sme_do_dvmsync(): an IPI with an
 * empty handler to every CPU of mm_cpumask, waited for (taking the
 * exception completes the accesses).  mm_cpumask then holds the CPUs at
 * EL0 with SME in the mm; here, the CPUs that have the mm loaded (every
 * task uses SME, and a CPU in a library call is not taken out of it: more
 * IPIs than Linux sends, never fewer).  Kernel flushes send none.  The
 * erratum itself, the early acknowledgement, is not modelled: only what
 * the workaround costs.
 *
 * What is counted: tlbi_ops (every TLBI: one DVM operation each),
 * tlbi_range_ops (the range ones), dsbs.  A TLBI here is one payload a
 * CPU: a second one completes the first before it is posted, which real
 * hardware need not do (the DSB is the only promise), so only the last
 * TLBI before a DSB is ever in flight.  Not modelled: TTL hints, KPTI's
 * second (user) ASID TLBI, LPA2's 64 KiB alignment rule, the walk
 * caches (last_level), ARM64_WORKAROUND_REPEAT_TLBI.
 */
#include "bcast.h"
#include "seeded.h"
#include "smp.h"
#include "tlbi.h"
#include "tso.h"

/* MAX_DVM_OPS: the policy's (Linux's PTRS_PER_PTE). */
static uint64_t max_dvm_ops(const struct shd_machine *m)
{
	return m->cfg.policy.max_dvm_ops;
}

/* __flush_tlb_range_limit_excess() */
static bool limit_excess(const struct shd_machine *m, uint64_t pages)
{
	return (!m->cfg.policy.tlbi_range && pages >= max_dvm_ops(m)) ||
	       pages > SHD_MAX_TLBI_RANGE_PAGES;
}

void shd__dsb_ish(struct shd_cpu *cpu)
{
	cpu->cnt.s.dsbs++;
	shd__hw_complete(cpu);
}

/* sme_do_dvmsync()'s IPI: taking it is the point. */
static void dvmsync_func(void *target_ctx, struct shd_csd *csd)
{
	struct shd_cpu *cpu = target_ctx;

	(void)csd;
	cpu->cnt.s.ipi_requests++;
}

int shd__sme_dvmsync(struct shd_cpu *cpu, const unsigned long *mask)
{
	struct shd_machine *m = cpu->m;
	unsigned *targets = cpu->targets;
	int n = 0, err = 0, r;

	if (!m->cfg.arch.sme_erratum)
		return 0;
	/* smp_call_function_many(mask, ..., wait): each other CPU is a
	 * candidate, sent if in the mask. */
	for (unsigned c = 0; c < m->ncpus; c++) {
		if (c == cpu->id || !shd__mask_test(m->online_mask, c))
			continue;
		cpu->cnt.s.ipi_candidates++;
		shd__sched_point(cpu);
		if (!shd__tso_mask_test(cpu, mask, c)) {
			cpu->cnt.s.ipis_avoided_pruned++;
			continue;
		}
		if ((r = shd__send_csd(cpu, c, &cpu->csd[c], dvmsync_func, NULL,
				       NULL)) < 0)
			err = r;
		else
			targets[n++] = c;
	}
	if (n)
		cpu->cnt.s.sme_dvmsyncs++;
	for (int i = 0; i < n; i++)
		if ((r = shd__csd_wait(cpu, &cpu->csd[targets[i]], targets[i],
				       "sme_dvmsync")) < 0 && !err)
			err = r;
	return err;
}

/* The flush's DSB, unless fault tlbi_no_dsb drops it (where another CPU
 * could still hold what the TLBIs invalidate); then, with sme_erratum, a
 * user flush's IPIs to MASK (NULL for kernel flushes). */
static int flush_dsb(struct shd_cpu *cpu, const unsigned long *mask)
{
	if (cpu->m->ncpus > 1 && shd__fault_fires(cpu, SHD_FAULT_TLBI_NO_DSB))
		return 0;
	shd__dsb_ish(cpu);
	return mask ? shd__sme_dvmsync(cpu, mask) : 0;
}

/* The TLBIs of (KIND, ASID) over [S, S + PAGES): one payload covering
 * what they invalidate. */
static void tlbi_range(struct shd_cpu *cpu, enum shd_hw_kind kind,
		       unsigned asid, uint64_t s, uint64_t pages)
{
	struct shd_machine *m = cpu->m;
	bool old = shd__fault(m, SHD_FAULT_TLBI_RANGE_NUM);
	uint64_t nrange, covered, ops;

	ops = shd__tlbi_range_ops(pages, m->cfg.policy.tlbi_range, old,
				  &nrange, &covered);
	if (covered < pages) {
		uint64_t good, dummy;

		/* Fired only where the fixed encoding would cover it all. */
		(void)shd__tlbi_range_ops(pages, true, false, &dummy, &good);
		if (good == pages)
			shd__fault_fired(cpu, SHD_FAULT_TLBI_RANGE_NUM);
	}
	cpu->cnt.s.tlbi_ops += ops;
	cpu->cnt.s.tlbi_range_ops += nrange;
	/* The corrupt operand's TLBI still goes out: an empty range. */
	shd__hw_issue(cpu, kind, asid, s, s + covered);
}

int shd__tlbi_flush_user(struct shd_cpu *cpu, const unsigned long *mask,
			 unsigned asid, uint64_t s, uint64_t e)
{
	if (e == SHD_FLUSH_END_ALL || limit_excess(cpu->m, e - s)) {
		cpu->cnt.s.tlbi_ops++;		/* TLBI ASIDE1IS */
		cpu->cnt.s.tlbi_full_ops++;
		shd__hw_issue(cpu, SHD_HW_ASID, asid, 0, SHD_FLUSH_END_ALL);
	} else {
		tlbi_range(cpu, SHD_HW_ASID, asid, s, e - s);
	}
	return flush_dsb(cpu, mask);
}

void shd__tlbi_flush_kernel(struct shd_cpu *cpu, uint64_t s, uint64_t e)
{
	if (e == SHD_FLUSH_END_ALL || limit_excess(cpu->m, e - s)) {
		cpu->cnt.s.tlbi_ops++;		/* TLBI VMALLE1IS */
		cpu->cnt.s.tlbi_full_ops++;
		shd__hw_issue(cpu, SHD_HW_EVERYTHING, 0, 0, SHD_FLUSH_END_ALL);
	} else {
		tlbi_range(cpu, SHD_HW_KERNEL, 0, s, e - s);
	}
	(void)flush_dsb(cpu, NULL);
}

void shd__tlbi_page_nosync(struct shd_cpu *cpu, unsigned asid, uint64_t vpn)
{
	cpu->cnt.s.tlbi_ops++;			/* TLBI VALE1IS */
	shd__hw_issue(cpu, SHD_HW_ASID, asid, vpn, vpn + 1);
}
