/* SPDX-License-Identifier: MIT */
/* shootdown host --watch: who is sending this box's TLB shootdowns. */

/*
 * What an engineer chasing a shootdown storm asks first: how many, on which
 * CPUs, and who sends them.  Over S seconds: /proc/interrupts' TLB and CAL
 * rows per CPU (rates), the tlb:tlb_flush tracepoint by reason (counted on
 * every CPU), and the tasks that sent them: every "remote IPI send" event
 * (native_flush_tlb_multi(), arch/x86/mm/tlb.c: one per flush that had
 * another CPU in its mm_cpumask) sampled with its pid and tid into a
 * per-CPU ring, drained every 100 ms, summed by process.  A ring that
 * overflows says how many events it lost; the counts by reason are exact
 * whatever the rings lose.  Root (or perf_event_paranoid -1) for the
 * tracepoint; without it, the interrupt rows alone, and a line saying why.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/perf_event.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "host_count.h"
#include "host_watch.h"

#define RING_PAGES	64		/* data pages a CPU (power of two) */
#define MAX_PIDS	4096
#define TOP		10

struct sender {
	int32_t pid;
	uint64_t n;
	char comm[17];
};

struct ring {
	int fd;
	void *base;
	size_t len;
};

struct watch {
	struct ring ring[HOST_MAX_CPUS];
	unsigned nring;
	struct sender s[MAX_PIDS];
	unsigned ns;
	uint64_t sampled, lost;
	bool sampling;
	char why[256];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void comm_of(int32_t pid, char *out, size_t len)
{
	char path[64];
	FILE *f;

	snprintf(out, len, "(exited)");
	snprintf(path, sizeof(path), "/proc/%d/comm", pid);
	f = fopen(path, "r");
	if (!f)
		return;
	if (fgets(out, (int)len, f))
		out[strcspn(out, "\n")] = 0;
	fclose(f);
}

static void count_sender(struct watch *w, int32_t pid)
{
	unsigned i;

	for (i = 0; i < w->ns; i++)
		if (w->s[i].pid == pid) {
			w->s[i].n++;
			return;
		}
	if (w->ns == MAX_PIDS) {	/* the rest, under one row */
		w->s[MAX_PIDS - 1].pid = -1;
		w->s[MAX_PIDS - 1].n++;
		return;
	}
	w->s[w->ns].pid = pid;
	w->s[w->ns].n = 1;
	/* Named now: a storm's sender may be gone by the end. */
	comm_of(pid, w->s[w->ns].comm, sizeof(w->s[w->ns].comm));
	w->ns++;
}

static int sampling_open(struct watch *w, const int *cpu, unsigned n)
{
	long page = sysconf(_SC_PAGESIZE);

	for (unsigned i = 0; i < n; i++) {
		struct ring *r = &w->ring[i];

		r->fd = host_tlb_flush_event(-1, cpu[i], HR_REMOTE_SEND_IPI, false,
					     true, w->why, sizeof(w->why));
		if (r->fd < 0)
			return -1;
		w->nring = i + 1;
		r->len = (size_t)page * (RING_PAGES + 1);
		r->base = mmap(NULL, r->len, PROT_READ | PROT_WRITE, MAP_SHARED,
			       r->fd, 0);
		if (r->base == MAP_FAILED) {
			r->base = NULL;
			snprintf(w->why, sizeof(w->why), "mmap of a perf ring: %s",
				 strerror(errno));
			return -1;
		}
	}
	return 0;
}

/* Take what ring R holds. */
static void ring_drain(struct watch *w, struct ring *r)
{
	struct perf_event_mmap_page *mp = r->base;
	char *data = (char *)r->base + mp->data_offset;
	uint64_t size = mp->data_size;
	uint64_t head = __atomic_load_n(&mp->data_head, __ATOMIC_ACQUIRE);
	uint64_t tail = mp->data_tail;

	while (tail < head) {
		struct perf_event_header h;
		unsigned char rec[64];
		uint64_t off = tail % size;

		/* A record may wrap around the ring's end. */
		for (size_t k = 0; k < sizeof(h); k++)
			((unsigned char *)&h)[k] = (unsigned char)data[(off + k) % size];
		if (h.size < sizeof(h))
			break;		/* corrupt: stop rather than spin */
		for (size_t k = 0; k < h.size && k < sizeof(rec); k++)
			rec[k] = (unsigned char)data[(off + k) % size];
		if (h.type == PERF_RECORD_SAMPLE && h.size >= sizeof(h) + 8) {
			int32_t pid;

			memcpy(&pid, rec + sizeof(h), sizeof(pid));
			count_sender(w, pid);
			w->sampled++;
		} else if (h.type == PERF_RECORD_LOST && h.size >= sizeof(h) + 16) {
			uint64_t lost;

			memcpy(&lost, rec + sizeof(h) + 8, sizeof(lost));
			w->lost += lost;
		}
		tail += h.size;
	}
	__atomic_store_n(&mp->data_tail, tail, __ATOMIC_RELEASE);
}

static int by_count(const void *a, const void *b)
{
	const struct sender *x = a, *y = b;

	return x->n < y->n ? 1 : x->n > y->n ? -1 : (x->pid > y->pid) - (x->pid < y->pid);
}

int host_watch(unsigned seconds, enum out_format fmt)
{
	static struct watch w;
	struct host_counters hc;
	struct host_sample s0, s1;
	int cpu[HOST_MAX_CPUS];
	unsigned n = 0;
	cpu_set_t set;
	double secs;
	FILE *f;

	/* Every online CPU, not only ours: a storm is the box's. */
	CPU_ZERO(&set);
	for (int c = 0; c < CPU_SETSIZE && n < HOST_MAX_CPUS; c++) {
		char path[64];

		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d", c);
		if (access(path, F_OK))
			continue;
		snprintf(path, sizeof(path), "/sys/devices/system/cpu/cpu%d/online", c);
		if ((f = fopen(path, "r"))) {
			int on = 1;

			if (fscanf(f, "%d", &on) != 1)
				on = 1;
			fclose(f);
			if (!on)
				continue;
		}
		cpu[n++] = c;
	}
	if (!n)
		usage_error("host --watch: no online CPU under /sys/devices/system/cpu");
	host_counters_open(&hc, cpu, n);
	if (!hc.irq_ok && !hc.tp_ok) {
		fprintf(stderr, "%s: host --watch: %s; %s\n", cli_prog, hc.irq_why,
			hc.tp_why);
		host_counters_close(&hc);
		return EXIT_INCOMPLETE;
	}
	memset(&w, 0, sizeof(w));
	if (hc.tp_ok) {
		w.sampling = sampling_open(&w, cpu, n) == 0;
	} else {
		snprintf(w.why, sizeof(w.why), "%s", hc.tp_why);
	}
	if (fmt == FMT_TABLE)
		fprintf(stderr, "watching %u CPUs for %u s...\n", n, seconds);
	host_counters_enable(&hc, true);
	for (unsigned i = 0; w.sampling && i < w.nring; i++)
		ioctl(w.ring[i].fd, PERF_EVENT_IOC_ENABLE, 0);
	host_counters_read(&hc, &s0);
	for (uint64_t end = s0.ns + seconds * 1000000000ull; now_ns() < end;) {
		struct timespec ts = { 0, 100000000 };

		nanosleep(&ts, NULL);
		for (unsigned i = 0; w.sampling && i < w.nring; i++)
			ring_drain(&w, &w.ring[i]);
	}
	host_counters_read(&hc, &s1);
	host_counters_enable(&hc, false);
	for (unsigned i = 0; w.sampling && i < w.nring; i++) {
		ioctl(w.ring[i].fd, PERF_EVENT_IOC_DISABLE, 0);
		ring_drain(&w, &w.ring[i]);
	}
	secs = (double)(s1.ns - s0.ns) / 1e9;
	qsort(w.s, w.ns, sizeof(w.s[0]), by_count);

	if (fmt == FMT_JSON) {
		printf("{\"schema_version\":%d,\"command\":\"host\",\"watch_s\":%.3f,"
		       "\"host_kernel\":", OUT_SCHEMA_VERSION, secs);
		out_json_string(stdout, host_kernel_release());
		printf(",\"cpus\":[");
		for (unsigned i = 0; i < n; i++)
			printf("%s{\"cpu\":%d,\"tlb_per_s\":%.1f,\"cal_per_s\":%.1f}",
			       i ? "," : "", cpu[i],
			       hc.irq_ok ? (double)(s1.tlb[i] - s0.tlb[i]) / secs : 0,
			       hc.irq_ok ? (double)(s1.cal[i] - s0.cal[i]) / secs : 0);
		printf("],\"reasons_per_s\":");
		if (hc.tp_ok) {
			printf("{");
			for (unsigned r = 0; r < HR__COUNT; r++) {
				printf("%s", r ? "," : "");
				out_json_string(stdout, host_reason_name[r]);
				printf(":%.1f", (double)(s1.reason[r] - s0.reason[r]) / secs);
			}
			printf("}");
		} else {
			printf("null");
		}
		printf(",\"senders\":");
		if (w.sampling) {
			printf("[");
			for (unsigned i = 0; i < w.ns && i < TOP; i++) {
				printf("%s{\"pid\":%d,\"comm\":", i ? "," : "", w.s[i].pid);
				out_json_string(stdout, w.s[i].pid < 0 ? "(others)" :
						w.s[i].comm);
				printf(",\"remote_ipi_send_per_s\":%.1f}",
				       (double)w.s[i].n / secs);
			}
			printf("],\"lost\":%" PRIu64 "}\n", w.lost);
		} else {
			printf("null,\"why\":");
			out_json_string(stdout, w.why);
			printf("}\n");
		}
	} else {
		printf("host Linux %s, %u CPUs, %.1f s:\n%-24s", host_kernel_release(),
		       n, secs, "");
		for (unsigned i = 0; i < n; i++) {
			char name[16];

			snprintf(name, sizeof(name), "CPU%d", cpu[i]);
			printf(" %10s", name);
		}
		printf("\n");
		if (hc.irq_ok) {
			printf("%-24s", "TLB shootdowns/s");
			for (unsigned i = 0; i < n; i++)
				printf(" %10.1f", (double)(s1.tlb[i] - s0.tlb[i]) / secs);
			printf("\n%-24s", "function calls/s (CAL)");
			for (unsigned i = 0; i < n; i++)
				printf(" %10.1f", (double)(s1.cal[i] - s0.cal[i]) / secs);
			printf("\n");
		} else {
			printf("  (no interrupt rows: %s)\n", hc.irq_why);
		}
		if (hc.tp_ok) {
			printf("tlb:tlb_flush events/s, every CPU:\n");
			for (unsigned r = 0; r < HR__COUNT; r++)
				printf("  %-22s %10.1f\n", host_reason_name[r],
				       (double)(s1.reason[r] - s0.reason[r]) / secs);
		}
		if (w.sampling) {
			printf("who sent them (remote IPI send, by process; %" PRIu64
			       " sampled", w.sampled);
			if (w.lost)
				printf(", %" PRIu64 " lost to full rings", w.lost);
			printf("):\n  %8s  %-16s %10s\n", "pid", "comm", "per s");
			for (unsigned i = 0; i < w.ns && i < TOP; i++)
				printf("  %8d  %-16s %10.1f\n", w.s[i].pid,
				       w.s[i].pid < 0 ? "(others)" : w.s[i].comm,
				       (double)w.s[i].n / secs);
			if (!w.ns)
				printf("  (none)\n");
		} else {
			printf("who sent them: not sampled: %s\n", w.why);
		}
	}
	for (unsigned i = 0; i < w.nring; i++) {
		if (w.ring[i].base)
			munmap(w.ring[i].base, w.ring[i].len);
		close(w.ring[i].fd);
	}
	host_counters_close(&hc);
	return EXIT_CLEAN;
}
