/* SPDX-License-Identifier: MIT */
/* Tests of the machine: config validation, lifecycle, tasks, thread contracts. */
#include <limits.h>
#include <unistd.h>

#include "shd_test.h"

/* ---- configuration ---- */

static int create_err(const struct shd_config *c)
{
	struct shd_machine *m = (struct shd_machine *)&m;	/* not NULL */
	int err = shd_machine_create(c, &m);

	if (err == 0)
		shd_machine_destroy(m);
	else
		cr_assert_null(m, "failed create left *out set");
	return err;
}

Test(machine, config_init_describes_a_small_x86_box)
{
	struct shd_config c;

	memset(&c, 0xa5, sizeof(c));
	shd_config_init(&c);
	cr_assert_eq(c.ncpus, 8);
	cr_assert_eq(c.dtlb.entries, 1536);	/* a Skylake STLB */
	cr_assert_eq(c.dtlb.ways, 12);
	cr_assert_eq(c.page_shift, 12);
	cr_assert_str_eq(c.policy.name, "linux");
	cr_assert(c.oracle);
	cr_assert_eq(c.faults, 0);
	cr_assert(!c.split_tlb);
}

Test(machine, rejects_zero_and_too_many_cpus_with_erange)
{
	struct shd_config c = test_config(0, NULL);

	cr_assert_eq(create_err(&c), -ERANGE);
	cr_assert_not_null(strstr(shd_last_error(), "ncpus 0"),
			   "error does not name the value: '%s'", shd_last_error());
	c.ncpus = SHD_MAX_CPUS + 1;
	cr_assert_eq(create_err(&c), -ERANGE);
	cr_assert_not_null(strstr(shd_last_error(), "1025"), "'%s'",
			   shd_last_error());
	c.ncpus = UINT_MAX;
	cr_assert_eq(create_err(&c), -ERANGE);
}

Test(machine, rejects_bad_tlb_geometry)
{
	struct shd_config c = test_config(1, NULL);

	c.dtlb.entries = 0;
	cr_assert_lt(create_err(&c), 0, "0 entries accepted");
	cr_assert_str_not_empty(shd_last_error());
	c = test_config(1, NULL);
	c.dtlb.ways = 0;
	cr_assert_lt(create_err(&c), 0, "0 ways accepted");
	c = test_config(1, NULL);
	c.dtlb.ways = 4;
	c.dtlb.entries = 65;		/* not a multiple of 4 ways */
	cr_assert_eq(create_err(&c), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "dtlb"), "'%s'",
			   shd_last_error());
	c = test_config(1, NULL);
	c.dtlb.ways = 4;
	c.dtlb.entries = 48;		/* 12 sets: not a power of two */
	cr_assert_eq(create_err(&c), -EINVAL);
	c = test_config(1, NULL);
	c.dtlb.entries = 512;
	c.dtlb.ways = 256;		/* over 255 ways */
	cr_assert_lt(create_err(&c), 0);
}

Test(machine, checks_the_itlb_only_when_split)
{
	struct shd_config c = test_config(1, NULL);

	c.itlb.entries = 3;
	c.itlb.ways = 2;
	cr_assert_eq(create_err(&c), 0, "unused itlb was checked: %s",
		     shd_last_error());
	c.split_tlb = true;
	cr_assert_eq(create_err(&c), -EINVAL);
	cr_assert_not_null(strstr(shd_last_error(), "itlb"), "'%s'",
			   shd_last_error());
}

Test(machine, rejects_page_shift_out_of_range)
{
	struct shd_config c = test_config(1, NULL);

	c.page_shift = 11;
	cr_assert_eq(create_err(&c), -ERANGE);
	cr_assert_not_null(strstr(shd_last_error(), "page_shift"), "'%s'",
			   shd_last_error());
	c.page_shift = 31;
	cr_assert_eq(create_err(&c), -ERANGE);
	c.page_shift = 0;
	cr_assert_eq(create_err(&c), -ERANGE);
	/* A valid larger page with little memory. */
	c.page_shift = 16;
	c.nframes = 64;
	cr_assert_eq(create_err(&c), 0, "%s", shd_last_error());
}

Test(machine, rejects_other_bad_fields)
{
	struct shd_config c = test_config(1, NULL);

	c.nframes = 15;
	cr_assert_eq(create_err(&c), -ERANGE);
	c = test_config(1, NULL);
	c.faults = 1ull << SHD_FAULT__COUNT;
	cr_assert_eq(create_err(&c), -EINVAL);
	c = test_config(1, NULL);
	c.policy.ceiling = SHD_CEILING_MAX + 1;
	cr_assert_eq(create_err(&c), -ERANGE);
	cr_assert_eq(create_err(NULL), -EINVAL);
}

/* ---- lifecycle ---- */

struct who {
	int ran[64];
	unsigned ids[64];
};

static int mark_cpu(struct shd_cpu *cpu, void *arg)
{
	struct who *w = arg;
	unsigned id = shd_cpu_id(cpu);

	if (id < 64) {
		w->ids[id] = id;
		__atomic_add_fetch(&w->ran[id], 1, __ATOMIC_RELAXED);
	}
	return shd_cpu_machine(cpu) ? 0 : -EINVAL;
}

static void create_run_destroy_in(unsigned ncpus, bool bind,
				  enum shd_sched_mode mode)
{
	struct shd_config c = test_config(ncpus, NULL);
	struct shd_machine *m;
	struct who w;

	memset(&w, 0, sizeof(w));
	c.bind = bind;
	c.sched.mode = mode;
	m = test_machine(&c);
	cr_assert_eq(shd_machine_ncpus(m), ncpus);
	cr_assert_eq(shd_machine_config(m)->ncpus, ncpus);
	cr_assert_eq(shd_machine_config(m)->seed, TEST_SEED);
	cr_assert_geq(shd_machine_host_pus(m), 1);
	cr_assert_eq(shd_run_on(m, 0, ncpus, mark_cpu, &w), 0, "%s",
		     shd_last_error());
	for (unsigned i = 0; i < ncpus; i++) {
		cr_assert_eq(w.ran[i], 1, "cpu %u ran %d times", i, w.ran[i]);
		cr_assert_eq(w.ids[i], i);
	}
	shd_machine_destroy(m);
}

/* Both schedulers: the host's binds CPUs round-robin over the PUs, the
 * seeded one puts them all on one. */
static void create_run_destroy(unsigned ncpus, bool bind)
{
	create_run_destroy_in(ncpus, bind, SHD_SCHED_HOST);
	create_run_destroy_in(ncpus, bind, SHD_SCHED_SEEDED);
}

Test(machine, creates_and_destroys_one_cpu)
{
	create_run_destroy(1, true);
}

Test(machine, creates_and_destroys_eight_cpus)
{
	create_run_destroy(8, true);
}

Test(machine, creates_and_destroys_sixty_four_cpus)
{
	create_run_destroy(64, true);
}

Test(machine, creates_sixty_four_unbound_cpus)
{
	create_run_destroy(64, false);
}

Test(machine, destroy_of_null_is_a_no_op)
{
	shd_machine_destroy(NULL);
}

struct leftover {
	struct shd_mm *mm;
};

static int touch_and_leave(struct shd_cpu *cpu, void *arg)
{
	struct leftover *l = arg;

	T_OK(shd_switch_mm(cpu, l->mm));
	T_OK(shd_mmap(cpu, l->mm, UBASE, 4 * PAGE, SHD_PROT_READ | SHD_PROT_WRITE));
	T_OK(shd_store(cpu, UBASE + PAGE, 42));
	return 0;	/* the CPU stays lazily in the mm */
}

Test(machine, destroy_frees_address_spaces_still_loaded_or_not_destroyed)
{
	struct shd_config c = test_config(2, NULL);
	struct shd_machine *m = test_machine(&c);
	struct leftover a = { test_mm(m) }, b = { test_mm(m) };

	cr_assert_neq(shd_mm_id(a.mm), shd_mm_id(b.mm));
	run_one(m, 0, touch_and_leave, &a);
	run_one(m, 1, touch_and_leave, &b);
	assert_tasks_ok();
	shd_mm_destroy(a.mm);	/* CPU 0 still holds it lazily */
	shd_machine_destroy(m);	/* b.mm was never destroyed */
}

/* ---- tasks ---- */

static int return_arg(struct shd_cpu *cpu, void *arg)
{
	(void)cpu;
	return (int)(intptr_t)arg;
}

static int fail_on_odd(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	return shd_cpu_id(cpu) % 2 ? -EIO : 0;
}

static int spin_until_released(struct shd_cpu *cpu, void *arg)
{
	int *go = arg;

	while (!__atomic_load_n(go, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	return 7;
}

Test(machine, join_returns_the_task_value)
{
	struct shd_config c = test_config(2, NULL);
	struct shd_machine *m = test_machine(&c);
	int ret = 0;

	cr_assert_eq(shd_cpu_submit(m, 1, return_arg, (void *)(intptr_t)42), 0);
	cr_assert_eq(shd_cpu_join(m, 1, &ret), 0);
	cr_assert_eq(ret, 42);
	cr_assert_eq(shd_cpu_submit(m, 1, return_arg, (void *)(intptr_t)-3), 0);
	cr_assert_eq(shd_cpu_join(m, 1, NULL), 0, "NULL ret must be allowed");
	/* A CPU can run task after task. */
	cr_assert_eq(shd_cpu_submit(m, 1, return_arg, (void *)(intptr_t)5), 0);
	cr_assert_eq(shd_cpu_join(m, 1, &ret), 0);
	cr_assert_eq(ret, 5);
	shd_machine_destroy(m);
}

Test(machine, submit_and_join_report_bad_use)
{
	struct shd_config c = test_config(2, NULL);
	struct shd_machine *m = test_machine(&c);
	int go = 0, ret = 0;

	cr_assert_eq(shd_cpu_submit(m, 2, return_arg, NULL), -ERANGE);
	cr_assert_str_not_empty(shd_last_error());
	cr_assert_eq(shd_cpu_submit(m, 0, NULL, NULL), -EINVAL);
	cr_assert_eq(shd_cpu_join(m, 2, NULL), -ERANGE);
	cr_assert_eq(shd_cpu_join(m, 0, NULL), -ESRCH, "join with no task");
	cr_assert_eq(shd_cpu_submit(m, 0, spin_until_released, &go), 0);
	cr_assert_eq(shd_cpu_submit(m, 0, return_arg, NULL), -EBUSY);
	__atomic_store_n(&go, 1, __ATOMIC_RELEASE);
	cr_assert_eq(shd_cpu_join(m, 0, &ret), 0);
	cr_assert_eq(ret, 7);
	cr_assert_eq(shd_cpu_join(m, 0, NULL), -ESRCH, "joined twice");
	shd_machine_destroy(m);
}

Test(machine, a_finished_task_must_be_joined_before_the_next)
{
	struct shd_config c = test_config(1, NULL);
	struct shd_machine *m;
	int ret = 0;

	/* Host: a seeded CPU runs only while the controller waits in a join,
	 * so its task could not finish before the join. */
	c.sched.mode = SHD_SCHED_HOST;
	m = test_machine(&c);

	cr_assert_eq(shd_cpu_submit(m, 0, return_arg, (void *)(intptr_t)1), 0);
	usleep(20000);	/* long done, not joined */
	cr_assert_eq(shd_cpu_submit(m, 0, return_arg, (void *)(intptr_t)2), -EBUSY);
	cr_assert_eq(shd_cpu_join(m, 0, &ret), 0);
	cr_assert_eq(ret, 1);
	shd_machine_destroy(m);
}

Test(machine, run_on_reports_the_first_error)
{
	struct shd_config c = test_config(4, NULL);
	struct shd_machine *m = test_machine(&c);
	struct who w;

	memset(&w, 0, sizeof(w));
	cr_assert_eq(shd_run_on(m, 0, 4, fail_on_odd, NULL), -EIO);
	cr_assert_eq(shd_run_on(m, 0, 1, fail_on_odd, NULL), 0);
	cr_assert_eq(shd_run_on(m, 2, 2, fail_on_odd, NULL), -EIO);
	cr_assert_eq(shd_run_on(m, 3, 2, fail_on_odd, NULL), -ERANGE);
	cr_assert_eq(shd_run_on(m, 4, 1, fail_on_odd, NULL), -ERANGE);
	/* Every CPU is joined even when one fails: all can run again. */
	cr_assert_eq(shd_run_on(m, 1, 3, mark_cpu, &w), 0);
	cr_assert_eq(w.ran[0] + w.ran[1] + w.ran[2] + w.ran[3], 3);
	cr_assert_eq(w.ran[0], 0);
	shd_machine_destroy(m);
}

/* ---- thread contracts ---- */

static struct shd_cpu *saved_cpu;

static int save_cpu(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	saved_cpu = cpu;
	return 0;
}

static void noop_call(struct shd_cpu *cpu, void *info)
{
	(void)cpu;
	(void)info;
}

Test(machine, library_calls_from_a_non_cpu_thread_are_eperm)
{
	struct shd_config c = test_config(2, NULL);
	struct shd_machine *m = test_machine(&c);
	struct shd_mm *mm = test_mm(m);
	uint64_t v = 0;

	run_one(m, 1, save_cpu, NULL);
	cr_assert_not_null(saved_cpu);
	cr_assert_eq(shd_load(saved_cpu, UBASE, &v), -EPERM);
	cr_assert_str_not_empty(shd_last_error());
	cr_assert_eq(shd_store(saved_cpu, UBASE, 1), -EPERM);
	cr_assert_eq(shd_switch_mm(saved_cpu, mm), -EPERM);
	cr_assert_eq(shd_mmap(saved_cpu, mm, UBASE, PAGE, SHD_PROT_READ), -EPERM);
	cr_assert_eq(shd_munmap(saved_cpu, mm, UBASE, PAGE), -EPERM);
	cr_assert_eq(shd_flush_tlb_all(saved_cpu), -EPERM);
	cr_assert_eq(shd_flush_tlb_mm(saved_cpu, mm), -EPERM);
	cr_assert_eq(shd_flush_tlb_range(saved_cpu, mm, UBASE, UBASE + PAGE), -EPERM);
	cr_assert_eq(shd_vmap(saved_cpu, KBASE, PAGE), -EPERM);
	cr_assert_eq(shd_smp_call_function_single(saved_cpu, 0, noop_call, NULL),
		     -EPERM);
	shd_mm_destroy(mm);
	shd_machine_destroy(m);
}

struct cross {
	struct shd_machine *m;
	struct shd_cpu *cpu1;
	int step;
	int load_rc, submit_rc, join_rc, call_rc;
};

static int cross_task(struct shd_cpu *cpu, void *arg)
{
	struct cross *x = arg;
	uint64_t v;

	if (shd_cpu_id(cpu) == 1) {
		x->cpu1 = cpu;
		step_set(&x->step, 1);
		step_wait(cpu, &x->step, 2);
		return 0;
	}
	step_wait(cpu, &x->step, 1);
	/* Another CPU's handle is not ours to use. */
	x->load_rc = shd_load(x->cpu1, UBASE, &v);
	x->call_rc = shd_smp_call_function_single(x->cpu1, 0, noop_call, NULL);
	/* Tasks do not control the machine. */
	x->submit_rc = shd_cpu_submit(x->m, 1, return_arg, NULL);
	x->join_rc = shd_cpu_join(x->m, 1, NULL);
	step_set(&x->step, 2);
	return 0;
}

Test(machine, a_cpu_cannot_use_another_cpus_handle_or_control_tasks)
{
	struct shd_config c = test_config(2, NULL);
	struct cross x = { 0 };

	x.m = test_machine(&c);
	cr_assert_eq(shd_run_on(x.m, 0, 2, cross_task, &x), 0);
	assert_tasks_ok();
	cr_assert_eq(x.load_rc, -EPERM);
	cr_assert_eq(x.call_rc, -EPERM);
	cr_assert_eq(x.submit_rc, -EPERM);
	cr_assert_eq(x.join_rc, -EPERM);
	shd_machine_destroy(x.m);
}

/* ---- smp_call_function_single ---- */

struct call_rec {
	int ran;
	unsigned on_cpu;
	pthread_t thread;
	int nested_rc, load_rc, flush_rc;
};

static void record_call(struct shd_cpu *cpu, void *info)
{
	struct call_rec *r = info;
	uint64_t v;

	r->ran++;
	r->on_cpu = shd_cpu_id(cpu);
	r->thread = pthread_self();
	/* Inside an IPI handler the library refuses blocking calls. */
	r->nested_rc = shd_smp_call_function_single(cpu, 0, noop_call, NULL);
	r->load_rc = shd_load(cpu, UBASE, &v);
	r->flush_rc = shd_flush_tlb_all(cpu);
}

struct call_scn {
	struct call_rec idle, busy, self;
	int bad_target_rc, null_fn_rc;
	pthread_t cpu0_thread;
	int step;
};

static int call_task(struct shd_cpu *cpu, void *arg)
{
	struct call_scn *s = arg;

	if (shd_cpu_id(cpu) == 2) {	/* busy, but taking IPIs */
		step_wait(cpu, &s->step, 1);
		return 0;
	}
	s->cpu0_thread = pthread_self();
	T_OK(shd_smp_call_function_single(cpu, 3, record_call, &s->idle));
	T_OK(shd_smp_call_function_single(cpu, 2, record_call, &s->busy));
	T_OK(shd_smp_call_function_single(cpu, 0, noop_call, NULL));
	s->bad_target_rc = shd_smp_call_function_single(cpu, 4, noop_call, NULL);
	s->null_fn_rc = shd_smp_call_function_single(cpu, 1, NULL, NULL);
	step_set(&s->step, 1);
	return 0;
}

Test(machine, smp_call_function_single_runs_on_the_target_thread)
{
	struct shd_config c = test_config(4, NULL);
	struct shd_machine *m;
	struct call_scn s;

	/* Host scheduler: each CPU has a thread of its own there; the seeded
	 * one runs every CPU's context on one carrier thread. */
	c.sched.mode = SHD_SCHED_HOST;
	m = test_machine(&c);
	memset(&s, 0, sizeof(s));
	cr_assert_eq(shd_cpu_submit(m, 2, call_task, &s), 0);
	cr_assert_eq(shd_cpu_submit(m, 0, call_task, &s), 0);
	cr_assert_eq(shd_cpu_join(m, 0, NULL), 0);
	cr_assert_eq(shd_cpu_join(m, 2, NULL), 0);
	assert_tasks_ok();
	cr_assert_eq(s.idle.ran, 1);
	cr_assert_eq(s.idle.on_cpu, 3, "ran on cpu %u", s.idle.on_cpu);
	cr_assert(!pthread_equal(s.idle.thread, s.cpu0_thread),
		  "ran on the caller's thread");
	cr_assert_eq(s.busy.ran, 1);
	cr_assert_eq(s.busy.on_cpu, 2, "ran on cpu %u", s.busy.on_cpu);
	cr_assert(!pthread_equal(s.busy.thread, s.idle.thread));
	cr_assert_eq(s.idle.nested_rc, -EPERM);
	cr_assert_eq(s.idle.load_rc, -EPERM);
	cr_assert_eq(s.idle.flush_rc, -EPERM);
	cr_assert_eq(s.bad_target_rc, -ERANGE);
	cr_assert_eq(s.null_fn_rc, -EINVAL);
	shd_machine_destroy(m);
}

static void record_self(struct shd_cpu *cpu, void *info)
{
	struct call_rec *r = info;

	r->ran++;
	r->on_cpu = shd_cpu_id(cpu);
	r->thread = pthread_self();
}

static int call_self(struct shd_cpu *cpu, void *arg)
{
	struct call_scn *s = arg;

	s->cpu0_thread = pthread_self();
	return shd_smp_call_function_single(cpu, shd_cpu_id(cpu), record_self,
					    &s->self);
}

Test(machine, smp_call_function_single_to_itself_runs_directly)
{
	struct shd_config c = test_config(2, NULL);
	struct shd_machine *m = test_machine(&c);
	struct call_scn s;
	struct shd_stats st;

	memset(&s, 0, sizeof(s));
	run_one(m, 1, call_self, &s);
	cr_assert_eq(s.self.ran, 1);
	cr_assert_eq(s.self.on_cpu, 1);
	cr_assert(pthread_equal(s.self.thread, s.cpu0_thread));
	shd_machine_stats(m, &st);
	cr_assert_eq(st.ipis_sent, 0, "a call to itself sent an IPI");
	shd_machine_destroy(m);
}

Test(machine, strerror_names_the_library_errors)
{
	cr_assert_str_eq(shd_strerror(0), "success");
	cr_assert_str_not_empty(shd_strerror(-EINVAL));
	cr_assert_str_not_empty(shd_strerror(-ETIMEDOUT));
	cr_assert_str_neq(shd_strerror(-EFAULT), shd_strerror(-EACCES));
	cr_assert_str_not_empty(shd_strerror(-12345));
}
