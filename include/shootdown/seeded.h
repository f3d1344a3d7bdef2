/* SPDX-License-Identifier: MIT */
/* shootdown's seeded scheduler: one simulated CPU at a time, chosen from a seed (random or PCT), recorded and replayed. */
#ifndef SHOOTDOWN_SEEDED_H
#define SHOOTDOWN_SEEDED_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_machine;

/*
 * How the CPUs' threads run.  HOST: freely, pinned, interleaved by the host
 * scheduler (host-time figures).  SEEDED: exactly one simulated CPU advances
 * at a time; at each scheduling point (a library call's entry, the steps of
 * a flush and of switch_mm, a lock, a wait for an acknowledgement, idle) the
 * strategy decides who runs next, from the seed alone.  A run is then a
 * pure function of the configuration: its counters, its violations and its
 * decisions are the same on every run.
 */
enum shd_sched_mode { SHD_SCHED_HOST = 0, SHD_SCHED_SEEDED };

enum shd_strategy {
	/* At each point, switch with probability 1/run to a CPU drawn
	 * uniformly among those that can run. */
	SHD_STRATEGY_RANDOM = 0,
	/* PCT (Burckhardt et al., ASPLOS'10): random distinct priorities,
	 * the highest-priority CPU that can run always runs, and at depth-1
	 * random steps the running CPU drops below every other.  Finds a bug
	 * of depth d among n CPUs and k steps with probability at least
	 * 1/(n k^(d-1)) per run. */
	SHD_STRATEGY_PCT,
	/* The decisions come from cfg->replay (recorded earlier). */
	SHD_STRATEGY_REPLAY,
	/* The decisions come from cfg->choose (systematic exploration). */
	SHD_STRATEGY_CHOOSE,
};

/* Why the running CPU reached the scheduler. */
enum shd_sched_why {
	SHD_WHY_PREEMPT = 0,	/* a scheduling point: it could go on */
	SHD_WHY_BLOCK,		/* it waits (an acknowledgement, a lock, idle) */
	SHD_WHY_YIELD,		/* it spins on something (shd_cpu_poll) */
	SHD_WHY_EXIT,		/* its thread ends (the machine stops) */
	SHD_WHY_START,		/* the controlling thread waits for the CPUs */
};

/* The controlling thread's number in a decision (it holds the token
 * between tasks). */
#define SHD_SCHED_CTL UINT32_MAX

/* One switch: at scheduling step STEP, CPU (or SHD_SCHED_CTL) ran next
 * (because of WHY). */
struct shd_decision {
	uint64_t step;
	uint32_t cpu;
	uint32_t why;		/* enum shd_sched_why */
};

/* What a CHOOSE callback sees: the CPUs that can run now. */
struct shd_sched_view {
	uint64_t step;
	unsigned cur;		/* the running CPU (ncpus: the controller) */
	enum shd_sched_why why;
	unsigned ncpus;
	const unsigned char *runnable;	/* [ncpus]: 1 if it can run */
};

struct shd_sched_config {
	enum shd_sched_mode mode;
	enum shd_strategy strategy;
	uint64_t seed;		/* the schedule's seed (not the operations') */
	unsigned depth;		/* PCT's d, 1..16; default 3 */
	unsigned run;		/* random: mean steps between switches; 16 */
	uint64_t steps;		/* PCT's k (how long a run is); 0: 1<<20 */
	int preemptions;	/* most preemptive switches; -1: no bound */
	bool store_buffers;	/* x86-TSO store buffers for the protocol's
				 * fields (seeded only); default on */
	/* SHD_STRATEGY_REPLAY: the switches to make, by step. */
	const struct shd_decision *replay;
	size_t nreplay;
	/* SHD_STRATEGY_CHOOSE: called at every point; returns the CPU to run
	 * (one with runnable[] set). */
	unsigned (*choose)(void *ctx, const struct shd_sched_view *v);
	void *choose_ctx;
};

/*
 * The switches a seeded machine has made so far (NULL and 0 under HOST),
 * and its scheduling steps.  The array stays valid until the next call
 * into the machine.  Controlling thread, between tasks.
 */
SHD_EXPORT size_t shd_sched_decisions(const struct shd_machine *m,
				      const struct shd_decision **out);
SHD_EXPORT uint64_t shd_sched_steps(const struct shd_machine *m);
/* Preemptive switches made so far. */
SHD_EXPORT unsigned shd_sched_preemptions(const struct shd_machine *m);
/*
 * A replayed run left its schedule: a recorded switch named a CPU that
 * could not run, or a CPU blocked where none was recorded.  0 when the
 * replay held (or was not one); else the step, and shd_sched_divergence()
 * says what happened.
 */
SHD_EXPORT uint64_t shd_sched_diverged(const struct shd_machine *m);
SHD_EXPORT const char *shd_sched_divergence(const struct shd_machine *m);
/* Simulated time, ns: advanced SHD_SCHED_STEP_NS by every scheduling step
 * and, when every CPU waits, to the next deadline (HOST: 0). */
#define SHD_SCHED_STEP_NS 20u
SHD_EXPORT uint64_t shd_sched_now_ns(const struct shd_machine *m);

/* The names used on the command line: "host", "seeded"; "random", "pct".
 * -1 for an unknown name. */
SHD_EXPORT int shd_sched_mode_parse(const char *name);
SHD_EXPORT int shd_strategy_parse(const char *name);
SHD_EXPORT const char *shd_strategy_name(enum shd_strategy s);

#ifdef __cplusplus
}
#endif
#endif
