/* SPDX-License-Identifier: MIT */
/* The tlb_flush tracepoint's emission points (x86's trace_tlb_flush()). */
#ifndef SHD_RUNTIME_TRACE_H
#define SHD_RUNTIME_TRACE_H

#include <shootdown/trace.h>
#include "types.h"
#include "seeded.h"

/* One event as its CPU records it (the CPU and the order are the
 * buffer's and the index's). */
struct shd_trace_event {
	uint64_t ts_ns;		/* machine time since shd_trace_start() */
	uint32_t mm_id;		/* mm the CPU was running (0: none, lazy) */
	int32_t pages;		/* pages, SHD_TRACE_PAGES_ALL or 0 */
	uint8_t reason;		/* enum shd_tlb_flush_reason */
};

/* One CPU's events (trace.c); owned by the CPU's thread while recording. */
struct shd_trace_buf {
	struct shd_trace_event *ev;
	size_t n, alloc, cap;
	uint64_t dropped;
	uint64_t t0;		/* machine time at shd_trace_start() */
};

/* Record one event on CPU (its own thread) at machine time TS. */
void shd__trace_add(struct shd_cpu *cpu, int reason, long pages, uint64_t ts);

/* trace_tlb_flush(REASON, PAGES) on CPU, now: off, one predictable branch. */
static inline void shd__trace_tlb_flush(struct shd_cpu *cpu, int reason,
					long pages)
{
	if (__builtin_expect(cpu->tbuf != NULL, 0))
		shd__trace_add(cpu, reason, pages, shd__machine_now(cpu->m));
}

/* The same, at a time TS taken earlier (shd__machine_now()). */
static inline void shd__trace_tlb_flush_at(struct shd_cpu *cpu, int reason,
					   long pages, uint64_t ts)
{
	if (__builtin_expect(cpu->tbuf != NULL, 0))
		shd__trace_add(cpu, reason, pages, ts);
}

/* shd_trace_stop() for the machine's destruction. */
void shd__trace_free(struct shd_machine *m);

#endif
