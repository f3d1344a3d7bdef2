/* SPDX-License-Identifier: MIT */
/* Tests of the emulated IPIs: delivery, coalescing, the watchdog. */
#include <inttypes.h>

#include "shd_test.h"

/*
 * A busy CPU that takes no interrupts computes (shd_cpu_compute()); the
 * machines run seeded, so its time and the watchdog's are simulated: the
 * other CPUs run while it computes, the clock jumps when all of them wait,
 * and what happens in a window is a fact of the schedule, not a race with
 * the host's clock.
 */
#define MS		1000000ull	/* ns */

static struct shd_config seeded_config(unsigned ncpus, const char *policy)
{
	struct shd_config c = test_config(ncpus, policy);

	c.sched.mode = SHD_SCHED_SEEDED;	/* simulated time */
	return c;
}

static uint64_t sim_now(struct shd_cpu *cpu)
{
	return shd_sched_now_ns(shd_cpu_machine(cpu));
}

/* ---- delivery ---- */

static void bump(struct shd_cpu *cpu, void *info)
{
	int *hits = info;

	__atomic_add_fetch(&hits[shd_cpu_id(cpu)], 1, __ATOMIC_RELAXED);
}

struct fanout {
	int hits[16];
	int step;
};

static int call_everyone(struct shd_cpu *cpu, void *arg)
{
	struct fanout *f = arg;
	unsigned n = shd_machine_ncpus(shd_cpu_machine(cpu));

	if (shd_cpu_id(cpu) != 0) {	/* busy CPUs that poll */
		step_wait(cpu, &f->step, 1);
		return 0;
	}
	for (int round = 0; round < 50; round++)
		for (unsigned t = 1; t < n; t++)
			T_OK(shd_smp_call_function_single(cpu, t, bump, f->hits));
	step_set(&f->step, 1);
	return 0;
}

/* Under both schedulers: the host's delivers to CPUs that really run at
 * once. */
static void call_everyone_in(enum shd_sched_mode mode)
{
	struct shd_config c = test_config(6, "linux");
	struct shd_machine *m;
	struct fanout f;
	struct shd_stats st;

	c.sched.mode = mode;
	m = test_machine(&c);
	memset(&f, 0, sizeof(f));
	/* cpus 0..2 run tasks, 3..5 are idle */
	cr_assert_eq(shd_run_on(m, 0, 3, call_everyone, &f), 0);
	assert_tasks_ok();
	cr_assert_eq(f.hits[0], 0);
	for (int i = 1; i < 6; i++)
		cr_assert_eq(f.hits[i], 50, "cpu %d ran %d calls", i, f.hits[i]);
	st = test_stats(m);
	cr_assert_eq(st.ipi_requests, 250);
	cr_assert_eq(st.ipi_candidates, 250);
	/* One caller, one request in flight at a time: nothing to coalesce. */
	cr_assert_eq(st.ipis_sent, 250);
	cr_assert_eq(st.ipis_coalesced, 0);
	cr_assert_eq(st.ipis_received, st.ipis_sent);
	cr_assert_eq(st.tlb_interrupts, 0, "no TLB flush among them");
	shd_machine_destroy(m);
}

Test(ipi, every_call_reaches_idle_and_busy_cpus_exactly_once)
{
	call_everyone_in(SHD_SCHED_SEEDED);
	call_everyone_in(SHD_SCHED_HOST);
}

/* ---- coalescing ---- */

struct busy {
	struct shd_mm *mm;
	int spinning;
	int sending;
	int rc[4];
};

/* Busy cpu 1: computes, taking no interrupts, until both senders have
 * queued their requests: they wait for its answer before its 100 ms end
 * (when every CPU waits, the clock jumps there). */
static void busy_until_both_sent(struct shd_cpu *cpu, struct busy *b)
{
	__atomic_store_n(&b->spinning, 1, __ATOMIC_RELEASE);
	while (__atomic_load_n(&b->sending, __ATOMIC_ACQUIRE) < 2)
		T_OK(shd_cpu_compute(cpu, 1000));
	T_OK(shd_cpu_compute(cpu, 100 * MS));	/* both are queued by now */
	shd_cpu_poll(cpu);
}

static int coalesce_task(struct shd_cpu *cpu, void *arg)
{
	struct busy *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	if (shd_cpu_id(cpu) == 1) {
		/* Running the mm, but not taking interrupts for a while. */
		busy_until_both_sent(cpu, b);
		return 0;
	}
	while (!__atomic_load_n(&b->spinning, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	__atomic_add_fetch(&b->sending, 1, __ATOMIC_RELEASE);
	b->rc[shd_cpu_id(cpu)] = shd_flush_tlb_mm(cpu, b->mm);
	return 0;
}

static struct shd_stats two_flushes_to_a_busy_cpu(const char *policy)
{
	struct shd_config c = seeded_config(3, policy);
	struct shd_machine *m = test_machine(&c);
	struct busy b;
	struct shd_stats st;

	memset(&b, 0, sizeof(b));
	b.mm = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 3, coalesce_task, &b), 0);
	assert_tasks_ok();
	cr_assert_eq(b.rc[0], 0);
	cr_assert_eq(b.rc[2], 0);
	st = test_stats(m);
	cr_assert_eq(st.flush_calls, 2);
	cr_assert_eq(st.ipi_candidates, 4);
	cr_assert_eq(st.ipis_sent + st.ipis_coalesced + st.ipis_avoided_pruned +
		     st.ipis_avoided_lazy, 4, "candidate identity");
	/* Each flush_tlb_func run on cpu 1 or the other sender counts. */
	cr_assert_eq(st.tlb_interrupts, st.ipi_requests);
	cr_assert_eq(st.ipi_requests, st.ipis_sent + st.ipis_coalesced);
	cr_assert_eq(st.ipis_received, st.ipis_sent);
	cr_assert_eq(st.violations, 0);
	shd_machine_destroy(m);
	return st;
}

Test(ipi, coalesces_requests_to_a_busy_cpu)
{
	struct shd_stats st = two_flushes_to_a_busy_cpu("linux");

	cr_assert_geq(st.ipis_coalesced, 1, "two requests queued on busy cpu 1 "
		      "rang its doorbell twice (sent %" PRIu64 ")", st.ipis_sent);
}

Test(ipi, broadcast_rings_for_every_request)
{
	struct shd_stats st = two_flushes_to_a_busy_cpu("broadcast");

	cr_assert_eq(st.ipis_coalesced, 0);
	cr_assert_eq(st.ipis_sent, 4);
	/* Busy cpu 1 takes both requests at once: without coalescing each
	 * rang its own interrupt, and each is counted taken. */
	cr_assert_eq(st.ipis_received, 4);
}

static int call_busy_cpu(struct shd_cpu *cpu, void *arg)
{
	struct busy *b = arg;
	static int hits[4];

	if (shd_cpu_id(cpu) == 1) {
		busy_until_both_sent(cpu, b);
		return 0;
	}
	while (!__atomic_load_n(&b->spinning, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	__atomic_add_fetch(&b->sending, 1, __ATOMIC_RELEASE);
	b->rc[shd_cpu_id(cpu)] = shd_smp_call_function_single(cpu, 1, bump, hits);
	return 0;
}

Test(ipi, coalesces_calls_from_two_cpus_to_a_busy_cpu)
{
	struct shd_config c = seeded_config(3, "linux");
	struct shd_machine *m = test_machine(&c);
	struct busy b;
	struct shd_stats st;

	memset(&b, 0, sizeof(b));
	cr_assert_eq(shd_run_on(m, 0, 3, call_busy_cpu, &b), 0);
	assert_tasks_ok();
	cr_assert_eq(b.rc[0], 0);
	cr_assert_eq(b.rc[2], 0);
	st = test_stats(m);
	cr_assert_eq(st.ipi_requests, 2);
	cr_assert_eq(st.ipis_sent, 1, "sent %" PRIu64, st.ipis_sent);
	cr_assert_eq(st.ipis_coalesced, 1);
	cr_assert_eq(st.ipis_received, 1, "one interrupt, two requests");
	shd_machine_destroy(m);
}

/* ---- LATR's fallback: one interrupt per request and target ---- */

struct latr_kick {
	struct shd_mm *mm;
	int step;
	int rc;
};

/*
 * cpu 1 holds a translation cpu 0 unmaps (a LATR post: no interrupt) and
 * computes for 10 ms taking no interrupts, so it sweeps nothing.  After
 * async_us (1 ms) cpu 0's tick interrupts it; then cpu 2 maps the range
 * again, which settles the flush: cpu 1 owes the same sweep, already
 * kicked, and must not be interrupted (and counted) a second time.
 */
static int latr_kick_task(struct shd_cpu *cpu, void *arg)
{
	struct latr_kick *k = arg;
	uint64_t v;

	switch (shd_cpu_id(cpu)) {
	case 0:
		T_OK(shd_switch_mm(cpu, k->mm));
		T_OK(shd_mmap(cpu, k->mm, UBASE, PAGE, RW));
		T_OK(shd_store(cpu, UBASE, 7));
		step_set(&k->step, 1);
		step_wait(cpu, &k->step, 2);
		T_OK(shd_munmap(cpu, k->mm, UBASE, PAGE));
		T_OK(shd_cpu_compute(cpu, 2 * MS));
		shd_cpu_poll(cpu);	/* our tick: past async_us, kick */
		step_set(&k->step, 3);
		break;
	case 1:
		T_OK(shd_switch_mm(cpu, k->mm));
		step_wait(cpu, &k->step, 1);
		T_OK(shd_load(cpu, UBASE, &v));
		step_set(&k->step, 2);
		T_OK(shd_cpu_compute(cpu, 10 * MS));	/* no sweep, no IPI */
		shd_cpu_poll(cpu);
		break;
	case 2:
		step_wait(cpu, &k->step, 3);
		T_OK(shd_switch_mm(cpu, k->mm));
		k->rc = shd_mmap(cpu, k->mm, UBASE, PAGE, RW);	/* settles */
		break;
	}
	return 0;
}

Test(ipi, a_latr_request_is_kicked_once_however_many_cpus_settle_it)
{
	struct shd_config c = seeded_config(3, "latr");
	struct shd_machine *m = test_machine(&c);
	struct latr_kick k = { .mm = test_mm(m) };
	struct shd_stats st;

	cr_assert_eq(shd_run_on(m, 0, 3, latr_kick_task, &k), 0);
	assert_tasks_ok();
	cr_assert_eq(k.rc, 0);
	st = test_stats(m);
	cr_assert_eq(st.async_requests, 1, "one target: cpu 1");
	cr_assert_eq(st.ipis_deferred, 1);
	cr_assert_eq(st.async_fallback_ipis, 1, "cpu 1 interrupted %" PRIu64
		     " times for one request", st.async_fallback_ipis);
	/* The fallback is neither sent nor received: cpu 1 was counted
	 * deferred. */
	cr_assert_eq(st.ipi_candidates, candidates(&st));
	cr_assert_eq(st.ipis_received, st.ipis_sent);
	cr_assert_eq(st.violations, 0);
	shd_machine_destroy(m);
}

/* ---- the watchdog ---- */

struct stuck {
	int spinning;
	int rc;
	uint64_t waited_ns;	/* simulated */
};

static int late_calls;	/* static: the call may run after its caller left */

static void late(struct shd_cpu *cpu, void *info)
{
	(void)info;
	if (shd_cpu_id(cpu) == 1)
		__atomic_add_fetch(&late_calls, 1, __ATOMIC_RELAXED);
}

static int watchdog_task(struct shd_cpu *cpu, void *arg)
{
	struct stuck *s = arg;
	uint64_t t0;

	if (shd_cpu_id(cpu) == 1) {
		__atomic_store_n(&s->spinning, 1, __ATOMIC_RELEASE);
		T_OK(shd_cpu_compute(cpu, 300 * MS));	/* no IPIs taken */
		return 0;
	}
	while (!__atomic_load_n(&s->spinning, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	t0 = sim_now(cpu);
	s->rc = shd_smp_call_function_single(cpu, 1, late, NULL);
	s->waited_ns = sim_now(cpu) - t0;
	return 0;
}

static int nothing(struct shd_cpu *cpu, void *arg)
{
	(void)cpu;
	(void)arg;
	return 0;
}

static int call_once(struct shd_cpu *cpu, void *arg)
{
	struct stuck *s = arg;

	s->rc = shd_smp_call_function_single(cpu, 1, late, NULL);
	return 0;
}

Test(ipi, the_watchdog_reports_a_cpu_that_takes_no_ipis, .timeout = 30)
{
	struct shd_config c = seeded_config(2, "linux");
	struct shd_machine *m;
	struct stuck s;
	struct shd_violation v[4];
	uint64_t n;

	c.watchdog_ms = 100;
	m = test_machine(&c);
	memset(&s, 0, sizeof(s));
	memset(v, 0, sizeof(v));
	cr_assert_eq(shd_run_on(m, 0, 2, watchdog_task, &s), 0);
	cr_assert_eq(s.rc, -ETIMEDOUT, "call to a stuck cpu returned %d", s.rc);
	/* Both CPUs waited: the clock jumped to the bound and the caller gave
	 * up there, not a step before, and after it only by the few steps
	 * (20 ns each) of its own call, long before cpu 1's 300 ms. */
	cr_assert_geq(s.waited_ns, 100 * MS, "gave up after %" PRIu64 " ns",
		      s.waited_ns);
	cr_assert_lt(s.waited_ns, 100 * MS + 1000, "waited %" PRIu64 " ns: "
		     "not at the watchdog's bound", s.waited_ns);
	n = shd_machine_violations(m, v, 4);
	cr_assert_eq(n, 1);
	cr_assert_eq(v[0].kind, SHD_VIOLATION_WATCHDOG);
	cr_assert_eq(v[0].cpu, 1);
	cr_assert_eq(v[0].seed, TEST_SEED);
	cr_assert_not_null(strstr(v[0].text, "cpu 1"), "%s", v[0].text);
	/* Its one candidate ends timed out, not sent. */
	cr_assert_eq(test_stats(m).ipi_candidates, 1);
	cr_assert_eq(test_stats(m).ipis_timed_out, 1);
	cr_assert_eq(test_stats(m).ipis_sent, 0);
	/* The timed-out call was withdrawn: when cpu 1 takes interrupts
	 * again it skips it (the caller has returned; its arguments may be
	 * gone).  The machine is still usable and tears down cleanly. */
	run_one(m, 1, nothing, NULL);
	cr_assert_eq(late_calls, 0, "a withdrawn call ran late");
	cr_assert_eq(test_stats(m).violations, 1);
	run_one(m, 0, call_once, &s);
	cr_assert_eq(s.rc, 0, "call to the recovered cpu: %d", s.rc);
	cr_assert_eq(late_calls, 1);
	cr_assert_eq(test_stats(m).ipi_candidates, 2);
	cr_assert_eq(test_stats(m).ipis_sent, 1);
	cr_assert_eq(test_stats(m).ipis_timed_out, 1);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 1);
	shd_machine_destroy(m);
}

struct retry {
	int spinning;
	int rc1, rc2;
	uint64_t start2_ns, end2_ns;	/* the second call, simulated */
	uint64_t answer_ns;		/* cpu 1 starts answering */
};

static int retry_task(struct shd_cpu *cpu, void *arg)
{
	struct retry *r = arg;

	if (shd_cpu_id(cpu) == 1) {
		__atomic_store_n(&r->spinning, 1, __ATOMIC_RELEASE);
		T_OK(shd_cpu_compute(cpu, 150 * MS));
		r->answer_ns = sim_now(cpu);	/* then answers everything queued */
		shd_cpu_poll(cpu);
		return 0;
	}
	while (!__atomic_load_n(&r->spinning, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	r->rc1 = shd_smp_call_function_single(cpu, 1, late, NULL); /* 100 ms */
	r->start2_ns = sim_now(cpu);
	r->rc2 = shd_smp_call_function_single(cpu, 1, late, NULL);
	r->end2_ns = sim_now(cpu);
	return 0;
}

/*
 * Reusing the csd of a request that timed out waits for it first; that wait
 * must get its own watchdog bound, not the old request's expired deadline
 * (which failed the next call at once and reported the same stall twice).
 * cpu 1 resumes 50 ms after the first timeout, inside a fresh 100 ms bound.
 */
Test(ipi, a_call_after_a_timeout_gets_a_fresh_watchdog_bound, .timeout = 30)
{
	struct shd_config c = seeded_config(2, "linux");
	struct shd_machine *m;
	struct retry r;

	c.watchdog_ms = 100;
	m = test_machine(&c);
	memset(&r, 0, sizeof(r));
	cr_assert_eq(shd_run_on(m, 0, 2, retry_task, &r), 0);
	assert_tasks_ok();
	cr_assert_eq(r.rc1, -ETIMEDOUT);
	/* The second call waited until cpu 1 answered, inside its own bound. */
	cr_assert_eq(r.rc2, 0, "second call returned %d after %" PRIu64 " ns",
		     r.rc2, r.end2_ns - r.start2_ns);
	cr_assert_geq(r.end2_ns, r.answer_ns, "answered before cpu 1 did");
	cr_assert_lt(r.end2_ns - r.start2_ns, 100 * MS);
	cr_assert_eq(shd_machine_violations(m, NULL, 0), 1,
		     "one stall, several reports");
	shd_machine_destroy(m);
}

static int stuck_flush_task(struct shd_cpu *cpu, void *arg)
{
	struct busy *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	if (shd_cpu_id(cpu) == 1) {
		__atomic_store_n(&b->spinning, 1, __ATOMIC_RELEASE);
		T_OK(shd_cpu_compute(cpu, 300 * MS));
		return 0;
	}
	while (!__atomic_load_n(&b->spinning, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	b->rc[0] = shd_flush_tlb_mm(cpu, b->mm);
	return 0;
}

Test(ipi, a_flush_to_a_stuck_cpu_times_out_and_names_it, .timeout = 30)
{
	struct shd_config c = seeded_config(2, "linux");
	struct shd_machine *m;
	struct shd_violation v;
	struct busy b;

	c.watchdog_ms = 100;
	m = test_machine(&c);
	memset(&b, 0, sizeof(b));
	b.mm = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, 2, stuck_flush_task, &b), 0);
	assert_tasks_ok();
	cr_assert_eq(b.rc[0], -ETIMEDOUT);
	cr_assert_eq(shd_machine_violations(m, &v, 1), 1);
	cr_assert_eq(v.kind, SHD_VIOLATION_WATCHDOG);
	cr_assert_eq(v.cpu, 1);
	cr_assert_not_null(strstr(v.text, "flush_tlb_mm"), "%s", v.text);
	shd_machine_destroy(m);
}
