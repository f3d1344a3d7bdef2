/* SPDX-License-Identifier: MIT */
/* Workloads of the shootdown CLI: munmap, mprotect and the random check mix. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = (*s += 0x9e3779b97f4a7c15ull);

	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

static uint64_t rng_below(uint64_t *s, uint64_t n)
{
	return n ? rng_next(s) % n : 0;
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

/* shd_run_on() that keeps the first failure's text in ERRTXT. */
static int wl_run_on(struct shd_machine *m, unsigned first, unsigned n,
		     shd_task_fn fn, void *arg, char *errtxt, size_t len)
{
	struct tramp t = { fn, arg, 0, "" };
	int err = shd_run_on(m, first, n, trampoline, &t);

	if (err < 0 && t.failed && !errtxt[0])
		snprintf(errtxt, len, "%s", t.text);
	return err;
}

/*
 * The CPU roles of the munmap and mprotect workloads, like a process whose
 * threads run on some CPUs of a machine that also runs something else:
 *   busy   threads of mm A doing the work (at least 1, half the CPUs)
 *   lazy   CPUs that ran A and went idle: lazy TLB, still in mm_cpumask
 *   other  CPUs that ran A and then another process B: out of A's mask
 */
struct roles {
	unsigned busy, lazy, other;
};

static struct roles roles_for(unsigned ncpus)
{
	struct roles r;

	r.busy = ncpus / 2 ? ncpus / 2 : 1;
	r.lazy = (ncpus - r.busy) / 2;
	r.other = ncpus - r.busy - r.lazy;
	return r;
}

#define WL_BASE	(1ull << 30)		/* aligned for every page size */
#define WL_REGION_PAGES 8		/* pages each busy thread maps */
#define WL_SPAN_PAGES 16		/* anchor + region, per CPU */

struct shared_wl {
	struct shd_mm *a, *b;
	uint64_t page;
	uint64_t ops_per_cpu;
	uint64_t seed;
	unsigned mode;			/* 0 munmap, 1 mprotect */
	uint64_t failures;
	char note[160];
};

static uint64_t region_of(const struct shared_wl *w, unsigned cpu)
{
	return WL_BASE + (uint64_t)cpu * WL_SPAN_PAGES * w->page;
}

/* Everyone runs A once: maps an anchor page in its span, touches it. */
static int warm_a(struct shd_cpu *cpu, void *arg)
{
	struct shared_wl *w = arg;
	uint64_t base = region_of(w, shd_cpu_id(cpu));
	int err;

	if ((err = shd_switch_mm(cpu, w->a)))
		return err;
	/* The anchor keeps the page table alive (no freed_tables flushes),
	 * as neighbouring mappings do in a real process. */
	if ((err = shd_mmap(cpu, w->a, base, w->page, SHD_PROT_READ | SHD_PROT_WRITE)))
		return err;
	return shd_store(cpu, base, shd_cpu_id(cpu));
}

static int run_b(struct shd_cpu *cpu, void *arg)
{
	struct shared_wl *w = arg;
	uint64_t base = region_of(w, shd_cpu_id(cpu));
	int err;

	if ((err = shd_switch_mm(cpu, w->b)))
		return err;
	if ((err = shd_mmap(cpu, w->b, base, w->page, SHD_PROT_READ | SHD_PROT_WRITE)))
		return err;
	return shd_store(cpu, base, 1);
}

__attribute__((format(printf, 2, 3)))
static void note_failure(struct shared_wl *w, const char *fmt, ...)
{
	va_list ap;

	if (__atomic_fetch_add(&w->failures, 1, __ATOMIC_RELAXED) == 0) {
		va_start(ap, fmt);
		vsnprintf(w->note, sizeof(w->note), fmt, ap);
		va_end(ap);
	}
}

static int busy_loop(struct shd_cpu *cpu, void *arg)
{
	struct shared_wl *w = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t base = region_of(w, id) + w->page;	/* after the anchor */
	uint64_t len = WL_REGION_PAGES * w->page;
	int err;

	if ((err = shd_switch_mm(cpu, w->a)))
		return err;
	if (w->mode == 1 &&
	    (err = shd_mmap(cpu, w->a, base, len, SHD_PROT_READ | SHD_PROT_WRITE)))
		return err;
	for (uint64_t i = 0; i < w->ops_per_cpu; i++) {
		uint64_t tag = (uint64_t)id << 32 | i;

		if (w->mode == 0) {
			if ((err = shd_mmap(cpu, w->a, base, len,
					    SHD_PROT_READ | SHD_PROT_WRITE)))
				return err;
			for (uint64_t p = 0; p < WL_REGION_PAGES; p++)
				if ((err = shd_store(cpu, base + p * w->page, tag)))
					return err;
			if ((err = shd_munmap(cpu, w->a, base, len)))
				return err;
		} else {
			unsigned prot = (i & 1) ? SHD_PROT_READ :
					SHD_PROT_READ | SHD_PROT_WRITE;

			if ((err = shd_mprotect(cpu, w->a, base, len, prot)))
				return err;
			for (uint64_t p = 0; p < WL_REGION_PAGES; p++) {
				uint64_t va = base + p * w->page, v = 0;

				if (prot & SHD_PROT_WRITE) {
					err = shd_store(cpu, va, tag);
				} else {
					err = shd_load(cpu, va, &v);
					/* Read-only now: a store that works went
					 * through a stale writable translation. */
					if (!err && p == 0) {
						int st = shd_store(cpu, va, tag);

						if (st == 0)
							note_failure(w, "cpu %u: store to read-only "
								     "0x%" PRIx64 " succeeded (stale "
								     "writable translation)", id, va);
						else if (st != -EACCES)
							err = st;
					}
				}
				if (err)
					return err;
			}
		}
	}
	return 0;
}

static int run_roles(struct shd_machine *m, const struct cli_opts *o,
		     struct wl_result *r, unsigned mode)
{
	unsigned n = shd_machine_ncpus(m);
	struct roles ro = roles_for(n);
	struct shared_wl w = { 0 };
	uint64_t t0;
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.mode = mode;
	w.seed = o->seed;
	w.ops_per_cpu = (o->ops + ro.busy - 1) / ro.busy;
	if ((err = shd_mm_create(m, &w.a)) || (err = shd_mm_create(m, &w.b)))
		return err;
	if ((err = wl_run_on(m, 0, n, warm_a, &w, r->errtxt, sizeof(r->errtxt))))
		goto out;
	if (ro.other && (err = wl_run_on(m, ro.busy + ro.lazy, ro.other, run_b,
					 &w, r->errtxt, sizeof(r->errtxt))))
		goto out;
	/* No reset after the warm-up: it sends no IPIs and flushes nothing,
	 * and keeping its faults and misses makes the counters match what
	 * perf counts on the USDT probes for the whole run. */
	t0 = now_ns();
	err = wl_run_on(m, 0, ro.busy, busy_loop, &w, r->errtxt, sizeof(r->errtxt));
	r->wall_ns = now_ns() - t0;
	r->ops = w.ops_per_cpu * ro.busy;
	r->check_failures = w.failures;
	snprintf(r->note, sizeof(r->note), "%s", w.note);
out:
	shd_mm_destroy(w.a);
	shd_mm_destroy(w.b);
	return err;
}

static int wl_munmap(struct shd_machine *m, const struct cli_opts *o,
		     struct wl_result *r)
{
	return run_roles(m, o, r, 0);
}

static int wl_mprotect(struct shd_machine *m, const struct cli_opts *o,
		       struct wl_result *r)
{
	return run_roles(m, o, r, 1);
}

/* ---- random: the check mix ---- */

#define RND_MMS 3
#define RND_WINDOW 64			/* pages per mm, shared by all CPUs */
#define RND_KSLOT 4			/* vmap pages per CPU */

struct rnd {
	struct shd_mm *mm[RND_MMS];
	uint64_t page;
	uint64_t ops;			/* in all; CPU i does its share */
	uint64_t seed;
	unsigned ncpus;
	uint64_t unexpected;		/* library errors the mix should not get */
	char note[160];
};

static uint64_t rnd_base(const struct rnd *r)
{
	(void)r;
	return 0x40000000ull;
}

static uint64_t kslot(const struct rnd *r, unsigned cpu)
{
	return SHD_KERNEL_BASE + (uint64_t)cpu * RND_KSLOT * r->page;
}

static bool expected_err(int err)
{
	return err == 0 || err == -EFAULT || err == -EACCES || err == -EEXIST ||
	       err == -ENOMEM;
}

static void rnd_note(struct rnd *r, const char *what, int err)
{
	if (__atomic_fetch_add(&r->unexpected, 1, __ATOMIC_RELAXED) == 0)
		snprintf(r->note, sizeof(r->note), "%s: %s (%s)", what,
			 shd_strerror(err), shd_last_error());
}

/*
 * One CPU's share of the check mix.  Accesses favour a small per-CPU hot set
 * so translations stay cached long enough for a missed flush to be used;
 * lazy spells last several operations (kernel work only), so flushes really
 * do skip lazy CPUs while they hold stale entries.
 */
static int random_task(struct shd_cpu *cpu, void *arg)
{
	static const unsigned prots[] = {
		SHD_PROT_READ, SHD_PROT_READ | SHD_PROT_WRITE,
		SHD_PROT_READ | SHD_PROT_WRITE, SHD_PROT_READ | SHD_PROT_EXEC,
		SHD_PROT_READ | SHD_PROT_WRITE | SHD_PROT_EXEC, SHD_PROT_NONE,
	};
	struct rnd *r = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t s = r->seed * 0x100000001b3ull + id * 0x9e3779b97f4a7c15ull + 1;
	uint64_t base = rnd_base(r), page = r->page;
	uint64_t hot[8];
	struct shd_mm *cur = r->mm[rng_below(&s, RND_MMS)];
	bool lazy = false, kmapped = false;
	int err = 0;

	uint64_t my_ops = r->ops / r->ncpus + (id < r->ops % r->ncpus);

	for (unsigned h = 0; h < 8; h++)
		hot[h] = rng_below(&s, RND_WINDOW);
	if ((err = shd_switch_mm(cpu, cur)))
		return err;
	for (uint64_t i = 0; i < my_ops; i++) {
		uint64_t dice = rng_below(&s, 1000);
		uint64_t pg = rng_below(&s, 4) ? hot[rng_below(&s, 8)] :
			      rng_below(&s, RND_WINDOW);
		uint64_t va = base + pg * page + 8 * rng_below(&s, page / 8);
		uint64_t npages = 1 + rng_below(&s, 8), v;
		const char *what = "op";

		if (rng_below(&s, 100) == 0)
			hot[rng_below(&s, 8)] = rng_below(&s, RND_WINDOW);
		if (pg + npages > RND_WINDOW)
			npages = RND_WINDOW - pg;
		if (lazy) {
			/* A kernel thread: kernel work until it ends. */
			if (rng_below(&s, 16) == 0) {
				what = "switch_mm(lazy exit)";
				err = shd_switch_mm(cpu, cur);
				lazy = false;
			} else if (kmapped && dice < 500) {
				what = "kernel store";
				err = shd_store(cpu, kslot(r, id) +
						rng_below(&s, RND_KSLOT) * page, i);
			} else {
				what = "kernel load";
				err = shd_load(cpu, kslot(r, (unsigned)rng_below(&s, r->ncpus)) +
					       rng_below(&s, RND_KSLOT) * page, &v);
			}
			goto check;
		}
		if (dice < 330) {
			what = "store";
			err = shd_store(cpu, va, (uint64_t)id << 48 | i);
		} else if (dice < 560) {
			what = "load";
			err = shd_load(cpu, va, &v);
		} else if (dice < 600) {
			what = "fetch";
			err = shd_fetch(cpu, va, &v);
		} else if (dice < 670) {
			what = "mmap";
			err = shd_mmap(cpu, cur, base + pg * page, npages * page,
				       prots[rng_below(&s, 5)]);
		} else if (dice < 720) {
			what = "munmap";
			if (rng_below(&s, 4) == 0)	/* sometimes over the ceiling */
				npages = RND_WINDOW - pg;
			err = shd_munmap(cpu, cur, base + pg * page, npages * page);
		} else if (dice < 780) {
			what = "mprotect";
			err = shd_mprotect(cpu, cur, base + pg * page, npages * page,
					   prots[rng_below(&s, 6)]);
		} else if (dice < 810) {
			what = "madvise";
			err = shd_madvise_dontneed(cpu, cur, base + pg * page,
						   npages * page);
		} else if (dice < 850) {
			what = "switch_mm";
			cur = r->mm[rng_below(&s, RND_MMS)];
			err = shd_switch_mm(cpu, cur);
		} else if (dice < 880) {
			what = "enter_lazy_tlb";
			shd_enter_lazy_tlb(cpu);
			lazy = true;
		} else if (dice < 900) {
			what = "flush_tlb_page";
			err = shd_flush_tlb_page(cpu, cur, base + pg * page);
		} else if (dice < 910) {
			what = "flush_tlb_range";
			err = shd_flush_tlb_range(cpu, cur, base + pg * page,
						  base + (pg + npages) * page);
		} else if (dice < 913) {
			what = "flush_tlb_mm";
			err = shd_flush_tlb_mm(cpu, cur);
		} else if (dice < 914) {
			what = "flush_tlb_all";
			err = shd_flush_tlb_all(cpu);
		} else if (dice < 930) {
			what = kmapped ? "vunmap" : "vmap";
			err = kmapped ? shd_vunmap(cpu, kslot(r, id), RND_KSLOT * page)
				      : shd_vmap(cpu, kslot(r, id), RND_KSLOT * page);
			kmapped = !kmapped;
		} else if (dice < 980) {
			what = "kernel load";
			err = shd_load(cpu, kslot(r, (unsigned)rng_below(&s, r->ncpus)) +
				       rng_below(&s, RND_KSLOT) * page, &v);
		} else {
			what = "kernel store";
			if (kmapped)
				err = shd_store(cpu, kslot(r, id) +
						rng_below(&s, RND_KSLOT) * page, i);
		}
check:
		if (err == -ETIMEDOUT)
			return err;
		if (!expected_err(err))
			rnd_note(r, what, err);
		err = 0;
	}
	if (kmapped)
		shd_vunmap(cpu, kslot(r, id), RND_KSLOT * page);
	return 0;
}

static int wl_random(struct shd_machine *m, const struct cli_opts *o,
		     struct wl_result *res)
{
	struct rnd r = { 0 };
	unsigned n = shd_machine_ncpus(m);
	uint64_t t0;
	int err = 0;

	r.page = 1ull << shd_machine_config(m)->page_shift;
	r.seed = o->seed;
	r.ncpus = n;
	r.ops = o->ops;
	for (unsigned i = 0; i < RND_MMS; i++)
		if ((err = shd_mm_create(m, &r.mm[i])))
			return err;
	t0 = now_ns();
	err = wl_run_on(m, 0, n, random_task, &r, res->errtxt, sizeof(res->errtxt));
	res->wall_ns = now_ns() - t0;
	res->ops = r.ops;
	res->check_failures = r.unexpected;
	snprintf(res->note, sizeof(res->note), "%s", r.note);
	for (unsigned i = 0; i < RND_MMS; i++)
		shd_mm_destroy(r.mm[i]);
	return err;
}

static const struct workload workloads[] = {
	{ "munmap", "threads of one mm map, touch and unmap 8 pages each; "
	  "the other CPUs are lazy or run another mm", 4000, 1, wl_munmap },
	{ "mprotect", "threads of one mm flip their 8 pages between RW and RO "
	  "and touch them; a store while RO must fault", 4000, 1, wl_mprotect },
	{ "random", "random map/unmap/protect/madvise/access/switch/lazy/flush/"
	  "vmap on all CPUs over 3 shared mms (the check mix)", 200000, 1,
	  wl_random },
};

const struct workload *wl_all(size_t *count)
{
	*count = sizeof(workloads) / sizeof(workloads[0]);
	return workloads;
}

const struct workload *wl_find(const char *name)
{
	size_t n;
	const struct workload *w = wl_all(&n);

	for (size_t i = 0; name && i < n; i++)
		if (strcmp(w[i].name, name) == 0)
			return &w[i];
	return NULL;
}

int cli_policy(const struct cli_opts *o, const char *name,
	       struct shd_policy *out)
{
	int err = shd_policy_preset(name, out);

	for (unsigned i = 0; !err && i < o->nsets; i++) {
		char kv[sizeof(o->sets[0])], *eq;

		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		eq = strchr(kv, '=');	/* checked when --set was parsed */
		*eq = 0;
		err = shd_policy_set(out, kv, eq + 1);
	}
	return err;
}

int wl_execute(const struct workload *w, const struct cli_opts *o,
	       const char *policy, struct wl_result *r, char *errtxt,
	       size_t errlen)
{
	struct shd_config cfg = o->cfg;
	struct shd_machine *m;
	int err;

	memset(r, 0, sizeof(*r));
	errtxt[0] = 0;
	if ((err = cli_policy(o, policy, &cfg.policy)))
		goto fail;
	if ((err = shd_machine_create(&cfg, &m)))
		goto fail;
	err = w->run(m, o, r);
	if (err == -ETIMEDOUT) {
		/* A CPU is wedged; the machine cannot be torn down safely. */
		shd_machine_stats(m, &r->stats);
		snprintf(errtxt, errlen, "%s", r->errtxt);
		return err;
	}
	shd_machine_stats(m, &r->stats);
	if (err && !errtxt[0])
		snprintf(errtxt, errlen, "%s: %s", shd_strerror(err),
			 r->errtxt[0] ? r->errtxt : shd_last_error());
	/* Violations are printed by the caller from this machine. */
	{
		struct shd_violation v;

		if (shd_machine_violations(m, &v, 1))
			snprintf(errtxt, errlen, "%s", v.text);
	}
	shd_machine_destroy(m);
	return err;
fail:
	/* Policy, knob or machine configuration rejected: bad input. */
	snprintf(errtxt, errlen, "%s", shd_last_error());
	return err == -ENOMEM ? err : WL_BAD_INPUT;
}
