/* SPDX-License-Identifier: MIT */
/* Per-CPU counters: the latency histogram. */
#ifndef SHD_RUNTIME_STATS_H
#define SHD_RUNTIME_STATS_H

#include "types.h"

/* Count one shootdown of NS host nanoseconds in C (its CPU's own). */
void shd__hist_add(struct shd_counters *c, uint64_t ns);

#endif
