/* SPDX-License-Identifier: MIT */
/* strace's output (-f -ttt -T -X raw) turned into a trace (trace.h). */
#ifndef SHD_BENCH_STRACE_H
#define SHD_BENCH_STRACE_H

#include <stdio.h>

#include "workloads/trace.h"

/* A wait shorter than this (microseconds) is not a block event: under
 * strace every call takes some tens of microseconds. */
#define STRACE_BLOCK_US 20

/* What the conversion kept and left. */
struct strace_stats {
	unsigned long lines;		/* read */
	unsigned long events;		/* kept */
	unsigned long ignored;		/* other calls (wait4, kill...) */
	unsigned long unparsed;		/* lines not understood */
	unsigned long unmatched;	/* <unfinished ...> never resumed */
};

/*
 * Read strace's output from IN (strace -f -ttt -T -X raw, see cmd_record.c)
 * into T (times relative to the first event, in time order): 0, or -1
 * with why in ERR.  T is released with trace_free().
 */
int strace_convert(FILE *in, struct trace *t, struct strace_stats *st,
		   char *err, size_t errlen);

#endif
