/* SPDX-License-Identifier: MIT */
/* hypersparc's TLB engine: sun4m cross-calls to every CPU, SRMMU contexts stolen oldest first (runtime/srmmu.c). */
#include "shd_test.h"

/* The mask decides whether to cross-call, not whom: cpus 1-3 ran the mm,
 * so every flush round goes to all three. */
Test(srmmu, a_flush_cross_calls_every_cpu)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "hypersparc");
	struct shd_stats before, s;

	eng_bench(m, 8, false, &before, &s);
	cr_assert_eq(s.xcalls_all - before.xcalls_all, 1);
	cr_assert_eq(s.pages_invalidated - before.pages_invalidated, 4 * 8,
		     "every page on every CPU");
	shd_machine_destroy(m);
}

struct two {
	struct shd_mm *mm;
	int ready, step;
};

static int two_reader(struct shd_cpu *cpu, void *arg)
{
	struct two *t = arg;

	step_wait(cpu, &t->step, 1);	/* after cpu 0's lone flush */
	T_OK(shd_switch_mm(cpu, t->mm));
	T_LOAD(cpu, UBASE, 1);
	__atomic_add_fetch(&t->ready, 1, __ATOMIC_RELEASE);
	step_wait(cpu, &t->step, 2);
	T_LOAD(cpu, UBASE, 0);
	return 0;
}

static int two_unmapper(struct shd_cpu *cpu, void *arg)
{
	struct two *t = arg;

	T_OK(shd_switch_mm(cpu, t->mm));
	T_OK(shd_mmap(cpu, t->mm, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_flush_tlb_page(cpu, t->mm, UBASE));	/* cpu 0 alone */
	step_set(&t->step, 1);
	while (__atomic_load_n(&t->ready, __ATOMIC_ACQUIRE) < 1)
		shd_cpu_poll(cpu);
	T_OK(shd_madvise_dontneed(cpu, t->mm, UBASE, PAGE));
	step_set(&t->step, 2);
	return 0;
}

/* Only cpu 0 in the mask: a local flush, no cross-call.  Once cpu 1 has
 * run the mm: a cross-call to cpus 1, 2 and 3, though 2 and 3 never ran
 * it (the IPI counts hold the cache cross-calls too: pages tell). */
Test(srmmu, the_mask_only_decides_whether)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .arch = "hypersparc");
	struct two t = { test_mm(m), 0, 0 };
	struct shd_stats s;
	int ret;

	cr_assert_eq(shd_cpu_submit(m, 1, two_reader, &t), 0);
	cr_assert_eq(shd_cpu_submit(m, 0, two_unmapper, &t), 0);
	for (unsigned c = 0; c < 2; c++) {
		cr_assert_eq(shd_cpu_join(m, c, &ret), 0);
		cr_assert_eq(ret, 0, "cpu %u returned %d", c, ret);
	}
	assert_tasks_ok();
	s = test_stats(m);
	cr_assert_eq(s.violations, 0);
	cr_assert_eq(s.xcalls_skipped, 1, "flush_tlb_page with cpu 0 alone");
	cr_assert_eq(s.xcalls_all, 1, "the DONTNEED");
	cr_assert_eq(s.pages_invalidated, 1 + 4,
		     "cpu 0's page alone, then the page on all four");
	shd_mm_destroy(t.mm);
	shd_machine_destroy(m);
}

/* 8 contexts: the ninth mm steals the oldest's; a dead mm's number is
 * flushed everywhere as it is taken again. */
Test(srmmu, contexts_are_stolen_and_reused)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = "hypersparc,nctx=8");
	struct shd_mm *mm[9];
	struct mm_walk w = { mm, 9, NULL };
	struct shd_stats s;

	for (unsigned i = 0; i < 9; i++)
		mm[i] = test_mm(m);
	run_one(m, 0, mm_walk_task, &w);
	s = test_stats(m);
	cr_assert_eq(s.ctx_allocs, 9);
	cr_assert_eq(s.ctx_steals, 1);
	cr_assert_eq(s.ctx_reuse_flushes, 0);
	shd_mm_destroy(mm[8]);	/* its number is free, owing a flush */
	shd_mm_destroy(mm[0]);	/* stolen from: no number to give back */
	mm[0] = test_mm(m);
	w.n = 1;
	run_one(m, 0, mm_walk_task, &w);
	s = test_stats(m);
	cr_assert_eq(s.ctx_allocs, 10);
	cr_assert_eq(s.ctx_reuse_flushes, 1);
	cr_assert_eq(s.ctx_steals, 1);
	for (unsigned i = 0; i < 8; i++)
		shd_mm_destroy(mm[i]);
	shd_machine_destroy(m);
}

/* Bad input: contexts outside 8..65536, not more than the CPUs, an
 * engine the profile has not. */
Test(srmmu, bad_options_are_refused)
{
	struct shd_arch a;
	struct shd_config c = test_config(8, "linux");
	struct shd_machine *m = NULL;

	cr_assert_eq(shd_arch_preset("hypersparc,nctx=7", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("hypersparc,nctx=65537", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("sparc64,tlb=hypersparc", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("hypersparc,nctx=8", &c.arch), 0);
	cr_assert_eq(shd_machine_create(&c, &m), -EINVAL);
	cr_assert_null(m);
	cr_assert_not_null(strstr(shd_last_error(), "more than the CPUs"), "%s",
			   shd_last_error());
}
