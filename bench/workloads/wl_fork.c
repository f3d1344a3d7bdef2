/* SPDX-License-Identifier: MIT */
/* Workload fork (copy-on-write under running threads); process helpers. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "proc.h"
static uint64_t proc_va(const struct proc *p, unsigned thread, uint64_t page)
{
	return PROC_BASE + ((uint64_t)thread * p->pages + page) * p->page;
}

/* Phase A of both: each thread stores to its pages (and reads one back). */
int wl_proc_touch(struct shd_cpu *cpu, struct proc *p, uint64_t r)
{
	unsigned id = shd_cpu_id(cpu);
	uint64_t v = 0;
	int err = shd_switch_mm(cpu, p->mm);

	for (uint64_t i = 0; !err && i < p->pages; i++)
		err = shd_store(cpu, proc_va(p, id, i), r << 16 | id);
	if (!err)
		err = shd_load(cpu, proc_va(p, id, 0), &v);
	if (!err && v != (r << 16 | id))
		wl_note_first(&p->failures, p->note, sizeof(p->note),
			      "thread %u read %#" PRIx64 " back from its page, "
			      "stored %#" PRIx64, id, v, r << 16 | id);
	return err;
}

/* ---- fork ---- */

/*
 * A multi-threaded parent (a JVM, a database) that forks: each round every
 * thread stores to its `pages` pages, then CPU 0 forks.  dup_mmap()
 * write-protects every private page and ends with flush_tlb_mm(parent),
 * which must reach every CPU running a parent thread (the other CPUs are
 * idle: pruned under "linux").  The child, on CPU 0, stores to `touch` of
 * thread 0's pages (copy-on-write copies) and exits (exit_mmap(): its
 * references to the parent's pages go at once); the child must see
 * the parent's values, and the parent must not see the child's.  The
 * threads' next stores fault once per page and reuse the page, now theirs
 * alone.  One operation is one fork.
 */
enum { K_FORK_PAGES, K_FORK_TOUCH, K_FORK_LOAD };

static const struct wl_knob wl_fork_knobs[] = {
	{ "pages", "pages each parent thread stores to every round", 16, 1, 4096 },
	{ "touch", "pages the child stores to (copy-on-write copies)", 1, 0, 4096 },
	{ "load", "percent of the CPUs that run parent threads; the others "
	  "stay idle", 50, 1, 100 },
	{ NULL, NULL, 0, 0, 0 },
};

static int wl_fork_check(const struct wl_opts *o, char *err, size_t len)
{
	if (o->knob[K_FORK_TOUCH] > o->knob[K_FORK_PAGES]) {
		snprintf(err, len, "touch=%" PRIu64 " is more than pages=%" PRIu64
			 " (the child stores to thread 0's pages)",
			 o->knob[K_FORK_TOUCH], o->knob[K_FORK_PAGES]);
		return -1;
	}
	return wl_check_frames(o, wl_load_tasks(o->cfg.ncpus, o->knob[K_FORK_LOAD]) *
			       o->knob[K_FORK_PAGES] + o->knob[K_FORK_TOUCH],
			       "threads x pages + touch", err, len);
}

/* The child: check a page, store to `touch` pages, exit. */
static int fork_child(struct shd_cpu *cpu, struct proc *p, struct shd_mm *child,
		      uint64_t r)
{
	uint64_t v = 0;
	int err = shd_switch_mm(cpu, child);

	if (!err)
		err = shd_load(cpu, proc_va(p, 0, 0), &v);
	if (!err && v != r << 16)
		wl_note_first(&p->failures, p->note, sizeof(p->note),
			      "the child of fork %" PRIu64 " read %#" PRIx64 ", "
			      "the parent had stored %#" PRIx64, r, v, r << 16);
	for (uint64_t i = 0; !err && i < p->touch; i++)
		err = shd_store(cpu, proc_va(p, 0, i), UINT64_MAX);
	if (!err)
		err = shd_switch_mm(cpu, p->mm);
	/* The parent keeps its own value. */
	if (!err && p->touch && !(err = shd_load(cpu, proc_va(p, 0, 0), &v)) &&
	    v != r << 16)
		wl_note_first(&p->failures, p->note, sizeof(p->note),
			      "the parent read %#" PRIx64 " after fork %" PRIu64
			      ", the child's store leaked in", v, r);
	return err;
}

static int fork_task(struct shd_cpu *cpu, void *arg)
{
	struct proc *p = arg;
	int err = 0;

	for (uint64_t r = 0; r < p->rounds; r++) {
		if (!err)
			err = wl_proc_touch(cpu, p, r);
		wl_barrier_wait(cpu, &p->bar, 2 * r);
		if (!err && shd_cpu_id(cpu) == 0) {
			struct shd_mm *child;

			if (!(err = shd_mm_dup(cpu, p->mm, &child))) {
				int xerr;

				err = fork_child(cpu, p, child, r);
				xerr = shd_mm_exit(cpu, child);
				err = err ? err : xerr;
			}
		}
		/* The others run on (spinning here, in the parent). */
		wl_barrier_wait(cpu, &p->bar, 2 * r + 1);
	}
	return err;
}

static int proc_setup(struct shd_cpu *cpu, void *arg)
{
	struct proc *p = arg;
	int err = shd_switch_mm(cpu, p->mm);

	return err ? err : shd_mmap(cpu, p->mm, PROC_BASE,
				    p->bar.n * p->pages * p->page,
				    SHD_PROT_READ | SHD_PROT_WRITE);
}

int wl_proc_run(struct shd_machine *m, const struct wl_opts *o,
		struct wl_result *res, struct proc *p, shd_task_fn fn)
{
	int err;

	p->page = 1ull << shd_machine_config(m)->page_shift;
	p->rounds = o->ops;
	if ((err = shd_mm_create(m, &p->mm)))
		return err;
	err = wl_run_on(m, 0, 1, proc_setup, p, res->errtxt, sizeof(res->errtxt));
	if (!err)
		err = wl_run_timed(m, p->bar.n, fn, p, res);
	res->ops = p->rounds;
	res->check_failures = p->failures;
	snprintf(res->note, sizeof(res->note), "%s", p->note);
	shd_mm_destroy(p->mm);
	return err;
}

static int wl_fork(struct shd_machine *m, const struct wl_opts *o,
		   struct wl_result *res)
{
	struct proc p = { 0 };

	p.pages = o->knob[K_FORK_PAGES];
	p.touch = o->knob[K_FORK_TOUCH];
	p.bar.n = wl_load_tasks(shd_machine_ncpus(m), o->knob[K_FORK_LOAD]);
	return wl_proc_run(m, o, res, &p, fork_task);
}

const struct workload wl_def_fork = {
	.name = "fork",
	.help = "threads of a parent store to their pages while CPU 0 forks "
		"it; the child copies a page and exits",
	.default_ops = 1000,
	.min_cpus = 1,
	.run = wl_fork,
	.knobs = wl_fork_knobs,
	.check = wl_fork_check,
};
