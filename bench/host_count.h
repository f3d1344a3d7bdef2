/* SPDX-License-Identifier: MIT */
/* What the host kernel counts: /proc/interrupts' TLB and CAL lines per CPU,
 * and the tlb:tlb_flush tracepoint's reasons through perf_event_open(). */
#ifndef SHD_BENCH_HOST_COUNT_H
#define SHD_BENCH_HOST_COUNT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HOST_MAX_CPUS 1024

/* include/trace/events/tlb.h's TLB_FLUSH_REASON, in its order (the value
 * the tracepoint records is the index). */
enum host_reason {
	HR_TASK_SWITCH,		/* "flush on task switch" */
	HR_REMOTE_SHOOTDOWN,	/* "remote shootdown" */
	HR_LOCAL_SHOOTDOWN,	/* "local shootdown" */
	HR_LOCAL_MM_SHOOTDOWN,	/* "local MM shootdown" */
	HR_REMOTE_SEND_IPI,	/* "remote ipi send" */
	HR_REMOTE_WRONG_CPU,	/* "remote wrong cpu" */
	HR__COUNT
};
extern const char *const host_reason_name[HR__COUNT];

/* One reading of the host's counters on the CPUs a twin uses. */
struct host_sample {
	uint64_t tlb[HOST_MAX_CPUS];	/* /proc/interrupts TLB: per CPU */
	uint64_t cal[HOST_MAX_CPUS];	/* ... CAL: */
	uint64_t reason[HR__COUNT];	/* tracepoint events, those CPUs */
	uint64_t ns;			/* CLOCK_MONOTONIC when read */
};

/* The counters open on CPUs CPU[0..N): each source says why it cannot
 * count, if it cannot (then its figures are not printed). */
struct host_counters {
	unsigned n;
	int cpu[HOST_MAX_CPUS];
	int col[HOST_MAX_CPUS];		/* /proc/interrupts column of cpu[i] */
	bool irq_ok;
	char irq_why[256];
	bool tp_ok;
	char tp_why[256];
	int *fd;			/* [reason * n + i], perf events */
};

/* Open what can be opened; 0 even when a source cannot count (its why
 * says so), -1 only on bad arguments. */
int host_counters_open(struct host_counters *h, const int *cpu, unsigned n);
void host_counters_close(struct host_counters *h);
/* Read every source into S (zeros where a source cannot count). */
void host_counters_read(struct host_counters *h, struct host_sample *s);
/* Start and stop the tracepoint counters (they count only while on). */
void host_counters_enable(struct host_counters *h, bool on);

/*
 * The tracepoint counted for this process and every task it creates from
 * now on (threads, forked children, their execs): pid 0, inherit.  Open
 * before the twin creates anything; enable/disable reach every inherited
 * copy, and a read sums them.  0, or -1 with WHY.
 */
struct host_own {
	bool ok;
	char why[256];
	int fd[HR__COUNT];
};
int host_own_open(struct host_own *o);
void host_own_enable(struct host_own *o, bool on);
void host_own_read(struct host_own *o, uint64_t *reason);
void host_own_close(struct host_own *o);

/*
 * A tlb:tlb_flush perf event for REASON alone (a filter on the field),
 * disabled until enabled: on CPU for every task (PID -1), or for this
 * process (PID 0, CPU -1) and with INHERIT what it creates; counting, or
 * with SAMPLE one PERF_SAMPLE_TID record an event.  The fd, or -1 with
 * WHY.
 */
int host_tlb_flush_event(int pid, int cpu, unsigned reason, bool inherit,
			 bool sample, char *why, size_t len);

/* The running kernel's release ("6.18.44"), or "unknown". */
const char *host_kernel_release(void);

#endif
