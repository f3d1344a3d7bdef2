/* SPDX-License-Identifier: MIT */
/* libFuzzer harness of the schedule-file parser (bench/schedfile.c). */

/*
 * Any input: schedfile_parse() returns 0 or -1 with "fuzz:LINE: ..." in
 * ERR, never reads past LEN, and leaves nothing behind schedfile_free().
 * An input it accepts obeys the format (docs/schedule-format.md): a check
 * command, steps that never decrease and none past the run's, known WHYs;
 * and it round-trips: schedfile_write() of what was read reads back the
 * same (when the writer takes its words at all: it refuses quotes and
 * line breaks, which it could not write back).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "schedfile.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_schedfile: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static int memfd = -1;		/* a file in memory for the round trip */
static char memfd_path[64];

static void check_accepted(const struct schedfile *f)
{
	CHECK(f->argc >= 1 && f->argc <= SCHEDFILE_MAX_ARGS);
	CHECK(!strcmp(f->argv[0], "check"));
	CHECK(f->n == 0 || (f->d && f->line));
	for (size_t i = 0; i < f->n; i++) {
		CHECK(i == 0 || f->d[i].step >= f->d[i - 1].step);
		CHECK(!f->steps || f->d[i].step <= f->steps);
		CHECK(f->d[i].cpu <= 65535 || f->d[i].cpu == SHD_SCHED_CTL);
		CHECK(f->d[i].why <= SHD_WHY_START);
		CHECK(i == 0 || f->line[i] > f->line[i - 1]);
	}
}

static void check_round_trip(const struct schedfile *f)
{
	struct schedfile g;
	char err[512];

	CHECK(ftruncate(memfd, 0) == 0);
	if (schedfile_write(memfd_path, f->argc, f->argv, f->steps, f->d, f->n,
			    err, sizeof(err)))
		return;		/* a word it cannot write: said so */
	if (schedfile_read(memfd_path, &g, err, sizeof(err))) {
		fprintf(stderr, "fuzz_schedfile: what was written does not "
			"read back: %s\n", err);
		abort();
	}
	CHECK(g.argc == f->argc);
	for (int i = 0; i < f->argc; i++)
		CHECK(!strcmp(g.argv[i], f->argv[i]));
	CHECK(g.steps == f->steps);
	CHECK(g.n == f->n);
	for (size_t i = 0; i < f->n; i++)
		CHECK(g.d[i].step == f->d[i].step && g.d[i].cpu == f->d[i].cpu &&
		      g.d[i].why == f->d[i].why);
	schedfile_free(&g);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	memfd = memfd_create("schedfile", 0);
	CHECK(memfd >= 0);
	snprintf(memfd_path, sizeof(memfd_path), "/proc/self/fd/%d", memfd);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer's copy of the input is exactly SIZE bytes, with no NUL
	 * after it: ASan sees any read past the end. */
	const char *text = (const char *)data;
	struct schedfile f;
	char err[512] = "";

	if (schedfile_parse("fuzz", text, size, &f, err, sizeof(err)) == 0) {
		check_accepted(&f);
		check_round_trip(&f);
	} else {
		CHECK(!strncmp(err, "fuzz:", 5));	/* where it went wrong */
	}
	schedfile_free(&f);
	return 0;
}
