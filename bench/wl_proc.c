/* SPDX-License-Identifier: MIT */
/* Workloads of processes: fork (copy-on-write), exec (tearing an image down), reclaim. */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

#define PROC_BASE (1ull << 32)


struct proc {
	struct shd_mm *mm;		/* the parent, or the current image */
	struct wl_barrier bar;
	uint64_t page, pages, touch, rounds;
	uint64_t failures;
	char note[160];
};

static uint64_t proc_va(const struct proc *p, unsigned thread, uint64_t page)
{
	return PROC_BASE + ((uint64_t)thread * p->pages + page) * p->page;
}

/* Phase A of both: each thread stores to its pages (and reads one back). */
static int proc_touch(struct shd_cpu *cpu, struct proc *p, uint64_t r)
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

const struct wl_knob wl_fork_knobs[] = {
	{ "pages", "pages each parent thread stores to every round", 16, 1, 4096 },
	{ "touch", "pages the child stores to (copy-on-write copies)", 1, 0, 4096 },
	{ "load", "percent of the CPUs that run parent threads; the others "
	  "stay idle", 50, 1, 100 },
	{ NULL, NULL, 0, 0, 0 },
};

int wl_fork_check(const struct cli_opts *o, char *err, size_t len)
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
			err = proc_touch(cpu, p, r);
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

static int proc_run(struct shd_machine *m, const struct cli_opts *o,
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

int wl_fork(struct shd_machine *m, const struct cli_opts *o,
	    struct wl_result *res)
{
	struct proc p = { 0 };

	p.pages = o->knob[K_FORK_PAGES];
	p.touch = o->knob[K_FORK_TOUCH];
	p.bar.n = wl_load_tasks(shd_machine_ncpus(m), o->knob[K_FORK_LOAD]);
	return proc_run(m, o, res, &p, fork_task);
}

/* ---- exec ---- */

/*
 * A threaded process that execs over and over.  Each round every thread
 * stores to its `pages` pages; then exec on CPU 0: the other threads exit
 * (de_thread()), leaving their CPUs idle and lazy on the old image; CPU 0
 * switches to a new mm and the old one is torn down as exit_mmap() does
 * (unmap everything and free the page tables: a flush that must reach the
 * lazy CPUs too, since their walkers may still read those tables); then the
 * new image maps its memory and its threads start.  One operation is one
 * exec.
 */
enum { K_EXEC_PAGES, K_EXEC_LOAD };

const struct wl_knob wl_exec_knobs[] = {
	{ "pages", "pages each thread stores to in every image", 16, 1, 4096 },
	{ "load", "percent of the CPUs that run the process's threads; the "
	  "others stay idle", 50, 1, 100 },
	{ NULL, NULL, 0, 0, 0 },
};

int wl_exec_check(const struct cli_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, wl_load_tasks(o->cfg.ncpus, o->knob[K_EXEC_LOAD]) *
			       o->knob[K_EXEC_PAGES], "threads x pages", err, len);
}

static int exec_image(struct shd_cpu *cpu, struct proc *p)
{
	struct shd_mm *old = p->mm, *img;
	uint64_t len = p->bar.n * p->pages * p->page;
	int err = shd_mm_create(shd_cpu_machine(cpu), &img);

	if (err)
		return err;
	if (!(err = shd_switch_mm(cpu, img)))
		err = shd_mmap(cpu, img, PROC_BASE, len,
			       SHD_PROT_READ | SHD_PROT_WRITE);
	if (err) {
		shd_mm_destroy(img);
		return err;
	}
	p->mm = img;
	return shd_mm_exit(cpu, old);
}

static int exec_task(struct shd_cpu *cpu, void *arg)
{
	struct proc *p = arg;
	int err = 0;

	for (uint64_t r = 0; r < p->rounds; r++) {
		if (!err)
			err = proc_touch(cpu, p, r);
		if (shd_cpu_id(cpu) != 0)
			shd_enter_lazy_tlb(cpu);	/* the thread exits */
		wl_barrier_wait(cpu, &p->bar, 2 * r);
		if (!err && shd_cpu_id(cpu) == 0)
			err = exec_image(cpu, p);
		wl_barrier_wait(cpu, &p->bar, 2 * r + 1);
	}
	return err;
}

int wl_exec(struct shd_machine *m, const struct cli_opts *o,
	    struct wl_result *res)
{
	struct proc p = { 0 };

	p.pages = o->knob[K_EXEC_PAGES];
	p.bar.n = wl_load_tasks(shd_machine_ncpus(m), o->knob[K_EXEC_LOAD]);
	return proc_run(m, o, res, &p, exec_task);
}

/* ---- reclaim ---- */

/*
 * kswapd against running processes (mm/vmscan.c): `mms` processes run
 * threads on the CPUs other than CPU 0 (CPU c runs process c % mms), each
 * thread storing to every page of its process (so each page is cached on
 * every CPU that runs that process).  Each round CPU 0 reclaims `scan`
 * pages, round-robin over the processes (shrink_folio_list: try_to_unmap
 * with TTU_BATCH_FLUSH, then try_to_unmap_flush), while the threads keep
 * running; then they store again (faulting the pages back) and check what
 * they read.  One operation is one page reclaimed.  Compare
 * --policies linux-unbatched,linux (a flush per page vs one per batch),
 * or --set batch=arm64.
 */
enum { K_RC_MMS, K_RC_PAGES, K_RC_SCAN };

const struct wl_knob wl_reclaim_knobs[] = {
	{ "mms", "processes whose pages are reclaimed", 4, 1, 64 },
	{ "pages", "pages each process maps and touches", 32, 1, 4096 },
	{ "scan", "pages reclaimed per round (SWAP_CLUSTER_MAX: 32)", 32, 1, 4096 },
	{ NULL, NULL, 0, 0, 0 },
};

struct rc {
	struct shd_mm *mm[64];
	struct wl_barrier bar;
	uint64_t page, pages, scan, rounds, cursor;
	unsigned mms;
	uint64_t failures;
	char note[160];
};

int wl_reclaim_check(const struct cli_opts *o, char *err, size_t len)
{
	if (o->cfg.ncpus < 2) {
		snprintf(err, len, "reclaim needs 2 CPUs or more (CPU 0 reclaims)");
		return -1;
	}
	if (o->knob[K_RC_SCAN] > o->knob[K_RC_MMS] * o->knob[K_RC_PAGES]) {
		snprintf(err, len, "scan=%" PRIu64 " is more than the %" PRIu64
			 " pages there are (mms x pages)", o->knob[K_RC_SCAN],
			 o->knob[K_RC_MMS] * o->knob[K_RC_PAGES]);
		return -1;
	}
	return wl_check_frames(o, o->knob[K_RC_MMS] * o->knob[K_RC_PAGES],
			       "mms x pages", err, len);
}

static int rc_task(struct shd_cpu *cpu, void *arg)
{
	struct rc *w = arg;
	unsigned id = shd_cpu_id(cpu);
	struct shd_mm *mm = w->mm[id % w->mms];
	int err = 0;

	for (uint64_t r = 0; r < w->rounds; r++) {
		if (!err && id != 0) {	/* a thread: store, read back */
			err = shd_switch_mm(cpu, mm);
			for (uint64_t i = 0; !err && i < w->pages; i++) {
				uint64_t va = PROC_BASE + i * w->page, v = 0;

				if (!(err = shd_store(cpu, va + 8 * id, r)) &&
				    !(err = shd_load(cpu, va + 8 * id, &v)) && v != r)
					wl_note_first(&w->failures, w->note,
						      sizeof(w->note), "cpu %u read %"
						      PRIu64 " back, stored %" PRIu64,
						      id, v, r);
			}
		}
		wl_barrier_wait(cpu, &w->bar, 2 * r);
		/* kswapd: one shrink_folio_list() pass. */
		for (uint64_t i = 0; !err && id == 0 && i < w->scan; i++, w->cursor++) {
			uint64_t k = w->cursor % (w->mms * w->pages);

			err = shd_try_to_unmap(cpu, w->mm[k % w->mms],
					       PROC_BASE + (k / w->mms) * w->page);
			err = err > 0 ? 0 : err;
		}
		if (!err && id == 0)
			err = shd_try_to_unmap_flush(cpu);
		wl_barrier_wait(cpu, &w->bar, 2 * r + 1);
	}
	return err;
}

static int rc_setup(struct shd_cpu *cpu, void *arg)
{
	struct rc *w = arg;
	int err = 0;

	for (unsigned i = 0; !err && i < w->mms; i++)
		err = shd_mmap(cpu, w->mm[i], PROC_BASE, w->pages * w->page,
			       SHD_PROT_READ | SHD_PROT_WRITE);
	return err;
}

int wl_reclaim(struct shd_machine *m, const struct cli_opts *o,
	       struct wl_result *res)
{
	struct rc w = { 0 };
	int err = 0;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.mms = (unsigned)o->knob[K_RC_MMS];
	w.pages = o->knob[K_RC_PAGES];
	w.scan = o->knob[K_RC_SCAN];
	w.bar.n = shd_machine_ncpus(m);
	w.rounds = (o->ops + w.scan - 1) / w.scan;
	for (unsigned i = 0; !err && i < w.mms; i++)
		err = shd_mm_create(m, &w.mm[i]);
	if (!err)
		err = wl_run_on(m, 0, 1, rc_setup, &w, res->errtxt,
				sizeof(res->errtxt));
	if (!err)
		err = wl_run_timed(m, w.bar.n, rc_task, &w, res);
	res->ops = w.rounds * w.scan;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	for (unsigned i = 0; i < w.mms; i++)
		if (w.mm[i])
			shd_mm_destroy(w.mm[i]);
	return err;
}

/* ---- pagecache ---- */

/*
 * The kernel writes page-cache pages, then users map and read them: each
 * round CPU 0 write(2)s `pages` pages of a file nobody maps (on an aliasing
 * D-cache flush_dcache_page defers: the pages are marked dirty on CPU 0),
 * then every other CPU maps the file, reads every page and unmaps it (the
 * first fault on a page runs the deferred flush on CPU 0, by IPI), then
 * CPU 0 reads them through a mapping of its own (its own older lines of the
 * pages, at the mapping's colour, must be gone).  Each read must see the
 * round's value.  One operation is one page written and read.
 */
enum { K_PC_PAGES };

const struct wl_knob wl_pagecache_knobs[] = {
	{ "pages", "page-cache pages written and read each round", 16, 1, 4096 },
	{ NULL, NULL, 0, 0, 0 },
};

struct pc {
	struct shd_mm *mm;
	struct shd_file *f;
	struct wl_barrier bar;
	uint64_t page, pages, rounds;
	uint64_t failures;
	char note[160];
};

int wl_pagecache_check(const struct cli_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, o->knob[K_PC_PAGES], "pages", err, len);
}

static int pc_read_all(struct shd_cpu *cpu, struct pc *w, uint64_t r)
{
	uint64_t va = PROC_BASE + (uint64_t)shd_cpu_id(cpu) *
		      wl_colour_round(w->pages + 1) * w->page;
	int err = shd_mmap_file(cpu, w->mm, va, w->pages * w->page, SHD_PROT_READ,
				SHD_MAP_SHARED, w->f, 0);

	for (uint64_t p = 0; !err && p < w->pages; p++) {
		uint64_t v = 0;

		if (!(err = shd_load(cpu, va + p * w->page, &v)) && v != r + 1)
			wl_note_first(&w->failures, w->note, sizeof(w->note),
				      "cpu %u read %" PRIu64 " from page %" PRIu64
				      " in round %" PRIu64 ", the kernel wrote %"
				      PRIu64, shd_cpu_id(cpu), v, p, r, r + 1);
	}
	if (!err)
		err = shd_munmap(cpu, w->mm, va, w->pages * w->page);
	return err;
}

static int pc_task(struct shd_cpu *cpu, void *arg)
{
	struct pc *w = arg;
	unsigned id = shd_cpu_id(cpu);
	int err = shd_switch_mm(cpu, w->mm);

	for (uint64_t r = 0; r < w->rounds; r++) {
		for (uint64_t p = 0; !err && id == 0 && p < w->pages; p++)
			err = shd_file_write(cpu, w->f, p * w->page, r + 1);
		wl_barrier_wait(cpu, &w->bar, 3 * r);
		if (!err && id != 0)
			err = pc_read_all(cpu, w, r);
		wl_barrier_wait(cpu, &w->bar, 3 * r + 1);
		if (!err && id == 0)
			err = pc_read_all(cpu, w, r);
		wl_barrier_wait(cpu, &w->bar, 3 * r + 2);
	}
	return err;
}

int wl_pagecache(struct shd_machine *m, const struct cli_opts *o,
		 struct wl_result *res)
{
	struct pc w = { 0 };
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.pages = o->knob[K_PC_PAGES];
	w.bar.n = shd_machine_ncpus(m);
	w.rounds = (o->ops + w.pages - 1) / w.pages;
	if ((err = shd_mm_create(m, &w.mm)))
		return err;
	if ((err = shd_file_create(m, w.pages, &w.f))) {
		shd_mm_destroy(w.mm);
		return err;
	}
	err = wl_run_timed(m, w.bar.n, pc_task, &w, res);
	res->ops = w.rounds * w.pages;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	shd_mm_destroy(w.mm);
	shd_file_destroy(w.f);
	return err;
}

/* ---- ptrace ---- */

/*
 * A debugger and its tracee share each CPU (ptrace stops the tracee, the
 * tracer runs, often on the same CPU): the tracee reads `words` words of a
 * page of its data, the tracer pokes new values into them
 * (PTRACE_POKEDATA: copy_to_user_page() through the kernel alias), and the
 * tracee reads them again, which must show the pokes; then it "executes"
 * the page (fetches).  One operation is one poke.
 */
enum { K_PT_WORDS };

const struct wl_knob wl_ptrace_knobs[] = {
	{ "words", "words poked into the tracee each round", 8, 1, 512 },
	{ NULL, NULL, 0, 0, 0 },
};

struct pt {
	struct shd_mm *mm[SHD_MAX_CPUS];	/* a tracee per CPU */
	uint64_t page, words, rounds;
	uint64_t failures;
	char note[160];
};

static int pt_task(struct shd_cpu *cpu, void *arg)
{
	struct pt *w = arg;
	unsigned id = shd_cpu_id(cpu);
	struct shd_mm *mm = w->mm[id];
	int err = shd_switch_mm(cpu, mm);

	if (!err)
		err = shd_mmap(cpu, mm, PROC_BASE, w->page, SHD_PROT_READ |
			       SHD_PROT_WRITE | SHD_PROT_EXEC);
	for (uint64_t r = 0; !err && r < w->rounds; r++) {
		uint64_t v;

		for (uint64_t k = 0; !err && k < w->words; k++)	/* tracee */
			err = shd_load(cpu, PROC_BASE + 8 * k, &v);
		shd_enter_lazy_tlb(cpu);			/* tracer */
		for (uint64_t k = 0; !err && k < w->words; k++)
			err = shd_ptrace_poke(cpu, mm, PROC_BASE + 8 * k,
					      r << 16 | k);
		if (!err)
			err = shd_switch_mm(cpu, mm);		/* tracee */
		for (uint64_t k = 0; !err && k < w->words; k++) {
			if (!(err = shd_load(cpu, PROC_BASE + 8 * k, &v)) &&
			    v != (r << 16 | k))
				wl_note_first(&w->failures, w->note,
					      sizeof(w->note), "tracee on cpu %u "
					      "read %#" PRIx64 " where the tracer "
					      "poked %#" PRIx64, id, v, r << 16 | k);
			if (!err)
				err = shd_fetch(cpu, PROC_BASE + 8 * k, &v);
		}
	}
	return err;
}

int wl_ptrace(struct shd_machine *m, const struct cli_opts *o,
	      struct wl_result *res)
{
	struct pt *w = calloc(1, sizeof(*w));
	unsigned n = shd_machine_ncpus(m);
	int err = 0;

	if (!w)
		return -ENOMEM;
	w->page = 1ull << shd_machine_config(m)->page_shift;
	w->words = o->knob[K_PT_WORDS];
	if (w->words * 8 > w->page)
		w->words = w->page / 8;
	w->rounds = (o->ops + n * w->words - 1) / (n * w->words);
	for (unsigned i = 0; !err && i < n; i++)
		err = shd_mm_create(m, &w->mm[i]);
	if (!err)
		err = wl_run_timed(m, n, pt_task, w, res);
	res->ops = w->rounds * n * w->words;
	res->check_failures = w->failures;
	snprintf(res->note, sizeof(res->note), "%s", w->note);
	for (unsigned i = 0; i < n; i++)
		if (w->mm[i])
			shd_mm_destroy(w->mm[i]);
	free(w);
	return err;
}

/* ---- modload ---- */

/*
 * Module loading: each round CPU 0 vmaps `pages` fresh pages at the module
 * area, writes a word of "code" into each line it uses, and calls
 * flush_icache_range() (arm64: invalidate I everywhere, then kick every
 * CPU); every CPU then runs the module (fetches each word, which must be
 * the round's); CPU 0 unloads it (vunmap: flush_cache_vunmap, then the
 * kernel TLB flush).  The next round's pages are likely the same frames,
 * so an I-cache that kept the old code would run it.  One operation is one
 * page loaded and run on every CPU.
 */
enum { K_ML_PAGES };

const struct wl_knob wl_modload_knobs[] = {
	{ "pages", "pages of module code loaded each round", 4, 1, 1024 },
	{ NULL, NULL, 0, 0, 0 },
};

#define ML_BASE (SHD_KERNEL_BASE + (1ull << 30))
#define ML_WORDS 8	/* code words per page, one per 64-byte line */

struct ml {
	struct wl_barrier bar;
	uint64_t page, pages, rounds;
	uint64_t failures;
	char note[160];
};

int wl_modload_check(const struct cli_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, o->knob[K_ML_PAGES], "pages", err, len);
}

static uint64_t ml_code(uint64_t r, uint64_t p, uint64_t w)
{
	return (r + 1) << 32 | p << 8 | w;
}

static int ml_task(struct shd_cpu *cpu, void *arg)
{
	struct ml *w = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t len = w->pages * w->page;
	int err = 0;

	for (uint64_t r = 0; r < w->rounds; r++) {
		if (!err && id == 0) {	/* load_module() */
			err = shd_vmap(cpu, ML_BASE, len);
			for (uint64_t p = 0; !err && p < w->pages; p++)
				for (uint64_t k = 0; !err && k < ML_WORDS; k++)
					err = shd_store(cpu, ML_BASE + p * w->page +
							64 * k, ml_code(r, p, k));
			if (!err)
				err = shd_flush_icache_range(cpu, ML_BASE,
							     ML_BASE + len);
		}
		wl_barrier_wait(cpu, &w->bar, 3 * r);
		for (uint64_t p = 0; !err && p < w->pages; p++) {
			for (uint64_t k = 0; !err && k < ML_WORDS; k++) {
				uint64_t v = 0;

				err = shd_fetch(cpu, ML_BASE + p * w->page + 64 * k, &v);
				if (!err && v != ml_code(r, p, k))
					wl_note_first(&w->failures, w->note,
						      sizeof(w->note), "cpu %u ran "
						      "%#" PRIx64 " where round %"
						      PRIu64 " loaded %#" PRIx64, id,
						      v, r, ml_code(r, p, k));
			}
		}
		wl_barrier_wait(cpu, &w->bar, 3 * r + 1);
		if (!err && id == 0)	/* delete_module() */
			err = shd_vunmap(cpu, ML_BASE, len);
		wl_barrier_wait(cpu, &w->bar, 3 * r + 2);
	}
	return err;
}

int wl_modload(struct shd_machine *m, const struct cli_opts *o,
	       struct wl_result *res)
{
	struct ml w = { 0 };
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.pages = o->knob[K_ML_PAGES];
	w.bar.n = shd_machine_ncpus(m);
	w.rounds = (o->ops + w.pages - 1) / w.pages;
	err = wl_run_timed(m, w.bar.n, ml_task, &w, res);
	res->ops = w.rounds * w.pages;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	return err;
}

/* ---- vmapio ---- */

/*
 * I/O through a vmap alias (a filesystem's log buffer, XFS-style): each CPU
 * owns a buffer of `pages` vmap'd pages.  Each round it writes a word into
 * every line of the buffer through the alias, flush_kernel_vmap_range()s
 * it and lets the device read it (DMA out, checked); then the device writes
 * the buffer (DMA in), the CPU invalidate_kernel_vmap_range()s it and reads
 * the device's words through the alias (checked).  A D-cache the device
 * does not snoop (hypersparc) keeps the old words without the invalidate.
 * One operation is one page written out and read back.
 */
enum { K_VI_PAGES };

const struct wl_knob wl_vmapio_knobs[] = {
	{ "pages", "pages in each CPU's I/O buffer", 4, 1, 256 },
	{ NULL, NULL, 0, 0, 0 },
};

struct vi {
	uint64_t page, pages, rounds, words;
	uint64_t failures;
	char note[160];
};

int wl_vmapio_check(const struct cli_opts *o, char *err, size_t len)
{
	return wl_check_frames(o, o->knob[K_VI_PAGES] * o->ncpus,
			       "pages x cpus", err, len);
}

static int vi_task(struct shd_cpu *cpu, void *arg)
{
	struct vi *w = arg;
	unsigned id = shd_cpu_id(cpu);
	uint64_t len = w->pages * w->page, v = 0;
	uint64_t buf = SHD_KERNEL_BASE + (2ull << 30) + id * (len + w->page);
	int err = shd_vmap(cpu, buf, len);

	for (uint64_t r = 0; !err && r < w->rounds; r++) {
		uint64_t out = (r + 1) << 40 | (uint64_t)id << 32;
		uint64_t in = out | 1ull << 63;

		for (uint64_t k = 0; !err && k < w->words; k++)
			err = shd_store(cpu, buf + 64 * k, out | k);
		if (!err)
			err = shd_flush_kernel_vmap_range(cpu, buf, len);
		for (uint64_t k = 0; !err && k < w->words; k++) {
			if (!(err = shd_dma_read(cpu, buf + 64 * k, &v)) &&
			    v != (out | k))
				wl_note_first(&w->failures, w->note, sizeof(w->note),
					      "the device read %#" PRIx64 " from "
					      "cpu %u's buffer, which holds %#"
					      PRIx64, v, id, out | k);
		}
		for (uint64_t k = 0; !err && k < w->words; k++)
			err = shd_dma_write(cpu, buf + 64 * k, in | k);
		if (!err)
			err = shd_invalidate_kernel_vmap_range(cpu, buf, len);
		for (uint64_t k = 0; !err && k < w->words; k++) {
			if (!(err = shd_load(cpu, buf + 64 * k, &v)) && v != (in | k))
				wl_note_first(&w->failures, w->note, sizeof(w->note),
					      "cpu %u read %#" PRIx64 " from its "
					      "buffer after the device wrote %#"
					      PRIx64, id, v, in | k);
		}
	}
	if (!err)
		err = shd_vunmap(cpu, buf, len);
	return err;
}

int wl_vmapio(struct shd_machine *m, const struct cli_opts *o,
	      struct wl_result *res)
{
	struct vi w = { 0 };
	unsigned n = shd_machine_ncpus(m);
	int err;

	w.page = 1ull << shd_machine_config(m)->page_shift;
	w.pages = o->knob[K_VI_PAGES];
	w.words = w.pages * w.page / 64;
	w.rounds = (o->ops + n * w.pages - 1) / (n * w.pages);
	err = wl_run_timed(m, n, vi_task, &w, res);
	res->ops = w.rounds * n * w.pages;
	res->check_failures = w.failures;
	snprintf(res->note, sizeof(res->note), "%s", w.note);
	return err;
}
