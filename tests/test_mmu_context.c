/* SPDX-License-Identifier: MIT */
/* Tests of lazy TLB and switch_mm: what a CPU that left an mm must flush when it comes back. */
#include "shd_test.h"

/* ---- lazy TLB ---- */

static int cache_rw_page(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x1234));
	T_OK(shd_store(cpu, UBASE + PAGE, 0x5678));
	return 0;	/* returns: the CPU stays in the mm, lazily */
}

static int protect_first_page(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mprotect(cpu, s->mm, UBASE, PAGE, SHD_PROT_READ));
	return 0;
}

static int drop_first_page(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_madvise_dontneed(cpu, s->mm, UBASE, PAGE));
	return 0;
}

static int come_back(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	s->active = shd_cpu_active_mm(cpu);
	T_OK(shd_switch_mm(cpu, s->mm));	/* prev == next: leave lazy */
	s->rc[0] = shd_store(cpu, UBASE, 0x4321);
	s->rc[1] = shd_load(cpu, UBASE, &s->v[0]);
	s->rc[2] = shd_load(cpu, UBASE + PAGE, &s->v[1]);
	return 0;
}

Test(mmu_context, linux_skips_a_lazy_cpu_which_flushes_when_it_switches_back)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats a, b, d;

	run_one(m, 1, cache_rw_page, &s);
	a = test_stats(m);
	run_one(m, 0, protect_first_page, &s);
	b = test_stats(m);
	d = stats_delta(&a, b);
	cr_assert_eq(d.flush_calls, 1);
	cr_assert_eq(d.ipis_avoided_lazy, 1, "lazy cpu 1 was not skipped");
	cr_assert_eq(d.ipis_sent, 0);
	run_one(m, 1, come_back, &s);
	assert_tasks_ok();
	d = stats_delta(&b, test_stats(m));
	cr_assert_eq(s.active, s.mm, "cpu 1 left the mm while lazy");
	cr_assert_eq(d.switch_flushes, 1, "leaving lazy mode behind did not flush");
	cr_assert_eq(s.rc[0], -EACCES, "wrote through a stale entry: %d", s.rc[0]);
	cr_assert_eq(s.v[0], 0x1234);
	cr_assert_eq(s.v[1], 0x5678);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

Test(mmu_context, broadcast_interrupts_a_lazy_cpu_and_it_need_not_flush_later)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = "broadcast");
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats a, b, d;

	run_one(m, 1, cache_rw_page, &s);
	a = test_stats(m);
	run_one(m, 0, protect_first_page, &s);
	b = test_stats(m);
	d = stats_delta(&a, b);
	cr_assert_eq(d.ipis_avoided_lazy, 0);
	cr_assert_eq(d.ipis_sent, 1);
	run_one(m, 1, come_back, &s);
	assert_tasks_ok();
	d = stats_delta(&b, test_stats(m));
	cr_assert_eq(d.switch_flushes, 0);
	cr_assert_eq(s.rc[0], -EACCES);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

Test(mmu_context, a_lazy_cpu_sees_no_stale_data_after_madvise)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats a, d;

	run_one(m, 1, cache_rw_page, &s);
	a = test_stats(m);
	run_one(m, 0, drop_first_page, &s);
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(d.ipis_avoided_lazy, 1);
	a = test_stats(m);
	run_one(m, 1, come_back, &s);
	assert_tasks_ok();
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(d.switch_flushes, 1);
	cr_assert_eq(s.rc[0], 0);
	cr_assert_eq(s.v[0], 0x4321);
	cr_assert_eq(s.v[1], 0x5678);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

static int dontneed_then_check(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	s->active = shd_cpu_active_mm(cpu);
	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_load(cpu, UBASE, &s->v[2]));	/* must be the fresh zero page */
	return 0;
}

Test(mmu_context, a_lazy_cpu_switching_back_reads_the_new_page_not_the_old_frame)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct scn s = { .mm = test_mm(m) };

	run_one(m, 1, cache_rw_page, &s);
	run_one(m, 0, drop_first_page, &s);
	run_one(m, 1, dontneed_then_check, &s);
	assert_tasks_ok();
	cr_assert_eq(s.v[2], 0, "cpu 1 read %#lx through a stale translation",
		     (unsigned long)s.v[2]);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

static int cache_one_page(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x77));
	return 0;
}

static int unmap_all(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_munmap(cpu, s->mm, UBASE, PAGE));
	return 0;
}

static int protnone_then_unmap_all(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mprotect(cpu, s->mm, UBASE, PAGE, SHD_PROT_NONE));
	T_OK(shd_munmap(cpu, s->mm, UBASE, PAGE));
	return 0;
}

static int check_unmapped(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	s->active = shd_cpu_active_mm(cpu);
	T_OK(shd_switch_mm(cpu, s->mm));
	s->rc[0] = shd_load(cpu, UBASE, &s->v[0]);
	return 0;
}

Test(mmu_context, freed_page_tables_reach_a_lazy_cpu_which_drops_the_mm)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats a, d;

	run_one(m, 1, cache_one_page, &s);
	a = test_stats(m);
	run_one(m, 0, unmap_all, &s);	/* the page table goes too */
	run_one(m, 1, check_unmapped, &s);
	assert_tasks_ok();
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(d.ipis_avoided_lazy, 0, "lazy cpu skipped though page "
		     "tables were freed");
	cr_assert_eq(d.ipis_sent, 1);
	cr_assert_null(s.active, "cpu 1 still had the mm loaded");
	cr_assert_eq(s.rc[0], -EFAULT);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

/*
 * Was a BUG (zap_range(), then in runtime/mm.c, now memory.c zap_one(),
 * "leaf->nr_present--"): zap_range() decremented the leaf's nr_present for every PTE that has a frame, present
 * or not, but shd_mprotect() already decremented it when the PTE went
 * PROT_NONE (not present).  mprotect(PROT_NONE) then munmap therefore wraps
 * nr_present to UINT_MAX: the empty leaf is never freed (a leak), the munmap
 * does not count as freeing page tables, and lazy CPUs are skipped where the
 * same munmap without the mprotect reaches them.
 */
Test(mmu_context, munmap_after_mprotect_none_still_frees_the_page_table)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats a, d;

	run_one(m, 1, cache_one_page, &s);
	a = test_stats(m);
	run_one(m, 0, protnone_then_unmap_all, &s);
	run_one(m, 1, check_unmapped, &s);
	assert_tasks_ok();
	d = stats_delta(&a, test_stats(m));
	/* The mprotect skips lazy cpu 1; the munmap must not. */
	cr_assert_eq(d.ipis_avoided_lazy, 1, "avoided_lazy %lu",
		     (unsigned long)d.ipis_avoided_lazy);
	cr_assert_null(s.active, "cpu 1 still had the mm loaded: the page "
		       "table was not freed");
	cr_assert_eq(s.rc[0], -EFAULT);
	shd_machine_destroy(m);
}

/* ---- the initiator's own cached context of an mm it is not running ---- */

struct away {
	struct shd_mm *a, *b;
	int rc;
	uint64_t v;
};

static int change_while_away(struct shd_cpu *cpu, void *arg)
{
	struct away *w = arg;

	T_OK(shd_switch_mm(cpu, w->a));
	T_OK(shd_mmap(cpu, w->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x11));	/* cached writable in a's slot */
	T_OK(shd_switch_mm(cpu, w->b));		/* a's slot stays cached */
	T_OK(shd_mprotect(cpu, w->a, UBASE, PAGE, SHD_PROT_READ));
	T_OK(shd_switch_mm(cpu, w->a));
	w->rc = shd_store(cpu, UBASE, 0x12);
	T_OK(shd_load(cpu, UBASE, &w->v));
	return 0;
}

static void initiator_away(const char *policy)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = policy);
	struct away w = { test_mm(m), test_mm(m), 0, 0 };

	run_one(m, 0, change_while_away, &w);
	assert_tasks_ok();
	cr_assert_eq(w.rc, -EACCES, "%s: wrote through the initiator's stale "
		     "entry: %d", policy, w.rc);
	cr_assert_eq(w.v, 0x11);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

/*
 * Under broadcast, this was a BUG (runtime/tlbflush.c do_flush():
 * `local = ... f->mm == cpu->loaded_mm`):
 * the initiator flushes itself only when it has the mm loaded.  Under
 * broadcast (no prune, no lazy: shd__policy_may_miss() is false) switch_mm
 * never flushes a cached ASID slot on switch-in, and remote targets do flush
 * a not-loaded mm's slot (flush_tlb_func's asid_of() path), but the
 * initiator's own slot for that mm is never flushed.  CPU 0 caches a page of
 * mm a, switches to b, mprotects a's page read-only, switches back to a and
 * writes through the stale writable entry (store returns 0, the oracle
 * reports a stale TLB hit).  Also seen in the randomised stress as
 * "stale TLB hit: cpu 0 ... flush_tlb_range" under broadcast.
 */
POLICY_PARAMS(mmu_context, an_initiator_switching_back_does_not_use_its_stale_context)
ParameterizedTest(const struct preset_param *policy, mmu_context,
		  an_initiator_switching_back_does_not_use_its_stale_context)
{
	initiator_away(policy->name);
}

/* ---- switch=6.13: the lazy mm_cpumask and loaded_mm ---- */

static int leave_for_b(struct shd_cpu *cpu, void *arg)
{
	struct away *w = arg;

	T_OK(shd_switch_mm(cpu, w->a));
	T_OK(shd_store(cpu, UBASE, 0x21));	/* cached writable */
	T_OK(shd_switch_mm(cpu, w->b));		/* its bit in a's mask stays */
	return 0;
}

struct left {
	struct away w;
	int step;
};

/* Cpu 1 runs a, then b (not lazy: it waits in b) while cpu 0 protects
 * a; then it comes back to a. */
static int left_in_mask(struct shd_cpu *cpu, void *arg)
{
	struct left *l = arg;

	if (shd_cpu_id(cpu) == 1) {
		T_OK(shd_switch_mm(cpu, l->w.a));
		T_OK(shd_store(cpu, UBASE, 0x21));	/* cached writable */
		T_OK(shd_switch_mm(cpu, l->w.b));	/* its bit in a stays */
		step_set(&l->step, 1);
		step_wait(cpu, &l->step, 2);
		T_OK(shd_switch_mm(cpu, l->w.a));	/* its slot is behind */
		l->w.rc = shd_store(cpu, UBASE, 0x22);
		T_OK(shd_load(cpu, UBASE, &l->w.v));
		return 0;
	}
	T_OK(shd_switch_mm(cpu, l->w.a));
	step_wait(cpu, &l->step, 1);
	T_OK(shd_mprotect(cpu, l->w.a, UBASE, PAGE, SHD_PROT_READ));
	step_set(&l->step, 2);
	return 0;
}

static int map_a(struct shd_cpu *cpu, void *arg)
{
	struct away *w = arg;

	T_OK(shd_switch_mm(cpu, w->a));
	T_OK(shd_mmap(cpu, w->a, UBASE, PAGE, RW));
	return 0;
}

/* 6.13 (209954cbc7d0, then should_flush_tlb()): a CPU that left an mm
 * stays in its mask; a flush reads its loaded_mm, finds another mm and
 * skips it, and switching back catches up by tlb_gen. */
Test(mmu_context, linux_6_13_skips_a_cpu_left_in_the_mask_by_its_loaded_mm)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = "linux");
	struct left l = { .w = { test_mm(m), test_mm(m), 0, 0 } };
	struct shd_stats a, d;

	run_one(m, 0, map_a, &l.w);
	a = test_stats(m);
	cr_assert_eq(shd_run_on(m, 0, 2, left_in_mask, &l), 0);
	assert_tasks_ok();
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(d.flush_calls, 1);	/* the mprotect */
	cr_assert_eq(d.ipis_sent, 0);
	cr_assert_eq(d.ipis_avoided_lazy, 0);
	cr_assert_eq(d.ipis_avoided_pruned, 1, "cpu 1 runs b: pruned by "
		     "loaded_mm, not sent to");
	cr_assert_eq(l.w.rc, -EACCES, "wrote through a stale entry");
	cr_assert_eq(l.w.v, 0x21);
	cr_assert_gt(test_stats(m).switch_flushes, 0);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

static int unmap_a(struct shd_cpu *cpu, void *arg)
{
	struct away *w = arg;

	T_OK(shd_switch_mm(cpu, w->a));
	T_OK(shd_munmap(cpu, w->a, UBASE, PAGE));	/* the table goes too */
	T_OK(shd_mmap(cpu, w->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x23));	/* a table for the next one */
	return 0;
}

/* Freed page tables reach every CPU in the lazy mask; one running
 * another mm clears its bit (flush_tlb_func()), so the next such flush
 * no longer reaches it. */
Test(mmu_context, linux_6_13_trims_the_mask_when_freed_tables_reach_a_cpu_gone)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = "linux");
	struct away w = { test_mm(m), test_mm(m), 0, 0 };
	struct shd_stats a, d;

	run_one(m, 0, map_a, &w);
	run_one(m, 1, leave_for_b, &w);
	a = test_stats(m);
	run_one(m, 0, unmap_a, &w);
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(d.ipis_sent, 1, "freed tables must reach cpu 1");
	a = test_stats(m);
	run_one(m, 0, unmap_a, &w);
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(d.ipis_sent, 0, "cpu 1 did not clear its bit");
	cr_assert_eq(d.ipis_avoided_pruned, 1);
	assert_tasks_ok();
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}
