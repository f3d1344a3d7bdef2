/* SPDX-License-Identifier: MIT */
/* The workload layer of the CLI: options a run takes, what it produces, the
 * harness every workload shares, and the registry.  Public headers only below. */
#ifndef SHD_BENCH_WORKLOAD_H
#define SHD_BENCH_WORKLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <shootdown/shootdown.h>

struct oplog;

/* How the command prints (the wis format is printed live by tlb_flush2). */
enum out_format { FMT_TABLE, FMT_JSON, FMT_CSV, FMT_WIS,
		  FMT_INTERRUPTS };	/* /proc/interrupts and vmstat lines */

/* The modelled hardware cost of a run, in cycles (bench/cost.c fills it). */
struct cost_model {
	double invlpg;		/* per single-page invalidation */
	double full;		/* per full flush (refills counted apart) */
	double miss;		/* per TLB miss */
	double ipi_send;	/* per IPI sent */
	double ipi_recv;	/* per IPI taken */
	double invlpgb;		/* per INVLPGB issued (assumed) */
	double tlbsync;		/* per TLBSYNC (assumed) */
	double rar;		/* per RAR request to a target (assumed) */
	double tlbi;		/* per arm64 TLBI ...IS issued (assumed) */
	double dsb;		/* per arm64 DSB ISH after TLBIs (assumed) */
	double sbi_ecall;	/* per riscv SBI RFENCE call (assumed) */
	double sinval;		/* per riscv sinval.vma (assumed) */
	double svinval_fence;	/* per sfence.w.inval/.inval.ir (assumed) */
};

/* A workload's own knob, set with --set NAME=VALUE. */
struct wl_knob {
	const char *name;
	const char *help;
	uint64_t def, lo, hi;
};

#define WL_MAX_KNOBS 8
#define WL_MAX_SETS 16
#define WL_MAX_REPEAT 1000		/* --repeat's bound */

/* One run's options: the machine, the policy's overrides, the workload's
 * knobs, resolved by the command layer before a run. */
struct wl_opts {
	const char *workload;
	const char *policy;
	unsigned ncpus;
	uint64_t ops;
	bool ops_set;
	uint64_t seed;
	enum out_format format;
	struct shd_config cfg;		/* policy and faults applied */
	char sets[WL_MAX_SETS][64];	/* --set k=v as given, reapplied per policy */
	unsigned nsets;
	struct cost_model cost;		/* cost.* keys applied */
	uint64_t knob[WL_MAX_KNOBS];	/* the workload's knobs, resolved */
	char faults_text[256];		/* --inject names, for replay lines */
	unsigned duration_s;		/* --format wis: measured seconds */
	unsigned warmup_s;		/* ... and warm-up seconds before */
	bool all_rows;			/* --all: tables print zero counters too */
	int argc;			/* the command's own arguments, */
	char **argv;			/* for the replay line */
	/* The seeded scheduler (cfg.sched holds the rest). */
	bool sched_given;		/* --strategy, --depth etc. on the line */
	char sched_opt[16];		/* the first of them, for the error */
	uint64_t sched_seed;		/* the first schedule's seed */
	bool sched_seed_set;
	unsigned schedules;		/* check: schedules to explore */
	unsigned repeat;		/* run/compare/sweep: seeds per cell */
	const char *record;		/* check: write the schedule here */
	const char *replay;		/* check: replay this schedule file */
	bool keep_log;			/* wl_execute keeps the switches */
	int replay_argc;		/* the replayed file's command */
	char **replay_argv;
	struct oplog *oplog;		/* random: record its calls (oplog.h) */
	const char *trace_file;		/* --trace FILE: the trace workload's */
	/* --policy-lib: policies in C, by name beside the presets */
	const struct shd_policy_ops *const *loaded;
	unsigned nloaded;
	/* --trace-out: the tlb_flush events of the run go to trace_fp (the
	 * file trace_out, opened when parsed); NULL: not traced. */
	const char *trace_out;
	FILE *trace_fp;
	/* host: count the run's tlb_flush events by reason (x86's engine)
	 * into wl_result's trace_reason. */
	bool trace_counts;
};

/* The oracle's first reports a result keeps (the machine keeps 16). */
#define WL_MAX_VIOLATIONS 4

/* A replayed trace's account of one kind of call (wl_trace.c). */
#define WL_MAX_CALLS 12
struct wl_call {
	const char *name;
	uint64_t calls;			/* in the trace */
	uint64_t failed;		/* failed on the host: not replayed */
	uint64_t skipped;		/* could not be replayed (see README) */
	uint64_t ipis_sent;		/* by the calling CPU, during the call */
	uint64_t shootdowns;
};
/* The calls that sent the most IPIs: their trace lines. */
#define WL_MAX_TOP 5
struct wl_top {
	unsigned line;
	uint32_t tid;
	unsigned cpu;
	const char *call;
	uint64_t ipis_sent;
};
/* The threads that sent the most IPIs. */
#define WL_MAX_THREADS 8
struct wl_thread {
	uint32_t tid;
	unsigned cpu;
	uint64_t calls;			/* events replayed */
	uint64_t ipis_sent;
};

/* What a workload run produced. */
struct wl_result {
	uint64_t ops;			/* operations the workload counts */
	uint64_t wall_ns;		/* host time of the measured phase */
	uint64_t check_failures;	/* workload's own read-back failures */
	uint64_t op_p50_ns;		/* median of the operation the workload
					 * times itself (0: none), host time */
	uint64_t warmup_ops;		/* the workload's warm-up under these
					 * options (struct workload's warmup) */
	char warmup_why[160];		/* ... what it is, for the warning */
	char note[160];			/* first check failure, if any */
	char errtxt[1024];		/* why the run failed, if it did */
	int status;			/* 0, or the run's -errno (-ETIMEDOUT...) */
	unsigned nviolations;		/* reports kept in violation[] */
	/* The seeded scheduler's account (zero under the host's). */
	uint64_t sched_steps;
	uint64_t sched_switches;
	unsigned sched_preemptions;
	uint64_t sched_diverged;	/* a replay left its schedule here */
	char sched_divergence[160];
	struct shd_decision *sched_log;	/* keep_log: every switch (free()) */
	struct shd_violation violation[WL_MAX_VIOLATIONS];
	struct shd_stats stats;
	/* The trace workload: per kind of call, the top calls, and what the
	 * replay did (threads, CPUs, pages touched). */
	unsigned ncalls;
	struct wl_call call[WL_MAX_CALLS];
	unsigned ntop;
	struct wl_top top[WL_MAX_TOP];
	unsigned nthreads;
	struct wl_thread thread[WL_MAX_THREADS];
	char replay_info[256];
	uint64_t fault_fired[SHD_FAULT__COUNT];	/* shd_fault_firings() */
	/* --format interrupts: each CPU's TLB line (tlb_interrupts) at
	 * [cpu], its CAL line (ipis_received) at [ncpus + cpu]; malloc()ed,
	 * the holder of the result frees it.  NULL otherwise. */
	uint64_t *irq_lines;
	unsigned irq_ncpus;
	/* trace_counts: the tlb_flush events by reason (the tracepoint's
	 * order), and those past the recording cap (not in them). */
	uint64_t trace_reason[SHD_TLB_FLUSH__NR_REASONS];
	uint64_t trace_dropped;
	bool traced;
};

/* default_ops of a workload that runs to the end of its input (trace). */
#define WL_OPS_ALL (1ull << 40)

struct workload {
	const char *name;
	const char *help;
	uint64_t default_ops;
	unsigned min_cpus;
	int (*run)(struct shd_machine *m, const struct wl_opts *o,
		   struct wl_result *r);
	const struct wl_knob *knobs;	/* NULL-terminated by name */
	/* Refuse knob combinations before anything runs (may be NULL). */
	int (*check)(const struct wl_opts *o, char *err, size_t len);
	/*
	 * The operations the counters need, under O (knobs resolved, o->ncpus
	 * set), before their rates per op stop moving, as measured with
	 * --sched seeded (README, "Steady state"); WHY gets what they are,
	 * for the warning.  NULL: the counters are steady from the first op.
	 */
	uint64_t (*warmup)(const struct wl_opts *o, char *why, size_t len);
};

/* A run is steady when its warm-up is at most half its ops: past that the
 * warm-up's ops are the minority of those counted.  */
#define WL_STEADY_FACTOR 2
static inline bool wl_steady(const struct wl_result *r)
{
	return r->ops >= WL_STEADY_FACTOR * r->warmup_ops;
}

/* registry.c: every workload, in the order of WL_REGISTRY (registry.h). */
const struct workload *const *wl_all(size_t *count);
const struct workload *wl_find(const char *name);

/* harness.c: the helpers every workload shares. */
uint64_t wl_now_ns(void);
/* The median of V[0..N) (N > 0; V is sorted in place). */
uint64_t wl_median(uint64_t *v, size_t n);

/* splitmix64: each CPU's own stream, a pure function of the seed. */
static inline uint64_t wl_rng_next(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ull);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static inline uint64_t wl_rng_below(uint64_t *s, uint64_t n)
{
	return n ? wl_rng_next(s) % n : 0;
}

/* Count a workload check failure; the first one's text goes to NOTE. */
__attribute__((format(printf, 4, 5)))
void wl_note_first(uint64_t *count, char *note, size_t len, const char *fmt,
		   ...);
/* shd_run_on() that keeps the first failure's text in ERRTXT. */
int wl_run_on(struct shd_machine *m, unsigned first, unsigned n,
	      shd_task_fn fn, void *arg, char *errtxt, size_t len);
/* -1 with a reason in ERR when NEED frames (WHY says what for) do not fit
 * the machine O describes; else 0. */
int wl_check_frames(const struct wl_opts *o, uint64_t need, const char *why,
		    char *err, size_t len);
/* Shared file mappings must sit at their file offset's colour (SHMLBA:
 * Linux's sparc refuses others).  WL_SHMLBA_PAGES pages cover every
 * profile's colours (hypersparc has 16). */
#define WL_SHMLBA_PAGES 64
static inline uint64_t wl_colour_round(uint64_t pages)
{
	return (pages + WL_SHMLBA_PAGES - 1) / WL_SHMLBA_PAGES * WL_SHMLBA_PAGES;
}
/* Tasks on LOAD percent of O's CPUs (at least one). */
unsigned wl_load_tasks(unsigned ncpus, uint64_t load);
/* The measured phase: FN on CPUs 0..N-1, host time into res->wall_ns. */
int wl_run_timed(struct shd_machine *m, unsigned n, shd_task_fn fn, void *arg,
		 struct wl_result *res);
/* A reusable barrier of N CPUs that takes IPIs while it waits.  A
 * controller may set STOP; the barrier then sets HALT to the round after
 * which everyone stops (the same round for all). */
struct wl_barrier {
	unsigned n;
	int32_t arrived;
	uint64_t round;
	int32_t stop;
	uint64_t halt;
};
void wl_barrier_wait(struct shd_cpu *cpu, struct wl_barrier *b, uint64_t gen);

/* Lockstep workloads: wait until *P reaches WANT, taking IPIs; -ECANCELED
 * once a CPU that failed has set *ABORT. */
int wl_lockstep_wait(struct shd_cpu *cpu, const uint64_t *p, uint64_t want,
		     const int32_t *abort);
/* A task's error: release every CPU waiting on this one, then report it. */
int wl_lockstep_fail(int32_t *abort, int err);

/* The preset NAME with O's policy --set overrides applied: 0 or -errno
 * (cost.* keys and workload knobs are skipped here). */
int wl_policy(const struct wl_opts *o, const char *name,
	      struct shd_policy *out);

/*
 * Run workload W on a fresh machine built from O with policy POLICY.
 * 0, WL_BAD_INPUT (the configuration was rejected; ERR says why), or a
 * negative errno from the run (ERR says why; -ETIMEDOUT: a CPU is wedged
 * and the machine was left standing).  Violations are in r->stats and
 * r->violation[].
 */
#define WL_BAD_INPUT 1
int wl_execute(const struct workload *w, const struct wl_opts *o,
	       const char *policy, struct wl_result *r, char *err, size_t errlen);

#endif
