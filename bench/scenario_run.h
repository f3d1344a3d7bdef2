/* SPDX-License-Identifier: MIT */
/* Running a scenario once, under a schedule the caller chooses. */
#ifndef SHD_BENCH_SCENARIO_RUN_H
#define SHD_BENCH_SCENARIO_RUN_H

#include "scenario_ops.h"

enum scn_status {
	SCN_CLEAN,		/* no violation */
	SCN_VIOLATION,		/* the oracle reported one or more */
	SCN_INCOMPLETE,		/* a watchdog fired, or the machine failed */
	SCN_OP_ERROR,		/* an op got an error no schedule excuses */
};

/* What one run did. */
struct scn_result {
	enum scn_status status;
	uint64_t violations;
	unsigned kinds;		/* 1 << kind of each report kept */
	struct shd_violation first;
	char err[1024];		/* SCN_OP_ERROR, SCN_INCOMPLETE: why */
	uint64_t steps;		/* scheduling steps */
	unsigned preemptions;
	unsigned skipped;	/* ops whose mm was not (or no longer) there */
	uint64_t diverged;	/* a replay left its schedule at this step */
	char divergence[160];
	struct shd_decision *log;	/* keep_log: every switch (free()) */
	size_t nlog;
	uint64_t fault_fired[SHD_FAULT__COUNT];	/* shd_fault_firings() */
};

struct scn_run_opts {
	struct shd_sched_config sched;	/* mode is forced to seeded */
	bool keep_log;
	/* Start the ops one at a time in the order of their seq (a recorded
	 * run's order), each once the one before has returned. */
	bool ordered;
	FILE *trace;		/* each op's start and return, or NULL */
};

/*
 * Run S once on a fresh machine: the setup block on CPU 0, then one task
 * per CPU block, all under the seeded scheduler O->sched chooses.  0 (the
 * run happened: R says how it went), or -1 with the reason in ERR (the
 * machine could not be built).
 */
int scenario_run(const struct scenario *s, const struct scn_run_opts *o,
		 struct scn_result *r, char *err, size_t errlen);

#endif
