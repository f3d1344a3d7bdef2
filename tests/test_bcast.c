/* SPDX-License-Identifier: MIT */
/* Hardware broadcast (AMD INVLPGB, Intel RAR) and global ASIDs (runtime/bcast.c). */
#include "shd_test.h"

/*
 * NRUN CPUs (1..NRUN) run the mm and poll; CPU 0, whose id matches jiffy
 * 0 of the seeded clock (Linux's sampling: id & 31 == jiffies & 31), then
 * flushes NFLUSH ranges of PAGES pages.  The first flush goes by IPI and
 * gives the mm a global ASID (5 CPUs run it: more than 3).
 */
struct bc {
	struct shd_mm *mm;
	unsigned nrun, nflush;
	uint64_t pages;
	int ready, step;
};

static int bc_setup(struct shd_cpu *cpu, void *arg)
{
	struct bc *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	T_OK(shd_mmap(cpu, b->mm, UBASE, 64 * PAGE, RW));
	for (unsigned i = 0; i < 64; i++)
		T_OK(shd_store(cpu, UBASE + i * PAGE, i));
	return 0;
}

static int bc_runner(struct shd_cpu *cpu, void *arg)
{
	struct bc *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	T_LOAD(cpu, UBASE, 0);
	__atomic_add_fetch(&b->ready, 1, __ATOMIC_RELEASE);
	step_wait(cpu, &b->step, 1);
	T_LOAD(cpu, UBASE + PAGE, 1);
	return 0;
}

static int bc_flusher(struct shd_cpu *cpu, void *arg)
{
	struct bc *b = arg;

	T_OK(shd_switch_mm(cpu, b->mm));
	while (__atomic_load_n(&b->ready, __ATOMIC_ACQUIRE) < (int)b->nrun)
		shd_cpu_poll(cpu);
	for (unsigned i = 0; i < b->nflush; i++)
		T_OK(shd_flush_tlb_range(cpu, b->mm, UBASE, UBASE + b->pages * PAGE));
	step_set(&b->step, 1);
	return 0;
}

/* One round on M: returns the counters it added. */
static struct shd_stats bc_round(struct shd_machine *m, unsigned nflush,
				 uint64_t pages, bool destroy)
{
	struct bc b = { test_mm(m), 4, nflush, pages, 0, 0 };
	struct shd_stats before = test_stats(m), after;
	int ret;

	run_one(m, 0, bc_setup, &b);
	before = test_stats(m);
	for (unsigned c = 1; c <= b.nrun; c++)
		cr_assert_eq(shd_cpu_submit(m, c, bc_runner, &b), 0);
	cr_assert_eq(shd_cpu_submit(m, 0, bc_flusher, &b), 0);
	for (unsigned c = 0; c <= b.nrun; c++) {
		cr_assert_eq(shd_cpu_join(m, c, &ret), 0);
		cr_assert_eq(ret, 0, "cpu %u returned %d", c, ret);
	}
	assert_tasks_ok();
	after = test_stats(m);
	if (destroy)
		shd_mm_destroy(b.mm);
	after.ipis_sent -= before.ipis_sent;
	after.invlpgb_issued -= before.invlpgb_issued;
	after.tlbsyncs -= before.tlbsyncs;
	after.rar_requests -= before.rar_requests;
	after.ipis_broadcast_hw -= before.ipis_broadcast_hw;
	after.global_asids_assigned -= before.global_asids_assigned;
	after.global_asid_resets -= before.global_asid_resets;
	after.asid_transition_rounds -= before.asid_transition_rounds;
	return after;
}

Test(bcast, a_global_asid_mm_flushes_by_invlpgb_without_ipis)
{
	struct shd_machine *m = MACHINE(.ncpus = 8, .policy = "linux-invlpgb");
	struct shd_stats d = bc_round(m, 5, 20, false);

	cr_assert_eq(d.global_asids_assigned, 1);
	cr_assert_eq(d.global_asid_resets, 1, "the first allocation resets");
	/* 4 IPIs by the first flush, 4 by the transition round (the
	 * runners move to the global ASID), none after. */
	cr_assert_eq(d.asid_transition_rounds, 1);
	cr_assert_eq(d.ipis_sent, 8);
	/* 20 pages at invlpgb_count_max 8: 3 a flush, and the reset's one. */
	cr_assert_eq(d.invlpgb_issued, 4 * 3 + 1);
	cr_assert_eq(d.tlbsyncs, 4 + 1);
	cr_assert_eq(d.ipis_broadcast_hw, (4 + 1) * 7);
	cr_assert_eq(d.violations, 0);
	shd_machine_destroy(m);
}

Test(bcast, rar_requests_go_to_the_mm_cpumask)
{
	struct shd_machine *m = MACHINE(.ncpus = 8, .policy = "linux-rar");
	struct shd_stats d = bc_round(m, 5, 20, false);

	cr_assert_eq(d.global_asids_assigned, 1);
	cr_assert_eq(d.ipis_sent, 8);
	cr_assert_eq(d.invlpgb_issued, 0);
	/* 4 flushes to the 4 runners, and the reset to all 7 others. */
	cr_assert_eq(d.rar_requests, 4 * 4 + 7);
	cr_assert_eq(d.ipis_broadcast_hw, d.rar_requests);
	cr_assert_eq(d.violations, 0);
	shd_machine_destroy(m);
}

Test(bcast, below_broadcast_min_cpus_flushes_stay_ipis)
{
	struct shd_config c = test_config(8, "linux-invlpgb");
	struct shd_machine *m;
	struct shd_stats d;

	cr_assert_eq(shd_policy_set(&c.policy, "broadcast_min_cpus", "6"), 0);
	m = test_machine(&c);
	d = bc_round(m, 5, 20, false);	/* 5 CPUs run it: one short */
	cr_assert_eq(d.global_asids_assigned, 0);
	cr_assert_eq(d.ipis_sent, 5 * 4);
	cr_assert_eq(d.invlpgb_issued, 0);
	shd_machine_destroy(m);
}

/* ---- a policy in C's flush_route (policy_ops.h) ---- */

static int route_calls, route_marked;
static enum shd_hook_route route_first_builtin, route_verdict;

static enum shd_hook_route route_hook(const struct shd_hook_ctx *c,
				      enum shd_hook_route builtin)
{
	const char *pol, *hook;
	unsigned cpu;

	if (route_calls++ == 0)
		route_first_builtin = builtin;
	/* The first flush: CPU 0 and the 4 runners in the mask, running it. */
	route_marked += shd_policy_hook_where(&pol, &hook, &cpu) &&
			!strcmp(pol, "route") && !strcmp(hook, "flush_route") &&
			cpu == 0 && c->self == 0 && c->mask_weight == 5 &&
			c->active_cpus == 5 && c->npages == 20 &&
			c->loaded == SHD_HOOK_LOADED_THIS;
	return route_verdict;
}

/* A machine of 8 CPUs under linux-invlpgb with route_hook, and KEY=VALUE. */
static struct shd_machine *route_machine(const char *key, const char *value)
{
	static const struct shd_policy_ops ops = {
		.version = SHD_POLICY_OPS_VERSION, .name = "route",
		.base = "linux-invlpgb", .flush_route = route_hook,
	};
	struct shd_config c = test_config(8, NULL);

	cr_assert_eq(shd_policy_from_ops(&ops, &c.policy), 0, "%s",
		     shd_last_error());
	if (key)
		cr_assert_eq(shd_policy_set(&c.policy, key, value), 0);
	route_calls = route_marked = 0;
	return test_machine(&c);
}

Test(bcast, a_flush_route_hook_may_broadcast_below_broadcast_min_cpus)
{
	struct shd_machine *m = route_machine("broadcast_min_cpus", "6");
	struct shd_stats d;

	route_verdict = SHD_HOOK_ROUTE_BROADCAST;
	d = bc_round(m, 5, 20, false);	/* linux: 5 * 4 IPIs, no ASID */
	cr_assert_eq(route_calls, 1, "asked %d times", route_calls);
	cr_assert_eq(route_marked, 1, "the marker or the context was wrong");
	cr_assert_eq(route_first_builtin, SHD_HOOK_ROUTE_IPI, "not linux's");
	cr_assert_eq(d.global_asids_assigned, 1);
	cr_assert_eq(d.asid_transition_rounds, 1);
	cr_assert_eq(d.ipis_sent, 8, "the first flush and the transition");
	cr_assert_eq(d.invlpgb_issued, 4 * 3 + 1);
	cr_assert_eq(d.violations, 0);
	shd_machine_destroy(m);
}

Test(bcast, a_flush_route_hook_may_keep_ipis_where_linux_broadcasts)
{
	struct shd_machine *m = route_machine(NULL, NULL);
	struct shd_stats d;

	route_verdict = SHD_HOOK_ROUTE_IPI;
	d = bc_round(m, 5, 20, false);
	/* Asked at every IPI flush, sampled or not. */
	cr_assert_eq(route_calls, 5, "asked %d times", route_calls);
	cr_assert_eq(route_first_builtin, SHD_HOOK_ROUTE_BROADCAST);
	cr_assert_eq(d.global_asids_assigned, 0);
	cr_assert_eq(d.ipis_sent, 5 * 4);
	cr_assert_eq(d.invlpgb_issued, 0);
	cr_assert_eq(d.violations, 0);
	shd_machine_destroy(m);
}

Test(bcast, a_flush_route_verdict_outside_the_enum_is_linux_s)
{
	struct shd_machine *m = route_machine(NULL, NULL);
	struct shd_stats d;
	const char *pol, *hook;
	int value;

	route_verdict = (enum shd_hook_route)7;
	d = bc_round(m, 5, 20, false);
	cr_assert_eq(route_calls, 1);
	cr_assert(shd_policy_hook_bad_verdict(&pol, &hook, &value));
	cr_assert_str_eq(hook, "flush_route");
	cr_assert_eq(value, 7);
	cr_assert_eq(d.global_asids_assigned, 1, "as linux-invlpgb");
	cr_assert_eq(d.ipis_sent, 8);
	shd_machine_destroy(m);
}

/* asid_space=9: global ASIDs 6, 7 and 8.  Four mms promoted and freed in
 * turn: the fourth allocation finds the pointer at the top and resets. */
Test(bcast, the_allocator_wraps_with_a_flush_of_every_non_global_entry)
{
	struct shd_config c = test_config(8, "linux-invlpgb");
	struct shd_machine *m;
	uint64_t resets = 0, assigned = 0;

	cr_assert_eq(shd_policy_set(&c.policy, "asid_space", "9"), 0);
	m = test_machine(&c);
	for (int i = 0; i < 4; i++) {
		struct shd_stats d = bc_round(m, 3, 1, true);

		assigned += d.global_asids_assigned;
		resets += d.global_asid_resets;
		cr_assert_eq(d.violations, 0);
	}
	cr_assert_eq(assigned, 4);
	cr_assert_eq(resets, 2, "one at the first allocation, one at the wrap");
	shd_machine_destroy(m);
}

/* Kernel flushes by INVLPGB: no IPI, every CPU's hardware does its part. */
static int kernel_flush(struct shd_cpu *cpu, void *arg)
{
	(void)arg;
	T_OK(shd_vmap(cpu, KBASE, 2 * PAGE));
	T_OK(shd_store(cpu, KBASE, 5));
	T_OK(shd_flush_tlb_kernel_range(cpu, KBASE, KBASE + 20 * PAGE));
	T_OK(shd_flush_tlb_kernel_range(cpu, KBASE, KBASE + 64 * PAGE));
	T_OK(shd_flush_tlb_all(cpu));
	return 0;
}

Test(bcast, kernel_flushes_are_one_broadcast_each)
{
	struct shd_machine *m = MACHINE(.ncpus = 4, .policy = "linux-invlpgb");
	struct shd_stats s;

	run_one(m, 1, kernel_flush, NULL);
	s = test_stats(m);
	cr_assert_eq(s.ipis_sent, 0);
	/* 20 pages: 3 INVLPGBs; above the ceiling: 1; flush_tlb_all: 1
	 * (vunmap-free: shd_vmap flushes nothing). */
	cr_assert_geq(s.invlpgb_issued, 3 + 1 + 1);
	cr_assert_geq(s.tlbsyncs, 3);
	cr_assert_eq(s.ipis_broadcast_hw, s.tlbsyncs * 3);
	cr_assert_eq(s.hw_invalidations, s.ipis_broadcast_hw);
	cr_assert_eq(s.violations, 0);
	shd_machine_destroy(m);
}

/* The broadcast faults' part of oracle::every_injectable_fault_has_a_scenario:
 * tests/scenarios/invlpgb_no_tlbsync.scn and global_asid_reuse_early.scn,
 * each a ctest, catch them; arm64's three follow them, then riscv's two,
 * arm64's batch fault, sparc64's three and hypersparc's one. */
Test(oracle, every_injectable_broadcast_fault_has_a_scenario)
{
	size_t n = 0;
	const struct shd_named *f = shd_faults(&n);

	cr_assert_eq(n, SHD_FAULT_CTX_STEAL_NO_FLUSH + 1);
	cr_assert_eq(SHD_FAULT_TLB_BATCH_DROP_LAST,
		     SHD_FAULT_BATCHED_PENDING_DSB_ONLY + 1);
	cr_assert_eq(SHD_FAULT_CPUMASK_CLEAR_NO_FLUSH,
		     SHD_FAULT_ASID_ROLLOVER_NO_FLUSH + 1);
	cr_assert_eq(SHD_FAULT_TLBI_NO_DSB, SHD_FAULT_GLOBAL_ASID_REUSE_EARLY + 1);
	cr_assert_str_eq(f[SHD_FAULT_INVLPGB_NO_TLBSYNC].name, "invlpgb_no_tlbsync");
	cr_assert_str_eq(f[SHD_FAULT_GLOBAL_ASID_REUSE_EARLY].name,
			 "global_asid_reuse_early");
}
