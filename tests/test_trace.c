/* SPDX-License-Identifier: MIT */
/* The tlb_flush tracepoint and the per-CPU counters behind /proc/interrupts. */
#include "shd_test.h"

#define ROUNDS	40

/*
 * tlb_flush2's shape on 4 CPUs: every CPU runs the mm; CPU 0 maps a page,
 * touches it and zaps it with madvise(DONTNEED) ROUNDS times while the
 * others touch their own page and take the IPIs; then CPU 0 leaves the mm
 * for init_mm and back (a switch that traces).
 */
struct storm {
	struct shd_mm *mm;
	int step;
	int done;
};

static int storm_task(struct shd_cpu *cpu, void *arg)
{
	struct storm *s = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t mine = UBASE + (16 + id) * PAGE;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_store(cpu, mine, id));
	__atomic_add_fetch(&s->step, 1, __ATOMIC_ACQ_REL);
	step_wait(cpu, &s->step, 4);
	if (id == 0) {
		for (int i = 0; i < ROUNDS; i++) {
			T_OK(shd_store(cpu, UBASE, (uint64_t)i));
			T_OK(shd_madvise_dontneed(cpu, s->mm, UBASE, PAGE));
		}
		T_OK(shd_switch_mm(cpu, NULL));
		T_OK(shd_switch_mm(cpu, s->mm));
		__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
		return 0;
	}
	while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE)) {
		uint64_t v;

		T_OK(shd_load(cpu, mine, &v));
		shd_cpu_poll(cpu);
	}
	return 0;
}

static int map_task(struct shd_cpu *cpu, void *arg)
{
	struct storm *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 32 * PAGE, RW));
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

/* The storm on a fresh 4-CPU x86 machine with FAULTS, traced from the
 * storm's start (the mapping before it is not). */
static struct shd_machine *run_storm(uint64_t faults, struct storm *s)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .faults = faults);

	s->mm = test_mm(m);
	run_one(m, 0, map_task, s);
	cr_assert_eq(shd_trace_start(m, 0), 0, "%s", shd_last_error());
	shd_machine_stats_reset(m);
	for (unsigned c = 0; c < 4; c++)
		cr_assert_eq(shd_cpu_submit(m, c, storm_task, s), 0, "%s",
			     shd_last_error());
	for (unsigned c = 0; c < 4; c++) {
		int ret = -1;

		cr_assert_eq(shd_cpu_join(m, c, &ret), 0);
		cr_assert_eq(ret, 0);
	}
	assert_tasks_ok();
	return m;
}

/* Lines of the written trace that contain NEEDLE. */
static uint64_t trace_lines(struct shd_machine *m, const char *needle,
			    long *events)
{
	char *buf = NULL, line[256];
	size_t len = 0;
	uint64_t n = 0;
	FILE *f = open_memstream(&buf, &len);

	cr_assert_not_null(f);
	*events = shd_trace_write(m, f);
	fclose(f);
	f = fmemopen(buf, len ? len : 1, "r");
	cr_assert_not_null(f);
	while (fgets(line, sizeof(line), f))
		if (line[0] != '#' && strstr(line, needle))
			n++;
	fclose(f);
	free(buf);
	return n;
}

Test(trace, remote_shootdown_lines_are_the_tlb_line)
{
	struct storm s = { 0 };
	struct shd_machine *m = run_storm(0, &s);
	struct shd_stats st = test_stats(m);
	uint64_t counts[SHD_TLB_FLUSH__NR_REASONS], dropped = 1;
	long events;

	cr_assert_eq(shd_trace_counts(m, counts, &dropped), 0);
	cr_assert_eq(dropped, 0);
	cr_assert_geq(st.tlb_interrupts, 3 * ROUNDS, "%" PRIu64,
		      st.tlb_interrupts);
	cr_assert_eq(counts[SHD_TLB_REMOTE_SHOOTDOWN], st.tlb_interrupts);
	cr_assert_eq(trace_lines(m, "reason:remote shootdown (1)", &events),
		     st.tlb_interrupts);
	cr_assert_eq(trace_lines(m, "reason:remote IPI send (4)", &events),
		     st.nr_tlb_remote_flush);
	cr_assert_eq(counts[SHD_TLB_REMOTE_SEND_IPI], st.nr_tlb_remote_flush);
	cr_assert_geq(counts[SHD_TLB_LOCAL_MM_SHOOTDOWN], ROUNDS);
	cr_assert_eq(counts[SHD_TLB_REMOTE_WRONG_CPU], 0);
	/* Each CPU's switch in, and CPU 0's trip through init_mm. */
	cr_assert_eq(trace_lines(m, "reason:flush on task switch (0)", &events),
		     6);
	cr_assert_eq(trace_lines(m, "tlb_flush: pages:", &events),
		     (uint64_t)events);
	shd_machine_destroy(m);
}

Test(trace, a_skipped_ipi_leaves_no_remote_shootdown_line)
{
	/* The fault the tests must be able to see: no IPI, no TLB line,
	 * no remote line, though the sends are still traced. */
	struct storm s = { 0 };
	struct shd_machine *m = run_storm(1ull << SHD_FAULT_SKIP_REMOTE_IPI, &s);
	struct shd_stats st = test_stats(m);
	uint64_t counts[SHD_TLB_FLUSH__NR_REASONS];

	cr_assert_eq(shd_trace_counts(m, counts, NULL), 0);
	cr_assert_eq(st.tlb_interrupts, 0);
	cr_assert_eq(counts[SHD_TLB_REMOTE_SHOOTDOWN], 0);
	cr_assert_geq(counts[SHD_TLB_LOCAL_MM_SHOOTDOWN], ROUNDS);
	shd_machine_destroy(m);
}

Test(trace, per_cpu_counters_sum_to_the_machines)
{
	struct storm s = { 0 };
	struct shd_machine *m = run_storm(0, &s);
	struct shd_stats st = test_stats(m), one;
	uint64_t tlb = 0, cal = 0, flushes = 0;

	for (unsigned c = 0; c < 4; c++) {
		cr_assert_eq(shd_machine_cpu_stats(m, c, &one), 0);
		tlb += one.tlb_interrupts;
		cal += one.ipis_received;
		flushes += one.flush_calls;
		if (c == 0)	/* the initiator takes no TLB interrupt */
			cr_assert_eq(one.tlb_interrupts, 0);
		else
			cr_assert_geq(one.tlb_interrupts, ROUNDS);
	}
	cr_assert_eq(tlb, st.tlb_interrupts);
	cr_assert_eq(cal, st.ipis_received);
	cr_assert_eq(flushes, st.flush_calls);
	cr_assert_eq(shd_machine_cpu_stats(m, 4, &one), -EINVAL);
	cr_assert_eq(shd_machine_cpu_stats(NULL, 0, &one), -EINVAL);
	shd_machine_destroy(m);
}

Test(trace, the_same_seed_writes_the_same_trace)
{
	char *buf[2] = { NULL, NULL };
	size_t len[2] = { 0, 0 };

	for (int k = 0; k < 2; k++) {
		struct storm s = { 0 };
		struct shd_machine *m = run_storm(0, &s);
		FILE *f = open_memstream(&buf[k], &len[k]);

		cr_assert_gt(shd_trace_write(m, f), 0);
		fclose(f);
		shd_machine_destroy(m);
	}
	cr_assert_eq(len[0], len[1]);
	cr_assert_eq(memcmp(buf[0], buf[1], len[0]), 0);
	cr_assert_not_null(strstr(buf[0], "# tracer: nop\n"));
	free(buf[0]);
	free(buf[1]);
}

Test(trace, a_cap_drops_events_and_counts_them)
{
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct storm s = { test_mm(m), 0, 0 };
	uint64_t counts[SHD_TLB_FLUSH__NR_REASONS], dropped = 0;

	cr_assert_eq(shd_trace_start(m, 1), 0);
	cr_assert_eq(shd_trace_start(m, 1), -EBUSY);
	run_one(m, 0, map_task, &s);	/* two switches: one kept */
	cr_assert_eq(shd_trace_counts(m, counts, &dropped), 0);
	cr_assert_eq(counts[SHD_TLB_FLUSH_ON_TASK_SWITCH], 1);
	cr_assert_eq(dropped, 1);
	shd_trace_stop(m);
	cr_assert_eq(shd_trace_counts(m, counts, &dropped), -EINVAL);
	shd_machine_destroy(m);
}

Test(trace, other_engines_have_no_tlb_flush_tracepoint)
{
	struct shd_machine *m = MACHINE(.ncpus = 2, .arch = "arm64");

	cr_assert_eq(shd_trace_start(m, 0), -ENOTSUP);
	cr_assert_not_null(strstr(shd_last_error(), "x86"));
	shd_machine_destroy(m);
}

Test(trace, reason_names_are_linux_6_18s)
{
	cr_assert_str_eq(shd_tlb_flush_reason_name(SHD_TLB_REMOTE_SHOOTDOWN),
			 "remote shootdown");
	cr_assert_str_eq(shd_tlb_flush_reason_name(SHD_TLB_LOCAL_MM_SHOOTDOWN),
			 "local MM shootdown");
	cr_assert_str_eq(shd_tlb_flush_reason_name(SHD_TLB_REMOTE_WRONG_CPU),
			 "remote wrong CPU");
	cr_assert_null(shd_tlb_flush_reason_name(SHD_TLB_FLUSH__NR_REASONS));
}

/* CPU 1 runs the mm and goes lazy; CPU 0 unmaps a whole page table's
 * worth, freeing the table: the lazy CPU is sent the flush anyway. */
static int lazy_task(struct shd_cpu *cpu, void *arg)
{
	struct storm *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	if (shd_cpu_id(cpu) == 1) {
		uint64_t v;

		T_OK(shd_load(cpu, UBASE, &v));
		shd_enter_lazy_tlb(cpu);
		__atomic_store_n(&s->step, 1, __ATOMIC_RELEASE);
		while (!__atomic_load_n(&s->done, __ATOMIC_ACQUIRE))
			shd_cpu_poll(cpu);
		return 0;
	}
	step_wait(cpu, &s->step, 1);
	T_OK(shd_munmap(cpu, s->mm, UBASE, 512 * PAGE));
	__atomic_store_n(&s->done, 1, __ATOMIC_RELEASE);
	return 0;
}

static int map_leaf_task(struct shd_cpu *cpu, void *arg)
{
	struct storm *s = arg;

	T_OK(shd_switch_mm(cpu, s->mm));
	T_OK(shd_mmap(cpu, s->mm, UBASE, 512 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_switch_mm(cpu, NULL));
	return 0;
}

Test(trace, a_lazy_cpu_takes_the_interrupt_and_traces_only_its_switch)
{
	/* Linux's flush_tlb_func() counts the TLB line, then a lazy CPU
	 * switches to init_mm and returns: a task-switch line, no
	 * "remote shootdown" line.  The TLB row and the grep differ here. */
	struct shd_machine *m = MACHINE(.ncpus = 2);
	struct storm s = { test_mm(m), 0, 0 };
	uint64_t counts[SHD_TLB_FLUSH__NR_REASONS];
	struct shd_stats st, one;
	long events;

	run_one(m, 0, map_leaf_task, &s);
	cr_assert_eq(shd_trace_start(m, 0), 0);
	shd_machine_stats_reset(m);
	for (unsigned c = 0; c < 2; c++)
		cr_assert_eq(shd_cpu_submit(m, c, lazy_task, &s), 0);
	for (unsigned c = 0; c < 2; c++)
		cr_assert_eq(shd_cpu_join(m, c, NULL), 0);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_eq(shd_machine_cpu_stats(m, 1, &one), 0);
	cr_assert_eq(one.tlb_interrupts, 1, "the lazy CPU's TLB line");
	cr_assert_eq(st.tlb_interrupts, 1);
	cr_assert_eq(shd_trace_counts(m, counts, NULL), 0);
	cr_assert_eq(counts[SHD_TLB_REMOTE_SHOOTDOWN], 0);
	cr_assert_eq(counts[SHD_TLB_REMOTE_SEND_IPI], 1);
	cr_assert_eq(trace_lines(m, "<idle>-0       [001] d..2.", &events), 1,
		     "CPU 1's switch to init_mm, as no task");
	shd_machine_destroy(m);
}
