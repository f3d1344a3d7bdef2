/* SPDX-License-Identifier: MIT */
/* libFuzzer harness of the trace parser (bench/workloads/trace.c). */

/*
 * Any input: trace_parse() returns 0 or -1 with "fuzz:LINE: ..." in ERR,
 * never reads past LEN, and leaves nothing behind trace_free().  An input
 * it accepts obeys the format (docs/trace-format.md): at least one event,
 * times that never decrease, lines that increase, known calls; and it
 * round-trips: what trace_write_event() writes of it reads back the same.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "workloads/trace.h"

#define CHECK(cond)							\
	do {								\
		if (!(cond)) {						\
			fprintf(stderr, "fuzz_trace: %s:%d: %s\n",	\
				__FILE__, __LINE__, #cond);		\
			abort();					\
		}							\
	} while (0)

static void check_accepted(const struct trace *t)
{
	CHECK(t->n >= 1 && t->n <= TRACE_MAX_EVENTS && t->ev);
	CHECK(t->nthreads >= 1 && t->nthreads <= t->n);
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_event *e = &t->ev[i];

		CHECK(e->call < TC__COUNT);
		CHECK(e->tid > 0);
		CHECK(i == 0 || e->t_us >= t->ev[i - 1].t_us);
		CHECK(i == 0 || e->line > t->ev[i - 1].line);
		CHECK(!(e->err && e->has_ret));
		CHECK(e->addr + e->len >= e->addr);
	}
}

static void check_round_trip(const struct trace *t)
{
	char *out = NULL, err[512];
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);
	struct trace g;

	CHECK(f);
	trace_write_header(f, t->command[0] ? t->command : NULL, NULL);
	for (size_t i = 0; i < t->n; i++)
		trace_write_event(f, &t->ev[i]);
	CHECK(fclose(f) == 0);
	if (trace_parse("again", out, len, &g, err, sizeof(err))) {
		fprintf(stderr, "fuzz_trace: what was written does not read "
			"back: %s\n", err);
		abort();
	}
	CHECK(g.n == t->n);
	CHECK(g.nthreads == t->nthreads);
	CHECK(g.has_faults == t->has_faults);
	for (size_t i = 0; i < t->n; i++) {
		const struct trace_event *a = &t->ev[i], *b = &g.ev[i];

		CHECK(a->t_us == b->t_us && a->tid == b->tid &&
		      a->call == b->call && a->prot == b->prot &&
		      a->flags == b->flags && a->addr == b->addr &&
		      a->len == b->len && a->arg == b->arg &&
		      a->ret == b->ret && a->err == b->err &&
		      a->has_ret == b->has_ret);
	}
	trace_free(&g);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* libFuzzer's copy of the input is exactly SIZE bytes, with no NUL
	 * after it: ASan sees any read past the end. */
	struct trace t;
	char err[512] = "";

	if (trace_parse("fuzz", (const char *)data, size, &t, err,
			sizeof(err)) == 0) {
		check_accepted(&t);
		check_round_trip(&t);
	} else {
		CHECK(!strncmp(err, "fuzz:", 5));	/* where it went wrong */
		CHECK(t.n == 0 && !t.ev);
	}
	trace_free(&t);
	return 0;
}
