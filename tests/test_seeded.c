/* SPDX-License-Identifier: MIT */
/* Tests of the seeded scheduler's contract: determinism, replay, strategies, time. */

/*
 * What a seeded run promises (include/shootdown/seeded.h): the same
 * configuration makes the same switches, counters and reports; a replay
 * of its log makes the same run, and a log that does not fit says where;
 * PCT of depth 1 never takes the token from a CPU that can go on; a
 * preemption bound holds; a CHOOSE callback is offered only CPUs that can
 * run; a CPU waiting on another gets to finish; simulated time moves 20 ns
 * a step and jumps to the earliest deadline when every CPU waits.
 */
#include <inttypes.h>

#include "shd_test.h"

#define MS		1000000ull	/* ns */
#define STEP_NS		20ull		/* a scheduling step (runtime/seeded.h) */
#define NPAGES		4		/* pages each CPU maps in the mix */

static struct shd_config seeded_config(unsigned ncpus, const char *policy,
				       enum shd_strategy strategy, uint64_t seed)
{
	struct shd_config c = test_config(ncpus, policy);

	c.sched.mode = SHD_SCHED_SEEDED;
	c.sched.strategy = strategy;
	c.sched.seed = seed;
	return c;
}

/* ---- a run and its account ---- */

struct account {
	struct shd_decision *log;	/* malloc'ed copy */
	size_t nlog;
	uint64_t steps, now_ns, diverged;
	unsigned preemptions;
	char divergence[160];
	struct shd_stats stats;
	uint64_t nviol;
	struct shd_violation first;
};

/* Stop M (its teardown enters the log) and keep its account. */
static struct account account_of(struct shd_machine *m)
{
	const struct shd_decision *d;
	struct account a;

	memset(&a, 0, sizeof(a));
	cr_assert_eq(shd_machine_stop(m), 0, "%s", shd_last_error());
	a.nlog = shd_sched_decisions(m, &d);
	cr_assert_gt(a.nlog, 0, "a seeded run with no switch");
	a.log = malloc(a.nlog * sizeof(*d));
	cr_assert_not_null(a.log);
	memcpy(a.log, d, a.nlog * sizeof(*d));
	a.steps = shd_sched_steps(m);
	a.now_ns = shd_sched_now_ns(m);
	a.preemptions = shd_sched_preemptions(m);
	a.diverged = shd_sched_diverged(m);
	snprintf(a.divergence, sizeof(a.divergence), "%s",
		 shd_sched_divergence(m));
	a.stats = test_stats(m);
	a.nviol = shd_machine_violations(m, &a.first, 1);
	return a;
}

/* Preemptive switches in a log: to a CPU, at a point where the one
 * running could have gone on (returns to the controller are not). */
static unsigned logged_preemptions(const struct account *a)
{
	unsigned n = 0;

	for (size_t i = 0; i < a->nlog; i++)
		n += a->log[i].why == SHD_WHY_PREEMPT &&
		     a->log[i].cpu != SHD_SCHED_CTL;
	return n;
}

static void assert_same_run(const struct account *a, const struct account *b)
{
	size_t nf;
	const struct shd_stat_field *f = shd_stat_fields(&nf);

	cr_assert_eq(a->nlog, b->nlog, "%zu switches, then %zu", a->nlog,
		     b->nlog);
	for (size_t i = 0; i < a->nlog; i++)
		cr_assert(a->log[i].step == b->log[i].step &&
			  a->log[i].cpu == b->log[i].cpu &&
			  a->log[i].why == b->log[i].why,
			  "switch %zu: step %" PRIu64 " cpu %" PRIu32 " why %"
			  PRIu32 ", then step %" PRIu64 " cpu %" PRIu32 " why %"
			  PRIu32, i, a->log[i].step, a->log[i].cpu,
			  a->log[i].why, b->log[i].step, b->log[i].cpu,
			  b->log[i].why);
	cr_assert_eq(a->steps, b->steps);
	cr_assert_eq(a->now_ns, b->now_ns);
	cr_assert_eq(a->preemptions, b->preemptions);
	for (size_t i = 0; i < nf; i++) {
		uint64_t x, y;

		memcpy(&x, (const char *)&a->stats + f[i].offset, sizeof(x));
		memcpy(&y, (const char *)&b->stats + f[i].offset, sizeof(y));
		cr_assert_eq(x, y, "%s: %" PRIu64 ", then %" PRIu64, f[i].name,
			     x, y);
	}
	cr_assert_eq(a->nviol, b->nviol);
	if (a->nviol)
		cr_assert_str_eq(a->first.text, b->first.text);
}

/*
 * The mix: every CPU runs one shared mm, maps, writes and unmaps its own
 * pages and reads its neighbours' (so it caches their translations and
 * their unmaps must reach it), ROUNDS times.  Loads of a neighbour's page
 * may fault (it is unmapped then): which do is the schedule's business.
 */
struct mix {
	struct shd_mm *mm;
	unsigned rounds;
};

static uint64_t mix_va(unsigned cpu, unsigned page)
{
	return UBASE + ((uint64_t)cpu * NPAGES + page) * PAGE;
}

static int mix_task(struct shd_cpu *cpu, void *arg)
{
	struct mix *x = arg;
	unsigned id = shd_cpu_id(cpu);
	unsigned n = shd_machine_ncpus(shd_cpu_machine(cpu));

	T_OK(shd_switch_mm(cpu, x->mm));
	for (unsigned r = 0; r < x->rounds; r++) {
		T_OK(shd_mmap(cpu, x->mm, mix_va(id, 0), NPAGES * PAGE, RW));
		for (unsigned p = 0; p < NPAGES; p++)
			T_OK(shd_store(cpu, mix_va(id, p), page_val(p, id)));
		/* Twice: a page cached in the first pass may be unmapped
		 * by its owner before the second (our own munmap and mmap
		 * would flush it first: nested, or lazy on mmap_lock). */
		for (unsigned o = 0; o < 2 * n * NPAGES; o++) {
			unsigned q = o % (n * NPAGES);
			uint64_t v;

			if (q / NPAGES != id)
				(void)shd_load(cpu, mix_va(q / NPAGES,
							   q % NPAGES), &v);
		}
		T_OK(shd_munmap(cpu, x->mm, mix_va(id, 0), NPAGES * PAGE));
	}
	return 0;
}

static struct account run_mix(const struct shd_config *c, unsigned rounds)
{
	struct shd_machine *m = test_machine(c);
	struct mix x = { .mm = test_mm(m), .rounds = rounds };
	struct account a;

	cr_assert_eq(shd_run_on(m, 0, c->ncpus, mix_task, &x), 0, "%s",
		     shd_last_error());
	assert_tasks_ok();
	a = account_of(m);
	shd_machine_destroy(m);
	return a;
}

/* ---- determinism ---- */

struct strategy_param {
	enum shd_strategy strategy;
	unsigned depth;
	uint64_t seed;
	uint64_t faults;
};

#define SKIP_IPI	(1ull << SHD_FAULT_SKIP_REMOTE_IPI)

ParameterizedTestParameters(seeded, the_same_configuration_makes_the_same_run)
{
	static struct strategy_param p[] = {
		{ SHD_STRATEGY_RANDOM, 3, 1, 0 },
		{ SHD_STRATEGY_RANDOM, 3, 2, SKIP_IPI },
		{ SHD_STRATEGY_PCT, 3, 1, 0 },
		{ SHD_STRATEGY_PCT, 5, 3, SKIP_IPI },
	};

	return cr_make_param_array(struct strategy_param, p, ARRAY_LEN(p));
}

ParameterizedTest(const struct strategy_param *p, seeded,
		  the_same_configuration_makes_the_same_run)
{
	struct shd_config c = seeded_config(4, "linux", p->strategy, p->seed);
	struct account a, b;

	c.sched.depth = p->depth;
	c.sched.steps = 1000;	/* PCT: change points inside the run */
	c.faults = p->faults;
	a = run_mix(&c, 12);
	b = run_mix(&c, 12);
	/* Not a vacuous comparison: CPUs took turns, shootdowns went out
	 * or, skipped, were caught. */
	cr_assert_gt(a.nlog, 2 * c.ncpus, "%zu switches", a.nlog);
	cr_assert_gt(a.stats.flush_calls, 0);
	if (p->faults)
		cr_assert_gt(a.nviol, 0, "skip_remote_ipi went unreported");
	else
		cr_assert_gt(a.stats.ipis_sent, 0);
	assert_same_run(&a, &b);
	cr_assert_eq(a.diverged, 0);
	free(a.log);
	free(b.log);
}

Test(seeded, another_schedule_seed_makes_another_run)
{
	struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_RANDOM, 1);
	struct account a, b;
	bool differ;

	a = run_mix(&c, 12);
	c.sched.seed = 2;
	b = run_mix(&c, 12);
	/* The comparisons above can fail: the schedule is the seed's. */
	differ = a.nlog != b.nlog;
	for (size_t i = 0; !differ && i < a.nlog; i++)
		differ = a.log[i].step != b.log[i].step ||
			 a.log[i].cpu != b.log[i].cpu;
	cr_assert(differ, "seeds 1 and 2 made the same %zu switches", a.nlog);
	free(a.log);
	free(b.log);
}

/* ---- record and replay ---- */

static struct shd_config replay_config(const struct account *rec)
{
	struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_REPLAY, 99);

	c.faults = 1ull << SHD_FAULT_SKIP_REMOTE_IPI;
	c.sched.replay = rec->log;
	c.sched.nreplay = rec->nlog;
	return c;
}

Test(seeded, a_replay_of_the_log_makes_the_same_run)
{
	struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_RANDOM, 5);
	struct account rec, again;

	c.faults = 1ull << SHD_FAULT_SKIP_REMOTE_IPI;
	rec = run_mix(&c, 12);
	cr_assert_gt(rec.nviol, 0);
	c = replay_config(&rec);
	again = run_mix(&c, 12);
	cr_assert_eq(again.diverged, 0, "%s", again.divergence);
	cr_assert_str_eq(again.divergence, "");
	assert_same_run(&rec, &again);
	free(rec.log);
	free(again.log);
}

/* A log with one of its waits removed: the replay meets a CPU that blocks
 * where the record has no switch, and says so.  (Not a return to the
 * controller: that one is no choice, the replay makes it anyway.) */
Test(seeded, a_replay_of_a_tampered_log_reports_where_it_left_it)
{
	struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_RANDOM, 5);
	struct account rec, bad;
	size_t cut = 0;

	c.faults = 1ull << SHD_FAULT_SKIP_REMOTE_IPI;
	rec = run_mix(&c, 12);
	for (size_t i = rec.nlog / 2; i < rec.nlog && !cut; i++)
		if (rec.log[i].why == SHD_WHY_BLOCK &&
		    rec.log[i].cpu != SHD_SCHED_CTL)
			cut = i;
	cr_assert_gt(cut, 0, "no wait in the second half of the log");
	memmove(rec.log + cut, rec.log + cut + 1,
		(rec.nlog - cut - 1) * sizeof(*rec.log));
	rec.nlog--;
	c = replay_config(&rec);
	bad = run_mix(&c, 12);
	cr_assert_neq(bad.diverged, 0, "the tampered replay was not noticed");
	cr_assert_geq(bad.diverged, rec.log[cut - 1].step,
		      "left at step %" PRIu64 ", before the cut", bad.diverged);
	cr_assert_not_null(strstr(bad.divergence, "at step"), "%s",
			   bad.divergence);
	free(rec.log);
	free(bad.log);
}

/* ---- strategies ---- */

/*
 * Private work: each CPU maps, writes and unmaps pages of an mm of its
 * own, so no CPU ever wakes another (no IPI, no shared lock): a switch
 * away from a running CPU is then always the strategy's preemption.
 */
static int solo_task(struct shd_cpu *cpu, void *arg)
{
	struct shd_mm **mms = arg;
	struct shd_mm *mm = mms[shd_cpu_id(cpu)];

	T_OK(shd_switch_mm(cpu, mm));
	for (unsigned r = 0; r < 20; r++) {
		T_OK(shd_mmap(cpu, mm, UBASE, NPAGES * PAGE, RW));
		for (unsigned p = 0; p < NPAGES; p++)
			T_OK(shd_store(cpu, UBASE + p * PAGE, p));
		T_OK(shd_munmap(cpu, mm, UBASE, NPAGES * PAGE));
	}
	return 0;
}

static struct account run_solo(const struct shd_config *c)
{
	struct shd_machine *m = test_machine(c);
	struct shd_mm *mms[8];
	struct account a;

	cr_assert_leq(c->ncpus, ARRAY_LEN(mms));
	for (unsigned i = 0; i < c->ncpus; i++)
		mms[i] = test_mm(m);
	cr_assert_eq(shd_run_on(m, 0, c->ncpus, solo_task, mms), 0, "%s",
		     shd_last_error());
	assert_tasks_ok();
	a = account_of(m);
	shd_machine_destroy(m);
	return a;
}

Test(seeded, pct_of_depth_one_never_preempts_a_cpu_that_can_run)
{
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_PCT,
						    seed);
		struct account a;

		c.sched.depth = 1;
		a = run_solo(&c);
		cr_assert_eq(a.preemptions, 0, "seed %" PRIu64 ": %u",
			     seed, a.preemptions);
		cr_assert_eq(logged_preemptions(&a), 0);
		free(a.log);
	}
}

/* The same work does offer preemptions: random takes them, and PCT of
 * depth D takes at most its D - 1 change points. */
Test(seeded, the_solo_work_is_preempted_by_random_and_by_deeper_pct)
{
	struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_RANDOM, 1);
	struct account a = run_solo(&c);
	unsigned taken = 0;

	cr_assert_gt(a.preemptions, 10, "random preempted %u times",
		     a.preemptions);
	cr_assert_eq(logged_preemptions(&a), a.preemptions);
	for (uint64_t seed = 1; seed <= 4; seed++) {
		struct account p;

		c = seeded_config(4, "linux", SHD_STRATEGY_PCT, seed);
		c.sched.depth = 3;
		c.sched.steps = a.steps / 2;	/* change points in the work */
		p = run_solo(&c);
		cr_assert_leq(p.preemptions, 2, "seed %" PRIu64 ": %u", seed,
			      p.preemptions);
		cr_assert_eq(logged_preemptions(&p), p.preemptions);
		taken += p.preemptions;
		free(p.log);
	}
	cr_assert_gt(taken, 0, "PCT of depth 3 never preempted");
	free(a.log);
}

Test(seeded, the_preemption_bound_holds)
{
	static const int bounds[] = { 0, 1, 3, 10 };
	struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_RANDOM, 3);
	struct account free_run;

	c.sched.run = 2;	/* a switch every 1..4 points when free */
	free_run = run_mix(&c, 8);
	cr_assert_gt(free_run.preemptions, 10, "%u", free_run.preemptions);
	for (size_t i = 0; i < ARRAY_LEN(bounds); i++) {
		struct account a;

		c.sched.preemptions = bounds[i];
		a = run_mix(&c, 8);
		cr_assert_leq(a.preemptions, (unsigned)bounds[i], "bound %d: %u",
			      bounds[i], a.preemptions);
		cr_assert_eq(logged_preemptions(&a), a.preemptions);
		free(a.log);
	}
	free(free_run.log);
}

/* ---- CHOOSE ---- */

/*
 * cpu 1 computes 1 ms (it cannot run until then), cpu 0 polls until it
 * has, cpus 2 and 3 have no task and get no IPI.  The callback never
 * preempts and otherwise takes the lowest CPU offered, and checks every
 * view against what it knows.
 */
struct chooser {
	struct shd_machine *m;
	bool checking;		/* off for the teardown: it wakes every CPU */
	unsigned calls, bad, offered[4];
	char first_bad[160];
	int computing;		/* cpu 1 is inside its compute */
	uint64_t compute_end;	/* before this, cpu 1 cannot run */
	int done;
	unsigned picks[64];	/* what it chose, when it switched */
	unsigned npicks;
};

static void chooser_bad(struct chooser *ch, const struct shd_sched_view *v,
			const char *what)
{
	if (ch->bad++ == 0)
		snprintf(ch->first_bad, sizeof(ch->first_bad), "step %" PRIu64
			 ": %s", v->step, what);
}

static unsigned choose_lowest(void *ctx, const struct shd_sched_view *v)
{
	struct chooser *ch = ctx;
	unsigned n = 0, pick = v->ncpus;

	ch->calls++;
	if (v->ncpus != 4)
		chooser_bad(ch, v, "ncpus is not 4");
	for (unsigned i = 0; i < v->ncpus && i < 4; i++) {
		ch->offered[i] += v->runnable[i];
		n += v->runnable[i];
		if (v->runnable[i] && pick == v->ncpus)
			pick = i;
	}
	if (!n)
		chooser_bad(ch, v, "no CPU offered");
	if (!ch->checking)
		;
	else if (v->runnable[2] || v->runnable[3])
		chooser_bad(ch, v, "an idle CPU with nothing to do offered");
	else if (v->runnable[1] && v->cur != 1 && ch->computing &&
	    shd_sched_now_ns(ch->m) < ch->compute_end)
		chooser_bad(ch, v, "cpu 1 offered while it computes");
	if (v->why == SHD_WHY_PREEMPT && v->cur < v->ncpus &&
	    v->runnable[v->cur])
		return v->cur;
	if (pick != v->cur && ch->npicks < ARRAY_LEN(ch->picks))
		ch->picks[ch->npicks++] = pick;
	return pick;
}

static int choose_task(struct shd_cpu *cpu, void *arg)
{
	struct chooser *ch = arg;

	if (shd_cpu_id(cpu) == 1) {
		ch->compute_end = shd_sched_now_ns(ch->m) + 1 * MS;
		ch->computing = 1;
		T_OK(shd_cpu_compute(cpu, 1 * MS));
		ch->computing = 0;
		__atomic_store_n(&ch->done, 1, __ATOMIC_RELEASE);
		return 0;
	}
	while (!__atomic_load_n(&ch->done, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);
	return 0;
}

Test(seeded, choose_is_offered_only_cpus_that_can_run)
{
	struct shd_config c = seeded_config(4, "linux", SHD_STRATEGY_CHOOSE, 1);
	struct chooser ch;
	struct shd_machine *m;
	struct account a;
	size_t k = 0;

	memset(&ch, 0, sizeof(ch));
	c.sched.choose = choose_lowest;
	c.sched.choose_ctx = &ch;
	m = test_machine(&c);
	ch.m = m;
	ch.checking = true;
	cr_assert_eq(shd_run_on(m, 0, 2, choose_task, &ch), 0);
	ch.checking = false;
	assert_tasks_ok();
	a = account_of(m);
	cr_assert_eq(ch.bad, 0, "%u bad views, first: %s", ch.bad,
		     ch.first_bad);
	/* It was asked, was offered cpus 0 and 1 (cpu 1 once its compute
	 * was over), and its choices are the log's switches to CPUs. */
	cr_assert_gt(ch.calls, 1000, "%u calls", ch.calls);
	cr_assert_gt(ch.offered[0], 0);
	cr_assert_gt(ch.offered[1], 0);
	cr_assert_geq(a.now_ns, 1 * MS);
	for (size_t i = 0; i < a.nlog && k < ch.npicks; i++) {
		if (a.log[i].cpu == SHD_SCHED_CTL)
			continue;
		cr_assert_eq(a.log[i].cpu, ch.picks[k], "switch %zu went to "
			     "cpu %" PRIu32 ", the callback chose %u", i,
			     a.log[i].cpu, ch.picks[k]);
		k++;
	}
	cr_assert_gt(k, 0);
	shd_machine_destroy(m);
	free(a.log);
}

/* ---- waiting on another CPU ---- */

struct waiter {
	int busy;
	int rc;
	int ran;
	uint64_t answer_ns, return_ns;
};

static void count_call(struct shd_cpu *cpu, void *info)
{
	struct waiter *w = info;

	(void)cpu;
	w->ran++;
}

/* cpu 0 calls busy cpu 1 and blocks for its answer; cpu 1 answers after
 * computing. */
static int call_a_busy_cpu(struct shd_cpu *cpu, void *arg)
{
	struct waiter *w = arg;

	if (shd_cpu_id(cpu) == 1) {
		__atomic_store_n(&w->busy, 1, __ATOMIC_RELEASE);
		T_OK(shd_cpu_compute(cpu, 2 * MS));
		w->answer_ns = shd_sched_now_ns(shd_cpu_machine(cpu));
		shd_cpu_poll(cpu);
		return 0;
	}
	while (!__atomic_load_n(&w->busy, __ATOMIC_ACQUIRE))
		shd_cpu_poll(cpu);	/* (idle, cpu 1 would answer at once) */
	w->rc = shd_smp_call_function_single(cpu, 1, count_call, w);
	w->return_ns = shd_sched_now_ns(shd_cpu_machine(cpu));
	return 0;
}

Test(seeded, a_cpu_blocked_on_another_finishes_under_every_strategy)
{
	static const struct strategy_param p[] = {
		{ SHD_STRATEGY_RANDOM, 3, 1, 0 }, { SHD_STRATEGY_RANDOM, 3, 2, 0 },
		{ SHD_STRATEGY_PCT, 1, 1, 0 }, { SHD_STRATEGY_PCT, 1, 2, 0 },
		{ SHD_STRATEGY_PCT, 3, 3, 0 }, { SHD_STRATEGY_PCT, 3, 4, 0 },
	};

	for (size_t i = 0; i < ARRAY_LEN(p); i++) {
		struct shd_config c = seeded_config(2, "linux", p[i].strategy,
						    p[i].seed);
		struct shd_machine *m;
		struct waiter w = { .rc = -1 };

		c.sched.depth = p[i].depth;
		c.watchdog_ms = 0;	/* no deadline: only the answer wakes it */
		m = test_machine(&c);
		cr_assert_eq(shd_run_on(m, 0, 2, call_a_busy_cpu, &w), 0);
		assert_tasks_ok();
		cr_assert_eq(w.rc, 0, "%s seed %" PRIu64 ": %d",
			     shd_strategy_name(p[i].strategy), p[i].seed, w.rc);
		cr_assert_eq(w.ran, 1);
		/* The call ended once cpu 1 had computed and answered, and
		 * within a few steps of the answer. */
		cr_assert_geq(w.answer_ns, 2 * MS);
		cr_assert_geq(w.return_ns, w.answer_ns);
		cr_assert_lt(w.return_ns - w.answer_ns, 100000, "%" PRIu64 " ns "
			     "after the answer", w.return_ns - w.answer_ns);
		shd_machine_destroy(m);
	}
}

/* ---- simulated time ---- */

struct clock_probe {
	uint64_t t0, t1, t2, s1, s2;
};

static int read_the_clock(struct shd_cpu *cpu, void *arg)
{
	struct clock_probe *p = arg;
	struct shd_machine *m = shd_cpu_machine(cpu);

	p->t0 = shd_sched_now_ns(m);
	for (int i = 0; i < 1000; i++)
		shd_cpu_poll(cpu);		/* one step each */
	p->t1 = shd_sched_now_ns(m);
	p->s1 = shd_sched_steps(m);
	T_OK(shd_cpu_compute(cpu, 5 * MS));	/* alone: a jump */
	p->t2 = shd_sched_now_ns(m);
	p->s2 = shd_sched_steps(m);
	return 0;
}

Test(seeded, simulated_time_advances_by_steps_and_jumps_to_a_deadline)
{
	struct shd_config c = seeded_config(1, "linux", SHD_STRATEGY_RANDOM, 1);
	struct shd_machine *m = test_machine(&c);
	struct clock_probe p;

	memset(&p, 0, sizeof(p));
	run_one(m, 0, read_the_clock, &p);
	assert_tasks_ok();
	cr_assert_eq(p.t1 - p.t0, 1000 * STEP_NS, "1000 polls took %" PRIu64
		     " ns", p.t1 - p.t0);
	/* 5 ms is 250000 steps: it took a few, the clock jumped the rest. */
	cr_assert_leq(p.s2 - p.s1, 4, "%" PRIu64 " steps", p.s2 - p.s1);
	cr_assert_geq(p.t2 - p.t1, 5 * MS);
	cr_assert_leq(p.t2 - p.t1, 5 * MS + (p.s2 - p.s1) * STEP_NS,
		      "%" PRIu64 " ns", p.t2 - p.t1);
	shd_machine_destroy(m);

	/* The host scheduler has no simulated clock. */
	c.sched.mode = SHD_SCHED_HOST;
	m = test_machine(&c);
	run_one(m, 0, read_the_clock, &p);
	cr_assert_eq(p.t2, 0);
	cr_assert_eq(shd_sched_decisions(m, NULL), 0);
	shd_machine_destroy(m);
}

static int compute_bad_use(struct shd_cpu *cpu, void *arg)
{
	struct shd_cpu **other = arg;

	T_EQ(shd_cpu_compute(NULL, 1), -EINVAL);
	T_EQ(shd_cpu_compute(*other, 1), *other ? -EPERM : -EINVAL);
	T_OK(shd_cpu_compute(cpu, 0));
	*other = cpu;
	return 0;
}

static void compute_in_a_handler(struct shd_cpu *cpu, void *info)
{
	*(int *)info = shd_cpu_compute(cpu, 1);
}

static int compute_from_a_handler(struct shd_cpu *cpu, void *arg)
{
	int *rc = arg;

	T_OK(shd_smp_call_function_single(cpu, 1, compute_in_a_handler, rc));
	return 0;
}

Test(seeded, compute_refuses_bad_use)
{
	struct shd_config c = seeded_config(2, "linux", SHD_STRATEGY_RANDOM, 1);
	struct shd_machine *m = test_machine(&c);
	struct shd_cpu *cpu1 = NULL;
	int rc = 1;

	cr_assert_eq(shd_cpu_compute(NULL, 1), -EINVAL);
	run_one(m, 1, compute_bad_use, &cpu1);	/* learns cpu 1's handle */
	cr_assert_not_null(cpu1);
	cr_assert_eq(shd_cpu_compute(cpu1, 1), -EPERM, "from the controller");
	cr_assert_not_null(strstr(shd_last_error(), "own thread"), "%s",
			   shd_last_error());
	run_one(m, 0, compute_bad_use, &cpu1);	/* cpu 1's, from cpu 0 */
	run_one(m, 0, compute_from_a_handler, &rc);
	assert_tasks_ok();
	cr_assert_eq(rc, -EPERM, "compute inside an IPI handler: %d", rc);
	shd_machine_destroy(m);
}

/* ---- bad configurations ---- */

static void assert_rejected(const struct shd_config *c, int err,
			    const char *says)
{
	struct shd_machine *m = NULL;
	int rc = shd_machine_create(c, &m);

	cr_assert_eq(rc, err, "expected %d (%s), got %d: %s", err, says, rc,
		     shd_last_error());
	cr_assert_null(m);
	cr_assert_not_null(strstr(shd_last_error(), says), "\"%s\" does not "
			   "say \"%s\"", shd_last_error(), says);
}

static int create_ok(const struct shd_config *c)
{
	struct shd_machine *m = NULL;
	int rc = shd_machine_create(c, &m);

	if (rc == 0)
		shd_machine_destroy(m);
	return rc;
}

static unsigned choose_first(void *ctx, const struct shd_sched_view *v)
{
	(void)ctx;
	for (unsigned i = 0; i < v->ncpus; i++)
		if (v->runnable[i])
			return i;
	return 0;
}

Test(seeded, machine_create_rejects_bad_schedules_and_says_why)
{
	struct shd_config c, ok = seeded_config(2, "linux", SHD_STRATEGY_PCT, 1);
	struct shd_decision out_of_order[] = { { 10, 0, 0 }, { 5, 1, 0 } };
	struct shd_decision no_such_cpu[] = { { 1, 0, 0 }, { 2, 2, 0 } };
	struct shd_decision fine[] = { { 1, 0, 0 }, { 2, SHD_SCHED_CTL, 0 } };

	c = ok, c.sched.depth = 0;
	assert_rejected(&c, -ERANGE, "depth 0");
	c = ok, c.sched.depth = 17;
	assert_rejected(&c, -ERANGE, "depth 17");
	c = ok, c.sched.run = 0;
	assert_rejected(&c, -ERANGE, "run 0");
	c = ok, c.sched.preemptions = -2;
	assert_rejected(&c, -ERANGE, "bound -2");
	c = ok, c.sched.mode = (enum shd_sched_mode)7;
	assert_rejected(&c, -EINVAL, "mode 7");
	c = ok, c.sched.strategy = (enum shd_strategy)9;
	assert_rejected(&c, -EINVAL, "strategy 9");
	c = ok, c.sched.strategy = SHD_STRATEGY_CHOOSE;
	assert_rejected(&c, -EINVAL, "callback");
	c = ok, c.sched.strategy = SHD_STRATEGY_REPLAY;
	c.sched.nreplay = 3;
	assert_rejected(&c, -EINVAL, "no array");
	c.sched.replay = out_of_order;
	c.sched.nreplay = ARRAY_LEN(out_of_order);
	assert_rejected(&c, -EINVAL, "switch 2 is at step 5");
	c.sched.replay = no_such_cpu;
	c.sched.nreplay = ARRAY_LEN(no_such_cpu);
	assert_rejected(&c, -ERANGE, "cpu 2");

	/* The edges that are fine: depth 1 and 16, no bound, the
	 * controller in a replay, a CHOOSE with its callback; and the host
	 * scheduler ignores the seeded fields. */
	c = ok, c.sched.depth = 1;
	cr_assert_eq(create_ok(&c), 0);
	c = ok, c.sched.depth = 16, c.sched.preemptions = -1;
	cr_assert_eq(create_ok(&c), 0);
	c = ok, c.sched.strategy = SHD_STRATEGY_REPLAY;
	c.sched.replay = fine;
	c.sched.nreplay = ARRAY_LEN(fine);
	cr_assert_eq(create_ok(&c), 0, "%s", shd_last_error());
	c = ok, c.sched.strategy = SHD_STRATEGY_CHOOSE;
	c.sched.choose = choose_first;
	cr_assert_eq(create_ok(&c), 0, "%s", shd_last_error());
	c = ok, c.sched.mode = SHD_SCHED_HOST, c.sched.depth = 0;
	cr_assert_eq(create_ok(&c), 0, "%s", shd_last_error());
}

/* ---- many CPUs ---- */

/*
 * Every CPU runs the mm and caches cpu 0's page, and goes idle (lazy);
 * cpu 0 unmaps it under broadcast, whose shootdown wakes every other CPU
 * with an IPI; then the page is gone for every CPU.
 */
static int crowd_map(struct shd_cpu *cpu, void *arg)
{
	struct shd_mm *mm = arg;

	T_OK(shd_switch_mm(cpu, mm));
	T_OK(shd_mmap(cpu, mm, UBASE, PAGE, RW));
	T_OK(shd_store(cpu, UBASE, 0x77));
	return 0;
}

static int crowd_load(struct shd_cpu *cpu, void *arg)
{
	T_OK(shd_switch_mm(cpu, arg));
	T_LOAD(cpu, UBASE, 0x77);
	return 0;
}

static int crowd_unmap(struct shd_cpu *cpu, void *arg)
{
	T_OK(shd_switch_mm(cpu, arg));
	T_OK(shd_munmap(cpu, arg, UBASE, PAGE));
	return 0;
}

static int crowd_gone(struct shd_cpu *cpu, void *arg)
{
	uint64_t v;

	T_OK(shd_switch_mm(cpu, arg));
	T_EQ(shd_load(cpu, UBASE, &v), -EFAULT);
	return 0;
}

static void crowd(unsigned ncpus)
{
	struct shd_config c = seeded_config(ncpus, "broadcast",
					    SHD_STRATEGY_RANDOM, 1);
	struct shd_machine *m;
	struct shd_mm *mm;
	struct account a;

	c.dtlb.entries = 64;	/* small TLBs: many CPUs, little memory */
	c.dtlb.ways = 4;
	m = test_machine(&c);
	mm = test_mm(m);
	run_one(m, 0, crowd_map, mm);
	cr_assert_eq(shd_run_on(m, 0, ncpus, crowd_load, mm), 0, "%s",
		     shd_last_error());
	run_one(m, 0, crowd_unmap, mm);
	cr_assert_eq(shd_run_on(m, 0, ncpus, crowd_gone, mm), 0, "%s",
		     shd_last_error());
	assert_tasks_ok();
	a = account_of(m);
	cr_assert_eq(a.stats.violations, 0, "%s", a.first.text);
	cr_assert_eq(a.stats.ipi_requests, ncpus - 1, "%" PRIu64,
		     a.stats.ipi_requests);
	cr_assert_geq(a.nlog, ncpus, "every CPU ran");
	shd_machine_destroy(m);
	free(a.log);
}

Test(seeded, sixty_four_cpus_run_seeded)
{
	crowd(64);
}

Test(seeded, a_thousand_and_twenty_four_cpus_run_seeded, .timeout = 240)
{
	crowd(1024);
}
