/* SPDX-License-Identifier: MIT */
/* sparc64's TLB engine: tlb_batch, its cross-calls, contexts by version (runtime/tlb_batch.c, context_sparc64.c). */
#include "shd_test.h"

/* One DONTNEED of PAGES present pages on cpu 0 with cpus 1-3 having run
 * the mm; the counters it added. */
static struct shd_stats one_zap(struct shd_machine *m, uint64_t pages,
				bool leave)
{
	struct shd_stats before, s;

	eng_bench(m, pages, leave, &before, &s);
#define D(f) s.f -= before.f
	D(ipis_sent); D(ipis_coalesced); D(ipis_avoided_pruned);
	D(flushes_full); D(pages_invalidated); D(flush_calls);
	D(tlb_batch_flushes); D(tlb_batch_entries); D(tlb_immediate_flushes);
	D(xcalls_page); D(xcalls_pending); D(xcalls_mm); D(xcalls_kernel);
#undef D
	return s;
}

/* 200 pages in one page table: a batch of 192 (TLB_BATCH_NR) and one of
 * 8, each one smp_flush_tlb_pending() cross-call to the 3 other CPUs. */
Test(tlb_batch, a_zap_flushes_in_batches_of_192)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "sparc64");
	struct shd_stats s = one_zap(m, 200, false);

	cr_assert_eq(s.tlb_batch_entries, 200);
	cr_assert_eq(s.tlb_batch_flushes, 2);
	cr_assert_eq(s.xcalls_pending, 2);
	cr_assert_eq(s.xcalls_page + s.xcalls_mm + s.xcalls_kernel, 0);
	cr_assert_eq(s.flush_calls, 2);
	cr_assert_eq(s.ipis_sent + s.ipis_coalesced, 2 * 3);
	cr_assert_eq(s.pages_invalidated, 4 * 200, "every page on every CPU");
	cr_assert_eq(s.flushes_full, 0);
	shd_machine_destroy(m);
}

/* Lazy MMU mode ends at each page table: 600 pages from a table's start
 * are 192 + 192 + 128 in the first table and 88 in the second. */
Test(tlb_batch, a_batch_ends_at_each_page_table)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "sparc64");
	struct shd_stats s = one_zap(m, 600, false);

	cr_assert_eq(s.tlb_batch_entries, 600);
	cr_assert_eq(s.tlb_batch_flushes, 4);
	cr_assert_eq(s.xcalls_pending, 4);
	shd_machine_destroy(m);
}

/* tlb_batch_nr=1: every address is its own smp_flush_tlb_page(). */
Test(tlb_batch, a_batch_of_one_is_a_page_cross_call)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "sparc64",
					.set = "tlb_batch_nr=1");
	struct shd_stats s = one_zap(m, 10, false);

	cr_assert_eq(s.tlb_batch_flushes, 10);
	cr_assert_eq(s.xcalls_page, 10);
	cr_assert_eq(s.xcalls_pending, 0);
	cr_assert_eq(s.ipis_sent + s.ipis_coalesced, 10 * 3);
	shd_machine_destroy(m);
}

/* A CPU that switched away stays in mm_cpumask (bafb056ce279: nothing
 * clears it) and still gets the cross-call. */
Test(tlb_batch, the_mask_only_grows)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "sparc64");
	struct shd_stats s = one_zap(m, 4, true);

	cr_assert_eq(s.ipis_sent + s.ipis_coalesced, 3);
	cr_assert_eq(s.ipis_avoided_pruned, 0);
	shd_machine_destroy(m);
}

struct pagefl {
	struct shd_mm *mm;
};

static int page_flusher(struct shd_cpu *cpu, void *arg)
{
	struct pagefl *p = arg;

	T_OK(shd_switch_mm(cpu, p->mm));
	T_OK(shd_mmap(cpu, p->mm, UBASE, 4 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_flush_tlb_page(cpu, p->mm, UBASE));
	T_OK(shd_flush_tlb_mm(cpu, p->mm));
	T_OK(shd_flush_tlb_range(cpu, p->mm, UBASE, UBASE + 4 * PAGE));
	T_OK(shd_flush_tlb_kernel_range(cpu, SHD_KERNEL_BASE,
					SHD_KERNEL_BASE + PAGE));
	return 0;
}

/* The interfaces: a page is flushed at once (outside lazy MMU mode), the
 * whole mm is xcall_flush_tlb_mm, a range the batch of its pages, a
 * kernel range a cross-call to every other CPU. */
Test(tlb_batch, each_interface_takes_its_path)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = "sparc64");
	struct pagefl p = { test_mm(m) };
	struct shd_stats s;

	run_one(m, 0, page_flusher, &p);
	s = test_stats(m);
	cr_assert_eq(s.tlb_immediate_flushes, 1);
	cr_assert_eq(s.xcalls_page, 0, "cpu 1 never ran the mm: no target");
	cr_assert_eq(s.xcalls_mm, 0);
	cr_assert_eq(s.tlb_batch_entries, 4);
	cr_assert_eq(s.xcalls_kernel, 1, "every other online CPU");
	cr_assert_eq(s.violations, 0);
	shd_mm_destroy(p.mm);
	shd_machine_destroy(m);
}

/* 2-bit contexts: numbers 1..3.  The fourth mm finds none free and
 * wraps; the first, of the old version, then gets a new number, and
 * every switch into a context new here flushes it. */
Test(tlb_batch, contexts_wrap_and_renumber)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = "sparc64,ctx_bits=2");
	struct shd_mm *mm[4];
	struct mm_walk w = { mm, 4, NULL };
	struct shd_stats s;

	for (unsigned i = 0; i < 4; i++)
		mm[i] = test_mm(m);
	w.after = mm[0];
	run_one(m, 0, mm_walk_task, &w);
	s = test_stats(m);
	cr_assert_eq(s.ctx_wraps, 1);
	cr_assert_eq(s.ctx_allocs, 5);
	cr_assert_eq(s.ctx_switch_flushes, 5);
	for (unsigned i = 0; i < 4; i++)
		shd_mm_destroy(mm[i]);
	shd_machine_destroy(m);
}

/* Bad input: a width outside 2..13, an engine the profile has not, a
 * width that leaves no number for a wrap, a batch outside 1..192. */
Test(tlb_batch, bad_options_are_refused)
{
	struct shd_arch a;
	struct shd_config c = test_config(3, "linux");
	struct shd_machine *m = NULL;

	cr_assert_eq(shd_arch_preset("sparc64,ctx_bits=14", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("sparc64,ctx_bits=1", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("x86,tlb=sparc64", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("arm64,ctx_bits=4", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("sparc64,ctx_bits=2", &c.arch), 0);
	cr_assert_eq(shd_machine_create(&c, &m), -EINVAL);
	cr_assert_null(m);
	cr_assert_not_null(strstr(shd_last_error(), "raise ctx_bits"), "%s",
			   shd_last_error());
	cr_assert_eq(shd_policy_set(&c.policy, "tlb_batch_nr", "0"), -EINVAL);
	cr_assert_eq(shd_policy_set(&c.policy, "tlb_batch_nr", "193"), -EINVAL);
	cr_assert_eq(shd_policy_set(&c.policy, "tlb_batch_nr", "192"), 0);
}
