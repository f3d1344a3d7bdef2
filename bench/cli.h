/* SPDX-License-Identifier: MIT */
/* Private declarations of the shootdown CLI (bench/ uses public headers only). */
#ifndef SHD_BENCH_CLI_H
#define SHD_BENCH_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <shootdown/shootdown.h>

#define EXIT_USAGE 2

enum out_format { FMT_TABLE, FMT_JSON, FMT_CSV, FMT_WIS };

/* cost.c: the modelled hardware cost of a run, in cycles. */
struct cost_model {
	double invlpg;		/* per single-page invalidation */
	double full;		/* per full flush (refills counted apart) */
	double miss;		/* per TLB miss */
	double ipi_send;	/* per IPI sent */
	double ipi_recv;	/* per IPI taken */
};

void cost_defaults(struct cost_model *c);
/* KEY is "cost.NAME": 0, -ENOENT (no such key), -EINVAL (bad value). */
int cost_set(struct cost_model *c, const char *key, const char *value);
size_t cost_keys(const char *const **names, const char *const **helps);
double cost_cycles(const struct cost_model *c, const struct shd_stats *s);

/* A workload's own knob, set with --set NAME=VALUE. */
struct wl_knob {
	const char *name;
	const char *help;
	uint64_t def, lo, hi;
};

#define WL_MAX_KNOBS 8

/* Options shared by run/compare/check. */
struct cli_opts {
	const char *workload;
	const char *policy;
	unsigned ncpus;
	uint64_t ops;
	bool ops_set;
	uint64_t seed;
	enum out_format format;
	struct shd_config cfg;		/* policy and faults applied */
	char sets[16][64];		/* --set k=v as given, reapplied per policy */
	unsigned nsets;
	struct cost_model cost;		/* cost.* keys applied */
	uint64_t knob[WL_MAX_KNOBS];	/* the workload's knobs, resolved */
	char faults_text[256];		/* --inject names, for replay lines */
	unsigned duration_s;		/* --format wis: measured seconds */
	unsigned warmup_s;		/* ... and warm-up seconds before */
	int argc;			/* the command's own arguments, */
	char **argv;			/* for the replay line */
};

/* What a workload run produced. */
struct wl_result {
	uint64_t ops;			/* operations the workload counts */
	uint64_t wall_ns;		/* host time of the measured phase */
	uint64_t check_failures;	/* workload's own read-back failures */
	uint64_t op_p50_ns;		/* median of the operation the workload
					 * times itself (0: none), host time */
	char note[160];			/* first check failure, if any */
	char errtxt[256];		/* why the run failed, if it did */
	struct shd_stats stats;
};

struct workload {
	const char *name;
	const char *help;
	uint64_t default_ops;
	unsigned min_cpus;
	int (*run)(struct shd_machine *m, const struct cli_opts *o,
		   struct wl_result *r);
	const struct wl_knob *knobs;	/* NULL-terminated by name */
	/* Refuse knob combinations before anything runs (may be NULL). */
	int (*check)(const struct cli_opts *o, char *err, size_t len);
};

/*
 * Resolve O's --set list for workload W: policy knobs are checked against a
 * preset, cost.* keys go to o->cost, W's knobs to o->knob[] (defaults
 * first).  0, or -1 with a one-line reason in ERR.
 */
int cli_resolve_sets(struct cli_opts *o, const struct workload *w,
		     char *err, size_t len);

const struct workload *wl_find(const char *name);

/* Helpers of the workloads (workloads.c). */
uint64_t wl_now_ns(void);
/* The median of V[0..N) (N > 0; V is sorted in place). */
uint64_t wl_median(uint64_t *v, size_t n);
/* Count a workload check failure; the first one's text goes to NOTE. */
__attribute__((format(printf, 4, 5)))
void wl_note_first(uint64_t *count, char *note, size_t len, const char *fmt,
		   ...);
/* shd_run_on() that keeps the first failure's text in ERRTXT. */
int wl_run_on(struct shd_machine *m, unsigned first, unsigned n,
	      shd_task_fn fn, void *arg, char *errtxt, size_t len);
/* -1 with a reason in ERR when NEED frames (WHY says what for) do not fit
 * the machine O describes; else 0. */
int wl_check_frames(const struct cli_opts *o, uint64_t need, const char *why,
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

/* wl_proc.c: fork, exec and reclaim. */
extern const struct wl_knob wl_fork_knobs[], wl_exec_knobs[];
int wl_fork(struct shd_machine *m, const struct cli_opts *o,
	    struct wl_result *r);
int wl_fork_check(const struct cli_opts *o, char *err, size_t len);
int wl_exec(struct shd_machine *m, const struct cli_opts *o,
	    struct wl_result *r);
int wl_exec_check(const struct cli_opts *o, char *err, size_t len);
extern const struct wl_knob wl_reclaim_knobs[];
int wl_reclaim(struct shd_machine *m, const struct cli_opts *o,
	       struct wl_result *r);
int wl_reclaim_check(const struct cli_opts *o, char *err, size_t len);
extern const struct wl_knob wl_pagecache_knobs[];
int wl_pagecache(struct shd_machine *m, const struct cli_opts *o,
		 struct wl_result *r);
int wl_pagecache_check(const struct cli_opts *o, char *err, size_t len);
extern const struct wl_knob wl_modload_knobs[], wl_vmapio_knobs[];
int wl_modload(struct shd_machine *m, const struct cli_opts *o,
	       struct wl_result *res);
int wl_modload_check(const struct cli_opts *o, char *err, size_t len);
int wl_vmapio(struct shd_machine *m, const struct cli_opts *o,
	      struct wl_result *res);
int wl_vmapio_check(const struct cli_opts *o, char *err, size_t len);
extern const struct wl_knob wl_ptrace_knobs[];
int wl_ptrace(struct shd_machine *m, const struct cli_opts *o,
	      struct wl_result *r);
const struct workload *wl_all(size_t *count);

/*
 * Run workload W on a fresh machine built from O with policy POLICY.
 * 0, WL_BAD_INPUT (the configuration was rejected; ERR says why), or a
 * negative errno from the run (ERR says why).  Violations are in r->stats.
 */
#define WL_BAD_INPUT 1
int wl_execute(const struct workload *w, const struct cli_opts *o,
	       const char *policy, struct wl_result *r, char *err, size_t errlen);

/* The preset NAME with O's policy --set overrides applied: 0 or -errno
 * (cost.* keys and workload knobs are skipped here). */
int cli_policy(const struct cli_opts *o, const char *name,
	       struct shd_policy *out);

int cmd_calibrate(int argc, char **argv);

/* sweep.c */
int sweep_parse(const char *spec, char *name, size_t namelen, uint64_t *vals,
		char *err, size_t errlen);
int sweep_best(const double *cost, int n);
/* Before running: 0, 1 (no gnuplot) or 2 (bad or unwritable file name). */
int sweep_plot_check(const char *file, char *err, size_t errlen);
/* 0, 1 (gnuplot failed: ERR says why) or 2 (bad file name). */
int sweep_plot(const char *file, const char *workload, const char *name,
	       const uint64_t *vals, const double *cost, int n, int best,
	       char *err, size_t errlen);

/* output.c */
void out_json_string(FILE *f, const char *s);
void out_stats_json(FILE *f, const struct shd_stats *s);
const char *fmt_count(char *buf, size_t len, uint64_t v);

#endif
