/* SPDX-License-Identifier: MIT */
/* riscv's TLB engine: remote fences by IPI or SBI, the 64-page threshold, the mask that only grows (runtime/rfence.c). */
#include "shd_test.h"

struct eng {
	struct shd_mm *mm, *other;
	uint64_t pages;
	bool leave;		/* the runners switch to OTHER before the flush */
	int ready, step;
};

static int eng_runner(struct shd_cpu *cpu, void *arg)
{
	struct eng *e = arg;

	T_OK(shd_switch_mm(cpu, e->mm));
	T_LOAD(cpu, UBASE, 1);
	if (e->leave)
		T_OK(shd_switch_mm(cpu, e->other));
	__atomic_add_fetch(&e->ready, 1, __ATOMIC_RELEASE);
	step_wait(cpu, &e->step, 1);
	if (!e->leave)	/* the flusher's DONTNEED: a fresh walk reads 0 */
		T_LOAD(cpu, UBASE, 0);
	return 0;
}

static int eng_setup(struct shd_cpu *cpu, void *arg)
{
	struct eng *e = arg;

	T_OK(shd_switch_mm(cpu, e->mm));
	T_OK(shd_mmap(cpu, e->mm, UBASE, e->pages * PAGE, RW));
	/* Every page present: the gather's range is what was cleared. */
	for (uint64_t i = e->pages; i-- > 0;)
		T_OK(shd_store(cpu, UBASE + i * PAGE, 1));
	return 0;
}

static int eng_unmapper(struct shd_cpu *cpu, void *arg)
{
	struct eng *e = arg;

	while (__atomic_load_n(&e->ready, __ATOMIC_ACQUIRE) < 3)
		shd_cpu_poll(cpu);
	T_OK(shd_madvise_dontneed(cpu, e->mm, UBASE, e->pages * PAGE));
	step_set(&e->step, 1);
	return 0;
}

/* One DONTNEED of PAGES pages on cpu 0 with cpus 1-3 having run the mm;
 * the counters it added. */
static struct shd_stats one_flush(struct shd_machine *m, uint64_t pages,
				  bool leave)
{
	struct eng e = { test_mm(m), test_mm(m), pages, leave, 0, 0 };
	struct shd_stats before, s;
	int ret;

	run_one(m, 0, eng_setup, &e);
	before = test_stats(m);
	for (unsigned c = 1; c < 4; c++)
		cr_assert_eq(shd_cpu_submit(m, c, eng_runner, &e), 0);
	cr_assert_eq(shd_cpu_submit(m, 0, eng_unmapper, &e), 0);
	for (unsigned c = 0; c < 4; c++) {
		cr_assert_eq(shd_cpu_join(m, c, &ret), 0);
		cr_assert_eq(ret, 0, "cpu %u returned %d", c, ret);
	}
	assert_tasks_ok();
	s = test_stats(m);
	cr_assert_eq(s.violations, 0);
	cr_assert_eq(s.ipi_candidates, candidates(&s));
#define D(f) s.f -= before.f
	D(ipis_sent); D(ipis_coalesced); D(ipis_avoided_pruned);
	D(flushes_full); D(pages_invalidated); D(sbi_rfences);
	D(cpumask_clears); D(sinval_vmas); D(svinval_fences); D(flush_calls);
#undef D
	shd_mm_destroy(e.mm);
	shd_mm_destroy(e.other);
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
