/* SPDX-License-Identifier: MIT */
/* Tests that the oracle catches every injectable fault, and only then. */
#include <inttypes.h>

#include "shd_test.h"

#define RW (SHD_PROT_READ | SHD_PROT_WRITE)

/*
 * Each scenario is small and deterministic and drives exactly the path its
 * fault breaks.  Run without the fault it must report nothing; with it, at
 * least one stale-TLB violation on the CPU that holds the stale entry.
 */
struct orc {
	struct shd_mm *a, *b;
	int step;
	int rc;		/* the access that must not use a stale entry */
	uint64_t val;
};

struct outcome {
	uint64_t nviol;
	struct shd_violation first;
	int rc;
	uint64_t val;
	uint64_t mm_id;
};

typedef void (*scenario_fn)(struct shd_machine *m, struct orc *o);

static struct outcome run_scenario(scenario_fn fn, unsigned ncpus,
				   uint64_t faults, bool oracle)
{
	struct shd_config c = test_config(ncpus, "linux");
	struct shd_machine *m;
	struct orc o;
	struct outcome out;
	struct shd_stats st;

	c.faults = faults;
	c.oracle = oracle;
	m = test_machine(&c);
	memset(&o, 0, sizeof(o));
	o.a = test_mm(m);
	o.b = test_mm(m);
	fn(m, &o);
	assert_tasks_ok();
	memset(&out, 0, sizeof(out));
	out.nviol = shd_machine_violations(m, &out.first, 1);
	shd_machine_stats(m, &st);
	cr_assert_eq(st.violations, out.nviol, "stats say %" PRIu64 ", reports "
		     "say %" PRIu64, st.violations, out.nviol);
	out.rc = o.rc;
	out.val = o.val;
	out.mm_id = shd_mm_id(o.a);
	shd_machine_destroy(m);
	return out;
}

/* ---- skip_remote_ipi: cpu 1 keeps a translation cpu 0 unmapped ---- */

static int remote_unmap_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		/* Two pages: unmapping one keeps the page table. */
		T_OK(shd_mmap(cpu, o->a, UBASE, 2 * PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, 0x42));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
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
	/* The path under test: cpu 1 was pruned, not interrupted. */
	cr_assert_eq(st.ipis_avoided_pruned, 1);
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

/* ---- the table: one scenario per fault, in enum order ---- */

static const struct {
	const char *name;
	scenario_fn fn;
	unsigned cpu;		/* the CPU left with the stale entry */
	uint64_t addr;
	int clean_rc;		/* the access without the fault */
	uint64_t stale_val;	/* what the stale access reads */
} scenarios[] = {
	[SHD_FAULT_SKIP_REMOTE_IPI] = { "skip_remote_ipi", skip_remote_ipi, 1,
		UBASE + 8, -EFAULT, 0x42 },
	[SHD_FAULT_SKIP_LOCAL_FLUSH] = { "skip_local_flush", skip_local_flush, 0,
		UBASE + 8, -EFAULT, 0x43 },
	[SHD_FAULT_IGNORE_TLB_GEN] = { "ignore_tlb_gen", ignore_tlb_gen, 1,
		UBASE + 8, 0, 0x44 },
	[SHD_FAULT_DROP_LAZY_FLUSH] = { "drop_lazy_flush", drop_lazy_flush, 1,
		UBASE + 8, 0, 0x45 },
	[SHD_FAULT_RANGE_SHORT] = { "range_short", range_short, 1,
		UBASE + 3 * PAGE + 8, -EFAULT, 0x46 },
};

#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

Test(oracle, every_injectable_fault_has_a_scenario)
{
	size_t n = 0;
	const struct shd_named *f = shd_faults(&n);

	cr_assert_eq(n, NSCENARIOS, "shd_faults() lists %zu faults, this file "
		     "tests %zu: add a scenario", n, NSCENARIOS);
	for (size_t i = 0; i < n; i++)
		cr_assert_str_eq(f[i].name, scenarios[i].name);
}

static void check_fault(enum shd_fault fault)
{
	struct outcome clean, bad;
	char seed[32];

	clean = run_scenario(scenarios[fault].fn, 2, 0, true);
	cr_assert_eq(clean.nviol, 0, "%s scenario without the fault: %s",
		     scenarios[fault].name, clean.first.text);
	cr_assert_eq(clean.rc, scenarios[fault].clean_rc,
		     "%s scenario without the fault: access returned %d",
		     scenarios[fault].name, clean.rc);

	bad = run_scenario(scenarios[fault].fn, 2, 1ull << fault, true);
	cr_assert_geq(bad.nviol, 1, "oracle missed fault %s",
		      scenarios[fault].name);
	/* The stale hit really used the old translation. */
	cr_assert_eq(bad.rc, 0, "%s: %d", scenarios[fault].name, bad.rc);
	cr_assert_eq(bad.val, scenarios[fault].stale_val);

	cr_assert_eq(bad.first.kind, SHD_VIOLATION_STALE_TLB);
	cr_assert_eq(bad.first.cpu, scenarios[fault].cpu);
	cr_assert_eq(bad.first.mm_id, bad.mm_id);
	cr_assert_eq(bad.first.addr, scenarios[fault].addr);
	cr_assert_eq(bad.first.seed, TEST_SEED);
	cr_assert_str_eq(bad.first.interface, "flush_tlb_range");
	cr_assert_lt(bad.first.entry_version, bad.first.flushed_version);
	snprintf(seed, sizeof(seed), "seed %" PRIu64, (uint64_t)TEST_SEED);
	cr_assert_not_null(strstr(bad.first.text, scenarios[fault].cpu ?
				  "cpu 1" : "cpu 0"), "%s", bad.first.text);
	cr_assert_not_null(strstr(bad.first.text, "flush_tlb_range"), "%s",
			   bad.first.text);
	cr_assert_not_null(strstr(bad.first.text, seed), "%s", bad.first.text);
}

Test(oracle, catches_skip_remote_ipi)
{
	check_fault(SHD_FAULT_SKIP_REMOTE_IPI);
}

Test(oracle, catches_skip_local_flush)
{
	check_fault(SHD_FAULT_SKIP_LOCAL_FLUSH);
}

Test(oracle, catches_ignore_tlb_gen)
{
	check_fault(SHD_FAULT_IGNORE_TLB_GEN);
}

Test(oracle, catches_drop_lazy_flush)
{
	check_fault(SHD_FAULT_DROP_LAZY_FLUSH);
}

Test(oracle, catches_range_short)
{
	check_fault(SHD_FAULT_RANGE_SHORT);
}

Test(oracle, a_fault_outside_the_scenarios_path_is_not_reported)
{
	/* skip_local_flush does not matter when only a remote CPU caches. */
	struct outcome o = run_scenario(skip_remote_ipi, 2,
					1ull << SHD_FAULT_SKIP_LOCAL_FLUSH, true);

	cr_assert_eq(o.nviol, 0, "%s", o.first.text);
	cr_assert_eq(o.rc, -EFAULT);
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
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		/* The whole mapping: its page table is freed too. */
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_store(cpu, UBASE + 8, 0x47));
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void skip_remote_ipi_freeing_tables(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, remote_unmap_all_task, o), 0);
}

/*
 * BUG (runtime/mm.c unmap_common() with runtime/tlbflush.c
 * shd__flush_tlb_mm_range()): munmap unlinks empty page-table leaves
 * (free_empty_leaves) *before* the flush, and the flush then credits the
 * range by walking mm->pgd (shd__oracle_credit_range), which no longer
 * reaches those leaves; leaves_release() -> shd__oracle_fold_leaf() only
 * folds the whole-mm credit.  So the PTEs of a munmap that frees its page
 * table are never credited, and a stale TLB hit on them afterwards is not
 * reported: with skip_remote_ipi, cpu 1 reads the freed frame (rc 0, old
 * data) and the oracle reports 0 violations.
 */
Test(oracle, catches_a_stale_hit_after_a_munmap_that_freed_the_page_table)
{
	struct outcome clean, bad;

	clean = run_scenario(skip_remote_ipi_freeing_tables, 2, 0, true);
	cr_assert_eq(clean.nviol, 0);
	cr_assert_eq(clean.rc, -EFAULT);
	bad = run_scenario(skip_remote_ipi_freeing_tables, 2,
			   1ull << SHD_FAULT_SKIP_REMOTE_IPI, true);
	cr_assert_eq(bad.rc, 0, "no stale hit happened: %d", bad.rc);
	cr_assert_eq(bad.val, 0x47);
	cr_assert_geq(bad.nviol, 1, "stale hit on a freed page table's PTE "
		      "was not reported");
}
