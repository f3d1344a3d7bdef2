/* SPDX-License-Identifier: MIT */
/* shootdown host's counters: what the host kernel says it did. */

/*
 * Two sources, each of which may be missing on a given host:
 *
 * /proc/interrupts, its TLB and CAL rows (arch/x86/kernel/irq.c,
 * arch_show_interrupts(): "TLB: ... TLB shootdowns" is irq_tlb_count,
 * incremented by flush_tlb_func() in arch/x86/mm/tlb.c at its top when it
 * runs for another CPU's request, before it looks at loaded_mm, so a
 * request that finds its CPU running another mm (TLB_REMOTE_WRONG_CPU, 6.13+)
 * counts too; "CAL: ... Function call interrupts" is irq_call_count, one per
 * call-function vector taken).  The file is system-wide: whatever else the
 * host runs is counted as well, which is why the caller measures an idle
 * baseline and subtracts it.  A guest whose hypervisor flushes for it
 * (KVM's PV TLB flush, Hyper-V's hypercall) counts fewer interrupts than
 * it asked for; one on another architecture has no TLB row at all.
 *
 * The tlb:tlb_flush tracepoint (include/trace/events/tlb.h, x86 only),
 * counted per reason on each CPU with perf_event_open() and a filter on
 * the reason field.  Needs root or perf_event_paranoid <= -1 (system-wide
 * events on a CPU) and tracefs for the event's id.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

#include "host_count.h"

const char *const host_reason_name[HR__COUNT] = {
	"flush on task switch", "remote shootdown", "local shootdown",
	"local MM shootdown", "remote IPI send", "remote wrong CPU",
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

/* Map each CPU to its column in /proc/interrupts' header ("CPU0 CPU1 ..."
 * lists online CPUs only). */
static void irq_columns(struct host_counters *h)
{
	char line[8192];
	FILE *f = fopen("/proc/interrupts", "r");
	bool tlb = false;

	h->irq_ok = false;
	if (!f) {
		snprintf(h->irq_why, sizeof(h->irq_why),
			 "/proc/interrupts: %s", strerror(errno));
		return;
	}
	for (unsigned i = 0; i < h->n; i++)
		h->col[i] = -1;
	if (fgets(line, sizeof(line), f)) {
		char *save = NULL;
		int col = 0;

		for (char *t = strtok_r(line, " \t\n", &save); t;
		     t = strtok_r(NULL, " \t\n", &save), col++) {
			int id;

			if (sscanf(t, "CPU%d", &id) != 1)
				continue;
			for (unsigned i = 0; i < h->n; i++)
				if (h->cpu[i] == id)
					h->col[i] = col;
		}
	}
	while (fgets(line, sizeof(line), f))
		if (strncmp(line + strspn(line, " "), "TLB:", 4) == 0)
			tlb = true;
	fclose(f);
	for (unsigned i = 0; i < h->n; i++)
		if (h->col[i] < 0) {
			snprintf(h->irq_why, sizeof(h->irq_why), "/proc/interrupts "
				 "has no column for CPU %d", h->cpu[i]);
			return;
		}
	if (!tlb) {
		snprintf(h->irq_why, sizeof(h->irq_why), "/proc/interrupts has no "
			 "TLB row (not x86, or a hypervisor flushes for this guest)");
		return;
	}
	h->irq_ok = true;
}

static int tracepoint_id(char *why, size_t len)
{
	static const char *const where[] = {
		"/sys/kernel/tracing/events/tlb/tlb_flush/id",
		"/sys/kernel/debug/tracing/events/tlb/tlb_flush/id",
	};
	int id = -1;

	for (size_t i = 0; id < 0 && i < 2; i++) {
		FILE *f = fopen(where[i], "r");

		if (f) {
			if (fscanf(f, "%d", &id) != 1)
				id = -1;
			fclose(f);
		}
	}
	if (id < 0)
		snprintf(why, len, "tlb:tlb_flush tracepoint not found under "
			 "/sys/kernel/tracing (tracefs not mounted, or not x86)");
	return id;
}

int host_tlb_flush_event(int pid, int cpu, unsigned reason, bool inherit,
			 bool sample, char *why, size_t len)
{
	struct perf_event_attr a = { 0 };
	int id = tracepoint_id(why, len), fd;
	char filter[32];

	if (id < 0)
		return -1;
	a.type = PERF_TYPE_TRACEPOINT;
	a.size = sizeof(a);
	a.config = (uint64_t)id;
	a.disabled = 1;
	a.inherit = inherit;
	if (sample) {
		a.sample_period = 1;
		a.sample_type = PERF_SAMPLE_TID;
		a.wakeup_events = 1;
	}
	fd = (int)syscall(SYS_perf_event_open, &a, pid, cpu, -1,
			  PERF_FLAG_FD_CLOEXEC);
	if (fd < 0) {
		int e = errno;

		if (cpu >= 0)
			snprintf(why, len, "perf_event_open(tlb:tlb_flush, cpu %d): "
				 "%s%s", cpu, strerror(e), e == EACCES || e == EPERM ?
				 " (needs root or perf_event_paranoid -1)" : "");
		else
			snprintf(why, len, "perf_event_open(tlb:tlb_flush, this "
				 "process): %s", strerror(e));
		return -1;
	}
	snprintf(filter, sizeof(filter), "reason == %u", reason);
	if (ioctl(fd, PERF_EVENT_IOC_SET_FILTER, filter)) {
		snprintf(why, len, "tlb:tlb_flush filter '%s': %s", filter,
			 strerror(errno));
		close(fd);
		return -1;
	}
	return fd;
}

static void tp_open(struct host_counters *h)
{
	h->tp_ok = false;
	h->fd = malloc(sizeof(int) * HR__COUNT * h->n);
	if (!h->fd) {
		snprintf(h->tp_why, sizeof(h->tp_why), "out of memory");
		return;
	}
	for (unsigned k = 0; k < HR__COUNT * h->n; k++)
		h->fd[k] = -1;
	for (unsigned r = 0; r < HR__COUNT; r++)
		for (unsigned i = 0; i < h->n; i++)
			if ((h->fd[r * h->n + i] = host_tlb_flush_event(-1, h->cpu[i],
					r, false, false, h->tp_why,
					sizeof(h->tp_why))) < 0)
				return;
	h->tp_ok = true;
}

int host_counters_open(struct host_counters *h, const int *cpu, unsigned n)
{
	if (!n || n > HOST_MAX_CPUS)
		return -1;
	memset(h, 0, sizeof(*h));
	h->n = n;
	memcpy(h->cpu, cpu, n * sizeof(*cpu));
	irq_columns(h);
	tp_open(h);
	return 0;
}

void host_counters_close(struct host_counters *h)
{
	for (unsigned k = 0; h->fd && k < HR__COUNT * h->n; k++)
		if (h->fd[k] >= 0)
			close(h->fd[k]);
	free(h->fd);
	h->fd = NULL;
	h->tp_ok = false;
}

void host_counters_enable(struct host_counters *h, bool on)
{
	for (unsigned k = 0; h->tp_ok && k < HR__COUNT * h->n; k++)
		ioctl(h->fd[k], on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

/* Row NAME's per-CPU values into OUT (indexed as h->cpu). */
static bool irq_row(const struct host_counters *h, const char *line,
		    const char *name, uint64_t *out)
{
	const char *p = line + strspn(line, " ");
	uint64_t v[HOST_MAX_CPUS];
	int col = 0;

	if (strncmp(p, name, strlen(name)))
		return false;
	p += strlen(name);
	while (col < HOST_MAX_CPUS) {
		char *end;
		unsigned long long x;

		p += strspn(p, " \t");
		if (*p < '0' || *p > '9')
			break;
		x = strtoull(p, &end, 10);
		v[col++] = x;
		p = end;
	}
	for (unsigned i = 0; i < h->n; i++)
		out[i] = h->col[i] < col ? v[h->col[i]] : 0;
	return true;
}

void host_counters_read(struct host_counters *h, struct host_sample *s)
{
	memset(s, 0, sizeof(*s));
	if (h->irq_ok) {
		char line[8192];
		FILE *f = fopen("/proc/interrupts", "r");

		while (f && fgets(line, sizeof(line), f))
			if (!irq_row(h, line, "TLB:", s->tlb))
				irq_row(h, line, "CAL:", s->cal);
		if (f)
			fclose(f);
	}
	for (unsigned r = 0; h->tp_ok && r < HR__COUNT; r++)
		for (unsigned i = 0; i < h->n; i++) {
			uint64_t v = 0;

			if (read(h->fd[r * h->n + i], &v, sizeof(v)) == sizeof(v))
				s->reason[r] += v;
		}
	s->ns = now_ns();
}

int host_own_open(struct host_own *o)
{
	o->ok = false;
	for (unsigned r = 0; r < HR__COUNT; r++)
		o->fd[r] = -1;
	for (unsigned r = 0; r < HR__COUNT; r++)
		if ((o->fd[r] = host_tlb_flush_event(0, -1, r, true, false, o->why,
						     sizeof(o->why))) < 0) {
			host_own_close(o);
			return -1;
		}
	o->ok = true;
	return 0;
}

void host_own_enable(struct host_own *o, bool on)
{
	for (unsigned r = 0; o->ok && r < HR__COUNT; r++)
		ioctl(o->fd[r], on ? PERF_EVENT_IOC_ENABLE : PERF_EVENT_IOC_DISABLE, 0);
}

void host_own_read(struct host_own *o, uint64_t *reason)
{
	for (unsigned r = 0; r < HR__COUNT; r++) {
		uint64_t v = 0;

		if (o->ok && read(o->fd[r], &v, sizeof(v)) != sizeof(v))
			v = 0;
		reason[r] = v;
	}
}

void host_own_close(struct host_own *o)
{
	for (unsigned r = 0; r < HR__COUNT; r++) {
		if (o->fd[r] >= 0)
			close(o->fd[r]);
		o->fd[r] = -1;
	}
	o->ok = false;
}

const char *host_kernel_release(void)
{
	static struct utsname u;

	return uname(&u) == 0 ? u.release : "unknown";
}
