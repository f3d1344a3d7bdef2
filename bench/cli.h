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
	bool help;
	/* check --scenario (check_scenario.c) and --minimize (minimize.c) */
	const char *scenario;
	const char *choices;
	bool minimize, trace;
	bool schedules_set, strategy_set;
	/* calibrate --emit-set [--ghz X]: 0 = the host's frequency */
	bool emit_set;
	double ghz;
};

/* Parse ARGV for CMD into P; true if it asked for --help, which is then
 * printed: USAGE and ABOUT, then every option CMD takes, names from the
 * library's tables and the registry. */
bool cli_start(struct parsed *p, unsigned cmd, int argc, char **argv,
	       const char *usage, const char *about);
uint64_t cli_u64(const char *opt, const char *s, uint64_t lo, uint64_t hi);
/* Split "a,b,c" into at most MAX pieces of BUF. */
unsigned cli_split(char *buf, char **out, unsigned max, const char *opt);
const struct workload *cli_workload(const char *name);
void cli_need_policy(const char *name);
/* Resolve O's --set list and W's checks for a run; exits 2 on bad input. */
void cli_finish(struct wl_opts *o, const struct workload *w);
const char *cli_suggest_named(const char *word, const struct shd_named *v,
			      size_t n);
/* "unknown WHAT 'WORD'; did you mean 'SUGGESTION'?" and exit 2. */
__attribute__((noreturn))
void cli_unknown_name(const char *what, const char *word,
		      const char *suggestion);
/* Print S as one shell word, single-quoted if it needs it. */
void cli_print_word(FILE *f, const char *s);

/* output.c: THE output module (docs/output-schema.md). */
#define OUT_SCHEMA_VERSION 1

enum cell_status { CELL_NOT_RUN, CELL_OK, CELL_VIOLATION, CELL_INCOMPLETE };

/* One run of a command's output: a policy x CPU count, or a sweep point. */
struct cell {
	const char *policy;
	unsigned cpus;
	const char *param;		/* sweep: the knob; else NULL */
	uint64_t value;
	struct wl_opts *o;		/* the options it ran with */
	enum cell_status status;
	struct wl_result r;
	char err[320];
};

void out_json_string(FILE *f, const char *s);
const char *out_status_name(enum cell_status s);
/* JSON: the document's head up to the "results" array; CSV: the header. */
void out_begin(FILE *f, enum out_format fmt, const char *command,
	       const struct wl_opts *o);
/* One cell: a JSON record (FIRST: no comma before it) or a CSV row. */
void out_cell(FILE *f, enum out_format fmt, const char *workload,
	      const struct cell *c, bool first);
/* JSON: close the results, EXTRA (", \"key\": ..." or "") and the document. */
void out_end(FILE *f, enum out_format fmt, bool complete, const char *extra);
/* The counter table of N cells side by side (ratios against the first);
 * rows zero in every column are hidden unless ALL.  */
void out_counter_table(FILE *f, const struct cell *const *c, unsigned n,
		       bool ratios, bool all);

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
void cells_report(const struct cell *c);

/* The commands (cmd_<name>.c). */
int cmd_run(int argc, char **argv);
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

#endif
