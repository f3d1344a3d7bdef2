/* SPDX-License-Identifier: MIT */
/* Contract tests of the cache interfaces (cacheflush.h) and the profiles. */
#include <inttypes.h>

#include "shd_test.h"

#define RW	(SHD_PROT_READ | SHD_PROT_WRITE)
#define RX	(SHD_PROT_READ | SHD_PROT_EXEC)
#define FAR	(UBASE + 0x1000000ull)	/* a second window, other leaves */

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

static struct shd_machine *arch_machine(unsigned ncpus, const char *arch,
					uint64_t faults)
{
	struct shd_config c = test_config(ncpus, "linux");
	int err = shd_arch_preset(arch, &c.arch);

	cr_assert_eq(err, 0, "arch %s: %d %s", arch, err, shd_last_error());
	c.faults = faults;
	return test_machine(&c);
}

static struct shd_file *test_file(struct shd_machine *m, uint64_t npages)
{
	struct shd_file *f = NULL;

	cr_assert_eq(shd_file_create(m, npages, &f), 0, "shd_file_create: %s",
		     shd_last_error());
	cr_assert_not_null(f);
	return f;
}

/* -EINVAL, with an explanation that mentions KEY. */
static void t_einval(int rc, const char *key, const char *expr,
		     const char *file, int line)
{
	t_check(rc, -EINVAL, expr, file, line);
	if (rc == -EINVAL && !strstr(shd_last_error(), key)) {
		char what[256];

		snprintf(what, sizeof(what), "shd_last_error() \"%s\" names %s",
			 shd_last_error(), key);
		t_check(-1, 0, what, file, line);
	}
}
#define T_EINVAL(e, key)	t_einval((e), (key), #e, __FILE__, __LINE__)

#define T_FETCH(cpu, addr, want)					\
	do {								\
		uint64_t v_ = 0xdeadbeefull;				\
		T_OK(shd_fetch((cpu), (addr), &v_));			\
		T_EQ((int)(v_ == (want)), 1);				\
		if (v_ != (want))					\
			fprintf(stderr, "%s:%d: cpu %u fetch 0x%" PRIx64 \
				" read 0x%" PRIx64 ", expected 0x%" PRIx64 "\n", \
				__FILE__, __LINE__, shd_cpu_id(cpu),	\
				(uint64_t)(addr), v_, (uint64_t)(want)); \
	} while (0)

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
	struct shd_machine *m = arch_machine(2, arch, 0);
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
	struct shd_machine *m = arch_machine(1, "sparc64", 0);
	struct shd_machine *other = arch_machine(1, "sparc64", 0);
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
	struct shd_machine *m = arch_machine(ICPUS, "arm64", 0);
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
	struct shd_machine *m = arch_machine(ICPUS, "x86", 0);
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
	cr_assert_str_eq(a.name, "sparc64");
	cr_assert(a.alias_dcache);
	cr_assert(a.deferred_dcache);
	cr_assert(!a.colour_kmap);

	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_arch_preset("sparc64,colour=on", &a), 0, "%s",
		     shd_last_error());
	cr_assert(a.colour_kmap);

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
	struct shd_machine *m = arch_machine(1, arch, 0);
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
	struct shd_machine *m = arch_machine(1, arch, 0);
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
	struct shd_machine *m = arch_machine(2, "arm64", faults);
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
	struct shd_machine *m = arch_machine(1, "arm64", faults);
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
