/* SPDX-License-Identifier: MIT */
/* Tests of mm_cpumask past one word: flushes to CPUs 63, 64 and 1023, pruning the rest. */
#include <inttypes.h>

#include "shd_test.h"

/*
 * A mask is an array of 64-bit words (runtime/types.h): CPU 63 is the last
 * bit of word 0, CPU 64 the first of word 1, CPU 1023 the last of word 15.
 * Two far CPUs run the mm while cpu 0 flushes it twice: a munmap (the
 * flush's walk of mm_cpumask) with both in the mask, then a reclaim batch
 * (arch_tlbbatch: the union of the masks, word by word) after one of them
 * has left the mm.  Each IPI must reach exactly the CPUs in the mask, and
 * each far CPU must see the new PTEs (the oracle reports a stale hit).
 */
struct far {
	struct shd_mm *mm;
	unsigned a, b;		/* the far CPUs; a leaves before the batch */
	int step;
	int ready;
	int rc[2][2];		/* per far CPU: after the munmap, the batch */
	uint64_t v[2];
};

static void arrive(int *ready)
{
	__atomic_add_fetch(ready, 1, __ATOMIC_RELEASE);
}

static void ready_wait(struct shd_cpu *cpu, int *ready, int want)
{
	uint64_t deadline = now_ms() + 20000;

	while (__atomic_load_n(ready, __ATOMIC_ACQUIRE) < want) {
		shd_cpu_poll(cpu);
		sched_yield();
		if (now_ms() > deadline) {
			T_EQ(-ETIMEDOUT, 0);
			return;
		}
	}
}

/* Page 0 is reclaimed, page 1 unmapped; far CPU I uses offset 8 * I. */
static int far_task(struct shd_cpu *cpu, void *arg)
{
	struct far *f = arg;
	unsigned i = shd_cpu_id(cpu) == f->a ? 0 : 1;

	T_OK(shd_switch_mm(cpu, f->mm));
	step_wait(cpu, &f->step, 1);
	T_OK(shd_store(cpu, UBASE + 8 * i, 0x100 + i));
	T_OK(shd_store(cpu, UBASE + PAGE + 8 * i, 0x200 + i));
	T_LOAD(cpu, UBASE + 8 * i, 0x100 + i);	/* TLB hits */
	T_LOAD(cpu, UBASE + PAGE + 8 * i, 0x200 + i);
	arrive(&f->ready);
	step_wait(cpu, &f->step, 2);		/* page 1 unmapped */
	f->rc[i][0] = shd_load(cpu, UBASE + PAGE + 8 * i, &f->v[i]);
	if (i == 0)
		T_OK(shd_switch_mm(cpu, NULL));	/* out of the mask */
	arrive(&f->ready);
	step_wait(cpu, &f->step, 3);		/* page 0 reclaimed */
	if (i == 1)
		f->rc[i][1] = shd_load(cpu, UBASE + 8 * i, &f->v[i]);
	arrive(&f->ready);
	return 0;
}

static int flusher_task(struct shd_cpu *cpu, void *arg)
{
	struct far *f = arg;

	T_OK(shd_switch_mm(cpu, f->mm));
	T_OK(shd_mmap(cpu, f->mm, UBASE, 2 * PAGE, RW));
	step_set(&f->step, 1);
	ready_wait(cpu, &f->ready, 2);
	T_OK(shd_munmap(cpu, f->mm, UBASE + PAGE, PAGE));
	step_set(&f->step, 2);
	ready_wait(cpu, &f->ready, 4);
	T_EQ(shd_try_to_unmap(cpu, f->mm, UBASE), 1);
	T_OK(shd_try_to_unmap_flush(cpu));
	step_set(&f->step, 3);
	ready_wait(cpu, &f->ready, 6);
	return 0;
}

struct far_row {
	unsigned ncpus, a, b;
	const char *policy;
	bool prune;		/* IPIs only to the mask; else every online CPU */
	unsigned ipis;		/* prune: the IPIs the two flushes send */
};

static const struct far_row far_rows[] = {
	/* linux-6.12: A leaves the mask when it switches away, so the
	 * batch reaches B alone (3 IPIs); linux (6.13's lazy mask): A keeps
	 * its bit, the batch's union of masks has it, and a flush with no
	 * mm reaches every non-lazy CPU in it (4). */
	{ 65, 63, 64, "linux-6.12", true, 3 },	/* both sides of word 0's end */
	{ 65, 63, 64, "linux", true, 4 },
	{ 65, 63, 64, "broadcast", false, 0 },	/* the online mask's 2 words */
	{ 129, 64, 128, "linux-6.12", true, 3 },	/* word 2's first bit */
	/* The last bit of the last word (under TSan, of the fourth word:
	 * 1024 threads take it seconds to start; the plain and ASan legs
	 * run the full size). */
	{ SHD_TEST_TSAN ? 256 : SHD_MAX_CPUS, 64,
	  (SHD_TEST_TSAN ? 256 : SHD_MAX_CPUS) - 1, "linux", true, 4 },
};

static void run_far(const struct far_row *r)
{
	struct shd_machine *m = MACHINE(.ncpus = r->ncpus, .policy = r->policy);
	struct far f = { .a = r->a, .b = r->b };
	uint64_t t0 = now_ms(), others = r->ncpus - 1;
	struct shd_stats st;
	int ret;

	f.mm = test_mm(m);
	cr_assert_eq(shd_cpu_submit(m, r->a, far_task, &f), 0, "%s",
		     shd_last_error());
	cr_assert_eq(shd_cpu_submit(m, r->b, far_task, &f), 0, "%s",
		     shd_last_error());
	cr_assert_eq(shd_cpu_submit(m, 0, flusher_task, &f), 0, "%s",
		     shd_last_error());
	for (unsigned c = 0; c < 3; c++) {
		unsigned cpu = c == 0 ? 0 : c == 1 ? r->a : r->b;

		cr_assert_eq(shd_cpu_join(m, cpu, &ret), 0);
		cr_assert_eq(ret, 0, "cpu %u returned %d", cpu, ret);
	}
	assert_tasks_ok();
	st = test_stats(m);
	cr_log_info("%u CPUs (%s, %u and %u): %" PRIu64 " ms", r->ncpus,
		    r->policy, r->a, r->b, now_ms() - t0);

	/* Both far CPUs lost page 1; cpu B lost page 0's contents. */
	cr_assert_eq(f.rc[0][0], -EFAULT, "cpu %u after munmap: %d", r->a,
		     f.rc[0][0]);
	cr_assert_eq(f.rc[1][0], -EFAULT, "cpu %u after munmap: %d", r->b,
		     f.rc[1][0]);
	cr_assert_eq(f.rc[1][1], 0);
	cr_assert_eq(f.v[1], 0, "cpu %u read 0x%" PRIx64 " from a reclaimed "
		     "page", r->b, f.v[1]);
	cr_assert_eq(st.violations, 0);

	/* The munmap, then the reclaim's flush (a batch or, unbatched, one
	 * ptep_clear_flush): two flushes of every CPU but cpu 0. */
	cr_assert_eq(st.flush_calls, 2);
	cr_assert_eq(candidates(&st), 2 * others);
	cr_assert_eq(st.ipis_avoided_lazy, 0);
	cr_assert_eq(st.ipis_coalesced, 0);
	if (r->prune) {
		/* A and B, then B alone (A left the mm) or both. */
		cr_assert_eq(st.ipis_sent, r->ipis, "%u CPUs, %s: %" PRIu64
			     " IPIs, expected %u", r->ncpus, r->policy,
			     st.ipis_sent, r->ipis);
		cr_assert_eq(st.ipis_avoided_pruned, 2 * others - r->ipis);
		cr_assert_eq(st.ipi_requests, r->ipis);
	} else {
		cr_assert_eq(st.ipis_sent, 2 * others);
		cr_assert_eq(st.ipis_avoided_pruned, 0);
	}
	cr_assert_eq(st.ipis_received, st.ipis_sent);
	shd_mm_destroy(f.mm);
	shd_machine_destroy(m);
}

TABLE_PARAMS(cpumask, a_flush_reaches_exactly_the_far_cpus_in_the_mask,
	     far_rows)
ParameterizedTest(const size_t *row, cpumask,
		  a_flush_reaches_exactly_the_far_cpus_in_the_mask,
		  .timeout = 120)
{
	run_far(&far_rows[*row]);
}

/* ---- one CPU: no remote CPU at all ---- */

static int alone_task(struct shd_cpu *cpu, void *arg)
{
	struct shd_mm *mm = arg;

	T_OK(shd_switch_mm(cpu, mm));
	T_OK(shd_mmap(cpu, mm, UBASE, 2 * PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 1));
	T_OK(shd_store(cpu, UBASE + PAGE, 2));
	T_OK(shd_mprotect(cpu, mm, UBASE, PAGE, SHD_PROT_READ));
	T_EQ(shd_store(cpu, UBASE, 3), -EACCES);
	T_EQ(shd_try_to_unmap(cpu, mm, UBASE + PAGE), 1);
	T_OK(shd_try_to_unmap_flush(cpu));
	T_LOAD(cpu, UBASE + PAGE, 0);
	T_OK(shd_munmap(cpu, mm, UBASE, 2 * PAGE));
	T_OK(shd_flush_tlb_all(cpu));
	return 0;
}

POLICY_PARAMS(cpumask, one_cpu_flushes_locally_and_sends_nothing)
ParameterizedTest(const struct preset_param *policy, cpumask,
		  one_cpu_flushes_locally_and_sends_nothing)
{
	struct shd_machine *m = MACHINE(.ncpus = 1, .policy = policy->name);
	struct shd_mm *mm = test_mm(m);
	struct shd_stats st;

	run_one(m, 0, alone_task, mm);
	assert_tasks_ok();
	st = test_stats(m);
	cr_assert_geq(st.flush_calls, 4);
	cr_assert_eq(candidates(&st), 0, "%s: %" PRIu64 " IPI candidates on "
		     "one CPU", policy->name, candidates(&st));
	cr_assert_eq(st.ipis_received, 0);
	cr_assert_eq(st.ipi_requests, 0);
	cr_assert_eq(st.violations, 0);
	shd_mm_destroy(mm);
	shd_machine_destroy(m);
}
