/* SPDX-License-Identifier: MIT */
/* Tests of the library's robustness: bad input, wrong threads, teardown. */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#define _LGPL_SOURCE
#include <urcu.h>

#include "shd_test.h"

Test(api, null_arguments_give_einval_not_a_crash)
{
	struct shd_config c;
	struct shd_policy p;
	char buf[8];

	shd_config_init(NULL);
	c = test_config(1, "linux");
	cr_assert_eq(shd_machine_create(&c, NULL), -EINVAL);
	cr_assert_eq(shd_machine_create(NULL, NULL), -EINVAL);
	cr_assert_eq(shd_policy_preset("linux", NULL), -EINVAL);
	cr_assert_eq(shd_policy_set(NULL, "prune", "on"), -EINVAL);
	cr_assert_eq(shd_policy_format(NULL, buf, sizeof(buf)), -EINVAL);
	shd_policy_preset("linux", &p);
	cr_assert_eq(shd_policy_format(&p, buf, sizeof(buf)), -ERANGE);
	cr_assert_not_null(shd_policy_presets(NULL));
	cr_assert_not_null(shd_policy_knobs(NULL));
	cr_assert_not_null(shd_faults(NULL));
	cr_assert_not_null(shd_stat_fields(NULL));
	cr_assert_eq(shd_load(NULL, UBASE, NULL), -EINVAL);
	cr_assert_eq(shd_store(NULL, UBASE, 1), -EINVAL);
	cr_assert_eq(shd_fetch(NULL, UBASE, NULL), -EINVAL);
	cr_assert_eq(shd_flush_tlb_all(NULL), -EINVAL);
	cr_assert_eq(shd_machine_ncpus(NULL), 0);
	cr_assert_eq(shd_machine_violations(NULL, NULL, 0), 0);
	cr_assert_gt(strlen(shd_last_error()), 0);
}

static int create_inside(struct shd_cpu *cpu, void *arg)
{
	struct shd_config *c = arg;
	struct shd_machine *inner = NULL;

	(void)cpu;
	return shd_machine_create(c, &inner) == -EPERM && !inner ? 0 : -1;
}

static int destroy_inside(struct shd_cpu *cpu, void *arg)
{
	(void)cpu;
	shd_machine_destroy(arg);	/* refused: it would join itself */
	return strstr(shd_last_error(), "not from a CPU thread") ? 0 : -1;
}

Test(api, machines_are_not_created_or_destroyed_from_cpu_threads)
{
	struct shd_config c = test_config(2, "linux");
	struct shd_machine *m = test_machine(&c);
	int ret = -2;

	cr_assert_eq(shd_cpu_submit(m, 0, create_inside, &c), 0);
	cr_assert_eq(shd_cpu_join(m, 0, &ret), 0);
	cr_assert_eq(ret, 0, "create from a CPU thread was not refused");
	cr_assert_eq(shd_cpu_submit(m, 1, destroy_inside, m), 0);
	cr_assert_eq(shd_cpu_join(m, 1, &ret), 0);
	cr_assert_eq(ret, 0, "destroy from a CPU thread did not say why");
	shd_machine_destroy(m);
}

static int touch(struct shd_cpu *cpu, void *arg)
{
	struct shd_mm *mm = arg;

	T_OK(shd_switch_mm(cpu, mm));
	T_OK(shd_mmap(cpu, mm, UBASE, PAGE, SHD_PROT_READ | SHD_PROT_WRITE));
	T_OK(shd_store(cpu, UBASE, 7));
	return 0;
}

Test(api, a_thread_registered_with_liburcu_can_destroy_mms_and_machines)
{
	struct shd_config c = test_config(2, "linux");
	struct shd_machine *m;
	struct shd_mm *mm;

	rcu_register_thread();	/* the caller uses liburcu itself */
	m = test_machine(&c);
	mm = test_mm(m);
	run_one(m, 1, touch, mm);	/* CPU 1 keeps it lazily */
	shd_mm_destroy(mm);
	mm = test_mm(m);
	shd_mm_destroy(mm);		/* the last reference, from this thread */
	shd_machine_destroy(m);
	rcu_unregister_thread();
	assert_tasks_ok();
}

static int bad_vmap(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_EQ(shd_vmap(cpu, SHD_KERNEL_BASE, SHD_KERNEL_TOP - SHD_KERNEL_BASE),
	     -ENOMEM);
	/* By the size check, before mapping anything: not after filling
	 * memory and undoing it ("out of simulated memory"). */
	T_EQ(!!strstr(shd_last_error(), "more than the machine's"), 1);
	return 0;
}

Test(api, a_vmap_larger_than_memory_is_refused_at_once, .timeout = 10)
{
	struct shd_config c = test_config(1, "linux");
	struct shd_machine *m = test_machine(&c);

	run_one(m, 0, bad_vmap, NULL);
	assert_tasks_ok();
	shd_machine_destroy(m);
}

/* ---- a flush whose target never answers ---- */

struct wedge {
	struct shd_mm *a, *b;
	int step;
	int unmap_rc;
	uint64_t seen;
};

#define PATTERN 0x5eed5eedull

/* Steps: 1 mapped (cpu 0), 2 cached (cpu 1), 3 unmapped and scribbled (cpu 0). */
static int wedge_cpu1(struct shd_cpu *cpu, void *arg)
{
	struct wedge *w = arg;
	uint64_t v = 0;

	step_wait(cpu, &w->step, 1);
	T_OK(shd_switch_mm(cpu, w->a));
	T_OK(shd_load(cpu, UBASE, &v));		/* caches the translation */
	step_set(&w->step, 2);
	/* Takes no IPIs meanwhile: cpu 0's watchdog (100 ms) fires first. */
	T_OK(shd_cpu_compute(cpu, 300 * 1000000ull));
	step_wait(cpu, &w->step, 3);
	/* The unmap failed: nothing may have reused the frame behind the
	 * translation this CPU still holds. */
	T_OK(shd_load(cpu, UBASE, &w->seen));
	return 0;
}

static int wedge_cpu0(struct shd_cpu *cpu, void *arg)
{
	struct wedge *w = arg;

	T_OK(shd_switch_mm(cpu, w->a));
	T_OK(shd_mmap(cpu, w->a, UBASE, 2 * PAGE, SHD_PROT_READ | SHD_PROT_WRITE));
	T_OK(shd_store(cpu, UBASE, PATTERN));
	T_OK(shd_store(cpu, UBASE + PAGE, 1));	/* keeps the table alive */
	step_set(&w->step, 1);
	step_wait(cpu, &w->step, 2);
	w->unmap_rc = shd_munmap(cpu, w->a, UBASE, PAGE);
	/* Allocate every free frame in another mm and scribble on it. */
	T_OK(shd_switch_mm(cpu, w->b));
	T_OK(shd_mmap(cpu, w->b, UBASE, 64 * PAGE, SHD_PROT_READ | SHD_PROT_WRITE));
	for (uint64_t i = 0; i < 64; i++)
		if (shd_store(cpu, UBASE + i * PAGE, 0xbad) != 0)
			break;			/* out of frames: fine */
	step_set(&w->step, 3);
	return 0;
}

Test(api, a_failed_shootdown_quarantines_the_frames, .timeout = 30)
{
	struct shd_config c = test_config(2, "linux");
	struct shd_machine *m;
	struct wedge w;

	c.sched.mode = SHD_SCHED_SEEDED;	/* the watchdog on simulated time */
	c.watchdog_ms = 100;
	c.nframes = 48;
	m = test_machine(&c);
	memset(&w, 0, sizeof(w));
	w.a = test_mm(m);
	w.b = test_mm(m);
	cr_assert_eq(shd_cpu_submit(m, 1, wedge_cpu1, &w), 0);
	cr_assert_eq(shd_cpu_submit(m, 0, wedge_cpu0, &w), 0);
	cr_assert_eq(shd_cpu_join(m, 0, NULL), 0);
	cr_assert_eq(shd_cpu_join(m, 1, NULL), 0);
	assert_tasks_ok();
	cr_assert_eq(w.unmap_rc, -ETIMEDOUT);
	cr_assert_eq(w.seen, PATTERN, "the stale translation reads 0x%" PRIx64
		     ": the frame was reused", w.seen);
	shd_mm_destroy(w.a);
	shd_mm_destroy(w.b);
	shd_machine_destroy(m);
}

static int raise_violation(struct shd_cpu *cpu, void *arg)
{
	struct shd_mm *mm = arg;
	uint64_t v;

	T_OK(shd_switch_mm(cpu, mm));
	T_OK(shd_mmap(cpu, mm, UBASE, 2 * PAGE, SHD_PROT_READ | SHD_PROT_WRITE));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_store(cpu, UBASE + PAGE, 1));
	T_OK(shd_munmap(cpu, mm, UBASE, PAGE));	/* local flush skipped */
	T_OK(shd_load(cpu, UBASE, &v));		/* stale hit */
	return 0;
}

Test(api, resetting_the_counters_resets_the_violations_and_firings_too)
{
	struct shd_config c = test_config(1, "linux");
	struct shd_machine *m;
	struct shd_mm *mm;

	c.faults = 1ull << SHD_FAULT_SKIP_LOCAL_FLUSH;
	m = test_machine(&c);
	mm = test_mm(m);
	run_one(m, 0, raise_violation, mm);
	cr_assert_geq(test_stats(m).violations, 1);
	cr_assert_geq(shd_fault_firings(m, SHD_FAULT_SKIP_LOCAL_FLUSH), 1);
	cr_assert_eq(shd_fault_firings(m, SHD_FAULT_SKIP_REMOTE_IPI), 0);
	cr_assert_eq(shd_fault_firings(m, SHD_FAULT__COUNT), 0);
	cr_assert_eq(shd_fault_firings(NULL, SHD_FAULT_SKIP_LOCAL_FLUSH), 0);
	shd_machine_stats_reset(m);
	cr_assert_eq(test_stats(m).violations, 0);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 0);
	cr_assert_eq(shd_fault_firings(m, SHD_FAULT_SKIP_LOCAL_FLUSH), 0);
	shd_mm_destroy(mm);
	shd_machine_destroy(m);
}
