/* SPDX-License-Identifier: MIT */
/* Tests of the trace format's reader and writer (bench/workloads/trace.c):
 * good lines read as written, each bad line is refused with file:line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <criterion/criterion.h>

#include "../bench/workloads/trace.h"

#define HEAD "# shootdown-trace 1\n"

static int parse(const char *text, struct trace *t, char *err, size_t len)
{
	return trace_parse("t.trace", text, strlen(text), t, err, len);
}

/* TEXT (after the header) must be refused with "t.trace:LINE: " and WHAT
 * somewhere in the message. */
static void refuses(const char *text, unsigned line, const char *what)
{
	char buf[4096], err[512], want[64];
	struct trace t;

	snprintf(buf, sizeof(buf), HEAD "%s", text);
	cr_assert_eq(parse(buf, &t, err, sizeof(err)), -1, "accepted: %s", text);
	snprintf(want, sizeof(want), "t.trace:%u: ", line);
	cr_assert(!strncmp(err, want, strlen(want)), "'%s' for '%s'", err, text);
	cr_assert(strstr(err, what), "'%s' lacks '%s'", err, what);
	cr_assert_eq(t.n, 0);
	cr_assert_null(t.ev);
}

Test(trace, reads_every_call_with_its_arguments)
{
	static const char text[] = HEAD
		"# command: xz -T2 data\n"
		"\n"
		"0 7 execve = 0\n"
		"5 7 brk 0x0 = 0x55d0c6a4e000\n"
		"6 7 mmap 0x0 0x2000 rw- private,anon = 0x7f3c2a1f0000\n"
		"7 7 mmap 0x7f00 0x1000 r-x shared,fixed = 0x7f00\n"
		"9 7 clone thread = 8\n"
		"9 8 mprotect 0x7f3c29000000 0x21000 --- = 0\n"
		"10 8 madvise 0x7f3c29000000 0x800000 dontneed = 0\n"
		"11 8 madvise 0x7f3c29000000 0x1000 77 = 0\n"
		"12 8 mremap 0x1000 0x1000 0x3000 maymove = 0x9000\n"
		"13 8 fault 0x9000 w\n"
		"14 7 munmap 0x7f3c2a1f0000 0x2000 = -EINVAL\n"
		"15 7 clone process = 9\n"
		"15 8 exit\n"
		"16 7 exit_group\n"
		"17 7 block 830 futex\n";
	struct trace t;
	char err[256];
	const struct trace_event *e;

	cr_assert_eq(parse(text, &t, err, sizeof(err)), 0, "%s", err);
	cr_assert_eq(t.n, 15);
	cr_assert_str_eq(t.command, "xz -T2 data");
	cr_assert_eq(t.nthreads, 2);
	cr_assert(t.has_faults);
	e = &t.ev[2];
	cr_assert_eq(e->call, TC_mmap);
	cr_assert_eq(e->len, 0x2000);
	cr_assert_eq(e->prot, TP_R | TP_W);
	cr_assert_eq(e->flags, TF_PRIVATE | TF_ANON);
	cr_assert_eq(e->ret, 0x7f3c2a1f0000ull);
	cr_assert_eq(e->line, 6);
	cr_assert_eq(t.ev[3].flags, TF_SHARED | TF_FIXED);
	cr_assert_eq(t.ev[3].prot, TP_R | TP_X);
	cr_assert_eq(t.ev[4].flags, TF_THREAD);
	cr_assert_eq(t.ev[4].ret, 8);
	cr_assert_eq(t.ev[5].prot, 0);
	cr_assert_eq(t.ev[6].arg, TRACE_MADV_DONTNEED);
	cr_assert_eq(t.ev[7].arg, 77);
	cr_assert_eq(t.ev[8].arg, 0x3000);
	cr_assert_eq(t.ev[8].flags, TF_MAYMOVE);
	cr_assert_eq(t.ev[9].prot, TP_W);
	cr_assert_eq(t.ev[10].err, EINVAL);
	cr_assert(!t.ev[10].has_ret);
	cr_assert_eq(t.ev[11].flags, TF_PROCESS);
	cr_assert_eq(t.ev[13].call, TC_exit_group);
	cr_assert_eq(t.ev[14].call, TC_block);
	cr_assert_eq(t.ev[14].arg, 830);
	cr_assert_eq(t.ev[14].why, TW_futex);
	cr_assert(t.has_blocks);
	trace_free(&t);
}

Test(trace, writes_what_it_reads)
{
	static const char text[] = HEAD
		"0 7 execve = 0\n"
		"5 7 brk 0x0 = 0x55d0c6a4e000\n"
		"6 7 mmap 0x0 0x2000 rw- private,anon,stack = 0x7f3c2a1f0000\n"
		"9 7 clone vfork = 8\n"
		"10 8 madvise 0x7f3c29000000 0x800000 free = 0\n"
		"11 8 madvise 0x7f3c29000000 0x1000 77 = 0\n"
		"12 8 mremap 0x1000 0x1000 0x3000 fixed,maymove = 0x9000\n"
		"13 8 fault 0x9000 r\n"
		"14 7 munmap 0x7f3c2a1f0000 0x2000 = -ENOMEM\n"
		"14 7 mprotect 0x7f3c2a1f0000 0x2000 r-- = -200\n"
		"15 8 exit\n"
		"16 7 block 12 poll\n";
	struct trace t;
	char err[256], *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	cr_assert_eq(parse(text, &t, err, sizeof(err)), 0, "%s", err);
	trace_write_header(f, NULL, NULL);
	for (size_t i = 0; i < t.n; i++)
		trace_write_event(f, &t.ev[i]);
	fclose(f);
	cr_assert_str_eq(out, text);
	free(out);
	trace_free(&t);
}

Test(trace, refuses_each_malformed_line_with_file_and_line)
{
	refuses("0 1 mmap 0x0 0x1000 rw- private,anon\n", 2, "expected 'mmap");
	refuses("0 1 mmap 0x0 0x1000 rw- anon = 0x1000\n", 2, "shared, private");
	refuses("0 1 mmap 0x0 0x1000 rwz private = 0x1000\n", 2, "protection");
	refuses("0 1 mmap 0x0 0x1000 rw- private,huge = 0x1000\n", 2,
		"unknown flag 'huge'");
	refuses("0 1 mmap 0xfffffffffffff000 0x2000 rw- private = 0\n", 2,
		"length");
	refuses("\n# c\n0 1 munmap 0x1000 = 0\n", 4, "expected 'munmap");
	refuses("0 1 munmap 0x1000 0x1000 = zero\n", 2, "not a number");
	refuses("0 1 munmap 0x1000 0x1000 = -EWHAT\n", 2, "-ENAME");
	refuses("0 1 munmap 0x1000 0x1000 = -0\n", 2, "errno 0");
	refuses("0 1 munmap 0x10g0 0x1000 = 0\n", 2, "address");
	refuses("0 1 munmap 0x99999999999999999 0x1000 = 0\n", 2, "too large");
	refuses("0 1 madvise 0x1000 0x1000 sometimes = 0\n", 2, "advice");
	refuses("0 1 clone = 2\n", 2, "expected 'clone");
	refuses("0 1 clone thread,process = 2\n", 2, "one of thread");
	refuses("0 1 clone thread = 0\n", 2, "child's tid");
	refuses("0 1 fault 0x1000 x\n", 2, "r (read) or w");
	refuses("0 1 exit 0\n", 2, "expected 'exit'");
	refuses("0 1 block 5\n", 2, "expected 'block MICROSECONDS");
	refuses("0 1 block 5 nap\n", 2, "not 'nap'");
	refuses("0 1 block x futex\n", 2, "microseconds");
	refuses("0 1 mmapp 0x0 0x1000 rw- private = 0x1000\n", 2,
		"unknown call 'mmapp'");
	refuses("0 0 exit\n", 2, "tid 0");
	refuses("-1 1 exit\n", 2, "time");
	refuses("0 1\n", 2, "TIME TID CALL");
	refuses("5 1 exit\n4 2 exit\n", 3, "time order");
}

Test(trace, refuses_a_nul_byte)
{
	static const char text[] = HEAD "0 1 exit\0\n";
	struct trace t;
	char err[256];

	cr_assert_eq(trace_parse("t.trace", text, sizeof(text) - 1, &t, err,
				 sizeof(err)), -1);
	cr_assert(strstr(err, "t.trace:2: a NUL byte"), "%s", err);
}

Test(trace, refuses_a_file_that_is_not_a_trace_or_has_no_events)
{
	struct trace t;
	char err[256];

	cr_assert_eq(parse("", &t, err, sizeof(err)), -1);
	cr_assert(strstr(err, "t.trace:1: empty file"), "%s", err);
	cr_assert_eq(parse("0 1 exit\n", &t, err, sizeof(err)), -1);
	cr_assert(strstr(err, "t.trace:1: not a shootdown trace"), "%s", err);
	cr_assert_eq(parse("# shootdown-trace 2\n0 1 exit\n", &t, err,
			   sizeof(err)), -1);
	cr_assert(strstr(err, "t.trace:1: trace format version '2'"), "%s", err);
	cr_assert_eq(parse(HEAD "# nothing\n", &t, err, sizeof(err)), -1);
	cr_assert(strstr(err, "no events"), "%s", err);
}

Test(trace, refuses_a_missing_file_by_name)
{
	struct trace t;
	char err[256];

	cr_assert_eq(trace_load("/nonexistent/x.trace", &t, err, sizeof(err)), -1);
	cr_assert(strstr(err, "/nonexistent/x.trace: No such file"), "%s", err);
}
