/* SPDX-License-Identifier: MIT */
/* Tests of kernel mappings (vmap/vunmap): flush_tlb_kernel_range reaches every CPU, lazy ones too. */
#include "shd_test.h"

/* ---- kernel mappings ---- */

static int vmap_scenario(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_vmap(cpu, KBASE, 2 * PAGE));
		T_OK(shd_store(cpu, KBASE + PAGE + 8, 0xbeef));
		s->rc[2] = shd_vmap(cpu, KBASE + PAGE, PAGE);	/* taken */
		step_set(&s->step, 1);
		step_wait(cpu, &s->step, 2);
		T_OK(shd_vunmap(cpu, KBASE, 2 * PAGE));
		step_set(&s->step, 3);
		step_wait(cpu, &s->step, 4);
		return 0;
	}
	step_wait(cpu, &s->step, 1);
	T_OK(shd_load(cpu, KBASE + PAGE + 8, &s->v[0]));
	T_OK(shd_load(cpu, KBASE + PAGE + 8, &s->v[1]));	/* global hit */
	step_set(&s->step, 2);
	step_wait(cpu, &s->step, 3);
	s->rc[0] = shd_load(cpu, KBASE + PAGE + 8, &s->v[2]);
	s->rc[1] = shd_store(cpu, KBASE, 1);
	step_set(&s->step, 4);
	return 0;
}

Test(vmalloc, vunmap_reaches_every_cpu_that_used_the_kernel_mapping)
{
	static const char *const pol[] = { "linux", "broadcast" };

	for (int i = 0; i < 2; i++) {
		struct shd_machine *m = MACHINE(.ncpus = 2, .policy = pol[i]);
		struct scn s = { .mm = test_mm(m) };
		struct shd_stats st;

		cr_assert_eq(shd_run_on(m, 0, 2, vmap_scenario, &s), 0);
		assert_tasks_ok();
		st = test_stats(m);
		cr_assert_eq(s.v[0], 0xbeef, "%s: cpu 1 does not see cpu 0's "
			     "vmap data", pol[i]);
		cr_assert_eq(s.rc[0], -EFAULT, "%s: load after vunmap: %d",
			     pol[i], s.rc[0]);
		cr_assert_eq(s.rc[1], -EFAULT);
		cr_assert_eq(s.rc[2], -EEXIST);
		cr_assert_geq(st.ipi_requests, 1);
		cr_assert_eq(st.violations, 0);
		shd_machine_destroy(m);
	}
}

static int lazy_kernel_user(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_load(cpu, KBASE, &s->v[0]));
	return 0;
}

static int vmap_only(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_OK(shd_vmap(cpu, KBASE, PAGE));
	T_OK(shd_store(cpu, KBASE, 9));
	return 0;
}

static int vunmap_only(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_OK(shd_vunmap(cpu, KBASE, PAGE));
	return 0;
}

static int kernel_load(struct shd_cpu *cpu, void *arg)
{
	struct scn *s = arg;

	s->rc[0] = shd_load(cpu, KBASE, &s->v[1]);	/* lazy: kernel is fine */
	return 0;
}

Test(vmalloc, kernel_range_flushes_do_not_skip_lazy_cpus)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct scn s = { .mm = test_mm(m) };
	struct shd_stats a, d;

	run_one(m, 0, vmap_only, &s);
	run_one(m, 1, lazy_kernel_user, &s);
	a = test_stats(m);
	run_one(m, 0, vunmap_only, &s);
	run_one(m, 1, kernel_load, &s);
	assert_tasks_ok();
	d = stats_delta(&a, test_stats(m));
	cr_assert_eq(s.v[0], 9);
	cr_assert_eq(d.ipis_avoided_lazy, 0);
	cr_assert_eq(d.ipis_sent, 1);
	cr_assert_eq(s.rc[0], -EFAULT);
	cr_assert_eq(test_stats(m).violations, 0);
	shd_machine_destroy(m);
}
