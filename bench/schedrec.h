/* SPDX-License-Identifier: MIT */
/* Recording a schedule for --record / --replay / minimize: a stand-in for
 * schedfile_write() and schedfile_read() (schedfile.h) until their
 * implementation lands; callers use only these two functions. */
#ifndef SHD_BENCH_SCHEDREC_H
#define SHD_BENCH_SCHEDREC_H

#include "schedfile.h"

/* As schedfile_write(): the command's ARGV, STEPS, the N switches D. */
int schedrec_write(const char *path, int argc, char *const *argv,
		   uint64_t steps, const struct shd_decision *d, size_t n,
		   char *err, size_t errlen);
/* As schedfile_read(); OUT is freed with schedrec_free() either way. */
int schedrec_read(const char *path, struct schedfile *out, char *err,
		  size_t errlen);
void schedrec_free(struct schedfile *f);

#endif
