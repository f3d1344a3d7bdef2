/* SPDX-License-Identifier: MIT */
/* Tests of the oracle: it catches every mm/TLB fault, and only then; its reports. */
#include <inttypes.h>

#include "shd_test.h"

/* ---- skip_remote_ipi: cpu 1 keeps a translation cpu 0 unmapped ---- */

/*
 * Cpu 1 stores STORED to the first of NPAGES pages cpu 0 mapped, cpu 0
 * unmaps that page, cpu 1 loads it again.  With two pages the page table
 * stays; with one it is freed too.
 */
static void remote_unmap(struct shd_cpu *cpu, struct orc *o, uint64_t npages,
			 uint64_t stored)
{
	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, o->a, UBASE, npages * PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, stored));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
}

static int remote_unmap_task(struct shd_cpu *cpu, void *arg)
{
	remote_unmap(cpu, arg, 2, 0x42);	/* the page table stays */
	return 0;
}

static void skip_remote_ipi(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, remote_unmap_task, o), 0);
}

/* ---- skip_local_flush: cpu 0 keeps a translation it unmapped itself ---- */

static int self_unmap_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x43));
	T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_local_flush(struct shd_machine *m, struct orc *o)
{
	run_one(m, 0, self_unmap_task, o);
}

/* ---- ignore_tlb_gen: cpu 1 comes back to an mm it was pruned from ---- */

static int gen_setup(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	return 0;
}

static int gen_cache_then_leave(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_store(cpu, UBASE + 8, 0x44));
	T_OK(shd_switch_mm(cpu, o->b));	/* leaves a's mm_cpumask */
	return 0;
}

static int gen_protect(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mprotect(cpu, o->a, UBASE, PAGE, SHD_PROT_READ));
	return 0;
}

static int gen_return(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));	/* its ASID slot is behind */
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void ignore_tlb_gen(struct shd_machine *m, struct orc *o)
{
	struct shd_stats st;

	run_one(m, 0, gen_setup, o);
	run_one(m, 1, gen_cache_then_leave, o);
	run_one(m, 0, gen_protect, o);
	shd_machine_stats(m, &st);
	/* The path under test: cpu 1 was skipped, not interrupted (pruned
	 * under 6.12; under 6.13's lazy mask it keeps its bit in a, and
	 * should_flush_tlb() skips it as lazy: idle after b). */
	cr_assert_eq(st.ipis_avoided_pruned + st.ipis_avoided_lazy, 1);
	cr_assert_eq(st.ipis_sent, 0);
	run_one(m, 1, gen_return, o);
}

/* ---- drop_lazy_flush: cpu 1 leaves lazy mode behind ---- */

static int lazy_cache(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x45));
	return 0;	/* lazy from here */
}

static int lazy_return(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));	/* prev == next: leave lazy mode */
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void drop_lazy_flush(struct shd_machine *m, struct orc *o)
{
	struct shd_stats st;

	run_one(m, 1, lazy_cache, o);
	run_one(m, 0, gen_protect, o);	/* mprotect frees no page table */
	shd_machine_stats(m, &st);
	cr_assert_eq(st.ipis_avoided_lazy, 1);
	cr_assert_eq(st.ipis_sent, 0);
	run_one(m, 1, lazy_return, o);
}

/* ---- range_short: the last page of a partial flush survives ---- */

static int short_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, o->a, UBASE, 8 * PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		/* 4 pages, under the 33-page ceiling: a partial flush. */
		T_OK(shd_munmap(cpu, o->a, UBASE, 4 * PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE, 0x1));
		T_OK(shd_store(cpu, UBASE + 3 * PAGE + 8, 0x46));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 3 * PAGE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void range_short(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, short_task, o), 0);
}

/*
 * ---- free_before_flush: cpu 1 reads a frame munmap freed before its flush ----
 *
 * With the fault, munmap's mmu_gather releases the frames and only then sends
 * the flush; cpu 1, which holds a translation of the first page, drops it
 * when it takes that IPI, at its next access.  Only its loads in between use
 * the freed frame, and nothing in the library lets a test stop cpu 0 inside
 * that window (it holds the mm lock and takes no IPIs between freeing the
 * frames and sending the requests).  So the scenario is a bounded loop: each
 * attempt unmaps UAF_PAGES touched pages with the watched page the lowest,
 * first in the gather, so its frame is freed first and the IPI goes only
 * after the other UAF_PAGES - 1 frames; cpu 1 loads it in a loop until it
 * faults.  Attempts stop at the first report.  Without the fault every hit
 * is before the flush and the frame still belongs to the page: nothing.
 */
#define UAF_PAGES	64
#define UAF_TRIES	2000

static int free_early_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	for (unsigned i = 0; i < o->max_tries; i++) {
		int base = 4 * (int)i;

		if (shd_cpu_id(cpu) == 0) {
			T_OK(shd_mmap(cpu, o->a, UBASE, UAF_PAGES * PAGE, RW));
			for (uint64_t p = 0; p < UAF_PAGES; p++)
				T_OK(shd_store(cpu, UBASE + p * PAGE + 8, 0x48));
			step_set(&o->step, base + 1);
			step_wait(cpu, &o->step, base + 2);
			T_OK(shd_munmap(cpu, o->a, UBASE, UAF_PAGES * PAGE));
			step_wait(cpu, &o->step, base + 3);
			o->tries = i + 1;
			if (shd_machine_violations(o->m, NULL, 0))
				__atomic_store_n(&o->stop, 1, __ATOMIC_RELAXED);
			step_set(&o->step, base + 4);
		} else {
			uint64_t before = shd_machine_violations(o->m, NULL, 0);
			uint64_t v = 0, hit = 0;
			int rc;

			step_wait(cpu, &o->step, base + 1);
			T_OK(shd_load(cpu, UBASE + 8, &v));	/* cached */
			step_set(&o->step, base + 2);
			/* Hits until the flush reaches this CPU, then a fault. */
			while ((rc = shd_load(cpu, UBASE + 8, &v)) == 0) {
				T_EQ((int)v, 0x48);
				hit = v;
				/* Yield (a load need not): cpu 0 runs
				 * under any strategy; take its IPI. */
				shd_cpu_poll(cpu);
			}
			T_EQ(rc, -EFAULT);
			if (shd_machine_violations(o->m, NULL, 0) > before) {
				o->rc = 0;	/* one of the hits was reported */
				o->val = hit;
			} else {
				o->rc = rc;
				o->val = v;
			}
			step_set(&o->step, base + 3);
		}
		if (shd_cpu_id(cpu) != 0)
			step_wait(cpu, &o->step, base + 4);
		if (__atomic_load_n(&o->stop, __ATOMIC_RELAXED))
			break;
	}
	return 0;
}

static void free_before_flush(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, free_early_task, o), 0);
}

/*
 * ---- skip_batched_pending: munmap finds the PTE reclaim cleared ----
 *
 * cpu 1 holds a writable translation of P; cpu 0 reclaims P with the flush
 * deferred to its batch (cpu 1 is in the mm), then munmaps exactly P: there
 * is nothing left to zap, so only flush_tlb_batched_pending() removes cpu
 * 1's entry before munmap returns.  The batch itself is flushed only when
 * cpu 0's task returns, after cpu 1's access.
 */
static int batched_pending_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		/* Two pages: unmapping one keeps the page table. */
		T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		T_EQ(shd_try_to_unmap(cpu, o->a, UBASE), 1);
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, 0x49));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void skip_batched_pending(struct shd_machine *m, struct orc *o)
{
	bool faulty = shd_machine_config(m)->faults &
		      (1ull << SHD_FAULT_SKIP_BATCHED_PENDING);
	struct shd_stats st;

	cr_assert_eq(shd_run_on(m, 0, 2, batched_pending_task, o), 0);
	shd_machine_stats(m, &st);
	/* The path under test: the reclaim flush was deferred, and only
	 * the batched-pending flush (if any) ran before cpu 1's access. */
	cr_assert_eq(st.reclaim_pages, 1);
	cr_assert_eq(st.tlbbatch_pages, 1);
	cr_assert_eq(st.tlbbatch_flushes, 1, "flushed at the task's return");
	cr_assert_eq(st.batched_pending_flushes, faulty ? 0 : 1);
}

/* ---- async_early_free: LATR frees before cpu 1 has swept ---- */

/*
 * Under LATR cpu 0's munmap returns before cpu 1 has swept its flush; cpu 1
 * keeps using its old translation until it does (legal: the frame stays
 * until then).  Both wait without polling, so nothing sweeps or interrupts
 * before cpu 1 loads through the entry: clean, that reads the old value;
 * with the frame freed at the post, it is a use after free.
 */
static int early_free_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
		T_OK(shd_store(cpu, UBASE + 8, 0x4a));
		step_set(&o->step, 1);
		while (__atomic_load_n(&o->step, __ATOMIC_ACQUIRE) < 2)
			shd_cpu_poll(cpu);
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		/* No polling either: our tick would interrupt cpu 1 once
		 * async_us passed, and our task's end interrupts it anyway. */
		while (__atomic_load_n(&o->step, __ATOMIC_ACQUIRE) < 4)
			T_OK(shd_cpu_compute(cpu, 1000));
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_load(cpu, UBASE + 8, &o->val));	/* cached */
		step_set(&o->step, 2);
		/* No polling: a LATR sweep would remove the entry. */
		while (__atomic_load_n(&o->step, __ATOMIC_ACQUIRE) < 3)
			T_OK(shd_cpu_compute(cpu, 1000));
		o->val = 0;
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void async_early_free(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, early_free_task, o), 0);
}

/* ---- the table: one scenario per mm/TLB fault, in enum order ---- */

static const struct fault_scenario scenarios[SHD_FAULT__COUNT] = {
	[SHD_FAULT_SKIP_REMOTE_IPI] = { "skip_remote_ipi", skip_remote_ipi, 1,
		UBASE + 8, -EFAULT, 0x42, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_SKIP_LOCAL_FLUSH] = { "skip_local_flush", skip_local_flush, 0,
		UBASE + 8, -EFAULT, 0x43, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_IGNORE_TLB_GEN] = { "ignore_tlb_gen", ignore_tlb_gen, 1,
		UBASE + 8, 0, 0x44, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_DROP_LAZY_FLUSH] = { "drop_lazy_flush", drop_lazy_flush, 1,
		UBASE + 8, 0, 0x45, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_RANGE_SHORT] = { "range_short", range_short, 1,
		UBASE + 3 * PAGE + 8, -EFAULT, 0x46, SHD_VIOLATION_STALE_TLB,
		"flush_tlb_range", 0 },
	[SHD_FAULT_FREE_BEFORE_FLUSH] = { "free_before_flush", free_before_flush,
		1, UBASE + 8, -EFAULT, 0x48, SHD_VIOLATION_USE_AFTER_FREE,
		"none", UAF_TRIES },
	[SHD_FAULT_SKIP_BATCHED_PENDING] = { "skip_batched_pending",
		skip_batched_pending, 1, UBASE + 8, -EFAULT, 0x49,
		SHD_VIOLATION_STALE_TLB, "flush_tlb_range", 0 },
	[SHD_FAULT_ASYNC_EARLY_FREE] = { "async_early_free", async_early_free,
		1, UBASE + 8, 0, 0x4a, SHD_VIOLATION_USE_AFTER_FREE, "none", 0,
		"latr" },
};

/* Each injectable fault has a scenario here, or in test_oracle_cache.c
 * (the cache faults, from skip_flush_dcache_page on). */
Test(oracle, every_injectable_fault_has_a_scenario)
{
	size_t n = 0;
	const struct shd_named *f = shd_faults(&n);

	cr_assert_eq(n, SHD_FAULT__COUNT, "shd_faults() lists %zu faults", n);
	for (size_t i = 0; i < SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE; i++) {
		cr_assert_not_null(scenarios[i].fn, "no scenario for %s",
				   f[i].name);
		cr_assert_str_eq(f[i].name, scenarios[i].name);
	}
}

/* One test per mm/TLB fault: its scenario run with the fault and without. */
ParameterizedTestParameters(oracle, catches_each_injected_fault)
{
	static enum shd_fault faults[] = {
		SHD_FAULT_SKIP_REMOTE_IPI,
		SHD_FAULT_SKIP_LOCAL_FLUSH,
		SHD_FAULT_IGNORE_TLB_GEN,
		SHD_FAULT_DROP_LAZY_FLUSH,
		SHD_FAULT_RANGE_SHORT,
		SHD_FAULT_FREE_BEFORE_FLUSH,
		SHD_FAULT_SKIP_BATCHED_PENDING,
		SHD_FAULT_ASYNC_EARLY_FREE,
	};

	return cr_make_param_array(enum shd_fault, faults, ARRAY_LEN(faults));
}

ParameterizedTest(const enum shd_fault *fault, oracle, catches_each_injected_fault)
{
	check_fault(scenarios, *fault);
}

Test(oracle, a_fault_outside_the_scenarios_path_is_not_reported)
{
	/* skip_local_flush does not matter when only a remote CPU caches. */
	struct outcome o = run_scenario(skip_remote_ipi, 2,
					1ull << SHD_FAULT_SKIP_LOCAL_FLUSH, true);

	cr_assert_eq(o.nviol, 0, "%s", o.first.text);
	cr_assert_eq(o.rc, -EFAULT);
}

/* A firing is a divergence, not a test of the predicate: skip_remote_ipi
 * on a flush with no other CPU to send to changes nothing and counts
 * nothing; skip_local_flush beside it does skip the local flush. */
static int local_only_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x47));
	T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
	return 0;
}

static void local_only(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 1, local_only_task, o), 0);
}

Test(oracle, a_fault_counts_a_firing_only_where_it_changes_something)
{
	struct outcome o = run_scenario(local_only, 1,
					1ull << SHD_FAULT_SKIP_REMOTE_IPI |
					1ull << SHD_FAULT_SKIP_LOCAL_FLUSH, true);

	cr_assert_eq(o.fired[SHD_FAULT_SKIP_REMOTE_IPI], 0, "no remote target");
	cr_assert_geq(o.fired[SHD_FAULT_SKIP_LOCAL_FLUSH], 1);
	cr_assert_eq(o.fired[SHD_FAULT_RANGE_SHORT], 0, "not injected");
	/* The faults' own path: skip_remote_ipi's scenario does send. */
	o = run_scenario(skip_remote_ipi, 2, 1ull << SHD_FAULT_SKIP_REMOTE_IPI,
			 true);
	cr_assert_geq(o.fired[SHD_FAULT_SKIP_REMOTE_IPI], 1);
}

Test(oracle, with_the_oracle_off_nothing_is_reported)
{
	struct outcome o = run_scenario(skip_local_flush, 2,
					1ull << SHD_FAULT_SKIP_LOCAL_FLUSH, false);

	cr_assert_eq(o.rc, 0, "the stale hit still happens");
	cr_assert_eq(o.nviol, 0);
}

/* ---- reports ---- */

static int many_stale_hits(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_mprotect(cpu, o->a, UBASE, PAGE, SHD_PROT_READ));
	for (int i = 0; i < 20; i++)
		T_OK(shd_load(cpu, UBASE, &v));
	return 0;
}

Test(oracle, keeps_the_first_16_reports_and_counts_them_all)
{
	struct shd_config c = test_config(2, "linux");
	struct shd_machine *m;
	struct shd_violation v[20];
	struct orc o;

	c.faults = 1ull << SHD_FAULT_SKIP_LOCAL_FLUSH;
	m = test_machine(&c);
	memset(&o, 0, sizeof(o));
	memset(v, 0, sizeof(v));
	o.a = test_mm(m);
	run_one(m, 0, many_stale_hits, &o);
	assert_tasks_ok();
	cr_assert_eq(shd_machine_violations(m, v, 20), 20);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 20);
	cr_assert_eq(test_stats(m).violations, 20);
	for (int i = 0; i < 16; i++)
		cr_assert_eq(v[i].addr, UBASE, "report %d", i);
	cr_assert_eq(v[16].addr, 0, "more than 16 reports were copied");
	cr_assert_eq(v[16].text[0], '\0');
	shd_machine_destroy(m);
}

/* ---- the oracle across a freed page table ---- */

static int remote_unmap_all_task(struct shd_cpu *cpu, void *arg)
{
	remote_unmap(cpu, arg, 1, 0x47);	/* the page table goes too */
	return 0;
}

static void skip_remote_ipi_freeing_tables(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, remote_unmap_all_task, o), 0);
}

/*
 * Was a BUG (unmap_common(), then in runtime/mm.c, now memory.c
 * shd__unmap_range(), with tlbflush.c shd__flush_tlb_mm_range()): munmap
 * unlinked empty page-table leaves
 * (free_empty_leaves) *before* the flush, and the flush then credits the
 * range by walking mm->pgd (shd__oracle_credit_range), which no longer
 * reaches those leaves; leaves_release() -> shd__oracle_fold_leaf() only
 * folds the whole-mm credit.  So the PTEs of a munmap that frees its page
 * table are never credited, and a stale TLB hit on them afterwards is not
 * reported: with skip_remote_ipi, cpu 1 reads the freed frame (rc 0, old
 * data) and the oracle reports 0 violations.
 */
static struct outcome freeing_tables(const struct fault_row *row,
				     uint64_t faults)
{
	(void)row;
	return run_scenario(skip_remote_ipi_freeing_tables, 2, faults, true);
}

static const struct fault_row freed_table_rows[] = {
	{ "a munmap that frees its page table", freeing_tables, NULL, NULL,
	  SHD_FAULT_SKIP_REMOTE_IPI, false, -EFAULT, 0, 0, NULL, 0, 0 },
	/* The stale hit happened (cpu 1 read the freed frame) and is
	 * reported. */
	{ "a munmap that frees its page table", freeing_tables, NULL, NULL,
	  SHD_FAULT_SKIP_REMOTE_IPI, true, 0, 0x47, 1, NULL, 0, 0 },
};

TABLE_PARAMS(oracle, catches_a_stale_hit_after_a_munmap_that_freed_the_page_table,
	     freed_table_rows)
ParameterizedTest(const size_t *row, oracle,
		  catches_a_stale_hit_after_a_munmap_that_freed_the_page_table)
{
	check_fault_row(&freed_table_rows[*row]);
}
