/* SPDX-License-Identifier: MIT */
/* arm64's TLB engine: TLBI encodings, broadcast with DSB, ASID rollover (runtime/tlbi.c, context.c). */
#include "shd_test.h"
#include "../policy/decide.h"

/* ---- __flush_tlb_range_op()'s encoding ---- */

static uint64_t ops_of(uint64_t pages, bool range, bool old, uint64_t *nrange,
		       uint64_t *covered)
{
	return shd__tlbi_range_ops(pages, range, old, nrange, covered);
}

Test(tlbi, range_ops_follow_linux_scale_and_num)
{
	static const struct {
		uint64_t pages, ops, nrange;
	} t[] = {
		{ 1, 1, 0 },		/* a lone page: a plain TLBI */
		{ 2, 1, 1 },		/* scale 0, num 0 */
		{ 3, 2, 1 },		/* 2 by range, the last page alone */
		{ 64, 1, 1 },		/* scale 1, num 0 */
		{ 65, 2, 1 },
		{ 512, 1, 1 },		/* scale 1, num 7 */
		{ 513, 2, 1 },
		{ 2047, 3, 2 },		/* scale 1 and 0 (num 30), a lone page */
		{ 1ull << 21, 1, 1 },	/* MAX_TLBI_RANGE_PAGES: scale 3, num 31 */
		{ (1ull << 21) - 1, 5, 4 },
	};

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		uint64_t nrange, covered,
			 ops = ops_of(t[i].pages, true, false, &nrange, &covered);

		cr_assert_eq(ops, t[i].ops, "%" PRIu64 " pages: %" PRIu64 " ops",
			     t[i].pages, ops);
		cr_assert_eq(nrange, t[i].nrange, "%" PRIu64 " pages", t[i].pages);
		cr_assert_eq(covered, t[i].pages, "%" PRIu64 " pages", t[i].pages);
		/* Without FEAT_TLBIRANGE: one TLBI a page. */
		ops = ops_of(t[i].pages, false, false, &nrange, &covered);
		cr_assert_eq(ops, t[i].pages);
		cr_assert_eq(nrange, 0);
		cr_assert_eq(covered, t[i].pages);
	}
}

/* Before e3ba51ab24fd, NUM was masked to 5 bits: the only count that
 * differs is exactly 2^21 pages, which no scale then covered. */
Test(tlbi, the_old_range_num_fails_only_at_max_tlbi_range_pages)
{
	uint64_t nrange, covered, good, ops;

	for (uint64_t pages = 1; pages < (1ull << 21); pages = pages * 3 + 1) {
		ops = ops_of(pages, true, true, &nrange, &covered);
		cr_assert_eq(covered, pages, "%" PRIu64 " pages", pages);
		cr_assert_eq(ops, ops_of(pages, true, false, &nrange, &good));
	}
	ops = ops_of(1ull << 21, true, true, &nrange, &covered);
	cr_assert_eq(ops, 1, "one TLBI with the underflowed operand");
	cr_assert_eq(covered, 0);
}

/* ---- the engine: broadcast, no IPI ---- */

Test(tlbi, arm64_flushes_by_broadcast_with_no_ipi)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "arm64");
	struct shd_stats before, s;

	eng_bench(m, 64, false, &before, &s);
	cr_assert_eq(s.ipis_sent, 0, "arm64 sends no IPI for a TLB flush");
	cr_assert_eq(s.tlb_interrupts, 0);
	cr_assert_gt(s.tlbi_ops, before.tlbi_ops);
	cr_assert_gt(s.dsbs, before.dsbs);
	cr_assert_eq(s.ipi_candidates, candidates(&s));
	cr_assert_eq(s.ipis_broadcast_hw - before.ipis_broadcast_hw,
		     (s.tlbi_ops - before.tlbi_ops) * 3,
		     "every TLBI reaches the 3 other CPUs");
	cr_assert_eq(s.violations, 0);
	shd_machine_destroy(m);
}

/* C1-Pro erratum 4193714's workaround (0baba94a9779): after the DSB, an
 * IPI to each CPU running the mm; none to a CPU that left it. */
Test(tlbi, sme_erratum_ipis_the_mms_cpus_after_the_dsb)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "arm64,sme_erratum");
	struct shd_stats before, s;

	eng_bench(m, 64, false, &before, &s);
	cr_assert_eq(s.sme_dvmsyncs - before.sme_dvmsyncs,
		     s.dsbs - before.dsbs, "one IPI round after each user DSB");
	cr_assert_eq(s.ipis_sent + s.ipis_coalesced -
		     before.ipis_sent - before.ipis_coalesced,
		     3 * (s.sme_dvmsyncs - before.sme_dvmsyncs),
		     "cpus 1-3 run the mm");
	cr_assert_eq(s.ipi_candidates, candidates(&s));
	cr_assert_eq(s.violations, 0);
	shd_machine_destroy(m);
}

/* ---- ASIDs by generation ---- */

struct roll {
	struct shd_mm *mm[12];
	unsigned n;
};

static int roll_through(struct shd_cpu *cpu, void *arg)
{
	struct roll *r = arg;

	for (unsigned round = 0; round < 3; round++) {
		for (unsigned i = 0; i < r->n; i++) {
			T_OK(shd_switch_mm(cpu, r->mm[i]));
			if (round == 0)
				T_OK(shd_mmap(cpu, r->mm[i], UBASE, PAGE, RW));
			T_OK(shd_store(cpu, UBASE, round << 8 | i));
			T_LOAD(cpu, UBASE, round << 8 | i);
		}
	}
	return 0;
}

/* 3-bit ASIDs serve 7 mms; 12 roll the generation over on every pass,
 * and the CPU that rolls over flushes before it uses a new ASID. */
Test(tlbi, asids_roll_over_and_each_cpu_flushes_once)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = "arm64,asid_bits=3");
	struct roll r = { .n = 12 };
	struct shd_stats s;

	for (unsigned i = 0; i < r.n; i++)
		r.mm[i] = test_mm(m);
	run_one(m, 0, roll_through, &r);
	s = test_stats(m);
	cr_assert_geq(s.asid_rollovers, 4, "%" PRIu64 " rollovers",
		      s.asid_rollovers);
	cr_assert_eq(s.asid_rollover_flushes, s.asid_rollovers,
		     "one CPU switching: one owed flush per rollover");
	cr_assert_eq(s.violations, 0);
	for (unsigned i = 0; i < r.n; i++)
		shd_mm_destroy(r.mm[i]);
	shd_machine_destroy(m);
}

/* With the flush skipped, a reused ASID translates through the old
 * owner's entry: the oracle reports the foreign entry. */
Test(tlbi, a_rollover_without_its_flush_is_caught)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = "arm64,asid_bits=3",
					.faults = 1ull << SHD_FAULT_ASID_ROLLOVER_NO_FLUSH);
	struct roll r = { .n = 12 };
	struct shd_stats s;
	int ret = 0;

	for (unsigned i = 0; i < r.n; i++)
		r.mm[i] = test_mm(m);
	cr_assert_eq(shd_cpu_submit(m, 0, roll_through, &r), 0);
	cr_assert_eq(shd_cpu_join(m, 0, &ret), 0);
	s = test_stats(m);
	cr_assert_gt(shd_fault_firings(m, SHD_FAULT_ASID_ROLLOVER_NO_FLUSH), 0);
	cr_assert_gt(s.violations, 0, "a foreign entry used, unreported");
	for (unsigned i = 0; i < r.n; i++)
		shd_mm_destroy(r.mm[i]);
	shd_machine_destroy(m);
}
