/* SPDX-License-Identifier: MIT */
/* libFuzzer harness of the CLI's option parsing (bench/options.c, names.c). */

/*
 * The input is a command line: its first byte picks check or run, the rest
 * is the arguments, NUL-separated.  Parsing either accepts it or ends in
 * usage_error() (exit 2 in the CLI; here a longjmp back, with a one-line
 * message): never a crash, a hang or a read out of bounds.  A command
 * line it accepts gives a schedule the library takes: a known mode and
 * strategy, depth 1..16, a bound of -1 or more, the seeded scheduler
 * whenever a seeded option was given, the schedule's seed from
 * --sched-seed or else --seed.  (File options are stored, not opened:
 * --record, --replay and --scenario are read by the commands.)
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define MAX_ARGS 64

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_options: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

/* usage.c's part, but bad input comes back here instead of exiting. */
const char *const cli_prog = "shootdown";
char cli_self[4096] = "shootdown";
static jmp_buf bail;

void usage_error(const char *fmt, ...)
{
	char msg[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	CHECK(msg[0]);			/* it says something */
	longjmp(bail, 1);
}

static void check_accepted(const struct wl_opts *o)
{
	const struct shd_sched_config *s = &o->cfg.sched;

	CHECK(s->mode == SHD_SCHED_HOST || s->mode == SHD_SCHED_SEEDED);
	CHECK(!o->sched_given || s->mode == SHD_SCHED_SEEDED);
	CHECK(s->strategy == SHD_STRATEGY_RANDOM ||
	      s->strategy == SHD_STRATEGY_PCT);
	CHECK(s->depth >= 1 && s->depth <= 16);
	CHECK(s->run >= 1);
	CHECK(s->preemptions >= -1);
	CHECK(s->seed == (o->sched_seed_set ? o->sched_seed : o->seed));
	CHECK(o->schedules >= 1);
	CHECK(o->cfg.ncpus == o->ncpus && o->ncpus >= 1 &&
	      o->ncpus <= SHD_MAX_CPUS);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	CHECK(freopen("/dev/null", "w", stdout));	/* --help's text */
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct parsed p;	/* static: untouched by the longjmp */
	char *words, *argv[MAX_ARGS + 1];
	int argc = 0;
	unsigned cmd;

	if (size < 1)
		return 0;
	cmd = data[0] & 1 ? CMD_RUN : CMD_CHECK;
	/* The words, each NUL-terminated (a copy: the input has no NUL at
	 * its end). */
	words = malloc(size);
	CHECK(words);
	memcpy(words, data + 1, size - 1);
	words[size - 1] = 0;
	for (size_t i = 0; i < size - 1 && argc < MAX_ARGS;) {
		argv[argc++] = words + i;
		i += strlen(words + i) + 1;
	}
	argv[argc] = NULL;
	if (!setjmp(bail)) {
		if (!cli_start(&p, cmd, argc, argv, "", "")) {
			const struct workload *w = cmd == CMD_CHECK ?
				wl_find("random") : cli_workload(p.o.workload);

			cli_finish(&p.o, w);
			check_accepted(&p.o);
		}
	}
	free(words);
	return 0;
}
