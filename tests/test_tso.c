/* SPDX-License-Identifier: MIT */
/* Tests of the x86-TSO store buffers (tso.c) and of what they make reachable. */
#include "shd_test.h"

/*
 * A seeded machine of NCPUS under POLICY: schedule seed SEED of STRATEGY,
 * store buffers on or off.  Small memory: these machines are made by the
 * thousand.
 */
static struct shd_config seeded_config(unsigned ncpus, const char *policy,
				       uint64_t seed, bool store_buffers,
				       uint64_t faults)
{
	struct shd_config c = test_config(ncpus, policy);

	c.nframes = 64;
	c.faults = faults;
	c.sched.mode = SHD_SCHED_SEEDED;
	c.sched.strategy = SHD_STRATEGY_RANDOM;
	c.sched.run = 4;	/* a switch every 1..8 points */
	c.sched.seed = seed;
	c.sched.store_buffers = store_buffers;
	return c;
}

static struct shd_machine *seeded_machine(unsigned ncpus, const char *policy,
					  uint64_t seed, bool store_buffers)
{
	struct shd_config c = seeded_config(ncpus, policy, seed, store_buffers, 0);

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
	struct shd_machine *m = seeded_machine(1, "linux", 1, true);
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
	struct shd_machine *seeded = seeded_machine(1, "linux", 1, false);
	struct shd_config hc = test_config(1, "linux");
	struct shd_machine *host, *ms[2];

	hc.sched.mode = SHD_SCHED_HOST;	/* the other mode: no buffers */
	host = test_machine(&hc);
	ms[0] = seeded;
	ms[1] = host;

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
	struct shd_machine *m = seeded_machine(1, "linux", 1, true);
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
		struct shd_machine *m = seeded_machine(2, "linux", seed,
						       store_buffers);
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

/* ---- CVE-2025-37964's reproducer: fork, copy-on-write, a switching reader ---- */

/*
 * Stephen Dolan's reproducer (Jane Street; LKML, "x86/mm: Finishing off
 * the fix for a should_flush_tlb race", 9 Oct 2025), on two CPUs.  A
 * process P has A, a private anonymous page, and B, a MAP_SHARED page.
 * Its writer thread (cpu 0) forks, increments A (a copy-on-write fault:
 * a new frame, flush_tlb_page(P)), increments B, and reaps the child.
 * Its reader thread (cpu 1) ping-pongs with another process Q through a
 * pipe: switch to P, read B then A, switch to Q.  Since A is written
 * before B and B is read first, the reader never sees a < b, unless the
 * copy-on-write flush skipped cpu 1 while it was switching back to P and
 * cpu 1 kept P's old translation of A.  That is what switch_mm_no_barrier
 * (the store of LOADED_MM_SWITCHING waits in the store buffer past the
 * tlb_gen read) and skip_loaded_mm_switching (the flusher ignores
 * SWITCHING) allow, and what the oracle reports.
 */
#define A_VA	UBASE
#define B_VA	FAR

struct race {
	struct shd_mm *p, *q;
	struct shd_file *b;
	unsigned forks;
	int done;
	unsigned reads, older;	/* reader: iterations, a < b seen */
	uint64_t a, b_seen;	/* the first a < b */
};

static int race_setup(struct shd_cpu *cpu, void *arg)
{
	struct race *r = arg;

	if (shd_cpu_id(cpu) == 1) {	/* the pipe's other end */
		T_OK(shd_switch_mm(cpu, r->q));
		T_OK(shd_mmap(cpu, r->q, UBASE, PAGE, RW));
		T_OK(shd_store(cpu, UBASE, 1));
		return 0;
	}
	T_OK(shd_switch_mm(cpu, r->p));
	T_OK(shd_mmap(cpu, r->p, A_VA, PAGE, RW));
	T_OK(shd_mmap_file(cpu, r->p, B_VA, PAGE, RW, SHD_MAP_SHARED, r->b, 0));
	T_OK(shd_store(cpu, A_VA, 0));
	T_OK(shd_store(cpu, B_VA, 0));
	return 0;
}

static void race_writer(struct shd_cpu *cpu, struct race *r)
{
	T_OK(shd_switch_mm(cpu, r->p));
	for (unsigned i = 1; i <= r->forks; i++) {
		struct shd_mm *child = NULL;

		T_OK(shd_mm_dup(cpu, r->p, &child));	/* fork() */
		T_OK(shd_store(cpu, A_VA, i));		/* (*A)++: COW */
		T_OK(shd_store(cpu, B_VA, i));		/* (*B)++ */
		if (child)
			T_OK(shd_mm_exit(cpu, child));	/* wait() */
	}
	/* Release: the reader stops after its next round. */
	__atomic_store_n(&r->done, 1, __ATOMIC_RELEASE);
}

static void race_reader(struct shd_cpu *cpu, struct race *r)
{
	uint64_t a = 0, b = 0, q;

	do {
		T_OK(shd_switch_mm(cpu, r->p));
		T_OK(shd_load(cpu, B_VA, &b));
		T_OK(shd_load(cpu, A_VA, &a));
		if (a < b && r->older++ == 0) {
			r->a = a;
			r->b_seen = b;
		}
		r->reads++;
		T_OK(shd_switch_mm(cpu, r->q));		/* write(p); read(q) */
		T_OK(shd_load(cpu, UBASE, &q));
		shd_cpu_poll(cpu);			/* Q's turn */
	/* Acquire: pairs with the writer's release of done. */
	} while (!__atomic_load_n(&r->done, __ATOMIC_ACQUIRE));
}

static int race_task(struct shd_cpu *cpu, void *arg)
{
	if (shd_cpu_id(cpu) == 0)
		race_writer(cpu, arg);
	else
		race_reader(cpu, arg);
	return 0;
}

/* A configuration of the reproducer; every schedule of it is a run. */
struct race_config {
	const char *policy;
	uint64_t faults;
	bool store_buffers;
	enum shd_strategy strategy;	/* RANDOM or PCT */
	unsigned forks;
};

/* The schedules the tests explore: 16 forks a run, a switch every 1..4
 * scheduling points (RANDOM; PCT looks for a bug of depth 3 in runs of
 * about 500 points).  Measured (bench/tso-schedules), schedules
 * 1..2000: switch_mm_no_barrier caught in 12, first at 12;
 * skip_loaded_mm_switching in 157, first at 25 (76 and 42 without store
 * buffers); no fault, or no store buffers for the first, in none. */
#define RACE_FORKS	16
#define RACE_BUDGET	1000	/* schedules a fault must be caught within */

struct race_outcome {
	uint64_t violations;
	struct shd_violation first;
	unsigned older, reads;	/* the reader's a < b, its rounds */
	uint64_t steps;
	struct shd_decision *log;	/* REPLAY: the switches (malloc) */
	size_t nlog;
	uint64_t diverged;
	uint64_t fired[SHD_FAULT__COUNT];	/* shd_fault_firings() */
};

/* One run of the reproducer: schedule SEED of RC, or (REPLAY) the
 * switches of an earlier run; the log is kept if KEEP. */
static struct race_outcome race_run(const struct race_config *rc, uint64_t seed,
				    const struct race_outcome *replay, bool keep)
{
	struct shd_config c = seeded_config(2, rc->policy ? rc->policy :
					    "linux", seed,
					    rc->store_buffers, rc->faults);
	struct race r = { .forks = rc->forks ? rc->forks : RACE_FORKS };
	struct race_outcome out = { 0 };
	const struct shd_decision *d;
	struct shd_machine *m;

	c.sched.strategy = rc->strategy;
	c.sched.run = 2;
	c.sched.steps = 500;
	if (replay) {
		c.sched.strategy = SHD_STRATEGY_REPLAY;
		c.sched.replay = replay->log;
		c.sched.nreplay = replay->nlog;
	}
	m = test_machine(&c);
	r.p = test_mm(m);
	r.q = test_mm(m);
	r.b = test_file(m, 1);
	cr_assert_eq(shd_run_on(m, 0, 2, race_setup, &r), 0);
	cr_assert_eq(shd_run_on(m, 0, 2, race_task, &r), 0);
	assert_tasks_ok();
	shd_file_destroy(r.b);
	cr_assert_eq(shd_machine_stop(m), 0);	/* the log is complete */
	out.violations = shd_machine_violations(m, &out.first, 1);
	out.older = r.older;
	out.reads = r.reads;
	out.steps = shd_sched_steps(m);
	out.diverged = shd_sched_diverged(m);
	out.nlog = shd_sched_decisions(m, &d);
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		out.fired[f] = shd_fault_firings(m, (enum shd_fault)f);
	if (keep) {
		out.log = malloc(out.nlog * sizeof(*d));
		cr_assert_not_null(out.log);
		memcpy(out.log, d, out.nlog * sizeof(*d));
	}
	shd_machine_destroy(m);
	return out;
}

/*
 * Schedules FROM..BUDGET of RC: the first in which the oracle reports a
 * violation, and the reader saw a < b too if SYMPTOM (0: none; *FIRST its
 * outcome, its log kept).  A reader that saw a < b with the oracle silent
 * fails the test: the symptom needs a stale translation.  (The oracle can
 * report without the symptom: a stale hit on A after B was read.)
 */
static uint64_t race_explore_from(const struct race_config *rc, uint64_t from,
				  uint64_t budget, bool symptom,
				  struct race_outcome *first)
{
	for (uint64_t seed = from; seed <= budget; seed++) {
		struct race_outcome o = race_run(rc, seed, NULL, false);

		cr_assert(o.violations || !o.older, "schedule %" PRIu64 ": the "
			  "reader saw a < b and the oracle saw nothing", seed);
		if (o.violations && (o.older || !symptom)) {
			*first = race_run(rc, seed, NULL, true);
			return seed;
		}
	}
	return 0;
}

static uint64_t race_explore(const struct race_config *rc, uint64_t budget,
			     struct race_outcome *first)
{
	return race_explore_from(rc, 1, budget, false, first);
}

/* With SHD_TSO_COUNT=N (bench/tso-schedules): how many of schedules 1..N
 * catch FAULT, logged. */
static void race_count(const struct race_config *rc, const char *fault)
{
	const char *env = getenv("SHD_TSO_COUNT");
	uint64_t n = env ? strtoull(env, NULL, 10) : 0, hits = 0;

	for (uint64_t seed = 1; seed <= n; seed++)
		hits += race_run(rc, seed, NULL, false).violations > 0;
	if (n)
		cr_log_info("%s (store buffers %s): caught in %" PRIu64 " of %"
			    PRIu64 " schedules", fault, rc->store_buffers ?
			    "on" : "off", hits, n);
}

/* FAULT is caught within the budget, on the reader's CPU, as a use of A's
 * old translation; and within the budget the reader sees the symptom. */
static void race_caught(const struct race_config *rc, const char *fault)
{
	struct race_outcome o, s;
	uint64_t seed = race_explore(rc, RACE_BUDGET, &o), sym;

	cr_assert_neq(seed, 0, "%s not caught in %u schedules", fault,
		      RACE_BUDGET);
	cr_log_info("%s (store buffers %s): caught at schedule %" PRIu64 ": %s",
		    fault, rc->store_buffers ? "on" : "off", seed, o.first.text);
	cr_assert_eq(o.first.cpu, 1);
	cr_assert_eq(o.first.addr, A_VA);
	cr_assert(o.first.kind == SHD_VIOLATION_STALE_TLB ||
		  o.first.kind == SHD_VIOLATION_USE_AFTER_FREE);
	/* What caught it is the fault firing (shd_fault_firings()). */
	cr_assert_gt(o.fired[shd_fault_lookup(fault)], 0, "%s caught but never "
		     "fired", fault);
	sym = o.older ? seed : race_explore_from(rc, seed + 1, RACE_BUDGET,
						 true, &s);
	cr_assert_neq(sym, 0, "%s: the reader never read A behind B", fault);
	cr_log_info("%s (store buffers %s): the reader read A behind B at "
		    "schedule %" PRIu64, fault, rc->store_buffers ? "on" : "off",
		    sym);
	if (sym != seed)
		free(s.log);
	free(o.log);
	race_count(rc, fault);
}

Test(tso, the_reproducer_catches_switch_mm_no_barrier)
{
	struct race_config rc = { .store_buffers = true,
		.faults = 1ull << SHD_FAULT_SWITCH_MM_NO_BARRIER };

	race_caught(&rc, "switch_mm_no_barrier");
}

/* Why the store buffers exist: without them every protocol store is seen
 * at once, and the missing barrier changes nothing. */
Test(tso, without_store_buffers_switch_mm_no_barrier_is_never_caught)
{
	struct race_config rc = { .store_buffers = false,
		.faults = 1ull << SHD_FAULT_SWITCH_MM_NO_BARRIER };
	struct race_outcome o;

	cr_assert_eq(race_explore(&rc, RACE_BUDGET, &o), 0, "caught without "
		     "store buffers: %s", o.first.text);
}

/* fea4e317f9e7's bug needs no reordering: the flusher sees SWITCHING and
 * ignores it. */
Test(tso, the_reproducer_catches_skip_loaded_mm_switching)
{
	struct race_config rc = {
		.faults = 1ull << SHD_FAULT_SKIP_LOADED_MM_SWITCHING };

	race_caught(&rc, "skip_loaded_mm_switching");
	rc.store_buffers = true;
	race_caught(&rc, "skip_loaded_mm_switching");
}

/*
 * No fault: clean over 2000 RANDOM schedules, and a quarter as many PCT
 * ones and 5.13 ones.  bench/tso-schedules runs it with
 * SHD_TSO_SCHEDULES=100000 (RANDOM) for the figure in the README.
 */
Test(tso, the_reproducer_stays_clean_without_a_fault)
{
	const struct race_config rcs[] = {
		{ .store_buffers = true },
		{ .store_buffers = true, .strategy = SHD_STRATEGY_PCT },
		{ .store_buffers = true, .policy = "linux-6.12" },	/* 5.13 */
	};
	const char *env = getenv("SHD_TSO_SCHEDULES");
	uint64_t n = env ? strtoull(env, NULL, 10) : 2000, t0 = now_ms();
	struct race_outcome o;

	for (unsigned i = 0; i < ARRAY_LEN(rcs); i++)
		cr_assert_eq(race_explore(&rcs[i], i ? n / 4 : n, &o), 0,
			     "config %u: %s", i, o.first.text);
	cr_log_info("clean: %" PRIu64 " schedules (%" PRIu64 " random, %"
		    PRIu64 " pct, %" PRIu64 " under 5.13) in %" PRIu64 " ms",
		    n + n / 2, n, n / 4, n / 4, now_ms() - t0);
}

/* A failing schedule replays exactly from its recorded switches, under
 * another seed: the store buffers' commits follow from the switches. */
Test(tso, a_failing_schedule_replays_with_its_stores_committed_alike)
{
	struct race_config rc = { .store_buffers = true,
		.faults = 1ull << SHD_FAULT_SWITCH_MM_NO_BARRIER };
	struct race_outcome o, again;
	uint64_t seed = race_explore(&rc, RACE_BUDGET, &o);

	cr_assert_neq(seed, 0);
	again = race_run(&rc, seed + 12345, &o, true);
	cr_assert_eq(again.diverged, 0, "the replay left the schedule");
	cr_assert_eq(again.violations, o.violations);
	cr_assert_str_eq(again.first.text, o.first.text);
	cr_assert_eq(again.steps, o.steps);
	cr_assert_eq(again.nlog, o.nlog);
	cr_assert_eq(memcmp(again.log, o.log, o.nlog * sizeof(*o.log)), 0);
	free(o.log);
	free(again.log);
}

/* The barrier faults' part of oracle::every_injectable_fault_has_a_scenario:
 * each has its reproducer configuration, run by the tests above. */
Test(oracle, every_injectable_barrier_fault_has_a_scenario)
{
	static const char *const names[] = {
		[SHD_FAULT_SWITCH_MM_NO_BARRIER - SHD_FAULT_SWITCH_MM_NO_BARRIER] =
			"switch_mm_no_barrier",
		[SHD_FAULT_SKIP_LOADED_MM_SWITCHING - SHD_FAULT_SWITCH_MM_NO_BARRIER] =
			"skip_loaded_mm_switching",
	};
	size_t n = 0;
	const struct shd_named *f = shd_faults(&n);
	struct shd_policy p;

	cr_assert_geq(n - SHD_FAULT_SWITCH_MM_NO_BARRIER, ARRAY_LEN(names));
	cr_assert_eq(shd_policy_preset("linux", &p), 0);
	for (size_t i = SHD_FAULT_SWITCH_MM_NO_BARRIER;
	     i < SHD_FAULT_SWITCH_MM_NO_BARRIER + ARRAY_LEN(names); i++) {
		cr_assert_str_eq(f[i].name, names[i - SHD_FAULT_SWITCH_MM_NO_BARRIER]);
		cr_assert_eq(shd_fault_lookup(f[i].name), (int)i);
	}
}
