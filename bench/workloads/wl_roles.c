/* SPDX-License-Identifier: MIT */
/* Workloads munmap and mprotect: busy, lazy and other CPUs of one mm. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "workload.h"

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

enum { K_ROLES_PAGES, K_ROLES_STALL_MS };	/* knobs of munmap and mprotect */

static const struct wl_knob roles_knobs[] = {
	{ "pages", "pages each busy thread maps per operation", 8, 1, 512 },
	{ "stall_ms", "with 2+ busy CPUs, the last first computes this long "
	  "without taking interrupts (a CPU that does not answer: the "
	  "watchdog's test)", 0, 0, 3600000 },
	{ NULL, NULL, 0, 0, 0 },
};

struct shared_wl {
	struct shd_mm *a, *b;
	uint64_t page;
	uint64_t npages;		/* per busy thread, after its anchor */
	uint64_t ops_per_cpu;
	uint64_t seed;
	unsigned mode;			/* 0 munmap, 1 mprotect */
	unsigned stall_cpu;		/* computes stall_ns before its ops */
	uint64_t stall_ns;
	int stalling;			/* set once stall_cpu is about to */
	uint64_t failures;
	char note[160];
};

static uint64_t region_of(const struct shared_wl *w, unsigned cpu)
{
	return WL_BASE + (uint64_t)cpu * (w->npages + 1) * w->page;
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

static int busy_loop(struct shd_cpu *cpu, void *arg)
{
	struct shared_wl *w = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t base = region_of(w, id) + w->page;	/* after the anchor */
	uint64_t len = w->npages * w->page;
	int err;

	if ((err = shd_switch_mm(cpu, w->a)))
		return err;
	/* In A's mask and not lazy: a flush of A must wait for us.  The
	 * others start once we do, or (host threads) they could all be done
	 * before this thread runs, flushing a lazy CPU they skip. */
	if (w->stall_ns && id == w->stall_cpu) {
		/* Release: pairs with the acquire below (we are in A). */
		__atomic_store_n(&w->stalling, 1, __ATOMIC_RELEASE);
		if ((err = shd_cpu_compute(cpu, w->stall_ns)))
			return err;
	} else if (w->stall_ns) {
		while (!__atomic_load_n(&w->stalling, __ATOMIC_ACQUIRE))
			shd_cpu_poll(cpu);
	}
	if (w->mode == 1 &&
	    (err = shd_mmap(cpu, w->a, base, len, SHD_PROT_READ | SHD_PROT_WRITE)))
		return err;
	for (uint64_t i = 0; i < w->ops_per_cpu; i++) {
		uint64_t tag = (uint64_t)id << 32 | i;

		if (w->mode == 0) {
			if ((err = shd_mmap(cpu, w->a, base, len,
					    SHD_PROT_READ | SHD_PROT_WRITE)))
				return err;
			for (uint64_t p = 0; p < w->npages; p++)
				if ((err = shd_store(cpu, base + p * w->page, tag)))
					return err;
			if ((err = shd_munmap(cpu, w->a, base, len)))
				return err;
		} else {
			unsigned prot = (i & 1) ? SHD_PROT_READ :
					SHD_PROT_READ | SHD_PROT_WRITE;

			if ((err = shd_mprotect(cpu, w->a, base, len, prot)))
				return err;
			for (uint64_t p = 0; p < w->npages; p++) {
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
							wl_note_first(&w->failures, w->note,
								   sizeof(w->note),
								   "cpu %u: store to read-only "
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

static int run_roles(struct shd_machine *m, const struct wl_opts *o,
		     struct wl_result *r, unsigned mode)
{
	unsigned n = shd_machine_ncpus(m);
	struct roles ro = roles_for(n);
	struct shared_wl w = { 0 };
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.npages = o->knob[K_ROLES_PAGES];
	w.mode = mode;
	/* A lone busy CPU that stalls only delays itself. */
	w.stall_cpu = ro.busy - 1;
	w.stall_ns = ro.busy > 1 ? o->knob[K_ROLES_STALL_MS] * 1000000ull : 0;
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
	err = wl_run_timed(m, ro.busy, busy_loop, &w, r);
	r->ops = w.ops_per_cpu * ro.busy;
	r->check_failures = w.failures;
	snprintf(r->note, sizeof(r->note), "%s", w.note);
out:
	shd_mm_destroy(w.a);
	shd_mm_destroy(w.b);
	return err;
}

/*
 * IPIs per op climb towards busy - 1 over the first ops (--sched seeded;
 * within 5% of the long-run rate, munmap and mprotect alike, from about
 * 512 ops at 2 busy threads, 1024 at 4, 3072 at 8, 4096 at 16): 192 ops a
 * busy thread is a warm-up whose double is within the 5% at every count
 * measured.  One busy thread (2 or 3 CPUs) has no other to send IPIs to.
 */
static uint64_t roles_warmup(const struct wl_opts *o, char *why, size_t len)
{
	uint64_t busy = roles_for(o->ncpus).busy, w = 192 * busy;

	if (busy < 2)		/* no other busy CPU: nothing to settle */
		return 0;
	snprintf(why, len, "the IPIs per op of its %" PRIu64 " busy threads "
		 "settle over about %" PRIu64 " ops", busy, w);
	return w;
}

static int wl_munmap(struct shd_machine *m, const struct wl_opts *o,
		     struct wl_result *r)
{
	return run_roles(m, o, r, 0);
}

static int wl_mprotect(struct shd_machine *m, const struct wl_opts *o,
		       struct wl_result *r)
{
	return run_roles(m, o, r, 1);
}

const struct workload wl_def_munmap = {
	.name = "munmap",
	.help = "threads of one mm map, touch and unmap their pages; "
		"the other CPUs are lazy or run another mm",
	.default_ops = 4000,
	.min_cpus = 1,
	.run = wl_munmap,
	.knobs = roles_knobs,
	.check = NULL,
	.warmup = roles_warmup,
};

const struct workload wl_def_mprotect = {
	.name = "mprotect",
	.help = "threads of one mm flip their pages between RW and RO "
		"and touch them; a store while RO must fault",
	.default_ops = 4000,
	.min_cpus = 1,
	.run = wl_mprotect,
	.knobs = roles_knobs,
	.check = NULL,
	.warmup = roles_warmup,
};
