/* SPDX-License-Identifier: MIT */
/* Tests of the TLB flush interfaces: the cachetlb contract, pruning, ranges, counters. */
#include "shd_test.h"

/* ---- the contract: a remote CPU never uses a removed translation ---- */

static int munmap_under_a_running_cpu(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		T_OK(shd_munmap(cpu, s->mm, UBASE, PAGE));
		step_set(&s->step, 3);
		step_wait(cpu, &s->step, 4);
	} else {
		step_wait(cpu, &s->step, 1);
		T_OK(shd_store(cpu, UBASE, 0x55));
		T_OK(shd_load(cpu, UBASE, &s->v[0]));	/* a TLB hit */
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		s->rc[0] = shd_load(cpu, UBASE, &s->v[1]);
		s->rc[1] = shd_store(cpu, UBASE, 1);
		step_set(&s->step, 4);
	}
	return 0;
}

static void contract_munmap(const char *policy)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = policy);
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats st;

	cr_assert_eq(shd_run_on(m, 0, 2, munmap_under_a_running_cpu, &s), 0);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(s.v[0], 0x55);
	cr_assert_eq(s.rc[0], -EFAULT, "%s: load after remote munmap: %d (%s)",
		     policy, s.rc[0], shd_strerror(s.rc[0]));
	cr_assert_eq(s.rc[1], -EFAULT, "%s: store after remote munmap: %d",
		     policy, s.rc[1]);
	cr_assert_geq(st.ipi_requests, 1, "%s: cpu 1 got no request", policy);
	cr_assert_eq(st.violations, 0, "%s: %lu violations", policy,
		     (unsigned long)st.violations);
	shd_machine_destroy(m);
}

POLICY_PARAMS(flush, a_running_cpu_faults_after_a_remote_munmap)
ParameterizedTest(const struct preset_param *policy, flush,
		  a_running_cpu_faults_after_a_remote_munmap)
{
	contract_munmap(policy->name);
}

static int mprotect_under_a_running_cpu(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, s->mm, UBASE, 2 * PAGE, RW));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		T_OK(shd_mprotect(cpu, s->mm, UBASE, 2 * PAGE, SHD_PROT_READ));
		step_set(&s->step, 3);
		step_wait(cpu, &s->step, 4);
	} else {
		step_wait(cpu, &s->step, 1);
		T_OK(shd_store(cpu, UBASE, 0x66));	/* cached writable */
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		s->rc[0] = shd_store(cpu, UBASE, 0x67);
		s->rc[1] = shd_load(cpu, UBASE, &s->v[0]);
		step_set(&s->step, 4);
	}
	return 0;
}

static void contract_mprotect(const char *policy)
{
	struct shd_machine *m = MACHINE(.ncpus = 3, .policy = policy);
	struct scn s = { .mm = test_mm(m) };

	cr_assert_eq(shd_run_on(m, 0, 2, mprotect_under_a_running_cpu, &s), 0);
	assert_tasks_ok();
	cr_assert_eq(s.rc[0], -EACCES, "%s: write through a stale writable "
		     "entry: %d", policy, s.rc[0]);
	cr_assert_eq(s.rc[1], 0);
	cr_assert_eq(s.v[0], 0x66, "%s: the write went through", policy);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

POLICY_PARAMS(flush, a_running_cpu_cannot_write_after_a_remote_mprotect)
ParameterizedTest(const struct preset_param *policy, flush,
		  a_running_cpu_cannot_write_after_a_remote_mprotect)
{
	contract_mprotect(policy->name);
}

/* ---- pruning ---- */

static int map_touch_protect(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_mprotect(cpu, s->mm, UBASE, PAGE, SHD_PROT_READ));
	return 0;
}

Test(flush, linux_sends_nothing_to_cpus_that_never_ran_the_mm)
{
	struct shd_machine *m = MACHINE(.ncpus = 4);
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats st;

	run_one(m, 0, map_touch_protect, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.flush_calls, 1);
	cr_assert_eq(st.ipis_avoided_pruned, 3);
	cr_assert_eq(st.ipis_sent, 0);
	cr_assert_eq(st.ipi_requests, 0);
	cr_assert_eq(st.shootdowns, 0);
	shd_machine_destroy(m);
}

Test(flush, broadcast_sends_to_every_other_online_cpu)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .policy = "broadcast");
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats st;

	run_one(m, 0, map_touch_protect, &s);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(st.flush_calls, 1);
	cr_assert_eq(st.ipis_avoided_pruned, 0);
	cr_assert_eq(st.ipis_sent, 3);
	cr_assert_eq(st.ipi_requests, 3);
	cr_assert_eq(st.shootdowns, 1);
	cr_assert_eq(st.lat_count, 1);
	cr_assert_gt(st.lat_max_ns, 0);
	shd_machine_destroy(m);
}

/* ---- flush_tlb_mm and flush_tlb_all ---- */

struct whole {
	struct shd_mm *mm;
	int flush;	/* 0 none, 1 flush_tlb_mm, 2 flush_tlb_all, 3 a kernel
			 * range above the ceiling, 4 one kernel page */
	int rc;
};

static int cache_user_and_kernel(struct shd_cpu *cpu, void *arg)
{
	struct whole *w = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, w->mm));
	T_OK(shd_mmap(cpu, w->mm, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_vmap(cpu, KBASE, PAGE));
	T_OK(shd_load(cpu, KBASE, &v));
	return 0;
}

static int flush_whole(struct shd_cpu *cpu, void *arg)
{
	struct whole *w = arg;

	if (w->flush == 1)
		w->rc = shd_flush_tlb_mm(cpu, w->mm);
	else if (w->flush == 2)
		w->rc = shd_flush_tlb_all(cpu);
	else if (w->flush == 3)
		w->rc = shd_flush_tlb_kernel_range(cpu, KBASE, KBASE + 64 * PAGE);
	else if (w->flush == 4)
		w->rc = shd_flush_tlb_kernel_range(cpu, KBASE, KBASE + PAGE);
	return 0;
}

static int reload_both(struct shd_cpu *cpu, void *arg)
{
	struct whole *w = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, w->mm));
	T_OK(shd_load(cpu, UBASE, &v));
	T_OK(shd_load(cpu, KBASE, &v));
	return 0;
}

/* Returns the TLB hits of cpu 1's reload of one user and one kernel page. */
static uint64_t hits_after(const char *policy, int flush, uint64_t *misses)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = policy);
	struct whole w = { test_mm(m), flush, 0 };
	struct shd_stats a, d;

	run_one(m, 1, cache_user_and_kernel, &w);
	run_one(m, 0, flush_whole, &w);
	a = test_stats(m);
	run_one(m, 1, reload_both, &w);
	assert_tasks_ok();
	cr_assert_eq(w.rc, 0, "flush returned %d", w.rc);
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
	*misses = d.tlb_misses;
	return d.tlb_hits;
}

Test(flush, flush_tlb_mm_removes_remote_user_translations_only)
{
	static const char *const pol[] = { "linux", "broadcast" };
	uint64_t misses;

	for (int i = 0; i < 2; i++) {
		cr_assert_eq(hits_after(pol[i], 0, &misses), 2, "%s: control", pol[i]);
		cr_assert_eq(misses, 0);
		cr_assert_eq(hits_after(pol[i], 1, &misses), 1, "%s", pol[i]);
		cr_assert_eq(misses, 1, "%s: user page not flushed", pol[i]);
	}
}

Test(flush, flush_tlb_all_removes_remote_user_and_kernel_translations)
{
	static const char *const pol[] = { "linux", "broadcast" };
	uint64_t misses;

	for (int i = 0; i < 2; i++) {
		cr_assert_eq(hits_after(pol[i], 2, &misses), 0, "%s", pol[i]);
		cr_assert_eq(misses, 2, "%s", pol[i]);
	}
}

/* Linux's flush_tlb_kernel_range() above the ceiling is do_flush_tlb_all()
 * on every CPU: __flush_tlb_all() drops every PCID, user entries too. */
Test(flush, kernel_range_above_the_ceiling_drops_every_pcid)
{
	static const char *const pol[] = { "linux", "linux-6.13", "broadcast" };
	uint64_t misses;

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(hits_after(pol[i], 3, &misses), 0, "%s", pol[i]);
		cr_assert_eq(misses, 2, "%s", pol[i]);
		/* below it: that page alone (INVLPG of a global entry) */
		cr_assert_eq(hits_after(pol[i], 4, &misses), 1, "%s", pol[i]);
		cr_assert_eq(misses, 1, "%s", pol[i]);
	}
}

/* ---- range: partial below the ceiling, full above ---- */

struct ranged {
	struct shd_mm *mm;
	uint64_t npages;
	int step, rc;
};

static int range_flush(struct shd_cpu *cpu, void *arg)
{
	struct ranged *r = arg;

	T_OK(shd_switch_mm(cpu, r->mm));
	if (shd_cpu_id(cpu) == 1) {
		step_set(&r->step, 1);
		step_wait(cpu, &r->step, 2);
		return 0;
	}
	step_wait(cpu, &r->step, 1);
	r->rc = shd_flush_tlb_range(cpu, r->mm, UBASE, UBASE + r->npages * PAGE);
	step_set(&r->step, 2);
	return 0;
}

static struct shd_stats range_counts(const char *policy, uint64_t npages)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = policy);
	struct ranged r = { test_mm(m), npages, 0, 0 };
	struct shd_stats st;

	cr_assert_eq(shd_run_on(m, 0, 2, range_flush, &r), 0);
	assert_tasks_ok();
	cr_assert_eq(r.rc, 0);
	st = test_stats(m);
	shd_machine_destroy(m);
	return st;
}

Test(flush, a_range_of_33_pages_is_flushed_page_by_page_and_34_in_full)
{
	static const char *const pol[] = { "linux", "broadcast" };

	for (int i = 0; i < 2; i++) {
		struct shd_stats a = range_counts(pol[i], 33);
		struct shd_stats b = range_counts(pol[i], 34);

		/* cpu 0 locally and cpu 1 through the IPI. */
		cr_assert_eq(a.flushes_partial, 2, "%s: 33 pages", pol[i]);
		cr_assert_eq(a.pages_invalidated, 66);
		cr_assert_eq(b.flushes_partial, 0, "%s: 34 pages", pol[i]);
		cr_assert_geq(b.flushes_full, 2);
		cr_assert_eq(b.pages_invalidated, 0);
	}
}

/* ---- bad arguments ---- */

struct bad {
	struct shd_mm *mm;
	int rc[12];
};

static int bad_ranges(struct shd_cpu *cpu, void *arg)
{
	struct bad *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	b->rc[0] = shd_flush_tlb_range(cpu, b->mm, UBASE + PAGE, UBASE);
	b->rc[1] = shd_flush_tlb_range(cpu, b->mm, UBASE + 8, UBASE + PAGE);
	b->rc[2] = shd_flush_tlb_range(cpu, b->mm, UBASE, UBASE + PAGE + 1);
	b->rc[3] = shd_flush_tlb_range(cpu, b->mm, UBASE, SHD_USER_TOP + PAGE);
	b->rc[4] = shd_flush_tlb_range(cpu, b->mm, SHD_KERNEL_BASE,
				       SHD_KERNEL_BASE + PAGE);
	b->rc[5] = shd_flush_tlb_range(cpu, NULL, UBASE, UBASE + PAGE);
	b->rc[6] = shd_flush_tlb_page(cpu, b->mm, UBASE + 8);
	b->rc[7] = shd_flush_tlb_page(cpu, b->mm, SHD_USER_TOP);
	b->rc[8] = shd_flush_tlb_kernel_range(cpu, UBASE, UBASE + PAGE);
	b->rc[9] = shd_flush_tlb_kernel_range(cpu, KBASE + PAGE, KBASE);
	b->rc[10] = shd_flush_tlb_mm(cpu, NULL);
	/* An empty range is fine and flushes nothing. */
	b->rc[11] = shd_flush_tlb_range(cpu, b->mm, UBASE, UBASE);
	return 0;
}

Test(flush, bad_ranges_are_einval_and_flush_nothing)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct bad b = { .mm = test_mm(m) };

	run_one(m, 0, bad_ranges, &b);
	assert_tasks_ok();
	for (int i = 0; i < 11; i++)
		cr_assert_eq(b.rc[i], -EINVAL, "case %d returned %d (%s)", i,
			     b.rc[i], shd_strerror(b.rc[i]));
	cr_assert_eq(b.rc[11], 0);
	cr_assert_eq(test_stats(m).flush_calls, 0);
	shd_machine_destroy(m);
}

/* ---- counters: every candidate lands in exactly one bucket ---- */

struct ident {
	struct shd_mm *mm;
	int step;
	int ready;
};

static int ident_lazy(struct shd_cpu *cpu, void *arg)
{
	struct ident *x = arg;

	T_OK(shd_switch_mm(cpu, x->mm));
	T_OK(shd_store(cpu, UBASE, 2));
	return 0;
}

static int ident_task(struct shd_cpu *cpu, void *arg)
{
	struct ident *x = arg;

	T_OK(shd_switch_mm(cpu, x->mm));
	if (shd_cpu_id(cpu) == 1) {
		T_OK(shd_store(cpu, UBASE, 1));
		step_set(&x->step, 1);
		step_wait(cpu, &x->step, 2);
		return 0;
	}
	step_wait(cpu, &x->step, 1);
	T_OK(shd_mprotect(cpu, x->mm, UBASE, PAGE, SHD_PROT_READ));
	step_set(&x->step, 2);
	return 0;
}

static int ident_map(struct shd_cpu *cpu, void *arg)
{
	struct ident *x = arg;

	T_OK(shd_switch_mm(cpu, x->mm));
	T_OK(shd_mmap(cpu, x->mm, UBASE, 2 * PAGE, RW));
	shd_switch_mm(cpu, NULL);	/* cpu 0 is a candidate like any other */
	return 0;
}

/* cpu 1 running the mm, cpu 2 lazy in it, cpu 3 never in it. */
static struct shd_stats one_flush_each_kind(const char *policy)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .policy = policy);
	struct ident x = { test_mm(m), 0, 0 };
	struct shd_stats st;

	run_one(m, 0, ident_map, &x);
	run_one(m, 2, ident_lazy, &x);
	cr_assert_eq(shd_run_on(m, 0, 2, ident_task, &x), 0);
	assert_tasks_ok();
	st = test_stats(m);
	shd_machine_destroy(m);
	return st;
}

/* Where each of the three candidates of one flush ends, per policy. */
struct candidates_row {
	char policy[16];
	uint64_t sent, lazy, pruned;
};

ParameterizedTestParameters(flush, each_candidate_is_sent_coalesced_pruned_or_lazy)
{
	static struct candidates_row rows[] = {
		/* running cpu 1 is sent one, lazy cpu 2 is skipped, cpu 3
		 * never ran the mm */
		{ "linux", 1, 1, 1 },
		{ "broadcast", 3, 0, 0 },
	};

	return cr_make_param_array(struct candidates_row, rows, ARRAY_LEN(rows));
}

ParameterizedTest(const struct candidates_row *row, flush,
		  each_candidate_is_sent_coalesced_pruned_or_lazy)
{
	struct shd_stats st = one_flush_each_kind(row->policy);

	cr_assert_eq(st.flush_calls, 1);
	cr_assert_eq(st.ipis_sent, row->sent, "%s", row->policy);
	cr_assert_eq(st.ipis_avoided_lazy, row->lazy, "%s: lazy cpu 2",
		     row->policy);
	cr_assert_eq(st.ipis_avoided_pruned, row->pruned, "%s: cpu 3 never "
		     "ran the mm", row->policy);
	cr_assert_eq(st.ipis_coalesced, 0);
	cr_assert_eq(candidates(&st), st.flush_calls * 3);
	cr_assert_eq(st.violations, 0);
}

static int every_interface(struct shd_cpu *cpu, void *arg)
{
	struct ident *x = arg;

	T_OK(shd_switch_mm(cpu, x->mm));
	if (shd_cpu_id(cpu) != 0) {
		T_OK(shd_store(cpu, UBASE, 1));
		__atomic_add_fetch(&x->ready, 1, __ATOMIC_RELEASE);
		step_wait(cpu, &x->step, 1);
		return 0;
	}
	while (__atomic_load_n(&x->ready, __ATOMIC_ACQUIRE) < 2)
		shd_cpu_poll(cpu);
	T_OK(shd_flush_tlb_all(cpu));
	T_OK(shd_flush_tlb_mm(cpu, x->mm));
	T_OK(shd_flush_tlb_range(cpu, x->mm, UBASE, UBASE + 2 * PAGE));
	T_OK(shd_flush_tlb_range(cpu, x->mm, UBASE, UBASE + 40 * PAGE));
	T_OK(shd_flush_tlb_page(cpu, x->mm, UBASE + PAGE));
	T_OK(shd_vmap(cpu, KBASE, 2 * PAGE));
	T_OK(shd_store(cpu, KBASE, 3));
	T_OK(shd_vunmap(cpu, KBASE, 2 * PAGE));
	T_OK(shd_flush_tlb_kernel_range(cpu, KBASE, KBASE + 64 * PAGE));
	T_OK(shd_mprotect(cpu, x->mm, UBASE, PAGE, SHD_PROT_READ));
	T_OK(shd_munmap(cpu, x->mm, UBASE, 2 * PAGE));
	step_set(&x->step, 1);
	return 0;
}

Test(flush, the_candidate_identity_holds_for_every_interface)
{
	static const char *const pol[] = { "linux", "broadcast" };

	for (int i = 0; i < 2; i++) {
		struct shd_machine *m = MACHINE(.ncpus = 5, .policy = pol[i]);
		struct ident x = { test_mm(m), 0, 0 };
		struct shd_stats st;

		run_one(m, 0, ident_map, &x);
		run_one(m, 4, ident_lazy, &x);	/* lazy in the mm */
		/* cpus 0..2 run the mm, 3 never does, 4 is lazy */
		cr_assert_eq(shd_run_on(m, 0, 3, every_interface, &x), 0);
		assert_tasks_ok();
		st = test_stats(m);
		/* all, mm, 2 ranges, page, vunmap, kernel range,
		 * mprotect, munmap */
		cr_assert_eq(st.flush_calls, 9, "%s: %lu flush calls", pol[i],
			     (unsigned long)st.flush_calls);
		cr_assert_eq(candidates(&st), st.flush_calls * 4,
			     "%s: sent %lu + coalesced %lu + pruned %lu + lazy %lu "
			     "!= %lu flushes x 4 candidates", pol[i],
			     (unsigned long)st.ipis_sent,
			     (unsigned long)st.ipis_coalesced,
			     (unsigned long)st.ipis_avoided_pruned,
			     (unsigned long)st.ipis_avoided_lazy,
			     (unsigned long)st.flush_calls);
		cr_assert_eq(st.violations, 0);
		shd_machine_destroy(m);
	}
}
