/* SPDX-License-Identifier: MIT */
/* Tests of kmap/kunmap and cache colour: page clears, kmaps, flush_cache_kmaps, SHMLBA. */
#include <inttypes.h>

#include "shd_test.h"

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

/* kmap's and kunmap's arguments, on CPU 0 of S's machine. */
static void kmap_bad_arguments(struct shd_cpu *cpu, struct kx *s)
{
	struct shd_file *f = s->f;
	uint64_t kva = 0;

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
}

/* Two kmaps of S's file: loads, stores, flush_dcache_page and read(2)
 * agree; kunmap's checks; the page cache keeps what was stored. */
static void kmap_round_trip(struct shd_cpu *cpu, struct kx *s)
{
	struct shd_file *f = s->f;
	uint64_t kva = 0, kva2 = 0, v = 0;

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
}

/* A colour's 8 slots: the 9th is -ENOSPC, a kunmap frees one. */
static void kmap_slots(struct shd_cpu *cpu, struct kx *s)
{
	struct shd_file *f = s->f;	/* 2 pages */
	uint64_t kva = 0, kva2 = 0;
	int rc;

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
}

static int kmap_contract_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

	s->cpu0 = cpu;
	kmap_bad_arguments(cpu, s);
	kmap_round_trip(cpu, s);
	kmap_slots(cpu, s);
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

Test(highmem, kmap_and_kunmap_check_their_arguments_and_reach_the_page_cache)
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

Test(highmem, sparc64_kmap_takes_the_users_colour_and_needs_no_flush)
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

Test(highmem, sparc64_colour_off_kmaps_at_the_linear_colour_and_needs_the_flush)
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

Test(highmem, hypersparc_kunmap_flushes_the_cache_before_the_pte_goes)
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

/* ---- sparc64: page clears through a colour-matched kmap, or not ---- */

static int anon_store_task(struct shd_cpu *cpu, void *arg)
{
	struct kx *s = arg;

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
	struct kx s;

	memset(&s, 0, sizeof(s));
	s.a = test_mm(m);
	run_one(m, 0, anon_store_task, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.violations, 0, "%s", arch);
	shd_machine_destroy(m);
	return st;
}

Test(highmem, sparc64_clears_fresh_pages_through_a_colour_matched_kmap)
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

Test(highmem, flush_cache_kmaps_drops_every_line_of_every_cpu_on_hypersparc)
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

Test(highmem, flush_cache_kmaps_is_free_on_x86_and_sparc64)
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

Test(highmem, shared_file_mappings_keep_their_colour_on_aliasing_caches)
{
	shmlba_on("sparc64", true);
	shmlba_on("hypersparc", true);
	shmlba_on("x86", false);
	shmlba_on("arm64", false);
}
