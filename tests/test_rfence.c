/* SPDX-License-Identifier: MIT */
/* riscv's TLB engine: remote fences by IPI or SBI, the 64-page threshold, the mask that only grows (runtime/rfence.c). */
#include "shd_test.h"

/* One DONTNEED of PAGES pages on cpu 0 with cpus 1-3 having run the mm;
 * the counters it added. */
static struct shd_stats one_flush(struct shd_machine *m, uint64_t pages,
				  bool leave)
{
	struct shd_stats before, s;

	eng_bench(m, pages, leave, &before, &s);
#define D(f) s.f -= before.f
	D(ipis_sent); D(ipis_coalesced); D(ipis_avoided_pruned);
	D(flushes_full); D(pages_invalidated); D(sbi_rfences);
	D(cpumask_clears); D(sinval_vmas); D(svinval_fences); D(flush_calls);
#undef D
	return s;
}

/* 64 pages: one sfence.vma a page on each of the 4 CPUs; 65: the
 * whole ASID (tlb_flush_all_threshold, ba6f35964c51). */
Test(rfence, ranges_above_64_pages_are_flushed_whole)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "riscv");
	struct shd_stats s = one_flush(m, 64, false);

	cr_assert_eq(s.flush_calls, 1);
	cr_assert_eq(s.ipis_sent + s.ipis_coalesced, 3, "IPIs, one a CPU");
	cr_assert_eq(s.flushes_full, 0);
	cr_assert_eq(s.pages_invalidated, 4 * 64);
	s = one_flush(m, 65, false);
	cr_assert_eq(s.flushes_full, 4);
	cr_assert_eq(s.pages_invalidated, 0);
	cr_assert_eq(s.sbi_rfences, 0);
	shd_machine_destroy(m);
}

/* rfence=sbi: one ecall; the firmware flushes anything past a page
 * whole (OpenSBI's 4 KiB tlb_range_flush_limit). */
Test(rfence, an_sbi_call_follows_the_firmware_limit)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "riscv",
					.set = "rfence=sbi");
	struct shd_stats s = one_flush(m, 2, false);

	cr_assert_eq(s.sbi_rfences, 1);
	cr_assert_eq(s.ipis_sent + s.ipis_coalesced, 3);
	cr_assert_eq(s.flushes_full, 4);
	shd_machine_destroy(m);
}

/* A CPU that switched away stays in mm_cpumask and still gets the
 * fence (82dd33fde026); with clear_cpumask it leaves after that whole-
 * ASID flush, and the next flush prunes it. */
Test(rfence, the_mask_only_grows_unless_clear_cpumask)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "riscv");
	struct shd_stats s = one_flush(m, 100, true);

	cr_assert_eq(s.ipis_sent + s.ipis_coalesced, 3);
	cr_assert_eq(s.ipis_avoided_pruned, 0);
	cr_assert_eq(s.cpumask_clears, 0);
	shd_machine_destroy(m);
	m = MACHINE(.ncpus = 4, .arch = "riscv", .set = "clear_cpumask=on");
	s = one_flush(m, 100, true);
	cr_assert_eq(s.ipis_sent + s.ipis_coalesced, 3);
	cr_assert_eq(s.cpumask_clears, 3, "the three CPUs running OTHER");
	shd_machine_destroy(m);
}

/* svinval=on: the per-page loop is sinval.vma between two fences. */
Test(rfence, svinval_counts_its_instructions)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "riscv",
					.set = "svinval=on");
	struct shd_stats s = one_flush(m, 8, false);

	cr_assert_eq(s.pages_invalidated, 4 * 8);
	cr_assert_eq(s.sinval_vmas, 4 * 8);
	cr_assert_eq(s.svinval_fences, 4 * 2);
	shd_machine_destroy(m);
}
