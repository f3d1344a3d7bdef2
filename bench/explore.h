/* SPDX-License-Identifier: MIT */
/* Exploring a scenario's schedules: every one up to a preemption bound
 * (stateless DFS), else PCT or random samples, looking for a violation. */
#ifndef SHD_BENCH_EXPLORE_H
#define SHD_BENCH_EXPLORE_H

#include "scenario_run.h"

enum explore_mode {
	EXPLORE_SYSTEMATIC,	/* the DFS; PCT samples if it outgrows the budget */
	EXPLORE_PCT,		/* PCT samples only */
	EXPLORE_RANDOM,		/* the random strategy's samples only */
	EXPLORE_CHOICES,	/* one DFS schedule, from a choice list */
	EXPLORE_REPLAY,		/* one recorded schedule (decisions) */
	EXPLORE_ONE,		/* one run under the configuration SCHED */
};

struct explore_opts {
	enum explore_mode mode;
	int preemptions;	/* the DFS's bound */
	unsigned budget;	/* DFS runs before falling back; samples */
	uint64_t seed;		/* the first sample's schedule seed */
	unsigned depth;		/* PCT's d */
	int want;		/* the violation kind looked for; -1: any */
	bool iterate;		/* bounds 0, 1, .. (fewest preemptions first) */
	bool ordered;		/* ops in their recorded order (minimize) */
	bool keep_log;		/* keep the schedule found (for --record) */
	const char *choices;	/* EXPLORE_CHOICES: "K:CPU,K:CPU" */
	const struct shd_decision *replay;	/* EXPLORE_REPLAY */
	size_t nreplay;
	const struct shd_sched_config *sched;	/* EXPLORE_ONE */
	FILE *trace;		/* one schedule's ops as they run */
};

struct explore_result {
	unsigned runs;		/* machines run */
	unsigned schedules;	/* distinct schedules among them */
	bool exhaustive;	/* every schedule up to the bound was run */
	bool sampled;		/* samples ran (the fallback, or asked for) */
	unsigned dfs_runs;
	int bound;		/* the bound the DFS reached */
	unsigned violating;	/* schedules with some violation */
	bool found;		/* a schedule showed the kind wanted */
	bool stopped;		/* an op error or a watchdog ended it */
	struct scn_result res;	/* the find's (or the stop's) run */
	char replay[160];	/* options that run that schedule again */
	double seconds;
	/* Over every run: each injected fault's firings, and violations. */
	uint64_t fired[SHD_FAULT__COUNT];
	uint64_t detected;
};

/* Whether TEXT is a choice list (--choices); 0 or -1 with ERR. */
int explore_choices_check(const char *text, char *err, size_t errlen);

/*
 * Explore S's schedules as O says until one shows a violation of O->want
 * (R->found), an op error or a watchdog stops it (R->stopped), or the
 * schedules run out.  0; -1 with the reason in ERR (a machine could not
 * be built, a run left the schedule it was given); -2 when the choices
 * or recorded schedule given do not fit S (bad input).
 * R->res.log is the caller's to free.
 */
int explore(const struct scenario *s, const struct explore_opts *o,
	    struct explore_result *r, char *err, size_t errlen);

#endif
