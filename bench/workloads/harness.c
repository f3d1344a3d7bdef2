/* SPDX-License-Identifier: MIT */
/* The harness every workload shares: time, barriers, running tasks on the
 * machine's CPUs, the progress ticker, and wl_execute (one run, one machine). */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "workload.h"

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

uint64_t wl_median(uint64_t *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_u64);
	return v[n / 2];
}

uint64_t wl_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void wl_note_first(uint64_t *count, char *note, size_t len, const char *fmt,
		   ...)
{
	va_list ap;

	if (__atomic_fetch_add(count, 1, __ATOMIC_RELAXED) == 0) {
		va_start(ap, fmt);
		vsnprintf(note, len, fmt, ap);
		va_end(ap);
	}
}

/*
 * Tasks report errors by return value, but the text that explains one
 * (shd_last_error()) lives on the CPU thread that failed: the trampoline
 * copies the first one out for the controlling thread.
 */
struct tramp {
	shd_task_fn fn;
	void *arg;
	int32_t failed;
	char text[256];
};

static int trampoline(struct shd_cpu *cpu, void *arg)
{
	struct tramp *t = arg;
	int err = t->fn(cpu, t->arg);

	if (err < 0 && !__atomic_exchange_n(&t->failed, 1, __ATOMIC_ACQ_REL))
		snprintf(t->text, sizeof(t->text), "cpu %u: %s", shd_cpu_id(cpu),
			 shd_last_error());
	return err;
}

int wl_run_on(struct shd_machine *m, unsigned first, unsigned n,
	      shd_task_fn fn, void *arg, char *errtxt, size_t len)
{
	struct tramp t = { fn, arg, 0, "" };
	int err = shd_run_on(m, first, n, trampoline, &t);

	if (err < 0 && t.failed && !errtxt[0])
		snprintf(errtxt, len, "%s", t.text);
	return err;
}

int wl_check_frames(const struct wl_opts *o, uint64_t need, const char *why,
		    char *err, size_t len)
{
	/* Less the zero page and a little room for vmap and page faults
	 * racing with frees. */
	if (need + 16 <= o->cfg.nframes)
		return 0;
	snprintf(err, len, "%s needs about %" PRIu64 " frames (%s) and the "
		 "machine has %" PRIu64 ": lower the knobs or raise --frames",
		 o->workload, need + 16, why, o->cfg.nframes);
	return -1;
}

unsigned wl_load_tasks(unsigned ncpus, uint64_t load)
{
	return (unsigned)((ncpus * load + 99) / 100);
}

int wl_run_timed(struct shd_machine *m, unsigned n, shd_task_fn fn, void *arg,
		 struct wl_result *res)
{
	uint64_t t0 = wl_now_ns();
	int err = wl_run_on(m, 0, n, fn, arg, res->errtxt, sizeof(res->errtxt));

	res->wall_ns = wl_now_ns() - t0;
	return err;
}

void wl_barrier_wait(struct shd_cpu *cpu, struct wl_barrier *b, uint64_t gen)
{
	if (__atomic_add_fetch(&b->arrived, 1, __ATOMIC_ACQ_REL) == (int32_t)b->n) {
		__atomic_store_n(&b->arrived, 0, __ATOMIC_RELAXED);
		/* Everyone stops after the same round (release below). */
		if (__atomic_load_n(&b->stop, __ATOMIC_ACQUIRE))
			__atomic_store_n(&b->halt, gen + 1, __ATOMIC_RELAXED);
		__atomic_store_n(&b->round, gen + 1, __ATOMIC_RELEASE);
		return;
	}
	while (__atomic_load_n(&b->round, __ATOMIC_ACQUIRE) <= gen) {
		shd_cpu_poll(cpu);
		sched_yield();
	}
}

/*
 * Wait until *P >= WANT, taking IPIs (the other side may wait for us).
 * Returns -ECANCELED once a CPU that failed has set *ABORT.
 */
int wl_lockstep_wait(struct shd_cpu *cpu, const uint64_t *p, uint64_t want,
		     const int32_t *abort)
{
	while (__atomic_load_n(p, __ATOMIC_ACQUIRE) < want) {
		if (__atomic_load_n(abort, __ATOMIC_ACQUIRE))
			return -ECANCELED;
		shd_cpu_poll(cpu);
		sched_yield();	/* 2 host cores may carry many CPUs */
	}
	return 0;
}

/* A task's error: release every CPU waiting on this one, then report it. */
int wl_lockstep_fail(int32_t *abort, int err)
{
	if (err && err != -ECANCELED)
		__atomic_store_n(abort, 1, __ATOMIC_RELEASE);
	return err == -ECANCELED ? 0 : err;
}

int wl_policy(const struct wl_opts *o, const char *name,
	      struct shd_policy *out)
{
	int err = -ENOENT;

	for (unsigned i = 0; err == -ENOENT && i < o->nloaded; i++)
		if (!strcmp(o->loaded[i]->name, name))
			err = shd_policy_from_ops(o->loaded[i], out);
	if (err == -ENOENT)
		err = shd_policy_preset(name, out);
	for (unsigned i = 0; !err && i < o->nsets; i++) {
		char kv[sizeof(o->sets[0])], *eq;

		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		eq = strchr(kv, '=');	/* checked when --set was parsed */
		*eq = 0;
		err = shd_policy_set(out, kv, eq + 1);
		if (err == -ENOENT)	/* a cost key or a workload knob */
			err = 0;
	}
	return err;
}

/*
 * A progress line on stderr for runs over a second, when stderr is a
 * terminal (quiet otherwise): a ticker thread, cleared when the run ends.
 */
struct ticker {
	pthread_t thread;
	int32_t stop;
	const char *what;
	const char *policy;
	unsigned cpus;
	bool running;
};

static void *ticker_main(void *arg)
{
	struct ticker *t = arg;
	uint64_t t0 = wl_now_ns();
	bool shown = false;

	while (!__atomic_load_n(&t->stop, __ATOMIC_ACQUIRE)) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		uint64_t ms = (wl_now_ns() - t0) / 1000000;

		nanosleep(&ts, NULL);
		if (ms >= 1000) {
			fprintf(stderr, "\r%s on %u CPUs under %s: %" PRIu64 ".%" PRIu64
				" s   ", t->what, t->cpus, t->policy, ms / 1000,
				ms % 1000 / 100);
			shown = true;
		}
	}
	if (shown)
		fprintf(stderr, "\r\033[K");
	return NULL;
}

static void ticker_start(struct ticker *t, const char *what,
			 const char *policy, unsigned cpus)
{
	memset(t, 0, sizeof(*t));
	t->what = what;
	t->policy = policy;
	t->cpus = cpus;
	if (isatty(2) && getenv("SHD_NO_PROGRESS") == NULL)
		t->running = pthread_create(&t->thread, NULL, ticker_main, t) == 0;
}

static void ticker_stop(struct ticker *t)
{
	if (!t->running)
		return;
	__atomic_store_n(&t->stop, 1, __ATOMIC_RELEASE);
	pthread_join(t->thread, NULL);
	t->running = false;
}

/* The seeded scheduler's account, once its teardown is in the log too. */
static void keep_schedule(struct shd_machine *m, const struct wl_opts *o,
			  struct wl_result *r)
{
	const struct shd_decision *d;
	size_t n;

	shd_machine_stop(m);
	n = shd_sched_decisions(m, &d);
	r->sched_steps = shd_sched_steps(m);
	r->sched_switches = n;
	r->sched_preemptions = shd_sched_preemptions(m);
	r->sched_diverged = shd_sched_diverged(m);
	snprintf(r->sched_divergence, sizeof(r->sched_divergence), "%s",
		 shd_sched_divergence(m));
	if (o->keep_log && n && (r->sched_log = malloc(n * sizeof(*d))))
		memcpy(r->sched_log, d, n * sizeof(*d));
}

/* --format interrupts: each CPU's TLB and CAL lines. */
static void irq_lines(struct shd_machine *m, struct wl_result *r)
{
	unsigned n = shd_machine_ncpus(m);
	struct shd_stats one;

	if (!(r->irq_lines = calloc(2 * (size_t)n, sizeof(*r->irq_lines))))
		return;
	r->irq_ncpus = n;
	for (unsigned c = 0; c < n; c++) {
		if (shd_machine_cpu_stats(m, c, &one))
			continue;
		r->irq_lines[c] = one.tlb_interrupts;
		r->irq_lines[n + c] = one.ipis_received;
	}
}

/* --trace-out: write the run's tlb_flush events, say what went there. */
static void trace_out(struct shd_machine *m, const struct wl_opts *o)
{
	uint64_t counts[SHD_TLB_FLUSH__NR_REASONS], dropped = 0;
	long n;

	(void)shd_trace_counts(m, counts, &dropped);
	if (fseek(o->trace_fp, 0, SEEK_SET) == 0)	/* a file: the last run */
		(void)ftruncate(fileno(o->trace_fp), 0);
	n = shd_trace_write(m, o->trace_fp);
	if (n < 0) {
		fprintf(stderr, "--trace-out %s: %s\n", o->trace_out,
			strerror((int)-n));
		return;
	}
	fprintf(stderr, "trace-out: %ld tlb_flush events to %s (", n,
		o->trace_out);
	for (int k = 0; k < SHD_TLB_FLUSH__NR_REASONS; k++)
		fprintf(stderr, "%s%s %" PRIu64, k ? ", " : "",
			shd_tlb_flush_reason_name(k), counts[k]);
	if (dropped)
		fprintf(stderr, "); %" PRIu64 " DROPPED past the per-CPU cap: "
			"the file is incomplete\n", dropped);
	else
		fprintf(stderr, "), none dropped\n");
	shd_trace_stop(m);
}

int wl_execute(const struct workload *w, const struct wl_opts *o,
	       const char *policy, struct wl_result *r, char *errtxt,
	       size_t errlen)
{
	struct shd_config cfg = o->cfg;
	struct shd_machine *m;
	int err;

	memset(r, 0, sizeof(*r));
	errtxt[0] = 0;
	if (w->warmup)
		r->warmup_ops = w->warmup(o, r->warmup_why, sizeof(r->warmup_why));
	if ((err = wl_policy(o, policy, &cfg.policy)))
		goto fail;
	/* A fault that cannot fire under this policy would pass vacuously. */
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		if (((cfg.faults >> f) & 1) &&
		    (err = shd_fault_applies(&cfg.policy, &cfg.arch,
					     (enum shd_fault)f)))
			goto fail;
	if ((err = shd_machine_create(&cfg, &m)))
		goto fail;
	if ((o->trace_fp || o->trace_counts) && (err = shd_trace_start(m, 0))) {
		snprintf(errtxt, errlen, "--trace-out: %s", shd_last_error());
		shd_machine_destroy(m);
		return err == -ENOMEM ? err : WL_BAD_INPUT;
	}
	{
		struct ticker tk = { 0 };

		/* The wis format prints live lines of its own. */
		if (o->format != FMT_WIS)
			ticker_start(&tk, w->name, policy, cfg.ncpus);
		err = w->run(m, o, r);
		ticker_stop(&tk);
	}
	r->status = err;
	shd_machine_stats(m, &r->stats);
	if (o->format == FMT_INTERRUPTS)
		irq_lines(m, r);
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		r->fault_fired[f] = shd_fault_firings(m, (enum shd_fault)f);
	{
		uint64_t n = shd_machine_violations(m, r->violation,
						    WL_MAX_VIOLATIONS);

		r->nviolations = n < WL_MAX_VIOLATIONS ? (unsigned)n :
				 WL_MAX_VIOLATIONS;
	}
	if (err == -ETIMEDOUT && !cfg.sched.mode) {
		/* A CPU is wedged; the machine cannot be torn down safely. */
		snprintf(errtxt, errlen, "%s", r->errtxt);
		return err;
	}
	if (o->trace_counts)
		r->traced = shd_trace_counts(m, r->trace_reason,
					     &r->trace_dropped) == 0;
	if (o->trace_fp)	/* a failed run's trace is the one wanted */
		trace_out(m, o);
	else if (o->trace_counts)
		shd_trace_stop(m);
	if (err && !errtxt[0])
		snprintf(errtxt, errlen, "%s: %s", shd_strerror(err),
			 r->errtxt[0] ? r->errtxt : shd_last_error());
	/* The first violation is the one the caller reports. */
	if (r->nviolations)
		snprintf(errtxt, errlen, "%s", r->violation[0].text);
	if (cfg.sched.mode == SHD_SCHED_SEEDED)
		keep_schedule(m, o, r);
	shd_machine_destroy(m);
	return err;
fail:
	/* Policy, knob or machine configuration rejected: bad input. */
	snprintf(errtxt, errlen, "%s", shd_last_error());
	return err == -ENOMEM ? err : WL_BAD_INPUT;
}
