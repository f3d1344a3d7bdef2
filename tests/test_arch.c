/* SPDX-License-Identifier: MIT */
/* Tests of the arch profiles: presets, the combinations refused, which faults apply where. */
#include <inttypes.h>

#include "shd_test.h"

/* ---- profiles ---- */

Test(arch, arch_presets_parse_their_options)
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

Test(arch, arch_presets_are_listed)
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

/* ---- which faults apply where ---- */

static int applies(const char *policy, const char *arch, enum shd_fault f)
{
	struct shd_policy p;
	struct shd_arch a;

	cr_assert_eq(shd_policy_preset(policy, &p), 0);
	cr_assert_eq(shd_arch_preset(arch, &a), 0);
	return shd_fault_applies(&p, &a, f);
}

Test(arch, fault_applies_knows_the_cache_faults)
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
		/* x86's TLB faults do not care about caches, but arm64's
		 * TLB engine has no IPIs to skip; its faults are its own. */
		{ SHD_FAULT_SKIP_REMOTE_IPI, "skip_remote_ipi", true, true, false },
		/* sparc64's engine demaps a list, not an INVLPG loop. */
		{ SHD_FAULT_RANGE_SHORT, "range_short", true, false, false },
		{ SHD_FAULT_SKIP_BATCHED_PENDING, "skip_batched_pending",
		  true, false, true },
		{ SHD_FAULT_TLB_BATCH_DROP_LAST, "tlb_batch_drop_last",
		  false, true, false },
		{ SHD_FAULT_TLB_PENDING_ASYNC, "tlb_pending_async",
		  false, true, false },
		{ SHD_FAULT_CTX_KEEP_CPUMASK, "ctx_keep_cpumask",
		  false, true, false },
		{ SHD_FAULT_TLBI_NO_DSB, "tlbi_no_dsb", false, false, true },
		{ SHD_FAULT_TLBI_RANGE_NUM, "tlbi_range_num", false, false, true },
		{ SHD_FAULT_ASID_ROLLOVER_NO_FLUSH, "asid_rollover_no_flush",
		  false, false, true },
		/* Generic mm code: every engine (sparc64 flushes under the
		 * PTL: no nested upgrade). */
		{ SHD_FAULT_FREE_BEFORE_FLUSH, "free_before_flush", true, true, true },
		{ SHD_FAULT_SKIP_NESTED_FLUSH, "skip_nested_flush", true, false,
		  true },
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

Test(arch, fault_applies_checks_its_arguments)
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
	cr_assert_eq(applies("latr", "arm64,tlb=x86", SHD_FAULT_ASYNC_EARLY_FREE),
		     0);
	/* ... and the engine's: tlbi_range_num needs range TLBIs. */
	cr_assert_eq(shd_policy_set(&p, "tlbi_range", "off"), 0);
	cr_assert_eq(shd_fault_applies(&p, &a, SHD_FAULT_TLBI_RANGE_NUM), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "tlbi_range=on"));
	cr_assert_eq(shd_fault_applies(&p, &a, SHD_FAULT_TLBI_NO_DSB), 0);
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

Test(arch, machine_create_refuses_profiles_it_does_not_model)
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
