/* SPDX-License-Identifier: MIT */
/* Scenario files: a litmus test for the machine (docs/scenarios.md), read
 * into a struct scenario (scenario_ops.h). */
#ifndef SHD_BENCH_SCENARIO_H
#define SHD_BENCH_SCENARIO_H

#include "scenario_ops.h"

/*
 * Parse TEXT (LEN bytes, need not be NUL-terminated) read from a file
 * called NAME into OUT.  0, or -1 with "NAME:LINE: what is wrong" in ERR
 * (one message, the first problem).  Never reads past LEN; memory is
 * bounded by LEN.  OUT is freed with scenario_free() either way.
 */
int scenario_parse(const char *name, const char *text, size_t len,
		   struct scenario *out, char *err, size_t errlen);
/* Read the file PATH and parse it; as above ("PATH: cannot read: ..."). */
int scenario_read(const char *path, struct scenario *out, char *err,
		  size_t errlen);

#endif
