/* SPDX-License-Identifier: MIT */
/* The tlb_flush tracepoint: x86's trace_tlb_flush() events, kept per CPU. */
#ifndef SHOOTDOWN_TRACE_H
#define SHOOTDOWN_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <shootdown/export.h>

#ifdef __cplusplus
extern "C" {
#endif

struct shd_machine;

/*
 * enum tlb_flush_reason (include/linux/mm_types.h), in its order: the
 * number a line prints in parentheses.  The names are the tracepoint's
 * (include/trace/events/tlb.h, TLB_FLUSH_REASON) as Linux 6.18 prints
 * them (events/tlb/tlb_flush/format): "local MM shootdown", "remote IPI
 * send", "remote wrong CPU".  Kernels before the capitalisation print
 * "local mm shootdown" and "remote ipi send": grep -i matches both.
 */
enum shd_tlb_flush_reason {
	SHD_TLB_FLUSH_ON_TASK_SWITCH,	/* switch_mm_irqs_off() */
	SHD_TLB_REMOTE_SHOOTDOWN,	/* flush_tlb_func() from an IPI */
	SHD_TLB_LOCAL_SHOOTDOWN,	/* the initiator's, no mm (a batch) */
	SHD_TLB_LOCAL_MM_SHOOTDOWN,	/* the initiator's, for an mm */
	SHD_TLB_REMOTE_SEND_IPI,	/* native_flush_tlb_multi() */
	SHD_TLB_REMOTE_WRONG_CPU,	/* 6.13+: IPI to a CPU off the mm */
	SHD_TLB_FLUSH__NR_REASONS
};

/* pages of a flush of everything: TLB_FLUSH_ALL, printed as -1. */
#define SHD_TRACE_PAGES_ALL (-1L)

/* The reason's name as the tracepoint prints it; NULL if out of range. */
SHD_EXPORT const char *shd_tlb_flush_reason_name(int reason);

/*
 * Start recording tlb_flush events on every CPU of M, at most CAP a CPU
 * (0: the default, 16M events shared out, at least 64K and at most 4M a
 * CPU; 24 bytes an event); events past a CPU's cap are counted as
 * dropped, never lost silently.  Recording is per CPU (each CPU appends
 * to its own buffer, no lock); with it off, an emission point costs one
 * predictable branch.  The events are x86's (trace_tlb_flush() is called
 * from arch/x86/mm/tlb.c only): -ENOTSUP on another TLB engine.  Times
 * are the machine's clock: simulated under the seeded scheduler (the
 * same on every run), the host's otherwise.  Call when no task runs, not
 * from a CPU thread.  0, -EBUSY if already recording, -ENOMEM, -EINVAL.
 */
SHD_EXPORT int shd_trace_start(struct shd_machine *m, size_t cap);

/*
 * Events recorded so far by reason (COUNTS, SHD_TLB_FLUSH__NR_REASONS
 * entries, kept events only) and how many were dropped (*DROPPED, may be
 * NULL).  Same rules as shd_trace_start().  0, or -EINVAL when not
 * recording.
 */
SHD_EXPORT int shd_trace_counts(struct shd_machine *m, uint64_t *counts,
				uint64_t *dropped);

/*
 * Write the events, every CPU's merged and sorted by time (then CPU, then
 * order on the CPU), to OUT in the text format of ftrace's trace file
 * (what `cat /sys/kernel/tracing/trace` and `trace-cmd report` show):
 * the "# tracer: nop" header, then one line an event,
 *
 *   "%16s-%-7d [%03u] %s %5lu.%06lu: tlb_flush: pages:%ld reason:%s (%d)"
 *
 * TASK-PID is "cpuN-MM" for CPU N running mm MM, "<idle>-0" for a CPU
 * in lazy TLB mode or running no user mm; the flags are ftrace's latency
 * flags of the context Linux emits each reason in (d.h1. in the IPI).  Same rules as
 * shd_trace_start().  Returns the number of events written, or -EINVAL
 * (not recording) or -EIO (OUT failed).
 */
SHD_EXPORT long shd_trace_write(struct shd_machine *m, FILE *out);

/* Stop recording and free the events (shd_trace_start()'s partner; the
 * machine's destruction does it too).  Same rules. */
SHD_EXPORT void shd_trace_stop(struct shd_machine *m);

#ifdef __cplusplus
}
#endif
#endif
