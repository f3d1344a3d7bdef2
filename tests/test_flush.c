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
	static const char *const pol[] = { "linux", "linux-6.12", "broadcast" };
	uint64_t misses;

	for (int i = 0; i < 3; i++) {
		cr_assert_eq(hits_after(pol[i], 3, &misses), 0, "%s", pol[i]);
		cr_assert_eq(misses, 2, "%s", pol[i]);
		/* below it: that page alone (INVLPG of a global entry) */
		cr_assert_eq(hits_after(pol[i], 4, &misses), 1, "%s", pol[i]);
		cr_assert_eq(misses, 1, "%s", pol[i]);
	}
}

/* ---- counting as Linux counts (arch/x86/mm/tlb.c, 6.18) ---- */

struct counted {
	struct shd_mm *mm;
	int op;
	int rc;
};

enum { OP_USER_MM, OP_ALL, OP_KERNEL_SMALL, OP_KERNEL_BIG, OP_LOCAL };

static int counted_flush(struct shd_cpu *cpu, void *arg)
{
	struct counted *c = arg;

	switch (c->op) {
	case OP_USER_MM:
		c->rc = shd_flush_tlb_mm(cpu, c->mm);
		break;
	case OP_ALL:
		c->rc = shd_flush_tlb_all(cpu);
		break;
	case OP_KERNEL_SMALL:	/* below the ceiling of 33: page by page */
		c->rc = shd_flush_tlb_kernel_range(cpu, KBASE, KBASE + 2 * PAGE);
		break;
	case OP_KERNEL_BIG:	/* above it: do_flush_tlb_all() everywhere */
		c->rc = shd_flush_tlb_kernel_range(cpu, KBASE, KBASE + 40 * PAGE);
		break;
	case OP_LOCAL:		/* our own mm: 2 pages, then the whole mm */
		T_OK(shd_switch_mm(cpu, c->mm));
		T_OK(shd_mmap(cpu, c->mm, UBASE, 2 * PAGE, RW));
		T_OK(shd_store(cpu, UBASE, 1));
		T_OK(shd_flush_tlb_range(cpu, c->mm, UBASE, UBASE + 2 * PAGE));
		c->rc = shd_flush_tlb_mm(cpu, c->mm);
		break;
	}
	return 0;
}

/* Counters of OP run on cpu 0 of a fresh 4-CPU machine under POLICY. */
static struct shd_stats counted_on_4(const char *policy, int op)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .policy = policy);
	struct counted c = { test_mm(m), op, 0 };
	struct shd_stats st;

	run_one(m, 0, counted_flush, &c);
	assert_tasks_ok();
	cr_assert_eq(c.rc, 0, "op %d: %d", op, c.rc);
	st = test_stats(m);
	cr_assert_eq(st.ipi_candidates, candidates(&st), "op %d", op);
	cr_assert_eq(st.ipis_received, st.ipis_sent, "op %d", op);
	shd_machine_destroy(m);
	return st;
}

Test(flush, a_user_flush_counts_on_the_tlb_line_of_every_cpu_it_reaches)
{
	/* broadcast: all three others get it, though none runs the mm;
	 * Linux counts the TLB line before the wrong-CPU return. */
	struct shd_stats st = counted_on_4("broadcast", OP_USER_MM);

	cr_assert_eq(st.ipi_candidates, 3);
	cr_assert_eq(st.ipis_sent, 3);
	cr_assert_eq(st.ipi_requests, 3);
	cr_assert_eq(st.tlb_interrupts, 3);
	cr_assert_eq(st.nr_tlb_remote_flush, 1, "one flush_tlb_multi call");
	cr_assert_eq(st.nr_tlb_remote_flush_received, 3);
	/* linux: nobody else in the mask, no flush_tlb_multi at all. */
	st = counted_on_4("linux", OP_USER_MM);
	cr_assert_eq(st.ipi_candidates, 3);
	cr_assert_eq(st.ipis_avoided_pruned, 3);
	cr_assert_eq(st.tlb_interrupts, 0);
	cr_assert_eq(st.nr_tlb_remote_flush, 0);
	cr_assert_eq(st.nr_tlb_remote_flush_received, 0);
}

Test(flush, kernel_flushes_stay_off_the_tlb_line)
{
	struct shd_stats st = counted_on_4("linux", OP_ALL);

	/* flush_tlb_all: NR_TLB_REMOTE_FLUSH once, do_flush_tlb_all() on
	 * all four CPUs counts a received flush, the initiator's too. */
	cr_assert_eq(st.ipi_candidates, 3);
	cr_assert_eq(st.ipis_sent, 3);
	cr_assert_eq(st.ipi_requests, 3);
	cr_assert_eq(st.tlb_interrupts, 0);
	cr_assert_eq(st.nr_tlb_remote_flush, 1);
	cr_assert_eq(st.nr_tlb_remote_flush_received, 4);
	/* Below the ceiling: flush_tlb_one_kernel() per page on every CPU. */
	st = counted_on_4("linux", OP_KERNEL_SMALL);
	cr_assert_eq(st.ipi_requests, 3);
	cr_assert_eq(st.tlb_interrupts, 0);
	cr_assert_eq(st.nr_tlb_remote_flush, 0);
	cr_assert_eq(st.nr_tlb_remote_flush_received, 0);
	cr_assert_eq(st.nr_tlb_local_flush_one, 2 * 4);
	/* Above it: do_flush_tlb_all() on every CPU, no NR_TLB_REMOTE_FLUSH. */
	st = counted_on_4("linux", OP_KERNEL_BIG);
	cr_assert_eq(st.tlb_interrupts, 0);
	cr_assert_eq(st.nr_tlb_remote_flush, 0);
	cr_assert_eq(st.nr_tlb_remote_flush_received, 4);
	cr_assert_eq(st.nr_tlb_local_flush_one, 0);
}

Test(flush, the_initiators_own_work_is_the_local_vmstat)
{
	struct shd_stats st = counted_on_4("linux", OP_LOCAL);

	/* Two pages one generation behind: INVLPG each; then flush_tlb_mm:
	 * a full flush of our own context.  Nothing remote. */
	cr_assert_eq(st.nr_tlb_local_flush_one, 2);
	cr_assert_eq(st.nr_tlb_local_flush_all, 1);
	cr_assert_eq(st.tlb_interrupts, 0);
	cr_assert_eq(st.nr_tlb_remote_flush_received, 0);
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
		 * mprotect, munmap (1: x86 merges VMAs, so no flush at
		 * tlb_end_vma(); the freed page table's flush at
		 * tlb_finish_mmu() covers the range) */
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
		cr_assert_eq(st.ipi_candidates, candidates(&st), "%s", pol[i]);
		cr_assert_eq(st.violations, 0);
		shd_machine_destroy(m);
	}
}

/* ---- mprotect: x86's pte_needs_flush() (c9fe66560bf2) ---- */

struct prot {
	struct shd_mm *mm;
	unsigned prot;
	int rc;
	uint64_t v;
};

static int prot_map_touch(struct shd_cpu *cpu, void *arg)
{
	struct prot *p = arg;

	T_OK(shd_switch_mm(cpu, p->mm));
	T_OK(shd_mmap(cpu, p->mm, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x61));
	T_OK(shd_store(cpu, UBASE + PAGE, 0x62));
	return 0;
}

static int prot_change(struct shd_cpu *cpu, void *arg)
{
	struct prot *p = arg;

	p->rc = shd_mprotect(cpu, p->mm, UBASE, 2 * PAGE, p->prot);
	return 0;
}

static int prot_load(struct shd_cpu *cpu, void *arg)
{
	struct prot *p = arg;

	T_OK(shd_switch_mm(cpu, p->mm));	/* a returning task went lazy */
	p->rc = shd_load(cpu, UBASE, &p->v);
	return 0;
}

/*
 * Two touched pages through read-only, read-write (adding write to a
 * present page: x86 flushes on any change of RW), none (Present cleared:
 * flush) and back to read (from not present: no flush, two PTEs avoided;
 * other architectures keep the generic "always").  FLUSHES: the flush
 * calls after each of the four.
 */
static void protect_steps(const char *arch, const uint64_t flushes[4],
			  uint64_t avoided)
{
	static const unsigned prots[4] = { SHD_PROT_READ, RW, SHD_PROT_NONE,
					   SHD_PROT_READ };
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = arch);
	struct prot p = { .mm = test_mm(m) };
	struct shd_stats st = { 0 };

	run_one(m, 0, prot_map_touch, &p);
	for (int i = 0; i < 4; i++) {
		uint64_t before = test_stats(m).flush_calls;

		p.prot = prots[i];
		run_one(m, 0, prot_change, &p);
		cr_assert_eq(p.rc, 0, "%s: mprotect %d: %d", arch, i, p.rc);
		st = test_stats(m);
		cr_assert_eq(st.flush_calls - before, flushes[i],
			     "%s: mprotect %d: %" PRIu64 " flush calls", arch, i,
			     st.flush_calls - before);
	}
	cr_assert_eq(st.mprotect_flushes_avoided, avoided, "%s: %" PRIu64
		     " avoided", arch, st.mprotect_flushes_avoided);
	run_one(m, 0, prot_load, &p);	/* present again, unflushed */
	cr_assert_eq(p.rc, 0);
	cr_assert_eq(p.v, 0x61);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}

Test(flush, mprotect_skips_the_flush_only_where_x86_needs_none)
{
	protect_steps("x86", (const uint64_t[4]){ 1, 1, 1, 0 }, 2);
}

Test(flush, mprotect_always_flushes_on_other_architectures)
{
	protect_steps("arm64", (const uint64_t[4]){ 1, 1, 1, 1 }, 0);
}

/* ---- a CPU's own counters, read during a run (shd_cpu_stats) ---- */

static int count_own_ipis(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;
	struct shd_stats before, after;

	T_OK(shd_switch_mm(cpu, s->mm));
	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_mmap(cpu, s->mm, UBASE, PAGE, RW));
		T_OK(shd_store(cpu, UBASE, 1));
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		shd_cpu_stats(cpu, &before);
		T_OK(shd_munmap(cpu, s->mm, UBASE, PAGE));
		shd_cpu_stats(cpu, &after);
		s->v[0] = after.ipis_sent - before.ipis_sent;
		s->v[1] = after.flush_calls - before.flush_calls;
		step_set(&s->step, 3);
	} else {
		step_wait(cpu, &s->step, 1);
		T_LOAD(cpu, UBASE, 1);
		step_set(&s->step, 2);
		step_wait(cpu, &s->step, 3);
		shd_cpu_stats(cpu, &after);
		s->v[2] = after.ipis_sent;
	}
	return 0;
}

Test(flush, a_cpu_reads_the_ipis_its_own_call_sent)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .policy = "linux");
	struct scn s = { .mm = test_mm(m) };

	cr_assert_eq(shd_run_on(m, 0, 2, count_own_ipis, &s), 0);
	assert_tasks_ok();
	cr_assert_eq(s.v[0], 1, "the munmap sent %lu IPIs", (unsigned long)s.v[0]);
	cr_assert_eq(s.v[1], 1);
	cr_assert_eq(s.v[2], 0, "cpu 1 sent %lu", (unsigned long)s.v[2]);
	cr_assert_eq(test_stats(m).ipis_sent, 1);
	shd_machine_destroy(m);
}
