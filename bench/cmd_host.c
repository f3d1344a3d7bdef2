/* SPDX-License-Identifier: MIT */
/* shootdown host: a workload's native twin on the host kernel, counted,
 * beside the simulator's prediction for the same shape. */

/*
 * The measured side.  The twin (host_twins.c) runs in a process of its
 * own; around its measured phase it reads /proc/interrupts' TLB and CAL
 * rows on its CPUs and the tlb:tlb_flush tracepoint's events by reason
 * (host_count.c).  Then this process sleeps, its CPUs left to whatever
 * else the host runs, for as long as the phase took (at most HOST_BASELINE_MAX_NS),
 * reads the same counters again and subtracts that rate: the host's own
 * noise.  What is printed is (twin - baseline) / ops.
 *
 * The predicted side: the same workload, knobs, ops and CPU count in the
 * simulator under --policy (default linux: Linux 6.18's x86), seeded.
 * Linux's TLB row is tlb_interrupts (inc_irq_stat(irq_tlb_count) at the top
 * of flush_tlb_func() for another CPU's request, arch/x86/mm/tlb.c), CAL
 * is ipis_received; the tracepoint's "remote ipi send" is
 * nr_tlb_remote_flush (native_flush_tlb_multi() counts and traces it in
 * the same place) and "remote wrong cpu" tlb_remote_wrong_cpu.
 *
 * Agreement: within 10% of the larger figure, or both under NOISE_FLOOR
 * per op (a shape where Linux sends nothing; 1 in 50 ops is what the trim
 * of a stale mm_cpumask bit, once a second, and the host's noise leave).
 * When the host cannot give a figure (fewer CPUs than asked, no TLB row,
 * the twin failed) the measured column says so and nothing is compared.
 */
#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "host_count.h"
#include "host_twins.h"
#include "host_watch.h"
#include "host_watch.h"

#define HOST_BASELINE_MAX_NS	2000000000ull
#define HOST_BASELINE_PRE_NS	500000000ull
#define HOST_SETTLE_NS		100000000ull	/* before it: our own start-up */
#define HOST_TIMEOUT_S		600
#define NOISE_FLOOR		0.02	/* per op */
#define AGREE			0.10

/* What the twin's process leaves for us (a shared mapping). */
struct host_shared {
	struct twin_run t;
	struct host_sample s[2];	/* at the phase's begin and end */
	unsigned marks;
	struct host_counters *hc;
	struct host_own own;		/* the twin's own tasks' events */
	uint64_t nivcsw[2];		/* its threads' involuntary switches */
	uint64_t own_reason[HR__COUNT];	/* ... over the phase */
};

static void mark(struct twin_run *t, int end)
{
	struct host_shared *sh = t->arg;
	struct rusage ru;

	/* The twin process's threads (forked tasks are not counted). */
	if (getrusage(RUSAGE_SELF, &ru) == 0)
		sh->nivcsw[end] = (uint64_t)ru.ru_nivcsw;
	if (!end) {
		host_counters_enable(sh->hc, true);
		host_own_enable(&sh->own, true);
	}
	host_counters_read(sh->hc, &sh->s[end]);
	if (end) {
		host_own_read(&sh->own, sh->own_reason);
		host_own_enable(&sh->own, false);
		host_counters_enable(sh->hc, false);
	}
	sh->marks |= 1u << end;
}

/* The twin's process: its own counters first, then the twin. */
static int twin_process(const struct twin *twin, struct host_shared *sh)
{
	host_own_open(&sh->own);
	return twin->run(&sh->t);
}

struct measured {
	bool ok;
	char why[512];
	double tlb, cal, reason[HR__COUNT];	/* per op, noise subtracted */
	double tlb_cpu[HOST_MAX_CPUS];
	double noise_tlb;			/* per op, subtracted */
	double noise_rate[2];			/* TLB/s before and after */
	bool noisy;				/* noise unsteady and not small */
	uint64_t preempted;			/* the twin's involuntary switches */
	bool disturbed;				/* ... more than 1 per 100 ops */
	bool own_ok;
	char own_why[256];
	double own[HR__COUNT];			/* per op, the twin's tasks */
	double phase_s, baseline_s;
	uint64_t ops, failures;
	char note[160];
};

/* The first N CPUs this process may run on, or how many there are. */
static unsigned host_cpus(int *pu, unsigned n)
{
	cpu_set_t set;
	unsigned k = 0;

	if (sched_getaffinity(0, sizeof(set), &set))
		return 0;
	for (int c = 0; c < CPU_SETSIZE; c++)
		if (CPU_ISSET(c, &set)) {
			if (k < n)
				pu[k] = c;
			k++;
		}
	return k;
}

static void sleep_ns(uint64_t ns)
{
	struct timespec ts = { (time_t)(ns / 1000000000ull),
			       (long)(ns % 1000000000ull) };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* What the counters moved by between readings X and Y, added to *D. */
static void sample_add_delta(struct host_sample *d, const struct host_sample *x,
			     const struct host_sample *y, unsigned n)
{
	for (unsigned i = 0; i < n; i++) {
		d->tlb[i] += y->tlb[i] - x->tlb[i];
		d->cal[i] += y->cal[i] - x->cal[i];
	}
	for (unsigned r = 0; r < HR__COUNT; r++)
		d->reason[r] += y->reason[r] - x->reason[r];
}

static double sum(const uint64_t *v, unsigned n)
{
	uint64_t s = 0;

	for (unsigned i = 0; i < n; i++)
		s += v[i];
	return (double)s;
}

/* Run TWIN and fill M. */
static void measure(const struct twin *twin, const struct wl_opts *o,
		    const struct workload *w, const int *pu, struct measured *m)
{
	struct host_shared *sh;
	struct host_counters hc;
	static struct host_sample a0, a1, b0, b1, tw, base;	/* 16 KiB each */
	double pre;
	cpu_set_t old, one;
	unsigned n = o->ncpus;
	pid_t pid;
	int st = 0;
	double scale, ops;

	if (host_counters_open(&hc, pu, n) || !hc.irq_ok) {
		snprintf(m->why, sizeof(m->why), "%s", hc.irq_why);
		host_counters_close(&hc);
		return;
	}
	sh = mmap(NULL, sizeof(*sh), PROT_READ | PROT_WRITE, MAP_SHARED |
		  MAP_ANONYMOUS, -1, 0);
	if (sh == MAP_FAILED) {
		snprintf(m->why, sizeof(m->why), "mmap: %s", strerror(errno));
		host_counters_close(&hc);
		return;
	}
	memset(sh, 0, sizeof(*sh));
	sh->hc = &hc;
	/* The noise before: the same CPUs with nothing of ours on them,
	 * once what started this process (and ended the last) has settled. */
	sleep_ns(HOST_SETTLE_NS);
	host_counters_enable(&hc, true);
	host_counters_read(&hc, &a0);
	sleep_ns(HOST_BASELINE_PRE_NS);
	host_counters_read(&hc, &a1);
	host_counters_enable(&hc, false);
	sh->t = (struct twin_run){ .ncpus = n, .pu = pu, .ops = o->ops,
				   .seed = o->seed, .w = w, .o = o,
				   .page = (uint64_t)sysconf(_SC_PAGESIZE),
				   .mark = mark, .arg = sh };
	/* The twin's process starts pinned to its CPU 0: its mm's cpumask
	 * begins with that CPU alone. */
	sched_getaffinity(0, sizeof(old), &old);
	CPU_ZERO(&one);
	CPU_SET(pu[0], &one);
	sched_setaffinity(0, sizeof(one), &one);
	fflush(NULL);
	pid = fork();
	if (pid == 0)
		_exit(twin_process(twin, sh) ? 1 : 0);
	sched_setaffinity(0, sizeof(old), &old);
	if (pid < 0) {
		snprintf(m->why, sizeof(m->why), "fork: %s", strerror(errno));
		goto out;
	}
	for (unsigned waited = 0; waitpid(pid, &st, WNOHANG) == 0; waited++) {
		if (waited >= HOST_TIMEOUT_S * 100) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			snprintf(m->why, sizeof(m->why), "the native twin did not "
				 "finish in %d s (killed)", HOST_TIMEOUT_S);
			goto out;
		}
		sleep_ns(10000000);
	}
	if (!WIFEXITED(st) || WEXITSTATUS(st) || sh->marks != 3) {
		snprintf(m->why, sizeof(m->why), "the native twin failed (%s%s%s)",
			 WIFSIGNALED(st) ? strsignal(WTERMSIG(st)) : "exit status",
			 sh->t.err[0] ? ": " : "", sh->t.err);
		goto out;
	}
	/* The baseline: the same CPUs with nothing of ours on them. */
	m->phase_s = (double)(sh->s[1].ns - sh->s[0].ns) / 1e9;
	{
		uint64_t ns = sh->s[1].ns - sh->s[0].ns;

		ns = ns < HOST_BASELINE_MAX_NS ? ns : HOST_BASELINE_MAX_NS;
		ns = ns > 50000000ull ? ns : 50000000ull;
		host_counters_enable(&hc, true);
		host_counters_read(&hc, &b0);
		sleep_ns(ns);
		host_counters_read(&hc, &b1);
		host_counters_enable(&hc, false);
	}
	/* The twin's counts, and the noise: both baselines, before and
	 * after, as one rate. */
	memset(&tw, 0, sizeof(tw));
	memset(&base, 0, sizeof(base));
	sample_add_delta(&tw, &sh->s[0], &sh->s[1], n);
	sample_add_delta(&base, &a0, &a1, n);
	pre = sum(base.tlb, n);
	sample_add_delta(&base, &b0, &b1, n);
	{
		double pre_s = (double)(a1.ns - a0.ns) / 1e9;
		double post_s = (double)(b1.ns - b0.ns) / 1e9;
		double post = sum(base.tlb, n) - pre, counted = sum(tw.tlb, n);

		m->baseline_s = pre_s + post_s;
		m->noise_rate[0] = pre / pre_s;
		m->noise_rate[1] = post / post_s;
		/* The guess of the noise during the phase is uncertain by
		 * as much as the two baselines differ: too noisy when that,
		 * over the phase, is more than 5% of what the twin counted
		 * and more than half the noise floor per op. */
		{
			double lo = fmin(m->noise_rate[0], m->noise_rate[1]);
			double hi = fmax(m->noise_rate[0], m->noise_rate[1]);
			double u = (hi - lo) * m->phase_s;
			double nops = sh->t.ops_done ? (double)sh->t.ops_done : 1;

			m->noisy = u > 0.05 * counted && u > NOISE_FLOOR / 2 * nops;
		}
	}
	scale = m->phase_s / m->baseline_s;
	m->ops = sh->t.ops_done;
	/* A thread the host preempted left its CPU to another mm for a
	 * while: flushes then skip that CPU (should_flush_tlb()), and the
	 * shape the simulator runs was not the one the host ran. */
	m->preempted = sh->nivcsw[1] - sh->nivcsw[0];
	m->disturbed = m->preempted > twin->preempt_per_op * (double)m->ops +
				       0.05 * (double)(m->ops ? m->ops : 1);
	m->failures = sh->t.failures;
	snprintf(m->note, sizeof(m->note), "%s", sh->t.note);
	ops = m->ops ? (double)m->ops : 1;
	/* Per op, net of the noise the phase is expected to have had. */
#define NET(twin, noise) (((double)(twin) - (double)(noise) * scale) / ops)
	m->noise_tlb = sum(base.tlb, n) * scale / ops;
	m->tlb = NET(sum(tw.tlb, n), sum(base.tlb, n));
	m->cal = NET(sum(tw.cal, n), sum(base.cal, n));
	for (unsigned i = 0; i < n; i++)
		m->tlb_cpu[i] = NET(tw.tlb[i], base.tlb[i]);
	for (unsigned r = 0; r < HR__COUNT; r++)
		m->reason[r] = NET(tw.reason[r], base.reason[r]);
#undef NET
	m->own_ok = sh->own.ok;
	snprintf(m->own_why, sizeof(m->own_why), "%s", sh->own.why);
	for (unsigned r = 0; r < HR__COUNT; r++)
		m->own[r] = (double)sh->own_reason[r] / ops;
	m->ok = true;
out:
	/* Measured without the tracepoint: why says why it is missing. */
	if (m->ok && !hc.tp_ok)
		snprintf(m->why, sizeof(m->why), "%s", hc.tp_why);
	munmap(sh, sizeof(*sh));
	host_counters_close(&hc);
}

static bool agree(double a, double b)
{
	double hi = fabs(a) > fabs(b) ? fabs(a) : fabs(b);

	if (fabs(a) < NOISE_FLOOR && fabs(b) < NOISE_FLOOR)
		return true;
	return fabs(a - b) <= AGREE * hi;
}

static void print_ratio(double m, double p)
{
	if (p > 0 && m >= 0)
		printf(" %9.3f", m / p);
	else
		printf(" %9s", "-");
}

static void host_table(const struct workload *w, const struct twin *twin,
		       const struct wl_opts *o, const int *pu,
		       const struct measured *m, const struct wl_result *r,
		       bool tp)
{
	double ops = r->ops ? (double)r->ops : 1;
	double p_tlb = (double)r->stats.tlb_interrupts / ops;
	double p_cal = (double)r->stats.ipis_received / ops;
	double p_send = (double)r->stats.nr_tlb_remote_flush / ops;
	double p_wrong = (double)r->stats.tlb_remote_wrong_cpu / ops;

	printf("%s on %u CPUs: host Linux %s", w->name, o->ncpus,
	       host_kernel_release());
	for (unsigned i = 0; m->ok && i < o->ncpus; i++)
		printf("%s%d", i ? "," : " on CPUs ", pu[i]);
	printf("; simulated under %s, seed %" PRIu64 "\n", o->policy, o->seed);
	printf("  native twin: %s\n", twin->shape);
	if (!m->ok) {
		printf("  measured: no figure: %s\n", m->why);
		printf("  %-28s %9s %9s\n", "per op", "measured", "predicted");
		printf("  %-28s %9s %9.3f\n", "TLB interrupts", "-", p_tlb);
		printf("  %-28s %9s %9.3f\n", "CAL interrupts", "-", p_cal);
		return;
	}
	printf("  %" PRIu64 " ops measured in %.3f s (simulated: %" PRIu64 " ops); "
	       "host noise, idle %.3f s before and after: %.0f and %.0f TLB/s, "
	       "subtracted: %.4f TLB/op\n", m->ops, m->phase_s, r->ops,
	       m->baseline_s, m->noise_rate[0], m->noise_rate[1], m->noise_tlb);
	if (m->disturbed)
		printf("  PREEMPTED: the host switched the twin's threads out "
		       "%" PRIu64 " times (more than 5 per 100 ops over its own "
		       "%.0f per op): a CPU "
		       "running another task skips flushes, so the shape was "
		       "not held; run on a quiet machine\n", m->preempted,
		       twin->preempt_per_op);
	if (m->noisy)
		printf("  NOISY HOST: the noise moved between the baselines and is "
		       "more than 5%% of the count; the TLB and CAL rows are only "
		       "as good as its guess (the twin's own tracepoint counts "
		       "below are exact): run on a quiet machine\n");
	printf("  %-28s %9s %9s %9s\n", "per op", "measured", "predicted", "ratio");
	printf("  %-28s %9.3f %9.3f", "TLB interrupts", m->tlb, p_tlb);
	print_ratio(m->tlb, p_tlb);
	printf("   %s\n", m->noisy ? "no verdict (noisy host)" :
	       m->disturbed ? "no verdict (twin preempted)" :
	       agree(m->tlb, p_tlb) ? "agree (10%)" : "DIFFER");
	printf("  %-28s %9.3f %9.3f", "CAL interrupts", m->cal, p_cal);
	print_ratio(m->cal, p_cal);
	printf("\n");
	for (unsigned i = 0; i < o->ncpus; i++) {
		char name[32];

		snprintf(name, sizeof(name), "  TLB on CPU%d (sim. %u)", pu[i], i);
		printf("%-30s %9.3f\n", name, m->tlb_cpu[i]);
	}
	if (tp || m->own_ok) {
		printf("  tlb:tlb_flush per op         %9s %9s %9s %9s\n", "own",
		       "CPUs", "predicted", "ratio");
		for (unsigned k = 0; k < HR__COUNT; k++) {
			char name[40];

			snprintf(name, sizeof(name), "    %s", host_reason_name[k]);
			printf("%-30s", name);
			if (m->own_ok)
				printf(" %9.3f", m->own[k]);
			else
				printf(" %9s", "-");
			if (tp)
				printf(" %9.3f", m->reason[k]);
			else
				printf(" %9s", "-");
			if (r->traced) {	/* the simulator's tracepoint */
				double pr = (double)r->trace_reason[k] / ops;

				printf(" %9.3f", pr);
				print_ratio(m->own_ok ? m->own[k] : m->reason[k], pr);
			} else if (k == HR_REMOTE_SEND_IPI || k == HR_REMOTE_WRONG_CPU) {
				double pr = k == HR_REMOTE_SEND_IPI ? p_send : p_wrong;

				printf(" %9.3f", pr);
				print_ratio(m->own_ok ? m->own[k] : m->reason[k], pr);
			}
			printf("\n");
		}
		printf("  (own: events in the twin's tasks, exact; a target's "
		       "\"remote shootdown\" counts only if it was running one; "
		       "CPUs: every event on its CPUs, noise subtracted; "
		       "predicted: the simulator's tracepoint%s)\n",
		       r->trace_dropped ? ", some events DROPPED past its cap" : "");
	}
	if (!tp)
		printf("  tlb:tlb_flush on its CPUs: not counted: %s\n", m->why);
	if (!m->own_ok)
		printf("  tlb:tlb_flush in its tasks: not counted: %s\n",
		       m->own_why);
	if (m->failures)
		printf("  the twin's read-back: %s\n", m->note);
}

/* {"reason": V[k] * SCALE, ...} in the tracepoint's order. */
static void json_reasons(const double *v, double scale)
{
	printf("{");
	for (unsigned k = 0; k < HR__COUNT; k++) {
		printf("%s", k ? "," : "");
		out_json_string(stdout, host_reason_name[k]);
		printf(":%.6f", v[k] * scale);
	}
	printf("}");
}

static void host_json(const struct workload *w, const struct wl_opts *o,
		      const int *pu, const struct measured *m,
		      const struct wl_result *r, bool tp)
{
	double ops = r->ops ? (double)r->ops : 1;
	double p_tlb = (double)r->stats.tlb_interrupts / ops;

	printf("{\"schema_version\":%d,\"command\":\"host\",\"workload\":", OUT_SCHEMA_VERSION);
	out_json_string(stdout, w->name);
	printf(",\"cpus\":%u,\"host_kernel\":", o->ncpus);
	out_json_string(stdout, host_kernel_release());
	printf(",\"host_cpus\":[");
	for (unsigned i = 0; m->ok && i < o->ncpus; i++)
		printf("%s%d", i ? "," : "", pu[i]);
	printf("],\"policy\":");	/* host_cpus: [] when not measured */
	out_json_string(stdout, o->policy);
	printf(",\"seed\":%" PRIu64 ",\"predicted\":{\"ops\":%" PRIu64
	       ",\"tlb_per_op\":%.6f,\"cal_per_op\":%.6f,"
	       "\"remote_ipi_send_per_op\":%.6f,\"remote_wrong_cpu_per_op\":%.6f",
	       o->seed, r->ops, p_tlb, (double)r->stats.ipis_received / ops,
	       (double)r->stats.nr_tlb_remote_flush / ops,
	       (double)r->stats.tlb_remote_wrong_cpu / ops);
	if (r->traced) {
		double pr[HR__COUNT];

		for (unsigned k = 0; k < HR__COUNT; k++)
			pr[k] = (double)r->trace_reason[k];
		printf(",\"reasons_per_op\":");
		json_reasons(pr, 1 / ops);
		printf(",\"reasons_dropped\":%" PRIu64, r->trace_dropped);
	}
	printf("},");
	if (!m->ok) {
		printf("\"measured\":null,\"why\":");
		out_json_string(stdout, m->why);
		printf("}\n");
		return;
	}
	printf("\"measured\":{\"ops\":%" PRIu64 ",\"wall_phase_s\":%.6f,"
	       "\"wall_baseline_s\":%.6f,\"noise_tlb_per_op\":%.6f,"
	       "\"tlb_per_op\":%.6f,\"cal_per_op\":%.6f,\"tlb_per_cpu_per_op\":[",
	       m->ops, m->phase_s, m->baseline_s, m->noise_tlb, m->tlb, m->cal);
	for (unsigned i = 0; i < o->ncpus; i++)
		printf("%s%.6f", i ? "," : "", m->tlb_cpu[i]);
	printf("],\"reasons_per_op\":");
	if (tp) {
		json_reasons(m->reason, 1);
	} else {
		printf("null,\"reasons_why\":");
		out_json_string(stdout, m->why);
	}
	printf(",\"own_reasons_per_op\":");
	if (m->own_ok) {
		json_reasons(m->own, 1);
	} else {
		printf("null,\"own_why\":");
		out_json_string(stdout, m->own_why);
	}
	printf(",\"noise_tlb_per_s\":[%.1f,%.1f],\"noisy\":%s,"
	       "\"preempted\":%" PRIu64, m->noise_rate[0], m->noise_rate[1],
	       m->noisy ? "true" : "false", m->preempted);
	printf(",\"read_back_failures\":%" PRIu64 "},\"tlb_ratio\":", m->failures);
	if (p_tlb > 0)
		printf("%.6f", m->tlb / p_tlb);
	else
		printf("null");
	printf(",\"agree\":%s}\n", m->noisy || m->disturbed ? "null" :
	       agree(m->tlb, p_tlb) ? "true" : "false");
}

int cmd_host(int argc, char **argv)
{
	struct parsed p;
	const struct workload *w;
	const struct twin *twin;
	struct measured m = { 0 };
	struct wl_result *r;
	int pu[HOST_TWIN_MAX];
	char err[1024], why[256];
	unsigned have;
	bool tp;

	if (cli_start(&p, CMD_HOST, argc, argv, "host --workload NAME [options]",
		      "Runs the workload's native twin on this host's kernel "
		      "(real threads and processes\npinned to real CPUs, the "
		      "same shape), counts the TLB shootdown interrupts that\n"
		      "/proc/interrupts and the tlb:tlb_flush tracepoint "
		      "report for it (an idle\nbaseline subtracted), runs the "
		      "same shape in the simulator and prints both\nper "
		      "operation with their ratio.  Needs root for the "
		      "tracepoint.\n"))
		return 0;
	if (p.watch) {
		for (int i = 0; i < argc; i++)
			if (strcmp(argv[i], "--watch") && strncmp(argv[i], "--watch=", 8) &&
			    strcmp(argv[i], "--format") && strncmp(argv[i], "--format=", 9) &&
			    (i == 0 || (strcmp(argv[i - 1], "--watch") &&
					strcmp(argv[i - 1], "--format"))))
				usage_error("host --watch watches the whole host: it "
					    "takes --format only, not %s", argv[i]);
		return host_watch(p.watch, p.o.format);
	}
	w = cli_workload(p.o.workload);
	twin = twin_find(w->name);
	if (!twin) {
		size_t n;
		const struct twin *all = twin_all(&n);
		char list[512] = "";
		size_t off = 0;

		for (size_t i = 0; i < n; i++)
			off += (size_t)snprintf(list + off, sizeof(list) - off,
						"%s%s", i ? ", " : "", all[i].workload);
		usage_error("workload %s has no native twin (twins: %s)", w->name,
			    list);
	}
	if (p.o.ncpus > HOST_TWIN_MAX)
		usage_error("--cpus %u: a native twin runs on at most %d host CPUs",
			    p.o.ncpus, HOST_TWIN_MAX);
	cli_finish(&p.o, w);
	{
		struct twin_run probe = { .ncpus = p.o.ncpus, .w = w, .o = &p.o };

		if (twin->refuse && twin->refuse(&probe, why, sizeof(why)))
			usage_error("%s", why);
	}
	have = host_cpus(pu, p.o.ncpus);
	if (have < p.o.ncpus)
		snprintf(m.why, sizeof(m.why), "this host lets shootdown run on %u "
			 "CPUs; the twin needs %u", have, p.o.ncpus);
	else
		measure(twin, &p.o, w, pu, &m);
	tp = m.ok && !m.why[0];
	if (p.o.format == FMT_TABLE) {
		fprintf(stderr, "simulating %s on %u CPUs...\n", w->name, p.o.ncpus);
	}
	r = calloc(1, sizeof(*r));
	if (!r)
		usage_error("out of memory");
	p.o.trace_counts = true;	/* the tracepoint's reasons, predicted */
	if (wl_execute(w, &p.o, p.o.policy, r, err, sizeof(err))) {
		fprintf(stderr, "%s: host: the simulation failed: %s\n", cli_prog, err);
		free(r);
		return EXIT_INCOMPLETE;
	}
	if (p.o.format == FMT_JSON)
		host_json(w, &p.o, pu, &m, r, tp);
	else
		host_table(w, twin, &p.o, pu, &m, r, tp);
	free(r);
	return EXIT_CLEAN;
}
