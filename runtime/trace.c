/* SPDX-License-Identifier: MIT */
/* The tlb_flush tracepoint: per-CPU event buffers, merged into ftrace's text. */

/*
 * Theory (after include/trace/events/tlb.h and arch/x86/mm/tlb.c, Linux
 * 6.18).  The tracepoint came with d17d8f9dedb9 ("x86/mm: Add tracepoints
 * for TLB flushes"); TLB_REMOTE_WRONG_CPU with 2815a56e4b72, its
 * name exported by 8b62e64e6d30; the names printed are those of this
 * host's 6.18 format file (events/tlb/tlb_flush/format: "local MM
 * shootdown", "remote IPI send", "remote wrong CPU").  trace_tlb_flush(
 * reason, pages) is called from x86 code only, at the places this runtime
 * mirrors (tlbflush.c, mmu_context.c):
 *
 *   flush_tlb_func(), first thing after the TLB-line count, on a CPU the
 *     mm is not loaded on (6.13+, 209954cbc7d0 and 953753db887f):
 *     TLB_REMOTE_WRONG_CPU, pages 0, and return;
 *   flush_tlb_func() at its "done:" label: TLB_REMOTE_SHOOTDOWN on a
 *     CPU other than the initiator, else TLB_LOCAL_SHOOTDOWN (no mm: a
 *     reclaim batch) or TLB_LOCAL_MM_SHOOTDOWN; pages the invalidated
 *     count, -1 (TLB_FLUSH_ALL) for a full flush, 0 when the CPU's
 *     generation had caught up with the mm's.  Its early returns trace
 *     nothing: a lazy CPU leaving the mm, a CPU on init_mm, a global
 *     ASID kept current by INVLPGB, a request the CPU's generation
 *     already covers (f->new_tlb_gen <= local_tlb_gen, aa44284960d5);
 *   native_flush_tlb_multi(): TLB_REMOTE_SEND_IPI by the initiator,
 *     pages of the request (-1 for all), as NR_TLB_REMOTE_FLUSH counts;
 *   switch_mm_irqs_off(): TLB_FLUSH_ON_TASK_SWITCH, -1 when the new
 *     context is flushed (a new ASID slot, or behind its mm's tlb_gen,
 *     also leaving lazy mode behind), else 0; leave_mm() is a switch to
 *     init_mm, whose context is never behind: 0.
 *
 * Policies that are not Linux trace what their flush_tlb_func() does:
 * broadcast's requests to CPUs not running the mm (before 6.13's
 * wrong-CPU test) are "remote shootdown" lines, pages 0 when the slot
 * was not loaded.
 *
 * So on the x86 engine, per CPU: "remote shootdown" lines + "remote
 * wrong CPU" lines + the silent early returns = the CPU's TLB line
 * (tlb_interrupts); with no lazy CPU, no wrong CPU and no global ASID,
 * the "remote shootdown" lines are the TLB line exactly.  "remote IPI
 * send" lines = nr_tlb_remote_flush less flush_tlb_all()'s (which sends
 * through on_each_cpu(), untraced).  Kernel-range flushes are untraced,
 * as in Linux.  LATR's sweeps (not Linux) are untraced.
 *
 * Each CPU appends to its own buffer with plain stores (the one rule:
 * only its thread touches it); the controller reads the buffers only when
 * no task runs, sorts by (time, CPU, sequence) and prints.  With tracing
 * off an emission point is one load and a predicted-not-taken branch.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "trace.h"

/* Events in all by default, and a CPU's share's bounds. */
#define TRACE_BUDGET	(1u << 24)
#define TRACE_CPU_MIN	(1u << 16)
#define TRACE_CPU_MAX	(1u << 22)

/* One event for the merge: where it was recorded. */
struct merged {
	struct shd_trace_event e;
	unsigned cpu;
	size_t seq;
};

static const char *const reason_names[SHD_TLB_FLUSH__NR_REASONS] = {
	[SHD_TLB_FLUSH_ON_TASK_SWITCH] = "flush on task switch",
	[SHD_TLB_REMOTE_SHOOTDOWN] = "remote shootdown",
	[SHD_TLB_LOCAL_SHOOTDOWN] = "local shootdown",
	[SHD_TLB_LOCAL_MM_SHOOTDOWN] = "local MM shootdown",
	[SHD_TLB_REMOTE_SEND_IPI] = "remote IPI send",
	[SHD_TLB_REMOTE_WRONG_CPU] = "remote wrong CPU",
};

const char *shd_tlb_flush_reason_name(int reason)
{
	if (reason < 0 || reason >= SHD_TLB_FLUSH__NR_REASONS)
		return NULL;
	return reason_names[reason];
}

void shd__trace_add(struct shd_cpu *cpu, int reason, long pages, uint64_t ts)
{
	struct shd_trace_buf *b = cpu->tbuf;
	struct shd_trace_event *e;

	if (b->n == b->alloc) {
		size_t want = b->alloc ? b->alloc * 2 : 1024;
		void *p;

		if (want > b->cap)
			want = b->cap;
		if (want <= b->n ||
		    !(p = realloc(b->ev, want * sizeof(*b->ev)))) {
			b->dropped++;	/* at the cap, or out of memory */
			return;
		}
		b->ev = p;
		b->alloc = want;
	}
	e = &b->ev[b->n++];
	e->ts_ns = ts > b->t0 ? ts - b->t0 : 0;
	/* Relaxed: our own flag (tso.h may still hold the store). */
	e->mm_id = cpu->loaded_mm && !__atomic_load_n(&cpu->is_lazy,
						      __ATOMIC_RELAXED) ?
		   (uint32_t)cpu->loaded_mm->id : 0;
	e->pages = pages < INT32_MIN ? INT32_MIN : pages > INT32_MAX ?
		   INT32_MAX : (int32_t)pages;
	e->reason = (uint8_t)reason;
}

int shd_trace_start(struct shd_machine *m, size_t cap)
{
	uint64_t t0;

	if (!m)
		return shd__fail(-EINVAL, "shd_trace_start: no machine");
	if (shd__this_cpu)
		return shd__fail(-EPERM, "shd_trace_start: not from a CPU thread");
	if (m->cfg.arch.tlb != SHD_TLB_X86)
		return shd__fail(-ENOTSUP, "the tlb_flush tracepoint is x86's "
				 "(trace_tlb_flush() is called from "
				 "arch/x86/mm/tlb.c only): arch %s has no such "
				 "events", m->cfg.arch.name);
	if (m->cpus[0]->tbuf)
		return shd__fail(-EBUSY, "shd_trace_start: already recording");
	if (!cap) {
		cap = TRACE_BUDGET / m->ncpus;
		cap = cap < TRACE_CPU_MIN ? TRACE_CPU_MIN :
		      cap > TRACE_CPU_MAX ? TRACE_CPU_MAX : cap;
	}
	t0 = shd__machine_now(m);
	for (unsigned c = 0; c < m->ncpus; c++) {
		struct shd_trace_buf *b = calloc(1, sizeof(*b));

		if (!b) {
			shd__trace_free(m);
			return shd__fail(-ENOMEM, "shd_trace_start: out of memory");
		}
		b->cap = cap;
		b->t0 = t0;
		m->cpus[c]->tbuf = b;
	}
	return 0;
}

int shd_trace_counts(struct shd_machine *m, uint64_t *counts,
		     uint64_t *dropped)
{
	uint64_t d = 0;

	if (!m || !m->cpus[0]->tbuf)
		return -EINVAL;
	if (counts)
		memset(counts, 0, SHD_TLB_FLUSH__NR_REASONS * sizeof(*counts));
	for (unsigned c = 0; c < m->ncpus; c++) {
		const struct shd_trace_buf *b = m->cpus[c]->tbuf;

		d += b->dropped;
		for (size_t i = 0; counts && i < b->n; i++)
			counts[b->ev[i].reason]++;
	}
	if (dropped)
		*dropped = d;
	return 0;
}

static int event_cmp(const void *a, const void *b)
{
	const struct merged *x = a, *y = b;

	if (x->e.ts_ns != y->e.ts_ns)
		return x->e.ts_ns < y->e.ts_ns ? -1 : 1;
	if (x->cpu != y->cpu)
		return x->cpu < y->cpu ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* ftrace's latency flags (irqs-off, need-resched, hardirq/softirq,
 * preempt-depth, migrate-disable) where Linux emits each reason. */
static const char *event_flags(int reason)
{
	switch (reason) {
	case SHD_TLB_REMOTE_SHOOTDOWN:
	case SHD_TLB_REMOTE_WRONG_CPU:
		return "d.h1.";		/* the call-function IPI */
	case SHD_TLB_FLUSH_ON_TASK_SWITCH:
		return "d..2.";		/* __schedule(), irqs off */
	case SHD_TLB_REMOTE_SEND_IPI:
		return "...1.";		/* get_cpu() */
	default:
		return "d..1.";		/* local_irq_disable() */
	}
}

static void write_header(FILE *out, size_t kept, uint64_t written,
			 unsigned ncpus)
{
	fprintf(out, "# tracer: nop\n#\n"
		"# entries-in-buffer/entries-written: %zu/%" PRIu64 "   #P:%u\n"
		"#\n"
		"#                                _-----=> irqs-off/BH-disabled\n"
		"#                               / _----=> need-resched\n"
		"#                              | / _---=> hardirq/softirq\n"
		"#                              || / _--=> preempt-depth\n"
		"#                              ||| / _-=> migrate-disable\n"
		"#                              |||| /     delay\n"
		"#           TASK-PID     CPU#  |||||  TIMESTAMP  FUNCTION\n"
		"#              | |         |   |||||     |         |\n",
		kept, written, ncpus);
}

long shd_trace_write(struct shd_machine *m, FILE *out)
{
	struct merged *all;
	size_t n = 0, k = 0;	/* 40 bytes an event, for the sort only */
	uint64_t dropped = 0;

	if (!m || !out || !m->cpus[0]->tbuf)
		return -EINVAL;
	for (unsigned c = 0; c < m->ncpus; c++) {
		n += m->cpus[c]->tbuf->n;
		dropped += m->cpus[c]->tbuf->dropped;
	}
	if (!(all = malloc((n ? n : 1) * sizeof(*all))))
		return -ENOMEM;
	for (unsigned c = 0; c < m->ncpus; c++) {
		const struct shd_trace_buf *b = m->cpus[c]->tbuf;

		for (size_t i = 0; i < b->n; i++, k++) {
			all[k].e = b->ev[i];
			all[k].cpu = c;
			all[k].seq = i;
		}
	}
	qsort(all, n, sizeof(*all), event_cmp);
	write_header(out, n, n + dropped, m->ncpus);
	for (size_t i = 0; i < n; i++) {
		const struct shd_trace_event *e = &all[i].e;
		unsigned cpu = all[i].cpu;
		char task[40];

		if (e->mm_id) {
			char comm[16];

			snprintf(comm, sizeof(comm), "cpu%u", cpu);
			snprintf(task, sizeof(task), "%16s-%-7" PRIu32, comm,
				 e->mm_id);
		} else {
			snprintf(task, sizeof(task), "%16s-%-7d", "<idle>", 0);
		}
		fprintf(out, "%s [%03u] %s %5" PRIu64 ".%06" PRIu64
			": tlb_flush: pages:%d reason:%s (%d)\n", task, cpu,
			event_flags(e->reason), (uint64_t)(e->ts_ns / 1000000000u),
			(uint64_t)(e->ts_ns / 1000u % 1000000u), (int)e->pages,
			reason_names[e->reason], (int)e->reason);
	}
	free(all);
	if (fflush(out) || ferror(out))
		return -EIO;
	return (long)n;
}

void shd__trace_free(struct shd_machine *m)
{
	for (unsigned c = 0; m->cpus && c < m->ncpus; c++) {
		struct shd_cpu *cpu = m->cpus[c];

		if (!cpu || !cpu->tbuf)
			continue;
		free(cpu->tbuf->ev);
		free(cpu->tbuf);
		cpu->tbuf = NULL;
	}
}

void shd_trace_stop(struct shd_machine *m)
{
	if (m && !shd__this_cpu)
		shd__trace_free(m);
}
