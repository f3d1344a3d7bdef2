/* SPDX-License-Identifier: MIT */
/* Private declarations of the shootdown CLI (bench/ uses public headers only). */
#ifndef SHD_BENCH_CLI_H
#define SHD_BENCH_CLI_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <shootdown/shootdown.h>

#include "workloads/workload.h"

#define EXIT_USAGE 2

/* cost.c: the modelled hardware cost of a run, in cycles. */
void cost_defaults(struct cost_model *c);
/* KEY is "cost.NAME": 0, -ENOENT (no such key), -EINVAL (bad value). */
int cost_set(struct cost_model *c, const char *key, const char *value);
size_t cost_keys(const char *const **names, const char *const **helps);
double cost_get(const struct cost_model *c, size_t k);
double cost_cycles(const struct cost_model *c, const struct shd_stats *s);

/*
 * Resolve O's --set list for workload W: policy knobs are checked against a
 * preset, cost.* keys go to o->cost, W's knobs to o->knob[] (defaults
 * first).  0, or -1 with a one-line reason in ERR.
 */
int cli_resolve_sets(struct wl_opts *o, const struct workload *w,
		     char *err, size_t len);

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
