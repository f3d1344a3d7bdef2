/* SPDX-License-Identifier: MIT */
/* Tests of the x86-TSO store buffers (tso.c) and of what they make reachable. */
#include "shd_test.h"

/*
 * A seeded machine of NCPUS under POLICY: schedule seed SEED of STRATEGY,
 * store buffers on or off.  Small memory: these machines are made by the
 * thousand.
 */
static struct shd_machine *seeded_machine(unsigned ncpus, const char *policy,
					  enum shd_strategy strategy,
					  uint64_t seed, bool store_buffers,
					  uint64_t faults)
{
	struct shd_config c = test_config(ncpus, policy);

	c.nframes = 64;
	c.faults = faults;
	c.sched.mode = SHD_SCHED_SEEDED;
	c.sched.strategy = strategy;
	c.sched.seed = seed;
	c.sched.store_buffers = store_buffers;
	if (strategy == SHD_STRATEGY_RANDOM)
		c.sched.run = 4;	/* switch every 1..8 points */
	if (strategy == SHD_STRATEGY_PCT)
		c.sched.steps = 4000;	/* about a run's length */
	return test_machine(&c);
}

/* ---- the store buffer itself ---- */

struct sb_probe {
	uint64_t x;
	uint64_t loaded, memory_before, memory_after;
	unsigned pending_after_store, pending_after_mb;
};

static int store_load_fence(struct shd_cpu *cpu, void *arg)
{
	struct sb_probe *p = arg;

	T_OK(shd_litmus_store(cpu, &p->x, 5));
	p->pending_after_store = shd_litmus_pending(cpu);
	/* What memory holds, read behind the model's back. */
	p->memory_before = __atomic_load_n(&p->x, __ATOMIC_RELAXED);
	T_OK(shd_litmus_load(cpu, &p->x, &p->loaded));
	T_OK(shd_litmus_mb(cpu));
	p->pending_after_mb = shd_litmus_pending(cpu);
	p->memory_after = __atomic_load_n(&p->x, __ATOMIC_RELAXED);
	return 0;
}

Test(tso, a_cpu_loads_its_own_buffered_store_and_a_fence_drains_it)
{
	struct shd_machine *m = seeded_machine(1, "linux", SHD_STRATEGY_RANDOM,
					       1, true, 0);
	struct sb_probe p = { 0 };

	run_one(m, 0, store_load_fence, &p);
	assert_tasks_ok();
	cr_assert_eq(p.pending_after_store, 1);
	cr_assert_eq(p.memory_before, 0, "the store reached memory at once");
	cr_assert_eq(p.loaded, 5, "no store forwarding: loaded %" PRIu64,
		     p.loaded);
	cr_assert_eq(p.pending_after_mb, 0);
	cr_assert_eq(p.memory_after, 5, "the fence did not commit the store");
	shd_machine_destroy(m);
}

Test(tso, without_buffers_a_store_is_in_memory_at_once)
{
	struct shd_machine *seeded = seeded_machine(1, "linux",
						    SHD_STRATEGY_RANDOM, 1,
						    false, 0);
	struct shd_machine *host = MACHINE(.ncpus = 1);
	struct shd_machine *ms[] = { seeded, host };

	for (unsigned i = 0; i < ARRAY_LEN(ms); i++) {
		struct sb_probe p = { 0 };

		run_one(ms[i], 0, store_load_fence, &p);
		assert_tasks_ok();
		cr_assert_eq(p.pending_after_store, 0);
		cr_assert_eq(p.memory_before, 5, "machine %u", i);
		cr_assert_eq(p.loaded, 5);
		shd_machine_destroy(ms[i]);
	}
}

/* Each CPU's buffer holds its own stores only, in order: the oldest
 * commits first (a later store to the same word wins). */
static int two_stores(struct shd_cpu *cpu, void *arg)
{
	struct sb_probe *p = arg;

	T_OK(shd_litmus_store(cpu, &p->x, 1));
	T_OK(shd_litmus_store(cpu, &p->x, 2));
	p->pending_after_store = shd_litmus_pending(cpu);
	T_OK(shd_litmus_load(cpu, &p->x, &p->loaded));
	T_OK(shd_litmus_xchg(cpu, &p->x, 3, &p->memory_after));
	p->pending_after_mb = shd_litmus_pending(cpu);
	return 0;
}

Test(tso, stores_commit_in_order_and_a_locked_op_drains_first)
{
	struct shd_machine *m = seeded_machine(1, "linux", SHD_STRATEGY_RANDOM,
					       1, true, 0);
	struct sb_probe p = { 0 };

	run_one(m, 0, two_stores, &p);
	assert_tasks_ok();
	cr_assert_eq(p.pending_after_store, 2);
	cr_assert_eq(p.loaded, 2, "forwarding must give the newest store");
	cr_assert_eq(p.memory_after, 2, "the exchange saw %" PRIu64 ", not the "
		     "last committed store", p.memory_after);
	cr_assert_eq(p.pending_after_mb, 0);
	cr_assert_eq(shd_machine_stop(m), 0);
	cr_assert_eq(p.x, 3);
	shd_machine_destroy(m);
}

/*
 * The litmus tests: two CPUs run their halves, each access a scheduling
 * point, over many schedules; the outcomes seen are counted.  A CPU whose
 * task returns goes idle and its buffer drains (tso.c), so each half ends
 * with a few accesses of its own word: it keeps running after its last
 * access of the test, as a real CPU does, and the other CPU may load
 * while its stores still wait.
 */
struct litmus {
	uint64_t x, y;
	uint64_t r[2][2];	/* per CPU: its loads */
	uint64_t own[2];
	bool fence;
};

static void keep_running(struct shd_cpu *cpu, struct litmus *l)
{
	uint64_t v;

	for (int i = 0; i < 4; i++)
		T_OK(shd_litmus_load(cpu, &l->own[shd_cpu_id(cpu)], &v));
}

/* SB: each CPU stores its flag then loads the other's.  Sequential
 * consistency forbids both loads seeing 0; x86-TSO allows it (each store
 * still in its CPU's buffer), unless MFENCE sits between. */
static int sb_task(struct shd_cpu *cpu, void *arg)
{
	struct litmus *l = arg;
	unsigned me = shd_cpu_id(cpu);

	T_OK(shd_litmus_store(cpu, me ? &l->y : &l->x, 1));
	if (l->fence)
		T_OK(shd_litmus_mb(cpu));
	T_OK(shd_litmus_load(cpu, me ? &l->x : &l->y, &l->r[me][0]));
	keep_running(cpu, l);
	return 0;
}

/* x86-TSO's n6: P0 stores x=1, loads x and y; P1 stores y=2, x=2.  P0
 * reading x=1 from its buffer and y=0 while x ends as 1 is TSO only. */
static int n6_task(struct shd_cpu *cpu, void *arg)
{
	struct litmus *l = arg;

	if (shd_cpu_id(cpu) == 0) {
		T_OK(shd_litmus_store(cpu, &l->x, 1));
		T_OK(shd_litmus_load(cpu, &l->x, &l->r[0][0]));
		T_OK(shd_litmus_load(cpu, &l->y, &l->r[0][1]));
	} else {
		T_OK(shd_litmus_store(cpu, &l->y, 2));
		T_OK(shd_litmus_store(cpu, &l->x, 2));
	}
	keep_running(cpu, l);
	return 0;
}

/* How many of SCHEDULES runs of TASK end as WEAK says (the outcome
 * sequential consistency forbids). */
static unsigned litmus_runs(shd_task_fn task, bool (*weak)(const struct litmus *),
			    bool store_buffers, bool fence, unsigned schedules)
{
	unsigned hits = 0;

	for (uint64_t seed = 1; seed <= schedules; seed++) {
		struct shd_machine *m = seeded_machine(2, "linux",
						       SHD_STRATEGY_RANDOM, seed,
						       store_buffers, 0);
		struct litmus l = { .fence = fence };

		cr_assert_eq(shd_run_on(m, 0, 2, task, &l), 0);
		cr_assert_eq(shd_machine_stop(m), 0);	/* buffers drain */
		hits += weak(&l);
		shd_machine_destroy(m);
	}
	assert_tasks_ok();
	return hits;
}

static bool sb_weak(const struct litmus *l)
{
	return l->r[0][0] == 0 && l->r[1][0] == 0;
}

static bool n6_weak(const struct litmus *l)
{
	return l->r[0][0] == 1 && l->r[0][1] == 0 && l->x == 1;
}

Test(tso, store_buffering_is_reachable_only_with_buffers_and_no_fence)
{
	unsigned tso = litmus_runs(sb_task, sb_weak, true, false, 200);

	cr_log_info("SB: both loads 0 in %u of 200 schedules", tso);
	cr_assert_gt(tso, 0, "x86-TSO's SB outcome was never reached");
	cr_assert_eq(litmus_runs(sb_task, sb_weak, false, false, 200), 0,
		     "SB's outcome without store buffers");
	cr_assert_eq(litmus_runs(sb_task, sb_weak, true, true, 200), 0,
		     "SB's outcome with MFENCE");
}

Test(tso, a_cpu_reads_its_own_store_early_only_with_buffers)
{
	unsigned tso = litmus_runs(n6_task, n6_weak, true, false, 200);

	cr_log_info("n6: forwarded outcome in %u of 200 schedules", tso);
	cr_assert_gt(tso, 0, "x86-TSO's n6 outcome was never reached");
	cr_assert_eq(litmus_runs(n6_task, n6_weak, false, false, 200), 0);
}
