/* SPDX-License-Identifier: MIT */
/* Traces of real programs' memory-management calls: the text format
 * (docs/trace-format.md), its reader and its writer. */
#ifndef SHD_BENCH_TRACE_H
#define SHD_BENCH_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TRACE_VERSION 1
#define TRACE_MAX_EVENTS (1u << 22)
#define TRACE_MAX_LINE 1024

/* The calls a trace holds, in the order the replay's table prints them. */
#define TRACE_CALLS(X) \
	X(mmap) X(munmap) X(mprotect) X(madvise) X(mremap) X(brk) \
	X(clone) X(execve) X(exit) X(exit_group) X(fault) X(block)

enum trace_call {
#define TRACE_ENUM_(n) TC_##n,
	TRACE_CALLS(TRACE_ENUM_)
#undef TRACE_ENUM_
	TC__COUNT
};

/* prot bits (PROT_READ/WRITE/EXEC's values) */
#define TP_R 1u
#define TP_W 2u
#define TP_X 4u

/* mmap flags, mremap flags, clone kinds (one field, by call) */
#define TF_SHARED	(1u << 0)
#define TF_PRIVATE	(1u << 1)
#define TF_ANON		(1u << 2)
#define TF_FIXED	(1u << 3)
#define TF_STACK	(1u << 4)
#define TF_NORESERVE	(1u << 5)
#define TF_POPULATE	(1u << 6)
#define TF_MAYMOVE	(1u << 7)	/* mremap */
#define TF_DONTUNMAP	(1u << 8)	/* mremap */
#define TF_THREAD	(1u << 9)	/* clone: CLONE_VM (same mm) */
#define TF_PROCESS	(1u << 10)	/* clone: no CLONE_VM (fork) */
#define TF_VFORK	(1u << 11)	/* clone: CLONE_VM|CLONE_VFORK */

/* What a thread blocked in (block events): the calls strace saw. */
#define TRACE_WHYS(X) X(futex) X(wait) X(sleep) X(poll)
enum trace_why {
#define TRACE_WHY_ENUM_(n) TW_##n,
	TRACE_WHYS(TRACE_WHY_ENUM_)
#undef TRACE_WHY_ENUM_
	TW__COUNT
};

/* madvise advice: Linux's numbers; names in trace.c */
#define TRACE_MADV_DONTNEED 4
#define TRACE_MADV_FREE 8

struct trace_event {
	uint64_t t_us;		/* microseconds since the first event */
	uint32_t tid;
	uint8_t call;		/* enum trace_call */
	uint8_t prot;		/* TP_* (mmap, mprotect); fault: TP_W on a write */
	uint8_t why;		/* block: enum trace_why */
	uint16_t flags;		/* TF_* */
	uint64_t addr;		/* mmap: the hint; brk: the argument */
	uint64_t len;		/* mremap: the old length */
	uint64_t arg;		/* mremap: the new length; madvise: advice;
				 * block: microseconds blocked */
	uint64_t ret;		/* the result (mmap, mremap, brk: an address;
				 * clone: the child's tid) */
	int err;		/* the call failed: its errno (ret unused) */
	bool has_ret;		/* exit, exit_group, fault: no result */
	unsigned line;		/* in the file */
};

struct trace {
	struct trace_event *ev;
	size_t n;
	char command[512];	/* "# command:", or "" */
	unsigned nthreads;	/* distinct tids */
	bool has_faults;	/* fault events: touch only where they say */
	bool has_blocks;	/* block events: threads sleep where they say */
};

/* Read NAME's bytes BUF[0..LEN) into T: 0, or -1 with "NAME:LINE: what is
 * wrong" in ERR (T is then empty).  T is released with trace_free(). */
int trace_parse(const char *name, const char *buf, size_t len,
		struct trace *t, char *err, size_t errlen);
/* trace_parse() of the file PATH ("PATH: why" when it cannot be read). */
int trace_load(const char *path, struct trace *t, char *err, size_t errlen);
void trace_free(struct trace *t);

/* The writer: the header (COMMAND may be NULL), then one line an event. */
void trace_write_header(FILE *f, const char *command, const char *note);
void trace_write_event(FILE *f, const struct trace_event *e);

const char *trace_call_name(unsigned call);
const char *trace_why_name(unsigned why);
/* madvise's advice by name ("dontneed"), or NULL for a number. */
const char *trace_advice_name(uint64_t advice);
/* errno's symbolic name ("ENOMEM"), 0 when unknown; and back. */
const char *trace_errno_name(int err);
int trace_errno_lookup(const char *name);

#endif
