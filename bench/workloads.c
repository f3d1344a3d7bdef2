/* SPDX-License-Identifier: MIT */
/* Workloads of the shootdown CLI: munmap, mprotect and the random check mix. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <unistd.h>
#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

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

int wl_check_frames(const struct cli_opts *o, uint64_t need, const char *why,
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

enum { K_ROLES_PAGES };			/* knobs of munmap and mprotect */

static const struct wl_knob roles_knobs[] = {
	{ "pages", "pages each busy thread maps per operation", 8, 1, 512 },
	{ NULL, NULL, 0, 0, 0 },
};

struct shared_wl {
	struct shd_mm *a, *b;
	uint64_t page;
	uint64_t npages;		/* per busy thread, after its anchor */
	uint64_t ops_per_cpu;
	uint64_t seed;
	unsigned mode;			/* 0 munmap, 1 mprotect */
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

static int run_roles(struct shd_machine *m, const struct cli_opts *o,
		     struct wl_result *r, unsigned mode)
{
	unsigned n = shd_machine_ncpus(m);
	struct roles ro = roles_for(n);
	struct shared_wl w = { 0 };
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.npages = o->knob[K_ROLES_PAGES];
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
	err = wl_run_timed(m, ro.busy, busy_loop, &w, r);
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

/* ---- rangeflush: MMTests' tlbflush (Alex Shi's range-flush benchmark) ---- */

/*
 * CPU 0 unmaps a random range of range_min..range_max pages of a shared
 * region and maps it back, over and over; every other CPU reads pages of
 * its own hot set (hot pages, fitting its TLB) in between.  Each unmap must
 * reach the readers: page by page if the range is at most the ceiling,
 * otherwise as a full flush that throws their hot sets away, to be refilled
 * miss by miss.  To keep the counts independent of host scheduling the CPUs
 * go in lockstep: each reader makes exactly `accesses` reads per epoch, and
 * CPU 0 unmaps only when every reader is done with the epoch: the cost curve
 * over the ceiling then depends on the policy, not on luck.  (The remapped
 * pages fault back in on first read: the same faults at every ceiling.)
 */
enum { K_RF_PAGES, K_RF_HOT, K_RF_ACCESSES, K_RF_MIN, K_RF_MAX };

static const struct wl_knob rangeflush_knobs[] = {
	{ "pages", "pages in the shared region", 512, 16, 65536 },
	{ "hot", "pages each reader keeps reading (its TLB working set)", 32, 1, 4096 },
	{ "accesses", "reads per reader between two unmaps", 64, 1, 1000000 },
	{ "range_min", "smallest range unmapped, pages", 1, 1, 65536 },
	{ "range_max", "largest range unmapped, pages", 64, 1, 65536 },
	{ NULL, NULL, 0, 0, 0 },
};

#define RF_BASE (1ull << 30)

struct rf {
	struct shd_mm *mm;
	uint64_t page, pages, hot, accesses, rmin, rmax, ops, seed;
	unsigned ncpus;
	uint64_t epoch;			/* unmaps done; readers read once per */
	uint64_t *done;			/* per reader, 64 bytes apart: epochs read */
	int32_t *abort;			/* set by a CPU that fails: nobody waits */
};

static uint64_t *rf_done(struct rf *r, unsigned cpu)
{
	return &r->done[cpu * 8];
}

/*
 * Wait until *P >= WANT, taking IPIs (the other side may wait for us).
 * Returns -ECANCELED once a CPU that failed has set *ABORT.
 */
static int rf_wait(struct shd_cpu *cpu, const uint64_t *p, uint64_t want,
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
static int rf_fail(int32_t *abort, int err)
{
	if (err && err != -ECANCELED)
		__atomic_store_n(abort, 1, __ATOMIC_RELEASE);
	return err == -ECANCELED ? 0 : err;
}

static int rf_reader(struct shd_cpu *cpu, void *arg)
{
	struct rf *r = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t s = r->seed * 0x9e3779b97f4a7c15ull + id, first, v;
	int err;

	if ((err = shd_switch_mm(cpu, r->mm)))
		return rf_fail(r->abort, err);
	/* The hot set: consecutive pages, disjoint between readers while
	 * they fit, so no two readers race to fault the same page and the
	 * counts stay the same from run to run. */
	first = ((uint64_t)(id - 1) * r->hot) % (r->pages - r->hot + 1);
	for (uint64_t e = 0; e <= r->ops; e++) {
		if ((err = rf_wait(cpu, &r->epoch, e, r->abort)))
			return rf_fail(r->abort, err);
		for (uint64_t i = 0; i < r->accesses; i++) {
			uint64_t va = RF_BASE + (first + rng_below(&s, r->hot)) * r->page;

			err = shd_load(cpu, va, &v);
			if (err)	/* the region is always mapped between unmaps */
				return rf_fail(r->abort, err);
		}
		__atomic_store_n(rf_done(r, id), e + 1, __ATOMIC_RELEASE);
	}
	return 0;
}

static int rf_unmapper(struct shd_cpu *cpu, void *arg)
{
	struct rf *r = arg;
	uint64_t s = r->seed * 0x100000001b3ull + 7;
	int err;

	if ((err = shd_switch_mm(cpu, r->mm)))
		return rf_fail(r->abort, err);
	for (uint64_t i = 0; i < r->ops && !err; i++) {
		uint64_t n = r->rmin + rng_below(&s, r->rmax - r->rmin + 1);
		uint64_t at = rng_below(&s, r->pages - n + 1);
		uint64_t va = RF_BASE + at * r->page;

		for (unsigned c = 1; c < r->ncpus && !err; c++)	/* epoch i read */
			err = rf_wait(cpu, rf_done(r, c), i + 1, r->abort);
		if (!err)
			err = shd_munmap(cpu, r->mm, va, n * r->page);
		if (!err)
			err = shd_mmap(cpu, r->mm, va, n * r->page,
				       SHD_PROT_READ | SHD_PROT_WRITE);
		if (!err)
			__atomic_store_n(&r->epoch, i + 1, __ATOMIC_RELEASE);
	}
	return rf_fail(r->abort, err);
}

static int rf_map_all(struct shd_cpu *cpu, void *arg)
{
	struct rf *r = arg;
	int err;

	if ((err = shd_switch_mm(cpu, r->mm)))
		return err;
	return shd_mmap(cpu, r->mm, RF_BASE, r->pages * r->page,
			SHD_PROT_READ | SHD_PROT_WRITE);
}

static int rf_task(struct shd_cpu *cpu, void *arg)
{
	return shd_cpu_id(cpu) == 0 ? rf_unmapper(cpu, arg) : rf_reader(cpu, arg);
}

static int rangeflush_check(const struct cli_opts *o, char *err, size_t len)
{
	if (o->knob[K_RF_HOT] > o->knob[K_RF_PAGES] ||
	    o->knob[K_RF_MIN] > o->knob[K_RF_MAX] ||
	    o->knob[K_RF_MAX] > o->knob[K_RF_PAGES]) {
		snprintf(err, len, "rangeflush needs hot <= pages and range_min "
			 "<= range_max <= pages");
		return -1;
	}
	return 0;
}

static int wl_rangeflush(struct shd_machine *m, const struct cli_opts *o,
			 struct wl_result *res)
{
	struct rf r = { 0 };
	int err;

	r.page = 1ull << shd_machine_config(m)->page_shift;
	r.pages = o->knob[K_RF_PAGES];
	r.hot = o->knob[K_RF_HOT];
	r.accesses = o->knob[K_RF_ACCESSES];
	r.rmin = o->knob[K_RF_MIN];
	r.rmax = o->knob[K_RF_MAX];
	r.ops = o->ops;
	r.seed = o->seed;
	r.ncpus = shd_machine_ncpus(m);
	int32_t abort = 0;

	r.abort = &abort;
	r.done = calloc((size_t)r.ncpus * 8, sizeof(uint64_t));
	if (!r.done || (err = shd_mm_create(m, &r.mm))) {
		free(r.done);
		return -ENOMEM;
	}
	/* Map the whole region first (CPU 0), then run. */
	err = wl_run_on(m, 0, 1, rf_map_all, &r, res->errtxt, sizeof(res->errtxt));
	if (!err)
		err = wl_run_timed(m, r.ncpus, rf_task, &r, res);
	res->ops = r.ops;
	shd_mm_destroy(r.mm);
	free(r.done);
	return err;
}

/* ---- mmap_micro: LATR's microbenchmark ---- */

/*
 * CPU 0 maps `pages` pages; every CPU touches all of them (so every CPU
 * holds the translations and is in mm_cpumask, running the mm); CPU 0 then
 * munmaps them (madvise=1: MADV_DONTNEED), as LATR's mmap_micro times
 * munmap/madvise with N pinned threads: op_p50_ns is the median munmap
 * (or madvise) call, lat_* its shootdown.  Lockstep per operation, like
 * rangeflush.  Each mapping takes the next of MMU_SLOTS address ranges, as
 * mmap(NULL) would hand out a fresh range (under LATR the old one stays
 * reserved until every CPU has swept its flush).
 */
#define MMU_SLOTS 16
enum { K_MM_PAGES, K_MM_MADVISE };

static const struct wl_knob mmap_micro_knobs[] = {
	{ "pages", "pages mapped, touched by every CPU, then unmapped", 16, 1, 65536 },
	{ "madvise", "0: munmap (and map again); 1: MADV_DONTNEED", 0, 0, 1 },
	{ NULL, NULL, 0, 0, 0 },
};

struct mmu {
	struct shd_mm *mm;
	uint64_t page, pages, ops, madvise;
	unsigned ncpus;
	uint64_t epoch;			/* mappings made; touch once per */
	uint64_t *done;			/* per CPU, 64 bytes apart */
	uint64_t *op_ns;		/* CPU 0: each munmap's host time */
	int32_t abort;			/* a CPU failed: nobody waits */
};



static int mmu_task(struct shd_cpu *cpu, void *arg)
{
	struct mmu *u = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t len = u->pages * u->page;
	int err;

	if ((err = shd_switch_mm(cpu, u->mm)))
		return rf_fail(&u->abort, err);
	for (uint64_t e = 0; e < u->ops && !err; e++) {
		uint64_t base = RF_BASE + (u->madvise ? 0 : e % MMU_SLOTS) *
					  (len + u->page);

		if (id == 0) {
			if (e == 0 || !u->madvise)
				err = shd_mmap(cpu, u->mm, base, len,
					       SHD_PROT_READ | SHD_PROT_WRITE);
			if (err)
				break;
			__atomic_store_n(&u->epoch, e + 1, __ATOMIC_RELEASE);
		} else if ((err = rf_wait(cpu, &u->epoch, e + 1, &u->abort))) {
			break;
		}
		for (uint64_t p = 0; p < u->pages && !err; p++)
			err = shd_store(cpu, base + p * u->page, e);
		if (err)
			break;
		__atomic_store_n(&u->done[id * 8], e + 1, __ATOMIC_RELEASE);
		if (id != 0)
			continue;
		for (unsigned c = 1; c < u->ncpus && !err; c++)
			err = rf_wait(cpu, &u->done[c * 8], e + 1, &u->abort);
		if (!err) {
			uint64_t t0 = wl_now_ns();

			err = u->madvise ? shd_madvise_dontneed(cpu, u->mm, base, len)
					 : shd_munmap(cpu, u->mm, base, len);
			u->op_ns[e] = wl_now_ns() - t0;
		}
	}
	return rf_fail(&u->abort, err);
}

static int wl_mmap_micro(struct shd_machine *m, const struct cli_opts *o,
			 struct wl_result *res)
{
	struct mmu u = { 0 };
	int err;

	u.page = 1ull << shd_machine_config(m)->page_shift;
	u.pages = o->knob[K_MM_PAGES];
	u.madvise = o->knob[K_MM_MADVISE];
	u.ops = o->ops;
	u.ncpus = shd_machine_ncpus(m);
	u.done = calloc((size_t)u.ncpus * 8, sizeof(uint64_t));
	u.op_ns = calloc(u.ops, sizeof(uint64_t));
	if (!u.done || !u.op_ns || shd_mm_create(m, &u.mm)) {
		free(u.done);
		free(u.op_ns);
		return -ENOMEM;
	}
	err = wl_run_timed(m, u.ncpus, mmu_task, &u, res);
	res->ops = u.ops;
	if (!err && u.ops) {
		res->op_p50_ns = wl_median(u.op_ns, u.ops);
	}
	shd_mm_destroy(u.mm);
	free(u.done);
	free(u.op_ns);
	return err;
}

/* ---- will-it-scale tlb_flush1/2/3 ---- */

/*
 * Each task has its own region of `pages` pages (1 MiB): tlb_flush1 a
 * private mapping of a file of its own, tlb_flush2 private anonymous memory,
 * tlb_flush3 a shared mapping of its file.  It loops over the region one page
 * at a time: store 1, madvise(MADV_DONTNEED) the page, read it back.  The
 * value read must be 0, 0 and 1: the private copy is dropped (the file and
 * fresh anonymous memory read 0), the shared store is in the page cache.  A
 * missed flush leaves a translation to the dropped private copy and the read
 * returns 1 (tlb_flush1/2); under tlb_flush3 it still maps the page cache,
 * so only the oracle can tell.  processes=0: the tasks are threads of one mm
 * (every madvise must reach the other CPUs running it); processes=1: one mm
 * each.  `load` percent of the CPUs run tasks (will-it-scale's -t, LKP's
 * nr_task=50%); the others stay idle, which is where pruning pays.
 *
 * What the read-back can see (scripts/cli-checks keeps this honest).
 * migrate=0 (the default; will-it-scale pins its tasks): a missed local
 * flush or a range flush one page short leaves the task's own CPU with the
 * translation and the read returns 1.  A skipped *remote* flush never shows:
 * a thread only touches its own pages, on its own CPU; neither would it in
 * will-it-scale.  migrate=1 moves each task to the next CPU after every step
 * (store; madvise and read): the old CPU keeps the translation, but under
 * "linux" its own next flush finds its tlb_gen behind and flushes
 * everything before anything uses the stale entry, so generation catch-up
 * repairs the missed IPI (the oracle still catches it under "broadcast").
 * migrate=2 bounces each task between two CPUs: store on one, madvise on
 * the other, read back on the first, with the partner's task offset a step
 * so that the first CPU flushes nothing in between, as when the scheduler
 * moves a thread for its madvise and back.  Only there does the read-back
 * (and the oracle) catch a skipped remote IPI in threads mode.
 */
enum { K_TF_PAGES, K_TF_PROCESSES, K_TF_MIGRATE, K_TF_LOAD };

static const struct wl_knob tlbflush_knobs[] = {
	{ "pages", "pages per task (will-it-scale: 1 MiB)", 256, 1, 65536 },
	{ "processes", "0: tasks are threads of one mm; 1: one mm each", 0, 0, 1 },
	{ "migrate", "0: tasks pinned, as will-it-scale; 1: move to the next "
	  "CPU each step; 2: store and read on one CPU, madvise on another", 0,
	  0, 2 },
	{ "load", "percent of the CPUs that run tasks (LKP's nr_task=50%); "
	  "the others stay idle", 50, 1, 100 },
	{ NULL, NULL, 0, 0, 0 },
};

#define TF_BASE (1ull << 32)

struct tf_task {
	uint64_t page;			/* next page of its region */
	uint64_t iterations;
	int phase;			/* 0: store; 1: madvise (and read); 2: read */
	bool warm;			/* migrate=2: first cycle is a half one */
};

struct tf {
	struct shd_mm *mm[SHD_MAX_CPUS];	/* [0] only for threads */
	struct shd_file *file[SHD_MAX_CPUS];	/* tlb_flush1/3: one a task */
	struct tf_task *task;
	uint64_t page, pages, iters_per_task;
	unsigned ntasks, processes, migrate, kind;
	uint64_t expect;			/* value read back */
	uint64_t rounds;
	struct wl_barrier bar;		/* timed runs: bar.stop ends them */
	uint64_t failures;
	char note[160];
};

static uint64_t tf_va(const struct tf *t, unsigned task, uint64_t page)
{
	/* Threads share one mm: regions side by side (each starting at a
	 * colour boundary: shared file mappings must); processes each own. */
	return TF_BASE + ((t->processes ? 0 : (uint64_t)task *
			   wl_colour_round(t->pages)) + page) * t->page;
}

/* The task CPU ID runs in round R. */
static unsigned tf_task_of(const struct tf *t, unsigned id, uint64_t r)
{
	if (t->migrate == 1)
		return (unsigned)((id + r) % t->ntasks);
	if (t->migrate == 2 && (r & 1) && (id ^ 1u) < t->ntasks)
		return id ^ 1u;
	return id;
}

static void tf_read_back(struct shd_cpu *cpu, struct tf *t, unsigned k,
			 uint64_t va, uint64_t v)
{
	struct tf_task *task = &t->task[k];

	if (v != t->expect && !task->warm)
		wl_note_first(&t->failures, t->note, sizeof(t->note),
			   "task %u read back %" PRIu64 " at 0x%" PRIx64 " on "
			   "cpu %u after MADV_DONTNEED, expected %" PRIu64, k, v,
			   va, shd_cpu_id(cpu), t->expect);
	task->phase = 0;
	task->page = (task->page + 1) % t->pages;
	if (task->warm) {
		task->warm = false;	/* nothing was stored: not an iteration */
		return;
	}
	/* Relaxed: also read by a sampling controller. */
	__atomic_store_n(&task->iterations, task->iterations + 1,
			 __ATOMIC_RELAXED);
}

static int tf_step(struct shd_cpu *cpu, struct tf *t, unsigned k)
{
	struct tf_task *task = &t->task[k];
	struct shd_mm *mm = t->mm[t->processes ? k : 0];
	uint64_t va = tf_va(t, k, task->page), v = 0;
	int err = shd_switch_mm(cpu, mm);

	if (err)
		return err;
	switch (task->phase) {
	case 0:
		task->phase = 1;
		return shd_store(cpu, va, 1);
	case 1:
		err = shd_madvise_dontneed(cpu, mm, va & ~(t->page - 1), t->page);
		if (err || t->migrate == 2) {
			task->phase = 2;	/* read back on the next CPU */
			return err;
		}
		/* fall through */
	default:
		if (!(err = shd_load(cpu, va, &v)))
			tf_read_back(cpu, t, k, va, v);
		return err;
	}
}

static int tf_cpu(struct shd_cpu *cpu, void *arg)
{
	struct tf *t = arg;
	unsigned id = shd_cpu_id(cpu);
	int err = 0;

	for (uint64_t r = 0; r < t->rounds; r++) {
		unsigned k = tf_task_of(t, id, r);

		if (!err && __atomic_load_n(&t->task[k].iterations, __ATOMIC_RELAXED) <
			    t->iters_per_task)
			err = tf_step(cpu, t, k);
		/* Keep stepping (and waiting) after an error: the others
		 * must not wait for us at the barrier forever. */
		wl_barrier_wait(cpu, &t->bar, r);
		if (__atomic_load_n(&t->bar.halt, __ATOMIC_RELAXED) == r + 1)
			break;
	}
	return err;
}

static int tf_timed(struct shd_machine *m, const struct cli_opts *o,
		    struct tf *t, struct wl_result *res)
{
	uint64_t *last = calloc(t->ntasks, sizeof(*last)), sum = 0;
	unsigned n = t->ntasks;
	int err = 0, ret;

	if (!last)
		return -ENOMEM;
	printf("testcase:tlb_flush%u %s, %u tasks on %u simulated CPUs, %s "
	       "policy (shootdown; host time)\n", t->kind,
	       t->processes ? "processes" : "threads", n, shd_machine_ncpus(m),
	       o->policy);
	printf("warmup\n");
	for (unsigned c = 0; c < n; c++)
		if ((err = shd_cpu_submit(m, c, tf_cpu, t)))
			break;
	for (unsigned s = 0; !err && s < o->warmup_s + o->duration_s; s++) {
		struct timespec ts = { 1, 0 };
		uint64_t lo = UINT64_MAX, hi = 0, total = 0;

		if (s == o->warmup_s)
			printf("measurement\n");
		nanosleep(&ts, NULL);
		for (unsigned k = 0; k < n; k++) {
			uint64_t now = __atomic_load_n(&t->task[k].iterations,
						       __ATOMIC_RELAXED);
			uint64_t d = now - last[k];

			last[k] = now;
			lo = d < lo ? d : lo;
			hi = d > hi ? d : hi;
			total += d;
		}
		printf("min:%" PRIu64 " max:%" PRIu64 " total:%" PRIu64 "\n", lo,
		       hi, total);
		fflush(stdout);
		if (s >= o->warmup_s)
			sum += total;
	}
	__atomic_store_n(&t->bar.stop, 1, __ATOMIC_RELEASE);
	for (unsigned c = 0; c < n; c++)
		if (shd_cpu_join(m, c, &ret) == 0 && ret && !err)
			err = ret;
	if (!err)
		printf("average:%" PRIu64 "\n", o->duration_s ? sum / o->duration_s : 0);
	res->ops = 0;
	for (unsigned k = 0; k < n; k++)
		res->ops += t->task[k].iterations;
	free(last);
	return err;
}

/* Map task K's region in MM (with its file for tlb_flush1/3). */
static int tf_map(struct shd_cpu *cpu, struct tf *t, struct shd_mm *mm,
		  unsigned k)
{
	uint64_t va = tf_va(t, k, 0), len = t->pages * t->page;
	unsigned prot = SHD_PROT_READ | SHD_PROT_WRITE;

	if (t->kind == 2)
		return shd_mmap(cpu, mm, va, len, prot);
	return shd_mmap_file(cpu, mm, va, len, prot, t->kind == 3 ?
			     SHD_MAP_SHARED : SHD_MAP_PRIVATE, t->file[k], 0);
}

static int tf_setup(struct shd_cpu *cpu, void *arg)
{
	struct tf *t = arg;
	unsigned id = shd_cpu_id(cpu);
	int err = 0;

	if (t->processes)
		return tf_map(cpu, t, t->mm[id], id);
	if (id != 0)
		return 0;
	if ((err = shd_switch_mm(cpu, t->mm[0])))
		return err;
	for (unsigned k = 0; !err && k < t->ntasks; k++)
		err = tf_map(cpu, t, t->mm[0], k);
	return err;
}

static int tlb_flush_n(struct shd_machine *m, const struct cli_opts *o,
		       struct wl_result *res, unsigned kind)
{
	struct tf *t = calloc(1, sizeof(*t));
	unsigned n = shd_machine_ncpus(m);
	uint64_t t0;
	int err = 0;

	if (!t)
		return -ENOMEM;
	t->kind = kind;
	t->expect = kind == 3;
	t->page = 1ull << shd_machine_config(m)->page_shift;
	t->pages = o->knob[K_TF_PAGES];
	t->processes = (unsigned)o->knob[K_TF_PROCESSES];
	t->migrate = (unsigned)o->knob[K_TF_MIGRATE];
	/* Tasks on the first CPUs; the rest of the machine stays idle. */
	n = wl_load_tasks(n, o->knob[K_TF_LOAD]);
	t->ntasks = n;
	t->bar.n = n;
	t->iters_per_task = (o->ops + n - 1) / n;
	/* Two steps an iteration, or three when bouncing (plus the offset). */
	t->rounds = t->migrate == 2 ? 3 * t->iters_per_task + 2 :
				      2 * t->iters_per_task;
	t->task = calloc(n, sizeof(*t->task));
	for (unsigned i = 0; t->task && i < (t->processes ? n : 1); i++)
		if ((err = shd_mm_create(m, &t->mm[i])))
			break;
	for (unsigned k = 0; t->task && !err && kind != 2 && k < n; k++)
		err = shd_file_create(m, t->pages, &t->file[k]);
	if (!t->task || err) {
		if (err && !res->errtxt[0])
			snprintf(res->errtxt, sizeof(res->errtxt), "%s",
				 shd_last_error());
		err = err ? err : -ENOMEM;
		goto out;
	}
	/* migrate=2: odd tasks run a step behind their partner. */
	for (unsigned k = 1; t->migrate == 2 && k < n; k += 2)
		if ((k ^ 1u) < n)
			t->task[k] = (struct tf_task){ .phase = 1, .warm = true };
	err = wl_run_on(m, 0, n, tf_setup, t, res->errtxt, sizeof(res->errtxt));
	t0 = wl_now_ns();
	if (!err && o->format == FMT_WIS) {
		t->iters_per_task = UINT64_MAX;
		t->rounds = UINT64_MAX;
		err = tf_timed(m, o, t, res);
	} else if (!err) {
		err = wl_run_on(m, 0, n, tf_cpu, t, res->errtxt, sizeof(res->errtxt));
		res->ops = t->iters_per_task * n;
	}
	res->wall_ns = wl_now_ns() - t0;
	res->check_failures = t->failures;
	snprintf(res->note, sizeof(res->note), "%s", t->note);
out:
	for (unsigned i = 0; i < SHD_MAX_CPUS; i++) {
		if (t->mm[i])
			shd_mm_destroy(t->mm[i]);
		if (t->file[i])
			shd_file_destroy(t->file[i]);
	}
	free(t->task);
	free(t);
	return err;
}

/* tlb_flush1/3 keep each task's file in the page cache. */
static int tlb_flush_file_check(const struct cli_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, wl_load_tasks(o->cfg.ncpus, o->knob[K_TF_LOAD]) *
			       (o->knob[K_TF_PAGES] + 1), "tasks x (pages + 1)",
			       err, len);
}

static int wl_tlb_flush1(struct shd_machine *m, const struct cli_opts *o,
			 struct wl_result *res)
{
	return tlb_flush_n(m, o, res, 1);
}

static int wl_tlb_flush2(struct shd_machine *m, const struct cli_opts *o,
			 struct wl_result *res)
{
	return tlb_flush_n(m, o, res, 2);
}

static int wl_tlb_flush3(struct shd_machine *m, const struct cli_opts *o,
			 struct wl_result *res)
{
	return tlb_flush_n(m, o, res, 3);
}

/* ---- random: the check mix ---- */

#define RND_MMS 3
#define RND_WINDOW 64			/* pages per mm, shared by all CPUs */
#define RND_KSLOT 4			/* vmap pages per CPU; the last is an
					 * I/O buffer only its CPU reads */
#define RND_FILE2 4			/* pages of file2 */
#define RND_REVISIT 256		/* ops before a CPU looks again at a file2
					 * page it left marked */
#define RND_F2_OFF 2048			/* where in a page file2's traffic goes:
					 * sets the window's hot lines (the
					 * first 4 of a page) do not evict */

struct rnd {
	struct shd_mm *mm[RND_MMS];
	struct shd_file *file;		/* RND_WINDOW pages, mapped at page pg */
	struct shd_file *file2;		/* RND_FILE2 pages, mapped only for a
					 * moment (flush_dcache_page defers) */
	uint64_t page;
	uint64_t ops;			/* in all; CPU i does its share */
	uint64_t seed;
	unsigned ncpus;
	uint64_t revisit[SHD_MAX_CPUS];	/* op << 8 | file2 page + 1 that a CPU
					 * left marked at op */
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

/*
 * fork() CUR, run the child here for a few accesses (copy-on-write copies,
 * with their flush_tlb_page()), and let it exit.
 */
static int rnd_fork(struct shd_cpu *cpu, struct rnd *r, struct shd_mm *cur,
		    uint64_t *s)
{
	struct shd_mm *child;
	uint64_t v;
	int err = shd_mm_dup(cpu, cur, &child);

	if (err)
		return err;
	err = shd_switch_mm(cpu, child);
	for (unsigned i = 0; !err && i < 4; i++) {
		uint64_t va = rnd_base(r) + rng_below(s, RND_WINDOW) * r->page;

		err = rng_below(s, 2) ? shd_store(cpu, va, i) : shd_load(cpu, va, &v);
		if (err == -EFAULT || err == -EACCES)
			err = 0;
	}
	if (!err)
		err = shd_switch_mm(cpu, cur);
	shd_mm_destroy(child);
	return err;
}

/* A program maps page PG of file2 at its slot twice, shared (at the page's
 * colour, as SHMLBA wants) and private read-only one colour up, so that
 * one of the two differs from the kernel's linear alias whatever frame
 * the page has; it reads the 32 words the kernel writes through both
 * (caching their 4 lines at both colours) and runs the one at OFF. */
static int rnd_slot_read(struct shd_cpu *cpu, struct rnd *r, struct shd_mm *cur,
			 uint64_t pg, uint64_t off)
{
	uint64_t slot = 0x50000000ull + (uint64_t)shd_cpu_id(cpu) *
				       WL_SHMLBA_PAGES * r->page;
	uint64_t uva = slot + pg * r->page, uva2 = slot + (9 + pg) * r->page;
	uint64_t v;
	int err = shd_mmap_file(cpu, cur, uva, r->page, SHD_PROT_READ |
				SHD_PROT_EXEC, SHD_MAP_SHARED, r->file2, pg);

	if (!err && !(err = shd_mmap_file(cpu, cur, uva2, r->page, SHD_PROT_READ,
					  SHD_MAP_PRIVATE, r->file2, pg))) {
		for (uint64_t w = 0; !err && w < 32; w++)
			err = shd_load(cpu, uva2 + RND_F2_OFF + 8 * w, &v);
		shd_munmap(cpu, cur, uva2, r->page);
	}
	for (uint64_t w = 0; !err && w < 32; w++)
		err = shd_load(cpu, uva + RND_F2_OFF + 8 * w, &v);
	if (!err)
		err = shd_fetch(cpu, uva + off, &v);
	shd_munmap(cpu, cur, uva, r->page);
	return err;
}

/*
 * The seldom-mapped file2, through a slot of the program's own.  Either
 * it maps a page, reads and runs it, unmaps it, and write(2)s it: nobody
 * maps the file, so flush_dcache_page defers to the next mapping (sparc64;
 * arm64 clears PG_dcache_clean), and the program may map it again at once
 * (update_mmu_cache then runs the deferred flush on the CPU that wrote;
 * set_pte_at syncs the I-cache) or leave the page marked for whoever maps
 * it next, perhaps after another CPU wrote it too.  Or a debugger sets
 * breakpoints in the program's text (a private mapping it cannot write):
 * the first poke copies the page, the second lands in the copy; the
 * program runs the word after each (copy_to_user_page invalidates the
 * I-cache).
 */
static int rnd_remap_poke(struct shd_cpu *cpu, struct rnd *r,
			  struct shd_mm *cur, uint64_t *s, uint64_t i)
{
	/* Each page is mapped by its own CPUs only (others write it), so a
	 * page one CPU left marked stays so until that CPU comes back. */
	unsigned id = shd_cpu_id(cpu);
	uint64_t pg = r->ncpus >= RND_FILE2 ? id % RND_FILE2 :
		      id + r->ncpus * rng_below(s, RND_FILE2 / r->ncpus), v;
	uint64_t off = RND_F2_OFF + 8 * rng_below(s, 32);
	uint64_t uva = 0x50000000ull + ((uint64_t)id * WL_SHMLBA_PAGES + pg) *
				       r->page;
	uint64_t *revisit = &r->revisit[id];
	int err = 0;

	/* Back, a while later, to a page this CPU wrote and left marked:
	 * its lines of the page must have been flushed, whichever CPU
	 * wrote the page and took the mark over meanwhile. */
	if (*revisit && i >= (*revisit >> 8) + RND_REVISIT) {
		pg = (*revisit & 0xff) - 1;
		*revisit = 0;
		return rnd_slot_read(cpu, r, cur, pg, off);
	}
	switch (rng_below(s, 4)) {
	case 0:
		if ((err = shd_mmap_file(cpu, cur, uva, r->page, SHD_PROT_READ |
					 SHD_PROT_EXEC, SHD_MAP_PRIVATE, r->file2, pg)))
			return err;
		err = shd_fetch(cpu, uva + off, &v);
		for (int k = 0; k < 2 && !err; k++) {
			err = shd_ptrace_poke(cpu, cur, uva + off, i << 1 | (unsigned)k);
			if (!err)
				err = shd_fetch(cpu, uva + off, &v);
		}
		shd_munmap(cpu, cur, uva, r->page);
		return err;
	case 1:
	case 2:
		err = rnd_slot_read(cpu, r, cur, pg, off);
		if (!err)
			err = shd_file_write(cpu, r->file2, pg * r->page + off, i);
		if (!err && !*revisit)
			*revisit = i << 8 | (pg + 1);
		return err;
	default:
		err = rnd_slot_read(cpu, r, cur, pg, off);
		if (!err)
			err = shd_file_write(cpu, r->file2, pg * r->page + off, i);
		if (!err)
			err = rnd_slot_read(cpu, r, cur, pg, off);
		return err;
	}
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
		/* Half the accesses go to a page's first 4 lines, where the
		 * kernel's file writes go too (D-cache aliases need the same
		 * line read through two colours). */
		uint64_t va = base + pg * page + 8 * rng_below(&s, rng_below(&s, 2) ?
							       32 : page / 8);
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
				/* The task resumes where it was: its hot pages,
				 * through whatever the TLB kept meanwhile. */
				for (unsigned h = 0; !err && h < 8; h++) {
					int e = shd_load(cpu, base + hot[h] * page, &v);

					err = expected_err(e) ? 0 : e;
				}
			} else if (kmapped && dice < 500) {
				what = "kernel store";
				err = shd_store(cpu, kslot(r, id) +
						rng_below(&s, RND_KSLOT) * page, i);
			} else {
				what = "kernel load";
				err = shd_load(cpu, kslot(r, (unsigned)rng_below(&s, r->ncpus)) +
					       rng_below(&s, RND_KSLOT - 1) * page, &v);
			}
			goto check;
		}
		if (dice < 330) {
			what = "store";
			err = shd_store(cpu, va, (uint64_t)id << 48 | i);
		} else if (dice < 560) {
			what = "load";
			err = shd_load(cpu, va, &v);
		} else if (dice < 565) {
			what = "fetch";
			err = shd_fetch(cpu, va, &v);
		} else if (dice < 599) {
			what = "try_to_unmap";	/* a reclaim scan of a few pages */
			for (uint64_t k = 0; k < npages && err >= 0; k++)
				err = shd_try_to_unmap(cpu, cur, base + (pg + k) * page);
			err = err > 0 ? 0 : err;
		} else if (dice < 600 && rng_below(&s, 4) == 0) {
			what = "try_to_unmap_flush";
			err = shd_try_to_unmap_flush(cpu);
		} else if (dice < 627) {
			what = "mmap";
			err = shd_mmap(cpu, cur, base + pg * page, npages * page,
				       prots[rng_below(&s, 5)]);
		} else if (dice < 650) {
			what = "mmap(file)";
			err = shd_mmap_file(cpu, cur, base + pg * page, npages * page,
					    prots[rng_below(&s, 5)],
					    rng_below(&s, 2) ? SHD_MAP_SHARED :
					    SHD_MAP_PRIVATE, r->file, pg);
		} else if (dice < 670) {
			what = "remap poke";
			err = rnd_remap_poke(cpu, r, cur, &s, i);
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
		} else if (dice < 895) {
			/* The kernel's write(2)/read(2) of a file page. */
			struct shd_file *f = rng_below(&s, 2) ? r->file : r->file2;
			uint64_t fp = f == r->file ? pg : pg % RND_FILE2;
			uint64_t off = fp * page + 8 * rng_below(&s, 32) +
				       (f == r->file2 ? RND_F2_OFF : 0);
			uint64_t uva = base + pg * page + (off & (page - 1));

			switch (rng_below(&s, 4)) {
			case 3:
				/* A tracer pokes the current mm (ptrace: a
				 * breakpoint, where the program may execute)
				 * and the tracee reads and runs it here. */
				what = "ptrace poke";
				shd_load(cpu, uva, &v);
				shd_fetch(cpu, uva, &v);
				err = shd_ptrace_poke(cpu, cur, uva, i);
				if (!err)
					err = shd_load(cpu, uva, &v);
				if (!err)
					err = shd_fetch(cpu, uva, &v);
				break;
			case 0:
				what = "file write";
				err = shd_file_write(cpu, f, off, i);
				break;
			case 1:
				what = "file read";
				err = shd_file_read(cpu, f, off, &v);
				break;
			default:
				/* A program reads its mapping, write(2)s the
				 * file there, reads the mapping again. */
				what = "file poke";
				shd_load(cpu, uva, &v);
				err = shd_file_write(cpu, f, off, i);
				if (!err)
					err = shd_load(cpu, uva, &v);
				break;
			}
		} else if (dice < 910) {
			/* Reclaim takes a page (its flush batched while other
			 * CPUs may still hold the translation), and the
			 * program drops it at once: madvise finds the PTE
			 * clear and must wait for the batch
			 * (flush_tlb_batched_pending) before it returns. */
			what = "reclaim, then madvise";
			err = shd_try_to_unmap(cpu, cur, base + pg * page);
			if (err >= 0)
				err = shd_madvise_dontneed(cpu, cur, base + pg * page,
							   page);
		} else if (dice < 915) {
			what = "flush_tlb_page";
			err = shd_flush_tlb_page(cpu, cur, base + pg * page);
		} else if (dice < 925) {
			what = "flush_tlb_range";
			err = shd_flush_tlb_range(cpu, cur, base + pg * page,
						  base + (pg + npages) * page);
		} else if (dice < 928) {
			what = "flush_tlb_mm";
			err = shd_flush_tlb_mm(cpu, cur);
		} else if (dice < 929) {
			what = "flush_tlb_all";
			err = shd_flush_tlb_all(cpu);
		} else if (dice < 933) {
			what = "fork";
			err = rnd_fork(cpu, r, cur, &s);
		} else if (dice < 945) {
			what = kmapped ? "vunmap" : "vmap";
			err = kmapped ? shd_vunmap(cpu, kslot(r, id), RND_KSLOT * page)
				      : shd_vmap(cpu, kslot(r, id), RND_KSLOT * page);
			kmapped = !kmapped;
		} else if (dice < 950 && kmapped) {
			/* A module load: new code in this CPU's vmap slot,
			 * flush_icache_range, run it (it ran before). */
			uint64_t kva = kslot(r, id) + rng_below(&s, RND_KSLOT) * page +
				       8 * rng_below(&s, 32);

			what = "module load";
			err = shd_fetch(cpu, kva, &v);
			if (!err)
				err = shd_store(cpu, kva, i);
			if (!err)
				err = shd_flush_icache_range(cpu, kva & ~(page - 1),
							     (kva & ~(page - 1)) + page);
			if (!err)
				err = shd_fetch(cpu, kva, &v);
		} else if (dice < 955 && kmapped) {
			/* A driver's I/O through its vmap'd buffer: the device
			 * writes memory (DMA), the driver invalidates its alias
			 * and reads (and the other way: it writes, flushes the
			 * alias, the device reads). */
			uint64_t kva = kslot(r, id) + (RND_KSLOT - 1) * page +
				       8 * rng_below(&s, 32);

			what = "vmap I/O";
			err = shd_load(cpu, kva, &v);
			if (!err)
				err = shd_dma_write(cpu, kva, i);
			if (!err)
				err = shd_invalidate_kernel_vmap_range(cpu, kva, 8);
			if (!err)
				err = shd_load(cpu, kva, &v);
			if (!err)
				err = shd_store(cpu, kva, ~i);
			if (!err)
				err = shd_flush_kernel_vmap_range(cpu, kva, 8);
			if (!err)
				err = shd_dma_read(cpu, kva, &v);
			if (!err && v != ~i)
				wl_note_first(&r->unexpected, r->note, sizeof(r->note),
					      "vmap I/O: the device read %#" PRIx64
					      " where cpu %u wrote %#" PRIx64, v, id, ~i);
		} else if (dice < 980) {
			/* Kernel code runs other CPUs' modules too. */
			uint64_t kva = kslot(r, (unsigned)rng_below(&s, r->ncpus)) +
				       rng_below(&s, RND_KSLOT - 1) * page +
				       8 * rng_below(&s, 32);

			what = "kernel load";
			err = rng_below(&s, 4) ? shd_load(cpu, kva, &v) :
			      shd_fetch(cpu, kva, &v);
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
			wl_note_first(&r->unexpected, r->note, sizeof(r->note),
				   "%s: %s (%s)", what, shd_strerror(err),
				   shd_last_error());
		err = 0;
	}
	if (kmapped)
		shd_vunmap(cpu, kslot(r, id), RND_KSLOT * page);
	return 0;
}

/* The remap pokes' slots (0x50000000 + cpu x WL_SHMLBA_PAGES pages, so
 * that file2's page PG sits at PG's colour) share page tables with a guard
 * page each mm keeps at the end of each table, so unmapping a slot never
 * frees a page table (whose flush would reach lazy CPUs and hide other
 * faults).  A slot uses its first RND_FILE2 pages: never a guard. */
static int rnd_setup(struct shd_cpu *cpu, void *arg)
{
	struct rnd *r = arg;
	uint64_t tables = (r->ncpus * WL_SHMLBA_PAGES + 511) / 512;
	int err = 0;

	for (unsigned i = 0; !err && i < RND_MMS; i++)
		for (uint64_t t = 0; !err && t < tables; t++)
			err = shd_mmap(cpu, r->mm[i], 0x50000000ull +
				       (t * 512 + 511) * 4096ull, r->page,
				       SHD_PROT_READ);
	return err;
}

static int wl_random(struct shd_machine *m, const struct cli_opts *o,
		     struct wl_result *res)
{
	struct rnd r = { 0 };
	unsigned n = shd_machine_ncpus(m);
	int err = 0;

	r.page = 1ull << shd_machine_config(m)->page_shift;
	r.seed = o->seed;
	r.ncpus = n;
	r.ops = o->ops;
	if ((err = shd_file_create(m, RND_WINDOW, &r.file)))
		return err;
	if ((err = shd_file_create(m, RND_FILE2, &r.file2))) {
		shd_file_destroy(r.file);
		return err;
	}
	for (unsigned i = 0; i < RND_MMS && !err; i++)
		err = shd_mm_create(m, &r.mm[i]);
	if (!err && r.page == 4096)
		err = wl_run_on(m, 0, 1, rnd_setup, &r, res->errtxt,
				sizeof(res->errtxt));
	if (err)
		goto out;
	err = wl_run_timed(m, n, random_task, &r, res);
	res->ops = r.ops;
	res->check_failures = r.unexpected;
	snprintf(res->note, sizeof(res->note), "%s", r.note);
out:
	for (unsigned i = 0; i < RND_MMS; i++)
		shd_mm_destroy(r.mm[i]);
	shd_file_destroy(r.file);
	shd_file_destroy(r.file2);
	return err;
}

static const struct workload workloads[] = {
	{ "munmap", "threads of one mm map, touch and unmap their pages; "
	  "the other CPUs are lazy or run another mm", 4000, 1, wl_munmap,
	  roles_knobs, NULL },
	{ "mprotect", "threads of one mm flip their pages between RW and RO "
	  "and touch them; a store while RO must fault", 4000, 1, wl_mprotect,
	  roles_knobs, NULL },
	{ "rangeflush", "MMTests tlbflush: CPU 0 unmaps and remaps random "
	  "ranges while the others read their hot sets", 2000, 2,
	  wl_rangeflush, rangeflush_knobs, rangeflush_check },
	{ "mmap_micro", "LATR mmap_micro: every CPU touches the pages, CPU 0 "
	  "unmaps them; lat_* time that shootdown", 2000, 1, wl_mmap_micro,
	  mmap_micro_knobs, NULL },
	{ "tlb_flush1", "will-it-scale tlb_flush1: store, MADV_DONTNEED, read "
	  "back 0, one page at a time over a private file mapping per task",
	  8000, 1, wl_tlb_flush1, tlbflush_knobs, tlb_flush_file_check },
	{ "tlb_flush2", "will-it-scale tlb_flush2: store, MADV_DONTNEED, read "
	  "back 0, one page at a time over a private anonymous 1 MiB per task",
	  8000, 1, wl_tlb_flush2, tlbflush_knobs, NULL },
	{ "tlb_flush3", "will-it-scale tlb_flush3: store, MADV_DONTNEED, read "
	  "back 1, one page at a time over a shared file mapping per task",
	  8000, 1, wl_tlb_flush3, tlbflush_knobs, tlb_flush_file_check },
	{ "fork", "threads of a parent store to their pages while CPU 0 forks "
	  "it; the child copies a page and exits", 1000, 1, wl_fork,
	  wl_fork_knobs, wl_fork_check },
	{ "exec", "a threaded process execs over and over: its threads exit "
	  "(lazy), the old image is torn down, new threads start", 1000, 1,
	  wl_exec, wl_exec_knobs, wl_exec_check },
	{ "reclaim", "CPU 0 reclaims pages of several processes running on "
	  "the other CPUs, SWAP_CLUSTER_MAX at a time (batched flushes)",
	  4096, 2, wl_reclaim, wl_reclaim_knobs, wl_reclaim_check },
	{ "pagecache", "CPU 0 writes page-cache pages nobody maps; the other "
	  "CPUs, then CPU 0, map and read them (deferred D-cache flushes)",
	  1600, 1, wl_pagecache, wl_pagecache_knobs, wl_pagecache_check },
	{ "ptrace", "a tracer pokes words into its tracee on the same CPU "
	  "(copy_to_user_page); the tracee reads and runs them", 4096, 1,
	  wl_ptrace, wl_ptrace_knobs, NULL },
	{ "modload", "CPU 0 loads a module (vmap, write code, "
	  "flush_icache_range), every CPU runs it, CPU 0 unloads it", 1024, 1,
	  wl_modload, wl_modload_knobs, wl_modload_check },
	{ "vmapio", "each CPU does I/O through a vmap'd buffer: write, "
	  "flush_kernel_vmap_range, DMA out; DMA in, "
	  "invalidate_kernel_vmap_range, read", 4096, 1, wl_vmapio,
	  wl_vmapio_knobs, wl_vmapio_check },
	{ "random", "random map (anonymous, file private/shared)/unmap/protect/"
	  "madvise/access/fork/reclaim/file write and read/ptrace/switch/lazy/"
	  "flush/vmap on all CPUs over 3 shared mms (the check mix)", 200000, 1,
	  wl_random, NULL, NULL },
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
		if (err == -ENOENT)	/* a cost key or a workload knob */
			err = 0;
	}
	return err;
}

int cli_resolve_sets(struct cli_opts *o, const struct workload *w,
		     char *errtxt, size_t len)
{
	struct shd_policy scratch;

	cost_defaults(&o->cost);
	for (unsigned k = 0; w && w->knobs && w->knobs[k].name; k++)
		o->knob[k] = w->knobs[k].def;
	for (unsigned i = 0; i < o->nsets; i++) {
		char kv[sizeof(o->sets[0])], *key, *val, *end;
		unsigned k;
		int err;

		snprintf(kv, sizeof(kv), "%s", o->sets[i]);
		key = kv;
		val = strchr(kv, '=');
		*val++ = 0;
		if (!strncmp(key, "cost.", 5)) {
			err = cost_set(&o->cost, key, val);
			if (err == -ENOENT)
				snprintf(errtxt, len, "--set: unknown cost key '%s' "
					 "(see 'shootdown list')", key);
			else if (err)
				snprintf(errtxt, len, "--set: %s takes a number of "
					 "cycles in 0..1e9, not '%s'", key, val);
			if (err)
				return -1;
			continue;
		}
		shd_policy_preset("linux", &scratch);
		err = shd_policy_set(&scratch, key, val);
		if (err == 0)
			continue;
		if (err != -ENOENT) {
			snprintf(errtxt, len, "--set: %s", shd_last_error());
			return -1;
		}
		for (k = 0; w && w->knobs && w->knobs[k].name; k++)
			if (!strcmp(w->knobs[k].name, key))
				break;
		if (!w || !w->knobs || !w->knobs[k].name) {
			snprintf(errtxt, len, "--set: unknown knob '%s': not a policy "
				 "knob, a cost.* key or a knob of workload %s (see "
				 "'shootdown list')", key, w ? w->name : "(none)");
			return -1;
		}
		errno = 0;
		o->knob[k] = strtoull(val, &end, 10);
		if (*val < '0' || *val > '9' || *end || errno ||
		    o->knob[k] < w->knobs[k].lo || o->knob[k] > w->knobs[k].hi) {
			snprintf(errtxt, len, "--set: %s=%s: %s takes %" PRIu64 "..%"
				 PRIu64, key, val, key, w->knobs[k].lo, w->knobs[k].hi);
			return -1;
		}
	}
	return 0;
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
	/* A fault that cannot fire under this policy would pass vacuously. */
	for (int f = 0; f < SHD_FAULT__COUNT; f++)
		if (((cfg.faults >> f) & 1) &&
		    (err = shd_fault_applies(&cfg.policy, &cfg.arch,
					     (enum shd_fault)f)))
			goto fail;
	if ((err = shd_machine_create(&cfg, &m)))
		goto fail;
	{
		struct ticker tk = { 0 };

		/* The wis format prints live lines of its own. */
		if (o->format != FMT_WIS)
			ticker_start(&tk, w->name, policy, cfg.ncpus);
		err = w->run(m, o, r);
		ticker_stop(&tk);
	}
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
