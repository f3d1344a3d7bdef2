/* SPDX-License-Identifier: MIT */
/* Workloads tlb_flush1/2/3: will-it-scale's loops and their read-back. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "workload.h"

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
 *
 * remap=1 (the default) is will-it-scale's tests/tlb_flush2.c loop (and
 * tlb_flush1/3's): each pass over the region ends with munmap and a fresh
 * mmap of it, so every pass stores into never-touched memory (no
 * copy-on-write: steady from the first op), and each pass's munmap (mmap
 * write lock, then zap and free under the downgraded read lock) overlaps
 * the other threads' madvises: nested gathers, and the freed page table's
 * flush reaching lazy CPUs.  remap=0 keeps the region mapped for the whole
 * run (the loop before, with its copy-on-write warm-up).
 */
enum { K_TF_PAGES, K_TF_PROCESSES, K_TF_MIGRATE, K_TF_LOAD, K_TF_REMAP };

static const struct wl_knob tlbflush_knobs[] = {
	{ "pages", "pages per task (will-it-scale: 1 MiB)", 256, 1, 65536 },
	{ "processes", "0: tasks are threads of one mm; 1: one mm each", 0, 0, 1 },
	{ "migrate", "0: tasks pinned, as will-it-scale; 1: move to the next "
	  "CPU each step; 2: store and read on one CPU, madvise on another", 0,
	  0, 2 },
	{ "load", "percent of the CPUs that run tasks (LKP's nr_task=50%); "
	  "the others stay idle", 50, 1, 100 },
	{ "remap", "1: munmap and mmap the region after each pass, as "
	  "will-it-scale does; 0: keep it mapped", 1, 0, 1 },
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
	unsigned ntasks, processes, migrate, kind, remap;
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

static int tf_map(struct shd_cpu *cpu, struct tf *t, struct shd_mm *mm,
		  unsigned k);

/* The end of a pass (remap=1): munmap the region and map it afresh. */
static int tf_remap(struct shd_cpu *cpu, struct tf *t, unsigned k)
{
	struct shd_mm *mm = t->mm[t->processes ? k : 0];
	int err = shd_munmap(cpu, mm, tf_va(t, k, 0), t->pages * t->page);

	return err ? err : tf_map(cpu, t, mm, k);
}

static int tf_read_back(struct shd_cpu *cpu, struct tf *t, unsigned k,
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
		return 0;
	}
	/* Relaxed: also read by a sampling controller. */
	__atomic_store_n(&task->iterations, task->iterations + 1,
			 __ATOMIC_RELAXED);
	return t->remap && task->page == 0 ? tf_remap(cpu, t, k) : 0;
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
			err = tf_read_back(cpu, t, k, va, v);
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

static int tf_timed(struct shd_machine *m, const struct wl_opts *o,
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

static int tlb_flush_n(struct shd_machine *m, const struct wl_opts *o,
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
	t->remap = (unsigned)o->knob[K_TF_REMAP];
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

/*
 * tlb_flush1/2 with remap=0: the read-back after MADV_DONTNEED maps the
 * page read-only (the zero page, or the file's page), so from each task's
 * second pass on its store is a copy-on-write fault whose flush reaches
 * the other CPUs running the mm: IPIs per op double once every task has
 * wrapped its pages (--sched seeded, 8 CPUs, 4 tasks: 3.0 up to 1024 ops,
 * 6.0 an op after).  remap=1 maps every pass afresh (no copy-on-write) and
 * tlb_flush3's shared mapping has none: steady from the start.
 */
static uint64_t tlb_flush_warmup(const struct wl_opts *o, char *why, size_t len)
{
	unsigned n = wl_load_tasks(o->ncpus, o->knob[K_TF_LOAD]);
	uint64_t w = o->knob[K_TF_PAGES] * n;

	if (o->knob[K_TF_REMAP])
		return 0;

	snprintf(why, len, "each task's first pass over its %" PRIu64 " pages "
		 "takes %" PRIu64 " ops at %u CPUs", o->knob[K_TF_PAGES], w,
		 o->ncpus);
	return w;
}

/* tlb_flush1/3 keep each task's file in the page cache. */
static int tlb_flush_file_check(const struct wl_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, wl_load_tasks(o->cfg.ncpus, o->knob[K_TF_LOAD]) *
			       (o->knob[K_TF_PAGES] + 1), "tasks x (pages + 1)",
			       err, len);
}

static int wl_tlb_flush1(struct shd_machine *m, const struct wl_opts *o,
			 struct wl_result *res)
{
	return tlb_flush_n(m, o, res, 1);
}

static int wl_tlb_flush2(struct shd_machine *m, const struct wl_opts *o,
			 struct wl_result *res)
{
	return tlb_flush_n(m, o, res, 2);
}

static int wl_tlb_flush3(struct shd_machine *m, const struct wl_opts *o,
			 struct wl_result *res)
{
	return tlb_flush_n(m, o, res, 3);
}

const struct workload wl_def_tlb_flush1 = {
	.name = "tlb_flush1",
	.help = "will-it-scale tlb_flush1: store, MADV_DONTNEED, read "
		"back 0, one page at a time over a private file mapping per task",
	.default_ops = 8000,
	.min_cpus = 1,
	.run = wl_tlb_flush1,
	.knobs = tlbflush_knobs,
	.check = tlb_flush_file_check,
	.warmup = tlb_flush_warmup,
};

const struct workload wl_def_tlb_flush2 = {
	.name = "tlb_flush2",
	.help = "will-it-scale tlb_flush2: store, MADV_DONTNEED, read "
		"back 0, one page at a time over a private anonymous 1 MiB per task",
	.default_ops = 8000,
	.min_cpus = 1,
	.run = wl_tlb_flush2,
	.knobs = tlbflush_knobs,
	.check = NULL,
	.warmup = tlb_flush_warmup,
};

const struct workload wl_def_tlb_flush3 = {
	.name = "tlb_flush3",
	.help = "will-it-scale tlb_flush3: store, MADV_DONTNEED, read "
		"back 1, one page at a time over a shared file mapping per task",
	.default_ops = 8000,
	.min_cpus = 1,
	.run = wl_tlb_flush3,
	.knobs = tlbflush_knobs,
	.check = tlb_flush_file_check,
};
