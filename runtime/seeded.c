/* SPDX-License-Identifier: MIT */
/* The seeded scheduler: one simulated CPU at a time, chosen from a seed; recorded, replayed. */

/*
 * Theory of operation.
 *
 * Under SHD_SCHED_SEEDED a token decides which CPU runs: the holder runs
 * until a scheduling point where the strategy picks another and hands the
 * token over.  The controlling thread (the one that submits and joins
 * tasks) is one more participant: it holds the token between runs and
 * gives it away when it waits for a task.  Everything the CPUs share is
 * therefore touched by one participant at a time, in an order that is a
 * function of the seed and the strategy only: host timing can change how
 * long a run takes, never what it does.
 *
 * Mechanism.  As only one CPU ever runs, the CPUs do not need a thread
 * each: each has its own context (a stack and registers) on one carrier
 * thread, and a hand-off between CPUs is a change of stacks there
 * (fiber_swap(): a few instructions on x86-64, swapcontext() elsewhere).
 * A hand-off between threads was a futex wake and a futex wait, a host
 * context switch: 2.5-4 us on the 2-PU VM this was measured on, against
 * 0.25 us for swapcontext() and less for fiber_swap(); and at 256 CPUs a
 * check makes 4 switches an operation.  Only the hand-offs to and
 * from the controller cross threads: a release exchange on the taker's
 * go word (futex-woken if it sleeps), which the taker's acquire pairs
 * with; after it, the carrier runs whichever CPU s->turn names.  A CPU's
 * context sets shd__this_cpu while it runs, so a CPU still sees itself as
 * a CPU and the controller never does; and no CPU switches inside an RCU
 * read section or a lock other than an mm's (shd__sched_point()), so one
 * registered thread serves them all.
 *
 * Scheduling points (shd__sched_point()) are cheap: a step count compared
 * with the step at which the strategy wants to look again.  Waits are
 * blocking points: the CPU says what it waits for (a condition over shared
 * state, a pending IPI, a simulated deadline) and is not chosen until that
 * holds.  When every CPU waits, simulated time jumps to the earliest
 * deadline (the watchdog's, or a CPU computing); none at all is a deadlock,
 * reported with every CPU's wait.
 *
 * Strategies.  random: a switch every 1..2*run steps (uniform), to a CPU
 * drawn among those that can run.  pct (Burckhardt, Kothari, Musuvathi,
 * Nagarakatte, "A Randomized Scheduler with Probabilistic Guarantees of
 * Finding Bugs", ASPLOS 2010): distinct random priorities d..d+n-1, the
 * highest-priority runnable CPU runs, and at d-1 steps drawn from 1..k the
 * running CPU's priority drops to d-1-i, below all others.  A preemption
 * bound (CHESS's iterative context bounding; SCTBench finds most bugs need
 * 1 to 3) caps the switches made while the running CPU could go on.
 *
 * Record and replay.  Every switch is logged as (step, CPU, why); a replay
 * makes the same switches at the same steps and nothing else, so it does
 * not depend on how a seed maps to a schedule.  The controller's returns
 * are logged too (CPU = ncpus).  A wait with no switch recorded went on
 * with the same CPU (its interrupt was pending, say).  A replay that meets
 * a CPU that cannot run, or a waiter that cannot go on where the record has
 * no switch, records where it left the schedule.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/futex.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <ucontext.h>
#include <unistd.h>

#include <urcu/arch.h>
#include "seeded.h"
#include "tlb.h"
#include "tso.h"

/* The CPU that runs on this thread: its own under the host scheduler
 * (sched.c sets it), whichever context runs under this one (types.h). */
__thread struct shd_cpu *shd__this_cpu __attribute__((tls_model("initial-exec")));

/* Polls of the go word before sleeping: the carrier and the controller
 * may share a host PU, where a poll only delays the holder, so a few. */
#define GO_SPIN 4

/* The go words: the controller's, the carrier's. */
enum { GO_CTL, GO_CARRIER, GO_WORDS };

/* s->turn that sends the carrier back to its own context, to end. */
#define TURN_EXIT(s) ((s)->ncpus + 1)

/* Under a sanitizer, each context is announced as a fiber: TSan keeps a
 * happens-before edge across each switch, ASan knows which stack runs. */
#if defined(__SANITIZE_THREAD__)
#define SHD_TSAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define SHD_TSAN_FIBERS 1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__)
#define SHD_ASAN_FIBERS 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define SHD_ASAN_FIBERS 1
#endif
#endif
#ifdef SHD_TSAN_FIBERS
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
#endif
#ifdef SHD_ASAN_FIBERS
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom,
				    size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save,
				     const void **bottom_old, size_t *size_old);
#endif

static long sys_futex(int32_t *uaddr, int op, int32_t val)
{
	return syscall(SYS_futex, uaddr, op, val, NULL, NULL, 0);
}

static void go_give(struct shd_seeded_go *g)
{
	/* Seq-cst exchange (a release): the giver's effects are visible to
	 * the taker's acquire below; 2 means it sleeps. */
	if (shd_xchg(&g->word, 1) == 2)
		sys_futex(&g->word, FUTEX_WAKE_PRIVATE, 1);
}

static void go_take(struct shd_seeded_go *g)
{
	int32_t expect = 0;

	for (unsigned i = 0; i < GO_SPIN; i++) {
		/* Acquire: pairs with go_give()'s exchange. */
		if (shd_load_acquire(&g->word) == 1)
			goto got;
		caa_cpu_relax();
	}
	/* Seq-cst CAS: announce the sleep; go_give()'s exchange sees 2. */
	if (shd_cas(&g->word, &expect, 2))
		/* Acquire: as above. */
		while (shd_load_acquire(&g->word) != 1)
			sys_futex(&g->word, FUTEX_WAIT_PRIVATE, 2);
got:
	shd_store_relaxed(&g->word, 0);
}

static uint64_t rng_next(struct shd_seeded *s)
{
	s->rng += 0x9e3779b97f4a7c15ull;
	return shd__mix64(s->rng);
}

static uint64_t rng_below(struct shd_seeded *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
}

uint64_t shd__sim_now(const struct shd_machine *m)
{
	const struct shd_seeded *s = m->seeded;

	return s ? s->step * SHD_SEEDED_STEP_NS + s->jump_ns : 0;
}

static bool cpu_runnable(struct shd_machine *m, struct shd_seeded *s,
			 unsigned i)
{
	const struct shd_seeded_cpu *c = &s->c[i];

	/* One OR of side-effect-free tests, cheapest first: the order does
	 * not change the answer, only how many lines it pulls in. */
	if (c->exited)
		return false;
	if (!c->blocked)
		return true;
	if (c->deadline && shd__sim_now(m) >= c->deadline)
		return true;
	/* Relaxed: only a hint, as shd__ipi_pending(). */
	if (c->doorbell && shd_load_relaxed(c->doorbell) == SHD_DB_RUNG)
		return true;
	/* Broadcast invalidations owed by its hardware: it does them even
	 * blocked with interrupts off (shd__seeded_block()). */
	if (c->hw_pending && shd_load_relaxed(c->hw_pending))
		return true;
	return c->done && c->done(c->arg);
}

/* Fill s->runnable; the count.  EXCLUDE (a yielding CPU) only if alone. */
static unsigned scan(struct shd_machine *m, struct shd_seeded *s,
		     unsigned exclude)
{
	unsigned n = 0;

	for (unsigned i = 0; i < s->ncpus; i++) {
		s->runnable[i] = i != exclude && cpu_runnable(m, s, i);
		n += s->runnable[i];
	}
	if (!n && exclude < s->ncpus && cpu_runnable(m, s, exclude)) {
		s->runnable[exclude] = 1;
		n = 1;
	}
	return n;
}

static void deadlock(struct shd_machine *m, struct shd_seeded *s)
{
	fprintf(stderr, "shootdown: seeded scheduler: every CPU waits and none "
		"has a deadline (step %" PRIu64 ", seed %" PRIu64 "):\n",
		s->step, s->cfg.seed);
	for (unsigned i = 0; i < s->ncpus; i++)
		fprintf(stderr, "  cpu %u: %s\n", i, s->c[i].exited ? "exited" :
			s->c[i].blocked ? "waits" : "runnable");
	abort();
}

/* Every CPU waits: simulated time jumps to the earliest deadline. */
static bool jump_time(struct shd_machine *m, struct shd_seeded *s)
{
	uint64_t now = shd__sim_now(m), first = UINT64_MAX;

	for (unsigned i = 0; i < s->ncpus; i++)
		if (!s->c[i].exited && s->c[i].blocked && s->c[i].deadline &&
		    s->c[i].deadline < first)
			first = s->c[i].deadline;
	if (first == UINT64_MAX)
		return false;
	if (first > now)
		s->jump_ns += first - now;
	return true;
}

static unsigned nth_runnable(struct shd_seeded *s, uint64_t k)
{
	for (unsigned i = 0; i < s->ncpus; i++)
		if (s->runnable[i] && k-- == 0)
			return i;
	return UINT_MAX;
}

static unsigned highest(struct shd_seeded *s)
{
	unsigned best = UINT_MAX;

	for (unsigned i = 0; i < s->ncpus; i++)
		if (s->runnable[i] && (best == UINT_MAX ||
				       s->c[i].prio > s->c[best].prio))
			best = i;
	return best;
}

static bool bound_reached(const struct shd_seeded *s)
{
	return s->cfg.preemptions >= 0 &&
	       s->preemptions >= (unsigned)s->cfg.preemptions;
}

static void diverge(struct shd_seeded *s, const char *what, unsigned cpu)
{
	if (s->diverged)
		return;
	s->diverged = s->step ? s->step : 1;
	snprintf(s->divergence, sizeof(s->divergence), "at step %" PRIu64 ": %s"
		 " (cpu %u)", s->step, what, cpu);
}

static unsigned pick_replay(struct shd_seeded *s, unsigned cur,
			    enum shd_sched_why why)
{
	const struct shd_decision *d = s->cfg.replay + s->replay_at;

	if (s->replay_at < s->cfg.nreplay && d->step == s->step) {
		s->replay_at++;
		if (d->cpu < s->ncpus && s->runnable[d->cpu])
			return d->cpu;
		if (d->cpu < s->ncpus)
			diverge(s, "the recorded CPU cannot run", d->cpu);
		else
			diverge(s, "the record returns to the controller here",
				s->ncpus);
	} else if (why == SHD_WHY_PREEMPT ||
		   (why != SHD_WHY_START && cur < s->ncpus && s->runnable[cur])) {
		/* No switch here: the recorded run went on with CUR, which a
		 * wait whose condition already held allows (random may draw
		 * the waiter itself). */
		return cur;
	} else {
		diverge(s, "a CPU waits where the record has no switch", cur);
	}
	return nth_runnable(s, 0);
}

static unsigned pick(struct shd_seeded *s, unsigned cur, enum shd_sched_why why,
		     unsigned n)
{
	bool may_stay = why == SHD_WHY_PREEMPT;

	switch (s->cfg.strategy) {
	case SHD_STRATEGY_REPLAY:
		return pick_replay(s, cur, why);
	case SHD_STRATEGY_CHOOSE: {
		struct shd_sched_view v = { .step = s->step, .cur = cur,
			.why = why, .ncpus = s->ncpus, .runnable = s->runnable };
		unsigned c = s->cfg.choose(s->cfg.choose_ctx, &v);

		return c < s->ncpus && s->runnable[c] ? c : nth_runnable(s, 0);
	}
	case SHD_STRATEGY_PCT:
		if (may_stay && s->at_change < s->nchange &&
		    s->step >= s->change[s->at_change]) {
			s->c[cur].prio = s->cfg.depth - 1 - s->at_change;
			s->at_change++;
		}
		if (may_stay && bound_reached(s))
			return cur;
		return highest(s);
	default:
		if (may_stay && bound_reached(s))
			return cur;
		return nth_runnable(s, rng_below(s, n));
	}
}

/*
 * random, without a scan: draw CPUs until one can run (rejection sampling:
 * uniform over those that can, as the scan's pick is), up to a few tries;
 * UINT_MAX sends the caller to the scan.  At 256 CPUs most of a switch's
 * cost was the scan's 256 conditions.
 */
static unsigned sample_random(struct shd_machine *m, struct shd_seeded *s,
			      unsigned cur, enum shd_sched_why why)
{
	if (s->cfg.strategy != SHD_STRATEGY_RANDOM ||
	    (why == SHD_WHY_PREEMPT && bound_reached(s)))
		return UINT_MAX;
	for (unsigned k = 0; k < 8; k++) {
		unsigned i = (unsigned)rng_below(s, s->ncpus);

		if (why == SHD_WHY_YIELD && i == cur)
			continue;
		if (cpu_runnable(m, s, i))
			return i;
	}
	return UINT_MAX;
}

/* When the fast path should call us next. */
static void plan_next(struct shd_seeded *s)
{
	switch (s->cfg.strategy) {
	case SHD_STRATEGY_REPLAY:
		while (s->replay_at < s->cfg.nreplay &&
		       s->cfg.replay[s->replay_at].step < s->step) {
			diverge(s, "the run passed a recorded switch",
				s->cfg.replay[s->replay_at].cpu);
			s->replay_at++;
		}
		s->next = s->replay_at < s->cfg.nreplay ?
			  s->cfg.replay[s->replay_at].step : UINT64_MAX;
		break;
	case SHD_STRATEGY_CHOOSE:
		s->next = s->step + 1;
		break;
	case SHD_STRATEGY_PCT:
		s->next = s->at_change < s->nchange ? s->change[s->at_change]
						    : UINT64_MAX;
		break;
	default:
		s->next = bound_reached(s) ? UINT64_MAX :
			  s->step + 1 + rng_below(s, 2ull * s->cfg.run);
		break;
	}
	if (s->next <= s->step)
		s->next = s->step + 1;
}

static void log_switch(struct shd_seeded *s, unsigned cpu,
		       enum shd_sched_why why)
{
	if (s->nlog == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 1024;
		void *p = realloc(s->log, cap * sizeof(*s->log));

		if (!p) {
			fprintf(stderr, "shootdown: out of memory for the "
				"schedule's log\n");
			abort();
		}
		s->log = p;
		s->cap = cap;
	}
	s->log[s->nlog++] = (struct shd_decision){ s->step, cpu, why };
}

/*
 * A context: where its stack pointer was left.  On x86-64 a switch saves
 * the callee-saved registers, MXCSR and the x87 control word on the stack
 * it leaves and restores them from the one it enters (what the ABI says
 * survives a call); glibc's swapcontext() also saves the signal mask, a
 * system call that was a fifth of a switch at 256 CPUs, and nothing here
 * changes the mask.  Elsewhere, ucontext.
 */
#if defined(__x86_64__)
struct shd_fiber {
	void *sp;
};

void shd__fiber_swap(void **from_sp, void *to_sp)
	__attribute__((visibility("hidden")));
__asm__(".text\n"
	".globl shd__fiber_swap\n"
	".hidden shd__fiber_swap\n"
	".type shd__fiber_swap, @function\n"
	".p2align 4\n"
	"shd__fiber_swap:\n"
	"	pushq %rbp\n"
	"	pushq %rbx\n"
	"	pushq %r12\n"
	"	pushq %r13\n"
	"	pushq %r14\n"
	"	pushq %r15\n"
	"	subq $8, %rsp\n"
	"	stmxcsr (%rsp)\n"
	"	fnstcw 4(%rsp)\n"
	"	movq %rsp, (%rdi)\n"
	"	movq %rsi, %rsp\n"
	"	ldmxcsr (%rsp)\n"
	"	fldcw 4(%rsp)\n"
	"	addq $8, %rsp\n"
	"	popq %r15\n"
	"	popq %r14\n"
	"	popq %r13\n"
	"	popq %r12\n"
	"	popq %rbx\n"
	"	popq %rbp\n"
	"	ret\n"
	".size shd__fiber_swap, .-shd__fiber_swap\n");

static void fiber_swap(struct shd_fiber *from, struct shd_fiber *to)
{
	shd__fiber_swap(&from->sp, to->sp);
}

/* A context that enters ENTRY on STACK: the frame shd__fiber_swap()
 * pops, over ENTRY as its return address and a null one above that
 * (ENTRY never returns), the stack aligned as for a call. */
static int fiber_init(struct shd_fiber *f, char *stack, size_t size,
		      void (*entry)(void))
{
	uintptr_t top = ((uintptr_t)stack + size) & ~(uintptr_t)15;
	uint64_t *sp = (uint64_t *)(top - 8);	/* 8 mod 16: after a call */

	*sp = 0;				/* ENTRY's return address */
	*--sp = (uint64_t)(uintptr_t)entry;
	for (int i = 0; i < 6; i++)		/* rbp rbx r12-r15 */
		*--sp = 0;
	*--sp = 0x037full << 32 | 0x1f80;	/* x87 CW, MXCSR: defaults */
	f->sp = sp;
	return 0;
}
#else
struct shd_fiber {
	ucontext_t uc;
};

static void fiber_swap(struct shd_fiber *from, struct shd_fiber *to)
{
	if (swapcontext(&from->uc, &to->uc)) {
		perror("shootdown: seeded scheduler: swapcontext");
		abort();
	}
}

/* getcontext() returns twice, for all the compiler knows: not inline. */
static __attribute__((noinline)) int fiber_init(struct shd_fiber *f,
						char *stack, size_t size,
						void (*entry)(void))
{
	if (getcontext(&f->uc))
		return -1;
	f->uc.uc_stack.ss_sp = stack;
	f->uc.uc_stack.ss_size = size;
	f->uc.uc_link = NULL;
	makecontext(&f->uc, entry, 0);
	return 0;
}
#endif

/* On the carrier, leave the context FROM for NEXT's (a CPU's, or the
 * carrier's own for TURN_EXIT); returns when something switches back. */
static void fiber_switch(struct shd_machine *m, struct shd_fiber *from,
			 unsigned next)
{
	struct shd_seeded *s = m->seeded;
	struct shd_cpu *self = shd__this_cpu;
	bool cpu = next < s->ncpus;
#ifdef SHD_ASAN_FIBERS
	void *fake;

	__sanitizer_start_switch_fiber(&fake, cpu ? s->stack[next] :
				       s->carrier_stack, cpu ? s->stack_size :
				       s->carrier_stack_size);
#endif
#ifdef SHD_TSAN_FIBERS
	__tsan_switch_to_fiber(cpu ? s->tsan_fiber[next] : s->tsan_carrier, 0);
#endif
	shd__this_cpu = cpu ? m->cpus[next] : NULL;
	fiber_swap(from, &s->ctx[cpu ? next : s->ncpus]);
#ifdef SHD_ASAN_FIBERS
	__sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
	shd__this_cpu = self;	/* back on FROM's stack: its CPU again */
}

/* Give the token from CUR to NEXT (CPUs; ncpus: the controller) and, but
 * for an exiting CPU, return when CUR has it again. */
static void hand_over(struct shd_machine *m, unsigned cur, unsigned next)
{
	struct shd_seeded *s = m->seeded;

	s->turn = next;
	if (cur == s->ncpus) {
		/* Controller to the carrier: s->turn, read after its
		 * acquire, says which CPU it runs. */
		go_give(&s->go[GO_CARRIER]);
		go_take(&s->go[GO_CTL]);
		return;
	}
	if (next == s->ncpus) {
		/* The carrier sleeps in CUR's context until the controller
		 * gives the token back, to CUR or to another. */
		go_give(&s->go[GO_CTL]);
		go_take(&s->go[GO_CARRIER]);
		if (s->turn == cur)
			return;
		next = s->turn;
	}
	fiber_switch(m, &s->ctx[cur], next);
}

/* The holder CUR (a CPU, or ncpus: the controller) reached the scheduler:
 * pick who runs next and hand the token over. */
static void reschedule(struct shd_machine *m, unsigned cur,
		       enum shd_sched_why why)
{
	struct shd_seeded *s = m->seeded;
	unsigned next, n;

	if (why != SHD_WHY_START && s->ctl_waiting && s->ctl_done(s->ctl_arg)) {
		next = s->ncpus;
		if (s->cfg.strategy == SHD_STRATEGY_REPLAY &&
		    s->replay_at < s->cfg.nreplay &&
		    s->cfg.replay[s->replay_at].step == s->step &&
		    s->cfg.replay[s->replay_at].cpu == SHD_SCHED_CTL)
			s->replay_at++;
	} else {
		if ((next = sample_random(m, s, cur, why)) == UINT_MAX) {
			while (!(n = scan(m, s, why == SHD_WHY_YIELD ? cur :
					  UINT_MAX)))
				if (!jump_time(m, s))
					deadlock(m, s);
			if ((next = pick(s, cur, why, n)) == UINT_MAX)
				deadlock(m, s);
		}
		if (why == SHD_WHY_PREEMPT && next != cur)
			s->preemptions++;
	}
	plan_next(s);
	if (next == cur)
		return;
	if (s->sb)
		shd__tso_switch(m, s->step);	/* store buffers commit */
	log_switch(s, next == s->ncpus ? SHD_SCHED_CTL : next, why);
	hand_over(m, cur, next);
}

void shd__seeded_switch(struct shd_cpu *cpu, enum shd_sched_why why)
{
	reschedule(cpu->m, cpu->id, why);
}

void shd__seeded_block(struct shd_cpu *cpu, bool (*done)(void *), void *arg,
		       bool ipis, uint64_t deadline)
{
	struct shd_seeded *s = cpu->m->seeded;
	struct shd_seeded_cpu *c = &s->c[cpu->id];

	c->done = done;
	c->arg = arg;
	/* Only this CPU changes in_ipi and hw_act: fixed while it waits. */
	c->doorbell = ipis && !cpu->in_ipi ? &cpu->ipi.doorbell : NULL;
	c->hw_pending = cpu->hw_act ? &cpu->hw_pending : NULL;
	c->deadline = deadline;
	c->blocked = true;
	shd__tso_drain(cpu);	/* a waiting CPU's buffer empties */
	s->step++;
	reschedule(cpu->m, cpu->id, SHD_WHY_BLOCK);
	c->blocked = false;
	/* Woken for it, maybe: no handler needed. */
	if (shd__hw_drain(cpu))
		shd__seeded_wake(cpu->m);
}

void shd__seeded_yield(struct shd_cpu *cpu)
{
	shd__tso_drain(cpu);	/* as in shd__seeded_block() */
	cpu->m->seeded->step++;
	reschedule(cpu->m, cpu->id, SHD_WHY_YIELD);
}

/* A CPU's context starts here, the first time it is chosen
 * (shd__this_cpu is already the CPU: fiber_switch()). */
static void fiber_main(void)
{
	struct shd_cpu *cpu = shd__this_cpu;
	struct shd_seeded *s = cpu->m->seeded;

#ifdef SHD_ASAN_FIBERS
	__sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
	s->c[cpu->id].blocked = false;
	s->cpu_run(cpu);
	/* Exit: give the turn away for good; nothing switches back. */
	s->c[cpu->id].exited = true;
	shd__tso_drain(cpu);
	s->step++;
	reschedule(cpu->m, cpu->id, SHD_WHY_EXIT);
	abort();
}

/* The carrier thread: takes the token from the controller, runs the CPU
 * it names; back in its own context only to end (shd__seeded_stop()). */
static void *carrier_main(void *arg)
{
	struct shd_machine *m = arg;
	struct shd_seeded *s = m->seeded;

	/* Not bound: one thread has no hand-off to keep on a PU, and bound
	 * it could not leave a PU the host keeps busy (measured on a loaded
	 * 2-PU host: 2.4-10 s bound against 1.7-3.9 s free, same CPU time). */
	rcu_register_thread();
#ifdef SHD_ASAN_FIBERS
	{
		pthread_attr_t a;

		if (!pthread_getattr_np(pthread_self(), &a)) {
			pthread_attr_getstack(&a, &s->carrier_stack,
					      &s->carrier_stack_size);
			pthread_attr_destroy(&a);
		}
	}
#endif
#ifdef SHD_TSAN_FIBERS
	s->tsan_carrier = __tsan_get_current_fiber();
#endif
	go_take(&s->go[GO_CARRIER]);
	if (s->turn < s->ncpus)
		fiber_switch(m, &s->ctx[s->ncpus], s->turn);
	rcu_unregister_thread();
	return NULL;
}

/* The default stack of a thread: a CPU's context gets the same. */
static size_t thread_stack_size(void)
{
	pthread_attr_t a;
	size_t n = 8u << 20;

	if (!pthread_attr_init(&a)) {
		pthread_attr_getstacksize(&a, &n);
		pthread_attr_destroy(&a);
	}
	return n < (256u << 10) ? 256u << 10 : n;
}

int shd__seeded_start(struct shd_machine *m,
		      void (*cpu_run)(struct shd_cpu *cpu))
{
	struct shd_seeded *s = m->seeded;
	size_t guard = (size_t)sysconf(_SC_PAGESIZE);

	s->cpu_run = cpu_run;
	s->stack_size = thread_stack_size();
	for (unsigned i = 0; i < s->ncpus; i++) {
		/* Reserved, not committed, like a thread's; a guard page
		 * below. */
		char *p = mmap(NULL, s->stack_size + guard, PROT_READ |
			       PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS |
			       MAP_NORESERVE | MAP_STACK, -1, 0);

		if (p == MAP_FAILED)
			return -ENOMEM;
		(void)mprotect(p, guard, PROT_NONE);
		s->stack[i] = p + guard;
		if (fiber_init(&s->ctx[i], s->stack[i], s->stack_size,
			       fiber_main))
			return -ENOMEM;
#ifdef SHD_TSAN_FIBERS
		s->tsan_fiber[i] = __tsan_create_fiber(0);
#endif
	}
	if (pthread_create(&s->carrier, NULL, carrier_main, m))
		return -ENOMEM;
	s->carrier_started = true;
	return 0;
}

void shd__seeded_stop(struct shd_machine *m)
{
	struct shd_seeded *s = m->seeded;

	if (!s->carrier_started)
		return;
	s->turn = TURN_EXIT(s);
	go_give(&s->go[GO_CARRIER]);
	pthread_join(s->carrier, NULL);
	s->carrier_started = false;
}

void shd__seeded_ctl_wait(struct shd_machine *m, bool (*done)(void *),
			  void *arg)
{
	struct shd_seeded *s = m->seeded;

	if (done(arg))
		return;
	s->ctl_waiting = true;
	s->ctl_done = done;
	s->ctl_arg = arg;
	reschedule(m, s->ncpus, SHD_WHY_START);
	s->ctl_waiting = false;
}

bool shd__seeded_all_exited(void *arg)
{
	struct shd_machine *m = arg;

	for (unsigned i = 0; i < m->ncpus; i++)
		if (!m->seeded->c[i].exited)
			return false;
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

/* PCT's priorities and change points, from the seed. */
static void pct_init(struct shd_seeded *s)
{
	unsigned n = s->ncpus, d = s->cfg.depth;
	uint64_t k = s->cfg.steps ? s->cfg.steps : 1ull << 20;

	for (unsigned i = 0; i < n; i++)
		s->c[i].prio = i;
	for (unsigned i = n; i > 1; i--) {	/* Fisher-Yates */
		unsigned j = (unsigned)rng_below(s, i), t = s->c[i - 1].prio;

		s->c[i - 1].prio = s->c[j].prio;
		s->c[j].prio = t;
	}
	for (unsigned i = 0; i < n; i++)
		s->c[i].prio += d;
	s->nchange = d - 1;
	for (unsigned i = 0; i < s->nchange; i++)
		s->change[i] = 1 + rng_below(s, k);
	qsort(s->change, s->nchange, sizeof(s->change[0]), cmp_u64);
}

int shd__seeded_create(struct shd_machine *m, bool (*idle_done)(void *))
{
	const struct shd_sched_config *cfg = &m->cfg.sched;
	struct shd_seeded *s;

	if (cfg->mode != SHD_SCHED_SEEDED)
		return 0;
	s = calloc(1, sizeof(*s));
	if (!s)
		return -ENOMEM;
	s->ncpus = m->ncpus;
	s->cfg = *cfg;
	s->turn = m->ncpus;
	s->rng = shd__mix64(cfg->seed ^ 0x5eedc0ffee5eedull);
	m->seeded = s;		/* shd__seeded_free() undoes any part */
	s->c = calloc(m->ncpus, sizeof(*s->c));
	s->runnable = calloc(m->ncpus, 1);
	s->ctx = calloc(m->ncpus + 1, sizeof(*s->ctx));
	s->stack = calloc(m->ncpus, sizeof(*s->stack));
#ifdef SHD_TSAN_FIBERS
	s->tsan_fiber = calloc(m->ncpus, sizeof(*s->tsan_fiber));
	if (!s->tsan_fiber) {
		shd__seeded_free(m);
		return -ENOMEM;
	}
#endif
	if (posix_memalign((void **)&s->go, SHD_CL,
			   sizeof(*s->go) * GO_WORDS) || !s->c ||
	    !s->runnable || !s->ctx || !s->stack ||
	    (cfg->store_buffers && !(s->sb = shd__tso_create(m)))) {
		shd__seeded_free(m);
		return -ENOMEM;
	}
	memset(s->go, 0, sizeof(*s->go) * GO_WORDS);
	for (unsigned i = 0; i < m->ncpus; i++)
		s->c[i] = (struct shd_seeded_cpu){ .done = idle_done,
			.arg = m->cpus[i], .blocked = true,
			.doorbell = &m->cpus[i]->ipi.doorbell,
			.hw_pending = m->cpus[i]->hw_act ?
				      &m->cpus[i]->hw_pending : NULL };
	if (cfg->strategy == SHD_STRATEGY_PCT)
		pct_init(s);
	plan_next(s);
	return 0;
}

void shd__seeded_free(struct shd_machine *m)
{
	struct shd_seeded *s = m->seeded;

	if (!s)
		return;
	shd__tso_free(s->sb);
	free(s->log);
	free(s->c);
	free(s->runnable);
	for (unsigned i = 0; s->stack && i < s->ncpus; i++) {
		size_t guard = (size_t)sysconf(_SC_PAGESIZE);

		if (s->stack[i])
			munmap(s->stack[i] - guard, s->stack_size + guard);
#ifdef SHD_TSAN_FIBERS
		if (s->tsan_fiber && s->tsan_fiber[i])
			__tsan_destroy_fiber(s->tsan_fiber[i]);
#endif
	}
#ifdef SHD_TSAN_FIBERS
	free(s->tsan_fiber);
#endif
	free(s->stack);
	free(s->ctx);
	free(s->go);
	free(s);
	m->seeded = NULL;
}

/* ---- the public side ---- */

size_t shd_sched_decisions(const struct shd_machine *m,
			   const struct shd_decision **out)
{
	const struct shd_seeded *s = m ? m->seeded : NULL;

	if (out)
		*out = s ? s->log : NULL;
	return s ? s->nlog : 0;
}

uint64_t shd_sched_steps(const struct shd_machine *m)
{
	return m && m->seeded ? m->seeded->step : 0;
}

unsigned shd_sched_preemptions(const struct shd_machine *m)
{
	return m && m->seeded ? m->seeded->preemptions : 0;
}

uint64_t shd_sched_diverged(const struct shd_machine *m)
{
	return m && m->seeded ? m->seeded->diverged : 0;
}

const char *shd_sched_divergence(const struct shd_machine *m)
{
	return m && m->seeded && m->seeded->diverged ? m->seeded->divergence : "";
}

uint64_t shd_sched_now_ns(const struct shd_machine *m)
{
	return m ? shd__sim_now(m) : 0;
}

int shd_sched_mode_parse(const char *name)
{
	if (!name)
		return -1;
	if (!strcmp(name, "host"))
		return SHD_SCHED_HOST;
	if (!strcmp(name, "seeded"))
		return SHD_SCHED_SEEDED;
	return -1;
}

static const char *const strategy_names[] = {
	[SHD_STRATEGY_RANDOM] = "random", [SHD_STRATEGY_PCT] = "pct",
	[SHD_STRATEGY_REPLAY] = "replay", [SHD_STRATEGY_CHOOSE] = "choose",
};

int shd_strategy_parse(const char *name)
{
	for (int i = 0; name && i <= SHD_STRATEGY_PCT; i++)
		if (!strcmp(name, strategy_names[i]))
			return i;
	return -1;
}

const char *shd_strategy_name(enum shd_strategy s)
{
	return (unsigned)s <= SHD_STRATEGY_CHOOSE ? strategy_names[s] : "?";
}
