/* SPDX-License-Identifier: MIT */
/* The seeded scheduler: one simulated CPU at a time, chosen from a seed. */
#ifndef SHD_RUNTIME_SEEDED_H
#define SHD_RUNTIME_SEEDED_H

#include <pthread.h>

#include <shootdown/seeded.h>
#include "types.h"

/* A thread's go word (the controller's, the carrier's): the holder of the
 * token gives it with GO. */
struct shd_seeded_go {
	int32_t word;		/* 0 wait, 1 go, 2 asleep in futex_wait */
} __attribute__((aligned(SHD_CL)));

/*
 * What a CPU waits for while it is blocked.  The scheduler tests every
 * blocked CPU's wait at most switches, so what the CPU itself decides
 * (whether an IPI may wake it: not inside a handler; whether it has
 * broadcast hardware) is taken when it blocks, and the words others write
 * are reached without going through the CPU's own struct.
 */
struct shd_seeded_cpu {
	bool (*done)(void *);	/* its condition; NULL: none */
	void *arg;
	uint64_t deadline;	/* simulated ns it gives up at; 0: never */
	const int32_t *doorbell;	/* its IPI doorbell if one wakes it */
	const uint32_t *hw_pending;	/* its hardware's work (bcast) or NULL */
	bool blocked;		/* waiting: runs only once done() or woken */
	bool exited;		/* its thread is gone */
	unsigned prio;		/* PCT's priority (higher runs) */
};

/*
 * The scheduler's state.  Everything here except the go words is touched
 * only by the holder of the token (a CPU's context on the carrier thread,
 * or the controlling thread), and the token passes between the two
 * threads with a release/acquire pair: no locks.
 */
struct shd_seeded {
	uint64_t step;		/* scheduling points passed */
	uint64_t next;		/* step at which the slow path runs */
	uint64_t jump_ns;	/* simulated time skipped while all waited */
	unsigned turn;		/* who holds the token (ncpus: controller) */
	unsigned ncpus;
	struct shd_sched_config cfg;
	uint64_t rng;
	unsigned preemptions;
	/* PCT: the steps at which the running CPU's priority drops. */
	uint64_t change[16];
	unsigned nchange, at_change;
	/* The controller's wait. */
	bool ctl_waiting;
	bool (*ctl_done)(void *);
	void *ctl_arg;
	/* The log (every switch) and the replay cursor. */
	struct shd_decision *log;
	size_t nlog, cap;
	size_t replay_at;
	uint64_t diverged;
	char divergence[160];
	unsigned char *runnable;	/* scratch for choose */
	struct shd_seeded_cpu *c;	/* [ncpus] */
	struct shd_sb *sb;		/* [ncpus] store buffers (tso.c) or NULL */
	struct shd_seeded_go *go;	/* [2]: the controller's, the carrier's */
	/* The carrier thread and the CPUs' contexts on it (seeded.c). */
	void (*cpu_run)(struct shd_cpu *cpu);	/* a CPU's life (sched.c) */
	struct shd_fiber *ctx;		/* [ncpus + 1]: CPUs', the carrier's */
	char **stack;			/* [ncpus], each stack_size bytes */
	size_t stack_size;
	pthread_t carrier;
	bool carrier_started;
	void *carrier_stack;		/* for ASan's fiber switches */
	size_t carrier_stack_size;
	void **tsan_fiber;		/* [ncpus], under TSan */
	void *tsan_carrier;
};

/* Simulated time per scheduling step (the public SHD_SCHED_STEP_NS). */
#define SHD_SEEDED_STEP_NS ((unsigned long long)SHD_SCHED_STEP_NS)

int shd__seeded_create(struct shd_machine *m, bool (*idle_done)(void *));
void shd__seeded_free(struct shd_machine *m);

/* The slow path of a scheduling point (see shd__sched_point()). */
void shd__seeded_switch(struct shd_cpu *cpu, enum shd_sched_why why);

/*
 * A scheduling point of CPU: under the seeded scheduler the strategy may
 * run another CPU here; under the host's, nothing.  Never inside any lock
 * but an mm's (those are the scheduler's own: see shd__mm_lock()).
 */
static inline void shd__sched_point(struct shd_cpu *cpu)
{
	struct shd_seeded *s = cpu->m->seeded;

	if (s && ++s->step >= s->next)
		shd__seeded_switch(cpu, SHD_WHY_PREEMPT);
}

/* Something happened that may let a waiting CPU run (an acknowledgement, a
 * doorbell, an unlock, a finished task): PCT looks again at the next point. */
static inline void shd__seeded_wake(struct shd_machine *m)
{
	struct shd_seeded *s = m->seeded;

	if (s && s->cfg.strategy == SHD_STRATEGY_PCT && s->next > s->step + 1)
		s->next = s->step + 1;
}

/* Block CPU until DONE(ARG) holds, an IPI arrives (IPIS), or simulated
 * time reaches DEADLINE (0: never); returns when it runs again (the
 * caller re-checks).  Seeded only. */
void shd__seeded_block(struct shd_cpu *cpu, bool (*done)(void *), void *arg,
		       bool ipis, uint64_t deadline);
/* Let another CPU run: CPU spins on something only another can change. */
void shd__seeded_yield(struct shd_cpu *cpu);
/* Start the carrier thread, which runs every CPU's context (each starts
 * in CPU_RUN, the CPU's life, the first time it is chosen, and exits when
 * that returns); 0 or -ENOMEM.  Partner:
 * shd__seeded_stop(), once every CPU has exited (shd__seeded_all_exited()),
 * which ends and joins it.  Controller only. */
int shd__seeded_start(struct shd_machine *m,
		      void (*cpu_run)(struct shd_cpu *cpu));
void shd__seeded_stop(struct shd_machine *m);
/* The controlling thread waits, letting the CPUs run, until DONE(ARG). */
void shd__seeded_ctl_wait(struct shd_machine *m, bool (*done)(void *),
			  void *arg);
/* Every CPU thread has ended (ARG: the machine); for the teardown. */
bool shd__seeded_all_exited(void *arg);
/* Simulated now (ns); 0 under the host scheduler. */
uint64_t shd__sim_now(const struct shd_machine *m);

/* The machine's clock: simulated under the seeded scheduler (so that
 * timeouts and latencies are the same on every run), the host's
 * otherwise. */
static inline uint64_t shd__machine_now(const struct shd_machine *m)
{
	return m->seeded ? shd__sim_now(m) : shd_now_ns();
}

/* jiffies: the machine's clock in ticks of the policy's hz (CONFIG_HZ),
 * counted from the machine's start under the host scheduler too. */
static inline uint64_t shd__jiffies(const struct shd_machine *m)
{
	uint64_t ns = shd__machine_now(m), hz = m->cfg.policy.hz;

	return ns / 1000000000ull * hz + ns % 1000000000ull * hz / 1000000000ull;
}

/* The trim period in jiffies: HZ for Linux's second. */
static inline uint64_t shd__trim_jiffies(const struct shd_policy *p)
{
	uint64_t j = (uint64_t)p->trim_ms * p->hz / 1000;

	return j ? j : 1;
}

#endif
