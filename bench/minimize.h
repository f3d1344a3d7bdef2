/* SPDX-License-Identifier: MIT */
/* Shrinking a failing scenario to a small one that still fails (delta
 * debugging over its CPUs and ops). */
#ifndef SHD_BENCH_MINIMIZE_H
#define SHD_BENCH_MINIMIZE_H

#include "scenario_ops.h"

struct mz_opts {
	int kind;		/* the violation kind a candidate must show */
	unsigned budget;	/* schedules a candidate's search may run */
	int preemptions;	/* ... and its bound */
	bool ordered;		/* the ops carry the order they ran in (seq) */
	/* The recorded run's scheduler (NULL: none): the whole recording
	 * under it is that run again, and a candidate under it, a run
	 * like it. */
	const struct shd_sched_config *orig;
	bool progress;		/* a line on stderr now and then */
};

struct mz_stats {
	unsigned tests;		/* candidates run */
	unsigned runs;		/* machines run for them */
	unsigned from_ops, to_ops;
	double seconds;
};

/*
 * Shrink S, which fails (minimize.c says how that is judged), into OUT:
 * fewer CPUs, ops, names and knobs, as long as it still fails.  0, or -1
 * with the reason in ERR (S does not fail; out of memory).  OUT is the
 * caller's to free.
 */
int minimize_scenario(const struct scenario *s, const struct mz_opts *o,
		      struct scenario *out, struct mz_stats *st, char *err,
		      size_t errlen);

#endif
