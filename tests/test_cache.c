/* SPDX-License-Identifier: MIT */
/* Contract tests of the cache interfaces (cacheflush.h) and the profiles. */
#include <inttypes.h>

#include "shd_test.h"


static const char *const all_arches[] = { "x86", "sparc64", "arm64" };
#define NARCHES (sizeof(all_arches) / sizeof(all_arches[0]))

struct ctx {
	struct shd_mm *a;
	struct shd_file *f;
	struct shd_cpu *cpu0;	/* for a call from the wrong thread */
	int step;
	int rc[8];
	uint64_t v[8];
};

/* ---- argument checks: every interface of cacheflush.h ---- */

static int contract_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;
	struct shd_mm *mm = s->a;
	struct shd_file *f = s->f;	/* 2 pages */

	s->cpu0 = cpu;
	T_OK(shd_switch_mm(cpu, mm));
	T_OK(shd_mmap(cpu, mm, UBASE, 4 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 1));
	T_OK(shd_vmap(cpu, KBASE, 2 * PAGE));

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

Test(cache, the_interfaces_check_their_arguments_on_x86)
{
	contract_on("x86");
}

Test(cache, the_interfaces_check_their_arguments_on_sparc64)
{
	contract_on("sparc64");
}

Test(cache, the_interfaces_check_their_arguments_on_arm64)
{
	contract_on("arm64");
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

Test(cache, the_interfaces_refuse_another_machines_mm_and_file)
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
Test(cache, flush_icache_range_makes_a_kernel_write_visible_to_every_cpu)
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
Test(cache, flush_icache_range_costs_nothing_on_x86)
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

/* ---- profiles ---- */

Test(cache, arch_presets_parse_their_options)
{
	struct shd_arch a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_arch_preset("sparc64", &a), 0);
	cr_assert_str_eq(a.name, "sparc64");
	cr_assert(a.alias_dcache);
	cr_assert(a.colour_kmap, "colour-matched kmaps are sparc64's default");

	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_arch_preset("sparc64,colour=off", &a), 0, "%s",
		     shd_last_error());
	cr_assert_str_eq(a.name, "sparc64,colour=off");	/* as given */
	cr_assert(a.alias_dcache);
	cr_assert(a.deferred_dcache);
	cr_assert(!a.colour_kmap);

	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_arch_preset("sparc64,colour=on", &a), 0, "%s",
		     shd_last_error());
	cr_assert(a.colour_kmap);

	/* Geometry options go to the simulated cache. */
	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_arch_preset("sparc64,sets=512,ways=1,line=32", &a), 0,
		     "%s", shd_last_error());
	cr_assert_eq(a.dcache_sets, 512);
	cr_assert_eq(a.dcache_ways, 1);
	cr_assert_eq(a.line, 32);
	cr_assert_eq(shd_arch_preset("arm64,sets=64", &a), 0, "%s",
		     shd_last_error());
	cr_assert_eq(a.icache_sets, 64);
	cr_assert_eq(shd_arch_preset("sparc64,sets=x", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("sparc64,sets=", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("x86,ways=2", &a), -EINVAL);

	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_arch_preset("arm64", &a), 0);
	cr_assert_str_eq(a.name, "arm64");
	cr_assert(a.icache_nosnoop);
	cr_assert(!a.alias_dcache, "arm64's D-cache is PIPT");
	cr_assert_gt(a.icache_sets, 0);
	cr_assert_gt(a.icache_ways, 0);

	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_arch_preset("x86", &a), 0);
	cr_assert(!a.alias_dcache);
	cr_assert(!a.icache_nosnoop);

	cr_assert_eq(shd_arch_preset("x86,colour=off", &a), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "colour=off"), "%s",
			   shd_last_error());
	cr_assert_eq(shd_arch_preset("arm64,foo", &a), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "foo"), "%s",
			   shd_last_error());
	cr_assert_eq(shd_arch_preset("sparc64,colour=maybe", &a), -EINVAL);
	cr_assert_eq(shd_arch_preset("nosuch", &a), -ENOENT);
	cr_assert_not_null(strstr(shd_last_error(), "nosuch"), "%s",
			   shd_last_error());
	cr_assert_eq(shd_arch_preset("sparc", &a), -ENOENT);
	cr_assert_eq(shd_arch_preset(NULL, &a), -ENOENT);
	cr_assert_eq(shd_arch_preset("x86", NULL), -EINVAL);
}

Test(cache, arch_presets_are_listed)
{
	size_t n = 0;
	const struct shd_named *p = shd_arch_presets(&n);
	bool seen[NARCHES] = { false };

	cr_assert_geq(n, NARCHES);
	for (size_t i = 0; i < n; i++) {
		struct shd_arch a;

		cr_assert_eq(shd_arch_preset(p[i].name, &a), 0, "%s", p[i].name);
		cr_assert_str_eq(a.name, p[i].name);
		cr_assert_str_not_empty(p[i].help);
		for (size_t k = 0; k < NARCHES; k++)
			if (!strcmp(p[i].name, all_arches[k]))
				seen[k] = true;
	}
	for (size_t k = 0; k < NARCHES; k++)
		cr_assert(seen[k], "%s is not listed", all_arches[k]);
}

/* ---- sparc64: page clears through a colour-matched kmap, or not ---- */

static int anon_store_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap(cpu, s->a, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x70));		/* clear_user_page */
	T_OK(shd_store(cpu, UBASE + PAGE + 16, 0x71));	/* and another */
	T_LOAD(cpu, UBASE + 8, 0x70);
	T_LOAD(cpu, UBASE + PAGE + 16, 0x71);
	T_LOAD(cpu, UBASE + 16, 0);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static struct shd_stats anon_stores(const char *arch)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = arch);
	struct shd_stats st;
	struct ctx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	run_one(m, 0, anon_store_task, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.violations, 0, "%s", arch);
	shd_machine_destroy(m);
	return st;
}

Test(cache, sparc64_clears_fresh_pages_through_a_colour_matched_kmap)
{
	struct shd_stats on = anon_stores("sparc64");
	struct shd_stats dflt = anon_stores("sparc64,colour=on");
	struct shd_stats off = anon_stores("sparc64,colour=off");
	struct shd_stats x86 = anon_stores("x86");

	cr_assert_eq(on.dcache_flushes_avoided, 2);
	cr_assert_eq(on.dcache_flushes, 0);
	cr_assert_eq(dflt.dcache_flushes_avoided, 2);
	cr_assert_eq(dflt.dcache_flushes, 0);
	cr_assert_eq(off.dcache_flushes_avoided, 0);
	cr_assert_eq(off.dcache_flushes, 2);
	cr_assert_eq(x86.dcache_flushes_avoided, 0);
	cr_assert_eq(x86.dcache_flushes, 0);
}

/* ---- ptrace: FOLL_FORCE into a private read-only mapping ---- */

static int force_poke_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;
	uint64_t v = 0;

	/* The file holds 0x80 at offset 8 of both pages. */
	T_OK(shd_file_write(cpu, s->f, 8, 0x80));
	T_OK(shd_file_write(cpu, s->f, PAGE + 8, 0x80));
	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, UBASE, 2 * PAGE, RX, SHD_MAP_PRIVATE,
			   s->f, 0));
	T_OK(shd_mmap_file(cpu, s->a, FAR, 2 * PAGE, SHD_PROT_READ,
			   SHD_MAP_SHARED, s->f, 0));
	/* Page 0 is mapped (the page cache's page) before the poke; page 1
	 * is not. */
	T_LOAD(cpu, UBASE + 8, 0x80);
	T_FETCH(cpu, UBASE + 8, 0x80);
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x81));
	T_OK(shd_ptrace_poke(cpu, s->a, UBASE + PAGE + 8, 0x82));
	T_OK(shd_ptrace_peek(cpu, s->a, UBASE + 8, &v));
	T_EQ((int)v, 0x81);
	T_OK(shd_ptrace_peek(cpu, s->a, UBASE + PAGE + 8, &v));
	T_EQ((int)v, 0x82);
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x81);
	T_LOAD(cpu, UBASE + PAGE + 8, 0x82);
	T_FETCH(cpu, UBASE + 8, 0x81);
	T_FETCH(cpu, UBASE + PAGE + 8, 0x82);
	/* The page stays read-only to the program. */
	T_EQ(shd_store(cpu, UBASE + 8, 0x83), -EACCES);
	T_EQ(shd_store(cpu, UBASE + PAGE + 8, 0x83), -EACCES);
	/* The page cache and its shared mapping keep the file's data. */
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x80);
	T_OK(shd_file_read(cpu, s->f, PAGE + 8, &v));
	T_EQ((int)v, 0x80);
	T_LOAD(cpu, FAR + 8, 0x80);
	/* A second poke lands in the copy. */
	shd_enter_lazy_tlb(cpu);
	T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x84));
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x84);
	T_FETCH(cpu, UBASE + 8, 0x84);
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x80);
	/* A shared mapping the program cannot write is not forced: touched
	 * (FAR) or not (FAR + PAGE). */
	T_EQ(shd_ptrace_poke(cpu, s->a, FAR + 8, 0x85), -EACCES);
	T_EQ(shd_ptrace_poke(cpu, s->a, FAR + PAGE + 8, 0x85), -EACCES);
	T_LOAD(cpu, FAR + 8, 0x80);
	T_LOAD(cpu, FAR + PAGE + 8, 0x80);
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x80);
	T_OK(shd_file_read(cpu, s->f, PAGE + 8, &v));
	T_EQ((int)v, 0x80);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void force_poke_on(const char *arch)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = arch);
	struct shd_stats st;
	struct ctx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 2);
	run_one(m, 0, force_poke_task, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.cow_copies, 2, "%s: %" PRIu64 " copies", arch,
		     st.cow_copies);
	cr_assert_eq(st.violations, 0, "%s", arch);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

Test(cache, ptrace_pokes_a_private_read_only_mapping_like_foll_force)
{
	for (size_t i = 0; i < NARCHES; i++)
		force_poke_on(all_arches[i]);
}

/*
 * arm64: a poke into text another CPU runs.  The first poke copies the page
 * (FOLL_FORCE); cpu 1 runs the tracee and fetches the poked word; cpu 0
 * pokes it again in the copy; cpu 1 fetches the new word (the poke's
 * I-cache invalidation is broadcast).
 */
static int poke_text_task(struct shd_cpu *cpu, void *arg)
{
	struct ctx *s = arg;

	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_switch_mm(cpu, s->a));
		T_OK(shd_mmap_file(cpu, s->a, UBASE, PAGE, RX, SHD_MAP_PRIVATE,
				   s->f, 0));
		shd_enter_lazy_tlb(cpu);
		T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x90));
		T_OK(shd_switch_mm(cpu, NULL));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		T_OK(shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x91));
		step_set(&s->step, 3);
		step_wait(cpu, &s->step, 4);
	} else {
		step_wait(cpu, &s->step, 1);
		T_OK(shd_switch_mm(cpu, s->a));
		T_FETCH(cpu, UBASE + 8, 0x90);
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		s->rc[1] = shd_fetch(cpu, UBASE + 8, &s->v[1]);
		T_OK(shd_switch_mm(cpu, NULL));
		step_set(&s->step, 4);
	}
	return 0;
}

static struct ctx poke_text(uint64_t faults, uint64_t *nviol)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = "arm64", .faults = faults);
	struct ctx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 1);
	cr_assert_eq(shd_run_on(m, 0, 2, poke_text_task, &s), 0);
	assert_tasks_ok();
	*nviol = shd_machine_violations(m, NULL, 0);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
	return s;
}

Test(cache, a_ptrace_poke_into_text_reaches_the_icache_of_every_cpu)
{
	uint64_t nviol = 99;
	struct ctx s = poke_text(0, &nviol);

	cr_assert_eq(s.rc[1], 0);
	cr_assert_eq(s.v[1], 0x91, "0x%" PRIx64, s.v[1]);
	cr_assert_eq(nviol, 0);
	/* The same run without the poke's invalidation: stale, reported. */
	s = poke_text(1ull << SHD_FAULT_SKIP_PTRACE_ICACHE, &nviol);
	cr_assert_eq(s.rc[1], 0);
	cr_assert_eq(s.v[1], 0x90, "0x%" PRIx64, s.v[1]);
	cr_assert_geq(nviol, 1);
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

static struct ctx mprotect_exec(uint64_t faults, uint64_t *nviol)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = "arm64", .faults = faults);
	struct ctx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 1);
	run_one(m, 0, mprotect_exec_task, &s);
	assert_tasks_ok();
	*nviol = shd_machine_violations(m, NULL, 0);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
	return s;
}

Test(cache, mprotect_adding_exec_syncs_the_icache_on_arm64)
{
	uint64_t nviol = 99;
	struct ctx s = mprotect_exec(0, &nviol);

	cr_assert_eq(s.rc[0], 0);
	cr_assert_eq(s.v[0], 0xa0, "0x%" PRIx64, s.v[0]);
	cr_assert_eq(nviol, 0);
	/* PG_dcache_clean left set: mprotect's set_pte_at does not sync. */
	s = mprotect_exec(1ull << SHD_FAULT_ARCH1_NOT_CLEARED, &nviol);
	cr_assert_eq(s.rc[0], 0);
	cr_assert_eq(s.v[0], 0, "0x%" PRIx64, s.v[0]);
	cr_assert_geq(nviol, 1);
}

/* ---- which faults apply where ---- */

static int applies(const char *policy, const char *arch, enum shd_fault f)
{
	struct shd_policy p;
	struct shd_arch a;

	cr_assert_eq(shd_policy_preset(policy, &p), 0);
	cr_assert_eq(shd_arch_preset(arch, &a), 0);
	return shd_fault_applies(&p, &a, f);
}

Test(cache, fault_applies_knows_the_cache_faults)
{
	static const struct {
		enum shd_fault f;
		const char *name;
		bool x86, sparc64, arm64;
	} t[] = {
		{ SHD_FAULT_SKIP_FLUSH_DCACHE_PAGE, "skip_flush_dcache_page",
		  false, true, true },
		{ SHD_FAULT_DEFERRED_FLUSH_WRONG_CPU, "deferred_flush_wrong_cpu",
		  false, true, false },
		{ SHD_FAULT_SKIP_PTRACE_FLUSH, "skip_ptrace_flush",
		  false, true, false },
		{ SHD_FAULT_ARCH1_OVERWRITTEN, "arch1_overwritten",
		  false, true, false },
		{ SHD_FAULT_ARCH1_NOT_CLEARED, "arch1_not_cleared",
		  false, false, true },
		{ SHD_FAULT_SKIP_PTRACE_ICACHE, "skip_ptrace_icache",
		  false, false, true },
		{ SHD_FAULT_SKIP_FLUSH_ICACHE_RANGE, "skip_flush_icache_range",
		  false, false, true },
		/* TLB faults do not care about caches. */
		{ SHD_FAULT_SKIP_REMOTE_IPI, "skip_remote_ipi", true, true, true },
		{ SHD_FAULT_RANGE_SHORT, "range_short", true, true, true },
	};
	size_t n = 0;
	const struct shd_named *names = shd_faults(&n);

	for (size_t i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		const bool ok[NARCHES] = { t[i].x86, t[i].sparc64, t[i].arm64 };

		cr_assert_lt((size_t)t[i].f, n);
		cr_assert_str_eq(names[t[i].f].name, t[i].name);
		cr_assert_eq(shd_fault_lookup(t[i].name), (int)t[i].f);
		for (size_t k = 0; k < NARCHES; k++) {
			int rc = applies("linux", all_arches[k], t[i].f);

			cr_assert_eq(rc, ok[k] ? 0 : -EINVAL, "%s on %s: %d %s",
				     t[i].name, all_arches[k], rc,
				     rc ? shd_last_error() : "");
			if (rc) {
				cr_assert_not_null(strstr(shd_last_error(),
							  t[i].name), "%s",
						   shd_last_error());
				cr_assert_not_null(strstr(shd_last_error(),
							  all_arches[k]), "%s",
						   shd_last_error());
			}
		}
	}
}

Test(cache, fault_applies_checks_its_arguments)
{
	struct shd_policy p;
	struct shd_arch a;

	cr_assert_eq(shd_policy_preset("linux", &p), 0);
	cr_assert_eq(shd_arch_preset("arm64", &a), 0);
	cr_assert_eq(shd_fault_applies(&p, &a, SHD_FAULT_ARCH1_NOT_CLEARED), 0);
	cr_assert_eq(shd_fault_applies(&p, NULL, SHD_FAULT_ARCH1_NOT_CLEARED),
		     -EINVAL);
	cr_assert_eq(shd_fault_applies(NULL, &a, SHD_FAULT_ARCH1_NOT_CLEARED),
		     -EINVAL);
	cr_assert_eq(shd_fault_applies(&p, &a, SHD_FAULT__COUNT), -EINVAL);
	cr_assert_eq(shd_fault_applies(&p, &a, (enum shd_fault)-1), -EINVAL);
	/* The policy's reasons still count under a cache profile. */
	cr_assert_eq(shd_fault_applies(&p, &a, SHD_FAULT_ASYNC_EARLY_FREE),
		     -EINVAL);
	cr_assert_eq(applies("latr", "arm64", SHD_FAULT_ASYNC_EARLY_FREE), 0);
}

/* ==== kmap/kunmap, FOLL_FORCE after fork, refused profiles,
 * flush_cache_kmaps, DMA ==== */

#define KCOLOURS	4	/* sparc64: 64 KiB 4-way, 4 KiB pages */
#define COLOUR(va)	((unsigned)(((va) >> 12) & (KCOLOURS - 1)))

struct kx {
	struct shd_mm *a, *child;
	struct shd_file *f, *foreign;
	struct shd_cpu *cpu0;
	bool choose;		/* kmap honours colour_va (sparc64 default) */
	bool flush;		/* the scenario calls flush_dcache_page */
	unsigned pg;		/* the file page the scenario uses */
	unsigned pc[KCOLOURS];	/* pa colour of each file page */
	uint64_t uva, kva, kva1;
	uint64_t k[12];
	int rc[8];
	uint64_t v[8];
};

static bool kva_in_kernel(uint64_t kva)
{
	return kva >= SHD_KERNEL_BASE && kva < SHD_KERNEL_TOP &&
	       !(kva & (PAGE - 1));
}

/* Cpu 1 holds a kmap of its own (so cpu 0 can try to kunmap it). */
static int kmap_cpu1_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_kmap(cpu, s->f, 1, 0, &s->kva1));
	T_EQ((int)kva_in_kernel(s->kva1), 1);
	return 0;
}

static int kunmap_cpu1_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_kunmap(cpu, s->kva1));
	T_EQ(shd_kunmap(cpu, s->kva1), -EINVAL);	/* not mapped any more */
	return 0;
}

static int kmap_contract_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;
	struct shd_file *f = s->f;	/* 2 pages */
	uint64_t kva = 0, kva2 = 0, v = 0;
	int rc;

	s->cpu0 = cpu;
	/* kmap's arguments */
	T_EINVAL(shd_kmap(NULL, f, 0, 0, &kva), "kmap");
	T_EINVAL(shd_kmap(cpu, NULL, 0, 0, &kva), "kmap");
	T_EINVAL(shd_kmap(cpu, f, 0, 0, NULL), "kmap");
	T_EINVAL(shd_kmap(cpu, s->foreign, 0, 0, &kva), "kmap");
	T_EINVAL(shd_kmap(cpu, f, 2, 0, &kva), "past the end");
	T_EINVAL(shd_kmap(cpu, f, UINT64_MAX, 0, &kva), "past the end");
	T_EINVAL(shd_kmap(cpu, f, 0, SHD_USER_TOP, &kva), "kmap");
	T_EINVAL(shd_kmap(cpu, f, 0, KBASE, &kva), "kmap");

	/* kunmap's: not one of this CPU's kmap addresses */
	T_EINVAL(shd_kunmap(NULL, s->kva1), "kunmap");
	T_EINVAL(shd_kunmap(cpu, 0), "kunmap");
	T_EINVAL(shd_kunmap(cpu, UBASE), "kunmap");
	T_EINVAL(shd_kunmap(cpu, KBASE), "kunmap");
	T_EINVAL(shd_kunmap(cpu, SHD_PAGE_OFFSET), "kunmap");
	T_EINVAL(shd_kunmap(cpu, s->kva1), "kunmap");	/* cpu 1's */

	/* A kmap sees write(2)'s value ... */
	T_OK(shd_file_write(cpu, f, 8, 0x11));
	T_OK(shd_kmap(cpu, f, 0, 0, &kva));
	T_EQ((int)kva_in_kernel(kva), 1);
	T_EQ((int)(kva != s->kva1), 1);
	T_LOAD(cpu, kva + 8, 0x11);
	T_LOAD(cpu, kva + 16, 0);
	/* ... also once its line is cached */
	T_OK(shd_file_write(cpu, f, 8, 0x12));
	T_LOAD(cpu, kva + 8, 0x12);
	/* read(2) sees the kernel's store through the kmap after
	 * flush_dcache_page */
	T_OK(shd_store(cpu, kva + 16, 0x22));
	T_LOAD(cpu, kva + 16, 0x22);
	T_OK(shd_flush_dcache_page(cpu, f, 0));
	T_OK(shd_file_read(cpu, f, 16, &v));
	T_EQ((int)v, 0x22);
	/* kunmap: unaligned, or not mapped (the next colour of the slot) */
	T_EINVAL(shd_kunmap(cpu, kva + 8), "kunmap");
	T_EINVAL(shd_kunmap(cpu, kva + PAGE / 2), "kunmap");
	T_EINVAL(shd_kunmap(cpu, kva + PAGE), "not mapped");
	/* Page 1 at a second address, colour chosen or not. */
	T_OK(shd_kmap(cpu, f, 1, UBASE + 3 * PAGE, &kva2));
	T_EQ((int)(kva2 != kva), 1);
	T_OK(shd_store(cpu, kva2 + 8, 0x44));
	T_OK(shd_flush_dcache_page(cpu, f, 1));
	T_OK(shd_file_read(cpu, f, PAGE + 8, &v));
	T_EQ((int)v, 0x44);
	T_OK(shd_kunmap(cpu, kva2));
	T_OK(shd_kunmap(cpu, kva));
	/* Gone: the kernel's access faults, a second kunmap is refused. */
	T_EQ(shd_load(cpu, kva + 8, &v), -EFAULT);
	T_EQ(shd_store(cpu, kva2 + 8, 1), -EFAULT);
	T_EINVAL(shd_kunmap(cpu, kva), "not mapped");
	/* The page cache kept what was stored through the kmaps. */
	T_OK(shd_file_read(cpu, f, 16, &v));
	T_EQ((int)v, 0x22);
	T_OK(shd_file_read(cpu, f, PAGE + 8, &v));
	T_EQ((int)v, 0x44);

	/* 8 slots of one colour: the 9th is -ENOSPC. */
	for (unsigned i = 0; i < 8; i++) {
		s->k[i] = 0;
		T_OK(shd_kmap(cpu, f, 0, 0, &s->k[i]));
		T_EQ((int)kva_in_kernel(s->k[i]), 1);
		for (unsigned j = 0; j < i; j++)
			T_EQ((int)(s->k[i] != s->k[j]), 1);
		/* every slot has the page's colour */
		T_EQ((int)(COLOUR(s->k[i]) == COLOUR(s->k[0])), 1);
		T_LOAD(cpu, s->k[i] + 16, 0x22);
	}
	rc = shd_kmap(cpu, f, 0, 0, &kva);
	T_EQ(rc, -ENOSPC);
	if (rc == -ENOSPC && !strstr(shd_last_error(), "slots"))
		T_EQ(-1, 0);	/* the message should say why */
	if (s->choose) {
		/* Another colour has its own 8 slots (colours are chosen
		 * only while users map the file). */
		uint64_t other = UBASE + (uint64_t)((COLOUR(s->k[0]) + 1) %
						    KCOLOURS) * PAGE;
		struct shd_mm *mm = test_mm(shd_cpu_machine(cpu));

		/* unmapped: the page's own colour, whose slots are full */
		T_EQ(shd_kmap(cpu, f, 0, other, &kva), -ENOSPC);
		T_OK(shd_mmap_file(cpu, mm, UBASE, PAGE, SHD_PROT_READ,
				   SHD_MAP_SHARED, f, 0));
		T_OK(shd_kmap(cpu, f, 0, other, &kva));
		T_EQ((int)(COLOUR(kva) == COLOUR(other)), 1);
		T_LOAD(cpu, kva + 16, 0x22);
		T_OK(shd_kunmap(cpu, kva));
		T_OK(shd_munmap(cpu, mm, UBASE, PAGE));
		shd_mm_destroy(mm);
	}
	/* A kunmap frees a slot: the next kmap gets it. */
	T_OK(shd_kunmap(cpu, s->k[3]));
	kva = 0;
	T_OK(shd_kmap(cpu, f, 0, 0, &kva));
	T_EQ((int)(kva == s->k[3]), 1);
	T_EQ(shd_kmap(cpu, f, 0, 0, &kva2), -ENOSPC);
	T_LOAD(cpu, kva + 16, 0x22);
	for (unsigned i = 0; i < 8; i++)
		T_OK(shd_kunmap(cpu, s->k[i]));
	/* All free again: 8 more fit. */
	for (unsigned i = 0; i < 8; i++)
		T_OK(shd_kmap(cpu, f, 0, 0, &s->k[i]));
	for (unsigned i = 0; i < 8; i++)
		T_OK(shd_kunmap(cpu, s->k[i]));
	s->kva = s->k[0];	/* for the off-thread calls */
	return 0;
}

static void kmap_contract_on(const char *arch, bool choose)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = arch);
	struct shd_machine *other = MACHINE(.ncpus = 1, .arch = arch);
	uint64_t kva = 0;
	struct kx s;

	memset(&s, 0, sizeof(s));
	s.choose = choose;
	s.f = test_file(m, 2);
	s.foreign = test_file(other, 2);
	run_one(m, 1, kmap_cpu1_task, &s);
	run_one(m, 0, kmap_contract_task, &s);
	assert_tasks_ok();
	/* Off the CPU's thread: refused. */
	cr_assert_eq(shd_kmap(s.cpu0, s.f, 0, 0, &kva), -EPERM, "%s", arch);
	cr_assert_eq(shd_kunmap(s.cpu0, s.kva), -EPERM, "%s", arch);
	run_one(m, 1, kunmap_cpu1_task, &s);
	assert_tasks_ok();
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0, "%s", arch);
	shd_file_destroy(s.f);
	shd_file_destroy(s.foreign);
	shd_machine_destroy(other);
	shd_machine_destroy(m);
}

Test(cache, kmap_and_kunmap_check_their_arguments_and_reach_the_page_cache)
{
	kmap_contract_on("x86", false);
	kmap_contract_on("sparc64", true);
	kmap_contract_on("sparc64,colour=off", false);
	kmap_contract_on("hypersparc", false);
	kmap_contract_on("arm64", false);
}

/* ---- sparc64: a kmap at the user's colour ---- */

/*
 * Give the 4 file pages their frames out of order (1, 0, 3, 2) and learn
 * each one's linear-map colour from a kmap with no colour preference; pick
 * a page whose colour differs from its file offset's (which a shared
 * mapping must have), map the file shared at UBASE (colour 0) and read the
 * word (cached at the user's colour).
 */
static int colour_setup_task(struct shd_cpu *cpu, void *arg)
{
	static const unsigned order[KCOLOURS] = { 1, 0, 3, 2 };
	struct kx *s = arg;

	s->pg = UINT32_MAX;
	for (unsigned i = 0; i < KCOLOURS; i++) {
		uint64_t k = 0;

		T_OK(shd_kmap(cpu, s->f, order[i], 0, &k));
		s->pc[order[i]] = COLOUR(k);
		T_OK(shd_kunmap(cpu, k));
	}
	for (unsigned i = 0; i < KCOLOURS && s->pg == UINT32_MAX; i++)
		if (s->pc[i] != i)
			s->pg = i;
	if (s->pg == UINT32_MAX)
		return 0;	/* the test thread says so */
	s->uva = UBASE + (uint64_t)s->pg * PAGE;
	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap_file(cpu, s->a, UBASE, KCOLOURS * PAGE, RW,
			   SHD_MAP_SHARED, s->f, 0));
	T_LOAD(cpu, s->uva + 8, 0);
	return 0;
}

/* The kernel stores through a kmap asked for the user's colour, with
 * flush_dcache_page() after it or not. */
static int colour_store_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_kmap(cpu, s->f, s->pg, s->uva, &s->kva));
	T_OK(shd_store(cpu, s->kva + 8, 0x5a));
	if (s->flush)
		T_OK(shd_flush_dcache_page(cpu, s->f, s->pg));
	return 0;
}

static int colour_read_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	s->rc[0] = shd_load(cpu, s->uva + 8, &s->v[0]);
	T_OK(shd_kunmap(cpu, s->kva));
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

struct colour_run {
	struct kx s;
	struct shd_stats before, stored, after;
	uint64_t nviol;
	struct shd_violation viol;
};

static struct colour_run colour_scenario(const char *arch, bool flush)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = arch);
	struct colour_run r;

	memset(&r, 0, sizeof(r));
	r.s.flush = flush;
	r.s.a = test_mm(m);
	r.s.f = test_file(m, KCOLOURS);
	run_one(m, 0, colour_setup_task, &r.s);
	assert_tasks_ok();
	cr_assert_neq(r.s.pg, UINT32_MAX, "%s: every file page has its file "
		      "offset's colour (%u %u %u %u)", arch, r.s.pc[0],
		      r.s.pc[1], r.s.pc[2], r.s.pc[3]);
	cr_assert_neq(COLOUR(r.s.uva), r.s.pc[r.s.pg]);
	r.before = test_stats(m);
	run_one(m, 0, colour_store_task, &r.s);
	r.stored = test_stats(m);
	run_one(m, 0, colour_read_task, &r.s);
	assert_tasks_ok();
	r.after = test_stats(m);
	r.nviol = shd_machine_violations(m, &r.viol, 1);
	shd_file_destroy(r.s.f);
	shd_mm_destroy(r.s.a);
	shd_machine_destroy(m);
	return r;
}

Test(cache, sparc64_kmap_takes_the_users_colour_and_needs_no_flush)
{
	struct colour_run r = colour_scenario("sparc64", false);

	/* The kmap has the user's colour, not the page's linear colour. */
	cr_assert_eq(COLOUR(r.s.kva), COLOUR(r.s.uva), "kva 0x%" PRIx64
		     " uva 0x%" PRIx64, r.s.kva, r.s.uva);
	cr_assert_neq(COLOUR(r.s.kva), r.s.pc[r.s.pg]);
	cr_assert_eq(r.stored.dcache_flushes_avoided -
		     r.before.dcache_flushes_avoided, 1);
	/* The user reads the kernel's store with no flush at all. */
	cr_assert_eq(r.s.rc[0], 0);
	cr_assert_eq(r.s.v[0], 0x5a, "read 0x%" PRIx64, r.s.v[0]);
	cr_assert_eq(r.nviol, 0, "%s", r.nviol ? r.viol.text : "");
	cr_assert_eq(r.after.dcache_flushes, r.before.dcache_flushes);
	cr_assert_eq(r.after.dcache_deferred, r.before.dcache_deferred);
	cr_assert_eq(r.after.dcache_lines_invalidated,
		     r.before.dcache_lines_invalidated);
	/* The line the user cached was hit, not refetched. */
	cr_assert_eq(r.after.dcache_misses, r.before.dcache_misses);
}

Test(cache, sparc64_colour_off_kmaps_at_the_linear_colour_and_needs_the_flush)
{
	struct colour_run r = colour_scenario("sparc64,colour=off", false);

	/* The linear map's colour, whatever the user's. */
	cr_assert_eq(COLOUR(r.s.kva), r.s.pc[r.s.pg], "kva 0x%" PRIx64,
		     r.s.kva);
	cr_assert_neq(COLOUR(r.s.kva), COLOUR(r.s.uva));
	cr_assert_eq(r.stored.dcache_flushes_avoided, 0);
	cr_assert_eq(r.after.dcache_flushes_avoided, 0);
	/* No flush_dcache_page: the user's line at its colour is stale. */
	cr_assert_eq(r.s.rc[0], 0);
	cr_assert_eq(r.s.v[0], 0, "read 0x%" PRIx64, r.s.v[0]);
	cr_assert_eq(r.nviol, 1);
	cr_assert_eq(r.viol.kind, SHD_VIOLATION_STALE_DATA, "%s", r.viol.text);
	cr_assert_eq(r.viol.cpu, 0);
	cr_assert_eq(r.viol.addr, r.s.uva + 8, "%s", r.viol.text);
	cr_assert_str_eq(r.viol.interface, "flush_dcache_page");
	cr_assert_eq(r.viol.seed, TEST_SEED);

	/* With it (the file is mapped: it flushes at once), clean. */
	r = colour_scenario("sparc64,colour=off", true);
	cr_assert_eq(COLOUR(r.s.kva), r.s.pc[r.s.pg]);
	cr_assert_eq(r.s.rc[0], 0);
	cr_assert_eq(r.s.v[0], 0x5a, "read 0x%" PRIx64, r.s.v[0]);
	cr_assert_eq(r.nviol, 0, "%s", r.nviol ? r.viol.text : "");
	cr_assert_eq(r.stored.dcache_flushes - r.before.dcache_flushes, 1);
	cr_assert_eq(r.stored.dcache_deferred, r.before.dcache_deferred);
	cr_assert_geq(r.stored.dcache_lines_invalidated -
		      r.before.dcache_lines_invalidated, 1);
	cr_assert_eq(r.after.dcache_flushes_avoided, 0);
}

/* ---- hypersparc: kunmap flushes the cache while the PTE is there ---- */

#define KCYCLES 4

static int kmap_cycle_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	for (unsigned i = 0; i < KCYCLES; i++) {
		s->k[i] = 0;
		T_OK(shd_kmap(cpu, s->f, i % 2, 0, &s->k[i]));
		T_OK(shd_store(cpu, s->k[i] + 8, 0x100 + i));
		T_LOAD(cpu, s->k[i] + 8, 0x100 + i);	/* a cached line */
		s->rc[i] = shd_kunmap(cpu, s->k[i]);
	}
	return 0;
}

static struct colour_run kmap_cycles(uint64_t faults)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = "hypersparc",
					.faults = faults);
	struct colour_run r;

	memset(&r, 0, sizeof(r));
	r.s.f = test_file(m, 2);
	r.before = test_stats(m);
	run_one(m, 0, kmap_cycle_task, &r.s);
	assert_tasks_ok();
	r.after = test_stats(m);
	r.nviol = shd_machine_violations(m, &r.viol, 1);
	shd_file_destroy(r.s.f);
	shd_machine_destroy(m);
	return r;
}

Test(cache, hypersparc_kunmap_flushes_the_cache_before_the_pte_goes)
{
	struct colour_run r = kmap_cycles(0);

	for (unsigned i = 0; i < KCYCLES; i++)
		cr_assert_eq(r.s.rc[i], 0, "kunmap %u: %d", i, r.s.rc[i]);
	cr_assert_eq(r.nviol, 0, "%s", r.nviol ? r.viol.text : "");
	/* Each kunmap dropped the one line its load cached. */
	cr_assert_eq(r.after.dcache_misses - r.before.dcache_misses, KCYCLES);
	cr_assert_eq(r.after.dcache_lines_invalidated -
		     r.before.dcache_lines_invalidated, KCYCLES);
	cr_assert_geq(r.after.dcache_flushes - r.before.dcache_flushes, KCYCLES);

	/* The faulty order: the PTE goes first, and the oracle says so. */
	r = kmap_cycles(1ull << SHD_FAULT_TLB_BEFORE_CACHE);
	cr_assert_eq(r.s.rc[0], 0);
	cr_assert_geq(r.nviol, KCYCLES, "%" PRIu64, r.nviol);
	cr_assert_eq(r.viol.kind, SHD_VIOLATION_ORDERING, "%s", r.viol.text);
	cr_assert_eq(r.viol.cpu, 0);
	cr_assert_eq(r.viol.mm_id, 0);
	cr_assert_eq(r.viol.addr, r.s.k[0], "%s (kva 0x%" PRIx64 ")",
		     r.viol.text, r.s.k[0]);
	cr_assert_str_eq(r.viol.interface, "flush_cache_vunmap");
}

/* ---- ptrace: FOLL_FORCE into a write-protected page after fork ---- */

static int fork_setup_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_file_write(cpu, s->f, 8, 0x77));
	T_OK(shd_switch_mm(cpu, s->a));
	T_OK(shd_mmap(cpu, s->a, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE + 8, 0x1));
	T_OK(shd_mmap_file(cpu, s->a, FAR, PAGE, SHD_PROT_EXEC,
			   SHD_MAP_PRIVATE, s->f, 0));
	T_OK(shd_mmap(cpu, s->a, FAR + 2 * PAGE, PAGE, SHD_PROT_EXEC));
	/* fork: the parent's private page is write-protected, shared */
	T_OK(shd_mm_dup(cpu, s->a, &s->child));
	return 0;
}

/* The tracer, on another CPU, pokes the parent. */
static int fork_poke_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	s->rc[0] = shd_ptrace_poke(cpu, s->a, UBASE + 8, 0x2);
	T_OK(shd_ptrace_peek(cpu, s->a, UBASE + 8, &s->v[0]));
	return 0;
}

/* The parent runs: its PTE is writable, no fault, no copy. */
static int parent_store_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x2);
	s->rc[1] = shd_store(cpu, UBASE + 8, 0x3);
	T_LOAD(cpu, UBASE + 8, 0x3);
	return 0;
}

/* The child still has the page as it was at fork, now its own alone. */
static int child_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_switch_mm(cpu, s->child));
	T_LOAD(cpu, UBASE + 8, 0x1);
	T_OK(shd_store(cpu, UBASE + 8, 0x4));
	T_LOAD(cpu, UBASE + 8, 0x4);
	T_OK(shd_switch_mm(cpu, s->a));
	T_LOAD(cpu, UBASE + 8, 0x3);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

/* Execute-only memory: peeks read it, a poke into private text copies. */
static int exec_only_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;
	uint64_t v = 0;

	s->rc[2] = shd_ptrace_peek(cpu, s->a, FAR + 8, &s->v[2]);
	s->rc[3] = shd_ptrace_peek(cpu, s->a, FAR + 2 * PAGE + 8, &s->v[3]);
	s->rc[4] = shd_ptrace_poke(cpu, s->a, FAR + 8, 0x78);
	T_OK(shd_ptrace_peek(cpu, s->a, FAR + 8, &s->v[4]));
	s->rc[5] = shd_ptrace_poke(cpu, s->a, FAR + 16, 0x79);	/* the copy */
	T_OK(shd_ptrace_peek(cpu, s->a, FAR + 16, &s->v[5]));
	/* the page cache keeps the file's data */
	T_OK(shd_file_read(cpu, s->f, 8, &v));
	T_EQ((int)v, 0x77);
	T_OK(shd_file_read(cpu, s->f, 16, &v));
	T_EQ((int)v, 0);
	return 0;
}

/* The program runs its poked text, and may not store to it. */
static int exec_run_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	T_OK(shd_switch_mm(cpu, s->a));
	T_FETCH(cpu, FAR + 8, 0x78);
	T_FETCH(cpu, FAR + 16, 0x79);
	T_EQ(shd_store(cpu, FAR + 8, 0x7a), -EACCES);
	T_FETCH(cpu, FAR + 8, 0x78);
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void foll_force_after_fork_on(const char *arch)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = arch);
	struct shd_stats s0, s1, s2, s3, s4;
	struct kx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	s.f = test_file(m, 1);
	run_one(m, 0, fork_setup_task, &s);
	assert_tasks_ok();
	cr_assert_not_null(s.child);

	s0 = test_stats(m);
	run_one(m, 1, fork_poke_task, &s);
	assert_tasks_ok();
	s1 = test_stats(m);
	cr_assert_eq(s.rc[0], 0, "%s: poke %d", arch, s.rc[0]);
	cr_assert_eq(s.v[0], 0x2, "%s: peek 0x%" PRIx64, arch, s.v[0]);
	cr_assert_eq(s1.cow_copies - s0.cow_copies, 1, "%s: %" PRIu64 " copies",
		     arch, s1.cow_copies - s0.cow_copies);

	run_one(m, 0, parent_store_task, &s);
	assert_tasks_ok();
	s2 = test_stats(m);
	cr_assert_eq(s.rc[1], 0, "%s: the parent's store: %d", arch, s.rc[1]);
	cr_assert_eq(s2.cow_copies, s1.cow_copies, "%s: the store copied "
		     "again", arch);
	cr_assert_eq(s2.page_faults, s1.page_faults, "%s: the store faulted "
		     "(the poke left the PTE read-only)", arch);

	run_one(m, 0, child_task, &s);
	assert_tasks_ok();
	s3 = test_stats(m);
	cr_assert_eq(s3.cow_copies, s2.cow_copies, "%s: the child's page is "
		     "its own since the poke: reused, not copied", arch);

	run_one(m, 1, exec_only_task, &s);
	assert_tasks_ok();
	s4 = test_stats(m);
	cr_assert_eq(s.rc[2], 0, "%s: peek of execute-only text: %d", arch,
		     s.rc[2]);
	cr_assert_eq(s.v[2], 0x77, "%s: 0x%" PRIx64, arch, s.v[2]);
	cr_assert_eq(s.rc[3], 0, "%s: peek of execute-only anon: %d", arch,
		     s.rc[3]);
	cr_assert_eq(s.v[3], 0);
	cr_assert_eq(s.rc[4], 0, "%s: poke into execute-only text: %d", arch,
		     s.rc[4]);
	cr_assert_eq(s.v[4], 0x78);
	cr_assert_eq(s.rc[5], 0, "%s: second poke: %d", arch, s.rc[5]);
	cr_assert_eq(s.v[5], 0x79);
	cr_assert_eq(s4.cow_copies - s3.cow_copies, 1, "%s: %" PRIu64
		     " copies for two pokes into one page", arch,
		     s4.cow_copies - s3.cow_copies);

	run_one(m, 0, exec_run_task, &s);
	assert_tasks_ok();
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0, "%s", arch);
	shd_mm_destroy(s.child);
	shd_mm_destroy(s.a);
	shd_file_destroy(s.f);
	shd_machine_destroy(m);
}

Test(cache, a_poke_after_fork_breaks_cow_once_and_leaves_the_pte_writable)
{
	foll_force_after_fork_on("x86");
	foll_force_after_fork_on("sparc64");
	foll_force_after_fork_on("arm64");
	foll_force_after_fork_on("hypersparc");
}

/* ---- profile combinations the model does not support ---- */

static void refused(const struct shd_arch *a, const char *what,
		    const char *key)
{
	struct shd_config c = test_config(1, "linux");
	struct shd_machine *m = NULL;
	int err;

	c.arch = *a;
	err = shd_machine_create(&c, &m);
	cr_assert_eq(err, -EINVAL, "%s: shd_machine_create returned %d (%s)",
		     what, err, err ? shd_last_error() : "accepted");
	cr_assert_null(m, "%s", what);
	cr_assert_not_null(strstr(shd_last_error(), key), "%s: \"%s\" should "
			   "name %s", what, shd_last_error(), key);
}

static void accepted(const struct shd_arch *a, const char *what)
{
	struct shd_config c = test_config(1, "linux");
	struct shd_machine *m = NULL;
	int err;

	c.arch = *a;
	err = shd_machine_create(&c, &m);
	cr_assert_eq(err, 0, "%s: %d %s", what, err, shd_last_error());
	shd_machine_destroy(m);
}

Test(cache, machine_create_refuses_profiles_it_does_not_model)
{
	struct shd_arch x86, sparc, arm, hyper, a;

	cr_assert_eq(shd_arch_preset("x86", &x86), 0);
	cr_assert_eq(shd_arch_preset("sparc64", &sparc), 0);
	cr_assert_eq(shd_arch_preset("arm64", &arm), 0);
	cr_assert_eq(shd_arch_preset("hypersparc", &hyper), 0);

	/* The presets themselves, and harmless changes, are accepted. */
	accepted(&x86, "x86");
	accepted(&sparc, "sparc64");
	accepted(&arm, "arm64");
	accepted(&hyper, "hypersparc");
	a = hyper;
	a.colour_kmap = true;
	accepted(&a, "hypersparc with colour_kmap");
	a = sparc;
	a.flush_needs_mapping = true;
	a.dma_noncoherent = true;
	accepted(&a, "sparc64 with hypersparc's flush and DMA");

	/* Each of these needs an aliasing D-cache. */
	a = hyper;
	a.alias_dcache = false;
	a.dma_noncoherent = false;
	refused(&a, "flush_needs_mapping without alias_dcache", "alias_dcache");
	a = x86;
	a.flush_needs_mapping = true;
	refused(&a, "x86 + flush_needs_mapping", "flush_needs_mapping");
	a = hyper;
	a.alias_dcache = false;
	a.flush_needs_mapping = false;
	refused(&a, "dma_noncoherent without alias_dcache", "alias_dcache");
	a = x86;
	a.dma_noncoherent = true;
	refused(&a, "x86 + dma_noncoherent", "dma_noncoherent");
	a = sparc;
	a.alias_dcache = false;
	refused(&a, "deferred_dcache without alias_dcache", "alias_dcache");
	a = arm;
	a.deferred_dcache = true;
	refused(&a, "arm64 + deferred_dcache", "deferred_dcache");

	/* An aliasing D-cache with a non-snooping I-cache. */
	a = sparc;
	a.icache_nosnoop = true;
	a.icache_sets = arm.icache_sets;
	a.icache_ways = arm.icache_ways;
	refused(&a, "sparc64 + icache_nosnoop", "I-cache");
	a = arm;
	a.alias_dcache = true;
	a.dcache_sets = sparc.dcache_sets;
	a.dcache_ways = sparc.dcache_ways;
	refused(&a, "arm64 + alias_dcache", "I-cache");
	a = hyper;
	a.icache_nosnoop = true;
	a.icache_sets = 256;
	a.icache_ways = 4;
	refused(&a, "hypersparc + icache_nosnoop", "aliasing");
}

/* ---- flush_cache_kmaps ---- */

#define KMLINES 8
#define KMCPUS	3

static int kmaps_vmap_task(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_OK(shd_vmap(cpu, KBASE, PAGE));
	for (unsigned i = 0; i < KMLINES; i++)
		T_OK(shd_store(cpu, KBASE + i * 64, 0xc0 + i));
	return 0;
}

/* Each CPU loads KMLINES words, each in a line of its own. */
static int kmaps_load_task(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	for (unsigned i = 0; i < KMLINES; i++)
		T_LOAD(cpu, KBASE + i * 64, 0xc0 + i);
	return 0;
}

static int kmaps_flush_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	s->rc[0] = shd_flush_cache_kmaps(cpu);
	return 0;
}

static void kmaps_on(const char *arch, struct shd_stats *loaded,
		     struct shd_stats *flushed, struct shd_stats *reloaded)
{
	struct shd_machine *m = MACHINE(.ncpus = KMCPUS, .arch = arch);
	struct kx s;

	memset(&s, 0, sizeof(s));
	run_one(m, 0, kmaps_vmap_task, &s);
	cr_assert_eq(shd_run_on(m, 0, KMCPUS, kmaps_load_task, &s), 0);
	*loaded = test_stats(m);
	run_one(m, 0, kmaps_flush_task, &s);
	cr_assert_eq(s.rc[0], 0, "%s: flush_cache_kmaps: %d", arch, s.rc[0]);
	*flushed = test_stats(m);
	cr_assert_eq(shd_run_on(m, 0, KMCPUS, kmaps_load_task, &s), 0);
	*reloaded = test_stats(m);
	assert_tasks_ok();
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0, "%s", arch);
	shd_machine_destroy(m);
}

Test(cache, flush_cache_kmaps_drops_every_line_of_every_cpu_on_hypersparc)
{
	struct shd_stats l, f, r;

	kmaps_on("hypersparc", &l, &f, &r);
	/* Stores do not allocate: the loads cached KMLINES lines a CPU. */
	cr_assert_eq(l.dcache_misses, KMCPUS * KMLINES, "%" PRIu64,
		     l.dcache_misses);
	cr_assert_eq(l.dcache_lines_invalidated, 0);
	cr_assert_eq(f.dcache_lines_invalidated - l.dcache_lines_invalidated,
		     KMCPUS * KMLINES, "%" PRIu64, f.dcache_lines_invalidated -
		     l.dcache_lines_invalidated);
	cr_assert_eq(f.dcache_flushes - l.dcache_flushes, 1);
	cr_assert_geq(f.ipis_sent - l.ipis_sent, KMCPUS - 1);
	/* Every CPU misses on every line again. */
	cr_assert_eq(r.dcache_misses - f.dcache_misses, KMCPUS * KMLINES,
		     "%" PRIu64, r.dcache_misses - f.dcache_misses);
}

Test(cache, flush_cache_kmaps_is_free_on_x86_and_sparc64)
{
	struct shd_stats l, f, r;

	kmaps_on("x86", &l, &f, &r);
	cr_assert_eq(f.ipis_sent, l.ipis_sent);
	cr_assert_eq(f.ipis_received, l.ipis_received);
	cr_assert_eq(f.ipi_requests, l.ipi_requests);
	cr_assert_eq(f.dcache_flushes, 0);
	cr_assert_eq(f.dcache_lines_invalidated, 0);
	cr_assert_eq(r.dcache_misses, 0);
	cr_assert_eq(r.violations, 0);

	/* sparc64: a no-op too (in Linux it spills register windows); the
	 * cached lines stay, and the loads hit. */
	kmaps_on("sparc64", &l, &f, &r);
	cr_assert_eq(l.dcache_misses, KMCPUS * KMLINES);
	cr_assert_eq(f.ipis_sent, l.ipis_sent);
	cr_assert_eq(f.dcache_flushes, l.dcache_flushes);
	cr_assert_eq(f.dcache_lines_invalidated, l.dcache_lines_invalidated);
	cr_assert_eq(r.dcache_misses, l.dcache_misses);
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
	struct kx *s = arg;
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
	struct kx *s = arg;
	unsigned id = shd_cpu_id(cpu);

	s->rc[id] = shd_load(cpu, KBASE + 8, &s->v[id]);
	return 0;
}

struct dma_run {
	struct kx s;
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

Test(cache, dma_on_a_snooping_bus_needs_no_invalidate_on_sparc64)
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

Test(cache, dma_on_hypersparc_needs_invalidate_kernel_vmap_range)
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

/* ---- SHMLBA ---- */

static int shmlba_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;
	int want = s->choose ? -EINVAL : 0;

	T_OK(shd_switch_mm(cpu, s->a));
	/* Page 1 of the file at a page of colour 0: only a coherent D-cache
	 * takes it; colour 1 is right everywhere. */
	T_EQ(shd_mmap_file(cpu, s->a, UBASE, PAGE, SHD_PROT_READ,
			   SHD_MAP_SHARED, s->f, 1), want);
	if (!want)
		T_OK(shd_munmap(cpu, s->a, UBASE, PAGE));
	T_OK(shd_mmap_file(cpu, s->a, UBASE + PAGE, PAGE, SHD_PROT_READ,
			   SHD_MAP_SHARED, s->f, 1));
	/* A private mapping may sit anywhere: its pages are copied. */
	T_OK(shd_mmap_file(cpu, s->a, UBASE + 2 * PAGE, PAGE, SHD_PROT_READ,
			   SHD_MAP_PRIVATE, s->f, 1));
	T_OK(shd_munmap(cpu, s->a, UBASE, 3 * PAGE));
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

static void shmlba_on(const char *arch, bool aliasing)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .arch = arch);
	struct kx s;

	memset(&s, 0, sizeof(s));
	s.choose = aliasing;
	s.a = test_mm(m);
	s.f = test_file(m, 2);
	run_one(m, 0, shmlba_task, &s);
	assert_tasks_ok();
	shd_file_destroy(s.f);
	shd_mm_destroy(s.a);
	shd_machine_destroy(m);
}

Test(cache, shared_file_mappings_keep_their_colour_on_aliasing_caches)
{
	shmlba_on("sparc64", true);
	shmlba_on("hypersparc", true);
	shmlba_on("x86", false);
	shmlba_on("arm64", false);
}
