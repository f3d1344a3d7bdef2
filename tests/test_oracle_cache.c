/* SPDX-License-Identifier: MIT */
/* Tests that the oracle catches every cache fault (stale data, stale instructions, order). */
#include <inttypes.h>

#include "shd_test.h"

/* The scenarios below that need one file of one page: TASK on CPUs
 * 0..N-1 with it in O->f. */
static void file_scenario(struct shd_machine *m, struct orc *o, unsigned n,
			  shd_task_fn task)
{
	cr_assert_eq(shd_file_create(m, 1, &o->f), 0);
	cr_assert_eq(shd_run_on(m, 0, n, task, o), 0);
	shd_file_destroy(o->f);
}

/* ---- cache faults (sparc64: aliasing, write-through D-cache) ---- */

/*
 * The file's page is the first frame a fresh machine hands out after the
 * zero page (frame 1: kernel colour 1); the user maps it at UBASE (colour
 * 0).  Cpu 0 reads it (a colour-0 line), the kernel writes the same word
 * through colour 1: without flush_dcache_page cpu 0's colour-0 line stays
 * stale.
 */
static int skip_dflush_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ, SHD_MAP_SHARED,
			   o->f, 0));
	T_OK(shd_load(cpu, UBASE + 8, &v));
	T_OK(shd_file_write(cpu, o->f, 8, 0x4b));
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_flush_dcache_page(struct shd_machine *m, struct orc *o)
{
	file_scenario(m, o, 1, skip_dflush_task);
}

/*
 * Cpu 0 reads the page (colour-0 line), unmaps it, and writes it through
 * the kernel: nobody maps the file, so flush_dcache_page only marks the
 * page for cpu 0.  Cpu 1 maps and reads it: its update_mmu_cache must flush
 * on cpu 0.  Cpu 0 then reads through cpu 1's mapping without faulting.
 */
static int wrong_cpu_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		T_OK(shd_file_write(cpu, o->f, 8, 0x4c));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 3);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_EQ((int)(v == 0x4c), 1);
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
	}
	return 0;
}

static void deferred_flush_wrong_cpu(struct shd_machine *m, struct orc *o)
{
	file_scenario(m, o, 2, wrong_cpu_task);
}

/*
 * The tracee reads its page at UBASE (colour 0; its frame is frame 1,
 * kernel colour 1); the tracer on the same CPU pokes the word through the
 * kernel alias: without copy_to_user_page's flush the tracee's colour-0
 * line stays stale.
 */
static int ptrace_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 1));
	T_OK(shd_load(cpu, UBASE + 8, &v));
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, o->a, UBASE + 8, 0x4d));
	T_OK(shd_switch_mm(cpu, o->a));
	o->rc = shd_load(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_ptrace_flush(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 1, ptrace_task, o), 0);
}

/*
 * Cpu 0 reads the page (a colour-0 line), unmaps it and writes the word
 * through the kernel (colour 1): the page is marked dirty on cpu 0.  Cpu 1
 * writes another line of it: flush_dcache_page must first flush the page
 * on cpu 0 before taking the mark.  Cpu 1 maps and reads the page (its
 * update_mmu_cache flushes where the mark says, cpu 1), and cpu 0 reads
 * the word through that mapping.
 */
static int overwritten_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
		T_OK(shd_file_write(cpu, o->f, 8, 0x4e));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		o->rc = shd_load(cpu, UBASE + 8, &o->val);
		step_set(&o->step, 3);
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_file_write(cpu, o->f, 8 + 128, 0x4f));
		T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, o->f, 0));
		T_OK(shd_load(cpu, UBASE + 8, &v));
		T_EQ((int)(v == 0x4e), 1);
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
	}
	return 0;
}

static void arch1_overwritten(struct shd_machine *m, struct orc *o)
{
	file_scenario(m, o, 2, overwritten_task);
}

/* ---- I-cache faults (arm64: an I-cache that does not snoop stores) ---- */

/*
 * Cpu 0 maps the file's page executable and fetches a word: set_pte_at
 * syncs the page (PG_dcache_clean set) and the fetch leaves an I-line.  It
 * unmaps the page, the kernel writes the word (flush_dcache_page must clear
 * PG_dcache_clean), and cpu 0 maps and fetches it again: only a cleared
 * mark makes the new set_pte_at invalidate the old I-line.  Every write is
 * the kernel's (no user store ever reaches the frame), so the oracle
 * judges the fetch.
 */
static int arch1_not_cleared_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v = 1;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, RX, SHD_MAP_SHARED, o->f, 0));
	T_OK(shd_fetch(cpu, UBASE + 8, &v));
	T_EQ((int)v, 0);
	T_OK(shd_munmap(cpu, o->a, UBASE, PAGE));
	T_OK(shd_file_write(cpu, o->f, 8, 0x50));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, RX, SHD_MAP_SHARED, o->f, 0));
	o->rc = shd_fetch(cpu, UBASE + 8, &o->val);
	return 0;
}

static void arch1_not_cleared(struct shd_machine *m, struct orc *o)
{
	file_scenario(m, o, 1, arch1_not_cleared_task);
}

/*
 * A debugger patches a private read-only executable file mapping (its
 * text): the first poke copies the page (FOLL_FORCE), the tracee fetches
 * the poked word (an I-line of the copy), the second poke lands in the
 * copy, and the tracee fetches again: only copy_to_user_page's I-cache
 * invalidation drops the line holding the first poke.
 */
static int ptrace_icache_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v = 0;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap_file(cpu, o->a, UBASE, PAGE, RX, SHD_MAP_PRIVATE, o->f, 0));
	T_OK(shd_fetch(cpu, UBASE + 8, &v));
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, o->a, UBASE + 8, 0x51));
	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_fetch(cpu, UBASE + 8, &v));
	T_EQ((int)(v == 0x51), 1);
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, o->a, UBASE + 8, 0x52));
	T_OK(shd_switch_mm(cpu, o->a));
	o->rc = shd_fetch(cpu, UBASE + 8, &o->val);
	return 0;
}

static void skip_ptrace_icache(struct shd_machine *m, struct orc *o)
{
	file_scenario(m, o, 1, ptrace_icache_task);
}

/*
 * A module load: cpu 0 vmaps a page, cpu 1 fetches a word of it (an I-line
 * of the zeroed page), cpu 0 writes the word through the vmap address and
 * calls flush_icache_range(), and cpu 1 fetches again: only the
 * invalidation drops its old line.
 */
static int icache_range_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v = 1;

	T_OK(shd_switch_mm(cpu, o->a));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_vmap(cpu, KBASE, PAGE));
		step_set(&o->step, 1);
		step_wait(cpu, &o->step, 2);
		T_OK(shd_store(cpu, KBASE + 8, 0x53));
		T_OK(shd_flush_icache_range(cpu, KBASE, KBASE + PAGE));
		step_set(&o->step, 3);
		step_wait(cpu, &o->step, 4);
		T_OK(shd_vunmap(cpu, KBASE, PAGE));
	} else {
		step_wait(cpu, &o->step, 1);
		T_OK(shd_fetch(cpu, KBASE + 8, &v));
		T_EQ((int)v, 0);
		step_set(&o->step, 2);
		step_wait(cpu, &o->step, 3);
		o->rc = shd_fetch(cpu, KBASE + 8, &o->val);
		step_set(&o->step, 4);
	}
	return 0;
}

static void skip_flush_icache_range(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 2, icache_range_task, o), 0);
}

/* ---- hypersparc: the cache flush needs the translation; DMA does not
 * snoop ---- */

/*
 * Cpu 0 maps a page, stores to it and unmaps it: munmap must flush the
 * cache while the PTE is there.  With the fault it clears the PTE first
 * (and the oracle reports the PTE change, on cpu 0, at UBASE).
 */
static int order_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_mmap(cpu, o->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x55));
	o->rc = shd_munmap(cpu, o->a, UBASE, PAGE);
	return 0;
}

static void tlb_before_cache(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 1, order_task, o), 0);
}

/*
 * A driver on cpu 0 reads its vmap'd buffer (caching the line), the device
 * writes it (DMA, not snooped), the driver invalidates the alias and reads
 * again: without the invalidate it reads its old line.
 */
static int vmap_io_task(struct shd_cpu *cpu, void *arg)
{
	struct orc *o = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, o->a));
	T_OK(shd_vmap(cpu, KBASE, PAGE));
	T_OK(shd_load(cpu, KBASE + 8, &v));
	T_OK(shd_dma_write(cpu, KBASE + 8, 0x56));
	T_OK(shd_invalidate_kernel_vmap_range(cpu, KBASE + 8, 8));
	o->rc = shd_load(cpu, KBASE + 8, &o->val);
	T_OK(shd_vunmap(cpu, KBASE, PAGE));
	return 0;
}

static void skip_kernel_vmap_invalidate(struct shd_machine *m, struct orc *o)
{
	cr_assert_eq(shd_run_on(m, 0, 1, vmap_io_task, o), 0);
}

/* ---- the table: one scenario per cache fault, in enum order ---- */

static const struct fault_scenario scenarios[SHD_FAULT__COUNT] = {
	[SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE] = { "skip_flush_dcache_page",
		skip_flush_dcache_page, 0, UBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_DATA, "flush_dcache_page", 0, NULL, "sparc64" },
	[SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU] = { "deferred_flush_wrong_cpu",
		deferred_flush_wrong_cpu, 0, UBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_DATA, "flush_dcache_page", 0, NULL, "sparc64" },
	[SHD_FAULT_SKIP_PTRACE_FLUSH] = { "skip_ptrace_flush", skip_ptrace_flush,
		0, UBASE + 8, 0, 1, SHD_VIOLATION_STALE_DATA, "flush_dcache_page",
		0, NULL, "sparc64" },
	[SHD_FAULT_ARCH1_OVERWRITTEN] = { "arch1_overwritten",
		arch1_overwritten, 0, UBASE + 8, 0, 0, SHD_VIOLATION_STALE_DATA,
		"flush_dcache_page", 0, NULL, "sparc64" },
	[SHD_FAULT_ARCH1_NOT_CLEARED] = { "arch1_not_cleared",
		arch1_not_cleared, 0, UBASE + 8, 0, 0, SHD_VIOLATION_STALE_INSN,
		"flush_icache_range", 0, NULL, "arm64" },
	[SHD_FAULT_SKIP_PTRACE_ICACHE] = { "skip_ptrace_icache",
		skip_ptrace_icache, 0, UBASE + 8, 0, 0x51,
		SHD_VIOLATION_STALE_INSN, "flush_icache_range", 0, NULL, "arm64" },
	[SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE] = { "skip_flush_icache_range",
		skip_flush_icache_range, 1, KBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_INSN, "flush_icache_range", 0, NULL, "arm64" },
	[SHD_FAULT_TLB_BEFORE_CACHE] = { "tlb_before_cache", tlb_before_cache,
		0, UBASE, 0, 0, SHD_VIOLATION_ORDERING, "flush_cache_range", 0,
		NULL, "hypersparc" },
	[SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE] = { "skip_kernel_vmap_invalidate",
		skip_kernel_vmap_invalidate, 0, KBASE + 8, 0, 0,
		SHD_VIOLATION_STALE_DATA, "invalidate_kernel_vmap_range", 0, NULL,
		"hypersparc" },

};

/* The cache faults' part of oracle::every_injectable_fault_has_a_scenario
 * (the barrier faults after them have theirs in test_tso.c). */
Test(oracle, every_injectable_cache_fault_has_a_scenario)
{
	size_t n = 0;
	const struct shd_named *f = shd_faults(&n);

	cr_assert_eq(n, SHD_FAULT__COUNT, "shd_faults() lists %zu faults", n);
	for (size_t i = SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE;
	     i < SHD_FAULT_SWITCH_MM_NO_BARRIER; i++) {
		cr_assert_not_null(scenarios[i].fn, "no scenario for %s",
				   f[i].name);
		cr_assert_str_eq(f[i].name, scenarios[i].name);
	}
}

/* One test per cache fault: its scenario run with the fault and without. */
ParameterizedTestParameters(oracle, catches_each_injected_cache_fault)
{
	static enum shd_fault faults[] = {
		SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE,
		SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU,
		SHD_FAULT_ARCH1_OVERWRITTEN,
		SHD_FAULT_SKIP_PTRACE_FLUSH,
		SHD_FAULT_TLB_BEFORE_CACHE,
		SHD_FAULT_SKIP_KERNEL_VMAP_INVALIDATE,
		SHD_FAULT_ARCH1_NOT_CLEARED,
		SHD_FAULT_SKIP_PTRACE_ICACHE,
		SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE,
	};

	return cr_make_param_array(enum shd_fault, faults, ARRAY_LEN(faults));
}

ParameterizedTest(const enum shd_fault *fault, oracle, catches_each_injected_cache_fault)
{
	check_fault(scenarios, *fault);
}

/* The new value each I-cache scenario's last fetch must see. */
static const struct {
	enum shd_fault fault;
	uint64_t want;
} icache_scenarios[] = {
	{ SHD_FAULT_ARCH1_NOT_CLEARED, 0x50 },
	{ SHD_FAULT_SKIP_PTRACE_ICACHE, 0x52 },
	{ SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE, 0x53 },
};

/* The I-cache scenarios where the I-cache snoops (x86, sparc64): the same
 * runs with their faults on cannot go stale (the faults are refused by the
 * CLI there), and without them they fetch the new words. */
Test(oracle, the_icache_scenarios_are_clean_where_the_icache_snoops)
{
	static const char *const arches[] = { "x86", "sparc64" };

	scenario_policy = "linux";
	for (size_t a = 0; a < sizeof(arches) / sizeof(arches[0]); a++) {
		scenario_arch = arches[a];
		for (size_t i = 0; i < sizeof(icache_scenarios) /
					sizeof(icache_scenarios[0]); i++) {
			enum shd_fault f = icache_scenarios[i].fault;
			struct outcome o = run_scenario(scenarios[f].fn, 2,
							1ull << f, true);

			cr_assert_eq(o.nviol, 0, "%s on %s: %s", scenarios[f].name,
				     arches[a], o.first.text);
			cr_assert_eq(o.rc, 0, "%s on %s", scenarios[f].name,
				     arches[a]);
			cr_assert_eq(o.val, icache_scenarios[i].want, "%s on %s: "
				     "0x%" PRIx64, scenarios[f].name, arches[a],
				     o.val);
		}
	}
}

/* Without the faults the I-cache scenarios fetch the new words on arm64,
 * and with the oracle off a faulty run fetches the stale one unreported. */
Test(oracle, the_icache_scenarios_fetch_new_words_on_arm64)
{
	scenario_policy = "linux";
	scenario_arch = "arm64";
	for (size_t i = 0; i < sizeof(icache_scenarios) /
				sizeof(icache_scenarios[0]); i++) {
		enum shd_fault f = icache_scenarios[i].fault;
		struct outcome o = run_scenario(scenarios[f].fn, 2, 0, true);

		cr_assert_eq(o.nviol, 0, "%s: %s", scenarios[f].name,
			     o.first.text);
		cr_assert_eq(o.rc, 0);
		cr_assert_eq(o.val, icache_scenarios[i].want, "%s: 0x%" PRIx64,
			     scenarios[f].name, o.val);
		o = run_scenario(scenarios[f].fn, 2, 1ull << f, false);
		cr_assert_eq(o.nviol, 0);
		cr_assert_eq(o.rc, 0);
		cr_assert_eq(o.val, scenarios[f].stale_val, "%s, oracle off: "
			     "0x%" PRIx64, scenarios[f].name, o.val);
	}
}

/* On arm64 a write(2) that skips flush_dcache_page leaves PG_dcache_clean
 * set just as arch1_not_cleared does: the same scenario catches it. */
Test(oracle, catches_skip_flush_dcache_page_on_arm64)
{
	struct outcome o;

	scenario_policy = "linux";
	scenario_arch = "arm64";
	o = run_scenario(arch1_not_cleared, 2,
			 1ull << SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE, true);
	cr_assert_geq(o.nviol, 1, "oracle missed skip_flush_dcache_page on arm64");
	cr_assert_eq(o.first.kind, SHD_VIOLATION_STALE_INSN, "%s", o.first.text);
	cr_assert_eq(o.first.cpu, 0);
	cr_assert_eq(o.first.addr, UBASE + 8);
	cr_assert_eq(o.rc, 0);
	cr_assert_eq(o.val, 0);
}

/* The cache scenarios on x86: the same runs, the faults cannot matter
 * (and are refused by the CLI): no violation. */
Test(oracle, the_cache_scenarios_are_clean_on_x86)
{
	scenario_policy = "linux";
	scenario_arch = "x86";
	static const uint64_t want[] = { 0x4b, 0x4c, 0x4d };

	for (int f = SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE;
	     f <= SHD_FAULT_SKIP_PTRACE_FLUSH; f++) {
		struct outcome o = run_scenario(scenarios[f].fn, 2, 1ull << f, true);

		cr_assert_eq(o.nviol, 0, "%s on x86: %s", scenarios[f].name,
			     o.first.text);
		cr_assert_eq(o.rc, 0);
		cr_assert_eq(o.val, want[f - SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE]);
	}
}
