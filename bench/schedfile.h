/* SPDX-License-Identifier: MIT */
/* Schedule files: a seeded run's switches, written by --record, read by
 * --replay and minimize (docs/schedule-format.md). */
#ifndef SHD_BENCH_SCHEDFILE_H
#define SHD_BENCH_SCHEDFILE_H

#include <stddef.h>
#include <stdint.h>
#include <shootdown/seeded.h>

#define SCHEDFILE_VERSION 1
#define SCHEDFILE_MAX_ARGS 128

struct schedfile {
	int argc;			/* the check command's arguments */
	char *argv[SCHEDFILE_MAX_ARGS];
	uint64_t steps;			/* the run's scheduling steps */
	struct shd_decision *d;		/* the switches, by step */
	size_t n;
	unsigned *line;			/* d[i]'s line in the file */
	char *strings;			/* owns argv's text */
};

/*
 * Parse TEXT (LEN bytes, not necessarily NUL-terminated), read from a file
 * called NAME.  0, or -1 with "NAME:LINE: what is wrong" in ERR.  OUT is
 * freed with schedfile_free() either way.
 */
int schedfile_parse(const char *name, const char *text, size_t len,
		    struct schedfile *out, char *err, size_t errlen);
/* Read and parse PATH; as above ("PATH: cannot read: ..." too). */
int schedfile_read(const char *path, struct schedfile *out, char *err,
		   size_t errlen);
void schedfile_free(struct schedfile *f);
/* Write a schedule: the command's ARGV, STEPS, the N switches D.  0, or -1
 * with the reason in ERR. */
int schedfile_write(const char *path, int argc, char *const *argv,
		    uint64_t steps, const struct shd_decision *d, size_t n,
		    char *err, size_t errlen);

#endif
