/* SPDX-License-Identifier: MIT */
/* Native twins: a workload's shape run by real threads and processes on
 * real CPUs, so that the host kernel's own counters can be read around it. */
#ifndef SHD_BENCH_HOST_TWINS_H
#define SHD_BENCH_HOST_TWINS_H

#include <stddef.h>
#include <stdint.h>

#include "workloads/workload.h"

/* The most host CPUs a twin runs on. */
#define HOST_TWIN_MAX 256

struct twin_run;

/* Called by a twin around its measured phase (0: begin, 1: end), from the
 * thread that coordinates it. */
typedef void (*twin_mark_fn)(struct twin_run *t, int end);

struct twin_run {
	unsigned ncpus;
	const int *pu;			/* host CPU of simulated CPU i */
	uint64_t ops;			/* as the simulated workload counts */
	uint64_t seed;
	const struct workload *w;
	const struct wl_opts *o;	/* knobs resolved */
	uint64_t page;			/* the host's page size */
	twin_mark_fn mark;
	void *arg;			/* the mark's */
	/* out */
	uint64_t ops_done;
	uint64_t failures;
	char note[160];
	char err[256];
};

struct twin {
	const char *workload;
	/* What the native form does, in one line, for the output. */
	const char *shape;
	/* Refuse a knob setting the host cannot run faithfully (0, or -1
	 * with WHY); may be NULL. */
	int (*refuse)(const struct twin_run *t, char *why, size_t len);
	/* 0, or -1 with t->err. */
	int (*run)(struct twin_run *t);
	/* Involuntary switches of its threads its own shape makes, per op
	 * (a forked child, woken on the forking thread's CPU, preempts it). */
	double preempt_per_op;
};

/* The twin of workload NAME, or NULL; every twin (their count). */
const struct twin *twin_find(const char *name);
const struct twin *twin_all(size_t *n);
/* A knob of T's workload, by name, as resolved. */
uint64_t twin_knob(const struct twin_run *t, const char *name);

/* The hidden exec twin's re-executed image (main.c calls it when argv[1]
 * is TWIN_EXEC_ARG); does not return. */
#define TWIN_EXEC_ARG "__host-exec-image"
__attribute__((noreturn)) void twin_exec_image(int argc, char **argv);

#endif
