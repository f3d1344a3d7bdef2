/* SPDX-License-Identifier: MIT */
/* The command layer of the shootdown CLI: options, output, cells, commands.
 * It calls down into bench/workloads/ and the library's public headers. */
#ifndef SHD_BENCH_CLI_H
#define SHD_BENCH_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <shootdown/shootdown.h>

#include "suggest.h"
#include "workloads/workload.h"

/* Exit status: each means one thing (README, "Exit status"). */
#define EXIT_CLEAN	0	/* the run completed; no violation, no failed read-back */
#define EXIT_VIOLATION	1	/* an oracle violation or a failed read-back */
#define EXIT_USAGE	2	/* bad input: one line on stderr */
#define EXIT_INCOMPLETE	3	/* a watchdog fired, memory ran out, the run failed */
#define EXIT_SIGNAL	128	/* + the signal: SIGINT 130, SIGTERM 143 */

/* The commands, as bits: which options each takes. */
enum cli_cmd {
	CMD_RUN = 1u << 0,
	CMD_COMPARE = 1u << 1,
	CMD_SWEEP = 1u << 2,
	CMD_CHECK = 1u << 3,
	CMD_LIST = 1u << 4,
	CMD_CALIBRATE = 1u << 5,
	CMD_DEFAULT = 1u << 6,
	CMD_HOST = 1u << 7,		/* shootdown host: a workload's native twin */
	CMD_RECORD = 1u << 8,		/* shootdown record: a program's mm calls */
};

/* usage.c: the program's name and path; bad input ends here (exit 2). */
extern const char *const cli_prog;
extern char cli_self[4096];	/* this binary, for commands we print */
__attribute__((noreturn, format(printf, 1, 2)))
void usage_error(const char *fmt, ...);

/* cost.c: the modelled hardware cost of a run, in cycles. */
void cost_defaults(struct cost_model *c);
/* KEY is "cost.NAME": 0, -ENOENT (no such key), -EINVAL (bad value). */
int cost_set(struct cost_model *c, const char *key, const char *value);
size_t cost_keys(const char *const **names, const char *const **helps);
double cost_get(const struct cost_model *c, size_t k);
double cost_cycles(const struct cost_model *c, const struct shd_stats *s);

/* options.c: a command's options, parsed from one table (names.c: the
 * names they take, "did you mean", --set). */
struct parsed {
	struct wl_opts o;
	unsigned cmd;			/* the CMD_* being parsed */
	char policies[256];
	char cpus_list[256];
	char param[128];
	char plot[256];
	unsigned jobs;
	bool emit_jobs;
	bool refine;			/* sweep --refine */
	bool help;
	/* check --scenario (check_scenario.c) and --minimize (minimize.c) */
	const char *scenario;
	const char *choices;
	bool minimize, trace;
	bool schedules_set, strategy_set;
	bool sched_set;			/* --sched given */
	unsigned watch;			/* host --watch S */
	/* calibrate --emit-set [--ghz X]: 0 = the host's frequency */
	bool emit_set;
	double ghz;
	const char *output;		/* record -o FILE */
	unsigned record_pid;		/* record --pid PID (0: run a command) */
	unsigned record_s;		/* record --duration S (0: until the end) */
};

/* Parse ARGV for CMD into P; true if it asked for --help, which is then
 * printed: USAGE and ABOUT, then every option CMD takes, names from the
 * library's tables and the registry. */
bool cli_start(struct parsed *p, unsigned cmd, int argc, char **argv,
	       const char *usage, const char *about);
/* cmd_run.c: --trace-out with what it cannot go with: one line, exit 2. */
void trace_out_refuse(const struct wl_opts *o);
uint64_t cli_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi);
/* Split "a,b,c" into at most MAX pieces of BUF. */
unsigned cli_split(char *buf, char **out, unsigned max, const char *opt);
const struct workload *cli_workload(const char *name);
void cli_need_policy(const char *name);

/* policylib.c: --policy-lib PATH[:NAME], policies in C (policy_ops.h).
 * Load SPEC's policy or exit 2 with one line; from then on a crash in
 * one of its hooks is reported by hook and CPU (exit 2). */
#define CLI_MAX_LOADED 8
void cli_policy_lib(const char *spec);
/* The loaded policy NAME, or NULL; every loaded one (their count). */
const struct shd_policy_ops *cli_loaded_policy(const char *name);
unsigned cli_loaded_policies(const struct shd_policy_ops *const **all);
/* Resolve O's --set list and W's checks for a run; exits 2 on bad input. */
void cli_finish(struct wl_opts *o, const struct workload *w);
/* Whether O with one more --set KV would pass cli_finish()'s checks. */
bool cli_set_ok(const struct wl_opts *o, const struct workload *w,
		const char *kv);
const char *cli_suggest_named(const char *word, const struct shd_named *v,
			      size_t n);
/* "unknown WHAT 'WORD'; did you mean 'SUGGESTION'?" and exit 2. */
__attribute__((noreturn))
void cli_unknown_name(const char *what, const char *word,
		      const char *suggestion);
/* Print S as one shell word, single-quoted if it needs it. */
void cli_print_word(FILE *f, const char *s);

/* output.c: THE output module (docs/output-schema.md). */
#define OUT_SCHEMA_VERSION 2

enum cell_status { CELL_NOT_RUN, CELL_OK, CELL_VIOLATION, CELL_INCOMPLETE };

/* One run of a command's output: a policy x CPU count, or a sweep point. */
struct cell {
	const char *policy;
	unsigned cpus;
	const char *param;		/* sweep: the knob; else NULL */
	uint64_t value;
	struct wl_opts *o;		/* the options it ran with */
	enum cell_status status;	/* the worst of its runs */
	struct wl_result r;		/* one run's, or (--repeat) the medians */
	char err[1024];
	uint64_t seed;			/* the run's --seed (a record's) */
	unsigned nrep;			/* runs behind r: --repeat, else 1 */
	struct wl_result *rep;		/* nrep > 1: each run's result, seed
					 * o->seed + i (free()) */
	/* check --schedules: the schedules run before the one in r
	 * (faults.c adds r's own). */
	struct {
		uint64_t fired[SHD_FAULT__COUNT];
		uint64_t detected;	/* violations + read-back failures */
		unsigned runs;
	} prior;
};

/* A figure over a cell's runs: its median (the mean of the middle two
 * for an even count), least and greatest, and whether it varied. */
struct spread {
	double med, lo, hi;
	unsigned n;
};
/* FIG of one run: a counter, ipis_sent/op, modelled cycles/op... */
typedef double (*cell_figure)(const struct cell *c, const struct wl_result *r,
			      const void *arg);
struct spread cell_spread(const struct cell *c, cell_figure fig,
			  const void *arg);
double fig_counter(const struct cell *c, const struct wl_result *r,
		   const void *field);
double fig_ipis_per_op(const struct cell *c, const struct wl_result *r,
		       const void *arg);
double fig_cycles_per_op(const struct cell *c, const struct wl_result *r,
			 const void *arg);
double fig_wall_ms(const struct cell *c, const struct wl_result *r,
		   const void *arg);
/* True if A and B's ranges overlap: a difference inside the noise. */
bool spread_overlap(struct spread a, struct spread b);
/* "11866" or, when the runs differ, "11866 (11790..11950)"; DEC decimals. */
void spread_format(char *buf, size_t len, struct spread s, int dec);
/* Whether any of C[0..N) ran more than once. */
bool cells_repeated(const struct cell *const *c, unsigned n);

void out_json_string(FILE *f, const char *s);
/* Whether C's own latency figures are host time (--sched host). */
bool host_latency(const struct cell *c);
const char *out_status_name(enum cell_status s);
/* JSON: the document's head up to the "results" array; CSV: the header. */
void out_begin(FILE *f, enum out_format fmt, const char *command,
	       const struct wl_opts *o);
/* One cell: a JSON record (FIRST: no comma before it) or a CSV row. */
void out_cell(FILE *f, enum out_format fmt, const char *workload,
	      const struct cell *c, bool first);
/* JSON: close the results, EXTRA (", \"key\": ..." or "") and the document;
 * with --repeat, a "summary" of C[0..N) first. */
void out_end(FILE *f, enum out_format fmt, bool complete, const char *extra,
	     const struct cell *c, unsigned n);
/* The counter table of N cells side by side (ratios against the first);
 * rows zero in every column are hidden unless ALL.  */
int out_name_width(const struct cell *const *c, unsigned n, bool all, int min);
void out_counter_table(FILE *f, const struct cell *const *c, unsigned n,
		       bool ratios, bool all);
/* A trace replay's table under a counter table: per kind of call, its
 * IPIs per cell (a column each), then (one cell) the threads and calls
 * that sent the most; nothing for other workloads. */
void out_trace_calls(FILE *f, const struct cell *const *c, unsigned n);
/* JSON: ', "trace": {...}' of a trace replay's record. */
void out_trace_json(FILE *f, const struct wl_result *r);
/* cmd_run.c: a line saying what C's lat_* rows measure (host or simulated
 * time), when it has them. */
void out_latency_note(const struct cell *c);
/* Columns of C[0..N)'s table: 14, or 26 for a median and its range. */
int out_column_width(const struct cell *const *c, unsigned n);
/* B's median over A's as a ratio column ("noise" when the ranges of
 * runs that differ overlap: REPEATED). */
void out_ratio(FILE *f, struct spread a, struct spread b, bool repeated);

/* cells.c: run cells one after another, keeping those done when a
 * watchdog fires or SIGINT/SIGTERM arrives. */
struct cells {
	const char *command;
	const struct workload *w;
	enum out_format fmt;
	struct cell *cell;
	unsigned n;
	/* Print the table (or whatever the format streams last); DONE cells. */
	void (*finish)(struct cells *cs, bool complete);
	void *arg;			/* the command's own */
	char extra[2048];		/* JSON: fields finish() adds to the document */
};
/* 0/1 (violations)/3 (a cell could not complete): runs and prints all. */
int cells_run(struct cells *cs);
int cells_exit_status(const struct cells *cs);
/* Print cells already run (sweep --jobs ran them in other processes). */
void cells_print(struct cells *cs);
/* Run cell C's --repeat runs, without printing: 0 (each run's status is
 * folded into C), WL_BAD_INPUT, or a run's negative errno (it stopped
 * there).  Used by sweep --jobs in its children. */
int cells_execute(struct cells *cs, struct cell *c);
/* Free what the cells' runs allocated (their --repeat results). */
void cells_release(struct cells *cs);
/* Fold C's runs into C->r (per-figure medians); nothing for one run. */
void cells_summarise(struct cell *c);
void cells_report(const struct cell *c);

/* faults.c: injected faults' firings and detections over the runs a cell
 * stands for, and LATR's slow path.  A cell where an injected fault never
 * fired is incomplete (cells_exit_status(): exit 3, before 1). */
uint64_t cell_fired(const struct cell *c, enum shd_fault f);
uint64_t cell_detected(const struct cell *c);
unsigned cell_runs(const struct cell *c);
bool cell_unfired(const struct cell *c);
/* Injected faults fired, every one, and nothing detected them: for check,
 * an inconclusive run (exit 3), not a pass. */
bool cell_undetected(const struct cell *c);
/* What exercises fault F; the stderr line saying it never fired (WHO:
 * the cell, or NULL). */
const char *fault_hint(enum shd_fault f);
void faults_never_fired(enum shd_fault f, const char *who);
/* Count R (a schedule not kept in c->r) into C's firings. */
void faults_prior_add(struct cell *c, const struct wl_result *r);
/* stderr: "fault F never fired: ..." per injected fault that did not;
 * SEVERAL: the command runs several cells (name this one). */
void faults_report(const struct cell *c, bool several);
/* Table: "  fault F fired N times, detected M" per injected fault. */
void faults_lines(FILE *out, const struct cell *c, bool several);
/* JSON: ', "faults": {...}' of a record. */
void faults_json(FILE *out, const struct cell *c);
/* LATR: fallback IPIs over lazy requests (-1: none), and whether they
 * exceed a tenth; the note under a table when they do. */
double cell_async_fallback(const struct cell *c);
bool cell_async_slow(const struct cell *c);
void faults_async_note(FILE *out, const struct cell *c);

/* The commands (cmd_<name>.c). */
int cmd_run(int argc, char **argv);
int cmd_host(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_default(int argc, char **argv);
int cmd_compare_cells(struct parsed *p, bool defaults);
int cmd_sweep(int argc, char **argv);
int cmd_check(int argc, char **argv);
int check_scenario(struct parsed *p);
int cmd_minimize(int argc, char **argv);
int check_minimize(struct parsed *p);
int cmd_list(int argc, char **argv);
int cmd_calibrate(int argc, char **argv);
int cmd_record(int argc, char **argv);

#endif
