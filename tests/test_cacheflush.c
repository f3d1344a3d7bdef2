/* SPDX-License-Identifier: MIT */
/* Tests of the cache interfaces (cacheflush.h): their contracts, the I-cache, DMA. */
#include <inttypes.h>

#include "shd_test.h"

struct ctx {
	struct shd_mm *a;
	struct shd_file *f;
	struct shd_cpu *cpu0;	/* for a call from the wrong thread */
	int step;
	int rc[8];
	uint64_t v[8];
	bool flush;		/* DMA: the scenario invalidates */
};

/* ---- argument checks: every interface of cacheflush.h ---- */

/* The interfaces on a user mm: UBASE has 4 pages mapped, the first stored. */
static void contract_user(struct shd_cpu *cpu, struct shd_mm *mm)
{
	/* flush_cache_mm, flush_cache_dup_mm */
	T_EINVAL(shd_flush_cache_mm(NULL, mm), "flush_cache_mm");
	T_EINVAL(shd_flush_cache_mm(cpu, NULL), "flush_cache_mm");
	T_OK(shd_flush_cache_mm(cpu, mm));
	T_EINVAL(shd_flush_cache_dup_mm(NULL, mm), "flush_cache_dup_mm");
	T_EINVAL(shd_flush_cache_dup_mm(cpu, NULL), "flush_cache_dup_mm");
	T_OK(shd_flush_cache_dup_mm(cpu, mm));

	/* flush_cache_range */
	T_EINVAL(shd_flush_cache_range(NULL, mm, UBASE, UBASE + PAGE),
		 "flush_cache_range");
	T_EINVAL(shd_flush_cache_range(cpu, NULL, UBASE, UBASE + PAGE),
		 "flush_cache_range");
	T_EINVAL(shd_flush_cache_range(cpu, mm, UBASE + PAGE, UBASE),
		 "flush_cache_range");
	T_EINVAL(shd_flush_cache_range(cpu, mm, UBASE + 8, UBASE + PAGE),
		 "flush_cache_range");
	T_EINVAL(shd_flush_cache_range(cpu, mm, UBASE, UBASE + PAGE + 8),
		 "flush_cache_range");
	T_EINVAL(shd_flush_cache_range(cpu, mm, SHD_USER_TOP - PAGE,
				       SHD_USER_TOP + PAGE), "flush_cache_range");
	T_EINVAL(shd_flush_cache_range(cpu, mm, KBASE, KBASE + PAGE),
		 "flush_cache_range");
	T_OK(shd_flush_cache_range(cpu, mm, UBASE, UBASE + 4 * PAGE));
	T_OK(shd_flush_cache_range(cpu, mm, FAR, FAR + PAGE));	/* unmapped */
	T_OK(shd_flush_cache_range(cpu, mm, UBASE, UBASE));	/* empty */

	/* flush_cache_page */
	T_EINVAL(shd_flush_cache_page(NULL, mm, UBASE), "flush_cache_page");
	T_EINVAL(shd_flush_cache_page(cpu, NULL, UBASE), "flush_cache_page");
	T_EINVAL(shd_flush_cache_page(cpu, mm, SHD_USER_TOP), "flush_cache_page");
	T_EINVAL(shd_flush_cache_page(cpu, mm, KBASE), "flush_cache_page");
	T_OK(shd_flush_cache_page(cpu, mm, UBASE));
}

/* The interfaces on the vmap area: KBASE has 2 pages mapped. */
static void contract_vmap(struct shd_cpu *cpu)
{
	/* flush_cache_vmap, flush_cache_vunmap */
	T_EINVAL(shd_flush_cache_vmap(NULL, KBASE, KBASE + PAGE),
		 "flush_cache_vmap");
	T_EINVAL(shd_flush_cache_vmap(cpu, KBASE + PAGE, KBASE),
		 "flush_cache_vmap");
	T_EINVAL(shd_flush_cache_vmap(cpu, KBASE + 8, KBASE + PAGE),
		 "flush_cache_vmap");
	T_EINVAL(shd_flush_cache_vmap(cpu, KBASE, KBASE + 8), "flush_cache_vmap");
	T_EINVAL(shd_flush_cache_vmap(cpu, UBASE, UBASE + PAGE),
		 "flush_cache_vmap");
	T_EINVAL(shd_flush_cache_vmap(cpu, SHD_KERNEL_TOP - PAGE,
				      SHD_KERNEL_TOP + PAGE), "flush_cache_vmap");
	T_OK(shd_flush_cache_vmap(cpu, KBASE, KBASE + 2 * PAGE));
	T_EINVAL(shd_flush_cache_vunmap(NULL, KBASE, KBASE + PAGE),
		 "flush_cache_vunmap");
	T_EINVAL(shd_flush_cache_vunmap(cpu, KBASE + PAGE, KBASE),
		 "flush_cache_vunmap");
	T_EINVAL(shd_flush_cache_vunmap(cpu, KBASE + 8, KBASE + PAGE),
		 "flush_cache_vunmap");
	T_EINVAL(shd_flush_cache_vunmap(cpu, UBASE, UBASE + PAGE),
		 "flush_cache_vunmap");
	T_OK(shd_flush_cache_vunmap(cpu, KBASE, KBASE + 2 * PAGE));

	/* flush_cache_kmaps */
	T_EINVAL(shd_flush_cache_kmaps(NULL), "flush_cache_kmaps");
	T_OK(shd_flush_cache_kmaps(cpu));
}

/* The page-cache and anonymous-page interfaces: F has 2 pages. */
static void contract_pages(struct shd_cpu *cpu, struct shd_mm *mm,
			   struct shd_file *f)
{
	/* flush_dcache_page, flush_dcache_folio */
	T_EINVAL(shd_flush_dcache_page(NULL, f, 0), "flush_dcache_page");
	T_EINVAL(shd_flush_dcache_page(cpu, NULL, 0), "flush_dcache_page");
	T_EINVAL(shd_flush_dcache_page(cpu, f, 2), "flush_dcache_page");
	T_EINVAL(shd_flush_dcache_page(cpu, f, UINT64_MAX), "flush_dcache_page");
	T_OK(shd_flush_dcache_page(cpu, f, 0));
	T_OK(shd_flush_dcache_page(cpu, f, 1));
	T_EINVAL(shd_flush_dcache_folio(NULL, f, 0, 1), "flush_dcache_folio");
	T_EINVAL(shd_flush_dcache_folio(cpu, NULL, 0, 1), "flush_dcache_folio");
	T_EINVAL(shd_flush_dcache_folio(cpu, f, 0, 0), "flush_dcache_folio");
	T_EINVAL(shd_flush_dcache_folio(cpu, f, 2, 1), "flush_dcache_folio");
	T_EINVAL(shd_flush_dcache_folio(cpu, f, 1, 2), "flush_dcache_folio");
	T_EINVAL(shd_flush_dcache_folio(cpu, f, 0, 3), "flush_dcache_folio");
	T_EINVAL(shd_flush_dcache_folio(cpu, f, 1, UINT64_MAX),
		 "flush_dcache_folio");
	T_EINVAL(shd_flush_dcache_folio(cpu, f, UINT64_MAX, 2),
		 "flush_dcache_folio");
	T_OK(shd_flush_dcache_folio(cpu, f, 0, 2));
	T_OK(shd_flush_dcache_folio(cpu, f, 1, 1));

	/* flush_anon_page */
	T_EINVAL(shd_flush_anon_page(NULL, mm, UBASE), "flush_anon_page");
	T_EINVAL(shd_flush_anon_page(cpu, NULL, UBASE), "flush_anon_page");
	T_EINVAL(shd_flush_anon_page(cpu, mm, SHD_USER_TOP), "flush_anon_page");
	T_EINVAL(shd_flush_anon_page(cpu, mm, KBASE), "flush_anon_page");
	T_OK(shd_flush_anon_page(cpu, mm, UBASE));
}

static void contract_icache(struct shd_cpu *cpu, struct shd_mm *mm)
{
	/* flush_icache_range, flush_icache_page */
	T_EINVAL(shd_flush_icache_range(NULL, KBASE, KBASE + PAGE),
		 "flush_icache_range");
	T_EINVAL(shd_flush_icache_range(cpu, KBASE + PAGE, KBASE),
		 "flush_icache_range");
	/* Byte ranges are fine (a kprobe flushes one instruction). */
	T_OK(shd_flush_icache_range(cpu, KBASE + 8, KBASE + 16));
	T_OK(shd_flush_icache_range(cpu, KBASE, KBASE + PAGE + 8));
	T_EINVAL(shd_flush_icache_range(cpu, UBASE, UBASE + PAGE),
		 "flush_icache_range");
	T_EINVAL(shd_flush_icache_range(cpu, SHD_KERNEL_TOP - PAGE,
					SHD_KERNEL_TOP + PAGE),
		 "flush_icache_range");
	T_OK(shd_flush_icache_range(cpu, KBASE, KBASE + 2 * PAGE));
	/* Unmapped pages of the vmap area: nothing to invalidate. */
	T_OK(shd_flush_icache_range(cpu, KBASE + 2 * PAGE, KBASE + 4 * PAGE));
	T_OK(shd_flush_icache_range(cpu, KBASE, KBASE));
	T_EINVAL(shd_flush_icache_page(NULL, mm, UBASE), "flush_icache_page");
	T_EINVAL(shd_flush_icache_page(cpu, NULL, UBASE), "flush_icache_page");
	T_EINVAL(shd_flush_icache_page(cpu, mm, SHD_USER_TOP),
		 "flush_icache_page");
	T_EINVAL(shd_flush_icache_page(cpu, mm, KBASE), "flush_icache_page");
	T_OK(shd_flush_icache_page(cpu, mm, UBASE));
}

static void contract_kernel_vmap_range(struct shd_cpu *cpu)
{
	/* flush_kernel_vmap_range, invalidate_kernel_vmap_range */
	T_EINVAL(shd_flush_kernel_vmap_range(NULL, KBASE, PAGE),
		 "flush_kernel_vmap_range");
	T_EINVAL(shd_flush_kernel_vmap_range(cpu, UBASE, PAGE),
		 "flush_kernel_vmap_range");
	T_OK(shd_flush_kernel_vmap_range(cpu, KBASE + 8, 8));
	T_OK(shd_flush_kernel_vmap_range(cpu, KBASE, 0));	/* empty: nothing to do */
	T_EINVAL(shd_flush_kernel_vmap_range(cpu, KBASE + 0x800, UINT64_MAX - 0x100),
		 "flush_kernel_vmap_range");
	T_EINVAL(shd_flush_kernel_vmap_range(cpu, SHD_KERNEL_TOP - PAGE,
					     2 * PAGE), "flush_kernel_vmap_range");
	T_OK(shd_flush_kernel_vmap_range(cpu, KBASE, 2 * PAGE));
	T_EINVAL(shd_invalidate_kernel_vmap_range(NULL, KBASE, PAGE),
		 "invalidate_kernel_vmap_range");
	T_EINVAL(shd_invalidate_kernel_vmap_range(cpu, UBASE, PAGE),
		 "invalidate_kernel_vmap_range");
	T_OK(shd_invalidate_kernel_vmap_range(cpu, KBASE + 8, 8));
	T_OK(shd_invalidate_kernel_vmap_range(cpu, KBASE, 0));	/* empty: nothing to do */
	T_EINVAL(shd_invalidate_kernel_vmap_range(cpu, KBASE + 0x800, UINT64_MAX - 0x100),
		 "invalidate_kernel_vmap_range");
	T_EINVAL(shd_invalidate_kernel_vmap_range(cpu, SHD_KERNEL_TOP - PAGE,
						  2 * PAGE),
		 "invalidate_kernel_vmap_range");
	T_OK(shd_invalidate_kernel_vmap_range(cpu, KBASE, 2 * PAGE));
}

static int contract_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;
	struct shd_mm *mm = s->a;

	s->cpu0 = cpu;
	T_OK(shd_switch_mm(cpu, mm));
	T_OK(shd_mmap(cpu, mm, UBASE, 4 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 1));
	T_OK(shd_vmap(cpu, KBASE, 2 * PAGE));
	contract_user(cpu, mm);
	contract_vmap(cpu);
	contract_pages(cpu, mm, s->f);	/* 2 pages */
	contract_icache(cpu, mm);
	contract_kernel_vmap_range(cpu);

	/* Nothing above disturbed the mappings. */
	T_LOAD(cpu, UBASE + 8, 1);
	T_OK(shd_store(cpu, KBASE + 8, 2));
	T_LOAD(cpu, KBASE + 8, 2);
	T_OK(shd_vunmap(cpu, KBASE, 2 * PAGE));
	T_OK(shd_munmap(cpu, mm, UBASE, 4 * PAGE));
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void contract_on(const char *arch)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = arch);
	struct ctx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 2);
	run_one(m, 0, contract_task, &s);
	assert_tasks_ok();
	/* Off the CPU's thread: refused, as every CPU call is. */
	cr_assert_eq(shd_flush_cache_mm(s.cpu0, s.a), -EPERM);
	cr_assert_eq(shd_flush_icache_range(s.cpu0, KBASE, KBASE + PAGE), -EPERM);
	cr_assert_eq(shd_flush_dcache_page(s.cpu0, s.f, 0), -EPERM);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

ARCH_PARAMS(cacheflush, the_interfaces_check_their_arguments)
ParameterizedTest(const struct preset_param *arch, cacheflush,
		  the_interfaces_check_their_arguments)
{
	contract_on(arch->name);
}

/* A file of another machine is not this machine's file. */
static int foreign_file_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;

	T_EINVAL(shd_flush_dcache_page(cpu, s->f, 0), "flush_dcache_page");
	T_EINVAL(shd_flush_dcache_folio(cpu, s->f, 0, 1), "flush_dcache_folio");
	T_EINVAL(shd_flush_cache_mm(cpu, s->a), "flush_cache_mm");
	T_EINVAL(shd_flush_cache_range(cpu, s->a, UBASE, UBASE + PAGE),
		 "flush_cache_range");
	return 0;
}

Test(cacheflush, the_interfaces_refuse_another_machines_mm_and_file)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = "sparc64");
	struct shd_machine *other = MACHINE(.ncpus = 1, .arch = "sparc64");
	struct ctx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(other);
	s.f = test_file(other, 1);
	run_one(m, 0, foreign_file_task, &s);
	assert_tasks_ok();
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
	shd_machine_destroy(other);
}

/* ---- flush_icache_range ---- */

static int vmap_task(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_OK(shd_vmap(cpu, KBASE, PAGE));
	return 0;
}

static int store_code_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;

	T_OK(shd_store(cpu, KBASE + 8, s->v[0]));
	return 0;
}

static int fetch_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;
	uint64_t v = 0xdeadbeef;

	s->rc[shd_cpu_id(cpu)] = shd_fetch(cpu, KBASE + 8, &v);
	s->v[1 + shd_cpu_id(cpu)] = v;
	return 0;
}

static int icache_range_task(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_OK(shd_flush_icache_range(cpu, KBASE, KBASE + PAGE));
	return 0;
}

#define ICPUS 4

static void fetch_all(struct shd_machine *m, struct ctx *s, uint64_t want,
		      const char *when)
{
	memset(s->rc, 0xff, sizeof(s->rc));
	cr_assert_eq(shd_run_on(m, 0, ICPUS, fetch_task, s), 0);
	for (unsigned c = 0; c < ICPUS; c++) {
		cr_assert_eq(s->rc[c], 0, "%s: cpu %u fetch: %d", when, c, s->rc[c]);
		cr_assert_eq(s->v[1 + c], want, "%s: cpu %u fetched 0x%" PRIx64
			     ", expected 0x%" PRIx64, when, c, s->v[1 + c], want);
	}
}

/*
 * arm64: every CPU fetches the vmap'd word (an I-line of the zeroed page),
 * cpu 0 writes it through the vmap address: the I-caches do not snoop, so
 * every CPU (the writer too) still fetches the old word; after
 * flush_icache_range() on cpu 0 every CPU fetches the new one.  One page
 * invalidated, and every other CPU kicked.
 */
Test(cacheflush, flush_icache_range_makes_a_kernel_write_visible_to_every_cpu)
{
	struct shd_machine *m = MACHINE(.ncpus = ICPUS, .arch = "arm64");
	struct shd_stats s0, s1;
	struct ctx s;

	memset(&s, 0, sizeof(s));
	run_one(m, 0, vmap_task, &s);
	fetch_all(m, &s, 0, "before the write");
	s.v[0] = 0x60;
	run_one(m, 0, store_code_task, &s);
	fetch_all(m, &s, 0, "after the write, before flush_icache_range");
	s0 = test_stats(m);
	run_one(m, 0, icache_range_task, &s);
	s1 = test_stats(m);
	cr_assert_eq(s1.icache_flushes - s0.icache_flushes, 1);
	cr_assert_eq(s1.ipis_sent - s0.ipis_sent, ICPUS - 1,
		     "kick_all_cpus_sync: %" PRIu64 " IPIs",
		     s1.ipis_sent - s0.ipis_sent);
	fetch_all(m, &s, 0x60, "after flush_icache_range");
	s1 = test_stats(m);
	cr_assert_geq(s1.icache_lines_invalidated, ICPUS,
		      "%" PRIu64, s1.icache_lines_invalidated);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0);
	shd_machine_destroy(m);
}

/* The same on x86: the I-cache snoops, the write is fetched at once, and
 * flush_icache_range() costs nothing (no invalidation, no IPI). */
Test(cacheflush, flush_icache_range_costs_nothing_on_x86)
{
	struct shd_machine *m = MACHINE(.ncpus = ICPUS, .arch = "x86");
	struct shd_stats s0, s1;
	struct ctx s;

	memset(&s, 0, sizeof(s));
	run_one(m, 0, vmap_task, &s);
	fetch_all(m, &s, 0, "before the write");
	s.v[0] = 0x61;
	run_one(m, 0, store_code_task, &s);
	fetch_all(m, &s, 0x61, "after the write");
	s0 = test_stats(m);
	run_one(m, 0, icache_range_task, &s);
	s1 = test_stats(m);
	cr_assert_eq(s1.icache_flushes, 0);
	cr_assert_eq(s1.icache_misses, 0);
	cr_assert_eq(s1.ipis_sent, s0.ipis_sent);
	cr_assert_eq(s1.ipis_received, s0.ipis_received);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0);
	shd_machine_destroy(m);
}

/* ---- arm64: PG_dcache_clean and set_pte_at through mprotect ---- */

/*
 * Cpu 0 fetches from a shared executable file mapping, takes EXEC away,
 * the kernel writes the word (flush_dcache_page clears PG_dcache_clean),
 * and mprotect gives EXEC back: its set_pte_at syncs the I-cache, so the
 * next fetch sees the write.
 */
static int mprotect_exec_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, UBASE, PAGE, RX, SHD_MAP_SHARED, s->f, 0));
	T_FETCH(cpu, UBASE + 8, 0);
	T_OK(shd_mprotect(cpu, s->a, UBASE, PAGE, SHD_PROT_READ));
	T_EQ(shd_fetch(cpu, UBASE + 8, NULL), -EACCES);
	T_OK(shd_file_write(cpu, s->f, 8, 0xa0));
	T_LOAD(cpu, UBASE + 8, 0xa0);
	T_OK(shd_mprotect(cpu, s->a, UBASE, PAGE, RX));
	s->rc[0] = shd_fetch(cpu, UBASE + 8, &s->v[0]);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static struct outcome mprotect_exec(const struct fault_row *row,
				    uint64_t faults)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = row->arch,
					.policy = row->policy, .faults = faults);
	struct outcome o;
	struct ctx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 1);
	run_one(m, 0, mprotect_exec_task, &s);
	assert_tasks_ok();
	o = row_outcome(m, s.rc[0], s.v[0]);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
	return o;
}

/* With PG_dcache_clean left set (arch1_not_cleared) mprotect's set_pte_at
 * does not sync: the fetch reads the old word, and the oracle says so. */
static const struct fault_row mprotect_exec_rows[] = {
	{ "mprotect adding exec", mprotect_exec, "arm64", NULL,
	  SHD_FAULT_ARCH1_NOT_CLEARED, false, 0, 0xa0, 0, NULL, 0, 0 },
	{ "mprotect adding exec", mprotect_exec, "arm64", NULL,
	  SHD_FAULT_ARCH1_NOT_CLEARED, true, 0, 0, 1, NULL, 0, 0 },
};

TABLE_PARAMS(cacheflush, mprotect_adding_exec_syncs_the_icache_on_arm64,
	     mprotect_exec_rows)
ParameterizedTest(const size_t *row, cacheflush,
		  mprotect_adding_exec_syncs_the_icache_on_arm64)
{
	check_fault_row(&mprotect_exec_rows[*row]);
}

/* ---- DMA: a snooping bus, and one that does not snoop ---- */

#define DCPUS 2

static int dma_setup_task(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_OK(shd_vmap(cpu, KBASE, PAGE));
	T_OK(shd_store(cpu, KBASE + 8, 0xd0));
	return 0;
}

static int dma_cache_task(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_LOAD(cpu, KBASE + 8, 0xd0);	/* the driver's line */
	return 0;
}

static int dma_write_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;
	uint64_t v = 0;

	T_OK(shd_dma_write(cpu, KBASE + 8, 0xd1));
	T_OK(shd_dma_read(cpu, KBASE + 8, &v));	/* memory has it */
	T_EQ((int)v, 0xd1);
	if (s->flush)
		T_OK(shd_invalidate_kernel_vmap_range(cpu, KBASE + 8, 8));
	return 0;
}

static int dma_read_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;
	unsigned id = shd_cpu_id(cpu);

	s->rc[id] = shd_load(cpu, KBASE + 8, &s->v[id]);
	return 0;
}

struct dma_run {
	struct ctx s;
	struct shd_stats cached, written, read;
	uint64_t nviol;
	struct shd_violation viol;
};

/* Both CPUs cache the word, the device writes it (cpu 0 drives it, and
 * invalidates if FLUSH), then the first READERS CPUs read it again. */
static struct dma_run dma_scenario(const char *arch, bool flush,
				   unsigned readers)
{
	struct shd_machine *m = MACHINE(.ncpus = DCPUS, .arch = arch);
	struct dma_run r;

	memset(&r, 0, sizeof(r));
	r.s.flush = flush;
	run_one(m, 0, dma_setup_task, &r.s);
	cr_assert_eq(shd_run_on(m, 0, DCPUS, dma_cache_task, &r.s), 0);
	r.cached = test_stats(m);
	run_one(m, 0, dma_write_task, &r.s);
	r.written = test_stats(m);
	cr_assert_eq(shd_run_on(m, 0, readers, dma_read_task, &r.s), 0);
	assert_tasks_ok();
	r.read = test_stats(m);
	r.nviol = shd_machine_violations(m, &r.viol, 1);
	shd_machine_destroy(m);
	return r;
}

Test(cacheflush, dma_on_a_snooping_bus_needs_no_invalidate_on_sparc64)
{
	struct dma_run r = dma_scenario("sparc64", false, DCPUS);

	cr_assert_eq(r.cached.dcache_misses, DCPUS);
	for (unsigned c = 0; c < DCPUS; c++) {
		cr_assert_eq(r.s.rc[c], 0);
		cr_assert_eq(r.s.v[c], 0xd1, "cpu %u read 0x%" PRIx64, c,
			     r.s.v[c]);
	}
	cr_assert_eq(r.nviol, 0, "%s", r.nviol ? r.viol.text : "");
	cr_assert_eq(r.read.dcache_flushes, 0);
	cr_assert_eq(r.read.dcache_lines_invalidated, 0);
	/* The bus dropped the lines: each CPU missed again. */
	cr_assert_eq(r.read.dcache_misses - r.written.dcache_misses, DCPUS);
	/* invalidate_kernel_vmap_range is a no-op there. */
	r = dma_scenario("sparc64", true, 1);
	cr_assert_eq(r.s.v[0], 0xd1);
	cr_assert_eq(r.nviol, 0);
	cr_assert_eq(r.written.dcache_flushes, 0);
	cr_assert_eq(r.written.dcache_lines_invalidated, 0);
}

Test(cacheflush, dma_on_hypersparc_needs_invalidate_kernel_vmap_range)
{
	struct dma_run r = dma_scenario("hypersparc", false, 1);

	cr_assert_eq(r.s.rc[0], 0);
	cr_assert_eq(r.s.v[0], 0xd0, "read 0x%" PRIx64 ": the line was not "
		     "kept", r.s.v[0]);
	cr_assert_eq(r.nviol, 1);
	cr_assert_eq(r.viol.kind, SHD_VIOLATION_STALE_DATA, "%s", r.viol.text);
	cr_assert_str_eq(r.viol.interface, "invalidate_kernel_vmap_range",
			 "%s", r.viol.text);
	cr_assert_eq(r.viol.cpu, 0);
	cr_assert_eq(r.viol.addr, KBASE + 8, "%s", r.viol.text);
	cr_assert_eq(r.read.dcache_misses, r.written.dcache_misses, "a hit");

	r = dma_scenario("hypersparc", true, 1);
	cr_assert_eq(r.s.rc[0], 0);
	cr_assert_eq(r.s.v[0], 0xd1, "read 0x%" PRIx64, r.s.v[0]);
	cr_assert_eq(r.nviol, 0, "%s", r.nviol ? r.viol.text : "");
	cr_assert_eq(r.written.dcache_flushes - r.cached.dcache_flushes, 1);
	cr_assert_eq(r.written.dcache_lines_invalidated -
		     r.cached.dcache_lines_invalidated, 1);
	cr_assert_eq(r.read.dcache_misses - r.written.dcache_misses, 1);
}
